//go:build tools

// prometheus-adapter for the autoscaling test, built from the Go module proxy: `go install
// module@version` asks the proxy for the module's version list (to report deprecation), which it
// does not serve for this module, so this module requires the release and imports its command for
// `go build` (scripts/autoscale-tools.sh).
package tools

import _ "sigs.k8s.io/prometheus-adapter/cmd/adapter"

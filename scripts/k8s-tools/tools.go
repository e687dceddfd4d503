//go:build tools

// The Kubernetes control plane for the chart tests, built from the Go module proxy: k8s.io/kubernetes
// replaces its staging modules with local paths, so `go install` of its commands fails; this module
// requires it with each staging module replaced by its published version (go.mod), and imports the
// commands so `go build` can build them (scripts/k8s-tools.sh).
package tools

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)

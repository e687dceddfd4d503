#!/usr/bin/env bash
# What the autoscaling test (tests/chart/autoscaling.test.ts) needs beside the control plane of
# scripts/k8s-tools.sh, built from the Go module proxy once per machine and cached: Prometheus (it
# scrapes the job service's /metrics; built without service discovery, which the test does not use,
# and without the web UI's assets) and prometheus-adapter (it serves the external metrics API the
# annotator's HorizontalPodAutoscaler reads), and KEDA's ScaledObject CRD, taken from the KEDA module,
# for the API server to check the chart's ScaledObject against. About 4 minutes on two cores the
# first time.
# `bash scripts/autoscale-tools.sh` builds what is missing and prints the folder.
set -euo pipefail
# Prometheus 3.16.0: the Go module's v0.x versions carry the release as v0.<major><minor>.<patch>.
PROMETHEUS_MODULE_VERSION=v0.316.0
PROMETHEUS_VERSION=3.16.0
ADAPTER_VERSION=v0.12.0
KEDA_VERSION=v2.20.2
here="$(cd "$(dirname "$0")" && pwd)"
out="${GAS_TOOLS_DIR:-$HOME/.cache/gas-tools}/autoscale-prometheus-${PROMETHEUS_VERSION}-adapter-${ADAPTER_VERSION}"
mkdir -p "$out"
command -v go >/dev/null || { echo "scripts/autoscale-tools.sh: Go is needed to build Prometheus and prometheus-adapter" >&2; exit 1; }
if [ ! -x "$out/prometheus" ]; then
  echo "[gas] building Prometheus ${PROMETHEUS_VERSION} from the Go module proxy (once per machine)" >&2
  GOBIN="$out" go install -tags remove_all_sd \
    -ldflags "-X github.com/prometheus/common/version.Version=${PROMETHEUS_VERSION}" \
    "github.com/prometheus/prometheus/cmd/prometheus@${PROMETHEUS_MODULE_VERSION}" >&2
fi
# The proxy serves this release but not the module's version list, which `go install module@version`
# asks for: the wrapper module in scripts/autoscale-tools requires the release instead.
grep -q "sigs.k8s.io/prometheus-adapter ${ADAPTER_VERSION}\$" "$here/autoscale-tools/go.mod" ||
  { echo "scripts/autoscale-tools.sh: scripts/autoscale-tools/go.mod does not require prometheus-adapter ${ADAPTER_VERSION}" >&2; exit 1; }
if [ ! -x "$out/prometheus-adapter" ]; then
  echo "[gas] building prometheus-adapter ${ADAPTER_VERSION} from the Go module proxy (once per machine)" >&2
  (cd "$here/autoscale-tools" && GOFLAGS=-mod=mod go build -o "$out/prometheus-adapter" sigs.k8s.io/prometheus-adapter/cmd/adapter) >&2
fi
if [ ! -f "$out/keda-${KEDA_VERSION}/keda.sh_scaledobjects.yaml" ]; then
  echo "[gas] fetching KEDA ${KEDA_VERSION}'s CRDs from the Go module proxy (once per machine)" >&2
  keda="$(cd / && go mod download -json "github.com/kedacore/keda/v2@${KEDA_VERSION}" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
  mkdir -p "$out/keda-${KEDA_VERSION}"
  cp "$keda/config/crd/bases/keda.sh_scaledobjects.yaml" "$out/keda-${KEDA_VERSION}/"
fi
echo "$out"

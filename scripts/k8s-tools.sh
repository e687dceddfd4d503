#!/usr/bin/env bash
# A real Kubernetes control plane for the chart tests, built from the Go module proxy once per
# machine and cached: etcd, kube-apiserver, kube-controller-manager and kube-scheduler (Kubernetes v1.34.4, via the
# wrapper module in scripts/k8s-tools), and kwok (fake nodes that run the pods). About 7 minutes on
# two cores the first time. `bash scripts/k8s-tools.sh` builds what is missing and prints the folder.
set -euo pipefail
K8S_VERSION=v1.34.4
ETCD_VERSION=v3.6.4
KWOK_VERSION=v0.8.0
here="$(cd "$(dirname "$0")" && pwd)"
out="${GAS_TOOLS_DIR:-$HOME/.cache/gas-tools}/k8s-${K8S_VERSION}"
mkdir -p "$out"
command -v go >/dev/null || { echo "scripts/k8s-tools.sh: Go is needed to build the control plane" >&2; exit 1; }
# Built outside the Kubernetes repository, the binaries would report v0.0.0-master, which helm's
# kubeVersion check (and any version check) refuses: the version goes in as the release build does.
minor=$(cut -d. -f2 <<<"$K8S_VERSION")
ldflags=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=${K8S_VERSION} -X $pkg.gitMajor=1 -X $pkg.gitMinor=${minor} -X $pkg.gitTreeState=clean"
done
build() { # name, package
  [ -x "$out/$1" ] && return 0
  echo "[gas] building $1 from the Go module proxy (once per machine)" >&2
  (cd "$here/k8s-tools" && GOFLAGS=-mod=mod go build -ldflags "$ldflags" -o "$out/$1" "$2") >&2
}
if [ ! -f "$here/k8s-tools/go.sum" ] || [ ! -x "$out/kube-scheduler" ]; then
  (cd "$here/k8s-tools" && GOFLAGS=-mod=mod go get "go.etcd.io/etcd/server/v3@${ETCD_VERSION}" >/dev/null 2>&1 && GOFLAGS=-mod=mod go mod tidy) >&2
fi
build kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver
build kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager
build kube-scheduler k8s.io/kubernetes/cmd/kube-scheduler
build etcd go.etcd.io/etcd/server/v3
if [ ! -x "$out/kwok" ]; then
  echo "[gas] building kwok ${KWOK_VERSION} from the Go module proxy (once per machine)" >&2
  GOBIN="$out" GOFLAGS=-mod=mod go install "sigs.k8s.io/kwok/cmd/kwok@${KWOK_VERSION}" >&2
fi
# kwok moves nodes and pods through their life by "stages": its own fast stages (nodes ready at
# once, pods running at once), taken from the kwok module the build just fetched.
if [ ! -d "$out/kwok-stages" ]; then
  stages="$(go env GOMODCACHE)/sigs.k8s.io/kwok@${KWOK_VERSION}/kustomize/stage"
  mkdir -p "$out/kwok-stages"
  cp "$stages/node/fast/node-initialize.yaml" "$stages/pod/fast/pod-ready.yaml" "$stages/pod/fast/pod-complete.yaml" \
    "$stages/pod/fast/pod-delete.yaml" "$out/kwok-stages/"
fi
echo "$out"

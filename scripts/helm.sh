#!/usr/bin/env bash
# helm, built once per machine from the Go module proxy (there is no other way to get it here), and
# cached. `bash scripts/helm.sh --path` prints its path (building it first if needed); any other
# arguments run it.
set -euo pipefail
HELM_VERSION=v4.3.2
cache="${GAS_TOOLS_DIR:-$HOME/.cache/gas-tools}/helm-${HELM_VERSION}"
if [ ! -x "$cache/helm" ]; then
  command -v go >/dev/null || { echo "scripts/helm.sh: Go is needed to build helm ${HELM_VERSION}" >&2; exit 1; }
  echo "[gas] building helm ${HELM_VERSION} from the Go module proxy (once per machine)" >&2
  mkdir -p "$cache"
  GOBIN="$cache" go install "helm.sh/helm/v4/cmd/helm@${HELM_VERSION}" >&2
fi
if [ "${1:-}" = "--path" ]; then echo "$cache/helm"; else exec "$cache/helm" "$@"; fi

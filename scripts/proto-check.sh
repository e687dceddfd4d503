#!/usr/bin/env bash
# Regenerates the protobuf-es code and fails if it differs from what is committed, and runs buf lint.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
(cd proto && buf lint && buf generate)
if ! git diff --exit-code --stat -- packages/proto/src/gen; then
  echo "generated code in packages/proto/src/gen is stale: run 'pnpm proto:gen' and commit" >&2
  exit 1
fi
untracked=$(git ls-files --others --exclude-standard -- packages/proto/src/gen)
if [ -n "$untracked" ]; then echo "untracked generated files: $untracked" >&2; exit 1; fi
echo "proto: lint clean, generated code up to date"

# Sourced by ./gas and .ci/run: makes sure the tools GAS needs are present, installing what is
# missing where it can (Debian packages need root or sudo).
PNPM_VERSION=12.4.2

say() { printf '\033[1m[gas]\033[0m %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else say "need root to run: $*"; return 1
  fi
}

apt_install() {
  if [ -z "${GAS_APT_UPDATED:-}" ]; then
    as_root apt-get update -qq >/dev/null
    GAS_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

ensure_node() {
  if ! command -v node >/dev/null 2>&1; then
    say "Node.js 20 or newer is required: https://nodejs.org (or: apt-get install nodejs)"; return 1
  fi
  local major; major=$(node -p 'process.versions.node.split(".")[0]')
  if [ "$major" -lt 20 ]; then say "Node.js $(node -v) is too old: 20 or newer is required"; return 1; fi
}

ensure_pnpm() {
  if [ "$(pnpm -v 2>/dev/null)" != "$PNPM_VERSION" ]; then
    say "installing pnpm $PNPM_VERSION"
    npm i -g "pnpm@$PNPM_VERSION" >/dev/null 2>&1 || as_root npm i -g "pnpm@$PNPM_VERSION" >/dev/null
  fi
}

ensure_nats() {
  if ! command -v nats-server >/dev/null 2>&1 && [ -z "${NATS_SERVER_BIN:-}" ]; then
    say "installing nats-server (Debian package)"
    apt_install nats-server
  fi
}

ensure_test_tools() {
  # bcftools checks that annotated VCFs are readable by the field's standard tool.
  if ! command -v bcftools >/dev/null 2>&1; then
    say "installing bcftools (Debian package)"
    apt_install bcftools tabix
  fi
}

ensure_browser() {
  # Web-page tests drive Debian's Chromium through playwright-core, which must never download its own.
  if [ ! -x /usr/bin/chromium ] && [ -z "${GAS_CHROMIUM:-}" ]; then
    say "installing chromium (Debian package)"
    apt_install chromium
  fi
}

ensure_node_modules() {
  # Reinstall when the lock file changed since the last install.
  if [ ! -f node_modules/.modules.yaml ] || [ pnpm-lock.yaml -nt node_modules/.modules.yaml ]; then
    say "installing dependencies (pnpm install --frozen-lockfile)"
    npm_config_nodedir=/usr pnpm install --frozen-lockfile --reporter=silent
  fi
}

ensure_prerequisites() {
  ensure_node && ensure_pnpm && ensure_nats && ensure_test_tools && ensure_browser && ensure_node_modules
}

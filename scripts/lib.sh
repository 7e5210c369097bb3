# Shared shell helpers for scripts/*.sh (sourced, not run).
# Toolchain versions the project pins; the README and .ci/run rely on these.
SOLSTICE_NODE_VERSION="${SOLSTICE_NODE_VERSION:-24.21.0}"
SOLSTICE_PNPM_VERSION="${SOLSTICE_PNPM_VERSION:-10.34.8}"
SOLSTICE_CACHE="${SOLSTICE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/solstice}"
SOLSTICE_TOOLCHAIN="$SOLSTICE_CACHE/toolchain-node$SOLSTICE_NODE_VERSION-pnpm$SOLSTICE_PNPM_VERSION"

log() { printf '\033[1m[solstice]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[solstice] error:\033[0m %s\n' "$*" >&2; exit 1; }

# Run as root, or through sudo when available.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else die "need root for: $*"; fi
}

APT_UPDATED_MARK="$SOLSTICE_CACHE/.apt-updated"
# apt-get install only what is missing; update the package lists once per day at most.
apt_install() {
  local missing=()
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  mkdir -p "$SOLSTICE_CACHE"
  if [ ! -f "$APT_UPDATED_MARK" ] || [ -n "$(find "$APT_UPDATED_MARK" -mmin +1440 2>/dev/null)" ]; then
    log "apt-get update"
    as_root apt-get update -qq
    touch "$APT_UPDATED_MARK"
  fi
  log "apt-get install ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Put the project's toolchain (Node, pnpm) first on PATH when it is installed.
use_toolchain() {
  if [ -x "$SOLSTICE_TOOLCHAIN/bin/node" ]; then export PATH="$SOLSTICE_TOOLCHAIN/bin:$PATH"; fi
}

# The packages a list file names (one a line, '#' comments), e.g. scripts/runtime-packages.txt.
package_list() { sed 's/#.*//' "$1" | xargs; }

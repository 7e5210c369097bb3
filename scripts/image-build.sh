#!/usr/bin/env bash
# Build the Containerfile with buildah (no Docker engine needed), layers cached between runs.
# Usage: scripts/image-build.sh [--public] [--tag NAME] [--context DIR]
#   default    base images made locally by scripts/build-base-images.sh (no container registry)
#   --public   the Containerfile's own defaults (node:24-bookworm-slim, debian:bookworm-slim)
#   --tag      the image's name (default solstice-ci/orchestrator:latest, as compose.yml names it)
#   --context  build another tree (e.g. a `git archive` export) with its own Containerfile
# Prints the build's wall time. Needs root and buildah (installed from Debian when missing).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
. "$here/lib.sh"

public=""
tag="solstice-ci/orchestrator:latest"
context="$root"
while [ $# -gt 0 ]; do
  case "$1" in
    --public) public=1 ;;
    --tag) [ $# -ge 2 ] || die "--tag needs a name"; tag="$2"; shift ;;
    --context) [ $# -ge 2 ] || die "--context needs a directory"; context="$(cd "$2" && pwd)"; shift ;;
    -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1" ;;
  esac
  shift
done

apt_install buildah podman
args=()
if [ -z "$public" ]; then
  # shellcheck disable=SC2207 # the script prints whitespace-free --build-arg words
  args=($(bash "$here/build-base-images.sh"))
fi
start=$(date +%s)
# --isolation chroot: RUN steps without a user namespace or an OCI runtime (works in containers and
# sandboxes where runc/crun cannot); --layers: reuse every unchanged step's layer.
as_root buildah bud --isolation chroot --layers "${args[@]}" -f "$context/Containerfile" -t "$tag" "$context" >&2
log "built $tag in $(( $(date +%s) - start )) s"

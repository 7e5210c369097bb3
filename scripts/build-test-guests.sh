#!/usr/bin/env bash
# Builds and caches the Solstice CI test guests from Debian packages (docs/test-guests.md).
#
#   scripts/build-test-guests.sh [fast|cloud-init|all] [--force] [--check] [--print-paths[=env|json]]
#
#   fast        the Debian kernel + a busybox/dropbear/git initramfs + a small ext4 disk (default)
#   cloud-init  a Debian 12 root filesystem (mmdebstrap) with systemd, cloud-init and OpenSSH
#   all         both
#   --force     rebuild even when the cache is up to date
#   --check     build nothing: exit 0 when every chosen guest is cached and up to date, else 1
#   --print-paths[=env|json]  after building (when needed), print the artifact paths on stdout
#               (env: shell-quoted VAR=value lines; json: one object keyed by guest)
#
# Cache: ${SOLSTICE_GUESTS_DIR:-$SOLSTICE_CACHE/guests}/<guest>/ (SOLSTICE_CACHE defaults to
# ~/.cache/solstice), keyed on a hash of the recipe files, the kernel version and the versions
# of the Debian packages copied in. Progress goes to stderr; stdout carries only --print-paths.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib.sh
. "$REPO_ROOT/scripts/lib.sh"
RECIPES="$REPO_ROOT/scripts/test-guests"
GUESTS_DIR="${SOLSTICE_GUESTS_DIR:-$SOLSTICE_CACHE/guests}"

usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}" >&2; }

targets=()
force=0
check=0
print=""
for arg in "$@"; do
  case "$arg" in
    fast | cloud-init) targets+=("$arg") ;;
    all) targets+=(fast cloud-init) ;;
    --force) force=1 ;;
    --check) check=1 ;;
    --print-paths | --print-paths=env) print=env ;;
    --print-paths=json) print=json ;;
    -h | --help) usage; exit 0 ;;
    *) usage; die "unknown argument: $arg" ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(fast)

# guest_conf GUEST: load scripts/test-guests/GUEST/guest.conf (GUEST_LABEL, GUEST_APPEND, GUEST_PACKAGES).
guest_conf() {
  # shellcheck source=/dev/null
  . "$RECIPES/$1/guest.conf"
}

# The kernel the host's linux-image-amd64 points at, e.g. 6.1.0-56-amd64.
host_kernel_version() {
  local dep
  dep="$(dpkg-query -W -f='${Depends}' linux-image-amd64 2>/dev/null | grep -oE 'linux-image-[0-9][^ ,]*' | head -n1)"
  [ -n "$dep" ] || die "linux-image-amd64 is not installed"
  echo "${dep#linux-image-}"
}

# The cache key: the recipe files (scripts/test-guests/<guest>/, modes included), the kernel
# version and the installed versions of the packages the guest is made from.
build_key() {
  local guest="$1" kver="$2"
  {
    (cd "$REPO_ROOT" && find "scripts/test-guests/$guest" scripts/test-guests/lib -type f -print0 |
      LC_ALL=C sort -z | xargs -0 sha256sum)
    (cd "$REPO_ROOT" && find "scripts/test-guests/$guest" scripts/test-guests/lib -type f -perm -u+x -print | LC_ALL=C sort)
    echo "kernel $kver"
    # The build settings change the result too (not the SOLSTICE_*_GUEST_* that --print-paths prints).
    local knob
    for knob in SOLSTICE_FAST_DISK_SIZE SOLSTICE_FAST_INITRD_COMPRESS SOLSTICE_CLOUDINIT_DISK_SIZE \
      SOLSTICE_DEBIAN_MIRROR SOLSTICE_DEBIAN_SECURITY_MIRROR; do
      echo "$knob=${!knob:-}"
    done
    # shellcheck disable=SC2046
    (guest_conf "$guest" && dpkg-query -W -f='${Package} ${Version}\n' $GUEST_PACKAGES 2>/dev/null)
  } | sha256sum | cut -c1-16
}

guest_dir() { echo "$GUESTS_DIR/$1"; }

is_current() {
  local dir="$1" key="$2" f
  [ -f "$dir/build-key" ] && [ "$(cat "$dir/build-key")" = "$key" ] || return 1
  for f in vmlinuz vmlinux initrd.img disk.qcow2 guest.json guest.env; do [ -s "$dir/$f" ] || return 1; done
}

json_escape() { printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g'; }

# Writes guest.json and guest.env describing the built artifacts.
write_manifest() {
  local guest="$1" dir="$2" key="$3" seconds="$4" label append user kver prefix
  guest_conf "$guest"
  label="$GUEST_LABEL" append="$GUEST_APPEND"
  case "$guest" in
    fast) prefix=SOLSTICE_FAST_GUEST ;;
    cloud-init) prefix=SOLSTICE_CLOUDINIT_GUEST ;;
  esac
  user="$(cat "$dir/ssh-user")"
  kver="$(cat "$dir/kernel-version")"
  cat >"$dir/guest.json" <<EOF
{
  "guest": "$guest",
  "label": "$label",
  "dir": "$(json_escape "$dir")",
  "kernel": "$(json_escape "$dir/vmlinux")",
  "kernel_bzimage": "$(json_escape "$dir/vmlinuz")",
  "initrd": "$(json_escape "$dir/initrd.img")",
  "disk": "$(json_escape "$dir/disk.qcow2")",
  "format": "qcow2",
  "append": "$append",
  "ssh_user": "$user",
  "kernel_version": "$kver",
  "build_key": "$key",
  "build_seconds": $seconds,
  "built_at": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "sizes": {
    "kernel": $(stat -c %s "$dir/vmlinux"),
    "kernel_bzimage": $(stat -c %s "$dir/vmlinuz"),
    "initrd": $(stat -c %s "$dir/initrd.img"),
    "disk_file": $(stat -c %s "$dir/disk.qcow2"),
    "disk_virtual": $(qemu-img info --output=json "$dir/disk.qcow2" | sed -n 's/.*"virtual-size": *\([0-9]*\).*/\1/p' | head -n1)
  }
}
EOF
  {
    printf '%s_DIR=%q\n' "$prefix" "$dir"
    printf '%s_KERNEL=%q\n' "$prefix" "$dir/vmlinux"
    printf '%s_KERNEL_BZIMAGE=%q\n' "$prefix" "$dir/vmlinuz"
    printf '%s_INITRD=%q\n' "$prefix" "$dir/initrd.img"
    printf '%s_DISK=%q\n' "$prefix" "$dir/disk.qcow2"
    printf '%s_FORMAT=qcow2\n' "$prefix"
    printf '%s_APPEND=%q\n' "$prefix" "$append"
    printf '%s_SSH_USER=%q\n' "$prefix" "$user"
  } >"$dir/guest.env"
}

# ensure_guest GUEST: build GUEST unless its cache is current (under a lock, so that
# concurrent callers build it once).
ensure_guest() {
  local guest="$1" dir kver key lock tmp start seconds f
  dir="$(guest_dir "$guest")"
  mkdir -p "$GUESTS_DIR"
  if [ "$check" = 1 ]; then
    kver="$(host_kernel_version)"
    key="$(build_key "$guest" "$kver")"
    is_current "$dir" "$key" || { log "$guest guest: not built or out of date ($dir)"; return 1; }
    return 0
  fi
  guest_conf "$guest"
  # shellcheck disable=SC2086
  apt_install $GUEST_PACKAGES
  kver="$(host_kernel_version)"
  key="$(build_key "$guest" "$kver")"
  exec 9>"$GUESTS_DIR/.$guest.lock"
  flock 9
  if [ "$force" = 0 ] && is_current "$dir" "$key"; then
    log "$guest guest: up to date ($dir, key $key)"
    exec 9>&-
    return 0
  fi
  log "$guest guest: building (kernel $kver, key $key) into $dir"
  tmp="$GUESTS_DIR/.build-$guest-$$"
  rm -rf "$tmp"
  mkdir -p "$tmp/out" "$tmp/work"
  # shellcheck disable=SC2064
  trap "rm -rf '$tmp'" EXIT
  start=$(date +%s)
  case "$guest" in
    fast) bash "$RECIPES/fast/build.sh" "$tmp/out" "$tmp/work" "$kver" >&2 ;;
    cloud-init) bash "$RECIPES/cloud-init/build.sh" "$tmp/out" "$tmp/work" >&2 ;;
  esac
  seconds=$(($(date +%s) - start))
  # Replace the artifacts one by one with rename: a running VM keeps the inode it opened.
  mkdir -p "$dir"
  rm -f "$dir/build-key"
  for f in vmlinuz vmlinux initrd.img disk.qcow2 kernel-version ssh-user; do mv -f "$tmp/out/$f" "$dir/$f"; done
  write_manifest "$guest" "$dir" "$key" "$seconds"
  echo "$key" >"$dir/build-key"
  rm -rf "$tmp"
  trap - EXIT
  exec 9>&-
  log "$guest guest: built in ${seconds}s: $(du -h "$dir/vmlinux" "$dir/vmlinuz" "$dir/initrd.img" "$dir/disk.qcow2" | awk '{printf "%s %s  ", $2, $1}' | sed "s|$dir/||g")"
}

status=0
chosen=()
for guest in "${targets[@]}"; do
  case " ${chosen[*]} " in *" $guest "*) continue ;; esac
  chosen+=("$guest")
  ensure_guest "$guest" || status=1
done
[ "$status" = 0 ] || exit "$status"

if [ "$print" = env ]; then
  for guest in "${chosen[@]}"; do cat "$(guest_dir "$guest")/guest.env"; done
elif [ "$print" = json ]; then
  sep=""
  printf '{'
  for guest in "${chosen[@]}"; do
    printf '%s\n"%s": ' "$sep" "$guest"
    cat "$(guest_dir "$guest")/guest.json"
    sep=","
  done
  printf '}\n'
fi

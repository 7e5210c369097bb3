#!/usr/bin/env bash
# Boots a built test guest the way the VM engine does, with a NoCloud seed made by
# genisoimage, and checks it end to end: SSH with a fresh Ed25519 key, the
# write_files entry (/etc/solstice/job.yaml), git clone + checkout over git:// and
# http:// from the host (SLIRP: 10.0.2.2), SFTP, then ACPI powerdown through QMP.
# Prints the QEMU command line and the timings (boot to SSH, powerdown).
#
#   scripts/test-guests/smoke-test.sh fast|cloud-init [--machine pc|q35] [--cpu MODEL] [--smp N]
#                                     [--mem MIB] [--no-rng] [--keep]
#
# The QEMU command line is the VM engine's under TCG (-cpu max, -nodefaults, virtio-rng-pci,
# the overlay with cache=unsafe); SMOKE_KERNEL and SMOKE_APPEND override the kernel and append.
#
# Needs the guest built (scripts/build-test-guests.sh GUEST). Leaves nothing running.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=../lib.sh
. "$REPO_ROOT/scripts/lib.sh"

guest="${1:-fast}"
shift || true
machine=pc cpu=max keep=0 smp=1 mem=512 rng=1
while [ $# -gt 0 ]; do
  case "$1" in
    --machine) machine="$2"; shift ;;
    --cpu) cpu="$2"; shift ;;
    --smp) smp="$2"; shift ;;
    --mem) mem="$2"; shift ;;
    --no-rng) rng=0 ;;
    --keep) keep=1 ;;
    *) die "unknown argument: $1" ;;
  esac
  shift
done

apt_install qemu-system-x86 qemu-utils genisoimage openssh-client socat git busybox-static
"$REPO_ROOT/scripts/build-test-guests.sh" "$guest" --check >/dev/null 2>&1 ||
  die "the $guest guest is not built or out of date: run scripts/build-test-guests.sh $guest"
gdir="${SOLSTICE_GUESTS_DIR:-$SOLSTICE_CACHE/guests}/$guest"
# shellcheck source=/dev/null
. "$REPO_ROOT/scripts/test-guests/$guest/guest.conf"
user="$(cat "$gdir/ssh-user")"

work="$(mktemp -d /tmp/solstice-smoke.XXXXXX)"
chmod 700 "$work"
qemu_pid="" git_pid="" http_pid=""
cleanup() {
  [ -n "$qemu_pid" ] && kill -9 "$qemu_pid" 2>/dev/null
  [ -n "$git_pid" ] && kill "$git_pid" 2>/dev/null
  [ -n "$http_pid" ] && kill "$http_pid" 2>/dev/null
  wait 2>/dev/null
  if [ "$keep" = 1 ]; then log "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

elapsed() { awk -v a="$(date +%s.%N)" -v b="$1" 'BEGIN { printf "%.1f", a - b }'; }
free_port() {
  local p
  for p in $(shuf -i "$1"-"$2" -n 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
  die "no free port in $1-$2"
}

# A repository served over git:// (git daemon) and dumb http:// (busybox httpd).
git init -q -b main "$work/src"
printf 'echo hello from the repo\n' >"$work/src/hello.sh"
git -C "$work/src" add hello.sh
git -C "$work/src" -c user.name=t -c user.email=t@t commit -qm one
sha1="$(git -C "$work/src" rev-parse HEAD)"
echo two >>"$work/src/hello.sh"
git -C "$work/src" -c user.name=t -c user.email=t@t commit -qam two
git clone -q --bare "$work/src" "$work/srv/repo.git"
git -C "$work/srv/repo.git" update-server-info
git_port="$(free_port 19400 19499)"
http_port="$(free_port 19500 19599)"
git daemon --reuseaddr --export-all --base-path="$work/srv" --listen=127.0.0.1 --port="$git_port" "$work/srv" &
git_pid=$!
busybox httpd -f -p "127.0.0.1:$http_port" -h "$work/srv" &
http_pid=$!

# The NoCloud seed.
ssh-keygen -q -t ed25519 -N '' -C solstice-smoke -f "$work/id_ed25519"
mkdir -p "$work/seed"
# SMOKE_USERS=1: the key in a `users:` entry for the SSH user (as a seed for a non-root
# ssh_user may carry it) instead of the top-level ssh_authorized_keys.
if [ "${SMOKE_USERS:-0}" = 1 ]; then
  keys="users:
  - name: $user
    ssh_authorized_keys:
      - $(cat "$work/id_ed25519.pub")"
else
  keys="ssh_authorized_keys:
  - $(cat "$work/id_ed25519.pub")"
fi
cat >"$work/seed/user-data" <<EOF
#cloud-config
$keys
write_files:
- path: /etc/solstice/job.yaml
  permissions: '0644'
  owner: root:root
  content: |
    repo_url: git://10.0.2.2:$git_port/repo.git
    commit_sha: $sha1
EOF
printf 'instance-id: smoke-%s\nlocal-hostname: smoke-%s\n' "$$" "$guest" >"$work/seed/meta-data"
genisoimage -quiet -V cidata -J -R -o "$work/seed.iso" "$work/seed/user-data" "$work/seed/meta-data"

qemu-img create -q -f qcow2 -F qcow2 -b "$gdir/disk.qcow2" "$work/overlay.qcow2" 2G
ssh_port="$(free_port 10022 10121)"
# The VM engine's command line (docs/vm-engine.md), console to a file instead of a socket.
cmd=(qemu-system-x86_64 -name "guest=smoke-$guest" -machine "$machine,accel=tcg" -cpu "$cpu"
  -smp "$smp" -m "$mem" -nodefaults -no-user-config -display none -vga none -no-reboot
  -qmp "unix:$work/qmp.sock,server=on,wait=off"
  -serial "file:$work/console.log"
  -netdev "user,id=net0,hostfwd=tcp:127.0.0.1:$ssh_port-:22" -device virtio-net-pci,netdev=net0)
[ "$rng" = 1 ] && cmd+=(-device virtio-rng-pci)
cmd+=(-drive "file=$work/overlay.qcow2,format=qcow2,if=virtio,cache=unsafe"
  -drive "file=$work/seed.iso,format=raw,if=ide,media=cdrom,readonly=on"
  -kernel "${SMOKE_KERNEL:-$gdir/vmlinux}" -initrd "$gdir/initrd.img" -append "${SMOKE_APPEND:-$GUEST_APPEND}")
log "QEMU: ${cmd[*]}"
start=$(date +%s.%N)
"${cmd[@]}" &
qemu_pid=$!

ssh_opts=(-i "$work/id_ed25519" -p "$ssh_port" -o BatchMode=yes -o StrictHostKeyChecking=no
  -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=5)
gssh() { ssh "${ssh_opts[@]}" "$user@127.0.0.1" "$@"; }
deadline=$((SECONDS + ${SMOKE_SSH_TIMEOUT:-180}))
# Host-side time of the console's "ssh ready" marker, noted in the background.
(until grep -qa 'ssh ready' "$work/console.log" 2>/dev/null; do sleep 0.05; done; elapsed "$start" >"$work/ready") &
# An SSH attempt made before the guest's network is up can hang until SLIRP gives
# up on it: wait for the console marker first (the VM engine can do the same).
until [ -s "$work/ready" ] || [ $SECONDS -ge $deadline ] || ! kill -0 "$qemu_pid" 2>/dev/null; do sleep 0.05; done
until gssh true 2>/dev/null; do
  kill -0 "$qemu_pid" 2>/dev/null || { tail -n 30 "$work/console.log" >&2; die "QEMU exited before SSH"; }
  [ $SECONDS -lt $deadline ] || { tail -n 30 "$work/console.log" >&2; die "no SSH within the timeout"; }
  sleep 0.2
done
boot="$(elapsed "$start")"
sleep 0.1
ready="$(cat "$work/ready" 2>/dev/null || true)"
log "$guest: SSH as $user after ${boot}s (console 'ssh ready' seen after ${ready:-?}s)"

gssh "set -e
  uname -r; id -un; hostname
  cat /etc/solstice/job.yaml
  git --version
  cd \$HOME && mkdir -p work && cd work
  git clone -q git://10.0.2.2:$git_port/repo.git g && git -C g checkout -q $sha1 && sh g/hello.sh
  git clone -q http://10.0.2.2:$http_port/repo.git h && git -C h rev-parse HEAD
  df -h . | tail -n 1
  [ \$(id -u) = 0 ] || sudo -n true" | sed 's/^/  guest| /' >&2
gssh "grep -q 'commit_sha: $sha1' /etc/solstice/job.yaml" || die "job.yaml missing or wrong"
echo 'echo sftp ok' >"$work/up.sh"
chmod 755 "$work/up.sh"
sftp -q -i "$work/id_ed25519" -P "$ssh_port" -o BatchMode=yes -o StrictHostKeyChecking=no \
  -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -b - "$user@127.0.0.1" >/dev/null <<<"put -p $work/up.sh up.sh"
gssh './up.sh && stat -c "%a %n" up.sh' | sed 's/^/  guest| /' >&2

log "QMP system_powerdown"
t0=$(date +%s.%N)
printf '{"execute":"qmp_capabilities"}\n{"execute":"system_powerdown"}\n' |
  socat - "UNIX-CONNECT:$work/qmp.sock" >/dev/null
for _ in $(seq 1 600); do kill -0 "$qemu_pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$qemu_pid" 2>/dev/null; then
  log "guest did not power off within 60 s"
  status=1
else
  wait "$qemu_pid" 2>/dev/null || true
  qemu_pid=""
  log "powered off after $(elapsed "$t0")s"
  status=0
fi
log "console markers:"
grep -aE 'solstice-guest:|Cloud-init v\.' "$work/console.log" | sed 's/^/  console| /' >&2
echo "boot_to_ssh_seconds=$boot"
exit "$status"

#!/usr/bin/env bash
# The vm-overhead baseline: what the VM engine does for one job, by hand, with the usual tools.
# A key pair by ssh-keygen, a NoCloud seed by genisoimage, a qcow2 overlay by qemu-img, QEMU with
# the engine's command line (vm/qemu-command.ts, without -S: nothing here resumes a paused VM),
# an ssh retry loop with the OpenSSH client, then the same work in the guest: check out the
# commit with git and run the step's command.
#
# Prints "MARK <name>" lines on stdout as it goes (bench/vm-overhead/main.ts timestamps them):
# qemu-started, ssh-up, then the command's own output. Cleans up after itself.
#
# Inputs (environment): WORK (a new directory), KERNEL INITRD DISK FORMAT APPEND (the guest),
# ACCEL (kvm|tcg), CPU RAM_MB DISK_GB, PORT (host port for SSH), REPO_URL SHA, COMMAND.
set -euo pipefail

mkdir -m 700 "$WORK"
qemu_pid=
cleanup() {
  local status=$?
  if [ -n "$qemu_pid" ]; then
    kill -9 "$qemu_pid" 2>/dev/null || true
    wait "$qemu_pid" 2>/dev/null || true
  fi
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT

ssh-keygen -q -t ed25519 -N '' -C baseline -f "$WORK/key"
mkdir "$WORK/seed"
cat >"$WORK/seed/user-data" <<USERDATA
#cloud-config
disable_root: false
ssh_pwauth: false
ssh_authorized_keys:
  - $(cat "$WORK/key.pub")
write_files:
  - path: /etc/solstice/job.yaml
    permissions: "0644"
    owner: root:root
    content: |
      repo_url: $REPO_URL
      commit_sha: $SHA
USERDATA
printf 'instance-id: baseline\nlocal-hostname: baseline\n' >"$WORK/seed/meta-data"
genisoimage -quiet -V cidata -J -R -o "$WORK/seed.iso" "$WORK/seed"

qemu-img create -q -f qcow2 -F "$FORMAT" -b "$DISK" "$WORK/overlay.qcow2" "${DISK_GB}G"

if [ "$ACCEL" = kvm ]; then cpu_model=host; else cpu_model=max; fi
qemu-system-x86_64 \
  -name guest=baseline \
  -machine "pc,accel=$ACCEL" \
  -cpu "$cpu_model" \
  -smp "$CPU" \
  -m "$RAM_MB" \
  -nodefaults -no-user-config -display none -vga none \
  -qmp "unix:$WORK/qmp.sock,server=on,wait=off" \
  -chardev "socket,id=con0,path=$WORK/console.sock,server=on,wait=off" -serial chardev:con0 \
  -netdev "user,id=net0,hostfwd=tcp:127.0.0.1:$PORT-:22" -device virtio-net-pci,netdev=net0 \
  -device virtio-rng-pci \
  -drive "file=$WORK/overlay.qcow2,format=qcow2,if=virtio,cache=unsafe" \
  -drive "file=$WORK/seed.iso,format=raw,if=ide,media=cdrom,readonly=on" \
  -kernel "$KERNEL" -initrd "$INITRD" -append "$APPEND" \
  -pidfile "$WORK/qemu.pid" \
  2>"$WORK/qemu.stderr" &
qemu_pid=$!
echo "MARK qemu-started"

ssh_opts=(-i "$WORK/key" -p "$PORT" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
  -o LogLevel=ERROR -o ConnectTimeout=2)
until ssh "${ssh_opts[@]}" root@127.0.0.1 true 2>/dev/null; do
  kill -0 "$qemu_pid" 2>/dev/null || { echo "QEMU exited: $(cat "$WORK/qemu.stderr")" >&2; exit 1; }
  sleep 0.25
done
echo "MARK ssh-up"

ssh "${ssh_opts[@]}" root@127.0.0.1 "set -e
mkdir -p /root/work && cd /root/work
git init -q .
git remote add origin '$REPO_URL'
git fetch -q --no-tags --depth=1 origin '$SHA'
git -c advice.detachedHead=false checkout -q --force --detach '$SHA'
$COMMAND"

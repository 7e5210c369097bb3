#!/usr/bin/env bash
# Builds the cloud-init test guest into OUT_DIR (called by scripts/build-test-guests.sh).
# A Debian 12 root filesystem made by mmdebstrap (systemd, cloud-init, OpenSSH, git,
# the kernel with its modules), as an ext4 qcow2 found by label, plus its own kernel
# and initrd for direct kernel boot.
# Usage: build.sh OUT_DIR WORK_DIR
set -euo pipefail
OUT_DIR="$1"
WORK_DIR="$2"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MIRROR="${SOLSTICE_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${SOLSTICE_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
# Virtual size of the base image; overlays must be at least this big (image map disk_gb).
DISK_SIZE="${SOLSTICE_CLOUDINIT_DISK_SIZE:-2G}"
ROOT_LABEL="solstice-root"

say() { printf '[solstice] cloud-init guest: %s\n' "$*" >&2; }

ROOTFS="$WORK_DIR/rootfs"
rm -rf "$ROOTFS"
mkdir -p "$OUT_DIR" "$WORK_DIR" "$ROOTFS"

packages=(
  systemd systemd-sysv udev kmod dbus
  linux-image-amd64 initramfs-tools
  cloud-init openssh-server openssh-sftp-server sudo
  git ca-certificates iproute2 netbase mount e2fsprogs procps
)
include="$(IFS=,; echo "${packages[*]}")"

say "mmdebstrap bookworm (${#packages[@]} packages and their dependencies; takes minutes)"
# Hooks run on the host with the root directory as $1.
mmdebstrap \
  --variant=apt \
  --include="$include" \
  --aptopt='Acquire::Languages "none"' \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-include=/usr/share/locale/locale.alias' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --customize-hook="cp -a '$HERE/rootfs/.' \"\$1/\"" \
  --customize-hook="bash '$HERE/customize.sh' \"\$1\"" \
  bookworm "$ROOTFS/" \
  "deb $MIRROR bookworm main" \
  "deb $MIRROR bookworm-updates main" \
  "deb $SECURITY_MIRROR bookworm-security main" >&2

kver="$(basename "$(ls -d "$ROOTFS"/lib/modules/* | sort -V | tail -n1)")"
say "guest kernel $kver"
cp "$ROOTFS/boot/vmlinuz-$kver" "$OUT_DIR/vmlinuz"
cp "$ROOTFS/boot/initrd.img-$kver" "$OUT_DIR/initrd.img"
bash "$HERE/../lib/extract-vmlinux.sh" "$OUT_DIR/vmlinuz" "$OUT_DIR/vmlinux"
printf '%s\n' "$kver" >"$OUT_DIR/kernel-version"
# The default user cloud-init creates (Debian's cloud.cfg); the per-job key goes there.
awk '/default_user:/ {d=1; next} d && /name:/ {print $2; exit}' "$ROOTFS/etc/cloud/cloud.cfg" >"$OUT_DIR/ssh-user"

say "mkfs.ext4 -L $ROOT_LABEL ($DISK_SIZE) from the root directory"
raw="$WORK_DIR/disk.raw"
rm -f "$raw"
truncate -s "$DISK_SIZE" "$raw"
# No lazy inode-table init: it would write in the background of every boot under TCG.
mkfs.ext4 -q -F -L "$ROOT_LABEL" -E lazy_itable_init=0,lazy_journal_init=0 -d "$ROOTFS" "$raw"
qemu-img convert -O qcow2 "$raw" "$OUT_DIR/disk.qcow2"
rm -f "$raw"
rm -rf "$ROOTFS"

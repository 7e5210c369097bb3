#!/usr/bin/env bash
# Builds the fast test guest into OUT_DIR (called by scripts/build-test-guests.sh):
# the host's Debian kernel, an initramfs (busybox, dropbear, git, bash, the
# modules for QEMU's virtio/IDE devices) whose init reads the NoCloud seed, and
# a small ext4 base disk for the workspace.
# Usage: build.sh OUT_DIR WORK_DIR KERNEL_VERSION
set -euo pipefail
OUT_DIR="$1"
WORK_DIR="$2"
KVER="$3"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DISK_SIZE="${SOLSTICE_FAST_DISK_SIZE:-256M}"
MULTIARCH="x86_64-linux-gnu"

say() { printf '[solstice] fast guest: %s\n' "$*" >&2; }

ST="$WORK_DIR/initramfs"
rm -rf "$ST"
mkdir -p "$OUT_DIR" "$ST"

# Merged /usr, as on the host, so every path ldd or busybox names resolves.
mkdir -p "$ST"/usr/{bin,sbin,lib,lib64} "$ST"/{dev,proc,sys,run,tmp,root,etc,var,mnt}
ln -s usr/bin "$ST/bin"
ln -s usr/sbin "$ST/sbin"
ln -s usr/lib "$ST/lib"
ln -s usr/lib64 "$ST/lib64"
ln -s ../run "$ST/var/run"
mkdir -p "$ST/var/log" "$ST/var/tmp" "$ST/usr/lib/$MULTIARCH"
chmod 1777 "$ST/tmp" "$ST/var/tmp"
chmod 0700 "$ST/root"
# The kernel opens /dev/console before /init runs (devtmpfs is mounted later).
mknod -m 600 "$ST/dev/console" c 5 1
mknod -m 666 "$ST/dev/null" c 1 3

say "busybox applets"
busybox --list-full | while read -r applet; do
  case "$applet" in linuxrc) continue ;; esac
  ln -sf /usr/bin/busybox "$ST/$applet"
done
rm -f "$ST/usr/bin/busybox"
cp /bin/busybox "$ST/usr/bin/busybox"

# copy_file SRC [DEST]: copy a file to the same path (or DEST) in the initramfs.
copy_file() {
  local src="$1" dest="${2:-$1}"
  mkdir -p "$ST$(dirname "$dest")"
  rm -f "$ST$dest"
  cp -L "$src" "$ST$dest"
}
# copy_bin BIN...: copy executables and the shared libraries they load (ldd closure).
copy_bin() {
  local bin lib
  for bin in "$@"; do
    copy_file "$bin"
    for lib in $(ldd "$bin" 2>/dev/null | awk '/=> \// {print $3} /^\t\/lib/ {print $1}'); do
      [ -e "$ST$lib" ] || copy_file "$lib"
    done
  done
}

say "dropbear, sftp-server, bash, git, resize2fs"
copy_bin /usr/sbin/dropbear /usr/bin/dropbearkey /usr/bin/bash /usr/bin/git /usr/sbin/resize2fs
# dropbear starts this for the SFTP subsystem (path compiled into Debian's dropbear).
copy_bin /usr/lib/openssh/sftp-server
ln -sf openssh/sftp-server "$ST/usr/lib/sftp-server"

# git: the builtins are links to git itself; the transports and the shell parts are separate.
mkdir -p "$ST/usr/lib/git-core"
ln -sf ../../bin/git "$ST/usr/lib/git-core/git"
find /usr/lib/git-core -maxdepth 1 -type l -lname git -printf '%f\n' | while read -r name; do
  ln -sf git "$ST/usr/lib/git-core/$name"
done
copy_bin /usr/lib/git-core/git-remote-http /usr/lib/git-core/git-sh-i18n--envsubst
for name in git-remote-https git-remote-ftp git-remote-ftps; do ln -sf git-remote-http "$ST/usr/lib/git-core/$name"; done
for name in git-sh-setup git-sh-i18n git-submodule git-merge-octopus git-merge-one-file git-merge-resolve git-bisect; do
  copy_file "/usr/lib/git-core/$name"
done
mkdir -p "$ST/usr/share"
cp -a /usr/share/git-core "$ST/usr/share/"

say "CA certificates"
copy_file /etc/ssl/certs/ca-certificates.crt

say "kernel modules for $KVER"
MODULES=(
  virtio_pci virtio_net virtio_blk virtio_rng virtio_scsi
  ata_piix ahci sr_mod sd_mod isofs
  ext4 crc32c_generic
  button evdev
)
src_mod="/lib/modules/$KVER"
[ -d "$src_mod" ] || { echo "no modules for $KVER in $src_mod" >&2; exit 1; }
declare -A seen=()
add_module() {
  local name="$1" path dep
  path="$(modinfo -k "$KVER" -n "$name" 2>/dev/null)" || { echo "module $name not found for $KVER" >&2; exit 1; }
  [ "$path" = "(builtin)" ] && return 0
  [ -n "${seen[$path]:-}" ] && return 0
  seen[$path]=1
  copy_file "$path" "/usr/lib/modules/$KVER/${path#"$src_mod"/}"
  for dep in $(modinfo -k "$KVER" -F depends "$name" | tr ',' ' '); do add_module "$dep"; done
}
for m in "${MODULES[@]}"; do add_module "$m"; done
for f in modules.builtin modules.builtin.modinfo modules.order; do
  [ -f "$src_mod/$f" ] && cp "$src_mod/$f" "$ST/usr/lib/modules/$KVER/"
done
depmod -b "$ST" "$KVER"

say "init, configuration"
cp -a "$HERE/rootfs/." "$ST/"
ln -sf usr/bin/busybox "$ST/init"
chmod 0755 "$ST/etc/solstice/boot.sh" "$ST/etc/solstice/shutdown.sh" "$ST/etc/solstice/udhcpc.sh" "$ST/etc/acpi/PWRF/00000080"
chmod 0600 "$ST/etc/shadow"
printf '/usr/lib/%s\n' "$MULTIARCH" >"$ST/etc/ld.so.conf"
ldconfig -r "$ST"

# Uncompressed by default: under TCG the kernel unpacks a plain cpio ~0.7 s faster
# than a gzip one (measured; see docs/test-guests.md). SOLSTICE_FAST_INITRD_COMPRESS=gzip|zstd
# makes a smaller file.
compress="${SOLSTICE_FAST_INITRD_COMPRESS:-none}"
say "initramfs (cpio, compression: $compress)"
case "$compress" in
  none) filter=(cat) ;;
  gzip) filter=(gzip -9) ;;
  zstd) filter=(zstd -q -19) ;;
  *) echo "SOLSTICE_FAST_INITRD_COMPRESS must be none, gzip or zstd" >&2; exit 2 ;;
esac
(cd "$ST" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | "${filter[@]}" >"$OUT_DIR/initrd.img"
cp "/boot/vmlinuz-$KVER" "$OUT_DIR/vmlinuz"
say "vmlinux (uncompressed, PVH entry) from vmlinuz"
bash "$HERE/../lib/extract-vmlinux.sh" "$OUT_DIR/vmlinuz" "$OUT_DIR/vmlinux"
printf '%s\n' "$KVER" >"$OUT_DIR/kernel-version"
printf 'root\n' >"$OUT_DIR/ssh-user"

say "base disk ($DISK_SIZE ext4, label solstice-work)"
raw="$WORK_DIR/disk.raw"
rm -f "$raw"
truncate -s "$DISK_SIZE" "$raw"
mkfs.ext4 -q -F -m 0 -L solstice-work -E lazy_itable_init=0,lazy_journal_init=0 "$raw"
qemu-img convert -O qcow2 "$raw" "$OUT_DIR/disk.qcow2"
rm -rf "$raw" "$ST"

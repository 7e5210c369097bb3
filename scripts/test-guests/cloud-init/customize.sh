#!/usr/bin/env bash
# mmdebstrap customize hook for the cloud-init test guest; $1 is the root directory.
# Runs after every package is installed and the files under rootfs/ are copied in.
set -euo pipefail
root="$1"
in_root() { chroot "$root" "$@"; }

in_root systemctl enable systemd-networkd.service solstice-ready.service >/dev/null 2>&1
# Nothing waits for "network online", and no timers or periodic jobs run in a CI guest.
in_root systemctl mask \
  systemd-networkd-wait-online.service \
  apt-daily.timer apt-daily-upgrade.timer \
  e2scrub_all.timer e2scrub_reap.service fstrim.timer \
  getty@tty1.service \
  modprobe@drm.service modprobe@efi_pstore.service modprobe@dm_mod.service \
  sys-kernel-debug.mount sys-kernel-tracing.mount dev-hugepages.mount \
  systemd-binfmt.service proc-sys-fs-binfmt_misc.automount systemd-pstore.service >/dev/null 2>&1

chmod 0440 "$root/etc/sudoers.d/90-solstice"
# Host keys are made by cloud-init at first boot (ssh_deletekeys / ssh_genkeytypes).
rm -f "$root"/etc/ssh/ssh_host_*
# A fresh machine id on each boot of the image.
: >"$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"
# The initramfs with only the modules listed in /etc/initramfs-tools/modules.
in_root update-initramfs -u -k all >/dev/null
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*

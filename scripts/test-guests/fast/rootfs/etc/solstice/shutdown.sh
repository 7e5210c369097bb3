#!/bin/sh
# Run by busybox init before it stops every process (::shutdown), and by the
# power button handler with --poweroff.
echo "solstice-guest: shutting down [$(cut -d' ' -f1 /proc/uptime)s]" >/dev/console
kill "$(cat /run/dropbear.pid 2>/dev/null)" 2>/dev/null
sync
workdir="$(cat /run/solstice/workdir 2>/dev/null)"
[ -n "$workdir" ] && { umount "$workdir" 2>/dev/null || mount -o remount,ro "$workdir" 2>/dev/null; }
umount /run/solstice/seed 2>/dev/null
if [ "$1" = --poweroff ]; then
  exec /sbin/poweroff -f
fi
exit 0

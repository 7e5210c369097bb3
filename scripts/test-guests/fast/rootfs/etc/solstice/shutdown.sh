#!/bin/sh
# Run by busybox init before it stops every process and powers off.
echo "solstice-guest: shutting down" >/dev/console
sync
umount /root/work 2>/dev/null
umount /run/solstice/seed 2>/dev/null
exit 0

#!/usr/bin/env bash
# Extracts the uncompressed kernel (an ELF vmlinux with a PVH entry point) from a
# Debian bzImage. QEMU boots it directly with -kernel, skipping the kernel's own
# XZ decompression, which takes seconds under TCG.
# Usage: extract-vmlinux.sh BZIMAGE OUT
set -euo pipefail
in="$1" out="$2"
# The payload is XZ on Debian's amd64 kernels (CONFIG_KERNEL_XZ); try the others too.
try() {
  local magic="$1" tool="$2" off
  for off in $(LC_ALL=C grep -obUaP "$magic" "$in" | cut -d: -f1); do
    # The decompressor complains about the bytes after the stream: judge by the output.
    tail -c +$((off + 1)) "$in" | $tool -dc 2>/dev/null >"$out.part" || true
    if [ "$(head -c 4 "$out.part" | od -An -c | tr -d ' ')" = '177ELF' ]; then
      mv "$out.part" "$out"
      return 0
    fi
  done
  return 1
}
try '\xFD7zXZ\x00' xz || try '\x28\xB5\x2F\xFD' zstd || try '\x1F\x8B\x08' gzip || {
  rm -f "$out.part"
  echo "cannot extract vmlinux from $in" >&2
  exit 1
}
# A PVH entry note is what lets QEMU boot the ELF directly.
if command -v readelf >/dev/null && ! readelf -n "$out" 2>/dev/null | grep -q 'Xen.*0x00000012\|Unknown note type: (0x00000012)'; then
  echo "warning: $out has no PVH entry note; boot the bzImage instead" >&2
fi

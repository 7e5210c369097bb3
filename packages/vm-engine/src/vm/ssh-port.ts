// The host port forwarded to a guest's SSH port (ADR-004): `base + hash(vm_name) % size`, as the
// original (10022 + hash % 100), so a VM's port is predictable from its name. The hash is 32-bit
// FNV-1a over the name's UTF-8 bytes: stable across processes, versions and platforms (the
// original used Rust's DefaultHasher, which is not stable, so its exact values are not kept).
// A port that is taken is never used: the allocator walks on from the preferred port.

/** The range SSH forwards are taken from: ports `base` .. `base + size - 1`. */
export interface SshPortRange {
  readonly base: number;
  readonly size: number;
}

/** The original's range: 10022 + hash % 100. */
export const DEFAULT_SSH_PORT_RANGE: SshPortRange = Object.freeze({ base: 10022, size: 100 });

/** 32-bit FNV-1a of the UTF-8 bytes of `text`, as an unsigned integer. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** Throws a RangeError unless the range is inside 1..65535 and not empty. */
export function validateSshPortRange(range: SshPortRange): SshPortRange {
  const { base, size } = range;
  if (!Number.isInteger(base) || !Number.isInteger(size) || size < 1 || base < 1 || base + size - 1 > 65535) {
    throw new RangeError(`invalid SSH port range base=${base} size=${size}: ports must lie within 1..65535`);
  }
  return range;
}

/**
 * The port a VM prefers: `base + fnv1a32(vmName) % size`.
 *
 * @example
 *   preferredSshPort("job-1b4e28ba-2fa1-11d2-883f-0016d3cca427"); // a port in 10022..10121
 */
export function preferredSshPort(vmName: string, range: SshPortRange = DEFAULT_SSH_PORT_RANGE): number {
  validateSshPortRange(range);
  return range.base + (fnv1a32(vmName) % range.size);
}

/**
 * Every port of the range in the order a VM tries them: its preferred port, then the next ones,
 * wrapping around at the end of the range.
 */
export function sshPortCandidates(vmName: string, range: SshPortRange = DEFAULT_SSH_PORT_RANGE): number[] {
  const first = preferredSshPort(vmName, range) - range.base;
  return Array.from({ length: range.size }, (_, i) => range.base + ((first + i) % range.size));
}

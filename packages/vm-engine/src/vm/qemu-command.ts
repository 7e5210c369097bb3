// The QEMU command line of a VM, as data (pure: no I/O). The shape follows ADR-002/004 and the
// lessons of the original: user-mode networking with one host port forwarded to the guest's 22,
// the overlay as a virtio disk, the NoCloud seed as an IDE CD-ROM (Ubuntu's root device detection
// is confused when the seed is a second virtio disk), a QMP socket and a serial console socket.

/** Acceleration QEMU is started with: decided by the accel probe (see `accel-probe.ts`). */
export type Accel = "kvm" | "tcg";

/** Everything the command line depends on. */
export interface QemuCommandSpec {
  readonly name: string;
  readonly accel: Accel;
  readonly cpu: number;
  readonly ramMb: number;
  readonly overlayPath: string;
  /** The overlay's format: always qcow2 in practice. */
  readonly overlayFormat?: "qcow2" | "raw";
  /** The NoCloud seed ISO, attached as an IDE CD-ROM; absent for images without one. */
  readonly seedPath?: string | undefined;
  readonly qmpSocket: string;
  readonly consoleSocket: string;
  readonly pidFile: string;
  /** Host port on 127.0.0.1 forwarded to the guest's port 22. */
  readonly sshPort: number;
  /** Direct kernel boot. */
  readonly kernel?: string | undefined;
  readonly initrd?: string | undefined;
  readonly append?: string | undefined;
  /** Start with the CPUs stopped (`-S`), so the console is connected before the guest prints. */
  readonly paused?: boolean;
  /**
   * Restore a saved VM state instead of booting (`-incoming`, e.g. `exec:cat '<file>'`: QEMU 7.2
   * has no `file:` URI). Every other option must match the command line the state was saved from.
   */
  readonly incoming?: string | undefined;
}

/** Values QEMU's option parser would misread: a comma must be doubled inside an option value. */
export function qemuOptionValue(value: string): string {
  return value.replaceAll(",", ",,");
}

/**
 * The QEMU arguments (without the binary) for a VM.
 *
 * @example
 *   spawn("qemu-system-x86_64", buildQemuArgs({ name: "job-1", accel: "tcg", cpu: 1, ramMb: 512, ... }));
 */
export function buildQemuArgs(spec: QemuCommandSpec): string[] {
  if (!Number.isInteger(spec.cpu) || spec.cpu < 1)
    throw new RangeError(`cpu must be a positive integer, got ${spec.cpu}`);
  if (!Number.isInteger(spec.ramMb) || spec.ramMb < 16)
    throw new RangeError(`ram_mb must be at least 16, got ${spec.ramMb}`);
  if (!Number.isInteger(spec.sshPort) || spec.sshPort < 1 || spec.sshPort > 65535) {
    throw new RangeError(`invalid SSH port ${spec.sshPort}`);
  }
  const value = qemuOptionValue;
  const args = [
    "-name",
    `guest=${value(spec.name)}`,
    "-machine",
    `pc,accel=${spec.accel}`,
    // `host` passes the real CPU through under KVM; under TCG `max` emulates every feature QEMU can.
    "-cpu",
    spec.accel === "kvm" ? "host" : "max",
    "-smp",
    String(spec.cpu),
    "-m",
    String(spec.ramMb),
    "-nodefaults",
    "-no-user-config",
    "-display",
    "none",
    "-vga",
    "none",
    "-qmp",
    `unix:${value(spec.qmpSocket)},server=on,wait=off`,
    "-chardev",
    `socket,id=con0,path=${value(spec.consoleSocket)},server=on,wait=off`,
    "-serial",
    "chardev:con0",
    "-netdev",
    `user,id=net0,hostfwd=tcp:127.0.0.1:${spec.sshPort}-:22`,
    "-device",
    "virtio-net-pci,netdev=net0",
    // Guests make SSH host keys at first boot: without an entropy source that can stall for long.
    "-device",
    "virtio-rng-pci",
    // The overlay is thrown away after the job: host-side flushes would only cost time.
    "-drive",
    `file=${value(spec.overlayPath)},format=${spec.overlayFormat ?? "qcow2"},if=virtio,cache=unsafe`,
  ];
  if (spec.seedPath !== undefined) {
    args.push("-drive", `file=${value(spec.seedPath)},format=raw,if=ide,media=cdrom,readonly=on`);
  }
  if (spec.kernel !== undefined) {
    args.push("-kernel", spec.kernel);
    if (spec.initrd !== undefined) args.push("-initrd", spec.initrd);
    if (spec.append !== undefined) args.push("-append", spec.append);
  }
  args.push("-pidfile", spec.pidFile);
  if (spec.paused) args.push("-S");
  if (spec.incoming !== undefined) args.push("-incoming", spec.incoming);
  return args;
}

import { describe, expect, it } from "vitest";
import { buildQemuArgs, type QemuCommandSpec, qemuOptionValue } from "../src/vm/qemu-command.ts";

const spec: QemuCommandSpec = {
  name: "job-1",
  accel: "tcg",
  cpu: 2,
  ramMb: 1024,
  overlayPath: "/vms/job-1/overlay.qcow2",
  seedPath: "/vms/job-1/seed.iso",
  qmpSocket: "/vms/job-1/qmp.sock",
  consoleSocket: "/vms/job-1/console.sock",
  pidFile: "/vms/job-1/qemu.pid",
  sshPort: 10042,
};

/** The value following `flag`, for every occurrence. */
function values(args: string[], flag: string): string[] {
  return args.flatMap((arg, i) => (arg === flag ? [args[i + 1]!] : []));
}

describe("buildQemuArgs", () => {
  it("builds the whole command line of a TCG VM", () => {
    expect(buildQemuArgs(spec)).toEqual([
      "-name",
      "guest=job-1",
      "-machine",
      "pc,accel=tcg",
      "-cpu",
      "max",
      "-smp",
      "2",
      "-m",
      "1024",
      "-nodefaults",
      "-no-user-config",
      "-display",
      "none",
      "-vga",
      "none",
      "-qmp",
      "unix:/vms/job-1/qmp.sock,server=on,wait=off",
      "-chardev",
      "socket,id=con0,path=/vms/job-1/console.sock,server=on,wait=off",
      "-serial",
      "chardev:con0",
      "-netdev",
      "user,id=net0,hostfwd=tcp:127.0.0.1:10042-:22",
      "-device",
      "virtio-net-pci,netdev=net0",
      "-device",
      "virtio-rng-pci",
      "-drive",
      "file=/vms/job-1/overlay.qcow2,format=qcow2,if=virtio,cache=unsafe",
      "-drive",
      "file=/vms/job-1/seed.iso,format=raw,if=ide,media=cdrom,readonly=on",
      "-pidfile",
      "/vms/job-1/qemu.pid",
    ]);
  });

  it("passes the host CPU through under KVM", () => {
    const args = buildQemuArgs({ ...spec, accel: "kvm" });
    expect(values(args, "-machine")).toEqual(["pc,accel=kvm"]);
    expect(values(args, "-cpu")).toEqual(["host"]);
  });

  it("adds direct kernel boot when the image has a kernel", () => {
    const args = buildQemuArgs({
      ...spec,
      kernel: "/img/vmlinuz",
      initrd: "/img/initrd",
      append: "console=ttyS0 quiet",
    });
    expect(values(args, "-kernel")).toEqual(["/img/vmlinuz"]);
    expect(values(args, "-initrd")).toEqual(["/img/initrd"]);
    expect(values(args, "-append")).toEqual(["console=ttyS0 quiet"]);
  });

  it("has no kernel options without a kernel, and no CD-ROM without a seed", () => {
    const args = buildQemuArgs({ ...spec, seedPath: undefined });
    expect(args).not.toContain("-kernel");
    expect(args).not.toContain("-initrd");
    expect(args).not.toContain("-append");
    expect(values(args, "-drive")).toHaveLength(1);
  });

  it("starts paused on request", () => {
    expect(buildQemuArgs({ ...spec, paused: true }).at(-1)).toBe("-S");
    expect(buildQemuArgs(spec)).not.toContain("-S");
  });

  it("doubles commas in paths, as QEMU's option syntax requires", () => {
    const args = buildQemuArgs({ ...spec, overlayPath: "/odd,dir/overlay.qcow2" });
    expect(values(args, "-drive")[0]).toBe(
      "file=/odd,,dir/overlay.qcow2,format=qcow2,if=virtio,cache=unsafe",
    );
    expect(qemuOptionValue("a,b,,c")).toBe("a,,b,,,,c");
  });

  it.each([{ cpu: 0 }, { cpu: 1.5 }, { ramMb: 8 }, { sshPort: 0 }, { sshPort: 70000 }])(
    "rejects %j",
    (bad) => {
      expect(() => buildQemuArgs({ ...spec, ...bad })).toThrow(RangeError);
    },
  );
});

import { describe, expect, it } from "vitest";
import { clearAccelProbeCache, probeKvm, resolveAccel } from "../src/vm/accel-probe.ts";
import { KVM_PROBE_KERNEL_BASE64, kvmProbeArgs } from "../src/vm/kvm-probe-payload.ts";

describe("accel probe", () => {
  it("takes kvm and tcg as given, without probing", async () => {
    expect(await resolveAccel("tcg", { qemuBinary: "/nonexistent/qemu" })).toBe("tcg");
    expect(await resolveAccel("kvm", { qemuBinary: "/nonexistent/qemu" })).toBe("kvm");
  });

  it("falls back to tcg when the KVM device cannot be opened", async () => {
    const decision = await probeKvm({ kvmDevice: "/nonexistent/kvm" });
    expect(decision.accel).toBe("tcg");
    expect(decision.reason).toContain("/nonexistent/kvm is not usable (ENOENT)");
  });

  it("falls back to tcg when QEMU cannot run the probe, and warns once", async () => {
    clearAccelProbeCache();
    const warnings: unknown[] = [];
    const logger = { warn: (details: Record<string, unknown>) => warnings.push(details) };
    // /dev/null opens read-write, so the probe goes on to QEMU, which is missing here.
    const options = { kvmDevice: "/dev/null", qemuBinary: "/nonexistent/qemu-system-x86_64", logger };
    expect(await resolveAccel("auto", options)).toBe("tcg");
    expect(await resolveAccel("auto", options)).toBe("tcg");
    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings[0])).toContain("ENOENT");
    clearAccelProbeCache();
  });

  it("ships a multiboot kernel and runs it under KVM with the debug-exit device", () => {
    const kernel = Buffer.from(KVM_PROBE_KERNEL_BASE64, "base64");
    expect(kernel.readUInt32LE(0)).toBe(0x1badb002);
    expect((kernel.readUInt32LE(0) + kernel.readUInt32LE(4) + kernel.readUInt32LE(8)) >>> 0).toBe(0);
    expect(kvmProbeArgs("/tmp/p.bin")).toEqual(
      expect.arrayContaining([
        "-accel",
        "kvm",
        "-kernel",
        "/tmp/p.bin",
        "isa-debug-exit,iobase=0xf4,iosize=0x04",
      ]),
    );
  });
});

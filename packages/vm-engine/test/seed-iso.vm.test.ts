import { execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { chmod, copyFile, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeSeedIso } from "../src/seed/seed-iso.ts";

// The seed ISO read by a real Linux kernel (Debian's linux-image-amd64, the one the test guests
// use), attached as the engine attaches it: an IDE CD-ROM. A minimal busybox initramfs loads the
// CD-ROM and ISO 9660 drivers, finds the volume by label, mounts it with Rock Ridge and again
// with Joliet only (norock), and prints what it sees on the serial console.

const run = promisify(execFile);

const userData = "#cloud-config\nssh_authorized_keys:\n  - ssh-ed25519 AAAAC3Nz test\n# grüße ✓\n";
const metaData = "instance-id: solstice-vm-test\nlocal-hostname: solstice-vm-test\n";
const networkConfig = "version: 2\n";
const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

const MODULES = [
  "drivers/cdrom/cdrom",
  "fs/isofs/isofs",
  "drivers/scsi/scsi_common",
  "drivers/scsi/scsi_mod",
  "drivers/scsi/sr_mod",
  "drivers/ata/libata",
  "drivers/ata/ata_piix",
];

const INIT = `#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs dev /dev
for m in cdrom isofs scsi_common scsi_mod sr_mod libata ata_piix; do insmod /mods/$m.ko 2>/dev/null; done
i=0; while [ ! -b /dev/sr0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
echo "@@LABEL $(findfs LABEL=cidata)"
for mode in rock norock; do
  if [ $mode = rock ]; then opts=ro; else opts=ro,norock; fi
  mount -t iso9660 -o $opts /dev/sr0 /mnt || echo "@@MOUNTFAIL $mode"
  for f in /mnt/*; do echo "@@FILE $mode $(basename "$f") $(stat -c %a "$f") $(sha256sum < "$f" | cut -d' ' -f1)"; done
  umount /mnt
done
echo "@@DONE"
poweroff -f
`;

let dir: string;
let lines: string[] = [];

async function need(tool: string, args: string[]): Promise<string> {
  try {
    return (await run(tool, args)).stdout;
  } catch (error) {
    throw new Error(`${tool} is needed to boot the test kernel (${String(error)})`);
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "solstice-seed-vm-"));
  const kernels = (await readdir("/boot")).filter((f) => f.startsWith("vmlinuz-")).sort();
  const kernel = kernels.at(-1);
  if (kernel === undefined) throw new Error("no /boot/vmlinuz-*: install Debian's linux-image-amd64");
  const version = kernel.slice("vmlinuz-".length);

  const root = join(dir, "root");
  for (const sub of ["bin", "mods", "proc", "sys", "dev", "mnt"])
    await mkdir(join(root, sub), { recursive: true });
  await copyFile("/bin/busybox", join(root, "bin", "busybox")).catch((error: unknown) => {
    throw new Error(`/bin/busybox is missing: install Debian's busybox-static (${String(error)})`);
  });
  for (const applet of (await need("/bin/busybox", ["--list"])).split("\n").filter(Boolean)) {
    if (applet !== "busybox") await symlink("busybox", join(root, "bin", applet));
  }
  for (const module of MODULES) {
    await copyFile(
      `/lib/modules/${version}/kernel/${module}.ko`,
      join(root, "mods", `${module.split("/").at(-1)}.ko`),
    );
  }
  await writeFile(join(root, "init"), INIT);
  await chmod(join(root, "init"), 0o755);
  const initrd = join(dir, "initrd.cpio");
  await need("sh", ["-c", `cd '${root}' && find . | cpio -o -H newc --quiet > '${initrd}'`]);

  const iso = join(dir, "seed.iso");
  await writeSeedIso(iso, { userData, metaData, networkConfig });

  const output = await new Promise<string>((resolve, reject) => {
    const qemu = spawn(
      "qemu-system-x86_64",
      [
        ...["-machine", "pc", "-m", "256", "-nodefaults", "-display", "none", "-no-reboot"],
        ...["-serial", "stdio", "-kernel", `/boot/${kernel}`, "-initrd", initrd],
        ...["-append", "console=ttyS0 quiet panic=-1"],
        ...["-drive", `file=${iso},media=cdrom,if=ide,readonly=on`],
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    qemu.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    qemu.stderr.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    const timer = setTimeout(() => qemu.kill("SIGKILL"), 240_000);
    qemu.once("error", (error) => reject(new Error(`cannot start qemu-system-x86_64: ${error.message}`)));
    qemu.once("exit", () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
  lines = output.split(/\r?\n/);
  if (!lines.includes("@@DONE")) throw new Error(`the test kernel did not finish; console:\n${output}`);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const files = (mode: "rock" | "norock"): string[] =>
  lines.filter((l) => l.startsWith(`@@FILE ${mode} `)).map((l) => l.slice(`@@FILE ${mode} `.length));

describe("the seed ISO in a real Linux kernel", () => {
  it("is found by its label cidata on the IDE CD-ROM", () => {
    expect(lines).toContain("@@LABEL /dev/sr0");
  });

  it("shows the exact names, read-only modes and bytes through Rock Ridge", () => {
    expect(lines.filter((l) => l.startsWith("@@MOUNTFAIL"))).toEqual([]);
    expect(files("rock")).toEqual([
      `meta-data 444 ${sha256(metaData)}`,
      `network-config 444 ${sha256(networkConfig)}`,
      `user-data 444 ${sha256(userData)}`,
    ]);
  });

  it("shows the exact names and bytes through Joliet alone (norock)", () => {
    expect(files("norock").map((l) => l.split(" ").filter((_, i) => i !== 1))).toEqual([
      ["meta-data", sha256(metaData)],
      ["network-config", sha256(networkConfig)],
      ["user-data", sha256(userData)],
    ]);
  });
});

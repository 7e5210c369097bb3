import { spawn, execFileSync } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { createConnection } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { buildQemuArgs } from "./src/vm/qemu-command.ts";
import { writeSeedIso } from "./src/seed/seed-iso.ts";
const g = "/root/.cache/solstice/guests/fast";
const mode = process.argv[2] ?? "noconsole";
const dir = `/tmp/vmscratch/boot-${process.pid}`;
rmSync(dir, { recursive: true, force: true }); mkdirSync(dir, { recursive: true });
execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", `${g}/disk.qcow2`, `${dir}/o.qcow2`, "1G"]);
await writeSeedIso(`${dir}/seed.iso`, { userData: "#cloud-config\nssh_authorized_keys:\n  - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG8 x\n", metaData: "instance-id: x\n" });
const port = 10990 + Math.floor(Math.random() * 9);
const args = buildQemuArgs({ name: "b", accel: "tcg", cpu: 1, ramMb: 512, overlayPath: `${dir}/o.qcow2`, seedPath: `${dir}/seed.iso`, qmpSocket: `${dir}/q.sock`, consoleSocket: `${dir}/c.sock`, pidFile: `${dir}/p`, sshPort: port, kernel: `${g}/vmlinuz`, initrd: `${g}/initrd.img`, append: "console=ttyS0 quiet panic=-1" });
const t0 = performance.now();
const T = () => ((performance.now() - t0) / 1000).toFixed(2);
const child = spawn("qemu-system-x86_64", args, { stdio: "ignore" });
if (mode === "console") {
  for (;;) { try { const sock = createConnection({ path: `${dir}/c.sock` }); await new Promise((r, j) => { sock.once("connect", r); sock.once("error", j); }); sock.on("data", (c) => { if (String(c).includes("ssh ready")) console.log(mode, T(), "console: ssh ready"); }); break; } catch { await sleep(20); } }
}
for (;;) {
  const got = await new Promise<string>((resolve) => {
    const s = createConnection({ host: "127.0.0.1", port });
    const timer = setTimeout(() => { s.destroy(); resolve("timeout"); }, Number(process.argv[3] ?? 1000));
    s.once("error", () => { clearTimeout(timer); resolve("error"); });
    s.once("data", () => { clearTimeout(timer); s.destroy(); resolve("banner"); });
    s.once("end", () => { clearTimeout(timer); resolve("closed"); });
  });
  if (got === "banner") { console.log(mode, T(), "banner"); break; }
  if (got !== "timeout") await sleep(250);
}
child.kill("SIGKILL");
rmSync(dir, { recursive: true, force: true });
process.exit(0);

import { spawn, execFileSync } from "node:child_process";
import { newJobRequest } from "@solstice/common";
import { VmEngine } from "./src/vm-engine.ts";
const g = "/root/.cache/solstice/guests/fast";
execFileSync("bash", ["-c", "rm -rf /tmp/vmscratch/git && mkdir -p /tmp/vmscratch/git/repo && cd /tmp/vmscratch/git/repo && git init -q && echo hello > README && git add README && git -c user.name=t -c user.email=t@t commit -q -m one"]);
const sha = execFileSync("git", ["-C", "/tmp/vmscratch/git/repo", "rev-parse", "HEAD"], { encoding: "utf8" }).trim();
const daemon = spawn("git", ["daemon", "--export-all", "--base-path=/tmp/vmscratch/git", "--listen=127.0.0.1", "--port=19419", "--reuseaddr"], { stdio: "inherit" });
const logger = { debug: () => {}, info: (o: object, m: string) => console.log("I", m, JSON.stringify(o)), warn: (o: object, m: string) => console.log("W", m, o), error: (o: object, m: string) => console.log("E", m, o) };
const engine = new VmEngine({ stateDir: "/tmp/vmscratch/state", logger });
const req = newJobRequest({ source: "manual", repo_url: "git://10.0.2.2:19419/repo", commit_sha: sha, steps: [
  { name: "one", run: "echo out-one; echo err-one >&2; cat README; pwd" },
  { name: "two", run: "echo before; exit 3" },
  { name: "three", run: "echo never" },
  { name: "four", run: "echo always runs", if: "always()" },
], mask: ["hello"] });
const t0 = Date.now();
const result = await engine.runJob(req, { label: "fast", source: "file:///x", localPath: `${g}/disk.qcow2`, decompress: "none", nocloud: true, defaults: { cpu: 1, ramMb: 512, diskGb: 1 }, sha256: undefined, format: "qcow2", sshUser: "root", kernel: `${g}/vmlinuz`, initrd: `${g}/initrd.img`, append: "console=ttyS0 quiet panic=-1", accel: "auto" }, {
  sink: (e) => { const { schema_version, request_id, timestamp, ...rest } = e as Record<string, unknown>; console.log(((Date.now() - t0) / 1000).toFixed(2), JSON.stringify(rest)); },
});
console.log(result.conclusion, result.reason, result.bootToSshMs, result.vm?.state);
daemon.kill();

import { stat } from "node:fs/promises";
import { join } from "node:path";
import { type JobEvent, newJobRequest } from "@solstice/common";
import { eventually, GitServer, tempDir, writeFastGuestImageMap } from "@solstice/test-support";
import { generateEphemeralKeyPair, SshSession } from "@solstice/vm-engine";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DEBUG_SSH_KEY_ENV } from "../src/service/debug-ssh-keys.ts";
import { type RunningOrchestrator, startOrchestrator } from "../src/service/orchestrator-service.ts";
import {
  EventCollector,
  fileLogger,
  killLeftoverQemu,
  leftovers,
  testConfig,
} from "./orchestrator-support.ts";

// Debug SSH (ADR-003), opt-in: a failing job with `debug_ssh` keeps its VM, reachable with the
// user's own key at the port its log names, until a (here short) TTL destroys it; a second one of
// the same project at the same time is destroyed normally, its log saying why.

const TTL_SECS = 60;
const owner = { kind: "cidev" as const, instance: "debug-ssh-test" };
let dir: Awaited<ReturnType<typeof tempDir>>;
let stateDir: string;
let git: GitServer;
let orchestrator: RunningOrchestrator | undefined;
let events: EventCollector;

beforeAll(async () => {
  dir = await tempDir("orch-debug-ssh");
  stateDir = join(dir.path, "state");
  git = await GitServer.start();
  const { path } = await writeFastGuestImageMap(dir.path);
  orchestrator = await startOrchestrator(
    testConfig({ imageMapPath: path, stateDir, hostId: "debug-host", debugSshTtlSecs: TTL_SECS }),
    { logger: fileLogger(join(dir.path, "service.log")), engine: { sshTimeoutMs: 240_000 } },
  );
  events = await EventCollector.subscribe(orchestrator.queue, owner);
});

afterAll(async () => {
  await events?.close();
  await orchestrator?.stop({ drainTimeoutMs: 0 });
  await git?.stop();
  const killed = stateDir === undefined ? [] : await killLeftoverQemu(stateDir);
  await dir?.remove();
  expect(killed).toEqual([]);
});

function systemLines(ordered: readonly JobEvent[]): string[] {
  return ordered.flatMap((e) => (e.type === "log" && e.stream === "system" ? [e.text] : []));
}

describe("debug SSH", () => {
  test("a failing opted-in job keeps a reachable VM until its TTL; a second one of the project is not kept", async () => {
    const orch = orchestrator!;
    const user = generateEphemeralKeyPair("tester@laptop");
    const repo = await git.createRepo("debug", { "app.txt": "debug me\n" });
    const failing = (name: string) =>
      newJobRequest({
        source: "manual",
        repo_url: repo.guestUrl,
        commit_sha: repo.sha,
        runs_on: "fast",
        owner,
        debug_ssh: true,
        env: { [DEBUG_SSH_KEY_ENV]: user.publicKey },
        steps: [{ name, run: `echo "state of ${name}" > /tmp/marker; exit 1` }],
      });
    const first = failing("first");
    const second = failing("second");
    await orch.queue.publishJob(first);
    await orch.queue.publishJob(second);
    const a = await events.finished(first.request_id);
    const b = await events.finished(second.request_id);
    expect(a.at(-1)).toMatchObject({ type: "job_finished", conclusion: "failure" });
    expect(b.at(-1)).toMatchObject({ type: "job_finished", conclusion: "failure" });

    // Exactly one of them is kept (they failed at about the same time: either may win).
    const kept = systemLines(a).some((l) => l.startsWith("Debug SSH: ssh ")) ? first : second;
    const other = kept === first ? second : first;
    const keptLines = systemLines(kept === first ? a : b);
    const otherLines = systemLines(kept === first ? b : a);
    expect(otherLines.join("\n")).toMatch(
      /Debug SSH: not kept: a debug session for this project is already open .*The VM is destroyed\./,
    );
    expect((await orch.store.vmsForJob(other.request_id)).map((v) => v.state)).toEqual(["destroyed"]);

    const line = keptLines.find((l) => l.startsWith("Debug SSH: ssh "));
    const match =
      /^Debug SSH: ssh -p (\d+) root@127\.0\.0\.1 \(on host debug-host, with your key from SOLSTICE_DEBUG_SSH_KEY\) — available until (\S+) \(not renewable\)/.exec(
        line ?? "",
      );
    expect(match, keptLines.join("\n")).not.toBeNull();
    const port = Number(match?.[1]);
    const until = new Date(match?.[2] ?? "");
    expect(until.getTime()).toBeGreaterThan(Date.now());
    expect(until.getTime()).toBeLessThanOrEqual(Date.now() + TTL_SECS * 1000);
    expect(keptLines.join("\n")).not.toContain("PRIVATE KEY");
    expect(keptLines.join("\n")).not.toContain(user.publicKey.split(" ")[1]);

    const [vm] = await orch.store.vmsForJob(kept.request_id);
    expect(vm).toMatchObject({ state: "debug_hold", sshPort: port });
    expect(vm?.debugUntil?.toISOString()).toBe(until.toISOString());
    expect((await leftovers(stateDir)).qemu).toHaveLength(1);
    // The operators' one-time key: in the VM's 0700 directory only, mode 0600.
    const operatorLine = keptLines.find((l) => l.includes("operators of debug-host"));
    const keyFile = /ssh -i (\S+) /.exec(operatorLine ?? "")?.[1] ?? "";
    expect(keyFile).toBe(join(vm?.workDir ?? "?", "debug-ssh-key"));
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);

    // The user gets in with their own key and finds the failed job's state.
    const ssh = await SshSession.connect({
      host: "127.0.0.1",
      port,
      username: "root",
      privateKey: user.privateKey,
      readyTimeoutMs: 30_000,
    });
    try {
      const result = await ssh.run("cat /tmp/marker");
      expect(result.stdout.trim()).toBe(`state of ${kept === first ? "first" : "second"}`);
    } finally {
      await ssh.close();
    }

    // At its TTL the VM is destroyed, whoever is logged in.
    await eventually(
      "the kept VM destroyed at its TTL",
      async () => (await orch.store.vmsForJob(kept.request_id))[0]?.state === "destroyed",
      (TTL_SECS + 60) * 1000,
    );
    expect(Date.now()).toBeGreaterThanOrEqual(until.getTime());
    expect(await leftovers(stateDir)).toEqual({ qemu: [], workDirs: [] });
    expect(await orch.store.getJob(kept.request_id)).toMatchObject({
      state: "finished",
      conclusion: "failure",
    });
  });
});

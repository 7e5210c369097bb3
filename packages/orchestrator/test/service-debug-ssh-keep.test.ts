import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type JobRequest, newJobRequest, silentLogger } from "@solstice/common";
import { EventLog } from "@solstice/test-support";
import { generateEphemeralKeyPair, VmEngine } from "@solstice/vm-engine";
import { LocalHypervisor } from "@solstice/vm-engine/local";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { JobStore } from "../src/persistence/job-store.ts";
import { migrateToLatest } from "../src/persistence/migrate.ts";
import { DebugSsh } from "../src/service/debug-ssh.ts";
import { vmRecordHook } from "../src/service/vm-record-hook.ts";
import { writeImageMap } from "./local-service.ts";
import { openTestDatabase, type TestDatabase } from "./persistence-backends.ts";

// Debug SSH's keepVm hook in a real job run (VmEngine on the `local` hypervisor, the store on
// PGlite): what the job's log says about the kept VM, and what the stored request holds of the
// user's SOLSTICE_DEBUG_SSH_KEY.

const HOST = "unit-host";
const userKey = generateEphemeralKeyPair("me@laptop").publicKey;

let dir: string;
let database: TestDatabase;
let store: JobStore;
let engine: VmEngine;
const installed: string[][] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "solstice-debug-keep-"));
  database = await openTestDatabase("pglite");
  await migrateToLatest(database.db);
  store = new JobStore(database.db);
  engine = new VmEngine({
    hypervisor: new LocalHypervisor({ stateDir: join(dir, "vms") }),
    host: HOST,
    logger: silentLogger,
  });
}, 120_000);

afterAll(async () => {
  await database?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** Runs a failing job that opted in to debug SSH with `ttlSecs`; returns its log and the hook. */
async function runKept(ttlSecs: number, env: Record<string, string>) {
  const imageMap = await writeImageMap(join(dir, `images-${ttlSecs}`));
  const image = imageMap.images.get(imageMap.defaultLabel)!;
  const request: JobRequest = newJobRequest({
    source: "manual",
    repo_url: `https://code.example.org/acme/app-${ttlSecs}.git`,
    commit_sha: "0123456789abcdef0123456789abcdef01234567",
    workspace_checkout: false,
    debug_ssh: true,
    env,
    steps: [{ name: "Fails", run: "exit 1" }],
  });
  await store.recordAccepted(request, { hostId: HOST, label: image.label });
  const debugSsh = new DebugSsh({
    engine,
    store,
    hostId: HOST,
    ttlSecs,
    logger: silentLogger,
    installKeys: async (_vm, keys) => {
      installed.push([...keys]);
    },
  });
  const log = new EventLog();
  const result = await engine.runJob(request, image, {
    sink: log.sink,
    keepVm: debugSsh.keepVm,
    onVm: vmRecordHook({ store, hostId: HOST, requestId: request.request_id, onError: () => undefined }),
  });
  return { request, log, result, debugSsh };
}

describe("debug SSH on a kept VM", () => {
  test.each([
    [90, "1 min 30 s"],
    [45, "45 s"],
    [1800, "30 min"],
  ])("a TTL of %i s is said as %s", async (ttlSecs, said) => {
    const { log, result, debugSsh } = await runKept(ttlSecs, { SOLSTICE_DEBUG_SSH_KEY: userKey });
    try {
      expect(result.kept).toBe(true);
      const line = log.lines(null).find((l) => l.includes("this failed job's VM is kept for"));
      expect(line).toMatch(new RegExp(`kept for ${said}, until `));
    } finally {
      await debugSsh.releaseAll();
    }
  });

  test("entries of SOLSTICE_DEBUG_SSH_KEY that are no public keys: not installed, not stored, said why", async () => {
    const { request, log, debugSsh } = await runKept(60, {
      SOLSTICE_DEBUG_SSH_KEY: `${userKey}\nhunter2-by-mistake`,
    });
    try {
      expect(installed.at(-1)).toEqual([userKey]);
      expect(log.lines(null)).toContain(
        'system: Debug SSH: SOLSTICE_DEBUG_SSH_KEY entry 2: not an OpenSSH public key ("<type> <base64> [comment]", no options); ignored.',
      );
      const stored = (await store.getJob(request.request_id))?.request;
      expect(stored?.["env"]).toEqual({
        SOLSTICE_DEBUG_SSH_KEY:
          "<ssh public key redacted> me@laptop\n<entry 2 dropped: not an OpenSSH public key>",
      });
      expect(JSON.stringify(log.events)).not.toContain("hunter2-by-mistake");
    } finally {
      await debugSsh.releaseAll();
    }
  });
});

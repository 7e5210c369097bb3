import { type JobRequest, newJobRequest } from "@solstice/common";
import { sql } from "kysely";
import ssh2 from "ssh2";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { JobNotFoundError, JobStateError, VmNotFoundError } from "../src/errors.ts";
import type { LogLine } from "../src/persistence/job-records.ts";
import { ALL_LINES, JobStore } from "../src/persistence/job-store.ts";
import { PRIVATE_KEY_REDACTED, PUBLIC_KEY_REDACTED } from "../src/persistence/key-material-filter.ts";
import {
  appliedMigrations,
  knownMigrations,
  migrateTo,
  migrateToLatest,
} from "../src/persistence/migrate.ts";
import { BACKENDS, openTestDatabase, type TestDatabase } from "./persistence-backends.ts";

// The same tests over the real Postgres (a private schema) and PGlite (a temp directory).

function request(overrides: Partial<Parameters<typeof newJobRequest>[0]> = {}): JobRequest {
  return newJobRequest({
    source: "forgejo",
    repo_url: "https://code.example.org/acme/app.git",
    commit_sha: "0123456789abcdef0123456789abcdef01234567",
    runs_on: "ubuntu",
    owner: { kind: "forgejo", instance: "https://code.example.org#runner-1", task_id: "42" },
    steps: [{ name: "build", run: "make" }],
    ...overrides,
  });
}

/** A clock that moves one second per reading, so ordering by time is deterministic. */
function steppingClock(): () => Date {
  let t = Date.parse("2026-03-01T12:00:00Z");
  return () => {
    t += 1000;
    return new Date(t);
  };
}

function lines(requestId: string, seqs: readonly number[], text = (s: number) => `line ${s}`): LogLine[] {
  return seqs.map((seq) => ({
    requestId,
    seq,
    line: 0,
    step: seq % 2 === 0 ? 0 : null,
    stream: seq % 3 === 0 ? "stderr" : "stdout",
    text: text(seq),
    ts: new Date(Date.parse("2026-03-01T12:00:00Z") + seq),
  }));
}

/** Every text value of every column of every table in the current schema that contains `needle`. */
async function findInAllColumns(t: TestDatabase, needles: readonly string[]): Promise<string[]> {
  const columns = await sql<{ table_name: string; column_name: string }>`
    select table_name, column_name from information_schema.columns
    where table_schema = current_schema() order by table_name, column_name`.execute(t.db);
  expect(columns.rows.length).toBeGreaterThan(20);
  const found: string[] = [];
  for (const { table_name, column_name } of columns.rows) {
    for (const needle of needles) {
      const hits = await sql<{ n: number }>`
        select count(*)::int as n from ${sql.table(table_name)}
        where position(${needle} in ${sql.ref(column_name)}::text) > 0`.execute(t.db);
      if ((hits.rows[0]?.n ?? 0) > 0) found.push(`${table_name}.${column_name} contains "${needle}"`);
    }
  }
  return found;
}

describe.each(BACKENDS)("persistence on %s", (backend) => {
  describe("migrations", () => {
    let t: TestDatabase;
    beforeAll(async () => {
      t = await openTestDatabase(backend);
    });
    afterAll(async () => t?.close());

    test("apply in order on an empty database, then are a no-op", async () => {
      expect(await appliedMigrations(t.db)).toEqual([]);
      expect(await migrateToLatest(t.db)).toEqual([
        "0001-jobs",
        "0002-vms",
        "0003-job-logs",
        "0004-job-event-seq",
        "0005-job-log-lines",
        "0006-fleet-hosts",
        "0007-fleet-host-drain",
      ]);
      expect(await migrateToLatest(t.db)).toEqual([]);
      expect(await appliedMigrations(t.db)).toEqual(knownMigrations());
      const tables = await sql<{ table_name: string }>`
        select table_name from information_schema.tables
        where table_schema = current_schema() order by table_name`.execute(t.db);
      expect(tables.rows.map((r) => r.table_name)).toEqual(
        expect.arrayContaining(["job_logs", "jobs", "solstice_orchestrator_migration", "vms"]),
      );
    });

    test("no column anywhere is meant for keys", async () => {
      const cols = await sql<{ column_name: string }>`
        select column_name from information_schema.columns where table_schema = current_schema()`.execute(
        t.db,
      );
      expect(cols.rows.map((r) => r.column_name).filter((c) => /key/i.test(c))).toEqual([]);
    });

    test("0005 splits the lines stored together into one row each, in order, and undoes it", async () => {
      const d = await openTestDatabase(backend);
      try {
        await migrateTo(d.db, "0004-job-event-seq");
        const req = request();
        await new JobStore(d.db).recordAccepted(req, { hostId: "host-a", label: "ubuntu-24.04" });
        const id = req.request_id;
        await sql`insert into job_logs (request_id, seq, step, stream, text, ts) values
          (${id}, 3, 0, 'stdout', ${"a\nb\n\nd"}, now()),
          (${id}, 5, null, 'system', 'alone', now())`.execute(d.db);
        expect(await migrateToLatest(d.db)).toEqual([
          "0005-job-log-lines",
          "0006-fleet-hosts",
          "0007-fleet-host-drain",
        ]);
        const rows = await new JobStore(d.db).getLogs(id);
        expect(rows.map((l) => [l.seq, l.line, l.step, l.text])).toEqual([
          [3, 0, 0, "a"],
          [3, 1, 0, "b"],
          [3, 2, 0, ""],
          [3, 3, 0, "d"],
          [5, 0, null, "alone"],
        ]);
        await migrateTo(d.db, "0004-job-event-seq");
        const back = await sql<{ seq: number; text: string }>`
          select seq, text from job_logs where request_id = ${id} order by seq`.execute(d.db);
        expect(back.rows).toEqual([
          { seq: 3, text: "a\nb\n\nd" },
          { seq: 5, text: "alone" },
        ]);
      } finally {
        await d.close();
      }
    });
  });

  describe("JobStore", () => {
    let t: TestDatabase;
    let store: JobStore;
    beforeAll(async () => {
      t = await openTestDatabase(backend);
      await migrateToLatest(t.db);
      store = new JobStore(t.db, { now: steppingClock(), logRetention: { lines: 10 } });
    });
    afterAll(async () => t?.close());

    test("recordAccepted records the request once per request id", async () => {
      const req = request();
      const first = await store.recordAccepted(req, { hostId: "host-a", label: "ubuntu-24.04" });
      expect(first.created).toBe(true);
      expect(first.job).toMatchObject({
        requestId: req.request_id,
        source: "forgejo",
        repoUrl: req.repo_url,
        commitSha: req.commit_sha,
        runsOn: "ubuntu",
        label: "ubuntu-24.04",
        state: "accepted",
        conclusion: null,
        reason: null,
        hostId: "host-a",
        owner: { kind: "forgejo", instance: "https://code.example.org#runner-1", taskId: "42" },
        requeueable: true,
        stepsStarted: false,
        attempt: 1,
        startedAt: null,
        finishedAt: null,
      });
      expect(first.job.receivedAt).toBeInstanceOf(Date);
      expect(first.job.request).toMatchObject({
        request_id: req.request_id,
        steps: [{ name: "build", run: "make" }],
      });

      const again = await store.recordAccepted(
        { ...req, runs_on: "other" },
        { hostId: "host-b", label: null },
      );
      expect(again.created).toBe(false);
      expect(again.job).toEqual(first.job);
    });

    test("a redelivered request whose job finished is reported as existing, not accepted again", async () => {
      const req = request();
      await store.recordAccepted(req, { hostId: "host-a", label: "ubuntu-24.04" });
      await store.markRunning(req.request_id);
      await store.finish(req.request_id, "success");
      const redelivered = await store.recordAccepted(req, { hostId: "host-a", label: "ubuntu-24.04" });
      expect(redelivered.created).toBe(false);
      expect(redelivered.job.state).toBe("finished");
      expect(redelivered.job.conclusion).toBe("success");
    });

    test("secrets are replaced in the stored request and such a job is not requeueable", async () => {
      const req = request({
        env: { TOKEN: "tok-123", PLAIN: "visible" },
        steps: [
          { name: "deploy", run: "curl -H 'Authorization: tok-123' x", env: { K: "pre-tok-123-post" } },
        ],
        mask: ["tok-123"],
      });
      const { job } = await store.recordAccepted(req, { hostId: "host-a", label: "ubuntu-24.04" });
      expect(job.requeueable).toBe(false);
      expect(job.request["mask"]).toBeUndefined();
      expect(job.request["env"]).toEqual({ TOKEN: "***", PLAIN: "visible" });
      expect(JSON.stringify(job.request)).not.toContain("tok-123");
      const stored = await store.getJob(req.request_id);
      expect(JSON.stringify(stored?.request)).not.toContain("tok-123");
    });

    test("state machine: accepted → running → steps started → finished", async () => {
      const req = request();
      const id = req.request_id;
      await store.recordAccepted(req, { hostId: "host-a", label: "ubuntu-24.04" });
      const running = await store.markRunning(id);
      expect(running.state).toBe("running");
      expect(running.startedAt).toBeInstanceOf(Date);
      expect((await store.markStepsStarted(id)).stepsStarted).toBe(true);
      expect((await store.markStepsStarted(id)).stepsStarted).toBe(true); // idempotent
      const done = await store.finish(id, "failure", "step 0 (build) exited with 2");
      expect(done.applied).toBe(true);
      expect(done.job).toMatchObject({
        state: "finished",
        conclusion: "failure",
        reason: "step 0 (build) exited with 2",
      });
      expect(done.job.finishedAt?.getTime()).toBeGreaterThan(running.startedAt?.getTime() ?? Infinity);

      // The first conclusion stands (a cancel racing the job's own end).
      const late = await store.finish(id, "cancelled", "cancelled by ciadm");
      expect(late.applied).toBe(false);
      expect(late.job.conclusion).toBe("failure");

      await expect(store.markRunning(id)).rejects.toThrow(JobStateError);
      await expect(store.markStepsStarted(id)).rejects.toMatchObject({
        code: "ORCH_JOB_STATE",
        state: "finished",
      });
      await expect(store.requeue(id)).rejects.toThrow(JobStateError);
    });

    test("an accepted job may finish without running (unknown label, cancelled while queued)", async () => {
      const req = request({ runs_on: "plan9" });
      await store.recordAccepted(req, { hostId: "host-a", label: null });
      const done = await store.finish(req.request_id, "failure", 'no image for label "plan9"');
      expect(done.job).toMatchObject({
        state: "finished",
        conclusion: "failure",
        label: null,
        startedAt: null,
      });
      await expect(store.markStepsStarted(req.request_id)).rejects.toThrow(JobStateError);
    });

    test("requeue only before any step started, counting attempts", async () => {
      const a = request();
      await store.recordAccepted(a, { hostId: "host-a", label: "ubuntu-24.04" });
      await store.markRunning(a.request_id);
      const requeued = await store.requeue(a.request_id);
      expect(requeued).toMatchObject({ state: "accepted", attempt: 2, startedAt: null });

      const b = request();
      await store.recordAccepted(b, { hostId: "host-a", label: "ubuntu-24.04" });
      await store.markRunning(b.request_id);
      await store.markStepsStarted(b.request_id);
      await expect(store.requeue(b.request_id)).rejects.toThrow(/steps have started/);
    });

    test("unknown ids: typed errors, or undefined from reads", async () => {
      const unknown = crypto.randomUUID();
      await expect(store.markRunning(unknown)).rejects.toThrow(JobNotFoundError);
      await expect(store.finish(unknown, "success")).rejects.toThrow(JobNotFoundError);
      await expect(store.requeue(unknown)).rejects.toThrow(JobNotFoundError);
      expect(await store.getJob(unknown)).toBeUndefined();
      expect(await store.getJob("not-a-uuid")).toBeUndefined();
      expect(await store.getLogs("not-a-uuid")).toEqual([]);
      await expect(store.updateVm("vm-nope", { pid: 1 })).rejects.toThrow(VmNotFoundError);
      await expect(store.markVmDestroyed("vm-nope")).rejects.toThrow(VmNotFoundError);
    });

    test("the database itself refuses a conclusion on an unfinished job", async () => {
      const req = request();
      await store.recordAccepted(req, { hostId: "host-a", label: "ubuntu-24.04" });
      await expect(
        t.db
          .updateTable("jobs")
          .set({ conclusion: "success" })
          .where("request_id", "=", req.request_id)
          .execute(),
      ).rejects.toThrow(/jobs_conclusion_check/);
    });

    test("VMs: record, update, list for the host, destroy (idempotent)", async () => {
      const host = `host-vm-${crypto.randomUUID()}`;
      const req = request();
      await store.recordAccepted(req, { hostId: host, label: "ubuntu-24.04" });
      const vm = await store.recordVm({
        vmName: `job-${req.request_id}`,
        requestId: req.request_id,
        hostId: host,
        workDir: `/var/lib/solstice/vms/job-${req.request_id}`,
        overlayPath: "/var/lib/solstice/vms/x/overlay.qcow2",
        seedPath: "/var/lib/solstice/vms/x/seed.iso",
      });
      expect(vm).toMatchObject({ state: "preparing", pid: null, sshPort: null, destroyedAt: null });
      const running = await store.updateVm(vm.vmName, { state: "running", pid: 4242, sshPort: 10055 });
      expect(running).toMatchObject({ state: "running", pid: 4242, sshPort: 10055, seedPath: vm.seedPath });
      const until = new Date(Date.parse("2026-03-01T13:00:00Z"));
      expect(await store.updateVm(vm.vmName, { state: "debug_hold", debugUntil: until })).toMatchObject({
        state: "debug_hold",
        debugUntil: until,
      });
      expect((await store.vmsForHost(host)).map((v) => v.vmName)).toEqual([vm.vmName]);
      expect(await store.countVmsByState(host)).toEqual({
        preparing: 0,
        running: 0,
        debug_hold: 1,
        destroyed: 0,
      });

      const destroyed = await store.markVmDestroyed(vm.vmName);
      expect(destroyed).toMatchObject({ state: "destroyed", pid: null, debugUntil: null });
      expect(destroyed.destroyedAt).toBeInstanceOf(Date);
      expect(await store.markVmDestroyed(vm.vmName)).toEqual(destroyed);
      // A destroyed VM is not changed any more.
      expect(await store.updateVm(vm.vmName, { state: "running", pid: 1 })).toEqual(destroyed);
      expect(await store.vmsForHost(host)).toEqual([]);
      expect(await store.vmsForHost(host, { includeDestroyed: true })).toEqual([destroyed]);
      expect(await store.vmsForJob(req.request_id)).toEqual([destroyed]);
    });

    test("logs: batched, ordered, paged, idempotent, pruned to the newest lines", async () => {
      const req = request();
      const id = req.request_id;
      await store.recordAccepted(req, { hostId: "host-a", label: "ubuntu-24.04" });
      // Out of order and with gaps (other events take seq numbers too).
      expect(await store.appendLogs(lines(id, [3, 1, 5, 7]))).toBe(4);
      expect((await store.getLogs(id)).map((l) => l.seq)).toEqual([1, 3, 5, 7]);
      expect(await store.appendLogs(lines(id, [5, 7]))).toBe(0); // replay
      const page = await store.getLogs(id, { after: { seq: 1, line: ALL_LINES }, limit: 2 });
      expect(page.map((l) => [l.seq, l.text])).toEqual([
        [3, "line 3"],
        [5, "line 5"],
      ]);
      expect(page[0]).toMatchObject({ requestId: id, step: null, stream: "stderr" });
      expect(page[1]).toMatchObject({ step: null, stream: "stdout" });

      // Retention is 10 lines: after 8..39 only 30..39 stay.
      const more = Array.from({ length: 32 }, (_, i) => i + 8);
      expect(await store.appendLogs(lines(id, more))).toBe(32);
      expect((await store.getLogs(id)).map((l) => l.seq)).toEqual([30, 31, 32, 33, 34, 35, 36, 37, 38, 39]);
    });

    test("logs: one row per line; retention counts lines; pages start after any line", async () => {
      const req = request();
      const id = req.request_id;
      await store.recordAccepted(req, { hostId: "host-a", label: "ubuntu-24.04" });
      // One event with the 25 lines a step printed together: 25 rows, of which the newest 10 stay.
      const at = new Date("2026-03-01T12:00:00Z");
      const event = (seq: number, texts: readonly string[]): LogLine[] =>
        texts.map((text, line) => ({ requestId: id, seq, line, step: 0, stream: "stdout", text, ts: at }));
      const texts = Array.from({ length: 25 }, (_, i) => `out ${i}`);
      expect(await store.appendLogs(event(4, texts))).toBe(25);
      const kept = await store.getLogs(id);
      expect(kept.map((l) => [l.seq, l.line, l.text])).toEqual(
        Array.from({ length: 10 }, (_, i) => [4, 15 + i, `out ${15 + i}`]),
      );
      expect(await store.logSize(id)).toEqual({ lines: 10, bytes: 10 * "out 15".length });
      // Lines after (4, 17), three at a time; after all of event 4 there is nothing.
      const page = await store.getLogs(id, { after: { seq: 4, line: 17 }, limit: 3 });
      expect(page.map((l) => l.text)).toEqual(["out 18", "out 19", "out 20"]);
      expect(await store.getLogs(id, { after: { seq: 4, line: ALL_LINES } })).toEqual([]);
      // A retried batch changes nothing; the next event's lines come after the event's last line.
      await store.appendLogs(event(4, texts));
      expect(await store.getLogs(id)).toEqual(kept);
      await store.appendLogs(event(6, ["next"]));
      const tail = await store.getLogs(id, { after: { seq: 4, line: 23 } });
      expect(tail.map((l) => [l.seq, l.line, l.text])).toEqual([
        [4, 24, "out 24"],
        [6, 0, "next"],
      ]);
    });

    test("logs: retention counts bytes too, and always keeps the newest line", async () => {
      const small = new JobStore(t.db, { logRetention: { lines: 1_000, bytes: 100 } });
      const req = request();
      const id = req.request_id;
      await small.recordAccepted(req, { hostId: "host-a", label: "ubuntu-24.04" });
      const line = (seq: number, text: string): LogLine => ({
        requestId: id,
        seq,
        line: 0,
        step: null,
        stream: "system",
        text,
        ts: new Date(),
      });
      // 30 lines of 10 bytes: the newest 10 (100 bytes) stay.
      await small.appendLogs(
        Array.from({ length: 30 }, (_, i) => line(i, `line-${String(i).padStart(5, "0")}`)),
      );
      expect((await small.getLogs(id)).map((l) => l.seq)).toEqual([20, 21, 22, 23, 24, 25, 26, 27, 28, 29]);
      // Multi-byte text counts its UTF-8 bytes: 4 lines of 25 bytes (24 + "é" as 2).
      await small.appendLogs(Array.from({ length: 5 }, (_, i) => line(40 + i, `${"x".repeat(23)}é`)));
      expect((await small.getLogs(id)).map((l) => l.seq)).toEqual([41, 42, 43, 44]);
      expect(await small.logSize(id)).toEqual({ lines: 4, bytes: 100 });
      // A line larger than the whole budget is kept alone.
      await small.appendLogs([line(50, "y".repeat(500))]);
      expect((await small.getLogs(id)).map((l) => [l.seq, l.text.length])).toEqual([[50, 500]]);
    });

    test("logs: a large batch for several jobs is inserted in chunks", async () => {
      const big = new JobStore(t.db, { logRetention: { lines: 5_000 } });
      const a = request();
      const b = request();
      await big.recordAccepted(a, { hostId: "host-a", label: "ubuntu-24.04" });
      await big.recordAccepted(b, { hostId: "host-a", label: "ubuntu-24.04" });
      const seqs = Array.from({ length: 2_500 }, (_, i) => i);
      expect(
        await big.appendLogs([...lines(a.request_id, seqs), ...lines(b.request_id, seqs.slice(0, 10))]),
      ).toBe(2_510);
      const all = await big.getLogs(a.request_id, { limit: 10_000 });
      expect(all).toHaveLength(2_500);
      expect(all[2_499]?.text).toBe("line 2499");
      expect(await big.getLogs(b.request_id)).toHaveLength(10);
    });

    test("listJobs filters by state, label and host, newest first, with a limit and a cursor", async () => {
      const host = `host-list-${crypto.randomUUID()}`;
      const ids: string[] = [];
      for (const label of ["ubuntu-24.04", "omnios-bloody", "ubuntu-24.04", "omnios-bloody"]) {
        const req = request();
        ids.push(req.request_id);
        await store.recordAccepted(req, { hostId: host, label });
      }
      await store.markRunning(ids[0]!);
      await store.markRunning(ids[1]!);
      await store.finish(ids[1]!, "success");

      const all = await store.listJobs({ hostId: host });
      expect(all.map((j) => j.requestId)).toEqual([...ids].reverse());
      expect((await store.listJobs({ hostId: host, state: "accepted" })).map((j) => j.requestId)).toEqual([
        ids[3],
        ids[2],
      ]);
      expect((await store.listJobs({ hostId: host, state: "running" })).map((j) => j.requestId)).toEqual([
        ids[0],
      ]);
      expect(
        (await store.listJobs({ hostId: host, label: "omnios-bloody" })).map((j) => j.requestId),
      ).toEqual([ids[3], ids[1]]);
      expect(
        (await store.listJobs({ hostId: host, label: "omnios-bloody", state: "finished" })).map(
          (j) => j.requestId,
        ),
      ).toEqual([ids[1]]);
      const first = await store.listJobs({ hostId: host, limit: 2 });
      expect(first.map((j) => j.requestId)).toEqual([ids[3], ids[2]]);
      const next = await store.listJobs({ hostId: host, limit: 2, before: first[1]?.receivedAt });
      expect(next.map((j) => j.requestId)).toEqual([ids[1], ids[0]]);

      expect((await store.unfinishedForHost(host)).map((j) => j.requestId)).toEqual([ids[0], ids[2], ids[3]]);
      expect(await store.countJobsByState(host)).toEqual({ accepted: 2, running: 1, finished: 1 });
    });

    test("ping answers", async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });

  describe("SSH key material", () => {
    let t: TestDatabase;
    beforeAll(async () => {
      t = await openTestDatabase(backend);
      await migrateToLatest(t.db);
    });
    afterAll(async () => t?.close());

    test("after a typical job no table holds key material, even when a key was printed or passed as a secret", async () => {
      const store = new JobStore(t.db);
      const keys = ssh2.utils.generateKeyPairSync("ed25519");
      const publicKey = keys.public.trim();
      const privateLines = keys.private.trim().split("\n");
      const host = "host-keys";
      const req = request({
        debug_ssh: true,
        env: { DEPLOY_KEY: keys.private },
        mask: [keys.private],
      });
      const id = req.request_id;
      await store.recordAccepted(req, { hostId: host, label: "ubuntu-24.04" });
      await store.markRunning(id);
      const vm = await store.recordVm({
        vmName: `job-${id}`,
        requestId: id,
        hostId: host,
        workDir: `/tmp/job-${id}`,
      });
      await store.updateVm(vm.vmName, { state: "running", pid: 1234, sshPort: 10042 });
      await store.markStepsStarted(id);
      let seq = 0;
      const at = new Date();
      const out = (text: string): LogLine => ({
        requestId: id,
        seq: seq++,
        line: 0,
        step: 0,
        stream: "stdout",
        text,
        ts: at,
      });
      // A step that prints its authorized_keys and a private key, split over two batches.
      await store.appendLogs([
        out("hello"),
        out(`authorized: ${publicKey} solstice@job`),
        ...privateLines.slice(0, 3).map(out),
      ]);
      await store.appendLogs([...privateLines.slice(3).map(out), out("after the key")]);
      // The debug SSH connection line, as it reaches the log.
      await store.appendLogs([out(`debug ssh: ssh -p 10042 root@127.0.0.1 (key ${publicKey})`)]);
      await store.updateVm(vm.vmName, { state: "debug_hold", debugUntil: new Date(Date.now() + 1_800_000) });
      await store.finish(id, "failure", "step 0 exited with 1");
      await store.markVmDestroyed(vm.vmName);

      const needles = ["ssh-ed25519", "PRIVATE KEY", publicKey.split(/\s+/)[1]!, privateLines[1]!];
      expect(await findInAllColumns(t, needles)).toEqual([]);

      const stored = (await store.getLogs(id)).map((l) => l.text);
      expect(stored[0]).toBe("hello");
      expect(stored[1]).toBe(`authorized: ${PUBLIC_KEY_REDACTED} solstice@job`);
      expect(stored.slice(2, 2 + privateLines.length)).toEqual(privateLines.map(() => PRIVATE_KEY_REDACTED));
      expect(stored[2 + privateLines.length]).toBe("after the key");

      // The scan itself finds material when there is some (so the check above can fail).
      await sql`insert into job_logs (request_id, seq, step, stream, text, ts)
        values (${id}, 100000, null, 'system', ${`planted ${publicKey}`}, now())`.execute(t.db);
      expect(await findInAllColumns(t, ["ssh-ed25519"])).toEqual(['job_logs.text contains "ssh-ed25519"']);
    });
  });
});

import {
  ApiErrorBodySchema,
  EventSequencer,
  JobDetailSchema,
  JobListSchema,
  type JobRequest,
  LogPageSchema,
  newJobRequest,
} from "@solstice/common";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { buildApp, type HttpApiDeps, listenHttpApi } from "../src/http/build-app.ts";
import { OrchestratorMetrics } from "../src/http/orchestrator-metrics.ts";
import type { LogLine } from "../src/persistence/job-records.ts";
import { JobStore } from "../src/persistence/job-store.ts";
import { migrateToLatest } from "../src/persistence/migrate.ts";
import { parseCapacityMap } from "../src/scheduling/capacity-map.ts";
import { CapacityScheduler } from "../src/scheduling/capacity-scheduler.ts";
import { JobEventRecorder } from "../src/service/job-event-recorder.ts";
import { type BackendName, openTestDatabase, type TestDatabase } from "./persistence-backends.ts";

// The HTTP API tests, shared by http.test.ts (PGlite) and http.int.test.ts (real Postgres).

const TOKEN = "test-token-0123456789abcdef";
const auth = { authorization: `Bearer ${TOKEN}` };

interface ParsedEvent {
  id?: string;
  event?: string;
  data: string;
}

/** Parses a text/event-stream body into events (comments skipped). */
export function parseSse(body: string): ParsedEvent[] {
  const events: ParsedEvent[] = [];
  for (const block of body.split("\n\n")) {
    if (block.trim() === "") continue;
    const e: ParsedEvent = { data: "" };
    const data: string[] = [];
    let any = false;
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) continue;
      const [field, ...rest] = line.split(": ");
      const value = rest.join(": ");
      any = true;
      if (field === "id") e.id = value;
      else if (field === "event") e.event = value;
      else if (field === "data") data.push(value);
    }
    if (!any) continue;
    e.data = data.join("\n");
    events.push(e);
  }
  return events;
}

export function describeHttpApi(backend: BackendName): void {
  describe(`HTTP API over ${backend}`, () => {
    let t: TestDatabase;
    let store: JobStore;
    let app: FastifyInstance;
    let brokerUp = true;
    let capacityFails = false;
    const cancels: [string, string][] = [];
    const host = `host-http-${backend}`;
    const scheduler = new CapacityScheduler<{ label: string }>({
      global: 2,
      perLabel: parseCapacityMap("ubuntu-24.04=2"),
    });
    const metrics = new OrchestratorMetrics();
    let deps: HttpApiDeps;

    const accept = async (
      fields: Partial<Parameters<typeof newJobRequest>[0]> = {},
      label = "ubuntu-24.04",
    ) => {
      const req: JobRequest = newJobRequest({
        source: "manual",
        repo_url: "https://example.org/r.git",
        commit_sha: "abc123",
        ...fields,
      });
      await store.recordAccepted(req, { hostId: host, label });
      return req.request_id;
    };
    const logs = (id: string, seqs: number[]): LogLine[] =>
      seqs.map((seq) => ({
        requestId: id,
        seq,
        line: 0,
        step: 0,
        stream: "stdout",
        text: `out ${seq}`,
        ts: new Date(),
      }));

    beforeAll(async () => {
      t = await openTestDatabase(backend);
      await migrateToLatest(t.db);
      store = new JobStore(t.db);
      deps = {
        store,
        hostId: host,
        cancel: async (id, reason) => {
          cancels.push([id, reason]);
        },
        probes: {
          database: () => store.ping(),
          broker: async () => {
            if (!brokerUp) throw new Error("connection refused (127.0.0.1:5672)");
          },
        },
        capacity: () => {
          if (capacityFails) throw new Error("boom");
          return scheduler.inUse();
        },
        metrics,
        token: TOKEN,
        followPollMs: 20,
        followKeepAliveMs: 60_000,
        probeTimeoutMs: 200,
      };
      app = await buildApp(deps);
    });
    afterAll(async () => {
      await app?.close();
      await t?.close();
    });

    test("/healthz is open; every other route needs the bearer token", async () => {
      expect((await app.inject({ url: "/healthz" })).json()).toEqual({ status: "ok" });
      for (const url of ["/readyz", "/metrics", "/v1/jobs", `/v1/jobs/${crypto.randomUUID()}`]) {
        const none = await app.inject({ url });
        expect(none.statusCode, url).toBe(401);
        expect(none.json()).toEqual({
          error: { code: "UNAUTHORIZED", message: "missing or wrong bearer token" },
        });
        expect(none.headers["www-authenticate"]).toMatch(/^Bearer/);
        const wrong = await app.inject({ url, headers: { authorization: `Bearer ${TOKEN}x` } });
        expect(wrong.statusCode, url).toBe(401);
        const basic = await app.inject({ url, headers: { authorization: `Basic ${TOKEN}` } });
        expect(basic.statusCode, url).toBe(401);
      }
      expect((await app.inject({ url: "/v1/jobs", headers: auth })).statusCode).toBe(200);
    });

    test("without a token configured, the API is open", async () => {
      const open = await buildApp({ ...deps, token: undefined });
      expect((await open.inject({ url: "/v1/jobs" })).statusCode).toBe(200);
      await open.close();
    });

    test("/readyz reports each dependency", async () => {
      const ok = await app.inject({ url: "/readyz", headers: auth });
      expect(ok.statusCode).toBe(200);
      expect(ok.json()).toEqual({ status: "ready", checks: { database: "ok", broker: "ok" } });
      brokerUp = false;
      const down = await app.inject({ url: "/readyz", headers: auth });
      brokerUp = true;
      expect(down.statusCode).toBe(503);
      expect(down.json()).toEqual({
        status: "not ready",
        checks: { database: "ok", broker: "connection refused (127.0.0.1:5672)" },
      });
      const hanging = await buildApp({
        ...deps,
        probes: { ...deps.probes, database: () => new Promise(() => {}) },
      });
      const slow = await hanging.inject({ url: "/readyz", headers: auth });
      expect(slow.statusCode).toBe(503);
      expect(slow.json().checks.database).toBe("no answer within 200 ms");
      await hanging.close();
    });

    test("/metrics: jobs and VMs by state, capacity per label, duration histograms", async () => {
      const a = await accept();
      await accept();
      await store.markRunning(a);
      await store.recordVm({
        vmName: `vm-${a}`,
        requestId: a,
        hostId: host,
        workDir: "/tmp/x",
        state: "running",
        pid: 1,
      });
      scheduler.enqueue({ label: "ubuntu-24.04" });
      scheduler.next();
      scheduler.enqueue({ label: "omnios" });
      metrics.observeJob({ label: "ubuntu-24.04", conclusion: "success", seconds: 42 });
      metrics.observeBoot({ label: "ubuntu-24.04", seconds: 3.5 });
      const res = await app.inject({ url: "/metrics", headers: auth });
      expect(res.statusCode).toBe(200);
      expect(res.headers["content-type"]).toBe("text/plain; version=0.0.4; charset=utf-8");
      const body = res.body;
      expect(body).toContain("# TYPE solstice_jobs gauge");
      expect(body).toMatch(/^solstice_jobs\{state="accepted"\} 1$/m);
      expect(body).toMatch(/^solstice_jobs\{state="running"\} 1$/m);
      expect(body).toMatch(/^solstice_jobs\{state="finished"\} 0$/m);
      expect(body).toMatch(/^solstice_vms\{state="running"\} 1$/m);
      expect(body).toMatch(/^solstice_vms_running 1$/m);
      expect(body).toMatch(/^solstice_capacity_in_use\{label="ubuntu-24.04"\} 1$/m);
      expect(body).toMatch(/^solstice_capacity_limit\{label="ubuntu-24.04"\} 2$/m);
      expect(body).toMatch(/^solstice_capacity_limit\{label="omnios"\} 1$/m);
      expect(body).toMatch(/^solstice_jobs_waiting\{label="omnios"\} 1$/m);
      expect(body).toMatch(/^solstice_capacity_global_limit 2$/m);
      expect(body).toContain("# TYPE solstice_job_duration_seconds histogram");
      expect(body).toMatch(
        /^solstice_job_duration_seconds_bucket\{label="ubuntu-24.04",conclusion="success",le="30"\} 0$/m,
      );
      expect(body).toMatch(
        /^solstice_job_duration_seconds_bucket\{label="ubuntu-24.04",conclusion="success",le="60"\} 1$/m,
      );
      expect(body).toMatch(
        /^solstice_job_duration_seconds_count\{label="ubuntu-24.04",conclusion="success"\} 1$/m,
      );
      expect(body).toMatch(/^solstice_vm_boot_duration_seconds_sum\{label="ubuntu-24.04"\} 3.5$/m);
    });

    test("GET /v1/jobs filters, pages and validates its query", async () => {
      const label = `lbl-${crypto.randomUUID().slice(0, 8)}`;
      const ids = [await accept({}, label), await accept({}, label), await accept({}, label)];
      await store.markRunning(ids[1]!);
      const all = await app.inject({ url: `/v1/jobs?label=${label}`, headers: auth });
      expect(all.statusCode).toBe(200);
      // The answer is the contract clients parse (common's schemas), field for field.
      expect(JobListSchema.parse(all.json())).toEqual(all.json());
      expect(
        all
          .json()
          .jobs.map((j: { request_id: string }) => j.request_id)
          .sort(),
      ).toEqual([...ids].sort());
      const running = await app.inject({ url: `/v1/jobs?label=${label}&state=running`, headers: auth });
      expect(running.json().jobs).toHaveLength(1);
      expect(running.json().jobs[0]).toMatchObject({
        request_id: ids[1],
        state: "running",
        label,
        host_id: host,
        source: "manual",
        conclusion: null,
        steps_started: false,
        attempt: 1,
      });
      expect(running.json().jobs[0].started_at).toMatch(/^\d{4}-\d\d-\d\dT.*Z$/);
      expect(running.json().next_before).toBeNull();
      const page = await app.inject({ url: `/v1/jobs?label=${label}&limit=2`, headers: auth });
      expect(page.json().jobs).toHaveLength(2);
      const next = await app.inject({
        url: `/v1/jobs?label=${label}&limit=2&before=${encodeURIComponent(page.json().next_before)}`,
        headers: auth,
      });
      const seen = [...page.json().jobs, ...next.json().jobs].map(
        (j: { request_id: string }) => j.request_id,
      );
      expect(new Set(seen).size).toBe(3);
      expect(
        (await app.inject({ url: `/v1/jobs?host=${host}&label=${label}`, headers: auth })).json().jobs,
      ).toHaveLength(3);
      expect(
        (await app.inject({ url: `/v1/jobs?host=elsewhere&label=${label}`, headers: auth })).json().jobs,
      ).toHaveLength(0);

      for (const [query, fragment] of [
        ["state=bogus", "querystring: state:"],
        ["limit=0", "querystring: limit:"],
        ["limit=abc", "querystring: limit:"],
        ["before=yesterday", "querystring: before:"],
        ["colour=blue", "querystring: "],
      ] as const) {
        const bad = await app.inject({ url: `/v1/jobs?${query}`, headers: auth });
        expect(bad.statusCode, query).toBe(400);
        expect(bad.json().error.code, query).toBe("INVALID_REQUEST");
        expect(bad.json().error.message.startsWith(fragment), `${query}: ${bad.json().error.message}`).toBe(
          true,
        );
      }
    });

    test("GET /v1/jobs/:id shows the job, its redacted request and its VMs", async () => {
      const id = await accept({ env: { TOKEN: "hunter2-secret" }, mask: ["hunter2-secret"] });
      await store.recordVm({
        vmName: `vm-${id}`,
        requestId: id,
        hostId: host,
        workDir: "/tmp/y",
        sshPort: 10033,
      });
      const res = await app.inject({ url: `/v1/jobs/${id.toUpperCase()}`, headers: auth });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(JobDetailSchema.safeParse(body).success).toBe(true);
      expect(body).toMatchObject({ request_id: id, state: "accepted", request: { env: { TOKEN: "***" } } });
      expect(body.vms).toEqual([
        expect.objectContaining({ vm_name: `vm-${id}`, state: "preparing", ssh_port: 10033, pid: null }),
      ]);
      expect(res.body).not.toContain("hunter2");

      const unknown = await app.inject({ url: `/v1/jobs/${crypto.randomUUID()}`, headers: auth });
      expect(unknown.statusCode).toBe(404);
      expect(ApiErrorBodySchema.parse(unknown.json()).error.code).toBe("JOB_NOT_FOUND");
      const bad = await app.inject({ url: "/v1/jobs/not-a-uuid", headers: auth });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error).toEqual({
        code: "INVALID_REQUEST",
        message: "params: id: expected a request id (UUID)",
      });
    });

    test("GET /v1/jobs/:id/logs pages through stored lines", async () => {
      const id = await accept();
      await store.appendLogs(logs(id, [0, 2, 3, 5]));
      const first = await app.inject({ url: `/v1/jobs/${id}/logs?limit=2`, headers: auth });
      expect(first.statusCode).toBe(200);
      expect(LogPageSchema.parse(first.json())).toEqual(first.json());
      expect(first.json()).toMatchObject({
        request_id: id,
        state: "accepted",
        next_after_seq: 2,
        lines: [
          { seq: 0, step: 0, stream: "stdout", text: "out 0" },
          { seq: 2, step: 0, stream: "stdout", text: "out 2" },
        ],
      });
      const rest = await app.inject({ url: `/v1/jobs/${id}/logs?after_seq=2`, headers: auth });
      expect(rest.json().lines.map((l: { seq: number }) => l.seq)).toEqual([3, 5]);
      const none = await app.inject({ url: `/v1/jobs/${id}/logs?after_seq=5`, headers: auth });
      expect(none.json()).toMatchObject({ lines: [], next_after_seq: 5 });
      expect(
        (await app.inject({ url: `/v1/jobs/${crypto.randomUUID()}/logs`, headers: auth })).statusCode,
      ).toBe(404);
      expect((await app.inject({ url: `/v1/jobs/${id}/logs?follow=maybe`, headers: auth })).statusCode).toBe(
        400,
      );
    });

    test("a job's log keeps its newest 10,000 lines, however its events group them; pages count lines", async () => {
      const id = await accept();
      await store.markRunning(id);
      // 30 events of 500 lines each (a busy step): 15,000 lines in 30 events.
      const recorder = new JobEventRecorder({ store, publish: async () => {} });
      const sequencer = new EventSequencer(id);
      const text = (e: number) => Array.from({ length: 500 }, (_, i) => `e${e} l${i}`).join("\n");
      for (let e = 0; e < 30; e++) {
        await recorder.sink(sequencer.next({ type: "log", step: 0, stream: "stdout", text: text(e) }));
      }
      await recorder.close();
      const linesOf = (page: { lines: { text: string }[] }) => page.lines.flatMap((l) => l.text.split("\n"));

      const all = LogPageSchema.parse(
        (await app.inject({ url: `/v1/jobs/${id}/logs?limit=10000`, headers: auth })).json(),
      );
      expect(linesOf(all)).toHaveLength(10_000);
      expect(linesOf(all)[0]).toBe("e10 l0");
      expect(linesOf(all).at(-1)).toBe("e29 l499");
      expect(all.has_more).toBe(false);

      // A page of 3 lines, then the next 2 from where it stopped, inside one event.
      const first = LogPageSchema.parse(
        (await app.inject({ url: `/v1/jobs/${id}/logs?limit=3`, headers: auth })).json(),
      );
      expect(linesOf(first)).toEqual(["e10 l0", "e10 l1", "e10 l2"]);
      expect(first).toMatchObject({ has_more: true, next_after_seq: 10, next_after_line: 2 });
      const next = await app.inject({
        url: `/v1/jobs/${id}/logs?after_seq=${first.next_after_seq}&after_line=${first.next_after_line}&limit=2`,
        headers: auth,
      });
      expect(next.headers["content-type"]).toBe("application/json; charset=utf-8");
      expect(linesOf(LogPageSchema.parse(next.json()))).toEqual(["e10 l3", "e10 l4"]);
      const lineWithoutSeq = await app.inject({ url: `/v1/jobs/${id}/logs?after_line=2`, headers: auth });
      expect(lineWithoutSeq.statusCode).toBe(400);
      expect(lineWithoutSeq.json().error.message).toMatch(/after_line needs after_seq/);
    });

    test("?follow=1 streams lines as server-sent events until the job finishes", async () => {
      const id = await accept();
      await store.markRunning(id);
      await store.appendLogs(logs(id, [0, 1]));
      const pending = app.inject({ url: `/v1/jobs/${id}/logs?follow=1`, headers: auth });
      // The job goes on while the client follows: more lines, then the end.
      await new Promise((r) => setTimeout(r, 100));
      await store.appendLogs(logs(id, [2, 4]));
      await new Promise((r) => setTimeout(r, 100));
      await store.appendLogs(logs(id, [5]));
      await store.finish(id, "success");
      const res = await pending;
      expect(res.statusCode).toBe(200);
      expect(res.headers["content-type"]).toBe("text/event-stream; charset=utf-8");
      const events = parseSse(res.body);
      expect(events.filter((e) => e.event === "log").map((e) => e.id)).toEqual([
        "0.0",
        "1.0",
        "2.0",
        "4.0",
        "5.0",
      ]);
      expect(JSON.parse(events[0]!.data)).toMatchObject({ seq: 0, step: 0, stream: "stdout", text: "out 0" });
      expect(events[events.length - 1]).toEqual({
        event: "end",
        data: JSON.stringify({ state: "finished", conclusion: "success", reason: null }),
      });
    });

    test("a follower reconnecting with Last-Event-ID resumes after it; a finished job ends at once", async () => {
      const id = await accept();
      await store.appendLogs(logs(id, [0, 1, 2, 3]));
      await store.finish(id, "failure", "step 0 exited with 1");
      const res = await app.inject({
        url: `/v1/jobs/${id}/logs?follow=1`,
        headers: { ...auth, "last-event-id": "1" },
      });
      const events = parseSse(res.body);
      // A bare seq (an older client's id) resumes after every line of that event.
      expect(events.map((e) => e.id ?? e.event)).toEqual(["2.0", "3.0", "end"]);
      expect(JSON.parse(events[2]!.data)).toEqual({
        state: "finished",
        conclusion: "failure",
        reason: "step 0 exited with 1",
      });
    });

    test("POST /v1/jobs/:id/cancel: 202 for an unfinished job, 409 when finished, 404 when unknown", async () => {
      const id = await accept();
      await store.markRunning(id);
      const res = await app.inject({ method: "POST", url: `/v1/jobs/${id}/cancel`, headers: auth });
      expect(res.statusCode).toBe(202);
      expect(res.json()).toEqual({
        request_id: id,
        state: "cancelling",
        reason: "cancelled through the orchestrator's HTTP API",
      });
      const withReason = await app.inject({
        method: "POST",
        url: `/v1/jobs/${id}/cancel`,
        headers: auth,
        payload: { reason: "wrong commit" },
      });
      expect(withReason.statusCode).toBe(202);
      expect(cancels.slice(-2)).toEqual([
        [id, "cancelled through the orchestrator's HTTP API"],
        [id, "wrong commit"],
      ]);

      await store.finish(id, "cancelled", "wrong commit");
      const done = await app.inject({ method: "POST", url: `/v1/jobs/${id}/cancel`, headers: auth });
      expect(done.statusCode).toBe(409);
      expect(done.json().error).toEqual({
        code: "JOB_FINISHED",
        message: `job ${id} already finished (cancelled)`,
      });

      const unknown = await app.inject({
        method: "POST",
        url: `/v1/jobs/${crypto.randomUUID()}/cancel`,
        headers: auth,
      });
      expect(unknown.statusCode).toBe(404);
      const bad = await app.inject({
        method: "POST",
        url: `/v1/jobs/${id}/cancel`,
        headers: auth,
        payload: { reason: 42 },
      });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error.message).toMatch(/^body: reason:/);
      expect(cancels).toHaveLength(2);
    });

    test("unknown routes and internal failures answer with JSON errors", async () => {
      const missing = await app.inject({ url: "/v2/nothing?x=1", headers: auth });
      expect(missing.statusCode).toBe(404);
      expect(missing.json()).toEqual({ error: { code: "NOT_FOUND", message: "no route GET /v2/nothing" } });
      capacityFails = true;
      const broken = await app.inject({ url: "/metrics", headers: auth });
      capacityFails = false;
      expect(broken.statusCode).toBe(500);
      expect(broken.json()).toEqual({
        error: { code: "INTERNAL", message: "internal error; see the orchestrator's log" },
      });
    });

    test("listenHttpApi serves on loopback; a streaming client may leave early", async () => {
      const served = await buildApp({ ...deps, token: undefined });
      const { url, port } = await listenHttpApi(served, { host: "127.0.0.1", port: 0 });
      try {
        expect(port).toBeGreaterThan(0);
        expect(url).toBe(`http://127.0.0.1:${port}`);
        expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: "ok" });
        const id = await accept();
        await store.appendLogs(logs(id, [0]));
        const abort = new AbortController();
        const res = await fetch(`${url}/v1/jobs/${id}/logs?follow=1`, { signal: abort.signal });
        const reader = res.body!.getReader();
        const { value } = await reader.read();
        expect(new TextDecoder().decode(value)).toContain("id: 0.0\nevent: log\n");
        abort.abort();
        // The server is still fine after the client left.
        expect((await fetch(`${url}/v1/jobs/${id}`)).status).toBe(200);
      } finally {
        await served.close();
      }
    });
  });
}

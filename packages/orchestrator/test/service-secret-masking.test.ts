import type { Writable } from "node:stream";
import { createLogger, type JobEvent, type JobRequest, newJobRequest } from "@solstice/common";
import { eventually } from "@solstice/test-support";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { buildApp } from "../src/http/build-app.ts";
import { OrchestratorMetrics } from "../src/http/orchestrator-metrics.ts";
import { type LocalService, startLocalService } from "./local-service.ts";

// No secret leaves the orchestrator in clear: a masked value (JobRequest `mask`) or a URL's
// credentials (`https://oauth2:<token>@host/...`) in what the job fails with must not reach the
// job's row (reason, repo URL, stored request), its stored log, its events, the HTTP API, or the
// service's own log lines. The job flow runs as the service wires it (in-process queue, PGlite,
// the `local` hypervisor), logging through the service's own logger (common's createLogger).

const SECRET = "s3cr3t-value-4711";
const TOKEN = "tok-9f2c1d7e5b3a";

let service: LocalService;
let app: FastifyInstance;
const logLines: string[] = [];

beforeAll(async () => {
  const destination = { write: (line: string) => logLines.push(line) } as unknown as Writable;
  const logger = createLogger({ service: "solstice-orchestrator", level: "debug", destination });
  service = await startLocalService({ logger });
  app = await buildApp({
    store: service.store,
    hostId: service.hostId,
    cancel: async () => undefined,
    probes: { database: async () => undefined, broker: async () => undefined },
    capacity: () => ({ inUse: 0, limit: 2, queued: 0, labels: {} }),
    metrics: new OrchestratorMetrics(),
  });
}, 120_000);

afterAll(async () => {
  await app?.close();
  await service?.stop();
}, 60_000);

function request(fields: Partial<JobRequest>): JobRequest {
  return newJobRequest({
    source: "manual",
    repo_url: "file:///nonexistent",
    commit_sha: "0123456789abcdef0123456789abcdef01234567",
    workspace_checkout: false,
    owner: service.owner,
    ...fields,
  });
}

/** Everything that left the service about the job, as text. */
async function everythingAbout(
  requestId: string,
  events: readonly JobEvent[],
): Promise<Record<string, string>> {
  await eventually(
    `job ${requestId} recorded finished`,
    async () => (await service.store.getJob(requestId))?.state === "finished",
    10_000,
  );
  const row = await service.store.getJob(requestId);
  const stored = await service.store.getLogs(requestId);
  const api = await app.inject({ method: "GET", url: `/v1/jobs/${requestId}` });
  const list = await app.inject({ method: "GET", url: "/v1/jobs" });
  const logs = await app.inject({ method: "GET", url: `/v1/jobs/${requestId}/logs` });
  return {
    events: JSON.stringify(events),
    row: JSON.stringify(row),
    "stored log": JSON.stringify(stored),
    "GET /v1/jobs/:id": api.body,
    "GET /v1/jobs": list.body,
    "GET /v1/jobs/:id/logs": logs.body,
    "service log": logLines.filter((line) => line.includes(requestId)).join(""),
  };
}

describe("secrets in what the orchestrator stores, publishes, serves and logs", () => {
  test("a masked value in a failing step's command is masked in the reason everywhere", async () => {
    const req = request({
      steps: [{ run: `echo ${SECRET} >/dev/null; exit 3` }],
      mask: [SECRET],
    });
    await service.queue.publishJob(req);
    const events = await service.events.finished(req.request_id, 30_000);
    const finished = events.at(-1);
    expect(finished).toMatchObject({ type: "job_finished", conclusion: "failure" });
    expect(finished?.type === "job_finished" && finished.reason).toBe(
      'step "echo *** >/dev/null; exit 3" exited with 3',
    );
    const row = await service.store.getJob(req.request_id);
    expect(row?.reason).toBe('step "echo *** >/dev/null; exit 3" exited with 3');
    const seen = await everythingAbout(req.request_id, events);
    expect(seen["service log"]).toContain("job finished");
    for (const [where, text] of Object.entries(seen)) {
      expect(text.includes(SECRET), `${SECRET} in ${where}: ${text}`).toBe(false);
    }
  });

  test("credentials in repo_url are neither stored nor printed when the checkout fails", async () => {
    const repoUrl = `http://oauth2:${TOKEN}@127.0.0.1:9/owner/repo.git`;
    const req = request({ repo_url: repoUrl, workspace_checkout: true, steps: [{ run: "true" }] });
    await service.queue.publishJob(req);
    const events = await service.events.finished(req.request_id, 30_000);
    const finished = events.at(-1);
    expect(finished).toMatchObject({ type: "job_finished", conclusion: "failure" });
    expect(finished?.type === "job_finished" && finished.reason).toMatch(
      /^checkout of http:\/\/\*\*\*@127\.0\.0\.1:9\/owner\/repo\.git at 0123456789abcdef/,
    );
    const row = await service.store.getJob(req.request_id);
    expect(row?.repoUrl).toBe("http://127.0.0.1:9/owner/repo.git");
    expect(row?.request["repo_url"]).toBe("http://127.0.0.1:9/owner/repo.git");
    // The stored request is not what ran (its credentials are gone): a restart must not run it again.
    expect(row?.requeueable).toBe(false);
    const seen = await everythingAbout(req.request_id, events);
    expect(seen["stored log"]).toContain("checkout of http://***@127.0.0.1:9/owner/repo.git");
    for (const [where, text] of Object.entries(seen)) {
      expect(text.includes(TOKEN), `${TOKEN} in ${where}: ${text}`).toBe(false);
    }
  });
});

import { newJobRequest, SPAN_ATTRIBUTES, startTracing, type Tracing } from "@solstice/common";
import { childrenOf, drawTree, OtlpReceiver } from "@solstice/test-support";
import { afterAll, beforeAll, expect, test } from "vitest";
import { type LocalService, REMOTE_LABEL, startLocalService } from "./local-service.ts";

// A job whose image is not on the host: its trace has an `image fetch` span under the job, with
// the bytes the fetch reported and the fetch's error, before any VM. The spans go through the
// OTLP/HTTP exporter to an in-process receiver, as a collector would get them.

let otlp: OtlpReceiver;
let tracing: Tracing | undefined;
let service: LocalService;

beforeAll(async () => {
  otlp = await OtlpReceiver.start();
  tracing = startTracing({
    serviceName: "solstice-orchestrator",
    env: otlp.exporterEnv(50),
  });
  service = await startLocalService({
    ensureImage: async (image, _progress, onBytes) => {
      onBytes?.(4096);
      throw new Error(`cannot fetch ${image.source}: the connection was reset`);
    },
  });
}, 120_000);

afterAll(async () => {
  await service?.stop();
  await tracing?.shutdown();
  await otlp?.close();
}, 60_000);

test("an image fetch is a span of the job, with its bytes and its error", async () => {
  const req = newJobRequest({
    source: "manual",
    repo_url: "file:///nonexistent",
    commit_sha: "0123456789abcdef0123456789abcdef01234567",
    workspace_checkout: false,
    owner: service.owner,
    runs_on: REMOTE_LABEL,
    steps: [{ run: "echo never" }],
  });
  await service.queue.publishJob(req);
  const events = await service.events.finished(req.request_id, 30_000);
  expect(events.at(-1)).toMatchObject({ type: "job_finished", conclusion: "failure" });
  await tracing?.shutdown();
  tracing = undefined;

  const job = otlp.spans.find(
    (s) => s.name === "orchestrator job" && s.attributes[SPAN_ATTRIBUTES.requestId] === req.request_id,
  );
  if (job === undefined) throw new Error(`no job span:\n${drawTree(otlp.spans)}`);
  const fetch = childrenOf(otlp.trace(job.traceId), job).find((s) => s.name === "image fetch");
  expect(fetch, drawTree(otlp.trace(job.traceId))).toBeDefined();
  expect(fetch?.attributes).toMatchObject({
    [SPAN_ATTRIBUTES.label]: REMOTE_LABEL,
    [SPAN_ATTRIBUTES.image]: "https://images.invalid/remote.img",
    [SPAN_ATTRIBUTES.imageBytes]: 4096,
  });
  expect(fetch?.statusCode).toBe(2);
  expect(childrenOf(otlp.trace(job.traceId), job).some((s) => s.name === "vm prepare")).toBe(false);
});

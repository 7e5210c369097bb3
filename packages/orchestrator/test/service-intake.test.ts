import { readdir } from "node:fs/promises";
import { type DeadLetter, type JobRequest, jsonMessage, newJobRequest } from "@solstice/common";
import { eventually } from "@solstice/test-support";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type LocalService, startLocalService } from "./local-service.ts";

// What the service refuses when it takes a request from the queue, before anything is recorded or
// booted: requests over the host's limits (steps, a step's script, env entries, the message's
// size) and requests no VM could run (a commit id that is not one, variable names a shell cannot
// export). Each is dead-lettered with a reason that names the field and the limit, and its owner
// is told (but for a message too large to read), so a forge does not wait for it forever.

let service: LocalService;
const LIMITS = { maxSteps: 3, maxStepScriptBytes: 64, maxEnvEntries: 2, maxRequestBytes: 16 * 1024 };

beforeAll(async () => {
  service = await startLocalService({ limits: LIMITS });
}, 120_000);

afterAll(async () => {
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

async function deadLetter(messageId: string): Promise<DeadLetter> {
  let found: DeadLetter | undefined;
  await eventually(
    `request ${messageId} dead-lettered`,
    async () => {
      found = (await service.queue.deadLetters.list()).find((d) => d.messageId === messageId);
      return found !== undefined;
    },
    20_000,
  );
  return found as DeadLetter;
}

/** The request was refused at intake: dead-lettered with `reason`, the owner told, nothing else. */
async function expectRefused(req: JobRequest, reason: string): Promise<void> {
  const letter = await deadLetter(req.request_id);
  expect(letter.code).toBe("ORCH_JOB_REQUEST_REFUSED");
  expect(letter.reason).toBe(`job request ${req.request_id} refused: ${reason}`);
  const events = await service.events.finished(req.request_id, 20_000);
  expect(events.map((e) => e.type)).toEqual(["log", "job_finished"]);
  expect(events[0]).toMatchObject({
    seq: 0,
    stream: "system",
    text: `Solstice CI refused this job: ${reason}`,
  });
  expect(events[1]).toMatchObject({
    seq: 1,
    conclusion: "failure",
    reason: `job request refused: ${reason}`,
  });
  expect(await service.store.getJob(req.request_id)).toBeUndefined();
  expect(await service.store.vmsForJob(req.request_id)).toEqual([]);
  expect(await readdir(service.vmDir).catch(() => [])).toEqual([]);
}

describe("requests refused at intake", () => {
  test("more steps than a job may have", async () => {
    const req = request({ steps: Array.from({ length: 4 }, (_, i) => ({ run: `echo ${i}` })) });
    await service.queue.publishJob(req);
    await expectRefused(req, "steps: 4 steps, more than the 3 a job may have");
  });

  test("a step's script too large, an env with too many variables: each named", async () => {
    const req = request({
      env: { A: "1", B: "2", C: "3" },
      steps: [
        { run: "echo ok", env: { X: "1", Y: "2", Z: "3" } },
        { run: `echo ${"é".repeat(30)}` }, // 65 bytes: 5 + 2 × 30
      ],
    });
    await service.queue.publishJob(req);
    await expectRefused(
      req,
      "env: 3 variables, more than the 2 an env may have; " +
        "steps[0].env: 3 variables, more than the 2 an env may have; " +
        "steps[1].run: 65 bytes, more than the 64 a step's script may have",
    );
  });

  test("a commit id that is not one, and variable names no shell can export", async () => {
    const req = request({
      commit_sha: "main",
      env: { "MY-VAR": "1", OK_NAME: "2" },
      steps: [{ run: "true", env: { "1ST": "x" } }],
    });
    await service.queue.publishJob(req);
    await expectRefused(
      req,
      "commit_sha: expected a commit id: 4 to 64 hexadecimal digits (a full SHA-1 or SHA-256 id, or an abbreviation), got 4 characters with some that are not hexadecimal; " +
        'env: "MY-VAR" is not a valid shell variable name (letters, digits and _, not starting with a digit); ' +
        'steps[0].env: "1ST" is not a valid shell variable name (letters, digits and _, not starting with a digit)',
    );
  });

  test("a message larger than MAX_JOB_REQUEST_BYTES is dead-lettered without being read", async () => {
    const req = request({ steps: [{ run: "true" }], labels: ["x".repeat(20 * 1024)] });
    await service.queue.publishJob(req);
    const letter = await deadLetter(req.request_id);
    expect(letter.code).toBe("MESSAGE_TOO_LARGE");
    const size = jsonMessage(req, { exchange: "", routingKey: "", messageId: "", schema: "" }).body.length;
    expect(letter.reason).toBe(
      `JobRequest refused: the message is ${size} bytes, more than the ${16 * 1024} this consumer takes`,
    );
    expect(await service.store.getJob(req.request_id)).toBeUndefined();
  });

  test("within the limits, with an abbreviated commit id: the job runs", async () => {
    const req = request({
      commit_sha: "3f78685",
      env: { GREETING: "hi", _X1: "y" },
      steps: [{ run: 'echo "$GREETING"' }, { run: "true" }, { run: "true" }],
    });
    await service.queue.publishJob(req);
    const events = await service.events.finished(req.request_id, 30_000);
    expect(events.at(-1)).toMatchObject({ type: "job_finished", conclusion: "success" });
    expect(events.some((e) => e.type === "log" && e.step === 0 && e.text === "hi")).toBe(true);
  });
});

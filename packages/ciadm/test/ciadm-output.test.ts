import type { DeadLetter, JobDetail, JobView } from "@solstice/common";
import { describe, expect, test } from "vitest";
import { SseParser } from "../src/api/sse-parser.ts";
import { formatDeadLetters } from "../src/output/dead-letter-text.ts";
import { formatJobStatus, formatJobTable, LogText } from "../src/output/job-text.ts";
import { runCiadm } from "./cli-support.ts";

// ciadm's stable outputs by snapshot (from fixed data: the formatters are pure), the SSE reader,
// and the exit codes of usage errors (the CLI as a child process).

const job = (over: Partial<JobView>): JobView => ({
  request_id: "6f1c0c7e-2b1a-4c3d-8e9f-0a1b2c3d4e5f",
  source: "forgejo",
  repo_url: "https://code.example.org/acme/app.git",
  commit_sha: "0123456789abcdef0123456789abcdef01234567",
  runs_on: "ubuntu",
  label: "ubuntu-24.04",
  state: "finished",
  conclusion: "success",
  reason: null,
  host_id: "builder-1",
  owner: { kind: "forgejo", instance: "https://code.example.org#r1", task_id: "42" },
  steps_started: true,
  attempt: 1,
  received_at: "2026-03-01T12:00:01.000Z",
  started_at: "2026-03-01T12:00:02.000Z",
  finished_at: "2026-03-01T12:01:09.000Z",
  updated_at: "2026-03-01T12:01:09.000Z",
  ...over,
});

describe("ciadm output formats", () => {
  test("jobs: a table", () => {
    const jobs = [
      job({
        request_id: "a1c0c7e0-2b1a-4c3d-8e9f-0a1b2c3d4e5f",
        state: "running",
        conclusion: null,
        finished_at: null,
      }),
      job({ conclusion: "failure", reason: "step 2 (Test) exited with 1", source: "manual", host_id: "b2" }),
    ];
    expect(formatJobTable(jobs)).toMatchInlineSnapshot(`
      "REQUEST ID                            RESULT   LABEL         SOURCE   HOST       RECEIVED             FINISHED             REPOSITORY
      a1c0c7e0-2b1a-4c3d-8e9f-0a1b2c3d4e5f  running  ubuntu-24.04  forgejo  builder-1  2026-03-01 12:00:01  -                    https://code.example.org/acme/app.git@0123456789ab
      6f1c0c7e-2b1a-4c3d-8e9f-0a1b2c3d4e5f  failure  ubuntu-24.04  manual   b2         2026-03-01 12:00:01  2026-03-01 12:01:09  https://code.example.org/acme/app.git@0123456789ab
      "
    `);
    expect(formatJobTable([])).toBe("no jobs\n");
  });

  test("status: the fields, then the VMs", () => {
    const detail: JobDetail = {
      ...job({ conclusion: "failure", reason: "step 2 (Test) exited with 1" }),
      request: { steps: [{ name: "Build", run: "make" }, { run: "make check" }] },
      vms: [
        {
          vm_name: "job-6f1c0c7e-2b1a-4c3d-8e9f-0a1b2c3d4e5f",
          state: "debug_hold",
          ssh_port: 10042,
          pid: 4242,
          debug_until: "2026-03-01T12:31:09.000Z",
          created_at: "2026-03-01T12:00:02.000Z",
          destroyed_at: null,
        },
      ],
    };
    expect(formatJobStatus(detail)).toMatchInlineSnapshot(`
      "request_id: 6f1c0c7e-2b1a-4c3d-8e9f-0a1b2c3d4e5f
      state:      finished
      conclusion: failure
      reason:     step 2 (Test) exited with 1
      source:     forgejo
      repository: https://code.example.org/acme/app.git
      commit:     0123456789abcdef0123456789abcdef01234567
      runs_on:    ubuntu
      label:      ubuntu-24.04
      host:       builder-1
      attempt:    1
      steps:      2
      owner:      forgejo https://code.example.org#r1
      received:   2026-03-01 12:00:01
      started:    2026-03-01 12:00:02
      finished:   2026-03-01 12:01:09
      vm:         job-6f1c0c7e-2b1a-4c3d-8e9f-0a1b2c3d4e5f (debug_hold, ssh port 10042, kept for debug SSH until 2026-03-01 12:31:09)
      "
    `);
  });

  test("logs: a header when a step begins", () => {
    const text = new LogText([{ name: "Build", run: "make" }, { run: "make check\nmore" }]);
    const lines = [
      { seq: 1, line: 0, step: null, stream: "system", text: "VM started", ts: "" },
      { seq: 3, line: 0, step: 0, stream: "stdout", text: "cc -o app", ts: "" },
      { seq: 3, line: 1, step: 0, stream: "stdout", text: "done", ts: "" },
      { seq: 7, line: 0, step: 1, stream: "stderr", text: "FAIL", ts: "" },
    ];
    expect(lines.map((l) => text.line(l)).join("")).toMatchInlineSnapshot(`
      "VM started
      ==> Step 1/2: Build
      cc -o app
      done
      ==> Step 2/2: make check
      FAIL
      "
    `);
  });

  test("dlq list: each dead letter with its reason", () => {
    const letter: DeadLetter = {
      messageId: "5f0c6d1e-8a4b-4c2d-9e3f-1a2b3c4d5e6f",
      reason: "invalid JobRequest: repo_url: required (expected string)",
      code: "MESSAGE_INVALID",
      originalExchange: "solstice.jobs",
      originalRoutingKey: "jobrequest.v1",
      originalQueue: "solstice.jobs.v1",
      failedAt: "2026-03-01T12:00:32.123Z",
      attempts: 1,
      type: "jobrequest.v1",
      contentType: "application/json",
      headers: {},
      body: Buffer.from('{"source":"manual"}'),
    };
    expect(formatDeadLetters([letter], false)).toMatchInlineSnapshot(`
      "5f0c6d1e-8a4b-4c2d-9e3f-1a2b3c4d5e6f  MESSAGE_INVALID  failed 2026-03-01T12:00:32.123Z  attempts 1  19 bytes
        from:   solstice.jobs / jobrequest.v1 (jobrequest.v1)
        reason: invalid JobRequest: repo_url: required (expected string)
      "
    `);
    expect(formatDeadLetters([], false)).toBe("the dead-letter queue is empty\n");
  });
});

describe("SseParser", () => {
  test("events split across chunks, comments, multi-line data, CRLF", () => {
    const parser = new SseParser();
    const events = [
      ...parser.push(": keepalive\n\nid: 4"),
      ...parser.push('2\nevent: log\ndata: {"seq":42}\n\n'),
      ...parser.push("event: end\r\ndata: a\r\ndata: b\r\n\r\n"),
    ];
    expect(events).toEqual([
      { event: "log", data: '{"seq":42}', id: "42" },
      { event: "end", data: "a\nb", id: "42" },
    ]);
  });
});

describe("ciadm usage errors exit 2", { timeout: 60_000 }, () => {
  test.each([
    {
      args: ["trigger", "--repo", "https://x/y.git"],
      message: "give exactly one of --sha <sha> and --ref <ref>",
    },
    { args: ["trigger", "--sha", "abc"], message: "required option '--repo <url|dir>' not specified" },
    { args: ["jobs", "--state", "sleeping"], message: "Allowed choices are accepted, running, finished" },
    { args: ["dlq", "purge"], message: "refusing to purge without --yes" },
    { args: ["dlq", "replay"], message: "give a message id or --all" },
    { args: ["status"], message: "missing required argument 'id'" },
    {
      args: ["status", "6f1c0c7e-2b1a-4c3d-8e9f-0a1b2c3d4e5f", "--orch-url", "http://127.0.0.1:9"],
      message: "cannot reach the orchestrator at http://127.0.0.1:9",
    },
  ])("ciadm $args", async ({ args, message }) => {
    const r = await runCiadm(args);
    expect(r.stderr).toContain(message);
    expect(r.code).toBe(2);
  });

  test("--help on a command shows the environment fallbacks", async () => {
    const r = await runCiadm(["trigger", "--help"]);
    expect(r.code).toBe(0);
    // Help wraps lines: compare with the whitespace collapsed.
    const help = r.stdout.replace(/\s+/g, " ");
    for (const env of ["AMQP_URL", "ORCH_URL", "ORCH_TOKEN"]) expect(help).toContain(`env: ${env}`);
    // Queue tuning flags are not listed one by one: a pointer to them is.
    expect(help).not.toContain("env: AMQP_EXCHANGE");
    expect(help).toContain("Queue names and tuning: --amqp-exchange");
  });
});

import { describe, expect, it } from "vitest";
import {
  CancelRequestSchema,
  CompatTimestampSchema,
  isRfc3339,
  JOB_REQUEST_SCHEMA_VERSION,
  JobRequestSchema,
  jobEventRoutingKey,
  MessageValidationError,
  newCancelRequest,
  newJobRequest,
  parseMessage,
  parseMessageText,
  SolsticeError,
} from "../src/index.ts";

const REQUEST_ID = "5f0c6d1e-8a4b-4c2d-9e3f-1a2b3c4d5e6f";
const SHA = "3f786850e387550fdab836ed7e6dc881de23001b";

/**
 * Byte for byte what the original's `serde_json::to_string(&JobRequest)` writes (field order
 * of the struct, `None` as null, `SourceSystem` in snake_case), plus a field from a newer
 * producer that this version does not know.
 */
const ORIGINAL_SERDE_JSON =
  `{"schema_version":"jobrequest.v1","request_id":"${REQUEST_ID}","source":"forgejo",` +
  `"repo_url":"https://forgejo.example.org/org/repo.git","commit_sha":"${SHA}",` +
  `"workflow_path":null,"workflow_job_id":null,"runs_on":"illumos-stable",` +
  `"submitted_at":"2025-10-25T18:00:32.123456789Z","trace_context":{"traceparent":"00-abc-def-01"}}`;

function expectValidationError(fn: () => unknown): MessageValidationError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(MessageValidationError);
    expect(error).toBeInstanceOf(SolsticeError);
    return error as MessageValidationError;
  }
  throw new Error("expected a MessageValidationError, nothing was thrown");
}

describe("JobRequest from the original", () => {
  it("parses the original's serde output, unknown field included", () => {
    const request = parseMessageText(JobRequestSchema, ORIGINAL_SERDE_JSON);
    expect(request).toEqual({
      schema_version: "jobrequest.v1",
      request_id: REQUEST_ID,
      source: "forgejo",
      repo_url: "https://forgejo.example.org/org/repo.git",
      commit_sha: SHA,
      workflow_path: null,
      workflow_job_id: null,
      runs_on: "illumos-stable",
      submitted_at: "2025-10-25T18:00:32.123456789Z",
    });
    // Unknown fields are accepted and dropped, not carried.
    expect(request).not.toHaveProperty("trace_context");
  });

  it("fills schema_version when the message has none (serde default)", () => {
    const json = JSON.parse(ORIGINAL_SERDE_JSON) as Record<string, unknown>;
    delete json["schema_version"];
    expect(parseMessage(JobRequestSchema, json).schema_version).toBe(JOB_REQUEST_SCHEMA_VERSION);
  });

  it("accepts workflow_path, workflow_job_id and runs_on left out", () => {
    const json = JSON.parse(ORIGINAL_SERDE_JSON) as Record<string, unknown>;
    delete json["workflow_path"];
    delete json["workflow_job_id"];
    delete json["runs_on"];
    const request = parseMessage(JobRequestSchema, json);
    expect([request.workflow_path, request.workflow_job_id, request.runs_on]).toEqual([null, null, null]);
  });

  it.each([
    ["RFC 3339, Z, nanoseconds", "2025-10-25T18:00:32.123456789Z", "2025-10-25T18:00:32.123456789Z"],
    ["RFC 3339, +00:00 offset", "2025-10-25T18:00:32.123456789+00:00", "2025-10-25T18:00:32.123456789+00:00"],
    ["RFC 3339, no fraction", "2025-10-25T18:00:32Z", "2025-10-25T18:00:32Z"],
    ["RFC 3339, other offset", "2025-10-25T20:00:32.5+02:00", "2025-10-25T20:00:32.5+02:00"],
    [
      "time crate tuple (serde default)",
      [2025, 298, 18, 0, 32, 123456789, 0, 0, 0],
      "2025-10-25T18:00:32.123456789Z",
    ],
    ["time crate tuple with offset", [2025, 298, 20, 0, 32, 5, 2, 0, 0], "2025-10-25T18:00:32.000000005Z"],
    ["time crate tuple in a leap year", [2024, 366, 23, 59, 59, 0, 0, 0, 0], "2024-12-31T23:59:59Z"],
    ["time crate text", "2025-10-25 18:00:32.123456789 +00:00:00", "2025-10-25T18:00:32.123456789Z"],
    ["time crate text with offset", "2025-10-26 01:30:00.0 +07:30:00", "2025-10-25T18:00:00Z"],
  ])("submitted_at as %s", (_what, input, expected) => {
    const json = { ...(JSON.parse(ORIGINAL_SERDE_JSON) as object), submitted_at: input };
    expect(parseMessage(JobRequestSchema, json).submitted_at).toBe(expected);
  });

  it.each([
    ["a date that does not exist", "2025-02-30T00:00:00Z"],
    ["month 13", "2025-13-01T00:00:00Z"],
    ["no offset", "2025-10-25T18:00:32"],
    ["ten fraction digits", "2025-10-25T18:00:32.1234567891Z"],
    ["a tuple with day 366 of a common year", [2025, 366, 0, 0, 0, 0, 0, 0, 0]],
    ["a number", 1761415232],
  ])("submitted_at rejects %s", (_what, input) => {
    expect(CompatTimestampSchema.safeParse(input).success).toBe(false);
  });

  it("isRfc3339 accepts a leap second and rejects hour 24", () => {
    expect(isRfc3339("2016-12-31T23:59:60Z")).toBe(true);
    expect(isRfc3339("2016-12-31T24:00:00Z")).toBe(false);
  });
});

describe("JobRequest validation errors name the field", () => {
  const valid = JSON.parse(ORIGINAL_SERDE_JSON) as Record<string, unknown>;

  it.each([
    [
      "a step's run of the wrong type",
      { steps: [{ run: "ok" }, { run: 1 }] },
      "steps[1].run",
      "expected string, got number 1",
    ],
    ["a missing repo_url", { repo_url: undefined }, "repo_url", "required (expected string)"],
    [
      "an unknown source",
      { source: "gitlab" },
      "source",
      'expected "github" or "forgejo" or "manual", got "gitlab"',
    ],
    ["a bad request_id", { request_id: "42" }, "request_id", "expected a UUID"],
    [
      "an env value that is not a string",
      { env: { PORT: 8080 } },
      "env.PORT",
      "expected string, got number 8080",
    ],
    [
      "a negative step timeout",
      { steps: [{ run: "x", timeout_seconds: -1 }] },
      "steps[0].timeout_seconds",
      "expected a number > 0, got number -1",
    ],
    [
      "an owner without instance",
      { owner: { kind: "forgejo" } },
      "owner.instance",
      "required (expected string)",
    ],
    [
      "an unknown owner kind",
      { owner: { kind: "gitlab", instance: "x" } },
      "owner.kind",
      'expected "forgejo" or "github" or "manual" or "cidev", got "gitlab"',
    ],
    ["a string debug_ssh", { debug_ssh: "yes" }, "debug_ssh", "expected boolean, got a string"],
    ["an empty mask value", { mask: ["ok", ""] }, "mask[1]", "expected a non-empty string, got a string"],
  ])("%s → %s", (_what, patch, path, message) => {
    const error = expectValidationError(() => parseMessage(JobRequestSchema, { ...valid, ...patch }));
    expect(error.code).toBe("MESSAGE_INVALID");
    expect(error.messageType).toBe("JobRequest");
    expect(error.issues).toEqual([{ path, message }]);
    expect(error.message).toBe(`invalid JobRequest: ${path}: ${message}`);
  });

  it("reports every bad field at once", () => {
    const error = expectValidationError(() =>
      parseMessage(JobRequestSchema, { ...valid, source: 1, commit_sha: null, steps: [{ name: "x" }] }),
    );
    expect(error.issues.map((i) => i.path)).toEqual(["source", "commit_sha", "steps[0].run"]);
  });

  it("does not quote string values back (a misplaced value may be a secret)", () => {
    const error = expectValidationError(() =>
      parseMessage(JobRequestSchema, { ...valid, debug_ssh: "hunter2-secret-token" }),
    );
    expect(error.message).not.toContain("hunter2");
  });

  it("a body that is not JSON is a MessageValidationError too", () => {
    const error = expectValidationError(() =>
      parseMessageText(JobRequestSchema, new TextEncoder().encode("{nope")),
    );
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]?.path).toBe("");
    expect(error.message).toMatch(/^invalid JobRequest: not JSON: /);
  });

  it("a JSON value that is not an object", () => {
    const error = expectValidationError(() => parseMessageText(JobRequestSchema, '"str"'));
    expect(error.message).toBe("invalid JobRequest: expected object, got a string");
  });
});

describe("newJobRequest and the additive fields", () => {
  it("fills request_id and submitted_at like JobRequest::new", () => {
    const a = newJobRequest({ source: "manual", repo_url: "https://x.example/r.git", commit_sha: SHA });
    const b = newJobRequest({ source: "manual", repo_url: "https://x.example/r.git", commit_sha: SHA });
    expect(a.request_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a.request_id).not.toBe(b.request_id);
    expect(isRfc3339(a.submitted_at)).toBe(true);
    expect(a).toMatchObject({ schema_version: "jobrequest.v1", workflow_path: null, runs_on: null });
    expect(a).not.toHaveProperty("steps");
  });

  it("keeps the request_id given, lowercased", () => {
    const r = newJobRequest({
      source: "github",
      repo_url: "r",
      commit_sha: SHA,
      request_id: REQUEST_ID.toUpperCase(),
    });
    expect(r.request_id).toBe(REQUEST_ID);
  });

  it("round-trips every field through JSON unchanged", () => {
    const request = newJobRequest({
      source: "forgejo",
      repo_url: "https://forgejo.example.org/org/repo.git",
      commit_sha: SHA,
      workflow_path: ".forgejo/workflows/ci.yml",
      workflow_job_id: "build",
      runs_on: "omnios-bloody",
      steps: [
        { name: "Build", run: "gmake", env: { CC: "gcc" }, shell: "bash", working_directory: "src" },
        { id: "t", run: "gmake test", timeout_seconds: 600, continue_on_error: true, if: "success()" },
        { run: "echo done", if: "always()" },
      ],
      env: { CI: "true", TOKEN: "s3cr3t" },
      timeout_seconds: 3600,
      debug_ssh: false,
      owner: { kind: "forgejo", instance: "https://forgejo.example.org", task_id: "1234" },
      labels: ["omnios-bloody", "illumos"],
      mask: ["s3cr3t"],
    });
    const again = parseMessageText(JobRequestSchema, JSON.stringify(request));
    expect(again).toEqual(request);
    expect(JSON.stringify(again)).toBe(JSON.stringify(request));
  });

  it("reads null additive fields as absent (what serde writes for None)", () => {
    const json = {
      ...(JSON.parse(ORIGINAL_SERDE_JSON) as object),
      steps: null,
      owner: null,
      debug_ssh: null,
    };
    const request = parseMessage(JobRequestSchema, json);
    expect(request.steps).toBeUndefined();
    expect(request.owner).toBeUndefined();
    expect("debug_ssh" in request && request.debug_ssh !== undefined).toBe(false);
  });

  it("throws MessageValidationError for a bad field", () => {
    const error = expectValidationError(() =>
      newJobRequest({ source: "manual", repo_url: "", commit_sha: SHA }),
    );
    expect(error.issues).toEqual([
      { path: "repo_url", message: "expected a non-empty string, got a string" },
    ]);
  });
});

describe("event routing keys", () => {
  it("are derived from the owner's kind and instance", () => {
    expect(jobEventRoutingKey({ kind: "forgejo", instance: "https://code.example.org" })).toBe(
      "jobevent.v1.forgejo.https_3a_2f_2fcode_2eexample_2eorg",
    );
    expect(jobEventRoutingKey({ kind: "cidev", instance: "host-1-4242" })).toBe(
      "jobevent.v1.cidev.host-1-4242",
    );
    expect(jobEventRoutingKey(undefined)).toBe("jobevent.v1.unowned");
  });

  it("never give two instances the same key", () => {
    const instances = ["a.b", "a_b", "a_2eb", "a/b", "ä", "a b", "a-b"];
    const keys = instances.map((instance) => jobEventRoutingKey({ kind: "forgejo", instance }));
    expect(new Set(keys).size).toBe(instances.length);
    for (const key of keys) expect(key.split(".")).toHaveLength(4);
  });
});

describe("CancelRequest", () => {
  it("is built, serialised and parsed back", () => {
    const cancel = newCancelRequest({
      request_id: REQUEST_ID,
      reason: "cancelled in Forgejo",
      requested_by: "forgejo-runner",
    });
    expect(cancel.schema_version).toBe("cancelrequest.v1");
    expect(isRfc3339(cancel.requested_at)).toBe(true);
    expect(parseMessageText(CancelRequestSchema, JSON.stringify(cancel))).toEqual(cancel);
  });

  it("names a missing field", () => {
    const error = expectValidationError(() =>
      parseMessage(CancelRequestSchema, {
        request_id: REQUEST_ID,
        requested_by: "ciadm",
        requested_at: "2025-10-25T18:00:00Z",
      }),
    );
    expect(error.message).toBe("invalid CancelRequest: reason: required (expected string)");
  });

  it("rejects another schema version", () => {
    const error = expectValidationError(() =>
      parseMessage(CancelRequestSchema, {
        schema_version: "cancelrequest.v2",
        request_id: REQUEST_ID,
        reason: "r",
        requested_by: "ciadm",
        requested_at: "2025-10-25T18:00:00Z",
      }),
    );
    expect(error.issues).toEqual([
      { path: "schema_version", message: 'expected "cancelrequest.v1", got "cancelrequest.v2"' },
    ]);
  });
});

describe("a body that is not JSON", () => {
  it.each([
    ['{"token": hunter2-secret}', "not JSON: unexpected character at line 1, column 11"],
    ['{"a": 1,\n "b": s3cret-value}', "not JSON: unexpected character at line 2, column 7"],
    ['{"a": "unterminated s3cret', "not JSON: it ends too early (after 26 characters)"],
    ["   ", "not JSON: the body is empty"],
  ])("is described by position, never by content: %j", (body, message) => {
    const error = expectValidationError(() => parseMessageText(CancelRequestSchema, body));
    expect(error.issues).toEqual([{ path: "", message }]);
    expect(error.message).not.toMatch(/hunter2|s3cret/);
  });
});

describe("the JobRequest schema version", () => {
  it("refuses a version this build does not read, naming the one it does; a missing one is v1", () => {
    const base = {
      request_id: REQUEST_ID,
      source: "manual",
      repo_url: "https://x/y.git",
      commit_sha: "abc",
      submitted_at: "2025-10-25T18:00:00Z",
    };
    const error = expectValidationError(() =>
      parseMessage(JobRequestSchema, { ...base, schema_version: "jobrequest.v99" }),
    );
    expect(error.issues).toEqual([
      { path: "schema_version", message: 'expected "jobrequest.v1", got "jobrequest.v99"' },
    ]);
    expect(parseMessage(JobRequestSchema, base).schema_version).toBe("jobrequest.v1");
  });
});

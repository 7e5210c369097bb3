import { SolsticeError } from "@solstice/common";
import { describe, expect, test } from "vitest";
import {
  CapacityMapError,
  DatabaseOpenError,
  HttpApiError,
  JobNotFoundError,
  JobRequestRefusedError,
  JobStateError,
  MigrationError,
  ServiceConfigError,
  VmNotFoundError,
} from "../src/errors.ts";

// The service's error classes: stable codes, structured fields, messages that name the thing.
describe("service errors", () => {
  test.each([
    [
      new MigrationError("0002-vms", new Error("permission denied for schema public")),
      "ORCH_DB_MIGRATION",
      "database migration 0002-vms failed: permission denied for schema public",
      { migration: "0002-vms" },
    ],
    [
      new DatabaseOpenError("/var/lib/solstice-ci/db", new Error("EACCES")),
      "ORCH_DB_OPEN",
      "cannot open the embedded database in /var/lib/solstice-ci/db: EACCES",
      { dataDir: "/var/lib/solstice-ci/db" },
    ],
    [
      new JobNotFoundError("1b4e28ba-2fa1-11d2-883f-0016d3cca427"),
      "ORCH_JOB_NOT_FOUND",
      "no job with request id 1b4e28ba-2fa1-11d2-883f-0016d3cca427",
      { requestId: "1b4e28ba-2fa1-11d2-883f-0016d3cca427" },
    ],
    [
      new JobStateError("r1", "finished", "markRunning"),
      "ORCH_JOB_STATE",
      "job r1 is finished: markRunning is not allowed",
      { state: "finished", transition: "markRunning" },
    ],
    [
      new JobStateError("r1", "running", "requeue", "its steps have started"),
      "ORCH_JOB_STATE",
      "job r1 is running: requeue is not allowed (its steps have started)",
      {},
    ],
    [new VmNotFoundError("vm-1"), "ORCH_VM_NOT_FOUND", "no VM named vm-1 is recorded", { vmName: "vm-1" }],
    [
      new CapacityMapError({ value: "a=1,b", entry: "b", position: 2, reason: 'expected "label=n"' }),
      "ORCH_CAPACITY_MAP_INVALID",
      'CAPACITY_MAP entry 2 "b": expected "label=n"',
      { position: 2, entry: "b" },
    ],
    [
      new ServiceConfigError({
        option: "max-concurrency",
        env: "MAX_CONCURRENCY",
        value: "x",
        reason: "expected a whole number",
      }),
      "ORCH_CONFIG_INVALID",
      '--max-concurrency / MAX_CONCURRENCY: expected a whole number (got "x")',
      { option: "max-concurrency", env: "MAX_CONCURRENCY" },
    ],
    [
      new ServiceConfigError({ option: "http-token", env: "HTTP_TOKEN", reason: "too short" }),
      "ORCH_CONFIG_INVALID",
      "--http-token / HTTP_TOKEN: too short",
      { value: undefined },
    ],
    [
      new HttpApiError(409, "JOB_FINISHED", "job r1 already finished"),
      "JOB_FINISHED",
      "job r1 already finished",
      { statusCode: 409 },
    ],
    [
      new JobRequestRefusedError("r1", [
        { path: "steps", message: "1001 steps, more than the 1000 a job may have" },
        { path: "", message: "and 3 more like these" },
      ]),
      "ORCH_JOB_REQUEST_REFUSED",
      "job request r1 refused: steps: 1001 steps, more than the 1000 a job may have; and 3 more like these",
      {
        requestId: "r1",
        reason: "steps: 1001 steps, more than the 1000 a job may have; and 3 more like these",
      },
    ],
  ] as const)("%s", (error, code, message, fields) => {
    expect(error).toBeInstanceOf(SolsticeError);
    expect(error.code).toBe(code);
    expect(error.message).toBe(message);
    expect(error).toMatchObject(fields);
    expect(error.name).toBe(error.constructor.name);
  });

  test("errors an operator can act on carry a hint", () => {
    for (const e of [
      new MigrationError(undefined, "x"),
      new DatabaseOpenError("/d", "x"),
      new CapacityMapError({ value: "", entry: "", position: 1, reason: "" }),
      new ServiceConfigError({ option: "o", reason: "r" }),
      new JobStateError("r", "s", "t"),
      new JobRequestRefusedError("r", []),
    ]) {
      expect(e.hint, e.code).toMatch(/\w/);
    }
  });
});

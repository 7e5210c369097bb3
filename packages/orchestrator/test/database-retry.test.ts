import { describe, expect, test } from "vitest";
import {
  databaseRetryDelayMs,
  isTransientDatabaseError,
  untilDatabaseAnswers,
} from "../src/persistence/database-retry.ts";

// When a database call is tried again (the database cannot be reached) and when not (it answered).
// Real outages are in event-store-outage.int.test.ts.

const pgError = (code: string, message = "x") => Object.assign(new Error(message), { code });

describe("isTransientDatabaseError", () => {
  test.each([
    [pgError("57P01", "terminating connection due to administrator command"), true],
    [pgError("57P03", "the database system is starting up"), true],
    [pgError("08006", "connection failure"), true],
    [pgError("53300", "sorry, too many clients already"), true],
    [pgError("40001", "could not serialize access"), true],
    [pgError("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:5432"), true],
    [pgError("ECONNRESET", "read ECONNRESET"), true],
    [new Error("Connection terminated unexpectedly"), true],
    [new Error("timeout exceeded when trying to connect"), true],
    [new AggregateError([pgError("ECONNREFUSED"), pgError("ECONNREFUSED")], "connect failed"), true],
    [new Error("query failed", { cause: pgError("57P01") }), true],
    [pgError("23503", "insert or update on table violates foreign key constraint"), false],
    [pgError("23505", "duplicate key value violates unique constraint"), false],
    [pgError("42P01", 'relation "job_logs" does not exist'), false],
    [pgError("28P01", "password authentication failed"), false],
    [new Error("job r is finished: markStepsStarted is not allowed"), false],
    ["Connection terminated", false],
    [undefined, false],
  ])("%s → %s", (error, transient) => {
    expect(isTransientDatabaseError(error)).toBe(transient);
  });
});

describe("untilDatabaseAnswers", () => {
  test("waits 100 ms, doubling to 5 s", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 100].map((n) => databaseRetryDelayMs(n))).toEqual([
      100, 200, 400, 800, 1_600, 3_200, 5_000, 5_000, 5_000,
    ]);
  });

  test("tries again while the database cannot be reached, then returns its answer", async () => {
    let calls = 0;
    const retries: number[] = [];
    const value = await untilDatabaseAnswers(
      async () => {
        calls += 1;
        if (calls < 4) throw new Error("Connection terminated unexpectedly");
        return "stored";
      },
      { maxDelayMs: 5, onRetry: (_e, attempt) => retries.push(attempt) },
    );
    expect(value).toBe("stored");
    expect(retries).toEqual([1, 2, 3]);
  });

  test("an answer that is a refusal is thrown at once", async () => {
    let calls = 0;
    const refusal = pgError("23503", "violates foreign key constraint");
    await expect(
      untilDatabaseAnswers(async () => {
        calls += 1;
        throw refusal;
      }),
    ).rejects.toBe(refusal);
    expect(calls).toBe(1);
  });

  test("stops waiting when its signal is aborted, with the last error", async () => {
    const controller = new AbortController();
    const down = new Error("Connection terminated unexpectedly");
    const pending = untilDatabaseAnswers(
      async () => {
        throw down;
      },
      { signal: controller.signal, onRetry: () => controller.abort() },
    );
    await expect(pending).rejects.toBe(down);
  });
});

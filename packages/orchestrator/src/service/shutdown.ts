import type { ServiceLogger } from "@solstice/common";

/** The parts a shutdown stops, in the order it stops them. */
export interface ShutdownParts {
  /** Stops taking job requests (waiting deliveries go back to the queue). */
  readonly stopIntake: () => Promise<void>;
  /** Resolves true once no job runs or waits, false after `timeoutMs`. */
  readonly whenIdle: (timeoutMs: number) => Promise<boolean>;
  /** Cancels every job still running or waiting, reporting each cancelled. */
  readonly cancelAll: (reason: string) => Promise<void>;
  /** Resolves once every job task has ended (VMs destroyed, ends reported). */
  readonly settled: () => Promise<void>;
  /** Then, in order: cancel listener, debug SSH VMs, HTTP API, queue, database. */
  readonly closers: readonly { readonly name: string; readonly close: () => Promise<void> }[];
  readonly logger: ServiceLogger;
}

/** How a shutdown went. */
export interface ShutdownReport {
  /** Every job ended by itself within the drain timeout. */
  readonly drained: boolean;
  /** Parts whose close failed (the others were still closed). */
  readonly failures: readonly { readonly name: string; readonly error: unknown }[];
}

/**
 * Two-phase shutdown (as the Forgejo runner's poller): first stop taking work and let running
 * jobs finish, up to `drainTimeoutMs` (or until `skipDrain` resolves: a second signal); then
 * cancel what still runs or waits — each reported cancelled, its VM destroyed — and close the
 * rest in order.
 *
 * @example
 *   await shutdown(parts, { drainTimeoutMs: 300_000, skipDrain: secondSignal });
 */
export async function shutdown(
  parts: ShutdownParts,
  options: { readonly drainTimeoutMs: number; readonly skipDrain?: Promise<void> | undefined },
): Promise<ShutdownReport> {
  const { logger } = parts;
  const failures: { name: string; error: unknown }[] = [];
  const attempt = async (name: string, fn: () => Promise<unknown>): Promise<void> => {
    try {
      await fn();
    } catch (error) {
      failures.push({ name, error });
      logger.warn({ part: name, err: error }, "shutdown step failed");
    }
  };

  logger.info(
    { drainTimeoutMs: options.drainTimeoutMs },
    "shutting down: no new jobs; waiting for running jobs",
  );
  await attempt("intake", parts.stopIntake);
  const drained = await Promise.race([
    parts.whenIdle(options.drainTimeoutMs),
    (options.skipDrain ?? new Promise<never>(() => {})).then(() => false),
  ]);
  if (!drained) {
    const seconds = Math.round(options.drainTimeoutMs / 1000);
    const reason = `the orchestrator is shutting down (jobs may run ${seconds} s after the stop signal)`;
    logger.warn({}, "drain time is over: cancelling the jobs still running or waiting");
    await attempt("cancel jobs", () => parts.cancelAll(reason));
  }
  await attempt("jobs", parts.settled);
  for (const closer of parts.closers) await attempt(closer.name, closer.close);
  logger.info({ drained, failures: failures.length }, "shut down");
  return { drained, failures };
}

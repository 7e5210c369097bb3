import { randomBytes } from "node:crypto";
import { setTimeout as sleepTimer } from "node:timers/promises";
import type { Logger } from "pino";
import type { AppJitConfigOptions } from "../registration/github-app.ts";
import type { RunnerConfiguration } from "../settings/runner-files.ts";
import type { ListenerEnd } from "./runner-listener.ts";

// GitHub App mode: the daemon keeps `capacity` ephemeral runners ready. Each slot mints a JIT
// runner through the App's installation, listens with it until its one job is complete (GitHub
// deletes the runner then), and mints the next. Minting failures are retried with a growing
// pause (30 s to 5 min), so a revoked App is one error line every few minutes, not a loop.

/** Options of {@link runAppRunnerPool}. */
export interface AppRunnerPoolOptions {
  readonly capacity: number;
  /** Runner names are `<prefix>-<random>`. */
  readonly namePrefix: string;
  /** Mints one JIT runner (registration/github-app.ts appJitConfig, bound to the App). */
  readonly mint: (
    options: Pick<AppJitConfigOptions, "name">,
  ) => Promise<{ configuration: RunnerConfiguration }>;
  /** Listens with one runner until it ends. */
  readonly listen: (configuration: RunnerConfiguration, signal: AbortSignal) => Promise<ListenerEnd>;
  readonly logger: Logger;
}

/** The delay after `failures` minting failures in a row. */
export function mintRetryDelay(failures: number): number {
  return Math.min(5 * 60_000, 30_000 * 2 ** Math.max(0, failures - 1));
}

/** A JIT runner's name. */
export function jitRunnerName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

/** Runs the pool until `signal` aborts. */
export async function runAppRunnerPool(options: AppRunnerPoolOptions, signal: AbortSignal): Promise<void> {
  const slot = async (index: number): Promise<void> => {
    let failures = 0;
    while (!signal.aborted) {
      const name = jitRunnerName(options.namePrefix);
      let configuration: RunnerConfiguration;
      try {
        ({ configuration } = await options.mint({ name }));
        failures = 0;
      } catch (error) {
        failures += 1;
        const delay = mintRetryDelay(failures);
        options.logger.error(
          { err: error, slot: index, retryInMs: delay },
          "cannot create a JIT runner through the GitHub App",
        );
        await sleepTimer(delay, undefined, { signal }).catch(() => undefined);
        continue;
      }
      options.logger.info(
        { slot: index, runner: name, agentId: configuration.settings.agentId },
        "JIT runner ready",
      );
      const end = await options.listen(configuration, signal);
      if (end === "shutdown") await sleepTimer(30_000, undefined, { signal }).catch(() => undefined);
    }
  };
  await Promise.all(Array.from({ length: options.capacity }, (_, i) => slot(i)));
}

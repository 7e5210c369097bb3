import { tmpdir } from "node:os";
import { type ImageMap, mqConfigFromEnv } from "@solstice/common";
import { parseServiceConfig, type RunningOrchestrator, startOrchestrator } from "@solstice/orchestrator";
import type { Logger } from "pino";

/** What the embedded orchestrator of one `cidev run` needs. */
export interface EmbeddedOrchestratorOptions {
  readonly imageMapPath: string;
  readonly imageMap: ImageMap;
  /** A private, empty directory: VM work directories and PGlite live there. */
  readonly stateDir: string;
  /** The canonical labels jobs may run on (one job at a time in all). */
  readonly labels: readonly string[];
  /** How long a failed job's VM is kept with `--keep-on-failure` (at most 1800 s). */
  readonly keepForSecs: number;
  readonly logger: Logger;
  /** How long to wait for the guest's SSH (default the engine's, 5 min). */
  readonly sshTimeoutMs?: number | undefined;
}

/**
 * The orchestrator service in its embedded single-node mode (in-process queue, PGlite under the
 * state directory, no HTTP API), for the jobs of one `cidev run` on this machine, one at a time:
 * the same code as the fleet.
 */
export async function startEmbeddedOrchestrator(
  options: EmbeddedOrchestratorOptions,
): Promise<RunningOrchestrator> {
  const config = parseServiceConfig(
    {
      config: options.imageMapPath,
      maxConcurrency: "1",
      capacityMap: options.labels.map((label) => `${label}=1`).join(","),
      hostId: `cidev-${process.pid}`,
      stateDir: options.stateDir,
      debugSshTtlSecs: String(options.keepForSecs),
      drainTimeoutSecs: "0",
      // Templates die with this process: building one beside a single job would only cost CPU.
      warmStarts: "false",
      // Only for the config's sake: the HTTP API is not started.
      httpAddr: "127.0.0.1:0",
      // The user's AMQP_* variables are for the fleet: the embedded queue uses the defaults.
      mq: mqConfigFromEnv({}, { prefetch: 1 }),
      amqpUrlGiven: false,
    },
    { hostname: "cidev", uid: process.getuid?.() ?? 1000, home: tmpdir() },
  );
  return startOrchestrator(config, {
    logger: options.logger,
    imageMap: options.imageMap,
    http: false,
    ...(options.sshTimeoutMs === undefined ? {} : { engine: { sshTimeoutMs: options.sshTimeoutMs } }),
  });
}

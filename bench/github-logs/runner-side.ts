// The measured side of bench/github-logs: a runner registered with the GitHub protocol test server
// and its daemon in this process (as packages/github-runner/test/github-support.ts runs it), and
// one job through it: added to the server, acquired over the broker, published to the
// orchestrator, its events reported back as live feed frames, the step's log and completejob.

import { join } from "node:path";
import type { MqConfig } from "@solstice/common";
import {
  type RunnerDaemon,
  registerRunner,
  runnerInstance,
  runnerLabels,
  startRunnerDaemon,
  writeRunnerConfiguration,
} from "@solstice/github-runner";
import type { GitHubTestServer, JobRecord } from "@solstice/github-test-server";
import type { Logger } from "pino";
import type { RowSample } from "../forgejo-logs/row-latency.ts";
import {
  auditLines,
  type FeedCadence,
  feedCadence,
  feedSamples,
  type LineAudit,
  lineNumbers,
  parseStepLog,
} from "./line-latency.ts";

/** The repository the jobs belong to. */
export const REPOSITORY = "acme/logs";

/** One job through the runner. */
export interface RunnerResult {
  /** The live feed's `line N` lines, timestamp (from the step log) to the frame's arrival. */
  readonly samples: RowSample[];
  readonly feed: LineAudit;
  readonly stepLog: LineAudit;
  readonly cadence: FeedCadence;
  /** Seconds from the last line's timestamp to the step log's last write on the server. */
  readonly stepLogAfter: number;
  /** Seconds from the last feed frame's arrival to the step log's last write (NaN without frames). */
  readonly lastFrameToStepLog: number;
  /** Seconds from the last line's timestamp to completejob. */
  readonly completedAfter: number;
  /** Lines the step log has that are no `line N` (the runner's and the shell's). */
  readonly otherLogLines: number;
}

/** Registers a runner for {@link REPOSITORY} (as `register` does) and starts its daemon. */
export async function startRunner(options: {
  readonly server: GitHubTestServer;
  readonly label: string;
  readonly stateDir: string;
  readonly mq: MqConfig;
  readonly reportIntervalMs: number;
  readonly logger: Logger;
}): Promise<{ daemon: RunnerDaemon; instance: string }> {
  const { server, label, stateDir } = options;
  server.addRepository(REPOSITORY);
  const configuration = await registerRunner({
    url: server.gitHubUrl(REPOSITORY),
    registrationToken: server.createRegistrationToken(REPOSITORY),
    name: "bench",
    labels: runnerLabels({ extra: [label] }),
    ephemeral: false,
    replace: true,
  });
  await writeRunnerConfiguration(stateDir, configuration);
  // The daemon's production settings (event prefetch 20,000) but the report interval given.
  const daemon = await startRunnerDaemon(
    {
      mode: { kind: "registered" },
      stateDir,
      labels: [label],
      mq: options.mq,
      reportIntervalMs: options.reportIntervalMs,
    },
    options.logger,
  );
  return { daemon, instance: runnerInstance(configuration) };
}

/** The workflow: one job on `label`, one `run:` step (a one-line script). */
export function workflow(label: string, script: string): string {
  return [
    "on: push",
    "jobs:",
    "  logs:",
    `    runs-on: [self-hosted, ${label}]`,
    "    steps:",
    "      - name: print",
    "        run: |",
    `          ${script}`,
    "",
  ].join("\n");
}

/** Runs one job of `expected` lines through the runner; rejects when it does not succeed. */
export async function runThroughRunner(
  server: GitHubTestServer,
  options: { label: string; script: string; expected: number; timeoutMs: number },
): Promise<RunnerResult> {
  const added = await server.addJob({
    repository: REPOSITORY,
    workflowYaml: workflow(options.label, options.script),
  });
  const job = await server.waitForJob(
    added.id,
    (j) => j.status === "completed" || j.status === "abandoned",
    options.timeoutMs,
  );
  if (job.result !== "succeeded") throw new Error(`the job ended ${job.result ?? job.status}, not succeeded`);
  const stepId = server.stepIds(job.id)[0];
  if (stepId === undefined) throw new Error("the job has no step");
  const log = parseStepLog(server.stepLog(job.id, stepId) ?? "");
  const logNumbers = lineNumbers(log.map((l) => l.text));
  const feed = job.feed.filter((l) => l.stepId === stepId.toLowerCase());
  const lastStamp = Math.max(...log.map((l) => l.stampedAt).filter((t) => !Number.isNaN(t)));
  return {
    samples: feedSamples(feed, log),
    feed: auditLines(lineNumbers(feed.map((l) => l.text)), options.expected),
    stepLog: auditLines(logNumbers, options.expected),
    cadence: feedCadence(feed.map((l) => l.receivedAt)),
    stepLogAfter: (lastWrite(server, job, stepId) - lastStamp) / 1000,
    lastFrameToStepLog: (lastWrite(server, job, stepId) - (feed.at(-1)?.receivedAt ?? Number.NaN)) / 1000,
    completedAfter: ((job.completion?.receivedAt.getTime() ?? Number.NaN) - lastStamp) / 1000,
    otherLogLines: log.length - logNumbers.length,
  };
}

/** When the server last stored part of the step's log (ms). */
function lastWrite(server: GitHubTestServer, job: JobRecord, stepId: string): number {
  const blob = server.blobs(job.id).find((b) => b.kind === "step-log" && b.stepId === stepId.toLowerCase());
  return blob?.chunks.at(-1)?.at.getTime() ?? Number.NaN;
}

/** The runner's state directory under `dir`. */
export const stateDirIn = (dir: string): string => join(dir, "runner");

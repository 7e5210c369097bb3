import { hostname } from "node:os";
import type { CliContext } from "@solstice/cli-kit";
import { EXIT_FAILED, EXIT_OK } from "@solstice/cli-kit";
import {
  AmqpJobQueue,
  inSpan,
  type JobStep,
  newJobRequest,
  otlpSettings,
  SPAN_ATTRIBUTES,
  startTracing,
} from "@solstice/common";
import type { Command } from "commander";
import { OrchestratorClient } from "../api/orchestrator-client.ts";
import { addApiOptions, addQueueOptions, apiTarget, queueConfig } from "../cli/connection-options.ts";
import { UsageError } from "../errors.ts";
import { followJob } from "../follow/follow-job.ts";
import { hostSideUrl, isLocalDirectory, serveLocalRepository } from "../git/local-repository.ts";
import { resolveRef } from "../git/ls-remote.ts";

interface TriggerOptions extends Record<string, unknown> {
  repo: string;
  sha?: string;
  ref?: string;
  runsOn?: string;
  workflow?: string;
  job?: string;
  step: string[];
  env: string[];
  wait?: boolean;
  json?: boolean;
  orchUrl?: string;
  orchToken?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** `ciadm trigger`: publishes a JobRequest (source `manual`) to the queue; `--wait` follows it. */
export function registerTrigger(program: Command, ctx: CliContext): void {
  const command = program
    .command("trigger")
    .summary("publish a job request (source manual) and print its id; --wait follows it to the end")
    .description(
      "Publish a JobRequest (source manual) to the job queue and print its request id on stdout. " +
        "Without --step, the guest runs the repository's .solstice/job.sh, else .solstice/workflow.kdl. " +
        "With --wait, follow the job's log through the orchestrator's HTTP API and exit 0 when it " +
        "succeeds, 1 when it fails or is cancelled.",
    )
    .requiredOption(
      "--repo <url|dir>",
      "repository URL the VM clones (https://, git://, ssh://), or a repository directory on this host " +
        "(served to the guest with git daemon while the job runs: needs --wait and an orchestrator on this host)",
    )
    .option("--sha <sha>", "the commit to run")
    .option(
      "--ref <ref>",
      "a branch, tag or ref to resolve to a commit with git ls-remote, on this host (instead of --sha; " +
        "a directory's default: HEAD)",
    )
    .option("--runs-on <label>", "image label (default: the orchestrator's default label)")
    .option("--workflow <path>", "workflow_path: the workflow file in the repository")
    .option("--job <id>", "workflow_job_id: the job of that workflow")
    .option("--step <command>", "a step to run (repeat for several, in order)", collect, [])
    .option("--env <NAME=value>", "a variable for every step (repeatable)", collect, [])
    .option("--wait", "follow the job's log to the end; the exit code follows its conclusion")
    .option("--json", "print {request_id, commit_sha, ...} as JSON instead of the bare id");
  addQueueOptions(command);
  addApiOptions(command);
  command.action(ctx.action((opts: TriggerOptions) => trigger(ctx, opts)));
}

async function trigger(ctx: CliContext, opts: TriggerOptions) {
  const local = await isLocalDirectory(opts.repo);
  if (local && opts.wait !== true) {
    throw new UsageError(
      `--repo ${opts.repo} is a directory: ciadm serves it to the guest only while it waits for the job`,
      "add --wait (and run the orchestrator on this host), or give a URL the orchestrator's VMs can clone",
    );
  }
  if (opts.sha !== undefined && opts.ref !== undefined) {
    throw new UsageError(
      "give one of --sha <sha> and --ref <ref>, not both",
      "e.g. --ref main, or --sha 3f78685",
    );
  }
  if (!local && opts.sha === undefined && opts.ref === undefined) {
    throw new UsageError(
      "give exactly one of --sha <sha> and --ref <ref>",
      "e.g. --ref main, or --sha 3f78685",
    );
  }
  const env: Record<string, string> = {};
  for (const pair of opts.env) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`--env ${pair}: expected NAME=value`, "e.g. --env CI=true");
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const note = (line: string) => ctx.stderr.write(`${line}\n`);
  const served = local ? await serveLocalRepository(opts.repo) : undefined;
  try {
    const repoUrl = served?.guestUrl ?? opts.repo;
    if (served !== undefined)
      note(`serving ${served.path} to the guest as ${repoUrl} (git daemon, while ciadm waits)`);
    let commit = opts.sha;
    if (commit === undefined) {
      // Resolved here, where ciadm runs: a guest's 10.0.2.2 is this host's 127.0.0.1.
      const ref = opts.ref ?? "HEAD";
      const at = served?.path ?? hostSideUrl(opts.repo);
      commit = await resolveRef(at, ref);
      note(`${ref} is ${commit} (resolved on this host${at === repoUrl ? "" : ` at ${at}`})`);
    }
    return await publishAndFollow(ctx, opts, repoUrl, commit, env, note);
  } finally {
    await served?.close();
  }
}

async function publishAndFollow(
  ctx: CliContext,
  opts: TriggerOptions,
  repoUrl: string,
  commit: string,
  env: Record<string, string>,
  note: (line: string) => void,
) {
  const steps: JobStep[] = opts.step.map((run, i) => ({ name: `step ${i + 1}`, run }));
  const request = newJobRequest({
    source: "manual",
    repo_url: repoUrl,
    commit_sha: commit,
    runs_on: opts.runsOn ?? null,
    workflow_path: opts.workflow ?? null,
    workflow_job_id: opts.job ?? null,
    owner: { kind: "manual", instance: `ciadm@${hostname()}` },
    ...(steps.length === 0 ? {} : { steps }),
    ...(Object.keys(env).length === 0 ? {} : { env }),
  });
  // With an OTLP endpoint in the environment, the job's trace starts here: `ciadm trigger` is its
  // root span, the publish its child (docs/telemetry.md).
  const tracing =
    otlpSettings(ctx.env) === undefined ? undefined : startTracing({ serviceName: "ciadm", env: ctx.env });
  let queue: AmqpJobQueue;
  try {
    queue = await AmqpJobQueue.connect({
      config: queueConfig(opts),
      connectionName: `ciadm@${hostname()}`,
      connectTimeoutMs: 10_000,
    });
  } catch (error) {
    await tracing?.shutdown();
    throw error;
  }
  try {
    await inSpan(
      "ciadm trigger",
      {
        [SPAN_ATTRIBUTES.requestId]: request.request_id,
        [SPAN_ATTRIBUTES.label]: request.runs_on ?? undefined,
      },
      () => queue.publishJob(request),
      { requestId: request.request_id },
    );
  } finally {
    await queue.close({ timeoutMs: 5_000 });
    await tracing?.shutdown();
  }
  if (opts.json === true) {
    ctx.stdout.write(
      `${JSON.stringify({ request_id: request.request_id, repo_url: request.repo_url, commit_sha: commit, runs_on: request.runs_on, submitted_at: request.submitted_at })}\n`,
    );
  } else {
    ctx.stdout.write(`${request.request_id}\n`);
  }
  if (opts.wait !== true) return EXIT_OK;
  const api = new OrchestratorClient(apiTarget(opts, ctx.env));
  const end = await followJob(api, request.request_id, ctx.stderr, note);
  const why = end.reason === null ? "" : `: ${end.reason}`;
  note(`job ${request.request_id} ${end.conclusion ?? end.state}${why}`);
  return end.conclusion === "success" ? EXIT_OK : EXIT_FAILED;
}

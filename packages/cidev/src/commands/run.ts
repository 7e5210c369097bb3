import { mkdtemp, rm } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import type { CliContext } from "@solstice/cli-kit";
import { EXIT_FAILED, EXIT_OK, terminalStyle } from "@solstice/cli-kit";
import {
  createLogger,
  type LogLevel,
  loadImageMap,
  logLevelFromEnv,
  newJobRequest,
  resolveLabel,
  servedLabels,
} from "@solstice/common";
import { MAX_DEBUG_SSH_TTL_SECS } from "@solstice/orchestrator";
import { ensureImage, isImagePresent, terminalProgress } from "@solstice/vm-engine";
import { type Command, InvalidArgumentError, Option } from "commander";
import { RunLabelError } from "../errors.ts";
import { formatWarnings } from "../output/job-text.ts";
import { CHECKOUT_IMAGE_MAP, imageMapPath } from "../run/image-map-location.ts";
import { cidevOwner, runLocally } from "../run/local-run.ts";
import { openRepositorySource } from "../run/repository-source.ts";
import { translateWorkflowJob } from "../workflow/job-translation.ts";
import { loadWorkflowFile } from "../workflow/load-workflow.ts";
import { resolveWorkflowPath } from "../workflow/workflow-file.ts";

interface RunOptions {
  job?: string;
  imageMap?: string;
  runsOn?: string;
  keepOnFailure?: boolean;
  keepFor: number;
  repo?: string;
  sha?: string;
  color: boolean;
}

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_DEBUG_SSH_TTL_SECS) {
    throw new InvalidArgumentError(`expected whole seconds from 1 to ${MAX_DEBUG_SSH_TTL_SECS}`);
  }
  return n;
}

/**
 * `cidev run <file>`: runs one job for real in a VM on this machine, through the orchestrator's
 * embedded single-node mode (in-process queue, PGlite), with the repository served to the guest
 * by `git daemon`. The exit code follows the job's conclusion.
 */
export function registerRun(program: Command, ctx: CliContext): void {
  program
    .command("run")
    .summary("run a job for real in a local VM (embedded orchestrator); exit code follows the job")
    .description(
      "Run a job for real in a VM on this machine, through the orchestrator's embedded single-node mode " +
        "(no broker, no database server). The guest checks out the git repository holding the file: " +
        "HEAD when the work tree is clean, else a snapshot of the work tree (uncommitted changes " +
        "included), served by `git daemon` on 127.0.0.1. The log streams live; the exit code is 0 when " +
        "the job succeeds, 1 when it fails or is cancelled, 2 when it cannot start. " +
        "Ctrl-C cancels the job (twice: stops at once). Service logs: LOG_LEVEL (default warn).",
    )
    .argument("<file>", "workflow file (KDL or Actions YAML), or a directory holding one (examples/hello)")
    .option("-j, --job <id>", "the job (may be left out when the workflow has one job)")
    .addOption(
      new Option("--image-map <yaml>", "image map: labels and their images (docs/images.md)")
        .env("ORCH_CONFIG")
        .default(undefined, CHECKOUT_IMAGE_MAP),
    )
    .option(
      "--runs-on <label>",
      "the image label to run on (default: the job's runs_on, else the map's default)",
    )
    .option(
      "--keep-on-failure",
      "if the job fails, keep its VM up and print the SSH command, until Ctrl-C or --keep-for",
    )
    .addOption(
      new Option("--keep-for <seconds>", "how long --keep-on-failure keeps the VM (at most 1800)")
        .env("DEBUG_SSH_TTL_SECS")
        .argParser(seconds)
        .default(MAX_DEBUG_SSH_TTL_SECS),
    )
    .option("--repo <path|url>", "the repository to check out (default: the git repository holding the file)")
    .option(
      "--sha <sha>",
      "the commit to check out (default: HEAD, or the work tree's snapshot; a URL's HEAD)",
    )
    .option("--no-color", "no colours (also: NO_COLOR=1)")
    .action(ctx.action((arg: string, opts: RunOptions) => runCommand(ctx, arg, opts)));
}

async function runCommand(ctx: CliContext, arg: string, opts: RunOptions) {
  const style = terminalStyle(ctx.stdout, opts.color);
  const note = (line: string) => ctx.stderr.write(`${style.dim(line)}\n`);
  const file = await resolveWorkflowPath(arg);
  const loaded = await loadWorkflowFile(file);
  const mapPath = imageMapPath(opts.imageMap, ctx.env);
  const imageMap = await loadImageMap(mapPath);

  const tempDir = await mkdtemp(join(tmpdir(), "cidev-"));
  try {
    const source = await openRepositorySource({
      file,
      repo: opts.repo,
      sha: opts.sha,
      tempDir: join(tempDir),
    });
    try {
      const translation = translateWorkflowJob(loaded, {
        jobId: opts.job,
        workflowPath: source.workflowPath,
        sha: source.commit,
        ref: source.ref,
        repository: source.repository,
        serverUrl: source.serverUrl,
        checkoutUrl: source.repoUrl,
        runsOn: opts.runsOn,
      });
      ctx.stderr.write(formatWarnings(translation));
      if (!translation.shouldRun) {
        ctx.stdout.write(`Job ${translation.jobId}: its if: condition is false; a runner would skip it.\n`);
        return EXIT_OK;
      }
      const wanted = opts.runsOn ?? translation.fields.runs_on ?? undefined;
      const resolved = resolveLabel(imageMap, wanted);
      if (resolved === undefined)
        throw new RunLabelError(wanted ?? imageMap.defaultLabel, mapPath, servedLabels(imageMap));
      const { label, image } = resolved;

      if (!(await isImagePresent(image))) {
        note(`Fetching image ${label} from ${image.source}`);
        await ensureImage(image, { onProgress: terminalProgress(ctx.stderr) });
      }
      const request = newJobRequest({
        source: "manual",
        repo_url: source.repoUrl,
        commit_sha: source.commit,
        owner: cidevOwner(hostname()),
        ...translation.fields,
        runs_on: label,
        debug_ssh: opts.keepOnFailure === true,
      });
      ctx.stdout.write(
        `${style.bold(`Running job ${translation.jobId} of ${file} on ${label}`)} ${style.dim(`(request ${request.request_id})`)}\n`,
      );
      note(source.describe);
      const conclusion = await runLocally({
        request,
        image,
        imageMap,
        imageMapPath: mapPath,
        stateDir: join(tempDir, "state"),
        keepOnFailure: opts.keepOnFailure === true,
        keepForSecs: opts.keepFor,
        stdout: ctx.stdout,
        stderr: ctx.stderr,
        style,
        logger: createLogger({ service: "cidev", level: serviceLogLevel(ctx.env) }),
      });
      return conclusion === "success" ? EXIT_OK : EXIT_FAILED;
    } finally {
      await source.close();
    }
  } finally {
    await rm(tempDir, { recursive: true, force: true, maxRetries: 3 });
  }
}

/** The embedded service's log level: LOG_LEVEL, else `warn` (the job's log is the output). */
function serviceLogLevel(env: Readonly<Record<string, string | undefined>>): LogLevel {
  const raw = env["LOG_LEVEL"];
  return raw === undefined || raw.trim() === "" ? "warn" : logLevelFromEnv({ LOG_LEVEL: raw });
}

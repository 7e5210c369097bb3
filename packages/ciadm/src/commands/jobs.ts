import type { CliContext } from "@solstice/cli-kit";
import { EXIT_OK } from "@solstice/cli-kit";
import { type Command, InvalidArgumentError, Option } from "commander";
import { OrchestratorClient } from "../api/orchestrator-client.ts";
import { addApiOptions, apiTarget } from "../cli/connection-options.ts";
import { formatJobTable } from "../output/job-text.ts";

interface JobsOptions {
  state?: string;
  label?: string;
  host?: string;
  limit?: number;
  json?: boolean;
  orchUrl?: string;
  orchToken?: string;
}

function limit(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new InvalidArgumentError("expected 1 to 1000");
  return n;
}

/** `ciadm jobs`: the jobs the orchestrators recorded, newest first, as a table. */
export function registerJobs(program: Command, ctx: CliContext): void {
  const command = program
    .command("jobs")
    .description("list jobs, newest first (a table; --json for scripts)")
    .addOption(
      new Option("--state <state>", "only jobs in this state").choices(["accepted", "running", "finished"]),
    )
    .option("--label <label>", "only jobs of this (resolved) image label")
    .option("--host <host-id>", "only jobs of this orchestrator host")
    .option("--limit <n>", "at most this many (1-1000, default 50)", limit)
    .option("--json", "print the jobs as JSON");
  addApiOptions(command);
  command.action(
    ctx.action(async (opts: JobsOptions) => {
      const { jobs } = await new OrchestratorClient(apiTarget(opts, ctx.env)).listJobs({
        state: opts.state,
        label: opts.label,
        host: opts.host,
        limit: opts.limit,
      });
      ctx.stdout.write(opts.json === true ? `${JSON.stringify(jobs, null, 2)}\n` : formatJobTable(jobs));
      return EXIT_OK;
    }),
  );
}

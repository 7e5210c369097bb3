import type { CliContext } from "@solstice/cli-kit";
import { EXIT_OK } from "@solstice/cli-kit";
import type { Command } from "commander";
import { OrchestratorClient } from "../api/orchestrator-client.ts";
import { addApiOptions, apiTarget } from "../cli/connection-options.ts";
import { formatJobStatus } from "../output/job-text.ts";

/** `ciadm status <id>`: one job's state, conclusion, reason and VMs. */
export function registerStatus(program: Command, ctx: CliContext): void {
  const command = program
    .command("status")
    .summary("show one job: state, conclusion, reason, times, VMs")
    .description("show one job: state, conclusion, reason, times, VMs (exit 2 for an unknown id)")
    .argument("<id>", "the job's request id, or a unique prefix of it (at least 4 characters)")
    .option("--json", "print the API's answer as JSON");
  addApiOptions(command);
  command.action(
    ctx.action(async (id: string, opts: { json?: boolean; orchUrl?: string; orchToken?: string }) => {
      const api = new OrchestratorClient(apiTarget(opts, ctx.env));
      const job = await api.getJob(await api.resolveJobId(id));
      ctx.stdout.write(opts.json === true ? `${JSON.stringify(job, null, 2)}\n` : formatJobStatus(job));
      return EXIT_OK;
    }),
  );
}

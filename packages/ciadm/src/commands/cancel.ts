import type { CliContext } from "@solstice/cli-kit";
import { EXIT_OK } from "@solstice/cli-kit";
import type { Command } from "commander";
import { OrchestratorClient } from "../api/orchestrator-client.ts";
import { addApiOptions, apiTarget } from "../cli/connection-options.ts";

/** `ciadm cancel <id>`: cancels a queued or running job through the HTTP API. */
export function registerCancel(program: Command, ctx: CliContext): void {
  const command = program
    .command("cancel")
    .summary("cancel a queued or running job")
    .description(
      "cancel a job that has not finished: its VM is stopped and it is reported cancelled " +
        "(exit 1 when it already finished, 2 for an unknown id)",
    )
    .argument("<id>", "the job's request id, or a unique prefix of it (at least 4 characters)")
    .option("--reason <text>", "shown in the job's log and result", "cancelled with ciadm");
  addApiOptions(command);
  command.action(
    ctx.action(async (id: string, opts: { reason: string; orchUrl?: string; orchToken?: string }) => {
      const api = new OrchestratorClient(apiTarget(opts, ctx.env));
      const answer = await api.cancel(await api.resolveJobId(id), opts.reason);
      ctx.stdout.write(`${answer.request_id}: ${answer.state}\n`);
      return EXIT_OK;
    }),
  );
}

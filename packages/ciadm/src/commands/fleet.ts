import type { CliContext } from "@solstice/cli-kit";
import { EXIT_OK } from "@solstice/cli-kit";
import type { Command } from "commander";
import { OrchestratorClient } from "../api/orchestrator-client.ts";
import { addApiOptions, apiTarget } from "../cli/connection-options.ts";
import { formatFleet } from "../output/fleet-text.ts";

/** `ciadm fleet`: every orchestrator host and each label's queue, from `GET /v1/fleet`. */
export function registerFleet(program: Command, ctx: CliContext): void {
  const command = program
    .command("fleet")
    .summary("show the orchestrator hosts and the label queues")
    .description(
      "show every orchestrator host as its heartbeats recorded it (state up, draining, stale or stopped; " +
        "labels with their capacity; capacity; running jobs; last seen; version) and each label's queue " +
        "(requests waiting, consumers, the hosts serving it), as any one orchestrator's GET /v1/fleet reports them",
    )
    .option("--json", "print the API's answer as JSON");
  addApiOptions(command);
  command.action(
    ctx.action(async (opts: { json?: boolean; orchUrl?: string; orchToken?: string }) => {
      const view = await new OrchestratorClient(apiTarget(opts, ctx.env)).fleet();
      ctx.stdout.write(opts.json === true ? `${JSON.stringify(view, null, 2)}\n` : formatFleet(view));
      return EXIT_OK;
    }),
  );
}

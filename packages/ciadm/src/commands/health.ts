import type { CliContext } from "@solstice/cli-kit";
import { EXIT_FAILED, EXIT_OK } from "@solstice/cli-kit";
import type { Command } from "commander";
import { OrchestratorClient } from "../api/orchestrator-client.ts";
import {
  addApiOptions,
  addDatabaseOption,
  addQueueOptions,
  apiTarget,
  queueConfig,
} from "../cli/connection-options.ts";
import { checkBroker, checkDatabase, checkOrchestrator } from "../health/health-checks.ts";
import { textTable } from "../output/text-table.ts";

/** `ciadm health`: the orchestrator's readiness, the broker, the database. */
export function registerHealth(program: Command, ctx: CliContext): void {
  const command = program
    .command("health")
    .summary("check the orchestrator, RabbitMQ and Postgres")
    .description(
      "check the orchestrator (its /readyz: database and broker as it sees them), RabbitMQ at AMQP_URL, " +
        "and Postgres at DATABASE_URL with its migrations; exit 0 when all pass, 1 when one fails",
    )
    .option("--json", "print the checks as JSON");
  addApiOptions(command);
  addQueueOptions(command);
  addDatabaseOption(command, "Postgres URL to check (unset: the database check is skipped)");
  command.action(
    ctx.action(
      async (
        opts: Record<string, unknown> & {
          json?: boolean;
          databaseUrl?: string;
          orchUrl?: string;
          orchToken?: string;
        },
      ) => {
        const api = new OrchestratorClient(apiTarget(opts, ctx.env), { timeoutMs: 5_000 });
        const checks = await Promise.all([
          checkOrchestrator(api),
          checkBroker(queueConfig(opts)),
          checkDatabase(opts.databaseUrl),
        ]);
        ctx.stdout.write(
          opts.json === true
            ? `${JSON.stringify(checks, null, 2)}\n`
            : textTable(
                ["CHECK", "STATUS", "DETAIL"],
                checks.map((c) => [c.name, c.status, c.detail]),
              ),
        );
        return checks.some((c) => c.status === "failed") ? EXIT_FAILED : EXIT_OK;
      },
    ),
  );
}

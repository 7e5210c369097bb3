import { readFileSync } from "node:fs";
import type { CliContext } from "@solstice/cli-kit";
import { prepareProgram } from "@solstice/cli-kit";
import { Command } from "commander";
import { registerCancel } from "./commands/cancel.ts";
import { registerDlqList } from "./commands/dlq-list.ts";
import { registerDlqPurge } from "./commands/dlq-purge.ts";
import { registerDlqReplay } from "./commands/dlq-replay.ts";
import { registerFleet } from "./commands/fleet.ts";
import { registerHealth } from "./commands/health.ts";
import { registerImagesList } from "./commands/images-list.ts";
import { registerImagesPull } from "./commands/images-pull.ts";
import { registerImagesWarm } from "./commands/images-warm.ts";
import { registerJobs } from "./commands/jobs.ts";
import { registerLogs } from "./commands/logs.ts";
import { registerMigrate } from "./commands/migrate.ts";
import { registerStatus } from "./commands/status.ts";
import { registerTrigger } from "./commands/trigger.ts";

const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
  version: string;
};

/** The `ciadm` program with every command; `ctx` says where they write. */
export function buildProgram(ctx: CliContext): Command {
  const program = prepareProgram(
    new Command("ciadm")
      .description(
        "Solstice CI operator CLI: trigger, watch and cancel jobs through the queue and the orchestrator's " +
          "HTTP API; inspect and replay the dead-letter queue; images, migrations, health.\n\n" +
          "Connection settings are flags with the services' environment variables behind them " +
          "(ORCH_URL, ORCH_TOKEN/HTTP_TOKEN, AMQP_URL and AMQP_*, DATABASE_URL, ORCH_CONFIG): see each command's --help. " +
          "Exit codes: 0 ok; 1 the job failed or was cancelled, a check failed; 2 usage or connection error.",
      )
      .version(version)
      .configureOutput({
        writeOut: (text) => ctx.stdout.write(text),
        writeErr: (text) => ctx.stderr.write(text),
      }),
  );
  registerTrigger(program, ctx);
  registerStatus(program, ctx);
  registerJobs(program, ctx);
  registerLogs(program, ctx);
  registerCancel(program, ctx);
  const dlq = program.command("dlq").description("the dead-letter queue: list, replay, purge");
  registerDlqList(dlq, ctx);
  registerDlqReplay(dlq, ctx);
  registerDlqPurge(dlq, ctx);
  const images = program.command("images").description("the image map's base images: list, pull, warm");
  registerImagesList(images, ctx);
  registerImagesPull(images, ctx);
  registerImagesWarm(images, ctx);
  registerMigrate(program, ctx);
  registerHealth(program, ctx);
  registerFleet(program, ctx);
  return program;
}

import { createInterface } from "node:readline/promises";
import type { CliContext } from "@solstice/cli-kit";
import { EXIT_FAILED, EXIT_OK } from "@solstice/cli-kit";
import type { Command } from "commander";
import { addQueueOptions, queueConfig } from "../cli/connection-options.ts";
import { UsageError } from "../errors.ts";
import { withQueue } from "../queue/connect-queue.ts";

/** `ciadm dlq purge`: deletes every dead letter, after asking (unless `--yes`). */
export function registerDlqPurge(dlq: Command, ctx: CliContext): void {
  const command = dlq
    .command("purge")
    .description(
      "delete every dead letter (asks first; --yes to skip the question, required without a terminal)",
    )
    .option("-y, --yes", "do not ask");
  addQueueOptions(command);
  command.action(
    ctx.action(async (opts: Record<string, unknown> & { yes?: boolean }) => {
      const config = queueConfig(opts);
      if (opts.yes !== true) {
        if (process.stdin.isTTY !== true) {
          throw new UsageError(
            "refusing to purge without --yes: standard input is not a terminal",
            "add --yes",
          );
        }
        const prompt = createInterface({ input: process.stdin, output: ctx.stderr });
        const answer = await prompt.question(
          `Delete every message in ${config.dlq}? This cannot be undone. [y/N] `,
        );
        prompt.close();
        if (!/^y(es)?$/i.test(answer.trim())) {
          ctx.stderr.write("nothing deleted\n");
          return EXIT_FAILED;
        }
      }
      const n = await withQueue(config, (q) => q.deadLetters.purge());
      ctx.stdout.write(`purged ${n} message${n === 1 ? "" : "s"} from ${config.dlq}\n`);
      return EXIT_OK;
    }),
  );
}

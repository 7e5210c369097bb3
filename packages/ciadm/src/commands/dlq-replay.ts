import type { CliContext } from "@solstice/cli-kit";
import { EXIT_OK } from "@solstice/cli-kit";
import type { Command } from "commander";
import { addQueueOptions, queueConfig } from "../cli/connection-options.ts";
import { UsageError } from "../errors.ts";
import { withQueue } from "../queue/connect-queue.ts";

/** `ciadm dlq replay <message-id>|--all`: sends dead letters back to where they came from. */
export function registerDlqReplay(dlq: Command, ctx: CliContext): void {
  const command = dlq
    .command("replay")
    .summary("send dead letters back to their queue")
    .description(
      "publish dead letters back to their original exchange and routing key (without the reason " +
        "headers, x-solstice-replays + 1) and remove them from the dead-letter queue",
    )
    .argument("[message-id]", "the message to replay (see ciadm dlq list)")
    .option("--all", "replay every dead letter");
  addQueueOptions(command);
  command.action(
    ctx.action(async (messageId: string | undefined, opts: Record<string, unknown> & { all?: boolean }) => {
      if ((messageId === undefined) === (opts.all !== true)) {
        throw new UsageError("give a message id or --all (not both)", "list the ids with: ciadm dlq list");
      }
      const selector = messageId === undefined ? ({ all: true } as const) : { messageId };
      const n = await withQueue(queueConfig(opts), (q) => q.deadLetters.replay(selector));
      ctx.stdout.write(`replayed ${n} message${n === 1 ? "" : "s"}\n`);
      return EXIT_OK;
    }),
  );
}

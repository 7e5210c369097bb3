import type { CliContext } from "@solstice/cli-kit";
import { EXIT_OK } from "@solstice/cli-kit";
import { type Command, InvalidArgumentError } from "commander";
import { addQueueOptions, queueConfig } from "../cli/connection-options.ts";
import { deadLetterJson, formatDeadLetters } from "../output/dead-letter-text.ts";
import { withQueue } from "../queue/connect-queue.ts";

function count(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("expected a whole number ≥ 1");
  return n;
}

/** `ciadm dlq list`: the dead letters with their reasons, left in the queue. */
export function registerDlqList(dlq: Command, ctx: CliContext): void {
  const command = dlq
    .command("list")
    .description("list the dead-lettered messages with why each failed (they stay in the queue)")
    .option("--limit <n>", "at most this many (oldest first)", count, 1000)
    .option("--body", "also print each message's body (it may hold secrets)")
    .option("--json", "print them as JSON");
  addQueueOptions(command);
  command.action(
    ctx.action(async (opts: Record<string, unknown> & { limit: number; body?: boolean; json?: boolean }) => {
      const letters = await withQueue(queueConfig(opts), (q) => q.deadLetters.list({ limit: opts.limit }));
      const withBody = opts.body === true;
      ctx.stdout.write(
        opts.json === true
          ? `${JSON.stringify(
              letters.map((l) => deadLetterJson(l, withBody)),
              null,
              2,
            )}\n`
          : formatDeadLetters(letters, withBody),
      );
      return EXIT_OK;
    }),
  );
}

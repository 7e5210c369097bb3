import type { CliContext } from "@solstice/cli-kit";
import { EXIT_FAILED, EXIT_OK } from "@solstice/cli-kit";
import type { Command } from "commander";
import { OrchestratorClient } from "../api/orchestrator-client.ts";
import { addApiOptions, apiTarget } from "../cli/connection-options.ts";
import { followJob } from "../follow/follow-job.ts";
import { LogText } from "../output/job-text.ts";

interface LogsOptions {
  follow?: boolean;
  json?: boolean;
  orchUrl?: string;
  orchToken?: string;
}

/** `ciadm logs <id> [--follow]`: a job's stored log (its newest lines), page by page, or live. */
export function registerLogs(program: Command, ctx: CliContext): void {
  const command = program
    .command("logs")
    .summary("print a job's log; --follow streams it live until the job ends")
    .description(
      "print a job's log (the newest lines the orchestrator keeps: 10,000 by default); with --follow, stream it " +
        "live until the job ends, then exit 0 if it succeeded, 1 if not",
    )
    .argument("<id>", "the job's request id, or a unique prefix of it (at least 4 characters)")
    .option("-f, --follow", "stream new lines until the job finishes")
    .option("--json", "one JSON object per line ({seq, line, step, stream, text, ts}) instead of text");
  addApiOptions(command);
  command.action(
    ctx.action(async (arg: string, opts: LogsOptions) => {
      const api = new OrchestratorClient(apiTarget(opts, ctx.env));
      const id = await api.resolveJobId(arg);
      if (opts.follow === true) {
        const note = (line: string) => ctx.stderr.write(`${line}\n`);
        if (opts.json === true) {
          const end = await api.followLogs(id, (line) => ctx.stdout.write(`${JSON.stringify(line)}\n`));
          return end.conclusion === "success" ? EXIT_OK : EXIT_FAILED;
        }
        const end = await followJob(api, id, ctx.stdout, note);
        note(`job ${id} ${end.conclusion ?? end.state}${end.reason === null ? "" : `: ${end.reason}`}`);
        return end.conclusion === "success" ? EXIT_OK : EXIT_FAILED;
      }
      const job = await api.getJob(id);
      const text = new LogText(job.request?.steps ?? []);
      await api.logLines(id, (line) =>
        ctx.stdout.write(opts.json === true ? `${JSON.stringify(line)}\n` : text.line(line)),
      );
      return EXIT_OK;
    }),
  );
}

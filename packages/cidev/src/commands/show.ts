import type { CliContext } from "@solstice/cli-kit";
import { EXIT_OK } from "@solstice/cli-kit";
import type { Command } from "commander";
import { jobStepsJson } from "../output/job-json.ts";
import { formatJobSteps } from "../output/job-text.ts";
import { selectJob } from "../workflow/job-translation.ts";
import { loadWorkflowFile } from "../workflow/load-workflow.ts";
import { resolveWorkflowPath } from "../workflow/workflow-file.ts";

/** `cidev show <file> --job <id>`: a job's steps with their names and commands, as written. */
export function registerShow(program: Command, ctx: CliContext): void {
  program
    .command("show")
    .description("show a job's steps with their names and commands, as the file writes them")
    .argument("<file>", "workflow file (KDL or Actions YAML), or a directory holding one")
    .option("-j, --job <id>", "the job (may be left out when the workflow has one job)")
    .option("--json", "print the job and its steps as one JSON object")
    .action(
      ctx.action(async (arg: string, opts: { job?: string; json?: boolean }) => {
        const loaded = await loadWorkflowFile(await resolveWorkflowPath(arg));
        const jobId = selectJob(loaded, opts.job);
        ctx.stdout.write(
          opts.json === true
            ? `${JSON.stringify(jobStepsJson(loaded, jobId), null, 2)}\n`
            : formatJobSteps(loaded, jobId),
        );
        return EXIT_OK;
      }),
    );
}

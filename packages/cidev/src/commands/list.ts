import type { CliContext } from "@solstice/cli-kit";
import { EXIT_OK } from "@solstice/cli-kit";
import type { Command } from "commander";
import { formatJobList } from "../output/job-text.ts";
import { jobSummaries, loadWorkflowFile } from "../workflow/load-workflow.ts";
import { resolveWorkflowPath } from "../workflow/workflow-file.ts";

/** `cidev list <file>`: the workflow's jobs with their `runs_on`. */
export function registerList(program: Command, ctx: CliContext): void {
  program
    .command("list")
    .description("list the jobs of a workflow with their runs_on label")
    .argument("<file>", "workflow file (KDL or Actions YAML), or a directory holding one")
    .option("--json", "print the jobs as JSON")
    .action(
      ctx.action(async (arg: string, opts: { json?: boolean }) => {
        const loaded = await loadWorkflowFile(await resolveWorkflowPath(arg));
        const jobs = jobSummaries(loaded);
        if (opts.json === true) {
          const json = {
            file: loaded.file,
            format: loaded.format,
            name: loaded.workflow.name ?? null,
            jobs: jobs.map((j) => ({
              id: j.id,
              runs_on: j.runsOn ?? null,
              name: j.name ?? null,
              steps: j.steps,
            })),
          };
          ctx.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
        } else {
          ctx.stdout.write(formatJobList(loaded, jobs));
        }
        return EXIT_OK;
      }),
    );
}

import type { CliContext } from "@solstice/cli-kit";
import { EXIT_OK } from "@solstice/cli-kit";
import type { Command } from "commander";
import { formatTranslation, formatWarnings, translationJson } from "../output/job-text.ts";
import { translateWorkflowJob } from "../workflow/job-translation.ts";
import { loadWorkflowFile } from "../workflow/load-workflow.ts";
import { translationContextFor } from "../workflow/translation-context.ts";
import { resolveWorkflowPath } from "../workflow/workflow-file.ts";

interface TranslateOptions {
  job?: string;
  json?: boolean;
  sha?: string;
  ref?: string;
  repository?: string;
  serverUrl?: string;
  runsOn?: string;
}

/**
 * `cidev translate <file> [--job <id>] [--json]`: the JobRequest a runner service would publish
 * for the job (same translation code), and how `uses:` steps are treated.
 */
export function registerTranslate(program: Command, ctx: CliContext): void {
  program
    .command("translate")
    .summary("show the JobRequest a runner service would publish for a job")
    .description(
      "show what a runner service would publish for a job: the JobRequest's runs_on, env and steps " +
        "(actions/checkout becomes a git step; any other uses: becomes a step that fails, with a warning)",
    )
    .argument("<file>", "workflow file (KDL or Actions YAML), or a directory holding one")
    .option("-j, --job <id>", "the job (may be left out when the workflow has one job)")
    .option("--json", "print the request fields and the warnings as JSON")
    .option("--sha <sha>", "github.sha (default: HEAD of the repository holding the file)")
    .option("--ref <ref>", "github.ref (default: refs/heads/<current branch>)")
    .option("--repository <owner/name>", "github.repository (default: from the origin remote)")
    .option("--server-url <url>", "github.server_url (default: from the origin remote)")
    .option("--runs-on <label>", "the label to run on, over the workflow's")
    .action(
      ctx.action(async (arg: string, opts: TranslateOptions) => {
        const file = await resolveWorkflowPath(arg);
        const loaded = await loadWorkflowFile(file);
        const context = await translationContextFor(file, opts);
        const translation = translateWorkflowJob(loaded, context);
        if (opts.json === true) {
          ctx.stdout.write(`${JSON.stringify(translationJson(translation), null, 2)}\n`);
        } else {
          ctx.stdout.write(formatTranslation(translation));
          ctx.stderr.write(formatWarnings(translation));
        }
        return EXIT_OK;
      }),
    );
}

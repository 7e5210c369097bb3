import type { CliContext, ExitCode } from "@solstice/cli-kit";
import { CliError, EXIT_USAGE } from "@solstice/cli-kit";
import { loadImageMap } from "@solstice/common";
import { labelNames, type RunnerLabel } from "@solstice/runner-core";
import { runnerImageLabel } from "../job/image-label.ts";
import { registerRunner } from "../registration/register-runner.ts";
import { runnerLabels } from "../registration/runner-labels.ts";
import { isConfigured, writeRunnerConfiguration } from "../settings/runner-files.ts";
import { writeLabelsFile } from "./runner-labels-file.ts";

// `register`: the v2 registration with a registration token, then the reference runner's files
// (0600) in the state directory, and the image labels beside them. A directory that already
// holds a runner is only replaced with --replace.

/** What `register` needs. */
export interface RegisterCommandOptions {
  readonly url: string;
  readonly token: string;
  readonly name: string;
  /** The image labels; `self-hosted`, the OS and the architecture are added. */
  readonly labels: readonly RunnerLabel[];
  readonly runnerGroup?: string;
  readonly ephemeral: boolean;
  readonly replace: boolean;
  readonly stateDir: string;
  /** The image map, to check that the labels name one image. */
  readonly imageMap?: string;
}

/** Registers the runner; returns the exit code. */
export async function registerCommand(ctx: CliContext, options: RegisterCommandOptions): Promise<ExitCode> {
  if (!options.replace && (await isConfigured(options.stateDir))) {
    throw new CliError(
      "GITHUB_RUNNER_ALREADY_REGISTERED",
      `${options.stateDir} already holds a registered runner`,
      {
        exitCode: EXIT_USAGE,
        hint: "pass --replace to register again (or `remove` the old runner first), or choose another --state-dir",
      },
    );
  }
  const images = labelNames(options.labels);
  // Refused before anything is registered: a runner serves one image (job/image-label.ts).
  if (options.imageMap !== undefined) runnerImageLabel(images, await loadImageMap(options.imageMap));
  const labels = runnerLabels({ extra: images });
  const configuration = await registerRunner({
    url: options.url,
    registrationToken: options.token,
    name: options.name,
    labels,
    ephemeral: options.ephemeral,
    replace: options.replace,
    ...(options.runnerGroup === undefined ? {} : { runnerGroup: options.runnerGroup }),
  });
  await writeRunnerConfiguration(options.stateDir, configuration);
  await writeLabelsFile(options.stateDir, images);
  const { settings } = configuration;
  ctx.stdout.write(
    `registered runner "${settings.agentName}" (id ${settings.agentId}) with ${options.url}\n` +
      `labels: ${labels.join(", ")}\n` +
      `state:  ${options.stateDir} (.runner, .credentials, .credentials_rsaparams; mode 0600, they hold the runner's key)\n`,
  );
  return 0;
}

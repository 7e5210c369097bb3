import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { CliContext, ExitCode } from "@solstice/cli-kit";
import { CliError, EXIT_USAGE } from "@solstice/cli-kit";
import { removeRunner } from "../registration/register-runner.ts";
import { deleteRunnerConfiguration, readRunnerConfiguration } from "../settings/runner-files.ts";
import { LABELS_FILE } from "./runner-labels-file.ts";

// `remove`: delete the runner on GitHub with a remove token, then its files.

/** Unregisters the runner of `stateDir`; returns the exit code. */
export async function removeCommand(
  ctx: CliContext,
  options: { readonly token: string; readonly stateDir: string },
): Promise<ExitCode> {
  const { settings } = await readRunnerConfiguration(options.stateDir);
  if (settings.gitHubUrl === undefined) {
    throw new CliError(
      "GITHUB_RUNNER_NOT_REMOVABLE",
      `${join(options.stateDir, ".runner")} has no gitHubUrl`,
      {
        exitCode: EXIT_USAGE,
        hint: "a JIT runner is removed by GitHub after its job; delete the directory",
      },
    );
  }
  await removeRunner({
    url: settings.gitHubUrl,
    removeToken: options.token,
    runnerId: settings.agentId,
    // Registered the legacy way (GHES without the runner-admin flow): its pool's agent goes.
    ...(settings.useRunnerAdminFlow
      ? {}
      : { legacy: { poolId: settings.poolId, agentName: settings.agentName } }),
  });
  await deleteRunnerConfiguration(options.stateDir);
  await rm(join(options.stateDir, LABELS_FILE), { force: true });
  ctx.stdout.write(
    `removed runner "${settings.agentName}" (id ${settings.agentId}) from ${settings.gitHubUrl}\n`,
  );
  return 0;
}

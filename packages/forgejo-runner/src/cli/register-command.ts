import { setTimeout as sleep } from "node:timers/promises";
import { type CliContext, CliError, EXIT_FAILED, type ExitCode } from "@solstice/cli-kit";
import { ForgejoClient, type ForgejoRpcError, normaliseInstanceUrl } from "@solstice/forgejo-protocol";
import { formatRunnerLabel, labelNames, type RunnerLabel } from "@solstice/runner-core";
import { AlreadyRegisteredError } from "../errors.ts";
import { readRunnerState, runnerStateExists, writeRunnerState } from "../state/runner-state.ts";
import { RUNNER_VERSION, userAgent } from "../version.ts";

// `register`: ping the instance (once a second, for a while, as the reference runner), register
// with the registration token, store uuid and token in the state file (0600). A state file
// already there means the runner is registered: replacing it takes --force.

/** What `register` needs. */
export interface RegisterOptions {
  readonly instance: string;
  readonly token: string;
  readonly name: string;
  readonly labels: readonly RunnerLabel[];
  readonly stateFile: string;
  readonly force: boolean;
  /** How long to ping before giving up. Default 30 s. */
  readonly pingTimeoutMs?: number;
}

/** Registers the runner; returns the exit code. */
export async function registerRunner(ctx: CliContext, options: RegisterOptions): Promise<ExitCode> {
  const address = normaliseInstanceUrl(options.instance);
  if (!options.force && (await runnerStateExists(options.stateFile))) {
    const existing = await readRunnerState(options.stateFile).catch(() => undefined);
    throw new AlreadyRegisteredError(options.stateFile, existing?.name ?? "?", existing?.address ?? "?");
  }
  const client = new ForgejoClient({ instance: address, userAgent: userAgent(), timeoutMs: 10_000 });
  try {
    await pingUntilAnswered(ctx, client, address, options.pingTimeoutMs ?? 30_000);
    let runner: Awaited<ReturnType<ForgejoClient["register"]>>;
    try {
      runner = await client.register({
        name: options.name,
        token: options.token,
        version: RUNNER_VERSION,
        labels: labelNames(options.labels),
      });
    } catch (error) {
      const rpc = error as ForgejoRpcError;
      throw new CliError(
        "FORGEJO_REGISTRATION_REFUSED",
        `registration refused by ${address}: ${rpc.message}`,
        {
          exitCode: EXIT_FAILED,
          cause: error,
          ...(rpc.hint === undefined ? {} : { hint: rpc.hint }),
        },
      );
    }
    await writeRunnerState(options.stateFile, {
      id: Number(runner.id),
      uuid: runner.uuid,
      name: runner.name || options.name,
      token: runner.token,
      address,
      labels: options.labels.map(formatRunnerLabel),
    });
    ctx.stdout.write(
      `registered runner "${runner.name || options.name}" (id ${runner.id}) with ${address}\n` +
        `labels: ${labelNames(options.labels).join(", ")}\n` +
        `state:  ${options.stateFile} (mode 0600; it holds the runner's token)\n`,
    );
    return 0;
  } finally {
    client.close();
  }
}

async function pingUntilAnswered(ctx: CliContext, client: ForgejoClient, address: string, timeoutMs: number) {
  const until = Date.now() + timeoutMs;
  let said = false;
  for (;;) {
    try {
      await client.ping("solstice-forgejo-runner");
      return;
    } catch (error) {
      if (Date.now() >= until) {
        throw new CliError(
          "FORGEJO_UNREACHABLE",
          `${address} does not answer the runner API (${(error as Error).message})`,
          {
            exitCode: EXIT_FAILED,
            hint: "check the URL (the one users open in a browser) and that Actions are enabled on the instance",
          },
        );
      }
      if (!said) ctx.stderr.write(`waiting for ${address} to answer...\n`);
      said = true;
      await sleep(1000);
    }
  }
}

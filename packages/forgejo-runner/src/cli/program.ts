import { hostname } from "node:os";
import { type CliContext, prepareProgram } from "@solstice/cli-kit";
import {
  addMqOptions,
  initTelemetry,
  mqConfigFromOptions,
  onStopSignals,
  otlpOption,
} from "@solstice/common";
import { type HttpAddr, parseHttpAddr, resolveRunnerLabels } from "@solstice/runner-core";
import { Command, Option } from "commander";
import { startRunnerDaemon } from "../daemon/runner-daemon.ts";
import { DEFAULT_STATE_FILE, readRunnerState } from "../state/runner-state.ts";
import { RUNNER_VERSION } from "../version.ts";
import { registerRunner } from "./register-command.ts";

/** The service's name in logs and traces. */
export const SERVICE_NAME = "solstice-forgejo-runner";

const LABELS_FLAG_HINT = "--labels (FORGEJO_RUNNER_LABELS)";

function positiveInt(name: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a whole number >= 1, got "${value}"`);
    return n;
  };
}

const stateFileOption = (): Option =>
  new Option(
    "--state-file <path>",
    "the runner's registration (uuid, token), like the Forgejo runner's .runner",
  )
    .env("FORGEJO_RUNNER_STATE_FILE")
    .default(DEFAULT_STATE_FILE);
const labelsOption = (): Option =>
  new Option(
    "--labels <list>",
    "comma-separated labels, name[:scheme]; default: the labels and aliases of the image map (--config)",
  ).env("FORGEJO_RUNNER_LABELS");
const imageMapOption = (): Option =>
  new Option("--config <path>", "the orchestrator image map, whose labels the runner offers by default").env(
    "ORCH_CONFIG",
  );

/** The `solstice-forgejo-runner` program. */
export function buildProgram(ctx: CliContext): Command {
  const program = prepareProgram(
    new Command(SERVICE_NAME)
      .description(
        "Solstice CI's Forgejo runner: registers with a Forgejo instance as an Actions runner and runs its jobs in Solstice VMs.",
      )
      .version(RUNNER_VERSION),
  );

  program
    .command("register")
    .description("register with a Forgejo instance and store the runner's credentials in the state file")
    .addOption(
      new Option("--instance <url>", "the Forgejo URL, e.g. https://codeberg.org")
        .env("FORGEJO_INSTANCE_URL")
        .makeOptionMandatory(),
    )
    .addOption(
      new Option("--token <token>", "a runner registration token (Forgejo: Settings → Actions → Runners)")
        .env("FORGEJO_RUNNER_REGISTRATION_TOKEN")
        .makeOptionMandatory(),
    )
    .addOption(
      new Option("--name <name>", "the runner's name in Forgejo")
        .env("FORGEJO_RUNNER_NAME")
        .default(hostname()),
    )
    .addOption(labelsOption())
    .addOption(imageMapOption())
    .addOption(stateFileOption())
    .option("--force", "register again even though the state file exists (replaces it)", false)
    .action(
      ctx.action(async (opts: Record<string, string | boolean | undefined>) => {
        const { labels } = await resolveRunnerLabels({
          flag: opts["labels"] as string | undefined,
          imageMap: opts["config"] as string | undefined,
          flagHint: LABELS_FLAG_HINT,
        });
        return registerRunner(ctx, {
          instance: String(opts["instance"]),
          token: String(opts["token"]),
          name: String(opts["name"]),
          labels,
          stateFile: String(opts["stateFile"]),
          force: opts["force"] === true,
        });
      }),
    );

  const daemon = program
    .command("daemon")
    .description("declare the labels, then take tasks from Forgejo and run them as Solstice jobs")
    .addOption(stateFileOption())
    .addOption(labelsOption())
    .addOption(imageMapOption())
    .addOption(
      new Option("--capacity <n>", "tasks at once")
        .env("FORGEJO_RUNNER_CAPACITY")
        .default(1)
        .argParser(positiveInt("--capacity")),
    )
    .addOption(
      new Option("--fetch-interval-ms <ms>", "between FetchTask calls when there is no task")
        .env("FORGEJO_RUNNER_FETCH_INTERVAL_MS")
        .default(2000)
        .argParser(positiveInt("--fetch-interval-ms")),
    )
    .addOption(
      new Option("--report-interval-ms <ms>", "between log/state reports of a running task")
        .env("FORGEJO_RUNNER_REPORT_INTERVAL_MS")
        .default(1000)
        .argParser(positiveInt("--report-interval-ms")),
    )
    .addOption(
      new Option(
        "--journal-dir <path>",
        "where running tasks are journaled for a restart (default: <state-file>.tasks)",
      ).env("FORGEJO_RUNNER_JOURNAL_DIR"),
    )
    .addOption(
      new Option(
        "--checkout-url <url>",
        "fetch checkouts from here instead of <server_url>/<repository> (a mirror)",
      ).env("FORGEJO_CHECKOUT_URL"),
    )
    .addOption(otlpOption())
    .addOption(
      new Option(
        "--http-addr <host:port>",
        "serve /healthz, /readyz and /metrics here, e.g. 127.0.0.1:9465 (default: no HTTP port)",
      )
        .env("FORGEJO_RUNNER_HTTP_ADDR")
        .argParser(parseHttpAddr),
    );
  addMqOptions(daemon);
  daemon.action(
    ctx.action(async (opts: Record<string, unknown>) => {
      const stateFile = String(opts["stateFile"]);
      const state = await readRunnerState(stateFile);
      const { labels, from } = await resolveRunnerLabels({
        flag: opts["labels"] as string | undefined,
        imageMap: opts["config"] as string | undefined,
        registered: state.labels,
        flagHint: LABELS_FLAG_HINT,
      });
      const mq = mqConfigFromOptions(opts);
      const telemetry = initTelemetry({
        serviceName: SERVICE_NAME,
        serviceVersion: RUNNER_VERSION,
        otlpEndpoint: typeof opts["otlp"] === "string" ? opts["otlp"] : undefined,
      });
      const { logger } = telemetry;
      logger.info({ from }, "labels chosen");
      const runner = await startRunnerDaemon(
        {
          stateFile,
          labels,
          capacity: opts["capacity"] as number,
          mq,
          fetchIntervalMs: opts["fetchIntervalMs"] as number,
          reportIntervalMs: opts["reportIntervalMs"] as number,
          ...(typeof opts["journalDir"] === "string" ? { journalDir: opts["journalDir"] } : {}),
          ...(typeof opts["checkoutUrl"] === "string" ? { checkoutUrl: opts["checkoutUrl"] } : {}),
          httpAddr: opts["httpAddr"] as HttpAddr | undefined,
        },
        logger,
      );
      const stopped = new Promise<void>((resolve) => {
        onStopSignals({
          stop: (signal) => {
            logger.info(
              { signal },
              "stop requested; running tasks resume from the journal on the next start",
            );
            void runner.stop().then(resolve);
          },
          hurry: () => undefined,
          abandon: () => process.exit(130),
        });
      });
      await stopped;
      await telemetry.shutdown();
      return 0;
    }),
  );
  return program;
}

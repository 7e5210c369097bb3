import { hostname } from "node:os";
import { type CliContext, prepareProgram } from "@solstice/cli-kit";
import { addMqOptions, mqConfigFromOptions, otlpOption } from "@solstice/common";
import { type HttpAddr, parseHttpAddr, resolveRunnerLabels } from "@solstice/runner-core";
import { Command, Option } from "commander";
import { DEFAULT_REPORT_INTERVAL_MS } from "../report/job-reporter.ts";
import { PACKAGE_VERSION } from "../version.ts";
import { daemonCommand } from "./daemon-command.ts";
import { chooseDaemonMode } from "./daemon-mode.ts";
import { registerCommand } from "./register-command.ts";
import { removeCommand } from "./remove-command.ts";

/** The service's name in logs and traces. */
export const SERVICE_NAME = "solstice-github-runner";

/** Where the runner's files, journal and job tokens live unless told otherwise. */
export const DEFAULT_STATE_DIR = ".github-runner";

const LABELS_FLAG_HINT = "--labels (GITHUB_RUNNER_LABELS)";

function positiveInt(name: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a whole number >= 1, got "${value}"`);
    return n;
  };
}

const str = (value: unknown): string | undefined =>
  typeof value === "string" && value !== "" ? value : undefined;

const stateDirOption = (): Option =>
  new Option(
    "--state-dir <path>",
    "the runner's .runner, .credentials and .credentials_rsaparams, its job journal and job tokens",
  )
    .env("GITHUB_RUNNER_STATE_DIR")
    .default(DEFAULT_STATE_DIR);
const labelsOption = (): Option =>
  new Option(
    "--labels <list>",
    "comma-separated image labels (self-hosted, the OS and the architecture are added); default: the labels and aliases of the image map (--config)",
  ).env("GITHUB_RUNNER_LABELS");
const imageMapOption = (): Option =>
  new Option("--config <path>", "the orchestrator image map, whose labels the runner offers by default").env(
    "ORCH_CONFIG",
  );
const runnerGroupOption = (): Option =>
  new Option(
    "--runner-group <name>",
    "the runner group (organizations and enterprises); default: the default group",
  ).env("GITHUB_RUNNER_GROUP");
const boolOption = (flags: string, description: string, env: string): Option =>
  new Option(flags, description).env(env).default(false);

/** The `solstice-github-runner` program. */
export function buildProgram(ctx: CliContext): Command {
  const program = prepareProgram(
    new Command(SERVICE_NAME)
      .description(
        "Solstice CI's GitHub runner: a self-hosted GitHub Actions runner whose jobs run in Solstice VMs.",
      )
      .version(PACKAGE_VERSION),
  );

  program
    .command("register")
    .description(
      "register with a repository or organization (registration token) and store the runner's files in --state-dir",
    )
    .addOption(
      new Option(
        "--url <url>",
        "the repository or organization, e.g. https://github.com/acme/widgets (GHES URLs work too)",
      )
        .env("GITHUB_RUNNER_URL")
        .makeOptionMandatory(),
    )
    .addOption(
      new Option(
        "--token <token>",
        "a registration token (Settings → Actions → Runners → New self-hosted runner); it lasts an hour",
      )
        .env("GITHUB_RUNNER_REGISTRATION_TOKEN")
        .makeOptionMandatory(),
    )
    .addOption(
      new Option("--name <name>", "the runner's name on GitHub")
        .env("GITHUB_RUNNER_NAME")
        .default(hostname()),
    )
    .addOption(labelsOption())
    .addOption(imageMapOption())
    .addOption(runnerGroupOption())
    .addOption(
      boolOption("--ephemeral", "take one job, then GitHub removes the runner", "GITHUB_RUNNER_EPHEMERAL"),
    )
    .addOption(
      boolOption(
        "--replace",
        "replace a runner of the same name, and the files of --state-dir",
        "GITHUB_RUNNER_REPLACE",
      ),
    )
    .addOption(stateDirOption())
    .action(
      ctx.action(async (opts: Record<string, unknown>) => {
        const { labels } = await resolveRunnerLabels({
          flag: str(opts["labels"]),
          imageMap: str(opts["config"]),
          flagHint: LABELS_FLAG_HINT,
        });
        const runnerGroup = str(opts["runnerGroup"]);
        const imageMap = str(opts["config"]);
        return registerCommand(ctx, {
          ...(imageMap === undefined ? {} : { imageMap }),
          url: String(opts["url"]),
          token: String(opts["token"]),
          name: String(opts["name"]),
          labels,
          ...(runnerGroup === undefined ? {} : { runnerGroup }),
          ephemeral: opts["ephemeral"] === true,
          replace: opts["replace"] === true,
          stateDir: String(opts["stateDir"]),
        });
      }),
    );

  program
    .command("remove")
    .description("unregister the runner of --state-dir (remove token) and delete its files")
    .addOption(
      new Option("--token <token>", "a remove token (Settings → Actions → Runners → the runner → Remove)")
        .env("GITHUB_RUNNER_REMOVE_TOKEN")
        .makeOptionMandatory(),
    )
    .addOption(stateDirOption())
    .action(
      ctx.action(async (opts: Record<string, unknown>) =>
        removeCommand(ctx, { token: String(opts["token"]), stateDir: String(opts["stateDir"]) }),
      ),
    );

  const daemon = program
    .command("daemon")
    .description(
      "listen for jobs and run them as Solstice jobs: the runner registered in --state-dir, one job of a JIT config (--jitconfig), or a pool of JIT runners of a GitHub App (--app-id)",
    )
    .addOption(stateDirOption())
    .addOption(labelsOption())
    .addOption(imageMapOption())
    .addOption(
      new Option(
        "--jitconfig <encoded>",
        "run one job with this just-in-time config (no registration), then exit",
      ).env("ACTIONS_RUNNER_INPUT_JITCONFIG"),
    )
    .addOption(new Option("--app-id <id>", "GitHub App mode: the App's id").env("GITHUB_RUNNER_APP_ID"))
    .addOption(
      new Option("--app-private-key-file <path>", "GitHub App mode: the App's private key (PEM)").env(
        "GITHUB_RUNNER_APP_PRIVATE_KEY_FILE",
      ),
    )
    .addOption(
      new Option(
        "--app-target <owner/repo|org|url>",
        "GitHub App mode: the repository or organization the runners serve",
      ).env("GITHUB_RUNNER_APP_TARGET"),
    )
    .addOption(
      new Option("--github-url <url>", "GitHub App mode: where owner/repo targets live (a GHES URL)")
        .env("GITHUB_RUNNER_GITHUB_URL")
        .default("https://github.com"),
    )
    .addOption(
      new Option("--name-prefix <prefix>", "GitHub App mode: JIT runners are named <prefix>-<random>")
        .env("GITHUB_RUNNER_NAME_PREFIX")
        .default(`solstice-${hostname()}`),
    )
    .addOption(runnerGroupOption())
    .addOption(
      new Option(
        "--capacity <n>",
        "GitHub App mode: ephemeral runners (jobs) at once; a registered runner takes one job at a time",
      )
        .env("GITHUB_RUNNER_CAPACITY")
        .default(1)
        .argParser(positiveInt("--capacity")),
    )
    .addOption(
      new Option("--report-interval-ms <ms>", "between reports (step records, live lines) of a running job")
        .env("GITHUB_RUNNER_REPORT_INTERVAL_MS")
        .default(DEFAULT_REPORT_INTERVAL_MS)
        .argParser(positiveInt("--report-interval-ms")),
    )
    .addOption(
      new Option(
        "--event-prefetch <n>",
        "job events held unacknowledged at once (a running step's events wait until its log is on GitHub)",
      )
        .env("GITHUB_RUNNER_EVENT_PREFETCH")
        .default(20_000)
        .argParser(positiveInt("--event-prefetch")),
    )
    .addOption(
      new Option("--removed-retry-ms <ms>", "between attempts once GitHub says the runner was removed")
        .env("GITHUB_RUNNER_REMOVED_RETRY_MS")
        .default(300_000)
        .argParser(positiveInt("--removed-retry-ms")),
    )
    .addOption(
      new Option(
        "--checkout-url <url>",
        "fetch checkouts from here instead of <server_url>/<repository> (a mirror)",
      ).env("GITHUB_RUNNER_CHECKOUT_URL"),
    )
    .addOption(otlpOption())
    .addOption(
      new Option(
        "--http-addr <host:port>",
        "serve /healthz, /readyz and /metrics here, e.g. 127.0.0.1:9466 (default: no HTTP port)",
      )
        .env("GITHUB_RUNNER_HTTP_ADDR")
        .argParser(parseHttpAddr),
    );
  addMqOptions(daemon);
  daemon.action(
    ctx.action(async (opts: Record<string, unknown>) => {
      const mode = chooseDaemonMode({
        jitconfig: str(opts["jitconfig"]),
        appId: str(opts["appId"]),
        appPrivateKeyFile: str(opts["appPrivateKeyFile"]),
        appTarget: str(opts["appTarget"]),
        githubUrl: str(opts["githubUrl"]),
      });
      return daemonCommand({
        serviceName: SERVICE_NAME,
        mode,
        stateDir: String(opts["stateDir"]),
        labelsFlag: str(opts["labels"]),
        imageMap: str(opts["config"]),
        capacity: opts["capacity"] as number,
        namePrefix: String(opts["namePrefix"]),
        runnerGroup: str(opts["runnerGroup"]),
        mq: mqConfigFromOptions(opts),
        reportIntervalMs: opts["reportIntervalMs"] as number,
        eventPrefetch: opts["eventPrefetch"] as number,
        removedRetryMs: opts["removedRetryMs"] as number,
        checkoutUrl: str(opts["checkoutUrl"]),
        otlpEndpoint: str(opts["otlp"]),
        httpAddr: opts["httpAddr"] as HttpAddr | undefined,
      });
    }),
  );
  return program;
}

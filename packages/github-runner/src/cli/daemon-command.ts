import { readFile } from "node:fs/promises";
import { CliError, EXIT_USAGE, type ExitCode } from "@solstice/cli-kit";
import { initTelemetry, loadImageMap, type MqConfig, onStopSignals } from "@solstice/common";
import { type HttpAddr, labelNames, resolveRunnerLabels } from "@solstice/runner-core";
import { type DaemonMode, startRunnerDaemon } from "../daemon/runner-daemon.ts";
import { runnerImageLabel } from "../job/image-label.ts";
import { PACKAGE_VERSION } from "../version.ts";
import type { DaemonModeChoice } from "./daemon-mode.ts";
import { readLabelsFile } from "./runner-labels-file.ts";

// `daemon`: resolve labels and mode, start the daemon, and run until a stop signal, or, for a
// JIT runner, until its one job is complete.

/** What `daemon` needs once the flags are parsed. */
export interface DaemonCommandOptions {
  readonly serviceName: string;
  readonly mode: DaemonModeChoice;
  readonly stateDir: string;
  readonly labelsFlag: string | undefined;
  readonly imageMap: string | undefined;
  readonly capacity: number;
  readonly namePrefix: string;
  readonly runnerGroup: string | undefined;
  readonly mq: MqConfig;
  readonly reportIntervalMs: number;
  readonly eventPrefetch: number;
  readonly removedRetryMs: number;
  readonly checkoutUrl: string | undefined;
  /** `--otlp`: where spans go (else OTEL_EXPORTER_OTLP_ENDPOINT). */
  readonly otlpEndpoint?: string | undefined;
  /** `--http-addr`: where /healthz, /readyz and /metrics answer; undefined: no HTTP port. */
  readonly httpAddr?: HttpAddr | undefined;
}

async function daemonMode(choice: DaemonModeChoice, options: DaemonCommandOptions): Promise<DaemonMode> {
  if (choice.kind !== "app") return choice;
  let privateKey: string;
  try {
    privateKey = await readFile(choice.privateKeyFile, "utf8");
  } catch (error) {
    throw new CliError(
      "GITHUB_APP_KEY_UNREADABLE",
      `--app-private-key-file (GITHUB_RUNNER_APP_PRIVATE_KEY_FILE): cannot read ${choice.privateKeyFile}: ${(error as Error).message}`,
      { exitCode: EXIT_USAGE, hint: "the PEM file GitHub let you download from the App's settings" },
    );
  }
  return {
    kind: "app",
    app: { appId: choice.appId, privateKey },
    target: choice.target,
    capacity: options.capacity,
    namePrefix: options.namePrefix,
    ...(options.runnerGroup === undefined ? {} : { runnerGroup: options.runnerGroup }),
  };
}

/** Runs the daemon; resolves with the exit code once it stopped. */
export async function daemonCommand(options: DaemonCommandOptions): Promise<ExitCode> {
  const mode = await daemonMode(options.mode, options);
  // What the runner was registered with comes before the image map: GitHub routes by those.
  const registered = (await readLabelsFile(options.stateDir)) ?? [];
  const { labels, from } = await resolveRunnerLabels({
    flag: options.labelsFlag,
    imageMap: registered.length > 0 ? undefined : options.imageMap,
    registered,
    flagHint: "--labels (GITHUB_RUNNER_LABELS)",
  });
  // One image per runner (GitHub does not say which label a job matched): checked before starting.
  const names = labelNames(labels);
  const imageLabel = runnerImageLabel(
    names,
    options.imageMap === undefined ? undefined : await loadImageMap(options.imageMap),
  );
  const telemetry = initTelemetry({
    serviceName: options.serviceName,
    serviceVersion: PACKAGE_VERSION,
    otlpEndpoint: options.otlpEndpoint,
  });
  const { logger } = telemetry;
  logger.info({ from, labels: names, image: imageLabel }, "labels chosen");
  if (options.imageMap === undefined && names.length > 1) {
    logger.warn(
      { image: imageLabel, labels: names },
      `every job runs on ${imageLabel}; pass --config (the image map) to check that the other labels are its aliases`,
    );
  }
  if (mode.kind !== "app" && options.capacity > 1) {
    logger.warn("--capacity counts only in GitHub App mode: a registered runner takes one job at a time");
  }
  const daemon = await startRunnerDaemon(
    {
      mode,
      stateDir: options.stateDir,
      labels: names,
      imageLabel,
      mq: options.mq,
      reportIntervalMs: options.reportIntervalMs,
      eventPrefetch: options.eventPrefetch,
      removedRetryMs: options.removedRetryMs,
      ...(options.checkoutUrl === undefined ? {} : { checkoutUrl: options.checkoutUrl }),
      httpAddr: options.httpAddr,
    },
    logger,
  );
  const stopped = new Promise<void>((resolve) => {
    const remove = onStopSignals({
      stop: (signal) => {
        logger.info({ signal }, "stop requested; running jobs resume from the journal on the next start");
        void daemon.stop().then(resolve);
      },
      hurry: () => undefined,
      abandon: () => process.exit(130),
    });
    void daemon.done.then(async (end) => {
      if (end === "stopped") return;
      logger.info(
        { end },
        end === "job-done" ? "the JIT runner's job is complete; exiting" : "the runner ended",
      );
      remove();
      await daemon.stop();
      resolve();
    });
  });
  await stopped;
  await telemetry.shutdown();
  return 0;
}

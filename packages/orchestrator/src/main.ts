// solstice-orchestrator: the service's entry point. It only wires: flags and environment →
// config → telemetry → the service (src/service/orchestrator-service.ts) → signals. The same code
// runs the fleet (AMQP_URL + DATABASE_URL) and the embedded single-node mode (neither).
//
//   node --conditions=@solstice/source packages/orchestrator/src/main.ts --help   (from source)
//   solstice-orchestrator --help                                                   (built: bin/)

import { readFileSync } from "node:fs";
import { initTelemetry, onStopSignals, SolsticeError } from "@solstice/common";
import { Command } from "commander";
import {
  addServiceOptions,
  type ConfigUse,
  type ServiceConfig,
  serviceConfigFromCommand,
} from "./config/service-config.ts";
import { describeDatabaseTarget } from "./persistence/open-database.ts";
import { migrateDatabase, SERVICE_NAME, startOrchestrator } from "./service/orchestrator-service.ts";

const EXIT_START_FAILED = 1;
const EXIT_USAGE = 2;

const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
  version: string;
};

const program = addServiceOptions(
  new Command(SERVICE_NAME)
    .description(
      "Solstice CI orchestrator: takes JobRequests from the queue and runs each job in an ephemeral QEMU VM.\n" +
        "With neither AMQP_URL nor DATABASE_URL it runs embedded: in-process queue, PGlite under STATE_DIR.",
    )
    .version(version)
    .showHelpAfterError(),
);

program
  .command("run", { isDefault: true })
  .description("run the service (the default command)")
  .action(async () => {
    const config = readConfig();
    // --otlp reaches the exporter itself (not only the env it would otherwise read).
    const telemetry = initTelemetry({
      serviceName: SERVICE_NAME,
      serviceVersion: version,
      hostId: config.hostId,
      otlpEndpoint: config.otlpEndpoint,
    });
    const { logger } = telemetry;
    const started = startOrchestrator(config, { logger });
    // Installed before the start completes: a stop signal during start-up still stops cleanly.
    onStopSignals({
      stop: (signal) => {
        logger.info({ signal }, "stop requested (send it again to cancel running jobs at once)");
        void started
          .then((orchestrator) => orchestrator.stop())
          .then(
            (report) => report.failures.length === 0,
            () => false,
          )
          .then((clean) => telemetry.shutdown().then(() => process.exit(clean ? 0 : 1)));
      },
      hurry: (signal) => {
        logger.warn({ signal }, "second stop signal: cancelling running jobs now");
        void started.then(
          (orchestrator) => orchestrator.skipDrain(),
          () => undefined,
        );
      },
      abandon: (signal) => {
        logger.error({ signal }, "third stop signal: exiting without a clean shutdown");
        process.exit(130);
      },
    });
    try {
      await started;
    } catch (error) {
      logger.error({ err: error }, "cannot start");
      await telemetry.shutdown();
      fail(error, EXIT_START_FAILED);
    }
  });

program
  .command("migrate")
  .description(
    "apply the database migrations (Postgres at DATABASE_URL, else PGlite under STATE_DIR) and exit",
  )
  .action(async () => {
    const config = readConfig({ servesApi: false });
    try {
      const applied = await migrateDatabase(config);
      const target = describeDatabaseTarget(config.database);
      process.stdout.write(
        applied.length === 0
          ? `${target}: up to date\n`
          : `${target}: applied ${applied.length} migration(s): ${applied.join(", ")}\n`,
      );
    } catch (error) {
      fail(error, EXIT_START_FAILED);
    }
  });

function readConfig(use: ConfigUse = { servesApi: true }): ServiceConfig {
  try {
    return serviceConfigFromCommand(program, undefined, use);
  } catch (error) {
    return fail(error, EXIT_USAGE);
  }
}

function fail(error: unknown, code: number): never {
  const message = error instanceof Error ? error.message : String(error);
  const hint = error instanceof SolsticeError && error.hint !== undefined ? `\nhint: ${error.hint}` : "";
  process.stderr.write(`${SERVICE_NAME}: ${message}${hint}\n`);
  process.exit(code);
}

await program.parseAsync(process.argv);

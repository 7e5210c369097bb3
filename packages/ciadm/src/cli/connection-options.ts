import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { addMqOptions, type MqConfig, mqConfigFromOptions } from "@solstice/common";
import { type Command, Option } from "commander";

/** The orchestrator HTTP API's address when ORCH_URL is not set (the service's default HTTP_ADDR). */
export const DEFAULT_ORCH_URL = "http://127.0.0.1:8081";

/** Where the orchestrator's HTTP API is and how to authenticate. */
export interface ApiTarget {
  readonly url: string;
  readonly token: string | undefined;
}

/** Adds `--orch-url` (ORCH_URL) and `--orch-token` (ORCH_TOKEN, then HTTP_TOKEN). */
export function addApiOptions(command: Command): Command {
  return command
    .addOption(
      new Option("--orch-url <url>", "the orchestrator's HTTP API").env("ORCH_URL").default(DEFAULT_ORCH_URL),
    )
    .addOption(
      new Option(
        "--orch-token <token>",
        "bearer token of the HTTP API: the orchestrator's HTTP_TOKEN (falls back to HTTP_TOKEN)",
      ).env("ORCH_TOKEN"),
    );
}

/** The API target from a command's parsed options (`--orch-token`, else ORCH_TOKEN, else HTTP_TOKEN). */
export function apiTarget(
  opts: { orchUrl?: string; orchToken?: string },
  env: Readonly<Record<string, string | undefined>>,
): ApiTarget {
  const token = opts.orchToken ?? env["HTTP_TOKEN"];
  return {
    url: (opts.orchUrl ?? DEFAULT_ORCH_URL).replace(/\/+$/, ""),
    token: token === undefined || token === "" ? undefined : token,
  };
}

/**
 * Adds the queue flags (`--amqp-url` … with AMQP_* fallbacks), as the services have them. Only
 * `--amqp-url` is listed in the command's help: the names and tuning flags still work (the same
 * as the services' AMQP_* variables) but would bury the command's own flags.
 */
export function addQueueOptions(command: Command): Command {
  addMqOptions(command);
  for (const option of command.options) {
    if (option.long?.startsWith("--amqp-") === true && option.long !== "--amqp-url") option.hideHelp();
  }
  return command.addHelpText(
    "after",
    "\nQueue names and tuning: --amqp-exchange, --amqp-queue, --amqp-dlq... (the services' AMQP_* " +
      "variables; docs/ciadm.md, Connection settings).",
  );
}

/** The queue settings from a command's parsed options. @throws MqConfigError naming the variable */
export function queueConfig(opts: Record<string, unknown>): MqConfig {
  return mqConfigFromOptions(opts);
}

/** Adds `--database-url` (DATABASE_URL). */
export function addDatabaseOption(command: Command, description: string): Command {
  return command.addOption(new Option("--database-url <url>", description).env("DATABASE_URL"));
}

/**
 * The example image map of the Solstice CI checkout this ciadm comes from: the default wherever
 * ciadm is started (a path relative to the current directory would name another file, or none).
 * An installed ciadm (scripts/pack-cli.mjs) has no checkout: it uses the copy in its package.
 */
export const CHECKOUT_IMAGE_MAP = [
  fileURLToPath(new URL("../../../../examples/orchestrator-image-map.yaml", import.meta.url)),
  fileURLToPath(new URL("../../examples/orchestrator-image-map.yaml", import.meta.url)),
].find((path, i, all) => existsSync(path) || i === all.length - 1)!;

/** Adds `--config` (ORCH_CONFIG, else the checkout's example map): the image map. */
export function addImageMapOption(command: Command): Command {
  return command.addOption(
    new Option("--config <yaml>", "the image map (docs/images.md)")
      .env("ORCH_CONFIG")
      .default(CHECKOUT_IMAGE_MAP, "the checkout's examples/orchestrator-image-map.yaml"),
  );
}

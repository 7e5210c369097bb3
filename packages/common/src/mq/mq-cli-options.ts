import { type Command, Option } from "commander";
import { MQ_SETTINGS, type MqConfig, type MqConfigInput, parseMqConfig } from "./mq-config.ts";

/**
 * Adds the queue flags (`--amqp-url`, `--amqp-exchange`, ... `--amqp-prefetch`, ...) to a
 * commander command, each falling back to its environment variable and then to its default;
 * `--help` shows both. Read the result with `mqConfigFromOptions(command.opts())`.
 *
 * @example
 *   const program = addMqOptions(new Command("solstice-orchestrator"));
 *   program.parse();
 *   const cfg = mqConfigFromOptions(program.opts());
 */
export function addMqOptions(command: Command, options: { prefetchDefault?: number } = {}): Command {
  for (const s of MQ_SETTINGS) {
    const fallback =
      s.key === "prefetch" && options.prefetchDefault !== undefined ? options.prefetchDefault : s.default;
    command.addOption(
      new Option(`${s.flag} ${s.arg}`, s.description).env(s.env).default(String(fallback), String(fallback)),
    );
  }
  return command;
}

/**
 * Builds and validates an `MqConfig` from parsed commander options (`command.opts()`).
 * @throws MqConfigError naming the variable of the first bad setting.
 */
export function mqConfigFromOptions(opts: Record<string, unknown>): MqConfig {
  const raw: MqConfigInput & Record<string, unknown> = {};
  for (const s of MQ_SETTINGS) {
    const attribute = new Option(s.flag).attributeName();
    const value = opts[attribute];
    // An empty variable counts as unset, as in mqConfigFromEnv.
    raw[s.key] = value === undefined || value === "" ? String(s.default) : String(value);
  }
  return parseMqConfig(raw);
}

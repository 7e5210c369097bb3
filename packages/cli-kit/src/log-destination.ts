// Where a CLI sends the log lines of the services it embeds (cidev's embedded orchestrator): for
// people on a terminal, one short line each (`warning: KVM is not usable here… (/dev/kvm…)`);
// JSON lines, as the services write them, when LOG_FORMAT=json or stderr is not a terminal (a
// script or a log shipper reads them).

/** How log lines are written. */
export type LogFormat = "human" | "json";

/** The format: LOG_FORMAT (`human` or `json`), else human on a terminal, JSON otherwise. */
export function logFormatFor(
  stream: { readonly isTTY?: boolean },
  env: Readonly<Record<string, string | undefined>>,
): LogFormat {
  const asked = env["LOG_FORMAT"]?.trim().toLowerCase();
  if (asked === "json" || asked === "human") return asked;
  return stream.isTTY === true ? "human" : "json";
}

const LEVEL_WORDS: Readonly<Record<string, string>> = {
  trace: "trace",
  debug: "debug",
  info: "info",
  warn: "warning",
  error: "error",
  fatal: "fatal",
};

/**
 * One JSON log line (pino's) as a person reads it: `warning: message (reason)`, with the error's
 * message when there is one. Lines that are not JSON pass through as they are.
 */
export function humanLogLine(line: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith("\n") ? line : `${line}\n`;
  }
  const level = LEVEL_WORDS[String(record["level"])] ?? String(record["level"] ?? "log");
  const msg = typeof record["msg"] === "string" ? record["msg"] : "";
  const err = record["err"];
  const why =
    typeof record["reason"] === "string"
      ? record["reason"]
      : typeof err === "object" && err !== null && typeof (err as { message?: unknown }).message === "string"
        ? (err as { message: string }).message
        : undefined;
  return `${level}: ${msg}${why === undefined || msg.includes(why) ? "" : ` (${why})`}\n`;
}

/**
 * A pino destination writing to `stream` in `format` (`style` dims human lines on a terminal).
 *
 * @example
 *   createLogger({ service: "cidev", destination: logDestination(process.stderr, "human") })
 */
export function logDestination(
  stream: NodeJS.WritableStream,
  format: LogFormat,
  style: (text: string) => string = (text) => text,
): { write(line: string): void } {
  if (format === "json") return { write: (line) => void stream.write(line) };
  return {
    write(chunk: string) {
      for (const line of chunk.split("\n")) {
        if (line.trim() === "") continue;
        stream.write(`${style(humanLogLine(line).trimEnd())}\n`);
      }
    },
  };
}

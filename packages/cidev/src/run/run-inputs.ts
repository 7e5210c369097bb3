import { readFile } from "node:fs/promises";
import { EXIT_USAGE } from "@solstice/cli-kit";
import type { JsonValue } from "@solstice/common";
import { CidevError } from "../errors.ts";
import type { RunContexts } from "../workflow/job-translation.ts";
import { DotenvSyntaxError, MAX_DOTENV_BYTES, parseDotenv } from "./dotenv.ts";

// `cidev run`'s flags about the run itself → the contexts the job is translated in: secrets,
// vars and env from flags and dotenv files (a flag wins over a file), the event and its payload,
// workflow_dispatch inputs.

/** The largest `--event-file`. */
export const MAX_EVENT_BYTES = 1024 * 1024;

/** An event name as forges spell them (`push`, `pull_request`, `workflow_dispatch`...). */
const EVENT_NAME = /^[a-z][a-z_]{0,63}$/;

/** The flags as commander parsed them. */
export interface RunInputFlags {
  readonly secret: Readonly<Record<string, string>>;
  readonly secretFile?: readonly string[] | undefined;
  readonly var: Readonly<Record<string, string>>;
  readonly varFile?: readonly string[] | undefined;
  readonly env: Readonly<Record<string, string>>;
  readonly envFile?: readonly string[] | undefined;
  readonly input: Readonly<Record<string, string>>;
  readonly event?: string | undefined;
  readonly eventFile?: string | undefined;
}

/** A `--secret-file`, `--env-file`, `--var-file` or `--event-file` that cannot be used. */
export class RunInputFileError extends CidevError {
  readonly file: string;

  constructor(flag: string, file: string, message: string, cause?: unknown) {
    super("CIDEV_RUN_INPUT_FILE", `${flag} ${file}: ${message}`, {
      exitCode: EXIT_USAGE,
      hint:
        flag === "--event-file"
          ? "give a JSON object: the event's payload as the forge sends it (github.event)"
          : "write one NAME=VALUE per line (dotenv: # comments, quotes, export allowed)",
      cause,
    });
    this.file = file;
  }
}

/** A bad `--event`. */
export class RunEventError extends CidevError {
  constructor(event: string) {
    super("CIDEV_RUN_EVENT", `--event ${JSON.stringify(event.slice(0, 80))} is not an event name`, {
      exitCode: EXIT_USAGE,
      hint: "e.g. push, pull_request, workflow_dispatch, schedule",
    });
  }
}

async function readBounded(flag: string, file: string, limit: number): Promise<string> {
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch (cause) {
    throw new RunInputFileError(flag, file, (cause as Error).message, cause);
  }
  if (data.byteLength > limit) throw new RunInputFileError(flag, file, `larger than ${limit} bytes`);
  return data.toString("utf8");
}

async function dotenvFiles(
  flag: string,
  files: readonly string[] | undefined,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const file of files ?? []) {
    const text = await readBounded(flag, file, MAX_DOTENV_BYTES);
    try {
      Object.assign(out, parseDotenv(text));
    } catch (error) {
      if (error instanceof DotenvSyntaxError) throw new RunInputFileError(flag, file, error.message);
      throw error;
    }
  }
  return out;
}

/**
 * The run's contexts from the flags: files first, then single flags over them.
 * @throws RunInputFileError, RunEventError
 */
export async function runContextsFrom(flags: RunInputFlags): Promise<RunContexts> {
  const event = flags.event;
  if (event !== undefined && !EVENT_NAME.test(event)) throw new RunEventError(event);
  let payload: Record<string, JsonValue> | undefined;
  if (flags.eventFile !== undefined) {
    const text = await readBounded("--event-file", flags.eventFile, MAX_EVENT_BYTES);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (cause) {
      throw new RunInputFileError("--event-file", flags.eventFile, (cause as Error).message, cause);
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new RunInputFileError("--event-file", flags.eventFile, "not a JSON object");
    }
    payload = parsed as Record<string, JsonValue>;
  }
  return {
    ...(event === undefined ? {} : { eventName: event }),
    ...(payload === undefined ? {} : { eventPayload: payload }),
    secrets: { ...(await dotenvFiles("--secret-file", flags.secretFile)), ...flags.secret },
    vars: { ...(await dotenvFiles("--var-file", flags.varFile)), ...flags.var },
    env: { ...(await dotenvFiles("--env-file", flags.envFile)), ...flags.env },
    inputs: { ...flags.input },
  };
}

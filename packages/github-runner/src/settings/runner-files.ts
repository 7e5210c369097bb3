import type { KeyObject } from "node:crypto";
import { chmod, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { z } from "zod";
import {
  canonicalRsaParamKeys,
  keyFromRsaParams,
  type RsaParams,
  RsaParamsSchema,
  rsaParamsFromKey,
} from "../auth/rsa-key.ts";
import { RunnerSettingsError } from "../errors.ts";
import {
  CREDENTIALS_FILE,
  credentialsFileContent,
  normaliseKeys,
  RSA_PARAMS_FILE,
  type RunnerCredentials,
  RunnerCredentialsSchema,
  type RunnerSettings,
  RunnerSettingsSchema,
  SETTINGS_FILE,
  settingsFileContent,
} from "./runner-settings.ts";

// The three files in the runner's state directory. They hold its identity and private key:
// written with mode 0600 through a temporary file and a rename (a crash never leaves half a
// file), read back with errors that name the file and the field.

/** Everything the runner needs to run, as read from its state directory. */
export interface RunnerConfiguration {
  readonly settings: RunnerSettings;
  readonly credentials: RunnerCredentials;
  readonly key: KeyObject;
}

/** Writes `content` to `file`, mode 0600, atomically. */
export async function writeFileAtomic(file: string, content: string | Uint8Array): Promise<void> {
  const temporary = `${file}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(temporary, content, { mode: 0o600 });
  // writeFile's mode is masked by the umask.
  await chmod(temporary, 0o600);
  await rename(temporary, file);
}

/** Writes the configuration into `directory` (created 0700 when missing). */
export async function writeRunnerConfiguration(
  directory: string,
  config: RunnerConfiguration,
): Promise<void> {
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
  await writeFileAtomic(join(directory, RSA_PARAMS_FILE), json(rsaParamsFromKey(config.key)));
  await writeFileAtomic(join(directory, CREDENTIALS_FILE), json(credentialsFileContent(config.credentials)));
  // .runner last: its presence means "configured".
  await writeFileAtomic(join(directory, SETTINGS_FILE), json(settingsFileContent(config.settings)));
}

async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
    throw new RunnerSettingsError(
      file,
      missing ? "no such file: the runner is not configured" : String(error),
      {
        cause: error,
      },
    );
  }
  // .NET's File.WriteAllText(…, Encoding.UTF8) starts the file with a byte order mark.
  try {
    return JSON.parse(text.replace(/^\uFEFF/, "")) as unknown;
  } catch (error) {
    throw new RunnerSettingsError(file, `not JSON: ${(error as Error).message}`, { cause: error });
  }
}

/** Parses `value` with `schema`, or throws `RunnerSettingsError` naming `file` and the field. */
export function parseSettingsFile<S extends z.ZodType>(schema: S, file: string, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new RunnerSettingsError(file, issue?.message ?? "invalid", { field: issue?.path.join(".") ?? "" });
}

/** Reads `.runner`, `.credentials` and `.credentials_rsaparams` from `directory`. */
export async function readRunnerConfiguration(directory: string): Promise<RunnerConfiguration> {
  const settingsFile = join(directory, SETTINGS_FILE);
  const credentialsFile = join(directory, CREDENTIALS_FILE);
  const keyFile = join(directory, RSA_PARAMS_FILE);
  const settings = parseSettingsFile(
    RunnerSettingsSchema,
    settingsFile,
    normaliseKeys(await readJson(settingsFile)),
  );
  const credentials = parseSettingsFile(
    RunnerCredentialsSchema,
    credentialsFile,
    normaliseKeys(await readJson(credentialsFile)),
  );
  const params: RsaParams = parseSettingsFile(
    RsaParamsSchema,
    keyFile,
    canonicalRsaParamKeys(await readJson(keyFile)),
  );
  let key: KeyObject;
  try {
    key = keyFromRsaParams(params);
  } catch (error) {
    throw new RunnerSettingsError(keyFile, (error as Error).message, { cause: error });
  }
  return { settings, credentials, key };
}

/** Whether `.runner` exists in `directory`. */
export async function isConfigured(directory: string): Promise<boolean> {
  try {
    await readFile(join(directory, SETTINGS_FILE));
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== "ENOENT";
  }
}

/** Deletes the three files (after removal, or an ephemeral runner's job). */
export async function deleteRunnerConfiguration(directory: string): Promise<void> {
  for (const name of [SETTINGS_FILE, CREDENTIALS_FILE, RSA_PARAMS_FILE]) {
    await rm(join(directory, name), { force: true });
  }
}

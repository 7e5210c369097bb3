import { canonicalRsaParamKeys, keyFromRsaParams, RsaParamsSchema } from "../auth/rsa-key.ts";
import { JitConfigError, RunnerSettingsError } from "../errors.ts";
import type { RunnerConfiguration } from "./runner-files.ts";
import { parseSettingsFile } from "./runner-files.ts";
import {
  CREDENTIALS_FILE,
  normaliseKeys,
  RSA_PARAMS_FILE,
  RunnerCredentialsSchema,
  RunnerSettingsSchema,
  SETTINGS_FILE,
} from "./runner-settings.ts";

// `--jitconfig`: the `encoded_jit_config` of generate-jitconfig. Base64 of a JSON object of
// file name → base64 of the file's content (`.runner` with PascalCase keys and string values,
// `.credentials`, `.credentials_rsaparams`); the reference runner writes them to its root and
// runs. Here they are decoded straight into the configuration (write it with
// writeRunnerConfiguration when it must survive a restart).

function decodeBase64(text: string, what: string): Buffer {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(trimmed)) throw new JitConfigError(`${what} is not base64`);
  return Buffer.from(trimmed, "base64");
}

/** The files of a JIT config by name, decoded to text. */
export function decodeJitConfigFiles(encoded: string): Record<string, string> {
  let json: unknown;
  try {
    json = JSON.parse(
      decodeBase64(encoded, "the config")
        .toString("utf8")
        .replace(/^\uFEFF/, ""),
    );
  } catch (error) {
    if (error instanceof JitConfigError) throw error;
    throw new JitConfigError("the decoded config is not JSON", { cause: error });
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new JitConfigError("the decoded config is not a JSON object of files");
  }
  const files: Record<string, string> = {};
  for (const [name, value] of Object.entries(json)) {
    if (typeof value !== "string") throw new JitConfigError(`${name}: expected base64 text`);
    files[name] = decodeBase64(value, name)
      .toString("utf8")
      .replace(/^\uFEFF/, "");
  }
  return files;
}

function fileJson(files: Record<string, string>, name: string): unknown {
  const text = files[name];
  if (text === undefined) throw new JitConfigError(`it has no ${name}`);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new RunnerSettingsError(`jitconfig:${name}`, "not JSON", { cause: error });
  }
}

/**
 * The configuration a JIT config carries. Throws `JitConfigError`, or `RunnerSettingsError`
 * naming `jitconfig:<file>` and the field.
 */
export function decodeJitConfig(encoded: string): RunnerConfiguration {
  const files = decodeJitConfigFiles(encoded);
  const settings = parseSettingsFile(
    RunnerSettingsSchema,
    `jitconfig:${SETTINGS_FILE}`,
    normaliseKeys(fileJson(files, SETTINGS_FILE)),
  );
  const credentials = parseSettingsFile(
    RunnerCredentialsSchema,
    `jitconfig:${CREDENTIALS_FILE}`,
    normaliseKeys(fileJson(files, CREDENTIALS_FILE)),
  );
  const params = parseSettingsFile(
    RsaParamsSchema,
    `jitconfig:${RSA_PARAMS_FILE}`,
    canonicalRsaParamKeys(fileJson(files, RSA_PARAMS_FILE)),
  );
  try {
    return { settings, credentials, key: keyFromRsaParams(params) };
  } catch (error) {
    throw new RunnerSettingsError(`jitconfig:${RSA_PARAMS_FILE}`, (error as Error).message, { cause: error });
  }
}

import type { KeyObject } from "node:crypto";
import { rsaParametersJson } from "../auth/rsa-key-xml.ts";
import type { RunnerRecord } from "../runners/runner-registry.ts";
import type { ServerUrls } from "../server-context.ts";

// A JIT runner's configuration, as generate-jitconfig encodes it: base64 of a JSON object
// mapping a file name to the base64 of that file's content. The runner writes each file into
// its root and starts as if configured: `.runner` (settings; PascalCase keys, every value a
// string), `.credentials` (OAuth client) and `.credentials_rsaparams` (the private key).

/** The files of a JIT configuration, decoded (file name → content). */
export function jitConfigFiles(input: {
  readonly runner: RunnerRecord;
  readonly privateKey: KeyObject;
  readonly gitHubUrl: string;
  readonly workFolder: string;
  readonly urls: ServerUrls;
}): Record<string, string> {
  const { runner, urls } = input;
  const settings = {
    AgentId: String(runner.id),
    AgentName: runner.name,
    PoolId: String(runner.groupId),
    PoolName: "Default",
    ServerUrl: urls.tenant,
    GitHubUrl: input.gitHubUrl,
    WorkFolder: input.workFolder,
    Ephemeral: "True",
    DisableUpdate: "True",
    UseV2Flow: "True",
    ServerUrlV2: urls.broker,
  };
  const credentials = {
    scheme: "OAuth",
    data: { clientId: runner.clientId, authorizationUrl: urls.oauth, requireFipsCryptography: "True" },
  };
  return {
    ".runner": JSON.stringify(settings, null, 2),
    ".credentials": JSON.stringify(credentials, null, 2),
    ".credentials_rsaparams": JSON.stringify(rsaParametersJson(input.privateKey), null, 2),
  };
}

/** Encodes the files as `encoded_jit_config`. */
export function encodeJitConfig(files: Readonly<Record<string, string>>): string {
  const encoded: Record<string, string> = {};
  for (const [name, content] of Object.entries(files))
    encoded[name] = Buffer.from(content).toString("base64");
  return Buffer.from(JSON.stringify(encoded)).toString("base64");
}

/** Decodes an `encoded_jit_config` into its files (for tests and tools). */
export function decodeJitConfig(encoded: string): Record<string, string> {
  const outer: unknown = JSON.parse(Buffer.from(encoded, "base64").toString("utf8"));
  if (typeof outer !== "object" || outer === null) throw new Error("not a JIT configuration");
  const files: Record<string, string> = {};
  for (const [name, content] of Object.entries(outer)) {
    if (typeof content === "string") files[name] = Buffer.from(content, "base64").toString("utf8");
  }
  return files;
}

import { z } from "zod";

// The reference runner's configuration files, as it writes them (Newtonsoft with camel-cased
// names, .NET booleans) and as it reads them (names in any case, so the PascalCase `.runner`
// of a JIT config, whose values are all strings, reads the same):
//   .runner                 RunnerSettings: agentId, agentName, poolId, poolName, serverUrl,
//                           gitHubUrl, workFolder, useV2Flow, useRunnerAdminFlow, serverUrlV2,
//                           ephemeral, disableUpdate, isHostedServer…
//   .credentials            {scheme: "OAuth", data: {clientId, authorizationUrl,
//                           requireFipsCryptography: "True"|"False", [authorizationUrlV2,
//                           enableAuthMigrationByDefault]}}
//   .credentials_rsaparams  the private key (auth/rsa-key.ts)

/** The file names, as in the reference runner's root directory. */
export const SETTINGS_FILE = ".runner";
export const CREDENTIALS_FILE = ".credentials";
export const RSA_PARAMS_FILE = ".credentials_rsaparams";

/** A boolean as .NET writes or a JIT config carries it (`true`, `"True"`). */
const DotnetBoolean = z.union([
  z.boolean(),
  z
    .string()
    .refine((v) => /^(true|false)$/i.test(v.trim()), "expected true or false")
    .transform((v) => v.trim().toLowerCase() === "true"),
]);

/** A number that may arrive as a string (JIT configs). */
const DotnetInteger = z.union([
  z.number().int().nonnegative(),
  z
    .string()
    .regex(/^\d+$/, "expected a whole number")
    .transform((v) => Number(v)),
]);

/** `.runner`, after key-case normalisation (see {@link normaliseKeys}). */
export const RunnerSettingsSchema = z.object({
  agentId: DotnetInteger,
  agentName: z.string().min(1),
  poolId: DotnetInteger.default(0),
  poolName: z.string().optional(),
  /** The pipelines (tenant) URL from runner-registration. */
  serverUrl: z.string().min(1),
  /** The broker URL: the v2 flow listens here. */
  serverUrlV2: z.string().optional(),
  /** The repository, organization or enterprise URL the runner is registered to (absent in JIT configs). */
  gitHubUrl: z.string().optional(),
  workFolder: z.string().default("_work"),
  useV2Flow: DotnetBoolean.default(false),
  useRunnerAdminFlow: DotnetBoolean.default(false),
  ephemeral: DotnetBoolean.default(false),
  disableUpdate: DotnetBoolean.default(false),
  isHostedServer: DotnetBoolean.optional(),
  skipSessionRecover: DotnetBoolean.optional(),
});
/** @see RunnerSettingsSchema */
export type RunnerSettings = z.infer<typeof RunnerSettingsSchema>;

/** `.credentials` data (keys normalised). */
export const CredentialDataSchema = z.object({
  clientId: z.string().min(1),
  authorizationUrl: z.string().url(),
  authorizationUrlV2: z.string().url().optional(),
  requireFipsCryptography: DotnetBoolean.default(false),
  enableAuthMigrationByDefault: DotnetBoolean.optional(),
});

/** `.credentials`. */
export const RunnerCredentialsSchema = z.object({
  scheme: z.literal("OAuth", { message: 'only the "OAuth" scheme is supported' }),
  data: CredentialDataSchema,
});
/** @see RunnerCredentialsSchema */
export type RunnerCredentials = z.infer<typeof RunnerCredentialsSchema>;

/** Object keys with their first letter lower-cased, deeply (Newtonsoft reads names in any case). */
export function normaliseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normaliseKeys);
  if (typeof value !== "object" || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key.charAt(0).toLowerCase() + key.slice(1)] = normaliseKeys(item);
  }
  return out;
}

/** `.runner` as the reference runner writes it (camelCase, defaults left out). */
export function settingsFileContent(settings: RunnerSettings): Record<string, unknown> {
  const out: Record<string, unknown> = {
    agentId: settings.agentId,
    agentName: settings.agentName,
    poolId: settings.poolId,
  };
  if (settings.poolName !== undefined) out["poolName"] = settings.poolName;
  if (settings.disableUpdate) out["disableUpdate"] = true;
  if (settings.ephemeral) out["ephemeral"] = true;
  out["serverUrl"] = settings.serverUrl;
  if (settings.gitHubUrl !== undefined) out["gitHubUrl"] = settings.gitHubUrl;
  out["workFolder"] = settings.workFolder;
  if (settings.useV2Flow) out["useV2Flow"] = true;
  if (settings.useRunnerAdminFlow) out["useRunnerAdminFlow"] = true;
  if (settings.serverUrlV2 !== undefined) out["serverUrlV2"] = settings.serverUrlV2;
  if (settings.isHostedServer === false) out["isHostedServer"] = false;
  return out;
}

/** `.credentials` as the reference runner writes it (.NET booleans as "True"/"False"). */
export function credentialsFileContent(credentials: RunnerCredentials): Record<string, unknown> {
  const { data } = credentials;
  const out: Record<string, string> = {
    clientId: data.clientId,
    authorizationUrl: data.authorizationUrl,
    requireFipsCryptography: data.requireFipsCryptography ? "True" : "False",
  };
  if (data.enableAuthMigrationByDefault === true) out["enableAuthMigrationByDefault"] = "true";
  if (data.authorizationUrlV2 !== undefined) out["authorizationUrlV2"] = data.authorizationUrlV2;
  return { scheme: credentials.scheme, data: out };
}

/** The URL to exchange tokens at first, and the other one (v2 first, as after an auth migration). */
export function authorizationUrls(credentials: RunnerCredentials): { primary: string; fallback?: string } {
  const { authorizationUrl, authorizationUrlV2 } = credentials.data;
  if (authorizationUrlV2 === undefined || authorizationUrlV2 === authorizationUrl)
    return { primary: authorizationUrl };
  return { primary: authorizationUrlV2, fallback: authorizationUrl };
}

import { homedir, hostname } from "node:os";
import { join } from "node:path";
import {
  addMqOptions,
  type ListenAddress,
  type MqConfig,
  MqConfigError,
  mqConfigFromOptions,
  parseListenAddress,
} from "@solstice/common";
import { type Command, Option } from "commander";
import { z } from "zod";
import { ServiceConfigError } from "../errors.ts";
import { DEFAULT_LOG_RETENTION, type LogRetention } from "../persistence/job-store.ts";
import { type DatabaseTarget, databaseTarget } from "../persistence/open-database.ts";
import { parseCapacityMap } from "../scheduling/capacity-map.ts";
import { DEFAULT_INTAKE_LIMITS, type IntakeLimits } from "../service/intake-limits.ts";
import {
  DEFAULT_DRAIN_TIMEOUT_SECS,
  DEFAULT_FLEET_HEARTBEAT_SECS,
  DEFAULT_HTTP_ADDR,
  DEFAULT_JOB_TIMEOUT_SECS,
  DEFAULT_MAX_CONCURRENCY,
  MAX_DEBUG_SSH_TTL_SECS,
  SERVICE_SETTINGS,
  type ServiceSetting,
  type ServiceSettingKey,
} from "./service-settings.ts";

/** Where the job queue is: RabbitMQ (fleet) or in this process (embedded). Names come from `mq` either way. */
export interface QueueTarget {
  readonly kind: "amqp" | "in-process";
  readonly mq: MqConfig;
}

/** The HTTP API's address and access. */
export interface HttpSettings {
  readonly host: string;
  /** 0 picks a free port (tests). */
  readonly port: number;
  /** Bearer token every route but /healthz requires; undefined: open. */
  readonly token: string | undefined;
}

/** The orchestrator service's validated settings. */
export interface ServiceConfig {
  /** Image map path (ORCH_CONFIG). */
  readonly imageMapPath: string;
  /** MAX_CONCURRENCY: jobs at once on this host. */
  readonly maxConcurrency: number;
  /** CAPACITY_MAP: per-label limits (unlisted labels: 1). */
  readonly capacityMap: ReadonlyMap<string, number>;
  readonly database: DatabaseTarget;
  readonly queue: QueueTarget;
  /** True when neither AMQP_URL nor DATABASE_URL is set: in-process queue and PGlite. */
  readonly embedded: boolean;
  readonly otlpEndpoint: string | undefined;
  readonly http: HttpSettings;
  readonly hostId: string;
  readonly stateDir: string;
  readonly drainTimeoutSecs: number;
  readonly debugSshTtlSecs: number;
  /** DEBUG_SSH_HOST: the `ssh -J` jump users take to reach this host's loopback; undefined: none. */
  readonly debugSshHost: string | undefined;
  /** Apply migrations at start (always true for the embedded database). */
  readonly runMigrations: boolean;
  /** What a job request may ask (MAX_JOB_STEPS, MAX_STEP_SCRIPT_BYTES, MAX_ENV_ENTRIES, MAX_JOB_REQUEST_BYTES). */
  readonly intakeLimits: IntakeLimits;
  /** JOB_TIMEOUT_SECS: the longest a job may run on this host (a request's shorter timeout wins). */
  readonly jobTimeoutSecs: number;
  /** LOG_RETENTION_LINES and LOG_RETENTION_BYTES: the newest log kept per job in the database. */
  readonly logRetention: LogRetention;
  /** WARM_STARTS: jobs' VMs restored from warm templates (images may opt out). */
  readonly warmStarts: boolean;
  /** WARM_PREWARM: labels whose templates are built at start. */
  readonly warmPrewarm: readonly string[];
  /** FLEET_HEARTBEAT_SECS: how often this host refreshes its row in the fleet table. */
  readonly fleetHeartbeatSecs: number;
}

/** The raw settings: strings as given by flags or the environment; undefined when not given. */
export type RawServiceSettings = { readonly [K in ServiceSettingKey]?: string | undefined } & {
  /** The queue settings, parsed by `@solstice/common` (with prefetch already defaulted). */
  readonly mq: MqConfig;
  /** Whether AMQP_URL / --amqp-url was given (else: the in-process queue). */
  readonly amqpUrlGiven: boolean;
};

/** What defaults depend on: the machine and the user. */
export interface HostFacts {
  readonly hostname: string;
  /** The process's uid (0: root). */
  readonly uid: number;
  readonly home: string;
  readonly xdgStateHome?: string | undefined;
}

/** The facts of this machine and process. */
export function currentHostFacts(env: Record<string, string | undefined> = process.env): HostFacts {
  return {
    hostname: hostname(),
    uid: process.getuid?.() ?? 1000,
    home: homedir(),
    xdgStateHome: env["XDG_STATE_HOME"],
  };
}

/** The state directory when STATE_DIR is not given. */
export function defaultStateDir(facts: HostFacts): string {
  if (facts.uid === 0) return "/var/lib/solstice-ci";
  const base =
    facts.xdgStateHome !== undefined && facts.xdgStateHome !== ""
      ? facts.xdgStateHome
      : join(facts.home, ".local", "state");
  return join(base, "solstice-ci");
}

/** Whether an HTTP listen host is loopback only (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * Parses `host:port` (`[::1]:8081` for IPv6). The host is required: the API must not listen on
 * every interface by accident; say `0.0.0.0:8081` to mean it.
 */
export function parseHttpAddr(value: string): ListenAddress {
  const addr = parseListenAddress(value);
  if (addr === undefined) throw new Error('expected "host:port", e.g. 127.0.0.1:8081 or [::1]:8081');
  return addr;
}

const BOOLEAN_WORDS: Readonly<Record<string, boolean>> = {
  "1": true,
  true: true,
  yes: true,
  on: true,
  "0": false,
  false: false,
  no: false,
  off: false,
};

const integer = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, "expected a whole number")
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
const nonEmpty = z.string().trim().min(1, "must not be empty");
const boolean = z
  .string()
  .trim()
  .transform((v, ctx) => {
    const b = BOOLEAN_WORDS[v.toLowerCase()];
    if (b === undefined) {
      ctx.addIssue({ code: "custom", message: "expected true/false (or 1/0, yes/no, on/off)" });
      return z.NEVER;
    }
    return b;
  });
const url = z
  .string()
  .trim()
  .refine((v) => URL.canParse(v), "expected a URL");
const postgresUrl = url.refine(
  (v) => /^postgres(ql)?:\/\//.test(v),
  "expected postgres://... or postgresql://...",
);

// One schema per setting, each applied to the raw string when it is given.
const SETTING_SCHEMAS = {
  config: nonEmpty,
  maxConcurrency: integer(1, 1_000),
  capacityMap: z.string(),
  databaseUrl: postgresUrl,
  dbPoolMax: integer(1, 1_000),
  otlpEndpoint: url,
  httpAddr: nonEmpty,
  httpToken: z.string().min(16, "must be at least 16 characters (use a random token)"),
  httpAllowNoToken: boolean,
  hostId: nonEmpty.regex(/^[A-Za-z0-9._-]+$/, "use letters, digits, '.', '_' and '-' only").max(200),
  stateDir: nonEmpty,
  drainTimeoutSecs: integer(0, 86_400),
  debugSshTtlSecs: integer(1, MAX_DEBUG_SSH_TTL_SECS),
  debugSshHost: nonEmpty.regex(
    /^[^\s'"`;|&$<>()]+$/,
    "expected [user@]host[:port], without spaces or shell characters",
  ),
  runMigrations: boolean,
  maxJobSteps: integer(1, 1_000_000),
  maxStepScriptBytes: integer(1, 1_073_741_824),
  maxEnvEntries: integer(1, 1_000_000),
  maxJobRequestBytes: integer(1_024, 1_073_741_824),
  jobTimeoutSecs: integer(1, 30 * 86_400),
  logRetentionLines: integer(1, 100_000_000),
  logRetentionBytes: integer(1_024, 1_073_741_824),
  warmStarts: boolean,
  warmPrewarm: z
    .string()
    .max(4096)
    .transform((text) =>
      text
        .split(",")
        .map((label) => label.trim())
        .filter((label) => label !== ""),
    ),
  fleetHeartbeatSecs: integer(1, 3_600),
} satisfies Record<ServiceSettingKey, z.ZodType<unknown, string>>;

/**
 * Validates raw settings and applies defaults. Pure (the machine's facts are passed in).
 * An empty string counts as not given, as for environment variables.
 *
 * @throws ServiceConfigError naming the flag and the variable, e.g.
 *   `--max-concurrency / MAX_CONCURRENCY: expected a whole number (got "two")`
 */
export function parseServiceConfig(
  raw: RawServiceSettings,
  facts: HostFacts,
  use: ConfigUse = { servesApi: true },
): ServiceConfig {
  const get = <K extends ServiceSettingKey>(key: K) => readSetting(key, raw[key]);
  // Throws CapacityMapError naming the bad entry.
  const capacityMap = parseCapacityMap(get("capacityMap"));

  let http: { host: string; port: number };
  const httpAddr = get("httpAddr") ?? DEFAULT_HTTP_ADDR;
  try {
    http = parseHttpAddr(httpAddr);
  } catch (err) {
    throw settingError("httpAddr", httpAddr, err instanceof Error ? err.message : String(err));
  }

  // The API can cancel jobs: beyond loopback it needs a token, unless the operator says the
  // address is private anyway (a container port published on the host's loopback only).
  const httpToken = get("httpToken");
  if (
    use.servesApi &&
    httpToken === undefined &&
    !isLoopbackHost(http.host) &&
    get("httpAllowNoToken") !== true
  ) {
    throw settingError(
      "httpAddr",
      httpAddr,
      "serving the API beyond loopback needs --http-token / HTTP_TOKEN (or --http-allow-no-token / HTTP_ALLOW_NO_TOKEN=true when the address is private anyway)",
    );
  }

  const stateDir = get("stateDir") ?? defaultStateDir(facts);
  const databaseUrl = get("databaseUrl");
  const dbPoolMax = get("dbPoolMax");
  const base = databaseTarget({ databaseUrl, stateDir });
  const database: DatabaseTarget =
    base.kind === "postgres" && dbPoolMax !== undefined ? { ...base, poolMax: dbPoolMax } : base;
  const queueKind = raw.amqpUrlGiven ? "amqp" : "in-process";
  const runMigrations = get("runMigrations") ?? true;

  return {
    imageMapPath: get("config") ?? "examples/orchestrator-image-map.yaml",
    maxConcurrency: get("maxConcurrency") ?? DEFAULT_MAX_CONCURRENCY,
    capacityMap,
    database,
    queue: { kind: queueKind, mq: raw.mq },
    embedded: database.kind === "pglite" && queueKind === "in-process",
    otlpEndpoint: get("otlpEndpoint"),
    http: { ...http, token: httpToken },
    hostId: get("hostId") ?? sanitizeHostId(facts.hostname),
    stateDir,
    drainTimeoutSecs: get("drainTimeoutSecs") ?? DEFAULT_DRAIN_TIMEOUT_SECS,
    debugSshTtlSecs: get("debugSshTtlSecs") ?? MAX_DEBUG_SSH_TTL_SECS,
    debugSshHost: get("debugSshHost"),
    // The embedded database is private to this process: nobody else can migrate it.
    runMigrations: database.kind === "pglite" ? true : runMigrations,
    intakeLimits: {
      maxSteps: get("maxJobSteps") ?? DEFAULT_INTAKE_LIMITS.maxSteps,
      maxStepScriptBytes: get("maxStepScriptBytes") ?? DEFAULT_INTAKE_LIMITS.maxStepScriptBytes,
      maxEnvEntries: get("maxEnvEntries") ?? DEFAULT_INTAKE_LIMITS.maxEnvEntries,
      maxRequestBytes: get("maxJobRequestBytes") ?? DEFAULT_INTAKE_LIMITS.maxRequestBytes,
    },
    jobTimeoutSecs: get("jobTimeoutSecs") ?? DEFAULT_JOB_TIMEOUT_SECS,
    logRetention: {
      lines: get("logRetentionLines") ?? DEFAULT_LOG_RETENTION.lines,
      bytes: get("logRetentionBytes") ?? DEFAULT_LOG_RETENTION.bytes,
    },
    warmStarts: get("warmStarts") ?? true,
    warmPrewarm: get("warmPrewarm") ?? [],
    fleetHeartbeatSecs: get("fleetHeartbeatSecs") ?? DEFAULT_FLEET_HEARTBEAT_SECS,
  };
}

/**
 * Adds every service flag to a commander command (and the queue's, from `@solstice/common`), each
 * falling back to its environment variable; `--help` shows the variable and the default.
 */
export function addServiceOptions(command: Command): Command {
  for (const s of SERVICE_SETTINGS) {
    const description =
      s.defaultText === undefined ? s.description : `${s.description} (default: ${s.defaultText})`;
    command.addOption(new Option(`${s.flag} ${s.arg}`, description).env(s.env));
  }
  addMqOptions(command);
  // The orchestrator's prefetch is its capacity unless AMQP_PREFETCH says otherwise.
  const prefetch = command.options.find((o) => o.long === "--amqp-prefetch");
  if (prefetch !== undefined) prefetch.defaultValueDescription = "MAX_CONCURRENCY";
  return command;
}

/** What the settings are read for: `migrate` serves no API, so it needs no token for one. */
export interface ConfigUse {
  readonly servesApi: boolean;
}

/**
 * Reads the settings of a command that `addServiceOptions` prepared and has parsed.
 * AMQP_PREFETCH defaults to MAX_CONCURRENCY (prefetch equals capacity), as in the original.
 *
 * @throws ServiceConfigError, CapacityMapError, MqConfigError
 */
export function serviceConfigFromCommand(
  command: Command,
  facts: HostFacts = currentHostFacts(),
  use: ConfigUse = { servesApi: true },
): ServiceConfig {
  const opts: Record<string, unknown> = command.opts();
  const raw: Partial<Record<ServiceSettingKey, string>> = {};
  for (const s of SERVICE_SETTINGS) {
    const value = opts[attributeOf(s)];
    if (typeof value === "string") raw[s.key] = value;
  }
  const given = (attribute: string): boolean => {
    const source = command.getOptionValueSource(attribute);
    const value = opts[attribute];
    return source !== undefined && source !== "default" && value !== undefined && value !== "";
  };
  const maxConcurrency = readSetting("maxConcurrency", raw.maxConcurrency) ?? DEFAULT_MAX_CONCURRENCY;
  const mqOpts = { ...opts };
  if (!given("amqpPrefetch")) mqOpts["amqpPrefetch"] = String(maxConcurrency);
  let mq: MqConfig;
  try {
    mq = mqConfigFromOptions(mqOpts);
  } catch (err) {
    // The queue's own error names the variable; keep it, but never echo a URL with its password.
    if (err instanceof MqConfigError && err.setting === "AMQP_URL") {
      throw new ServiceConfigError({
        option: "amqp-url",
        env: "AMQP_URL",
        reason: "expected amqp://host[:port][/vhost] or amqps://...",
      });
    }
    throw err;
  }
  return parseServiceConfig({ ...raw, mq, amqpUrlGiven: given("amqpUrl") }, facts, use);
}

/** One setting's value, validated; undefined when not given (or empty). */
function readSetting<K extends ServiceSettingKey>(
  key: K,
  value: string | undefined,
): z.output<(typeof SETTING_SCHEMAS)[K]> | undefined {
  if (value === undefined || value === "") return undefined;
  const result = SETTING_SCHEMAS[key].safeParse(value);
  if (result.success) return result.data as z.output<(typeof SETTING_SCHEMAS)[K]>;
  throw settingError(key, value, result.error.issues[0]?.message ?? "invalid");
}

function attributeOf(s: ServiceSetting): string {
  return new Option(s.flag).attributeName();
}

function settingError(key: ServiceSettingKey, value: string, reason: string): ServiceConfigError {
  const s = SERVICE_SETTINGS.find((x) => x.key === key);
  return new ServiceConfigError({
    option: (s?.flag ?? key).replace(/^--/, ""),
    env: s?.env,
    value: s?.secret === true ? undefined : value,
    reason,
  });
}

function sanitizeHostId(name: string): string {
  const id = name.replace(/[^A-Za-z0-9._-]/g, "-").slice(0, 200);
  return id === "" ? "localhost" : id;
}

import { MQ_SETTINGS } from "@solstice/common";
import { Command } from "commander";
import { afterEach, describe, expect, test } from "vitest";
import {
  addServiceOptions,
  type ConfigUse,
  defaultStateDir,
  type HostFacts,
  parseHttpAddr,
  type ServiceConfig,
  serviceConfigFromCommand,
} from "../src/config/service-config.ts";
import { SERVICE_SETTINGS } from "../src/config/service-settings.ts";
import { CapacityMapError, ServiceConfigError } from "../src/errors.ts";

const facts: HostFacts = { hostname: "ci-host.example.org", uid: 1000, home: "/home/ci" };
const ENV_NAMES = [...SERVICE_SETTINGS.map((s) => s.env), ...MQ_SETTINGS.map((s) => s.env)];

// Commander reads the environment when it parses: set variables for one test, then restore.
const saved = new Map<string, string | undefined>();
function setEnv(vars: Record<string, string>): void {
  for (const [k, v] of Object.entries(vars)) {
    if (!saved.has(k)) saved.set(k, process.env[k]);
    process.env[k] = v;
  }
}
afterEach(() => {
  for (const [k, v] of saved) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  saved.clear();
});

function configFrom(
  args: string[],
  env: Record<string, string> = {},
  hostFacts: HostFacts = facts,
  use: ConfigUse = { servesApi: true },
): ServiceConfig {
  // Start from a clean environment for every setting the service reads.
  setEnv(Object.fromEntries(ENV_NAMES.map((n) => [n, ""])));
  for (const n of ENV_NAMES) delete process.env[n];
  setEnv(env);
  const command = addServiceOptions(new Command("solstice-orchestrator").exitOverride());
  command.parse(args, { from: "user" });
  return serviceConfigFromCommand(command, hostFacts, use);
}

describe("service config", () => {
  test("the API beyond loopback: with a token, or when the operator says the address is private", () => {
    expect(configFrom([], { HTTP_ADDR: "10.1.2.3:8081", HTTP_TOKEN: "0123456789abcdef" }).http.host).toBe(
      "10.1.2.3",
    );
    expect(
      configFrom([], { HTTP_ADDR: "0.0.0.0:8081", HTTP_ALLOW_NO_TOKEN: "true" }).http.token,
    ).toBeUndefined();
    for (const addr of ["127.0.0.1:8081", "127.3.0.1:1", "[::1]:8081", "localhost:8081"])
      expect(configFrom([], { HTTP_ADDR: addr }).http.token).toBeUndefined();
  });

  test("`migrate` serves no API: the image's 0.0.0.0 address needs no token (or allowance) for it", () => {
    const env = { HTTP_ADDR: "0.0.0.0:8081", DATABASE_URL: "postgres://u:p@db/solstice" };
    expect(() => configFrom([], env)).toThrow(/beyond loopback needs/);
    expect(configFrom([], env, facts, { servesApi: false }).database).toMatchObject({ kind: "postgres" });
  });

  test("nothing given: embedded mode with the documented defaults", () => {
    const cfg = configFrom([]);
    expect(cfg).toMatchObject({
      imageMapPath: "examples/orchestrator-image-map.yaml",
      maxConcurrency: 2,
      database: { kind: "pglite", dataDir: "/home/ci/.local/state/solstice-ci/db" },
      queue: { kind: "in-process" },
      embedded: true,
      otlpEndpoint: undefined,
      http: { host: "127.0.0.1", port: 8081, token: undefined },
      hostId: "ci-host.example.org",
      stateDir: "/home/ci/.local/state/solstice-ci",
      drainTimeoutSecs: 300,
      debugSshTtlSecs: 1800,
      runMigrations: true,
    });
    expect(cfg.capacityMap.size).toBe(0);
    // Prefetch equals capacity unless AMQP_PREFETCH says otherwise.
    expect(cfg.queue.mq.prefetch).toBe(2);
    expect(cfg.queue.mq.queue).toBe("solstice.jobs.v1");
  });

  test("fleet mode from the original's environment variables", () => {
    const cfg = configFrom([], {
      ORCH_CONFIG: "/etc/solstice/images.yaml",
      MAX_CONCURRENCY: "4",
      CAPACITY_MAP: "illumos-latest=2,ubuntu-22.04=4",
      DATABASE_URL: "postgres://solstice:pw@db:5432/solstice",
      DB_POOL_MAX_SIZE: "5",
      AMQP_URL: "amqp://guest:guest@mq:5672/%2f",
      AMQP_QUEUE: "custom.jobs",
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://otel:4318",
      HTTP_ADDR: "0.0.0.0:9000",
      HTTP_TOKEN: "0123456789abcdef0123",
      HOST_ID: "builder-7",
      STATE_DIR: "/srv/solstice",
      DRAIN_TIMEOUT_SECS: "60",
      DEBUG_SSH_TTL_SECS: "600",
      RUN_MIGRATIONS: "false",
    });
    expect(cfg).toMatchObject({
      imageMapPath: "/etc/solstice/images.yaml",
      maxConcurrency: 4,
      database: { kind: "postgres", url: "postgres://solstice:pw@db:5432/solstice", poolMax: 5 },
      queue: {
        kind: "amqp",
        mq: { url: "amqp://guest:guest@mq:5672/%2f", queue: "custom.jobs", prefetch: 4 },
      },
      embedded: false,
      otlpEndpoint: "http://otel:4318",
      http: { host: "0.0.0.0", port: 9000, token: "0123456789abcdef0123" },
      hostId: "builder-7",
      stateDir: "/srv/solstice",
      drainTimeoutSecs: 60,
      debugSshTtlSecs: 600,
      runMigrations: false,
    });
    expect(Object.fromEntries(cfg.capacityMap)).toEqual({ "illumos-latest": 2, "ubuntu-22.04": 4 });
  });

  test("flags win over the environment; an explicit AMQP_PREFETCH wins over capacity", () => {
    const cfg = configFrom(["--max-concurrency", "3", "--amqp-prefetch", "10", "--host-id", "flag-host"], {
      MAX_CONCURRENCY: "8",
      HOST_ID: "env-host",
      AMQP_URL: "amqp://mq/",
    });
    expect(cfg.maxConcurrency).toBe(3);
    expect(cfg.queue.mq.prefetch).toBe(10);
    expect(cfg.hostId).toBe("flag-host");
  });

  test("each backend is chosen on its own: AMQP with PGlite is not embedded", () => {
    const cfg = configFrom([], { AMQP_URL: "amqp://mq/" });
    expect(cfg.queue.kind).toBe("amqp");
    expect(cfg.database.kind).toBe("pglite");
    expect(cfg.embedded).toBe(false);
  });

  test("empty variables count as not given", () => {
    const cfg = configFrom([], { AMQP_URL: "", DATABASE_URL: "", MAX_CONCURRENCY: "" });
    expect(cfg.embedded).toBe(true);
    expect(cfg.maxConcurrency).toBe(2);
  });

  test("the embedded database is always migrated at start", () => {
    expect(configFrom([], { RUN_MIGRATIONS: "false" }).runMigrations).toBe(true);
  });

  test.each([
    [{ MAX_CONCURRENCY: "two" }, '--max-concurrency / MAX_CONCURRENCY: expected a whole number (got "two")'],
    [{ MAX_CONCURRENCY: "0" }, '--max-concurrency / MAX_CONCURRENCY: must be at least 1 (got "0")'],
    [
      { DEBUG_SSH_TTL_SECS: "3600" },
      '--debug-ssh-ttl-secs / DEBUG_SSH_TTL_SECS: must be at most 1800 (got "3600")',
    ],
    [
      { RUN_MIGRATIONS: "maybe" },
      "--run-migrations / RUN_MIGRATIONS: expected true/false (or 1/0, yes/no, on/off)",
    ],
    [
      { HTTP_ADDR: "8081" },
      '--http-addr / HTTP_ADDR: expected "host:port", e.g. 127.0.0.1:8081 or [::1]:8081 (got "8081")',
    ],
    [
      { HTTP_ADDR: "0.0.0.0:8081" },
      '--http-addr / HTTP_ADDR: serving the API beyond loopback needs --http-token / HTTP_TOKEN (or --http-allow-no-token / HTTP_ALLOW_NO_TOKEN=true when the address is private anyway) (got "0.0.0.0:8081")',
    ],
    [{ HOST_ID: "a b" }, "--host-id / HOST_ID: use letters, digits, '.', '_' and '-' only"],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: "not a url" }, "--otlp / OTEL_EXPORTER_OTLP_ENDPOINT: expected a URL"],
    // Secrets are never echoed.
    [
      { DATABASE_URL: "mysql://u:hunter2@db/x" },
      "--database-url / DATABASE_URL: expected postgres://... or postgresql://...",
    ],
    [
      { HTTP_TOKEN: "short-secret" },
      "--http-token / HTTP_TOKEN: must be at least 16 characters (use a random token)",
    ],
  ])("%j is refused: %s", (env, message) => {
    let error: unknown;
    try {
      configFrom([], env);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ServiceConfigError);
    expect((error as ServiceConfigError).code).toBe("ORCH_CONFIG_INVALID");
    expect((error as ServiceConfigError).message.startsWith(message)).toBe(true);
    expect((error as ServiceConfigError).message).not.toMatch(/hunter2|short-secret/);
  });

  test("a bad CAPACITY_MAP names the entry", () => {
    expect(() => configFrom([], { CAPACITY_MAP: "a=1,b" })).toThrow(CapacityMapError);
    expect(() => configFrom([], { CAPACITY_MAP: "a=1,b" })).toThrow(
      'CAPACITY_MAP entry 2 "b": expected "label=n"',
    );
  });

  test("a bad AMQP_URL does not echo its password", () => {
    expect(() => configFrom([], { AMQP_URL: "http://u:hunter2@mq/" })).toThrow(/AMQP_URL: expected amqp:/);
    expect(() => configFrom([], { AMQP_URL: "http://u:hunter2@mq/" })).not.toThrow(/hunter2/);
  });

  test("--help lists every flag with its environment variable and default", () => {
    // Help text wraps: compare with whitespace collapsed.
    const help = addServiceOptions(new Command("solstice-orchestrator"))
      .helpInformation()
      .replace(/\s+/g, " ");
    for (const s of SERVICE_SETTINGS) {
      expect(help).toContain(s.flag);
      expect(help).toContain(`env: ${s.env}`);
      if (s.defaultText !== undefined) expect(help).toContain(`default: ${s.defaultText}`);
    }
    for (const s of MQ_SETTINGS) expect(help).toContain(`env: ${s.env}`);
  });

  test("the state directory defaults by user", () => {
    expect(defaultStateDir({ ...facts, uid: 0 })).toBe("/var/lib/solstice-ci");
    expect(defaultStateDir(facts)).toBe("/home/ci/.local/state/solstice-ci");
    expect(defaultStateDir({ ...facts, xdgStateHome: "/xdg" })).toBe("/xdg/solstice-ci");
    expect(configFrom([], {}, { ...facts, hostname: "weird host!" }).hostId).toBe("weird-host-");
  });
});

describe("parseHttpAddr", () => {
  test.each([
    ["127.0.0.1:8081", { host: "127.0.0.1", port: 8081 }],
    ["localhost:0", { host: "localhost", port: 0 }],
    ["[::1]:9000", { host: "::1", port: 9000 }],
    ["0.0.0.0:80", { host: "0.0.0.0", port: 80 }],
  ])("%s", (value, expected) => {
    expect(parseHttpAddr(value)).toEqual(expected);
  });

  test.each(["8081", ":8081", "host:", "host:65536", "::1:80", "host:port"])("refuses %j", (value) => {
    expect(() => parseHttpAddr(value)).toThrow(/expected "host:port"/);
  });
});

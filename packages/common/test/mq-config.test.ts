import { Command } from "commander";
import { describe, expect, test } from "vitest";
import { MqConfigError } from "../src/errors.ts";
import { addMqOptions, mqConfigFromOptions } from "../src/mq/mq-cli-options.ts";
import {
  MQ_DEFAULTS,
  MQ_SETTINGS,
  mqConfigEnv,
  mqConfigFromEnv,
  redactAmqpUrl,
} from "../src/mq/mq-config.ts";

describe("queue settings", () => {
  test("default to the original's names and values", () => {
    expect(mqConfigFromEnv({})).toMatchObject({
      url: "amqp://127.0.0.1:5672/%2f",
      exchange: "solstice.jobs",
      routingKey: "jobrequest.v1",
      queue: "solstice.jobs.v1",
      dlx: "solstice.dlx",
      dlq: "solstice.jobs.v1.dlq",
      prefetch: 64,
      eventsExchange: "solstice.events",
      eventsUnrouted: "solstice.events.unrouted",
      cancelExchange: "solstice.cancel",
    });
    expect(mqConfigFromEnv({})).toEqual(MQ_DEFAULTS);
  });

  test("come from the environment (empty means unset), overrides first", () => {
    const env = {
      AMQP_URL: "amqps://ci:pw@mq.example.org:5671/ci",
      AMQP_EXCHANGE: "x.jobs",
      AMQP_ROUTING_KEY: "rk",
      AMQP_QUEUE: "x.q",
      AMQP_DLX: "x.dlx",
      AMQP_DLQ: "",
      AMQP_PREFETCH: "2",
      AMQP_EVENTS_EXCHANGE: "x.events",
      AMQP_PUBLISH_TIMEOUT_MS: "5000",
    };
    const cfg = mqConfigFromEnv(env, { queue: "from-flag", prefetch: "8" });
    expect(cfg).toMatchObject({
      url: "amqps://ci:pw@mq.example.org:5671/ci",
      exchange: "x.jobs",
      routingKey: "rk",
      queue: "from-flag",
      dlx: "x.dlx",
      dlq: "solstice.jobs.v1.dlq",
      prefetch: 8,
      eventsExchange: "x.events",
      publishTimeoutMs: 5000,
    });
  });

  test.each([
    [{ AMQP_PREFETCH: "lots" }, "AMQP_PREFETCH"],
    [{ AMQP_PREFETCH: "0" }, "AMQP_PREFETCH"],
    [{ AMQP_PREFETCH: "70000" }, "AMQP_PREFETCH"],
    [{ AMQP_URL: "http://broker" }, "AMQP_URL"],
    [{ AMQP_QUEUE: "q".repeat(256) }, "AMQP_QUEUE"],
    [{ AMQP_MAX_ATTEMPTS: "1.5" }, "AMQP_MAX_ATTEMPTS"],
  ])("a bad value names its variable: %j", (env, variable) => {
    let error: unknown;
    try {
      mqConfigFromEnv(env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MqConfigError);
    expect(error).toMatchObject({ code: "MQ_CONFIG_INVALID", setting: variable });
    expect((error as Error).message).toMatch(new RegExp(`^${variable}=`));
  });

  test("never quotes a password back, even from a malformed URL", () => {
    expect(() => mqConfigFromEnv({ AMQP_URL: "amqp//ci:hunter2@mq:5672" })).toThrow(
      'AMQP_URL="amqp//ci:***@mq:5672"',
    );
  });

  test("masks the password of a URL", () => {
    expect(redactAmqpUrl("amqp://guest:guest@127.0.0.1:5672/%2f")).toBe(
      "amqp://guest:***@127.0.0.1:5672/%2f",
    );
    expect(redactAmqpUrl("amqp://127.0.0.1:5672/%2f")).toBe("amqp://127.0.0.1:5672/%2f");
  });
});

describe("queue flags", () => {
  function program(): Command {
    return addMqOptions(new Command("solstice-test").exitOverride()).configureOutput({ writeOut: () => {} });
  }

  test("--help lists every flag with its variable and default", () => {
    const help = program().helpInformation().replace(/\s+/g, " ");
    for (const [flag, variable] of [
      ["--amqp-url <url>", "AMQP_URL"],
      ["--amqp-exchange <name>", "AMQP_EXCHANGE"],
      ["--amqp-routing-key <key>", "AMQP_ROUTING_KEY"],
      ["--amqp-queue <name>", "AMQP_QUEUE"],
      ["--amqp-dlx <name>", "AMQP_DLX"],
      ["--amqp-dlq <name>", "AMQP_DLQ"],
      ["--amqp-prefetch <n>", "AMQP_PREFETCH"],
      ["--amqp-events-exchange <name>", "AMQP_EVENTS_EXCHANGE"],
      ["--amqp-cancel-exchange <name>", "AMQP_CANCEL_EXCHANGE"],
    ] as const) {
      expect(help).toContain(flag);
      expect(help).toContain(`env: ${variable}`);
    }
    expect(help).toContain(
      "--amqp-queue <name> job requests queue (durable) (default: solstice.jobs.v1, env: AMQP_QUEUE)",
    );
  });

  test("flags win over the environment, which wins over defaults", () => {
    const saved = { ...process.env };
    try {
      process.env["AMQP_QUEUE"] = "env.queue";
      process.env["AMQP_PREFETCH"] = "4";
      const cmd = program();
      cmd.parse(["--amqp-prefetch", "2"], { from: "user" });
      expect(mqConfigFromOptions(cmd.opts())).toMatchObject({
        queue: "env.queue",
        prefetch: 2,
        exchange: "solstice.jobs",
      });
    } finally {
      process.env = saved;
    }
  });

  test("a bad flag value names its variable", () => {
    const cmd = program();
    cmd.parse(["--amqp-prefetch", "many"], { from: "user" });
    expect(() => mqConfigFromOptions(cmd.opts())).toThrow(/^AMQP_PREFETCH="many"/);
  });
});

describe("mqConfigEnv", () => {
  test("gives a child process exactly the same settings, every one of them", () => {
    // Every setting differs from its default, so a variable left out would show in the round trip.
    const config = mqConfigFromEnv(
      { AMQP_URL: "amqp://u:p@broker:5673/vh", AMQP_PREFETCH: "7" },
      {
        exchange: "x.jobs",
        routingKey: "x.key",
        queue: "x.jobs.v1",
        dlx: "x.dlx",
        dlq: "x.jobs.v1.dlq",
        eventsExchange: "x.events",
        eventsUnrouted: "x.events.unrouted",
        cancelExchange: "x.cancel",
        publishTimeoutMs: 1_234,
        maxAttempts: 3,
        retryDelayMs: 123,
        reconnectMaxDelayMs: 4_567,
      },
    );
    for (const s of MQ_SETTINGS) expect(config[s.key], s.env).not.toEqual(MQ_DEFAULTS[s.key]);
    const env = mqConfigEnv(config);
    expect(Object.keys(env).sort()).toEqual(MQ_SETTINGS.map((s) => s.env).sort());
    expect(env["AMQP_PREFETCH"]).toBe("7");
    expect(env["AMQP_URL"]).toBe("amqp://u:p@broker:5673/vh");
    expect(mqConfigFromEnv(env)).toEqual(config);
  });

  test("the defaults round-trip too", () => {
    expect(mqConfigFromEnv(mqConfigEnv(MQ_DEFAULTS))).toEqual(MQ_DEFAULTS);
  });
});

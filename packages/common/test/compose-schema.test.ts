import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, test } from "vitest";
import { parse } from "yaml";

// compose.yml as Docker Compose reads it: `${VAR}` interpolated from examples/compose.env (plus
// the three secrets a user must add), then checked against the Compose Specification's JSON
// schema (vendored from compose-go, the loader `docker compose` uses: fixtures/compose-spec/).
// No compose client that validates runs on the CI machines, so this is the `config` check.

const ROOT = join(import.meta.dirname, "..", "..", "..");
const read = (path: string): string => readFileSync(join(ROOT, path), "utf8");
const SECRETS = {
  RABBITMQ_PASSWORD: "r".repeat(48),
  POSTGRES_PASSWORD: "p".repeat(48),
  HTTP_TOKEN: "t".repeat(48),
};

/** `KEY=value` lines of a dotenv file (comments and blank lines skipped), as compose reads `.env`. */
function dotenv(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (match !== null) env[match[1]!] = match[2]!;
  }
  return env;
}

/** Compose's interpolation of one string: `${V}`, `${V:-d}`, `${V-d}`, `${V:?err}`, `${V?err}`, `$$`. */
function interpolate(text: string, env: Record<string, string>, where: string): string {
  return text.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (...m) => {
      const [whole, name, colon, op, arg, bare] = m as [string, string?, string?, string?, string?, string?];
      if (whole === "$$") return "$";
      if (bare !== undefined) return env[bare] ?? "";
      const value = env[name!];
      const missing = value === undefined || (colon === ":" && value === "");
      if (op === "-") return missing ? (arg ?? "") : value!;
      if (op === "?") {
        if (missing) throw new Error(`${where}: required variable ${name} is missing a value: ${arg}`);
        return value!;
      }
      return value ?? "";
    },
  );
}

function interpolateTree(node: unknown, env: Record<string, string>, where: string): unknown {
  if (typeof node === "string") return interpolate(node, env, where);
  if (Array.isArray(node)) return node.map((item, i) => interpolateTree(item, env, `${where}[${i}]`));
  if (node !== null && typeof node === "object") {
    return Object.fromEntries(
      Object.entries(node).map(([key, value]) => [key, interpolateTree(value, env, `${where}.${key}`)]),
    );
  }
  return node;
}

const schema = JSON.parse(read("packages/common/test/fixtures/compose-spec/compose-spec.json")) as object;
const validate = new Ajv2020({ strict: false, allErrors: true, validateFormats: false }).compile(schema);
const composeTree = parse(read("compose.yml")) as Record<string, unknown>;
const exampleEnv = dotenv(read("examples/compose.env"));

function schemaErrors(tree: unknown): string[] {
  if (validate(tree)) return [];
  return (validate.errors ?? []).map(
    (e) => `${e.instancePath} ${e.message ?? ""} ${JSON.stringify(e.params)}`,
  );
}

describe("compose.yml against the Compose Specification", () => {
  test("with examples/compose.env and the three secrets filled in, the file is valid", () => {
    const tree = interpolateTree(composeTree, { ...exampleEnv, ...SECRETS }, "compose.yml");
    expect(schemaErrors(tree)).toEqual([]);
    const services = (tree as { services: Record<string, { environment?: Record<string, string> }> })
      .services;
    expect(services["orchestrator"]?.environment?.["HTTP_TOKEN"]).toBe(SECRETS.HTTP_TOKEN);
    expect(services["orchestrator"]?.environment?.["AMQP_URL"]).toContain(SECRETS.RABBITMQ_PASSWORD);
  });

  test("the example .env as shipped is refused until its secrets are set: no password anyone knows", () => {
    for (const name of Object.keys(SECRETS)) {
      const env = { ...exampleEnv, ...SECRETS, [name]: "" };
      expect(() => interpolateTree(composeTree, env, "compose.yml")).toThrow(
        new RegExp(`required variable ${name} is missing a value: set ${name} in .env`),
      );
    }
    expect(Object.keys(SECRETS).every((name) => exampleEnv[name] === "")).toBe(true);
  });

  test("the schema check fails on what compose would refuse (a misspelt key, an unknown depends_on condition)", () => {
    const tree = interpolateTree(composeTree, { ...exampleEnv, ...SECRETS }, "compose.yml") as {
      services: Record<string, Record<string, unknown>>;
    };
    const broken = structuredClone(tree);
    broken.services["orchestrator"]!["privilegd"] = true;
    expect(schemaErrors(broken).join("\n")).toMatch(
      /\/services\/orchestrator .*additionalProperty.*privilegd/,
    );
    const badCondition = structuredClone(tree);
    badCondition.services["orchestrator"]!["depends_on"] = { postgres: { condition: "service_ready" } };
    expect(schemaErrors(badCondition).join("\n")).toMatch(
      /depends_on\/postgres\/condition must be equal to one of/,
    );
  });
});

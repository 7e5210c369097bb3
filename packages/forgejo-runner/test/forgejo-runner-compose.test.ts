import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { silentContext } from "@solstice/cli-kit";
import { MQ_SETTINGS } from "@solstice/common";
import { describe, expect, test } from "vitest";
import { parse } from "yaml";
import { z } from "zod";
import { buildProgram } from "../src/cli/program.ts";

// The forgejo-runner service of compose.yml and its part of the Containerfile, checked without a
// container engine: its variables are the program's own, its entrypoint is what the image deploys.

const ROOT = join(import.meta.dirname, "..", "..", "..");
const ServiceSchema = z.object({
  image: z.string(),
  profiles: z.array(z.string()),
  entrypoint: z.array(z.string()),
  command: z.array(z.string()),
  environment: z.record(z.string(), z.union([z.string(), z.number()])),
  volumes: z.array(z.string()),
  depends_on: z.record(z.string(), z.object({ condition: z.string() })),
});
const compose = z
  .object({ services: z.record(z.string(), z.unknown()), volumes: z.record(z.string(), z.null()) })
  .parse(parse(readFileSync(join(ROOT, "compose.yml"), "utf8")));
const service = ServiceSchema.parse(compose.services["forgejo-runner"]);
const containerfile = readFileSync(join(ROOT, "Containerfile"), "utf8");

// The program as defined (vitest runs in the repository root, the cwd its defaults read).
const program = buildProgram(silentContext());
const daemon = program.commands.find((c) => c.name() === "daemon");

describe("compose.yml: forgejo-runner", () => {
  test("runs the daemon from the image the Containerfile builds, opt-in by profile", () => {
    expect(service.image).toBe("solstice-ci/orchestrator:latest");
    expect(service.profiles).toEqual(["forgejo"]);
    expect(service.command).toEqual(["daemon"]);
    expect(service.entrypoint).toEqual([
      "/usr/bin/tini",
      "--",
      "node",
      "--max-semi-space-size=8",
      "/opt/solstice-forgejo-runner/dist/main.js",
    ]);
    expect(service.depends_on).toEqual({ rabbitmq: { condition: "service_healthy" } });
    expect(containerfile).toContain(
      "RUN pnpm deploy --filter @solstice/forgejo-runner --prod --legacy /out-forgejo-runner",
    );
    expect(containerfile).toContain("COPY --from=builder /out-forgejo-runner /opt/solstice-forgejo-runner");
    expect(existsSync(join(ROOT, "packages/forgejo-runner/src/main.ts"))).toBe(true);
  });

  test("its environment uses the daemon's own variable names; state and journal on a volume", () => {
    const known = new Set([
      ...(daemon?.options.map((o) => o.envVar).filter((v) => v !== undefined) ?? []),
      ...MQ_SETTINGS.map((s) => s.env),
      "LOG_LEVEL",
    ]);
    const env = Object.keys(service.environment);
    expect(env.filter((name) => !known.has(name))).toEqual([]);
    expect(service.environment["FORGEJO_RUNNER_STATE_FILE"]).toBe("/var/lib/solstice-forgejo-runner/.runner");
    expect(service.volumes).toContain("forgejo-runner-state:/var/lib/solstice-forgejo-runner");
    expect(Object.keys(compose.volumes)).toContain("forgejo-runner-state");
    expect(String(service.environment["AMQP_URL"])).toMatch(/^amqp:\/\/.*@rabbitmq:5672\//);
  });
});

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { MQ_SETTINGS } from "@solstice/common";
import { describe, expect, test } from "vitest";
import { parse } from "yaml";
import { z } from "zod";
import { SERVICE_SETTINGS } from "../src/config/service-settings.ts";

// compose.yml and Containerfile, checked without a container engine (none on these machines):
// compose.yml parsed and held against the service's own settings; the Containerfile's stages,
// commands and paths against the repository and what `pnpm deploy` produces.

const ROOT = join(import.meta.dirname, "..", "..", "..");

const ServiceSchema = z.object({
  image: z.string().optional(),
  build: z.object({ context: z.string(), dockerfile: z.string() }).optional(),
  environment: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
  ports: z.array(z.string()).optional(),
  volumes: z.array(z.string()).optional(),
  devices: z.array(z.string()).optional(),
  group_add: z.array(z.string()).optional(),
  depends_on: z.record(z.string(), z.object({ condition: z.string() })).optional(),
  healthcheck: z.object({ test: z.array(z.string()) }).optional(),
  stop_grace_period: z.string().optional(),
});
const ComposeSchema = z.object({
  services: z.record(z.string(), ServiceSchema),
  volumes: z.record(z.string(), z.null()),
});

const compose = ComposeSchema.parse(parse(readFileSync(join(ROOT, "compose.yml"), "utf8")));
const containerfile = readFileSync(join(ROOT, "Containerfile"), "utf8");

describe("compose.yml", () => {
  test("runs RabbitMQ, Postgres 16 and the orchestrator built from the Containerfile", () => {
    // forgejo-runner and github-runner: checked by their packages' *-compose.test.ts.
    expect(Object.keys(compose.services).sort()).toEqual([
      "forgejo-runner",
      "github-runner",
      "grafana",
      "orchestrator",
      "otel-collector",
      "postgres",
      "prometheus",
      "rabbitmq",
    ]);
    expect(compose.services["rabbitmq"]?.image).toMatch(/^rabbitmq:(3|4)-management/);
    expect(compose.services["postgres"]?.image).toBe("postgres:16");
    expect(compose.services["orchestrator"]?.build).toEqual({ context: ".", dockerfile: "Containerfile" });
    expect(compose.services["orchestrator"]?.depends_on).toEqual({
      rabbitmq: { condition: "service_healthy" },
      postgres: { condition: "service_healthy" },
    });
    for (const name of ["rabbitmq", "postgres"]) {
      expect(compose.services[name]?.healthcheck?.test.length).toBeGreaterThan(0);
    }
  });

  test("the orchestrator's environment uses the service's own variable names", () => {
    const env = Object.keys(compose.services["orchestrator"]?.environment ?? {});
    const known = new Set([
      ...SERVICE_SETTINGS.map((s) => s.env),
      ...MQ_SETTINGS.map((s) => s.env),
      "LOG_LEVEL",
    ]);
    expect(env.filter((name) => !known.has(name))).toEqual([]);
    for (const name of [
      "HOST_ID",
      "ORCH_CONFIG",
      "MAX_CONCURRENCY",
      "CAPACITY_MAP",
      "DATABASE_URL",
      "AMQP_URL",
      "AMQP_EXCHANGE",
      "AMQP_QUEUE",
      "OTEL_EXPORTER_OTLP_ENDPOINT",
      "HTTP_ADDR",
      "HTTP_TOKEN",
      "STATE_DIR",
      "DRAIN_TIMEOUT_SECS",
    ]) {
      expect(env).toContain(name);
    }
    const vars = compose.services["orchestrator"]?.environment ?? {};
    expect(String(vars["DATABASE_URL"])).toMatch(/^postgres:\/\/.*@postgres:5432\//);
    expect(String(vars["AMQP_URL"])).toMatch(/^amqp:\/\/.*@rabbitmq:5672\//);
  });

  test("/dev/kvm, the state and image volumes, the API on loopback, a /readyz health check", () => {
    const orch = compose.services["orchestrator"];
    expect(orch?.devices).toContain("/dev/kvm:/dev/kvm");
    // biome-ignore lint/suspicious/noTemplateCurlyInString: compose's own ${VAR:-default} syntax
    expect(orch?.group_add).toEqual(["${KVM_GID:-kvm}"]);
    expect(orch?.volumes).toEqual(
      expect.arrayContaining([
        "orchestrator-state:/var/lib/solstice-ci",
        "images:/var/lib/solstice/images",
        "./examples/orchestrator-image-map.yaml:/etc/solstice/images.yaml:ro",
      ]),
    );
    expect(orch?.environment?.["STATE_DIR"]).toBe("/var/lib/solstice-ci");
    expect(orch?.environment?.["ORCH_CONFIG"]).toBe("/etc/solstice/images.yaml");
    expect(orch?.ports).toEqual(["127.0.0.1:8081:8081"]);
    expect(orch?.healthcheck?.test.join(" ")).toContain("http://127.0.0.1:8081/readyz");
    expect(Object.keys(compose.volumes).sort()).toEqual([
      "forgejo-runner-state",
      "github-runner-state",
      "grafana-data",
      "images",
      "orchestrator-state",
      "postgres-data",
      "prometheus-data",
      "rabbitmq-data",
    ]);
    // Long enough for the drain: DRAIN_TIMEOUT_SECS (300) and a margin.
    expect(Number.parseInt(orch?.stop_grace_period ?? "0", 10)).toBeGreaterThan(300);
  });
});

describe("Containerfile", () => {
  const lines = containerfile.split("\n");

  test("builds with pnpm in node:24-bookworm-slim and deploys the orchestrator for production", () => {
    expect(containerfile).toMatch(/^ARG NODE_IMAGE=node:24-bookworm-slim$/m);
    expect(containerfile).toMatch(/^FROM \$\{NODE_IMAGE\} AS builder$/m);
    const pnpm = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).packageManager as string;
    expect(containerfile).toContain(`ARG PNPM_VERSION=${pnpm.replace(/^pnpm@/, "")}`);
    expect(containerfile).toContain("RUN pnpm install --frozen-lockfile");
    expect(containerfile).toContain("RUN pnpm build");
    expect(containerfile).toContain("RUN pnpm deploy --filter @solstice/orchestrator --prod --legacy /out");
  });

  test("runs as a non-root user on Debian with QEMU, qemu-img, git and an SSH client", () => {
    expect(containerfile).toMatch(/^ARG RUNTIME_IMAGE=debian:bookworm-slim$/m);
    // The runtime packages: one list, read by the Containerfile and scripts/setup.sh.
    const packages = readFileSync(join(ROOT, "scripts/runtime-packages.txt"), "utf8")
      .split("\n")
      .map((l) => l.replace(/#.*/, "").trim())
      .filter((l) => l !== "");
    expect(packages).toEqual(
      expect.arrayContaining([
        "qemu-system-x86",
        "qemu-utils",
        "git",
        "openssh-client",
        "ca-certificates",
        "tini",
      ]),
    );
    expect(containerfile).toContain("COPY scripts/runtime-packages.txt /tmp/runtime-packages.txt");
    expect(containerfile).toMatch(
      /apt-get install [^\n]*\$\(sed 's\/#\.\*\/\/' \/tmp\/runtime-packages\.txt\)/,
    );
    expect(containerfile).toContain("COPY --from=builder /usr/local/bin/node /usr/local/bin/node");
    expect(containerfile).toMatch(/--groups kvm/);
    expect(lines.filter((l) => l.startsWith("USER "))).toEqual(["USER solstice"]);
    // The entry point is the deployed package's built main (package.json lives next to dist/).
    expect(containerfile).toContain(
      'ENTRYPOINT ["/usr/bin/tini", "--", "node", "--max-semi-space-size=8", "/opt/solstice-orchestrator/dist/main.js"]',
    );
    expect(existsSync(join(ROOT, "packages/orchestrator/src/main.ts"))).toBe(true);
  });

  test("every file it copies from the build context exists in the repository", () => {
    const sources = lines
      .filter((l) => l.startsWith("COPY ") && !l.includes("--from="))
      .flatMap((l) => l.slice(5).trim().split(/\s+/).slice(0, -1));
    expect(sources.length).toBeGreaterThan(5);
    for (const source of sources) expect(existsSync(join(ROOT, source)), source).toBe(true);
  });
});

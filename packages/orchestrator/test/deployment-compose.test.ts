import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { renderPrometheus } from "@solstice/common";
import { describe, expect, test } from "vitest";
import { parse } from "yaml";
import { z } from "zod";
import { OrchestratorMetrics } from "../src/http/orchestrator-metrics.ts";

// The deployment around the services in compose.yml, checked without a container engine: no
// service gets the host's network or extra privileges, every dependency waits for a health check,
// every variable compose.yml reads is documented in examples/compose.env with the same default,
// and the metrics profile's dashboard queries only series the orchestrator exposes.
// (Each Solstice service's variables against its flags: *-compose.test.ts of its package.)

const ROOT = join(import.meta.dirname, "..", "..", "..");
const read = (path: string): string => readFileSync(join(ROOT, path), "utf8");

const ServiceSchema = z
  .object({
    image: z.string(),
    restart: z.string().optional(),
    profiles: z.array(z.string()).optional(),
    network_mode: z.string().optional(),
    privileged: z.boolean().optional(),
    cap_add: z.array(z.string()).optional(),
    volumes: z.array(z.string()).optional(),
    ports: z.array(z.string()).optional(),
    depends_on: z.record(z.string(), z.object({ condition: z.string() })).optional(),
    healthcheck: z.object({ test: z.array(z.string()) }).optional(),
  })
  .passthrough();
const composeText = read("compose.yml");
const compose = z
  .object({ services: z.record(z.string(), ServiceSchema) })
  .passthrough()
  .parse(parse(composeText));
const services = Object.entries(compose.services);

/** `${NAME:-default}` (or `${NAME}`) references of a compose file; `$${…}` is an escaped literal. */
function composeVariables(text: string): Map<string, string> {
  const vars = new Map<string, string>();
  // `${NAME:-default}`, and `${NAME:?why}` for the secrets that have no default (empty in the example).
  for (const m of text.matchAll(/(?<!\$)\$\{([A-Z][A-Z0-9_]*)(?::([-?])([^}]*))?\}/g)) {
    vars.set(m[1] ?? "", m[2] === "-" ? (m[3] ?? "") : "");
  }
  return vars;
}

/** `# NAME=value` or `NAME=value` lines of an env file. */
function envFileVariables(text: string): Map<string, string> {
  const vars = new Map<string, string>();
  for (const m of text.matchAll(/^(?:# )?([A-Z][A-Z0-9_]*)=(.*)$/gm)) vars.set(m[1] ?? "", m[2] ?? "");
  return vars;
}

describe("compose.yml: the deployment", () => {
  test("no host network, no privileged mode, no added capabilities; ports on loopback only", () => {
    expect(services.length).toBeGreaterThanOrEqual(8);
    for (const [name, s] of services) {
      expect(s.network_mode, name).toBeUndefined();
      expect(s.privileged ?? false, name).toBe(false);
      expect(s.cap_add ?? [], name).toEqual([]);
      for (const port of s.ports ?? []) expect(port, name).toMatch(/^127\.0\.0\.1:/);
    }
    expect(composeText).not.toMatch(/NET_ADMIN|network_mode:\s*host|privileged:\s*true/);
  });

  test("every service restarts; every dependency waits for a health check the dependency has", () => {
    for (const [name, s] of services) {
      expect(s.restart, name).toBe("unless-stopped");
      for (const [dep, { condition }] of Object.entries(s.depends_on ?? {})) {
        expect(condition, `${name} -> ${dep}`).toBe("service_healthy");
        expect(compose.services[dep]?.healthcheck?.test.length, dep).toBeGreaterThan(0);
      }
    }
  });

  test("the optional services sit behind their profiles", () => {
    const profiles = Object.fromEntries(services.map(([name, s]) => [name, s.profiles ?? []]));
    expect(profiles).toMatchObject({
      "otel-collector": ["otel"],
      prometheus: ["metrics"],
      grafana: ["metrics"],
      "forgejo-runner": ["forgejo"],
      "github-runner": ["github"],
      orchestrator: [],
      rabbitmq: [],
      postgres: [],
    });
  });

  test("every file compose.yml mounts from the repository exists", () => {
    const sources = services.flatMap(([, s]) =>
      (s.volumes ?? []).filter((v) => v.startsWith("./")).map((v) => v.split(":")[0] ?? ""),
    );
    expect(sources.length).toBeGreaterThan(5);
    for (const source of sources) expect(existsSync(join(ROOT, source)), source).toBe(true);
  });

  test("examples/compose.env documents every variable compose.yml reads, with its default", () => {
    const used = composeVariables(composeText);
    const documented = envFileVariables(read("examples/compose.env"));
    expect(used.size).toBeGreaterThan(20);
    expect([...used.keys()].filter((v) => !documented.has(v))).toEqual([]);
    expect([...documented.keys()].filter((v) => !used.has(v))).toEqual([]);
    for (const [name, fallback] of used) {
      // OTEL_EXPORTER_OTLP_ENDPOINT: the example shows the collector's address, default none.
      if (name === "OTEL_EXPORTER_OTLP_ENDPOINT") continue;
      expect(documented.get(name), name).toBe(fallback);
    }
  });
});

describe("the metrics profile", () => {
  const metrics = new OrchestratorMetrics();
  metrics.observeIntake("accepted");
  metrics.observeJob({ label: "l", conclusion: "success", seconds: 3 });
  metrics.observeBoot({ label: "l", seconds: 3 });
  const exposition = renderPrometheus(
    metrics.collect({
      jobsByState: { accepted: 0, running: 1, finished: 2 },
      vmsByState: { preparing: 0, running: 1, debug_hold: 0, destroyed: 2 },
      capacity: { inUse: 1, limit: 2, queued: 0, labels: { l: { inUse: 1, limit: 2, queued: 0 } } },
      queues: {
        value: {
          labels: [{ label: "l", queue: "solstice.jobs.v1.label.l", messages: 0, consumers: 1 }],
          original: { queue: "solstice.jobs.v1", messages: 0, consumers: 1 },
          deadLetters: { queue: "solstice.jobs.v1.dlq", messages: 1, consumers: 0 },
        },
      },
    }),
  );
  const exposed = new Set([...exposition.matchAll(/^([a-z_]+)[{ ]/gm)].map((m) => m[1]));

  test("every dashboard query reads series the orchestrator's /metrics exposes", () => {
    const Dashboard = z.object({
      uid: z.string(),
      panels: z.array(
        z.object({
          title: z.string(),
          datasource: z.object({ uid: z.string() }),
          targets: z.array(z.object({ expr: z.string() })).min(1),
        }),
      ),
    });
    const dashboard = Dashboard.parse(
      JSON.parse(read("examples/compose/grafana/dashboards/solstice-orchestrator.json")),
    );
    const datasource = read("examples/compose/grafana/provisioning/datasources/prometheus.yaml");
    const queried = new Set<string>();
    for (const panel of dashboard.panels) {
      expect(datasource).toContain(`uid: ${panel.datasource.uid}`);
      for (const { expr } of panel.targets) {
        for (const m of expr.matchAll(/\bsolstice_[a-z_]+/g)) queried.add(m[0]);
      }
    }
    expect([...queried].filter((name) => !exposed.has(name))).toEqual([]);
    // Jobs by state, requests, waiting, capacity, VMs, and both duration histograms.
    for (const name of [
      "solstice_jobs",
      "solstice_job_requests_total",
      "solstice_jobs_waiting",
      "solstice_capacity_in_use",
      "solstice_vms_running",
      "solstice_job_duration_seconds_bucket",
      "solstice_vm_boot_duration_seconds_bucket",
    ]) {
      expect(queried, name).toContain(name);
    }
  });

  test("Prometheus scrapes the orchestrator's /metrics on the port it listens on", () => {
    const Prometheus = z.object({
      scrape_configs: z.array(
        z.object({
          metrics_path: z.string(),
          static_configs: z.array(z.object({ targets: z.array(z.string()) })),
        }),
      ),
    });
    const config = Prometheus.parse(parse(read("examples/compose/prometheus.yml")));
    expect(config.scrape_configs[0]?.metrics_path).toBe("/metrics");
    const port = /HTTP_ADDR: 0\.0\.0\.0:(\d+)/.exec(composeText)?.[1];
    expect(config.scrape_configs[0]?.static_configs[0]?.targets).toEqual([`orchestrator:${port}`]);
  });
});

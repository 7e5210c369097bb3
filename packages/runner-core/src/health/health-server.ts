import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type MetricFamily,
  PROMETHEUS_CONTENT_TYPE,
  type ReadinessProbe,
  readinessAnswer,
  renderPrometheus,
} from "@solstice/common";
import { RunnerHttpListenError } from "../errors.ts";
import type { HttpAddr } from "./http-addr.ts";
import type { RunnerMetrics } from "./runner-metrics.ts";

export type { ReadinessProbe };

/** What a runner's health server answers from. */
export interface HealthServerOptions {
  readonly addr: HttpAddr;
  /** The metric families of one scrape. */
  readonly metrics: () => MetricFamily[];
  /** `/readyz` checks by name (`forge`, `broker`): all must pass for 200. */
  readonly probes: Readonly<Record<string, ReadinessProbe>>;
  /** Per probe (default 3 s): a probe that hangs answers "no answer within ... ms". */
  readonly probeTimeoutMs?: number | undefined;
}

/** A listening health server. */
export interface HealthServer {
  /** `http://host:port`, with the port actually bound. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Starts a runner's HTTP port, the same routes as the orchestrator's: `GET /healthz` (the process
 * answers: 200 `{"status":"ok"}`), `GET /readyz` (200 or 503, `{"status","checks":{name: "ok" |
 * why}}`) and `GET /metrics` (Prometheus text). Nothing else: 404; other methods: 405. No
 * authentication: nothing it answers is secret, and the default keeps it off (see docs/telemetry.md).
 *
 * @example
 *   const server = await startHealthServer({ addr: parseHttpAddr("127.0.0.1:9465"), metrics: () => m.collect(), probes: { broker } });
 *   // ... await server.close();
 */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const server = createServer((request, response) => {
    handle(options, request, response).catch(() => {
      if (!response.headersSent) response.writeHead(500);
      response.end();
    });
  });
  // A scraper that keeps the connection open must not hold up close().
  server.keepAliveTimeout = 5_000;
  await listen(server, options.addr);
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function listen(server: Server, addr: HttpAddr): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(new RunnerHttpListenError(`${addr.host}:${addr.port}`, error));
    server.once("error", onError);
    server.listen(addr.port, addr.host, () => {
      server.off("error", onError);
      resolve();
    });
  });
}

async function handle(
  options: HealthServerOptions,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const path = (request.url ?? "/").split("?")[0];
  const known = path === "/healthz" || path === "/readyz" || path === "/metrics";
  if (!known) return send(response, 404, { error: { code: "NOT_FOUND", message: `no route ${path}` } });
  if (request.method !== "GET" && request.method !== "HEAD") {
    response.setHeader("allow", "GET, HEAD");
    return send(response, 405, { error: { code: "METHOD_NOT_ALLOWED", message: "GET only" } });
  }
  if (path === "/healthz") return send(response, 200, { status: "ok" });
  if (path === "/readyz") {
    const names = Object.keys(options.probes);
    const results = await Promise.all(
      names.map((name) =>
        readinessAnswer(options.probes[name] ?? (async () => undefined), options.probeTimeoutMs ?? 3000),
      ),
    );
    const checks = Object.fromEntries(names.map((name, i) => [name, results[i]]));
    const ready = results.every((r) => r === "ok");
    return send(response, ready ? 200 : 503, { status: ready ? "ready" : "not ready", checks });
  }
  const text = renderPrometheus(options.metrics());
  response.writeHead(200, { "content-type": PROMETHEUS_CONTENT_TYPE });
  response.end(request.method === "HEAD" ? undefined : text);
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json; charset=utf-8" });
  response.end(JSON.stringify(body));
}

/** What a runner daemon's `/readyz` asks about its broker connection. */
export interface BrokerState {
  readonly connected: boolean;
  readonly displayUrl: string;
}

/**
 * The health server both runner daemons open: `/metrics` from their {@link RunnerMetrics} and the
 * number of tasks running, `/readyz` from the last forge call and the broker connection.
 */
export function startRunnerHealthServer(input: {
  readonly addr: HttpAddr;
  readonly metrics: RunnerMetrics;
  readonly running: () => number;
  readonly broker: BrokerState;
}): Promise<HealthServer> {
  return startHealthServer({
    addr: input.addr,
    metrics: () => input.metrics.collect({ running: input.running() }),
    probes: {
      forge: () => input.metrics.forgeReady(),
      broker: async () => {
        if (!input.broker.connected)
          throw new Error(`not connected to RabbitMQ at ${input.broker.displayUrl}`);
      },
    },
  });
}

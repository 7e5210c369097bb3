import { Readable } from "node:stream";
import {
  type FleetView,
  PROMETHEUS_CONTENT_TYPE,
  type ReadinessProbe,
  readinessAnswer,
  renderPrometheus,
} from "@solstice/common";
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from "fastify";
import { HttpApiError } from "../errors.ts";
import { ALL_LINES, DEFAULT_LOG_PAGE, type JobStore } from "../persistence/job-store.ts";
import type { CapacitySnapshot } from "../scheduling/capacity-scheduler.ts";
import type { ImageTemplatesApi } from "../service/image-templates.ts";
import type { QueueDepthsReading } from "../service/queue-depths.ts";
import {
  CancelBodySchema,
  ImageParamsSchema,
  JobParamsSchema,
  ListJobsQuerySchema,
  LogsQuerySchema,
} from "./api-schemas.ts";
import { bearerTokenMatches } from "./bearer-auth.ts";
import { jobView, vmView } from "./job-views.ts";
import { followLogs, parseLastEventId } from "./log-follow.ts";
import { openLogPage } from "./log-page.ts";
import type { OrchestratorMetrics } from "./orchestrator-metrics.ts";
import { type ZodTypeProvider, zodValidatorCompiler } from "./zod-type-provider.ts";

/** What the HTTP API stands on. Everything is injected: the API holds no state of its own. */
export interface HttpApiDeps {
  readonly store: JobStore;
  /** This orchestrator's host id (metrics are for this host). */
  readonly hostId: string;
  /**
   * Cancels a job that is not finished (queued or running): resolves once the cancel is under way
   * (the VM is stopped and the job reported `cancelled` by the service).
   */
  readonly cancel: (requestId: string, reason: string) => Promise<void>;
  /** `/readyz` checks: each must answer within `probeTimeoutMs`. */
  readonly probes: { readonly database: ReadinessProbe; readonly broker: ReadinessProbe };
  /** The scheduler's current use (`CapacityScheduler.inUse()`). */
  readonly capacity: () => CapacitySnapshot;
  readonly metrics: OrchestratorMetrics;
  /** Bearer token for every route but `/healthz`; undefined: no authentication. */
  readonly token?: string | undefined;
  /** Request logging (pino); default: none. */
  readonly logger?: FastifyBaseLogger | undefined;
  /** How often a log follower looks for new lines (default 500 ms). */
  readonly followPollMs?: number | undefined;
  /** Keep-alive comment interval on an idle log stream (default 15 s). */
  readonly followKeepAliveMs?: number | undefined;
  /** `/readyz` probe timeout (default 3 s). */
  readonly probeTimeoutMs?: number | undefined;
  /** `GET /v1/images` and `POST /v1/images/:label/warm`; undefined: those routes answer 404. */
  readonly images?: ImageTemplatesApi | undefined;
  /** `GET /v1/fleet`: every host and the label queues' depth; undefined: that route answers 404. */
  readonly fleet?: (() => Promise<FleetView>) | undefined;
  /** The job queues' depths for `/metrics` (never rejects); undefined: not reported. */
  readonly queueDepths?: (() => Promise<QueueDepthsReading>) | undefined;
}

/** The JSON body of every error: `{ "error": { "code": "NOT_FOUND", "message": "..." } }`. */
export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string };
}

const OPEN_ROUTES = new Set(["/healthz"]);

/**
 * Builds the orchestrator's HTTP API (not listening: see `listenHttpApi`, or use `app.inject()`).
 *
 * Routes: `GET /healthz`, `GET /readyz`, `GET /metrics`, `GET /v1/jobs`, `GET /v1/jobs/:id`,
 * `GET /v1/jobs/:id/logs` (`?follow=1`: server-sent events), `POST /v1/jobs/:id/cancel`,
 * `GET /v1/images`, `POST /v1/images/:label/warm`, `GET /v1/fleet`.
 * See docs/orchestrator.md for each.
 *
 * @example
 *   const app = await buildApp({ store, hostId, cancel, probes, capacity: () => sched.inUse(), metrics });
 *   const res = await app.inject({ method: "GET", url: "/v1/jobs?state=running" });
 */
export async function buildApp(deps: HttpApiDeps): Promise<FastifyInstance> {
  const app = Fastify({
    ...(deps.logger === undefined ? { logger: false } : { loggerInstance: deps.logger }),
    // Job ids and bodies are small; refuse anything large.
    bodyLimit: 16 * 1024,
    // close() must not wait for keep-alive sockets or a follower whose client vanished silently.
    forceCloseConnections: true,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(zodValidatorCompiler);

  const pollMs = deps.followPollMs ?? 500;
  const keepAliveMs = deps.followKeepAliveMs ?? 15_000;
  const probeTimeoutMs = deps.probeTimeoutMs ?? 3_000;
  // Open log streams end when their job finishes; on close they end at once (shutdown must not wait).
  const followers = new Set<AbortController>();
  app.addHook("preClose", async () => {
    for (const f of followers) f.abort();
  });

  app.addHook("onRequest", async (request) => {
    if (deps.token === undefined || OPEN_ROUTES.has(request.routeOptions.url ?? "")) return;
    if (!bearerTokenMatches(request.headers.authorization, deps.token)) {
      throw new HttpApiError(401, "UNAUTHORIZED", "missing or wrong bearer token", {
        hint: "send Authorization: Bearer <HTTP_TOKEN>",
      });
    }
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof HttpApiError) {
      if (error.statusCode === 401) reply.header("www-authenticate", 'Bearer realm="solstice-orchestrator"');
      return reply.status(error.statusCode).send(errorBody(error.code, error.message));
    }
    // Our zod validator's errors arrive as FST_ERR_VALIDATION with the part that failed.
    if (error.validation !== undefined || error.code === "FST_ERR_VALIDATION") {
      return reply
        .status(400)
        .send(errorBody("INVALID_REQUEST", `${error.validationContext ?? "request"}: ${error.message}`));
    }
    const status = error.statusCode ?? 500;
    if (status < 500) return reply.status(status).send(errorBody(error.code ?? "BAD_REQUEST", error.message));
    request.log.error({ err: error }, "request failed");
    return reply.status(500).send(errorBody("INTERNAL", "internal error; see the orchestrator's log"));
  });

  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send(errorBody("NOT_FOUND", `no route ${request.method} ${request.url.split("?")[0]}`)),
  );

  app.get("/healthz", async () => ({ status: "ok" }));

  app.get("/readyz", async (_request, reply) => {
    const [database, broker] = await Promise.all([
      readinessAnswer(deps.probes.database, probeTimeoutMs),
      readinessAnswer(deps.probes.broker, probeTimeoutMs),
    ]);
    const ready = database === "ok" && broker === "ok";
    return reply
      .status(ready ? 200 : 503)
      .send({ status: ready ? "ready" : "not ready", checks: { database, broker } });
  });

  app.get("/metrics", async (_request, reply) => {
    const [jobsByState, vmsByState, queues] = await Promise.all([
      deps.store.countJobsByState(deps.hostId),
      deps.store.countVmsByState(deps.hostId),
      deps.queueDepths?.(),
    ]);
    const families = deps.metrics.collect({ jobsByState, vmsByState, capacity: deps.capacity(), queues });
    return reply.type(PROMETHEUS_CONTENT_TYPE).send(renderPrometheus(families));
  });

  const images = deps.images;
  if (images !== undefined) {
    app.get("/v1/images", async () => ({ images: images.list() }));

    // Rebuilds the template now and answers once it is ready (or bad): minutes for a slow guest.
    app.post("/v1/images/:label/warm", { schema: { params: ImageParamsSchema } }, async (request) => {
      const answer = await images.warm(request.params.label);
      if (answer === "unknown") {
        throw new HttpApiError(404, "IMAGE_NOT_FOUND", `no image ${request.params.label} in the image map`);
      }
      if (answer === "off") {
        throw new HttpApiError(
          409,
          "WARM_STARTS_OFF",
          `warm starts are off for ${request.params.label} (WARM_STARTS, or warm_start: false in the image map)`,
        );
      }
      return answer;
    });
  }

  const fleet = deps.fleet;
  if (fleet !== undefined) app.get("/v1/fleet", async () => fleet());

  app.get("/v1/jobs", { schema: { querystring: ListJobsQuerySchema } }, async (request) => {
    const q = request.query;
    const limit = q.limit ?? 50;
    const jobs = await deps.store.listJobs({
      state: q.state,
      label: q.label,
      hostId: q.host,
      limit,
      before: q.before === undefined ? undefined : new Date(q.before),
    });
    const last = jobs[jobs.length - 1];
    return {
      jobs: jobs.map(jobView),
      // Another page may follow when this one is full.
      next_before: jobs.length === limit && last !== undefined ? last.receivedAt.toISOString() : null,
    };
  });

  app.get("/v1/jobs/:id", { schema: { params: JobParamsSchema } }, async (request) => {
    const job = await deps.store.getJob(request.params.id);
    if (job === undefined) throw jobNotFound(request.params.id);
    const vms = await deps.store.vmsForJob(job.requestId);
    return { ...jobView(job), request: job.request, vms: vms.map(vmView) };
  });

  app.get(
    "/v1/jobs/:id/logs",
    { schema: { params: JobParamsSchema, querystring: LogsQuerySchema } },
    async (request, reply) => {
      const id = request.params.id;
      const job = await deps.store.getJob(id);
      if (job === undefined) throw jobNotFound(id);
      const query = request.query;
      if (query.follow !== true) {
        // Written as it is read from the store: a page of thousands of lines is never held whole.
        const body = await openLogPage({
          requestId: id,
          state: job.state,
          afterSeq: query.after_seq,
          afterLine: query.after_line,
          limit: query.limit ?? DEFAULT_LOG_PAGE,
          read: (after, limit) => deps.store.getLogs(id, { after, limit }),
        });
        return reply.type("application/json; charset=utf-8").send(Readable.from(body));
      }
      const after =
        parseLastEventId(request.headers["last-event-id"]) ??
        (query.after_seq === undefined
          ? undefined
          : { seq: query.after_seq, line: query.after_line ?? ALL_LINES });
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache",
        connection: "keep-alive",
        "x-accel-buffering": "no",
      });
      const abort = new AbortController();
      followers.add(abort);
      res.on("close", () => abort.abort());
      const write = (chunk: string) =>
        new Promise<void>((resolve) => {
          if (res.write(chunk)) resolve();
          else res.once("drain", () => resolve());
        });
      try {
        await followLogs({
          store: deps.store,
          requestId: id,
          after,
          pollMs,
          keepAliveMs,
          write,
          signal: abort.signal,
        });
      } catch (err) {
        request.log.error({ err }, "log stream failed");
      } finally {
        followers.delete(abort);
        res.end();
      }
      return reply;
    },
  );

  app.post(
    "/v1/jobs/:id/cancel",
    { schema: { params: JobParamsSchema, body: CancelBodySchema } },
    async (request, reply) => {
      const id = request.params.id;
      const job = await deps.store.getJob(id);
      if (job === undefined) throw jobNotFound(id);
      if (job.state === "finished") {
        throw new HttpApiError(
          409,
          "JOB_FINISHED",
          `job ${id} already finished (${job.conclusion ?? "unknown"})`,
        );
      }
      const reason = request.body?.reason ?? "cancelled through the orchestrator's HTTP API";
      await deps.cancel(id, reason);
      return reply.status(202).send({ request_id: id, state: "cancelling", reason });
    },
  );

  await app.ready();
  return app;
}

/** Listens on `host:port` (port 0: any free port) and returns the URL the API answers at. */
export async function listenHttpApi(
  app: FastifyInstance,
  address: { readonly host: string; readonly port: number },
): Promise<{ url: string; port: number }> {
  await app.listen({ host: address.host, port: address.port });
  const bound = app.server.address();
  const port = typeof bound === "object" && bound !== null ? bound.port : address.port;
  const host = address.host.includes(":") ? `[${address.host}]` : address.host;
  return { url: `http://${host}:${port}`, port };
}

function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } };
}

function jobNotFound(id: string): HttpApiError {
  return new HttpApiError(404, "JOB_NOT_FOUND", `no job with request id ${id}`);
}

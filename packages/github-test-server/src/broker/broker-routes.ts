import { z } from "zod";
import { requireRunnerBearer } from "../auth/bearer-auth.ts";
import { HttpError, parseJsonBody, readBody, sendEmpty, sendJson } from "../http/http-io.ts";
import type { Route, RouteContext } from "../http/router.ts";
import { assignNextJob } from "../jobs/job-dispatch.ts";
import type { RunnerEntry } from "../runners/runner-registry.ts";
import type { ServerContext } from "../server-context.ts";
import { holdPoll } from "./long-poll.ts";
import type { SessionRecord } from "./session-registry.ts";

// The broker (the v2 message flow) at the runner's `server_url`: sessions, the long-poll for
// messages, and acknowledgements of job requests. Errors carry the broker's JSON
// `{source: "actions-broker-listener", errorKind, statusCode, errorMessage}`, from which the
// runner tells a deleted runner, a dead session and a too-old version apart.

function brokerError(status: number, errorKind: string, errorMessage: string): HttpError {
  return new HttpError(status, {
    source: "actions-broker-listener",
    errorKind,
    statusCode: status,
    errorMessage,
  });
}

const SessionBody = z.object({
  sessionId: z.string().optional(),
  ownerName: z.string(),
  agent: z.looseObject({ id: z.number().int(), name: z.string(), version: z.string().optional() }),
  useFipsEncryption: z.boolean().optional(),
  encryptionKey: z.unknown().optional(),
});

const AcknowledgeBody = z.object({ runnerRequestId: z.string().min(1) });

const invalid = (problem: string): HttpError => new HttpError(400, { message: problem });

/** Compares dotted versions (`2.321.0`); negative when a < b. */
function compareVersions(a: string, b: string): number {
  const x = a.split(".").map((n) => Number.parseInt(n, 10) || 0);
  const y = b.split(".").map((n) => Number.parseInt(n, 10) || 0);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The broker's routes. */
export function brokerRoutes(context: ServerContext): Route[] {
  const base = new URL(context.urls.broker).pathname;

  const liveRunner = (ctx: RouteContext): RunnerEntry => {
    const runnerId = requireRunnerBearer(ctx, context);
    const runner = context.runners.get(runnerId);
    if (runner === undefined) throw brokerError(404, "RunnerNotFound", `runner ${runnerId} was not found`);
    return runner;
  };

  const sessionOf = (ctx: RouteContext, runner: RunnerEntry): SessionRecord => {
    const sessionId = ctx.url.searchParams.get("sessionId");
    const session = sessionId === null ? undefined : context.sessions.get(sessionId);
    if (session === undefined || session.runnerId !== runner.id || session.deletedAt !== undefined) {
      throw brokerError(
        404,
        "RunnerSessionInvalid",
        `session ${sessionId ?? "(none)"} is not a live session of runner ${runner.id}`,
      );
    }
    return session;
  };

  return [
    {
      method: "POST",
      pattern: new RegExp(`^${base}session$`),
      endpoint: "create-session",
      handler: async (ctx) => {
        const runner = liveRunner(ctx);
        const body = parseJsonBody((await readBody(ctx.req)).toString("utf8"), SessionBody, invalid);
        if (body.agent.id !== runner.id) {
          throw new HttpError(403, {
            message: `agent.id ${body.agent.id} is not the runner of this token (${runner.id})`,
          });
        }
        if (context.sessions.liveOf(runner.id) !== undefined) {
          throw new HttpError(409, { message: `a session for runner ${runner.name} already exists` });
        }
        const session = context.sessions.create({
          runnerId: runner.id,
          ownerName: body.ownerName,
          agent: body.agent,
          useFipsEncryption: body.useFipsEncryption ?? false,
          encryptionKey: undefined,
        });
        sendJson(ctx.res, 200, {
          sessionId: session.sessionId,
          ownerName: session.ownerName,
          agent: session.agent,
          useFipsEncryption: session.useFipsEncryption,
        });
      },
    },
    {
      method: "DELETE",
      pattern: new RegExp(`^${base}session$`),
      endpoint: "delete-session",
      handler: (ctx) => {
        const runnerId = requireRunnerBearer(ctx, context);
        context.sessions.deleteForRunner(runnerId);
        context.messages.wake(runnerId);
        sendEmpty(ctx.res, 200);
      },
    },
    {
      method: "GET",
      pattern: new RegExp(`^${base}message$`),
      endpoint: "get-message",
      handler: async (ctx) => {
        const runner = liveRunner(ctx);
        sessionOf(ctx, runner);
        const query = ctx.url.searchParams;
        const version = query.get("runnerVersion") ?? "";
        const minimum = context.settings.minimumRunnerVersion;
        if (minimum !== undefined && compareVersions(version, minimum) < 0) {
          throw brokerError(403, "RunnerVersionTooOld", `runner version ${version} is older than ${minimum}`);
        }
        runner.lastStatus = query.get("status") ?? undefined;
        runner.lastOs = query.get("os") ?? runner.lastOs;
        runner.lastPollAt = new Date();
        const message = await holdPoll(ctx, context, runner.id, () => {
          // The runner (or its session) may have been deleted while the poll waited.
          if (context.runners.get(runner.id) === undefined) {
            throw brokerError(404, "RunnerNotFound", `runner ${runner.id} was not found`);
          }
          sessionOf(ctx, runner);
          if (runner.lastStatus !== "Busy") assignNextJob(context, runner);
          return context.messages.nextFor(runner.id);
        });
        if (message === "gone") return;
        if (message !== undefined) {
          context.messages.markDelivered(message.messageId);
          sendJson(ctx.res, 200, {
            messageId: message.messageId,
            messageType: message.messageType,
            body: message.body,
          });
          return;
        }
        // No message: a 2xx without a body (the runner reads any such answer as "nothing").
        sendEmpty(ctx.res, context.settings.idleMessageStatus);
      },
    },
    {
      method: "POST",
      pattern: new RegExp(`^${base}acknowledge$`),
      endpoint: "acknowledge",
      handler: async (ctx) => {
        const runner = liveRunner(ctx);
        sessionOf(ctx, runner);
        const body = parseJsonBody((await readBody(ctx.req)).toString("utf8"), AcknowledgeBody, invalid);
        const message = context.messages.byRunnerRequestId(body.runnerRequestId);
        const job = context.jobs.byRunnerRequestId(body.runnerRequestId);
        if (
          message === undefined ||
          message.runnerId !== runner.id ||
          job === undefined ||
          job.status === "completed"
        ) {
          throw brokerError(
            404,
            "AcknowledgeJobNotFound",
            `no job request ${body.runnerRequestId} for this runner`,
          );
        }
        context.messages.acknowledge(message.messageId);
        context.jobs.changed();
        sendEmpty(ctx.res, 200);
      },
    },
  ];
}

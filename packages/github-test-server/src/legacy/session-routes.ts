import { z } from "zod";
import { requireRunnerBearer } from "../auth/bearer-auth.ts";
import { holdPoll } from "../broker/long-poll.ts";
import type { SessionRecord } from "../broker/session-registry.ts";
import { parseJsonBody, readBody, sendEmpty, sendJson } from "../http/http-io.ts";
import type { Route, RouteContext } from "../http/router.ts";
import type { JobEntry } from "../jobs/job-record.ts";
import { deleteRunner } from "../runners/runner-lifecycle.ts";
import type { RunnerEntry } from "../runners/runner-registry.ts";
import type { ServerContext } from "../server-context.ts";
import { LEGACY_POOL } from "./agent-json.ts";
import { assignNextLegacyJob } from "./legacy-job-dispatch.ts";
import { encryptMessageBody, newSessionKey, wrapSessionKey } from "./message-encryption.ts";
import { invalidVssBody, vssError } from "./vss-error.ts";

// The legacy message flow under the tenant URL, with the runner's OAuth token, as the reference
// runner's MessageListener and JobDispatcher call it (TaskAgentHttpClient):
//   POST   pools/{poolId}/sessions                    a session with an encryption key
//   DELETE pools/{poolId}/sessions/{sessionId}
//   GET    pools/{poolId}/messages?sessionId&lastMessageId&status…   long poll, bodies encrypted
//   DELETE pools/{poolId}/messages/{messageId}?sessionId             a handled message
//   PATCH  pools/{poolId}/jobrequests/{requestId}?lockToken          renew, or finish
// Unlike the broker, a message stays until the runner deletes it: a new session gets every
// undeleted one again.

const SessionBody = z.looseObject({
  sessionId: z.string().optional(),
  ownerName: z.string().min(1),
  agent: z.looseObject({ id: z.number().int(), name: z.string(), version: z.string().optional() }),
  useFipsEncryption: z.boolean().optional(),
});

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

const JobRequestBody = z.looseObject({
  requestId: z.number().int(),
  lockedUntil: z.string().nullish(),
  finishTime: z.string().nullish(),
  result: z
    .enum(["succeeded", "succeededWithIssues", "failed", "canceled", "skipped", "abandoned"])
    .nullish(),
});

/** The legacy session, message and job request routes. */
export function legacySessionRoutes(context: ServerContext): Route[] {
  const pools = `^${new URL(context.urls.tenant).pathname}_apis/distributedtask/pools/(?<poolId>\\d+)`;

  const liveRunner = (ctx: RouteContext): RunnerEntry => {
    const runnerId = requireRunnerBearer(ctx, context);
    if (Number(ctx.params.poolId) !== LEGACY_POOL.id)
      throw vssError(404, "TaskAgentPoolNotFoundException", `agent pool ${ctx.params.poolId} not found`);
    const runner = context.runners.get(runnerId);
    if (runner === undefined)
      throw vssError(404, "TaskAgentNotFoundException", `agent ${runnerId} not found`);
    return runner;
  };

  const sessionOf = (runner: RunnerEntry, sessionId: string | null | undefined): SessionRecord => {
    const session = sessionId == null ? undefined : context.sessions.get(sessionId);
    if (session === undefined || session.runnerId !== runner.id || session.deletedAt !== undefined) {
      throw vssError(
        404,
        "TaskAgentSessionExpiredException",
        `session ${sessionId ?? "(none)"} is not a live session of agent ${runner.id}`,
      );
    }
    return session;
  };

  const jobOfRequest = (runner: RunnerEntry, requestId: number): JobEntry | undefined =>
    context.jobs.list().find((j) => j.legacyRequestId === requestId && j.runnerId === runner.id);

  return [
    {
      method: "POST",
      pattern: new RegExp(`${pools}/sessions$`),
      endpoint: "legacy-create-session",
      handler: async (ctx) => {
        const runner = liveRunner(ctx);
        const body = parseJsonBody((await readBody(ctx.req)).toString("utf8"), SessionBody, invalidVssBody);
        if (body.agent.id !== runner.id)
          throw vssError(403, "AccessDeniedException", `agent.id ${body.agent.id} is not this token's agent`);
        if (context.sessions.liveOf(runner.id) !== undefined) {
          throw vssError(
            409,
            "TaskAgentSessionConflictException",
            `a session for agent ${runner.name} already exists`,
          );
        }
        const fips = body.useFipsEncryption ?? false;
        const key = newSessionKey();
        const session = context.sessions.create({
          runnerId: runner.id,
          ownerName: body.ownerName,
          agent: body.agent,
          useFipsEncryption: fips,
          encryptionKey: key,
        });
        sendJson(ctx.res, 200, {
          sessionId: session.sessionId,
          ownerName: session.ownerName,
          agent: session.agent,
          useFipsEncryption: fips,
          encryptionKey: {
            encrypted: true,
            value: wrapSessionKey(key, runner.publicKey, fips).toString("base64"),
          },
        });
      },
    },
    {
      method: "DELETE",
      pattern: new RegExp(`${pools}/sessions/(?<sessionId>[^/]+)$`),
      endpoint: "legacy-delete-session",
      handler: (ctx) => {
        const runner = liveRunner(ctx);
        const session = sessionOf(runner, ctx.params.sessionId);
        context.sessions.delete(session.sessionId);
        context.messages.wake(runner.id);
        sendEmpty(ctx.res, 204);
      },
    },
    {
      method: "GET",
      pattern: new RegExp(`${pools}/messages$`),
      endpoint: "legacy-get-message",
      handler: async (ctx) => {
        const runner = liveRunner(ctx);
        const query = ctx.url.searchParams;
        const sessionId = query.get("sessionId");
        sessionOf(runner, sessionId);
        const last = query.get("lastMessageId");
        const lastMessageId = last === null || !/^\d+$/.test(last) ? undefined : Number(last);
        runner.lastStatus = query.get("status") ?? undefined;
        runner.lastOs = query.get("os") ?? runner.lastOs;
        runner.lastPollAt = new Date();
        const taken = await holdPoll(ctx, context, runner.id, () => {
          if (context.runners.get(runner.id) === undefined)
            throw vssError(404, "TaskAgentNotFoundException", `agent ${runner.id} not found`);
          const session = sessionOf(runner, sessionId);
          if (runner.lastStatus !== "Busy") assignNextLegacyJob(context, runner);
          const message = context.messages.nextUndeletedFor(runner.id, lastMessageId);
          return message !== undefined && session.encryptionKey !== undefined
            ? { message, key: session.encryptionKey }
            : undefined;
        });
        if (taken === "gone") return;
        if (taken !== undefined) {
          const { message, key } = taken;
          context.messages.markDelivered(message.messageId);
          const encrypted = encryptMessageBody(message.body, key);
          sendJson(ctx.res, 200, {
            messageId: message.messageId,
            messageType: message.messageType,
            iv: encrypted.iv,
            body: encrypted.body,
          });
          return;
        }
        sendEmpty(ctx.res, context.settings.idleMessageStatus);
      },
    },
    {
      method: "DELETE",
      pattern: new RegExp(`${pools}/messages/(?<messageId>\\d+)$`),
      endpoint: "legacy-delete-message",
      handler: (ctx) => {
        const runner = liveRunner(ctx);
        sessionOf(runner, ctx.url.searchParams.get("sessionId"));
        if (!context.messages.delete(runner.id, Number(ctx.params.messageId))) {
          throw vssError(
            404,
            "TaskAgentMessageNotFoundException",
            `message ${ctx.params.messageId} not found`,
          );
        }
        context.jobs.changed();
        sendEmpty(ctx.res, 204);
      },
    },
    {
      method: "PATCH",
      pattern: new RegExp(`${pools}/jobrequests/(?<requestId>\\d+)$`),
      endpoint: "legacy-update-job-request",
      handler: async (ctx) => {
        const runner = liveRunner(ctx);
        const lockToken = ctx.url.searchParams.get("lockToken");
        if (lockToken === null || !GUID.test(lockToken))
          throw invalidVssBody("the lockToken query parameter (a GUID) is required");
        const body = parseJsonBody(
          (await readBody(ctx.req)).toString("utf8"),
          JobRequestBody,
          invalidVssBody,
        );
        const requestId = Number(ctx.params.requestId);
        if (body.requestId !== requestId)
          throw invalidVssBody(`body requestId ${body.requestId} is not ${requestId}`);
        const job = jobOfRequest(runner, requestId);
        if (job === undefined)
          throw vssError(404, "TaskAgentJobNotFoundException", `job request ${requestId} not found`);
        const now = Date.now();
        if (body.finishTime != null && body.result != null) {
          // FinishAgentRequest: plans before version 8 complete this way.
          job.requestFinish = { result: body.result, finishTime: body.finishTime };
          if (job.status === "running") {
            job.status = "completed";
            job.result = job.cancelRequestedAt === undefined ? body.result : "canceled";
            job.completedAt = new Date(now);
            if (runner.ephemeral) deleteRunner(context, runner.id);
          }
        } else {
          // RenewAgentRequest: 404 tells the runner the job is over.
          if (job.status !== "running")
            throw vssError(404, "TaskAgentJobNotFoundException", `job request ${requestId} is ${job.status}`);
          job.lockedUntil = new Date(now + context.settings.jobLockMs);
          job.renewals.push(new Date(now));
        }
        context.jobs.changed();
        sendJson(ctx.res, 200, {
          requestId,
          planId: job.planId,
          jobId: job.id,
          lockedUntil: job.lockedUntil?.toISOString() ?? null,
          finishTime: job.requestFinish?.finishTime ?? null,
          result: job.requestFinish?.result ?? null,
          reservedAgent: { id: runner.id, name: runner.name },
        });
      },
    },
  ];
}

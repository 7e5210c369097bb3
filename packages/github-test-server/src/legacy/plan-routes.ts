import { z } from "zod";
import { requireBearer } from "../auth/bearer-auth.ts";
import { parseJsonBody, readBody, sendJson } from "../http/http-io.ts";
import type { Route, RouteContext } from "../http/router.ts";
import type { JobConclusion, JobEntry, TimelineRecordState } from "../jobs/job-record.ts";
import { deleteRunner } from "../runners/runner-lifecycle.ts";
import type { ServerContext } from "../server-context.ts";
import { invalidVssBody, vssError } from "./vss-error.ts";

// A legacy job's reporting, under the tenant URL with the JOB's access token, as the reference
// worker's JobServer calls it (TaskHttpClient; api-version 5.1-preview.1, plan events 2.0):
//   PATCH {scope}/_apis/distributedtask/hubs/{hub}/plans/{planId}/timelines/{timelineId}/records
//   POST  …/plans/{planId}/timelines/{timelineId}/records/{recordId}/feed   live lines
//   POST  …/plans/{planId}/logs             create a log       POST …/logs/{logId}  append to it
//   POST  …/plans/{planId}/events           JobCompleted
//   PUT   …/plans/{planId}/timelines/{timelineId}/records/{recordId}/attachments/{type}/{name}
//         a file on a record (a step summary), octet-stream (TaskHttpClient.CreateAttachmentAsync)

const GUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";

const Result = z.enum(["succeeded", "succeededWithIssues", "failed", "canceled", "skipped", "abandoned"]);

const TimelineRecordBody = z.looseObject({
  id: z.string().regex(new RegExp(`^${GUID}$`), "expected a GUID"),
  parentId: z.string().nullish(),
  type: z.string().nullish(),
  name: z.string().nullish(),
  refName: z.string().nullish(),
  order: z.number().int().nullish(),
  state: z.enum(["pending", "inProgress", "completed"]).nullish(),
  result: Result.nullish(),
  startTime: z.string().nullish(),
  finishTime: z.string().nullish(),
  log: z.looseObject({ id: z.number().int() }).nullish(),
  errorCount: z.number().int().nullish(),
  warningCount: z.number().int().nullish(),
  issues: z.array(z.unknown()).nullish(),
});

const RecordsBody = z.object({
  count: z.number().int().optional(),
  value: z.array(TimelineRecordBody).max(1000),
});

const FeedBody = z.looseObject({
  stepId: z.string().regex(new RegExp(`^${GUID}$`), "expected a GUID"),
  value: z.array(z.string()).max(10_000),
  count: z.number().int().optional(),
  startLine: z.number().int().nullish(),
});

/** The reference runner refuses step summaries over 1 MiB before sending; this bounds the body. */
const MAX_ATTACHMENT_BYTES = 4 * 1024 * 1024;

const LogBody = z.looseObject({ path: z.string().min(1).max(1000) });

const JobEventBody = z.looseObject({
  name: z.string().min(1),
  jobId: z.string().optional(),
  requestId: z.number().int().optional(),
  result: Result.optional(),
  outputs: z.record(z.string(), z.unknown()).optional(),
});

function recordJson(record: TimelineRecordState): Record<string, unknown> {
  return {
    id: record.id,
    parentId: record.parentId ?? null,
    type: record.type ?? null,
    name: record.name ?? null,
    refName: record.refName ?? null,
    order: record.order ?? null,
    state: record.state ?? null,
    result: record.result ?? null,
    startTime: record.startTime ?? null,
    finishTime: record.finishTime ?? null,
    log: record.logId === undefined ? null : { id: record.logId },
    errorCount: record.errorCount ?? 0,
    warningCount: record.warningCount ?? 0,
    issues: record.issues,
  };
}

/** The legacy plan routes. */
export function legacyPlanRoutes(context: ServerContext): Route[] {
  const plan = `^${new URL(context.urls.tenant).pathname}(?<scope>${GUID})/_apis/distributedtask/hubs/(?<hub>[^/]+)/plans/(?<planId>${GUID})`;

  /** The job of the request's job token, which must be this plan's. */
  const jobOf = (ctx: RouteContext): JobEntry => {
    const subject = requireBearer(ctx, context);
    if (subject.kind !== "job")
      throw vssError(
        403,
        "AccessDeniedException",
        "plan calls need the job's access token, not the runner's",
      );
    const job = context.jobs.get(subject.jobId);
    if (job === undefined || job.planId !== (ctx.params.planId ?? "").toLowerCase())
      throw vssError(404, "TaskOrchestrationPlanNotFoundException", `plan ${ctx.params.planId} not found`);
    return job;
  };

  let nextLogId = 1;

  return [
    {
      method: "PATCH",
      pattern: new RegExp(`${plan}/timelines/(?<timelineId>${GUID})/records$`),
      endpoint: "legacy-update-timeline-records",
      handler: async (ctx) => {
        const job = jobOf(ctx);
        const body = parseJsonBody((await readBody(ctx.req)).toString("utf8"), RecordsBody, invalidVssBody);
        const out: Record<string, unknown>[] = [];
        for (const r of body.value) {
          const id = r.id.toLowerCase();
          const old = job.timeline.get(id);
          const merged: TimelineRecordState = {
            id,
            parentId: r.parentId?.toLowerCase() ?? old?.parentId,
            type: r.type ?? old?.type,
            name: r.name ?? old?.name,
            refName: r.refName ?? old?.refName,
            order: r.order ?? old?.order,
            state: r.state ?? old?.state,
            result: (r.result ?? old?.result) as JobConclusion | undefined,
            startTime: r.startTime ?? old?.startTime,
            finishTime: r.finishTime ?? old?.finishTime,
            logId: r.log?.id ?? old?.logId,
            errorCount: r.errorCount ?? old?.errorCount,
            warningCount: r.warningCount ?? old?.warningCount,
            issues: r.issues ?? old?.issues ?? [],
            updates: (old?.updates ?? 0) + 1,
          };
          job.timeline.set(id, merged);
          out.push(recordJson(merged));
        }
        job.timelineUpdates.push({
          at: new Date(),
          records: body.value.map((r) => ({ id: r.id.toLowerCase(), state: r.state ?? undefined })),
        });
        context.jobs.changed();
        sendJson(ctx.res, 200, { count: out.length, value: out });
      },
    },
    {
      method: "POST",
      pattern: new RegExp(`${plan}/timelines/(?<timelineId>${GUID})/records/(?<recordId>${GUID})/feed$`),
      endpoint: "legacy-append-timeline-feed",
      handler: async (ctx) => {
        const job = jobOf(ctx);
        const body = parseJsonBody((await readBody(ctx.req)).toString("utf8"), FeedBody, invalidVssBody);
        const receivedAt = performance.timeOrigin + performance.now();
        for (const [i, text] of body.value.entries()) {
          job.feed.push({
            stepId: body.stepId.toLowerCase(),
            lineNumber: body.startLine == null ? undefined : body.startLine + i,
            text,
            receivedAt,
          });
        }
        context.jobs.changed();
        sendJson(ctx.res, 200, {});
      },
    },
    {
      method: "POST",
      pattern: new RegExp(`${plan}/logs$`),
      endpoint: "legacy-create-log",
      handler: async (ctx) => {
        const job = jobOf(ctx);
        const body = parseJsonBody((await readBody(ctx.req)).toString("utf8"), LogBody, invalidVssBody);
        const log = { id: nextLogId++, path: body.path, content: "", appends: 0 };
        job.logs.set(log.id, log);
        context.jobs.changed();
        const now = new Date().toISOString();
        sendJson(ctx.res, 200, {
          id: log.id,
          path: log.path,
          lineCount: 0,
          createdOn: now,
          lastChangedOn: now,
        });
      },
    },
    {
      method: "POST",
      pattern: new RegExp(`${plan}/logs/(?<logId>\\d+)$`),
      endpoint: "legacy-append-log",
      handler: async (ctx) => {
        const job = jobOf(ctx);
        const id = Number(ctx.params.logId);
        const log = job.logs.get(id);
        if (log === undefined) throw vssError(404, "TaskLogNotFoundException", `log ${id} not found`);
        const content = log.content + (await readBody(ctx.req)).toString("utf8");
        job.logs.set(id, { ...log, content, appends: log.appends + 1 });
        context.jobs.changed();
        const lineCount = content === "" ? 0 : content.replace(/\n$/, "").split("\n").length;
        sendJson(ctx.res, 200, { id, path: log.path, lineCount, lastChangedOn: new Date().toISOString() });
      },
    },
    {
      method: "PUT",
      pattern: new RegExp(
        `${plan}/timelines/(?<timelineId>${GUID})/records/(?<recordId>${GUID})/attachments/(?<type>[^/]+)/(?<name>[^/]+)$`,
      ),
      endpoint: "legacy-create-attachment",
      handler: async (ctx) => {
        const job = jobOf(ctx);
        const recordId = (ctx.params.recordId ?? "").toLowerCase();
        const type = decodeURIComponent(ctx.params.type ?? "");
        const name = decodeURIComponent(ctx.params.name ?? "");
        const body = await readBody(ctx.req);
        if (body.length > MAX_ATTACHMENT_BYTES)
          throw invalidVssBody(`the attachment is over ${MAX_ATTACHMENT_BYTES} bytes`);
        const key = `${recordId}/${type}/${name}`;
        const old = job.attachments.get(key);
        job.attachments.set(key, {
          recordId,
          type,
          name,
          content: body.toString("utf8"),
          puts: (old?.puts ?? 0) + 1,
        });
        context.jobs.changed();
        sendJson(ctx.res, 200, {
          recordId,
          timelineId: ctx.params.timelineId,
          type,
          name,
          _links: {},
          createdOn: new Date().toISOString(),
        });
      },
    },
    {
      method: "POST",
      pattern: new RegExp(`${plan}/events$`),
      endpoint: "legacy-plan-event",
      handler: async (ctx) => {
        const job = jobOf(ctx);
        const body = parseJsonBody((await readBody(ctx.req)).toString("utf8"), JobEventBody, invalidVssBody);
        job.planEvents.push({
          name: body.name,
          jobId: body.jobId,
          requestId: body.requestId,
          result: body.result,
          outputs: body.outputs ?? {},
          receivedAt: new Date(),
        });
        if (body.name === "JobCompleted") {
          if (body.jobId?.toLowerCase() !== job.id || body.result === undefined)
            throw invalidVssBody("JobCompleted needs this job's jobId and a result");
          if (job.status === "abandoned")
            throw vssError(404, "TaskOrchestrationJobNotFoundException", `job ${job.id} was abandoned`);
          job.completeCount++;
          if (job.completion === undefined) {
            const outputs: Record<string, { value?: string | null; isSecret?: boolean }> = {};
            for (const [k, v] of Object.entries(body.outputs ?? {})) {
              const value = v as { value?: unknown; isSecret?: unknown };
              outputs[k] = {
                value: typeof value.value === "string" ? value.value : null,
                ...(typeof value.isSecret === "boolean" ? { isSecret: value.isSecret } : {}),
              };
            }
            job.completion = {
              conclusion: body.result,
              outputs,
              stepResults: [],
              annotations: [],
              telemetry: [],
              environmentUrl: undefined,
              receivedAt: new Date(),
            };
            job.status = "completed";
            job.result = job.cancelRequestedAt === undefined ? body.result : "canceled";
            job.completedAt = new Date();
            const runner = job.runnerId === undefined ? undefined : context.runners.get(job.runnerId);
            if (runner?.ephemeral === true) deleteRunner(context, runner.id);
          }
        }
        context.jobs.changed();
        sendJson(ctx.res, 200, {});
      },
    },
  ];
}

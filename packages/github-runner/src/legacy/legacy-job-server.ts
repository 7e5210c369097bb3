import { ResultsServiceError } from "../errors.ts";
import { type FetchFunction, parseJsonText } from "../http/http-call.ts";
import type { FeedBatch, StepReportState } from "../report/job-report.ts";
import type { CompleteJobInput } from "../run-service/run-service-api.ts";
import {
  completesByPlanEvent,
  createLogBody,
  feedLinesBody,
  jobCompletedEvent,
  jobTimelineRecord,
  stepTimelineRecords,
  TaskLogSchema,
  type TimelineRecordJson,
  timelineRecordsBody,
} from "./legacy-api.ts";
import {
  attachmentUrl,
  LegacyApiVersions,
  logsUrl,
  type PlanLocation,
  planEventsUrl,
  STEP_SUMMARY_ATTACHMENT_TYPE,
  timelineFeedUrl,
  timelineRecordsUrl,
} from "./legacy-urls.ts";
import { vssCall } from "./vss-call.ts";

// A legacy job's reporting, with the JOB's access token at its SystemVssConnection (the
// reference worker's JobServer and JobServerQueue): step states as timeline records (children
// of the job's own record), live lines on the job record's feed, each finished step's log (and
// the job's) created, filled and linked from its record, a step's summary attached to its
// record (the reference's QueueAttachFile), and the end: the job record completed,
// then the JobCompleted plan event (plan version 8 and later) or, for older plans, the job
// request finished by the runner. It offers the calls the JobReporter makes of the results
// service, the live feed and completejob, so the report logic is the broker flow's.

/** The reference runner's AttachmentSizeLimit: a larger step summary is refused, not sent. */
export const STEP_SUMMARY_LIMIT_BYTES = 1024 * 1024;

/** Where and what the job is. */
export interface LegacyJobServerOptions {
  readonly plan: PlanLocation;
  readonly timelineId: string;
  readonly jobId: string;
  readonly jobName: string;
  readonly requestId: number;
  readonly planVersion: number;
  /** The job's access token. */
  readonly token: string;
  /** Older plans: finish the job request (the runner's call, with its own token). */
  readonly finishRequest: (result: CompleteJobInput["conclusion"]) => Promise<void>;
  readonly fetch?: FetchFunction;
  /** Feed failures (best effort, never thrown). */
  readonly onFeedError?: (error: unknown) => void;
}

/** One legacy job's reporting calls. */
export class LegacyJobServer {
  readonly #o: LegacyJobServerOptions;
  #jobRecordSent = false;

  constructor(options: LegacyJobServerOptions) {
    this.#o = options;
  }

  async #call(
    what: string,
    method: "POST" | "PATCH" | "PUT",
    url: string,
    apiVersion: string,
    body: object | string,
    signal?: AbortSignal,
    contentType?: string,
  ): Promise<string> {
    return vssCall(
      {
        what,
        method,
        url,
        token: this.#o.token,
        apiVersion,
        body,
        timeoutMs: 60_000,
        ...(contentType === undefined ? {} : { contentType }),
        ...(signal === undefined ? {} : { signal }),
      },
      this.#o.fetch,
    );
  }

  async #updateRecords(records: readonly TimelineRecordJson[], signal?: AbortSignal): Promise<void> {
    await this.#call(
      "update timeline records",
      "PATCH",
      timelineRecordsUrl(this.#o.plan, this.#o.timelineId),
      LegacyApiVersions.plan,
      timelineRecordsBody(records),
      signal,
    );
  }

  /** The step records (the job's record with them, in progress, the first time). */
  async updateSteps(
    _changeOrder: number,
    steps: readonly StepReportState[],
    signal?: AbortSignal,
  ): Promise<void> {
    const records = stepTimelineRecords(this.#o.jobId, steps);
    const job = this.#jobRecordSent
      ? []
      : [jobTimelineRecord(this.#o.jobId, this.#o.jobName, { startedAt: firstStart(steps) })];
    await this.#updateRecords([...job, ...records], signal);
    this.#jobRecordSent = true;
  }

  /** A finished step's whole log: create, append, then link it from the step's record. */
  async uploadStepLog(
    stepId: string,
    content: string,
    _lineCount: number,
    signal?: AbortSignal,
  ): Promise<void> {
    const logId = await this.#uploadLog(stepId, content, signal);
    await this.#updateRecords([{ id: stepId, log: { id: logId } }], signal);
  }

  /**
   * A step's summary, attached to its record as the reference worker does (type
   * `Checks.Step.Summary`, named after the step's record id). Over 1 MiB it is refused (the
   * answer says why) and not sent.
   */
  async uploadStepSummary(
    stepId: string,
    markdown: string,
    signal?: AbortSignal,
  ): Promise<ResultsServiceError | undefined> {
    const size = Buffer.byteLength(markdown, "utf8");
    if (size > STEP_SUMMARY_LIMIT_BYTES) {
      return new ResultsServiceError(
        "step summary",
        `the step summary (${size} bytes) is over the ${STEP_SUMMARY_LIMIT_BYTES}-byte limit; it was not uploaded`,
      );
    }
    if (size === 0) return undefined;
    await this.#call(
      "attach step summary",
      "PUT",
      attachmentUrl(this.#o.plan, this.#o.timelineId, stepId, STEP_SUMMARY_ATTACHMENT_TYPE, stepId),
      LegacyApiVersions.plan,
      markdown,
      signal,
      "application/octet-stream",
    );
    return undefined;
  }

  /** The job's log, linked from the job's record. */
  async uploadJobLog(content: string, _lineCount: number, signal?: AbortSignal): Promise<void> {
    const logId = await this.#uploadLog(this.#o.jobId, content, signal);
    await this.#updateRecords([{ id: this.#o.jobId, log: { id: logId } }], signal);
  }

  async #uploadLog(recordId: string, content: string, signal?: AbortSignal): Promise<number> {
    const created = TaskLogSchema.safeParse(
      parseJsonText(
        await this.#call(
          "create log",
          "POST",
          logsUrl(this.#o.plan),
          LegacyApiVersions.plan,
          createLogBody(recordId),
          signal,
        ),
      ),
    );
    if (!created.success) throw new ResultsServiceError("create log", "the answer has no log id");
    await this.#call(
      "append log",
      "POST",
      logsUrl(this.#o.plan, created.data.id),
      LegacyApiVersions.plan,
      content,
      signal,
      "application/octet-stream",
    );
    return created.data.id;
  }

  /** Live lines on the job record's feed, one call per step batch; best effort. */
  async send(batches: readonly FeedBatch[]): Promise<boolean> {
    let ok = true;
    for (const batch of batches) {
      try {
        await this.#call(
          "append timeline record feed",
          "POST",
          timelineFeedUrl(this.#o.plan, this.#o.timelineId, this.#o.jobId),
          LegacyApiVersions.plan,
          feedLinesBody(batch.stepExternalId, batch.lines, batch.startLine),
        );
      } catch (error) {
        ok = false;
        this.#o.onFeedError?.(error);
      }
    }
    return ok;
  }

  /** Nothing to close: the feed is plain HTTP. */
  close(): void {}

  /** The job record completed, then JobCompleted (or the job request finished, for older plans). */
  async completeJob(input: CompleteJobInput, signal?: AbortSignal): Promise<void> {
    await this.#updateRecords(
      [
        jobTimelineRecord(this.#o.jobId, this.#o.jobName, {
          result: input.conclusion,
          finishedAt: new Date(),
        }),
      ],
      signal,
    );
    if (!completesByPlanEvent(this.#o.planVersion)) {
      await this.#o.finishRequest(input.conclusion);
      return;
    }
    await this.#call(
      "raise JobCompleted",
      "POST",
      planEventsUrl(this.#o.plan),
      LegacyApiVersions.planEvents,
      jobCompletedEvent(this.#o.requestId, this.#o.jobId, input.conclusion, input.outputs ?? {}),
      signal,
    );
  }
}

function firstStart(steps: readonly StepReportState[]): Date | undefined {
  return steps.find((s) => s.startedAt !== undefined)?.startedAt ?? new Date();
}

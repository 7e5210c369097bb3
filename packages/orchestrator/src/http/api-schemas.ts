import { z } from "zod";
import { JOB_STATES } from "../persistence/job-records.ts";
import { MAX_LIST_LIMIT, MAX_LOG_PAGE } from "../persistence/job-store.ts";

// Request shapes of the HTTP API, validated by zod (see zod-type-provider.ts).

const flag = z
  .enum(["1", "0", "true", "false", "yes", "no"], { message: "expected 1 or 0 (true/false)" })
  .transform((v) => v === "1" || v === "true" || v === "yes");

/** `GET /v1/jobs` query. */
export const ListJobsQuerySchema = z.strictObject({
  state: z.enum(JOB_STATES).optional(),
  label: z.string().min(1).max(200).optional(),
  host: z.string().min(1).max(200).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_LIST_LIMIT).optional(),
  /** Paging: jobs received before this instant (the previous page's `next_before`). */
  before: z.iso.datetime({ offset: true }).optional(),
});

/** `:id` in job routes. */
export const JobParamsSchema = z.strictObject({
  id: z.guid({ message: "expected a request id (UUID)" }).transform((id) => id.toLowerCase()),
});

/** `GET /v1/jobs/:id/logs` query. */
export const LogsQuerySchema = z
  .strictObject({
    /** Only lines after this sequence number (default: from the oldest kept line). */
    after_seq: z.coerce.number().int().min(-1).optional(),
    /** With `after_seq`: only lines after this one of that event (default: after all of them). */
    after_line: z.coerce.number().int().min(0).optional(),
    /** Lines in the page. */
    limit: z.coerce.number().int().min(1).max(MAX_LOG_PAGE).optional(),
    /** `1`: stream lines as server-sent events until the job finishes. */
    follow: flag.optional(),
  })
  .refine((q) => q.after_line === undefined || q.after_seq !== undefined, {
    message: "after_line needs after_seq",
    path: ["after_line"],
  });

/** `POST /v1/jobs/:id/cancel` body (optional). */
export const CancelBodySchema = z
  .strictObject({
    /** Shown in the job's log and final reason. */
    reason: z.string().min(1).max(500).optional(),
  })
  .optional()
  .nullable();

/** `:label` in image routes. */
export const ImageParamsSchema = z.strictObject({
  label: z.string().min(1).max(200),
});

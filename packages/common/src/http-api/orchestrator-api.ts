import { z } from "zod";

// The orchestrator HTTP API's answers: one contract for the service that writes them (its views
// are typed by these schemas) and the clients that read them (ciadm), docs/orchestrator.md,
// "HTTP API". Snake_case like the messages on the wire, timestamps as RFC 3339 (UTC). Clients
// drop unknown fields: a newer orchestrator may add some.

/** A job (`GET /v1/jobs`, `GET /v1/jobs/:id`). */
export const JobViewSchema = z.object({
  request_id: z.string(),
  source: z.string(),
  repo_url: z.string(),
  commit_sha: z.string(),
  runs_on: z.string().nullable(),
  label: z.string().nullable(),
  state: z.string(),
  conclusion: z.string().nullable(),
  reason: z.string().nullable(),
  host_id: z.string(),
  owner: z.object({ kind: z.string(), instance: z.string(), task_id: z.string().nullable() }).nullable(),
  steps_started: z.boolean(),
  attempt: z.number(),
  received_at: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  updated_at: z.string(),
});
/** @see JobViewSchema */
export type JobView = z.infer<typeof JobViewSchema>;

/** A VM of a job. */
export const VmViewSchema = z.object({
  vm_name: z.string(),
  state: z.string(),
  ssh_port: z.number().nullable(),
  pid: z.number().nullable(),
  debug_until: z.string().nullable(),
  created_at: z.string(),
  destroyed_at: z.string().nullable(),
});
/** @see VmViewSchema */
export type VmView = z.infer<typeof VmViewSchema>;

/** The stored request's steps, as far as ciadm shows them. */
const StoredStepSchema = z.object({ name: z.string().nullish(), run: z.string() });

/** `GET /v1/jobs/:id`: the job, its stored request and its VMs. */
export const JobDetailSchema = JobViewSchema.extend({
  request: z
    .object({
      steps: z.array(StoredStepSchema).nullish(),
      workflow_path: z.string().nullish(),
      workflow_job_id: z.string().nullish(),
    })
    .nullish(),
  vms: z.array(VmViewSchema).default([]),
});
/** @see JobDetailSchema */
export type JobDetail = z.infer<typeof JobDetailSchema>;

/** `GET /v1/jobs`. */
export const JobListSchema = z.object({ jobs: z.array(JobViewSchema), next_before: z.string().nullable() });

/** A stored log line. Lines are ordered by `seq`, then `line`. */
export const LogLineViewSchema = z.object({
  /** The job event's sequence number (shared by the lines a step printed together). */
  seq: z.number(),
  /** The line's index within its event, from 0 (absent from older orchestrators: 0). */
  line: z.number().default(0),
  step: z.number().nullable(),
  stream: z.string(),
  text: z.string(),
  ts: z.string(),
});
/** @see LogLineViewSchema */
export type LogLineView = z.infer<typeof LogLineViewSchema>;

/**
 * `GET /v1/jobs/:id/logs?after_seq=&after_line=&limit=`: one page of stored lines. Pass
 * `next_after_seq` and `next_after_line` back for the next page while `has_more` is true.
 */
export const LogPageSchema = z.object({
  request_id: z.string(),
  state: z.string(),
  /** The last line's `seq` (else the cursor given); null when neither. */
  next_after_seq: z.number().nullable(),
  /** The last line's `line` (else the cursor given); null when neither (absent from older orchestrators). */
  next_after_line: z.number().nullable().default(null),
  /** Lines follow this page (it stopped at its limit or at its size); absent from older orchestrators. */
  has_more: z.boolean().optional(),
  lines: z.array(LogLineViewSchema),
});
/** @see LogPageSchema */
export type LogPage = z.infer<typeof LogPageSchema>;

/** The `end` event of a followed log. */
export const LogEndSchema = z.object({
  state: z.string(),
  conclusion: z.string().nullable(),
  reason: z.string().nullable(),
});
/** @see LogEndSchema */
export type LogEnd = z.infer<typeof LogEndSchema>;

/** `POST /v1/jobs/:id/cancel`. */
export const CancelAnswerSchema = z.object({
  request_id: z.string(),
  state: z.string(),
  reason: z.string().nullish(),
});

/** `GET /readyz` (200 and 503 alike). */
export const ReadinessAnswerSchema = z.object({
  status: z.string(),
  checks: z.record(z.string(), z.string()),
});

/** Every error answer. */
export const ApiErrorBodySchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

/** A warm template of an image (issue 14): a saved, booted VM that jobs are restored from. */
export const TemplateViewSchema = z.object({
  id: z.string(),
  /** `building`, `ready` or `bad` (a failed build or restore: jobs boot cold). */
  state: z.string(),
  cpu: z.number(),
  ram_mb: z.number(),
  disk_gb: z.number(),
  built_at: z.string().nullable(),
  build_seconds: z.number().nullable(),
  state_bytes: z.number().nullable(),
  restores: z.number(),
  error: z.string().nullable(),
});
/** @see TemplateViewSchema */
export type TemplateViewAnswer = z.infer<typeof TemplateViewSchema>;

/** An image this orchestrator serves, with its warm templates. */
export const ImageViewSchema = z.object({
  label: z.string(),
  aliases: z.array(z.string()),
  /** Whether its jobs are warm-started (the host's WARM_STARTS and the image's `warm_start`). */
  warm_start: z.boolean(),
  templates: z.array(TemplateViewSchema),
});
/** @see ImageViewSchema */
export type ImageView = z.infer<typeof ImageViewSchema>;

/** `GET /v1/images`. */
export const ImageListSchema = z.object({ images: z.array(ImageViewSchema) });

/** `POST /v1/images/:label/warm`: the image once its template was (re)built. */
export const WarmAnswerSchema = ImageViewSchema;

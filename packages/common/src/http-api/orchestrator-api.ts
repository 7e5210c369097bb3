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

/** A stored log line. */
export const LogLineViewSchema = z.object({
  seq: z.number(),
  step: z.number().nullable(),
  stream: z.string(),
  text: z.string(),
  ts: z.string(),
});
/** @see LogLineViewSchema */
export type LogLineView = z.infer<typeof LogLineViewSchema>;

/** `GET /v1/jobs/:id/logs`. */
export const LogPageSchema = z.object({
  request_id: z.string(),
  state: z.string(),
  next_after_seq: z.number().nullable(),
  lines: z.array(LogLineViewSchema),
});

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

import { z } from "zod";
import { RequestIdSchema } from "./job-request.ts";
import { parseMessage } from "./parse-message.ts";
import { nowRfc3339, Rfc3339Schema } from "./timestamp.ts";

/** The `schema_version` every cancel request carries. */
export const CANCEL_REQUEST_SCHEMA_VERSION = "cancelrequest.v1";

/** Asks the orchestrator running a job to stop it (its VM is destroyed, the job ends `cancelled`). */
export const CancelRequestSchema = z
  .object({
    schema_version: z.literal(CANCEL_REQUEST_SCHEMA_VERSION).default(CANCEL_REQUEST_SCHEMA_VERSION),
    request_id: RequestIdSchema,
    /** Why, shown in the job's log and final reason. */
    reason: z.string(),
    /** Who asked: `forgejo-runner@https://code.example.org`, `ciadm:alice`, ... */
    requested_by: z.string().min(1),
    requested_at: Rfc3339Schema,
  })
  .describe("CancelRequest");
/** @see CancelRequestSchema */
export type CancelRequest = z.infer<typeof CancelRequestSchema>;

/** Builds a CancelRequest stamped now. Throws `MessageValidationError` on a bad field. */
export function newCancelRequest(input: {
  request_id: string;
  reason: string;
  requested_by: string;
}): CancelRequest {
  return parseMessage(CancelRequestSchema, { ...input, requested_at: nowRfc3339() });
}

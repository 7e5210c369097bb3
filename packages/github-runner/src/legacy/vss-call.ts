import { z } from "zod";
import { ActionsServiceError } from "../errors.ts";
import { type FetchFunction, type HttpCall, httpCall, isSuccess, parseJsonText } from "../http/http-call.ts";
import { acceptHeader } from "./legacy-urls.ts";

// One call of a legacy (VSS) service: Bearer token, `Accept: application/json;api-version=…`,
// and failures as ActionsServiceError whose `errorKind` is the VSS error's `typeKey`
// (TaskAgentSessionConflictException, TaskAgentNotFoundException, TaskAgentJobNotFoundException…).

const VssErrorSchema = z.looseObject({ typeKey: z.string().optional(), message: z.string().optional() });

/** A legacy call. */
export interface VssCall {
  readonly what: string;
  readonly method: HttpCall["method"];
  readonly url: string;
  readonly token: string;
  readonly apiVersion: string;
  readonly body?: HttpCall["body"];
  readonly contentType?: string;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** Sends `call`; the answer's text on a 2xx, else throws ActionsServiceError. */
export async function vssCall(call: VssCall, fetchFn?: FetchFunction): Promise<string> {
  const answer = await httpCall(
    {
      method: call.method,
      url: call.url,
      headers: {
        authorization: `Bearer ${call.token}`,
        accept: acceptHeader(call.apiVersion),
        ...(call.contentType === undefined ? {} : { "content-type": call.contentType }),
      },
      ...(call.body === undefined ? {} : { body: call.body }),
      ...(call.timeoutMs === undefined ? {} : { timeoutMs: call.timeoutMs }),
      ...(call.signal === undefined ? {} : { signal: call.signal }),
    },
    fetchFn,
  );
  if (isSuccess(answer.status)) return answer.text;
  const parsed = VssErrorSchema.safeParse(parseJsonText(answer.text));
  const typeKey = parsed.success ? parsed.data.typeKey : undefined;
  throw new ActionsServiceError(call.what, call.url, answer.status, answer.text, {
    ...(typeKey === undefined ? {} : { errorKind: typeKey }),
  });
}

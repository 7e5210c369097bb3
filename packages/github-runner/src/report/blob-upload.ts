import { GitHubHttpError } from "../errors.ts";
import { type FetchFunction, httpCall, isSuccess } from "../http/http-call.ts";

// Uploading a log to a signed blob URL, as ResultsHttpClient does without the Azure SDK. A log
// that fits one block goes up as a block blob (PUT, `x-ms-blob-type: BlockBlob`); a longer one
// as an append blob: PUT with `x-ms-blob-type: AppendBlob` and no content, then each block
// PUT to `{url}&comp=appendblock`, then `{url}&comp=seal`. The signed URL already has a query
// string (its signature), hence `&`. Blocks are 2 MiB, as the reference runner's. fetch sets
// Content-Length itself (0 for the empty requests).

/** The reference runner's block size. */
export const BLOCK_SIZE = 2 * 1024 * 1024;

/** One HTTP request of an upload. */
export interface BlobRequest {
  readonly method: "PUT";
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
}

/**
 * The requests that upload `content` to `signedUrl`, in order.
 *
 * @example
 *   blobUploadPlan("https://blob/x?sig=1", Buffer.from("log\n")); // one PUT with x-ms-blob-type: BlockBlob
 */
export function blobUploadPlan(
  signedUrl: string,
  content: Uint8Array,
  options: { blockSize?: number; azure?: boolean; contentType?: string } = {},
): BlobRequest[] {
  const blockSize = options.blockSize ?? BLOCK_SIZE;
  const azure = options.azure ?? true;
  const type = { "content-type": options.contentType ?? "text/plain" };
  if (content.length <= blockSize) {
    return [
      {
        method: "PUT",
        url: signedUrl,
        headers: { ...type, ...(azure ? { "x-ms-blob-type": "BlockBlob" } : {}) },
        body: content,
      },
    ];
  }
  const requests: BlobRequest[] = [
    {
      method: "PUT",
      url: signedUrl,
      headers: { ...type, ...(azure ? { "x-ms-blob-type": "AppendBlob" } : {}) },
      body: new Uint8Array(),
    },
  ];
  for (let at = 0; at < content.length; at += blockSize) {
    const block = content.subarray(at, Math.min(content.length, at + blockSize));
    requests.push({
      method: "PUT",
      url: `${signedUrl}&comp=appendblock`,
      headers: {},
      body: block,
    });
  }
  requests.push({ method: "PUT", url: `${signedUrl}&comp=seal`, headers: {}, body: new Uint8Array() });
  return requests;
}

/** Runs an upload plan (each request retried up to three times). */
export async function uploadBlob(
  signedUrl: string,
  content: Uint8Array,
  options: { fetch?: FetchFunction; azure?: boolean; blockSize?: number; signal?: AbortSignal } = {},
): Promise<void> {
  for (const request of blobUploadPlan(signedUrl, content, options)) {
    for (let attempt = 1; ; attempt++) {
      try {
        const answer = await httpCall(
          {
            method: request.method,
            url: request.url,
            headers: request.headers,
            body: request.body,
            timeoutMs: 30_000,
            ...(options.signal === undefined ? {} : { signal: options.signal }),
          },
          options.fetch,
        );
        if (!isSuccess(answer.status)) {
          throw new GitHubHttpError("log upload", request.url, answer.status, answer.text);
        }
        break;
      } catch (error) {
        if (attempt >= 3 || options.signal?.aborted === true) throw error;
      }
    }
  }
}

import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

// Log storage behind the results service's signed URLs, with Azure Blob Storage's rules: a
// block blob is written whole; an append blob is created empty, grows by appended blocks and
// takes no more once sealed. Each URL carries a signature over the blob id and its expiry in
// its query string (as a SAS does); a wrong or expired one is refused.

/** What a blob holds. */
export type BlobKind = "step-log" | "job-log" | "step-summary" | "diag-log";

/** One write to a blob, with its arrival time. */
export interface BlobChunk {
  readonly data: Buffer;
  readonly at: Date;
}

/** A blob as stored. */
export interface BlobRecord {
  readonly id: string;
  readonly jobId: string;
  readonly kind: BlobKind;
  readonly stepId: string | undefined;
  /** Unset until the first Put Blob. */
  readonly blobType: "AppendBlob" | "BlockBlob" | undefined;
  readonly chunks: readonly BlobChunk[];
  readonly sealed: boolean;
}

interface BlobEntry extends BlobRecord {
  blobType: "AppendBlob" | "BlockBlob" | undefined;
  chunks: BlobChunk[];
  sealed: boolean;
}

/** The outcome of a blob operation: an Azure status, and its error code when refused. */
export type BlobOutcome =
  | { readonly ok: true; readonly status: number }
  | { readonly ok: false; readonly status: number; readonly code: string; readonly message: string };

const refuse = (status: number, code: string, message: string): BlobOutcome => ({
  ok: false,
  status,
  code,
  message,
});

/** How long a signed URL is good for. */
const URL_LIFETIME_MS = 6 * 60 * 60 * 1000;

/** The blobs, and the signatures of their URLs. */
export class AppendBlobStore {
  readonly #secret = randomBytes(32);
  readonly #baseUrl: string;
  readonly #blobs = new Map<string, BlobEntry>();

  /** `baseUrl`: where blob URLs point, e.g. `http://host:port/blobs`. */
  constructor(baseUrl: string) {
    this.#baseUrl = baseUrl;
  }

  /** The signed URL of the job's blob of `kind` (for a step: of that step), made on first use. */
  urlFor(jobId: string, kind: BlobKind, stepId?: string): string {
    const blob = this.#find(jobId, kind, stepId) ?? this.#create(jobId, kind, stepId);
    const expiry = new Date(Date.now() + URL_LIFETIME_MS).toISOString();
    const query = new URLSearchParams({
      sv: "2023-11-03",
      sr: "b",
      sp: "racw",
      se: expiry,
      sig: this.#sign(blob.id, expiry),
    });
    return `${this.#baseUrl}/${blob.id}?${query.toString()}`;
  }

  /** Whether the query carries a valid signature for blob `id`. */
  checkSignature(id: string, query: URLSearchParams, now = Date.now()): BlobOutcome {
    const expiry = query.get("se");
    const sig = query.get("sig");
    if (!this.#blobs.has(id))
      return refuse(404, "ResourceNotFound", "The specified resource does not exist.");
    const valid = (() => {
      if (expiry === null || sig === null) return false;
      const expected = Buffer.from(this.#sign(id, expiry));
      const given = Buffer.from(sig);
      return expected.length === given.length && timingSafeEqual(expected, given);
    })();
    if (!valid) {
      return refuse(
        403,
        "AuthenticationFailed",
        "Server failed to authenticate the request. Make sure the value of the signature is formed correctly.",
      );
    }
    if (Date.parse(expiry ?? "") <= now)
      return refuse(403, "AuthenticationFailed", "Signed expiry time has passed.");
    return { ok: true, status: 200 };
  }

  /** Put Blob: a block blob with `content`, or an empty append blob. */
  putBlob(
    id: string,
    blobType: string | undefined,
    content: Buffer,
    ifNoneMatch: string | undefined,
  ): BlobOutcome {
    const blob = this.#blobs.get(id);
    if (blob === undefined) return refuse(404, "ResourceNotFound", "The specified resource does not exist.");
    if (blobType !== "AppendBlob" && blobType !== "BlockBlob") {
      return refuse(
        400,
        "MissingRequiredHeader",
        "An HTTP header that's mandatory for this request is not specified: x-ms-blob-type (AppendBlob or BlockBlob).",
      );
    }
    if (ifNoneMatch === "*" && blob.blobType !== undefined)
      return refuse(409, "BlobAlreadyExists", "The specified blob already exists.");
    if (blobType === "AppendBlob" && content.length > 0) {
      return refuse(
        400,
        "InvalidHeaderValue",
        "The value for Content-Length must be 0 when creating an append blob.",
      );
    }
    blob.blobType = blobType;
    blob.sealed = false;
    blob.chunks = content.length > 0 ? [{ data: content, at: new Date() }] : [];
    return { ok: true, status: 201 };
  }

  /** Append Block, sealing after it when `seal`. */
  appendBlock(id: string, content: Buffer, seal: boolean): BlobOutcome {
    const blob = this.#blobs.get(id);
    if (blob?.blobType === undefined)
      return refuse(404, "BlobNotFound", "The specified blob does not exist.");
    if (blob.blobType !== "AppendBlob")
      return refuse(409, "InvalidBlobType", "The blob type is invalid for this operation.");
    if (blob.sealed)
      return refuse(409, "BlobIsSealed", "The blob is sealed and its contents cannot be modified.");
    if (content.length > 0) blob.chunks.push({ data: content, at: new Date() });
    if (seal) blob.sealed = true;
    return { ok: true, status: 201 };
  }

  /** Seal: an append blob takes no more blocks. */
  seal(id: string): BlobOutcome {
    const blob = this.#blobs.get(id);
    if (blob?.blobType === undefined)
      return refuse(404, "BlobNotFound", "The specified blob does not exist.");
    if (blob.blobType !== "AppendBlob")
      return refuse(409, "InvalidBlobType", "The blob type is invalid for this operation.");
    blob.sealed = true;
    return { ok: true, status: 200 };
  }

  get(id: string): BlobRecord | undefined {
    return this.#blobs.get(id);
  }

  /** The job's blob of `kind` (for a step: of that step). */
  find(jobId: string, kind: BlobKind, stepId?: string): BlobRecord | undefined {
    return this.#find(jobId, kind, stepId);
  }

  /** The blob's content as UTF-8 text; `undefined` when never written. */
  text(jobId: string, kind: BlobKind, stepId?: string): string | undefined {
    const blob = this.#find(jobId, kind, stepId);
    if (blob?.blobType === undefined) return undefined;
    return Buffer.concat(blob.chunks.map((c) => c.data)).toString("utf8");
  }

  /** Every blob of a job. */
  ofJob(jobId: string): BlobRecord[] {
    return [...this.#blobs.values()].filter((b) => b.jobId === jobId);
  }

  #find(jobId: string, kind: BlobKind, stepId: string | undefined): BlobEntry | undefined {
    const step = stepId?.toLowerCase();
    for (const blob of this.#blobs.values()) {
      if (blob.jobId === jobId && blob.kind === kind && blob.stepId === step) return blob;
    }
    return undefined;
  }

  #create(jobId: string, kind: BlobKind, stepId: string | undefined): BlobEntry {
    const entry: BlobEntry = {
      id: randomBytes(12).toString("hex"),
      jobId,
      kind,
      stepId: stepId?.toLowerCase(),
      blobType: undefined,
      chunks: [],
      sealed: false,
    };
    this.#blobs.set(entry.id, entry);
    return entry;
  }

  #sign(id: string, expiry: string): string {
    return createHmac("sha256", this.#secret).update(`${id}\n${expiry}`).digest("base64url");
  }
}

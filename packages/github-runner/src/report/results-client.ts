import { ResultsServiceError } from "../errors.ts";
import { type FetchFunction, httpCall, isSuccess } from "../http/http-call.ts";
import { uploadBlob } from "./blob-upload.ts";
import type { StepReportState } from "./job-report.ts";
import {
  AZURE_BLOB_STORAGE,
  checkOk,
  jobLogsMetadataRequest,
  jobLogsUrlRequest,
  parseSignedSummaryUrl,
  parseSignedUrl,
  type ResultsIds,
  type ResultsMethod,
  ResultsMethods,
  stepLogsMetadataRequest,
  stepLogsUrlRequest,
  stepSummaryMetadataRequest,
  stepSummaryUrlRequest,
  stepsUpdateRequest,
  twirpUrl,
} from "./results-api.ts";

// The results service client of one job: step updates and log uploads (signed URL, blob
// upload, metadata), with the job's access token.

/** Options of {@link ResultsClient}. */
export interface ResultsClientOptions {
  /** `system.github.results_endpoint`. */
  readonly endpoint: string;
  /** The job's AccessToken. */
  readonly token: string;
  readonly ids: ResultsIds;
  readonly fetch?: FetchFunction;
}

/** Twirp calls and uploads for one job. */
export class ResultsClient {
  readonly #options: ResultsClientOptions;

  constructor(options: ResultsClientOptions) {
    this.#options = options;
  }

  async #twirp(method: ResultsMethod, body: object, signal?: AbortSignal): Promise<string> {
    const url = twirpUrl(this.#options.endpoint, method);
    const answer = await httpCall(
      {
        method: "POST",
        url,
        headers: { authorization: `Bearer ${this.#options.token}`, accept: "application/json" },
        body,
        timeoutMs: 30_000,
        ...(signal === undefined ? {} : { signal }),
      },
      this.#options.fetch,
    );
    if (!isSuccess(answer.status)) {
      throw new ResultsServiceError(method, `HTTP ${answer.status}: ${answer.text.slice(0, 200)}`);
    }
    return answer.text;
  }

  /** WorkflowStepsUpdate. */
  async updateSteps(
    changeOrder: number,
    steps: readonly StepReportState[],
    signal?: AbortSignal,
  ): Promise<void> {
    const method = ResultsMethods.WorkflowStepsUpdate;
    checkOk(
      method,
      await this.#twirp(method, stepsUpdateRequest(this.#options.ids, changeOrder, steps), signal),
    );
  }

  /** Uploads a finished step's log, then its metadata (line count). */
  async uploadStepLog(
    stepId: string,
    content: string,
    lineCount: number,
    signal?: AbortSignal,
  ): Promise<void> {
    const ids = this.#options.ids;
    const urlMethod = ResultsMethods.GetStepLogsSignedBlobURL;
    const signed = parseSignedUrl(
      urlMethod,
      await this.#twirp(urlMethod, stepLogsUrlRequest(ids, stepId), signal),
    );
    await this.#upload(signed.logs_url, signed.blob_storage_type, content, signal);
    const metaMethod = ResultsMethods.CreateStepLogsMetadata;
    checkOk(
      metaMethod,
      await this.#twirp(metaMethod, stepLogsMetadataRequest(ids, stepId, lineCount, new Date()), signal),
    );
  }

  /**
   * Uploads a step's summary (markdown), then its metadata (size). A summary over the service's
   * `soft_size_limit` is not sent (the reference runner refuses it the same way): the refusal is
   * returned, not thrown, so that it does not hold the step's log back. Failed calls throw.
   */
  async uploadStepSummary(
    stepId: string,
    markdown: string,
    signal?: AbortSignal,
  ): Promise<ResultsServiceError | undefined> {
    const ids = this.#options.ids;
    const urlMethod = ResultsMethods.GetStepSummarySignedBlobURL;
    const signed = parseSignedSummaryUrl(
      urlMethod,
      await this.#twirp(urlMethod, stepSummaryUrlRequest(ids, stepId), signal),
    );
    const size = Buffer.byteLength(markdown, "utf8");
    const limit = Number(signed.soft_size_limit ?? Number.POSITIVE_INFINITY);
    if (Number.isFinite(limit) && limit > 0 && size > limit) {
      return new ResultsServiceError(
        urlMethod,
        `the step summary (${size} bytes) is over the ${limit}-byte limit; it was not uploaded`,
      );
    }
    await this.#upload(signed.summary_url, signed.blob_storage_type, markdown, signal);
    const metaMethod = ResultsMethods.CreateStepSummaryMetadata;
    checkOk(
      metaMethod,
      await this.#twirp(metaMethod, stepSummaryMetadataRequest(ids, stepId, size, new Date()), signal),
    );
    return undefined;
  }

  /** Uploads the job's whole log, then its metadata. */
  async uploadJobLog(content: string, lineCount: number, signal?: AbortSignal): Promise<void> {
    const ids = this.#options.ids;
    const urlMethod = ResultsMethods.GetJobLogsSignedBlobURL;
    const signed = parseSignedUrl(urlMethod, await this.#twirp(urlMethod, jobLogsUrlRequest(ids), signal));
    await this.#upload(signed.logs_url, signed.blob_storage_type, content, signal);
    const metaMethod = ResultsMethods.CreateJobLogsMetadata;
    checkOk(
      metaMethod,
      await this.#twirp(metaMethod, jobLogsMetadataRequest(ids, lineCount, new Date()), signal),
    );
  }

  async #upload(
    url: string,
    storageType: string | undefined,
    content: string,
    signal?: AbortSignal,
  ): Promise<void> {
    await uploadBlob(url, Buffer.from(content, "utf8"), {
      // Azure headers unless the service says another store (e.g. BLOB_STORAGE_TYPE_UNSPECIFIED).
      azure: storageType === undefined || storageType === AZURE_BLOB_STORAGE,
      ...(this.#options.fetch === undefined ? {} : { fetch: this.#options.fetch }),
      ...(signal === undefined ? {} : { signal }),
    });
  }
}

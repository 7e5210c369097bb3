import { createHash, type Hash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, stat, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { Readable, Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { createZstdDecompress } from "node:zlib";
import type { ImageEntry, ImageMap } from "@solstice/common";
import { ImageChecksumError, ImageFetchError } from "../errors.ts";
import { etaSeconds, type FetchProgress, RateMeter } from "./fetch-progress.ts";
import { acquireFileLock } from "./file-lock.ts";
import { XZ_FAILED, XzDecompress } from "./xz-decompress.ts";

// Makes sure a label's base image is on disk. A missing image is fetched from its source
// (http(s):// or file://) as a stream into `<local_path>.part` (decompressed on the way when the
// entry says zstd, hashed when it names a sha256), then renamed into place, so `local_path`
// either does not exist or is complete. Concurrent callers share one fetch: in this process by a
// map of fetches in flight, across processes by a lock file `<local_path>.lock`.

/** Options of {@link ensureImage}. */
export interface EnsureImageOptions {
  /** Called with progress while fetching (at most every `progressIntervalMs`, and once when done). */
  readonly onProgress?: (progress: FetchProgress) => void;
  /** Aborts the fetch (the `.part` file is removed). A fetch shared by several callers follows the first one's signal. */
  readonly signal?: AbortSignal;
  /** Give up when no byte arrives for this long (default 60 s). */
  readonly stallTimeoutMs?: number;
  /** Minimum time between progress reports (default 250 ms). */
  readonly progressIntervalMs?: number;
  /** How long to wait for another process that holds the lock (default 6 h: images are big). */
  readonly lockTimeoutMs?: number;
}

/** What {@link ensureImage} did. */
export interface EnsureImageResult {
  readonly label: string;
  readonly localPath: string;
  /** True when this call (or the in-process fetch it joined) downloaded the image. */
  readonly fetched: boolean;
  /** Bytes read from the source (0 when nothing was fetched). */
  readonly bytesFetched: number;
  /** SHA-256 (hex) of the artifact as downloaded, when fetched. */
  readonly sha256: string | undefined;
}

interface InFlight {
  readonly promise: Promise<EnsureImageResult>;
  readonly listeners: Set<(progress: FetchProgress) => void>;
}

const inFlight = new Map<string, InFlight>();

const DEFAULT_STALL_TIMEOUT_MS = 60_000;
const DEFAULT_PROGRESS_INTERVAL_MS = 250;
const DEFAULT_LOCK_TIMEOUT_MS = 6 * 3600_000;

/**
 * Make sure `image.localPath` exists, fetching it when missing. Also checks that a direct-boot
 * `kernel`/`initrd` exists (they are never fetched). Throws {@link ImageFetchError} or
 * {@link ImageChecksumError}; nothing partial is left behind.
 *
 * @example
 *   await ensureImage(image, { onProgress: terminalProgress(process.stderr) });
 */
export async function ensureImage(
  image: ImageEntry,
  options: EnsureImageOptions = {},
): Promise<EnsureImageResult> {
  let result: EnsureImageResult;
  if (await isFile(image.localPath)) {
    result = {
      label: image.label,
      localPath: image.localPath,
      fetched: false,
      bytesFetched: 0,
      sha256: undefined,
    };
  } else {
    result = await joinOrStartFetch(image, options);
  }
  await checkBootFiles(image);
  return result;
}

/**
 * Make sure every image of the map is present, one after the other, as the original orchestrator
 * did at start. Stops at the first failure.
 */
export async function ensureImages(
  map: ImageMap,
  options: EnsureImageOptions = {},
): Promise<EnsureImageResult[]> {
  const results: EnsureImageResult[] = [];
  for (const image of map.images.values()) results.push(await ensureImage(image, options));
  return results;
}

/** Whether the image is on disk already (no fetch needed). */
export async function isImagePresent(image: ImageEntry): Promise<boolean> {
  return isFile(image.localPath);
}

function joinOrStartFetch(image: ImageEntry, options: EnsureImageOptions): Promise<EnsureImageResult> {
  const existing = inFlight.get(image.localPath);
  if (existing !== undefined) {
    const listener = options.onProgress;
    if (listener !== undefined) existing.listeners.add(listener);
    return existing.promise;
  }
  const listeners = new Set<(progress: FetchProgress) => void>();
  if (options.onProgress !== undefined) listeners.add(options.onProgress);
  const report = (progress: FetchProgress): void => {
    for (const listener of listeners) {
      try {
        listener(progress);
      } catch {
        // A broken progress renderer must not break the fetch.
      }
    }
  };
  const promise = fetchWithLock(image, options, report).finally(() => inFlight.delete(image.localPath));
  inFlight.set(image.localPath, { promise, listeners });
  return promise;
}

async function fetchWithLock(
  image: ImageEntry,
  options: EnsureImageOptions,
  report: (progress: FetchProgress) => void,
): Promise<EnsureImageResult> {
  const fail = (message: string, cause?: unknown, hint?: string): ImageFetchError =>
    new ImageFetchError(
      { label: image.label, source: image.source, localPath: image.localPath },
      message,
      cause === undefined && hint === undefined
        ? undefined
        : { cause, ...(hint === undefined ? {} : { hint }) },
    );
  try {
    await mkdir(dirname(image.localPath), { recursive: true });
  } catch (error) {
    throw fail(`cannot create ${dirname(image.localPath)}: ${messageOf(error)}`, error);
  }
  const lockPath = `${image.localPath}.lock`;
  const release = await acquireFileLock(
    lockPath,
    options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
    options.signal,
    fail,
  );
  try {
    // Another process may have finished the fetch while we waited for its lock.
    if (await isFile(image.localPath)) {
      return {
        label: image.label,
        localPath: image.localPath,
        fetched: false,
        bytesFetched: 0,
        sha256: undefined,
      };
    }
    return await fetchToPath(image, options, report, fail);
  } finally {
    await release();
  }
}

type Fail = (message: string, cause?: unknown, hint?: string) => ImageFetchError;

async function fetchToPath(
  image: ImageEntry,
  options: EnsureImageOptions,
  report: (progress: FetchProgress) => void,
  fail: Fail,
): Promise<EnsureImageResult> {
  const partPath = `${image.localPath}.part`;
  const abort = new AbortController();
  const signal =
    options.signal === undefined ? abort.signal : AbortSignal.any([abort.signal, options.signal]);
  const stallTimeoutMs = options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
  const intervalMs = options.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS;

  let stalled = false;
  let stallTimer: NodeJS.Timeout | undefined;
  const armStallTimer = (): void => {
    clearTimeout(stallTimer);
    stallTimer = setTimeout(() => {
      stalled = true;
      abort.abort(new Error(`no data for ${stallTimeoutMs} ms`));
    }, stallTimeoutMs);
  };

  let stage: "source" | "decompress" | "write" = "source";
  try {
    armStallTimer();
    const { stream: source, total } = await openSource(image, signal, fail);
    const hash = createHash("sha256");
    const meter = new RateMeter(Date.now());
    let bytes = 0;
    let written = 0;
    let lastReportAt = Number.NEGATIVE_INFINITY;
    const progress = (done: boolean): FetchProgress => {
      const now = Date.now();
      const rate = meter.update(bytes, now);
      return {
        label: image.label,
        source: image.source,
        bytes,
        total,
        written,
        bytesPerSecond: rate,
        etaSeconds: done ? 0 : etaSeconds(bytes, total, rate),
        elapsedSeconds: meter.elapsedSeconds(now),
        done,
      };
    };
    report(progress(false));

    const counter = new ByteTap(hash, (n) => {
      bytes += n;
      armStallTimer();
      const now = Date.now();
      if (now - lastReportAt >= intervalMs) {
        lastReportAt = now;
        report(progress(false));
      }
    });
    const writtenCounter = new ByteTap(undefined, (n) => {
      written += n;
    });
    const sink = createWriteStream(partPath, { flags: "w", mode: 0o644, flush: true });
    const decoder = decoderFor(image.decompress);
    const stages =
      decoder === undefined
        ? [source, counter, writtenCounter, tagged(sink, "write")]
        : [source, counter, tagged(decoder, "decompress"), writtenCounter, tagged(sink, "write")];
    await pipeline(stages as unknown as [Readable, ...Transform[]], { signal });
    clearTimeout(stallTimer);

    const actual = hash.digest("hex");
    if (image.sha256 !== undefined && actual !== image.sha256) {
      throw new ImageChecksumError({
        label: image.label,
        source: image.source,
        expected: image.sha256,
        actual,
      });
    }
    stage = "write";
    await rename(partPath, image.localPath);
    report(progress(true));
    return {
      label: image.label,
      localPath: image.localPath,
      fetched: true,
      bytesFetched: bytes,
      sha256: actual,
    };
  } catch (error) {
    clearTimeout(stallTimer);
    await unlink(partPath).catch(() => {});
    if (error instanceof ImageChecksumError || error instanceof ImageFetchError) throw error;
    const failedStage = stageOf(error) ?? stage;
    if (stalled) throw fail(`download stalled: no data for ${stallTimeoutMs} ms from ${image.source}`, error);
    if (options.signal?.aborted) throw fail("fetch aborted", options.signal.reason ?? error);
    if (failedStage === "write" || isDiskError(error)) {
      throw fail(
        `cannot write ${partPath}: ${messageOf(error)}`,
        error,
        `check free space and permissions under ${dirname(image.localPath)}`,
      );
    }
    if (failedStage === "decompress" || isDecompressError(error)) {
      throw fail(
        `cannot decompress ${image.source} as ${image.decompress}: ${messageOf(error)}`,
        error,
        `is the source really ${image.decompress}-compressed? set \`decompress\` to what it is (zstd, xz or none)`,
      );
    }
    throw fail(`cannot read ${image.source}: ${messageOf(error)}`, error);
  }
}

async function openSource(
  image: ImageEntry,
  signal: AbortSignal,
  fail: Fail,
): Promise<{ stream: Readable; total: number | undefined }> {
  const url = new URL(image.source);
  if (url.protocol === "file:") {
    const path = fileURLToPath(url);
    let size: number;
    try {
      const info = await stat(path);
      if (!info.isFile()) throw fail(`source ${path} is not a file`);
      size = info.size;
    } catch (error) {
      if (error instanceof ImageFetchError) throw error;
      throw fail(
        `source file ${path} not found: ${messageOf(error)}`,
        error,
        "create the file (test guests: build them with the scripts in scripts/) or fix `source`",
      );
    }
    return { stream: createReadStream(path, { signal }), total: size };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw fail(`unsupported source scheme ${url.protocol}`);
  }
  let response: Response;
  try {
    response = await fetch(url, { signal, redirect: "follow" });
  } catch (error) {
    throw fail(`cannot download ${image.source}: ${messageOf(error)}`, error);
  }
  if (!response.ok || response.body === null) {
    await response.body?.cancel().catch(() => {});
    throw new ImageFetchError(
      { label: image.label, source: image.source, localPath: image.localPath, status: response.status },
      `download of ${image.source} failed: HTTP ${response.status} ${response.statusText}`.trimEnd(),
      { hint: "check the image's `source` URL in the image map" },
    );
  }
  const length = response.headers.get("content-length");
  // fetch() undoes a Content-Encoding; the announced length is then of the encoded body.
  const encoded = (response.headers.get("content-encoding") ?? "identity") !== "identity";
  const total = length !== null && !encoded && /^\d+$/.test(length) ? Number(length) : undefined;
  return { stream: Readable.fromWeb(response.body), total };
}

/** Passes bytes through, counting them (and hashing them when given a hash). */
class ByteTap extends Transform {
  readonly #hash: Hash | undefined;
  readonly #onBytes: (n: number) => void;

  constructor(hash: Hash | undefined, onBytes: (n: number) => void) {
    super();
    this.#hash = hash;
    this.#onBytes = onBytes;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#hash?.update(chunk);
    this.#onBytes(chunk.length);
    callback(null, chunk);
  }
}

const STAGE = Symbol("fetch stage");

/** Marks errors coming out of a stream with the stage they belong to. */
function tagged<T extends NodeJS.EventEmitter>(stream: T, stage: "decompress" | "write"): T {
  stream.prependListener("error", (error: unknown) => {
    if (typeof error === "object" && error !== null && !(STAGE in error)) {
      Object.defineProperty(error, STAGE, { value: stage });
    }
  });
  return stream;
}

function stageOf(error: unknown): "decompress" | "write" | undefined {
  if (typeof error !== "object" || error === null || !(STAGE in error)) return undefined;
  return (error as { [STAGE]: "decompress" | "write" })[STAGE];
}

function isDiskError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === "ENOSPC" || code === "EDQUOT" || code === "EROFS" || code === "EACCES" || code === "EIO";
}

function isDecompressError(error: unknown): boolean {
  const code = String((error as NodeJS.ErrnoException | undefined)?.code ?? "");
  return (
    code.startsWith("ZSTD_") ||
    code === "Z_DATA_ERROR" ||
    code === "ERR_ZSTD_INVALID_PARAM" ||
    code === XZ_FAILED
  );
}

/** The decoder a `decompress` value asks for (undefined: the artifact is used as downloaded). */
function decoderFor(decompress: ImageEntry["decompress"]): NodeJS.ReadWriteStream | undefined {
  if (decompress === "zstd") return createZstdDecompress();
  if (decompress === "xz") return new XzDecompress();
  return undefined;
}

async function checkBootFiles(image: ImageEntry): Promise<void> {
  for (const [key, path] of [
    ["kernel", image.kernel],
    ["initrd", image.initrd],
  ] as const) {
    if (path !== undefined && !(await isFile(path))) {
      throw new ImageFetchError(
        { label: image.label, source: image.source, localPath: image.localPath },
        `${key} ${path} not found`,
        {
          hint: `\`${key}\` files are never fetched: put the file there (test guests: build them with scripts/)`,
        },
      );
    }
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

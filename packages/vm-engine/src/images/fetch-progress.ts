import type { ServiceLogger } from "@solstice/common";
// Download progress: the event, a rate/ETA meter fed with byte counts, and renderers for logs and
// for a terminal line. The meter and the formatting are pure; only the renderers write.

/** One progress report of an image fetch. */
export interface FetchProgress {
  readonly label: string;
  readonly source: string;
  /** Bytes read from the source so far (compressed bytes for a zstd source). */
  readonly bytes: number;
  /** Bytes the source announced (Content-Length, or the file size), when known. */
  readonly total: number | undefined;
  /** Bytes written to disk so far (after decompression). */
  readonly written: number;
  /** Recent rate in bytes per second (a moving average). */
  readonly bytesPerSecond: number;
  /** Seconds left at the current rate, when the total is known. */
  readonly etaSeconds: number | undefined;
  /** Seconds since the fetch started. */
  readonly elapsedSeconds: number;
  /** True on the last report (the image is in place). */
  readonly done: boolean;
}

/**
 * Measures rate and ETA from byte counts. The rate is an exponentially weighted average over
 * roughly the last few seconds, so a stall shows quickly and a burst does not dominate.
 */
export class RateMeter {
  readonly #startedAt: number;
  #lastAt: number;
  #lastBytes = 0;
  #rate = 0;
  readonly #windowMs: number;

  constructor(now: number, windowMs = 3000) {
    this.#startedAt = now;
    this.#lastAt = now;
    this.#windowMs = windowMs;
  }

  /** Record the cumulative byte count at time `now` (ms); returns the current rate (bytes/s). */
  update(bytes: number, now: number): number {
    const dt = now - this.#lastAt;
    if (dt <= 0) return this.#rate;
    const instant = ((bytes - this.#lastBytes) * 1000) / dt;
    const elapsed = now - this.#startedAt;
    // Until one window has passed, the plain average is the best estimate.
    if (elapsed <= this.#windowMs) this.#rate = (bytes * 1000) / Math.max(1, elapsed);
    else {
      const alpha = 1 - Math.exp(-dt / this.#windowMs);
      this.#rate = this.#rate + alpha * (instant - this.#rate);
    }
    this.#lastAt = now;
    this.#lastBytes = bytes;
    return this.#rate;
  }

  get rate(): number {
    return this.#rate;
  }

  elapsedSeconds(now: number): number {
    return (now - this.#startedAt) / 1000;
  }
}

/** ETA in seconds, or undefined when the total or the rate is unknown. */
export function etaSeconds(bytes: number, total: number | undefined, rate: number): number | undefined {
  if (total === undefined || rate <= 0) return undefined;
  return Math.max(0, (total - bytes) / rate);
}

/** `1.5 GiB`, `12.0 MiB`, `512 B`. */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** `1h02m`, `3m07s`, `42s`. */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${s}s`;
}

/**
 * One line for a log or a terminal:
 * `ubuntu-24.04: 312.0 MiB / 600.0 MiB (52%) at 24.1 MiB/s, ETA 12s`.
 */
export function formatProgress(p: FetchProgress): string {
  const size =
    p.total === undefined
      ? formatBytes(p.bytes)
      : `${formatBytes(p.bytes)} / ${formatBytes(p.total)} (${Math.floor((p.bytes / Math.max(1, p.total)) * 100)}%)`;
  if (p.done) {
    const unpacked = p.written !== p.bytes ? `, ${formatBytes(p.written)} on disk` : "";
    return `${p.label}: fetched ${formatBytes(p.bytes)}${unpacked} in ${formatDuration(p.elapsedSeconds)}`;
  }
  const eta = p.etaSeconds === undefined ? "" : `, ETA ${formatDuration(p.etaSeconds)}`;
  return `${p.label}: ${size} at ${formatBytes(p.bytesPerSecond)}/s${eta}`;
}

/** The structured fields of a progress report for a JSON log line. */
export function progressLogFields(p: FetchProgress): Record<string, unknown> {
  return {
    label: p.label,
    source: p.source,
    bytes: p.bytes,
    total: p.total,
    written: p.written,
    bytes_per_second: Math.round(p.bytesPerSecond),
    eta_seconds: p.etaSeconds === undefined ? undefined : Math.round(p.etaSeconds),
    done: p.done,
  };
}

/** The slice of a logger the log renderer needs. */
export type ProgressLogger = Pick<ServiceLogger, "info">;

/** The slice of a TTY write stream the terminal renderer needs. */
export interface ProgressTerminal {
  write(text: string): boolean;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/**
 * A progress callback that writes a log line at most every `intervalMs` (default 5 s) and once at
 * the end: for services, whose logs must not flood.
 */
export function logProgress(logger: ProgressLogger, intervalMs = 5000): (p: FetchProgress) => void {
  let lastAt = Number.NEGATIVE_INFINITY;
  return (p) => {
    const now = Date.now();
    if (!p.done && now - lastAt < intervalMs) return;
    lastAt = now;
    logger.info(progressLogFields(p), p.done ? "image fetched" : "fetching image");
  };
}

/**
 * A progress callback that redraws one terminal line (`\r`, clear to end of line) at most every
 * `intervalMs` (default 200 ms) and ends it with a newline when done. On a stream that is not a
 * TTY it falls back to one plain line every 5 s.
 */
export function terminalProgress(stream: ProgressTerminal, intervalMs = 200): (p: FetchProgress) => void {
  if (stream.isTTY !== true) return plainLines(stream);
  let lastAt = Number.NEGATIVE_INFINITY;
  return (p) => {
    const now = Date.now();
    if (!p.done && now - lastAt < intervalMs) return;
    lastAt = now;
    const width = Math.max(20, (stream.columns ?? 80) - 1);
    const line = formatProgress(p);
    stream.write(`\r${line.length > width ? line.slice(0, width) : line}\x1b[K${p.done ? "\n" : ""}`);
  };
}

function plainLines(stream: ProgressTerminal): (p: FetchProgress) => void {
  let lastAt = Number.NEGATIVE_INFINITY;
  return (p) => {
    const now = Date.now();
    if (!p.done && now - lastAt < 5000) return;
    lastAt = now;
    stream.write(`${formatProgress(p)}\n`);
  };
}

import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { Duplex } from "node:stream";

// Node has no xz (LZMA2) decoder, and FreeBSD ships its VM images only as `.xz`: the stream goes
// through the host's `xz -dc` (xz-utils, in scripts/runtime-packages.txt), as a Duplex so it sits
// in the fetch pipeline exactly where zlib's zstd decoder does.

/** How much of xz's stderr an error message keeps. */
const STDERR_LIMIT = 2048;

/** The code of every error this stream emits (the fetcher reports "cannot decompress … as xz"). */
export const XZ_FAILED = "XZ_FAILED";

/**
 * xz-compressed bytes in, decompressed bytes out. Its output ends only once `xz` has exited 0, so
 * a truncated or corrupt input is an error (code `XZ_FAILED`, xz's own message), never a short
 * file; so is a missing `xz`. Destroying the stream kills the process.
 *
 * @example
 *   await pipeline(createReadStream("FreeBSD.raw.xz"), new XzDecompress(), createWriteStream("FreeBSD.raw"));
 */
export class XzDecompress extends Duplex {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #binary: string;
  #stderr = "";
  #stdoutEnded = false;
  #exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  constructor(binary = "xz") {
    super();
    this.#binary = binary;
    this.#child = spawn(binary, ["--decompress", "--stdout", "--quiet"]);
    const child = this.#child;
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
      if (this.#stderr.length < STDERR_LIMIT)
        this.#stderr += chunk.slice(0, STDERR_LIMIT - this.#stderr.length);
    });
    child.stdout.on("data", (chunk: Buffer) => {
      if (!this.push(chunk)) child.stdout.pause();
    });
    child.stdout.once("end", () => {
      this.#stdoutEnded = true;
      this.#settle();
    });
    child.once("close", (code, signal) => {
      this.#exit = { code, signal };
      this.#settle();
    });
    child.once("error", (error: NodeJS.ErrnoException) => {
      this.destroy(
        xzError(
          error.code === "ENOENT"
            ? `${binary} not found: install xz-utils to decompress .xz images`
            : `${binary}: ${error.message}`,
        ),
      );
    });
    // EPIPE when xz died first: its exit status says why.
    child.stdin.on("error", () => {});
  }

  override _read(): void {
    this.#child.stdout.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.#child.stdin.write(chunk)) callback();
    else this.#child.stdin.once("drain", () => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#child.stdin.end(callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.#exit === undefined) this.#child.kill("SIGKILL");
    callback(error);
  }

  #settle(): void {
    if (!this.#stdoutEnded || this.#exit === undefined || this.destroyed) return;
    const { code, signal } = this.#exit;
    if (code === 0) {
      this.push(null);
      return;
    }
    const why = this.#stderr.trim().split("\n").at(-1) ?? "";
    this.destroy(
      xzError(`${this.#binary} failed (${signal ?? `exit ${code}`})${why === "" ? "" : `: ${why}`}`),
    );
  }
}

function xzError(message: string): Error {
  return Object.assign(new Error(message), { code: XZ_FAILED });
}

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import { zstdCompressSync } from "node:zlib";
import { type ImageEntry, type ImageMap, parseImageMap } from "@solstice/common";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ImageChecksumError, ImageFetchError } from "../src/errors.ts";
import type { FetchProgress } from "../src/images/fetch-progress.ts";
import { ensureImage, ensureImages, isImagePresent } from "../src/images/image-fetch.ts";

// A real HTTP server on loopback serves the images; it counts requests per path.

const plain = Buffer.alloc(3 * 1024 * 1024 + 123);
for (let i = 0; i < plain.length; i++) plain[i] = (i * 2654435761) >>> 24;
const compressed = zstdCompressSync(plain);
// FreeBSD ships only .xz: made by the real xz, decoded by the fetcher through it.
const xzCompressed = execFileSync("xz", ["--compress", "--stdout", "-0", "--threads=1"], { input: plain });
const sha = (data: Uint8Array): string => createHash("sha256").update(data).digest("hex");

const requests = new Map<string, number>();
let server: Server;
let base: string;
let dir: string;
let releaseSlow: () => void = () => {};
let slowGate: Promise<void> = Promise.resolve();

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? "/";
    requests.set(path, (requests.get(path) ?? 0) + 1);
    const send = (body: Buffer): void => {
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": body.length });
      res.end(body);
    };
    switch (path) {
      case "/plain.img":
        return send(plain);
      case "/image.raw.zst":
        return send(compressed);
      case "/not-zstd.zst":
        return send(plain.subarray(0, 100_000));
      case "/image.raw.xz":
        return send(xzCompressed);
      case "/truncated.raw.xz":
        return send(xzCompressed.subarray(0, Math.floor(xzCompressed.length / 2)));
      case "/slow.img":
        // Holds the body until the test releases it, so concurrent callers overlap for sure.
        res.writeHead(200, { "content-length": plain.length });
        res.write(plain.subarray(0, 1000));
        void slowGate.then(() => res.end(plain.subarray(1000)));
        return;
      case "/stall.img":
        res.writeHead(200, { "content-length": plain.length });
        res.write(plain.subarray(0, 1000)); // ...and nothing more
        return;
      default:
        res.writeHead(404, { "content-type": "text/plain" });
        res.end("not found");
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = await mkdtemp(join(tmpdir(), "solstice-image-fetch-"));
});

afterAll(async () => {
  releaseSlow();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

let counter = 0;
let caseDir: string;
beforeEach(async () => {
  caseDir = join(dir, `case-${++counter}`);
  await mkdir(caseDir);
});

function image(overrides: Partial<ImageEntry> & { source: string }): ImageEntry {
  return {
    label: "test-image",
    localPath: join(caseDir, "images", "base.img"),
    decompress: "none",
    nocloud: true,
    defaults: { cpu: 1, ramMb: 512, diskGb: 1 },
    sha256: undefined,
    format: "raw",
    sshUser: "root",
    kernel: undefined,
    initrd: undefined,
    append: undefined,
    accel: "auto",
    ...overrides,
  };
}

/** Everything left in the image's directory (there must be no .part and no .lock). */
async function leftovers(entry: ImageEntry): Promise<string[]> {
  return (await readdir(join(entry.localPath, "..")).catch(() => [] as string[])).sort();
}

describe("ensureImage over HTTP", () => {
  it("streams a plain image into place, with progress, and no .part or .lock left", async () => {
    const entry = image({ source: `${base}/plain.img`, sha256: sha(plain) });
    const progress: FetchProgress[] = [];
    const result = await ensureImage(entry, { onProgress: (p) => progress.push(p), progressIntervalMs: 0 });
    expect(result).toEqual({
      label: "test-image",
      localPath: entry.localPath,
      fetched: true,
      bytesFetched: plain.length,
      sha256: sha(plain),
    });
    expect((await readFile(entry.localPath)).equals(plain)).toBe(true);
    expect(await leftovers(entry)).toEqual(["base.img"]);

    expect(progress.length).toBeGreaterThan(2);
    expect(progress[0]).toMatchObject({ bytes: 0, total: plain.length, done: false, label: "test-image" });
    const last = progress.at(-1)!;
    expect(last).toMatchObject({
      bytes: plain.length,
      written: plain.length,
      total: plain.length,
      done: true,
    });
    expect(progress.filter((p) => p.done)).toHaveLength(1);
    for (let i = 1; i < progress.length; i++)
      expect(progress[i]!.bytes).toBeGreaterThanOrEqual(progress[i - 1]!.bytes);
  });

  it("decompresses zstd while streaming; sha256 is of the compressed artifact", async () => {
    const entry = image({ source: `${base}/image.raw.zst`, decompress: "zstd", sha256: sha(compressed) });
    const progress: FetchProgress[] = [];
    const result = await ensureImage(entry, { onProgress: (p) => progress.push(p) });
    expect(result.bytesFetched).toBe(compressed.length);
    expect((await readFile(entry.localPath)).equals(plain)).toBe(true);
    expect(progress.at(-1)).toMatchObject({ bytes: compressed.length, written: plain.length, done: true });
    expect(await leftovers(entry)).toEqual(["base.img"]);
  });

  it("decompresses xz while streaming (through the host's xz); sha256 is of the compressed artifact", async () => {
    const entry = image({ source: `${base}/image.raw.xz`, decompress: "xz", sha256: sha(xzCompressed) });
    const progress: FetchProgress[] = [];
    const result = await ensureImage(entry, { onProgress: (p) => progress.push(p) });
    expect(result.bytesFetched).toBe(xzCompressed.length);
    expect((await readFile(entry.localPath)).equals(plain)).toBe(true);
    expect(progress.at(-1)).toMatchObject({ bytes: xzCompressed.length, written: plain.length, done: true });
    expect(await leftovers(entry)).toEqual(["base.img"]);
  });

  it("a truncated or non-xz source is an error, never a short image, and leaves nothing", async () => {
    for (const path of ["truncated.raw.xz", "not-zstd.zst"]) {
      const entry = image({ source: `${base}/${path}`, decompress: "xz" });
      const error = await ensureImage(entry).catch((e: unknown) => e);
      expect(error, path).toBeInstanceOf(ImageFetchError);
      expect((error as Error).message, path).toMatch(/cannot decompress .* as xz: xz failed \(exit 1\): /);
      expect(await leftovers(entry), path).toEqual([]);
    }
  });

  it("does nothing when the image is already there", async () => {
    const entry = image({ source: `${base}/present.img` });
    await mkdir(join(entry.localPath, ".."), { recursive: true });
    await writeFile(entry.localPath, "already here");
    expect(await isImagePresent(entry)).toBe(true);
    const result = await ensureImage(entry);
    expect(result).toMatchObject({ fetched: false, bytesFetched: 0 });
    expect(requests.get("/present.img")).toBeUndefined();
    expect(await readFile(entry.localPath, "utf8")).toBe("already here");
  });

  it("fails on an HTTP error status, naming it, and leaves nothing", async () => {
    const entry = image({ source: `${base}/missing.img` });
    const error = await ensureImage(entry).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageFetchError);
    expect(error).toMatchObject({ code: "ORCH_IMAGE_FETCH_FAILED", status: 404, label: "test-image" });
    expect((error as Error).message).toContain("HTTP 404");
    expect((error as Error).message).toContain(`${base}/missing.img`);
    expect(await leftovers(entry)).toEqual([]);
  });

  it("fails on a sha256 mismatch, naming expected, actual and the label, and leaves nothing", async () => {
    const wrong = "0".repeat(64);
    const entry = image({ source: `${base}/plain.img`, sha256: wrong, label: "ubuntu-24.04" });
    const error = await ensureImage(entry).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageChecksumError);
    expect(error).toMatchObject({
      code: "ORCH_IMAGE_CHECKSUM_MISMATCH",
      label: "ubuntu-24.04",
      expected: wrong,
      actual: sha(plain),
    });
    expect((error as Error).message).toContain(wrong);
    expect((error as Error).message).toContain(sha(plain));
    expect(await leftovers(entry)).toEqual([]);
  });

  it("fails clearly when a zstd source is not zstd, and leaves nothing", async () => {
    const entry = image({ source: `${base}/not-zstd.zst`, decompress: "zstd" });
    const error = await ensureImage(entry).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageFetchError);
    expect((error as Error).message).toMatch(/cannot decompress .* as zstd/);
    expect(await leftovers(entry)).toEqual([]);
  });

  it("fails on a disk error (disk full), and leaves nothing", async () => {
    const entry = image({ source: `${base}/plain.img` });
    await mkdir(join(entry.localPath, ".."), { recursive: true });
    // The .part file is a link to /dev/full: every write fails with ENOSPC.
    await symlink("/dev/full", `${entry.localPath}.part`);
    const error = await ensureImage(entry).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageFetchError);
    expect((error as Error).message).toMatch(/cannot write .*base\.img\.part/);
    expect((error as ImageFetchError).hint).toMatch(/free space/);
    expect(await leftovers(entry)).toEqual([]);
  });

  it("gives up on a download that stalls, and leaves nothing", async () => {
    const entry = image({ source: `${base}/stall.img` });
    const error = await ensureImage(entry, { stallTimeoutMs: 300 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageFetchError);
    expect((error as Error).message).toMatch(/stalled/);
    expect(await leftovers(entry)).toEqual([]);
  });

  it("stops when aborted, and leaves nothing", async () => {
    slowGate = new Promise((resolve) => {
      releaseSlow = resolve;
    });
    const entry = image({ source: `${base}/slow.img` });
    const abort = new AbortController();
    const pending = ensureImage(entry, {
      signal: abort.signal,
      onProgress: (p) => {
        if (p.bytes > 0) abort.abort(new Error("operator cancelled"));
      },
      progressIntervalMs: 0,
    });
    const error = await pending.catch((e: unknown) => e);
    releaseSlow();
    expect(error).toBeInstanceOf(ImageFetchError);
    expect((error as Error).message).toMatch(/aborted/);
    expect(await leftovers(entry)).toEqual([]);
  });
});

describe("one fetch for concurrent callers", () => {
  it("two callers wanting the same missing image make one request and both get it", async () => {
    slowGate = new Promise((resolve) => {
      releaseSlow = resolve;
    });
    const before = requests.get("/slow.img") ?? 0;
    const entry = image({ source: `${base}/slow.img` });
    const seenA: FetchProgress[] = [];
    const seenB: FetchProgress[] = [];
    const a = ensureImage(entry, { onProgress: (p) => seenA.push(p) });
    const b = ensureImage({ ...entry }, { onProgress: (p) => seenB.push(p) });
    // Let both calls reach the server stage before the body completes.
    while ((requests.get("/slow.img") ?? 0) === before) await sleep(10);
    releaseSlow();
    const [ra, rb] = await Promise.all([a, b]);
    expect(requests.get("/slow.img")).toBe(before + 1);
    expect(ra).toEqual(rb);
    expect(ra.fetched).toBe(true);
    expect((await readFile(entry.localPath)).equals(plain)).toBe(true);
    expect(seenA.at(-1)?.done).toBe(true);
    expect(seenB.at(-1)?.done).toBe(true);
    expect(await leftovers(entry)).toEqual(["base.img"]);
  });

  it("waits for another process's lock, then uses the image it fetched", async () => {
    const entry = image({ source: `${base}/locked.img` });
    await mkdir(join(entry.localPath, ".."), { recursive: true });
    const holder: ChildProcess = spawn("sleep", ["60"], { stdio: "ignore" });
    try {
      await writeFile(`${entry.localPath}.lock`, `${holder.pid}\n`);
      let settled = false;
      const pending = ensureImage(entry).finally(() => {
        settled = true;
      });
      await sleep(500);
      expect(settled).toBe(false);
      // The other process finishes: the image appears, the lock goes.
      await writeFile(entry.localPath, "fetched by the other process");
      await rm(`${entry.localPath}.lock`);
      expect(await pending).toMatchObject({ fetched: false });
      expect(requests.get("/locked.img")).toBeUndefined();
    } finally {
      holder.kill("SIGKILL");
    }
  });

  it("takes over a stale lock whose process is gone", async () => {
    const entry = image({ source: `${base}/plain.img` });
    await mkdir(join(entry.localPath, ".."), { recursive: true });
    const gone = spawn("true", { stdio: "ignore" });
    await new Promise((resolve) => gone.once("exit", resolve));
    await writeFile(`${entry.localPath}.lock`, `${gone.pid}\n`);
    const result = await ensureImage(entry);
    expect(result.fetched).toBe(true);
    expect(await leftovers(entry)).toEqual(["base.img"]);
  });
});

describe("file:// sources and boot files", () => {
  it("copies a plain file and decompresses a zstd file", async () => {
    const src = join(caseDir, "src");
    await mkdir(src);
    await writeFile(join(src, "a.img"), plain);
    await writeFile(join(src, "b.raw.zst"), compressed);
    const a = image({
      source: pathToFileURL(join(src, "a.img")).href,
      localPath: join(caseDir, "out", "a.img"),
    });
    const b = image({
      source: pathToFileURL(join(src, "b.raw.zst")).href,
      localPath: join(caseDir, "out", "b.raw"),
      decompress: "zstd",
      sha256: sha(compressed),
    });
    const progress: FetchProgress[] = [];
    expect(await ensureImage(a, { onProgress: (p) => progress.push(p) })).toMatchObject({ fetched: true });
    expect(progress[0]?.total).toBe(plain.length);
    await ensureImage(b);
    expect((await readFile(a.localPath)).equals(plain)).toBe(true);
    expect((await readFile(b.localPath)).equals(plain)).toBe(true);
    expect((await readdir(join(caseDir, "out"))).sort()).toEqual(["a.img", "b.raw"]);
  });

  it("names a missing source file", async () => {
    const entry = image({ source: pathToFileURL(join(caseDir, "nowhere.qcow2")).href });
    const error = await ensureImage(entry).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageFetchError);
    expect((error as Error).message).toContain(join(caseDir, "nowhere.qcow2"));
    expect(await leftovers(entry)).toEqual([]);
  });

  it("checks that a direct-boot kernel and initrd exist", async () => {
    const entry = image({
      source: `${base}/plain.img`,
      kernel: join(caseDir, "vmlinuz"),
      initrd: join(caseDir, "initrd"),
    });
    await mkdir(join(entry.localPath, ".."), { recursive: true });
    await writeFile(entry.localPath, "disk");
    await expect(ensureImage(entry)).rejects.toThrow(/kernel .*vmlinuz not found/);
    await writeFile(join(caseDir, "vmlinuz"), "k");
    await expect(ensureImage(entry)).rejects.toThrow(/initrd .*initrd not found/);
    await writeFile(join(caseDir, "initrd"), "i");
    await expect(ensureImage(entry)).resolves.toMatchObject({ fetched: false });
  });

  it("ensureImages fetches every image of a map", async () => {
    const yaml = [
      "default_label: a",
      "images:",
      `  a: { source: "${base}/plain.img", local_path: a.img }`,
      `  b: { source: "${base}/image.raw.zst", local_path: b.raw, decompress: zstd }`,
    ].join("\n");
    const map: ImageMap = parseImageMap(yaml, join(caseDir, "map.yaml"));
    const results = await ensureImages(map);
    expect(results.map((r) => [r.label, r.fetched])).toEqual([
      ["a", true],
      ["b", true],
    ]);
    expect((await readFile(join(caseDir, "b.raw"))).equals(plain)).toBe(true);
  });
});

import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { stat } from "node:fs/promises";
import type { VmSpec } from "../vm/vm-types.ts";

// Which template a job's VM may be restored from. A saved state only fits a VM started with the
// same device configuration, the same memory size and the same disk under it, and it only loads
// in the QEMU that saved it (or a compatible one): everything that could differ goes into the
// identity, so a changed base image, QEMU upgrade or resource override never restores a state
// that does not fit — it simply has no template yet.

/** A file the template depends on, as `stat` sees it (a replaced or rewritten file changes it). */
export interface FileIdentity {
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ino: number;
}

/** Everything a template's fit depends on. */
export interface TemplateFacts {
  readonly label: string;
  readonly files: readonly FileIdentity[];
  readonly format: string;
  readonly append: string | undefined;
  readonly cpu: number;
  readonly ramMb: number;
  readonly diskGb: number;
  readonly accel: string;
  readonly sshUser: string;
  readonly settle: string;
  /** `qemu-system-* --version`'s first line, and the binary's own identity. */
  readonly qemu: string;
}

/** The template id for `facts`: 16 hex digits of a SHA-256 over all of them (pure). */
export function templateId(facts: TemplateFacts): string {
  return createHash("sha256").update(JSON.stringify(facts)).digest("hex").slice(0, 16);
}

/** What {@link gatherTemplateFacts} reads. */
export interface GatherOptions {
  readonly qemuBinary: string;
  readonly settle: string;
}

/** A QEMU upgrade is noticed within this long (the version is asked again after it). */
const QEMU_VERSION_TTL_MS = 60_000;
const qemuVersions = new Map<string, { readonly at: number; readonly version: Promise<string> }>();

/** The facts of a VM spec: stats its image files and asks QEMU its version (once per binary and identity). */
export async function gatherTemplateFacts(spec: VmSpec, options: GatherOptions): Promise<TemplateFacts> {
  const paths = [spec.image.diskPath, spec.image.kernel, spec.image.initrd].filter(
    (path): path is string => path !== undefined,
  );
  const files = await Promise.all(paths.map(fileIdentity));
  return {
    label: spec.image.label,
    files,
    format: spec.image.format,
    append: spec.image.append,
    cpu: spec.cpu,
    ramMb: spec.ramMb,
    diskGb: spec.diskGb,
    accel: spec.accel,
    sshUser: spec.sshUser,
    settle: options.settle,
    qemu: await qemuIdentity(options.qemuBinary),
  };
}

async function fileIdentity(path: string): Promise<FileIdentity> {
  const info = await stat(path);
  return { path, size: info.size, mtimeMs: info.mtimeMs, ino: info.ino };
}

function qemuIdentity(binary: string): Promise<string> {
  const cached = qemuVersions.get(binary);
  if (cached !== undefined && Date.now() - cached.at < QEMU_VERSION_TTL_MS) return cached.version;
  const version = new Promise<string>((resolve, reject) => {
    execFile(binary, ["--version"], { encoding: "utf8", timeout: 10_000 }, (error, stdout) => {
      if (error === null) resolve(stdout.split("\n")[0] ?? "");
      else reject(error);
    });
  });
  qemuVersions.set(binary, { at: Date.now(), version });
  version.catch(() => qemuVersions.delete(binary));
  return version;
}

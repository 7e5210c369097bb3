import { execFile } from "node:child_process";
import { z } from "zod";
import { QemuImgError } from "../errors.ts";

/** Options of the qemu-img calls. */
export interface QemuImgOptions {
  readonly qemuImg?: string;
}

const GIB = 1024 ** 3;

const infoSchema = z.object({ "virtual-size": z.number().int().nonnegative() }).loose();

function run(args: string[], options: QemuImgOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(options.qemuImg ?? "qemu-img", args, { encoding: "utf8" }, (error, stdout, stderr) => {
      if (error === null) resolve(stdout);
      else reject(new QemuImgError(args, stderr || error.message, { cause: error }));
    });
  });
}

/** The virtual size in bytes of an image (`qemu-img info --output=json`). */
export async function imageVirtualSize(
  image: { readonly path: string; readonly format: "qcow2" | "raw" },
  options: QemuImgOptions = {},
): Promise<number> {
  const args = ["info", "--output=json", "-f", image.format, image.path];
  const stdout = await run(args, options);
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch (error) {
    throw new QemuImgError(args, `unreadable output: ${stdout.slice(0, 200)}`, { cause: error });
  }
  const info = infoSchema.safeParse(parsed);
  if (!info.success) throw new QemuImgError(args, `no virtual-size in: ${stdout.slice(0, 200)}`);
  return info.data["virtual-size"];
}

/**
 * `qemu-img create -f qcow2 -F <format> -b <base> <overlay> <size>`: a copy-on-write overlay on
 * the base image, so the base is never written and a VM's changes vanish with its overlay. The
 * size is `sizeGb` GiB, or the base's own size when that is larger (a smaller overlay would cut
 * the guest's disk). Throws {@link QemuImgError} quoting qemu-img's stderr.
 */
export async function createOverlay(
  base: { readonly path: string; readonly format: "qcow2" | "raw" },
  overlayPath: string,
  sizeGb: number,
  options: QemuImgOptions = {},
): Promise<void> {
  if (!Number.isInteger(sizeGb) || sizeGb < 1)
    throw new RangeError(`disk_gb must be a positive integer, got ${sizeGb}`);
  const baseSize = await imageVirtualSize(base, options);
  const size = Math.max(sizeGb * GIB, baseSize);
  await run(
    ["create", "-q", "-f", "qcow2", "-F", base.format, "-b", base.path, overlayPath, String(size)],
    options,
  );
}

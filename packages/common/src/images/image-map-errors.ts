import { describeCause, SolsticeError } from "../errors.ts";

// Errors of the image map: a file that cannot be read or does not match the schema, a label it
// does not serve. Each has a stable `code` and a hint.

/** Where in an image map file a problem is. `keyPath` is dotted (`images.ubuntu-24.04.decompress`). */
export interface ImageMapLocation {
  readonly file: string;
  readonly keyPath: string;
  readonly line?: number | undefined;
  readonly column?: number | undefined;
}

/**
 * An image map file that is not valid YAML or does not match the schema. The message starts with
 * `file:line:column` (when known) and names the key path.
 */
export class ImageMapError extends SolsticeError {
  readonly file: string;
  readonly keyPath: string;
  readonly line: number | undefined;
  readonly column: number | undefined;
  /** The problem alone, without the location prefix. */
  readonly reason: string;

  constructor(location: ImageMapLocation, reason: string, options?: { cause?: unknown; hint?: string }) {
    const where =
      location.line === undefined
        ? location.file
        : `${location.file}:${location.line}${location.column === undefined ? "" : `:${location.column}`}`;
    const key = location.keyPath === "" ? "" : ` at ${location.keyPath}`;
    super("ORCH_IMAGE_MAP_INVALID", `${where}: ${reason}${key}`, {
      cause: options?.cause,
      hint: options?.hint ?? "fix the image map (see docs/images.md for every key)",
    });
    this.file = location.file;
    this.keyPath = location.keyPath;
    this.line = location.line;
    this.column = location.column;
    this.reason = reason;
  }
}

/** The image map file could not be read at all (missing, unreadable). */
export class ImageMapReadError extends SolsticeError {
  readonly file: string;

  constructor(file: string, cause: unknown) {
    super("ORCH_IMAGE_MAP_READ", `cannot read image map ${file}: ${describeCause(cause)}`, {
      cause,
      hint: "pass an existing file with --config or ORCH_CONFIG",
    });
    this.file = file;
  }
}

/** A label that the image map does not serve (neither an image nor an alias of one). */
export class UnknownImageLabelError extends SolsticeError {
  readonly label: string;
  readonly served: readonly string[];

  constructor(label: string, served: readonly string[]) {
    super("ORCH_IMAGE_LABEL_UNKNOWN", `no image for label "${label}"`, {
      hint: `labels served here: ${served.join(", ") || "(none)"}`,
    });
    this.label = label;
    this.served = served;
  }
}

import { readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { pathToFileURL } from "node:url";
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import { z } from "zod";
import { resolveRouteLabel } from "../mq/job-routes.ts";
import { ImageMapError, ImageMapReadError } from "./image-map-errors.ts";
import { expandPath, expandVariables, PathExpansionError } from "./path-expansion.ts";

// The image map: which labels this host serves and where each label's base image comes from.
// The file format is the original's (default_label, aliases, sizes, images with source,
// local_path, decompress, nocloud, defaults), plus optional keys documented in docs/images.md.

/** Defaults applied where an image entry has no `defaults` (as the original orchestrator did). */
export const IMAGE_DEFAULTS = Object.freeze({ cpu: 2, ramMb: 2048, diskGb: 40 });

/** The SSH user when an entry has no `ssh_user`: our seed authorises the per-job key for root. */
export const DEFAULT_SSH_USER = "root";

const positiveInt = z.number().int().positive();

const sizePresetSchema = z.strictObject({
  cpu: positiveInt,
  ram_mb: positiveInt,
});

const imageDefaultsSchema = z.strictObject({
  cpu: positiveInt.optional(),
  ram_mb: positiveInt.optional(),
  disk_gb: positiveInt.optional(),
});

const sha256Schema = z
  .string()
  .regex(/^(sha256:)?[0-9a-fA-F]{64}$/, "must be 64 hexadecimal digits (optionally prefixed by sha256:)");

const imageEntrySchema = z.strictObject({
  /** Where to fetch the image when `local_path` is missing: http(s):// or file://. */
  source: z.string().min(1),
  /** The prepared base image on this host. */
  local_path: z.string().min(1),
  decompress: z.enum(["zstd", "xz", "none"]).nullish(),
  nocloud: z.boolean().default(false),
  defaults: imageDefaultsSchema.nullish(),
  sha256: sha256Schema.optional(),
  format: z.enum(["qcow2", "raw"]).optional(),
  ssh_user: z
    .string()
    .regex(/^[a-z_][a-z0-9_.-]*$/i, "must be a user name")
    .optional(),
  kernel: z.string().min(1).optional(),
  initrd: z.string().min(1).optional(),
  append: z.string().optional(),
  accel: z.enum(["kvm", "tcg", "auto"]).optional(),
  /** Jobs resume a saved, booted VM of this image instead of booting it (default true). */
  warm_start: z.boolean().optional(),
  /** The guest command that returns once the guest has finished booting (before a template is saved). */
  settle: z.string().min(1).max(4096).optional(),
});

const labelSchema = z.string().min(1);

/** The image map file as written (snake_case keys), before normalisation. */
export const imageMapFileSchema = z.strictObject({
  default_label: labelSchema,
  aliases: z.record(labelSchema, labelSchema).nullish(),
  sizes: z.record(z.string(), sizePresetSchema).nullish(),
  images: z.record(labelSchema, imageEntrySchema).nullish(),
});

/** The image map file's shape as parsed from YAML. */
export type ImageMapFile = z.infer<typeof imageMapFileSchema>;

/** One base image, normalised: paths expanded and absolute, defaults applied. */
export interface ImageEntry {
  /** The canonical label (the key under `images`). */
  readonly label: string;
  /** `http(s)://...` or `file://...` (variables expanded). */
  readonly source: string;
  /** Absolute path of the prepared base image. */
  readonly localPath: string;
  readonly decompress: "zstd" | "xz" | "none";
  readonly nocloud: boolean;
  readonly defaults: { readonly cpu: number; readonly ramMb: number; readonly diskGb: number };
  /** Lowercase hex SHA-256 of the artifact as downloaded (before decompression), when given. */
  readonly sha256: string | undefined;
  /** The base image's format (for `qemu-img create -F`): given, or guessed from `local_path`. */
  readonly format: "qcow2" | "raw";
  /** The user the per-job key is authorised for and SSH logs in as. */
  readonly sshUser: string;
  /** Direct kernel boot: absolute paths of kernel and initrd, and the kernel command line. */
  readonly kernel: string | undefined;
  readonly initrd: string | undefined;
  readonly append: string | undefined;
  /** Acceleration wanted for this image (`auto`: KVM when it works, else TCG). */
  readonly accel: "kvm" | "tcg" | "auto";
  /** Warm starts for this image (`warm_start`; undefined means true). */
  readonly warmStart?: boolean | undefined;
  /** The settle command of its warm template (`settle`; undefined: the engine's default). */
  readonly settle?: string | undefined;
}

/** A named size preset. */
export interface SizePreset {
  readonly cpu: number;
  readonly ramMb: number;
}

/** A validated, normalised image map. */
export interface ImageMap {
  /** The file it was read from (for messages). */
  readonly file: string;
  readonly defaultLabel: string;
  /** alias -> canonical label. */
  readonly aliases: ReadonlyMap<string, string>;
  readonly sizes: ReadonlyMap<string, SizePreset>;
  /** canonical label -> image, in file order. */
  readonly images: ReadonlyMap<string, ImageEntry>;
}

/** Options for parsing: the environment used for `${VAR}` and `~` (default: `process.env`). */
export interface ParseImageMapOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Directory relative paths are resolved against (default: the file's directory). */
  readonly baseDir?: string;
}

/**
 * Read and validate an image map file.
 *
 * @example
 *   const map = await loadImageMap(process.env.ORCH_CONFIG ?? "examples/orchestrator-image-map.yaml");
 *   const hit = resolveLabel(map, job.runs_on);
 */
export async function loadImageMap(path: string, options: ParseImageMapOptions = {}): Promise<ImageMap> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new ImageMapReadError(path, error);
  }
  return parseImageMap(text, path, options);
}

/**
 * Validate image map YAML text. `file` names the source in errors and anchors relative paths.
 * Throws {@link ImageMapError} naming the file, line, column and key path of the first problem.
 */
export function parseImageMap(text: string, file: string, options: ParseImageMapOptions = {}): ImageMap {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const locate = (keyPath: readonly PropertyKey[], atKey = false): { line?: number; column?: number } =>
    locateNode(doc.contents, keyPath, lineCounter, atKey);

  const yamlError = doc.errors[0];
  if (yamlError !== undefined) {
    const pos = lineCounter.linePos(yamlError.pos[0]);
    throw new ImageMapError(
      { file, keyPath: "", line: pos.line, column: pos.col },
      `YAML syntax error: ${firstLine(yamlError.message)}`,
      { cause: yamlError },
    );
  }

  const raw: unknown = doc.toJS({ maxAliasCount: 100 });
  const parsed = imageMapFileSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const keyPath = issueKeyPath(issue);
    const unknownKey = issue.code === "unrecognized_keys";
    throw new ImageMapError(
      { file, keyPath: formatKeyPath(keyPath), ...locate(keyPath, unknownKey) },
      describeIssue(issue, raw),
    );
  }

  const env = options.env ?? process.env;
  const baseDir = options.baseDir ?? dirname(file);
  const fail = (keyPath: readonly PropertyKey[], reason: string, hint?: string): never => {
    throw new ImageMapError(
      { file, keyPath: formatKeyPath(keyPath), ...locate(keyPath) },
      reason,
      hint === undefined ? undefined : { hint },
    );
  };
  const expand = (value: string, keyPath: readonly PropertyKey[], asPath: boolean): string => {
    try {
      return asPath ? expandPath(value, env, baseDir) : expandVariables(value, env);
    } catch (error) {
      if (error instanceof PathExpansionError) {
        return fail(
          keyPath,
          error.message,
          `set ${error.variable} or give a default: \${${error.variable}:-...}`,
        );
      }
      throw error;
    }
  };

  const fileMap = parsed.data;
  const images = new Map<string, ImageEntry>();
  for (const [label, entry] of Object.entries(fileMap.images ?? {})) {
    const at = (key: string): PropertyKey[] => ["images", label, key];
    const localPath = expand(entry.local_path, at("local_path"), true);
    const source = expandSource(entry.source, (text, asPath) => expand(text, at("source"), asPath));
    if (!/^(https?|file):\/\//i.test(source)) {
      fail(at("source"), `unsupported source "${source}": use http://, https:// or file://`);
    }
    if (entry.initrd !== undefined && entry.kernel === undefined) {
      fail(at("initrd"), "initrd given without kernel");
    }
    if (entry.append !== undefined && entry.kernel === undefined) {
      fail(at("append"), "append given without kernel");
    }
    images.set(label, {
      label,
      source,
      localPath,
      decompress: entry.decompress ?? "none",
      nocloud: entry.nocloud,
      defaults: {
        cpu: entry.defaults?.cpu ?? IMAGE_DEFAULTS.cpu,
        ramMb: entry.defaults?.ram_mb ?? IMAGE_DEFAULTS.ramMb,
        diskGb: entry.defaults?.disk_gb ?? IMAGE_DEFAULTS.diskGb,
      },
      sha256: entry.sha256?.replace(/^sha256:/, "").toLowerCase(),
      format: entry.format ?? guessFormat(localPath),
      sshUser: entry.ssh_user ?? DEFAULT_SSH_USER,
      kernel: entry.kernel === undefined ? undefined : expand(entry.kernel, at("kernel"), true),
      initrd: entry.initrd === undefined ? undefined : expand(entry.initrd, at("initrd"), true),
      append: entry.append,
      accel: entry.accel ?? "auto",
      warmStart: entry.warm_start ?? true,
      settle: entry.settle,
    });
  }

  const aliases = new Map<string, string>();
  for (const [alias, target] of Object.entries(fileMap.aliases ?? {})) {
    if (!images.has(target)) {
      fail(["aliases", alias], `alias "${alias}" points to "${target}", which is not under images`);
    }
    if (images.has(alias)) {
      fail(["aliases", alias], `alias "${alias}" is also an image label; an alias would hide it`);
    }
    aliases.set(alias, target);
  }

  const defaultTarget = aliases.get(fileMap.default_label) ?? fileMap.default_label;
  if (!images.has(defaultTarget)) {
    fail(
      ["default_label"],
      `default_label "${fileMap.default_label}" is neither an image nor an alias of one`,
      `use one of: ${[...images.keys(), ...aliases.keys()].join(", ") || "(no images defined)"}`,
    );
  }

  const sizes = new Map<string, SizePreset>();
  for (const [name, preset] of Object.entries(fileMap.sizes ?? {})) {
    sizes.set(name, { cpu: preset.cpu, ramMb: preset.ram_mb });
  }

  return { file, defaultLabel: fileMap.default_label, aliases, sizes, images };
}

/**
 * Resolve a job's `runs_on` to an image, as the original did: no label means `default_label`;
 * an alias is replaced by its target. `undefined` when this map has no image for it.
 */
export function resolveLabel(
  map: ImageMap,
  runsOn?: string | null,
): { label: string; image: ImageEntry } | undefined {
  const label = resolveRouteLabel(runsOn, map) ?? map.defaultLabel;
  const image = map.images.get(label);
  return image === undefined ? undefined : { label, image };
}

/** Every label a job may ask for here: canonical labels, then aliases (deduplicated, file order). */
export function servedLabels(map: ImageMap): string[] {
  return [...new Set([...map.images.keys(), ...map.aliases.keys()])];
}

/**
 * Expand a source URL: variables everywhere; for `file://`, also `~` and relative paths (against
 * the map's directory), giving a canonical `file:///abs/path` URL.
 */
function expandSource(source: string, expand: (text: string, asPath: boolean) => string): string {
  const fileScheme = /^file:\/\//i;
  if (!fileScheme.test(source)) return expand(source, false);
  const rest = source.replace(fileScheme, "");
  // `file:///abs` and `file://~/x` and `file://${VAR}/x` all name a local path.
  return pathToFileURL(expand(decodeURIComponent(rest), true)).href;
}

/** `qcow2` for a `.qcow2` file, else `raw` (the original's OpenIndiana image is a raw `.img`). */
export function guessFormat(localPath: string): "qcow2" | "raw" {
  return /\.qcow2?$/i.test(localPath) ? "qcow2" : "raw";
}

function issueKeyPath(issue: z.core.$ZodIssue): PropertyKey[] {
  // An unknown key is reported on its parent; name the key itself so its line can be found.
  if (issue.code === "unrecognized_keys" && issue.keys.length > 0) return [...issue.path, issue.keys[0]!];
  return [...issue.path];
}

/** A zod issue in the image map's words: a missing key or an unknown key says so plainly. */
function describeIssue(issue: z.core.$ZodIssue, raw: unknown): string {
  if (issue.code === "unrecognized_keys") {
    return `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}`;
  }
  if (issue.code === "invalid_type" && valueAt(raw, issue.path) === undefined) {
    return `missing required key "${String(issue.path[issue.path.length - 1])}"`;
  }
  return issue.message;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let value = root;
  for (const key of path) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

function formatKeyPath(keyPath: readonly PropertyKey[]): string {
  return keyPath.map((k) => (typeof k === "number" ? `[${k}]` : String(k))).join(".");
}

/**
 * The 1-based line/column for `keyPath`: the value when every key exists and it is a scalar, else
 * the key of the deepest entry found (a missing key is reported where its parent entry starts).
 */
function locateNode(
  root: unknown,
  keyPath: readonly PropertyKey[],
  lineCounter: LineCounter,
  atKey: boolean,
): { line?: number; column?: number } {
  let node: unknown = root;
  let target: Node | undefined;
  let complete = true;
  for (const key of keyPath) {
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(key));
      if (pair === undefined) {
        complete = false;
        break;
      }
      if (isNodeWithRange(pair.key)) target = pair.key;
      node = pair.value;
    } else if (isSeq(node) && typeof key === "number" && node.items[key] !== undefined) {
      node = node.items[key];
      if (isNodeWithRange(node)) target = node;
    } else {
      complete = false;
      break;
    }
  }
  if (complete && !atKey && isScalar(node) && isNodeWithRange(node)) target = node;
  const offset = target?.range?.[0];
  if (offset === undefined) return {};
  const pos = lineCounter.linePos(offset);
  return { line: pos.line, column: pos.col };
}

function isNodeWithRange(value: unknown): value is Node {
  return typeof value === "object" && value !== null && "range" in value;
}

function firstLine(text: string): string {
  return text.split("\n")[0] ?? text;
}

import type { ImageMap } from "@solstice/common";
import { formatBytes } from "@solstice/vm-engine";
import { textTable } from "./text-table.ts";

/** One image of the map as `ciadm images list` shows it. */
export interface ImageRow {
  readonly label: string;
  readonly aliases: readonly string[];
  readonly default: boolean;
  readonly present: boolean;
  /** Bytes on disk of `local_path`, when present. */
  readonly size: number | null;
  readonly localPath: string;
  readonly source: string;
}

/** The rows for a map, given which files exist and their sizes. */
export function imageRows(map: ImageMap, sizes: ReadonlyMap<string, number>): ImageRow[] {
  const defaultLabel = map.aliases.get(map.defaultLabel) ?? map.defaultLabel;
  return [...map.images.values()].map((image) => {
    const size = sizes.get(image.localPath);
    return {
      label: image.label,
      aliases: [...map.aliases].filter(([, target]) => target === image.label).map(([alias]) => alias),
      default: image.label === defaultLabel,
      present: size !== undefined,
      size: size ?? null,
      localPath: image.localPath,
      source: image.source,
    };
  });
}

/** `ciadm images list`: a table of labels, aliases, presence and size. */
export function formatImageTable(rows: readonly ImageRow[]): string {
  return textTable(
    ["LABEL", "ALIASES", "PRESENT", "SIZE", "LOCAL PATH"],
    rows.map((r) => [
      `${r.label}${r.default ? " (default)" : ""}`,
      r.aliases.join(", ") || "-",
      r.present ? "yes" : "no",
      r.size === null ? "-" : formatBytes(r.size),
      r.localPath,
    ]),
  );
}

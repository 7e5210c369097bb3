import type { ImageMap, ImageView } from "@solstice/common";
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
  /**
   * What the orchestrator says of the image: whether it is warm-started and its templates
   * (`null` when the orchestrator could not be asked; `served: false` when it does not serve it).
   */
  readonly orchestrator: { served: boolean; warm_start: boolean; templates: ImageView["templates"] } | null;
}

/** The rows for a map, given which files exist and their sizes. */
export function imageRows(
  map: ImageMap,
  sizes: ReadonlyMap<string, number>,
  served?: readonly ImageView[],
): ImageRow[] {
  const defaultLabel = map.aliases.get(map.defaultLabel) ?? map.defaultLabel;
  return [...map.images.values()].map((image) => {
    const size = sizes.get(image.localPath);
    const view = served?.find((v) => v.label === image.label);
    return {
      label: image.label,
      aliases: [...map.aliases].filter(([, target]) => target === image.label).map(([alias]) => alias),
      default: image.label === defaultLabel,
      present: size !== undefined,
      size: size ?? null,
      localPath: image.localPath,
      source: image.source,
      orchestrator:
        served === undefined
          ? null
          : {
              served: view !== undefined,
              warm_start: view?.warm_start ?? false,
              templates: view?.templates ?? [],
            },
    };
  });
}

/** `ciadm images list`: a table of labels, aliases, presence and size. */
export function formatImageTable(rows: readonly ImageRow[]): string {
  return textTable(
    ["LABEL", "ALIASES", "PRESENT", "SIZE", "WARM", "LOCAL PATH"],
    rows.map((r) => [
      `${r.label}${r.default ? " (default)" : ""}`,
      r.aliases.join(", ") || "-",
      r.present ? "yes" : "no",
      r.size === null ? "-" : formatBytes(r.size),
      warmText(r),
      r.localPath,
    ]),
  );
}

/** The WARM column: the templates' states as the orchestrator reports them. */
export function warmText(row: ImageRow): string {
  const o = row.orchestrator;
  if (o === null) return "?";
  if (!o.served) return "not served";
  if (!o.warm_start) return "off";
  if (o.templates.length === 0) return "no template yet";
  return o.templates
    .map((t) => {
      if (t.state === "ready") return `ready (${t.restores} ${t.restores === 1 ? "restore" : "restores"})`;
      if (t.state === "bad" && t.error !== null) return `bad: ${t.error.slice(0, 60)}`;
      return t.state;
    })
    .join("; ");
}

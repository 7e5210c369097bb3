import type { ImageMap, ImageView } from "@solstice/common";
import type { TemplateView, WarmTemplates } from "@solstice/vm-engine";

// What the HTTP API shows of the images this orchestrator serves and their warm templates, and
// the operator's "(re)build this template now" (`ciadm images warm <label>`). No state here.

/** The images part of the HTTP API (`GET /v1/images`, `POST /v1/images/:label/warm`). */
export interface ImageTemplatesApi {
  /** Every image of the map, with its templates. */
  list(): ImageView[];
  /**
   * Build `label`'s template now (an alias names its image) and resolve with the image's view;
   * `unknown` for a label the map has no image for, `off` when the image is not warm-started.
   */
  warm(label: string): Promise<ImageView | "unknown" | "off">;
}

/** The API over `map` and the engine's warm templates (undefined: warm starts are off). */
export function imageTemplates(map: ImageMap, warm: WarmTemplates | undefined): ImageTemplatesApi {
  const aliasesOf = (label: string): string[] =>
    [...map.aliases].filter(([, target]) => target === label).map(([alias]) => alias);
  const view = (label: string): ImageView => {
    const image = map.images.get(label);
    const on = image !== undefined && warm?.enabled(image) === true;
    return {
      label,
      aliases: aliasesOf(label),
      warm_start: on,
      templates: (warm?.list() ?? []).filter((t) => t.label === label).map(templateView),
    };
  };
  return {
    list: () => [...map.images.keys()].map(view),
    warm: async (wanted) => {
      const label = map.aliases.get(wanted) ?? wanted;
      const image = map.images.get(label);
      if (image === undefined) return "unknown";
      if (warm === undefined || !warm.enabled(image)) return "off";
      await warm.warm(image);
      return view(label);
    },
  };
}

function templateView(t: TemplateView): ImageView["templates"][number] {
  return {
    id: t.id,
    state: t.state,
    cpu: t.cpu,
    ram_mb: t.ramMb,
    disk_gb: t.diskGb,
    built_at: t.builtAt ?? null,
    build_seconds: t.buildSeconds ?? null,
    state_bytes: t.stateBytes ?? null,
    restores: t.restores,
    error: t.error ?? null,
  };
}

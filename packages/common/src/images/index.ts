// The image map: which labels a host serves and where their images come from.

export {
  DEFAULT_SSH_USER,
  guessFormat,
  IMAGE_DEFAULTS,
  type ImageEntry,
  type ImageMap,
  type ImageMapFile,
  imageMapFileSchema,
  loadImageMap,
  type ParseImageMapOptions,
  parseImageMap,
  resolveLabel,
  type SizePreset,
  servedLabels,
} from "./image-map.ts";
export {
  ImageMapError,
  type ImageMapLocation,
  ImageMapReadError,
  UnknownImageLabelError,
} from "./image-map-errors.ts";
export { expandPath, expandVariables, PathExpansionError } from "./path-expansion.ts";

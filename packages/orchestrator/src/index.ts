// --- VM engine building blocks: errors, image catalog and fetch, QMP, seed ISO, SSH keys ---
export {
  ImageChecksumError,
  ImageFetchError,
  ImageMapError,
  type ImageMapLocation,
  ImageMapReadError,
  QmpClosedError,
  QmpCommandError,
  QmpConnectError,
  QmpProtocolError,
  QmpTimeoutError,
  SeedIsoError,
  UnknownImageLabelError,
} from "./errors.ts";
export {
  etaSeconds,
  type FetchProgress,
  formatBytes,
  formatDuration,
  formatProgress,
  logProgress,
  type ProgressLogger,
  type ProgressTerminal,
  progressLogFields,
  RateMeter,
  terminalProgress,
} from "./images/fetch-progress.ts";
export {
  type EnsureImageOptions,
  type EnsureImageResult,
  ensureImage,
  ensureImages,
  isImagePresent,
} from "./images/image-fetch.ts";
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
} from "./images/image-map.ts";
export { expandPath, expandVariables, PathExpansionError } from "./images/path-expansion.ts";
export {
  QmpClient,
  type QmpClientEvents,
  type QmpConnectOptions,
  type QmpExecuteOptions,
  type QmpStatus,
} from "./qmp/qmp-client.ts";
export {
  MAX_QMP_LINE_BYTES,
  parseQmpLine,
  type QmpErrorReply,
  type QmpEvent,
  type QmpGreeting,
  type QmpMessage,
  QmpParser,
  type QmpReturn,
} from "./qmp/qmp-parser.ts";
export {
  JOB_FILE_PATH,
  type JobFileFields,
  renderJobFile,
  renderMetaData,
  renderUserData,
  type UserDataInput,
} from "./seed/cloud-config.ts";
export {
  buildIso9660,
  type IsoFile,
  type IsoOptions,
  levelOneNames,
  SECTOR_SIZE,
} from "./seed/iso9660-writer.ts";
export { buildSeedIso, SEED_VOLUME_ID, type SeedFiles, writeSeedIso } from "./seed/seed-iso.ts";
export {
  type EphemeralKeyPair,
  fingerprintOf,
  formatOpenSshPrivateKey,
  formatPublicKey,
  generateEphemeralKeyPair,
} from "./ssh/ssh-keys.ts";
// --- end VM engine building blocks ---

import { writeFile } from "node:fs/promises";
import { buildIso9660, type IsoFile } from "./iso9660-writer.ts";

// The NoCloud seed: an ISO 9660 volume labelled `cidata` holding `user-data`, `meta-data` and,
// when given, `network-config` (cloud-init's NoCloud datasource looks for exactly these).

/** The seed's files, as text (UTF-8). */
export interface SeedFiles {
  readonly userData: string;
  readonly metaData: string;
  readonly networkConfig?: string | undefined;
}

/** The volume label cloud-init's NoCloud datasource looks for. */
export const SEED_VOLUME_ID = "cidata";

/**
 * Build the seed ISO in memory (a few sectors: the files are small).
 *
 * @example
 *   const iso = buildSeedIso({ userData: renderUserData(...), metaData: renderMetaData(...) });
 */
export function buildSeedIso(files: SeedFiles, options: { date?: Date } = {}): Uint8Array {
  const entries: IsoFile[] = [
    { name: "user-data", data: utf8(files.userData) },
    { name: "meta-data", data: utf8(files.metaData) },
  ];
  if (files.networkConfig !== undefined)
    entries.push({ name: "network-config", data: utf8(files.networkConfig) });
  return buildIso9660({
    volumeId: SEED_VOLUME_ID,
    files: entries,
    ...(options.date === undefined ? {} : { date: options.date }),
  });
}

/**
 * Write the seed ISO to `path` with mode 0600 (it carries the job's details; the VM directory is
 * 0700 anyway). Overwrites an existing file.
 */
export async function writeSeedIso(
  path: string,
  files: SeedFiles,
  options: { date?: Date } = {},
): Promise<void> {
  await writeFile(path, buildSeedIso(files, options), { mode: 0o600 });
}

function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { writeFileAtomic } from "../settings/runner-files.ts";

// The image labels a runner was registered with, beside the reference runner's files (which do
// not keep labels): the daemon runs jobs on them when neither --labels nor --config is given.

/** The file's name in the state directory. */
export const LABELS_FILE = ".solstice-labels";

const LabelsSchema = z.array(z.string().min(1));

/** Writes the labels (0600, atomically). */
export async function writeLabelsFile(stateDir: string, labels: readonly string[]): Promise<void> {
  await writeFileAtomic(join(stateDir, LABELS_FILE), `${JSON.stringify(labels)}\n`);
}

/** The labels, or undefined when the file is missing or not a list of labels. */
export async function readLabelsFile(stateDir: string): Promise<string[] | undefined> {
  try {
    const parsed = LabelsSchema.safeParse(JSON.parse(await readFile(join(stateDir, LABELS_FILE), "utf8")));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

import { loadImageMap, servedLabels } from "@solstice/common";
import { NoRunnerLabelsError } from "../errors.ts";
import { parseRunnerLabels, type RunnerLabel } from "./runner-labels.ts";

// Which labels the runner offers: `--labels` when given; else every label and alias of the
// orchestrator image map (what the fleet can run); else, for the daemon, what was registered.

/** Where labels come from, in order. */
export interface LabelSources {
  readonly flag: string | undefined;
  readonly imageMap: string | undefined;
  /** The state file's labels (daemon only). */
  readonly registered?: readonly string[];
  /** How users pass labels to this runner, for the error: e.g. `--labels (FORGEJO_RUNNER_LABELS)`. */
  readonly flagHint: string;
}

/** The labels and where they came from; throws when no source has any. */
export async function resolveRunnerLabels(
  sources: LabelSources,
): Promise<{ labels: RunnerLabel[]; from: string }> {
  if (sources.flag !== undefined && sources.flag.trim() !== "") {
    return { labels: parseRunnerLabels(sources.flag), from: "--labels" };
  }
  if (sources.imageMap !== undefined && sources.imageMap !== "") {
    const map = await loadImageMap(sources.imageMap);
    return { labels: parseRunnerLabels(servedLabels(map)), from: sources.imageMap };
  }
  if (sources.registered !== undefined && sources.registered.length > 0) {
    return { labels: parseRunnerLabels(sources.registered), from: "the state file" };
  }
  throw new NoRunnerLabelsError(sources.flagHint);
}

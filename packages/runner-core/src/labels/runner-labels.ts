import { RunnerLabelError } from "../errors.ts";

// Runner labels as the Forgejo runner writes them: `name[:scheme[:arg]]`. A forge only ever sees
// the names (it matches a job's `runs-on` against them); the scheme is the runner's own business
// (for Solstice every label runs in a VM of the image of that name, so a scheme is optional and
// ignored). Names are what a workflow writes in `runs-on`.

/** One label. */
export interface RunnerLabel {
  readonly name: string;
  readonly scheme: string | undefined;
  readonly arg: string | undefined;
}

/** Parses one label. Throws `RunnerLabelError` for an empty name or one with spaces or commas. */
export function parseRunnerLabel(text: string): RunnerLabel {
  const trimmed = text.trim();
  const [name = "", scheme, ...rest] = trimmed.split(":");
  if (name === "") throw new RunnerLabelError(text, "the name is empty");
  if (/[\s,]/.test(name)) throw new RunnerLabelError(text, "the name must not contain spaces or commas");
  return {
    name,
    scheme: scheme === "" ? undefined : scheme,
    arg: rest.length === 0 ? undefined : rest.join(":"),
  };
}

/**
 * A comma-separated list (flag or environment) → labels, duplicates (by name) dropped.
 *
 * @example
 *   parseRunnerLabels("omnios-bloody, ubuntu-24.04:solstice").map((l) => l.name);
 *   // ["omnios-bloody", "ubuntu-24.04"]
 */
export function parseRunnerLabels(text: string | readonly string[]): RunnerLabel[] {
  const items = typeof text === "string" ? text.split(",") : text;
  const seen = new Set<string>();
  const labels: RunnerLabel[] = [];
  for (const item of items) {
    if (item.trim() === "") continue;
    const label = parseRunnerLabel(item);
    if (seen.has(label.name)) continue;
    seen.add(label.name);
    labels.push(label);
  }
  return labels;
}

/** The names the forge gets (Forgejo's Register and Declare, GitHub's registration). */
export function labelNames(labels: readonly RunnerLabel[]): string[] {
  return labels.map((label) => label.name);
}

/** A label as stored in the state file. */
export function formatRunnerLabel(label: RunnerLabel): string {
  return [label.name, label.scheme, label.arg].filter((part) => part !== undefined).join(":");
}

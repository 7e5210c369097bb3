import { readdir, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { WorkflowFormatError, WorkflowNotFoundError } from "../errors.ts";

/** The two workflow formats cidev reads. */
export type WorkflowFormat = "kdl" | "actions";

/**
 * The format of a workflow file, by its name: `*.kdl` is Solstice's KDL workflow
 * (`.solstice/workflow.kdl`); `*.yml`/`*.yaml` an Actions workflow (`.github/workflows/`,
 * `.forgejo/workflows/`, or a Forgejo task payload saved to a file).
 *
 * @throws WorkflowFormatError for any other name.
 */
export function workflowFormat(file: string): WorkflowFormat {
  const name = basename(file).toLowerCase();
  if (name.endsWith(".kdl")) return "kdl";
  if (name.endsWith(".yml") || name.endsWith(".yaml")) return "actions";
  throw new WorkflowFormatError(file);
}

/** Where a repository keeps its workflows, in the order cidev looks. */
const WORKFLOW_DIRS = [".forgejo/workflows", ".github/workflows"] as const;
const KDL_WORKFLOW = join(".solstice", "workflow.kdl");

/**
 * The workflow file a command argument names: the file itself, or, for a directory (a
 * repository, e.g. `examples/hello`), its `.solstice/workflow.kdl`, else its only Actions
 * workflow.
 *
 * @throws WorkflowNotFoundError for a directory with no workflow or several Actions workflows.
 */
export async function resolveWorkflowPath(path: string): Promise<string> {
  const info = await stat(path).catch(() => undefined);
  if (info === undefined || !info.isDirectory()) return path;
  const kdl = join(path, KDL_WORKFLOW);
  if ((await stat(kdl).catch(() => undefined))?.isFile() === true) return kdl;
  const candidates: string[] = [];
  for (const dir of WORKFLOW_DIRS) {
    const names = await readdir(join(path, dir)).catch(() => [] as string[]);
    for (const name of names.sort()) {
      if (/\.ya?ml$/i.test(name)) candidates.push(join(path, dir, name));
    }
  }
  if (candidates.length === 1) return candidates[0]!;
  throw new WorkflowNotFoundError(path, candidates);
}

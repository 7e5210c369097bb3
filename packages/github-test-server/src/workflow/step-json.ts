import { randomUUID } from "node:crypto";
import { isString } from "@actions/workflow-parser/templates/tokens/type-guards";
import type { DecodedScalars } from "@solstice/common";
import { TestWorkflowError } from "../errors.ts";
import { mappingJson, type TokenJson, tokenToJson } from "./template-token-json.ts";
import type { StepSource } from "./workflow-job.ts";

// A workflow step as a job message step (an ActionStep): `type` "action", a `reference` naming
// what runs (`script`, `repository`, `containerRegistry`: lower-case names on the wire), and the
// step's parts as template tokens for the runner to evaluate. A `run` step's inputs are the
// mapping `script`/`shell`/`workingDirectory`; a `uses` step's inputs are its `with:` mapping.

/** A message step. */
export type StepJson = Record<string, unknown> & { readonly id: string; readonly contextName: string };

/** The reference of `uses: …`. */
export function usesReference(uses: string, file: string): Record<string, string> {
  if (uses.startsWith("docker://")) return { type: "containerRegistry", image: uses.slice(9) };
  if (uses.startsWith("./") || uses.startsWith(".\\"))
    return { type: "repository", repositoryType: "self", path: uses };
  const at = uses.lastIndexOf("@");
  if (at <= 0) throw new TestWorkflowError(file, `uses: ${uses} needs @ref`);
  const [owner, repo, ...path] = uses.slice(0, at).split("/");
  if (owner === undefined || repo === undefined)
    throw new TestWorkflowError(file, `uses: ${uses} is not owner/repo@ref`);
  const reference: Record<string, string> = {
    type: "repository",
    name: `${owner}/${repo}`,
    ref: uses.slice(at + 1),
    repositoryType: "GitHub",
  };
  if (path.length > 0) reference.path = path.join("/");
  return reference;
}

/** The message step of a workflow step. */
export function stepJson(source: StepSource, file: string, decoded?: DecodedScalars): StepJson {
  const token = source.token;
  const toJson = (value: Parameters<typeof tokenToJson>[0]) => tokenToJson(value, decoded);
  const run = token.find("run");
  const uses = token.find("uses");
  let reference: Record<string, string>;
  let inputs: TokenJson | undefined;
  if (run !== undefined) {
    reference = { type: "script" };
    const entries: [string, TokenJson][] = [["script", toJson(run)]];
    const shell = token.find("shell");
    const workingDirectory = token.find("working-directory");
    if (shell !== undefined) entries.push(["shell", toJson(shell)]);
    if (workingDirectory !== undefined) entries.push(["workingDirectory", toJson(workingDirectory)]);
    inputs = mappingJson(entries);
  } else if (uses !== undefined && isString(uses)) {
    reference = usesReference(uses.value, file);
    const withToken = token.find("with");
    inputs = withToken === undefined ? undefined : toJson(withToken);
  } else {
    throw new TestWorkflowError(file, `step ${source.contextName} has neither run nor uses`);
  }
  const step: Record<string, unknown> = {
    type: "action",
    reference,
    id: randomUUID(),
    name: source.contextName,
    contextName: source.contextName,
    condition: source.condition,
  };
  const optional: [string, string][] = [
    ["name", "displayNameToken"],
    ["env", "environment"],
    ["timeout-minutes", "timeoutInMinutes"],
    ["continue-on-error", "continueOnError"],
  ];
  for (const [key, field] of optional) {
    const value = token.find(key);
    if (value !== undefined) step[field] = toJson(value);
  }
  if (inputs !== undefined) step.inputs = inputs;
  return step as StepJson;
}

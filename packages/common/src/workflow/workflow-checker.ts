import {
  WorkflowDuplicateJobError,
  WorkflowEmptyError,
  type WorkflowError,
  WorkflowMissingPropertyError,
  WorkflowNoRootError,
  WorkflowTypeError,
  WorkflowUnknownError,
  WorkflowValueError,
} from "../errors.ts";
import type { KdlDocument, KdlNode, KdlValue, NodePositions } from "./kdl-document.ts";
import { type KdlVersion, kdlKeyword } from "./kdl-version.ts";
import type { SourceLocation, Workflow, WorkflowJob, WorkflowStep } from "./workflow-types.ts";

// The workflow format on top of KDL: which nodes and properties there are, of which types. It
// reads the same node tree for KDL 1 and KDL 2 files, so both give the same `Workflow`; only the
// way messages spell `true`/`false`/`null` follows the file's version.

// Likely misspellings (Actions YAML habits, KDL 1 dashes) and the property they mean.
const PROPERTY_SUGGESTIONS: Record<string, string> = {
  command: "run",
  script: "run",
  cmd: "run",
  runs: "run",
  timeout_minutes: "timeout (in seconds)",
  timeout_seconds: "timeout (in seconds)",
  cwd: "working_directory",
  workdir: "working_directory",
  label: "runs_on",
  image: "runs_on",
};

// What a node's first argument most likely meant, for the hint.
const ARGUMENT_MEANT_AS: Record<string, string> = { workflow: "name", job: "id", step: "run" };

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function describeValue(value: KdlValue, version: KdlVersion): string {
  if (typeof value === "string")
    return `a string (${JSON.stringify(value.length > 30 ? `${value.slice(0, 30)}…` : value)})`;
  if (typeof value === "number") return `a number (${value})`;
  return kdlKeyword(value, version);
}

function suggestion(key: string, allowed: readonly string[]): string | undefined {
  const normalised = key.toLowerCase().replaceAll("-", "_");
  if (normalised !== key && allowed.includes(normalised)) return normalised;
  const mapped = PROPERTY_SUGGESTIONS[normalised];
  if (mapped !== undefined && allowed.includes(mapped.split(" ")[0]!)) return mapped;
  return undefined;
}

/** Pairs kdljs's child nodes with their positions; falls back to the parent's place if unsure. */
function childPositions(node: KdlNode, pos: NodePositions): NodePositions[] {
  const aligned =
    pos.children.length === node.children.length &&
    pos.children.every((c, i) => c.name === node.children[i]?.name);
  return node.children.map((_, i) =>
    aligned
      ? pos.children[i]!
      : { name: "", location: pos.location, properties: new Map(), values: [], children: [] },
  );
}

/** Validates the KDL tree of one workflow, collecting every error. */
class WorkflowChecker {
  readonly #file: string;
  readonly #version: KdlVersion;
  readonly errors: WorkflowError[] = [];

  constructor(file: string, version: KdlVersion) {
    this.#file = file;
    this.#version = version;
  }

  #describe(value: KdlValue): string {
    return describeValue(value, this.#version);
  }

  #at(location: SourceLocation) {
    return { file: this.#file, line: location.line, column: location.column };
  }

  #propAt(pos: NodePositions, key: string): SourceLocation {
    return pos.properties.get(key) ?? pos.location;
  }

  /** Reports arguments, unknown properties and unknown child nodes of a node. */
  #checkShape(
    node: KdlNode,
    pos: NodePositions,
    allowedProps: readonly string[],
    allowedChildren: readonly string[],
  ): void {
    node.values.forEach((value, i) => {
      const shown = typeof value === "string" ? JSON.stringify(value) : this.#describe(value);
      const property = ARGUMENT_MEANT_AS[node.name];
      const hint =
        property !== undefined && i === 0 && typeof value === "string"
          ? `give it as a property: ${property}=${shown}`
          : 'values are given as properties, key="value"; a value with spaces needs quotes: run="cargo test"';
      this.errors.push(
        new WorkflowUnknownError(
          this.#at(pos.values[i] ?? pos.location),
          `unexpected argument ${shown} on \`${node.name}\``,
          hint,
        ),
      );
    });
    for (const key of Object.keys(node.properties)) {
      if (allowedProps.includes(key)) continue;
      const better = suggestion(key, allowedProps);
      const known = allowedProps.length > 0 ? allowedProps.map((p) => `\`${p}\``).join(", ") : "none";
      this.errors.push(
        new WorkflowUnknownError(
          this.#at(this.#propAt(pos, key)),
          `unknown property \`${key}\` on \`${node.name}\`` +
            (better !== undefined ? `; did you mean \`${better}\`?` : ""),
          `\`${node.name}\` takes: ${known}`,
        ),
      );
    }
    const childPos = childPositions(node, pos);
    node.children.forEach((child, i) => {
      if (allowedChildren.includes(child.name)) return;
      const where = childPos[i]!.location;
      const hint =
        child.name === "step" && node.name === "workflow"
          ? 'steps go inside a job: job id="build" { step run="..." }'
          : allowedChildren.length > 0
            ? `\`${node.name}\` holds: ${allowedChildren.map((c) => `\`${c}\``).join(", ")}`
            : `\`${node.name}\` has no child nodes`;
      this.errors.push(
        new WorkflowUnknownError(
          this.#at(where),
          `unexpected node \`${child.name}\` in \`${node.name}\``,
          hint,
        ),
      );
    });
  }

  #string(
    node: KdlNode,
    pos: NodePositions,
    key: string,
    options: { nonEmpty?: boolean } = {},
  ): string | undefined {
    if (!Object.hasOwn(node.properties, key)) return undefined;
    const value = node.properties[key] as KdlValue;
    const at = this.#at(this.#propAt(pos, key));
    if (typeof value !== "string") {
      const hint = typeof value === "number" ? `quote it: ${key}="${value}"` : undefined;
      this.errors.push(new WorkflowTypeError(at, key, "a string", this.#describe(value), hint));
      return undefined;
    }
    if (options.nonEmpty === true && value.trim() === "") {
      this.errors.push(
        new WorkflowValueError(
          at,
          key,
          `\`${key}\` must not be empty`,
          "give it a value, or leave the property out",
        ),
      );
      return undefined;
    }
    return value;
  }

  #boolean(node: KdlNode, pos: NodePositions, key: string): boolean | undefined {
    if (!Object.hasOwn(node.properties, key)) return undefined;
    const value = node.properties[key] as KdlValue;
    if (typeof value === "boolean") return value;
    const hint =
      value !== "true" && value !== "false"
        ? undefined
        : this.#version === 2
          ? `write ${key}=#${value} (KDL 2 booleans)`
          : `drop the quotes: ${key}=${value}`;
    this.errors.push(
      new WorkflowTypeError(
        this.#at(this.#propAt(pos, key)),
        key,
        `${kdlKeyword(true, this.#version)} or ${kdlKeyword(false, this.#version)}`,
        this.#describe(value),
        hint,
      ),
    );
    return undefined;
  }

  #seconds(node: KdlNode, pos: NodePositions, key: string): number | undefined {
    if (!Object.hasOwn(node.properties, key)) return undefined;
    const value = node.properties[key] as KdlValue;
    const at = this.#at(this.#propAt(pos, key));
    if (typeof value !== "number") {
      const hint =
        typeof value === "string" && /^\d+$/.test(value) ? `drop the quotes: ${key}=${value}` : undefined;
      this.errors.push(
        new WorkflowTypeError(at, key, "a whole number of seconds", this.#describe(value), hint),
      );
      return undefined;
    }
    if (!Number.isInteger(value) || value <= 0) {
      this.errors.push(
        new WorkflowValueError(
          at,
          key,
          `\`${key}\` must be a whole number of seconds above 0, not ${value}`,
          `for example ${key}=600 (ten minutes)`,
        ),
      );
      return undefined;
    }
    return value;
  }

  /** Merges the `env` child nodes of a job or step (later ones win). */
  #env(node: KdlNode, pos: NodePositions): Record<string, string> {
    const env: Record<string, string> = {};
    const childPos = childPositions(node, pos);
    node.children.forEach((child, i) => {
      if (child.name !== "env") return;
      const envPos = childPos[i]!;
      this.#checkShape(child, envPos, Object.keys(child.properties), []);
      for (const [name, value] of Object.entries(child.properties)) {
        const at = this.#at(this.#propAt(envPos, name));
        if (!ENV_NAME.test(name)) {
          this.errors.push(
            new WorkflowValueError(
              at,
              name,
              `\`${name}\` is not a valid environment variable name`,
              "use letters, digits and _, not starting with a digit",
            ),
          );
        } else if (typeof value !== "string") {
          this.errors.push(
            new WorkflowTypeError(
              at,
              name,
              "a string",
              this.#describe(value),
              `quote it: ${name}="${String(value)}"`,
            ),
          );
        } else {
          env[name] = value;
        }
      }
    });
    return env;
  }

  #step(node: KdlNode, pos: NodePositions): WorkflowStep | undefined {
    this.#checkShape(
      node,
      pos,
      ["run", "name", "shell", "working_directory", "timeout", "continue_on_error", "if"],
      ["env"],
    );
    const errorsBefore = this.errors.length;
    if (!Object.hasOwn(node.properties, "run")) {
      this.errors.push(
        new WorkflowMissingPropertyError(
          this.#at(pos.location),
          "step",
          "run",
          'give the step its command: step name="Test" run="make test"',
        ),
      );
    }
    const step: WorkflowStep = {
      name: this.#string(node, pos, "name"),
      run: this.#string(node, pos, "run", { nonEmpty: true }) ?? "",
      env: this.#env(node, pos),
      shell: this.#string(node, pos, "shell", { nonEmpty: true }),
      working_directory: this.#string(node, pos, "working_directory", { nonEmpty: true }),
      timeout_seconds: this.#seconds(node, pos, "timeout"),
      continue_on_error: this.#boolean(node, pos, "continue_on_error"),
      if: this.#string(node, pos, "if", { nonEmpty: true }),
      location: pos.location,
    };
    return this.errors.length === errorsBefore ? step : undefined;
  }

  #job(node: KdlNode, pos: NodePositions, seen: Map<string, SourceLocation>): WorkflowJob | undefined {
    this.#checkShape(node, pos, ["id", "runs_on", "timeout", "debug_ssh"], ["step", "env"]);
    const errorsBefore = this.errors.length;
    if (!Object.hasOwn(node.properties, "id")) {
      this.errors.push(
        new WorkflowMissingPropertyError(
          this.#at(pos.location),
          "job",
          "id",
          'give the job a unique id: job id="build" { ... }',
        ),
      );
    }
    const id = this.#string(node, pos, "id", { nonEmpty: true });
    if (id !== undefined) {
      const first = seen.get(id);
      if (first !== undefined) {
        this.errors.push(new WorkflowDuplicateJobError(this.#at(this.#propAt(pos, "id")), id, first));
      } else {
        seen.set(id, this.#propAt(pos, "id"));
      }
    }
    const runsOn = this.#string(node, pos, "runs_on", { nonEmpty: true });
    const timeout = this.#seconds(node, pos, "timeout");
    const debugSsh = this.#boolean(node, pos, "debug_ssh");
    const env = this.#env(node, pos);
    const childPos = childPositions(node, pos);
    const steps: WorkflowStep[] = [];
    node.children.forEach((child, i) => {
      if (child.name !== "step") return;
      const step = this.#step(child, childPos[i]!);
      if (step !== undefined) steps.push(step);
    });
    if (!node.children.some((c) => c.name === "step")) {
      this.errors.push(
        new WorkflowEmptyError(
          this.#at(pos.location),
          id === undefined ? "job has no steps" : `job "${id}" has no steps`,
          'add at least one step: step run="..."',
        ),
      );
    }
    if (this.errors.length !== errorsBefore || id === undefined) return undefined;
    return {
      id,
      runs_on: runsOn,
      env,
      timeout_seconds: timeout,
      debug_ssh: debugSsh,
      steps,
      location: pos.location,
    };
  }

  /** Checks the whole document; returns the workflow when nothing was wrong. */
  document(doc: readonly KdlNode[], positions: readonly NodePositions[]): Workflow | undefined {
    const aligned = positions.length === doc.length;
    const posOf = (i: number): NodePositions =>
      (aligned ? positions[i] : undefined) ?? {
        name: "",
        location: { line: 1, column: 1 },
        properties: new Map(),
        values: [],
        children: [],
      };
    const rootIndex = doc.findIndex((n) => n.name === "workflow");
    if (rootIndex < 0) {
      const first = doc[0];
      this.errors.push(
        new WorkflowNoRootError(
          this.#at(first === undefined ? { line: 1, column: 1 } : posOf(0).location),
          first === undefined
            ? "no `workflow` root node (the file is empty)"
            : `no \`workflow\` root node (found \`${first.name}\`)`,
        ),
      );
      return undefined;
    }
    doc.forEach((node, i) => {
      if (i === rootIndex) return;
      const detail =
        node.name === "workflow"
          ? "a second `workflow` root node (one workflow per file)"
          : `unexpected top-level node \`${node.name}\``;
      this.errors.push(
        new WorkflowUnknownError(
          this.#at(posOf(i).location),
          detail,
          "everything goes inside the one `workflow { }` node",
        ),
      );
    });
    const root = doc[rootIndex]!;
    const rootPos = posOf(rootIndex);
    this.#checkShape(root, rootPos, ["name"], ["job"]);
    const name = this.#string(root, rootPos, "name");
    const childPos = childPositions(root, rootPos);
    const jobs: WorkflowJob[] = [];
    const seen = new Map<string, SourceLocation>();
    root.children.forEach((child, i) => {
      if (child.name !== "job") return;
      const job = this.#job(child, childPos[i]!, seen);
      if (job !== undefined) jobs.push(job);
    });
    if (!root.children.some((c) => c.name === "job")) {
      this.errors.push(
        new WorkflowEmptyError(
          this.#at(rootPos.location),
          "workflow has no jobs",
          'add a job: job id="build" { step run="..." }',
        ),
      );
    }
    if (this.errors.length > 0) return undefined;
    return { name, jobs, jobsById: new Map(jobs.map((j) => [j.id, j])), file: this.#file };
  }
}

/** What checking a KDL document as a workflow found: the workflow when valid, else every error. */
export interface WorkflowCheck {
  readonly workflow: Workflow | undefined;
  /** In the order found (not sorted). */
  readonly errors: readonly WorkflowError[];
}

/** Checks a parsed KDL document (either version) as the workflow of `file`. */
export function checkWorkflowDocument(document: KdlDocument, file: string): WorkflowCheck {
  const checker = new WorkflowChecker(file, document.version);
  const workflow = checker.document(document.nodes, document.positions);
  return { workflow, errors: checker.errors };
}

import type { SourceLocation } from "../workflow/workflow-types.ts";

// The parsed form of an Actions workflow (GitHub or Forgejo), as plain immutable data: what
// `@actions/workflow-parser` read, with every value that may hold `${{ }}` kept as an
// `ActionsValue` to evaluate later against the job's contexts.

/** One part of a string with embedded expressions: literal text, or an expression (no `${{ }}`). */
export type TemplatePart = string | { readonly expression: string };

/**
 * A value from the workflow file, before evaluation. `template` is a string with embedded
 * `${{ }}` (`echo ${{ matrix.os }}`); `expression` is a value that is one `${{ }}` whole, which
 * may evaluate to any type (`${{ fromJSON(x) }}`, `${{ 3 }}`).
 */
export type ActionsValue =
  | {
      readonly kind: "literal";
      readonly value: string | number | boolean | null;
      readonly at: SourceLocation;
    }
  | { readonly kind: "template"; readonly parts: readonly TemplatePart[]; readonly at: SourceLocation }
  | { readonly kind: "expression"; readonly expression: string; readonly at: SourceLocation }
  | { readonly kind: "sequence"; readonly items: readonly ActionsValue[]; readonly at: SourceLocation }
  | {
      readonly kind: "mapping";
      readonly entries: readonly (readonly [key: string, value: ActionsValue])[];
      readonly at: SourceLocation;
    };

/** `defaults.run` of a workflow or a job. */
export interface ActionsRunDefaults {
  readonly shell: ActionsValue | undefined;
  readonly workingDirectory: ActionsValue | undefined;
}

/** One step of a job, in file order. */
export interface ActionsStep {
  /** 0-based position in the job: the forge reports steps by this index. */
  readonly index: number;
  /** The `id` the file gives (for `steps.<id>`); undefined when none. */
  readonly id: string | undefined;
  readonly name: ActionsValue | undefined;
  /** The condition, without `${{ }}`; `success() && (…)` added when it has no status function. */
  readonly if: string;
  /** The script of a `run` step. */
  readonly run: ActionsValue | undefined;
  /** The action of a `uses` step, e.g. `actions/checkout@v4`. */
  readonly uses: string | undefined;
  /** `with:` inputs of a `uses` step. */
  readonly with: ActionsValue | undefined;
  readonly env: ActionsValue | undefined;
  readonly shell: ActionsValue | undefined;
  readonly workingDirectory: ActionsValue | undefined;
  readonly timeoutMinutes: ActionsValue | undefined;
  readonly continueOnError: ActionsValue | undefined;
  /** Where the step's mapping starts. */
  readonly at: SourceLocation;
}

/** One job of a workflow. */
export interface ActionsJob {
  readonly id: string;
  /** `name:`, when given (it may hold expressions, e.g. over `matrix`). */
  readonly name: ActionsValue | undefined;
  readonly needs: readonly string[];
  /** The job's condition, as for steps. */
  readonly if: string;
  readonly runsOn: ActionsValue | undefined;
  readonly env: ActionsValue | undefined;
  readonly defaults: ActionsRunDefaults;
  readonly timeoutMinutes: ActionsValue | undefined;
  readonly continueOnError: ActionsValue | undefined;
  readonly strategy: ActionsValue | undefined;
  readonly outputs: ActionsValue | undefined;
  /** `container:` (not supported: jobs run in a VM of the `runs-on` image). */
  readonly container: ActionsValue | undefined;
  /** `services:` (not supported). */
  readonly services: ActionsValue | undefined;
  /** The reusable workflow a job calls (`jobs.<id>.uses`; not supported). */
  readonly uses: string | undefined;
  readonly steps: readonly ActionsStep[];
  /** Where the job's key is. */
  readonly at: SourceLocation;
}

/** A parsed `.github/workflows/*.yml`, `.forgejo/workflows/*.yml`, or a Forgejo task's payload. */
export interface ActionsWorkflow {
  /** The file name used in messages. */
  readonly file: string;
  /** `name:` when given as plain text. */
  readonly name: string | undefined;
  /** Event names under `on:` (`push`, `pull_request`…). */
  readonly events: readonly string[];
  readonly env: ActionsValue | undefined;
  readonly defaults: ActionsRunDefaults;
  /** Jobs in file order. */
  readonly jobs: readonly ActionsJob[];
}

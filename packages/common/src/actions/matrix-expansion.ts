import type { data } from "@actions/expressions";
import type { ActionsValue } from "./actions-workflow.ts";
import { evaluateValue } from "./evaluate-value.ts";
import { isJsonObject, type JsonValue } from "./expression-data.ts";
import { ExpressionFailure } from "./expression-evaluator.ts";
import { mappingEntry } from "./template-values.ts";

// `strategy.matrix` → the list of combinations, by GitHub's rules: the cartesian product of the
// dimensions (first key outermost), minus `exclude` (partial matches), then each `include` entry
// is added to every original combination whose original keys it matches (never overwriting an
// original value, but overwriting values added by earlier entries), or else becomes a
// combination of its own. A Forgejo task has this done already: one value per dimension.

/** One matrix combination: the `matrix` context of one job. */
export type MatrixCombination = Record<string, JsonValue>;

function sameJson(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The combinations of a job's matrix; `[{}]` without a matrix. `contexts` are those `strategy`
 * may read (github, needs, vars, inputs).
 *
 * @example
 *   expandMatrix(job.strategy, contexts); // [{ os: "omnios", v: 1 }, { os: "omnios", v: 2 }]
 */
export function expandMatrix(
  strategy: ActionsValue | undefined,
  contexts: data.Dictionary,
): MatrixCombination[] | ExpressionFailure {
  const matrixValue = mappingEntry(strategy, "matrix");
  if (matrixValue === undefined) return [{}];
  const matrix = evaluateValue(matrixValue, contexts);
  if (matrix instanceof ExpressionFailure) return matrix;
  if (!isJsonObject(matrix)) return new ExpressionFailure("strategy.matrix must be a mapping");

  const dimensions: [string, readonly JsonValue[]][] = [];
  for (const [key, values] of Object.entries(matrix)) {
    if (key === "include" || key === "exclude") continue;
    if (!Array.isArray(values)) return new ExpressionFailure(`strategy.matrix.${key} must be a list`);
    dimensions.push([key, values]);
  }
  let combinations: MatrixCombination[] = dimensions.length === 0 ? [] : [{}];
  for (const [key, values] of dimensions) {
    combinations = combinations.flatMap((combination) =>
      values.map((value) => ({ ...combination, [key]: value })),
    );
  }

  const exclude = matrix["exclude"] ?? [];
  const include = matrix["include"] ?? [];
  if (!Array.isArray(exclude) || !exclude.every(isJsonObject)) {
    return new ExpressionFailure("strategy.matrix.exclude must be a list of mappings");
  }
  if (!Array.isArray(include) || !include.every(isJsonObject)) {
    return new ExpressionFailure("strategy.matrix.include must be a list of mappings");
  }
  combinations = combinations.filter(
    (combination) =>
      !exclude.some((entry) =>
        Object.entries(entry).every(([key, value]) => sameJson(combination[key], value)),
      ),
  );

  const originalKeys = new Set(dimensions.map(([key]) => key));
  const originals = combinations.map((combination) => ({ ...combination }));
  const added: MatrixCombination[] = [];
  for (const entry of include) {
    let matched = false;
    for (const [index, original] of originals.entries()) {
      const fits = Object.entries(entry).every(
        ([key, value]) => !originalKeys.has(key) || sameJson(original[key], value),
      );
      if (!fits) continue;
      matched = true;
      const combination = combinations[index]!;
      for (const [key, value] of Object.entries(entry)) {
        if (!originalKeys.has(key)) combination[key] = value;
      }
    }
    if (!matched) added.push({ ...entry });
  }
  return [...combinations, ...added];
}

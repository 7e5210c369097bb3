import { compareBytes, goDeepEqual, goSprint } from "./go-formatting.ts";

// The matrix expansion Forgejo does when it stores a run (the runner's act/model Job.GetMatrixes,
// then act/jobparser getMatrixes): the cross product of the lists, minus `exclude`, with
// `include` entries merged into the rows they match or added as rows of their own; the rows
// sorted by their name `(v1, v2)`.

/** One row of a job's matrix: key → value. */
export type MatrixRow = Record<string, unknown>;

/** The rows of a matrix, or why the matrix is invalid. */
export type MatrixExpansion = { readonly rows: MatrixRow[] } | { readonly error: string };

/**
 * The rows of a `strategy.matrix` value, sorted as Forgejo sorts them. A job without a matrix
 * (or whose matrix is not a mapping, e.g. an unevaluated `${{ fromJSON(...) }}`) has one empty
 * row. An `exclude` naming a key the matrix lacks is an error, as on GitHub.
 */
export function expandMatrix(rawMatrix: unknown): MatrixExpansion {
  if (rawMatrix === null || typeof rawMatrix !== "object" || Array.isArray(rawMatrix)) return { rows: [{}] };
  const m = new Map<string, unknown[]>();
  for (const [key, value] of Object.entries(rawMatrix as Record<string, unknown>)) {
    // act decodes the matrix as map[string][]any: a key whose value is not a list spoils the
    // whole decode, and the job then has no matrix.
    if (!Array.isArray(value)) return { rows: [{}] };
    m.set(key, value);
  }

  const includes: MatrixRow[] = [];
  const extraIncludes: MatrixRow[] = [];
  for (const entry of m.get("include") ?? []) {
    for (const include of Array.isArray(entry) ? entry : [entry]) {
      if (include === null || typeof include !== "object") continue;
      const row = include as MatrixRow;
      if (Object.keys(row).some((k) => m.has(k))) includes.push(row);
      else extraIncludes.push(row);
    }
  }
  m.delete("include");

  const excludes: MatrixRow[] = [];
  for (const entry of m.get("exclude") ?? []) {
    if (entry === null || typeof entry !== "object") continue;
    for (const key of Object.keys(entry)) {
      if (!m.has(key)) {
        return {
          error: `the workflow is not valid. Matrix exclude key "${key}" does not match any key within the matrix`,
        };
      }
    }
    excludes.push(entry as MatrixRow);
  }
  m.delete("exclude");

  const rows = cartesianProduct(m).filter(
    (row) => !excludes.some((exclude) => commonKeysMatch(row, exclude)),
  );
  for (const include of includes) {
    let matched = false;
    for (const row of rows) {
      if (includeMatches(row, include, m)) {
        matched = true;
        Object.assign(row, include);
      }
    }
    if (!matched) extraIncludes.push(include);
  }
  rows.push(...extraIncludes.map((row) => ({ ...row })));
  return { rows: rows.sort((a, b) => compareBytes(matrixName(a), matrixName(b))) };
}

/** `(v1, v2)`: the row's values in the order of their sorted keys, as Forgejo names matrix jobs. */
export function matrixName(row: MatrixRow): string {
  const keys = Object.keys(row).sort(compareBytes);
  return `(${keys.map((k) => goSprint(row[k])).join(", ")})`;
}

/** The job's display name for a row: `id (v1, v2)`, or just `id` without a matrix. */
export function nameWithMatrix(name: string, row: MatrixRow): string {
  return Object.keys(row).length === 0 ? name : `${name} ${matrixName(row)}`;
}

function cartesianProduct(lists: ReadonlyMap<string, readonly unknown[]>): MatrixRow[] {
  // Go's cartN returns nothing for no lists or an empty list.
  if (lists.size === 0) return [];
  let rows: MatrixRow[] = [{}];
  for (const [key, values] of lists) {
    rows = rows.flatMap((row) => values.map((value) => ({ ...row, [key]: value })));
  }
  return rows;
}

/** act's commonKeysMatch: every key of `a` that `b` has holds the same value. */
function commonKeysMatch(a: MatrixRow, b: MatrixRow): boolean {
  return Object.entries(a).every(([k, v]) => !Object.hasOwn(b, k) || goDeepEqual(v, b[k]));
}

/** act's commonKeysMatch2: the same, over the matrix's own keys only. */
function includeMatches(row: MatrixRow, include: MatrixRow, m: ReadonlyMap<string, unknown>): boolean {
  return Object.entries(row).every(
    ([k, v]) => !m.has(k) || !Object.hasOwn(include, k) || goDeepEqual(v, include[k]),
  );
}

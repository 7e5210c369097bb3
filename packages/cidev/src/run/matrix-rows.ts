import { EXIT_USAGE } from "@solstice/cli-kit";
import type { MatrixCombination } from "@solstice/common";
import { CidevError } from "../errors.ts";

// `cidev run --matrix key=value`: which rows of a job's matrix to run. Without filters every row
// runs (as act does); each filter keeps the rows whose value for the key reads the same as text
// (`--matrix node=20` matches 20 and "20"). Pure.

/** A matrix value as `--matrix` compares it and as the output shows it. */
export function matrixValueText(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

/** `os=omnios, v=2`; empty for a job without a matrix. */
export function matrixRowText(row: MatrixCombination): string {
  return Object.entries(row)
    .map(([key, value]) => `${key}=${matrixValueText(value)}`)
    .join(", ");
}

/** The `--matrix` filters match no row of the job's matrix, or name a key it does not have. */
export class MatrixSelectionError extends CidevError {
  readonly jobId: string;

  constructor(jobId: string, message: string, rows: readonly MatrixCombination[]) {
    const listed = rows.slice(0, 20).map((r) => `  ${matrixRowText(r) || "(no matrix)"}`);
    const more = rows.length > 20 ? [`  … and ${rows.length - 20} more`] : [];
    super("CIDEV_MATRIX_SELECTION", `job "${jobId}": ${message}`, {
      exitCode: EXIT_USAGE,
      hint: `its rows:\n${[...listed, ...more].join("\n")}`,
    });
    this.jobId = jobId;
  }
}

/**
 * The rows of `rows` that `filters` choose (all of them without filters), in matrix order.
 * A key that no row has is an error unless `lenient` (with `--all-jobs`, a filter may be meant
 * for another job's matrix): then jobs without the key run all their rows.
 *
 * @throws MatrixSelectionError
 * @example
 *   selectMatrixRows("test", [{ v: 1 }, { v: 2 }], { v: "2" }) // [{ v: 2 }]
 */
export function selectMatrixRows(
  jobId: string,
  rows: readonly MatrixCombination[],
  filters: Readonly<Record<string, string>>,
  lenient = false,
): MatrixCombination[] {
  const keys = new Set(rows.flatMap((r) => Object.keys(r)));
  const applicable = Object.entries(filters).filter(([key]) => keys.has(key));
  if (!lenient) {
    const unknown = Object.keys(filters).filter((key) => !keys.has(key));
    if (unknown.length > 0) {
      const have = keys.size === 0 ? "it has no matrix" : `its keys: ${[...keys].join(", ")}`;
      throw new MatrixSelectionError(jobId, `no matrix key ${unknown.join(", ")} (${have})`, rows);
    }
  }
  const chosen = rows.filter((row) =>
    applicable.every(([key, value]) => key in row && matrixValueText(row[key]) === value),
  );
  if (chosen.length === 0) {
    const wanted = applicable.map(([k, v]) => `${k}=${v}`).join(", ");
    throw new MatrixSelectionError(jobId, `no matrix row has ${wanted}`, rows);
  }
  return chosen;
}

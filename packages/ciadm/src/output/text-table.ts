/**
 * Rows as a plain-text table: columns left-aligned, separated by two spaces, the last column not
 * padded (no trailing blanks).
 *
 * @example
 *   textTable(["ID", "STATE"], [["6f1c…", "running"]]); // "ID     STATE\n6f1c…  running\n"
 */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((row) => (row[i] ?? "").length)));
  return all
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join("  ")
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join("");
}

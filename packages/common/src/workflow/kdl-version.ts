/** The two versions of KDL a workflow may be written in: 1 (the original's `kdl` crate 4), and 2. */
export type KdlVersion = 1 | 2;

/** The version that is not `version`. */
export function otherKdlVersion(version: KdlVersion): KdlVersion {
  return version === 1 ? 2 : 1;
}

// The marker KDL 2's spec defines: `/- kdl-version N` alone on the first line, after an optional
// BOM. Both versions read it as a slashdashed node, so it never changes what the file holds.
const MARKER = /^\uFEFF?\/-[\t ]*kdl-version[\t ]+([12])[\t ]*(?:\r\n|[\n\r\f\v\u0085\u2028\u2029]|$)/;

/**
 * The version a `/- kdl-version 1` or `/- kdl-version 2` first line names, if the file has one.
 *
 * @example
 *   kdlVersionMarker('/- kdl-version 1\nworkflow { }'); // 1
 */
export function kdlVersionMarker(source: string): KdlVersion | undefined {
  const digit = MARKER.exec(source)?.[1];
  return digit === "1" ? 1 : digit === "2" ? 2 : undefined;
}

/** `true`, `false` or `null` as the given version writes it (KDL 2 prefixes them with `#`). */
export function kdlKeyword(value: boolean | null, version: KdlVersion): string {
  return version === 2 ? `#${String(value)}` : String(value);
}

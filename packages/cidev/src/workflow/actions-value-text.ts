import type { ActionsValue } from "@solstice/common";

/**
 * An Actions value as the file wrote it, for display: literal text, `${{ expr }}` for
 * expressions, lists joined with `, `, mappings as `key=value` pairs.
 *
 * @example
 *   actionsValueText(job.runsOn); // "ubuntu-latest" or "${{ matrix.os }}" or "self-hosted, omnios"
 */
export function actionsValueText(value: ActionsValue | undefined): string | undefined {
  if (value === undefined) return undefined;
  switch (value.kind) {
    case "literal":
      return value.value === null ? "" : String(value.value);
    case "expression":
      return `\${{ ${value.expression} }}`;
    case "template":
      return value.parts.map((p) => (typeof p === "string" ? p : `\${{ ${p.expression} }}`)).join("");
    case "sequence":
      return value.items.map((item) => actionsValueText(item) ?? "").join(", ");
    case "mapping":
      return value.entries.map(([k, v]) => `${k}=${actionsValueText(v) ?? ""}`).join(" ");
  }
}

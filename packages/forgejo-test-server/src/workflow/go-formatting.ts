// Forgejo is written in Go: job names like `build (1.17, ubuntu)` are made with fmt.Sprint of YAML
// values and matrix rows are compared with reflect.DeepEqual. These reproduce both for the
// values a YAML document holds (strings, numbers, booleans, null, lists, mappings).

/** Go's `fmt.Sprint(v)` of a value decoded from YAML. */
export function goSprint(value: unknown): string {
  if (value === null || value === undefined) return "<nil>";
  if (typeof value === "string") return value;
  if (typeof value === "number") return goFormatFloat(value);
  if (typeof value === "boolean" || typeof value === "bigint") return String(value);
  if (Array.isArray(value)) return `[${value.map(goSprint).join(" ")}]`;
  if (typeof value === "object") {
    // Go prints maps with sorted keys: map[a:1 b:2].
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => compareBytes(a, b));
    return `map[${entries.map(([k, v]) => `${k}:${goSprint(v)}`).join(" ")}]`;
  }
  return String(value);
}

/** `%v` of a float64 (Go's 'g' with the shortest representation); integers print as integers. */
function goFormatFloat(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return String(n);
  const exponent = n === 0 ? 0 : Math.floor(Math.log10(Math.abs(n)));
  if (exponent < -4 || exponent >= 21) {
    // 1e+21, 1.5e-05: Go pads the exponent to two digits.
    const [mantissa, exp = "0"] = n.toExponential().split("e");
    const sign = exp.startsWith("-") ? "-" : "+";
    const digits = exp.replace(/^[+-]/, "").padStart(2, "0");
    return `${mantissa}e${sign}${digits}`;
  }
  return String(n);
}

/** Go's reflect.DeepEqual over YAML values. */
export function goDeepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => goDeepEqual(v, b[i]));
  }
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  return ka.every(
    (k) =>
      Object.hasOwn(b as object, k) &&
      goDeepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
  );
}

/** Go's string order (bytes); the same as UTF-16 order for the ASCII names workflows use. */
export function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

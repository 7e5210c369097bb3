import YAML from "yaml";

// Forgejo marshals payloads with Go's yaml.v3: four-space indentation, sequences indented under
// their key, no line folding, multi-line strings as literal blocks, and strings that YAML 1.1
// would read as booleans (`on`, `yes`, `off`...) double-quoted — hence `"on": push`.

const YAML_11_BOOLEANS = new Set([
  "y",
  "Y",
  "yes",
  "Yes",
  "YES",
  "n",
  "N",
  "no",
  "No",
  "NO",
  "on",
  "On",
  "ON",
  "off",
  "Off",
  "OFF",
]);

/** A YAML document of `value`, laid out as yaml.v3's Marshal lays it out. */
export function marshalLikeGo(value: unknown): string {
  const doc = new YAML.Document(value);
  YAML.visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === "string" && YAML_11_BOOLEANS.has(node.value)) node.type = "QUOTE_DOUBLE";
    },
  });
  return doc.toString({ indent: 4, indentSeq: true, lineWidth: 0, blockQuote: "literal" });
}

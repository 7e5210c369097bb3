import { parseImageMap } from "@solstice/common";
import { describe, expect, test } from "vitest";
import { formatImageTable, imageRows, warmText } from "../src/output/image-text.ts";

// `ciadm images list` joins the local image map with what the orchestrator says of each image's
// warm templates (`GET /v1/images`), and still lists the map when the orchestrator is away.

const map = parseImageMap(
  [
    "default_label: a",
    "aliases: { fast: a }",
    "images:",
    "  a: { source: 'file:///a.img', local_path: /img/a.img, nocloud: false }",
    "  b: { source: 'file:///b.img', local_path: /img/b.img, nocloud: false }",
    "  c: { source: 'file:///c.img', local_path: /img/c.img, nocloud: false }",
    "  d: { source: 'file:///d.img', local_path: /img/d.img, nocloud: false }",
  ].join("\n"),
  "map.yaml",
);
const template = {
  id: "0123456789abcdef",
  cpu: 1,
  ram_mb: 512,
  disk_gb: 1,
  built_at: null,
  build_seconds: null,
  state_bytes: null,
  restores: 0,
  error: null,
};

describe("ciadm images list", () => {
  test("each row says what the orchestrator reports: a ready template and its restores, off, not served, none yet", () => {
    const rows = imageRows(map, new Map([["/img/a.img", 2048]]), [
      {
        label: "a",
        aliases: ["fast"],
        warm_start: true,
        templates: [
          { ...template, state: "ready", restores: 3 },
          { ...template, state: "bad", error: "restore failed: QEMU refused the state file" },
        ],
      },
      { label: "b", aliases: [], warm_start: false, templates: [] },
      { label: "c", aliases: [], warm_start: true, templates: [] },
    ]);
    expect(rows.map(warmText)).toEqual([
      "ready (3 restores); bad: restore failed: QEMU refused the state file",
      "off",
      "no template yet",
      "not served",
    ]);
    expect(rows[0]).toMatchObject({
      label: "a",
      aliases: ["fast"],
      default: true,
      present: true,
      size: 2048,
    });
    const table = formatImageTable(rows).split("\n");
    expect(table[0]).toMatch(/^LABEL +ALIASES +PRESENT +SIZE +WARM +LOCAL PATH$/);
    expect(table[1]).toMatch(/^a \(default\) +fast +yes .* ready \(3 restores\)/);
  });

  test("without an answer from the orchestrator the map is still listed, its templates unknown", () => {
    const rows = imageRows(map, new Map());
    expect(rows.map((r) => r.label)).toEqual(["a", "b", "c", "d"]);
    expect(rows.every((r) => r.orchestrator === null && warmText(r) === "?")).toBe(true);
  });
});

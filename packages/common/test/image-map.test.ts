// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the image map's own ${VAR} syntax is under test
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadImageMap, parseImageMap, resolveLabel, servedLabels } from "../src/images/image-map.ts";
import { ImageMapError, ImageMapReadError } from "../src/images/image-map-errors.ts";
import { expandPath, expandVariables, PathExpansionError } from "../src/images/path-expansion.ts";

const EXAMPLE = fileURLToPath(new URL("../../../examples/orchestrator-image-map.yaml", import.meta.url));
const env = { HOME: "/home/ci" };

const minimal = (extra = ""): string =>
  `default_label: a\nimages:\n  a:\n    source: https://example.org/a.qcow2\n    local_path: /img/a.qcow2\n${extra}`;

function parseError(text: string, file = "/etc/solstice/map.yaml"): ImageMapError {
  try {
    parseImageMap(text, file, { env });
  } catch (error) {
    expect(error).toBeInstanceOf(ImageMapError);
    return error as ImageMapError;
  }
  throw new Error("expected an ImageMapError");
}

describe("the example image map", () => {
  it("loads, with the original's OpenIndiana and Ubuntu entries and the test guests", async () => {
    const map = await loadImageMap(EXAMPLE, { env: { HOME: "/home/ci" } });
    expect(map.defaultLabel).toBe("illumos-latest");
    const oi = map.images.get("openindiana-hipster")!;
    expect(oi.source).toBe(
      "https://dlc.openindiana.org/isos/hipster/20250402/OI-hipster-cloudimage.img.zstd",
    );
    expect(oi).toMatchObject({
      localPath: "/var/lib/solstice/images/openindiana-hipster.img",
      decompress: "zstd",
      nocloud: true,
      format: "raw",
      sshUser: "root",
      accel: "auto",
      defaults: { cpu: 2, ramMb: 2048, diskGb: 40 },
    });
    expect(map.images.get("ubuntu-22.04")).toMatchObject({ decompress: "none", format: "qcow2" });
    expect(map.images.get("ubuntu-24.04")).toMatchObject({ format: "qcow2", sshUser: "ubuntu" });
    expect(map.images.has("omnios-bloody")).toBe(true);
    expect(map.images.has("freebsd-14")).toBe(true);
    const fast = map.images.get("solstice-fast-guest")!;
    expect(fast).toMatchObject({
      localPath: "/home/ci/.cache/solstice/guests/fast/disk.qcow2",
      source: "file:///home/ci/.cache/solstice/guests/fast/disk.qcow2",
      kernel: "/home/ci/.cache/solstice/guests/fast/vmlinux",
      initrd: "/home/ci/.cache/solstice/guests/fast/initrd.img",
      append: "console=ttyS0 quiet panic=-1",
      format: "qcow2",
    });
    expect(map.images.get("debian-12-cloudinit")).toMatchObject({
      localPath: "/home/ci/.cache/solstice/guests/cloud-init/disk.qcow2",
      kernel: "/home/ci/.cache/solstice/guests/cloud-init/vmlinux",
      sshUser: "debian",
    });
    expect(map.sizes.get("large")).toEqual({ cpu: 4, ramMb: 4096 });
  });

  it("honours SOLSTICE_CACHE and SOLSTICE_GUESTS_DIR for the test guests, as the guest builder does", async () => {
    const cached = await loadImageMap(EXAMPLE, { env: { HOME: "/home/ci", SOLSTICE_CACHE: "/srv/cache" } });
    expect(cached.images.get("solstice-fast-guest")!.localPath).toBe("/srv/cache/guests/fast/disk.qcow2");
    const guests = await loadImageMap(EXAMPLE, { env: { HOME: "/home/ci", SOLSTICE_GUESTS_DIR: "/g" } });
    expect(guests.images.get("debian-12-cloudinit")!.initrd).toBe("/g/cloud-init/initrd.img");
  });
});

describe("resolveLabel and servedLabels", () => {
  const map = parseImageMap(
    [
      "default_label: illumos-latest",
      "aliases:",
      "  illumos-latest: openindiana-hipster",
      "  oi: openindiana-hipster",
      "images:",
      "  openindiana-hipster:",
      "    source: https://example.org/oi.img.zstd",
      "    local_path: /img/oi.img",
      "    decompress: zstd",
      "  ubuntu-22.04:",
      "    source: https://example.org/u.img",
      "    local_path: /img/u.qcow2",
    ].join("\n"),
    "/m.yaml",
    { env },
  );

  it("uses default_label (through its alias) when runs_on is missing, null or empty", () => {
    for (const runsOn of [undefined, null, ""]) {
      expect(resolveLabel(map, runsOn)?.label).toBe("openindiana-hipster");
    }
  });

  it("resolves aliases and canonical labels, and nothing else", () => {
    expect(resolveLabel(map, "oi")?.image.localPath).toBe("/img/oi.img");
    expect(resolveLabel(map, "ubuntu-22.04")?.label).toBe("ubuntu-22.04");
    expect(resolveLabel(map, "windows-11")).toBeUndefined();
  });

  it("serves the canonical labels, then the aliases", () => {
    expect(servedLabels(map)).toEqual(["openindiana-hipster", "ubuntu-22.04", "illumos-latest", "oi"]);
  });
});

describe("defaults and optional keys", () => {
  it("applies the original's defaults (2 CPUs, 2048 MiB, 40 GiB) and ours", () => {
    const image = parseImageMap(minimal(), "/m.yaml", { env }).images.get("a")!;
    expect(image).toMatchObject({
      decompress: "none",
      nocloud: false,
      defaults: { cpu: 2, ramMb: 2048, diskGb: 40 },
      sha256: undefined,
      format: "qcow2",
      sshUser: "root",
      kernel: undefined,
      accel: "auto",
    });
  });

  it("reads warm_start (default true) and settle", () => {
    const plain = parseImageMap(minimal(), "/m.yaml", { env }).images.get("a")!;
    expect(plain).toMatchObject({ warmStart: true, settle: undefined });
    const tuned = parseImageMap(
      minimal("    warm_start: false\n    settle: cloud-init status --wait\n"),
      "/m.yaml",
      { env },
    ).images.get("a")!;
    expect(tuned).toMatchObject({ warmStart: false, settle: "cloud-init status --wait" });
    expect(parseError(minimal("    settle: ''\n")).message).toMatch(/settle/);
  });

  it("keeps partial defaults and fills the rest", () => {
    const image = parseImageMap(minimal("    defaults:\n      ram_mb: 512\n"), "/m.yaml", { env }).images.get(
      "a",
    )!;
    expect(image.defaults).toEqual({ cpu: 2, ramMb: 512, diskGb: 40 });
  });

  it("guesses raw for anything but .qcow2, and format overrides the guess", () => {
    const text = [
      "default_label: a",
      "images:",
      "  a: { source: 'https://x/a.img', local_path: /i/a.img }",
      "  b: { source: 'https://x/b.img', local_path: /i/b.img, format: qcow2 }",
    ].join("\n");
    const map = parseImageMap(text, "/m.yaml", { env });
    expect(map.images.get("a")!.format).toBe("raw");
    expect(map.images.get("b")!.format).toBe("qcow2");
  });

  it("normalises sha256 (prefix, case)", () => {
    const hex = "AB".repeat(32);
    const image = parseImageMap(minimal(`    sha256: sha256:${hex}\n`), "/m.yaml", { env }).images.get("a")!;
    expect(image.sha256).toBe("ab".repeat(32));
  });

  it("expands ~, ${VAR} and ${VAR:-default}, and resolves relative paths against the map's directory", () => {
    const text = [
      "default_label: a",
      "images:",
      "  a:",
      "    source: file://~/src/a.qcow2",
      "    local_path: ${IMAGES:-~/images}/a.qcow2",
      "    kernel: ${KERNELS}/vmlinuz",
      "    initrd: boot/initrd.img",
      "    append: console=ttyS0",
    ].join("\n");
    const image = parseImageMap(text, "/etc/solstice/map.yaml", {
      env: { ...env, KERNELS: "/k" },
    }).images.get("a")!;
    expect(image.source).toBe("file:///home/ci/src/a.qcow2");
    expect(image.localPath).toBe("/home/ci/images/a.qcow2");
    expect(image.kernel).toBe("/k/vmlinuz");
    expect(image.initrd).toBe("/etc/solstice/boot/initrd.img");
  });
});

describe("errors name the file, the line and the key path", () => {
  const cases: Array<{
    name: string;
    text: string;
    keyPath: string;
    line: number | undefined;
    reason: RegExp;
  }> = [
    {
      name: "an unknown decompress method",
      text: minimal("    decompress: gzip\n"),
      keyPath: "images.a.decompress",
      line: 6,
      reason: /expected one of "zstd"\|"xz"\|"none"/,
    },
    {
      name: "a missing source",
      text: "default_label: a\nimages:\n  a:\n    local_path: /a\n",
      keyPath: "images.a.source",
      line: 3,
      reason: /missing required key "source"/,
    },
    {
      name: "an unknown key",
      text: minimal("    bogus: 1\n"),
      keyPath: "images.a.bogus",
      line: 6,
      reason: /unknown key "bogus"/,
    },
    {
      name: "a wrong type",
      text: minimal("    defaults:\n      cpu: two\n"),
      keyPath: "images.a.defaults.cpu",
      line: 7,
      reason: /expected number/,
    },
    {
      name: "a default_label that is served by nothing",
      text: minimal().replace("default_label: a", "default_label: b"),
      keyPath: "default_label",
      line: 1,
      reason: /default_label "b" is neither an image nor an alias/,
    },
    {
      name: "an alias to nowhere",
      text: `aliases:\n  z: q\n${minimal()}`,
      keyPath: "aliases.z",
      line: 2,
      reason: /alias "z" points to "q"/,
    },
    {
      name: "an unset variable without default",
      text: minimal().replace("/img/a.qcow2", "${NOPE}/a.qcow2"),
      keyPath: "images.a.local_path",
      line: 5,
      reason: /\$\{NOPE\} is not set/,
    },
    {
      name: "an unsupported source scheme",
      text: minimal().replace("https://example.org/a.qcow2", "ftp://example.org/a.qcow2"),
      keyPath: "images.a.source",
      line: 4,
      reason: /unsupported source/,
    },
    {
      name: "initrd without kernel",
      text: minimal("    initrd: /boot/initrd.img\n"),
      keyPath: "images.a.initrd",
      line: 6,
      reason: /initrd given without kernel/,
    },
    {
      name: "a bad sha256",
      text: minimal("    sha256: abc\n"),
      keyPath: "images.a.sha256",
      line: 6,
      reason: /64 hexadecimal digits/,
    },
    {
      name: "a YAML syntax error",
      text: "default_label: a\nimages: [\n",
      keyPath: "",
      line: 3,
      reason: /YAML syntax error/,
    },
    {
      name: "a duplicate key",
      text: `${minimal()}    local_path: /img/b.qcow2\n`,
      keyPath: "",
      line: 6,
      reason: /YAML syntax error: .*unique/i,
    },
  ];

  for (const c of cases) {
    it(c.name, () => {
      const error = parseError(c.text);
      expect(error.code).toBe("ORCH_IMAGE_MAP_INVALID");
      expect(error.file).toBe("/etc/solstice/map.yaml");
      expect(error.keyPath).toBe(c.keyPath);
      expect(error.line).toBe(c.line);
      expect(error.reason).toMatch(c.reason);
      expect(error.message).toContain(`/etc/solstice/map.yaml:${c.line}:`);
      if (c.keyPath !== "") expect(error.message).toContain(`at ${c.keyPath}`);
      expect(error.hint).toBeTruthy();
    });
  }

  it("a missing file is an ImageMapReadError naming it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "solstice-image-map-"));
    try {
      const missing = join(dir, "nope.yaml");
      await expect(loadImageMap(missing)).rejects.toMatchObject({
        constructor: ImageMapReadError,
        code: "ORCH_IMAGE_MAP_READ",
        file: missing,
      });
      const file = join(dir, "bad.yaml");
      await writeFile(file, "default_label: 3\n");
      await expect(loadImageMap(file)).rejects.toMatchObject({ file, keyPath: "default_label", line: 1 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("path expansion", () => {
  it("expands like the shell, treating an empty variable as unset for :-", () => {
    expect(expandVariables("${A}/${B:-b}/$C", { A: "a", C: "c" })).toBe("a/b/c");
    expect(expandVariables("${A:-x}", { A: "" })).toBe("x");
    expect(expandVariables("${A:-${B:-nested}}", {})).toBe("nested");
    expect(expandPath("~", { HOME: "/h" }, "/base")).toBe("/h");
    expect(expandPath("rel/x", {}, "/base")).toBe("/base/rel/x");
    expect(() => expandVariables("${MISSING}", {})).toThrow(PathExpansionError);
  });
});

import { parseImageMap } from "@solstice/common";
import { describe, expect, it } from "vitest";
import { NoImageLabelError, runnerImageLabel, SeveralImagesError } from "../src/job/image-label.ts";

const MAP = parseImageMap(
  `default_label: omnios-bloody
aliases:
  omnios: omnios-bloody
  fbsd: freebsd-14
images:
  omnios-bloody:
    source: https://example.org/omnios.qcow2
    local_path: /var/lib/solstice/omnios.qcow2
  freebsd-14:
    source: https://example.org/freebsd.qcow2
    local_path: /var/lib/solstice/freebsd.qcow2
`,
  "images.yaml",
);

describe("the image a GitHub runner's jobs run on", () => {
  it("is the one image its labels name, aliases resolved and other labels ignored", () => {
    expect(runnerImageLabel(["omnios", "omnios-bloody", "gpu"], MAP)).toBe("omnios-bloody");
    expect(runnerImageLabel(["fbsd"], MAP)).toBe("freebsd-14");
  });

  it("refuses labels naming several images, or none", () => {
    expect(() => runnerImageLabel(["omnios", "fbsd"], MAP)).toThrow(SeveralImagesError);
    expect(() => runnerImageLabel(["omnios", "fbsd"], MAP)).toThrow(/2 images \(omnios-bloody, freebsd-14\)/);
    expect(() => runnerImageLabel(["gpu"], MAP)).toThrow(NoImageLabelError);
  });

  it("without an image map: the first label", () => {
    expect(runnerImageLabel(["solstice-fast-guest", "fast"])).toBe("solstice-fast-guest");
    expect(() => runnerImageLabel([])).toThrow(NoImageLabelError);
  });
});

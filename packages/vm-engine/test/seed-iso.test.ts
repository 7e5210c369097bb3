import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SeedIsoError } from "../src/errors.ts";
import { buildIso9660, levelOneNames, SECTOR_SIZE } from "../src/seed/iso9660-writer.ts";
import { buildSeedIso, writeSeedIso } from "../src/seed/seed-iso.ts";

// The ISO is read back with isoinfo (Debian's genisoimage package), a reader we did not write.
const run = promisify(execFile);

async function isoinfo(...args: string[]): Promise<string> {
  try {
    const { stdout } = await run("isoinfo", args, { encoding: "latin1", maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      throw new Error(
        "isoinfo is missing: install Debian's genisoimage package (apt-get install genisoimage)",
      );
    }
    throw error;
  }
}

/** File names of a listing (`isoinfo -l`), without `.` and `..`. */
function listedNames(listing: string): string[] {
  return listing
    .split("\n")
    .map((line) => /\]\s+(.*?)\s*$/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined && name !== "." && name !== "..");
}

const userData = "#cloud-config\nssh_authorized_keys:\n  - ssh-ed25519 AAAA test\n# ünïcödé\n";
const metaData = "instance-id: solstice-1\nlocal-hostname: solstice-1\n";
const networkConfig = "version: 2\nethernets:\n  eth0:\n    dhcp4: true\n";

let dir: string;
let isoPath: string;
let withNetwork: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "solstice-seed-iso-"));
  isoPath = join(dir, "seed.iso");
  withNetwork = join(dir, "seed-net.iso");
  await writeSeedIso(isoPath, { userData, metaData });
  await writeSeedIso(withNetwork, { userData, metaData, networkConfig });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("the NoCloud seed ISO, read back by isoinfo", () => {
  it("is ISO 9660 labelled cidata, with Joliet and Rock Ridge", async () => {
    const info = await isoinfo("-d", "-i", isoPath);
    expect(info).toContain("CD-ROM is in ISO 9660 format");
    expect(info).toMatch(/^Volume id: cidata$/m);
    expect(info).toMatch(/^Logical block size is: 2048$/m);
    expect(info).toContain("Joliet with UCS level 3 found");
    expect(info).toContain("Rock Ridge signatures version 1 found");
    const sectors = Number(/^Volume size is: (\d+)$/m.exec(info)?.[1]);
    expect(sectors * SECTOR_SIZE).toBe((await stat(isoPath)).size);
  });

  it("lists the exact lowercase names in the Joliet tree", async () => {
    expect(listedNames(await isoinfo("-J", "-l", "-i", isoPath)).sort()).toEqual(["meta-data", "user-data"]);
    expect(listedNames(await isoinfo("-J", "-l", "-i", withNetwork)).sort()).toEqual([
      "meta-data",
      "network-config",
      "user-data",
    ]);
  });

  it("lists the exact names, read-only modes and sizes through Rock Ridge", async () => {
    const listing = await isoinfo("-R", "-l", "-i", withNetwork);
    expect(listedNames(listing).sort()).toEqual(["meta-data", "network-config", "user-data"]);
    const userLine = listing.split("\n").find((line) => line.trimEnd().endsWith(" user-data"))!;
    expect(userLine).toMatch(/^-r--r--r--/);
    expect(userLine).toContain(` ${Buffer.byteLength(userData)} `);
  });

  it("has ISO level-1 names in the primary tree", async () => {
    expect(listedNames(await isoinfo("-l", "-i", withNetwork)).sort()).toEqual([
      "META_DAT.;1",
      "NETWORK_.;1",
      "USER_DAT.;1",
    ]);
  });

  it("gives back the exact bytes through Joliet, Rock Ridge and the primary names", async () => {
    const extract = async (...args: string[]): Promise<Buffer> => {
      const { stdout } = await run("isoinfo", [...args, "-i", withNetwork], {
        encoding: "buffer",
        maxBuffer: 1024 * 1024,
      });
      return stdout;
    };
    expect((await extract("-J", "-x", "/user-data")).toString("utf8")).toBe(userData);
    expect((await extract("-J", "-x", "/meta-data")).toString("utf8")).toBe(metaData);
    expect((await extract("-J", "-x", "/network-config")).toString("utf8")).toBe(networkConfig);
    expect((await extract("-R", "-x", "/user-data")).toString("utf8")).toBe(userData);
    expect((await extract("-x", "/USER_DAT.;1")).toString("utf8")).toBe(userData);
  });

  it("writes the file 0600 and the same bytes as buildSeedIso", async () => {
    const date = new Date("2025-01-02T03:04:05Z");
    const path = join(dir, "fixed.iso");
    await writeSeedIso(path, { userData, metaData }, { date });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(new Uint8Array(await readFile(path))).toEqual(buildSeedIso({ userData, metaData }, { date }));
  });
});

describe("the ISO 9660 structures", () => {
  const date = new Date("2025-06-07T08:09:10.110Z");
  const iso = buildSeedIso({ userData, metaData }, { date });
  const sector = (n: number): Buffer =>
    Buffer.from(iso.buffer, iso.byteOffset + n * SECTOR_SIZE, SECTOR_SIZE);

  it("has the descriptor set: primary (16), Joliet (17, escape %/E), terminator (18)", () => {
    expect(sector(16).subarray(0, 7)).toEqual(Buffer.from([1, ...Buffer.from("CD001"), 1]));
    expect(sector(17).subarray(0, 7)).toEqual(Buffer.from([2, ...Buffer.from("CD001"), 1]));
    expect(sector(17).subarray(88, 91).toString("latin1")).toBe("%/E");
    expect(sector(18).subarray(0, 7)).toEqual(Buffer.from([255, ...Buffer.from("CD001"), 1]));
  });

  it("writes both-endian fields and the volume dates", () => {
    const pvd = sector(16);
    expect(pvd.readUInt32LE(80)).toBe(iso.length / SECTOR_SIZE);
    expect(pvd.readUInt32BE(84)).toBe(iso.length / SECTOR_SIZE);
    expect(pvd.readUInt16LE(128)).toBe(2048);
    expect(pvd.readUInt16BE(130)).toBe(2048);
    expect(pvd.subarray(813, 829).toString("latin1")).toBe("2025060708091011");
    expect(pvd.subarray(847, 863).toString("latin1")).toBe("0000000000000000");
    // Joliet's volume id is UCS-2 big-endian.
    expect(sector(17).subarray(40, 52).toString("utf16le")).not.toBe("cidata");
    expect(Buffer.from(sector(17).subarray(40, 52)).swap16().toString("utf16le")).toBe("cidata");
  });

  it("is byte-identical for the same input and date", () => {
    expect(buildSeedIso({ userData, metaData }, { date })).toEqual(iso);
  });

  it("aligns every file extent to a sector and pads the image to whole sectors", () => {
    expect(iso.length % SECTOR_SIZE).toBe(0);
    const big = Buffer.from(
      buildIso9660({
        volumeId: "cidata",
        files: [
          { name: "a", data: new Uint8Array(SECTOR_SIZE + 1).fill(0xa5) },
          { name: "b", data: new Uint8Array(16).fill(0x5a) },
        ],
        date,
        padSectors: 0,
      }),
    );
    // a takes two sectors, then b starts on the next sector boundary; the tail is zero padding.
    const aStart = big.indexOf(Buffer.alloc(16, 0xa5));
    const bStart = big.indexOf(Buffer.alloc(16, 0x5a));
    expect(aStart % SECTOR_SIZE).toBe(0);
    expect(bStart - aStart).toBe(2 * SECTOR_SIZE);
    expect(big[aStart + SECTOR_SIZE + 1]).toBe(0);
    expect(big.length).toBe(bStart + SECTOR_SIZE);
  });

  it("pads the image with 150 zero sectors by default, as mkisofs does (small-device probes need it)", () => {
    const unpadded = buildIso9660({ volumeId: "cidata", files: [], date, padSectors: 0 });
    const padded = buildIso9660({ volumeId: "cidata", files: [], date });
    expect(padded.length - unpadded.length).toBe(150 * SECTOR_SIZE);
    expect(padded.subarray(unpadded.length).every((b) => b === 0)).toBe(true);
    expect(Buffer.from(padded).readUInt32LE(16 * SECTOR_SIZE + 80)).toBe(padded.length / SECTOR_SIZE);
  });

  it("derives unique level-1 names", () => {
    expect(levelOneNames(["user-data", "meta-data", "network-config"])).toEqual([
      "USER_DAT.;1",
      "META_DAT.;1",
      "NETWORK_.;1",
    ]);
    expect(levelOneNames(["long-name-a", "long-name-b"])).toEqual(["LONG_NAM.;1", "LONG_NA0.;1"]);
    expect(levelOneNames(["readme.markdown"])).toEqual(["README.MAR;1"]);
  });

  it("refuses names and labels it cannot carry", () => {
    expect(() =>
      buildIso9660({ volumeId: "cidata", files: [{ name: "a/b", data: new Uint8Array() }] }),
    ).toThrow(SeedIsoError);
    expect(() => buildIso9660({ volumeId: "", files: [] })).toThrow(SeedIsoError);
    expect(() =>
      buildIso9660({
        volumeId: "cidata",
        files: [
          { name: "x", data: new Uint8Array() },
          { name: "x", data: new Uint8Array() },
        ],
      }),
    ).toThrow(/given twice/);
  });
});

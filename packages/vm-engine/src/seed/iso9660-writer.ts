import { SeedIsoError } from "../errors.ts";

// A minimal ISO 9660 image writer for a single flat directory of small files: enough for a
// NoCloud seed, with nothing to install at run time (no mkisofs/genisoimage).
//
// The image carries the names three ways so that every reader finds the real, lowercase name:
// - the primary tree has ISO level-1 names (`USER_DAT.;1`), as the standard requires;
// - Rock Ridge (SUSP `SP`/`CE`/`ER`, RRIP 1991A `PX`/`NM`) in the primary tree gives the POSIX
//   names and modes; Linux uses it when the root's `ER` says RRIP;
// - a Joliet supplementary volume descriptor (UCS-2 names, escape `%/E`) has its own tree.
//
// Layout (2048-byte sectors):
//   0-15 system area | 16 PVD | 17 Joliet SVD | 18 terminator | 19/20 primary L/M path tables
//   | 21/22 Joliet L/M path tables | 23 primary root dir | 24 Joliet root dir
//   | 25 Rock Ridge continuation area (the ER entry) | 26.. file extents (shared by both trees)
//   | 150 sectors of padding

/** One file of the root directory. */
export interface IsoFile {
  /** The real name (Joliet and Rock Ridge); the level-1 name is derived from it. */
  readonly name: string;
  readonly data: Uint8Array;
}

/** Options of {@link buildIso9660}. */
export interface IsoOptions {
  /** Volume identifier (the label blkid and cloud-init see), at most 32 (16 in Joliet) characters. */
  readonly volumeId: string;
  readonly files: readonly IsoFile[];
  /** Timestamp for every date field (default: now); fixed dates give byte-identical images. */
  readonly date?: Date;
  readonly applicationId?: string;
  /**
   * Zero sectors appended to the image (default 150, i.e. 300 KiB, as mkisofs does). Linux CD-ROM
   * read-ahead can fail on the last sectors of a disc, and some probes refuse tiny devices
   * (busybox's volume_id, behind `findfs LABEL=cidata`, gives up below ~68 KiB).
   */
  readonly padSectors?: number;
}

export const SECTOR_SIZE = 2048;

const PVD_SECTOR = 16;
const SVD_SECTOR = 17;
const TERMINATOR_SECTOR = 18;
const PRIMARY_L_PATH_SECTOR = 19;
const PRIMARY_M_PATH_SECTOR = 20;
const JOLIET_L_PATH_SECTOR = 21;
const JOLIET_M_PATH_SECTOR = 22;
const PRIMARY_ROOT_SECTOR = 23;
const JOLIET_ROOT_SECTOR = 24;
const CONTINUATION_SECTOR = 25;
const FIRST_FILE_SECTOR = 26;

const RRIP_ID = "RRIP_1991A";
const RRIP_DESCRIPTOR =
  "THE ROCK RIDGE INTERCHANGE PROTOCOL PROVIDES SUPPORT FOR POSIX FILE SYSTEM SEMANTICS";
const RRIP_SOURCE =
  "PLEASE CONTACT DISC PUBLISHER FOR SPECIFICATION SOURCE.  SEE PUBLISHER IDENTIFIER IN PRIMARY VOLUME DESCRIPTOR FOR CONTACT INFORMATION.";

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const DIR_MODE = S_IFDIR | 0o555;
const FILE_MODE = S_IFREG | 0o444;

const MAX_JOLIET_NAME_CHARS = 64;
const DEFAULT_PAD_SECTORS = 150;

interface PlacedFile {
  readonly name: string;
  readonly isoName: string;
  readonly data: Uint8Array;
  readonly sector: number;
}

/**
 * Build an ISO 9660 image (Rock Ridge + Joliet) holding `files` in its root directory.
 *
 * @example
 *   const iso = buildIso9660({ volumeId: "cidata", files: [{ name: "user-data", data }] });
 */
export function buildIso9660(options: IsoOptions): Uint8Array {
  validate(options);
  const date = options.date ?? new Date();

  const isoNames = levelOneNames(options.files.map((f) => f.name));
  let next = FIRST_FILE_SECTOR;
  const placed: PlacedFile[] = options.files.map((file, i) => {
    const entry = { name: file.name, isoName: isoNames[i]!, data: file.data, sector: next };
    next += sectorsFor(file.data.length);
    return entry;
  });
  const totalSectors = next + (options.padSectors ?? DEFAULT_PAD_SECTORS);
  const image = new Uint8Array(totalSectors * SECTOR_SIZE);
  const at = (sector: number): DataView =>
    new DataView(image.buffer, image.byteOffset + sector * SECTOR_SIZE, SECTOR_SIZE);

  // Directories: records sorted by identifier (ECMA-119 9.3), `.` and `..` first.
  const primaryRoot = primaryDirectory(placed, date);
  const jolietRoot = jolietDirectory(placed, date);
  image.set(primaryRoot, PRIMARY_ROOT_SECTOR * SECTOR_SIZE);
  image.set(jolietRoot, JOLIET_ROOT_SECTOR * SECTOR_SIZE);
  image.set(erEntry(), CONTINUATION_SECTOR * SECTOR_SIZE);

  const pathTableSize = 10; // one record: the root, identifier 0x00, padded to even
  writePathTable(at(PRIMARY_L_PATH_SECTOR), PRIMARY_ROOT_SECTOR, true);
  writePathTable(at(PRIMARY_M_PATH_SECTOR), PRIMARY_ROOT_SECTOR, false);
  writePathTable(at(JOLIET_L_PATH_SECTOR), JOLIET_ROOT_SECTOR, true);
  writePathTable(at(JOLIET_M_PATH_SECTOR), JOLIET_ROOT_SECTOR, false);

  const common = { totalSectors, pathTableSize, date, applicationId: options.applicationId ?? "SOLSTICE CI" };
  writeVolumeDescriptor(at(PVD_SECTOR), {
    ...common,
    type: 1,
    volumeId: options.volumeId,
    lPath: PRIMARY_L_PATH_SECTOR,
    mPath: PRIMARY_M_PATH_SECTOR,
    rootRecord: directoryRecord({
      identifier: new Uint8Array([0]),
      sector: PRIMARY_ROOT_SECTOR,
      size: SECTOR_SIZE,
      directory: true,
      date,
    }),
  });
  writeVolumeDescriptor(at(SVD_SECTOR), {
    ...common,
    type: 2,
    volumeId: options.volumeId,
    lPath: JOLIET_L_PATH_SECTOR,
    mPath: JOLIET_M_PATH_SECTOR,
    rootRecord: directoryRecord({
      identifier: new Uint8Array([0]),
      sector: JOLIET_ROOT_SECTOR,
      size: SECTOR_SIZE,
      directory: true,
      date,
    }),
  });
  writeTerminator(at(TERMINATOR_SECTOR));

  for (const file of placed) image.set(file.data, file.sector * SECTOR_SIZE);
  return image;
}

function validate(options: IsoOptions): void {
  if (
    options.volumeId.length === 0 ||
    options.volumeId.length > 16 ||
    !/^[\x20-\x7e]+$/.test(options.volumeId)
  ) {
    throw new SeedIsoError(`volume id "${options.volumeId}" must be 1 to 16 printable ASCII characters`);
  }
  const seen = new Set<string>();
  for (const file of options.files) {
    if (
      !/^[A-Za-z0-9._-]+$/.test(file.name) ||
      file.name.length > MAX_JOLIET_NAME_CHARS ||
      file.name.startsWith(".")
    ) {
      throw new SeedIsoError(
        `file name "${file.name}" is not supported (letters, digits, ".", "_", "-"; at most 64)`,
        {
          fileName: file.name,
        },
      );
    }
    if (seen.has(file.name))
      throw new SeedIsoError(`file "${file.name}" given twice`, { fileName: file.name });
    seen.add(file.name);
    if (file.data.length > 0xffffffff) {
      throw new SeedIsoError(`file "${file.name}" is larger than 4 GiB`, { fileName: file.name });
    }
  }
}

function sectorsFor(bytes: number): number {
  return Math.ceil(bytes / SECTOR_SIZE);
}

/**
 * ISO 9660 level 1 names: up to 8 d-characters, a dot, up to 3, then `;1`. Collisions (after
 * truncation) get a numeric tail, as mkisofs does.
 */
export function levelOneNames(names: readonly string[]): string[] {
  const used = new Set<string>();
  return names.map((name) => {
    const clean = (s: string): string => s.toUpperCase().replace(/[^A-Z0-9_]/g, "_");
    const dot = name.lastIndexOf(".");
    const base = clean(dot > 0 ? name.slice(0, dot) : name);
    const ext = clean(dot > 0 ? name.slice(dot + 1) : "").slice(0, 3);
    let candidate = `${base.slice(0, 8)}.${ext}`;
    for (let n = 0; used.has(candidate); n++) {
      const tail = String(n);
      candidate = `${base.slice(0, 8 - tail.length)}${tail}.${ext}`;
    }
    used.add(candidate);
    return `${candidate};1`;
  });
}

function primaryDirectory(files: readonly PlacedFile[], date: Date): Uint8Array {
  const ceSize = erEntry().length;
  const records = [
    directoryRecord({
      identifier: new Uint8Array([0]),
      sector: PRIMARY_ROOT_SECTOR,
      size: SECTOR_SIZE,
      directory: true,
      date,
      systemUse: concat([spEntry(), pxEntry(DIR_MODE, 2), ceEntry(CONTINUATION_SECTOR, 0, ceSize)]),
    }),
    directoryRecord({
      identifier: new Uint8Array([1]),
      sector: PRIMARY_ROOT_SECTOR,
      size: SECTOR_SIZE,
      directory: true,
      date,
      systemUse: pxEntry(DIR_MODE, 2),
    }),
    ...[...files]
      .sort((a, b) => compareBytes(ascii(a.isoName), ascii(b.isoName)))
      .map((file) =>
        directoryRecord({
          identifier: ascii(file.isoName),
          sector: file.sector,
          size: file.data.length,
          directory: false,
          date,
          systemUse: concat([pxEntry(FILE_MODE, 1), nmEntry(file.name)]),
        }),
      ),
  ];
  return directoryExtent(records);
}

function jolietDirectory(files: readonly PlacedFile[], date: Date): Uint8Array {
  const records = [
    directoryRecord({
      identifier: new Uint8Array([0]),
      sector: JOLIET_ROOT_SECTOR,
      size: SECTOR_SIZE,
      directory: true,
      date,
    }),
    directoryRecord({
      identifier: new Uint8Array([1]),
      sector: JOLIET_ROOT_SECTOR,
      size: SECTOR_SIZE,
      directory: true,
      date,
    }),
    ...files
      .map((file) => ({ file, id: ucs2(file.name) }))
      .sort((a, b) => compareBytes(a.id, b.id))
      .map(({ file, id }) =>
        directoryRecord({
          identifier: id,
          sector: file.sector,
          size: file.data.length,
          directory: false,
          date,
        }),
      ),
  ];
  return directoryExtent(records);
}

function directoryExtent(records: readonly Uint8Array[]): Uint8Array {
  const extent = new Uint8Array(SECTOR_SIZE);
  let offset = 0;
  for (const record of records) {
    // A record never crosses a sector boundary; one sector is all a seed needs.
    if (offset + record.length > SECTOR_SIZE)
      throw new SeedIsoError("too many files for a one-sector directory");
    extent.set(record, offset);
    offset += record.length;
  }
  return extent;
}

interface DirectoryRecordFields {
  readonly identifier: Uint8Array;
  readonly sector: number;
  readonly size: number;
  readonly directory: boolean;
  readonly date: Date;
  readonly systemUse?: Uint8Array;
}

/** ECMA-119 9.1: a directory record, padded so the system use area starts at an even offset. */
function directoryRecord(fields: DirectoryRecordFields): Uint8Array {
  const idLength = fields.identifier.length;
  const padding = idLength % 2 === 0 ? 1 : 0;
  const systemUse = fields.systemUse ?? new Uint8Array(0);
  let length = 33 + idLength + padding + systemUse.length;
  if (length % 2 === 1) length += 1;
  if (length > 255) throw new SeedIsoError("directory record longer than 255 bytes");
  const record = new Uint8Array(length);
  const view = new DataView(record.buffer);
  record[0] = length;
  record[1] = 0; // extended attribute record length
  bothEndian32(view, 2, fields.sector);
  bothEndian32(view, 10, fields.size);
  record.set(recordingDate(fields.date), 18);
  record[25] = fields.directory ? 0x02 : 0x00;
  record[26] = 0; // file unit size
  record[27] = 0; // interleave gap
  bothEndian16(view, 28, 1); // volume sequence number
  record[32] = idLength;
  record.set(fields.identifier, 33);
  record.set(systemUse, 33 + idLength + padding);
  return record;
}

/** ECMA-119 9.4: a path table holding only the root directory. */
function writePathTable(view: DataView, rootSector: number, littleEndian: boolean): void {
  view.setUint8(0, 1); // length of directory identifier
  view.setUint8(1, 0); // extended attribute record length
  view.setUint32(2, rootSector, littleEndian);
  view.setUint16(6, 1, littleEndian); // parent directory number (the root is its own parent)
  view.setUint8(8, 0); // identifier 0x00, then one byte of padding (odd length)
}

interface VolumeDescriptorFields {
  readonly type: 1 | 2;
  readonly volumeId: string;
  readonly totalSectors: number;
  readonly pathTableSize: number;
  readonly lPath: number;
  readonly mPath: number;
  readonly rootRecord: Uint8Array;
  readonly date: Date;
  readonly applicationId: string;
}

/** ECMA-119 8.4 (primary, type 1) and 8.5 (supplementary, type 2: Joliet, UCS-2 identifiers). */
function writeVolumeDescriptor(view: DataView, fields: VolumeDescriptorFields): void {
  const bytes = new Uint8Array(view.buffer, view.byteOffset, SECTOR_SIZE);
  const joliet = fields.type === 2;
  const text = (offset: number, length: number, value: string): void => {
    bytes.set(joliet ? ucs2Padded(value, length) : asciiPadded(value, length), offset);
  };
  bytes[0] = fields.type;
  bytes.set(ascii("CD001"), 1);
  bytes[6] = 1; // version
  text(8, 32, ""); // system identifier
  text(40, 32, fields.volumeId);
  bothEndian32(view, 80, fields.totalSectors);
  if (joliet) bytes.set(ascii("%/E"), 88); // UCS-2 level 3
  bothEndian16(view, 120, 1); // volume set size
  bothEndian16(view, 124, 1); // volume sequence number
  bothEndian16(view, 128, SECTOR_SIZE);
  bothEndian32(view, 132, fields.pathTableSize);
  view.setUint32(140, fields.lPath, true);
  view.setUint32(144, 0, true); // optional L path table: none
  view.setUint32(148, fields.mPath, false);
  view.setUint32(152, 0, false); // optional M path table: none
  bytes.set(fields.rootRecord, 156);
  text(190, 128, ""); // volume set identifier
  text(318, 128, ""); // publisher
  text(446, 128, ""); // data preparer
  text(574, 128, fields.applicationId);
  text(702, 37, ""); // copyright file
  text(739, 37, ""); // abstract file
  text(776, 37, ""); // bibliographic file
  bytes.set(volumeDate(fields.date), 813); // creation
  bytes.set(volumeDate(fields.date), 830); // modification
  bytes.set(volumeDate(undefined), 847); // expiration: not specified
  bytes.set(volumeDate(undefined), 864); // effective: not specified
  bytes[881] = 1; // file structure version
}

function writeTerminator(view: DataView): void {
  const bytes = new Uint8Array(view.buffer, view.byteOffset, SECTOR_SIZE);
  bytes[0] = 255;
  bytes.set(ascii("CD001"), 1);
  bytes[6] = 1;
}

// --- SUSP / Rock Ridge entries ---------------------------------------------------------------

/** SUSP `SP`: marks SUSP use; must open the root's `.` system use area. */
function spEntry(): Uint8Array {
  return new Uint8Array([0x53, 0x50, 7, 1, 0xbe, 0xef, 0]);
}

/** SUSP `CE`: where the rest of the system use entries continue. */
function ceEntry(sector: number, offset: number, length: number): Uint8Array {
  const entry = new Uint8Array(28);
  const view = new DataView(entry.buffer);
  entry.set([0x43, 0x45, 28, 1]);
  bothEndian32(view, 4, sector);
  bothEndian32(view, 12, offset);
  bothEndian32(view, 20, length);
  return entry;
}

/** SUSP `ER`: declares the Rock Ridge extension (RRIP 1991A), which Linux requires to use RR. */
function erEntry(): Uint8Array {
  const id = ascii(RRIP_ID);
  const descriptor = ascii(RRIP_DESCRIPTOR);
  const source = ascii(RRIP_SOURCE);
  const entry = new Uint8Array(8 + id.length + descriptor.length + source.length);
  entry.set([0x45, 0x52, entry.length, 1, id.length, descriptor.length, source.length, 1]);
  entry.set(id, 8);
  entry.set(descriptor, 8 + id.length);
  entry.set(source, 8 + id.length + descriptor.length);
  return entry;
}

/** RRIP `PX` (1991A form, 36 bytes): mode, links, uid 0, gid 0. */
function pxEntry(mode: number, links: number): Uint8Array {
  const entry = new Uint8Array(36);
  const view = new DataView(entry.buffer);
  entry.set([0x50, 0x58, 36, 1]);
  bothEndian32(view, 4, mode);
  bothEndian32(view, 12, links);
  bothEndian32(view, 20, 0);
  bothEndian32(view, 28, 0);
  return entry;
}

/** RRIP `NM`: the POSIX name. */
function nmEntry(name: string): Uint8Array {
  const bytes = ascii(name);
  const entry = new Uint8Array(5 + bytes.length);
  entry.set([0x4e, 0x4d, entry.length, 1, 0]);
  entry.set(bytes, 5);
  return entry;
}

// --- encodings ------------------------------------------------------------------------------

function bothEndian32(view: DataView, offset: number, value: number): void {
  view.setUint32(offset, value, true);
  view.setUint32(offset + 4, value, false);
}

function bothEndian16(view: DataView, offset: number, value: number): void {
  view.setUint16(offset, value, true);
  view.setUint16(offset + 2, value, false);
}

/** ECMA-119 9.1.5: seven bytes, years since 1900 .. seconds, then the UTC offset (0: we write UTC). */
function recordingDate(date: Date): Uint8Array {
  return new Uint8Array([
    date.getUTCFullYear() - 1900,
    date.getUTCMonth() + 1,
    date.getUTCDate(),
    date.getUTCHours(),
    date.getUTCMinutes(),
    date.getUTCSeconds(),
    0,
  ]);
}

/** ECMA-119 8.4.26.1: "YYYYMMDDHHMMSScc" in digits plus a UTC offset byte; all "0" when unset. */
function volumeDate(date: Date | undefined): Uint8Array {
  const out = new Uint8Array(17);
  if (date === undefined) {
    out.set(ascii("0000000000000000"));
    return out;
  }
  const pad = (n: number, width: number): string => String(n).padStart(width, "0");
  const digits =
    pad(date.getUTCFullYear(), 4) +
    pad(date.getUTCMonth() + 1, 2) +
    pad(date.getUTCDate(), 2) +
    pad(date.getUTCHours(), 2) +
    pad(date.getUTCMinutes(), 2) +
    pad(date.getUTCSeconds(), 2) +
    pad(Math.floor(date.getUTCMilliseconds() / 10), 2);
  out.set(ascii(digits));
  out[16] = 0;
  return out;
}

function ascii(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "latin1"));
}

function asciiPadded(text: string, length: number): Uint8Array {
  return ascii(text.slice(0, length).padEnd(length, " "));
}

/** UCS-2 big-endian, as Joliet stores identifiers. */
function ucs2(text: string): Uint8Array {
  const out = new Uint8Array(text.length * 2);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    out[2 * i] = code >> 8;
    out[2 * i + 1] = code & 0xff;
  }
  return out;
}

/** A UCS-2 field padded with UCS-2 spaces; an odd trailing byte (37-byte fields) stays 0x00. */
function ucs2Padded(text: string, length: number): Uint8Array {
  const out = new Uint8Array(length);
  const chars = Math.floor(length / 2);
  out.set(ucs2(text.slice(0, chars).padEnd(chars, " ")));
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!;
  }
  return a.length - b.length;
}

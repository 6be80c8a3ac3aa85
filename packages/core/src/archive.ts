/**
 * Reader for `ar` archives: GNU (SysV) archives, BSD / Darwin archives and GNU thin archives.
 *
 * The reader indexes an archive without copying member data, and when the archive has a symbol
 * index (GNU `/` or `/SYM64/`, BSD `__.SYMDEF*`) without walking its members either: parsing
 * reads the global header, the special members that lead the archive (the index and, in GNU
 * archives, the `//` long-name table right after it) and decodes the index into two parallel
 * arrays, so that lazy archive-member loading can look symbols up without one object per symbol.
 * A link typically extracts a few hundred of libc.a's ~1700 members; the others are never
 * looked at.
 *
 * Members are named by dense ids. The index's members get ids in order of first appearance of
 * their header offset in the index (so `symbolMembers[i]` is an id), and a member's header is
 * decoded and checked only when the member is first asked for (`archiveMember`, `memberBytes`,
 * `memberDisplayName`), then cached. `archiveAllMembers` (for `--whole-archive`, or an archive
 * without an index, which is walked at once) walks every header in file order: it keeps the ids
 * of members the index already named and appends the others.
 *
 * Archives are untrusted input. Every length and offset read from the file is checked against
 * the bytes actually present before it is used, so a lying field produces a `LinkError` naming
 * the file and the offset, never an out-of-range read, a hang or an allocation sized by the field.
 * A member's header gets the same checks whether the walk meets it or it is decoded on demand;
 * a lazily decoded member's error surfaces when the member is asked for. Like binutils and lld,
 * on-demand decoding takes a header to be where the index says (inside the file, after the
 * leading special members, 2-byte aligned, and a well-formed regular member header there); only
 * the full walk can also check that the index names headers the walk actually meets, and it
 * does. All loops are bounded by
 * the file size, and table look-ups at arbitrary offsets (long names, BSD string indices) go
 * through precomputed terminator positions so adversarial tables without terminators cannot make
 * the reader quadratic.
 *
 * Names are decoded as latin1: byte-preserving, so they compare equal to names decoded the same
 * way from the members' own symbol tables, and the fastest decoder Node has.
 */
import { Buffer } from 'node:buffer';
import * as nodePath from 'node:path';
import { malformed } from './errors.js';

export interface ArchiveMember {
  /** Member name as stored (long names resolved, trailing '/' stripped). */
  name: string;
  /** Offset of the member's 60-byte header in the archive (what the symbol index refers to). */
  headerOffset: number;
  /** Offset and size of the member's data in the archive; for thin archives offset is -1. */
  dataOffset: number;
  size: number;
  /** Thin archives: path of the member file (resolved against the archive's directory). */
  thinPath: string | null;
}

/**
 * An archive as returned by `parseArchive`. Members are reached through the functions below by
 * member id (0 ≤ id < `memberCount`); they are decoded on first use.
 */
export interface Archive {
  readonly path: string;
  readonly thin: boolean;
  readonly hasIndex: boolean;
  /**
   * Symbol index, in index order: symbol names and, parallel to them, member ids. Empty arrays
   * when the archive has no index.
   */
  readonly symbolNames: string[];
  readonly symbolMembers: Int32Array;
  /**
   * Number of member ids handed out so far. With an index: the distinct members the index names,
   * fixed by `parseArchive`; `archiveAllMembers` (or a `memberAtHeaderOffset` miss, which runs
   * it) appends the members the index does not name. Without an index: every member.
   */
  readonly memberCount: number;
}

// --- Constants, named as in binutils include/aout/ar.h and BSD <ar.h> / <mach-o/ranlib.h> ---

/** Global header of a regular archive. */
export const ARMAG = '!<arch>\n';
/** Global header of a GNU thin archive (binutils `ARMAGT`). */
export const ARMAGT = '!<thin>\n';
/** Length of the global header. */
export const SARMAG = 8;
/** `sizeof(struct ar_hdr)`. */
export const AR_HDR_SIZE = 60;
/** Trailer of every `struct ar_hdr`: a backquote and a newline. */
export const ARFMAG = '`\n';

// Field offsets and widths inside `struct ar_hdr`. All fields are ASCII, space padded.
const AR_NAME = 0; // char ar_name[16]
const AR_NAME_LEN = 16;
const AR_SIZE = 48; // char ar_size[10], decimal
const AR_SIZE_LEN = 10;
const AR_FMAG = 58; // char ar_fmag[2] == ARFMAG

/** BSD 4.4 extended name format: `#1/<len>`, the name is the first <len> bytes of the data. */
export const AR_EFMT1 = '#1/';

/** BSD ranlib index member names (<mach-o/ranlib.h>); the `_64` ones use 64-bit fields. */
export const SYMDEF = '__.SYMDEF';
export const SYMDEF_SORTED = '__.SYMDEF SORTED';
export const SYMDEF_64 = '__.SYMDEF_64';
export const SYMDEF_64_SORTED = '__.SYMDEF_64 SORTED';

/** GNU special members: the symbol index (32- and 64-bit) and the long-name table. */
const GNU_SYMTAB = '/';
const GNU_SYMTAB64 = '/SYM64/';
const GNU_STRTAB = '//';

const CH_SPACE = 0x20;
const CH_SLASH = 0x2f;
const CH_0 = 0x30;
const CH_9 = 0x39;
const CH_NL = 0x0a;
const CH_NUL = 0x00;
const CH_COLON = 0x3a;
const CH_BACKQUOTE = 0x60;

const TWO_32 = 2 ** 32;

// --- Public API ---

/** True when `bytes` starts with a regular or thin archive global header. */
export function isArchive(bytes: Uint8Array): boolean {
  return hasMagic(bytes, ARMAG) || hasMagic(bytes, ARMAGT);
}

function noEnsure(): void {}

/**
 * Reads an archive's symbol index (or, without one, walks all its members). `bytes` may be
 * filled on demand (a `SparseFile`): `ensure(start, end)` is called before any range is read. Throws `LinkError` if
 * what it reads is malformed; members the index names are checked when first asked for.
 */
export function parseArchive(
  bytes: Uint8Array,
  path: string,
  ensure: (start: number, end: number) => void = noEnsure,
): Archive {
  ensure(0, SARMAG);
  const thin = hasMagic(bytes, ARMAGT);
  if (!thin && !hasMagic(bytes, ARMAG)) {
    malformed(path, 'not an archive: bad magic at offset 0x0');
  }
  const ar = new LazyArchive(bytes, path, thin, ensure);
  ar.readLeadingSpecials();
  if (ar.hasIndex) ar.readIndex();
  else ar.walk();
  return ar;
}

/** Member `i`, decoded (and checked) on first use. `LinkError` if its header is malformed. */
export function archiveMember(ar: Archive, i: number): ArchiveMember {
  return impl(ar).member(i);
}

/**
 * Ids of all members in file order, e.g. for `--whole-archive`. Walks every member header once
 * (later calls return the same array) with the checks a full read of the archive makes,
 * including that every index entry names a real member header; members the index does not name
 * get new ids from `memberCount` on.
 */
export function archiveAllMembers(ar: Archive): readonly number[] {
  return impl(ar).walk();
}

/**
 * The bytes of member i: a subarray of `bytes` (never copied), or for thin archives the result of
 * readFile(thinPath).
 */
export function memberBytes(
  ar: Archive,
  bytes: Uint8Array,
  i: number,
  readFile: (p: string) => Uint8Array,
): Uint8Array {
  const m = impl(ar).member(i);
  if (m.thinPath !== null) return readFile(m.thinPath);
  return bytes.subarray(m.dataOffset, m.dataOffset + m.size);
}

/** `libc.a(printf.o)`, how diagnostics name a member (`libc.a(#i)` for an unknown id). */
export function memberDisplayName(ar: Archive, i: number): string {
  const a = impl(ar);
  return `${ar.path}(${a.isMember(i) ? a.member(i).name : `#${i}`})`;
}

/**
 * Id of the member whose header sits at `headerOffset`, or -1. Offsets the index names answer at
 * once; any other offset needs the full walk, which this runs (once).
 */
export function memberAtHeaderOffset(ar: Archive, headerOffset: number): number {
  const a = impl(ar);
  const known = a.idAt(headerOffset);
  if (known >= 0) return known;
  a.walk();
  return a.idAt(headerOffset);
}

// --- Implementation ---

type IndexKind = 'gnu32' | 'gnu64' | 'bsd32' | 'bsd64';

/** Where the symbol index member sits. */
interface IndexLocation {
  kind: IndexKind;
  headerOffset: number;
  dataOffset: number;
  size: number;
}

/** A string table addressed by arbitrary offsets (GNU `//`, BSD ranlib strings). */
interface OffsetTable {
  /** The whole table decoded once; names are substrings of it (V8 shares the characters). */
  text: string;
  /** Ascending positions of every terminator in `text`, for binary search. */
  terminators: number[];
}

function impl(ar: Archive): LazyArchive {
  if (!(ar instanceof LazyArchive)) throw new TypeError('not an archive from parseArchive');
  return ar;
}

class LazyArchive implements Archive {
  readonly buf: Buffer;
  symbolNames: string[] = [];
  symbolMembers = new Int32Array(0);
  private index: IndexLocation | null = null;
  private longNames: OffsetTable | null = null;
  private longNamesOffset = 0;
  /** The first header after the leading special members: where the full walk starts. */
  private firstRegular = SARMAG;
  /** True once the walk has met a regular member (an index is only recognized before one). */
  private sawRegular = false;

  // Members by id. Index ids are handed out while decoding the index; walk ids after them.
  /** Id → header offset. */
  private readonly offsets: number[] = [];
  /** Id → the member, once decoded. */
  private readonly decoded: (ArchiveMember | undefined)[] = [];
  /** Id → first index entry naming it (for messages); -1 for ids handed out by the walk. */
  private readonly firstEntry: number[] = [];
  /** Header offset → id. */
  private readonly ids = new Map<number, number>();
  /** Ids in file order, once the full walk has run. */
  private fileOrder: number[] | null = null;

  constructor(
    readonly bytes: Uint8Array,
    readonly path: string,
    readonly thin: boolean,
    private readonly ensure: (start: number, end: number) => void,
  ) {
    // A view over the same memory, for Buffer's native latin1 decoder; nothing is copied.
    this.buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  }

  get hasIndex(): boolean {
    return this.index !== null;
  }

  get memberCount(): number {
    return this.offsets.length;
  }

  isMember(id: number): boolean {
    return Number.isInteger(id) && id >= 0 && id < this.offsets.length;
  }

  idAt(headerOffset: number): number {
    return this.ids.get(headerOffset) ?? -1;
  }

  private fail(what: string, offset: number): never {
    malformed(this.path, `${what} at offset ${hex(offset)}`);
  }

  /**
   * Reads the special members before the first regular one: the symbol index, and the `//`
   * long-name table that GNU ar writes right after it (plus e.g. COFF's second linker member).
   * Once an index is found, a header whose name field does not mark a special member ends the
   * scan unchecked: it is a regular member, checked when asked for.
   */
  readLeadingSpecials(): void {
    const { bytes } = this;
    const end = bytes.length;
    let pos = SARMAG;
    while (pos < end) {
      if (this.index !== null && !this.looksSpecial(pos)) break;
      const size = this.headerSize(pos);
      const special = this.classify(pos, size);
      // A regular member before any index: the archive has none, and gets the full walk.
      if (special === null) break;
      this.checkStored(pos, size, true);
      this.addSpecial(special, pos, size);
      pos = this.nextHeader(pos, size, true);
    }
    this.firstRegular = pos;
  }

  /** True when the name field at `pos` names a GNU special member (`/` + a non-digit). */
  private looksSpecial(pos: number): boolean {
    const { bytes } = this;
    this.ensure(pos, pos + AR_HDR_SIZE);
    if (pos + 1 >= bytes.length || bytes[pos + AR_NAME] !== CH_SLASH) return false;
    const c = bytes[pos + AR_NAME + 1]!;
    return c < CH_0 || c > CH_9;
  }

  /**
   * Walks all member headers from the first regular one, in file order, and returns the ids of
   * the members met (cached). Ids the index handed out keep their number; new members get the
   * next ones. Every index id must turn out to be a member header the walk meets.
   */
  walk(): number[] {
    if (this.fileOrder !== null) return this.fileOrder;
    const { bytes, thin } = this;
    const end = bytes.length;
    const indexIds = this.offsets.length;
    const met = new Uint8Array(indexIds);
    const order: number[] = [];
    let pos = this.firstRegular;
    // Each iteration advances `pos` by at least AR_HDR_SIZE, so the loop is bounded by the size.
    while (pos < end) {
      const size = this.headerSize(pos);
      const special = this.classify(pos, size);
      // Thin archives store only the special members (index, long names); regular members are
      // just a header whose size field gives the size of the external file.
      const stored = !thin || special !== null;
      this.checkStored(pos, size, stored);
      if (special === null) {
        this.sawRegular = true;
        let id = this.ids.get(pos);
        if (id === undefined) id = this.newId(pos, -1);
        else if (id < indexIds) met[id] = 1;
        if (this.decoded[id] === undefined) this.decoded[id] = this.decodeRegular(pos, size);
        order.push(id);
      } else {
        this.addSpecial(special, pos, size);
      }
      pos = this.nextHeader(pos, size, stored);
    }
    for (let id = 0; id < indexIds; id++) if (met[id] === 0) this.notAMember(id);
    this.fileOrder = order;
    return order;
  }

  /** Member `id`, decoded on first use with the checks the walk makes on its header. */
  member(id: number): ArchiveMember {
    if (!this.isMember(id)) throw new RangeError(`${this.path}: no archive member ${id}`);
    const cached = this.decoded[id];
    if (cached !== undefined) return cached;
    const { bytes } = this;
    const hdr = this.offsets[id]!;
    this.ensure(hdr, hdr + AR_HDR_SIZE);
    if (
      this.longNames === null &&
      this.fileOrder === null &&
      bytes[hdr + AR_NAME] === CH_SLASH &&
      bytes[hdr + AR_NAME + 1]! >= CH_0 &&
      bytes[hdr + AR_NAME + 1]! <= CH_9
    ) {
      // A long name, but no `//` table sat before the first regular member: only the full walk
      // can find it (or report it missing). The walk decodes every index member, this one too.
      this.walk();
      return this.decoded[id]!;
    }
    const size = this.headerSize(hdr);
    // In a well-formed archive only regular members follow the leading specials.
    if (this.classify(hdr, size) !== null) this.notAMember(id);
    // The data is left for the caller to read as it needs it (`memberRange`).
    this.checkStored(hdr, size, !this.thin, false);
    const m = this.decodeRegular(hdr, size);
    this.decoded[id] = m;
    return m;
  }

  private newId(hdr: number, entry: number): number {
    const id = this.offsets.length;
    this.offsets.push(hdr);
    this.firstEntry.push(entry);
    this.ids.set(hdr, id);
    return id;
  }

  /** Id for index entry `i`'s header offset; a new id if the index has not named it before. */
  private indexTarget(target: number, i: number, name: string): number {
    const id = this.ids.get(target);
    if (id !== undefined) return id;
    // What can be checked without reading the header: it lies after the leading specials and
    // starts inside the file, on the 2-byte alignment every header has.
    if (target < this.firstRegular || target >= this.bytes.length || target % 2 !== 0) {
      this.failIndexEntry(i, name, target);
    }
    return this.newId(target, i);
  }

  /** The index named a member whose header turned out not to be one. */
  private notAMember(id: number): never {
    const i = this.firstEntry[id]!;
    this.failIndexEntry(i, this.symbolNames[i]!, this.offsets[id]!);
  }

  private failIndexEntry(i: number, name: string, target: number): never {
    this.fail(
      `symbol index entry ${i} (${JSON.stringify(name)}) refers to offset ${hex(target)}, ` +
        `which is not a member header; index member`,
      this.index!.headerOffset,
    );
  }

  /** Checks the header at `hdr` (fits in the file, ARFMAG) and returns its `ar_size`. */
  private headerSize(hdr: number): number {
    const { bytes } = this;
    this.ensure(hdr, hdr + AR_HDR_SIZE);
    if (bytes.length - hdr < AR_HDR_SIZE) this.fail('truncated archive member header', hdr);
    if (bytes[hdr + AR_FMAG] !== CH_BACKQUOTE || bytes[hdr + AR_FMAG + 1] !== CH_NL) {
      this.fail(`bad archive member header terminator (expected ${JSON.stringify(ARFMAG)})`, hdr);
    }
    return this.readSize(hdr);
  }

  /** A member whose data is stored in the archive must fit in the file. */
  private checkStored(hdr: number, size: number, stored: boolean, load = true): void {
    const end = this.bytes.length;
    if (stored && size > end - (hdr + AR_HDR_SIZE)) {
      this.fail(
        `archive member size ${size} runs past end of file (file size ${end}) in header`,
        hdr,
      );
    }
    if (stored && load) this.ensure(hdr + AR_HDR_SIZE, hdr + AR_HDR_SIZE + size);
  }

  /** Offset of the header after the member at `hdr`. */
  private nextHeader(hdr: number, size: number, stored: boolean): number {
    const dataStart = hdr + AR_HDR_SIZE;
    if (!stored) return dataStart;
    // Member data is 2-byte aligned: an odd-sized member is followed by one padding byte.
    // The final padding byte may be missing; then the result lands past the end of the file.
    const dataEnd = dataStart + size;
    return dataEnd + (dataEnd & 1);
  }

  /** Parses `ar_size`: left-justified decimal digits, space padded. */
  private readSize(hdr: number): number {
    const { bytes } = this;
    const start = hdr + AR_SIZE;
    const stop = start + AR_SIZE_LEN;
    let i = start;
    let size = 0;
    while (i < stop && bytes[i]! >= CH_0 && bytes[i]! <= CH_9) {
      size = size * 10 + (bytes[i]! - CH_0); // at most 10 digits: exact in a double
      i++;
    }
    let ok = i > start;
    for (; i < stop; i++) if (bytes[i] !== CH_SPACE) ok = false;
    if (!ok) {
      const raw = this.buf.toString('latin1', start, stop);
      this.fail(`invalid size field ${JSON.stringify(raw)} in archive member header`, hdr);
    }
    return size;
  }

  /**
   * Classifies a header by its name field. Returns the special-member name for the GNU index,
   * GNU long-name table, other GNU `/...` specials and BSD `__.SYMDEF*` indexes; null for a
   * regular member.
   */
  private classify(hdr: number, size: number): string | null {
    const { bytes } = this;
    if (bytes[hdr + AR_NAME] === CH_SLASH) {
      const c = bytes[hdr + AR_NAME + 1]!;
      // `/123` is a long-name reference to a regular member; every other name starting with
      // '/' is a special member (`/`, `//`, `/SYM64/`, and e.g. COFF `/<ECSYMBOLS>/`).
      if (c >= CH_0 && c <= CH_9) return null;
      return this.buf.toString('latin1', hdr + AR_NAME, this.nameFieldEnd(hdr, CH_SPACE));
    }
    // A BSD index is a regular-looking member named `__.SYMDEF...`, only meaningful first.
    if (!this.sawRegular && this.index === null && !this.thin) {
      const name = this.bsdSymdefName(hdr, size);
      if (name !== null) return name;
    }
    return null;
  }

  /** The `__.SYMDEF*` name of a member, if it has one (stored inline or as `#1/len`). */
  private bsdSymdefName(hdr: number, size: number): string | null {
    const { bytes } = this;
    if (bytes[hdr + AR_NAME] !== 0x5f /* '_' */ && bytes[hdr + AR_NAME] !== 0x23 /* '#' */) {
      return null;
    }
    const { name } = this.regularName(hdr, size);
    return name === SYMDEF ||
      name === SYMDEF_SORTED ||
      name === SYMDEF_64 ||
      name === SYMDEF_64_SORTED
      ? name
      : null;
  }

  /**
   * End of the name in the name field: at the first `stop` byte if there is one, else the
   * field with trailing spaces removed.
   *
   * Bytes after the terminator are not always spaces: binutils writes a thin archive's `/123`
   * over the field that first held the truncated short name, so a 15-character member name
   * leaves its '/' behind in the last byte (`/56            /`). binutils (strtol) and LLVM (cut
   * at the first space for names starting with '/' or '#', at the first '/' otherwise) both
   * ignore such leftovers, and so do we.
   */
  private nameFieldEnd(hdr: number, stop: number): number {
    const start = hdr + AR_NAME;
    const limit = start + AR_NAME_LEN;
    for (let i = start + 1; i < limit; i++) if (this.bytes[i] === stop) return i;
    let e = limit;
    while (e > start && this.bytes[e - 1] === CH_SPACE) e--;
    return e;
  }

  /**
   * Resolves the name of a regular member. `nameLen` is the number of data bytes taken by a BSD
   * `#1/len` name (0 otherwise), to be skipped to reach the member's contents.
   */
  private regularName(hdr: number, size: number): { name: string; nameLen: number } {
    const { bytes, buf } = this;
    const start = hdr + AR_NAME;
    const first = bytes[start];

    if (first === CH_SLASH) {
      return { name: this.longName(hdr, start + 1, this.nameFieldEnd(hdr, CH_SPACE)), nameLen: 0 };
    }
    const efmt1Len =
      first === 0x23 /* '#' */ ? this.efmt1Length(start, this.nameFieldEnd(hdr, CH_SPACE)) : -1;
    if (efmt1Len >= 0) {
      if (this.thin) this.fail('BSD extended member name in a thin archive', hdr);
      if (efmt1Len > size) {
        this.fail(`BSD member name length ${efmt1Len} exceeds member size ${size}`, hdr);
      }
      const nameStart = hdr + AR_HDR_SIZE;
      if (efmt1Len > bytes.length - nameStart) {
        this.fail('BSD member name runs past end of file in header', hdr);
      }
      // The stored name is NUL padded (to keep the following data aligned).
      let nameEnd = nameStart + efmt1Len;
      while (nameEnd > nameStart && bytes[nameEnd - 1] === CH_NUL) nameEnd--;
      return { name: buf.toString('latin1', nameStart, nameEnd), nameLen: efmt1Len };
    }

    // GNU short names end with '/' (and so may contain spaces); BSD ones are space padded.
    const end = this.nameFieldEnd(hdr, CH_SLASH);

    return { name: buf.toString('latin1', start, end), nameLen: 0 };
  }

  /** Length from a `#1/<decimal>` name field, or -1 if the field is not of that form. */
  private efmt1Length(start: number, end: number): number {
    const { bytes } = this;
    const p = start + AR_EFMT1.length;
    if (
      end <= p ||
      bytes[start] !== 0x23 /* '#' */ ||
      bytes[start + 1] !== 0x31 /* '1' */ ||
      bytes[start + 2] !== CH_SLASH
    ) {
      return -1;
    }
    let n = 0;
    for (let i = p; i < end; i++) {
      const c = bytes[i]!;
      if (c < CH_0 || c > CH_9) return -1; // e.g. a GNU short name `#1/5/`
      n = n * 10 + (c - CH_0);
    }
    return n;
  }

  /** Resolves a GNU `/<offset>` reference into the `//` long-name table. */
  private longName(hdr: number, digitsStart: number, end: number): string {
    const { bytes } = this;
    let off = 0;
    for (let i = digitsStart; i < end; i++) {
      const c = bytes[i]!;
      if (c === CH_COLON) {
        // binutils writes `/<name offset>:<member offset>` for members of an archive nested in a
        // thin archive; resolving those would mean opening the nested archive.
        this.fail('nested archive in thin archive is not supported: member header', hdr);
      }
      if (c < CH_0 || c > CH_9) {
        const raw = this.buf.toString('latin1', hdr + AR_NAME, end);
        this.fail(`invalid long name reference ${JSON.stringify(raw)} in member header`, hdr);
      }
      off = off * 10 + (c - CH_0);
    }
    const table = this.longNames;
    if (table === null) {
      this.fail(`long name reference /${off} without a // long-name table in member header`, hdr);
    }
    if (off >= table.text.length) {
      this.fail(
        `long name offset ${off} out of range (long-name table at ${hex(this.longNamesOffset)} ` +
          `has size ${table.text.length}) in member header`,
        hdr,
      );
    }
    const t = nextTerminator(table, off);
    if (t < 0) {
      this.fail(`unterminated long name at long-name table offset ${off}, member header`, hdr);
    }
    // GNU ends each name with "/\n" (thin-archive paths contain '/', so only the last goes);
    // COFF archives end them with NUL and no '/'.
    let e = t;
    if (e > off && table.text.charCodeAt(e - 1) === CH_SLASH) e--;
    return table.text.substring(off, e);
  }

  /** Decodes a regular member's header (already checked up to its size) into a member. */
  private decodeRegular(hdr: number, size: number): ArchiveMember {
    const { name, nameLen } = this.regularName(hdr, size);
    let thinPath: string | null = null;
    let dataOffset = hdr + AR_HDR_SIZE + nameLen;
    if (this.thin) {
      dataOffset = -1;
      // GNU ar stores thin members' paths relative to the archive's directory.
      thinPath = nodePath.isAbsolute(name)
        ? name
        : nodePath.join(nodePath.dirname(this.path), name);
    }
    return { name, headerOffset: hdr, dataOffset, size: size - nameLen, thinPath };
  }

  private addSpecial(name: string, hdr: number, size: number): void {
    const dataStart = hdr + AR_HDR_SIZE;
    if (name === GNU_STRTAB) {
      this.longNames = offsetTable(this.buf, dataStart, dataStart + size, CH_NL, CH_NUL);
      this.longNamesOffset = hdr;
      return;
    }
    // Only an index before any regular member counts. COFF archives follow the first `/` with a
    // second, differently-encoded linker member also named `/`; that one is skipped.
    if (this.index !== null || this.sawRegular) return;
    let kind: IndexKind | null = null;
    let skip = 0;
    if (name === GNU_SYMTAB) kind = 'gnu32';
    else if (name === GNU_SYMTAB64) kind = 'gnu64';
    else if (name === SYMDEF || name === SYMDEF_SORTED) kind = 'bsd32';
    else if (name === SYMDEF_64 || name === SYMDEF_64_SORTED) kind = 'bsd64';
    if (kind === null) return; // other GNU specials (`/<ECSYMBOLS>/`, ...) carry no members
    if (kind === 'bsd32' || kind === 'bsd64') skip = this.regularName(hdr, size).nameLen;
    this.index = { kind, headerOffset: hdr, dataOffset: dataStart + skip, size: size - skip };
  }

  /**
   * Decodes the symbol index into `symbolNames` / `symbolMembers`, handing out member ids in
   * order of first appearance of each header offset.
   */
  readIndex(): void {
    const ix = this.index!;
    if (ix.kind === 'gnu32' || ix.kind === 'gnu64') this.readGnuIndex(ix);
    else this.readBsdIndex(ix);
  }

  /**
   * GNU: big-endian word count N, N big-endian words (member header offsets), then N
   * NUL-terminated names in the same order. Words are 4 bytes for `/`, 8 for `/SYM64/`.
   */
  private readGnuIndex(ix: IndexLocation): void {
    const { bytes, buf } = this;
    const w = ix.kind === 'gnu64' ? 8 : 4;
    const d = ix.dataOffset;
    const hdr = ix.headerOffset;
    if (ix.size < w) this.fail(`symbol index too small (${ix.size} bytes) in member`, hdr);
    const count = w === 8 ? readU64BE(bytes, d) : readU32BE(bytes, d);
    // Checked before allocating anything sized by `count`.
    if (count > Math.floor((ix.size - w) / w)) {
      this.fail(
        `symbol index count ${count} runs past the end of its member (size ${ix.size})`,
        hdr,
      );
    }
    const strStart = d + w + count * w;
    const strEnd = d + ix.size;
    // One decode for the whole string table; names are substrings of it (no per-name copy).
    const text = buf.toString('latin1', strStart, strEnd);
    const names: string[] = [];
    const owners = new Int32Array(count);
    let s = 0;
    // Index entries are grouped by member, so the previous entry's answer is usually right.
    let lastTarget = -1;
    let id = -1;
    for (let i = 0; i < count; i++) {
      // Names are consecutive, so each scan starts where the last stopped: linear in total.
      const nul = text.indexOf('\0', s);
      if (nul < 0) {
        this.fail(`symbol index string table ends before name ${i} of ${count} in member`, hdr);
      }
      const name = text.substring(s, nul);
      s = nul + 1;
      const p = d + w + i * w;
      const target = w === 8 ? readU64BE(bytes, p) : readU32BE(bytes, p);
      if (target !== lastTarget) {
        id = this.indexTarget(target, i, name);
        lastTarget = target;
      }
      names.push(name);
      owners[i] = id;
    }
    this.symbolNames = names;
    this.symbolMembers = owners;
  }

  /**
   * BSD: little-endian byte size of the ranlib array, the array of (ran_strx, ran_off) pairs,
   * the byte size of the string table, the strings. `ran_off` is a member header offset. Fields
   * are 4 bytes for `__.SYMDEF`, 8 for `__.SYMDEF_64`.
   */
  private readBsdIndex(ix: IndexLocation): void {
    const { bytes, buf } = this;
    const w = ix.kind === 'bsd64' ? 8 : 4;
    const read = w === 8 ? readU64LE : readU32LE;
    const d = ix.dataOffset;
    const hdr = ix.headerOffset;
    if (ix.size < 2 * w) this.fail(`symbol index too small (${ix.size} bytes) in member`, hdr);
    const ranlibBytes = read(bytes, d);
    if (ranlibBytes > ix.size - 2 * w) {
      this.fail(
        `symbol index ranlib array size ${ranlibBytes} runs past the end of its member ` +
          `(size ${ix.size})`,
        hdr,
      );
    }
    if (ranlibBytes % (2 * w) !== 0) {
      this.fail(`symbol index ranlib array size ${ranlibBytes} is not a multiple of ${2 * w}`, hdr);
    }
    const count = ranlibBytes / (2 * w);
    const strSizeAt = d + w + ranlibBytes;
    const strSize = read(bytes, strSizeAt);
    if (strSize > ix.size - 2 * w - ranlibBytes) {
      this.fail(
        `symbol index string table size ${strSize} runs past the end of its member ` +
          `(size ${ix.size})`,
        hdr,
      );
    }
    const strStart = strSizeAt + w;
    const table = offsetTable(buf, strStart, strStart + strSize, CH_NUL, CH_NUL);
    const names: string[] = [];
    const owners = new Int32Array(count);
    // Index entries are grouped by member, so the previous entry's answer is usually right.
    let lastTarget = -1;
    let id = -1;
    for (let i = 0; i < count; i++) {
      const p = d + w + i * 2 * w;
      const strx = read(bytes, p);
      const target = read(bytes, p + w);
      if (strx >= strSize) {
        this.fail(`symbol index entry ${i} name offset ${strx} out of range in member`, hdr);
      }
      // ran_strx may point anywhere into the table, so find its end by binary search.
      const nul = nextTerminator(table, strx);
      if (nul < 0) this.fail(`symbol index entry ${i} has an unterminated name in member`, hdr);
      const name = table.text.substring(strx, nul);
      if (target !== lastTarget) {
        id = this.indexTarget(target, i, name);
        lastTarget = target;
      }
      names.push(name);
      owners[i] = id;
    }
    this.symbolNames = names;
    this.symbolMembers = owners;
  }
}

// --- Helpers ---

function hasMagic(bytes: Uint8Array, magic: string): boolean {
  if (bytes.length < SARMAG) return false;
  for (let i = 0; i < SARMAG; i++) if (bytes[i] !== magic.charCodeAt(i)) return false;
  return true;
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

function readU32BE(b: Uint8Array, p: number): number {
  return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
}

function readU32LE(b: Uint8Array, p: number): number {
  return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
}

// 64-bit fields as doubles: values above 2^53 lose precision, but any such value is larger than
// any file we can hold in memory, so every bounds check still rejects it.
function readU64BE(b: Uint8Array, p: number): number {
  return readU32BE(b, p) * TWO_32 + readU32BE(b, p + 4);
}

function readU64LE(b: Uint8Array, p: number): number {
  return readU32LE(b, p + 4) * TWO_32 + readU32LE(b, p);
}

/**
 * Decodes bytes [start, end) once and records where each terminator (`t1` or `t2`) sits. One
 * linear pass; look-ups are then O(log n) whatever offsets the file asks for.
 */
function offsetTable(buf: Buffer, start: number, end: number, t1: number, t2: number): OffsetTable {
  const text = buf.toString('latin1', start, end);
  const terminators: number[] = [];
  for (const t of t1 === t2 ? [t1] : [t1, t2]) {
    const ch = String.fromCharCode(t);
    for (let i = text.indexOf(ch); i >= 0; i = text.indexOf(ch, i + 1)) terminators.push(i);
  }
  if (t1 !== t2) terminators.sort((a, b) => a - b);
  return { text, terminators };
}

/** Position of the first terminator at or after `off`, or -1. */
function nextTerminator(table: OffsetTable, off: number): number {
  const ts = table.terminators;
  let lo = 0;
  let hi = ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid]! < off) lo = mid + 1;
    else hi = mid;
  }
  return lo < ts.length ? ts[lo]! : -1;
}

import { Buffer } from 'node:buffer';
import type { RelocTable } from './relocs.js';
import type { OutputSection } from './chunks.js';

const EMPTY = new Uint8Array(0);

function noEnsure(): void {}

/** Buffer#copy works on any Uint8Array and needs no subarray (no view object per call). */
const bufferCopy = Buffer.prototype.copy as (
  this: Uint8Array,
  target: Uint8Array,
  targetStart: number,
  sourceStart: number,
  sourceEnd: number,
) => number;

function copyBytes(src: Uint8Array, dst: Uint8Array, at: number, start: number, end: number): void {
  bufferCopy.call(src, dst, at, start, end);
}

export type FileKind = 'object' | 'archive' | 'shared' | 'script' | 'internal';

/**
 * One input file: an object, an archive member that was extracted, a shared library, or the
 * linker's own internal file of synthetic symbols. Format packages subclass it to keep their
 * decoded tables (ELF keeps its symbol table, string table, and section headers).
 */
export class InputFile {
  readonly id: number;
  /** Name as diagnostics show it: `a.o` or `libc.a(printf.o)`. */
  readonly displayName: string;
  readonly path: string;
  readonly kind: FileKind;
  readonly bytes: Uint8Array;
  /** Command-line order; extracted archive members rank after all explicit files. */
  priority: number;
  isAlive = true;
  sections: (InputSection | null)[] = [];
  /** File symbol index → SymId (locals and globals alike); -1 where there is none. */
  symIds: Int32Array = new Int32Array(0);
  /** Index of the first global symbol in the file's own symbol table (ELF sh_info). */
  firstGlobal = 0;
  /**
   * Makes `bytes[start, end)` valid before it is read: a member of a large archive is read on
   * demand, so sections nobody needs (discarded COMDAT copies, dead code) are never read.
   */
  ensure: (start: number, end: number) => void = noEnsure;
  /** Bytes [start, end) needed once (e.g. relocations to decode): not kept resident. */
  readOnce: (start: number, end: number) => Uint8Array = (start, end) =>
    this.bytes.subarray(start, end);

  constructor(id: number, path: string, displayName: string, kind: FileKind, bytes: Uint8Array) {
    this.id = id;
    this.path = path;
    this.displayName = displayName;
    this.kind = kind;
    this.bytes = bytes;
    this.priority = id;
  }
}

/**
 * A section of an input object. Its contents are a view into the file's bytes, never copied.
 * Format-specific fields (ELF type/flags numbers) keep the format's own values; the core reads
 * only the neutral ones.
 */
export class InputSection {
  /** Global id: index in `ctx.sections`; symbol table `section` columns refer to it. */
  readonly id: number;
  readonly file: InputFile;
  /** Index of the section in its file's section header table. */
  readonly index: number;
  readonly name: string;
  /** Format-native type and flags (ELF sh_type / sh_flags). */
  readonly type: number;
  readonly flags: number;
  align: number;
  size: number;
  /** Offset of the contents in `file.bytes`; -1 for sections without file contents (NOBITS). */
  readonly fileOffset: number;
  relocs: RelocTable | null = null;
  osec: OutputSection | null = null;
  /** Offset of this section inside its output section. */
  outOffset = 0;
  isAlive = true;
  /** Mark bit for `gcSections`. */
  isVisited = false;
  /**
   * For merged sections (SHF_MERGE): maps an input offset to an output offset. Set by the format's
   * merge pass; null when the section is copied verbatim.
   */
  mergeMap: ((offset: number) => number) | null = null;
  /** Sort key inside the output section (init priorities); lower first, then input order. */
  sortKey = 0;
  /** Entry size for sections of fixed-size entries (ELF sh_entsize). */
  entsize = 0;
  /**
   * Contents the linker built in place of the file's (a rewritten .eh_frame, merged strings);
   * null while the section's bytes are the file's own.
   */
  ownContents: Uint8Array | null = null;

  constructor(
    id: number,
    file: InputFile,
    index: number,
    name: string,
    type: number,
    flags: number,
    align: number,
    size: number,
    fileOffset: number,
  ) {
    this.id = id;
    this.file = file;
    this.index = index;
    this.name = name;
    this.type = type;
    this.flags = flags;
    this.align = align;
    this.size = size;
    this.fileOffset = fileOffset;
  }

  /**
   * The section's bytes: its own contents, or a fresh view of the file. The view is not kept: a
   * big link has hundreds of thousands of sections, and a cached view apiece would cost more
   * memory than the bytes' headers are worth (callers take it once per pass).
   */
  get contents(): Uint8Array {
    if (this.ownContents !== null) return this.ownContents;
    if (this.fileOffset < 0) return EMPTY;
    this.file.ensure(this.fileOffset, this.fileOffset + this.size);
    return this.file.bytes.subarray(this.fileOffset, this.fileOffset + this.size);
  }

  /** Copies the section's bytes into `buf` at `at`, without making a view of them. */
  copyTo(buf: Uint8Array, at: number): void {
    if (this.ownContents !== null) buf.set(this.ownContents, at);
    else if (this.fileOffset >= 0) {
      this.file.ensure(this.fileOffset, this.fileOffset + this.size);
      copyBytes(this.file.bytes, buf, at, this.fileOffset, this.fileOffset + this.size);
    }
  }

  /** Virtual address of an offset inside this section (after layout). */
  addrOf(offset: number): number {
    const osec = this.osec!;
    if (this.mergeMap !== null) return osec.addr + this.mergeMap(offset);
    return osec.addr + this.outOffset + offset;
  }
}

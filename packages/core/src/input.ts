import type { RelocTable } from './relocs.js';
import type { OutputSection } from './chunks.js';

const EMPTY = new Uint8Array(0);

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
   * The section's bytes: a view of the file, taken once on first use, or contents the linker
   * built in place of the file's (a rewritten .eh_frame, merged strings).
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

  get contents(): Uint8Array {
    if (this.ownContents === null) {
      this.ownContents =
        this.fileOffset < 0
          ? EMPTY
          : this.file.bytes.subarray(this.fileOffset, this.fileOffset + this.size);
    }
    return this.ownContents;
  }

  /** Virtual address of an offset inside this section (after layout). */
  addrOf(offset: number): number {
    const osec = this.osec!;
    if (this.mergeMap !== null) return osec.addr + this.mergeMap(offset);
    return osec.addr + this.outOffset + offset;
  }
}

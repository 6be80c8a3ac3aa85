import type { InputSection } from './input.js';

/**
 * Everything that occupies bytes in the output is a Chunk (mold's design): headers, output
 * sections, GOT, symbol tables. Layout assigns `addr`/`fileOffset`; then each chunk writes its
 * own byte range of the one output buffer.
 */
export interface Chunk {
  name: string;
  /** Format-native section type and flags (ELF sh_type / sh_flags), if the chunk is a section. */
  type: number;
  flags: number;
  align: number;
  size: number;
  addr: number;
  fileOffset: number;
  /** Takes no file space (ELF NOBITS, bss). */
  readonly noBits: boolean;
  /** Index in the output section header table, or -1 when the chunk is not a section. */
  shndx: number;
  /** Computes `size` once inputs are final. */
  computeSize?(): void;
  /** Writes the chunk's bytes; `buf` is the whole output buffer. */
  writeTo(buf: Uint8Array): void;
}

/** An output section gathering input sections of the same kind. */
export class OutputSection implements Chunk {
  name: string;
  type: number;
  flags: number;
  align = 1;
  size = 0;
  addr = 0;
  fileOffset = 0;
  shndx = -1;
  members: InputSection[] = [];
  /** Format-assigned rank for ordering output sections (segment and section order). */
  rank = 0;
  /** Per-section writer (applies relocations); set by the format package. */
  writer: ((osec: OutputSection, buf: Uint8Array) => void) | null = null;
  noBits: boolean;
  link = 0;
  info = 0;
  entsize = 0;

  constructor(name: string, type: number, flags: number, noBits: boolean) {
    this.name = name;
    this.type = type;
    this.flags = flags;
    this.noBits = noBits;
  }

  /** Places members one after another, each at its alignment. */
  computeSize(): void {
    let off = 0;
    let align = this.align;
    for (const m of this.members) {
      const a = m.align || 1;
      off = off < 0x40000000 ? (off + a - 1) & -a : Math.ceil(off / a) * a;
      m.outOffset = off;
      off += m.size;
      if (a > align) align = a;
    }
    this.size = off;
    this.align = align;
  }

  writeTo(buf: Uint8Array): void {
    if (this.noBits) return;
    if (this.writer) {
      this.writer(this, buf);
      return;
    }
    for (const m of this.members) {
      m.copyTo(buf, this.fileOffset + m.outOffset);
    }
  }
}

/** A loadable segment (ELF PT_LOAD, Mach-O LC_SEGMENT). */
export interface Segment {
  kind: number;
  flags: number;
  align: number;
  chunks: Chunk[];
  vaddr: number;
  offset: number;
  filesz: number;
  memsz: number;
}

import { u16, u32, u64 } from '@link/core';

/** One Elf32_Sym / Elf64_Sym, decoded into a caller-owned record (no object per symbol). */
export interface ElfSym {
  name: number;
  info: number;
  other: number;
  shndx: number;
  value: number;
  size: number;
}

export function newElfSym(): ElfSym {
  return { name: 0, info: 0, other: 0, shndx: 0, value: 0, size: 0 };
}

/** Decodes the symbol at `o` of `b` into `out`; the two classes lay the fields out differently. */
export function readElfSym(b: Uint8Array, o: number, is64: boolean, out: ElfSym): void {
  out.name = u32(b, o);
  if (is64) {
    out.info = b[o + 4]!;
    out.other = b[o + 5]!;
    out.shndx = u16(b, o + 6);
    out.value = u64(b, o + 8);
    out.size = u64(b, o + 16);
  } else {
    out.value = u32(b, o + 4);
    out.size = u32(b, o + 8);
    out.info = b[o + 12]!;
    out.other = b[o + 13]!;
    out.shndx = u16(b, o + 14);
  }
}

import { w32, w64, type Context, type Pass } from '@link/core';
import type { ElfLink } from './link.js';

/**
 * Writes one Elf64_Shdr / Elf32_Shdr at `o`: name, type, flags, addr, offset, size, link, info,
 * addralign, entsize, in the order of `v` (the two classes differ only in field widths).
 */
export function writeShdr(buf: Uint8Array, o: number, is64: boolean, v: readonly number[]): void {
  if (is64) {
    w32(buf, o, v[0]!);
    w32(buf, o + 4, v[1]!);
    w64(buf, o + 8, v[2]!);
    w64(buf, o + 16, v[3]!);
    w64(buf, o + 24, v[4]!);
    w64(buf, o + 32, v[5]!);
    w32(buf, o + 40, v[6]!);
    w32(buf, o + 44, v[7]!);
    w64(buf, o + 48, v[8]!);
    w64(buf, o + 56, v[9]!);
  } else {
    for (let k = 0; k < 10; k++) w32(buf, o + k * 4, v[k]! >>> 0);
  }
}

/** A pass of an ELF link: a function of the ElfLink, optionally a checkpoint. */
export function elfPass(
  name: string,
  run: (l: ElfLink) => void,
  checkpoint = false,
): Pass<Context & { elf: ElfLink }> {
  return { name, run: (ctx) => run(ctx.elf), checkpoint };
}

/** The output's e_flags, from the arch's check of its inputs' flags (0 where the arch has none). */
export function checkInputFlags(link: ElfLink): void {
  link.eflags = link.arch.outputFlags?.(link) ?? 0;
}

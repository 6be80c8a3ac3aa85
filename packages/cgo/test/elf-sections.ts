/**
 * A tiny ELF64 little-endian section lookup for the tests: enough to pull one section's bytes
 * out of an object the system compiler wrote, without depending on `@link/elf`.
 */
import { latin1, u16, u32, u64 } from '@link/core';

export interface RawSection {
  name: string;
  type: number;
  flags: number;
  bytes: Uint8Array;
}

export function elfSections(file: Uint8Array): RawSection[] {
  const magic = [0x7f, 0x45, 0x4c, 0x46];
  if (magic.some((b, i) => file[i] !== b) || file[4] !== 2 || file[5] !== 1) {
    throw new Error('not an ELF64 little-endian file');
  }
  const shoff = u64(file, 0x28);
  const shentsize = u16(file, 0x3a);
  const shnum = u16(file, 0x3c);
  const shstrndx = u16(file, 0x3e);
  const header = (i: number) => shoff + i * shentsize;
  const strOff = u64(file, header(shstrndx) + 0x18);
  const out: RawSection[] = [];
  for (let i = 0; i < shnum; i++) {
    const h = header(i);
    const nameOff = strOff + u32(file, h);
    const nameEnd = file.indexOf(0, nameOff);
    const type = u32(file, h + 4);
    const offset = u64(file, h + 0x18);
    const size = u64(file, h + 0x20);
    out.push({
      name: latin1(file, nameOff, nameEnd),
      type,
      flags: u64(file, h + 8),
      bytes:
        type === 8 /* SHT_NOBITS */ ? new Uint8Array(size) : file.subarray(offset, offset + size),
    });
  }
  return out;
}

export function elfSection(file: Uint8Array, name: string): RawSection {
  const found = elfSections(file).filter((s) => s.name === name);
  if (found.length !== 1) throw new Error(`expected one ${name} section, found ${found.length}`);
  return found[0]!;
}

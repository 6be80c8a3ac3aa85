import { LinkError, u64, w32 } from '@link/core';
import {
  DYLD_CHAINED_IMPORT,
  DYLD_CHAINED_PTR_64_OFFSET,
  DYLD_CHAINED_PTR_START_NONE,
  PAGE_SIZE,
} from './constants.js';
import { ByteSink } from './dyld-info.js';

/** One pointer fixup, by address: a rebase (import = -1) or a bind of `imports[import]`. */
export interface ChainedFixup {
  addr: number;
  import: number;
  addend: number;
}

export interface ChainedSegment {
  vmaddr: number;
  vmsize: number;
}

export interface ChainedImport {
  ordinal: number;
  name: string;
  weak: boolean;
}

/**
 * `LC_DYLD_CHAINED_FIXUPS` with `DYLD_CHAINED_PTR_64_OFFSET`: the header, per-segment page
 * starts and the import table. The pointers themselves are rewritten in place by
 * `encodeChains` once the output bytes exist.
 */
export function buildChainedFixups(
  segs: readonly ChainedSegment[],
  fixups: readonly ChainedFixup[],
  imports: readonly ChainedImport[],
  imageBase: number,
): Uint8Array {
  const o = new ByteSink();
  const startsOffset = 32;
  // Header is patched at the end, once the offsets are known.
  for (let i = 0; i < 8; i++) o.u32(0);
  const imageStart = o.length;
  o.u32(segs.length);
  const segInfoAt = o.length;
  for (let i = 0; i < segs.length; i++) o.u32(0);
  const segOffsets: number[] = [];
  for (const seg of segs) {
    const mine = fixups.filter((f) => f.addr >= seg.vmaddr && f.addr < seg.vmaddr + seg.vmsize);
    if (mine.length === 0) {
      segOffsets.push(0);
      continue;
    }
    o.align(8);
    segOffsets.push(o.length - imageStart);
    const pageCount = Math.ceil(seg.vmsize / PAGE_SIZE);
    o.u32(22 + 2 * pageCount); // size
    o.byte(PAGE_SIZE & 0xff);
    o.byte(PAGE_SIZE >> 8);
    o.byte(DYLD_CHAINED_PTR_64_OFFSET);
    o.byte(0);
    const segOff = seg.vmaddr - imageBase;
    o.u32(segOff >>> 0);
    o.u32(Math.floor(segOff / 0x100000000));
    o.u32(0); // max_valid_pointer (only for 32-bit formats)
    o.byte(pageCount & 0xff);
    o.byte(pageCount >> 8);
    const starts = new Array<number>(pageCount).fill(DYLD_CHAINED_PTR_START_NONE);
    for (const f of mine) {
      const page = Math.floor((f.addr - seg.vmaddr) / PAGE_SIZE);
      if (starts[page] === DYLD_CHAINED_PTR_START_NONE)
        starts[page] = (f.addr - seg.vmaddr) % PAGE_SIZE;
    }
    for (const s of starts) {
      o.byte(s & 0xff);
      o.byte(s >> 8);
    }
  }
  o.align(4);
  const importsOffset = o.length;
  const names = new ByteSink();
  for (const im of imports) {
    const ord = im.ordinal < 0 ? im.ordinal & 0xff : im.ordinal;
    if (ord > 0xff) throw new LinkError('chained fixups: more than 253 dylibs are not supported');
    o.u32((ord | (im.weak ? 0x100 : 0) | (names.length << 9)) >>> 0);
    names.cstr(im.name);
  }
  const symbolsOffset = o.length;
  const nb = names.bytes();
  for (const b of nb) o.byte(b);
  o.align(8);
  const out = o.bytes();
  w32(out, 0, 0); // fixups_version
  w32(out, 4, startsOffset);
  w32(out, 8, importsOffset);
  w32(out, 12, symbolsOffset);
  w32(out, 16, imports.length);
  w32(out, 20, DYLD_CHAINED_IMPORT);
  w32(out, 24, 0); // symbols_format: uncompressed
  for (let i = 0; i < segOffsets.length; i++) w32(out, segInfoAt + i * 4, segOffsets[i]!);
  return out;
}

/**
 * Rewrites every fixup location of the output into a chain entry: rebases keep their target as
 * an offset from the image base, binds name their import; `next` links to the following fixup
 * in the same page in 4-byte strides.
 */
export function encodeChains(
  buf: Uint8Array,
  fixups: readonly ChainedFixup[],
  fileOffsetOf: (addr: number) => number,
  imageBase: number,
): void {
  for (let i = 0; i < fixups.length; i++) {
    const f = fixups[i]!;
    if (f.addr % 4 !== 0)
      throw new LinkError(
        `chained fixups: pointer at 0x${f.addr.toString(16)} is not 4-byte aligned`,
      );
    const nextF = fixups[i + 1];
    let next = 0;
    if (nextF && Math.floor(nextF.addr / PAGE_SIZE) === Math.floor(f.addr / PAGE_SIZE))
      next = (nextF.addr - f.addr) / 4;
    if (next > 0xfff) throw new LinkError('chained fixups: fixups too far apart within a page');
    const at = fileOffsetOf(f.addr);
    let lo: number;
    let hi: number;
    if (f.import < 0) {
      const target = u64(buf, at) - imageBase;
      if (target < 0 || target >= 2 ** 36)
        throw new LinkError(`chained fixups: rebase target 0x${target.toString(16)} out of range`);
      lo = target >>> 0;
      hi = Math.floor(target / 0x100000000) | (next << 19);
    } else {
      if (f.addend < 0 || f.addend > 255)
        throw new LinkError(`chained fixups: bind addend ${f.addend} does not fit in 8 bits`);
      lo = (f.import | (f.addend << 24)) >>> 0;
      hi = ((next << 19) | 0x80000000) >>> 0;
    }
    // Two halves: a 64-bit value with bit 63 set is not exact as a number.
    w32(buf, at, lo);
    w32(buf, at + 4, hi >>> 0);
  }
}

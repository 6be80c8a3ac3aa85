import { RelocTable, i32, u32, w32, type InputSection } from '@link/core';
import type { ElfLink } from './link.js';

/**
 * .eh_frame: a sequence of CIEs and FDEs. An FDE describes one function; when that function's
 * section is discarded (COMDAT duplicate, --gc-sections), its FDE must go too, or the unwinder
 * and .eh_frame_hdr would describe code that is not there. Each input .eh_frame is rewritten
 * without the dead FDEs (CIE pointers and relocation offsets adjusted), after which it is an
 * ordinary input section.
 *
 * .eh_frame_hdr is the binary-search table the unwinder uses (found via PT_GNU_EH_FRAME):
 * version 1, a pointer to .eh_frame, the FDE count, and (initial location, FDE address) pairs
 * sorted by location, all relative to the header.
 */
const DW_EH_PE_absptr = 0x00;
const DW_EH_PE_udata2 = 0x02;
const DW_EH_PE_udata4 = 0x03;
const DW_EH_PE_udata8 = 0x04;
const DW_EH_PE_sdata2 = 0x0a;
const DW_EH_PE_sdata4 = 0x0b;
const DW_EH_PE_sdata8 = 0x0c;
const DW_EH_PE_pcrel = 0x10;
const DW_EH_PE_datarel = 0x30;
const DW_EH_PE_omit = 0xff;

function fail(link: ElfLink, sec: InputSection, off: number, msg: string): never {
  link.ctx.diag.error(`${sec.file.displayName}:(.eh_frame+0x${off.toString(16)}): ${msg}`);
  link.ctx.diag.checkpoint();
  throw new Error('unreachable');
}

export function rewriteEhFrames(link: ElfLink): void {
  const ctx = link.ctx;
  let fdes = 0;
  for (const sec of ctx.sections) {
    if (!sec.isAlive || sec.name !== '.eh_frame' || sec.osec === null) continue;
    fdes += rewriteOne(link, sec);
  }
  link.ehFdeCount = fdes;
}

function rewriteOne(link: ElfLink, sec: InputSection): number {
  const ctx = link.ctx;
  const b = sec.contents;
  const rel = sec.relocs;
  const relCount = rel ? rel.count : 0;
  const relBase = rel ? rel.start : 0;
  const store = link.ctx.relocs;
  const offsets = store.offset;
  const symCol = store.sym;
  // Assemblers emit relocations in offset order; sort only if a producer did not.
  let order: number[] | null = null;
  for (let i = 1; i < relCount; i++) {
    if (offsets[relBase + i]! < offsets[relBase + i - 1]!) {
      order = Array.from({ length: relCount }, (_, k) => k).sort(
        (x, y) => offsets[relBase + x]! - offsets[relBase + y]!,
      );
      break;
    }
  }
  // Store index of the k-th relocation in offset order.
  const relAt = (k: number): number => relBase + (order === null ? k : order[k]!);

  // Pass 1: walk the records, decide which FDEs stay. Most sections lose none, and then nothing
  // is copied.
  const starts: number[] = [];
  const keeps: boolean[] = [];
  const relFirst: number[] = [];
  let ri = 0;
  let o = 0;
  let fdeCount = 0;
  let dropped = 0;
  while (o < b.length) {
    if (o + 4 > b.length) fail(link, sec, o, 'truncated record');
    const len = u32(b, o);
    const size = len === 0 ? 4 : len + 4;
    if (len === 0xffffffff) fail(link, sec, o, '64-bit DWARF records are not supported');
    if (len !== 0 && (len < 4 || o + size > b.length)) {
      fail(link, sec, o, `record length 0x${len.toString(16)} runs past the end of the section`);
    }
    const first = ri;
    while (ri < relCount && offsets[relAt(ri)]! < o + size) ri++;
    let keep = true;
    if (len !== 0 && u32(b, o + 4) !== 0) {
      // An FDE: its first relocation (pc_begin) names the function it describes.
      if (first < ri) {
        const symSec = ctx.syms.section[symCol[relAt(first)]!]!;
        if (symSec >= 0 && !ctx.sections[symSec]!.isAlive) keep = false;
      } else keep = false; // pc_begin without a relocation describes no linked code
      if (keep) fdeCount++;
      else dropped++;
    }
    starts.push(o);
    keeps.push(keep);
    relFirst.push(first);
    o += size;
  }
  relFirst.push(ri);
  if (dropped === 0) return fdeCount;

  // Pass 2: copy the kept records, re-point FDEs at their CIE's new offset, move relocations.
  const out = new Uint8Array(b.length);
  const cieOut = new Map<number, number>();
  const keptRel: number[] = [];
  const relShift: number[] = [];
  let w = 0;
  for (let r = 0; r < starts.length; r++) {
    const start = starts[r]!;
    const end = r + 1 < starts.length ? starts[r + 1]! : b.length;
    if (!keeps[r]) continue;
    out.set(b.subarray(start, end), w);
    const len = u32(b, start);
    if (len !== 0) {
      const id = u32(b, start + 4);
      if (id === 0) cieOut.set(start, w);
      else {
        const cie = cieOut.get(start + 4 - id);
        if (cie === undefined) fail(link, sec, start, 'FDE points to an invalid CIE');
        w32(out, w + 4, w + 4 - cie);
      }
    }
    for (let k = relFirst[r]!; k < relFirst[r + 1]!; k++) {
      keptRel.push(relAt(k));
      relShift.push(w - start);
    }
    w += end - start;
  }
  sec.ownContents = out.subarray(0, w);
  sec.size = w;
  if (rel) {
    // The kept relocations, moved with their records, go to the end of the store (which may
    // reallocate its columns: take them afresh).
    const t = RelocTable.allocate(store, keptRel.length);
    const { offset, type, sym, addend } = store;
    for (let k = 0; k < keptRel.length; k++) {
      const r = keptRel[k]!;
      offset[t.start + k] = offset[r]! + relShift[k]!;
      type[t.start + k] = type[r]!;
      sym[t.start + k] = sym[r]!;
      addend[t.start + k] = addend[r]!;
    }
    sec.relocs = t;
  }
  return fdeCount;
}

/** Size of .eh_frame_hdr for `fdes` FDEs. */
export function ehFrameHdrSize(fdes: number): number {
  return 12 + fdes * 8;
}

function readEncoded(
  b: Uint8Array,
  o: number,
  enc: number,
  addrOfField: number,
  ptr8: boolean,
): [number, number] {
  let v: number;
  let n: number;
  switch (enc & 0x0f) {
    case DW_EH_PE_absptr:
      n = ptr8 ? 8 : 4;
      v = ptr8 ? u32(b, o) + i32(b, o + 4) * 0x100000000 : u32(b, o);
      break;
    case DW_EH_PE_udata2:
      n = 2;
      v = b[o]! | (b[o + 1]! << 8);
      break;
    case DW_EH_PE_sdata2:
      n = 2;
      v = ((b[o]! | (b[o + 1]! << 8)) << 16) >> 16;
      break;
    case DW_EH_PE_udata4:
      n = 4;
      v = u32(b, o);
      break;
    case DW_EH_PE_sdata4:
      n = 4;
      v = i32(b, o);
      break;
    case DW_EH_PE_udata8:
    case DW_EH_PE_sdata8:
      n = 8;
      v = u32(b, o) + i32(b, o + 4) * 0x100000000;
      break;
    default:
      throw new Error(`unsupported pointer encoding 0x${enc.toString(16)}`);
  }
  if ((enc & 0x70) === DW_EH_PE_pcrel) v += addrOfField;
  return [v, n];
}

function skipLeb(b: Uint8Array, o: number): number {
  while (b[o]! & 0x80) o++;
  return o + 1;
}

/** The FDE pointer encoding a CIE declares (its 'R' augmentation), absptr if none. */
function cieFdeEncoding(b: Uint8Array, cie: number, ptr8: boolean): number {
  let p = cie + 8;
  const version = b[p++]!;
  const augStart = p;
  while (b[p] !== 0) p++;
  const aug = String.fromCharCode(...b.subarray(augStart, p));
  p++;
  if (!aug.startsWith('z')) return DW_EH_PE_absptr;
  p = skipLeb(b, p); // code alignment
  p = skipLeb(b, p); // data alignment
  if (version === 1) p++;
  else p = skipLeb(b, p); // return address register
  p = skipLeb(b, p); // augmentation length
  for (let i = 1; i < aug.length; i++) {
    const c = aug[i];
    if (c === 'R') return b[p]!;
    if (c === 'L') p++;
    else if (c === 'P') {
      const enc = b[p++]!;
      const sz = enc === DW_EH_PE_omit ? 0 : ([8, 0, 2, 4, 8][enc & 7] ?? 4);
      // An absptr personality is pointer-sized (4 bytes in ELFCLASS32).
      p += (enc & 0x0f) === DW_EH_PE_absptr ? (ptr8 ? 8 : 4) : sz;
    } else if (c === 'S' || c === 'B' || c === 'G') continue;
    else return DW_EH_PE_absptr;
  }
  return DW_EH_PE_absptr;
}

/**
 * Writes .eh_frame_hdr from the final (relocated) .eh_frame bytes in `buf`.
 */
export function writeEhFrameHdr(
  buf: Uint8Array,
  ehOff: number,
  ehAddr: number,
  ehSize: number,
  hdrOff: number,
  hdrAddr: number,
  fdes: number,
  ptr8: boolean,
): void {
  const locs = new Float64Array(fdes);
  const addrs = new Float64Array(fdes);
  let n = 0;
  const cieEnc = new Map<number, number>();
  let o = ehOff;
  const end = ehOff + ehSize;
  while (o + 4 <= end) {
    const len = u32(buf, o);
    if (len === 0) {
      o += 4;
      continue;
    }
    const id = u32(buf, o + 4);
    if (id !== 0 && n < fdes) {
      const cie = o + 4 - id;
      let enc = cieEnc.get(cie);
      if (enc === undefined) {
        enc = cieFdeEncoding(buf, cie, ptr8);
        cieEnc.set(cie, enc);
      }
      const [loc] = readEncoded(buf, o + 8, enc, ehAddr + (o + 8 - ehOff), ptr8);
      locs[n] = loc;
      addrs[n] = ehAddr + (o - ehOff);
      n++;
    }
    o += len + 4;
  }
  const idx = Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => locs[a]! - locs[b]! || addrs[a]! - addrs[b]!,
  );
  buf[hdrOff] = 1;
  buf[hdrOff + 1] = DW_EH_PE_pcrel | DW_EH_PE_sdata4;
  buf[hdrOff + 2] = DW_EH_PE_udata4;
  buf[hdrOff + 3] = DW_EH_PE_datarel | DW_EH_PE_sdata4;
  w32(buf, hdrOff + 4, (ehAddr - (hdrAddr + 4)) | 0);
  w32(buf, hdrOff + 8, n);
  let t = hdrOff + 12;
  for (const i of idx) {
    w32(buf, t, (locs[i]! - hdrAddr) | 0);
    w32(buf, t + 4, (addrs[i]! - hdrAddr) | 0);
    t += 8;
  }
  // Any FDEs counted but not found (should not happen) leave zeroed, harmless entries.
}

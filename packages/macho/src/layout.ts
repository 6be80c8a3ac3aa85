import { OutputSection, alignTo, type InputSection } from '@link/core';
import {
  PAGE_SIZE,
  SECTION_TYPE,
  S_16BYTE_LITERALS,
  S_4BYTE_LITERALS,
  S_8BYTE_LITERALS,
  S_CSTRING_LITERALS,
  S_THREAD_LOCAL_REGULAR,
  S_THREAD_LOCAL_ZEROFILL,
  S_ZEROFILL,
  VM_PROT_EXECUTE,
  VM_PROT_READ,
  VM_PROT_WRITE,
} from './constants.js';
import type { MachoLink } from './link.js';
import { applySection } from './relocations.js';
import { loadCommandsSize } from './writer.js';
import { COMPACT_UNWIND, createUnwindSection } from './unwind.js';
import { EH_FRAME, fixEhFrame } from './eh-frame.js';

/** An output `section_64`: a core OutputSection that also knows its segment. */
export class MachoSection extends OutputSection {
  /** `reserved1` (indirect symbol table index) and `reserved2` (stub size). */
  reserved1 = 0;
  reserved2 = 0;
  /** 1-based ordinal among all output sections (nlist n_sect). */
  ordinal = 0;
  constructor(
    readonly segname: string,
    sectname: string,
    flags: number,
  ) {
    const t = flags & SECTION_TYPE;
    super(sectname, t, flags, t === S_ZEROFILL || t === S_THREAD_LOCAL_ZEROFILL);
  }
}

export interface MachoSegment {
  name: string;
  maxprot: number;
  initprot: number;
  sections: MachoSection[];
  vmaddr: number;
  vmsize: number;
  fileoff: number;
  filesize: number;
}

/** Where ld64 puts an input section: `__DATA,__const` and initializers are read-only after fixups. */
function outputName(seg: string, sect: string): [string, string] {
  if (seg === '__DATA' && (sect === '__const' || sect === '__mod_init_func'))
    return ['__DATA_CONST', sect];
  return [seg, sect];
}

const SEGMENT_ORDER = ['__TEXT', '__DATA_CONST', '__DATA'];
const SECTION_RANK: Record<string, number> = {
  __text: 0,
  __stubs: 1,
  __stub_helper: 2,
  __got: 0,
  __la_symbol_ptr: 0,
  __data: 1,
  __thread_vars: 4,
  __thread_data: 5,
  __unwind_info: 8,
  __eh_frame: 9,
  __thread_bss: 10,
  __common: 11,
  __bss: 12,
};

function rankOf(s: MachoSection): number {
  return (s.noBits ? 100 : 0) + (SECTION_RANK[s.name] ?? 3);
}

/** Groups live atoms (and synthetic sections) into output sections, in segment order. */
export function createOutputSections(l: MachoLink): void {
  const byKey = new Map<string, MachoSection>();
  const order: MachoSection[] = [];
  const get = (seg: string, sect: string, flags: number): MachoSection => {
    const key = `${seg},${sect}`;
    let o = byKey.get(key);
    if (!o) {
      o = new MachoSection(seg, sect, flags);
      o.rank = order.length;
      byKey.set(key, o);
      order.push(o);
    }
    return o;
  };
  const sy = l.synth;
  for (const s of [sy.stubs, sy.stubHelper, sy.got, sy.laPtr, sy.tlvPtrs]) {
    if (s.size > 0) {
      byKey.set(`${s.segname},${s.name}`, s);
      s.rank = order.length;
      order.push(s);
    }
  }
  const unwind = createUnwindSection(l);
  if (unwind) {
    byKey.set('__TEXT,__unwind_info', unwind);
    unwind.rank = order.length;
    order.push(unwind);
  }
  for (const sec of l.ctx.sections) {
    if (!sec.isAlive || sec.name === COMPACT_UNWIND) continue;
    const comma = sec.name.indexOf(',');
    const [seg, sect] = outputName(sec.name.slice(0, comma), sec.name.slice(comma + 1));
    const o = get(seg, sect, sec.flags);
    o.members.push(sec);
  }
  pinAtoms(l, order);
  for (const o of order) {
    if (o.type === S_CSTRING_LITERALS) mergeCStrings(o);
    else if (LITERAL_SIZE[o.type] !== undefined) mergeLiterals(o, LITERAL_SIZE[o.type]!);
    else if (o.members.length > 0) {
      o.computeSize();
      o.writer = writeAtoms(l);
    }
    for (const m of o.members) m.osec = o;
    if (o.type === S_THREAD_LOCAL_REGULAR || o.type === S_THREAD_LOCAL_ZEROFILL) l.hasTlv = true;
  }
  const segRank = (n: string) => {
    const i = SEGMENT_ORDER.indexOf(n);
    return i >= 0 ? i : SEGMENT_ORDER.length;
  };
  const live = order.filter((o) => o.size > 0 || o.members.length > 0);
  live.sort(
    (a, b) =>
      segRank(a.segname) - segRank(b.segname) ||
      (a.segname < b.segname ? -1 : a.segname > b.segname ? 1 : 0) ||
      rankOf(a) - rankOf(b) ||
      a.rank - b.rank,
  );
  l.sections = live;
  live.forEach((s, i) => (s.ordinal = i + 1));
  const segs: MachoSegment[] = [];
  const newSeg = (name: string, prot: number): MachoSegment => ({
    name,
    maxprot: prot,
    initprot: prot,
    sections: [],
    vmaddr: 0,
    vmsize: 0,
    fileoff: 0,
    filesize: 0,
  });
  // Only an executable reserves the low 4 GiB; dylibs and bundles are mapped anywhere.
  if (l.isExecutable) segs.push(newSeg('__PAGEZERO', 0));
  segs.push(newSeg('__TEXT', VM_PROT_READ | VM_PROT_EXECUTE));
  for (const s of live) {
    let seg = segs.find((g) => g.name === s.segname);
    if (!seg) {
      seg = newSeg(
        s.segname,
        s.segname === '__TEXT' ? VM_PROT_READ | VM_PROT_EXECUTE : VM_PROT_READ | VM_PROT_WRITE,
      );
      segs.push(seg);
    }
    seg.sections.push(s);
  }
  segs.push(newSeg('__LINKEDIT', VM_PROT_READ));
  l.segments = segs;
}

/** Moves the atoms an extension pinned to the head or tail of their output sections. */
function pinAtoms(l: MachoLink, order: MachoSection[]): void {
  if (l.pinnedHead.length === 0 && l.pinnedTail.length === 0) return;
  const head = new Set(l.pinnedHead);
  const tail = new Set(l.pinnedTail);
  for (const o of order) {
    if (!o.members.some((m) => head.has(m) || tail.has(m))) continue;
    const rest = o.members.filter((m) => !head.has(m) && !tail.has(m));
    const first = l.pinnedHead.filter((m) => o.members.includes(m));
    const last = l.pinnedTail.filter((m) => o.members.includes(m));
    o.members.length = 0;
    o.members.push(...first, ...rest, ...last);
  }
}

/** Copies atoms into place and applies their relocations. */
function writeAtoms(l: MachoLink) {
  return (osec: OutputSection, buf: Uint8Array): void => {
    for (const m of osec.members) {
      const at = osec.fileOffset + m.outOffset;
      m.copyTo(buf, at);
      applySection(l, m, buf, at, osec.addr + m.outOffset);
      if (m.name === EH_FRAME) fixEhFrame(l.ctx, m, buf, at, osec.addr + m.outOffset);
    }
  };
}

/**
 * `__cstring`: identical NUL-terminated strings from all inputs become one. Each input section
 * gets a `mergeMap` from its offsets to offsets in the merged section (any offset inside a
 * string maps to the same position in the kept copy).
 */
function mergeCStrings(o: MachoSection): void {
  const pool = new Map<string, number>();
  let size = 0;
  let align = 1;
  for (const m of o.members) {
    const b = m.contents;
    if (m.align > align) align = m.align;
    const starts: number[] = [];
    const outs: number[] = [];
    let i = 0;
    while (i < b.length) {
      let end = b.indexOf(0, i);
      if (end < 0) end = b.length - 1; // unterminated tail: kept as is
      const key = Buffer.from(b.subarray(i, end + 1)).toString('latin1');
      let out = pool.get(key);
      if (out === undefined) {
        size = alignTo(size, m.align);
        out = size;
        pool.set(key, out);
        size += end + 1 - i;
      }
      starts.push(i);
      outs.push(out);
      i = end + 1;
    }
    m.mergeMap = (off: number) => {
      let lo = 0;
      let hi = starts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (starts[mid]! <= off) lo = mid;
        else hi = mid - 1;
      }
      return starts.length === 0 ? 0 : outs[lo]! + (off - starts[lo]!);
    };
  }
  const merged = new Uint8Array(size);
  for (const [key, off] of pool)
    for (let k = 0; k < key.length; k++) merged[off + k] = key.charCodeAt(k);
  o.size = size;
  o.align = align;
  o.writer = (osec, buf) => buf.set(merged, osec.fileOffset);
}

/** Entry size of the fixed-size literal section types. */
const LITERAL_SIZE: Record<number, number> = {
  [S_4BYTE_LITERALS]: 4,
  [S_8BYTE_LITERALS]: 8,
  [S_16BYTE_LITERALS]: 16,
};

/** `__literal4/8/16`: equal constants from all inputs share one copy. */
function mergeLiterals(o: MachoSection, size: number): void {
  const pool = new Map<string, number>();
  let total = 0;
  for (const m of o.members) {
    const b = m.contents;
    const n = Math.floor(b.length / size);
    const outs = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const key = Buffer.from(b.subarray(i * size, (i + 1) * size)).toString('latin1');
      let out = pool.get(key);
      if (out === undefined) {
        out = total;
        pool.set(key, out);
        total += size;
      }
      outs[i] = out;
    }
    m.mergeMap = (off: number) => {
      const i = Math.min(Math.floor(off / size), n - 1);
      return n === 0 ? 0 : outs[i]! + (off - i * size);
    };
  }
  const merged = new Uint8Array(total);
  for (const [key, off] of pool) for (let k = 0; k < size; k++) merged[off + k] = key.charCodeAt(k);
  o.size = total;
  o.align = Math.max(o.align, size);
  o.writer = (osec, buf) => buf.set(merged, osec.fileOffset);
}

/** Assigns addresses and file offsets: segments page-aligned, __TEXT starting with the header. */
export function layout(l: MachoLink): void {
  const headerEnd = 32 + loadCommandsSize(l) + l.opts.headerpad;
  let fileOff = 0;
  let vm = l.imageBase;
  const pz = l.segments[0]!;
  if (pz.name === '__PAGEZERO') pz.vmsize = l.imageBase;
  for (const seg of l.segments) {
    if (seg.name === '__PAGEZERO' || seg.name === '__LINKEDIT') continue;
    seg.fileoff = fileOff;
    seg.vmaddr = vm;
    let cur = seg.name === '__TEXT' ? headerEnd : 0;
    for (const s of seg.sections) {
      if (s.noBits) continue;
      cur = alignTo(cur, s.align);
      s.addr = vm + cur;
      s.fileOffset = fileOff + cur;
      cur += s.size;
    }
    const fileEnd = cur;
    for (const s of seg.sections) {
      if (!s.noBits) continue;
      cur = alignTo(cur, s.align);
      s.addr = vm + cur;
      s.fileOffset = 0;
      cur += s.size;
    }
    seg.filesize = alignTo(fileEnd, PAGE_SIZE);
    seg.vmsize = alignTo(Math.max(cur, 1), PAGE_SIZE);
    fileOff += seg.filesize;
    vm += seg.vmsize;
  }
  const le = l.segments[l.segments.length - 1]!;
  le.fileoff = fileOff;
  le.vmaddr = vm;
  let tls = Infinity;
  for (const s of l.sections)
    if (s.type === S_THREAD_LOCAL_REGULAR || s.type === S_THREAD_LOCAL_ZEROFILL)
      tls = Math.min(tls, s.addr);
  l.tlsStart = tls === Infinity ? 0 : tls;
}

export type { InputSection };

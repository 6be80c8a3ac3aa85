import { LinkError, u32, w16, w32, type InputSection } from '@link/core';
import { S_REGULAR } from './constants.js';
import { MachoSection } from './layout.js';
import type { MachoLink } from './link.js';
import { relocKind } from './relocations.js';

/** Bytes of one `__LD,__compact_unwind` entry: start, length, encoding, personality, lsda. */
const CU_ENTRY = 32;
const UNWIND_SECTION_VERSION = 1;
const UNWIND_SECOND_LEVEL_REGULAR = 2;
const UNWIND_PERSONALITY_MASK = 0x30000000;
/** Entries per regular second-level page: (4096 - 8-byte header) / 8. */
const ENTRIES_PER_PAGE = 511;
const HEADER = 28;

export const COMPACT_UNWIND = '__LD,__compact_unwind';

/** Compact unwind entries of live functions, as columns (one row per function). */
export interface UnwindEntries {
  fnSym: number[];
  fnAddend: number[];
  length: number[];
  encoding: number[];
  /** Personality symbol (its GOT slot is referenced) or -1. */
  personality: number[];
  lsdaSym: number[];
  lsdaAddend: number[];
  /** For DWARF-mode encodings: the input `__eh_frame` whose FDE offset the encoding holds. */
  ehFrame: number[];
  personalities: number[];
}

/** UNWIND_X86_64_MODE_MASK and its DWARF mode: the low 24 bits are an FDE offset in __eh_frame. */
const UNWIND_X86_64_MODE_MASK = 0x0f000000;
const UNWIND_X86_64_MODE_DWARF = 0x04000000;
const UNWIND_X86_64_DWARF_SECTION_OFFSET = 0x00ffffff;

/** The relocation of `sec` at `off`, as [symbol, addend], or null. */
function relocAt(sec: InputSection, off: number): [number, number] | null {
  const r = sec.relocs;
  if (r === null) return null;
  const st = r.store;
  for (let i = r.start; i < r.start + r.count; i++) {
    if (st.offset[i] === off && relocKind(st.type[i]!) === 0) return [st.sym[i]!, st.addend[i]!];
  }
  return null;
}

/**
 * Reads every input's `__compact_unwind` (kept out of the output) and keeps the entries of live
 * functions; personalities get `__got` slots, as ld64 references them through the GOT.
 */
export function collectUnwind(l: MachoLink): void {
  const ctx = l.ctx;
  const e: UnwindEntries = {
    fnSym: [],
    fnAddend: [],
    length: [],
    encoding: [],
    personality: [],
    lsdaSym: [],
    lsdaAddend: [],
    ehFrame: [],
    personalities: [],
  };
  for (const sec of ctx.sections) {
    if (sec.name !== COMPACT_UNWIND) continue;
    const b = sec.contents;
    if (b.length % CU_ENTRY !== 0)
      throw new LinkError(
        `${sec.file.displayName}:(${COMPACT_UNWIND}): size ${b.length} is not a multiple of ${CU_ENTRY}`,
      );
    for (let off = 0; off < b.length; off += CU_ENTRY) {
      const fn = relocAt(sec, off);
      if (fn === null) continue;
      const fsec = ctx.syms.section[fn[0]]!;
      if (fsec < 0 || !ctx.sections[fsec]!.isAlive) continue; // dead-stripped function
      const pers = relocAt(sec, off + 16);
      const lsda = relocAt(sec, off + 24);
      let enc = u32(b, off + 12) & ~UNWIND_PERSONALITY_MASK;
      if (pers !== null) {
        l.needGot(pers[0]);
        let idx = e.personalities.indexOf(pers[0]);
        if (idx < 0) {
          idx = e.personalities.length;
          e.personalities.push(pers[0]);
          if (idx >= 3)
            throw new LinkError(
              'more than 3 personality routines: compact unwind cannot encode them',
            );
        }
        enc |= (idx + 1) << 28;
      }
      e.fnSym.push(fn[0]);
      e.fnAddend.push(fn[1]);
      e.length.push(u32(b, off + 8));
      e.encoding.push(enc >>> 0);
      e.personality.push(pers ? pers[0] : -1);
      e.lsdaSym.push(lsda ? lsda[0] : -1);
      e.lsdaAddend.push(lsda ? lsda[1] : 0);
      let eh = -1;
      if ((enc & UNWIND_X86_64_MODE_MASK) === UNWIND_X86_64_MODE_DWARF) {
        const f = sec.file;
        const ehSec = ctx.sections.find((x) => x.file === f && x.name === '__TEXT,__eh_frame');
        if (!ehSec)
          throw new LinkError(
            `${f.displayName}: DWARF-mode compact unwind entry without __eh_frame`,
          );
        eh = ehSec.id;
      }
      e.ehFrame.push(eh);
    }
  }
  l.unwind = e;
}

/**
 * `__TEXT,__unwind_info` (version 1, regular second-level pages only): the size depends only on
 * the number of entries, personalities and LSDAs, so it is known before layout; the contents
 * (function offsets from the image base, sorted) are written once addresses are final.
 */
export function createUnwindSection(l: MachoLink): MachoSection | null {
  const e = l.unwind;
  const n = e.fnSym.length;
  if (n === 0) return null;
  const pages = Math.ceil(n / ENTRIES_PER_PAGE);
  const nLsda = e.lsdaSym.filter((s) => s >= 0).length;
  const persOff = HEADER;
  const indexOff = persOff + 4 * e.personalities.length;
  const lsdaOff = indexOff + 12 * (pages + 1);
  const pagesOff = lsdaOff + 8 * nLsda;
  const sec = new MachoSection('__TEXT', '__unwind_info', S_REGULAR);
  sec.align = 4;
  sec.size = pagesOff + pages * 8 + n * 8;
  sec.writer = (o, buf) => {
    const base = l.imageBase;
    const addr = e.fnSym.map((s, i) => l.symAddr(s, e.fnAddend[i]!) - base);
    const order = addr.map((_, i) => i).sort((a, b) => addr[a]! - addr[b]!);
    const at = o.fileOffset;
    w32(buf, at, UNWIND_SECTION_VERSION);
    w32(buf, at + 4, HEADER); // common encodings: none
    w32(buf, at + 8, 0);
    w32(buf, at + 12, persOff);
    w32(buf, at + 16, e.personalities.length);
    w32(buf, at + 20, indexOff);
    w32(buf, at + 24, pages + 1);
    e.personalities.forEach((p, i) => w32(buf, at + persOff + 4 * i, l.gotAddr(p) - base));
    let lsdaIdx = 0;
    for (let pg = 0; pg <= pages; pg++) {
      const q = at + indexOff + 12 * pg;
      if (pg === pages) {
        const last = order[n - 1]!;
        w32(buf, q, addr[last]! + e.length[last]!);
        w32(buf, q + 4, 0);
        w32(buf, q + 8, lsdaOff + 8 * lsdaIdx);
        break;
      }
      const first = pg * ENTRIES_PER_PAGE;
      const count = Math.min(ENTRIES_PER_PAGE, n - first);
      const pageAt = pagesOff + pg * 8 + first * 8;
      w32(buf, q, addr[order[first]!]!);
      w32(buf, q + 4, pageAt);
      w32(buf, q + 8, lsdaOff + 8 * lsdaIdx);
      w32(buf, at + pageAt, UNWIND_SECOND_LEVEL_REGULAR);
      w16(buf, at + pageAt + 4, 8);
      w16(buf, at + pageAt + 6, count);
      for (let k = 0; k < count; k++) {
        const i = order[first + k]!;
        w32(buf, at + pageAt + 8 + 8 * k, addr[i]!);
        let enc = e.encoding[i]!;
        const eh = e.ehFrame[i]!;
        if (eh >= 0) {
          // The FDE moved with its object's __eh_frame (copied whole) inside the output's.
          const fde = l.ctx.sections[eh]!.outOffset + (enc & UNWIND_X86_64_DWARF_SECTION_OFFSET);
          if (fde > UNWIND_X86_64_DWARF_SECTION_OFFSET)
            throw new LinkError('__eh_frame too large for compact unwind FDE offsets');
          enc = ((enc & ~UNWIND_X86_64_DWARF_SECTION_OFFSET) | fde) >>> 0;
        }
        w32(buf, at + pageAt + 12 + 8 * k, enc);
        if (e.lsdaSym[i]! >= 0) {
          const lq = at + lsdaOff + 8 * lsdaIdx++;
          w32(buf, lq, addr[i]!);
          w32(buf, lq + 4, l.symAddr(e.lsdaSym[i]!, e.lsdaAddend[i]!) - base);
        }
      }
    }
  };
  return sec;
}

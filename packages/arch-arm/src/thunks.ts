/**
 * Range-extension and interworking thunks. A branch needs one when its target is beyond the
 * instruction's reach (ARM B/BL ±32 MiB, Thumb-2 B.W/BL ±16 MiB, B<c>.W ±1 MiB) or in the other
 * instruction set and the instruction cannot switch (B, B.W: only BL becomes BLX). The branch
 * then goes to a small stub that loads the target's PC-relative address and `bx`es to it.
 *
 * Stubs live in pools: input sections the linker adds to each code output section, one after
 * every POOL_SPACING bytes of code and one at its end, so every branch has a pool within reach.
 * A branch uses the pool nearest to it, and shares a stub with other branches of the same
 * instruction set to the same target there. Adding stubs moves code, which can put another
 * branch out of reach: the layout pass calls `updateThunks` after each layout and runs again
 * while it adds stubs (stubs are never removed, so this converges).
 *
 * Each stub is ordinary code with MOVW/MOVT PC-relative relocations against the target symbol,
 * so it is written and relocated like any input section.
 */
import { InputSection, RelocTable, SymFlag, SymState, type OutputSection } from '@link/core';
import { type ElfLink, SHF_ALLOC, SHF_EXECINSTR, SHT_PROGBITS } from '@link/elf';
import * as R from './relocs.js';
import { ARM_THUNK_CODE, ARM_THUNK_SIZE, THUMB_THUNK_CODE, THUMB_THUNK_SIZE } from './isa.js';
import { branchTarget, isBranch, isThumbBranch, interworks } from './branch.js';
import { w16, w32 } from '@link/core';

/** Code between pools: half the Thumb-2 BL reach, so the nearest pool is always reachable. */
export const POOL_SPACING = 8 << 20;
/** Slack kept when judging a stub still in reach: the stubs added later move code a little. */
const REACH_MARGIN = 0x10000;

interface Stub {
  sym: number;
  /** Target = S + addend (the branch's addend without its PC bias). */
  addend: number;
  thumb: boolean;
  off: number;
}

interface Pool {
  sec: InputSection;
  stubs: Stub[];
  byKey: Map<string, number>;
  size: number;
}

interface ThunkState {
  pools: Map<OutputSection, Pool[]>;
  /** Relocation index → (pool, stub) its branch goes through. */
  byReloc: Map<number, { pool: Pool; stub: Stub }>;
}

const states = new WeakMap<ElfLink, ThunkState>();

/** Address of the stub relocation `i` was redirected to (Thumb bit clear), or -1. */
export function thunkTarget(link: ElfLink, i: number): number {
  const t = states.get(link)?.byReloc.get(i);
  if (!t) return -1;
  return t.pool.sec.addrOf(t.stub.off);
}

/** [lowest, highest] branch offset a relocation type can encode. */
function reach(type: number): [number, number] {
  switch (type) {
    case R.R_ARM_THM_CALL:
    case R.R_ARM_THM_JUMP24:
      return [-0x1000000, 0xfffffe];
    case R.R_ARM_THM_JUMP19:
      return [-0x100000, 0xffffe];
    default:
      return [-0x2000000, 0x1fffffc];
  }
}

/** A symbol's address before computeSymbolAddresses has run (during layout). */
function addrNow(link: ElfLink, sym: number): number {
  const ctx = link.ctx;
  const syms = ctx.syms;
  if (syms.state[sym] !== SymState.Defined) return 0;
  const s = syms.section[sym]!;
  if (s < 0) return syms.value[sym]!;
  const sec = ctx.sections[s]!;
  if (!sec.isAlive || sec.osec === null) return 0;
  return sec.addrOf(syms.value[sym]!);
}

function newPool(link: ElfLink, osec: OutputSection): Pool {
  const ctx = link.ctx;
  const sec = new InputSection(
    ctx.sections.length,
    link.internalFile,
    -1,
    '.text.thunks',
    SHT_PROGBITS,
    SHF_ALLOC | SHF_EXECINSTR,
    4,
    0,
    -1,
  );
  ctx.sections.push(sec);
  sec.ownContents = new Uint8Array(0);
  sec.osec = osec;
  return { sec, stubs: [], byKey: new Map(), size: 0 };
}

function createPools(link: ElfLink): Map<OutputSection, Pool[]> {
  const pools = new Map<OutputSection, Pool[]>();
  for (const o of link.outputSections) {
    if (!(o.flags & SHF_EXECINSTR) || !(o.flags & SHF_ALLOC) || o.members.length === 0) continue;
    const members: InputSection[] = [];
    const list: Pool[] = [];
    let since = 0;
    for (const m of o.members) {
      members.push(m);
      since += m.size;
      if (since >= POOL_SPACING) {
        const p = newPool(link, o);
        members.push(p.sec);
        list.push(p);
        since = 0;
      }
    }
    const last = newPool(link, o);
    members.push(last.sec);
    list.push(last);
    o.members = members;
    pools.set(o, list);
  }
  return pools;
}

/** The layout hook: adds the stubs the current layout needs; true if it added any. */
export function updateThunks(link: ElfLink): boolean {
  let st = states.get(link);
  if (!st) {
    st = { pools: createPools(link), byReloc: new Map() };
    states.set(link, st);
    // Empty pools take no space: the first layout stays valid.
  }
  const ctx = link.ctx;
  const syms = ctx.syms;
  const { type: types, sym: symCol, offset: offsets, addend: addends } = ctx.relocs;
  let changed = false;
  for (const [o, pools] of st.pools) {
    for (const m of o.members) {
      const rel = m.relocs;
      if (rel === null || m.file === link.internalFile) continue;
      const end = rel.start + rel.count;
      for (let i = rel.start; i < end; i++) {
        const type = types[i]!;
        if (!isBranch(type)) continue;
        const sym = symCol[i]!;
        const f = syms.flags[sym]!;
        if (link.isUndefined(sym) && !(f & (SymFlag.NeedsPlt | SymFlag.NeedsIplt))) continue;
        const thumb = isThumbBranch(type);
        const P = m.addrOf(offsets[i]!);
        const A = addends[i]!;
        const T = branchTarget(link, sym, thumb && type !== R.R_ARM_THM_CALL, addrNow(link, sym));
        const other = interworks(link, sym) && ((T & 1) !== 0) !== thumb;
        const canSwitch = type === R.R_ARM_CALL || type === R.R_ARM_THM_CALL;
        const v = thumb && other ? T + A - (P & ~3) : (T & ~1) + A - P;
        const [lo, hi] = reach(type);
        const prev = st.byReloc.get(i);
        // A redirected branch keeps its stub while the stub stays in reach: layouts only grow,
        // and going back and forth between direct and redirected could keep layout from settling.
        if (prev && Math.abs(prev.pool.sec.addrOf(prev.stub.off) - P) <= hi - REACH_MARGIN)
          continue;
        if ((!other || canSwitch) && v >= lo && v <= hi) {
          st.byReloc.delete(i);
          continue;
        }
        // The pool of this code section nearest to the branch.
        let best = pools[0]!;
        let dist = Infinity;
        for (const p of pools) {
          const d = Math.abs(p.sec.addrOf(0) - P);
          if (d < dist) {
            dist = d;
            best = p;
          }
        }
        const addend = A + (thumb ? 4 : 8);
        const key = `${sym}:${addend}:${thumb ? 1 : 0}`;
        let idx = best.byKey.get(key);
        if (idx === undefined) {
          idx = best.stubs.length;
          best.stubs.push({ sym, addend, thumb, off: best.size });
          best.byKey.set(key, idx);
          best.size += thumb ? THUMB_THUNK_SIZE : ARM_THUNK_SIZE;
          best.sec.size = best.size;
          changed = true;
        }
        st.byReloc.set(i, { pool: best, stub: best.stubs[idx]! });
      }
    }
  }
  if (!changed) finishPools(link, st);
  return changed;
}

/** Writes each pool's code and its relocations, once the stubs are final. */
function finishPools(link: ElfLink, st: ThunkState): void {
  const store = link.ctx.relocs;
  for (const pools of st.pools.values())
    for (const p of pools) {
      if (p.stubs.length === 0) continue;
      const b = new Uint8Array(p.size);
      const r = RelocTable.allocate(store, p.stubs.length * 2);
      p.stubs.forEach((s, k) => {
        const j = r.start + 2 * k;
        if (s.thumb) {
          THUMB_THUNK_CODE.forEach((h, n) => w16(b, s.off + 2 * n, h));
          // movw/movt at +0/+4; `add ip, pc` at +8 reads PC = stub + 12.
          setReloc(store, j, s.off, R.R_ARM_THM_MOVW_PREL_NC, s.sym, s.addend - 12);
          setReloc(store, j + 1, s.off + 4, R.R_ARM_THM_MOVT_PREL, s.sym, s.addend - 8);
        } else {
          ARM_THUNK_CODE.forEach((w, n) => w32(b, s.off + 4 * n, w));
          // `add ip, ip, pc` at +8 reads PC = stub + 16.
          setReloc(store, j, s.off, R.R_ARM_MOVW_PREL_NC, s.sym, s.addend - 16);
          setReloc(store, j + 1, s.off + 4, R.R_ARM_MOVT_PREL, s.sym, s.addend - 12);
        }
      });
      p.sec.ownContents = b;
      p.sec.relocs = r;
    }
}

function setReloc(
  store: ElfLink['ctx']['relocs'],
  j: number,
  off: number,
  type: number,
  sym: number,
  addend: number,
): void {
  store.offset[j] = off;
  store.type[j] = type;
  store.sym[j] = sym;
  store.addend[j] = addend;
}

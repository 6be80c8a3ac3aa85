import { SymFlag, SymState, w64, w32, type InputSection, type SymId } from '@link/core';
import * as C from './constants.js';
import type { ElfLink } from './link.js';
import { refLocation } from './resolution.js';

/**
 * What a relocation that stores an address needs when the output is dynamically linked (mold's
 * action tables, by output kind and by what the symbol is):
 *
 *   absolute word (R_X86_64_64)  abs sym  local    imported data  imported code
 *     shared object              none     RELATIVE symbolic       symbolic
 *     PIE                        none     RELATIVE symbolic       symbolic
 *     position-dependent exe     none     none     copy           canonical PLT
 *   narrow absolute (R_X86_64_32)
 *     shared / PIE               none     error    error          error
 *     position-dependent exe     none     none     copy           canonical PLT
 *   PC-relative (R_X86_64_PC32)
 *     shared object              error    none     error          error
 *     PIE                        error    none     copy           PLT
 *     position-dependent exe     none     none     copy           PLT
 *
 * "local" means not preemptible; "imported" means preemptible (in a shared object that includes
 * its own exported symbols, which another module may interpose).
 */
export const enum RelAction {
  None = 0,
  Error = 1,
  /** R_*_RELATIVE: base + (S + A). */
  BaseRel = 2,
  /** A symbolic dynamic relocation (R_X86_64_64 against the symbol). */
  DynRel = 3,
  /** Copy the data into the executable's .dynbss (R_*_COPY). */
  Copy = 4,
  /** The symbol's address is its PLT entry, in this executable and every module. */
  CanonicalPlt = 5,
  /** Reach the function through a PLT entry. */
  Plt = 6,
}

/** Output kind rows of the tables: 0 shared, 1 PIE, 2 position-dependent. */
function row(link: ElfLink): 0 | 1 | 2 {
  const t = link.ctx.target;
  return t.isShared ? 0 : t.isPIE ? 1 : 2;
}

/** Column of the tables: 0 absolute, 1 local, 2 imported data, 3 imported code. */
function column(link: ElfLink, sym: SymId): 0 | 1 | 2 | 3 {
  const syms = link.ctx.syms;
  const f = syms.flags[sym]!;
  // Copied data lives in this executable now: its address is a link-time constant here.
  if (f & SymFlag.NeedsCopy) return 1;
  if (f & SymFlag.Preemptible) {
    // In a shared object a preemptible symbol is always reached symbolically; code vs data
    // matters only for executables, which copy data and make code canonical.
    const t = syms.type[sym]!;
    return t === C.STT_FUNC || t === C.STT_GNU_IFUNC ? 3 : 2;
  }
  if (f & SymFlag.Absolute) return 0;
  const st = syms.state[sym]!;
  // An undefined weak symbol in an executable is absolute zero.
  if (st === SymState.Undefined || st === SymState.Lazy) return 0;
  return 1;
}

const ABS_WORD: RelAction[][] = [
  [RelAction.None, RelAction.BaseRel, RelAction.DynRel, RelAction.DynRel],
  [RelAction.None, RelAction.BaseRel, RelAction.DynRel, RelAction.DynRel],
  [RelAction.None, RelAction.None, RelAction.Copy, RelAction.CanonicalPlt],
];
const ABS_NARROW: RelAction[][] = [
  [RelAction.None, RelAction.Error, RelAction.Error, RelAction.Error],
  [RelAction.None, RelAction.Error, RelAction.Error, RelAction.Error],
  [RelAction.None, RelAction.None, RelAction.Copy, RelAction.CanonicalPlt],
];
const PC_REL: RelAction[][] = [
  [RelAction.Error, RelAction.None, RelAction.Error, RelAction.Error],
  [RelAction.Error, RelAction.None, RelAction.Copy, RelAction.Plt],
  [RelAction.None, RelAction.None, RelAction.Copy, RelAction.Plt],
];

export const enum RelClass {
  AbsWord = 0,
  AbsNarrow = 1,
  PcRel = 2,
}
const TABLES = [ABS_WORD, ABS_NARROW, PC_REL];

/**
 * The action for a relocation of class `cls` against `sym` in a section that is `writable` or
 * not (static links: always None). As lld does, a word-sized field in writable data simply gets
 * a symbolic dynamic relocation even in a position-dependent executable: copies and canonical
 * PLT entries are only for fields the loader cannot write (code, read-only data).
 */
export function relAction(link: ElfLink, cls: RelClass, sym: SymId, writable: boolean): RelAction {
  if (!link.isDynamic) return RelAction.None;
  const col = column(link, sym);
  if (cls === RelClass.AbsWord && writable && col >= 2) return RelAction.DynRel;
  return TABLES[cls]![row(link)]![col]!;
}

/**
 * Scan-time half: records what `relAction` decided (flags, dynamic relocation counts) and
 * reports the impossible cases in lld's words.
 */
export function scanRelAction(
  link: ElfLink,
  sec: InputSection,
  off: number,
  type: number,
  cls: RelClass,
  sym: SymId,
): void {
  const a = relAction(link, cls, sym, (sec.flags & C.SHF_WRITE) !== 0);
  if (a === RelAction.None) return;
  const syms = link.ctx.syms;
  switch (a) {
    case RelAction.Error:
      reportPicError(link, sec, off, type, sym);
      return;
    case RelAction.BaseRel:
    case RelAction.DynRel:
      if (!checkWritable(link, sec, off, type, sym)) return;
      link.relDynCount++;
      // If a later relocation copies this symbol into the executable, this one will need no
      // dynamic relocation after all (position-dependent) or a RELATIVE one (PIE): remember it.
      if (a === RelAction.DynRel && !link.ctx.target.isShared)
        link.dynRelsBySym.set(sym, (link.dynRelsBySym.get(sym) ?? 0) + 1);
      return;
    case RelAction.Copy:
      // -z nocopyreloc: the code must be rebuilt position-independent instead.
      if (syms.state[sym] !== SymState.Shared || link.ctx.config.zFlags.has('nocopyreloc')) {
        reportPicError(link, sec, off, type, sym);
        return;
      }
      syms.flags[sym] = syms.flags[sym]! | SymFlag.NeedsCopy;
      return;
    case RelAction.CanonicalPlt:
      syms.flags[sym] = syms.flags[sym]! | SymFlag.NeedsPlt | SymFlag.CanonicalPlt;
      return;
    case RelAction.Plt:
      syms.flags[sym] = syms.flags[sym]! | SymFlag.NeedsPlt;
      return;
  }
}

function reportPicError(
  link: ElfLink,
  sec: InputSection,
  off: number,
  type: number,
  sym: SymId,
): void {
  const ctx = link.ctx;
  const local = (ctx.syms.flags[sym]! & SymFlag.Local) !== 0;
  const what = local ? 'local symbol' : `symbol '${ctx.symName(sym)}'`;
  const kind = ctx.target.isShared ? 'a shared object' : 'a PIE';
  ctx.diag.error(
    `relocation ${link.arch.relocName(type)} cannot be used against ${what}; recompile with -fPIC\n` +
      `>>> defined in ${definedIn(link, sym)}\n` +
      `>>> referenced by ${refLocation(link, sec.id, off)}` +
      (ctx.syms.state[sym] === SymState.Shared ? '' : `\n>>> (making ${kind})`),
  );
}

function definedIn(link: ElfLink, sym: SymId): string {
  const f = link.ctx.syms.file[sym]!;
  return f >= 0 ? (link.ctx.files[f]?.displayName ?? '<internal>') : '<internal>';
}

/** A dynamic relocation in a read-only section needs `-z notext` (and sets DT_TEXTREL). */
function checkWritable(
  link: ElfLink,
  sec: InputSection,
  off: number,
  type: number,
  sym: SymId,
): boolean {
  if ((sec.flags & C.SHF_WRITE) !== 0) return true;
  const z = link.ctx.config.zFlags;
  if (z.has('notext') || z.has('textoff')) {
    link.textRel = true;
    return true;
  }
  const ctx = link.ctx;
  const local = (ctx.syms.flags[sym]! & SymFlag.Local) !== 0;
  ctx.diag.error(
    `relocation ${link.arch.relocName(type)} cannot be used against ${local ? 'local symbol' : `symbol '${ctx.symName(sym)}'`}; recompile with -fPIC\n` +
      `>>> defined in ${definedIn(link, sym)}\n` +
      `>>> referenced by ${refLocation(link, sec.id, off)}\n` +
      `>>> (a dynamic relocation would land in read-only section ${sec.name}; -z notext allows it)`,
  );
  return false;
}

/**
 * Apply-time half for word-sized absolute relocations: emits the dynamic relocation the scan
 * counted and returns the value to store in the field (RELA ignores it; REL uses it as addend).
 */
export function applyAbsWord(
  link: ElfLink,
  sec: InputSection,
  P: number,
  sym: SymId,
  S: number,
  A: number,
): number {
  switch (relAction(link, RelClass.AbsWord, sym, (sec.flags & C.SHF_WRITE) !== 0)) {
    case RelAction.BaseRel:
      link.relDyn.add(P, link.arch.dynRel.RELATIVE, -1, S + A);
      return S + A;
    case RelAction.DynRel:
      link.relDyn.add(P, link.arch.dynRel.ABS, sym, A);
      return A;
    default:
      return S + A;
  }
}

/** One Elf64_Rela / Elf32_Rela / Elf32_Rel at `o` (REL keeps its addend in the field). */
export function writeRelEntry(
  buf: Uint8Array,
  o: number,
  is64: boolean,
  rela: boolean,
  offset: number,
  symIdx: number,
  type: number,
  addend: number,
): void {
  if (is64) {
    w64(buf, o, offset);
    w64(buf, o + 8, symIdx * 2 ** 32 + type);
    w64(buf, o + 16, addend);
  } else {
    w32(buf, o, offset >>> 0);
    w32(buf, o + 4, ((symIdx << 8) | type) >>> 0);
    if (rela) w32(buf, o + 8, addend >>> 0);
  }
}

/**
 * The dynamic relocations of `.rela.dyn`, collected as they are produced (GOT slots, copies,
 * relocated data) in columns, and written sorted once all are known: RELATIVE ones first, by
 * address (what DT_RELACOUNT promises and what makes the loader's pass cache-friendly), then
 * the symbolic ones by address.
 */
export class DynRelocs {
  count = 0;
  private cap = 256;
  offsets = new Float64Array(this.cap);
  types = new Uint32Array(this.cap);
  /** SymId, or -1 for none (dynamic symbol index 0). */
  syms = new Int32Array(this.cap);
  addends = new Float64Array(this.cap);

  add(offset: number, type: number, sym: SymId, addend: number): void {
    if (this.count === this.cap) this.grow();
    const i = this.count++;
    this.offsets[i] = offset;
    this.types[i] = type;
    this.syms[i] = sym;
    this.addends[i] = addend;
  }

  private grow(): void {
    const cap = this.cap * 2;
    const f = (a: Float64Array) => {
      const b = new Float64Array(cap);
      b.set(a);
      return b;
    };
    this.offsets = f(this.offsets);
    this.addends = f(this.addends);
    const t = new Uint32Array(cap);
    t.set(this.types);
    this.types = t;
    const s = new Int32Array(cap);
    s.set(this.syms);
    this.syms = s;
    this.cap = cap;
  }

  /** Number of RELATIVE relocations (DT_RELACOUNT). */
  countOf(type: number): number {
    let n = 0;
    for (let i = 0; i < this.count; i++) if (this.types[i] === type) n++;
    return n;
  }

  /** Writes all entries at `off` in `buf`, RELATIVE first; `dynIdx` maps SymId → .dynsym index. */
  write(
    buf: Uint8Array,
    off: number,
    is64: boolean,
    rela: boolean,
    relative: number,
    dynIdx: (sym: SymId) => number,
  ): void {
    const order = Array.from({ length: this.count }, (_, i) => i);
    order.sort((a, b) => {
      const ra = this.types[a] === relative ? 0 : 1;
      const rb = this.types[b] === relative ? 0 : 1;
      return ra - rb || this.offsets[a]! - this.offsets[b]! || a - b;
    });
    const ent = is64 ? 24 : rela ? 12 : 8;
    for (let k = 0; k < order.length; k++) {
      const i = order[k]!;
      const o = off + k * ent;
      const s = this.syms[i]! < 0 ? 0 : dynIdx(this.syms[i]!);
      writeRelEntry(buf, o, is64, rela, this.offsets[i]!, s, this.types[i]!, this.addends[i]!);
    }
  }
}

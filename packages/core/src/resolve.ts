import type { Context } from './context.js';
import { SymFlag, SymState, type SymId } from './symbols.js';

/**
 * Symbol resolution rules, shared by every format.
 *
 * A symbol's current definition is replaced only by a better-ranked one:
 *   strong definition < common < weak definition < shared-library definition < lazy < undefined.
 * Two strong definitions are a duplicate-symbol error; two commons merge (largest size, largest
 * alignment). Archive members are lazy: a member is extracted when a strong undefined reference
 * meets a lazy symbol, in either order (lld's semantics, which makes `--start-group` ordering
 * unnecessary while still linking exactly what is referenced). Extraction is queued and drained
 * to a fixpoint by `drainExtractQueue`.
 */
const enum Rank {
  Strong = 1,
  Common = 2,
  Weak = 3,
  Shared = 4,
  Lazy = 5,
  Undefined = 6,
}

function rankOf(ctx: Context, id: SymId): Rank {
  const s = ctx.syms;
  switch (s.state[id]) {
    case SymState.Defined:
      return s.flags[id]! & SymFlag.Weak ? Rank.Weak : Rank.Strong;
    case SymState.Common:
      return Rank.Common;
    case SymState.Shared:
      return Rank.Shared;
    case SymState.Lazy:
      return Rank.Lazy;
    default:
      return Rank.Undefined;
  }
}

/** Applies a symbol's visibility from one more object: the most constraining one wins. */
export function mergeVisibility(ctx: Context, id: SymId, vis: number): void {
  if (vis === 0) return;
  const cur = ctx.syms.visibility[id]!;
  // ELF order of constraint: internal(1) > hidden(2) > protected(3) > default(0).
  if (cur === 0 || vis < cur) ctx.syms.visibility[id] = vis;
}

/** Records that a duplicate definition was seen; reported by `checkDuplicates`. */
export interface DuplicateRecord {
  sym: SymId;
  file: number;
}

export function duplicates(ctx: Context): DuplicateRecord[] {
  let d = ctx.ext.get('core.duplicates') as DuplicateRecord[] | undefined;
  if (!d) {
    d = [];
    ctx.ext.set('core.duplicates', d);
  }
  return d;
}

/** A definition from a live object file. */
export function defineSymbol(
  ctx: Context,
  id: SymId,
  file: number,
  fileSymIdx: number,
  section: number,
  value: number,
  size: number,
  type: number,
  weak: boolean,
  absolute: boolean,
): void {
  const s = ctx.syms;
  const newRank = weak ? Rank.Weak : Rank.Strong;
  const oldRank = rankOf(ctx, id);
  if (newRank === Rank.Strong && oldRank === Rank.Strong) {
    duplicates(ctx).push({ sym: id, file });
    return;
  }
  if (newRank >= oldRank) return;
  const dsoDefined = s.state[id] === SymState.Shared;
  s.state[id] = SymState.Defined;
  s.file[id] = file;
  s.fileSymIdx[id] = fileSymIdx;
  s.section[id] = section;
  s.value[id] = value;
  s.size[id] = size;
  s.type[id] = type;
  let f = s.flags[id]! & ~(SymFlag.Weak | SymFlag.Absolute);
  if (weak) f |= SymFlag.Weak;
  if (absolute) f |= SymFlag.Absolute;
  // A shared library defines it too: the output must export it so the library binds here.
  if (dsoDefined) f |= SymFlag.RefByDso;
  s.flags[id] = f;
}

/** A common symbol (C tentative definition): merged by size and alignment. */
export function defineCommon(
  ctx: Context,
  id: SymId,
  file: number,
  fileSymIdx: number,
  size: number,
  align: number,
): void {
  const s = ctx.syms;
  const oldRank = rankOf(ctx, id);
  if (oldRank === Rank.Common) {
    if (size > s.size[id]!) {
      s.size[id] = size;
      s.file[id] = file;
      s.fileSymIdx[id] = fileSymIdx;
    }
    if (align > s.aux[id]!) s.aux[id] = align;
    return;
  }
  if (oldRank < Rank.Common) return;
  const dsoDefined = s.state[id] === SymState.Shared;
  s.state[id] = SymState.Common;
  s.file[id] = file;
  s.fileSymIdx[id] = fileSymIdx;
  s.section[id] = -1;
  s.value[id] = 0;
  s.size[id] = size;
  s.aux[id] = align;
  s.type[id] = 1; // object
  s.flags[id] =
    (s.flags[id]! & ~(SymFlag.Weak | SymFlag.Absolute)) | (dsoDefined ? SymFlag.RefByDso : 0);
}

/** A definition from a shared library (resolves references, loses to any object definition). */
export function defineShared(
  ctx: Context,
  id: SymId,
  file: number,
  value: number,
  size: number,
  type: number,
  weak: boolean,
): void {
  const s = ctx.syms;
  if (rankOf(ctx, id) <= Rank.Shared) return;
  s.state[id] = SymState.Shared;
  s.file[id] = file;
  s.section[id] = -1;
  s.value[id] = value;
  s.size[id] = size;
  s.type[id] = type;
  let f = s.flags[id]! & ~(SymFlag.Weak | SymFlag.Absolute);
  if (weak) f |= SymFlag.Weak;
  s.flags[id] = f;
}

/** An undefined reference from a live object. A strong one extracts a lazy definition. */
export function referenceSymbol(ctx: Context, id: SymId, weak: boolean): void {
  const s = ctx.syms;
  s.flags[id] = s.flags[id]! | (weak ? SymFlag.RefWeak : SymFlag.RefStrong);
  if (!weak && s.state[id] === SymState.Lazy) extractLazy(ctx, id);
}

/**
 * An archive index entry: the symbol becomes lazy, or is extracted at once if already needed.
 * `member` is a member id from the index (`Archive.symbolMembers`), below `extracted.length`.
 */
export function addLazySymbol(ctx: Context, id: SymId, archive: number, member: number): void {
  const s = ctx.syms;
  const st = s.state[id];
  if (st !== SymState.Undefined) return;
  s.state[id] = SymState.Lazy;
  s.file[id] = archive;
  s.aux[id] = member;
  if (s.flags[id]! & SymFlag.RefStrong) extractLazy(ctx, id);
}

function extractLazy(ctx: Context, id: SymId): void {
  const s = ctx.syms;
  const archive = s.file[id]!;
  const member = s.aux[id]!;
  // Back to undefined: the member's own definition (or a later one) takes it from here.
  s.state[id] = SymState.Undefined;
  s.file[id] = -1;
  s.aux[id] = 0;
  const ar = ctx.archives[archive]!;
  if (ar.extracted[member] !== -1) return;
  ar.extracted[member] = -2; // queued
  ctx.extractQueue.push([archive, member]);
}

/**
 * Parses queued archive members until no more are queued. `load` is the format's member reader;
 * it defines and references symbols, which may queue further members.
 */
export function drainExtractQueue(
  ctx: Context,
  load: (archive: number, member: number) => void,
): void {
  const q = ctx.extractQueue;
  for (let i = 0; i < q.length; i++) {
    const [a, m] = q[i]!;
    load(a, m);
  }
  q.length = 0;
}

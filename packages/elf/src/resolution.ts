import {
  SymFlag,
  SymState,
  drainExtractQueue,
  duplicates,
  formatLocation,
  referenceSymbol,
} from '@link/core';
import { loadMember } from './inputs.js';
import type { ElfLink } from './link.js';
import type { ElfObjectFile } from './object-file.js';

/** Entry point and `-u` names are strong references: they pull archive members like any other. */
export function resolveSymbols(link: ElfLink): void {
  const ctx = link.ctx;
  const roots = [...ctx.config.undefinedSymbols];
  const entry = ctx.config.entry ?? '_start';
  // A shared object has no entry point unless one is asked for.
  if (ctx.config.outputKind !== 'shared' || ctx.config.entry !== null) roots.push(entry);
  for (const name of roots) {
    const id = ctx.syms.intern(name);
    ctx.syms.flags[id] = ctx.syms.flags[id]! | SymFlag.Root;
    referenceSymbol(ctx, id, name === entry && ctx.config.entry === null);
  }
  drainExtractQueue(ctx, (a, m) => loadMember(link, a, m));
}

/** `duplicate symbol: foo` with the two defining files, as lld reports it. */
export function checkDuplicates(link: ElfLink): void {
  const ctx = link.ctx;
  for (const d of duplicates(ctx)) {
    const id = d.sym;
    const first = ctx.syms.file[id]!;
    // The first definition may have been replaced since (it never is by a strong one).
    const a = ctx.files[first]?.displayName ?? '<internal>';
    const b = ctx.files[d.file]?.displayName ?? '<internal>';
    ctx.diag.error(
      `duplicate symbol: ${ctx.symName(id)}\n>>> defined at ${a}\n>>> defined at ${b}`,
    );
  }
}

/** The function (or other named symbol) that contains `offset` in a section, for messages. */
function enclosingSymbol(link: ElfLink, secId: number, offset: number): string | null {
  const ctx = link.ctx;
  const sec = ctx.sections[secId]!;
  const file = sec.file as ElfObjectFile;
  const syms = ctx.syms;
  let best: string | null = null;
  for (let i = 1; i < file.symIds.length; i++) {
    const id = file.symIds[i]!;
    if (syms.file[id] !== file.id || syms.section[id] !== secId) continue;
    const t = syms.type[id]!;
    if (t !== 1 && t !== 2 && t !== 10) continue;
    const v = syms.value[id]!;
    const sz = syms.size[id]!;
    if (offset >= v && offset < v + Math.max(sz, 1)) best = ctx.symName(id);
  }
  return best;
}

export function refLocation(link: ElfLink, secId: number, offset: number): string {
  const sec = link.ctx.sections[secId]!;
  const fn = enclosingSymbol(link, secId, offset);
  if (fn !== null) return `${sec.file.displayName}:(${fn})`;
  return formatLocation(sec.file.displayName, sec.name, offset);
}

/** Reports each undefined symbol once, with up to three referencing places (lld's format). */
export function checkUndefined(link: ElfLink): void {
  const ctx = link.ctx;
  const bySym = new Map<number, { sec: number; offset: number }[]>();
  for (const r of link.undefRefs) {
    let l = bySym.get(r.sym);
    if (!l) bySym.set(r.sym, (l = []));
    l.push({ sec: r.sec, offset: r.offset });
  }
  // A shared object may leave symbols to the modules it is loaded with, unless -z defs; only a
  // non-default visibility reference must be satisfied inside it.
  const allowUndefined = ctx.config.outputKind === 'shared' && !ctx.config.dynamic.noUndefined;
  for (const [sym, refs] of bySym) {
    if (ctx.syms.state[sym] !== SymState.Undefined && ctx.syms.state[sym] !== SymState.Lazy)
      continue;
    if (allowUndefined && ctx.syms.visibility[sym] === 0) continue;
    const lines = [`undefined symbol: ${ctx.symName(sym)}`];
    for (const r of refs.slice(0, 3))
      lines.push(`>>> referenced by ${refLocation(link, r.sec, r.offset)}`);
    if (refs.length > 3) lines.push(`>>> referenced ${refs.length - 3} more times`);
    ctx.diag.error(lines.join('\n'));
  }
  // An explicit entry point must exist.
  const entry = ctx.config.entry;
  if (entry !== null) {
    const id = ctx.syms.lookup(entry);
    if (id < 0 || link.isUndefined(id))
      ctx.diag.error(`undefined symbol: ${entry}\n>>> referenced by the entry point (-e)`);
  }
}

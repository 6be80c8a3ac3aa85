import { SymFlag, gcSections, u32, u64, type InputSection } from '@link/core';
import * as C from './constants.js';
import type { ElfLink } from './link.js';

/** A section name usable as a C identifier gets `__start_`/`__stop_` symbols: keep it. */
export function isCIdentifier(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name);
}

/**
 * `--gc-sections` for ELF: roots are the entry point, `-u` symbols, exported dynamic symbols,
 * init/fini arrays and the
 * sections that must never be dropped (.init/.fini, notes, retained and C-identifier sections).
 * .eh_frame is not a root: FDEs of dead functions are dropped afterwards, and a live function's
 * FDE keeps its LSDA and personality alive (done by treating .eh_frame relocations as edges
 * from the function's section).
 */
export function runGcSections(link: ElfLink): void {
  const ctx = link.ctx;
  if (!ctx.config.gcSections) return;
  const roots: InputSection[] = [];
  const syms = ctx.syms;
  for (const id of syms.globalIds()) {
    // Exported symbols (a shared object's, a plugin's table) are roots too: other modules use them.
    if ((syms.flags[id]! & (SymFlag.Root | SymFlag.Exported)) === 0) continue;
    const s = syms.section[id]!;
    if (s >= 0 && syms.state[id] === 1) roots.push(ctx.sections[s]!);
  }
  // Sections whose FDEs reference them: map function section → .eh_frame section(s).
  const ehByTarget = new Map<InputSection, InputSection[]>();
  for (const s of ctx.sections) {
    if (s.name !== '.eh_frame' || !s.relocs) continue;
    const r = s.relocs;
    const symCol = r.store.sym;
    for (let i = r.start; i < r.start + r.count; i++) {
      const t = syms.section[symCol[i]!]!;
      if (t < 0) continue;
      const target = ctx.sections[t]!;
      if (target.name === '.eh_frame') continue;
      let l = ehByTarget.get(target);
      if (!l) ehByTarget.set(target, (l = []));
      if (!l.includes(s)) l.push(s);
    }
  }
  // SHF_LINK_ORDER sections (ARM's .ARM.exidx) describe the section they link to: they live
  // exactly when it does, so they are edges from it and never roots.
  const linkOrderDeps = new Map<InputSection, InputSection[]>();
  for (const s of ctx.sections) {
    if (!(s.flags & C.SHF_LINK_ORDER) || !s.isAlive) continue;
    const t = linkOrderTarget(s);
    if (!t) continue;
    let l = linkOrderDeps.get(t);
    if (!l) linkOrderDeps.set(t, (l = []));
    l.push(s);
  }
  const isCollectable = (s: InputSection): boolean => {
    if ((s.flags & C.SHF_ALLOC) === 0) return false;
    if (s.name === '.eh_frame') return false;
    if (s.flags & C.SHF_GNU_RETAIN) return false;
    const t = s.type;
    if (
      t === C.SHT_INIT_ARRAY ||
      t === C.SHT_FINI_ARRAY ||
      t === C.SHT_PREINIT_ARRAY ||
      t === C.SHT_NOTE
    )
      return false;
    const n = s.name;
    if (
      n === '.init' ||
      n === '.fini' ||
      n.startsWith('.ctors') ||
      n.startsWith('.dtors') ||
      n.startsWith('.init_array') ||
      n.startsWith('.fini_array')
    )
      return false;
    if (isCIdentifier(n)) return false;
    return true;
  };
  // .eh_frame itself stays alive but must not keep every function alive: its edges are followed
  // only from the function's side (below), so mark .eh_frame sections visited up front.
  for (const s of ctx.sections) if (s.name === '.eh_frame') s.isVisited = true;
  gcSections(ctx, roots, isCollectable, (sec, visit) => {
    for (const d of linkOrderDeps.get(sec) ?? []) visit(d);
    const ehs = ehByTarget.get(sec);
    if (!ehs) return;
    // Follow the FDE's other references (LSDA in .gcc_except_table, personality) for this function.
    for (const eh of ehs) {
      const r = eh.relocs!;
      const symCol = r.store.sym;
      for (let i = r.start; i < r.start + r.count; i++) {
        const t = syms.section[symCol[i]!]!;
        if (t >= 0 && ctx.sections[t] !== sec && ctx.sections[t]!.name !== '.eh_frame') {
          const target = ctx.sections[t]!;
          // Only LSDAs and personality routines, not other functions' code.
          if (target.name.startsWith('.gcc_except_table') || (target.flags & C.SHF_EXECINSTR) === 0)
            visit(target);
        }
      }
    }
  });
}

/** The section a SHF_LINK_ORDER section's sh_link names, read from its file's header table. */
export function linkOrderTarget(sec: InputSection): InputSection | null {
  const file = sec.file;
  const b = file.bytes;
  if (sec.index < 0 || b.length < 52) return null;
  const is64 = b[4] === 2;
  const shoff = is64 ? u64(b, 40) : u32(b, 32);
  const ent = is64 ? C.ELF64_SHDR_SIZE : C.ELF32_SHDR_SIZE;
  const o = shoff + sec.index * ent + (is64 ? 40 : 24);
  if (o + 4 > b.length) return null;
  file.ensure(o, o + 4); // archive members and large files are read on demand
  const link = u32(b, o);
  for (const s of file.sections) if (s && s.index === link) return s;
  return null;
}

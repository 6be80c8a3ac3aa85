import { SymFlag, SymState } from '@link/core';
import * as C from './constants.js';
import type { ElfLink } from './link.js';

/** What a GOT entry holds. TLS pairs take two words. */
export const enum GotKind {
  /** The symbol's address. */
  Addr = 0,
  /** The symbol's offset from the thread pointer (initial-exec TLS). */
  TpOff = 1,
  /** Module id and offset in the module's TLS block (general-dynamic TLS, a pair). */
  TlsGd = 2,
  /** A TLS descriptor (a pair the loader fills with a resolver and its argument). */
  TlsDesc = 3,
  /** Module id of this module, offset 0 (local-dynamic TLS, a pair shared by all). */
  TlsLd = 4,
}

/**
 * Runs the arch's relocation scan over every live allocated section. Beyond this point the set
 * of GOT/PLT slots is fixed.
 */
export function scanRelocations(link: ElfLink): void {
  const arch = link.arch;
  for (const sec of link.ctx.sections) {
    if (!sec.isAlive || sec.osec === null || sec.relocs === null) continue;
    if ((sec.flags & C.SHF_ALLOC) === 0) continue;
    arch.scanRelocs(link, sec);
  }
}

function addGot(link: ElfLink, id: number, kind: GotKind, words: number): void {
  link.gotSyms.push(id);
  link.gotKinds.push(kind);
  link.gotWords.push(link.gotWordCount);
  link.gotWordCount += words;
}

/**
 * Assigns GOT, PLT, IPLT and copy-relocation slots in one sequential loop in SymId order
 * (mold's rule), so the output does not depend on scan order, and counts the dynamic
 * relocations the GOT will need.
 */
export function allocateSlots(link: ElfLink): void {
  const syms = link.ctx.syms;
  const n = syms.count;
  const flags = syms.flags;
  const SLOT_FLAGS =
    SymFlag.NeedsGot |
    SymFlag.NeedsGotTp |
    SymFlag.NeedsIplt |
    SymFlag.NeedsPlt |
    SymFlag.NeedsTlsGd |
    SymFlag.NeedsTlsDesc |
    SymFlag.NeedsCopy;
  for (let id = 0; id < n; id++) {
    const f = flags[id]!;
    if ((f & SLOT_FLAGS) === 0) continue;
    if (f & SymFlag.NeedsIplt) {
      syms.pltIdx[id] = link.ipltSyms.length;
      link.ipltSyms.push(id);
    } else if (f & SymFlag.NeedsPlt) {
      syms.pltIdx[id] = link.pltSyms.length;
      link.pltSyms.push(id);
    }
    if (f & SymFlag.NeedsCopy) link.copySyms.push(id);
    // gotIdx is the first of the symbol's GOT words; TLS pairs and the address slot of one
    // symbol never coexist in practice, so one index column serves (the kind tells which).
    if (f & SymFlag.NeedsGot) {
      syms.gotIdx[id] = link.gotWordCount;
      addGot(link, id, GotKind.Addr, 1);
    }
    if (f & SymFlag.NeedsGotTp) {
      link.gotTpIdx.set(id, link.gotWordCount);
      addGot(link, id, GotKind.TpOff, 1);
    }
    if (f & SymFlag.NeedsTlsGd) {
      link.tlsGdIdx.set(id, link.gotWordCount);
      addGot(link, id, GotKind.TlsGd, 2);
    }
    if (f & SymFlag.NeedsTlsDesc) {
      link.tlsDescIdx.set(id, link.gotWordCount);
      addGot(link, id, GotKind.TlsDesc, 2);
    }
  }
  if (link.needsTlsLd) {
    link.tlsLdIdx = link.gotWordCount;
    addGot(link, link.nullSym, GotKind.TlsLd, 2);
  }
  if (link.isDynamic) link.relDynCount += countGotRelocs(link) + link.copySyms.length;
  if (link.isDynamic && link.arch.irelativeInRelDyn) link.relDynCount += link.ipltSyms.length;
  // Relocations counted as symbolic before their symbol turned out to be copied: in a
  // position-dependent executable they now resolve at link time.
  if (!link.ctx.target.isPIC)
    for (const id of link.copySyms) link.relDynCount -= link.dynRelsBySym.get(id) ?? 0;
}

/** Whether a GOT address slot of `id` needs a RELATIVE relocation (PIC, a real address). */
export function gotNeedsRelative(link: ElfLink, id: number): boolean {
  const syms = link.ctx.syms;
  if (!link.ctx.target.isPIC) return false;
  if (syms.flags[id]! & (SymFlag.Absolute | SymFlag.Preemptible)) return false;
  return syms.state[id] === SymState.Defined;
}

/** Whether a TLS slot can hold its final value now (an executable's own TLS). */
export function tlsIsStatic(link: ElfLink, id: number): boolean {
  return !link.ctx.target.isShared && (link.ctx.syms.flags[id]! & SymFlag.Imported) === 0;
}

function countGotRelocs(link: ElfLink): number {
  const syms = link.ctx.syms;
  let n = 0;
  for (let i = 0; i < link.gotSyms.length; i++) {
    const id = link.gotSyms[i]!;
    const preempt = (syms.flags[id]! & SymFlag.Preemptible) !== 0;
    switch (link.gotKinds[i]) {
      case GotKind.Addr:
        if (preempt || gotNeedsRelative(link, id)) n++;
        break;
      case GotKind.TpOff:
        if (!tlsIsStatic(link, id)) n++;
        break;
      case GotKind.TlsGd:
        if (!tlsIsStatic(link, id)) n += preempt ? 2 : 1;
        break;
      case GotKind.TlsDesc:
        n++;
        break;
      case GotKind.TlsLd:
        if (link.ctx.target.isShared) n++;
        break;
    }
  }
  return n;
}

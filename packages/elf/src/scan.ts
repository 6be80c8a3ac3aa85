import { SymFlag } from '@link/core';
import * as C from './constants.js';
import type { ElfLink } from './link.js';

/** GOT slot contents. */
export const enum GotKind {
  /** The symbol's address. */
  Addr = 0,
  /** The symbol's offset from the thread pointer (initial-exec TLS). */
  TpOff = 1,
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

/**
 * Assigns GOT and IPLT slots in one sequential loop in SymId order (mold's rule), so the output
 * does not depend on scan order.
 */
export function allocateSlots(link: ElfLink): void {
  const syms = link.ctx.syms;
  const n = syms.count;
  const flags = syms.flags;
  for (let id = 0; id < n; id++) {
    const f = flags[id]!;
    if ((f & (SymFlag.NeedsGot | SymFlag.NeedsGotTp | SymFlag.NeedsIplt)) === 0) continue;
    if (f & SymFlag.NeedsIplt) {
      syms.pltIdx[id] = link.ipltSyms.length;
      link.ipltSyms.push(id);
    }
    if (f & SymFlag.NeedsGot) {
      syms.gotIdx[id] = link.gotSyms.length;
      link.gotSyms.push(id);
      link.gotKinds.push(GotKind.Addr);
    } else if (f & SymFlag.NeedsGotTp) {
      syms.gotIdx[id] = link.gotSyms.length;
      link.gotSyms.push(id);
      link.gotKinds.push(GotKind.TpOff);
    }
  }
}

import { SymFlag, SymState } from '@link/core';
import * as C from './constants.js';
import type { ElfLink } from './link.js';
import { pltEntryAddr } from './got-plt.js';

/** Flag for section symbols of merged sections: their address depends on the addend. */
export const MERGE_SECTION_SYM = 1 << 20;

/**
 * Final addresses of every symbol, in one pass over the symbol table's columns. A symbol in a
 * discarded section gets 0 (what a reference from debug info expects); an IFUNC with a PLT
 * entry gets the entry (its canonical address in a static link).
 */
export function computeSymbolAddresses(link: ElfLink): void {
  const ctx = link.ctx;
  const syms = ctx.syms;
  const secs = ctx.sections;
  const n = syms.count;
  const dynbss = link.dynSections?.dynbss ?? null;
  for (let id = 0; id < n; id++) {
    const st = syms.state[id]!;
    if (st !== SymState.Defined) {
      // An imported symbol has an address here only if copied or given a canonical PLT entry.
      const f = syms.flags[id]!;
      if (st === SymState.Shared && f & SymFlag.NeedsCopy && dynbss)
        syms.addr[id] = dynbss.addr + link.copyOffsets.get(id)!;
      else if (st === SymState.Shared && f & SymFlag.CanonicalPlt)
        syms.addr[id] = pltEntryAddr(link, id) + (link.arch.plt.canonicalOffset ?? 0);
      else syms.addr[id] = 0;
      continue;
    }
    const s = syms.section[id]!;
    if (s < 0) {
      syms.addr[id] = syms.value[id]!;
      continue;
    }
    const sec = secs[s]!;
    if (!sec.isAlive || sec.osec === null) {
      syms.addr[id] = 0;
      continue;
    }
    if (sec.mergeMap !== null && syms.type[id] === C.STT_SECTION) {
      syms.flags[id] = syms.flags[id]! | MERGE_SECTION_SYM;
      syms.addr[id] = sec.osec.addr;
      continue;
    }
    syms.addr[id] = sec.addrOf(syms.value[id]!);
    if (syms.flags[id]! & SymFlag.NeedsIplt)
      syms.addr[id] = pltEntryAddr(link, id) + (link.arch.plt.canonicalOffset ?? 0);
  }
  const entry = ctx.config.entry ?? '_start';
  const e = syms.lookup(entry);
  if (e >= 0 && syms.state[e] === SymState.Defined) link.entryAddr = syms.addr[e]!;
  else if (/^(0x[0-9a-f]+|\d+)$/i.test(entry)) link.entryAddr = Number(entry);
  else {
    link.entryAddr = 0;
    if (ctx.config.outputKind === 'exe' && !link.ctx.target.isShared)
      ctx.diag.warn(`cannot find entry symbol ${entry}; not setting start address`);
  }
}

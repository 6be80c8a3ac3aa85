/**
 * What the branch relocations share between applying them (elf.ts) and deciding which need a
 * thunk (thunks.ts): which types are branches, in which instruction set, and where a branch to
 * a symbol lands.
 */
import { SymFlag } from '@link/core';
import { type ElfLink, pltEntryAddr, STT_FUNC, STT_GNU_IFUNC } from '@link/elf';
import * as R from './relocs.js';
import { PLT_ARM_OFFSET } from './isa.js';

/** Whether a relocation type is a branch the thunk pass may redirect. */
export function isBranch(type: number): boolean {
  return (
    type === R.R_ARM_CALL ||
    type === R.R_ARM_JUMP24 ||
    type === R.R_ARM_PC24 ||
    type === R.R_ARM_PLT32 ||
    type === R.R_ARM_THM_CALL ||
    type === R.R_ARM_THM_JUMP24 ||
    type === R.R_ARM_THM_JUMP19
  );
}

export function isThumbBranch(type: number): boolean {
  return type === R.R_ARM_THM_CALL || type === R.R_ARM_THM_JUMP24 || type === R.R_ARM_THM_JUMP19;
}

/** A function that may be reached in the other instruction set (its bit 0 says which). */
export function interworks(link: ElfLink, sym: number): boolean {
  const syms = link.ctx.syms;
  const t = syms.type[sym]!;
  return (
    t === STT_FUNC ||
    t === STT_GNU_IFUNC ||
    (syms.flags[sym]! & (SymFlag.NeedsPlt | SymFlag.NeedsIplt)) !== 0
  );
}

/** Where a branch from `thumb` code to `sym` lands: a PLT entry's Thumb or ARM half, or S. */
export function branchTarget(link: ElfLink, sym: number, thumb: boolean, S: number): number {
  if (link.ctx.syms.flags[sym]! & (SymFlag.NeedsPlt | SymFlag.NeedsIplt)) {
    const e = pltEntryAddr(link, sym);
    return thumb ? e | 1 : e + PLT_ARM_OFFSET;
  }
  return S;
}

import { SymFlag, SymState, formatLocation, type InputSection, type SymId } from '@link/core';
import * as C from './constants.js';
import type { ElfLink } from './link.js';
import { pltEntryAddr } from './got-plt.js';

/**
 * Arch-neutral checks every `ElfArch.scanRelocs`/`applyRelocs` makes, whatever the encoding of
 * its relocations: which references need a diagnostic, which symbols bind at link time, and
 * lld-style range errors.
 */

/**
 * Per-relocation bookkeeping before the arch classifies it: the offset must lie in the section,
 * a strong reference to an undefined symbol is recorded for the undefined-symbol report, and a
 * local IFUNC gets its PLT entry. Returns false when the relocation must be skipped.
 */
export function noteReference(
  link: ElfLink,
  sec: InputSection,
  sym: SymId,
  off: number,
  width: number,
): boolean {
  const ctx = link.ctx;
  const syms = ctx.syms;
  // The size, not `contents`: that getter makes a new view, and this runs for every relocation.
  if (off + width > sec.size && sec.size > 0) {
    ctx.diag.error(
      `${formatLocation(sec.file.displayName, sec.name, off)}: relocation offset is past the end of the section`,
    );
    return false;
  }
  const st = syms.state[sym]!;
  const f = syms.flags[sym]!;
  if (
    (st === SymState.Undefined || st === SymState.Lazy) &&
    (f & SymFlag.RefStrong) !== 0 &&
    (f & SymFlag.Weak) === 0
  )
    link.undefRefs.push({ sym, sec: sec.id, offset: off });
  if (syms.type[sym] === C.STT_GNU_IFUNC && st === SymState.Defined && !(f & SymFlag.Preemptible))
    syms.flags[sym] = f | SymFlag.NeedsIplt;
  return true;
}

/** Whether references to `sym` can bind at link time (no dynamic symbol can preempt it). */
export function isLocalBinding(link: ElfLink, sym: SymId): boolean {
  const syms = link.ctx.syms;
  if (syms.state[sym] === SymState.Shared) return false;
  if ((syms.flags[sym]! & SymFlag.Preemptible) !== 0) return false;
  // In a static link every definition is final, and an undefined weak symbol is 0.
  if (!link.ctx.target.isPIC) return true;
  // Position-independent code cannot reach an absolute address relative to itself.
  return syms.state[sym] === SymState.Defined && (syms.flags[sym]! & SymFlag.Absolute) === 0;
}

/** Initial-exec can become local-exec only in an executable, for its own TLS symbols. */
export function canRelaxTlsToLe(link: ElfLink, sym: SymId): boolean {
  return !link.ctx.target.isShared && (link.ctx.syms.flags[sym]! & SymFlag.Imported) === 0;
}

/** `relocation R_X out of range: v is not in [lo, hi]; references 'sym'`, as lld says it. */
export function reportOverflow(
  link: ElfLink,
  sec: InputSection,
  off: number,
  type: number,
  sym: SymId,
  v: number,
  lo: number,
  hi: number,
): void {
  const name = link.ctx.symName(sym);
  link.ctx.diag.error(
    `${formatLocation(sec.file.displayName, sec.name, off)}: relocation ${link.arch.relocName(type)} out of range: ${v} is not in [${lo}, ${hi}]; references '${name}'` +
      (link.ctx.syms.state[sym] === SymState.Defined ? '' : `\n>>> ${name} is undefined`),
  );
}

/**
 * A relocation type the arch does not handle: `unknown relocation (N)` for a number no spec
 * names, `unsupported relocation R_X` for one it names but tslink does not implement.
 */
export function reportUnknownRelocation(
  link: ElfLink,
  sec: InputSection,
  off: number,
  type: number,
  sym: SymId,
): void {
  const name = link.arch.relocName(type);
  const what = name.startsWith('unknown')
    ? `unknown relocation (${type})`
    : `unsupported relocation ${name}`;
  link.ctx.diag.error(
    `${formatLocation(sec.file.displayName, sec.name, off)}: ${what} against symbol ${link.ctx.symName(sym)}`,
  );
}

/** A call (or PC-relative use) of a function: through a PLT entry when another module may define it. */
export function scanCall(link: ElfLink, sym: SymId): void {
  const flags = link.ctx.syms.flags;
  if (flags[sym]! & SymFlag.Preemptible) flags[sym] = flags[sym]! | SymFlag.NeedsPlt;
}

/**
 * Where a PC-relative reference to `sym` lands: its PLT entry when the scan gave it one (an IFUNC
 * already resolves to its own entry), else `S`.
 */
export function pltOr(link: ElfLink, sym: SymId, S: number): number {
  const f = link.ctx.syms.flags[sym]!;
  return f & SymFlag.NeedsPlt && !(f & SymFlag.NeedsIplt) ? pltEntryAddr(link, sym) : S;
}

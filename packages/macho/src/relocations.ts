import { LinkError, SymFlag, SymState, w32, w64, type InputSection } from '@link/core';
import {
  SECTION_TYPE,
  S_THREAD_LOCAL_VARIABLES,
  X86_64_RELOC_BRANCH,
  X86_64_RELOC_GOT,
  X86_64_RELOC_GOT_LOAD,
  X86_64_RELOC_NAMES,
  X86_64_RELOC_SIGNED_1,
  X86_64_RELOC_SIGNED_2,
  X86_64_RELOC_SIGNED_4,
  X86_64_RELOC_SUBTRACTOR,
  X86_64_RELOC_TLV,
  X86_64_RELOC_UNSIGNED,
} from './constants.js';
import type { MachoLink } from './link.js';

/**
 * The relocation type column packs what a Mach-O `relocation_info` says besides address and
 * symbol: type (bits 0-3), r_length (4-5), r_pcrel (6), r_extern (7).
 */
export function encodeRelocType(type: number, length: number, pcrel: number, ext: number): number {
  return type | (length << 4) | (pcrel << 6) | (ext << 7);
}
export const relocKind = (t: number): number => t & 0xf;
export const relocLength = (t: number): number => (t >> 4) & 3;

/** SIGNED_1/2/4: the pc is that many bytes past the end of the 32-bit field (an immediate follows). */
export function pcrelBias(type: number): number {
  switch (type) {
    case X86_64_RELOC_SIGNED_1:
      return 1;
    case X86_64_RELOC_SIGNED_2:
      return 2;
    case X86_64_RELOC_SIGNED_4:
      return 4;
    default:
      return 0;
  }
}

/** Kinds of loader fixups a pointer in the output needs. */
export const enum FixupKind {
  Rebase = 0,
  Bind = 1,
}

/** Whether the symbol is provided by a dylib (or left to dyld by `-undefined dynamic_lookup`). */
export function isImport(l: MachoLink, sym: number): boolean {
  const st = l.ctx.syms.state[sym]!;
  return st === SymState.Shared || (st === SymState.Undefined && l.dynamicLookup.has(sym));
}

/**
 * `movq _x@GOTPCREL(%rip), %reg` to a symbol this link defines becomes `leaq _x(%rip), %reg`
 * (ld64 and lld do the same), so the GOT holds only imports. Same for `_x@TLVP` descriptors.
 */
export function canRelaxLoad(l: MachoLink, sec: InputSection, off: number, sym: number): boolean {
  if (isImport(l, sym) || l.ctx.syms.state[sym] === SymState.Undefined) return false;
  if (off < 2) return false;
  return sec.contents[off - 2] === 0x8b;
}

/** `file.o:(__TEXT,__text+0x1c)`: where a relocation is, for diagnostics. */
export function refLocation(sec: InputSection, off: number): string {
  return `${sec.file.displayName}:(${sec.name}+0x${off.toString(16)})`;
}

/** Offset 16 of a `__thread_vars` descriptor holds its variable's offset in the TLS template. */
function isTlvOffsetField(sec: InputSection, off: number): boolean {
  return (sec.type & SECTION_TYPE) === S_THREAD_LOCAL_VARIABLES && off % 24 === 16;
}

/**
 * Scans a live atom's relocations: decides GOT entries, stubs and loader fixups (rebases and
 * binds for absolute pointers), and reports undefined symbols. Slots are appended in
 * encounter order, which is command-line order, so the output is deterministic.
 */
export function scanSection(l: MachoLink, sec: InputSection): void {
  const rel = sec.relocs;
  if (rel === null) return;
  const st = rel.store;
  const syms = l.ctx.syms;
  const end = rel.start + rel.count;
  for (let i = rel.start; i < end; i++) {
    const t = st.type[i]!;
    const kind = relocKind(t);
    const sym = st.sym[i]!;
    const off = st.offset[i]!;
    if (syms.state[sym] === SymState.Undefined && !l.dynamicLookup.has(sym)) {
      if (!(syms.flags[sym]! & SymFlag.RefWeak) || syms.flags[sym]! & SymFlag.RefStrong)
        l.undefinedRef(sym, refLocation(sec, off));
      continue;
    }
    const imp = isImport(l, sym);
    switch (kind) {
      case X86_64_RELOC_UNSIGNED: {
        const prevSub = i > rel.start && relocKind(st.type[i - 1]!) === X86_64_RELOC_SUBTRACTOR;
        if (prevSub) break; // a difference: no fixup
        if (isTlvOffsetField(sec, off)) break; // an offset, not an address
        if (relocLength(t) !== 3) {
          l.ctx.diag.error(
            `${X86_64_RELOC_NAMES[kind]} of 4 bytes (an absolute 32-bit address) cannot be used in a position-independent executable\n>>> referenced by ${refLocation(sec, off)}\n>>> against ${l.ctx.symName(sym)}`,
          );
          break;
        }
        if (syms.flags[sym]! & SymFlag.Absolute) break;
        l.addFixup(sec, off, imp ? FixupKind.Bind : FixupKind.Rebase, sym, st.addend[i]!);
        break;
      }
      case X86_64_RELOC_SUBTRACTOR:
        if (imp)
          l.ctx.diag.error(
            `X86_64_RELOC_SUBTRACTOR against imported symbol ${l.ctx.symName(sym)}\n>>> referenced by ${refLocation(sec, off)}`,
          );
        break;
      case X86_64_RELOC_BRANCH:
        if (imp) l.needStub(sym);
        break;
      case X86_64_RELOC_GOT_LOAD:
        if (!canRelaxLoad(l, sec, off, sym)) l.needGot(sym);
        break;
      case X86_64_RELOC_GOT:
        l.needGot(sym);
        break;
      case X86_64_RELOC_TLV:
        // A descriptor this link defines is addressed directly (leaq); any other goes through
        // a __thread_ptrs slot that dyld binds (or slides) to the descriptor.
        if (!canRelaxLoad(l, sec, off, sym)) l.needTlvPtr(sym);
        break;
      default:
        // SIGNED, SIGNED_1/2/4: pc-relative data references.
        if (imp)
          l.ctx.diag.error(
            `${X86_64_RELOC_NAMES[kind]} (pc-relative) reference to ${l.ctx.symName(sym)}, which is imported from a dylib; use the GOT (-fPIC)\n>>> referenced by ${refLocation(sec, off)}`,
          );
    }
  }
}

/**
 * Applies an atom's relocations to its bytes in the output buffer. `base` is the atom's file
 * offset in `buf`, `addr` its address. Pointer fixups already recorded by `scanSection` get
 * their unslid values here; the chained-fixup encoder overwrites them later.
 */
export function applySection(
  l: MachoLink,
  sec: InputSection,
  buf: Uint8Array,
  base: number,
  addr: number,
): void {
  const rel = sec.relocs;
  if (rel === null) return;
  const st = rel.store;
  const end = rel.start + rel.count;
  let subtrahend = 0;
  for (let i = rel.start; i < end; i++) {
    const t = st.type[i]!;
    const kind = relocKind(t);
    const sym = st.sym[i]!;
    const off = st.offset[i]!;
    const A = st.addend[i]!;
    const P = addr + off;
    const at = base + off;
    if (kind === X86_64_RELOC_SUBTRACTOR) {
      subtrahend = l.symAddr(sym, 0);
      continue;
    }
    if (kind === X86_64_RELOC_UNSIGNED) {
      const prevSub = i > rel.start && relocKind(st.type[i - 1]!) === X86_64_RELOC_SUBTRACTOR;
      let v: number;
      if (prevSub) v = l.symAddr(sym, A) - subtrahend;
      else if (isTlvOffsetField(sec, off)) v = l.symAddr(sym, A) - l.tlsStart;
      else if (isImport(l, sym))
        v = 0; // bound by dyld
      else v = l.symAddr(sym, A);
      if (relocLength(t) === 3) w64(buf, at, v);
      else {
        if (prevSub && (v < -0x80000000 || v > 0xffffffff))
          throw new LinkError(
            `${refLocation(sec, off)}: difference 0x${v.toString(16)} does not fit in 32 bits`,
          );
        w32(buf, at, v >>> 0);
      }
      continue;
    }
    let T: number;
    switch (kind) {
      case X86_64_RELOC_BRANCH:
        T = isImport(l, sym) ? l.stubAddr(sym) + A : l.symAddr(sym, A);
        break;
      case X86_64_RELOC_GOT_LOAD:
      case X86_64_RELOC_TLV:
        if (canRelaxLoad(l, sec, off, sym)) {
          buf[at - 2] = 0x8d; // movq → leaq
          T = l.symAddr(sym, A);
        } else if (kind === X86_64_RELOC_TLV) T = l.tlvPtrAddr(sym) + A;
        else T = l.gotAddr(sym) + A;
        break;
      case X86_64_RELOC_GOT:
        T = l.gotAddr(sym) + A;
        break;
      default:
        T = l.symAddr(sym, A);
    }
    const v = T - (P + 4 + pcrelBias(kind));
    if (v < -0x80000000 || v > 0x7fffffff)
      throw new LinkError(
        `${refLocation(sec, off)}: ${X86_64_RELOC_NAMES[kind]} out of range: 0x${v.toString(16)} against ${l.ctx.symName(sym)}`,
      );
    w32(buf, at, v >>> 0);
  }
}

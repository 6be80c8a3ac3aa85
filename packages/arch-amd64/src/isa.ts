/**
 * x86-64 instruction knowledge the linker needs: the byte rewrites that turn GOT loads and TLS
 * access sequences into cheaper forms when the final address is known at link time (psABI
 * Appendix B and the TLS ABI's "Linker Optimizations"), and the PLT entry encoding.
 *
 * Each `relax*` function checks the bytes it is about to rewrite and returns false when they
 * are not the sequence the ABI promises; the caller then keeps the unrelaxed form.
 */
import type { PltContext } from '@link/elf';

/** `mov foo@GOTPCREL(%rip), %reg` → `lea foo(%rip), %reg`; `call/jmp *foo@GOTPCREL(%rip)` → direct. */
export function canRelaxGotPcRelX(b: Uint8Array, loc: number, rex: boolean): boolean {
  if (loc < 2) return false;
  const op = b[loc - 2]!;
  if (op === 0x8b) return !rex || loc >= 3;
  if (rex) return false;
  const modrm = b[loc - 1]!;
  return op === 0xff && (modrm === 0x15 || modrm === 0x25);
}

/**
 * Rewrites a relaxable GOTPCRELX instruction in place. Returns where the new 32-bit PC-relative
 * field sits relative to `loc`: 0 for `lea`/`call` (same place), -1 for `jmp` (which has no
 * ModRM byte, so its displacement moves one byte left and a `nop` fills the end).
 */
export function relaxGotPcRelX(b: Uint8Array, loc: number): 0 | -1 {
  const op = b[loc - 2]!;
  if (op === 0x8b) {
    b[loc - 2] = 0x8d; // mov → lea, same ModRM (rip-relative)
    return 0;
  }
  if (b[loc - 1] === 0x15) {
    // call *foo@GOTPCREL(%rip) → addr32 call foo (the 0x67 prefix keeps the length)
    b[loc - 2] = 0x67;
    b[loc - 1] = 0xe8;
    return 0;
  }
  // jmp *foo@GOTPCREL(%rip) → jmp foo; nop
  b[loc - 2] = 0xe9;
  b[loc + 3] = 0x90;
  return -1;
}

/** Initial-exec → local-exec: `movq/addq x@gottpoff(%rip), %reg` → immediate forms. */
export function relaxTlsIeToLe(b: Uint8Array, loc: number): boolean {
  if (loc < 3) return false;
  const rex = b[loc - 3]!;
  const op = b[loc - 2]!;
  const modrm = b[loc - 1]!;
  if ((modrm & 0xc7) !== 0x05) return false; // must be rip-relative
  const reg = (modrm >> 3) & 7;
  if (op === 0x8b && (rex === 0x48 || rex === 0x4c)) {
    // movq x@gottpoff(%rip), %reg → movq $x, %reg
    b[loc - 3] = rex === 0x4c ? 0x49 : 0x48;
    b[loc - 2] = 0xc7;
    b[loc - 1] = 0xc0 | reg;
    return true;
  }
  if (op === 0x03 && (rex === 0x48 || rex === 0x4c)) {
    if (reg === 4) {
      // addq x@gottpoff(%rip), %rsp/%r12 → addq $x, %rsp/%r12 (lea would need a SIB byte)
      b[loc - 3] = rex === 0x4c ? 0x49 : 0x48;
      b[loc - 2] = 0x81;
      b[loc - 1] = 0xc4;
      return true;
    }
    // addq x@gottpoff(%rip), %reg → leaq x(%reg), %reg
    b[loc - 3] = rex === 0x4c ? 0x4d : 0x48;
    b[loc - 2] = 0x8d;
    b[loc - 1] = 0x80 | (reg << 3) | reg;
    return true;
  }
  return false;
}

/** The instruction following a TLSGD/TLSLD sequence must be the call to __tls_get_addr. */
export function isTlsGetAddrCall(b: Uint8Array, callLoc: number): boolean {
  // `call __tls_get_addr@PLT` (e8) or `call *__tls_get_addr@GOTPCREL(%rip)` (ff 15).
  return b[callLoc - 1] === 0xe8 || (b[callLoc - 2] === 0xff && b[callLoc - 1] === 0x15);
}

/**
 * General-dynamic → local-exec. The 16-byte sequence
 *   66 48 8d 3d <x@tlsgd>   66 66 48 e8 <__tls_get_addr@plt>   (or 66 48 ff 15 <@gotpcrel>)
 * becomes `mov %fs:0, %rax; lea x@tpoff(%rax), %rax`. `loc` is the TLSGD field.
 */
/** `data16 lea x@tlsgd(%rip), %rdi` (66 48 8d 3d) precedes the TLSGD field at `loc`. */
function isTlsGdLea(b: Uint8Array, loc: number): boolean {
  return (
    loc >= 4 &&
    b[loc - 4] === 0x66 &&
    b[loc - 3] === 0x48 &&
    b[loc - 2] === 0x8d &&
    b[loc - 1] === 0x3d
  );
}

export function relaxTlsGdToLe(b: Uint8Array, loc: number, tpoff: number): boolean {
  if (!isTlsGdLea(b, loc)) return false;
  b.set([0x64, 0x48, 0x8b, 0x04, 0x25, 0, 0, 0, 0, 0x48, 0x8d, 0x80], loc - 4);
  writeI32(b, loc + 8, tpoff);
  return true;
}

/**
 * General-dynamic → initial-exec, for a symbol another module defines, in an executable: the
 * same 16 bytes become `mov %fs:0, %rax; add x@gottpoff(%rip), %rax`. Returns the position of
 * the new GOT-relative field (loc + 8), or -1 when the bytes are not the GD sequence.
 */
export function relaxTlsGdToIe(b: Uint8Array, loc: number): number {
  if (!isTlsGdLea(b, loc)) return -1;
  b.set([0x64, 0x48, 0x8b, 0x04, 0x25, 0, 0, 0, 0, 0x48, 0x03, 0x05], loc - 4);
  return loc + 8;
}

/** TLS descriptors → initial-exec: `lea x@tlsdesc(%rip), %reg` → `mov x@gottpoff(%rip), %reg`. */
export function relaxTlsDescToIe(b: Uint8Array, loc: number): boolean {
  if (loc < 3) return false;
  const rex = b[loc - 3]!;
  if ((rex !== 0x48 && rex !== 0x4c) || b[loc - 2] !== 0x8d || (b[loc - 1]! & 0xc7) !== 0x05)
    return false;
  b[loc - 2] = 0x8b;
  return true;
}

/**
 * Local-dynamic → local-exec: `lea x@tlsld(%rip), %rdi; call __tls_get_addr` becomes
 * `mov %fs:0, %rax` padded with prefixes to the same length (12 bytes, or 13 for the
 * `call *…@GOTPCREL(%rip)` form).
 */
export function relaxTlsLdToLe(b: Uint8Array, loc: number): boolean {
  if (loc < 3 || b[loc - 3] !== 0x48 || b[loc - 2] !== 0x8d || b[loc - 1] !== 0x3d) return false;
  if (b[loc + 4] === 0xe8) {
    b.set([0x66, 0x66, 0x66, 0x64, 0x48, 0x8b, 0x04, 0x25, 0, 0, 0, 0], loc - 3);
    return true;
  }
  if (b[loc + 4] === 0xff && b[loc + 5] === 0x15) {
    b.set([0x66, 0x66, 0x66, 0x66, 0x64, 0x48, 0x8b, 0x04, 0x25, 0, 0, 0, 0], loc - 3);
    return true;
  }
  return false;
}

/** TLS descriptors → local-exec: `lea x@tlsdesc(%rip), %reg` → `mov $x@tpoff, %reg`. */
export function relaxTlsDescToLe(b: Uint8Array, loc: number): boolean {
  if (loc < 3) return false;
  const rex = b[loc - 3]!;
  if ((rex !== 0x48 && rex !== 0x4c) || b[loc - 2] !== 0x8d || (b[loc - 1]! & 0xc7) !== 0x05)
    return false;
  const reg = (b[loc - 1]! >> 3) & 7;
  b[loc - 3] = rex === 0x4c ? 0x49 : 0x48;
  b[loc - 2] = 0xc7;
  b[loc - 1] = 0xc0 | reg;
  return true;
}

/** `call *x@tlscall(%rax)` (ff 10) → `xchg %ax, %ax` (a 2-byte nop). */
export function relaxTlsDescCall(b: Uint8Array, loc: number): boolean {
  if (b[loc] === 0xff && b[loc + 1] === 0x10) {
    b[loc] = 0x66;
    b[loc + 1] = 0x90;
    return true;
  }
  return false;
}

export function writeI32(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >> 8) & 0xff;
  b[o + 2] = (v >> 16) & 0xff;
  b[o + 3] = (v >> 24) & 0xff;
}

/** IFUNC PLT entry of a static link: `jmp *slot(%rip)` padded with a 10-byte nop. */
export const IPLT_ENTRY_SIZE = 16;
export function writeIpltEntry(
  b: Uint8Array,
  off: number,
  entryAddr: number,
  slotAddr: number,
): void {
  b[off] = 0xff;
  b[off + 1] = 0x25;
  writeI32(b, off + 2, slotAddr - (entryAddr + 6));
  b.set([0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00], off + 6);
}

/** Lazy PLT (psABI §5.2 "Procedure Linkage Table"): PLT0 and 16-byte entries. */
export const PLT_HEADER_SIZE = 16;
export const PLT_ENTRY_SIZE = 16;
/** An unbound .got.plt slot points at the entry's `pushq` (6 bytes in). */
export const PLT_LAZY_OFFSET = 6;

/** PLT0: `pushq GOT+8(%rip); jmp *GOT+16(%rip); nopl 0(%rax)`. */
export function writePltHeader(b: Uint8Array, off: number, ctx: PltContext): void {
  const plt = ctx.pltAddr;
  const gotPlt = ctx.gotPltAddr;
  b.set([0xff, 0x35], off);
  writeI32(b, off + 2, gotPlt + 8 - (plt + 6));
  b.set([0xff, 0x25], off + 6);
  writeI32(b, off + 8, gotPlt + 16 - (plt + 12));
  b.set([0x0f, 0x1f, 0x40, 0x00], off + 12);
}

/** PLTn: `jmp *slot(%rip); pushq $n; jmp PLT0`. */
export function writePltEntry(
  b: Uint8Array,
  off: number,
  entry: number,
  slot: number,
  index: number,
  ctx: PltContext,
): void {
  const plt = ctx.pltAddr;
  b.set([0xff, 0x25], off);
  writeI32(b, off + 2, slot - (entry + 6));
  b[off + 6] = 0x68;
  writeI32(b, off + 7, index);
  b[off + 11] = 0xe9;
  writeI32(b, off + 12, plt - (entry + 16));
}

/**
 * i386 instruction knowledge the linker needs: the byte rewrites that replace GOT loads and TLS
 * access sequences by cheaper ones once the final address is known (i386 psABI §A.2 for
 * GOT32X; the TLS ABI's "IA-32 Linker Optimizations" for the TLS sequences, in the forms GCC
 * emits and GNU ld and lld accept), and the PLT encodings.
 *
 * Each `relax*` function checks the bytes it is about to rewrite and returns false when they are
 * not the sequence the ABI promises, so the caller can report the input as malformed.
 */
import type { PltContext } from '@link/elf';

export function writeI32(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >> 8) & 0xff;
  b[o + 2] = (v >> 16) & 0xff;
  b[o + 3] = (v >> 24) & 0xff;
}

/**
 * Whether the ModRM byte before a GOT32/GOT32X field addresses memory without a base register
 * (`mod = 00, r/m = 101`: a bare disp32). Non-PIC code such as `movl foo@GOT, %eax` (and
 * `call *foo@GOT`) has no GOT pointer in a register, so the field is then the GOT slot's
 * absolute address rather than its offset from _GLOBAL_OFFSET_TABLE_ (lld and GNU ld agree).
 */
export function isBaselessModrm(b: Uint8Array, loc: number): boolean {
  return loc >= 1 && (b[loc - 1]! & 0xc7) === 0x05;
}

/** What a GOT32X instruction can become when the symbol's address is a link-time constant. */
export const enum GotXForm {
  None = 0,
  /** `mov foo@GOT(%reg1), %reg2` → `lea foo@GOTOFF(%reg1), %reg2` (field: S - GOT). */
  Lea = 1,
  /**
   * `mov foo@GOT[(%reg1)], %reg2` → `mov $foo, %reg2` (field: S): always without a base
   * register, and in position-dependent output also with one (GNU ld's choice there).
   */
  MovImm = 2,
  /** `call/jmp *foo@GOT(%reg)` → `addr32 call foo` / `jmp foo; nop` (field: S - P - 4). */
  Branch = 3,
}

export function gotXForm(b: Uint8Array, loc: number, pic: boolean): GotXForm {
  if (loc < 2) return GotXForm.None;
  const op = b[loc - 2]!;
  const modrm = b[loc - 1]!;
  // Register-direct or SIB forms are not what GOT32X promises.
  if ((modrm & 0xc0) === 0xc0 || (modrm & 7) === 4) return GotXForm.None;
  if (op === 0x8b) return isBaselessModrm(b, loc) || !pic ? GotXForm.MovImm : GotXForm.Lea;
  // ff /2 is call, ff /4 is jmp.
  const ext = (modrm >> 3) & 7;
  if (op === 0xff && (ext === 2 || ext === 4)) return GotXForm.Branch;
  return GotXForm.None;
}

/**
 * Rewrites a relaxable GOT32X instruction (see `gotXForm`). Returns where the new 32-bit field
 * sits relative to `loc`: 0, or -1 for `jmp` (which has no ModRM byte, so its displacement moves
 * one byte left and a `nop` fills the end).
 */
export function relaxGotX(b: Uint8Array, loc: number, form: GotXForm): 0 | -1 {
  const modrm = b[loc - 1]!;
  switch (form) {
    case GotXForm.Lea:
      b[loc - 2] = 0x8d;
      return 0;
    case GotXForm.MovImm:
      b[loc - 2] = 0xc7;
      b[loc - 1] = 0xc0 | ((modrm >> 3) & 7);
      return 0;
    default:
      if (((modrm >> 3) & 7) === 2) {
        // The 0x67 (addr32) prefix keeps the instruction 6 bytes long.
        b[loc - 2] = 0x67;
        b[loc - 1] = 0xe8;
        return 0;
      }
      b[loc - 2] = 0xe9;
      b[loc + 3] = 0x90;
      return -1;
  }
}

/**
 * Initial-exec → local-exec, in GNU ld's forms. `R_386_TLS_IE` (absolute slot address, non-PIC
 * code):
 *   movl x@indntpoff, %eax (a1)          → movl $x@ntpoff, %eax (b8)
 *   movl x@indntpoff, %reg (8b 05+r)     → movl $x@ntpoff, %reg (c7 c0+r)
 *   addl x@indntpoff, %reg (03 05+r)     → addl $x@ntpoff, %reg (81 c0+r)
 * `R_386_TLS_GOTIE` (slot relative to the GOT base in %reg1):
 *   movl x@gotntpoff(%reg1), %reg2       → movl $x@ntpoff, %reg2
 *   addl x@gotntpoff(%reg1), %reg2       → addl $x@ntpoff, %reg2
 */
export function isIeRelaxable(b: Uint8Array, loc: number, gotRelative: boolean): boolean {
  if (!gotRelative && isMoffsLoad(b, loc)) return true;
  if (loc < 2) return false;
  const op = b[loc - 2]!;
  const modrm = b[loc - 1]!;
  if (op !== 0x8b && op !== 0x03) return false;
  // Baseless disp32 for TLS_IE; a disp32 off a base register (not a SIB) for TLS_GOTIE.
  return gotRelative ? (modrm & 0xc0) === 0x80 && (modrm & 7) !== 4 : (modrm & 0xc7) === 0x05;
}

/** `movl moffs32, %eax` (a1), unless the a1 is the ModRM byte of a mov/add. */
function isMoffsLoad(b: Uint8Array, loc: number): boolean {
  return (
    loc >= 1 && b[loc - 1] === 0xa1 && (loc < 2 || (b[loc - 2] !== 0x8b && b[loc - 2] !== 0x03))
  );
}

export function relaxTlsIeToLe(b: Uint8Array, loc: number, gotRelative: boolean): void {
  if (!gotRelative && isMoffsLoad(b, loc)) {
    b[loc - 1] = 0xb8;
    return;
  }
  const reg = (b[loc - 1]! >> 3) & 7;
  b[loc - 2] = b[loc - 2] === 0x8b ? 0xc7 : 0x81;
  b[loc - 1] = 0xc0 | reg;
}

/**
 * The call to ___tls_get_addr after a TLS_GD/TLS_LDM `leal`: `call ___tls_get_addr@PLT` (e8) or,
 * without a PLT, `call *___tls_get_addr@GOT(%reg)` (ff 90+reg). `callLoc` is that call's field.
 */
export function isTlsGetAddrCall(b: Uint8Array, callLoc: number): boolean {
  return (
    b[callLoc - 1] === 0xe8 ||
    (callLoc >= 2 && b[callLoc - 2] === 0xff && (b[callLoc - 1]! & 0xf8) === 0x90)
  );
}

/**
 * Start of the 12-byte general-dynamic sequence whose TLS_GD field is at `loc`:
 *   leal x@tlsgd(,%ebx,1), %eax (8d 04 1d)  +  call ___tls_get_addr@PLT (e8)
 *   leal x@tlsgd(%reg), %eax (8d 80+reg)    +  call *___tls_get_addr@GOT(%reg) (ff 90+reg)
 * and the register holding the GOT base; null when the bytes are not that sequence.
 */
function gdSequence(b: Uint8Array, loc: number): { start: number; gotReg: number } | null {
  if (loc >= 3 && b[loc - 3] === 0x8d && b[loc - 2] === 0x04 && b[loc - 1] === 0x1d)
    return { start: loc - 3, gotReg: 3 };
  if (loc >= 2 && b[loc - 2] === 0x8d && (b[loc - 1]! & 0xf8) === 0x80 && b[loc - 1] !== 0x84)
    return { start: loc - 2, gotReg: b[loc - 1]! & 7 };
  return null;
}

/** General-dynamic → local-exec: `movl %gs:0, %eax; subl $tpoff, %eax` (tpoff = TP - x). */
export function relaxTlsGdToLe(b: Uint8Array, loc: number, negTpoff: number): boolean {
  const seq = gdSequence(b, loc);
  if (!seq) return false;
  b.set([0x65, 0xa1, 0, 0, 0, 0, 0x81, 0xe8], seq.start);
  writeI32(b, seq.start + 8, negTpoff);
  return true;
}

/**
 * General-dynamic → initial-exec, for another module's variable in an executable:
 * `movl %gs:0, %eax; addl x@gotntpoff(%reg), %eax`. Returns the new GOT-relative field's
 * position, or -1 when the bytes are not the GD sequence.
 */
export function relaxTlsGdToIe(b: Uint8Array, loc: number): number {
  const seq = gdSequence(b, loc);
  if (!seq) return -1;
  b.set([0x65, 0xa1, 0, 0, 0, 0, 0x03, 0x80 | seq.gotReg], seq.start);
  return seq.start + 8;
}

/**
 * Local-dynamic → local-exec: `leal x@tlsldm(%reg), %eax; call ___tls_get_addr` becomes
 * `movl %gs:0, %eax` padded with no-ops to the same length (11 bytes with `call rel32`, 12 with
 * `call *…@GOT(%reg)`). The TLS_LDO_32 offsets that follow then count from the thread pointer.
 */
export function relaxTlsLdToLe(b: Uint8Array, loc: number): boolean {
  if (loc < 2 || b[loc - 2] !== 0x8d || (b[loc - 1]! & 0xf8) !== 0x80 || b[loc - 1] === 0x84)
    return false;
  if (b[loc + 4] === 0xe8) {
    // nop; leal 0(%esi,%eiz,1), %esi
    b.set([0x65, 0xa1, 0, 0, 0, 0, 0x90, 0x8d, 0x74, 0x26, 0x00], loc - 2);
    return true;
  }
  if (b[loc + 4] === 0xff && (b[loc + 5]! & 0xf8) === 0x90) {
    // leal 0(%esi), %esi
    b.set([0x65, 0xa1, 0, 0, 0, 0, 0x8d, 0xb6, 0, 0, 0, 0], loc - 2);
    return true;
  }
  return false;
}

/** `leal x@tlsdesc(%reg), %eax` (8d 80+reg): the only form R_386_TLS_GOTDESC may patch. */
function isTlsDescLea(b: Uint8Array, loc: number): boolean {
  return loc >= 2 && b[loc - 2] === 0x8d && (b[loc - 1]! & 0xf8) === 0x80 && b[loc - 1] !== 0x84;
}

/** TLS descriptors → local-exec: `leal x@tlsdesc(%reg), %eax` → `leal x@ntpoff, %eax`. */
export function relaxTlsDescToLe(b: Uint8Array, loc: number): boolean {
  if (!isTlsDescLea(b, loc)) return false;
  b[loc - 1] = 0x05;
  return true;
}

/** TLS descriptors → initial-exec: `leal x@tlsdesc(%reg), %eax` → `movl x@gotntpoff(%reg), %eax`. */
export function relaxTlsDescToIe(b: Uint8Array, loc: number): boolean {
  if (!isTlsDescLea(b, loc)) return false;
  b[loc - 2] = 0x8b;
  return true;
}

/** `call *x@tlscall(%eax)` (ff 10) → `xchg %ax, %ax` (a 2-byte nop). */
export function relaxTlsDescCall(b: Uint8Array, loc: number): boolean {
  if (b[loc] === 0xff && b[loc + 1] === 0x10) {
    b[loc] = 0x66;
    b[loc + 1] = 0x90;
    return true;
  }
  return false;
}

/*
 * PLT (i386 psABI §5.2). Position-dependent executables jump through absolute slot addresses;
 * position-independent code cannot hold absolute addresses, so there the entries address
 * .got.plt through %ebx, which the psABI requires PIC callers to load with the GOT base
 * (_GLOBAL_OFFSET_TABLE_ = start of .got.plt) before calling through the PLT.
 */
export const PLT_HEADER_SIZE = 16;
export const PLT_ENTRY_SIZE = 16;
/** An unbound .got.plt slot points at the entry's `pushl` (6 bytes in). */
export const PLT_LAZY_OFFSET = 6;
/** A .rel.plt entry (Elf32_Rel) is 8 bytes: PLTn pushes n*8, the byte offset of its reloc. */
const REL_ENTRY_SIZE = 8;

/** PLT0: `pushl GOT+4; jmp *GOT+8` (absolute) or `pushl 4(%ebx); jmp *8(%ebx)` (PIC). */
export function writePltHeader(b: Uint8Array, off: number, ctx: PltContext): void {
  if (ctx.pic) {
    b.set([0xff, 0xb3, 4, 0, 0, 0, 0xff, 0xa3, 8, 0, 0, 0], off);
  } else {
    b.set([0xff, 0x35], off);
    writeI32(b, off + 2, ctx.gotPltAddr + 4);
    b.set([0xff, 0x25], off + 6);
    writeI32(b, off + 8, ctx.gotPltAddr + 8);
  }
  // GNU ld leaves the padding zero.
  b.set([0, 0, 0, 0], off + 12);
}

/** PLTn: `jmp *slot` or `jmp *slot-GOT(%ebx)`; `pushl $n*8; jmp PLT0`. */
export function writePltEntry(
  b: Uint8Array,
  off: number,
  entry: number,
  slot: number,
  index: number,
  ctx: PltContext,
): void {
  writeJmpSlot(b, off, slot, ctx);
  b[off + 6] = 0x68;
  writeI32(b, off + 7, index * REL_ENTRY_SIZE);
  b[off + 11] = 0xe9;
  writeI32(b, off + 12, ctx.pltAddr - (entry + 16));
}

function writeJmpSlot(b: Uint8Array, off: number, slot: number, ctx: PltContext): void {
  if (ctx.pic) {
    b[off] = 0xff;
    b[off + 1] = 0xa3;
    writeI32(b, off + 2, slot - ctx.gotPltAddr);
  } else {
    b[off] = 0xff;
    b[off + 1] = 0x25;
    writeI32(b, off + 2, slot);
  }
}

/** IFUNC PLT entry: the same indirect jump, padded with a 10-byte nop. */
export const IPLT_ENTRY_SIZE = 16;
export function writeIpltEntry(
  b: Uint8Array,
  off: number,
  _entry: number,
  slot: number,
  ctx: PltContext,
): void {
  writeJmpSlot(b, off, slot, ctx);
  b.set([0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00], off + 6);
}

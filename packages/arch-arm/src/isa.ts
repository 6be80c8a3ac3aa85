/**
 * ARM and Thumb-2 instruction fields the linker reads and writes (Arm ARM, ARMv7-A/R: A8.8.18 B,
 * A8.8.25 BL/BLX, A8.8.106 MOVW, A8.8.108 MOVT), and the PLT code (GNU ld's layout, so the
 * dynamic loader's lazy resolver finds the .got.plt slot in `ip`).
 *
 * ARM instructions are one little-endian word; Thumb-2 32-bit instructions are two little-endian
 * halfwords, first halfword first. Every writer keeps the opcode bits and replaces only the
 * immediate field.
 */
import { u16 as r16, w16, w32 } from '@link/core';
import type { PltContext } from '@link/elf';

export function sext(v: number, bits: number): number {
  const s = 32 - bits;
  return (v << s) >> s;
}

// --- ARM B/BL/BLX: imm24, a word offset from PC (= P + 8) -----------------------------------

/** Offset of a B/BL/BLX: BLX (cond 0b1111) keeps a halfword bit in H (bit 24). */
export function armBranchAddend(insn: number): number {
  const off = sext(insn & 0xffffff, 24) * 4;
  return insn >>> 28 === 0xf ? off + ((insn >>> 23) & 2) : off;
}
export function armIsBlx(insn: number): boolean {
  return insn >>> 28 === 0xf;
}
/** BL: cond 1011 imm24; BLX (immediate): 1111 101H imm24. */
export const ARM_BL = 0xeb000000;
export const ARM_BLX = 0xfa000000;
export function armSetBranch(insn: number, v: number): number {
  if (armIsBlx(insn)) return (ARM_BLX | ((v & 2) << 23) | ((v >> 2) & 0xffffff)) >>> 0;
  return ((insn & 0xff000000) | ((v >> 2) & 0xffffff)) >>> 0;
}

/** `nop` (ARMv6K+ hint): what a relaxed-away ARM call becomes. */
export const ARM_NOP = 0xe320f000;
/** `nop.w`: a relaxed-away 32-bit Thumb call keeps its size. */
export function writeThumbNopW(b: Uint8Array, o: number): void {
  w16(b, o, 0xf3af);
  w16(b, o + 2, 0x8000);
}

// --- Thumb-2 BL/BLX/B.W: S:I1:I2:imm10:imm11:0, PC = P + 4 ------------------------------------

export function thmBranch24Addend(hi: number, lo: number): number {
  const s = (hi >> 10) & 1;
  const i1 = ~((lo >> 13) ^ s) & 1;
  const i2 = ~((lo >> 11) ^ s) & 1;
  const v = (s << 24) | (i1 << 23) | (i2 << 22) | ((hi & 0x3ff) << 12) | ((lo & 0x7ff) << 1);
  return sext(v, 25);
}
/** BL keeps bit 12 of the second halfword set; BLX clears it; B.W is 10x1 (bit 14 clear). */
export function thmIsBlx(lo: number): boolean {
  return (lo & 0xd000) === 0xc000;
}
export function thmIsBl(lo: number): boolean {
  return (lo & 0xd000) === 0xd000;
}
export function thmSetBranch24(b: Uint8Array, o: number, v: number, lo: number): void {
  const s = (v >> 24) & 1;
  const j1 = (~(v >> 23) ^ s) & 1;
  const j2 = (~(v >> 22) ^ s) & 1;
  w16(b, o, 0xf000 | (s << 10) | ((v >> 12) & 0x3ff));
  // BLX targets are word-aligned: bit 0 of imm10L must be clear (H bit).
  const imm11 = thmIsBlx(lo) ? (v >> 1) & 0x7fe : (v >> 1) & 0x7ff;
  w16(b, o + 2, (lo & 0xd000) | (j1 << 13) | (j2 << 11) | imm11);
}

/** B<c>.W (T3): S:J2:J1:imm6:imm11:0. */
export function thmBranch19Addend(hi: number, lo: number): number {
  const v =
    (((hi >> 10) & 1) << 20) |
    (((lo >> 11) & 1) << 19) |
    (((lo >> 13) & 1) << 18) |
    ((hi & 0x3f) << 12) |
    ((lo & 0x7ff) << 1);
  return sext(v, 21);
}
export function thmSetBranch19(b: Uint8Array, o: number, v: number): void {
  const hi = r16(b, o);
  const lo = r16(b, o + 2);
  w16(b, o, (hi & 0xfbc0) | (((v >> 20) & 1) << 10) | ((v >> 12) & 0x3f));
  w16(
    b,
    o + 2,
    (lo & 0xd000) | (((v >> 19) & 1) << 11) | (((v >> 18) & 1) << 13) | ((v >> 1) & 0x7ff),
  );
}

// --- MOVW/MOVT: a 16-bit immediate, imm4:imm12 (ARM) or imm4:i:imm3:imm8 (Thumb) -------------

export function armMovImm(insn: number): number {
  return sext(((insn >> 4) & 0xf000) | (insn & 0xfff), 16);
}
export function armSetMovImm(insn: number, v: number): number {
  return ((insn & 0xfff0f000) | ((v & 0xf000) << 4) | (v & 0xfff)) >>> 0;
}
export function thmMovImm(hi: number, lo: number): number {
  return sext(
    ((hi & 0xf) << 12) | (((hi >> 10) & 1) << 11) | (((lo >> 12) & 7) << 8) | (lo & 0xff),
    16,
  );
}
export function thmSetMovImm(b: Uint8Array, o: number, v: number): void {
  const hi = r16(b, o);
  const lo = r16(b, o + 2);
  w16(b, o, (hi & 0xfbf0) | ((v >> 12) & 0xf) | (((v >> 11) & 1) << 10));
  w16(b, o + 2, (lo & 0x8f00) | (((v >> 8) & 7) << 12) | (v & 0xff));
}

// --- The PLT ------------------------------------------------------------------------------------

/**
 * PLT0: pushes lr, loads &.got.plt[0] into lr and jumps through .got.plt[2] (the loader's
 * `_dl_runtime_resolve`, which reads the slot address from ip and lr).
 *
 *   str lr, [sp, #-4]!; ldr lr, [pc, #4]; add lr, pc, lr; ldr pc, [lr, #8]!; .word GOT - (. + 16)
 */
export const PLT_HEADER_SIZE = 20;
export function writePltHeader(buf: Uint8Array, off: number, ctx: PltContext): void {
  w32(buf, off, 0xe52de004);
  w32(buf, off + 4, 0xe59fe004);
  w32(buf, off + 8, 0xe08fe00e);
  w32(buf, off + 12, 0xe5bef008);
  w32(buf, off + 16, (ctx.gotPltAddr - (ctx.pltAddr + 16)) >>> 0);
}

/**
 * A PLT entry: a Thumb prefix (`bx pc; nop`, GNU ld's Thumb PLT stub) that Thumb branches use,
 * since a Thumb B.W cannot change state, then ARM code that forms the slot address in ip (PC
 * relative, so it serves PIE and shared objects as well) and jumps through it:
 *
 *   bx pc; nop; add ip, pc, #hi8<<20; add ip, ip, #mid8<<12; ldr pc, [ip, #lo12]!
 */
export const PLT_ENTRY_SIZE = 16;
/** Offset of the ARM code in an entry: ARM callers and the canonical address use it. */
export const PLT_ARM_OFFSET = 4;
export function writePltEntry(
  buf: Uint8Array,
  off: number,
  entryAddr: number,
  slotAddr: number,
): void {
  w16(buf, off, 0x4778); // bx pc
  w16(buf, off + 2, 0x46c0); // nop (mov r8, r8)
  const d = slotAddr - (entryAddr + PLT_ARM_OFFSET + 8);
  if (d < 0 || d >= 0x10000000)
    throw new Error(`internal: .got.plt slot is out of the PLT entry's reach (${d})`);
  w32(buf, off + 4, (0xe28fc600 | ((d >>> 20) & 0xff)) >>> 0);
  w32(buf, off + 8, (0xe28cca00 | ((d >>> 12) & 0xff)) >>> 0);
  w32(buf, off + 12, (0xe5bcf000 | (d & 0xfff)) >>> 0);
}

// --- Range-extension and interworking thunks ------------------------------------------------------

/**
 * ARM thunk: `movw ip, #:lower16:(T - (. + 16)); movt ip, #:upper16:...; add ip, ip, pc; bx ip`.
 * Position-independent, any distance, and `bx` switches to Thumb when the target's bit 0 is set.
 */
export const ARM_THUNK_SIZE = 16;
export const ARM_THUNK_CODE = [0xe300c000, 0xe340c000, 0xe08cc00f, 0xe12fff1c];
/** Thumb thunk: `movw ip, #lo; movt ip, #hi; add ip, pc; bx ip` (PC = thunk + 12 at the add). */
export const THUMB_THUNK_SIZE = 12;
export const THUMB_THUNK_CODE = [0xf240, 0x0c00, 0xf2c0, 0x0c00, 0x44fc, 0x4760];

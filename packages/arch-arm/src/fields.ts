import { i32, u16, u32, w16, w32 } from '@link/core';
import * as R from './relocs.js';
import {
  armBranchAddend,
  armMovImm,
  armSetBranch,
  armSetMovImm,
  sext,
  thmBranch19Addend,
  thmBranch24Addend,
  thmMovImm,
  thmSetBranch19,
  thmSetBranch24,
  thmSetMovImm,
} from './isa.js';

/**
 * How the field a relocation patches is encoded (AAELF32 §5.6: the "overflow and addend"
 * columns). It decides how a REL addend is read from the field and written back into it.
 */
export const enum Field {
  None,
  /** B/BL/BLX imm24, a word offset (BLX: plus H). */
  ArmBranch,
  /** Thumb-2 BL/BLX/B.W: S:I1:I2:imm10:imm11:0. */
  ThumbBranch24,
  /** Thumb-2 B<c>.W: S:J2:J1:imm6:imm11:0. */
  ThumbBranch19,
  ThumbJump11,
  ThumbJump8,
  /** MOVW/MOVT imm4:imm12. */
  ArmMov,
  /** Thumb MOVW/MOVT imm4:i:imm3:imm8. */
  ThumbMov,
  Prel31,
  Abs16,
  Abs8,
  /** The whole 32-bit word. */
  Word,
}

export function fieldOf(type: number): Field {
  switch (type) {
    case R.R_ARM_PC24:
    case R.R_ARM_CALL:
    case R.R_ARM_JUMP24:
    case R.R_ARM_PLT32:
    case R.R_ARM_TLS_CALL:
      return Field.ArmBranch;
    case R.R_ARM_THM_CALL:
    case R.R_ARM_THM_JUMP24:
    case R.R_ARM_THM_TLS_CALL:
      return Field.ThumbBranch24;
    case R.R_ARM_THM_JUMP19:
      return Field.ThumbBranch19;
    case R.R_ARM_THM_JUMP11:
      return Field.ThumbJump11;
    case R.R_ARM_THM_JUMP8:
      return Field.ThumbJump8;
    case R.R_ARM_MOVW_ABS_NC:
    case R.R_ARM_MOVT_ABS:
    case R.R_ARM_MOVW_PREL_NC:
    case R.R_ARM_MOVT_PREL:
      return Field.ArmMov;
    case R.R_ARM_THM_MOVW_ABS_NC:
    case R.R_ARM_THM_MOVT_ABS:
    case R.R_ARM_THM_MOVW_PREL_NC:
    case R.R_ARM_THM_MOVT_PREL:
      return Field.ThumbMov;
    case R.R_ARM_PREL31:
      return Field.Prel31;
    case R.R_ARM_ABS16:
      return Field.Abs16;
    case R.R_ARM_ABS8:
      return Field.Abs8;
    case R.R_ARM_ABS32:
    case R.R_ARM_REL32:
    case R.R_ARM_TARGET1:
    case R.R_ARM_TARGET2:
    case R.R_ARM_GOTOFF32:
    case R.R_ARM_BASE_PREL:
    case R.R_ARM_GOT_BREL:
    case R.R_ARM_GOT_PREL:
    case R.R_ARM_TLS_GD32:
    case R.R_ARM_TLS_LDM32:
    case R.R_ARM_TLS_LDO32:
    case R.R_ARM_TLS_IE32:
    case R.R_ARM_TLS_LE32:
    case R.R_ARM_TLS_GOTDESC:
      return Field.Word;
    default:
      return Field.None;
  }
}

/** The signed value a field holds (a REL addend). */
export function readField(f: Field, b: Uint8Array, off: number): number {
  switch (f) {
    case Field.ArmBranch:
      return armBranchAddend(u32(b, off));
    case Field.ThumbBranch24:
      return thmBranch24Addend(u16(b, off), u16(b, off + 2));
    case Field.ThumbBranch19:
      return thmBranch19Addend(u16(b, off), u16(b, off + 2));
    case Field.ThumbJump11:
      return sext((u16(b, off) & 0x7ff) << 1, 12);
    case Field.ThumbJump8:
      return sext((u16(b, off) & 0xff) << 1, 9);
    case Field.ArmMov:
      return armMovImm(u32(b, off));
    case Field.ThumbMov:
      return thmMovImm(u16(b, off), u16(b, off + 2));
    case Field.Prel31:
      return sext(u32(b, off) & 0x7fffffff, 31);
    case Field.Abs16:
      return sext(u16(b, off), 16);
    case Field.Abs8:
      return sext(b[off]!, 8);
    case Field.Word:
      return i32(b, off);
    case Field.None:
      return 0;
  }
}

/** Stores `v` in a field, keeping the instruction's other bits (the inverse of readField). */
export function writeField(f: Field, b: Uint8Array, off: number, v: number): void {
  switch (f) {
    case Field.ArmBranch:
      w32(b, off, armSetBranch(u32(b, off), v));
      return;
    case Field.ThumbBranch24:
      thmSetBranch24(b, off, v, u16(b, off + 2));
      return;
    case Field.ThumbBranch19:
      thmSetBranch19(b, off, v);
      return;
    case Field.ThumbJump11:
      w16(b, off, (u16(b, off) & 0xf800) | ((v >> 1) & 0x7ff));
      return;
    case Field.ThumbJump8:
      w16(b, off, (u16(b, off) & 0xff00) | ((v >> 1) & 0xff));
      return;
    case Field.ArmMov:
      w32(b, off, armSetMovImm(u32(b, off), v));
      return;
    case Field.ThumbMov:
      thmSetMovImm(b, off, v);
      return;
    case Field.Prel31:
      w32(b, off, ((u32(b, off) & 0x80000000) | (v & 0x7fffffff)) >>> 0);
      return;
    case Field.Abs16:
      w16(b, off, v & 0xffff);
      return;
    case Field.Abs8:
      b[off] = v & 0xff;
      return;
    case Field.Word:
      w32(b, off, v >>> 0);
      return;
    case Field.None:
      return;
  }
}

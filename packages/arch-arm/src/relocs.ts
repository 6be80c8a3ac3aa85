/**
 * 32-bit ARM ELF relocation types, named as in "ELF for the Arm Architecture" (AAELF32, §5.6,
 * table "Relocation codes"), with the dynamic ones of §5.6.1 and the TLS ones of §5.6.4.
 */
export const R_ARM_NONE = 0;
export const R_ARM_PC24 = 1;
export const R_ARM_ABS32 = 2;
export const R_ARM_REL32 = 3;
export const R_ARM_ABS16 = 5;
export const R_ARM_ABS8 = 8;
export const R_ARM_THM_CALL = 10;
export const R_ARM_TLS_DESC = 13;
export const R_ARM_TLS_DTPMOD32 = 17;
export const R_ARM_TLS_DTPOFF32 = 18;
export const R_ARM_TLS_TPOFF32 = 19;
export const R_ARM_COPY = 20;
export const R_ARM_GLOB_DAT = 21;
export const R_ARM_JUMP_SLOT = 22;
export const R_ARM_RELATIVE = 23;
export const R_ARM_GOTOFF32 = 24;
export const R_ARM_BASE_PREL = 25;
export const R_ARM_GOT_BREL = 26;
export const R_ARM_PLT32 = 27;
export const R_ARM_CALL = 28;
export const R_ARM_JUMP24 = 29;
export const R_ARM_THM_JUMP24 = 30;
export const R_ARM_TARGET1 = 38;
export const R_ARM_V4BX = 40;
export const R_ARM_TARGET2 = 41;
export const R_ARM_PREL31 = 42;
export const R_ARM_MOVW_ABS_NC = 43;
export const R_ARM_MOVT_ABS = 44;
export const R_ARM_MOVW_PREL_NC = 45;
export const R_ARM_MOVT_PREL = 46;
export const R_ARM_THM_MOVW_ABS_NC = 47;
export const R_ARM_THM_MOVT_ABS = 48;
export const R_ARM_THM_MOVW_PREL_NC = 49;
export const R_ARM_THM_MOVT_PREL = 50;
export const R_ARM_THM_JUMP19 = 51;
export const R_ARM_TLS_GOTDESC = 90;
export const R_ARM_TLS_CALL = 91;
export const R_ARM_TLS_DESCSEQ = 92;
export const R_ARM_THM_TLS_CALL = 93;
export const R_ARM_GOT_PREL = 96;
export const R_ARM_THM_JUMP11 = 102;
export const R_ARM_THM_JUMP8 = 103;
export const R_ARM_TLS_GD32 = 104;
export const R_ARM_TLS_LDM32 = 105;
export const R_ARM_TLS_LDO32 = 106;
export const R_ARM_TLS_IE32 = 107;
export const R_ARM_TLS_LE32 = 108;
export const R_ARM_THM_TLS_DESCSEQ16 = 129;
export const R_ARM_THM_TLS_DESCSEQ32 = 130;
export const R_ARM_IRELATIVE = 160;

const NAMES: Record<number, string> = {
  0: 'R_ARM_NONE',
  1: 'R_ARM_PC24',
  2: 'R_ARM_ABS32',
  3: 'R_ARM_REL32',
  5: 'R_ARM_ABS16',
  8: 'R_ARM_ABS8',
  10: 'R_ARM_THM_CALL',
  13: 'R_ARM_TLS_DESC',
  17: 'R_ARM_TLS_DTPMOD32',
  18: 'R_ARM_TLS_DTPOFF32',
  19: 'R_ARM_TLS_TPOFF32',
  20: 'R_ARM_COPY',
  21: 'R_ARM_GLOB_DAT',
  22: 'R_ARM_JUMP_SLOT',
  23: 'R_ARM_RELATIVE',
  24: 'R_ARM_GOTOFF32',
  25: 'R_ARM_BASE_PREL',
  26: 'R_ARM_GOT_BREL',
  27: 'R_ARM_PLT32',
  28: 'R_ARM_CALL',
  29: 'R_ARM_JUMP24',
  30: 'R_ARM_THM_JUMP24',
  38: 'R_ARM_TARGET1',
  40: 'R_ARM_V4BX',
  41: 'R_ARM_TARGET2',
  42: 'R_ARM_PREL31',
  43: 'R_ARM_MOVW_ABS_NC',
  44: 'R_ARM_MOVT_ABS',
  45: 'R_ARM_MOVW_PREL_NC',
  46: 'R_ARM_MOVT_PREL',
  47: 'R_ARM_THM_MOVW_ABS_NC',
  48: 'R_ARM_THM_MOVT_ABS',
  49: 'R_ARM_THM_MOVW_PREL_NC',
  50: 'R_ARM_THM_MOVT_PREL',
  51: 'R_ARM_THM_JUMP19',
  90: 'R_ARM_TLS_GOTDESC',
  91: 'R_ARM_TLS_CALL',
  92: 'R_ARM_TLS_DESCSEQ',
  93: 'R_ARM_THM_TLS_CALL',
  96: 'R_ARM_GOT_PREL',
  102: 'R_ARM_THM_JUMP11',
  103: 'R_ARM_THM_JUMP8',
  104: 'R_ARM_TLS_GD32',
  105: 'R_ARM_TLS_LDM32',
  106: 'R_ARM_TLS_LDO32',
  107: 'R_ARM_TLS_IE32',
  108: 'R_ARM_TLS_LE32',
  129: 'R_ARM_THM_TLS_DESCSEQ16',
  130: 'R_ARM_THM_TLS_DESCSEQ32',
  160: 'R_ARM_IRELATIVE',
};

export function relocName(type: number): string {
  return NAMES[type] ?? `unknown (${type})`;
}

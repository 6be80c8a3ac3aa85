/**
 * i386 ELF relocation types, named as in the System V i386 psABI (§4.4.1, "Relocation Types";
 * TLS ones from Drepper's "ELF Handling For Thread-Local Storage", TLSDESC from the
 * "Thread-Local Storage Descriptors for IA32 and AMD64/EM64T" proposal, GOT32X from the
 * i386 psABI 1.1).
 *
 * i386 uses REL: the addend is the value already in the field being relocated.
 */
export const R_386_NONE = 0;
export const R_386_32 = 1;
export const R_386_PC32 = 2;
export const R_386_GOT32 = 3;
export const R_386_PLT32 = 4;
export const R_386_COPY = 5;
export const R_386_GLOB_DAT = 6;
export const R_386_JMP_SLOT = 7;
export const R_386_RELATIVE = 8;
export const R_386_GOTOFF = 9;
export const R_386_GOTPC = 10;
export const R_386_32PLT = 11;
export const R_386_TLS_TPOFF = 14;
export const R_386_TLS_IE = 15;
export const R_386_TLS_GOTIE = 16;
export const R_386_TLS_LE = 17;
export const R_386_TLS_GD = 18;
export const R_386_TLS_LDM = 19;
export const R_386_16 = 20;
export const R_386_PC16 = 21;
export const R_386_8 = 22;
export const R_386_PC8 = 23;
export const R_386_TLS_GD_32 = 24;
export const R_386_TLS_GD_PUSH = 25;
export const R_386_TLS_GD_CALL = 26;
export const R_386_TLS_GD_POP = 27;
export const R_386_TLS_LDM_32 = 28;
export const R_386_TLS_LDM_PUSH = 29;
export const R_386_TLS_LDM_CALL = 30;
export const R_386_TLS_LDM_POP = 31;
export const R_386_TLS_LDO_32 = 32;
export const R_386_TLS_IE_32 = 33;
export const R_386_TLS_LE_32 = 34;
export const R_386_TLS_DTPMOD32 = 35;
export const R_386_TLS_DTPOFF32 = 36;
export const R_386_TLS_TPOFF32 = 37;
export const R_386_SIZE32 = 38;
export const R_386_TLS_GOTDESC = 39;
export const R_386_TLS_DESC_CALL = 40;
export const R_386_TLS_DESC = 41;
export const R_386_IRELATIVE = 42;
export const R_386_GOT32X = 43;

const NAMES: Record<number, string> = {
  0: 'R_386_NONE',
  1: 'R_386_32',
  2: 'R_386_PC32',
  3: 'R_386_GOT32',
  4: 'R_386_PLT32',
  5: 'R_386_COPY',
  6: 'R_386_GLOB_DAT',
  7: 'R_386_JMP_SLOT',
  8: 'R_386_RELATIVE',
  9: 'R_386_GOTOFF',
  10: 'R_386_GOTPC',
  11: 'R_386_32PLT',
  14: 'R_386_TLS_TPOFF',
  15: 'R_386_TLS_IE',
  16: 'R_386_TLS_GOTIE',
  17: 'R_386_TLS_LE',
  18: 'R_386_TLS_GD',
  19: 'R_386_TLS_LDM',
  20: 'R_386_16',
  21: 'R_386_PC16',
  22: 'R_386_8',
  23: 'R_386_PC8',
  24: 'R_386_TLS_GD_32',
  25: 'R_386_TLS_GD_PUSH',
  26: 'R_386_TLS_GD_CALL',
  27: 'R_386_TLS_GD_POP',
  28: 'R_386_TLS_LDM_32',
  29: 'R_386_TLS_LDM_PUSH',
  30: 'R_386_TLS_LDM_CALL',
  31: 'R_386_TLS_LDM_POP',
  32: 'R_386_TLS_LDO_32',
  33: 'R_386_TLS_IE_32',
  34: 'R_386_TLS_LE_32',
  35: 'R_386_TLS_DTPMOD32',
  36: 'R_386_TLS_DTPOFF32',
  37: 'R_386_TLS_TPOFF32',
  38: 'R_386_SIZE32',
  39: 'R_386_TLS_GOTDESC',
  40: 'R_386_TLS_DESC_CALL',
  41: 'R_386_TLS_DESC',
  42: 'R_386_IRELATIVE',
  43: 'R_386_GOT32X',
};

export function relocName(type: number): string {
  return NAMES[type] ?? `unknown (${type})`;
}

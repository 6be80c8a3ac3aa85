/**
 * x86-64 ELF relocation types, named as in the System V AMD64 psABI (§4.4, "Relocation Types";
 * TLS ones from Drepper's "ELF Handling For Thread-Local Storage" and the TLSDESC proposal).
 */
export const R_X86_64_NONE = 0;
export const R_X86_64_64 = 1;
export const R_X86_64_PC32 = 2;
export const R_X86_64_GOT32 = 3;
export const R_X86_64_PLT32 = 4;
export const R_X86_64_COPY = 5;
export const R_X86_64_GLOB_DAT = 6;
export const R_X86_64_JUMP_SLOT = 7;
export const R_X86_64_RELATIVE = 8;
export const R_X86_64_GOTPCREL = 9;
export const R_X86_64_32 = 10;
export const R_X86_64_32S = 11;
export const R_X86_64_16 = 12;
export const R_X86_64_PC16 = 13;
export const R_X86_64_8 = 14;
export const R_X86_64_PC8 = 15;
export const R_X86_64_DTPMOD64 = 16;
export const R_X86_64_DTPOFF64 = 17;
export const R_X86_64_TPOFF64 = 18;
export const R_X86_64_TLSGD = 19;
export const R_X86_64_TLSLD = 20;
export const R_X86_64_DTPOFF32 = 21;
export const R_X86_64_GOTTPOFF = 22;
export const R_X86_64_TPOFF32 = 23;
export const R_X86_64_PC64 = 24;
export const R_X86_64_GOTOFF64 = 25;
export const R_X86_64_GOTPC32 = 26;
export const R_X86_64_GOT64 = 27;
export const R_X86_64_GOTPCREL64 = 28;
export const R_X86_64_GOTPC64 = 29;
export const R_X86_64_GOTPLT64 = 30;
export const R_X86_64_PLTOFF64 = 31;
export const R_X86_64_SIZE32 = 32;
export const R_X86_64_SIZE64 = 33;
export const R_X86_64_GOTPC32_TLSDESC = 34;
export const R_X86_64_TLSDESC_CALL = 35;
export const R_X86_64_TLSDESC = 36;
export const R_X86_64_IRELATIVE = 37;
export const R_X86_64_RELATIVE64 = 38;
export const R_X86_64_GOTPCRELX = 41;
export const R_X86_64_REX_GOTPCRELX = 42;

const NAMES: Record<number, string> = {
  0: 'R_X86_64_NONE',
  1: 'R_X86_64_64',
  2: 'R_X86_64_PC32',
  3: 'R_X86_64_GOT32',
  4: 'R_X86_64_PLT32',
  5: 'R_X86_64_COPY',
  6: 'R_X86_64_GLOB_DAT',
  7: 'R_X86_64_JUMP_SLOT',
  8: 'R_X86_64_RELATIVE',
  9: 'R_X86_64_GOTPCREL',
  10: 'R_X86_64_32',
  11: 'R_X86_64_32S',
  12: 'R_X86_64_16',
  13: 'R_X86_64_PC16',
  14: 'R_X86_64_8',
  15: 'R_X86_64_PC8',
  16: 'R_X86_64_DTPMOD64',
  17: 'R_X86_64_DTPOFF64',
  18: 'R_X86_64_TPOFF64',
  19: 'R_X86_64_TLSGD',
  20: 'R_X86_64_TLSLD',
  21: 'R_X86_64_DTPOFF32',
  22: 'R_X86_64_GOTTPOFF',
  23: 'R_X86_64_TPOFF32',
  24: 'R_X86_64_PC64',
  25: 'R_X86_64_GOTOFF64',
  26: 'R_X86_64_GOTPC32',
  27: 'R_X86_64_GOT64',
  28: 'R_X86_64_GOTPCREL64',
  29: 'R_X86_64_GOTPC64',
  30: 'R_X86_64_GOTPLT64',
  31: 'R_X86_64_PLTOFF64',
  32: 'R_X86_64_SIZE32',
  33: 'R_X86_64_SIZE64',
  34: 'R_X86_64_GOTPC32_TLSDESC',
  35: 'R_X86_64_TLSDESC_CALL',
  36: 'R_X86_64_TLSDESC',
  37: 'R_X86_64_IRELATIVE',
  38: 'R_X86_64_RELATIVE64',
  41: 'R_X86_64_GOTPCRELX',
  42: 'R_X86_64_REX_GOTPCRELX',
};

export function relocName(type: number): string {
  return NAMES[type] ?? `unknown (${type})`;
}

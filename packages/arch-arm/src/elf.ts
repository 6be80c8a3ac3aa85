/**
 * 32-bit ARM (EABI5, armhf) for ELF: relocation scanning and application, interworking, thunks,
 * PLT, TLS. Work in progress for the 386/ARM issue.
 */
import { EM_ARM, type ElfArch } from '@link/elf';

export const armElf: ElfArch = {
  name: 'arm',
  machine: EM_ARM,
  is64: false,
  rela: false,
  emulation: 'armelf_linux_eabi',
  pageSize: 0x10000,
  imageBase: 0x10000,
  trapFill: 0,
  relocName: (type) => `unknown (${type})`,
  scanRelocs(link, sec) {
    link.ctx.diag.error(`${sec.file.displayName}: ARM relocations are not implemented yet`);
  },
  applyRelocs() {},
  iplt: { entrySize: 16, write() {} },
  R_IRELATIVE: 160,
  plt: { headerSize: 20, entrySize: 12, writeHeader() {}, writeEntry() {}, lazyOffset: 0 },
  dynRel: {
    RELATIVE: 23,
    GLOB_DAT: 21,
    JUMP_SLOT: 22,
    COPY: 20,
    ABS: 2,
    DTPMOD: 17,
    DTPOFF: 18,
    TPOFF: 19,
    TLSDESC: 13,
  },
  tlsTcbSize: 8,
  defaultInterpreter: '/lib/ld-linux-armhf.so.3',
};

/**
 * i386 for ELF (System V i386 psABI): relocation scanning and application, PLT, TLS.
 * Work in progress for the 386/ARM issue.
 */
import { EM_386, type ElfArch } from '@link/elf';

export const i386Elf: ElfArch = {
  name: '386',
  machine: EM_386,
  is64: false,
  rela: false,
  emulation: 'elf_i386',
  pageSize: 0x1000,
  imageBase: 0x8048000,
  trapFill: 0xcc,
  relocName: (type) => `unknown (${type})`,
  scanRelocs(link, sec) {
    link.ctx.diag.error(`${sec.file.displayName}: i386 relocations are not implemented yet`);
  },
  applyRelocs() {},
  iplt: { entrySize: 16, write() {} },
  R_IRELATIVE: 42,
  plt: { headerSize: 16, entrySize: 16, writeHeader() {}, writeEntry() {}, lazyOffset: 6 },
  dynRel: {
    RELATIVE: 8,
    GLOB_DAT: 6,
    JUMP_SLOT: 7,
    COPY: 5,
    ABS: 1,
    DTPMOD: 35,
    DTPOFF: 36,
    TPOFF: 14,
    TLSDESC: 41,
  },
  defaultInterpreter: '/lib/ld-linux.so.2',
};

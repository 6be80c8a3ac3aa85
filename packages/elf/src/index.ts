export * from './constants.js';
export type { ElfArch } from './arch.js';
export { ElfLink, linkElf, elfPasses, type UndefRef } from './link.js';
export { ElfObjectFile, isElf, elfType } from './object-file.js';
export { refLocation } from './resolution.js';
export { GotKind } from './scan.js';
export { MERGE_SECTION_SYM } from './addresses.js';

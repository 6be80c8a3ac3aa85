export * from './constants.js';
export type { ElfArch, DynRelTypes, PltContext } from './arch.js';
export { ElfLink, linkElf, elfPasses, type UndefRef } from './link.js';
export { ElfObjectFile, isElf, elfType } from './object-file.js';
export { refLocation } from './resolution.js';
export { GotKind } from './scan.js';
export { MERGE_SECTION_SYM } from './addresses.js';
export {
  parseVersionScript,
  parseDynamicList,
  parseSymbolPattern,
  VersionMatcher,
  DynamicList,
  type Demangler,
  type SymbolPattern,
  type VersionNode,
  type VersionScript,
  type VersionMatch,
} from './version-script.js';
export { RelClass, RelAction, relAction, scanRelAction, applyAbsWord } from './dynamic-relocs.js';
export { pltEntryAddr } from './got-plt.js';
export { linkOrderTarget } from './gc-sections.js';
export {
  noteReference,
  isLocalBinding,
  canRelaxTlsToLe,
  reportOverflow,
  reportUnknownRelocation,
  scanCall,
  pltOr,
} from './reloc-checks.js';
export { SharedFile } from './dso.js';
export * from './shared-file.js';
export { addDependentLibrary } from './inputs.js';

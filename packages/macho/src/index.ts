/**
 * @link/macho — Mach-O for darwin/amd64: reads x86-64 `MH_OBJECT`s and TAPI `.tbd` stubs and
 * writes `MH_EXECUTE` (PIE) programs with dyld info or chained fixups, ad-hoc signed.
 */
export interface MachoArch {
  /** Mach-O cputype (CPU_TYPE_X86_64 = 0x01000007). */
  cputype: number;
  cpusubtype: number;
  /** Spec name of an `X86_64_RELOC_*` type. */
  relocName(type: number): string;
}

export * from './constants.js';
export {
  linkMacho,
  i386Output,
  defaultMachoOptions,
  machoPasses,
  MachoLink,
  addDylib,
  autoLinkRequests,
  type AutoLinkRequest,
  type MachoExtension,
  type MachoOptions,
  type Dylib,
} from './link.js';
export { readObject, isMachoObject, MachoObjectFile } from './reader.js';
export { parseTbd, parseVersion, type DylibInterface } from './tbd.js';
export { readDylib } from './dylib.js';
export {
  encodeRebases,
  encodeBinds,
  encodeLazyBinds,
  encodeExportTrie,
  ByteSink,
  type BindEntry,
  type ExportEntry,
} from './dyld-info.js';
export { writeCodeSignature, verifyCodeSignature, codeSignatureSize } from './codesign.js';
export { lintMacho, type LintResult } from './lint.js';
export { encodeRelocType, refLocation } from './relocations.js';

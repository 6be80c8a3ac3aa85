import {
  Context,
  InputFile,
  SymFlag,
  SymState,
  makeTarget,
  runPasses,
  type Chunk,
  type OutputSection,
  type Pass,
  type SymId,
} from '@link/core';
import type { ElfArch } from './arch.js';
import { localSymbolName, type ElfObjectFile } from './object-file.js';
import { readInputs } from './inputs.js';
import { checkDuplicates, checkUndefined, resolveSymbols } from './resolution.js';
import { defineLinkerSymbols, fixLinkerSymbols } from './linker-symbols.js';
import { runGcSections } from './gc-sections.js';
import { convertCommonSymbols, createOutputSections } from './output-sections.js';
import { mergeSections } from './merge.js';
import { rewriteEhFrames } from './eh-frame.js';
import { scanRelocations, allocateSlots } from './scan.js';
import { createSyntheticChunks, type Synthetics } from './synthetic.js';
import { layout, type ElfSegment } from './layout.js';
import { computeSymbolAddresses } from './addresses.js';
import { writeOutput } from './writer.js';
import { relocatablePasses } from './relocatable.js';
import { compressDebugSections } from './compress.js';
import { checkInputFlags, elfPass } from './headers.js';
import type { SharedFile } from './dso.js';
import type { VersionScript } from './version-script.js';
import { DynRelocs } from './dynamic-relocs.js';
import { computeBindings } from './bindings.js';
import {
  buildDynamicTables,
  type DynamicSections,
  type DynamicTables,
} from './dynamic-sections.js';

/** One reference to an undefined symbol, for lld-style `>>> referenced by` lines. */
export interface UndefRef {
  sym: SymId;
  sec: number;
  offset: number;
}

/**
 * The state of one ELF link: the core context plus what only ELF knows. Passes are plain
 * functions of it, listed in `elfPasses` in the order they run.
 */
export class ElfLink {
  readonly ctx: Context;
  readonly arch: ElfArch;
  /** COMDAT signature → file id that kept the group. */
  readonly comdats = new Map<string, number>();
  readonly objects: ElfObjectFile[] = [];
  /** The linker's own file: commons, merged sections and linker-defined symbols live in it. */
  readonly internalFile: InputFile;
  /** A defined absolute zero that relocations with symbol index 0 refer to. */
  readonly nullSym: SymId;
  outputSections: OutputSection[] = [];
  /** Every chunk in file order, sections and headers alike. */
  chunks: Chunk[] = [];
  segments: ElfSegment[] = [];
  synth!: Synthetics;
  /** GOT entries in assignment order: the symbol, what the entry holds, its first word. */
  readonly gotSyms: SymId[] = [];
  readonly gotKinds: number[] = [];
  readonly gotWords: number[] = [];
  gotWordCount = 0;
  /** First GOT word of each symbol's initial-exec, general-dynamic and descriptor TLS entries. */
  readonly gotTpIdx = new Map<SymId, number>();
  readonly tlsGdIdx = new Map<SymId, number>();
  readonly tlsDescIdx = new Map<SymId, number>();
  /** Local-dynamic TLS: one module-id pair for the whole output (-1 = none). */
  needsTlsLd = false;
  tlsLdIdx = -1;
  /** IFUNC symbols with a PLT entry and an IRELATIVE-filled slot, in assignment order. */
  readonly ipltSyms: SymId[] = [];
  /** Imported functions with a (lazy) PLT entry, in assignment order. */
  readonly pltSyms: SymId[] = [];
  /** Imported data copied into .dynbss (R_*_COPY), and each one's offset there. */
  readonly copySyms: SymId[] = [];
  readonly copyOffsets = new Map<SymId, number>();

  // --- Dynamic linking ---
  /** The output has a dynamic section (PIE, shared object, or shared-library inputs). */
  isDynamic = false;
  readonly sharedFiles: SharedFile[] = [];
  /** Libraries needed without a file (cgo_import_dynamic, plug-ins). */
  readonly extraNeeded: string[] = [];
  /** Version index each exported symbol gets from the version script. */
  readonly symVersion = new Map<SymId, number>();
  /** .dynsym name where it differs from the symbol's (`foo` for a definition of `foo@@V2`). */
  readonly dynName = new Map<SymId, string>();
  versionScript: VersionScript | null = null;
  /** Dynamic relocations counted by the scan and by slot allocation (sizes .rela.dyn). */
  relDynCount = 0;
  /** Symbolic dynamic relocations counted per imported symbol of an executable (see scan). */
  readonly dynRelsBySym = new Map<SymId, number>();
  readonly relDyn = new DynRelocs();
  readonly dynsymIdx = new Map<SymId, number>();
  dynTables: DynamicTables | null = null;
  dynSections: DynamicSections | null = null;
  /** A dynamic relocation lands in a read-only section (-z notext): DT_TEXTREL. */
  textRel = false;
  /** Initial-exec TLS in a shared object: DF_STATIC_TLS. */
  staticTls = false;
  readonly undefRefs: UndefRef[] = [];
  /** Thread-local storage template bounds (after layout). */
  tlsStart = 0;
  tlsEnd = 0;
  tlsAlign = 1;
  /** Thread pointer, as x86-64/i386 (variant II) see it: the aligned end of the TLS block. */
  tp = 0;
  /** _GLOBAL_OFFSET_TABLE_. */
  gotBase = 0;
  fileSize = 0;
  entryAddr = 0;
  wantsExecStack = false;
  /** Where the file's non-allocated part starts (placeFileTail). */
  fileTailStart = 0;
  eflags = 0;
  /** Number of live FDEs across all .eh_frame inputs (sizes .eh_frame_hdr). */
  ehFdeCount = 0;
  /** Output sections in section-header order (index = shndx - 1). */
  sectionHeaderOrder: OutputSection[] = [];
  /** .symtab, .strtab, .shstrtab: after everything else in the file. */
  tailSections: OutputSection[] = [];
  shstrOffsets = new Map<string, number>();
  shstrBytes = new Uint8Array(1);

  constructor(ctx: Context, arch: ElfArch) {
    this.ctx = ctx;
    this.arch = arch;
    ctx.target = makeTarget(ctx.config, arch.is64 ? 8 : 4);
    this.internalFile = new InputFile(
      -1,
      '<internal>',
      '<internal>',
      'internal',
      new Uint8Array(0),
    );
    this.nullSym = ctx.syms.addLocal(-1, 0, -1, 0, 0);
    ctx.syms.flags[this.nullSym] = ctx.syms.flags[this.nullSym]! | SymFlag.Absolute;
    ctx.localNameResolver = (id) => {
      const f = ctx.syms.file[id]!;
      const file = f >= 0 ? (ctx.files[f] as ElfObjectFile | undefined) : undefined;
      if (!file || !('symtabOff' in file)) return '';
      return localSymbolName(file, ctx.syms.fileSymIdx[id]!);
    };
  }

  /** Address of an IFUNC symbol's resolver (its definition, not its PLT entry). */
  resolverAddr(id: SymId): number {
    const sec = this.ctx.sections[this.ctx.syms.section[id]!]!;
    return sec.addrOf(this.ctx.syms.value[id]!);
  }

  /** File offset of an address in a loaded segment. */
  fileOffsetOf(addr: number): number {
    for (const s of this.segments) {
      if (s.type === 1 && addr >= s.vaddr && addr < s.vaddr + s.filesz)
        return s.offset + (addr - s.vaddr);
    }
    throw new Error(`internal: address 0x${addr.toString(16)} is not in the file`);
  }

  /** Index of `id` in .dynsym (0 when it is not there). */
  dynsymIndex(id: SymId): number {
    return this.dynsymIdx.get(id) ?? 0;
  }

  /** Whether a symbol resolves to nothing (undefined weak or never defined). */
  isUndefined(id: SymId): boolean {
    const st = this.ctx.syms.state[id]!;
    return st === SymState.Undefined || st === SymState.Lazy;
  }
}

/** The passes of a static ELF link, in order. ✓ = checkpoint: stop here on errors. */
export const elfPasses: Pass<Context & { elf: ElfLink }>[] = [];

const pass = elfPass;

elfPasses.push(
  pass('readInputs', readInputs, true),
  // Feature extensions see every input before resolution (cgo directives import and export).
  pass(
    'extensions',
    (l) => {
      for (const ext of l.ctx.extensions) ext.afterReadInputs?.(l.ctx);
    },
    true,
  ),
  pass('resolveSymbols', resolveSymbols, true),
  pass('defineLinkerSymbols', defineLinkerSymbols),
  pass('checkDuplicates', checkDuplicates, true),
  pass('checkInputFlags', checkInputFlags, true),
  pass('computeBindings', computeBindings, true),
  pass('gcSections', runGcSections),
  pass('convertCommonSymbols', convertCommonSymbols),
  pass('createOutputSections', (l) => createOutputSections(l)),
  pass('mergeSections', mergeSections),
  pass('rewriteEhFrames', rewriteEhFrames, true),
  pass('scanRelocations', scanRelocations),
  pass('checkUndefined', checkUndefined, true),
  pass('allocateSlots', allocateSlots),
  pass('buildDynamicTables', buildDynamicTables),
  pass('extensions', (l) => {
    for (const ext of l.ctx.extensions) ext.beforeSynthetics?.(l.ctx);
  }),
  pass('createSyntheticChunks', createSyntheticChunks),
  pass(
    'layout',
    (l) => {
      l.arch.mergeArchSections?.(l);
      l.arch.beforeLayout?.(l);
      layout(l);
      while (l.arch.relayout?.(l)) layout(l);
    },
    true,
  ),
  pass('computeSymbolAddresses', (l) => {
    fixLinkerSymbols(l);
    computeSymbolAddresses(l);
  }),
  pass('compressDebugSections', compressDebugSections),
  pass('writeOutput', writeOutput, true),
);

/** Runs a whole ELF link. */
export function linkElf(ctx: Context, arch: ElfArch): ElfLink {
  const link = new ElfLink(ctx, arch);
  const c = ctx as Context & { elf: ElfLink };
  c.elf = link;
  runPasses(c, ctx.config.outputKind === 'relocatable' ? relocatablePasses : elfPasses);
  return link;
}

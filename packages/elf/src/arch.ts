import type { InputSection } from '@link/core';
import type { ElfLink } from './link.js';

/**
 * The ELF half of an arch plug-in (Go's `ld.Arch.ELF`, lld's `TargetInfo`). Declared here, in the
 * format package; implemented by `@link/arch-*` behind their `./elf` subpath export, so that a
 * user of ELF/amd64 installs no Mach-O or PE code.
 */
export interface ElfArch {
  name: string;
  /** e_machine. */
  machine: number;
  is64: boolean;
  /** RELA (explicit addends) or REL (addends in the section bytes). */
  rela: boolean;
  /** The `-m` emulation name, for messages and `-m` checks (`elf_x86_64`). */
  emulation: string;
  /** Max page size: PT_LOAD alignment and file-offset congruence. */
  pageSize: number;
  /** Default base address of a non-PIE executable. */
  imageBase: number;
  /** Byte that pads executable sections (int3 on x86). */
  trapFill: number;
  /**
   * REL targets (i386, ARM): the addend a relocation keeps in the field it patches (lld's
   * `getImplicitAddend`). Read once, when the relocations are loaded, into the store's addend
   * column, so every later pass (merge-section lookups, .eh_frame, scan, apply) sees an explicit
   * addend; `applyRelocs` then overwrites the field's value bits.
   */
  implicitAddend?(type: number, b: Uint8Array, off: number): number;
  /**
   * REL targets, for `-r`: stores `addend` in the field a relocation of `type` patches (the
   * inverse of `implicitAddend`), keeping the instruction's other bits.
   */
  writeImplicitAddend?(type: number, b: Uint8Array, off: number, addend: number): void;
  /**
   * TLS variant I (ARM): the thread pointer points at a TCB of this many bytes that precedes the
   * TLS block. Absent for variant II (x86), where it points at the aligned end of the block.
   */
  tlsTcbSize?: number;
  /**
   * The output's e_flags, after checking that the inputs' flags can be mixed (ARM's EABI version
   * and float ABI). Reports conflicts through `link.ctx.diag`. Absent: 0.
   */
  outputFlags?(link: ElfLink): number;
  /**
   * Merges the sections the arch combines by its own rules rather than by concatenation (ARM:
   * `.ARM.attributes`). Runs in final and in relocatable (`-r`) links, once output sections exist.
   */
  mergeArchSections?(link: ElfLink): void;
  /**
   * Runs after the synthetic chunks exist and before the first layout (ARM: orders .ARM.exidx
   * by the code it describes and covers the gaps).
   */
  beforeLayout?(link: ElfLink): void;
  /**
   * Runs after each layout with every address assigned; returns true when it changed section
   * sizes (ARM: added range-extension thunks), and layout runs again. Must converge.
   */
  relayout?(link: ElfLink): boolean;
  /** Spec name of a relocation type, `R_X86_64_PC32`, or `unknown (N)`. */
  relocName(type: number): string;
  /**
   * Runs once per live allocated section, after symbol resolution and before layout: classifies
   * each relocation and sets the symbol flags (NeedsGot, NeedsIplt, ...) that decide which
   * synthetic slots exist. Reports unknown relocation types and undefined symbols through `link`.
   */
  scanRelocs(link: ElfLink, sec: InputSection): void;
  /**
   * Applies the relocations of `sec`, whose bytes were copied to `buf` at `off` and which is
   * loaded at `addr`. All addresses are final. Works for allocated and non-allocated sections.
   */
  applyRelocs(link: ElfLink, sec: InputSection, buf: Uint8Array, off: number, addr: number): void;
  /** PLT entries for IFUNC symbols in static links, each jumping through its .got.plt slot. */
  iplt: {
    entrySize: number;
    write(buf: Uint8Array, off: number, entryAddr: number, slotAddr: number, ctx: PltContext): void;
  };
  /** Dynamic relocation types the static machinery emits. */
  R_IRELATIVE: number;
  /**
   * In dynamically linked output, IRELATIVE relocations go to .rel(a).dyn rather than
   * DT_JMPREL (glibc's ARM loader rejects them among the lazy PLT relocations).
   */
  irelativeInRelDyn?: boolean;
  /** The lazy-binding PLT of dynamically linked outputs. */
  plt: {
    /** PLT0, which pushes the link map and jumps to the resolver. */
    headerSize: number;
    entrySize: number;
    writeHeader(buf: Uint8Array, off: number, ctx: PltContext): void;
    /** Entry `index` jumps through `slotAddr`; until bound, the slot points back into it. */
    writeEntry(
      buf: Uint8Array,
      off: number,
      entryAddr: number,
      slotAddr: number,
      index: number,
      ctx: PltContext,
    ): void;
    /** Where an unbound .got.plt slot points: this offset into its PLT entry. */
    lazyOffset: number;
    /** Unbound slots point at PLT0 instead (ARM: the resolver finds the slot through ip). */
    lazyToHeader?: boolean;
    /**
     * Offset of the entry point that serves as the function's address (ARM: the ARM code after
     * a Thumb prefix), for canonical PLT entries and IFUNC PLT entries. Absent: 0.
     */
    canonicalOffset?: number;
  };
  /** Dynamic relocation types, by role. */
  dynRel: DynRelTypes;
  /**
   * REL targets: which word of a TLS descriptor holds the addend of a symbol-less TLSDESC
   * relocation (glibc reads its `argument` field: word 1 on i386, word 0 on ARM). Absent: 1.
   */
  tlsDescAddendWord?: number;
  /** The dynamic linker executables name in PT_INTERP by default. */
  defaultInterpreter: string;
  /**
   * A plugin's initializer (`--buildmode=plugin`): code that passes the module descriptor to the
   * host's registration function, reached through a GOT slot and skipped when that weak import
   * is null. Relocations refer to the descriptor or to the registration function's GOT slot.
   */
  pluginInit?: {
    code: Uint8Array;
    relocs: { offset: number; type: number; addend: number; target: 'descriptor' | 'register' }[];
    /** The word-sized absolute relocation, for pointers in the descriptor and .init_array. */
    abs: number;
  };
}

/** What every PLT entry of one output may need besides its own addresses. */
export interface PltContext {
  pltAddr: number;
  /** .got.plt, the base i386 PIC entries address through %ebx. */
  gotPltAddr: number;
  /** Position-independent output (PIE or shared): entries may not use absolute addresses. */
  pic: boolean;
}

export interface DynRelTypes {
  RELATIVE: number;
  GLOB_DAT: number;
  JUMP_SLOT: number;
  COPY: number;
  /** The word-sized absolute relocation (R_X86_64_64). */
  ABS: number;
  DTPMOD: number;
  DTPOFF: number;
  TPOFF: number;
  TLSDESC: number;
}

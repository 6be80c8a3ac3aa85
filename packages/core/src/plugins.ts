import type { Context } from './context.js';

/**
 * The three plug-in contracts. Formats and arches register through these small, explicit
 * interfaces (the CLI's static registry lists them); feature packages attach at fixed hooks.
 */

/** An arch: format-neutral facts. Per-format halves (ELF, Mach-O, PE) live in the format packages' own interfaces. */
export interface ArchPlugin {
  name: 'amd64' | '386' | 'arm';
  ptrSize: 4 | 8;
  bigEndian: boolean;
  /** Max page size used for segment alignment. */
  pageSize: number;
}

/** What kind of input a format recognises by its magic. */
export type SniffedKind = 'object' | 'shared' | 'archive' | 'script' | 'tbd';

/** A file format: owns its reader, its passes and its writers. */
export interface FormatPlugin {
  name: 'elf' | 'macho' | 'pe';
  sniff(bytes: Uint8Array): SniffedKind | null;
}

/**
 * A feature extension (cgo, hostlink, plugin). Hooks are plain optional methods called in
 * registration order at fixed points of the pipeline, like Go's Arch fields.
 */
export interface LinkExtension {
  name: string;
  /** After all inputs are read, before resolution: may add directives, symbols, inputs. */
  afterReadInputs?(ctx: Context): void;
  /** Before symbol resolution is final: may mark imports. */
  beforeResolve?(ctx: Context): void;
  /** Votes for a link mode with a reason (`mustLinkExternal`); null abstains. */
  decideLinkMode?(ctx: Context): { mode: 'internal' | 'external'; reason: string } | null;
  /** Marks exported symbols. */
  computeExports?(ctx: Context): void;
  /**
   * After relocations are scanned and GOT/PLT slots allocated, before synthetic sections are
   * sized: may add input sections of its own (and count the dynamic relocations they need).
   */
  beforeSynthetics?(ctx: Context): void;
  afterLayout?(ctx: Context): void;
  afterWrite?(ctx: Context): void;
  /** Takes over writing the output (hostlink's external mode). Returns true if it did. */
  replaceWrite?(ctx: Context): boolean;
}

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
 * A feature extension (cgo, plugin). Hooks are plain optional methods called in registration
 * order at fixed points of a format's pipeline, like Go's Arch fields; a hook is added when a
 * feature needs it. (Link modes are decided by the CLI before any pipeline runs.)
 */
export interface LinkExtension {
  name: string;
  /** After all inputs are read, before resolution: may add directives, symbols, inputs. */
  afterReadInputs?(ctx: Context): void;
  /**
   * After relocations are scanned and GOT/PLT slots allocated, before synthetic sections are
   * sized: may add input sections of its own (and count the dynamic relocations they need).
   */
  beforeSynthetics?(ctx: Context): void;
}

import type { LinkExtension } from './plugins.js';
import { RelocStore } from './relocs.js';
import type { LinkConfig, Target } from './config.js';
import { Diagnostics } from './errors.js';
import type { InputFile, InputSection } from './input.js';
import { SymbolTable } from './symbols.js';
import { Timer } from './timer.js';
import type { Archive } from './archive.js';

/** An archive on the command line: members are read only when a symbol pulls them in. */
export interface ArchiveInput {
  id: number;
  path: string;
  bytes: Uint8Array;
  archive: Archive;
  /**
   * Member id (see `Archive`) → file id once extracted; -1 before, -2 while queued. Sized by
   * `archive.memberCount` when the input is added, after any full walk (`--whole-archive`), so
   * every id the input will ever use is covered.
   */
  extracted: Int32Array;
  /** Command-line position, for member priority. */
  priority: number;
  /** For an archive read on demand: makes `bytes[start, end)` valid (see `SparseFile`). */
  ensure: ((start: number, end: number) => void) | null;
  /** For an archive read on demand: bytes [start, end) for one use, not kept resident. */
  readOnce: ((start: number, end: number) => Uint8Array) | null;
}

/**
 * The state of one link. Passes take it as their first argument (mold's `ctx`). Format packages
 * keep their own state next to it; feature packages keep theirs in `ext`.
 */
export class Context {
  readonly config: LinkConfig;
  target!: Target;
  readonly diag = new Diagnostics();
  readonly timer = new Timer();
  readonly syms = new SymbolTable();
  /** Every input section's relocations, as shared columns. */
  readonly relocs = new RelocStore();
  readonly files: InputFile[] = [];
  /** Every input section of every file, by global id. */
  readonly sections: InputSection[] = [];
  readonly archives: ArchiveInput[] = [];
  /** Archive members waiting to be parsed: [archive index, member index]. FIFO, so deterministic. */
  readonly extractQueue: [number, number][] = [];
  /** State of feature packages (cgo, hostlink, plugin), keyed by package name. */
  readonly ext = new Map<string, unknown>();
  /** Feature extensions (cgo, hostlink, plugin), called at the format pipeline's fixed hooks. */
  readonly extensions: LinkExtension[] = [];

  constructor(config: LinkConfig) {
    this.config = config;
    this.diag.errorLimit = config.errorLimit;
    this.diag.fatalWarnings = config.fatalWarnings;
  }

  /** Name of a symbol for messages: globals by name, locals by their file's name for them. */
  symName(id: number): string {
    return this.syms.names[id] ?? this.localNameResolver(id);
  }

  /** Formats install a resolver for local symbol names (kept out of the hot path). */
  localNameResolver: (id: number) => string = (id) => `<local ${id}>`;
}

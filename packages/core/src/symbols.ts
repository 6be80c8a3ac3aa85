import { latin1 } from './intern.js';
/**
 * The symbol table, as structure-of-arrays indexed by `SymId` (Go's loader and wild do the same):
 * one typed-array column per attribute, so millions of symbols cost a few flat arrays and no
 * objects. Global symbols are interned by name; local symbols get ids too (so a relocation can
 * always name its target by id) but are never entered in the name map.
 */
export type SymId = number;

/** What kind of definition currently wins for a symbol. */
export const enum SymState {
  Undefined = 0,
  Defined = 1,
  Common = 2,
  Lazy = 3,
  Shared = 4,
}

/** ELF-compatible symbol types; other formats map onto these. */
export const enum SymType {
  NoType = 0,
  Object = 1,
  Func = 2,
  Section = 3,
  File = 4,
  Common = 5,
  Tls = 6,
  GnuIfunc = 10,
}

export const enum Visibility {
  Default = 0,
  Internal = 1,
  Hidden = 2,
  Protected = 3,
}

/** Bits in `flags`. */
export const SymFlag = {
  Local: 1 << 0,
  Weak: 1 << 1,
  /** Referenced by a non-weak undefined reference from a live file. */
  RefStrong: 1 << 2,
  RefWeak: 1 << 3,
  NeedsGot: 1 << 4,
  NeedsPlt: 1 << 5,
  NeedsGotTp: 1 << 6,
  NeedsTlsGd: 1 << 7,
  NeedsTlsDesc: 1 << 8,
  NeedsCopy: 1 << 9,
  Exported: 1 << 10,
  Imported: 1 << 11,
  Preemptible: 1 << 12,
  /** Defined by the linker (`_end`, `__start_foo`...). */
  Synthetic: 1 << 13,
  /** Absolute value (ELF SHN_ABS). */
  Absolute: 1 << 14,
  /** Symbol is used from a relocation in a live section (for symtab output and GC). */
  Used: 1 << 15,
  /** Name was given with -u / is an export root. */
  Root: 1 << 16,
  NeedsIplt: 1 << 17,
  /** A shared library input references the symbol (an executable must then export it). */
  RefByDso: 1 << 18,
  /** Imported function whose address is taken by non-PIC code: its PLT entry is its address. */
  CanonicalPlt: 1 << 19,
  /** Listed by --dynamic-list / --export-dynamic-symbol. */
  DynamicListed: 1 << 21,
  /** Made local by a version script (`local:`). */
  VersionLocal: 1 << 22,
} as const;

const INITIAL = 1024;

export class SymbolTable {
  count = 0;
  private cap = INITIAL;
  private readonly byName = new Map<string, SymId>();
  private readonly globals: SymId[] = [];
  /** Names of global symbols (locals store theirs in `localName`). */
  names: string[] = [];

  state = new Uint8Array(INITIAL);
  type = new Uint8Array(INITIAL);
  visibility = new Uint8Array(INITIAL);
  flags = new Uint32Array(INITIAL);
  /** Defining file (or, for Lazy, the archive file). -1 = none. */
  file = new Int32Array(INITIAL);
  /** Global InputSection id of the definition; -1 = absolute / none. */
  section = new Int32Array(INITIAL);
  /** Lazy: archive member index. Common: alignment. */
  aux = new Int32Array(INITIAL);
  value = new Float64Array(INITIAL);
  size = new Float64Array(INITIAL);
  /** Final virtual address, valid after layout. */
  addr = new Float64Array(INITIAL);
  gotIdx = new Int32Array(INITIAL);
  pltIdx = new Int32Array(INITIAL);
  /** Index in the output .symtab/.dynsym, or another per-format slot. */
  outIdx = new Int32Array(INITIAL);
  /** Index of the symbol in its defining file's symbol table (for diagnostics and versions). */
  fileSymIdx = new Int32Array(INITIAL);

  private grow(): void {
    const cap = this.cap * 2;
    const g8 = (a: Uint8Array) => {
      const b = new Uint8Array(cap);
      b.set(a);
      return b;
    };
    const g32 = (a: Int32Array, fill = 0) => {
      const b = new Int32Array(cap);
      b.set(a);
      if (fill !== 0) b.fill(fill, a.length);
      return b;
    };
    const gf = (a: Float64Array) => {
      const b = new Float64Array(cap);
      b.set(a);
      return b;
    };
    this.state = g8(this.state);
    this.type = g8(this.type);
    this.visibility = g8(this.visibility);
    const f = new Uint32Array(cap);
    f.set(this.flags);
    this.flags = f;
    this.file = g32(this.file);
    this.section = g32(this.section);
    this.aux = g32(this.aux);
    this.value = gf(this.value);
    this.size = gf(this.size);
    this.addr = gf(this.addr);
    this.gotIdx = g32(this.gotIdx);
    this.pltIdx = g32(this.pltIdx);
    this.outIdx = g32(this.outIdx);
    this.fileSymIdx = g32(this.fileSymIdx);
    this.cap = cap;
  }

  private alloc(): SymId {
    if (this.count === this.cap) this.grow();
    const id = this.count++;
    this.file[id] = -1;
    this.section[id] = -1;
    this.gotIdx[id] = -1;
    this.pltIdx[id] = -1;
    this.outIdx[id] = -1;
    this.fileSymIdx[id] = -1;
    return id;
  }

  /** The global symbol named `name`, created undefined on first sight. */
  intern(name: string): SymId {
    let id = this.byName.get(name);
    if (id === undefined) {
      id = this.alloc();
      this.byName.set(name, id);
      this.names[id] = name;
      this.globals.push(id);
    }
    return id;
  }

  /**
   * The global symbol whose name is the bytes `b[start, end)` (latin1). Decoding natively and
   * looking up in a Map beats hashing the bytes in JavaScript: most links are short, and their
   * hot loops run before the JIT has optimized them.
   */
  internBytes(b: Uint8Array, start: number, end: number): SymId {
    return this.intern(latin1(b, start, end));
  }

  lookup(name: string): SymId {
    return this.byName.get(name) ?? -1;
  }

  /** A file-local symbol: never shared, never looked up by name. */
  addLocal(file: number, fileSymIdx: number, section: number, value: number, type: number): SymId {
    const id = this.alloc();
    this.state[id] = SymState.Defined;
    this.flags[id] = SymFlag.Local;
    this.file[id] = file;
    this.section[id] = section;
    this.value[id] = value;
    this.type[id] = type;
    this.fileSymIdx[id] = fileSymIdx;
    return id;
  }

  isLocal(id: SymId): boolean {
    return (this.flags[id]! & SymFlag.Local) !== 0;
  }

  isWeak(id: SymId): boolean {
    return (this.flags[id]! & SymFlag.Weak) !== 0;
  }

  isDefined(id: SymId): boolean {
    const s = this.state[id]!;
    return s === SymState.Defined || s === SymState.Common;
  }

  /** Global names in id order; for stable iteration. */
  globalIds(): SymId[] {
    return this.globals.slice();
  }
}

/**
 * A section's relocations as columns (one typed array per field). Decoded once from the input's
 * REL/RELA bytes; `sym` holds global `SymId`s so applying needs no per-file lookup.
 */
export class RelocTable {
  readonly count: number;
  readonly offset: Uint32Array;
  readonly type: Uint32Array;
  readonly sym: Int32Array;
  /** Exact up to 2^53, which covers every addend real compilers emit. */
  readonly addend: Float64Array;

  constructor(count: number) {
    this.count = count;
    this.offset = new Uint32Array(count);
    this.type = new Uint32Array(count);
    this.sym = new Int32Array(count);
    this.addend = new Float64Array(count);
  }
}

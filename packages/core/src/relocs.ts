/**
 * Relocations as columns (one typed array per field) shared by the whole link: every section's
 * relocations are a range [start, start + count) of the same four arrays. Decoded once from the
 * input's REL/RELA bytes; `sym` holds global `SymId`s so applying needs no per-file lookup.
 *
 * One store rather than arrays per section: a large link has tens of thousands of relocation
 * sections, and four typed-array views apiece cost more heap (and garbage-collector work) than
 * the relocations themselves. Columns grow by reallocation, so code takes them from the store
 * after the relocations it reads have been added, not before.
 */
export class RelocStore {
  count = 0;
  private cap = 0;
  /** Exact up to 2^53, which covers every addend real compilers emit. */
  addend = new Float64Array(0);
  offset = new Uint32Array(0);
  type = new Uint32Array(0);
  sym = new Int32Array(0);

  /** Reserves `n` entries and returns the index of the first. */
  alloc(n: number): number {
    const start = this.count;
    if (start + n > this.cap) this.grow(start + n);
    this.count = start + n;
    return start;
  }

  private grow(need: number): void {
    // Fresh large typed arrays are zero pages the kernel maps on first touch, so the slack of
    // doubling costs address space, not memory.
    const cap = Math.max(need, this.cap * 2, 4096);
    const f = new Float64Array(cap);
    f.set(this.addend.subarray(0, this.count));
    this.addend = f;
    const o = new Uint32Array(cap);
    o.set(this.offset.subarray(0, this.count));
    this.offset = o;
    const t = new Uint32Array(cap);
    t.set(this.type.subarray(0, this.count));
    this.type = t;
    const s = new Int32Array(cap);
    s.set(this.sym.subarray(0, this.count));
    this.sym = s;
    this.cap = cap;
  }
}

/** One section's relocations: entries [start, start + count) of `store`. */
export class RelocTable {
  constructor(
    readonly store: RelocStore,
    readonly start: number,
    readonly count: number,
  ) {}

  /** A table of `count` new entries at the end of `store`. */
  static allocate(store: RelocStore, count: number): RelocTable {
    return new RelocTable(store, store.alloc(count), count);
  }
}

/**
 * A section's relocations as columns (one typed array per field). Decoded once from the input's
 * REL/RELA bytes; `sym` holds global `SymId`s so applying needs no per-file lookup.
 *
 * Columns are carved out of shared 1 MiB slabs: a link has thousands of small relocation
 * sections, and one ArrayBuffer each would cost an allocation and GC bookkeeping apiece.
 */
const SLAB_SIZE = 1 << 20;
let slab: ArrayBuffer | null = null;
let slabUsed = 0;

function carve(bytes: number): [ArrayBuffer, number] {
  const n = (bytes + 7) & ~7;
  if (n > SLAB_SIZE >> 2) return [new ArrayBuffer(n), 0];
  if (slab === null || slabUsed + n > SLAB_SIZE) {
    slab = new ArrayBuffer(SLAB_SIZE);
    slabUsed = 0;
  }
  const off = slabUsed;
  slabUsed += n;
  return [slab, off];
}

export class RelocTable {
  readonly count: number;
  /** Exact up to 2^53, which covers every addend real compilers emit. */
  readonly addend: Float64Array;
  readonly offset: Uint32Array;
  readonly type: Uint32Array;
  readonly sym: Int32Array;

  constructor(count: number) {
    this.count = count;
    const [buf, off] = carve(count * 20);
    // Float64 first keeps it 8-byte aligned; the 4-byte columns follow.
    this.addend = new Float64Array(buf, off, count);
    this.offset = new Uint32Array(buf, off + count * 8, count);
    this.type = new Uint32Array(buf, off + count * 12, count);
    this.sym = new Int32Array(buf, off + count * 16, count);
  }
}

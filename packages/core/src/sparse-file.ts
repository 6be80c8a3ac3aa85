import * as fs from 'node:fs';

/** Block size of on-demand reads: big enough to amortize a read, small next to an archive. */
const BLOCK_SHIFT = 12;
const BLOCK = 1 << BLOCK_SHIFT;

/**
 * A large input read on demand: one buffer the size of the file, whose blocks are read the first
 * time a range covering them is asked for. An archive is mostly members nobody extracts; reading
 * only the index and the extracted members saves the time and, more, the memory of the rest
 * (the buffer's untouched pages are never resident).
 */
export class SparseFile {
  readonly bytes: Buffer;
  private readonly loaded: Uint8Array;

  constructor(
    private readonly fd: number,
    readonly path: string,
    size: number,
  ) {
    this.bytes = Buffer.allocUnsafeSlow(size);
    this.loaded = new Uint8Array((size + BLOCK - 1) >>> BLOCK_SHIFT || 1);
  }

  /**
   * Bytes [start, end) for a single use (relocations, decoded once): read into a buffer of their
   * own unless already loaded, so they never become part of what the link keeps resident.
   */
  readOnce(start: number, end: number): Uint8Array {
    const size = this.bytes.length;
    if (end > size) end = size;
    if (start < 0) start = 0;
    if (start >= end) return new Uint8Array(0);
    let loaded = true;
    for (let blk = start >>> BLOCK_SHIFT; blk <= (end - 1) >>> BLOCK_SHIFT; blk++)
      if (this.loaded[blk] === 0) loaded = false;
    if (loaded) return this.bytes.subarray(start, end);
    const out = Buffer.allocUnsafe(end - start);
    let done = 0;
    while (done < out.length) {
      const n = fs.readSync(this.fd, out, done, out.length - done, start + done);
      if (n === 0) throw new Error(`${this.path}: file shrank while being read`);
      done += n;
    }
    return out;
  }

  /** Makes bytes [start, end) valid; ranges outside the file are clamped. */
  ensure(start: number, end: number): void {
    const size = this.bytes.length;
    if (end > size) end = size;
    if (start < 0) start = 0;
    if (start >= end) return;
    const last = (end - 1) >>> BLOCK_SHIFT;
    for (let blk = start >>> BLOCK_SHIFT; blk <= last; blk++) {
      if (this.loaded[blk] !== 0) continue;
      // Read runs of missing blocks with one call each.
      let stop = blk;
      while (stop + 1 <= last && this.loaded[stop + 1] === 0) stop++;
      const off = blk * BLOCK;
      const len = Math.min(size, (stop + 1) * BLOCK) - off;
      let done = 0;
      while (done < len) {
        const n = fs.readSync(this.fd, this.bytes, off + done, len - done, off + done);
        if (n === 0) throw new Error(`${this.path}: file shrank while being read`);
        done += n;
      }
      this.loaded.fill(1, blk, stop + 1);
      blk = stop;
    }
  }
}

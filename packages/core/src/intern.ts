/**
 * String interning: each distinct name gets a small integer id once, and everything after
 * compares ints. Names are decoded from input bytes with latin1 (byte-preserving, and the
 * fastest decoder in Node for short ASCII names).
 */
export class StringPool {
  private readonly ids = new Map<string, number>();
  readonly strings: string[] = [];

  intern(s: string): number {
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.strings.length;
      this.strings.push(s);
      this.ids.set(s, id);
    }
    return id;
  }

  lookup(s: string): number {
    return this.ids.get(s) ?? -1;
  }

  get(id: number): string {
    return this.strings[id]!;
  }

  get size(): number {
    return this.strings.length;
  }
}

/**
 * Reads a NUL-terminated latin1 string at `off` of a byte table; the string ends at the first
 * NUL or at `limit` (the end of the table), whichever comes first.
 */
export function cstring(bytes: Uint8Array, off: number, limit: number = bytes.length): string {
  // The native indexOf finds the terminator faster than a loop the JIT has not optimized yet.
  let end = bytes.indexOf(0, off);
  if (end < 0 || end > limit) end = Math.max(off, limit);
  return latin1(bytes, off, end);
}

type Latin1Slice = (this: Uint8Array, start: number, end: number) => string;
const nativeLatin1: Latin1Slice | null =
  typeof Buffer !== 'undefined'
    ? ((Buffer.prototype as unknown as { latin1Slice?: Latin1Slice }).latin1Slice ?? null)
    : null;

/**
 * Decodes bytes [start, end) as latin1. Node's Buffers decode in place (`latin1Slice`, no
 * intermediate object: this runs once per symbol name); short names are cheaper char by char.
 */
export function latin1(bytes: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n < 12) {
    let s = '';
    for (let i = start; i < end; i++) s += String.fromCharCode(bytes[i]!);
    return s;
  }
  // Node's native decoder accepts any Uint8Array, not only Buffers.
  if (nativeLatin1 !== null) return nativeLatin1.call(bytes, start, end);
  return String.fromCharCode(...bytes.subarray(start, end));
}

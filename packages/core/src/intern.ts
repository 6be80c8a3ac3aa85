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

/** Reads a NUL-terminated latin1 string at `off` from a byte table. */
export function cstring(bytes: Uint8Array, off: number): string {
  let end = off;
  const n = bytes.length;
  while (end < n && bytes[end] !== 0) end++;
  return latin1(bytes, off, end);
}

const hasBuffer = typeof Buffer !== 'undefined';

export function latin1(bytes: Uint8Array, start: number, end: number): string {
  if (end - start < 16) {
    let s = '';
    for (let i = start; i < end; i++) s += String.fromCharCode(bytes[i]!);
    return s;
  }
  if (hasBuffer) {
    return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
  }
  return String.fromCharCode(...bytes.subarray(start, end));
}

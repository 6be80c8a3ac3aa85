/**
 * Little-endian reads and writes on byte arrays. 64-bit values are `number`s (exact below 2^53,
 * which covers every address and size a linker handles here); writes split them into halves
 * with two's complement for negatives, so no BigInt is needed in hot paths.
 */
export function u16(b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8);
}

export function u32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}

export function i32(b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24);
}

/** Unsigned 64-bit read; values past 2^53 lose precision (callers check where it matters). */
export function u64(b: Uint8Array, o: number): number {
  return u32(b, o) + u32(b, o + 4) * 0x100000000;
}

/** Signed 64-bit read (two's complement). */
export function i64(b: Uint8Array, o: number): number {
  return u32(b, o) + i32(b, o + 4) * 0x100000000;
}

export function w16(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
}

export function w32(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
  b[o + 2] = (v >>> 16) & 0xff;
  b[o + 3] = (v >>> 24) & 0xff;
}

/** Writes a 64-bit value given as a number (negative values are written in two's complement). */
export function w64(b: Uint8Array, o: number, v: number): void {
  const hi = Math.floor(v / 0x100000000);
  const lo = v - hi * 0x100000000;
  w32(b, o, lo >>> 0);
  w32(b, o + 4, hi >>> 0);
}

export function alignTo(v: number, a: number): number {
  return a <= 1 ? v : Math.ceil(v / a) * a;
}

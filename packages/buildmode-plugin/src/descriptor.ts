/**
 * The layout every format's plugin writes: the module descriptor (`tslink_module` in
 * runtime/tslink_plugin.h) followed by the export table (`tslink_export[]`), in pointer-sized
 * words, and the packed export names. Which section holds them and how a pointer is relocated is
 * the format's business (elf.ts, macho.ts); where each word is and what it points at is not.
 */

/** Words of `tslink_module`: path, exports, nexports, then four start/end pairs. */
export const DESCRIPTOR_WORDS = 11;

/** NUL-terminated strings back to back, and the offset of each. */
export function packStrings(strings: readonly string[]): { bytes: Uint8Array; offsets: number[] } {
  const offsets: number[] = [];
  let size = 0;
  for (const s of strings) {
    offsets.push(size);
    size += s.length + 1;
  }
  const bytes = new Uint8Array(size);
  strings.forEach((s, i) => bytes.set(Buffer.from(s, 'latin1'), offsets[i]!));
  return { bytes, offsets };
}

/** The descriptor and table's bytes: all zero but `nexports`; every other word is a pointer. */
export function descriptorBytes(wordSize: number, nexports: number): Uint8Array {
  const bytes = new Uint8Array((DESCRIPTOR_WORDS + nexports * 2) * wordSize);
  const dv = new DataView(bytes.buffer);
  if (wordSize === 8) dv.setBigUint64(2 * 8, BigInt(nexports), true);
  else dv.setUint32(2 * 4, nexports, true);
  return bytes;
}

/** What the descriptor's pointers point at, in the caller's terms (symbols). */
export interface DescriptorTargets<T> {
  path: T;
  /** The export table: the descriptor's own address plus DESCRIPTOR_WORDS words. */
  table: T;
  /** text, etext, rodata, erodata, data, edata, bss, ebss. */
  bounds: readonly T[];
  exports: readonly { name: T; addr: T }[];
}

/** Each pointer word of the descriptor and table: its byte offset and its target. */
export function descriptorPointers<T>(
  wordSize: number,
  t: DescriptorTargets<T>,
): { at: number; target: T }[] {
  const out = [
    { at: 0, target: t.path },
    { at: wordSize, target: t.table },
  ];
  t.bounds.forEach((b, i) => out.push({ at: (3 + i) * wordSize, target: b }));
  t.exports.forEach((e, i) => {
    const at = (DESCRIPTOR_WORDS + i * 2) * wordSize;
    out.push({ at, target: e.name }, { at: at + wordSize, target: e.addr });
  });
  return out;
}

import { LinkError, cstring, u32 } from '@link/core';
import {
  LC_DYLD_EXPORTS_TRIE,
  LC_DYLD_INFO,
  LC_DYLD_INFO_ONLY,
  LC_ID_DYLIB,
  LC_LOAD_DYLIB,
  LC_LOAD_WEAK_DYLIB,
  LC_REEXPORT_DYLIB,
  LC_SYMTAB,
  MH_BUNDLE,
  MH_DYLIB,
  MH_EXECUTE,
  MH_MAGIC_64,
  N_EXT,
  N_SECT,
  N_STAB,
  N_TYPE,
} from './constants.js';
import type { DylibInterface } from './tbd.js';

const EXPORT_SYMBOL_FLAGS_KIND_MASK = 0x3;
const EXPORT_SYMBOL_FLAGS_KIND_THREAD_LOCAL = 0x1;
const EXPORT_SYMBOL_FLAGS_WEAK_DEFINITION = 0x4;
const EXPORT_SYMBOL_FLAGS_REEXPORT = 0x8;

/**
 * Reads what a binary `MH_DYLIB` offers: its `LC_ID_DYLIB` and its exports, from the export
 * trie (`LC_DYLD_INFO(_ONLY)` / `LC_DYLD_EXPORTS_TRIE`) or, without one, from the external
 * symbols of `LC_SYMTAB`. Everything is bounds-checked; the trie walk visits each node once,
 * so a malicious cycle cannot loop.
 */
export function readDylib(b: Uint8Array, file: string, filetype = MH_DYLIB): DylibInterface {
  const names: Record<number, string> = {
    [MH_DYLIB]: 'MH_DYLIB',
    [MH_EXECUTE]: 'MH_EXECUTE',
    [MH_BUNDLE]: 'MH_BUNDLE',
  };
  const bad = (what: string): never => {
    throw new LinkError(`${file}: malformed Mach-O dylib: ${what}`);
  };
  if (b.length < 32 || u32(b, 0) !== MH_MAGIC_64) bad('not a 64-bit Mach-O file');
  if (u32(b, 12) !== filetype) bad(`file type ${u32(b, 12)} is not ${names[filetype] ?? filetype}`);
  const ncmds = u32(b, 16);
  const end = 32 + u32(b, 20);
  if (end > b.length) bad('load commands extend past the end of the file');
  const out: DylibInterface = {
    installName: '',
    currentVersion: 0,
    compatVersion: 0,
    exports: [],
    weakExports: [],
    tlvExports: [],
    loads: [],
  };
  let trie: [number, number] | null = null;
  let symtab: [number, number, number, number] | null = null;
  let p = 32;
  for (let i = 0; i < ncmds; i++) {
    if (p + 8 > end) bad(`load command ${i} at offset 0x${p.toString(16)} is outside sizeofcmds`);
    const cmd = u32(b, p);
    const size = u32(b, p + 4);
    if (size < 8 || p + size > end)
      bad(`load command ${i} at offset 0x${p.toString(16)} has bad cmdsize ${size}`);
    if (cmd === LC_ID_DYLIB && size >= 24) {
      const nameOff = u32(b, p + 8);
      if (nameOff >= size) bad('LC_ID_DYLIB name offset is outside the command');
      out.installName = cstring(b, p + nameOff, p + size);
      out.currentVersion = u32(b, p + 16);
      out.compatVersion = u32(b, p + 20);
    } else if (
      (cmd === LC_LOAD_DYLIB || cmd === LC_LOAD_WEAK_DYLIB || cmd === LC_REEXPORT_DYLIB) &&
      size >= 24
    ) {
      const nameOff = u32(b, p + 8);
      if (nameOff >= size) bad(`load command ${i}: dylib name offset is outside the command`);
      out.loads!.push(cstring(b, p + nameOff, p + size));
    } else if ((cmd === LC_DYLD_INFO || cmd === LC_DYLD_INFO_ONLY) && size >= 48) {
      if (u32(b, p + 44) > 0) trie = [u32(b, p + 40), u32(b, p + 44)];
    } else if (cmd === LC_DYLD_EXPORTS_TRIE && size >= 16) {
      trie = [u32(b, p + 8), u32(b, p + 12)];
    } else if (cmd === LC_SYMTAB && size >= 24) {
      symtab = [u32(b, p + 8), u32(b, p + 12), u32(b, p + 16), u32(b, p + 20)];
    }
    p += size;
  }
  // An executable (a -bundle_loader) has exports but no install name.
  if (out.installName === '' && filetype === MH_DYLIB) bad('no LC_ID_DYLIB');
  if (trie) {
    const [off, size] = trie;
    if (off + size > b.length)
      bad(`export trie at offset 0x${off.toString(16)} extends past the end of the file`);
    walkTrie(b.subarray(off, off + size), file, out);
  } else if (symtab) {
    const [symoff, nsyms, stroff, strsize] = symtab;
    if (symoff + nsyms * 16 > b.length || stroff + strsize > b.length)
      bad('symbol table extends past the end of the file');
    for (let i = 0; i < nsyms; i++) {
      const q = symoff + i * 16;
      const type = b[q + 4]!;
      if (type & N_STAB || !(type & N_EXT) || (type & N_TYPE) !== N_SECT) continue;
      const strx = u32(b, q);
      if (strx >= strsize) bad(`symbol ${i} name is past the string table`);
      out.exports.push(cstring(b, stroff + strx, stroff + strsize));
    }
  }
  return out;
}

function walkTrie(t: Uint8Array, file: string, out: DylibInterface): void {
  const bad = (what: string): never => {
    throw new LinkError(`${file}: malformed export trie: ${what}`);
  };
  const uleb = (pos: { i: number }): number => {
    let r = 0;
    let mul = 1;
    for (;;) {
      if (pos.i >= t.length) bad(`ULEB128 runs past the end at 0x${pos.i.toString(16)}`);
      const x = t[pos.i++]!;
      r += (x & 0x7f) * mul;
      mul *= 128;
      if (!(x & 0x80)) return r;
      if (mul > 2 ** 63) bad('ULEB128 too long');
    }
  };
  const seen = new Set<number>();
  const stack: [number, string][] = [[0, '']];
  while (stack.length > 0) {
    const [off, prefix] = stack.pop()!;
    if (seen.has(off)) bad(`node 0x${off.toString(16)} is reached twice`);
    seen.add(off);
    const pos = { i: off };
    const termSize = uleb(pos);
    const children = pos.i + termSize;
    if (children >= t.length) bad(`node 0x${off.toString(16)} extends past the end`);
    if (termSize > 0) {
      const flags = uleb(pos);
      if (!(flags & EXPORT_SYMBOL_FLAGS_REEXPORT)) {
        if ((flags & EXPORT_SYMBOL_FLAGS_KIND_MASK) === EXPORT_SYMBOL_FLAGS_KIND_THREAD_LOCAL)
          out.tlvExports.push(prefix);
        else if (flags & EXPORT_SYMBOL_FLAGS_WEAK_DEFINITION) out.weakExports.push(prefix);
        else out.exports.push(prefix);
      } else out.exports.push(prefix); // re-exported: provided through this dylib's ordinal
    }
    pos.i = children;
    const n = t[pos.i++]!;
    for (let k = 0; k < n; k++) {
      const e = t.indexOf(0, pos.i);
      if (e < 0) bad('edge label is not terminated');
      const label = String.fromCharCode(...t.subarray(pos.i, e));
      pos.i = e + 1;
      const child = uleb(pos);
      if (child >= t.length) bad(`edge to 0x${child.toString(16)} points past the end`);
      stack.push([child, prefix + label]);
    }
  }
}

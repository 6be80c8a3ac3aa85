/**
 * `tslink plugin-info` for a Mach-O plugin (a bundle or dylib built with `--buildmode=plugin`):
 * the path from `__TEXT,__tslink_plugin`, the exports from the export trie, and what the host
 * must provide — the undefined symbols dyld looks up in the flat namespace. Names are printed
 * as C names (darwin's leading `_` removed), as the plugin's own export table holds them.
 */
import { LinkError, cstring, u32, u64 } from '@link/core';
// Subpaths, not '@link/macho': this runs in the main CLI bundle, the linker is bundled apart.
import {
  DYNAMIC_LOOKUP_ORDINAL,
  LC_SEGMENT_64,
  LC_SYMTAB,
  MH_BUNDLE,
  MH_DYLIB,
  N_EXT,
  N_STAB,
  N_TYPE,
  N_UNDF,
  N_WEAK_REF,
} from '@link/macho/constants';
import { readDylib } from '@link/macho/dylib';
import { MACHO_MARKERS, MACHO_PLUGIN_SECTION, REGISTER } from './macho-names.js';
import type { PluginInfo } from './info.js';

/** `mach_header_64`, `segment_command_64` and `section_64` sizes (`<mach-o/loader.h>`). */
const HEADER_64 = 32;
const SEGMENT_64 = 72;
const SECTION_64 = 80;
const NLIST_64 = 16;

/** dyld's lazy binding entry: every image with lazy stubs imports it, host or not. */
const STUB_BINDER = 'dyld_stub_binder';

const cName = (n: string): string => (n.startsWith('_') ? n.slice(1) : n);

export function machoPluginInfo(b: Uint8Array, file: string): PluginInfo {
  const bad = (what: string): never => {
    throw new LinkError(`${file}: malformed Mach-O plugin: ${what}`);
  };
  const filetype = u32(b, 12);
  if (filetype !== MH_BUNDLE && filetype !== MH_DYLIB)
    bad(`file type ${filetype} is neither MH_BUNDLE nor MH_DYLIB`);
  const iface = readDylib(b, file, filetype); // validates the load commands and the trie
  const [segName, sectName] = MACHO_PLUGIN_SECTION.split(',') as [string, string];
  let path: string | null = null;
  let symtab: [number, number, number, number] | null = null;
  const end = HEADER_64 + u32(b, 20);
  let p = HEADER_64;
  for (let i = 0; i < u32(b, 16); i++) {
    const cmd = u32(b, p);
    const size = u32(b, p + 4);
    if (cmd === LC_SEGMENT_64) {
      const nsects = u32(b, p + 64);
      if (SEGMENT_64 + nsects * SECTION_64 > size) bad(`segment ${i} sections overflow it`);
      for (let k = 0; k < nsects; k++) {
        const q = p + SEGMENT_64 + k * SECTION_64;
        if (cstring(b, q, q + 16) !== sectName || cstring(b, q + 16, q + 32) !== segName) continue;
        const off = u32(b, q + 48);
        const len = u64(b, q + 40);
        if (off + len > b.length) bad(`${MACHO_PLUGIN_SECTION} extends past the end of the file`);
        path = cstring(b, off, off + len);
      }
    } else if (cmd === LC_SYMTAB) {
      symtab = [u32(b, p + 8), u32(b, p + 12), u32(b, p + 16), u32(b, p + 20)];
    }
    p += size;
    if (p > end) bad('load commands extend past sizeofcmds');
  }
  if (path === null)
    throw new LinkError(`${file}: not a tslink plugin (no ${MACHO_PLUGIN_SECTION} section)`);
  const markers = new Set<string>(MACHO_MARKERS.flatMap((m) => [m.head, m.tail]));
  const exports = [...iface.exports, ...iface.weakExports, ...iface.tlvExports]
    .filter((n) => !markers.has(n))
    .map(cName)
    .sort();
  const hostSymbols: string[] = [];
  if (symtab !== null) {
    const [symoff, nsyms, stroff, strsize] = symtab;
    if (symoff + nsyms * NLIST_64 > b.length || stroff + strsize > b.length)
      bad('symbol table extends past the end of the file');
    for (let i = 0; i < nsyms; i++) {
      const q = symoff + i * NLIST_64;
      const type = b[q + 4]!;
      if (type & N_STAB || (type & N_TYPE) !== N_UNDF || !(type & N_EXT)) continue;
      const desc = b[q + 6]! | (b[q + 7]! << 8);
      // Flat lookup (seed 004's plugins) means "whichever image defines it": the host. A
      // weak reference may stay null; imports bound to a named dylib come from that dylib.
      if (desc >> 8 !== DYNAMIC_LOOKUP_ORDINAL || desc & N_WEAK_REF) continue;
      const name = cstring(b, stroff + u32(b, q), stroff + strsize);
      if (name === REGISTER || name === STUB_BINDER) continue;
      hostSymbols.push(cName(name));
    }
  }
  hostSymbols.sort();
  return { path, exports, hostSymbols };
}

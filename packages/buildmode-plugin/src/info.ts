import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { LinkError, u32 } from '@link/core';
import { MH_MAGIC_64 } from '@link/macho/constants';
import { readSharedLibrary } from '@link/elf';
import { NT_TSLINK_PLUGIN_PATH, PLUGIN_NOTE, REGISTER } from './elf.js';
import { machoPluginInfo } from './macho-info.js';

/** Directories a plugin's DT_NEEDED libraries are looked for in. */
const LIB_DIRS = ['/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib64', '/usr/lib64'];

export interface PluginInfo {
  path: string;
  exports: string[];
  /** Undefined symbols its libraries do not define: the host must. */
  hostSymbols: string[];
}

/** The plugin path from `.note.tslink.plugin`, found through the section headers. */
function notePath(b: Uint8Array, file: string): string {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length < 64 || dv.getUint32(0) !== 0x7f454c46 || b[4] !== 2)
    throw new LinkError(`${file}: not a 64-bit ELF file`);
  const shoff = Number(dv.getBigUint64(40, true));
  const shnum = dv.getUint16(60, true);
  const shstrndx = dv.getUint16(62, true);
  const sh = (i: number) => shoff + i * 64;
  if (shoff === 0 || shstrndx >= shnum || sh(shnum) > b.length)
    throw new LinkError(`${file}: no section headers`);
  const strOff = Number(dv.getBigUint64(sh(shstrndx) + 24, true));
  for (let i = 0; i < shnum; i++) {
    const nameOff = dv.getUint32(sh(i), true);
    let end = strOff + nameOff;
    while (end < b.length && b[end] !== 0) end++;
    const name = Buffer.from(
      b.buffer,
      b.byteOffset + strOff + nameOff,
      end - strOff - nameOff,
    ).toString('latin1');
    if (name !== PLUGIN_NOTE) continue;
    const off = Number(dv.getBigUint64(sh(i) + 24, true));
    const namesz = dv.getUint32(off, true);
    const descsz = dv.getUint32(off + 4, true);
    if (dv.getUint32(off + 8, true) !== NT_TSLINK_PLUGIN_PATH) break;
    const desc = off + 12 + ((namesz + 3) & ~3);
    return Buffer.from(b.buffer, b.byteOffset + desc, Math.max(0, descsz - 1)).toString('latin1');
  }
  throw new LinkError(`${file}: not a tslink plugin (no ${PLUGIN_NOTE} section)`);
}

/**
 * What `tslink plugin-info` prints: the plugin path, its exports, what it needs from a host.
 * ELF plugins (`.note.tslink.plugin`) and Mach-O ones (`macho-info.ts`) alike.
 */
export function pluginInfo(file: string): PluginInfo {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch {
    throw new LinkError(`cannot open ${file}`);
  }
  // A Mach-O plugin (bundle or dylib) carries the same information in Mach-O's places.
  if (bytes.length >= 4 && u32(bytes, 0) === MH_MAGIC_64) return machoPluginInfo(bytes, file);
  const path = notePath(bytes, file);
  const lib = readSharedLibrary(bytes, file);
  const exports = [...lib.defined.names].sort();
  const provided = new Set<string>();
  for (const soname of lib.needed) {
    for (const dir of LIB_DIRS) {
      const p = nodePath.join(dir, soname);
      if (!fs.existsSync(p)) continue;
      for (const n of readSharedLibrary(fs.readFileSync(p), p).defined.names) provided.add(n);
      break;
    }
  }
  const hostSymbols = lib.undefined.names
    .filter((n, i) => !lib.undefined.weak[i] && !provided.has(n) && n !== REGISTER)
    .sort();
  return { path, exports, hostSymbols };
}

export function formatPluginInfo(info: PluginInfo): string {
  const list = (xs: string[]) => xs.map((x) => `  ${x}\n`).join('');
  return (
    `plugin path: ${info.path}\n` +
    `exports (${info.exports.length}):\n${list(info.exports)}` +
    `needs from the host (${info.hostSymbols.length}):\n${list(info.hostSymbols)}`
  );
}

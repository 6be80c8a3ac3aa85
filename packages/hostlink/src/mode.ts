import type { LinkModeDecision } from './index.js';

function u16(b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8);
}
function u32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}

/**
 * Whether an input is compiler IR for link-time optimization: LLVM bitcode (`BC\xC0\xDE`), or an
 * ELF object with GCC's `.gnu.lto_*` sections. Only the section-name table is looked at.
 */
export function isLtoObject(b: Uint8Array): boolean {
  if (b.length >= 4 && b[0] === 0x42 && b[1] === 0x43 && b[2] === 0xc0 && b[3] === 0xde)
    return true;
  if (b.length < 64 || u32(b, 0) !== 0x464c457f) return false;
  const is64 = b[4] === 2;
  const shoff = is64 ? u32(b, 40) : u32(b, 32);
  const shentsize = u16(b, is64 ? 58 : 46);
  const shnum = u16(b, is64 ? 60 : 48);
  const shstrndx = u16(b, is64 ? 62 : 50);
  const hdr = shoff + shstrndx * shentsize;
  if (shoff === 0 || shstrndx >= shnum || hdr + shentsize > b.length) return false;
  const off = is64 ? u32(b, hdr + 24) : u32(b, hdr + 16);
  const size = is64 ? u32(b, hdr + 32) : u32(b, hdr + 20);
  if (off + size > b.length) return false;
  const names = Buffer.from(b.buffer, b.byteOffset + off, size).toString('latin1');
  return names.includes('.gnu.lto_') || names.includes('.llvm.lto');
}

/**
 * Go's auto mode: internal unless something requires the host linker, decided after the inputs
 * are known (the reason is printed under `-v`).
 */
export function decideLinkMode(
  requested: 'internal' | 'external' | 'auto',
  extldForced: boolean,
  objects: readonly { path: string; isLto: () => boolean }[],
): LinkModeDecision {
  if (requested === 'internal') return { mode: 'internal', reason: '--linkmode=internal' };
  if (requested === 'external') return { mode: 'external', reason: '--linkmode=external' };
  if (extldForced) return { mode: 'external', reason: '--extld was given' };
  for (const o of objects) {
    if (o.isLto())
      return {
        mode: 'external',
        reason: `${o.path} is an LTO object: the host linker's plug-in compiles it`,
      };
  }
  return { mode: 'internal', reason: 'no input needs the host linker' };
}

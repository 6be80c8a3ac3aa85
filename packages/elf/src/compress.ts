import { InputSection, builtin, type OutputSection } from '@link/core';
import * as C from './constants.js';
import { placeFileTail } from './layout.js';
import type { ElfLink } from './link.js';

/** ch_type of a zlib-compressed section (gABI "Section Compression"). */
const ELFCOMPRESS_ZLIB = 1;

/**
 * `--compress-debug-sections=zlib`: each `.debug_*` output section becomes one SHF_COMPRESSED
 * section, an Elf_Chdr followed by the zlib stream of its relocated contents, when that is
 * smaller. Runs once symbol addresses are final (the contents are relocated first); only the
 * non-allocated tail of the file moves, so no address changes.
 */
export function compressDebugSections(link: ElfLink): void {
  if (link.ctx.config.compressDebugSections !== 'zlib') return;
  const zlib = builtin<typeof import('node:zlib')>('node:zlib');
  let changed = false;
  for (const osec of link.outputSections) {
    if (osec.flags & C.SHF_ALLOC || !osec.name.startsWith('.debug_') || osec.size === 0) continue;
    if (osec.type === C.SHT_NOBITS || osec.members.length === 0) continue;
    const raw = relocatedContents(link, osec);
    // Level 1, as lld: debug info compresses well at any level, and the link waits for it.
    const packed = zlib.deflateSync(raw, { level: 1 });
    const chdr = chdrSize(link);
    if (chdr + packed.length >= raw.length) continue;
    const bytes = new Uint8Array(chdr + packed.length);
    writeChdr(link, bytes, raw.length, osec.align);
    bytes.set(packed, chdr);
    replaceContents(link, osec, bytes);
    changed = true;
  }
  if (changed) placeFileTail(link);
}

function chdrSize(link: ElfLink): number {
  return link.arch.is64 ? 24 : 12;
}

/** Elf64_Chdr { ch_type, ch_reserved, ch_size, ch_addralign } or Elf32_Chdr (no reserved word). */
function writeChdr(link: ElfLink, b: Uint8Array, size: number, align: number): void {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  dv.setUint32(0, ELFCOMPRESS_ZLIB, true);
  if (link.arch.is64) {
    dv.setBigUint64(8, BigInt(size), true);
    dv.setBigUint64(16, BigInt(align), true);
  } else {
    dv.setUint32(4, size, true);
    dv.setUint32(8, align, true);
  }
}

/** The output section's bytes as they would be written: members copied and relocated. */
function relocatedContents(link: ElfLink, osec: OutputSection): Uint8Array {
  const buf = new Uint8Array(osec.size);
  for (const m of osec.members as InputSection[]) {
    if (m.type === C.SHT_NOBITS) continue;
    m.copyTo(buf, m.outOffset);
    if (m.relocs !== null && m.relocs.count > 0)
      link.arch.applyRelocs(link, m, buf, m.outOffset, osec.addr + m.outOffset);
  }
  return buf;
}

/** The compressed bytes as the section's one member; its header says SHF_COMPRESSED. */
function replaceContents(link: ElfLink, osec: OutputSection, bytes: Uint8Array): void {
  const ctx = link.ctx;
  const align = link.arch.is64 ? 8 : 4;
  const sec = new InputSection(
    ctx.sections.length,
    link.internalFile,
    -1,
    osec.name,
    osec.type,
    osec.flags | C.SHF_COMPRESSED,
    align,
    bytes.length,
    -1,
  );
  sec.ownContents = bytes;
  sec.osec = osec;
  ctx.sections.push(sec);
  osec.members = [sec];
  osec.flags |= C.SHF_COMPRESSED;
  osec.align = align;
  osec.size = bytes.length;
  osec.entsize = 0;
}

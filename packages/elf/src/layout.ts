import { alignTo, type Chunk, type OutputSection } from '@link/core';
import * as C from './constants.js';
import type { ElfLink } from './link.js';
import { isRelro } from './output-sections.js';

export interface ElfSegment {
  type: number;
  flags: number;
  align: number;
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
}

function permissions(flags: number): number {
  let p = C.PF_R;
  if (flags & C.SHF_WRITE) p |= C.PF_W;
  if (flags & C.SHF_EXECINSTR) p |= C.PF_X;
  return p;
}

/**
 * Assigns file offsets and addresses. Each PT_LOAD starts on a fresh page in the file and in
 * memory (address = base + offset), which keeps `vaddr ≡ offset (mod page size)` trivially
 * and gives each segment its own permissions. .tbss takes no address space (the TLS template's
 * zero part lives only in the per-thread copies); .bss ends the writable segment.
 */
export function layout(link: ElfLink): void {
  const ctx = link.ctx;
  const arch = link.arch;
  const page = arch.pageSize;
  const base = ctx.config.imageBase ?? (ctx.target.isPIC ? 0 : arch.imageBase);
  const { ehdr, phdrs, shdrs } = link.synth;

  // Drop empty input-less sections; keep synthetic ones that exist for their symbols.
  // Output sections with inputs stay even when empty: symbols may point into them.
  const osecs = link.outputSections;
  for (const o of osecs) if (o.members.length > 0) o.computeSize();
  // Stable sort by rank keeps input order within a rank.
  const alloc = osecs.filter((o) => o.flags & C.SHF_ALLOC).sort((a, b) => a.rank - b.rank);
  const nonAlloc = osecs.filter((o) => !(o.flags & C.SHF_ALLOC));
  link.outputSections = [...alloc, ...nonAlloc];

  // Segments: a new PT_LOAD whenever permissions change along the sorted allocated sections,
  // and between the relro part of the writable data and the rest, so that the part the loader
  // makes read-only after relocation ends on a page boundary.
  const relroOn = link.isDynamic && !ctx.config.zFlags.has('norelro');
  const bindNow = ctx.config.zFlags.has('now');
  const groups: { perm: number; relro: boolean; secs: OutputSection[] }[] = [];
  for (const o of alloc) {
    const perm = permissions(o.flags);
    const relro = relroOn && isRelro(o.name, o.type, o.flags, bindNow);
    const last = groups[groups.length - 1];
    if (last && last.perm === perm && last.relro === relro) last.secs.push(o);
    else groups.push({ perm, relro, secs: [o] });
  }
  if (groups.length === 0 || groups[0]!.perm !== C.PF_R)
    groups.unshift({ perm: C.PF_R, relro: false, secs: [] });
  const dyn = link.dynSections;
  const interp = dyn?.interp ?? null;
  const relroGroup = groups.find((g) => g.relro && g.secs.length > 0) ?? null;

  const hasTls = alloc.some((o) => o.flags & C.SHF_TLS);
  const ehHdr = link.synth.ehFrameHdr;
  const notes = alloc.filter((o) => o.type === C.SHT_NOTE);
  const exidx = alloc.find((o) => o.type === C.SHT_ARM_EXIDX && o.size > 0) ?? null;
  const phnum =
    (interp ? 2 : 0) /* PHDR, INTERP */ +
    (dyn ? 1 : 0) /* DYNAMIC */ +
    (relroGroup ? 1 : 0) +
    groups.length +
    (hasTls ? 1 : 0) +
    (ehHdr ? 1 : 0) +
    (exidx ? 1 : 0) +
    1 /* GNU_STACK */ +
    (notes.length > 0 ? 1 : 0);
  const is64 = arch.is64;
  phdrs.size = phnum * (is64 ? C.ELF64_PHDR_SIZE : 32);

  const chunks: Chunk[] = [];
  const segs: ElfSegment[] = [];
  // PT_PHDR and PT_INTERP come before every PT_LOAD (gABI); filled in once addresses are known.
  const phdrSeg: ElfSegment | null = interp
    ? { type: C.PT_PHDR, flags: C.PF_R, align: 8, offset: 0, vaddr: 0, filesz: 0, memsz: 0 }
    : null;
  const interpSeg: ElfSegment | null = interp
    ? { type: C.PT_INTERP, flags: C.PF_R, align: 1, offset: 0, vaddr: 0, filesz: 0, memsz: 0 }
    : null;
  if (phdrSeg && interpSeg) segs.push(phdrSeg, interpSeg);
  let relroSeg: ElfSegment | null = null;
  let off = 0;
  let addr = base;
  for (let g = 0; g < groups.length; g++) {
    const grp = groups[g]!;
    if (g > 0) {
      off = alignTo(off, page);
      addr = alignTo(addr, page) + (off % page);
    }
    const seg: ElfSegment = {
      type: C.PT_LOAD,
      flags: grp.perm,
      align: page,
      offset: off,
      vaddr: addr,
      filesz: 0,
      memsz: 0,
    };
    const place = (c: Chunk) => {
      if (c.noBits) {
        c.addr = alignTo(addr, c.align);
        c.fileOffset = off;
        if (!(c.flags & C.SHF_TLS)) addr = c.addr + c.size;
      } else {
        // Keep offset and address congruent: both advance together.
        const pad = alignTo(addr, c.align) - addr;
        addr += pad;
        off += pad;
        c.addr = addr;
        c.fileOffset = off;
        addr += c.size;
        off += c.size;
        seg.filesz = off - seg.offset;
      }
      chunks.push(c);
    };
    if (g === 0) {
      place(ehdr);
      place(phdrs);
    }
    for (const o of grp.secs) place(o);
    seg.memsz = addr - seg.vaddr;
    segs.push(seg);
    if (grp === relroGroup) relroSeg = seg;
  }
  const phdrsChunk = phdrs;
  if (phdrSeg && interpSeg && interp) {
    Object.assign(phdrSeg, {
      offset: phdrsChunk.fileOffset,
      vaddr: phdrsChunk.addr,
      filesz: phdrsChunk.size,
      memsz: phdrsChunk.size,
    });
    Object.assign(interpSeg, {
      offset: interp.fileOffset,
      vaddr: interp.addr,
      filesz: interp.size,
      memsz: interp.size,
    });
  }
  if (dyn) {
    const d = dyn.dynamic;
    segs.push({
      type: C.PT_DYNAMIC,
      flags: C.PF_R | C.PF_W,
      align: is64 ? 8 : 4,
      offset: d.fileOffset,
      vaddr: d.addr,
      filesz: d.size,
      memsz: d.size,
    });
  }
  // Non-allocated sections, then trailing metadata: .symtab, .strtab, .shstrtab, then the
  // section header table (placeFileTail, which --compress-debug-sections runs again).
  const tail = link.tailSections;
  link.sectionHeaderOrder = [...alloc, ...nonAlloc, ...tail];
  buildShstrtab(link);
  chunks.push(...nonAlloc, ...tail, shdrs);
  shdrs.size =
    (link.sectionHeaderOrder.length + 1) * (is64 ? C.ELF64_SHDR_SIZE : C.ELF32_SHDR_SIZE);
  link.fileTailStart = off;
  placeFileTail(link);
  link.sectionHeaderOrder.forEach((o, i) => (o.shndx = i + 1));
  link.chunks = chunks;

  // Section header links: .symtab → .strtab.
  const { symtab, strtab, relaIplt, gotPlt } = link.synth;
  if (symtab && strtab) symtab.link = strtab.shndx;
  relaIplt.info = gotPlt.shndx > 0 ? gotPlt.shndx : 0;
  if (dyn) {
    const sym = dyn.dynsym.shndx;
    const str = dyn.dynstr.shndx;
    dyn.dynsym.link = str;
    dyn.dynamic.link = str;
    for (const o of [dyn.gnuHash, dyn.hash, dyn.versym, dyn.relaDyn, relaIplt]) if (o) o.link = sym;
    for (const o of [dyn.verneed, dyn.verdef]) if (o) o.link = str;
  }

  // Non-load segments.
  for (const o of notes) {
    const last = segs[segs.length - 1]!;
    if (last.type === C.PT_NOTE && last.offset + last.filesz === o.fileOffset) {
      last.filesz += o.size;
      last.memsz += o.size;
      continue;
    }
    segs.push({
      type: C.PT_NOTE,
      flags: C.PF_R,
      align: o.align,
      offset: o.fileOffset,
      vaddr: o.addr,
      filesz: o.size,
      memsz: o.size,
    });
  }
  if (hasTls) {
    const tls = alloc.filter((o) => o.flags & C.SHF_TLS);
    const first = tls[0]!;
    const last = tls[tls.length - 1]!;
    const tlsAlign = Math.max(...tls.map((o) => o.align));
    const fileEnd = tls
      .filter((o) => !o.noBits)
      .reduce((e, o) => Math.max(e, o.fileOffset + o.size), first.fileOffset);
    link.tlsStart = first.addr;
    link.tlsEnd = last.addr + last.size;
    link.tlsAlign = tlsAlign;
    const memsz = link.tlsEnd - link.tlsStart;
    const tcb = link.arch.tlsTcbSize;
    // Variant I (ARM): the thread pointer points at the TCB, which the block follows at its
    // alignment. Variant II (x86): the thread pointer sits at the aligned end of the block.
    link.tp =
      tcb !== undefined
        ? link.tlsStart - alignTo(tcb, tlsAlign)
        : link.tlsStart + alignTo(memsz, tlsAlign);
    segs.push({
      type: C.PT_TLS,
      flags: C.PF_R,
      align: tlsAlign,
      offset: first.fileOffset,
      vaddr: first.addr,
      filesz: fileEnd - first.fileOffset,
      memsz,
    });
  }
  if (ehHdr)
    segs.push({
      type: C.PT_GNU_EH_FRAME,
      flags: C.PF_R,
      align: 4,
      offset: ehHdr.fileOffset,
      vaddr: ehHdr.addr,
      filesz: ehHdr.size,
      memsz: ehHdr.size,
    });
  if (exidx)
    segs.push({
      type: C.PT_ARM_EXIDX,
      flags: C.PF_R,
      align: 4,
      offset: exidx.fileOffset,
      vaddr: exidx.addr,
      filesz: exidx.size,
      memsz: exidx.size,
    });
  const execStack =
    ctx.config.zFlags.has('execstack') ||
    (link.wantsExecStack && !ctx.config.zFlags.has('noexecstack'));
  segs.push({
    type: C.PT_GNU_STACK,
    flags: C.PF_R | C.PF_W | (execStack ? C.PF_X : 0),
    align: is64 ? 16 : 4,
    offset: 0,
    vaddr: 0,
    filesz: 0,
    memsz: 0,
  });
  if (relroSeg) {
    // Rounded up to the page, and its PT_LOAD with it (the padding is zero-filled memory): the
    // loader protects whole pages, so the last page must hold nothing written after relocation.
    const r = relroSeg as ElfSegment;
    r.memsz = alignTo(r.vaddr + r.memsz, page) - r.vaddr;
    segs.push({
      type: C.PT_GNU_RELRO,
      flags: C.PF_R,
      align: 1,
      offset: r.offset,
      vaddr: r.vaddr,
      filesz: r.filesz,
      memsz: alignTo(r.vaddr + r.memsz, page) - r.vaddr,
    });
  }
  if (segs.length !== phnum)
    throw new Error(`internal: reserved ${phnum} program headers, made ${segs.length}`);
  link.segments = segs;

  const gotPltOsec = link.outputSections.find((o) => o.name === '.got.plt' && o.size > 0);
  const gotOsec = link.outputSections.find((o) => o.name === '.got');
  link.gotBase = gotPltOsec?.addr ?? gotOsec?.addr ?? 0;
}

function buildShstrtab(link: ElfLink): void {
  const offs = new Map<string, number>();
  const parts: string[] = [''];
  let size = 1;
  for (const o of link.sectionHeaderOrder) {
    if (offs.has(o.name)) continue;
    offs.set(o.name, size);
    parts.push(o.name);
    size += o.name.length + 1;
  }
  const bytes = new Uint8Array(size);
  let p = 0;
  for (const s of parts) {
    for (let i = 0; i < s.length; i++) bytes[p + i] = s.charCodeAt(i);
    p += s.length + 1;
  }
  link.shstrOffsets = offs;
  link.shstrBytes = bytes;
  link.synth.shstrtab.size = size;
}

/**
 * File offsets from the end of the loaded image on: the non-allocated sections, the trailing
 * metadata (.symtab, .strtab, .shstrtab) and the section header table, in that order; sets the
 * file size. None of it has an address, so it can move after addresses are final.
 */
export function placeFileTail(link: ElfLink): void {
  let off = link.fileTailStart;
  const shdrs = link.synth.shdrs;
  for (const o of link.sectionHeaderOrder) {
    if (o.flags & C.SHF_ALLOC) continue;
    off = alignTo(off, o.align);
    o.addr = 0;
    o.fileOffset = off;
    off += o.size;
  }
  off = alignTo(off, shdrs.align);
  shdrs.fileOffset = off;
  off += shdrs.size;
  link.fileSize = off;
}

import { OutputSection, SymState, w16, w32, w64, type Chunk } from '@link/core';
import * as C from './constants.js';
import { ehFrameHdrSize } from './eh-frame.js';
import {
  gotPltReserved,
  pltSize,
  relaPltCount,
  writeGot,
  writeGotPlt,
  writePlt,
  writeRelaPlt,
} from './got-plt.js';
import { createDynamicSections } from './dynamic-sections.js';
import { writeShdr } from './headers.js';
import { sectionRank } from './output-sections.js';
import type { ElfLink } from './link.js';
import { SymtabBuilder } from './symtab.js';

/**
 * Chunks the linker makes itself. Section-like ones are `OutputSection`s with their own writer,
 * so they sort, get section headers and land in segments like any other output section.
 */
export interface Synthetics {
  ehdr: HeaderChunk;
  phdrs: HeaderChunk;
  shdrs: HeaderChunk;
  got: OutputSection;
  gotPlt: OutputSection;
  iplt: OutputSection;
  relaIplt: OutputSection;
  ehFrameHdr: OutputSection | null;
  buildId: OutputSection | null;
  /** .dynamic, in dynamically linked outputs. */
  dynamic: OutputSection | null;
  symtab: OutputSection | null;
  strtab: OutputSection | null;
  shstrtab: OutputSection;
  symtabBuilder: SymtabBuilder | null;
}

/** ELF header, program headers and section headers: chunks that are not sections. */
export class HeaderChunk implements Chunk {
  type = 0;
  flags = C.SHF_ALLOC;
  size = 0;
  addr = 0;
  fileOffset = 0;
  shndx = -1;
  readonly noBits = false;
  constructor(
    public name: string,
    public align: number,
    private readonly write: (buf: Uint8Array, self: HeaderChunk) => void,
  ) {}
  writeTo(buf: Uint8Array): void {
    this.write(buf, this);
  }
}

function synthSection(
  name: string,
  type: number,
  flags: number,
  align: number,
  write: (o: OutputSection, buf: Uint8Array) => void,
): OutputSection {
  const o = new OutputSection(name, type, flags, type === C.SHT_NOBITS);
  o.align = align;
  o.writer = write;
  return o;
}

export function createSyntheticChunks(link: ElfLink): void {
  const ctx = link.ctx;
  const arch = link.arch;
  const ptr = arch.is64 ? 8 : 4;
  const syms = ctx.syms;

  const got = synthSection('.got', C.SHT_PROGBITS, C.SHF_ALLOC | C.SHF_WRITE, ptr, (o, buf) =>
    writeGot(link, o, buf),
  );
  got.size = link.gotWordCount * ptr;

  // Slots PLT entries jump through (see got-plt.ts).
  const gotPlt = synthSection(
    '.got.plt',
    C.SHT_PROGBITS,
    C.SHF_ALLOC | C.SHF_WRITE,
    ptr,
    (o, buf) => writeGotPlt(link, o, buf),
  );
  gotPlt.size = (gotPltReserved(link) + link.pltSyms.length + link.ipltSyms.length) * ptr;
  if (link.isDynamic && link.pltSyms.length + link.ipltSyms.length === 0) gotPlt.size = 0;

  const iplt = synthSection('.plt', C.SHT_PROGBITS, C.SHF_ALLOC | C.SHF_EXECINSTR, 16, (o, buf) =>
    writePlt(link, o, buf),
  );
  iplt.size = pltSize(link);

  const relaName = arch.rela ? '.rela.plt' : '.rel.plt';
  const relEnt = arch.rela ? (arch.is64 ? 24 : 12) : 8;
  const relaIplt = synthSection(
    relaName,
    arch.rela ? C.SHT_RELA : C.SHT_REL,
    C.SHF_ALLOC | C.SHF_INFO_LINK,
    ptr,
    (o, buf) => writeRelaPlt(link, o, buf),
  );
  relaIplt.size = relaPltCount(link) * relEnt;
  relaIplt.entsize = relEnt;

  let ehFrameHdr: OutputSection | null = null;
  const ehFrame = link.outputSections.find((o) => o.name === '.eh_frame');
  if (ehFrame && (ctx.config.ehFrameHdr || ctx.config.outputKind === 'exe')) {
    ehFrameHdr = synthSection('.eh_frame_hdr', C.SHT_PROGBITS, C.SHF_ALLOC, 4, () => {
      // Written after .eh_frame is relocated (writer.ts).
    });
    ehFrameHdr.size = ehFrameHdrSize(link.ehFdeCount);
  }

  let buildId: OutputSection | null = null;
  const bid = ctx.config.buildId;
  if (bid !== null) {
    const descSize =
      typeof bid === 'object'
        ? bid.hex.length / 2
        : bid === 'md5' || bid === 'uuid'
          ? 16
          : bid === 'fast'
            ? 8
            : 20;
    buildId = synthSection('.note.gnu.build-id', C.SHT_NOTE, C.SHF_ALLOC, 4, (o, buf) => {
      w32(buf, o.fileOffset, 4);
      w32(buf, o.fileOffset + 4, descSize);
      w32(buf, o.fileOffset + 8, C.NT_GNU_BUILD_ID);
      buf.set([0x47, 0x4e, 0x55, 0], o.fileOffset + 12); // "GNU\0"
    });
    buildId.size = 16 + descSize;
  }

  let symtab: OutputSection | null = null;
  let strtab: OutputSection | null = null;
  let symtabBuilder: SymtabBuilder | null = null;
  if (!ctx.config.stripAll) {
    symtabBuilder = new SymtabBuilder(link);
    const b = symtabBuilder;
    // Both are streamed by writer.ts (streamSymtab, streamStrtab), never built whole.
    strtab = synthSection('.strtab', C.SHT_STRTAB, 0, 1, () => {});
    symtab = synthSection('.symtab', C.SHT_SYMTAB, 0, ptr, () => {});
    symtab.entsize = arch.is64 ? C.ELF64_SYM_SIZE : C.ELF32_SYM_SIZE;
    symtab.info = b.firstGlobal;
    symtab.size = b.count * symtab.entsize;
    strtab.size = b.strtabSize;
  }

  const shstrtab = synthSection('.shstrtab', C.SHT_STRTAB, 0, 1, (o, buf) =>
    buf.set(link.shstrBytes, o.fileOffset),
  );

  const sections: OutputSection[] = [got, gotPlt, iplt, relaIplt];
  if (ehFrameHdr) sections.push(ehFrameHdr);
  if (buildId) sections.push(buildId);
  let dynamic: OutputSection | null = null;
  if (link.isDynamic) {
    const d = createDynamicSections(link);
    link.dynSections = d;
    dynamic = d.dynamic;
    for (const s of [d.interp, d.dynsym, d.dynstr, d.gnuHash, d.hash, d.versym, d.verneed])
      if (s) sections.push(s);
    for (const s of [d.verdef, d.relaDyn, d.dynamic, d.dynbss]) if (s) sections.push(s);
  }
  for (const s of sections) {
    s.rank = sectionRank(s.name, s.type, s.flags);
    const keep =
      s.size > 0 ||
      (s === relaIplt && !link.isDynamic) ||
      s === dynamic ||
      s.type === C.SHT_DYNSYM ||
      s.type === C.SHT_STRTAB;
    if (keep) link.outputSections.push(s);
  }
  // .rela.plt is kept even when empty in static links: glibc's start-up iterates
  // __rela_iplt_start..__rela_iplt_end, which must point somewhere valid.
  const tail: OutputSection[] = [];
  if (symtab && strtab) tail.push(symtab, strtab);
  tail.push(shstrtab);

  const ehdr = new HeaderChunk('<ehdr>', 8, (buf, self) => writeEhdr(link, buf, self));
  ehdr.size = arch.is64 ? C.ELF64_EHDR_SIZE : C.ELF32_EHDR_SIZE;
  const phdrs = new HeaderChunk('<phdrs>', ptr, (buf, self) => writePhdrs(link, buf, self));
  const shdrs = new HeaderChunk('<shdrs>', ptr, (buf, self) => writeShdrs(link, buf, self));
  shdrs.flags = 0;
  link.synth = {
    ehdr,
    phdrs,
    shdrs,
    got,
    gotPlt,
    iplt,
    relaIplt,
    ehFrameHdr,
    buildId,
    dynamic,
    symtab,
    strtab,
    shstrtab,
    symtabBuilder,
  };
  link.tailSections = tail;
}

function writeEhdr(link: ElfLink, buf: Uint8Array, self: HeaderChunk): void {
  const arch = link.arch;
  const o = self.fileOffset;
  const is64 = arch.is64;
  w32(buf, o, C.ELFMAG);
  buf[o + 4] = is64 ? C.ELFCLASS64 : C.ELFCLASS32;
  buf[o + 5] = C.ELFDATA2LSB;
  buf[o + 6] = C.EV_CURRENT;
  // STT_GNU_IFUNC and STB_GNU_UNIQUE are GNU extensions: an output with them says so (GNU ld).
  buf[o + 7] = usesGnuExtensions(link) ? C.ELFOSABI_GNU : C.ELFOSABI_NONE;
  const type =
    link.ctx.config.outputKind === 'shared' || link.ctx.target.isPIE ? C.ET_DYN : C.ET_EXEC;
  w16(buf, o + 16, type);
  w16(buf, o + 18, arch.machine);
  w32(buf, o + 20, C.EV_CURRENT);
  const { phdrs, shdrs } = link.synth;
  const shnum = link.sectionHeaderOrder.length + 1;
  const shstrndx = link.synth.shstrtab.shndx;
  if (is64) {
    w64(buf, o + 24, link.entryAddr);
    w64(buf, o + 32, phdrs.fileOffset);
    w64(buf, o + 40, shdrs.fileOffset);
    w32(buf, o + 48, link.eflags);
    w16(buf, o + 52, C.ELF64_EHDR_SIZE);
    w16(buf, o + 54, C.ELF64_PHDR_SIZE);
    w16(buf, o + 56, link.segments.length);
    w16(buf, o + 58, C.ELF64_SHDR_SIZE);
    w16(buf, o + 60, shnum);
    w16(buf, o + 62, shstrndx);
  } else {
    w32(buf, o + 24, link.entryAddr);
    w32(buf, o + 28, phdrs.fileOffset);
    w32(buf, o + 32, shdrs.fileOffset);
    w32(buf, o + 36, link.eflags);
    w16(buf, o + 40, C.ELF32_EHDR_SIZE);
    w16(buf, o + 42, 32);
    w16(buf, o + 44, link.segments.length);
    w16(buf, o + 46, C.ELF32_SHDR_SIZE);
    w16(buf, o + 48, shnum);
    w16(buf, o + 50, shstrndx);
  }
}

function writePhdrs(link: ElfLink, buf: Uint8Array, self: HeaderChunk): void {
  let o = self.fileOffset;
  for (const s of link.segments) {
    if (link.arch.is64) {
      w32(buf, o, s.type);
      w32(buf, o + 4, s.flags);
      w64(buf, o + 8, s.offset);
      w64(buf, o + 16, s.vaddr);
      w64(buf, o + 24, s.vaddr);
      w64(buf, o + 32, s.filesz);
      w64(buf, o + 40, s.memsz);
      w64(buf, o + 48, s.align);
      o += C.ELF64_PHDR_SIZE;
    } else {
      w32(buf, o, s.type);
      w32(buf, o + 4, s.offset);
      w32(buf, o + 8, s.vaddr);
      w32(buf, o + 12, s.vaddr);
      w32(buf, o + 16, s.filesz);
      w32(buf, o + 20, s.memsz);
      w32(buf, o + 24, s.flags);
      w32(buf, o + 28, s.align);
      o += 32;
    }
  }
}

function writeShdrs(link: ElfLink, buf: Uint8Array, self: HeaderChunk): void {
  const is64 = link.arch.is64;
  const ent = is64 ? C.ELF64_SHDR_SIZE : C.ELF32_SHDR_SIZE;
  let o = self.fileOffset + ent; // entry 0 stays zero
  for (const s of link.sectionHeaderOrder) {
    const nameOff = link.shstrOffsets.get(s.name)!;
    const vals = [
      nameOff,
      s.type,
      s.flags,
      s.addr,
      s.fileOffset,
      s.size,
      s.link,
      s.info,
      s.align,
      s.entsize,
    ];
    writeShdr(buf, o, is64, vals);
    o += ent;
  }
}

function usesGnuExtensions(link: ElfLink): boolean {
  if (link.ipltSyms.length > 0) return true;
  const syms = link.ctx.syms;
  return (link.dynTables?.symbols ?? []).some(
    (id) => syms.type[id] === C.STT_GNU_IFUNC && syms.state[id] === SymState.Defined,
  );
}

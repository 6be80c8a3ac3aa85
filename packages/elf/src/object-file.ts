import {
  InputFile,
  InputSection,
  LinkError,
  NeedsHostLinker,
  RelocTable,
  SymFlag,
  addLazySymbol,
  cstring,
  defineCommon,
  defineSymbol,
  i32,
  i64,
  mergeVisibility,
  referenceSymbol,
  u16,
  u32,
  u64,
  type Context,
} from '@link/core';
import * as C from './constants.js';
import type { ElfLink } from './link.js';
import { newElfSym, readElfSym } from './elf-sym.js';

/**
 * A relocatable ELF object (ET_REL), read straight from its bytes: section headers into
 * `InputSection`s, the symbol table into the core symbol table, REL/RELA into columnar
 * `RelocTable`s. Every offset and index read from the file is checked before use, so a
 * truncated or lying file gives a `LinkError` naming it, never a crash or a huge allocation.
 */
export class ElfObjectFile extends InputFile {
  is64 = true;
  machine = 0;
  eflags = 0;
  /** Offsets of the symbol table and its string table in `bytes` (0 when absent). */
  symtabOff = 0;
  symCount = 0;
  strtabOff = 0;
  strtabSize = 0;
  /** Has an executable .note.GNU-stack (or lacks the note): wants an executable stack. */
  wantsExecStack = false;
  /** Contents of a `.go.cgo_directives` section, if the object has one. */
  cgoDirectives: Uint8Array | null = null;
  /** Contents of a `.deplibs` (SHT_LLVM_DEPENDENT_LIBRARIES) section, if any. */
  dependentLibraries: Uint8Array | null = null;
  /**
   * `-r` only: the COMDAT groups this file won (its copy is kept), so the relocatable output
   * keeps them as groups and the final link can still drop duplicates.
   */
  comdatGroups: ComdatGroup[] = [];
}

export interface ComdatGroup {
  /** The signature symbol's index in this file's symbol table. */
  signature: number;
  /** Section header indices of the members. */
  members: number[];
}

/** The largest section alignment accepted (real objects stay within a few pages). */
const MAX_ALIGN = 2 ** 30;

interface Shdr {
  name: number;
  type: number;
  flags: number;
  addr: number;
  offset: number;
  size: number;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
}

function fail(file: InputFile | string, msg: string): never {
  const name = typeof file === 'string' ? file : file.displayName;
  throw new LinkError(`${name}: ${msg}`);
}

export function isElf(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && u32(bytes, 0) === C.ELFMAG;
}

/** e_type of an ELF file (ET_REL, ET_DYN...), or -1 if too short to tell. */
export function elfType(bytes: Uint8Array): number {
  return bytes.length >= 18 ? u16(bytes, 16) : -1;
}

function readShdrs(file: ElfObjectFile, b: Uint8Array): Shdr[] {
  const is64 = file.is64;
  const ehsize = is64 ? C.ELF64_EHDR_SIZE : C.ELF32_EHDR_SIZE;
  if (b.length < ehsize) fail(file, `file is too short to be an ELF object (${b.length} bytes)`);
  const shoff = is64 ? u64(b, 40) : u32(b, 32);
  const shentsize = u16(b, is64 ? 58 : 46);
  let shnum = u16(b, is64 ? 60 : 48);
  const want = is64 ? C.ELF64_SHDR_SIZE : C.ELF32_SHDR_SIZE;
  if (shoff === 0) return [];
  if (shentsize !== want) fail(file, `invalid e_shentsize ${shentsize} (expected ${want})`);
  if (shoff + want > b.length)
    fail(file, `section header table at 0x${shoff.toString(16)} is past the end of the file`);
  file.ensure(shoff, shoff + want);
  if (shnum === 0) shnum = is64 ? u64(b, shoff + 32) : u32(b, shoff + 20);
  if (shoff + shnum * want > b.length) {
    fail(
      file,
      `section header table (${shnum} entries at 0x${shoff.toString(16)}) is past the end of the file`,
    );
  }
  file.ensure(shoff, shoff + shnum * want);
  const out: Shdr[] = new Array(shnum);
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * want;
    const sh: Shdr = is64
      ? {
          name: u32(b, o),
          type: u32(b, o + 4),
          flags: u64(b, o + 8),
          addr: u64(b, o + 16),
          offset: u64(b, o + 24),
          size: u64(b, o + 32),
          link: u32(b, o + 40),
          info: u32(b, o + 44),
          addralign: u64(b, o + 48),
          entsize: u64(b, o + 56),
        }
      : {
          name: u32(b, o),
          type: u32(b, o + 4),
          flags: u32(b, o + 8),
          addr: u32(b, o + 12),
          offset: u32(b, o + 16),
          size: u32(b, o + 20),
          link: u32(b, o + 24),
          info: u32(b, o + 28),
          addralign: u32(b, o + 32),
          entsize: u32(b, o + 36),
        };
    if (sh.type !== C.SHT_NOBITS && sh.type !== C.SHT_NULL && sh.offset + sh.size > b.length) {
      fail(
        file,
        `section header ${i} has contents [0x${sh.offset.toString(16)}, 0x${(sh.offset + sh.size).toString(16)}) past the end of the file (size 0x${b.length.toString(16)})`,
      );
    }
    out[i] = sh;
  }
  return out;
}

/** Names of sections the linker consumes itself rather than copying to the output. */
function isDroppedSection(name: string, sh: Shdr): boolean {
  switch (sh.type) {
    case C.SHT_NULL:
    case C.SHT_SYMTAB:
    case C.SHT_REL:
    case C.SHT_RELA:
    case C.SHT_GROUP:
    case C.SHT_SYMTAB_SHNDX:
    case C.SHT_LLVM_ADDRSIG:
      return true;
    case C.SHT_STRTAB:
      return (sh.flags & C.SHF_ALLOC) === 0;
  }
  if (sh.flags & C.SHF_EXCLUDE) return true;
  // .note.gnu.property needs a feature-AND across all inputs to be truthful; without it, no
  // claim is safer than a wrong one (an IBT claim for code that has no ENDBR).
  return name === '.note.GNU-stack' || name === '.note.gnu.property';
}

/**
 * Parses an object and enters its symbols into the symbol table. Called for command-line objects
 * and for archive members as they are extracted.
 */
export function readObject(link: ElfLink, file: ElfObjectFile): void {
  const ctx = link.ctx;
  const b = file.bytes;
  const need = (sh: Shdr) => {
    if (sh.type !== C.SHT_NOBITS) file.ensure(sh.offset, sh.offset + sh.size);
  };
  file.ensure(0, C.ELF64_EHDR_SIZE);
  if (b.length < 20 || u32(b, 0) !== C.ELFMAG) fail(file, 'not an ELF file');
  const cls = b[4];
  if (cls !== C.ELFCLASS64 && cls !== C.ELFCLASS32) fail(file, `invalid ELF class ${cls}`);
  if (b[5] !== C.ELFDATA2LSB) fail(file, 'big-endian ELF objects are not supported');
  file.is64 = cls === C.ELFCLASS64;
  const type = u16(b, 16);
  if (type !== C.ET_REL) fail(file, `not a relocatable object (e_type ${type})`);
  file.machine = u16(b, 18);
  if (file.machine !== link.arch.machine || file.is64 !== link.arch.is64) {
    fail(file, `is incompatible with ${link.arch.emulation}`);
  }
  file.eflags = u32(b, file.is64 ? 48 : 36);

  const shdrs = readShdrs(file, b);
  let shstrndx = u16(b, file.is64 ? 62 : 50);
  if (shstrndx === C.SHN_XINDEX && shdrs.length > 0) shstrndx = shdrs[0]!.link;
  if (shstrndx >= shdrs.length) fail(file, `invalid e_shstrndx ${shstrndx}`);
  const shstr = shdrs[shstrndx];
  if (shstr) need(shstr);
  const secName = (sh: Shdr): string => {
    if (!shstr) return '';
    if (sh.name >= shstr.size)
      fail(file, `section name offset ${sh.name} is past the end of .shstrtab`);
    return cstring(b, shstr.offset + sh.name, shstr.offset + shstr.size);
  };

  // Symbol table.
  let symtabIdx = -1;
  let shndxTable = -1;
  for (let i = 0; i < shdrs.length; i++) {
    if (shdrs[i]!.type === C.SHT_SYMTAB) symtabIdx = i;
    else if (shdrs[i]!.type === C.SHT_SYMTAB_SHNDX) shndxTable = i;
  }
  const symsz = file.is64 ? C.ELF64_SYM_SIZE : C.ELF32_SYM_SIZE;
  if (symtabIdx >= 0) {
    const st = shdrs[symtabIdx]!;
    need(st);
    if (st.link < shdrs.length) need(shdrs[st.link]!);
    if (shndxTable >= 0) need(shdrs[shndxTable]!);
    if (st.entsize !== symsz) fail(file, `invalid .symtab entry size ${st.entsize}`);
    if (st.link >= shdrs.length || shdrs[st.link]!.type !== C.SHT_STRTAB)
      fail(file, 'invalid .symtab sh_link');
    file.symtabOff = st.offset;
    file.symCount = Math.floor(st.size / symsz);
    file.strtabOff = shdrs[st.link]!.offset;
    file.strtabSize = shdrs[st.link]!.size;
    file.firstGlobal = Math.min(st.info, file.symCount);
  }
  const strtabOff = file.strtabOff;
  const strtabEnd = strtabOff + file.strtabSize;
  const symNameAt = (off: number): string => {
    if (off >= file.strtabSize) fail(file, `symbol name offset ${off} is past the end of .strtab`);
    return cstring(b, strtabOff + off, strtabEnd);
  };

  // COMDAT groups: the first file to bring a signature keeps its sections; later copies are dropped.
  const discarded = new Uint8Array(shdrs.length);
  for (let i = 0; i < shdrs.length; i++) {
    const sh = shdrs[i]!;
    if (sh.type !== C.SHT_GROUP) continue;
    need(sh);
    if (sh.size < 4 || sh.offset + sh.size > b.length) fail(file, `invalid section group ${i}`);
    const flags = u32(b, sh.offset);
    if ((flags & C.GRP_COMDAT) === 0) continue;
    if (sh.link !== symtabIdx || sh.info >= file.symCount)
      fail(file, `invalid signature symbol in section group ${i}`);
    const sig = symNameAt(u32(b, file.symtabOff + sh.info * symsz));
    const members: number[] = [];
    for (let o = sh.offset + 4; o + 4 <= sh.offset + sh.size; o += 4) {
      const m = u32(b, o);
      if (m >= shdrs.length)
        fail(file, `section group ${i} names section ${m}, which does not exist`);
      members.push(m);
    }
    if (link.comdats.get(sig) === undefined) {
      link.comdats.set(sig, file.id);
      if (ctx.config.outputKind === 'relocatable')
        file.comdatGroups.push({ signature: sh.info, members });
      continue;
    }
    for (const m of members) discarded[m] = 1;
  }

  // Sections.
  file.sections = new Array(shdrs.length).fill(null);
  for (let i = 1; i < shdrs.length; i++) {
    const sh = shdrs[i]!;
    const name = secName(sh);
    if (name === '.note.GNU-stack') {
      if (sh.flags & C.SHF_EXECINSTR) {
        file.wantsExecStack = true;
        link.wantsExecStack = true;
      }
      continue;
    }
    // Before anything else: GCC marks its LTO sections SHF_EXCLUDE.
    if (name.startsWith('.gnu.lto_') || name === '.llvm.lto') {
      throw new NeedsHostLinker(
        `${file.displayName} is an LTO object (section ${name}): its code is compiler IR, which ` +
          `the host linker's plug-in compiles (--linkmode=external, or compile without -flto)`,
      );
    }
    if (isDroppedSection(name, sh)) continue;
    // Linker directives an object carries (Go's cgo directives, LLVM's dependent libraries):
    // read by the extensions that understand them, never copied to the output.
    if (name === C.CGO_DIRECTIVES_SECTION || sh.type === C.SHT_LLVM_DEPENDENT_LIBRARIES) {
      need(sh);
      const bytes = b.slice(sh.offset, sh.offset + sh.size);
      if (sh.type === C.SHT_LLVM_DEPENDENT_LIBRARIES) file.dependentLibraries = bytes;
      else file.cgoDirectives = bytes;
      continue;
    }
    if (sh.flags & C.SHF_COMPRESSED)
      fail(file, `section ${name} is compressed; compressed input sections are not supported yet`);
    const align = sh.addralign === 0 ? 1 : sh.addralign;
    // Checked in floating point: the bitwise test alone passes 2^47 (it sees the low 32 bits).
    if (align > MAX_ALIGN) fail(file, `section ${name} has alignment ${align}, larger than 1 GiB`);
    if ((align & (align - 1)) !== 0) fail(file, `section ${name} has invalid alignment ${align}`);
    const sec = new InputSection(
      ctx.sections.length,
      file,
      i,
      name,
      sh.type,
      sh.flags,
      align,
      sh.size,
      sh.type === C.SHT_NOBITS ? -1 : sh.offset,
    );
    sec.entsize = sh.entsize;
    if (discarded[i]) sec.isAlive = false;
    ctx.sections.push(sec);
    file.sections[i] = sec;
  }

  // Symbols.
  readSymbols(link, file, b, shdrs, shndxTable);

  // Relocations, attached to the section they apply to.
  for (let i = 1; i < shdrs.length; i++) {
    const sh = shdrs[i]!;
    if (sh.type !== C.SHT_RELA && sh.type !== C.SHT_REL) continue;
    if (sh.info >= shdrs.length)
      fail(file, `relocation section ${i} applies to section ${sh.info}, which does not exist`);
    const target = file.sections[sh.info];
    if (!target) continue;
    if (sh.link !== symtabIdx)
      fail(file, `relocation section ${secName(sh)} does not use the symbol table`);
    // Decoded once into the relocation store: the raw entries need not stay in memory.
    const raw = file.readOnce(sh.offset, sh.offset + sh.size);
    target.relocs = readRelocs(link, file, raw, sh, secName(sh));
    if (sh.type === C.SHT_REL) readImplicitAddends(link, target);
  }
}

/** REL relocations keep their addends in the patched fields: copy them to the addend column. */
function readImplicitAddends(link: ElfLink, sec: InputSection): void {
  const read = link.arch.implicitAddend;
  const t = sec.relocs!;
  if (!read || sec.type === C.SHT_NOBITS) return;
  const b = sec.contents;
  const { offset, type, addend } = link.ctx.relocs;
  for (let k = t.start, end = t.start + t.count; k < end; k++) {
    // A field past the end is reported by the scan, which names the relocation.
    addend[k] = offset[k]! + 4 <= b.length ? read(type[k]!, b, offset[k]!) : 0;
  }
}

function readSymbols(
  link: ElfLink,
  file: ElfObjectFile,
  b: Uint8Array,
  shdrs: Shdr[],
  shndxTable: number,
): void {
  const ctx = link.ctx;
  const syms = ctx.syms;
  const n = file.symCount;
  const ids = new Int32Array(n);
  file.symIds = ids;
  if (n === 0) return;
  ids[0] = link.nullSym;
  const is64 = file.is64;
  const symsz = is64 ? C.ELF64_SYM_SIZE : C.ELF32_SYM_SIZE;
  const base = file.symtabOff;
  const xindex = shndxTable >= 0 ? shdrs[shndxTable]!.offset : -1;
  const es = newElfSym();
  for (let i = 1; i < n; i++) {
    readElfSym(b, base + i * symsz, is64, es);
    const { name: nameOff, info, other, value, size } = es;
    let shndx = es.shndx;
    if (shndx === C.SHN_XINDEX && xindex >= 0) shndx = u32(b, xindex + i * 4);
    const bind = info >> 4;
    const type = info & 0xf;
    const vis = other & 3;
    let secId = -1;
    let inDiscarded = false;
    if (shndx !== C.SHN_UNDEF && shndx < C.SHN_LORESERVE) {
      if (shndx >= shdrs.length) fail(file, `symbol ${i} has invalid section index ${shndx}`);
      const sec = file.sections[shndx];
      if (sec) {
        secId = sec.id;
        inDiscarded = !sec.isAlive;
      } else {
        inDiscarded = true;
      }
    }
    if (bind === C.STB_LOCAL) {
      const id = syms.addLocal(file.id, i, secId, value, type);
      if (shndx === C.SHN_ABS) syms.flags[id] = syms.flags[id]! | SymFlag.Absolute;
      ids[i] = id;
      continue;
    }
    if (bind !== C.STB_GLOBAL && bind !== C.STB_WEAK && bind !== C.STB_GNU_UNIQUE) {
      fail(file, `symbol ${i} has unknown binding ${bind}`);
    }
    if (nameOff >= file.strtabSize)
      fail(file, `symbol name offset ${nameOff} is past the end of .strtab`);
    const nameStart = file.strtabOff + nameOff;
    const strtabEnd = file.strtabOff + file.strtabSize;
    const nameEnd = b.indexOf(0, nameStart);
    const id = syms.internBytes(
      b,
      nameStart,
      nameEnd < 0 || nameEnd > strtabEnd ? strtabEnd : nameEnd,
    );
    ids[i] = id;
    mergeVisibility(ctx, id, vis);
    const weak = bind === C.STB_WEAK;
    if (shndx === C.SHN_UNDEF || inDiscarded) {
      referenceSymbol(ctx, id, weak);
    } else if (shndx === C.SHN_COMMON) {
      defineCommon(ctx, id, file.id, i, size, value || 1);
    } else {
      defineSymbol(ctx, id, file.id, i, secId, value, size, type, weak, shndx === C.SHN_ABS);
    }
  }
}

function readRelocs(
  link: ElfLink,
  file: ElfObjectFile,
  b: Uint8Array,
  sh: Shdr,
  name: string,
): RelocTable {
  const is64 = file.is64;
  const rela = sh.type === C.SHT_RELA;
  const entsize = is64 ? (rela ? 24 : 16) : rela ? 12 : 8;
  if (sh.entsize !== entsize) fail(file, `${name} has invalid entry size ${sh.entsize}`);
  const count = Math.floor(sh.size / entsize);
  const t = RelocTable.allocate(link.ctx.relocs, count);
  const { offset, type, addend, sym } = link.ctx.relocs;
  const ids = file.symIds;
  const nsyms = file.symCount;
  // `b` holds just this section's bytes.
  for (let i = 0, o = 0, k = t.start; i < count; i++, o += entsize, k++) {
    let symIdx: number;
    if (is64) {
      offset[k] = u32(b, o); // sections are < 4 GiB; the high half is checked below
      if (u32(b, o + 4) !== 0) fail(file, `${name}: relocation ${i} has offset past 4 GiB`);
      type[k] = u32(b, o + 8);
      symIdx = u32(b, o + 12);
      if (rela) addend[k] = i64(b, o + 16);
    } else {
      offset[k] = u32(b, o);
      const info = u32(b, o + 4);
      type[k] = info & 0xff;
      symIdx = info >>> 8;
      if (rela) addend[k] = i32(b, o + 8);
    }
    if (symIdx >= nsyms)
      fail(
        file,
        `${name}: relocation ${i} refers to symbol index ${symIdx}, but the symbol table has ${nsyms}`,
      );
    sym[k] = symIdx === 0 ? link.nullSym : ids[symIdx]!;
  }
  return t;
}

/** Name of a file's local symbol, read from its string table (only for output and messages). */
export function localSymbolName(file: ElfObjectFile, fileSymIdx: number): string {
  const b = file.bytes;
  const symsz = file.is64 ? C.ELF64_SYM_SIZE : C.ELF32_SYM_SIZE;
  const off = u32(b, file.symtabOff + fileSymIdx * symsz);
  if (off >= file.strtabSize) return '';
  return cstring(b, file.strtabOff + off, file.strtabOff + file.strtabSize);
}

/** Enters an archive's symbol index as lazy symbols. */
export function addArchiveSymbols(ctx: Context, archiveIdx: number): void {
  const ar = ctx.archives[archiveIdx]!;
  const names = ar.archive.symbolNames;
  const members = ar.archive.symbolMembers;
  // A name listed for two members (i386 glibc's __memcpy_chk, in memcpy-ia32.o and in
  // memcpy_chk-nonshared.o) belongs to the first, as with GNU ld and lld: once that member is
  // queued the symbol is undefined again until it loads, so a later entry must not queue the
  // other member too.
  const seen = new Set<number>();
  for (let i = 0; i < names.length; i++) {
    const id = ctx.syms.intern(names[i]!);
    if (seen.has(id)) continue;
    seen.add(id);
    addLazySymbol(ctx, id, archiveIdx, members[i]!);
  }
}

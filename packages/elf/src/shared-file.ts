import { cstring, malformed, u16, u32, u64 } from '@link/core';
import * as C from './constants.js';
import { newElfSym, readElfSym } from './elf-sym.js';

/**
 * What a link needs from an ELF shared library (ET_DYN) to resolve its undefined symbols against
 * it: the soname DT_NEEDED will record, the library's own DT_NEEDED list, its version
 * definitions, and its dynamic symbols. Read straight from the bytes, through the section
 * headers or, when a library has none (sstrip), through PT_DYNAMIC. Every offset, count and index
 * read from the file is checked before use, so a truncated or lying file gives a `LinkError`
 * naming it, never a crash, a hang or an allocation sized by an unchecked field.
 */
export interface SharedLibrary {
  path: string;
  /** DT_SONAME, or the file's basename when absent (what DT_NEEDED will record). */
  soname: string;
  /** DT_NEEDED entries, in order. */
  needed: string[];
  is64: boolean;
  machine: number;
  /**
   * Version definitions (SHT_GNU_verdef), indexed by version index (vd_ndx): names[i] is the
   * version name, '' where undefined; index 1 is the base (the soname), flags VER_FLG_BASE.
   */
  versionNames: string[];
  /** Defined dynamic symbols with global or weak binding (st_shndx != SHN_UNDEF), in .dynsym order. */
  defined: {
    count: number;
    names: string[];
    /** st_value */
    values: Float64Array;
    /** st_size */
    sizes: Float64Array;
    /** STT_* */
    types: Uint8Array;
    /** 1 if STB_WEAK */
    weak: Uint8Array;
    /** st_other & 3 (STV_*) */
    visibility: Uint8Array;
    /**
     * The .gnu.version entry: version index with the VERSYM_HIDDEN (0x8000) bit kept;
     * VER_NDX_GLOBAL (1) when the library has no .gnu.version.
     */
    versym: Uint16Array;
  };
  /** Names of undefined symbols the library references; weak[i] is 1 for STB_WEAK references. */
  undefined: { names: string[]; weak: Uint8Array };
}

/** ELF magic and e_type ET_DYN (little-endian; a big-endian file reads as another type). */
export function isSharedObject(bytes: Uint8Array): boolean {
  return bytes.length >= 18 && u32(bytes, 0) === C.ELFMAG && u16(bytes, 16) === C.ET_DYN;
}

/** A byte range [off, off + size) of the file. */
interface Region {
  off: number;
  size: number;
}

const EMPTY: Region = { off: 0, size: 0 };

/** Where the dynamic-linking tables sit in the file, however they were found. */
interface Tables {
  /** .dynsym; `symCount` entries (0 when the library has none). */
  symtab: Region;
  symCount: number;
  /** String table of .dynsym. */
  symStr: Region;
  /** .gnu.version, `symCount` u16 entries; -1 when absent. */
  versymOff: number;
  /** .gnu.version_d with its entry count and string table; null when absent. */
  verdef: Region | null;
  verdefNum: number;
  verdefStr: Region;
  /** The dynamic section and the string table its DT_SONAME / DT_NEEDED point into. */
  dynamic: Region | null;
  dynStr: Region | null;
}

function emptyTables(dynamic: Tables['dynamic']): Tables {
  return {
    symtab: EMPTY,
    symCount: 0,
    symStr: EMPTY,
    versymOff: -1,
    verdef: null,
    verdefNum: 0,
    verdefStr: EMPTY,
    dynamic,
    dynStr: null,
  };
}

interface Shdr {
  type: number;
  offset: number;
  size: number;
  link: number;
  info: number;
  entsize: number;
}

interface Segment {
  vaddr: number;
  offset: number;
  filesz: number;
}

const hex = (v: number): string => `0x${v.toString(16)}`;

/**
 * Reads the dynamic symbols, version definitions, soname and DT_NEEDED list of a shared library.
 * Throws `LinkError` (naming `path`) if the file is not a little-endian ELF ET_DYN or is malformed.
 */
export function readSharedLibrary(bytes: Uint8Array, path: string): SharedLibrary {
  const b = bytes;
  if (b.length < 20 || u32(b, 0) !== C.ELFMAG) malformed(path, 'not an ELF file');
  const cls = b[4]!;
  if (cls !== C.ELFCLASS64 && cls !== C.ELFCLASS32) malformed(path, `invalid ELF class ${cls}`);
  if (b[5] !== C.ELFDATA2LSB) malformed(path, 'big-endian ELF shared objects are not supported');
  const is64 = cls === C.ELFCLASS64;
  const ehsize = is64 ? C.ELF64_EHDR_SIZE : C.ELF32_EHDR_SIZE;
  if (b.length < ehsize) {
    malformed(path, `file is too short to be an ELF shared object (${b.length} bytes)`);
  }
  const type = u16(b, 16);
  if (type !== C.ET_DYN) malformed(path, `not a shared object (e_type ${type})`);
  const machine = u16(b, 18);

  const shdrs = readShdrs(path, b, is64);
  const t =
    shdrs.length > 0 ? tablesFromSections(path, shdrs, is64) : tablesFromSegments(path, b, is64);

  // Soname and DT_NEEDED.
  let soname: string | undefined;
  const needed: string[] = [];
  if (t.dynamic) {
    for (const [tag, val] of dynamicEntries(b, is64, t.dynamic)) {
      if (tag !== C.DT_NEEDED && tag !== C.DT_SONAME) continue;
      const what = tag === C.DT_NEEDED ? 'DT_NEEDED' : 'DT_SONAME';
      if (!t.dynStr) malformed(path, `${what} entry but no dynamic string table (DT_STRTAB)`);
      const s = stringAt(path, b, t.dynStr, val, what);
      if (tag === C.DT_NEEDED) needed.push(s);
      else soname ??= s;
    }
  }
  soname ??= path.slice(path.lastIndexOf('/') + 1);

  const versions = t.verdef
    ? readVersions(path, b, t.verdef, t.verdefNum, t.verdefStr)
    : { names: [], defined: new Uint8Array(0) };
  const versionNames = versions.names;
  const { defined, undefined } = readDynamicSymbols(path, b, is64, t, versions.defined);
  return { path, soname, needed, is64, machine, versionNames, defined, undefined };
}

function readShdrs(path: string, b: Uint8Array, is64: boolean): Shdr[] {
  const shoff = is64 ? u64(b, 40) : u32(b, 32);
  const shentsize = u16(b, is64 ? 58 : 46);
  let shnum = u16(b, is64 ? 60 : 48);
  const want = is64 ? C.ELF64_SHDR_SIZE : C.ELF32_SHDR_SIZE;
  if (shoff === 0) return [];
  if (shentsize !== want) malformed(path, `invalid e_shentsize ${shentsize} (expected ${want})`);
  if (shoff + want > b.length) {
    malformed(path, `section header table at ${hex(shoff)} is past the end of the file`);
  }
  if (shnum === 0) shnum = is64 ? u64(b, shoff + 32) : u32(b, shoff + 20);
  if (shoff + shnum * want > b.length) {
    malformed(
      path,
      `section header table (${shnum} entries at ${hex(shoff)}) is past the end of the file`,
    );
  }
  const out: Shdr[] = new Array(shnum);
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * want;
    const sh: Shdr = is64
      ? {
          type: u32(b, o + 4),
          offset: u64(b, o + 24),
          size: u64(b, o + 32),
          link: u32(b, o + 40),
          info: u32(b, o + 44),
          entsize: u64(b, o + 56),
        }
      : {
          type: u32(b, o + 4),
          offset: u32(b, o + 16),
          size: u32(b, o + 20),
          link: u32(b, o + 24),
          info: u32(b, o + 28),
          entsize: u32(b, o + 36),
        };
    if (sh.type !== C.SHT_NOBITS && sh.type !== C.SHT_NULL && sh.offset + sh.size > b.length) {
      malformed(
        path,
        `section header ${i} has contents [${hex(sh.offset)}, ${hex(sh.offset + sh.size)}) past the end of the file (size ${hex(b.length)})`,
      );
    }
    out[i] = sh;
  }
  return out;
}

const SECTION_NAMES: Record<number, string> = {
  [C.SHT_DYNSYM]: '.dynsym',
  [C.SHT_GNU_versym]: '.gnu.version',
  [C.SHT_GNU_verdef]: '.gnu.version_d',
  [C.SHT_DYNAMIC]: '.dynamic',
};

function tablesFromSections(path: string, shdrs: Shdr[], is64: boolean): Tables {
  const found: Record<number, number> = {};
  for (let i = 1; i < shdrs.length; i++) {
    const type = shdrs[i]!.type;
    const name = SECTION_NAMES[type];
    if (name === undefined) continue;
    if (found[type] !== undefined) {
      malformed(path, `more than one ${name} section (sections ${found[type]} and ${i})`);
    }
    found[type] = i;
  }
  const describe = (i: number): string => `${SECTION_NAMES[shdrs[i]!.type]} (section ${i})`;
  const stringTable = (i: number): Region => {
    const link = shdrs[i]!.link;
    const target = shdrs[link];
    if (link === 0 || !target || target.type !== C.SHT_STRTAB) {
      malformed(path, `${describe(i)} has invalid sh_link ${link}: not a string table`);
    }
    return { off: target.offset, size: target.size };
  };
  const region = (i: number): Region => ({ off: shdrs[i]!.offset, size: shdrs[i]!.size });

  const t = emptyTables(null);
  const dynsym = found[C.SHT_DYNSYM];
  if (dynsym !== undefined) {
    const sh = shdrs[dynsym]!;
    const symsz = is64 ? C.ELF64_SYM_SIZE : C.ELF32_SYM_SIZE;
    if (sh.entsize !== symsz) {
      malformed(
        path,
        `${describe(dynsym)} has invalid entry size ${sh.entsize} (expected ${symsz})`,
      );
    }
    if (sh.size % symsz !== 0) {
      malformed(path, `${describe(dynsym)} size ${sh.size} is not a multiple of ${symsz}`);
    }
    t.symtab = region(dynsym);
    t.symCount = sh.size / symsz;
    t.symStr = stringTable(dynsym);
  }
  const versym = found[C.SHT_GNU_versym];
  if (versym !== undefined && t.symCount > 0) {
    const sh = shdrs[versym]!;
    if (sh.link !== dynsym) {
      malformed(
        path,
        `${describe(versym)} has invalid sh_link ${sh.link}: not the .dynsym section`,
      );
    }
    if (sh.size < t.symCount * 2) {
      malformed(
        path,
        `${describe(versym)} has ${Math.floor(sh.size / 2)} entries, but .dynsym has ${t.symCount} symbols`,
      );
    }
    t.versymOff = sh.offset;
  }
  const verdef = found[C.SHT_GNU_verdef];
  if (verdef !== undefined) {
    t.verdef = region(verdef);
    t.verdefNum = shdrs[verdef]!.info;
    t.verdefStr = stringTable(verdef);
  }
  const dynamic = found[C.SHT_DYNAMIC];
  if (dynamic !== undefined) {
    t.dynamic = region(dynamic);
    t.dynStr = stringTable(dynamic);
  }
  return t;
}

/** Dynamic entries as [d_tag, d_val] pairs, up to DT_NULL or the end of the region. */
function dynamicEntries(b: Uint8Array, is64: boolean, dyn: Region): Array<[number, number]> {
  const entsize = is64 ? C.ELF64_DYN_SIZE : C.ELF32_DYN_SIZE;
  const out: Array<[number, number]> = [];
  for (let o = dyn.off; o + entsize <= dyn.off + dyn.size; o += entsize) {
    // d_tag is signed; a negative 64-bit tag reads as a huge number and matches nothing.
    const tag = is64 ? u64(b, o) : u32(b, o);
    if (tag === C.DT_NULL) break;
    out.push([tag, is64 ? u64(b, o + 8) : u32(b, o + 4)]);
  }
  return out;
}

/**
 * For a library without section headers: PT_DYNAMIC gives the dynamic section, whose DT_SYMTAB,
 * DT_STRTAB/DT_STRSZ, DT_VERSYM and DT_VERDEF/DT_VERDEFNUM addresses map to file offsets through
 * the PT_LOAD segments; the symbol count comes from DT_HASH (nchain) or DT_GNU_HASH.
 */
function tablesFromSegments(path: string, b: Uint8Array, is64: boolean): Tables {
  const phoff = is64 ? u64(b, 32) : u32(b, 28);
  const phentsize = u16(b, is64 ? 54 : 42);
  const phnum = u16(b, is64 ? 56 : 44);
  const want = is64 ? C.ELF64_PHDR_SIZE : C.ELF32_PHDR_SIZE;
  if (phoff === 0 || phnum === 0) {
    malformed(path, 'has neither section headers nor program headers');
  }
  if (phentsize !== want) malformed(path, `invalid e_phentsize ${phentsize} (expected ${want})`);
  if (phnum === C.PN_XNUM) {
    malformed(path, 'e_phnum is PN_XNUM, but there is no section header to hold the count');
  }
  if (phoff + phnum * want > b.length) {
    malformed(
      path,
      `program header table (${phnum} entries at ${hex(phoff)}) is past the end of the file`,
    );
  }
  const loads: Segment[] = [];
  let dynamic: Region | null = null;
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * want;
    const type = u32(b, o);
    if (type !== C.PT_LOAD && type !== C.PT_DYNAMIC) continue;
    const offset = is64 ? u64(b, o + 8) : u32(b, o + 4);
    const vaddr = is64 ? u64(b, o + 16) : u32(b, o + 8);
    const filesz = is64 ? u64(b, o + 32) : u32(b, o + 16);
    const what = type === C.PT_LOAD ? 'PT_LOAD' : 'PT_DYNAMIC';
    if (offset + filesz > b.length) {
      malformed(
        path,
        `program header ${i} (${what}) has contents [${hex(offset)}, ${hex(offset + filesz)}) past the end of the file (size ${hex(b.length)})`,
      );
    }
    if (vaddr + filesz > Number.MAX_SAFE_INTEGER) {
      malformed(path, `program header ${i} (${what}) has out-of-range address ${hex(vaddr)}`);
    }
    if (type === C.PT_LOAD) loads.push({ vaddr, offset, filesz });
    else dynamic ??= { off: offset, size: filesz };
  }
  if (!dynamic) malformed(path, 'has no section headers and no PT_DYNAMIC program header');

  const tags = new Map<number, number>();
  for (const [tag, val] of dynamicEntries(b, is64, dynamic)) {
    if (!tags.has(tag)) tags.set(tag, val);
  }
  const tagName: Record<number, string> = {
    [C.DT_SYMTAB]: 'DT_SYMTAB',
    [C.DT_STRTAB]: 'DT_STRTAB',
    [C.DT_VERSYM]: 'DT_VERSYM',
    [C.DT_VERDEF]: 'DT_VERDEF',
    [C.DT_HASH]: 'DT_HASH',
    [C.DT_GNU_HASH]: 'DT_GNU_HASH',
  };
  /** File offset and end (of the containing segment's file contents) of address `addr`. */
  const locate = (tag: number): { off: number; end: number } => {
    const addr = tags.get(tag)!;
    for (const s of loads) {
      if (addr >= s.vaddr && addr < s.vaddr + s.filesz) {
        return { off: s.offset + (addr - s.vaddr), end: s.offset + s.filesz };
      }
    }
    return malformed(
      path,
      `${tagName[tag]} address ${hex(addr)} is not inside any PT_LOAD segment's file contents`,
    );
  };
  /** As `locate`, for a table of known size that must lie wholly inside one segment. */
  const table = (tag: number, size: number, what: string): Region => {
    const { off, end } = locate(tag);
    if (off + size > end) {
      malformed(
        path,
        `${what} (${tagName[tag]} ${hex(tags.get(tag)!)}, ${size} bytes) runs past the end of its PT_LOAD segment`,
      );
    }
    return { off, size };
  };

  const t = emptyTables(dynamic);
  if (tags.has(C.DT_STRTAB)) {
    const strsz = tags.get(C.DT_STRSZ);
    if (strsz === undefined) malformed(path, 'DT_STRTAB without DT_STRSZ');
    t.dynStr = table(C.DT_STRTAB, strsz, 'dynamic string table');
    t.symStr = t.dynStr;
    t.verdefStr = t.dynStr;
  }
  if (tags.has(C.DT_SYMTAB)) {
    const symsz = is64 ? C.ELF64_SYM_SIZE : C.ELF32_SYM_SIZE;
    const syment = tags.get(C.DT_SYMENT);
    if (syment !== undefined && syment !== symsz) {
      malformed(path, `invalid DT_SYMENT ${syment} (expected ${symsz})`);
    }
    if (!t.dynStr) malformed(path, 'DT_SYMTAB without DT_STRTAB');
    let count: number;
    if (tags.has(C.DT_HASH)) {
      const { off, end } = locate(C.DT_HASH);
      if (off + 8 > end) malformed(path, 'DT_HASH table is truncated');
      count = u32(b, off + 4); // nchain
    } else if (tags.has(C.DT_GNU_HASH)) {
      const { off, end } = locate(C.DT_GNU_HASH);
      count = gnuHashSymbolCount(path, b, is64, off, end);
    } else {
      malformed(path, 'cannot count the dynamic symbols: no DT_HASH or DT_GNU_HASH');
    }
    t.symtab = table(C.DT_SYMTAB, count * symsz, `dynamic symbol table of ${count} symbols`);
    t.symCount = count;
    if (tags.has(C.DT_VERSYM) && count > 0) {
      t.versymOff = table(C.DT_VERSYM, count * 2, `version symbol table of ${count} entries`).off;
    }
  }
  if (tags.has(C.DT_VERDEF)) {
    const num = tags.get(C.DT_VERDEFNUM);
    if (num === undefined) malformed(path, 'DT_VERDEF without DT_VERDEFNUM');
    if (!t.dynStr) malformed(path, 'DT_VERDEF without DT_STRTAB');
    const { off, end } = locate(C.DT_VERDEF);
    t.verdef = { off, size: end - off };
    t.verdefNum = num;
  }
  return t;
}

/**
 * Number of dynamic symbols per a DT_GNU_HASH table at [off, end): one past the last symbol of
 * the chain of the highest bucket (the table covers every symbol from symoffset on), or
 * symoffset when every bucket is empty.
 */
function gnuHashSymbolCount(
  path: string,
  b: Uint8Array,
  is64: boolean,
  off: number,
  end: number,
): number {
  if (off + 16 > end) malformed(path, 'DT_GNU_HASH table is truncated');
  const nbuckets = u32(b, off);
  const symoffset = u32(b, off + 4);
  const bloomSize = u32(b, off + 8);
  const buckets = off + 16 + bloomSize * (is64 ? 8 : 4);
  const chains = buckets + nbuckets * 4;
  if (chains > end) {
    malformed(
      path,
      `DT_GNU_HASH table (${nbuckets} buckets, ${bloomSize} bloom words) runs past the end of its PT_LOAD segment`,
    );
  }
  let last = 0;
  for (let i = 0; i < nbuckets; i++) last = Math.max(last, u32(b, buckets + i * 4));
  if (last === 0) return symoffset;
  if (last < symoffset) {
    malformed(path, `DT_GNU_HASH bucket names symbol ${last}, below symoffset ${symoffset}`);
  }
  for (let i = last; ; i++) {
    const o = chains + (i - symoffset) * 4;
    if (o + 4 > end) malformed(path, 'DT_GNU_HASH chain runs past the end of its PT_LOAD segment');
    if (u32(b, o) & 1) return i + 1;
  }
}

function stringAt(path: string, b: Uint8Array, table: Region, off: number, what: string): string {
  if (off >= table.size) {
    malformed(
      path,
      `${what} name offset ${off} is past the end of its string table (size ${table.size})`,
    );
  }
  return cstring(b, table.off + off, table.off + table.size);
}

/**
 * Walks the version definitions: `count` Verdef entries chained by vd_next, each naming its
 * version in the first Verdaux of its vda_next chain. Every entry must lie inside the table; the
 * walk is bounded by the declared count, which the table's size bounds in turn, and by a budget
 * of auxiliary entries, so a lying or looping chain ends in an error.
 */
function readVersions(
  path: string,
  b: Uint8Array,
  verdef: Region,
  count: number,
  str: Region,
): { names: string[]; defined: Uint8Array } {
  const end = verdef.off + verdef.size;
  const most = Math.floor(verdef.size / C.ELF_VERDEF_SIZE);
  if (count > most) {
    malformed(
      path,
      `.gnu.version_d declares ${count} version definitions, but its ${verdef.size} bytes hold at most ${most}`,
    );
  }
  const names: string[] = [];
  const defined = new Uint8Array(C.VERSYM_HIDDEN);
  let auxBudget = Math.floor(verdef.size / C.ELF_VERDAUX_SIZE);
  let off = verdef.off;
  for (let i = 0; i < count; i++) {
    const where = `version definition ${i} (at ${hex(off - verdef.off)} in .gnu.version_d)`;
    if (off + C.ELF_VERDEF_SIZE > end) malformed(path, `${where} is past the end of the table`);
    const version = u16(b, off);
    const ndx = u16(b, off + 4);
    const cnt = u16(b, off + 6);
    const aux = u32(b, off + 12);
    const next = u32(b, off + 16);
    if (version !== C.VER_DEF_CURRENT)
      malformed(path, `${where} has unknown vd_version ${version}`);
    if (ndx === C.VER_NDX_LOCAL || ndx >= C.VERSYM_HIDDEN) {
      malformed(path, `${where} has invalid version index ${ndx}`);
    }
    if (defined[ndx]) malformed(path, `${where} defines version index ${ndx} a second time`);
    defined[ndx] = 1;
    if (cnt === 0) malformed(path, `${where} has no name (vd_cnt 0)`);
    let a = off + aux;
    for (let j = 0; j < cnt; j++) {
      if (--auxBudget < 0) {
        malformed(path, `${where}: auxiliary entries overlap or loop (more than the table holds)`);
      }
      if (a + C.ELF_VERDAUX_SIZE > end) {
        malformed(path, `${where}: auxiliary entry ${j} is past the end of the table`);
      }
      const name = stringAt(path, b, str, u32(b, a), where);
      if (j === 0) names[ndx] = name;
      const anext = u32(b, a + 4);
      if (j === cnt - 1) break;
      if (anext === 0) {
        malformed(path, `${where}: auxiliary chain ends after ${j + 1} of ${cnt} entries`);
      }
      a += anext;
    }
    if (i === count - 1) break;
    if (next === 0) {
      malformed(path, `version definition chain (vd_next) ends after ${i + 1} of ${count} entries`);
    }
    off += next;
  }
  for (let i = 0; i < names.length; i++) names[i] ??= '';
  return { names, defined: defined.slice(0, names.length) };
}

function readDynamicSymbols(
  path: string,
  b: Uint8Array,
  is64: boolean,
  t: Tables,
  hasVersion: Uint8Array,
): Pick<SharedLibrary, 'defined' | 'undefined'> {
  // symCount * symsz fits in the file (checked where the table was found), so these are bounded.
  const n = t.symCount;
  const names: string[] = [];
  const values = new Float64Array(n);
  const sizes = new Float64Array(n);
  const types = new Uint8Array(n);
  const weak = new Uint8Array(n);
  const visibility = new Uint8Array(n);
  const versym = new Uint16Array(n);
  const undefNames: string[] = [];
  const undefWeak = new Uint8Array(n);
  const symsz = is64 ? C.ELF64_SYM_SIZE : C.ELF32_SYM_SIZE;
  let k = 0;
  const es = newElfSym();
  for (let i = 1; i < n; i++) {
    readElfSym(b, t.symtab.off + i * symsz, is64, es);
    const { name: nameOff, info, other, shndx, value, size } = es;
    const bind = info >> 4;
    if (bind === C.STB_LOCAL) continue;
    if (bind !== C.STB_GLOBAL && bind !== C.STB_WEAK && bind !== C.STB_GNU_UNIQUE) {
      malformed(path, `dynamic symbol ${i} has unknown binding ${bind}`);
    }
    const isWeak = bind === C.STB_WEAK ? 1 : 0;
    if (shndx === C.SHN_UNDEF) {
      undefWeak[undefNames.length] = isWeak;
      undefNames.push(stringAt(path, b, t.symStr, nameOff, `dynamic symbol ${i}`));
      continue;
    }
    const vs = t.versymOff >= 0 ? u16(b, t.versymOff + i * 2) : C.VER_NDX_GLOBAL;
    const ndx = vs & ~C.VERSYM_HIDDEN;
    if (ndx === C.VER_NDX_LOCAL) continue;
    const name = stringAt(path, b, t.symStr, nameOff, `dynamic symbol ${i}`);
    if (ndx !== C.VER_NDX_GLOBAL && hasVersion[ndx] !== 1) {
      malformed(path, `dynamic symbol ${name} has version index ${ndx}, which no version defines`);
    }
    names.push(name);
    values[k] = value;
    sizes[k] = size;
    types[k] = info & 0xf;
    weak[k] = isWeak;
    visibility[k] = other & 3;
    versym[k] = vs;
    k++;
  }
  return {
    defined: {
      count: k,
      names,
      values: values.slice(0, k),
      sizes: sizes.slice(0, k),
      types: types.slice(0, k),
      weak: weak.slice(0, k),
      visibility: visibility.slice(0, k),
      versym: versym.slice(0, k),
    },
    undefined: { names: undefNames, weak: undefWeak.slice(0, undefNames.length) },
  };
}

import {
  InputFile,
  InputSection,
  LinkError,
  RelocTable,
  SymFlag,
  SymType,
  Visibility,
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
import {
  CPU_TYPE_I386,
  CPU_TYPE_X86_64,
  LC_DATA_IN_CODE,
  LC_LINKER_OPTION,
  LC_SEGMENT,
  LC_SEGMENT_64,
  LC_SYMTAB,
  MH_MAGIC,
  MH_MAGIC_64,
  MH_OBJECT,
  MH_SUBSECTIONS_VIA_SYMBOLS,
  N_ABS,
  N_ALT_ENTRY,
  N_EXT,
  N_PEXT,
  N_SECT,
  N_STAB,
  N_TYPE,
  N_UNDF,
  N_WEAK_DEF,
  N_WEAK_REF,
  SECTION_TYPE,
  S_ATTR_DEBUG,
  S_ATTR_PURE_INSTRUCTIONS,
  S_CSTRING_LITERALS,
  S_REGULAR,
  S_THREAD_LOCAL_ZEROFILL,
  S_ZEROFILL,
  X86_64_RELOC_SUBTRACTOR,
  X86_64_RELOC_UNSIGNED,
} from './constants.js';
import { encodeRelocType, pcrelBias } from './relocations.js';
import { readGenericRelocations } from './generic-relocs.js';

/** One `section_64` of an object, as the file describes it. */
export interface RawSection {
  segname: string;
  sectname: string;
  addr: number;
  size: number;
  offset: number;
  align: number;
  reloff: number;
  nreloc: number;
  flags: number;
}

/**
 * An `MH_OBJECT` input. With `MH_SUBSECTIONS_VIA_SYMBOLS` each regular section is split into
 * atoms at its symbols (ld64's model), and each atom is one core `InputSection`, so the core's
 * `gcSections` drops dead atoms (`-dead_strip`) without knowing Mach-O.
 */
export class MachoObjectFile extends InputFile {
  sects: RawSection[] = [];
  /** Per raw section: start offsets of its atoms (ascending) and their global section ids. */
  atomStarts: number[][] = [];
  atomIds: number[][] = [];
  /** Per file symbol: n_type and n_desc, for the output symbol table. */
  nType = new Uint8Array(0);
  nDesc = new Uint16Array(0);
  names: string[] = [];
  /** `LC_DATA_IN_CODE` entries as (object address, length, kind) triples. */
  dataInCode = new Uint32Array(0);
  /** `LC_LINKER_OPTION` strings (e.g. `-lSystem`, `-framework Foo`). */
  linkerOptions: string[][] = [];
  subsections = false;
  /** CPU_TYPE_X86_64, or CPU_TYPE_I386 for a 32-bit object (read, never written). */
  cputype = CPU_TYPE_X86_64;
  /** Global section id → local symbol standing for "start of this atom" (r_extern=0 targets). */
  readonly sectionSyms = new Map<number, number>();
}

/** Bounds check: every read of the file goes through one of these first. */
function need(file: string, bytes: Uint8Array, off: number, len: number, what: string): void {
  if (off < 0 || len < 0 || off + len > bytes.length) {
    throw new LinkError(
      `${file}: malformed Mach-O object: ${what} at offset 0x${off.toString(16)} ` +
        `(0x${len.toString(16)} bytes) extends past the end of the file (0x${bytes.length.toString(16)} bytes)`,
    );
  }
}

function fixedString(b: Uint8Array, off: number, len: number): string {
  let end = off;
  while (end < off + len && b[end] !== 0) end++;
  return String.fromCharCode(...b.subarray(off, end));
}

export function isMachoObject(b: Uint8Array): boolean {
  if (b.length < 28) return false;
  const magic = u32(b, 0);
  return (magic === MH_MAGIC_64 || magic === MH_MAGIC) && u32(b, 12) === MH_OBJECT;
}

/**
 * What differs between a 64-bit (x86_64) and a 32-bit (i386) object's structures: header and
 * segment command sizes, `section`/`section_64` and `nlist`/`nlist_64` layouts (the address,
 * size and n_value fields are one word wide; the fields after them shift with it).
 */
interface Layout {
  name: string;
  header: number;
  segmentCmd: number;
  segmentCmdName: string;
  segmentHeader: number;
  nsectsAt: number;
  section: number;
  nlist: number;
  word: (b: Uint8Array, o: number) => number;
  wordSize: number;
}
const LAYOUT_64: Layout = {
  name: 'mach_header_64',
  header: 32,
  segmentCmd: LC_SEGMENT_64,
  segmentCmdName: 'LC_SEGMENT_64',
  segmentHeader: 72,
  nsectsAt: 64,
  section: 80,
  nlist: 16,
  word: u64,
  wordSize: 8,
};
const LAYOUT_32: Layout = {
  name: 'mach_header',
  header: 28,
  segmentCmd: LC_SEGMENT,
  segmentCmdName: 'LC_SEGMENT',
  segmentHeader: 56,
  nsectsAt: 48,
  section: 68,
  nlist: 12,
  word: u32,
  wordSize: 4,
};

/** Largest index i with starts[i] <= off (starts ascending, starts[0] = 0). */
export function atomIndex(starts: number[], off: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= off) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Parses an x86-64 or i386 `MH_OBJECT` and enters its sections, symbols and relocations into
 * `ctx` (i386 relocations in the generic model of generic-relocs.ts; the linker refuses to
 * write i386 output). Malformed input is a `LinkError` naming the file, the structure and its
 * offset.
 */
export function readObject(
  ctx: Context,
  path: string,
  display: string,
  bytes: Uint8Array,
): MachoObjectFile {
  const f = new MachoObjectFile(ctx.files.length, path, display, 'object', bytes);
  ctx.files.push(f);
  const b = bytes;
  need(display, b, 0, 28, 'mach_header');
  const magic = u32(b, 0);
  if (magic !== MH_MAGIC_64 && magic !== MH_MAGIC)
    throw new LinkError(`${display}: not a Mach-O file`);
  const L = magic === MH_MAGIC_64 ? LAYOUT_64 : LAYOUT_32;
  need(display, b, 0, L.header, L.name);
  const cpu = u32(b, 4);
  if (cpu !== (magic === MH_MAGIC_64 ? CPU_TYPE_X86_64 : CPU_TYPE_I386))
    throw new LinkError(
      `${display}: unsupported Mach-O cputype 0x${cpu.toString(16)} (x86_64 and i386 objects are read)`,
    );
  f.cputype = cpu;
  if (u32(b, 12) !== MH_OBJECT) throw new LinkError(`${display}: not a Mach-O object (MH_OBJECT)`);
  const ncmds = u32(b, 16);
  const sizeofcmds = u32(b, 20);
  f.subsections = (u32(b, 24) & MH_SUBSECTIONS_VIA_SYMBOLS) !== 0;
  need(display, b, L.header, sizeofcmds, 'load commands');
  let symoff = 0;
  let nsyms = 0;
  let stroff = 0;
  let strsize = 0;
  let p = L.header;
  const cmdEnd = L.header + sizeofcmds;
  const W = L.wordSize;
  for (let i = 0; i < ncmds; i++) {
    if (p + 8 > cmdEnd)
      throw new LinkError(
        `${display}: malformed Mach-O object: load command ${i} at offset 0x${p.toString(16)} is outside sizeofcmds`,
      );
    const cmd = u32(b, p);
    const size = u32(b, p + 4);
    if (size < 8 || size % (W === 8 ? 8 : 4) !== 0 || p + size > cmdEnd)
      throw new LinkError(
        `${display}: malformed Mach-O object: load command ${i} at offset 0x${p.toString(16)} has bad cmdsize ${size}`,
      );
    if (cmd === L.segmentCmd) {
      need(display, b, p, L.segmentHeader, L.segmentCmdName);
      const nsects = u32(b, p + L.nsectsAt);
      if (L.segmentHeader + nsects * L.section > size)
        throw new LinkError(
          `${display}: malformed Mach-O object: ${L.segmentCmdName} at offset 0x${p.toString(16)} has ${nsects} sections but cmdsize ${size}`,
        );
      for (let s = 0; s < nsects; s++) {
        const q = p + L.segmentHeader + s * L.section;
        const f0 = q + 32 + 2 * W; // offset, align, reloff, nreloc, flags follow addr and size
        const sec: RawSection = {
          sectname: fixedString(b, q, 16),
          segname: fixedString(b, q + 16, 16),
          addr: L.word(b, q + 32),
          size: L.word(b, q + 32 + W),
          offset: u32(b, f0),
          align: u32(b, f0 + 4),
          reloff: u32(b, f0 + 8),
          nreloc: u32(b, f0 + 12),
          flags: u32(b, f0 + 16),
        };
        const t = sec.flags & SECTION_TYPE;
        const zerofill = t === S_ZEROFILL || t === S_THREAD_LOCAL_ZEROFILL;
        const where = `section ${sec.segname},${sec.sectname}`;
        if (!zerofill) need(display, b, sec.offset, sec.size, `contents of ${where}`);
        need(display, b, sec.reloff, sec.nreloc * 8, `relocations of ${where}`);
        if (sec.align > 15)
          throw new LinkError(
            `${display}: malformed Mach-O object: ${where} has alignment 2^${sec.align}`,
          );
        f.sects.push(sec);
      }
    } else if (cmd === LC_SYMTAB) {
      need(display, b, p, 24, 'LC_SYMTAB');
      symoff = u32(b, p + 8);
      nsyms = u32(b, p + 12);
      stroff = u32(b, p + 16);
      strsize = u32(b, p + 20);
      need(display, b, symoff, nsyms * L.nlist, 'symbol table');
      need(display, b, stroff, strsize, 'string table');
    } else if (cmd === LC_DATA_IN_CODE) {
      need(display, b, p, 16, 'LC_DATA_IN_CODE');
      const off = u32(b, p + 8);
      const size = u32(b, p + 12);
      need(display, b, off, size, 'data-in-code entries');
      const n = Math.floor(size / 8);
      f.dataInCode = new Uint32Array(n * 3);
      for (let k = 0; k < n; k++) {
        f.dataInCode[k * 3] = u32(b, off + k * 8);
        f.dataInCode[k * 3 + 1] = u16(b, off + k * 8 + 4);
        f.dataInCode[k * 3 + 2] = u16(b, off + k * 8 + 6);
      }
    } else if (cmd === LC_LINKER_OPTION) {
      const count = u32(b, p + 8);
      const opts: string[] = [];
      let q = p + 12;
      for (let k = 0; k < count && q < p + size; k++) {
        const s = cstring(b, q, p + size);
        opts.push(s);
        q += s.length + 1;
      }
      f.linkerOptions.push(opts);
    }
    p += size;
  }

  // Split points: every non-alt-entry symbol of a regular section starts an atom.
  const splits: number[][] = f.sects.map(() => [0]);
  for (let i = 0; i < nsyms; i++) {
    const q = symoff + i * L.nlist;
    const type = b[q + 4]!;
    const sect = b[q + 5]!;
    if (type & N_STAB || (type & N_TYPE) !== N_SECT) continue;
    if (sect === 0 || sect > f.sects.length)
      throw new LinkError(
        `${display}: malformed Mach-O object: symbol ${i} names section ${sect} of ${f.sects.length}`,
      );
    const desc = u16(b, q + 6);
    const s = f.sects[sect - 1]!;
    const off = L.word(b, q + 8) - s.addr;
    if (off < 0 || off > s.size)
      throw new LinkError(
        `${display}: malformed Mach-O object: symbol ${i} lies outside section ${s.segname},${s.sectname}`,
      );
    if (f.subsections && splittable(s) && !(desc & N_ALT_ENTRY) && off < s.size)
      splits[sect - 1]!.push(off);
  }
  for (let si = 0; si < f.sects.length; si++) {
    const s = f.sects[si]!;
    const starts = [...new Set(splits[si]!)].sort((x, y) => x - y);
    const ids: number[] = [];
    f.atomStarts.push(starts);
    f.atomIds.push(ids);
    // __DWARF is not loaded. __LD,__compact_unwind is: it becomes __unwind_info (unwind.ts).
    if (s.flags & S_ATTR_DEBUG && !(s.segname === '__LD' && s.sectname === '__compact_unwind'))
      continue;
    const t = s.flags & SECTION_TYPE;
    const zerofill = t === S_ZEROFILL || t === S_THREAD_LOCAL_ZEROFILL;
    for (let a = 0; a < starts.length; a++) {
      const start = starts[a]!;
      const end = a + 1 < starts.length ? starts[a + 1]! : s.size;
      const sec = new InputSection(
        ctx.sections.length,
        f,
        si,
        `${s.segname},${s.sectname}`,
        t,
        s.flags,
        // An atom is aligned as its offset in the section allows (ld64's rule).
        start === 0 ? 2 ** s.align : Math.min(2 ** s.align, start & -start),
        end - start,
        zerofill ? -1 : s.offset + start,
      );
      ctx.sections.push(sec);
      ids.push(sec.id);
      f.sections.push(sec);
    }
  }

  // Symbols.
  f.symIds = new Int32Array(nsyms).fill(-1);
  f.nType = new Uint8Array(nsyms);
  f.nDesc = new Uint16Array(nsyms);
  const syms = ctx.syms;
  for (let i = 0; i < nsyms; i++) {
    const q = symoff + i * L.nlist;
    const strx = u32(b, q);
    const type = b[q + 4]!;
    const sect = b[q + 5]!;
    const desc = u16(b, q + 6);
    const value = L.word(b, q + 8);
    f.nType[i] = type;
    f.nDesc[i] = desc;
    if (strx >= strsize && strsize > 0)
      throw new LinkError(
        `${display}: malformed Mach-O object: symbol ${i} name offset 0x${strx.toString(16)} is past the string table`,
      );
    const name = strsize > 0 ? cstring(b, stroff + strx, stroff + strsize) : '';
    f.names[i] = name;
    if (type & N_STAB) continue;
    const kind = type & N_TYPE;
    const ext = (type & N_EXT) !== 0;
    if (kind === N_SECT) {
      const s = f.sects[sect - 1]!;
      const off = value - s.addr;
      const ai = atomIndex(f.atomStarts[sect - 1]!, off);
      const secId = f.atomIds[sect - 1]![ai];
      if (secId === undefined) continue; // symbol in a section that is not loaded
      const symType = s.flags & S_ATTR_PURE_INSTRUCTIONS ? SymType.Func : SymType.Object;
      const v = off - f.atomStarts[sect - 1]![ai]!;
      if (ext) {
        const id = syms.intern(name);
        f.symIds[i] = id;
        defineSymbol(ctx, id, f.id, i, secId, v, 0, symType, (desc & N_WEAK_DEF) !== 0, false);
        if (type & N_PEXT) mergeVisibility(ctx, id, Visibility.Hidden);
      } else {
        f.symIds[i] = syms.addLocal(f.id, i, secId, v, symType);
      }
    } else if (kind === N_UNDF) {
      if (!ext) continue;
      const id = syms.intern(name);
      f.symIds[i] = id;
      if (value !== 0) defineCommon(ctx, id, f.id, i, value, 2 ** ((desc >> 8) & 0xf));
      else referenceSymbol(ctx, id, (desc & N_WEAK_REF) !== 0);
    } else if (kind === N_ABS) {
      if (ext) {
        const id = syms.intern(name);
        f.symIds[i] = id;
        defineSymbol(
          ctx,
          id,
          f.id,
          i,
          -1,
          value,
          0,
          SymType.NoType,
          (desc & N_WEAK_DEF) !== 0,
          true,
        );
      } else {
        const id = syms.addLocal(f.id, i, -1, value, SymType.NoType);
        syms.flags[id] = syms.flags[id]! | SymFlag.Absolute;
        f.symIds[i] = id;
      }
    } else {
      throw new LinkError(
        `${display}: unsupported Mach-O symbol type 0x${type.toString(16)} for ${name} (N_INDR/N_PBUD)`,
      );
    }
  }

  if (cpu === CPU_TYPE_I386) readGenericRelocations(ctx, f);
  else readRelocations(ctx, f);
  return f;
}

/** Sections whose atoms can be cut at symbols: code and data, not literals or pointer lists. */
function splittable(s: RawSection): boolean {
  const t = s.flags & SECTION_TYPE;
  if (s.segname === '__TEXT' && s.sectname === '__eh_frame') return false;
  return t === S_REGULAR || t === S_ZEROFILL;
}

/** The local symbol that stands for offset 0 of atom `secId` (targets of r_extern=0 relocs). */
export function sectionSymbol(ctx: Context, f: MachoObjectFile, secId: number): number {
  let id = f.sectionSyms.get(secId);
  if (id === undefined) {
    id = ctx.syms.addLocal(f.id, -1, secId, 0, SymType.Section);
    f.sectionSyms.set(secId, id);
  }
  return id;
}

/**
 * Decodes every section's `relocation_info` entries into the core's relocation columns, one
 * table per atom. The implicit addend in the instruction bytes moves into the addend column
 * (bias of SIGNED_1/2/4 included), and section-relative targets become (atom symbol, offset).
 */
function readRelocations(ctx: Context, f: MachoObjectFile): void {
  const b = f.bytes;
  const store = ctx.relocs;
  for (let si = 0; si < f.sects.length; si++) {
    const s = f.sects[si]!;
    const ids = f.atomIds[si]!;
    if (s.nreloc === 0 || ids.length === 0) continue;
    const starts = f.atomStarts[si]!;
    const where = `${s.segname},${s.sectname}`;
    // Count per atom first so each atom's relocations are one contiguous range.
    const counts = new Int32Array(ids.length);
    const atomOfReloc = new Int32Array(s.nreloc);
    for (let r = 0; r < s.nreloc; r++) {
      const q = s.reloff + r * 8;
      const addr = u32(b, q);
      if (addr & 0x80000000)
        throw new LinkError(
          `${f.displayName}:(${where}): scattered relocation ${r} is not valid on x86_64`,
        );
      if (addr >= s.size)
        throw new LinkError(
          `${f.displayName}:(${where}+0x${addr.toString(16)}): relocation ${r} is outside the section (size 0x${s.size.toString(16)})`,
        );
      const a = atomIndex(starts, addr);
      atomOfReloc[r] = a;
      counts[a]!++;
    }
    const tables: RelocTable[] = [];
    const fill = new Int32Array(ids.length);
    for (let a = 0; a < ids.length; a++) {
      const t = RelocTable.allocate(store, counts[a]!);
      tables.push(t);
      ctx.sections[ids[a]!]!.relocs = counts[a]! > 0 ? t : null;
    }
    for (let r = 0; r < s.nreloc; r++) {
      const q = s.reloff + r * 8;
      const addr = u32(b, q);
      const info = u32(b, q + 4);
      const symnum = info & 0xffffff;
      const pcrel = (info >>> 24) & 1;
      const length = (info >>> 25) & 3;
      const ext = (info >>> 27) & 1;
      const type = info >>> 28;
      const loc = `${f.displayName}:(${where}+0x${addr.toString(16)})`;
      if (type > 9) throw new LinkError(`${loc}: unknown x86_64 relocation type ${type}`);
      if (length < 2)
        throw new LinkError(`${loc}: relocation of ${1 << length} bytes is not valid on x86_64`);
      const width = 1 << length;
      if (addr + width > s.size)
        throw new LinkError(`${loc}: relocation reaches past the end of the section`);
      let embedded = 0;
      if (type !== X86_64_RELOC_SUBTRACTOR && (s.flags & SECTION_TYPE) !== S_ZEROFILL) {
        const o = s.offset + addr;
        embedded = (length === 3 ? i64(b, o) : i32(b, o)) + pcrelBias(type);
      }
      let sym: number;
      let addend = embedded;
      if (ext) {
        if (symnum >= f.symIds.length)
          throw new LinkError(`${loc}: relocation names symbol ${symnum} of ${f.symIds.length}`);
        sym = f.symIds[symnum]!;
        if (sym < 0)
          throw new LinkError(
            `${loc}: relocation names symbol ${f.names[symnum] ?? symnum} which is not loaded`,
          );
      } else {
        if (symnum === 0 || symnum > f.sects.length)
          throw new LinkError(
            `${loc}: section-relative relocation names section ${symnum} of ${f.sects.length}`,
          );
        if (type === X86_64_RELOC_SUBTRACTOR)
          throw new LinkError(`${loc}: section-relative X86_64_RELOC_SUBTRACTOR is not supported`);
        const ts = f.sects[symnum - 1]!;
        // The target as an address in the object's own address space.
        const target = pcrel ? s.addr + addr + 4 + embedded : embedded;
        const off = target - ts.addr;
        const tStarts = f.atomStarts[symnum - 1]!;
        const ai = atomIndex(tStarts, Math.min(Math.max(off, 0), Math.max(ts.size - 1, 0)));
        const tid = f.atomIds[symnum - 1]![ai];
        if (tid === undefined)
          throw new LinkError(
            `${loc}: relocation targets section ${ts.segname},${ts.sectname}, which is not loaded`,
          );
        sym = sectionSymbol(ctx, f, tid);
        // Apply computes S + A - (P + 4 + bias): S + A must be the target itself.
        addend = off - tStarts[ai]!;
      }
      const a = atomOfReloc[r]!;
      const idx = tables[a]!.start + fill[a]!++;
      store.offset[idx] = addr - starts[a]!;
      store.type[idx] = encodeRelocType(type, length, pcrel, ext);
      store.sym[idx] = sym;
      store.addend[idx] = addend;
      // SUBTRACTOR must be followed by the UNSIGNED it pairs with, at the same address.
      if (type === X86_64_RELOC_SUBTRACTOR) {
        const nq = q + 8;
        const ok =
          r + 1 < s.nreloc &&
          u32(b, nq) === addr &&
          u32(b, nq + 4) >>> 28 === X86_64_RELOC_UNSIGNED;
        if (!ok)
          throw new LinkError(
            `${loc}: X86_64_RELOC_SUBTRACTOR not followed by X86_64_RELOC_UNSIGNED`,
          );
      }
    }
  }
}

export { cstring };

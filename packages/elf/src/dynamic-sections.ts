import { OutputSection, SymFlag, SymState, w16, w32, w64, type SymId } from '@link/core';
import * as C from './constants.js';
import type { SharedFile } from './dso.js';
import { pltEntryAddr, relaPltCount } from './got-plt.js';
import type { ElfLink } from './link.js';

/**
 * The dynamic symbol table and everything keyed to it: .dynsym/.dynstr, the two hash tables,
 * symbol versions (.gnu.version, .gnu.version_r, .gnu.version_d), .interp and .dynamic.
 *
 * .dynsym holds the null entry, then every symbol the output imports (undefined entries), then
 * every symbol it defines for other modules (exports and copied data), the latter ordered by
 * .gnu.hash bucket as that table requires.
 */

/** A string table built once: '\0' first, each distinct string stored once. */
export class StringTable {
  private readonly offsets = new Map<string, number>();
  private readonly parts: string[] = [''];
  size = 1;

  add(s: string): number {
    if (s === '') return 0;
    let o = this.offsets.get(s);
    if (o === undefined) {
      o = this.size;
      this.offsets.set(s, o);
      this.parts.push(s);
      this.size += s.length + 1;
    }
    return o;
  }

  write(buf: Uint8Array, off: number): void {
    let p = off;
    for (const s of this.parts) {
      buf.set(Buffer.from(s, 'latin1'), p);
      p += s.length + 1;
    }
  }
}

/** The GNU hash of a symbol name (dl-new-hash). */
export function gnuHash(name: string): number {
  let h = 5381;
  for (let i = 0; i < name.length; i++) h = (Math.imul(h, 33) + name.charCodeAt(i)) >>> 0;
  return h;
}

/** The System V ELF hash (gABI). */
export function sysvHash(name: string): number {
  let h = 0;
  for (let i = 0; i < name.length; i++) {
    h = ((h << 4) + name.charCodeAt(i)) >>> 0;
    const g = h & 0xf0000000;
    if (g !== 0) h ^= g >>> 24;
    h &= ~g >>> 0;
    h >>>= 0;
  }
  return h;
}

/** One needed version: `GLIBC_2.14` of `libc.so.6`, with its .gnu.version index. */
interface NeededVersion {
  name: string;
  index: number;
}

export interface DynamicTables {
  /** .dynsym order; entry 0 (the null symbol) is not listed. */
  symbols: SymId[];
  /** Index of the first defined symbol in .dynsym (.gnu.hash's symoffset). */
  firstDefined: number;
  dynstr: StringTable;
  /** .gnu.version entry of each .dynsym entry after the null one. */
  versyms: Uint16Array;
  /** DT_NEEDED, in command-line order: libraries and the versions needed of each. */
  needed: { file: SharedFile | null; soname: string; versions: NeededVersion[] }[];
  /** Version definitions (shared objects with a version script): base first. */
  verdefs: { name: string; parents: string[] }[];
  gnuHashBuckets: number;
  gnuBloomWords: number;
  sysvBuckets: number;
  entries: [number, () => number][];
}

const SYSV_BUCKETS = [
  1, 3, 17, 37, 67, 97, 131, 197, 263, 521, 1031, 2053, 4099, 8209, 16411, 32771, 65537, 131101,
  262147,
];

function isDefinedHere(link: ElfLink, id: SymId): boolean {
  const syms = link.ctx.syms;
  return (
    (syms.flags[id]! & SymFlag.NeedsCopy) !== 0 ||
    ((syms.flags[id]! & SymFlag.Exported) !== 0 && syms.state[id] !== SymState.Shared)
  );
}

/**
 * Decides .dynsym and the tables sized by it. Runs after GOT/PLT slots are allocated (a
 * symbol with a slot that the loader fills must be in .dynsym) and before layout.
 */
export function buildDynamicTables(link: ElfLink): void {
  if (!link.isDynamic) return;
  const ctx = link.ctx;
  const syms = ctx.syms;
  const cfg = ctx.config;
  const imports: SymId[] = [];
  const exports: SymId[] = [];
  for (const id of syms.globalIds()) {
    const f = syms.flags[id]!;
    const st = syms.state[id]!;
    if (isDefinedHere(link, id)) exports.push(id);
    else if (f & SymFlag.Imported && f & (SymFlag.RefStrong | SymFlag.RefWeak)) {
      imports.push(id);
      if (st === SymState.Shared) (ctx.files[syms.file[id]!] as SharedFile).isUsed = true;
    }
  }
  for (const id of link.copySyms) (ctx.files[syms.file[id]!] as SharedFile).isUsed = true;
  imports.sort((a, b) => a - b);

  // .gnu.hash: defined symbols grouped by bucket, in a stable order within a bucket.
  const nDef = exports.length;
  const buckets = Math.max(1, Math.floor(nDef / 8) + 1);
  const hashes = new Map<SymId, number>();
  const dynName = (id: SymId) => link.dynName.get(id) ?? syms.names[id]!;
  for (const id of exports) hashes.set(id, gnuHash(dynName(id)));
  exports.sort((a, b) => (hashes.get(a)! % buckets) - (hashes.get(b)! % buckets) || a - b);
  const symbols = [...imports, ...exports];
  symbols.forEach((id, i) => link.dynsymIdx.set(id, i + 1));
  // A reference that named its version (`foo@V1`) imports `foo`; .gnu.version carries the V1.
  for (const id of imports) {
    const name = syms.names[id]!;
    const at = name.indexOf('@');
    if (at > 0) link.dynName.set(id, name.slice(0, at));
  }
  const count = symbols.length + 1;
  let bloom = 1;
  while (bloom * (link.arch.is64 ? 64 : 32) < nDef * 12) bloom *= 2;
  let sysvBuckets = 1;
  for (const b of SYSV_BUCKETS) if (b <= count) sysvBuckets = b;

  const dynstr = new StringTable();
  const needed: DynamicTables['needed'] = [];
  for (const f of link.sharedFiles) {
    if (f.asNeeded && !f.isUsed) continue;
    if (needed.some((n) => n.soname === f.lib.soname)) continue;
    needed.push({ file: f, soname: f.lib.soname, versions: [] });
  }
  for (const lib of link.extraNeeded) {
    if (!needed.some((n) => n.soname === lib))
      needed.push({ file: null, soname: lib, versions: [] });
  }
  for (const n of needed) dynstr.add(n.soname);
  if (cfg.dynamic.soname !== null) dynstr.add(cfg.dynamic.soname);
  const rpath = cfg.dynamic.rpath.join(':');
  if (rpath !== '') dynstr.add(rpath);

  // Version definitions: the base (named after the soname) and the script's named versions.
  const verdefs: { name: string; parents: string[] }[] = [];
  const script = link.versionScript;
  if (script !== null && script.versions.some((v) => v.name !== '')) {
    verdefs.push({ name: cfg.dynamic.soname ?? baseName(cfg.output), parents: [] });
    for (const v of script.versions) if (v.name !== '') verdefs.push(v);
    for (const v of verdefs) dynstr.add(v.name);
  }
  // Version indices: 1 is the base; verdefs take 2..; needed versions follow.
  let nextIndex = Math.max(2, verdefs.length + 1);
  const versyms = new Uint16Array(symbols.length);
  const byFile = new Map<SharedFile, DynamicTables['needed'][number]>();
  for (const n of needed) if (n.file !== null) byFile.set(n.file, n);
  for (let i = 0; i < symbols.length; i++) {
    const id = symbols[i]!;
    dynstr.add(dynName(id));
    let v = C.VER_NDX_GLOBAL;
    if (syms.state[id] === SymState.Shared && (syms.flags[id]! & SymFlag.NeedsCopy) === 0) {
      const file = ctx.files[syms.file[id]!] as SharedFile;
      const vname = file.versionName(syms.aux[id]!);
      const n = byFile.get(file);
      if (vname !== '' && n !== undefined) {
        let nv = n.versions.find((x) => x.name === vname);
        if (!nv) {
          nv = { name: vname, index: nextIndex++ };
          n.versions.push(nv);
          dynstr.add(vname);
        }
        v = nv.index;
      }
    } else if (syms.state[id] === SymState.Shared) {
      // Copied data: defined here, but its version is still the library's.
      v = C.VER_NDX_GLOBAL;
    } else {
      const sv = link.symVersion.get(id);
      if (sv !== undefined) v = sv;
    }
    versyms[i] = v;
  }

  link.dynTables = {
    symbols,
    firstDefined: imports.length + 1,
    dynstr,
    versyms,
    needed,
    verdefs,
    gnuHashBuckets: buckets,
    gnuBloomWords: bloom,
    sysvBuckets,
    entries: [],
  };
}

function baseName(p: string): string {
  const i = p.lastIndexOf('/');
  return i >= 0 ? p.slice(i + 1) : p;
}

function synth(name: string, type: number, flags: number, align: number): OutputSection {
  const o = new OutputSection(name, type, flags, type === C.SHT_NOBITS);
  o.align = align;
  return o;
}

export interface DynamicSections {
  interp: OutputSection | null;
  dynsym: OutputSection;
  dynstr: OutputSection;
  gnuHash: OutputSection | null;
  hash: OutputSection | null;
  versym: OutputSection | null;
  verneed: OutputSection | null;
  verdef: OutputSection | null;
  relaDyn: OutputSection;
  dynamic: OutputSection;
  dynbss: OutputSection | null;
}

/** Creates the dynamic sections with their sizes; writers run after layout. */
export function createDynamicSections(link: ElfLink): DynamicSections {
  const t = link.dynTables!;
  const ctx = link.ctx;
  const cfg = ctx.config;
  const is64 = link.arch.is64;
  const ptr = is64 ? 8 : 4;
  const syms = ctx.syms;
  const A = C.SHF_ALLOC;

  let interp: OutputSection | null = null;
  if (cfg.outputKind !== 'shared') {
    const path = cfg.dynamic.interpreter ?? link.arch.defaultInterpreter;
    interp = synth('.interp', C.SHT_PROGBITS, A, 1);
    interp.size = path.length + 1;
    interp.writer = (o, buf) => buf.set(Buffer.from(path, 'latin1'), o.fileOffset);
  }

  const symEnt = is64 ? C.ELF64_SYM_SIZE : C.ELF32_SYM_SIZE;
  const dynsym = synth('.dynsym', C.SHT_DYNSYM, A, ptr);
  dynsym.entsize = symEnt;
  dynsym.size = (t.symbols.length + 1) * symEnt;
  dynsym.info = 1; // only the null symbol is local
  dynsym.writer = (o, buf) => writeDynsym(link, o, buf);

  const dynstr = synth('.dynstr', C.SHT_STRTAB, A, 1);
  dynstr.size = t.dynstr.size;
  dynstr.writer = (o, buf) => t.dynstr.write(buf, o.fileOffset);

  const style = cfg.dynamic.hashStyle;
  let gnuHash: OutputSection | null = null;
  if (style !== 'sysv') {
    gnuHash = synth('.gnu.hash', C.SHT_GNU_HASH, A, ptr);
    // ELFCLASS32 readers (elflint, GNU ld's own output) expect 4-byte words here.
    if (!is64) gnuHash.entsize = 4;
    const nDef = t.symbols.length + 1 - t.firstDefined;
    gnuHash.size = 16 + t.gnuBloomWords * ptr + t.gnuHashBuckets * 4 + nDef * 4;
    gnuHash.writer = (o, buf) => writeGnuHash(link, o, buf);
  }
  let hash: OutputSection | null = null;
  if (style !== 'gnu') {
    hash = synth('.hash', C.SHT_HASH, A, 4);
    hash.entsize = 4;
    hash.size = (2 + t.sysvBuckets + t.symbols.length + 1) * 4;
    hash.writer = (o, buf) => writeSysvHash(link, o, buf);
  }

  const versioned = t.verdefs.length > 0 || t.needed.some((n) => n.versions.length > 0);
  let versym: OutputSection | null = null;
  let verneed: OutputSection | null = null;
  let verdef: OutputSection | null = null;
  if (versioned) {
    versym = synth('.gnu.version', C.SHT_GNU_versym, A, 2);
    versym.entsize = 2;
    versym.size = (t.symbols.length + 1) * 2;
    versym.writer = (o, buf) => {
      for (let i = 0; i < t.versyms.length; i++)
        w16(buf, o.fileOffset + (i + 1) * 2, t.versyms[i]!);
    };
    const withVersions = t.needed.filter((n) => n.versions.length > 0);
    if (withVersions.length > 0) {
      verneed = synth('.gnu.version_r', C.SHT_GNU_verneed, A, 4);
      verneed.info = withVersions.length;
      verneed.size = withVersions.reduce(
        (s, n) => s + C.ELF_VERNEED_SIZE + n.versions.length * C.ELF_VERNAUX_SIZE,
        0,
      );
      verneed.writer = (o, buf) => writeVerneed(t, withVersions, o, buf);
    }
    if (t.verdefs.length > 0) {
      verdef = synth('.gnu.version_d', C.SHT_GNU_verdef, A, 4);
      verdef.info = t.verdefs.length;
      verdef.size = t.verdefs.reduce(
        (s, v) => s + C.ELF_VERDEF_SIZE + (1 + v.parents.length) * C.ELF_VERDAUX_SIZE,
        0,
      );
      verdef.writer = (o, buf) => writeVerdef(t, o, buf);
    }
  }

  const rela = link.arch.rela;
  const relEnt = rela ? (is64 ? 24 : 12) : 8;
  const relaDyn = synth(rela ? '.rela.dyn' : '.rel.dyn', rela ? C.SHT_RELA : C.SHT_REL, A, ptr);
  relaDyn.entsize = relEnt;
  relaDyn.size = link.relDynCount * relEnt;
  relaDyn.writer = () => {
    // Written last (writer.ts), when every section has added its relocations.
  };

  let dynbss: OutputSection | null = null;
  if (link.copySyms.length > 0) {
    dynbss = synth('.dynbss', C.SHT_NOBITS, A | C.SHF_WRITE, 1);
    let off = 0;
    for (const id of link.copySyms) {
      const v = syms.value[id]!;
      const align = Math.min(64, v === 0 ? 64 : 2 ** ctzFloat(v));
      off = Math.ceil(off / align) * align;
      link.copyOffsets.set(id, off);
      dynbss.align = Math.max(dynbss.align, align);
      off += Math.max(syms.size[id]!, 1);
    }
    dynbss.size = off;
  }

  const dynEnt = is64 ? C.ELF64_DYN_SIZE : C.ELF32_DYN_SIZE;
  const dynamic = synth('.dynamic', C.SHT_DYNAMIC, A | C.SHF_WRITE, ptr);
  dynamic.entsize = dynEnt;
  const secs: DynamicSections = {
    interp,
    dynsym,
    dynstr,
    gnuHash,
    hash,
    versym,
    verneed,
    verdef,
    relaDyn,
    dynamic,
    dynbss,
  };
  t.entries = dynamicEntries(link, secs);
  dynamic.size = t.entries.length * dynEnt;
  dynamic.writer = (o, buf) => {
    t.entries.forEach(([tag, value], i) => {
      const off = o.fileOffset + i * dynEnt;
      if (is64) {
        w64(buf, off, tag);
        w64(buf, off + 8, value());
      } else {
        w32(buf, off, tag);
        w32(buf, off + 4, value() >>> 0);
      }
    });
  };
  return secs;
}

/** Number of trailing zero bits of a non-negative integer held in a double. */
function ctzFloat(v: number): number {
  let n = 0;
  while (n < 53 && v % 2 ** (n + 1) === 0) n++;
  return n;
}

function dynamicEntries(link: ElfLink, s: DynamicSections): [number, () => number][] {
  const ctx = link.ctx;
  const cfg = ctx.config;
  const t = link.dynTables!;
  const syms = ctx.syms;
  const e: [number, () => number][] = [];
  const k = (v: number) => () => v;
  for (const n of t.needed) e.push([C.DT_NEEDED, k(t.dynstr.add(n.soname))]);
  if (cfg.dynamic.soname !== null) e.push([C.DT_SONAME, k(t.dynstr.add(cfg.dynamic.soname))]);
  const rpath = cfg.dynamic.rpath.join(':');
  if (rpath !== '')
    e.push([cfg.dynamic.newDtags ? C.DT_RUNPATH : C.DT_RPATH, k(t.dynstr.add(rpath))]);
  const addrOf = (name: string): number => {
    const id = syms.lookup(name);
    return id >= 0 && syms.state[id] === SymState.Defined ? id : -1;
  };
  const init = addrOf('_init');
  const fini = addrOf('_fini');
  if (init >= 0) e.push([C.DT_INIT, () => syms.addr[init]!]);
  if (fini >= 0) e.push([C.DT_FINI, () => syms.addr[fini]!]);
  // Sizes of input-backed sections are computed in layout; what matters here is that they exist.
  const osec = (name: string) =>
    link.outputSections.find((o) => o.name === name && (o.size > 0 || o.members.length > 0));
  for (const [name, tag, szTag] of [
    ['.preinit_array', C.DT_PREINIT_ARRAY, C.DT_PREINIT_ARRAYSZ],
    ['.init_array', C.DT_INIT_ARRAY, C.DT_INIT_ARRAYSZ],
    ['.fini_array', C.DT_FINI_ARRAY, C.DT_FINI_ARRAYSZ],
  ] as const) {
    const o = osec(name);
    if (o) {
      e.push([tag, () => o.addr]);
      e.push([szTag, () => o.size]);
    }
  }
  if (s.hash) e.push([C.DT_HASH, () => s.hash!.addr]);
  if (s.gnuHash) e.push([C.DT_GNU_HASH, () => s.gnuHash!.addr]);
  e.push([C.DT_STRTAB, () => s.dynstr.addr]);
  e.push([C.DT_SYMTAB, () => s.dynsym.addr]);
  e.push([C.DT_STRSZ, () => s.dynstr.size]);
  e.push([C.DT_SYMENT, k(s.dynsym.entsize)]);
  if (cfg.outputKind !== 'shared') e.push([C.DT_DEBUG, k(0)]);
  const rela = link.arch.rela;
  if (relaPltCount(link) > 0) {
    e.push([C.DT_PLTGOT, () => link.synth.gotPlt.addr]);
    e.push([C.DT_PLTRELSZ, () => link.synth.relaIplt.size]);
    e.push([C.DT_PLTREL, k(rela ? C.DT_RELA : C.DT_REL)]);
    e.push([C.DT_JMPREL, () => link.synth.relaIplt.addr]);
  }
  if (link.relDynCount > 0) {
    e.push([rela ? C.DT_RELA : C.DT_REL, () => s.relaDyn.addr]);
    e.push([rela ? C.DT_RELASZ : C.DT_RELSZ, () => s.relaDyn.size]);
    e.push([rela ? C.DT_RELAENT : C.DT_RELENT, k(s.relaDyn.entsize)]);
    // Only position-independent output has RELATIVE relocations (GNU ld omits a zero count).
    if (ctx.target.isPIC)
      e.push([
        rela ? C.DT_RELACOUNT : C.DT_RELCOUNT,
        () => link.relDyn.countOf(link.arch.dynRel.RELATIVE),
      ]);
  }
  if (s.versym) e.push([C.DT_VERSYM, () => s.versym!.addr]);
  if (s.verdef) {
    e.push([C.DT_VERDEF, () => s.verdef!.addr]);
    e.push([C.DT_VERDEFNUM, k(s.verdef.info)]);
  }
  if (s.verneed) {
    e.push([C.DT_VERNEED, () => s.verneed!.addr]);
    e.push([C.DT_VERNEEDNUM, k(s.verneed.info)]);
  }
  const now = cfg.zFlags.has('now');
  let flags = 0;
  if (now) flags |= C.DF_BIND_NOW;
  if (link.textRel) flags |= C.DF_TEXTREL;
  if (link.staticTls) flags |= C.DF_STATIC_TLS;
  if (cfg.dynamic.bsymbolic === 'all' && cfg.outputKind === 'shared') flags |= C.DF_SYMBOLIC;
  if (link.textRel) e.push([C.DT_TEXTREL, k(0)]);
  let flags1 = 0;
  if (now) flags1 |= C.DF_1_NOW;
  if (ctx.target.isPIE) flags1 |= C.DF_1_PIE;
  if (cfg.zFlags.has('nodelete')) flags1 |= C.DF_1_NODELETE;
  if (cfg.zFlags.has('nodlopen')) flags1 |= C.DF_1_NOOPEN;
  if (cfg.zFlags.has('origin')) {
    flags1 |= C.DF_1_ORIGIN;
    flags |= C.DF_ORIGIN;
  }
  if (flags !== 0) e.push([C.DT_FLAGS, k(flags)]);
  if (flags1 !== 0) e.push([C.DT_FLAGS_1, k(flags1)]);
  e.push([C.DT_NULL, k(0)]);
  return e;
}

function writeDynsym(link: ElfLink, o: OutputSection, buf: Uint8Array): void {
  const t = link.dynTables!;
  const ctx = link.ctx;
  const syms = ctx.syms;
  const is64 = link.arch.is64;
  const ent = is64 ? C.ELF64_SYM_SIZE : C.ELF32_SYM_SIZE;
  const dynbss = link.dynSections!.dynbss;
  for (let i = 0; i < t.symbols.length; i++) {
    const id = t.symbols[i]!;
    const off = o.fileOffset + (i + 1) * ent;
    const f = syms.flags[id]!;
    const st = syms.state[id]!;
    const name = t.dynstr.add(link.dynName.get(id) ?? syms.names[id]!);
    let type = syms.type[id]!;
    let shndx = C.SHN_UNDEF;
    let value = 0;
    let size = syms.size[id]!;
    const weakRef = (f & SymFlag.RefWeak) !== 0 && (f & SymFlag.RefStrong) === 0;
    let bind = C.STB_GLOBAL;
    if (f & SymFlag.NeedsCopy) {
      shndx = dynbss!.shndx;
      value = syms.addr[id]!;
      bind = (f & SymFlag.Weak) !== 0 ? C.STB_WEAK : C.STB_GLOBAL;
    } else if (st === SymState.Shared || st === SymState.Undefined || st === SymState.Lazy) {
      if (f & SymFlag.CanonicalPlt) value = pltEntryAddr(link, id);
      // Whether another module's function is an IFUNC is its own business (GNU ld does this).
      if (type === C.STT_GNU_IFUNC) type = C.STT_FUNC;
      if (weakRef || (st !== SymState.Shared && (f & SymFlag.Weak) !== 0)) bind = C.STB_WEAK;
      size = 0;
    } else {
      value = syms.addr[id]!;
      if ((f & SymFlag.Weak) !== 0) bind = C.STB_WEAK;
      const s = syms.section[id]!;
      if (s < 0 || (f & SymFlag.Absolute) !== 0) shndx = C.SHN_ABS;
      else shndx = ctx.sections[s]!.osec?.shndx ?? C.SHN_ABS;
      if (f & SymFlag.NeedsIplt) {
        // A local IFUNC with a canonical PLT entry is seen by others as a plain function.
        type = C.STT_FUNC;
        shndx = link.synth.iplt.shndx;
        size = 0; // the PLT entry, not the resolver's code
      }
    }
    if (type === C.STT_TLS && shndx !== C.SHN_UNDEF && shndx !== C.SHN_ABS)
      value = value - link.tlsStart;
    const vis = syms.visibility[id]! === 3 ? 3 : 0;
    const info = (bind << 4) | (type & 0xf);
    if (is64) {
      w32(buf, off, name);
      buf[off + 4] = info;
      buf[off + 5] = vis;
      w16(buf, off + 6, shndx);
      w64(buf, off + 8, value);
      w64(buf, off + 16, size);
    } else {
      w32(buf, off, name);
      w32(buf, off + 4, value >>> 0);
      w32(buf, off + 8, size >>> 0);
      buf[off + 12] = info;
      buf[off + 13] = vis;
      w16(buf, off + 14, shndx);
    }
  }
}

function writeGnuHash(link: ElfLink, o: OutputSection, buf: Uint8Array): void {
  const t = link.dynTables!;
  const syms = link.ctx.syms;
  const is64 = link.arch.is64;
  const ptr = is64 ? 8 : 4;
  const bits = ptr * 8;
  const nb = t.gnuHashBuckets;
  const nw = t.gnuBloomWords;
  const shift = 26;
  const first = t.firstDefined;
  const defs = t.symbols.slice(first - 1);
  let off = o.fileOffset;
  w32(buf, off, nb);
  w32(buf, off + 4, first);
  w32(buf, off + 8, nw);
  w32(buf, off + 12, shift);
  off += 16;
  const bloomOff = off;
  const hashes = defs.map((id) => gnuHash(link.dynName.get(id) ?? syms.names[id]!));
  // Bloom filter words as 32-bit halves so no 64-bit integer arithmetic is needed.
  const setBit = (word: number, bit: number) => {
    const p = bloomOff + word * ptr + (bit >= 32 ? 4 : 0);
    const b = bit & 31;
    w32(buf, p, (readU32(buf, p) | (1 << b)) >>> 0);
  };
  for (const h of hashes) {
    const word = Math.floor(h / bits) % nw;
    setBit(word, h % bits);
    setBit(word, (h >>> shift) % bits);
  }
  off = bloomOff + nw * ptr;
  const bucketOff = off;
  const chainOff = bucketOff + nb * 4;
  for (let i = 0; i < defs.length; i++) {
    const b = hashes[i]! % nb;
    if (readU32(buf, bucketOff + b * 4) === 0) w32(buf, bucketOff + b * 4, first + i);
    const last = i + 1 === defs.length || hashes[i + 1]! % nb !== b;
    w32(buf, chainOff + i * 4, ((hashes[i]! & ~1) | (last ? 1 : 0)) >>> 0);
  }
}

function readU32(buf: Uint8Array, p: number): number {
  return (buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24)) >>> 0;
}

function writeSysvHash(link: ElfLink, o: OutputSection, buf: Uint8Array): void {
  const t = link.dynTables!;
  const syms = link.ctx.syms;
  const nb = t.sysvBuckets;
  const n = t.symbols.length + 1;
  const off = o.fileOffset;
  w32(buf, off, nb);
  w32(buf, off + 4, n);
  const buckets = off + 8;
  const chains = buckets + nb * 4;
  for (let i = 1; i < n; i++) {
    const id = t.symbols[i - 1]!;
    const h = sysvHash(link.dynName.get(id) ?? syms.names[id]!) % nb;
    // Prepend: chain[i] = old head, head = i.
    w32(buf, chains + i * 4, readU32(buf, buckets + h * 4));
    w32(buf, buckets + h * 4, i);
  }
}

function writeVerneed(
  t: DynamicTables,
  list: DynamicTables['needed'],
  o: OutputSection,
  buf: Uint8Array,
): void {
  let off = o.fileOffset;
  list.forEach((n, i) => {
    const size = C.ELF_VERNEED_SIZE + n.versions.length * C.ELF_VERNAUX_SIZE;
    w16(buf, off, 1); // vn_version
    w16(buf, off + 2, n.versions.length);
    w32(buf, off + 4, t.dynstr.add(n.soname));
    w32(buf, off + 8, C.ELF_VERNEED_SIZE); // vn_aux
    w32(buf, off + 12, i + 1 < list.length ? size : 0); // vn_next
    let a = off + C.ELF_VERNEED_SIZE;
    n.versions.forEach((v, j) => {
      w32(buf, a, sysvHash(v.name));
      w16(buf, a + 4, 0); // vna_flags
      w16(buf, a + 6, v.index);
      w32(buf, a + 8, t.dynstr.add(v.name));
      w32(buf, a + 12, j + 1 < n.versions.length ? C.ELF_VERNAUX_SIZE : 0);
      a += C.ELF_VERNAUX_SIZE;
    });
    off += size;
  });
}

function writeVerdef(t: DynamicTables, o: OutputSection, buf: Uint8Array): void {
  let off = o.fileOffset;
  t.verdefs.forEach((v, i) => {
    const names = [v.name, ...v.parents];
    const size = C.ELF_VERDEF_SIZE + names.length * C.ELF_VERDAUX_SIZE;
    w16(buf, off, C.VER_DEF_CURRENT);
    w16(buf, off + 2, i === 0 ? C.VER_FLG_BASE : 0);
    w16(buf, off + 4, i + 1); // vd_ndx
    w16(buf, off + 6, names.length);
    w32(buf, off + 8, sysvHash(v.name));
    w32(buf, off + 12, C.ELF_VERDEF_SIZE); // vd_aux
    w32(buf, off + 16, i + 1 < t.verdefs.length ? size : 0);
    let a = off + C.ELF_VERDEF_SIZE;
    names.forEach((n, j) => {
      w32(buf, a, t.dynstr.add(n));
      w32(buf, a + 4, j + 1 < names.length ? C.ELF_VERDAUX_SIZE : 0);
      a += C.ELF_VERDAUX_SIZE;
    });
    off += size;
  });
}

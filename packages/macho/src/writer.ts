import { createHash } from 'node:crypto';
import * as path from 'node:path';
import {
  LinkError,
  SymFlag,
  SymState,
  Visibility,
  alignTo,
  executableMode,
  w32,
  w64,
  writeFileAtomically,
} from '@link/core';
import {
  CPU_SUBTYPE_LIB64,
  CPU_SUBTYPE_X86_64_ALL,
  CPU_TYPE_X86_64,
  INDIRECT_SYMBOL_LOCAL,
  LC_BUILD_VERSION,
  LC_CODE_SIGNATURE,
  LC_DATA_IN_CODE,
  LC_DYLD_CHAINED_FIXUPS,
  LC_DYLD_EXPORTS_TRIE,
  LC_DYLD_INFO_ONLY,
  LC_DYSYMTAB,
  LC_FUNCTION_STARTS,
  LC_ID_DYLIB,
  LC_LOAD_DYLIB,
  LC_LOAD_DYLINKER,
  LC_MAIN,
  LC_REQ_DYLD,
  LC_SEGMENT_64,
  LC_SOURCE_VERSION,
  LC_SYMTAB,
  LC_UUID,
  BIND_SPECIAL_DYLIB_MAIN_EXECUTABLE,
  DYNAMIC_LOOKUP_ORDINAL,
  EXECUTABLE_ORDINAL,
  MH_DYLDLINK,
  MH_DYLIB,
  MH_EXECUTE,
  MH_NO_REEXPORTED_DYLIBS,
  MH_HAS_TLV_DESCRIPTORS,
  MH_MAGIC_64,
  MH_NOUNDEFS,
  MH_PIE,
  MH_TWOLEVEL,
  MH_WEAK_DEFINES,
  MH_BINDS_TO_WEAK,
  N_ABS,
  N_EXT,
  N_PEXT,
  N_SECT,
  N_STAB,
  N_WEAK_DEF,
  N_WEAK_REF,
  PAGE_SIZE,
  REFERENCED_DYNAMICALLY,
  SECTION_TYPE,
  S_ATTR_PURE_INSTRUCTIONS,
  S_THREAD_LOCAL_VARIABLES,
  TOOL_LD,
} from './constants.js';
import {
  ByteSink,
  encodeBinds,
  encodeExportTrie,
  encodeLazyBinds,
  encodeWeakBinds,
  encodeRebases,
  type BindEntry,
  type ExportEntry,
} from './dyld-info.js';
import {
  buildChainedFixups,
  encodeChains,
  type ChainedFixup,
  type ChainedImport,
} from './chained-fixups.js';
import { codeSignatureSize, writeCodeSignature } from './codesign.js';
import { FixupKind } from './relocations.js';
import { exportedSymbolMatcher, type MachoLink } from './link.js';
import type { MachoSection } from './layout.js';

const LC_RPATH = (0x1c | LC_REQ_DYLD) >>> 0;
const DYLD_PATH = '/usr/lib/dyld';
const TSLINK_VERSION = (0 << 16) | (1 << 8); // 0.1.0, as LC_BUILD_VERSION's tool version

/** A __LINKEDIT blob: its bytes and, after placement, its file offset. */
interface Blob {
  bytes: Uint8Array;
  off: number;
}

/** Everything `__LINKEDIT` holds, built after layout. */
export interface Linkedit {
  rebase: Blob;
  bind: Blob;
  lazyBind: Blob;
  weakBind: Blob;
  /** Some export is a weak definition (MH_WEAK_DEFINES). */
  exportsWeak: boolean;
  exports: Blob;
  chained: Blob | null;
  functionStarts: Blob;
  dataInCode: Blob;
  symtab: Blob;
  nsyms: number;
  nlocal: number;
  nextdef: number;
  nundef: number;
  indirect: Blob;
  nindirect: number;
  strtab: Blob;
  sigOff: number;
  sigSize: number;
  fileSize: number;
  chainedFixups: ChainedFixup[];
}

const pad8 = (n: number) => (n + 7) & ~7;

/**
 * Writes the load commands at `off` of `buf` (or only sizes them when `buf` is null: layout
 * needs their size before addresses exist). Returns `sizeofcmds`.
 */
function emitLoadCommands(
  l: MachoLink,
  buf: Uint8Array | null,
  off: number,
): { size: number; ncmds: number; uuidOff: number } {
  let p = off;
  let ncmds = 0;
  let uuidOff = 0;
  const le = buf === null ? null : l.linkedit;
  const cmd = (id: number, size: number, body?: (at: number) => void) => {
    if (buf) {
      w32(buf, p, id);
      w32(buf, p + 4, size);
      body?.(p);
    }
    p += size;
    ncmds++;
  };
  const str = (at: number, s: string) => {
    for (let i = 0; i < s.length; i++) buf![at + i] = s.charCodeAt(i);
  };
  for (const seg of l.segments) {
    cmd(LC_SEGMENT_64, 72 + 80 * seg.sections.length, (at) => {
      str(at + 8, seg.name);
      w64(buf!, at + 24, seg.vmaddr);
      w64(buf!, at + 32, seg.vmsize);
      w64(buf!, at + 40, seg.fileoff);
      w64(buf!, at + 48, seg.filesize);
      w32(buf!, at + 56, seg.maxprot);
      w32(buf!, at + 60, seg.initprot);
      w32(buf!, at + 64, seg.sections.length);
      w32(buf!, at + 68, 0);
      seg.sections.forEach((s: MachoSection, i) => {
        const q = at + 72 + i * 80;
        str(q, s.name);
        str(q + 16, s.segname);
        w64(buf!, q + 32, s.addr);
        w64(buf!, q + 40, s.size);
        w32(buf!, q + 48, s.noBits ? 0 : s.fileOffset);
        w32(buf!, q + 52, Math.log2(s.align));
        w32(buf!, q + 64, s.flags);
        w32(buf!, q + 68, s.reserved1);
        w32(buf!, q + 72, s.reserved2);
      });
    });
  }
  if (l.opts.fixupChains) {
    cmd(LC_DYLD_CHAINED_FIXUPS, 16, (at) => {
      w32(buf!, at + 8, le!.chained!.off);
      w32(buf!, at + 12, le!.chained!.bytes.length);
    });
    cmd(LC_DYLD_EXPORTS_TRIE, 16, (at) => {
      w32(buf!, at + 8, le!.exports.off);
      w32(buf!, at + 12, le!.exports.bytes.length);
    });
  } else {
    cmd(LC_DYLD_INFO_ONLY, 48, (at) => {
      const put = (q: number, b: Blob) => {
        w32(buf!, q, b.bytes.length ? b.off : 0);
        w32(buf!, q + 4, b.bytes.length);
      };
      put(at + 8, le!.rebase);
      put(at + 16, le!.bind);
      put(at + 24, le!.weakBind);
      put(at + 32, le!.lazyBind);
      put(at + 40, le!.exports);
    });
  }
  cmd(LC_SYMTAB, 24, (at) => {
    w32(buf!, at + 8, le!.symtab.off);
    w32(buf!, at + 12, le!.nsyms);
    w32(buf!, at + 16, le!.strtab.off);
    w32(buf!, at + 20, le!.strtab.bytes.length);
  });
  cmd(LC_DYSYMTAB, 80, (at) => {
    w32(buf!, at + 8, 0);
    w32(buf!, at + 12, le!.nlocal);
    w32(buf!, at + 16, le!.nlocal);
    w32(buf!, at + 20, le!.nextdef);
    w32(buf!, at + 24, le!.nlocal + le!.nextdef);
    w32(buf!, at + 28, le!.nundef);
    w32(buf!, at + 56, le!.nindirect ? le!.indirect.off : 0);
    w32(buf!, at + 60, le!.nindirect);
  });
  const dylibCmd = (id: number, name: string, current: number, compat: number) =>
    cmd(id, pad8(24 + name.length + 1), (at) => {
      w32(buf!, at + 8, 24);
      w32(buf!, at + 12, 0); // timestamp
      w32(buf!, at + 16, current);
      w32(buf!, at + 20, compat);
      str(at + 24, name);
    });
  // Only the main executable names the dynamic linker; a dylib names itself.
  if (l.isExecutable)
    cmd(LC_LOAD_DYLINKER, pad8(12 + DYLD_PATH.length + 1), (at) => {
      w32(buf!, at + 8, 12);
      str(at + 12, DYLD_PATH);
    });
  if (l.opts.outputType === MH_DYLIB)
    dylibCmd(LC_ID_DYLIB, installNameOf(l), l.opts.currentVersion, l.opts.compatVersion);
  cmd(LC_UUID, 24, (at) => (uuidOff = at + 8));
  cmd(LC_BUILD_VERSION, 32, (at) => {
    w32(buf!, at + 8, l.opts.platform);
    w32(buf!, at + 12, l.opts.minos);
    w32(buf!, at + 16, l.opts.sdk);
    w32(buf!, at + 20, 1);
    w32(buf!, at + 24, TOOL_LD);
    w32(buf!, at + 28, TSLINK_VERSION);
  });
  cmd(LC_SOURCE_VERSION, 16);
  if (l.isExecutable)
    cmd(LC_MAIN, 24, (at) => w64(buf!, at + 8, l.symAddr(l.entrySym, 0) - l.imageBase));
  for (const d of l.dylibs)
    dylibCmd(LC_LOAD_DYLIB, d.installName, d.currentVersion, d.compatVersion);
  for (const r of l.opts.rpaths) {
    cmd(LC_RPATH, pad8(12 + r.length + 1), (at) => {
      w32(buf!, at + 8, 12);
      str(at + 12, r);
    });
  }
  cmd(LC_FUNCTION_STARTS, 16, (at) => {
    w32(buf!, at + 8, le!.functionStarts.off);
    w32(buf!, at + 12, le!.functionStarts.bytes.length);
  });
  cmd(LC_DATA_IN_CODE, 16, (at) => {
    w32(buf!, at + 8, le!.dataInCode.off);
    w32(buf!, at + 12, le!.dataInCode.bytes.length);
  });
  if (l.opts.adhocSign) {
    cmd(LC_CODE_SIGNATURE, 16, (at) => {
      w32(buf!, at + 8, le!.sigOff);
      w32(buf!, at + 12, le!.sigSize);
    });
  }
  return { size: p - off, ncmds, uuidOff };
}

/** A dylib's install name: `-install_name`, else (as ld64) the output path. */
function installNameOf(l: MachoLink): string {
  return l.opts.installName ?? l.ctx.config.output;
}

export function loadCommandsSize(l: MachoLink): number {
  return emitLoadCommands(l, null, 0).size;
}

function segmentOf(l: MachoLink, addr: number): [number, number] {
  for (let i = 0; i < l.segments.length; i++) {
    const s = l.segments[i]!;
    if (s.vmsize > 0 && addr >= s.vmaddr && addr < s.vmaddr + s.vmsize && s.name !== '__PAGEZERO')
      return [i, addr - s.vmaddr];
  }
  throw new Error(`internal: address 0x${addr.toString(16)} is in no segment`);
}

/**
 * `LC_DATA_IN_CODE`: the inputs' entries (jump tables clang puts in __text), moved to where
 * their atoms landed, as offsets from the Mach header; entries of dead atoms are dropped.
 */
function collectDataInCode(l: MachoLink): Uint8Array {
  const rows: [number, number, number][] = [];
  for (const o of l.objects) {
    const d = o.dataInCode;
    for (let k = 0; k < d.length; k += 3) {
      const objAddr = d[k]!;
      for (let si = 0; si < o.sects.length; si++) {
        const s = o.sects[si]!;
        if (objAddr < s.addr || objAddr >= s.addr + s.size) continue;
        const starts = o.atomStarts[si]!;
        let a = starts.length - 1;
        while (a > 0 && starts[a]! > objAddr - s.addr) a--;
        const id = o.atomIds[si]![a];
        const atom = id === undefined ? null : l.ctx.sections[id]!;
        if (atom && atom.isAlive && atom.osec)
          rows.push([
            atom.addrOf(objAddr - s.addr - starts[a]!) - l.imageBase,
            d[k + 1]!,
            d[k + 2]!,
          ]);
        break;
      }
    }
  }
  rows.sort((x, y) => x[0] - y[0]);
  const out = new ByteSink();
  for (const [off, len, kind] of rows) {
    out.u32(off);
    out.byte(len & 0xff);
    out.byte(len >> 8);
    out.byte(kind & 0xff);
    out.byte(kind >> 8);
  }
  return out.bytes();
}

function isTempName(n: string): boolean {
  return n.length === 0 || n.startsWith('L') || n.startsWith('l');
}

/** Builds rebase/bind/export streams, the symbol tables and the signature's place. */
export function buildLinkedit(l: MachoLink): void {
  const ctx = l.ctx;
  const s = ctx.syms;
  const sy = l.synth;
  const secs = ctx.sections;
  // --- Symbol table: locals, defined externals (sorted), undefined imports (sorted).
  const locals: number[][] = []; // [nameOff placeholder, type, sect, desc, value]
  const localNames: string[] = [];
  const outSect = (sym: number): number =>
    s.section[sym]! >= 0 ? (secs[s.section[sym]!]!.osec as MachoSection).ordinal : 0;
  for (const o of l.objects) {
    for (let i = 0; i < o.symIds.length; i++) {
      const id = o.symIds[i]!;
      if (id < 0 || o.nType[i]! & N_STAB) continue;
      const name = o.names[i]!;
      const local = s.isLocal(id);
      const hiddenHere =
        !local &&
        s.visibility[id] === Visibility.Hidden &&
        s.file[id] === o.id &&
        s.fileSymIdx[id] === i;
      if (!local && !hiddenHere) continue;
      if (isTempName(name)) continue;
      const sec = s.section[id]!;
      if (sec >= 0 && !secs[sec]!.isAlive) continue;
      const abs = sec < 0;
      locals.push([
        abs ? N_ABS : N_SECT | (hiddenHere ? N_PEXT : 0),
        abs ? 0 : outSect(id),
        o.nDesc[i]! & ~N_WEAK_DEF,
        l.symAddr(id, 0),
      ]);
      localNames.push(name);
    }
  }
  if (l.dyldPrivate) {
    locals.push([N_SECT, (l.dyldPrivate.osec as MachoSection).ordinal, 0, l.dyldPrivate.addrOf(0)]);
    localNames.push('__dyld_private');
  }
  const exported = exportedSymbolMatcher(l.opts.exportedSymbols);
  const extdefs: number[] = [];
  for (const id of s.globalIds()) {
    if (s.state[id] !== SymState.Defined || s.visibility[id] === Visibility.Hidden) continue;
    const sec = s.section[id]!;
    if (sec >= 0 && !secs[sec]!.isAlive) continue;
    if (s.flags[id]! & SymFlag.Synthetic && id !== l.mhHeaderSym) continue;
    extdefs.push(id);
  }
  const byName = (a: number, b: number) =>
    s.names[a]! < s.names[b]! ? -1 : s.names[a]! > s.names[b]! ? 1 : 0;
  extdefs.sort(byName);
  const undefs = [...l.usedImports].sort((a, b) => {
    const x = l.importName(a);
    const y = l.importName(b);
    return x < y ? -1 : x > y ? 1 : 0;
  });
  const str = new ByteSink();
  str.byte(0x20); // ld64 starts the string table with " \0": offset 0 stays the empty name
  str.byte(0);
  const sym = new ByteSink();
  const nlist = (strx: number, type: number, sect: number, desc: number, value: number) => {
    sym.u32(strx);
    sym.byte(type);
    sym.byte(sect);
    sym.byte(desc & 0xff);
    sym.byte(desc >> 8);
    sym.u32(value >>> 0);
    sym.u32(Math.floor(value / 0x100000000));
  };
  const name = (n: string) => {
    const off = str.length;
    str.cstr(n);
    return off;
  };
  locals.forEach((e, i) => nlist(name(localNames[i]!), e[0]!, e[1]!, e[2]!, e[3]!));
  let idx = locals.length;
  for (const id of extdefs) {
    s.outIdx[id] = idx++;
    if (id === l.mhHeaderSym)
      nlist(name(s.names[id]!), N_SECT | N_EXT, 1, REFERENCED_DYNAMICALLY, l.imageBase);
    else {
      const abs = s.section[id]! < 0;
      const desc = s.flags[id]! & SymFlag.Weak ? N_WEAK_DEF : 0;
      nlist(
        name(s.names[id]!),
        (abs ? N_ABS : N_SECT) | N_EXT,
        abs ? 0 : outSect(id),
        desc,
        l.symAddr(id, 0),
      );
    }
  }
  for (const id of undefs) {
    s.outIdx[id] = idx++;
    const ord = l.ordinalOf(id);
    const weak =
      s.flags[id]! & SymFlag.RefWeak && !(s.flags[id]! & SymFlag.RefStrong) ? N_WEAK_REF : 0;
    const libOrd =
      ord === BIND_SPECIAL_DYLIB_MAIN_EXECUTABLE
        ? EXECUTABLE_ORDINAL
        : ord < 0
          ? DYNAMIC_LOOKUP_ORDINAL
          : ord;
    nlist(name(l.importName(id)), N_EXT, 0, (libOrd << 8) | weak, 0);
  }
  str.align(8);

  // --- Indirect symbol table: __got, then __stubs, then __la_symbol_ptr (as ld64 orders them).
  const ind = new ByteSink();
  sy.got.reserved1 = 0;
  for (const id of l.gotSyms) ind.u32(l.isImportSym(id) ? s.outIdx[id]! : INDIRECT_SYMBOL_LOCAL);
  sy.stubs.reserved1 = l.gotSyms.length;
  for (const id of l.stubSyms) ind.u32(s.outIdx[id]!);
  sy.laPtr.reserved1 = l.gotSyms.length + l.stubSyms.length;
  if (sy.laPtr.size > 0) for (const id of l.stubSyms) ind.u32(s.outIdx[id]!);
  sy.tlvPtrs.reserved1 = ind.length / 4;
  for (const id of l.tlvPtrSyms) ind.u32(l.isImportSym(id) ? s.outIdx[id]! : INDIRECT_SYMBOL_LOCAL);
  const nindirect = ind.length / 4;
  ind.align(8);

  // --- Fixups: every pointer the loader must slide or bind.
  const fAddr: number[] = [];
  const fKind: number[] = [];
  const fSym: number[] = [];
  const fAdd: number[] = [];
  const add = (addr: number, kind: FixupKind, id: number, addend: number) => {
    fAddr.push(addr);
    fKind.push(kind);
    fSym.push(id);
    fAdd.push(addend);
  };
  for (let i = 0; i < l.fxSec.length; i++)
    add(secs[l.fxSec[i]!]!.addrOf(l.fxOff[i]!), l.fxKind[i]!, l.fxSym[i]!, l.fxAddend[i]!);
  // An undefined weak reference's slot stays 0: no rebase would leave it null at any slide.
  const resolved = (id: number) => l.isImportSym(id) || s.state[id] !== SymState.Undefined;
  l.gotSyms.forEach((id, i) => {
    if (resolved(id))
      add(sy.got.addr + i * 8, l.isImportSym(id) ? FixupKind.Bind : FixupKind.Rebase, id, 0);
  });
  if (sy.laPtr.size > 0)
    l.stubSyms.forEach((id, i) => add(sy.laPtr.addr + i * 8, FixupKind.Rebase, id, 0));
  l.tlvPtrSyms.forEach((id, i) => {
    if (resolved(id))
      add(sy.tlvPtrs.addr + i * 8, l.isImportSym(id) ? FixupKind.Bind : FixupKind.Rebase, id, 0);
  });
  const order = fAddr.map((_, i) => i).sort((a, b) => fAddr[a]! - fAddr[b]!);
  for (let k = 1; k < order.length; k++)
    if (fAddr[order[k]!] === fAddr[order[k - 1]!])
      throw new LinkError(`two fixups at address 0x${fAddr[order[k]!]!.toString(16)}`);

  const empty = (): Blob => ({ bytes: new Uint8Array(0), off: 0 });
  let rebase = empty();
  let bind = empty();
  let lazyBind = empty();
  let weakBind = empty();
  let chained: Blob | null = null;
  const chainedFixups: ChainedFixup[] = [];
  if (l.opts.fixupChains) {
    const imports: ChainedImport[] = [];
    const importIdx = new Map<number, number>();
    for (const i of order) {
      let im = -1;
      if (fKind[i] === FixupKind.Bind) {
        const id = fSym[i]!;
        im = importIdx.get(id) ?? -1;
        if (im < 0) {
          im = imports.length;
          importIdx.set(id, im);
          const weak =
            (s.flags[id]! & SymFlag.RefWeak) !== 0 && !(s.flags[id]! & SymFlag.RefStrong);
          imports.push({ ordinal: l.ordinalOf(id), name: l.importName(id), weak });
        }
      }
      chainedFixups.push({ addr: fAddr[i]!, import: im, addend: fAdd[i]! });
    }
    const segs = l.segments.map((g) => ({
      vmaddr: g.name === '__PAGEZERO' || g.name === '__LINKEDIT' ? 0 : g.vmaddr,
      vmsize: g.name === '__PAGEZERO' || g.name === '__LINKEDIT' ? 0 : g.vmsize,
    }));
    chained = { bytes: buildChainedFixups(segs, chainedFixups, imports, l.imageBase), off: 0 };
  } else {
    const rb = order.filter((i) => fKind[i] === FixupKind.Rebase);
    const segCol = new Int32Array(rb.length);
    const offCol = new Float64Array(rb.length);
    rb.forEach((i, k) => {
      const [sg, o] = segmentOf(l, fAddr[i]!);
      segCol[k] = sg;
      offCol[k] = o;
    });
    rebase = { bytes: encodeRebases(segCol, offCol, rb.length), off: 0 };
    const binds: BindEntry[] = order
      .filter((i) => fKind[i] === FixupKind.Bind)
      .map((i) => {
        const [sg, o] = segmentOf(l, fAddr[i]!);
        const id = fSym[i]!;
        const weak = s.flags[id]! & SymFlag.RefWeak && !(s.flags[id]! & SymFlag.RefStrong) ? 1 : 0;
        return {
          seg: sg,
          off: o,
          ordinal: l.ordinalOf(id),
          name: l.importName(id),
          addend: fAdd[i]!,
          flags: weak,
        };
      });
    bind = { bytes: encodeBinds(binds), off: 0 };
    // Pointers to weak definitions this image exports: dyld may coalesce them with another
    // image's definition, so they are listed (by name, then address) besides their rebase.
    const isWeakDef = (id: number) =>
      !s.isLocal(id) &&
      (s.flags[id]! & SymFlag.Weak) !== 0 &&
      s.state[id] === SymState.Defined &&
      s.visibility[id] !== Visibility.Hidden;
    const weak: BindEntry[] = rb
      .filter((i) => isWeakDef(fSym[i]!))
      .map((i) => {
        const [sg, o] = segmentOf(l, fAddr[i]!);
        return {
          seg: sg,
          off: o,
          ordinal: 0,
          name: s.names[fSym[i]!]!,
          addend: fAdd[i]!,
          flags: 0,
        };
      })
      .sort((a, b) =>
        a.name < b.name ? -1 : a.name > b.name ? 1 : a.seg - b.seg || a.off - b.off,
      );
    weakBind = { bytes: encodeWeakBinds(weak), off: 0 };
    if (sy.laPtr.size > 0) {
      const lazy: BindEntry[] = l.stubSyms.map((id, i) => {
        const [sg, o] = segmentOf(l, sy.laPtr.addr + i * 8);
        return {
          seg: sg,
          off: o,
          ordinal: l.ordinalOf(id),
          name: l.importName(id),
          addend: 0,
          flags: 0,
        };
      });
      const lz = encodeLazyBinds(lazy);
      sy.lazyOffsets = lz.offsets;
      lazyBind = { bytes: lz.bytes, off: 0 };
    }
  }

  // --- Export trie.
  const exps: ExportEntry[] = [];
  for (const id of extdefs) {
    const renamed = l.exportNames.get(id);
    if (exported && id !== l.mhHeaderSym && !exported(s.names[id]!) && renamed === undefined)
      continue;
    const sec = s.section[id]!;
    const tlv = sec >= 0 && (secs[sec]!.flags & SECTION_TYPE) === S_THREAD_LOCAL_VARIABLES;
    const flags = (tlv ? 1 : 0) | (s.flags[id]! & SymFlag.Weak ? 4 : 0);
    const addr = id === l.mhHeaderSym ? l.imageBase : l.symAddr(id, 0);
    exps.push({ name: renamed ?? s.names[id]!, flags, address: addr - l.imageBase });
  }
  const exportsBlob: Blob = { bytes: encodeExportTrie(exps), off: 0 };
  const exportsWeak = exps.some((e) => (e.flags & 4) !== 0); // EXPORT_SYMBOL_FLAGS_WEAK_DEFINITION

  // --- Function starts: every code symbol's address, as ULEB deltas from __TEXT.
  const starts = new Set<number>();
  for (const o of l.objects) {
    for (let i = 0; i < o.symIds.length; i++) {
      const id = o.symIds[i]!;
      if (id < 0 || o.nType[i]! & N_STAB || s.file[id] !== o.id) continue;
      const sec = s.section[id]!;
      if (sec < 0 || !secs[sec]!.isAlive || !(secs[sec]!.flags & S_ATTR_PURE_INSTRUCTIONS))
        continue;
      starts.add(l.symAddr(id, 0));
    }
  }
  const fs = new ByteSink();
  let prev = l.imageBase;
  for (const a of [...starts].sort((x, y) => x - y)) {
    fs.uleb(a - prev);
    prev = a;
  }
  if (starts.size > 0) fs.byte(0);
  fs.align(8);

  // --- Place the blobs in __LINKEDIT.
  const leSeg = l.segments[l.segments.length - 1]!;
  let off = leSeg.fileoff;
  const place = (b: Blob) => {
    b.off = off;
    off += b.bytes.length;
  };
  const functionStarts: Blob = { bytes: fs.bytes(), off: 0 };
  const dataInCode: Blob = { bytes: collectDataInCode(l), off: 0 };
  const symtab: Blob = { bytes: sym.bytes(), off: 0 };
  const indirect: Blob = { bytes: ind.bytes(), off: 0 };
  const strtab: Blob = { bytes: str.bytes(), off: 0 };
  if (chained) place(chained);
  else {
    place(rebase);
    place(bind);
    place(weakBind);
    place(lazyBind);
  }
  place(exportsBlob);
  place(functionStarts);
  place(dataInCode);
  place(symtab);
  place(indirect);
  place(strtab);
  let sigOff = 0;
  let sigSize = 0;
  if (l.opts.adhocSign) {
    off = alignTo(off, 16);
    sigOff = off;
    sigSize = codeSignatureSize(sigOff, path.basename(ctx.config.output));
    off += sigSize;
  }
  leSeg.filesize = off - leSeg.fileoff;
  leSeg.vmsize = alignTo(leSeg.filesize, PAGE_SIZE);
  l.linkedit = {
    rebase,
    bind,
    lazyBind,
    weakBind,
    exportsWeak,
    exports: exportsBlob,
    chained,
    functionStarts,
    dataInCode,
    symtab,
    nsyms: idx,
    nlocal: locals.length,
    nextdef: extdefs.length,
    nundef: undefs.length,
    indirect,
    nindirect,
    strtab,
    sigOff,
    sigSize,
    fileSize: off,
    chainedFixups,
  };
}

/** Writes the whole file into one buffer, derives LC_UUID from it, signs it, and commits it. */
export function writeOutput(l: MachoLink): void {
  const le = l.linkedit;
  const buf = new Uint8Array(le.fileSize);
  const type = l.opts.outputType;
  // As ld64.lld: MH_NOUNDEFS and MH_TWOLEVEL together mark a two-level image; a flat one
  // (-flat_namespace; <mach-o/loader.h> has no flag for it) has neither.
  let flags = MH_DYLDLINK;
  if (!l.opts.flatNamespace) flags |= MH_NOUNDEFS | MH_TWOLEVEL;
  if (type === MH_EXECUTE) flags |= MH_PIE;
  if (type === MH_DYLIB) flags |= MH_NO_REEXPORTED_DYLIBS; // LC_REEXPORT_DYLIB is never written
  if (l.hasTlv) flags |= MH_HAS_TLV_DESCRIPTORS;
  if (le.exportsWeak) flags |= MH_WEAK_DEFINES;
  if (le.weakBind.bytes.length > 0) flags |= MH_BINDS_TO_WEAK;
  const lc = emitLoadCommands(l, buf, 32);
  w32(buf, 0, MH_MAGIC_64);
  w32(buf, 4, CPU_TYPE_X86_64);
  // CPU_SUBTYPE_LIB64 marks a 64-bit main executable only (dylibs and bundles leave it clear).
  const sub = CPU_SUBTYPE_X86_64_ALL | (type === MH_EXECUTE ? CPU_SUBTYPE_LIB64 : 0);
  w32(buf, 8, sub >>> 0);
  w32(buf, 12, type);
  w32(buf, 16, lc.ncmds);
  w32(buf, 20, lc.size);
  w32(buf, 24, flags);
  for (const s of l.sections) {
    if (s.noBits) continue;
    s.writeTo(buf);
  }
  for (const b of [
    le.rebase,
    le.bind,
    le.lazyBind,
    le.weakBind,
    le.exports,
    le.functionStarts,
    le.dataInCode,
    le.symtab,
    le.indirect,
    le.strtab,
  ])
    buf.set(b.bytes, b.off);
  if (le.chained) {
    buf.set(le.chained.bytes, le.chained.off);
    const fileOffsetOf = (addr: number) => {
      for (const s of l.segments)
        if (s.filesize > 0 && addr >= s.vmaddr && addr < s.vmaddr + s.filesize)
          return s.fileoff + (addr - s.vmaddr);
      throw new LinkError(`chained fixup at 0x${addr.toString(16)} lies in zero-fill memory`);
    };
    encodeChains(buf, le.chainedFixups, fileOffsetOf, l.imageBase);
  }
  // LC_UUID: a hash of the content (everything before the signature, UUID still zero), so the
  // same inputs give the same UUID and different outputs differ.
  const end = le.sigOff > 0 ? le.sigOff : buf.length;
  const h = createHash('sha256').update(buf.subarray(0, end)).digest();
  const uuid = h.subarray(0, 16);
  uuid[6] = (uuid[6]! & 0x0f) | 0x40; // RFC 4122 version 4 layout, as tools expect
  uuid[8] = (uuid[8]! & 0x3f) | 0x80;
  buf.set(uuid, lc.uuidOff);
  if (l.opts.adhocSign) {
    const text = l.segments.find((s) => s.name === '__TEXT')!;
    writeCodeSignature(
      buf,
      le.sigOff,
      path.basename(l.ctx.config.output),
      text.fileoff,
      text.filesize,
      type === MH_EXECUTE,
    );
  }
  l.output = buf;
  writeFileAtomically(l.ctx.config.output, buf, executableMode());
}

import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  Context,
  InputFile,
  addLazySymbol,
  drainExtractQueue,
  isArchive,
  memberBytes,
  memberDisplayName,
  parseArchive,
  InputSection,
  LinkError,
  SymFlag,
  SymState,
  SymType,
  Visibility,
  defineShared,
  duplicates,
  gcSections,
  makeTarget,
  runPasses,
  u32,
  type Pass,
  type SymId,
  compileGlob,
  hasWildcard,
  unescapeGlob,
} from '@link/core';
import {
  BIND_SPECIAL_DYLIB_FLAT_LOOKUP,
  BIND_SPECIAL_DYLIB_MAIN_EXECUTABLE,
  DEFAULT_IMAGE_BASE,
  MH_BUNDLE,
  MH_DYLIB,
  MH_EXECUTE,
  MH_MAGIC,
  MH_MAGIC_64,
  N_NO_DEAD_STRIP,
  PLATFORM_MACOS,
  SECTION_TYPE,
  S_ATTR_NO_DEAD_STRIP,
  S_MOD_INIT_FUNC_POINTERS,
  S_ZEROFILL,
} from './constants.js';
import { MachoObjectFile, readObject } from './reader.js';
import { parseTbd, type DylibInterface } from './tbd.js';
import { readDylib } from './dylib.js';
import { FixupKind, scanSection } from './relocations.js';
import { createOutputSections, type MachoSection, type MachoSegment } from './layout.js';
import { layout } from './layout.js';
import { createSynthetics, type Synthetics } from './stubs.js';
import { buildLinkedit, writeOutput, type Linkedit } from './writer.js';
import { COMPACT_UNWIND, collectUnwind, type UnwindEntries } from './unwind.js';

/** The ld64 options that shape a Mach-O link (the CLI fills them from `-arch`, `-platform_version` …). */
export interface MachoOptions {
  /** LC_BUILD_VERSION: platform (PLATFORM_MACOS) and packed versions. */
  platform: number;
  minos: number;
  sdk: number;
  /** `-fixup_chains`: LC_DYLD_CHAINED_FIXUPS instead of LC_DYLD_INFO_ONLY opcode streams. */
  fixupChains: boolean;
  /** `-dead_strip`: drop atoms nothing reaches. */
  deadStrip: boolean;
  /** `-e`: entry symbol (LC_MAIN). */
  entry: string;
  /** `-headerpad`: bytes left free after the load commands. */
  headerpad: number;
  /** `-undefined dynamic_lookup`: undefined symbols become flat-namespace imports. */
  dynamicLookup: boolean;
  /** `-syslibroot` directories, searched for `-l` before the plain paths. */
  syslibroots: string[];
  /** `-adhoc_codesign` / `-no_adhoc_codesign`. */
  adhocSign: boolean;
  /** `-exported_symbol(s_list)`: when set, only these are in the export trie. */
  exportedSymbols: string[] | null;
  rpaths: string[];
  /** `-flat_namespace`: binds use flat lookup. */
  flatNamespace: boolean;
  /** MH_EXECUTE (the default), MH_DYLIB (`-dylib`) or MH_BUNDLE (`-bundle`). */
  outputType: number;
  /** `-install_name` for LC_ID_DYLIB (ld64's default: the output path). */
  installName: string | null;
  /** `-current_version` / `-compatibility_version`, packed as in `dylib_command`. */
  currentVersion: number;
  compatVersion: number;
  /** `-bundle_loader`: the executable a bundle's undefined symbols may bind to. */
  bundleLoader: string | null;
}

/**
 * A hook into a Mach-O link for build modes that add content (`--buildmode=plugin`): it runs
 * after symbol resolution, before dead stripping and the relocation scan, so atoms it adds
 * (with relocations) get GOT slots, stubs, rebases and binds like any input atom.
 */
export interface MachoExtension {
  name: string;
  /**
   * After every input (command line, `LC_LINKER_OPTION` libraries, archive members) is read,
   * before symbol resolution is checked: the place to add dylibs and imports (`addDylib`).
   */
  afterReadInputs?(l: MachoLink): void;
  afterResolve?(l: MachoLink): void;
}

export function defaultMachoOptions(): MachoOptions {
  return {
    platform: PLATFORM_MACOS,
    minos: 11 << 16,
    sdk: 11 << 16,
    fixupChains: false,
    deadStrip: false,
    entry: '_main',
    headerpad: 32,
    dynamicLookup: false,
    syslibroots: [],
    adhocSign: true,
    exportedSymbols: null,
    rpaths: [],
    flatNamespace: false,
    outputType: MH_EXECUTE,
    installName: null,
    currentVersion: 0,
    compatVersion: 0,
    bundleLoader: null,
  };
}

/** A dylib the output loads: from a .tbd stub or a binary dylib's LC_ID_DYLIB. */
export interface Dylib extends DylibInterface {
  file: InputFile;
  /** 1-based LC_LOAD_DYLIB ordinal. */
  ordinal: number;
}

/**
 * The state of one Mach-O link: the core context plus what only Mach-O knows. Passes are plain
 * functions of it, listed in `machoPasses` in the order they run.
 */
export class MachoLink {
  readonly objects: MachoObjectFile[] = [];
  readonly dylibs: Dylib[] = [];
  readonly dylibByFile = new Map<number, Dylib>();
  readonly internalFile: InputFile;
  /** Symbols resolved by dyld's flat lookup (`-undefined dynamic_lookup`). */
  readonly dynamicLookup = new Set<SymId>();
  /** Executables start after the 4 GiB __PAGEZERO; dylibs and bundles at 0 (always slid). */
  readonly imageBase: number;
  /** The `-bundle_loader` executable, as an input file whose exports bind to ordinal -1. */
  bundleLoaderFile: InputFile | null = null;
  /** Atoms an extension pins to the head or tail of their output section (in pin order). */
  readonly pinnedHead: InputSection[] = [];
  readonly pinnedTail: InputSection[] = [];
  readonly undefRefs = new Map<SymId, string[]>();
  /**
   * Imports dyld looks up under another name than the link's (`cgo_import_dynamic local
   * remote`): symbol → the name in binds and the undefined part of the symbol table.
   */
  readonly importNames = new Map<SymId, string>();
  /**
   * Definitions exported under another name (`cgo_export_dynamic local remote`): symbol → the
   * export trie's name. They are exported even when `-exported_symbol(s_list)` leaves them out.
   */
  readonly exportNames = new Map<SymId, string>();
  /** GOT entries and stubs in assignment order (indices live in `syms.gotIdx` / `pltIdx`). */
  readonly gotSyms: SymId[] = [];
  readonly stubSyms: SymId[] = [];
  /** Imports the output names (bind, stub or GOT): the undefined part of the symbol table. */
  readonly usedImports = new Set<SymId>();
  /** Pointer fixups inside input atoms, as columns: atom id, offset, kind, symbol, addend. */
  readonly fxSec: number[] = [];
  readonly fxOff: number[] = [];
  readonly fxKind: number[] = [];
  readonly fxSym: number[] = [];
  readonly fxAddend: number[] = [];
  sections: MachoSection[] = [];
  segments: MachoSegment[] = [];
  synth!: Synthetics;
  linkedit!: Linkedit;
  /** TLS template start (first of __thread_data / __thread_bss), after layout. */
  tlsStart = 0;
  hasTlv = false;
  entrySym: SymId = -1;
  mhHeaderSym: SymId = -1;
  dyldPrivate: InputSection | null = null;
  output: Uint8Array | null = null;
  unwind!: UnwindEntries;

  constructor(
    readonly ctx: Context,
    readonly opts: MachoOptions,
    readonly extensions: readonly MachoExtension[] = [],
  ) {
    ctx.target = makeTarget(ctx.config, 8);
    this.imageBase = opts.outputType === MH_EXECUTE ? DEFAULT_IMAGE_BASE : 0;
    this.internalFile = new InputFile(
      -1,
      '<internal>',
      '<internal>',
      'internal',
      new Uint8Array(0),
    );
    ctx.localNameResolver = (id) => {
      const f = ctx.syms.file[id]!;
      const file = f >= 0 ? ctx.files[f] : undefined;
      if (file instanceof MachoObjectFile) return file.names[ctx.syms.fileSymIdx[id]!] ?? '';
      return `<local ${id}>`;
    };
  }

  undefinedRef(sym: SymId, where: string): void {
    let refs = this.undefRefs.get(sym);
    if (!refs) this.undefRefs.set(sym, (refs = []));
    if (refs.length < 3) refs.push(where);
  }

  addFixup(sec: InputSection, off: number, kind: FixupKind, sym: SymId, addend: number): void {
    this.fxSec.push(sec.id);
    this.fxOff.push(off);
    this.fxKind.push(kind);
    this.fxSym.push(sym);
    this.fxAddend.push(addend);
    if (kind === FixupKind.Bind) this.usedImports.add(sym);
  }

  needGot(sym: SymId): void {
    const s = this.ctx.syms;
    if (s.gotIdx[sym]! >= 0) return;
    s.gotIdx[sym] = this.gotSyms.length;
    this.gotSyms.push(sym);
    if (this.isImportSym(sym)) this.usedImports.add(sym);
  }

  /** `__thread_ptrs` slots (TLV descriptors reached indirectly), in assignment order. */
  readonly tlvPtrSyms: SymId[] = [];
  readonly tlvPtrIdx = new Map<SymId, number>();

  needTlvPtr(sym: SymId): void {
    if (this.tlvPtrIdx.has(sym)) return;
    this.tlvPtrIdx.set(sym, this.tlvPtrSyms.length);
    this.tlvPtrSyms.push(sym);
    if (this.isImportSym(sym)) this.usedImports.add(sym);
  }

  tlvPtrAddr(sym: SymId): number {
    return this.synth.tlvPtrs.addr + this.tlvPtrIdx.get(sym)! * 8;
  }

  needStub(sym: SymId): void {
    const s = this.ctx.syms;
    if (s.pltIdx[sym]! >= 0) return;
    s.pltIdx[sym] = this.stubSyms.length;
    this.stubSyms.push(sym);
    this.usedImports.add(sym);
    // With chained fixups there is no lazy binding: stubs jump through the GOT.
    if (this.opts.fixupChains) this.needGot(sym);
  }

  isImportSym(sym: SymId): boolean {
    const st = this.ctx.syms.state[sym]!;
    return st === SymState.Shared || (st === SymState.Undefined && this.dynamicLookup.has(sym));
  }

  /** Address of `sym` + `addend` (merged sections map the sum, not just the symbol). */
  symAddr(sym: SymId, addend: number): number {
    const s = this.ctx.syms;
    const sec = s.section[sym]!;
    if (sec >= 0) return this.ctx.sections[sec]!.addrOf(s.value[sym]! + addend);
    if (s.flags[sym]! & SymFlag.Absolute) return s.value[sym]! + addend;
    return addend; // undefined weak or import (bound by dyld)
  }

  gotAddr(sym: SymId): number {
    return this.synth.got.addr + this.ctx.syms.gotIdx[sym]! * 8;
  }

  stubAddr(sym: SymId): number {
    return this.synth.stubs.addr + this.ctx.syms.pltIdx[sym]! * 6;
  }

  get isExecutable(): boolean {
    return this.opts.outputType === MH_EXECUTE;
  }

  /**
   * A new atom of this link (not from any input), e.g. an extension's table or code. `name` is
   * `segment,section` as in objects; it is grouped into output sections like input atoms.
   */
  addAtom(
    name: string,
    flags: number,
    align: number,
    contents: Uint8Array,
    size = -1,
  ): InputSection {
    const ctx = this.ctx;
    const sec = new InputSection(
      ctx.sections.length,
      this.internalFile,
      0,
      name,
      flags & 0xff,
      flags,
      align,
      size >= 0 ? size : contents.length,
      -1,
    );
    sec.ownContents = contents;
    ctx.sections.push(sec);
    return sec;
  }

  /** The name dyld binds an import by. */
  importName(sym: SymId): string {
    return this.importNames.get(sym) ?? this.ctx.syms.names[sym]!;
  }

  /** Dylib ordinal of an import for binds (special values for flat lookup and the loader). */
  ordinalOf(sym: SymId): number {
    if (this.opts.flatNamespace || this.dynamicLookup.has(sym))
      return BIND_SPECIAL_DYLIB_FLAT_LOOKUP;
    const f = this.ctx.syms.file[sym]!;
    if (this.bundleLoaderFile && f === this.bundleLoaderFile.id)
      return BIND_SPECIAL_DYLIB_MAIN_EXECUTABLE;
    const d = this.dylibByFile.get(f);
    return d ? d.ordinal : BIND_SPECIAL_DYLIB_FLAT_LOOKUP;
  }
}

type MachoCtx = Context & { macho: MachoLink };
function pass(name: string, run: (l: MachoLink) => void, checkpoint = false): Pass<MachoCtx> {
  return { name, run: (c) => run(c.macho), checkpoint };
}

/**
 * ld64's `-l` search: each `-L` directory (under each `-syslibroot` first, as ld64 does), then
 * the default `/usr/lib` under each syslibroot; in each directory `.tbd`, `.dylib`, then `.a`.
 */
function findLibrary(l: MachoLink, name: string): string | null {
  const dirs: string[] = [];
  for (const d of l.ctx.config.libraryPaths) {
    for (const root of l.opts.syslibroots) dirs.push(path.join(root, d));
    dirs.push(d);
  }
  for (const root of l.opts.syslibroots) dirs.push(path.join(root, 'usr/lib'));
  for (const d of dirs) {
    for (const ext of ['.tbd', '.dylib', '.a']) {
      const p = path.join(d, `lib${name}${ext}`);
      if (fs.existsSync(p)) return p;
    }
  }
  return null;
}

/**
 * Adds a dylib the output loads (`LC_LOAD_DYLIB`, next ordinal) and defines its exports; a
 * second dylib with an install name already loaded is the first one, which is returned.
 */
export function addDylib(l: MachoLink, p: string, bytes: Uint8Array, iface: DylibInterface): Dylib {
  const ctx = l.ctx;
  const known = l.dylibs.find((d) => d.installName === iface.installName);
  if (known !== undefined) return known;
  const file = new InputFile(ctx.files.length, p, path.basename(p), 'shared', bytes);
  ctx.files.push(file);
  const d: Dylib = { ...iface, file, ordinal: l.dylibs.length + 1 };
  l.dylibs.push(d);
  l.dylibByFile.set(file.id, d);
  for (const name of iface.exports)
    defineShared(ctx, ctx.syms.intern(name), file.id, 0, 0, SymType.NoType, false);
  for (const name of iface.weakExports)
    defineShared(ctx, ctx.syms.intern(name), file.id, 0, 0, SymType.NoType, true);
  for (const name of iface.tlvExports)
    defineShared(ctx, ctx.syms.intern(name), file.id, 0, 0, SymType.Tls, false);
  return d;
}

/** 32-bit input: readable (`readObject`), but there is no i386 Mach-O output to put it in. */
export function i386Output(what: string): LinkError {
  return new LinkError(
    `${what}: i386 Mach-O: Apple dropped i386 (macOS 10.15 runs no 32-bit code and no current SDK targets it), so tslink writes x86_64 Mach-O only; rebuild for -arch x86_64`,
  );
}

function readInput(l: MachoLink, p: string): void {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(p);
  } catch (e) {
    throw new LinkError(`cannot open ${p}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (bytes.length >= 4 && u32(bytes, 0) === MH_MAGIC_64) {
    const ft = u32(bytes, 12);
    if (ft === 1) {
      l.objects.push(readObject(l.ctx, p, p, bytes));
      return;
    }
    if (ft === 6) {
      addDylib(l, p, bytes, readDylib(bytes, p));
      return;
    }
    throw new LinkError(
      `${p}: Mach-O file type ${ft} cannot be linked against (objects, dylibs and .tbd stubs can)`,
    );
  }
  if (bytes.length >= 4 && u32(bytes, 0) === MH_MAGIC) throw i386Output(p);
  if (isArchive(bytes)) {
    addArchive(l, p, bytes);
    return;
  }
  const head = Buffer.from(bytes.subarray(0, 16)).toString('latin1');
  if (head.startsWith('---')) {
    addDylib(l, p, bytes, parseTbd(Buffer.from(bytes).toString('utf8'), p));
    return;
  }
  throw new LinkError(`${p}: unknown file type (not a Mach-O object or TAPI stub)`);
}

/**
 * A static archive: its index enters lazy symbols; members are read when a strong reference
 * meets one (the core's resolution and extraction queue, as for ELF).
 */
function addArchive(l: MachoLink, p: string, bytes: Uint8Array): void {
  const ctx = l.ctx;
  const archive = parseArchive(bytes, p);
  const idx = ctx.archives.length;
  ctx.archives.push({
    id: idx,
    path: p,
    bytes,
    archive,
    extracted: new Int32Array(archive.memberCount).fill(-1),
    priority: ctx.files.length,
    ensure: null,
    readOnce: null,
  });
  if (!archive.hasIndex && archive.memberCount > 0)
    ctx.diag.warn(`${p}: archive has no symbol index; run ranlib to add one`);
  const seen = new Set<number>();
  for (let i = 0; i < archive.symbolNames.length; i++) {
    const id = ctx.syms.intern(archive.symbolNames[i]!);
    if (seen.has(id)) continue;
    seen.add(id);
    addLazySymbol(ctx, id, idx, archive.symbolMembers[i]!);
  }
}

function loadMember(l: MachoLink, a: number, m: number): void {
  const ctx = l.ctx;
  const ar = ctx.archives[a]!;
  const bytes = memberBytes(ar.archive, ar.bytes, m, (f) => fs.readFileSync(f));
  const name = memberDisplayName(ar.archive, m);
  if (bytes.length >= 4 && u32(bytes, 0) === MH_MAGIC) throw i386Output(name);
  if (bytes.length < 4 || u32(bytes, 0) !== MH_MAGIC_64)
    throw new LinkError(`${name}: archive member is not a 64-bit Mach-O object`);
  const f = readObject(ctx, ar.path, name, bytes);
  ar.extracted[m] = f.id;
  l.objects.push(f);
}

/** An `LC_LINKER_OPTION` request of an object: `-lfoo` or `-framework Foo` (auto-linking). */
export interface AutoLinkRequest {
  kind: 'library' | 'framework';
  name: string;
  /** The object that asked, for messages. */
  object: string;
}

/**
 * The `LC_LINKER_OPTION` requests of the objects read so far, in object order, duplicates
 * dropped. Other options in `LC_LINKER_OPTION` are ignored, as ld64 ignores them.
 */
export function autoLinkRequests(l: MachoLink): AutoLinkRequest[] {
  const out: AutoLinkRequest[] = [];
  const seen = new Set<string>();
  const add = (kind: AutoLinkRequest['kind'], name: string, object: string) => {
    const key = `${kind}:${name}`;
    if (seen.has(key) || name === '') return;
    seen.add(key);
    out.push({ kind, name, object });
  };
  for (const o of l.objects) {
    for (const opts of o.linkerOptions) {
      if (opts[0] === '-framework' && opts.length === 2) add('framework', opts[1]!, o.displayName);
      else if (opts.length === 1 && opts[0]!.startsWith('-l'))
        add('library', opts[0]!.slice(2), o.displayName);
    }
  }
  return out;
}

/** ld64's framework search, for auto-linking: `<syslibroot>/System/Library/Frameworks`. */
function findFramework(l: MachoLink, name: string): string | null {
  for (const root of l.opts.syslibroots) {
    const base = path.join(root, 'System/Library/Frameworks', `${name}.framework`, name);
    for (const p of [`${base}.tbd`, base]) if (fs.existsSync(p)) return p;
  }
  return null;
}

function readInputs(l: MachoLink): void {
  for (const spec of l.ctx.config.inputs) {
    if (spec.kind === 'file') readInput(l, spec.path);
    else if (spec.kind === 'lib') {
      const p = findLibrary(l, spec.name);
      if (p === null) throw new LinkError(`library not found for -l${spec.name}`);
      readInput(l, p);
    }
    drainExtractQueue(l.ctx, (a, m) => loadMember(l, a, m));
  }
  for (const req of autoLinkRequests(l)) {
    const p = req.kind === 'library' ? findLibrary(l, req.name) : findFramework(l, req.name);
    // ld64 links what it finds and only warns about the rest (in its words): a missing
    // auto-linked library is not an error until a symbol from it is missing.
    if (p === null)
      l.ctx.diag.warn(
        `${req.object}: Could not find or use auto-linked ${req.kind} '${req.name}'` +
          (req.kind !== 'framework'
            ? ''
            : l.opts.syslibroots.length === 0
              ? ' (frameworks are looked for under -syslibroot, and none was given)'
              : ` (no ${req.name}.framework/${req.name}[.tbd] in System/Library/Frameworks of any -syslibroot)`),
      );
    else readInput(l, p);
  }
  drainExtractQueue(l.ctx, (a, m) => loadMember(l, a, m));
  if (l.opts.bundleLoader !== null) addBundleLoader(l, l.opts.bundleLoader);
  for (const e of l.extensions) e.afterReadInputs?.(l);
  drainExtractQueue(l.ctx, (a, m) => loadMember(l, a, m));
  if (l.objects.length === 0) throw new LinkError('no object files to link');
}

/**
 * `-bundle_loader exe`: the executable's exports resolve the bundle's undefined symbols, bound
 * with BIND_SPECIAL_DYLIB_MAIN_EXECUTABLE (the image that loads the bundle), no LC_LOAD_DYLIB.
 */
function addBundleLoader(l: MachoLink, p: string): void {
  const ctx = l.ctx;
  if (l.opts.outputType !== MH_BUNDLE)
    throw new LinkError('-bundle_loader can only be used with -bundle');
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(p);
  } catch (e) {
    throw new LinkError(
      `-bundle_loader: cannot open ${p}: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  const iface = readDylib(bytes, p, MH_EXECUTE);
  const file = new InputFile(ctx.files.length, p, path.basename(p), 'shared', bytes);
  ctx.files.push(file);
  l.bundleLoaderFile = file;
  for (const name of iface.exports)
    defineShared(ctx, ctx.syms.intern(name), file.id, 0, 0, SymType.NoType, false);
  for (const name of iface.weakExports)
    defineShared(ctx, ctx.syms.intern(name), file.id, 0, 0, SymType.NoType, true);
  for (const name of iface.tlvExports)
    defineShared(ctx, ctx.syms.intern(name), file.id, 0, 0, SymType.Tls, false);
}

function resolve(l: MachoLink): void {
  const ctx = l.ctx;
  const s = ctx.syms;
  // Only an executable's header is at a fixed address; dylibs and bundles do not define
  // __mh_dylib_header/__mh_bundle_header (as ld64.lld-14).
  if (l.isExecutable) {
    l.mhHeaderSym = s.intern('__mh_execute_header');
    if (s.state[l.mhHeaderSym] !== SymState.Defined) {
      s.state[l.mhHeaderSym] = SymState.Defined;
      s.value[l.mhHeaderSym] = l.imageBase;
      s.flags[l.mhHeaderSym] = s.flags[l.mhHeaderSym]! | SymFlag.Absolute | SymFlag.Synthetic;
    }
  }
  for (const d of duplicates(ctx)) {
    const other = ctx.files[s.file[d.sym]!]?.displayName ?? '?';
    ctx.diag.error(
      `duplicate symbol: ${s.names[d.sym]}\n>>> defined in ${other}\n>>> defined in ${ctx.files[d.file]!.displayName}`,
    );
  }
  l.entrySym = l.isExecutable ? s.lookup(l.opts.entry) : -1;
  if (l.isExecutable && (l.entrySym < 0 || s.state[l.entrySym] !== SymState.Defined))
    ctx.diag.error(
      `undefined symbol: ${l.opts.entry}\n>>> referenced by the entry point (-e ${l.opts.entry})`,
    );
  if (l.opts.dynamicLookup) {
    for (const id of s.globalIds()) if (s.state[id] === SymState.Undefined) l.dynamicLookup.add(id);
  }
  for (const e of l.extensions) e.afterResolve?.(l);
  hideUnexported(l);
}

/**
 * `-exported_symbol(s_list)`: a global definition the list leaves out becomes a private
 * extern, as ld64 (and ld64.lld) make it: it stays in the symbol table, as `N_PEXT` without
 * `N_EXT`, and is neither exported nor bound or coalesced by dyld. `__mh_execute_header` stays
 * exported (dyld finds the main image through it). Definitions exported by name
 * (`exportNames`) are exported regardless.
 */
function hideUnexported(l: MachoLink): void {
  const listed = exportedSymbolMatcher(l.opts.exportedSymbols);
  if (listed === null) return;
  const s = l.ctx.syms;
  for (const id of s.globalIds()) {
    const st = s.state[id]!;
    if (st !== SymState.Defined && st !== SymState.Common) continue;
    if (id === l.mhHeaderSym || listed(s.names[id]!) || l.exportNames.has(id)) continue;
    if (s.flags[id]! & SymFlag.Synthetic) continue;
    s.visibility[id] = Visibility.Hidden;
  }
}

/**
 * `-exported_symbol(s_list)` as a predicate on symbol names, or null without a list. Entries with
 * `*`, `?` or `[` are globs, as in ld64; the others match exactly.
 */
export function exportedSymbolMatcher(
  list: readonly string[] | null,
): ((name: string) => boolean) | null {
  if (list === null) return null;
  const exact = new Set<string>();
  const globs: ((s: string) => boolean)[] = [];
  for (const entry of list) {
    if (!hasWildcard(entry)) exact.add(unescapeGlob(entry));
    else {
      try {
        globs.push(compileGlob(entry));
      } catch (e) {
        throw new LinkError(`-exported_symbol ${entry}: ${(e as Error).message}`);
      }
    }
  }
  return (name) => exact.has(name) || globs.some((g) => g(name));
}

/** Commons become zero-filled atoms of `__DATA,__common`. */
function convertCommons(l: MachoLink): void {
  const ctx = l.ctx;
  const s = ctx.syms;
  for (const id of s.globalIds()) {
    if (s.state[id] !== SymState.Common) continue;
    const sec = new InputSection(
      ctx.sections.length,
      l.internalFile,
      0,
      '__DATA,__common',
      S_ZEROFILL,
      S_ZEROFILL,
      s.aux[id]!,
      s.size[id]!,
      -1,
    );
    ctx.sections.push(sec);
    s.state[id] = SymState.Defined;
    s.section[id] = sec.id;
    s.value[id] = 0;
  }
}

/** `-dead_strip`: roots are the entry, initializers, and atoms marked no-dead-strip. */
function deadStrip(l: MachoLink): void {
  if (!l.opts.deadStrip) return;
  const ctx = l.ctx;
  const s = ctx.syms;
  const roots: InputSection[] = [];
  const rootSym = (id: SymId) => {
    if (id >= 0 && s.section[id]! >= 0) roots.push(ctx.sections[s.section[id]!]!);
  };
  rootSym(l.entrySym);
  const listed = exportedSymbolMatcher(l.opts.exportedSymbols);
  if (listed !== null) for (const id of s.globalIds()) if (listed(s.names[id]!)) rootSym(id);
  for (const id of l.exportNames.keys()) rootSym(id);
  // A dylib or bundle exists for its exports: without a list, every global definition is one.
  if (!l.isExecutable && l.opts.exportedSymbols === null)
    for (const id of s.globalIds())
      if (s.state[id] === SymState.Defined && s.visibility[id] !== Visibility.Hidden) rootSym(id);
  for (const sec of [...l.pinnedHead, ...l.pinnedTail]) roots.push(sec);
  for (const o of l.objects) {
    for (let i = 0; i < o.symIds.length; i++)
      if (o.nDesc[i]! & N_NO_DEAD_STRIP) rootSym(o.symIds[i]!);
  }
  // A function keeps its LSDA (and a local personality) alive through its compact unwind entry,
  // which no relocation of the function itself shows.
  const edges = new Map<number, number[]>();
  for (const cu of ctx.sections) {
    if (cu.name !== COMPACT_UNWIND || cu.relocs === null) continue;
    const st = cu.relocs.store;
    const end = cu.relocs.start + cu.relocs.count;
    const fnAt = new Map<number, number>();
    for (let i = cu.relocs.start; i < end; i++)
      if (st.offset[i]! % 32 === 0) fnAt.set(st.offset[i]!, s.section[st.sym[i]!]!);
    for (let i = cu.relocs.start; i < end; i++) {
      const off = st.offset[i]!;
      if (off % 32 === 0) continue;
      const fn = fnAt.get(off - (off % 32));
      const target = s.section[st.sym[i]!]!;
      if (fn === undefined || fn < 0 || target < 0) continue;
      let list = edges.get(fn);
      if (!list) edges.set(fn, (list = []));
      list.push(target);
    }
  }
  gcSections(
    ctx,
    roots,
    (sec) => {
      if (sec.flags & S_ATTR_NO_DEAD_STRIP) return false;
      if ((sec.flags & SECTION_TYPE) === S_MOD_INIT_FUNC_POINTERS) return false;
      if (sec.name === '__TEXT,__eh_frame') return false;
      return true;
    },
    (sec, visit) => {
      for (const t of edges.get(sec.id) ?? []) visit(ctx.sections[t]!);
    },
  );
}

function scan(l: MachoLink): void {
  for (const sec of l.ctx.sections)
    if (sec.isAlive && sec.relocs !== null && sec.name !== COMPACT_UNWIND) scanSection(l, sec);
  for (const [sym, refs] of l.undefRefs) {
    l.ctx.diag.error(
      `undefined symbol: ${l.ctx.symName(sym)}\n${refs.map((r) => `>>> referenced by ${r}`).join('\n')}`,
    );
  }
}

/** The passes of a Mach-O link, in order. ✓ = checkpoint: stop here on errors. */
export const machoPasses: Pass<MachoCtx>[] = [
  pass('readInputs', readInputs, true),
  pass('resolveSymbols', resolve, true),
  pass('convertCommonSymbols', convertCommons),
  pass('deadStrip', deadStrip),
  pass('scanRelocations', scan, true),
  pass('collectUnwind', collectUnwind, true),
  pass('createSynthetics', createSynthetics),
  pass('createOutputSections', createOutputSections, true),
  pass('layout', layout, true),
  pass('buildLinkedit', buildLinkedit, true),
  pass('writeOutput', writeOutput, true),
];

/** Runs a whole Mach-O link of `ctx.config` with `opts`. */
export function linkMacho(
  ctx: Context,
  opts: MachoOptions,
  extensions: readonly MachoExtension[] = [],
): MachoLink {
  const l = new MachoLink(ctx, opts, extensions);
  const c = ctx as MachoCtx;
  c.macho = l;
  runPasses(c, machoPasses);
  return l;
}

/**
 * `--buildmode=plugin` for ELF (seed 003's design, for any language): a shared object that
 * carries its own export table and module descriptor and registers itself with the host's
 * runtime (runtime/tslink_plugin.c) from an .init_array entry.
 *
 * The linker adds, after relocations are scanned:
 * - in .rodata, the plugin path and the export names;
 * - in .data.rel.ro, the module descriptor (`tslink_module`: path, export table, its length,
 *   and the text/rodata/data/bss bounds as real section-relative symbols, so the loader
 *   relocates them to this module and never resolves them to a host's copies) followed by the
 *   export table (`tslink_export`: name, address; sorted by name for binary search). Exports
 *   point at local aliases, so they are this plugin's definitions even where a host interposes;
 * - in .text, the arch's initializer (`ElfArch.pluginInit`), which passes the descriptor to
 *   `tslink_plugin_register` through a GOT slot when that weak import is non-null;
 * - in .init_array, a pointer to the initializer.
 *
 * A host that references `tslink_plugin_open` is linked "dynamically linking": its global
 * symbols are exported, so a plugin's references bind to the host's single copy (the seed's
 * DynlinkingGo rule).
 */
import {
  InputSection,
  LinkError,
  OutputSection,
  RelocTable,
  SymFlag,
  SymState,
  referenceSymbol,
  type Context,
  type LinkExtension,
  type SymId,
} from '@link/core';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import * as C from '@link/elf';
import { readSharedLibrary, type ElfLink } from '@link/elf';
import {
  DESCRIPTOR_WORDS,
  descriptorBytes,
  descriptorPointers,
  packStrings,
} from './descriptor.js';

export const REGISTER = 'tslink_plugin_register';
export const OPEN = 'tslink_plugin_open';
const BOUNDS = ['.text', '.rodata', '.data', '.bss'];

export const pluginElfExtension: LinkExtension = {
  name: 'buildmode-plugin',
  afterReadInputs(ctx: Context): void {
    const cfg = ctx.config;
    const syms = ctx.syms;
    if (cfg.buildMode !== 'plugin') {
      // The host rule: a program that opens plugins shares its symbols with them.
      const open = syms.lookup(OPEN);
      if (open >= 0 && cfg.outputKind === 'exe') cfg.dynamic.exportDynamic = true;
      return;
    }
    cfg.zFlags.add('now');
    cfg.zFlags.delete('lazy');
    // --plugin-export: exactly these (with cgo_export_dynamic's) are exported; the rest are
    // made local as a version script's `local: *` would.
    if (cfg.plugin.exports.length > 0) {
      const keep = new Set(cfg.plugin.exports);
      for (const id of syms.globalIds()) {
        if (syms.state[id] !== SymState.Defined || keep.has(syms.names[id]!)) continue;
        if (syms.flags[id]! & SymFlag.DynamicListed) continue;
        syms.flags[id] = syms.flags[id]! | SymFlag.VersionLocal;
      }
    }
    const reg = syms.intern(REGISTER);
    referenceSymbol(ctx, reg, true);
    syms.flags[reg] = syms.flags[reg]! | SymFlag.NeedsGot;
  },
  beforeSynthetics(ctx: Context): void {
    if (ctx.config.buildMode !== 'plugin') return;
    const link = (ctx as Context & { elf: ElfLink }).elf;
    if (ctx.config.plugin.host !== null) {
      checkPluginHost(link, ctx.config.plugin.host);
      ctx.diag.checkpoint();
    }
    addPluginSections(link);
  },
};

function outputSection(link: ElfLink, name: string, type: number, flags: number): OutputSection {
  let o = link.outputSections.find((s) => s.name === name);
  if (!o) {
    o = new OutputSection(name, type, flags, false);
    link.outputSections.push(o);
  }
  return o;
}

function addSection(
  link: ElfLink,
  osec: OutputSection,
  name: string,
  flags: number,
  align: number,
  contents: Uint8Array,
): InputSection {
  const ctx = link.ctx;
  const type =
    name === '.init_array' ? C.SHT_INIT_ARRAY : name === PLUGIN_NOTE ? C.SHT_NOTE : C.SHT_PROGBITS;
  const sec = new InputSection(
    ctx.sections.length,
    link.internalFile,
    -1,
    name,
    type,
    flags,
    align,
    contents.length,
    -1,
  );
  sec.ownContents = contents;
  sec.osec = osec;
  ctx.sections.push(sec);
  osec.members.push(sec);
  return sec;
}

function addPluginSections(link: ElfLink): void {
  const ctx = link.ctx;
  const syms = ctx.syms;
  const arch = link.arch;
  const init = arch.pluginInit;
  if (!init) throw new LinkError(`--buildmode=plugin is not supported for ${arch.name} yet`);
  // Pointer-sized words, as the C runtime's structs have them.
  const W = ctx.target.ptrSize;
  const path = ctx.config.plugin.path ?? baseName(ctx.config.output);

  // The exports: this plugin's default-visibility definitions in .dynsym, by name.
  const exports: { name: string; id: SymId }[] = [];
  for (const id of syms.globalIds()) {
    if (syms.state[id] !== SymState.Defined || !(syms.flags[id]! & SymFlag.Exported)) continue;
    if (syms.section[id]! < 0) continue;
    exports.push({ name: link.dynName.get(id) ?? syms.names[id]!, id });
  }
  exports.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  // .rodata: the path, then the names.
  const strings = packStrings([path, ...exports.map((e) => e.name)]);
  const rodata = outputSection(link, '.rodata', C.SHT_PROGBITS, C.SHF_ALLOC);
  const strSec = addSection(link, rodata, '.rodata', C.SHF_ALLOC, 1, strings.bytes);
  const local = (sec: InputSection, value: number) =>
    syms.addLocal(-1, 0, sec.id, value, C.STT_NOTYPE);

  // .data.rel.ro: the descriptor, then the table.
  const relro = outputSection(link, '.data.rel.ro', C.SHT_PROGBITS, C.SHF_ALLOC | C.SHF_WRITE);
  const data = descriptorBytes(W, exports.length);
  const desc = addSection(link, relro, '.data.rel.ro', C.SHF_ALLOC | C.SHF_WRITE, W, data);
  const bounds = BOUNDS.flatMap((name) => {
    const o = link.outputSections.find((s) => s.name === name && s.members.length > 0);
    const first = o ? o.members[0]! : desc;
    const last = o ? o.members[o.members.length - 1]! : desc;
    return [local(first, 0), local(last, o ? last.size : 0)];
  });
  const ptrs = descriptorPointers(W, {
    path: local(strSec, 0),
    table: local(desc, DESCRIPTOR_WORDS * W),
    bounds,
    exports: exports.map((e, i) => ({
      name: local(strSec, strings.offsets[i + 1]!),
      // A local alias: the table holds this plugin's own definition.
      addr: syms.addLocal(-1, 0, syms.section[e.id]!, syms.value[e.id]!, syms.type[e.id]!),
    })),
  });
  setRelocs(
    link,
    desc,
    ptrs.map((p) => ({ offset: p.at, type: init.abs, sym: p.target, addend: 0 })),
  );

  // .text: the initializer; .init_array: its address.
  const text = outputSection(link, '.text', C.SHT_PROGBITS, C.SHF_ALLOC | C.SHF_EXECINSTR);
  const code = addSection(
    link,
    text,
    '.text',
    C.SHF_ALLOC | C.SHF_EXECINSTR,
    16,
    init.code.slice(),
  );
  const descSym = local(desc, 0);
  const reg = syms.lookup(REGISTER);
  setRelocs(
    link,
    code,
    init.relocs.map((r) => ({
      offset: r.offset,
      type: r.type,
      sym: r.target === 'descriptor' ? descSym : reg,
      addend: r.addend,
    })),
  );
  const initArray = outputSection(link, '.init_array', C.SHT_INIT_ARRAY, C.SHF_ALLOC | C.SHF_WRITE);
  const entry = addSection(
    link,
    initArray,
    '.init_array',
    C.SHF_ALLOC | C.SHF_WRITE,
    W,
    new Uint8Array(W),
  );
  setRelocs(link, entry, [{ offset: 0, type: init.abs, sym: local(code, 0), addend: 0 }]);

  // Each pointer becomes a RELATIVE relocation (all targets are local to the plugin).
  link.relDynCount += ptrs.length + 1;

  // A note naming the plugin path, for `tslink plugin-info` (and any tool) to read.
  const note = outputSection(link, PLUGIN_NOTE, C.SHT_NOTE, C.SHF_ALLOC);
  note.align = 4;
  const sec = addSection(link, note, PLUGIN_NOTE, C.SHF_ALLOC, 4, pluginNote(path));
  sec.osec = note;
}

/** `.note.tslink.plugin`: owner "tslink", type NT_TSLINK_PLUGIN_PATH, the path as descriptor. */
export const PLUGIN_NOTE = '.note.tslink.plugin';
export const NT_TSLINK_PLUGIN_PATH = 1;

function pluginNote(path: string): Uint8Array {
  const owner = 'tslink\0';
  const desc = path + '\0';
  const pad = (n: number) => (n + 3) & ~3;
  const b = new Uint8Array(12 + pad(owner.length) + pad(desc.length));
  const dv = new DataView(b.buffer);
  dv.setUint32(0, owner.length, true);
  dv.setUint32(4, desc.length, true);
  dv.setUint32(8, NT_TSLINK_PLUGIN_PATH, true);
  b.set(Buffer.from(owner, 'latin1'), 12);
  b.set(Buffer.from(desc, 'latin1'), 12 + pad(owner.length));
  return b;
}

function setRelocs(
  link: ElfLink,
  sec: InputSection,
  relocs: { offset: number; type: number; sym: SymId; addend: number }[],
): void {
  const store = link.ctx.relocs;
  const t = RelocTable.allocate(store, relocs.length);
  relocs.forEach((r, i) => {
    store.offset[t.start + i] = r.offset;
    store.type[t.start + i] = r.type;
    store.sym[t.start + i] = r.sym;
    store.addend[t.start + i] = r.addend;
  });
  sec.relocs = t;
}

function baseName(p: string): string {
  const i = p.lastIndexOf('/');
  return i >= 0 ? p.slice(i + 1) : p;
}

/** Directories a host's DT_NEEDED libraries are looked for in, after `-L` ones. */
const SYSTEM_LIB_DIRS = [
  '/lib/x86_64-linux-gnu',
  '/usr/lib/x86_64-linux-gnu',
  '/lib64',
  '/usr/lib64',
  '/lib',
  '/usr/lib',
];

/** The dynamic symbols `file` (an executable or shared object) defines, and what it needs. */
function readDefinitions(file: string): { names: string[]; needed: string[] } | null {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch {
    return null;
  }
  // The shared-library reader wants ET_DYN; a position-dependent host is ET_EXEC, the same
  // dynamic tables otherwise.
  if (bytes.length > 18 && bytes[16] === C.ET_EXEC && bytes[17] === 0) {
    bytes = Uint8Array.from(bytes);
    bytes[16] = C.ET_DYN;
  }
  const lib = readSharedLibrary(bytes, file);
  return { names: lib.defined.names, needed: lib.needed };
}

/**
 * `--plugin-host`: every symbol the plugin leaves to its host must be defined by the host's
 * dynamic symbols or by the libraries it needs (transitively); the rest are errors, each with
 * where the plugin uses it.
 */
function checkPluginHost(link: ElfLink, host: string): void {
  const ctx = link.ctx;
  const syms = ctx.syms;
  const start = readDefinitions(host);
  if (start === null) throw new LinkError(`cannot open plugin host ${host}`);
  const defined = new Set(start.names);
  const queue = [...start.needed];
  const seen = new Set<string>();
  while (queue.length > 0 && seen.size < 256) {
    const soname = queue.shift()!;
    if (seen.has(soname)) continue;
    seen.add(soname);
    for (const dir of [...ctx.config.libraryPaths, ...SYSTEM_LIB_DIRS]) {
      const lib = readDefinitions(nodePath.join(dir, soname));
      if (lib === null) continue;
      for (const n of lib.names) defined.add(n);
      queue.push(...lib.needed);
      break;
    }
  }
  const refsBySym = new Map<SymId, { sec: number; offset: number }[]>();
  for (const r of link.undefRefs) {
    const l = refsBySym.get(r.sym) ?? [];
    l.push(r);
    refsBySym.set(r.sym, l);
  }
  for (const id of syms.globalIds()) {
    if (syms.state[id] !== SymState.Undefined) continue;
    const f = syms.flags[id]!;
    if (!(f & SymFlag.RefStrong) || f & SymFlag.Weak) continue;
    const name = syms.names[id]!;
    if (defined.has(name)) continue;
    const lines = [`undefined symbol: ${name}`];
    for (const r of (refsBySym.get(id) ?? []).slice(0, 3))
      lines.push(`>>> referenced by ${C.refLocation(link, r.sec, r.offset)}`);
    lines.push(`>>> the plugin host ${host} and the libraries it needs do not define it`);
    ctx.diag.error(lines.join('\n'));
  }
}

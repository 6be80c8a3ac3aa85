/**
 * `--buildmode=plugin` for Mach-O (darwin/amd64, seed 004's design, for any language): a bundle
 * (or, with `-dylib`, a dylib) that carries the same export table and module descriptor as an
 * ELF plugin (`tslink_module`, runtime/tslink_plugin.h) and registers itself from an
 * initializer in `__mod_init_func`.
 *
 * dyld resolves a zero-size "section marker" of a dlopen-ed image to the same-named symbol of
 * the first image that defines it (seed 004), so the markers here are real symbols laid out as
 * atoms at the head (8 bytes, so no other symbol shares their address) and tail of their
 * sections: `_tslink.text`/`_tslink.etext` in `__TEXT,__text`, `.rodata` in `__TEXT,__const`,
 * `.data` in `__DATA,__data`, `.bss` from `__DATA,__common` (when there are commons) to the end
 * of `__DATA,__bss`. They are external (exported), so
 * `dlsym(handle, "tslink.text")` finds this plugin's, and the descriptor reaches them through
 * rebases, never binds, so they always resolve inside the plugin.
 *
 * The linker adds, after symbol resolution:
 * - in `__TEXT,__tslink_plugin`, the plugin path (where `tslink plugin-info` reads it), and in
 *   `__TEXT,__const` the export names (C names: without the leading underscore, so a host
 *   looks up the same names as on ELF);
 * - in `__DATA,__const` (→ `__DATA_CONST`), the descriptor followed by the export table, every
 *   pointer a rebase (the export addresses are this plugin's own definitions);
 * - in `__TEXT,__text`, an initializer that passes the descriptor to the host's
 *   `_tslink_plugin_register`, a weak flat-namespace import read through the GOT (null when the
 *   host has no registry: plain dlopen still works);
 * - in `__DATA,__mod_init_func`, a pointer to that initializer.
 *
 * Seed 004's linking rule: the plugin is flat-namespace with dynamic lookup (its undefined
 * symbols are the host's, looked up at load time); a host that defines
 * `_tslink_plugin_register` (it keeps a plugin registry) is flat-namespace too, and exports
 * its globals as every executable does.
 */
import {
  LinkError,
  RelocTable,
  SymFlag,
  SymState,
  Visibility,
  defineSymbol,
  referenceSymbol,
  type InputSection,
  type SymId,
} from '@link/core';
import {
  S_ATTR_PURE_INSTRUCTIONS,
  S_ATTR_SOME_INSTRUCTIONS,
  S_MOD_INIT_FUNC_POINTERS,
  S_REGULAR,
  S_ZEROFILL,
  X86_64_RELOC_GOT_LOAD,
  X86_64_RELOC_SIGNED,
  X86_64_RELOC_UNSIGNED,
  encodeRelocType,
  type MachoExtension,
  type MachoLink,
} from '@link/macho';
import { checkMachoPluginHost } from './macho-host.js';
import {
  DESCRIPTOR_WORDS,
  descriptorBytes,
  descriptorPointers,
  packStrings,
} from './descriptor.js';

import { MACHO_MARKERS, MACHO_PLUGIN_SECTION, REGISTER } from './macho-names.js';

export { MACHO_MARKERS, MACHO_PLUGIN_SECTION, REGISTER };
/** Words of `tslink_module`: path, exports, nexports, then four start/end pairs. */
const W = 8;

const CODE = S_REGULAR | S_ATTR_PURE_INSTRUCTIONS | S_ATTR_SOME_INSTRUCTIONS;

/**
 * The initializer (x86-64, SysV):
 *   movq _tslink_plugin_register@GOTPCREL(%rip), %rax   ; 0: 48 8b 05 <GOT_LOAD @3>
 *   testq %rax, %rax                                    ; 7: 48 85 c0
 *   je 1f                                               ; 10: 74 09
 *   leaq descriptor(%rip), %rdi                         ; 12: 48 8d 3d <SIGNED @15>
 *   jmpq *%rax                                          ; 19: ff e0
 * 1: ret                                                ; 21: c3
 */
const INIT_CODE = [
  0x48, 0x8b, 0x05, 0, 0, 0, 0, 0x48, 0x85, 0xc0, 0x74, 0x09, 0x48, 0x8d, 0x3d, 0, 0, 0, 0, 0xff,
  0xe0, 0xc3,
];
const INIT_GOT_AT = 3;
const INIT_DESC_AT = 15;

export const pluginMachoExtension: MachoExtension = {
  name: 'buildmode-plugin',
  afterResolve(l: MachoLink): void {
    const ctx = l.ctx;
    const syms = ctx.syms;
    if (ctx.config.buildMode !== 'plugin') {
      // The host rule: a program that keeps a plugin registry shares one flat namespace with
      // its plugins, so their references to it bind to its single copy.
      const reg = syms.lookup(REGISTER);
      if (l.isExecutable && reg >= 0 && syms.state[reg] === SymState.Defined)
        l.opts.flatNamespace = true;
      return;
    }
    if (l.isExecutable)
      throw new LinkError(
        '--buildmode=plugin for Mach-O builds a bundle or a dylib, not MH_EXECUTE',
      );
    // Before the plugin's own undefined references join them: what the host must provide.
    if (ctx.config.plugin.host !== null) checkMachoPluginHost(l, ctx.config.plugin.host);
    l.opts.flatNamespace = true;
    l.opts.dynamicLookup = true; // -undefined dynamic_lookup: dyld_stub_binder is looked up too
    for (const id of syms.globalIds())
      if (syms.state[id] === SymState.Undefined) l.dynamicLookup.add(id);
    const reg = syms.intern(REGISTER);
    if (syms.state[reg] === SymState.Undefined) {
      referenceSymbol(ctx, reg, true);
      l.dynamicLookup.add(reg);
    }
    addPluginContent(l, reg);
  },
};

function setRelocs(
  l: MachoLink,
  sec: InputSection,
  relocs: { offset: number; type: number; sym: SymId }[],
): void {
  const store = l.ctx.relocs;
  const t = RelocTable.allocate(store, relocs.length);
  relocs.forEach((r, i) => {
    store.offset[t.start + i] = r.offset;
    store.type[t.start + i] = r.type;
    store.sym[t.start + i] = r.sym;
    store.addend[t.start + i] = 0;
  });
  sec.relocs = t;
}

/** A global definition of the link itself at `value` in `sec` (markers are real symbols). */
function defineAt(l: MachoLink, name: string, sec: InputSection, value: number): SymId {
  const ctx = l.ctx;
  const id = ctx.syms.intern(name);
  if (ctx.syms.state[id] === SymState.Defined)
    throw new LinkError(`${name} is defined by an input, but --buildmode=plugin defines it`);
  defineSymbol(ctx, id, l.internalFile.id, 0, sec.id, value, 0, 0, false, false);
  return id;
}

function addPluginContent(l: MachoLink, reg: SymId): void {
  const ctx = l.ctx;
  const syms = ctx.syms;
  const path = ctx.config.plugin.path ?? baseName(ctx.config.output);
  const pointer = encodeRelocType(X86_64_RELOC_UNSIGNED, 3, 0, 1);

  // The section markers: an 8-byte head atom and an empty tail atom per section, pinned.
  const markers: SymId[] = [];
  // Commons (and clang's zero-initialized globals) live in __DATA,__common, laid out just
  // before __DATA,__bss: the bss range then starts in __common so it covers both.
  const commons =
    ctx.sections.some((sec) => sec.name === '__DATA,__common') ||
    syms.globalIds().some((id) => syms.state[id] === SymState.Common);
  for (const m of MACHO_MARKERS) {
    const headSection = m.zerofill && commons ? '__DATA,__common' : m.section;
    const flags = m.zerofill ? S_ZEROFILL : m.section === '__TEXT,__text' ? CODE : S_REGULAR;
    // Code bytes are int3: the head is never executed.
    const headBytes = m.zerofill
      ? new Uint8Array(0)
      : new Uint8Array(8).fill(flags === CODE ? 0xcc : 0);
    const head = l.addAtom(headSection, flags, 8, headBytes, 8);
    const tail = l.addAtom(m.section, flags, 1, new Uint8Array(0), 0);
    l.pinnedHead.push(head);
    l.pinnedTail.push(tail);
    markers.push(defineAt(l, m.head, head, 0), defineAt(l, m.tail, tail, 0));
  }

  // The exports: this plugin's default-visibility definitions (limited by --plugin-export,
  // given as C names), by name; the markers are exported but not listed.
  const markerSet = new Set(markers);
  const only = ctx.config.plugin.exports.length > 0 ? new Set(ctx.config.plugin.exports) : null;
  const exports: { name: string; id: SymId }[] = [];
  for (const id of syms.globalIds()) {
    if (syms.state[id] !== SymState.Defined || markerSet.has(id)) continue;
    if (syms.visibility[id] === Visibility.Hidden || syms.section[id]! < 0) continue;
    if (syms.flags[id]! & SymFlag.Synthetic) continue;
    const full = syms.names[id]!;
    const name = full.startsWith('_') ? full.slice(1) : full;
    if (only && !only.has(name)) continue;
    exports.push({ name, id });
  }
  exports.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (only) {
    for (const n of only)
      if (!exports.some((e) => e.name === n))
        throw new LinkError(`--plugin-export=${n}: the plugin does not define ${n}`);
    l.opts.exportedSymbols = [
      ...exports.map((e) => syms.names[e.id]!),
      ...MACHO_MARKERS.flatMap((m) => [m.head, m.tail]),
    ];
  }

  // The path in its own section, where `tslink plugin-info` finds it (ELF's note); the names
  // in __TEXT,__const (after the rodata head marker).
  const pathSec = l.addAtom(
    MACHO_PLUGIN_SECTION,
    S_REGULAR,
    1,
    Uint8Array.from(Buffer.from(`${path}\0`, 'latin1')),
  );
  const strings = packStrings(exports.map((e) => e.name));
  const strSec = l.addAtom('__TEXT,__const', S_REGULAR, 1, strings.bytes);
  const local = (sec: InputSection, value: number) => syms.addLocal(-1, 0, sec.id, value, 0);

  // __DATA,__const: the descriptor, then the table.
  const desc = l.addAtom('__DATA,__const', S_REGULAR, W, descriptorBytes(W, exports.length));
  const ptrs = descriptorPointers(W, {
    path: local(pathSec, 0),
    table: local(desc, DESCRIPTOR_WORDS * W),
    bounds: markers,
    exports: exports.map((e, i) => ({ name: local(strSec, strings.offsets[i]!), addr: e.id })),
  });
  setRelocs(
    l,
    desc,
    ptrs.map((p) => ({ offset: p.at, type: pointer, sym: p.target })),
  );

  // __TEXT,__text: the initializer; __DATA,__mod_init_func: its address.
  const code = l.addAtom('__TEXT,__text', CODE, 16, Uint8Array.from(INIT_CODE));
  setRelocs(l, code, [
    { offset: INIT_GOT_AT, type: encodeRelocType(X86_64_RELOC_GOT_LOAD, 2, 1, 1), sym: reg },
    {
      offset: INIT_DESC_AT,
      type: encodeRelocType(X86_64_RELOC_SIGNED, 2, 1, 1),
      sym: local(desc, 0),
    },
  ]);
  const init = l.addAtom('__DATA,__mod_init_func', S_MOD_INIT_FUNC_POINTERS, W, new Uint8Array(W));
  setRelocs(l, init, [{ offset: 0, type: pointer, sym: local(code, 0) }]);
}

function baseName(p: string): string {
  const i = p.lastIndexOf('/');
  return i >= 0 ? p.slice(i + 1) : p;
}

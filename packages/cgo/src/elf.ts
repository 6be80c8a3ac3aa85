/**
 * Applies Go cgo directives to an ELF link (Go's `loadcgo`/`setCgoAttr` for internal linking):
 *
 * - `cgo_import_dynamic local remote#VERSION "lib"`: `local` is imported from `lib` through the
 *   GOT/PLT as `remote`, at VERSION, and `lib` becomes DT_NEEDED when the symbol is used. The
 *   library itself need not exist at link time: it is represented by a shared input made from
 *   the directives alone.
 * - `cgo_import_dynamic _ _ "lib"`: `lib` is needed regardless.
 * - `cgo_export_dynamic local remote`: `local` is exported in .dynsym as `remote`.
 * - `cgo_dynamic_linker "path"`: the interpreter, unless `-dynamic-linker` gave one.
 * - `.deplibs` sections: each entry is added as an input, as lld does.
 *
 * Directives come from `--cgo-directives` files and from `.go.cgo_directives` sections of the
 * objects (see README.md); all are validated together (`CgoDirectives`).
 */
import {
  LinkError,
  SymFlag,
  SymState,
  defineShared,
  type Context,
  type LinkExtension,
} from '@link/core';
import {
  SharedFile,
  addDependentLibrary,
  type ElfLink,
  type ElfObjectFile,
  type SharedLibrary,
} from '@link/elf';
import { parseDeplibsSection, parseDirectiveSection } from './deplibs.js';
import { CgoDirectives, type CgoImport } from './model.js';

/** The directives of a link, once gathered (for tests and other extensions). */
export const CGO_EXT_KEY = 'cgo.directives';

export const cgoElfExtension: LinkExtension = {
  name: 'cgo',
  afterReadInputs(ctx: Context): void {
    const link = (ctx as Context & { elf: ElfLink }).elf;
    const dirs = gatherDirectives(link);
    ctx.ext.set(CGO_EXT_KEY, dirs);
    for (const lib of dirs.dependentLibraries) {
      try {
        addDependentLibrary(link, lib.specifier);
      } catch (e) {
        if (!(e instanceof LinkError)) throw e;
        throw new LinkError(`${e.message}\n>>> asked for by ${lib.source.file}:${lib.source.line}`);
      }
    }
    applyImports(link, dirs);
    applyExports(link, dirs);
    const interp = dirs.dynamicLinker;
    if (interp !== null && ctx.config.dynamic.interpreter === null)
      ctx.config.dynamic.interpreter = interp;
    for (const lib of dirs.forcedLibraries)
      if (!link.extraNeeded.includes(lib)) link.extraNeeded.push(lib);
  },
};

/** The directives of a link's inputs and `--cgo-directives` files, validated together. */
export function collectCgoDirectives(link: ElfLink): CgoDirectives {
  return gatherDirectives(link);
}

function gatherDirectives(link: ElfLink): CgoDirectives {
  const dirs = new CgoDirectives();
  dirs.addFiles(link.ctx.config.cgoDirectiveFiles);
  for (const obj of link.objects as ElfObjectFile[]) {
    if (obj.cgoDirectives !== null)
      dirs.addAll(parseDirectiveSection(obj.cgoDirectives, obj.displayName));
    if (obj.dependentLibraries !== null)
      dirs.addDependentLibraries(parseDeplibsSection(obj.dependentLibraries, obj.displayName));
  }
  for (const w of dirs.warnings) link.ctx.diag.warn(w);
  return dirs;
}

/**
 * One shared input per imported library, made from the directives: its "definitions" are the
 * remote names imported from it, with their versions.
 */
function applyImports(link: ElfLink, dirs: CgoDirectives): void {
  const ctx = link.ctx;
  const byLib = new Map<string, CgoImport[]>();
  for (const imp of dirs.imports.values()) {
    if (imp.library === null) continue; // e.g. a weak reference left undefined
    const list = byLib.get(imp.library) ?? [];
    list.push(imp);
    byLib.set(imp.library, list);
  }
  for (const [library, imps] of byLib) {
    const versionNames = ['', library];
    const versym = new Uint16Array(imps.length);
    imps.forEach((imp, i) => {
      let v = 1; // VER_NDX_GLOBAL
      if (imp.version !== null) {
        v = versionNames.indexOf(imp.version);
        if (v < 0) v = versionNames.push(imp.version) - 1;
      }
      versym[i] = v;
    });
    const n = imps.length;
    const lib: SharedLibrary = {
      path: library,
      soname: library,
      needed: [],
      is64: link.arch.is64,
      machine: link.arch.machine,
      versionNames,
      defined: {
        count: n,
        names: imps.map((imp) => imp.remote),
        values: new Float64Array(n),
        sizes: new Float64Array(n),
        types: new Uint8Array(n),
        weak: new Uint8Array(n),
        visibility: new Uint8Array(n),
        versym,
      },
      undefined: { names: [], weak: new Uint8Array(0) },
    };
    // Go adds a library named only by a symbol import when that symbol is used (as-needed).
    const file = new SharedFile(ctx.files.length, library, new Uint8Array(0), lib, true);
    ctx.files.push(file);
    link.sharedFiles.push(file);
    imps.forEach((imp, i) => {
      const id = ctx.syms.intern(imp.local);
      defineShared(ctx, id, file.id, 0, 0, 0, false);
      if (ctx.syms.state[id] !== SymState.Shared || ctx.syms.file[id] !== file.id) return;
      ctx.syms.aux[id] = versym[i]!;
      file.definedIds[i] = id;
      if (imp.remote !== imp.local) link.dynName.set(id, imp.remote);
    });
  }
}

function applyExports(link: ElfLink, dirs: CgoDirectives): void {
  const syms = link.ctx.syms;
  for (const exp of dirs.exports.values()) {
    if (!exp.dynamic) continue;
    const id = syms.lookup(exp.local);
    if (id < 0 || syms.state[id] !== SymState.Defined) {
      link.ctx.diag.error(
        `${exp.source.file}:${exp.source.line}: cgo_export_dynamic of undefined symbol ${exp.local}`,
      );
      continue;
    }
    syms.flags[id] = syms.flags[id]! | SymFlag.DynamicListed;
    if (exp.remote !== exp.local) link.dynName.set(id, exp.remote);
  }
}

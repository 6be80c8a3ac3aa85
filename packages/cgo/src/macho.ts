/**
 * Applies Go cgo directives to a Mach-O link (Go's `loadcgo`/`setCgoAttr` and its darwin
 * Mach-O writer, for internal linking):
 *
 * - `cgo_import_dynamic local remote "lib.dylib"`: `local` is imported as `remote` from the
 *   dylib `lib.dylib` (an `LC_LOAD_DYLIB` of that path), bound through the GOT or a stub like
 *   any import. The dylib need not be on the command line: one is made from the directives.
 *   When a dylib with that install name was given (a `.tbd` or a binary dylib), the import
 *   binds to it. The library is loaded when some object references `local` (as Go adds a
 *   symbol import's library only for a reachable symbol).
 * - `cgo_import_dynamic _ _ "lib.dylib"`: `lib.dylib` is loaded regardless.
 * - `cgo_export_dynamic local remote`: `local` is in the export trie as `remote`, even when
 *   `-exported_symbol(s_list)` leaves it out.
 *
 * Names follow darwin's C convention as Go's linker applies it: directives name symbols as C
 * source does (`write`), and the Mach-O symbol is that name with `_` prepended (`_write`), for
 * `local` and `remote` alike. Mach-O has no symbol versions, so `remote#VERSION` is an error.
 *
 * Not applicable to an internal Mach-O link, and reported as a warning naming the directive:
 * `cgo_ldflag` (flags for the host linker of Go's external link mode) and
 * `cgo_dynamic_linker` (ELF's program interpreter; a Mach-O executable's is always
 * `/usr/lib/dyld`). `cgo_import_static`/`cgo_export_static` concern host objects only.
 *
 * Directives come from `--cgo-directives` files and from objects' `__LD,__cgo_directives`
 * sections (the Mach-O carrier of the text format; see README.md), validated together
 * (`CgoDirectives`).
 */
import { LinkError, SymState, defineShared, latin1, type SymId } from '@link/core';
import { addDylib, type Dylib, type MachoExtension, type MachoLink } from '@link/macho';
import { CgoDirectives, type CgoImport } from './model.js';
import { parseCgoDirectives } from './parse.js';
import type { DirectiveSource } from './types.js';

/** The section that carries cgo directives in a Mach-O object (`segment,section`). */
export const MACHO_CGO_DIRECTIVES_SECTION = '__LD,__cgo_directives';

/** The directives each Mach-O link gathered (for tests and other extensions). */
const linkDirectives = new WeakMap<MachoLink, CgoDirectives>();

export function machoCgoDirectives(l: MachoLink): CgoDirectives | undefined {
  return linkDirectives.get(l);
}

/** A C name as a Mach-O symbol name: darwin's C compilers prepend `_`, and so does Go. */
export function machoSymbolName(cName: string): string {
  return `_${cName}`;
}

const at = (s: DirectiveSource): string => `${s.file}:${s.line}`;

/**
 * libSystem provides `dyld_stub_binder` (the lazy binding entry the stub helper jumps to); a
 * libSystem named only by directives offers it as the real one does, so lazily bound imports
 * work without a libSystem stub on the command line.
 */
const LIBSYSTEM = /(^|\/)libSystem(\.B)?\.dylib$/;
const STUB_BINDER = 'dyld_stub_binder';

export const cgoMachoExtension: MachoExtension = {
  name: 'cgo',
  afterReadInputs(l: MachoLink): void {
    const dirs = gatherDirectives(l);
    linkDirectives.set(l, dirs);
    reportNotApplicable(l, dirs);
    applyImports(l, dirs);
  },
  afterResolve(l: MachoLink): void {
    const dirs = linkDirectives.get(l);
    if (dirs !== undefined) applyExports(l, dirs);
  },
};

function gatherDirectives(l: MachoLink): CgoDirectives {
  const dirs = new CgoDirectives();
  dirs.addFiles(l.ctx.config.cgoDirectiveFiles);
  for (const obj of l.objects) {
    for (const sec of obj.sections) {
      if (sec === null || sec.name !== MACHO_CGO_DIRECTIVES_SECTION) continue;
      // Only the text: the linker consumes the section, the output never carries it.
      sec.isAlive = false;
      const bytes = sec.contents;
      dirs.addAll(
        parseCgoDirectives(
          latin1(bytes, 0, bytes.length),
          `${obj.displayName}:(${MACHO_CGO_DIRECTIVES_SECTION})`,
        ),
      );
    }
  }
  for (const w of dirs.warnings) l.ctx.diag.warn(w);
  return dirs;
}

function reportNotApplicable(l: MachoLink, dirs: CgoDirectives): void {
  for (const d of dirs.ldflagDirectives)
    l.ctx.diag.warn(
      `${at(d.source)}: cgo_ldflag "${d.flag}" ignored: it is for the host linker of an external link, and this Mach-O link is internal`,
    );
  const interp = dirs.dynamicLinkerDirective;
  if (interp !== null)
    l.ctx.diag.warn(
      `${at(interp.source)}: cgo_dynamic_linker "${interp.path}" ignored: Mach-O executables always name /usr/lib/dyld`,
    );
}

function applyImports(l: MachoLink, dirs: CgoDirectives): void {
  const ctx = l.ctx;
  const syms = ctx.syms;
  const errors: string[] = [];
  const byLib = new Map<string, CgoImport[]>();
  for (const imp of dirs.imports.values()) {
    if (imp.version !== null) {
      errors.push(
        `${at(imp.source)}: cgo_import_dynamic ${imp.local} ${imp.remote}#${imp.version}: Mach-O has no symbol versions`,
      );
      continue;
    }
    if (imp.library === null) continue; // `cgo -dynimport`'s weak undefined: nothing to bind
    let list = byLib.get(imp.library);
    if (list === undefined) byLib.set(imp.library, (list = []));
    list.push(imp);
  }
  if (errors.length > 0) throw new LinkError(errors);
  const referenced = (imp: CgoImport): boolean => {
    const id = syms.lookup(machoSymbolName(imp.local));
    return id >= 0 && syms.state[id] === SymState.Undefined;
  };
  // In the order the directives name the libraries (deterministic ordinals).
  for (const library of dirs.neededLibraries) {
    const imps = byLib.get(library) ?? [];
    const used = imps.filter(referenced);
    if (used.length === 0 && !dirs.forcedLibraries.includes(library)) continue;
    const dylib = libraryDylib(l, library);
    for (const imp of used) {
      const id = syms.intern(machoSymbolName(imp.local));
      defineShared(ctx, id, dylib.file.id, 0, 0, 0, false);
      if (syms.state[id] !== SymState.Shared || syms.file[id] !== dylib.file.id) continue;
      if (imp.remote !== imp.local) l.importNames.set(id, machoSymbolName(imp.remote));
    }
  }
}

/** The dylib loaded for `library`: one given on the command line, or one made for it. */
function libraryDylib(l: MachoLink, library: string): Dylib {
  const given = l.dylibs.find((d) => d.installName === library);
  if (given !== undefined) return given;
  const binder = LIBSYSTEM.test(library) ? [STUB_BINDER] : [];
  return addDylib(l, library, new Uint8Array(0), {
    installName: library,
    // dyld refuses a dylib whose compatibility version is below the one recorded; 0 accepts any.
    currentVersion: 0,
    compatVersion: 0,
    exports: binder,
    weakExports: [],
    tlvExports: [],
  });
}

function applyExports(l: MachoLink, dirs: CgoDirectives): void {
  const syms = l.ctx.syms;
  const errors: string[] = [];
  const taken = new Map<string, SymId>();
  for (const exp of dirs.exports.values()) {
    if (!exp.dynamic) continue;
    const id = syms.lookup(machoSymbolName(exp.local));
    const st = id < 0 ? SymState.Undefined : syms.state[id]!;
    if (st !== SymState.Defined && st !== SymState.Common) {
      errors.push(
        `${at(exp.source)}: cgo_export_dynamic of undefined symbol ${exp.local} (${machoSymbolName(exp.local)})`,
      );
      continue;
    }
    const remote = machoSymbolName(exp.remote);
    const other = taken.get(remote);
    if (other !== undefined) {
      errors.push(
        `${at(exp.source)}: cgo_export_dynamic: ${remote} is already exported for ${syms.names[other]}`,
      );
      continue;
    }
    taken.set(remote, id);
    l.exportNames.set(id, remote);
  }
  if (errors.length > 0) throw new LinkError(errors);
}

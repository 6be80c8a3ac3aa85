import { LinkError, SymFlag, SymState, Visibility, type SymId } from '@link/core';
import * as fs from 'node:fs';
import * as C from './constants.js';
import type { ElfLink } from './link.js';
import {
  DynamicList,
  VersionMatcher,
  parseDynamicList,
  parseSymbolPattern,
  parseVersionScript,
  type SymbolPattern,
  type VersionScript,
} from './version-script.js';

/**
 * Who binds where, decided once after symbol resolution and before relocations are scanned
 * (mold's `compute_import_export`):
 *
 * - *imported*: resolved by a shared library at run time (a `Shared` definition, or an undefined
 *   symbol a shared object may leave to its loader);
 * - *exported*: put in .dynsym as a definition, because the output is a shared object, or an
 *   executable asked to (`--export-dynamic`, `--dynamic-list`, `--export-dynamic-symbol`), or a
 *   shared library input references it;
 * - *preemptible*: a reference may bind to another module's definition at run time, so it must
 *   go through the GOT or PLT: every imported symbol, and exported default-visibility symbols of a
 *   shared object unless -Bsymbolic or a dynamic list says otherwise.
 */
export function computeBindings(link: ElfLink): void {
  const ctx = link.ctx;
  const cfg = ctx.config;
  const dyn = cfg.dynamic;
  const syms = ctx.syms;
  link.isDynamic =
    !cfg.isStatic &&
    (cfg.outputKind === 'shared' || ctx.target.isPIE || link.sharedFiles.length > 0);
  if (!link.isDynamic) return;
  const shared = cfg.outputKind === 'shared';

  // Shared libraries that reference a symbol the output defines: an executable exports it, so
  // the library finds it (a callback it expects the program to provide). Symbols a library
  // also defines were marked RefByDso during resolution (that is how a program interposes
  // `malloc`).
  for (const f of link.sharedFiles) {
    for (const name of f.lib.undefined.names) {
      const id = syms.lookup(name);
      if (id >= 0) syms.flags[id] = syms.flags[id]! | SymFlag.RefByDso;
    }
  }

  const versions = loadVersionScripts(link);
  const listed = loadDynamicLists(link);

  for (const id of syms.globalIds()) {
    let f = syms.flags[id]!;
    const st = syms.state[id]!;
    const vis = syms.visibility[id]!;
    const versioned = st === SymState.Defined && syms.names[id]!.includes('@');
    if (versioned) versionFromName(link, id, versions);
    else if (st === SymState.Defined && versions !== null && (f & SymFlag.Synthetic) === 0) {
      const m = versions.match(syms.names[id]!);
      if (m !== null) {
        if (m.local) f |= SymFlag.VersionLocal;
        else link.symVersion.set(id, m.version);
      }
    }
    if (listed !== null && listed(syms.names[id]!)) f |= SymFlag.DynamicListed;
    f &= ~(SymFlag.Imported | SymFlag.Exported | SymFlag.Preemptible);
    if (st === SymState.Shared) {
      f |= SymFlag.Imported | SymFlag.Preemptible;
    } else if (st === SymState.Undefined || st === SymState.Lazy) {
      // Undefined in a shared object: left to the loader (weak ones may stay 0).
      if (shared && (f & (SymFlag.RefStrong | SymFlag.RefWeak)) !== 0 && vis === 0)
        f |= SymFlag.Imported | SymFlag.Preemptible;
    } else if (
      (st === SymState.Defined || st === SymState.Common) &&
      vis !== Visibility.Hidden &&
      vis !== Visibility.Internal &&
      (f & (SymFlag.VersionLocal | SymFlag.Synthetic)) === 0
    ) {
      const export_ =
        shared || dyn.exportDynamic || (f & (SymFlag.RefByDso | SymFlag.DynamicListed)) !== 0;
      if (export_) {
        f |= SymFlag.Exported;
        if (shared && vis === Visibility.Default && isPreemptibleExport(link, id, f))
          f |= SymFlag.Preemptible;
      }
    }
    syms.flags[id] = f;
  }
}

/**
 * A definition named `foo@V1` (from `.symver foo_v1, foo@V1`) is exported as `foo` in version
 * V1, hidden (not the default for new links); `foo@@V2` is the default version. The versions
 * must be defined by a version script, as GNU ld and lld require.
 */
function versionFromName(link: ElfLink, id: SymId, versions: VersionMatcher | null): void {
  const name = link.ctx.syms.names[id]!;
  const at = name.indexOf('@');
  const isDefault = name[at + 1] === '@';
  const base = name.slice(0, at);
  const vname = name.slice(at + (isDefault ? 2 : 1));
  const index = versions?.versionIndex(vname);
  if (index === undefined) {
    link.ctx.diag.error(
      `symbol ${name} has undefined version ${vname}\n>>> defined in ${link.ctx.files[link.ctx.syms.file[id]!]?.displayName ?? '<internal>'}`,
    );
    return;
  }
  link.dynName.set(id, base);
  link.symVersion.set(id, isDefault ? index : index | C.VERSYM_HIDDEN);
}

function isPreemptibleExport(link: ElfLink, id: SymId, f: number): boolean {
  const dyn = link.ctx.config.dynamic;
  if (dyn.bsymbolic === 'all') return false;
  const isFunc =
    link.ctx.syms.type[id] === C.STT_FUNC || link.ctx.syms.type[id] === C.STT_GNU_IFUNC;
  if (dyn.bsymbolic === 'functions' && isFunc) return false;
  // With a dynamic list, a shared object's other symbols bind locally (lld, GNU ld).
  if (dyn.dynamicLists.length > 0 && (f & SymFlag.DynamicListed) === 0) return false;
  return true;
}

function readText(path: string, what: string): string {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch {
    throw new LinkError(`cannot open ${what} ${path}`);
  }
}

function loadVersionScripts(link: ElfLink): VersionMatcher | null {
  const files = link.ctx.config.dynamic.versionScripts;
  if (files.length === 0) return null;
  // Several scripts act as one, each keeping its own file:line for messages.
  let script: VersionScript | undefined;
  for (const f of files) script = parseVersionScript(readText(f, '--version-script'), f, script);
  link.versionScript = script!;
  return new VersionMatcher(script!);
}

function loadDynamicLists(link: ElfLink): ((name: string) => boolean) | null {
  const dyn = link.ctx.config.dynamic;
  const patterns: SymbolPattern[] = [];
  for (const f of dyn.dynamicLists)
    patterns.push(...parseDynamicList(readText(f, '--dynamic-list'), f).patterns);
  for (const p of dyn.exportDynamicSymbols) patterns.push(parseSymbolPattern(p));
  if (patterns.length === 0) return null;
  const list = new DynamicList(patterns);
  return (name) => list.matches(name);
}

/** Whether references to `id` must go through the GOT/PLT (another module may define it). */
export function isPreemptible(link: ElfLink, id: SymId): boolean {
  return (link.ctx.syms.flags[id]! & SymFlag.Preemptible) !== 0;
}

/** Whether `id` lives in a shared library (its address is only known at run time). */
export function isImported(link: ElfLink, id: SymId): boolean {
  return (link.ctx.syms.flags[id]! & SymFlag.Imported) !== 0;
}

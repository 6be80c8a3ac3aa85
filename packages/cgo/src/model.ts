/**
 * All the cgo directives of one link, gathered from every source and checked across them the
 * way Go's linker checks them (`setCgoAttr` in `cmd/link/internal/ld/go.go`), reduced to what
 * a linker acts on: dynamic imports and the libraries they need, exports, the dynamic linker,
 * extra host-link flags, static imports, and `.deplibs` library requests.
 */
import * as fs from 'node:fs';
import { LinkError } from '@link/core';
import { goQuote, parseCgoDirectives } from './parse.js';
import type {
  CgoDirective,
  DependentLibrary,
  DirectiveSource,
  LocatedCgoDirective,
} from './types.js';

/** A symbol imported from a shared library (`cgo_import_dynamic local remote "library"`). */
export interface CgoImport {
  /** The symbol's name in the link. */
  local: string;
  /** The name to look up at run time (`local` when the directive gave none). */
  remote: string;
  /** The symbol version of `remote#VERSION`, or `null`. */
  version: string | null;
  /** The library (a DT_NEEDED name) or `null` for none, e.g. weak undefined `__gmon_start__`. */
  library: string | null;
  source: DirectiveSource;
}

/** A Go symbol exported under `remote` (`cgo_export_dynamic` / `cgo_export_static`). */
export interface CgoExport {
  local: string;
  /** The exported name (`local` when no directive gave one). */
  remote: string;
  /** Some `cgo_export_dynamic` named it: it goes in the dynamic symbol table. */
  dynamic: boolean;
  /** Some `cgo_export_static` named it: host objects may reference it. */
  static: boolean;
  /** The first export directive for it. */
  source: DirectiveSource;
  kind: 'cgo_export_dynamic' | 'cgo_export_static';
}

const at = (s: DirectiveSource): string => `${s.file}:${s.line}`;

/** `x#V from "lib"`, for messages. */
function describeImport(imp: { remote: string; version: string | null; library: string | null }) {
  const name = imp.version === null ? imp.remote : `${imp.remote}#${imp.version}`;
  return imp.library === null ? name : `${name} from ${goQuote(imp.library)}`;
}

/**
 * `cgo_import_dynamic _ _ "lib"` (the only form Go treats this way: local and the remote
 * before any `#` both `_`, and no version): the library is needed, no symbol is imported.
 */
export function isLibraryOnlyImport(d: CgoDirective): boolean {
  return (
    d.kind === 'cgo_import_dynamic' &&
    d.local === '_' &&
    (d.remote ?? '_') === '_' &&
    d.version === null
  );
}

/**
 * Accumulates directives from several sources. Directives are applied in the order added.
 * Conflicts are errors, each naming both places (`file:line`, plus lld-style `>>>` lines):
 * a symbol both imported and exported, one symbol exported under two names, two dynamic
 * linkers. A conflicting directive is not applied; the others are, and every conflict of an
 * `add*` call is thrown at its end as one `LinkError`. Directives that agree are fine.
 *
 * Two imports of one symbol that disagree are not an error: as in Go, the first wins and the
 * later one is ignored, with a message in `warnings`.
 */
export class CgoDirectives {
  private readonly importMap = new Map<string, CgoImport>();
  private readonly exportMap = new Map<string, CgoExport>();
  private readonly needed: string[] = [];
  private readonly neededSeen = new Set<string>();
  private readonly forced: string[] = [];
  private readonly forcedSeen = new Set<string>();
  private readonly statics = new Set<string>();
  private linker: { path: string; source: DirectiveSource } | null = null;
  private readonly flags: string[] = [];
  private readonly flagDirectives: { flag: string; source: DirectiveSource }[] = [];
  private readonly deplibs: DependentLibrary[] = [];
  private readonly deplibSeen = new Set<string>();
  private readonly warningList: string[] = [];

  /** Dynamic imports by local name. */
  get imports(): ReadonlyMap<string, CgoImport> {
    return this.importMap;
  }

  /**
   * Every library a directive names, first-seen order, no duplicates: those of
   * `cgo_import_dynamic _ _ "lib"` and those of symbol imports.
   */
  get neededLibraries(): readonly string[] {
    return this.needed;
  }

  /**
   * The libraries of `cgo_import_dynamic _ _ "lib"` only. Go's ELF linker always adds these
   * as DT_NEEDED; a symbol import's library only once that symbol is referenced.
   */
  get forcedLibraries(): readonly string[] {
    return this.forced;
  }

  /** Exports by local name. */
  get exports(): ReadonlyMap<string, CgoExport> {
    return this.exportMap;
  }

  /** The path of `cgo_dynamic_linker`, or `null`. A command-line `--dynamic-linker` overrides it (Go's `-I`). */
  get dynamicLinker(): string | null {
    return this.linker === null || this.linker.path === '' ? null : this.linker.path;
  }

  /** `cgo_ldflag` arguments, in order, duplicates kept (Go passes each to the host linker). */
  get ldflags(): readonly string[] {
    return this.flags;
  }

  /** `cgo_ldflag` directives with where each was read (for "not applicable" reports). */
  get ldflagDirectives(): readonly { flag: string; source: DirectiveSource }[] {
    return this.flagDirectives;
  }

  /** The `cgo_dynamic_linker` in effect with where it was read, or `null`. */
  get dynamicLinkerDirective(): { path: string; source: DirectiveSource } | null {
    return this.linker === null || this.linker.path === '' ? null : this.linker;
  }

  /** `cgo_import_static` names, first-seen order: symbols the host objects define. */
  get staticImports(): ReadonlySet<string> {
    return this.statics;
  }

  /** `.deplibs` library specifiers, first-seen order, no duplicates. */
  get dependentLibraries(): readonly DependentLibrary[] {
    return this.deplibs;
  }

  /** Non-fatal findings (ignored conflicting imports). */
  get warnings(): readonly string[] {
    return this.warningList;
  }

  /** Adds one directive; throws a `LinkError` if it conflicts with an earlier one. */
  add(directive: CgoDirective, source: DirectiveSource): void {
    const errors: string[] = [];
    this.apply(directive, source, errors);
    if (errors.length > 0) throw new LinkError(errors);
  }

  /** Adds parsed directives in order; throws one `LinkError` with every conflict found. */
  addAll(directives: Iterable<LocatedCgoDirective>): void {
    const errors: string[] = [];
    for (const d of directives) this.apply(d, d.source, errors);
    if (errors.length > 0) throw new LinkError(errors);
  }

  /** Adds `--cgo-directives` files (`go tool cgo -dynout` output). */
  addFiles(files: readonly string[]): void {
    for (const f of files) {
      let text: string;
      try {
        text = fs.readFileSync(f, 'latin1');
      } catch {
        throw new LinkError(`cannot open cgo directives file ${f}`);
      }
      this.addText(text, f);
    }
  }

  /** Parses a directive file (see `parseCgoDirectives`) and adds it. */
  addText(text: string, file: string): void {
    this.addAll(parseCgoDirectives(text, file));
  }

  /** Adds `.deplibs` entries (see `parseDeplibsSection`). */
  addDependentLibraries(libs: Iterable<DependentLibrary>): void {
    for (const lib of libs) {
      if (this.deplibSeen.has(lib.specifier)) continue;
      this.deplibSeen.add(lib.specifier);
      this.deplibs.push(lib);
    }
  }

  private addNeeded(lib: string, forced: boolean): void {
    if (!this.neededSeen.has(lib)) {
      this.neededSeen.add(lib);
      this.needed.push(lib);
    }
    if (forced && !this.forcedSeen.has(lib)) {
      this.forcedSeen.add(lib);
      this.forced.push(lib);
    }
  }

  private apply(d: CgoDirective, source: DirectiveSource, errors: string[]): void {
    switch (d.kind) {
      case 'cgo_import_dynamic': {
        if (isLibraryOnlyImport(d)) {
          // Go would add an empty library name here; there is nothing to add.
          if (d.library !== null) this.addNeeded(d.library, true);
          return;
        }
        const imp: CgoImport = {
          local: d.local,
          remote: d.remote ?? d.local.slice(0, indexOrEnd(d.local, '#')),
          version: d.version,
          library: d.library,
          source,
        };
        const exp = this.exportMap.get(d.local);
        if (exp !== undefined) {
          errors.push(bothImportedAndExported(d.local, source, exp.kind, exp.source, source));
          return;
        }
        const prev = this.importMap.get(d.local);
        if (prev === undefined) {
          this.importMap.set(d.local, imp);
          if (imp.library !== null) this.addNeeded(imp.library, false);
        } else if (
          prev.remote !== imp.remote ||
          prev.version !== imp.version ||
          prev.library !== imp.library
        ) {
          this.warningList.push(
            `${at(source)}: conflicting cgo_import_dynamic directives: ${d.local} as ` +
              `${describeImport(prev)} and ${describeImport(imp)}; the first is used` +
              `\n>>> imported at ${at(prev.source)}\n>>> imported at ${at(source)}`,
          );
        }
        return;
      }
      case 'cgo_import_static':
        this.statics.add(d.local);
        return;
      case 'cgo_export_dynamic':
      case 'cgo_export_static': {
        const remote = d.remote ?? d.local;
        const imp = this.importMap.get(d.local);
        if (imp !== undefined) {
          errors.push(bothImportedAndExported(d.local, imp.source, d.kind, source, source));
          return;
        }
        const prev = this.exportMap.get(d.local);
        if (prev === undefined) {
          this.exportMap.set(d.local, {
            local: d.local,
            remote,
            dynamic: d.kind === 'cgo_export_dynamic',
            static: d.kind === 'cgo_export_static',
            source,
            kind: d.kind,
          });
          return;
        }
        if (prev.remote !== remote) {
          errors.push(
            `${at(source)}: conflicting cgo_export directives: ${d.local} as ${prev.remote} and ${remote}` +
              `\n>>> ${prev.kind} ${d.local} ${prev.remote} at ${at(prev.source)}` +
              `\n>>> ${d.kind} ${d.local} ${remote} at ${at(source)}`,
          );
          return;
        }
        if (d.kind === 'cgo_export_dynamic') prev.dynamic = true;
        else prev.static = true;
        return;
      }
      case 'cgo_dynamic_linker': {
        // Go: a set, different interpreter is a conflict; an empty one counts as unset.
        const prev = this.linker;
        if (prev !== null && prev.path !== '' && prev.path !== d.path) {
          errors.push(
            `${at(source)}: conflict dynlinker: ${prev.path} and ${d.path}` +
              `\n>>> cgo_dynamic_linker ${goQuote(prev.path)} at ${at(prev.source)}` +
              `\n>>> cgo_dynamic_linker ${goQuote(d.path)} at ${at(source)}`,
          );
          return;
        }
        if (prev === null || prev.path !== d.path) this.linker = { path: d.path, source };
        return;
      }
      case 'cgo_ldflag':
        this.flags.push(d.flag);
        this.flagDirectives.push({ flag: d.flag, source });
        return;
    }
  }
}

function indexOrEnd(s: string, c: string): number {
  const i = s.indexOf(c);
  return i < 0 ? s.length : i;
}

function bothImportedAndExported(
  local: string,
  importedAt: DirectiveSource,
  exportKind: string,
  exportedAt: DirectiveSource,
  reportAt: DirectiveSource,
): string {
  return (
    `${at(reportAt)}: symbol is both imported and exported: ${local}` +
    `\n>>> cgo_import_dynamic at ${at(importedAt)}\n>>> ${exportKind} at ${at(exportedAt)}`
  );
}

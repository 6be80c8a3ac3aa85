/**
 * The directive model every carrier feeds: `--cgo-directives` files, the `.go.cgo_directives`
 * object section, ELF `.deplibs` (and later COFF `.drectve`, Mach-O `LC_LINKER_OPTION`).
 *
 * Strings are byte strings, as every name in tslink is: one char per byte (latin1), so a name
 * read from a directive compares equal to the same name read from an object's symbol table.
 */
export type CgoDirective =
  | {
      kind: 'cgo_import_dynamic';
      local: string;
      /** The second argument with any `#VERSION` removed; `null` when it was omitted. */
      remote: string | null;
      /**
       * The `VERSION` of `remote#VERSION`. With the one-argument form (`remote` omitted) it is
       * split off `local`, as Go's linker does when it defaults remote to local.
       */
      version: string | null;
      /** The quoted third argument; `null` when omitted or empty (`""`, as `cgo -dynimport` writes for weak undefined symbols). */
      library: string | null;
    }
  | { kind: 'cgo_import_static'; local: string }
  | { kind: 'cgo_export_dynamic'; local: string; remote: string | null }
  | { kind: 'cgo_export_static'; local: string; remote: string | null }
  | { kind: 'cgo_dynamic_linker'; path: string }
  | { kind: 'cgo_ldflag'; flag: string };

/** Where a directive came from, for Go-style `file:line: message` errors. */
export interface DirectiveSource {
  file: string;
  line: number;
}

/** A directive together with where it was read. */
export type LocatedCgoDirective = CgoDirective & { source: DirectiveSource };

/**
 * One entry of an ELF `.deplibs` section: a library specifier that lld resolves as `-l<spec>`
 * (`m`, `:libfoo.a`), then as a file in the `-L` directories, then as a path.
 */
export interface DependentLibrary {
  specifier: string;
  /** `file` is `obj.o:(.deplibs)`; `line` is the entry's 1-based position in the section. */
  source: DirectiveSource;
}

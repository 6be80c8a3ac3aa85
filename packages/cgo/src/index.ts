/**
 * @link/cgo — Go's cgo linker directives. Interface only until its issue: the directive model
 * that every carrier (`--cgo-directives` files, an object section, ELF .deplibs, COFF .drectve,
 * Mach-O LC_LINKER_OPTION) feeds.
 */
export type CgoDirective =
  | {
      kind: 'cgo_import_dynamic';
      local: string;
      remote: string | null;
      version: string | null;
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

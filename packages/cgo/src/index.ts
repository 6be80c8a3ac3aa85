/**
 * @link/cgo — Go's cgo linker directives: the directive model that every carrier
 * (`--cgo-directives` files, the `.go.cgo_directives` object section and Mach-O's
 * `__LD,__cgo_directives`, ELF `.deplibs`, later COFF `.drectve`) feeds, its text-format
 * parser, and the cross-source checks Go's linker makes.
 */
export type {
  CgoDirective,
  DependentLibrary,
  DirectiveSource,
  LocatedCgoDirective,
} from './types.js';
export {
  CGO_USAGE,
  goQuote,
  parseCgoDirectives,
  splitDirectiveFields,
  splitVersion,
  type DirectiveField,
} from './parse.js';
export { CgoDirectives, isLibraryOnlyImport, type CgoExport, type CgoImport } from './model.js';
export {
  CGO_DIRECTIVES_SECTION,
  DEPLIBS_SECTION,
  SHT_LLVM_DEPENDENT_LIBRARIES,
  parseDeplibsSection,
  parseDirectiveSection,
} from './deplibs.js';

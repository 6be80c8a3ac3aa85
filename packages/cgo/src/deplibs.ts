/**
 * Directives carried inside objects.
 *
 * - `.deplibs` (type `SHT_LLVM_DEPENDENT_LIBRARIES`): what clang writes for
 *   `#pragma comment(lib, "m")` on ELF, and lld's autolinking input — library specifiers, each
 *   NUL-terminated. lld resolves one as `-l<spec>`, then as a file in the `-L` directories,
 *   then as a path.
 * - `.go.cgo_directives` (tslink's own, `SHT_PROGBITS`, no flags): the cgo directive text
 *   format of `parseCgoDirectives`, so a C object can carry `cgo_import_dynamic` and friends
 *   (written with a top-level `asm`, see the README). Contributions of several objects
 *   concatenate under `ld -r`, so each directive should end with `\n` (or a NUL).
 */
import { LinkError, latin1 } from '@link/core';
import { parseCgoDirectives } from './parse.js';
import type { DependentLibrary, LocatedCgoDirective } from './types.js';

/** The section holding cgo directives inside an object. */
export const CGO_DIRECTIVES_SECTION = '.go.cgo_directives';

/** The section clang writes `#pragma comment(lib, ...)` into. */
export const DEPLIBS_SECTION = '.deplibs';

/** `SHT_LLVM_DEPENDENT_LIBRARIES`: lld recognises `.deplibs` by this type, not by name. */
export const SHT_LLVM_DEPENDENT_LIBRARIES = 0x6fff4c04;

/**
 * Parses a `.deplibs` section's contents: NUL-terminated specifiers, in order. As in lld, the
 * last one must be terminated (`corrupted dependent libraries section (unterminated string)`);
 * an empty specifier can name no library and is an error too. Duplicates are kept here (the
 * model drops them).
 */
export function parseDeplibsSection(
  bytes: Uint8Array,
  objectName: string,
  sectionName: string = DEPLIBS_SECTION,
): DependentLibrary[] {
  const out: DependentLibrary[] = [];
  const file = `${objectName}:(${sectionName})`;
  let off = 0;
  while (off < bytes.length) {
    const end = bytes.indexOf(0, off);
    if (end < 0) {
      throw new LinkError(
        `${objectName}: corrupted dependent libraries section (unterminated string): ${sectionName}`,
      );
    }
    if (end === off) {
      throw new LinkError(
        `${objectName}: empty library specifier in dependent libraries section: ${sectionName}` +
          ` (entry ${out.length + 1})`,
      );
    }
    out.push({ specifier: latin1(bytes, off, end), source: { file, line: out.length + 1 } });
    off = end + 1;
  }
  return out;
}

/**
 * Parses a `.go.cgo_directives` section's contents. Errors name the place as
 * `obj.o:(.go.cgo_directives):LINE`, lines counted within the section.
 */
export function parseDirectiveSection(
  bytes: Uint8Array,
  objectName: string,
): LocatedCgoDirective[] {
  return parseCgoDirectives(
    latin1(bytes, 0, bytes.length),
    `${objectName}:(${CGO_DIRECTIVES_SECTION})`,
  );
}

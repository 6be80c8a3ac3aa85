import * as fs from 'node:fs';

/*
 * Whether a command line is ld64's (Mach-O output) rather than GNU ld's. Kept apart from
 * macho-args.ts so that deciding costs an ELF link nothing: the Mach-O linker is a separate
 * bundle (build.mjs), loaded only when this says yes.
 */

const MH_MAGIC_64 = 0xfeedfacf;
const MH_MAGIC = 0xfeedface;

/** Options (of either command line) whose value is a separate argument, not an input. */
const VALUE_OPTIONS = new Set([
  '-o',
  '-m',
  '-L',
  '-l',
  '-e',
  '-u',
  '-z',
  '-T',
  '-soname',
  '-rpath',
  '-arch',
  '-syslibroot',
  '-dynamic-linker',
  '-plugin',
  '-plugin-opt',
  '-undefined',
  '-install_name',
  '-dylib_install_name',
  '-bundle_loader',
  '-current_version',
  '-compatibility_version',
]);

function firstInputIsMacho(argv: readonly string[]): boolean {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (VALUE_OPTIONS.has(a)) {
      i++;
      continue;
    }
    if (a.startsWith('-')) continue;
    try {
      const fd = fs.openSync(a, 'r');
      const b = Buffer.alloc(4);
      fs.readSync(fd, b, 0, 4, 0);
      fs.closeSync(fd);
      const magic = b.readUInt32LE(0);
      return magic === MH_MAGIC_64 || magic === MH_MAGIC;
    } catch {
      return false;
    }
  }
  return false;
}

/** `-arch`, `-platform_version`, `-macosx_version_min`, `--format=macho`, or a Mach-O first input. */
export function isMachoCommandLine(argv: readonly string[]): boolean {
  if (argv.includes('--format=elf')) return false;
  if (
    argv.some(
      (a) =>
        a === '-arch' ||
        a === '-platform_version' ||
        a === '-macosx_version_min' ||
        a === '--format=macho',
    )
  )
    return true;
  return firstInputIsMacho(argv);
}

// Go's cgo directives in Mach-O links (@link/cgo/macho): a freestanding program whose only
// imports come from a directives file (no libSystem stub on the command line) runs under
// machoload; exports by directive appear in the export trie under their remote name;
// directives carried in the object's __LD,__cgo_directives section; LC_LINKER_OPTION requests
// that find nothing; and the errors and warnings, each naming file:line.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  describeResult,
  libexecDir,
  makeScratchDir,
  removeScratchDirs,
  requireTool,
  runChecked,
  runCommand,
  settle,
} from './helpers.js';
import {
  buildMachoload,
  compileMacho,
  linkMachoOk,
  machoFixtures,
  objdumpMacho,
  summarizeMacho,
  tslinkMacho,
} from './macho-helpers.js';

const TBD = join(machoFixtures, 'libSystem.tbd');
const DIRECTIVES = join(machoFixtures, 'cgo_write_directives.txt');
const LIBSYSTEM = '/usr/lib/libSystem.B.dylib';
const SLIDES = ['0x100000000', '0x7f0000000'];
const ENCODINGS = [[], ['-fixup_chains']];

let tslink: string;
let machoload: () => string;
let scratch: string;

beforeAll(() => {
  tslink = join(libexecDir(), 'tslink');
  requireTool('clang', 'clang');
  requireTool('llvm-objdump', 'llvm');
  machoload = settle(buildMachoload);
  scratch = makeScratchDir('macho-cgo');
});
afterAll(removeScratchDirs);

const link = tslinkMacho;
const linkOk = linkMachoOk;

function expectRuns(exe: string, want: { status: number; stdout: string }): void {
  for (const slide of SLIDES) {
    const run = runCommand([machoload(), exe], { env: { MACHOLOAD_SLIDE: slide } });
    expect({ status: run.status, stdout: run.stdout, slide }, describeResult(run)).toEqual({
      ...want,
      slide,
    });
  }
}

/** `llvm-objdump --macho --dylibs-used`: the LC_LOAD_DYLIB paths. */
function dylibsUsed(file: string): string[] {
  const text = runChecked([
    requireTool('llvm-objdump', 'llvm'),
    '--macho',
    '--dylibs-used',
    file,
  ]).stdout;
  return [...text.matchAll(/^\s+(\S+) \(compatibility version/gm)].map((m) => m[1]!);
}

describe('cgo directives in Mach-O links', () => {
  it('imports only from a directives file: LC_LOAD_DYLIB, bound as the remote name, runs', () => {
    const obj = compileMacho('cgo_write.c');
    for (const enc of ENCODINGS) {
      const out = join(scratch, `write${enc.join('')}.macho`);
      linkOk(out, [...enc, obj, '--cgo-directives', DIRECTIVES]);
      expect(dylibsUsed(out)).toEqual([LIBSYSTEM]);
      const s = summarizeMacho(objdumpMacho(out));
      // dyld binds write, not my_write; the symbol table names the import as dyld sees it.
      expect(s.symbols).toContain('*UND* _write');
      expect(s.symbols.join('\n')).not.toMatch(/_my_write/);
      if (enc.length === 0) expect(s.lazyBinds.join('\n')).toMatch(/libSystem\s+_write$/m);
      expectRuns(out, { status: 42, stdout: 'hello via cgo_import_dynamic\n' });
    }
    // Deterministic: the same inputs give the same bytes.
    const again = join(makeScratchDir('macho-cgo-again'), 'write.macho');
    linkOk(again, [obj, '--cgo-directives', DIRECTIVES]);
    expect(readFileSync(again).equals(readFileSync(join(scratch, 'write.macho')))).toBe(true);
    // Without the directives the same object does not link: the import came from them.
    const bare = link(join(scratch, 'bare.macho'), [obj]);
    expect(bare.status).toBe(1);
    expect(bare.stderr).toMatch(/undefined symbol: _my_write/);
  });

  it('binds to a dylib given on the command line when its install name matches (one LC_LOAD_DYLIB)', () => {
    const out = join(scratch, 'write-tbd.macho');
    linkOk(out, ['--cgo-directives', DIRECTIVES, compileMacho('cgo_write.c'), TBD]);
    expect(dylibsUsed(out)).toEqual([LIBSYSTEM]);
    expectRuns(out, { status: 42, stdout: 'hello via cgo_import_dynamic\n' });
  });

  it('cgo_export_dynamic puts the symbol in the export trie under its remote name', () => {
    const out = join(scratch, 'export.macho');
    linkOk(out, [
      `--cgo-directives=${DIRECTIVES}`,
      compileMacho('cgo_write.c'),
      '-exported_symbol',
      '_main',
    ]);
    const trie = runChecked([
      requireTool('llvm-objdump', 'llvm'),
      '--macho',
      '--exports-trie',
      out,
    ]).stdout;
    const names = [...trie.matchAll(/^0x[0-9A-F]+\s+(\S+)/gm)].map((m) => m[1]!).sort();
    // -exported_symbol leaves it out, the directive keeps it; the local name is not exported.
    expect(names).toEqual(['__mh_execute_header', '_go_answer', '_main']);
  });

  it('reads directives from the object (__LD,__cgo_directives) and warns about LC_LINKER_OPTION misses', () => {
    const obj = compileMacho('cgo_section.c');
    const out = join(scratch, 'section.macho');
    const stderr = linkOk(out, [obj]);
    expect(stderr).toMatch(
      /cgo_section.*\.o: Could not find or use auto-linked library 'tslink_no_such_lib'/,
    );
    expect(stderr).toMatch(
      /Could not find or use auto-linked framework 'TslinkNoSuchFramework' \(frameworks are looked for under -syslibroot, and none was given\)/,
    );
    // The directive section is the linker's: it is not in the output.
    expect(
      runChecked([requireTool('llvm-objdump', 'llvm'), '--macho', '-h', out]).stdout,
    ).not.toMatch(/__cgo_directives/);
    expect(dylibsUsed(out)).toEqual([LIBSYSTEM]);
    expectRuns(out, { status: 7, stdout: "from the object's directives\n" });
  });

  it('rejects malformed lines, versions and exports of undefined symbols with file:line', () => {
    const obj = compileMacho('cgo_write.c');
    const bad = join(scratch, 'bad.txt');
    writeFileSync(
      bad,
      'package main\ncgo_import_dynamic my_write write /usr/lib/libSystem.B.dylib\ncgo_frob x\n',
    );
    const r1 = link(join(scratch, 'bad.macho'), [obj, '--cgo-directives', bad]);
    expect(r1.status).toBe(1);
    expect(r1.stderr).toContain(`${bad}:2: usage: cgo_import_dynamic local [remote ["library"]]`);
    expect(r1.stderr).toContain(`${bad}:3: invalid cgo directive: ["cgo_frob" "x"]`);

    const versioned = join(scratch, 'versioned.txt');
    writeFileSync(versioned, `cgo_import_dynamic my_write write#V1 "${LIBSYSTEM}"\n`);
    const r2 = link(join(scratch, 'v.macho'), [obj, '--cgo-directives', versioned]);
    expect(r2.status).toBe(1);
    expect(r2.stderr).toContain(
      `${versioned}:1: cgo_import_dynamic my_write write#V1: Mach-O has no symbol versions`,
    );

    const undef = join(scratch, 'undef.txt');
    writeFileSync(
      undef,
      `cgo_import_dynamic my_write write "${LIBSYSTEM}"\n\ncgo_export_dynamic nothing_here\n`,
    );
    const r3 = link(join(scratch, 'u.macho'), [obj, '--cgo-directives', undef]);
    expect(r3.status).toBe(1);
    expect(r3.stderr).toContain(
      `${undef}:3: cgo_export_dynamic of undefined symbol nothing_here (_nothing_here)`,
    );

    const missing = link(join(scratch, 'm.macho'), [
      obj,
      '--cgo-directives',
      join(scratch, 'nope.txt'),
    ]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/cannot open cgo directives file .*nope\.txt/);
  });

  it('reports cgo_ldflag and cgo_dynamic_linker as not applicable to an internal Mach-O link', () => {
    const extra = join(scratch, 'ldflag.txt');
    writeFileSync(
      extra,
      `cgo_import_dynamic my_write write "${LIBSYSTEM}"\ncgo_ldflag "-lm"\ncgo_dynamic_linker "/lib64/ld-linux-x86-64.so.2"\n`,
    );
    const out = join(scratch, 'ldflag.macho');
    const stderr = linkOk(out, [compileMacho('cgo_write.c'), '--cgo-directives', extra]);
    expect(stderr).toContain(
      `${extra}:2: cgo_ldflag "-lm" ignored: it is for the host linker of an external link`,
    );
    expect(stderr).toContain(
      `${extra}:3: cgo_dynamic_linker "/lib64/ld-linux-x86-64.so.2" ignored`,
    );
    expectRuns(out, { status: 42, stdout: 'hello via cgo_import_dynamic\n' });
  });
});

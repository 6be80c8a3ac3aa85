// Shared objects linked by tslink (-shared) and programs linked against shared objects, each
// side also paired with GNU ld's output: a library linked by tslink must work in a program GNU ld
// links and under dlopen; a program tslink links must work with a library GNU ld links. Symbol
// interposition, -Bsymbolic, protected and hidden symbols, and a library exporting two versions
// of one function behave as with GNU ld.
import { copyFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import {
  compile,
  describeResult,
  elflint,
  fixturesDir,
  linkOk,
  makeScratchDir,
  removeScratchDirs,
  requireBaseTools,
  runChecked,
  runOk,
} from './helpers.js';

afterAll(removeScratchDirs);

type Linker = 'tslink' | 'gnu';

/** Links with gcc, through tslink (`-B<libexec>`, via linkOk) or the system's GNU ld. */
function gccLink(linker: Linker, args: string[], name: string): string {
  if (linker === 'tslink') return linkOk('gcc', args, name).output;
  const dir = makeScratchDir(name);
  const out = join(dir, name);
  runChecked(['gcc', ...args, '-o', out], { cwd: dir });
  return out;
}

/** A library `lib<stem>.so` (soname the same) in its own directory, linked by `linker`. */
function sharedLib(linker: Linker, stem: string, objects: string[], flags: string[] = []): string {
  const so = gccLink(
    linker,
    ['-shared', `-Wl,-soname,lib${stem}.so`, ...flags, ...objects],
    `lib${stem}.so`,
  );
  return so;
}

/** Links `objects` against the library `so` (found by -L/-l, run through its rpath). */
function programAgainst(linker: Linker, objects: string[], so: string, name: string): string {
  const dir = dirname(so);
  const stem = /^lib(.*)\.so$/.exec(basename(so))![1]!;
  return gccLink(linker, [...objects, `-L${dir}`, `-l${stem}`, `-Wl,-rpath,${dir}`], name);
}

const libObj = () => compile('shlib_lib.c', ['-O2', '-fPIC']);
const mainObj = () => compile('shlib_main.c', ['-O2']);

// The library's own view (interposable() → 1, protected_fn() → 10) and the program's
// interposition (interposable() → 2) come out exactly as with GNU ld on both sides.
const EXPECTED = 'hello from lib 9 helper=42 interp=2 prot=10 tls=11,10 tlsv=7 hidden=42\n';
const SYMBOLIC = 'hello from lib 5 helper=42 interp=1 prot=10 tls=11,10 tlsv=7 hidden=42\n';

describe('shared objects and programs that use them (amd64)', () => {
  requireBaseTools();
  const pairs: [Linker, Linker][] = [
    ['tslink', 'gnu'],
    ['gnu', 'tslink'],
    ['tslink', 'tslink'],
  ];

  it.each(pairs)('library linked by %s, program linked by %s', (libLinker, exeLinker) => {
    const so = sharedLib(libLinker, 'shl', [libObj()]);
    const exe = programAgainst(exeLinker, [mainObj()], so, 'main');
    expect(runOk(exe)).toBe(EXPECTED);
    if (libLinker === 'tslink') elflint(so);
    if (exeLinker === 'tslink') elflint(exe);
  });

  it('-Bsymbolic binds the library to its own definitions, as with GNU ld', () => {
    const ours = sharedLib('tslink', 'shls', [libObj()], ['-Wl,-Bsymbolic']);
    const theirs = sharedLib('gnu', 'shls', [libObj()], ['-Wl,-Bsymbolic']);
    const exe = programAgainst('gnu', [mainObj()], ours, 'main');
    expect(runOk(exe)).toBe(SYMBOLIC);
    // Same program against GNU ld's -Bsymbolic library: the same output.
    copyFileSync(theirs, ours);
    expect(runOk(exe)).toBe(SYMBOLIC);
  });

  it('a library linked by tslink works under dlopen; hidden symbols stay hidden', () => {
    const so = sharedLib('tslink', 'shd', [libObj()]);
    const dl = compile('shlib_dlopen.c', ['-O2']);
    for (const linker of ['gnu', 'tslink'] as const) {
      const exe = gccLink(linker, [dl], `dlopen-${linker}`);
      expect(runOk(exe, [so])).toBe('hello from lib 5 tls=10,11 hidden_fn visible=0\n');
    }
  });

  it('a library exporting two versions of one function, with a version script', () => {
    const obj = compile('shlib_versioned.c', ['-O2', '-fPIC']);
    const map = join(fixturesDir, 'shlib_versioned.map');
    const so = sharedLib('tslink', 'ver', [obj], [`-Wl,--version-script=${map}`]);
    elflint(so);
    const versions = runChecked(['readelf', '-W', '--dyn-syms', so]).stdout;
    expect(versions).toMatch(/ foo@V1\n/);
    expect(versions).toMatch(/ foo@@V2\n/);
    expect(versions).toMatch(/ bar@@V1\n/);
    expect(versions).not.toMatch(/internal_thing/); // `local: *`
    const fresh = compile('shlib_versioned_new.c', ['-O2']);
    const old = compile('shlib_versioned_old.c', ['-O2']);
    for (const linker of ['gnu', 'tslink'] as const) {
      expect(runOk(programAgainst(linker, [fresh], so, `new-${linker}`))).toBe('foo=2 bar=3\n');
      expect(runOk(programAgainst(linker, [old], so, `old-${linker}`))).toBe('old foo=1 bar=3\n');
    }
    // tslink's programs against GNU ld's library bind the same versions.
    const gnuSo = sharedLib('gnu', 'ver', [obj], [`-Wl,--version-script=${map}`]);
    expect(runOk(programAgainst('tslink', [old], gnuSo, 'old-on-gnu'))).toBe('old foo=1 bar=3\n');
  });
});

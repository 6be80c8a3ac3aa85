// Go's cgo directives applied by tslink's internal link (@link/cgo/elf): imports from a library
// that is not on the command line at all, exports under another name, directives carried in an
// object's .go.cgo_directives section, ELF .deplibs, and Go's errors.
import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import {
  compile,
  describeResult,
  fixturesDir,
  linkerPath,
  makeScratchDir,
  removeScratchDirs,
  requireBaseTools,
  requireTool,
  runChecked,
  runCommand,
  runOk,
  runProgram,
} from './helpers.js';

afterAll(removeScratchDirs);

const LIBDIR = '/usr/lib/x86_64-linux-gnu';
const GCCDIR = '/usr/lib/gcc/x86_64-linux-gnu/12';

/**
 * Runs tslink directly on the crt files and `objects`, with no libraries at all: whatever the
 * program needs from libc must come from the directives.
 */
function linkWithoutLibraries(objects: string[], extra: string[], name: string) {
  const dir = makeScratchDir(name);
  const out = join(dir, name);
  const r = runCommand([
    linkerPath(),
    '-pie',
    '--eh-frame-hdr',
    '-dynamic-linker',
    '/lib64/ld-linux-x86-64.so.2',
    '-o',
    out,
    `${LIBDIR}/Scrt1.o`,
    `${LIBDIR}/crti.o`,
    `${GCCDIR}/crtbeginS.o`,
    ...objects,
    `${GCCDIR}/crtendS.o`,
    `${LIBDIR}/crtn.o`,
    ...extra,
  ]);
  return { ...r, out };
}

describe('cgo directives in internal linking', () => {
  requireBaseTools();

  it('imports from a library named only by directives (the file need not be there)', () => {
    const obj = compile('cgo_puts_main.c', ['-O2']);
    const dirs = join(fixturesDir, 'cgo_libc_imports.txt');
    const r = linkWithoutLibraries([obj], ['--cgo-directives', dirs], 'cgo-file');
    expect(r.status, describeResult(r)).toBe(0);
    expect(runOk(r.out)).toBe('hello through cgo directives\n');
    const d = runChecked(['readelf', '-W', '-d', '--dyn-syms', r.out]).stdout;
    expect(d).toMatch(/\(NEEDED\)\s+Shared library: \[libc\.so\.6\]/);
    expect(d).toMatch(/UND puts@GLIBC_2\.2\.5/);
    expect(d).toMatch(/UND __libc_start_main@GLIBC_2\.34/);
  });

  it('links printf/malloc/getpid from `go tool cgo -dynimport` output alone; exports a callback', () => {
    requireTool('go', 'golang-go');
    const dir = makeScratchDir('cgo-libc');
    const src = join(fixturesDir, 'cgo_libc_program.c');
    // A reference build by gcc and GNU ld tells Go what the program imports from libc.
    const ref = join(dir, 'ref');
    runChecked(['gcc', '-O2', src, '-o', ref]);
    const dynout = join(dir, 'imports.dyn');
    runChecked(['go', 'tool', 'cgo', '-dynimport', ref, '-dynout', dynout], {
      env: { GOCACHE: join(dir, 'gocache'), GOPATH: join(dir, 'gopath') },
    });
    const exportsFile = join(dir, 'exports.txt');
    runChecked(['sh', '-c', `echo '//go:cgo_export_dynamic host_square' > ${exportsFile}`]);
    const obj = compile('cgo_libc_program.c', ['-O2']);
    const r = linkWithoutLibraries(
      [obj],
      ['--cgo-directives', dynout, '--cgo-directives', exportsFile],
      'cgo-libc-out',
    );
    expect(r.status, describeResult(r)).toBe(0);
    expect(runOk(r.out)).toBe('sum=60 pid>0=1\n');
    // The plugin (GNU ld, undefined host_square) binds to the program's exported definition.
    const plugin = join(dir, 'plugin.so');
    const pluginSrc = join(fixturesDir, 'cgo_callback_plugin.c');
    runChecked(['gcc', '-shared', '-fPIC', '-O2', pluginSrc, '-o', plugin]);
    const run = runProgram(r.out, [plugin]);
    expect({ status: run.status, stdout: run.stdout }, describeResult(run)).toEqual({
      status: 0,
      stdout: 'sum=60 pid>0=1\nplugin_run(7)=50\n',
    });
  });

  it('accepts what `go tool cgo -dynimport` writes, unchanged', () => {
    requireTool('go', 'golang-go');
    const dir = makeScratchDir('dynout');
    const dynout = join(dir, 'true.dyn');
    // The import list of a real binary: libc symbols, versions, `//go:` prefixes, a package line.
    runChecked(['go', 'tool', 'cgo', '-dynimport', '/bin/true', '-dynout', dynout], {
      env: { GOCACHE: join(dir, 'gocache'), GOPATH: join(dir, 'gopath') },
    });
    const obj = compile('cgo_puts_main.c', ['-O2']);
    const ours = join(fixturesDir, 'cgo_libc_imports.txt');
    const r = linkWithoutLibraries(
      [obj],
      ['--cgo-directives', dynout, '--cgo-directives', ours],
      'cgo-dynout',
    );
    expect(r.status, describeResult(r)).toBe(0);
    expect(runOk(r.out)).toBe('hello through cgo directives\n');
  });

  it('reads directives from a .go.cgo_directives section and exports under other names', () => {
    const obj = compile('cgo_section.c', ['-O2']);
    const sections = runChecked(['readelf', '-W', '-S', obj]).stdout;
    expect(sections).toContain('.go.cgo_directives');
    const r = linkWithoutLibraries([obj], [], 'cgo-section');
    expect(r.status, describeResult(r)).toBe(0);
    expect(runOk(r.out)).toBe('from a section\n');
    const syms = runChecked(['readelf', '-W', '--dyn-syms', r.out]).stdout;
    // cgo_export_dynamic my_callback go_callback; cgo_export_dynamic shared_counter.
    expect(syms).toMatch(/FUNC\s+GLOBAL DEFAULT\s+\d+ go_callback\n/);
    expect(syms).toMatch(/OBJECT\s+GLOBAL DEFAULT\s+\d+ shared_counter\n/);
    expect(syms).not.toMatch(/ my_callback\n/);
    expect(runChecked(['readelf', '-W', '-S', r.out]).stdout).not.toContain('cgo_directives');
  });

  it('a symbol both imported and exported is an error naming both places', () => {
    const obj = compile('cgo_puts_main.c', ['-O2']);
    const dir = makeScratchDir('cgo-bad');
    const bad = join(dir, 'bad.txt');
    copyFileSync(join(fixturesDir, 'cgo_libc_imports.txt'), bad);
    runChecked(['sh', '-c', `echo 'cgo_export_dynamic puts' >> ${bad}`]);
    const r = linkWithoutLibraries([obj], ['--cgo-directives', bad], 'cgo-bad-out');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${bad}:5: symbol is both imported and exported: puts`);
    expect(r.stderr).toContain(`>>> cgo_import_dynamic at ${bad}:1`);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(existsSync(r.out)).toBe(false); // nothing written
  });

  it('a malformed directive is an error with its file and line; nothing is written', () => {
    const obj = compile('cgo_puts_main.c', ['-O2']);
    const dir = makeScratchDir('cgo-malformed');
    const bad = join(dir, 'bad.txt');
    writeFileSync(bad, '//go:cgo_import_dynamic puts puts "libc.so.6"\ncgo_import_dynamic a "b"\n');
    const r = linkWithoutLibraries([obj], ['--cgo-directives', bad], 'cgo-malformed-out');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${bad}:2: usage: cgo_import_dynamic local [remote ["library"]]`);
    expect(existsSync(r.out)).toBe(false);
  });

  it('adds the libraries an object names in .deplibs, as lld does', () => {
    requireTool('clang', 'clang');
    const dir = makeScratchDir('deplibs');
    const obj = join(dir, 'dep.o');
    runChecked(['clang', '-O2', '-c', join(fixturesDir, 'cgo_deplibs.c'), '-o', obj]);
    const exe = join(dir, 'dep');
    runChecked(['clang', `--ld-path=${linkerPath()}`, obj, '-o', exe]);
    expect(runOk(exe)).toBe('1.000\n');
    expect(runChecked(['readelf', '-d', exe]).stdout).toMatch(/\[libm\.so\.6\]/);
  });
});

// Link modes (@link/hostlink): external mode hands the final link to the host compiler driver
// (gcc or clang) with tslink's -r output as go.o, for executables, PIEs and shared objects; auto
// mode picks external for an LTO object and internal otherwise, saying why under -v.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
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
  runProgram,
} from './helpers.js';

afterAll(removeScratchDirs);

const HELLO = 'Hello, world! 2 + 3 = 5\n';

function tslink(args: string[], dir: string) {
  return runCommand([linkerPath(), ...args], { cwd: dir });
}

describe('link modes', () => {
  requireBaseTools();

  it.each([
    ['gcc', 'exe'],
    ['gcc', 'pie'],
    ['clang', 'exe'],
    ['clang', 'pie'],
  ])('external mode with --extld=%s links a working %s', (extld, mode) => {
    if (extld === 'clang') requireTool('clang', 'clang');
    const obj = compile('hello.c', ['-O2', '-fPIE']);
    const dir = makeScratchDir(`ext-${extld}-${mode}`);
    const out = join(dir, 'hello');
    const r = tslink(
      [
        '--linkmode=external',
        `--extld=${extld}`,
        ...(mode === 'pie' ? ['-pie'] : []),
        '-v',
        '-o',
        out,
        obj,
      ],
      dir,
    );
    expect(r.status, describeResult(r)).toBe(0);
    expect(r.stderr).toContain('link mode external: --linkmode=external');
    expect(r.stderr).toMatch(
      new RegExp(
        `host link: ${extld} ${mode === 'pie' ? '-pie' : '-no-pie'} -o \\S+/a\\.out \\S+/go\\.o`,
      ),
    );
    const run = runProgram(out);
    expect({ status: run.status, stdout: run.stdout }, describeResult(run)).toEqual({
      status: 0,
      stdout: HELLO,
    });
    expect(runChecked(['readelf', '-h', out]).stdout).toMatch(
      mode === 'pie' ? /Type:\s+DYN/ : /Type:\s+EXEC/,
    );
  });

  it.each(['gcc', 'clang'])(
    'external mode with --extld=%s links a shared object; --tmpdir keeps go.o',
    (extld) => {
      if (extld === 'clang') requireTool('clang', 'clang');
      const lib = compile('shlib_lib.c', ['-O2', '-fPIC']);
      const dir = makeScratchDir(`ext-shared-${extld}`);
      const keep = join(dir, 'keep');
      const so = join(dir, 'libshl.so');
      const r = tslink(
        [
          '--linkmode=external',
          `--extld=${extld}`,
          '--tmpdir',
          keep,
          '-shared',
          '-soname',
          'libshl.so',
          '-o',
          so,
          lib,
        ],
        dir,
      );
      expect(r.status, describeResult(r)).toBe(0);
      expect(readdirSync(keep).sort()).toEqual(['a.out', 'go.o']);
      expect(runChecked(['readelf', '-h', join(keep, 'go.o')]).stdout).toMatch(/Type:\s+REL/);
      const main = compile('shlib_main.c', ['-O2']);
      const exe = join(dir, 'main');
      runChecked(['gcc', main, `-L${dir}`, '-lshl', `-Wl,-rpath,${dir}`, '-o', exe]);
      const run = runProgram(exe);
      expect(run.stdout, describeResult(run)).toBe(
        'hello from lib 9 helper=42 interp=2 prot=10 tls=11,10 tlsv=7 hidden=42\n',
      );
    },
  );

  it('auto mode chooses external for a gcc -flto object, and the result runs', () => {
    const dir = makeScratchDir('auto-lto');
    const obj = join(dir, 'hello.o');
    runChecked(['gcc', '-flto', '-O2', '-c', join(fixturesDir, 'hello.c'), '-o', obj]);
    const keep = join(dir, 'keep');
    const out = join(dir, 'hello');
    const r = tslink(['-v', '--tmpdir', keep, '-o', out, obj], dir);
    expect(r.status, describeResult(r)).toBe(0);
    expect(r.stderr).toContain(`link mode external: ${obj} is an LTO object`);
    expect(readdirSync(keep)).toContain('000000.o');
    expect(runProgram(out).stdout).toBe(HELLO);
  });

  it('auto mode stays internal for plain objects', () => {
    const dir = makeScratchDir('auto-plain');
    const fixtures = join(fixturesDir, '../../../../tools/demo/fixtures');
    const out = join(dir, 'demo');
    const objs = ['start.o', 'main.o', 'util.o'].map((o) => join(fixtures, o));
    const r = tslink(['-v', '-static', '-nostdlib', '-e', '_start', '-o', out, ...objs], dir);
    expect(r.status, describeResult(r)).toBe(0);
    expect(r.stderr).toContain('link mode internal: no input needs the host linker');
    expect(runProgram(out).status).toBe(0);
  });

  it("the host linker's failure is reported with its status and stderr; the output is untouched", () => {
    const dir = makeScratchDir('ext-fail');
    const src = join(dir, 'u.c');
    writeFileSync(src, 'int missing(void);\nint main(void) { return missing(); }\n');
    const obj = join(dir, 'u.o');
    runChecked(['gcc', '-c', src, '-o', obj]);
    const out = join(dir, 'prog');
    writeFileSync(out, 'previous');
    const r = tslink(['--linkmode=external', '-o', out, obj], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/tslink: error: cc failed \(exit status 1\):/);
    expect(r.stderr).toContain('missing');
    expect(readFileSync(out, 'utf8')).toBe('previous');
    expect(existsSync(join(dir, '.prog.tslink-tmp'))).toBe(false);
  });
});

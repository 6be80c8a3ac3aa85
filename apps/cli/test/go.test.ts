// Go's external linking with tslink as the host linker: `go build -ldflags='-linkmode=external
// -extldflags=-B<libexec>'` makes Go's linker write its objects and hand the final link to gcc,
// which runs tslink. A pure Go program, a cgo program with calls in both directions, a PIE and a
// c-shared library loaded by a C host must all build and run.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { ARMHF, I686, crossRun, requireCross, type CrossTarget } from './cross.js';
import {
  cacheDir,
  describeResult,
  elflint,
  fixturesDir,
  libexecDir,
  linkerPath,
  makeScratchDir,
  removeScratchDirs,
  requireBaseTools,
  requireTool,
  runChecked,
  runOk,
  runProgram,
} from './helpers.js';

afterAll(removeScratchDirs);

const GO_TIMEOUT_MS = 240_000;

/**
 * `go build` of a fixture package (GOPATH mode: the fixtures have no go.mod), linked by tslink.
 * `env` cross-compiles (GOARCH, CC).
 */
function goBuild(
  pkg: string,
  out: string,
  extra: string[] = [],
  env: Record<string, string> = {},
): void {
  requireTool('go', 'golang-go');
  linkerPath();
  runChecked(
    [
      'go',
      'build',
      ...extra,
      `-ldflags=-linkmode=external -extldflags=-B${libexecDir()}`,
      '-o',
      out,
      '.',
    ],
    {
      cwd: join(fixturesDir, 'go', pkg),
      timeoutMs: GO_TIMEOUT_MS,
      env: {
        GO111MODULE: 'off',
        GOCACHE: join(cacheDir, 'go-build'),
        GOPATH: join(cacheDir, 'gopath'),
        GOFLAGS: '',
        CGO_ENABLED: '1',
        ...env,
      },
    },
  );
}

const PURE = '[0 1 4 9 16 25 36 49] brown,dog,fox,jumps,lazy,over,quick,the,the\n';

describe('Go with -linkmode=external through tslink', { timeout: GO_TIMEOUT_MS * 2 }, () => {
  requireBaseTools();

  it('a pure Go program', () => {
    const exe = join(makeScratchDir('go-pure'), 'pure');
    goBuild('pure', exe);
    expect(runOk(exe)).toBe(PURE);
  });

  it('a pure Go program, -buildmode=pie', () => {
    const exe = join(makeScratchDir('go-pie'), 'pie');
    goBuild('pure', exe, ['-buildmode=pie']);
    expect(runOk(exe)).toBe(PURE);
    expect(runChecked(['readelf', '-h', exe]).stdout).toMatch(/Type:\s+DYN/);
  });

  it('a cgo program: Go calls C, C calls back into Go', () => {
    const exe = join(makeScratchDir('go-cgo'), 'cgo');
    goBuild('cgo', exe);
    expect(runOk(exe)).toBe('C says: hello from Go\ncAdd: 205\n');
  });

  it('-buildmode=plugin, opened by a Go host with plugin.Open (both linked by tslink)', () => {
    const dir = makeScratchDir('go-plugin');
    const so = join(dir, 'plug.so');
    goBuild('plugin', so, ['-buildmode=plugin']);
    const host = join(dir, 'host');
    goBuild('pluginhost', host);
    const r = runProgram(host, [so]);
    expect({ status: r.status, stdout: r.stdout }, describeResult(r)).toEqual({
      status: 0,
      stdout: 'hello host from a plugin (42) 42\n',
    });
  });

  it('-buildmode=c-shared, loaded by a C program', () => {
    const dir = makeScratchDir('go-cshared');
    const so = join(dir, 'libgosq.so');
    goBuild('cshared', so, ['-buildmode=c-shared']);
    // The C host is linked by GNU ld, so this checks tslink's shared object on its own.
    const host = join(dir, 'host');
    runChecked([
      'gcc',
      `-I${dir}`,
      join(fixturesDir, 'go', 'chost', 'host.c'),
      `-L${dir}`,
      '-lgosq',
      `-Wl,-rpath,${dir}`,
      '-o',
      host,
    ]);
    expect(runOk(host)).toBe('hello from a Go c-shared library\nGoSquare(7)=49\n');
  });
});

// Go's cgo for 386 and arm, cross-compiled with Debian's cross gcc as CC and linked by tslink. The
// 386 program runs natively through the i686 dynamic linker (qemu-i386 7.2 cannot run Go 386
// binaries, whatever linked them), the arm one under qemu-arm.
interface GoCross {
  target: CrossTarget;
  env: Record<string, string> & { GOARCH: string };
}

describe.each<GoCross>([
  { target: I686, env: { GOARCH: '386', CC: 'i686-linux-gnu-gcc' } },
  { target: ARMHF, env: { GOARCH: 'arm', GOARM: '7', CC: 'arm-linux-gnueabihf-gcc' } },
])(
  'Go cgo for $env.GOARCH with -linkmode=external through tslink',
  { timeout: GO_TIMEOUT_MS * 2 },
  ({ target, env }) => {
    it('a cgo program: Go calls C, C calls back into Go', () => {
      requireCross(target);
      const exe = join(makeScratchDir(`go-cgo-${env.GOARCH}`), 'cgo');
      goBuild('cgo', exe, [], env);
      const header = runChecked(['readelf', '-h', exe]).stdout;
      expect(header).toMatch(env.GOARCH === '386' ? /Machine:\s+Intel 80386/ : /Machine:\s+ARM/);
      const r = crossRun(target, exe);
      expect({ status: r.status, stdout: r.stdout }, describeResult(r)).toEqual({
        status: 0,
        stdout: 'C says: hello from Go\ncAdd: 205\n',
      });
    });
  },
);

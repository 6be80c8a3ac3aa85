import { describe, expect, it } from 'vitest';
import {
  buildHostArgv,
  decideLinkMode,
  quoteArgv,
  splitFlags,
  type HostLinkPlan,
} from '../src/index.js';

const base: HostLinkPlan = {
  extld: 'cc',
  extldflags: [],
  output: '/tmp/x/a.out',
  buildMode: 'exe',
  zFlags: [],
  exportDynamic: false,
  exportSymbols: [],
  soname: null,
  rpath: [],
  objects: ['/tmp/x/go.o'],
  libraries: [],
  cgoLdflags: [],
};

describe('buildHostArgv (golden)', () => {
  it('a plain executable', () => {
    expect(buildHostArgv(base)).toEqual(['cc', '-no-pie', '-o', '/tmp/x/a.out', '/tmp/x/go.o']);
  });

  it('a PIE with flags, z keywords, exports, host objects, libraries and cgo flags', () => {
    expect(
      buildHostArgv({
        ...base,
        extld: 'clang',
        extldflags: ['-fuse-ld=lld', '-Wl,--icf=all'],
        buildMode: 'pie',
        zFlags: ['now', 'relro'],
        exportSymbols: ['GoAdd', 'GoCallback'],
        rpath: ['$ORIGIN/lib'],
        objects: ['/tmp/x/go.o', '/tmp/x/000000.o', '/tmp/x/000001.o'],
        libraries: ['-L/opt/lib', '-lfoo', '/opt/lib/libbar.a'],
        cgoLdflags: ['-lpthread'],
      }),
    ).toEqual([
      'clang',
      '-fuse-ld=lld',
      '-Wl,--icf=all',
      '-pie',
      '-Wl,-z,now',
      '-Wl,-z,relro',
      '-Wl,-rpath,$ORIGIN/lib',
      '-Wl,--export-dynamic-symbol=GoAdd',
      '-Wl,--export-dynamic-symbol=GoCallback',
      '-o',
      '/tmp/x/a.out',
      '/tmp/x/go.o',
      '/tmp/x/000000.o',
      '/tmp/x/000001.o',
      '-L/opt/lib',
      '-lfoo',
      '/opt/lib/libbar.a',
      '-lpthread',
    ]);
  });

  it('a shared object with a soname; --export-dynamic means -rdynamic', () => {
    expect(
      buildHostArgv({
        ...base,
        buildMode: 'shared',
        soname: 'libx.so.1',
        exportDynamic: true,
        exportSymbols: ['a'],
      }),
    ).toEqual([
      'cc',
      '-shared',
      '-Wl,-soname,libx.so.1',
      '-rdynamic',
      '-o',
      '/tmp/x/a.out',
      '/tmp/x/go.o',
    ]);
  });
});

describe('quoting and splitting', () => {
  it('quotes what a shell would split', () => {
    expect(quoteArgv(['cc', '-o', 'a b', "it's", '-Wl,-z,now'])).toBe(
      `cc -o 'a b' 'it'\\''s' -Wl,-z,now`,
    );
  });
  it('splits --extldflags on spaces, honouring quotes', () => {
    expect(splitFlags(`-static "-Wl,-rpath,/a b" '-DX=1 2'  -g`)).toEqual([
      '-static',
      '-Wl,-rpath,/a b',
      '-DX=1 2',
      '-g',
    ]);
  });
});

describe('decideLinkMode', () => {
  const plain = { path: 'a.o', isLto: () => false };
  const bitcode = { path: 'b.o', isLto: () => true };
  it('internal and external when asked', () => {
    expect(decideLinkMode('internal', true, [bitcode]).mode).toBe('internal');
    expect(decideLinkMode('external', false, [plain]).mode).toBe('external');
  });
  it('auto: external for LTO IR or a forced --extld, else internal, with the reason', () => {
    expect(decideLinkMode('auto', false, [plain, bitcode])).toEqual({
      mode: 'external',
      reason: "b.o is an LTO object: the host linker's plug-in compiles it",
    });
    expect(decideLinkMode('auto', true, [plain]).reason).toBe('--extld was given');
    expect(decideLinkMode('auto', false, [plain]).mode).toBe('internal');
  });
});

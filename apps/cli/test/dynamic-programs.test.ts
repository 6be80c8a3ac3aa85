// Real programs linked dynamically by tslink against the system's shared libraries: the SQLite
// driver against libsqlite3.so, a libcrypto (OpenSSL 3) client, and a C++17 program using
// threads, exceptions and dlopen of a plugin that is itself linked either by GNU ld or by tslink
// (`-shared`). Also clang/clang++ with `--ld-path=<libexec>/ld`. Every program is run and its
// exact stdout compared.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  compile,
  describeResult,
  fixturesDir,
  LINK_TIMEOUT_MS,
  lines,
  linkerPath,
  linkOk,
  makeScratchDir,
  removeScratchDirs,
  requireBaseTools,
  requireFile,
  requireTool,
  runChecked,
  runCommand,
  runProgram,
  settle,
  type RunResult,
} from './helpers.js';
import { CRYPTO_STDOUT, DYNAMIC_CXX_STDOUT, sqlite } from './programs.js';

const C_FLAGS = ['-O2', '-Wall'];
const CXX_FLAGS = ['-O2', '-Wall', '-std=c++17', '-pthread'];
/** The plugin is C, but C++ exceptions unwind through it: it needs unwind tables. */
const PLUGIN_FLAGS = ['-O2', '-Wall', '-fPIC', '-fexceptions'];

const LINK_MODES: [label: string, flags: readonly string[]][] = [
  ['PIE (the default)', []],
  ['-no-pie', ['-no-pie']],
];

function expectRun(run: RunResult, stdout: string): void {
  expect(
    { status: run.status, signal: run.signal, stdout: run.stdout },
    describeResult(run),
  ).toEqual({ status: 0, signal: null, stdout });
}

/** `readelf -d` of a file: its NEEDED entries, in order. */
function neededLibraries(file: string): string[] {
  const out = runChecked(['readelf', '-dW', file]).stdout;
  return [...out.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1] ?? '');
}

/** ELF type from `readelf -h`: EXEC or DYN. */
function elfType(file: string): string {
  return runChecked(['readelf', '-hW', file]).stdout.match(/^\s*Type:\s+(\w+)/m)?.[1] ?? '?';
}

/** Program header types from `readelf -l`. */
function segmentTypes(file: string): string[] {
  const out = runChecked(['readelf', '-lW', file]).stdout;
  return [...out.matchAll(/^\s{2}([A-Z_]+)\s+0x/gm)].map((m) => m[1] ?? '');
}

/** Symbols that `readelf --dyn-syms` lists as undefined (imported). */
function importedSymbols(file: string): Set<string> {
  const out = runChecked(['readelf', '--dyn-syms', '-W', file]).stdout;
  return new Set(
    [...out.matchAll(/^\s*\d+: [0-9a-f]+\s+\d+ \w+\s+\w+\s+\w+\s+UND (\S+)/gm)].map((m) =>
      (m[1] ?? '').replace(/@.*/, ''),
    ),
  );
}

function expectDynamicExecutable(file: string, extra: readonly string[]): void {
  expect(elfType(file)).toBe(extra.includes('-no-pie') ? 'EXEC' : 'DYN');
  expect(segmentTypes(file)).toEqual(expect.arrayContaining(['INTERP', 'DYNAMIC']));
}

// ---------------------------------------------------------------------------
// Expected output.

const HELLO_STDOUT = lines('Hello, world! 2 + 3 = 5');

// ---------------------------------------------------------------------------
// Builds shared by the tests (each getter rethrows its build error in the tests needing it).

let sqliteObject: () => string;
let cryptoObject: () => string;
let cxxObject: () => string;
let pluginByGnuLd: () => string;
let pluginByTslink: () => string;

beforeAll(() => {
  sqliteObject = settle(() => {
    requireBaseTools();
    sqlite.requires?.();
    requireFile('/usr/lib/x86_64-linux-gnu/libsqlite3.so', 'libsqlite3-dev');
    return compile('sqlite_driver.c', sqlite.cflags);
  });
  cryptoObject = settle(() => {
    requireBaseTools();
    requireFile('/usr/include/openssl/evp.h', 'libssl-dev');
    requireFile('/usr/lib/x86_64-linux-gnu/libcrypto.so', 'libssl-dev');
    return compile('crypto_evp.c', C_FLAGS);
  });
  cxxObject = settle(() => {
    requireBaseTools();
    return compile('dynamic_cxx_main.cpp', CXX_FLAGS);
  });
  const pluginObject = settle(() => {
    requireBaseTools();
    return compile('dynamic_plugin.c', PLUGIN_FLAGS);
  });
  // Plain gcc: the system's GNU ld links this one.
  pluginByGnuLd = settle(() => {
    const output = join(makeScratchDir('plugin-gnu-ld'), 'libplugin.so');
    runChecked(['gcc', '-shared', '-fPIC', '-o', output, pluginObject()]);
    return output;
  });
  pluginByTslink = settle(
    () => linkOk('gcc', ['-shared', '-fPIC', pluginObject()], 'libplugin.so').output,
  );
});
afterAll(removeScratchDirs);

// ---------------------------------------------------------------------------

describe('SQLite driver against libsqlite3.so', () => {
  let staticStdout: () => string;
  beforeAll(() => {
    staticStdout = settle(() => {
      const linked = linkOk('gcc', ['-static', sqliteObject(), ...(sqlite.libs ?? [])], 'static');
      const run = runProgram(linked.output);
      expectRun(run, sqlite.stdout);
      return run.stdout;
    });
  });

  it.each(LINK_MODES)('%s: same output as the static link, NEEDED libsqlite3.so.0', (_l, extra) => {
    const linked = linkOk('gcc', [...extra, sqliteObject(), '-lsqlite3']);
    expectRun(runProgram(linked.output), staticStdout());
    expectDynamicExecutable(linked.output, extra);
    expect(neededLibraries(linked.output)).toEqual(
      expect.arrayContaining(['libsqlite3.so.0', 'libc.so.6']),
    );
    // Really imported from the shared library, not pulled in from libsqlite3.a.
    expect([...importedSymbols(linked.output)]).toEqual(
      expect.arrayContaining(['sqlite3_open', 'sqlite3_prepare_v2', 'sqlite3_step']),
    );
  });
});

describe('OpenSSL libcrypto: digests, HMAC, AES-CBC/GCM, BIGNUM', () => {
  it.each(LINK_MODES)('%s', (_l, extra) => {
    const linked = linkOk('gcc', [...extra, cryptoObject(), '-lcrypto']);
    expectRun(runProgram(linked.output), CRYPTO_STDOUT);
    expectDynamicExecutable(linked.output, extra);
    expect(neededLibraries(linked.output)).toEqual(
      expect.arrayContaining(['libcrypto.so.3', 'libc.so.6']),
    );
  });
});

const PLUGINS: [label: string, path: () => string][] = [
  ['linked by GNU ld', () => pluginByGnuLd()],
  ['linked by tslink', () => pluginByTslink()],
];

describe('C++17: threads, exceptions, iostreams, dlopen/dlsym', () => {
  describe.each(LINK_MODES)('%s', (_l, extra) => {
    it.each(PLUGINS)('dlopen of a plugin %s', (_p, plugin) => {
      const linked = linkOk('g++', [...extra, '-pthread', cxxObject(), '-ldl']);
      expectRun(runProgram(linked.output, [plugin()]), DYNAMIC_CXX_STDOUT);
      expectDynamicExecutable(linked.output, extra);
      expect(neededLibraries(linked.output)).toEqual(
        expect.arrayContaining(['libstdc++.so.6', 'libc.so.6']),
      );
    });
  });

  it('the plugin linked by tslink is a shared object the unwinder can use', () => {
    const plugin = pluginByTslink();
    expect(elfType(plugin)).toBe('DYN');
    // gcc passes --eh-frame-hdr for -shared too; libgcc's unwinder finds a library's FDEs only
    // through PT_GNU_EH_FRAME (dl_iterate_phdr), so without it exceptions cannot cross the plugin.
    expect(segmentTypes(plugin)).toEqual(expect.arrayContaining(['DYNAMIC', 'GNU_EH_FRAME']));
  });
});

// ---------------------------------------------------------------------------
// clang and clang++ with --ld-path.

type ClangDriver = 'clang' | 'clang++';

const clangChecked = new Set<ClangDriver>();
/** Proves that `<driver> --ld-path=<libexec>/ld` really runs the linker under test. */
function clangLinkArgv(driver: ClangDriver, args: readonly string[], output: string): string[] {
  const argv = [driver, `--ld-path=${linkerPath()}`, ...args, '-o', output];
  if (!clangChecked.has(driver)) {
    const dry = runChecked([...argv.slice(0, -2), '-###', '-o', output]);
    const linkLine = dry.stderr.trim().split('\n').at(-1) ?? '';
    if (!linkLine.startsWith(` "${linkerPath()}"`)) {
      throw new Error(`${driver} --ld-path would not run ${linkerPath()}:\n${dry.stderr}`);
    }
    clangChecked.add(driver);
  }
  return argv;
}

function clangLinkOk(driver: ClangDriver, args: readonly string[], name: string): string {
  const output = join(makeScratchDir(`clang-${name}`), name);
  const result = runCommand(clangLinkArgv(driver, args, output), { timeoutMs: LINK_TIMEOUT_MS });
  if (result.status !== 0) throw new Error(`link failed:\n${describeResult(result)}`);
  return output;
}

describe('clang --ld-path=<libexec>/ld (PIE by default)', () => {
  let helloObject: () => string;
  let cxxClangObject: () => string;
  beforeAll(() => {
    const objects = makeScratchDir('clang-objects');
    helloObject = settle(() => {
      requireTool('clang', 'clang');
      const object = join(objects, 'hello.o');
      runChecked(['clang', ...C_FLAGS, '-c', join(fixturesDir, 'hello.c'), '-o', object]);
      return object;
    });
    cxxClangObject = settle(() => {
      requireTool('clang++', 'clang');
      const object = join(objects, 'dynamic_cxx_main.o');
      const source = join(fixturesDir, 'dynamic_cxx_main.cpp');
      runChecked(['clang++', ...CXX_FLAGS, '-c', source, '-o', object]);
      return object;
    });
  });

  it('clang: hello world', () => {
    const exe = clangLinkOk('clang', [helloObject()], 'hello');
    expectRun(runProgram(exe), HELLO_STDOUT);
    expectDynamicExecutable(exe, []);
  });

  it('clang++: the C++17 threads/exceptions/dlopen program', () => {
    const exe = clangLinkOk('clang++', ['-pthread', cxxClangObject(), '-ldl'], 'cxx');
    expectRun(runProgram(exe, [pluginByGnuLd()]), DYNAMIC_CXX_STDOUT);
    expectDynamicExecutable(exe, []);
  });
});

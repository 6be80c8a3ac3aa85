// Harness for the 386 and ARM end-to-end tests: the cross compilers Debian ships, how to run what
// they build on this amd64 machine, and the test sysroots with the targets' libsqlite3.a.
//
// 386 programs run natively (the kernel runs 32-bit x86): static ones directly, dynamic ones
// through the i686 sysroot's dynamic linker, because Debian's cross packages install their
// libraries under /usr/i686-linux-gnu rather than where PT_INTERP points. qemu-i386 7.2 hangs on
// threaded programs, so it is never used. ARM programs run under qemu-arm with the armhf sysroot.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  archive,
  compile,
  describeResult,
  link,
  LINK_TIMEOUT_MS,
  linkerPath,
  linkOk,
  makeScratchDir,
  repoRoot,
  requireFile,
  requireTool,
  runChecked,
  runCommand,
  RUN_TIMEOUT_MS,
  type LinkResult,
  type RunResult,
  type Source,
} from './helpers.js';
import {
  CRYPTO_STDOUT,
  DYNAMIC_CXX_STDOUT,
  RELOC_COMDAT_STDOUT,
  sqlite,
  type Program,
} from './programs.js';

export interface CrossTarget {
  /** Short name for test titles and scratch dirs. */
  name: 'i686' | 'armhf';
  /** Tool prefix: `<prefix>gcc`, `<prefix>g++`, `<prefix>ar`. */
  prefix: string;
  /** Where Debian's cross packages put the target's libc, libstdc++ and dynamic linker. */
  libDir: string;
  /** The dynamic linker inside libDir. */
  interpreter: string;
  /** Debian packages providing the compilers. */
  aptPackages: string;
  /** Debian multiarch name, for the test sysroot (`.cache/sysroots/<dpkgArch>`). */
  dpkgArch: 'i386' | 'armhf';
  triplet: string;
  /** `readelf -r` relocation name prefix. */
  relocPrefix: string;
}

export const I686: CrossTarget = {
  name: 'i686',
  prefix: 'i686-linux-gnu-',
  libDir: '/usr/i686-linux-gnu/lib',
  interpreter: '/usr/i686-linux-gnu/lib/ld-linux.so.2',
  aptPackages: 'gcc-i686-linux-gnu g++-i686-linux-gnu',
  dpkgArch: 'i386',
  triplet: 'i386-linux-gnu',
  relocPrefix: 'R_386_',
};

export const ARMHF: CrossTarget = {
  name: 'armhf',
  prefix: 'arm-linux-gnueabihf-',
  libDir: '/usr/arm-linux-gnueabihf/lib',
  interpreter: '/usr/arm-linux-gnueabihf/lib/ld-linux-armhf.so.3',
  aptPackages: 'gcc-arm-linux-gnueabihf g++-arm-linux-gnueabihf',
  dpkgArch: 'armhf',
  triplet: 'arm-linux-gnueabihf',
  relocPrefix: 'R_ARM_',
};

/** Fails with an install hint unless the target's compilers (and qemu-arm for ARM) exist. */
export function requireCross(t: CrossTarget): void {
  requireTool(`${t.prefix}gcc`, t.aptPackages);
  requireTool(`${t.prefix}g++`, t.aptPackages);
  requireFile(t.interpreter, t.aptPackages);
  if (t.name === 'armhf') requireTool('qemu-arm', 'qemu-user');
}

/** Compiles with the target's gcc/g++ (cached like compile()). */
export function crossCompile(
  t: CrossTarget,
  source: Source,
  flags: readonly string[] = [],
): string {
  return compile(source, flags, t.prefix);
}

/** `ar rcs` with the target's ar. */
export function crossArchive(t: CrossTarget, name: string, members: readonly string[]): string {
  return archive(name, members, t.prefix);
}

/** Links with `<prefix>gcc` (or g++) `-B<libexec>`, so tslink is the linker. */
export function crossLink(
  t: CrossTarget,
  lang: 'c' | 'c++',
  args: readonly string[],
  name = 'a.out',
): LinkResult {
  return link(`${t.prefix}${lang === 'c++' ? 'g++' : 'gcc'}`, args, `${t.name}-${name}`);
}

/** crossLink(), throwing with the linker's diagnostics unless it succeeded. */
export function crossLinkOk(
  t: CrossTarget,
  lang: 'c' | 'c++',
  args: readonly string[],
  name = 'a.out',
): LinkResult {
  return linkOk(`${t.prefix}${lang === 'c++' ? 'g++' : 'gcc'}`, args, `${t.name}-${name}`);
}

/** Whether an ELF file has a PT_INTERP (is dynamically linked). */
function isDynamic(exe: string): boolean {
  const r = runCommand(['readelf', '-lW', exe]);
  return /\bINTERP\b/.test(r.stdout);
}

export interface CrossRunOptions {
  /** Extra directories searched for shared libraries (the test's own .so files). */
  libraryPath?: readonly string[];
  env?: Record<string, string>;
}

/** Runs a program built for `t` on this machine, as the header of this file describes. */
export function crossRun(
  t: CrossTarget,
  exe: string,
  args: readonly string[] = [],
  options: CrossRunOptions = {},
): RunResult {
  const libs = [...(options.libraryPath ?? []), t.libDir].join(':');
  let argv: string[];
  if (t.name === 'i686') {
    argv = isDynamic(exe) ? [t.interpreter, '--library-path', libs, exe, ...args] : [exe, ...args];
  } else {
    argv = ['qemu-arm', '-L', dirname(t.libDir), '-E', `LD_LIBRARY_PATH=${libs}`, exe, ...args];
  }
  return runCommand(argv, { cwd: dirname(exe), timeoutMs: RUN_TIMEOUT_MS, env: options.env });
}

/** The target's SQLite and OpenSSL, unpacked by tools/sysroots/setup.sh. */
export interface TargetSysroot {
  /** -I flags: the common and the multiarch include directories. */
  includeFlags: string[];
  /** Holds libsqlite3.a, libsqlite3.so*, libcrypto.so*: a -L dir and a run-time library dir. */
  libDir: string;
  sqliteArchive: string;
}

export function targetSysroot(t: CrossTarget): TargetSysroot {
  const root = join(repoRoot, '.cache', 'sysroots', t.dpkgArch);
  const libDir = join(root, 'usr', 'lib', t.triplet);
  for (const file of ['libsqlite3.a', 'libsqlite3.so.0', 'libcrypto.so.3']) {
    if (!existsSync(join(libDir, file))) {
      throw new Error(
        `missing ${join(libDir, file)}: run tools/sysroots/setup.sh (as root; it unpacks ` +
          `Debian's SQLite and OpenSSL packages for ${t.dpkgArch})`,
      );
    }
  }
  const include = join(root, 'usr', 'include');
  return {
    includeFlags: [`-I${include}`, `-I${join(include, t.triplet)}`],
    libDir,
    sqliteArchive: join(libDir, 'libsqlite3.a'),
  };
}

// ---------------------------------------------------------------------------
// The amd64 program list (programs.ts), rebuilt for a 32-bit target.

export interface Mode {
  label: 'static' | 'PIE' | 'non-PIE';
  /** Compiler flags placed before the program's own (so its -fPIC wins). */
  cflags: readonly string[];
  ldflags: readonly string[];
}

// Debian's cross gcc builds PIE by default; the static and -no-pie modes compile
// position-dependent code so that the absolute relocation forms, copy relocations and
// canonical PLT entries are exercised as well as the GOT-relative ones.
export const MODES: readonly Mode[] = [
  { label: 'static', cflags: ['-fno-pie'], ldflags: ['-static'] },
  { label: 'PIE', cflags: [], ldflags: ['-pie'] },
  { label: 'non-PIE', cflags: ['-fno-pie'], ldflags: ['-no-pie'] },
];

/** The program ran, exited with `status` without a signal, and printed exactly `stdout`. */
export function expectRun(run: RunResult, stdout: string, status = 0): void {
  expect(
    { status: run.status, signal: run.signal, stdout: run.stdout },
    describeResult(run),
  ).toEqual({ status, signal: null, stdout });
}

export function languageOf(p: Program): 'c' | 'c++' {
  return p.driver === 'g++' ? 'c++' : 'c';
}

/** A program's link arguments in `mode`; its archive is built with the target's `ar`. */
export function crossProgramArgs(
  t: CrossTarget,
  mode: Mode,
  p: Program,
  objects: readonly string[],
): string[] {
  let inputs = [...objects];
  if (p.name.startsWith('static archive')) {
    const [main, lateUser, ...members] = objects;
    const lib = crossArchive(t, `members-${t.name}`, members);
    inputs = [main!, '-Wl,--start-group', lib, lateUser!, '-Wl,--end-group'];
  }
  return [...mode.ldflags, ...(p.ldflags ?? []), ...inputs, ...(p.libs ?? [])];
}

/** A program of the list compiled and linked for `t` in `mode`; returns the executable. */
export function crossLinkProgram(t: CrossTarget, mode: Mode, p: Program): string {
  const objects = p.sources.map((s) => crossCompile(t, s, [...mode.cflags, ...p.cflags]));
  const args = crossProgramArgs(t, mode, p, objects);
  return crossLinkOk(t, languageOf(p), args, `${mode.label}-prog`).output;
}

/**
 * A program's expected output on ILP32: threads.c sums into a `long`, which is 32 bits there,
 * so its grand total wraps (4200210000 - 2^32), as it does with GNU ld's output.
 */
export function ilp32Stdout(p: Program): string {
  return p.stdout.replace('grand=4200210000', `grand=${4200210000 - 2 ** 32}`);
}

/** The dynamically linked modes. */
export const DYNAMIC_MODES = MODES.filter((m) => m.label !== 'static');

/**
 * The C++17 program of dynamic-programs.test.ts for `t`: a host linked by tslink in `mode`
 * dlopen-s a C plugin linked by tslink (-shared); exceptions are thrown through the plugin.
 */
export function runDynamicCxx(t: CrossTarget, mode: Mode): void {
  const plugin = crossCompile(t, 'dynamic_plugin.c', ['-O2', '-Wall', '-fPIC', '-fexceptions']);
  const so = crossLinkOk(t, 'c', ['-shared', plugin], 'libplugin.so').output;
  const main = crossCompile(t, 'dynamic_cxx_main.cpp', [
    ...mode.cflags,
    '-O2',
    '-Wall',
    '-std=c++17',
    '-pthread',
  ]);
  const args = [...mode.ldflags, '-pthread', main, '-ldl'];
  const exe = crossLinkOk(t, 'c++', args, `${mode.label}-cxx-dl`).output;
  expectRun(crossRun(t, exe, [so]), DYNAMIC_CXX_STDOUT);
}

/** The SQLite driver linked in `mode` against the target's libsqlite3.a. */
export function runSqliteStatic(t: CrossTarget, mode: Mode): void {
  const root = targetSysroot(t);
  const obj = crossCompile(t, 'sqlite_driver.c', [...mode.cflags, '-O2', ...root.includeFlags]);
  const args = [...mode.ldflags, obj, root.sqliteArchive, '-lm', '-lpthread', '-ldl'];
  const exe = crossLinkOk(t, 'c', args, `${mode.label}-sqlite`).output;
  expectRun(crossRun(t, exe), sqlite.stdout);
}

/** A dynamically linked program against the target's shared `lib`: NEEDED, then run. */
function runAgainstSharedLibrary(
  t: CrossTarget,
  mode: Mode,
  source: string,
  lib: 'sqlite3' | 'crypto',
  stdout: string,
): void {
  const root = targetSysroot(t);
  const obj = crossCompile(t, source, [...mode.cflags, '-O2', ...root.includeFlags]);
  const args = [...mode.ldflags, obj, `-L${root.libDir}`, `-l${lib}`];
  const exe = crossLinkOk(t, 'c', args, `${mode.label}-${lib}`).output;
  const needed = runChecked(['readelf', '-dW', exe]).stdout;
  expect(needed).toMatch(lib === 'crypto' ? /\[libcrypto\.so\.3\]/ : /\[libsqlite3\.so\.0\]/);
  expectRun(crossRun(t, exe, [], { libraryPath: [root.libDir] }), stdout);
}

/** The SQLite driver against the target's libsqlite3.so (same output as the static link). */
export function runSqliteShared(t: CrossTarget, mode: Mode): void {
  runAgainstSharedLibrary(t, mode, 'sqlite_driver.c', 'sqlite3', sqlite.stdout);
}

/** The OpenSSL libcrypto program (digests, HMAC, AES, BIGNUM) against the target's libcrypto. */
export function runCrypto(t: CrossTarget, mode: Mode): void {
  runAgainstSharedLibrary(t, mode, 'crypto_evp.c', 'crypto', CRYPTO_STDOUT);
}

/**
 * `tslink -r` for `t`: each C++ object becomes a relocatable object of its own (REL addends back
 * in their fields, COMDAT groups kept, .ARM.exidx linked to its code, .ARM.attributes merged); the
 * two link, by tslink, into a program that runs, throwing through the code they hold.
 */
export function runRelocatableCxx(t: CrossTarget): void {
  const dir = makeScratchDir(`${t.name}-reloc`);
  const relocs = ['reloc_comdat_a.cpp', 'reloc_comdat_b.cpp'].map((source, k) => {
    const out = join(dir, `part${k}.o`);
    runChecked([linkerPath(), '-r', crossCompile(t, source, ['-O1']), '-o', out]);
    return out;
  });
  const groups = runChecked(['readelf', '-gW', relocs[0]!]).stdout;
  expect(groups).toMatch(/COMDAT group section .*\[_Z5totalIiET_RKSt6vectorIS0_SaIS0_EE\]/);
  const exe = crossLinkOk(t, 'c++', relocs, 'reloc').output;
  expectRun(crossRun(t, exe), RELOC_COMDAT_STDOUT);
}

/**
 * The tests both targets declare the same way: the C++17 dlopen program, SQLite against the
 * target's libsqlite3.a and libsqlite3.so, OpenSSL's libcrypto, and `-r`.
 */
export function describeCommonCrossTests(t: CrossTarget): void {
  const dynamic = DYNAMIC_MODES.map((m) => [m.label, m] as const);
  const all = MODES.map((m) => [m.label, m] as const);
  const timeout = LINK_TIMEOUT_MS * 3;
  describe(`${t.name} C++17 host dlopen-ing a plugin, exceptions through it`, () => {
    requireCross(t);
    it.each(dynamic)('%s', (_l, mode) => runDynamicCxx(t, mode), timeout);
  });
  describe(`${t.name} SQLite driver against the ${t.dpkgArch} libsqlite3.a`, () => {
    requireCross(t);
    it.each(all)('%s', (_l, mode) => runSqliteStatic(t, mode), timeout);
  });
  describe(`${t.name} programs against the target's shared libsqlite3 and libcrypto`, () => {
    requireCross(t);
    it.each(dynamic)(
      '%s: SQLite driver against libsqlite3.so',
      (_l, m) => runSqliteShared(t, m),
      timeout,
    );
    it.each(dynamic)('%s: OpenSSL libcrypto', (_l, m) => runCrypto(t, m), timeout);
  });
  describe(`${t.name} tslink -r`, () => {
    requireCross(t);
    it('two -r outputs with the same inline functions and exceptions link into one program', () =>
      runRelocatableCxx(t));
  });
}

// i686 (ELF32, REL) end to end: the fixture programs the amd64 suites run, compiled with
// i686-linux-gnu-gcc/g++ and linked by tslink (`-B<libexec>`) statically, as PIE and as
// position-dependent executables, each run natively with its exact stdout and exit status.
// Then C++ std::thread/thread_local/exceptions across threads, a C++ host dlopen-ing a plugin
// that exceptions cross, a shared library (with its TLS in every dynamic model, GD/LD/TLSDESC)
// used by a host program and through dlopen, a library whose TLS variables a host imports, and
// the SQLite driver against the i386 libsqlite3.a.
import { afterAll, describe, expect, it } from 'vitest';

import {
  crossCompile,
  describeCommonCrossTests,
  crossLinkProgram,
  expectRun,
  ilp32Stdout,
  MODES,
  crossLinkOk,
  crossRun,
  I686,
  requireCross,
} from './cross.js';
import { elflint, lines, LINK_TIMEOUT_MS, removeScratchDirs, runChecked } from './helpers.js';
import { programs, sqlite } from './programs.js';

afterAll(removeScratchDirs);

const T = I686;

// The amd64 list minus the SQLite program, which needs the i386 sysroot (tested below).
const PROGRAMS = programs.filter((p) => p !== sqlite);

describe('i686 programs linked by tslink', () => {
  requireCross(T);
  for (const mode of MODES) {
    describe(mode.label, () => {
      it.each(PROGRAMS.map((p) => [p.name, p] as const))(
        '%s',
        (_name, p) => {
          const exe = crossLinkProgram(T, mode, p);
          expectRun(crossRun(T, exe), ilp32Stdout(p), p.status);
          if (mode.label !== 'static') elflint(exe);
        },
        LINK_TIMEOUT_MS * 2,
      );
    });
  }
});

// --- C++ threads ------------------------------------------------------------------------------

const CXX_THREADS_STDOUT = lines(
  'thread 0 sum=5050',
  'thread 1 sum=20100',
  'thread 2 sum=45150',
  'thread 3 sum=80200',
  'counter destroyed after 1 calls',
  'counter destroyed after 2 calls',
  'counter destroyed after 3 calls',
  'counter destroyed after 4 calls',
  'async ok=2',
  'caught from thread: worker refuses 3',
  'main counter calls=0',
);

describe('i686 C++ std::thread, thread_local and exceptions across threads', () => {
  requireCross(T);
  it.each(MODES.map((m) => [m.label, m] as const))(
    '%s',
    (_label, mode) => {
      const obj = crossCompile(T, 'cxx_threads.cpp', [
        ...mode.cflags,
        '-O2',
        '-Wall',
        '-std=c++17',
        '-pthread',
      ]);
      const exe = crossLinkOk(
        T,
        'c++',
        [...mode.ldflags, '-pthread', obj],
        `${mode.label}-cxx-threads`,
      ).output;
      expectRun(crossRun(T, exe), CXX_THREADS_STDOUT);
    },
    LINK_TIMEOUT_MS * 2,
  );
});

// --- Shared libraries -----------------------------------------------------------------------

/**
 * A shared library linked by tslink; returns its path. crossLink names the output
 * `<target>-<name>`, and the soname (what DT_NEEDED records) is that file name, so the loader
 * finds it through --library-path.
 */
function sharedLib(stem: string, objects: string[]): string {
  const name = `lib${stem}.so`;
  const so = crossLinkOk(
    T,
    'c',
    ['-shared', `-Wl,-soname,${T.name}-${name}`, ...objects],
    name,
  ).output;
  expect(so.endsWith(`/${T.name}-${name}`)).toBe(true);
  return so;
}

function dirOf(file: string): string {
  return file.slice(0, file.lastIndexOf('/'));
}

function relocTypes(object: string): string[] {
  return runChecked(['readelf', '-rW', object]).stdout.match(/\bR_386_\w+/g) ?? [];
}

const TLS_STDOUT = PROGRAMS.find((p) => p.name.startsWith('thread-local storage'))!.stdout;
const SHLIB_EXPECTED = 'hello from lib 9 helper=42 interp=2 prot=10 tls=11,10 tlsv=7 hidden=42\n';
const DLOPEN_EXPECTED = 'hello from lib 5 tls=10,11 hidden_fn visible=0\n';

interface TlsModel {
  label: string;
  flags: readonly string[];
  /** Relocation types the library object must use (proves which model was compiled). */
  uses: readonly string[];
}

/** shlib_lib.c's TLS (a static and an exported variable) in each dynamic model. */
const SHLIB_TLS_MODELS: readonly TlsModel[] = [
  { label: 'global-dynamic', flags: [], uses: ['R_386_TLS_GD'] },
  {
    label: 'local-dynamic',
    flags: ['-ftls-model=local-dynamic'],
    uses: ['R_386_TLS_LDM', 'R_386_TLS_LDO_32'],
  },
  {
    label: 'TLSDESC (-mtls-dialect=gnu2)',
    flags: ['-mtls-dialect=gnu2'],
    uses: ['R_386_TLS_GOTDESC', 'R_386_TLS_DESC_CALL'],
  },
  {
    label: 'TLSDESC local-dynamic (-mtls-dialect=gnu2)',
    flags: ['-mtls-dialect=gnu2', '-ftls-model=local-dynamic'],
    uses: ['R_386_TLS_GOTDESC', 'R_386_TLS_LDO_32'],
  },
];

/** A shared object with R_386_TLS_DESC relocations: eu-elflint does not know the type (it
 * rejects GNU ld's output for the same object alike), so it is not asked. */
function lintUnlessTlsDesc(file: string, model: TlsModel): void {
  if (!model.uses.includes('R_386_TLS_GOTDESC')) elflint(file);
}

describe('i686 shared objects linked by tslink', () => {
  requireCross(T);
  const DYNAMIC = MODES.filter((m) => m.label !== 'static');

  for (const model of SHLIB_TLS_MODELS) {
    const libObj = () => {
      const o = crossCompile(T, 'shlib_lib.c', ['-O2', '-fPIC', ...model.flags]);
      expect(relocTypes(o)).toEqual(expect.arrayContaining([...model.uses]));
      return o;
    };
    for (const mode of DYNAMIC) {
      it(
        `library (TLS ${model.label}) used by a ${mode.label} host`,
        () => {
          const so = sharedLib('shl386', [libObj()]);
          lintUnlessTlsDesc(so, model);
          const main = crossCompile(T, 'shlib_main.c', [...mode.cflags, '-O2']);
          const exe = crossLinkOk(T, 'c', [...mode.ldflags, main, so], `${mode.label}-host`).output;
          elflint(exe);
          expectRun(crossRun(T, exe, [], { libraryPath: [dirOf(so)] }), SHLIB_EXPECTED);
        },
        LINK_TIMEOUT_MS * 2,
      );

      it(
        `library (TLS ${model.label}) under dlopen from a ${mode.label} host`,
        () => {
          const so = sharedLib('shd386', [libObj()]);
          const dl = crossCompile(T, 'shlib_dlopen.c', [...mode.cflags, '-O2']);
          const exe = crossLinkOk(
            T,
            'c',
            [...mode.ldflags, dl, '-ldl'],
            `${mode.label}-dlopen`,
          ).output;
          expectRun(crossRun(T, exe, [so]), DLOPEN_EXPECTED);
        },
        LINK_TIMEOUT_MS * 2,
      );
    }
  }

  // tls_other.c defines the extern TLS variables tls_main.c uses: as a library, the host reaches
  // them as another module's TLS, so the host's GD/TLSDESC sequences relax to initial-exec and
  // its IE slots get R_386_TLS_TPOFF relocations; its own static TLS still relaxes to LE.
  const HOST_TLS_MODELS: readonly TlsModel[] = [
    { label: 'global-dynamic', flags: ['-fPIC'], uses: ['R_386_TLS_GD'] },
    { label: 'initial-exec', flags: ['-ftls-model=initial-exec'], uses: ['R_386_TLS_GOTIE'] },
    {
      label: 'TLSDESC (-mtls-dialect=gnu2)',
      flags: ['-fPIC', '-mtls-dialect=gnu2'],
      uses: ['R_386_TLS_GOTDESC', 'R_386_TLS_DESC_CALL'],
    },
  ];
  for (const model of HOST_TLS_MODELS) {
    for (const mode of DYNAMIC) {
      it(
        `TLS variables of a library (${model.label}) used by a ${mode.label} host`,
        () => {
          const other = crossCompile(T, 'tls_other.c', [
            '-O2',
            '-pthread',
            '-fPIC',
            ...model.flags,
          ]);
          expect(relocTypes(other)).toEqual(expect.arrayContaining([...model.uses]));
          const so = sharedLib('tls386', [other]);
          lintUnlessTlsDesc(so, model);
          const main = crossCompile(T, 'tls_main.c', [
            ...mode.cflags,
            '-O2',
            '-pthread',
            ...model.flags,
          ]);
          const exe = crossLinkOk(
            T,
            'c',
            [...mode.ldflags, '-pthread', main, so],
            `${mode.label}-tls`,
          ).output;
          elflint(exe);
          expectRun(crossRun(T, exe, [], { libraryPath: [dirOf(so)] }), TLS_STDOUT);
        },
        LINK_TIMEOUT_MS * 2,
      );
    }
  }
});

// --- SQLite -----------------------------------------------------------------------------------

describeCommonCrossTests(T);

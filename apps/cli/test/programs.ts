// The fixture programs: how each is compiled and linked, and exactly what it
// must print. Shared by static-amd64.test.ts and determinism.test.ts.
import { expect } from 'vitest';

import {
  archive,
  comdatGroups,
  compile,
  lines,
  linkOk,
  relocationTypes,
  requireBaseTools,
  requireFile,
  runChecked,
  settle,
  symbolNames,
  type Driver,
} from './helpers.js';

export interface Program {
  name: string;
  driver: Driver;
  /** Fixture file names, compiled in this order. */
  sources: readonly string[];
  cflags: readonly string[];
  /** Linker-driver flags placed after -static and before the inputs. */
  ldflags?: readonly string[];
  /** Maps the compiled objects to link inputs (default: the objects in order). */
  inputs?: (objects: readonly string[]) => string[];
  /** Libraries placed after the inputs. */
  libs?: readonly string[];
  stdout: string;
  status: number;
  /** Fails unless system files the program needs are installed. */
  requires?: () => void;
  /** Preconditions on the compiled objects: the fixture exercises what it claims. */
  checkObjects?: (objects: readonly string[]) => void;
  /** Extra checks on the linked executable. */
  verify?: (executable: string, objects: readonly string[]) => void;
}

const C_FLAGS = ['-O2', '-Wall'];
const CXX_FLAGS = ['-O2', '-Wall', '-std=c++17'];

export function compileProgram(program: Program): string[] {
  requireBaseTools();
  program.requires?.();
  return program.sources.map((source) => compile(source, program.cflags));
}

/**
 * Compiles every program now (call from beforeAll). The returned getter gives
 * a program's objects, or throws its build error in the test that needs them.
 */
export function compilePrograms(list: readonly Program[]): (program: Program) => string[] {
  const built = new Map(list.map((program) => [program, settle(() => compileProgram(program))]));
  return (program) => {
    const objects = built.get(program);
    if (!objects) throw new Error(`${program.name} was not compiled`);
    return objects();
  };
}

export function linkArgs(program: Program, objects: readonly string[]): string[] {
  return [
    '-static',
    ...(program.ldflags ?? []),
    ...(program.inputs ? program.inputs(objects) : objects),
    ...(program.libs ?? []),
  ];
}

// ---------------------------------------------------------------------------

const hello: Program = {
  name: 'hello world (printf)',
  driver: 'gcc',
  sources: ['hello.c'],
  cflags: C_FLAGS,
  stdout: lines('Hello, world! 2 + 3 = 5'),
  status: 0,
};

const globals: Program = {
  name: 'globals, bss, common and weak symbols',
  driver: 'gcc',
  sources: ['globals_main.c', 'globals_strong.c'],
  cflags: C_FLAGS,
  stdout: lines(
    'counter=5 greeting=greetings greeting_ptr=etings',
    'table_ptr[-1]=20 table_ptr[1]=40',
    'bss size=33554432 nonzero=0 last=0x5a',
    'bss aligned=1',
    'shared_common=11',
    'weak_value=2 who=strong who weak_only=99',
    'strong side sees weak_value=2',
    'missing_var is null=1 missing_fn is null=1',
  ),
  status: 0,
};

const ctors: Program = {
  name: 'constructor/destructor priorities and atexit order',
  driver: 'gcc',
  sources: ['ctors_a.c', 'ctors_b.c'],
  cflags: C_FLAGS,
  stdout: lines(
    'ctor 101 (b)',
    'ctor 102 (a)',
    'ctor default (a)',
    'ctor default (b)',
    'main',
    'atexit registered second',
    'atexit registered first',
    'dtor default (b)',
    'dtor default (a)',
    'dtor 102 (a)',
    'dtor 101 (b)',
  ),
  status: 3,
};

// --- Thread-local storage, one program per TLS access model ----------------

/** Identical for every TLS model: each thread starts from the initial image. */
const TLS_STDOUT = lines(
  'main start: init_ext=42 zero_ext=0 name_ext=other init_local=7 zero_local=0 array_sum=0 other_local=1000 aligned=ALN/1',
  'main start: same address across TUs: init=1 zero=1',
  'main after bump: init_ext=43 zero_ext=1 name_ext=bther init_local=8 zero_local=1 array_sum=1 other_local=1001 aligned=ALN/1',
  'main after bump: same address across TUs: init=1 zero=1',
  'thread start: init_ext=42 zero_ext=0 name_ext=other init_local=7 zero_local=0 array_sum=0 other_local=1000 aligned=ALN/1',
  'thread start: same address across TUs: init=1 zero=1',
  'thread after bump: init_ext=142 zero_ext=100 name_ext=wther init_local=107 zero_local=100 array_sum=100 other_local=1100 aligned=ALN/1',
  'thread after bump: same address across TUs: init=1 zero=1',
  'main after join: init_ext=43 zero_ext=1 name_ext=bther init_local=8 zero_local=1 array_sum=1 other_local=1001 aligned=ALN/1',
  'main after join: same address across TUs: init=1 zero=1',
  'per-thread copies: 1',
);

interface TlsVariant {
  label: string;
  flags: readonly string[];
  /** Relocation types the objects must use (proves which model was compiled). */
  uses: readonly string[];
  /** Relocation types the objects must not use. */
  avoids?: readonly string[];
}

// Without -fPIC, gcc compiles for a PIE executable and silently strengthens
// global-dynamic and local-dynamic to initial-exec/local-exec; the -fPIC
// variants produce the real GD/LD/TLSDESC code sequences that the linker must
// relax (or resolve) for a static executable.
const tlsVariants: readonly TlsVariant[] = [
  { label: 'global-dynamic', flags: ['-ftls-model=global-dynamic'], uses: ['R_X86_64_GOTTPOFF'] },
  {
    label: 'global-dynamic -fPIC',
    flags: ['-fPIC', '-ftls-model=global-dynamic'],
    uses: ['R_X86_64_TLSGD', 'R_X86_64_TLSLD'],
  },
  {
    label: 'global-dynamic -fPIC -O0',
    flags: ['-O0', '-fPIC', '-ftls-model=global-dynamic'],
    uses: ['R_X86_64_TLSGD'],
    avoids: ['R_X86_64_TLSLD'],
  },
  { label: 'local-dynamic', flags: ['-ftls-model=local-dynamic'], uses: ['R_X86_64_GOTTPOFF'] },
  {
    label: 'local-dynamic -fPIC',
    flags: ['-fPIC', '-ftls-model=local-dynamic'],
    uses: ['R_X86_64_TLSLD', 'R_X86_64_DTPOFF32'],
    avoids: ['R_X86_64_TLSGD'],
  },
  {
    label: 'initial-exec',
    flags: ['-ftls-model=initial-exec'],
    uses: ['R_X86_64_GOTTPOFF', 'R_X86_64_TPOFF32'],
  },
  {
    label: 'local-exec',
    flags: ['-ftls-model=local-exec'],
    uses: ['R_X86_64_TPOFF32'],
    avoids: ['R_X86_64_GOTTPOFF'],
  },
  {
    label: 'TLSDESC (-fPIC -mtls-dialect=gnu2)',
    flags: ['-fPIC', '-mtls-dialect=gnu2'],
    uses: ['R_X86_64_GOTPC32_TLSDESC', 'R_X86_64_TLSDESC_CALL'],
    avoids: ['R_X86_64_TLSGD'],
  },
  {
    label: 'TLSDESC local-dynamic (-fPIC -mtls-dialect=gnu2)',
    flags: ['-fPIC', '-mtls-dialect=gnu2', '-ftls-model=local-dynamic'],
    uses: ['R_X86_64_GOTPC32_TLSDESC', 'R_X86_64_TLSDESC_CALL', 'R_X86_64_DTPOFF32'],
  },
];

const tlsPrograms: Program[] = tlsVariants.map((variant) => ({
  name: `thread-local storage: ${variant.label}`,
  driver: 'gcc',
  sources: ['tls_main.c', 'tls_other.c'],
  cflags: [...C_FLAGS, '-pthread', ...variant.flags],
  ldflags: ['-pthread'],
  stdout: TLS_STDOUT,
  status: 0,
  checkObjects(objects) {
    const used = [...relocationTypes(objects)];
    expect(used).toEqual(expect.arrayContaining([...variant.uses]));
    for (const type of variant.avoids ?? []) expect(used).not.toContain(type);
  },
}));

// ---------------------------------------------------------------------------

const ifunc: Program = {
  name: 'IFUNC: direct calls and function pointers from two translation units',
  driver: 'gcc',
  sources: ['ifunc_main.c', 'ifunc_impl.c'],
  cflags: C_FLAGS,
  stdout: lines(
    'selected: fast',
    'direct: 1005',
    'via pointer from main: 1009',
    'via pointer from impl: 1013',
    'via pointer in data (main): 1017',
    'via pointer in data (impl): 1021',
    'pointers equal: main/impl=1 main/data=1 impl/data=1',
  ),
  status: 0,
};

const threads: Program = {
  name: 'pthreads with a mutex and joined results',
  driver: 'gcc',
  sources: ['threads.c'],
  cflags: [...C_FLAGS, '-pthread'],
  ldflags: ['-pthread'],
  stdout: lines(
    ...[0, 1, 2, 3, 4, 5].map((i) => `thread ${i} partial=${200010000 * (i + 1)}`),
    'shared_total=420000 grand=4200210000 all_finished=1',
  ),
  status: 0,
};

/** Inline templates, template statics and vtables emitted in both C++ objects. */
const SHARED_COMDAT_GROUPS = [
  '_Z9sum_twiceIiET_RKSt6vectorIS0_SaIS0_EE',
  '_ZN8RegistryIiE9instancesE',
  '_ZZ11next_ticketvE6ticket',
  '_ZTV10ParseError',
  '_ZTI10ParseError',
];

export const cxx: Program = {
  name: 'C++: iostream, string, vector, map, COMDAT templates, exceptions',
  driver: 'g++',
  sources: ['cxx_main.cpp', 'cxx_other.cpp'],
  cflags: CXX_FLAGS,
  stdout: lines(
    'construct global tracer',
    'hello from C++',
    'sum_twice main=20 other=60',
    'registry instances main=3 other=3',
    'tickets 1 2 3',
    'words: brown=1 dog=1 end=1 fox=1 jumps=1 lazy=1 over=1 quick=1 the=3 ',
    'caught ParseError: not positive: -42 (column 1)',
    'caught std::exception: runtime failure from other TU',
    'construct frame in main',
    'unwinding depth 0',
    'unwinding depth 1',
    'unwinding depth 2',
    'unwinding depth 3',
    'destroy frame in main',
    'caught int 4242',
    'caught std::out_of_range from libstdc++',
    'rethrowing',
    'caught rethrown as runtime_error: inner',
    'parsed 123',
    'main done',
    'destroy global tracer',
  ),
  status: 0,
  checkObjects(objects) {
    for (const object of objects) {
      expect([...comdatGroups(object)], object).toEqual(
        expect.arrayContaining(SHARED_COMDAT_GROUPS),
      );
    }
  },
};

const startStop: Program = {
  name: '__start_/__stop_ symbols for a custom section from three objects',
  driver: 'gcc',
  sources: ['section_a.c', 'section_b.c', 'section_main.c'],
  cflags: C_FLAGS,
  stdout: lines(
    'items: 3',
    'alpha value=1 compute(7)=14',
    'beta value=2 compute(7)=49',
    'gamma value=3 compute(7)=-7',
  ),
  status: 0,
};

// --- Static archive with lazy member extraction ------------------------------

/**
 * Link inputs for the archive program: archive_main.o, then libmembers.a, then
 * archive_late_user.o, whose reference to late_entry can only be satisfied by
 * rescanning the archive, i.e. when both are inside --start-group/--end-group.
 * arch_transitive.o is the archive's first member but is needed only by the
 * last one (arch_used.o), so a single in-order pass over the members misses it.
 */
export function archiveInputs(objects: readonly string[], grouped: boolean): string[] {
  const [main, lateUser, ...members] = objects;
  if (main === undefined || lateUser === undefined) throw new Error('archive objects missing');
  const library = archive('members', members);
  return grouped
    ? [main, '-Wl,--start-group', library, lateUser, '-Wl,--end-group']
    : [main, library, lateUser];
}

export const archiveProgram: Program = {
  name: 'static archive: lazy, transitive and grouped member extraction',
  driver: 'gcc',
  sources: [
    'archive_main.c',
    'archive_late_user.c',
    // Archive members, in archive order.
    'arch_transitive.c',
    'arch_unused.c',
    'arch_late.c',
    'arch_weakref.c',
    'arch_shadow.c',
    'arch_used.c',
  ],
  cflags: C_FLAGS,
  inputs: (objects) => archiveInputs(objects, true),
  stdout: lines(
    'used_entry=42 late_user=21',
    'linked: used=1 transitive=1 late=1',
    'weak_only_entry is null=1',
    'shared_helper from main object',
  ),
  status: 0,
};

// ---------------------------------------------------------------------------

const SQLITE_ARCHIVE = '/usr/lib/x86_64-linux-gnu/libsqlite3.a';

export const sqlite: Program = {
  name: 'SQLite driver against the static libsqlite3.a',
  driver: 'gcc',
  sources: ['sqlite_driver.c'],
  cflags: C_FLAGS,
  // Debian 12's libsqlite3.a needs libm (math SQL functions). pthread and dl
  // live in libc since glibc 2.34 (libpthread.a/libdl.a are empty archives)
  // but are kept for older glibc.
  libs: ['-lsqlite3', '-lm', '-lpthread', '-ldl'],
  requires() {
    requireFile(SQLITE_ARCHIVE, 'libsqlite3-dev');
    requireFile('/usr/include/sqlite3.h', 'libsqlite3-dev');
  },
  stdout: lines(
    '-- count and totals',
    '5|558.25|111.650|ada|150.0',
    '-- per department',
    'compiler|2|188.25',
    'empty|0|0',
    'linker|3|370.0',
    '-- above average',
    'ed|linker',
    'ada|linker',
    '-- expressions',
    'TSLINK|6|42|3.0|4.0|[1,"two"]',
  ),
  status: 0,
};

const gcSections: Program = {
  name: '--gc-sections with -ffunction-sections -fdata-sections',
  driver: 'gcc',
  sources: ['gc_sections.c'],
  cflags: [...C_FLAGS, '-ffunction-sections', '-fdata-sections'],
  ldflags: ['-Wl,--gc-sections'],
  stdout: lines('gc: used_function(4)=13 table_total=10'),
  status: 0,
  verify(executable, objects) {
    const collected = [...symbolNames(executable)];
    expect(collected).toEqual(expect.arrayContaining(['gc_used_function', 'gc_used_table']));
    expect(collected).not.toContain('gc_unused_function');
    expect(collected).not.toContain('gc_unused_table');
    // Control: without --gc-sections the unused definitions are kept.
    const kept = [...symbolNames(linkOk('gcc', ['-static', ...objects]).output)];
    expect(kept).toEqual(expect.arrayContaining(['gc_unused_function', 'gc_unused_table']));
  },
};

const debugInfo: Program = {
  name: 'debug info (-g) survives linking',
  driver: 'gcc',
  sources: ['debug_info.c'],
  cflags: ['-g', '-O0', '-Wall'],
  stdout: lines('debug: manhattan=7'),
  status: 0,
  verify(executable) {
    const dump = runChecked(['readelf', '--debug-dump=info', executable]);
    expect(dump.stderr).toBe('');
    expect(dump.stdout).toMatch(/DW_AT_name\s*:.*debug_info\.c/);
    expect(dump.stdout).toMatch(/DW_AT_name\s*:.*\bmanhattan\b/);
  },
};

export const programs: readonly Program[] = [
  hello,
  globals,
  ctors,
  ...tlsPrograms,
  ifunc,
  threads,
  cxx,
  startStop,
  archiveProgram,
  sqlite,
  gcSections,
  debugInfo,
];

/**
 * What dynamic_cxx_main.cpp prints with dynamic_plugin.c's library as its argument: C++17 threads,
 * thread_local, iostreams and exceptions thrown through a dlopen-ed C plugin.
 */
export const DYNAMIC_CXX_STDOUT = lines(
  'global constructor',
  'plugin: adder (constructed) counter=101',
  'combine(4, 2)=42 counter=102',
  'describe: two+three=5 (11 chars)',
  'caught PluginError: no_such_symbol: undefined symbol',
  'missing library is null=1',
  'level1(3)=13',
  'caught std::exception: negative depth -2',
  'caught std::out_of_range from libstdc++',
  'apply(square, 5)=55',
  'caught through the plugin: limit exceeded at 8',
  'thread 0: sum=5000 tls_calls=1',
  'thread 1: sum=20001 tls_calls=2',
  'thread 2: sum=45000 tls_calls=3',
  'thread 3: sum=80000 tls_calls=4 error="worker 3 gives up"',
  'main tls_calls=1',
  'hex 0000beef fixed 3.142',
  'dlclose=0',
  'global destructor',
);

/** What crypto_evp.c prints: OpenSSL digests, HMAC, AES-CBC/GCM and BIGNUM results. */
export const CRYPTO_STDOUT = lines(
  'OpenSSL major=3',
  'sha256(fox) d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592',
  'sha256(empty) e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  'SHA512 size=64',
  'sha512(fox) 07e547d9586f6a73f73fbac0435ed76951218fb7d0c8d788a309d785436bbb642e93a252a954f23912547d1e8a3b5ed6e1bfd7097821233fa0538f3db854fee6',
  'hmac-sha256(key, fox) f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8',
  'aes-256-cbc plaintext=52 ciphertext=64 block=16',
  'aes-256-cbc 1f51d83d866be85be7e5c34bd68b788f6273163dc2074339cda78d25d4f3d1b3750a5013ed67a62e17b215e5b615cbbefcdadddad504ba60e3683faa9e3704b8',
  'round trip: "linking libcrypto dynamically, 52 bytes of plaintext" equal=1',
  'aes-256-gcm 4abc3f2e9a0d49f5786eefd489',
  'aes-256-gcm tag c5712e92861846610d58b4019b244d83',
  'gcm verified=1 plaintext="authenticated"',
  'gcm tampered tag verified=0',
  '3^1000 mod (2^255-19) = 26861199423405837205760586864374375141953558457119776897943336769698788448569',
  '3^-1 mod (2^255-19) = 5555555555555555555555555555555555555555555555555555555555555549 bits=255',
  'p is prime=1',
);

/** What reloc_comdat_b.cpp prints linked with reloc_comdat_a.cpp. */
export const RELOC_COMDAT_STDOUT = 'caught: negative total -5\na=6 b=30 calls=2\n';

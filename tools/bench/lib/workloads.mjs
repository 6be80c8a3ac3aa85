// Workload preparation: compile inputs once (cached under <repo>/.cache/bench/), then
// capture the exact ld command line the gcc driver produces, so every linker can later be
// run directly with that argv and the driver's own cost is never measured.

import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSyntheticWorkload, GENERATOR_VERSION } from './synthetic.mjs';
import { runChecked, runSync, runAsync, mapWithConcurrency, firstLines } from './proc.mjs';

/** Flags used for every compiled input. -O2 is what release builds feed a linker. */
const COMPILE_FLAGS = ['-O2'];

const SQLITE_ARCHIVE = '/usr/lib/x86_64-linux-gnu/libsqlite3.a';
const SQLITE_HEADER = '/usr/include/sqlite3.h';

/** Sources that live as files rather than inline: tools/bench/workloads/. */
const WORKLOAD_SOURCE_DIR = join(dirname(fileURLToPath(import.meta.url)), '../workloads');

/**
 * `llvm-dynamic` links against Debian's llvm-14-dev. The components pull in the IR core,
 * bitcode reader/writer, the new pass manager's full O2 pipeline (`passes`), the
 * interpreter, MCJIT and the X86 back end (`native`): 51 archives, ~46 MiB of output.
 */
const LLVM_CONFIG = 'llvm-config-14';
const LLVM_COMPONENTS = [
  'core',
  'analysis',
  'bitreader',
  'bitwriter',
  'passes',
  'executionengine',
  'interpreter',
  'mcjit',
  'native',
];
/**
 * libLLVMInterpreter calls libffi (Debian builds LLVM with FFI), but Debian's
 * `llvm-config-14 --system-libs` does not list it; without -lffi the link fails with
 * undefined ffi_call/ffi_type_*.
 */
const LLVM_EXTRA_SYSTEM_LIBS = ['-lffi'];
/** Debian -dev package that provides each system library the LLVM link names. */
const SYSTEM_LIB_PACKAGES = {
  z: 'zlib1g-dev',
  tinfo: 'libncurses-dev',
  xml2: 'libxml2-dev',
  z3: 'libz3-dev',
  ffi: 'libffi-dev',
  zstd: 'libzstd-dev',
  edit: 'libedit-dev',
};

/** Output path the captured command links to; each linker gets `out/<linker id>` instead. */
const REFERENCE_OUTPUT = 'out/reference';

/** A workload that cannot be prepared on this machine (not a bug in any linker). */
export class WorkloadUnavailable extends Error {
  constructor(message, hint) {
    super(message);
    this.hint = hint;
  }
}

const HELLO_SOURCE = `#include <stdio.h>

int main(void) {
  printf("Hello, %s!\\n", "world");
  return 0;
}
`;

// Touches the parser, VDBE, b-tree, an index, printf and a libm-backed math function, so a
// large part of libsqlite3.a is pulled in and relocated, and a wrong link is likely to
// show up in the output.
const SQLITE_DRIVER_SOURCE = `#include <stdio.h>
#include <sqlite3.h>

static int print_row(void *unused, int columns, char **values, char **names) {
  (void)unused;
  for (int i = 0; i < columns; i++)
    printf("%s%s=%s", i ? " " : "", names[i], values[i] ? values[i] : "NULL");
  printf("\\n");
  return 0;
}

int main(void) {
  sqlite3 *db;
  char *error = NULL;
  if (sqlite3_open(":memory:", &db) != SQLITE_OK) {
    fprintf(stderr, "sqlite3_open failed\\n");
    return 1;
  }
  const char *sql =
      "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, score REAL);"
      "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000)"
      "  INSERT INTO t SELECT x, printf('row-%04d', x), x * 0.5 FROM c;"
      "CREATE INDEX t_name ON t(name);"
      "SELECT count(*) AS n, sum(id) AS total, printf('%.1f', sum(score)) AS score,"
      "  max(name) AS last, printf('%.3f', sqrt(2)) AS root FROM t;"
      "SELECT name FROM t WHERE name LIKE 'row-099%' ORDER BY name DESC LIMIT 2;";
  if (sqlite3_exec(db, sql, print_row, NULL, &error) != SQLITE_OK) {
    fprintf(stderr, "sqlite error: %s\\n", error);
    return 1;
  }
  sqlite3_close(db);
  printf("sqlite ok\\n");
  return 0;
}
`;

const SQLITE_EXPECTED_STDOUT =
  'n=1000 total=500500 score=250250.0 last=row-1000 root=1.414\n' +
  'name=row-0999\n' +
  'name=row-0998\n' +
  'sqlite ok\n';

/**
 * Workload registry. `prepare(context)` returns a PreparedWorkload:
 * { dir, argv, outputIndex, expectedStdout, inputSummary }.
 */
export const WORKLOADS = [
  {
    id: 'hello-static',
    description: 'gcc -static hello world with printf (start-up dominated)',
    prepare: prepareHello,
  },
  {
    id: 'sqlite-static',
    description: 'small driver + libsqlite3.a, -static -lm -lpthread -ldl',
    prepare: prepareSqlite,
  },
  {
    id: 'synthetic-objs',
    description: 'N generated objects (some in an archive) + main, -static',
    prepare: prepareSynthetic,
  },
  {
    id: 'llvm-dynamic',
    description: 'C++ driver + static LLVM 14 libraries, PIE against shared libstdc++/libc',
    prepare: prepareLlvm,
  },
];

// `sqlite-debug` (driver built with -g + libsqlite3.a) is deliberately not a workload:
// Debian ships libsqlite3.a without debug info, so it would only add one small .debug_*
// section set to `sqlite-static` and measure nothing new. See README.md.

/** Facts about the compiler that, when they change, invalidate cached objects. */
export function compilerIdentity() {
  const version = runChecked('gcc', ['-dumpfullversion']).stdout.trim();
  const machine = runChecked('gcc', ['-dumpmachine']).stdout.trim();
  return `gcc ${version} ${machine}`;
}

function sha256(...parts) {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(typeof part === 'string' ? part : JSON.stringify(part));
  return hash.digest('hex');
}

/**
 * Rebuilds `dir` with `build()` unless its stamp records the same key. The whole directory
 * is wiped first so stale objects from another configuration can never leak into a link.
 */
async function buildCached(dir, key, build) {
  const stampPath = join(dir, 'stamp.json');
  if (existsSync(stampPath)) {
    try {
      if (JSON.parse(readFileSync(stampPath, 'utf8')).key === key) return false;
    } catch {
      // Unreadable stamp: rebuild.
    }
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  await build();
  writeFileSync(stampPath, JSON.stringify({ key, builtAt: new Date().toISOString() }) + '\n');
  return true;
}

/**
 * Links once through gcc (or `driver`, e.g. g++) with a wrapper `ld` first in its program
 * path (-B), which records its argv (NUL-separated, so arguments with spaces survive) and
 * then execs the system ld so the reference output really gets built. Returns the recorded
 * argv and where the output path sits in it.
 */
function captureLinkCommand(dir, gccArgs, driver = 'gcc') {
  const captureDir = join(dir, 'capture');
  const argvFile = join(captureDir, 'ld.argv');
  mkdirSync(captureDir, { recursive: true });
  mkdirSync(join(dir, 'out'), { recursive: true });
  const wrapper = join(captureDir, 'ld');
  writeFileSync(
    wrapper,
    [
      '#!/bin/bash',
      '# Written by tools/bench: records the argv gcc passes to ld, then runs the real ld.',
      'printf \'%s\\0\' "$@" > "$TSLINK_BENCH_ARGV_FILE"',
      'exec /usr/bin/ld "$@"',
      '',
    ].join('\n'),
  );
  chmodSync(wrapper, 0o755);
  rmSync(argvFile, { force: true });
  rmSync(join(dir, REFERENCE_OUTPUT), { force: true });

  runChecked(driver, [`-B${captureDir}/`, ...gccArgs, '-o', REFERENCE_OUTPUT], {
    cwd: dir,
    env: { ...process.env, TSLINK_BENCH_ARGV_FILE: argvFile },
  });
  if (!existsSync(argvFile)) {
    throw new Error(
      `${driver} did not run the capturing ld wrapper in ${captureDir} (is it configured with a fixed linker path?)`,
    );
  }
  const argv = readFileSync(argvFile, 'utf8').split('\0');
  argv.pop(); // trailing separator
  const outputIndex = argv.findIndex((arg, i) => arg === REFERENCE_OUTPUT && argv[i - 1] === '-o');
  if (outputIndex < 0) {
    throw new Error(`captured ld command has no "-o ${REFERENCE_OUTPUT}": ${argv.join(' ')}`);
  }
  writeFileSync(join(dir, 'link.argv.txt'), argv.join('\n') + '\n');
  return { argv, outputIndex };
}

/**
 * Runs a linked program and compares its stdout and exit status with what the workload
 * expects. Returns null when correct, else a one-line description of what is wrong.
 */
export function checkProgramOutput(programPath, expectedStdout, cwd) {
  const result = runSync(programPath, [], { cwd, timeout: 30_000 });
  if (result.error) return `could not run output: ${result.error.message}`;
  if (result.signal) return `output crashed with ${result.signal}`;
  if (result.status !== 0) {
    const stderr = firstLines(result.stderr, 1);
    return `output exited ${result.status}${stderr ? `: ${stderr}` : ''}`;
  }
  if (result.stdout !== expectedStdout) {
    return `unexpected stdout ${JSON.stringify(result.stdout.slice(0, 120))}, expected ${JSON.stringify(expectedStdout)}`;
  }
  return null;
}

/** Captures the link, then proves the reference (system ld) output is correct. */
function finishPreparation(dir, gccArgs, expectedStdout, inputSummary, driver = 'gcc') {
  const { argv, outputIndex } = captureLinkCommand(dir, gccArgs, driver);
  const problem = checkProgramOutput(join(dir, REFERENCE_OUTPUT), expectedStdout, dir);
  if (problem) {
    // The system toolchain produced a bad program: the workload itself is broken here.
    throw new Error(`reference link via gcc + /usr/bin/ld is not correct: ${problem}`);
  }
  return { dir, argv, outputIndex, expectedStdout, inputSummary };
}

async function prepareHello({ cacheRoot, compiler }) {
  const dir = join(cacheRoot, 'hello-static');
  await buildCached(dir, sha256(compiler, COMPILE_FLAGS, HELLO_SOURCE), async () => {
    writeFileSync(join(dir, 'hello.c'), HELLO_SOURCE);
    runChecked('gcc', [...COMPILE_FLAGS, '-c', 'hello.c', '-o', 'hello.o'], { cwd: dir });
  });
  return finishPreparation(dir, ['-static', 'hello.o'], 'Hello, world!\n', '1 object + libc.a');
}

async function prepareSqlite({ cacheRoot, compiler }) {
  if (!existsSync(SQLITE_ARCHIVE) || !existsSync(SQLITE_HEADER)) {
    throw new WorkloadUnavailable(
      `${SQLITE_ARCHIVE} or ${SQLITE_HEADER} is missing`,
      'apt-get install -y libsqlite3-dev',
    );
  }
  const dir = join(cacheRoot, 'sqlite-static');
  const header = readFileSync(SQLITE_HEADER, 'utf8');
  await buildCached(dir, sha256(compiler, COMPILE_FLAGS, SQLITE_DRIVER_SOURCE, header), () => {
    writeFileSync(join(dir, 'driver.c'), SQLITE_DRIVER_SOURCE);
    runChecked('gcc', [...COMPILE_FLAGS, '-c', 'driver.c', '-o', 'driver.o'], { cwd: dir });
  });
  // glibc >= 2.34 folds libpthread/libdl into libc, but the empty archives still exist
  // and naming them keeps the command valid on older systems too.
  return finishPreparation(
    dir,
    ['-static', 'driver.o', SQLITE_ARCHIVE, '-lm', '-lpthread', '-ldl'],
    SQLITE_EXPECTED_STDOUT,
    '1 object + libsqlite3.a + libm/libc',
  );
}

async function prepareSynthetic({ cacheRoot, compiler, objs, log }) {
  const workload = generateSyntheticWorkload(objs);
  const dir = join(cacheRoot, `synthetic-objs-${objs}`);
  const key = sha256(compiler, COMPILE_FLAGS, GENERATOR_VERSION, workload.sources);
  const rebuilt = await buildCached(dir, key, async () => {
    const srcDir = join(dir, 'src');
    const objDir = join(dir, 'obj');
    mkdirSync(srcDir);
    mkdirSync(objDir);
    for (const { name, text } of workload.sources) writeFileSync(join(srcDir, name), text);

    // One gcc per batch of files amortises driver start-up; batches run in parallel.
    const names = workload.sources.map((source) => source.name);
    const batches = [];
    for (let i = 0; i < names.length; i += 64) batches.push(names.slice(i, i + 64));
    log(`  compiling ${names.length} generated C files (cached afterwards) ...`);
    const started = Date.now();
    const results = await mapWithConcurrency(batches, availableParallelism(), (batch) =>
      runAsync('gcc', [...COMPILE_FLAGS, '-c', ...batch.map((name) => `../src/${name}`)], {
        cwd: objDir,
      }),
    );
    const failed = results.find((result) => !result.ok);
    if (failed) {
      throw new Error(`compiling synthetic sources failed:\n${firstLines(failed.stderr, 20)}`);
    }
    log(`  compiled in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    runChecked('ar', ['rcs', 'libsynth.a', ...workload.archiveMembers.map((m) => `obj/${m}.o`)], {
      cwd: dir,
    });
  });
  if (!rebuilt) log(`  reusing cached objects in ${dir}`);
  return finishPreparation(
    dir,
    ['-static', ...workload.linkedObjects.map((base) => `obj/${base}.o`), 'libsynth.a'],
    workload.expectedStdout,
    `${workload.linkedObjects.length} objects + libsynth.a (${workload.archiveMembers.length} members, ${workload.unusedMembers.length} unreferenced) + libc.a`,
  );
}

/** Splits llvm-config output (whitespace-separated; Debian's paths contain no spaces). */
function llvmConfig(args) {
  return runChecked(LLVM_CONFIG, args).stdout.trim().split(/\s+/).filter(Boolean);
}

/**
 * Finds the system libraries of an LLVM link that the linker could not resolve: `-lNAME`
 * (shared or static, as g++ would search) or an absolute path to a library file.
 */
function missingSystemLibraries(libs) {
  const missing = [];
  for (const lib of libs) {
    if (isAbsolute(lib)) {
      if (!existsSync(lib)) {
        missing.push({ lib, name: basename(lib).replace(/^lib|\.so.*$|\.a$/g, '') });
      }
      continue;
    }
    if (!lib.startsWith('-l')) continue;
    const name = lib.slice(2);
    const found = [`lib${name}.so`, `lib${name}.a`].some((file) =>
      isAbsolute(runChecked('g++', [`-print-file-name=${file}`]).stdout.trim()),
    );
    if (!found) missing.push({ lib, name });
  }
  return missing;
}

async function prepareLlvm({ cacheRoot, compiler }) {
  if (!runSync('g++', ['--version']).ok) {
    throw new WorkloadUnavailable('g++ is missing', 'apt-get install -y g++');
  }
  const version = runSync(LLVM_CONFIG, ['--version']);
  if (!version.ok) {
    throw new WorkloadUnavailable(`${LLVM_CONFIG} is missing`, 'apt-get install -y llvm-14-dev');
  }
  const archives = llvmConfig(['--link-static', '--libfiles', ...LLVM_COMPONENTS]);
  const missingArchives = archives.filter((file) => !existsSync(file));
  if (missingArchives.length > 0) {
    throw new WorkloadUnavailable(
      `static LLVM libraries are missing (${missingArchives.slice(0, 3).join(', ')}, ...)`,
      'apt-get install -y llvm-14-dev',
    );
  }
  const systemLibs = [...llvmConfig(['--link-static', '--system-libs']), ...LLVM_EXTRA_SYSTEM_LIBS];
  const missingLibs = missingSystemLibraries(systemLibs);
  if (missingLibs.length > 0) {
    const packages = [
      ...new Set(missingLibs.map(({ name }) => SYSTEM_LIB_PACKAGES[name] ?? `lib${name}-dev`)),
    ];
    throw new WorkloadUnavailable(
      `libraries the LLVM link needs are missing: ${missingLibs.map(({ lib }) => lib).join(' ')}`,
      `apt-get install -y ${packages.join(' ')}`,
    );
  }

  const dir = join(cacheRoot, 'llvm-dynamic');
  const source = readFileSync(join(WORKLOAD_SOURCE_DIR, 'llvm-dynamic.cpp'), 'utf8');
  const expectedStdout = readFileSync(join(WORKLOAD_SOURCE_DIR, 'llvm-dynamic.stdout'), 'utf8');
  const cxxflags = llvmConfig(['--cxxflags']);
  const gxx = runChecked('g++', ['-dumpfullversion']).stdout.trim();
  const key = sha256(compiler, gxx, COMPILE_FLAGS, version.stdout, cxxflags, source);
  await buildCached(dir, key, () => {
    writeFileSync(join(dir, 'driver.cpp'), source);
    runChecked('g++', [...COMPILE_FLAGS, ...cxxflags, '-c', 'driver.cpp', '-o', 'driver.o'], {
      cwd: dir,
    });
  });
  const archiveMiB = archives.reduce((sum, file) => sum + statSync(file).size, 0) / 2 ** 20;
  // g++'s defaults: PIE, shared libstdc++/libgcc_s/libc, --as-needed (Debian's specs).
  return finishPreparation(
    dir,
    [
      'driver.o',
      ...llvmConfig(['--ldflags']),
      ...llvmConfig(['--link-static', '--libs', ...LLVM_COMPONENTS]),
      ...systemLibs,
    ],
    expectedStdout,
    `1 C++ object + ${archives.length} static LLVM ${version.stdout.trim()} archives (${archiveMiB.toFixed(0)} MiB) + shared libstdc++/libc and ${systemLibs.join(' ')}`,
    'g++',
  );
}

// Shared harness for the end-to-end tests: compiles C/C++/assembly with a
// content-hash cache, links through `gcc -B<libexec>` so the linker under test
// is used, and runs the results with hard timeouts.
//
// Every external process goes through runCommand(), which passes an explicit
// argv (no shell) and wraps it in coreutils `timeout`, so a hanging linker or
// program kills its whole process group instead of hanging the suite.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, delimiter, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { expect } from 'vitest';
import { fileURLToPath } from 'node:url';

export const testDir = dirname(fileURLToPath(import.meta.url));
export const fixturesDir = join(testDir, 'fixtures');
export const repoRoot = resolve(testDir, '../../..');
export const cacheDir = join(repoRoot, '.cache', 'e2e');

export const LINK_TIMEOUT_MS = 50_000;
export const RUN_TIMEOUT_MS = 20_000;
const TOOL_TIMEOUT_MS = 120_000;

// ---------------------------------------------------------------------------
// Required tools. Tests never skip: a missing tool is a failure that says how
// to install it, locally and under CI=true alike.

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

// Deliberately the same outside CI: a local run must not pass by skipping work.
function missing(kind: 'tool' | 'file', name: string, aptPackage: string): never {
  throw new Error(`missing ${kind} ${name}: apt-get install -y ${aptPackage}`);
}

/** Returns the absolute path of `name` on PATH, or fails with an install hint. */
export function requireTool(name: string, aptPackage: string): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name);
  }
  return missing('tool', name, aptPackage);
}

/** Fails with an install hint unless the absolute path `file` exists. */
export function requireFile(file: string, aptPackage: string): string {
  if (!existsSync(file)) missing('file', file, aptPackage);
  return file;
}

/** The tools every e2e test file needs. */
export function requireBaseTools(): void {
  requireTool('timeout', 'coreutils');
  requireTool('gcc', 'gcc');
  requireTool('g++', 'g++');
  for (const tool of ['ar', 'nm', 'readelf']) requireTool(tool, 'binutils');
}

/**
 * Runs `build` now (from beforeAll) and returns a getter for its result that
 * rethrows its error. A failed build is then reported by each test needing it,
 * instead of vitest marking a whole file's tests as skipped.
 */
export function settle<T>(build: () => T): () => T {
  try {
    const value = build();
    return () => value;
  } catch (error) {
    return () => {
      throw error;
    };
  }
}

// ---------------------------------------------------------------------------
// Processes.

export interface RunResult {
  /** Shell-style rendering of the argv, for failure messages. */
  command: string;
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface RunOptions {
  cwd?: string;
  timeoutMs?: number;
  /** Extra environment variables. */
  env?: Record<string, string>;
}

export function runCommand(argv: readonly string[], options: RunOptions = {}): RunResult {
  const timeoutMs = options.timeoutMs ?? TOOL_TIMEOUT_MS;
  const seconds = String(Math.ceil(timeoutMs / 1000));
  const started = Date.now();
  const result = spawnSync('timeout', ['--kill-after=5', seconds, ...argv], {
    cwd: options.cwd ?? ensureCacheDir(),
    encoding: 'utf8',
    env: { ...process.env, ...options.env, LC_ALL: 'C' },
    maxBuffer: 256 << 20,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Backstop in case `timeout` itself misbehaves.
    timeout: timeoutMs + 15_000,
    killSignal: 'SIGKILL',
  });
  if (result.error && !('code' in result.error && result.error.code === 'ETIMEDOUT')) {
    throw result.error;
  }
  const timedOut = Date.now() - started >= timeoutMs;
  return {
    command: argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a}'`)).join(' '),
    status: result.status,
    signal: result.signal,
    stdout: result.stdout ?? '',
    stderr: (timedOut ? `[timed out after ${seconds}s]\n` : '') + (result.stderr ?? ''),
    timedOut,
  };
}

export function describeResult(result: RunResult): string {
  const how = result.signal ? `signal ${result.signal}` : `status ${result.status}`;
  return `$ ${result.command}\n(${how})\n${result.stderr}${result.stdout}`;
}

/** Runs a command and throws, with its output, unless it exits with status 0. */
export function runChecked(argv: readonly string[], options: RunOptions = {}): RunResult {
  const result = runCommand(argv, options);
  if (result.status !== 0) throw new Error(`command failed:\n${describeResult(result)}`);
  return result;
}

// ---------------------------------------------------------------------------
// Scratch directories.

const scratchDirs: string[] = [];

/** A fresh directory under the system temp dir, removed by removeScratchDirs(). */
export function makeScratchDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `tslink-e2e-${label.replace(/[^\w.-]+/g, '_')}-`));
  scratchDirs.push(dir);
  return dir;
}

/** For afterAll(). Set TSLINK_E2E_KEEP=1 to keep the directories for debugging. */
export function removeScratchDirs(): void {
  if (process.env.TSLINK_E2E_KEEP) return;
  for (const dir of scratchDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------
// Content-addressed cache under <repo>/.cache/e2e.

function sha256(...parts: (string | Buffer)[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest('hex');
}

function ensureCacheDir(): string {
  mkdirSync(cacheDir, { recursive: true });
  return cacheDir;
}

export function cachePath(kind: string, name: string): string {
  const dir = join(ensureCacheDir(), kind);
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}

/**
 * Returns `target`, creating it with `produce(tmp)` first if it does not exist.
 * The temporary name is unique per process and renamed into place, so
 * concurrent vitest workers never observe a partial file.
 */
export function cached(target: string, produce: (tmp: string) => void): string {
  if (existsSync(target)) return target;
  const tmp = `${target}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    produce(tmp);
    renameSync(tmp, target);
  } finally {
    rmSync(tmp, { force: true });
  }
  return target;
}

// ---------------------------------------------------------------------------
// Compiling.

export type Language = 'c' | 'c++' | 'assembler';

/** Source text given inline; `name` becomes the (readable) file name stem. */
export interface InlineSource {
  name: string;
  lang: Language;
  code: string;
}

/** A fixture file name, an absolute path, or inline source text. */
export type Source = string | InlineSource;

const extensions: Record<Language, string> = { c: '.c', 'c++': '.cpp', assembler: '.s' };

function languageOf(file: string): Language {
  const ext = extname(file);
  if (ext === '.c') return 'c';
  if (['.cc', '.cpp', '.cxx'].includes(ext)) return 'c++';
  if (ext === '.s') return 'assembler';
  throw new Error(`cannot tell the language of ${file}`);
}

/** `gcc`/`g++`, or a cross compiler's with its prefix (`i686-linux-gnu-`). */
function compilerFor(lang: Language, prefix = ''): string {
  return prefix + (lang === 'c++' ? 'g++' : 'gcc');
}

const versions = new Map<string, string>();
function compilerVersion(compiler: string): string {
  let version = versions.get(compiler);
  if (version === undefined) {
    version = runChecked([compiler, '--version']).stdout;
    versions.set(compiler, version);
  }
  return version;
}

/** The file plus every `#include "..."` it pulls in transitively, with contents. */
function localSourceClosure(file: string, seen = new Map<string, string>()): Map<string, string> {
  if (seen.has(file)) return seen;
  const text = readFileSync(file, 'utf8');
  seen.set(file, text);
  for (const match of text.matchAll(/^\s*#\s*include\s*"([^"]+)"/gm)) {
    const included = resolve(dirname(file), match[1] ?? '');
    if (existsSync(included)) localSourceClosure(included, seen);
  }
  return seen;
}

function materialize(source: Source): string {
  if (typeof source === 'string') {
    const file = isAbsolute(source) ? source : join(fixturesDir, source);
    if (!existsSync(file)) throw new Error(`no such source file: ${file}`);
    return file;
  }
  const dir = cachePath('src', sha256(source.lang, source.code).slice(0, 16));
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${source.name}${extensions[source.lang]}`);
  return cached(file, (tmp) => writeFileSync(tmp, source.code));
}

/**
 * Compiles one source to an object file, once per (source contents including
 * local headers, source path, flags, compiler version). Returns the object's
 * path inside the cache; the path is stable, so repeated links see identical
 * inputs.
 */
export function compile(source: Source, flags: readonly string[] = [], prefix = ''): string {
  const file = materialize(source);
  const lang = languageOf(file);
  const compiler = compilerFor(lang, prefix);
  const closure = [...localSourceClosure(file)].flatMap(([path, text]) => [path, text]);
  const key = sha256(compiler, compilerVersion(compiler), lang, JSON.stringify(flags), ...closure);
  const stem = basename(file, extname(file));
  const object = cachePath('obj', `${stem}-${key.slice(0, 16)}.o`);
  return cached(object, (tmp) => {
    runChecked([compiler, '-x', lang, '-c', ...flags, '-o', tmp, file]);
  });
}

/** `ar rcs` an archive from `members`, cached by the members' names and contents. */
export function archive(name: string, members: readonly string[], prefix = ''): string {
  const key = sha256(...members.flatMap((m) => [basename(m), readFileSync(m)]));
  const dir = cachePath('lib', key.slice(0, 16));
  mkdirSync(dir, { recursive: true });
  return cached(join(dir, `lib${name}.a`), (tmp) => {
    runChecked([`${prefix}ar`, 'rcs', tmp, ...members]);
  });
}

// ---------------------------------------------------------------------------
// The linker under test.

/** Directory holding `ld`, `ld.tslink` and `tslink`: $TSLINK_LIBEXEC or apps/cli/libexec. */
export function libexecDir(): string {
  const fromEnv = process.env.TSLINK_LIBEXEC;
  if (fromEnv) {
    if (!isAbsolute(fromEnv)) throw new Error(`TSLINK_LIBEXEC must be absolute, got ${fromEnv}`);
    return fromEnv;
  }
  return join(repoRoot, 'apps', 'cli', 'libexec');
}

/** Path of the linker under test, `<libexec>/ld`; fails clearly if it is not built. */
export function linkerPath(): string {
  const ld = join(libexecDir(), 'ld');
  if (!isExecutable(ld)) {
    throw new Error(
      `linker under test not found: ${ld} is missing or not executable ` +
        '(build tslink with `pnpm build`, or point TSLINK_LIBEXEC at a directory containing ld)',
    );
  }
  return ld;
}

/** A compiler driver: `gcc`, `g++`, or a cross compiler's (`arm-linux-gnueabihf-g++`). */
export type Driver = string;

const checkedDrivers = new Set<Driver>();
/** Proves that `<driver> -B<libexec>` really runs `<libexec>/ld` rather than the system ld. */
function assertDriverUsesLinkerUnderTest(driver: Driver): void {
  if (checkedDrivers.has(driver)) return;
  const expected = linkerPath();
  const chosen = runChecked([driver, `-B${libexecDir()}`, '-print-prog-name=ld']).stdout.trim();
  if (chosen !== expected) {
    throw new Error(`${driver} -B${libexecDir()} would run ${chosen}, not ${expected}`);
  }
  checkedDrivers.add(driver);
}

export interface LinkResult extends RunResult {
  /** The fresh scratch directory the output was written into. */
  dir: string;
  output: string;
}

/**
 * Links with `<driver> -B<libexec> ...args -o <fresh dir>/<name>`. `args` is
 * passed in order (flags, objects, archives and libraries). Does not throw on
 * link failure; see linkOk().
 */
export function link(driver: Driver, args: readonly string[], name = 'a.out'): LinkResult {
  assertDriverUsesLinkerUnderTest(driver);
  const dir = makeScratchDir(name);
  const output = join(dir, name);
  const result = runCommand([driver, `-B${libexecDir()}`, ...args, '-o', output], {
    cwd: dir,
    timeoutMs: LINK_TIMEOUT_MS,
  });
  return { ...result, dir, output };
}

/** link(), throwing with the linker's diagnostics unless it succeeded. */
export function linkOk(driver: Driver, args: readonly string[], name = 'a.out'): LinkResult {
  const result = link(driver, args, name);
  if (result.status !== 0 || !existsSync(result.output)) {
    throw new Error(`link failed:\n${describeResult(result)}`);
  }
  return result;
}

/** Runs a linked program with RUN_TIMEOUT_MS. */
export function runProgram(exe: string, args: readonly string[] = []): RunResult {
  return runCommand([exe, ...args], { cwd: dirname(exe), timeoutMs: RUN_TIMEOUT_MS });
}

/** Runs a program that must exit 0 without a signal; returns its stdout. */
export function runOk(exe: string, args: readonly string[] = []): string {
  const r = runProgram(exe, args);
  expect({ status: r.status, signal: r.signal }, describeResult(r)).toEqual({
    status: 0,
    signal: null,
  });
  return r.stdout;
}

/**
 * Which linker family `<libexec>/ld` is. The suite is validated by pointing
 * TSLINK_LIBEXEC at a wrapper around GNU ld; diagnostics tests then check GNU
 * ld's wording for the same failure instead of tslink's.
 */
export type LinkerDialect = 'tslink' | 'gnu';
let dialect: LinkerDialect | undefined;
export function linkerDialect(): LinkerDialect {
  if (dialect === undefined) {
    const version = runCommand([linkerPath(), '--version'], { timeoutMs: LINK_TIMEOUT_MS });
    dialect = /^GNU ld \(GNU Binutils/.test(version.stdout) ? 'gnu' : 'tslink';
  }
  return dialect;
}

// ---------------------------------------------------------------------------
// Inspecting ELF files with binutils.

/** Relocation type names (R_X86_64_*) used anywhere in the given objects. */
export function relocationTypes(objects: readonly string[]): Set<string> {
  const out = runChecked(['readelf', '-rW', ...objects]).stdout;
  return new Set(out.match(/\bR_X86_64_\w+/g) ?? []);
}

/** Signature symbols of the COMDAT groups in one object. */
export function comdatGroups(object: string): Set<string> {
  const out = runChecked(['readelf', '-gW', object]).stdout;
  return new Set(
    [...out.matchAll(/^COMDAT group section \[\s*\d+\] `[^']*' \[([^\]]+)\]/gm)].map(
      (m) => m[1] ?? '',
    ),
  );
}

/** Names of all symbols `nm` lists for a file. */
export function symbolNames(file: string): Set<string> {
  const out = runChecked(['nm', file]).stdout;
  return new Set(out.split('\n').flatMap((line) => line.match(/^[0-9a-f ]+ \S (\S+)$/)?.[1] ?? []));
}

/** Joins lines with a trailing newline, for expected program output. */
export function lines(...text: string[]): string {
  return text.map((line) => `${line}\n`).join('');
}

/**
 * `eu-elflint --gnu-ld` finds nothing wrong with `file`. Two complaints are allowed because GNU
 * ld's own output for the same inputs draws them too: protected symbols in .dynsym, and a .tbss
 * symbol "not fitting" its section (elflint misjudges .tbss placed after .tdata's padding).
 */
export function elflint(file: string): void {
  requireTool('eu-elflint', 'elfutils');
  const r = runCommand(['eu-elflint', '--gnu-ld', file]);
  const problems = r.stdout.split('\n').filter(
    (l) =>
      l !== '' &&
      l !== 'No errors' &&
      !/non-default visibility/.test(l) &&
      !/does not fit completely in referenced section \[\d+\] '\.tbss'/.test(l) &&
      // Vendor notes elflint does not know: tslink's plugin note (like Go's build-id note).
      !/unknown object file note type \d+ with owner name 'tslink'/.test(l),
  );
  expect(problems, `eu-elflint --gnu-ld ${file}`).toEqual([]);
}

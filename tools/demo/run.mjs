// `pnpm demo`: links a program with tslink and runs it.
//
// With gcc on PATH: compiles hello.c and links it statically against glibc with
//   gcc -static -B <repo>/apps/cli/libexec ...
// which makes gcc run libexec/ld, i.e. tslink. Without a C compiler (or with --fixtures): links the
// committed freestanding objects in fixtures/ directly:
//   apps/cli/libexec/ld -static -nostdlib -e _start -o <tmp>/demo fixtures/*.o
// Then runs the result and exits with its status.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const libexec = path.join(repo, 'apps/cli/libexec');
const bundle = path.join(repo, 'apps/cli/dist/tslink.cjs');
const useFixtures = process.argv.includes('--fixtures');

/** Runs a command with inherited output; exits with its status if it fails. */
function run(cmd, args, what) {
  console.log(`$ ${[cmd, ...args].map(quote).join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.error) fail(`${what}: ${r.error.message}`);
  if (r.status !== 0)
    fail(`${what} failed (${r.signal ?? `exit status ${r.status}`})`, r.status ?? 1);
}

function quote(arg) {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
}

function fail(message, status = 1) {
  console.error(`demo: ${message}`);
  process.exit(status);
}

function hasCompiler() {
  const r = spawnSync('gcc', ['--version'], { stdio: 'ignore' });
  return !r.error && r.status === 0;
}

if (!fs.existsSync(bundle)) {
  // A fresh clone without `pnpm build`: the bundle is all the launchers need.
  run(process.execPath, [path.join(repo, 'apps/cli/build.mjs')], 'bundling tslink');
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tslink-demo-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
const exe = path.join(tmp, 'demo');

if (!useFixtures && hasCompiler()) {
  run('gcc', ['-static', `-B${libexec}`, '-o', exe, path.join(here, 'hello.c')], 'gcc + tslink');
} else {
  if (!useFixtures)
    console.log('(no gcc on PATH: linking the prebuilt objects in tools/demo/fixtures)');
  const fixtures = path.join(here, 'fixtures');
  const objects = ['start.o', 'main.o', 'util.o'].map((o) => path.join(fixtures, o));
  const ld = path.join(libexec, 'ld');
  run(ld, ['-static', '-nostdlib', '-e', '_start', '-o', exe, ...objects], 'tslink');
}

console.log(`$ ${exe}`);
const result = spawnSync(exe, [], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
if (result.error) fail(`running the linked program: ${result.error.message}`);
process.stdout.write(result.stdout);
if (result.status !== 0) {
  fail(
    `the linked program ${result.signal ? `died of ${result.signal}` : `exited with status ${result.status}`}`,
    result.status ?? 1,
  );
}
console.log('demo: OK');

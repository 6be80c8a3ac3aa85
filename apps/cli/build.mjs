// Bundles the CLI (src/bin.ts and every workspace package it imports, from their TypeScript
// source via the `source` export condition) into one CommonJS file, dist/tslink-bundle.cjs, which
// the launchers in libexec/ run through the code-cache loader dist/tslink.cjs. Usage:
//
//   node build.mjs               bundle, code cache and V8 startup snapshot dist/tslink.blob (what
//                                `pnpm build` runs, after `tsc -b` has type-checked)
//   node build.mjs --no-snapshot bundle and code cache only; the same as TSLINK_SNAPSHOT=0
//
// The bundle does not depend on what src/ contains beyond bin.ts being the entry: ESM-only
// constructs are shimmed (import.meta.url/dirname/filename); top-level await is the one thing a
// CommonJS bundle cannot hold, and esbuild says so by name if a module uses it.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, 'dist');
const bundle = path.join(dist, 'tslink-bundle.cjs');
const loader = path.join(dist, 'tslink.cjs');
const codeCache = path.join(dist, 'tslink.codecache');
const blob = path.join(dist, 'tslink.blob');
const snapshotEntry = path.join(dist, 'tslink-snapshot.cjs');
const launchers = ['tslink', 'ld', 'ld.tslink'];

const args = new Set(process.argv.slice(2));
const wantSnapshot = !args.has('--no-snapshot') && process.env.TSLINK_SNAPSHOT !== '0';

/** esbuild options shared by the bundle and the snapshot entry. */
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  conditions: ['source'],
  // Workspace packages are ESM; in a CommonJS bundle import.meta is empty, so map what Node 20
  // offers onto the CommonJS equivalents.
  define: {
    'import.meta.url': '__tslink_import_meta_url',
    'import.meta.dirname': '__dirname',
    'import.meta.filename': '__filename',
  },
  // The banner goes above esbuild's own "use strict", so it repeats the directive: the bundle
  // must stay strict-mode code, as its ESM sources are.
  banner: {
    js: '"use strict";\nvar __tslink_import_meta_url = require("node:url").pathToFileURL(__filename).href;',
  },
  sourcemap: 'linked',
  logLevel: 'warning',
  charset: 'ascii',
  write: false,
  absWorkingDir: here,
};

/**
 * The bundle must be pure ASCII: V8 keeps an ASCII source as one byte per character, while a
 * single other character (an arrow in a doc comment esbuild keeps) makes the whole source a
 * two-byte string, slower to read, hash and compile at every start. `charset: 'ascii'` escapes
 * strings; what is left is comment text, where an escape is harmless.
 */
function asciiOnly(text) {
  return text.replace(
    /[^\x00-\x7f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** Writes esbuild's output files via a temporary name + rename, so a concurrently running test or
 * link never sees a half-written bundle. */
function writeAtomically(result) {
  for (const file of result.outputFiles) {
    const tmp = `${file.path}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, file.path.endsWith('.cjs') ? asciiOnly(file.text) : file.contents);
    fs.renameSync(tmp, file.path);
  }
}

/** The three launchers must stay byte-identical copies of one script. */
function checkLaunchers() {
  const [first, ...rest] = launchers.map((name) => {
    const file = path.join(here, 'libexec', name);
    const stat = fs.statSync(file);
    if ((stat.mode & 0o111) === 0) throw new Error(`libexec/${name} is not executable`);
    return fs.readFileSync(file, 'utf8');
  });
  rest.forEach((text, i) => {
    if (text !== first) throw new Error(`libexec/${launchers[i + 1]} differs from libexec/tslink`);
  });
}

/** Where the main bundle and the lazily loaded bundles meet: the modules they share, by name. */
const SHARED = 'Symbol.for("tslink.shared")';
const SHARED_MODULES = ['@link/core', '@link/elf'];

/**
 * Code a link may not need is in bundles of its own, loaded on first use: the Mach-O linker
 * (src/macho-args.ts and what it imports) and the 386 and ARM arch plug-ins. An amd64 ELF link
 * neither loads nor compiles them, and the startup snapshot does not carry them. In the main
 * bundle, an `import()` of one becomes a require of its file, after handing it the main bundle's
 * @link/core and @link/elf, so all share one LinkError class, one Context, one ElfLink.
 */
const LAZY = [
  { spec: './macho-args.js', file: 'tslink-macho.cjs', entry: 'src/macho-args.ts' },
  {
    spec: '@link/arch-386/elf',
    file: 'tslink-arch-386.cjs',
    entry: '../../packages/arch-386/src/elf.ts',
  },
  {
    spec: '@link/arch-arm/elf',
    file: 'tslink-arch-arm.cjs',
    entry: '../../packages/arch-arm/src/elf.ts',
  },
];

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

const lazyBundles = {
  name: 'tslink-lazy-bundles',
  setup(build) {
    const filter = new RegExp(`^(${LAZY.map((l) => escapeRe(l.spec)).join('|')})$`);
    build.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'tslink-lazy' }));
    build.onLoad({ filter: /.*/, namespace: 'tslink-lazy' }, (args) => {
      const { file } = LAZY.find((l) => l.spec === args.path);
      const shared = SHARED_MODULES.map((m) => `'${m}': require('${m}')`).join(', ');
      return {
        resolveDir: here,
        loader: 'js',
        contents: `
          const path = require('node:path');
          const fs = require('node:fs');
          globalThis[${SHARED}] = { ${shared} };
          // Beside the running script (the snapshot's __dirname is the build's); else beside this.
          const dirs = [path.dirname(path.resolve(process.argv[1] || '.')), __dirname];
          const dir = dirs.find((d) => fs.existsSync(path.join(d, '${file}'))) || __dirname;
          module.exports = require('node:module').createRequire(path.join(dir, 'x'))(
            path.join(dir, '${file}'),
          );`,
      };
    });
  },
};

/** In a lazily loaded bundle, the shared modules are the main bundle's (see lazyBundles). */
const sharedModules = {
  name: 'tslink-shared-modules',
  setup(build) {
    const filter = new RegExp(`^(${SHARED_MODULES.map(escapeRe).join('|')})$`);
    build.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'tslink-shared' }));
    build.onLoad({ filter: /.*/, namespace: 'tslink-shared' }, (args) => ({
      loader: 'js',
      contents: `module.exports = globalThis[${SHARED}]['${args.path}'];`,
    }));
  },
};

export async function buildBundle() {
  fs.mkdirSync(dist, { recursive: true });
  const result = await esbuild.build({
    ...common,
    plugins: [lazyBundles],
    entryPoints: [path.join(here, 'src/bin.ts')],
    outfile: bundle,
  });
  writeAtomically(result);
  for (const lazy of LAZY) {
    writeAtomically(
      await esbuild.build({
        ...common,
        plugins: [sharedModules],
        entryPoints: [path.join(here, lazy.entry)],
        outfile: path.join(dist, lazy.file),
      }),
    );
  }
  const js = result.outputFiles.find((f) => f.path === bundle);
  writeLoader(createHash('sha1').update(asciiOnly(js.text)).digest('hex'));
  return fs.statSync(bundle).size;
}

/**
 * dist/tslink.cjs, what the launchers run, is a small loader: it compiles the bundle through
 * vm.Script with V8's code cache (dist/tslink.codecache), so a link does not spend ~10 ms of its
 * start-up parsing and compiling the linker again. Node 20 has no module compile cache of its own.
 * V8 validates the cache against the source and its own version and flags; a stale or foreign cache
 * is rejected and the bundle is simply compiled, so the cache can only make a link faster.
 */
function writeLoader(digest) {
  const text = `"use strict";
// Written by apps/cli/build.mjs: runs tslink-bundle.cjs with V8's code cache (see build.mjs).
// V8 checks a cache only against the source's length, so the cache file starts with the SHA-1 of
// the bundle it was made from, which must equal the bundle's digest recorded here at build time.
const fs = require("node:fs");
const path = require("node:path");
const vm = require("node:vm");
const { wrap } = require("node:module");
const digest = Buffer.from("${digest}", "hex");
const file = path.join(__dirname, "tslink-bundle.cjs");
const source = fs.readFileSync(file, "latin1"); // the bundle is ASCII (build.mjs)
// TSLINK_WRITE_CODECACHE=<file>: compile afresh and write the cache to <file> at exit.
const writeCache = process.env.TSLINK_WRITE_CODECACHE;
let cachedData;
if (!writeCache) {
  try {
    const cache = fs.readFileSync(path.join(__dirname, "tslink.codecache"));
    if (cache.subarray(0, 20).equals(digest)) cachedData = cache.subarray(20);
  } catch {}
}
const script = new vm.Script(wrap(source), { filename: file, cachedData });
if (writeCache) {
  process.on("exit", () => fs.writeFileSync(writeCache, Buffer.concat([digest, script.createCachedData()])));
}
const mod = { exports: {} };
script.runInThisContext().call(mod.exports, mod.exports, require, mod, file, __dirname);
`;
  const tmp = `${loader}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, loader);
}

/**
 * The warm-up link: the demo's committed fixture objects, one of them from an archive, so every
 * pass of a static link runs and its functions are compiled when the code cache or the snapshot
 * is taken. No --build-id: node:crypto must not end up in the snapshot (see buildSnapshot).
 */
function warmupArgs(out) {
  const fixtures = path.join(here, '../../tools/demo/fixtures');
  return [
    '-static',
    '-nostdlib',
    '-e',
    '_start',
    '--gc-sections',
    '-o',
    out,
    ...['start.o', 'main.o'].map((f) => path.join(fixtures, f)),
    `-L${fixtures}`,
    '-ldemoutil',
  ];
}

/**
 * Where the host has a C compiler, the snapshot's warm-up also links a C hello world the way gcc
 * asks a linker to, statically and as a PIE: glibc's crt files, libc.a's .eh_frame, TLS, IFUNC
 * and merge sections, and the dynamic passes, run through code the demo fixtures leave cold
 * (about 5% of a static hello world's link). The argv is gcc's own: captured by an `ld` that only
 * records it. Without gcc, or if anything fails, the demo's warm-up alone is used.
 */
function hostWarmups(scratch, out) {
  const recorder = path.join(scratch, 'ld');
  fs.writeFileSync(recorder, '#!/bin/sh\nprintf \'%s\\n\' "$@" > "$0.argv"\n', { mode: 0o755 });
  const source = path.join(scratch, 'hello.c');
  fs.writeFileSync(source, '#include <stdio.h>\nint main(void) { printf("hi\\n"); return 0; }\n');
  const object = path.join(scratch, 'hello.o');
  const links = [];
  for (const mode of [['-static'], []]) {
    try {
      // The object must outlive gcc: a source given to the link step would be a deleted temp file.
      if (links.length === 0)
        execFileSync('gcc', ['-O2', '-c', source, '-o', object], { stdio: 'ignore' });
      execFileSync('gcc', [`-B${scratch}`, ...mode, object, '-o', out], { stdio: 'ignore' });
    } catch {
      return links; // no gcc here, or one that cannot link this way
    }
    const argv = fs.readFileSync(`${recorder}.argv`, 'utf8').split('\n').slice(0, -1);
    const kept = [];
    for (let i = 0; i < argv.length; i++) {
      if (argv[i] === '-plugin')
        i++; // the LTO plug-in and its options are GNU ld's business
      else if (argv[i].startsWith('-plugin-opt=')) continue;
      else if (argv[i] === '--build-id')
        continue; // node:crypto must stay out of the snapshot
      else if (argv[i] === '-o') (kept.push('-o', out), i++);
      else kept.push(argv[i]);
    }
    links.push(kept);
  }
  return links;
}

/** Fills the code cache, taken at the exit of the warm-up link. */
function buildCodeCache() {
  const out = path.join(dist, `warmup.${process.pid}.out`);
  const tmp = `${codeCache}.${process.pid}.tmp`;
  try {
    execFileSync(process.execPath, [loader, ...warmupArgs(out), '--build-id'], {
      stdio: 'inherit',
      env: { ...process.env, TSLINK_WRITE_CODECACHE: tmp, NODE_OPTIONS: '' },
    });
  } finally {
    fs.rmSync(out, { force: true });
  }
  fs.renameSync(tmp, codeCache);
  return fs.statSync(codeCache).size;
}

/**
 * The V8 flags the launchers pass to node (their `v8flags=` line). A snapshot only loads under the
 * flags it was built with, so it is built with exactly these.
 */
function launcherV8Flags() {
  const text = fs.readFileSync(path.join(here, 'libexec', launchers[0]), 'utf8');
  const m = /^v8flags=(.*)$/m.exec(text);
  if (!m) throw new Error(`libexec/${launchers[0]} has no v8flags= line`);
  return m[1].split(/\s+/).filter(Boolean);
}

/**
 * The startup snapshot: the heap after every module was evaluated and after the warm-up link ran,
 * so the deserialized process starts with the linker's functions already compiled (V8 keeps their
 * bytecode in the snapshot) instead of compiling them lazily during the link: about 15 ms of a
 * static hello world. bin.ts, the part that reads argv and runs main(), is deferred to the
 * deserialized process. Module top-level code runs once, at build time: it must not capture
 * process.env, process.argv, the cwd or the terminal, and nothing a link leaves behind may live in
 * module state (the warm-up link would carry it into every later one). node:crypto stays out of
 * the warm-up: Node does not support it in snapshots.
 */
async function buildSnapshot() {
  const result = await esbuild.build({
    ...common,
    plugins: [lazyBundles],
    stdin: {
      contents: [
        "import * as linker from './src/main.ts';",
        "import { startupSnapshot } from 'node:v8';",
        // The warm-up links, one after another (main() is async only in its signature).
        'const warmups = JSON.parse(process.env.TSLINK_SNAPSHOT_WARMUP || "[]");',
        // The demo's must succeed; the host's (gcc, libc.a) may be impossible here.
        'void warmups.reduce((p, w) => p.then(() => linker.main(w.argv)).then((code) => {',
        '  if (code !== 0 && w.required) throw new Error(`warm-up link failed: ${w.argv.join(" ")}`);',
        '}), Promise.resolve());',
        "startupSnapshot.setDeserializeMainFunction(() => { require('./src/bin.ts'); });",
      ].join('\n'),
      resolveDir: here,
      sourcefile: 'snapshot-entry.ts',
      loader: 'ts',
    },
    outfile: snapshotEntry,
  });
  writeAtomically(result);
  const tmp = `${blob}.${process.pid}.tmp`;
  const out = path.join(dist, `warmup.${process.pid}.out`);
  const scratch = fs.mkdtempSync(path.join(dist, 'warmup-'));
  try {
    const warmups = [
      { argv: warmupArgs(out), required: true },
      ...hostWarmups(scratch, out).map((argv) => ({ argv, required: false })),
    ];
    execFileSync(
      process.execPath,
      [...launcherV8Flags(), '--snapshot-blob', tmp, '--build-snapshot', snapshotEntry],
      {
        // Node warns that node:module is "not yet fully verified" in snapshots; it is used only
        // to load built-in modules, which works.
        stdio: ['ignore', 'inherit', 'pipe'],
        env: {
          ...process.env,
          NODE_OPTIONS: '',
          TSLINK_SNAPSHOT_WARMUP: JSON.stringify(warmups),
        },
      },
    );
  } finally {
    fs.rmSync(out, { force: true });
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  // The blob only works with the node binary that built it: record that binary's inode and size,
  // which the launcher compares (via `ls -Lin`) with the node it is about to run.
  const node = fs.statSync(process.execPath);
  fs.writeFileSync(`${blob}.node`, `${node.ino} ${node.size}\n`);
  // A hard link to it lets the launcher compare inodes with a shell builtin (test -ef) instead of
  // running ls; across file systems (or without permission) the recorded inode and size serve.
  fs.rmSync(`${blob}.nodebin`, { force: true });
  try {
    fs.linkSync(fs.realpathSync(process.execPath), `${blob}.nodebin`);
  } catch {}
  fs.renameSync(tmp, blob); // last: the launcher also wants the blob newer than tslink.cjs
  return fs.statSync(blob).size;
}

function removeSnapshot() {
  for (const file of [
    blob,
    `${blob}.node`,
    `${blob}.nodebin`,
    snapshotEntry,
    `${snapshotEntry}.map`,
    `${loader}.map`,
  ]) {
    fs.rmSync(file, { force: true });
  }
}

/** Everything `pnpm build` makes: bundle, code cache and (unless opted out) the snapshot. */
export async function run() {
  checkLaunchers();
  removeSnapshot(); // never leave a blob from an older bundle behind
  const size = await buildBundle();
  console.log(`dist/tslink-bundle.cjs ${(size / 1024).toFixed(1)} KiB`);
  const cacheSize = buildCodeCache();
  console.log(`dist/tslink.codecache ${(cacheSize / 1024).toFixed(1)} KiB`);
  if (wantSnapshot) {
    const blobSize = await buildSnapshot();
    console.log(`dist/tslink.blob ${(blobSize / 1024 / 1024).toFixed(1)} MiB (${process.version})`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  run().catch((err) => {
    // esbuild has already printed its diagnostics; anything else gets a one-line reason.
    if (!(err && Array.isArray(err.errors))) console.error(`build.mjs: ${err?.message ?? err}`);
    process.exitCode = 1;
  });
}

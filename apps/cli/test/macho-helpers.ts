// Helpers for the Mach-O end-to-end tests: clang cross-compilation to x86_64-apple-macos11
// objects (cached by content), the machoload test loader built from tools/macho/machoload.c,
// and a normaliser for `llvm-objdump --macho` output so tslink's output can be compared with
// ld64.lld's field by field.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { expect } from 'vitest';
import { lintMacho } from '@link/macho';
import {
  cachePath,
  cached,
  describeResult,
  fixturesDir,
  libexecDir,
  repoRoot,
  requireTool,
  runChecked,
  runCommand,
  type RunResult,
} from './helpers.js';

export const machoFixtures = join(fixturesDir, 'macho');

export const CLANG_MACHO_FLAGS = [
  '-target',
  'x86_64-apple-macos11',
  '-ffreestanding',
  '-fno-stack-protector',
  '-fno-builtin',
  '-O1',
  '-c',
];

function sha(...parts: (string | Buffer)[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex').slice(0, 16);
}

/** A file under <repo>/.cache/e2e/macho, made by `produce` once (see helpers.cached). */
function cachedFile(name: string, produce: (tmp: string) => void): string {
  return cached(cachePath('macho', name), produce);
}

let clangVersion: string | null = null;
/** Compiles a fixture (name under fixtures/macho, or absolute path) to a Mach-O object. */
export function compileMacho(source: string, extra: readonly string[] = []): string {
  const clang = requireTool('clang', 'clang');
  clangVersion ??= runChecked([clang, '--version']).stdout;
  const file = source.startsWith('/') ? source : join(machoFixtures, source);
  const key = sha(clangVersion, JSON.stringify(extra), readFileSync(file));
  return cachedFile(`${basename(file, '.c')}-${key}.o`, (tmp) => {
    runChecked([clang, ...CLANG_MACHO_FLAGS, ...extra, '-o', tmp, file]);
  });
}

/** The tslink copy of machoload (tools/macho/machoload.c), built once per source version. */
export function buildMachoload(): string {
  const gcc = requireTool('gcc', 'gcc');
  const src = join(repoRoot, 'tools', 'macho', 'machoload.c');
  const key = sha(readFileSync(src));
  return cachedFile(`machoload-${key}`, (tmp) => runChecked([gcc, '-O1', '-o', tmp, src]));
}

/** The parts of `llvm-objdump --macho --all-headers --bind --lazy-bind --rebase --exports-trie --syms` tests compare. */
export interface MachoSummary {
  commands: string[];
  segments: string[];
  symbols: string[];
  rebases: string[];
  binds: string[];
  lazyBinds: string[];
  weakBinds: string[];
  /** Mach header flags, as llvm-objdump names them. */
  flags: string[];
  exports: string[];
}

const table = (text: string, header: RegExp): string[] => {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => header.test(l));
  if (start < 0) return [];
  const out: string[] = [];
  for (let i = start + 2; i < lines.length; i++) {
    const l = lines[i]!.trim();
    if (l === '' || /^[A-Z][a-z ]+(table|trie):?$/.test(l)) break;
    out.push(l);
  }
  return out;
};

/** Addresses differ between linkers by design (layout); everything else must match. */
export function summarizeMacho(objdump: string): MachoSummary {
  const commands = [...objdump.matchAll(/^\s+cmd (LC_\w+)/gm)].map((m) => m[1]!);
  const segments = [
    ...objdump.matchAll(
      /cmd LC_SEGMENT_64\n.*\n\s+segname (\S+)[\s\S]*?maxprot (\S+)\n\s+initprot (\S+)/g,
    ),
  ].map((m) => `${m[1]} max=${m[2]} init=${m[3]}`);
  const symLines: string[] = [];
  for (const l of objdump.split('SYMBOL TABLE:\n')[1]?.split('\n') ?? []) {
    if (!/^[0-9a-f]{16} /.test(l)) break;
    symLines.push(l);
  }
  const symbols = symLines
    .map((l) => l.replace(/^[0-9a-f]{16}\s+/, '').replace(/\s+/g, ' '))
    .sort();
  const dropAddr = (l: string) => l.replace(/0x[0-9A-Fa-f]+\s+/, '').replace(/\s+/g, ' ');
  const rebases = table(objdump, /^Rebase table:/)
    .map(dropAddr)
    .sort();
  const binds = table(objdump, /^Bind table:/)
    .map(dropAddr)
    .sort();
  const lazyBinds = table(objdump, /^Lazy bind table:/)
    .map(dropAddr)
    .sort();
  const weakBinds = table(objdump, /^Weak bind table:/)
    .map(dropAddr)
    .sort();
  const header = /^MH_MAGIC_64\s+\S+\s+\S+\s+\S+\s+\S+\s+\d+\s+\d+\s+(.*)$/m.exec(objdump);
  const flags = (header?.[1] ?? '').trim().split(/\s+/).sort();
  const exportLines = objdump.split('Exports trie:\n')[1]?.split('\n') ?? [];
  const exports: string[] = [];
  for (const l of exportLines) {
    const m = /^0x[0-9A-F]+\s+(\S+)/.exec(l);
    if (!m) break;
    exports.push(m[1]!);
  }
  exports.sort();
  return { commands, segments, symbols, rebases, binds, lazyBinds, weakBinds, flags, exports };
}

export function objdumpMacho(file: string): string {
  const objdump = requireTool('llvm-objdump', 'llvm');
  return runChecked([
    objdump,
    '--macho',
    '--all-headers',
    '--bind',
    '--lazy-bind',
    '--weak-bind',
    '--rebase',
    '--exports-trie',
    '--syms',
    file,
  ]).stdout;
}

/**
 * Function name → compact unwind encoding, looked up the way the unwinder does (the entry with
 * the greatest function offset at or below the function's address), so outputs that fold
 * equal neighbouring entries (lld) and outputs that do not (tslink) compare equal.
 */
export function unwindByFunction(file: string): Record<string, string> {
  const objdump = requireTool('llvm-objdump', 'llvm');
  const text = runChecked([objdump, '--macho', '--unwind-info', '--syms', file]).stdout;
  const common = [...text.matchAll(/encoding\[(\d+)\]: (0x[0-9a-f]+)/g)].map((m) => m[2]!);
  const entries: [number, string][] = [];
  for (const m of text.matchAll(
    /\[\d+\]: function offset=(0x[0-9a-f]+), encoding(?:\[(\d+)\])?=(0x[0-9a-f]+)/g,
  )) {
    entries.push([Number(m[1]), m[2] !== undefined ? common[Number(m[2])]! : m[3]!]);
  }
  entries.sort((x, y) => x[0] - y[0]);
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/^([0-9a-f]{16}) [lg]\s+F __TEXT,__text (\S+)$/gm)) {
    const name = m[2]!;
    if (name === '__mh_execute_header') continue;
    const off = Number(`0x${m[1]}`) - 0x100000000;
    let enc = 'none';
    for (const [o, e] of entries) if (o <= off) enc = e;
    out[name] = enc;
  }
  return out;
}

/** `tslink -arch x86_64 -platform_version macos 11.0 11.0 -o out ...args`. */
export function tslinkMacho(out: string, args: readonly string[]): RunResult {
  const base = ['-arch', 'x86_64', '-platform_version', 'macos', '11.0', '11.0'];
  return runCommand([join(libexecDir(), 'tslink'), ...base, '-o', out, ...args]);
}

/** The lint must find nothing, and the signature must be there (tslink signs ad hoc by default). */
export function expectMachoLintClean(file: string): void {
  expect(lintMacho(readFileSync(file), { requireSignature: true }).errors, file).toEqual([]);
}

/** tslinkMacho() that must succeed with a lint-clean output; returns its stderr. */
export function linkMachoOk(out: string, args: readonly string[]): string {
  const r = tslinkMacho(out, args);
  expect(r.status, describeResult(r)).toBe(0);
  expectMachoLintClean(out);
  return r.stderr;
}

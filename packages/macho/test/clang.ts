// Compiles the CLI's Mach-O fixtures with clang for the unit tests (cached under .cache/macho).
// A missing clang is a failure with an install hint, never a skip.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const fixtures = join(repoRoot, 'apps/cli/test/fixtures/macho');
const cache = join(repoRoot, '.cache', 'macho');

export function clangObject(name: string, extra: string[] = []): string {
  let version: string;
  try {
    version = execFileSync('clang', ['--version'], { encoding: 'utf8' });
  } catch {
    throw new Error('missing tool clang: apt-get install -y clang');
  }
  const src = join(fixtures, name);
  const key = createHash('sha256')
    .update(version)
    .update(extra.join(' '))
    .update(readFileSync(src))
    .digest('hex')
    .slice(0, 16);
  mkdirSync(cache, { recursive: true });
  const out = join(cache, `unit-${basename(name, '.c')}-${key}.o`);
  if (!existsSync(out)) {
    const tmp = `${out}.${process.pid}.tmp`;
    execFileSync('clang', [
      '-target',
      'x86_64-apple-macos11',
      '-ffreestanding',
      '-fno-stack-protector',
      '-fno-builtin',
      '-O1',
      '-c',
      ...extra,
      '-o',
      tmp,
      src,
    ]);
    renameSync(tmp, out);
  }
  return out;
}

/** A binary dylib built by ld64.lld-14 from a fixture (cached like the objects). */
export function lldDylib(name: string, installName: string): string {
  const obj = clangObject(name);
  const out = obj.replace(/\.o$/, '.dylib');
  if (!existsSync(out)) {
    const tmp = `${out}.${process.pid}.tmp`;
    try {
      execFileSync('ld64.lld-14', [
        '-arch',
        'x86_64',
        '-platform_version',
        'macos',
        '11.0',
        '11.0',
        '-dylib',
        '-install_name',
        installName,
        '-o',
        tmp,
        obj,
        join(fixtures, 'libSystem.tbd'),
      ]);
    } catch (e) {
      throw new Error(`ld64.lld-14 failed (apt-get install -y lld-14): ${String(e)}`);
    }
    renameSync(tmp, out);
  }
  return out;
}

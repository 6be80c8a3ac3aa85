// The launchers in libexec/ start tslink from the startup snapshot that build.mjs makes (the
// global setup runs that build), fall back to the code-cache loader when the snapshot cannot be
// used, and link the same bytes either way.
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeScratchDir, repoRoot, runChecked, runCommand } from './helpers.js';

const launcher = join(repoRoot, 'apps/cli/libexec/tslink');
const fixtures = join(repoRoot, 'tools/demo/fixtures');

/** The node command line the launcher ends in, from `sh -x`'s trace of its `exec`. */
function execLine(env: Record<string, string> = {}): string {
  const r = runCommand(['sh', '-x', launcher, '--version'], { env });
  expect(r.status, r.stderr).toBe(0);
  const line = r.stderr.split('\n').find((l) => /^\+ exec /.test(l));
  expect(line, r.stderr).toBeDefined();
  return line!;
}

function demoLink(out: string, env: Record<string, string> = {}): Buffer {
  runChecked(
    [
      launcher,
      '-static',
      '-nostdlib',
      '-e',
      '_start',
      '--build-id',
      '-o',
      out,
      join(fixtures, 'start.o'),
      join(fixtures, 'main.o'),
      `-L${fixtures}`,
      '-ldemoutil',
    ],
    { env },
  );
  return readFileSync(out);
}

describe('launcher', () => {
  it('runs from the startup snapshot, with the V8 flags it was built with', () => {
    const line = execLine();
    expect(line).toContain('--snapshot-blob');
    expect(line).toContain('--min-semi-space-size=16');
  });

  it('without the hard link to node, matches the binary by inode and size instead', () => {
    // A copy of the CLI whose build could not hard-link node (another file system, say).
    const dir = makeScratchDir('launcher-copy');
    for (const sub of ['dist', 'libexec'])
      cpSync(join(repoRoot, 'apps/cli', sub), join(dir, sub), {
        recursive: true,
        preserveTimestamps: true, // the launcher wants the blob newer than the loader
        filter: (src) => !src.endsWith('.nodebin'),
      });
    const r = runCommand(['sh', '-x', join(dir, 'libexec', 'tslink'), '--version']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^\+ ls -Lin /m);
    expect(r.stderr).toMatch(/^\+ exec .*--snapshot-blob/m);
    expect(r.stdout).toMatch(/^tslink /);
  });

  it('falls back to the code-cache loader when NODE_OPTIONS is set', () => {
    const line = execLine({ NODE_OPTIONS: '--max-old-space-size=3000' });
    expect(line).not.toContain('--snapshot-blob');
    expect(line).toContain('tslink.cjs');
  });

  it('links the same bytes from the snapshot and from the loader', () => {
    const dir = makeScratchDir('launcher');
    const a = demoLink(join(dir, 'snapshot.out'));
    const b = demoLink(join(dir, 'loader.out'), { NODE_OPTIONS: '--max-old-space-size=3000' });
    expect(a.equals(b)).toBe(true);
    // Two runs from the same snapshot: nothing the build's warm-up link left behind leaks in.
    expect(demoLink(join(dir, 'again.out')).equals(a)).toBe(true);
  });
});

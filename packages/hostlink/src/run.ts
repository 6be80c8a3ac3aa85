import * as fs from 'node:fs';
import * as path from 'node:path';
import { LinkError, builtin } from '@link/core';

/**
 * The temporary directory of an external link: `--tmpdir` (kept), or a fresh one removed when
 * the link ends, however it ends.
 */
export class HostTmpDir {
  readonly dir: string;
  private readonly keep: boolean;

  constructor(tmpdir: string | null) {
    this.keep = tmpdir !== null;
    if (tmpdir !== null) {
      fs.mkdirSync(tmpdir, { recursive: true });
      this.dir = tmpdir;
    } else
      this.dir = fs.mkdtempSync(
        path.join(builtin<typeof import('node:os')>('node:os').tmpdir(), 'tslink-hostlink-'),
      );
  }

  /** Path of the i-th copied host object: `000000.o`, `000001.o`, … */
  hostObject(i: number): string {
    return path.join(this.dir, `${String(i).padStart(6, '0')}.o`);
  }

  cleanup(): void {
    if (!this.keep) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Runs the host link; its failure becomes a LinkError with its exit status and stderr. */
export function runHostLink(argv: readonly string[], verbose: (line: string) => void): void {
  const { spawnSync } = builtin<typeof import('node:child_process')>('node:child_process');
  const r = spawnSync(argv[0]!, argv.slice(1), {
    encoding: 'utf8',
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  if (r.error) throw new LinkError(`running ${argv[0]} failed: ${r.error.message}`);
  if (r.stderr) verbose(r.stderr.trimEnd());
  if (r.status !== 0) {
    const why = r.signal !== null ? `signal ${r.signal}` : `exit status ${r.status}`;
    throw new LinkError(
      `${argv[0]} failed (${why})` + (r.stderr ? `:\n${r.stderr.trimEnd()}` : ''),
    );
  }
}

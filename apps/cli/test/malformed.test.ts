// Damaged objects for every ELF arch: a real compiled object (x86-64, i686, armhf), with bytes
// overwritten in its headers and tables or cut short, must make tslink fail with a diagnostic and
// status 1, or link, but never crash with an internal error or stack trace, and never hang. The
// damage is deterministic (a seeded generator), so a failure names a reproducible case.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { ARMHF, I686, crossCompile, requireCross, type CrossTarget } from './cross.js';
import {
  compile,
  describeResult,
  lines,
  linkerPath,
  makeScratchDir,
  removeScratchDirs,
  requireBaseTools,
  runCommand,
  type InlineSource,
} from './helpers.js';

afterAll(removeScratchDirs);

// Sections of every kind a reader must parse: TLS, a string table to merge, data with
// relocations, an exception-handling table (C++), and a COMDAT group.
const SOURCE: InlineSource = {
  name: 'malformed_base',
  lang: 'c++',
  code: lines(
    '#include <stdexcept>',
    'thread_local int tv = 3;',
    'static const char *names[] = {"alpha", "beta", "gamma"};',
    'template <class T> T twice(T x) { return x + x; }',
    'extern "C" int entry(int c) {',
    '  if (c < 0) throw std::runtime_error("negative");',
    '  return twice(c) + tv + names[c % 3][0];',
    '}',
  ),
};

const CASES = 40;

/** Deterministic bytes for case `k`. */
function rng(seed: string): () => number {
  let block: Buffer = Buffer.alloc(0);
  let at = 0;
  let n = 0;
  return () => {
    if (at + 4 > block.length) {
      block = createHash('sha256').update(`${seed}:${n++}`).digest();
      at = 0;
    }
    const v = block.readUInt32LE(at);
    at += 4;
    return v;
  };
}

/**
 * Case `k` of `orig`: a few words overwritten where the structure is (the ELF header, the
 * section header table and, through them, the symbol and relocation tables), or a truncation.
 */
function damage(orig: Buffer, k: number): Buffer {
  const next = rng(`malformed:${k}`);
  if (k % 5 === 4) return orig.subarray(0, next() % orig.length);
  const b = Buffer.from(orig);
  const is64 = b[4] === 2;
  const shoff = is64 ? Number(b.readBigUInt64LE(0x28)) : b.readUInt32LE(0x20);
  for (let i = 0, n = 1 + (next() % 4); i < n; i++) {
    const region = next() % 3;
    const at =
      region === 0
        ? next() % 64 // the ELF header
        : region === 1
          ? shoff + (next() % Math.max(1, b.length - shoff)) // section headers
          : next() % b.length; // anywhere (tables, contents)
    if (at + 4 <= b.length) b.writeUInt32LE(next(), at);
  }
  return b;
}

interface Target {
  name: string;
  object: () => string;
  require: () => void;
}

const crossTarget = (t: CrossTarget): Target => ({
  name: t.name,
  object: () => crossCompile(t, SOURCE, ['-O2', '-fPIC']),
  require: () => requireCross(t),
});

const TARGETS: Target[] = [
  { name: 'x86-64', object: () => compile(SOURCE, ['-O2', '-fPIC']), require: requireBaseTools },
  crossTarget(I686),
  crossTarget(ARMHF),
];

describe.each(TARGETS)('damaged $name objects', (target) => {
  it(`${CASES} damaged copies give a diagnostic or a link, never a crash`, () => {
    target.require();
    const orig = readFileSync(target.object());
    const dir = makeScratchDir(`malformed-${target.name}`);
    // The undamaged object links: the damage, not the setup, is what fails.
    const clean = runCommand([linkerPath(), '-shared', '-o', join(dir, 'ok.so'), target.object()]);
    expect(clean.status, describeResult(clean)).toBe(0);
    const failures: string[] = [];
    for (let k = 0; k < CASES; k++) {
      const input = join(dir, `case${k}.o`);
      writeFileSync(input, damage(orig, k));
      const r = runCommand([linkerPath(), '-shared', '-o', join(dir, 'out.so'), input], {
        timeoutMs: 20_000,
      });
      const crashed =
        (r.status !== 0 && r.status !== 1) ||
        r.signal !== null ||
        /internal error|\n\s+at .*:\d+:\d+/.test(r.stderr);
      if (crashed) failures.push(`case ${k}: ${describeResult(r)}`);
    }
    expect(failures).toEqual([]);
  });
});

/** Copies an ELF64 object with `sh_addralign` of its first SHF_MERGE section set to `align`. */
function withMergeAlignment(elf: Buffer, align: bigint): Buffer {
  const b = Buffer.from(elf);
  const shoff = Number(b.readBigUInt64LE(0x28));
  const shnum = b.readUInt16LE(0x3c);
  for (let i = 1; i < shnum; i++) {
    const sh = shoff + i * 64;
    if ((b.readBigUInt64LE(sh + 8) & 0x10n) !== 0n) {
      b.writeBigUInt64LE(align, sh + 48);
      return b;
    }
  }
  throw new Error('no SHF_MERGE section');
}

describe('section alignment', () => {
  it('an alignment of 2^47 is refused by name (its low 32 bits look like a power of two)', () => {
    requireBaseTools();
    const dir = makeScratchDir('malformed-align');
    const input = join(dir, 'huge-align.o');
    writeFileSync(input, withMergeAlignment(readFileSync(TARGETS[0]!.object()), 2n ** 47n));
    const r = runCommand([linkerPath(), '-shared', '-o', join(dir, 'out.so'), input]);
    expect({ status: r.status, stderr: r.stderr }, describeResult(r)).toEqual({
      status: 1,
      stderr: expect.stringMatching(/has alignment 140737488355328, larger than 1 GiB/),
    });
    expect(r.stderr).not.toMatch(/internal error/);
  });
});

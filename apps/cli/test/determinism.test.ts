// Linking the same inputs twice must give byte-identical executables, even
// when the output goes to a different directory.
import { readFileSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { linkOk, removeScratchDirs } from './helpers.js';
import { compilePrograms, cxx, linkArgs, sqlite, type Program } from './programs.js';

const subjects = [cxx, sqlite];

let objectsOf: (program: Program) => string[];
beforeAll(() => {
  objectsOf = compilePrograms(subjects);
});
afterAll(removeScratchDirs);

function firstDifference(a: Buffer, b: Buffer): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return i;
  return length;
}

describe('deterministic output', () => {
  it.each(subjects)('$name', (program) => {
    const args = linkArgs(program, objectsOf(program));
    const first = linkOk(program.driver, args);
    const second = linkOk(program.driver, args);
    expect(first.dir).not.toBe(second.dir);
    const a = readFileSync(first.output);
    const b = readFileSync(second.output);
    expect(
      a.equals(b),
      `${first.output} (${a.length} bytes) and ${second.output} (${b.length} bytes) ` +
        `differ first at byte ${firstDifference(a, b)}`,
    ).toBe(true);
  });
});

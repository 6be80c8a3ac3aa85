// --compress-debug-sections=zlib (what `gcc -gz` and Go's external linking pass): the C++
// program built with -g, linked with and without compression for x86-64, i686 and armhf. The
// compressed output runs, its .debug_* sections carry SHF_COMPRESSED, and decompressed they hold
// exactly the bytes of the uncompressed output's (readelf -z decompresses).
import { afterAll, describe, expect, it } from 'vitest';

import { ARMHF, I686, crossCompile, crossLinkOk, crossRun, requireCross } from './cross.js';
import {
  compile,
  describeResult,
  elflint,
  linkOk,
  removeScratchDirs,
  requireBaseTools,
  runChecked,
  runProgram,
  type RunResult,
} from './helpers.js';
import { cxx } from './programs.js';

afterAll(removeScratchDirs);

const CFLAGS = [...cxx.cflags, '-g'];
const ZLIB = '-Wl,--compress-debug-sections=zlib';

interface Target {
  name: string;
  check: () => void;
  objects: () => string[];
  link: (args: string[], name: string) => string;
  run: (exe: string) => RunResult;
}

const native: Target = {
  name: 'x86-64',
  check: requireBaseTools,
  objects: () => cxx.sources.map((s) => compile(s, CFLAGS)),
  link: (args, name) => linkOk('g++', args, name).output,
  run: (exe) => runProgram(exe),
};

const cross = (t: typeof I686): Target => ({
  name: t.name,
  check: () => requireCross(t),
  objects: () => cxx.sources.map((s) => crossCompile(t, s, CFLAGS)),
  link: (args, name) => crossLinkOk(t, 'c++', args, name).output,
  run: (exe) => crossRun(t, exe),
});

/** Name, flags and size of each .debug_* section, from `readelf -SW`. */
function debugSections(file: string): { name: string; flags: string; size: number }[] {
  const out = runChecked(['readelf', '-SW', file]).stdout;
  return [
    ...out.matchAll(
      /\]\s+(\.debug_\w+)\s+\w+\s+[0-9a-f]+\s+[0-9a-f]+\s+([0-9a-f]+)\s+\S+\s+([A-Z]*)\s/g,
    ),
  ].map((m) => ({ name: m[1]!, size: parseInt(m[2]!, 16), flags: m[3]! }));
}

describe.each([native, cross(I686), cross(ARMHF)])('--compress-debug-sections=zlib, $name', (t) => {
  it('the program runs; decompressed debug sections equal the uncompressed output', () => {
    t.check();
    const objects = t.objects();
    const plain = t.link(objects, 'plain');
    const packed = t.link([ZLIB, ...objects], 'zlib');
    const run = t.run(packed);
    expect({ status: run.status, stdout: run.stdout }, describeResult(run)).toEqual({
      status: cxx.status,
      stdout: cxx.stdout,
    });
    const before = debugSections(plain);
    const after = debugSections(packed);
    expect(after.map((s) => s.name)).toEqual(before.map((s) => s.name));
    // .debug_info (the bulk) is compressed, and smaller; every compressed one is marked C.
    const info = after.find((s) => s.name === '.debug_info')!;
    expect(info.flags).toContain('C');
    expect(info.size).toBeLessThan(before.find((s) => s.name === '.debug_info')!.size);
    for (const s of before) {
      const dump = (file: string) => runChecked(['readelf', '-z', '-x', s.name, file]).stdout;
      expect(dump(packed).replace(/^.*\n/, ''), s.name).toBe(dump(plain).replace(/^.*\n/, ''));
    }
    if (t === native) elflint(packed);
  });
});

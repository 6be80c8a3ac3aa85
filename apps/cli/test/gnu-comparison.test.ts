// tslink's dynamic outputs against GNU ld's for the same inputs: the same dynamic tags, and
// dynamic symbols and relocation counts that differ only in the two documented ways (see
// packages/elf/README.md, "Differences from GNU ld"):
//   1. Undefined *weak* symbols of an executable (__gmon_start__, _ITM_*TMCloneTable) resolve to
//      zero at link time, as lld does, so they are not in .dynsym and need no GLOB_DAT.
//   2. A function reached both through the GOT and by calls gets a JUMP_SLOT for its PLT entry
//      besides its GLOB_DAT; GNU ld shares the GOT slot through a .plt.got entry instead.
//   3. A pointer in writable data to data copied into a PIE (R_X86_64_COPY) gets a RELATIVE
//      relocation to the copy; GNU ld writes a symbolic R_X86_64_64 that resolves to the same
//      address. The total of the two kinds is the same.
import { afterAll, describe, expect, it } from 'vitest';

import { compile, linkOk, makeScratchDir, removeScratchDirs, runChecked } from './helpers.js';
import { join } from 'node:path';

afterAll(removeScratchDirs);

function tags(file: string): string[] {
  const out = runChecked(['readelf', '-W', '-d', file]).stdout;
  return [...out.matchAll(/^\s*0x[0-9a-f]+ \((\w+)\)/gm)].map((m) => m[1]!).sort();
}

function dynsyms(file: string): Map<string, string> {
  const out = runChecked(['readelf', '-W', '--dyn-syms', file]).stdout;
  const m = new Map<string, string>();
  for (const line of out.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8 || !/^\d+:$/.test(f[0]!) || f[7] === undefined) continue;
    m.set(f[7].replace(/@.*/, ''), `${f[4]} ${f[6] === 'UND' ? 'UND' : 'defined'}`);
  }
  return m;
}

function relocs(file: string): { byType: Map<string, number>; syms: Map<string, Set<string>> } {
  const out = runChecked(['readelf', '-W', '-r', file]).stdout;
  const byType = new Map<string, number>();
  const syms = new Map<string, Set<string>>();
  for (const m of out.matchAll(
    /^[0-9a-f]+[ \t]+[0-9a-f]+[ \t]+(R_X86_64_\w+)[ \t]+(?:[0-9a-f]+[ \t]+(\S+))?/gm,
  )) {
    byType.set(m[1]!, (byType.get(m[1]!) ?? 0) + 1);
    const s = m[2]?.replace(/@.*/, '');
    if (s) (syms.get(m[1]!) ?? syms.set(m[1]!, new Set()).get(m[1]!)!).add(s);
  }
  return { byType, syms };
}

const cases: { name: string; driver: 'gcc' | 'g++'; sources: string[]; flags: string[] }[] = [
  { name: 'C, PIE', driver: 'gcc', sources: ['hello.c'], flags: [] },
  { name: 'C, -no-pie', driver: 'gcc', sources: ['hello.c'], flags: ['-no-pie'] },
  { name: 'C++, PIE', driver: 'g++', sources: ['cxx_main.cpp', 'cxx_other.cpp'], flags: [] },
  {
    name: 'C++, -no-pie',
    driver: 'g++',
    sources: ['cxx_main.cpp', 'cxx_other.cpp'],
    flags: ['-no-pie'],
  },
];

describe('dynamic outputs compared with GNU ld', () => {
  it.each(cases)('$name', ({ driver, sources, flags }) => {
    const objs = sources.map((s) =>
      compile(s, ['-O2', '-std=c++17'].slice(0, driver === 'g++' ? 2 : 1)),
    );
    const ours = linkOk(driver, [...flags, ...objs]).output;
    const theirs = join(makeScratchDir('gnu'), 'a.out');
    runChecked([driver, ...flags, ...objs, '-o', theirs]);

    expect(tags(ours)).toEqual(tags(theirs));

    const a = dynsyms(ours);
    const b = dynsyms(theirs);
    for (const [name, what] of a) expect(b.get(name), name).toBe(what);
    const onlyGnu = [...b.keys()].filter((n) => !a.has(n));
    for (const n of onlyGnu) expect(b.get(n), `${n} is only in GNU ld's .dynsym`).toBe('WEAK UND');

    const ra = relocs(ours);
    const rb = relocs(theirs);
    for (const t of new Set([...ra.byType.keys(), ...rb.byType.keys()])) {
      const mine = ra.byType.get(t) ?? 0;
      const gnu = rb.byType.get(t) ?? 0;
      if (t === 'R_X86_64_GLOB_DAT') {
        expect(mine, t).toBe(gnu - onlyGnu.length);
      } else if (t === 'R_X86_64_JUMP_SLOT') {
        const shared = [...(ra.syms.get(t) ?? [])].filter((s) =>
          ra.syms.get('R_X86_64_GLOB_DAT')?.has(s),
        );
        expect(mine, t).toBe(gnu + shared.length);
      } else if (t !== 'R_X86_64_RELATIVE' && t !== 'R_X86_64_64') expect(mine, t).toBe(gnu);
    }
    const words = (r: typeof ra) =>
      (r.byType.get('R_X86_64_RELATIVE') ?? 0) + (r.byType.get('R_X86_64_64') ?? 0);
    expect(words(ra), 'R_X86_64_RELATIVE + R_X86_64_64').toBe(words(rb));
  });
});

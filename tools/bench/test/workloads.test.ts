// The synthetic workload must be a pure function of N: cached objects and results from
// different runs are only comparable if the same N always yields the same sources.
// (No timing assertions here: speed is read from `node tools/bench/bench.mjs`.)
import { describe, expect, it } from 'vitest';
import { generateSyntheticWorkload } from '../lib/synthetic.mjs';

describe('generateSyntheticWorkload', () => {
  it('produces identical sources and expected output for the same N', () => {
    for (const count of [1, 2, 57, 3000]) {
      const first = generateSyntheticWorkload(count);
      const second = generateSyntheticWorkload(count);
      expect(second).toEqual(first);
    }
  });

  it('produces different programs for different N', () => {
    const small = generateSyntheticWorkload(100);
    const large = generateSyntheticWorkload(101);
    expect(large.sources.length).toBeGreaterThan(small.sources.length);
    expect(large.expectedStdout).not.toBe(small.expectedStdout);
  });

  it('puts every object either on the link line or in the archive, with unused members', () => {
    const workload = generateSyntheticWorkload(400);
    const objectNames = workload.sources.map((source) => source.name.replace(/\.c$/, ''));
    expect([...workload.linkedObjects, ...workload.archiveMembers].sort()).toEqual(
      [...objectNames].sort(),
    );
    expect(workload.linkedObjects[0]).toBe('main');
    expect(workload.archiveMembers.length).toBeGreaterThan(100);
    expect(workload.unusedMembers).toHaveLength(4);
    for (const unused of workload.unusedMembers) expect(workload.archiveMembers).toContain(unused);
  });

  it('chains each object to its neighbours', () => {
    const { sources } = generateSyntheticWorkload(3);
    const text = (name: string) => sources.find((source) => source.name === name)?.text ?? '';
    expect(text('main.c')).toContain('synth_step_0(');
    expect(text('s00001.c')).toContain('return synth_step_2(acc);');
    expect(text('s00001.c')).toContain('synth_aux_0(acc >> 3)');
    expect(text('s00002.c')).toContain('return acc;');
  });

  it('rejects a non-positive or fractional count', () => {
    expect(() => generateSyntheticWorkload(0)).toThrow(RangeError);
    expect(() => generateSyntheticWorkload(2.5)).toThrow(RangeError);
  });
});

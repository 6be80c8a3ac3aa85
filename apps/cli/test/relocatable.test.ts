// `tslink -r`: relocatable output. The combined object must link into working programs with
// GNU ld and with tslink, and pass readelf and eu-elflint.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  compile,
  describeResult,
  linkerPath,
  linkOk,
  makeScratchDir,
  removeScratchDirs,
  runChecked,
  runCommand,
  runProgram,
} from './helpers.js';
import { RELOC_COMDAT_STDOUT, compilePrograms, cxx, programs, type Program } from './programs.js';

let objectsOf: (program: Program) => string[];
const cases = [
  programs.find((p) => p.name.startsWith('hello'))!,
  cxx,
  ...programs.filter((p) => p.name.startsWith('globals')),
];
beforeAll(() => {
  objectsOf = compilePrograms(cases);
});
afterAll(removeScratchDirs);

describe('tslink -r', () => {
  it.each(cases)('$name: -r output links with GNU ld and with tslink', (program) => {
    const objects = objectsOf(program);
    const dir = makeScratchDir('reloc');
    const combined = join(dir, 'combined.o');
    const r = runCommand([linkerPath(), '-r', ...objects, '-o', combined]);
    expect(r.status, describeResult(r)).toBe(0);
    expect(runChecked(['readelf', '-h', combined]).stdout).toMatch(/Type:\s+REL/);
    const re = runCommand(['readelf', '--wide', '-a', combined]);
    expect(re.stderr).toBe('');
    const lint = runCommand(['eu-elflint', combined]);
    expect(lint.stdout.trim()).toBe('No errors');

    const gnu = join(dir, 'via-gnu');
    runChecked([program.driver, combined, ...(program.libs ?? []), '-o', gnu]);
    const ours = linkOk(program.driver, [combined, ...(program.libs ?? [])]).output;
    for (const exe of [gnu, ours]) {
      const run = runProgram(exe);
      expect({ status: run.status, stdout: run.stdout }, describeResult(run)).toEqual({
        status: program.status,
        stdout: program.stdout,
      });
    }
  });
});

// Each object is turned into a relocatable object of its own; both carry the same template and
// inline function in COMDAT groups, which the final link must still be able to deduplicate.
describe('tslink -r keeps COMDAT groups', () => {
  it('two -r outputs with the same inline functions link into one program', () => {
    const dir = makeScratchDir('reloc-comdat');
    const relocs = ['reloc_comdat_a.cpp', 'reloc_comdat_b.cpp'].map((source, k) => {
      const out = join(dir, `part${k}.o`);
      runChecked([linkerPath(), '-r', compile(source, ['-O1']), '-o', out]);
      return out;
    });
    expect(runChecked(['readelf', '-gW', relocs[0]!]).stdout).toMatch(
      /COMDAT group section .*\[_Z5totalIiET_RKSt6vectorIS0_SaIS0_EE\]/,
    );
    const exe = linkOk('g++', relocs).output;
    const run = runProgram(exe);
    expect({ status: run.status, stdout: run.stdout }, describeResult(run)).toEqual({
      status: 0,
      stdout: RELOC_COMDAT_STDOUT,
    });
  });
});

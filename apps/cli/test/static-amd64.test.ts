// Links real gcc/g++ output into static amd64 executables with
// `gcc -static -B<libexec>` and checks that they run and print exactly what
// they should.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { describeResult, linkOk, removeScratchDirs, runProgram } from './helpers.js';
import {
  archiveInputs,
  archiveProgram,
  compilePrograms,
  linkArgs,
  programs,
  type Program,
} from './programs.js';

let objectsOf: (program: Program) => string[];
beforeAll(() => {
  objectsOf = compilePrograms(programs);
});
afterAll(removeScratchDirs);

describe('static amd64 executables', () => {
  it.each(programs)('$name', (program) => {
    const objects = objectsOf(program);
    program.checkObjects?.(objects);
    const linked = linkOk(program.driver, linkArgs(program, objects));
    const run = runProgram(linked.output);
    expect(
      { status: run.status, signal: run.signal, stdout: run.stdout },
      describeResult(run),
    ).toEqual({ status: program.status, signal: null, stdout: program.stdout });
    program.verify?.(linked.output, objects);
  });

  // Archive members are extracted whenever a strong reference meets a lazy symbol, in either
  // order (lld's and mold's semantics): a reference after the archive resolves without
  // --start-group, and the members linked are the same as with the group.
  it('resolves a later reference into an archive without --start-group, as lld does', () => {
    const inputs = archiveInputs(objectsOf(archiveProgram), false);
    const linked = linkOk('gcc', ['-static', ...inputs]);
    const run = runProgram(linked.output);
    expect({ status: run.status, stdout: run.stdout }, describeResult(run)).toEqual({
      status: archiveProgram.status,
      stdout: archiveProgram.stdout,
    });
  });
});

// Links the foundation's C and C++ programs dynamically against the system's shared libraries
// (`gcc -B<libexec>` with no other flags: a PIE, as Debian's gcc defaults to; and `-no-pie`) and
// checks that they run and print exactly what they should.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { describeResult, elflint, linkOk, removeScratchDirs, runProgram } from './helpers.js';
import { compilePrograms, programs, type Program } from './programs.js';

let objectsOf: (program: Program) => string[];
beforeAll(() => {
  objectsOf = compilePrograms(programs);
});
afterAll(removeScratchDirs);

/** The static-only checks of some programs (they re-link with -static) are left out here. */
function dynamicArgs(program: Program, objects: readonly string[], extra: string[]): string[] {
  return [
    ...extra,
    ...(program.ldflags ?? []),
    ...(program.inputs ? program.inputs(objects) : objects),
    ...(program.libs ?? []),
  ];
}

describe.each([
  ['PIE (the default)', []],
  ['-no-pie', ['-no-pie']],
])('dynamically linked amd64 executables: %s', (_label, extra) => {
  it.each(programs)('$name', (program) => {
    const objects = objectsOf(program);
    const linked = linkOk(program.driver, dynamicArgs(program, objects, extra));
    const run = runProgram(linked.output);
    expect(
      { status: run.status, signal: run.signal, stdout: run.stdout },
      describeResult(run),
    ).toEqual({ status: program.status, signal: null, stdout: program.stdout });
    elflint(linked.output);
  });
});

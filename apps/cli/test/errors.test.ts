// Runs `<libexec>/ld` directly on bad input. Every failure must exit with
// status 1, print a diagnostic (not a stack trace) that names the problem and
// the offending input, and leave a previous output file untouched.
//
// When TSLINK_LIBEXEC points at GNU ld (how this suite is validated), the same
// inputs are checked against GNU ld's wording instead; GNU ld also deletes the
// previous output on failure, which tslink must not do.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  compile,
  describeResult,
  LINK_TIMEOUT_MS,
  linkerDialect,
  linkerPath,
  lines,
  makeScratchDir,
  removeScratchDirs,
  requireBaseTools,
  runCommand,
  settle,
  type InlineSource,
  type LinkerDialect,
} from './helpers.js';

function asm(name: string, ...body: string[]): InlineSource {
  return { name, lang: 'assembler', code: lines(...body) };
}

const EXIT = ['  mov $60, %eax', '  xor %edi, %edi', '  syscall'];

const sources = {
  hello: 'hello.c',
  callsFoo: asm('calls_foo', '.globl _start', '_start:', '  call foo', ...EXIT),
  fooA: asm('foo_a', '.globl foo', 'foo:', '  ret'),
  fooB: asm('foo_b', '.globl foo', 'foo:', '  nop', '  ret'),
  // `.long sym` is an R_X86_64_32 relocation; sym is absolute, above 4 GiB.
  data32: asm('data32', '.globl _start', '_start:', ...EXIT, '.data', '  .long sym'),
  highSymbol: asm('high_symbol', '.globl sym', '.set sym, 0x100000000'),
};

type Objects = Record<keyof typeof sources, string>;

/** Deterministic "random" bytes, so failures are reproducible. */
function pseudoRandomBytes(length: number, seed: string): Buffer {
  const chunks: Buffer[] = [];
  for (let i = 0; chunks.length * 32 < length; i++) {
    chunks.push(createHash('sha256').update(`${seed}:${i}`).digest());
  }
  return Buffer.concat(chunks).subarray(0, length);
}

const SHT_RELA = 4;

/** Copies an ELF64 little-endian object, setting the type of the first relocation in `section`. */
function withRelocationType(elf: Buffer, section: string, type: number): Buffer {
  const copy = Buffer.from(elf);
  const view = new DataView(copy.buffer, copy.byteOffset, copy.byteLength);
  if (copy.toString('latin1', 0, 4) !== '\x7fELF' || copy[4] !== 2 || copy[5] !== 1) {
    throw new Error('not an ELF64 little-endian file');
  }
  const shoff = Number(view.getBigUint64(0x28, true));
  const shentsize = view.getUint16(0x3a, true);
  const shnum = view.getUint16(0x3c, true);
  const shstrndx = view.getUint16(0x3e, true);
  const header = (index: number) => {
    const at = shoff + index * shentsize;
    return {
      name: view.getUint32(at, true),
      type: view.getUint32(at + 4, true),
      offset: Number(view.getBigUint64(at + 0x18, true)),
      size: Number(view.getBigUint64(at + 0x20, true)),
    };
  };
  const names = header(shstrndx);
  const nameOf = (offset: number) => {
    const start = names.offset + offset;
    return copy.toString('latin1', start, copy.indexOf(0, start));
  };
  for (let index = 0; index < shnum; index++) {
    const rela = header(index);
    if (rela.type === SHT_RELA && nameOf(rela.name) === section && rela.size >= 24) {
      // Elf64_Rela { r_offset: u64, r_info: u64 (sym << 32 | type), r_addend: i64 }
      view.setUint32(rela.offset + 8, type, true);
      return copy;
    }
  }
  throw new Error(`no relocations in ${section}`);
}

interface ErrorCase {
  name: string;
  /** Linker arguments after `-o <out>`; may create files in `dir`. */
  args: (objects: Objects, dir: string) => string[];
  /** Diagnostics expected from each linker family. */
  expected: Record<LinkerDialect, readonly RegExp[]>;
}

const cases: readonly ErrorCase[] = [
  {
    name: 'truncated object',
    args(objects, dir) {
      const whole = readFileSync(objects.hello);
      const truncated = join(dir, 'truncated.o');
      writeFileSync(truncated, whole.subarray(0, whole.length >> 1));
      return [truncated];
    },
    expected: {
      tslink: [/truncated\.o/],
      gnu: [/truncated\.o: file not recognized/],
    },
  },
  {
    name: 'garbage file',
    args(_objects, dir) {
      const garbage = join(dir, 'x.o');
      writeFileSync(garbage, pseudoRandomBytes(4096, 'garbage'));
      return [garbage];
    },
    expected: {
      tslink: [/\bx\.o\b/],
      gnu: [/x\.o: file not recognized/],
    },
  },
  {
    name: 'undefined symbol',
    args: (objects) => [objects.callsFoo],
    expected: {
      tslink: [/undefined symbol: foo\b/, /^>>> referenced by .*calls_foo-\w+\.o/m],
      gnu: [/calls_foo-\w+\.o: in function `_start'/, /undefined reference to `foo'/],
    },
  },
  {
    name: 'duplicate symbol',
    args: (objects) => [objects.callsFoo, objects.fooA, objects.fooB],
    expected: {
      tslink: [/duplicate symbol: foo\b/, /foo_a-\w+\.o/, /foo_b-\w+\.o/],
      gnu: [/multiple definition of `foo'/, /foo_a-\w+\.o/, /foo_b-\w+\.o/],
    },
  },
  {
    name: 'relocation overflow',
    args: (objects) => [objects.data32, objects.highSymbol],
    expected: {
      tslink: [/relocation R_X86_64_32 out of range/, /data32-\w+\.o/],
      gnu: [/data32-\w+\.o.*relocation truncated to fit: R_X86_64_32 against symbol `sym'/],
    },
  },
  {
    name: 'unknown relocation type',
    args(objects, dir) {
      const patched = join(dir, 'bad_reloc.o');
      writeFileSync(
        patched,
        withRelocationType(readFileSync(objects.callsFoo), '.rela.text', 0xfe),
      );
      return [patched, objects.fooA];
    },
    expected: {
      tslink: [/(unknown|unsupported) relocation/, /bad_reloc\.o/],
      gnu: [/bad_reloc\.o: unsupported relocation type/],
    },
  },
  {
    name: 'unknown command-line option',
    args: (objects) => ['--frobnicate', objects.callsFoo, objects.fooA],
    expected: {
      tslink: [/error: unknown argument '--frobnicate'/],
      gnu: [/unrecognized option '--frobnicate'/],
    },
  },
];

const PREVIOUS_OUTPUT = Buffer.concat([
  Buffer.from('previous output\n'),
  pseudoRandomBytes(1024, 'previous'),
]);

let built: () => Objects;
beforeAll(() => {
  built = settle(() => {
    requireBaseTools();
    const compiled = Object.entries(sources).map(([name, source]) => [name, compile(source)]);
    return Object.fromEntries(compiled) as Objects;
  });
});
afterAll(removeScratchDirs);

describe('linker diagnostics', () => {
  it.each(cases)('$name', (errorCase) => {
    const objects = built();
    const dialect = linkerDialect();
    const dir = makeScratchDir(errorCase.name);
    const out = join(dir, 'out');
    writeFileSync(out, PREVIOUS_OUTPUT);
    const args = errorCase.args(objects, dir);
    const filesBefore = readdirSync(dir).sort();

    const result = runCommand([linkerPath(), '-o', out, ...args], {
      cwd: dir,
      timeoutMs: LINK_TIMEOUT_MS,
    });

    expect(result.status, describeResult(result)).toBe(1);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    if (dialect === 'tslink') expect(result.stderr).toMatch(/^[^\n]*error: /);
    for (const pattern of errorCase.expected[dialect]) expect(result.stderr).toMatch(pattern);

    // tslink must keep the previous output; GNU ld deletes it instead.
    if (dialect === 'tslink' || existsSync(out)) {
      expect(readFileSync(out).equals(PREVIOUS_OUTPUT), `${out} was modified`).toBe(true);
    }
    const withoutOut = (files: string[]) => files.filter((file) => file !== 'out');
    expect(withoutOut(readdirSync(dir).sort()), 'stray files left behind').toEqual(
      withoutOut(filesBefore),
    );
  });
});

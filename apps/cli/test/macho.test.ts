// Mach-O end to end: clang-compiled freestanding x86-64 programs, linked by tslink into
// MH_EXECUTE files, run under machoload (tools/macho/machoload.c) at two slides with both fixup
// encodings (dyld info opcodes and chained fixups); compared with ld64.lld-14 linking the same
// objects; and every output checked by the TypeScript Mach-O lint.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lintMacho } from '@link/macho';
import {
  describeResult,
  libexecDir,
  makeScratchDir,
  removeScratchDirs,
  requireTool,
  runCommand,
  settle,
} from './helpers.js';
import {
  buildMachoload,
  compileMacho,
  expectMachoLintClean,
  machoFixtures,
  objdumpMacho,
  summarizeMacho,
  tslinkMacho,
  unwindByFunction,
} from './macho-helpers.js';

const TBD = join(machoFixtures, 'libSystem.tbd');
const SLIDES = ['0x100000000', '0x7f0000000'];
const ENCODINGS = [
  { name: 'dyld info', flags: [] as string[] },
  { name: 'chained fixups', flags: ['-fixup_chains'] },
];

interface MachoProgram {
  name: string;
  sources: string[];
  cflags?: string[];
  /** Inputs after the objects (dylib stubs). */
  libs: string[];
  args: string[];
  stdout: string;
  status: number;
}

const programs: MachoProgram[] = [
  {
    name: 'raw syscalls, __data and __bss, no imports',
    sources: ['macho_hello_raw.c'],
    libs: [],
    args: [],
    stdout: 'hello from Mach-O\n',
    status: 42,
  },
  {
    name: 'stubs, rebased pointer tables, bound data pointer, argv',
    sources: ['macho_hello_imports.c'],
    libs: [TBD],
    args: ['from argv'],
    stdout:
      'first (via rebased pointer table)\nsecond\nvia bound function pointer\nok\nfrom argv\n',
    status: 42,
  },
  {
    name: 'initializers, TLS, GOT, SUBTRACTOR, SIGNED_1/4, commons, merged strings, two objects',
    sources: ['features.c', 'features2.c'],
    cflags: ['-fcommon'],
    libs: [TBD],
    args: ['xyz'],
    stdout: [
      'initializer',
      'features: hello',
      '7',
      '15',
      '1023',
      'via X86_64_RELOC_GOT',
      '-8',
      'same string in both objects',
      'same string in both objects',
      '25',
      '120',
      'xyz',
      '',
    ].join('\n'),
    status: 42,
  },
];
programs.push({
  name: 'weak definitions (weak binds, MH_WEAK_DEFINES)',
  sources: ['weak.c'],
  libs: [TBD],
  args: [],
  stdout: 'weak\n',
  status: 42,
});
programs.push({
  name: 'jump table in __text (LC_DATA_IN_CODE)',
  sources: ['jumptable.c'],
  libs: [],
  args: [],
  stdout: '',
  status: 85,
});
// The same program with unwind tables: __compact_unwind → __unwind_info, __eh_frame copied.
programs.push({
  ...programs[2]!,
  name: 'the same with -funwind-tables (__compact_unwind, __eh_frame)',
  cflags: ['-fcommon', '-funwind-tables'],
});

let tslink: string;
let machoload: () => string;
let objects: () => Map<string, string[]>;
let scratch: string;

beforeAll(() => {
  tslink = join(libexecDir(), 'tslink');
  requireTool('clang', 'clang');
  requireTool('ld64.lld-14', 'lld-14');
  requireTool('llvm-objdump', 'llvm');
  machoload = settle(buildMachoload);
  objects = settle(
    () => new Map(programs.map((p) => [p.name, p.sources.map((s) => compileMacho(s, p.cflags))])),
  );
  scratch = makeScratchDir('macho');
});
afterAll(removeScratchDirs);

function linkTslink(out: string, args: readonly string[]): void {
  const r = tslinkMacho(out, args);
  expect(r.status, describeResult(r)).toBe(0);
}

const expectLintClean = expectMachoLintClean;

function runUnderMachoload(exe: string, args: readonly string[], slide: string) {
  return runCommand([machoload(), exe, ...args], { env: { MACHOLOAD_SLIDE: slide } });
}

describe('Mach-O executables run under machoload', () => {
  for (const p of programs) {
    for (const enc of ENCODINGS) {
      it(`${p.name} (${enc.name}, two slides)`, () => {
        const out = join(scratch, `${p.sources[0]}-${enc.flags.join('') || 'info'}.macho`);
        linkTslink(out, [...enc.flags, ...objects().get(p.name)!, ...p.libs]);
        expectLintClean(out);
        for (const slide of SLIDES) {
          const run = runUnderMachoload(out, p.args, slide);
          expect({ status: run.status, stdout: run.stdout, slide }, describeResult(run)).toEqual({
            status: p.status,
            stdout: p.stdout,
            slide,
          });
        }
      });
    }
  }

  it('is driven by clang -fuse-ld=lld --ld-path=tslink (ld64 options, -lSystem from -L)', () => {
    const p = programs[1]!;
    const out = join(scratch, 'via-clang.macho');
    const clang = requireTool('clang', 'clang');
    const r = runCommand([
      clang,
      '-target',
      'x86_64-apple-macos11',
      '-fuse-ld=lld',
      `--ld-path=${tslink}`,
      `-L${machoFixtures}`,
      '-o',
      out,
      ...objects().get(p.name)!,
    ]);
    expect(r.status, describeResult(r)).toBe(0);
    expectLintClean(out);
    const run = runUnderMachoload(out, p.args, SLIDES[1]!);
    expect({ status: run.status, stdout: run.stdout }, describeResult(run)).toEqual({
      status: p.status,
      stdout: p.stdout,
    });
  });

  it('is deterministic: same inputs give identical bytes, LC_UUID follows the content', () => {
    const objs = objects().get(programs[2]!.name)!;
    // Same file name: the code signature's identifier is the output's name, as with ld64.
    const a = join(makeScratchDir('macho-det-a'), 'prog');
    const b = join(makeScratchDir('macho-det-b'), 'prog');
    const c = join(makeScratchDir('macho-det-c'), 'prog');
    linkTslink(a, [...objs, TBD]);
    linkTslink(b, [...objs, TBD]);
    linkTslink(c, [...objects().get(programs[1]!.name)!, TBD]);
    const uuid = (f: string) => /uuid (\S+)/.exec(objdumpMacho(f))![1];
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
    expect(uuid(a)).not.toEqual(uuid(c));
  });

  it('-dead_strip drops unreferenced atoms (MH_SUBSECTIONS_VIA_SYMBOLS) and the program still runs', () => {
    const p = programs[2]!;
    const kept = join(scratch, 'nostrip.macho');
    const stripped = join(scratch, 'strip.macho');
    linkTslink(kept, [...objects().get(p.name)!, TBD]);
    linkTslink(stripped, ['-dead_strip', ...objects().get(p.name)!, TBD]);
    expect(objdumpMacho(kept)).toContain('_unused_function');
    expect(objdumpMacho(stripped)).not.toContain('_unused_function');
    expectLintClean(stripped);
    const run = runUnderMachoload(stripped, p.args, SLIDES[0]!);
    expect({ status: run.status, stdout: run.stdout }, describeResult(run)).toEqual({
      status: p.status,
      stdout: p.stdout,
    });
  });
});

describe('Mach-O output matches ld64.lld-14 on the same objects', () => {
  for (const p of programs) {
    it(p.name, () => {
      const objs = objects().get(p.name)!;
      const ours = join(scratch, `cmp-${p.sources[0]}.tslink`);
      const ref = join(scratch, `cmp-${p.sources[0]}.lld`);
      linkTslink(ours, [...objs, ...p.libs]);
      const lld = runCommand([
        requireTool('ld64.lld-14', 'lld-14'),
        '-arch',
        'x86_64',
        '-platform_version',
        'macos',
        '11.0',
        '11.0',
        '-o',
        ref,
        ...objs,
        // lld needs a dylib even when nothing is imported: it always links libSystem.
        ...(p.libs.length ? p.libs : [TBD]),
      ]);
      expect(lld.status, describeResult(lld)).toBe(0);
      // The reference itself runs under the same loader: the harness, not only tslink, is sound.
      const refRun = runUnderMachoload(ref, p.args, SLIDES[0]!);
      expect(refRun.status, describeResult(refRun)).toBe(p.status);
      const a = summarizeMacho(objdumpMacho(ref));
      const b = summarizeMacho(objdumpMacho(ours));
      // Explained differences:
      // - LC_CODE_SIGNATURE: tslink signs ad hoc (as ld64 does); lld-14 signs only arm64 output.
      // - LC_SOURCE_VERSION: tslink writes it (version 0, as ld64 does); lld-14 omits it.
      // - LC_LOAD_DYLIB: a program without imports loads no dylib in tslink; lld always does.
      const extra = new Set(['LC_CODE_SIGNATURE', 'LC_SOURCE_VERSION']);
      expect(b.commands.filter((c) => !extra.has(c)).sort()).toEqual(
        p.libs.length
          ? [...a.commands].sort()
          : a.commands.filter((c) => c !== 'LC_LOAD_DYLIB').sort(),
      );
      expect(b.commands).toContain('LC_CODE_SIGNATURE');
      expect(b.commands).toContain('LC_SOURCE_VERSION');
      expect(b.segments).toEqual(a.segments);
      // - Without imports (no lazy stubs) lld still names dyld_stub_binder as an undefined
      //   symbol; tslink imports it only when a stub helper needs it. Symbols, rebases, binds,
      //   lazy binds and exports must otherwise agree exactly.
      const refSymbols = p.libs.length
        ? a.symbols
        : a.symbols.filter((x) => x !== '*UND* dyld_stub_binder');
      expect(b.symbols).toEqual(refSymbols);
      expect(b.rebases).toEqual(a.rebases);
      expect(b.binds).toEqual(a.binds);
      expect(b.lazyBinds).toEqual(a.lazyBinds);
      expect(b.weakBinds).toEqual(a.weakBinds);
      expect(b.flags).toEqual(a.flags);
      expect(b.flags).toEqual(expect.arrayContaining(['DYLDLINK', 'PIE', 'TWOLEVEL']));
      expect(b.exports).toEqual(a.exports);
    });
  }
});

describe('Mach-O unwind info', () => {
  it('__unwind_info gives every function the encoding ld64.lld gives it', () => {
    const p = programs.find((x) => x.cflags?.includes('-funwind-tables'))!;
    const objs = objects().get(p.name)!;
    const ours = join(scratch, 'unwind.tslink');
    const ref = join(scratch, 'unwind.lld');
    linkTslink(ours, [...objs, TBD]);
    const base = ['-arch', 'x86_64', '-platform_version', 'macos', '11.0', '11.0'];
    const r = runCommand([requireTool('ld64.lld-14', 'lld-14'), ...base, '-o', ref, ...objs, TBD]);
    expect(r.status, describeResult(r)).toBe(0);
    const a = unwindByFunction(ref);
    const b = unwindByFunction(ours);
    expect(Object.keys(b).length).toBeGreaterThan(5);
    // Every function is covered by an entry (none falls back to "no unwind info").
    expect(Object.entries(b).filter(([, e]) => e === 'none' || e === '0x00000000')).toEqual([]);
    expect(b).toEqual(a);
  });
});

describe('Mach-O at scale: pages of fixups and unwind entries', () => {
  /** 600 functions, a table of pointers to them and to strings: several pages of each. */
  function bigSource(): string {
    const n = 600;
    const lines = [
      'typedef unsigned long size_t;',
      'extern long write(int, const void *, size_t);',
    ];
    for (let i = 0; i < n; i++)
      lines.push(`__attribute__((noinline)) int f_${i}(int x) { return x + ${i}; }`);
    lines.push(
      `int (*tab[${n}])(int) = { ${Array.from({ length: n }, (_, i) => `f_${i}`).join(', ')} };`,
    );
    lines.push(
      `const char *names[${n}] = { ${Array.from({ length: n }, (_, i) => `"n${i}"`).join(', ')} };`,
    );
    lines.push(`int main(void) {
  long sum = 0;
  for (int i = 0; i < ${n}; i++) sum += tab[i](1) + (names[i][0] == 'n');
  char b[12]; int k = 0;
  do { b[11 - k++] = '0' + sum % 10; sum /= 10; } while (sum);
  write(1, b + 12 - k, k); write(1, "\\n", 1);
  return (int)(tab[${n - 1}](0) % 256);
}`);
    return lines.join('\n') + '\n';
  }

  it('runs with both encodings at two slides and agrees with ld64.lld', () => {
    const dir = makeScratchDir('macho-big');
    const src = join(dir, 'big.c');
    writeFileSync(src, bigSource());
    const obj = compileMacho(src, ['-funwind-tables']);
    // 600 + sum(i) + 600 matches of 'n' = 180900; f_599(0) = 599 -> exit status 599 % 256 = 87.
    for (const enc of ENCODINGS) {
      const out = join(dir, `big${enc.flags.join('')}`);
      linkTslink(out, [...enc.flags, obj, TBD]);
      expectLintClean(out);
      for (const slide of SLIDES) {
        const run = runUnderMachoload(out, [], slide);
        expect({ status: run.status, stdout: run.stdout }, describeResult(run)).toEqual({
          status: 87,
          stdout: '180900\n',
        });
      }
    }
    const ref = join(dir, 'big.lld');
    const base = ['-arch', 'x86_64', '-platform_version', 'macos', '11.0', '11.0'];
    const r = runCommand([requireTool('ld64.lld-14', 'lld-14'), ...base, '-o', ref, obj, TBD]);
    expect(r.status, describeResult(r)).toBe(0);
    const ours = join(dir, 'big');
    const a = summarizeMacho(objdumpMacho(ref));
    const b = summarizeMacho(objdumpMacho(ours));
    expect(b.rebases.length).toBe(1200 + 1); // tab, names, and the lazy pointer of _write
    expect(b.rebases).toEqual(a.rebases);
    expect(b.exports).toEqual(a.exports);
    expect(unwindByFunction(ours)).toEqual(unwindByFunction(ref));
  });
});

describe('Mach-O LC_DATA_IN_CODE', () => {
  it('carries the jump table entry over to where its function landed, as ld64.lld does', () => {
    const p = programs.find((x) => x.sources[0] === 'jumptable.c')!;
    const objs = objects().get(p.name)!;
    const ours = join(scratch, 'dic.tslink');
    const ref = join(scratch, 'dic.lld');
    linkTslink(ours, objs);
    const base = ['-arch', 'x86_64', '-platform_version', 'macos', '11.0', '11.0'];
    const r = runCommand([requireTool('ld64.lld-14', 'lld-14'), ...base, '-o', ref, ...objs, TBD]);
    expect(r.status, describeResult(r)).toBe(0);
    /** Entries as (offset from _pick, length, kind). */
    const dic = (file: string) => {
      const text = runCommand([
        requireTool('llvm-objdump', 'llvm'),
        '--macho',
        '--data-in-code',
        '--syms',
        file,
      ]).stdout;
      const pick =
        Number(`0x${/^([0-9a-f]{16}) g\s+F __TEXT,__text _pick$/m.exec(text)![1]}`) - 0x100000000;
      return [...text.matchAll(/^(0x[0-9a-f]+)\s+(\d+) (\w+)$/gm)].map(
        (m) => `${Number(m[1]) - pick} ${m[2]} ${m[3]}`,
      );
    };
    expect(dic(ours)).toEqual(['104 24 JUMP_TABLE32']);
    expect(dic(ours)).toEqual(dic(ref));
  });
});

describe('Mach-O __eh_frame', () => {
  /** [pc_begin, pc_end] of every FDE, and the addresses of the function symbols. */
  function frames(file: string): { fdes: [number, number][]; functions: Set<number> } {
    const objdump = requireTool('llvm-objdump', 'llvm');
    const text = runCommand([objdump, '--macho', '--dwarf=frames', '--syms', file]).stdout;
    const fdes = [...text.matchAll(/FDE cie=[0-9a-f]+ pc=([0-9a-f]+)\.\.\.([0-9a-f]+)/g)].map(
      (m) => [Number(`0x${m[1]}`), Number(`0x${m[2]}`)] as [number, number],
    );
    const functions = new Set(
      [...text.matchAll(/^([0-9a-f]{16}) [lg]\s+F __TEXT,__text _/gm)].map((m) =>
        Number(`0x${m[1]}`),
      ),
    );
    return { fdes, functions };
  }

  it('relocates FDE pc_begin to each function (clang leaves no relocation for it)', () => {
    const p = programs.find((x) => x.cflags?.includes('-funwind-tables'))!;
    const out = join(scratch, 'ehframe.macho');
    linkTslink(out, [...objects().get(p.name)!, TBD]);
    const { fdes, functions } = frames(out);
    expect(fdes.length).toBe(7); // one per function of both objects
    for (const [start, end] of fdes) {
      expect(functions.has(start), `FDE at 0x${start.toString(16)}`).toBe(true);
      expect(end).toBeGreaterThan(start);
    }
  });

  it('-dead_strip empties the FDE of a stripped function and keeps the others exact', () => {
    const p = programs.find((x) => x.cflags?.includes('-funwind-tables'))!;
    const out = join(scratch, 'ehframe-strip.macho');
    linkTslink(out, ['-dead_strip', ...objects().get(p.name)!, TBD]);
    expectLintClean(out);
    const { fdes, functions } = frames(out);
    const live = fdes.filter(([a, b]) => b > a);
    expect(fdes.length - live.length).toBe(1); // _unused_function
    for (const [start] of live) expect(functions.has(start)).toBe(true);
    const run = runUnderMachoload(out, p.args, SLIDES[1]!);
    expect({ status: run.status, stdout: run.stdout }, describeResult(run)).toEqual({
      status: p.status,
      stdout: p.stdout,
    });
  });
});

describe('Mach-O inputs: archives, binary dylibs, dynamic lookup', () => {
  it('extracts archive members (llvm-ar, BSD __.SYMDEF index) on demand', () => {
    const p = programs[2]!;
    const [main, second] = objects().get(p.name)!;
    const dir = makeScratchDir('macho-ar');
    const lib = join(dir, 'libsecond.a');
    const ar = runCommand([requireTool('llvm-ar', 'llvm'), 'rcs', lib, second!]);
    expect(ar.status, describeResult(ar)).toBe(0);
    const out = join(dir, 'prog');
    linkTslink(out, [main!, `-L${dir}`, '-lsecond', TBD]);
    expectLintClean(out);
    const run = runUnderMachoload(out, p.args, SLIDES[1]!);
    expect({ status: run.status, stdout: run.stdout }, describeResult(run)).toEqual({
      status: p.status,
      stdout: p.stdout,
    });
  });

  it('imports from a binary MH_DYLIB (export trie, LC_ID_DYLIB) as ld64.lld does', () => {
    const { ours, a, b } = linkAgainstLldDylib('libfoo', 'dylib_foo.c', 'uses_dylib.c');
    expect(b.binds).toEqual(a.binds);
    expect(b.lazyBinds).toEqual(a.lazyBinds);
    expect(b.symbols).toEqual(a.symbols);
    expect(b.lazyBinds.join('\n')).toMatch(/libfoo _foo/);
    expect(objdumpMacho(ours)).toMatch(/name \/usr\/lib\/libfoo\.dylib/);
  });

  it('reaches a thread-local imported from a dylib through __thread_ptrs as ld64.lld does', () => {
    const { a, b } = linkAgainstLldDylib('libtlv', 'dylib_tlv.c', 'uses_dylib_tlv.c');
    expect(b.binds).toEqual(a.binds);
    expect(b.binds.join('\n')).toMatch(/__DATA __thread_ptrs pointer 0 libtlv _tv/);
    // No lazy stubs here: lld still names dyld_stub_binder, tslink does not (as for raw above).
    expect(b.symbols).toEqual(a.symbols.filter((x) => x !== '*UND* dyld_stub_binder'));
    expect(b.segments).toEqual(a.segments);
  });

  it('-undefined dynamic_lookup binds through the flat namespace and runs', () => {
    const p = programs[1]!;
    const out = join(scratch, 'dynlookup.macho');
    linkTslink(out, ['-undefined', 'dynamic_lookup', ...objects().get(p.name)!]);
    expectLintClean(out);
    expect(objdumpMacho(out)).toMatch(/flat-namespace\s+_puts/);
    const run = runUnderMachoload(out, p.args, SLIDES[1]!);
    expect({ status: run.status, stdout: run.stdout }, describeResult(run)).toEqual({
      status: p.status,
      stdout: p.stdout,
    });
  });
});

describe('Mach-O command line', () => {
  it('is chosen by the first input being Mach-O, without -arch', () => {
    const p = programs[0]!;
    const out = join(scratch, 'by-magic.macho');
    const r = runCommand([tslink, '-o', out, ...objects().get(p.name)!]);
    expect(r.status, describeResult(r)).toBe(0);
    expectLintClean(out);
    const run = runUnderMachoload(out, [], SLIDES[0]!);
    expect(run.status, describeResult(run)).toBe(p.status);
  });

  it('-exported_symbol limits the export trie; -no_adhoc_codesign drops the signature', () => {
    const p = programs[2]!;
    const out = join(scratch, 'exported.macho');
    linkTslink(out, [
      '-exported_symbol',
      '_main',
      '-no_adhoc_codesign',
      ...objects().get(p.name)!,
      TBD,
    ]);
    const s = summarizeMacho(objdumpMacho(out));
    expect(s.exports).toEqual(['__mh_execute_header', '_main']);
    expect(s.commands).not.toContain('LC_CODE_SIGNATURE');
    expect(lintMacho(readFileSync(out)).errors).toEqual([]);
    const run = runUnderMachoload(out, p.args, SLIDES[0]!);
    expect(run.status, describeResult(run)).toBe(p.status);
  });

  it('rejects options that do not fit the output kind, by name', () => {
    const objs = objects().get(programs[0]!.name)!;
    const run = (args: string[]) =>
      runCommand([tslink, '-arch', 'x86_64', '-o', join(scratch, 'x'), ...args, ...objs]);
    const a = run(['-bundle_loader', objs[0]!]);
    expect(a.status).toBe(1);
    expect(a.stderr).toMatch(/-bundle_loader can only be used with -bundle/);
    const b = run(['-install_name', '/x.dylib']);
    expect(b.status).toBe(1);
    expect(b.stderr).toMatch(/-install_name can only be used with -dylib/);
    const c = run(['-bundle', '-bundle_loader', objs[0]!]);
    expect(c.status).toBe(1);
    expect(c.stderr).toMatch(/malformed Mach-O dylib: file type 1 is not MH_EXECUTE/);
  });
});

describe('Mach-O link errors', () => {
  it('reports an undefined symbol with where it is referenced', () => {
    const out = join(scratch, 'undef.macho');
    const r = runCommand([
      tslink,
      '-arch',
      'x86_64',
      '-o',
      out,
      ...objects().get(programs[1]!.name)!,
    ]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /error: undefined symbol: _puts\n>>> referenced by .*macho_hello_imports.*\(__TEXT,__text\+0x[0-9a-f]+\)/,
    );
  });

  it('refuses i386 Mach-O output (-arch i386, or an i386 object): Apple dropped i386', () => {
    const obj = compileMacho('i386_generic.c', ['-target', 'i386-apple-macos10.13']);
    const byObject = runCommand([tslink, '-o', join(scratch, 'i386.macho'), obj]);
    expect(byObject.status).toBe(1);
    expect(byObject.stderr).toMatch(
      /i386_generic.*\.o: i386 Mach-O: Apple dropped i386 .*tslink writes x86_64 Mach-O only/,
    );
    const byArch = runCommand([tslink, '-arch', 'i386', '-o', join(scratch, 'i386b.macho'), obj]);
    expect(byArch.status).toBe(1);
    expect(byArch.stderr).toMatch(/-arch i386: i386 Mach-O: Apple dropped i386/);
  });

  it('rejects a truncated object with a message naming the file, not a crash', () => {
    const obj = objects().get(programs[0]!.name)![0]!;
    const bytes = readFileSync(obj);
    const cut = join(scratch, 'cut.o');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 40));
    const r = runCommand([tslink, '-arch', 'x86_64', '-o', join(scratch, 'cut.macho'), cut]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/cut\.o: malformed Mach-O object: .* at offset 0x[0-9a-f]+/);
    expect(r.stderr).not.toMatch(/at .*\.(ts|js|cjs):\d+/);
  });
});

describe('Mach-O dylibs and bundles (MH_DYLIB, MH_BUNDLE)', () => {
  const base = ['-arch', 'x86_64', '-platform_version', 'macos', '11.0', '11.0'];
  const lld = (args: string[]) => {
    const r = runCommand([requireTool('ld64.lld-14', 'lld-14'), ...base, ...args]);
    expect(r.status, describeResult(r)).toBe(0);
  };
  /**
   * tslink's output agrees with ld64.lld-14's on everything but addresses. Explained differences:
   * LC_CODE_SIGNATURE and LC_SOURCE_VERSION (tslink writes both, as ld64 does; lld-14 neither for
   * x86-64), and `*UND* dyld_stub_binder`, which lld names even when no lazy stub needs it.
   */
  function expectSameAsLld(ours: string, ref: string): void {
    const a = summarizeMacho(objdumpMacho(ref));
    const b = summarizeMacho(objdumpMacho(ours));
    const extra = new Set(['LC_CODE_SIGNATURE', 'LC_SOURCE_VERSION']);
    expect(b.commands.filter((c) => !extra.has(c)).sort()).toEqual([...a.commands].sort());
    expect(b.segments).toEqual(a.segments);
    const stubBinder = b.lazyBinds.length > 0;
    expect(b.symbols).toEqual(
      stubBinder ? a.symbols : a.symbols.filter((x) => x !== '*UND* dyld_stub_binder'),
    );
    expect(b.rebases).toEqual(a.rebases);
    expect(b.binds).toEqual(a.binds);
    expect(b.lazyBinds).toEqual(a.lazyBinds);
    expect(b.weakBinds).toEqual(a.weakBinds);
    expect(b.flags).toEqual(a.flags);
    expect(b.exports).toEqual(a.exports);
  }
  const expectRun = (
    run: ReturnType<typeof runCommand>,
    want: { status: number; stdout: string },
  ) => expect({ status: run.status, stdout: run.stdout }, describeResult(run)).toEqual(want);

  it('-dylib: LC_ID_DYLIB, export trie, rebases and binds as ld64.lld; a program loads it and runs', () => {
    const dir = makeScratchDir('macho-mkdylib');
    const lib = compileMacho('dylib_lib.c');
    const user = compileMacho('uses_lib.c');
    const install = ['-install_name', '@rpath/libtest.dylib'];
    const ours = join(dir, 'libtest.dylib');
    mkdirSync(join(dir, 'ref'));
    const ref = join(dir, 'ref', 'libtest.dylib');
    linkTslink(ours, ['-dylib', ...install, lib, TBD]);
    lld(['-dylib', ...install, '-o', ref, lib, TBD]);
    expectLintClean(ours);
    expectSameAsLld(ours, ref);
    const s = summarizeMacho(objdumpMacho(ours));
    expect(s.flags).toEqual(['DYLDLINK', 'NOUNDEFS', 'NO_REEXPORTED_DYLIBS', 'TWOLEVEL']);
    expect(s.commands).toContain('LC_ID_DYLIB');
    expect(s.commands).not.toContain('LC_MAIN');
    expect(s.commands).not.toContain('LC_LOAD_DYLINKER');
    expect(s.segments[0]).toMatch(/^__TEXT /);
    expect(s.exports).toEqual(['_lib_call', '_lib_counter', '_lib_greetings', '_lib_puts']);
    // lib_greetings[2], the initializer, the lazy pointer; lib_puts binds to libSystem.
    expect(s.rebases.length).toBe(4);
    expect(s.binds.join('\n')).toMatch(/__data .*libSystem\s+_puts/);
    expect(objdumpMacho(ours)).toMatch(/name @rpath\/libtest\.dylib/);
    // A program linked against it (tslink reads its own dylib back), loaded by install name
    // from MACHOLOAD_LIBRARY_PATH, with both fixup encodings and at two slides.
    for (const enc of ENCODINGS) {
      mkdirSync(join(dir, `enc${enc.flags.length}`));
      const libOut = join(dir, `enc${enc.flags.length}`, 'libtest.dylib');
      linkTslink(libOut, [...enc.flags, '-dylib', ...install, lib, TBD]);
      expectLintClean(libOut);
      const exe = join(dir, `enc${enc.flags.length}`, 'prog');
      linkTslink(exe, [...enc.flags, user, libOut, TBD]);
      expectLintClean(exe);
      // (llvm-objdump-14 lists binds of dyld info only, not of chained fixups.)
      if (enc.flags.length === 0)
        expect(summarizeMacho(objdumpMacho(exe)).binds.join('\n')).toMatch(/libtest _lib_counter/);
      for (const slide of SLIDES) {
        const run = runCommand([machoload(), exe], {
          env: {
            MACHOLOAD_SLIDE: slide,
            MACHOLOAD_LIBRARY_PATH: join(dir, `enc${enc.flags.length}`),
          },
        });
        expectRun(run, { status: 42, stdout: 'lib: initializer\nlib: hello\nlib: again\n' });
      }
    }
    // Without the search path the loader says what it could not find (a test that can fail).
    const missing = runCommand([machoload(), join(dir, 'enc0', 'prog')]);
    expect(missing.status).toBe(127);
    expect(missing.stderr).toMatch(/dylib not found .*@rpath\/libtest\.dylib/);
  });

  it('-exported_symbol(s_list): the rest become private externs (N_PEXT), as ld64.lld', () => {
    const dir = makeScratchDir('macho-dylib-exp');
    const lib = compileMacho('dylib_lib.c');
    const list = join(dir, 'exports.txt');
    writeFileSync(list, '# kept\n_lib_call\n_lib_counter  # data too\n');
    const nm = requireTool('llvm-nm', 'llvm');
    for (const [kind, opts, want] of [
      ['-dylib', ['-exported_symbol', '_lib_call'], ['_lib_call']],
      ['-bundle', ['-exported_symbols_list', list], ['_lib_call', '_lib_counter']],
      // A glob, as ld64 reads one: `*`, `?` and `[...]`.
      ['-dylib', ['-exported_symbol', '_lib_c[ao]*'], ['_lib_call', '_lib_counter']],
    ] as const) {
      const ours = join(dir, `ours${kind}`);
      const ref = join(dir, `ref${kind}`);
      linkTslink(ours, [kind, ...opts, lib, TBD]);
      lld([kind, ...opts, '-o', ref, lib, TBD]);
      expectLintClean(ours);
      expectSameAsLld(ours, ref);
      expect(summarizeMacho(objdumpMacho(ours)).exports).toEqual(want);
      // llvm-nm -m: "non-external (was a private external)" is N_PEXT without N_EXT.
      const scopes = (f: string) =>
        runCommand([nm, '-m', f])
          .stdout.split('\n')
          .map((l) => l.replace(/^[0-9a-f]+ /, '').trim())
          .filter((l) => l !== '')
          .sort();
      expect(scopes(ours)).toEqual(scopes(ref));
      const pext = scopes(ours).filter((l) => l.includes('(was a private external)'));
      expect(pext.map((l) => l.split(' ').pop()).sort()).toEqual(
        ['_lib_counter', '_lib_greetings', '_lib_hidden', '_lib_puts'].filter(
          (n) => !(want as readonly string[]).includes(n),
        ),
      );
    }
  });

  it('-bundle -bundle_loader: binds to the main executable as ld64.lld; dlopen/dlsym run it', () => {
    const dir = makeScratchDir('macho-bundle');
    const hostObj = compileMacho('bundle_host.c');
    const plug = compileMacho('bundle_plug.c');
    const host = join(dir, 'host');
    linkTslink(host, [hostObj, TBD]);
    expectLintClean(host);
    const ours = join(dir, 'plug.bundle');
    const ref = join(dir, 'ref.bundle');
    linkTslink(ours, ['-bundle', '-bundle_loader', host, plug, TBD]);
    lld(['-bundle', '-bundle_loader', host, '-o', ref, plug, TBD]);
    expectLintClean(ours);
    expectSameAsLld(ours, ref);
    const s = summarizeMacho(objdumpMacho(ours));
    expect(s.binds.join('\n')).toMatch(/main-executable\s+_host_counter/);
    expect(s.lazyBinds.join('\n')).toMatch(/main-executable\s+_host_add/);
    expect(s.commands).not.toContain('LC_ID_DYLIB');
    expect(s.commands).not.toContain('LC_MAIN');
    for (const slide of SLIDES) {
      const run = runCommand([machoload(), host, ours], { env: { MACHOLOAD_SLIDE: slide } });
      expectRun(run, { status: 37, stdout: 'bundle: initializer\nbundle: plug\n' });
    }
    // lld's bundle runs under the same loader: the harness, not only tslink, is sound.
    expectRun(runCommand([machoload(), host, ref]), {
      status: 37,
      stdout: 'bundle: initializer\nbundle: plug\n',
    });
  });

  it('-bundle -flat_namespace -undefined dynamic_lookup: flat binds, no MH_TWOLEVEL, as ld64.lld', () => {
    const dir = makeScratchDir('macho-bundle-flat');
    const host = join(dir, 'host');
    linkTslink(host, [compileMacho('bundle_host.c'), TBD]);
    const plug = compileMacho('bundle_plug.c');
    const flat = ['-bundle', '-flat_namespace', '-undefined', 'dynamic_lookup'];
    const ref = join(dir, 'ref.bundle');
    lld([...flat, '-o', ref, plug]);
    const ours = join(dir, 'plug.bundle');
    linkTslink(ours, [...flat, plug]);
    expectLintClean(ours);
    expectSameAsLld(ours, ref);
    const s = summarizeMacho(objdumpMacho(ours));
    expect(s.flags).toEqual(['DYLDLINK']);
    expect(s.binds.join('\n')).toMatch(/flat-namespace\s+_host_counter/);
    for (const enc of ENCODINGS) {
      const out = join(dir, `plug${enc.flags.join('')}.bundle`);
      linkTslink(out, [...enc.flags, ...flat, plug]);
      expectLintClean(out);
      const run = runCommand([machoload(), host, out], { env: { MACHOLOAD_SLIDE: SLIDES[1]! } });
      expectRun(run, { status: 37, stdout: 'bundle: initializer\nbundle: plug\n' });
    }
  });
});

/**
 * A dylib `lib` built by ld64.lld-14 from `source`, and a program from `user` linked against it
 * by tslink and by lld: tslink's output is linted; both are summarized for comparison.
 */
function linkAgainstLldDylib(lib: string, source: string, user: string) {
  const dir = makeScratchDir(`macho-${lib}`);
  const lld = requireTool('ld64.lld-14', 'lld-14');
  const base = ['-arch', 'x86_64', '-platform_version', 'macos', '11.0', '11.0'];
  const dylib = join(dir, `${lib}.dylib`);
  const install = ['-install_name', `/usr/lib/${lib}.dylib`];
  const mk = runCommand([
    lld,
    ...base,
    '-dylib',
    ...install,
    '-o',
    dylib,
    compileMacho(source),
    TBD,
  ]);
  expect(mk.status, describeResult(mk)).toBe(0);
  const obj = compileMacho(user);
  const ours = join(dir, 'ours');
  const ref = join(dir, 'ref');
  linkTslink(ours, [obj, dylib, TBD]);
  const r = runCommand([lld, ...base, '-o', ref, obj, dylib, TBD]);
  expect(r.status, describeResult(r)).toBe(0);
  expectLintClean(ours);
  return { ours, ref, a: summarizeMacho(objdumpMacho(ref)), b: summarizeMacho(objdumpMacho(ours)) };
}

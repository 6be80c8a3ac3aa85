/**
 * Directives carried inside objects and written by Go itself:
 * - `.deplibs` contents, by hand and as clang writes them for `#pragma comment(lib, ...)`;
 * - `.go.cgo_directives` contents, by hand and from a gcc-compiled C file whose top-level `asm`
 *   emits the section (read with a tiny ELF lookup, cross-checked with `objcopy --dump-section`),
 *   also after `ld -r` has concatenated two objects' sections;
 * - the real output of `go tool cgo -dynimport /bin/true -dynout FILE`, checked against the
 *   binary's own `.interp` and DT_NEEDED entries.
 * Missing tools fail the test with what to install; they never skip.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LinkError, latin1 } from '@link/core';
import {
  CGO_DIRECTIVES_SECTION,
  CgoDirectives,
  DEPLIBS_SECTION,
  SHT_LLVM_DEPENDENT_LIBRARIES,
  parseCgoDirectives,
  parseDeplibsSection,
  parseDirectiveSection,
} from '../src/index.js';
import { elfSection } from './elf-sections.js';

const bytes = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** Path of a required tool; a missing one fails the test and says what to install. */
function requireTool(name: string, aptPackage: string): string {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const found = r.status === 0 ? r.stdout.trim() : '';
  if (found === '') {
    const ci = process.env.CI ? ' (CI must provide it)' : '';
    throw new Error(
      `${name} not found on PATH${ci}: install ${aptPackage} (apt-get install -y ${aptPackage})`,
    );
  }
  return found;
}

function run(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function linkErrors(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(LinkError);
    return (err as LinkError).messages;
  }
  throw new Error('no error');
}

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tslink-cgo-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('.deplibs', () => {
  it('NUL-terminated specifiers, in order, with their positions', () => {
    expect(parseDeplibsSection(bytes('m\0:libfoo.a\0/abs/libbar.so\0m\0'), 'a.o')).toEqual([
      { specifier: 'm', source: { file: 'a.o:(.deplibs)', line: 1 } },
      { specifier: ':libfoo.a', source: { file: 'a.o:(.deplibs)', line: 2 } },
      { specifier: '/abs/libbar.so', source: { file: 'a.o:(.deplibs)', line: 3 } },
      { specifier: 'm', source: { file: 'a.o:(.deplibs)', line: 4 } },
    ]);
    expect(parseDeplibsSection(new Uint8Array(0), 'a.o')).toEqual([]);
  });

  it('an unterminated or empty specifier is an error naming the object', () => {
    expect(linkErrors(() => parseDeplibsSection(bytes('m\0foo'), 'lib.a(x.o)'))).toEqual([
      'lib.a(x.o): corrupted dependent libraries section (unterminated string): .deplibs',
    ]);
    expect(linkErrors(() => parseDeplibsSection(bytes('m\0\0'), 'x.o'))).toEqual([
      'x.o: empty library specifier in dependent libraries section: .deplibs (entry 2)',
    ]);
  });

  it('the model keeps the first of each specifier', () => {
    const m = new CgoDirectives();
    m.addDependentLibraries(parseDeplibsSection(bytes('m\0pthread\0'), 'a.o'));
    m.addDependentLibraries(parseDeplibsSection(bytes('pthread\0z\0'), 'b.o'));
    expect(m.dependentLibraries.map((d) => `${d.specifier}@${d.source.file}`)).toEqual([
      'm@a.o:(.deplibs)',
      'pthread@a.o:(.deplibs)',
      'z@b.o:(.deplibs)',
    ]);
    expect(m.neededLibraries).toEqual([]); // specifiers are -l requests, not DT_NEEDED names
  });

  it('reads the section clang writes for #pragma comment(lib, ...)', () => {
    const clang = requireTool('clang', 'clang');
    const src = join(dir, 'deplibs.c');
    writeFileSync(
      src,
      '#pragma comment(lib, "m")\n#pragma comment(lib, ":libfoo.a")\n#pragma comment(lib, "m")\nint x;\n',
    );
    const obj = join(dir, 'deplibs.o');
    run(clang, ['-c', src, '-o', obj], dir);
    const sec = elfSection(readFileSync(obj), DEPLIBS_SECTION);
    expect(sec.type).toBe(SHT_LLVM_DEPENDENT_LIBRARIES);
    const libs = parseDeplibsSection(sec.bytes, 'deplibs.o');
    // clang 14 keeps the repeated `m`; later versions may merge it: the model merges anyway.
    expect(libs.slice(0, 2).map((l) => l.specifier)).toEqual(['m', ':libfoo.a']);
    const m = new CgoDirectives();
    m.addDependentLibraries(libs);
    expect(m.dependentLibraries.map((l) => l.specifier)).toEqual(['m', ':libfoo.a']);
  });
});

describe('.go.cgo_directives', () => {
  it('is the text format; NULs end lines; errors name the object and section', () => {
    const ds = parseDirectiveSection(
      bytes('cgo_import_dynamic puts puts#GLIBC_2.2.5 "libc.so.6"\0cgo_ldflag "-lm"\n\0\0'),
      'a.o',
    );
    expect(ds).toEqual([
      {
        kind: 'cgo_import_dynamic',
        local: 'puts',
        remote: 'puts',
        version: 'GLIBC_2.2.5',
        library: 'libc.so.6',
        source: { file: 'a.o:(.go.cgo_directives)', line: 1 },
      },
      { kind: 'cgo_ldflag', flag: '-lm', source: { file: 'a.o:(.go.cgo_directives)', line: 2 } },
    ]);
    expect(
      linkErrors(() =>
        parseDirectiveSection(bytes('cgo_ldflag "a"\ncgo_ldflag b\n'), 'lib.a(m.o)'),
      ),
    ).toEqual(['lib.a(m.o):(.go.cgo_directives):2: usage: cgo_ldflag "arg"']);
  });

  it('keeps every byte of a name (latin1)', () => {
    const [d] = parseDirectiveSection(
      Uint8Array.from([...bytes('cgo_import_static caf'), 0xc3, 0xa9]),
      'a.o',
    );
    expect(d).toMatchObject({ kind: 'cgo_import_static', local: 'caf\xc3\xa9' });
  });

  /** A C file whose top-level asm puts `lines` into the section. */
  function cWithDirectives(name: string, lines: string[], body: string): string {
    const ascii = lines
      .map((l) => `".ascii \\"${l.replace(/\\/g, '\\\\\\\\').replace(/"/g, '\\\\\\"')}\\\\n\\"\\n"`)
      .join('\n    ');
    const src = join(dir, `${name}.c`);
    writeFileSync(
      src,
      `__asm__(".section ${CGO_DIRECTIVES_SECTION},\\"\\",@progbits\\n"\n    ${ascii}\n    ".previous");\n${body}\n`,
    );
    return src;
  }

  it('reads the section from a gcc-compiled object (top-level asm)', () => {
    const gcc = requireTool('gcc', 'gcc');
    const objcopy = requireTool('objcopy', 'binutils');
    // The README's example, verbatim.
    const src = join(dir, 'readme.c');
    writeFileSync(
      src,
      'asm(".section .go.cgo_directives,\\"\\",@progbits\\n.ascii \\"cgo_import_dynamic puts puts#GLIBC_2.2.5 \\\\\\"libc.so.6\\\\\\"\\\\n\\"\\n.previous");\n' +
        'int main(void) { return 0; }\n',
    );
    const obj = join(dir, 'readme.o');
    run(gcc, ['-c', src, '-o', obj], dir);
    const sec = elfSection(readFileSync(obj), CGO_DIRECTIVES_SECTION);
    expect(sec.type).toBe(1); // SHT_PROGBITS
    expect(sec.flags).toBe(0); // not allocated: no room taken in a program
    const dumped = join(dir, 'readme.bin');
    run(objcopy, ['--dump-section', `${CGO_DIRECTIVES_SECTION}=${dumped}`, obj], dir);
    expect(Buffer.from(sec.bytes).equals(readFileSync(dumped))).toBe(true);
    expect(latin1(sec.bytes, 0, sec.bytes.length)).toBe(
      'cgo_import_dynamic puts puts#GLIBC_2.2.5 "libc.so.6"\n',
    );
    const m = new CgoDirectives();
    m.addAll(parseDirectiveSection(sec.bytes, 'readme.o'));
    expect(m.imports.get('puts')).toEqual({
      local: 'puts',
      remote: 'puts',
      version: 'GLIBC_2.2.5',
      library: 'libc.so.6',
      source: { file: 'readme.o:(.go.cgo_directives)', line: 1 },
    });
    expect(m.neededLibraries).toEqual(['libc.so.6']);
  });

  it('two objects concatenated by ld -r parse as one, escapes and all', () => {
    const gcc = requireTool('gcc', 'gcc');
    const a = cWithDirectives(
      'a',
      [
        '//go:cgo_import_dynamic puts puts#GLIBC_2.2.5 "libc.so.6"',
        '//go:cgo_import_dynamic _ _ "libc.so.6"',
        'cgo_export_dynamic go_add',
      ],
      'int a(void) { return 1; }',
    );
    const b = cWithDirectives(
      'b',
      ['cgo_ldflag "-Wl,--as-needed"', 'cgo_import_dynamic q q "lib \\"q\\".so"'],
      'int b(void) { return 2; }',
    );
    for (const f of [a, b]) run(gcc, ['-c', f, '-o', f.replace(/\.c$/, '.o')], dir);
    const ab = join(dir, 'ab.o');
    run(gcc, ['-r', '-nostdlib', join(dir, 'a.o'), join(dir, 'b.o'), '-o', ab], dir);
    const sec = elfSection(readFileSync(ab), CGO_DIRECTIVES_SECTION);
    const ds = parseDirectiveSection(sec.bytes, 'ab.o');
    expect(ds.map((d) => [d.kind, d.source.line])).toEqual([
      ['cgo_import_dynamic', 1],
      ['cgo_import_dynamic', 2],
      ['cgo_export_dynamic', 3],
      ['cgo_ldflag', 4],
      ['cgo_import_dynamic', 5],
    ]);
    const m = new CgoDirectives();
    m.addAll(ds);
    expect(m.imports.get('q')!.library).toBe('lib "q".so');
    expect(m.neededLibraries).toEqual(['libc.so.6', 'lib "q".so']);
    expect(m.forcedLibraries).toEqual(['libc.so.6']);
    expect(m.ldflags).toEqual(['-Wl,--as-needed']);
    expect([...m.exports.keys()]).toEqual(['go_add']);
  });
});

describe('go tool cgo -dynimport', () => {
  it('its -dynout file parses and matches the binary', () => {
    const go = requireTool('go', 'golang-go');
    const bin = '/bin/true';
    const out = join(dir, 'dynimport.go');
    run(go, ['tool', 'cgo', '-dynimport', bin, '-dynlinker', '-dynout', out], dir);
    const text = readFileSync(out, 'latin1');
    expect(text.startsWith('package main\n')).toBe(true);
    const ds = parseCgoDirectives(text, out);
    const directiveLines = text.split('\n').filter((l) => l.startsWith('//go:'));
    expect(ds).toHaveLength(directiveLines.length);
    expect(ds.length).toBeGreaterThan(3);

    const m = new CgoDirectives();
    m.addAll(ds);
    expect(m.warnings).toEqual([]);

    const file = readFileSync(bin);
    const interp = elfSection(file, '.interp').bytes;
    expect(m.dynamicLinker).toBe(latin1(interp, 0, interp.length - 1));

    const readelf = requireTool('readelf', 'binutils');
    const needed = [
      ...run(readelf, ['-d', '-W', bin], dir).matchAll(/\(NEEDED\)\s+Shared library: \[(.*)\]/g),
    ].map((x) => x[1]!);
    expect(needed.length).toBeGreaterThan(0);
    expect(m.forcedLibraries).toEqual(needed);
    for (const lib of needed) expect(m.neededLibraries).toContain(lib);

    // Versioned imports: `name name#VERSION "lib"` split into remote and version.
    const versioned = [...m.imports.values()].filter((i) => i.version !== null);
    expect(versioned.length).toBeGreaterThan(0);
    for (const imp of versioned) {
      expect(imp.remote).toBe(imp.local);
      expect(imp.version).toMatch(/^GLIBC_/);
      expect(needed).toContain(imp.library);
    }
  });
});

/**
 * The directive model: what it exposes to a linker, and the checks across sources Go's linker
 * makes (imported and exported, conflicting export names, conflicting dynamic linkers), each
 * error naming both places.
 */
import { describe, expect, it } from 'vitest';
import { LinkError } from '@link/core';
import { CgoDirectives, isLibraryOnlyImport, parseCgoDirectives } from '../src/index.js';

/** The messages of the `LinkError` that `fn` throws. */
function errorsOf(fn: () => void): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(LinkError);
    return (err as LinkError).messages;
  }
  throw new Error('no error');
}

function model(...files: [string, string][]): CgoDirectives {
  const m = new CgoDirectives();
  for (const [file, text] of files) m.addText(text, file);
  return m;
}

describe('what a linker reads', () => {
  it('imports, needed libraries, exports, dynamic linker, ldflags, static imports', () => {
    const m = model(
      [
        'a.go',
        [
          '//go:cgo_dynamic_linker "/lib64/ld-linux-x86-64.so.2"',
          '//go:cgo_import_dynamic puts puts#GLIBC_2.2.5 "libc.so.6"',
          '//go:cgo_import_dynamic __gmon_start__ __gmon_start__ ""',
          '//go:cgo_import_dynamic _ _ "libpthread.so.0"',
          '//go:cgo_import_dynamic _ _ "libc.so.6"',
          '//go:cgo_import_dynamic sin#GLIBC_2.2.5',
          '//go:cgo_ldflag "-lm"',
          '//go:cgo_import_static x_cgo_init',
        ].join('\n'),
      ],
      [
        'b.go',
        [
          'cgo_export_dynamic GoAdd',
          'cgo_export_static _cgoexp_GoAdd',
          'cgo_export_dynamic GoRenamed Exported',
          'cgo_import_dynamic my_cos cos "libm.so.6"',
          'cgo_ldflag "-lm"',
          'cgo_import_static x_cgo_init',
          'cgo_import_static x_cgo_thread_start',
        ].join('\n'),
      ],
    );
    expect([...m.imports.values()]).toEqual([
      {
        local: 'puts',
        remote: 'puts',
        version: 'GLIBC_2.2.5',
        library: 'libc.so.6',
        source: { file: 'a.go', line: 2 },
      },
      {
        local: '__gmon_start__',
        remote: '__gmon_start__',
        version: null,
        library: null,
        source: { file: 'a.go', line: 3 },
      },
      {
        local: 'sin#GLIBC_2.2.5',
        remote: 'sin',
        version: 'GLIBC_2.2.5',
        library: null,
        source: { file: 'a.go', line: 6 },
      },
      {
        local: 'my_cos',
        remote: 'cos',
        version: null,
        library: 'libm.so.6',
        source: { file: 'b.go', line: 4 },
      },
    ]);
    expect(m.imports.has('_')).toBe(false);
    expect(m.neededLibraries).toEqual(['libc.so.6', 'libpthread.so.0', 'libm.so.6']);
    expect(m.forcedLibraries).toEqual(['libpthread.so.0', 'libc.so.6']);
    expect([...m.exports.values()]).toEqual([
      {
        local: 'GoAdd',
        remote: 'GoAdd',
        dynamic: true,
        static: false,
        source: { file: 'b.go', line: 1 },
        kind: 'cgo_export_dynamic',
      },
      {
        local: '_cgoexp_GoAdd',
        remote: '_cgoexp_GoAdd',
        dynamic: false,
        static: true,
        source: { file: 'b.go', line: 2 },
        kind: 'cgo_export_static',
      },
      {
        local: 'GoRenamed',
        remote: 'Exported',
        dynamic: true,
        static: false,
        source: { file: 'b.go', line: 3 },
        kind: 'cgo_export_dynamic',
      },
    ]);
    expect(m.dynamicLinker).toBe('/lib64/ld-linux-x86-64.so.2');
    expect(m.ldflags).toEqual(['-lm', '-lm']);
    expect([...m.staticImports]).toEqual(['x_cgo_init', 'x_cgo_thread_start']);
    expect(m.warnings).toEqual([]);
    expect(m.dependentLibraries).toEqual([]);
  });

  it('an empty model', () => {
    const m = new CgoDirectives();
    expect(m.imports.size).toBe(0);
    expect(m.exports.size).toBe(0);
    expect(m.neededLibraries).toEqual([]);
    expect(m.dynamicLinker).toBeNull();
    expect(m.ldflags).toEqual([]);
    expect(m.staticImports.size).toBe(0);
  });

  it('the library-only form: _ _ "lib" only; _ _ without a library adds nothing', () => {
    const only = (line: string) => isLibraryOnlyImport(parseCgoDirectives(line, 'f')[0]!);
    expect(only('cgo_import_dynamic _ _ "libc.so.6"')).toBe(true);
    expect(only('cgo_import_dynamic _ _')).toBe(true);
    expect(only('cgo_import_dynamic _')).toBe(true);
    expect(only('cgo_import_dynamic _ x "libc.so.6"')).toBe(false);
    expect(only('cgo_import_dynamic x _ "libc.so.6"')).toBe(false);
    expect(only('cgo_import_dynamic _ _#V "libc.so.6"')).toBe(false); // Go imports a symbol "_"
    expect(only('cgo_ldflag "_"')).toBe(false);
    const m = model(['f', 'cgo_import_dynamic _ _\ncgo_import_dynamic _']);
    expect(m.imports.size).toBe(0);
    expect(m.neededLibraries).toEqual([]);
  });

  it('add() takes a directive and its source', () => {
    const m = new CgoDirectives();
    m.add({ kind: 'cgo_ldflag', flag: '-lz' }, { file: 'x', line: 1 });
    m.add({ kind: 'cgo_export_static', local: 'f', remote: null }, { file: 'x', line: 2 });
    m.add({ kind: 'cgo_export_dynamic', local: 'f', remote: 'f' }, { file: 'x', line: 3 });
    expect(m.ldflags).toEqual(['-lz']);
    expect(m.exports.get('f')).toMatchObject({ remote: 'f', static: true, dynamic: true });
    expect(m.exports.get('f')!.source).toEqual({ file: 'x', line: 2 });
  });
});

describe('where the directives a link cannot apply were read', () => {
  it('cgo_ldflag and cgo_dynamic_linker keep their file:line (for "not applicable" reports)', () => {
    const m = model(
      ['a.go', 'cgo_ldflag "-lm"\ncgo_dynamic_linker ""\ncgo_ldflag "-lm"'],
      ['b.go', '\ncgo_dynamic_linker "/lib/ld.so"'],
    );
    expect(m.ldflagDirectives).toEqual([
      { flag: '-lm', source: { file: 'a.go', line: 1 } },
      { flag: '-lm', source: { file: 'a.go', line: 3 } },
    ]);
    expect(m.dynamicLinkerDirective).toEqual({
      path: '/lib/ld.so',
      source: { file: 'b.go', line: 2 },
    });
    expect(new CgoDirectives().dynamicLinkerDirective).toBeNull();
    expect(model(['c.go', 'cgo_dynamic_linker ""']).dynamicLinkerDirective).toBeNull();
  });
});

describe('checks across sources', () => {
  it('a symbol both imported and exported, in either order', () => {
    expect(
      errorsOf(() =>
        model(
          ['a.go', 'cgo_import_dynamic puts puts "libc.so.6"'],
          ['b.go', '\n\ncgo_export_dynamic puts'],
        ),
      ),
    ).toEqual([
      'b.go:3: symbol is both imported and exported: puts\n' +
        '>>> cgo_import_dynamic at a.go:1\n' +
        '>>> cgo_export_dynamic at b.go:3',
    ]);
    expect(
      errorsOf(() =>
        model(['a.go', 'cgo_export_static f'], ['b.go', 'cgo_import_dynamic f g "libg.so"']),
      ),
    ).toEqual([
      'b.go:1: symbol is both imported and exported: f\n' +
        '>>> cgo_import_dynamic at b.go:1\n' +
        '>>> cgo_export_static at a.go:1',
    ]);
  });

  it('a conflicting import is not applied', () => {
    const m = model(['a.go', 'cgo_export_dynamic f']);
    expect(() => m.addText('cgo_import_dynamic f f "libf.so"', 'b.go')).toThrow(LinkError);
    expect(m.imports.has('f')).toBe(false);
    expect(m.neededLibraries).toEqual([]);
    expect(m.exports.get('f')!.remote).toBe('f');
  });

  it('conflicting export names, static or dynamic', () => {
    expect(
      errorsOf(() => model(['a.go', 'cgo_export_dynamic x a'], ['b.go', 'cgo_export_dynamic x b'])),
    ).toEqual([
      'b.go:1: conflicting cgo_export directives: x as a and b\n' +
        '>>> cgo_export_dynamic x a at a.go:1\n' +
        '>>> cgo_export_dynamic x b at b.go:1',
    ]);
    expect(errorsOf(() => model(['a.go', 'cgo_export_static x\ncgo_export_dynamic x y']))).toEqual([
      'a.go:2: conflicting cgo_export directives: x as x and y\n' +
        '>>> cgo_export_static x x at a.go:1\n' +
        '>>> cgo_export_dynamic x y at a.go:2',
    ]);
  });

  it('exports that agree are one export, static and dynamic', () => {
    const m = model(
      ['a.go', 'cgo_export_dynamic x\ncgo_export_dynamic x x'],
      ['b.go', 'cgo_export_static x'],
    );
    expect(m.exports.get('x')).toEqual({
      local: 'x',
      remote: 'x',
      dynamic: true,
      static: true,
      source: { file: 'a.go', line: 1 },
      kind: 'cgo_export_dynamic',
    });
  });

  it('conflicting dynamic linkers; the same one twice is fine', () => {
    expect(
      errorsOf(() =>
        model(
          ['a.go', 'cgo_dynamic_linker "/lib/ld-a.so"'],
          ['b.go', 'cgo_dynamic_linker "/lib/ld-a.so"\ncgo_dynamic_linker "/lib/ld-b.so"'],
        ),
      ),
    ).toEqual([
      'b.go:2: conflict dynlinker: /lib/ld-a.so and /lib/ld-b.so\n' +
        '>>> cgo_dynamic_linker "/lib/ld-a.so" at a.go:1\n' +
        '>>> cgo_dynamic_linker "/lib/ld-b.so" at b.go:2',
    ]);
    const m = model(['a', 'cgo_dynamic_linker "/l"'], ['b', 'cgo_dynamic_linker "/l"']);
    expect(m.dynamicLinker).toBe('/l');
  });

  it('an empty dynamic linker counts as unset, as in Go', () => {
    const m = model(['a', 'cgo_dynamic_linker ""']);
    expect(m.dynamicLinker).toBeNull();
    m.addText('cgo_dynamic_linker "/l"', 'b');
    expect(m.dynamicLinker).toBe('/l');
  });

  it('duplicate imports that agree are fine; ones that disagree keep the first, with a warning', () => {
    const m = model(
      ['a.go', 'cgo_import_dynamic puts puts#GLIBC_2.2.5 "libc.so.6"'],
      ['b.go', 'cgo_import_dynamic puts puts#GLIBC_2.2.5 "libc.so.6"'],
    );
    expect(m.warnings).toEqual([]);
    m.addText('\ncgo_import_dynamic puts puts "libc-other.so"', 'c.go');
    expect(m.imports.get('puts')).toMatchObject({
      remote: 'puts',
      version: 'GLIBC_2.2.5',
      library: 'libc.so.6',
      source: { file: 'a.go', line: 1 },
    });
    expect(m.neededLibraries).toEqual(['libc.so.6']);
    expect(m.warnings).toEqual([
      'c.go:2: conflicting cgo_import_dynamic directives: puts as puts#GLIBC_2.2.5 from "libc.so.6" ' +
        'and puts from "libc-other.so"; the first is used\n' +
        '>>> imported at a.go:1\n' +
        '>>> imported at c.go:2',
    ]);
  });

  it('reports every conflict of one addAll, and applies the rest', () => {
    const m = model(['a.go', 'cgo_export_dynamic e1 x\ncgo_dynamic_linker "/l1"']);
    const messages = errorsOf(() =>
      m.addText(
        [
          'cgo_export_dynamic e1 y',
          'cgo_ldflag "-lz"',
          'cgo_dynamic_linker "/l2"',
          'cgo_import_dynamic e1',
          'cgo_import_dynamic ok ok "libok.so"',
        ].join('\n'),
        'b.go',
      ),
    );
    expect(messages.map((s) => s.split('\n')[0])).toEqual([
      'b.go:1: conflicting cgo_export directives: e1 as x and y',
      'b.go:3: conflict dynlinker: /l1 and /l2',
      'b.go:4: symbol is both imported and exported: e1',
    ]);
    expect(m.ldflags).toEqual(['-lz']);
    expect(m.imports.has('ok')).toBe(true);
    expect(m.dynamicLinker).toBe('/l1');
    expect(m.exports.get('e1')!.remote).toBe('x');
  });

  it('a cgo_import_static of a dynamically imported symbol is no conflict', () => {
    const m = model(['a', 'cgo_import_dynamic f f "libf.so"\ncgo_import_static f']);
    expect(m.imports.has('f')).toBe(true);
    expect(m.staticImports.has('f')).toBe(true);
  });

  it('parse errors surface from addText before anything is applied', () => {
    const m = new CgoDirectives();
    expect(errorsOf(() => m.addText('cgo_ldflag "-lm"\ncgo_ldflag -lz', 'p.go'))).toEqual([
      'p.go:2: usage: cgo_ldflag "arg"',
    ]);
    expect(m.ldflags).toEqual([]);
  });
});

/**
 * The directive text parser: every directive form, `//go:` prefixes, comments and the
 * `package` clause, Go's field splitting and string escapes, `name#VERSION`, and every error
 * with its `file:line:` text in Go's wording.
 */
import { describe, expect, it } from 'vitest';
import { LinkError } from '@link/core';
import {
  goQuote,
  parseCgoDirectives,
  splitDirectiveFields,
  splitVersion,
  type CgoDirective,
} from '../src/index.js';

/** The directives of `text` without their sources. */
function parse(text: string): CgoDirective[] {
  return parseCgoDirectives(text, 'f.txt').map(({ source: _source, ...d }) => d as CgoDirective);
}

/** The messages of the `LinkError` that parsing `text` throws. */
function errorsOf(text: string, file = 'f.txt'): string[] {
  try {
    parseCgoDirectives(text, file);
  } catch (err) {
    expect(err).toBeInstanceOf(LinkError);
    return (err as LinkError).messages;
  }
  throw new Error(`no error for ${JSON.stringify(text)}`);
}

describe('directive forms', () => {
  it('cgo_import_dynamic with one, two and three arguments', () => {
    expect(
      parse(
        [
          'cgo_import_dynamic puts',
          'cgo_import_dynamic my_puts puts',
          'cgo_import_dynamic puts puts#GLIBC_2.2.5 "libc.so.6"',
          'cgo_import_dynamic foo bar "libfoo.so"',
        ].join('\n'),
      ),
    ).toEqual([
      { kind: 'cgo_import_dynamic', local: 'puts', remote: null, version: null, library: null },
      {
        kind: 'cgo_import_dynamic',
        local: 'my_puts',
        remote: 'puts',
        version: null,
        library: null,
      },
      {
        kind: 'cgo_import_dynamic',
        local: 'puts',
        remote: 'puts',
        version: 'GLIBC_2.2.5',
        library: 'libc.so.6',
      },
      {
        kind: 'cgo_import_dynamic',
        local: 'foo',
        remote: 'bar',
        version: null,
        library: 'libfoo.so',
      },
    ]);
  });

  it('the library-only form and the empty library cgo -dynimport writes', () => {
    expect(parse('cgo_import_dynamic _ _ "libc.so.6"\ncgo_import_dynamic w w ""')).toEqual([
      { kind: 'cgo_import_dynamic', local: '_', remote: '_', version: null, library: 'libc.so.6' },
      { kind: 'cgo_import_dynamic', local: 'w', remote: 'w', version: null, library: null },
    ]);
  });

  it('splits name#VERSION at the first #; the one-argument form takes it from local', () => {
    expect(
      parse('cgo_import_dynamic a b#V1#x "l"\ncgo_import_dynamic c#V2\ncgo_import_dynamic d e#'),
    ).toEqual([
      { kind: 'cgo_import_dynamic', local: 'a', remote: 'b', version: 'V1#x', library: 'l' },
      { kind: 'cgo_import_dynamic', local: 'c#V2', remote: null, version: 'V2', library: null },
      { kind: 'cgo_import_dynamic', local: 'd', remote: 'e', version: null, library: null },
    ]);
    expect(splitVersion('memcpy@GLIBC#GLIBC_2.14')).toEqual({
      name: 'memcpy@GLIBC',
      version: 'GLIBC_2.14',
    });
    expect(splitVersion('plain')).toEqual({ name: 'plain', version: null });
  });

  it('cgo_import_static, cgo_export_dynamic, cgo_export_static', () => {
    expect(
      parse(
        [
          'cgo_import_static x_cgo_init',
          'cgo_export_dynamic GoFunc',
          'cgo_export_dynamic GoFunc2 renamed',
          'cgo_export_static _cgoexp_1_GoFunc',
          'cgo_export_static local remote',
        ].join('\n'),
      ),
    ).toEqual([
      { kind: 'cgo_import_static', local: 'x_cgo_init' },
      { kind: 'cgo_export_dynamic', local: 'GoFunc', remote: null },
      { kind: 'cgo_export_dynamic', local: 'GoFunc2', remote: 'renamed' },
      { kind: 'cgo_export_static', local: '_cgoexp_1_GoFunc', remote: null },
      { kind: 'cgo_export_static', local: 'local', remote: 'remote' },
    ]);
  });

  it('cgo_dynamic_linker and cgo_ldflag take one quoted argument', () => {
    expect(
      parse(
        'cgo_dynamic_linker "/lib64/ld-linux-x86-64.so.2"\ncgo_ldflag "-lm"\ncgo_ldflag "a rg"\ncgo_ldflag ""',
      ),
    ).toEqual([
      { kind: 'cgo_dynamic_linker', path: '/lib64/ld-linux-x86-64.so.2' },
      { kind: 'cgo_ldflag', flag: '-lm' },
      { kind: 'cgo_ldflag', flag: 'a rg' },
      { kind: 'cgo_ldflag', flag: '' },
    ]);
  });

  it('names like the ones Go tests with (quotes inside unquoted fields)', () => {
    expect(parse(`cgo_export_dynamic local' remote'\ncgo_import_static local'`)).toEqual([
      { kind: 'cgo_export_dynamic', local: "local'", remote: "remote'" },
      { kind: 'cgo_import_static', local: "local'" },
    ]);
  });
});

describe('lines', () => {
  it('accepts //go: prefixes, skips blank lines, comments and the package clause', () => {
    const text = [
      'package main',
      '',
      '// a comment',
      '   // an indented comment',
      '//go:cgo_import_dynamic puts puts#GLIBC_2.2.5 "libc.so.6"',
      '\t//go:cgo_ldflag "-lm"',
      'cgo_ldflag "-lpthread"',
      '   ',
      '//go:cgo_import_dynamic _ _ "libc.so.6"',
    ].join('\n');
    const ds = parseCgoDirectives(text, 'imports.go');
    expect(ds.map((d) => [d.kind, d.source])).toEqual([
      ['cgo_import_dynamic', { file: 'imports.go', line: 5 }],
      ['cgo_ldflag', { file: 'imports.go', line: 6 }],
      ['cgo_ldflag', { file: 'imports.go', line: 7 }],
      ['cgo_import_dynamic', { file: 'imports.go', line: 9 }],
    ]);
  });

  it('skips the other Go directives (not for the linker), but not unknown cgo_ verbs', () => {
    expect(
      parse(
        '//go:build linux\n//go:cgo_unsafe_args\n//go:linkname a b\n//go:\n//go: cgo_ldflag "x"\n' +
          '//go:nosplit\n//go:generate echo "unterminated',
      ),
    ).toEqual([]);
    expect(errorsOf('//go:cgo_import_dynamicx a')).toEqual([
      'f.txt:1: invalid cgo directive: ["cgo_import_dynamicx" "a"]',
    ]);
  });

  it('handles CRLF line ends and tabs between fields', () => {
    expect(parse('cgo_import_dynamic\ta\tb\t"c"\r\ncgo_ldflag "-lm"\r\n')).toEqual([
      { kind: 'cgo_import_dynamic', local: 'a', remote: 'b', version: null, library: 'c' },
      { kind: 'cgo_ldflag', flag: '-lm' },
    ]);
  });

  it('counts lines for errors across skipped lines', () => {
    expect(errorsOf('package main\n\n// c\ncgo_ldflag -lm', 'dyn.go')).toEqual([
      'dyn.go:4: usage: cgo_ldflag "arg"',
    ]);
  });

  it('an empty text is no directives', () => {
    expect(parse('')).toEqual([]);
    expect(parse('\n\n')).toEqual([]);
  });
});

describe('quoting', () => {
  it('splits fields as Go pragmaFields does', () => {
    const f = (s: string) =>
      splitDirectiveFields(s).map((x) => (x.quoted ? `"${x.text}"` : x.text));
    expect(f('')).toEqual([]);
    expect(f(' \t ')).toEqual([]);
    expect(f('""""')).toEqual(['""', '""']);
    expect(f("  a'b'c  ")).toEqual(["a'b'c"]);
    expect(f('1 2 3 4')).toEqual(['1', '2', '3', '4']);
    expect(f('"1 2 "  3  " 4 5"')).toEqual(['"1 2 "', '3', '" 4 5"']);
    expect(f('"1""2 3""4"')).toEqual(['"1"', '"2 3"', '"4"']);
    expect(f('12"34"')).toEqual(['12', '"34"']);
    expect(f('a"b"c')).toEqual(['a', '"b"', 'c']);
  });

  it('decodes Go string escapes in quoted fields', () => {
    const lib = (q: string) => {
      const [d] = parse(`cgo_import_dynamic a b ${q}`);
      return d!.kind === 'cgo_import_dynamic' ? d!.library : undefined;
    };
    expect(lib('"lib \\"quoted\\".so"')).toBe('lib "quoted".so');
    expect(lib('"back\\\\slash"')).toBe('back\\slash');
    expect(lib('"\\a\\b\\f\\n\\r\\t\\v"')).toBe('\x07\x08\x0c\n\r\t\x0b');
    expect(lib('"\\x41\\x6a"')).toBe('Aj');
    expect(lib('"\\101\\000z"')).toBe('A\0z');
    expect(lib('"\\xff"')).toBe('\xff'); // a byte, not a code point
    // \u and \U are code points, kept as their UTF-8 bytes (latin1 byte strings)
    expect(lib('"caf\\u00e9"')).toBe('caf\xc3\xa9');
    expect(lib('"\\U0001F600"')).toBe('\xf0\x9f\x98\x80');
    expect(lib('"a//b /*c*/"')).toBe('a//b /*c*/');
    expect(lib('"with space.so"')).toBe('with space.so');
  });

  it('goQuote writes what the parser reads back', () => {
    const s = 'a "b" \\ \n\t\x01\xe9';
    expect(goQuote(s)).toBe('"a \\"b\\" \\\\ \\n\\t\\x01\\xe9"');
    expect(parse(`cgo_ldflag ${goQuote(s)}`)).toEqual([{ kind: 'cgo_ldflag', flag: s }]);
  });
});

describe('errors', () => {
  it('wrong argument lists get Go compiler usage lines', () => {
    const cases: [string, string][] = [
      ['cgo_import_dynamic', 'usage: cgo_import_dynamic local [remote ["library"]]'],
      ['cgo_import_dynamic "a"', 'usage: cgo_import_dynamic local [remote ["library"]]'],
      ['cgo_import_dynamic a "b"', 'usage: cgo_import_dynamic local [remote ["library"]]'],
      ['cgo_import_dynamic a b c', 'usage: cgo_import_dynamic local [remote ["library"]]'],
      ['cgo_import_dynamic a b "c" d', 'usage: cgo_import_dynamic local [remote ["library"]]'],
      ['cgo_import_static', 'usage: cgo_import_static local'],
      ['cgo_import_static a b', 'usage: cgo_import_static local'],
      ['cgo_import_static "a"', 'usage: cgo_import_static local'],
      ['cgo_export_dynamic', 'usage: cgo_export_dynamic local [remote]'],
      ['cgo_export_dynamic a b ABIInternal', 'usage: cgo_export_dynamic local [remote]'],
      ['cgo_export_dynamic a "b"', 'usage: cgo_export_dynamic local [remote]'],
      ['cgo_export_static "a"', 'usage: cgo_export_static local [remote]'],
      ['cgo_export_static a b c', 'usage: cgo_export_static local [remote]'],
      ['cgo_dynamic_linker /lib/ld.so', 'usage: cgo_dynamic_linker "path"'],
      ['cgo_dynamic_linker', 'usage: cgo_dynamic_linker "path"'],
      ['cgo_dynamic_linker "a" "b"', 'usage: cgo_dynamic_linker "path"'],
      ['cgo_ldflag -lm', 'usage: cgo_ldflag "arg"'],
      ['cgo_ldflag "-lm" // trailing comment', 'usage: cgo_ldflag "arg"'],
    ];
    for (const [line, message] of cases) {
      expect(errorsOf(line)).toEqual([`f.txt:1: ${message}`]);
    }
  });

  it('a //go: line gets the compiler message word for word', () => {
    expect(errorsOf('//go:cgo_import_dynamic a "b"')).toEqual([
      'f.txt:1: usage: //go:cgo_import_dynamic local [remote ["library"]]',
    ]);
    expect(errorsOf('\n//go:cgo_ldflag arg')).toEqual(['f.txt:2: usage: //go:cgo_ldflag "arg"']);
  });

  it('unknown verbs are invalid cgo directives, as the linker says', () => {
    expect(errorsOf('cgo_frobnicate x "y z"')).toEqual([
      'f.txt:1: invalid cgo directive: ["cgo_frobnicate" "x" "y z"]',
    ]);
    expect(errorsOf('dynimport a b c')).toEqual([
      'f.txt:1: invalid cgo directive: ["dynimport" "a" "b" "c"]',
    ]);
    expect(errorsOf('"cgo_ldflag" "x"')).toEqual([
      'f.txt:1: invalid cgo directive: ["cgo_ldflag" "x"]',
    ]);
    expect(errorsOf('package')).toEqual(['f.txt:1: invalid cgo directive: ["package"]']);
    expect(errorsOf('package a b')).toEqual([
      'f.txt:1: invalid cgo directive: ["package" "a" "b"]',
    ]);
  });

  it('bad string literals get the Go scanner wording', () => {
    const cases: [string, string][] = [
      ['"abc', 'string not terminated'],
      ['"abc\\"', 'string not terminated'],
      ['"ab\\', 'string not terminated'],
      ['"\\x4', 'string not terminated'],
      ['"a\\q"', 'unknown escape'],
      ['"\\\'"', 'unknown escape'],
      ['"\\x4g"', "invalid character 'g' in hexadecimal escape"],
      ['"\\x4"', `invalid character '"' in hexadecimal escape`],
      ['"\\18"', "invalid character '8' in octal escape"],
      ['"\\u12 4"', "invalid character ' ' in hexadecimal escape"],
      ['"\\400"', 'octal escape value 256 > 255'],
      ['"\\ud800"', 'escape is invalid Unicode code point U+D800'],
      ['"\\U00110000"', 'escape is invalid Unicode code point U+110000'],
    ];
    for (const [arg, message] of cases) {
      expect(errorsOf(`cgo_ldflag ${arg}`)).toEqual([`f.txt:1: ${message}`]);
    }
  });

  it('reports every bad line at once, in order, and nothing else', () => {
    const text = [
      'cgo_import_dynamic a b "c"',
      'cgo_import_dynamic "x"',
      'cgo_ldflag "-lm"',
      'bogus',
      'cgo_ldflag "oops',
    ].join('\n');
    let err: unknown;
    try {
      parseCgoDirectives(text, 'x/y.go');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LinkError);
    expect((err as LinkError).messages).toEqual([
      'x/y.go:2: usage: cgo_import_dynamic local [remote ["library"]]',
      'x/y.go:4: invalid cgo directive: ["bogus"]',
      'x/y.go:5: string not terminated',
    ]);
    expect((err as LinkError).message).toBe((err as LinkError).messages.join('\n'));
  });
});

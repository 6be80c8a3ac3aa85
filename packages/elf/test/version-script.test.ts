/**
 * Tests for the version-script and dynamic-list parser and matcher: syntax, glob semantics,
 * lld's precedence rules, C++ patterns through an injected demangler, errors with file:line,
 * and one cross-check against ld.lld's own version assignment for a shared object built at test
 * time.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { LinkError } from '@link/core';
import {
  DynamicList,
  VersionMatcher,
  parseDynamicList,
  parseSymbolPattern,
  parseVersionScript,
  type Demangler,
} from '../src/version-script.js';

const LOCAL = { local: true, version: 0 };
const glob = (version: number) => ({ local: false, version });

function matcher(text: string, demangle?: Demangler): VersionMatcher {
  return new VersionMatcher(parseVersionScript(text, 'test.map'), demangle);
}

/** The LinkError message `fn` throws; fails if it throws anything else or nothing. */
function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(LinkError);
    return (e as Error).message;
  }
  throw new Error('expected a LinkError');
}

const FAKE_CXX: Record<string, string> = {
  _ZN2ns1fEi: 'ns::f(int)',
  _ZN2ns1gEd: 'ns::g(double)',
  _ZN5other1fEv: 'other::f()',
  _Z1hid: 'h(int, double)',
};
const fakeDemangle: Demangler = (s) => FAKE_CXX[s] ?? null;

describe('anonymous version script', () => {
  it('hides what local: names, keeps global: names unversioned', () => {
    const text = '{ global: foo; bar*; local: *; };';
    const script = parseVersionScript(text, 'test.map');
    expect(script.versions).toHaveLength(1);
    expect(script.versions[0]).toMatchObject({ name: '', index: 1, parents: [], line: 1 });
    const m = new VersionMatcher(script);
    expect(m.match('foo')).toEqual(glob(1));
    expect(m.match('bar')).toEqual(glob(1));
    expect(m.match('barbaz')).toEqual(glob(1));
    expect(m.match('foox')).toEqual(LOCAL);
    expect(m.match('baz')).toEqual(LOCAL);
  });

  it('treats entries before any label as global and returns null for unnamed symbols', () => {
    const m = matcher('{ foo; bar; };');
    expect(m.match('foo')).toEqual(glob(1));
    expect(m.match('other')).toBeNull();
  });

  it('accepts labels in any order, repeated, and written `global :`', () => {
    const m = matcher('{ local: a*; global : b; local : c; global: a1; };');
    expect(m.match('a1')).toEqual(glob(1));
    expect(m.match('a2')).toEqual(LOCAL);
    expect(m.match('b')).toEqual(glob(1));
    expect(m.match('c')).toEqual(LOCAL);
    const compact = matcher('{global:foo;local:*;};');
    expect(compact.match('foo')).toEqual(glob(1));
    expect(compact.match('bar')).toEqual(LOCAL);
  });

  it('lets global, local and extern be symbol names where they are not keywords', () => {
    const m = matcher('{ global; local; extern; };');
    expect(m.match('global')).toEqual(glob(1));
    expect(m.match('local')).toEqual(glob(1));
    expect(m.match('extern')).toEqual(glob(1));
  });
});

describe('named versions', () => {
  const text = `
VERS_1.1 {
  global: foo1;
  local: old*; original*; new*;
};
VERS_1.2 { foo2; } VERS_1.1;
VERS_2.0 { bar1; bar2; } VERS_1.1 VERS_1.2;
`;

  it('numbers versions from 2 in file order and records parents and lines', () => {
    const script = parseVersionScript(text, 'test.map');
    expect(script.versions.map((v) => [v.name, v.index, v.parents, v.line])).toEqual([
      ['VERS_1.1', 2, [], 2],
      ['VERS_1.2', 3, ['VERS_1.1'], 6],
      ['VERS_2.0', 4, ['VERS_1.1', 'VERS_1.2'], 7],
    ]);
    expect(script.versions[0]!.locals.map((p) => p.pattern)).toEqual(['old*', 'original*', 'new*']);
    expect(script.versions[0]!.locals.every((p) => p.wildcard && p.lang === 'C')).toBe(true);
  });

  it('assigns each symbol its version', () => {
    const m = matcher(text);
    expect(m.match('foo1')).toEqual(glob(2));
    expect(m.match('foo2')).toEqual(glob(3));
    expect(m.match('bar2')).toEqual(glob(4));
    expect(m.match('old_thing')).toEqual(LOCAL);
    expect(m.match('newer')).toEqual(LOCAL);
    expect(m.match('unrelated')).toBeNull();
    expect(m.versionIndex('VERS_1.2')).toBe(3);
    expect(m.versionIndex('nope')).toBeUndefined();
  });

  it('chains several files through `previous`', () => {
    const first = parseVersionScript('V1 { a; };', 'one.map');
    const both = parseVersionScript('V2 { b; } V1;', 'two.map', first);
    expect(first.versions).toHaveLength(1);
    expect(both.versions.map((v) => [v.name, v.index, v.file])).toEqual([
      ['V1', 2, 'one.map'],
      ['V2', 3, 'two.map'],
    ]);
    expect(new VersionMatcher(both).match('b')).toEqual(glob(3));
    const dup = errorOf(() => parseVersionScript('\nV1 { c; };', 'two.map', first));
    expect(dup).toContain('two.map:2:');
    expect(dup).toContain("duplicate version tag 'V1'");
    expect(dup).toContain('one.map:1');
    const anon = errorOf(() => parseVersionScript('{ c; };', 'two.map', first));
    expect(anon).toContain('two.map:1: anonymous version tag cannot be combined');
  });
});

describe('precedence (lld)', () => {
  it('lets an exact name beat any wildcard, whatever the version order', () => {
    const m = matcher(`
V1 { global: foobar; local: exact_local; };
V2 { global: foo*; exact*; };
V3 { local: foo*; };
`);
    expect(m.match('foobar')).toEqual(glob(2));
    expect(m.match('exact_local')).toEqual(LOCAL);
    expect(m.match('foobaz')).toEqual(LOCAL); // V3's glob beats V2's
    expect(m.match('exactly')).toEqual(glob(3));
  });

  it('gives an exact name to the first version naming it, globals before locals', () => {
    const m = matcher('V1 { local: dup2; }; V2 { dup; dup2; }; V3 { dup; };');
    expect(m.match('dup')).toEqual(glob(3));
    expect(m.match('dup2')).toEqual(LOCAL);
    const n = matcher('V1 { global: x; local: x; };');
    expect(n.match('x')).toEqual(glob(2));
  });

  it('lets later versions win among wildcards, global before local within a version', () => {
    const m = matcher(`
V1 { global: f*; };
V2 { global: fo*; local: foo*; } V1;
V3 { global: fa?; } V2;
`);
    expect(m.match('fx')).toEqual(glob(2));
    expect(m.match('fooo')).toEqual(glob(3)); // V2 global fo* before V2 local foo*
    expect(m.match('fab')).toEqual(glob(4));
    expect(m.match('fabc')).toEqual(glob(2));
  });

  it('gives a lone * the lowest priority even in a later version', () => {
    const m = matcher('V1 { global: api_*; }; V2 { global: new_api; local: *; } V1;');
    expect(m.match('api_x')).toEqual(glob(2));
    expect(m.match('new_api')).toEqual(glob(3));
    expect(m.match('helper')).toEqual(LOCAL);
    // `**` is an ordinary wildcard, not the catch-all.
    const n = matcher('V1 { global: api_*; }; V2 { local: **; };');
    expect(n.match('api_x')).toEqual(LOCAL);
    // Among catch-alls, the later version wins.
    const o = matcher('V1 { local: *; }; V2 { global: *; };');
    expect(o.match('anything')).toEqual(glob(3));
  });
});

describe('patterns', () => {
  it('treats quoted names as exact, even with wildcard characters', () => {
    const m = matcher('{ "foo*"; "[abc]"; "with space"; local: *; };');
    expect(m.match('foo*')).toEqual(glob(1));
    expect(m.match('foobar')).toEqual(LOCAL);
    expect(m.match('[abc]')).toEqual(glob(1));
    expect(m.match('a')).toEqual(LOCAL);
    expect(m.match('with space')).toEqual(glob(1));
  });

  it('supports ?, [abc], ranges, negation and character classes', () => {
    const m = matcher('{ x[abc]; y?; r[a-c0-2]z; n[!a]; c[^x]; d[[:digit:]]; e[]]; };');
    for (const s of ['xa', 'xb', 'xc', 'y1', 'y?', 'rbz', 'r1z', 'nb', 'cy', 'd7', 'e]'])
      expect(m.match(s), s).toEqual(glob(1));
    for (const s of ['xd', 'x', 'xab', 'y', 'y12', 'rdz', 'r3z', 'na', 'cx', 'da', 'e'])
      expect(m.match(s), s).toBeNull();
  });

  it('escapes everything a RegExp would give meaning to', () => {
    const m = matcher('{ a.b*; c+(d)*; $e^*; f|g*; };');
    expect(m.match('a.bc')).toEqual(glob(1));
    expect(m.match('axbc')).toBeNull();
    expect(m.match('c+(d)')).toEqual(glob(1));
    expect(m.match('ccd')).toBeNull();
    expect(m.match('$e^x')).toEqual(glob(1));
    expect(m.match('f|g')).toEqual(glob(1));
    expect(m.match('f')).toBeNull();
  });

  it('makes backslash-escaped metacharacters literal and keeps an unclosed [ literal', () => {
    const script = parseVersionScript('{ foo\\*; bar\\?*; a[b; };', 'test.map');
    expect(script.versions[0]!.globals.map((p) => [p.pattern, p.wildcard])).toEqual([
      ['foo*', false],
      ['bar\\?*', true],
      ['a[b', true],
    ]);
    const m = new VersionMatcher(script);
    expect(m.match('foo*')).toEqual(glob(1));
    expect(m.match('foox')).toBeNull();
    expect(m.match('bar?x')).toEqual(glob(1));
    expect(m.match('barxx')).toBeNull();
    expect(m.match('a[b')).toEqual(glob(1));
  });

  it('matches prefix, suffix and infix globs (the fast paths) like the RegExp would', () => {
    const m = matcher('{ pre*; *suf; *mid*; };');
    expect(m.match('prefix')).toEqual(glob(1));
    expect(m.match('pre')).toEqual(glob(1));
    expect(m.match('the_suf')).toEqual(glob(1));
    expect(m.match('amidst')).toEqual(glob(1));
    expect(m.match('pr')).toBeNull();
    expect(m.match('sufx')).toBeNull();
  });

  it('handles thousands of exact names and wildcards', () => {
    const names = Array.from({ length: 5000 }, (_, i) => `sym_${i}`);
    const text =
      `V1 { global: ${names.slice(0, 2500).join('; ')}; grp_*; local: *; };\n` +
      `V2 { global: ${names.slice(2500).join('; ')}; grp_1*; } V1;\n`;
    const m = matcher(text);
    expect(m.match('sym_0')).toEqual(glob(2));
    expect(m.match('sym_4999')).toEqual(glob(3));
    expect(m.match('grp_2')).toEqual(glob(2));
    expect(m.match('grp_17')).toEqual(glob(3));
    expect(m.match('sym_5000')).toEqual(LOCAL);
  });
});

describe('extern blocks', () => {
  const text = `
V1 {
  global:
    c_func;
    extern "C" { plain*; };
    extern "C++" {
      ns::*;
      "h(int, double)"
    };
  local: *;
};
`;

  it('matches C++ patterns against the demangled name', () => {
    const script = parseVersionScript(text, 'test.map');
    expect(script.versions[0]!.globals.map((p) => [p.pattern, p.lang, p.wildcard])).toEqual([
      ['c_func', 'C', false],
      ['plain*', 'C', true],
      ['ns::*', 'C++', true],
      ['h(int, double)', 'C++', false],
    ]);
    const m = new VersionMatcher(script, fakeDemangle);
    expect(m.match('_ZN2ns1fEi')).toEqual(glob(2));
    expect(m.match('_ZN2ns1gEd')).toEqual(glob(2));
    expect(m.match('_Z1hid')).toEqual(glob(2));
    expect(m.match('_ZN5other1fEv')).toEqual(LOCAL);
    expect(m.match('plain_x')).toEqual(glob(2));
    expect(m.match('c_func')).toEqual(glob(2));
    // A C++ pattern sees only demangled names: `ns::x` is not a mangled name.
    expect(m.match('ns::x')).toEqual(LOCAL);
  });

  it('matches nothing with C++ patterns when no demangler is given', () => {
    const m = new VersionMatcher(parseVersionScript(text, 'test.map'));
    expect(m.match('_ZN2ns1fEi')).toEqual(LOCAL);
    expect(m.match('_Z1hid')).toEqual(LOCAL);
    expect(m.match('c_func')).toEqual(glob(2));
  });

  it('lets an exact C++ name beat a C wildcard, and keeps exact order across languages', () => {
    const m = matcher(
      'V1 { global: _Z*; }; V2 { extern "C++" { "ns::f(int)"; }; }; V3 { _ZN2ns1fEi; };',
      fakeDemangle,
    );
    expect(m.match('_ZN2ns1fEi')).toEqual(glob(3));
    expect(m.match('_ZN2ns1gEd')).toEqual(glob(2));
  });

  it('accepts the language case-insensitively and an empty block', () => {
    const m = matcher('{ extern "c++" { ns::f*; }; extern "C++" { }; };', fakeDemangle);
    expect(m.match('_ZN2ns1fEi')).toEqual(glob(1));
  });
});

describe('comments', () => {
  it('skips # and /* */ comments, counting lines inside them', () => {
    const text = `# leading comment
V1 { /* a
multi-line comment */ global: foo; # trailing
  local: *; /* bar; */
};
/* between */ V2 { baz; } V1; # end`;
    const script = parseVersionScript(text, 'test.map');
    expect(script.versions.map((v) => [v.name, v.line])).toEqual([
      ['V1', 2],
      ['V2', 6],
    ]);
    expect(script.versions[0]!.globals.map((p) => [p.pattern, p.line])).toEqual([['foo', 3]]);
    const m = new VersionMatcher(script);
    expect(m.match('foo')).toEqual(glob(2));
    expect(m.match('bar')).toEqual(LOCAL);
    expect(m.match('baz')).toEqual(glob(3));
  });

  it('ends a word at a comment', () => {
    const m = matcher('{ foo/* c */; bar#x\n; };');
    expect(m.match('foo')).toEqual(glob(1));
    expect(m.match('bar')).toEqual(glob(1));
  });
});

describe('syntax errors', () => {
  const cases: [string, string, string][] = [
    ['{\n  foo\n};', 'test.map:3:', "expected ';' after 'foo'"],
    ['V1 {\n  foo;\n', 'test.map:3:', "expected '}' to close the '{' of line 1"],
    ['V1 { foo; }', 'test.map:1:', "expected ';' after version node 'V1'"],
    ['V1 { a; };\nV1 { b; };', 'test.map:2:', "duplicate version tag 'V1'"],
    ['V1 { a; };\nV2 { b; }\n  V0;', 'test.map:3:', "unknown version dependency 'V0'"],
    ['V2 { b; } V2;', 'test.map:1:', "unknown version dependency 'V2'"],
    ['V1 { a; };\n{ b; };', 'test.map:2:', 'anonymous version tag cannot be combined'],
    ['{ a; };\nV1 { b; };', 'test.map:2:', 'anonymous version tag cannot be combined'],
    ['{ a; };\n{ b; };', 'test.map:2:', 'anonymous version tag cannot be combined'],
    ['{ extern "Rust" { a; }; };', 'test.map:1:', 'unknown language "Rust"'],
    ['{ extern "Java" { a; }; };', 'test.map:1:', 'extern "Java" is not supported'],
    ['{ extern "C++" { a; } };', 'test.map:1:', "expected ';' after 'extern'"],
    ['\n/* open', 'test.map:2:', 'unclosed comment'],
    ['{ "open; };', 'test.map:1:', 'unclosed quote'],
    ['  # nothing here\n', 'test.map:2:', 'version script defines no version node'],
    ['{ x[[:nope:]]; };', 'test.map:1:', 'unknown character class [:nope:]'],
    ['V1 { a; }; ;', 'test.map:1:', "expected a version name or '{'"],
    ['"V1" { a; };', 'test.map:1:', "expected a version name or '{'"],
    ['V1 a; };', 'test.map:1:', "expected '{' after version name 'V1'"],
    ['{ a; : };', 'test.map:1:', "expected a symbol name or '}'"],
    ['{ global : : a; };', 'test.map:1:', "expected a symbol name or '}'"],
  ];
  for (const [text, where, what] of cases) {
    it(`reports ${JSON.stringify(text)}`, () => {
      const msg = errorOf(() => parseVersionScript(text, 'test.map'));
      expect(msg.startsWith(where), msg).toBe(true);
      expect(msg).toContain(what);
    });
  }
});

describe('dynamic lists', () => {
  it('parses names, globs and extern blocks and matches them', () => {
    const list = parseDynamicList(
      `{
  foo;
  bar*;
  "q*";
  extern "C++" { ns::*; };
};
# a second block
{ global: baz; };`,
      'dyn.list',
      fakeDemangle,
    );
    expect(list.patterns.map((p) => [p.pattern, p.lang, p.wildcard, p.line])).toEqual([
      ['foo', 'C', false, 2],
      ['bar*', 'C', true, 3],
      ['q*', 'C', false, 4],
      ['ns::*', 'C++', true, 5],
      ['baz', 'C', false, 8],
    ]);
    for (const s of ['foo', 'bar', 'barx', 'q*', '_ZN2ns1fEi', 'baz'])
      expect(list.matches(s), s).toBe(true);
    for (const s of ['fo', 'qq', '_ZN5other1fEv', 'ns::f']) expect(list.matches(s), s).toBe(false);
  });

  it('combines lists and command-line patterns', () => {
    const a = parseDynamicList('{ a; };', 'a.list');
    const both = new DynamicList([
      ...a.patterns,
      parseSymbolPattern('b?'),
      parseSymbolPattern('c'),
    ]);
    expect(both.matches('a')).toBe(true);
    expect(both.matches('b1')).toBe(true);
    expect(both.matches('c')).toBe(true);
    expect(both.matches('b')).toBe(false);
    expect(parseSymbolPattern('x\\*')).toMatchObject({ pattern: 'x*', wildcard: false });
  });

  it('reports errors with file:line', () => {
    const cases: [string, string][] = [
      ['{ foo; };\n{ local: bar; };', "dyn.list:2: 'local:' is not allowed in dynamic list"],
      ['{ foo; }', "dyn.list:1: expected ';' after '}' of the dynamic list"],
      ['{\n foo\n};', "dyn.list:3: expected ';' after 'foo' in dynamic list"],
      ['foo;', "dyn.list:1: expected '{' to start a dynamic list, found 'foo'"],
      ['\n', 'dyn.list:2: dynamic list is empty'],
    ];
    for (const [text, msg] of cases)
      expect(errorOf(() => parseDynamicList(text, 'dyn.list'))).toContain(msg);
  });
});

// --- cross-check against ld.lld ---

/** Path of a required tool. Missing tools fail the test (never skip) and say what to install. */
function requireTool(name: string, aptPackage: string): string {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const found = r.status === 0 ? r.stdout.trim() : '';
  if (found === '') throw new Error(`${name} not found on PATH: apt-get install ${aptPackage}`);
  return found;
}

describe('agrees with ld.lld', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'tslink-version-script-'));
  });
  afterAll(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  // C symbols plus C++-mangled ones (via asm labels, so no C++ compiler is needed).
  const SOURCE = `
void foo(void) {} void foobar(void) {} void fob(void) {} void bar(void) {} void old1(void) {}
void xyz(void) {} void q(void) {} void a1(void) {} void b2(void) {} void api_new(void) {}
void nsf(int x) __asm__("_ZN2ns1fEi"); void nsf(int x) { (void)x; }
void nsg(double x) __asm__("_ZN2ns1gEd"); void nsg(double x) { (void)x; }
void hh(int x, double y) __asm__("_Z1hid"); void hh(int x, double y) { (void)x; (void)y; }
void of(void) __asm__("_ZN5other1fEv"); void of(void) {}
`;
  const NAMES = [
    'foo',
    'foobar',
    'fob',
    'bar',
    'old1',
    'xyz',
    'q',
    'a1',
    'b2',
    'api_new',
    '_ZN2ns1fEi',
    '_ZN2ns1gEd',
    '_Z1hid',
    '_ZN5other1fEv',
  ];
  const SCRIPTS = {
    named: `
V1 { global: foo*; xyz; api_*; local: *; };
V2 { global: fo?; foobar; [ab][0-9]; } V1;
V3 { global: f*; api_new; extern "C++" { ns::*; "h(int, double)"; }; local: b*; } V2;
`,
    anonymous: '{ global: fo?; "foobar"; extern "C++" { ns::f*; }; local: f*; old?; };',
  };

  for (const [label, script] of Object.entries(SCRIPTS)) {
    it(`assigns the same versions as ld.lld (${label} script)`, () => {
      const cc = requireTool('cc', 'gcc');
      const lld = requireTool('ld.lld', 'lld');
      const readelf = requireTool('readelf', 'binutils');
      const cxxfilt = requireTool('c++filt', 'binutils');
      const src = path.join(dir, 'syms.c');
      const obj = path.join(dir, 'syms.o');
      const map = path.join(dir, `${label}.map`);
      const so = path.join(dir, `lib${label}.so`);
      writeFileSync(src, SOURCE);
      writeFileSync(map, script);
      execFileSync(cc, ['-c', '-fPIC', '-O0', src, '-o', obj]);
      execFileSync(lld, ['-shared', `--version-script=${map}`, obj, '-o', so]);

      // lld's view: name -> "NAME@@VER" / "NAME" in .dynsym; absent means local.
      const dynsym = execFileSync(readelf, ['-W', '--dyn-syms', so], { encoding: 'utf8' });
      const lldView = new Map<string, string>();
      for (const line of dynsym.split('\n')) {
        const cols = line.trim().split(/\s+/);
        if (cols.length < 8 || !/^\d+:$/.test(cols[0]!)) continue;
        const [name, ver] = cols[7]!.split('@@');
        if (name !== undefined && name !== '') lldView.set(name, ver ?? '');
      }

      const demangled = execFileSync(cxxfilt, NAMES, { encoding: 'utf8' }).trim().split('\n');
      const demangle: Demangler = (s) => {
        const d = demangled[NAMES.indexOf(s)];
        return d === undefined || d === s ? null : d;
      };
      const parsed = parseVersionScript(script, map);
      const m = new VersionMatcher(parsed, demangle);
      const ours = new Map<string, string>();
      for (const name of NAMES) {
        const r = m.match(name);
        if (r !== null && r.local) continue;
        const v = r === null || r.version === 1 ? '' : parsed.versions[r.version - 2]!.name;
        ours.set(name, v);
      }
      const sorted = (x: Map<string, string>) => [...x].sort(([a], [b]) => a.localeCompare(b));
      expect(sorted(ours)).toEqual(
        sorted(new Map(NAMES.filter((n) => lldView.has(n)).map((n) => [n, lldView.get(n)!]))),
      );
    });
  }
});

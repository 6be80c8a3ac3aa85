import { LinkError, compileGlob, globSource, hasWildcard, unescapeGlob } from '@link/core';

/**
 * Version scripts (`--version-script=FILE`) and dynamic lists (`--dynamic-list=FILE`) as GNU ld and
 * lld accept them (GNU ld manual, "VERSION Command"; lld's ScriptParser and
 * `SymbolTable::scanVersionScript`).
 *
 * A version script is either one anonymous node, which only sets visibility:
 *
 *     { global: foo; bar*; local: *; };
 *
 * or named nodes, which also define versions, each optionally depending on earlier ones:
 *
 *     VERS_1 { global: foo; local: old*; };
 *     VERS_2 { bar; extern "C++" { ns::*; "f(int, double)"; }; } VERS_1;
 *
 * Syntax accepted (the union of GNU ld's and lld's where they agree on meaning):
 * - A node body is a list of `pattern;` entries, with `global:` / `local:` labels (also written
 *   `global :`) switching sections, in any order; entries before any label are global. Every entry
 *   ends in `;`, including the last one.
 * - `extern "C" { … };` and `extern "C++" { … };` (language case-insensitive, as GNU ld) hold
 *   patterns separated by `;`; the last `;` inside the braces may be left out. `extern "Java"` is an
 *   error (nothing here demangles Java).
 * - An unquoted pattern is a glob if it has an unescaped `*`, `?` or `[` (fnmatch syntax: `[!…]` /
 *   `[^…]` negate, ranges, `[:alpha:]`-style classes, `\` escapes; an unclosed `[` is literal);
 *   otherwise it is an exact name with its backslash escapes removed (GNU ld's `realsymbol`).
 *   A quoted pattern (`"foo*"`) is always an exact name, inside or outside `extern` (GNU ld; lld
 *   honours quotes only inside `extern`). Quoted strings have no escapes.
 * - `/* … *\/` comments and `#` to end of line.
 * - Named nodes end in `} PARENT… ;` with any number of parents (GNU ld; lld reads one); every
 *   parent must be a version defined earlier, else an error. A version defined twice is an error,
 *   and so is an anonymous node next to any other node (GNU ld: "anonymous version tag cannot be
 *   combined with other version tags"). An empty script is an error.
 *
 * A dynamic list is one or more `{ pattern; … };` blocks with the same entry syntax; `global:` is
 * accepted (lld) and `local:` is an error.
 *
 * Syntax errors are LinkErrors whose message starts with `file:line:`.
 */

/** Turns a mangled name into its demangled form; null when `mangled` is not a mangled name. */
export type Demangler = (mangled: string) => string | null;

export interface SymbolPattern {
  /** The name (exact) or glob, without quotes; exact names have their backslash escapes removed. */
  pattern: string;
  /** 'C++' patterns are matched against the demangled name. */
  lang: 'C' | 'C++';
  /** True for an unquoted pattern with an unescaped `*`, `?` or `[`. */
  wildcard: boolean;
  /** 1-based line in the file the pattern came from (0 for patterns not from a file). */
  line: number;
}

export interface VersionNode {
  /** The version name; '' for the anonymous node `{ … };`. */
  name: string;
  /**
   * The version index symbols matched by `globals` get: 1 (VER_NDX_GLOBAL, no version) for the
   * anonymous node, else 2 + the node's position in `VersionScript.versions`.
   */
  index: number;
  /** The versions this one depends on (`V2 { … } V1;`), in file order; all defined earlier. */
  parents: string[];
  globals: SymbolPattern[];
  locals: SymbolPattern[];
  file: string;
  line: number;
}

export interface VersionScript {
  /**
   * Version nodes in file order (over all files when scripts are chained through
   * `parseVersionScript`'s `previous`). Either exactly one anonymous node (name '', index 1), or
   * only named ones, where `versions[i].index === i + 2`.
   */
  versions: VersionNode[];
}

/** What a version script decides for one global symbol. */
export interface VersionMatch {
  /** True: the script makes the symbol local (hidden); `version` is then 0 (VER_NDX_LOCAL). */
  readonly local: boolean;
  /** 0 for local, 1 (VER_NDX_GLOBAL) for an unversioned global, else the version's index. */
  readonly version: number;
}

const VER_NDX_LOCAL = 0;
const VER_NDX_GLOBAL = 1;

// --- tokenizer ---

type TokenKind = 'word' | 'string' | 'punct' | 'eof';

interface Token {
  kind: TokenKind;
  text: string;
  line: number;
}

function isSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v';
}

/**
 * Words are runs of anything but whitespace, `{`, `}`, `;`, `"`, `#` and a comment start, so
 * `ns::f`, `operator<` and `[[:digit:]]` are one word each. A `:` (not `::`) is a token of its own
 * at the start of a token and right after a word `global` or `local`: `global:` is `global` `:`.
 */
function tokenize(text: string, file: string): Token[] {
  const out: Token[] = [];
  const n = text.length;
  let line = 1;
  let i = 0;
  const endsWord = (start: number, j: number): boolean => {
    const c = text[j]!;
    if (isSpace(c) || c === '{' || c === '}' || c === ';' || c === '"' || c === '#') return true;
    if (c === '/' && text[j + 1] === '*') return true;
    if (c !== ':' || text[j + 1] === ':') return false;
    const word = text.slice(start, j);
    return word === 'global' || word === 'local';
  };
  while (i < n) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      i++;
      continue;
    }
    if (isSpace(c)) {
      i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) throw new LinkError(`${file}:${line}: unclosed comment`);
      line += countNewlines(text, i, end);
      i = end + 2;
      continue;
    }
    if (c === '#') {
      const end = text.indexOf('\n', i);
      i = end < 0 ? n : end;
      continue;
    }
    if (c === '{' || c === '}' || c === ';' || (c === ':' && text[i + 1] !== ':')) {
      out.push({ kind: 'punct', text: c, line });
      i++;
      continue;
    }
    if (c === '"') {
      const end = text.indexOf('"', i + 1);
      if (end < 0) throw new LinkError(`${file}:${line}: unclosed quote`);
      out.push({ kind: 'string', text: text.slice(i + 1, end), line });
      line += countNewlines(text, i, end);
      i = end + 1;
      continue;
    }
    let j = i + 1;
    while (j < n && !endsWord(i, j)) j++;
    out.push({ kind: 'word', text: text.slice(i, j), line });
    i = j;
  }
  out.push({ kind: 'eof', text: '', line });
  return out;
}

function countNewlines(text: string, from: number, to: number): number {
  let k = 0;
  for (let i = text.indexOf('\n', from); i >= 0 && i < to; i = text.indexOf('\n', i + 1)) k++;
  return k;
}

function makePattern(
  text: string,
  quoted: boolean,
  lang: 'C' | 'C++',
  line: number,
): { pattern: SymbolPattern } | { error: string } {
  if (quoted || !hasWildcard(text)) {
    return {
      pattern: { pattern: quoted ? text : unescapeGlob(text), lang, wildcard: false, line },
    };
  }
  try {
    globSource(text);
  } catch (e) {
    return { error: `${(e as Error).message} in pattern '${text}'` };
  }
  return { pattern: { pattern: text, lang, wildcard: true, line } };
}

/**
 * A pattern given on the command line (`--export-dynamic-symbol=GLOB`): unquoted rules, so a glob
 * if it has an unescaped `*`, `?` or `[`. Throws a LinkError for a bad character class.
 */
export function parseSymbolPattern(text: string, lang: 'C' | 'C++' = 'C'): SymbolPattern {
  const r = makePattern(text, false, lang, 0);
  if ('error' in r) throw new LinkError(r.error);
  return r.pattern;
}

// --- parser ---

interface Body {
  globals: SymbolPattern[];
  locals: SymbolPattern[];
}

class Parser {
  private p = 0;

  constructor(
    private readonly toks: Token[],
    private readonly file: string,
  ) {}

  peek(k = 0): Token {
    return this.toks[Math.min(this.p + k, this.toks.length - 1)]!;
  }

  next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.p++;
    return t;
  }

  atEof(): boolean {
    return this.peek().kind === 'eof';
  }

  fail(line: number, msg: string): never {
    throw new LinkError(`${this.file}:${line}: ${msg}`);
  }

  static describe(t: Token): string {
    if (t.kind === 'eof') return 'end of file';
    if (t.kind === 'string') return `"${t.text}"`;
    return `'${t.text}'`;
  }

  isPunct(t: Token, c: string): boolean {
    return t.kind === 'punct' && t.text === c;
  }

  expect(c: string, what: string): Token {
    const t = this.next();
    if (!this.isPunct(t, c))
      this.fail(t.line, `expected '${c}' ${what}, found ${Parser.describe(t)}`);
    return t;
  }

  pattern(t: Token, lang: 'C' | 'C++'): SymbolPattern {
    const r = makePattern(t.text, t.kind === 'string', lang, t.line);
    if ('error' in r) this.fail(t.line, r.error);
    return r.pattern;
  }

  /** The entries after a `{`, through the closing `}`. */
  body(open: Token, allowLocal: boolean, context: string): Body {
    const res: Body = { globals: [], locals: [] };
    let cur = res.globals;
    for (;;) {
      const t = this.next();
      if (t.kind === 'eof')
        this.fail(t.line, `expected '}' to close the '{' of line ${open.line} in ${context}`);
      if (this.isPunct(t, '}')) return res;
      if (t.kind === 'word' && this.isPunct(this.peek(), ':')) {
        if (t.text === 'global' || t.text === 'local') {
          this.next();
          if (t.text === 'local' && !allowLocal)
            this.fail(t.line, `'local:' is not allowed in ${context}`);
          cur = t.text === 'global' ? res.globals : res.locals;
          continue;
        }
      }
      if (t.kind === 'word' && t.text === 'extern' && this.peek().kind === 'string') {
        this.externBlock(cur);
      } else if (t.kind === 'word' || t.kind === 'string') {
        cur.push(this.pattern(t, 'C'));
      } else {
        this.fail(
          t.line,
          `expected a symbol name or '}' in ${context}, found ${Parser.describe(t)}`,
        );
      }
      this.expect(';', `after ${Parser.describe(t)} in ${context}`);
    }
  }

  /** `extern "LANG" { … }` after the `extern`; the `;` after it is left to the caller. */
  externBlock(into: SymbolPattern[]): void {
    const langTok = this.next();
    const l = langTok.text.toUpperCase();
    let lang: 'C' | 'C++';
    if (l === 'C') lang = 'C';
    else if (l === 'C++') lang = 'C++';
    else if (l === 'JAVA') this.fail(langTok.line, `extern "${langTok.text}" is not supported`);
    else this.fail(langTok.line, `unknown language "${langTok.text}" in extern`);
    const open = this.expect('{', `after extern "${langTok.text}"`);
    for (;;) {
      const t = this.next();
      if (this.isPunct(t, '}')) return;
      if (t.kind === 'word' || t.kind === 'string') {
        into.push(this.pattern(t, lang));
      } else if (t.kind === 'eof') {
        this.fail(t.line, `expected '}' to close the extern block of line ${open.line}`);
      } else {
        this.fail(
          t.line,
          `expected a symbol name or '}' in extern block, found ${Parser.describe(t)}`,
        );
      }
      if (this.isPunct(this.peek(), '}')) {
        this.next();
        return;
      }
      this.expect(';', `after ${Parser.describe(t)} in extern block`);
    }
  }
}

/**
 * Parses a version script. Pass the result for earlier `--version-script` files as `previous` to
 * get one script over all of them (as GNU ld and lld do with repeated options): versions then
 * continue numbering, parents may name versions of earlier files, and the duplicate and anonymous
 * checks span the files. `previous` is not modified.
 */
export function parseVersionScript(
  text: string,
  file: string,
  previous?: VersionScript,
): VersionScript {
  const ps = new Parser(tokenize(text, file), file);
  const versions = previous ? [...previous.versions] : [];
  const byName = new Map<string, VersionNode>();
  for (const v of versions) byName.set(v.name, v);
  const before = versions.length;
  const anonymousMix = (line: number): never =>
    ps.fail(line, 'anonymous version tag cannot be combined with other version tags');
  while (!ps.atEof()) {
    const t = ps.next();
    if (ps.isPunct(t, '{')) {
      if (versions.length > 0) anonymousMix(t.line);
      const body = ps.body(t, true, 'version script');
      ps.expect(';', "after '}' of the anonymous version node");
      const node = { name: '', index: VER_NDX_GLOBAL, parents: [], ...body, file, line: t.line };
      versions.push(node);
      byName.set('', node);
      continue;
    }
    if (t.kind !== 'word')
      ps.fail(
        t.line,
        `expected a version name or '{' in version script, found ${Parser.describe(t)}`,
      );
    if (byName.has('')) anonymousMix(t.line);
    const dup = byName.get(t.text);
    if (dup)
      ps.fail(
        t.line,
        `duplicate version tag '${t.text}' (first defined at ${dup.file}:${dup.line})`,
      );
    const open = ps.expect('{', `after version name '${t.text}'`);
    const body = ps.body(open, true, `version node '${t.text}'`);
    const parents: string[] = [];
    while (ps.peek().kind === 'word') {
      const d = ps.next();
      if (!byName.has(d.text))
        ps.fail(d.line, `unknown version dependency '${d.text}' of version '${t.text}'`);
      parents.push(d.text);
    }
    ps.expect(';', `after version node '${t.text}'`);
    const node: VersionNode = {
      name: t.text,
      index: versions.length + 2,
      parents,
      ...body,
      file,
      line: t.line,
    };
    versions.push(node);
    byName.set(node.name, node);
  }
  if (versions.length === before) ps.fail(ps.peek().line, 'version script defines no version node');
  return { versions };
}

// --- matching ---

interface Exact<T> {
  value: T;
  rank: number;
}

/**
 * Exact names in Maps (first added wins) and globs compiled once, tried in the order added (first
 * match wins); an exact match beats any glob. C++ patterns see the demangled name, computed at most
 * once per lookup and only if the set has C++ patterns; without a demangler they are dropped.
 */
class PatternSet<T> {
  private readonly exact = new Map<string, Exact<T>>();
  private readonly exactCxx = new Map<string, Exact<T>>();
  private readonly globs: { cxx: boolean; test: (s: string) => boolean; value: T }[] = [];
  private rank = 0;

  constructor(private readonly demangle: Demangler | undefined) {}

  add(p: SymbolPattern, value: T): void {
    const cxx = p.lang === 'C++';
    if (cxx && !this.demangle) return;
    if (p.wildcard) {
      this.globs.push({ cxx, test: compileGlob(p.pattern), value });
      return;
    }
    const map = cxx ? this.exactCxx : this.exact;
    if (!map.has(p.pattern)) map.set(p.pattern, { value, rank: this.rank });
    this.rank++;
  }

  lookup(name: string): T | undefined {
    let best = this.exact.get(name);
    let demangled: string | null | undefined;
    if (this.exactCxx.size > 0) {
      demangled = this.demangle!(name);
      const e = demangled === null ? undefined : this.exactCxx.get(demangled);
      if (e && (!best || e.rank < best.rank)) best = e;
    }
    if (best) return best.value;
    for (const g of this.globs) {
      if (g.cxx) {
        if (demangled === undefined) demangled = this.demangle!(name);
        if (demangled !== null && g.test(demangled)) return g.value;
      } else if (g.test(name)) {
        return g.value;
      }
    }
    return undefined;
  }
}

const LOCAL: VersionMatch = Object.freeze({ local: true, version: VER_NDX_LOCAL });

/**
 * Decides symbol versions and visibility from a version script, with lld's precedence:
 * 1. exact names (quoted, or without wildcards): the first one in file order wins — versions in
 *    order, and in each version its `global:` names before its `local:` ones;
 * 2. globs other than a lone `*`: later versions win over earlier ones; within a version, `global:`
 *    before `local:`, then file order;
 * 3. a lone `*` (usually `local: *;`), in the same order as 2.
 *
 * Where GNU ld differs: it tries every version's `global:` globs before any `local:` glob (so
 * `V2 { [ab]1; }; V3 { local: b*; };` keeps `b1` in V2, where lld and this make it local), and it
 * rejects a name listed exactly as both global and local (lld warns and keeps the first; so does
 * this, silently).
 *
 * C++ patterns (`extern "C++"`) match the demangled name from `demangle`; a name it returns null
 * for is matched by no C++ pattern (GNU ld; lld also matches a name that does not demangle as
 * itself — pass `(s) => demangle(s) ?? s` for that). Without `demangle`, C++ patterns match
 * nothing. `match` takes the bare name: `foo`, not `foo@VER`.
 */
export class VersionMatcher {
  private readonly set: PatternSet<VersionMatch>;
  private readonly indexByName = new Map<string, number>();

  constructor(script: VersionScript, demangle?: Demangler) {
    this.set = new PatternSet(demangle);
    const nodes = script.versions;
    const globalOf = nodes.map((v) => Object.freeze({ local: false, version: v.index }));
    for (const v of nodes) if (v.name !== '') this.indexByName.set(v.name, v.index);
    nodes.forEach((v, i) => {
      for (const p of v.globals) if (!p.wildcard) this.set.add(p, globalOf[i]!);
      for (const p of v.locals) if (!p.wildcard) this.set.add(p, LOCAL);
    });
    for (const catchAll of [false, true]) {
      for (let i = nodes.length - 1; i >= 0; i--) {
        const v = nodes[i]!;
        const pick = (p: SymbolPattern) => p.wildcard && (p.pattern === '*') === catchAll;
        for (const p of v.globals) if (pick(p)) this.set.add(p, globalOf[i]!);
        for (const p of v.locals) if (pick(p)) this.set.add(p, LOCAL);
      }
    }
  }

  /** The decision for a global symbol, or null when no pattern names it. */
  match(name: string): VersionMatch | null {
    return this.set.lookup(name) ?? null;
  }

  /** The index of a named version (for `foo@VER` / `foo@@VER` names), or undefined. */
  versionIndex(versionName: string): number | undefined {
    return this.indexByName.get(versionName);
  }
}

/**
 * The symbols a dynamic list names: with `-shared` they stay preemptible, in an executable they
 * are exported. C++ patterns work as in VersionMatcher. Several `--dynamic-list` files (and
 * `--export-dynamic-symbol` patterns, via `parseSymbolPattern`) combine as
 * `new DynamicList([...a.patterns, ...b.patterns], demangle)`.
 */
export class DynamicList {
  private readonly set: PatternSet<true>;

  constructor(
    readonly patterns: readonly SymbolPattern[],
    demangle?: Demangler,
  ) {
    this.set = new PatternSet(demangle);
    for (const p of patterns) this.set.add(p, true);
  }

  matches(name: string): boolean {
    return this.set.lookup(name) !== undefined;
  }
}

/** Parses a dynamic list: `{ sym; glob*; extern "C++" { … }; };`, one or more such blocks. */
export function parseDynamicList(text: string, file: string, demangle?: Demangler): DynamicList {
  const ps = new Parser(tokenize(text, file), file);
  const patterns: SymbolPattern[] = [];
  if (ps.atEof()) ps.fail(ps.peek().line, 'dynamic list is empty');
  while (!ps.atEof()) {
    const open = ps.expect('{', 'to start a dynamic list');
    patterns.push(...ps.body(open, false, 'dynamic list').globals);
    ps.expect(';', "after '}' of the dynamic list");
  }
  return new DynamicList(patterns, demangle);
}

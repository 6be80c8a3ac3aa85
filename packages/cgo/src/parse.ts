/**
 * The cgo directive text format: what `go tool cgo -dynimport BIN -dynout FILE` writes
 * (`package main`, then `//go:cgo_import_dynamic ...` lines) and, more generally, Go's cgo
 * directive language as the compiler accepts it (`cmd/compile/internal/noder`, `pragcgo`) and
 * the linker applies it (`cmd/link/internal/ld`, `setCgoAttr`).
 *
 * A line is one directive, written bare (`cgo_ldflag "-lm"`) or as a Go directive comment
 * (`//go:cgo_ldflag "-lm"`). Blank lines, `//` comments and `package NAME` clauses are skipped.
 * Other `//go:` directives (`//go:build`, `//go:cgo_unsafe_args`, ...) are not linker directives
 * and are skipped too; an unknown `cgo_*` verb is an error either way.
 */
import { LinkError } from '@link/core';
import type { CgoDirective, LocatedCgoDirective } from './types.js';

/** One argument of a directive line. */
export interface DirectiveField {
  /** The argument, escapes decoded for a quoted one. */
  text: string;
  /** Written as a double-quoted string (the arity rules below depend on it, as in Go). */
  quoted: boolean;
}

const GO_PREFIX = '//go:';

/** Go's `isSpace` in the compiler's directive lexer: no other whitespace separates fields. */
function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/** Thrown inside the lexer, turned into a `file:line:` diagnostic by the caller. */
class FieldError extends Error {}

/**
 * Splits a directive line into fields the way Go's `pragmaFields` does: fields are separated by
 * spaces, tabs and CRs; a `"` starts a quoted field wherever it appears (`a"b"` is `a`, `"b"`)
 * and the closing `"` ends it. Unlike `pragmaFields`, which keeps the bytes between the quotes
 * as they are, a quoted field is a Go interpreted string literal (`\"`, `\\`, `\n`, `\x41`,
 * `\101`, `\u00e9`, ...): that is what `cgo -dynimport` writes with `%q`, so names with quotes,
 * backslashes or control bytes round-trip. An unterminated string or a bad escape throws, with
 * the Go scanner's wording.
 */
export function splitDirectiveFields(s: string): DirectiveField[] {
  const out: DirectiveField[] = [];
  let i = 0;
  const n = s.length;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    if (c === 0x22) {
      const [text, end] = quotedString(s, i + 1);
      out.push({ text, quoted: true });
      i = end;
      continue;
    }
    const start = i;
    while (i < n) {
      const d = s.charCodeAt(i);
      if (isSpace(d) || d === 0x22) break;
      i++;
    }
    out.push({ text: s.slice(start, i), quoted: false });
  }
  return out;
}

const SIMPLE_ESCAPES: Record<string, number> = {
  a: 0x07,
  b: 0x08,
  f: 0x0c,
  n: 0x0a,
  r: 0x0d,
  t: 0x09,
  v: 0x0b,
  '\\': 0x5c,
  '"': 0x22,
};

/** Decodes a Go string literal body starting at `i` (after the `"`); returns it and the index after the closing `"`. */
function quotedString(s: string, i: number): [string, number] {
  let out = '';
  const n = s.length;
  while (i < n) {
    const ch = s[i]!;
    if (ch === '"') return [out, i + 1];
    if (ch !== '\\') {
      out += ch;
      i++;
      continue;
    }
    i++;
    if (i >= n) break;
    const e = s[i]!;
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      out += String.fromCharCode(simple);
      i++;
      continue;
    }
    let digits: number;
    let base: number;
    let max: number;
    if (e >= '0' && e <= '7') {
      digits = 3;
      base = 8;
      max = 255;
    } else if (e === 'x') {
      digits = 2;
      base = 16;
      max = 255;
      i++;
    } else if (e === 'u' || e === 'U') {
      digits = e === 'u' ? 4 : 8;
      base = 16;
      max = 0x10ffff;
      i++;
    } else {
      throw new FieldError('unknown escape');
    }
    let x = 0;
    for (let k = 0; k < digits; k++) {
      if (i >= n) throw new FieldError('string not terminated');
      const d = digitValue(s.charCodeAt(i));
      if (d >= base) {
        throw new FieldError(
          `invalid character ${goQuoteRune(s.charCodeAt(i))} in ${base === 8 ? 'octal' : 'hexadecimal'} escape`,
        );
      }
      x = x * base + d;
      i++;
    }
    if (base === 8 && x > max) throw new FieldError(`octal escape value ${x} > 255`);
    if (x > max || (x >= 0xd800 && x < 0xe000)) {
      throw new FieldError(
        `escape is invalid Unicode code point U+${x.toString(16).toUpperCase().padStart(4, '0')}`,
      );
    }
    // \x and octal escapes are bytes; \u and \U are code points, stored as their UTF-8 bytes.
    out += e === 'u' || e === 'U' ? utf8Bytes(x) : String.fromCharCode(x);
  }
  throw new FieldError('string not terminated');
}

function digitValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return 99;
}

function utf8Bytes(cp: number): string {
  const b = Buffer.from(String.fromCodePoint(cp), 'utf8');
  return b.toString('latin1');
}

/** Go's `%q` of a rune, for the characters a latin1 line can hold. */
function goQuoteRune(c: number): string {
  if (c === 0x27) return `'\\''`;
  if (c === 0x5c) return `'\\\\'`;
  if (c >= 0x20 && c < 0x7f) return `'${String.fromCharCode(c)}'`;
  const named = Object.entries(SIMPLE_ESCAPES).find(([k, v]) => v === c && k !== '"');
  if (named) return `'\\${named[0]}'`;
  return `'\\x${c.toString(16).padStart(2, '0')}'`;
}

/** Go's `%q` of a string (`strconv.Quote`), for byte strings; non-ASCII bytes as `\xNN`. */
export function goQuote(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c >= 0x20 && c < 0x7f) out += s[i];
    else {
      const named = Object.entries(SIMPLE_ESCAPES).find(([k, v]) => v === c && k !== '"');
      out += named ? `\\${named[0]}` : `\\x${c.toString(16).padStart(2, '0')}`;
    }
  }
  return out + '"';
}

/** The usage line of each verb, as the Go compiler words it (without its `//go:`). */
export const CGO_USAGE = {
  cgo_import_dynamic: 'cgo_import_dynamic local [remote ["library"]]',
  cgo_import_static: 'cgo_import_static local',
  cgo_export_dynamic: 'cgo_export_dynamic local [remote]',
  cgo_export_static: 'cgo_export_static local [remote]',
  cgo_dynamic_linker: 'cgo_dynamic_linker "path"',
  cgo_ldflag: 'cgo_ldflag "arg"',
} as const;

type Verb = keyof typeof CGO_USAGE;

function isVerb(s: string): s is Verb {
  return Object.prototype.hasOwnProperty.call(CGO_USAGE, s);
}

/** Splits `name#VERSION` at the first `#`, as Go's linker does; an empty version is none. */
export function splitVersion(remote: string): { name: string; version: string | null } {
  const i = remote.indexOf('#');
  if (i < 0) return { name: remote, version: null };
  const version = remote.slice(i + 1);
  return { name: remote.slice(0, i), version: version === '' ? null : version };
}

/**
 * Parses a cgo directive file. Every malformed line is reported (Go keeps going too): the
 * `LinkError` carries one `file:line: message` per bad line, worded as Go words it — the
 * compiler's `usage: ...` for a wrong argument list (with `//go:` when the line had it), the
 * linker's `invalid cgo directive: [...]` for an unknown verb, the scanner's wording for a bad
 * string literal.
 *
 * `text` is a byte string (decode files as latin1). Lines end at `\n`; a NUL byte also ends a
 * line, so NUL-padded or `.asciz`-built object sections parse the same.
 */
export function parseCgoDirectives(text: string, file: string): LocatedCgoDirective[] {
  const out: LocatedCgoDirective[] = [];
  const errors: string[] = [];
  const lines = text.split(/\n|\0/);
  for (let idx = 0; idx < lines.length; idx++) {
    const lineNo = idx + 1;
    const where = `${file}:${lineNo}`;
    let line = lines[idx]!;
    let start = 0;
    while (start < line.length && isSpace(line.charCodeAt(start))) start++;
    line = line.slice(start);
    if (line === '') continue;
    let prefixed = false;
    if (line.startsWith(GO_PREFIX)) {
      prefixed = true;
      line = line.slice(GO_PREFIX.length);
      // `//go: x` is not a directive to Go (the verb must follow `//go:` directly).
      if (line === '' || isSpace(line.charCodeAt(0))) continue;
      // Another Go directive (or cgo_unsafe_args, a function pragma): not for the linker, and
      // not split, so its own syntax (`//go:generate echo "x`) is no concern here.
      let end = 0;
      while (end < line.length && !isSpace(line.charCodeAt(end))) end++;
      const verb = line.slice(0, end);
      if (!verb.startsWith('cgo_') || verb === 'cgo_unsafe_args') continue;
    } else if (line.startsWith('//')) {
      continue;
    }
    let fields: DirectiveField[];
    try {
      fields = splitDirectiveFields(line);
    } catch (err) {
      if (err instanceof FieldError) {
        errors.push(`${where}: ${err.message}`);
        continue;
      }
      throw err;
    }
    if (fields.length === 0) continue;
    const verb = fields[0]!;
    const source = { file, line: lineNo };
    if (!verb.quoted && isVerb(verb.text)) {
      const d = directive(verb.text, fields.slice(1));
      if (d === null) {
        errors.push(`${where}: usage: ${prefixed ? GO_PREFIX : ''}${CGO_USAGE[verb.text]}`);
      } else {
        out.push({ ...d, source });
      }
      continue;
    }
    if (
      !prefixed &&
      !verb.quoted &&
      verb.text === 'package' &&
      fields.length === 2 &&
      !fields[1]!.quoted
    ) {
      continue; // the `package main` clause `cgo -dynout` starts with
    }
    errors.push(
      `${where}: invalid cgo directive: [${fields.map((f) => goQuote(f.text)).join(' ')}]`,
    );
  }
  if (errors.length > 0) throw new LinkError(errors);
  return out;
}

/** Checks the arguments of one directive against Go's arity and quoting rules; `null` = usage error. */
function directive(verb: Verb, args: DirectiveField[]): CgoDirective | null {
  const bare = (k: number): boolean => k < args.length && !args[k]!.quoted;
  const quoted = (k: number): boolean => k < args.length && args[k]!.quoted;
  switch (verb) {
    case 'cgo_import_dynamic': {
      const ok =
        (args.length === 1 && bare(0)) ||
        (args.length === 2 && bare(0) && bare(1)) ||
        (args.length === 3 && bare(0) && bare(1) && quoted(2));
      if (!ok) return null;
      const local = args[0]!.text;
      // Go's linker: remote defaults to local, then `name#VERSION` is split.
      const split = splitVersion(args.length > 1 ? args[1]!.text : local);
      const library = args.length > 2 && args[2]!.text !== '' ? args[2]!.text : null;
      return {
        kind: verb,
        local,
        remote: args.length > 1 ? split.name : null,
        version: split.version,
        library,
      };
    }
    case 'cgo_import_static':
      return args.length === 1 && bare(0) ? { kind: verb, local: args[0]!.text } : null;
    case 'cgo_export_dynamic':
    case 'cgo_export_static': {
      const ok = (args.length === 1 && bare(0)) || (args.length === 2 && bare(0) && bare(1));
      if (!ok) return null;
      return { kind: verb, local: args[0]!.text, remote: args.length > 1 ? args[1]!.text : null };
    }
    case 'cgo_dynamic_linker':
      return args.length === 1 && quoted(0) ? { kind: verb, path: args[0]!.text } : null;
    case 'cgo_ldflag':
      return args.length === 1 && quoted(0) ? { kind: verb, flag: args[0]!.text } : null;
  }
}

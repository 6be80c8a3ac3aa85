/**
 * fnmatch-style globs for symbol names (`*`, `?`, bracket expressions with ranges, negation and
 * POSIX classes, backslash escapes), as GNU ld's version scripts and dynamic lists and ld64's
 * exported-symbol lists write them. Format-neutral: each format's option parser decides which of
 * its names are globs.
 */

const POSIX_CLASSES: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  blank: ' \\t',
  cntrl: '\\x00-\\x1f\\x7f',
  digit: '0-9',
  graph: '\\x21-\\x7e',
  lower: 'a-z',
  print: '\\x20-\\x7e',
  punct: '!-\\/:-@\\[-`{-~',
  space: ' \\t\\n\\v\\f\\r',
  upper: 'A-Z',
  xdigit: '0-9A-Fa-f',
};

function escapeOutside(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? '\\' + c : c;
}

function escapeInClass(c: string): string {
  return c === '\\' || c === ']' || c === '[' || c === '^' || c === '-' ? '\\' + c : c;
}

/** True if `s` has an unescaped `*`, `?` or `[`. */
export function hasWildcard(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') i++;
    else if (c === '*' || c === '?' || c === '[') return true;
  }
  return false;
}

/** `s` with its backslash escapes removed (an exact name written in glob syntax). */
export function unescapeGlob(s: string): string {
  return s.includes('\\') ? s.replace(/\\(.)/gs, '$1') : s;
}

/** The anchored RegExp source for an fnmatch glob (no flags); throws an Error on a bad class. */
export function globSource(glob: string): string {
  let re = '';
  const n = glob.length;
  let i = 0;
  while (i < n) {
    const c = glob[i]!;
    if (c === '*') {
      re += '[^]*';
      i++;
    } else if (c === '?') {
      re += '[^]';
      i++;
    } else if (c === '\\' && i + 1 < n) {
      re += escapeOutside(glob[i + 1]!);
      i += 2;
    } else if (c === '[') {
      const cls = bracket(glob, i);
      if (cls === null) {
        re += '\\[';
        i++;
      } else {
        re += cls.source;
        i = cls.end;
      }
    } else {
      re += escapeOutside(c);
      i++;
    }
  }
  return `^(?:${re})$`;
}

/** The bracket expression at `glob[start] === '['`, or null if it is not closed (then literal). */
function bracket(glob: string, start: number): { source: string; end: number } | null {
  const n = glob.length;
  let j = start + 1;
  let negate = false;
  if (glob[j] === '!' || glob[j] === '^') {
    negate = true;
    j++;
  }
  let body = '';
  let first = true;
  // One member: a possibly escaped character. Returns [char, next index].
  const member = (k: number): [string, number] =>
    glob[k] === '\\' && k + 1 < n ? [glob[k + 1]!, k + 2] : [glob[k]!, k + 1];
  for (;;) {
    if (j >= n) return null;
    if (glob[j] === ']' && !first) break;
    first = false;
    if (glob[j] === '[' && glob[j + 1] === ':') {
      const close = glob.indexOf(':]', j + 2);
      if (close >= 0) {
        const name = glob.slice(j + 2, close);
        const cls = POSIX_CLASSES[name];
        if (cls === undefined) throw new Error(`unknown character class [:${name}:]`);
        body += cls;
        j = close + 2;
        continue;
      }
    }
    const [lo, afterLo] = member(j);
    j = afterLo;
    if (glob[j] === '-' && j + 1 < n && glob[j + 1] !== ']') {
      const [hi, afterHi] = member(j + 1);
      j = afterHi;
      // fnmatch: a reversed range matches nothing (a RegExp would reject it).
      if (lo <= hi) body += `${escapeInClass(lo)}-${escapeInClass(hi)}`;
    } else {
      body += escapeInClass(lo);
    }
  }
  return { source: `[${negate ? '^' : ''}${body}]`, end: j + 1 };
}

/** A predicate for a glob: string tests for the common `*`, `p*`, `*s`, `*x*` shapes, else a RegExp. */
export function compileGlob(glob: string): (s: string) => boolean {
  if (!/[?[\\]/.test(glob)) {
    const parts = glob.split('*');
    if (parts.every((p) => p === '')) return () => true;
    if (parts.length === 2 && parts[1] === '') {
      const prefix = parts[0]!;
      return (s) => s.startsWith(prefix);
    }
    if (parts.length === 2 && parts[0] === '') {
      const suffix = parts[1]!;
      return (s) => s.endsWith(suffix);
    }
    if (parts.length === 3 && parts[0] === '' && parts[2] === '') {
      const infix = parts[1]!;
      return (s) => s.includes(infix);
    }
  }
  const re = new RegExp(globSource(glob));
  return (s) => re.test(s);
}

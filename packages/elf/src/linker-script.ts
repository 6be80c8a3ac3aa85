import { LinkError } from '@link/core';

/**
 * The GNU linker-script subset that system libraries use as inputs: `libc.so` and `libm.a` on
 * Debian are scripts like `GROUP ( /lib/libc.so.6 /usr/lib/libc_nonshared.a AS_NEEDED ( … ) )`.
 * Supported commands: GROUP, INPUT, AS_NEEDED, OUTPUT_FORMAT, OUTPUT_ARCH, SEARCH_DIR, ENTRY.
 * Anything else (SECTIONS, MEMORY, …) is an error naming the command.
 */
export interface ScriptInput {
  /** A path, or `-lname` for a library to search. */
  path: string;
  asNeeded: boolean;
}

export interface ScriptResult {
  inputs: ScriptInput[];
  searchDirs: string[];
  entry: string | null;
}

function tokenize(text: string, file: string): string[] {
  const out: string[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) throw new LinkError(`${file}: unclosed comment in linker script`);
      i = end + 2;
      continue;
    }
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '(' || c === ')' || c === ',' || c === ';') {
      out.push(c);
      i++;
      continue;
    }
    if (c === '"') {
      const end = text.indexOf('"', i + 1);
      if (end < 0) throw new LinkError(`${file}: unclosed quote in linker script`);
      out.push(text.slice(i + 1, end));
      i = end + 1;
      continue;
    }
    let j = i;
    while (j < n && !/[\s(),;"]/.test(text[j]!) && !(text[j] === '/' && text[j + 1] === '*')) j++;
    out.push(text.slice(i, j));
    i = j;
  }
  return out;
}

export function parseLinkerScript(text: string, file: string): ScriptResult {
  const toks = tokenize(text, file);
  const res: ScriptResult = { inputs: [], searchDirs: [], entry: null };
  let p = 0;
  const expect = (t: string) => {
    if (toks[p] !== t)
      throw new LinkError(
        `${file}: expected '${t}' in linker script, found '${toks[p] ?? 'end of file'}'`,
      );
    p++;
  };
  const fileList = (asNeeded: boolean) => {
    expect('(');
    while (p < toks.length && toks[p] !== ')') {
      const t = toks[p++]!;
      if (t === ',') continue;
      if (t === 'AS_NEEDED') {
        fileList(true);
        continue;
      }
      res.inputs.push({ path: t, asNeeded });
    }
    expect(')');
  };
  const skipParens = () => {
    expect('(');
    let depth = 1;
    while (p < toks.length && depth > 0) {
      const t = toks[p++];
      if (t === '(') depth++;
      else if (t === ')') depth--;
    }
  };
  while (p < toks.length) {
    const cmd = toks[p++]!;
    switch (cmd) {
      case ';':
        break;
      case 'GROUP':
      case 'INPUT':
        fileList(false);
        break;
      case 'OUTPUT_FORMAT':
      case 'OUTPUT_ARCH':
        skipParens();
        break;
      case 'SEARCH_DIR':
        expect('(');
        res.searchDirs.push(toks[p++] ?? '');
        expect(')');
        break;
      case 'ENTRY':
        expect('(');
        res.entry = toks[p++] ?? null;
        expect(')');
        break;
      default:
        throw new LinkError(`${file}: linker script command ${cmd} is not supported`);
    }
  }
  return res;
}

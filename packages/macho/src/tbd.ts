import { LinkError } from '@link/core';

/** What a dylib offers the link: its install name, versions and exported symbols. */
export interface DylibInterface {
  installName: string;
  /** Packed as in `dylib_command` (xxxx.yy.zz → x<<16 | y<<8 | z). */
  currentVersion: number;
  compatVersion: number;
  exports: string[];
  weakExports: string[];
  tlvExports: string[];
  /**
   * The install names of the dylibs it loads (`LC_LOAD_DYLIB`, `LC_LOAD_WEAK_DYLIB`,
   * `LC_REEXPORT_DYLIB`), in load-command order; read from binary images only.
   */
  loads?: string[];
}

export function parseVersion(s: string): number {
  const parts = s.split('.').map((x) => Number.parseInt(x, 10) || 0);
  return ((parts[0] ?? 0) << 16) | ((parts[1] ?? 0) << 8) | (parts[2] ?? 0);
}

/** Reads a YAML flow list `[ a, 'b', c ]` starting at `text[i]` = '['; returns items and end. */
function flowList(text: string, i: number, file: string): [string[], number] {
  const close = text.indexOf(']', i);
  if (close < 0) throw new LinkError(`${file}: malformed TAPI stub: unterminated list`);
  const items = text
    .slice(i + 1, close)
    .split(',')
    .map((x) =>
      x
        .trim()
        .replace(/^'(.*)'$/, '$1')
        .replace(/^"(.*)"$/, '$1'),
    )
    .filter((x) => x.length > 0);
  return [items, close + 1];
}

/**
 * Parses a TAPI text stub (`.tbd`, v3 and v4): the YAML subset Apple's SDK stubs use. Only the
 * exports for `arch` (`x86_64`) count; every document's exports are taken, because the SDK's
 * umbrella stubs list their re-exported sub-libraries as further documents.
 */
export function parseTbd(text: string, file: string, arch = 'x86_64'): DylibInterface {
  if (!/^---\s*!tapi-tbd/m.test(text) && !/^---/m.test(text))
    throw new LinkError(`${file}: not a TAPI text stub (no '--- !tapi-tbd' document)`);
  const out: DylibInterface = {
    installName: '',
    currentVersion: 0x10000,
    compatVersion: 0x10000,
    exports: [],
    weakExports: [],
    tlvExports: [],
  };
  let section = '';
  let itemMatches = false;
  let firstDoc = true;
  let i = 0;
  const n = text.length;
  while (i < n) {
    let eol = text.indexOf('\n', i);
    if (eol < 0) eol = n;
    const line = text.slice(i, eol);
    let next = eol + 1;
    if (line.startsWith('---') && i > 0) firstDoc = false;
    const m = /^(\s*)(- )?([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
    if (m) {
      const indent = m[1]!.length;
      const key = m[3]!;
      const rest = m[4]!;
      let value: string | string[] = rest.replace(/^'(.*)'$/, '$1');
      if (rest.startsWith('[')) {
        const start = i + line.indexOf('[');
        const [items, end] = flowList(text, start, file);
        value = items;
        const nl = text.indexOf('\n', end);
        next = nl < 0 ? n : nl + 1;
      }
      if (indent === 0 && !m[2]) {
        section = key;
        if (firstDoc && key === 'install-name') out.installName = value as string;
        if (firstDoc && key === 'current-version') out.currentVersion = parseVersion(String(value));
        if (firstDoc && key === 'compatibility-version')
          out.compatVersion = parseVersion(String(value));
      } else if (section === 'exports' || section === 'reexports') {
        if (key === 'targets' || key === 'archs') {
          const list = Array.isArray(value) ? value : [value];
          itemMatches = list.some((t) => t === arch || t.startsWith(`${arch}-`));
        } else if (itemMatches && Array.isArray(value)) {
          if (key === 'symbols') out.exports.push(...value);
          else if (key === 'weak-symbols' || key === 'weak-def-symbols')
            out.weakExports.push(...value);
          else if (key === 'thread-local-symbols') out.tlvExports.push(...value);
          else if (key === 'objc-classes')
            for (const c of value) out.exports.push(`_OBJC_CLASS_$_${c}`, `_OBJC_METACLASS_$_${c}`);
          else if (key === 'objc-ivars')
            for (const c of value) out.exports.push(`_OBJC_IVAR_$_${c}`);
          else if (key === 'objc-eh-types')
            for (const c of value) out.exports.push(`_OBJC_EHTYPE_$_${c}`);
        }
      }
    }
    i = next;
  }
  if (out.installName === '') throw new LinkError(`${file}: malformed TAPI stub: no install-name`);
  return out;
}

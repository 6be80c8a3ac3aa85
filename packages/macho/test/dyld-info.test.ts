import { describe, expect, it } from 'vitest';
import {
  ByteSink,
  encodeBinds,
  encodeExportTrie,
  encodeLazyBinds,
  encodeRebases,
  parseTbd,
  type BindEntry,
} from '../src/index.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixtures } from './clang.js';

function uleb(b: Uint8Array, p: { i: number }): number {
  let r = 0;
  let mul = 1;
  for (;;) {
    const x = b[p.i++]!;
    r += (x & 0x7f) * mul;
    mul *= 128;
    if (!(x & 0x80)) return r;
  }
}

/** Rebase interpreter with dyld's semantics, to check the encoder round-trips. */
function decodeRebases(b: Uint8Array): [number, number][] {
  const out: [number, number][] = [];
  const p = { i: 0 };
  let seg = 0;
  let off = 0;
  while (p.i < b.length) {
    const op = b[p.i]! & 0xf0;
    const imm = b[p.i++]! & 0xf;
    if (op === 0x00) break;
    else if (op === 0x10) continue;
    else if (op === 0x20) {
      seg = imm;
      off = uleb(b, p);
    } else if (op === 0x30) off += uleb(b, p);
    else if (op === 0x40) off += imm * 8;
    else if (op === 0x50) for (let k = 0; k < imm; k++, off += 8) out.push([seg, off]);
    else if (op === 0x60) for (let k = uleb(b, p); k > 0; k--, off += 8) out.push([seg, off]);
    else throw new Error(`unexpected rebase opcode ${op}`);
  }
  return out;
}

describe('LEB128', () => {
  it('encodes the DWARF examples', () => {
    const s = new ByteSink();
    s.uleb(624485);
    s.sleb(-123456);
    s.sleb(63);
    s.sleb(64);
    expect([...s.bytes()]).toEqual([0xe5, 0x8e, 0x26, 0xc0, 0xbb, 0x78, 0x3f, 0xc0, 0x00]);
  });
});

describe('rebase opcodes', () => {
  it('round-trips runs, gaps, long runs and several segments', () => {
    const locs: [number, number][] = [];
    for (let k = 0; k < 20; k++) locs.push([2, 0x10 + k * 8]); // a run longer than 15
    locs.push([2, 0x200], [2, 0x1000], [2, 0x1008]);
    locs.push([3, 0], [3, 0x18]);
    const seg = Int32Array.from(locs.map((l) => l[0]));
    const off = Float64Array.from(locs.map((l) => l[1]));
    const bytes = encodeRebases(seg, off, locs.length);
    expect(bytes.length % 8).toBe(0);
    expect(decodeRebases(bytes)).toEqual(locs);
    expect(bytes.length).toBeLessThan(locs.length * 2); // runs are compressed
  });
});

describe('bind opcodes', () => {
  function decodeBinds(b: Uint8Array, lazy: boolean): BindEntry[] {
    const out: BindEntry[] = [];
    const p = { i: 0 };
    let seg = 0;
    let off = 0;
    let ordinal = 0;
    let name = '';
    let addend = 0;
    let flags = 0;
    while (p.i < b.length) {
      const op = b[p.i]! & 0xf0;
      const imm = b[p.i++]! & 0xf;
      if (op === 0x00) {
        if (!lazy) break;
      } else if (op === 0x10) ordinal = imm;
      else if (op === 0x30) ordinal = imm ? imm | ~0xf : 0;
      else if (op === 0x40) {
        flags = imm;
        const end = b.indexOf(0, p.i);
        name = String.fromCharCode(...b.subarray(p.i, end));
        p.i = end + 1;
      } else if (op === 0x50) continue;
      else if (op === 0x60)
        addend = uleb(b, p); // small positive addends in this test
      else if (op === 0x70) {
        seg = imm;
        off = uleb(b, p);
      } else if (op === 0x90) {
        out.push({ seg, off, ordinal, name, addend, flags });
        off += 8;
      } else throw new Error(`unexpected bind opcode ${op}`);
    }
    return out;
  }

  it('round-trips binds with ordinals, flat lookup, weak flag and addends', () => {
    const entries: BindEntry[] = [
      { seg: 2, off: 0, ordinal: 1, name: '_puts', addend: 0, flags: 0 },
      { seg: 2, off: 8, ordinal: 1, name: '_puts', addend: 16, flags: 0 },
      { seg: 3, off: 0x40, ordinal: -2, name: '_maybe', addend: 0, flags: 1 },
    ];
    expect(decodeBinds(encodeBinds(entries), false)).toEqual(entries);
  });

  it('lazy binds are one DONE-terminated record per pointer at the returned offsets', () => {
    const entries: BindEntry[] = [
      { seg: 3, off: 0, ordinal: 1, name: '_puts', addend: 0, flags: 0 },
      { seg: 3, off: 8, ordinal: 1, name: '_write', addend: 0, flags: 0 },
    ];
    const { bytes, offsets } = encodeLazyBinds(entries);
    expect(offsets[0]).toBe(0);
    expect(decodeBinds(bytes.subarray(offsets[1]!), true)).toEqual([entries[1]]);
    expect(decodeBinds(bytes, true)).toEqual(entries);
  });
});

describe('export trie', () => {
  function decodeTrie(b: Uint8Array): Map<string, number> {
    const out = new Map<string, number>();
    const walk = (off: number, prefix: string) => {
      const p = { i: off };
      const termSize = uleb(b, p);
      if (termSize > 0) {
        const q = { i: p.i };
        uleb(b, q); // flags
        out.set(prefix, uleb(b, q));
      }
      p.i += termSize;
      const n = b[p.i++]!;
      for (let k = 0; k < n; k++) {
        const end = b.indexOf(0, p.i);
        const label = String.fromCharCode(...b.subarray(p.i, end));
        p.i = end + 1;
        walk(uleb(b, p), prefix + label);
      }
    };
    walk(0, '');
    return out;
  }

  it('round-trips names sharing prefixes, names that are prefixes of others, big tries', () => {
    const names = ['_main', '_ma', '_mainly', '__mh_execute_header', '_m', '_zz'];
    for (let k = 0; k < 300; k++) names.push(`_sym${k}_${'x'.repeat(k % 7)}`);
    const entries = names.map((name, i) => ({ name, flags: 0, address: 0x1000 + i * 0x1234567 }));
    const trie = encodeExportTrie(entries);
    const back = decodeTrie(trie);
    expect(back.size).toBe(names.length);
    for (const e of entries) expect(back.get(e.name)).toBe(e.address);
  });
});

describe('TAPI stubs', () => {
  it('reads the v4 libSystem stub', () => {
    const t = parseTbd(readFileSync(join(fixtures, 'libSystem.tbd'), 'utf8'), 'libSystem.tbd');
    expect(t.installName).toBe('/usr/lib/libSystem.B.dylib');
    expect(t.currentVersion).toBe(1311 << 16);
    expect(t.exports).toContain('_puts');
    expect(t.exports).toContain('__tlv_bootstrap');
  });

  it('reads v3 (archs:) and keeps only x86_64 exports', () => {
    const text = `--- !tapi-tbd-v3
archs:           [ x86_64, arm64 ]
platform:        macosx
install-name:    /usr/lib/libfoo.dylib
current-version: 1.2.3
compatibility-version: 1.0
exports:
  - archs:           [ x86_64, arm64 ]
    symbols:         [ _foo, _bar,
                       _baz ]
    weak-def-symbols: [ _weak ]
    objc-classes:    [ Thing ]
  - archs:           [ arm64 ]
    symbols:         [ _armonly ]
...
`;
    const t = parseTbd(text, 'libfoo.tbd');
    expect(t.installName).toBe('/usr/lib/libfoo.dylib');
    expect(t.currentVersion).toBe((1 << 16) | (2 << 8) | 3);
    expect(t.exports.sort()).toEqual([
      '_OBJC_CLASS_$_Thing',
      '_OBJC_METACLASS_$_Thing',
      '_bar',
      '_baz',
      '_foo',
    ]);
    expect(t.weakExports).toEqual(['_weak']);
  });

  it('rejects text that is not a stub', () => {
    expect(() => parseTbd('hello', 'x.tbd')).toThrow(/x\.tbd: not a TAPI text stub/);
  });
});

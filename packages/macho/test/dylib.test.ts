import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LinkError } from '@link/core';
import { readDylib } from '../src/dylib.js';
import { lldDylib } from './clang.js';

describe('binary dylib reader', () => {
  const bytes = readFileSync(lldDylib('dylib_foo.c', '/usr/lib/libfoo.dylib'));

  it('reads LC_ID_DYLIB and the export trie', () => {
    const d = readDylib(bytes, 'libfoo.dylib');
    expect(d.installName).toBe('/usr/lib/libfoo.dylib');
    expect(d.exports.sort()).toEqual(['_foo', '_foo_value']);
  });

  it('turns every truncation and random corruption into a LinkError or a result', () => {
    for (let n = 0; n < bytes.length; n += 3) {
      try {
        readDylib(bytes.subarray(0, n), 'cut.dylib');
      } catch (e) {
        expect(e).toBeInstanceOf(LinkError);
        expect((e as Error).message).toMatch(/^cut\.dylib: /);
      }
    }
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    for (let k = 0; k < 400; k++) {
      const b = Uint8Array.from(bytes);
      const at = Math.floor(rand() * b.length);
      b[at] = Math.floor(rand() * 256);
      try {
        readDylib(b, 'bad.dylib');
      } catch (e) {
        expect(e).toBeInstanceOf(LinkError);
      }
    }
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Context, LinkError, SymState, SymType, defaultConfig } from '@link/core';
import {
  X86_64_RELOC_BRANCH,
  X86_64_RELOC_GOT,
  X86_64_RELOC_GOT_LOAD,
  X86_64_RELOC_NAMES,
  X86_64_RELOC_SIGNED,
  X86_64_RELOC_SIGNED_1,
  X86_64_RELOC_SIGNED_4,
  X86_64_RELOC_SUBTRACTOR,
  X86_64_RELOC_TLV,
  X86_64_RELOC_UNSIGNED,
  readObject,
} from '../src/index.js';
import { relocKind } from '../src/relocations.js';
import { clangObject } from './clang.js';

function read(bytes: Uint8Array, name = 'test.o') {
  const ctx = new Context(defaultConfig());
  const f = readObject(ctx, name, name, bytes);
  return { ctx, f };
}

describe('reader on clang objects', () => {
  it('splits sections into atoms at symbols and decodes every relocation kind', () => {
    const { ctx, f } = read(readFileSync(clangObject('features.c', ['-fcommon'])), 'features.o');
    const s = ctx.syms;
    const secOf = (name: string) => s.section[s.lookup(name)]!;
    expect(secOf('_main')).toBeGreaterThanOrEqual(0);
    expect(secOf('_main')).not.toBe(secOf('_set_globals'));
    expect(ctx.sections[secOf('_main')]!.name).toBe('__TEXT,__text');
    // The symbol is at the start of its own atom.
    expect(s.value[s.lookup('_main')]).toBe(0);
    const kinds = new Set<string>();
    const st = ctx.relocs;
    for (let i = 0; i < st.count; i++) kinds.add(X86_64_RELOC_NAMES[relocKind(st.type[i]!)]!);
    for (const k of [
      X86_64_RELOC_UNSIGNED,
      X86_64_RELOC_SIGNED,
      X86_64_RELOC_BRANCH,
      X86_64_RELOC_GOT_LOAD,
      X86_64_RELOC_GOT,
      X86_64_RELOC_SUBTRACTOR,
      X86_64_RELOC_SIGNED_1,
      X86_64_RELOC_SIGNED_4,
      X86_64_RELOC_TLV,
    ])
      expect(kinds).toContain(X86_64_RELOC_NAMES[k]);
    // A SUBTRACTOR is immediately followed by its UNSIGNED, at the same offset.
    for (let i = 0; i < st.count; i++) {
      if (relocKind(st.type[i]!) !== X86_64_RELOC_SUBTRACTOR) continue;
      expect(relocKind(st.type[i + 1]!)).toBe(X86_64_RELOC_UNSIGNED);
      expect(st.offset[i + 1]).toBe(st.offset[i]);
      expect(s.names[st.sym[i]!]).toBe('_base_');
      expect(s.names[st.sym[i + 1]!]).toBe('_target');
      expect(st.addend[i + 1]).toBe(8);
    }
    expect(s.state[s.lookup('_puts')]).toBe(SymState.Undefined);
    expect(s.state[s.lookup('_common_var')]).toBe(SymState.Common);
    expect(ctx.sections[secOf('_tcount')]!.name).toBe('__DATA,__thread_vars');
    expect(f.subsections).toBe(true);
  });

  it('turns section-relative (r_extern=0) targets into atom symbols with offsets', () => {
    const { ctx } = read(readFileSync(clangObject('macho_hello_imports.c')), 'imports.o');
    const st = ctx.relocs;
    let seen = 0;
    for (let i = 0; i < st.count; i++) {
      if (st.type[i]! & 0x80) continue; // extern
      const sym = st.sym[i]!;
      expect(ctx.syms.type[sym]).toBe(SymType.Section);
      expect(ctx.sections[ctx.syms.section[sym]!]!.name).toBe('__TEXT,__cstring');
      expect(st.addend[i]).toBeGreaterThanOrEqual(0);
      seen++;
    }
    expect(seen).toBe(3); // one SIGNED from code, two UNSIGNED in the msgs table
  });
});

describe('reader on malformed input', () => {
  const good = readFileSync(clangObject('features.c', ['-fcommon']));

  function expectCleanFailure(bytes: Uint8Array): void {
    try {
      read(bytes, 'bad.o');
    } catch (e) {
      if (!(e instanceof LinkError)) throw e;
      expect(e.message).toContain('bad.o');
    }
  }

  it('rejects every truncation with a LinkError naming the file', () => {
    let failures = 0;
    for (let n = 0; n < good.length; n += 5) {
      try {
        read(good.subarray(0, n), 'bad.o');
      } catch (e) {
        expect(e).toBeInstanceOf(LinkError);
        expect((e as Error).message).toMatch(/^bad\.o/);
        failures++;
      }
    }
    expect(failures).toBeGreaterThan(good.length / 5 - 5);
  });

  it('survives random corruption of header, load commands and tables', () => {
    let seed = 12345;
    const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    for (let k = 0; k < 400; k++) {
      const b = Uint8Array.from(good);
      const flips = 1 + Math.floor(rand() * 3);
      for (let j = 0; j < flips; j++) {
        const at = Math.floor(rand() * Math.min(b.length, 2048)) & ~3;
        const v = rand() < 0.5 ? 0xffffffff : Math.floor(rand() * 2 ** 32);
        new DataView(b.buffer).setUint32(at, v, true);
      }
      expectCleanFailure(b);
    }
  });

  it('names the structure and offset for oversized counts, before allocating', () => {
    const b = Uint8Array.from(good);
    const dv = new DataView(b.buffer);
    // Find LC_SYMTAB and claim 2^28 symbols.
    let p = 32;
    for (let i = 0; i < dv.getUint32(16, true); i++) {
      if (dv.getUint32(p, true) === 2) dv.setUint32(p + 12, 0x10000000, true);
      p += dv.getUint32(p + 4, true);
    }
    expect(() => read(b, 'big.o')).toThrow(
      /big\.o: malformed Mach-O object: symbol table at offset 0x[0-9a-f]+ .* extends past the end/,
    );
    const c = Uint8Array.from(good);
    new DataView(c.buffer).setUint32(20, 0x7fffffff, true); // sizeofcmds
    expect(() => read(c, 'cmds.o')).toThrow(/cmds\.o: malformed Mach-O object: load commands/);
    const d = Uint8Array.from(good);
    new DataView(d.buffer).setUint32(4, 12, true); // CPU_TYPE_ARM
    expect(() => read(d, 'arm.o')).toThrow(/unsupported Mach-O cputype 0xc/);
  });
});

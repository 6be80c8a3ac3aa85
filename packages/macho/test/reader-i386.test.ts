import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Context, LinkError, defaultConfig, i32 } from '@link/core';
import {
  CPU_TYPE_I386,
  GENERIC_RELOC_LOCAL_SECTDIFF,
  GENERIC_RELOC_NAMES,
  GENERIC_RELOC_PAIR,
  GENERIC_RELOC_SECTDIFF,
  GENERIC_RELOC_VANILLA,
  MachoObjectFile,
  defaultMachoOptions,
  linkMacho,
  readObject,
} from '../src/index.js';
import { relocKind } from '../src/relocations.js';
import { clangObject, fixtures } from './clang.js';

const I386 = ['-target', 'i386-apple-macos10.13'];

function readI386() {
  const ctx = new Context(defaultConfig());
  const path = clangObject('i386_generic.c', I386);
  const f = readObject(ctx, path, 'i386_generic.o', readFileSync(path));
  return { ctx, f };
}

/** A decoded row, with its atom and symbols as object addresses (what clang's bytes encode). */
interface Row {
  kind: string;
  /** Object address of the field. */
  at: number;
  pcrel: boolean;
  /** Target symbol + addend as an object address (null: an undefined external). */
  target: number | null;
  name: string;
  addend: number;
}

function rows(ctx: Context, f: MachoObjectFile): Row[] {
  const s = ctx.syms;
  const atomAddr = (secId: number): number => {
    const sec = ctx.sections[secId]!;
    const k = f.atomIds[sec.index]!.indexOf(secId);
    return f.sects[sec.index]!.addr + f.atomStarts[sec.index]![k]!;
  };
  const out: Row[] = [];
  for (const sec of f.sections) {
    if (sec.relocs === null) continue;
    const st = sec.relocs.store;
    for (let i = sec.relocs.start; i < sec.relocs.start + sec.relocs.count; i++) {
      const sym = st.sym[i]!;
      const symSec = s.section[sym]!;
      out.push({
        kind: GENERIC_RELOC_NAMES[relocKind(st.type[i]!)]!,
        at: atomAddr(sec.id) + st.offset[i]!,
        pcrel: ((st.type[i]! >> 6) & 1) === 1,
        target: symSec >= 0 ? atomAddr(symSec) + s.value[sym]! + st.addend[i]! : null,
        name: ctx.symName(sym),
        addend: st.addend[i]!,
      });
    }
  }
  return out;
}

describe('i386 MH_OBJECT reader (generic relocations)', () => {
  it('reads clang i386 output: sections, symbols and atoms from mach_header/LC_SEGMENT/nlist', () => {
    const { ctx, f } = readI386();
    expect(f.cputype).toBe(CPU_TYPE_I386);
    const s = ctx.syms;
    for (const n of ['_counter', '_table', '_ptr_mid', '_get_counter', '_call_ext'])
      expect(s.section[s.lookup(n)], n).toBeGreaterThanOrEqual(0);
    expect(ctx.sections[s.section[s.lookup('_table')]!]!.name).toBe('__DATA,__data');
    expect(ctx.sections[s.section[s.lookup('_table')]!]!.size).toBe(16);
  });

  it('decodes VANILLA, SECTDIFF, LOCAL_SECTDIFF and PAIR so that they reproduce clang’s bytes', () => {
    const { ctx, f } = readI386();
    const all = rows(ctx, f);
    const kinds = new Set(all.map((r) => r.kind));
    for (const k of [
      GENERIC_RELOC_VANILLA,
      GENERIC_RELOC_PAIR,
      GENERIC_RELOC_SECTDIFF,
      GENERIC_RELOC_LOCAL_SECTDIFF,
    ])
      expect(kinds, GENERIC_RELOC_NAMES[k]).toContain(GENERIC_RELOC_NAMES[k]);
    // Evaluate every row with the object's own addresses: the result must be the field clang
    // wrote (for defined targets), so the model loses nothing.
    const fieldAt = (addr: number) => {
      const raw = f.sects.find((x) => addr >= x.addr && addr < x.addr + x.size)!;
      return i32(f.bytes, raw.offset + addr - raw.addr);
    };
    let checked = 0;
    for (let i = 0; i < all.length; i++) {
      const r = all[i]!;
      if (r.kind === 'GENERIC_RELOC_PAIR') continue;
      if (r.kind === 'GENERIC_RELOC_VANILLA') {
        if (r.target === null) {
          // External undefined: addend 0 (clang stores -(address + 4) for `call _puts`).
          expect(r.addend, `${r.name} at 0x${r.at.toString(16)}`).toBe(0);
          continue;
        }
        expect(r.pcrel ? r.target - (r.at + 4) : r.target).toBe(fieldAt(r.at));
      } else {
        const pair = all[i + 1]!;
        expect(pair.kind).toBe('GENERIC_RELOC_PAIR');
        expect(pair.at).toBe(r.at);
        expect((r.target! - pair.target!) | 0).toBe(fieldAt(r.at));
      }
      checked++;
    }
    expect(checked).toBe(2 + 4); // two VANILLA pointers with defined targets, four differences
    // The scattered VANILLA of `&table[2]`: the atom of _table plus 8.
    const tableSec = ctx.sections[ctx.syms.section[ctx.syms.lookup('_table')]!]!;
    const tableAddr =
      f.sects[tableSec.index]!.addr +
      f.atomStarts[tableSec.index]![f.atomIds[tableSec.index]!.indexOf(tableSec.id)]!;
    const mid = all.find((r) => r.kind === 'GENERIC_RELOC_VANILLA' && r.addend === 8)!;
    expect(mid.target).toBe(tableAddr + 8);
    expect(
      all
        .filter((r) => r.target === null)
        .map((r) => r.name)
        .sort(),
    ).toEqual(['_ext_value', '_puts']);
  });

  it('rejects a lone GENERIC_RELOC_PAIR with file, section and offset', () => {
    const path = clangObject('i386_generic.c', I386);
    const bytes = Uint8Array.from(readFileSync(path));
    const { f } = readI386();
    const text = f.sects[0]!;
    // First relocation of __text is a scattered LOCAL_SECTDIFF: make it a PAIR.
    const q = text.reloff;
    const w0 = new DataView(bytes.buffer).getUint32(q, true);
    new DataView(bytes.buffer).setUint32(q, (w0 & ~(0xf << 24)) | (GENERIC_RELOC_PAIR << 24), true);
    const ctx = new Context(defaultConfig());
    expect(() => readObject(ctx, 'bad.o', 'bad.o', bytes)).toThrow(
      /bad\.o:\(__TEXT,__text\+0x[0-9a-f]+\): GENERIC_RELOC_PAIR without the SECTDIFF/,
    );
  });

  it('refuses to link i386 into Mach-O output: Apple dropped i386', () => {
    const cfg = defaultConfig();
    cfg.output = '/nonexistent/out';
    cfg.inputs = [clangObject('i386_generic.c', I386), `${fixtures}/libSystem.tbd`].map((path) => ({
      kind: 'file' as const,
      path,
      wholeArchive: false,
      asNeeded: false,
      static: false,
    }));
    expect(() => linkMacho(new Context(cfg), defaultMachoOptions())).toThrow(LinkError);
    expect(() => linkMacho(new Context(cfg), defaultMachoOptions())).toThrow(
      /i386_generic.*: i386 Mach-O: Apple dropped i386 .*tslink writes x86_64 Mach-O only/,
    );
  });
});

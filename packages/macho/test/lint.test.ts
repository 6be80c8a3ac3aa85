import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Context, defaultConfig } from '@link/core';
import {
  MH_BUNDLE,
  MH_DYLIB,
  MH_EXECUTE,
  defaultMachoOptions,
  linkMacho,
  lintMacho,
} from '../src/index.js';
import { clangObject, fixtures } from './clang.js';

const dir = mkdtempSync(join(tmpdir(), 'tslink-macho-lint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function linkFeatures(chains: boolean, outputType = MH_EXECUTE): Uint8Array {
  const cfg = defaultConfig();
  cfg.output = join(dir, `${chains ? 'chained' : 'info'}-${outputType}`);
  const objs = [clangObject('features.c', ['-fcommon']), clangObject('features2.c', ['-fcommon'])];
  cfg.inputs = [...objs, join(fixtures, 'libSystem.tbd')].map((path) => ({
    kind: 'file' as const,
    path,
    wholeArchive: false,
    asNeeded: false,
    static: false,
  }));
  const opts = defaultMachoOptions();
  opts.fixupChains = chains;
  opts.outputType = outputType;
  linkMacho(new Context(cfg), opts);
  return readFileSync(cfg.output);
}

const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
/** Offset of the first load command `cmd`. */
function findCmd(b: Uint8Array, cmd: number): number {
  let p = 32;
  for (let i = 0; i < dv(b).getUint32(16, true); i++) {
    if (dv(b).getUint32(p, true) === cmd) return p;
    p += dv(b).getUint32(p + 4, true);
  }
  throw new Error('no such command');
}

describe('Mach-O lint', () => {
  const good = linkFeatures(false);

  it('passes tslink output with both fixup encodings, signature included', () => {
    const r = lintMacho(good, { requireSignature: true });
    expect(r.errors).toEqual([]);
    expect(r.signed).toBe(true);
    expect(r.segments.map((s) => s.name)).toEqual([
      '__PAGEZERO',
      '__TEXT',
      '__DATA_CONST',
      '__DATA',
      '__LINKEDIT',
    ]);
    expect(lintMacho(linkFeatures(true), { requireSignature: true }).errors).toEqual([]);
  });

  it('catches a modified page (signature no longer verifies)', () => {
    const b = Uint8Array.from(good);
    b[0x1000] = b[0x1000]! ^ 0xff;
    expect(lintMacho(b).errors.join('\n')).toMatch(/page 1 hash mismatch/);
  });

  it('catches sizeofcmds, cmdsize, UUID, segment order and alignment problems', () => {
    const b1 = Uint8Array.from(good);
    dv(b1).setUint32(20, dv(b1).getUint32(20, true) - 8, true);
    expect(lintMacho(b1).errors.join('\n')).toMatch(/sizeofcmds|extends past sizeofcmds/);

    const b2 = Uint8Array.from(good);
    dv(b2).setUint32(findCmd(b2, 0x1b), 0x7ff, true); // LC_UUID → unknown command
    expect(lintMacho(b2).errors.join('\n')).toMatch(/expected one LC_UUID, found 0/);

    const b3 = Uint8Array.from(good);
    dv(b3).setUint32(findCmd(b3, 0x32), 0x7fe, true); // LC_BUILD_VERSION → unknown
    expect(lintMacho(b3).errors.join('\n')).toMatch(/no LC_BUILD_VERSION/);

    const b4 = Uint8Array.from(good);
    b4.set([0x5f, 0x5f, 0x58], 32 + 8); // rename __PAGEZERO
    expect(lintMacho(b4).errors.join('\n')).toMatch(/first segment is __XAGEZERO, not __PAGEZERO/);

    const b5 = Uint8Array.from(good);
    const text = 32 + 72; // second LC_SEGMENT_64 (__TEXT) follows __PAGEZERO's 72 bytes
    dv(b5).setUint32(text + 24, dv(b5).getUint32(text + 24, true) + 0x10, true); // vmaddr
    expect(lintMacho(b5).errors.join('\n')).toMatch(
      /__TEXT: vmaddr 0x[0-9a-f]+ is not page-aligned/,
    );

    const b6 = Uint8Array.from(good);
    dv(b6).setUint32(36, 12, true); // cmdsize of the first command: not its real size
    expect(lintMacho(b6).errors.length).toBeGreaterThan(0);
  });

  it('passes tslink dylibs and bundles: no __PAGEZERO, __TEXT at 0, LC_ID_DYLIB for a dylib', () => {
    for (const type of [MH_DYLIB, MH_BUNDLE]) {
      const b = linkFeatures(false, type);
      const r = lintMacho(b, { requireSignature: true });
      expect(r.errors).toEqual([]);
      expect(r.segments[0]!.name).toBe('__TEXT');
      expect(r.segments[0]!.vmaddr).toBe(0);
      expect(r.commands.includes(0xd)).toBe(type === MH_DYLIB); // LC_ID_DYLIB
    }
  });

  it('applies the dylib and bundle rules: an executable relabelled MH_DYLIB/MH_BUNDLE fails', () => {
    const asDylib = Uint8Array.from(good);
    dv(asDylib).setUint32(12, MH_DYLIB, true);
    const e = lintMacho(asDylib).errors.join('\n');
    expect(e).toMatch(/MH_DYLIB needs exactly one LC_ID_DYLIB, found 0/);
    expect(e).toMatch(/LC_MAIN in an image that is not MH_EXECUTE/);
    expect(e).toMatch(/LC_LOAD_DYLINKER in an image that is not MH_EXECUTE/);
    expect(e).toMatch(/__PAGEZERO in a dylib or bundle/);
    const asBundle = Uint8Array.from(linkFeatures(false, MH_DYLIB));
    dv(asBundle).setUint32(12, MH_BUNDLE, true);
    expect(lintMacho(asBundle).errors.join('\n')).toMatch(
      /LC_ID_DYLIB in an image that is not MH_DYLIB/,
    );
  });

  it('never throws on garbage', () => {
    expect(lintMacho(new Uint8Array(10)).errors).toEqual(['not a 64-bit Mach-O file']);
    const b = Uint8Array.from(good.subarray(0, 600));
    expect(lintMacho(b).errors.length).toBeGreaterThan(0);
  });
});

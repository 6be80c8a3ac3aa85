/**
 * Tests for the `ar` reader against archives built at test time by the system tools (GNU ar,
 * llvm-ar) and checked against the tools' own view of them (`ar t`, `nm --print-armap`,
 * `llvm-nm --print-armap`), plus hand-built and corrupted archives for the error paths.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { LinkError } from '../src/errors.js';
import {
  AR_HDR_SIZE,
  SARMAG,
  archiveAllMembers,
  archiveMember,
  isArchive,
  memberAtHeaderOffset,
  memberBytes,
  memberDisplayName,
  parseArchive,
  type Archive,
  type ArchiveMember,
} from '../src/archive.js';

const LIBC_A = '/usr/lib/x86_64-linux-gnu/libc.a';

// --- tools ---

/** Path of a required tool. Missing tools fail the test (never skip) and say what to install. */
function requireTool(name: string, aptPackage: string): string {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const found = r.status === 0 ? r.stdout.trim() : '';
  if (found === '') {
    throw new Error(`${name} not found on PATH: apt-get install ${aptPackage}`);
  }
  return found;
}

function run(cmd: string, args: string[], cwd: string, env?: Record<string, string>): string {
  return execFileSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 64 << 20,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** `nm --print-armap` / `llvm-nm --print-armap` index listing as [symbol, member] pairs. */
function armap(nmTool: string, archive: string, cwd: string): Array<[string, string]> {
  // nm exits non-zero on members that are not objects (our text members); the map still prints.
  const r = spawnSync(nmTool, ['--print-armap', archive], {
    cwd,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const lines = r.stdout.split('\n');
  const start = lines.findIndex((l) => l === 'Archive index:' || l === 'Archive map');
  if (start < 0) return [];
  const out: Array<[string, string]> = [];
  for (let i = start + 1; i < lines.length && lines[i] !== ''; i++) {
    const l = lines[i]!;
    const k = l.lastIndexOf(' in ');
    out.push([l.slice(0, k), l.slice(k + 4)]);
  }
  return out;
}

/** The archive's index as [symbol, member name] pairs, in index order. */
function indexPairs(ar: Archive): Array<[string, string]> {
  return ar.symbolNames.map((s, i) => [s, archiveMember(ar, ar.symbolMembers[i]!).name]);
}

/** Every member in file order (the full walk). */
function members(ar: Archive): ArchiveMember[] {
  return archiveAllMembers(ar).map((id) => archiveMember(ar, id));
}

/** Everything the reader can check: the index and, by the full walk, every member header. */
function readAll(bytes: Uint8Array, name: string): Archive {
  const ar = parseArchive(bytes, name);
  archiveAllMembers(ar);
  return ar;
}

/** Lazily: the index, then each member it names decoded on its own, without the full walk. */
function readIndexed(bytes: Uint8Array, name: string): Archive {
  const ar = parseArchive(bytes, name);
  for (let i = 0; i < ar.memberCount; i++) archiveMember(ar, i);
  return ar;
}

/**
 * The LinkError for input that is malformed in a member the index names: the full walk and
 * on-demand decoding must both report it, in the same words.
 */
function rejectedBoth(bytes: Uint8Array, name: string): LinkError {
  const e = linkErrorOf(() => readAll(bytes, name));
  expect(linkErrorOf(() => readIndexed(bytes, name)).message).toBe(e.message);
  return e;
}

function linkErrorOf(fn: () => unknown): LinkError {
  try {
    fn();
  } catch (e) {
    if (e instanceof LinkError) return e;
    throw e; // anything else is a reader bug: let the test fail with it
  }
  throw new Error('expected a LinkError, nothing was thrown');
}

/** Times `fn`; malformed input must be rejected promptly, never by grinding through it. */
function timed<T>(fn: () => T): { value: T; ms: number } {
  const t0 = performance.now();
  const value = fn();
  return { value, ms: performance.now() - t0 };
}

// --- hand-built archives ---

function header(name: string, size: number | string): string {
  const h =
    name.padEnd(16) +
    '0'.padEnd(12) + // ar_date
    '0'.padEnd(6) + // ar_uid
    '0'.padEnd(6) + // ar_gid
    '644'.padEnd(8) + // ar_mode
    String(size).padEnd(10) +
    '`\n';
  if (h.length !== AR_HDR_SIZE) throw new Error(`bad test header for ${name}`);
  return h;
}

/** Builds an archive from (header name, data) parts, padding data to even offsets. */
function buildArchive(magic: string, parts: Array<[string, Uint8Array | string]>): Uint8Array {
  const chunks: Buffer[] = [Buffer.from(magic, 'latin1')];
  for (const [name, data] of parts) {
    const d = typeof data === 'string' ? Buffer.from(data, 'latin1') : Buffer.from(data);
    chunks.push(Buffer.from(header(name, d.length), 'latin1'), d);
    if (d.length & 1) chunks.push(Buffer.from('\n'));
  }
  return new Uint8Array(Buffer.concat(chunks));
}

function u32be(...vals: number[]): Buffer {
  const b = Buffer.alloc(vals.length * 4);
  vals.forEach((v, i) => b.writeUInt32BE(v, i * 4));
  return b;
}

function u32le(...vals: number[]): Buffer {
  const b = Buffer.alloc(vals.length * 4);
  vals.forEach((v, i) => b.writeUInt32LE(v, i * 4));
  return b;
}

function writeField(bytes: Uint8Array, at: number, text: string): Uint8Array {
  const copy = bytes.slice();
  copy.set(Buffer.from(text, 'latin1'), at);
  return copy;
}

// --- fixtures built once ---

let dir = '';
const objs: Record<string, string> = {};
/** Member file name -> path of the file that was archived. */
let files: Record<string, string> = {};
let gnuPath = '';
let thinPath = '';
let noIndexPath = '';

const SOURCES: Record<string, string> = {
  'short.c':
    'int foo(void) { return 1; }\nint bar = 3;\nstatic int hidden;\nint *use(void) { return &hidden; }\n',
  // > 15 characters: GNU ar has to put this name in the `//` long-name table.
  'a_really_long_member_name.c':
    'int long_named_function(void) { return 2; }\nconst char long_named_data[] = "x";\n',
  // exactly 15 characters plus '/' fills the 16-byte name field.
  'fifteen_chars.c': 'int fifteen(void) { return 15; }\n',
  'sub/nested_member.c': 'extern int foo(void);\nint nested(void) { return foo() + 1; }\n',
};

beforeAll(() => {
  const gcc = requireTool('gcc', 'gcc');
  const ar = requireTool('ar', 'binutils');
  requireTool('nm', 'binutils');
  dir = mkdtempSync(path.join(tmpdir(), 'tslink-archive-'));
  mkdirSync(path.join(dir, 'sub'));
  mkdirSync(path.join(dir, 'libs'));
  for (const [src, text] of Object.entries(SOURCES)) {
    writeFileSync(path.join(dir, src), text);
    const obj = src.replace(/\.c$/, '.o');
    run(gcc, ['-c', '-O1', src, '-o', obj], dir);
    objs[path.basename(obj)] = path.join(dir, obj);
  }
  // Odd-sized text exercises the 2-byte padding; the empty file a zero-sized member.
  writeFileSync(path.join(dir, 'odd.txt'), 'odd-length text\n!');
  writeFileSync(path.join(dir, 'empty.txt'), '');
  files = {
    ...objs,
    'odd.txt': path.join(dir, 'odd.txt'),
    'empty.txt': path.join(dir, 'empty.txt'),
  };
  const inputs = [
    'short.o',
    'a_really_long_member_name.o',
    'odd.txt',
    'fifteen_chars.o',
    'empty.txt',
    'sub/nested_member.o',
  ];

  gnuPath = path.join(dir, 'libgnu.a');
  run(ar, ['rcs', gnuPath, ...inputs], dir);
  noIndexPath = path.join(dir, 'libnoindex.a');
  run(ar, ['rcS', noIndexPath, ...inputs], dir);
  // The thin archive lives in libs/, so its member paths are relative (`../short.o`) and one of
  // them absolute.
  thinPath = path.join(dir, 'libs', 'libthin.a');
  // The archive path is given relative to the cwd: GNU ar 2.40 given an absolute archive path
  // stores the members relative to the cwd instead of the archive's directory (nm then cannot
  // find them either).
  run(ar, ['rcsT', path.relative(dir, thinPath), ...inputs], dir);
});

afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

/** Expected name -> archived file, in archive order, from `ar t`. */
function arListing(archive: string): string[] {
  return run('ar', ['t', archive], dir)
    .split('\n')
    .filter((l) => l !== '');
}

function checkStoredMembers(ar: Archive, bytes: Uint8Array, names: string[], padded = false) {
  const ids = archiveAllMembers(ar);
  expect(ids.map((i) => archiveMember(ar, i).name)).toEqual(names);
  // Ids are dense: the walk's ids are a permutation of 0..memberCount-1.
  expect([...ids].sort((a, b) => a - b)).toEqual([...Array(ar.memberCount).keys()]);
  for (const i of ids) {
    const m = archiveMember(ar, i);
    const want = readFileSync(files[m.name]!);
    const got = memberBytes(ar, bytes, i, () => {
      throw new Error('not a thin archive');
    });
    // Never a copy: same memory as the archive.
    expect(got.buffer).toBe(bytes.buffer);
    expect(got.byteOffset).toBe(bytes.byteOffset + m.dataOffset);
    expect(m.thinPath).toBeNull();
    if (padded) {
      // Darwin-format llvm-ar pads member data with '\n' to keep members 8-byte aligned.
      expect(Buffer.from(got.subarray(0, want.length)).equals(want)).toBe(true);
      expect([...got.subarray(want.length)].every((c) => c === 0x0a)).toBe(true);
    } else {
      expect(m.size).toBe(want.length);
      expect(Buffer.from(got).equals(want)).toBe(true);
    }
    expect(m.dataOffset % 2).toBe(0);
    expect(memberAtHeaderOffset(ar, m.headerOffset)).toBe(i);
  }
}

describe('isArchive', () => {
  it('recognizes regular and thin archive magic only', () => {
    const enc = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));
    expect(isArchive(enc('!<arch>\n'))).toBe(true);
    expect(isArchive(enc('!<thin>\nxyz'))).toBe(true);
    expect(isArchive(enc('!<arch>'))).toBe(false);
    expect(isArchive(enc('\x7fELF\x02\x01\x01\0'))).toBe(false);
    expect(isArchive(new Uint8Array(0))).toBe(false);
    expect(isArchive(readFileSync(objs['short.o']!))).toBe(false);
  });
});

describe('GNU archives', () => {
  it('reads members (short, 15-char, long `//` names, odd and empty) and their bytes', () => {
    const bytes = new Uint8Array(readFileSync(gnuPath));
    const ar = parseArchive(bytes, gnuPath);
    expect(ar.thin).toBe(false);
    expect(ar.path).toBe(gnuPath);
    // The long name really went through the `//` table.
    expect(Buffer.from(bytes).includes('//' + ' '.repeat(46))).toBe(true);
    checkStoredMembers(ar, bytes, arListing(gnuPath));
    expect(members(ar).map((m) => m.name)).toContain('a_really_long_member_name.o');
    expect(members(ar).find((m) => m.name === 'empty.txt')!.size).toBe(0);
  });

  it('decodes the `/` symbol index exactly as nm --print-armap shows it', () => {
    const bytes = new Uint8Array(readFileSync(gnuPath));
    const ar = parseArchive(bytes, gnuPath);
    expect(ar.hasIndex).toBe(true);
    expect(ar.symbolMembers.length).toBe(ar.symbolNames.length);
    const want = armap('nm', gnuPath, dir);
    expect(want.length).toBeGreaterThanOrEqual(6);
    expect(indexPairs(ar)).toEqual(want);
    expect(ar.symbolNames).toContain('long_named_function');
    expect(ar.symbolNames).not.toContain('hidden');
  });

  it('decodes a 64-bit `/SYM64/` index', () => {
    const llvmAr = requireTool('llvm-ar', 'llvm');
    requireTool('llvm-nm', 'llvm');
    const p = path.join(dir, 'libsym64.a');
    run(
      llvmAr,
      ['--format=gnu', 'rcs', p, 'short.o', 'a_really_long_member_name.o', 'odd.txt'],
      dir,
      {
        SYM64_THRESHOLD: '0',
      },
    );
    const bytes = new Uint8Array(readFileSync(p));
    expect(Buffer.from(bytes).toString('latin1', SARMAG, SARMAG + 7)).toBe('/SYM64/');
    const ar = parseArchive(bytes, p);
    checkStoredMembers(ar, bytes, ['short.o', 'a_really_long_member_name.o', 'odd.txt']);
    expect(indexPairs(ar)).toEqual(armap('llvm-nm', p, dir));
    expect(ar.symbolNames.length).toBeGreaterThan(0);
  });

  it('reports no index for an archive built without one', () => {
    const bytes = new Uint8Array(readFileSync(noIndexPath));
    const ar = parseArchive(bytes, noIndexPath);
    expect(ar.hasIndex).toBe(false);
    expect(ar.symbolNames).toEqual([]);
    expect(ar.symbolMembers.length).toBe(0);
    checkStoredMembers(ar, bytes, arListing(noIndexPath));
  });

  it('accepts an archive with no members', () => {
    const ar = parseArchive(new Uint8Array(Buffer.from('!<arch>\n')), 'empty.a');
    expect(ar.memberCount).toBe(0);
    expect(archiveAllMembers(ar)).toEqual([]);
    expect(ar.hasIndex).toBe(false);
  });

  it('accepts a missing final padding byte', () => {
    const full = buildArchive('!<arch>\n', [['a.txt/', 'abc']]);
    const ar = parseArchive(full.subarray(0, full.length - 1), 'x.a');
    expect(ar.memberCount).toBe(1);
    expect(archiveMember(ar, 0).size).toBe(3);
  });

  it('skips COFF-style extra special members and keeps the first index', () => {
    // lib.exe writes a second `/` linker member (different layout) after the first one.
    const memberAt = SARMAG + (AR_HDR_SIZE + 12) + (AR_HDR_SIZE + 4) + (AR_HDR_SIZE + 2);
    const bytes = buildArchive('!<arch>\n', [
      ['/', Buffer.concat([u32be(1, memberAt), Buffer.from('sym\0')])],
      ['/', Buffer.from('junk')],
      ['/<ECSYMBOLS>/', Buffer.from('ec')],
      ['m.o/', 'data'],
    ]);
    const ar = parseArchive(bytes, 'coff.a');
    expect(members(ar).map((m) => m.name)).toEqual(['m.o']);
    expect(ar.symbolNames).toEqual(['sym']);
    expect([...ar.symbolMembers]).toEqual([0]);
  });

  it('resolves NUL-terminated (COFF) long names too', () => {
    const bytes = buildArchive('!<arch>\n', [
      ['//', 'a_long_coff_member.obj\0'],
      ['/0', 'x'],
    ]);
    expect(archiveMember(parseArchive(bytes, 'c.lib'), 0).name).toBe('a_long_coff_member.obj');
  });

  it('names members for diagnostics as archive(member)', () => {
    const ar = parseArchive(new Uint8Array(readFileSync(gnuPath)), 'libgnu.a');
    const i = archiveAllMembers(ar).find((id) => archiveMember(ar, id).name === 'short.o')!;
    expect(memberDisplayName(ar, i)).toBe('libgnu.a(short.o)');
    expect(memberDisplayName(ar, ar.memberCount)).toBe(`libgnu.a(#${ar.memberCount})`);
  });
});

describe('GNU thin archives', () => {
  it('reads member paths relative to the archive directory, or absolute', () => {
    const bytes = new Uint8Array(readFileSync(thinPath));
    const ar = parseArchive(bytes, thinPath);
    expect(ar.thin).toBe(true);
    const expected = [
      'short.o',
      'a_really_long_member_name.o',
      'odd.txt',
      'fifteen_chars.o',
      'empty.txt',
      'sub/nested_member.o',
    ].map((f) => path.join(dir, f));
    expect(members(ar).map((m) => m.thinPath)).toEqual(expected);
    expect(members(ar)[0]!.name).toBe('../short.o');
    const reads: string[] = [];
    for (const i of archiveAllMembers(ar)) {
      const m = archiveMember(ar, i);
      expect(m.dataOffset).toBe(-1);
      const got = memberBytes(ar, bytes, i, (p) => {
        reads.push(p);
        return new Uint8Array(readFileSync(p));
      });
      const want = readFileSync(m.thinPath!);
      expect(m.size).toBe(want.length);
      expect(Buffer.from(got).equals(want)).toBe(true);
    }
    expect(reads).toEqual(expected);
  });

  it('keeps absolute member paths as they are', () => {
    const p = path.join(dir, 'libs', 'libabs.a');
    run('ar', ['rcsT', p, path.join(dir, 'odd.txt')], dir);
    const ar = parseArchive(new Uint8Array(readFileSync(p)), p);
    expect(members(ar).map((m) => m.thinPath)).toEqual([path.join(dir, 'odd.txt')]);
    expect(members(ar)[0]!.name).toBe(path.join(dir, 'odd.txt'));
  });

  it('decodes the symbol index as nm --print-armap shows it', () => {
    const ar = parseArchive(new Uint8Array(readFileSync(thinPath)), thinPath);
    const libs = path.dirname(thinPath);
    // nm prints members as paths; run it from the archive's directory and compare resolved.
    const want = armap('nm', path.basename(thinPath), libs).map(
      ([s, m]) => [s, path.resolve(libs, m)] as [string, string],
    );
    const got = ar.symbolNames.map(
      (s, i) => [s, archiveMember(ar, ar.symbolMembers[i]!).thinPath!] as [string, string],
    );
    expect(want.length).toBeGreaterThanOrEqual(6);
    expect(got).toEqual(want);
  });
});

describe('BSD archives', () => {
  const inputs = ['short.o', 'a_really_long_member_name.o', 'odd.txt', 'fifteen_chars.o'];

  it('reads `#1/len` names and the `__.SYMDEF` index (llvm-ar --format=bsd)', () => {
    const llvmAr = requireTool('llvm-ar', 'llvm');
    requireTool('llvm-nm', 'llvm');
    const p = path.join(dir, 'libbsd.a');
    run(llvmAr, ['--format=bsd', 'rcs', p, ...inputs], dir);
    const bytes = new Uint8Array(readFileSync(p));
    const text = Buffer.from(bytes).toString('latin1');
    expect(text.includes('#1/')).toBe(true);
    expect(text.includes('__.SYMDEF')).toBe(true);
    const ar = parseArchive(bytes, p);
    expect(ar.thin).toBe(false);
    checkStoredMembers(ar, bytes, inputs);
    expect(ar.hasIndex).toBe(true);
    const want = armap('llvm-nm', p, dir);
    expect(want.length).toBeGreaterThanOrEqual(5);
    expect(indexPairs(ar)).toEqual(want);
  });

  it('reads the 64-bit `__.SYMDEF_64` index (llvm-ar --format=darwin)', () => {
    const llvmAr = requireTool('llvm-ar', 'llvm');
    requireTool('llvm-nm', 'llvm');
    const p = path.join(dir, 'libdarwin64.a');
    run(llvmAr, ['--format=darwin', 'rcs', p, ...inputs], dir, { SYM64_THRESHOLD: '0' });
    const bytes = new Uint8Array(readFileSync(p));
    expect(Buffer.from(bytes).includes('__.SYMDEF_64')).toBe(true);
    const ar = parseArchive(bytes, p);
    checkStoredMembers(ar, bytes, inputs, true);
    expect(indexPairs(ar)).toEqual(armap('llvm-nm', p, dir));
  });

  it('reads classic inline `__.SYMDEF` names and space-padded short names', () => {
    // ranlib array: one entry (strx 0 -> the header right after this 24-byte member).
    const memberAt = SARMAG + AR_HDR_SIZE + 24;
    const symdef = Buffer.concat([u32le(8, 0, memberAt, 8), Buffer.from('sym\0\0\0\0\0')]);
    const bytes = buildArchive('!<arch>\n', [
      ['__.SYMDEF', symdef],
      ['x.o', 'xx'],
    ]);
    const ar = parseArchive(bytes, 'classic.a');
    expect(members(ar).map((m) => m.name)).toEqual(['x.o']);
    expect(indexPairs(ar)).toEqual([['sym', 'x.o']]);
  });
});

describe('system libc.a', () => {
  it('parses libc.a with its full index', () => {
    if (!existsSync(LIBC_A)) throw new Error(`${LIBC_A} missing: apt-get install libc6-dev`);
    const bytes = new Uint8Array(readFileSync(LIBC_A));
    const { value: ar, ms } = timed(() => parseArchive(bytes, 'libc.a'));
    expect(ar.hasIndex).toBe(true);
    const indexed = ar.memberCount;
    expect(indexed).toBeGreaterThan(1000);
    const i = ar.symbolNames.indexOf('printf');
    expect(i).toBeGreaterThanOrEqual(0);
    const m = ar.symbolMembers[i]!;
    expect(archiveMember(ar, m).name).toBe('printf.o');
    expect(memberDisplayName(ar, m)).toBe('libc.a(printf.o)');
    // Member data of a real object is an ELF file.
    const data = memberBytes(ar, bytes, m, () => new Uint8Array(0));
    expect(Buffer.from(data.subarray(0, 4)).toString('latin1')).toBe('\x7fELF');
    expect(indexPairs(ar)).toEqual(armap('nm', LIBC_A, dir));
    // Everything so far came from the index: no walk, no new ids.
    expect(ar.memberCount).toBe(indexed);
    const all = members(ar);
    expect(all.map((x) => x.name)).toEqual(arListing(LIBC_A));
    expect(ar.memberCount).toBe(all.length);
    // Generous bound: a regression to per-byte or quadratic work would be far slower.
    expect(ms).toBeLessThan(1000);
  });
});

describe('lazy member decoding', () => {
  /** Ids of the index in order of first appearance: must come out as 0, 1, 2, ... */
  function firstAppearances(ar: Archive): number[] {
    const seen = new Set<number>();
    const out: number[] = [];
    for (const id of ar.symbolMembers) {
      if (!seen.has(id)) {
        seen.add(id);
        out.push(id);
      }
    }
    return out;
  }

  it('hands out dense ids in order of first appearance in the index', () => {
    if (!existsSync(LIBC_A)) throw new Error(`${LIBC_A} missing: apt-get install libc6-dev`);
    for (const p of [gnuPath, thinPath, LIBC_A]) {
      const ar = parseArchive(new Uint8Array(readFileSync(p)), p);
      expect(firstAppearances(ar)).toEqual([...Array(ar.memberCount).keys()]);
    }
  });

  it('decodes only the members asked for', () => {
    const bytes = new Uint8Array(readFileSync(gnuPath));
    const all = members(parseArchive(bytes, 'lib.a'));
    const at = (name: string) => all.find((m) => m.name === name)!.headerOffset;
    // fifteen_chars.o is in the index, odd.txt (no symbols) is not; break both headers, and
    // give nested_member.o a size that runs past the end of the file.
    let c = writeField(bytes, at('fifteen_chars.o') + 58, '`X');
    c = writeField(c, at('odd.txt') + 48, 'junk      ');
    c = writeField(c, at('nested_member.o') + 48, '9999999999');
    const ar = parseArchive(c, 'lib.a');
    const indexed = ar.memberCount;
    // Offsets the index names are answered without the walk (which would fail on odd.txt).
    const idOf = (name: string) => memberAtHeaderOffset(ar, at(name));
    // Asking for a sound member works and reads nothing else.
    const short = idOf('short.o');
    expect(archiveMember(ar, short).name).toBe('short.o');
    expect(memberDisplayName(ar, short)).toBe('lib.a(short.o)');
    const got = memberBytes(ar, c, short, () => new Uint8Array(0));
    expect(Buffer.from(got).equals(readFileSync(files['short.o']!))).toBe(true);
    expect(archiveMember(ar, idOf('a_really_long_member_name.o')).name).toBe(
      'a_really_long_member_name.o',
    );
    // Asking for a broken one gives the error the full walk gives, every time (nothing cached).
    const fifteen = idOf('fifteen_chars.o');
    const hex15 = at('fifteen_chars.o').toString(16);
    for (const ask of [
      () => archiveMember(ar, fifteen),
      () => memberBytes(ar, c, fifteen, () => new Uint8Array(0)),
      () => memberDisplayName(ar, fifteen),
    ]) {
      const e = linkErrorOf(ask);
      expect(e.message).toMatch(/^lib\.a: bad archive member header terminator/);
      expect(e.message).toContain(`at offset 0x${hex15}`);
    }
    expect(linkErrorOf(() => archiveMember(ar, idOf('nested_member.o'))).message).toMatch(
      /size 9999999999 runs past end of file .*at offset/,
    );
    expect(ar.memberCount).toBe(indexed);
    // The full walk meets every header, in file order: the first broken one is odd.txt.
    expect(linkErrorOf(() => archiveAllMembers(ar)).message).toBe(
      `lib.a: invalid size field "junk      " in archive member header at offset ` +
        `0x${at('odd.txt').toString(16)}`,
    );
    // Unknown ids are a caller bug, not malformed input.
    expect(() => archiveMember(ar, ar.memberCount)).toThrow(RangeError);
    expect(() => archiveMember(ar, -1)).toThrow(RangeError);
  });

  it('keeps ids between on-demand decoding and the full walk', () => {
    if (!existsSync(LIBC_A)) throw new Error(`${LIBC_A} missing: apt-get install libc6-dev`);
    for (const p of [gnuPath, thinPath, LIBC_A]) {
      const bytes = new Uint8Array(readFileSync(p));
      // Lazily: decode every member the index names, as extraction would.
      const lazy = parseArchive(bytes, p);
      const indexed = lazy.memberCount;
      const before = [...Array(indexed).keys()].map((id) => archiveMember(lazy, id));
      expect(lazy.memberCount).toBe(indexed);
      // Then walk: known headers keep their ids (and decoded members), others are appended.
      const order = archiveAllMembers(lazy);
      expect(lazy.memberCount).toBe(order.length);
      expect(lazy.memberCount).toBeGreaterThanOrEqual(indexed);
      for (let id = 0; id < indexed; id++) {
        expect(archiveMember(lazy, id)).toBe(before[id]);
        expect(memberAtHeaderOffset(lazy, before[id]!.headerOffset)).toBe(id);
      }
      for (const id of order) {
        expect(memberAtHeaderOffset(lazy, archiveMember(lazy, id).headerOffset)).toBe(id);
      }
      // A fresh parse walked first hands out the same ids for the same headers.
      const walked = parseArchive(bytes, p);
      expect(archiveAllMembers(walked)).toEqual(order);
      for (let id = 0; id < walked.memberCount; id++) {
        expect(archiveMember(walked, id)).toEqual(archiveMember(lazy, id));
      }
      // And so does symbolMembers, which was fixed before any member was decoded.
      expect(walked.symbolMembers).toEqual(lazy.symbolMembers);
    }
  });

  it('finds members the index does not name through memberAtHeaderOffset', () => {
    const bytes = new Uint8Array(readFileSync(gnuPath));
    const ar = parseArchive(bytes, 'lib.a');
    const indexed = ar.memberCount;
    const odd = members(parseArchive(bytes, 'lib.a')).find((m) => m.name === 'odd.txt')!;
    const id = memberAtHeaderOffset(ar, odd.headerOffset);
    // Not in the index, so only the walk could find it: it got an id after the index's.
    expect(id).toBeGreaterThanOrEqual(indexed);
    expect(archiveMember(ar, id).name).toBe('odd.txt');
    expect(memberAtHeaderOffset(ar, odd.headerOffset + 2)).toBe(-1);
  });

  it('falls back to the full walk for a long name when `//` does not follow the index', () => {
    // `/`, a short-named member, then `//`, then the long-named member the index names.
    const longAt = SARMAG + (AR_HDR_SIZE + 12) + (AR_HDR_SIZE + 4) + (AR_HDR_SIZE + 22);
    const parts: Array<[string, Uint8Array | string]> = [
      ['/', Buffer.concat([u32be(1, longAt), Buffer.from('sym\0')])],
      ['x.o/', 'data'],
      ['//', 'a_long_member_name.o/\n'],
      ['/0', 'yy'],
    ];
    const ar = parseArchive(buildArchive('!<arch>\n', parts), 'late.a');
    expect(ar.memberCount).toBe(1);
    expect(archiveMember(ar, 0).name).toBe('a_long_member_name.o');
    // The walk ran and gave x.o the next id.
    expect(ar.memberCount).toBe(2);
    expect(archiveAllMembers(ar)).toEqual([1, 0]);
    expect(archiveMember(ar, 1).name).toBe('x.o');

    // Without any `//`, the walk reports the missing table.
    const missing = buildArchive('!<arch>\n', [
      ['/', Buffer.concat([u32be(1, SARMAG + AR_HDR_SIZE + 12), Buffer.from('sym\0')])],
      ['/0', 'yy'],
    ]);
    const lazy = parseArchive(missing, 'nolong.a');
    expect(linkErrorOf(() => archiveMember(lazy, 0)).message).toMatch(
      /^nolong\.a: long name reference \/0 without a \/\/ long-name table in member header at offset 0x50$/,
    );
  });
});

describe('malformed input', () => {
  type ReadMode = (bytes: Uint8Array, name: string) => Archive;

  /** Reads and returns either the archive or the LinkError; any other exception escapes. */
  function attempt(bytes: Uint8Array, name: string, read: ReadMode): Archive | LinkError {
    try {
      return read(bytes, name);
    } catch (e) {
      if (e instanceof LinkError) return e;
      throw e;
    }
  }

  function truncationSweep(p: string, label: string) {
    const bytes = new Uint8Array(readFileSync(p));
    // The full walk, and on-demand decoding of every member the index names.
    for (const read of [readAll, readIndexed]) {
      let errors = 0;
      const t0 = performance.now();
      for (let len = 0; len < bytes.length; len++) {
        const r = attempt(bytes.subarray(0, len), label, read);
        if (r instanceof LinkError) {
          errors++;
          expect(r.message.startsWith(`${label}: `)).toBe(true);
          if (len >= SARMAG) expect(r.message).toMatch(/at offset 0x[0-9a-f]+/);
        }
      }
      // Only cuts on member boundaries can leave a valid archive.
      expect(errors).toBeGreaterThan(bytes.length * 0.9);
      expect(performance.now() - t0).toBeLessThan(10_000);
    }
  }

  it('rejects a GNU archive truncated at every possible length', () => {
    truncationSweep(gnuPath, 'libgnu.a');
  });

  it('rejects a thin archive truncated at every possible length', () => {
    truncationSweep(thinPath, 'libthin.a');
  });

  it('rejects a BSD archive truncated at every possible length', () => {
    const llvmAr = requireTool('llvm-ar', 'llvm');
    const p = path.join(dir, 'libbsd-trunc.a');
    run(llvmAr, ['--format=bsd', 'rcs', p, 'short.o', 'a_really_long_member_name.o'], dir);
    truncationSweep(p, 'libbsd.a');
  });

  it('names the offset of a truncated header and of data running past the end', () => {
    const bytes = new Uint8Array(readFileSync(gnuPath));
    const ar = parseArchive(bytes, 'libgnu.a');
    const all = members(ar);
    const last = all[all.length - 1]!;
    const h = last.headerOffset;
    expect(rejectedBoth(bytes.subarray(0, h + 30), 'libgnu.a').message).toBe(
      `libgnu.a: truncated archive member header at offset 0x${h.toString(16)}`,
    );
    const e = rejectedBoth(bytes.subarray(0, last.dataOffset + 1), 'libgnu.a');
    expect(e.message).toMatch(/runs past end of file/);
    expect(e.message).toContain(`offset 0x${h.toString(16)}`);
    expect(linkErrorOf(() => parseArchive(bytes.subarray(0, 5), 'libgnu.a')).message).toMatch(
      /^libgnu\.a: not an archive/,
    );
  });

  it('truncates libc.a at many points without crashing or stalling', () => {
    if (!existsSync(LIBC_A)) throw new Error(`${LIBC_A} missing: apt-get install libc6-dev`);
    const bytes = new Uint8Array(readFileSync(LIBC_A));
    const t0 = performance.now();
    for (let k = 1; k < 40; k++) {
      const len = Math.floor((bytes.length * k) / 40) + (k % 7);
      expect(attempt(bytes.subarray(0, len), 'libc.a', readIndexed)).toBeInstanceOf(LinkError);
      expect(attempt(bytes.subarray(0, len), 'libc.a', readAll)).toBeInstanceOf(LinkError);
    }
    expect(performance.now() - t0).toBeLessThan(10_000);
  });

  describe('corrupted header fields', () => {
    const base = () => new Uint8Array(readFileSync(gnuPath));
    const firstMember = () => members(parseArchive(base(), 'lib.a'))[0]!;

    it('non-decimal size field', () => {
      const h = firstMember().headerOffset;
      const e = rejectedBoth(writeField(base(), h + 48, '12a4      '), 'lib.a');
      expect(e.message).toBe(
        `lib.a: invalid size field "12a4      " in archive member header at offset 0x${h.toString(16)}`,
      );
      rejectedBoth(writeField(base(), h + 48, '          '), 'lib.a');
      rejectedBoth(writeField(base(), h + 48, ' 12       '), 'lib.a');
      rejectedBoth(writeField(base(), h + 48, '-1        '), 'lib.a');
    });

    it('lying size field: rejected at once, nothing allocated for it', () => {
      const h = firstMember().headerOffset;
      const { value: e, ms } = timed(() =>
        rejectedBoth(writeField(base(), h + 48, '9999999999'), 'lib.a'),
      );
      expect(e.message).toMatch(/size 9999999999 runs past end of file/);
      expect(ms).toBeLessThan(1000);
    });

    it('bad header terminator', () => {
      const h = firstMember().headerOffset;
      const e = rejectedBoth(writeField(base(), h + 58, '`X'), 'lib.a');
      expect(e.message).toMatch(/^lib\.a: bad archive member header terminator/);
      expect(e.message).toContain(`at offset 0x${h.toString(16)}`);
    });

    it('long-name offset out of range', () => {
      const bytes = base();
      const ar = parseArchive(bytes, 'lib.a');
      const m = members(ar).find((x) => x.name === 'a_really_long_member_name.o')!;
      const e = rejectedBoth(writeField(bytes, m.headerOffset, '/99999         '), 'lib.a');
      expect(e.message).toMatch(/long name offset 99999 out of range/);
      expect(e.message).toContain(`at offset 0x${m.headerOffset.toString(16)}`);
      rejectedBoth(writeField(bytes, m.headerOffset, '/1x             '), 'lib.a');
    });

    it('long-name reference without a long-name table', () => {
      const bytes = buildArchive('!<arch>\n', [['/0', 'x']]);
      expect(linkErrorOf(() => parseArchive(bytes, 'l.a')).message).toMatch(
        /without a \/\/ long-name table .*at offset 0x8$/,
      );
    });

    it('unterminated long name', () => {
      const bytes = buildArchive('!<arch>\n', [
        ['//', 'no_terminator'],
        ['/3', 'x'],
      ]);
      expect(linkErrorOf(() => parseArchive(bytes, 'l.a')).message).toMatch(
        /unterminated long name/,
      );
    });

    it('BSD name longer than its member', () => {
      const bytes = buildArchive('!<arch>\n', [['#1/20', 'short']]);
      expect(linkErrorOf(() => parseArchive(bytes, 'b.a')).message).toMatch(
        /BSD member name length 20 exceeds member size 5 at offset 0x8/,
      );
    });
  });

  describe('corrupted GNU symbol index', () => {
    const base = () => new Uint8Array(readFileSync(gnuPath));
    const idx = SARMAG + AR_HDR_SIZE; // the `/` member's data

    it('count running past its member', () => {
      const bytes = base();
      for (const count of [0x7fffffff, 0xffffffff, 1000]) {
        const c = bytes.slice();
        new DataView(c.buffer).setUint32(idx, count);
        const { value: e, ms } = timed(() => linkErrorOf(() => parseArchive(c, 'lib.a')));
        expect(e.message).toMatch(/symbol index count \d+ runs past the end of its member/);
        expect(e.message).toContain('at offset 0x8');
        expect(ms).toBeLessThan(1000);
      }
    });

    it('entry pointing to something that is not a member header', () => {
      const bytes = base();
      const ar = parseArchive(bytes, 'lib.a');
      const firstHdr = members(ar)[0]!.headerOffset;
      // The index member itself, the middle of a header, an odd offset, past the end.
      for (const bad of [SARMAG, firstHdr + 2, firstHdr + 61, bytes.length + 100]) {
        const c = bytes.slice();
        new DataView(c.buffer).setUint32(idx + 4, bad);
        const msg = `refers to offset 0x${bad.toString(16)}, which is not a member header`;
        // The full walk checks that every entry names a header it meets.
        expect(linkErrorOf(() => readAll(c, 'lib.a')).message).toContain(msg);
        if (bad === firstHdr + 2) {
          // Plausible without reading the header; decoding it on demand finds no header there.
          const lazy = parseArchive(c, 'lib.a');
          const e = linkErrorOf(() => archiveMember(lazy, lazy.symbolMembers[0]!));
          expect(e.message).toBe(
            `lib.a: bad archive member header terminator (expected "\`\\n") at offset ` +
              `0x${bad.toString(16)}`,
          );
        } else {
          // Inside the leading special members, misaligned or outside the file: the index
          // itself is rejected.
          expect(linkErrorOf(() => parseArchive(c, 'lib.a')).message).toContain(msg);
        }
      }
    });

    it('names running past the string table', () => {
      const bytes = base();
      const ar = parseArchive(bytes, 'lib.a');
      const count = ar.symbolNames.length;
      // Replace every NUL in the string table with 'x'.
      const strStart = idx + 4 + 4 * count;
      const strEnd = idx + readSize(bytes, SARMAG);
      const c = bytes.slice();
      for (let i = strStart; i < strEnd; i++) if (c[i] === 0) c[i] = 0x78;
      expect(linkErrorOf(() => parseArchive(c, 'lib.a')).message).toMatch(
        /symbol index string table ends before name 0/,
      );
    });
  });

  describe('corrupted BSD symbol index', () => {
    /**
     * `__.SYMDEF` (as `#1/12`) followed by member x.o. `entries` gets the header offset of x.o
     * and returns the ranlib (strx, off) words.
     */
    function bsd(
      ranlibSize: number,
      entries: (memberAt: number) => number[],
      strSize: number,
      strs: string,
    ): Uint8Array {
      const words = entries(0).length;
      const symdefLen = 12 + 4 + 4 * words + 4 + strs.length;
      const memberAt = SARMAG + AR_HDR_SIZE + symdefLen + (symdefLen & 1);
      const symdef = Buffer.concat([
        Buffer.from('__.SYMDEF\0\0\0'),
        u32le(ranlibSize, ...entries(memberAt), strSize),
        Buffer.from(strs, 'latin1'),
      ]);
      return buildArchive('!<arch>\n', [
        ['#1/12', symdef],
        ['#1/4', 'x.o\0data'],
      ]);
    }
    const msg = (b: Uint8Array) => linkErrorOf(() => parseArchive(b, 'b.a')).message;

    it('is accepted when well formed', () => {
      const ar = parseArchive(
        bsd(8, (h) => [0, h], 4, 'sym\0'),
        'b.a',
      );
      expect(indexPairs(ar)).toEqual([['sym', 'x.o']]);
      expect(archiveMember(ar, 0).size).toBe(4);
    });

    it('ranlib size or string table size running past the member', () => {
      expect(msg(bsd(0xfffffff8, (h) => [0, h], 4, 'sym\0'))).toMatch(
        /ranlib array size 4294967288 runs past the end of its member .*at offset 0x8$/,
      );
      expect(msg(bsd(8, (h) => [0, h], 0x7fffffff, 'sym\0'))).toMatch(
        /string table size 2147483647 runs past/,
      );
      expect(msg(bsd(7, (h) => [0, h], 4, 'sym\0'))).toMatch(/not a multiple of 8/);
    });

    it('name offset out of range, unterminated name, bad member offset', () => {
      expect(msg(bsd(8, (h) => [4, h], 4, 'sym\0'))).toMatch(/entry 0 name offset 4 out of range/);
      expect(msg(bsd(8, (h) => [0, h], 4, 'symx'))).toMatch(/unterminated name/);
      expect(msg(bsd(8, (h) => [0, h + 1], 4, 'sym\0'))).toMatch(
        /refers to offset 0x[0-9a-f]+, which is not a member header/,
      );
    });
  });

  describe('adversarial tables stay linear', () => {
    it('many BSD entries pointing into one long string', () => {
      const n = 100_000;
      const strs = 'a'.repeat(400_000) + '\0';
      const symdefLen = 12 + 4 + n * 8 + 4 + strs.length;
      const memberAt = SARMAG + AR_HDR_SIZE + symdefLen + (symdefLen & 1);
      // Every entry starts at a different byte of the same 400 KB name.
      const ranlib = Buffer.alloc(4 + n * 8 + 4);
      ranlib.writeUInt32LE(n * 8, 0);
      for (let i = 0; i < n; i++) {
        ranlib.writeUInt32LE(i, 4 + i * 8);
        ranlib.writeUInt32LE(memberAt, 8 + i * 8);
      }
      ranlib.writeUInt32LE(strs.length, 4 + n * 8);
      const symdef = Buffer.concat([
        Buffer.from('__.SYMDEF\0\0\0'),
        ranlib,
        Buffer.from(strs, 'latin1'),
      ]);
      const bytes = buildArchive('!<arch>\n', [
        ['#1/12', symdef],
        ['x.o/', 'data'],
      ]);
      const { value: ar, ms } = timed(() => parseArchive(bytes, 'evil.a'));
      expect(ar.symbolNames.length).toBe(n);
      expect(ar.symbolNames[n - 1]!.length).toBe(400_000 - (n - 1));
      expect(ms).toBeLessThan(2000);
    });

    it('many members referencing a long-name table without terminators', () => {
      const n = 20_000;
      const table = 'b'.repeat(200_000);
      const parts: Array<[string, string]> = [['//', table]];
      for (let i = 0; i < n; i++) parts.push([`/${i}`, '']);
      const bytes = buildArchive('!<arch>\n', parts);
      const { value: e, ms } = timed(() => linkErrorOf(() => parseArchive(bytes, 'evil.a')));
      expect(e.message).toMatch(/unterminated long name/);
      // And with one terminator at the very end, all names resolve quickly.
      parts[0] = ['//', table.slice(0, -2) + '/\n'];
      const ok = timed(() => parseArchive(buildArchive('!<arch>\n', parts), 'evil.a'));
      expect(ok.value.memberCount).toBe(n);
      expect(ms + ok.ms).toBeLessThan(2000);
    });
  });
});

/** ar_size of the header at `hdr` (test-side, trusting the input). */
function readSize(bytes: Uint8Array, hdr: number): number {
  return parseInt(
    Buffer.from(bytes)
      .toString('latin1', hdr + 48, hdr + 58)
      .trim(),
    10,
  );
}

// Table-driven tests of the i386 relocation types and relaxations against GNU ld.
//
// Each row is a small assembly snippet whose instruction at `insn` carries one relocation. It is
// assembled once (`i686-linux-gnu-as --32`, cached under .cache/arch-386) and linked by GNU ld
// (`i686-linux-gnu-ld`) and by tslink with the same flags. The two outputs lay out sections
// differently (GOT and PLT positions, TLS block size), so the bytes are compared in two parts:
//   - every byte of the instruction outside the relocated field must equal GNU ld's (which also
//     checks each relaxation's rewritten opcode bytes), and
//   - the field's value, decoded against each output's own symbols, GOT, PLT and dynamic
//     relocations, must mean the same in both: what GNU ld computes is the expectation, and the
//     row's `target` states it for the reader (and is checked against GNU ld too).
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const cacheDir = join(repoRoot, '.cache', 'arch-386');
const TSLINK = join(repoRoot, 'apps', 'cli', 'libexec', 'tslink');
const AS = 'i686-linux-gnu-as';
const LD = 'i686-linux-gnu-ld';

function requireTool(tool: string): void {
  const r = spawnSync(tool, ['--version']);
  if (r.error || r.status !== 0)
    throw new Error(`${tool} is required: apt-get install binutils-i686-linux-gnu`);
}

function run(argv: string[], cwd?: string): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd, encoding: 'utf8' });
  if (r.error || r.status !== 0)
    throw new Error(`$ ${argv.join(' ')}\n(status ${r.status})\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** Assembles `code` once per (code, flags, assembler version); returns the cached object. */
let asVersion = '';
function assemble(code: string, flags: readonly string[] = []): string {
  asVersion ||= execFileSync(AS, ['--version'], { encoding: 'utf8' });
  const key = createHash('sha256').update(asVersion).update(JSON.stringify(flags)).update(code);
  const obj = join(cacheDir, 'obj', `${key.digest('hex').slice(0, 20)}.o`);
  if (existsSync(obj)) return obj;
  mkdirSync(dirname(obj), { recursive: true });
  const src = `${obj}.${process.pid}.s`;
  const tmp = `${obj}.${process.pid}.tmp`;
  writeFileSync(src, code);
  try {
    run([AS, '--32', ...flags, '-o', tmp, src]);
    renameSync(tmp, obj);
  } finally {
    rmSync(src, { force: true });
  }
  return obj;
}

// --- Reading a linked output (through readelf, whose parsing is not under test) --------------

interface Output {
  bytes: Buffer;
  sections: { name: string; type: string; addr: number; off: number; size: number }[];
  syms: Map<string, number>;
  /** Dynamic relocations by the address they patch. */
  relocs: Map<number, { type: string; sym: string }>;
  tls: { vaddr: number; memsz: number; align: number } | null;
}

function readOutput(file: string): Output {
  const sections: Output['sections'] = [];
  for (const m of run(['readelf', '-SW', file]).matchAll(
    /^\s*\[\s*\d+\]\s+(\S+)\s+(\S+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)/gm,
  ))
    sections.push({
      name: m[1]!,
      type: m[2]!,
      addr: parseInt(m[3]!, 16),
      off: parseInt(m[4]!, 16),
      size: parseInt(m[5]!, 16),
    });
  const syms = new Map<string, number>();
  const symtab = run(['readelf', '-sW', file]).split("Symbol table '.symtab'")[1] ?? '';
  for (const m of symtab.matchAll(
    /^\s*\d+:\s+([0-9a-f]+)\s+\d+\s+\S+\s+\S+\s+\S+\s+\S+\s+(\S+)$/gm,
  ))
    if (!syms.has(m[2]!)) syms.set(m[2]!, parseInt(m[1]!, 16));
  const relocs = new Map<number, { type: string; sym: string }>();
  for (const m of run(['readelf', '-rW', file]).matchAll(
    /^([0-9a-f]{8})\s+[0-9a-f]{8}\s+(R_386_\w+)(?:\s+[0-9a-f]+\s+(\S+))?/gm,
  ))
    relocs.set(parseInt(m[1]!, 16), { type: m[2]!, sym: (m[3] ?? '').replace(/@.*/, '') });
  const t =
    /^\s*TLS\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s+0x[0-9a-f]+\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s+\S+\s+0x([0-9a-f]+)/m.exec(
      run(['readelf', '-lW', file]),
    );
  const tls = t
    ? { vaddr: parseInt(t[1]!, 16), memsz: parseInt(t[2]!, 16), align: parseInt(t[3]!, 16) }
    : null;
  return { bytes: readFileSync(file), sections, syms, relocs, tls };
}

function sym(o: Output, name: string): number {
  const v = o.syms.get(name);
  if (v === undefined) throw new Error(`no symbol ${name} in the output`);
  return v;
}

/** _GLOBAL_OFFSET_TABLE_: the start of .got.plt (of .got without one), per the i386 psABI. The
 * symbol is only in .symtab when something names it. */
function gotBase(o: Output): number {
  const v = o.syms.get('_GLOBAL_OFFSET_TABLE_');
  if (v !== undefined) return v;
  const s =
    o.sections.find((s) => s.name === '.got.plt') ?? o.sections.find((s) => s.name === '.got');
  if (!s) throw new Error('no GOT in the output');
  return s.addr;
}

function fileOffset(o: Output, addr: number): number {
  const s = o.sections.find(
    (s) => s.type !== 'NOBITS' && s.addr !== 0 && addr >= s.addr && addr < s.addr + s.size,
  );
  if (!s) throw new Error(`address 0x${addr.toString(16)} is in no section with contents`);
  return s.off + (addr - s.addr);
}

function word(o: Output, addr: number): number {
  return o.bytes.readUInt32LE(fileOffset(o, addr));
}

/** Offset of a TLS symbol from the thread pointer (variant II: TP = aligned end of the block). */
function tpoff(o: Output, name: string): number {
  if (!o.tls) throw new Error('no PT_TLS');
  const a = Math.max(o.tls.align, 1);
  return sym(o, name) - Math.ceil(o.tls.memsz / a) * a;
}

/** What a GOT slot holds: its dynamic relocation, or (static contents) the value itself. */
function slot(o: Output, addr: number): string {
  const r = o.relocs.get(addr);
  if (r)
    return r.type === 'R_386_RELATIVE' ? `RELATIVE ${hex(word(o, addr))}` : `${r.type} ${r.sym}`;
  return `value ${hex(word(o, addr))}`;
}

function hex(v: number): string {
  return `0x${(v >>> 0).toString(16)}`;
}

/** The slot a PLT entry at `addr` jumps through: `jmp *abs` (ff 25) or `jmp *off(%ebx)` (ff a3). */
function pltTarget(o: Output, addr: number): string {
  const b = o.bytes;
  const f = fileOffset(o, addr);
  if (b[f] !== 0xff) return `not a PLT entry (${b.subarray(f, f + 6).toString('hex')})`;
  const disp = b.readUInt32LE(f + 2);
  const form = b[f + 1] === 0x25 ? 'abs' : b[f + 1] === 0xa3 ? 'ebx' : `?${b[f + 1]}`;
  const slotAddr = form === 'ebx' ? (gotBase(o) + disp) >>> 0 : disp;
  const r = o.relocs.get(slotAddr);
  return `${form} plt → ${r ? `${r.type} ${r.sym}` : `no relocation at ${hex(slotAddr)}`}`;
}

// --- The table --------------------------------------------------------------------------------

/** How to read the relocated field: what it refers to, in terms of the output's own layout. */
type Kind =
  /** The field is an address: S + A. */
  | 'abs'
  /** PC-relative: the field plus its own address plus `bias` is the target address. */
  | 'pc'
  /** PC-relative to a PLT entry: which symbol's slot that entry jumps through, and how. */
  | 'plt'
  /** Relative to _GLOBAL_OFFSET_TABLE_. */
  | 'gotoff'
  /** The GOT slot at GOT + field: its dynamic relocation or static value. */
  | 'got'
  /** The GOT slot at the absolute address in the field. */
  | 'gotabs'
  /** The offset of the TLS symbol `target` from the thread pointer (negative). */
  | 'tp'
  /** The same, negated (R_386_TLS_LE_32, `subl $x, %eax`). */
  | 'negtp'
  /** A plain number. */
  | 'value';

interface Row {
  name: string;
  /** Output kind: a static executable, executables linked against a stub library, or -shared. */
  mode: 'static' | 'exec' | 'pie' | 'shared';
  /** Instructions placed in .text at `insn` (or a whole section when `data` is set). */
  code: string;
  /** Code placed in .data instead (for data relocations). */
  data?: boolean;
  asFlags?: string[];
  /** Bytes of the instruction (sequence) at `insn` to compare. */
  len: number;
  field?: { off: number; size?: 1 | 2 | 4; kind: Kind; bias?: number };
  /** What the field means (for `abs`/`pc`/`gotoff`: a symbol, optionally +N). */
  target?: string;
  /**
   * Where tslink deliberately differs from GNU ld: its expected bytes and meaning instead.
   * GNU ld relaxes GD/TLSDESC of another module's TLS to initial-exec through an
   * R_386_TLS_TPOFF32 slot (positive offset, `subl`/`negl`); tslink, like lld, reuses the
   * R_386_TLS_TPOFF slot every other initial-exec access uses (negative offset, `addl`/`movl`).
   */
  lld?: { bytes: string; meaning: string };
}

/** `.reloc`-emitted raw encodings keep a relocation the assembler would otherwise choose itself. */
const GOT32 = (modrmBytes: string, s: string) =>
  `insn: .byte ${modrmBytes}\n .reloc ., R_386_GOT32, ${s}\n .long 0`;

/** How PIC code loads the GOT base into %ebx, which GOT-relative fields are relative to. */
const GOTPC = 'addl $_GLOBAL_OFFSET_TABLE_, %ebx';

const ROWS: Row[] = [
  // Plain data and code references.
  {
    name: 'R_386_32',
    mode: 'static',
    data: true,
    code: 'insn: .long var+4',
    len: 4,
    field: { off: 0, kind: 'abs' },
    target: 'var+4',
  },
  {
    name: 'R_386_PC32',
    mode: 'static',
    code: 'insn: call fn',
    len: 5,
    field: { off: 1, kind: 'pc', bias: 4 },
    target: 'fn',
  },
  {
    name: 'R_386_PLT32 to a local function',
    mode: 'static',
    code: 'insn: call fn@PLT',
    len: 5,
    field: { off: 1, kind: 'pc', bias: 4 },
    target: 'fn',
  },
  {
    name: 'R_386_PLT32 to an imported function (absolute PLT)',
    mode: 'exec',
    code: 'insn: call ext_func@PLT',
    len: 5,
    field: { off: 1, kind: 'plt', bias: 4 },
    target: 'abs plt → R_386_JUMP_SLOT ext_func',
  },
  {
    name: 'R_386_PLT32 to an imported function (%ebx PLT, PIE)',
    mode: 'pie',
    code: 'insn: call ext_func@PLT',
    len: 5,
    field: { off: 1, kind: 'plt', bias: 4 },
    target: 'ebx plt → R_386_JUMP_SLOT ext_func',
  },
  {
    name: 'R_386_PLT32 in a shared object (preemptible)',
    mode: 'shared',
    code: 'insn: call fn@PLT',
    len: 5,
    field: { off: 1, kind: 'plt', bias: 4 },
    target: 'ebx plt → R_386_JUMP_SLOT fn',
  },
  {
    name: 'R_386_16',
    mode: 'static',
    data: true,
    code: 'insn: .word abs16+1',
    len: 2,
    field: { off: 0, size: 2, kind: 'abs' },
    target: 'abs16+1',
  },
  {
    name: 'R_386_8',
    mode: 'static',
    data: true,
    code: 'insn: .byte abs8+1',
    len: 1,
    field: { off: 0, size: 1, kind: 'abs' },
    target: 'abs8+1',
  },
  {
    name: 'R_386_PC16',
    mode: 'static',
    code: 'insn: .word fn2 - .',
    len: 2,
    field: { off: 0, size: 2, kind: 'pc' },
    target: 'fn2',
  },
  {
    name: 'R_386_PC8',
    mode: 'static',
    code: 'insn: .byte fn2 - .',
    len: 1,
    field: { off: 0, size: 1, kind: 'pc' },
    target: 'fn2',
  },
  {
    name: 'R_386_SIZE32',
    mode: 'static',
    code: 'insn: movl $var@SIZE, %eax',
    len: 5,
    field: { off: 1, kind: 'value' },
    target: '12',
  },
  {
    name: 'R_386_32 against local data in a PIE (RELATIVE)',
    mode: 'pie',
    data: true,
    code: 'insn: .long var',
    len: 4,
    field: { off: 0, kind: 'abs' },
    target: 'var',
  },
  {
    name: 'R_386_32 in .text against imported data (copy relocation)',
    mode: 'exec',
    code: 'insn: movl ext_var, %ecx',
    len: 6,
    field: { off: 2, kind: 'abs' },
    target: 'ext_var',
  },

  // The GOT and its base.
  {
    name: 'R_386_GOTPC',
    mode: 'pie',
    code: 'insn: addl $_GLOBAL_OFFSET_TABLE_, %ebx',
    len: 6,
    field: { off: 2, kind: 'pc', bias: -2 },
    target: '_GLOBAL_OFFSET_TABLE_',
  },
  {
    name: 'R_386_GOTOFF',
    mode: 'pie',
    code: `${GOTPC}\ninsn: leal var@GOTOFF(%ebx), %eax`,
    len: 6,
    field: { off: 2, kind: 'gotoff' },
    target: 'var',
  },
  {
    name: 'R_386_GOT32 with a base register (local, PIE: RELATIVE slot)',
    mode: 'pie',
    code: GOT32('0x8b, 0x83', 'var'),
    len: 6,
    field: { off: 2, kind: 'got' },
  },
  {
    name: 'R_386_GOT32 with a base register (imported)',
    mode: 'pie',
    code: GOT32('0x8b, 0x83', 'ext_var'),
    len: 6,
    field: { off: 2, kind: 'got' },
    target: 'R_386_GLOB_DAT ext_var',
  },
  {
    name: 'R_386_GOT32 without a base register (absolute slot address)',
    mode: 'static',
    code: GOT32('0x8b, 0x0d', 'var'),
    len: 6,
    field: { off: 2, kind: 'gotabs' },
  },
  {
    name: 'R_386_GOT32X: mov with base → lea @GOTOFF',
    mode: 'pie',
    code: `${GOTPC}\ninsn: movl var@GOT(%ebx), %eax`,
    len: 6,
    field: { off: 2, kind: 'gotoff' },
    target: 'var',
  },
  {
    name: 'R_386_GOT32X: mov without base → mov $imm',
    mode: 'static',
    code: 'insn: movl var@GOT, %ecx',
    len: 6,
    field: { off: 2, kind: 'abs' },
    target: 'var',
  },
  {
    name: 'R_386_GOT32X: call *@GOT → addr32 call',
    mode: 'pie',
    code: 'insn: call *fn@GOT(%ebx)',
    len: 6,
    field: { off: 2, kind: 'pc', bias: 4 },
    target: 'fn',
  },
  {
    name: 'R_386_GOT32X: jmp *@GOT → jmp; nop',
    mode: 'pie',
    code: 'insn: jmp *fn@GOT(%ebx)',
    len: 6,
    field: { off: 1, kind: 'pc', bias: 4 },
    target: 'fn',
  },
  {
    name: 'R_386_GOT32X against an imported symbol stays a load',
    mode: 'pie',
    code: 'insn: movl ext_var@GOT(%ebx), %eax',
    len: 6,
    field: { off: 2, kind: 'got' },
    target: 'R_386_GLOB_DAT ext_var',
  },
  {
    name: 'R_386_GOT32X in a shared object (preemptible) stays a load',
    mode: 'shared',
    code: 'insn: movl var@GOT(%ebx), %eax',
    len: 6,
    field: { off: 2, kind: 'got' },
    target: 'R_386_GLOB_DAT var',
  },

  {
    name: 'R_386_GOT32X: mov with base in a position-dependent executable → mov $imm',
    mode: 'static',
    code: `${GOTPC}\ninsn: movl var@GOT(%ebx), %eax`,
    len: 6,
    field: { off: 2, kind: 'abs' },
    target: 'var',
  },
  {
    name: 'R_386_GOT32X: call *@GOT without base → addr32 call',
    mode: 'static',
    code: 'insn: call *fn@GOT',
    len: 6,
    field: { off: 2, kind: 'pc', bias: 4 },
    target: 'fn',
  },
  {
    name: 'R_386_PC32 to an imported function goes through its PLT entry',
    mode: 'exec',
    code: 'insn: call ext_func',
    len: 5,
    field: { off: 1, kind: 'plt', bias: 4 },
    target: 'abs plt → R_386_JUMP_SLOT ext_func',
  },

  // Local-exec and initial-exec TLS.
  {
    name: 'R_386_TLS_LE',
    mode: 'static',
    code: 'insn: movl %gs:tv@ntpoff, %eax',
    len: 6,
    field: { off: 2, kind: 'tp' },
    target: 'tv',
  },
  {
    name: 'R_386_TLS_LE_32',
    mode: 'static',
    code: 'insn: movl $tv@tpoff, %eax',
    len: 5,
    field: { off: 1, kind: 'negtp' },
    target: 'tv',
  },
  {
    name: 'R_386_TLS_IE → LE: movl (%eax, moffs form)',
    mode: 'static',
    code: 'insn: movl tv@indntpoff, %eax',
    len: 5,
    field: { off: 1, kind: 'tp' },
    target: 'tv',
  },
  {
    name: 'R_386_TLS_IE → LE: movl',
    mode: 'static',
    code: 'insn: movl tv@indntpoff, %ecx',
    len: 6,
    field: { off: 2, kind: 'tp' },
    target: 'tv',
  },
  {
    name: 'R_386_TLS_IE → LE: addl',
    mode: 'static',
    code: 'insn: addl tv@indntpoff, %ecx',
    len: 6,
    field: { off: 2, kind: 'tp' },
    target: 'tv',
  },
  {
    name: 'R_386_TLS_IE against imported TLS',
    mode: 'exec',
    code: 'insn: movl ext_tls@indntpoff, %ecx',
    len: 6,
    field: { off: 2, kind: 'gotabs' },
    target: 'R_386_TLS_TPOFF ext_tls',
  },
  {
    name: 'R_386_TLS_GOTIE → LE: movl',
    mode: 'pie',
    code: 'insn: movl tv@gotntpoff(%ebx), %ecx',
    len: 6,
    field: { off: 2, kind: 'tp' },
    target: 'tv',
  },
  {
    name: 'R_386_TLS_GOTIE → LE: addl → leal',
    mode: 'pie',
    code: 'insn: addl tv@gotntpoff(%ebx), %ecx',
    len: 6,
    field: { off: 2, kind: 'tp' },
    target: 'tv',
  },
  {
    name: 'R_386_TLS_GOTIE against imported TLS',
    mode: 'pie',
    code: 'insn: movl ext_tls@gotntpoff(%ebx), %ecx',
    len: 6,
    field: { off: 2, kind: 'got' },
    target: 'R_386_TLS_TPOFF ext_tls',
  },
  {
    name: 'R_386_TLS_GOTIE in a shared object',
    mode: 'shared',
    code: 'insn: movl tv@gotntpoff(%ebx), %ecx',
    len: 6,
    field: { off: 2, kind: 'got' },
    target: 'R_386_TLS_TPOFF tv',
  },

  // General- and local-dynamic TLS, and their relaxations in executables.
  {
    name: 'R_386_TLS_GD → LE (SIB form, call via PLT)',
    mode: 'static',
    code: 'insn: leal tv@tlsgd(,%ebx,1), %eax\n call ___tls_get_addr@PLT',
    len: 12,
    field: { off: 8, kind: 'negtp' },
    target: 'tv',
  },
  {
    name: 'R_386_TLS_GD → LE (base register, call via GOT)',
    mode: 'pie',
    code: 'insn: leal tv@tlsgd(%ecx), %eax\n call *___tls_get_addr@GOT(%ecx)',
    len: 12,
    field: { off: 8, kind: 'negtp' },
    target: 'tv',
  },
  {
    name: 'R_386_TLS_GD → IE for imported TLS',
    mode: 'pie',
    code: 'insn: leal ext_tls@tlsgd(,%ebx,1), %eax\n call ___tls_get_addr@PLT',
    len: 12,
    field: { off: 8, kind: 'got' },
    target: 'R_386_TLS_TPOFF32 ext_tls',
    lld: { bytes: '65 a1 00 00 00 00 03 83 .. .. .. ..', meaning: 'R_386_TLS_TPOFF ext_tls' },
  },
  {
    name: 'R_386_TLS_GD in a shared object',
    mode: 'shared',
    code: 'insn: leal tv@tlsgd(,%ebx,1), %eax\n call ___tls_get_addr@PLT',
    len: 7,
    field: { off: 3, kind: 'got' },
    target: 'R_386_TLS_DTPMOD32 tv',
  },
  {
    name: 'R_386_TLS_LDM → LE (call via PLT)',
    mode: 'static',
    code: 'insn: leal tb@tlsldm(%ebx), %eax\n call ___tls_get_addr@PLT',
    len: 11,
  },
  {
    name: 'R_386_TLS_LDM → LE (call via GOT)',
    mode: 'pie',
    code: 'insn: leal tb@tlsldm(%ebx), %eax\n call *___tls_get_addr@GOT(%ebx)',
    len: 12,
  },
  {
    name: 'R_386_TLS_LDM in a shared object',
    mode: 'shared',
    code: 'insn: leal tb@tlsldm(%ebx), %eax\n call ___tls_get_addr@PLT',
    len: 6,
    field: { off: 2, kind: 'got' },
    target: 'R_386_TLS_DTPMOD32 ',
  },
  {
    name: 'R_386_TLS_LDO_32 in an executable (from TP)',
    mode: 'static',
    code: 'insn: movl tb@dtpoff(%eax), %ecx',
    len: 6,
    field: { off: 2, kind: 'tp' },
    target: 'tb',
  },
  {
    name: 'R_386_TLS_LDO_32 in a shared object (in the block)',
    mode: 'shared',
    code: 'insn: movl tb@dtpoff(%eax), %ecx',
    len: 6,
    field: { off: 2, kind: 'value' },
  },

  // TLS descriptors.
  {
    name: 'R_386_TLS_GOTDESC/TLS_DESC_CALL → LE',
    mode: 'static',
    code: 'insn: leal tv@tlsdesc(%ebx), %eax\n call *tv@tlscall(%eax)',
    len: 8,
    field: { off: 2, kind: 'tp' },
    target: 'tv',
  },
  {
    name: 'R_386_TLS_GOTDESC/TLS_DESC_CALL → IE for imported TLS',
    mode: 'pie',
    code: 'insn: leal ext_tls@tlsdesc(%ebx), %eax\n call *ext_tls@tlscall(%eax)',
    len: 8,
    field: { off: 2, kind: 'got' },
    target: 'R_386_TLS_TPOFF32 ext_tls',
    lld: { bytes: '8b 83 .. .. .. .. 66 90', meaning: 'R_386_TLS_TPOFF ext_tls' },
  },
  {
    name: 'R_386_TLS_GOTDESC in a shared object',
    mode: 'shared',
    code: 'insn: leal tv@tlsdesc(%ebx), %eax\n call *tv@tlscall(%eax)',
    len: 8,
    field: { off: 2, kind: 'got' },
    target: 'R_386_TLS_DESC tv',
  },

  // IFUNC in a static executable: the call goes through a PLT entry whose slot is IRELATIVE.
  {
    name: 'R_386_PC32 to an IFUNC (IRELATIVE)',
    mode: 'static',
    code: 'insn: call ifn',
    len: 5,
    field: { off: 1, kind: 'plt', bias: 4 },
    target: 'abs plt → R_386_IRELATIVE ',
  },
];

/** The program around each row: the symbols rows refer to. */
function source(row: Row): string {
  return `
  .text
  .globl _start
_start:
${row.data ? '' : row.code}
  ret
  .globl fn
  .type fn, @function
fn: ret
  .size fn, 1
  .globl ___tls_get_addr
  .type ___tls_get_addr, @function
___tls_get_addr: ret
  .type ifn_resolver, @function
ifn_resolver:
  xorl %eax, %eax
  ret
  .globl ifn
  .type ifn, @gnu_indirect_function
  .set ifn, ifn_resolver
  .section .text.far, "ax", @progbits
fn2: ret
  .data
${row.data ? row.code : ''}
  .globl var
  .type var, @object
var: .long 1, 2, 3
  .size var, 12
  .globl abs16, abs8
  .set abs16, 0x1234
  .set abs8, 0x42
  .section .tdata, "awT", @progbits
  .globl tv
  .type tv, @object
  .p2align 2
tv: .long 5
  .size tv, 4
  .section .tbss, "awT", @nobits
  .p2align 2
tb: .zero 8
`;
}

const STUB = `
  .text
  .globl ext_func
  .type ext_func, @function
ext_func: ret
  .data
  .globl ext_var
  .type ext_var, @object
ext_var: .long 7
  .size ext_var, 4
  .section .tdata, "awT", @progbits
  .globl ext_tls
  .type ext_tls, @object
ext_tls: .long 9
  .size ext_tls, 4
`;

let scratch = '';
let stub = '';

beforeAll(() => {
  requireTool(AS);
  requireTool(LD);
  if (!existsSync(TSLINK)) throw new Error(`${TSLINK} is missing: build the CLI (pnpm build)`);
  scratch = mkdtempSync(join(tmpdir(), 'arch-386-relocs-'));
  stub = join(scratch, 'libstub.so');
  run([LD, '-m', 'elf_i386', '-shared', '-soname', 'libstub.so', '-o', stub, assemble(STUB)]);
});

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

function linkFlags(mode: Row['mode']): string[] {
  const dyn = ['--dynamic-linker', '/lib/ld-linux.so.2', '-e', '_start'];
  switch (mode) {
    case 'static':
      return ['-static', '-e', '_start'];
    case 'exec':
      return [...dyn, '-no-pie', stub];
    case 'pie':
      return [...dyn, '-pie', stub];
    case 'shared':
      return ['-shared'];
  }
}

function readField(o: Output, addr: number, size: 1 | 2 | 4): number {
  const f = fileOffset(o, addr);
  return size === 4
    ? o.bytes.readInt32LE(f)
    : size === 2
      ? o.bytes.readInt16LE(f)
      : o.bytes.readInt8(f);
}

/** The symbolic meaning of the field (see `Kind`). */
function meaning(o: Output, row: Row, insn: number): string {
  const fld = row.field!;
  const at = insn + fld.off;
  const v = readField(o, at, fld.size ?? 4);
  const name = (addr: number): string => {
    const [base, off] = (row.target ?? '').split('+');
    const want = o.syms.get(base ?? '');
    if (want !== undefined && (want + Number(off ?? 0)) >>> 0 === addr >>> 0) return row.target!;
    for (const [n, a] of o.syms) if (a >>> 0 === addr >>> 0 && n !== '') return n;
    return hex(addr);
  };
  switch (fld.kind) {
    case 'abs':
      return name(v);
    case 'pc':
      return name(v + at + (fld.bias ?? 0));
    case 'plt':
      return pltTarget(o, (v + at + (fld.bias ?? 0)) >>> 0);
    case 'gotoff':
      return name(v + gotBase(o));
    case 'got':
    case 'gotabs': {
      const slotAddr = fld.kind === 'got' ? (v + gotBase(o)) >>> 0 : v >>> 0;
      const s = slot(o, slotAddr);
      // A slot holding a local address (RELATIVE or static): name the address.
      const m = /^(?:RELATIVE|value) (0x[0-9a-f]+)$/.exec(s);
      return m ? `slot of ${name(parseInt(m[1]!, 16))}` : s;
    }
    case 'tp':
      return v === tpoff(o, row.target!) ? `tpoff(${row.target})` : `tpoff ${v}`;
    case 'negtp':
      return -v === tpoff(o, row.target!) ? `-tpoff(${row.target})` : `-tpoff ${-v}`;
    case 'value':
      return String(v);
  }
}

describe('i386 relocations: tslink against GNU ld', () => {
  it.each(ROWS.map((r) => [r.name, r] as const))('%s', (_name, row) => {
    const obj = assemble(source(row), row.asFlags);
    const outs = (['gnu', 'tslink'] as const).map((linker) => {
      const out = join(
        scratch,
        `${linker}-${createHash('sha1').update(row.name).digest('hex').slice(0, 12)}`,
      );
      const cmd = linker === 'gnu' ? [LD] : [TSLINK];
      run([...cmd, '-m', 'elf_i386', ...linkFlags(row.mode), '-o', out, obj]);
      const o = readOutput(out);
      const insn = sym(o, 'insn');
      const f = fileOffset(o, insn);
      const bytes = [...o.bytes.subarray(f, f + row.len)];
      // Blank the field: its value depends on layout and is compared by meaning.
      if (row.field) for (let k = 0; k < (row.field.size ?? 4); k++) bytes[row.field.off + k] = -1;
      return {
        bytes: bytes.map((b) => (b < 0 ? '..' : b.toString(16).padStart(2, '0'))).join(' '),
        meaning: row.field ? meaning(o, row, insn) : '',
      };
    });
    const [gnu, ours] = outs as [(typeof outs)[0], (typeof outs)[0]];
    if (row.target !== undefined && row.field && !['got', 'gotabs', 'plt'].includes(row.field.kind))
      expect(gnu.meaning).toMatch(new RegExp(`${row.target.replace(/[+$()]/g, '\\$&')}\\)?$`));
    else if (row.target !== undefined) expect(gnu.meaning).toBe(row.target);
    if (row.lld) expect(ours).toEqual(row.lld);
    else expect(ours).toEqual(gnu);
  });
});

// --- Diagnostics ----------------------------------------------------------------------------

/** Links with tslink, which must fail; returns its stderr. */
function tslinkFails(code: string, flags: string[]): { stderr: string; obj: string } {
  const obj = assemble(code);
  const out = join(scratch, `fail-${createHash('sha1').update(code).digest('hex').slice(0, 12)}`);
  const r = spawnSync(TSLINK, ['-m', 'elf_i386', ...flags, '-o', out, obj], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(1);
  return { stderr: r.stderr, obj };
}

describe('i386 relocation diagnostics', () => {
  it('a relocation type without an implementation names file, section, offset and symbol', () => {
    // @gottpoff is R_386_TLS_IE_32 (a slot holding the positive offset), which GCC never emits.
    const { stderr, obj } = tslinkFails(
      '.text\n.globl _start\n_start: movl tv@gottpoff(%ebx), %eax\n' +
        '.section .tdata,"awT",@progbits\ntv: .long 1\n',
      ['-static', '-e', '_start'],
    );
    expect(stderr).toContain(
      `${obj}:(.text+0x2): unsupported relocation R_386_TLS_IE_32 against symbol tv`,
    );
  });

  it('local-exec TLS in a shared object asks for -fPIC', () => {
    const { stderr } = tslinkFails(
      '.text\nf: movl %gs:tv@ntpoff, %eax\n.section .tdata,"awT",@progbits\n.globl tv\ntv: .long 1\n',
      ['-shared'],
    );
    expect(stderr).toMatch(
      /relocation R_386_TLS_LE against tv cannot be used with -shared; recompile with -fPIC\n>>> referenced by .*\(\.text\+0x2\)/,
    );
  });

  it('an absolute GOT slot address (GOT32 without a base register) in a PIE', () => {
    const { stderr } = tslinkFails(
      '.text\n.globl _start\n_start: movl var@GOT, %ecx\n.data\n.globl var\nvar: .long 1\n',
      ['-pie', '-e', '_start'],
    );
    expect(stderr).toMatch(
      /relocation R_386_GOT32X against var cannot be used with -pie; recompile with -fPIC/,
    );
  });

  it('R_386_16 out of range', () => {
    const { stderr, obj } = tslinkFails(
      '.text\n.globl _start\n_start: ret\n.data\n .word far\n.globl far\n.set far, 0x12345\n',
      ['-static', '-e', '_start'],
    );
    expect(stderr).toContain(
      `${obj}:(.data+0x0): relocation R_386_16 out of range: 74565 is not in [-32768, 65535]; references 'far'`,
    );
  });
});

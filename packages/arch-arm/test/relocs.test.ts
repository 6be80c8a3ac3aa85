// Relocation application checked against GNU ld. Each row is a small assembly file (ARM or
// Thumb) that uses one relocation type; it is assembled with arm-linux-gnueabihf-as, linked
// statically by tslink, then by arm-linux-gnueabihf-ld with every section pinned
// (--section-start) where tslink put it, so both outputs have the same addresses, and the
// relocated bytes of the row's code are compared byte for byte.
//
// References to GOT slots differ by design (each linker orders its GOT its own way), so for
// those rows the comparison follows the pointer: the slot each output's code reaches must hold
// the same values.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const CACHE = join(ROOT, '.cache', 'arm-relocs');
const TSLINK = join(ROOT, 'apps', 'cli', 'libexec', 'tslink');
const AS = 'arm-linux-gnueabihf-as';
const LD = 'arm-linux-gnueabihf-ld';

function run(argv: string[]): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  if (r.error)
    throw new Error(
      `${argv[0]}: ${r.error.message} (apt-get install binutils-arm-linux-gnueabihf)`,
    );
  if (r.status !== 0) throw new Error(`$ ${argv.join(' ')}\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** Assembles `src` once; the object is cached under .cache/ by the source's hash. */
function assemble(src: string): string {
  mkdirSync(CACHE, { recursive: true });
  const h = createHash('sha256').update(src).digest('hex').slice(0, 16);
  const obj = join(CACHE, `${h}.o`);
  if (!existsSync(obj)) {
    const s = join(CACHE, `${h}.s`);
    writeFileSync(s, src);
    run([AS, '-march=armv7-a', '-mfpu=vfpv3-d16', '-mfloat-abi=hard', s, '-o', obj]);
  }
  return obj;
}

interface Section {
  name: string;
  addr: number;
  offset: number;
  size: number;
  type: number;
}

function sections(file: string): { bytes: Buffer; secs: Map<string, Section> } {
  const b = readFileSync(file);
  const shoff = b.readUInt32LE(32);
  const shnum = b.readUInt16LE(48);
  const shstrndx = b.readUInt16LE(50);
  const hdr = (i: number) => shoff + i * 40;
  const strOff = b.readUInt32LE(hdr(shstrndx) + 16);
  const secs = new Map<string, Section>();
  for (let i = 1; i < shnum; i++) {
    const o = hdr(i);
    const n = b.readUInt32LE(o);
    const end = b.indexOf(0, strOff + n);
    const name = b.toString('latin1', strOff + n, end);
    secs.set(name, {
      name,
      type: b.readUInt32LE(o + 4),
      addr: b.readUInt32LE(o + 12),
      offset: b.readUInt32LE(o + 16),
      size: b.readUInt32LE(o + 20),
    });
  }
  return { bytes: b, secs };
}

function symbolAddr(file: string, name: string): number {
  const out = run(['arm-linux-gnueabihf-nm', file]);
  const m = new RegExp(`^([0-9a-f]+) \\w ${name}$`, 'm').exec(out);
  if (!m) throw new Error(`${name} not in ${file}`);
  return parseInt(m[1]!, 16);
}

const SKIP_PIN = new Set(['.symtab', '.strtab', '.shstrtab', '.ARM.attributes', '.comment']);

/**
 * Links with tslink, then with GNU ld at tslink's addresses; returns both outputs. GNU ld's
 * .got starts with three reserved words tslink's static GOT does not have: with a GOT, the
 * writable sections after it are left where GNU ld puts them (the rows then use read-only data).
 */
function linkBoth(obj: string, withGot: boolean): { ts: string; gnu: string } {
  const h = obj.replace(/\.o$/, '');
  const ts = `${h}.tslink`;
  const gnu = `${h}.gnu`;
  run([TSLINK, '-m', 'armelf_linux_eabi', '-static', '-e', '_start', obj, '-o', ts]);
  const pins: string[] = [];
  for (const s of sections(ts).secs.values())
    if (s.addr !== 0 && !SKIP_PIN.has(s.name) && !(withGot && /^\.(data|bss)$/.test(s.name)))
      pins.push(`--section-start=${s.name}=0x${s.addr.toString(16)}`);
  run([LD, '-m', 'armelf_linux_eabi', '-static', '-e', '_start', ...pins, obj, '-o', gnu]);
  return { ts, gnu };
}

/** `size` bytes at virtual address `addr` of an output. */
function bytesAt(file: string, addr: number, size: number): Buffer {
  const { bytes, secs } = sections(file);
  for (const s of secs.values()) {
    if (s.addr !== 0 && addr >= s.addr && addr + size <= s.addr + s.size && s.type !== 8)
      return bytes.subarray(s.offset + addr - s.addr, s.offset + addr - s.addr + size);
  }
  throw new Error(`0x${addr.toString(16)} is not in ${file}`);
}

const hex = (b: Buffer) => b.toString('hex');

/**
 * r0 after a relaxed `ldr r0, lit; call` sequence at `start`: the literal itself when the call
 * became a nop, or the word it addresses PC-relatively when it became a load
 * (ARM `ldr r0, [pc, r0]`, PC = call + 8; Thumb `add r0, pc; ldr r0, [r0]`, PC = call + 4).
 */
function tlsDescResult(file: string, start: number, mode: 'arm' | 'thumb'): number {
  const ldrSize = mode === 'arm' ? 4 : 2;
  const call = start + ldrSize;
  const lit = mode === 'arm' ? call + 8 : (call + 4 + 3) & ~3;
  const value = bytesAt(file, lit, 4).readUInt32LE(0);
  const insn = bytesAt(file, call, 4);
  if (mode === 'arm' ? insn.readUInt32LE(0) === 0xe79f0000 : insn.readUInt16LE(0) === 0x4478) {
    const pc = call + (mode === 'arm' ? 8 : 4);
    return bytesAt(file, (pc + value) >>> 0, 4).readUInt32LE(0);
  }
  const nop = mode === 'arm' ? insn.readUInt32LE(0) === 0xe320f000 : hex(insn) === 'aff30080';
  if (!nop) throw new Error(`${file}: unexpected TLS call relaxation ${hex(insn)}`);
  return value;
}

// Targets every row can use: an ARM and a Thumb function, data, and a TLS variable. The rows'
// code starts at `code` and ends at `code_end`; the targets follow, so forward and backward
// branches, Thumb bits and interworking all show.
const TARGETS = `
  .text
  .arm
  .globl afunc
  .type afunc, %function
  .p2align 2
afunc:
  bx lr
  .thumb
  .globl tfunc
  .type tfunc, %function
  .thumb_func
tfunc:
  bx lr
  .section .rodata,"a",%progbits
  .p2align 2
  .globl ro_obj
  .type ro_obj, %object
ro_obj:
  .word 5, 6
  .data
  .p2align 2
  .globl data_obj
  .type data_obj, %object
data_obj:
  .word 1, 2, 3, 4
  .section .tdata,"awT",%progbits
  .p2align 2
  .globl tvar
  .type tvar, %object
tvar:
  .word 7, 8
`;

function program(mode: 'arm' | 'thumb', code: string, after = ''): string {
  return `
  .syntax unified
  .text
  .globl _start
  .${mode}
  .p2align 2
  .type _start, %function
${mode === 'thumb' ? '  .thumb_func\n' : ''}_start:
code:
${code}
code_end:
${after}
  .p2align 2
${TARGETS}`;
}

interface Row {
  type: string;
  mode: 'arm' | 'thumb';
  code: string;
  /** A relaxed TLS descriptor call sequence at `code`: compare the TP offset it yields. */
  tlsDesc?: boolean;
  /** The literal at `literal` addresses GOT slots (from itself or from GOT_ORG): compare them. */
  got?: { literal: string; base: 'pc' | 'got_org'; slots: number };
  /**
   * Refers to _GLOBAL_OFFSET_TABLE_ (GOT_ORG), which GNU ld puts at its GOT: the row creates one
   * (outside the compared code) and targets read-only data.
   */
  gotOrg?: boolean;
}

// Literal pools: `lit` labels the word whose GOT-relative value is compared.
const ROWS: Row[] = [
  { type: 'R_ARM_ABS32', mode: 'arm', code: '  .word data_obj + 4\n  .word tfunc\n  .word afunc' },
  { type: 'R_ARM_REL32', mode: 'arm', code: '  .word data_obj - .\n  .word tfunc - .' },
  { type: 'R_ARM_CALL', mode: 'arm', code: '  bl afunc\n  bl tfunc\n  blx tfunc\n  bl code' },
  { type: 'R_ARM_JUMP24', mode: 'arm', code: '  b afunc\n  bne afunc\n  b code' },
  { type: 'R_ARM_PC24', mode: 'arm', code: '  .reloc ., R_ARM_PC24, afunc\n  .word 0xeafffffe' },
  { type: 'R_ARM_PLT32', mode: 'arm', code: '  .reloc ., R_ARM_PLT32, afunc\n  .word 0xebfffffe' },
  {
    type: 'R_ARM_THM_CALL',
    mode: 'thumb',
    code: '  bl tfunc\n  bl afunc\n  blx afunc\n  nop\n  bl afunc\n  bl code',
  },
  { type: 'R_ARM_THM_JUMP24', mode: 'thumb', code: '  b.w tfunc\n  b.w code' },
  { type: 'R_ARM_THM_JUMP19', mode: 'thumb', code: '  beq.w tfunc\n  bne.w code' },
  {
    type: 'R_ARM_THM_JUMP11',
    mode: 'thumb',
    code: '  .reloc ., R_ARM_THM_JUMP11, tfunc\n  .short 0xe7fe\n  .reloc ., R_ARM_THM_JUMP11, code\n  .short 0xe7fe',
  },
  {
    type: 'R_ARM_THM_JUMP8',
    mode: 'thumb',
    code: '  .reloc ., R_ARM_THM_JUMP8, tfunc\n  .short 0xd0fe\n  .reloc ., R_ARM_THM_JUMP8, code\n  .short 0xd1fe',
  },
  {
    type: 'R_ARM_MOVW_ABS_NC',
    mode: 'arm',
    code: '  movw r0, #:lower16:data_obj + 8\n  movt r0, #:upper16:data_obj + 8\n  movw r1, #:lower16:tfunc',
  },
  { type: 'R_ARM_MOVT_ABS', mode: 'arm', code: '  movt r0, #:upper16:data_obj + 0x7ffc' },
  {
    type: 'R_ARM_MOVW_PREL_NC',
    mode: 'arm',
    code: '  movw r0, #:lower16:data_obj - .\n  movt r0, #:upper16:data_obj - .',
  },
  { type: 'R_ARM_MOVT_PREL', mode: 'arm', code: '  movt r0, #:upper16:data_obj - . + 0x7ffc' },
  {
    type: 'R_ARM_THM_MOVW_ABS_NC',
    mode: 'thumb',
    code: '  movw r0, #:lower16:data_obj + 8\n  movt r0, #:upper16:data_obj + 8\n  movw r1, #:lower16:tfunc',
  },
  { type: 'R_ARM_THM_MOVT_ABS', mode: 'thumb', code: '  movt r0, #:upper16:data_obj + 0x7ffc' },
  {
    type: 'R_ARM_THM_MOVW_PREL_NC',
    mode: 'thumb',
    code: '  movw r0, #:lower16:data_obj - .\n  movt r0, #:upper16:data_obj - .',
  },
  {
    type: 'R_ARM_THM_MOVT_PREL',
    mode: 'thumb',
    code: '  movt r0, #:upper16:data_obj - . - 0x7ffc',
  },
  {
    type: 'R_ARM_PREL31',
    mode: 'arm',
    code: '  .reloc ., R_ARM_PREL31, afunc\n  .word 0x80000000\n  .reloc ., R_ARM_PREL31, tfunc\n  .word 0',
  },
  { type: 'R_ARM_TARGET1', mode: 'arm', code: '  .reloc ., R_ARM_TARGET1, data_obj\n  .word 8' },
  {
    type: 'R_ARM_GOTOFF32',
    mode: 'arm',
    code: '  .word ro_obj(GOTOFF)\n  .word tfunc(GOTOFF)',
    gotOrg: true,
  },
  {
    type: 'R_ARM_BASE_PREL',
    mode: 'arm',
    code: '  .word _GLOBAL_OFFSET_TABLE_\n  .word _GLOBAL_OFFSET_TABLE_ - (. + 8)',
    gotOrg: true,
  },
  { type: 'R_ARM_V4BX', mode: 'arm', code: '  .reloc ., R_ARM_V4BX, afunc\n  bx r0' },
  { type: 'R_ARM_NONE', mode: 'arm', code: '  .reloc ., R_ARM_NONE, afunc\n  nop' },
  { type: 'R_ARM_TLS_LE32', mode: 'arm', code: '  .word tvar(tpoff)\n  .word tvar(tpoff) + 4' },
  { type: 'R_ARM_TLS_LDO32', mode: 'arm', code: '  .word tvar(tlsldo)\n  .word tvar(tlsldo) + 4' },
  // TLS descriptors in an executable, the literal after the call as gcc emits it. tslink
  // relaxes the executable's own variable to local-exec (literal = TP offset, call = nop);
  // GNU ld to initial-exec (the call loads the offset from a GOT slot): the rows compare the
  // offset each sequence leaves in r0.
  {
    type: 'R_ARM_TLS_GOTDESC',
    mode: 'arm',
    code: '  ldr r0, 1f\n2:\n  bl tvar(tlscall)\n  nop\n1:\n  .word tvar(tlsdesc) + (. - 2b)',
    tlsDesc: true,
  },
  {
    type: 'R_ARM_THM_TLS_CALL',
    mode: 'thumb',
    code: '  ldr r0, 1f\n2:\n  bl tvar(tlscall)\n  nop\n  .p2align 2\n1:\n  .word tvar(tlsdesc) + (. - 2b + 1)',
    tlsDesc: true,
  },
  {
    type: 'R_ARM_GOT_PREL',
    mode: 'arm',
    code: 'lit:\n  .reloc ., R_ARM_GOT_PREL, ro_obj\n  .word 0',
    got: { literal: 'lit', base: 'pc', slots: 1 },
  },
  {
    type: 'R_ARM_TARGET2',
    mode: 'arm',
    code: 'lit:\n  .reloc ., R_ARM_TARGET2, ro_obj\n  .word 0',
    got: { literal: 'lit', base: 'pc', slots: 1 },
  },
  {
    type: 'R_ARM_GOT_BREL',
    mode: 'arm',
    code: 'lit:\n  .word ro_obj(GOT)',
    got: { literal: 'lit', base: 'got_org', slots: 1 },
  },
  {
    type: 'R_ARM_TLS_IE32',
    mode: 'arm',
    code: 'lit:\n  .word tvar(gottpoff)',
    got: { literal: 'lit', base: 'pc', slots: 1 },
  },
  {
    type: 'R_ARM_TLS_GD32',
    mode: 'arm',
    code: 'lit:\n  .word tvar(tlsgd)',
    got: { literal: 'lit', base: 'pc', slots: 2 },
  },
  {
    type: 'R_ARM_TLS_LDM32',
    mode: 'arm',
    code: 'lit:\n  .word tvar(tlsldm)',
    got: { literal: 'lit', base: 'pc', slots: 2 },
  },
];

describe('ARM relocations against GNU ld', () => {
  it.each(ROWS.map((r) => [`${r.type} (${r.mode})`, r] as const))('%s', (_n, row) => {
    const withGot = row.got !== undefined || row.gotOrg === true;
    const src = program(
      row.mode,
      row.got ? `${row.code}\n  .word _GLOBAL_OFFSET_TABLE_` : row.code,
      row.gotOrg ? '  .word ro_obj(GOT)' : '',
    );
    const obj = assemble(src);
    expect(run(['arm-linux-gnueabihf-readelf', '-rW', obj])).toContain(` ${row.type} `);
    const { ts, gnu } = linkBoth(obj, withGot);
    const start = symbolAddr(ts, 'code');
    expect(symbolAddr(gnu, 'code')).toBe(start);
    const size = symbolAddr(ts, 'code_end') - start;
    if (row.tlsDesc) {
      expect(tlsDescResult(ts, start, row.mode)).toBe(tlsDescResult(gnu, start, row.mode));
      expect(tlsDescResult(ts, start, row.mode)).toBe(8); // tvar: after the 8-byte TCB
      return;
    }
    if (!row.got) {
      expect(hex(bytesAt(ts, start, size))).toBe(hex(bytesAt(gnu, start, size)));
      return;
    }
    // GOT rows: the slot(s) each output's literal points at hold the same values.
    const lit = symbolAddr(ts, row.got.literal);
    const slotValues = (file: string): string => {
      const v = bytesAt(file, lit, 4).readInt32LE(0);
      const gotOrg = symbolAddr(file, '_GLOBAL_OFFSET_TABLE_');
      const slot = (row.got!.base === 'pc' ? lit : gotOrg) + v;
      return hex(bytesAt(file, slot >>> 0, 4 * row.got!.slots));
    };
    expect(slotValues(ts)).toBe(slotValues(gnu));
  });
});

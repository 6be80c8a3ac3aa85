// armhf (ELF32, REL, EABI5, Thumb-2 by default) end to end: the fixture programs the amd64 suites
// run, compiled with arm-linux-gnueabihf-gcc/g++ and linked by tslink (`-B<libexec>`) statically,
// as PIE and as position-dependent executables, each run under qemu-arm with its exact stdout and
// exit status. Then a shared library (its TLS in each dynamic model) used by a host program and
// through dlopen, the SQLite driver against the armhf libsqlite3.a, and a program whose text is
// too large for direct branches, which only runs if the linker's range-extension and interworking
// thunks are right.
import { copyFileSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import {
  ARMHF,
  crossCompile,
  describeCommonCrossTests,
  crossLinkProgram,
  expectRun,
  ilp32Stdout,
  MODES,
  crossLink,
  crossLinkOk,
  crossRun,
  requireCross,
} from './cross.js';
import { LINK_TIMEOUT_MS, removeScratchDirs, runChecked } from './helpers.js';
import { programs, sqlite } from './programs.js';

afterAll(removeScratchDirs);

const T = ARMHF;

/** globals.c's 16-byte alignment check is layout chance on ARM (4-byte ABI alignment). */
function comparable(stdout: string): string {
  return stdout.replace(/^bss aligned=[01]\n/m, '');
}

const PROGRAMS = programs.filter((p) => p !== sqlite);

function readelf(flag: string, file: string): string {
  return runChecked(['readelf', flag, file]).stdout;
}

describe('armhf programs linked by tslink', () => {
  requireCross(T);
  for (const mode of MODES) {
    describe(mode.label, () => {
      it.each(PROGRAMS.map((p) => [p.name, p] as const))(
        '%s',
        (_name, p) => {
          const exe = crossLinkProgram(T, mode, p);
          const run = crossRun(T, exe);
          // The AAPCS aligns a large array to 4 bytes only (x86-64: 16), so globals.c's
          // 16-byte alignment line is layout chance, as with GNU ld's output.
          expectRun(
            { ...run, stdout: comparable(run.stdout) },
            comparable(ilp32Stdout(p)),
            p.status,
          );
          const header = readelf('-hW', exe);
          expect(header).toMatch(/Flags:\s+0x5000400, Version5 EABI, hard-float ABI/);
          // One merged, well-formed attributes section.
          const attrs = readelf('-A', exe);
          expect(attrs.match(/Attribute Section: aeabi/g)).toHaveLength(1);
          expect(attrs).toMatch(/Tag_ABI_VFP_args: VFP registers/);
        },
        LINK_TIMEOUT_MS * 3,
      );
    });
  }
});

// std::thread, a thread_local with a constructor, and exceptions thrown and caught on each thread.
const STD_THREAD = `#include <atomic>
#include <iostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>
struct Counter { int n = 100; };
thread_local Counter perThread;
int main() {
  std::atomic<long> total{0};
  std::atomic<int> caught{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < 4; i++)
    ts.emplace_back([&, i] {
      long s = 0;
      for (int k = 0; k < 1000; k++) s += k * (i + 1);
      perThread.n += i;
      try {
        throw std::runtime_error("thread " + std::to_string(i));
      } catch (const std::exception &e) {
        if (std::string(e.what()) == "thread " + std::to_string(i)) caught++;
      }
      total += s + perThread.n;
    });
  for (auto &t : ts) t.join();
  std::cout << "total=" << total << " caught=" << caught << " main=" << perThread.n << std::endl;
}
`;

describe('armhf C++ std::thread', () => {
  requireCross(T);
  for (const mode of MODES) {
    it(
      mode.label,
      () => {
        const obj = crossCompile(T, { name: 'std_thread', lang: 'c++', code: STD_THREAD }, [
          ...mode.cflags,
          '-O2',
          '-std=c++17',
          '-pthread',
        ]);
        const exe = crossLinkOk(
          T,
          'c++',
          [...mode.ldflags, '-pthread', obj],
          `${mode.label}-thread`,
        ).output;
        // 499500 * (1 + 2 + 3 + 4) + (100 + 101 + 102 + 103)
        expectRun(crossRun(T, exe), 'total=4995406 caught=4 main=100\n');
      },
      LINK_TIMEOUT_MS * 2,
    );
  }
});

describe('armhf EHABI unwinding', () => {
  requireCross(T);
  it('.ARM.exidx is sorted, covers the code and has its segment and bounds', () => {
    const cxx = programs.find((p) => p.name.startsWith('C++'))!;
    const objects = cxx.sources.map((s) => crossCompile(T, s, ['-fno-pie', ...cxx.cflags]));
    const exe = crossLinkOk(T, 'c++', ['-static', ...objects], 'exidx').output;
    expectRun(crossRun(T, exe), cxx.stdout, cxx.status);
    expect(readelf('-lW', exe)).toMatch(/\bEXIDX\b/);
    // Entries are {PREL31 function, data}: decode and check they ascend.
    const dump = runChecked(['arm-linux-gnueabihf-objdump', '-s', '-j', '.ARM.exidx', exe]).stdout;
    const words: { addr: number; w: number }[] = [];
    for (const line of dump.split('\n')) {
      const m = /^ ([0-9a-f]+) ((?:[0-9a-f]{8} ?){1,4})/.exec(line);
      if (!m) continue;
      const base = parseInt(m[1]!, 16);
      m[2]!
        .trim()
        .split(' ')
        .forEach((h, k) => {
          const le = h.match(/../g)!.reverse().join('');
          words.push({ addr: base + 4 * k, w: parseInt(le, 16) });
        });
    }
    expect(words.length).toBeGreaterThan(100);
    let prev = -Infinity;
    for (let k = 0; k < words.length; k += 2) {
      const { addr, w } = words[k]!;
      const fn = (addr + ((w << 1) >> 1)) >>> 0;
      expect(fn).toBeGreaterThanOrEqual(prev);
      prev = fn;
    }
    // The table ends with a EXIDX_CANTUNWIND sentinel.
    expect(words[words.length - 1]!.w).toBe(1);
    const syms = runChecked(['arm-linux-gnueabihf-nm', exe]).stdout;
    expect(syms).toMatch(/ __exidx_start$/m);
    expect(syms).toMatch(/ __exidx_end$/m);
  });

  it('rejects mixing hard-float and soft-float objects', () => {
    const hard = crossCompile(T, {
      name: 'hardabi',
      lang: 'c',
      code: 'int f(double x){return x;}\n',
    });
    const soft = crossCompile(T, { name: 'softabi', lang: 'c', code: 'int g(void){return 1;}\n' }, [
      '-mfloat-abi=softfp',
    ]);
    // softfp keeps VFP code but passes floats in core registers, which only the build
    // attributes say (Tag_ABI_VFP_args absent: base AAPCS).
    expect(readelf('-AW', hard)).toMatch(/Tag_ABI_VFP_args: VFP registers/);
    expect(readelf('-AW', soft)).not.toMatch(/Tag_ABI_VFP_args/);
    const r = crossLink(T, 'c', ['-nostdlib', '-Wl,-e,f', hard, soft], 'floatabi');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/softabi.*soft-float ABI.*hardabi.*hard-float ABI/s);
    // The same two objects with one ABI link.
    const soft2 = crossCompile(
      T,
      { name: 'softabi2', lang: 'c', code: 'int h(double x){return x;}\n' },
      ['-mfloat-abi=softfp'],
    );
    expect(crossLink(T, 'c', ['-nostdlib', '-Wl,-e,g', soft, soft2], 'floatabi2').status).toBe(0);
  });
});

describe('armhf link errors', () => {
  requireCross(T);
  it('reports a branch out of range with its place and target', () => {
    const asm = crossCompile(T, {
      name: 'jump8_far',
      lang: 'assembler',
      code: `  .syntax unified
  .thumb
  .text
  .globl _start
  .type _start, %function
  .thumb_func
_start:
  .reloc ., R_ARM_THM_JUMP8, far
  .short 0xd0fe
  .space 1024
  .type far, %function
  .thumb_func
far:
  bx lr
`,
    });
    const r = crossLink(T, 'c', ['-nostdlib', '-static', asm], 'jump8');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(
      /jump8_far[^:]*\.o:\(\.text\+0x0\): relocation R_ARM_THM_JUMP8 out of range: 1022 is not in \[-256, 255\]; references 'far'/,
    );
  });
});

// --- Shared libraries -----------------------------------------------------------------------

/** `lib<stem>.so` linked by tslink, under that name in its own directory (the library path). */
function sharedLib(stem: string, objects: string[]): string {
  const out = crossLinkOk(
    T,
    'c',
    ['-shared', `-Wl,-soname,lib${stem}.so`, ...objects],
    `lib${stem}.so`,
  ).output;
  const so = join(dirname(out), `lib${stem}.so`);
  copyFileSync(out, so);
  return so;
}

function dirOf(file: string): string {
  return file.slice(0, file.lastIndexOf('/'));
}

// gcc for ARM evaluates printf's arguments left to right (x86: right to left), so the two
// use_tls() calls print in this order, as with GNU ld.
const SHLIB_EXPECTED = 'hello from lib 9 helper=42 interp=2 prot=10 tls=10,11 tlsv=7 hidden=42\n';
const TLS_STDOUT = PROGRAMS.find((p) => p.name.startsWith('thread-local storage'))!.stdout;

const LIB_TLS_MODELS: readonly { label: string; flags: string[]; uses: string[] }[] = [
  { label: 'global-dynamic', flags: ['-ftls-model=global-dynamic'], uses: ['R_ARM_TLS_GD32'] },
  {
    label: 'local-dynamic',
    flags: ['-ftls-model=local-dynamic'],
    uses: ['R_ARM_TLS_LDM32', 'R_ARM_TLS_LDO32'],
  },
  { label: 'initial-exec', flags: ['-ftls-model=initial-exec'], uses: ['R_ARM_TLS_IE32'] },
  // The host's descriptor sequences for the library's variables relax to initial-exec.
  {
    label: 'TLSDESC (-mtls-dialect=gnu2)',
    flags: ['-mtls-dialect=gnu2'],
    uses: ['R_ARM_TLS_GOTDESC', 'R_ARM_THM_TLS_CALL'],
  },
  {
    label: 'TLSDESC in ARM state (-marm -mtls-dialect=gnu2)',
    flags: ['-marm', '-mtls-dialect=gnu2'],
    uses: ['R_ARM_TLS_GOTDESC', 'R_ARM_TLS_CALL'],
  },
];

function relocTypes(object: string): string[] {
  return runChecked(['readelf', '-rW', object]).stdout.match(/\bR_ARM_\w+/g) ?? [];
}

describe('armhf shared objects linked by tslink', () => {
  requireCross(T);
  const libObj = () => crossCompile(T, 'shlib_lib.c', ['-O2', '-fPIC']);

  for (const mode of MODES.filter((m) => m.label !== 'static')) {
    it(
      `a host program (${mode.label}) against the library`,
      () => {
        const so = sharedLib('shlarm', [libObj()]);
        const main = crossCompile(T, 'shlib_main.c', [...mode.cflags, '-O2']);
        const exe = crossLinkOk(
          T,
          'c',
          [...mode.ldflags, main, `-L${dirOf(so)}`, '-lshlarm'],
          `${mode.label}-host`,
        ).output;
        expectRun(crossRun(T, exe, [], { libraryPath: [dirOf(so)] }), SHLIB_EXPECTED);
      },
      LINK_TIMEOUT_MS * 2,
    );

    it(
      `the library under dlopen from a ${mode.label} host`,
      () => {
        const so = sharedLib('shdarm', [libObj()]);
        const dl = crossCompile(T, 'shlib_dlopen.c', [...mode.cflags, '-O2']);
        const exe = crossLinkOk(
          T,
          'c',
          [...mode.ldflags, dl, '-ldl'],
          `${mode.label}-dlopen`,
        ).output;
        expectRun(crossRun(T, exe, [so]), 'hello from lib 5 tls=10,11 hidden_fn visible=0\n');
      },
      LINK_TIMEOUT_MS * 2,
    );
  }

  for (const model of LIB_TLS_MODELS) {
    for (const mode of MODES.filter((m) => m.label !== 'static')) {
      it(
        `TLS in a shared library: ${model.label}, ${mode.label} host`,
        () => {
          const other = crossCompile(T, 'tls_other.c', [
            '-O2',
            '-fPIC',
            '-pthread',
            ...model.flags,
          ]);
          expect(relocTypes(other)).toEqual(expect.arrayContaining(model.uses));
          const so = sharedLib('tlsarm', [other]);
          const hostFlags = [...mode.cflags, '-O2', '-pthread'];
          if (model.label === 'local-dynamic') {
            // Local-dynamic code for another module's variables cannot be linked (GNU ld:
            // "unresolvable R_ARM_TLS_LDM32 relocation"): say so, then build the host GD.
            const ld = crossCompile(T, 'tls_main.c', [...hostFlags, '-fPIC', ...model.flags]);
            const r = crossLink(T, 'c', [...mode.ldflags, '-pthread', ld, so], `${mode.label}-ldm`);
            expect(r.status).not.toBe(0);
            expect(r.stderr).toMatch(
              /unresolvable R_ARM_TLS_LDM32 relocation against symbol 'tls_/,
            );
          }
          const main = crossCompile(T, 'tls_main.c', [
            ...hostFlags,
            ...(model.label === 'initial-exec' ? [] : ['-fPIC']),
            ...(model.label === 'local-dynamic' ? [] : model.flags),
          ]);
          const exe = crossLinkOk(
            T,
            'c',
            [...mode.ldflags, '-pthread', main, `-L${dirOf(so)}`, '-ltlsarm'],
            `${mode.label}-tls`,
          ).output;
          expectRun(crossRun(T, exe, [], { libraryPath: [dirOf(so)] }), TLS_STDOUT);
        },
        LINK_TIMEOUT_MS * 2,
      );
    }
  }
});

// A C++ library built by tslink that throws through its own frames into the host: the unwinder
// finds the library's table through its PT_ARM_EXIDX (dl_iterate_phdr).
const CXX_LIB = `#include <stdexcept>
#include <string>
struct Guard { int *n; ~Guard() { ++*n; } };
static int depth(int x, int *unwound) {
  Guard g{unwound};
  if (x == 0) throw std::invalid_argument("bottom reached");
  return depth(x - 1, unwound) + 1;
}
int lib_depth(int x, int *unwound) { return depth(x, unwound); }
`;
const CXX_HOST = `#include <cstdio>
#include <stdexcept>
int lib_depth(int, int *);
int main() {
  int unwound = 0;
  try {
    lib_depth(5, &unwound);
  } catch (const std::invalid_argument &e) {
    std::printf("caught %s after unwinding %d frames\\n", e.what(), unwound);
  }
}
`;

describe('armhf C++ exceptions across a tslink-built shared library', () => {
  requireCross(T);
  for (const mode of MODES.filter((m) => m.label !== 'static')) {
    it(mode.label, () => {
      const libObj = crossCompile(T, { name: 'cxx_throw_lib', lang: 'c++', code: CXX_LIB }, [
        '-O2',
        '-fPIC',
      ]);
      const out = crossLinkOk(
        T,
        'c++',
        ['-shared', '-Wl,-soname,libcxxthrow.so', libObj],
        'libcxxthrow.so',
      ).output;
      const so = join(dirname(out), 'libcxxthrow.so');
      copyFileSync(out, so);
      expect(readelf('-lW', so)).toMatch(/\bEXIDX\b/);
      const host = crossCompile(T, { name: 'cxx_throw_host', lang: 'c++', code: CXX_HOST }, [
        ...mode.cflags,
        '-O2',
      ]);
      const exe = crossLinkOk(
        T,
        'c++',
        [...mode.ldflags, host, `-L${dirname(so)}`, '-lcxxthrow'],
        `${mode.label}-cxxthrow`,
      ).output;
      expectRun(
        crossRun(T, exe, [], { libraryPath: [dirname(so)] }),
        'caught bottom reached after unwinding 6 frames\n',
      );
    });
  }
});

// --- TLS descriptors in executables ----------------------------------------------------------

describe('armhf TLS descriptors (-mtls-dialect=gnu2)', () => {
  requireCross(T);
  const tls = PROGRAMS.find((p) => p.name.startsWith('thread-local storage'))!;
  for (const mode of MODES) {
    it(mode.label, () => {
      const objects = tls.sources.map((s) =>
        crossCompile(T, s, [...mode.cflags, ...tls.cflags, '-fPIC', '-mtls-dialect=gnu2']),
      );
      expect(relocTypes(objects[0]!)).toEqual(
        expect.arrayContaining(['R_ARM_TLS_GOTDESC', 'R_ARM_THM_TLS_CALL']),
      );
      const exe = crossLinkOk(
        T,
        'c',
        [...mode.ldflags, '-pthread', ...objects],
        `${mode.label}-desc`,
      ).output;
      expectRun(crossRun(T, exe), TLS_STDOUT);
    });
  }
});

// --- SQLite -----------------------------------------------------------------------------------

// --- Thunks -----------------------------------------------------------------------------------

/**
 * 40 MiB of padding between two groups of functions, beyond the reach of a Thumb-2 BL (16 MiB)
 * and of an ARM BL (32 MiB). Each function appends a digit to r0, so the result shows every
 * call and tail call ran, in order:
 *
 *   far_entry (Thumb, near):  bl t_far; bl a_far; bl t_mid; b.w a_tail (Thumb→Thumb, →ARM far)
 *   t_far (Thumb, far):       1
 *   a_far (ARM, far):         2; bl a_start; bl t_start; b t_start2 (ARM→ARM, ARM→Thumb far)
 *   a_start (ARM, near): 4    t_start (Thumb, near): 5    t_start2 (Thumb, near): 6
 *   t_mid (Thumb, near):      b.w a_near                   (Thumb→ARM near: interworking only)
 *   a_near (ARM, near):       7; b t_near8                 (ARM→Thumb near)
 *   t_near8 (Thumb, near):    8
 *   a_tail (ARM, far):        3
 */
const PAD_SECTIONS = 5;
const THUNK_ASM = `
  .syntax unified
  .macro digit d
  movs r1, #10
  muls r0, r1, r0
  adds r0, r0, #\\d
  .endm

  .section .text.near,"ax",%progbits
  .thumb
  .globl far_entry
  .type far_entry,%function
  .thumb_func
far_entry:
  push {r4, lr}
  bl t_far
  bl a_far
  bl t_mid
  pop {r4, lr}
  b.w a_tail
  .size far_entry, .-far_entry

  .type t_mid,%function
  .thumb_func
t_mid:
  b.w a_near
  .size t_mid, .-t_mid
  .type t_near8,%function
  .thumb_func
t_near8:
  digit 8
  bx lr
  .size t_near8, .-t_near8

  .arm
  .type a_near,%function
a_near:
  mov r1, #10
  mul r0, r1, r0
  add r0, r0, #7
  b t_near8
  .size a_near, .-a_near

  .arm
  .type a_start,%function
a_start:
  mov r1, #10
  mul r0, r1, r0
  add r0, r0, #4
  bx lr
  .size a_start, .-a_start

  .thumb
  .type t_start,%function
  .thumb_func
t_start:
  digit 5
  bx lr
  .size t_start, .-t_start
  .type t_start2,%function
  .thumb_func
t_start2:
  digit 6
  bx lr
  .size t_start2, .-t_start2
${Array.from(
  { length: PAD_SECTIONS },
  (_, k) => `
  .section .text.pad${k},"ax",%progbits
  .space ${8 << 20}
`,
).join('')}
  .section .text.far,"ax",%progbits
  .thumb
  .type t_far,%function
  .thumb_func
t_far:
  digit 1
  bx lr
  .size t_far, .-t_far

  .arm
  .type a_far,%function
a_far:
  push {r4, lr}
  mov r1, #10
  mul r0, r1, r0
  add r0, r0, #2
  bl a_start
  bl t_start
  pop {r4, lr}
  b t_start2
  .size a_far, .-a_far

  .type a_tail,%function
a_tail:
  mov r1, #10
  mul r0, r1, r0
  add r0, r0, #3
  bx lr
  .size a_tail, .-a_tail
`;

describe('armhf range-extension and interworking thunks', () => {
  requireCross(T);
  for (const mode of MODES) {
    it(
      `a 40 MiB text section (${mode.label})`,
      () => {
        const asm = crossCompile(T, { name: 'thunks_far', lang: 'assembler', code: THUNK_ASM });
        const main = crossCompile(
          T,
          {
            name: 'thunks_main',
            lang: 'c',
            code: '#include <stdio.h>\nint far_entry(int);\nint main(void) { printf("%d\\n", far_entry(0)); return 0; }\n',
          },
          [...mode.cflags, '-O2'],
        );
        const exe = crossLinkOk(
          T,
          'c',
          [...mode.ldflags, main, asm],
          `${mode.label}-thunks`,
        ).output;
        const types = relocTypes(asm);
        expect(types).toEqual(
          expect.arrayContaining([
            'R_ARM_THM_CALL',
            'R_ARM_THM_JUMP24',
            'R_ARM_CALL',
            'R_ARM_JUMP24',
          ]),
        );
        expectRun(crossRun(T, exe), '12456783\n');
        // The branches that need them go through stubs: count the stubs' tails in the output
        // (ARM `add ip, ip, pc; bx ip`, Thumb `add ip, pc; bx ip`).
        const bytes = readFileSync(exe);
        const count = (hex: string) => {
          const pat = Buffer.from(hex, 'hex');
          let n = 0;
          for (let at = bytes.indexOf(pat); at >= 0; at = bytes.indexOf(pat, at + 1)) n++;
          return n;
        };
        // ARM: a_far's bl a_start, bl t_start, b t_start2, a_near's b t_near8;
        // Thumb: far_entry's bl t_far, bl a_far, b.w a_tail, t_mid's b.w a_near (libc's own
        // interworking branches may add more).
        expect(count('0fc08ce01cff2fe1')).toBeGreaterThanOrEqual(4);
        expect(count('fc446047')).toBeGreaterThanOrEqual(4);
      },
      LINK_TIMEOUT_MS * 3,
    );
  }
});

describeCommonCrossTests(T);

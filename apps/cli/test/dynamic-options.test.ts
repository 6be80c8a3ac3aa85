// The dynamic-linking options gcc, clang and Go users rely on, each checked with real
// gcc-compiled programs that run: -z now/lazy, -z relro/norelro, -z defs/--no-undefined,
// -z nocopyreloc, non-PIC code and text relocations in shared objects (-z notext),
// --export-dynamic, --dynamic-list and --export-dynamic-symbol, --hash-style, -soname,
// -rpath (DT_RUNPATH or, with --disable-new-dtags, DT_RPATH), --as-needed and
// --push-state/--pop-state, -Bstatic/-Bdynamic, version scripts with `local: *`, IFUNCs across
// modules, and the diagnostics for what tslink refuses. Every output tslink writes must also be
// clean for `readelf --wide -a` (no warnings) and `eu-elflint --gnu-ld`.
//
// Note that Debian's gcc passes `--as-needed` and `--hash-style=gnu` to the linker ahead of the
// user's -Wl options, so those are the defaults here.
//
// As in errors.test.ts, when TSLINK_LIBEXEC points at GNU ld the diagnostics are checked against
// GNU ld's wording, and where GNU ld deliberately accepts what tslink (like lld) refuses, against
// GNU ld's behaviour.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import {
  archive,
  compile,
  describeResult,
  elflint,
  fixturesDir,
  lines,
  link,
  linkerDialect,
  linkerPath,
  linkOk,
  LINK_TIMEOUT_MS,
  makeScratchDir,
  relocationTypes,
  removeScratchDirs,
  requireBaseTools,
  requireTool,
  RUN_TIMEOUT_MS,
  runChecked,
  runCommand,
  type LinkerDialect,
  type RunResult,
} from './helpers.js';

afterAll(removeScratchDirs);

const C_FLAGS = ['-O2', '-Wall'];
const PIC_FLAGS = [...C_FLAGS, '-fPIC'];

// ---------------------------------------------------------------------------
// Linking and running.

type Linker = 'tslink' | 'gnu';

/** Links with gcc through tslink (output checked after the test) or the system's GNU ld. */
function gccLink(linker: Linker, args: readonly string[], name: string): string {
  if (linker === 'gnu') {
    const dir = makeScratchDir(name);
    const out = join(dir, name);
    runChecked(['gcc', ...args, '-o', out], { cwd: dir });
    return out;
  }
  const out = linkOk('gcc', args, name).output;
  linkedByTslink.push(out);
  return out;
}

/** Every output tslink wrote during a test, checked by expectClean() after the test. */
const linkedByTslink: string[] = [];
afterEach(() => {
  for (const file of linkedByTslink.splice(0)) expectClean(file);
});

/** A shared library `lib<stem>.so` (that soname unless `flags` set one) in its own directory. */
function sharedLib(
  stem: string,
  objects: readonly string[],
  flags: readonly string[] = [],
  linker: Linker = 'tslink',
): string {
  const soname = flags.some((f) => f.startsWith('-Wl,-soname'))
    ? []
    : [`-Wl,-soname,lib${stem}.so`];
  return gccLink(linker, ['-shared', ...soname, ...flags, ...objects], `lib${stem}.so`);
}

/** Arguments that link against `so` and find it at run time through a DT_RUNPATH. */
function against(so: string): string[] {
  const stem = /^lib(.*)\.so$/.exec(basename(so))?.[1];
  if (!stem) throw new Error(`not a lib*.so: ${so}`);
  return [`-L${dirname(so)}`, `-l${stem}`, `-Wl,-rpath,${dirname(so)}`];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function runExe(exe: string, args: readonly string[] = [], env?: Record<string, string>) {
  return runCommand([exe, ...args], { cwd: dirname(exe), timeoutMs: RUN_TIMEOUT_MS, env });
}

/** Runs `exe` and expects exit status 0 and exactly `stdout`. */
function expectRun(
  exe: string,
  stdout: string,
  args: readonly string[] = [],
  env?: Record<string, string>,
): void {
  const run = runExe(exe, args, env);
  expect(
    { status: run.status, signal: run.signal, stdout: run.stdout },
    describeResult(run),
  ).toEqual({ status: 0, signal: null, stdout });
}

/** `readelf --wide -a` has nothing to warn about and `eu-elflint --gnu-ld` finds no problem. */
function expectClean(file: string): void {
  const r = runCommand(['readelf', '--wide', '-a', file]);
  expect({ status: r.status, stderr: r.stderr }, `readelf --wide -a ${file}`).toEqual({
    status: 0,
    stderr: '',
  });
  elflint(file);
}

/**
 * A failed link through gcc: the linker exited with status 1 (so gcc did), printed no stack
 * trace, and said what `expected` says for the linker family under test.
 */
function expectLinkError(result: RunResult, expected: Record<LinkerDialect, readonly RegExp[]>) {
  expect(result.status, describeResult(result)).toBe(1);
  expect(result.stderr).toMatch(/ld returned 1 exit status/);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  const dialect = linkerDialect();
  if (dialect === 'tslink') expect(result.stderr).toMatch(/^tslink: error: /m);
  for (const pattern of expected[dialect]) expect(result.stderr).toMatch(pattern);
}

// ---------------------------------------------------------------------------
// Reading ELF files with readelf and nm.

/** The dynamic section: tag name (NEEDED, FLAGS, ...) and readelf's rendering of the value. */
function dynamicEntries(file: string): { tag: string; value: string }[] {
  const out = runChecked(['readelf', '-dW', file]).stdout;
  return [...out.matchAll(/^ *0x[0-9a-f]+ \((\w+)\) +(.*)$/gm)].map((m) => ({
    tag: m[1]!,
    value: m[2]!.trim(),
  }));
}

function dynamicTags(file: string): Set<string> {
  return new Set(dynamicEntries(file).map((e) => e.tag));
}

/** The words of DT_FLAGS (e.g. BIND_NOW) and DT_FLAGS_1 (e.g. NOW, PIE). */
function dynamicFlags(file: string): { flags: string[]; flags1: string[] } {
  const entries = dynamicEntries(file);
  const words = (tag: string) =>
    entries
      .filter((e) => e.tag === tag)
      .flatMap((e) => e.value.replace(/^Flags:/, '').split(/\s+/))
      .filter((w) => w !== '');
  return { flags: words('FLAGS'), flags1: words('FLAGS_1') };
}

function neededLibraries(file: string): string[] {
  return dynamicEntries(file)
    .filter((e) => e.tag === 'NEEDED')
    .map((e) => /\[(.*)\]/.exec(e.value)?.[1] ?? e.value);
}

/** The value of the one dynamic entry `tag` carrying a `[...]` string, or undefined. */
function dynamicString(file: string, tag: string): string | undefined {
  const found = dynamicEntries(file).filter((e) => e.tag === tag);
  expect(found.length, `${tag} entries in ${file}`).toBeLessThanOrEqual(1);
  return found[0] && /\[(.*)\]/.exec(found[0].value)?.[1];
}

interface Range {
  start: bigint;
  end: bigint;
}

/** Allocated sections by name, as address ranges. */
function sectionRanges(file: string): Map<string, Range> {
  const out = runChecked(['readelf', '-SW', file]).stdout;
  const ranges = new Map<string, Range>();
  for (const m of out.matchAll(
    /^ *\[ *\d+\] +(\.\S+) +\w+ +([0-9a-f]+) +[0-9a-f]+ +([0-9a-f]+)/gm,
  )) {
    const start = BigInt(`0x${m[2]}`);
    ranges.set(m[1]!, { start, end: start + BigInt(`0x${m[3]}`) });
  }
  return ranges;
}

/** Program headers of one type, as memory ranges. */
function segmentRanges(file: string, type: string): Range[] {
  const out = runChecked(['readelf', '-lW', file]).stdout;
  return [
    ...out.matchAll(/^ *(\w+) +0x[0-9a-f]+ 0x([0-9a-f]+) 0x[0-9a-f]+ 0x[0-9a-f]+ 0x([0-9a-f]+)/gm),
  ]
    .filter((m) => m[1] === type)
    .map((m) => {
      const start = BigInt(`0x${m[2]}`);
      return { start, end: start + BigInt(`0x${m[3]}`) };
    });
}

/** The (single) PT_GNU_RELRO segment of `file`. */
function relroRange(file: string): Range {
  const found = segmentRanges(file, 'GNU_RELRO');
  expect(found.length, `PT_GNU_RELRO segments in ${file}`).toBe(1);
  return found[0]!;
}

const inside = (inner: Range, outer: Range) => inner.start >= outer.start && inner.end <= outer.end;

/** Whether each of `names` lies inside PT_GNU_RELRO ('absent' for a section `file` lacks). */
function sectionsInRelro(
  file: string,
  names: readonly string[],
): Record<string, boolean | 'absent'> {
  const relro = relroRange(file);
  const sections = sectionRanges(file);
  return Object.fromEntries(
    names.map((name) => {
      const s = sections.get(name);
      return [name, s ? inside(s, relro) : 'absent'];
    }),
  );
}

/** Whether the GOT slots of R_X86_64_JUMP_SLOT relocations lie in PT_GNU_RELRO (deduplicated). */
function jumpSlotsInRelro(file: string): boolean[] {
  const relro = relroRange(file);
  const out = runChecked(['readelf', '-rW', file]).stdout;
  const slots = [...out.matchAll(/^([0-9a-f]+) +[0-9a-f]+ +R_X86_64_JUMP_SLOT\b/gm)].map((m) => {
    const start = BigInt(`0x${m[1]}`);
    return inside({ start, end: start + 8n }, relro);
  });
  expect(slots.length, `JUMP_SLOT relocations in ${file}`).toBeGreaterThan(0);
  return [...new Set(slots)];
}

interface DynamicSymbol {
  name: string;
  type: string;
  bind: string;
  defined: boolean;
}

function dynamicSymbols(file: string): DynamicSymbol[] {
  const out = runChecked(['readelf', '-W', '--dyn-syms', file]).stdout;
  return [...out.matchAll(/^ *\d+: [0-9a-f]+ +\S+ +(\w+) +(\w+) +\w+ +(\w+) +([^\s@]+)/gm)].map(
    (m) => ({ type: m[1]!, bind: m[2]!, defined: m[3] !== 'UND', name: m[4]! }),
  );
}

/** Names of the symbols `file` defines in .dynsym, sorted. */
function exportedSymbols(file: string): string[] {
  return dynamicSymbols(file)
    .filter((s) => s.defined)
    .map((s) => s.name)
    .sort();
}

// ---------------------------------------------------------------------------
// Objects.

const objects = {
  lib: () => compile('dynopt_lib.c', PIC_FLAGS),
  /** The library without dynopt_rarely_used. */
  reducedLib: () => compile('dynopt_lib.c', [...PIC_FLAGS, '-DDYNOPT_REDUCED']),
  /** The library under another name, to tell which copy the dynamic linker loaded. */
  impostorLib: () => compile('dynopt_lib.c', [...PIC_FLAGS, '-DDYNOPT_NAME="impostor"']),
  main: () => compile('dynopt_main.c', C_FLAGS),
  mainNoPic: () => compile('dynopt_main.c', [...C_FLAGS, '-fno-pic']),
};

const MAIN_OUTPUT = 'libdynopt: add=45 via pointer=49 table[3]=4\n';

/** libdynopt.so, linked by tslink with `flags`. */
function dynoptLib(flags: readonly string[] = []): string {
  return sharedLib('dynopt', [objects.lib()], flags);
}

describe('dynamic linking options (amd64)', () => {
  requireBaseTools();
  requireTool('eu-elflint', 'elfutils');

  describe('-z now and -z lazy', () => {
    /**
     * A program linked against the full library, run against one without dynopt_rarely_used:
     * it only runs if that function is bound lazily (it is never called).
     */
    function linkWithReducedLibrary(flags: string[]): string {
      const full = dynoptLib();
      const reduced = sharedLib('dynopt', [objects.reducedLib()]);
      return gccLink(
        'tslink',
        [
          ...flags,
          objects.main(),
          `-L${dirname(full)}`,
          '-ldynopt',
          `-Wl,-rpath,${dirname(reduced)}`,
        ],
        'main',
      );
    }

    it('binds lazily by default: no BIND_NOW, and a missing, uncalled function is harmless', () => {
      const exe = linkWithReducedLibrary([]);
      expect(dynamicFlags(exe)).toEqual({ flags: [], flags1: ['PIE'] });
      expectRun(exe, MAIN_OUTPUT);
    });

    it('-z now sets DF_BIND_NOW and DF_1_NOW: everything is bound at start', () => {
      const exe = linkWithReducedLibrary(['-Wl,-z,now']);
      expect(dynamicFlags(exe)).toEqual({ flags: ['BIND_NOW'], flags1: ['NOW', 'PIE'] });
      const run = runExe(exe);
      expect({ status: run.status, stdout: run.stdout }, describeResult(run)).toEqual({
        status: 127,
        stdout: '',
      });
      expect(run.stderr).toMatch(/symbol lookup error: .*undefined symbol: dynopt_rarely_used/);
      // With the full library found first (LD_LIBRARY_PATH before DT_RUNPATH) it runs.
      expectRun(exe, MAIN_OUTPUT, [], { LD_LIBRARY_PATH: dirname(dynoptLib()) });
    });

    it('-z lazy after -z now wins', () => {
      const exe = linkWithReducedLibrary(['-Wl,-z,now', '-Wl,-z,lazy']);
      expect(dynamicFlags(exe)).toEqual({ flags: [], flags1: ['PIE'] });
      expectRun(exe, MAIN_OUTPUT);
    });

    it('-z now in a -no-pie program and a shared object', () => {
      const so = dynoptLib(['-Wl,-z,now']);
      expect(dynamicFlags(so)).toEqual({ flags: ['BIND_NOW'], flags1: ['NOW'] });
      const exe = gccLink(
        'tslink',
        ['-no-pie', '-Wl,-z,now', objects.main(), ...against(so)],
        'main',
      );
      expect(dynamicFlags(exe)).toEqual({ flags: ['BIND_NOW'], flags1: ['NOW'] });
      expectRun(exe, MAIN_OUTPUT);
    });
  });

  describe('-z relro and -z norelro', () => {
    const RELRO_SECTIONS = ['.init_array', '.fini_array', '.dynamic', '.got', '.got.plt', '.data'];

    it('PT_GNU_RELRO covers .init_array, .fini_array, .dynamic and .got by default', () => {
      for (const flags of [[], ['-Wl,-z,relro']]) {
        const exe = gccLink('tslink', [...flags, objects.main(), ...against(dynoptLib())], 'main');
        expect(sectionsInRelro(exe, RELRO_SECTIONS)).toEqual({
          '.init_array': true,
          '.fini_array': true,
          '.dynamic': true,
          '.got': true,
          '.got.plt': false, // written by lazy binding
          '.data': false,
        });
        expect(jumpSlotsInRelro(exe)).toEqual([false]);
        expectRun(exe, MAIN_OUTPUT);
      }
    });

    it('-z now puts .got.plt in PT_GNU_RELRO too', () => {
      const exe = gccLink(
        'tslink',
        ['-Wl,-z,now', objects.main(), ...against(dynoptLib())],
        'main',
      );
      expect(sectionsInRelro(exe, RELRO_SECTIONS)).toEqual({
        '.init_array': true,
        '.fini_array': true,
        '.dynamic': true,
        '.got': true,
        // GNU ld folds .got.plt into .got under -z now.
        '.got.plt': linkerDialect() === 'gnu' ? 'absent' : true,
        '.data': false,
      });
      expect(jumpSlotsInRelro(exe)).toEqual([true]);
      expectRun(exe, MAIN_OUTPUT);
    });

    it('a shared object gets PT_GNU_RELRO too', () => {
      const so = dynoptLib();
      expect(sectionsInRelro(so, ['.dynamic', '.got', '.init_array'])).toEqual({
        '.dynamic': true,
        '.got': true,
        '.init_array': true,
      });
    });

    it('-z norelro: no PT_GNU_RELRO, and the program still runs', () => {
      const so = dynoptLib(['-Wl,-z,norelro']);
      const exe = gccLink('tslink', ['-Wl,-z,norelro', objects.main(), ...against(so)], 'main');
      expect(segmentRanges(exe, 'GNU_RELRO')).toEqual([]);
      expect(segmentRanges(so, 'GNU_RELRO')).toEqual([]);
      expectRun(exe, MAIN_OUTPUT);
    });
  });

  describe('-z defs and --no-undefined', () => {
    const undefinedRef = () =>
      compile(
        {
          name: 'dynopt_undef',
          lang: 'c',
          code: lines(
            'int missing_helper(int x);',
            'int plugin_entry(int x) { return missing_helper(x) * 2; }',
          ),
        },
        PIC_FLAGS,
      );

    it.each([['-Wl,-z,defs'], ['-Wl,--no-undefined']])(
      '%s: an undefined reference in a shared object is an error',
      (flag) => {
        const result = link('gcc', ['-shared', flag, undefinedRef()], 'libundef.so');
        expectLinkError(result, {
          tslink: [
            /undefined symbol: missing_helper\b/,
            /^>>> referenced by .*dynopt_undef-\w+\.o:\(plugin_entry\)$/m,
          ],
          gnu: [/in function `plugin_entry'/, /undefined reference to `missing_helper'/],
        });
      },
    );

    it('without them the shared object links, importing the symbol', () => {
      const so = sharedLib('undef', [undefinedRef()]);
      expect(dynamicSymbols(so).filter((s) => s.name === 'missing_helper')).toEqual([
        { name: 'missing_helper', type: 'NOTYPE', bind: 'GLOBAL', defined: false },
      ]);
    });
  });

  describe('copy relocations and -z nocopyreloc (non-PIC program, -no-pie)', () => {
    it('by default a copy relocation moves the library data into the program', () => {
      const exe = gccLink(
        'tslink',
        ['-no-pie', objects.mainNoPic(), ...against(dynoptLib())],
        'main',
      );
      const relocs = runChecked(['readelf', '-rW', exe]).stdout;
      expect(relocs).toMatch(/ R_X86_64_COPY +[0-9a-f]+ dynopt_counter \+ 0$/m);
      expect(relocs).toMatch(/ R_X86_64_COPY +[0-9a-f]+ dynopt_table \+ 0$/m);
      expectRun(exe, MAIN_OUTPUT);
    });

    it('-z nocopyreloc refuses the data references a copy relocation would serve', () => {
      const result = link(
        'gcc',
        ['-no-pie', '-Wl,-z,nocopyreloc', objects.mainNoPic(), ...against(dynoptLib())],
        'main',
      );
      expectLinkError(result, {
        tslink: [
          /relocation R_X86_64_PC32 cannot be used against symbol 'dynopt_counter'/,
          /relocation R_X86_64_PC32 cannot be used against symbol 'dynopt_table'/,
        ],
        gnu: [/relocation R_X86_64_PC32 against symbol `dynopt_\w+' can not be used/],
      });
    });
  });

  describe('non-PIC code in a shared object', () => {
    it('an absolute 32-bit address (-fno-pic) asks to recompile with -fPIC', () => {
      const object = compile(
        {
          name: 'dynopt_nopic',
          lang: 'c',
          code: lines('int nopic_value = 7;', 'int *nopic_address(void) { return &nopic_value; }'),
        },
        [...C_FLAGS, '-fno-pic', '-mcmodel=small'],
      );
      expect(relocationTypes([object])).toContain('R_X86_64_32');
      const result = link('gcc', ['-shared', object], 'libnopic.so');
      expectLinkError(result, {
        tslink: [
          /relocation R_X86_64_32 cannot be used against symbol 'nopic_value'; recompile with -fPIC/,
          /^>>> referenced by .*dynopt_nopic-\w+\.o:\(nopic_address\)$/m,
        ],
        gnu: [
          /relocation R_X86_64_32 against symbol `nopic_value' can not be used when making a shared object; recompile with -fPIC/,
        ],
      });
    });

    const textrel = () => compile('dynopt_textrel.c', PIC_FLAGS);

    it('R_X86_64_64 in .text: an error by default that mentions -z notext', () => {
      expect(relocationTypes([textrel()])).toContain('R_X86_64_64');
      const result = link('gcc', ['-shared', textrel()], 'libtextrel.so');
      if (linkerDialect() === 'gnu') {
        // GNU ld only warns, and creates the text relocations.
        expect(result.status, describeResult(result)).toBe(0);
        expect(result.stderr).toMatch(/warning: creating DT_TEXTREL in a shared object/);
        return;
      }
      expectLinkError(result, {
        tslink: [
          /relocation R_X86_64_64 cannot be used against symbol 'textrel_public'/,
          /-z notext/,
        ],
        gnu: [],
      });
    });

    it('with -z notext it links with DT_TEXTREL and works when loaded', () => {
      const so = sharedLib('textrel', [textrel()], ['-Wl,-z,notext']);
      expect(dynamicTags(so)).toContain('TEXTREL');
      expect(dynamicFlags(so).flags).toContain('TEXTREL');
      // The library's code reads the program's copy of textrel_public.
      for (const mode of [[], ['-no-pie']]) {
        const exe = gccLink(
          'tslink',
          [...mode, compile('dynopt_textrel_main.c', C_FLAGS), ...against(so)],
          'main',
        );
        expectRun(exe, 'sum=1239 after=2005\n');
      }
    });
  });

  describe('exporting symbols from an executable', () => {
    const host = () => compile('dynopt_host.c', C_FLAGS);
    /** A plugin calling host_scale, host_state and host_name. */
    const fullPlugin = (linker: Linker) =>
      sharedLib(
        'plugin',
        [compile('dynopt_plugin.c', PIC_FLAGS), compile('dynopt_plugin_name.c', PIC_FLAGS)],
        [],
        linker,
      );
    /** A plugin calling host_scale and host_state only. */
    const minimalPlugin = () => sharedLib('plugin', [compile('dynopt_plugin.c', PIC_FLAGS)]);

    const FULL = 'host: run=120 state=105\n';
    const MINIMAL = '(no plugin_host): run=120 state=105\n';

    it.each([['-Wl,--export-dynamic'], ['-Wl,-E'], ['-rdynamic']])(
      '%s: a dlopened library calls back into the program',
      (flag) => {
        const exe = gccLink('tslink', [flag, host()], 'host');
        expect(exportedSymbols(exe)).toEqual(
          expect.arrayContaining(['host_name', 'host_scale', 'host_state', 'main']),
        );
        for (const linker of ['tslink', 'gnu'] as const) expectRun(exe, FULL, [fullPlugin(linker)]);
      },
    );

    it('without it the plugin cannot be loaded', () => {
      const exe = gccLink('tslink', [host()], 'host');
      expect(exportedSymbols(exe).filter((s) => s.startsWith('host_'))).toEqual([]);
      for (const linker of ['tslink', 'gnu'] as const) {
        const plugin = fullPlugin(linker);
        const run = runExe(exe, [plugin]);
        expect(run.status, describeResult(run)).toBe(1);
        expect(run.stdout).toMatch(
          new RegExp(
            `^dlopen failed: ${escapeRegExp(plugin)}: undefined symbol: host_(state|scale|name)\\n$`,
          ),
        );
      }
    });

    /** The host exporting exactly host_scale and host_state: the minimal plugin loads. */
    function expectScaleAndStateOnly(exe: string): void {
      expect(exportedSymbols(exe)).toEqual(['host_scale', 'host_state']);
      expectRun(exe, MINIMAL, [minimalPlugin()]);
      const plugin = fullPlugin('tslink');
      const run = runExe(exe, [plugin]);
      expect({ status: run.status, stdout: run.stdout }, describeResult(run)).toEqual({
        status: 1,
        stdout: `dlopen failed: ${plugin}: undefined symbol: host_name\n`,
      });
    }

    it('--dynamic-list=FILE exports only the listed symbols', () => {
      const dir = makeScratchDir('dynamic-list');
      const list = join(dir, 'host.list');
      writeFileSync(list, lines('{', '  host_scale;', '  host_state;', '};'));
      expectScaleAndStateOnly(gccLink('tslink', [`-Wl,--dynamic-list=${list}`, host()], 'host'));
    });

    it('--export-dynamic-symbol=GLOB exports only the matching symbols', () => {
      expectScaleAndStateOnly(
        gccLink('tslink', ['-Wl,--export-dynamic-symbol=host_s*', host()], 'host'),
      );
      const both = gccLink(
        'tslink',
        ['-Wl,--export-dynamic-symbol=host_s*', '-Wl,--export-dynamic-symbol=host_name', host()],
        'host',
      );
      expect(exportedSymbols(both)).toEqual(['host_name', 'host_scale', 'host_state']);
      expectRun(both, FULL, [fullPlugin('tslink')]);
    });
  });

  describe('--hash-style', () => {
    it.each([
      ['sysv', ['.hash'], ['HASH']],
      ['gnu', ['.gnu.hash'], ['GNU_HASH']],
      ['both', ['.gnu.hash', '.hash'], ['GNU_HASH', 'HASH']],
    ])('--hash-style=%s', (style, sections, tags) => {
      const flag = `-Wl,--hash-style=${style}`;
      const so = dynoptLib([flag]);
      const exe = gccLink('tslink', [flag, objects.main(), ...against(so)], 'main');
      for (const file of [so, exe]) {
        const hashSections = [...sectionRanges(file).keys()].filter((s) => /hash$/.test(s));
        expect(hashSections.sort(), file).toEqual(sections);
        const hashTags = [...dynamicTags(file)].filter((t) => /HASH$/.test(t));
        expect(hashTags.sort(), file).toEqual(tags);
      }
      // The dynamic linker looks the program's symbols up in the library through its table.
      expectRun(exe, MAIN_OUTPUT);
    });
  });

  describe('-soname, -rpath, DT_RUNPATH and DT_RPATH', () => {
    /** libdynopt.so with soname libdynopt.so.1, installed as libdir/libdynopt.so.1. */
    function installed(object: string): string {
      const so = sharedLib('dynopt', [object], ['-Wl,-soname,libdynopt.so.1']);
      copyFileSync(so, join(dirname(so), 'libdynopt.so.1'));
      return so;
    }

    it('-soname sets DT_SONAME, which programs record in DT_NEEDED', () => {
      const so = installed(objects.lib());
      expect(dynamicString(so, 'SONAME')).toBe('libdynopt.so.1');
      const exe = gccLink('tslink', [objects.main(), ...against(so)], 'main');
      expect(neededLibraries(exe)).toEqual(['libdynopt.so.1', 'libc.so.6']);
      expectRun(exe, MAIN_OUTPUT);
    });

    it('-rpath gives DT_RUNPATH, searched after LD_LIBRARY_PATH; without it no library', () => {
      const so = installed(objects.lib());
      const impostor = installed(objects.impostorLib());
      const exe = gccLink('tslink', [objects.main(), ...against(so)], 'main');
      expect(dynamicString(exe, 'RUNPATH')).toBe(dirname(so));
      expect(dynamicString(exe, 'RPATH')).toBeUndefined();
      expectRun(exe, MAIN_OUTPUT);
      expectRun(exe, MAIN_OUTPUT.replace('libdynopt', 'impostor'), [], {
        LD_LIBRARY_PATH: dirname(impostor),
      });

      const noPath = gccLink('tslink', [objects.main(), `-L${dirname(so)}`, '-ldynopt'], 'main');
      expect(dynamicTags(noPath)).not.toContain('RUNPATH');
      const run = runExe(noPath);
      expect(run.status, describeResult(run)).toBe(127);
      expect(run.stderr).toMatch(/libdynopt\.so\.1: cannot open shared object file/);
    });

    it('--disable-new-dtags gives DT_RPATH, searched before LD_LIBRARY_PATH', () => {
      const so = installed(objects.lib());
      const impostor = installed(objects.impostorLib());
      const exe = gccLink(
        'tslink',
        ['-Wl,--disable-new-dtags', objects.main(), ...against(so)],
        'main',
      );
      expect(dynamicString(exe, 'RPATH')).toBe(dirname(so));
      expect(dynamicString(exe, 'RUNPATH')).toBeUndefined();
      expectRun(exe, MAIN_OUTPUT, [], { LD_LIBRARY_PATH: dirname(impostor) });
    });

    it('-rpath $ORIGIN/lib finds the library next to the program', () => {
      const so = installed(objects.lib());
      const exe = gccLink(
        'tslink',
        [objects.main(), `-L${dirname(so)}`, '-ldynopt', '-Wl,-rpath,$ORIGIN/lib'],
        'main',
      );
      expect(dynamicString(exe, 'RUNPATH')).toBe('$ORIGIN/lib');
      mkdirSync(join(dirname(exe), 'lib'));
      copyFileSync(so, join(dirname(exe), 'lib', 'libdynopt.so.1'));
      expectRun(exe, MAIN_OUTPUT);
    });
  });

  describe('--as-needed, --no-as-needed, --push-state and --pop-state', () => {
    const unused = () =>
      sharedLib('dynopt_unused', [
        compile(
          { name: 'dynopt_unused', lang: 'c', code: 'int unused_fn(void) { return 1; }\n' },
          PIC_FLAGS,
        ),
      ]);

    function neededWith(flags: string[]): string[] {
      const unusedDir = dirname(unused());
      const exe = gccLink(
        'tslink',
        [
          objects.main(),
          `-L${unusedDir}`,
          `-Wl,-rpath,${unusedDir}`,
          ...flags,
          ...against(dynoptLib()),
        ],
        'main',
      );
      expectRun(exe, MAIN_OUTPUT);
      return neededLibraries(exe);
    }

    it('--as-needed drops a library nothing uses', () => {
      expect(neededWith(['-Wl,--as-needed', '-ldynopt_unused'])).toEqual([
        'libdynopt.so',
        'libc.so.6',
      ]);
    });

    it('--no-as-needed keeps it', () => {
      expect(neededWith(['-Wl,--no-as-needed', '-ldynopt_unused'])).toEqual([
        'libdynopt_unused.so',
        'libdynopt.so',
        'libc.so.6',
      ]);
    });

    it('--push-state --as-needed ... --pop-state applies --as-needed only inside', () => {
      expect(
        neededWith([
          '-Wl,--no-as-needed',
          '-Wl,--push-state,--as-needed',
          '-ldynopt_unused',
          '-Wl,--pop-state',
          '-lm', // unused too, but after --pop-state: --no-as-needed again
        ]),
      ).toEqual(['libm.so.6', 'libdynopt.so', 'libc.so.6']);
    });
  });

  describe('-Bstatic and -Bdynamic', () => {
    /** A directory holding both libdynopt_static.a and libdynopt_static.so. */
    function bothKinds(): string {
      const so = sharedLib('dynopt_static', [compile('dynopt_static.c', PIC_FLAGS)]);
      const a = archive('dynopt_static', [compile('dynopt_static.c', C_FLAGS)]);
      copyFileSync(a, join(dirname(so), basename(a)));
      return dirname(so);
    }
    const OUTPUT = 'mix=50 calls=2 add=42 sqrt=1.4142\n';

    it('-Bstatic -lfoo -Bdynamic takes the archive, then shared libraries again', () => {
      const dir = bothKinds();
      const exe = gccLink(
        'tslink',
        [
          compile('dynopt_mix.c', C_FLAGS),
          `-L${dir}`,
          '-Wl,-Bstatic',
          '-ldynopt_static',
          '-Wl,-Bdynamic',
          ...against(dynoptLib()),
          '-lm',
        ],
        'mix',
      );
      expect(neededLibraries(exe)).toEqual(['libdynopt.so', 'libm.so.6', 'libc.so.6']);
      expect(dynamicSymbols(exe).filter((s) => s.name.startsWith('static_'))).toEqual([]);
      expect(runChecked(['nm', exe]).stdout).toMatch(/^[0-9a-f]+ T static_mix$/m);
      expectRun(exe, OUTPUT);
    });

    it('without -Bstatic the shared library is preferred', () => {
      const dir = bothKinds();
      const exe = gccLink(
        'tslink',
        [
          compile('dynopt_mix.c', C_FLAGS),
          `-L${dir}`,
          '-ldynopt_static',
          `-Wl,-rpath,${dir}`,
          ...against(dynoptLib()),
          '-lm',
        ],
        'mix',
      );
      expect(neededLibraries(exe)).toEqual([
        'libdynopt_static.so',
        'libdynopt.so',
        'libm.so.6',
        'libc.so.6',
      ]);
      expectRun(exe, OUTPUT);
    });
  });

  describe('--version-script with local: *', () => {
    const library = () =>
      sharedLib(
        'dynopt_versioned',
        [compile('dynopt_versioned.c', PIC_FLAGS)],
        [`-Wl,--version-script=${join(fixturesDir, 'dynopt_versioned.map')}`],
      );

    it('exports only the listed symbols', () => {
      const so = library();
      expect(exportedSymbols(so)).toEqual(['vs_also_public', 'vs_public']);
      const exe = gccLink(
        'tslink',
        [compile('dynopt_versioned_main.c', C_FLAGS), ...against(so)],
        'main',
      );
      expectRun(exe, 'public=8 also=11\n');
    });

    it('the symbols it hides are local in .symtab too, as with GNU ld and lld', () => {
      const symtab = runChecked(['nm', library()]).stdout;
      expect(symtab).toMatch(/^[0-9a-f]+ T vs_public$/m);
      expect(symtab).toMatch(/^[0-9a-f]+ t vs_helper$/m);
      expect(symtab).toMatch(/^[0-9a-f]+ d vs_internal_counter$/m);
    });

    it('a program cannot link against a hidden symbol', () => {
      const result = link(
        'gcc',
        [compile('dynopt_versioned_main.c', [...C_FLAGS, '-DUSE_HIDDEN']), ...against(library())],
        'main',
      );
      expectLinkError(result, {
        tslink: [/undefined symbol: vs_helper\b/],
        gnu: [/undefined reference to `vs_helper'/],
      });
    });
  });

  describe('IFUNCs across a program and a shared object', () => {
    const ifuncOutput = (exeEqual: 0 | 1) =>
      lines(
        'exe ifunc: direct=109 pointer=116 data=125',
        'lib ifunc: direct=1006 pointer=1008 data=1010',
        'lib calls both: 1148',
        `same address: exe=${exeEqual} lib=1 lib/exe=1`,
      );
    const ifuncLib = (linker: Linker) =>
      sharedLib('ifunc', [compile('dynopt_ifunc_lib.c', PIC_FLAGS)], [], linker);

    it.each([
      ['PIE', 'tslink', []],
      ['PIE', 'gnu', []],
      ['-no-pie', 'tslink', ['-no-pie']],
      ['PIE with -z now', 'tslink', ['-Wl,-z,now']],
    ] as const)('%s program, library linked by %s', (label, libLinker, flags) => {
      const so = ifuncLib(libLinker);
      if (libLinker === 'tslink') {
        expect(dynamicSymbols(so).find((s) => s.name === 'lib_twice')).toMatchObject({
          type: 'IFUNC',
          defined: true,
        });
      }
      const exe = gccLink(
        'tslink',
        [...flags, compile('dynopt_ifunc_main.c', C_FLAGS), ...against(so)],
        'main',
      );
      // GNU ld 2.40 breaks pointer equality for a PIE's own IFUNC: the pointer in data (an
      // IRELATIVE: the implementation) differs from the one taken in code (the PLT entry).
      const pieByGnu = linkerDialect() === 'gnu' && label !== '-no-pie';
      expectRun(exe, ifuncOutput(pieByGnu ? 0 : 1));
    });

    it("a shared object takes the address of the program's IFUNC", () => {
      const so = sharedLib('ifunc_addr', [compile('dynopt_ifunc_lib_addr.c', PIC_FLAGS)]);
      const exe = gccLink(
        'tslink',
        [compile('dynopt_ifunc_addr_main.c', C_FLAGS), ...against(so)],
        'main',
      );
      if (linkerDialect() === 'gnu') {
        // GNU ld exports the IFUNC itself; glibc will not run its resolver before the program
        // is relocated. tslink exports the canonical PLT entry instead, as lld does.
        const run = runExe(exe);
        expect(run.status, describeResult(run)).toBe(127);
        expect(run.stderr).toMatch(
          /IFUNC symbol 'exe_square' .* unsatisfiable circular dependency/,
        );
        return;
      }
      expectRun(exe, 'from lib: 149, same address: 1\n');
    });
  });

  describe('refused options', () => {
    const hello = () => compile('hello.c', C_FLAGS);

    it('ld -static -pie (static PIE) is a clear error', () => {
      // No libc needed: _start exits through a system call.
      const start = compile({
        name: 'dynopt_start',
        lang: 'assembler',
        code: lines('.globl _start', '_start:', '  mov $60, %eax', '  xor %edi, %edi', '  syscall'),
      });
      const out = join(makeScratchDir('static-pie'), 'out');
      const gnu = linkerDialect() === 'gnu';
      // GNU ld would otherwise give the program its default PT_INTERP, /lib/ld64.so.1.
      const extra = gnu ? ['--no-dynamic-linker'] : [];
      const result = runCommand([linkerPath(), '-static', '-pie', ...extra, start, '-o', out], {
        timeoutMs: LINK_TIMEOUT_MS,
      });
      if (gnu) {
        expect(result.status, describeResult(result)).toBe(0);
        expectRun(out, '');
        return;
      }
      expect(result.status, describeResult(result)).toBe(1);
      expect(result.stderr).toBe('tslink: error: -static -pie (static PIE) is not supported yet\n');
    });

    it('gcc -static-pie is the same clear error', () => {
      const result = link('gcc', ['-static-pie', hello()], 'hello');
      if (linkerDialect() === 'gnu') {
        expect(result.status, describeResult(result)).toBe(0);
        expectRun(result.output, 'Hello, world! 2 + 3 = 5\n');
        return;
      }
      expectLinkError(result, {
        tslink: [/^tslink: error: -static -pie \(static PIE\) is not supported yet$/m],
        gnu: [],
      });
    });

    it('-z unknownword is an unknown -z value', () => {
      const result = link('gcc', ['-Wl,-z,unknownword', hello()], 'hello');
      if (linkerDialect() === 'gnu') {
        expect(result.status, describeResult(result)).toBe(0);
        expect(result.stderr).toMatch(/warning: -z unknownword ignored/);
        return;
      }
      expectLinkError(result, { tslink: [/unknown -z value: unknownword/], gnu: [] });
    });
  });
});

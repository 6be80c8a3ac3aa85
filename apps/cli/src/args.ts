import * as fs from 'node:fs';
import { LinkError, defaultConfig, type LinkConfig } from '@link/core';

/**
 * GNU ld's command line: every option gcc, g++ and clang pass, in both `-opt` and `--opt`
 * spellings (GNU ld accepts either for long options), joined or separate arguments, and
 * `@file` response files. An unknown option is an error naming it; options accepted without
 * effect are listed in IGNORED with the reason.
 */
export interface ParsedArgs {
  config: LinkConfig;
  /** What to do instead of linking (`--version`, `--help`). */
  action: 'link' | 'version' | 'help';
  /** `-v`: print the version and link too. */
  printVersion: boolean;
}

/** Options accepted and deliberately ignored, with why. */
export const IGNORED: Record<string, string> = {
  '-plugin': 'LTO plugin: an LTO object that actually arrives is a clear error',
  '-plugin-opt': 'LTO plugin options, as -plugin',
  '-O': 'optimisation level for string tail merging; output is correct without it',
  '-color-diagnostics': 'diagnostics are plain text',
  '-no-color-diagnostics': 'diagnostics are plain text',
  '-nostdlib': 'tslink has no built-in library search path (only -L)',
  '-X': 'temporary .L symbols are always dropped from .symtab',
  '-x': 'local symbols are kept; stripping them is only cosmetic',
  '-relax': 'relaxations are always on where legal',
  '-no-relax': 'ignored: relaxations are always legal ones',
  '-warn-common': 'common symbols merge silently',
  '-sort-common': 'commons are laid out in symbol order already',
  '-fatal-warnings-off': '',
};

/** Options that take a value, by canonical single-dash name. */
const WITH_VALUE = new Set([
  '-o',
  '-output',
  '-L',
  '-library-path',
  '-l',
  '-library',
  '-m',
  '-e',
  '-entry',
  '-u',
  '-undefined',
  '-z',
  '-plugin',
  '-plugin-opt',
  '-hash-style',
  '-build-id',
  '-sysroot',
  '-defsym',
  '-dynamic-linker',
  '-I',
  '-rpath',
  '-R',
  '-rpath-link',
  '-soname',
  '-h',
  '-error-limit',
  '-threads',
  '-image-base',
  '-Ttext',
  '-Map',
  '-linkmode',
  '-version-script',
  '-dynamic-list',
  '-export-dynamic-symbol',
  '-compress-debug-sections',
  '-cgo-directives',
  '-buildmode',
  '-pluginpath',
  '-plugin-host',
  '-plugin-export',
  '-extld',
  '-extldflags',
  '-tmpdir',
  '-O',
]);

/** Options whose value may only be joined with `=` (an optional value). */
const OPTIONAL_VALUE = new Set(['-build-id', '-threads']);

function expandResponseFiles(argv: string[], depth = 0): string[] {
  const out: string[] = [];
  for (const a of argv) {
    if (a.startsWith('@') && a.length > 1) {
      if (depth > 20) throw new LinkError(`${a}: response files nested too deeply`);
      let text: string;
      try {
        text = fs.readFileSync(a.slice(1), 'utf8');
      } catch {
        out.push(a);
        continue;
      }
      out.push(...expandResponseFiles(tokenize(text), depth + 1));
    } else out.push(a);
  }
  return out;
}

/** GNU-style response-file tokens: whitespace-separated, with quotes and backslash escapes. */
export function tokenize(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let has = false;
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && i + 1 < text.length) cur += text[++i];
      else cur += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      has = true;
    } else if (c === '\\' && i + 1 < text.length) {
      cur += text[++i];
      has = true;
    } else if (/\s/.test(c)) {
      if (has) out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += c;
      has = true;
    }
  }
  if (has) out.push(cur);
  return out;
}

const SHORT_JOINED = ['-o', '-L', '-l', '-m', '-e', '-u', '-z', '-I', '-h', '-O'];

function parseNumber(opt: string, v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new LinkError(`${opt}: expected a number, got '${v}'`);
  return n;
}

export function parseArgs(rawArgv: string[]): ParsedArgs {
  const argv = expandResponseFiles(rawArgv);
  const cfg = defaultConfig();
  const res: ParsedArgs = { config: cfg, action: 'link', printVersion: false };
  let isStatic = false;
  let wholeArchive = false;
  let asNeeded = false;
  let sawStaticFlag = false;
  const stateStack: { isStatic: boolean; wholeArchive: boolean; asNeeded: boolean }[] = [];
  let noDynamicLinker = false;
  const errors: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('-') || arg === '-') {
      cfg.inputs.push({ kind: 'file', path: arg, wholeArchive, asNeeded, static: isStatic });
      continue;
    }
    // Canonical name: one leading dash, value split at '='.
    let name = arg.startsWith('--') ? arg.slice(1) : arg;
    let value: string | undefined;
    const eq = name.indexOf('=');
    if (eq > 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    if (!WITH_VALUE.has(name) && !KNOWN_FLAGS.has(name) && !(name in IGNORED)) {
      // Joined short forms: -lc, -L/usr/lib, -zrelro, -melf_x86_64, -O1.
      const short = SHORT_JOINED.find(
        (s) => arg.startsWith(s) && arg.length > s.length && !arg.startsWith('--'),
      );
      if (short) {
        name = short;
        value = arg.slice(short.length);
      }
    }
    const take = (): string => {
      if (value !== undefined) return value;
      if (OPTIONAL_VALUE.has(name)) return '';
      if (i + 1 >= argv.length) throw new LinkError(`${arg}: missing argument`);
      return argv[++i]!;
    };
    switch (name) {
      case '-o':
      case '-output':
        cfg.output = take();
        break;
      case '-L':
      case '-library-path':
        cfg.libraryPaths.push(take());
        break;
      case '-l':
      case '-library':
        cfg.inputs.push({ kind: 'lib', name: take(), wholeArchive, asNeeded, static: isStatic });
        break;
      case '-m':
        cfg.emulation = take();
        break;
      case '-e':
      case '-entry':
        cfg.entry = take();
        break;
      case '-u':
      case '-undefined':
        cfg.undefinedSymbols.push(take());
        break;
      case '-z': {
        const z = take();
        if (!KNOWN_Z.has(z) && !/^(max|common)-page-size=/.test(z))
          throw new LinkError(`unknown -z value: ${z}`);
        cfg.zFlags.add(z);
        // The later of a pair wins: -z lazy -z now is now.
        for (const [a, b] of Z_OPPOSITES) {
          if (z === a) cfg.zFlags.delete(b);
          if (z === b) cfg.zFlags.delete(a);
        }
        if (z === 'defs') cfg.dynamic.noUndefined = true;
        if (z === 'undefs') cfg.dynamic.noUndefined = false;
        break;
      }
      case '-static':
      case '-Bstatic':
      case '-dn':
      case '-non_shared':
        isStatic = true;
        sawStaticFlag = true;
        break;
      case '-Bdynamic':
      case '-dy':
      case '-call_shared':
        isStatic = false;
        break;
      case '-start-group':
      case '-(':
        cfg.inputs.push({ kind: 'group-start' });
        break;
      case '-end-group':
      case '-)':
        cfg.inputs.push({ kind: 'group-end' });
        break;
      case '-whole-archive':
        wholeArchive = true;
        break;
      case '-no-whole-archive':
        wholeArchive = false;
        break;
      case '-as-needed':
        asNeeded = true;
        break;
      case '-no-as-needed':
        asNeeded = false;
        break;
      case '-build-id': {
        const v = take() || 'sha1';
        if (v === 'none') cfg.buildId = null;
        else if (v === 'sha1' || v === 'md5' || v === 'uuid' || v === 'fast') cfg.buildId = v;
        else if (/^0x[0-9a-fA-F]+$/.test(v) && v.length % 2 === 0)
          cfg.buildId = { hex: v.slice(2) };
        else throw new LinkError(`unknown --build-id style: ${v}`);
        break;
      }
      case '-compress-debug-sections': {
        const v = take();
        if (v === 'none' || v === 'zlib' || v === 'zlib-gabi')
          cfg.compressDebugSections = v === 'none' ? 'none' : 'zlib';
        else if (v === 'zstd')
          throw new LinkError('--compress-debug-sections=zstd: Node 20 has no zstd; use zlib');
        else if (v === 'zlib-gnu')
          throw new LinkError(
            '--compress-debug-sections=zlib-gnu (.zdebug_*) is obsolete; use zlib',
          );
        else throw new LinkError(`unknown --compress-debug-sections style: ${v}`);
        break;
      }
      case '-eh-frame-hdr':
        // Executables always get one (as with mold); shared objects when asked, as gcc does.
        cfg.ehFrameHdr = true;
        break;
      case '-no-eh-frame-hdr':
        cfg.ehFrameHdr = false;
        break;
      case '-gc-sections':
        cfg.gcSections = true;
        break;
      case '-no-gc-sections':
        cfg.gcSections = false;
        break;
      case '-print-gc-sections':
        cfg.printGcSections = true;
        break;
      case '-s':
      case '-strip-all':
        cfg.stripAll = true;
        break;
      case '-S':
      case '-strip-debug':
      case '-g':
        if (name !== '-g') cfg.stripDebug = true;
        break;
      case '-defsym': {
        const v = take();
        const k = v.indexOf('=');
        if (k <= 0) throw new LinkError(`--defsym: syntax error: ${v}`);
        cfg.defsyms.push({ name: v.slice(0, k), expr: v.slice(k + 1) });
        break;
      }
      case '-sysroot':
        cfg.sysroot = take();
        break;
      case '-pie':
      case '-pic-executable':
        cfg.buildMode = 'pie';
        break;
      case '-no-pie':
      case '-no-pic-executable':
        cfg.buildMode = 'exe';
        break;
      case '-shared':
      case '-Bshareable':
        // A plugin is a shared object too; -shared (which gcc adds) keeps --buildmode=plugin.
        if (cfg.buildMode !== 'plugin') cfg.buildMode = 'shared';
        cfg.outputKind = 'shared';
        break;
      case '-r':
      case '-relocatable':
        cfg.outputKind = 'relocatable';
        break;
      case '-stats':
      case '-time-passes':
        cfg.stats = true;
        break;
      case '-verbose':
        cfg.verbose = true;
        break;
      case '-v':
        res.printVersion = true;
        break;
      case '-version':
      case '-V':
        res.action = 'version';
        break;
      case '-help':
        res.action = 'help';
        break;
      case '-error-limit':
        cfg.errorLimit = parseNumber(arg, take());
        break;
      case '-fatal-warnings':
        cfg.fatalWarnings = true;
        break;
      case '-no-fatal-warnings':
        cfg.fatalWarnings = false;
        break;
      case '-threads': {
        const v = take();
        cfg.threads = v === '' ? 2 : parseNumber(arg, v);
        break;
      }
      case '-no-threads':
        cfg.threads = 1;
        break;
      case '-image-base':
      case '-Ttext':
        cfg.imageBase = parseNumber(arg, take());
        break;
      case '-linkmode': {
        const v = take();
        if (v !== 'internal' && v !== 'external' && v !== 'auto')
          throw new LinkError(`invalid --linkmode: ${v}`);
        cfg.linkMode = v;
        break;
      }
      case '-dynamic-linker':
      case '-I':
        cfg.dynamic.interpreter = take();
        break;
      case '-rpath':
      case '-R':
        cfg.dynamic.rpath.push(
          ...take()
            .split(':')
            .filter((p) => p !== ''),
        );
        break;
      case '-rpath-link':
        cfg.dynamic.rpathLink.push(take());
        break;
      case '-soname':
      case '-h':
        cfg.dynamic.soname = take();
        break;
      case '-export-dynamic':
      case '-E':
        cfg.dynamic.exportDynamic = true;
        break;
      case '-no-export-dynamic':
        cfg.dynamic.exportDynamic = false;
        break;
      case '-export-dynamic-symbol':
        cfg.dynamic.exportDynamicSymbols.push(take());
        break;
      case '-dynamic-list':
        cfg.dynamic.dynamicLists.push(take());
        break;
      case '-version-script':
        cfg.dynamic.versionScripts.push(take());
        break;
      case '-cgo-directives':
        cfg.cgoDirectiveFiles.push(take());
        break;
      case '-buildmode': {
        const v = take();
        if (v === 'exe') cfg.buildMode = 'exe';
        else if (v === 'pie') cfg.buildMode = 'pie';
        else if (v === 'shared' || v === 'plugin') {
          cfg.buildMode = v;
          cfg.outputKind = 'shared';
        } else throw new LinkError(`invalid --buildmode: ${v} (exe, pie, shared or plugin)`);
        break;
      }
      case '-pluginpath':
        cfg.plugin.path = take();
        break;
      case '-plugin-host':
        cfg.plugin.host = take();
        break;
      case '-plugin-export':
        cfg.plugin.exports.push(take());
        break;
      case '-extld':
        cfg.host.extld = take();
        break;
      case '-extldflags':
        cfg.host.extldflags = take();
        break;
      case '-tmpdir':
        cfg.host.tmpdir = take();
        break;
      case '-Bsymbolic':
        cfg.dynamic.bsymbolic = 'all';
        break;
      case '-Bsymbolic-functions':
        cfg.dynamic.bsymbolic = 'functions';
        break;
      case '-Bno-symbolic':
        cfg.dynamic.bsymbolic = 'none';
        break;
      case '-hash-style': {
        const v = take();
        if (v !== 'gnu' && v !== 'sysv' && v !== 'both')
          throw new LinkError(`unknown --hash-style: ${v}`);
        cfg.dynamic.hashStyle = v;
        break;
      }
      case '-enable-new-dtags':
        cfg.dynamic.newDtags = true;
        break;
      case '-disable-new-dtags':
        cfg.dynamic.newDtags = false;
        break;
      case '-allow-shlib-undefined':
        cfg.dynamic.allowShlibUndefined = true;
        break;
      case '-no-allow-shlib-undefined':
        cfg.dynamic.allowShlibUndefined = false;
        break;
      case '-no-undefined':
        cfg.dynamic.noUndefined = true;
        break;
      case '-no-dynamic-linker':
        // gcc -static-pie passes it; static PIE is refused below with a clear message.
        noDynamicLinker = true;
        break;
      case '-push-state':
        stateStack.push({ isStatic, wholeArchive, asNeeded });
        break;
      case '-pop-state': {
        const st = stateStack.pop();
        if (!st) throw new LinkError('--pop-state without a matching --push-state');
        ({ isStatic, wholeArchive, asNeeded } = st);
        break;
      }
      case '-Map':
        take();
        errors.push(`${arg}: not supported yet`);
        break;
      default:
        if (name in IGNORED) {
          if (WITH_VALUE.has(name)) take();
          break;
        }
        throw new LinkError(`unknown argument '${arg}'`);
    }
  }
  if (errors.length > 0 && res.action === 'link') throw new LinkError(errors);
  cfg.isStatic = sawStaticFlag && isStatic;
  if ((cfg.isStatic || noDynamicLinker) && cfg.buildMode === 'pie') {
    // gcc -static-pie arrives as `-static -pie --no-dynamic-linker`.
    throw new LinkError('-static -pie (static PIE) is not supported yet');
  }
  return res;
}

/**
 * `-z` keywords tslink understands. Those without an effect here say why: separate-code is what
 * tslink's layout always does (code in its own PT_LOAD); ibt/shstk properties are never claimed.
 */
const KNOWN_Z = new Set([
  'now',
  'lazy',
  'relro',
  'norelro',
  'defs',
  'undefs',
  'text',
  'notext',
  'textoff',
  'execstack',
  'noexecstack',
  'nocopyreloc',
  'copyreloc',
  'separate-code',
  'noseparate-code',
  'origin',
  'nodelete',
  'nodlopen',
  'combreloc',
  'nocombreloc',
  'noexecheap',
  'dynamic-undefined-weak',
  'nodynamic-undefined-weak',
]);
const Z_OPPOSITES: [string, string][] = [
  ['now', 'lazy'],
  ['relro', 'norelro'],
  ['defs', 'undefs'],
  ['text', 'notext'],
  ['execstack', 'noexecstack'],
  ['nocopyreloc', 'copyreloc'],
  ['separate-code', 'noseparate-code'],
];

/** Flags without values, by canonical name (used to tell `-static` from `-s tatic`). */
const KNOWN_FLAGS = new Set([
  '-static',
  '-Bstatic',
  '-dn',
  '-non_shared',
  '-Bdynamic',
  '-dy',
  '-call_shared',
  '-start-group',
  '-end-group',
  '-(',
  '-)',
  '-whole-archive',
  '-no-whole-archive',
  '-as-needed',
  '-no-as-needed',
  '-gc-sections',
  '-no-gc-sections',
  '-print-gc-sections',
  '-s',
  '-strip-all',
  '-S',
  '-strip-debug',
  '-g',
  '-pie',
  '-pic-executable',
  '-no-pie',
  '-no-pic-executable',
  '-shared',
  '-Bshareable',
  '-r',
  '-relocatable',
  '-stats',
  '-time-passes',
  '-verbose',
  '-v',
  '-version',
  '-V',
  '-help',
  '-fatal-warnings',
  '-no-fatal-warnings',
  '-no-threads',
  '-export-dynamic',
  '-no-export-dynamic',
  '-E',
  '-Bsymbolic',
  '-Bsymbolic-functions',
  '-Bno-symbolic',
  '-enable-new-dtags',
  '-disable-new-dtags',
  '-allow-shlib-undefined',
  '-no-allow-shlib-undefined',
  '-no-undefined',
  '-push-state',
  '-no-dynamic-linker',
  '-eh-frame-hdr',
  '-no-eh-frame-hdr',
  '-pop-state',
]);

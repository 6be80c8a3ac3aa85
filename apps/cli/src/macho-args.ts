import * as fs from 'node:fs';
import { Context, LinkError, defaultConfig, type LinkConfig } from '@link/core';
import { pluginMachoExtension } from '@link/buildmode-plugin/macho';
import { cgoMachoExtension } from '@link/cgo/macho';
import {
  MH_BUNDLE,
  MH_DYLIB,
  MH_EXECUTE,
  defaultMachoOptions,
  i386Output,
  linkMacho,
  parseVersion,
  type MachoOptions,
} from '@link/macho';

/**
 * ld64's command line, for Mach-O output. Selected (see `isMachoCommandLine`) by `-arch`,
 * `-platform_version`, `-macosx_version_min`, `--format=macho`, or a first input that is a
 * Mach-O file, so `clang -target x86_64-apple-macos11 -fuse-ld=lld --ld-path=tslink` drives it.
 */
export interface MachoArgs {
  config: LinkConfig;
  opts: MachoOptions;
}

/** Options accepted without effect, with why. */
const IGNORED_FLAGS = new Set([
  '-demangle', // diagnostics print symbol names as they are
  '-dynamic', // the default and only mode
  '-no_deduplicate', // no identical-code folding is done anyway
  '-pie', // executables are always PIE
  '-bind_at_load', // machoload and dyld both accept lazy binding
  '-no_uuid', // LC_UUID is always written: macOS refuses images without one
  '-dead_strip_dylibs', // every dylib given is loaded
  '-search_paths_first', // the default library search order
  '-w',
]);
const IGNORED_WITH_VALUE = new Set([
  '-lto_library',
  '-mllvm',
  '-object_path_lto',
  '-source_version',
]);

export function parseMachoArgs(argv: readonly string[]): MachoArgs {
  const config = defaultConfig();
  config.buildMode = 'pie';
  const opts = defaultMachoOptions();
  const inputs = config.inputs;
  let i = 0;
  let explicitExecute = false;
  const take = (opt: string): string => {
    const v = argv[++i];
    if (v === undefined) throw new LinkError(`${opt}: missing argument`);
    return v;
  };
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-') || a === '-') {
      inputs.push({ kind: 'file', path: a, wholeArchive: false, asNeeded: false, static: false });
      continue;
    }
    if (a.startsWith('-l') && a.length > 2) {
      inputs.push({
        kind: 'lib',
        name: a.slice(2),
        wholeArchive: false,
        asNeeded: false,
        static: false,
      });
      continue;
    }
    if (a.startsWith('-L') && a.length > 2) {
      config.libraryPaths.push(a.slice(2));
      continue;
    }
    // tslink's own options, as on the ELF command line (`-Wl,--buildmode=plugin`).
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    if (eq > 0) {
      const v = a.slice(eq + 1);
      switch (a.slice(0, eq)) {
        case '--buildmode':
          if (v === 'plugin') config.buildMode = 'plugin';
          else if (v !== 'exe' && v !== 'pie')
            throw new LinkError(`invalid --buildmode for Mach-O: ${v} (exe, pie or plugin)`);
          continue;
        case '--pluginpath':
          config.plugin.path = v;
          continue;
        case '--plugin-export':
          config.plugin.exports.push(v);
          continue;
        case '--plugin-host':
          config.plugin.host = v;
          continue;
        case '--cgo-directives':
          config.cgoDirectiveFiles.push(v);
          continue;
      }
    }
    if (a === '--cgo-directives' || a === '-cgo-directives') {
      config.cgoDirectiveFiles.push(take(a));
      continue;
    }
    if (IGNORED_FLAGS.has(a)) continue;
    if (IGNORED_WITH_VALUE.has(a)) {
      take(a);
      continue;
    }
    switch (a) {
      case '--format=macho':
        break;
      case '-v':
        process.stderr.write('tslink 0.1.0: Mach-O output (ld64 command line), x86_64\n');
        break;
      case '-o':
        config.output = take(a);
        break;
      case '-L':
        config.libraryPaths.push(take(a));
        break;
      case '-arch': {
        const arch = take(a);
        if (arch === 'i386') throw i386Output('-arch i386');
        if (arch !== 'x86_64')
          throw new LinkError(`-arch ${arch}: only x86_64 Mach-O output is supported`);
        break;
      }
      case '-platform_version': {
        const platform = take(a);
        const min = take(a);
        const sdk = take(a);
        if (platform !== 'macos' && platform !== '1')
          throw new LinkError(`-platform_version ${platform}: only macos is supported`);
        opts.minos = parseVersion(min);
        opts.sdk = parseVersion(sdk);
        break;
      }
      case '-macosx_version_min':
        opts.minos = parseVersion(take(a));
        opts.sdk = opts.minos;
        break;
      case '-syslibroot':
        opts.syslibroots.push(take(a));
        break;
      case '-e':
        opts.entry = take(a);
        break;
      case '-dead_strip':
        opts.deadStrip = true;
        break;
      case '-headerpad':
        opts.headerpad = Number.parseInt(take(a), 16);
        if (!Number.isFinite(opts.headerpad))
          throw new LinkError('-headerpad: expected a hex size');
        break;
      case '-headerpad_max_install_names':
        opts.headerpad = Math.max(opts.headerpad, 0x400);
        break;
      case '-undefined': {
        const v = take(a);
        if (v === 'dynamic_lookup') opts.dynamicLookup = true;
        else if (v !== 'error')
          throw new LinkError(`-undefined ${v}: only error and dynamic_lookup are supported`);
        break;
      }
      case '-flat_namespace':
        opts.flatNamespace = true;
        break;
      case '-two_level_namespace':
        opts.flatNamespace = false;
        break;
      case '-rpath':
        opts.rpaths.push(take(a));
        break;
      case '-exported_symbol':
        (opts.exportedSymbols ??= []).push(take(a));
        break;
      case '-exported_symbols_list': {
        const f = take(a);
        let text: string;
        try {
          text = fs.readFileSync(f, 'utf8');
        } catch {
          throw new LinkError(`-exported_symbols_list: cannot read ${f}`);
        }
        (opts.exportedSymbols ??= []).push(
          ...text
            .split('\n')
            .map((x) => x.replace(/#.*/, '').trim())
            .filter(Boolean),
        );
        break;
      }
      case '-fixup_chains':
        opts.fixupChains = true;
        break;
      case '-no_fixup_chains':
        opts.fixupChains = false;
        break;
      case '-adhoc_codesign':
        opts.adhocSign = true;
        break;
      case '-no_adhoc_codesign':
        opts.adhocSign = false;
        break;
      case '-execute':
        opts.outputType = MH_EXECUTE;
        explicitExecute = true;
        break;
      case '-dylib':
        opts.outputType = MH_DYLIB;
        break;
      case '-bundle':
        opts.outputType = MH_BUNDLE;
        break;
      case '-bundle_loader':
        opts.bundleLoader = take(a);
        break;
      case '-install_name':
      case '-dylib_install_name':
        opts.installName = take(a);
        break;
      case '-current_version':
        opts.currentVersion = parseVersion(take(a));
        break;
      case '-compatibility_version':
        opts.compatVersion = parseVersion(take(a));
        break;
      default:
        throw new LinkError(`unknown Mach-O (ld64) option: ${a}`);
    }
  }
  if (opts.outputType !== MH_DYLIB && opts.installName !== null)
    throw new LinkError('-install_name can only be used with -dylib');
  if (opts.bundleLoader !== null && opts.outputType !== MH_BUNDLE)
    throw new LinkError('-bundle_loader can only be used with -bundle');
  // A plugin is a bundle unless -dylib asks for a dylib.
  if (config.buildMode === 'plugin' && opts.outputType === MH_EXECUTE && !explicitExecute)
    opts.outputType = MH_BUNDLE;
  if (opts.outputType !== MH_EXECUTE) {
    if (config.buildMode !== 'plugin') config.buildMode = 'shared';
    config.outputKind = 'shared';
  }
  return { config, opts };
}

/** Runs a Mach-O link from an ld64 command line. */
export function linkMachoCommandLine(argv: readonly string[]): void {
  const { config, opts } = parseMachoArgs(argv);
  if (config.inputs.length === 0) throw new LinkError('no input files');
  const ctx = new Context(config);
  ctx.diag.warnSink = (m) => process.stderr.write(`tslink: ${m}\n`);
  // cgo first: a plugin's export list (computed in its afterResolve) then sees what cgo did.
  linkMacho(ctx, opts, [cgoMachoExtension, pluginMachoExtension]);
}

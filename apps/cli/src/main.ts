import { Context, LinkError, NeedsHostLinker, type LinkConfig } from '@link/core';
import { linkElf } from '@link/elf';
import { cgoElfExtension } from '@link/cgo/elf';
import { pluginElfExtension } from '@link/buildmode-plugin/elf';
import { formatPluginInfo, pluginInfo } from '@link/buildmode-plugin/info';
import { selectElfArch } from './targets.js';
import { parseArgs, IGNORED } from './args.js';
import { chooseLinkMode, linkExternal } from './external.js';
import { isMachoCommandLine } from './macho-detect.js';

export const VERSION = '0.1.0';

const HELP = `Usage: tslink [options] file...
A GNU ld-compatible linker in TypeScript. Common options:
  -o FILE                 output file (default a.out)
  -L DIR, -l NAME         library search path, library
  -static / -Bstatic      link statically
  -e SYM                  entry point (default _start)
  --gc-sections           drop unreferenced sections
  --build-id[=STYLE]      sha1 (default), md5, uuid, 0xHEX, none
  -z KEYWORD              execstack, noexecstack
  --defsym SYM=VALUE      define an absolute symbol
  --cgo-directives FILE   Go cgo directives (go tool cgo -dynimport ... -dynout FILE)
  -u SYM                  force SYM to be linked
  --stats                 print time per pass
  --version, -v           print the version
Ignored for compatibility: ${Object.keys(IGNORED)
  .filter((k) => IGNORED[k])
  .map((k) => `-${k}`)
  .join(' ')}
`;

/** Runs tslink with GNU ld's command line; returns the exit status. */
export async function main(argv: string[]): Promise<number> {
  try {
    if (argv[0] === 'plugin-info') {
      if (argv.length !== 2) throw new LinkError('usage: tslink plugin-info PLUGIN.so');
      process.stdout.write(formatPluginInfo(pluginInfo(argv[1]!)));
      return 0;
    }
    // ld64's command line when the output is Mach-O: the Mach-O linker is loaded only then (in
    // the shipped CLI it is a bundle of its own, dist/tslink-macho.cjs; see build.mjs).
    if (isMachoCommandLine(argv)) {
      const { linkMachoCommandLine } = await import('./macho-args.js');
      linkMachoCommandLine(argv);
      return 0;
    }
    const args = parseArgs(argv);
    if (args.action === 'version' || args.printVersion) {
      process.stdout.write(`tslink ${VERSION} (compatible with GNU linkers)\n`);
      if (args.action === 'version') return 0;
    }
    if (args.action === 'help') {
      process.stdout.write(HELP);
      return 0;
    }
    const cfg = args.config;
    if (cfg.inputs.length === 0) {
      if (args.printVersion) return 0;
      throw new LinkError('no input files');
    }
    const mode = chooseLinkMode(cfg);
    const verbose = cfg.verbose || args.printVersion;
    const say = (line: string) => process.stderr.write(`${line}\n`);
    if (mode.mode === 'external') {
      if (verbose) say(`tslink: link mode external: ${mode.reason}`);
      await linkExternal(cfg, verbose, say);
      return 0;
    }
    try {
      await linkInternal(cfg);
    } catch (e) {
      // Auto mode: an input only the host linker handles (LTO IR) sends the link there.
      if (!(e instanceof NeedsHostLinker) || cfg.linkMode !== 'auto') throw e;
      if (verbose) say(`tslink: link mode external: ${e.message}`);
      await linkExternal(cfg, verbose, say);
      return 0;
    }
    if (verbose) say(`tslink: link mode internal: ${mode.reason}`);
    return 0;
  } catch (e) {
    if (e instanceof LinkError) {
      for (const m of e.messages) process.stderr.write(`tslink: error: ${m}\n`);
      return 1;
    }
    throw e;
  }
}

/** The link tslink does itself. */
async function linkInternal(cfg: LinkConfig): Promise<void> {
  {
    const ctx = new Context(cfg);
    // Go's cgo directives (--cgo-directives files, .go.cgo_directives sections, .deplibs).
    ctx.extensions.push(cgoElfExtension, pluginElfExtension);
    ctx.diag.warnSink = (m) => process.stderr.write(`tslink: ${m}\n`);
    const arch = await selectElfArch(cfg);
    linkElf(ctx, arch);
    if (cfg.stats) process.stderr.write(ctx.timer.report() + '\n');
  }
}

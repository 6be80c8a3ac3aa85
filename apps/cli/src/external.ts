import * as fs from 'node:fs';
import * as path from 'node:path';
import { Context, LinkError, executableMode, type LinkConfig } from '@link/core';
import { linkElf, type ElfLink } from '@link/elf';
import { collectCgoDirectives } from '@link/cgo/elf';
import {
  HostTmpDir,
  buildHostArgv,
  decideLinkMode,
  isLtoObject,
  quoteArgv,
  runHostLink,
  splitFlags,
} from '@link/hostlink';
import { selectElfArch } from './targets.js';

function readInputBytes(p: string): Uint8Array | null {
  try {
    return fs.readFileSync(p);
  } catch {
    return null;
  }
}

/** The link mode for `cfg`, decided from the objects named on the command line. */
/**
 * The link mode as far as the command line decides it. In auto mode an LTO object is found by
 * the internal link itself (`NeedsHostLinker`), which then hands over: no input is read twice.
 */
export function chooseLinkMode(cfg: LinkConfig) {
  return decideLinkMode(cfg.linkMode, cfg.host.extld !== null, []);
}

/**
 * External mode (Go's hostlink): the objects tslink can link become one relocatable object
 * (`go.o`, its `-r` output) in the temporary directory; objects it leaves to the host linker
 * (LTO IR) are copied there as `000000.o`, …; archives, shared libraries and `-l` go to the
 * host linker as given. The host driver writes into the temporary directory, and the result is
 * renamed into place, so a failed link leaves the previous output alone.
 */
export async function linkExternal(
  cfg: LinkConfig,
  verbose: boolean,
  report: (line: string) => void,
): Promise<void> {
  const tmp = new HostTmpDir(cfg.host.tmpdir);
  try {
    const owned: LinkConfig['inputs'] = [];
    const hostObjects: string[] = [];
    const libraries: string[] = cfg.libraryPaths.map((d) => `-L${d}`);
    for (const spec of cfg.inputs) {
      if (spec.kind === 'lib') libraries.push(`-l${spec.name}`);
      else if (spec.kind === 'file') {
        const bytes = readInputBytes(spec.path);
        if (bytes === null)
          throw new LinkError(`cannot open ${spec.path}: No such file or directory`);
        const isElfRel =
          bytes.length > 18 && bytes[0] === 0x7f && bytes[16] === 1 && bytes[17] === 0;
        if (isElfRel && !isLtoObject(bytes)) owned.push(spec);
        else if (isElfRel || isLtoObject(bytes)) {
          const copy = tmp.hostObject(hostObjects.length);
          fs.copyFileSync(spec.path, copy);
          hostObjects.push(copy);
        } else libraries.push(spec.path); // archives, shared libraries, scripts
      }
    }
    const objects: string[] = [];
    let exports: string[] = [];
    let ldflags: string[] = [];
    if (owned.length > 0) {
      const goO = path.join(tmp.dir, 'go.o');
      const rcfg: LinkConfig = { ...cfg, inputs: owned, output: goO, outputKind: 'relocatable' };
      const ctx = new Context(rcfg);
      const link: ElfLink = linkElf(ctx, await selectElfArch(rcfg));
      const dirs = collectCgoDirectives(link);
      exports = [...dirs.exports.values()].filter((e) => e.dynamic).map((e) => e.local);
      ldflags = [...dirs.ldflags];
      objects.push(goO);
    }
    objects.push(...hostObjects);
    const out = path.join(tmp.dir, 'a.out');
    const argv = buildHostArgv({
      extld: cfg.host.extld ?? 'cc',
      extldflags: splitFlags(cfg.host.extldflags),
      output: out,
      buildMode: cfg.outputKind === 'shared' ? 'shared' : cfg.buildMode === 'pie' ? 'pie' : 'exe',
      zFlags: [...cfg.zFlags],
      exportDynamic: cfg.dynamic.exportDynamic,
      exportSymbols: exports,
      soname: cfg.dynamic.soname,
      rpath: cfg.dynamic.rpath,
      objects,
      libraries,
      cgoLdflags: ldflags,
    });
    if (verbose) report(`host link: ${quoteArgv(argv)}`);
    runHostLink(argv, report);
    // Into place atomically, like every output tslink writes.
    const target = path.resolve(cfg.output);
    const staged = path.join(
      path.dirname(target),
      `.${path.basename(target)}.tslink-${process.pid}.tmp`,
    );
    try {
      fs.copyFileSync(out, staged);
      fs.chmodSync(staged, executableMode());
      fs.renameSync(staged, target);
    } catch (e) {
      fs.rmSync(staged, { force: true });
      throw new LinkError(`cannot write output file ${cfg.output}: ${(e as Error).message}`);
    }
  } finally {
    tmp.cleanup();
  }
}

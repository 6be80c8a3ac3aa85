/**
 * `--plugin-host=EXE` for Mach-O plugins: at link time, every symbol the plugin leaves to its
 * host (undefined here, looked up by dyld in the flat namespace at load time) must be exported
 * by the host executable (its export trie) or by a dylib the host loads that can be found; the
 * rest are errors in lld's words, each with where the plugin uses it — the ELF check's
 * behaviour (`elf.ts`), with Mach-O's sources of definitions.
 *
 * A host's dylib is found, by install name, as a path under each `-syslibroot`, as the path
 * itself, or by file name in the `-L` directories (`libfoo.B.dylib` also as `libfoo.B.tbd` and
 * `libfoo.tbd`, the names SDK stubs have). Dylibs that cannot be found are named in the error,
 * since the symbol may be theirs.
 */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { LinkError, SymFlag, SymState, type SymId } from '@link/core';
import {
  MH_DYLIB,
  MH_EXECUTE,
  parseTbd,
  readDylib,
  refLocation,
  type DylibInterface,
  type MachoLink,
} from '@link/macho';

/** Reads a dylib or `.tbd` at `p`; `null` when there is no file. */
function readInterface(p: string): DylibInterface | null {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(p);
  } catch {
    return null;
  }
  if (bytes.subarray(0, 3).toString('latin1') === '---') return parseTbd(bytes.toString('utf8'), p);
  return readDylib(bytes, p, MH_DYLIB);
}

/** Where a host's dylib `installName` may be on this machine (see the file comment). */
function candidates(l: MachoLink, installName: string): string[] {
  const out: string[] = [];
  for (const root of l.opts.syslibroots) out.push(nodePath.join(root, installName));
  if (nodePath.isAbsolute(installName)) out.push(installName);
  const base = nodePath.basename(installName);
  const stem = base.replace(/\.dylib$/, '');
  const names = [base, `${stem}.tbd`, `${stem.replace(/\.[A-Z]$/, '')}.tbd`];
  for (const dir of l.ctx.config.libraryPaths)
    for (const n of names) out.push(nodePath.join(dir, n));
  return [...new Set(out)];
}

/** The names the host's image and the dylibs it loads export, and its dylibs not found. */
function hostDefinitions(l: MachoLink, host: string): { names: Set<string>; missing: string[] } {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(host);
  } catch {
    throw new LinkError(`cannot open plugin host ${host}`);
  }
  const exe = readDylib(bytes, host, MH_EXECUTE);
  const names = new Set([...exe.exports, ...exe.weakExports, ...exe.tlvExports]);
  const missing: string[] = [];
  const queue = [...(exe.loads ?? [])];
  const seen = new Set<string>();
  // Re-exports and dependencies of dylibs are followed too (bounded, as on ELF).
  while (queue.length > 0 && seen.size < 256) {
    const name = queue.shift()!;
    if (seen.has(name)) continue;
    seen.add(name);
    let lib: DylibInterface | null = null;
    for (const p of candidates(l, name)) if ((lib = readInterface(p)) !== null) break;
    if (lib === null) {
      missing.push(name);
      continue;
    }
    for (const n of [...lib.exports, ...lib.weakExports, ...lib.tlvExports]) names.add(n);
    queue.push(...(lib.loads ?? []));
  }
  return { names, missing };
}

/**
 * Checks the plugin's host symbols (strong undefined references) against `host`; reports
 * each missing one with `ctx.diag.error`, so the link stops before anything is written.
 */
export function checkMachoPluginHost(l: MachoLink, host: string): void {
  const ctx = l.ctx;
  const syms = ctx.syms;
  const needed: SymId[] = [];
  for (const id of syms.globalIds()) {
    if (syms.state[id] !== SymState.Undefined) continue;
    const f = syms.flags[id]!;
    if (f & SymFlag.RefStrong && !(f & SymFlag.Weak)) needed.push(id);
  }
  if (needed.length === 0) return;
  const { names, missing } = hostDefinitions(l, host);
  const absent = needed.filter((id) => !names.has(syms.names[id]!));
  if (absent.length === 0) return;
  const refs = new Map<SymId, string[]>();
  for (const sec of ctx.sections) {
    if (sec.relocs === null || !sec.isAlive) continue;
    const st = sec.relocs.store;
    for (let i = sec.relocs.start; i < sec.relocs.start + sec.relocs.count; i++) {
      const list = refs.get(st.sym[i]!) ?? [];
      if (list.length < 3) list.push(refLocation(sec, st.offset[i]!));
      refs.set(st.sym[i]!, list);
    }
  }
  for (const id of absent) {
    const lines = [`undefined symbol: ${syms.names[id]}`];
    for (const r of refs.get(id) ?? []) lines.push(`>>> referenced by ${r}`);
    lines.push(`>>> the plugin host ${host} and the dylibs it loads do not export it`);
    if (missing.length > 0)
      lines.push(
        `>>> not checked, since not found (see -syslibroot and -L): ${missing.join(', ')}`,
      );
    ctx.diag.error(lines.join('\n'));
  }
}

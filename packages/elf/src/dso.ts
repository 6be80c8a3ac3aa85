import { InputFile, LinkError, SymFlag, SymState, defineShared, type SymId } from '@link/core';
import * as C from './constants.js';
import type { ElfLink } from './link.js';
import { readSharedLibrary, type SharedLibrary } from './shared-file.js';

/**
 * A shared library on the command line. Its defined dynamic symbols resolve the link's
 * undefined references (losing to any definition in an object); its undefined ones tell an
 * executable what it must export. Nothing of its contents is copied into the output: it becomes
 * a DT_NEEDED entry, and only if something uses it when it was given under `--as-needed`.
 */
export class SharedFile extends InputFile {
  readonly lib: SharedLibrary;
  readonly asNeeded: boolean;
  /** A symbol it defines is referenced by the output: it must be DT_NEEDED. */
  isUsed = false;
  /** SymId of each entry of `lib.defined` this file won (-1 where another definition won). */
  definedIds: Int32Array;

  constructor(id: number, path: string, bytes: Uint8Array, lib: SharedLibrary, asNeeded: boolean) {
    super(id, path, path, 'shared', bytes);
    this.lib = lib;
    this.asNeeded = asNeeded;
    this.definedIds = new Int32Array(lib.defined.count).fill(-1);
  }

  /** Name of version index `v` (versym without the hidden bit) in this library, or ''. */
  versionName(v: number): string {
    return v >= 2 ? (this.lib.versionNames[v] ?? '') : '';
  }
}

/**
 * Adds a shared library's symbols to the symbol table. A default-version definition (`foo@@V`)
 * defines `foo`; a hidden one (`foo@V`) only satisfies references that name the version
 * explicitly, which objects write as `foo@V` (from `.symver`), so it is entered under that name
 * only if such a reference already exists.
 */
export function addSharedLibrary(
  link: ElfLink,
  path: string,
  bytes: Uint8Array,
  asNeeded: boolean,
): SharedFile {
  const ctx = link.ctx;
  const lib = readSharedLibrary(bytes, path);
  if (lib.machine !== link.arch.machine || lib.is64 !== link.arch.is64) {
    throw new LinkError(`${path} is incompatible with ${link.arch.emulation}`);
  }
  const file = new SharedFile(ctx.files.length, path, bytes, lib, asNeeded);
  ctx.files.push(file);
  link.sharedFiles.push(file);
  const syms = ctx.syms;
  const d = lib.defined;
  const define = (id: SymId, i: number, ver: number) => {
    // The first library on the command line that defines a name wins (defineShared keeps it).
    defineShared(ctx, id, file.id, d.values[i]!, d.sizes[i]!, d.types[i]!, d.weak[i] === 1);
    const st = syms.state[id];
    // An object already defines it: the output exports it so this library binds there (a
    // later object definition is marked by the resolver itself).
    if (st === SymState.Defined || st === SymState.Common)
      syms.flags[id] = syms.flags[id]! | SymFlag.RefByDso;
    if (st === SymState.Shared && syms.file[id] === file.id) {
      syms.aux[id] = ver;
      syms.fileSymIdx[id] = i;
      file.definedIds[i] = id;
    }
  };
  for (let i = 0; i < d.count; i++) {
    const versym = d.versym[i]!;
    const hidden = (versym & C.VERSYM_HIDDEN) !== 0;
    const ver = versym & ~C.VERSYM_HIDDEN;
    const vname = file.versionName(ver);
    const name = d.names[i]!;
    // An explicit reference to this version (`foo@V1`, written by `.symver` in an object).
    if (vname !== '') {
      const exact = syms.lookup(`${name}@${vname}`);
      if (exact >= 0) define(exact, i, ver);
    }
    if (!hidden) define(syms.intern(name), i, ver);
  }
  return file;
}

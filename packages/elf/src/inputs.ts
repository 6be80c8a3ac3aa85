import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  LinkError,
  NeedsHostLinker,
  SparseFile,
  archiveAllMembers,
  archiveMember,
  drainExtractQueue,
  isArchive,
  memberBytes,
  memberDisplayName,
  parseArchive,
} from '@link/core';
import * as C from './constants.js';
import { ElfObjectFile, addArchiveSymbols, elfType, isElf, readObject } from './object-file.js';
import type { ElfLink } from './link.js';
import { parseLinkerScript } from './linker-script.js';
import { addSharedLibrary } from './dso.js';

/**
 * Reading the command line's inputs: files by path, `-l` libraries through the search path,
 * archives entered lazily. Extraction runs to a fixpoint after each input, so the symbol table
 * always reflects everything linked so far.
 */
export function readInputs(link: ElfLink): void {
  const ctx = link.ctx;
  const cfg = ctx.config;
  for (const spec of cfg.inputs) {
    if (spec.kind === 'group-start' || spec.kind === 'group-end') continue;
    const p = spec.kind === 'file' ? spec.path : findLibrary(link, spec.name, spec.static);
    addFile(link, p, spec.wholeArchive, spec.asNeeded, spec.static);
    drainExtractQueue(ctx, (a, m) => loadMember(link, a, m));
  }
}

/**
 * A plain Uint8Array over a Buffer's memory: Buffer's own `subarray` makes a Buffer each time and
 * is several times slower, and the link takes hundreds of thousands of views.
 */
function plain(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

function cannotOpen(p: string, e: unknown): never {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') throw new LinkError(`cannot open ${p}: No such file or directory`);
  if (code === 'EISDIR') throw new LinkError(`cannot open ${p}: Is a directory`);
  throw new LinkError(`cannot open ${p}: ${(e as Error).message}`);
}

function readFile(p: string): Uint8Array {
  try {
    return plain(fs.readFileSync(p));
  } catch (e) {
    cannotOpen(p, e);
  }
}

/** Archive members up to this size are read whole when extracted. */
const WHOLE_MEMBER_SIZE = 32 << 10;

/** Archives at least this big are read on demand (index, then the members extracted). */
const SPARSE_ARCHIVE_SIZE = 1 << 20;

/**
 * An input's bytes. A large archive comes back as a `SparseFile` whose blocks are read when
 * the archive reader asks for them; everything else is read whole.
 */
function openInput(p: string): { bytes: Uint8Array; sparse: SparseFile | null } {
  let fd: number;
  try {
    fd = fs.openSync(p, 'r');
  } catch (e) {
    cannotOpen(p, e);
  }
  let keepOpen = false;
  try {
    const st = fs.fstatSync(fd);
    if (st.isDirectory()) cannotOpen(p, Object.assign(new Error(), { code: 'EISDIR' }));
    if (st.size >= SPARSE_ARCHIVE_SIZE) {
      const sparse = new SparseFile(fd, p, st.size);
      sparse.ensure(0, 8);
      if (isArchive(sparse.bytes)) {
        keepOpen = true; // read from until the process ends
        return { bytes: plain(sparse.bytes), sparse };
      }
    }
    return { bytes: plain(fs.readFileSync(fd)), sparse: null };
  } catch (e) {
    if (e instanceof LinkError) throw e;
    return cannotOpen(p, e);
  } finally {
    if (!keepOpen) fs.closeSync(fd);
  }
}

export function findLibrary(link: ElfLink, name: string, isStatic: boolean): string {
  const cfg = link.ctx.config;
  const names = name.startsWith(':')
    ? [name.slice(1)]
    : isStatic
      ? [`lib${name}.a`]
      : [`lib${name}.so`, `lib${name}.a`];
  for (const dir of cfg.libraryPaths) {
    const d = dir.startsWith('=') ? path.join(cfg.sysroot, dir.slice(1)) : dir;
    for (const n of names) {
      const p = path.join(d, n);
      if (fs.existsSync(p)) return p;
    }
  }
  throw new LinkError(`unable to find library -l${name}`);
}

function addFile(
  link: ElfLink,
  p: string,
  wholeArchive: boolean,
  asNeeded: boolean,
  isStatic: boolean,
): void {
  const ctx = link.ctx;
  const { bytes, sparse } = openInput(p);
  if (isArchive(bytes)) {
    const ensure = sparse ? (a: number, b: number) => sparse.ensure(a, b) : null;
    const readOnce = sparse ? (a: number, b: number) => sparse.readOnce(a, b) : null;
    const archive = parseArchive(bytes, p, ensure ?? undefined);
    // --whole-archive needs every member: the full walk, in file order. It hands out ids for the
    // members the index does not name, so it runs before `extracted` is sized by memberCount.
    const all = wholeArchive ? archiveAllMembers(archive) : null;
    const idx = ctx.archives.length;
    const extracted = new Int32Array(archive.memberCount).fill(-1);
    ctx.archives.push({
      id: idx,
      path: p,
      bytes,
      archive,
      extracted,
      priority: ctx.files.length,
      ensure,
      readOnce,
    });
    if (all !== null) {
      for (const m of all) {
        extracted[m] = -2;
        ctx.extractQueue.push([idx, m]);
      }
      return;
    }
    if (!archive.hasIndex && archive.memberCount > 0) {
      ctx.diag.warn(`${p}: archive has no symbol index; run ranlib to add one`);
    }
    addArchiveSymbols(ctx, idx);
    return;
  }
  if (isElf(bytes)) {
    const t = elfType(bytes);
    if (t === C.ET_DYN) {
      if (ctx.config.isStatic) throw new LinkError(`attempted static link of dynamic object ${p}`);
      // The same library named twice (directly and through a script) is read once.
      if (link.sharedFiles.some((f) => f.path === p)) return;
      addSharedLibrary(link, p, bytes, asNeeded);
      return;
    }
    const file = new ElfObjectFile(ctx.files.length, p, p, 'object', bytes);
    ctx.files.push(file);
    link.objects.push(file);
    readObject(link, file);
    return;
  }
  if (looksLikeText(bytes)) {
    addScript(link, p, bytes, wholeArchive, asNeeded, isStatic);
    return;
  }
  // LLVM bitcode ('BC' 0xC0DE): IR for the host linker's LTO plug-in.
  if (
    bytes.length >= 4 &&
    bytes[0] === 0x42 &&
    bytes[1] === 0x43 &&
    bytes[2] === 0xc0 &&
    bytes[3] === 0xde
  )
    throw new NeedsHostLinker(
      `${p} is LLVM bitcode: the host linker's plug-in compiles it (--linkmode=external)`,
    );
  throw new LinkError(`${p}: unknown file type`);
}

/** A linker script input: its files are linked as if they stood in its place. */
function addScript(
  link: ElfLink,
  p: string,
  bytes: Uint8Array,
  wholeArchive: boolean,
  asNeeded: boolean,
  isStatic: boolean,
): void {
  const cfg = link.ctx.config;
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
  const script = parseLinkerScript(text, p);
  for (const d of script.searchDirs) cfg.libraryPaths.push(d);
  if (script.entry !== null && cfg.entry === null) cfg.entry = script.entry;
  for (const inp of script.inputs) {
    let file: string;
    if (inp.path.startsWith('-l')) file = findLibrary(link, inp.path.slice(2), isStatic);
    else if (path.isAbsolute(inp.path)) {
      // Paths in a script found under the sysroot are relative to the sysroot.
      const inSysroot =
        cfg.sysroot !== '' && p.startsWith(cfg.sysroot)
          ? path.join(cfg.sysroot, inp.path)
          : inp.path;
      file = inSysroot;
    } else {
      const local = path.join(path.dirname(p), inp.path);
      file = fs.existsSync(local) ? local : findLibrary(link, `:${inp.path}`, isStatic);
    }
    addFile(link, file, wholeArchive, asNeeded || inp.asNeeded, isStatic);
  }
}

function looksLikeText(b: Uint8Array): boolean {
  const n = Math.min(b.length, 256);
  if (n === 0) return false;
  for (let i = 0; i < n; i++) {
    const c = b[i]!;
    if (c < 9 || (c > 13 && c < 32) || c > 126) return false;
  }
  return true;
}

/**
 * Adds a library an object asked for through `.deplibs`, as lld does: a path that exists, else a
 * file of that name in the search path, else a `-l` name.
 */
export function addDependentLibrary(link: ElfLink, specifier: string): void {
  const cfg = link.ctx.config;
  let file: string | null = fs.existsSync(specifier) ? specifier : null;
  for (const dir of cfg.libraryPaths) {
    if (file !== null) break;
    const p = path.join(dir, specifier);
    if (fs.existsSync(p)) file = p;
  }
  if (file === null) file = findLibrary(link, specifier, cfg.isStatic);
  if (link.ctx.files.some((f) => f.path === file) || link.sharedFiles.some((f) => f.path === file))
    return;
  addFile(link, file, false, false, cfg.isStatic);
  drainExtractQueue(link.ctx, (a, m) => loadMember(link, a, m));
}

export function loadMember(link: ElfLink, a: number, m: number): void {
  const ctx = link.ctx;
  const ar = ctx.archives[a]!;
  const bytes = memberBytes(ar.archive, ar.bytes, m, readFile);
  const name = memberDisplayName(ar.archive, m);
  const file = new ElfObjectFile(ctx.files.length, ar.path, name, 'object', bytes);
  const ensure = ar.ensure;
  if (ensure !== null) {
    // Read on demand: the object reader asks for its tables, sections are read when used.
    const member = archiveMember(ar.archive, m);
    const base = member.dataOffset;
    // A small member is read whole in one call (most of it is needed anyway); a big one piece
    // by piece, which leaves out what nobody reads (discarded COMDAT copies, relocations after
    // decoding).
    if (member.size <= WHOLE_MEMBER_SIZE) {
      ensure(base, base + member.size);
    } else {
      file.ensure = (s, e) => ensure(base + s, base + e);
      const readOnce = ar.readOnce!;
      file.readOnce = (s, e) => readOnce(base + s, base + e);
      file.ensure(0, 64);
    }
  }
  // Members rank after everything given explicitly before their archive, in extraction order.
  file.priority = ctx.files.length;
  ar.extracted[m] = file.id;
  ctx.files.push(file);
  link.objects.push(file);
  if (!isElf(bytes)) {
    throw new LinkError(`${name}: member is not an ELF object`);
  }
  readObject(link, file);
}

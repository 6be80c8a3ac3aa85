import { SymFlag, SymState, u32, w16, w32, w64, type StreamedOutput } from '@link/core';
import * as C from './constants.js';
import type { ElfLink } from './link.js';
import type { ElfObjectFile } from './object-file.js';

/**
 * .symtab and .strtab: each live object's local symbols (grouped by file, as GNU ld does), then
 * the global symbols in id order. The set is chosen before layout (so sizes are known); values
 * are read when writing, after addresses are final.
 */
export class SymtabBuilder {
  /** SymIds in .symtab order; entry 0 (-1) is the null symbol. */
  private ids = new Int32Array(1024);
  /**
   * Where each entry's name comes from, so .strtab is produced while it is written, never held:
   * a local's name is bytes [srcStart, srcStart + nameLen) of file srcFile (straight from the
   * input's string table); a global's (srcFile -1) is its interned name.
   */
  private srcFile = new Int32Array(1024);
  private srcStart = new Int32Array(1024);
  private nameLen = new Int32Array(1024);
  private nameOffs = new Int32Array(1024);
  private n = 0;
  /** .strtab's size. Names are not deduplicated: they rarely repeat. */
  strtabSize = 1;
  firstGlobal = 0;
  private readonly link: ElfLink;

  constructor(link: ElfLink) {
    this.link = link;
    const ctx = link.ctx;
    const syms = ctx.syms;
    this.add(-1, -1, 0, 0);
    for (const f of link.objects) {
      const file = f as ElfObjectFile;
      const b = file.bytes;
      const symsz = file.is64 ? C.ELF64_SYM_SIZE : C.ELF32_SYM_SIZE;
      const strEnd = file.strtabOff + file.strtabSize;
      for (let i = 1; i < file.firstGlobal; i++) {
        const id = file.symIds[i]!;
        const t = syms.type[id]!;
        if (t === C.STT_SECTION) continue;
        const sec = syms.section[id]!;
        if (sec >= 0) {
          const s = ctx.sections[sec]!;
          if (!s.isAlive || s.osec === null) continue;
        } else if (t !== C.STT_FILE && (syms.flags[id]! & SymFlag.Absolute) === 0) continue;
        const nameOff = u32(b, file.symtabOff + i * symsz);
        if (nameOff >= file.strtabSize) continue;
        const start = file.strtabOff + nameOff;
        let end = b.indexOf(0, start);
        if (end < 0 || end > strEnd) end = strEnd;
        // Unnamed and assembler-temporary (.L) symbols are left out, as GNU ld does.
        if (end === start || (b[start] === 0x2e && b[start + 1] === 0x4c)) continue;
        this.add(id, file.id, start, end - start);
      }
    }
    // Globals, except that a definition with hidden or internal visibility, or one a version
    // script made local, is local in the output (gABI; GNU ld and lld do the same): those join
    // the locals, which must all come first.
    const globals: number[] = [];
    for (const id of syms.globalIds()) {
      const st = syms.state[id]!;
      const f = syms.flags[id]!;
      if (st === SymState.Defined) {
        const sec = syms.section[id]!;
        if (sec >= 0 && ctx.sections[sec]!.osec === null) continue;
        const vis = syms.visibility[id]!;
        if (vis === C.STV_HIDDEN || vis === C.STV_INTERNAL || f & SymFlag.VersionLocal) {
          this.add(id, -1, 0, syms.names[id]!.length);
          continue;
        }
      } else if (!(f & (SymFlag.RefStrong | SymFlag.RefWeak))) continue;
      else if (st === SymState.Lazy) continue;
      globals.push(id);
    }
    this.firstGlobal = this.n;
    for (const id of globals) this.add(id, -1, 0, syms.names[id]!.length);
  }

  private add(id: number, file: number, start: number, len: number): void {
    if (this.n === this.ids.length) {
      const grow = (a: Int32Array) => {
        const b = new Int32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.ids = grow(this.ids);
      this.srcFile = grow(this.srcFile);
      this.srcStart = grow(this.srcStart);
      this.nameLen = grow(this.nameLen);
      this.nameOffs = grow(this.nameOffs);
    }
    const k = this.n++;
    this.ids[k] = id;
    this.srcFile[k] = file;
    this.srcStart[k] = start;
    this.nameLen[k] = len;
    if (id < 0) return; // the null symbol's name is the empty string at 0
    this.nameOffs[k] = this.strtabSize;
    this.strtabSize += len + 1;
  }

  get count(): number {
    return this.n;
  }

  /** Writes .strtab to `out` at `at`, in batches of about `batch.length` bytes. */
  streamStrtab(out: StreamedOutput, at: number, batch: Uint8Array): void {
    const syms = this.link.ctx.syms;
    const files = this.link.ctx.files;
    let used = 1; // the leading NUL
    batch[0] = 0;
    let base = 0; // .strtab offset of batch[0]
    for (let k = 1; k < this.n; k++) {
      const len = this.nameLen[k]!;
      if (used + len + 1 > batch.length) {
        out.write(batch, used, at + base);
        base += used;
        used = 0;
        if (len + 1 > batch.length) batch = new Uint8Array(len + 1);
      }
      const f = this.srcFile[k]!;
      if (f >= 0) {
        const start = this.srcStart[k]!;
        batch.set(files[f]!.bytes.subarray(start, start + len), used);
      } else {
        const name = syms.names[this.ids[k]!]!;
        for (let i = 0; i < len; i++) batch[used + i] = name.charCodeAt(i);
      }
      batch[used + len] = 0;
      used += len + 1;
    }
    out.write(batch, used, at + base);
  }

  /** Writes .symtab to `out` at `at`, in batches of entries that fit `batch`. */
  streamSymtab(out: StreamedOutput, at: number, batch: Uint8Array): void {
    const ent = this.link.arch.is64 ? C.ELF64_SYM_SIZE : C.ELF32_SYM_SIZE;
    const per = Math.max(1, Math.floor(batch.length / ent));
    if (batch.length < ent) batch = new Uint8Array(ent);
    for (let from = 0; from < this.n; from += per) {
      const to = Math.min(this.n, from + per);
      batch.fill(0, 0, (to - from) * ent);
      this.writeEntries(batch, 0, from, to);
      out.write(batch, (to - from) * ent, at + from * ent);
    }
  }

  /** Writes entries [from, to) at `off` of `buf` (entry `from` first). */
  private writeEntries(buf: Uint8Array, off: number, from: number, to: number): void {
    const link = this.link;
    const ctx = link.ctx;
    const syms = ctx.syms;
    const is64 = link.arch.is64;
    const ent = is64 ? C.ELF64_SYM_SIZE : C.ELF32_SYM_SIZE;
    for (let k = Math.max(from, 1); k < to; k++) {
      const id = this.ids[k]!;
      const o = off + (k - from) * ent;
      const f = syms.flags[id]!;
      const local = k < this.firstGlobal;
      const defined = syms.state[id] === SymState.Defined;
      const bind = local ? C.STB_LOCAL : f & SymFlag.Weak ? C.STB_WEAK : C.STB_GLOBAL;
      let type = syms.type[id]!;
      let shndx = C.SHN_UNDEF;
      let value = 0;
      if (defined) {
        const sec = syms.section[id]!;
        if (sec >= 0) shndx = Math.max(ctx.sections[sec]!.osec!.shndx, 0) || C.SHN_ABS;
        else shndx = type === C.STT_FILE || f & SymFlag.Absolute ? C.SHN_ABS : C.SHN_UNDEF;
        value = type === C.STT_FILE ? 0 : syms.addr[id]!;
        if (f & SymFlag.NeedsIplt) value = link.resolverAddr(id);
        if (f & SymFlag.Synthetic) {
          // Linker-defined symbols are section-relative in GNU ld's output; ABS is equally valid.
          shndx = C.SHN_ABS;
        }
      }
      const dynbss = link.dynSections?.dynbss;
      if (!defined && f & SymFlag.NeedsCopy && dynbss) {
        // A copied variable lives in this executable now: GNU ld lists it as defined there.
        shndx = dynbss.shndx;
        value = syms.addr[id]!;
      }
      if (type === C.STT_TLS && defined) value -= link.tlsStart;
      if (!defined) type = syms.type[id] === C.STT_GNU_IFUNC ? C.STT_FUNC : syms.type[id]!;
      const info = (bind << 4) | (type & 0xf);
      const other = syms.visibility[id]!;
      w32(buf, o, this.nameOffs[k]!);
      if (is64) {
        buf[o + 4] = info;
        buf[o + 5] = other;
        w16(buf, o + 6, shndx);
        w64(buf, o + 8, value);
        w64(buf, o + 16, syms.size[id]!);
      } else {
        w32(buf, o + 4, value >>> 0);
        w32(buf, o + 8, syms.size[id]!);
        buf[o + 12] = info;
        buf[o + 13] = other;
        w16(buf, o + 14, shndx);
      }
    }
  }
}

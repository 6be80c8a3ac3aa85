import { SymFlag, SymState, u32, w16, w32, w64 } from '@link/core';
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
  private nameOffs = new Int32Array(1024);
  private n = 0;
  /**
   * .strtab, built as bytes: local names are copied straight from the inputs' string tables, so
   * a link with hundreds of thousands of local symbols makes no string for them. Names are not
   * deduplicated (they rarely repeat, and a table to find repeats would cost more than it saves).
   */
  private strtab = new Uint8Array(1 << 16);
  strtabSize = 1;
  firstGlobal = 0;
  private readonly link: ElfLink;

  constructor(link: ElfLink) {
    this.link = link;
    const ctx = link.ctx;
    const syms = ctx.syms;
    this.add(-1, 0);
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
        this.add(id, this.appendBytes(b, start, end));
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
          this.add(id, this.appendString(syms.names[id]!));
          continue;
        }
      } else if (!(f & (SymFlag.RefStrong | SymFlag.RefWeak))) continue;
      else if (st === SymState.Lazy) continue;
      globals.push(id);
    }
    this.firstGlobal = this.n;
    for (const id of globals) this.add(id, this.appendString(syms.names[id]!));
  }

  private add(id: number, nameOff: number): void {
    if (this.n === this.ids.length) {
      const ids = new Int32Array(this.n * 2);
      ids.set(this.ids);
      this.ids = ids;
      const offs = new Int32Array(this.n * 2);
      offs.set(this.nameOffs);
      this.nameOffs = offs;
    }
    this.ids[this.n] = id;
    this.nameOffs[this.n] = nameOff;
    this.n++;
  }

  private reserve(len: number): number {
    const at = this.strtabSize;
    if (at + len + 1 > this.strtab.length) {
      const t = new Uint8Array(Math.max(this.strtab.length * 2, at + len + 1));
      t.set(this.strtab.subarray(0, at));
      this.strtab = t;
    }
    this.strtabSize = at + len + 1; // the terminating NUL is already zero
    return at;
  }

  private appendBytes(b: Uint8Array, start: number, end: number): number {
    const at = this.reserve(end - start);
    this.strtab.set(b.subarray(start, end), at);
    return at;
  }

  private appendString(name: string): number {
    const at = this.reserve(name.length);
    for (let i = 0; i < name.length; i++) this.strtab[at + i] = name.charCodeAt(i);
    return at;
  }

  get count(): number {
    return this.n;
  }

  writeStrtab(buf: Uint8Array, off: number): void {
    buf.set(this.strtab.subarray(0, this.strtabSize), off);
  }

  writeSymtab(buf: Uint8Array, off: number): void {
    const link = this.link;
    const ctx = link.ctx;
    const syms = ctx.syms;
    const is64 = link.arch.is64;
    const ent = is64 ? C.ELF64_SYM_SIZE : C.ELF32_SYM_SIZE;
    for (let k = 1; k < this.n; k++) {
      const id = this.ids[k]!;
      const o = off + k * ent;
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

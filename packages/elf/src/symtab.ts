import { SymFlag, SymState, w16, w32, w64 } from '@link/core';
import * as C from './constants.js';
import type { ElfLink } from './link.js';
import { localSymbolName, type ElfObjectFile } from './object-file.js';

/**
 * .symtab and .strtab: each live object's local symbols (grouped by file, as GNU ld does), then
 * the global symbols in id order. The set is chosen before layout (so sizes are known); values
 * are read when writing, after addresses are final.
 */
export class SymtabBuilder {
  readonly ids: number[] = [];
  private readonly names: string[] = [];
  private readonly nameOffs: number[] = [];
  private readonly strings = new Map<string, number>();
  strtabSize = 1;
  firstGlobal = 0;
  private readonly link: ElfLink;

  constructor(link: ElfLink) {
    this.link = link;
    const ctx = link.ctx;
    const syms = ctx.syms;
    this.push(-1, '');
    for (const f of link.objects) {
      const file = f as ElfObjectFile;
      for (let i = 1; i < file.firstGlobal; i++) {
        const id = file.symIds[i]!;
        const t = syms.type[id]!;
        if (t === C.STT_SECTION) continue;
        const sec = syms.section[id]!;
        if (sec >= 0) {
          const s = ctx.sections[sec]!;
          if (!s.isAlive || s.osec === null) continue;
        } else if (t !== C.STT_FILE && (syms.flags[id]! & SymFlag.Absolute) === 0) continue;
        const name = localSymbolName(file, i);
        if (name === '' || name.startsWith('.L')) continue;
        this.push(id, name);
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
          this.push(id, syms.names[id]!);
          continue;
        }
      } else if (!(f & (SymFlag.RefStrong | SymFlag.RefWeak))) continue;
      else if (st === SymState.Lazy) continue;
      globals.push(id);
    }
    this.firstGlobal = this.ids.length;
    for (const id of globals) this.push(id, syms.names[id]!);
  }

  private push(id: number, name: string): void {
    this.ids.push(id);
    this.names.push(name);
    if (name === '') {
      this.nameOffs.push(0);
      return;
    }
    let off = this.strings.get(name);
    if (off === undefined) {
      off = this.strtabSize;
      this.strings.set(name, off);
      this.strtabSize += name.length + 1;
    }
    this.nameOffs.push(off);
  }

  get count(): number {
    return this.ids.length;
  }

  writeStrtab(buf: Uint8Array, off: number): void {
    buf[off] = 0;
    for (const [s, o] of this.strings) {
      const p = off + o;
      for (let i = 0; i < s.length; i++) buf[p + i] = s.charCodeAt(i);
      buf[p + s.length] = 0;
    }
  }

  writeSymtab(buf: Uint8Array, off: number): void {
    const link = this.link;
    const ctx = link.ctx;
    const syms = ctx.syms;
    const is64 = link.arch.is64;
    const ent = is64 ? C.ELF64_SYM_SIZE : C.ELF32_SYM_SIZE;
    for (let k = 1; k < this.ids.length; k++) {
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

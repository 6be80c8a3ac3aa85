import { SymFlag, w32, w64, type OutputSection } from '@link/core';
import type { PltContext } from './arch.js';
import type { ElfLink } from './link.js';
import { writeRelEntry } from './dynamic-relocs.js';
import { GotKind, gotNeedsRelative, tlsIsStatic } from './scan.js';

/**
 * The GOT and the PLT of an output.
 *
 * `.got` holds address slots and TLS slots. In a static link every value is final; in a dynamic
 * one a slot of a preemptible symbol gets a symbolic relocation (GLOB_DAT, TPOFF64, DTPMOD64...),
 * and in position-independent output a slot of a local symbol gets a RELATIVE one.
 *
 * `.got.plt` is what PLT entries jump through. In a dynamic link it starts with three reserved
 * words (the address of .dynamic, then two the loader fills: its link map and its resolver),
 * followed by one slot per PLT entry, initially pointing back into the entry so the first call
 * goes to the resolver (lazy binding), and then the slots of IFUNC PLT entries, which IRELATIVE
 * relocations fill at start-up.
 */
export const GOT_PLT_RESERVED = 3;

export function gotPltReserved(link: ElfLink): number {
  return link.isDynamic ? GOT_PLT_RESERVED : 0;
}

/** Address of the .got.plt slot of PLT entry `i` (ordinary PLT entries first, then IPLT). */
export function pltSlotAddr(link: ElfLink, i: number): number {
  return link.synth.gotPlt.addr + (gotPltReserved(link) + i) * link.ctx.target.ptrSize;
}

/** Address of the PLT entry of `id` (an imported function or a local IFUNC). */
export function pltEntryAddr(link: ElfLink, id: number): number {
  const syms = link.ctx.syms;
  const plt = link.synth.iplt;
  const arch = link.arch;
  const header = link.pltSyms.length > 0 ? arch.plt.headerSize : 0;
  if (syms.flags[id]! & SymFlag.NeedsIplt) {
    return (
      plt.addr +
      header +
      link.pltSyms.length * arch.plt.entrySize +
      syms.pltIdx[id]! * arch.iplt.entrySize
    );
  }
  return plt.addr + header + syms.pltIdx[id]! * arch.plt.entrySize;
}

export function pltSize(link: ElfLink): number {
  const arch = link.arch;
  const n = link.pltSyms.length;
  return (
    (n > 0 ? arch.plt.headerSize + n * arch.plt.entrySize : 0) +
    link.ipltSyms.length * arch.iplt.entrySize
  );
}

function writeWord(buf: Uint8Array, off: number, ptr: number, v: number): void {
  if (ptr === 8) w64(buf, off, v);
  else w32(buf, off, v >>> 0);
}

export function writeGot(link: ElfLink, o: OutputSection, buf: Uint8Array): void {
  const syms = link.ctx.syms;
  const ptr = link.ctx.target.ptrSize;
  const dyn = link.arch.dynRel;
  const rel = link.relDyn;
  const tlsStart = link.tlsStart;
  for (let i = 0; i < link.gotSyms.length; i++) {
    const id = link.gotSyms[i]!;
    const word = link.gotWords[i]!;
    const off = o.fileOffset + word * ptr;
    const addr = o.addr + word * ptr;
    const preempt = link.isDynamic && (syms.flags[id]! & SymFlag.Preemptible) !== 0;
    const S = syms.addr[id]!;
    switch (link.gotKinds[i]) {
      case GotKind.Addr:
        if (preempt) rel.add(addr, dyn.GLOB_DAT, id, 0);
        else {
          if (link.isDynamic && gotNeedsRelative(link, id)) rel.add(addr, dyn.RELATIVE, -1, S);
          writeWord(buf, off, ptr, S);
        }
        break;
      case GotKind.TpOff:
        if (!link.isDynamic || tlsIsStatic(link, id)) writeWord(buf, off, ptr, S - link.tp);
        else if (preempt || (syms.flags[id]! & SymFlag.Imported) !== 0)
          rel.add(addr, dyn.TPOFF, id, 0);
        else {
          rel.add(addr, dyn.TPOFF, -1, S - tlsStart);
          // REL (i386): the loader adds to the addend the slot already holds.
          if (!link.arch.rela) writeWord(buf, off, ptr, S - tlsStart);
        }
        break;
      case GotKind.TlsGd:
        // An executable's own variable (targets that keep general-dynamic code in
        // executables, ARM): it is in module 1, at a known offset.
        if (tlsIsStatic(link, id)) {
          writeWord(buf, off, ptr, 1);
          writeWord(buf, off + ptr, ptr, S - tlsStart);
        } else if (preempt) {
          rel.add(addr, dyn.DTPMOD, id, 0);
          rel.add(addr + ptr, dyn.DTPOFF, id, 0);
        } else {
          rel.add(addr, dyn.DTPMOD, -1, 0);
          writeWord(buf, off + ptr, ptr, S - tlsStart);
        }
        break;
      case GotKind.TlsDesc:
        if (preempt) rel.add(addr, dyn.TLSDESC, id, 0);
        else {
          rel.add(addr, dyn.TLSDESC, -1, S - tlsStart);
          // REL: the addend sits in the descriptor's argument word (glibc reads td->arg),
          // the second on i386, the first on ARM.
          if (!link.arch.rela)
            writeWord(buf, off + (link.arch.tlsDescAddendWord ?? 1) * ptr, ptr, S - tlsStart);
        }
        break;
      case GotKind.TlsLd:
        if (link.ctx.target.isShared) rel.add(addr, dyn.DTPMOD, -1, 0);
        else writeWord(buf, off, ptr, 1);
        break;
    }
  }
}

export function writeGotPlt(link: ElfLink, o: OutputSection, buf: Uint8Array): void {
  const ptr = link.ctx.target.ptrSize;
  const reserved = gotPltReserved(link);
  if (reserved > 0) writeWord(buf, o.fileOffset, ptr, link.synth.dynamic?.addr ?? 0);
  for (let i = 0; i < link.pltSyms.length; i++) {
    const entry = pltEntryAddr(link, link.pltSyms[i]!);
    const lazy = link.arch.plt.lazyToHeader
      ? link.synth.iplt.addr
      : entry + link.arch.plt.lazyOffset;
    writeWord(buf, o.fileOffset + (reserved + i) * ptr, ptr, lazy);
  }
  const base = reserved + link.pltSyms.length;
  for (let i = 0; i < link.ipltSyms.length; i++) {
    const resolver = link.resolverAddr(link.ipltSyms[i]!);
    writeWord(buf, o.fileOffset + (base + i) * ptr, ptr, resolver);
    if (irelativeInRelDyn(link))
      link.relDyn.add(
        pltSlotAddr(link, link.pltSyms.length + i),
        link.arch.R_IRELATIVE,
        -1,
        resolver,
      );
  }
}

export function writePlt(link: ElfLink, o: OutputSection, buf: Uint8Array): void {
  const arch = link.arch;
  const n = link.pltSyms.length;
  const ctx: PltContext = {
    pltAddr: o.addr,
    gotPltAddr: link.synth.gotPlt.addr,
    pic: link.ctx.target.isPIC,
  };
  if (n > 0) {
    arch.plt.writeHeader(buf, o.fileOffset, ctx);
    for (let i = 0; i < n; i++) {
      const off = arch.plt.headerSize + i * arch.plt.entrySize;
      arch.plt.writeEntry(buf, o.fileOffset + off, o.addr + off, pltSlotAddr(link, i), i, ctx);
    }
  }
  const ibase = (n > 0 ? arch.plt.headerSize : 0) + n * arch.plt.entrySize;
  const es = arch.iplt.entrySize;
  for (let i = 0; i < link.ipltSyms.length; i++) {
    arch.iplt.write(
      buf,
      o.fileOffset + ibase + i * es,
      o.addr + ibase + i * es,
      pltSlotAddr(link, n + i),
      ctx,
    );
  }
}

/** `.rela.plt`: JUMP_SLOT for each PLT entry, then IRELATIVE for each IFUNC entry. */
export function writeRelaPlt(link: ElfLink, o: OutputSection, buf: Uint8Array): void {
  const arch = link.arch;
  const relEnt = arch.rela ? (arch.is64 ? 24 : 12) : 8;
  // REL keeps the addend in the slot itself, which writeGotPlt fills (the lazy target, the
  // IFUNC resolver).
  const put = (k: number, slot: number, type: number, symIdx: number, addend: number) =>
    writeRelEntry(buf, o.fileOffset + k * relEnt, arch.is64, arch.rela, slot, symIdx, type, addend);
  const n = link.pltSyms.length;
  for (let i = 0; i < n; i++)
    put(i, pltSlotAddr(link, i), arch.dynRel.JUMP_SLOT, link.dynsymIndex(link.pltSyms[i]!), 0);
  if (irelativeInRelDyn(link)) return;
  for (let i = 0; i < link.ipltSyms.length; i++) {
    put(n + i, pltSlotAddr(link, n + i), arch.R_IRELATIVE, 0, link.resolverAddr(link.ipltSyms[i]!));
  }
}

/** Whether IFUNC slots are filled by .rel(a).dyn instead of DT_JMPREL (see ElfArch). */
export function irelativeInRelDyn(link: ElfLink): boolean {
  return link.isDynamic && link.arch.irelativeInRelDyn === true;
}

export function relaPltCount(link: ElfLink): number {
  return link.pltSyms.length + (irelativeInRelDyn(link) ? 0 : link.ipltSyms.length);
}

/**
 * TLS descriptors (`-mtls-dialect=gnu2`; the ARM TLSDESC proposal, as glibc and GNU ld implement
 * it). The compiler's sequence is
 *
 *   ldr r0, 1f               @ 1: .word x(tlsdesc) + (. - 2b + T)    R_ARM_TLS_GOTDESC
 *   2: bl x(tlscall)         @ R_ARM_TLS_CALL / R_ARM_THM_TLS_CALL
 *   (r0 = x's offset from the thread pointer)
 *
 * In a shared object the literal holds the descriptor's address relative to the call's return
 * address (lr), and the call goes to one shared ARM trampoline that forms the descriptor's
 * address and tail-calls its resolver:
 *
 *   add r0, lr, r0; ldr r1, [r0, #4]; bx r1
 *
 * (ARM descriptors are {argument, entry}.) The descriptors are resolved eagerly through
 * R_ARM_TLS_DESC relocations in .rel.dyn. In an executable the sequence is relaxed: local-exec
 * turns the literal into the TP offset and the call into a nop; initial-exec turns the call into
 * a PC-relative load of the TP offset from the GOT.
 */
import { InputSection, w32 } from '@link/core';
import { type ElfLink, SHF_ALLOC, SHF_EXECINSTR, SHT_PROGBITS } from '@link/elf';

const TRAMPOLINE = [0xe08e0000, 0xe5901004, 0xe12fff11];

const trampolines = new WeakMap<ElfLink, InputSection>();

/** Before layout: adds the trampoline to .text when a shared object keeps descriptors. */
export function addTlsDescTrampoline(link: ElfLink): void {
  if (!link.ctx.target.isShared || link.tlsDescIdx.size === 0) return;
  const text = link.outputSections.find((o) => o.name === '.text');
  if (!text) return;
  const ctx = link.ctx;
  const sec = new InputSection(
    ctx.sections.length,
    link.internalFile,
    -1,
    '.text.tlsdesc',
    SHT_PROGBITS,
    SHF_ALLOC | SHF_EXECINSTR,
    4,
    12,
    -1,
  );
  ctx.sections.push(sec);
  const b = new Uint8Array(12);
  TRAMPOLINE.forEach((w, i) => w32(b, 4 * i, w));
  sec.ownContents = b;
  sec.osec = text;
  text.members.push(sec);
  trampolines.set(link, sec);
}

/** Address of the trampoline (ARM code). */
export function tlsDescTrampoline(link: ElfLink): number {
  const t = trampolines.get(link);
  if (!t) throw new Error('internal: no TLS descriptor trampoline');
  return t.addrOf(0);
}

/** The literal's bias: `lr` at the call is `2b + 4 (+1 in Thumb)` and T (bit 0 of A) says which. */
export function tlsDescLrBias(A: number): number {
  return 4 + 2 * (A & 1);
}

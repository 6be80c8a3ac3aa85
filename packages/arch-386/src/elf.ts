/**
 * i386 for ELF: relocation scanning and application (System V i386 psABI,
 * https://gitlab.com/x86-psABIs/i386-ABI; TLS per Drepper's "ELF Handling For Thread-Local
 * Storage", variant II as on x86-64, reached through %gs).
 *
 * Notation as in the psABI: S = symbol address, A = addend (REL: read from the field when the
 * relocations were loaded), P = address of the field, GOT = _GLOBAL_OFFSET_TABLE_ (the start of
 * .got.plt), G = offset of the symbol's GOT slot from GOT, TP = thread pointer.
 *
 * i386 has no PC-relative data addressing, so position-independent code keeps the GOT base in a
 * register and every GOT-related relocation (GOT32, GOT32X, GOTOFF, GOTPC, TLS_GD, TLS_LDM,
 * TLS_GOTIE, TLS_GOTDESC) is relative to GOT. Scanning decides, per relocation, whether a GOT
 * slot or PLT entry is needed; applying writes values and, where the scan chose to relax,
 * rewrites the instruction around the field. Both use the same predicates so they agree.
 */
import { SymFlag, SymState, formatLocation, w32, type InputSection } from '@link/core';
import {
  type ElfArch,
  type ElfLink,
  EM_386,
  MERGE_SECTION_SYM,
  RelClass,
  SHF_ALLOC,
  STT_GNU_IFUNC,
  applyAbsWord,
  canRelaxTlsToLe,
  isLocalBinding,
  noteReference,
  refLocation,
  reportOverflow,
  reportUnknownRelocation,
  scanCall,
  pltOr,
  scanRelAction,
} from '@link/elf';
import * as R from './relocs.js';
import {
  GotXForm,
  IPLT_ENTRY_SIZE,
  PLT_ENTRY_SIZE,
  PLT_HEADER_SIZE,
  PLT_LAZY_OFFSET,
  gotXForm,
  isBaselessModrm,
  isIeRelaxable,
  isTlsGetAddrCall,
  relaxGotX,
  relaxTlsDescCall,
  relaxTlsDescToIe,
  relaxTlsDescToLe,
  relaxTlsGdToIe,
  relaxTlsGdToLe,
  relaxTlsIeToLe,
  relaxTlsLdToLe,
  writeIpltEntry,
  writePltEntry,
  writePltHeader,
} from './isa.js';

/** REL: the addend is the signed value already stored in the field (lld's getImplicitAddend). */
function implicitAddend(type: number, b: Uint8Array, off: number): number {
  switch (type) {
    case R.R_386_NONE:
    case R.R_386_TLS_DESC_CALL: // the "field" is the call instruction itself
      return 0;
    case R.R_386_8:
    case R.R_386_PC8:
      return (b[off]! << 24) >> 24;
    case R.R_386_16:
    case R.R_386_PC16:
      return ((b[off]! | (b[off + 1]! << 8)) << 16) >> 16;
    default:
      if (off + 4 > b.length) return 0; // reported by the scan
      return b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24);
  }
}

/** `-r`: the inverse of implicitAddend, into the field's 1, 2 or 4 bytes. */
function writeImplicitAddend(type: number, b: Uint8Array, off: number, addend: number): void {
  const width = type === R.R_386_TLS_DESC_CALL ? 0 : fieldWidth(type);
  for (let k = 0; k < width; k++) b[off + k] = (addend >> (8 * k)) & 0xff;
}

/** Width of the field a relocation patches, for the bounds check. */
function fieldWidth(type: number): number {
  switch (type) {
    case R.R_386_8:
    case R.R_386_PC8:
      return 1;
    case R.R_386_16:
    case R.R_386_PC16:
    case R.R_386_TLS_DESC_CALL:
      return 2;
    case R.R_386_NONE:
      return 0;
    default:
      return 4;
  }
}

/** A GOT32X load whose slot can be replaced by the symbol's address (psABI §A.2). */
function gotXRelaxation(
  link: ElfLink,
  b: Uint8Array,
  off: number,
  type: number,
  sym: number,
): GotXForm {
  if (type !== R.R_386_GOT32X) return GotXForm.None;
  const syms = link.ctx.syms;
  // An IFUNC's address is its PLT entry; the GOT slot is what keeps pointers equal.
  if (syms.type[sym] === STT_GNU_IFUNC) return GotXForm.None;
  if (!isLocalBinding(link, sym)) return GotXForm.None;
  // In position-independent output an undefined weak must stay 0 at run time: keep the GOT.
  if (link.ctx.target.isPIC && link.isUndefined(sym)) return GotXForm.None;
  const form = gotXForm(b, off, link.ctx.target.isPIC);
  // `mov $foo` holds an absolute address, which position-independent output cannot.
  if (form === GotXForm.MovImm && link.ctx.target.isPIC) return GotXForm.None;
  return form;
}

function picError(link: ElfLink, sec: InputSection, off: number, type: number, sym: number): void {
  const ctx = link.ctx;
  ctx.diag.error(
    `relocation ${R.relocName(type)} against ${ctx.symName(sym)} cannot be used with ${ctx.target.isShared ? '-shared' : '-pie'}; recompile with -fPIC\n>>> referenced by ${refLocation(link, sec.id, off)}`,
  );
}

function scanRelocs(link: ElfLink, sec: InputSection): void {
  const ctx = link.ctx;
  const syms = ctx.syms;
  const rel = sec.relocs!;
  const b = sec.contents;
  const shared = ctx.target.isShared;
  const { type: types, sym: symCol, offset: offsets } = ctx.relocs;
  const end = rel.start + rel.count;
  for (let i = rel.start; i < end; i++) {
    const type = types[i]!;
    const sym = symCol[i]!;
    const off = offsets[i]!;
    if (type === R.R_386_NONE) continue;
    if (!noteReference(link, sec, sym, off, fieldWidth(type))) continue;
    switch (type) {
      case R.R_386_32:
        scanRelAction(link, sec, off, type, RelClass.AbsWord, sym);
        break;
      case R.R_386_16:
      case R.R_386_8:
        scanRelAction(link, sec, off, type, RelClass.AbsNarrow, sym);
        break;
      case R.R_386_PC32:
      case R.R_386_PC16:
      case R.R_386_PC8:
        scanRelAction(link, sec, off, type, RelClass.PcRel, sym);
        break;
      case R.R_386_GOTOFF:
        // S - GOT is position-independent exactly like S - P: the same table decides (a copy
        // for another module's data in an executable, an error in a shared object).
        scanRelAction(link, sec, off, type, RelClass.PcRel, sym);
        break;
      case R.R_386_PLT32:
        scanCall(link, sym);
        break;
      case R.R_386_GOTPC:
      case R.R_386_SIZE32:
      case R.R_386_TLS_LDO_32:
      case R.R_386_TLS_DESC_CALL:
        break;
      case R.R_386_GOT32:
      case R.R_386_GOT32X:
        if (ctx.target.isPIC && isBaselessModrm(b, off)) {
          // An absolute GOT slot address in position-independent output.
          picError(link, sec, off, type, sym);
          break;
        }
        if (gotXRelaxation(link, b, off, type, sym) === GotXForm.None)
          syms.flags[sym] = syms.flags[sym]! | SymFlag.NeedsGot;
        break;
      case R.R_386_TLS_LE:
      case R.R_386_TLS_LE_32:
        if (shared) picError(link, sec, off, type, sym);
        break;
      case R.R_386_TLS_IE:
      case R.R_386_TLS_GOTIE: {
        const gotRel = type === R.R_386_TLS_GOTIE;
        if (!gotRel && ctx.target.isPIC) {
          picError(link, sec, off, type, sym);
          break;
        }
        if (!(canRelaxTlsToLe(link, sym) && isIeRelaxable(b, off, gotRel))) {
          syms.flags[sym] = syms.flags[sym]! | SymFlag.NeedsGotTp;
          if (shared) link.staticTls = true;
        }
        break;
      }
      case R.R_386_TLS_GD:
      case R.R_386_TLS_LDM:
        if (shared) {
          if (type === R.R_386_TLS_GD) syms.flags[sym] = syms.flags[sym]! | SymFlag.NeedsTlsGd;
          else link.needsTlsLd = true;
          break;
        }
        // In an executable: GD of its own variable and LD become local-exec, GD of another
        // module's variable initial-exec, and the call to ___tls_get_addr disappears.
        if (type === R.R_386_TLS_GD && !canRelaxTlsToLe(link, sym))
          syms.flags[sym] = syms.flags[sym]! | SymFlag.NeedsGotTp;
        if (i + 1 < end && isTlsGetAddrCall(b, offsets[i + 1]!)) i++;
        else
          ctx.diag.error(
            `${refLocation(link, sec.id, off)}: ${R.relocName(type)} is not followed by a call to ___tls_get_addr`,
          );
        break;
      case R.R_386_TLS_GOTDESC:
        if (shared) syms.flags[sym] = syms.flags[sym]! | SymFlag.NeedsTlsDesc;
        else if (!canRelaxTlsToLe(link, sym))
          syms.flags[sym] = syms.flags[sym]! | SymFlag.NeedsGotTp;
        break;
      default:
        reportUnknownRelocation(link, sec, off, type, sym);
    }
  }
}

const S32_MIN = -0x80000000;
const U32_MAX = 0xffffffff;

/** Writes a 32-bit field; i386 addresses wrap modulo 2^32, so any value a signed or unsigned
 * 32-bit field can hold is accepted. */
function put32(
  link: ElfLink,
  sec: InputSection,
  buf: Uint8Array,
  loc: number,
  off: number,
  type: number,
  sym: number,
  v: number,
): void {
  if (v < S32_MIN || v > U32_MAX) reportOverflow(link, sec, off, type, sym, v, S32_MIN, U32_MAX);
  w32(buf, loc, v >>> 0);
}

function malformed(
  link: ElfLink,
  sec: InputSection,
  off: number,
  type: number,
  what: string,
): void {
  link.ctx.diag.error(
    `${refLocation(link, sec.id, off)}: ${R.relocName(type)} must be used in ${what}`,
  );
}

function applyRelocs(
  link: ElfLink,
  sec: InputSection,
  buf: Uint8Array,
  base: number,
  secAddr: number,
): void {
  const ctx = link.ctx;
  const syms = ctx.syms;
  const rel = sec.relocs!;
  const addrCol = syms.addr;
  const flagsCol = syms.flags;
  const alloc = (sec.flags & SHF_ALLOC) !== 0;
  const gotAddr = link.synth.got.addr;
  const GOT = link.gotBase;
  /** GOT slot `idx` relative to the GOT base, as the %ebx-relative TLS forms address it. */
  const slotOff = (idx: number) => gotAddr + idx * 4 - GOT;
  const tp = link.tp;
  const shared = ctx.target.isShared;
  // Debug info referring to discarded code gets a tombstone the consumers recognise.
  const tombstone = alloc ? 0 : sec.name === '.debug_loc' || sec.name === '.debug_ranges' ? 1 : 0;
  const { type: types, sym: symCol, offset: offsets, addend: addends } = ctx.relocs;
  const end = rel.start + rel.count;
  for (let i = rel.start; i < end; i++) {
    const type = types[i]!;
    const sym = symCol[i]!;
    const off = offsets[i]!;
    const loc = base + off;
    const P = secAddr + off;
    let A = addends[i]!;
    let S = addrCol[sym]!;
    const f = flagsCol[sym]!;
    if (f & MERGE_SECTION_SYM) {
      // Section symbol of a merged section: the addend selects the piece.
      S = ctx.sections[syms.section[sym]!]!.addrOf(syms.value[sym]! + A);
      A = 0;
    } else if (!alloc) {
      const s = syms.section[sym]!;
      if (s >= 0 && !ctx.sections[s]!.isAlive && (f & SymFlag.Local) !== 0) S = tombstone - A;
    }
    // A call to (or PC-relative use of) a function another module may define: its PLT entry.
    let v: number;
    switch (type) {
      case R.R_386_NONE:
        continue;
      case R.R_386_32:
        v = alloc ? applyAbsWord(link, sec, P, sym, S, A) : S + A;
        put32(link, sec, buf, loc, off, type, sym, v);
        continue;
      case R.R_386_PC32:
      case R.R_386_PLT32:
        S = pltOr(link, sym, S);
        put32(link, sec, buf, loc, off, type, sym, S + A - P);
        continue;
      case R.R_386_16:
        v = S + A;
        if (v < -0x8000 || v > 0xffff)
          reportOverflow(link, sec, off, type, sym, v, -0x8000, 0xffff);
        buf[loc] = v & 0xff;
        buf[loc + 1] = (v >> 8) & 0xff;
        continue;
      case R.R_386_PC16:
        v = S + A - P;
        if (v < -0x8000 || v > 0x7fff)
          reportOverflow(link, sec, off, type, sym, v, -0x8000, 0x7fff);
        buf[loc] = v & 0xff;
        buf[loc + 1] = (v >> 8) & 0xff;
        continue;
      case R.R_386_8:
        v = S + A;
        if (v < -0x80 || v > 0xff) reportOverflow(link, sec, off, type, sym, v, -0x80, 0xff);
        buf[loc] = v & 0xff;
        continue;
      case R.R_386_PC8:
        v = S + A - P;
        if (v < -0x80 || v > 0x7f) reportOverflow(link, sec, off, type, sym, v, -0x80, 0x7f);
        buf[loc] = v & 0xff;
        continue;
      case R.R_386_GOTOFF:
        S = pltOr(link, sym, S);
        put32(link, sec, buf, loc, off, type, sym, S + A - GOT);
        continue;
      case R.R_386_GOTPC:
        put32(link, sec, buf, loc, off, type, sym, GOT + A - P);
        continue;
      case R.R_386_SIZE32:
        put32(link, sec, buf, loc, off, type, sym, syms.size[sym]! + A);
        continue;
      case R.R_386_GOT32:
      case R.R_386_GOT32X: {
        const g = syms.gotIdx[sym]!;
        const baseless = isBaselessModrm(buf, loc);
        if (g >= 0) {
          const slot = gotAddr + g * 4;
          put32(link, sec, buf, loc, off, type, sym, (baseless ? slot : slot - GOT) + A);
          continue;
        }
        const form = gotXForm(buf, loc, ctx.target.isPIC);
        if (relaxGotX(buf, loc, form) === -1) {
          // `jmp rel32; nop`: the field starts one byte earlier.
          put32(link, sec, buf, loc - 1, off, type, sym, S + A - (P - 1) - 4);
          continue;
        }
        if (form === GotXForm.Branch) v = S + A - P - 4;
        else if (form === GotXForm.MovImm) v = S + A;
        else v = S + A - GOT;
        put32(link, sec, buf, loc, off, type, sym, v);
        continue;
      }
      case R.R_386_TLS_LE:
        put32(link, sec, buf, loc, off, type, sym, S + A - tp);
        continue;
      case R.R_386_TLS_LE_32:
        put32(link, sec, buf, loc, off, type, sym, tp - (S + A));
        continue;
      case R.R_386_TLS_LDO_32:
        // In an executable the local-dynamic sequence was relaxed to local-exec, so the offset
        // counts from the thread pointer; debug info and shared objects want the offset in the
        // module's TLS block.
        put32(link, sec, buf, loc, off, type, sym, S + A - (alloc && !shared ? tp : link.tlsStart));
        continue;
      case R.R_386_TLS_IE:
      case R.R_386_TLS_GOTIE: {
        const gotRel = type === R.R_386_TLS_GOTIE;
        const g = link.gotTpIdx.get(sym) ?? -1;
        if (g >= 0) {
          const slot = gotAddr + g * 4;
          v = (gotRel ? slot - GOT : slot) + A;
        } else {
          relaxTlsIeToLe(buf, loc, gotRel);
          v = S + A - tp;
        }
        put32(link, sec, buf, loc, off, type, sym, v);
        continue;
      }
      case R.R_386_TLS_GD:
        if (shared) {
          put32(link, sec, buf, loc, off, type, sym, slotOff(link.tlsGdIdx.get(sym)!) + A);
          continue;
        }
        i++; // the ___tls_get_addr call is gone (the scan checked it is there)
        if (link.gotTpIdx.has(sym)) {
          // Another module's variable: general-dynamic → initial-exec.
          const field = relaxTlsGdToIe(buf, loc);
          if (field < 0) malformed(link, sec, off, type, 'the general-dynamic code sequence');
          else w32(buf, field, slotOff(link.gotTpIdx.get(sym)!) >>> 0);
          continue;
        }
        if (!relaxTlsGdToLe(buf, loc, (tp - (S + A)) >>> 0))
          malformed(link, sec, off, type, 'the general-dynamic code sequence');
        continue;
      case R.R_386_TLS_LDM:
        if (shared) {
          put32(link, sec, buf, loc, off, type, sym, slotOff(link.tlsLdIdx) + A);
          continue;
        }
        i++;
        if (!relaxTlsLdToLe(buf, loc))
          malformed(link, sec, off, type, 'the local-dynamic code sequence');
        continue;
      case R.R_386_TLS_GOTDESC:
        if (shared) {
          put32(link, sec, buf, loc, off, type, sym, slotOff(link.tlsDescIdx.get(sym)!) + A);
          continue;
        }
        if (link.gotTpIdx.has(sym)) {
          if (!relaxTlsDescToIe(buf, loc))
            malformed(link, sec, off, type, 'a leal x@tlsdesc(%reg), %eax instruction');
          put32(link, sec, buf, loc, off, type, sym, slotOff(link.gotTpIdx.get(sym)!) + A);
          continue;
        }
        if (!relaxTlsDescToLe(buf, loc))
          malformed(link, sec, off, type, 'a leal x@tlsdesc(%reg), %eax instruction');
        put32(link, sec, buf, loc, off, type, sym, S + A - tp);
        continue;
      case R.R_386_TLS_DESC_CALL:
        if (shared) continue;
        if (!relaxTlsDescCall(buf, loc))
          malformed(link, sec, off, type, 'a call *x@tlscall(%eax) instruction');
        continue;
      default:
        // Unknown types in allocated sections were reported by the scan.
        if (!alloc)
          ctx.diag.error(
            `${formatLocation(sec.file.displayName, sec.name, off)}: unsupported relocation ${R.relocName(type)} against symbol ${ctx.symName(sym)}`,
          );
    }
  }
}

export const i386Elf: ElfArch = {
  name: '386',
  machine: EM_386,
  is64: false,
  rela: false,
  emulation: 'elf_i386',
  pageSize: 0x1000,
  imageBase: 0x8048000,
  trapFill: 0xcc,
  implicitAddend,
  writeImplicitAddend,
  relocName: R.relocName,
  scanRelocs,
  applyRelocs,
  iplt: { entrySize: IPLT_ENTRY_SIZE, write: writeIpltEntry },
  R_IRELATIVE: R.R_386_IRELATIVE,
  plt: {
    headerSize: PLT_HEADER_SIZE,
    entrySize: PLT_ENTRY_SIZE,
    writeHeader: writePltHeader,
    writeEntry: writePltEntry,
    lazyOffset: PLT_LAZY_OFFSET,
  },
  dynRel: {
    RELATIVE: R.R_386_RELATIVE,
    GLOB_DAT: R.R_386_GLOB_DAT,
    JUMP_SLOT: R.R_386_JMP_SLOT,
    COPY: R.R_386_COPY,
    ABS: R.R_386_32,
    DTPMOD: R.R_386_TLS_DTPMOD32,
    DTPOFF: R.R_386_TLS_DTPOFF32,
    TPOFF: R.R_386_TLS_TPOFF,
    TLSDESC: R.R_386_TLS_DESC,
  },
  defaultInterpreter: '/lib/ld-linux.so.2',
  pluginInit: {
    // call 1f; 1: pop %ecx; add $_GLOBAL_OFFSET_TABLE_+(.-1b), %ecx;
    // mov register@GOT(%ecx), %eax; test %eax, %eax; je 2f; sub $8, %esp (keeps the stack
    // 16-byte aligned at the call); lea desc@GOTOFF(%ecx), %edx; push %edx; call *%eax;
    // add $12, %esp; 2: ret
    code: Uint8Array.from([
      0xe8, 0, 0, 0, 0, 0x59, 0x81, 0xc1, 0, 0, 0, 0, 0x8b, 0x81, 0, 0, 0, 0, 0x85, 0xc0, 0x74,
      0x0f, 0x83, 0xec, 0x08, 0x8d, 0x91, 0, 0, 0, 0, 0x52, 0xff, 0xd0, 0x83, 0xc4, 0x0c, 0xc3,
    ]),
    relocs: [
      // GOTPC ignores its symbol (GOT + A - P); A = 3 puts the GOT base itself in %ecx.
      { offset: 8, type: R.R_386_GOTPC, addend: 3, target: 'descriptor' },
      { offset: 14, type: R.R_386_GOT32, addend: 0, target: 'register' },
      { offset: 27, type: R.R_386_GOTOFF, addend: 0, target: 'descriptor' },
    ],
    abs: R.R_386_32,
  },
};

export * from './relocs.js';

/**
 * x86-64 for ELF: relocation scanning and application (System V AMD64 psABI,
 * https://gitlab.com/x86-psABIs/x86-64-ABI; TLS per Drepper's "ELF Handling For Thread-Local
 * Storage").
 *
 * Notation as in the psABI: S = symbol address, A = addend, P = address of the field,
 * G + GOT = address of the symbol's GOT slot, Z = symbol size, TP = thread pointer.
 *
 * Scanning decides, per relocation, whether a GOT slot or IFUNC PLT entry is needed; applying
 * writes values and, where the scan chose to relax, rewrites the instruction around the field.
 * Both use the same predicates so they always agree.
 */
import { SymFlag, w32, w64, type InputSection } from '@link/core';
import {
  type ElfArch,
  type ElfLink,
  MERGE_SECTION_SYM,
  RelClass,
  applyAbsWord,
  canRelaxTlsToLe,
  isLocalBinding,
  noteReference,
  reportOverflow,
  reportUnknownRelocation,
  pltOr,
  scanCall,
  refLocation,
  scanRelAction,
  EM_X86_64,
  SHF_ALLOC,
  STT_GNU_IFUNC,
} from '@link/elf';
import * as R from './relocs.js';
import {
  IPLT_ENTRY_SIZE,
  canRelaxGotPcRelX,
  isTlsGetAddrCall,
  relaxGotPcRelX,
  relaxTlsDescCall,
  relaxTlsDescToIe,
  relaxTlsDescToLe,
  relaxTlsGdToIe,
  relaxTlsGdToLe,
  relaxTlsIeToLe,
  relaxTlsLdToLe,
  writeIpltEntry,
  PLT_ENTRY_SIZE,
  PLT_HEADER_SIZE,
  PLT_LAZY_OFFSET,
  writePltEntry,
  writePltHeader,
} from './isa.js';

function canRelaxGot(
  link: ElfLink,
  b: Uint8Array,
  off: number,
  type: number,
  sym: number,
): boolean {
  if (type === R.R_X86_64_GOTPCREL) return false;
  if (!isLocalBinding(link, sym)) return false;
  // In position-independent output an undefined weak must stay 0 at run time: keep the GOT.
  if (link.ctx.target.isPIC && link.isUndefined(sym)) return false;
  return canRelaxGotPcRelX(b, off, type === R.R_X86_64_REX_GOTPCRELX);
}

/** In an executable, dynamic TLS models of another module's symbol become initial-exec. */
function canRelaxTlsToIe(link: ElfLink): boolean {
  return !link.ctx.target.isShared;
}

function isIeRelaxable(b: Uint8Array, off: number): boolean {
  if (off < 3) return false;
  const rex = b[off - 3];
  const op = b[off - 2];
  return (
    (rex === 0x48 || rex === 0x4c) && (op === 0x8b || op === 0x03) && (b[off - 1]! & 0xc7) === 0x05
  );
}

function scanRelocs(link: ElfLink, sec: InputSection): void {
  const ctx = link.ctx;
  const syms = ctx.syms;
  const rel = sec.relocs!;
  const b = sec.contents;
  const { type: types, sym: syms_, offset: offsets } = ctx.relocs;
  const end = rel.start + rel.count;
  for (let i = rel.start; i < end; i++) {
    const type = types[i]!;
    const sym = syms_[i]!;
    const off = offsets[i]!;
    if (type === R.R_X86_64_NONE) continue;
    if (!noteReference(link, sec, sym, off, 1)) continue;
    switch (type) {
      case R.R_X86_64_64:
        scanRelAction(link, sec, off, type, RelClass.AbsWord, sym);
        break;
      case R.R_X86_64_32:
      case R.R_X86_64_32S:
      case R.R_X86_64_16:
      case R.R_X86_64_8:
        scanRelAction(link, sec, off, type, RelClass.AbsNarrow, sym);
        break;
      case R.R_X86_64_PC32:
      case R.R_X86_64_PC64:
      case R.R_X86_64_PC16:
      case R.R_X86_64_PC8:
        scanRelAction(link, sec, off, type, RelClass.PcRel, sym);
        break;
      case R.R_X86_64_PLT32:
        scanCall(link, sym);
        break;
      case R.R_X86_64_GOTPC32:
      case R.R_X86_64_GOTPC64:
      case R.R_X86_64_GOTOFF64:
      case R.R_X86_64_SIZE32:
      case R.R_X86_64_SIZE64:
      case R.R_X86_64_DTPOFF32:
      case R.R_X86_64_DTPOFF64:
      case R.R_X86_64_PLTOFF64:
        break;
      case R.R_X86_64_TPOFF32:
      case R.R_X86_64_TPOFF64:
        if (ctx.target.isShared)
          ctx.diag.error(
            `relocation ${R.relocName(type)} against ${ctx.symName(sym)} cannot be used with -shared; recompile with -fPIC\n>>> referenced by ${refLocation(link, sec.id, off)}`,
          );
        break;
      case R.R_X86_64_GOTPCREL:
      case R.R_X86_64_GOTPCRELX:
      case R.R_X86_64_REX_GOTPCRELX:
        if (!canRelaxGot(link, b, off, type, sym))
          syms.flags[sym] = syms.flags[sym]! | SymFlag.NeedsGot;
        break;
      case R.R_X86_64_GOT32:
      case R.R_X86_64_GOT64:
      case R.R_X86_64_GOTPCREL64:
      case R.R_X86_64_GOTPLT64:
        syms.flags[sym] = syms.flags[sym]! | SymFlag.NeedsGot;
        break;
      case R.R_X86_64_GOTTPOFF:
        if (!(canRelaxTlsToLe(link, sym) && isIeRelaxable(b, off))) {
          syms.flags[sym] = syms.flags[sym]! | SymFlag.NeedsGotTp;
          if (ctx.target.isShared) link.staticTls = true;
        }
        break;
      case R.R_X86_64_TLSGD:
      case R.R_X86_64_TLSLD: {
        if (!canRelaxTlsToIe(link)) {
          if (type === R.R_X86_64_TLSGD) syms.flags[sym] = syms.flags[sym]! | SymFlag.NeedsTlsGd;
          else link.needsTlsLd = true;
          break;
        }
        if (type === R.R_X86_64_TLSGD && !canRelaxTlsToLe(link, sym))
          syms.flags[sym] = syms.flags[sym]! | SymFlag.NeedsGotTp;
        // The call to __tls_get_addr that follows disappears with the relaxation.
        if (i + 1 < end && isTlsGetAddrCall(b, offsets[i + 1]!)) i++;
        else
          ctx.diag.error(
            `${refLocation(link, sec.id, off)}: ${R.relocName(type)} is not followed by a call to __tls_get_addr`,
          );
        break;
      }
      case R.R_X86_64_GOTPC32_TLSDESC:
        if (!canRelaxTlsToIe(link)) syms.flags[sym] = syms.flags[sym]! | SymFlag.NeedsTlsDesc;
        else if (!canRelaxTlsToLe(link, sym))
          syms.flags[sym] = syms.flags[sym]! | SymFlag.NeedsGotTp;
        break;
      case R.R_X86_64_TLSDESC_CALL:
        break;
      default:
        reportUnknownRelocation(link, sec, off, type, sym);
    }
  }
}

const S32_MIN = -0x80000000;
const S32_MAX = 0x7fffffff;
const U32_MAX = 0xffffffff;

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
  const gotBase = link.gotBase;
  const tp = link.tp;
  const shared = link.ctx.target.isShared;
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
    let v: number;
    switch (type) {
      case R.R_X86_64_NONE:
        continue;
      case R.R_X86_64_64:
        w64(buf, loc, alloc ? applyAbsWord(link, sec, P, sym, S, A) : S + A);
        continue;
      case R.R_X86_64_PC64:
        w64(buf, loc, pltOr(link, sym, S) + A - P);
        continue;
      case R.R_X86_64_PC32:
      case R.R_X86_64_PLT32:
        // A call to (or PC-relative use of) a function another module may define: its PLT entry.
        v = pltOr(link, sym, S) + A - P;
        if (v < S32_MIN || v > S32_MAX)
          reportOverflow(link, sec, off, type, sym, v, S32_MIN, S32_MAX);
        w32(buf, loc, v);
        continue;
      case R.R_X86_64_32:
        v = S + A;
        if (v < 0 || v > U32_MAX) reportOverflow(link, sec, off, type, sym, v, 0, U32_MAX);
        w32(buf, loc, v);
        continue;
      case R.R_X86_64_32S:
        v = S + A;
        if (v < S32_MIN || v > S32_MAX)
          reportOverflow(link, sec, off, type, sym, v, S32_MIN, S32_MAX);
        w32(buf, loc, v);
        continue;
      case R.R_X86_64_16:
        v = S + A;
        if (v < -0x8000 || v > 0xffff)
          reportOverflow(link, sec, off, type, sym, v, -0x8000, 0xffff);
        buf[loc] = v & 0xff;
        buf[loc + 1] = (v >> 8) & 0xff;
        continue;
      case R.R_X86_64_PC16:
        v = S + A - P;
        if (v < -0x8000 || v > 0x7fff)
          reportOverflow(link, sec, off, type, sym, v, -0x8000, 0x7fff);
        buf[loc] = v & 0xff;
        buf[loc + 1] = (v >> 8) & 0xff;
        continue;
      case R.R_X86_64_8:
        v = S + A;
        if (v < -0x80 || v > 0xff) reportOverflow(link, sec, off, type, sym, v, -0x80, 0xff);
        buf[loc] = v & 0xff;
        continue;
      case R.R_X86_64_PC8:
        v = S + A - P;
        if (v < -0x80 || v > 0x7f) reportOverflow(link, sec, off, type, sym, v, -0x80, 0x7f);
        buf[loc] = v & 0xff;
        continue;
      case R.R_X86_64_GOTPCREL:
      case R.R_X86_64_GOTPCRELX:
      case R.R_X86_64_REX_GOTPCRELX: {
        const g = syms.gotIdx[sym]!;
        if (g >= 0) {
          v = gotAddr + g * 8 + A - P;
        } else {
          if (relaxGotPcRelX(buf, loc) === -1) {
            // `jmp rel32; nop`: the field starts one byte earlier and ends one byte earlier.
            w32(buf, loc - 1, S + A - P + 1);
            continue;
          }
          v = S + A - P;
        }
        if (v < S32_MIN || v > S32_MAX)
          reportOverflow(link, sec, off, type, sym, v, S32_MIN, S32_MAX);
        w32(buf, loc, v);
        continue;
      }
      case R.R_X86_64_GOTPCREL64:
        w64(buf, loc, gotAddr + syms.gotIdx[sym]! * 8 + A - P);
        continue;
      case R.R_X86_64_GOT32:
        v = gotAddr + syms.gotIdx[sym]! * 8 - gotBase + A;
        if (v < S32_MIN || v > S32_MAX)
          reportOverflow(link, sec, off, type, sym, v, S32_MIN, S32_MAX);
        w32(buf, loc, v);
        continue;
      case R.R_X86_64_GOT64:
      case R.R_X86_64_GOTPLT64:
        w64(buf, loc, gotAddr + syms.gotIdx[sym]! * 8 - gotBase + A);
        continue;
      case R.R_X86_64_GOTPC32:
        v = gotBase + A - P;
        if (v < S32_MIN || v > S32_MAX)
          reportOverflow(link, sec, off, type, sym, v, S32_MIN, S32_MAX);
        w32(buf, loc, v);
        continue;
      case R.R_X86_64_GOTPC64:
        w64(buf, loc, gotBase + A - P);
        continue;
      case R.R_X86_64_GOTOFF64:
        w64(buf, loc, S + A - gotBase);
        continue;
      case R.R_X86_64_PLTOFF64:
        w64(buf, loc, S + A - gotBase);
        continue;
      case R.R_X86_64_SIZE32:
        v = syms.size[sym]! + A;
        if (v < 0 || v > U32_MAX) reportOverflow(link, sec, off, type, sym, v, 0, U32_MAX);
        w32(buf, loc, v);
        continue;
      case R.R_X86_64_SIZE64:
        w64(buf, loc, syms.size[sym]! + A);
        continue;
      case R.R_X86_64_TPOFF32:
        v = S + A - tp;
        if (v < S32_MIN || v > S32_MAX)
          reportOverflow(link, sec, off, type, sym, v, S32_MIN, S32_MAX);
        w32(buf, loc, v);
        continue;
      case R.R_X86_64_TPOFF64:
        w64(buf, loc, S + A - tp);
        continue;
      case R.R_X86_64_DTPOFF32:
        // In an executable the local-dynamic sequence was relaxed to local-exec, so the offset
        // is taken from the thread pointer; debug info and shared objects want the offset in
        // the TLS block.
        w32(buf, loc, alloc && !shared ? S + A - tp : S + A - link.tlsStart);
        continue;
      case R.R_X86_64_DTPOFF64:
        w64(buf, loc, alloc && !shared ? S + A - tp : S + A - link.tlsStart);
        continue;
      case R.R_X86_64_GOTTPOFF: {
        const g = link.gotTpIdx.get(sym) ?? -1;
        if (g >= 0) v = gotAddr + g * 8 + A - P;
        else {
          relaxTlsIeToLe(buf, loc);
          v = S + A + 4 - tp;
        }
        w32(buf, loc, v);
        continue;
      }
      case R.R_X86_64_TLSGD:
        if (shared) {
          w32(buf, loc, gotAddr + link.tlsGdIdx.get(sym)! * 8 + A - P);
          continue;
        }
        if (link.gotTpIdx.has(sym)) {
          // Another module's variable: general-dynamic → initial-exec.
          const field = relaxTlsGdToIe(buf, loc);
          if (field < 0)
            ctx.diag.error(
              `${refLocation(link, sec.id, off)}: R_X86_64_TLSGD must be used in the general-dynamic code sequence`,
            );
          else w32(buf, field, gotAddr + link.gotTpIdx.get(sym)! * 8 - (P + 12));
          i++;
          continue;
        }
        if (!relaxTlsGdToLe(buf, loc, S + A + 4 - tp)) {
          ctx.diag.error(
            `${refLocation(link, sec.id, off)}: R_X86_64_TLSGD must be used in the general-dynamic code sequence`,
          );
        }
        i++; // the __tls_get_addr call is gone
        continue;
      case R.R_X86_64_TLSLD:
        if (shared) {
          w32(buf, loc, gotAddr + link.tlsLdIdx * 8 + A - P);
          continue;
        }
        if (!relaxTlsLdToLe(buf, loc)) {
          ctx.diag.error(
            `${refLocation(link, sec.id, off)}: R_X86_64_TLSLD must be used in the local-dynamic code sequence`,
          );
        }
        i++;
        continue;
      case R.R_X86_64_GOTPC32_TLSDESC:
        if (shared) {
          w32(buf, loc, gotAddr + link.tlsDescIdx.get(sym)! * 8 + A - P);
          continue;
        }
        if (link.gotTpIdx.has(sym)) {
          if (!relaxTlsDescToIe(buf, loc))
            ctx.diag.error(
              `${refLocation(link, sec.id, off)}: R_X86_64_GOTPC32_TLSDESC must be used in a lea x@tlsdesc(%rip) instruction`,
            );
          w32(buf, loc, gotAddr + link.gotTpIdx.get(sym)! * 8 + A - P);
          continue;
        }
        if (!relaxTlsDescToLe(buf, loc)) {
          ctx.diag.error(
            `${refLocation(link, sec.id, off)}: R_X86_64_GOTPC32_TLSDESC must be used in a lea x@tlsdesc(%rip) instruction`,
          );
        }
        w32(buf, loc, S + A + 4 - tp);
        continue;
      case R.R_X86_64_TLSDESC_CALL:
        if (shared) continue;
        if (!relaxTlsDescCall(buf, loc)) {
          ctx.diag.error(
            `${refLocation(link, sec.id, off)}: R_X86_64_TLSDESC_CALL must be used in a call *x@tlscall(%rax) instruction`,
          );
        }
        continue;
      default:
        // Unknown types were reported by the scan (non-allocated sections are not scanned).
        if (!alloc) reportUnknownRelocation(link, sec, off, type, sym);
    }
  }
}

export const amd64Elf: ElfArch = {
  name: 'amd64',
  machine: EM_X86_64,
  is64: true,
  rela: true,
  emulation: 'elf_x86_64',
  pageSize: 0x1000,
  imageBase: 0x400000,
  trapFill: 0xcc,
  relocName: R.relocName,
  scanRelocs,
  applyRelocs,
  iplt: { entrySize: IPLT_ENTRY_SIZE, write: writeIpltEntry },
  R_IRELATIVE: R.R_X86_64_IRELATIVE,
  plt: {
    headerSize: PLT_HEADER_SIZE,
    entrySize: PLT_ENTRY_SIZE,
    writeHeader: writePltHeader,
    writeEntry: writePltEntry,
    lazyOffset: PLT_LAZY_OFFSET,
  },
  dynRel: {
    RELATIVE: R.R_X86_64_RELATIVE,
    GLOB_DAT: R.R_X86_64_GLOB_DAT,
    JUMP_SLOT: R.R_X86_64_JUMP_SLOT,
    COPY: R.R_X86_64_COPY,
    ABS: R.R_X86_64_64,
    DTPMOD: R.R_X86_64_DTPMOD64,
    DTPOFF: R.R_X86_64_DTPOFF64,
    TPOFF: R.R_X86_64_TPOFF64,
    TLSDESC: R.R_X86_64_TLSDESC,
  },
  defaultInterpreter: '/lib64/ld-linux-x86-64.so.2',
  pluginInit: {
    // lea desc(%rip), %rdi; mov register@GOTPCREL(%rip), %rax; test %rax, %rax; je 1f;
    // jmp *%rax; 1: ret
    code: Uint8Array.from([
      0x48, 0x8d, 0x3d, 0, 0, 0, 0, 0x48, 0x8b, 0x05, 0, 0, 0, 0, 0x48, 0x85, 0xc0, 0x74, 0x02,
      0xff, 0xe0, 0xc3,
    ]),
    relocs: [
      { offset: 3, type: R.R_X86_64_PC32, addend: -4, target: 'descriptor' },
      { offset: 10, type: R.R_X86_64_GOTPCREL, addend: -4, target: 'register' },
    ],
    abs: R.R_X86_64_64,
  },
};

export * from './relocs.js';

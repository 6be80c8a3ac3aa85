/**
 * 32-bit ARM (EABI5, armhf) for ELF: relocation scanning and application ("ELF for the Arm
 * Architecture", AAELF32), ARM/Thumb interworking, the PLT, TLS (variant I; no sequence
 * relaxation is needed on ARM: general- and local-dynamic keep their GOT pairs, which hold
 * link-time constants in an executable), and the hooks that build `.ARM.exidx` and the
 * range-extension thunks.
 *
 * Notation as in AAELF32 §5.6.1: S = symbol address (bit 0 set for a Thumb function, the "T"
 * bit), A = addend (REL: read from the field when the relocations are loaded), P = address of
 * the field, GOT_ORG = _GLOBAL_OFFSET_TABLE_, GOT(S) = address of S's GOT slot, TP = thread
 * pointer.
 */
import { SymFlag, SymState, i32, u16, u32, w16, w32, type InputSection } from '@link/core';
import {
  type ElfArch,
  type ElfLink,
  MERGE_SECTION_SYM,
  RelClass,
  applyAbsWord,
  pltEntryAddr,
  refLocation,
  scanRelAction,
  noteReference,
  reportOverflow,
  reportUnknownRelocation,
  scanCall,
  canRelaxTlsToLe,
  EM_ARM,
  SHF_ALLOC,
} from '@link/elf';
import * as R from './relocs.js';
import { fieldOf, readField, writeField } from './fields.js';
import {
  armIsBlx,
  armSetBranch,
  armSetMovImm,
  ARM_BL,
  ARM_NOP,
  writeThumbNopW,
  ARM_BLX,
  PLT_ARM_OFFSET,
  PLT_ENTRY_SIZE,
  PLT_HEADER_SIZE,
  thmSetBranch19,
  thmSetBranch24,
  thmSetMovImm,
  writePltEntry,
  writePltHeader,
} from './isa.js';
import { mergeAttributeSections, outputFlags } from './attributes.js';
import { thunkTarget, updateThunks } from './thunks.js';
import { branchTarget, interworks } from './branch.js';
import { linkExidx, prepareExidx } from './exidx.js';
import { addTlsDescTrampoline, tlsDescLrBias, tlsDescTrampoline } from './tlsdesc.js';

/** REL: the addend stored in the field a relocation of `type` patches. */
function implicitAddend(type: number, b: Uint8Array, off: number): number {
  return readField(fieldOf(type), b, off);
}

/** `-r`: the inverse of implicitAddend, keeping each instruction's other bits. */
function writeImplicitAddend(type: number, b: Uint8Array, off: number, A: number): void {
  writeField(fieldOf(type), b, off, A);
}

/** In an executable, TLS descriptors of the executable's own variables become local-exec. */
const tlsDescToLe = canRelaxTlsToLe;

/** A 16-bit Thumb branch to a function another module may define: no room for a PLT detour. */
function noPltRoom(link: ElfLink, sec: InputSection, off: number, type: number, sym: number): void {
  link.ctx.diag.error(
    `${refLocation(link, sec.id, off)}: relocation ${R.relocName(type)} cannot be used against preemptible symbol '${link.ctx.symName(sym)}': a 16-bit branch cannot reach a PLT entry; use a 32-bit branch`,
  );
}

function scanRelocs(link: ElfLink, sec: InputSection): void {
  const ctx = link.ctx;
  const syms = ctx.syms;
  const rel = sec.relocs!;
  const { type: types, sym: symCol, offset: offsets } = ctx.relocs;
  const end = rel.start + rel.count;
  const or = (sym: number, f: number) => (syms.flags[sym] = syms.flags[sym]! | f);
  for (let i = rel.start; i < end; i++) {
    const type = types[i]!;
    const sym = symCol[i]!;
    const off = offsets[i]!;
    if (type === R.R_ARM_NONE || type === R.R_ARM_V4BX) continue;
    const width = type === R.R_ARM_THM_JUMP11 || type === R.R_ARM_THM_JUMP8 ? 2 : 4;
    if (!noteReference(link, sec, sym, off, width)) continue;
    const f = syms.flags[sym]!;
    switch (type) {
      case R.R_ARM_ABS32:
      case R.R_ARM_TARGET1:
        scanRelAction(link, sec, off, type, RelClass.AbsWord, sym);
        break;
      case R.R_ARM_ABS16:
      case R.R_ARM_ABS8:
      case R.R_ARM_MOVW_ABS_NC:
      case R.R_ARM_MOVT_ABS:
      case R.R_ARM_THM_MOVW_ABS_NC:
      case R.R_ARM_THM_MOVT_ABS:
        scanRelAction(link, sec, off, type, RelClass.AbsNarrow, sym);
        break;
      case R.R_ARM_PREL31:
        // Exception tables point at the personality routine, which only ever gets called: from
        // a shared object (or when another module defines it) a PLT entry does, as in GNU ld.
        // An undefined one (no object says it is a function) is a personality routine too.
        if (f & SymFlag.Preemptible && (interworks(link, sym) || link.isUndefined(sym)))
          or(sym, SymFlag.NeedsPlt);
        else scanRelAction(link, sec, off, type, RelClass.PcRel, sym);
        break;
      case R.R_ARM_REL32:
      case R.R_ARM_MOVW_PREL_NC:
      case R.R_ARM_MOVT_PREL:
      case R.R_ARM_THM_MOVW_PREL_NC:
      case R.R_ARM_THM_MOVT_PREL:
        scanRelAction(link, sec, off, type, RelClass.PcRel, sym);
        break;
      case R.R_ARM_PC24:
      case R.R_ARM_CALL:
      case R.R_ARM_JUMP24:
      case R.R_ARM_PLT32:
      case R.R_ARM_THM_CALL:
      case R.R_ARM_THM_JUMP24:
      case R.R_ARM_THM_JUMP19:
        scanCall(link, sym);
        break;
      case R.R_ARM_THM_JUMP11:
      case R.R_ARM_THM_JUMP8:
        if (f & SymFlag.Preemptible) noPltRoom(link, sec, off, type, sym);
        break;
      case R.R_ARM_GOTOFF32:
      case R.R_ARM_BASE_PREL:
        break;
      // Linux (GNU ld's armelf_linux_eabi) gives TARGET2 the meaning of GOT_PREL: exception
      // tables refer to type_info objects through the GOT, which works in shared objects.
      case R.R_ARM_TARGET2:
      case R.R_ARM_GOT_PREL:
      case R.R_ARM_GOT_BREL:
        or(sym, SymFlag.NeedsGot);
        break;
      case R.R_ARM_TLS_GD32:
        or(sym, SymFlag.NeedsTlsGd);
        break;
      case R.R_ARM_TLS_LDM32:
      case R.R_ARM_TLS_LDO32:
        // Local-dynamic addresses a variable inside this module's own TLS block.
        if (syms.state[sym] !== SymState.Defined && sym !== link.nullSym)
          ctx.diag.error(
            `${refLocation(link, sec.id, off)}: unresolvable ${R.relocName(type)} relocation against symbol '${ctx.symName(sym)}': local-dynamic TLS needs a variable defined in this module`,
          );
        if (type === R.R_ARM_TLS_LDM32) link.needsTlsLd = true;
        break;
      case R.R_ARM_TLS_IE32:
        or(sym, SymFlag.NeedsGotTp);
        if (ctx.target.isShared) link.staticTls = true;
        break;
      case R.R_ARM_TLS_LE32:
        if (ctx.target.isShared)
          ctx.diag.error(
            `relocation ${R.relocName(type)} against ${ctx.symName(sym)} cannot be used with -shared; recompile with -fPIC\n>>> referenced by ${refLocation(link, sec.id, off)}`,
          );
        break;
      case R.R_ARM_TLS_GOTDESC:
        if (!tlsDescToLe(link, sym)) {
          // A shared object keeps the descriptor; an executable's import becomes initial-exec.
          if (ctx.target.isShared) or(sym, SymFlag.NeedsTlsDesc);
          else or(sym, SymFlag.NeedsGotTp);
        }
        break;
      case R.R_ARM_TLS_CALL:
      case R.R_ARM_THM_TLS_CALL:
        break;
      case R.R_ARM_TLS_DESCSEQ:
      case R.R_ARM_THM_TLS_DESCSEQ16:
      case R.R_ARM_THM_TLS_DESCSEQ32:
        break;
      default:
        reportUnknownRelocation(link, sec, off, type, sym);
    }
  }
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
  const alloc = (sec.flags & SHF_ALLOC) !== 0;
  const gotAddr = link.synth.got.addr;
  const gotOrg = link.gotBase;
  const tp = link.tp;
  const shared = ctx.target.isShared;
  const { type: types, sym: symCol, offset: offsets, addend: addends } = ctx.relocs;
  const end = rel.start + rel.count;
  for (let i = rel.start; i < end; i++) {
    const type = types[i]!;
    const sym = symCol[i]!;
    const off = offsets[i]!;
    const loc = base + off;
    const P = secAddr + off;
    let A = addends[i]!;
    let S = syms.addr[sym]!;
    const f = syms.flags[sym]!;
    if (f & MERGE_SECTION_SYM) {
      S = ctx.sections[syms.section[sym]!]!.addrOf(syms.value[sym]! + A);
      A = 0;
    } else if (!alloc) {
      const s = syms.section[sym]!;
      if (s >= 0 && !ctx.sections[s]!.isAlive && (f & SymFlag.Local) !== 0) S = -A;
    }
    // A PC-relative or absolute reference to a function only a PLT entry reaches (a
    // personality routine in .ARM.extab, say) takes the entry's ARM code as the address.
    if (f & SymFlag.NeedsPlt && !(f & SymFlag.CanonicalPlt) && syms.state[sym] !== SymState.Defined)
      S = pltEntryAddr(link, sym) + PLT_ARM_OFFSET;
    let v: number;
    const undefWeak = link.isUndefined(sym) && !(f & SymFlag.NeedsPlt);
    switch (type) {
      case R.R_ARM_NONE:
      case R.R_ARM_V4BX:
      case R.R_ARM_TLS_DESCSEQ:
      case R.R_ARM_THM_TLS_DESCSEQ16:
      case R.R_ARM_THM_TLS_DESCSEQ32:
        continue;
      case R.R_ARM_ABS32:
      case R.R_ARM_TARGET1:
        w32(buf, loc, (alloc ? applyAbsWord(link, sec, P, sym, S, A) : S + A) >>> 0);
        continue;
      case R.R_ARM_ABS16:
        v = S + A;
        if (v < -0x8000 || v > 0xffff)
          reportOverflow(link, sec, off, type, sym, v, -0x8000, 0xffff);
        w16(buf, loc, v);
        continue;
      case R.R_ARM_ABS8:
        v = S + A;
        if (v < -0x80 || v > 0xff) reportOverflow(link, sec, off, type, sym, v, -0x80, 0xff);
        buf[loc] = v & 0xff;
        continue;
      case R.R_ARM_REL32:
        w32(buf, loc, (S + A - P) >>> 0);
        continue;
      case R.R_ARM_PREL31:
        v = S + A - P;
        if (v < -0x40000000 || v >= 0x40000000)
          reportOverflow(link, sec, off, type, sym, v, -0x40000000, 0x3fffffff);
        w32(buf, loc, ((u32(buf, loc) & 0x80000000) | (v & 0x7fffffff)) >>> 0);
        continue;
      case R.R_ARM_GOTOFF32:
        w32(buf, loc, (S + A - gotOrg) >>> 0);
        continue;
      case R.R_ARM_BASE_PREL:
        // Only used with _GLOBAL_OFFSET_TABLE_, whose B(S) is GOT_ORG itself.
        w32(buf, loc, (gotOrg + A - P) >>> 0);
        continue;
      case R.R_ARM_GOT_BREL:
        w32(buf, loc, (gotAddr + syms.gotIdx[sym]! * 4 + A - gotOrg) >>> 0);
        continue;
      case R.R_ARM_TARGET2:
      case R.R_ARM_GOT_PREL:
        w32(buf, loc, (gotAddr + syms.gotIdx[sym]! * 4 + A - P) >>> 0);
        continue;
      case R.R_ARM_MOVW_ABS_NC:
        w32(buf, loc, armSetMovImm(u32(buf, loc), S + A));
        continue;
      case R.R_ARM_MOVT_ABS:
        w32(buf, loc, armSetMovImm(u32(buf, loc), (S + A) >> 16));
        continue;
      case R.R_ARM_MOVW_PREL_NC:
        w32(buf, loc, armSetMovImm(u32(buf, loc), S + A - P));
        continue;
      case R.R_ARM_MOVT_PREL:
        w32(buf, loc, armSetMovImm(u32(buf, loc), (S + A - P) >> 16));
        continue;
      case R.R_ARM_THM_MOVW_ABS_NC:
        thmSetMovImm(buf, loc, S + A);
        continue;
      case R.R_ARM_THM_MOVT_ABS:
        thmSetMovImm(buf, loc, (S + A) >> 16);
        continue;
      case R.R_ARM_THM_MOVW_PREL_NC:
        thmSetMovImm(buf, loc, S + A - P);
        continue;
      case R.R_ARM_THM_MOVT_PREL:
        thmSetMovImm(buf, loc, (S + A - P) >> 16);
        continue;
      case R.R_ARM_PC24:
      case R.R_ARM_CALL:
      case R.R_ARM_JUMP24:
      case R.R_ARM_PLT32: {
        let insn = u32(buf, loc);
        if (undefWeak && type !== R.R_ARM_JUMP24) {
          // A call to an undefined weak function does nothing (lld's choice; GNU ld agrees).
          w32(buf, loc, armIsBlx(insn) ? ARM_NOP : (insn & 0xf0000000) | (ARM_NOP & 0x0fffffff));
          continue;
        }
        let T = branchTarget(link, sym, false, S);
        const thunk = thunkTarget(link, i);
        if (thunk >= 0) {
          T = thunk;
          A = -8;
        }
        const toThumb = (T & 1) !== 0 && (thunk >= 0 || interworks(link, sym));
        if (
          type === R.R_ARM_CALL ||
          (type === R.R_ARM_PLT32 && (insn & 0x0f000000) === 0x0b000000)
        ) {
          // BL ↔ BLX by the target's state (BLX has no condition: only unconditional BL turns).
          if (toThumb && (insn >>> 28 === 0xe || armIsBlx(insn))) insn = ARM_BLX;
          else if (!toThumb && armIsBlx(insn)) insn = ARM_BL;
        } else if (toThumb) {
          ctx.diag.error(
            `${refLocation(link, sec.id, off)}: ${R.relocName(type)} cannot reach Thumb function ${ctx.symName(sym)} (internal: no interworking thunk)`,
          );
          continue;
        }
        v = (T & ~1) + A - P;
        if (v < -0x2000000 || v >= 0x2000000)
          reportOverflow(link, sec, off, type, sym, v, -0x2000000, 0x1ffffff);
        w32(buf, loc, armSetBranch(insn, v));
        continue;
      }
      case R.R_ARM_THM_CALL:
      case R.R_ARM_THM_JUMP24: {
        const lo = u16(buf, loc + 2);
        if (undefWeak) {
          writeThumbNopW(buf, loc);
          continue;
        }
        let T = branchTarget(link, sym, type !== R.R_ARM_THM_CALL, S);
        const thunk = thunkTarget(link, i);
        if (thunk >= 0) {
          T = thunk | 1;
          A = -4;
        }
        const toArm = (T & 1) === 0 && (thunk >= 0 || interworks(link, sym));
        if (type === R.R_ARM_THM_CALL) {
          if (toArm) {
            v = T + A - (P & ~3);
            if (v < -0x1000000 || v >= 0x1000000)
              reportOverflow(link, sec, off, type, sym, v, -0x1000000, 0xffffff);
            thmSetBranch24(buf, loc, v, 0xc000 | (lo & 0x2800));
          } else {
            v = (T & ~1) + A - P;
            if (v < -0x1000000 || v >= 0x1000000)
              reportOverflow(link, sec, off, type, sym, v, -0x1000000, 0xffffff);
            thmSetBranch24(buf, loc, v, 0xd000 | (lo & 0x2800));
          }
          continue;
        }
        if (toArm) {
          ctx.diag.error(
            `${refLocation(link, sec.id, off)}: ${R.relocName(type)} cannot reach ARM function ${ctx.symName(sym)} (internal: no interworking thunk)`,
          );
          continue;
        }
        v = (T & ~1) + A - P;
        if (v < -0x1000000 || v >= 0x1000000)
          reportOverflow(link, sec, off, type, sym, v, -0x1000000, 0xffffff);
        thmSetBranch24(buf, loc, v, lo);
        continue;
      }
      case R.R_ARM_THM_JUMP19: {
        let T = branchTarget(link, sym, true, S);
        const thunk = thunkTarget(link, i);
        if (thunk >= 0) {
          T = thunk | 1;
          A = -4;
        }
        v = (T & ~1) + A - P;
        if (v < -0x100000 || v >= 0x100000)
          reportOverflow(link, sec, off, type, sym, v, -0x100000, 0xfffff);
        thmSetBranch19(buf, loc, v);
        continue;
      }
      case R.R_ARM_THM_JUMP11:
        v = (S & ~1) + A - P;
        if (v < -0x800 || v >= 0x800) reportOverflow(link, sec, off, type, sym, v, -0x800, 0x7ff);
        w16(buf, loc, (u16(buf, loc) & 0xf800) | ((v >> 1) & 0x7ff));
        continue;
      case R.R_ARM_THM_JUMP8:
        v = (S & ~1) + A - P;
        if (v < -0x100 || v >= 0x100) reportOverflow(link, sec, off, type, sym, v, -0x100, 0xff);
        w16(buf, loc, (u16(buf, loc) & 0xff00) | ((v >> 1) & 0xff));
        continue;
      case R.R_ARM_TLS_GD32:
        w32(buf, loc, (gotAddr + link.tlsGdIdx.get(sym)! * 4 + A - P) >>> 0);
        continue;
      case R.R_ARM_TLS_LDM32:
        w32(buf, loc, (gotAddr + link.tlsLdIdx * 4 + A - P) >>> 0);
        continue;
      case R.R_ARM_TLS_LDO32:
        w32(buf, loc, (S + A - link.tlsStart) >>> 0);
        continue;
      case R.R_ARM_TLS_IE32:
        w32(buf, loc, (gotAddr + link.gotTpIdx.get(sym)! * 4 + A - P) >>> 0);
        continue;
      case R.R_ARM_TLS_LE32:
        w32(buf, loc, (S + A - tp) >>> 0);
        continue;
      case R.R_ARM_TLS_GOTDESC:
        // See tlsdesc.ts. The literal sits after the call: A = P - call + T.
        if (tlsDescToLe(link, sym)) w32(buf, loc, (S - tp) >>> 0);
        else if (!shared) {
          // Initial-exec: the call becomes `ldr r0, [pc, r0]` (ARM, PC = call + 8) or
          // `add r0, pc; ldr r0, [r0]` (Thumb, PC = call + 4), loading the TP offset.
          const call = P - A + (A & 1);
          const pc = call + (A & 1 ? 4 : 8);
          w32(buf, loc, (gotAddr + link.gotTpIdx.get(sym)! * 4 - pc) >>> 0);
        } else
          w32(buf, loc, (gotAddr + link.tlsDescIdx.get(sym)! * 4 + A - P - tlsDescLrBias(A)) >>> 0);
        continue;
      case R.R_ARM_TLS_CALL:
        if (shared) {
          // The assembler leaves the field without the PC bias (GNU ld ignores it too).
          v = tlsDescTrampoline(link) - (P + 8);
          if (v < -0x2000000 || v >= 0x2000000)
            reportOverflow(link, sec, off, type, sym, v, -0x2000000, 0x1ffffff);
          w32(buf, loc, armSetBranch(ARM_BL, v));
        } else if (tlsDescToLe(link, sym)) w32(buf, loc, ARM_NOP);
        else w32(buf, loc, 0xe79f0000); // ldr r0, [pc, r0]
        continue;
      case R.R_ARM_THM_TLS_CALL:
        if (shared) {
          // BLX to the ARM trampoline.
          v = tlsDescTrampoline(link) - ((P + 4) & ~3);
          if (v < -0x1000000 || v >= 0x1000000)
            reportOverflow(link, sec, off, type, sym, v, -0x1000000, 0xffffff);
          thmSetBranch24(buf, loc, v, 0xc000);
        } else if (tlsDescToLe(link, sym)) {
          writeThumbNopW(buf, loc);
        } else {
          w16(buf, loc, 0x4478); // add r0, pc
          w16(buf, loc + 2, 0x6800); // ldr r0, [r0]
        }
        continue;
      default:
        if (!alloc) reportUnknownRelocation(link, sec, off, type, sym);
    }
  }
}

export const armElf: ElfArch = {
  name: 'arm',
  machine: EM_ARM,
  is64: false,
  rela: false,
  emulation: 'armelf_linux_eabi',
  pageSize: 0x10000,
  imageBase: 0x10000,
  trapFill: 0,
  relocName: R.relocName,
  implicitAddend,
  writeImplicitAddend,
  scanRelocs,
  applyRelocs,
  iplt: {
    entrySize: PLT_ENTRY_SIZE,
    write: (buf, off, entryAddr, slotAddr) => writePltEntry(buf, off, entryAddr, slotAddr),
  },
  R_IRELATIVE: R.R_ARM_IRELATIVE,
  irelativeInRelDyn: true,
  plt: {
    headerSize: PLT_HEADER_SIZE,
    entrySize: PLT_ENTRY_SIZE,
    writeHeader: writePltHeader,
    writeEntry: (buf, off, entryAddr, slotAddr) => writePltEntry(buf, off, entryAddr, slotAddr),
    lazyOffset: 0,
    lazyToHeader: true,
    canonicalOffset: PLT_ARM_OFFSET,
  },
  dynRel: {
    RELATIVE: R.R_ARM_RELATIVE,
    GLOB_DAT: R.R_ARM_GLOB_DAT,
    JUMP_SLOT: R.R_ARM_JUMP_SLOT,
    COPY: R.R_ARM_COPY,
    ABS: R.R_ARM_ABS32,
    DTPMOD: R.R_ARM_TLS_DTPMOD32,
    DTPOFF: R.R_ARM_TLS_DTPOFF32,
    TPOFF: R.R_ARM_TLS_TPOFF32,
    TLSDESC: R.R_ARM_TLS_DESC,
  },
  tlsTcbSize: 8,
  outputFlags,
  mergeArchSections: mergeAttributeSections,
  beforeLayout(link) {
    addTlsDescTrampoline(link);
    prepareExidx(link);
  },
  tlsDescAddendWord: 0,
  relayout(link) {
    if (updateThunks(link)) return true;
    linkExidx(link);
    return false;
  },
  defaultInterpreter: '/lib/ld-linux-armhf.so.3',
  pluginInit: {
    // ARM state: ldr r3, .Lreg; 1: ldr r3, [pc, r3]; cmp r3, #0; bxeq lr; ldr r0, .Ldesc;
    // 2: add r0, pc, r0; bx r3 (a tail call: the register function returns to our caller);
    // .Lreg: .word register(GOT_PREL) + (. - (1b + 8)); .Ldesc: .word desc - (2b + 8)
    code: Uint8Array.from([
      0x14, 0x30, 0x9f, 0xe5, 0x03, 0x30, 0x9f, 0xe7, 0x00, 0x00, 0x53, 0xe3, 0x1e, 0xff, 0x2f,
      0x01, 0x08, 0x00, 0x9f, 0xe5, 0x00, 0x00, 0x8f, 0xe0, 0x13, 0xff, 0x2f, 0xe1, 0, 0, 0, 0, 0,
      0, 0, 0,
    ]),
    relocs: [
      { offset: 28, type: R.R_ARM_GOT_PREL, addend: 0x10, target: 'register' },
      { offset: 32, type: R.R_ARM_REL32, addend: 4, target: 'descriptor' },
    ],
    abs: R.R_ARM_ABS32,
  },
};

export * from './relocs.js';

import { LinkError, i32, i64, u32, w32, w64, type InputSection } from '@link/core';
import { MachoObjectFile } from './reader.js';

/** DWARF pointer encodings (DW_EH_PE_*) used in CIE augmentation data. */
const DW_EH_PE_absptr = 0x00;
const DW_EH_PE_udata4 = 0x03;
const DW_EH_PE_udata8 = 0x04;
const DW_EH_PE_sdata4 = 0x0b;
const DW_EH_PE_sdata8 = 0x0c;
const DW_EH_PE_pcrel = 0x10;
const DW_EH_PE_omit = 0xff;

export const EH_FRAME = '__TEXT,__eh_frame';

interface CieInfo {
  fdeEnc: number;
  lsdaEnc: number;
}

function ptrSize(enc: number, where: string): number {
  switch (enc & 0x0f) {
    case DW_EH_PE_absptr:
    case DW_EH_PE_udata8:
    case DW_EH_PE_sdata8:
      return 8;
    case DW_EH_PE_udata4:
    case DW_EH_PE_sdata4:
      return 4;
    default:
      throw new LinkError(`${where}: unsupported pointer encoding 0x${enc.toString(16)}`);
  }
}

function uleb(b: Uint8Array, p: { i: number }, end: number, where: string): number {
  let r = 0;
  let mul = 1;
  for (;;) {
    if (p.i >= end) throw new LinkError(`${where}: ULEB128 runs past the record`);
    const x = b[p.i++]!;
    r += (x & 0x7f) * mul;
    mul *= 128;
    if (!(x & 0x80)) return r;
  }
}

/** Reads the encodings a CIE's augmentation ("zR", "zPLR" ...) sets for its FDEs. */
function parseCie(b: Uint8Array, start: number, end: number, where: string): CieInfo {
  const info: CieInfo = { fdeEnc: DW_EH_PE_absptr, lsdaEnc: DW_EH_PE_omit };
  const p = { i: start + 8 };
  p.i++; // version
  let aug = '';
  while (p.i < end && b[p.i] !== 0) aug += String.fromCharCode(b[p.i++]!);
  p.i++;
  uleb(b, p, end, where); // code alignment
  uleb(b, p, end, where); // data alignment (SLEB; only skipped)
  p.i++; // return address register (version 1: one byte)
  if (!aug.startsWith('z')) return info;
  uleb(b, p, end, where); // augmentation data length
  for (const c of aug.slice(1)) {
    if (c === 'R') info.fdeEnc = b[p.i++]!;
    else if (c === 'L') info.lsdaEnc = b[p.i++]!;
    else if (c === 'P') {
      const enc = b[p.i++]!;
      p.i += ptrSize(enc, where);
    } else if (c !== 'S') throw new LinkError(`${where}: unsupported CIE augmentation '${aug}'`);
  }
  return info;
}

/** The output address of an address in the object's own address space, or null if dead. */
function outputAddress(
  f: MachoObjectFile,
  ctx: { sections: InputSection[] },
  objAddr: number,
): number | null {
  for (let si = 0; si < f.sects.length; si++) {
    const s = f.sects[si]!;
    if (objAddr < s.addr || objAddr >= s.addr + s.size) continue;
    const off = objAddr - s.addr;
    const starts = f.atomStarts[si]!;
    let a = starts.length - 1;
    while (a > 0 && starts[a]! > off) a--;
    const id = f.atomIds[si]![a];
    if (id === undefined) return null;
    const atom = ctx.sections[id]!;
    if (!atom.isAlive || atom.osec === null) return null;
    return atom.addrOf(off - starts[a]!);
  }
  return null;
}

/**
 * Fixes an object's `__eh_frame` after it was copied to the output. Clang resolves an FDE's
 * pc_begin (and LSDA pointer) at assembly time, as pc-relative differences in the object's
 * own address space with no relocation — ld64 parses the FDEs to relocate them, and so must
 * we. An FDE whose function was dead-stripped gets an empty pc range, so it covers nothing
 * and the CIE offsets and compact unwind FDE offsets stay valid.
 */
export function fixEhFrame(
  ctx: { sections: InputSection[] },
  sec: InputSection,
  buf: Uint8Array,
  at: number,
  addr: number,
): void {
  const f = sec.file;
  if (!(f instanceof MachoObjectFile)) return;
  const raw = f.sects[sec.index]!;
  const b = sec.contents;
  const where = `${f.displayName}:(${EH_FRAME})`;
  const cies = new Map<number, CieInfo>();
  let off = 0;
  while (off + 4 <= b.length) {
    const len = u32(b, off);
    if (len === 0) break;
    if (len === 0xffffffff) throw new LinkError(`${where}: 64-bit DWARF records are not supported`);
    const end = off + 4 + len;
    if (end > b.length || len < 4)
      throw new LinkError(`${where}+0x${off.toString(16)}: record extends past the section`);
    const id = u32(b, off + 4);
    if (id === 0) {
      cies.set(off, parseCie(b, off, end, where));
    } else {
      const cieOff = off + 4 - id;
      let cie = cies.get(cieOff);
      if (!cie) {
        if (cieOff < 0 || cieOff + 8 > b.length)
          throw new LinkError(`${where}+0x${off.toString(16)}: FDE names no CIE`);
        cie = parseCie(b, cieOff, cieOff + 4 + u32(b, cieOff), where);
        cies.set(cieOff, cie);
      }
      const fixPtr = (field: number, enc: number): boolean => {
        const size = ptrSize(enc, where);
        const v = size === 8 ? i64(b, field) : i32(b, field);
        const objTarget = (enc & 0x70) === DW_EH_PE_pcrel ? raw.addr + field + v : v;
        const out = outputAddress(f, ctx, objTarget);
        if (out === null) return false;
        if ((enc & 0x70) !== DW_EH_PE_pcrel)
          throw new LinkError(
            `${where}+0x${field.toString(16)}: absolute FDE pointers are not supported in PIE output`,
          );
        const nv = out - (addr + field);
        if (size === 8) w64(buf, at + field, nv);
        else w32(buf, at + field, nv >>> 0);
        return true;
      };
      const pcBegin = off + 8;
      const psize = ptrSize(cie.fdeEnc, where);
      if (!fixPtr(pcBegin, cie.fdeEnc)) {
        // Dead function: an empty range matches no pc.
        if (psize === 8) w64(buf, at + pcBegin + 8, 0);
        else w32(buf, at + pcBegin + 4, 0);
      } else if (cie.lsdaEnc !== DW_EH_PE_omit) {
        const p = { i: pcBegin + 2 * psize };
        const augLen = uleb(b, p, end, where);
        if (augLen > 0 && !fixPtr(p.i, cie.lsdaEnc))
          throw new LinkError(
            `${where}+0x${off.toString(16)}: LSDA of a live function was dropped`,
          );
      }
    }
    off = end;
  }
}

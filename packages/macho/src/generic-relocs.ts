import { LinkError, RelocTable, i32, u32, type Context } from '@link/core';
import {
  GENERIC_RELOC_LOCAL_SECTDIFF,
  GENERIC_RELOC_NAMES,
  GENERIC_RELOC_PAIR,
  GENERIC_RELOC_SECTDIFF,
  GENERIC_RELOC_VANILLA,
  R_SCATTERED,
  SECTION_TYPE,
  S_ZEROFILL,
} from './constants.js';
import { encodeRelocType } from './relocations.js';
import { atomIndex, sectionSymbol, type MachoObjectFile } from './reader.js';

/**
 * i386 ("generic") relocations of an `MH_OBJECT`, decoded into the core's relocation columns
 * in the same model as x86-64 (type column = `encodeRelocType(type, length, pcrel, extern)`,
 * target = symbol + addend, the implicit addend taken out of the instruction bytes):
 *
 * - `GENERIC_RELOC_VANILLA`, plain or scattered: one row whose symbol + addend is the target.
 *   For pc-relative ones (`call _f`), i386 objects store `target - (address + 4)` with the
 *   object's own addresses, so the addend is what remains once that is undone; a scattered
 *   one names its target by address (`r_value`), which becomes the atom there plus offset.
 * - `GENERIC_RELOC_SECTDIFF` / `GENERIC_RELOC_LOCAL_SECTDIFF` + `GENERIC_RELOC_PAIR` (PIC code
 *   and jump tables: `A - B + c`): two rows at the same offset, the minuend (atom of A, with
 *   the constant folded into its addend) then a `GENERIC_RELOC_PAIR` row for the subtrahend
 *   (atom of B + offset), so value = (S1 + A1) - (S2 + A2).
 *
 * tslink writes no i386 output; the decode exists so i386 objects are read, checked and
 * reported precisely (and for tools built on the reader).
 */
export function readGenericRelocations(ctx: Context, f: MachoObjectFile): void {
  const b = f.bytes;
  for (let si = 0; si < f.sects.length; si++) {
    const s = f.sects[si]!;
    const ids = f.atomIds[si]!;
    if (s.nreloc === 0 || ids.length === 0) continue;
    const where = `${s.segname},${s.sectname}`;
    const rows: { at: number; type: number; sym: number; addend: number }[] = [];
    /** The atom holding object address `addr` (end of a section included), as symbol + offset. */
    const atAddress = (addr: number, loc: string): [number, number] => {
      for (let k = 0; k < f.sects.length; k++) {
        const t = f.sects[k]!;
        if (addr < t.addr || addr > t.addr + t.size) continue;
        const starts = f.atomStarts[k]!;
        const ai = atomIndex(starts, Math.min(addr - t.addr, Math.max(t.size - 1, 0)));
        const id = f.atomIds[k]![ai];
        if (id === undefined) continue; // a section that is not loaded (debug info)
        return [sectionSymbol(ctx, f, id), addr - t.addr - starts[ai]!];
      }
      throw new LinkError(
        `${loc}: relocation targets address 0x${addr.toString(16)}, in no section`,
      );
    };
    for (let r = 0; r < s.nreloc; r++) {
      const q = s.reloff + r * 8;
      const w0 = u32(b, q);
      const w1 = u32(b, q + 4);
      const scattered = (w0 & R_SCATTERED) !== 0;
      const addr = scattered ? w0 & 0xffffff : w0;
      const type = scattered ? (w0 >>> 24) & 0xf : w1 >>> 28;
      const length = scattered ? (w0 >>> 28) & 3 : (w1 >>> 25) & 3;
      const pcrel = scattered ? (w0 >>> 30) & 1 : (w1 >>> 24) & 1;
      const ext = scattered ? 0 : (w1 >>> 27) & 1;
      const loc = `${f.displayName}:(${where}+0x${addr.toString(16)})`;
      const name = GENERIC_RELOC_NAMES[type] ?? `type ${type}`;
      if (
        type !== GENERIC_RELOC_VANILLA &&
        type !== GENERIC_RELOC_SECTDIFF &&
        type !== GENERIC_RELOC_LOCAL_SECTDIFF
      )
        throw new LinkError(
          `${loc}: ${type === GENERIC_RELOC_PAIR ? 'GENERIC_RELOC_PAIR without the SECTDIFF it belongs to' : `unsupported i386 relocation ${name}`} (relocation ${r})`,
        );
      const width = 1 << length;
      if (width !== 4)
        throw new LinkError(
          `${loc}: ${name} of ${width} bytes is not supported (4-byte fields only)`,
        );
      if (addr + width > s.size)
        throw new LinkError(`${loc}: relocation reaches past the end of the section`);
      const zerofill = (s.flags & SECTION_TYPE) === S_ZEROFILL;
      const embedded = zerofill ? 0 : i32(b, s.offset + addr);
      const enc = encodeRelocType(type, length, pcrel, ext);
      if (type === GENERIC_RELOC_VANILLA) {
        // pc-relative: the field holds target - (end of field), in object addresses.
        const target = pcrel ? s.addr + addr + width + embedded : embedded;
        if (!scattered && ext) {
          const symnum = w1 & 0xffffff;
          if (symnum >= f.symIds.length)
            throw new LinkError(`${loc}: relocation names symbol ${symnum} of ${f.symIds.length}`);
          const sym = f.symIds[symnum]!;
          if (sym < 0)
            throw new LinkError(
              `${loc}: relocation names symbol ${f.names[symnum] ?? symnum} which is not loaded`,
            );
          rows.push({ at: addr, type: enc, sym, addend: target });
          continue;
        }
        if (!scattered) {
          const sect = w1 & 0xffffff;
          if (sect === 0 || sect > f.sects.length)
            throw new LinkError(
              `${loc}: section-relative relocation names section ${sect} of ${f.sects.length}`,
            );
        }
        // Section-relative: the target itself says where. Scattered: r_value names the atom
        // and the target may lie past it (`&table[2]`).
        const named = scattered ? w1 : target;
        const [sym, off] = atAddress(named, loc);
        rows.push({ at: addr, type: enc, sym, addend: off + (target - named) });
        continue;
      }
      // SECTDIFF / LOCAL_SECTDIFF: scattered, followed by a scattered PAIR naming B.
      if (!scattered) throw new LinkError(`${loc}: ${name} must be a scattered relocation`);
      const nq = q + 8;
      const pw0 = r + 1 < s.nreloc ? u32(b, nq) : 0;
      if (r + 1 >= s.nreloc || !(pw0 & R_SCATTERED) || ((pw0 >>> 24) & 0xf) !== GENERIC_RELOC_PAIR)
        throw new LinkError(`${loc}: ${name} not followed by a scattered GENERIC_RELOC_PAIR`);
      const a = w1;
      const bAddr = u32(b, nq + 4);
      const [symA, offA] = atAddress(a, loc);
      const [symB, offB] = atAddress(bAddr, loc);
      // The field holds A - B + c: c joins the minuend's addend.
      const c = embedded - (a - bAddr);
      rows.push({ at: addr, type: enc, sym: symA, addend: offA + c });
      rows.push({
        at: addr,
        type: encodeRelocType(GENERIC_RELOC_PAIR, length, 0, 0),
        sym: symB,
        addend: offB,
      });
      r++;
    }
    storeAtomRows(ctx, f, si, rows);
  }
}

/** Enters decoded rows into the relocation store, one contiguous table per atom, in order. */
function storeAtomRows(
  ctx: Context,
  f: MachoObjectFile,
  si: number,
  rows: { at: number; type: number; sym: number; addend: number }[],
): void {
  const store = ctx.relocs;
  const ids = f.atomIds[si]!;
  const starts = f.atomStarts[si]!;
  const byAtom: (typeof rows)[] = ids.map(() => []);
  // A PAIR row stays with the row before it, even if a split point fell between (it cannot:
  // both name the same address).
  for (const row of rows) byAtom[atomIndex(starts, row.at)]!.push(row);
  byAtom.forEach((list, a) => {
    const t = RelocTable.allocate(store, list.length);
    // The file lists relocations from the end of the section backwards; keep pairs adjacent
    // and order by offset, as the x86-64 decode leaves them.
    const order = list.map((_, i) => i);
    order.sort((x, y) => list[x]!.at - list[y]!.at || x - y);
    order.forEach((k, i) => {
      const row = list[k]!;
      store.offset[t.start + i] = row.at - starts[a]!;
      store.type[t.start + i] = row.type;
      store.sym[t.start + i] = row.sym;
      store.addend[t.start + i] = row.addend;
    });
    ctx.sections[ids[a]!]!.relocs = list.length > 0 ? t : null;
  });
}

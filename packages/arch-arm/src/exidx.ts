/**
 * `.ARM.exidx`, the EHABI unwind index ("Exception Handling ABI for the Arm Architecture", §5):
 * a table of 8-byte entries, the first word a PREL31 offset to a function, sorted by address,
 * which the unwinder binary-searches for the entry covering a PC. Each entry covers its function
 * up to the next entry's, so:
 *
 * - the input tables (SHF_LINK_ORDER sections, one per code section) are put in the order of
 *   the code sections they describe;
 * - code without a table of its own (hand-written assembly, the linker's PLT) gets an
 *   EXIDX_CANTUNWIND entry, so it is not mistaken for the end of the function before it;
 * - a final EXIDX_CANTUNWIND entry marks the end of the last function.
 */
import { InputSection, RelocTable, w32, type OutputSection } from '@link/core';
import { type ElfLink, SHF_EXECINSTR, SHF_ALLOC, STT_NOTYPE, linkOrderTarget } from '@link/elf';
import { R_ARM_PREL31 } from './relocs.js';

/** EHABI §6.3: "this function cannot be unwound". */
export const EXIDX_CANTUNWIND = 1;

export function prepareExidx(link: ElfLink): void {
  gatherPrefixed(link, '.ARM.extab');
  const exidx = gatherPrefixed(link, '.ARM.exidx');
  if (!exidx) return;
  const osecIdx = new Map<OutputSection, number>();
  link.outputSections.forEach((o, i) => osecIdx.set(o, i));
  // Code sections in output order: (section rank, creation order, member order).
  const code = link.outputSections
    .filter((o) => o.flags & SHF_EXECINSTR && o.flags & SHF_ALLOC && o.members.length > 0)
    .sort((a, b) => a.rank - b.rank || osecIdx.get(a)! - osecIdx.get(b)!);
  const order = new Map<InputSection, number>();
  let n = 0;
  for (const o of code) for (const m of o.members) order.set(m, n++);
  const key = new Map<InputSection, number>();
  const covered = new Set<InputSection>();
  for (const m of exidx.members) {
    const t = linkOrderTarget(m);
    if (t) covered.add(t);
    key.set(m, t && order.has(t) ? order.get(t)! : -1);
  }
  // Gaps: every code section without a table, and the end of the last one.
  let last: InputSection | null = null;
  for (const o of code)
    for (const m of o.members) {
      if (m.size > 0) last = m;
      if (covered.has(m) || m.size === 0) continue;
      const e = cantUnwind(link, exidx, m, 0);
      key.set(e, order.get(m)!);
    }
  if (last) key.set(cantUnwind(link, exidx, last, last.size), n);
  // Stable: a code section with several tables keeps their input order.
  exidx.members.sort((a, b) => key.get(a)! - key.get(b)!);
}

/** A one-entry table `{PREL31 → sec + off, EXIDX_CANTUNWIND}` appended to `exidx`. */
function cantUnwind(
  link: ElfLink,
  exidx: OutputSection,
  sec: InputSection,
  off: number,
): InputSection {
  const ctx = link.ctx;
  const e = new InputSection(
    ctx.sections.length,
    link.internalFile,
    -1,
    '.ARM.exidx',
    exidx.type,
    exidx.flags,
    4,
    8,
    -1,
  );
  ctx.sections.push(e);
  const bytes = new Uint8Array(8);
  w32(bytes, 4, EXIDX_CANTUNWIND);
  e.ownContents = bytes;
  const at = ctx.syms.addLocal(-1, -1, sec.id, off, STT_NOTYPE);
  const r = RelocTable.allocate(ctx.relocs, 1);
  ctx.relocs.offset[r.start] = 0;
  ctx.relocs.type[r.start] = R_ARM_PREL31;
  ctx.relocs.sym[r.start] = at;
  ctx.relocs.addend[r.start] = 0;
  e.relocs = r;
  e.osec = exidx;
  exidx.members.push(e);
  return e;
}

/**
 * GNU ld's script puts every `.ARM.exidx*` input (`.ARM.exidx.text.foo`, but also glibc's
 * `.ARM.exidx__libc_freeres_fn`) in `.ARM.exidx`, and likewise `.ARM.extab*`: one table the
 * unwinder can search. Moves the members of the other output sections so named into it.
 */
function gatherPrefixed(link: ElfLink, name: string): OutputSection | null {
  const all = link.outputSections.filter((o) => o.name.startsWith(name) && o.members.length > 0);
  if (all.length === 0) return null;
  const main = all.find((o) => o.name === name) ?? all[0]!;
  main.name = name;
  for (const o of all) {
    if (o === main) continue;
    for (const m of o.members) {
      m.osec = main;
      main.members.push(m);
    }
    o.members = [];
  }
  link.outputSections = link.outputSections.filter((o) => o === main || !all.includes(o));
  return main;
}

/** After layout: .ARM.exidx's sh_link names the code it indexes (as GNU ld sets it). */
export function linkExidx(link: ElfLink): void {
  const exidx = link.outputSections.find((o) => o.name === '.ARM.exidx');
  const text = link.outputSections.find((o) => o.name === '.text');
  if (exidx && text) exidx.link = text.shndx;
}

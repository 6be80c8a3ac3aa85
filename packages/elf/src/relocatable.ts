import {
  OutputSection,
  StreamedOutput,
  SymFlag,
  SymState,
  alignTo,
  w16,
  w32,
  w64,
  type Context,
  type InputSection,
  type Pass,
} from '@link/core';
import * as C from './constants.js';
import { rewriteEhFrames } from './eh-frame.js';
import { readInputs } from './inputs.js';
import type { ElfLink } from './link.js';
import { localSymbolName, type ElfObjectFile } from './object-file.js';
import { createOutputSections } from './output-sections.js';
import { checkInputFlags, elfPass, writeShdr } from './headers.js';
import { checkDuplicates } from './resolution.js';
import { linkOrderTarget } from './gc-sections.js';
import { writeRelEntry } from './dynamic-relocs.js';

/**
 * `-r`: a relocatable object (ET_REL) made of the inputs, to be linked again later (what Go's
 * external link mode hands the host linker, and what `ld -r` is for).
 *
 * Sections of the same name are concatenated (as GNU ld's relocatable script does, `.text.foo`
 * stays apart from `.text`, so a later --gc-sections keeps its granularity); nothing is given an
 * address; every relocation is kept, re-pointed: at the output section's symbol (with the
 * input's offset added to the addend) when it referred to a local symbol or a section, at the
 * global symbol otherwise. COMDAT groups are deduplicated as in any link; .eh_frame entries of
 * the copies dropped go with them. Common symbols stay common.
 */
export const relocatablePasses: Pass<Context & { elf: ElfLink }>[] = [
  elfPass('readInputs', readInputs, true),
  elfPass('checkDuplicates', checkDuplicates, true),
  elfPass('checkInputFlags', checkInputFlags, true),
  elfPass('createOutputSections', (l) => createOutputSections(l, (name) => name)),
  elfPass('mergeArchSections', (l) => l.arch.mergeArchSections?.(l)),
  elfPass('rewriteEhFrames', rewriteEhFrames, true),
  elfPass('writeRelocatable', writeRelocatable, true),
];

interface Out {
  name: string;
  type: number;
  flags: number;
  align: number;
  size: number;
  entsize: number;
  link: number;
  info: number;
  offset: number;
  /** The output section it describes (for contents and .rela targets). */
  osec: OutputSection | null;
  /** For .rela sections: the section whose relocations they are. */
  relaOf: OutputSection | null;
  relCount: number;
}

function writeRelocatable(link: ElfLink): void {
  const ctx = link.ctx;
  const syms = ctx.syms;
  const is64 = link.arch.is64;
  const rela = link.arch.rela;
  if (!rela && !link.arch.writeImplicitAddend)
    throw new Error(`internal: -r for ${link.arch.name} needs ElfArch.writeImplicitAddend`);
  const symEnt = is64 ? C.ELF64_SYM_SIZE : C.ELF32_SYM_SIZE;
  const relEnt = is64 ? 24 : rela ? 12 : 8;

  // Section table: the COMDAT groups (before their members, as the gABI wants), each output
  // section, then its .rela, then .symtab/.strtab/.shstrtab.
  const osecs = link.outputSections.filter((o) => o.members.length > 0);
  const relCountOf = new Map<OutputSection, number>();
  for (const o of osecs) {
    o.computeSize();
    let relCount = 0;
    for (const m of o.members) if (m.relocs) relCount += m.relocs.count;
    relCountOf.set(o, relCount);
  }
  const groups = keptGroups(link);
  const grouped = new Set(groups.flatMap((g) => g.osecs));
  const table: Out[] = [];
  for (const g of groups) {
    let words = 1;
    for (const o of g.osecs) words += relCountOf.get(o)! > 0 ? 2 : 1;
    table.push(section('.group', C.SHT_GROUP, 0, 4, words * 4, 4, null, null, 0));
  }
  const indexOf = new Map<OutputSection, number>();
  const relIndexOf = new Map<OutputSection, number>();
  for (const o of osecs) {
    const relCount = relCountOf.get(o)!;
    const group = grouped.has(o) ? C.SHF_GROUP : 0;
    const flags = (o.flags & ~C.SHF_GROUP) | group;
    table.push(section(o.name, o.type, flags, o.align, o.size, o.entsize, o, null, 0));
    indexOf.set(o, table.length);
    if (relCount > 0) {
      relIndexOf.set(o, table.length + 1);
      table.push(
        section(
          `${rela ? '.rela' : '.rel'}${o.name}`,
          rela ? C.SHT_RELA : C.SHT_REL,
          C.SHF_INFO_LINK | group,
          is64 ? 8 : 4,
          relCount * relEnt,
          relEnt,
          null,
          o,
          relCount,
        ),
      );
    }
  }
  // The stack stays non-executable unless an input asked otherwise.
  table.push(
    section(
      '.note.GNU-stack',
      C.SHT_PROGBITS,
      link.wantsExecStack ? C.SHF_EXECINSTR : 0,
      1,
      0,
      0,
      null,
      null,
      0,
    ),
  );
  const symtabIdx = table.length + 1;

  // Symbols: null, one section symbol per output section, the inputs' named locals, globals.
  const entries: { id: number; name: string; shndx: number; value: number; local: boolean }[] = [];
  const sectionSym = new Map<OutputSection, number>();
  for (const o of osecs) {
    sectionSym.set(o, entries.length + 1);
    entries.push({ id: -1, name: '', shndx: indexOf.get(o)!, value: 0, local: true });
  }
  const placeOf = (secId: number): { shndx: number; base: number } | null => {
    const s = ctx.sections[secId];
    if (!s || !s.isAlive || s.osec === null) return null;
    return { shndx: indexOf.get(s.osec) ?? 0, base: s.outOffset };
  };
  for (const f of link.objects as ElfObjectFile[]) {
    for (let i = 1; i < f.firstGlobal; i++) {
      const id = f.symIds[i]!;
      const t = syms.type[id]!;
      if (t === C.STT_SECTION) continue;
      const name = localSymbolName(f, i);
      if (name === '' || name.startsWith('.L')) continue;
      const s = syms.section[id]!;
      if (s < 0) {
        if (t === C.STT_FILE || syms.flags[id]! & SymFlag.Absolute)
          entries.push({ id, name, shndx: C.SHN_ABS, value: syms.value[id]!, local: true });
        continue;
      }
      const p = placeOf(s);
      if (p !== null)
        entries.push({ id, name, shndx: p.shndx, value: p.base + syms.value[id]!, local: true });
    }
  }
  const firstGlobal = entries.length + 1;
  const globalIndex = new Map<number, number>();
  for (const id of syms.globalIds()) {
    const st = syms.state[id]!;
    const f = syms.flags[id]!;
    let shndx = C.SHN_UNDEF;
    let value = 0;
    if (st === SymState.Defined) {
      const s = syms.section[id]!;
      if (s < 0) {
        shndx = C.SHN_ABS;
        value = syms.value[id]!;
      } else {
        const p = placeOf(s);
        if (p === null) continue;
        shndx = p.shndx;
        value = p.base + syms.value[id]!;
      }
    } else if (st === SymState.Common) {
      shndx = C.SHN_COMMON;
      value = syms.aux[id]! || 1;
    } else if (!(f & (SymFlag.RefStrong | SymFlag.RefWeak)) || st === SymState.Lazy) continue;
    globalIndex.set(id, entries.length + 1);
    entries.push({ id, name: syms.names[id]!, shndx, value, local: false });
  }

  // .strtab and .shstrtab.
  const strtab: string[] = [''];
  let strSize = 1;
  const nameOff = entries.map((e) => {
    if (e.name === '') return 0;
    const off = strSize;
    strtab.push(e.name);
    strSize += e.name.length + 1;
    return off;
  });
  table.push(
    section('.symtab', C.SHT_SYMTAB, 0, 8, (entries.length + 1) * symEnt, symEnt, null, null, 0),
  );
  table[table.length - 1]!.link = symtabIdx + 1;
  table[table.length - 1]!.info = firstGlobal;
  table.push(section('.strtab', C.SHT_STRTAB, 0, 1, strSize, 0, null, null, 0));
  const shstrNames = [''];
  let shstrSize = 1;
  const shName = new Map<string, number>();
  for (const t of [...table.map((t) => t.name), '.shstrtab']) {
    if (shName.has(t)) continue;
    shName.set(t, shstrSize);
    shstrNames.push(t);
    shstrSize += t.length + 1;
  }
  table.push(section('.shstrtab', C.SHT_STRTAB, 0, 1, shstrSize, 0, null, null, 0));
  for (const t of table) {
    if (t.relaOf !== null) {
      t.link = symtabIdx;
      t.info = indexOf.get(t.relaOf)!;
    } else if (t.osec !== null && t.flags & C.SHF_LINK_ORDER) {
      // Ordered after the section its first member describes (ARM's .ARM.exidx.text.foo).
      const target = linkOrderTarget(t.osec.members[0] as InputSection);
      t.link = target?.osec ? (indexOf.get(target.osec) ?? 0) : 0;
    }
  }
  const groupContents = groups.map((g, k) => {
    const t = table[k]!;
    t.link = symtabIdx;
    const id = g.file.symIds[g.signature]!;
    t.info =
      syms.type[id] === C.STT_SECTION
        ? sectionSym.get(ctx.sections[syms.section[id]!]!.osec!)!
        : globalIndex.get(id)!;
    const words = [C.GRP_COMDAT];
    for (const o of g.osecs) {
      words.push(indexOf.get(o)!);
      if (relIndexOf.has(o)) words.push(relIndexOf.get(o)!);
    }
    return words;
  });

  // Layout: the ELF header, the sections in order, the section header table.
  const ehSize = is64 ? C.ELF64_EHDR_SIZE : C.ELF32_EHDR_SIZE;
  let off = ehSize;
  for (const t of table) {
    if (t.type === C.SHT_NOBITS) {
      t.offset = off;
      continue;
    }
    off = alignTo(off, t.align);
    t.offset = off;
    off += t.size;
  }
  const shEnt = is64 ? C.ELF64_SHDR_SIZE : C.ELF32_SHDR_SIZE;
  const shoff = alignTo(off, 8);
  const fileSize = shoff + (table.length + 1) * shEnt;

  const out = new StreamedOutput(ctx.config.output, fileSize, 0o666 & ~process.umask());
  try {
    const head = new Uint8Array(ehSize);
    writeEhdr(link, head, shoff, table.length + 1, table.length);
    out.write(head, ehSize, 0);
    for (const t of table) {
      if (t.osec !== null && t.type !== C.SHT_NOBITS) {
        const buf = new Uint8Array(t.size);
        const fill = t.flags & C.SHF_EXECINSTR ? link.arch.trapFill : 0;
        buf.fill(fill);
        for (const m of t.osec.members) if (m.type !== C.SHT_NOBITS) m.copyTo(buf, m.outOffset);
        // REL: each relocation's (re-pointed) addend goes back into the field it patches.
        const writeAddend = link.arch.writeImplicitAddend;
        if (!rela && writeAddend) {
          forEachOutputReloc(link, t.osec, sectionSym, globalIndex, placeOf, (where, type, _s, a) =>
            writeAddend(type, buf, where, a),
          );
        }
        out.write(buf, t.size, t.offset);
      } else if (t.type === C.SHT_GROUP) {
        const words = groupContents[table.indexOf(t)]!;
        const buf = new Uint8Array(t.size);
        words.forEach((w, k) => w32(buf, k * 4, w));
        out.write(buf, t.size, t.offset);
      } else if (t.relaOf !== null) {
        const buf = new Uint8Array(t.size);
        writeRelas(link, t.relaOf, buf, sectionSym, globalIndex, placeOf);
        out.write(buf, t.size, t.offset);
      } else if (t.type === C.SHT_SYMTAB) {
        const buf = new Uint8Array(t.size);
        entries.forEach((e, k) => {
          const o = (k + 1) * symEnt;
          const f = e.id >= 0 ? syms.flags[e.id]! : 0;
          // An undefined symbol is weak when every reference to it was.
          const weakRef =
            e.shndx === C.SHN_UNDEF && f & SymFlag.RefWeak && !(f & SymFlag.RefStrong);
          const bind = e.local
            ? C.STB_LOCAL
            : f & SymFlag.Weak || weakRef
              ? C.STB_WEAK
              : C.STB_GLOBAL;
          const type = e.id < 0 ? C.STT_SECTION : syms.type[e.id]!;
          const size = e.id < 0 ? 0 : syms.size[e.id]!;
          const other = e.id < 0 ? 0 : syms.visibility[e.id]!;
          w32(buf, o, nameOff[k]!);
          if (is64) {
            buf[o + 4] = (bind << 4) | (type & 0xf);
            buf[o + 5] = other;
            w16(buf, o + 6, e.shndx);
            w64(buf, o + 8, e.value);
            w64(buf, o + 16, size);
          } else {
            w32(buf, o + 4, e.value >>> 0);
            w32(buf, o + 8, size >>> 0);
            buf[o + 12] = (bind << 4) | (type & 0xf);
            buf[o + 13] = other;
            w16(buf, o + 14, e.shndx);
          }
        });
        out.write(buf, t.size, t.offset);
      } else if (t.type === C.SHT_STRTAB) {
        const names = t.name === '.strtab' ? strtab : shstrNames;
        out.write(Buffer.from(names.join('\0') + '\0', 'latin1'), t.size, t.offset);
      }
    }
    const sh = new Uint8Array((table.length + 1) * shEnt);
    table.forEach((t, i) => {
      const o = (i + 1) * shEnt;
      const v = [
        shName.get(t.name)!,
        t.type,
        t.flags,
        0,
        t.offset,
        t.size,
        t.link,
        t.info,
        t.align,
        t.entsize,
      ];
      writeShdr(sh, o, is64, v);
    });
    out.write(sh, sh.length, shoff);
    out.commit();
  } catch (e) {
    out.abort();
    throw e;
  }
}

function section(
  name: string,
  type: number,
  flags: number,
  align: number,
  size: number,
  entsize: number,
  osec: OutputSection | null,
  relaOf: OutputSection | null,
  relCount: number,
): Out {
  return {
    name,
    type,
    flags,
    align: Math.max(align, 1),
    size,
    entsize,
    link: 0,
    info: 0,
    offset: 0,
    osec,
    relaOf,
    relCount,
  };
}

/** The relocations of `osec`'s members, re-pointed at output symbols (see the file comment). */
interface KeptGroup {
  file: ElfObjectFile;
  /** The signature symbol's index in the file's symbol table. */
  signature: number;
  /** The output sections holding the group's members, and nothing else. */
  osecs: OutputSection[];
}

/**
 * The COMDAT groups the output keeps as groups: those whose member sections landed in output
 * sections of their own (the usual `.text.<name>`), with a signature the output's symbol table
 * has (a global, or a section). A group sharing an output section with other code cannot be
 * expressed; its members are then kept as plain sections, as before this was done.
 */
function keptGroups(link: ElfLink): KeptGroup[] {
  const syms = link.ctx.syms;
  const kept: KeptGroup[] = [];
  for (const file of link.objects as ElfObjectFile[]) {
    for (const g of file.comdatGroups) {
      const id = file.symIds[g.signature]!;
      const sectionSig = syms.type[id] === C.STT_SECTION;
      if (!sectionSig && syms.flags[id]! & SymFlag.Local) continue;
      if (!sectionSig && syms.state[id] !== SymState.Defined) continue;
      const members = new Set(g.members);
      const osecs: OutputSection[] = [];
      let ok = true;
      for (const m of g.members) {
        const sec = file.sections[m];
        if (!sec || !sec.isAlive || sec.osec === null) continue;
        if (!osecs.includes(sec.osec)) osecs.push(sec.osec);
      }
      for (const o of osecs)
        for (const mem of o.members) if (mem.file !== file || !members.has(mem.index)) ok = false;
      if (sectionSig && !osecs.includes(link.ctx.sections[syms.section[id]!]?.osec as never))
        ok = false;
      if (ok && osecs.length > 0) kept.push({ file, signature: g.signature, osecs });
    }
  }
  return kept;
}

function writeRelas(
  link: ElfLink,
  osec: OutputSection,
  buf: Uint8Array,
  sectionSym: Map<OutputSection, number>,
  globalIndex: Map<number, number>,
  placeOf: (secId: number) => { shndx: number; base: number } | null,
): void {
  const { is64, rela } = link.arch;
  const ent = is64 ? 24 : rela ? 12 : 8;
  let k = 0;
  forEachOutputReloc(link, osec, sectionSym, globalIndex, placeOf, (where, type, s, a) =>
    writeRelEntry(buf, k++ * ent, is64, rela, where, s, type, a),
  );
}

/**
 * Each relocation of `osec`'s members as the output keeps it: its offset in the output section,
 * its type, the output symbol index it refers to and its addend. A reference to a global keeps
 * the global; one to a local symbol or a section is re-pointed at the output section's symbol,
 * with the place the target went added to the addend.
 */
function forEachOutputReloc(
  link: ElfLink,
  osec: OutputSection,
  sectionSym: Map<OutputSection, number>,
  globalIndex: Map<number, number>,
  placeOf: (secId: number) => { shndx: number; base: number } | null,
  put: (where: number, type: number, symIdx: number, addend: number) => void,
): void {
  const ctx = link.ctx;
  const syms = ctx.syms;
  const { offset, type, sym, addend } = ctx.relocs;
  for (const m of osec.members as InputSection[]) {
    const r = m.relocs;
    if (!r) continue;
    for (let i = r.start; i < r.start + r.count; i++) {
      const id = sym[i]!;
      const where = m.outOffset + offset[i]!;
      if (id === link.nullSym) {
        put(where, type[i]!, 0, addend[i]!);
        continue;
      }
      const g = globalIndex.get(id);
      if (g !== undefined && !(syms.flags[id]! & SymFlag.Local)) {
        put(where, type[i]!, g, addend[i]!);
        continue;
      }
      // A local symbol or a section: the output section's symbol plus where it went.
      const s = syms.section[id]!;
      const p = s >= 0 ? placeOf(s) : null;
      const target = s >= 0 ? ctx.sections[s]!.osec : null;
      if (p === null || target === null) {
        put(where, type[i]!, 0, 0); // into a discarded section (a dropped COMDAT copy)
        continue;
      }
      put(where, type[i]!, sectionSym.get(target)!, p.base + syms.value[id]! + addend[i]!);
    }
  }
}

function writeEhdr(
  link: ElfLink,
  b: Uint8Array,
  shoff: number,
  shnum: number,
  shstrndx: number,
): void {
  const is64 = link.arch.is64;
  w32(b, 0, C.ELFMAG);
  b[4] = is64 ? C.ELFCLASS64 : C.ELFCLASS32;
  b[5] = C.ELFDATA2LSB;
  b[6] = C.EV_CURRENT;
  w16(b, 16, C.ET_REL);
  w16(b, 18, link.arch.machine);
  w32(b, 20, C.EV_CURRENT);
  if (is64) {
    w64(b, 40, shoff);
    w32(b, 48, link.eflags);
    w16(b, 52, C.ELF64_EHDR_SIZE);
    w16(b, 58, C.ELF64_SHDR_SIZE);
    w16(b, 60, shnum);
    w16(b, 62, shstrndx);
  } else {
    w32(b, 32, shoff);
    w32(b, 36, link.eflags);
    w16(b, 40, C.ELF32_EHDR_SIZE);
    w16(b, 46, C.ELF32_SHDR_SIZE);
    w16(b, 48, shnum);
    w16(b, 50, shstrndx);
  }
}

import { InputSection, OutputSection, SymState, type StreamedOutput } from '@link/core';
import * as C from './constants.js';
import type { ElfLink } from './link.js';

/**
 * Which output section an input section goes to, by name (lld's getOutputSectionName):
 * `.text.foo` → `.text`, `.rodata.str1.1` → `.rodata`, `.init_array.00101` → `.init_array`.
 */
const PREFIXES = [
  '.text',
  '.rodata',
  '.data.rel.ro',
  '.data',
  '.bss.rel.ro',
  '.bss',
  '.ldata',
  '.lrodata',
  '.lbss',
  '.gcc_except_table',
  '.init_array',
  '.fini_array',
  '.preinit_array',
  '.tbss',
  '.tdata',
  '.ctors',
  '.dtors',
  '.ARM.exidx',
  '.ARM.extab',
];

/** PREFIXES by their first dot-separated part, longest first (`.data.rel.ro` before `.data`). */
const BY_HEAD = new Map<string, string[]>();
for (const p of PREFIXES) {
  const dot = p.indexOf('.', 1);
  const head = dot < 0 ? p : p.slice(0, dot);
  const list = BY_HEAD.get(head) ?? [];
  list.push(p);
  list.sort((a, b) => b.length - a.length);
  BY_HEAD.set(head, list);
}

export function outputSectionName(name: string): string {
  // One lookup by the name's first part, then a check of its few candidates: this runs once per
  // input section, and with -ffunction-sections nearly every name is different.
  const dot = name.indexOf('.', 1);
  const candidates = BY_HEAD.get(dot < 0 ? name : name.slice(0, dot));
  if (candidates === undefined) return name;
  for (const p of candidates) {
    if (name === p) return p;
    if (name.startsWith(p) && name.charCodeAt(p.length) === 0x2e) return p;
  }
  return name;
}

/** Priority of `.init_array.NNNNN` (lower runs first); plain sections run last. */
function initPriority(name: string): number {
  const dot = name.lastIndexOf('.');
  const n = Number(name.slice(dot + 1));
  if (dot > 0 && /^\d+$/.test(name.slice(dot + 1)) && Number.isFinite(n)) return n;
  return 65536;
}

/** The read-only tables of dynamic linking, in GNU ld's order, between the notes and the code. */
const DYNAMIC_RO_ORDER = new Map([
  ['.gnu.hash', 11],
  ['.hash', 12],
  ['.dynsym', 13],
  ['.dynstr', 14],
  ['.gnu.version', 15],
  ['.gnu.version_d', 16],
  ['.gnu.version_r', 17],
  ['.rela.dyn', 19],
  ['.rel.dyn', 19],
]);

/** Whether an output section is made read-only after relocation (-z relro). */
export function isRelro(name: string, type: number, flags: number, bindNow: boolean): boolean {
  if ((flags & C.SHF_WRITE) === 0 || (flags & C.SHF_ALLOC) === 0) return false;
  if (flags & C.SHF_TLS) return true;
  if (type === C.SHT_INIT_ARRAY || type === C.SHT_FINI_ARRAY || type === C.SHT_PREINIT_ARRAY)
    return true;
  if (name === '.got.plt') return bindNow;
  return (
    name === '.init_array' ||
    name === '.fini_array' ||
    name === '.preinit_array' ||
    name === '.ctors' ||
    name === '.dtors' ||
    name === '.dynamic' ||
    name === '.got' ||
    name === '.data.rel.ro' ||
    name === '.bss.rel.ro'
  );
}

/**
 * Orders output sections into segments: read-only data, then code, then TLS, relro data, and
 * writable data with bss last (so it takes no file space). Non-allocated sections follow.
 */
export function sectionRank(name: string, type: number, flags: number): number {
  if ((flags & C.SHF_ALLOC) === 0) return 1000;
  const w = (flags & C.SHF_WRITE) !== 0;
  const x = (flags & C.SHF_EXECINSTR) !== 0;
  if (!w && !x) {
    if (name === '.interp') return 5;
    if (type === C.SHT_NOTE) return 10;
    if (DYNAMIC_RO_ORDER.has(name)) return DYNAMIC_RO_ORDER.get(name)!;
    if (name === '.rela.plt' || name === '.rel.plt') return 20;
    if (name === '.eh_frame_hdr') return 40;
    if (name === '.eh_frame') return 41;
    if (name === '.gcc_except_table') return 42;
    if (name === '.rodata') return 30;
    return 31;
  }
  if (x && !w) {
    if (name === '.init') return 100;
    if (name === '.plt') return 105;
    if (name === '.text') return 110;
    if (name === '.fini') return 120;
    return 115;
  }
  if (flags & C.SHF_TLS) return type === C.SHT_NOBITS ? 201 : 200;
  if (type === C.SHT_PREINIT_ARRAY || name === '.preinit_array') return 209;
  if (type === C.SHT_INIT_ARRAY || name === '.init_array') return 210;
  if (type === C.SHT_FINI_ARRAY || name === '.fini_array') return 211;
  if (name === '.ctors') return 212;
  if (name === '.dtors') return 213;
  if (name === '.data.rel.ro') return 220;
  if (name === '.dynamic') return 225;
  if (name === '.got') return 230;
  if (name === '.got.plt') return 240;
  if (name === '.dynbss') return 299;
  if (type === C.SHT_NOBITS) return name === '.bss' ? 300 : 301;
  if (name === '.data') return 250;
  return 255;
}

/** Common symbols become zero-filled space in .bss, one synthetic section per symbol. */
export function convertCommonSymbols(link: ElfLink): void {
  const ctx = link.ctx;
  const syms = ctx.syms;
  for (const id of syms.globalIds()) {
    if (syms.state[id] !== SymState.Common) continue;
    const owner = ctx.files[syms.file[id]!]!;
    const sec = new InputSection(
      ctx.sections.length,
      owner,
      -1,
      '.bss',
      C.SHT_NOBITS,
      C.SHF_ALLOC | C.SHF_WRITE,
      syms.aux[id]! || 1,
      syms.size[id]!,
      -1,
    );
    ctx.sections.push(sec);
    syms.state[id] = SymState.Defined;
    syms.section[id] = sec.id;
    syms.value[id] = 0;
  }
}

/** Groups live input sections into output sections, by `nameOf` their name (`-r` keeps names). */
export function createOutputSections(
  link: ElfLink,
  nameOf: (inputName: string) => string = outputSectionName,
): void {
  const ctx = link.ctx;
  const byName = new Map<string, OutputSection>();
  const stripDebug = ctx.config.stripDebug || ctx.config.stripAll;
  for (const sec of ctx.sections) {
    if (!sec.isAlive) continue;
    if (stripDebug && (sec.flags & C.SHF_ALLOC) === 0 && sec.name.startsWith('.debug')) continue;
    const name = nameOf(sec.name);
    let osec = byName.get(name);
    if (!osec) {
      osec = new OutputSection(
        name,
        sec.type,
        sec.flags & ~(C.SHF_GROUP | C.SHF_MERGE | C.SHF_STRINGS | C.SHF_GNU_RETAIN),
        sec.type === C.SHT_NOBITS,
      );
      byName.set(name, osec);
    } else {
      osec.flags |= sec.flags & (C.SHF_WRITE | C.SHF_EXECINSTR | C.SHF_ALLOC | C.SHF_TLS);
      if (sec.type !== C.SHT_NOBITS && osec.noBits) {
        osec.noBits = false;
        osec.type = sec.type;
      }
    }
    if (
      name === '.init_array' ||
      name === '.fini_array' ||
      name === '.preinit_array' ||
      name === '.ctors' ||
      name === '.dtors'
    ) {
      sec.sortKey = initPriority(sec.name);
    }
    sec.osec = osec;
    osec.members.push(sec);
  }
  for (const osec of byName.values()) {
    // Stable sort keeps input order among equal priorities.
    if (osec.members.some((m) => m.sortKey !== 0))
      osec.members.sort((a, b) => a.sortKey - b.sortKey);
    osec.rank = sectionRank(osec.name, osec.type, osec.flags);
    // Written by streamInputSections (writer.ts), batch by batch.
  }
  link.outputSections = [...byName.values()];
}

/** Input bytes per write of a big output section: the output is never all in memory at once. */
const STREAM_BATCH = 4 << 20;

/**
 * Writes an output section's members in batches of about STREAM_BATCH bytes: each batch is
 * copied into `scratch` (grown when one member is bigger), relocated, and written at its place
 * in `out`. Returns the scratch buffer, possibly a larger one.
 */
export function streamInputSections(
  link: ElfLink,
  osec: OutputSection,
  out: StreamedOutput,
  scratch: Uint8Array,
): Uint8Array {
  const arch = link.arch;
  const members = osec.members;
  const fill = osec.flags & C.SHF_EXECINSTR ? arch.trapFill : 0;
  let i = 0;
  let start = 0;
  while (start < osec.size) {
    let j = i;
    while (
      j < members.length &&
      (j === i || members[j]!.outOffset + members[j]!.size - start <= STREAM_BATCH)
    )
      j++;
    // A batch runs up to the next batch's first member, padding included.
    const end = j < members.length ? members[j]!.outOffset : osec.size;
    const len = end - start;
    if (scratch.length < len) scratch = new Uint8Array(len);
    scratch.fill(fill, 0, len);
    for (let k = i; k < j; k++) {
      const m = members[k]!;
      if (m.type === C.SHT_NOBITS) continue;
      const off = m.outOffset - start;
      m.copyTo(scratch, off);
      if (m.relocs !== null && m.relocs.count > 0)
        arch.applyRelocs(link, m, scratch, off, osec.addr + m.outOffset);
    }
    out.write(scratch, len, osec.fileOffset + start);
    i = j;
    start = end;
  }
  return scratch;
}

import { SymFlag, SymState, type OutputSection } from '@link/core';
import * as C from './constants.js';
import { isCIdentifier } from './gc-sections.js';
import type { ElfLink } from './link.js';

/**
 * Symbols the linker defines when objects reference them but nobody defines them: the bounds
 * glibc's start-up code and libgcc look for. Each is defined now (so references resolve) and
 * gets its address in `fixLinkerSymbols` after layout.
 */
type Where = (link: ElfLink) => number;

function osec(link: ElfLink, name: string): OutputSection | undefined {
  return link.outputSections.find((o) => o.name === name);
}

function startOf(name: string, fallback: Where): Where {
  return (l) => {
    const o = osec(l, name);
    return o ? o.addr : fallback(l);
  };
}

function endOf(name: string, fallback: Where): Where {
  return (l) => {
    const o = osec(l, name);
    return o ? o.addr + o.size : fallback(l);
  };
}

function segEnd(l: ElfLink, pred: (flags: number) => boolean, memsz: boolean): number {
  let end = 0;
  for (const s of l.segments) {
    if (s.type !== C.PT_LOAD || !pred(s.flags)) continue;
    end = Math.max(end, s.vaddr + (memsz ? s.memsz : s.filesz));
  }
  return end;
}

const headerStart: Where = (l) => l.segments.find((s) => s.type === C.PT_LOAD)?.vaddr ?? 0;
const dataStart: Where = (l) =>
  l.segments.find((s) => s.type === C.PT_LOAD && s.flags & C.PF_W)?.vaddr ?? headerStart(l);
const textEnd: Where = (l) => segEnd(l, (f) => (f & C.PF_X) !== 0, false);
const dataEnd: Where = (l) => segEnd(l, (f) => (f & C.PF_W) !== 0, false);
const end: Where = (l) => segEnd(l, () => true, true);

const FIXED: [string, Where][] = [
  ['__ehdr_start', headerStart],
  ['__executable_start', headerStart],
  ['_etext', textEnd],
  ['etext', textEnd],
  ['__etext', textEnd],
  ['_edata', dataEnd],
  ['edata', dataEnd],
  ['__bss_start', startOf('.bss', dataEnd)],
  ['_end', end],
  ['end', end],
  ['__end', end],
  ['__preinit_array_start', startOf('.preinit_array', dataStart)],
  ['__preinit_array_end', endOf('.preinit_array', dataStart)],
  ['__init_array_start', startOf('.init_array', dataStart)],
  ['__init_array_end', endOf('.init_array', dataStart)],
  ['__fini_array_start', startOf('.fini_array', dataStart)],
  ['__fini_array_end', endOf('.fini_array', dataStart)],
  ['__rela_iplt_start', (l) => l.synth.relaIplt.addr],
  ['__rela_iplt_end', (l) => l.synth.relaIplt.addr + l.synth.relaIplt.size],
  ['__rel_iplt_start', (l) => l.synth.relaIplt.addr],
  ['__rel_iplt_end', (l) => l.synth.relaIplt.addr + l.synth.relaIplt.size],
  ['_GLOBAL_OFFSET_TABLE_', (l) => l.gotBase],
  // TLSDESC local-dynamic code adds x@dtpoff to the descriptor result for _TLS_MODULE_BASE_.
  // Relaxed to local-exec in an executable, DTPOFF is taken from the thread pointer, so the
  // base must sit at the thread pointer (tpoff 0) for the sum to come out right.
  // In a shared object the descriptor resolves to the module's block, whose start it is.
  ['_TLS_MODULE_BASE_', (l) => (l.ctx.target.isShared ? l.tlsStart : l.tp)],
  ['__GNU_EH_FRAME_HDR', (l) => l.synth.ehFrameHdr?.addr ?? 0],
  ['_DYNAMIC', (l) => l.synth.dynamic?.addr ?? 0],
  // ARM EHABI: the unwinder's index table, when no PT_ARM_EXIDX is consulted (static glibc).
  ['__exidx_start', startOf('.ARM.exidx', () => 0)],
  ['__exidx_end', endOf('.ARM.exidx', () => 0)],
];

function defined(link: ElfLink): Map<number, Where> {
  let m = link.ctx.ext.get('elf.linkerSymbols') as Map<number, Where> | undefined;
  if (!m) {
    m = new Map();
    link.ctx.ext.set('elf.linkerSymbols', m);
  }
  return m;
}

function defineIfUndefined(link: ElfLink, name: string, where: Where): void {
  const syms = link.ctx.syms;
  const id = syms.lookup(name);
  if (id < 0) return;
  const st = syms.state[id];
  if (st !== SymState.Undefined && st !== SymState.Lazy) return;
  syms.state[id] = SymState.Defined;
  syms.section[id] = -1;
  syms.file[id] = -1;
  // Image-relative (not SHN_ABS): in position-independent output they move with the image.
  syms.flags[id] = (syms.flags[id]! & ~(SymFlag.Weak | SymFlag.Absolute)) | SymFlag.Synthetic;
  syms.type[id] = C.STT_NOTYPE;
  defined(link).set(id, where);
}

export function defineLinkerSymbols(link: ElfLink): void {
  for (const [name, where] of FIXED) defineIfUndefined(link, name, where);
  // __start_SEC / __stop_SEC for every section named like a C identifier.
  const names = new Set<string>();
  for (const s of link.ctx.sections)
    if (s.isAlive && s.flags & C.SHF_ALLOC && isCIdentifier(s.name)) names.add(s.name);
  for (const n of [...names].sort()) {
    defineIfUndefined(
      link,
      `__start_${n}`,
      startOf(n, () => 0),
    );
    defineIfUndefined(
      link,
      `__stop_${n}`,
      endOf(n, () => 0),
    );
  }
  for (const d of link.ctx.config.defsyms) {
    const v = Number(d.expr);
    if (!Number.isFinite(v)) {
      link.ctx.diag.error(`--defsym: cannot evaluate expression: ${d.expr}`);
      continue;
    }
    const syms = link.ctx.syms;
    const id = syms.intern(d.name);
    syms.state[id] = SymState.Defined;
    syms.section[id] = -1;
    syms.file[id] = -1;
    syms.value[id] = v;
    syms.flags[id] = (syms.flags[id]! & ~SymFlag.Weak) | SymFlag.Synthetic | SymFlag.Absolute;
  }
}

/** After layout: gives the linker-defined symbols their addresses. */
export function fixLinkerSymbols(link: ElfLink): void {
  const syms = link.ctx.syms;
  for (const [id, where] of defined(link)) syms.value[id] = where(link);
}

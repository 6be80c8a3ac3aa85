import { InputSection, LinkError, SymState, w32, w64 } from '@link/core';
import {
  S_ATTR_PURE_INSTRUCTIONS,
  S_ATTR_SOME_INSTRUCTIONS,
  S_LAZY_SYMBOL_POINTERS,
  S_NON_LAZY_SYMBOL_POINTERS,
  S_REGULAR,
  S_SYMBOL_STUBS,
  S_THREAD_LOCAL_VARIABLE_POINTERS,
} from './constants.js';
import { MachoSection } from './layout.js';
import type { MachoLink } from './link.js';

/** Bytes of one `__stubs` entry: `jmp *ptr(%rip)`. */
export const STUB_SIZE = 6;
/** `__stub_helper` header (lea/push/jmp to dyld_stub_binder) and per-import entries (push/jmp). */
export const STUB_HELPER_HEADER = 16;
export const STUB_HELPER_ENTRY = 10;

export interface Synthetics {
  got: MachoSection;
  stubs: MachoSection;
  stubHelper: MachoSection;
  laPtr: MachoSection;
  tlvPtrs: MachoSection;
  /** `dyld_stub_binder`'s GOT entry owner (lazy binding only). */
  binder: number;
  /** Offset of each stub's record in the lazy bind stream (set by buildLinkedit). */
  lazyOffsets: number[];
}

const TEXT_CODE = S_ATTR_PURE_INSTRUCTIONS | S_ATTR_SOME_INSTRUCTIONS;

/**
 * Creates `__got`, `__stubs`, and — with classic dyld info — the lazy-binding pair
 * `__stub_helper`/`__la_symbol_ptr` plus the `__dyld_private` word the helper passes to
 * `dyld_stub_binder`. With chained fixups every stub jumps through its `__got` slot instead.
 */
export function createSynthetics(l: MachoLink): void {
  const ctx = l.ctx;
  const lazy = !l.opts.fixupChains && l.stubSyms.length > 0;
  let binder = -1;
  if (lazy) {
    binder = ctx.syms.lookup('dyld_stub_binder');
    // -undefined dynamic_lookup without libSystem: dyld finds the binder by flat lookup too.
    if (l.opts.dynamicLookup && (binder < 0 || ctx.syms.state[binder] === SymState.Undefined)) {
      binder = ctx.syms.intern('dyld_stub_binder');
      l.dynamicLookup.add(binder);
    }
    if (binder < 0 || !l.isImportSym(binder))
      throw new LinkError(
        'undefined symbol: dyld_stub_binder\n>>> needed for lazy binding of imported functions (link against libSystem)',
      );
    l.needGot(binder);
    const priv = new InputSection(
      ctx.sections.length,
      l.internalFile,
      0,
      '__DATA,__data',
      S_REGULAR,
      S_REGULAR,
      8,
      8,
      -1,
    );
    priv.ownContents = new Uint8Array(8);
    ctx.sections.push(priv);
    l.dyldPrivate = priv;
  }
  const got = new MachoSection('__DATA_CONST', '__got', S_NON_LAZY_SYMBOL_POINTERS);
  got.align = 8;
  got.size = l.gotSyms.length * 8;
  const stubs = new MachoSection('__TEXT', '__stubs', S_SYMBOL_STUBS | TEXT_CODE);
  stubs.align = 4;
  stubs.size = l.stubSyms.length * STUB_SIZE;
  stubs.reserved2 = STUB_SIZE;
  const stubHelper = new MachoSection('__TEXT', '__stub_helper', S_REGULAR | TEXT_CODE);
  stubHelper.align = 4;
  stubHelper.size = lazy ? STUB_HELPER_HEADER + STUB_HELPER_ENTRY * l.stubSyms.length : 0;
  const laPtr = new MachoSection('__DATA', '__la_symbol_ptr', S_LAZY_SYMBOL_POINTERS);
  laPtr.align = 8;
  laPtr.size = lazy ? l.stubSyms.length * 8 : 0;
  const tlvPtrs = new MachoSection('__DATA', '__thread_ptrs', S_THREAD_LOCAL_VARIABLE_POINTERS);
  tlvPtrs.align = 8;
  tlvPtrs.size = l.tlvPtrSyms.length * 8;
  const sy: Synthetics = { got, stubs, stubHelper, laPtr, tlvPtrs, binder, lazyOffsets: [] };
  tlvPtrs.writer = (o, buf) => {
    for (let i = 0; i < l.tlvPtrSyms.length; i++) {
      const sym = l.tlvPtrSyms[i]!;
      w64(buf, o.fileOffset + i * 8, l.isImportSym(sym) ? 0 : l.symAddr(sym, 0));
    }
  };
  l.synth = sy;

  got.writer = (o, buf) => {
    for (let i = 0; i < l.gotSyms.length; i++) {
      const sym = l.gotSyms[i]!;
      w64(buf, o.fileOffset + i * 8, l.isImportSym(sym) ? 0 : l.symAddr(sym, 0));
    }
  };
  stubs.writer = (o, buf) => {
    for (let i = 0; i < l.stubSyms.length; i++) {
      const at = o.fileOffset + i * STUB_SIZE;
      const slot = lazy ? laPtr.addr + i * 8 : l.gotAddr(l.stubSyms[i]!);
      buf[at] = 0xff; // jmp *slot(%rip)
      buf[at + 1] = 0x25;
      w32(buf, at + 2, slot - (o.addr + i * STUB_SIZE + STUB_SIZE));
    }
  };
  stubHelper.writer = (o, buf) => {
    const h = o.fileOffset;
    const pc = o.addr;
    // leaq __dyld_private(%rip), %r11
    buf.set([0x4c, 0x8d, 0x1d], h);
    w32(buf, h + 3, l.dyldPrivate!.addrOf(0) - (pc + 7));
    buf.set([0x41, 0x53], h + 7); // pushq %r11
    buf.set([0xff, 0x25], h + 9); // jmpq *dyld_stub_binder@GOT(%rip)
    w32(buf, h + 11, l.gotAddr(binder) - (pc + 15));
    buf[h + 15] = 0x90;
    for (let i = 0; i < l.stubSyms.length; i++) {
      const at = h + STUB_HELPER_HEADER + i * STUB_HELPER_ENTRY;
      const epc = pc + STUB_HELPER_HEADER + i * STUB_HELPER_ENTRY;
      buf[at] = 0x68; // pushq $lazy_bind_offset
      w32(buf, at + 1, sy.lazyOffsets[i]!);
      buf[at + 5] = 0xe9; // jmp stub_helper
      w32(buf, at + 6, pc - (epc + 10));
    }
  };
  laPtr.writer = (o, buf) => {
    for (let i = 0; i < l.stubSyms.length; i++)
      w64(buf, o.fileOffset + i * 8, stubHelper.addr + STUB_HELPER_HEADER + i * STUB_HELPER_ENTRY);
  };
}

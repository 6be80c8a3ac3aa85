import {
  BIND_OPCODE_DO_BIND,
  BIND_OPCODE_DONE,
  BIND_OPCODE_SET_ADDEND_SLEB,
  BIND_OPCODE_SET_DYLIB_ORDINAL_IMM,
  BIND_OPCODE_SET_DYLIB_ORDINAL_ULEB,
  BIND_OPCODE_SET_DYLIB_SPECIAL_IMM,
  BIND_OPCODE_SET_SEGMENT_AND_OFFSET_ULEB,
  BIND_OPCODE_SET_SYMBOL_TRAILING_FLAGS_IMM,
  BIND_OPCODE_SET_TYPE_IMM,
  BIND_TYPE_POINTER,
  REBASE_OPCODE_ADD_ADDR_IMM_SCALED,
  REBASE_OPCODE_ADD_ADDR_ULEB,
  REBASE_OPCODE_DO_REBASE_IMM_TIMES,
  REBASE_OPCODE_DO_REBASE_ULEB_TIMES,
  REBASE_OPCODE_DONE,
  REBASE_OPCODE_SET_SEGMENT_AND_OFFSET_ULEB,
  REBASE_OPCODE_SET_TYPE_IMM,
  REBASE_TYPE_POINTER,
} from './constants.js';

/** A growable byte buffer for the __LINKEDIT streams. */
export class ByteSink {
  private buf = new Uint8Array(256);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const b = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    b.set(this.buf.subarray(0, this.length));
    this.buf = b;
  }
  byte(v: number): void {
    this.reserve(1);
    this.buf[this.length++] = v & 0xff;
  }
  uleb(v: number): void {
    // Numbers, not BigInt: values stay below 2^53.
    do {
      let b = v % 128;
      v = Math.floor(v / 128);
      if (v !== 0) b |= 0x80;
      this.byte(b);
    } while (v !== 0);
  }
  sleb(v: number): void {
    for (;;) {
      const b = ((v % 128) + 128) % 128;
      v = Math.floor(v / 128);
      const done = (v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0);
      this.byte(done ? b : b | 0x80);
      if (done) return;
    }
  }
  cstr(s: string): void {
    for (let i = 0; i < s.length; i++) this.byte(s.charCodeAt(i));
    this.byte(0);
  }
  u32(v: number): void {
    for (let i = 0; i < 4; i++) this.byte(v >>> (i * 8));
  }
  align(a: number): void {
    while (this.length % a !== 0) this.byte(0);
  }
  bytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

export function ulebSize(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/**
 * Rebase opcodes for pointer locations given as (segment index, offset in segment), sorted.
 * Runs of adjacent pointers become one DO_REBASE_*_TIMES.
 */
export function encodeRebases(seg: Int32Array, off: Float64Array, n: number): Uint8Array {
  const o = new ByteSink();
  if (n === 0) return new Uint8Array(0);
  o.byte(REBASE_OPCODE_SET_TYPE_IMM | REBASE_TYPE_POINTER);
  let curSeg = -1;
  let cur = 0;
  let i = 0;
  while (i < n) {
    const s = seg[i]!;
    const at = off[i]!;
    if (s !== curSeg || at < cur) {
      o.byte(REBASE_OPCODE_SET_SEGMENT_AND_OFFSET_ULEB | s);
      o.uleb(at);
      curSeg = s;
    } else if (at !== cur) {
      const d = at - cur;
      if (d % 8 === 0 && d / 8 < 16) o.byte(REBASE_OPCODE_ADD_ADDR_IMM_SCALED | (d / 8));
      else {
        o.byte(REBASE_OPCODE_ADD_ADDR_ULEB);
        o.uleb(d);
      }
    }
    let j = i + 1;
    while (j < n && seg[j] === s && off[j] === at + 8 * (j - i)) j++;
    const count = j - i;
    if (count < 16) o.byte(REBASE_OPCODE_DO_REBASE_IMM_TIMES | count);
    else {
      o.byte(REBASE_OPCODE_DO_REBASE_ULEB_TIMES);
      o.uleb(count);
    }
    cur = at + 8 * count;
    i = j;
  }
  o.byte(REBASE_OPCODE_DONE);
  o.align(8);
  return o.bytes();
}

/** One bind: where, which library (ordinal; negative = special), which symbol, addend. */
export interface BindEntry {
  seg: number;
  off: number;
  ordinal: number;
  name: string;
  addend: number;
  flags: number;
}

function emitOrdinal(o: ByteSink, ord: number): void {
  if (ord <= 0) o.byte(BIND_OPCODE_SET_DYLIB_SPECIAL_IMM | (ord & 0xf));
  else if (ord < 16) o.byte(BIND_OPCODE_SET_DYLIB_ORDINAL_IMM | ord);
  else {
    o.byte(BIND_OPCODE_SET_DYLIB_ORDINAL_ULEB);
    o.uleb(ord);
  }
}

/** Non-lazy bind opcodes; entries in the order given (callers sort by symbol, then address). */
export function encodeBinds(entries: readonly BindEntry[]): Uint8Array {
  return encodeBindStream(entries, true);
}

/**
 * Weak bind opcodes: the same stream without library ordinals. dyld coalesces each named weak
 * definition across the images that define it and rebinds these locations to the winner.
 */
export function encodeWeakBinds(entries: readonly BindEntry[]): Uint8Array {
  return encodeBindStream(entries, false);
}

/** A bind opcode stream, setting only what changes from one entry to the next. */
function encodeBindStream(entries: readonly BindEntry[], withOrdinals: boolean): Uint8Array {
  if (entries.length === 0) return new Uint8Array(0);
  const o = new ByteSink();
  let ord = NaN;
  let name = '';
  let addend = 0;
  o.byte(BIND_OPCODE_SET_TYPE_IMM | BIND_TYPE_POINTER);
  for (const e of entries) {
    if (withOrdinals && e.ordinal !== ord) emitOrdinal(o, (ord = e.ordinal));
    if (e.name !== name) {
      o.byte(BIND_OPCODE_SET_SYMBOL_TRAILING_FLAGS_IMM | e.flags);
      o.cstr((name = e.name));
    }
    if (e.addend !== addend) {
      o.byte(BIND_OPCODE_SET_ADDEND_SLEB);
      o.sleb((addend = e.addend));
    }
    o.byte(BIND_OPCODE_SET_SEGMENT_AND_OFFSET_ULEB | e.seg);
    o.uleb(e.off);
    o.byte(BIND_OPCODE_DO_BIND);
  }
  o.byte(BIND_OPCODE_DONE);
  o.align(8);
  return o.bytes();
}

/**
 * Lazy bind opcodes: one self-contained record per lazy pointer, each ending in DONE, because
 * dyld_stub_binder starts at the record's offset (which the stub helper pushes).
 */
export function encodeLazyBinds(entries: readonly BindEntry[]): {
  bytes: Uint8Array;
  offsets: number[];
} {
  const o = new ByteSink();
  const offsets: number[] = [];
  for (const e of entries) {
    offsets.push(o.length);
    o.byte(BIND_OPCODE_SET_SEGMENT_AND_OFFSET_ULEB | e.seg);
    o.uleb(e.off);
    emitOrdinal(o, e.ordinal);
    o.byte(BIND_OPCODE_SET_SYMBOL_TRAILING_FLAGS_IMM | e.flags);
    o.cstr(e.name);
    o.byte(BIND_OPCODE_DO_BIND);
    o.byte(BIND_OPCODE_DONE);
  }
  o.align(8);
  return { bytes: o.bytes(), offsets };
}

export interface ExportEntry {
  name: string;
  flags: number;
  /** Address relative to the image base (the Mach header). */
  address: number;
}

interface TrieNode {
  edges: { label: string; child: TrieNode }[];
  terminal: ExportEntry | null;
  offset: number;
}

/**
 * The export trie: a prefix tree over symbol names, serialised with ULEB offsets from the start
 * of the trie. Node sizes depend on their children's offsets (ULEB width), so offsets are
 * recomputed until they stop changing, as ld64 does.
 */
export function encodeExportTrie(entries: readonly ExportEntry[]): Uint8Array {
  if (entries.length === 0) return new Uint8Array(0);
  const root: TrieNode = { edges: [], terminal: null, offset: 0 };
  const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of sorted) {
    let node = root;
    let rest = e.name;
    for (;;) {
      if (rest.length === 0) {
        node.terminal = e;
        break;
      }
      let went = false;
      for (const edge of node.edges) {
        let k = 0;
        while (k < edge.label.length && k < rest.length && edge.label[k] === rest[k]) k++;
        if (k === 0) continue;
        if (k < edge.label.length) {
          // Split the edge at the common prefix.
          const mid: TrieNode = {
            edges: [{ label: edge.label.slice(k), child: edge.child }],
            terminal: null,
            offset: 0,
          };
          edge.label = edge.label.slice(0, k);
          edge.child = mid;
        }
        node = edge.child;
        rest = rest.slice(k);
        went = true;
        break;
      }
      if (!went) {
        const leaf: TrieNode = { edges: [], terminal: null, offset: 0 };
        node.edges.push({ label: rest, child: leaf });
        node = leaf;
        rest = '';
      }
    }
  }
  const order: TrieNode[] = [];
  const walk = (n: TrieNode): void => {
    order.push(n);
    for (const e of n.edges) walk(e.child);
  };
  walk(root);
  const termSize = (n: TrieNode): number =>
    n.terminal ? ulebSize(n.terminal.flags) + ulebSize(n.terminal.address) : 0;
  let changed = true;
  let total = 0;
  while (changed) {
    changed = false;
    let off = 0;
    for (const n of order) {
      if (n.offset !== off) {
        n.offset = off;
        changed = true;
      }
      const ts = termSize(n);
      let size = ulebSize(ts) + ts + 1;
      for (const e of n.edges) size += e.label.length + 1 + ulebSize(e.child.offset);
      off += size;
    }
    total = off;
  }
  const o = new ByteSink();
  for (const n of order) {
    const ts = termSize(n);
    o.uleb(ts);
    if (n.terminal) {
      o.uleb(n.terminal.flags);
      o.uleb(n.terminal.address);
    }
    o.byte(n.edges.length);
    for (const e of n.edges) {
      o.cstr(e.label);
      o.uleb(e.child.offset);
    }
  }
  if (o.length !== total) throw new Error('internal: export trie size mismatch');
  o.align(8);
  return o.bytes();
}

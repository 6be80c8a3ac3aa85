import { InputSection, alignTo, latin1, type OutputSection } from '@link/core';
import * as C from './constants.js';
import type { ElfLink } from './link.js';

/**
 * SHF_MERGE sections: identical strings (SHF_STRINGS) or identical fixed-size constants are
 * stored once. Each group of mergeable inputs of one output section (same entry size and
 * kind) becomes one synthetic input section; every original keeps a `mergeMap` from its input
 * offsets to the piece's place in the output.
 */
export function mergeSections(link: ElfLink): void {
  for (const osec of link.outputSections) mergeOutputSection(link, osec);
}

class MergeGroup {
  readonly pieces = new Map<string, number>();
  /** The merged contents, grown as unique pieces are copied in (no view object per piece). */
  data = new Uint8Array(4096);
  size = 0;
  align = 1;
  readonly inputs: InputSection[] = [];
  /** Each input's pieces: where they start in it and where they went in the merged output. */
  readonly inputPieces = new Map<InputSection, { starts: Int32Array; outs: Int32Array }>();
  constructor(
    readonly strings: boolean,
    readonly entsize: number,
    /** Every piece starts at this alignment (the inputs' sh_addralign, e.g. .rodata.str1.4). */
    readonly pieceAlign: number,
  ) {}

  add(bytes: Uint8Array, start: number, end: number): number {
    const key = latin1(bytes, start, end);
    let off = this.pieces.get(key);
    if (off === undefined) {
      // Code may rely on the alignment (an ldm from a string literal of a str1.4 section).
      off = this.pieceAlign > 1 ? alignTo(this.size, this.pieceAlign) : this.size;
      this.pieces.set(key, off);
      const len = end - start;
      if (off + len > this.data.length) {
        const d = new Uint8Array(Math.max(this.data.length * 2, off + len));
        d.set(this.data.subarray(0, off));
        this.data = d;
      }
      if (len > 16) this.data.set(bytes.subarray(start, end), off);
      else for (let i = 0; i < len; i++) this.data[off + i] = bytes[start + i]!;
      this.size = off + len;
    }
    return off;
  }
}

function mergeOutputSection(link: ElfLink, osec: OutputSection): void {
  const groups = new Map<string, MergeGroup>();
  const kept: InputSection[] = [];
  const placeholder = new Map<MergeGroup, number>();
  for (const sec of osec.members) {
    const mergeable =
      (sec.flags & C.SHF_MERGE) !== 0 &&
      sec.entsize > 0 &&
      sec.relocs === null &&
      sec.type !== C.SHT_NOBITS &&
      sec.size % sec.entsize === 0 &&
      // Each piece starts at the section's alignment; beyond a page, merging would only pad.
      sec.align <= 4096;
    if (!mergeable) {
      kept.push(sec);
      continue;
    }
    const strings = (sec.flags & C.SHF_STRINGS) !== 0;
    const align = Math.max(sec.align, 1);
    const key = `${strings ? 's' : 'c'}${sec.entsize}a${align}`;
    let g = groups.get(key);
    if (!g) {
      g = new MergeGroup(strings, sec.entsize, align);
      groups.set(key, g);
      placeholder.set(g, kept.length);
      kept.push(sec); // replaced by the merged section below
    }
    g.inputs.push(sec);
    if (sec.align > g.align) g.align = sec.align;
    splitAndAdd(link, g, sec);
  }
  if (groups.size === 0) return;
  for (const g of groups.values()) {
    const data = g.data.subarray(0, g.size);
    const ctx = link.ctx;
    const merged = new InputSection(
      ctx.sections.length,
      link.internalFile,
      -1,
      osec.name,
      osec.type,
      osec.flags,
      g.align,
      g.size,
      -1,
    );
    merged.ownContents = data;
    merged.osec = osec;
    ctx.sections.push(merged);
    kept[placeholder.get(g)!] = merged;
    for (const sec of g.inputs) {
      const { starts, outs } = g.inputPieces.get(sec)!;
      sec.mergeMap = (offset: number) => merged.outOffset + mapOffset(starts, outs, offset);
    }
  }
  osec.members = kept;
}

function splitAndAdd(link: ElfLink, g: MergeGroup, sec: InputSection): void {
  const b = sec.contents;
  const es = g.entsize;
  const starts: number[] = [];
  const outs: number[] = [];
  if (g.strings && es === 1) {
    // The common case (C strings): the native indexOf finds each terminator.
    let i = 0;
    while (i < b.length) {
      let end = b.indexOf(0, i);
      if (end < 0) {
        link.ctx.diag.error(`${sec.file.displayName}:(${sec.name}): string is not null terminated`);
        end = b.length - 1;
      }
      starts.push(i);
      outs.push(g.add(b, i, end + 1));
      i = end + 1;
    }
  } else if (g.strings) {
    let i = 0;
    while (i < b.length) {
      let end = i;
      // Find the terminating NUL entry (entsize bytes of zero).
      for (;;) {
        if (end + es > b.length) {
          link.ctx.diag.error(
            `${sec.file.displayName}:(${sec.name}): string is not null terminated`,
          );
          end = b.length - es;
          break;
        }
        let zero = true;
        for (let k = 0; k < es; k++) if (b[end + k] !== 0) zero = false;
        if (zero) break;
        end += es;
      }
      starts.push(i);
      outs.push(g.add(b, i, end + es));
      i = end + es;
    }
  } else {
    for (let i = 0; i < b.length; i += es) {
      starts.push(i);
      outs.push(g.add(b, i, i + es));
    }
  }
  // Kept beside the section, not on it: every InputSection keeps one shape.
  g.inputPieces.set(sec, { starts: Int32Array.from(starts), outs: Int32Array.from(outs) });
}

/** Binary search for the piece containing `offset`. */
function mapOffset(starts: Int32Array, outs: Int32Array, offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  if (hi < 0) return offset;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return outs[lo]! + (offset - starts[lo]!);
}

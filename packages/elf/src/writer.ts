import { OutputSection, StreamedOutput, builtin, executableMode, type Chunk } from '@link/core';
import { writeEhFrameHdr } from './eh-frame.js';
import type { ElfLink } from './link.js';
import { streamInputSections } from './output-sections.js';

/** Bytes read back at a time to hash the output for its build id. */
const HASH_BLOCK = 4 << 20;

/**
 * Writes the output into a temporary file, piece by piece, in file order: input-backed sections
 * in batches (copied, then relocated), every other chunk whole. The output is never held in
 * memory all at once, which matters when it is tens of megabytes next to the inputs. Then come
 * the pieces that depend on everything else (.rela.dyn, .dynamic's counts, .eh_frame_hdr's
 * table, the build id), and the rename into place.
 */
export function writeOutput(link: ElfLink): void {
  const ctx = link.ctx;
  const out = new StreamedOutput(ctx.config.output, link.fileSize, executableMode());
  try {
    let scratch: Uint8Array = new Uint8Array(1 << 16);
    const { symtab, strtab, symtabBuilder } = link.synth;
    for (const c of link.chunks) {
      if (c.noBits || c.size === 0) continue;
      if (c instanceof OutputSection && c.members.length > 0)
        scratch = streamInputSections(link, c, out, scratch);
      else if (c === symtab) symtabBuilder!.streamSymtab(out, c.fileOffset, scratch);
      else if (c === strtab) symtabBuilder!.streamStrtab(out, c.fileOffset, scratch);
      else scratch = writeChunk(c, out, scratch);
    }
    ctx.diag.checkpoint();
    finishDynamic(link, out);
    writeEhFrameTable(link, out);
    writeBuildId(link, out);
    out.commit();
  } catch (e) {
    out.abort();
    throw e;
  }
}

/**
 * Writes a chunk through `scratch`. Chunk writers address their bytes by the chunk's
 * `fileOffset`; for the duration of the call it points at the start of the scratch buffer.
 */
function writeChunk(c: Chunk, out: StreamedOutput, scratch: Uint8Array): Uint8Array {
  if (scratch.length < c.size) scratch = new Uint8Array(c.size);
  else scratch.fill(0, 0, c.size);
  const at = c.fileOffset;
  c.fileOffset = 0;
  try {
    c.writeTo(scratch);
  } finally {
    c.fileOffset = at;
  }
  out.write(scratch, c.size, at);
  return scratch;
}

/** .rela.dyn, once every section has added its dynamic relocations; .dynamic with the counts. */
function finishDynamic(link: ElfLink, out: StreamedOutput): void {
  const dyn = link.dynSections;
  if (!dyn) return;
  const ctx = link.ctx;
  // Copied data: the loader fills each .dynbss slot from the library's definition.
  for (const id of link.copySyms) link.relDyn.add(ctx.syms.addr[id]!, link.arch.dynRel.COPY, id, 0);
  // The count was fixed before layout.
  if (link.relDyn.count !== link.relDynCount)
    throw new Error(
      `internal: counted ${link.relDynCount} dynamic relocations, produced ${link.relDyn.count}`,
    );
  const rel = dyn.relaDyn;
  const buf = new Uint8Array(rel.size);
  link.relDyn.write(buf, 0, link.arch.is64, link.arch.rela, link.arch.dynRel.RELATIVE, (id) =>
    link.dynsymIndex(id),
  );
  out.write(buf, rel.size, rel.fileOffset);
  // DT_RELACOUNT is read from the collected relocations: .dynamic is written again.
  writeChunk(dyn.dynamic, out, new Uint8Array(dyn.dynamic.size));
}

/** .eh_frame_hdr's sorted table, from the relocated .eh_frame read back. */
function writeEhFrameTable(link: ElfLink, out: StreamedOutput): void {
  const hdr = link.synth.ehFrameHdr;
  const eh = link.outputSections.find((o) => o.name === '.eh_frame');
  if (!hdr || !eh) return;
  const buf = new Uint8Array(eh.size + hdr.size);
  out.read(buf, eh.size, eh.fileOffset);
  writeEhFrameHdr(buf, 0, eh.addr, eh.size, eh.size, hdr.addr, link.ehFdeCount, link.arch.is64);
  out.write(buf.subarray(eh.size), hdr.size, hdr.fileOffset);
}

/** The build id: a digest of the whole output (its own field still zero), or as given. */
function writeBuildId(link: ElfLink, out: StreamedOutput): void {
  const bid = link.synth.buildId;
  const style = link.ctx.config.buildId;
  if (!bid || style === null) return;
  const n = bid.size - 16;
  let digest: Uint8Array;
  const crypto = (): typeof import('node:crypto') => builtin('node:crypto');
  if (typeof style === 'object') digest = Buffer.from(style.hex, 'hex');
  else if (style === 'uuid') digest = Buffer.from(crypto().randomUUID().replace(/-/g, ''), 'hex');
  else {
    const hash = crypto().createHash(style === 'md5' ? 'md5' : 'sha1');
    const block = new Uint8Array(Math.min(HASH_BLOCK, link.fileSize));
    for (let off = 0; off < link.fileSize; off += block.length) {
      const len = Math.min(block.length, link.fileSize - off);
      out.read(block, len, off);
      hash.update(block.subarray(0, len));
    }
    digest = hash.digest();
  }
  out.write(digest, n, bid.fileOffset + 16);
}

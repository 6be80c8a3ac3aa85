import { createHash, randomUUID } from 'node:crypto';
import { executableMode, writeFileAtomically } from '@link/core';
import { writeEhFrameHdr } from './eh-frame.js';
import type { ElfLink } from './link.js';

/**
 * Writes the output: one zeroed buffer of the final size, every chunk writes its own range
 * (sections copy and relocate their members), then the pieces that depend on written bytes
 * (.eh_frame_hdr's table, the build id), and one atomic write to disk.
 */
export function writeOutput(link: ElfLink): void {
  const ctx = link.ctx;
  const buf = new Uint8Array(link.fileSize);
  for (const c of link.chunks) c.writeTo(buf);
  ctx.diag.checkpoint();
  const dyn = link.dynSections;
  if (dyn) {
    // Copied data: the loader fills each .dynbss slot from the library's definition.
    for (const id of link.copySyms)
      link.relDyn.add(ctx.syms.addr[id]!, link.arch.dynRel.COPY, id, 0);
    // Every section has added its dynamic relocations; the count was fixed before layout.
    if (link.relDyn.count !== link.relDynCount)
      throw new Error(
        `internal: counted ${link.relDynCount} dynamic relocations, produced ${link.relDyn.count}`,
      );
    link.relDyn.write(
      buf,
      dyn.relaDyn.fileOffset,
      link.arch.is64,
      link.arch.rela,
      link.arch.dynRel.RELATIVE,
      (id) => link.dynsymIndex(id),
    );
    // DT_RELACOUNT is read from the collected relocations: .dynamic is written again.
    dyn.dynamic.writeTo(buf);
  }
  const hdr = link.synth.ehFrameHdr;
  const eh = link.outputSections.find((o) => o.name === '.eh_frame');
  if (hdr && eh)
    writeEhFrameHdr(
      buf,
      eh.fileOffset,
      eh.addr,
      eh.size,
      hdr.fileOffset,
      hdr.addr,
      link.ehFdeCount,
      link.arch.is64,
    );
  const bid = link.synth.buildId;
  const style = ctx.config.buildId;
  if (bid && style !== null) {
    const desc = bid.fileOffset + 16;
    const n = bid.size - 16;
    let digest: Uint8Array;
    if (typeof style === 'object') digest = Buffer.from(style.hex, 'hex');
    else if (style === 'uuid') digest = Buffer.from(randomUUID().replace(/-/g, ''), 'hex');
    else
      digest = createHash(style === 'md5' ? 'md5' : 'sha1')
        .update(buf)
        .digest();
    buf.set(digest.subarray(0, n), desc);
  }
  writeFileAtomically(ctx.config.output, buf, executableMode());
}

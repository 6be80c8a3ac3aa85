import * as fs from 'node:fs';
import * as path from 'node:path';
import { LinkError } from './errors.js';

/**
 * Writes the output so that a failed link never leaves a truncated file and never destroys the
 * previous one: write a temporary file beside the target, set its mode, then rename it into
 * place (atomic on POSIX file systems).
 */
export function writeFileAtomically(target: string, data: Uint8Array, mode: number): void {
  const dir = path.dirname(path.resolve(target));
  const tmp = path.join(dir, `.${path.basename(target)}.tslink-${process.pid}.tmp`);
  let fd = -1;
  try {
    fd = fs.openSync(tmp, 'w', mode);
    let off = 0;
    while (off < data.length) off += fs.writeSync(fd, data, off, data.length - off);
    fs.fchmodSync(fd, mode);
    fs.closeSync(fd);
    fd = -1;
    fs.renameSync(tmp, target);
  } catch (e) {
    if (fd >= 0) fs.closeSync(fd);
    try {
      fs.unlinkSync(tmp);
    } catch {
      // The temporary file may never have been created.
    }
    const msg = e instanceof Error ? e.message : String(e);
    throw new LinkError(`cannot open output file ${target}: ${msg}`);
  }
}

/** The mode an executable output gets: rwx for all, less the process umask (as ld does). */
export function executableMode(): number {
  const mask = process.umask();
  return 0o777 & ~mask;
}

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

/**
 * An output written piece by piece at known offsets (pwrite), for links whose output is too big
 * to also hold in memory next to their inputs. Like `writeFileAtomically`, it writes a temporary
 * file beside the target and renames it into place only on `commit`; `abort` removes it.
 */
export class StreamedOutput {
  private fd: number;
  private readonly tmp: string;

  constructor(
    readonly target: string,
    readonly size: number,
    private readonly mode: number,
  ) {
    const dir = path.dirname(path.resolve(target));
    this.tmp = path.join(dir, `.${path.basename(target)}.tslink-${process.pid}.tmp`);
    try {
      this.fd = fs.openSync(this.tmp, 'w+', mode);
      // Gaps between pieces read back as zeros (and take no disk space until written).
      fs.ftruncateSync(this.fd, size);
    } catch (e) {
      this.fd = -1;
      this.fail(e);
    }
  }

  /** Writes `data[0, len)` at `offset` of the output. */
  write(data: Uint8Array, len: number, offset: number): void {
    try {
      let done = 0;
      while (done < len) done += fs.writeSync(this.fd, data, done, len - done, offset + done);
    } catch (e) {
      this.fail(e);
    }
  }

  /** Reads the output's bytes [offset, offset + len) back into `into`. */
  read(into: Uint8Array, len: number, offset: number): void {
    try {
      let done = 0;
      while (done < len) {
        const n = fs.readSync(this.fd, into, done, len - done, offset + done);
        if (n === 0) throw new Error('short read');
        done += n;
      }
    } catch (e) {
      this.fail(e);
    }
  }

  commit(): void {
    try {
      fs.fchmodSync(this.fd, this.mode);
      fs.closeSync(this.fd);
      this.fd = -1;
      fs.renameSync(this.tmp, this.target);
    } catch (e) {
      this.fail(e);
    }
  }

  /** Removes the temporary file (a failed link leaves the previous output alone). */
  abort(): void {
    if (this.fd >= 0) {
      try {
        fs.closeSync(this.fd);
      } catch {
        // Already closed.
      }
      this.fd = -1;
    }
    try {
      fs.unlinkSync(this.tmp);
    } catch {
      // Never created.
    }
  }

  private fail(e: unknown): never {
    this.abort();
    const msg = e instanceof Error ? e.message : String(e);
    throw new LinkError(`cannot write output file ${this.target}: ${msg}`);
  }
}

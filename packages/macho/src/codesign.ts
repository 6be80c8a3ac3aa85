import { createHash } from 'node:crypto';
import {
  CSMAGIC_CODEDIRECTORY,
  CSMAGIC_EMBEDDED_SIGNATURE,
  CSSLOT_CODEDIRECTORY,
  CS_ADHOC,
  CS_EXECSEG_MAIN_BINARY,
  CS_HASHTYPE_SHA256,
  CS_LINKER_SIGNED,
  CS_SUPPORTSEXECSEG,
} from './constants.js';

/** Code signing uses 4 KiB pages on x86-64 regardless of the VM page size. */
export const CS_PAGE_SIZE = 4096;
const SUPERBLOB_HEADER = 12;
const BLOB_INDEX = 8;
/** `CS_CodeDirectory` up to and including the exec-segment fields (version 0x20400). */
const CODEDIRECTORY_SIZE = 88;
const HASH_SIZE = 32;

/** Size of the ad-hoc signature for `codeLimit` bytes of file and identifier `ident`. */
export function codeSignatureSize(codeLimit: number, ident: string): number {
  const pages = Math.ceil(codeLimit / CS_PAGE_SIZE);
  const raw =
    SUPERBLOB_HEADER + BLOB_INDEX + CODEDIRECTORY_SIZE + ident.length + 1 + pages * HASH_SIZE;
  return Math.ceil(raw / 16) * 16;
}

function be32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}
function be64(b: Uint8Array, o: number, v: number): void {
  be32(b, o, Math.floor(v / 0x100000000));
  be32(b, o + 4, v >>> 0);
}

/**
 * Writes an ad-hoc, linker-signed code signature (what ld64 emits): an embedded-signature
 * SuperBlob holding one CodeDirectory with a SHA-256 hash of every 4 KiB page of the file
 * before the signature. macOS on arm64 refuses unsigned code; x86-64 accepts both.
 */
export function writeCodeSignature(
  buf: Uint8Array,
  sigOff: number,
  ident: string,
  execSegBase: number,
  execSegLimit: number,
  /** MH_EXECUTE: the exec segment is the main binary's (dylibs and bundles leave the flag 0). */
  mainBinary = true,
): void {
  const codeLimit = sigOff;
  const pages = Math.ceil(codeLimit / CS_PAGE_SIZE);
  const cdOff = SUPERBLOB_HEADER + BLOB_INDEX;
  const identOff = CODEDIRECTORY_SIZE;
  const hashOff = identOff + ident.length + 1;
  const cdLen = hashOff + pages * HASH_SIZE;
  const size = codeSignatureSize(codeLimit, ident);
  const s = buf.subarray(sigOff, sigOff + size);
  s.fill(0);
  be32(s, 0, CSMAGIC_EMBEDDED_SIGNATURE);
  be32(s, 4, cdOff + cdLen);
  be32(s, 8, 1);
  be32(s, 12, CSSLOT_CODEDIRECTORY);
  be32(s, 16, cdOff);
  const cd = s.subarray(cdOff);
  be32(cd, 0, CSMAGIC_CODEDIRECTORY);
  be32(cd, 4, cdLen);
  be32(cd, 8, CS_SUPPORTSEXECSEG);
  be32(cd, 12, CS_ADHOC | CS_LINKER_SIGNED);
  be32(cd, 16, hashOff);
  be32(cd, 20, identOff);
  be32(cd, 24, 0); // nSpecialSlots
  be32(cd, 28, pages); // nCodeSlots
  be32(cd, 32, codeLimit);
  cd[36] = HASH_SIZE;
  cd[37] = CS_HASHTYPE_SHA256;
  cd[38] = 0; // platform
  cd[39] = 12; // log2(page size)
  // spare2, scatterOffset, teamOffset, spare3, codeLimit64 stay 0.
  be64(cd, 64, execSegBase);
  be64(cd, 72, execSegLimit);
  be64(cd, 80, mainBinary ? CS_EXECSEG_MAIN_BINARY : 0);
  for (let i = 0; i < ident.length; i++) cd[identOff + i] = ident.charCodeAt(i);
  for (let p = 0; p < pages; p++) {
    const start = p * CS_PAGE_SIZE;
    const end = Math.min(start + CS_PAGE_SIZE, codeLimit);
    const h = createHash('sha256').update(buf.subarray(start, end)).digest();
    cd.set(h, hashOff + p * HASH_SIZE);
  }
}

function rd32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/** Checks a signature's page hashes against the file; returns problems (empty = valid). */
export function verifyCodeSignature(file: Uint8Array, sigOff: number, sigSize: number): string[] {
  const errs: string[] = [];
  if (sigOff + sigSize > file.length) return ['code signature extends past the end of the file'];
  const s = file.subarray(sigOff, sigOff + sigSize);
  if (rd32(s, 0) !== CSMAGIC_EMBEDDED_SIGNATURE) return ['code signature: bad SuperBlob magic'];
  const count = rd32(s, 8);
  for (let i = 0; i < count; i++) {
    if (rd32(s, 12 + i * 8) !== CSSLOT_CODEDIRECTORY) continue;
    const cdOff = rd32(s, 16 + i * 8);
    const cd = s.subarray(cdOff);
    if (rd32(cd, 0) !== CSMAGIC_CODEDIRECTORY) return ['code signature: bad CodeDirectory magic'];
    const hashOff = rd32(cd, 16);
    const nCode = rd32(cd, 28);
    const codeLimit = rd32(cd, 32);
    const hashSize = cd[36]!;
    const pageSize = 2 ** cd[39]!;
    if (cd[37] !== CS_HASHTYPE_SHA256 || hashSize !== 32) errs.push('code signature: not SHA-256');
    if (codeLimit !== sigOff)
      errs.push(
        `code signature: codeLimit 0x${codeLimit.toString(16)} != signature offset 0x${sigOff.toString(16)}`,
      );
    if (nCode !== Math.ceil(codeLimit / pageSize))
      errs.push('code signature: wrong number of page hashes');
    for (let p = 0; p < nCode; p++) {
      const start = p * pageSize;
      const h = createHash('sha256')
        .update(file.subarray(start, Math.min(start + pageSize, codeLimit)))
        .digest();
      const want = cd.subarray(hashOff + p * hashSize, hashOff + (p + 1) * hashSize);
      if (!Buffer.from(h).equals(Buffer.from(want)))
        errs.push(`code signature: page ${p} hash mismatch`);
    }
    return errs;
  }
  return ['code signature: no CodeDirectory'];
}

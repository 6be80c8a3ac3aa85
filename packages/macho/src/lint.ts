import { u32, u64 } from '@link/core';
import {
  LC_BUILD_VERSION,
  LC_CODE_SIGNATURE,
  LC_DATA_IN_CODE,
  LC_DYLD_CHAINED_FIXUPS,
  LC_DYLD_EXPORTS_TRIE,
  LC_DYLD_INFO,
  LC_DYLD_INFO_ONLY,
  LC_DYSYMTAB,
  LC_FUNCTION_STARTS,
  LC_ID_DYLIB,
  LC_LOAD_DYLINKER,
  LC_MAIN,
  LC_SEGMENT_64,
  LC_SYMTAB,
  LC_UUID,
  LC_VERSION_MIN_MACOSX,
  MH_BUNDLE,
  MH_DYLIB,
  MH_EXECUTE,
  MH_MAGIC_64,
  PAGE_SIZE,
  SECTION_TYPE,
  S_THREAD_LOCAL_ZEROFILL,
  S_ZEROFILL,
} from './constants.js';
import { verifyCodeSignature } from './codesign.js';

export interface LintResult {
  errors: string[];
  /** Load command ids in file order (for tests that compare against a reference linker). */
  commands: number[];
  segments: {
    name: string;
    vmaddr: number;
    vmsize: number;
    fileoff: number;
    filesize: number;
    initprot: number;
    maxprot: number;
  }[];
  signed: boolean;
}

function name16(b: Uint8Array, o: number): string {
  let s = '';
  for (let i = 0; i < 16 && b[o + i] !== 0; i++) s += String.fromCharCode(b[o + i]!);
  return s;
}

/**
 * Static checks for what dyld and the kernel require of a Mach-O image and machoload does not
 * check: header and load command consistency, LC_UUID and LC_BUILD_VERSION, segment order and
 * alignment, __LINKEDIT contents inside __LINKEDIT, and a code signature whose page hashes
 * match the file. Never throws on malformed input: every problem is an entry in `errors`.
 */
export function lintMacho(file: Uint8Array, opts: { requireSignature?: boolean } = {}): LintResult {
  const errors: string[] = [];
  const res: LintResult = { errors, commands: [], segments: [], signed: false };
  const err = (m: string) => errors.push(m);
  if (file.length < 32 || u32(file, 0) !== MH_MAGIC_64) {
    err('not a 64-bit Mach-O file');
    return res;
  }
  const filetype = u32(file, 12);
  if (filetype !== MH_EXECUTE && filetype !== MH_DYLIB && filetype !== MH_BUNDLE)
    err(`file type ${filetype} is not MH_EXECUTE, MH_DYLIB or MH_BUNDLE`);
  const ncmds = u32(file, 16);
  const sizeofcmds = u32(file, 20);
  if (32 + sizeofcmds > file.length) {
    err(`sizeofcmds ${sizeofcmds} extends past the end of the file`);
    return res;
  }
  let p = 32;
  let total = 0;
  let uuids = 0;
  let builds = 0;
  let main: number | null = null;
  let idDylibs = 0;
  let dylinkers = 0;
  const linkeditRefs: [string, number, number][] = [];
  let sig: [number, number] | null = null;
  for (let i = 0; i < ncmds; i++) {
    if (p + 8 > 32 + sizeofcmds) {
      err(`load command ${i} starts past sizeofcmds`);
      return res;
    }
    const cmd = u32(file, p);
    const size = u32(file, p + 4);
    res.commands.push(cmd);
    if (size < 8 || size % 8 !== 0)
      err(
        `load command ${i} (0x${cmd.toString(16)}): cmdsize ${size} is not a positive multiple of 8`,
      );
    if (size < 8 || p + size > 32 + sizeofcmds) {
      err(`load command ${i} (0x${cmd.toString(16)}) extends past sizeofcmds`);
      return res;
    }
    switch (cmd) {
      case LC_SEGMENT_64: {
        const seg = {
          name: name16(file, p + 8),
          vmaddr: u64(file, p + 24),
          vmsize: u64(file, p + 32),
          fileoff: u64(file, p + 40),
          filesize: u64(file, p + 48),
          maxprot: u32(file, p + 56),
          initprot: u32(file, p + 60),
        };
        res.segments.push(seg);
        const nsects = u32(file, p + 64);
        if (72 + nsects * 80 !== size)
          err(`${seg.name}: cmdsize ${size} does not match ${nsects} sections`);
        for (let s = 0; s < nsects && p + 72 + (s + 1) * 80 <= p + size; s++) {
          const q = p + 72 + s * 80;
          const sn = name16(file, q);
          const addr = u64(file, q + 32);
          const ssize = u64(file, q + 40);
          const off = u32(file, q + 48);
          const t = u32(file, q + 64) & SECTION_TYPE;
          if (addr < seg.vmaddr || addr + ssize > seg.vmaddr + seg.vmsize)
            err(`${seg.name},${sn}: outside its segment`);
          const zf = t === S_ZEROFILL || t === S_THREAD_LOCAL_ZEROFILL;
          if (!zf && ssize > 0 && off - seg.fileoff !== addr - seg.vmaddr)
            err(
              `${seg.name},${sn}: file offset 0x${off.toString(16)} inconsistent with its address 0x${addr.toString(16)}`,
            );
        }
        break;
      }
      case LC_UUID:
        uuids++;
        if (file.subarray(p + 8, p + 24).every((b) => b === 0)) err('LC_UUID is all zeros');
        break;
      case LC_BUILD_VERSION:
      case LC_VERSION_MIN_MACOSX:
        builds++;
        break;
      case LC_MAIN:
        main = u64(file, p + 8);
        break;
      case LC_ID_DYLIB:
        idDylibs++;
        if (u32(file, p + 8) < 24 || u32(file, p + 8) >= size || file[p + 24] === 0)
          err('LC_ID_DYLIB has no install name');
        break;
      case LC_LOAD_DYLINKER:
        dylinkers++;
        break;
      case LC_SYMTAB:
        linkeditRefs.push(['symbol table', u32(file, p + 8), u32(file, p + 12) * 16]);
        linkeditRefs.push(['string table', u32(file, p + 16), u32(file, p + 20)]);
        break;
      case LC_DYSYMTAB:
        linkeditRefs.push(['indirect symbol table', u32(file, p + 56), u32(file, p + 60) * 4]);
        break;
      case LC_DYLD_INFO:
      case LC_DYLD_INFO_ONLY:
        for (const [n, o] of [
          ['rebase', 8],
          ['bind', 16],
          ['weak bind', 24],
          ['lazy bind', 32],
          ['export', 40],
        ] as const)
          linkeditRefs.push([`${n} info`, u32(file, p + o), u32(file, p + o + 4)]);
        break;
      case LC_FUNCTION_STARTS:
      case LC_DATA_IN_CODE:
      case LC_DYLD_CHAINED_FIXUPS:
      case LC_DYLD_EXPORTS_TRIE:
        linkeditRefs.push([
          `load command 0x${cmd.toString(16)} data`,
          u32(file, p + 8),
          u32(file, p + 12),
        ]);
        break;
      case LC_CODE_SIGNATURE:
        sig = [u32(file, p + 8), u32(file, p + 12)];
        linkeditRefs.push(['code signature', sig[0], sig[1]]);
        break;
    }
    total += size;
    p += size;
  }
  if (total !== sizeofcmds) err(`sizeofcmds ${sizeofcmds} != sum of cmdsize ${total}`);
  if (uuids !== 1) err(`expected one LC_UUID, found ${uuids}`);
  if (builds < 1) err('no LC_BUILD_VERSION (or LC_VERSION_MIN_MACOSX)');
  // dyld identifies a dylib by LC_ID_DYLIB; only the main executable has an entry point and
  // names the dynamic linker; a dylib or bundle has no __PAGEZERO (it is mapped anywhere).
  if (filetype === MH_DYLIB && idDylibs !== 1)
    err(`MH_DYLIB needs exactly one LC_ID_DYLIB, found ${idDylibs}`);
  if (filetype !== MH_DYLIB && idDylibs > 0) err('LC_ID_DYLIB in an image that is not MH_DYLIB');
  if (filetype !== MH_EXECUTE && main !== null) err('LC_MAIN in an image that is not MH_EXECUTE');
  if (filetype !== MH_EXECUTE && dylinkers > 0)
    err('LC_LOAD_DYLINKER in an image that is not MH_EXECUTE');
  const segs = res.segments;
  if (segs.length === 0) err('no segments');
  else {
    const first = segs[0]!;
    if (filetype !== MH_EXECUTE) {
      if (first.name === '__PAGEZERO') err('__PAGEZERO in a dylib or bundle');
      if (first.name !== '__TEXT') err(`first segment is ${first.name}, not __TEXT`);
      else if (first.vmaddr !== 0) err('a dylib or bundle must start at address 0');
    } else if (first.name !== '__PAGEZERO') err(`first segment is ${first.name}, not __PAGEZERO`);
    else if (
      first.vmaddr !== 0 ||
      first.filesize !== 0 ||
      first.initprot !== 0 ||
      first.maxprot !== 0
    )
      err('__PAGEZERO must map address 0 with no file content and no access');
    const last = segs[segs.length - 1]!;
    if (last.name !== '__LINKEDIT') err(`last segment is ${last.name}, not __LINKEDIT`);
    let fileEnd = 0;
    let vmEnd = 0;
    for (const s of segs) {
      if (s.vmaddr % PAGE_SIZE !== 0)
        err(`${s.name}: vmaddr 0x${s.vmaddr.toString(16)} is not page-aligned`);
      if (s.fileoff % PAGE_SIZE !== 0)
        err(`${s.name}: fileoff 0x${s.fileoff.toString(16)} is not page-aligned`);
      if (s.filesize > s.vmsize) err(`${s.name}: filesize exceeds vmsize`);
      if (s.fileoff + s.filesize > file.length) err(`${s.name}: extends past the end of the file`);
      if (s.vmaddr < vmEnd) err(`${s.name}: overlaps the previous segment in memory`);
      if (s.filesize > 0 && s.fileoff < fileEnd)
        err(`${s.name}: overlaps the previous segment in the file`);
      if (s.filesize > 0 && s.name !== '__PAGEZERO' && s.fileoff !== fileEnd)
        err(
          `${s.name}: file offset 0x${s.fileoff.toString(16)} leaves a gap after 0x${fileEnd.toString(16)}`,
        );
      vmEnd = Math.max(vmEnd, s.vmaddr + s.vmsize);
      if (s.filesize > 0) fileEnd = s.fileoff + s.filesize;
    }
    const text = segs.find((s) => s.name === '__TEXT');
    if (!text) err('no __TEXT segment');
    else {
      if (text.fileoff !== 0) err('__TEXT must start at file offset 0 (it maps the header)');
      if (main !== null && (main < 32 + sizeofcmds || main >= text.filesize))
        err(`LC_MAIN entryoff 0x${main.toString(16)} is not inside __TEXT`);
    }
    if (last.name === '__LINKEDIT') {
      if (last.fileoff + last.filesize !== file.length)
        err('__LINKEDIT does not end at the end of the file');
      for (const [what, off, size] of linkeditRefs) {
        if (size === 0) continue;
        if (off < last.fileoff || off + size > last.fileoff + last.filesize)
          err(`${what} (0x${off.toString(16)}+0x${size.toString(16)}) is not inside __LINKEDIT`);
      }
    }
  }
  if (sig) {
    res.signed = true;
    if (sig[0] % 16 !== 0) err('code signature is not 16-byte aligned');
    for (const e of verifyCodeSignature(file, sig[0], sig[1])) err(e);
  } else if (opts.requireSignature) err('no LC_CODE_SIGNATURE');
  return res;
}

import * as fs from 'node:fs';
import { LinkError, type LinkConfig } from '@link/core';
import type { ElfArch } from '@link/elf';
import { amd64Elf } from '@link/arch-amd64/elf';
import { i386Elf } from '@link/arch-386/elf';
import { armElf } from '@link/arch-arm/elf';

/**
 * The static registry of targets (no runtime discovery): which arch plug-in serves which `-m`
 * emulation and which ELF e_machine.
 */
const ELF_ARCHES = [amd64Elf, i386Elf, armElf] satisfies ElfArch[];

const EMULATIONS: Record<string, string> = {
  elf_x86_64: 'amd64',
  elf_i386: '386',
  armelf_linux_eabi: 'arm',
  armelfb_linux_eabi: 'arm',
};

/** Picks the arch from `-m`, else from the first ELF input's e_machine (mold's rule). */
export function selectElfArch(cfg: LinkConfig): ElfArch {
  if (cfg.emulation !== null) {
    const name = EMULATIONS[cfg.emulation];
    const arch = ELF_ARCHES.find((a) => a.name === name);
    if (!arch) throw new LinkError(`unknown or unsupported emulation: ${cfg.emulation}`);
    return arch;
  }
  for (const spec of cfg.inputs) {
    if (spec.kind !== 'file') continue;
    let fd: number;
    try {
      fd = fs.openSync(spec.path, 'r');
    } catch {
      continue; // reported when the file is read
    }
    const head = new Uint8Array(20);
    fs.readSync(fd, head, 0, 20, 0);
    fs.closeSync(fd);
    if (head[0] !== 0x7f || head[1] !== 0x45) continue;
    const machine = head[18]! | (head[19]! << 8);
    const arch = ELF_ARCHES.find((a) => a.machine === machine);
    if (!arch) throw new LinkError(`${spec.path}: unsupported machine type ${machine}`);
    return arch;
  }
  return ELF_ARCHES[0]!;
}

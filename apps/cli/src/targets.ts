import * as fs from 'node:fs';
import { LinkError, type LinkConfig } from '@link/core';
import { EM_386, EM_ARM, EM_X86_64, type ElfArch } from '@link/elf';
import { amd64Elf } from '@link/arch-amd64/elf';

interface ElfArchEntry {
  name: string;
  machine: number;
  load(): Promise<ElfArch>;
}

/**
 * The static registry of targets (no runtime discovery): which arch plug-in serves which `-m`
 * emulation and which ELF e_machine. amd64 is part of the main bundle; the other arches are loaded
 * when a link needs them (in the shipped CLI, bundles of their own: see build.mjs).
 */
const ELF_ARCHES: readonly ElfArchEntry[] = [
  { name: 'amd64', machine: EM_X86_64, load: async () => amd64Elf },
  { name: '386', machine: EM_386, load: async () => (await import('@link/arch-386/elf')).i386Elf },
  { name: 'arm', machine: EM_ARM, load: async () => (await import('@link/arch-arm/elf')).armElf },
];

const EMULATIONS: Record<string, string> = {
  elf_x86_64: 'amd64',
  elf_i386: '386',
  armelf_linux_eabi: 'arm',
  armelfb_linux_eabi: 'arm',
};

/** Picks the arch from `-m`, else from the first ELF input's e_machine (mold's rule). */
export async function selectElfArch(cfg: LinkConfig): Promise<ElfArch> {
  if (cfg.emulation !== null) {
    const name = EMULATIONS[cfg.emulation];
    const arch = ELF_ARCHES.find((a) => a.name === name);
    if (!arch) throw new LinkError(`unknown or unsupported emulation: ${cfg.emulation}`);
    return arch.load();
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
    return arch.load();
  }
  return ELF_ARCHES[0]!.load();
}

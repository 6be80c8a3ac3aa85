/**
 * @link/macho — Mach-O reader and writer for darwin/amd64. Interface only until its issue:
 * the per-arch half an arch package implements (as `ElfArch` does for ELF).
 */
export interface MachoArch {
  /** Mach-O cputype (CPU_TYPE_X86_64 = 0x01000007). */
  cputype: number;
  cpusubtype: number;
  /** Spec name of an `X86_64_RELOC_*` type. */
  relocName(type: number): string;
}

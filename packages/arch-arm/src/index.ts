import type { ArchPlugin } from '@link/core';

/** The 32-bit ARM (armhf, EABI5) arch: format-neutral facts. Its ELF half is `@link/arch-arm/elf`. */
export const arm = {
  name: 'arm',
  ptrSize: 4,
  bigEndian: false,
  pageSize: 0x1000,
} as const satisfies ArchPlugin;

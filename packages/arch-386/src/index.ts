import type { ArchPlugin } from '@link/core';

/** The 386 (i686) arch: format-neutral facts. Its ELF half arrives with the 386/ARM issue. */
export const i386 = {
  name: '386',
  ptrSize: 4,
  bigEndian: false,
  pageSize: 0x1000,
} as const satisfies ArchPlugin;

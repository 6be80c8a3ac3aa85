/**
 * The amd64 (x86-64) arch plug-in. Format halves live behind subpath exports
 * (`@link/arch-amd64/elf`) so that importing this entry pulls in no format code.
 */
import type { ArchPlugin } from '@link/core';

export const amd64 = {
  name: 'amd64',
  ptrSize: 8,
  bigEndian: false,
  pageSize: 0x1000,
} as const satisfies ArchPlugin;

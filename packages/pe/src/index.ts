/**
 * @link/pe — PE/COFF reader and writer for Windows amd64 and 386. Interface only until its
 * issue: the per-arch half an arch package implements.
 */
export interface PeArch {
  /** COFF machine (IMAGE_FILE_MACHINE_AMD64 = 0x8664, IMAGE_FILE_MACHINE_I386 = 0x14c). */
  machine: number;
  /** Spec name of an `IMAGE_REL_*` type. */
  relocName(type: number): string;
}

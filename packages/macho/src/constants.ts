/**
 * Mach-O constants under their spec names (<mach-o/loader.h>, <mach-o/nlist.h>,
 * <mach-o/reloc.h>, <mach-o/x86_64/reloc.h>, <mach-o/fixup-chains.h>, <Kernel/kern/cs_blobs.h>).
 */
export const MH_MAGIC_64 = 0xfeedfacf;
/** 32-bit Mach-O (i386 objects, read only). */
export const MH_MAGIC = 0xfeedface;
export const CPU_TYPE_I386 = 7;
export const CPU_TYPE_X86_64 = 0x01000007;
export const CPU_SUBTYPE_X86_64_ALL = 3;
export const CPU_SUBTYPE_LIB64 = 0x80000000;

export const MH_OBJECT = 0x1;
export const MH_EXECUTE = 0x2;
export const MH_DYLIB = 0x6;
export const MH_BUNDLE = 0x8;

export const MH_NOUNDEFS = 0x1;
export const MH_DYLDLINK = 0x4;
export const MH_TWOLEVEL = 0x80;
export const MH_SUBSECTIONS_VIA_SYMBOLS = 0x2000;
export const MH_WEAK_DEFINES = 0x8000;
export const MH_BINDS_TO_WEAK = 0x10000;
export const MH_PIE = 0x200000;
export const MH_NO_REEXPORTED_DYLIBS = 0x100000;
export const MH_HAS_TLV_DESCRIPTORS = 0x800000;

/** `x | LC_REQ_DYLD` would be a negative int32 in JS; `>>> 0` keeps the commands unsigned, as `u32` reads them. */
export const LC_REQ_DYLD = 0x80000000;
export const LC_SEGMENT = 0x1;
export const LC_SEGMENT_64 = 0x19;
export const LC_SYMTAB = 0x2;
export const LC_DYSYMTAB = 0xb;
export const LC_LOAD_DYLIB = 0xc;
export const LC_LOAD_WEAK_DYLIB = (0x18 | LC_REQ_DYLD) >>> 0;
export const LC_REEXPORT_DYLIB = (0x1f | LC_REQ_DYLD) >>> 0;
export const LC_ID_DYLIB = 0xd;
export const LC_LOAD_DYLINKER = 0xe;
export const LC_UUID = 0x1b;
export const LC_CODE_SIGNATURE = 0x1d;
export const LC_DYLD_INFO = 0x22;
export const LC_DYLD_INFO_ONLY = (0x22 | LC_REQ_DYLD) >>> 0;
export const LC_FUNCTION_STARTS = 0x26;
export const LC_MAIN = (0x28 | LC_REQ_DYLD) >>> 0;
export const LC_DATA_IN_CODE = 0x29;
export const LC_SOURCE_VERSION = 0x2a;
export const LC_LINKER_OPTION = 0x2d;
export const LC_BUILD_VERSION = 0x32;
export const LC_DYLD_EXPORTS_TRIE = (0x33 | LC_REQ_DYLD) >>> 0;
export const LC_DYLD_CHAINED_FIXUPS = (0x34 | LC_REQ_DYLD) >>> 0;
export const LC_VERSION_MIN_MACOSX = 0x24;

export const VM_PROT_READ = 1;
export const VM_PROT_WRITE = 2;
export const VM_PROT_EXECUTE = 4;

/** Section type (low 8 bits of `flags`). */
export const SECTION_TYPE = 0xff;
export const S_REGULAR = 0x0;
export const S_ZEROFILL = 0x1;
export const S_CSTRING_LITERALS = 0x2;
export const S_4BYTE_LITERALS = 0x3;
export const S_8BYTE_LITERALS = 0x4;
export const S_LITERAL_POINTERS = 0x5;
export const S_NON_LAZY_SYMBOL_POINTERS = 0x6;
export const S_LAZY_SYMBOL_POINTERS = 0x7;
export const S_SYMBOL_STUBS = 0x8;
export const S_MOD_INIT_FUNC_POINTERS = 0x9;
export const S_16BYTE_LITERALS = 0xe;
export const S_THREAD_LOCAL_REGULAR = 0x11;
export const S_THREAD_LOCAL_ZEROFILL = 0x12;
export const S_THREAD_LOCAL_VARIABLES = 0x13;
export const S_THREAD_LOCAL_VARIABLE_POINTERS = 0x14;
export const S_THREAD_LOCAL_INIT_FUNCTION_POINTERS = 0x15;
export const S_ATTR_PURE_INSTRUCTIONS = 0x80000000;
export const S_ATTR_NO_DEAD_STRIP = 0x10000000;
export const S_ATTR_LIVE_SUPPORT = 0x08000000;
export const S_ATTR_DEBUG = 0x02000000;
export const S_ATTR_SOME_INSTRUCTIONS = 0x00000400;

/** nlist n_type bits. */
export const N_STAB = 0xe0;
export const N_PEXT = 0x10;
export const N_TYPE = 0x0e;
export const N_EXT = 0x01;
export const N_UNDF = 0x0;
export const N_ABS = 0x2;
export const N_SECT = 0xe;
export const N_INDR = 0xa;
/** nlist n_desc bits. */
export const N_NO_DEAD_STRIP = 0x20;
export const N_WEAK_REF = 0x40;
export const N_WEAK_DEF = 0x80;
export const REFERENCED_DYNAMICALLY = 0x10;
export const N_ALT_ENTRY = 0x200;

export const INDIRECT_SYMBOL_LOCAL = 0x80000000;
export const INDIRECT_SYMBOL_ABS = 0x40000000;

/** x86-64 relocation types (<mach-o/x86_64/reloc.h>). */
export const X86_64_RELOC_UNSIGNED = 0;
export const X86_64_RELOC_SIGNED = 1;
export const X86_64_RELOC_BRANCH = 2;
export const X86_64_RELOC_GOT_LOAD = 3;
export const X86_64_RELOC_GOT = 4;
export const X86_64_RELOC_SUBTRACTOR = 5;
export const X86_64_RELOC_SIGNED_1 = 6;
export const X86_64_RELOC_SIGNED_2 = 7;
export const X86_64_RELOC_SIGNED_4 = 8;
export const X86_64_RELOC_TLV = 9;

export const X86_64_RELOC_NAMES = [
  'X86_64_RELOC_UNSIGNED',
  'X86_64_RELOC_SIGNED',
  'X86_64_RELOC_BRANCH',
  'X86_64_RELOC_GOT_LOAD',
  'X86_64_RELOC_GOT',
  'X86_64_RELOC_SUBTRACTOR',
  'X86_64_RELOC_SIGNED_1',
  'X86_64_RELOC_SIGNED_2',
  'X86_64_RELOC_SIGNED_4',
  'X86_64_RELOC_TLV',
] as const;

/** i386 ("generic") relocation types (<mach-o/reloc.h>). */
export const GENERIC_RELOC_VANILLA = 0;
export const GENERIC_RELOC_PAIR = 1;
export const GENERIC_RELOC_SECTDIFF = 2;
export const GENERIC_RELOC_PB_LA_PTR = 3;
export const GENERIC_RELOC_LOCAL_SECTDIFF = 4;
export const GENERIC_RELOC_TLV = 5;
/** `r_address` bit 31: a `scattered_relocation_info` (target given by address, not symbol). */
export const R_SCATTERED = 0x80000000;

export const GENERIC_RELOC_NAMES = [
  'GENERIC_RELOC_VANILLA',
  'GENERIC_RELOC_PAIR',
  'GENERIC_RELOC_SECTDIFF',
  'GENERIC_RELOC_PB_LA_PTR',
  'GENERIC_RELOC_LOCAL_SECTDIFF',
  'GENERIC_RELOC_TLV',
] as const;

/** dyld info opcodes (<mach-o/loader.h>). */
export const REBASE_TYPE_POINTER = 1;
export const REBASE_OPCODE_DONE = 0x00;
export const REBASE_OPCODE_SET_TYPE_IMM = 0x10;
export const REBASE_OPCODE_SET_SEGMENT_AND_OFFSET_ULEB = 0x20;
export const REBASE_OPCODE_ADD_ADDR_ULEB = 0x30;
export const REBASE_OPCODE_ADD_ADDR_IMM_SCALED = 0x40;
export const REBASE_OPCODE_DO_REBASE_IMM_TIMES = 0x50;
export const REBASE_OPCODE_DO_REBASE_ULEB_TIMES = 0x60;
export const REBASE_OPCODE_DO_REBASE_ADD_ADDR_ULEB = 0x70;
export const REBASE_OPCODE_DO_REBASE_ULEB_TIMES_SKIPPING_ULEB = 0x80;

export const BIND_TYPE_POINTER = 1;
export const BIND_SPECIAL_DYLIB_MAIN_EXECUTABLE = -1;
export const BIND_SPECIAL_DYLIB_FLAT_LOOKUP = -2;
/** n_desc library ordinals (<mach-o/nlist.h> GET_LIBRARY_ORDINAL) for the special bind ordinals. */
export const EXECUTABLE_ORDINAL = 0xff;
export const DYNAMIC_LOOKUP_ORDINAL = 0xfe;
export const BIND_SYMBOL_FLAGS_WEAK_IMPORT = 0x1;
export const BIND_OPCODE_DONE = 0x00;
export const BIND_OPCODE_SET_DYLIB_ORDINAL_IMM = 0x10;
export const BIND_OPCODE_SET_DYLIB_ORDINAL_ULEB = 0x20;
export const BIND_OPCODE_SET_DYLIB_SPECIAL_IMM = 0x30;
export const BIND_OPCODE_SET_SYMBOL_TRAILING_FLAGS_IMM = 0x40;
export const BIND_OPCODE_SET_TYPE_IMM = 0x50;
export const BIND_OPCODE_SET_ADDEND_SLEB = 0x60;
export const BIND_OPCODE_SET_SEGMENT_AND_OFFSET_ULEB = 0x70;
export const BIND_OPCODE_ADD_ADDR_ULEB = 0x80;
export const BIND_OPCODE_DO_BIND = 0x90;
export const BIND_OPCODE_DO_BIND_ADD_ADDR_ULEB = 0xa0;
export const BIND_OPCODE_DO_BIND_ADD_ADDR_IMM_SCALED = 0xb0;
export const BIND_OPCODE_DO_BIND_ULEB_TIMES_SKIPPING_ULEB = 0xc0;

export const EXPORT_SYMBOL_FLAGS_KIND_REGULAR = 0x0;

/** Chained fixups (<mach-o/fixup-chains.h>). */
export const DYLD_CHAINED_PTR_64_OFFSET = 6;
export const DYLD_CHAINED_IMPORT = 1;
export const DYLD_CHAINED_PTR_START_NONE = 0xffff;

/** LC_BUILD_VERSION. */
export const PLATFORM_MACOS = 1;
export const TOOL_LD = 3;

/** Code signing (<kern/cs_blobs.h>); big-endian on disk. */
export const CSMAGIC_EMBEDDED_SIGNATURE = 0xfade0cc0;
export const CSMAGIC_CODEDIRECTORY = 0xfade0c02;
export const CSSLOT_CODEDIRECTORY = 0;
export const CS_ADHOC = 0x2;
export const CS_LINKER_SIGNED = 0x20000;
export const CS_HASHTYPE_SHA256 = 2;
export const CS_EXECSEG_MAIN_BINARY = 0x1;
export const CS_SUPPORTSEXECSEG = 0x20400;

export const PAGE_SIZE = 0x1000;
/** Default image base of a 64-bit executable (after the 4 GiB __PAGEZERO). */
export const DEFAULT_IMAGE_BASE = 0x100000000;

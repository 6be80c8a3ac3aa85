/** ELF constants, with the names the gABI gives them. */
export const ELFMAG = 0x464c457f;
export const ELFCLASS32 = 1;
export const ELFCLASS64 = 2;
export const ELFDATA2LSB = 1;
export const EV_CURRENT = 1;
export const ELFOSABI_NONE = 0;
export const ELFOSABI_GNU = 3;

export const ET_REL = 1;
export const ET_EXEC = 2;
export const ET_DYN = 3;

export const EM_386 = 3;
export const EM_ARM = 40;
export const EM_X86_64 = 62;

export const SHN_UNDEF = 0;
export const SHN_LORESERVE = 0xff00;
export const SHN_ABS = 0xfff1;
export const SHN_COMMON = 0xfff2;
export const SHN_XINDEX = 0xffff;

export const SHT_NULL = 0;
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_RELA = 4;
export const SHT_HASH = 5;
export const SHT_DYNAMIC = 6;
export const SHT_NOTE = 7;
export const SHT_NOBITS = 8;
export const SHT_REL = 9;
export const SHT_DYNSYM = 11;
export const SHT_INIT_ARRAY = 14;
export const SHT_FINI_ARRAY = 15;
export const SHT_PREINIT_ARRAY = 16;
export const SHT_GROUP = 17;
export const SHT_SYMTAB_SHNDX = 18;
export const SHT_LLVM_ADDRSIG = 0x6fff4c03;
/** `.deplibs`: NUL-separated libraries an object asks to be linked with (LLVM). */
export const SHT_LLVM_DEPENDENT_LIBRARIES = 0x6fff4c04;
/** The section objects carry Go cgo directives in (the format of `go tool cgo -dynout`). */
export const CGO_DIRECTIVES_SECTION = '.go.cgo_directives';
export const SHT_GNU_HASH = 0x6ffffff6;
export const SHT_X86_64_UNWIND = 0x70000001;

export const SHF_WRITE = 0x1;
export const SHF_ALLOC = 0x2;
export const SHF_EXECINSTR = 0x4;
export const SHF_MERGE = 0x10;
export const SHF_STRINGS = 0x20;
export const SHF_INFO_LINK = 0x40;
export const SHF_LINK_ORDER = 0x80;
export const SHF_GROUP = 0x200;
export const SHF_TLS = 0x400;
export const SHF_COMPRESSED = 0x800;
export const SHF_GNU_RETAIN = 0x200000;
export const SHF_EXCLUDE = 0x80000000;

export const GRP_COMDAT = 1;

export const STB_LOCAL = 0;
export const STB_GLOBAL = 1;
export const STB_WEAK = 2;
export const STB_GNU_UNIQUE = 10;

export const STT_NOTYPE = 0;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const STT_SECTION = 3;
export const STT_FILE = 4;
export const STT_COMMON = 5;
export const STT_TLS = 6;
export const STT_GNU_IFUNC = 10;

export const PT_NULL = 0;
export const PT_LOAD = 1;
export const PT_DYNAMIC = 2;
export const PT_INTERP = 3;
export const PT_NOTE = 4;
export const PT_PHDR = 6;
export const PT_TLS = 7;
export const PT_GNU_EH_FRAME = 0x6474e550;
export const PT_GNU_STACK = 0x6474e551;
export const PT_GNU_RELRO = 0x6474e552;
export const PT_GNU_PROPERTY = 0x6474e553;

export const PF_X = 1;
export const PF_W = 2;
export const PF_R = 4;

export const NT_GNU_BUILD_ID = 3;

export const ELF64_EHDR_SIZE = 64;
export const ELF64_PHDR_SIZE = 56;
export const ELF64_SHDR_SIZE = 64;
export const ELF64_SYM_SIZE = 24;
export const ELF64_RELA_SIZE = 24;
export const ELF32_EHDR_SIZE = 52;
export const ELF32_SHDR_SIZE = 40;
export const ELF32_SYM_SIZE = 16;

// Shared objects: program headers, the dynamic section and symbol versioning (GNU extensions).
export const ELF32_PHDR_SIZE = 32;
export const ELF64_DYN_SIZE = 16;
export const ELF32_DYN_SIZE = 8;
/** Elf32_Verdef and Elf64_Verdef have the same layout: 20 bytes. */
export const ELF_VERDEF_SIZE = 20;
export const ELF_VERDAUX_SIZE = 8;
export const PN_XNUM = 0xffff;

export const SHT_GNU_verdef = 0x6ffffffd;
export const SHT_GNU_verneed = 0x6ffffffe;
export const SHT_GNU_versym = 0x6fffffff;

export const STV_DEFAULT = 0;
export const STV_INTERNAL = 1;
export const STV_HIDDEN = 2;
export const STV_PROTECTED = 3;

export const DT_NULL = 0;
export const DT_NEEDED = 1;
export const DT_HASH = 4;
export const DT_STRTAB = 5;
export const DT_SYMTAB = 6;
export const DT_STRSZ = 10;
export const DT_SYMENT = 11;
export const DT_SONAME = 14;
export const DT_GNU_HASH = 0x6ffffef5;
export const DT_VERSYM = 0x6ffffff0;
export const DT_VERDEF = 0x6ffffffc;
export const DT_VERDEFNUM = 0x6ffffffd;
export const DT_VERNEED = 0x6ffffffe;
export const DT_VERNEEDNUM = 0x6fffffff;

export const VER_DEF_CURRENT = 1;
export const VER_FLG_BASE = 0x1;
export const VER_FLG_WEAK = 0x2;
export const VER_NDX_LOCAL = 0;
export const VER_NDX_GLOBAL = 1;
/** In a .gnu.version entry: the symbol's version is not the default one (`foo@V1`, not `foo@@V1`). */
export const VERSYM_HIDDEN = 0x8000;

// Dynamic section tags and flags used when writing (gABI "Dynamic Section"; GNU extensions).
export const DT_PLTRELSZ = 2;
export const DT_PLTGOT = 3;
export const DT_RELA = 7;
export const DT_RELASZ = 8;
export const DT_RELAENT = 9;
export const DT_INIT = 12;
export const DT_FINI = 13;
export const DT_RPATH = 15;
export const DT_SYMBOLIC = 16;
export const DT_REL = 17;
export const DT_RELSZ = 18;
export const DT_RELENT = 19;
export const DT_PLTREL = 20;
export const DT_DEBUG = 21;
export const DT_TEXTREL = 22;
export const DT_JMPREL = 23;
export const DT_BIND_NOW = 24;
export const DT_INIT_ARRAY = 25;
export const DT_FINI_ARRAY = 26;
export const DT_INIT_ARRAYSZ = 27;
export const DT_FINI_ARRAYSZ = 28;
export const DT_RUNPATH = 29;
export const DT_FLAGS = 30;
export const DT_PREINIT_ARRAY = 32;
export const DT_PREINIT_ARRAYSZ = 33;
export const DT_RELACOUNT = 0x6ffffff9;
export const DT_RELCOUNT = 0x6ffffffa;
export const DT_FLAGS_1 = 0x6ffffffb;
export const DF_SYMBOLIC = 0x2;
export const DF_TEXTREL = 0x4;
export const DF_BIND_NOW = 0x8;
export const DF_STATIC_TLS = 0x10;
export const DF_1_NOW = 0x1;
export const DF_1_PIE = 0x8000000;
export const ELF_VERNEED_SIZE = 16;
export const ELF_VERNAUX_SIZE = 16;
export const DF_ORIGIN = 0x1;
export const DF_1_NODELETE = 0x8;
export const DF_1_ORIGIN = 0x80;
export const DF_1_NOOPEN = 0x40;

/** Processor-specific (ARM EHABI): the unwind index table section and its segment. */
export const SHT_ARM_EXIDX = 0x70000001;
export const PT_ARM_EXIDX = 0x70000001;

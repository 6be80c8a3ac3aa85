/* tslink copy of /work/shared/tools/macho/machoload.c, extended for what tslink's Mach-O
 * output uses and the original lacks: S_MOD_INIT_FUNC_POINTERS initializers (run before main,
 * with argc/argv/envp/apple), thread-local variables (S_THREAD_LOCAL_VARIABLES descriptors:
 * one TLS block per image from __thread_data/__thread_bss, and a `__tlv_bootstrap` thunk that
 * keeps dyld's convention of clobbering only %rax), and more than one image:
 * - LC_LOAD_DYLIB of a real MH_DYLIB: looked up by its install name's base name in the
 *   colon-separated dirs of MACHOLOAD_LIBRARY_PATH, then by the install name as a path; a
 *   dylib not found there whose name contains "libSystem" is the host "libSystem" below;
 * - `_dlopen`/`_dlsym`/`_dlerror` in the host "libSystem": dlopen maps a MH_BUNDLE or MH_DYLIB
 *   anywhere, loads what it needs, applies its fixups and runs its initializers; dlsym takes
 *   the C name (no leading underscore, as on macOS) and searches that image's export trie;
 * - binds by dylib ordinal (two-level: that dylib's export trie, or the host for libSystem),
 *   BIND_SPECIAL_DYLIB_MAIN_EXECUTABLE (the executable's exports) and flat lookup (the
 *   executable, then every loaded image in load order, then the host), with weak imports left
 *   0 when nothing defines them.
 *
 * machoload: tiny test loader that runs x86-64 Mach-O executables on Linux.
 * Scope: freestanding test programs only. Maps LC_SEGMENT_64 segments (with a slide),
 * applies LC_DYLD_INFO(_ONLY) rebase + bind + lazy-bind opcodes, resolves imported
 * symbols against a tiny host "libSystem" table (macOS x86-64 uses the SysV ABI, so
 * plain C functions work), emulates raw XNU BSD syscalls (0x2000000|n) through a
 * seccomp SIGSYS trap, and calls the LC_MAIN entry point. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <signal.h>
#include <ucontext.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/audit.h>
#include <stddef.h>

#define MH_MAGIC_64 0xfeedfacf
#define LC_SEGMENT_64 0x19
#define LC_MAIN 0x80000028
#define LC_DYLD_INFO 0x22
#define LC_DYLD_INFO_ONLY 0x80000022
#define LC_UNIXTHREAD 0x5
#define LC_DYLD_CHAINED_FIXUPS 0x80000034
#define LC_DYLD_EXPORTS_TRIE 0x80000033
#define LC_LOAD_DYLIB 0xc
#define MH_EXECUTE 0x2
#define MH_DYLIB 0x6
#define MH_BUNDLE 0x8

struct mh64 { uint32_t magic, cputype, cpusubtype, filetype, ncmds, sizeofcmds, flags, reserved; };
struct lc { uint32_t cmd, cmdsize; };
struct seg64 { uint32_t cmd, cmdsize; char segname[16]; uint64_t vmaddr, vmsize, fileoff, filesize; int32_t maxprot, initprot; uint32_t nsects, flags; };
struct dyldinfo { uint32_t cmd, cmdsize, rebase_off, rebase_size, bind_off, bind_size, weak_bind_off, weak_bind_size, lazy_bind_off, lazy_bind_size, export_off, export_size; };
struct sect64 { char sectname[16], segname[16]; uint64_t addr, size; uint32_t offset, align, reloff, nreloc, flags, r1, r2, r3; };
struct entry { uint32_t cmd, cmdsize; uint64_t entryoff, stacksize; };
struct linkedit { uint32_t cmd, cmdsize, dataoff, datasize; };


struct image {
  const char *path; uint8_t *file; size_t filesz;
  struct mh64 *h;
  struct seg64 *segs[32]; int nsegs;
  uint64_t slide;            /* added to every vmaddr */
  uint64_t base;             /* where the Mach header is (the __TEXT segment) */
  struct dyldinfo *di; struct linkedit *chained, *trie; struct entry *ent;
  struct image *deps[32]; int ndeps;   /* by LC_LOAD_DYLIB ordinal - 1; NULL = host libSystem */
};
static struct image *images[64]; static int nimages;   /* load order: the executable first */
static int g_argc; static char **g_argv, **g_envp;
static char *apple[] = { "executable_path=machoload", NULL };
static const char *dl_error;

static void die(const char *m) { fprintf(stderr, "machoload: %s\n", m); exit(127); }
static void die2(const char *m, const char *what) { fprintf(stderr, "machoload: %s: %s\n", m, what); exit(127); }
static uint64_t uleb(const uint8_t **p) { uint64_t r = 0; int s = 0; uint8_t b; do { b = *(*p)++; r |= (uint64_t)(b & 0x7f) << s; s += 7; } while (b & 0x80); return r; }
static int64_t sleb(const uint8_t **p) { int64_t r = 0; int s = 0; uint8_t b; do { b = *(*p)++; r |= (int64_t)(b & 0x7f) << s; s += 7; } while (b & 0x80); if (s < 64 && (b & 0x40)) r |= -((int64_t)1 << s); return r; }

/* ---- host "libSystem" ---- */
static long h_write(int fd, const void *b, size_t n) { return write(fd, b, n); }
static void h_exit(int c) { fflush(stdout); _exit(c); }
static int h_puts(const char *s) { int r = puts(s); fflush(stdout); return r; }
/* TLV thunk: descriptor {thunk, key, offset} in %rdi; key holds the TLS block's address.
 * dyld's TLV convention: return the variable's address in %rax, preserve every other register. */
extern char h_tlv_bootstrap[];
__asm__(".text\n.globl h_tlv_bootstrap\nh_tlv_bootstrap:\n movq 8(%rdi), %rax\n addq 16(%rdi), %rax\n ret\n");
static void h_stub_binder(void) { die("dyld_stub_binder called: lazy binding should have been resolved eagerly"); }
static void *h_dlopen(const char *path, int mode);
static void *h_dlsym(void *handle, const char *name);
static const char *h_dlerror(void) { const char *e = dl_error; dl_error = NULL; return e; }
static struct { const char *name; void *fn; } host[] = {
  { "_write", (void *)h_write }, { "_exit", (void *)h_exit }, { "_puts", (void *)h_puts },
  { "_malloc", (void *)malloc }, { "_free", (void *)free }, { "dyld_stub_binder", (void *)h_stub_binder },
  { "__tlv_bootstrap", (void *)h_tlv_bootstrap },
  { "_dlopen", (void *)h_dlopen }, { "_dlsym", (void *)h_dlsym }, { "_dlerror", (void *)h_dlerror },
};
static void *host_lookup(const char *n) {
  for (size_t i = 0; i < sizeof host / sizeof *host; i++) if (!strcmp(host[i].name, n)) return host[i].fn;
  return NULL;
}

/* Export trie walk (<mach-o/loader.h> "export trie"): follows the edge whose label is a prefix
 * of what is left of the name; bounded by the trie's size so a bad trie cannot loop. */
static int image_export(struct image *im, const char *sym, uint64_t *addr) {
  if (!im->trie || !im->trie->datasize) return 0;
  const uint8_t *t = im->file + im->trie->dataoff, *end = t + im->trie->datasize, *p = t;
  for (uint32_t steps = 0; steps < im->trie->datasize; steps++) {
    if (p >= end) return 0;
    uint64_t term = uleb(&p);
    if (*sym == 0) {
      if (!term) return 0;
      uint64_t flags = uleb(&p);
      if (flags & 0x8) return 0; /* EXPORT_SYMBOL_FLAGS_REEXPORT: not produced by tslink */
      *addr = im->base + uleb(&p);
      return 1;
    }
    p += term;
    if (p >= end) return 0;
    uint8_t n = *p++; const uint8_t *next = NULL; size_t taken = 0;
    for (uint8_t i = 0; i < n && p < end; i++) {
      const char *label = (const char *)p; size_t len = strnlen(label, end - p);
      p += len + 1;
      uint64_t child = uleb(&p);
      if (!next && !strncmp(label, sym, len)) { next = t + child; taken = len; }
    }
    if (!next) return 0;
    sym += taken; p = next;
  }
  return 0;
}
/* Flat lookup: the executable, then every image in load order, then the host. */
static uint64_t lookup_flat(const char *name, int with_host) {
  uint64_t a;
  for (int i = 0; i < nimages; i++) if (image_export(images[i], name, &a)) return a;
  return with_host ? (uint64_t)host_lookup(name) : 0;
}
static uint64_t resolve(struct image *im, int ordinal, const char *name, int weak) {
  uint64_t a = 0;
  if (ordinal == -2) a = lookup_flat(name, 1);                    /* BIND_SPECIAL_DYLIB_FLAT_LOOKUP */
  else if (ordinal == -1) { if (!image_export(images[0], name, &a)) a = 0; } /* MAIN_EXECUTABLE */
  else if (ordinal == 0) { if (!image_export(im, name, &a)) a = 0; }         /* SELF */
  else if (ordinal > im->ndeps) die2("bind to a dylib ordinal past the LC_LOAD_DYLIBs", name);
  else if (im->deps[ordinal - 1]) { if (!image_export(im->deps[ordinal - 1], name, &a)) a = 0; }
  else a = (uint64_t)host_lookup(name);
  if (!a && !weak) { fprintf(stderr, "machoload: unresolved import %s (in %s)\n", name, im->path); exit(127); }
  return a;
}
static struct sect64 *sect_at(struct image *im, int seg, uint32_t i) { return (struct sect64 *)((uint8_t *)im->segs[seg] + sizeof(struct seg64)) + i; }
/* One TLS block per image for the one thread: a copy of its template (__thread_data, then __thread_bss). */
static int ntlv;
static void setup_tlv(struct image *im) {
  uint64_t lo = ~0ull, hi = 0;
  for (int g = 0; g < im->nsegs; g++) for (uint32_t i = 0; i < im->segs[g]->nsects; i++) {
    struct sect64 *s = sect_at(im, g, i); uint8_t t = s->flags & 0xff;
    if (t == 0x11 || t == 0x12) { if (s->addr < lo) lo = s->addr; if (s->addr + s->size > hi) hi = s->addr + s->size; }
  }
  uint8_t *block = NULL;
  if (hi > lo) {
    block = calloc(1, hi - lo);
    for (int g = 0; g < im->nsegs; g++) for (uint32_t i = 0; i < im->segs[g]->nsects; i++) {
      struct sect64 *s = sect_at(im, g, i);
      if ((s->flags & 0xff) == 0x11) memcpy(block + (s->addr - lo), (void *)(s->addr + im->slide), s->size);
    }
  }
  for (int g = 0; g < im->nsegs; g++) for (uint32_t i = 0; i < im->segs[g]->nsects; i++) {
    struct sect64 *s = sect_at(im, g, i);
    if ((s->flags & 0xff) != 0x13) continue;
    if (!block) die("thread-local variables without __thread_data/__thread_bss");
    uint64_t *d = (uint64_t *)(s->addr + im->slide);
    for (uint64_t k = 0; k + 3 <= s->size / 8; k += 3) {
      if (d[k] != (uint64_t)h_tlv_bootstrap) die("TLV descriptor not bound to __tlv_bootstrap");
      d[k + 1] = (uint64_t)block; ntlv++;
    }
  }
}
static int ninit;
static void run_initializers(struct image *im) {
  for (int g = 0; g < im->nsegs; g++) for (uint32_t i = 0; i < im->segs[g]->nsects; i++) {
    struct sect64 *s = sect_at(im, g, i);
    if ((s->flags & 0xff) != 0x9) continue; /* S_MOD_INIT_FUNC_POINTERS */
    void (**f)(int, char **, char **, char **) = (void *)(s->addr + im->slide);
    for (uint64_t k = 0; k < s->size / 8; k++) { f[k](g_argc, g_argv, g_envp, apple); ninit++; }
  }
}
static uint64_t *slot(struct image *im, int seg, uint64_t off) {
  if (seg >= im->nsegs || off + 8 > im->segs[seg]->vmsize) die("fixup outside segment");
  return (uint64_t *)(im->segs[seg]->vmaddr + im->slide + off);
}
static int nrebase, nbind;
static void do_rebase(struct image *im, const uint8_t *p, const uint8_t *end) {
  int seg = 0; uint64_t off = 0, slide = im->slide;
  while (p < end) {
    uint8_t op = *p & 0xf0, imm = *p & 0x0f; p++;
    switch (op) {
    case 0x00: return;
    case 0x10: break; /* SET_TYPE_IMM (pointer) */
    case 0x20: seg = imm; off = uleb(&p); break;
    case 0x30: off += uleb(&p); break;
    case 0x40: off += imm * 8; break;
    case 0x50: for (int i = 0; i < imm; i++) { *slot(im, seg, off) += slide; off += 8; nrebase++; } break;
    case 0x60: { uint64_t c = uleb(&p); for (uint64_t i = 0; i < c; i++) { *slot(im, seg, off) += slide; off += 8; nrebase++; } } break;
    case 0x70: *slot(im, seg, off) += slide; nrebase++; off += 8 + uleb(&p); break;
    case 0x80: { uint64_t c = uleb(&p), skip = uleb(&p); for (uint64_t i = 0; i < c; i++) { *slot(im, seg, off) += slide; nrebase++; off += 8 + skip; } } break;
    default: die("bad rebase opcode");
    }
  }
}
static void do_bind(struct image *im, const uint8_t *p, const uint8_t *end, int lazy) {
  int seg = 0, ord = 0, weak = 0; uint64_t off = 0; int64_t addend = 0; const char *sym = NULL;
  while (p < end) {
    uint8_t op = *p & 0xf0, imm = *p & 0x0f; p++;
    switch (op) {
    case 0x00: if (!lazy) return; break; /* lazy binds are separated by DONE */
    case 0x10: ord = imm; break;
    case 0x20: ord = (int)uleb(&p); break;
    case 0x30: ord = imm ? (int)(int8_t)(0xf0 | imm) : 0; break; /* SPECIAL_IMM: 0, -1, -2 */
    case 0x40: sym = (const char *)p; weak = imm & 1; p += strlen(sym) + 1; break;
    case 0x50: break;
    case 0x60: addend = sleb(&p); break;
    case 0x70: seg = imm; off = uleb(&p); break;
    case 0x80: off += uleb(&p); break;
    case 0x90: *slot(im, seg, off) = resolve(im, ord, sym, weak) + addend; off += 8; nbind++; break;
    case 0xA0: *slot(im, seg, off) = resolve(im, ord, sym, weak) + addend; off += 8 + uleb(&p); nbind++; break;
    case 0xB0: *slot(im, seg, off) = resolve(im, ord, sym, weak) + addend; off += 8 + imm * 8; nbind++; break;
    case 0xC0: { uint64_t c = uleb(&p), skip = uleb(&p); for (uint64_t i = 0; i < c; i++) { *slot(im, seg, off) = resolve(im, ord, sym, weak) + addend; nbind++; off += 8 + skip; } } break;
    default: die("bad bind opcode (threaded binds unsupported)");
    }
  }
}

/* LC_DYLD_CHAINED_FIXUPS: DYLD_CHAINED_PTR_64 (2) and DYLD_CHAINED_PTR_64_OFFSET (6), imports format 1 */
static void do_chained(struct image *im, const uint8_t *blob) {
  uint64_t image_base = im->base, slide = im->slide;
  const uint32_t *h = (const uint32_t *)blob;  /* version, starts, imports, symbols, count, imports_fmt, symbols_fmt */
  if (h[5] != 1) die("only DYLD_CHAINED_IMPORT is supported");
  const uint32_t *imports = (const uint32_t *)(blob + h[2]);
  const char *syms = (const char *)(blob + h[3]);
  const uint8_t *img = blob + h[1];
  uint32_t seg_count = *(const uint32_t *)img;
  for (uint32_t s = 0; s < seg_count; s++) {
    uint32_t info_off = ((const uint32_t *)(img + 4))[s];
    if (!info_off) continue;
    const uint8_t *si = img + info_off;
    uint16_t page_size = *(const uint16_t *)(si + 4), fmt = *(const uint16_t *)(si + 6);
    uint64_t seg_off = *(const uint64_t *)(si + 8);
    uint16_t page_count = *(const uint16_t *)(si + 20);
    const uint16_t *starts = (const uint16_t *)(si + 22);
    if (fmt != 2 && fmt != 6) die("unsupported chained pointer format");
    for (uint16_t pg = 0; pg < page_count; pg++) {
      if (starts[pg] == 0xFFFF) continue;
      if (starts[pg] & 0x8000) die("multi-start pages unsupported");
      uint8_t *loc = (uint8_t *)(image_base + seg_off + (uint64_t)pg * page_size + starts[pg]);
      for (;;) {
        uint64_t v = *(uint64_t *)loc, next = (v >> 51) & 0xFFF;
        if (v >> 63) {           /* bind: ordinal:24 addend:8 */
          uint32_t ord = v & 0xFFFFFF; int64_t addend = (int8_t)((v >> 24) & 0xFF);
          if (ord >= h[4]) die("bad chained import ordinal");
          uint32_t imp = imports[ord]; /* lib_ordinal:8 (signed) weak_import:1 name_offset:23 */
          *(uint64_t *)loc = resolve(im, (int8_t)(imp & 0xff), syms + (imp >> 9), (imp >> 8) & 1) + addend; nbind++;
        } else {                 /* rebase: target:36 high8:8 */
          uint64_t target = v & 0xFFFFFFFFFull, high8 = (v >> 36) & 0xFF;
          *(uint64_t *)loc = (fmt == 2 ? target + slide : image_base + target) | (high8 << 56); nrebase++;
        }
        if (!next) break;
        loc += next * 4;
      }
    }
  }
}

/* ---- mapping images ---- */
static struct image *map_image(const char *path, int is_main, uint64_t main_slide) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) { if (is_main) die2("open", path); return NULL; }
  struct image *im = calloc(1, sizeof *im);
  im->path = strdup(path);
  struct stat st; fstat(fd, &st); im->filesz = st.st_size;
  if (im->filesz < sizeof(struct mh64)) die2("not a Mach-O file", path);
  im->file = mmap(NULL, im->filesz, PROT_READ, MAP_PRIVATE, fd, 0); close(fd);
  if (im->file == MAP_FAILED) die2("mmap file", path);
  struct mh64 *h = im->h = (struct mh64 *)im->file;
  if (h->magic != MH_MAGIC_64 || h->cputype != 0x01000007) die2("not an x86_64 Mach-O", path);
  if (is_main ? h->filetype != MH_EXECUTE : h->filetype != MH_DYLIB && h->filetype != MH_BUNDLE)
    die2(is_main ? "not MH_EXECUTE" : "not MH_DYLIB or MH_BUNDLE", path);
  if (sizeof *h + (uint64_t)h->sizeofcmds > im->filesz) die2("load commands past the end of the file", path);
  uint8_t *p = im->file + sizeof *h, *cend = p + h->sizeofcmds;
  for (uint32_t i = 0; i < h->ncmds; i++, p += ((struct lc *)p)->cmdsize) {
    struct lc *l = (struct lc *)p;
    if (p + sizeof *l > cend || l->cmdsize < sizeof *l || p + l->cmdsize > cend) die2("bad load command", path);
    if (l->cmd == LC_SEGMENT_64) { if (im->nsegs == 32) die2("too many segments", path); im->segs[im->nsegs++] = (struct seg64 *)p; }
    else if (l->cmd == LC_DYLD_INFO || l->cmd == LC_DYLD_INFO_ONLY) im->di = (struct dyldinfo *)p;
    else if (l->cmd == LC_MAIN) im->ent = (struct entry *)p;
    else if (l->cmd == LC_DYLD_CHAINED_FIXUPS) im->chained = (struct linkedit *)p;
    else if (l->cmd == LC_DYLD_EXPORTS_TRIE) im->trie = (struct linkedit *)p;
  }
  if (im->di && im->di->export_size && !im->trie) {
    static struct linkedit t[64]; static int nt;
    t[nt].dataoff = im->di->export_off; t[nt].datasize = im->di->export_size; im->trie = &t[nt++];
  }
  uint64_t lo = ~0ull, hi = 0;
  for (int i = 0; i < im->nsegs; i++) {
    struct seg64 *s = im->segs[i];
    if (s->vmsize == 0 || s->initprot == 0) continue;  /* __PAGEZERO */
    if (s->fileoff + s->filesize > im->filesz) die2("segment past the end of the file", path);
    if (s->vmaddr < lo) lo = s->vmaddr;
    if (s->vmaddr + s->vmsize > hi) hi = s->vmaddr + s->vmsize;
  }
  if (hi <= lo) die2("no segments to map", path);
  if (is_main) im->slide = main_slide;
  else {  /* anywhere: reserve the whole span, then map each segment inside it */
    uint8_t *r = mmap(NULL, hi - lo, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (r == MAP_FAILED) die2("reserve address space", path);
    im->slide = (uint64_t)r - lo;
  }
  for (int i = 0; i < im->nsegs; i++) {
    struct seg64 *s = im->segs[i];
    if (!strcmp(s->segname, "__TEXT")) im->base = s->vmaddr + im->slide;
    if (s->vmsize == 0 || s->initprot == 0) continue;
    uint8_t *a = mmap((void *)(s->vmaddr + im->slide), s->vmsize, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | (is_main ? MAP_FIXED_NOREPLACE : MAP_FIXED), -1, 0);
    if (a == MAP_FAILED) die2("map segment", path);
    if (s->filesize) memcpy(a, im->file + s->fileoff, s->filesize);
  }
  if (nimages == 64) die("too many images");
  images[nimages++] = im;
  return im;
}
/* A dylib an image loads: by base name in MACHOLOAD_LIBRARY_PATH, then the install name itself. */
static struct image *load_dylib(const char *install_name) {
  const char *base = strrchr(install_name, '/'); base = base ? base + 1 : install_name;
  char buf[4096];
  for (int i = 0; i < nimages; i++) {
    const char *b = strrchr(images[i]->path, '/');
    if (!strcmp(b ? b + 1 : images[i]->path, base) && images[i]->h->filetype == MH_DYLIB) return images[i];
  }
  const char *dirs = getenv("MACHOLOAD_LIBRARY_PATH");
  while (dirs && *dirs) {
    size_t n = strcspn(dirs, ":");
    snprintf(buf, sizeof buf, "%.*s/%s", (int)n, dirs, base);
    if (access(buf, R_OK) == 0) return map_image(buf, 0, 0);
    dirs += n + (dirs[n] == ':');
  }
  if (access(install_name, R_OK) == 0) return map_image(install_name, 0, 0);
  if (strstr(install_name, "libSystem")) return NULL; /* the host */
  die2("dylib not found (set MACHOLOAD_LIBRARY_PATH)", install_name);
  return NULL;
}
static void load_deps(struct image *im) {
  uint8_t *p = im->file + sizeof *im->h;
  for (uint32_t i = 0; i < im->h->ncmds; i++, p += ((struct lc *)p)->cmdsize) {
    struct lc *l = (struct lc *)p;
    if (l->cmd != LC_LOAD_DYLIB) continue;
    uint32_t off = ((uint32_t *)p)[2];
    if (off >= l->cmdsize || im->ndeps == 32) die2("bad LC_LOAD_DYLIB", im->path);
    struct image *d = load_dylib((const char *)p + off);
    im->deps[im->ndeps++] = d;
    if (d && d->ndeps == 0) load_deps(d);
  }
}
static void fixup(struct image *im) {
  struct dyldinfo *di = im->di; uint8_t *f = im->file;
  if (di) {
    if (di->rebase_size) do_rebase(im, f + di->rebase_off, f + di->rebase_off + di->rebase_size);
    if (di->bind_size) do_bind(im, f + di->bind_off, f + di->bind_off + di->bind_size, 0);
    if (di->lazy_bind_size) do_bind(im, f + di->lazy_bind_off, f + di->lazy_bind_off + di->lazy_bind_size, 1);
  }
  if (im->chained) do_chained(im, f + im->chained->dataoff);
  setup_tlv(im);
  for (int i = 0; i < im->nsegs; i++) {   /* final protections */
    struct seg64 *s = im->segs[i]; if (s->vmsize == 0 || s->initprot == 0) continue;
    int prot = (s->initprot & 1 ? PROT_READ : 0) | (s->initprot & 2 ? PROT_WRITE : 0) | (s->initprot & 4 ? PROT_EXEC : 0);
    if (s->segname[2] == 'L') prot = PROT_READ; /* __LINKEDIT */
    mprotect((void *)(s->vmaddr + im->slide), s->vmsize, prot);
  }
}
/* Fixes up and initializes images first..nimages-1, dependencies (loaded later) first. */
static void finish_images(int first, int run_init) {
  for (int i = nimages - 1; i >= first; i--) fixup(images[i]);
  if (run_init) for (int i = nimages - 1; i >= first; i--) run_initializers(images[i]);
}
static void *h_dlopen(const char *path, int mode) {
  (void)mode;
  if (!path) return images[0];
  for (int i = 0; i < nimages; i++) if (!strcmp(images[i]->path, path)) return images[i];
  int first = nimages;
  struct image *im = map_image(path, 0, 0);
  if (!im) { dl_error = "dlopen: image not found"; return NULL; }
  load_deps(im);
  finish_images(first, 1);
  return im;
}
/* RTLD_DEFAULT is (void *)-2 on macOS: every image, in load order. */
static void *h_dlsym(void *handle, const char *name) {
  char buf[1024]; uint64_t a = 0;
  snprintf(buf, sizeof buf, "_%s", name);
  if (handle == (void *)-2) a = lookup_flat(buf, 0);
  else if (!image_export((struct image *)handle, buf, &a)) a = 0;
  if (!a) dl_error = "dlsym: symbol not found";
  return (void *)a;
}
/* ---- raw XNU syscalls: seccomp traps nr >= 0x2000000, SIGSYS handler emulates ---- */
static void on_sigsys(int sig, siginfo_t *si, void *uc_) {
  (void)sig; (void)si; ucontext_t *uc = uc_; greg_t *r = uc->uc_mcontext.gregs;
  long nr = r[REG_RAX] & 0xffffff;  /* BSD class */
  switch (nr) {
  case 1: fflush(stdout); _exit((int)r[REG_RDI]);
  case 4: r[REG_RAX] = syscall(SYS_write, r[REG_RDI], r[REG_RSI], r[REG_RDX]); break;
  case 3: r[REG_RAX] = syscall(SYS_read, r[REG_RDI], r[REG_RSI], r[REG_RDX]); break;
  case 20: r[REG_RAX] = getpid(); break;
  default: fprintf(stderr, "machoload: unemulated XNU syscall %ld\n", nr); _exit(127);
  }
  if ((long)r[REG_RAX] < 0) { r[REG_RAX] = -r[REG_RAX]; r[REG_EFL] |= 1; } else r[REG_EFL] &= ~1L; /* XNU: CF=error */
}
static void install_xnu_syscalls(void) {
  struct sigaction sa = { 0 }; sa.sa_sigaction = on_sigsys; sa.sa_flags = SA_SIGINFO; sigaction(SIGSYS, &sa, NULL);
  struct sock_filter f[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
    BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x2000000, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = { sizeof f / sizeof *f, f };
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog)) die("seccomp");
}
int main(int argc, char **argv, char **envp) {
  if (argc < 2) { fprintf(stderr, "usage: machoload prog.macho [args]\n"); return 2; }
  uint64_t slide = getenv("MACHOLOAD_SLIDE") ? strtoull(getenv("MACHOLOAD_SLIDE"), 0, 0) : 0x100000000ull;
  struct image *im = map_image(argv[1], 1, slide);
  load_deps(im);
  g_argc = argc - 1; g_argv = argv + 1; g_envp = envp;
  finish_images(0, 0);
  if (!im->ent) die("no LC_MAIN");
  if (getenv("MACHOLOAD_VERBOSE")) fprintf(stderr, "machoload: %d images, %d segments, %d rebases, %d binds, %d tlv, slide %#llx, entry %#llx\n", nimages, im->nsegs, nrebase, nbind, ntlv, (unsigned long long)slide, (unsigned long long)(im->base + im->ent->entryoff));
  int (*entry)(int, char **, char **, char **) = (void *)(im->base + im->ent->entryoff);
  install_xnu_syscalls();
  for (int i = nimages - 1; i >= 0; i--) run_initializers(images[i]);
  int rc = entry(g_argc, g_argv, g_envp, apple);
  fflush(stdout);
  return rc;
}

/* tslink copy of /work/shared/tools/macho/machoload.c, extended for what tslink's Mach-O
 * output uses and the original lacks: S_MOD_INIT_FUNC_POINTERS initializers (run before main,
 * with argc/argv/envp/apple) and thread-local variables (S_THREAD_LOCAL_VARIABLES descriptors:
 * one TLS block from __thread_data/__thread_bss, and a `__tlv_bootstrap` thunk that keeps dyld's
 * convention of clobbering only %rax).
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

struct mh64 { uint32_t magic, cputype, cpusubtype, filetype, ncmds, sizeofcmds, flags, reserved; };
struct lc { uint32_t cmd, cmdsize; };
struct seg64 { uint32_t cmd, cmdsize; char segname[16]; uint64_t vmaddr, vmsize, fileoff, filesize; int32_t maxprot, initprot; uint32_t nsects, flags; };
struct dyldinfo { uint32_t cmd, cmdsize, rebase_off, rebase_size, bind_off, bind_size, weak_bind_off, weak_bind_size, lazy_bind_off, lazy_bind_size, export_off, export_size; };
struct sect64 { char sectname[16], segname[16]; uint64_t addr, size; uint32_t offset, align, reloff, nreloc, flags, r1, r2, r3; };
struct entry { uint32_t cmd, cmdsize; uint64_t entryoff, stacksize; };
struct linkedit { uint32_t cmd, cmdsize, dataoff, datasize; };

static uint8_t *file; static size_t filesz;
static struct seg64 *segs[32]; static int nsegs;
static uint64_t slide;

static void die(const char *m) { fprintf(stderr, "machoload: %s\n", m); exit(127); }
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
static struct { const char *name; void *fn; } host[] = {
  { "_write", (void *)h_write }, { "_exit", (void *)h_exit }, { "_puts", (void *)h_puts },
  { "_malloc", (void *)malloc }, { "_free", (void *)free }, { "dyld_stub_binder", (void *)h_stub_binder },
  { "__tlv_bootstrap", (void *)h_tlv_bootstrap },
};
static void *resolve(const char *n) {
  for (size_t i = 0; i < sizeof host / sizeof *host; i++) if (!strcmp(host[i].name, n)) return host[i].fn;
  fprintf(stderr, "machoload: unresolved import %s\n", n); exit(127);
}
static struct sect64 *sect_at(int seg, uint32_t i) { return (struct sect64 *)((uint8_t *)segs[seg] + sizeof(struct seg64)) + i; }
/* One TLS block for the one thread: a copy of the template (__thread_data, then __thread_bss). */
static int ntlv;
static void setup_tlv(void) {
  uint64_t lo = ~0ull, hi = 0;
  for (int g = 0; g < nsegs; g++) for (uint32_t i = 0; i < segs[g]->nsects; i++) {
    struct sect64 *s = sect_at(g, i); uint8_t t = s->flags & 0xff;
    if (t == 0x11 || t == 0x12) { if (s->addr < lo) lo = s->addr; if (s->addr + s->size > hi) hi = s->addr + s->size; }
  }
  uint8_t *block = NULL;
  if (hi > lo) {
    block = calloc(1, hi - lo);
    for (int g = 0; g < nsegs; g++) for (uint32_t i = 0; i < segs[g]->nsects; i++) {
      struct sect64 *s = sect_at(g, i);
      if ((s->flags & 0xff) == 0x11) memcpy(block + (s->addr - lo), (void *)(s->addr + slide), s->size);
    }
  }
  for (int g = 0; g < nsegs; g++) for (uint32_t i = 0; i < segs[g]->nsects; i++) {
    struct sect64 *s = sect_at(g, i);
    if ((s->flags & 0xff) != 0x13) continue;
    if (!block) die("thread-local variables without __thread_data/__thread_bss");
    uint64_t *d = (uint64_t *)(s->addr + slide);
    for (uint64_t k = 0; k + 3 <= s->size / 8; k += 3) {
      if (d[k] != (uint64_t)h_tlv_bootstrap) die("TLV descriptor not bound to __tlv_bootstrap");
      d[k + 1] = (uint64_t)block; ntlv++;
    }
  }
}
static int ninit;
static void run_initializers(int argc, char **argv, char **envp, char **apple) {
  for (int g = 0; g < nsegs; g++) for (uint32_t i = 0; i < segs[g]->nsects; i++) {
    struct sect64 *s = sect_at(g, i);
    if ((s->flags & 0xff) != 0x9) continue; /* S_MOD_INIT_FUNC_POINTERS */
    void (**f)(int, char **, char **, char **) = (void *)(s->addr + slide);
    for (uint64_t k = 0; k < s->size / 8; k++) { f[k](argc, argv, envp, apple); ninit++; }
  }
}
static uint64_t *slot(int seg, uint64_t off) {
  if (seg >= nsegs || off + 8 > segs[seg]->vmsize) die("fixup outside segment");
  return (uint64_t *)(segs[seg]->vmaddr + slide + off);
}
static int nrebase, nbind;
static void do_rebase(const uint8_t *p, const uint8_t *end) {
  int seg = 0; uint64_t off = 0;
  while (p < end) {
    uint8_t op = *p & 0xf0, imm = *p & 0x0f; p++;
    switch (op) {
    case 0x00: return;
    case 0x10: break; /* SET_TYPE_IMM (pointer) */
    case 0x20: seg = imm; off = uleb(&p); break;
    case 0x30: off += uleb(&p); break;
    case 0x40: off += imm * 8; break;
    case 0x50: for (int i = 0; i < imm; i++) { *slot(seg, off) += slide; off += 8; nrebase++; } break;
    case 0x60: { uint64_t c = uleb(&p); for (uint64_t i = 0; i < c; i++) { *slot(seg, off) += slide; off += 8; nrebase++; } } break;
    case 0x70: *slot(seg, off) += slide; nrebase++; off += 8 + uleb(&p); break;
    case 0x80: { uint64_t c = uleb(&p), skip = uleb(&p); for (uint64_t i = 0; i < c; i++) { *slot(seg, off) += slide; nrebase++; off += 8 + skip; } } break;
    default: die("bad rebase opcode");
    }
  }
}
static void do_bind(const uint8_t *p, const uint8_t *end, int lazy) {
  int seg = 0; uint64_t off = 0; int64_t addend = 0; const char *sym = NULL;
  while (p < end) {
    uint8_t op = *p & 0xf0, imm = *p & 0x0f; p++;
    switch (op) {
    case 0x00: if (!lazy) return; break; /* lazy binds are separated by DONE */
    case 0x10: case 0x30: break;               /* dylib ordinal: single flat namespace here */
    case 0x20: uleb(&p); break;
    case 0x40: sym = (const char *)p; p += strlen(sym) + 1; break;
    case 0x50: break;
    case 0x60: addend = sleb(&p); break;
    case 0x70: seg = imm; off = uleb(&p); break;
    case 0x80: off += uleb(&p); break;
    case 0x90: *slot(seg, off) = (uint64_t)resolve(sym) + addend; off += 8; nbind++; break;
    case 0xA0: *slot(seg, off) = (uint64_t)resolve(sym) + addend; off += 8 + uleb(&p); nbind++; break;
    case 0xB0: *slot(seg, off) = (uint64_t)resolve(sym) + addend; off += 8 + imm * 8; nbind++; break;
    case 0xC0: { uint64_t c = uleb(&p), skip = uleb(&p); for (uint64_t i = 0; i < c; i++) { *slot(seg, off) = (uint64_t)resolve(sym) + addend; nbind++; off += 8 + skip; } } break;
    default: die("bad bind opcode (threaded binds unsupported)");
    }
  }
}

/* LC_DYLD_CHAINED_FIXUPS: DYLD_CHAINED_PTR_64 (2) and DYLD_CHAINED_PTR_64_OFFSET (6), imports format 1 */
static void do_chained(const uint8_t *blob, uint64_t image_base) {
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
          *(uint64_t *)loc = (uint64_t)resolve(syms + (imports[ord] >> 9)) + addend; nbind++;
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
  int fd = open(argv[1], O_RDONLY); if (fd < 0) die("open");
  struct stat st; fstat(fd, &st); filesz = st.st_size;
  file = mmap(NULL, filesz, PROT_READ, MAP_PRIVATE, fd, 0); if (file == MAP_FAILED) die("mmap file");
  struct mh64 *h = (struct mh64 *)file;
  if (h->magic != MH_MAGIC_64 || h->cputype != 0x01000007) die("not an x86_64 Mach-O");
  if (h->filetype != 2) die("not MH_EXECUTE");
  slide = getenv("MACHOLOAD_SLIDE") ? strtoull(getenv("MACHOLOAD_SLIDE"), 0, 0) : 0x100000000ull;
  struct dyldinfo *di = NULL; struct entry *ent = NULL; uint64_t text_vmaddr = 0; struct linkedit *chained = NULL;
  uint8_t *p = file + sizeof *h;
  for (uint32_t i = 0; i < h->ncmds; i++, p += ((struct lc *)p)->cmdsize) {
    struct lc *l = (struct lc *)p;
    if (l->cmd == LC_SEGMENT_64) segs[nsegs++] = (struct seg64 *)p;
    else if (l->cmd == LC_DYLD_INFO || l->cmd == LC_DYLD_INFO_ONLY) di = (struct dyldinfo *)p;
    else if (l->cmd == LC_MAIN) ent = (struct entry *)p;
    else if (l->cmd == LC_DYLD_CHAINED_FIXUPS) chained = (struct linkedit *)p;
  }
  for (int i = 0; i < nsegs; i++) {
    struct seg64 *s = segs[i];
    if (!strcmp(s->segname, "__TEXT")) text_vmaddr = s->vmaddr;
    if (s->vmsize == 0 || s->initprot == 0) continue;  /* __PAGEZERO */
    uint8_t *a = mmap((void *)(s->vmaddr + slide), s->vmsize, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (a == MAP_FAILED) die("map segment");
    if (s->filesize) memcpy(a, file + s->fileoff, s->filesize);
  }
  if (di) {
    if (di->rebase_size) do_rebase(file + di->rebase_off, file + di->rebase_off + di->rebase_size);
    if (di->bind_size) do_bind(file + di->bind_off, file + di->bind_off + di->bind_size, 0);
    if (di->lazy_bind_size) do_bind(file + di->lazy_bind_off, file + di->lazy_bind_off + di->lazy_bind_size, 1);
  }
  if (chained) do_chained(file + chained->dataoff, text_vmaddr + slide);
  setup_tlv();
  for (int i = 0; i < nsegs; i++) {   /* final protections */
    struct seg64 *s = segs[i]; if (s->vmsize == 0 || s->initprot == 0) continue;
    int prot = (s->initprot & 1 ? PROT_READ : 0) | (s->initprot & 2 ? PROT_WRITE : 0) | (s->initprot & 4 ? PROT_EXEC : 0);
    if (s->segname[2] == 'L') prot = PROT_READ; /* __LINKEDIT */
    mprotect((void *)(s->vmaddr + slide), s->vmsize, prot);
  }
  if (!ent) die("no LC_MAIN");
  if (getenv("MACHOLOAD_VERBOSE")) fprintf(stderr, "machoload: %d segments, %d rebases, %d binds, %d tlv, slide %#llx, entry %#llx\n", nsegs, nrebase, nbind, ntlv, (unsigned long long)slide, (unsigned long long)(text_vmaddr + slide + ent->entryoff));
  int (*entry)(int, char **, char **, char **) = (void *)(text_vmaddr + slide + ent->entryoff);
  static char *apple[] = { "executable_path=machoload", NULL };
  install_xnu_syscalls();
  run_initializers(argc - 1, argv + 1, envp, apple);
  int rc = entry(argc - 1, argv + 1, envp, apple);
  fflush(stdout);
  return rc;
}

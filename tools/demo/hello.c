/* The demo program `pnpm demo` builds with `gcc -static -B apps/cli/libexec`: gcc compiles it and
 * tslink links it against glibc's static libc.a. */
#include <stdio.h>
#include <stdlib.h>

static int compare(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

int main(int argc, char **argv) {
  (void)argv;
  int primes[] = {13, 2, 11, 3, 7, 5};
  qsort(primes, sizeof primes / sizeof primes[0], sizeof primes[0], compare);
  printf("hello from a static glibc program linked by tslink\n");
  printf("  sorted:");
  for (unsigned i = 0; i < sizeof primes / sizeof primes[0]; i++) printf(" %d", primes[i]);
  printf("\n  argc = %d\n", argc);
  return 0;
}

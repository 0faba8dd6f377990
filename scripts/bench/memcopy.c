/* memcopy.c: the limit column of `make bench`'s row "tanh forward, 16M float32":
 * the memory bandwidth of this machine in the same run, as the time of a plain
 * copy (memcpy) of 16M float32 values between two buffers allocated and touched
 * beforehand. tanh into a kept output moves the same bytes (64 MiB read, 64 MiB
 * written), so this is the time a tanh kernel would take if its arithmetic
 * were free. One thread.
 *
 * Prints "row memcopy 1 <seconds per copy> <iterations per batch>", the
 * protocol of lucid_bench.lua. Usage: memcopy   (no arguments) */
#include "timing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N (16 * 1024 * 1024)

static float *src, *dst;

static void copy(void) { memcpy(dst, src, (size_t)N * sizeof *dst); }

int main(void) {
  src = malloc((size_t)N * sizeof *src);
  dst = malloc((size_t)N * sizeof *dst);
  if (!src || !dst) {
    fputs("memcopy: out of memory\n", stderr);
    return 1;
  }
  for (size_t i = 0; i < N; i++) src[i] = (float)(i % 1000) * 0.001f;
  memset(dst, 0, (size_t)N * sizeof *dst); /* fault the pages in outside the timing */
  long n;
  double t = bench_measure(copy, &n);
  printf("row memcopy 1 %.6e %ld\n", t, n);
  int bad = dst[N - 1] != src[N - 1];
  free(src);
  free(dst);
  return bad;
}

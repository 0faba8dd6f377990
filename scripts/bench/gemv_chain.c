/* gemv_chain.c: the limit column of `make bench`'s row "MLP 784-256-256-10,
 * batch 1, forward": the same three layers as bare OpenBLAS calls on one thread,
 * with nothing around them. Each layer copies its bias into the output and adds
 * W x to it (cblas_sgemv with beta = 1, as Lucid's Linear does), then the hidden
 * layers apply glibc's scalar tanhf in a loop. Weights are drawn like
 * nn.Linear's (uniform in +-1/sqrt(fan_in)) from a fixed generator.
 *
 * Prints "row gemv_chain 1 <seconds per forward> <iterations per batch>" and
 * "row gemv_only 1 ..." (the three GEMVs alone, without bias and tanh), the
 * protocol of lucid_bench.lua. Usage: gemv_chain   (no arguments) */
#include "timing.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cblas.h>

#define IN 784
#define H 256
#define OUT 10

static float w1[H * IN], b1[H], w2[H * H], b2[H], w3[OUT * H], b3[OUT]; /* [out][in] */
static float x[IN], h1[H], h2[H], y[OUT];

static uint64_t state = 0x9e3779b97f4a7c15u;
static float uniform(float bound) { /* xorshift64*, uniform in [-bound, bound) */
  state ^= state >> 12;
  state ^= state << 25;
  state ^= state >> 27;
  double u = (double)((state * 2685821657736338717u) >> 11) / 9007199254740992.0;
  return (float)((2 * u - 1) * bound);
}

static void init(float *a, int n, int fan_in) {
  for (int i = 0; i < n; i++) a[i] = uniform(1.0f / sqrtf((float)fan_in));
}

/* out[rows] = tanh?(b + W[rows][cols] in[cols]) */
static void layer(const float *w, const float *b, const float *in, float *out, int rows,
                  int cols, int act) {
  for (int i = 0; i < rows; i++) out[i] = b[i];
  cblas_sgemv(CblasRowMajor, CblasNoTrans, rows, cols, 1.0f, w, cols, in, 1, 1.0f, out, 1);
  if (act)
    for (int i = 0; i < rows; i++) out[i] = tanhf(out[i]);
}

static void chain(void) {
  layer(w1, b1, x, h1, H, IN, 1);
  layer(w2, b2, h1, h2, H, H, 1);
  layer(w3, b3, h2, y, OUT, H, 0);
}

static void gemvs(void) {
  cblas_sgemv(CblasRowMajor, CblasNoTrans, H, IN, 1.0f, w1, IN, x, 1, 0.0f, h1, 1);
  cblas_sgemv(CblasRowMajor, CblasNoTrans, H, H, 1.0f, w2, H, h1, 1, 0.0f, h2, 1);
  cblas_sgemv(CblasRowMajor, CblasNoTrans, OUT, H, 1.0f, w3, H, h2, 1, 0.0f, y, 1);
}

int main(void) {
  openblas_set_num_threads(1);
  init(w1, H * IN, IN);
  init(b1, H, IN);
  init(w2, H * H, H);
  init(b2, H, H);
  init(w3, OUT * H, H);
  init(b3, OUT, H);
  init(x, IN, 1); /* uniform in +-1: the inputs' scale barely matters to the time */
  long n;
  double t = bench_measure(chain, &n);
  printf("row gemv_chain 1 %.6e %ld\n", t, n);
  fflush(stdout);
  t = bench_measure(gemvs, &n);
  printf("row gemv_only 1 %.6e %ld\n", t, n);
  return y[0] != y[0]; /* a NaN would mean the chain computed nothing sensible */
}

/* simd_speed.c: simd.c's float32 kernels per element, against glibc's libmvec
 * (the vector functions gcc calls for an auto-vectorised expf/tanhf/erff) in
 * the same run, at both vector widths this CPU has. The README's "What the
 * kernels do" numbers come from here.
 *
 * Each row is the best of 400 passes (wall clock; the best filters out the
 * other processes of a shared machine) over n floats spread over [-3, 3]
 * (in cache at 16K; at 1M, memory: a copy of the same bytes is printed as
 * the floor), in ns per element. gelu has no libmvec counterpart: its erf
 * form's row shows libmvec's erff alone (which it does not call) beside it.
 *
 * Usage: simd_speed [n]     (build: make simd-speed) */
#include "timing.h"

#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/internal.h"

__m256 _ZGVdN8v_expf(__m256);
__m256 _ZGVdN8v_tanhf(__m256);
__m256 _ZGVdN8v_erff(__m256);
__m512 _ZGVeN16v_expf(__m512);
__m512 _ZGVeN16v_tanhf(__m512);
__m512 _ZGVeN16v_erff(__m512);

static int64_t n;
static float *in, *out;

#define MVEC(name, w, v, load, store, attr)                                  \
  __attribute__((target(attr))) static void mvec_##name##_##w(void) {       \
    for (int64_t i = 0; i + w <= n; i += w) store(out + i, v(load(in + i)));     \
  }
MVEC(exp, 8, _ZGVdN8v_expf, _mm256_loadu_ps, _mm256_storeu_ps, "avx2,fma")
MVEC(tanh, 8, _ZGVdN8v_tanhf, _mm256_loadu_ps, _mm256_storeu_ps, "avx2,fma")
MVEC(erf, 8, _ZGVdN8v_erff, _mm256_loadu_ps, _mm256_storeu_ps, "avx2,fma")
MVEC(exp, 16, _ZGVeN16v_expf, _mm512_loadu_ps, _mm512_storeu_ps, "avx512f")
MVEC(tanh, 16, _ZGVeN16v_tanhf, _mm512_loadu_ps, _mm512_storeu_ps, "avx512f")
MVEC(erf, 16, _ZGVeN16v_erff, _mm512_loadu_ps, _mm512_storeu_ps, "avx512f")

static void copy(void) { memcpy(out, in, sizeof(float) * (size_t)n); }

/* one cell of the table: ours at a level, or a libmvec loop */
typedef struct cell {
  lc_vfn fn;
  int level;
  void (*mvec)(void);
  double best;
} cell;

static void run(const cell *c) {
  if (c->mvec) c->mvec();
  else lc__vmap_f32(c->fn, n, out, in, c->level);
}

int main(int argc, char **argv) {
  n = argc > 1 ? atol(argv[1]) : 16384;
  if (n < 16) n = 16;
  n -= n % 16;
  in = malloc(sizeof(float) * (size_t)n);
  out = malloc(sizeof(float) * (size_t)n);
  if (!in || !out) return 1;
  for (int64_t i = 0; i < n; i++) in[i] = -3.0f + 6.0f * (float)i / (float)n;
  static const struct {
    const char *name;
    lc_vfn fn;
    void (*m8)(void), (*m16)(void);
  } rows[] = {
    {"exp", LC_VF_EXP, mvec_exp_8, mvec_exp_16},
    {"sigmoid", LC_VF_SIGMOID, NULL, NULL},
    {"tanh", LC_VF_TANH, mvec_tanh_8, mvec_tanh_16},
    {"gelu_tanh", LC_VF_GELU_TANH, NULL, NULL},
    {"gelu_erf", LC_VF_GELU_ERF, mvec_erf_8, mvec_erf_16},  /* beside libmvec's erff */
  };
  int level = lc__simd_level();
  enum { NROWS = sizeof rows / sizeof rows[0] };
  static cell cells[NROWS][4];
  for (size_t r = 0; r < NROWS; r++)
    for (int k = 0; k < 4; k++) {
      cell *c = &cells[r][k];
      c->fn = rows[r].fn;
      c->level = k == 0 ? LC_SIMD_AVX2 : LC_SIMD_AVX512;
      c->mvec = k == 2 ? rows[r].m8 : k == 3 ? rows[r].m16 : NULL;
      int have = level >= (k % 2 ? LC_SIMD_AVX512 : LC_SIMD_AVX2);
      c->best = have && (k >= 2 ? c->mvec != NULL : c->fn != LC_VF_COUNT) ? 1e30 : 0;
    }
  /* the cells take turns, so that a busy moment of a shared machine, or a
   * change of clock, falls on all of them alike */
  double copy_best = 1e30;
  for (int rep = 0; rep < 400; rep++) {
    for (size_t r = 0; r < NROWS; r++)
      for (int k = 0; k < 4; k++) {
        cell *c = &cells[r][k];
        if (c->best == 0) continue;
        if (rep == 0) run(c);  /* warm-up */
        double t0 = bench_wall_clock();
        run(c);
        double t = bench_wall_clock() - t0;
        if (t < c->best) c->best = t;
      }
    double t0 = bench_wall_clock();
    copy();
    double t = bench_wall_clock() - t0;
    if (t < copy_best) copy_best = t;
  }
  printf("simd_speed: %lld floats in [-3, 3], ns per element, best of 400 (level %d)\n",
         (long long)n, level);
  printf("%-14s %8s %8s %10s %10s\n", "", "AVX2", "AVX-512", "mvec AVX2", "mvec 512");
  for (size_t r = 0; r < NROWS; r++) {
    printf("%-14s", rows[r].name);
    for (int k = 0; k < 4; k++)
      if (cells[r][k].best > 0) printf(" %*.3f", k < 2 ? 8 : 10, cells[r][k].best * 1e9 / (double)n);
      else printf(" %*s", k < 2 ? 8 : 10, "-");
    printf("\n");
  }
  printf("%-14s %8.3f\n", "copy", copy_best * 1e9 / (double)n);
  free(in);
  free(out);
  return 0;
}

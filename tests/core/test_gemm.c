/* test_gemm.c: gemm.c's c = act(a b^T + bias) against a double-precision
 * reference, on every path (OpenBLAS, the AVX2 dot and packed kernels when
 * the CPU has them, the portable C loops, and whatever the dispatcher picks
 * with and without the portable path forced):
 * - the shape classes small models use (m 1-1000 by (k, n) pairs of issue
 *   14's measurements) with each epilogue;
 * - every odd size (m, n, k in 1..17, 33, 100), with strided a, b and c;
 * - the bound: |c - ref| <= (k + 4) eps (sum |a b| + |bias|) + 2 eps |ref|,
 *   the error of a k-term float sum in any order plus the activation's
 *   rounding (tanh and sigmoid do not magnify errors: slopes <= 1);
 * - elements of c outside the (m, n) block are never written;
 * - a fused activation equals the product followed by the activation. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/internal.h"

static int failures;
#define CHECK(cond, ...)                                           \
  do {                                                             \
    if (!(cond)) {                                                 \
      if (failures++ < 20) {                                       \
        fprintf(stderr, "test_gemm: %s:%d: ", __FILE__, __LINE__); \
        fprintf(stderr, __VA_ARGS__);                              \
        fputc('\n', stderr);                                       \
      }                                                            \
    }                                                              \
  } while (0)

static uint64_t rng = 88172645463325252ull;
static float rnd(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (float)((double)(rng >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

static const char *ACT_NAME[] = {"none", "relu", "tanh", "sigmoid"};
static const char *PATH_NAME[] = {"portable", "blas", "dot", "packed", "dispatch", "forced-portable"};

static double act_d(lc__act act, double x) {
  switch (act) {
    case LC__ACT_RELU: return x < 0 ? 0 : x;
    case LC__ACT_TANH: return tanh(x);
    case LC__ACT_SIGMOID: return 1.0 / (1.0 + exp(-x));
    default: return x;
  }
}

/* One product on one path, checked; lda, ldb, ldc may exceed the widths. */
static void run(int path, int64_t m, int64_t n, int64_t k, int64_t lda, int64_t ldb, int64_t ldc,
                int with_bias, lc__act act) {
  /* exact sizes: a read past a row's end shows under valgrind and ASan */
  size_t asz = (size_t)((m - 1) * lda + k), bsz = (size_t)((n - 1) * ldb + k);
  size_t csz = (size_t)((m - 1) * ldc + n);
  float *a = malloc(sizeof(float) * (asz ? asz : 1)), *b = malloc(sizeof(float) * (bsz ? bsz : 1));
  float *bias = malloc(sizeof(float) * (size_t)n), *c = malloc(sizeof(float) * csz);
  size_t wn = lc__sgemm_nt_work(m, n, k);
  if (path == 3) {  /* forced packed: its own work size, whatever the dispatcher picks */
    int64_t kc = k < 256 ? k : 256, nc = n < 512 ? n : 512;
    wn = (size_t)(kc * ((nc + 15) / 16 * 16));
  }
  float *work = wn ? malloc(sizeof(float) * wn) : NULL;
  for (size_t i = 0; i < asz; i++) a[i] = rnd();
  for (size_t i = 0; i < bsz; i++) b[i] = rnd();
  for (int64_t j = 0; j < n; j++) bias[j] = rnd();
  for (size_t i = 0; i < csz; i++) c[i] = 1234.5f;  /* the gaps between rows must keep it */
  const float *bp = with_bias ? bias : NULL;
  if (path >= 4) {
    lc__sgemm_force_portable(path == 5);
    lc__sgemm_nt(m, n, k, a, lda, b, ldb, bp, act, c, ldc, work);
    lc__sgemm_force_portable(0);
  } else {
    lc__sgemm_nt_path(path, m, n, k, a, lda, b, ldb, bp, act, c, ldc, work);
  }
  double worst = 0;
  for (int64_t i = 0; i < m; i++) {
    for (int64_t j = 0; j < n; j++) {
      double s = bp ? bp[j] : 0.0, mag = bp ? fabs(bp[j]) : 0.0;
      for (int64_t p = 0; p < k; p++) {
        double t = (double)a[i * lda + p] * (double)b[j * ldb + p];
        s += t;
        mag += fabs(t);
      }
      double ref = act_d(act, s);
      double bound = (double)(k + 4) * FLT_EPSILON * mag + 2.0 * FLT_EPSILON * fabs(ref) + 1e-37;
      double err = fabs((double)c[i * ldc + j] - ref);
      if (!(err <= bound) && err / bound > worst) {
        worst = err / bound;
        CHECK(0, "%s %lldx%lldx%lld lda %lld ldb %lld ldc %lld bias %d %s: c[%lld][%lld] = %.9g, "
              "expected %.9g (bound %.3g)", PATH_NAME[path], (long long)m, (long long)n,
              (long long)k, (long long)lda, (long long)ldb, (long long)ldc, with_bias,
              ACT_NAME[act], (long long)i, (long long)j, c[i * ldc + j], ref, bound);
      }
    }
    if (i + 1 < m)
      for (int64_t j = n; j < ldc; j++)
        CHECK(c[i * ldc + j] == 1234.5f, "%s %lldx%lldx%lld: wrote c[%lld][%lld] past n",
              PATH_NAME[path], (long long)m, (long long)n, (long long)k, (long long)i,
              (long long)j);
  }
  free(a);
  free(b);
  free(bias);
  free(c);
  free(work);
}

static int npaths;  /* 4 with the AVX2 kernels, else 2 (theirs are skipped) */

static void run_all(int64_t m, int64_t n, int64_t k, int64_t lda, int64_t ldb, int64_t ldc,
                    int with_bias, lc__act act) {
  for (int path = 0; path < 6; path++) {
    if ((path == 2 || path == 3) && npaths < 4) continue;
    run(path, m, n, k, lda, ldb, ldc, with_bias, act);
  }
}

static void test_shape_classes(void) {
  static const int64_t M[] = {1, 8, 64, 256, 1000};
  static const int64_t KN[][2] = {{4, 8},     {8, 2},     {32, 64},  {64, 64},    {64, 8},
                                  {784, 256}, {256, 256}, {256, 10}, {1024, 1024}, {128, 512}};
  for (size_t q = 0; q < sizeof KN / sizeof KN[0]; q++)
    for (size_t mi = 0; mi < sizeof M / sizeof M[0]; mi++) {
      int64_t m = M[mi], k = KN[q][0], n = KN[q][1];
      if (m * n * k > 20000000) continue;  /* the reference's time; 1024 x 1024 runs to m = 8 */
      for (int act = 0; act < 4; act++) run_all(m, n, k, k, k, n, 1, (lc__act)act);
    }
}

static void test_odd_sizes(void) {
  static const int64_t S[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 33, 100};
  enum { NS = sizeof S / sizeof S[0] };
  int t = 0;
  for (int im = 0; im < NS; im++)
    for (int in = 0; in < NS; in++)
      for (int ik = 0; ik < NS; ik++, t++) {
        int64_t m = S[im], n = S[in], k = S[ik];
        lc__act act = (lc__act)(t % 4);
        run_all(m, n, k, k, k, n, t % 3 != 0, act);
        if (t % 5 == 0) run_all(m, n, k, k + 3, k + 5, n + 2, 1, act);  /* strided */
      }
}

/* Past one k block (256) and one packed column block (512). */
static void test_blocks(void) {
  run_all(7, 530, 300, 301, 300, 533, 1, LC__ACT_RELU);
  run_all(13, 17, 700, 700, 705, 17, 1, LC__ACT_NONE);
}

/* The fused epilogue equals the product then the activation, bit for bit,
 * on the dispatcher's path (what a compiled plan and Linear + Tanh share). */
static void test_fused_equals_apart(void) {
  static const int64_t SH[][3] = {{1, 64, 32}, {8, 64, 64}, {64, 10, 256}, {100, 33, 17}};
  for (size_t q = 0; q < sizeof SH / sizeof SH[0]; q++) {
    int64_t m = SH[q][0], n = SH[q][1], k = SH[q][2];
    float *a = malloc(sizeof(float) * (size_t)(m * k)), *b = malloc(sizeof(float) * (size_t)(n * k));
    float *bias = malloc(sizeof(float) * (size_t)n);
    float *c1 = malloc(sizeof(float) * (size_t)(m * n)), *c2 = malloc(sizeof(float) * (size_t)(m * n));
    size_t wn = lc__sgemm_nt_work(m, n, k);
    float *work = wn ? malloc(sizeof(float) * wn) : NULL;
    for (int64_t i = 0; i < m * k; i++) a[i] = 3 * rnd();
    for (int64_t i = 0; i < n * k; i++) b[i] = rnd();
    for (int64_t j = 0; j < n; j++) bias[j] = rnd();
    for (int act = 1; act < 4; act++) {
      lc__sgemm_nt(m, n, k, a, k, b, k, bias, (lc__act)act, c1, n, work);
      lc__sgemm_nt(m, n, k, a, k, b, k, bias, LC__ACT_NONE, c2, n, work);
      for (int64_t i = 0; i < m * n; i++) {
        float x = c2[i], y;
        if (act == LC__ACT_RELU) y = x < 0 ? 0.0f : x;
        else if (act == LC__ACT_TANH) y = lc__tanh1f(x);
        else y = (float)(1.0 / (1.0 + exp(-(double)x)));
        CHECK(memcmp(&y, &c1[i], sizeof y) == 0, "%s fused %lldx%lldx%lld [%lld]: %a, apart %a",
              ACT_NAME[act], (long long)m, (long long)n, (long long)k, (long long)i, c1[i], y);
      }
    }
    free(a);
    free(b);
    free(bias);
    free(c1);
    free(c2);
    free(work);
  }
}

int main(void) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  npaths = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? 4 : 2;
#else
  npaths = 2;
#endif
  test_shape_classes();
  test_odd_sizes();
  test_blocks();
  test_fused_equals_apart();
  printf("test_gemm: %s\n", failures ? "FAILED" : "ok");
  return failures ? 1 : 0;
}

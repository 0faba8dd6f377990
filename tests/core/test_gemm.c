/* test_gemm.c: gemm.c's c = act(a b^T + bias) against a double-precision
 * reference, on every path the CPU runs (OpenBLAS, the AVX2 dot and 6x16
 * tiles, the AVX-512 12x32 tile, the portable C loops, and whatever the
 * dispatcher picks, as the CPU allows and capped at AVX2 and at none):
 * - the shape classes small models use (m 1-1000 by (k, n) pairs of issue
 *   14's measurements) with each epilogue;
 * - every odd size (m, n, k in 1..17, 33, 100), with strided a, b and c;
 * - the AVX-512 tile's edges (rows 1, 11-13, 24-25; columns around 16, 32,
 *   64; k around 16 and the 256 block) and its blocks (several k blocks,
 *   several column blocks of B, several row slices of A);
 * - the bound: |c - ref| <= (k + 4) eps (sum |a b| + |bias|) + 2 eps |ref|,
 *   the error of a k-term float sum in any order plus the activation's
 *   rounding (tanh and sigmoid do not magnify errors: slopes <= 1);
 * - elements of c outside the (m, n) block are never written;
 * - a fused activation equals the product followed by the activation, on
 *   every path;
 * - a forced path the level cap does not allow gives the portable bits;
 * - lc_linear and lc_linear_out in float32 (which use it for weights with
 *   contiguous rows, a row stride beyond in included, and OpenBLAS for the
 *   rest: a transposed weight, a strided bias) agree with float64;
 * - the fused epilogue equals lc_linear then lc_relu / lc_tanh / lc_sigmoid. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/internal.h"
#include "../check.h"

static uint64_t rng = 88172645463325252ull;
static float rnd(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (float)((double)(rng >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

static const char *ACT_NAME[] = {"none", "relu", "tanh", "sigmoid"};
/* 0-4: lc__sgemm_nt_path's paths; 5-7: the dispatcher, capped at each level */
enum { NPATHS = 8, P_AVX512 = 4, P_DISPATCH = 5 };
static const char *PATH_NAME[NPATHS] = {"portable", "blas",     "dot",           "packed",
                                        "avx512",   "dispatch", "dispatch-avx2", "dispatch-portable"};
static const int CAP[NPATHS] = {[5] = LC_SIMD_BEST, [6] = LC_SIMD_AVX2, [7] = LC_SIMD_NONE};
static int have[NPATHS];  /* the paths this CPU runs */

static void product(int path, int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                    const float *b, int64_t ldb, const float *bias, lc__act act, float *c,
                    int64_t ldc) {
  if (path >= P_DISPATCH) {
    lc__sgemm_force_level(CAP[path]);
    lc__sgemm_nt(m, n, k, a, lda, b, ldb, bias, act, c, ldc);
    lc__sgemm_force_level(LC_SIMD_BEST);
  } else {
    lc__sgemm_nt_path(path, m, n, k, a, lda, b, ldb, bias, act, c, ldc);
  }
}

static double act_d(lc__act act, double x) {
  switch (act) {
    case LC__ACT_RELU: return x < 0 ? 0 : x;
    case LC__ACT_TANH: return tanh(x);
    case LC__ACT_SIGMOID: return 1.0 / (1.0 + exp(-x));
    default: return x;
  }
}

/* Operands and their float64 sums, made once for every path and activation
 * (the reference is most of the test's time); lda, ldb, ldc may exceed the
 * widths. Exact sizes: a read past a row's end shows under valgrind and ASan. */
typedef struct gcase {
  int64_t m, n, k, lda, ldb, ldc;
  float *a, *b, *bias, *c;  /* bias NULL: none */
  double *sum, *mag;        /* (m, n): a b^T + bias, and the sum of the terms' magnitudes */
} gcase;

static gcase make_case(int64_t m, int64_t n, int64_t k, int64_t lda, int64_t ldb, int64_t ldc,
                       int with_bias) {
  gcase g = {m, n, k, lda, ldb, ldc, NULL, NULL, NULL, NULL, NULL, NULL};
  size_t asz = (size_t)((m - 1) * lda + k), bsz = (size_t)((n - 1) * ldb + k);
  g.a = malloc(sizeof(float) * (asz ? asz : 1));
  g.b = malloc(sizeof(float) * (bsz ? bsz : 1));
  g.c = malloc(sizeof(float) * (size_t)((m - 1) * ldc + n));
  g.sum = malloc(sizeof(double) * (size_t)(m * n));
  g.mag = malloc(sizeof(double) * (size_t)(m * n));
  for (size_t i = 0; i < asz; i++) g.a[i] = rnd();
  for (size_t i = 0; i < bsz; i++) g.b[i] = rnd();
  if (with_bias) {
    g.bias = malloc(sizeof(float) * (size_t)n);
    for (int64_t j = 0; j < n; j++) g.bias[j] = rnd();
  }
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++) {
      double sm = g.bias ? g.bias[j] : 0.0, mg = fabs(sm);
      for (int64_t p = 0; p < k; p++) {
        double t = (double)g.a[i * lda + p] * (double)g.b[j * ldb + p];
        sm += t;
        mg += fabs(t);
      }
      g.sum[i * n + j] = sm;
      g.mag[i * n + j] = mg;
    }
  return g;
}

static void free_case(gcase *g) {
  free(g->a);
  free(g->b);
  free(g->bias);
  free(g->c);
  free(g->sum);
  free(g->mag);
}

/* One product on one path, checked against the case's sums. */
static void check_case(gcase *g, int path, lc__act act) {
  int64_t m = g->m, n = g->n, k = g->k, ldc = g->ldc;
  for (int64_t i = 0; i < (m - 1) * ldc + n; i++) g->c[i] = 1234.5f;  /* gaps must keep it */
  product(path, m, n, k, g->a, g->lda, g->b, g->ldb, g->bias, act, g->c, ldc);
  double worst = 0;
  for (int64_t i = 0; i < m; i++) {
    for (int64_t j = 0; j < n; j++) {
      double ref = act_d(act, g->sum[i * n + j]);
      double bound = (double)(k + 4) * FLT_EPSILON * g->mag[i * n + j] +
                     2.0 * FLT_EPSILON * fabs(ref) + 1e-37;
      double err = fabs((double)g->c[i * ldc + j] - ref);
      g_checks++;
      if (!(err <= bound) && err / bound > worst) {  /* reported when worse: a few lines */
        worst = err / bound;
        CHECKF(0, "%s %lldx%lldx%lld lda %lld ldb %lld ldc %lld bias %d %s: c[%lld][%lld] = %.9g, "
               "expected %.9g (bound %.3g)", PATH_NAME[path], (long long)m, (long long)n,
               (long long)k, (long long)g->lda, (long long)g->ldb, (long long)ldc,
               g->bias != NULL, ACT_NAME[act], (long long)i, (long long)j, g->c[i * ldc + j],
               ref, bound);
      }
    }
    if (i + 1 < m)
      for (int64_t j = n; j < ldc; j++)
        CHECKF(g->c[i * ldc + j] == 1234.5f, "%s %lldx%lldx%lld: wrote c[%lld][%lld] past n",
               PATH_NAME[path], (long long)m, (long long)n, (long long)k, (long long)i,
               (long long)j);
  }
}

static void run(int path, int64_t m, int64_t n, int64_t k, int64_t lda, int64_t ldb, int64_t ldc,
                int with_bias, lc__act act) {
  gcase g = make_case(m, n, k, lda, ldb, ldc, with_bias);
  check_case(&g, path, act);
  free_case(&g);
}

static void run_all(int64_t m, int64_t n, int64_t k, int64_t lda, int64_t ldb, int64_t ldc,
                    int with_bias, lc__act act) {
  gcase g = make_case(m, n, k, lda, ldb, ldc, with_bias);
  for (int path = 0; path < NPATHS; path++)
    if (have[path]) check_case(&g, path, act);
  free_case(&g);
}

static void test_shape_classes(void) {
  static const int64_t M[] = {1, 8, 64, 256, 1000};
  static const int64_t KN[][2] = {{4, 8},     {8, 2},     {32, 64},  {64, 64},    {64, 8},
                                  {784, 256}, {256, 256}, {256, 10}, {1024, 1024}, {128, 512}};
  for (size_t q = 0; q < sizeof KN / sizeof KN[0]; q++)
    for (size_t mi = 0; mi < sizeof M / sizeof M[0]; mi++) {
      int64_t m = M[mi], k = KN[q][0], n = KN[q][1];
      if (m * n * k > 20000000) continue;  /* the reference's time; 1024 x 1024 runs to m = 8 */
      gcase g = make_case(m, n, k, k, k, n, 1);
      for (int act = 0; act < 4; act++)
        for (int path = 0; path < NPATHS; path++) {
          /* the portable loops (a call to fmaf per term: the test's time
           * under ASan) with one activation a shape, up to 2M terms; the
           * dispatcher capped at none runs the same loops */
          int portable = path == 0 || path == NPATHS - 1;
          if (have[path] && (!portable || (path == 0 && (size_t)act == (q + mi) % 4 &&
                                           m * n * k <= 2000000)))
            check_case(&g, path, (lc__act)act);
        }
      free_case(&g);
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

/* Past one k block (256), and wide. */
static void test_blocks(void) {
  run_all(7, 530, 300, 301, 300, 533, 1, LC__ACT_RELU);
  run_all(13, 17, 700, 700, 705, 17, 1, LC__ACT_NONE);
  /* the AVX-512 tile's blocks: three k blocks of 200 (32-column blocks of
   * B), two column blocks of 128 at k = 64, two row slices of A (1020 rows
   * a slice at k = 256), each with the per-strip epilogue */
  if (have[P_AVX512]) {
    run(P_AVX512, 30, 70, 600, 603, 600, 71, 1, LC__ACT_TANH);
    run(P_AVX512, 37, 130, 64, 64, 65, 133, 1, LC__ACT_SIGMOID);
    run(P_AVX512, 1030, 17, 256, 256, 256, 17, 1, LC__ACT_TANH);
    run(P_AVX512, 25, 300, 40, 40, 40, 300, 0, LC__ACT_RELU);
  }
}

/* The AVX-512 tile's edges: rows around its 12 (and two strips), columns
 * around its 16-lane vectors and 32-column panels, k around 16 and its
 * 256 block; tanh and sigmoid over whole strips (c contiguous) and row by
 * row (strided). */
static void test_avx512_edges(void) {
  static const int64_t M[] = {1, 2, 11, 12, 13, 24, 25};
  static const int64_t N[] = {1, 8, 15, 16, 17, 31, 32, 33, 64, 65};
  static const int64_t K[] = {1, 3, 15, 16, 17, 255, 256, 257, 513};
  if (!have[P_AVX512]) return;
  int t = 0;
  for (size_t im = 0; im < sizeof M / sizeof M[0]; im++)
    for (size_t in = 0; in < sizeof N / sizeof N[0]; in++)
      for (size_t ik = 0; ik < sizeof K / sizeof K[0]; ik++, t++) {
        int64_t m = M[im], n = N[in], k = K[ik];
        lc__act act = (lc__act)(t % 4);
        if (t % 3 == 0) run(P_AVX512, m, n, k, k + 1, k + 7, n + 5, t % 2, act);
        else run(P_AVX512, m, n, k, k, k, n, t % 2, act);
      }
}

/* The fused epilogue equals the product then the activation, bit for bit,
 * on every path (what a compiled plan and Linear + Tanh share): shapes that
 * take each path from the dispatcher, and with the AVX-512 tile whole
 * strips (c contiguous, one column block), several column blocks and a
 * strided c (row by row). */
static void test_fused_equals_apart(void) {
  static const int64_t SH[][4] = {{1, 64, 32, 64},    {8, 64, 64, 64},    {64, 10, 256, 10},
                                  {100, 33, 17, 33},  {1000, 64, 32, 64}, {30, 130, 64, 130},
                                  {13, 40, 300, 43}};
  for (size_t q = 0; q < sizeof SH / sizeof SH[0]; q++) {
    int64_t m = SH[q][0], n = SH[q][1], k = SH[q][2], ldc = SH[q][3];
    size_t csz = (size_t)((m - 1) * ldc + n);
    float *a = malloc(sizeof(float) * (size_t)(m * k)), *b = malloc(sizeof(float) * (size_t)(n * k));
    float *bias = malloc(sizeof(float) * (size_t)n);
    float *c1 = malloc(sizeof(float) * csz), *c2 = malloc(sizeof(float) * csz);
    for (int64_t i = 0; i < m * k; i++) a[i] = 3 * rnd();
    for (int64_t i = 0; i < n * k; i++) b[i] = rnd();
    for (int64_t j = 0; j < n; j++) bias[j] = rnd();
    for (int path = 0; path < NPATHS; path++) {
      int portable = path == 0 || path == NPATHS - 1;
      if (!have[path] || (portable && m * n * k > 200000)) continue;  /* ASan's time */
      for (int act = 1; act < 4; act++) {
        product(path, m, n, k, a, k, b, k, bias, (lc__act)act, c1, ldc);
        product(path, m, n, k, a, k, b, k, bias, LC__ACT_NONE, c2, ldc);
        int64_t bad = -1;
        for (int64_t i = 0; i < m && bad < 0; i++)
          for (int64_t j = 0; j < n; j++) {
            float x = c2[i * ldc + j], y;
            if (act == LC__ACT_RELU) y = x < 0 ? 0.0f : x;
            else if (act == LC__ACT_TANH) y = lc__tanh1f(x);
            else y = lc__sigmoid1f(x);
            if (memcmp(&y, &c1[i * ldc + j], sizeof y) != 0) {
              bad = i * ldc + j;
              break;
            }
          }
        CHECKF(bad < 0, "%s %s fused %lldx%lldx%lld [%lld]: %a, apart %a", PATH_NAME[path],
               ACT_NAME[act], (long long)m, (long long)n, (long long)k, (long long)bad,
               bad < 0 ? 0.0 : c1[bad], bad < 0 ? 0.0 : c2[bad]);
      }
    }
    free(a);
    free(b);
    free(bias);
    free(c1);
    free(c2);
  }
}

/* A path the level cap rules out gives way to the portable loops: the same
 * bits as path 0 (what a CPU without the instructions gets). */
static void test_cap_falls_back(void) {
  int64_t m = 20, n = 40, k = 50;
  float *a = malloc(sizeof(float) * (size_t)(m * k)), *b = malloc(sizeof(float) * (size_t)(n * k));
  float *c0 = malloc(sizeof(float) * (size_t)(m * n)), *c1 = malloc(sizeof(float) * (size_t)(m * n));
  for (int64_t i = 0; i < m * k; i++) a[i] = rnd();
  for (int64_t i = 0; i < n * k; i++) b[i] = rnd();
  lc__sgemm_nt_path(0, m, n, k, a, k, b, k, NULL, LC__ACT_TANH, c0, n);
  static const int CAPS[][2] = {{LC_SIMD_AVX2, P_AVX512}, {LC_SIMD_NONE, P_AVX512},
                                {LC_SIMD_NONE, 2}, {LC_SIMD_NONE, 3}};
  for (size_t q = 0; q < sizeof CAPS / sizeof CAPS[0]; q++) {
    lc__sgemm_force_level(CAPS[q][0]);
    lc__sgemm_nt_path(CAPS[q][1], m, n, k, a, k, b, k, NULL, LC__ACT_TANH, c1, n);
    lc__sgemm_force_level(LC_SIMD_BEST);
    CHECKF(memcmp(c0, c1, sizeof(float) * (size_t)(m * n)) == 0,
           "%s capped at level %d: not the portable path's bits", PATH_NAME[CAPS[q][1]],
           CAPS[q][0]);
  }
  free(a);
  free(b);
  free(c0);
  free(c1);
}

static void *plain_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud;
  (void)osize;
  if (nsize == 0) {
    free(ptr);
    return NULL;
  }
  return realloc(ptr, nsize);
}

/* y (rows, out), float32, against the float64 linear of the same numbers. */
static void check_linear(lc_ctx *ctx, const char *what, lc_tensor *y, lc_tensor *x, lc_tensor *w,
                         lc_tensor *b) {
  lc_tensor *x64 = lc_to_dtype(ctx, x, LC_FLOAT64), *w64 = lc_to_dtype(ctx, w, LC_FLOAT64);
  lc_tensor *b64 = b ? lc_to_dtype(ctx, b, LC_FLOAT64) : NULL;
  lc_tensor *r = lc_linear(ctx, x64, w64, b64);
  CHECKF(y && r, "%s: %s", what, lc_ctx_error(ctx));
  if (y && r) {
    int64_t rows = y->numel / (y->ndim ? y->shape[y->ndim - 1] : 1), outf = w->shape[0],
            in = w->shape[1];
    for (int64_t i = 0; i < rows * outf; i++) {
      int64_t yi[LC_MAX_DIMS], wi[2], xi[LC_MAX_DIMS], bi[1];
      int64_t rem = i;
      for (int d = y->ndim - 1; d >= 0; d--) {
        yi[d] = rem % y->shape[d];
        rem /= y->shape[d];
      }
      double mag = b ? fabs(lc_tensor_get(b64, (bi[0] = yi[y->ndim - 1], bi))) : 0.0;
      memcpy(xi, yi, sizeof yi);
      for (int64_t p = 0; p < in; p++) {
        xi[x->ndim - 1] = p;
        wi[0] = yi[y->ndim - 1];
        wi[1] = p;
        mag += fabs(lc_tensor_get(x64, xi) * lc_tensor_get(w64, wi));
      }
      double got = lc_tensor_get(y, yi), want = lc_tensor_get(r, yi);
      CHECKF(fabs(got - want) <= (double)(in + 4) * FLT_EPSILON * mag + 1e-37,
             "%s: element %lld is %.9g, float64 gives %.9g", what, (long long)i, got, want);
    }
  }
  lc_tensor_release(x64);
  lc_tensor_release(w64);
  lc_tensor_release(b64);
  lc_tensor_release(r);
}

static void test_linear(void) {
  lc_ctx *ctx = lc_ctx_new(plain_alloc, NULL);
  /* (rows, in, out): batch 1 (dot), 8 rows (dot / packed), 64 rows (packed), empty */
  static const int64_t SH[][3] = {{1, 784, 256}, {8, 64, 8}, {8, 4, 8}, {64, 32, 64},
                                  {17, 5, 3},    {3, 0, 4},  {0, 4, 3}};
  for (size_t q = 0; q < sizeof SH / sizeof SH[0]; q++) {
    int64_t rows = SH[q][0], in = SH[q][1], outf = SH[q][2];
    lc_tensor *x = lc_randn(ctx, LC_FLOAT32, 2, (int64_t[]){rows, in});
    lc_tensor *w = lc_randn(ctx, LC_FLOAT32, 2, (int64_t[]){outf, in});
    lc_tensor *b = lc_randn(ctx, LC_FLOAT32, 1, (int64_t[]){outf});
    lc_tensor *y = lc_linear(ctx, x, w, b);
    check_linear(ctx, "contiguous", y, x, w, b);
    lc_tensor_release(y);
    y = lc_linear(ctx, x, w, NULL);
    check_linear(ctx, "no bias", y, x, w, NULL);
    lc_tensor_release(y);
    /* the out= form writes the same numbers */
    lc_tensor *o = lc_empty(ctx, LC_FLOAT32, 2, (int64_t[]){rows, outf});
    CHECKF(lc_linear_out(ctx, o, x, w, b) == LC_OK, "linear_out: %s", lc_ctx_error(ctx));
    check_linear(ctx, "out=", o, x, w, b);
    lc_tensor_release(o);
    /* a weight whose rows are strided (a narrow of a wider one), a transposed
     * weight (OpenBLAS), a strided bias (OpenBLAS) */
    lc_tensor *wide = lc_randn(ctx, LC_FLOAT32, 2, (int64_t[]){outf, in + 3});
    lc_tensor *wn = lc_narrow(ctx, wide, 1, 1, in);
    y = lc_linear(ctx, x, wn, b);
    check_linear(ctx, "row-strided weight", y, x, wn, b);
    lc_tensor_release(y);
    lc_tensor *wt0 = lc_randn(ctx, LC_FLOAT32, 2, (int64_t[]){in, outf});
    lc_tensor *wt = lc_transpose(ctx, wt0, 0, 1);
    y = lc_linear(ctx, x, wt, b);
    check_linear(ctx, "transposed weight", y, x, wt, b);
    lc_tensor_release(y);
    lc_tensor *b2 = lc_randn(ctx, LC_FLOAT32, 1, (int64_t[]){2 * outf});
    lc_tensor *bs = lc_slice(ctx, b2, 0, 0, 2 * outf, 2);
    y = lc_linear(ctx, x, w, bs);
    check_linear(ctx, "strided bias", y, x, w, bs);
    lc_tensor_release(y);
    /* a 3-d input: its leading dims fold into rows */
    lc_tensor *x3 = lc_randn(ctx, LC_FLOAT32, 3, (int64_t[]){2, rows, in});
    y = lc_linear(ctx, x3, w, b);
    check_linear(ctx, "3-d input", y, x3, w, b);
    lc_tensor_release(y);
    lc_tensor *all[] = {x, w, b, wide, wn, wt0, wt, b2, bs, x3};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) lc_tensor_release(all[i]);
  }
  /* out= over an operand's elements would read what it writes (and before
   * the check, Linear's out= wrote into x while it read it) */
  lc_tensor *xs = lc_randn(ctx, LC_FLOAT32, 2, (int64_t[]){4, 6});
  lc_tensor *ws = lc_randn(ctx, LC_FLOAT32, 2, (int64_t[]){6, 6});
  lc_tensor *bs = lc_randn(ctx, LC_FLOAT32, 1, (int64_t[]){6});
  CHECKF(lc_linear_out(ctx, xs, xs, ws, bs) == LC_EARG &&
            strstr(lc_ctx_error(ctx), "out must not share its elements with an operand"),
        "linear_out into its input: %s", lc_ctx_error(ctx));
  lc_tensor *wrow = lc_narrow(ctx, ws, 0, 0, 4);  /* contiguous rows 1-4 of w: (4, 6) */
  CHECKF(lc_linear_out(ctx, wrow, xs, ws, bs) == LC_EARG &&
            strstr(lc_ctx_error(ctx), "out must not share its elements with an operand"),
        "linear_out into its weight: %s", lc_ctx_error(ctx));
  lc_tensor_release(wrow);
  lc_tensor_release(xs);
  lc_tensor_release(ws);
  lc_tensor_release(bs);
  lc_ctx_free(ctx);
}

/* The fused epilogue equals Linear followed by the activation op, bit for
 * bit: what a compiled plan that fuses them promises. If the elementwise
 * tanh or sigmoid changes, gemm.c's act_row must call the new kernel. */
static void test_fused_equals_ops(void) {
  lc_ctx *ctx = lc_ctx_new(plain_alloc, NULL);
  static const int64_t SH[][3] = {{1, 64, 32}, {8, 32, 64}, {100, 33, 17}, {1000, 32, 64}};
  lc_tensor *(*const OPS[])(lc_ctx *, lc_tensor *) = {lc_relu, lc_tanh, lc_sigmoid};
  for (size_t q = 0; q < sizeof SH / sizeof SH[0]; q++) {
    int64_t rows = SH[q][0], in = SH[q][1], outf = SH[q][2];
    lc_tensor *x = lc_randn(ctx, LC_FLOAT32, 2, (int64_t[]){rows, in});
    lc_tensor *w = lc_randn(ctx, LC_FLOAT32, 2, (int64_t[]){outf, in});
    lc_tensor *b = lc_randn(ctx, LC_FLOAT32, 1, (int64_t[]){outf});
    lc_tensor *y = lc_linear(ctx, x, w, b);
    float *c = malloc(sizeof(float) * (size_t)(rows * outf));
    for (int act = 1; act < 4; act++) {
      lc_tensor *r = OPS[act - 1](ctx, y);
      lc__sgemm_nt(rows, outf, in, lc_tensor_data(x), in, lc_tensor_data(w), in,
                   lc_tensor_data(b), (lc__act)act, c, outf);
      const float *rp = lc_tensor_data(r);
      int64_t i = 0;
      while (i < rows * outf && memcmp(&c[i], &rp[i], sizeof(float)) == 0) i++;
      CHECKF(i == rows * outf, "%s fused (%lld, %lld -> %lld) [%lld]: %a, linear then %s: %a",
             ACT_NAME[act], (long long)rows, (long long)in, (long long)outf, (long long)i,
             i < rows * outf ? c[i] : 0.0, ACT_NAME[act], i < rows * outf ? rp[i] : 0.0);
      lc_tensor_release(r);
    }
    free(c);
    lc_tensor *all[] = {x, w, b, y};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) lc_tensor_release(all[i]);
  }
  lc_ctx_free(ctx);
}

int main(void) {
  have[0] = have[1] = 1;
  have[P_DISPATCH] = have[P_DISPATCH + 1] = have[P_DISPATCH + 2] = 1;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  have[2] = have[3] = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  have[P_AVX512] = have[2] && __builtin_cpu_supports("avx512f");
#endif
  printf("test_gemm: paths");
  for (int p = 0; p < NPATHS; p++)
    if (have[p]) printf(" %s", PATH_NAME[p]);
  printf("\n");
  test_shape_classes();
  test_odd_sizes();
  test_blocks();
  test_avx512_edges();
  test_fused_equals_apart();
  test_cap_falls_back();
  test_linear();
  test_fused_equals_ops();
  printf("test_gemm: %d checks, %d failed\n", g_checks, g_failures);
  return g_failures ? 1 : 0;
}

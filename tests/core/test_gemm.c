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
 * - a fused activation equals the product followed by the activation;
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
  for (size_t i = 0; i < asz; i++) a[i] = rnd();
  for (size_t i = 0; i < bsz; i++) b[i] = rnd();
  for (int64_t j = 0; j < n; j++) bias[j] = rnd();
  for (size_t i = 0; i < csz; i++) c[i] = 1234.5f;  /* the gaps between rows must keep it */
  const float *bp = with_bias ? bias : NULL;
  if (path >= 4) {
    lc__sgemm_force_portable(path == 5);
    lc__sgemm_nt(m, n, k, a, lda, b, ldb, bp, act, c, ldc);
    lc__sgemm_force_portable(0);
  } else {
    lc__sgemm_nt_path(path, m, n, k, a, lda, b, ldb, bp, act, c, ldc);
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

/* Past one k block (256), and wide. */
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
    for (int64_t i = 0; i < m * k; i++) a[i] = 3 * rnd();
    for (int64_t i = 0; i < n * k; i++) b[i] = rnd();
    for (int64_t j = 0; j < n; j++) bias[j] = rnd();
    for (int act = 1; act < 4; act++) {
      lc__sgemm_nt(m, n, k, a, k, b, k, bias, (lc__act)act, c1, n);
      lc__sgemm_nt(m, n, k, a, k, b, k, bias, LC__ACT_NONE, c2, n);
      for (int64_t i = 0; i < m * n; i++) {
        float x = c2[i], y;
        if (act == LC__ACT_RELU) y = x < 0 ? 0.0f : x;
        else if (act == LC__ACT_TANH) y = lc__tanh1f(x);
        else y = 1.0f / (1.0f + expf(-x));
        CHECK(memcmp(&y, &c1[i], sizeof y) == 0, "%s fused %lldx%lldx%lld [%lld]: %a, apart %a",
              ACT_NAME[act], (long long)m, (long long)n, (long long)k, (long long)i, c1[i], y);
      }
    }
    free(a);
    free(b);
    free(bias);
    free(c1);
    free(c2);
    }
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
  CHECK(y && r, "%s: %s", what, lc_ctx_error(ctx));
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
      CHECK(fabs(got - want) <= (double)(in + 4) * FLT_EPSILON * mag + 1e-37,
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
    CHECK(lc_linear_out(ctx, o, x, w, b) == LC_OK, "linear_out: %s", lc_ctx_error(ctx));
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
  CHECK(lc_linear_out(ctx, xs, xs, ws, bs) == LC_EARG &&
            strstr(lc_ctx_error(ctx), "out must not share its elements with an operand"),
        "linear_out into its input: %s", lc_ctx_error(ctx));
  lc_tensor *wrow = lc_narrow(ctx, ws, 0, 0, 4);  /* contiguous rows 1-4 of w: (4, 6) */
  CHECK(lc_linear_out(ctx, wrow, xs, ws, bs) == LC_EARG &&
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
  static const int64_t SH[][3] = {{1, 64, 32}, {8, 32, 64}, {100, 33, 17}};
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
      for (int64_t i = 0; i < rows * outf; i++)
        CHECK(memcmp(&c[i], &rp[i], sizeof(float)) == 0,
              "%s fused (%lld, %lld -> %lld) [%lld]: %a, linear then %s: %a", ACT_NAME[act],
              (long long)rows, (long long)in, (long long)outf, (long long)i, c[i], ACT_NAME[act],
              rp[i]);
      lc_tensor_release(r);
    }
    free(c);
      lc_tensor *all[] = {x, w, b, y};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) lc_tensor_release(all[i]);
  }
  lc_ctx_free(ctx);
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
  test_linear();
  test_fused_equals_ops();
  printf("test_gemm: %s\n", failures ? "FAILED" : "ok");
  return failures ? 1 : 0;
}

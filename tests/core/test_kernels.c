/* test_kernels.c: the vectorised kernels against their references.
 * - float32 tanh: within 2 ulp of the correctly rounded tanh over a sweep of
 *   float bit patterns (every 251st positive float, mirrored) and the special
 *   values; the AVX2 path and the portable path return the same bits; odd
 *   lengths and strided (non-contiguous) inputs agree with contiguous ones. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/internal.h"

static int failures;
#define CHECK(cond, ...)                                        \
  do {                                                          \
    if (!(cond)) {                                              \
      if (failures++ < 20) {                                    \
        fprintf(stderr, "test_kernels: %s:%d: ", __FILE__, __LINE__); \
        fprintf(stderr, __VA_ARGS__);                           \
        fputc('\n', stderr);                                    \
      }                                                         \
    }                                                           \
  } while (0)

static uint32_t bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float from_bits(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

/* Distance in units in the last place between two floats of the same sign. */
static int64_t ulps(float a, float b) {
  int64_t ia = (int32_t)bits(a), ib = (int32_t)bits(b);
  if (ia < 0) ia = INT32_MIN - ia;  /* order negative floats below positive ones */
  if (ib < 0) ib = INT32_MIN - ib;
  return ia > ib ? ia - ib : ib - ia;
}

static void test_tanh_accuracy(void) {
  enum { CHUNK = 4096 };
  static float in[CHUNK], vec[CHUNK], sca[CHUNK];
  int64_t worst = 0;
  float worst_x = 0;
  long checked = 0;
  uint32_t u = 0;
  int simd = lc__tanh_f32_simd_available();
  while (u < 0x7f800000u) {  /* positive finite floats, then mirrored */
    int n = 0;
    for (; n < CHUNK && u < 0x7f800000u; u += 251) {
      in[n++] = from_bits(u);
      if (n < CHUNK) { in[n] = -in[n - 1]; n++; }
    }
    lc__tanh_f32(n, vec, in, 1);
    lc__tanh_f32(n, sca, in, 0);
    for (int i = 0; i < n; i++) {
      float ref = (float)tanh((double)in[i]);
      int64_t d = ulps(vec[i], ref);
      if (d > worst) { worst = d; worst_x = in[i]; }
      CHECK(bits(vec[i]) == bits(sca[i]), "x = %a: vector %a, portable %a", in[i], vec[i], sca[i]);
    }
    checked += n;
  }
  CHECK(worst <= 2, "worst error %lld ulp at x = %a", (long long)worst, worst_x);
  float specials[] = {0.0f, -0.0f, 1e-45f, -1e-45f, 1e-30f, 1e-8f, -1e-8f, 0.5f, 0.625f,
                      8.9f, 9.0f, 9.5f, 10.0f, 88.0f, 1e30f, -1e30f, INFINITY, -INFINITY};
  int ns = (int)(sizeof specials / sizeof specials[0]);
  lc__tanh_f32(ns, vec, specials, 1);
  for (int i = 0; i < ns; i++) {
    float ref = (float)tanh((double)specials[i]);
    CHECK(bits(vec[i]) == bits(ref) || ulps(vec[i], ref) <= 1, "special %a: %a, expected %a",
          specials[i], vec[i], ref);
    CHECK(signbit(vec[i]) == signbit(specials[i]), "sign of tanh(%a)", specials[i]);
  }
  float nan_in[3] = {NAN, -NAN, 1.0f};
  lc__tanh_f32(3, vec, nan_in, 1);
  CHECK(isnan(vec[0]) && isnan(vec[1]) && vec[2] == (float)tanh(1.0), "nan in, nan out");
  printf("test_kernels: tanh float32 over %ld inputs, worst %lld ulp, %s path\n", checked,
         (long long)worst, simd ? "AVX2+FMA" : "portable");
}

static void *sys_alloc(void *ud, void *p, size_t o, size_t n) {
  (void)ud; (void)o;
  if (n == 0) { free(p); return NULL; }
  return realloc(p, n);
}

/* Odd lengths (the vector loop's tail) and strided views agree with a
 * contiguous run of the same values. */
static void test_tanh_layouts(void) {
  lc_ctx *ctx = lc_ctx_new(sys_alloc, NULL);
  for (int64_t n = 0; n < 40; n++) {
    int64_t shape[1] = {n};
    lc_tensor *x = lc_randn(ctx, LC_FLOAT32, 1, shape);
    lc_tensor *y = lc_tanh(ctx, x);
    const float *xd = (const float *)lc_tensor_data(x), *yd = (const float *)lc_tensor_data(y);
    for (int64_t i = 0; i < n; i++) CHECK(yd[i] == lc__tanh1f(xd[i]), "n = %lld, i = %lld", (long long)n, (long long)i);
    lc_tensor_release(x);
    lc_tensor_release(y);
  }
  int64_t shape[2] = {37, 19};
  lc_tensor *x = lc_randn(ctx, LC_FLOAT32, 2, shape);
  lc_tensor *xt = lc_transpose(ctx, x, 0, 1);
  lc_tensor *yt = lc_tanh(ctx, xt), *y = lc_tanh(ctx, x);
  int64_t idx[2];
  for (idx[0] = 0; idx[0] < 19; idx[0]++)
    for (idx[1] = 0; idx[1] < 37; idx[1]++) {
      int64_t j[2] = {idx[1], idx[0]};
      CHECK(lc_tensor_get(yt, idx) == lc_tensor_get(y, j), "strided tanh at (%lld, %lld)",
            (long long)idx[0], (long long)idx[1]);
    }
  lc_tensor_release(y); lc_tensor_release(yt); lc_tensor_release(xt); lc_tensor_release(x);
  lc_ctx_free(ctx);
}

/* lc__k_gemm takes two paths: a plain loop for tiny products and BLAS above
 * that; both must agree with a naive product, for every transpose and for
 * the one-row (GEMV) case. */
static void test_gemm_paths(void) {
  int64_t sizes[][3] = {{2, 3, 4}, {1, 8, 4}, {1, 300, 200}, {64, 48, 40}, {5, 1, 700}};
  for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
    int64_t m = sizes[si][0], n = sizes[si][1], k = sizes[si][2];
    for (int dt = 0; dt < 2; dt++)
      for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
          double *A = malloc(sizeof(double) * (size_t)(m * k)), *B = malloc(sizeof(double) * (size_t)(k * n));
          double *C = malloc(sizeof(double) * (size_t)(m * n));
          float *Af = malloc(sizeof(float) * (size_t)(m * k)), *Bf = malloc(sizeof(float) * (size_t)(k * n));
          float *Cf = malloc(sizeof(float) * (size_t)(m * n));
          for (int64_t i = 0; i < m * k; i++) Af[i] = (float)(A[i] = sin(0.37 * (double)i));
          for (int64_t i = 0; i < k * n; i++) Bf[i] = (float)(B[i] = cos(0.11 * (double)i));
          for (int64_t i = 0; i < m * n; i++) Cf[i] = (float)(C[i] = 0.5);
          int64_t lda = ta ? m : k, ldb = tb ? k : n;
          if (dt) lc__k_gemm(LC_FLOAT64, ta, tb, m, n, k, 2.0, A, lda, B, ldb, 0.25, C, n);
          else lc__k_gemm(LC_FLOAT32, ta, tb, m, n, k, 2.0, Af, lda, Bf, ldb, 0.25, Cf, n);
          double worst = 0;
          for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) {
              double acc = 0;
              for (int64_t p = 0; p < k; p++)
                acc += A[ta ? p * lda + i : i * lda + p] * B[tb ? j * ldb + p : p * ldb + j];
              double want = 2.0 * acc + 0.25 * 0.5, got = dt ? C[i * n + j] : Cf[i * n + j];
              double err = fabs(got - want) / (1.0 + fabs(want));
              if (err > worst) worst = err;
            }
          CHECK(worst < (dt ? 1e-12 : 1e-4), "gemm %lldx%lldx%lld %s ta=%d tb=%d: error %g",
                (long long)m, (long long)n, (long long)k, dt ? "f64" : "f32", ta, tb, worst);
          free(A); free(B); free(C); free(Af); free(Bf); free(Cf);
        }
  }
}

int main(void) {
  test_tanh_accuracy();
  test_tanh_layouts();
  test_gemm_paths();
  printf("test_kernels: %s\n", failures ? "FAILED" : "ok");
  return failures ? 1 : 0;
}

/* test_kernels.c: the vectorised kernels against their references.
 * - float32 exp, sigmoid, tanh, gelu's tanh form (simd.c): within 2 ulp of the double
 *   function over a sample of float bit patterns (every 1009th positive
 *   float, mirrored) and the special values; every path returns the same
 *   bits; odd lengths and strided (non-contiguous) inputs agree with
 *   contiguous ones. */
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

static double ref_sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

static double ref_gelu_tanh(double x) {
  double u = 0.7978845608028654 * (x + 0.044715 * x * x * x);
  return x / (1.0 + exp(-2.0 * u));
}
static lc_tensor *gelu_tanh(lc_ctx *ctx, lc_tensor *x) { return lc_gelu(ctx, x, 1); }

/* x Phi(x); below -13 (|gelu| < 2^-122) the kernel gives -0 (test_simd.c
 * checks it is within 2^-120 there) */
static double ref_gelu_erf(double x) { return x < -13 ? x * 0.0 : 0.5 * x * erfc(-x * 0.7071067811865476); }
static lc_tensor *gelu_erf(lc_ctx *ctx, lc_tensor *x) { return lc_gelu(ctx, x, 0); }

static const struct {
  const char *name;
  lc_vfn fn;
  double (*ref)(double);
  lc_tensor *(*op)(lc_ctx *, lc_tensor *);
} VF[] = {
  {"exp", LC_VF_EXP, exp, lc_exp},
  {"sigmoid", LC_VF_SIGMOID, ref_sigmoid, lc_sigmoid},
  {"tanh", LC_VF_TANH, tanh, lc_tanh},
  {"gelu_tanh", LC_VF_GELU_TANH, ref_gelu_tanh, gelu_tanh},
  {"gelu_erf", LC_VF_GELU_ERF, ref_gelu_erf, gelu_erf},
};
#define NVF ((int)(sizeof VF / sizeof VF[0]))

/* Every 1009th positive float and its negation against the double function;
 * the one-at-a-time paths (fmaf calls, and the FMA instruction) give the
 * vector's bits on every 16th chunk. test_simd.c sweeps all 2^32 inputs;
 * this sample is what the ASan and valgrind runs can afford. */
static void test_vf_accuracy(int f) {
  enum { CHUNK = 4096 };
  static float in[CHUNK], vec[CHUNK], sca[CHUNK];
  int64_t worst = 0;
  float worst_x = 0;
  long checked = 0, chunk = 0;
  uint32_t u = 0;
  while (u < 0x7f800000u) {
    int n = 0;
    for (; n < CHUNK && u < 0x7f800000u; u += 1009) {
      in[n++] = from_bits(u);
      if (n < CHUNK) { in[n] = -in[n - 1]; n++; }
    }
    lc__vmap_f32(VF[f].fn, n, vec, in, LC_SIMD_BEST);
    for (int i = 0; i < n; i++) {
      float ref = (float)VF[f].ref((double)in[i]);
      int64_t d = ulps(vec[i], ref);
      if (d > worst) { worst = d; worst_x = in[i]; }
    }
    if (chunk++ % 16 == 0)
      for (int level = LC_SIMD_PLAIN; level <= LC_SIMD_NONE; level++) {
        lc__vmap_f32(VF[f].fn, n, sca, in, level);
        for (int i = 0; i < n; i++)
          CHECK(bits(vec[i]) == bits(sca[i]), "%s(%a): vector %a, level %d %a", VF[f].name,
                in[i], vec[i], level, sca[i]);
      }
    checked += n;
  }
  CHECK(worst <= 2, "%s: worst error %lld ulp at x = %a", VF[f].name, (long long)worst, worst_x);
  float specials[] = {0.0f, -0.0f, 1e-45f, -1e-45f, 1e-30f, 1e-8f, -1e-8f, 0.5f, 0.625f,
                      8.9f, 9.0f, 9.5f, 10.0f, 88.0f, 88.8f, -87.5f, -103.9f, -104.0f,
                      1e30f, -1e30f, INFINITY, -INFINITY};
  int ns = (int)(sizeof specials / sizeof specials[0]);
  lc__vmap_f32(VF[f].fn, ns, vec, specials, LC_SIMD_BEST);
  for (int i = 0; i < ns; i++) {
    float ref = (float)VF[f].ref((double)specials[i]);
    CHECK(ulps(vec[i], ref) <= 1, "%s(%a): %a, expected %a", VF[f].name, specials[i], vec[i], ref);
    CHECK(signbit(vec[i]) == signbit(ref), "sign of %s(%a)", VF[f].name, specials[i]);
  }
  float nan_in[3] = {NAN, -NAN, 1.0f};
  lc__vmap_f32(VF[f].fn, 3, vec, nan_in, LC_SIMD_BEST);
  CHECK(isnan(vec[0]) && isnan(vec[1]) && ulps(vec[2], (float)VF[f].ref(1.0)) <= 2,
        "%s: nan in, nan out",
        VF[f].name);
  printf("test_kernels: %s float32 over %ld inputs, worst %lld ulp, SIMD level %d\n", VF[f].name,
         checked, (long long)worst, lc__simd_level());
}

static void *sys_alloc(void *ud, void *p, size_t o, size_t n) {
  (void)ud; (void)o;
  if (n == 0) { free(p); return NULL; }
  return realloc(p, n);
}

/* Odd lengths (the vector loop's tail) and strided views agree with a
 * contiguous run of the same values. */
static void test_vf_layouts(int f) {
  lc_ctx *ctx = lc_ctx_new(sys_alloc, NULL);
  for (int64_t n = 0; n < 40; n++) {
    int64_t shape[1] = {n};
    lc_tensor *x = lc_randn(ctx, LC_FLOAT32, 1, shape);
    lc_tensor *y = VF[f].op(ctx, x);
    const float *xd = (const float *)lc_tensor_data(x), *yd = (const float *)lc_tensor_data(y);
    for (int64_t i = 0; i < n; i++) {
      float one;
      lc__vmap_f32(VF[f].fn, 1, &one, xd + i, LC_SIMD_NONE);
      CHECK(bits(yd[i]) == bits(one), "%s: n = %lld, i = %lld", VF[f].name, (long long)n, (long long)i);
    }
    lc_tensor_release(x);
    lc_tensor_release(y);
  }
  int64_t shape[2] = {37, 19};
  lc_tensor *x = lc_randn(ctx, LC_FLOAT32, 2, shape);
  lc_tensor *xt = lc_transpose(ctx, x, 0, 1);
  lc_tensor *yt = VF[f].op(ctx, xt), *y = VF[f].op(ctx, x);
  int64_t idx[2];
  for (idx[0] = 0; idx[0] < 19; idx[0]++)
    for (idx[1] = 0; idx[1] < 37; idx[1]++) {
      int64_t j[2] = {idx[1], idx[0]};
      CHECK(lc_tensor_get(yt, idx) == lc_tensor_get(y, j), "strided %s at (%lld, %lld)",
            VF[f].name, (long long)idx[0], (long long)idx[1]);
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
  for (int f = 0; f < NVF; f++) {
    test_vf_accuracy(f);
    test_vf_layouts(f);
  }
  test_gemm_paths();
  printf("test_kernels: %s\n", failures ? "FAILED" : "ok");
  return failures ? 1 : 0;
}

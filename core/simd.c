/* simd.c: a vectorised float32 tanh, chosen at run time.
 *
 * tanh(x) = e / (e + 2) with e = expm1(2|x|), sign copied back. expm1 is
 * computed in double: 2|x| = n ln2 + r with |r| <= ln2/2, expm1(r) by a
 * polynomial, then expm1(2|x|) = 2^n expm1(r) + (2^n - 1). Near 0, n = 0 and
 * the result is expm1(r) itself, so small inputs keep full relative accuracy
 * (no 1 - 2/(e+1) cancellation). Working in double and rounding once to
 * float gives results within 1 ulp of the correctly rounded tanh.
 *
 * The same steps run in two forms: 4 doubles at a time with AVX2 + FMA, and
 * one at a time in plain C (used when the CPU lacks AVX2/FMA and for the
 * tail of a row). Both use fma for the same operations, so they return the
 * same bits: results never depend on which CPU ran them. */
#include "internal.h"

#include <math.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define LC_HAVE_AVX2_PATH 1
#include <immintrin.h>
#endif

/* Past this |x|, tanh rounds to +-1 in float32 (tanh(9.01) = 1 - 3e-8). */
#define TANH_CLAMP 9.5

/* expm1(r) for |r| <= ln2/2: r + r^2/2! + ... + r^10/10!, Horner with fma.
 * The first term left out, r^11/11!, is below 3e-13 relative: far under
 * float32's 6e-8, so the final rounding to float decides the result. */
static const double EXPM1_C[] = {
  1.0 / 3628800.0, 1.0 / 362880.0, 1.0 / 40320.0, 1.0 / 5040.0, 1.0 / 720.0,
  1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0};
#define EXPM1_N (sizeof EXPM1_C / sizeof EXPM1_C[0])

static const double LN2_HI = 6.93147180369123816490e-01;  /* ln2 split for an exact n*ln2 */
static const double LN2_LO = 1.90821492927058770002e-10;
static const double INV_LN2 = 1.44269504088896338700e+00;

float lc__tanh1f(float xf) {
  double x = (double)xf;
  double ax = fabs(x);
  if (isnan(ax)) return xf;  /* before any conversion to int (that would be undefined) */
  if (ax > TANH_CLAMP) ax = TANH_CLAMP;
  double t = 2.0 * ax;
  double n = nearbyint(t * INV_LN2);
  double r = fma(-n, LN2_HI, t);
  r = fma(-n, LN2_LO, r);
  double p = EXPM1_C[0];
  for (size_t i = 1; i < EXPM1_N; i++) p = fma(p, r, EXPM1_C[i]);
  double em = p * r;                                  /* expm1(r) */
  double two_n = ldexp(1.0, (int)n);
  double e = fma(two_n, em, two_n - 1.0);             /* expm1(2|x|) */
  double y = e / (e + 2.0);
  return (float)copysign(y, x);
}

#ifdef LC_HAVE_AVX2_PATH
__attribute__((target("avx2,fma"))) static __m128 tanh4(__m128 xf) {
  __m256d x = _mm256_cvtps_pd(xf);
  __m256d sign = _mm256_and_pd(x, _mm256_set1_pd(-0.0));
  __m256d ax = _mm256_andnot_pd(_mm256_set1_pd(-0.0), x);
  ax = _mm256_min_pd(_mm256_set1_pd(TANH_CLAMP), ax);  /* NaN stays NaN (second operand) */
  __m256d t = _mm256_add_pd(ax, ax);
  __m256d n = _mm256_round_pd(_mm256_mul_pd(t, _mm256_set1_pd(INV_LN2)),
                              _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256d r = _mm256_fmadd_pd(_mm256_sub_pd(_mm256_setzero_pd(), n), _mm256_set1_pd(LN2_HI), t);
  r = _mm256_fmadd_pd(_mm256_sub_pd(_mm256_setzero_pd(), n), _mm256_set1_pd(LN2_LO), r);
  __m256d p = _mm256_set1_pd(EXPM1_C[0]);
  for (size_t i = 1; i < EXPM1_N; i++) p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(EXPM1_C[i]));
  __m256d em = _mm256_mul_pd(p, r);
  /* 2^n built in the exponent bits; n is in [0, 28] here */
  __m128i ni = _mm256_cvtpd_epi32(n);
  __m256i bits = _mm256_slli_epi64(_mm256_add_epi64(_mm256_cvtepi32_epi64(ni), _mm256_set1_epi64x(1023)), 52);
  __m256d two_n = _mm256_castsi256_pd(bits);
  __m256d e = _mm256_fmadd_pd(two_n, em, _mm256_sub_pd(two_n, _mm256_set1_pd(1.0)));
  __m256d y = _mm256_div_pd(e, _mm256_add_pd(e, _mm256_set1_pd(2.0)));
  return _mm256_cvtpd_ps(_mm256_or_pd(y, sign));
}

__attribute__((target("avx2,fma"))) static void tanh_avx2(int64_t n, float *o, const float *a) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {  /* two halves per iteration keep both FMA ports busy */
    __m128 lo = tanh4(_mm_loadu_ps(a + i)), hi = tanh4(_mm_loadu_ps(a + i + 4));
    _mm_storeu_ps(o + i, lo);
    _mm_storeu_ps(o + i + 4, hi);
  }
  for (; i < n; i++) o[i] = lc__tanh1f(a[i]);
}
#endif

int lc__tanh_f32_simd_available(void) {
#ifdef LC_HAVE_AVX2_PATH
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return 0;
#endif
}

void lc__tanh_f32(int64_t n, float *o, const float *a, int allow_simd) {
#ifdef LC_HAVE_AVX2_PATH
  if (allow_simd && lc__tanh_f32_simd_available()) {
    tanh_avx2(n, o, a);
    return;
  }
#else
  (void)allow_simd;
#endif
  for (int64_t i = 0; i < n; i++) o[i] = lc__tanh1f(a[i]);
}

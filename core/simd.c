/* simd.c: float32 exp, sigmoid, tanh and gelu (both forms), vectorised and chosen at run time.
 *
 * The kernels (simd_kernels.h) compute in float with fused multiply-adds
 * and stay within 2 ulp of the correctly rounded result over every float32
 * input (tests/core/test_simd.c checks all 2^32 of them). They exist in
 * four forms: 16 lanes with AVX-512F, 8 with AVX2 + FMA, and one at a time
 * in C (CPUs without AVX2, strided rows), with the FMA instruction or
 * through fmaf. All run the same operations, fused where the vectors fuse,
 * so they return the same bits: results never depend on the CPU that
 * computed them. */
#include "internal.h"

/* a multiply then an add must stay two roundings in the plain form, as in
 * the vector ones (GCC's C modes never contract; clang's default would) */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#include <math.h>
#include <string.h>

/* ---- plain C --------------------------------------------------------------- */
static inline uint32_t f2u(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float u2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

#define V float
#define U uint32_t
#define M int
#define SUF c
#define ATTR
#define K(c) (c)
#define KU(c) ((uint32_t)(c))
#define ADD(a, b) ((a) + (b))
#define SUB(a, b) ((a) - (b))
#define MUL(a, b) ((a) * (b))
#define DIV(a, b) ((a) / (b))
#define FMA(a, b, c) fmaf(a, b, c)
#define FMS(a, b, c) fmaf(a, b, -(c))
#define MIN(k, x) ((k) < (x) ? (k) : (x))
#define MAX(k, x) ((k) > (x) ? (k) : (x))
#define AND(a, b) u2f(f2u(a) & f2u(b))
#define OR(a, b) u2f(f2u(a) | f2u(b))
#define XOR(a, b) u2f(f2u(a) ^ f2u(b))
#define ABS(a) fabsf(a)
#define LT(a, b) ((a) < (b))
#define SEL(c, a, b) ((c) ? (a) : (b))
#define BITS(v) f2u(v)
#define FROM_BITS(u) u2f(u)
#define UADD(a, b) ((a) + (b))
#define USUB(a, b) ((a) - (b))
#define USHL(a, k) ((a) << (k))
#define USHR(a, k) ((a) >> (k))
#define SIMD_KEEP_PARAMS
#include "simd_kernels.h"
#undef SIMD_KEEP_PARAMS
/* again with the FMA instruction inlined, for CPUs that have it: fmaf is a
 * call (~3 ns) per operation, 20 times the kernel's own time (elsewhere an
 * unused copy) */
#undef SUF
#undef ATTR
#undef FMA
#undef FMS
#define SUF cfma
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define ATTR __attribute__((target("fma")))
#define FMA(a, b, c) __builtin_fmaf(a, b, c)
#define FMS(a, b, c) __builtin_fmaf(a, b, -(c))
#define LC_HAVE_X86_PATHS 1
#else
#define ATTR
#define FMA(a, b, c) fmaf(a, b, c)
#define FMS(a, b, c) fmaf(a, b, -(c))
#endif
#include "simd_kernels.h"

#ifdef LC_HAVE_X86_PATHS
static int have_fma(void) { return __builtin_cpu_supports("fma"); }
#define ONE(name) (have_fma() ? name##_cfma : name##_c)
#else
#define ONE(name) name##_c
#endif
float lc__exp1f(float x) { return ONE(exp)(x); }
float lc__sigmoid1f(float x) { return ONE(sigmoid)(x); }
float lc__tanh1f(float x) { return ONE(tanh)(x); }
float lc__gelu_tanh1f(float x) { return ONE(gelu_tanh)(x); }
float lc__gelu_erf1f(float x) { return ONE(gelu_erf)(x); }

static float (*const SCALAR[LC_VF_COUNT])(float) = {
  [LC_VF_EXP] = exp_c, [LC_VF_SIGMOID] = sigmoid_c, [LC_VF_TANH] = tanh_c,
  [LC_VF_GELU_TANH] = gelu_tanh_c, [LC_VF_GELU_ERF] = gelu_erf_c};

#ifdef LC_HAVE_X86_PATHS
static float (*const SCALAR_FMA[LC_VF_COUNT])(float) = {
  [LC_VF_EXP] = exp_cfma, [LC_VF_SIGMOID] = sigmoid_cfma, [LC_VF_TANH] = tanh_cfma,
  [LC_VF_GELU_TANH] = gelu_tanh_cfma, [LC_VF_GELU_ERF] = gelu_erf_cfma};

#include <immintrin.h>

/* ---- AVX2 + FMA, 8 lanes ------------------------------------------------------ */
#define V __m256
#define U __m256i
#define M __m256
#define SUF avx2
#define ATTR __attribute__((target("avx2,fma")))
#define K(c) _mm256_set1_ps(c)
#define KU(c) _mm256_set1_epi32((int)(c))
#define ADD _mm256_add_ps
#define SUB _mm256_sub_ps
#define MUL _mm256_mul_ps
#define DIV _mm256_div_ps
#define FMA _mm256_fmadd_ps
#define FMS _mm256_fmsub_ps
#define MIN _mm256_min_ps  /* the second operand when either is NaN */
#define MAX _mm256_max_ps
#define AND _mm256_and_ps
#define OR _mm256_or_ps
#define XOR _mm256_xor_ps
#define ABS(a) _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a)
#define LT(a, b) _mm256_cmp_ps(a, b, _CMP_LT_OQ)
#define SEL(c, a, b) _mm256_blendv_ps(b, a, c)
#define BITS _mm256_castps_si256
#define FROM_BITS _mm256_castsi256_ps
#define UADD _mm256_add_epi32
#define USUB _mm256_sub_epi32
#define USHL _mm256_slli_epi32
#define USHR _mm256_srli_epi32
#include "simd_kernels.h"

/* A row: full vectors (through the in-range form when every lane is within
 * +-lim, lim > 0), then the tail through a padded copy (a vector on 1-7
 * values costs less than as many scalar calls, and gives their bits). */
#define MAP_AVX2(name, in_range, lim)                                              \
  __attribute__((target("avx2,fma"))) static void map_##name##_avx2(int64_t n, float *o, \
                                                                      const float *a) { \
    int64_t i = 0;                                                                 \
    for (; i + 8 <= n; i += 8) {                                                   \
      __m256 v = _mm256_loadu_ps(a + i);                                           \
      __m256 ok = _mm256_cmp_ps(ABS(v), _mm256_set1_ps(lim), _CMP_LE_OQ);          \
      if (lim > 0 && _mm256_movemask_ps(ok) == 0xff) _mm256_storeu_ps(o + i, in_range##_avx2(v)); \
      else _mm256_storeu_ps(o + i, name##_avx2(v));                                \
    }                                                                              \
    if (i < n) {                                                                   \
      float buf[8] = {0};                                                          \
      memcpy(buf, a + i, sizeof(float) * (size_t)(n - i));                         \
      _mm256_storeu_ps(buf, name##_avx2(_mm256_loadu_ps(buf)));                    \
      memcpy(o + i, buf, sizeof(float) * (size_t)(n - i));                         \
    }                                                                              \
  }
#define ABS(a) _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a)
MAP_AVX2(exp, exp_in, 87.0f)
MAP_AVX2(sigmoid, sigmoid_in, 87.0f)
MAP_AVX2(tanh, tanh, 0.0f)
MAP_AVX2(gelu_tanh, gelu_tanh, 0.0f)
MAP_AVX2(gelu_erf, gelu_erf, 0.0f)
#undef ABS

static void (*const AVX2[LC_VF_COUNT])(int64_t, float *, const float *) = {
  [LC_VF_EXP] = map_exp_avx2, [LC_VF_SIGMOID] = map_sigmoid_avx2,
  [LC_VF_TANH] = map_tanh_avx2, [LC_VF_GELU_TANH] = map_gelu_tanh_avx2,
  [LC_VF_GELU_ERF] = map_gelu_erf_avx2};

/* ---- AVX-512F, 16 lanes ---------------------------------------------------- */
#define V __m512
#define U __m512i
#define M __mmask16
#define SUF avx512
#define ATTR __attribute__((target("avx512f")))
#define K(c) _mm512_set1_ps(c)
#define KU(c) _mm512_set1_epi32((int)(c))
#define ADD _mm512_add_ps
#define SUB _mm512_sub_ps
#define MUL _mm512_mul_ps
#define DIV _mm512_div_ps
#define FMA _mm512_fmadd_ps
#define FMS _mm512_fmsub_ps
#define MIN _mm512_min_ps  /* the second operand when either is NaN, as AVX2's */
#define MAX _mm512_max_ps
/* float and/or are AVX-512DQ's: the integer ones do on the bits */
#define AND(a, b) _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(a), _mm512_castps_si512(b)))
#define OR(a, b) _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(a), _mm512_castps_si512(b)))
#define XOR(a, b) _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(a), _mm512_castps_si512(b)))
#define ABS(a) AND(a, _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff)))
#define LT(a, b) _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ)
#define SEL(c, a, b) _mm512_mask_blend_ps(c, b, a)
#define BITS _mm512_castps_si512
#define FROM_BITS _mm512_castsi512_ps
#define UADD _mm512_add_epi32
#define USUB _mm512_sub_epi32
#define USHL _mm512_slli_epi32
#define USHR _mm512_srli_epi32
#define SEL_DIV(c, n, d, b) _mm512_mask_div_ps(b, c, n, d)
#include "simd_kernels.h"

/* as MAP_AVX2; the tail is one masked vector (masked lanes are neither read
 * nor written) */
#define MAP_AVX512(name, in_range, lim)                                            \
  __attribute__((target("avx512f"))) static void map_##name##_avx512(int64_t n, float *o, \
                                                                     const float *a) { \
    int64_t i = 0;                                                                 \
    for (; i + 16 <= n; i += 16) {                                                 \
      __m512 v = _mm512_loadu_ps(a + i);                                           \
      __m512 av = _mm512_castsi512_ps(                                             \
        _mm512_and_si512(_mm512_castps_si512(v), _mm512_set1_epi32(0x7fffffff)));  \
      if (lim > 0 && _mm512_cmp_ps_mask(av, _mm512_set1_ps(lim), _CMP_LE_OQ) == 0xffff) \
        _mm512_storeu_ps(o + i, in_range##_avx512(v));                             \
      else _mm512_storeu_ps(o + i, name##_avx512(v));                              \
    }                                                                              \
    if (i < n) {                                                                   \
      __mmask16 m = (__mmask16)((1u << (n - i)) - 1);                              \
      _mm512_mask_storeu_ps(o + i, m, name##_avx512(_mm512_maskz_loadu_ps(m, a + i))); \
    }                                                                              \
  }
MAP_AVX512(exp, exp_in, 87.0f)
MAP_AVX512(sigmoid, sigmoid_in, 87.0f)
MAP_AVX512(tanh, tanh, 0.0f)
MAP_AVX512(gelu_tanh, gelu_tanh, 0.0f)
MAP_AVX512(gelu_erf, gelu_erf, 0.0f)

static void (*const AVX512[LC_VF_COUNT])(int64_t, float *, const float *) = {
  [LC_VF_EXP] = map_exp_avx512, [LC_VF_SIGMOID] = map_sigmoid_avx512,
  [LC_VF_TANH] = map_tanh_avx512, [LC_VF_GELU_TANH] = map_gelu_tanh_avx512,
  [LC_VF_GELU_ERF] = map_gelu_erf_avx512};
#endif

int lc__simd_level(void) {
#ifdef LC_HAVE_X86_PATHS
  if (__builtin_cpu_supports("avx512f")) return LC_SIMD_AVX512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return LC_SIMD_AVX2;
#endif
  return LC_SIMD_NONE;
}

void lc__vmap_f32(lc_vfn fn, int64_t n, float *o, const float *a, int level) {
  float (*f)(float) = SCALAR[fn];
#ifdef LC_HAVE_X86_PATHS
  int best = lc__simd_level();
  if (level >= LC_SIMD_AVX512 && best >= LC_SIMD_AVX512) {
    AVX512[fn](n, o, a);
    return;
  }
  if (level >= LC_SIMD_AVX2 && best >= LC_SIMD_AVX2) {
    AVX2[fn](n, o, a);
    return;
  }
  if (level > LC_SIMD_PLAIN && have_fma()) f = SCALAR_FMA[fn];
#else
  (void)level;
#endif
  for (int64_t i = 0; i < n; i++) o[i] = f(a[i]);
}

void lc__tanh_f32(int64_t n, float *o, const float *a, int allow_simd) {
  lc__vmap_f32(LC_VF_TANH, n, o, a, allow_simd ? LC_SIMD_BEST : LC_SIMD_NONE);
}

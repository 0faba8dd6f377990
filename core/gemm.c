/* gemm.c: the float32 products of small models, C = act(A B^T + bias).
 *
 * Linear's forward is y (m, n) = x (m, k) @ w (n, k)^T + b (n), and the
 * shapes small models use (k or n of 2-256, m from 1 to 1000) are where
 * Debian's OpenBLAS is weakest: on a CPU it does not recognise it runs its
 * generic kernels, and every call pays its setup. So four paths, chosen by
 * shape and by what the CPU runs (the table is at choose()):
 *
 * - dot: each result is a dot product of a row of A with a row of B, both
 *   contiguous in k, vectorised along k, a tile of up to 4 rows of A by 4
 *   (8 for one row) rows of B. Nothing is packed: B is read once per group
 *   of A rows, so one row of A (batch 1) runs at the speed B streams in.
 * - packed (AVX2 + FMA): 16 rows of B at a time are copied (transposed) into
 *   a panel of KC x 16 on the stack, then a 6x16 register tile (12
 *   accumulators, 2 vector loads of B and 6 broadcasts of A per step of k)
 *   walks A down the panel; k in blocks of KC, so that A's six rows and the
 *   panel stay in L1.
 * - AVX-512: the same idea twice as wide and with cache blocking: a 12x32
 *   register tile (24 of the 32 registers), B packed in 32-column panels by
 *   blocks of up to 32 KB on the stack (k in even blocks of at most 256; all
 *   of B when k and n are 64 or less), A read in place in row slices that
 *   stay in L2, each 12-row strip of A in L1 while it meets every panel of
 *   the block (see sgemm_avx512).
 * - OpenBLAS, where it measured faster (only with kernels made for the CPU).
 * None of gemm.c's own paths allocates: a compiled plan may run them on any
 * thread. The bias and ReLU are applied to the register tile before it is
 * stored; tanh and sigmoid run over rows of finished results while they
 * are in L1 (simd.c's kernels, the elementwise ops' bits).
 *
 * Rounding: the vector paths sum in float with fma, in a different order
 * from OpenBLAS's and from the portable path (plain C loops, a float sum per
 * result in k order, used when the CPU lacks AVX2+FMA or when a test asks),
 * and from each other, so results agree to float32 rounding of a k-term
 * sum, not bit for bit.
 * The bias is added after the products (OpenBLAS's beta = 1 start added it
 * first). */
#include "internal.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define LC_GEMM_AVX2 1
#include <immintrin.h>
#endif

#define MR 6     /* rows of the packed tile */
#define NR 16    /* columns of a packed panel: two 8-float vectors */
#define KC 256   /* k block: A's 6 rows (6 KB) and a panel (16 KB) fit L1's 48 KB */

static int level_cap = LC_SIMD_BEST;

void lc__sgemm_force_level(int level) { level_cap = level; }

static int use_avx2(void) {
#ifdef LC_GEMM_AVX2
  return level_cap >= LC_SIMD_AVX2 && __builtin_cpu_supports("avx2") &&
         __builtin_cpu_supports("fma");
#else
  return 0;
#endif
}

static int use_avx512(void) {
#ifdef LC_GEMM_AVX2
  return level_cap >= LC_SIMD_AVX512 && use_avx2() && __builtin_cpu_supports("avx512f");
#else
  return 0;
#endif
}

/* The activations after the bias, over one row of n results. ReLU is lc_relu's
 * x < 0 ? 0 : x (NaN and -0 pass). tanh and sigmoid are simd.c's, as
 * lc_tanh's and lc_sigmoid's float32 rows, so a fused Linear+Sigmoid equals
 * the two ops run apart, bit for bit (test_gemm checks). */
static void act_row(lc__act act, int64_t n, float *c) {
  switch (act) {
    case LC__ACT_RELU:
      for (int64_t j = 0; j < n; j++) c[j] = c[j] < 0.0f ? 0.0f : c[j];
      break;
    case LC__ACT_TANH: lc__tanh_f32(n, c, c, 1); break;
    case LC__ACT_SIGMOID: lc__vmap_f32(LC_VF_SIGMOID, n, c, c, LC_SIMD_BEST); break;
    default: break;
  }
}

/* ---- portable ----------------------------------------------------------------------- */

static void sgemm_portable(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                           const float *b, int64_t ldb, const float *bias, lc__act act, float *c,
                           int64_t ldc) {
  for (int64_t i = 0; i < m; i++) {
    for (int64_t j = 0; j < n; j++) {
      float s = 0.0f;
      for (int64_t p = 0; p < k; p++) s = fmaf(a[i * lda + p], b[j * ldb + p], s);
      c[i * ldc + j] = s + (bias ? bias[j] : 0.0f);
    }
    act_row(act, n, c + i * ldc);
  }
}

/* ---- OpenBLAS ----------------------------------------------------------------------- */

static void sgemm_blas(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                       const float *b, int64_t ldb, const float *bias, lc__act act, float *c,
                       int64_t ldc) {
  if (bias)
    for (int64_t i = 0; i < m; i++) memcpy(c + i * ldc, bias, sizeof(float) * (size_t)n);
  float beta = bias ? 1.0f : 0.0f;
  if (m == 1)
    cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)n, (int)k, 1.0f, b, (int)ldb, a, 1, beta, c, 1);
  else
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)n, (int)k, 1.0f, a,
                (int)lda, b, (int)ldb, beta, c, (int)ldc);
  if (act != LC__ACT_NONE)
    for (int64_t i = 0; i < m; i++) act_row(act, n, c + i * ldc);
}

#ifdef LC_GEMM_AVX2
#define AVX2 __attribute__((target("avx2,fma")))
#define INLINE inline __attribute__((always_inline))

/* lanes < n set: the mask of a partial vector */
AVX2 static INLINE __m256i lanes(int64_t n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n < 8 ? n : 8)),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

AVX2 static INLINE float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

/* ---- dot: A rows x B rows, vectorised along k ---- */

/* c (ma, nb; ldc) = a (ma, k) . b (nb, k) + bias, ma <= 4, nb <= 8, ma * nb <= 16 */
AVX2 static INLINE void dot_tile(int ma, int nb, int64_t k, const float *a, int64_t lda,
                                 const float *b, int64_t ldb, const float *bias, int relu,
                                 float *c, int64_t ldc) {
  __m256 acc[4][8];
  for (int i = 0; i < ma; i++)
    for (int j = 0; j < nb; j++) acc[i][j] = _mm256_setzero_ps();
  int64_t p = 0;
  for (; p + 8 <= k; p += 8) {
    __m256 av[4];
    for (int i = 0; i < ma; i++) av[i] = _mm256_loadu_ps(a + i * lda + p);
    for (int j = 0; j < nb; j++) {
      __m256 bv = _mm256_loadu_ps(b + j * ldb + p);
      for (int i = 0; i < ma; i++) acc[i][j] = _mm256_fmadd_ps(av[i], bv, acc[i][j]);
    }
  }
  if (p < k) {  /* the tail, masked: no read past a row's end */
    __m256i mk = lanes(k - p);
    __m256 av[4];
    for (int i = 0; i < ma; i++) av[i] = _mm256_maskload_ps(a + i * lda + p, mk);
    for (int j = 0; j < nb; j++) {
      __m256 bv = _mm256_maskload_ps(b + j * ldb + p, mk);
      for (int i = 0; i < ma; i++) acc[i][j] = _mm256_fmadd_ps(av[i], bv, acc[i][j]);
    }
  }
  for (int i = 0; i < ma; i++)
    for (int j = 0; j < nb; j++) {
      float s = hsum(acc[i][j]) + (bias ? bias[j] : 0.0f);
      c[i * ldc + j] = relu && s < 0.0f ? 0.0f : s;
    }
}

/* The tile sizes as constants, so that the accumulators live in registers. */
#define DOT_CASE(MA, NB) \
  dot_tile(MA, NB, k, a, lda, b + j * ldb, ldb, bias ? bias + j : NULL, relu, c + j, ldc)

AVX2 static void dot_rows(int ma, int64_t n, int64_t k, const float *a, int64_t lda,
                          const float *b, int64_t ldb, const float *bias, int relu, float *c,
                          int64_t ldc) {
  int64_t j = 0;
  switch (ma) {
    case 1:
      for (; j + 8 <= n; j += 8) DOT_CASE(1, 8);
      for (; j + 4 <= n; j += 4) DOT_CASE(1, 4);
      for (; j < n; j++) DOT_CASE(1, 1);
      break;
    case 2:
      for (; j + 4 <= n; j += 4) DOT_CASE(2, 4);
      for (; j < n; j++) DOT_CASE(2, 1);
      break;
    case 3:
      for (; j + 4 <= n; j += 4) DOT_CASE(3, 4);
      for (; j < n; j++) DOT_CASE(3, 1);
      break;
    default:
      for (; j + 4 <= n; j += 4) DOT_CASE(4, 4);
      for (; j < n; j++) DOT_CASE(4, 1);
      break;
  }
}

AVX2 static void sgemm_dot(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                           const float *b, int64_t ldb, const float *bias, lc__act act, float *c,
                           int64_t ldc) {
  int relu = act == LC__ACT_RELU;
  for (int64_t i = 0; i < m; i += 4) {
    int ma = m - i < 4 ? (int)(m - i) : 4;
    dot_rows(ma, n, k, a + i * lda, lda, b, ldb, bias, relu, c + i * ldc, ldc);
    if (act == LC__ACT_TANH || act == LC__ACT_SIGMOID)
      for (int r = 0; r < ma; r++) act_row(act, n, c + (i + r) * ldc);
  }
}

/* ---- packed: a 6x16 register tile over panels of B ---- */

/* bp (panels of kc x NR) = b[0:nc, 0:kc]^T, columns past nc zero */
static void pack_b_scalar(int64_t nc, int64_t kc, const float *b, int64_t ldb, float *bp) {
  for (int64_t j0 = 0; j0 < nc; j0 += NR) {
    int64_t w = nc - j0 < NR ? nc - j0 : NR;
    float *dst = bp + j0 * kc;
    for (int64_t j = 0; j < w; j++) {
      const float *src = b + (j0 + j) * ldb;
      for (int64_t p = 0; p < kc; p++) dst[p * NR + j] = src[p];
    }
    for (int64_t j = w; j < NR; j++)
      for (int64_t p = 0; p < kc; p++) dst[p * NR + j] = 0.0f;
  }
}

/* dst[r * ldd + j] = src[j * lds + r] for an 8 x 8 block: the usual
 * unpack/shuffle/permute transpose. */
AVX2 static INLINE void transpose8(const float *src, int64_t lds, float *dst, int64_t ldd) {
  __m256 r[8], t[8];
  for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(src + i * lds);
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {
    r[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
    r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
    r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
    r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
  }
  for (int i = 0; i < 4; i++) {
    _mm256_storeu_ps(dst + i * ldd, _mm256_permute2f128_ps(r[i], r[i + 4], 0x20));
    _mm256_storeu_ps(dst + (i + 4) * ldd, _mm256_permute2f128_ps(r[i], r[i + 4], 0x31));
  }
}

/* pack_b_scalar's result, full 8 x 8 blocks by transposes: the copy is a
 * pass over B per call, and for m of 8-64 its time shows beside the product's */
AVX2 static void pack_b(int64_t nc, int64_t kc, const float *b, int64_t ldb, float *bp) {
  int64_t k8 = kc / 8 * 8;
  for (int64_t j0 = 0; j0 < nc; j0 += NR) {
    float *dst = bp + j0 * kc;
    if (nc - j0 < NR || k8 == 0) {
      pack_b_scalar(nc - j0 < NR ? nc - j0 : NR, kc, b + j0 * ldb, ldb, dst);
      continue;
    }
    for (int64_t h = 0; h < NR; h += 8)
      for (int64_t p = 0; p < k8; p += 8)
        transpose8(b + (j0 + h) * ldb + p, ldb, dst + p * NR + h, NR);
    for (int64_t j = 0; j < NR; j++)
      for (int64_t p = k8; p < kc; p++) dst[p * NR + j] = b[(j0 + j) * ldb + p];
  }
}

/* c (mr, w; ldc) (= or +=) a (mr, kc; lda) @ panel (kc, NR); on the last k
 * block + bias and ReLU. w <= NR columns are stored, nv vectors computed. */
AVX2 static INLINE void tile(int mr, int nv, int64_t kc, const float *a, int64_t lda,
                             const float *bp, float *c, int64_t ldc, int64_t w, int first,
                             int last, const float *bias, int relu) {
  /* Named accumulators, not an array: GCC kept a 6x2 array in memory and
   * stored all twelve every step (half the speed). */
  __m256 z = _mm256_setzero_ps();
  __m256 c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z;
  __m256 c30 = z, c31 = z, c40 = z, c41 = z, c50 = z, c51 = z;
  const float *a0 = a, *a1 = a + lda, *a2 = a + 2 * lda, *a3 = a + 3 * lda, *a4 = a + 4 * lda,
              *a5 = a + 5 * lda;
#define ROW(I)                                                   if (mr > I) {                                                    __m256 av = _mm256_broadcast_ss(a##I + p);                     c##I##0 = _mm256_fmadd_ps(av, b0, c##I##0);                    if (nv > 1) c##I##1 = _mm256_fmadd_ps(av, b1, c##I##1);      }
  for (int64_t p = 0; p < kc; p++) {
    __m256 b0 = _mm256_loadu_ps(bp + p * NR), b1 = b0;
    if (nv > 1) b1 = _mm256_loadu_ps(bp + p * NR + 8);
    ROW(0) ROW(1) ROW(2) ROW(3) ROW(4) ROW(5)
  }
#undef ROW
  __m256 acc[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
  __m256i mk[2] = {lanes(w), lanes(w - 8)};
  int full = w == 8 * nv;
  __m256 bv[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
  if (last && bias)
    for (int v = 0; v < nv; v++)
      bv[v] = full ? _mm256_loadu_ps(bias + 8 * v) : _mm256_maskload_ps(bias + 8 * v, mk[v]);
  for (int i = 0; i < mr; i++)
    for (int v = 0; v < nv; v++) {
      float *cp = c + i * ldc + 8 * v;
      __m256 r = acc[i][v];
      if (!first) r = _mm256_add_ps(r, full ? _mm256_loadu_ps(cp) : _mm256_maskload_ps(cp, mk[v]));
      if (last) {
        if (bias) r = _mm256_add_ps(r, bv[v]);
        if (relu) r = _mm256_max_ps(_mm256_setzero_ps(), r);  /* x < 0 ? 0 : x, as lc_relu: NaN, -0 kept */
      }
      if (full) _mm256_storeu_ps(cp, r);
      else _mm256_maskstore_ps(cp, mk[v], r);
    }
}

#define TILE_CASE(R, V) \
  tile(R, V, kc, a, lda, bp, c, ldc, w, first, last, bias, relu)

AVX2 static void tile_any(int mr, int nv, int64_t kc, const float *a, int64_t lda,
                          const float *bp, float *c, int64_t ldc, int64_t w, int first, int last,
                          const float *bias, int relu) {
  switch (mr * 2 + nv - 1) {  /* 1..6 rows, one or two vectors */
    case 2: TILE_CASE(1, 1); break;
    case 3: TILE_CASE(1, 2); break;
    case 4: TILE_CASE(2, 1); break;
    case 5: TILE_CASE(2, 2); break;
    case 6: TILE_CASE(3, 1); break;
    case 7: TILE_CASE(3, 2); break;
    case 8: TILE_CASE(4, 1); break;
    case 9: TILE_CASE(4, 2); break;
    case 10: TILE_CASE(5, 1); break;
    case 11: TILE_CASE(5, 2); break;
    case 12: TILE_CASE(6, 1); break;
    default: TILE_CASE(6, 2); break;
  }
}

AVX2 static void sgemm_packed(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                              const float *b, int64_t ldb, const float *bias, lc__act act,
                              float *c, int64_t ldc) {
  /* One panel at a time, on the stack: no allocation, so a compiled plan can
   * run this on any thread. A's rows are read again for every panel, from L2
   * (about 1 byte per 4 FMAs: far below what L2 delivers). */
  float bp[KC * NR] __attribute__((aligned(32)));
  int relu = act == LC__ACT_RELU;
  for (int64_t jp = 0; jp < n; jp += NR) {
    int64_t w = n - jp < NR ? n - jp : NR;
    for (int64_t k0 = 0; k0 < k; k0 += KC) {
      int64_t kc = k - k0 < KC ? k - k0 : KC;
      int first = k0 == 0, last = k0 + kc == k;
      pack_b(w, kc, b + jp * ldb + k0, ldb, bp);
      for (int64_t i = 0; i < m; i += MR) {
        int mr = m - i < MR ? (int)(m - i) : MR;
        tile_any(mr, (int)((w + 7) / 8), kc, a + i * lda + k0, lda, bp, c + i * ldc + jp, ldc,
                 w, first, last, bias ? bias + jp : NULL, relu);
        if (last && (act == LC__ACT_TANH || act == LC__ACT_SIGMOID))
          for (int r = 0; r < mr; r++) act_row(act, w, c + (i + r) * ldc + jp);
      }
    }
  }
}
/* ---- AVX-512: a 12x32 register tile over blocks of B ---- */

/* 12 rows by two 16-float vectors: 24 accumulators of the 32 registers, 2
 * loads of B and 12 broadcasts of A per step of k for 24 FMAs (12 cycles at
 * two FMA units); chosen by measurement over 14x32, 8x48 and 6x64, which
 * ran within noise of it on the shapes of issue 14 (6x64 lost at n < 64). */
#define MR5 12
#define NV5 2
#define NR5 (16 * NV5)
#define KC5 256      /* the longest k block: a 32-column panel is 32 KB */
#define BBUF5 8192   /* packed B on the stack, floats (32 KB): KC5 x NR5 at least */
#define ASLICE5 (1 << 18)  /* floats of A (1 MB) one pass over B's blocks reads: half of L2 */
#define AVX512 __attribute__((target("avx512f,avx2,fma")))

/* lanes < n set (n may be <= 0 or > 16) */
AVX512 static INLINE __mmask16 mask16(int64_t n) {
  return n >= 16 ? (__mmask16)0xffff : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1);
}

/* bp (panels of kc x NR5, one after another) = b[0:nc, 0:kc]^T, columns past
 * nc zero: full 8 x 8 blocks by transposes, the edges one at a time */
AVX512 static void pack_b5(int64_t nc, int64_t kc, const float *b, int64_t ldb, float *bp) {
  int64_t k8 = kc / 8 * 8;
  for (int64_t j0 = 0; j0 < nc; j0 += NR5) {
    int64_t w = nc - j0 < NR5 ? nc - j0 : NR5, w8 = w / 8 * 8;
    float *dst = bp + j0 * kc;
    for (int64_t h = 0; h < w8; h += 8)
      for (int64_t p = 0; p < k8; p += 8)
        transpose8(b + (j0 + h) * ldb + p, ldb, dst + p * NR5 + h, NR5);
    for (int64_t j = 0; j < w; j++)
      for (int64_t p = j < w8 ? k8 : 0; p < kc; p++) dst[p * NR5 + j] = b[(j0 + j) * ldb + p];
    for (int64_t p = 0; p < kc; p++)
      for (int64_t j = w; j < NR5; j++) dst[p * NR5 + j] = 0.0f;
  }
}

/* Named accumulators and rows as macros, as the AVX2 tile's (an array
 * stayed in memory); the row and vector counts are constants after
 * inlining, so the unused ones vanish. */
#define ACC5(I) __m512 c##I##_0 = _mm512_setzero_ps(), c##I##_1 = c##I##_0;
#define ROW5(I, Q, J)                                          \
  if (mr > I) {                                                \
    __m512 av = _mm512_set1_ps(Q[J * lda]);                    \
    c##I##_0 = _mm512_fmadd_ps(av, b0, c##I##_0);              \
    if (nv > 1) c##I##_1 = _mm512_fmadd_ps(av, b1, c##I##_1);  \
  }
#define OUT5(I, V)                                                                      \
  if (nv > V) {                                                                         \
    float *cp = c + I * ldc + 16 * V;                                                   \
    __m512 r = c##I##_##V;                                                              \
    if (!first) r = _mm512_add_ps(r, _mm512_maskz_loadu_ps(mk##V, cp));                \
    if (last) {                                                                         \
      r = _mm512_add_ps(r, bv##V);                                                      \
      if (relu) r = _mm512_max_ps(_mm512_setzero_ps(), r); /* as lc_relu: NaN, -0 kept */ \
    }                                                                                   \
    _mm512_mask_storeu_ps(cp, mk##V, r);                                                \
  }
#define STORE5(I) if (mr > I) { OUT5(I, 0) OUT5(I, 1) }

/* c (mr, w; ldc) (= or +=) a (mr, kc; lda) @ panel (kc, NR5); on the last k
 * block + bias and ReLU; w <= 16 nv columns are stored. A is read where it
 * is, not packed: a row block of it stays in L1 across the panels of a
 * block of B, so a copy would cost a pass for nothing. Rows come in threes
 * from four pointers (row, + lda, + 2 lda: one index register, scales 4
 * and 8), so the loop needs no more registers than x86-64 has. */
AVX512 static INLINE void tile5(const int mr, const int nv, int64_t kc, const float *a,
                                int64_t lda, const float *bp, float *c, int64_t ldc, int64_t w,
                                int first, int last, const float *bias, int relu) {
  ACC5(0) ACC5(1) ACC5(2) ACC5(3) ACC5(4) ACC5(5)
  ACC5(6) ACC5(7) ACC5(8) ACC5(9) ACC5(10) ACC5(11)
  const float *q0 = a, *q1 = mr > 3 ? a + 3 * lda : a, *q2 = mr > 6 ? a + 6 * lda : a,
              *q3 = mr > 9 ? a + 9 * lda : a;
  for (int64_t p = 0; p < kc; p++) {
    __m512 b0 = _mm512_load_ps(bp), b1 = b0;
    if (nv > 1) b1 = _mm512_load_ps(bp + 16);
    ROW5(0, q0, 0) ROW5(1, q0, 1) ROW5(2, q0, 2)
    ROW5(3, q1, 0) ROW5(4, q1, 1) ROW5(5, q1, 2)
    ROW5(6, q2, 0) ROW5(7, q2, 1) ROW5(8, q2, 2)
    ROW5(9, q3, 0) ROW5(10, q3, 1) ROW5(11, q3, 2)
    bp += NR5;
    q0++;
    q1++;
    q2++;
    q3++;
  }
  __mmask16 mk0 = mask16(w), mk1 = mask16(w - 16);
  __m512 bv0 = _mm512_setzero_ps(), bv1 = bv0;
  if (last && bias) {
    bv0 = _mm512_maskz_loadu_ps(mk0, bias);
    if (nv > 1) bv1 = _mm512_maskz_loadu_ps(mk1, bias + 16);
  }
  STORE5(0) STORE5(1) STORE5(2) STORE5(3) STORE5(4) STORE5(5)
  STORE5(6) STORE5(7) STORE5(8) STORE5(9) STORE5(10) STORE5(11)
}
#undef ACC5
#undef ROW5
#undef OUT5
#undef STORE5

#define T5(R)                                                                           \
  case 2 * (R) - 1: tile5(R, 1, kc, a, lda, bp, c, ldc, w, first, last, bias, relu); break; \
  case 2 * (R): tile5(R, 2, kc, a, lda, bp, c, ldc, w, first, last, bias, relu); break;

AVX512 static void tile5_any(int mr, int nv, int64_t kc, const float *a, int64_t lda,
                             const float *bp, float *c, int64_t ldc, int64_t w, int first,
                             int last, const float *bias, int relu) {
  switch (2 * mr + nv - 2) {  /* 1..12 rows, one or two vectors */
    T5(1) T5(2) T5(3) T5(4) T5(5) T5(6) T5(7) T5(8) T5(9) T5(10) T5(11) T5(12)
    default: break;
  }
}
#undef T5

/* Blocks: k in even blocks of at most KC5; B's columns in blocks as wide as
 * BBUF5 holds at that k (all of B for k, n <= 64: the agents' MLP), packed
 * once per block; A's rows in slices of at most ASLICE5 floats per k block,
 * which stay in L2 while every panel of a B block passes over them. For each
 * 12-row strip of A, the panels of the block in turn: the strip (12 rows
 * by kc, at most 12 KB) stays in L1, and the block of B comes from L1 or L2.
 * tanh and sigmoid run over a strip's finished rows of the block, before
 * the next strip (the rows are in L1). */
AVX512 static void sgemm_avx512(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                                const float *b, int64_t ldb, const float *bias, lc__act act,
                                float *c, int64_t ldc, const float *pre) {
  float buf[BBUF5] __attribute__((aligned(64)));
  int relu = act == LC__ACT_RELU, post = act == LC__ACT_TANH || act == LC__ACT_SIGMOID;
  int64_t nkb = (k + KC5 - 1) / KC5, kb = (k + nkb - 1) / nkb;
  int64_t ncmax = BBUF5 / kb / NR5 * NR5;  /* >= NR5: kb <= KC5 */
  int64_t mcmax = ASLICE5 / kb / MR5 * MR5;
  for (int64_t ic = 0; ic < m; ic += mcmax) {
    int64_t mc = m - ic < mcmax ? m - ic : mcmax;
    for (int64_t jc = 0; jc < n; jc += ncmax) {
      int64_t nc = n - jc < ncmax ? n - jc : ncmax;
      for (int64_t k0 = 0; k0 < k; k0 += kb) {
        int64_t kc = k - k0 < kb ? k - k0 : kb;
        int first = k0 == 0, last = k0 + kc == k;
        const float *bp = buf;
        if (pre) bp = pre + jc * k + (nc + NR5 - 1) / NR5 * NR5 * k0;  /* (pack_all's order) */
        else pack_b5(nc, kc, b + jc * ldb + k0, ldb, buf);
        for (int64_t i = ic; i < ic + mc; i += MR5) {
          int mr = ic + mc - i < MR5 ? (int)(ic + mc - i) : MR5;
          for (int64_t jr = 0; jr < nc; jr += NR5) {
            int64_t w = nc - jr < NR5 ? nc - jr : NR5;
            tile5_any(mr, (int)((w + 15) / 16), kc, a + i * lda + k0, lda, bp + jr * kc,
                      c + i * ldc + jc + jr, ldc, w, first, last, bias ? bias + jc + jr : NULL,
                      relu);
          }
          if (last && post) {
            if (nc == n && ldc == n) act_row(act, mr * n, c + i * ldc);
            else
              for (int r = 0; r < mr; r++) act_row(act, nc, c + (i + r) * ldc + jc);
          }
        }
      }
    }
  }
}
/* Every block sgemm_avx512 packs for b (n, k; ldb), in the order and at
 * the offsets it reads them with `pre`: block (jc, k0) at jc k + nc' k0,
 * nc' the block's width rounded up to whole panels. */
AVX512 static void pack_all(int64_t n, int64_t k, const float *b, int64_t ldb, float *bp) {
  int64_t nkb = (k + KC5 - 1) / KC5, kb = (k + nkb - 1) / nkb;
  int64_t ncmax = BBUF5 / kb / NR5 * NR5;
  for (int64_t jc = 0; jc < n; jc += ncmax) {
    int64_t nc = n - jc < ncmax ? n - jc : ncmax, ncr = (nc + NR5 - 1) / NR5 * NR5;
    for (int64_t k0 = 0; k0 < k; k0 += kb) {
      int64_t kc = k - k0 < kb ? k - k0 : kb;
      pack_b5(nc, kc, b + jc * ldb + k0, ldb, bp + jc * k + ncr * k0);
    }
  }
}
#endif /* LC_GEMM_AVX2 */


/* ---- dispatch ------------------------------------------------------------------------ */

typedef enum { PATH_PORTABLE, PATH_BLAS, PATH_DOT, PATH_PACKED, PATH_AVX512 } gemm_path;

/* Whether OpenBLAS runs kernels made for this CPU: Debian's build picks its
 * kernels at load time, and on a CPU it does not recognise (this project's
 * Xeon VM) falls back to its generic "Prescott" ones, 2-4x slower than its
 * Haswell or SkylakeX kernels there. OPENBLAS_CORETYPE, set before the
 * process starts, overrides its choice. */
static int blas_tuned(void) {
  const char *core = openblas_get_corename();
  return core && strcmp(core, "Prescott") != 0;
}

/* The path by shape, from single-thread measurements of y = x w^T + b on a
 * 2-core AVX-512 Xeon (README, Performance; the paths interleaved on a
 * loaded machine, best of many runs), in GFLOP/s; the AVX-512 FMA loop
 * alone ran at 170, the AVX2 one at 117:
 *   m = 1     dot, a GEMV reading w once: 13-46 against OpenBLAS sgemv's
 *             2-8 (its generic kernel, and its setup at 4-64 columns) and
 *             the tiles' 1-16 (a panel packed for one row).
 *   m 2-8     dot when k >= 128 (m <= 4), or n < 16 with k >= 32: packing w
 *             costs about as much as the product at a few rows, and a wide
 *             panel wastes lanes for n < 16 (784 -> 256 at m = 4: 59
 *             against 42); else a tile (64 -> 64 at m = 8: 85 against 40).
 *   m > 8     the AVX-512 tile: 100-165 for k and n of 32-1024, 40-60 for
 *             n of 8-10 (lanes idle), against the AVX2 tile's 65-90 and
 *             OpenBLAS's SkylakeX kernels' 60-150; the AVX2 tile where
 *             there is no AVX-512, or for k < 16 (a 32-wide tile's set-up
 *             outweighs the few steps: 37 against 26 at 4 -> 8).
 *   OpenBLAS  with its generic kernels never won a shape. With Haswell
 *             kernels (45-68) it wins or ties the AVX2 tile at m > 8 with n
 *             and k >= 32, so it takes those shapes when it runs a kernel
 *             made for the CPU and the AVX-512 tile is not there. */
static gemm_path choose(int64_t m, int64_t n, int64_t k) {
  /* cppcheck-suppress knownConditionTrueFalse ; (false only off x86-64) */
  if (!use_avx2()) return PATH_PORTABLE;
  if (m == 1) return PATH_DOT;
  int wide = use_avx512() && k >= 16;
  if (m <= 8) {
    /* cppcheck-suppress knownConditionTrueFalse ; (wide: false only off x86-64) */
    if ((k >= 128 && (m <= 4 || !wide)) || (n < 16 && k >= 32)) return PATH_DOT;
    /* cppcheck-suppress knownConditionTrueFalse */
    return wide ? PATH_AVX512 : PATH_PACKED;
  }
  /* cppcheck-suppress knownConditionTrueFalse */
  if (wide) return PATH_AVX512;
  if (n >= 32 && k >= 32 && blas_tuned()) return PATH_BLAS;
  return PATH_PACKED;
}

void lc__sgemm_nt(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda, const float *b,
                  int64_t ldb, const float *bias, lc__act act, float *c, int64_t ldc) {
  lc__sgemm_nt_path((int)choose(m, n, k), m, n, k, a, lda, b, ldb, bias, act, c, ldc);
}

/* One path, forced (tests, measurements); a kernel the CPU cannot run gives
 * way to the portable loops. */
void lc__sgemm_nt_path(int path, int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                       const float *b, int64_t ldb, const float *bias, lc__act act, float *c,
                       int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {  /* an empty sum: the bias alone */
    for (int64_t i = 0; i < m; i++) {
      for (int64_t j = 0; j < n; j++) c[i * ldc + j] = bias ? bias[j] : 0.0f;
      act_row(act, n, c + i * ldc);
    }
    return;
  }
  /* cppcheck-suppress knownConditionTrueFalse ; (true only off x86-64) */
  if ((path == PATH_DOT || path == PATH_PACKED) && !use_avx2()) path = PATH_PORTABLE;
  /* cppcheck-suppress knownConditionTrueFalse */
  if (path == PATH_AVX512 && !use_avx512()) path = PATH_PORTABLE;
  switch (path) {
#ifdef LC_GEMM_AVX2
    case PATH_DOT: sgemm_dot(m, n, k, a, lda, b, ldb, bias, act, c, ldc); return;
    case PATH_PACKED: sgemm_packed(m, n, k, a, lda, b, ldb, bias, act, c, ldc); return;
    case PATH_AVX512: sgemm_avx512(m, n, k, a, lda, b, ldb, bias, act, c, ldc, NULL); return;
#endif
    case PATH_BLAS: sgemm_blas(m, n, k, a, lda, b, ldb, bias, act, c, ldc); return;
    default: sgemm_portable(m, n, k, a, lda, b, ldb, bias, act, c, ldc); return;
  }
}

/* ---- weights packed once, for a plan's context --------------------------------------- */
#ifdef LC_GEMM_AVX2

/* A weight's panels as pack_all lays them out, for the elements at (storage,
 * offset) with n rows of k (row stride ldb), as of the storage's version. */
struct lc__packed {
  const lc_storage *s;
  int64_t offset, n, k, ldb;
  uint64_t version;
  void *block;   /* bytes: floats + 64 for the alignment the tile's loads need */
  size_t bytes;
};

static float *aligned64(void *p) { return (float *)(((uintptr_t)p + 63) & ~(uintptr_t)63); }

/* w's panels packed, repacked if w changed since; NULL when the context
 * keeps none or cannot allocate (the caller then packs as usual). */
static const float *packed_b(lc_ctx *ctx, const lc_tensor *w, int64_t n, int64_t k,
                             const float *b, int64_t ldb) {
  struct lc__packed *e = NULL;
  for (int j = 0; j < ctx->npacked && !e; j++) {
    int i = (ctx->packed_next + j) % ctx->npacked;
    struct lc__packed *q = &ctx->packed[i];
    if (q->s == w->storage && q->offset == w->offset && q->n == n && q->k == k && q->ldb == ldb) {
      e = q;
      ctx->packed_next = i + 1;
    }
  }
  if (e && e->version == w->storage->version) return aligned64(e->block);
  if (!e) {
    if (ctx->npacked == ctx->cappacked) {
      int cap = ctx->cappacked ? 2 * ctx->cappacked : 4;
      struct lc__packed *grown = (struct lc__packed *)lc__alloc(ctx, sizeof *grown * (size_t)cap);
      if (!grown) return NULL;
      if (ctx->npacked) memcpy(grown, ctx->packed, sizeof *grown * (size_t)ctx->npacked);
      lc__free(ctx, ctx->packed, sizeof *grown * (size_t)ctx->cappacked);
      ctx->packed = grown;
      ctx->cappacked = cap;
    }
    size_t bytes = sizeof(float) * (size_t)((n + NR5 - 1) / NR5 * NR5 * k) + 64;
    void *block = lc__alloc(ctx, bytes);
    if (!block) return NULL;
    e = &ctx->packed[ctx->npacked++];
    ctx->packed_next = ctx->npacked;
    *e = (struct lc__packed){w->storage, w->offset, n, k, ldb, 0, block, bytes};
  }
  pack_all(n, k, b, ldb, aligned64(e->block));
  e->version = w->storage->version;
  return aligned64(e->block);
}

void lc__packed_free(lc_ctx *ctx) {
  for (int i = 0; i < ctx->npacked; i++) lc__free(ctx, ctx->packed[i].block, ctx->packed[i].bytes);
  if (ctx->packed) lc__free(ctx, ctx->packed, sizeof *ctx->packed * (size_t)ctx->cappacked);
  ctx->packed = NULL;
  ctx->npacked = ctx->cappacked = ctx->packed_next = 0;
}
#endif /* LC_GEMM_AVX2 */

void lc__sgemm_nt_w(lc_ctx *ctx, const lc_tensor *w, int64_t m, int64_t n, int64_t k,
                    const float *a, int64_t lda, const float *b, int64_t ldb, const float *bias,
                    lc__act act, float *c, int64_t ldc) {
#ifdef LC_GEMM_AVX2
  if (ctx->keep_packed && m > 0 && n > 0 && k > 0 && choose(m, n, k) == PATH_AVX512) {
    const float *pre = packed_b(ctx, w, n, k, b, ldb);
    if (pre) {
      sgemm_avx512(m, n, k, a, lda, b, ldb, bias, act, c, ldc, pre);
      return;
    }
  }
#else
  (void)ctx;
  (void)w;
#endif
  lc__sgemm_nt(m, n, k, a, lda, b, ldb, bias, act, c, ldc);
}

#ifndef LC_GEMM_AVX2
void lc__packed_free(lc_ctx *ctx) { (void)ctx; }
#endif

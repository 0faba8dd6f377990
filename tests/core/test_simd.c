/* test_simd.c: simd.c's float32 kernels over every one of the 2^32 float32
 * inputs, against the double-precision libm function rounded to float:
 * - the worst error is within 2 ulp (NaN gives NaN, infinities and signed
 *   zeros come out as C's functions give them);
 * - every vector level this CPU has returns the bits of the best one (the
 *   AVX2 form on every 4th block when AVX-512 is there), and the
 *   one-at-a-time paths do too on every 61st block (with the FMA
 *   instruction) and every 997th (through fmaf calls, as CPUs without FMA
 *   run it: 50 ns an input).
 * libm's double functions cost ~13 ns a call, 55 s a function for all 2^32,
 * so two facts spare most calls (the kernels still run on every input):
 * - the functions are monotone (gelu past |x| = 1), so a block of inputs
 *   (65536 consecutive bit patterns: one sign, one binade) whose two ends
 *   round to the same float has that float as every input's reference (exp
 *   and sigmoid's tails, 0.5, 1, inf; tanh's +-1; gelu's -0);
 * - tanh is odd: negative inputs are checked to give the negated bits of
 *   positive ones, and below 2^-12 the correctly rounded tanh(x) is x itself
 *   (|tanh x - x| < |x|^3 / 3 < a quarter ulp of x there); so is gelu's
 *   from 8 on;
 * - gelu's erf form underflows below x = -13: there the result is only
 *   checked to be within 2^-120 of the reference.
 * A separate binary from test_kernels because it still takes seconds:
 * `make ctest` (so `make test`) runs it, the ASan and valgrind runs of
 * test_kernels keep its sampled sweep instead (under them this one would
 * take hours). */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../../core/internal.h"

#define NTHREADS 2
#define BLOCK 65536
#define NBLOCKS (1u << 16)  /* BLOCK * NBLOCKS = 2^32 */

static uint32_t bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float from_bits(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

/* the float's place in the order of all floats, -0 and 0 together */
static inline int32_t key(uint32_t u) {
  int32_t s = (int32_t)u;
  return s < 0 ? INT32_MIN - s : s;
}

static int64_t ulps(float a, float b) {
  int64_t ia = (int32_t)bits(a), ib = (int32_t)bits(b);
  if (ia < 0) ia = INT32_MIN - ia;  /* order negative floats below positive ones */
  if (ib < 0) ib = INT32_MIN - ib;
  return ia > ib ? ia - ib : ib - ia;
}

/* The worst distance in ulp between out and want (NaNs aside) and how many
 * NaNs one has where the other has none: on the bits, without branches, so
 * that it vectorises. */
static uint32_t compare(const float *restrict out, const float *restrict want, int n,
                        uint32_t *nan_bad) {
  uint32_t worst = 0, bad = 0;
  for (int i = 0; i < n; i++) {
    uint32_t a = bits(out[i]), w = bits(want[i]);
    uint32_t na = (a & 0x7fffffffu) > 0x7f800000u, nw = (w & 0x7fffffffu) > 0x7f800000u;
    int32_t ka = key(a), kw = key(w);
    int32_t hi = ka > kw ? ka : kw, lo = ka > kw ? kw : ka;
    uint32_t d = ((uint32_t)hi - (uint32_t)lo) & ((na | nw) - 1u);
    bad += na ^ nw;
    worst = d > worst ? d : worst;
  }
  *nan_bad = bad;
  return worst;
}

static double ref_exp(double x) { return exp(x); }
static double ref_sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }
static double ref_tanh(double x) { return tanh(x); }
/* 0.5 x (1 + tanh(u)) = x / (1 + exp(-2u)): no cancellation for x < 0 */
static double ref_gelu_tanh(double x) {
  double u = 0.7978845608028654 * (x + 0.044715 * x * x * x);
  return x / (1.0 + exp(-2.0 * u));
}

/* x Phi(x), erfc keeping the relative accuracy of Phi(x) for x < 0 */
static double ref_gelu_erf(double x) { return 0.5 * x * erfc(-x * 0.7071067811865476); }

static const struct {
  const char *name;
  lc_vfn fn;
  double (*ref)(double);
  int odd;         /* f(-x) = -f(x) */
  float ident;     /* below this |x|, the correctly rounded f(x) is x (0: nowhere) */
  float mono;      /* from this |x| on, f is monotone */
  float ident_above; /* from this x on, the correctly rounded f(x) is x (0: nowhere) */
  float tiny_below;  /* below this x, within 2^-120 of the reference (0: nowhere) */
} FNS[] = {
  {"exp", LC_VF_EXP, ref_exp, 0, 0, 0, 0, 0},
  {"sigmoid", LC_VF_SIGMOID, ref_sigmoid, 0, 0, 0, 0, 0},
  {"tanh", LC_VF_TANH, ref_tanh, 1, 0x1p-12f, 0, 0, 0},
  /* its minimum is at -0.75; from 8 on, x - gelu(x) < x e^-49 */
  {"gelu_tanh", LC_VF_GELU_TANH, ref_gelu_tanh, 0, 0, 1.0f, 8.0f, 0},
  /* its minimum is at -0.75; from 8 on, x Phi(-x) < x 2^-50 */
  /* below -13, |gelu| < 2^-122 and the kernel gives -0 */
  {"gelu_erf", LC_VF_GELU_ERF, ref_gelu_erf, 0, 0, 1.0f, 8.0f, -13.0f},
};

typedef struct job {
  int f, first;
  int64_t worst;
  float worst_x;
  long bad_bits, bad_nan;
  float bad_x;
  float buf[4 * BLOCK];
} job;

static void *sweep(void *arg) {
  job *jb = arg;
  float *in = jb->buf, *out = in + BLOCK, *other = out + BLOCK, *want = other + BLOCK;
  lc_vfn fn = FNS[jb->f].fn;
  double (*ref)(double) = FNS[jb->f].ref;
  int best = lc__simd_level();
  for (uint32_t b = (uint32_t)jb->first; b < NBLOCKS; b += NTHREADS) {
    int neg = b >= NBLOCKS / 2;
    if (neg && FNS[jb->f].odd) continue;  /* checked with their positive twins */
    for (uint32_t i = 0; i < BLOCK; i++) in[i] = from_bits(b * BLOCK + i);
    lc__vmap_f32(fn, BLOCK, out, in, LC_SIMD_BEST);
    if (FNS[jb->f].odd) {
      for (uint32_t i = 0; i < BLOCK; i++) other[i] = -in[i];
      lc__vmap_f32(fn, BLOCK, other, other, LC_SIMD_BEST);
      for (uint32_t i = 0; i < BLOCK; i++)
        if (bits(other[i]) != (bits(out[i]) ^ 0x80000000u) && !isnan(out[i]))
          if (jb->bad_bits++ == 0) jb->bad_x = -in[i];
    }
    float lo = (float)ref((double)in[0]), hi = (float)ref((double)in[BLOCK - 1]);
    int same = !isnan(lo) && bits(lo) == bits(hi) && fabsf(in[0]) >= FNS[jb->f].mono;
    int ident = fabsf(in[BLOCK - 1]) < FNS[jb->f].ident ||
                (FNS[jb->f].ident_above > 0 && in[0] >= FNS[jb->f].ident_above);
    if (same) for (uint32_t i = 0; i < BLOCK; i++) want[i] = lo;
    else if (ident) memcpy(want, in, sizeof(float) * BLOCK);
    else for (uint32_t i = 0; i < BLOCK; i++) want[i] = (float)ref((double)in[i]);
    if (in[BLOCK - 1] < FNS[jb->f].tiny_below || in[0] < FNS[jb->f].tiny_below)
      for (uint32_t i = 0; i < BLOCK; i++)
        if (in[i] < FNS[jb->f].tiny_below && fabsf(out[i] - want[i]) <= 0x1p-120f) want[i] = out[i];
    uint32_t nan_bad, worst = compare(out, want, BLOCK, &nan_bad);
    if (nan_bad || worst > jb->worst)
      for (uint32_t i = 0; i < BLOCK; i++) {
        if (isnan(out[i]) != isnan(want[i]) && jb->bad_nan++ == 0) jb->bad_x = in[i];
        if (!isnan(out[i]) && !isnan(want[i]) && ulps(out[i], want[i]) > jb->worst) {
          jb->worst = ulps(out[i], want[i]);
          jb->worst_x = in[i];
        }
      }
    for (int level = LC_SIMD_PLAIN; level < best; level++) {
      if (level == LC_SIMD_AVX2 && b % 4) continue;
      if (level == LC_SIMD_NONE && b % 61) continue;
      if (level == LC_SIMD_PLAIN && b % 997) continue;
      lc__vmap_f32(fn, BLOCK, other, in, level);
      for (uint32_t i = 0; i < BLOCK; i++)
        if (bits(other[i]) != bits(out[i]) && !(isnan(other[i]) && isnan(out[i])))
          if (jb->bad_bits++ == 0) jb->bad_x = in[i];
    }
  }
  return NULL;
}

/* test_simd [name...]: the named functions only (all by default) */
int main(int argc, char **argv) {
  int failed = 0;
  for (int f = 0; f < (int)(sizeof FNS / sizeof FNS[0]); f++) {
    int wanted = argc < 2;
    for (int i = 1; i < argc; i++) wanted |= !strcmp(argv[i], FNS[f].name);
    if (!wanted) continue;
    static job jobs[NTHREADS];
    pthread_t th[NTHREADS];
    for (int t = 0; t < NTHREADS; t++) {
      jobs[t].worst = jobs[t].bad_bits = jobs[t].bad_nan = 0;
      jobs[t].f = f;
      jobs[t].first = t;
      if (pthread_create(&th[t], NULL, sweep, &jobs[t])) return 2;
    }
    job all = {0};
    for (int t = 0; t < NTHREADS; t++) {
      pthread_join(th[t], NULL);
      if (jobs[t].worst > all.worst) { all.worst = jobs[t].worst; all.worst_x = jobs[t].worst_x; }
      if ((jobs[t].bad_bits || jobs[t].bad_nan) && !all.bad_bits && !all.bad_nan) all.bad_x = jobs[t].bad_x;
      all.bad_bits += jobs[t].bad_bits;
      all.bad_nan += jobs[t].bad_nan;
    }
    int ok = all.worst <= 2 && !all.bad_bits && !all.bad_nan;
    printf("test_simd: %-8s all 2^32 inputs, worst %lld ulp at %a%s", FNS[f].name,
           (long long)all.worst, all.worst_x, ok ? "\n" : "");
    if (!ok)
      printf(" FAILED: %ld results differ between levels, %ld NaN mismatches (first at %a)\n",
             all.bad_bits, all.bad_nan, all.bad_x);
    fflush(stdout);
    failed |= !ok;
  }
  printf("test_simd: %s (level %d)\n", failed ? "FAILED" : "ok", lc__simd_level());
  return failed;
}

/* elementwise.c: the elementwise ops, made from the rows of elementwise.def.
 *
 * Every op is one pass of a row function over an N-d walk (lc_walk):
 * broadcasting is a 0 stride, and dims that line up for every operand are
 * merged first, so contiguous tensors run as one long row the compiler can
 * vectorise (and, past LC_PARALLEL_MIN elements, split over the context's
 * threads). The strided copy and add that the rest of the core uses
 * (lc__k_copy, lc__k_add_into) and the in-place updates of inplace.def
 * (lc__k_inplace) are rows of the same machinery.
 *
 * A row of elementwise.def becomes, here: an enum value; forward kernels
 * for float32 and float64; for a gradient formula, backward kernels (one
 * fused pass computes dL/dx from g and x or y, so a rule allocates its
 * result and, for broadcast binary ops, the sum down to the input's shape,
 * and nothing else); its derivative in ops, which the rule uses instead
 * when the gradient is to be differentiated again (LC_CREATE_GRAPH); the
 * node definition; and the lc_<name> function. The X-macro expansions below
 * cannot leave a hole: what the row names is made, and what it does not
 * name cannot be referred to.
 *
 * The formulas, including their values at kinks, NaN and infinities, follow
 * PyTorch 1.13's kernels and derivatives.yaml, so that results agree with it
 * to rounding. */
/* lgamma_r: lgamma itself writes the global signgam, a data race between
 * the kernel threads */
#define _DEFAULT_SOURCE
#include "internal.h"

#include <float.h>
#include <tgmath.h>

/* <math.h>'s M_* constants are POSIX, not C11. */
#define K_SQRT1_2 0.70710678118654752440
#define K_SQRT2 1.41421356237309504880
#define K_2_SQRTPI 1.12837916709551257390
#define K_SQRTPI_2 0.88622692545275801365             /* sqrt(pi) / 2 */
#define K_PI 3.14159265358979323846
#define K_LN2 0.69314718055994530942
#define K_LN10 2.30258509299404568402
#define GELU_BETA (K_2_SQRTPI * K_SQRT1_2 * 0.5)      /* 1/sqrt(2 pi): the normal pdf */
#define GELU_TANH_BETA (K_SQRT2 * K_2_SQRTPI * 0.5)   /* sqrt(2/pi) */
#define GELU_KAPPA 0.044715

/* ---- running a kernel ---------------------------------------------------- */

/* One row of every operand: n elements from p[k], element stride s[k]. */
typedef struct ew_row {
  int64_t n;
  char *p[LC_WALK_OPS];
  int64_t s[LC_WALK_OPS];
} ew_row;

typedef struct ew_kernel ew_kernel;
typedef void (*ew_row_fn)(const ew_kernel *k, const ew_row *r);
struct ew_kernel {
  ew_row_fn row;   /* chosen for the operands' dtypes */
  int side;        /* where's gradient: 0 for a, 1 for b */
  double p0, p1, p2;   /* the op's numbers (node->p.ew) */
};

typedef struct ew_job {
  const ew_kernel *k;
  ew_row r;
  int64_t es[LC_WALK_OPS];
  int nops;
} ew_job;

static void ew_range(void *arg, int64_t lo, int64_t hi) {
  const ew_job *j = (const ew_job *)arg;
  ew_row r = j->r;
  r.n = hi - lo;
  for (int k = 0; k < j->nops; k++) r.p[k] += lo * r.s[k] * j->es[k];
  j->k->row(j->k, &r);
}

/* Whether every operand is laid out as a contiguous out: then the whole
 * op is one row, with no walk to set up (most ops on small tensors). */
static int ew_flat(int nops, const lc_tensor *out, const int64_t *const *st) {
  int64_t s = 1;
  for (int d = out->ndim - 1; d >= 0; d--) {
    if (out->shape[d] == 1) continue;
    for (int i = 0; i < nops; i++)
      if (st[i][d] != s) return 0;
    s *= out->shape[d];
  }
  return 1;
}

static void ew_row_run(const ew_kernel *k, ew_job *j, int threads) {
  if (threads > 1 && j->r.n >= LC_PARALLEL_MIN) lc__parallel_for(threads, j->r.n, ew_range, j);
  else k->row(k, &j->r);
}

/* Runs k over t[0] (the output, whose shape is the loop's) and the inputs
 * t[1..nops-1]; st[j] are t[j]'s element strides over that shape. Operands
 * may alias (out += a): each element is read before it is written. */
static void ew_run(const ew_kernel *k, int nops, const lc_tensor *const *t,
                   const int64_t *const *st) {
  const lc_tensor *out = t[0];
  if (out->numel == 0) return;  /* (and an empty operand may have no buffer) */
  int threads = out->ctx->num_threads;
  ew_job j = {k, {0}, {0}, nops};
  for (int i = 0; i < nops; i++) j.es[i] = (int64_t)lc_dtype_size(t[i]->dtype);
  if (ew_flat(nops, out, st)) {
    j.r.n = out->numel;
    for (int i = 0; i < nops; i++) {
      j.r.s[i] = 1;
      j.r.p[i] = (char *)t[i]->storage->data + t[i]->offset * j.es[i];
    }
    ew_row_run(k, &j, threads);
    return;
  }
  int64_t base[LC_WALK_OPS];
  for (int i = 0; i < nops; i++) base[i] = t[i]->offset;
  lc_walk w;
  lc__walk_init(&w, out->ndim, out->shape, nops, st, base);
  int64_t rows = lc__walk_rows(&w);
  j.r.n = w.shape[w.ndim - 1];
  for (int i = 0; i < nops; i++) j.r.s[i] = w.st[i][w.ndim - 1];
  for (int64_t r = 0; r < rows; r++, lc__walk_next(&w)) {
    for (int i = 0; i < nops; i++) j.r.p[i] = (char *)t[i]->storage->data + w.off[i] * j.es[i];
    ew_row_run(k, &j, rows == 1 ? threads : 1);
  }
}

/* ---- row loops ----------------------------------------------------------
 * o[i] = EXPR, with the inputs' elements bound to the names V1, V2, V3. The
 * all-contiguous case, and a broadcast number on either side (x:gt(0),
 * maximum(x, 0), where(c, x, 0), 2 - x), is written out so the compiler
 * can vectorise it. */

#define ROW1(TO, T1, V1, EXPR)                                                     \
  do {                                                                             \
    TO *o_ = (TO *)r->p[0];                                                        \
    const T1 *a_ = (const T1 *)r->p[1];                                            \
    int64_t n_ = r->n, so_ = r->s[0], sa_ = r->s[1];                               \
    if (so_ == 1 && sa_ == 1) {                                                    \
      for (int64_t i = 0; i < n_; i++) { T1 V1 = a_[i]; (void)V1; o_[i] = (TO)(EXPR); } \
    } else {                                                                       \
      for (int64_t i = 0; i < n_; i++) {                                           \
        T1 V1 = a_[i * sa_];                                                       \
        (void)V1;                                                                  \
        o_[i * so_] = (TO)(EXPR);                                                  \
      }                                                                            \
    }                                                                              \
  } while (0)

#define ROW2(TO, T1, T2, V1, V2, EXPR)                                             \
  do {                                                                             \
    TO *o_ = (TO *)r->p[0];                                                        \
    const T1 *a_ = (const T1 *)r->p[1];                                            \
    const T2 *b_ = (const T2 *)r->p[2];                                            \
    int64_t n_ = r->n, so_ = r->s[0], sa_ = r->s[1], sb_ = r->s[2];                \
    if (so_ == 1 && sa_ == 1 && sb_ == 1) {                                        \
      for (int64_t i = 0; i < n_; i++) {                                           \
        T1 V1 = a_[i]; T2 V2 = b_[i]; (void)V1; (void)V2;                          \
        o_[i] = (TO)(EXPR);                                                        \
      }                                                                            \
    } else if (so_ == 1 && sa_ == 1 && sb_ == 0) {                                 \
      T2 V2 = b_[0]; (void)V2;                                                     \
      for (int64_t i = 0; i < n_; i++) { T1 V1 = a_[i]; (void)V1; o_[i] = (TO)(EXPR); } \
    } else if (so_ == 1 && sa_ == 0 && sb_ == 1) {                                 \
      T1 V1 = a_[0]; (void)V1;                                                     \
      for (int64_t i = 0; i < n_; i++) { T2 V2 = b_[i]; (void)V2; o_[i] = (TO)(EXPR); } \
    } else {                                                                       \
      for (int64_t i = 0; i < n_; i++) {                                           \
        T1 V1 = a_[i * sa_]; T2 V2 = b_[i * sb_]; (void)V1; (void)V2;              \
        o_[i * so_] = (TO)(EXPR);                                                  \
      }                                                                            \
    }                                                                              \
  } while (0)

#define ROW3(TO, T1, T2, T3, V1, V2, V3, EXPR)                                     \
  do {                                                                             \
    TO *o_ = (TO *)r->p[0];                                                        \
    const T1 *a_ = (const T1 *)r->p[1];                                            \
    const T2 *b_ = (const T2 *)r->p[2];                                            \
    const T3 *c_ = (const T3 *)r->p[3];                                            \
    int64_t n_ = r->n, so_ = r->s[0], sa_ = r->s[1], sb_ = r->s[2], sc_ = r->s[3]; \
    if (so_ == 1 && sa_ == 1 && sb_ == 1 && sc_ == 1) {                            \
      for (int64_t i = 0; i < n_; i++) {                                           \
        T1 V1 = a_[i]; T2 V2 = b_[i]; T3 V3 = c_[i];                               \
        (void)V1; (void)V2; (void)V3;                                              \
        o_[i] = (TO)(EXPR);                                                        \
      }                                                                            \
    } else if (so_ == 1 && sa_ == 1 && sb_ == 1 && sc_ == 0) {                     \
      T3 V3 = c_[0]; (void)V3;                                                     \
      for (int64_t i = 0; i < n_; i++) {                                           \
        T1 V1 = a_[i]; T2 V2 = b_[i]; (void)V1; (void)V2;                          \
        o_[i] = (TO)(EXPR);                                                        \
      }                                                                            \
    } else if (so_ == 1 && sa_ == 1 && sb_ == 0 && sc_ == 0) {                     \
      T2 V2 = b_[0]; T3 V3 = c_[0]; (void)V2; (void)V3;                            \
      for (int64_t i = 0; i < n_; i++) {                                           \
        T1 V1 = a_[i]; (void)V1;                                                   \
        o_[i] = (TO)(EXPR);                                                        \
      }                                                                            \
    } else {                                                                       \
      for (int64_t i = 0; i < n_; i++) {                                           \
        T1 V1 = a_[i * sa_]; T2 V2 = b_[i * sb_]; T3 V3 = c_[i * sc_];             \
        (void)V1; (void)V2; (void)V3;                                              \
        o_[i * so_] = (TO)(EXPR);                                                  \
      }                                                                            \
    }                                                                              \
  } while (0)

/* ---- helpers for formulas ---------------------------------------------------
 * Each comes in float and double; the k_ macros pick by the argument's type,
 * as <tgmath.h> does for exp or log, so one formula serves both dtypes. */

/* c ? a : b on the bits. Gradients must select, not multiply by a 0/1
 * weight (an infinite g would give NaN where PyTorch gives 0), and GCC
 * compiles float selects on unpredictable compares (x == y, a & b) into
 * branches, five times slower on random data; this form has none. */
#define DEFINE_SEL(T, U, SUF)                                                      \
  static inline T sel_##SUF(int c, T a, T b) {                                     \
    union { T f; U u; } x = {a}, y = {b};                                          \
    U m = (U)0 - (U)(c != 0);                                                      \
    x.u = (x.u & m) | (y.u & ~m);                                                  \
    return x.f;                                                                    \
  }
DEFINE_SEL(float, uint32_t, f32)
DEFINE_SEL(double, uint64_t, f64)

/* Comparisons are written the way std::max/std::min do them (PyTorch's
 * kernels), which fixes what NaN operands and bounds give. */
#define DEFINE_MATH(T, SUF)                                                        \
  static inline T sign_##SUF(T x) { return (T)((0 < x) - (x < 0)); }               \
  static inline T sigmoid_##SUF(T x) { return (T)1 / ((T)1 + exp(-x)); }           \
  static inline T clamp_##SUF(T x, T lo, T hi) {                                   \
    T v = x < lo ? lo : x;                                                         \
    return hi < v ? hi : v;                                                        \
  }                                                                                \
  static inline T pows_##SUF(T x, T s) { return s == (T)2 ? x * x : pow(x, s); }  \
  static inline T gelu_##SUF(T x) {                                                \
    return x * (T)0.5 * ((T)1 + erf(x * (T)K_SQRT1_2));                            \
  }                                                                                \
  static inline T gelu_grad_##SUF(T x) {                                           \
    T cdf = (T)0.5 * ((T)1 + erf(x * (T)K_SQRT1_2));                               \
    T pdf = (T)GELU_BETA * exp(x * x * (T)-0.5);                                   \
    return cdf + x * pdf;                                                          \
  }                                                                                \
  static inline T gelu_tanh_##SUF(T x) {                                           \
    T inner = (T)GELU_TANH_BETA * (x + (T)GELU_KAPPA * (x * x * x));               \
    return (T)0.5 * x * ((T)1 + tanh(inner));                                      \
  }                                                                                \
  static inline T gelu_tanh_grad_##SUF(T x) {                                      \
    T x_sq = x * x;                                                                \
    T th = tanh((T)GELU_TANH_BETA * (x + (T)GELU_KAPPA * (x_sq * x)));             \
    T left = (T)0.5 * x, right = (T)1 + th;                                        \
    T inner_d = (T)GELU_TANH_BETA * ((T)1 + (T)3 * (T)GELU_KAPPA * x_sq);          \
    return (T)0.5 * right + left * ((T)1 - th * th) * inner_d;                     \
  }                                                                                \
  static inline T silu_grad_##SUF(T x) {                                           \
    T s = sigmoid_##SUF(x);                                                        \
    return s * ((T)1 + x * ((T)1 - s));                                            \
  }                                                                                \
  static inline T softplus_##SUF(T x, T beta, T threshold) {                       \
    return x * beta > threshold ? x : log1p(exp(x * beta)) / beta;                 \
  }                                                                                \
  static inline T softplus_grad_##SUF(T g, T x, T beta, T threshold) {             \
    T z = exp(x * beta);                                                           \
    return x * beta > threshold ? g : g * z / (z + (T)1);                          \
  }                                                                                \
  /* maximum/minimum: the side that loses gets 0, a tie g / 2, NaN g */           \
  static inline T pick_grad_##SUF(T g, int lose, int tie) {                        \
    return sel_##SUF(tie, g * (T)0.5, sel_##SUF(lose, (T)0, g));                   \
  }

DEFINE_MATH(float, f32)
DEFINE_MATH(double, f64)

/* ---- special functions ------------------------------------------------------
 * Computed the way PyTorch 1.13 computes them (ATen's native/Math.h), so
 * that values agree to rounding, at poles and infinities too: digamma by its
 * recurrence up to x >= 10 and the asymptotic series there, with the
 * reflection for x < 0 (its pi / tan(pi r) from the fraction r, in double);
 * trigamma by six steps of its recurrence and its series, reflected below
 * 1/2; polygamma of order n >= 2 as (-1)^(n+1) n! zeta(n + 1, x), with the
 * Hurwitz zeta summed in double (Euler-Maclaurin); erfinv by a rational
 * first guess and two Newton steps. The digamma and zeta algorithms are the
 * Cephes Math Library's (S. Moshier), erfinv's rational guess is
 * G. L. Pavlis's. lgamma is the C library's (PyTorch's is std::lgamma), by
 * its reentrant form. */

static double zeta_hurwitz(double x, double q) {
  /* Euler-Maclaurin: the Bernoulli numbers' terms (2k)! / B_2k */
  static const double B[12] = {12.0, -720.0, 30240.0, -1209600.0, 47900160.0,
                               -1.8924375803183791606e9, 7.47242496e10,
                               -2.950130727918164224e12, 1.1646782814350067249e14,
                               -4.5979787224074726105e15, 1.8152105401943546773e17,
                               -7.1661652561756670113e18};
  const double eps = 1.11022302462515654042e-16;
  if (x == 1) return INFINITY;
  if (x < 1) return NAN;
  if (q <= 0) {
    if (q == floor(q)) return INFINITY;  /* a pole */
    if (x != floor(x)) return NAN;       /* q^-x is not real */
  }
  /* the first terms directly, until they are negligible or q + i > 9 */
  double sum = pow(q, -x), a = q, b = 0;
  int i = 0;
  while (i < 9 || a <= 9) {
    i++;
    a += 1;
    b = pow(a, -x);
    sum += b;
    if (-eps * sum < b && b < eps * sum) return sum;
  }
  /* then the tail's integral and correction terms */
  double w = a, f = 1, k = 0;
  sum += b * w / (x - 1);
  sum -= 0.5 * b;
  for (i = 0; i < 12; i++) {
    f *= x + k;
    b /= w;
    double t = f * b / B[i];
    sum += t;
    if (fabs(t / sum) < eps) return sum;
    k += 1;
    f *= x + k;
    b /= w;
    k += 1;
  }
  return sum;
}

static inline float lgamma_f32(float x) {
  int sign;
  return lgammaf_r(x, &sign);
}
static inline double lgamma_f64(double x) {
  int sign;
  return lgamma_r(x, &sign);
}

#define DEFINE_SPECIAL(T, SUF)                                                     \
  static T digamma_##SUF(T x) {                                                    \
    static const T A[7] = {(T)8.33333333333333333333E-2, (T)-2.10927960927960927961E-2, \
                           (T)7.57575757575757575758E-3, (T)-4.16666666666666666667E-3, \
                           (T)3.96825396825396825397E-3, (T)-8.33333333333333333333E-3, \
                           (T)8.33333333333333333333E-2};                          \
    if (x == 0) return copysign((T)INFINITY, -x);  /* +-0: -+inf */                \
    if (x < 0) {                                                                   \
      if (x == trunc(x)) return (T)NAN;                                            \
      double r = (double)x - trunc((double)x);                                     \
      return digamma_##SUF((T)1 - x) - (T)(K_PI / tan(K_PI * r));                  \
    }                                                                              \
    T acc = 0;                                                                     \
    while (x < 10) {                                                               \
      acc -= (T)1 / x;                                                             \
      x += 1;                                                                      \
    }                                                                              \
    if (x == 10) return acc + (T)2.25175258906672110764;  /* digamma(10) */       \
    T y = 0;                                                                       \
    if (x < (T)1e17) {                                                             \
      T z = (T)1 / (x * x), p = 0;                                                 \
      for (int i = 0; i < 7; i++) p = p * z + A[i];                                \
      y = z * p;                                                                   \
    }                                                                              \
    return acc + log(x) - ((T)0.5 / x) - y;                                        \
  }                                                                                \
  static T trigamma_##SUF(T x) {                                                   \
    T sign = 1, acc = 0;                                                           \
    if (x < (T)0.5) {                                                              \
      sign = -1;                                                                   \
      T s = sin((T)K_PI * x);                                                      \
      acc -= ((T)K_PI * (T)K_PI) / (s * s);                                        \
      x = 1 - x;                                                                   \
    }                                                                              \
    for (int i = 0; i < 6; i++) {                                                  \
      acc += (T)1 / (x * x);                                                       \
      x += 1;                                                                      \
    }                                                                              \
    T ixx = (T)1 / (x * x);                                                        \
    acc += ((T)1 + (T)1 / (2 * x) +                                                \
            ixx * ((T)1 / 6 - ixx * ((T)1 / 30 - ixx * ((T)1 / 42)))) / x;         \
    return sign * acc;                                                             \
  }                                                                                \
  /* n: 0 digamma, 1 trigamma, and on (the core asks for small orders only) */   \
  static T polygamma_##SUF(T x, T n) {                                             \
    int k = n < 1 ? 0 : n < 64 ? (int)n : 64;                                      \
    if (k == 0) return digamma_##SUF(x);                                           \
    if (k == 1) return trigamma_##SUF(x);                                          \
    return (k % 2 ? (T)1 : (T)-1) * exp(lgamma_##SUF((T)k + 1)) *                  \
           (T)zeta_hurwitz((double)(k + 1), (double)x);                            \
  }                                                                                \
  static T erfinv_##SUF(T y) {                                                     \
    static const T a[4] = {(T)0.886226899, (T)-1.645349621, (T)0.914624893,        \
                           (T)-0.140543331};                                       \
    static const T b[4] = {(T)-2.118377725, (T)1.442710462, (T)-0.329097515,       \
                           (T)0.012229801};                                        \
    static const T c[4] = {(T)-1.970840454, (T)-1.624906493, (T)3.429567803,       \
                           (T)1.641345311};                                        \
    static const T d[2] = {(T)3.543889200, (T)1.637067800};                        \
    T ya = fabs(y), x;                                                             \
    if (ya > 1) return (T)NAN;                                                     \
    if (ya == 1) return copysign((T)INFINITY, y);                                  \
    if (ya <= (T)0.7) {                                                            \
      T z = y * y;                                                                 \
      T num = ((a[3] * z + a[2]) * z + a[1]) * z + a[0];                           \
      T dem = (((b[3] * z + b[2]) * z + b[1]) * z + b[0]) * z + (T)1;              \
      x = y * num / dem;                                                           \
    } else {                                                                       \
      T z = sqrt(-log(((T)1 - ya) / (T)2));                                        \
      T num = ((c[3] * z + c[2]) * z + c[1]) * z + c[0];                           \
      T dem = (d[1] * z + d[0]) * z + (T)1;                                        \
      x = copysign(num, y) / dem;                                                  \
    }                                                                              \
    for (int i = 0; i < 2; i++)                                                    \
      x = x - (erf(x) - y) / ((T)K_2_SQRTPI * exp(-x * x));                        \
    return x;                                                                      \
  }                                                                                \
  /* logit: eps < 0 (PyTorch's None) clamps nothing; x = 1 is inf */             \
  static inline T logit_##SUF(T x, T eps) {                                        \
    if (!(eps < 0)) {                                                              \
      T hi = 1 - eps;                                                              \
      x = x < eps ? eps : x > hi ? hi : x;                                         \
    }                                                                              \
    return x == 1 ? (T)INFINITY : log(x / (1 - x));                                \
  }                                                                                \
  /* g / (x (1 - x)) inside [eps, 1 - eps], 0 outside (NaN included); without \
   * eps inside [0, 1], NaN outside. PyTorch's vectorised kernel, which runs   \
   * on all but a contiguous tensor's last few elements (its scalar one gives  \
   * g * inf at -0.0, and NaN for a NaN x with eps) */                          \
  static inline T logit_grad_##SUF(T g, T x, T eps) {                              \
    T d = g / (x * (1 - x));                                                       \
    if (eps < 0) return x >= 0 && x <= 1 ? d : (T)NAN;                             \
    return x >= eps && x <= 1 - eps ? d : (T)0;                                    \
  }                                                                                \
  static inline T xlogy_##SUF(T x, T y) {                                          \
    return y != y ? (T)NAN : x == 0 ? (T)0 : x * log(y);                           \
  }                                                                                \
  /* max(a, b) + log(1 + exp(-|a - b|)) (PyTorch 1.13's: log, not log1p), a   \
   * itself when both are one infinity */                                         \
  static inline T logaddexp_##SUF(T a, T b) {                                      \
    if (isinf(a) && a == b) return a;                                              \
    T m = a < b ? b : a;                                                           \
    return m + log((T)1 + exp(-fabs(a - b)));                                      \
  }                                                                                \
  static inline int isclose_##SUF(T x, T y, T rtol, T atol, T equal_nan) {         \
    if (x == y || (equal_nan != 0 && x != x && y != y)) return 1;                  \
    T err = fabs(x - y);                                                           \
    return isfinite(err) && err <= atol + fabs(rtol * y);                          \
  }
DEFINE_SPECIAL(float, f32)
DEFINE_SPECIAL(double, f64)

/* Floor division, remainder and fmod of floats, as PyTorch's
 * div_floor_floating and remainder kernels (the quotient is rounded so that
 * it agrees with the remainder: 7.5 // 2.5 is 3 even where fmod rounds). */
#define DEFINE_DIVISION(T, SUF)                                                    \
  static inline T floordiv_##SUF(T a, T b) {                                       \
    if (b == 0) return a / b;                                                      \
    T mod = fmod(a, b), div = (a - mod) / b;                                       \
    if (mod != 0 && (b < 0) != (mod < 0)) div -= 1;                                \
    if (div == 0) return copysign((T)0, a / b);                                    \
    T fl = floor(div);                                                             \
    return div - fl > (T)0.5 ? fl + 1 : fl;                                        \
  }                                                                                \
  static inline T rem_##SUF(T a, T b) {                                            \
    T mod = fmod(a, b);                                                            \
    return mod != 0 && (b < 0) != (mod < 0) ? mod + b : mod;                       \
  }                                                                                \
  static inline T fmodf_##SUF(T a, T b) { return fmod(a, b); }
DEFINE_DIVISION(float, f32)
DEFINE_DIVISION(double, f64)

/* Integers wrap as PyTorch's do: arithmetic in the unsigned type, which is
 * defined modulo 2^n, converted back (GCC and Clang define the conversion as
 * two's complement). Division: a zero divisor is refused before the kernel
 * runs, and a divisor of -1 is negation (INT_MIN / -1 overflows in C). */
#define DEFINE_INT(T, U, SUF)                                                      \
  static inline T wadd_##SUF(T x, T y) { return (T)((U)x + (U)y); }                \
  static inline T wsub_##SUF(T x, T y) { return (T)((U)x - (U)y); }                \
  static inline T wmul_##SUF(T x, T y) { return (T)((U)x * (U)y); }                \
  static inline T wneg_##SUF(T x) { return (T)((U)0 - (U)x); }                     \
  static inline T floordiv_##SUF(T a, T b) {                                       \
    if (b == -1) return wneg_##SUF(a);                                             \
    T q = a / b;                                                                   \
    return a % b != 0 && (a < 0) != (b < 0) ? q - 1 : q;                           \
  }                                                                                \
  static inline T rem_##SUF(T a, T b) {                                            \
    if (b == -1) return 0;                                                         \
    T r = a % b;                                                                   \
    return r != 0 && (r < 0) != (b < 0) ? r + b : r;                               \
  }                                                                                \
  static inline T fmodf_##SUF(T a, T b) { return b == -1 ? 0 : a % b; }
DEFINE_INT(int64_t, uint64_t, i64)
DEFINE_INT(int32_t, uint32_t, i32)
static inline uint8_t wadd_u8(uint8_t x, uint8_t y) { return (uint8_t)(x + y); }
static inline uint8_t wsub_u8(uint8_t x, uint8_t y) { return (uint8_t)(x - y); }
static inline uint8_t wmul_u8(uint8_t x, uint8_t y) { return (uint8_t)((unsigned)x * y); }
static inline uint8_t wneg_u8(uint8_t x) { return (uint8_t)(0u - x); }
static inline uint8_t floordiv_u8(uint8_t a, uint8_t b) { return (uint8_t)(a / b); }
static inline uint8_t rem_u8(uint8_t a, uint8_t b) { return (uint8_t)(a % b); }
static inline uint8_t fmodf_u8(uint8_t a, uint8_t b) { return (uint8_t)(a % b); }
/* bool: add is or, mul is and; sub and neg are refused before a kernel */
static inline _Bool wadd_b8(_Bool x, _Bool y) { return x | y; }
static inline _Bool wmul_b8(_Bool x, _Bool y) { return x & y; }
static inline _Bool wsub_b8(_Bool x, _Bool y) { return x ^ y; }
static inline _Bool wneg_b8(_Bool x) { return x; }
/* x < 0, without comparing an unsigned type (a warning) */
static inline int isneg_i64(int64_t x) { return x < 0; }
static inline int isneg_i32(int32_t x) { return x < 0; }
static inline int isneg_u8(uint8_t x) { (void)x; return 0; }
static inline int isneg_b8(_Bool x) { (void)x; return 0; }
/* x^e by squaring, wrapping as the type does; e >= 0 (negative exponents are
 * refused before a kernel runs, as PyTorch refuses them) */
#define DEFINE_IPOW(T, SUF)                                                        \
  static inline T ipow_##SUF(T x, uint64_t e) {                                    \
    T r = 1;                                                                       \
    for (uint64_t k = e; k; k >>= 1) {                                             \
      if (k & 1) r = wmul_##SUF(r, x);                                             \
      x = wmul_##SUF(x, x);                                                        \
    }                                                                              \
    return r;                                                                      \
  }
DEFINE_IPOW(int64_t, i64)
DEFINE_IPOW(int32_t, i32)
DEFINE_IPOW(uint8_t, u8)
static inline _Bool ipow_b8(_Bool x, uint64_t e) { return x || e == 0; }  /* x^0 is 1 */
/* ~x; for bool, logical not (PyTorch's ~ of a bool tensor) */
static inline int64_t bnot_i64(int64_t x) { return ~x; }
static inline int32_t bnot_i32(int32_t x) { return ~x; }
static inline uint8_t bnot_u8(uint8_t x) { return (uint8_t)~x; }
static inline _Bool bnot_b8(_Bool x) { return !x; }

#define K_INT(fn, x)                                                               \
  _Generic((x), int64_t: fn##_i64, int32_t: fn##_i32, uint8_t: fn##_u8, _Bool: fn##_b8)
#define k_wadd(x, y) K_INT(wadd, x)(x, y)
#define k_wmul(x, y) K_INT(wmul, x)(x, y)
#define k_wsub(x, y) K_INT(wsub, x)(x, y)
#define k_wneg(x) K_INT(wneg, x)(x)
#define k_isneg(x) K_INT(isneg, x)(x)
#define k_ipow(x, e) K_INT(ipow, x)(x, e)
#define k_bnot(x) K_INT(bnot, x)(x)
/* integers are never NaN */
static inline int isnan_f32(float x) { return x != x; }
static inline int isnan_f64(double x) { return x != x; }
static inline int isnan_int(int64_t x) { (void)x; return 0; }
#define k_isnan(x) _Generic((x), float: isnan_f32, double: isnan_f64, default: isnan_int)(x)
/* integers are always finite */
static inline int isfinite_f32(float x) { return isfinite(x); }
static inline int isfinite_f64(double x) { return isfinite(x); }
static inline int isfinite_int(int64_t x) { (void)x; return 1; }
#define k_isfinite(x)                                                              \
  _Generic((x), float: isfinite_f32, double: isfinite_f64, default: isfinite_int)(x)
#define K_ANY(fn, x)                                                               \
  _Generic((x), float: fn##_f32, double: fn##_f64, int64_t: fn##_i64, int32_t: fn##_i32, \
           uint8_t: fn##_u8)
#define k_floordiv(x, y) K_ANY(floordiv, x)(x, y)
#define k_rem(x, y) K_ANY(rem, x)(x, y)
#define k_fmod(x, y) K_ANY(fmodf, x)(x, y)

#define K_GEN(fn, x) _Generic((x), float: fn##_f32, double: fn##_f64)
#define k_sign(x) K_GEN(sign, x)(x)
#define k_clamp(x, lo, hi) K_GEN(clamp, x)(x, lo, hi)
#define k_pows(x, s) K_GEN(pows, x)(x, s)
#define k_gelu_grad(x) K_GEN(gelu_grad, x)(x)
#define k_gelu_tanh_grad(x) K_GEN(gelu_tanh_grad, x)(x)
#define k_silu_grad(x) K_GEN(silu_grad, x)(x)
#define k_softplus(x, beta, thr) K_GEN(softplus, x)(x, beta, thr)
#define k_softplus_grad(g, x, beta, thr) K_GEN(softplus_grad, g)(g, x, beta, thr)
#define k_pick(g, lose, tie) K_GEN(pick_grad, g)(g, lose, tie)
#define k_sel(c, a, b) K_GEN(sel, a)(c, a, b)
#define k_lgamma(x) K_GEN(lgamma, x)(x)
#define k_digamma(x) K_GEN(digamma, x)(x)
#define k_polygamma(x, n) K_GEN(polygamma, x)(x, n)
#define k_erfinv(x) K_GEN(erfinv, x)(x)
#define k_logit(x, eps) K_GEN(logit, x)(x, eps)
#define k_logit_grad(g, x, eps) K_GEN(logit_grad, g)(g, x, eps)
#define k_xlogy(x, y) K_GEN(xlogy, x)(x, y)
#define k_logaddexp(x, y) K_GEN(logaddexp, x)(x, y)
#define k_isclose(x, y, rtol, atol, equal_nan) K_GEN(isclose, x)(x, y, rtol, atol, equal_nan)
/* float32 exp, sigmoid, tanh and gelu (both forms) are simd.c's: within 2
 * ulp, and one at a time they give its vector loops' bits, on every CPU */
#define k_exp(x) _Generic((x), float: lc__exp1f, double: exp)(x)
#define k_sigmoid(x) _Generic((x), float: lc__sigmoid1f, double: sigmoid_f64)(x)
#define k_tanh(x) _Generic((x), float: lc__tanh1f, double: tanh)(x)
#define k_gelu_tanh(x) _Generic((x), float: lc__gelu_tanh1f, double: gelu_tanh_f64)(x)
#define k_gelu(x) _Generic((x), float: lc__gelu_erf1f, double: gelu_f64)(x)

/* ---- the kernels of every row ------------------------------------------------
 * Each is a function of (kernel, row) with T, p0 and p1 in scope. */

/* The op's numbers in T: integer kernels saturate them, so that a missing
 * clamp bound (an infinity) is the type's limit. */
static inline int64_t sat_i64(double p) {
  return p != p ? 0 : p >= 0x1p63 ? INT64_MAX : p < -0x1p63 ? INT64_MIN : (int64_t)p;
}
#define KP_f32(p) ((float)(p))
#define KP_f64(p) ((double)(p))
#define KP_i64(p) sat_i64(p)
#define KP_i32(p) ((int32_t)(p < INT32_MIN ? INT32_MIN : p > INT32_MAX ? INT32_MAX : sat_i64(p)))
#define KP_u8(p) ((uint8_t)(p < 0 ? 0 : p > 255 ? 255 : sat_i64(p)))
#define KP_b8(p) ((_Bool)((p) != 0))

#define KERNEL(fn, TT, SUF, ...)                                                   \
  static void fn(const ew_kernel *k, const ew_row *r) {                            \
    typedef TT T;                                                                  \
    const T p0 = KP_##SUF(k->p0), p1 = KP_##SUF(k->p1), p2 = KP_##SUF(k->p2);      \
    (void)p0; (void)p1; (void)p2;                                                  \
    __VA_ARGS__;                                                                   \
  }
#define UN_FWD(name, fwd)                                                          \
  KERNEL(un_fwd_##name##_f32, float, f32, ROW1(T, T, x, fwd))                      \
  KERNEL(un_fwd_##name##_f64, double, f64, ROW1(T, T, x, fwd))
#define UN_BWD(name, grad)                                                         \
  KERNEL(un_bwd_##name##_f32, float, f32, ROW2(T, T, T, g, v, grad))               \
  KERNEL(un_bwd_##name##_f64, double, f64, ROW2(T, T, T, g, v, grad))
#define BIN_FWD(name, fwd)                                                         \
  KERNEL(bin_fwd_##name##_f32, float, f32, ROW2(T, T, T, x, y, fwd))               \
  KERNEL(bin_fwd_##name##_f64, double, f64, ROW2(T, T, T, x, y, fwd))
#define BIN_BWD(name, side, grad)                                                  \
  KERNEL(bin_bwd_##name##_##side##_f32, float, f32, ROW3(T, T, T, T, g, x, y, grad)) \
  KERNEL(bin_bwd_##name##_##side##_f64, double, f64, ROW3(T, T, T, T, g, x, y, grad))
/* integer kernels: (name, C type, suffix, result type, forward) */
#define INT_UN_K(name, TT, SUF, TO, fwd)                                           \
  KERNEL(un_fwd_##name##_##SUF, TT, SUF, ROW1(TO, T, x, fwd))
#define INT_BIN_K(name, TT, SUF, TO, fwd)                                          \
  KERNEL(bin_fwd_##name##_##SUF, TT, SUF, ROW2(TO, T, T, x, y, fwd))
#define INTS_K(K, name, TO, fwd)                                                   \
  K(name, int64_t, i64, TO, fwd) K(name, int32_t, i32, TO, fwd) K(name, uint8_t, u8, TO, fwd)
/* masks: every input dtype, a bool result */
#define MASK_K(K, name, fwd)                                                       \
  K(name, float, f32, _Bool, fwd) K(name, double, f64, _Bool, fwd)                 \
  INTS_K(K, name, _Bool, fwd) K(name, _Bool, b8, _Bool, fwd)

#define UNARY(name, Bw, saves, fwd, grad, rec) UN_FWD(name, fwd) UN_BWD(name, grad)
#define UNARY_P(name, Bw, saves, fwd, grad, rec) UN_FWD(name, fwd) UN_BWD(name, grad)
#define UNARY_ALT(name, of, Bw, saves, fwd, grad, rec) UN_FWD(name, fwd) UN_BWD(name, grad)
#define UNARY_MASK(name, reason, fwd) MASK_K(INT_UN_K, name, fwd)
#define BINARY(name, Bw, fwd, grad_a, grad_b, rec_a, rec_b)                        \
  BIN_FWD(name, fwd) BIN_BWD(name, a, grad_a) BIN_BWD(name, b, grad_b)
#define BINARY_RULE(name, Bw, fwd, rule) BIN_FWD(name, fwd)
#define BINARY_MASK(name, reason, fwd) MASK_K(INT_BIN_K, name, fwd)
#define BINARY_ND(name, reason, fwd) BIN_FWD(name, fwd)
#define BINARY_MASK_P(name, reason, fwd)                                           \
  INT_BIN_K(name, float, f32, _Bool, fwd) INT_BIN_K(name, double, f64, _Bool, fwd)
#define UNARY_ND_INT(name, reason)   /* its kernels are its INT_ rows' */
#define BINARY_ND_INT(name, reason)
#define EW_OP(name, Bw, rule)
#define INT_UNARY(name, fwd) INTS_K(INT_UN_K, name, T, fwd)
#define INT_UNARY_B(name, fwd) INTS_K(INT_UN_K, name, T, fwd) INT_UN_K(name, _Bool, b8, T, fwd)
#define INT_BINARY(name, fwd) INTS_K(INT_BIN_K, name, T, fwd)
#define INT_BINARY_B(name, fwd) INTS_K(INT_BIN_K, name, T, fwd) INT_BIN_K(name, _Bool, b8, T, fwd)
#include "elementwise.def"

/* the in-place updates of inplace.def: operands (t, t, x, y) */
#define INPLACE(name, formula)                                                     \
  KERNEL(ip_##name##_f32, float, f32, ROW3(T, T, T, T, t, x, y, formula))          \
  KERNEL(ip_##name##_f64, double, f64, ROW3(T, T, T, T, t, x, y, formula))
#include "inplace.def"

static const ew_row_fn INPLACE_K[][2] = {
#define INPLACE(name, formula) [LC_IP_##name] = {ip_##name##_f32, ip_##name##_f64},
#include "inplace.def"
};
_Static_assert(sizeof INPLACE_K / sizeof INPLACE_K[0] == LC_IP_COUNT,
               "an in-place row without its kernels");

/* float32 exp, sigmoid, tanh, gelu (both forms): contiguous rows go to simd.c's
 * vector loops. */
#define VEC_ROW(name, fn)                                                          \
  static void un_fwd_##name##_f32_vec(const ew_kernel *k, const ew_row *r) {       \
    if (r->s[0] == 1 && r->s[1] == 1)                                              \
      lc__vmap_f32(fn, r->n, (float *)r->p[0], (const float *)r->p[1], LC_SIMD_BEST); \
    else un_fwd_##name##_f32(k, r);                                                \
  }
VEC_ROW(exp, LC_VF_EXP)
VEC_ROW(sigmoid, LC_VF_SIGMOID)
VEC_ROW(tanh, LC_VF_TANH)
VEC_ROW(gelu_tanh, LC_VF_GELU_TANH)
VEC_ROW(gelu, LC_VF_GELU_ERF)

/* where's condition keeps its own dtype (converting float64 to float32 could
 * turn a tiny nonzero into 0), so its rows come in every pairing of result
 * and condition dtype; so do the copy's, which converts (LC_CVT_*). */
#define DEFINE_PAIR_ROWS(T, TS, C, CS)                                             \
  static void where_fwd_##TS##_##CS(const ew_kernel *k, const ew_row *r) {         \
    (void)k;                                                                       \
    ROW3(T, C, T, T, c, x, y, c != 0 ? x : y);                                     \
  }                                                                                \
  static void copy_##TS##_##CS(const ew_kernel *k, const ew_row *r) {              \
    (void)k;                                                                       \
    ROW1(T, C, x, LC_CVT_##TS(x));                                                 \
  }
/* where's gradient: float results only */
#define DEFINE_WHERE_BWD(T, TS, C, CS)                                             \
  static void where_bwd_##TS##_##CS(const ew_kernel *k, const ew_row *r) {         \
    if (k->side) ROW2(T, T, C, g, c, c != 0 ? (T)0 : g);                           \
    else ROW2(T, T, C, g, c, c != 0 ? g : (T)0);                                   \
  }
/* every source dtype for one result dtype: M(T, TS, C, CS) */
#define PAIRS(M, T, TS)                                                            \
  M(T, TS, float, f32) M(T, TS, double, f64) M(T, TS, int64_t, i64)                \
  M(T, TS, int32_t, i32) M(T, TS, uint8_t, u8) M(T, TS, _Bool, b8)
PAIRS(DEFINE_PAIR_ROWS, float, f32)
PAIRS(DEFINE_PAIR_ROWS, double, f64)
PAIRS(DEFINE_PAIR_ROWS, int64_t, i64)
PAIRS(DEFINE_PAIR_ROWS, int32_t, i32)
PAIRS(DEFINE_PAIR_ROWS, uint8_t, u8)
PAIRS(DEFINE_PAIR_ROWS, _Bool, b8)
PAIRS(DEFINE_WHERE_BWD, float, f32)
PAIRS(DEFINE_WHERE_BWD, double, f64)

/* [result dtype][condition or source dtype], in lc_dtype's order */
#define PAIR_ROW(fn, TS)                                                           \
  {fn##_##TS##_f32, fn##_##TS##_f64, fn##_##TS##_i64, fn##_##TS##_i32, fn##_##TS##_u8, \
   fn##_##TS##_b8}
#define PAIR_TABLE(fn)                                                             \
  {PAIR_ROW(fn, f32), PAIR_ROW(fn, f64), PAIR_ROW(fn, i64), PAIR_ROW(fn, i32),     \
   PAIR_ROW(fn, u8), PAIR_ROW(fn, b8)}
static const ew_row_fn WHERE_FWD[LC_NDTYPES][LC_NDTYPES] = PAIR_TABLE(where_fwd);
static const ew_row_fn COPY[LC_NDTYPES][LC_NDTYPES] = PAIR_TABLE(copy);
static const ew_row_fn WHERE_BWD[2][LC_NDTYPES] = {PAIR_ROW(where_bwd, f32),
                                                   PAIR_ROW(where_bwd, f64)};

/* ---- derivatives in ops (LC_CREATE_GRAPH) -----------------------------------
 * A rule whose gradient is to be differentiated again computes g times the
 * row's derivative with recorded ops instead of the fused pass. The
 * derivative columns of elementwise.def are expressions over the d_
 * helpers: each takes borrowed tensors (NULL, a failure, passes through),
 * returns a new one and keeps it in the scope s, which releases them all at
 * the end, so an expression needs no releases of its own. */

static lc_tensor *d_pows(d_scope *s, lc_tensor *x, double e) {
  return x ? d_keep(s, lc_pow_scalar(s->ctx, x, e)) : NULL;
}

/* maximum/minimum: 1 where `win` wins, 1/2 on a tie */
static lc_tensor *d_pick(d_scope *s, lc_tensor *win, lc_tensor *lose) {
  return d_add(s, d_bin(s, lc_gt, win, lose), d_mul(s, d_k(s, 0.5), d_bin(s, lc_eq, win, lose)));
}

static lc_tensor *d_silu_grad(d_scope *s, lc_tensor *x) {
  lc_tensor *sg = d_un(s, lc_sigmoid, x);
  return d_mul(s, sg, d_add(s, d_k(s, 1), d_mul(s, x, d_sub(s, d_k(s, 1), sg))));
}

/* polygamma(n, x), recorded (digamma's derivatives; after the tables) */
static lc_tensor *d_polygamma(d_scope *s, lc_tensor *x, double n);

/* copysign's derivative by a: copysign(a, b) / a, 0 where a is 0 */
static lc_tensor *d_copysign_grad(d_scope *s, lc_tensor *x, lc_tensor *y) {
  return d_where(s, d_bin(s, lc_eq, x, d_k(s, 0)), d_k(s, 0),
                 d_div(s, d_bin(s, lc_copysign, x, y), x));
}

/* xlogy's derivative by x: log(y), 0 where x is 0 and y <= 0 */
static lc_tensor *d_xlogy_grad(d_scope *s, lc_tensor *x, lc_tensor *y) {
  lc_tensor *edge = d_bin(s, lc_logical_and, d_bin(s, lc_eq, x, d_k(s, 0)),
                          d_bin(s, lc_le, y, d_k(s, 0)));
  return d_where(s, edge, d_k(s, 0), d_un(s, lc_log, y));
}

/* 1 / (x (1 - x)) inside [eps, 1 - eps], 0 outside; without eps (eps < 0)
 * inside [0, 1], NaN outside: the fused pass's rule, as PyTorch writes it
 * for create_graph (infinitely_differentiable_logit_backward) */
static lc_tensor *d_logit_grad(d_scope *s, lc_tensor *x, double eps) {
  double lo = eps < 0 ? 0 : eps, hi = eps < 0 ? 1 : 1 - eps;
  lc_tensor *inside = d_bin(s, lc_logical_and, d_bin(s, lc_ge, x, d_k(s, lo)),
                            d_bin(s, lc_le, x, d_k(s, hi)));
  lc_tensor *d = d_un(s, lc_reciprocal, d_mul(s, x, d_sub(s, d_k(s, 1), x)));
  return d_where(s, inside, d, d_k(s, eps < 0 ? NAN : 0));
}

/* Phi(x) + x pdf(x) */
static lc_tensor *d_gelu_grad(d_scope *s, lc_tensor *x) {
  lc_tensor *cdf = d_mul(s, d_k(s, 0.5),
                         d_add(s, d_k(s, 1), d_un(s, lc_erf, d_mul(s, x, d_k(s, K_SQRT1_2)))));
  lc_tensor *pdf = d_mul(s, d_k(s, GELU_BETA),
                         d_un(s, lc_exp, d_mul(s, d_mul(s, x, x), d_k(s, -0.5))));
  return d_add(s, cdf, d_mul(s, x, pdf));
}

/* 0.5 (1 + th) + 0.5 x (1 - th^2) beta (1 + 3 kappa x^2) */
static lc_tensor *d_gelu_tanh_grad(d_scope *s, lc_tensor *x) {
  lc_tensor *x2 = d_mul(s, x, x);
  lc_tensor *inner = d_mul(s, d_k(s, GELU_TANH_BETA),
                           d_add(s, x, d_mul(s, d_k(s, GELU_KAPPA), d_mul(s, x2, x))));
  lc_tensor *th = d_un(s, lc_tanh, inner);
  lc_tensor *inner_d = d_mul(s, d_k(s, GELU_TANH_BETA),
                             d_add(s, d_k(s, 1), d_mul(s, d_k(s, 3 * GELU_KAPPA), x2)));
  lc_tensor *right = d_mul(s, d_k(s, 0.5), d_add(s, d_k(s, 1), th));
  lc_tensor *left = d_mul(s, d_mul(s, d_k(s, 0.5), x), d_sub(s, d_k(s, 1), d_mul(s, th, th)));
  return d_add(s, right, d_mul(s, left, inner_d));
}

/* The derivative columns as functions: unary of (x, y = the result, p0, p1,
 * p2), binary of (x = a, y = b). */
typedef lc_tensor *(*un_rec_fn)(d_scope *s, lc_tensor *x, lc_tensor *y, double p0, double p1,
                                double p2);
typedef lc_tensor *(*bin_rec_fn)(d_scope *s, lc_tensor *x, lc_tensor *y);

#define UN_REC(name, rec)                                                          \
  static lc_tensor *un_rec_##name(d_scope *s, lc_tensor *x, lc_tensor *y, double p0,  \
                                  double p1, double p2) {                          \
    (void)s; (void)x; (void)y; (void)p0; (void)p1; (void)p2;                       \
    return rec;                                                                    \
  }
#define BIN_REC(name, side, rec)                                                   \
  static lc_tensor *bin_rec_##name##_##side(d_scope *s, lc_tensor *x, lc_tensor *y) {  \
    (void)x; (void)y;                                                              \
    return rec;                                                                    \
  }
#define UNARY(name, Bw, saves, fwd, grad, rec) UN_REC(name, rec)
#define UNARY_P(name, Bw, saves, fwd, grad, rec) UN_REC(name, rec)
#define UNARY_ALT(name, of, Bw, saves, fwd, grad, rec) UN_REC(name, rec)
#define UNARY_MASK(...)
#define BINARY(name, Bw, fwd, grad_a, grad_b, rec_a, rec_b)                        \
  BIN_REC(name, a, rec_a) BIN_REC(name, b, rec_b)
#define BINARY_RULE(...)
#define BINARY_MASK(...)
#define EW_OP(...)
/* (not derivatives: the check that an integer-only row has its INT_ row,
 * here because every kernel is defined by now; without one, the name of
 * its int64 kernel is undeclared) */
#define UNARY_ND_INT(name, reason)                                                 \
  _Static_assert(sizeof &un_fwd_##name##_i64 != 0, #name ": no INT_ row");
#define BINARY_ND_INT(name, reason)                                                \
  _Static_assert(sizeof &bin_fwd_##name##_i64 != 0, #name ": no INT_ row");
#include "elementwise.def"

/* ---- the tables ------------------------------------------------------------------ */

static int rule_unary(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int rule_binary(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int rule_add(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int rule_sub(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int rule_mul(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int rule_div(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int rule_where(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int rule_cast(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int rule_clone(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int replay_unary(lc_ctx *ctx, lc_node *n);
static int replay_binary(lc_ctx *ctx, lc_node *n);
static int replay_copy(lc_ctx *ctx, lc_node *n);
static int replay_where(lc_ctx *ctx, lc_node *n);

enum { SAVES_X, SAVES_Y };   /* what a unary row's gradient formula reads as v */

enum {
#define UNARY(name, ...) UN_##name,
#define UNARY_P(name, ...) UN_##name,
#define UNARY_ALT(name, ...) UN_##name,
#define UNARY_MASK(name, ...) UN_##name,
#define BINARY(...)
#define BINARY_RULE(...)
#define BINARY_MASK(...)
#define EW_OP(...)
#include "elementwise.def"
  UN_COUNT
};

enum {
#define UNARY(...)
#define UNARY_P(...)
#define UNARY_ALT(...)
#define UNARY_MASK(...)
#define BINARY(name, ...) BIN_##name,
#define BINARY_RULE(name, ...) BIN_##name,
#define BINARY_MASK(name, ...) BIN_##name,
#define BINARY_ND(name, ...) BIN_##name,
#define EW_OP(...)
#include "elementwise.def"
  BIN_COUNT
};

enum {
#define UNARY(...)
#define UNARY_P(...)
#define UNARY_ALT(...)
#define UNARY_MASK(...)
#define BINARY(...)
#define BINARY_RULE(...)
#define BINARY_MASK(...)
#define EW_OP(name, ...) OP_##name,
#include "elementwise.def"
  OP_COUNT
};

/* What a row's result is: differentiable, a bool mask, or of the inputs'
 * dtype without a gradient (BINARY_ND). */
enum { K_GRAD, K_MASK, K_ND };

/* A unary row: its node definition (backward NULL for a mask) and float
 * kernels, indexed by dtype (the integer ones are in UN_INT). */
typedef struct un_op {
  lc__opdef d;
  ew_row_fn fwd[2], bwd[2];
  int saves;
  un_rec_fn rec;   /* the derivative in ops */
  int kind;
} un_op;

#define BW(Bw) #Bw "Backward"
/* A rule that saves the result (Y) never reads the input's values (see
 * lc_op_def.values_unused); the result itself is checked as saved. */
#define UN_ROW(name, Bw, saves)                                                    \
  [UN_##name] = {{{BW(Bw), rule_unary, SAVES_##saves == SAVES_Y}, UN_##name, replay_unary}, \
                 {un_fwd_##name##_f32, un_fwd_##name##_f64},                       \
                 {un_bwd_##name##_f32, un_bwd_##name##_f64}, SAVES_##saves, un_rec_##name, K_GRAD},
static const un_op UN[] = {
#define UNARY(name, Bw, saves, ...) UN_ROW(name, Bw, saves)
#define UNARY_P(name, Bw, saves, ...) UN_ROW(name, Bw, saves)
#define UNARY_ALT(name, of, Bw, saves, ...) UN_ROW(name, Bw, saves)
/* rows without a rule record a node only while tracing (lc__finish_nograd):
 * the name is the plan's step name */
#define UNARY_MASK(name, ...)                                                      \
  [UN_##name] = {{{#name, NULL}, UN_##name, replay_unary},                         \
                 {un_fwd_##name##_f32, un_fwd_##name##_f64}, {NULL, NULL}, SAVES_X, NULL, K_MASK},
#define UNARY_ND_INT(name, reason)                                                 \
  [UN_##name] = {{{#name, NULL}, UN_##name, replay_unary}, {NULL, NULL}, {NULL, NULL}, SAVES_X, \
                 NULL, K_ND},
#define BINARY(...)
#define BINARY_RULE(...)
#define BINARY_MASK(...)
#define EW_OP(...)
#include "elementwise.def"
};
_Static_assert(sizeof UN / sizeof UN[0] == UN_COUNT, "a unary row without its table entry");

/* A binary row; bwd[side][dtype] for gradient formulas, NULL for rules and
 * masks; float kernels (the integer ones are in BIN_INT). */
typedef struct bin_op {
  lc__opdef d;
  ew_row_fn fwd[2];
  ew_row_fn bwd[2][2];
  bin_rec_fn rec[2];   /* the derivatives by a and b, in ops */
  int kind;
} bin_op;

#define BIN_FWDS(name) {bin_fwd_##name##_f32, bin_fwd_##name##_f64}
static const bin_op BIN[] = {
#define UNARY(...)
#define UNARY_P(...)
#define UNARY_ALT(...)
#define UNARY_MASK(...)
#define BINARY(name, Bw, ...)                                                      \
  [BIN_##name] = {{{BW(Bw), rule_binary}, BIN_##name, replay_binary}, BIN_FWDS(name), \
                  {{bin_bwd_##name##_a_f32, bin_bwd_##name##_a_f64},               \
                   {bin_bwd_##name##_b_f32, bin_bwd_##name##_b_f64}},                \
                  {bin_rec_##name##_a, bin_rec_##name##_b}, K_GRAD},
/* add's and sub's gradients are g and -g: their inputs' values are unused */
#define BINARY_RULE(name, Bw, fwd, rule)                                           \
  [BIN_##name] = {{{BW(Bw), rule, BIN_##name == BIN_add || BIN_##name == BIN_sub}, BIN_##name, \
                   replay_binary},                                                 \
                  BIN_FWDS(name), {{NULL, NULL}, {NULL, NULL}},                    \
                  {NULL, NULL}, K_GRAD},
#define BINARY_MASK(name, ...)                                                     \
  [BIN_##name] = {{{#name, NULL}, BIN_##name, replay_binary}, BIN_FWDS(name),      \
                  {{NULL, NULL}, {NULL, NULL}}, {NULL, NULL}, K_MASK},
#define BINARY_ND(name, ...)                                                       \
  [BIN_##name] = {{{#name, NULL}, BIN_##name, replay_binary}, BIN_FWDS(name),      \
                  {{NULL, NULL}, {NULL, NULL}}, {NULL, NULL}, K_ND},
#define BINARY_ND_INT(name, reason)                                                \
  [BIN_##name] = {{{#name, NULL}, BIN_##name, replay_binary}, {NULL, NULL},        \
                  {{NULL, NULL}, {NULL, NULL}}, {NULL, NULL}, K_ND},
#define EW_OP(...)
#include "elementwise.def"
};

/* Integer and bool kernels, [op][dtype - LC_INT64]; a row without any
 * computes integers in the default float dtype. */
#define INTS_ROW(pre, name) {pre##name##_i64, pre##name##_i32, pre##name##_u8, NULL}
#define INTS_ROW_B(pre, name) {pre##name##_i64, pre##name##_i32, pre##name##_u8, pre##name##_b8}
static const ew_row_fn UN_INT[UN_COUNT][4] = {
#define UNARY(...)
#define UNARY_P(...)
#define UNARY_ALT(...)
#define UNARY_MASK(name, ...) [UN_##name] = INTS_ROW_B(un_fwd_, name),
#define UNARY_ND_INT(...)   /* its INT_ row below */
#define BINARY(...)
#define BINARY_RULE(...)
#define BINARY_MASK(...)
#define BINARY_ND(...)
#define EW_OP(...)
#define INT_UNARY(name, fwd) [UN_##name] = INTS_ROW(un_fwd_, name),
#define INT_UNARY_B(name, fwd) [UN_##name] = INTS_ROW_B(un_fwd_, name),
#define INT_BINARY(name, fwd)
#define INT_BINARY_B(name, fwd)
#include "elementwise.def"
};
static const ew_row_fn BIN_INT[BIN_COUNT][4] = {
#define UNARY(...)
#define UNARY_P(...)
#define UNARY_ALT(...)
#define UNARY_MASK(...)
#define BINARY(...)
#define BINARY_RULE(...)
#define BINARY_MASK(name, ...) [BIN_##name] = INTS_ROW_B(bin_fwd_, name),
#define BINARY_MASK_P(...)   /* float kernels only */
#define BINARY_ND(...)
#define BINARY_ND_INT(...)   /* its INT_ row below */
#define EW_OP(...)
#define INT_UNARY(name, fwd)
#define INT_UNARY_B(name, fwd)
#define INT_BINARY(name, fwd) [BIN_##name] = INTS_ROW(bin_fwd_, name),
#define INT_BINARY_B(name, fwd) [BIN_##name] = INTS_ROW_B(bin_fwd_, name),
#include "elementwise.def"
};
_Static_assert(sizeof BIN / sizeof BIN[0] == BIN_COUNT, "a binary row without its table entry");

static const lc__opdef OPS[] = {
#define UNARY(...)
#define UNARY_P(...)
#define UNARY_ALT(...)
#define UNARY_MASK(...)
#define BINARY(...)
#define BINARY_RULE(...)
#define BINARY_MASK(...)
#define EW_OP(name, Bw, rule)                                                      \
  [OP_##name] = {{BW(Bw), rule}, OP_##name, OP_##name == OP_where ? replay_where : replay_copy},
#include "elementwise.def"
};
_Static_assert(sizeof OPS / sizeof OPS[0] == OP_COUNT, "an op row without its table entry");

/* ---- shared plumbing ----------------------------------------------------- */

/* Points a and b at versions of dtype dt (recorded casts, so gradients
 * return in each input's dtype). *ca and *cb hold the references the
 * caller releases, NULL when there is nothing to release. */
static int promote(lc_ctx *ctx, lc_dtype dt, lc_tensor **a, lc_tensor **b, lc_tensor **ca,
                   lc_tensor **cb) {
  *ca = *cb = NULL;
  if ((*a)->dtype != dt && !(*ca = lc_to_dtype(ctx, *a, dt))) return 0;
  if ((*b)->dtype != dt && !(*cb = lc_to_dtype(ctx, *b, dt))) return 0;
  if (*ca) *a = *ca;
  if (*cb) *b = *cb;
  return 1;
}

static ew_row_fn un_fwd(int op, lc_dtype dt) {
  if (dt == LC_FLOAT32 && op == UN_exp) return un_fwd_exp_f32_vec;
  if (dt == LC_FLOAT32 && op == UN_sigmoid) return un_fwd_sigmoid_f32_vec;
  if (dt == LC_FLOAT32 && op == UN_tanh) return un_fwd_tanh_f32_vec;
  if (dt == LC_FLOAT32 && op == UN_gelu_tanh) return un_fwd_gelu_tanh_f32_vec;
  if (dt == LC_FLOAT32 && op == UN_gelu) return un_fwd_gelu_f32_vec;
  return lc_dtype_is_float(dt) ? UN[op].fwd[dt] : UN_INT[op][dt - LC_INT64];
}

static ew_row_fn bin_fwd(int op, lc_dtype dt) {
  return lc_dtype_is_float(dt) ? BIN[op].fwd[dt] : BIN_INT[op][dt - LC_INT64];
}

/* The dtype a row computes dt in: dt when the row has kernels for it, the
 * default float dtype when the row has no integer kernels (exp, div); -1
 * with the error when a row of integer kernels only (the bitwise ops) gets
 * floats, or only bool is missing (neg, sub): PyTorch refuses both. */
static int compute_dtype(lc_ctx *ctx, ew_row_fn have, const ew_row_fn *ints, lc_dtype dt,
                         const char *bool_hint) {
  if (have) return (int)dt;
  if (!ints[0]) return (int)ctx->default_dtype;
  if (lc_dtype_is_float(dt))
    lc__fail(ctx, LC_EARG, "%s tensors are not supported (integer and bool tensors only)",
             lc_dtype_name(dt));
  else
    lc__fail(ctx, LC_EARG, "bool tensors are not supported%s", bool_hint);
  return -1;
}

/* out = op(a), recording nothing. */
static void unary_into(int op, lc_tensor *out, const lc_tensor *a, double p0, double p1,
                       double p2) {
  ew_kernel k = {un_fwd(op, a->dtype), 0, p0, p1, p2};
  const lc_tensor *t[2] = {out, a};
  const int64_t *st[2] = {out->strides, a->strides};
  ew_run(&k, 2, t, st);
}

/* ---- unary ops --------------------------------------------------------------- */

/* saves Y: the rule reads y, not x (the cheaper form PyTorch uses too),
 * kept as a detached alias so the output does not own itself through its
 * node. */
static lc_tensor *unary(lc_ctx *ctx, int op, lc_tensor *a, double p0, double p1, double p2) {
  int dt = compute_dtype(ctx, un_fwd(op, a->dtype), UN_INT[op], a->dtype,
                         op == UN_neg ? " (to invert a mask, use logical_not)" : "");
  if (dt < 0) return NULL;
  if (dt != (int)a->dtype) {  /* an integer input of a float-only row */
    lc_tensor *f = lc_to_dtype(ctx, a, (lc_dtype)dt);
    lc_tensor *r = f ? unary(ctx, op, f, p0, p1, p2) : NULL;
    lc_tensor_release(f);
    return r;
  }
  lc_tensor *out = lc_empty(ctx, UN[op].kind == K_MASK ? LC_BOOL : a->dtype, a->ndim, a->shape);
  if (!out) return NULL;
  unary_into(op, out, a, p0, p1, p2);
  lc_tensor *in[1] = {a};
  if (!UN[op].d.def.backward) return lc__finish_nograd(ctx, out, &UN[op].d.def, 1, in);
  if (!(out = lc__finish(ctx, out, &UN[op].d.def, 1, in)) || !out->node) return out;
  out->node->p.ew.p0 = p0;
  out->node->p.ew.p1 = p1;
  out->node->p.ew.p2 = p2;
  return UN[op].saves == SAVES_Y ? lc__save_output(ctx, out) : out;
}

static int rule_unary(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  const un_op *u = &UN[LC__OP(n)];
  lc_tensor *a = n->inputs[0];
  if (lc_ctx_grad_enabled(ctx)) {  /* to be differentiated again: g * derivative, recorded */
    d_scope s = {ctx, a->dtype, 0, {NULL}};
    lc_tensor *d = u->rec(&s, a, n->out, n->p.ew.p0, n->p.ew.p1, n->p.ew.p2);
    grads[0] = d ? lc_mul(ctx, g, d) : NULL;
    d_end(&s);
    return grads[0] != NULL;
  }
  const lc_tensor *v = u->saves == SAVES_Y ? n->saved[0] : a;
  lc_tensor *gx = lc_empty(ctx, a->dtype, a->ndim, a->shape);
  if (!gx) return 0;
  ew_kernel k = {u->bwd[a->dtype], 0, n->p.ew.p0, n->p.ew.p1, n->p.ew.p2};
  const lc_tensor *t[3] = {gx, g, v};
  const int64_t *st[3] = {gx->strides, g->strides, v->strides};
  ew_run(&k, 3, t, st);
  grads[0] = gx;
  return 1;
}

/* out = op(x) for the out= forms (reuse_buffers): float inputs only (an
 * integer input would need a cast, that is a new tensor), nothing recorded.
 * out may be x itself: elementwise, in order. */
static lc_status unary_out(lc_ctx *ctx, int op, lc_tensor *out, lc_tensor *x, double p0, double p1,
                           double p2) {
  if (!lc_dtype_is_float(x->dtype))
    return lc__fail(ctx, LC_EARG, "out= needs a float input, got %s", lc_dtype_name(x->dtype));
  lc_tensor *inputs[1] = {x};
  if (!lc__check_out(ctx, out, x->dtype, x->ndim, x->shape, 1, inputs)) return ctx->status;
  unary_into(op, out, x, p0, p1, p2);
  return LC_OK;
}

/* lc_exp, lc_log, ..., lc_isinf, lc_bitwise_not; and lc_tanh_out, lc_relu_out, ... */
#define UNARY(name, ...)                                                           \
  lc_tensor *lc_##name(lc_ctx *ctx, lc_tensor *a) { return unary(ctx, UN_##name, a, 0, 0, 0); }
#define UNARY_OUT(name, ...)                                                       \
  UNARY(name)                                                                      \
  lc_status lc_##name##_out(lc_ctx *ctx, lc_tensor *out, lc_tensor *x) {           \
    return unary_out(ctx, UN_##name, out, x, 0, 0, 0);                             \
  }
#define UNARY_P(...)
#define UNARY_ALT(...)
#define UNARY_MASK(name, ...) UNARY(name)
#define BINARY(...)
#define BINARY_RULE(...)
#define BINARY_MASK(...)
#define EW_OP(...)
#include "elementwise.def"

static lc_tensor *d_polygamma(d_scope *s, lc_tensor *x, double n) {
  return x ? d_keep(s, unary(s->ctx, UN_polygamma, x, n, 0, 0)) : NULL;
}

lc_tensor *lc_gelu(lc_ctx *ctx, lc_tensor *a, int tanh_approx) {
  return unary(ctx, tanh_approx ? UN_gelu_tanh : UN_gelu, a, 0, 0, 0);
}

lc_tensor *lc_softplus(lc_ctx *ctx, lc_tensor *a, double beta, double threshold) {
  return unary(ctx, UN_softplus, a, beta, threshold, 0);
}

lc_status lc_gelu_out(lc_ctx *ctx, lc_tensor *out, lc_tensor *x, int tanh_approx) {
  return unary_out(ctx, tanh_approx ? UN_gelu_tanh : UN_gelu, out, x, 0, 0, 0);
}

lc_status lc_softplus_out(lc_ctx *ctx, lc_tensor *out, lc_tensor *x, double beta, double threshold) {
  return unary_out(ctx, UN_softplus, out, x, beta, threshold, 0);
}

lc_tensor *lc_logit(lc_ctx *ctx, lc_tensor *a, double eps) {
  return unary(ctx, UN_logit, a, eps, 0, 0);
}

/* The defaults are the largest finite values of the dtype the kernel runs
 * in (float32's for float32: DBL_MAX would round to inf there); integers
 * are copied, whatever the numbers. */
lc_tensor *lc_nan_to_num(lc_ctx *ctx, lc_tensor *a, const double *nan, const double *posinf,
                         const double *neginf) {
  double big = a->dtype == LC_FLOAT32 ? FLT_MAX : DBL_MAX;
  return unary(ctx, UN_nan_to_num, a, nan ? *nan : 0.0, posinf ? *posinf : big,
               neginf ? *neginf : -big);
}

/* A missing bound is an infinite one: the forward values and the gradient
 * mask (x >= -inf is false only for NaN, as x >= min is) come out the same
 * as PyTorch's one-sided forms. */
lc_tensor *lc_clamp(lc_ctx *ctx, lc_tensor *a, const double *min, const double *max) {
  if (!min && !max) {
    lc__fail(ctx, LC_EARG, "at least one of min and max must be given");
    return NULL;
  }
  /* a fractional bound makes an integer tensor's result float, as a float
   * number promotes it in PyTorch */
  if (!lc_dtype_is_float(a->dtype) &&
      ((min && *min != floor(*min)) || (max && *max != floor(*max)))) {
    lc_tensor *f = lc_to_dtype(ctx, a, ctx->default_dtype);
    lc_tensor *r = f ? lc_clamp(ctx, f, min, max) : NULL;
    lc_tensor_release(f);
    return r;
  }
  return unary(ctx, UN_clamp, a, min ? *min : -INFINITY, max ? *max : INFINITY, 0);
}

lc_status lc_clamp_out(lc_ctx *ctx, lc_tensor *out, lc_tensor *x, const double *min,
                       const double *max) {
  if (!min && !max) return lc__fail(ctx, LC_EARG, "at least one of min and max must be given");
  return unary_out(ctx, UN_clamp, out, x, min ? *min : -INFINITY, max ? *max : INFINITY, 0);
}

lc_tensor *lc_pow_scalar(lc_ctx *ctx, lc_tensor *a, double exponent) {
  if (!lc_dtype_is_float(a->dtype) && exponent == floor(exponent)) {
    if (exponent < 0) {  /* a whole exponent keeps integers, a negative one has no integer */
      lc__fail(ctx, LC_EARG, "integers to negative integer powers are not allowed");
      return NULL;
    }
    if (exponent >= 0x1p63) {
      lc__fail(ctx, LC_EARG, "the exponent %g is too large for an integer power", exponent);
      return NULL;
    }
  } else if (!lc_dtype_is_float(a->dtype)) {  /* int ** 2.5 is the default float dtype */
    lc_tensor *f = lc_to_dtype(ctx, a, ctx->default_dtype);
    lc_tensor *r = f ? lc_pow_scalar(ctx, f, exponent) : NULL;
    lc_tensor_release(f);
    return r;
  }
  return unary(ctx, UN_pow_scalar, a, exponent, exponent - 1.0, 0);
}


/* ---- broadcasting binary ops ------------------------------------------------- */

/* Whether an integer divisor holds a zero (integer division by zero has no
 * value: PyTorch raises ZeroDivisionError). */
/* Whether an integer tensor holds a zero (sign 0) or a negative (sign -1). */
static int has_value(const lc_tensor *b, int sign) {
  int64_t idx[LC_MAX_DIMS] = {0};
  for (int64_t k = 0; k < b->numel; k++) {
    int64_t v = lc_tensor_get_int(b, idx);
    if (sign ? v < 0 : v == 0) return 1;
    for (int d = b->ndim - 1; d >= 0; d--) {
      if (++idx[d] < b->shape[d]) break;
      idx[d] = 0;
    }
  }
  return 0;
}

/* p0..p2: the op's numbers, for the kernel (masks only: a differentiable
 * row's rule has none) */
static lc_tensor *binary(lc_ctx *ctx, int op, lc_tensor *a, lc_tensor *b, double p0, double p1,
                         double p2) {
  const bin_op *o = &BIN[op];
  int differentiable = o->d.def.backward != NULL;
  lc_tensor *in[2] = {a, b};
  if (op == BIN_sub && (a->dtype == LC_BOOL || b->dtype == LC_BOOL)) {
    lc__fail(ctx, LC_EARG, "subtraction with a bool tensor is not supported (for masks, use "
             "logical_xor)");
    return NULL;
  }
  if (op == BIN_heaviside && !a->is_number && !b->is_number && a->dtype != b->dtype) {
    lc__fail(ctx, LC_EARG, "tensors of different dtypes (%s and %s) are not supported, as in "
             "PyTorch", lc_dtype_name(a->dtype), lc_dtype_name(b->dtype));
    return NULL;
  }
  lc_dtype rt = lc_result_type(ctx, 2, in);
  int dt = compute_dtype(ctx, bin_fwd(op, rt), BIN_INT[op], rt,
                         "");
  if (dt < 0) return NULL;
  /* masks record nothing, so their dtype casts need not either; while
   * tracing they do (a plan replays the casts too) */
  int was = differentiable || ctx->trace ? lc_ctx_grad_enabled(ctx)
                                         : lc_ctx_set_grad_enabled(ctx, 0);
  lc_tensor *ca, *cb, *out = NULL;
  int ndim;
  int64_t shape[LC_MAX_DIMS], sa[LC_MAX_DIMS], sb[LC_MAX_DIMS];
  if (!promote(ctx, (lc_dtype)dt, &a, &b, &ca, &cb)) goto done;
  in[0] = a;
  in[1] = b;
  if (!lc_dtype_is_float(b->dtype) &&
      (op == BIN_floor_divide || op == BIN_remainder || op == BIN_fmod) && has_value(b, 0)) {
    lc__fail(ctx, LC_EARG, "integer division by zero");
    goto done;
  }
  if (!lc_dtype_is_float(b->dtype) && op == BIN_pow && has_value(b, -1)) {
    lc__fail(ctx, LC_EARG, "integers to negative integer powers are not allowed");
    goto done;
  }
  if (!lc__broadcast_shape(ctx, 2, in, &ndim, shape) ||
      !(out = lc_empty(ctx, o->kind == K_MASK ? LC_BOOL : a->dtype, ndim, shape)))
    goto done;
  lc__broadcast_strides(a, ndim, sa);
  lc__broadcast_strides(b, ndim, sb);
  {
    ew_kernel k = {bin_fwd(op, a->dtype), 0, p0, p1, p2};
    const lc_tensor *t[3] = {out, a, b};
    const int64_t *st[3] = {out->strides, sa, sb};
    ew_run(&k, 3, t, st);
  }
  out = differentiable ? lc__finish(ctx, out, &o->d.def, 2, in)
                       : lc__finish_nograd(ctx, out, &o->d.def, 2, in);
  if (out && out->node) {  /* the numbers a replay needs (isclose's tolerances, ...) */
    out->node->p.ew.p0 = p0;
    out->node->p.ew.p1 = p1;
    out->node->p.ew.p2 = p2;
  }
done:
  lc_tensor_release(ca);
  lc_tensor_release(cb);
  lc_ctx_set_grad_enabled(ctx, was);
  return out;
}

/* Gradient formulas: each side's gradient in one pass at the broadcast
 * shape (g's), then summed down to that input's shape. */
static int rule_binary(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  const bin_op *o = &BIN[LC__OP(n)];
  lc_tensor *in[2] = {n->inputs[0], n->inputs[1]};
  int64_t sa[LC_MAX_DIMS], sb[LC_MAX_DIMS];
  lc__broadcast_strides(in[0], g->ndim, sa);
  lc__broadcast_strides(in[1], g->ndim, sb);
  for (int side = 0; side < 2; side++) {
    if (!in[side]->requires_grad) continue;
    if (lc_ctx_grad_enabled(ctx)) {  /* to be differentiated again */
      d_scope s = {ctx, g->dtype, 0, {NULL}};
      lc_tensor *d = o->rec[side](&s, in[0], in[1]);
      grads[side] = lc__reduce_owned(ctx, d ? lc_mul(ctx, g, d) : NULL, in[side]);
      d_end(&s);
      if (!grads[side]) return 0;
      continue;
    }
    lc_tensor *full = lc_empty(ctx, g->dtype, g->ndim, g->shape);
    if (!full) return 0;
    ew_kernel k = {o->bwd[side][g->dtype], 0, 0, 0, 0};
    const lc_tensor *t[4] = {full, g, in[0], in[1]};
    const int64_t *st[4] = {full->strides, g->strides, sa, sb};
    ew_run(&k, 4, t, st);
    if (!(grads[side] = lc__reduce_owned(ctx, full, in[side]))) return 0;
  }
  return 1;
}

/* add, sub, mul, div: written with ops, which costs less than a pass of
 * their own (add hands g on as it is). */
static int rule_add(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  lc_tensor *a = n->inputs[0], *b = n->inputs[1];
  if (a->requires_grad) grads[0] = lc__sum_to(ctx, g, a->ndim, a->shape);
  if (b->requires_grad) grads[1] = lc__sum_to(ctx, g, b->ndim, b->shape);
  return 1;
}

static int rule_sub(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  lc_tensor *a = n->inputs[0], *b = n->inputs[1];
  if (a->requires_grad) grads[0] = lc__sum_to(ctx, g, a->ndim, a->shape);
  if (b->requires_grad) grads[1] = lc__reduce_owned(ctx, lc_neg(ctx, g), b);
  return 1;
}

static int rule_mul(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  lc_tensor *a = n->inputs[0], *b = n->inputs[1];
  if (a->requires_grad) grads[0] = lc__reduce_owned(ctx, lc_mul(ctx, g, b), a);
  if (b->requires_grad) grads[1] = lc__reduce_owned(ctx, lc_mul(ctx, g, a), b);
  return 1;
}

/* d(a/b)/da = 1/b, d(a/b)/db = -a/b^2 */
static int rule_div(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  lc_tensor *a = n->inputs[0], *b = n->inputs[1];
  if (a->requires_grad) grads[0] = lc__reduce_owned(ctx, lc_div(ctx, g, b), a);
  if (b->requires_grad) {
    lc_tensor *q = lc__owned2(ctx, lc_div, lc_mul(ctx, g, a), lc_pow_scalar(ctx, b, 2.0));
    grads[1] = lc__reduce_owned(ctx, q ? lc_neg(ctx, q) : NULL, b);
    lc_tensor_release(q);
  }
  return 1;
}

/* lc_add, ..., lc_ge */
#define UNARY(...)
#define UNARY_P(...)
#define UNARY_ALT(...)
#define UNARY_MASK(...)
#define BINARY(name, ...)                                                          \
  lc_tensor *lc_##name(lc_ctx *ctx, lc_tensor *a, lc_tensor *b) {                  \
    return binary(ctx, BIN_##name, a, b, 0, 0, 0);                                 \
  }
#define BINARY_RULE(name, ...) BINARY(name)
#define BINARY_MASK(name, ...) BINARY(name)
#define BINARY_MASK_P(...)
#define BINARY_ND(name, ...) BINARY(name)
#define EW_OP(...)
#include "elementwise.def"

/* PyTorch's checks, then its early return: with both tolerances 0 the
 * answer is equality in the inputs' dtype (exact for integers, which the
 * kernel would otherwise compute in the default float dtype, as PyTorch
 * does with tolerances). */
lc_tensor *lc_isclose(lc_ctx *ctx, lc_tensor *a, lc_tensor *b, double rtol, double atol,
                      int equal_nan) {
  if (!a->is_number && !b->is_number && a->dtype != b->dtype) {
    lc__fail(ctx, LC_EARG, "the dtypes differ (%s and %s): PyTorch's isclose takes one dtype",
             lc_dtype_name(a->dtype), lc_dtype_name(b->dtype));
    return NULL;
  }
  if (!(rtol >= 0) || !(atol >= 0)) {
    double bad = !(rtol >= 0) ? rtol : atol;
    lc__fail(ctx, LC_EARG, "%s must be greater than or equal to zero, got %g",
             !(rtol >= 0) ? "rtol" : "atol", bad == bad ? bad : NAN);  /* not "-nan" */
    return NULL;
  }
  lc_tensor *in[2] = {a, b};
  if (rtol == 0 && atol == 0 && !lc_dtype_is_float(lc_result_type(ctx, 2, in)))
    return lc_eq(ctx, a, b);
  return binary(ctx, BIN_isclose, a, b, rtol, atol, equal_nan ? 1.0 : 0.0);
}

/* ---- where ------------------------------------------------------------------ */

/* The graph's inputs are a and b only: cond gets no gradient, so it is kept
 * in saved[0], detached so that it does not hold its own graph alive. While
 * tracing, cond is a third input too, so that a plan replays it from the
 * mask it was computed from (and checks where that came from). */
lc_tensor *lc_where(lc_ctx *ctx, lc_tensor *cond, lc_tensor *a, lc_tensor *b) {
  lc_tensor *ca, *cb, *out = NULL;
  int ndim;
  int64_t shape[LC_MAX_DIMS], sc[LC_MAX_DIMS], sa[LC_MAX_DIMS], sb[LC_MAX_DIMS];
  lc_tensor *all[3] = {a, b, NULL};
  if (!promote(ctx, lc_result_type(ctx, 2, all), &a, &b, &ca, &cb)) goto done;
  all[0] = cond;
  all[1] = a;
  all[2] = b;
  if (!lc__broadcast_shape(ctx, 3, all, &ndim, shape) ||
      !(out = lc_empty(ctx, a->dtype, ndim, shape)))
    goto done;
  lc__broadcast_strides(cond, ndim, sc);
  lc__broadcast_strides(a, ndim, sa);
  lc__broadcast_strides(b, ndim, sb);
  {
    ew_kernel k = {WHERE_FWD[a->dtype][cond->dtype], 0, 0, 0, 0};
    const lc_tensor *t[4] = {out, cond, a, b};
    const int64_t *st[4] = {out->strides, sc, sa, sb};
    ew_run(&k, 4, t, st);
  }
  all[0] = a;
  all[1] = b;
  all[2] = cond;
  out = lc__finish(ctx, out, &OPS[OP_where].def, ctx->trace ? 3 : 2, all);
  if (out && out->node && !(out->node->saved[0] = lc__detach(ctx, cond))) {
    lc_tensor_release(out);
    out = NULL;
  }
done:
  lc_tensor_release(ca);
  lc_tensor_release(cb);
  return out;
}

static int rule_where(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  const lc_tensor *cond = n->saved[0];
  int64_t sc[LC_MAX_DIMS];
  lc__broadcast_strides(cond, g->ndim, sc);
  for (int side = 0; side < 2; side++) {
    lc_tensor *x = n->inputs[side];
    if (!x->requires_grad) continue;
    if (lc_ctx_grad_enabled(ctx)) {  /* to be differentiated again: where, recorded */
      lc_tensor *zero = lc_scalar(ctx, g->dtype, 0.0);
      lc_tensor *w = zero ? lc_where(ctx, n->saved[0], side ? zero : g, side ? g : zero) : NULL;
      lc_tensor_release(zero);
      if (!(grads[side] = lc__reduce_owned(ctx, w, x))) return 0;
      continue;
    }
    lc_tensor *full = lc_empty(ctx, g->dtype, g->ndim, g->shape);
    if (!full) return 0;
    ew_kernel k = {WHERE_BWD[g->dtype][cond->dtype], side, 0, 0, 0};
    const lc_tensor *t[3] = {full, g, cond};
    const int64_t *st[3] = {full->strides, g->strides, sc};
    ew_run(&k, 3, t, st);
    if (!(grads[side] = lc__reduce_owned(ctx, full, x))) return 0;
  }
  /* a float condition given while tracing: an input, without a gradient */
  if (n->ninputs > 2 && n->inputs[2]->requires_grad &&
      !(grads[2] = lc_zeros(ctx, n->inputs[2]->dtype, n->inputs[2]->ndim, n->inputs[2]->shape)))
    return 0;
  return 1;
}

/* ---- copies ---------------------------------------------------------------------- */

void lc__k_copy(lc_tensor *out, const lc_tensor *a, const int64_t *sa) {
  ew_kernel k = {COPY[out->dtype][a->dtype], 0, 0, 0, 0};
  const lc_tensor *t[2] = {out, a};
  const int64_t *st[2] = {out->strides, sa};
  ew_run(&k, 2, t, st);
}

void lc__k_add_into(lc_tensor *out, const lc_tensor *a, const int64_t *sa) {
  ew_kernel k = {bin_fwd(BIN_add, out->dtype), 0, 0, 0, 0};
  const lc_tensor *t[3] = {out, out, a};
  const int64_t *st[3] = {out->strides, out->strides, sa};
  ew_run(&k, 3, t, st);
}

void lc__k_inplace(lc_inplace_op op, lc_tensor *t, const lc_tensor *a, const int64_t *sa,
                   const lc_tensor *b, const int64_t *sb, double p0) {
  ew_kernel k = {INPLACE_K[op][t->dtype], 0, p0, 0, 0};
  const lc_tensor *ts[4] = {t, t, a, b};
  const int64_t *st[4] = {t->strides, t->strides, sa, sb};
  ew_run(&k, 4, ts, st);
}

lc_tensor *lc_to_dtype(lc_ctx *ctx, lc_tensor *a, lc_dtype dtype) {
  if (a->dtype == dtype) return lc__retained(a);
  lc_tensor *out = lc_empty(ctx, dtype, a->ndim, a->shape);
  if (!out) return NULL;
  lc__k_copy(out, a, a->strides);
  lc_tensor *in[1] = {a};
  return lc__finish(ctx, out, &OPS[OP_to].def, 1, in);
}

static int rule_cast(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  grads[0] = lc_to_dtype(ctx, g, n->inputs[0]->dtype);
  return 1;
}

lc_tensor *lc_clone(lc_ctx *ctx, lc_tensor *a) {
  lc_tensor *out = lc_empty(ctx, a->dtype, a->ndim, a->shape);
  if (!out) return NULL;
  lc__k_copy(out, a, a->strides);
  lc_tensor *in[1] = {a};
  return lc__finish(ctx, out, &OPS[OP_clone].def, 1, in);
}

lc_tensor *lc_contiguous(lc_ctx *ctx, lc_tensor *a) {
  if (lc_tensor_is_contiguous(a)) return lc__retained(a);
  return lc_clone(ctx, a);
}

static int rule_clone(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  (void)ctx;
  (void)n;
  grads[0] = lc__retained(g);
  return 1;
}

/* ---- replay (plan.c) ------------------------------------------------------------- */

static int replay_unary(lc_ctx *ctx, lc_node *n) {
  (void)ctx;
  unary_into(LC__OP(n), n->out, n->inputs[0], n->p.ew.p0, n->p.ew.p1, n->p.ew.p2);
  return 1;
}

static int replay_binary(lc_ctx *ctx, lc_node *n) {
  lc_tensor *out = n->out, *a = n->inputs[0], *b = n->inputs[1];
  int op = LC__OP(n);
  /* binary()'s checks of integer operands: a division by zero would trap */
  if (!lc_dtype_is_float(b->dtype) &&
      (op == BIN_floor_divide || op == BIN_remainder || op == BIN_fmod) && has_value(b, 0))
    return lc__fail(ctx, LC_EARG, "integer division by zero"), 0;
  if (!lc_dtype_is_float(b->dtype) && op == BIN_pow && has_value(b, -1))
    return lc__fail(ctx, LC_EARG, "integers to negative integer powers are not allowed"), 0;
  int64_t sa[LC_MAX_DIMS], sb[LC_MAX_DIMS];
  lc__broadcast_strides(a, out->ndim, sa);
  lc__broadcast_strides(b, out->ndim, sb);
  ew_kernel k = {bin_fwd(op, a->dtype), 0, n->p.ew.p0, n->p.ew.p1, n->p.ew.p2};
  const lc_tensor *t[3] = {out, a, b};
  const int64_t *st[3] = {out->strides, sa, sb};
  ew_run(&k, 3, t, st);
  return 1;
}

static int replay_copy(lc_ctx *ctx, lc_node *n) {  /* to, clone, contiguous */
  (void)ctx;
  lc__k_copy(n->out, n->inputs[0], n->inputs[0]->strides);
  return 1;
}

/* cond is the third input (see lc_where) */
static int replay_where(lc_ctx *ctx, lc_node *n) {
  if (n->ninputs < 3) return lc__fail(ctx, LC_ESTATE, "where was recorded without its condition"), 0;
  lc_tensor *out = n->out, *a = n->inputs[0], *b = n->inputs[1], *cond = n->inputs[2];
  int64_t sc[LC_MAX_DIMS], sa[LC_MAX_DIMS], sb[LC_MAX_DIMS];
  lc__broadcast_strides(cond, out->ndim, sc);
  lc__broadcast_strides(a, out->ndim, sa);
  lc__broadcast_strides(b, out->ndim, sb);
  ew_kernel k = {WHERE_FWD[a->dtype][cond->dtype], 0, 0, 0, 0};
  const lc_tensor *t[4] = {out, cond, a, b};
  const int64_t *st[4] = {out->strides, sc, sa, sb};
  ew_run(&k, 4, t, st);
  return 1;
}

/* gemm.c applies ReLU to the register tile, and tanh and sigmoid to rows of
 * finished results while they are in L1, with the kernels of this file's
 * float32 rows (un_fwd_*_f32_vec), so the bits are the ops' own. */
lc__act lc__unary_act(const lc_node *n) {
  if (n->out->dtype != LC_FLOAT32 || n->ninputs != 1 || !n->inputs[0] ||
      n->inputs[0]->dtype != LC_FLOAT32)
    return LC__ACT_NONE;
  if (n->def == &UN[UN_relu].d.def && n->p.ew.p0 == 0.0) return LC__ACT_RELU;
  if (n->def == &UN[UN_tanh].d.def) return LC__ACT_TANH;
  if (n->def == &UN[UN_sigmoid].d.def) return LC__ACT_SIGMOID;
  return LC__ACT_NONE;
}

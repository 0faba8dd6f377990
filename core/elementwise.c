/* elementwise.c: elementwise ops, each with its backward rule beside it.
 *
 * Every op here is one pass of a row function over an N-d walk, as in
 * kernels.c: broadcasting is a 0 stride and dims contiguous for every
 * operand are merged first, so contiguous tensors run as one long row.
 * Backward rules are fused kernels too (one pass computes dL/dx from g and
 * x or y), so a rule allocates its result and, for broadcast binary ops,
 * the sum down to the input's shape, and nothing else.
 *
 * The formulas, including their values at kinks, NaN and infinities, follow
 * PyTorch 1.13's kernels and derivatives.yaml, so that results agree with it
 * to rounding. */
#include "internal.h"

#include <math.h>

#define SHAPE_BUF 160

/* <math.h>'s M_* constants are POSIX, not C11. */
#define K_SQRT1_2 0.70710678118654752440
#define K_SQRT2 1.41421356237309504880
#define K_2_SQRTPI 1.12837916709551257390
#define GELU_BETA (K_2_SQRTPI * K_SQRT1_2 * 0.5)      /* 1/sqrt(2 pi): the normal pdf */
#define GELU_TANH_BETA (K_SQRT2 * K_2_SQRTPI * 0.5)   /* sqrt(2/pi) */
#define GELU_KAPPA 0.044715

/* ---- the walk -----------------------------------------------------------
 * lc_walk (internal.h) carries three operands; where and the gradients of
 * the broadcasting binary ops read four (out, g, a, b / out, cond, a, b), so
 * this file walks with the same dim-merging rule over up to four. */

#define EW_MAXOPS 4

/* One row of every operand: n elements from p[k], element stride s[k]. */
typedef struct ew_row {
  int64_t n;
  char *p[EW_MAXOPS];
  int64_t s[EW_MAXOPS];
} ew_row;

typedef struct ew_kernel ew_kernel;
typedef void (*ew_row_fn)(const ew_kernel *k, const ew_row *r);
struct ew_kernel {
  ew_row_fn row;   /* chosen for the operands' dtypes */
  int op;          /* ew_un or ew_bin */
  int side;        /* gradients: 0 for a, 1 for b */
  double p0, p1;   /* softplus's beta and threshold, clamp's bounds */
};

/* Runs k over t[0] (the output, whose shape is the loop's) and the inputs
 * t[1..nops-1]; st[j] are t[j]'s element strides over that shape. */
static void ew_run(const ew_kernel *k, int nops, const lc_tensor *const *t,
                   const int64_t *const *st) {
  const lc_tensor *out = t[0];
  if (out->numel == 0) return;
  int64_t shape[LC_MAX_DIMS], ms[EW_MAXOPS][LC_MAX_DIMS];
  int nd = 0;
  for (int i = 0; i < out->ndim; i++) {
    int64_t len = out->shape[i];
    if (len == 1) continue;  /* moves no pointer */
    int merge = nd > 0;
    for (int j = 0; j < nops && merge; j++) merge = ms[j][nd - 1] == st[j][i] * len;
    if (merge) {
      shape[nd - 1] *= len;
      for (int j = 0; j < nops; j++) ms[j][nd - 1] = st[j][i];
    } else {
      shape[nd] = len;
      for (int j = 0; j < nops; j++) ms[j][nd] = st[j][i];
      nd++;
    }
  }
  if (nd == 0) {  /* 0-d, or all sizes 1: one row of one element */
    shape[0] = 1;
    for (int j = 0; j < nops; j++) ms[j][0] = 0;
    nd = 1;
  }
  ew_row r;
  char *base[EW_MAXOPS];
  int64_t es[EW_MAXOPS], off[EW_MAXOPS] = {0}, idx[LC_MAX_DIMS] = {0};
  r.n = shape[nd - 1];
  for (int j = 0; j < nops; j++) {
    es[j] = (int64_t)lc_dtype_size(t[j]->dtype);
    /* an empty operand may have no buffer: no pointer arithmetic on NULL */
    base[j] = t[j]->storage->data ? (char *)t[j]->storage->data + t[j]->offset * es[j] : NULL;
    r.s[j] = ms[j][nd - 1];
  }
  for (;;) {
    for (int j = 0; j < nops; j++) r.p[j] = base[j] + off[j] * es[j];
    k->row(k, &r);
    int d = nd - 2;
    for (; d >= 0; d--) {
      for (int j = 0; j < nops; j++) off[j] += ms[j][d];
      if (++idx[d] < shape[d]) break;
      for (int j = 0; j < nops; j++) off[j] -= ms[j][d] * shape[d];
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}

/* ---- row loops ----------------------------------------------------------
 * o[i] = EXPR, with the inputs' elements bound to the names V1, V2, V3. The
 * all-contiguous case (and a broadcast scalar last operand, as in x:gt(0),
 * maximum(x, 0), where(c, x, 0)) is written out so the compiler can
 * vectorise it. */

#define ROW1(TO, T1, V1, EXPR)                                                     \
  do {                                                                             \
    TO *o_ = (TO *)r->p[0];                                                        \
    const T1 *a_ = (const T1 *)r->p[1];                                            \
    int64_t n_ = r->n, so_ = r->s[0], sa_ = r->s[1];                               \
    if (so_ == 1 && sa_ == 1) {                                                    \
      for (int64_t i = 0; i < n_; i++) { T1 V1 = a_[i]; o_[i] = (TO)(EXPR); }     \
    } else {                                                                       \
      for (int64_t i = 0; i < n_; i++) {                                           \
        T1 V1 = a_[i * sa_];                                                       \
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
        T1 V1 = a_[i]; T2 V2 = b_[i];                                              \
        o_[i] = (TO)(EXPR);                                                        \
      }                                                                            \
    } else if (so_ == 1 && sa_ == 1 && sb_ == 0) {                                 \
      T2 V2 = b_[0];                                                               \
      for (int64_t i = 0; i < n_; i++) { T1 V1 = a_[i]; o_[i] = (TO)(EXPR); }     \
    } else {                                                                       \
      for (int64_t i = 0; i < n_; i++) {                                           \
        T1 V1 = a_[i * sa_]; T2 V2 = b_[i * sb_];                                  \
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
        o_[i] = (TO)(EXPR);                                                        \
      }                                                                            \
    } else if (so_ == 1 && sa_ == 1 && sb_ == 1 && sc_ == 0) {                     \
      T3 V3 = c_[0];                                                               \
      for (int64_t i = 0; i < n_; i++) {                                           \
        T1 V1 = a_[i]; T2 V2 = b_[i];                                              \
        o_[i] = (TO)(EXPR);                                                        \
      }                                                                            \
    } else {                                                                       \
      for (int64_t i = 0; i < n_; i++) {                                           \
        T1 V1 = a_[i * sa_]; T2 V2 = b_[i * sb_]; T3 V3 = c_[i * sc_];             \
        o_[i * so_] = (TO)(EXPR);                                                  \
      }                                                                            \
    }                                                                              \
  } while (0)

/* ---- the ops' formulas, one set per dtype ---------------------------------- */

typedef enum ew_un {
  UN_EXP, UN_LOG1P, UN_EXPM1, UN_SQRT, UN_RSQRT, UN_ABS, UN_SIGN, UN_RECIP, UN_SQUARE,
  UN_SIN, UN_COS, UN_SIGMOID, UN_RELU, UN_GELU, UN_GELU_TANH, UN_SILU, UN_SOFTPLUS,
  UN_FLOOR, UN_CEIL, UN_ROUND, UN_CLAMP, UN_ISNAN, UN_ISINF, UN_COUNT
} ew_un;

typedef enum ew_bin {
  BIN_MAXIMUM, BIN_MINIMUM, BIN_ATAN2, BIN_EQ, BIN_NE, BIN_LT, BIN_LE, BIN_GT, BIN_GE
} ew_bin;

#define MATH_F32(fn) fn##f
#define MATH_F64(fn) fn

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

/* Helpers for formulas that do not fit one expression. Comparisons are
 * written the way std::max/std::min do them (PyTorch's kernels), which
 * fixes what NaN operands and bounds give. */
#define DEFINE_MATH(T, SUF, F)                                                     \
  static inline T sign_##SUF(T x) { return (T)((0 < x) - (x < 0)); }               \
  static inline T sigmoid_##SUF(T x) { return (T)1 / ((T)1 + F(exp)(-x)); }        \
  static inline T clamp_##SUF(T x, T lo, T hi) {                                   \
    T v = x < lo ? lo : x;                                                         \
    return hi < v ? hi : v;                                                        \
  }                                                                                \
  static inline T gelu_##SUF(T x) {                                                \
    return x * (T)0.5 * ((T)1 + F(erf)(x * (T)K_SQRT1_2));                         \
  }                                                                                \
  static inline T gelu_grad_##SUF(T x) {                                           \
    T cdf = (T)0.5 * ((T)1 + F(erf)(x * (T)K_SQRT1_2));                            \
    T pdf = (T)GELU_BETA * F(exp)(x * x * (T)-0.5);                                \
    return cdf + x * pdf;                                                          \
  }                                                                                \
  static inline T gelu_tanh_##SUF(T x) {                                           \
    T inner = (T)GELU_TANH_BETA * (x + (T)GELU_KAPPA * (x * x * x));               \
    return (T)0.5 * x * ((T)1 + F(tanh)(inner));                                   \
  }                                                                                \
  static inline T gelu_tanh_grad_##SUF(T x) {                                      \
    T x_sq = x * x;                                                                \
    T th = F(tanh)((T)GELU_TANH_BETA * (x + (T)GELU_KAPPA * (x_sq * x)));          \
    T left = (T)0.5 * x, right = (T)1 + th;                                        \
    T inner_d = (T)GELU_TANH_BETA * ((T)1 + (T)3 * (T)GELU_KAPPA * x_sq);          \
    return (T)0.5 * right + left * ((T)1 - th * th) * inner_d;                     \
  }                                                                                \
  static inline T silu_grad_##SUF(T x) {                                           \
    T s = sigmoid_##SUF(x);                                                        \
    return s * ((T)1 + x * ((T)1 - s));                                            \
  }                                                                                \
  static inline T softplus_##SUF(T x, T beta, T threshold) {                       \
    return x * beta > threshold ? x : F(log1p)(F(exp)(x * beta)) / beta;           \
  }                                                                                \
  static inline T softplus_grad_##SUF(T g, T x, T beta, T threshold) {             \
    T z = F(exp)(x * beta);                                                        \
    return x * beta > threshold ? g : g * z / (z + (T)1);                          \
  }                                                                                \
  /* maximum/minimum: the side that loses gets 0, a tie g / 2, NaN g */           \
  static inline T pick_grad_##SUF(T g, int lose, int tie) {                        \
    return sel_##SUF(tie, g * (T)0.5, sel_##SUF(lose, (T)0, g));                   \
  }

DEFINE_MATH(float, f32, MATH_F32)
DEFINE_MATH(double, f64, MATH_F64)

#define DEFINE_ROWS(T, SUF, F)                                                     \
  static void un_fwd_##SUF(const ew_kernel *k, const ew_row *r) {                  \
    T p0 = (T)k->p0, p1 = (T)k->p1;                                                \
    switch ((ew_un)k->op) {                                                        \
      case UN_EXP: ROW1(T, T, x, F(exp)(x)); break;                                \
      case UN_LOG1P: ROW1(T, T, x, F(log1p)(x)); break;                            \
      case UN_EXPM1: ROW1(T, T, x, F(expm1)(x)); break;                            \
      case UN_SQRT: ROW1(T, T, x, F(sqrt)(x)); break;                              \
      case UN_RSQRT: ROW1(T, T, x, (T)1 / F(sqrt)(x)); break;                      \
      case UN_ABS: ROW1(T, T, x, F(fabs)(x)); break;                               \
      case UN_SIGN: ROW1(T, T, x, sign_##SUF(x)); break;                           \
      case UN_RECIP: ROW1(T, T, x, (T)1 / x); break;                               \
      case UN_SQUARE: ROW1(T, T, x, x * x); break;                                 \
      case UN_SIN: ROW1(T, T, x, F(sin)(x)); break;                                \
      case UN_COS: ROW1(T, T, x, F(cos)(x)); break;                                \
      case UN_SIGMOID: ROW1(T, T, x, sigmoid_##SUF(x)); break;                     \
      case UN_RELU: ROW1(T, T, x, x < p0 ? p0 : x); break; /* p0 = 0, see lc_relu */ \
      case UN_GELU: ROW1(T, T, x, gelu_##SUF(x)); break;                           \
      case UN_GELU_TANH: ROW1(T, T, x, gelu_tanh_##SUF(x)); break;                 \
      case UN_SILU: ROW1(T, T, x, x / ((T)1 + F(exp)(-x))); break;                 \
      case UN_SOFTPLUS: ROW1(T, T, x, softplus_##SUF(x, p0, p1)); break;           \
      case UN_FLOOR: ROW1(T, T, x, F(floor)(x)); break;                            \
      case UN_CEIL: ROW1(T, T, x, F(ceil)(x)); break;                              \
      case UN_ROUND: ROW1(T, T, x, F(nearbyint)(x)); break;                        \
      case UN_CLAMP: ROW1(T, T, x, clamp_##SUF(x, p0, p1)); break;                 \
      case UN_ISNAN: ROW1(T, T, x, x != x); break;                                 \
      case UN_ISINF: ROW1(T, T, x, F(fabs)(x) == (T)INFINITY); break;              \
      case UN_COUNT: break;                                                        \
    }                                                                              \
  }                                                                                \
  /* o = dL/dx from g = dL/dy and v, which is x or y as the op saved */            \
  static void un_bwd_##SUF(const ew_kernel *k, const ew_row *r) {                  \
    T p0 = (T)k->p0, p1 = (T)k->p1;                                                \
    switch ((ew_un)k->op) {                                                        \
      case UN_EXP: ROW2(T, T, T, g, y, g * y); break;                              \
      case UN_LOG1P: ROW2(T, T, T, g, x, g / (x + (T)1)); break;                   \
      case UN_EXPM1: ROW2(T, T, T, g, y, g * (y + (T)1)); break;                   \
      case UN_SQRT: ROW2(T, T, T, g, y, g / ((T)2 * y)); break;                    \
      case UN_RSQRT: ROW2(T, T, T, g, y, (T)-0.5 * g * (y * y * y)); break;        \
      case UN_ABS: ROW2(T, T, T, g, x, g * sign_##SUF(x)); break;                  \
      case UN_RECIP: ROW2(T, T, T, g, y, -g * (y * y)); break;                     \
      case UN_SQUARE: ROW2(T, T, T, g, x, g * ((T)2 * x)); break;                  \
      case UN_SIN: ROW2(T, T, T, g, x, g * F(cos)(x)); break;                      \
      case UN_COS: ROW2(T, T, T, g, x, g * -F(sin)(x)); break;                     \
      case UN_SIGMOID: ROW2(T, T, T, g, y, g * ((T)1 - y) * y); break;             \
      case UN_RELU: ROW2(T, T, T, g, y, y <= 0 ? (T)0 : g); break;                 \
      case UN_GELU: ROW2(T, T, T, g, x, g * gelu_grad_##SUF(x)); break;            \
      case UN_GELU_TANH: ROW2(T, T, T, g, x, g * gelu_tanh_grad_##SUF(x)); break;  \
      case UN_SILU: ROW2(T, T, T, g, x, g * silu_grad_##SUF(x)); break;            \
      case UN_SOFTPLUS: ROW2(T, T, T, g, x, softplus_grad_##SUF(g, x, p0, p1)); break; \
      case UN_CLAMP: ROW2(T, T, T, g, x, sel_##SUF((x >= p0) & (x <= p1), g, 0)); break; \
      case UN_SIGN: case UN_FLOOR: case UN_CEIL: case UN_ROUND: case UN_ISNAN:     \
      case UN_ISINF: case UN_COUNT: break; /* no kernel: zero or no gradient */    \
    }                                                                              \
  }                                                                                \
  static void bin_fwd_##SUF(const ew_kernel *k, const ew_row *r) {                 \
    switch ((ew_bin)k->op) {                                                       \
      case BIN_MAXIMUM:                                                            \
        ROW2(T, T, T, x, y, x != x ? x : y != y ? y : x < y ? y : x); break;       \
      case BIN_MINIMUM:                                                            \
        ROW2(T, T, T, x, y, x != x ? x : y != y ? y : y < x ? y : x); break;       \
      case BIN_ATAN2: ROW2(T, T, T, x, y, F(atan2)(x, y)); break;                  \
      case BIN_EQ: ROW2(T, T, T, x, y, x == y); break;                             \
      case BIN_NE: ROW2(T, T, T, x, y, x != y); break;                             \
      case BIN_LT: ROW2(T, T, T, x, y, x < y); break;                              \
      case BIN_LE: ROW2(T, T, T, x, y, x <= y); break;                             \
      case BIN_GT: ROW2(T, T, T, x, y, x > y); break;                              \
      case BIN_GE: ROW2(T, T, T, x, y, x >= y); break;                             \
    }                                                                              \
  }                                                                                \
  /* o = the gradient of input `side` at the broadcast shape, from g, a, b */      \
  static void bin_bwd_##SUF(const ew_kernel *k, const ew_row *r) {                 \
    int b = k->side;                                                               \
    switch ((ew_bin)k->op) {                                                       \
      case BIN_MAXIMUM:                                                            \
        if (b) ROW3(T, T, T, T, g, x, y, pick_grad_##SUF(g, x > y, x == y));       \
        else ROW3(T, T, T, T, g, x, y, pick_grad_##SUF(g, x < y, x == y));         \
        break;                                                                     \
      case BIN_MINIMUM:                                                            \
        if (b) ROW3(T, T, T, T, g, x, y, pick_grad_##SUF(g, x < y, x == y));       \
        else ROW3(T, T, T, T, g, x, y, pick_grad_##SUF(g, x > y, x == y));         \
        break;                                                                     \
      case BIN_ATAN2: /* PyTorch: g * y / (x^2 + y^2) and g * -x / (x^2 + y^2) */  \
        if (b) ROW3(T, T, T, T, g, x, y, g * -x * ((T)1 / (x * x + y * y)));       \
        else ROW3(T, T, T, T, g, x, y, g * y * ((T)1 / (x * x + y * y)));          \
        break;                                                                     \
      default: break; /* comparisons record no graph */                           \
    }                                                                              \
  }

DEFINE_ROWS(float, f32, MATH_F32)
DEFINE_ROWS(double, f64, MATH_F64)

/* where's condition keeps its own dtype (converting float64 to float32 could
 * turn a tiny nonzero into 0), so its rows come in every pairing. */
#define DEFINE_WHERE_ROWS(T, C, SUF)                                               \
  static void where_fwd_##SUF(const ew_kernel *k, const ew_row *r) {               \
    (void)k;                                                                       \
    ROW3(T, C, T, T, c, x, y, c != 0 ? x : y);                                     \
  }                                                                                \
  static void where_bwd_##SUF(const ew_kernel *k, const ew_row *r) {               \
    if (k->side) ROW2(T, T, C, g, c, c != 0 ? (T)0 : g);                           \
    else ROW2(T, T, C, g, c, c != 0 ? g : (T)0);                                   \
  }

DEFINE_WHERE_ROWS(float, float, f32_f32)
DEFINE_WHERE_ROWS(float, double, f32_f64)
DEFINE_WHERE_ROWS(double, float, f64_f32)
DEFINE_WHERE_ROWS(double, double, f64_f64)

/* ---- shared plumbing ----------------------------------------------------- */

/* Records the node when a gradient is wanted (*node NULL otherwise); when
 * the node cannot be allocated, drops out and returns NULL. */
static lc_tensor *finish(lc_ctx *ctx, lc_tensor *out, const lc_op_def *def, int n,
                         lc_tensor **in, lc_node **node) {
  *node = NULL;
  if (!lc__wants_grad(ctx, n, in)) return out;
  if (!(*node = lc__record(ctx, out, def, n, in))) {
    lc_tensor_release(out);
    return NULL;
  }
  return out;
}

/* Points a and b at float64 versions when their dtypes differ (recorded
 * casts, so gradients return in each input's dtype). *ca and *cb hold the
 * references the caller releases, NULL when there is nothing to release. */
static int promote(lc_ctx *ctx, lc_tensor **a, lc_tensor **b, lc_tensor **ca, lc_tensor **cb) {
  *ca = *cb = NULL;
  if ((*a)->dtype == (*b)->dtype) return 1;
  if (!(*ca = lc_to_dtype(ctx, *a, LC_FLOAT64)) || !(*cb = lc_to_dtype(ctx, *b, LC_FLOAT64)))
    return 0;
  *a = *ca;
  *b = *cb;
  return 1;
}

#define RULE(name) static int name(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads)

/* ---- unary ops --------------------------------------------------------------- */

RULE(rule_unary);
RULE(rule_zero);

static const lc_op_def def_exp = {"ExpBackward", rule_unary};
static const lc_op_def def_log1p = {"Log1pBackward", rule_unary};
static const lc_op_def def_expm1 = {"Expm1Backward", rule_unary};
static const lc_op_def def_sqrt = {"SqrtBackward", rule_unary};
static const lc_op_def def_rsqrt = {"RsqrtBackward", rule_unary};
static const lc_op_def def_abs = {"AbsBackward", rule_unary};
static const lc_op_def def_sign = {"SignBackward", rule_zero};
static const lc_op_def def_recip = {"ReciprocalBackward", rule_unary};
static const lc_op_def def_square = {"PowBackward", rule_unary};  /* PyTorch's square is pow(x, 2) */
static const lc_op_def def_sin = {"SinBackward", rule_unary};
static const lc_op_def def_cos = {"CosBackward", rule_unary};
static const lc_op_def def_sigmoid = {"SigmoidBackward", rule_unary};
static const lc_op_def def_relu = {"ReluBackward", rule_unary};
static const lc_op_def def_gelu = {"GeluBackward", rule_unary};
static const lc_op_def def_silu = {"SiluBackward", rule_unary};
static const lc_op_def def_softplus = {"SoftplusBackward", rule_unary};
static const lc_op_def def_floor = {"FloorBackward", rule_zero};
static const lc_op_def def_ceil = {"CeilBackward", rule_zero};
static const lc_op_def def_round = {"RoundBackward", rule_zero};
static const lc_op_def def_clamp = {"ClampBackward", rule_unary};

/* def: NULL for masks (no graph). saves_output: the rule reads y, not x
 * (the cheaper form PyTorch uses too), kept as a detached alias so the
 * output does not own itself through its node. */
static const struct {
  const lc_op_def *def;
  int saves_output;
} UN[UN_COUNT] = {
  [UN_EXP] = {&def_exp, 1},         [UN_LOG1P] = {&def_log1p, 0},
  [UN_EXPM1] = {&def_expm1, 1},     [UN_SQRT] = {&def_sqrt, 1},
  [UN_RSQRT] = {&def_rsqrt, 1},     [UN_ABS] = {&def_abs, 0},
  [UN_SIGN] = {&def_sign, 0},       [UN_RECIP] = {&def_recip, 1},
  [UN_SQUARE] = {&def_square, 0},   [UN_SIN] = {&def_sin, 0},
  [UN_COS] = {&def_cos, 0},         [UN_SIGMOID] = {&def_sigmoid, 1},
  [UN_RELU] = {&def_relu, 1},       [UN_GELU] = {&def_gelu, 0},
  [UN_GELU_TANH] = {&def_gelu, 0},  [UN_SILU] = {&def_silu, 0},
  [UN_SOFTPLUS] = {&def_softplus, 0}, [UN_FLOOR] = {&def_floor, 0},
  [UN_CEIL] = {&def_ceil, 0},       [UN_ROUND] = {&def_round, 0},
  [UN_CLAMP] = {&def_clamp, 0},     [UN_ISNAN] = {NULL, 0},
  [UN_ISINF] = {NULL, 0},
};

static lc_tensor *unary(lc_ctx *ctx, ew_un op, lc_tensor *a, double p0, double p1) {
  lc_tensor *out = lc_empty(ctx, a->dtype, a->ndim, a->shape);
  if (!out) return NULL;
  ew_kernel k = {a->dtype == LC_FLOAT64 ? un_fwd_f64 : un_fwd_f32, op, 0, p0, p1};
  const lc_tensor *t[2] = {out, a};
  const int64_t *st[2] = {out->strides, a->strides};
  ew_run(&k, 2, t, st);
  if (!UN[op].def) return out;
  lc_node *node;
  lc_tensor *in[1] = {a};
  if (!(out = finish(ctx, out, UN[op].def, 1, in, &node)) || !node) return out;
  node->iargs[0] = op;
  node->scalar[0] = p0;
  node->scalar[1] = p1;
  if (UN[op].saves_output && !(node->saved[0] = lc_detach(ctx, out))) {
    lc_tensor_release(out);
    return NULL;
  }
  return out;
}

RULE(rule_unary) {
  ew_un op = (ew_un)n->iargs[0];
  lc_tensor *a = n->inputs[0];
  const lc_tensor *v = UN[op].saves_output ? n->saved[0] : a;
  lc_tensor *gx = lc_empty(ctx, a->dtype, a->ndim, a->shape);
  if (!gx) return 0;
  ew_kernel k = {a->dtype == LC_FLOAT64 ? un_bwd_f64 : un_bwd_f32, op, 0, n->scalar[0],
                 n->scalar[1]};
  const lc_tensor *t[3] = {gx, g, v};
  const int64_t *st[3] = {gx->strides, g->strides, v->strides};
  ew_run(&k, 3, t, st);
  grads[0] = gx;
  return 1;
}

/* sign, floor, ceil, round: piecewise constant, so PyTorch's gradient is 0 */
RULE(rule_zero) {
  (void)g;
  lc_tensor *a = n->inputs[0];
  return (grads[0] = lc_zeros(ctx, a->dtype, a->ndim, a->shape)) != NULL;
}

lc_tensor *lc_exp(lc_ctx *ctx, lc_tensor *a) { return unary(ctx, UN_EXP, a, 0, 0); }
lc_tensor *lc_log1p(lc_ctx *ctx, lc_tensor *a) { return unary(ctx, UN_LOG1P, a, 0, 0); }
lc_tensor *lc_expm1(lc_ctx *ctx, lc_tensor *a) { return unary(ctx, UN_EXPM1, a, 0, 0); }
lc_tensor *lc_sqrt(lc_ctx *ctx, lc_tensor *a) { return unary(ctx, UN_SQRT, a, 0, 0); }
lc_tensor *lc_rsqrt(lc_ctx *ctx, lc_tensor *a) { return unary(ctx, UN_RSQRT, a, 0, 0); }
lc_tensor *lc_abs(lc_ctx *ctx, lc_tensor *a) { return unary(ctx, UN_ABS, a, 0, 0); }
lc_tensor *lc_sign(lc_ctx *ctx, lc_tensor *a) { return unary(ctx, UN_SIGN, a, 0, 0); }
lc_tensor *lc_reciprocal(lc_ctx *ctx, lc_tensor *a) { return unary(ctx, UN_RECIP, a, 0, 0); }
lc_tensor *lc_square(lc_ctx *ctx, lc_tensor *a) { return unary(ctx, UN_SQUARE, a, 0, 0); }
lc_tensor *lc_sin(lc_ctx *ctx, lc_tensor *a) { return unary(ctx, UN_SIN, a, 0, 0); }
lc_tensor *lc_cos(lc_ctx *ctx, lc_tensor *a) { return unary(ctx, UN_COS, a, 0, 0); }
lc_tensor *lc_sigmoid(lc_ctx *ctx, lc_tensor *a) { return unary(ctx, UN_SIGMOID, a, 0, 0); }
/* The 0 comes in as p0: GCC compiles "x < p0 ? p0 : x" to maxsd, but with
 * a literal 0 to a branch, five times slower on random signs. */
lc_tensor *lc_relu(lc_ctx *ctx, lc_tensor *a) { return unary(ctx, UN_RELU, a, 0, 0); }
lc_tensor *lc_silu(lc_ctx *ctx, lc_tensor *a) { return unary(ctx, UN_SILU, a, 0, 0); }
lc_tensor *lc_floor(lc_ctx *ctx, lc_tensor *a) { return unary(ctx, UN_FLOOR, a, 0, 0); }
lc_tensor *lc_ceil(lc_ctx *ctx, lc_tensor *a) { return unary(ctx, UN_CEIL, a, 0, 0); }
lc_tensor *lc_round(lc_ctx *ctx, lc_tensor *a) { return unary(ctx, UN_ROUND, a, 0, 0); }
lc_tensor *lc_isnan(lc_ctx *ctx, lc_tensor *a) { return unary(ctx, UN_ISNAN, a, 0, 0); }
lc_tensor *lc_isinf(lc_ctx *ctx, lc_tensor *a) { return unary(ctx, UN_ISINF, a, 0, 0); }

lc_tensor *lc_gelu(lc_ctx *ctx, lc_tensor *a, int tanh_approx) {
  return unary(ctx, tanh_approx ? UN_GELU_TANH : UN_GELU, a, 0, 0);
}

lc_tensor *lc_softplus(lc_ctx *ctx, lc_tensor *a, double beta, double threshold) {
  return unary(ctx, UN_SOFTPLUS, a, beta, threshold);
}

/* A missing bound is an infinite one: the forward values and the gradient
 * mask (x >= -inf is false only for NaN, as x >= min is) come out the same
 * as PyTorch's one-sided forms. */
lc_tensor *lc_clamp(lc_ctx *ctx, lc_tensor *a, const double *min, const double *max) {
  if (!min && !max) {
    lc__fail(ctx, LC_EARG, "at least one of min and max must be given");
    return NULL;
  }
  return unary(ctx, UN_CLAMP, a, min ? *min : -INFINITY, max ? *max : INFINITY);
}

/* ---- broadcasting binary ops ------------------------------------------------- */

RULE(rule_binary);

static const lc_op_def def_maximum = {"MaximumBackward", rule_binary};
static const lc_op_def def_minimum = {"MinimumBackward", rule_binary};
static const lc_op_def def_atan2 = {"Atan2Backward", rule_binary};

static lc_tensor *binary(lc_ctx *ctx, ew_bin op, const lc_op_def *def, lc_tensor *a,
                         lc_tensor *b) {
  /* masks record nothing, so their dtype casts need not either */
  int was = def ? lc_ctx_grad_enabled(ctx) : lc_ctx_set_grad_enabled(ctx, 0);
  lc_tensor *ca, *cb, *out = NULL;
  int ndim;
  int64_t shape[LC_MAX_DIMS], sa[LC_MAX_DIMS], sb[LC_MAX_DIMS];
  if (!promote(ctx, &a, &b, &ca, &cb) || !lc__broadcast_shape(ctx, 2, (lc_tensor *[]){a, b}, &ndim, shape) ||
      !(out = lc_empty(ctx, a->dtype, ndim, shape)))
    goto done;
  lc__broadcast_strides(a, ndim, sa);
  lc__broadcast_strides(b, ndim, sb);
  {
    ew_kernel k = {a->dtype == LC_FLOAT64 ? bin_fwd_f64 : bin_fwd_f32, op, 0, 0, 0};
    const lc_tensor *t[3] = {out, a, b};
    const int64_t *st[3] = {out->strides, sa, sb};
    ew_run(&k, 3, t, st);
  }
  if (def) {
    lc_node *node;
    lc_tensor *in[2] = {a, b};
    if ((out = finish(ctx, out, def, 2, in, &node)) && node) node->iargs[0] = op;
  }
done:
  lc_tensor_release(ca);
  lc_tensor_release(cb);
  lc_ctx_set_grad_enabled(ctx, was);
  return out;
}

/* Each side's gradient in one pass at the broadcast shape (g's), then
 * summed down to that input's shape. */
RULE(rule_binary) {
  lc_tensor *in[2] = {n->inputs[0], n->inputs[1]};
  int64_t sa[LC_MAX_DIMS], sb[LC_MAX_DIMS];
  lc__broadcast_strides(in[0], g->ndim, sa);
  lc__broadcast_strides(in[1], g->ndim, sb);
  for (int side = 0; side < 2; side++) {
    if (!in[side]->requires_grad) continue;
    lc_tensor *full = lc_empty(ctx, g->dtype, g->ndim, g->shape);
    if (!full) return 0;
    ew_kernel k = {g->dtype == LC_FLOAT64 ? bin_bwd_f64 : bin_bwd_f32, (int)n->iargs[0], side,
                   0, 0};
    const lc_tensor *t[4] = {full, g, in[0], in[1]};
    const int64_t *st[4] = {full->strides, g->strides, sa, sb};
    ew_run(&k, 4, t, st);
    if (!(grads[side] = lc__reduce_owned(ctx, full, in[side]))) return 0;
  }
  return 1;
}

lc_tensor *lc_maximum(lc_ctx *ctx, lc_tensor *a, lc_tensor *b) {
  return binary(ctx, BIN_MAXIMUM, &def_maximum, a, b);
}
lc_tensor *lc_minimum(lc_ctx *ctx, lc_tensor *a, lc_tensor *b) {
  return binary(ctx, BIN_MINIMUM, &def_minimum, a, b);
}
lc_tensor *lc_atan2(lc_ctx *ctx, lc_tensor *a, lc_tensor *b) {
  return binary(ctx, BIN_ATAN2, &def_atan2, a, b);
}
lc_tensor *lc_eq(lc_ctx *ctx, lc_tensor *a, lc_tensor *b) { return binary(ctx, BIN_EQ, NULL, a, b); }
lc_tensor *lc_ne(lc_ctx *ctx, lc_tensor *a, lc_tensor *b) { return binary(ctx, BIN_NE, NULL, a, b); }
lc_tensor *lc_lt(lc_ctx *ctx, lc_tensor *a, lc_tensor *b) { return binary(ctx, BIN_LT, NULL, a, b); }
lc_tensor *lc_le(lc_ctx *ctx, lc_tensor *a, lc_tensor *b) { return binary(ctx, BIN_LE, NULL, a, b); }
lc_tensor *lc_gt(lc_ctx *ctx, lc_tensor *a, lc_tensor *b) { return binary(ctx, BIN_GT, NULL, a, b); }
lc_tensor *lc_ge(lc_ctx *ctx, lc_tensor *a, lc_tensor *b) { return binary(ctx, BIN_GE, NULL, a, b); }

/* ---- where ------------------------------------------------------------------ */

RULE(rule_where);
static const lc_op_def def_where = {"WhereBackward", rule_where};

static ew_row_fn where_row(lc_dtype t, lc_dtype c, int backward) {
  if (t == LC_FLOAT64)
    return c == LC_FLOAT64 ? (backward ? where_bwd_f64_f64 : where_fwd_f64_f64)
                           : (backward ? where_bwd_f64_f32 : where_fwd_f64_f32);
  return c == LC_FLOAT64 ? (backward ? where_bwd_f32_f64 : where_fwd_f32_f64)
                         : (backward ? where_bwd_f32_f32 : where_fwd_f32_f32);
}

/* The graph's inputs are a and b only: cond gets no gradient, so it is kept
 * in saved[0], detached so that it does not hold its own graph alive. */
lc_tensor *lc_where(lc_ctx *ctx, lc_tensor *cond, lc_tensor *a, lc_tensor *b) {
  lc_tensor *ca, *cb, *out = NULL;
  int ndim;
  int64_t shape[LC_MAX_DIMS], sc[LC_MAX_DIMS], sa[LC_MAX_DIMS], sb[LC_MAX_DIMS];
  if (!promote(ctx, &a, &b, &ca, &cb) ||
      !lc__broadcast_shape(ctx, 3, (lc_tensor *[]){cond, a, b}, &ndim, shape) ||
      !(out = lc_empty(ctx, a->dtype, ndim, shape)))
    goto done;
  lc__broadcast_strides(cond, ndim, sc);
  lc__broadcast_strides(a, ndim, sa);
  lc__broadcast_strides(b, ndim, sb);
  {
    ew_kernel k = {where_row(a->dtype, cond->dtype, 0), 0, 0, 0, 0};
    const lc_tensor *t[4] = {out, cond, a, b};
    const int64_t *st[4] = {out->strides, sc, sa, sb};
    ew_run(&k, 4, t, st);
  }
  {
    lc_node *node;
    lc_tensor *in[2] = {a, b};
    if ((out = finish(ctx, out, &def_where, 2, in, &node)) && node &&
        !(node->saved[0] = lc_detach(ctx, cond))) {
      lc_tensor_release(out);
      out = NULL;
    }
  }
done:
  lc_tensor_release(ca);
  lc_tensor_release(cb);
  return out;
}

RULE(rule_where) {
  const lc_tensor *cond = n->saved[0];
  int64_t sc[LC_MAX_DIMS];
  lc__broadcast_strides(cond, g->ndim, sc);
  for (int side = 0; side < 2; side++) {
    lc_tensor *x = n->inputs[side];
    if (!x->requires_grad) continue;
    lc_tensor *full = lc_empty(ctx, g->dtype, g->ndim, g->shape);
    if (!full) return 0;
    ew_kernel k = {where_row(g->dtype, cond->dtype, 1), 0, side, 0, 0};
    const lc_tensor *t[3] = {full, g, cond};
    const int64_t *st[3] = {full->strides, g->strides, sc};
    ew_run(&k, 3, t, st);
    if (!(grads[side] = lc__reduce_owned(ctx, full, x))) return 0;
  }
  return 1;
}

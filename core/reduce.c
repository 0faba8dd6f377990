/* reduce.c: reduce ops (the rows of reduce.def), each with its backward
 * rule beside it.
 *
 * Forward: every op works on "blocks". Fix all dims of the input but `dim`,
 * walk them with lc_walk (which merges what it can), and the innermost row
 * of that walk together with `dim` is a block of n positions x len elements
 * with element strides sa (between positions) and sd (along dim). A kernel
 * reduces (or scans) each position along dim, sweeping the block in the
 * order that keeps the inner loop on the smaller stride: along dim when dim
 * is innermost (one contiguous row per result), across positions otherwise
 * (the inner loop runs over contiguous results, as lc__k_sum_dim does for
 * an outer dim). Views are read in place with their strides; nothing is
 * copied. Accumulation is in double for both dtypes.
 *
 * The all-elements forms reduce a flat 1-D view (a contiguous copy first
 * when the input is a non-contiguous view), so they share the kernels.
 *
 * Backward rules work on contiguous operands viewed as (outer, len, inner)
 * around the reduced dim, with per-result state kept for chunks of CH
 * results so the inner loops stay contiguous. */
#include "internal.h"

#include <math.h>
#include <string.h>

#define CH 64  /* results handled together: their state lives on the stack */

/* ---- sweeping a block --------------------------------------------------------
 * SWEEP(dt, a, m, sa, len, sd, BODY) runs BODY for every element of an
 * m x len block at a, with `i` (position), `j` (index along dim) and the
 * element's value `double x` in scope. Each position sees j in increasing
 * order whichever loop is outside, so both orders give identical results. */
#define SWEEP_T(T, A, M, SA, LEN, SD, ...)                                      \
  do {                                                                          \
    const T *b_ = (const T *)(A);                                               \
    int64_t m_ = (M), sa_ = (SA), len_ = (LEN), sd_ = (SD);                     \
    if (len_ == 0) break;  /* nothing to read (and maybe no buffer) */          \
    if (m_ > 1 && sa_ < sd_) {                                                  \
      for (int64_t j = 0; j < len_; j++) {                                      \
        const T *r_ = b_ + j * sd_;                                             \
        if (sa_ == 1) {                                                         \
          for (int64_t i = 0; i < m_; i++) { double x = (double)r_[i]; __VA_ARGS__ } \
        } else {                                                                \
          for (int64_t i = 0; i < m_; i++) { double x = (double)r_[i * sa_]; __VA_ARGS__ } \
        }                                                                       \
      }                                                                         \
    } else {                                                                    \
      for (int64_t i = 0; i < m_; i++) {                                        \
        const T *r_ = b_ + i * sa_;                                             \
        if (sd_ == 1) {                                                         \
          for (int64_t j = 0; j < len_; j++) { double x = (double)r_[j]; __VA_ARGS__ } \
        } else {                                                                \
          for (int64_t j = 0; j < len_; j++) { double x = (double)r_[j * sd_]; __VA_ARGS__ } \
        }                                                                       \
      }                                                                         \
    }                                                                           \
  } while (0)

#define SWEEP(DT, ...)                                                          \
  do {                                                                          \
    if ((DT) == LC_FLOAT64) SWEEP_T(double, __VA_ARGS__);                       \
    else SWEEP_T(float, __VA_ARGS__);                                           \
  } while (0)

/* SWEEP_OUT(dt, a, sa, sd, y, so, osd, m, len, BODY): the same for scans,
 * where BODY sets `double y` and that is stored at the element's place in
 * the output block y (strides so, osd). */
#define SWEEP_OUT_T(T, A, SA, SD, Y, SO, OSD, M, LEN, ...)                      \
  do {                                                                          \
    const T *b_ = (const T *)(A);                                               \
    T *o_ = (T *)(Y);                                                           \
    int64_t m_ = (M), sa_ = (SA), len_ = (LEN), sd_ = (SD), so_ = (SO), osd_ = (OSD); \
    if (len_ == 0) break;  /* nothing to read (and maybe no buffer) */          \
    if (m_ > 1 && sa_ < sd_) {                                                  \
      for (int64_t j = 0; j < len_; j++) {                                      \
        const T *r_ = b_ + j * sd_;                                             \
        T *w_ = o_ + j * osd_;                                                  \
        if (sa_ == 1 && so_ == 1) {                                             \
          for (int64_t i = 0; i < m_; i++) { double x = (double)r_[i], y; __VA_ARGS__ w_[i] = (T)y; } \
        } else {                                                                \
          for (int64_t i = 0; i < m_; i++) {                                    \
            double x = (double)r_[i * sa_], y;                                  \
            __VA_ARGS__                                                         \
            w_[i * so_] = (T)y;                                                 \
          }                                                                     \
        }                                                                       \
      }                                                                         \
    } else {                                                                    \
      for (int64_t i = 0; i < m_; i++) {                                        \
        const T *r_ = b_ + i * sa_;                                             \
        T *w_ = o_ + i * so_;                                                   \
        if (sd_ == 1 && osd_ == 1) {                                            \
          for (int64_t j = 0; j < len_; j++) { double x = (double)r_[j], y; __VA_ARGS__ w_[j] = (T)y; } \
        } else {                                                                \
          for (int64_t j = 0; j < len_; j++) {                                  \
            double x = (double)r_[j * sd_], y;                                  \
            __VA_ARGS__                                                         \
            w_[j * osd_] = (T)y;                                                \
          }                                                                     \
        }                                                                       \
      }                                                                         \
    }                                                                           \
  } while (0)

#define SWEEP_OUT(DT, ...)                                                      \
  do {                                                                          \
    if ((DT) == LC_FLOAT64) SWEEP_OUT_T(double, __VA_ARGS__);                   \
    else SWEEP_OUT_T(float, __VA_ARGS__);                                       \
  } while (0)

/* One block and what its kernel needs. o (a's dtype) and oi (indices) may
 * be NULL when that result is not wanted. */
typedef struct blk {
  lc_dtype dt;
  const char *a;
  int64_t n, sa, len, sd;
  char *o;
  int64_t *oi;
  int64_t so, osd;   /* osd: scans only */
  double p;          /* norm's p, var's correction */
} blk;
typedef void (*blk_fn)(const blk *b);

static double load(lc_dtype dt, const char *p, int64_t i) {
  return dt == LC_FLOAT64 ? ((const double *)p)[i] : (double)((const float *)p)[i];
}

static void store(lc_dtype dt, char *p, int64_t i, double v) {
  if (dt == LC_FLOAT64) ((double *)p)[i] = v;
  else ((float *)p)[i] = (float)v;
}

/* The sub-block of positions c0.. */
/* The input of output c0; NULL when an empty dim left no buffer (then the
 * sweeps read nothing, and NULL + offset would be undefined). */
#define AT(b, c0) ((b)->a ? (b)->a + (c0) * (b)->sa * (int64_t)lc_dtype_size((b)->dt) : NULL)
#define CHUNKS(b, ...)                                                          \
  for (int64_t c0 = 0; c0 < (b)->n; c0 += CH) {                                 \
    int64_t m = (b)->n - c0 < CH ? (b)->n - c0 : CH;                            \
    __VA_ARGS__                                                                 \
  }

static void put(const blk *b, int64_t c0, int64_t m, const double *v) {
  if (b->o)
    for (int64_t i = 0; i < m; i++) store(b->dt, b->o, (c0 + i) * b->so, v[i]);
}

/* ---- kernels -------------------------------------------------------------------- */

static void prod_k(const blk *b) {
  CHUNKS(b, {
    double acc[CH];
    for (int64_t i = 0; i < m; i++) acc[i] = 1.0;
    SWEEP(b->dt, AT(b, c0), m, b->sa, b->len, b->sd, acc[i] *= x;);
    put(b, c0, m, acc);
  })
}

/* Two passes (mean, then squared deviations): no cancellation as in the
 * one-pass sum of squares. */
static void moments(const blk *b, int is_std) {
  double div = (double)b->len - b->p;
  if (div < 0) div = 0;  /* N - correction <= 0: 0/0 or x/0, as PyTorch */
  CHUNKS(b, {
    double mean[CH], m2[CH];
    for (int64_t i = 0; i < m; i++) mean[i] = m2[i] = 0.0;
    SWEEP(b->dt, AT(b, c0), m, b->sa, b->len, b->sd, mean[i] += x;);
    for (int64_t i = 0; i < m; i++) mean[i] /= (double)b->len;
    SWEEP(b->dt, AT(b, c0), m, b->sa, b->len, b->sd, double d = x - mean[i]; m2[i] += d * d;);
    for (int64_t i = 0; i < m; i++) m2[i] = is_std ? sqrt(m2[i] / div) : m2[i] / div;
    put(b, c0, m, m2);
  })
}

static void var_k(const blk *b) { moments(b, 0); }
static void std_k(const blk *b) { moments(b, 1); }

/* NaN beats every number, and the first of equals is kept. */
static void extreme(const blk *b, int is_min) {
  CHUNKS(b, {
    double v[CH];
    int64_t k[CH];
    for (int64_t i = 0; i < m; i++) {
      v[i] = load(b->dt, AT(b, c0), i * b->sa);
      k[i] = 0;
    }
    if (is_min)
      SWEEP(b->dt, AT(b, c0), m, b->sa, b->len, b->sd,
            if (x < v[i] || (x != x && v[i] == v[i])) { v[i] = x; k[i] = j; });
    else
      SWEEP(b->dt, AT(b, c0), m, b->sa, b->len, b->sd,
            if (x > v[i] || (x != x && v[i] == v[i])) { v[i] = x; k[i] = j; });
    put(b, c0, m, v);
    if (b->oi)
      for (int64_t i = 0; i < m; i++) b->oi[(c0 + i) * b->so] = k[i];
  })
}

/* An infinite max is replaced by 0 (as PyTorch does) so that all -inf
 * gives log(0) = -inf and a +inf gives +inf, not NaN from inf - inf. */
static void lse_k(const blk *b) {
  CHUNKS(b, {
    double mx[CH], s[CH];
    for (int64_t i = 0; i < m; i++) { mx[i] = -INFINITY; s[i] = 0.0; }
    SWEEP(b->dt, AT(b, c0), m, b->sa, b->len, b->sd, if (x > mx[i]) mx[i] = x;);
    for (int64_t i = 0; i < m; i++) if (isinf(mx[i])) mx[i] = 0.0;
    SWEEP(b->dt, AT(b, c0), m, b->sa, b->len, b->sd, s[i] += exp(x - mx[i]););
    for (int64_t i = 0; i < m; i++) s[i] = log(s[i]) + mx[i];
    put(b, c0, m, s);
  })
}

static void norm_k(const blk *b) {
  double p = b->p;
  CHUNKS(b, {
    double acc[CH];
    for (int64_t i = 0; i < m; i++) acc[i] = 0.0;
    if (p == 2.0) {
      SWEEP(b->dt, AT(b, c0), m, b->sa, b->len, b->sd, acc[i] += x * x;);
      for (int64_t i = 0; i < m; i++) acc[i] = sqrt(acc[i]);
    } else if (p == 1.0) {
      SWEEP(b->dt, AT(b, c0), m, b->sa, b->len, b->sd, acc[i] += fabs(x););
    } else if (isinf(p)) {
      SWEEP(b->dt, AT(b, c0), m, b->sa, b->len, b->sd,
            double ax = fabs(x); if (ax > acc[i] || ax != ax) acc[i] = ax;);
    } else {
      SWEEP(b->dt, AT(b, c0), m, b->sa, b->len, b->sd, acc[i] += pow(fabs(x), p););
      for (int64_t i = 0; i < m; i++) acc[i] = pow(acc[i], 1.0 / p);
    }
    put(b, c0, m, acc);
  })
}

/* softmax: max, then exp(x - max) summed and stored, then scaled in place;
 * log_softmax: max, sum of exp(x - max), then x - max - log(sum). */
static void max_k(const blk *b) { extreme(b, 0); }
static void min_k(const blk *b) { extreme(b, 1); }

/* The sum of y[n] in double, in four interleaved partial sums (one chain
 * of additions would wait on each one's latency). */
static double sum4_f32(const float *y, int64_t n) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  int64_t j = 0;
  for (; j + 4 <= n; j += 4) {
    s0 += y[j];
    s1 += y[j + 1];
    s2 += y[j + 2];
    s3 += y[j + 3];
  }
  for (; j < n; j++) s0 += y[j];
  return (s0 + s1) + (s2 + s3);
}

/* float32 rows contiguous along dim: x - max in float and simd.c's vector
 * exp over the row (the kernel of lucid.exp), sums in double as below. */
static void softmax_rows_f32(const blk *b, int is_log) {
  enum { NB = 256 };
  for (int64_t i = 0; i < b->n; i++) {
    const float *x = (const float *)(const void *)b->a + i * b->sa;
    float *y = (float *)(void *)b->o + i * b->so;
    float mx = -INFINITY;
    for (int64_t j = 0; j < b->len; j++)
      if (x[j] > mx || x[j] != x[j]) mx = x[j];
    double s = 0.0;
    if (is_log) {  /* exp into a buffer: y may be x itself */
      float buf[NB];
      for (int64_t j0 = 0; j0 < b->len; j0 += NB) {
        int64_t k = b->len - j0 < NB ? b->len - j0 : NB;
        for (int64_t j = 0; j < k; j++) buf[j] = x[j0 + j] - mx;
        lc__vmap_f32(LC_VF_EXP, k, buf, buf, LC_SIMD_BEST);
        s += sum4_f32(buf, k);
      }
      /* cppcheck-suppress invalidFunctionArg ; (s = 0: log gives -inf, as intended) */
      double ls = mx + log(s);
      for (int64_t j = 0; j < b->len; j++) y[j] = (float)(x[j] - ls);
    } else {
      for (int64_t j = 0; j < b->len; j++) y[j] = x[j] - mx;
      lc__vmap_f32(LC_VF_EXP, b->len, y, y, LC_SIMD_BEST);
      s = sum4_f32(y, b->len);
      double inv = 1.0 / s;
      for (int64_t j = 0; j < b->len; j++) y[j] = (float)(y[j] * inv);
    }
  }
}

static void softmaxes(const blk *b, int is_log) {
  if (b->dt == LC_FLOAT32 && b->sd == 1 && b->osd == 1 && b->len > 0 && b->a && b->o) {
    softmax_rows_f32(b, is_log);
    return;
  }
  CHUNKS(b, {
    double mx[CH], s[CH];
    const char *a = AT(b, c0);
    char *o = b->o + c0 * b->so * (int64_t)lc_dtype_size(b->dt);
    for (int64_t i = 0; i < m; i++) { mx[i] = -INFINITY; s[i] = 0.0; }
    SWEEP(b->dt, a, m, b->sa, b->len, b->sd, if (x > mx[i] || x != x) mx[i] = x;);
    if (is_log) {
      SWEEP(b->dt, a, m, b->sa, b->len, b->sd, s[i] += exp(x - mx[i]););
      for (int64_t i = 0; i < m; i++) s[i] = mx[i] + log(s[i]);
      SWEEP_OUT(b->dt, a, b->sa, b->sd, o, b->so, b->osd, m, b->len, y = x - s[i];);
    } else {
      SWEEP_OUT(b->dt, a, b->sa, b->sd, o, b->so, b->osd, m, b->len,
                y = exp(x - mx[i]); s[i] += y;);
      for (int64_t i = 0; i < m; i++) s[i] = 1.0 / s[i];
      SWEEP_OUT(b->dt, o, b->so, b->osd, o, b->so, b->osd, m, b->len, y = x * s[i];);
    }
  })
}

static void softmax_k(const blk *b) { softmaxes(b, 0); }
static void log_softmax_k(const blk *b) { softmaxes(b, 1); }

static void cumsum_k(const blk *b) {
  CHUNKS(b, {
    double s[CH];
    char *o = b->o + c0 * b->so * (int64_t)lc_dtype_size(b->dt);
    for (int64_t i = 0; i < m; i++) s[i] = 0.0;
    SWEEP_OUT(b->dt, AT(b, c0), b->sa, b->sd, o, b->so, b->osd, m, b->len, s[i] += x; y = s[i];);
  })
}

/* ---- driving the kernels ------------------------------------------------------- */

/* Runs fn over every block of a along dim. Outputs are contiguous, of a's
 * shape without dim (reductions), or of a's shape (scans: full_out). */
static void for_blocks(blk_fn fn, const lc_tensor *a, int dim, void *o, int64_t *oi, int full_out,
                       double p) {
  int64_t shape[LC_MAX_DIMS], sa[LC_MAX_DIMS], so[LC_MAX_DIMS], full[LC_MAX_DIMS];
  int64_t len = 1, sd = 0, osd = 0;
  int m = 0;
  if (a->numel == 0 && full_out) return;
  lc__contig_strides(a->ndim, a->shape, full);
  for (int d = 0; d < a->ndim; d++) {
    if (d == dim) continue;
    if (a->shape[d] == 0) return;  /* no results */
    shape[m] = a->shape[d];
    sa[m] = a->strides[d];
    so[m] = full[d];
    m++;
  }
  if (a->ndim > 0) {
    len = a->shape[dim];
    sd = a->strides[dim];
    osd = full[dim];
  }
  if (!full_out) lc__contig_strides(m, shape, so);
  lc_walk w;
  int64_t base[2] = {0, a->offset};
  lc__walk_init(&w, m, shape, 2, (const int64_t *const[]){so, sa}, base);
  size_t es = lc_dtype_size(a->dtype);
  blk b = {a->dtype, NULL, w.shape[w.ndim - 1], w.st[1][w.ndim - 1], len, sd, NULL, NULL,
           w.st[0][w.ndim - 1], osd, p};
  for (int64_t r = 0, rows = lc__walk_rows(&w); r < rows; r++, lc__walk_next(&w)) {
    /* an empty dim has no buffer behind it (and nothing to read) */
    b.a = a->storage->data ? (const char *)a->storage->data + w.off[1] * (int64_t)es : NULL;
    b.o = o ? (char *)o + w.off[0] * (int64_t)es : NULL;
    b.oi = oi ? oi + w.off[0] : NULL;
    fn(&b);
  }
}

/* ---- the table -------------------------------------------------------------------- */

static int rule_sum(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int rule_prod(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int rule_var(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int rule_ext(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int rule_logsumexp(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int rule_amax(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int rule_norm(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int rule_softmax(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int rule_cumsum(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int replay_reduce(lc_ctx *ctx, lc_node *n);

enum {
#define REDUCE(name, ...) RD_##name,
#define REDUCE_NONDIFF(name, ...) RD_##name,
#include "reduce.def"
  RD_COUNT
};

enum { SAVES_N, SAVES_Y };

/* A row: its node definition (backward NULL: no graph), kernel and what
 * the rule reads besides the input. */
typedef struct rd_op {
  lc__opdef d;
  blk_fn kernel;
  int saves;
} rd_op;

static const rd_op RD[] = {
#define REDUCE(name, Bw, kernel, saves, rule)                                      \
  [RD_##name] = {{{#Bw "Backward", rule}, RD_##name, replay_reduce}, kernel, SAVES_##saves},
/* indices: a node only while tracing (lc__finish_nograd), named for the plan */
#define REDUCE_NONDIFF(name, reason, kernel)                                       \
  [RD_##name] = {{{#name, NULL}, RD_##name, replay_reduce}, kernel, SAVES_N},
#include "reduce.def"
};
_Static_assert(sizeof RD / sizeof RD[0] == RD_COUNT, "a reduce row without its table entry");

/* ---- shared forward plumbing ---------------------------------------------------- */

/* A 0-d tensor takes dim 0, as one element along it. */
static int check_rdim(lc_ctx *ctx, const lc_tensor *a, int dim) {
  return (a->ndim == 0 && dim == 0) || lc__check_dim(ctx, a, dim);
}

/* Records op's node, and what its row says to save. */
static lc_tensor *finish_row(lc_ctx *ctx, lc_tensor *out, int op, lc_tensor *a, int dim,
                             int keepdim, double p) {
  lc_tensor *in[1] = {a};
  if (!RD[op].d.def.backward) return out;
  if (!(out = lc__finish(ctx, out, &RD[op].d.def, 1, in)) || !out->node) return out;
  out->node->p.reduce.dim = dim;
  out->node->p.reduce.keepdim = keepdim;
  out->node->p.reduce.p = p;
  return RD[op].saves == SAVES_Y ? lc__save_output(ctx, out) : out;
}

/* out (a's shape without dim) seen with dim put back as size 1: same storage. */
static lc_tensor *keep_view(lc_ctx *ctx, lc_tensor *out, const lc_tensor *a, int dim) {
  if (!out || a->ndim == 0) return out;
  int64_t shape[LC_MAX_DIMS], st[LC_MAX_DIMS];
  for (int i = 0; i < a->ndim; i++) shape[i] = i == dim ? 1 : a->shape[i];
  lc__contig_strides(a->ndim, shape, st);
  lc_tensor *k = lc__view(ctx, out, a->ndim, shape, st, out->offset);
  lc_tensor_release(out);
  return k;
}

/* The source of a reduction: a itself, or for the all-elements forms
 * (dim < 0) a flat 1-D header over a contiguous a (or a's copy, held in
 * *hold). `flat` is a borrowed header: never retained or released. */
static const lc_tensor *source(lc_ctx *ctx, lc_tensor *a, int dim, lc_tensor *flat,
                               lc_tensor **hold) {
  *hold = NULL;
  if (dim >= 0) return a;
  if (!lc_tensor_is_contiguous(a) && !(*hold = lc__contig_raw(ctx, a))) return NULL;
  *flat = *hold ? **hold : *a;
  flat->ndim = 1;
  flat->shape[0] = a->numel;
  flat->strides[0] = 1;
  return flat;
}

static lc_tensor *int_input(lc_ctx *ctx, int op, lc_tensor *a, int dim, int keepdim, double p,
                            lc_tensor **idx);

/* Row op over dim (dim < 0: all elements, 0-d result). With idx, the
 * kernel's indices come back there too (int64, 0-based, no graph), and
 * the caller saves them, not the result. */
static lc_tensor *reduce(lc_ctx *ctx, int op, lc_tensor *a, int dim, int keepdim, double p,
                         lc_tensor **idx) {
  if (idx) *idx = NULL;
  if (!lc_dtype_is_float(a->dtype)) return int_input(ctx, op, a, dim, keepdim, p, idx);
  if (dim >= 0 && !check_rdim(ctx, a, dim)) return NULL;
  lc_tensor flat, *hold;
  const lc_tensor *src = source(ctx, a, dim, &flat, &hold);
  if (!src) return NULL;
  int d = dim < 0 ? 0 : dim;
  int64_t shape[LC_MAX_DIMS];
  int m = 0;
  for (int i = 0; i < src->ndim; i++)
    if (i != d) shape[m++] = src->shape[i];
  lc_tensor *out = lc_empty(ctx, a->dtype, m, shape);
  lc_tensor *ix = out && idx ? lc_empty(ctx, LC_INT64, m, shape) : NULL;
  if (!out || (idx && !ix)) {
    lc_tensor_release(out);
    lc_tensor_release(hold);
    return NULL;
  }
  for_blocks(RD[op].kernel, src, d, lc_tensor_data(out), ix ? (int64_t *)lc_tensor_data(ix) : NULL,
             0, p);
  lc_tensor_release(hold);
  if (keepdim && dim >= 0) {
    out = keep_view(ctx, out, a, dim);
    if (ix) ix = keep_view(ctx, ix, a, dim);
    if (!out || (idx && !ix)) {
      lc_tensor_release(out);
      lc_tensor_release(ix);
      return NULL;
    }
  }
  if (idx) {
    lc_tensor *in[1] = {a};
    /* while tracing the indices are a node of their own (argmax's), so that
     * a plan reading them replays them; max's replay refreshes its copy */
    int iop = op == RD_min || op == RD_argmin ? RD_argmin : RD_argmax;
    if (!(ix = lc__finish_nograd(ctx, ix, &RD[iop].d.def, 1, in))) {
      lc_tensor_release(out);
      return NULL;
    }
    if (ix->node) {
      ix->node->p.reduce.dim = dim;
      ix->node->p.reduce.keepdim = keepdim;
    }
    out = RD[op].d.def.backward ? lc__finish(ctx, out, &RD[op].d.def, 1, in) : out;
    if (out && out->node) {
      out->node->p.reduce.dim = dim;
      out->node->p.reduce.keepdim = keepdim;
      out->node->saved[0] = lc__retained(ix);  /* ix has no node: no cycle */
    }
  } else {
    out = finish_row(ctx, out, op, a, dim, keepdim, p);
  }
  if (!out) {
    lc_tensor_release(ix);
    return NULL;
  }
  if (idx) *idx = ix;
  return out;
}

/* Row op as a scan along dim: the result has a's shape. */
static lc_tensor *scan(lc_ctx *ctx, int op, lc_tensor *a, int dim) {
  if (!lc_dtype_is_float(a->dtype)) return int_input(ctx, op, a, dim, 0, 0.0, NULL);
  if (!check_rdim(ctx, a, dim)) return NULL;
  lc_tensor *out = lc_empty(ctx, a->dtype, a->ndim, a->shape);
  if (!out) return NULL;
  for_blocks(RD[op].kernel, a, dim, lc_tensor_data(out), NULL, 1, 0.0);
  return finish_row(ctx, out, op, a, dim, 0, 0.0);
}

/* max, min, argmax, argmin refuse what has no identity. */
static int check_nonempty(lc_ctx *ctx, const lc_tensor *a, int dim, const char *what) {
  char s[LC_SHAPE_STR];
  lc_shape_str(s, sizeof s, a->ndim, a->shape);
  if (dim < 0 && a->numel == 0) {
    lc__fail(ctx, LC_ESHAPE, "the %s of an empty tensor (shape %s) is undefined; give a dim", what,
             s);
    return 0;
  }
  if (dim >= 0 && a->ndim > 0 && dim < a->ndim && a->shape[dim] == 0) {
    lc__fail(ctx, LC_ESHAPE, "the %s over dimension %d of shape %s is undefined: it has size 0",
             what, dim + 1, s);
    return 0;
  }
  return 1;
}

/* ---- backward plumbing ----------------------------------------------------------- */

/* A contiguous operand as (outer, len, inner) around the reduced dim
 * (dim < 0: all elements as one flat dim). */
typedef struct span {
  int64_t outer, len, inner;
} span;

static span span_of(const lc_tensor *a, int dim) {
  span s = {1, a->numel, 1};
  if (dim < 0 || a->ndim == 0) {
    if (a->ndim == 0) s.len = 1;
    return s;
  }
  s.len = a->shape[dim];
  for (int i = 0; i < dim; i++) s.outer *= a->shape[i];
  for (int i = dim + 1; i < a->ndim; i++) s.inner *= a->shape[i];
  return s;
}

/* Contiguous data and its dtype, read and written as double. */
typedef struct cv {
  char *p;
  lc_dtype dt;
} cv;

static cv cv_of(const lc_tensor *t) { return (cv){(char *)lc_tensor_data(t), t->dtype}; }
static double rd(cv v, int64_t i) { return load(v.dt, v.p, i); }
static void wr(cv v, int64_t i, double x) { store(v.dt, v.p, i, x); }

/* FOR_SPAN(sp, BODY): BODY runs for each chunk of up to CH results, with
 * `m` results, `r0` the flat index of the first result and `e0` that of
 * its first element; element (j, c) is e0 + j * sp.inner + c. */
#define FOR_SPAN(sp, ...)                                                       \
  for (int64_t o_ = 0; o_ < (sp).outer; o_++)                                   \
    for (int64_t c0_ = 0; c0_ < (sp).inner; c0_ += CH) {                        \
      int64_t m = (sp).inner - c0_ < CH ? (sp).inner - c0_ : CH;                \
      int64_t r0 = o_ * (sp).inner + c0_, e0 = o_ * (sp).len * (sp).inner + c0_; \
      (void)r0; (void)e0;                                                       \
      __VA_ARGS__                                                               \
    }

/* What most rules start from: contiguous input, gradient and saved tensor,
 * and a fresh gradient of a's shape (zeroed when `zero`). */
typedef struct bw {
  lc_tensor *a, *g, *y, *gx;
  cv A, G, Y, GX;
  span sp;
} bw;

static int bw_begin(lc_ctx *ctx, lc_node *n, lc_tensor *g, bw *b, int zero) {
  lc_tensor *a = n->inputs[0];
  memset(b, 0, sizeof *b);
  b->sp = span_of(a, n->p.reduce.dim);
  b->a = lc__contig_raw(ctx, a);
  b->g = b->a ? lc__contig_raw(ctx, g) : NULL;
  b->y = b->g && n->saved[0] ? lc__contig_raw(ctx, n->saved[0]) : NULL;
  if (b->g && (b->y || !n->saved[0]))
    b->gx = zero ? lc_zeros(ctx, a->dtype, a->ndim, a->shape) : lc_empty(ctx, a->dtype, a->ndim, a->shape);
  if (!b->gx) return 0;
  b->A = cv_of(b->a);
  b->G = cv_of(b->g);
  if (b->y) b->Y = cv_of(b->y);
  b->GX = cv_of(b->gx);
  return 1;
}

/* Hands the gradient over and drops the rest. */
static int bw_end(bw *b, lc_tensor **grads) {
  grads[0] = b->gx;
  lc_tensor_release(b->a);
  lc_tensor_release(b->g);
  lc_tensor_release(b->y);
  return b->gx != NULL;
}


/* ---- rules that record (LC_CREATE_GRAPH) ------------------------------------------
 * The same gradients written with ops, so that they can be differentiated
 * again. A reduced result (g, y) is first given its reduced dim back as size
 * 1 (kept), so that it broadcasts against the input. */

/* t with the reduced dim put back as size 1 (t itself for all elements:
 * 0-d broadcasts already). */
static lc_tensor *kept(d_scope *s, lc_tensor *t, const lc_tensor *a, int dim) {
  if (!t) return NULL;
  if (dim < 0 || a->ndim == 0) return t;
  int64_t shape[LC_MAX_DIMS];
  for (int i = 0; i < a->ndim; i++) shape[i] = i == dim ? 1 : a->shape[i];
  return d_keep(s, lc_reshape(s->ctx, t, a->ndim, shape));
}

/* the sum along dim, keeping it (all elements for dim < 0) */
static lc_tensor *sum_kept(d_scope *s, lc_tensor *t, int dim) {
  if (!t) return NULL;
  if (dim < 0) return d_keep(s, lc_sum(s->ctx, t));
  if (t->ndim == 0) return t;
  return d_keep(s, lc_sum_dim(s->ctx, t, dim, 1));
}

/* For each element, the product of the others along dim (all elements for
 * dim < 0): x laid out as (..., L) with dim last, repeated into (..., L, L)
 * with 1 on the diagonal, and multiplied along the last dim. O(L^2), but
 * right where x holds zeros, as prod / x is not. */
static lc_tensor *prod_of_others(d_scope *s, lc_tensor *x, int dim) {
  lc_ctx *ctx = s->ctx;
  if (x->ndim == 0) return d_keep(s, lc_full(ctx, x->dtype, 0, NULL, 1.0));
  lc_tensor *v = dim < 0 ? d_keep(s, lc_reshape(ctx, x, 1, &x->numel)) : x;
  int d = dim < 0 ? 0 : dim;
  if (!v) return NULL;
  if (v->ndim == LC_MAX_DIMS) {
    lc__fail(ctx, LC_ESTATE, "prod over %d dimensions cannot be differentiated twice",
             LC_MAX_DIMS);
    return NULL;
  }
  int last = v->ndim - 1;
  int64_t len = v->shape[d], shape[LC_MAX_DIMS];
  lc_tensor *t = d_keep(s, lc_transpose(ctx, v, d, last));
  lc_tensor *u = t ? d_keep(s, lc_unsqueeze(ctx, t, last)) : NULL;  /* (..., 1, L) */
  if (!u) return NULL;
  for (int i = 0; i < u->ndim; i++) shape[i] = i == last ? len : u->shape[i];
  lc_tensor *e = d_keep(s, lc_expand(ctx, u, u->ndim, shape));      /* (..., L, L) */
  lc_tensor *m = d_where(s, d_keep(s, lc_eye(ctx, x->dtype, len, len)), d_k(s, 1), e);
  lc_tensor *o = m ? d_keep(s, lc_prod_dim(ctx, m, last + 1, 0)) : NULL;
  lc_tensor *back = o ? d_keep(s, lc_transpose(ctx, o, d, last)) : NULL;
  return dim < 0 && back ? d_keep(s, lc_reshape(ctx, back, x->ndim, x->shape)) : back;
}

static int64_t reduced_len(const lc_tensor *a, int dim) {
  return dim < 0 ? a->numel : a->ndim == 0 ? 1 : a->shape[dim];
}

/* Runs the recorded form of n's rule; 1 when it made grads[0]. */
static int recorded_rule(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  lc_tensor *x = n->inputs[0], *y = n->out, *r = NULL;
  int dim = n->p.reduce.dim, op = LC__OP(n);
  double p = n->p.reduce.p;
  d_scope sc = {ctx, x->dtype, 0, {NULL}}, *s = &sc;
  lc_tensor *gk = kept(s, g, x, dim), *yk = kept(s, y, x, dim);
  switch (op) {
    case RD_prod:
      r = d_mul(s, gk, prod_of_others(s, x, dim));
      break;
    case RD_var:
    case RD_std: {
      double dof = (double)reduced_len(x, dim) - p;
      lc_tensor *mean = d_div(s, sum_kept(s, x, dim), d_k(s, (double)reduced_len(x, dim)));
      lc_tensor *gv = op == RD_std ? d_div(s, gk, d_mul(s, d_k(s, 2), yk)) : gk;
      r = d_mul(s, d_mul(s, d_k(s, 2.0 / (dof < 0 ? 0 : dof)), gv), d_sub(s, x, mean));
      break;
    }
    case RD_max:
    case RD_min:
      if (dim < 0) {  /* shared by the elements equal to the result */
        lc_tensor *hit = d_bin(s, lc_eq, x, yk);
        r = d_mul(s, d_div(s, gk, sum_kept(s, hit, -1)), hit);
      } else {        /* to the saved index */
        lc_tensor *z = d_zero(s, x), *ik = kept(s, n->saved[0], x, dim);
        r = z && ik && gk ? d_keep(s, lc_scatter_add(ctx, z, dim, ik, gk)) : NULL;
      }
      break;
    case RD_logsumexp:
      r = d_mul(s, gk, d_un(s, lc_exp, d_sub(s, x, yk)));
      break;
    case RD_norm: {
      lc_tensor *sg = d_un(s, lc_sign, x);
      if (p == 1.0) {
        r = d_mul(s, gk, sg);
      } else if (p == 2.0) {
        r = d_div(s, d_mul(s, gk, x), yk);
      } else if (isinf(p)) {  /* shared by the elements whose |x| is the norm */
        lc_tensor *hit = d_bin(s, lc_eq, d_un(s, lc_abs, x), yk);
        r = d_mul(s, d_div(s, gk, sum_kept(s, hit, dim)), d_mul(s, hit, sg));
      } else {
        lc_tensor *ax = d_un(s, lc_abs, x);
        ax = ax ? d_keep(s, lc_pow_scalar(ctx, ax, p - 1.0)) : NULL;
        lc_tensor *yp = yk ? d_keep(s, lc_pow_scalar(ctx, yk, p - 1.0)) : NULL;
        r = d_div(s, d_mul(s, gk, d_mul(s, sg, ax)), yp);
      }
      break;
    }
    case RD_softmax:
      r = d_mul(s, y, d_sub(s, g, sum_kept(s, d_mul(s, g, y), dim)));
      break;
    case RD_log_softmax:
      r = d_sub(s, g, d_mul(s, d_un(s, lc_exp, y), sum_kept(s, g, dim)));
      break;
    case RD_cumsum: {  /* the running sum of g taken backwards */
      int dims[1] = {dim};
      lc_tensor *f = x->ndim ? d_keep(s, lc_flip(ctx, g, 1, dims)) : g;
      lc_tensor *c = f ? d_keep(s, lc_cumsum(ctx, f, dim)) : NULL;
      r = x->ndim ? (c ? d_keep(s, lc_flip(ctx, c, 1, dims)) : NULL) : c;
      break;
    }
    default:
      break;
  }
  grads[0] = lc__retained(r);
  d_end(s);
  return grads[0] != NULL;
}

/* ---- prod ------------------------------------------------------------------------- */

/* gx_j = g * prod(x_k, k < j) * prod(x_k, k > j): prefix and suffix products
 * instead of prod / x_j, so zeros need no special case. */
static int rule_prod(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  if (lc_ctx_grad_enabled(ctx)) return recorded_rule(ctx, n, g, grads);
  bw b;
  if (!bw_begin(ctx, n, g, &b, 0)) return bw_end(&b, grads);
  span sp = b.sp;
  FOR_SPAN(sp, {
    double run[CH];
    for (int64_t c = 0; c < m; c++) run[c] = rd(b.G, r0 + c);
    for (int64_t j = 0; j < sp.len; j++)
      for (int64_t c = 0; c < m; c++) {
        int64_t e = e0 + j * sp.inner + c;
        wr(b.GX, e, run[c]);
        run[c] *= rd(b.A, e);
      }
    for (int64_t c = 0; c < m; c++) run[c] = 1.0;
    for (int64_t j = sp.len - 1; j >= 0; j--)
      for (int64_t c = 0; c < m; c++) {
        int64_t e = e0 + j * sp.inner + c;
        wr(b.GX, e, rd(b.GX, e) * run[c]);
        run[c] *= rd(b.A, e);
      }
  })
  return bw_end(&b, grads);
}

lc_tensor *lc_prod(lc_ctx *ctx, lc_tensor *a) { return reduce(ctx, RD_prod, a, -1, 0, 0.0, NULL); }

lc_tensor *lc_prod_dim(lc_ctx *ctx, lc_tensor *a, int dim, int keepdim) {
  return reduce(ctx, RD_prod, a, dim, keepdim, 0.0, NULL);
}

/* ---- var, std ------------------------------------------------------------------------ */

/* var: gx = (2 / dof) g (x - mean); std: the same with g / (2 y), which is
 * 0 where y = 0 (PyTorch's choice: a constant input gets no gradient). */
static int rule_var(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  if (lc_ctx_grad_enabled(ctx)) return recorded_rule(ctx, n, g, grads);
  bw b;
  if (!bw_begin(ctx, n, g, &b, 0)) return bw_end(&b, grads);
  span sp = b.sp;
  int is_std = LC__OP(n) == RD_std;
  double dof = (double)sp.len - n->p.reduce.p;
  if (dof < 0) dof = 0;
  FOR_SPAN(sp, {
    double mean[CH], scale[CH];
    for (int64_t c = 0; c < m; c++) mean[c] = 0.0;
    for (int64_t j = 0; j < sp.len; j++)
      for (int64_t c = 0; c < m; c++) mean[c] += rd(b.A, e0 + j * sp.inner + c);
    for (int64_t c = 0; c < m; c++) {
      double gv = rd(b.G, r0 + c);
      if (is_std) {
        double y = rd(b.Y, r0 + c);
        gv = y == 0 ? 0.0 : gv / (y * 2);
      }
      mean[c] /= (double)sp.len;
      scale[c] = (2.0 / dof) * gv;
    }
    for (int64_t j = 0; j < sp.len; j++)
      for (int64_t c = 0; c < m; c++) {
        int64_t e = e0 + j * sp.inner + c;
        wr(b.GX, e, scale[c] * (rd(b.A, e) - mean[c]));
      }
  })
  return bw_end(&b, grads);
}

lc_tensor *lc_var(lc_ctx *ctx, lc_tensor *a, double correction) {
  return reduce(ctx, RD_var, a, -1, 0, correction, NULL);
}

lc_tensor *lc_var_dim(lc_ctx *ctx, lc_tensor *a, int dim, double correction, int keepdim) {
  return reduce(ctx, RD_var, a, dim, keepdim, correction, NULL);
}

lc_tensor *lc_std(lc_ctx *ctx, lc_tensor *a, double correction) {
  return reduce(ctx, RD_std, a, -1, 0, correction, NULL);
}

lc_tensor *lc_std_dim(lc_ctx *ctx, lc_tensor *a, int dim, double correction, int keepdim) {
  return reduce(ctx, RD_std, a, dim, keepdim, correction, NULL);
}

/* ---- max, min, argmax, argmin ---------------------------------------------------------- */

/* All elements: the gradient is shared evenly by every element equal to the
 * result (every NaN when the result is NaN), as PyTorch does. */
static int ext_all_rule(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  bw b;
  if (!bw_begin(ctx, n, g, &b, 0)) return bw_end(&b, grads);
  double y = rd(b.Y, 0), gv = rd(b.G, 0);
  int64_t count = 0, N = b.sp.len;
  int nan = y != y;
  for (int64_t e = 0; e < N; e++) {
    double x = rd(b.A, e);
    count += nan ? x != x : x == y;
  }
  double share = gv / (double)count;
  for (int64_t e = 0; e < N; e++) {
    double x = rd(b.A, e);
    wr(b.GX, e, (nan ? x != x : x == y) ? share : 0.0);
  }
  return bw_end(&b, grads);
}

/* Over a dim: the gradient goes to the returned index (saved, 0-based). */
static int ext_dim_rule(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  bw b;
  if (!bw_begin(ctx, n, g, &b, 1)) return bw_end(&b, grads);
  span sp = b.sp;
  for (int64_t o = 0; o < sp.outer; o++)
    for (int64_t i = 0; i < sp.inner; i++) {
      int64_t r = o * sp.inner + i, k = ((const int64_t *)b.Y.p)[r];
      wr(b.GX, (o * sp.len + k) * sp.inner + i, rd(b.G, r));
    }
  return bw_end(&b, grads);
}

static int rule_ext(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  if (lc_ctx_grad_enabled(ctx)) return recorded_rule(ctx, n, g, grads);
  return n->p.reduce.dim < 0 ? ext_all_rule(ctx, n, g, grads) : ext_dim_rule(ctx, n, g, grads);
}

static lc_tensor *ext_all(lc_ctx *ctx, lc_tensor *a, int is_min) {
  if (!check_nonempty(ctx, a, -1, is_min ? "min" : "max")) return NULL;
  return reduce(ctx, is_min ? RD_min : RD_max, a, -1, 0, 0.0, NULL);
}

lc_tensor *lc_max(lc_ctx *ctx, lc_tensor *a) { return ext_all(ctx, a, 0); }
lc_tensor *lc_min(lc_ctx *ctx, lc_tensor *a) { return ext_all(ctx, a, 1); }

static lc_status ext_dim(lc_ctx *ctx, lc_tensor *a, int dim, int keepdim, lc_tensor **values,
                         lc_tensor **indices, int is_min) {
  *values = *indices = NULL;
  if (!check_rdim(ctx, a, dim) || !check_nonempty(ctx, a, dim, is_min ? "min" : "max"))
    return ctx->status;
  lc_tensor *ix;
  lc_tensor *v = reduce(ctx, is_min ? RD_min : RD_max, a, dim, keepdim, 0.0, &ix);
  if (!v) return ctx->status;
  *values = v;
  *indices = ix;
  return LC_OK;
}

lc_status lc_max_dim(lc_ctx *ctx, lc_tensor *a, int dim, int keepdim, lc_tensor **values,
                     lc_tensor **indices) {
  return ext_dim(ctx, a, dim, keepdim, values, indices, 0);
}

lc_status lc_min_dim(lc_ctx *ctx, lc_tensor *a, int dim, int keepdim, lc_tensor **values,
                     lc_tensor **indices) {
  return ext_dim(ctx, a, dim, keepdim, values, indices, 1);
}

/* Only the indices: the values are computed and dropped, no graph. */
static lc_tensor *arg_ext(lc_ctx *ctx, lc_tensor *a, int dim, int keepdim, int is_min) {
  if (dim >= 0 && !check_rdim(ctx, a, dim)) return NULL;
  if (!check_nonempty(ctx, a, dim, is_min ? "argmin" : "argmax")) return NULL;
  lc_tensor *ix;
  lc_tensor *v = reduce(ctx, is_min ? RD_argmin : RD_argmax, a, dim, keepdim, 0.0, &ix);
  lc_tensor_release(v);
  return v ? ix : NULL;
}

lc_tensor *lc_argmax(lc_ctx *ctx, lc_tensor *a) { return arg_ext(ctx, a, -1, 0, 0); }
lc_tensor *lc_argmin(lc_ctx *ctx, lc_tensor *a) { return arg_ext(ctx, a, -1, 0, 1); }
lc_tensor *lc_argmax_dim(lc_ctx *ctx, lc_tensor *a, int dim, int keepdim) {
  return arg_ext(ctx, a, dim, keepdim, 0);
}
lc_tensor *lc_argmin_dim(lc_ctx *ctx, lc_tensor *a, int dim, int keepdim) {
  return arg_ext(ctx, a, dim, keepdim, 1);
}

/* ---- amax, amin ----------------------------------------------------------------------
 * max and min without indices: the gradient is shared evenly by the
 * elements equal to the result along dim (PyTorch's amax_backward: NaN
 * results give none), written with ops, so it records when asked. */

static int rule_amax(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  lc_tensor *x = n->inputs[0];
  int dim = n->p.reduce.dim;
  d_scope sc = {ctx, x->dtype, 0, {NULL}}, *s = &sc;
  lc_tensor *gk = kept(s, g, x, dim), *yk = kept(s, n->out, x, dim);
  lc_tensor *hit = d_bin(s, lc_eq, x, yk);
  grads[0] = lc__retained(d_mul(s, d_div(s, gk, sum_kept(s, hit, dim)), hit));
  d_end(s);
  return grads[0] != NULL;
}

static lc_tensor *amax_of(lc_ctx *ctx, lc_tensor *a, int dim, int keepdim, int is_min) {
  if (!check_nonempty(ctx, a, dim, is_min ? "amin" : "amax")) return NULL;
  return reduce(ctx, is_min ? RD_amin : RD_amax, a, dim, keepdim, 0.0, NULL);
}

lc_tensor *lc_amax(lc_ctx *ctx, lc_tensor *a) { return amax_of(ctx, a, -1, 0, 0); }
lc_tensor *lc_amin(lc_ctx *ctx, lc_tensor *a) { return amax_of(ctx, a, -1, 0, 1); }
lc_tensor *lc_amax_dim(lc_ctx *ctx, lc_tensor *a, int dim, int keepdim) {
  if (!check_rdim(ctx, a, dim)) return NULL;
  return amax_of(ctx, a, dim, keepdim, 0);
}
lc_tensor *lc_amin_dim(lc_ctx *ctx, lc_tensor *a, int dim, int keepdim) {
  if (!check_rdim(ctx, a, dim)) return NULL;
  return amax_of(ctx, a, dim, keepdim, 1);
}

/* ---- logsumexp ----------------------------------------------------------------------------- */

/* gx = g exp(x - y): the softmax of x along dim, from the saved result. */
static int rule_logsumexp(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  if (lc_ctx_grad_enabled(ctx)) return recorded_rule(ctx, n, g, grads);
  bw b;
  if (!bw_begin(ctx, n, g, &b, 0)) return bw_end(&b, grads);
  span sp = b.sp;
  FOR_SPAN(sp, {
    for (int64_t j = 0; j < sp.len; j++)
      for (int64_t c = 0; c < m; c++) {
        int64_t e = e0 + j * sp.inner + c;
        wr(b.GX, e, rd(b.G, r0 + c) * exp(rd(b.A, e) - rd(b.Y, r0 + c)));
      }
  })
  return bw_end(&b, grads);
}

lc_tensor *lc_logsumexp(lc_ctx *ctx, lc_tensor *a) {
  return reduce(ctx, RD_logsumexp, a, -1, 0, 0.0, NULL);
}

lc_tensor *lc_logsumexp_dim(lc_ctx *ctx, lc_tensor *a, int dim, int keepdim) {
  return reduce(ctx, RD_logsumexp, a, dim, keepdim, 0.0, NULL);
}

/* ---- norm ------------------------------------------------------------------------------------ */

static double sgn(double x) { return x > 0 ? 1.0 : x < 0 ? -1.0 : 0.0; }

/* PyTorch 1.13's norm_backward, case by case: a zero norm gives a zero
 * gradient (p >= 1), and p = inf shares the gradient among the elements
 * whose |x| equals the norm (or is NaN). */
static int rule_norm(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  if (lc_ctx_grad_enabled(ctx)) return recorded_rule(ctx, n, g, grads);
  bw b;
  if (!bw_begin(ctx, n, g, &b, 0)) return bw_end(&b, grads);
  span sp = b.sp;
  double p = n->p.reduce.p;
  FOR_SPAN(sp, {
    double k[CH];  /* per result: what multiplies the elementwise part */
    for (int64_t c = 0; c < m; c++) {
      double gv = rd(b.G, r0 + c), y = rd(b.Y, r0 + c);
      if (p == 1.0 || isinf(p)) k[c] = gv;
      else if (p == 2.0) k[c] = y == 0 ? 0.0 : gv / y;
      else if (p < 1.0) k[c] = gv * pow(y, 1.0 - p);
      else k[c] = y == 0 ? 0.0 : gv / pow(y, p - 1.0);
    }
    if (isinf(p)) {
      double cnt[CH];
      for (int64_t c = 0; c < m; c++) cnt[c] = 0.0;
      for (int64_t j = 0; j < sp.len; j++)
        for (int64_t c = 0; c < m; c++) {
          double ax = fabs(rd(b.A, e0 + j * sp.inner + c));
          cnt[c] += ax == rd(b.Y, r0 + c) || ax != ax;
        }
      for (int64_t c = 0; c < m; c++) k[c] /= cnt[c];
    }
    for (int64_t j = 0; j < sp.len; j++)
      for (int64_t c = 0; c < m; c++) {
        int64_t e = e0 + j * sp.inner + c;
        double x = rd(b.A, e), ax = fabs(x), d;
        if (p == 1.0) d = sgn(x);
        else if (p == 2.0) d = x;
        else if (isinf(p)) d = (ax == rd(b.Y, r0 + c) || ax != ax) ? sgn(x) : 0.0;
        else if (p < 1.0) d = x == 0 ? 0.0 : sgn(x) * pow(ax, p - 1.0);
        else if (p < 2.0) d = sgn(x) * pow(ax, p - 1.0);
        else d = x * pow(ax, p - 2.0);
        wr(b.GX, e, d * k[c]);
      }
  })
  return bw_end(&b, grads);
}


static int check_p(lc_ctx *ctx, double p) {
  if (p > 0) return 1;
  if (p != p) lc__fail(ctx, LC_EARG, "p must be positive (or inf), got nan");  /* not "-nan" */
  else lc__fail(ctx, LC_EARG, "p must be positive (or inf), got %g", p);
  return 0;
}

lc_tensor *lc_norm(lc_ctx *ctx, lc_tensor *a, double p) {
  if (!check_p(ctx, p)) return NULL;
  return reduce(ctx, RD_norm, a, -1, 0, p, NULL);
}

lc_tensor *lc_norm_dim(lc_ctx *ctx, lc_tensor *a, double p, int dim, int keepdim) {
  if (!check_p(ctx, p)) return NULL;
  return reduce(ctx, RD_norm, a, dim, keepdim, p, NULL);
}

/* ---- softmax, log_softmax ---------------------------------------------------------------------- */

/* From the saved output y: softmax gx = y (g - sum(g y)), log_softmax
 * gx = g - exp(y) sum(g), the sums along dim. */
static int rule_softmax(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  if (lc_ctx_grad_enabled(ctx)) return recorded_rule(ctx, n, g, grads);
  bw b;
  if (!bw_begin(ctx, n, g, &b, 0)) return bw_end(&b, grads);
  span sp = b.sp;
  int is_log = LC__OP(n) == RD_log_softmax;
  FOR_SPAN(sp, {
    double s[CH];
    for (int64_t c = 0; c < m; c++) s[c] = 0.0;
    for (int64_t j = 0; j < sp.len; j++)
      for (int64_t c = 0; c < m; c++) {
        int64_t e = e0 + j * sp.inner + c;
        s[c] += is_log ? rd(b.G, e) : rd(b.G, e) * rd(b.Y, e);
      }
    for (int64_t j = 0; j < sp.len; j++)
      for (int64_t c = 0; c < m; c++) {
        int64_t e = e0 + j * sp.inner + c;
        double gv = rd(b.G, e), y = rd(b.Y, e);
        wr(b.GX, e, is_log ? gv - exp(y) * s[c] : y * (gv - s[c]));
      }
  })
  return bw_end(&b, grads);
}

lc_tensor *lc_softmax(lc_ctx *ctx, lc_tensor *a, int dim) { return scan(ctx, RD_softmax, a, dim); }

lc_tensor *lc_log_softmax(lc_ctx *ctx, lc_tensor *a, int dim) {
  return scan(ctx, RD_log_softmax, a, dim);
}

/* The out= forms (reuse_buffers): the same kernel into a given tensor,
 * float inputs only, nothing recorded. */
static lc_status scan_out(lc_ctx *ctx, int op, lc_tensor *out, lc_tensor *a, int dim) {
  if (!lc_dtype_is_float(a->dtype))
    return lc__fail(ctx, LC_EARG, "out= needs a float input, got %s", lc_dtype_name(a->dtype));
  lc_tensor *in[1] = {a};
  if (!check_rdim(ctx, a, dim) || !lc__check_out(ctx, out, a->dtype, a->ndim, a->shape, 1, in))
    return ctx->status;
  for_blocks(RD[op].kernel, a, dim, lc_tensor_data(out), NULL, 1, 0.0);
  return LC_OK;
}

lc_status lc_softmax_out(lc_ctx *ctx, lc_tensor *out, lc_tensor *a, int dim) {
  return scan_out(ctx, RD_softmax, out, a, dim);
}

lc_status lc_log_softmax_out(lc_ctx *ctx, lc_tensor *out, lc_tensor *a, int dim) {
  return scan_out(ctx, RD_log_softmax, out, a, dim);
}

/* ---- cumsum ---------------------------------------------------------------------------------- */

/* gx_j = sum(g_k, k >= j): the running sum taken backwards. */
static int rule_cumsum(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  if (lc_ctx_grad_enabled(ctx)) return recorded_rule(ctx, n, g, grads);
  bw b;
  if (!bw_begin(ctx, n, g, &b, 0)) return bw_end(&b, grads);
  span sp = b.sp;
  FOR_SPAN(sp, {
    double s[CH];
    for (int64_t c = 0; c < m; c++) s[c] = 0.0;
    for (int64_t j = sp.len - 1; j >= 0; j--)
      for (int64_t c = 0; c < m; c++) {
        int64_t e = e0 + j * sp.inner + c;
        s[c] += rd(b.G, e);
        wr(b.GX, e, s[c]);
      }
  })
  return bw_end(&b, grads);
}

lc_tensor *lc_cumsum(lc_ctx *ctx, lc_tensor *a, int dim) { return scan(ctx, RD_cumsum, a, dim); }

/* ---- sum, mean ------------------------------------------------------------------------
 * kernels.c's sums, not a block kernel: they keep the summation order (and,
 * for float32 over an outer dim, the float32 accumulation) that the
 * results were always computed with. */

static lc_tensor *sum_all(lc_ctx *ctx, int op, lc_tensor *a) {
  if (!lc_dtype_is_float(a->dtype)) return int_input(ctx, op, a, -1, 0, 0.0, NULL);
  double s = lc__k_sum_all(a);
  if (op == RD_mean) s /= (double)a->numel;  /* 0/0 = nan for empty, as in PyTorch */
  return finish_row(ctx, lc_scalar(ctx, a->dtype, s), op, a, -1, 0, 0.0);
}

static lc_tensor *sum_dim(lc_ctx *ctx, int op, lc_tensor *a, int dim, int keepdim) {
  if (!lc_dtype_is_float(a->dtype)) return int_input(ctx, op, a, dim, keepdim, 0.0, NULL);
  if (!lc__check_dim(ctx, a, dim)) return NULL;
  int64_t shape[LC_MAX_DIMS];
  int k = 0;
  for (int i = 0; i < a->ndim; i++)
    if (i != dim) shape[k++] = a->shape[i];
  lc_tensor *out = lc_empty(ctx, a->dtype, a->ndim - 1, shape);
  if (!out) return NULL;
  lc__k_sum_dim(out, a, dim, op == RD_mean ? 1.0 / (double)a->shape[dim] : 1.0);
  if (keepdim && !(out = keep_view(ctx, out, a, dim))) return NULL;
  return finish_row(ctx, out, op, a, dim, keepdim, 0.0);
}

lc_tensor *lc_sum(lc_ctx *ctx, lc_tensor *a) { return sum_all(ctx, RD_sum, a); }
lc_tensor *lc_mean(lc_ctx *ctx, lc_tensor *a) { return sum_all(ctx, RD_mean, a); }

lc_tensor *lc_sum_dim(lc_ctx *ctx, lc_tensor *a, int dim, int keepdim) {
  return sum_dim(ctx, RD_sum, a, dim, keepdim);
}

lc_tensor *lc_mean_dim(lc_ctx *ctx, lc_tensor *a, int dim, int keepdim) {
  return sum_dim(ctx, RD_mean, a, dim, keepdim);
}

/* g spread back over a's shape: expanded (a view, no copy), with the reduced
 * dim put back as size 1 first; a mean's 1/n applied before. */
static int rule_sum(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  lc_tensor *a = n->inputs[0];
  int dim = n->p.reduce.dim, mean = LC__OP(n) == RD_mean;
  lc_tensor *k;
  if (dim < 0) {
    k = lc__retained(g);
    if (mean) k = lc__owned2(ctx, lc_mul, k, lc_scalar(ctx, g->dtype, 1.0 / (double)a->numel));
  } else {
    int64_t s[LC_MAX_DIMS];
    for (int i = 0; i < a->ndim; i++) s[i] = i == dim ? 1 : a->shape[i];
    k = lc_reshape(ctx, g, a->ndim, s);
    if (mean) k = lc__owned2(ctx, lc_mul, k, lc_scalar(ctx, g->dtype, 1.0 / (double)a->shape[dim]));
  }
  grads[0] = k ? lc_expand(ctx, k, a->ndim, a->shape) : NULL;
  lc_tensor_release(k);
  return 1;
}

/* ---- integer and bool inputs -------------------------------------------------------
 * As PyTorch: sum, prod and cumsum give int64, computed exactly (wrapping
 * past 2^63); max and min keep the dtype, and all indices are int64. Every
 * other reduction (mean, var, softmax, ...) computes integers in the
 * default float dtype. No integer result has a gradient, so none of this
 * records, except while tracing (lc__finish_nograd: nodes a plan replays). */

static int keeps_integers(int op) {
  return op == RD_sum || op == RD_prod || op == RD_cumsum || op == RD_max || op == RD_min ||
         op == RD_amax || op == RD_amin || op == RD_argmax || op == RD_argmin;
}

/* op over a contiguous int64 copy of a viewed as (outer, len, inner). */
/* op over c (contiguous int64) along dim (dim < 0: all elements), into y
 * (op's results, contiguous) and k (the extremes' positions); either may be
 * NULL when not wanted. */
static void int_reduce_into(int op, const lc_tensor *c, int dim, int64_t *y, int64_t *k) {
  int is_scan = op == RD_cumsum, is_ext = !is_scan && op != RD_sum && op != RD_prod;
  int is_min = op == RD_min || op == RD_amin || op == RD_argmin;
  span sp = span_of(c, dim);
  const int64_t *x = (const int64_t *)lc_tensor_data(c);
  for (int64_t o = 0; o < sp.outer; o++)
    for (int64_t i = 0; i < sp.inner; i++) {
      /* (no row at all over an empty dim: x may be NULL, and NULL + 0 is UB) */
      const int64_t *row = sp.len ? x + o * sp.len * sp.inner + i : NULL;
      uint64_t acc = op == RD_prod ? 1u : 0u;  /* unsigned: wraps, as int64 does in PyTorch */
      int64_t best = sp.len ? row[0] : 0, at = 0;
      for (int64_t j = 0; j < sp.len; j++) {
        int64_t v = row[j * sp.inner];
        if (is_ext) {
          if (is_min ? v < best : v > best) best = v, at = j;
        } else {
          acc = op == RD_prod ? acc * (uint64_t)v : acc + (uint64_t)v;
          if (is_scan && y) y[(o * sp.len + j) * sp.inner + i] = (int64_t)acc;
        }
      }
      if (is_scan) continue;
      if (y) y[o * sp.inner + i] = is_ext ? best : (int64_t)acc;
      if (k) k[o * sp.inner + i] = at;
    }
}

/* a as a contiguous int64 tensor (a itself, retained, when it is one) */
static lc_tensor *int64_copy(lc_ctx *ctx, lc_tensor *a) {
  if (a->dtype == LC_INT64) return lc__contig_raw(ctx, a);
  lc_tensor *c = lc_empty(ctx, LC_INT64, a->ndim, a->shape);
  if (c) lc__k_copy(c, a, a->strides);
  return c;
}

static lc_tensor *int_reduce(lc_ctx *ctx, int op, lc_tensor *a, int dim, int keepdim,
                             lc_tensor **idx) {
  if (dim >= 0 && !check_rdim(ctx, a, dim)) return NULL;
  int is_scan = op == RD_cumsum, is_ext = !is_scan && op != RD_sum && op != RD_prod;
  int is_min = op == RD_min || op == RD_amin || op == RD_argmin;
  lc_tensor *c = int64_copy(ctx, a);
  if (!c) return NULL;
  int64_t shape[LC_MAX_DIMS];
  int m = 0;
  for (int i = 0; i < a->ndim && dim >= 0; i++)
    if (i != dim || keepdim) shape[m++] = i == dim ? 1 : a->shape[i];
  lc_tensor *out = is_scan ? lc_empty(ctx, LC_INT64, a->ndim, a->shape)
                           : lc_empty(ctx, LC_INT64, m, shape);
  lc_tensor *ix = out && idx ? lc_empty(ctx, LC_INT64, m, shape) : NULL;
  if (!out || (idx && !ix)) {
    lc_tensor_release(c);
    lc_tensor_release(out);
    return NULL;
  }
  int_reduce_into(op, c, dim, (int64_t *)lc_tensor_data(out),
                  ix ? (int64_t *)lc_tensor_data(ix) : NULL);
  lc_tensor_release(c);
  /* while tracing, nodes of their own, so that a plan replays them
   * (argmax's values are dropped by the caller: no node) */
  lc_tensor *in[1] = {a};
  if (op != RD_argmax && op != RD_argmin) {
    if (!(out = lc__finish_nograd(ctx, out, &RD[op].d.def, 1, in))) {
      lc_tensor_release(ix);
      return NULL;
    }
    if (out->node) {
      out->node->p.reduce.dim = dim;
      out->node->p.reduce.keepdim = keepdim;
    }
  }
  const lc_op_def *idef = &RD[is_min ? RD_argmin : RD_argmax].d.def;
  if (ix && !(ix = lc__finish_nograd(ctx, ix, idef, 1, in))) {
    lc_tensor_release(out);
    return NULL;
  }
  if (ix && ix->node) {
    ix->node->p.reduce.dim = dim;
    ix->node->p.reduce.keepdim = keepdim;
  }
  if (is_ext && a->dtype != LC_INT64) {  /* max and min keep the dtype */
    lc_tensor *v = lc_to_dtype(ctx, out, a->dtype);
    lc_tensor_release(out);
    if (!(out = v)) {
      lc_tensor_release(ix);
      return NULL;
    }
  }
  if (idx) *idx = ix;
  return out;
}

static lc_tensor *int_input(lc_ctx *ctx, int op, lc_tensor *a, int dim, int keepdim, double p,
                            lc_tensor **idx) {
  if (keeps_integers(op)) return int_reduce(ctx, op, a, dim, keepdim, idx);
  lc_tensor *f = lc_to_dtype(ctx, a, ctx->default_dtype), *r = NULL;
  if (f && (op == RD_sum || op == RD_mean))
    r = dim < 0 ? sum_all(ctx, op, f) : sum_dim(ctx, op, f, dim, keepdim);
  else if (f && (op == RD_softmax || op == RD_log_softmax))
    r = scan(ctx, op, f, dim);
  else if (f)
    r = reduce(ctx, op, f, dim, keepdim, p, idx);
  lc_tensor_release(f);
  return r;
}

/* ---- replay (plan.c) ---------------------------------------------------------------- */

/* The forward's kernel again, into the node's output (a keepdim result is
 * a view with the reduced layout) and, for max and min over a dim, into the
 * indices the rule reads (saved[0]). */
static int replay_reduce(lc_ctx *ctx, lc_node *n) {
  int op = LC__OP(n), dim = n->p.reduce.dim;
  lc_tensor *a = n->inputs[0], *out = n->out;
  if (!lc_dtype_is_float(a->dtype)) {  /* int_reduce's: exact, over an int64 copy */
    lc_tensor *c = int64_copy(ctx, a);
    if (!c) return 0;
    int is_arg = op == RD_argmax || op == RD_argmin;
    int_reduce_into(op, c, dim, is_arg ? NULL : (int64_t *)lc_tensor_data(out),
                    is_arg ? (int64_t *)lc_tensor_data(out) : NULL);
    lc_tensor_release(c);
    return 1;
  }
  if (op == RD_sum || op == RD_mean) {
    if (dim < 0) {
      double s = lc__k_sum_all(a);
      if (op == RD_mean) s /= (double)a->numel;
      store(out->dtype, (char *)lc_tensor_data(out), 0, s);
      return 1;
    }
    lc_tensor h = *out;  /* out without the kept dim */
    h.ndim = a->ndim - 1;
    for (int i = 0, k = 0; i < a->ndim; i++)
      if (i != dim) h.shape[k++] = a->shape[i];
    lc__contig_strides(h.ndim, h.shape, h.strides);
    lc__k_sum_dim(&h, a, dim, op == RD_mean ? 1.0 / (double)a->shape[dim] : 1.0);
    return 1;
  }
  if (op == RD_softmax || op == RD_log_softmax || op == RD_cumsum) {
    for_blocks(RD[op].kernel, a, dim, lc_tensor_data(out), NULL, 1, 0.0);
    return 1;
  }
  lc_tensor flat, *hold;
  const lc_tensor *src = source(ctx, a, dim, &flat, &hold);
  if (!src) return 0;
  int is_arg = op == RD_argmax || op == RD_argmin;
  const lc_tensor *ix = is_arg ? out
                        : (op == RD_max || op == RD_min) && dim >= 0 ? n->saved[0] : NULL;
  for_blocks(RD[op].kernel, src, dim < 0 ? 0 : dim, is_arg ? NULL : lc_tensor_data(out),
             ix ? (int64_t *)lc_tensor_data(ix) : NULL, 0, n->p.reduce.p);
  lc_tensor_release(hold);
  return 1;
}

/* pool.c: pooling (the rows of pool.def) over the last two dims, as loops
 * over precomputed windows, each with its backward rule beside it.
 *
 * Every pool reduces, for each output (oh, ow) of a plane, the input taps
 * of the window rows wh[oh] x columns ww[ow]. A window per dim is computed
 * once per call (win), so max, average and adaptive pools share one loop
 * each for forward and backward, and PyTorch's edge rules (padding,
 * ceil_mode, count_include_pad) live in one place: make_windows. */
#include "internal.h"
#include "lc_pool.h"

#include <math.h>
#include <string.h>

static int rule_max_pool2d(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int rule_avg_pool2d(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int rule_max_unpool2d(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int rule_avg_pool2d_adjoint(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int rule_batch_norm(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int rule_interpolate(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int rule_interpolate_adjoint(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int replay_pool(lc_ctx *ctx, lc_node *n);

enum {
#define POOL(name, ...) PL_##name,
#define POOL_ADJOINT(name, ...) PL_##name,
#include "pool.def"
  PL_COUNT
};

static const lc__opdef PL[] = {
#define POOL(name, Bw, rule) [PL_##name] = {{#Bw "Backward", rule}, PL_##name, replay_pool},
#define POOL_ADJOINT(name, Bw, rule) [PL_##name] = {{#Bw "Backward", rule}, PL_##name, replay_pool},
#include "pool.def"
};
_Static_assert(sizeof PL / sizeof PL[0] == PL_COUNT, "a pool row without its table entry");

/* max_pool2d's indices (return_indices) in a trace: computed by the pool's
 * own step (the tensor is its node's saved[0]), so their step does nothing. */
static int replay_done(lc_ctx *ctx, lc_node *n) {
  (void)ctx;
  (void)n;
  return 1;
}
static const lc__opdef MAX_POOL_INDICES = {{"max_pool2d_indices", NULL, 0}, 0, replay_done};

lc_pool2d_opts lc_pool2d_defaults(int64_t kh, int64_t kw) {
  lc_pool2d_opts o;
  memset(&o, 0, sizeof o);
  o.kernel[0] = o.stride[0] = kh;
  o.kernel[1] = o.stride[1] = kw;
  o.dilation[0] = o.dilation[1] = 1;
  o.count_include_pad = 1;
  return o;
}

lc_pool2d_opts lc_pool2d_adaptive(int64_t oh, int64_t ow) {
  lc_pool2d_opts o = lc_pool2d_defaults(1, 1);
  o.adaptive = 1;
  o.out_size[0] = oh;
  o.out_size[1] = ow;
  return o;
}

/* ---- windows ------------------------------------------------------------------ */

/* What a rule needs to redo the windows: the options and both planes' sizes. */
typedef struct pool_info {
  lc_pool2d_opts o;
  int64_t in[2], out[2];  /* (H, W) and (OH, OW) */
} pool_info;

/* One window along one dim: taps lo, lo + step, ... below hi (all inside the
 * input); count is its share of an average's divisor with padding counted. */
typedef struct win {
  int64_t lo, hi, step, count;
} win;

static int64_t floor_div(int64_t a, int64_t b) {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* PyTorch's pooling_output_shape: with ceil_mode the last window must still
 * start inside the input or its left padding. */
static int64_t out_len(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d, int ceil_mode) {
  int64_t out = floor_div(in + 2 * p - d * (k - 1) - 1 + (ceil_mode ? s - 1 : 0), s) + 1;
  if (ceil_mode && (out - 1) * s >= in + p) out--;
  return out;
}

/* Checks x and the options, and fills pi's sizes. */
static int pool_plan(lc_ctx *ctx, const lc_tensor *x, const lc_pool2d_opts *o, int max,
                     pool_info *pi) {
  char sx[LC_SHAPE_STR];
  lc_shape_str(sx, sizeof sx, x->ndim, x->shape);
  if (!lc_dtype_is_float(x->dtype)) {
    lc__fail(ctx, LC_EARG, "needs a float tensor, got %s", lc_dtype_name(x->dtype));
    return 0;
  }
  if (x->ndim != 3 && x->ndim != 4) {
    lc__fail(ctx, LC_ESHAPE, "expected a 3-d or 4-d input (C, H, W) or (N, C, H, W), got %s", sx);
    return 0;
  }
  memset(pi, 0, sizeof *pi);
  pi->o = *o;
  for (int d = 0; d < 2; d++) {
    int64_t in = x->shape[x->ndim - 2 + d];
    pi->in[d] = in;
    if (o->adaptive) {
      if (o->out_size[d] < 0) {
        lc__fail(ctx, LC_EARG, "output_size must be non-negative, got %lld",
                 (long long)o->out_size[d]);
        return 0;
      }
      pi->out[d] = o->out_size[d];
      continue;
    }
    int64_t k = o->kernel[d], s = o->stride[d], p = o->padding[d], dl = max ? o->dilation[d] : 1;
    if (k <= 0 || s <= 0 || dl <= 0 || p < 0) {
      lc__fail(ctx, LC_EARG, "kernel_size, stride and dilation must be positive and padding "
               "non-negative, got kernel_size %lld, stride %lld, padding %lld, dilation %lld",
               (long long)k, (long long)s, (long long)p, (long long)dl);
      return 0;
    }
    if (p > k / 2) {
      lc__fail(ctx, LC_EARG, "padding should be at most half of kernel_size, got padding %lld "
               "and kernel_size %lld", (long long)p, (long long)k);
      return 0;
    }
    if (k > (INT64_MAX / 4) / dl || in > INT64_MAX / 4 || p > INT64_MAX / 8) {
      lc__fail(ctx, LC_EARG, "kernel_size, padding or dilation too large");
      return 0;
    }
    pi->out[d] = out_len(in, k, s, p, dl, o->ceil_mode);
  }
  for (int d = 0; d < 2; d++) {
    if (pi->out[d] < 1 && !(o->adaptive && pi->out[d] == 0)) {
      lc__fail(ctx, LC_ESHAPE, "input %s gives an output of size %lldx%lld: too small", sx,
               (long long)pi->out[0], (long long)pi->out[1]);
      return 0;
    }
    /* (padding can give an empty row windows: PyTorch refuses it too) */
    if (pi->in[d] == 0 && pi->out[d] > 0) {
      lc__fail(ctx, LC_ESHAPE, "input %s has an empty plane", sx);
      return 0;
    }
  }
  return 1;
}

/* The windows of both dims: w[0 .. out[0]) rows, then out[1] columns.
 * Max pooling steps by dilation and counts nothing; average pooling
 * counts the padding its window covers (PyTorch's pool_size). */
static win *make_windows(lc_ctx *ctx, const pool_info *pi, int max) {
  int64_t total = pi->out[0] + pi->out[1];
  win *w = lc__alloc(ctx, sizeof(win) * (size_t)(total > 0 ? total : 1));
  if (!w) return NULL;
  const lc_pool2d_opts *o = &pi->o;
  win *wd = w;
  for (int d = 0; d < 2; wd += pi->out[d], d++) {
    int64_t in = pi->in[d], n = pi->out[d];
    for (int64_t i = 0; i < n; i++) {
      win *v = &wd[i];
      v->step = 1;
      if (o->adaptive) {
        v->lo = (i * in) / n;
        v->hi = ((i + 1) * in + n - 1) / n;
        v->count = v->hi - v->lo;
      } else if (max) {
        int64_t dl = o->dilation[d], s = i * o->stride[d] - o->padding[d];
        int64_t e = s + (o->kernel[d] - 1) * dl + 1;
        while (s < 0) s += dl;
        v->lo = s;
        v->hi = e < in ? e : in;
        v->step = dl;
        v->count = 0;
      } else {
        int64_t s = i * o->stride[d] - o->padding[d], e = s + o->kernel[d];
        if (e > in + o->padding[d]) e = in + o->padding[d];
        v->count = e - s;
        v->lo = s > 0 ? s : 0;
        v->hi = e < in ? e : in;
      }
    }
  }
  return w;
}

static void free_windows(lc_ctx *ctx, win *w, const pool_info *pi) {
  int64_t total = pi->out[0] + pi->out[1];
  lc__free(ctx, w, sizeof(win) * (size_t)(total > 0 ? total : 1));
}

/* The divisor of an average over window (a, b). */
static double avg_divisor(const lc_pool2d_opts *o, const win *a, const win *b) {
  if (o->divisor_override) return (double)o->divisor_override;
  if (o->count_include_pad) return (double)(a->count * b->count);
  return (double)((a->hi - a->lo) * (b->hi - b->lo));
}

/* ---- kernels -------------------------------------------------------------------
 * P planes; x (P, H, W), y and ix (P, OH, OW), all contiguous. */

#define POOL_KERNELS(T, sfx)                                                               \
  /* ix_step 0: every index into ix[0], a scratch (the out= form keeps none) */          \
  static void max_fwd_##sfx(int64_t P, const int64_t *in, const int64_t *out, const win *wh, \
                            const win *ww, const T *x, T *y, int64_t *ix, int64_t ix_step) { \
    int64_t H = in[0], W = in[1], OH = out[0], OW = out[1];                                \
    for (int64_t p = 0; p < P; p++) {                                                      \
      const T *xp = x + p * H * W;                                                         \
      for (int64_t oh = 0; oh < OH; oh++)                                                  \
        for (int64_t ow = 0; ow < OW; ow++) {                                              \
          const win *a = &wh[oh], *b = &ww[ow];                                            \
          T best = -INFINITY;                                                              \
          /* a window wholly in the padding (dilation can skip every element)  \
           * has no maximum: -inf, and index -1, which the gradient skips */    \
          int64_t bi = a->lo < a->hi && b->lo < b->hi ? a->lo * W + b->lo : -1;            \
          for (int64_t h = a->lo; h < a->hi; h += a->step)                                 \
            for (int64_t w = b->lo; w < b->hi; w += b->step) {                             \
              T v = xp[h * W + w];                                                         \
              if (v > best || isnan(v)) {                                                  \
                best = v;                                                                  \
                bi = h * W + w;                                                            \
              }                                                                            \
            }                                                                              \
          int64_t k = (p * OH + oh) * OW + ow;                                             \
          y[k] = best;                                                                     \
          ix[k * ix_step] = bi;                                                            \
        }                                                                                  \
    }                                                                                      \
  }                                                                                        \
  /* gx (P, H, W) += g (P, OH, OW) sent to the positions in ix */                          \
  static void max_bwd_##sfx(int64_t P, const int64_t *in, const int64_t *out, const T *g,   \
                            const int64_t *ix, T *gx) {                                    \
    int64_t HW = in[0] * in[1], OHW = out[0] * out[1];                                     \
    for (int64_t p = 0; p < P; p++)                                                        \
      for (int64_t k = 0; k < OHW; k++)                                                    \
        if (ix[p * OHW + k] >= 0) gx[p * HW + ix[p * OHW + k]] += g[p * OHW + k];          \
  }                                                                                        \
  static void avg_fwd_##sfx(int64_t P, const pool_info *pi, const win *wh, const win *ww,   \
                            const T *x, T *y) {                                            \
    int64_t H = pi->in[0], W = pi->in[1], OH = pi->out[0], OW = pi->out[1];                \
    for (int64_t p = 0; p < P; p++) {                                                      \
      const T *xp = x + p * H * W;                                                         \
      for (int64_t oh = 0; oh < OH; oh++)                                                  \
        for (int64_t ow = 0; ow < OW; ow++) {                                              \
          const win *a = &wh[oh], *b = &ww[ow];                                            \
          T s = 0;                                                                         \
          if (a->lo < a->hi && b->lo < b->hi) {                                            \
            for (int64_t h = a->lo; h < a->hi; h++)                                        \
              for (int64_t w = b->lo; w < b->hi; w++) s += xp[h * W + w];                  \
            s = s / (T)avg_divisor(&pi->o, a, b);                                          \
          }                                                                                \
          y[(p * OH + oh) * OW + ow] = s;                                                  \
        }                                                                                  \
    }                                                                                      \
  }                                                                                        \
  /* the adjoint: gx (P, H, W) gets g (P, OH, OW) spread over each window */              \
  static void avg_adj_##sfx(int64_t P, const pool_info *pi, const win *wh, const win *ww,   \
                            const T *g, T *gx) {                                           \
    int64_t H = pi->in[0], W = pi->in[1], OH = pi->out[0], OW = pi->out[1];                \
    for (int64_t p = 0; p < P; p++) {                                                      \
      T *gp = gx + p * H * W;                                                              \
      for (int64_t oh = 0; oh < OH; oh++)                                                  \
        for (int64_t ow = 0; ow < OW; ow++) {                                              \
          const win *a = &wh[oh], *b = &ww[ow];                                            \
          if (a->lo >= a->hi || b->lo >= b->hi) continue;                                  \
          T v = g[(p * OH + oh) * OW + ow] / (T)avg_divisor(&pi->o, a, b);                 \
          for (int64_t h = a->lo; h < a->hi; h++)                                          \
            for (int64_t w = b->lo; w < b->hi; w++) gp[h * W + w] += v;                    \
        }                                                                                  \
    }                                                                                      \
  }                                                                                        \
  /* y (P, OH, OW) at ix (P, h, w) gets x (P, h, w) (y zeroed before) */                   \
  static void unpool_fwd_##sfx(int64_t P, int64_t hw, int64_t ohw, const T *x,              \
                               const int64_t *ix, T *y) {                                  \
    for (int64_t p = 0; p < P; p++)                                                        \
      for (int64_t k = 0; k < hw; k++) y[p * ohw + ix[p * hw + k]] = x[p * hw + k];         \
  }                                                                                        \
  static void unpool_bwd_##sfx(int64_t P, int64_t hw, int64_t ohw, const T *g,              \
                               const int64_t *ix, T *gx) {                                 \
    for (int64_t p = 0; p < P; p++)                                                        \
      for (int64_t k = 0; k < hw; k++) gx[p * hw + k] = g[p * ohw + ix[p * hw + k]];        \
  }

POOL_KERNELS(float, f32)
POOL_KERNELS(double, f64)

/* ---- ops ------------------------------------------------------------------------- */

static void info_free(lc_ctx *ctx, void *u) { lc__free(ctx, u, sizeof(pool_info)); }
/* lc__finish, keeping a copy of the op's size bytes of info in the node for
 * the rule (user_free frees that many). */
static lc_tensor *finish_info(lc_ctx *ctx, lc_tensor *out, int op, int n, lc_tensor **in,
                              const void *info, size_t size,
                              void (*user_free)(lc_ctx *ctx, void *u)) {
  out = lc__finish(ctx, out, &PL[op].def, n, in);
  if (out && out->node) {
    void *u = lc__alloc(ctx, size);
    if (!u) {
      lc_tensor_release(out);
      return NULL;
    }
    memcpy(u, info, size);
    out->node->user = u;
    out->node->user_free = user_free;
  }
  return out;
}

static lc_tensor *pool_finish(lc_ctx *ctx, lc_tensor *out, int op, lc_tensor *in,
                              const pool_info *pi) {
  return finish_info(ctx, out, op, 1, &in, pi, sizeof *pi, info_free);
}

/* a's shape with its last two dims replaced by sz. */
static void plane_shape(const lc_tensor *a, const int64_t *sz, int64_t *shape, int64_t *planes) {
  memcpy(shape, a->shape, sizeof(int64_t) * (size_t)a->ndim);
  shape[a->ndim - 2] = sz[0];
  shape[a->ndim - 1] = sz[1];
  *planes = 1;
  for (int i = 0; i < a->ndim - 2; i++) *planes *= a->shape[i];
}

lc_tensor *lc_max_pool2d(lc_ctx *ctx, lc_tensor *x, const lc_pool2d_opts *o,
                         lc_tensor **indices) {
  pool_info pi;
  if (indices) *indices = NULL;
  if (!pool_plan(ctx, x, o, 1, &pi)) return NULL;
  int64_t shape[LC_MAX_DIMS], planes;
  plane_shape(x, pi.out, shape, &planes);
  lc_tensor *xc = lc__contig_raw(ctx, x);
  lc_tensor *y = xc ? lc_empty(ctx, x->dtype, x->ndim, shape) : NULL;
  lc_tensor *ix = y ? lc_empty(ctx, LC_INT64, x->ndim, shape) : NULL;
  win *w = ix ? make_windows(ctx, &pi, 1) : NULL;
  if (w && y->numel > 0) {
    if (x->dtype == LC_FLOAT32)
      max_fwd_f32(planes, pi.in, pi.out, w, w + pi.out[0], lc_tensor_data(xc), lc_tensor_data(y),
                  lc_tensor_data(ix), 1);
    else
      max_fwd_f64(planes, pi.in, pi.out, w, w + pi.out[0], lc_tensor_data(xc), lc_tensor_data(y),
                  lc_tensor_data(ix), 1);
  }
  if (w) free_windows(ctx, w, &pi);
  lc_tensor_release(xc);
  if (!w) {
    lc_tensor_release(y);
    lc_tensor_release(ix);
    return NULL;
  }
  y = pool_finish(ctx, y, PL_max_pool2d, x, &pi);
  /* indices given back while tracing get a node reading y (below): the rule
   * keeps a view of them, since ix itself would close a cycle y -> node ->
   * ix -> node -> y that no release could free */
  if (y && y->node &&
      !(y->node->saved[0] = indices && ctx->trace ? lc__detach(ctx, ix) : lc__retained(ix))) {
    lc_tensor_release(y);
    y = NULL;
  }
  if (!y) {
    lc_tensor_release(ix);
    return NULL;
  }
  if (indices) {
    /* while tracing, a node of their own reading y, for a plan to know the
     * pool's step makes them (its replay writes them: saved[0]) */
    lc_tensor *in[1] = {y};
    if (!(*indices = lc__finish_nograd(ctx, ix, &MAX_POOL_INDICES.def, 1, in))) {
      lc_tensor_release(y);
      return NULL;
    }
  } else {
    lc_tensor_release(ix);
  }
  return y;
}

/* avg_pool2d's forward for a checked plan. */
static lc_tensor *avg_forward(lc_ctx *ctx, lc_tensor *x, const pool_info *pi) {
  int64_t shape[LC_MAX_DIMS], planes;
  plane_shape(x, pi->out, shape, &planes);
  lc_tensor *xc = lc__contig_raw(ctx, x);
  lc_tensor *y = xc ? lc_empty(ctx, x->dtype, x->ndim, shape) : NULL;
  win *w = y ? make_windows(ctx, pi, 0) : NULL;
  if (w && y->numel > 0) {
    if (x->dtype == LC_FLOAT32)
      avg_fwd_f32(planes, pi, w, w + pi->out[0], lc_tensor_data(xc), lc_tensor_data(y));
    else
      avg_fwd_f64(planes, pi, w, w + pi->out[0], lc_tensor_data(xc), lc_tensor_data(y));
  }
  if (w) free_windows(ctx, w, pi);
  lc_tensor_release(xc);
  if (!w) {
    lc_tensor_release(y);
    return NULL;
  }
  return pool_finish(ctx, y, PL_avg_pool2d, x, pi);
}

lc_tensor *lc_avg_pool2d(lc_ctx *ctx, lc_tensor *x, const lc_pool2d_opts *o) {
  pool_info pi;
  if (!pool_plan(ctx, x, o, 0, &pi)) return NULL;
  return avg_forward(ctx, x, &pi);
}

/* The out= forms (reuse_buffers): the forward kernels into out, no indices,
 * nothing recorded; only the windows are allocated, and freed. */
static int pool_into(lc_ctx *ctx, lc_tensor *out, const lc_tensor *xc, const pool_info *pi,
                     int64_t planes, int max) {
  win *w = make_windows(ctx, pi, max);
  if (!w) return 0;
  if (out->numel > 0) {
    const win *wh = w, *ww = w + pi->out[0];
    int f32 = xc->dtype == LC_FLOAT32;
    void *xd = lc_tensor_data(xc), *yd = lc_tensor_data(out);
    int64_t scratch = 0;
    if (max && f32) max_fwd_f32(planes, pi->in, pi->out, wh, ww, xd, yd, &scratch, 0);
    else if (max) max_fwd_f64(planes, pi->in, pi->out, wh, ww, xd, yd, &scratch, 0);
    else if (f32) avg_fwd_f32(planes, pi, wh, ww, xd, yd);
    else avg_fwd_f64(planes, pi, wh, ww, xd, yd);
  }
  free_windows(ctx, w, pi);
  return 1;
}

static lc_status pool_out(lc_ctx *ctx, lc_tensor *out, lc_tensor *x, const lc_pool2d_opts *o,
                          int max) {
  pool_info pi;
  if (!pool_plan(ctx, x, o, max, &pi)) return ctx->status;
  int64_t shape[LC_MAX_DIMS], planes;
  plane_shape(x, pi.out, shape, &planes);
  lc_tensor *inputs[1] = {x};
  if (!lc__check_out(ctx, out, x->dtype, x->ndim, shape, 1, inputs)) return ctx->status;
  lc_tensor *xc = lc__contig_raw(ctx, x);
  int ok = xc && pool_into(ctx, out, xc, &pi, planes, max);
  lc_tensor_release(xc);
  return ok ? LC_OK : ctx->status;
}

lc_status lc_max_pool2d_out(lc_ctx *ctx, lc_tensor *out, lc_tensor *x, const lc_pool2d_opts *o) {
  return pool_out(ctx, out, x, o, 1);
}

lc_status lc_avg_pool2d_out(lc_ctx *ctx, lc_tensor *out, lc_tensor *x, const lc_pool2d_opts *o) {
  return pool_out(ctx, out, x, o, 0);
}

/* The adjoint of avg_pool2d: g (..., OH, OW) -> (..., H, W); recorded, so
 * that avg_pool2d's gradient has a gradient of its own. */
static lc_tensor *avg_adjoint(lc_ctx *ctx, lc_tensor *g, const pool_info *pi) {
  int64_t shape[LC_MAX_DIMS], planes;
  plane_shape(g, pi->in, shape, &planes);
  lc_tensor *gc = lc__contig_raw(ctx, g);
  lc_tensor *gx = gc ? lc_zeros(ctx, g->dtype, g->ndim, shape) : NULL;
  win *w = gx ? make_windows(ctx, pi, 0) : NULL;
  if (w && g->numel > 0) {
    if (g->dtype == LC_FLOAT32)
      avg_adj_f32(planes, pi, w, w + pi->out[0], lc_tensor_data(gc), lc_tensor_data(gx));
    else
      avg_adj_f64(planes, pi, w, w + pi->out[0], lc_tensor_data(gc), lc_tensor_data(gx));
  }
  if (w) free_windows(ctx, w, pi);
  lc_tensor_release(gc);
  if (!w) {
    lc_tensor_release(gx);
    return NULL;
  }
  return pool_finish(ctx, gx, PL_avg_pool2d_adjoint, g, pi);
}

lc_tensor *lc_max_unpool2d(lc_ctx *ctx, lc_tensor *x, lc_tensor *indices, int64_t oh, int64_t ow) {
  char sx[LC_SHAPE_STR];
  lc_shape_str(sx, sizeof sx, x->ndim, x->shape);
  if (!lc_dtype_is_float(x->dtype)) {
    lc__fail(ctx, LC_EARG, "needs a float tensor, got %s", lc_dtype_name(x->dtype));
    return NULL;
  }
  if (x->ndim != 3 && x->ndim != 4) {
    lc__fail(ctx, LC_ESHAPE, "expected a 3-d or 4-d input (C, H, W) or (N, C, H, W), got %s", sx);
    return NULL;
  }
  int same = indices->dtype == LC_INT64 && indices->ndim == x->ndim;
  for (int i = 0; same && i < x->ndim; i++) same = indices->shape[i] == x->shape[i];
  if (!same) {
    lc__fail_shapes(ctx, "indices must be an int64 tensor of the input's shape %s, got %s", x,
                    indices);
    return NULL;
  }
  if (oh < 1 || ow < 1 || oh > INT64_MAX / 2 / ow) {
    lc__fail(ctx, LC_EARG, "invalid output size %lldx%lld", (long long)oh, (long long)ow);
    return NULL;
  }
  pool_info pi;
  memset(&pi, 0, sizeof pi);
  pi.in[0] = x->shape[x->ndim - 2];
  pi.in[1] = x->shape[x->ndim - 1];
  pi.out[0] = oh;
  pi.out[1] = ow;
  int64_t shape[LC_MAX_DIMS], planes;
  plane_shape(x, pi.out, shape, &planes);
  lc_tensor *xc = lc__contig_raw(ctx, x);
  lc_tensor *ic = xc ? lc__contig_raw(ctx, indices) : NULL;
  lc_tensor *y = ic ? lc_zeros(ctx, x->dtype, x->ndim, shape) : NULL;
  int ok = y != NULL;
  if (ok && x->numel > 0) {
    const int64_t *iv = lc_tensor_data(ic);
    for (int64_t k = 0; k < x->numel; k++) {
      if (iv[k] < 0 || iv[k] >= oh * ow) {
        lc__fail(ctx, LC_EARG, "found an invalid index %lld (1-based) for an output plane of "
                 "%lld elements (%lldx%lld)", (long long)iv[k] + 1, (long long)(oh * ow),
                 (long long)oh, (long long)ow);
        ok = 0;
        break;
      }
    }
    int64_t hw = pi.in[0] * pi.in[1];
    if (ok && x->dtype == LC_FLOAT32)
      unpool_fwd_f32(planes, hw, oh * ow, lc_tensor_data(xc), iv, lc_tensor_data(y));
    else if (ok)
      unpool_fwd_f64(planes, hw, oh * ow, lc_tensor_data(xc), iv, lc_tensor_data(y));
  }
  lc_tensor_release(xc);
  if (!ok) {
    lc_tensor_release(ic);
    lc_tensor_release(y);
    return NULL;
  }
  /* the indices are one more input while tracing, so that a plan knows where
   * they come from; the rule reads the copy the node keeps */
  lc_tensor *in[2] = {x, indices};
  y = finish_info(ctx, y, PL_max_unpool2d, ctx->trace ? 2 : 1, in, &pi, sizeof pi, info_free);
  if (y && y->node) y->node->saved[0] = lc__retained(ic);
  lc_tensor_release(ic);
  return y;
}

/* ---- rules ------------------------------------------------------------------------- */

/* g goes to where each maximum came from. With create_graph, as a recorded
 * scatter_add over the flattened planes (whose gradient gathers). */
static int rule_max_pool2d(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  lc_tensor *x = n->inputs[0], *ix = n->saved[0];
  const pool_info *pi = n->user;
  int64_t planes = 1;
  for (int i = 0; i < x->ndim - 2; i++) planes *= x->shape[i];
  if (lc_ctx_grad_enabled(ctx)) {
    int64_t fo[2] = {planes, pi->out[0] * pi->out[1]}, fi[2] = {planes, pi->in[0] * pi->in[1]};
    d_scope sc = {ctx, x->dtype, 0, {NULL}}, *s = &sc;
    lc_tensor *g2 = d_keep(s, lc_reshape(ctx, g, 2, fo));
    lc_tensor *i2 = d_keep(s, lc_reshape(ctx, ix, 2, fo));
    lc_tensor *z = d_keep(s, lc_zeros(ctx, x->dtype, 2, fi));
    /* a window without elements (index -1) sends nothing: its g to index 0, zeroed */
    lc_tensor *zi = d_keep(s, lc_scalar(ctx, LC_INT64, 0));
    lc_tensor *none = i2 && zi ? d_keep(s, lc_lt(ctx, i2, zi)) : NULL;
    if (none) {
      g2 = d_keep(s, lc_masked_fill(ctx, g2, none, 0.0));
      i2 = g2 ? d_keep(s, lc_masked_fill(ctx, i2, none, 0.0)) : NULL;
    }
    lc_tensor *r = g2 && i2 && z ? d_keep(s, lc_scatter_add(ctx, z, 1, i2, g2)) : NULL;
    grads[0] = r ? lc_reshape(ctx, r, x->ndim, x->shape) : NULL;
    d_end(s);
    return grads[0] != NULL;
  }
  lc_tensor *gc = lc__contig_raw(ctx, g);
  lc_tensor *gx = gc ? lc_zeros(ctx, x->dtype, x->ndim, x->shape) : NULL;
  if (gx && g->numel > 0) {
    if (x->dtype == LC_FLOAT32)
      max_bwd_f32(planes, pi->in, pi->out, lc_tensor_data(gc), lc_tensor_data(ix),
                  lc_tensor_data(gx));
    else
      max_bwd_f64(planes, pi->in, pi->out, lc_tensor_data(gc), lc_tensor_data(ix),
                  lc_tensor_data(gx));
  }
  lc_tensor_release(gc);
  grads[0] = gx;
  return gx != NULL;
}

static int rule_avg_pool2d(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  grads[0] = avg_adjoint(ctx, g, n->user);
  return grads[0] != NULL;
}

/* The adjoint's adjoint is the pool itself. */
static int rule_avg_pool2d_adjoint(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  grads[0] = avg_forward(ctx, g, n->user);
  return grads[0] != NULL;
}

/* Each input element gets g where it was put; with create_graph, a recorded
 * gather over the flattened planes. */
static int rule_max_unpool2d(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  lc_tensor *x = n->inputs[0], *ix = n->saved[0];
  const pool_info *pi = n->user;
  int64_t planes = 1, hw = pi->in[0] * pi->in[1], ohw = pi->out[0] * pi->out[1];
  for (int i = 0; i < x->ndim - 2; i++) planes *= x->shape[i];
  if (lc_ctx_grad_enabled(ctx)) {
    d_scope sc = {ctx, x->dtype, 0, {NULL}}, *s = &sc;
    lc_tensor *g2 = d_keep(s, lc_reshape(ctx, g, 2, (int64_t[]){planes, ohw}));
    lc_tensor *i2 = d_keep(s, lc_reshape(ctx, ix, 2, (int64_t[]){planes, hw}));
    lc_tensor *r = g2 && i2 ? d_keep(s, lc_gather(ctx, g2, 1, i2)) : NULL;
    grads[0] = r ? lc_reshape(ctx, r, x->ndim, x->shape) : NULL;
    d_end(s);
    return grads[0] != NULL;
  }
  lc_tensor *gc = lc__contig_raw(ctx, g);
  lc_tensor *gx = gc ? lc_empty(ctx, x->dtype, x->ndim, x->shape) : NULL;
  if (gx && x->numel > 0) {
    if (x->dtype == LC_FLOAT32)
      unpool_bwd_f32(planes, hw, ohw, lc_tensor_data(gc), lc_tensor_data(ix), lc_tensor_data(gx));
    else
      unpool_bwd_f64(planes, hw, ohw, lc_tensor_data(gc), lc_tensor_data(ix), lc_tensor_data(gx));
  }
  lc_tensor_release(gc);
  grads[0] = gx;
  return gx != NULL;
}

/* ---- interpolate ------------------------------------------------------------------
 * Output position o of a dim reads taps i0 and i1 of the input with weights
 * w0 and w1 (nearest: i0 = i1, w1 = 0), so forward and adjoint are one
 * loop each over a table per dim, as the pools'. */

typedef struct interp_info {
  lc_interp_opts o;
  int64_t in[2], out[2];
} interp_info;
static void interp_info_free(lc_ctx *ctx, void *u) { lc__free(ctx, u, sizeof(interp_info)); }

typedef struct tap {
  int64_t i0, i1;
  double w0, w1;
} tap;

/* PyTorch's indices and weights for dim d, in float arithmetic for float32
 * inputs as PyTorch's CPU kernels compute them (in double for float64). */
static void make_taps(const interp_info *ii, int d, int f32, tap *t) {
  int64_t in = ii->in[d], out = ii->out[d];
  double sf = ii->o.scale_factor[d];
  for (int64_t o = 0; o < out; o++) {
    tap *v = &t[o];
    if (ii->o.mode == LC_INTERP_NEAREST) {
      int64_t i;
      if (out == in) {
        i = o;
      } else if (out == 2 * in) {
        i = o / 2;
      } else {
        float scale = sf > 0 ? (float)(1.0 / sf) : (float)in / (float)out;
        i = (int64_t)floorf((float)o * scale);
        if (i > in - 1) i = in - 1;
      }
      v->i0 = v->i1 = i;
      v->w0 = 1;
      v->w1 = 0;
      continue;
    }
    if (f32) {
      float scale = ii->o.align_corners ? (out > 1 ? (float)(in - 1) / (float)(out - 1) : 0.0f)
                                        : (sf > 0 ? (float)(1.0 / sf) : (float)in / (float)out);
      float s = ii->o.align_corners ? scale * (float)o : scale * ((float)o + 0.5f) - 0.5f;
      float lo = s < 0 ? 0.0f : s;
      int64_t i0 = (int64_t)lo;
      float l1 = lo - (float)i0;
      v->i0 = i0;
      v->w1 = l1 < 0 ? 0 : l1 > 1 ? 1 : l1;
      v->w0 = 1.0f - (float)v->w1;
    } else {
      double scale = ii->o.align_corners ? (out > 1 ? (double)(in - 1) / (double)(out - 1) : 0.0)
                                         : (sf > 0 ? 1.0 / sf : (double)in / (double)out);
      double s = ii->o.align_corners ? scale * (double)o : scale * ((double)o + 0.5) - 0.5;
      double src = s < 0 ? 0 : s;
      v->i0 = (int64_t)src;
      double l1 = src - (double)v->i0;
      v->w1 = l1 < 0 ? 0 : l1 > 1 ? 1 : l1;
      v->w0 = 1 - v->w1;
    }
    v->i1 = v->i0 + (v->i0 < in - 1 ? 1 : 0);
  }
}

#define INTERP_KERNELS(T, sfx)                                                             \
  static void interp_fwd_##sfx(int64_t P, const interp_info *ii, const tap *th,            \
                               const tap *tw, const T *x, T *y) {                          \
    int64_t H = ii->in[0], W = ii->in[1], OH = ii->out[0], OW = ii->out[1];                \
    for (int64_t p = 0; p < P; p++) {                                                      \
      const T *xp = x + p * H * W;                                                         \
      for (int64_t oh = 0; oh < OH; oh++) {                                                \
        const tap *a = &th[oh];                                                            \
        const T *r0 = xp + a->i0 * W, *r1 = xp + a->i1 * W;                                \
        for (int64_t ow = 0; ow < OW; ow++) {                                              \
          const tap *b = &tw[ow];                                                          \
          T v = (T)a->w0 * ((T)b->w0 * r0[b->i0] + (T)b->w1 * r0[b->i1]) +                 \
                (T)a->w1 * ((T)b->w0 * r1[b->i0] + (T)b->w1 * r1[b->i1]);                  \
          y[(p * OH + oh) * OW + ow] = v;                                                  \
        }                                                                                  \
      }                                                                                    \
    }                                                                                      \
  }                                                                                        \
  static void interp_adj_##sfx(int64_t P, const interp_info *ii, const tap *th,            \
                               const tap *tw, const T *g, T *gx) {                         \
    int64_t H = ii->in[0], W = ii->in[1], OH = ii->out[0], OW = ii->out[1];                \
    for (int64_t p = 0; p < P; p++) {                                                      \
      T *gp = gx + p * H * W;                                                              \
      for (int64_t oh = 0; oh < OH; oh++) {                                                \
        const tap *a = &th[oh];                                                            \
        T *r0 = gp + a->i0 * W, *r1 = gp + a->i1 * W;                                      \
        for (int64_t ow = 0; ow < OW; ow++) {                                              \
          const tap *b = &tw[ow];                                                          \
          T v = g[(p * OH + oh) * OW + ow];                                                \
          r0[b->i0] += (T)a->w0 * (T)b->w0 * v;                                            \
          r0[b->i1] += (T)a->w0 * (T)b->w1 * v;                                            \
          r1[b->i0] += (T)a->w1 * (T)b->w0 * v;                                            \
          r1[b->i1] += (T)a->w1 * (T)b->w1 * v;                                            \
        }                                                                                  \
      }                                                                                    \
    }                                                                                      \
  }

INTERP_KERNELS(float, f32)
INTERP_KERNELS(double, f64)


/* forward (adjoint = 0): x (..., in) -> (..., out); adjoint: g (..., out) -> (..., in) */
static lc_tensor *interp_run(lc_ctx *ctx, lc_tensor *a, const interp_info *ii, int adjoint) {
  int64_t shape[LC_MAX_DIMS], planes;
  plane_shape(a, adjoint ? ii->in : ii->out, shape, &planes);
  lc_tensor *ac = lc__contig_raw(ctx, a);
  lc_tensor *r = ac ? (adjoint ? lc_zeros : lc_empty)(ctx, a->dtype, a->ndim, shape) : NULL;
  int64_t n = ii->out[0] + ii->out[1];
  tap *t = r ? lc__alloc(ctx, sizeof(tap) * (size_t)(n > 0 ? n : 1)) : NULL;
  if (t) {
    int f32 = a->dtype == LC_FLOAT32;
    make_taps(ii, 0, f32, t);
    make_taps(ii, 1, f32, t + ii->out[0]);
    if (a->numel > 0 && r->numel > 0) {
      if (f32 && !adjoint)
        interp_fwd_f32(planes, ii, t, t + ii->out[0], lc_tensor_data(ac), lc_tensor_data(r));
      else if (f32)
        interp_adj_f32(planes, ii, t, t + ii->out[0], lc_tensor_data(ac), lc_tensor_data(r));
      else if (!adjoint)
        interp_fwd_f64(planes, ii, t, t + ii->out[0], lc_tensor_data(ac), lc_tensor_data(r));
      else
        interp_adj_f64(planes, ii, t, t + ii->out[0], lc_tensor_data(ac), lc_tensor_data(r));
    }
    lc__free(ctx, t, sizeof(tap) * (size_t)(n > 0 ? n : 1));
  }
  lc_tensor_release(ac);
  if (!t) {
    lc_tensor_release(r);
    return NULL;
  }
  return finish_info(ctx, r, adjoint ? PL_interpolate_adjoint : PL_interpolate, 1, &a, ii, sizeof *ii,
                     interp_info_free);
}

lc_tensor *lc_interpolate(lc_ctx *ctx, lc_tensor *x, const lc_interp_opts *o) {
  char sx[LC_SHAPE_STR];
  lc_shape_str(sx, sizeof sx, x->ndim, x->shape);
  if (!lc_dtype_is_float(x->dtype)) {
    lc__fail(ctx, LC_EARG, "needs a float tensor, got %s", lc_dtype_name(x->dtype));
    return NULL;
  }
  if (x->ndim != 3 && x->ndim != 4) {
    lc__fail(ctx, LC_ESHAPE, "expected a 3-d or 4-d input (C, H, W) or (N, C, H, W), got %s", sx);
    return NULL;
  }
  interp_info ii;
  memset(&ii, 0, sizeof ii);
  ii.o = *o;
  for (int d = 0; d < 2; d++) {
    ii.in[d] = x->shape[x->ndim - 2 + d];
    ii.out[d] = o->out_size[d];
    if (ii.out[d] < 1 || ii.out[d] > INT64_MAX / 4) {
      lc__fail(ctx, LC_EARG, "input %s gives an output of size %lldx%lld: too small", sx,
               (long long)o->out_size[0], (long long)o->out_size[1]);
      return NULL;
    }
    if (ii.in[d] < 1) {
      lc__fail(ctx, LC_ESHAPE, "input %s has an empty plane", sx);
      return NULL;
    }
  }
  return interp_run(ctx, x, &ii, 0);
}

static int rule_interpolate(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  grads[0] = interp_run(ctx, g, n->user, 1);
  return grads[0] != NULL;
}

static int rule_interpolate_adjoint(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  grads[0] = interp_run(ctx, g, n->user, 0);
  return grads[0] != NULL;
}

/* ---- batch norm ---------------------------------------------------------------------
 * x (N, C, S) with S the product of the dims after C; statistics per c over
 * (N, S), summed in double. The node keeps mean and invstd (C) in saved. */

typedef struct bn_info {
  int training, has_w, has_b;
  double eps;
} bn_info;

#define BN_KERNELS(T, sfx)                                                                 \
  static void bn_fwd_##sfx(int64_t N, int64_t C, int64_t S, const T *x, const T *w,        \
                           const T *b, const T *rm, const T *rv, int training, double eps, \
                           T *y, T *mean, T *var, T *invstd) {                             \
    int64_t M = N * S;                                                                     \
    for (int64_t c = 0; c < C; c++) {                                                      \
      double mu, v;                                                                        \
      if (training) {                                                                      \
        double s1 = 0, s2 = 0;                                                             \
        for (int64_t n = 0; n < N; n++)                                                    \
          for (int64_t k = 0; k < S; k++) s1 += x[(n * C + c) * S + k];                    \
        mu = M > 0 ? s1 / (double)M : 0;                                                   \
        for (int64_t n = 0; n < N; n++)                                                    \
          for (int64_t k = 0; k < S; k++) {                                                \
            double d = x[(n * C + c) * S + k] - mu;                                        \
            s2 += d * d;                                                                   \
          }                                                                                \
        v = M > 0 ? s2 / (double)M : 0;                                                    \
      } else {                                                                             \
        mu = rm[c];                                                                        \
        v = rv[c];                                                                         \
      }                                                                                    \
      T m = (T)mu, is = (T)(1.0 / sqrt(v + eps));                                          \
      mean[c] = m;                                                                         \
      var[c] = (T)v;                                                                       \
      invstd[c] = is;                                                                      \
      T wc = w ? w[c] : (T)1, bc = b ? b[c] : (T)0;                                        \
      for (int64_t n = 0; n < N; n++)                                                      \
        for (int64_t k = 0; k < S; k++) {                                                  \
          int64_t i = (n * C + c) * S + k;                                                 \
          y[i] = (x[i] - m) * is * wc + bc;                                                \
        }                                                                                  \
    }                                                                                      \
  }                                                                                        \
  /* gx, gw, gb (each may be NULL) from g, x (N, C, S), mean and invstd (C) */              \
  static void bn_bwd_##sfx(int64_t N, int64_t C, int64_t S, const T *g, const T *x,        \
                           const T *w, const T *mean, const T *invstd, int training, T *gx, \
                           T *gw, T *gb) {                                                 \
    double M = (double)(N * S);                                                            \
    for (int64_t c = 0; c < C; c++) {                                                      \
      double sg = 0, sgx = 0;                                                              \
      T m = mean[c], is = invstd[c];                                                       \
      for (int64_t n = 0; n < N; n++)                                                      \
        for (int64_t k = 0; k < S; k++) {                                                  \
          int64_t i = (n * C + c) * S + k;                                                 \
          sg += g[i];                                                                      \
          sgx += (double)g[i] * (double)((x[i] - m) * is);                                 \
        }                                                                                  \
      if (gw) gw[c] = (T)sgx;                                                              \
      if (gb) gb[c] = (T)sg;                                                               \
      if (!gx) continue;                                                                   \
      T wc = w ? w[c] : (T)1, k1 = wc * is;                                                \
      T a = training ? (T)(sg / M) : (T)0, bb = training ? (T)(sgx / M) : (T)0;            \
      for (int64_t n = 0; n < N; n++)                                                      \
        for (int64_t k = 0; k < S; k++) {                                                  \
          int64_t i = (n * C + c) * S + k;                                                 \
          gx[i] = k1 * (g[i] - a - (x[i] - m) * is * bb);                                  \
        }                                                                                  \
    }                                                                                      \
  }

BN_KERNELS(float, f32)
BN_KERNELS(double, f64)

static void bn_info_free(lc_ctx *ctx, void *u) { lc__free(ctx, u, sizeof(bn_info)); }

/* t is NULL or a (C) tensor of x's dtype */
static int bn_vector(lc_ctx *ctx, const lc_tensor *x, const lc_tensor *t, const char *what) {
  if (!t || (t->ndim == 1 && t->shape[0] == x->shape[1] && t->dtype == x->dtype)) return 1;
  char sx[LC_SHAPE_STR], st[LC_SHAPE_STR];
  lc_shape_str(sx, sizeof sx, x->ndim, x->shape);
  lc_shape_str(st, sizeof st, t->ndim, t->shape);
  lc__fail(ctx, LC_ESHAPE, "%s %s %s must be a %s tensor of shape {%lld} for input %s", what, st,
           lc_dtype_name(t->dtype), lc_dtype_name(x->dtype), (long long)x->shape[1], sx);
  return 0;
}

/* lc_batch_norm's checks of its operands; 1 when they fit. */
static int bn_check(lc_ctx *ctx, lc_tensor *x, lc_tensor *weight, lc_tensor *bias,
                    lc_tensor *running_mean, lc_tensor *running_var, int training) {
  if (!lc_dtype_is_float(x->dtype)) {
    lc__fail(ctx, LC_EARG, "needs a float tensor, got %s", lc_dtype_name(x->dtype));
    return 0;
  }
  if (x->ndim < 2) {
    char sx[LC_SHAPE_STR];
    lc_shape_str(sx, sizeof sx, x->ndim, x->shape);
    lc__fail(ctx, LC_ESHAPE, "expected an input (N, C, ...), got %s", sx);
    return 0;
  }
  if (!bn_vector(ctx, x, weight, "weight") || !bn_vector(ctx, x, bias, "bias") ||
      !bn_vector(ctx, x, running_mean, "running_mean") ||
      !bn_vector(ctx, x, running_var, "running_var"))
    return 0;
  if (!training && (!running_mean || !running_var)) {
    lc__fail(ctx, LC_EARG, "running_mean and running_var are needed when not training");
    return 0;
  }
  return 1;
}

lc_status lc_batch_norm(lc_ctx *ctx, lc_tensor *x, lc_tensor *weight, lc_tensor *bias,
                        lc_tensor *running_mean, lc_tensor *running_var, int training,
                        double eps, lc_tensor **y, lc_tensor **mean, lc_tensor **var) {
  *y = NULL;
  if (mean) *mean = NULL;
  if (var) *var = NULL;
  if (!bn_check(ctx, x, weight, bias, running_mean, running_var, training)) return ctx->status;
  if (training && running_mean && ctx->trace)
    return lc__fail(ctx, LC_EARG, "batch_norm in training mode updates running_mean and "
                    "running_var in place, which a compiled plan would not do again: compile in "
                    "eval mode (model:eval()), or with track_running_stats = false");
  int64_t N = x->shape[0], C = x->shape[1], S = 1;
  for (int i = 2; i < x->ndim; i++) S *= x->shape[i];
  int64_t cs[1] = {C};
  lc_tensor *xc = lc__contig_raw(ctx, x);
  lc_tensor *wc = xc && weight ? lc__contig_raw(ctx, weight) : NULL;
  lc_tensor *bc = xc && bias ? lc__contig_raw(ctx, bias) : NULL;
  lc_tensor *rm = xc && !training ? lc__contig_raw(ctx, running_mean) : NULL;
  lc_tensor *rv = xc && !training ? lc__contig_raw(ctx, running_var) : NULL;
  lc_tensor *out = xc ? lc_empty(ctx, x->dtype, x->ndim, x->shape) : NULL;
  lc_tensor *mu = out ? lc_empty(ctx, x->dtype, 1, cs) : NULL;
  lc_tensor *vr = mu ? lc_empty(ctx, x->dtype, 1, cs) : NULL;
  lc_tensor *is = vr ? lc_empty(ctx, x->dtype, 1, cs) : NULL;
  int ok = is != NULL && (!weight || wc) && (!bias || bc) && (training || (rm && rv));
  if (ok) {
    if (x->dtype == LC_FLOAT32)
      bn_fwd_f32(N, C, S, lc_tensor_data(xc), wc ? lc_tensor_data(wc) : NULL,
                 bc ? lc_tensor_data(bc) : NULL, rm ? lc_tensor_data(rm) : NULL,
                 rv ? lc_tensor_data(rv) : NULL, training, eps, lc_tensor_data(out),
                 lc_tensor_data(mu), lc_tensor_data(vr), lc_tensor_data(is));
    else
      bn_fwd_f64(N, C, S, lc_tensor_data(xc), wc ? lc_tensor_data(wc) : NULL,
                 bc ? lc_tensor_data(bc) : NULL, rm ? lc_tensor_data(rm) : NULL,
                 rv ? lc_tensor_data(rv) : NULL, training, eps, lc_tensor_data(out),
                 lc_tensor_data(mu), lc_tensor_data(vr), lc_tensor_data(is));
  }
  lc_tensor_release(xc);
  lc_tensor_release(wc);
  lc_tensor_release(bc);
  lc_tensor_release(rm);
  lc_tensor_release(rv);
  if (ok) {
    /* While tracing, the running statistics too, last (the rule reads only
     * the first inputs), so that a replay (and a plan) reads them in place,
     * as it does parameters; detached, as they get no gradient (PyTorch's
     * neither), so a running tensor that requires grad cannot make the
     * node want one for it. */
    lc_tensor *in[5], *rs[2] = {NULL, NULL};
    int nin = 0;
    in[nin++] = x;
    if (weight) in[nin++] = weight;
    if (bias) in[nin++] = bias;
    if (!training && ctx->trace) {
      rs[0] = lc__detach(ctx, running_mean);
      rs[1] = rs[0] ? lc__detach(ctx, running_var) : NULL;
      if (!rs[1]) {
        lc_tensor_release(rs[0]);
        lc_tensor_release(out);
        out = NULL;
      }
      in[nin++] = rs[0];
      in[nin++] = rs[1];
    }
    if (out) out = lc__finish(ctx, out, &PL[PL_batch_norm].def, nin, in);
    lc_tensor_release(rs[0]);
    lc_tensor_release(rs[1]);
    if (out && out->node) {
      bn_info *u = lc__alloc(ctx, sizeof *u);
      if (!u) {
        lc_tensor_release(out);
        out = NULL;
      } else {
        u->training = training;
        u->has_w = weight != NULL;
        u->has_b = bias != NULL;
        u->eps = eps;
        out->node->user = u;
        out->node->user_free = bn_info_free;
        out->node->saved[0] = lc__retained(mu);
        out->node->saved[1] = lc__retained(is);
      }
    }
    ok = out != NULL;
  }
  lc_tensor_release(is);
  if (!ok) {
    lc_tensor_release(out);
    lc_tensor_release(mu);
    lc_tensor_release(vr);
    return ctx->status;
  }
  *y = out;
  /* computed from x without nodes of their own */
  lc__trace_opaque(ctx, mean ? mu : NULL, "batch_norm's mean");
  lc__trace_opaque(ctx, var ? vr : NULL, "batch_norm's variance");
  if (mean) *mean = mu;
  else lc_tensor_release(mu);
  if (var) *var = vr;
  else lc_tensor_release(vr);
  return LC_OK;
}

/* The out= form (reuse_buffers): y into out, the statistics (C) into
 * scratch memory freed before returning, nothing recorded. */
lc_status lc_batch_norm_out(lc_ctx *ctx, lc_tensor *out, lc_tensor *x, lc_tensor *weight,
                            lc_tensor *bias, lc_tensor *running_mean, lc_tensor *running_var,
                            int training, double eps) {
  lc_tensor *in[3] = {x, weight, bias};
  if (!bn_check(ctx, x, weight, bias, running_mean, running_var, training) ||
      !lc__check_out(ctx, out, x->dtype, x->ndim, x->shape, 3, in))
    return ctx->status;
  int64_t N = x->shape[0], C = x->shape[1], S = 1;
  for (int i = 2; i < x->ndim; i++) S *= x->shape[i];
  size_t es = lc_dtype_size(x->dtype), nb = 3 * (size_t)(C > 0 ? C : 1) * es;
  lc_tensor *xc = lc__contig_raw(ctx, x);
  lc_tensor *wc = xc && weight ? lc__contig_raw(ctx, weight) : NULL;
  lc_tensor *bc = xc && bias ? lc__contig_raw(ctx, bias) : NULL;
  lc_tensor *rm = xc && !training ? lc__contig_raw(ctx, running_mean) : NULL;
  lc_tensor *rv = xc && !training ? lc__contig_raw(ctx, running_var) : NULL;
  int ok = xc && (!weight || wc) && (!bias || bc) && (training || (rm && rv));
  char *st = ok ? lc__alloc(ctx, nb) : NULL;
  if (st) {
    char *vr = st + (size_t)C * es, *is = vr + (size_t)C * es;
    if (x->dtype == LC_FLOAT32)
      bn_fwd_f32(N, C, S, lc_tensor_data(xc), wc ? lc_tensor_data(wc) : NULL,
                 bc ? lc_tensor_data(bc) : NULL, rm ? lc_tensor_data(rm) : NULL,
                 rv ? lc_tensor_data(rv) : NULL, training, eps, lc_tensor_data(out),
                 (float *)st, (float *)vr, (float *)is);
    else
      bn_fwd_f64(N, C, S, lc_tensor_data(xc), wc ? lc_tensor_data(wc) : NULL,
                 bc ? lc_tensor_data(bc) : NULL, rm ? lc_tensor_data(rm) : NULL,
                 rv ? lc_tensor_data(rv) : NULL, training, eps, lc_tensor_data(out),
                 (double *)st, (double *)vr, (double *)is);
    lc__free(ctx, st, nb);
  }
  lc_tensor_release(xc);
  lc_tensor_release(wc);
  lc_tensor_release(bc);
  lc_tensor_release(rm);
  lc_tensor_release(rv);
  return st ? LC_OK : ctx->status;
}

/* ---- layer and group norm, out= forms only ----------------------------------------
 * nn.LayerNorm and nn.GroupNorm compute through recorded ops (or batch_norm
 * over a view); for reuse_buffers these write the same values into out in
 * two passes: each of `rows` rows of n elements normalised as a batch
 * norm's channel (biased variance, in double), then the affine weight and
 * bias, whose element for flat index i is (i / inner) % period. */

#define AFFINE_KERNEL(T, sfx)                                                              \
  static void affine_##sfx(int64_t numel, int64_t inner, int64_t period, const T *w,        \
                           const T *b, T *y) {                                             \
    for (int64_t i = 0; i < numel; i++) {                                                  \
      int64_t j = (i / inner) % period;                                                    \
      T v = y[i];                                                                          \
      if (w) v = v * w[j];                                                                 \
      if (b) v = v + b[j];                                                                 \
      y[i] = v;                                                                            \
    }                                                                                      \
  }
AFFINE_KERNEL(float, f32)
AFFINE_KERNEL(double, f64)

/* t is NULL, or a tensor of x's dtype with `numel` elements (its shape
 * checked by the caller's layer) */
static int norm_vector(lc_ctx *ctx, const lc_tensor *x, const lc_tensor *t, int64_t numel,
                       const char *what) {
  if (!t || (t->numel == numel && t->dtype == x->dtype)) return 1;
  char st[LC_SHAPE_STR];
  lc_shape_str(st, sizeof st, t->ndim, t->shape);
  lc__fail(ctx, LC_ESHAPE, "%s %s %s must be a %s tensor of %lld elements", what, st,
           lc_dtype_name(t->dtype), lc_dtype_name(x->dtype), (long long)numel);
  return 0;
}

static lc_status norm_rows_out(lc_ctx *ctx, lc_tensor *out, lc_tensor *x, int64_t rows, int64_t n,
                               lc_tensor *w, lc_tensor *b, int64_t inner, int64_t period,
                               double eps) {
  lc_tensor *in[3] = {x, w, b};
  if (!norm_vector(ctx, x, w, period, "weight") || !norm_vector(ctx, x, b, period, "bias") ||
      !lc__check_out(ctx, out, x->dtype, x->ndim, x->shape, 3, in))
    return ctx->status;
  size_t es = lc_dtype_size(x->dtype), nb = 3 * (size_t)(rows > 0 ? rows : 1) * es;
  lc_tensor *xc = lc__contig_raw(ctx, x);
  lc_tensor *wc = xc && w ? lc__contig_raw(ctx, w) : NULL;
  lc_tensor *bc = xc && b ? lc__contig_raw(ctx, b) : NULL;
  char *st = xc && (!w || wc) && (!b || bc) ? lc__alloc(ctx, nb) : NULL;
  if (st && x->numel > 0) {
    char *vr = st + (size_t)rows * es, *is = vr + (size_t)rows * es;
    void *wd = wc ? lc_tensor_data(wc) : NULL, *bd = bc ? lc_tensor_data(bc) : NULL;
    if (x->dtype == LC_FLOAT32) {
      bn_fwd_f32(1, rows, n, lc_tensor_data(xc), NULL, NULL, NULL, NULL, 1, eps,
                 lc_tensor_data(out), (float *)st, (float *)vr, (float *)is);
      if (w || b) affine_f32(x->numel, inner, period, wd, bd, lc_tensor_data(out));
    } else {
      bn_fwd_f64(1, rows, n, lc_tensor_data(xc), NULL, NULL, NULL, NULL, 1, eps,
                 lc_tensor_data(out), (double *)st, (double *)vr, (double *)is);
      if (w || b) affine_f64(x->numel, inner, period, wd, bd, lc_tensor_data(out));
    }
  }
  if (st) lc__free(ctx, st, nb);
  lc_tensor_release(xc);
  lc_tensor_release(wc);
  lc_tensor_release(bc);
  return st ? LC_OK : ctx->status;
}

static int norm_float(lc_ctx *ctx, const lc_tensor *x) {
  if (lc_dtype_is_float(x->dtype)) return 1;
  lc__fail(ctx, LC_EARG, "needs a float tensor, got %s", lc_dtype_name(x->dtype));
  return 0;
}

lc_status lc_layer_norm_out(lc_ctx *ctx, lc_tensor *out, lc_tensor *x, int k, lc_tensor *weight,
                            lc_tensor *bias, double eps) {
  if (!norm_float(ctx, x)) return ctx->status;
  if (k < 1 || k > x->ndim)
    return lc__fail(ctx, LC_EARG, "cannot normalise the last %d dims of a %d-d input", k, x->ndim);
  int64_t n = 1;
  for (int i = x->ndim - k; i < x->ndim; i++) n *= x->shape[i];
  return norm_rows_out(ctx, out, x, n > 0 ? x->numel / n : 0, n, weight, bias, 1, n, eps);
}

lc_status lc_group_norm_out(lc_ctx *ctx, lc_tensor *out, lc_tensor *x, int64_t groups,
                            lc_tensor *weight, lc_tensor *bias, double eps) {
  if (!norm_float(ctx, x)) return ctx->status;
  if (x->ndim < 2 || groups < 1 || x->shape[1] % groups != 0) {
    char sx[LC_SHAPE_STR];
    lc_shape_str(sx, sizeof sx, x->ndim, x->shape);
    return lc__fail(ctx, LC_ESHAPE, "expected an input (N, C, ...) with C divisible by %lld groups, "
                    "got %s", (long long)groups, sx);
  }
  int64_t N = x->shape[0], C = x->shape[1], S = 1;
  for (int i = 2; i < x->ndim; i++) S *= x->shape[i];
  return norm_rows_out(ctx, out, x, N * groups, (C / groups) * S, weight, bias, S, C, eps);
}

/* t (N, C, S) summed over N and S, kept as (1, C, 1) */
static lc_tensor *bn_red(d_scope *s, lc_tensor *t) {
  lc_tensor *a = t ? d_keep(s, lc_sum_dim(s->ctx, t, 2, 1)) : NULL;
  return a ? d_keep(s, lc_sum_dim(s->ctx, a, 0, 1)) : NULL;
}

/* The gradients as recorded ops, to be differentiated again: mean and
 * invstd recomputed from x in training (they depend on it), the saved
 * constants otherwise. */
static int bn_recorded(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  const bn_info *u = n->user;
  lc_tensor *x = n->inputs[0], *w = u->has_w ? n->inputs[1] : NULL;
  lc_tensor *b = u->has_b ? n->inputs[u->has_w ? 2 : 1] : NULL;
  int64_t N = x->shape[0], C = x->shape[1], S = 1;
  for (int i = 2; i < x->ndim; i++) S *= x->shape[i];
  int64_t s3[3] = {N, C, S}, v3[3] = {1, C, 1};
  double M = (double)(N * S);
  d_scope sc = {ctx, x->dtype, 0, {NULL}}, *s = &sc;
  lc_tensor *x3 = d_keep(s, lc_reshape(ctx, x, 3, s3));
  lc_tensor *g3 = d_keep(s, lc_reshape(ctx, g, 3, s3));
  lc_tensor *mean, *inv;
  if (u->training) {
    mean = d_mul(s, bn_red(s, x3), d_k(s, 1.0 / M));
    lc_tensor *xc = d_sub(s, x3, mean);
    lc_tensor *var = d_mul(s, bn_red(s, d_mul(s, xc, xc)), d_k(s, 1.0 / M));
    inv = d_un(s, lc_rsqrt, d_add(s, var, d_k(s, u->eps)));
  } else {
    mean = d_keep(s, lc_reshape(ctx, n->saved[0], 3, v3));
    inv = d_keep(s, lc_reshape(ctx, n->saved[1], 3, v3));
  }
  lc_tensor *xh = d_mul(s, d_sub(s, x3, mean), inv);
  int ok = xh != NULL;
  if (ok && x->requires_grad) {
    lc_tensor *wv = w ? d_keep(s, lc_reshape(ctx, w, 3, v3)) : NULL;
    lc_tensor *gg = w ? d_mul(s, g3, wv) : g3;
    lc_tensor *gx;
    if (u->training) {
      lc_tensor *a = d_mul(s, bn_red(s, gg), d_k(s, 1.0 / M));
      lc_tensor *bb = d_mul(s, bn_red(s, d_mul(s, gg, xh)), d_k(s, 1.0 / M));
      gx = d_mul(s, inv, d_sub(s, d_sub(s, gg, a), d_mul(s, xh, bb)));
    } else {
      gx = d_mul(s, gg, inv);
    }
    grads[0] = gx ? lc_reshape(ctx, gx, x->ndim, x->shape) : NULL;
    ok = grads[0] != NULL;
  }
  if (ok && w && w->requires_grad) {
    lc_tensor *r = bn_red(s, d_mul(s, g3, xh));
    grads[1] = r ? lc_reshape(ctx, r, 1, &C) : NULL;
    ok = grads[1] != NULL;
  }
  if (ok && b && b->requires_grad) {
    lc_tensor *r = bn_red(s, g3);
    grads[u->has_w ? 2 : 1] = r ? lc_reshape(ctx, r, 1, &C) : NULL;
    ok = grads[u->has_w ? 2 : 1] != NULL;
  }
  d_end(s);
  return ok;
}

static int rule_batch_norm(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  if (lc_ctx_grad_enabled(ctx)) return bn_recorded(ctx, n, g, grads);
  const bn_info *u = n->user;
  lc_tensor *x = n->inputs[0], *w = u->has_w ? n->inputs[1] : NULL;
  lc_tensor *b = u->has_b ? n->inputs[u->has_w ? 2 : 1] : NULL;
  int64_t N = x->shape[0], C = x->shape[1], S = 1;
  for (int i = 2; i < x->ndim; i++) S *= x->shape[i];
  lc_tensor *gc = lc__contig_raw(ctx, g);
  lc_tensor *xc = gc ? lc__contig_raw(ctx, x) : NULL;
  lc_tensor *wc = xc && w ? lc__contig_raw(ctx, w) : NULL;
  lc_tensor *gx = xc && x->requires_grad ? lc_empty(ctx, x->dtype, x->ndim, x->shape) : NULL;
  lc_tensor *gw = xc && w && w->requires_grad ? lc_empty(ctx, x->dtype, 1, &C) : NULL;
  lc_tensor *gb = xc && b && b->requires_grad ? lc_empty(ctx, x->dtype, 1, &C) : NULL;
  int ok = xc && (!w || wc) && (!x->requires_grad || gx) && (!(w && w->requires_grad) || gw) &&
           (!(b && b->requires_grad) || gb);
  if (ok) {
    if (x->dtype == LC_FLOAT32)
      bn_bwd_f32(N, C, S, lc_tensor_data(gc), lc_tensor_data(xc), wc ? lc_tensor_data(wc) : NULL,
                 lc_tensor_data(n->saved[0]), lc_tensor_data(n->saved[1]), u->training,
                 gx ? lc_tensor_data(gx) : NULL, gw ? lc_tensor_data(gw) : NULL,
                 gb ? lc_tensor_data(gb) : NULL);
    else
      bn_bwd_f64(N, C, S, lc_tensor_data(gc), lc_tensor_data(xc), wc ? lc_tensor_data(wc) : NULL,
                 lc_tensor_data(n->saved[0]), lc_tensor_data(n->saved[1]), u->training,
                 gx ? lc_tensor_data(gx) : NULL, gw ? lc_tensor_data(gw) : NULL,
                 gb ? lc_tensor_data(gb) : NULL);
  }
  lc_tensor_release(gc);
  lc_tensor_release(xc);
  lc_tensor_release(wc);
  if (!ok) {
    lc_tensor_release(gx);
    lc_tensor_release(gw);
    lc_tensor_release(gb);
    return 0;
  }
  grads[0] = gx;
  if (w) grads[1] = gw;
  else lc_tensor_release(gw);
  if (b) grads[w ? 2 : 1] = gb;
  else lc_tensor_release(gb);
  return 1;
}

/* ---- replay (plan.c) -------------------------------------------------------------- */

/* t as a contiguous operand: t itself, or a copy kept in *copy for the
 * caller to release (t NULL: NULL). Nothing is retained: a plan's replay
 * runs on other threads than the one owning its operands, and reference
 * counts are not atomic. *ok = 0 when the copy failed. */
static lc_tensor *contig_use(lc_ctx *ctx, lc_tensor *t, lc_tensor **copy, int *ok) {
  *copy = NULL;
  if (!t || lc_tensor_is_contiguous(t)) return t;
  if (!(*copy = lc__contig_raw(ctx, t))) *ok = 0;
  return *copy;
}

/* The forward kernels again, into the traced output, from the options the
 * node keeps for its rule; max_pool2d's indices and batch_norm's mean and
 * invstd (saved for the rules) are refreshed too. */
/* max_unpool2d from its node's inputs (x, the indices: one more input while
 * tracing) into y, the indices checked as the op checks them and copied
 * where the rule reads them (saved[0]) when that is a copy. */
static int replay_unpool(lc_ctx *ctx, lc_node *n) {
  lc_tensor *y = n->out, *x = n->inputs[0], *ix = n->inputs[1], *ic = n->saved[0];
  const pool_info *pi = n->user;
  int64_t planes = 1, hw = pi->in[0] * pi->in[1], ohw = pi->out[0] * pi->out[1];
  for (int i = 0; i < x->ndim - 2; i++) planes *= x->shape[i];
  if (ic != ix) lc__k_copy(ic, ix, ix->strides);
  const int64_t *iv = lc_tensor_data(ic);
  for (int64_t k = 0; k < x->numel; k++)
    if (iv[k] < 0 || iv[k] >= ohw) {
      lc__fail(ctx, LC_EARG, "max_unpool2d: found an invalid index %lld (1-based) for an output "
               "plane of %lld elements (%lldx%lld)", (long long)iv[k] + 1, (long long)ohw,
               (long long)pi->out[0], (long long)pi->out[1]);
      return 0;
    }
  int ok = 1;
  lc_tensor *copy, *xc = contig_use(ctx, x, &copy, &ok);
  if (!ok) return 0;
  if (y->numel) memset(lc_tensor_data(y), 0, (size_t)y->numel * lc_dtype_size(y->dtype));
  if (x->numel > 0 && x->dtype == LC_FLOAT32)
    unpool_fwd_f32(planes, hw, ohw, lc_tensor_data(xc), iv, lc_tensor_data(y));
  else if (x->numel > 0)
    unpool_fwd_f64(planes, hw, ohw, lc_tensor_data(xc), iv, lc_tensor_data(y));
  lc_tensor_release(copy);
  return 1;
}

static int replay_pool(lc_ctx *ctx, lc_node *n) {
  lc_tensor *y = n->out, *x = n->inputs[0];
  int op = LC__OP(n), f32 = x->dtype == LC_FLOAT32;
  if (op == PL_max_unpool2d) return replay_unpool(ctx, n);
  if (op == PL_batch_norm) {
    const bn_info *u = n->user;
    int k = 1 + u->has_w + u->has_b;
    lc_tensor *w = u->has_w ? n->inputs[1] : NULL, *b = u->has_b ? n->inputs[k - 1] : NULL;
    if (!u->training && n->ninputs < k + 2)  /* recorded outside a trace */
      return lc__fail(ctx, LC_ESTATE, "batch_norm: a node without its running statistics") == LC_OK;
    lc_tensor *rm = u->training ? NULL : n->inputs[k], *rv = u->training ? NULL : n->inputs[k + 1];
    int64_t N = x->shape[0], C = x->shape[1], S = 1;
    for (int i = 2; i < x->ndim; i++) S *= x->shape[i];
    size_t es = lc_dtype_size(x->dtype), nb = (size_t)(C > 0 ? C : 1) * es;
    lc_tensor *t[5] = {x, w, b, rm, rv}, *cp[5];
    void *d[5];
    int ok = 1;
    for (int i = 0; i < 5; i++) {
      lc_tensor *c = contig_use(ctx, t[i], &cp[i], &ok);
      d[i] = c ? lc_tensor_data(c) : NULL;
    }
    char *vr = ok ? lc__alloc(ctx, nb) : NULL;  /* the variance: no one reads it here */
    if (vr) {
      if (f32)
        bn_fwd_f32(N, C, S, d[0], d[1], d[2], d[3], d[4], u->training, u->eps, lc_tensor_data(y),
                   lc_tensor_data(n->saved[0]), (float *)vr, lc_tensor_data(n->saved[1]));
      else
        bn_fwd_f64(N, C, S, d[0], d[1], d[2], d[3], d[4], u->training, u->eps, lc_tensor_data(y),
                   lc_tensor_data(n->saved[0]), (double *)vr, lc_tensor_data(n->saved[1]));
      lc__free(ctx, vr, nb);
    }
    for (int i = 0; i < 5; i++) lc_tensor_release(cp[i]);
    return vr != NULL;
  }
  int ok = 1;
  lc_tensor *copy, *xc = contig_use(ctx, x, &copy, &ok);
  if (!ok) return 0;
  int64_t shape[LC_MAX_DIMS], planes;
  if (op == PL_interpolate || op == PL_interpolate_adjoint) {
    const interp_info *ii = n->user;
    int adjoint = op == PL_interpolate_adjoint;
    plane_shape(x, adjoint ? ii->in : ii->out, shape, &planes);
    int64_t nt = ii->out[0] + ii->out[1];
    tap *t = lc__alloc(ctx, sizeof(tap) * (size_t)(nt > 0 ? nt : 1));
    ok = t != NULL;
    if (t) {
      make_taps(ii, 0, f32, t);
      make_taps(ii, 1, f32, t + ii->out[0]);
      void *xd = lc_tensor_data(xc), *yd = lc_tensor_data(y);
      if (adjoint && y->numel) memset(yd, 0, (size_t)y->numel * lc_dtype_size(y->dtype));
      if (x->numel > 0 && y->numel > 0) {
        if (f32 && !adjoint) interp_fwd_f32(planes, ii, t, t + ii->out[0], xd, yd);
        else if (f32) interp_adj_f32(planes, ii, t, t + ii->out[0], xd, yd);
        else if (!adjoint) interp_fwd_f64(planes, ii, t, t + ii->out[0], xd, yd);
        else interp_adj_f64(planes, ii, t, t + ii->out[0], xd, yd);
      }
      lc__free(ctx, t, sizeof(tap) * (size_t)(nt > 0 ? nt : 1));
    }
  } else {
    const pool_info *pi = n->user;
    plane_shape(x, pi->out, shape, &planes);
    if (op == PL_avg_pool2d_adjoint) plane_shape(x, pi->in, shape, &planes);
    int max = op == PL_max_pool2d;
    win *w = make_windows(ctx, pi, max);
    ok = w != NULL;
    if (w) {
      const win *wh = w, *ww = w + pi->out[0];
      void *xd = lc_tensor_data(xc), *yd = lc_tensor_data(y);
      if (op == PL_avg_pool2d_adjoint) {
        if (y->numel) memset(yd, 0, (size_t)y->numel * lc_dtype_size(y->dtype));
        if (x->numel > 0 && f32) avg_adj_f32(planes, pi, wh, ww, xd, yd);
        else if (x->numel > 0) avg_adj_f64(planes, pi, wh, ww, xd, yd);
      } else if (y->numel > 0) {
        int64_t scratch = 0, *ix = n->saved[0] ? lc_tensor_data(n->saved[0]) : &scratch;
        int64_t step = n->saved[0] ? 1 : 0;
        if (max && f32) max_fwd_f32(planes, pi->in, pi->out, wh, ww, xd, yd, ix, step);
        else if (max) max_fwd_f64(planes, pi->in, pi->out, wh, ww, xd, yd, ix, step);
        else if (f32) avg_fwd_f32(planes, pi, wh, ww, xd, yd);
        else avg_fwd_f64(planes, pi, wh, ww, xd, yd);
      }
      free_windows(ctx, w, pi);
    }
  }
  lc_tensor_release(copy);
  return ok;
}

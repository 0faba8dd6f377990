/* attention.c: the attention family (the rows of attention.def): the fused
 * masked softmax that sits between attention's two GEMMs, forward and
 * backward, one pass over the scores each. See lc_attention.h. */
#include "internal.h"

#include <math.h>
#include <string.h>

static int rule_masked_softmax(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int replay_attn(lc_ctx *ctx, lc_node *n);

enum {
#define ATTN(name, ...) AT_##name,
#include "attention.def"
  AT_COUNT
};

static const lc__opdef AT[] = {
#define ATTN(name, Bw, rule) [AT_##name] = {{#Bw "Backward", rule}, AT_##name, replay_attn},
#include "attention.def"
};
_Static_assert(sizeof AT / sizeof AT[0] == AT_COUNT, "an attention row without its table entry");

/* ---- kernels -------------------------------------------------------------------
 * One row of n scores at a time. The mask row is read with stride ms (0
 * when the mask broadcasts along the row); a bool mask (mb) or a float one
 * (mf) or none. Sums accumulate in double for both dtypes. */

#define SOFTMAX_ROWS(T, EXP, name)                                                          \
  static void name(T *y, const T *x, int64_t rows, int64_t n, const int64_t *moff,           \
                   const unsigned char *mb, const T *mf, int64_t ms, double scale) {          \
    const T sc = (T)scale;                                                                   \
    for (int64_t r = 0; r < rows; r++) {                                                     \
      T *yr = y + r * n;                                                                     \
      const T *xr = x + r * n;                                                               \
      T mx = (T)-INFINITY;                                                                   \
      for (int64_t j = 0; j < n; j++) {                                                      \
        T z = sc * xr[j];                                                                    \
        if (mb && mb[moff[r] + j * ms]) z = (T)-INFINITY;                                    \
        else if (mf) z += mf[moff[r] + j * ms];                                              \
        yr[j] = z;                                                                           \
        if (z > mx || z != z) mx = z;                                                        \
      }                                                                                      \
      double s = 0.0;                                                                        \
      for (int64_t j = 0; j < n; j++) yr[j] -= mx;                                           \
      EXP(n, yr);                                                                            \
      for (int64_t j = 0; j < n; j++) s += (double)yr[j];                                    \
      const T inv = (T)(1.0 / s);                                                            \
      for (int64_t j = 0; j < n; j++) yr[j] *= inv;                                          \
    }                                                                                        \
  }

/* EXP(n, row): exp in place; float32 through simd.c's vector kernel */
#define EXP_F32(n, y) lc__vmap_f32(LC_VF_EXP, (n), (y), (y), LC_SIMD_BEST)
#define EXP_F64(n, y) for (int64_t j_ = 0; j_ < (n); j_++) (y)[j_] = exp((y)[j_])
SOFTMAX_ROWS(float, EXP_F32, softmax_rows_f32)
SOFTMAX_ROWS(double, EXP_F64, softmax_rows_f64)

/* dz (rows, n) = y (g - sum(g y)) per row, times k. */
#define SOFTMAX_BACK(T, name)                                                                 \
  static void name(T *dz, const T *y, const T *g, int64_t rows, int64_t n, double k) {       \
    for (int64_t r = 0; r < rows; r++) {                                                     \
      const T *yr = y + r * n, *gr = g + r * n;                                              \
      T *dr = dz + r * n;                                                                    \
      double s = 0.0;                                                                        \
      for (int64_t j = 0; j < n; j++) s += (double)gr[j] * (double)yr[j];                    \
      const T st = (T)s, kt = (T)k;                                                          \
      for (int64_t j = 0; j < n; j++) dr[j] = kt * yr[j] * (gr[j] - st);                     \
    }                                                                                        \
  }

SOFTMAX_BACK(float, softmax_back_f32)
SOFTMAX_BACK(double, softmax_back_f64)

/* ---- the op ------------------------------------------------------------------------ */

/* The mask must broadcast to x without changing x's shape. */
static int mask_check(lc_ctx *ctx, const lc_tensor *x, const lc_tensor *m) {
  if (m->dtype != LC_BOOL && m->dtype != x->dtype) {
    lc__fail(ctx, LC_EARG, "mask must be bool or of the scores' dtype %s, got %s",
             lc_dtype_name(x->dtype), lc_dtype_name(m->dtype));
    return 0;
  }
  int ok = m->ndim <= x->ndim;
  for (int i = 0; ok && i < m->ndim; i++) {
    int64_t dm = m->shape[m->ndim - 1 - i], dx = x->shape[x->ndim - 1 - i];
    ok = dm == dx || dm == 1;
  }
  if (!ok) lc__fail_shapes(ctx, "mask %s does not broadcast to the scores %s", m, x);
  return ok;
}

/* The checks both forms make: float scores of at least one dim, a mask
 * that broadcasts to them. */
static int softmax_check(lc_ctx *ctx, const lc_tensor *x, const lc_tensor *mask) {
  if (!lc_dtype_is_float(x->dtype)) {
    lc__fail(ctx, LC_EARG, "scores must be float32 or float64, got %s", lc_dtype_name(x->dtype));
    return 0;
  }
  if (x->ndim == 0) {
    lc__fail(ctx, LC_ESHAPE, "scores need at least one dimension, got a 0-d tensor");
    return 0;
  }
  return !mask || mask_check(ctx, x, mask);
}

/* y (contiguous, x's shape and dtype; may be x itself when x is contiguous:
 * each element is read before it is written) = the masked softmax of x. */
static int softmax_into(lc_ctx *ctx, lc_tensor *y, lc_tensor *x, lc_tensor *mask, double scale) {
  /* x and mask are not retained: a plan's replay runs this on other
   * threads than the one owning them (reference counts are not atomic) */
  const lc_tensor *mc = mask;
  int nd = x->ndim;
  int64_t n = x->shape[nd - 1], rows = n > 0 ? x->numel / n : 0;
  lc_tensor *copy = lc_tensor_is_contiguous(x) ? NULL : lc__contig_raw(ctx, x);
  const lc_tensor *xc = copy ? copy : x;
  int ok = copy || lc_tensor_is_contiguous(x);
  /* the element offset of each row's mask, walking x's leading dims */
  int64_t *moff = ok && mc && rows > 0 ? lc__alloc(ctx, sizeof(int64_t) * (size_t)rows) : NULL;
  ok = ok && !(mc && rows > 0 && !moff);
  int64_t ms = 0;
  if (ok && mc) {
    int64_t mst[LC_MAX_DIMS], idx[LC_MAX_DIMS] = {0};
    lc__broadcast_strides(mc, nd, mst);
    ms = mst[nd - 1];
    int64_t off = mc->offset;
    for (int64_t r = 0; r < rows; r++) {
      moff[r] = off;
      for (int d = nd - 2; d >= 0; d--) {   /* the next row: odometer over the leading dims */
        off += mst[d];
        if (++idx[d] < x->shape[d]) break;
        off -= mst[d] * x->shape[d];
        idx[d] = 0;
      }
    }
  }
  if (ok && x->numel > 0) {
    const unsigned char *mb = mc && mc->dtype == LC_BOOL ? mc->storage->data : NULL;
    const void *mf = mc && mc->dtype != LC_BOOL ? mc->storage->data : NULL;
    if (x->dtype == LC_FLOAT32)
      softmax_rows_f32(lc_tensor_data(y), lc_tensor_data(xc), rows, n, moff, mb, mf, ms, scale);
    else
      softmax_rows_f64(lc_tensor_data(y), lc_tensor_data(xc), rows, n, moff, mb, mf, ms, scale);
  }
  if (moff) lc__free(ctx, moff, sizeof(int64_t) * (size_t)rows);
  lc_tensor_release(copy);
  return ok;
}

lc_tensor *lc_masked_softmax(lc_ctx *ctx, lc_tensor *x, lc_tensor *mask, double scale) {
  if (!softmax_check(ctx, x, mask)) return NULL;
  lc_tensor *y = lc_empty(ctx, x->dtype, x->ndim, x->shape);
  if (!y || !softmax_into(ctx, y, x, mask, scale)) {
    lc_tensor_release(y);
    return NULL;
  }
  {
    lc_tensor *in[2] = {x, mask};
    y = lc__finish(ctx, y, &AT[AT_masked_softmax].def, mask ? 2 : 1, in);
  }
  if (y && y->node) y->node->p.attn.scale = scale;
  return lc__save_output(ctx, y);
}

lc_status lc_masked_softmax_out(lc_ctx *ctx, lc_tensor *out, lc_tensor *x, lc_tensor *mask,
                                double scale) {
  lc_tensor *in[2] = {x, mask};
  if (!softmax_check(ctx, x, mask) ||
      !lc__check_out(ctx, out, x->dtype, x->ndim, x->shape, mask ? 2 : 1, in))
    return ctx->status;
  /* out may be x (each row is read before it is written), not a view overlapping it otherwise */
  if (out->storage == x->storage && !(out->offset == x->offset && lc_tensor_is_contiguous(x)))
    return lc__fail(ctx, LC_EARG, "out must be the scores themselves or share no elements with them");
  if (!softmax_into(ctx, out, x, mask, scale)) return ctx->status;
  return LC_OK;
}

/* ---- rule --------------------------------------------------------------------------
 * dz = y (g - sum(g y)) along the last dim; gx = scale dz, and a float mask
 * that requires grad gets dz summed down to its shape. */

static int rule_recorded(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  lc_tensor *x = n->inputs[0], *m = n->ninputs > 1 ? n->inputs[1] : NULL, *y = n->out;
  d_scope sc = {ctx, x->dtype, 0, {NULL}}, *s = &sc;
  lc_tensor *gy = d_mul(s, g, y);
  lc_tensor *sum = gy ? d_keep(s, lc_sum_dim(ctx, gy, x->ndim - 1, 1)) : NULL;
  lc_tensor *dz = d_mul(s, y, d_sub(s, g, sum));
  if (x->requires_grad) grads[0] = lc__retained(d_mul(s, dz, d_k(s, n->p.attn.scale)));
  if (m && m->requires_grad) grads[1] = dz ? lc__sum_to(ctx, dz, m->ndim, m->shape) : NULL;
  d_end(s);
  return 1;  /* a NULL where a gradient is wanted tells the engine */
}

static int rule_masked_softmax(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  if (lc_ctx_grad_enabled(ctx)) return rule_recorded(ctx, n, g, grads);
  lc_tensor *x = n->inputs[0], *m = n->ninputs > 1 ? n->inputs[1] : NULL, *y = n->saved[0];
  int want_m = m && m->requires_grad;
  /* the mask's gradient is dz unscaled: compute dz, then scale a copy for x */
  double k = want_m ? 1.0 : n->p.attn.scale;
  int64_t len = x->shape[x->ndim - 1], rows = len > 0 ? x->numel / len : 0;
  lc_tensor *gc = lc__contig_raw(ctx, g);
  lc_tensor *dz = gc ? lc_empty(ctx, x->dtype, x->ndim, x->shape) : NULL;
  int ok = dz != NULL;
  if (ok && x->numel > 0) {
    if (x->dtype == LC_FLOAT32)
      softmax_back_f32(lc_tensor_data(dz), lc_tensor_data(y), lc_tensor_data(gc), rows, len, k);
    else
      softmax_back_f64(lc_tensor_data(dz), lc_tensor_data(y), lc_tensor_data(gc), rows, len, k);
  }
  if (ok && want_m) {
    grads[1] = lc__sum_to(ctx, dz, m->ndim, m->shape);
    ok = grads[1] != NULL;
    if (ok && x->requires_grad) {
      lc_tensor *kt = lc_scalar(ctx, x->dtype, n->p.attn.scale);
      grads[0] = kt ? lc_mul(ctx, dz, kt) : NULL;
      lc_tensor_release(kt);
      ok = grads[0] != NULL;
    }
  } else if (ok && x->requires_grad) {
    grads[0] = lc__retained(dz);
  }
  lc_tensor_release(dz);
  lc_tensor_release(gc);
  return ok;
}

/* ---- replay (plan.c) ----------------------------------------------------------------- */

/* The mask is the node's second input, so a plan reads it as it is at each
 * run (a bool mask made by comparisons during the forward is opaque to the
 * trace and refused at compile). The saved output is an alias of n->out:
 * refreshed with it. */
static int replay_attn(lc_ctx *ctx, lc_node *n) {
  return softmax_into(ctx, n->out, n->inputs[0], n->ninputs > 1 ? n->inputs[1] : NULL,
                      n->p.attn.scale);
}

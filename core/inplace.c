/* inplace.c: in-place arithmetic (add_, mul_, addcmul_, ...), the building
 * blocks of optimizer updates. They record no graph (callers refuse tensors
 * that require grad while recording) and allocate nothing when operands
 * share t's dtype: an update of a large parameter should touch its memory
 * once, not build temporaries the size of the model.
 *
 * Operands broadcast to t's shape (t itself never changes shape), may be
 * strided views, and a NULL operand stands for a number. */
#include "internal.h"

#include <math.h>
#include <string.h>

typedef enum ip_op { IP_ADD, IP_MUL, IP_DIV, IP_ADDCMUL, IP_ADDCDIV, IP_LERP, IP_SQRT } ip_op;

/* t[i] op= f(a[i], b[i]) for one row; a or b NULL -> the number sa or sb. */
#define IP_ROW(T)                                                                        \
  static void ip_row_##T(ip_op op, int64_t n, T *t, int64_t st, const T *a, int64_t sa,  \
                         const T *b, int64_t sb, T s) {                                  \
    for (int64_t i = 0; i < n; i++) {                                                    \
      T *p = t + i * st;                                                                 \
      T x = a ? a[i * sa] : (T)0, y = b ? b[i * sb] : (T)0;                              \
      switch (op) {                                                                      \
        case IP_ADD: *p += s * x; break;                                                 \
        case IP_MUL: *p *= x; break;                                                     \
        case IP_DIV: *p /= x; break;                                                     \
        case IP_ADDCMUL: *p += s * x * y; break;                                         \
        case IP_ADDCDIV: *p += s * x / y; break;                                         \
        case IP_LERP: *p += s * (x - *p); break;                                         \
        case IP_SQRT: *p = (T)sqrt((double)*p); break;                                   \
      }                                                                                  \
    }                                                                                    \
  }
IP_ROW(float)
IP_ROW(double)

/* Checks that `o` broadcasts into t's shape, and gives its strides over it. */
static int fits_into(lc_ctx *ctx, const lc_tensor *t, const lc_tensor *o, int64_t *st) {
  int ok = o->ndim <= t->ndim;
  for (int i = 0; ok && i < o->ndim; i++) {
    int64_t d = o->shape[i], want = t->shape[t->ndim - o->ndim + i];
    ok = d == want || d == 1;
  }
  if (!ok) {
    char a[LC_SHAPE_STR], b[LC_SHAPE_STR];
    lc_shape_str(a, sizeof a, o->ndim, o->shape);
    lc_shape_str(b, sizeof b, t->ndim, t->shape);
    lc__fail(ctx, LC_ESHAPE, "shape %s does not broadcast to the tensor's shape %s", a, b);
    return 0;
  }
  lc__broadcast_strides(o, t->ndim, st);
  return 1;
}

/* The operand in t's dtype: itself (retained) or a converted copy. */
static lc_tensor *same_dtype(lc_ctx *ctx, lc_tensor *t, const lc_tensor *o) {
  if (!o) return NULL;
  if (o->dtype == t->dtype) {
    lc_tensor_retain((lc_tensor *)o);
    return (lc_tensor *)o;
  }
  lc_tensor *c = lc_empty(ctx, t->dtype, o->ndim, o->shape);
  if (c) lc__k_copy(c, o, o->strides);
  return c;
}

static lc_status apply(lc_ctx *ctx, ip_op op, lc_tensor *t, const lc_tensor *a0,
                       const lc_tensor *b0, double s, double sa_num) {
  int64_t sa[LC_MAX_DIMS] = {0}, sb[LC_MAX_DIMS] = {0};
  if ((a0 && !fits_into(ctx, t, a0, sa)) || (b0 && !fits_into(ctx, t, b0, sb))) return ctx->status;
  lc_tensor *a = same_dtype(ctx, t, a0), *b = same_dtype(ctx, t, b0);
  if ((a0 && !a) || (b0 && !b)) {
    lc_tensor_release(a);
    lc_tensor_release(b);
    return ctx->status;
  }
  if (t->numel > 0) {
    /* a number operand travels as a one-element array with stride 0 */
    double num64 = sa_num;
    float num32 = (float)sa_num;
    int64_t base[3] = {t->offset, a ? a->offset : 0, b ? b->offset : 0};
    lc_walk w;
    lc__walk_init(&w, t->ndim, t->shape, 3, (const int64_t *const[]){t->strides, sa, sb}, base);
    int64_t n = w.shape[w.ndim - 1], rows = lc__walk_rows(&w);
    int64_t s0 = w.st[0][w.ndim - 1], s1 = w.st[1][w.ndim - 1], s2 = w.st[2][w.ndim - 1];
    for (int64_t r = 0; r < rows; r++, lc__walk_next(&w)) {
      if (t->dtype == LC_FLOAT64) {
        const double *pa = a ? (const double *)a->storage->data + w.off[1] : &num64;
        const double *pb = b ? (const double *)b->storage->data + w.off[2] : NULL;
        ip_row_double(op, n, (double *)t->storage->data + w.off[0], s0, op == IP_SQRT ? NULL : pa,
                      a ? s1 : 0, pb, s2, s);
      } else {
        const float *pa = a ? (const float *)a->storage->data + w.off[1] : &num32;
        const float *pb = b ? (const float *)b->storage->data + w.off[2] : NULL;
        ip_row_float(op, n, (float *)t->storage->data + w.off[0], s0, op == IP_SQRT ? NULL : pa,
                     a ? s1 : 0, pb, s2, (float)s);
      }
    }
  }
  lc_tensor_release(a);
  lc_tensor_release(b);
  return LC_OK;
}

lc_status lc_add_(lc_ctx *ctx, lc_tensor *t, const lc_tensor *other, double value, double alpha) {
  return apply(ctx, IP_ADD, t, other, NULL, alpha, value);
}

lc_status lc_mul_(lc_ctx *ctx, lc_tensor *t, const lc_tensor *other, double value) {
  return apply(ctx, IP_MUL, t, other, NULL, 1.0, value);
}

lc_status lc_div_(lc_ctx *ctx, lc_tensor *t, const lc_tensor *other, double value) {
  return apply(ctx, IP_DIV, t, other, NULL, 1.0, value);
}

lc_status lc_addcmul_(lc_ctx *ctx, lc_tensor *t, const lc_tensor *a, const lc_tensor *b,
                      double value) {
  return apply(ctx, IP_ADDCMUL, t, a, b, value, 0.0);
}

lc_status lc_addcdiv_(lc_ctx *ctx, lc_tensor *t, const lc_tensor *a, const lc_tensor *b,
                      double value) {
  return apply(ctx, IP_ADDCDIV, t, a, b, value, 0.0);
}

lc_status lc_lerp_(lc_ctx *ctx, lc_tensor *t, const lc_tensor *end, double weight) {
  return apply(ctx, IP_LERP, t, end, NULL, weight, 0.0);
}

lc_status lc_sqrt_(lc_ctx *ctx, lc_tensor *t) {
  return apply(ctx, IP_SQRT, t, NULL, NULL, 1.0, 0.0);
}

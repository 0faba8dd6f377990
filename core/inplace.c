/* inplace.c: in-place arithmetic (add_, mul_, addcmul_, ...), the building
 * blocks of optimizer updates. They record no graph (callers refuse tensors
 * that require grad while recording) and allocate nothing when operands
 * share t's dtype: an update of a large parameter should touch its memory
 * once, not build temporaries the size of the model.
 *
 * Operands broadcast to t's shape (t itself never changes shape), may be
 * strided views, and a NULL operand stands for a number. The formulas are
 * the rows of inplace.def; the loops are elementwise.c's. */
#include "internal.h"

#include <math.h>
#include <string.h>

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

static lc_status apply(lc_ctx *ctx, lc_inplace_op op, lc_tensor *t, const lc_tensor *a0,
                       const lc_tensor *b0, double s, double sa_num) {
  int64_t sa[LC_MAX_DIMS] = {0}, sb[LC_MAX_DIMS] = {0};
  if (!lc_dtype_is_float(t->dtype))  /* optimizer arithmetic: floats only (but add_, mul_) */
    return lc__fail(ctx, LC_EARG, "in-place %s needs a float tensor, got %s",
                    op == LC_IP_div ? "true division" : "arithmetic", lc_dtype_name(t->dtype));
  if ((a0 && !fits_into(ctx, t, a0, sa)) || (b0 && !fits_into(ctx, t, b0, sb))) return ctx->status;
  lc_tensor *a = same_dtype(ctx, t, a0), *b = same_dtype(ctx, t, b0);
  if ((a0 && !a) || (b0 && !b)) {
    lc_tensor_release(a);
    lc_tensor_release(b);
    return ctx->status;
  }
  /* a missing operand is a number: a 0-d tensor over a cell on the stack,
   * read with stride 0 (a missing b is never read) */
  union { double d; float f; } cell;
  if (t->dtype == LC_FLOAT64) cell.d = sa_num;
  else cell.f = (float)sa_num;
  lc_storage st = {1, sizeof cell, &cell, 1, ctx, 0, 0, UINT64_MAX};  /* scratch, never "old" */
  lc_tensor num;
  memset(&num, 0, sizeof num);
  num.dtype = t->dtype;
  num.numel = 1;
  num.storage = &st;
  lc__k_inplace(op, t, a ? a : &num, sa, b ? b : &num, sb, s);
  lc__wrote(t);
  lc_tensor_release(a);
  lc_tensor_release(b);
  return LC_OK;
}

/* add_ and mul_ of an integer or bool t: computed with the elementwise ops
 * (exact, wrapping) and copied back, as PyTorch does, which refuses a result
 * t's dtype cannot hold (a float into an integer t, anything but bool into a
 * bool t). These allocate: they are not the optimizers' float path. */
static lc_status int_update(lc_ctx *ctx, lc_tensor *t, const lc_tensor *other, double value,
                            double alpha, int is_mul) {
  lc_tensor *o = other ? lc__retained((lc_tensor *)other) : lc_number(ctx, value), *r = NULL;
  lc_tensor *scaled = o && !is_mul && alpha != 1.0 ? lc__owned2(ctx, lc_mul, lc__retained(o),
                                                               lc_number(ctx, alpha)) : NULL;
  lc_tensor *rhs = scaled ? scaled : o;
  if (rhs) r = is_mul ? lc_mul(ctx, t, rhs) : lc_add(ctx, t, rhs);
  lc_status st = r ? LC_OK : ctx->status;
  if (r && ((lc_dtype_is_float(r->dtype) && !lc_dtype_is_float(t->dtype)) ||
            (t->dtype == LC_BOOL && r->dtype != LC_BOOL)))
    st = lc__fail(ctx, LC_EARG, "the result (%s) cannot be written in place into a tensor of dtype %s",
                  lc_dtype_name(r->dtype), lc_dtype_name(t->dtype));
  else if (r)
    st = lc_copy_(ctx, t, r);
  lc_tensor_release(o);
  lc_tensor_release(scaled);
  lc_tensor_release(r);
  return st;
}

lc_status lc_add_(lc_ctx *ctx, lc_tensor *t, const lc_tensor *other, double value, double alpha) {
  if (!lc_dtype_is_float(t->dtype)) return int_update(ctx, t, other, value, alpha, 0);
  return apply(ctx, LC_IP_add, t, other, NULL, alpha, value);
}

lc_status lc_mul_(lc_ctx *ctx, lc_tensor *t, const lc_tensor *other, double value) {
  if (!lc_dtype_is_float(t->dtype)) return int_update(ctx, t, other, value, 1.0, 1);
  return apply(ctx, LC_IP_mul, t, other, NULL, 1.0, value);
}

lc_status lc_div_(lc_ctx *ctx, lc_tensor *t, const lc_tensor *other, double value) {
  return apply(ctx, LC_IP_div, t, other, NULL, 1.0, value);
}

lc_status lc_addcmul_(lc_ctx *ctx, lc_tensor *t, const lc_tensor *a, const lc_tensor *b,
                      double value) {
  return apply(ctx, LC_IP_addcmul, t, a, b, value, 0.0);
}

lc_status lc_addcdiv_(lc_ctx *ctx, lc_tensor *t, const lc_tensor *a, const lc_tensor *b,
                      double value) {
  return apply(ctx, LC_IP_addcdiv, t, a, b, value, 0.0);
}

lc_status lc_lerp_(lc_ctx *ctx, lc_tensor *t, const lc_tensor *end, double weight) {
  return apply(ctx, LC_IP_lerp, t, end, NULL, weight, 0.0);
}

lc_status lc_sqrt_(lc_ctx *ctx, lc_tensor *t) {
  return apply(ctx, LC_IP_sqrt, t, NULL, NULL, 1.0, 0.0);
}

/* op.c: what every op shares, and the registry of them all.
 *
 * A forward op checks its arguments (lc__check_dim, lc__fail_shapes),
 * computes into a fresh tensor and ends with lc__finish, which records its
 * node when a gradient is wanted; rules build gradients with the helpers
 * below (NULL arguments pass through, so a chain of calls needs one check
 * at the end). Each family keeps its ops in one table, a .def file with a
 * row per op; this file reads them all (linalg.def and lapack.def, one
 * family) to list the public ops for lc_op_get. */
#include "internal.h"

#include <string.h>

/* ---- recording -------------------------------------------------------------- */

/* Only float results take part in autograd: an integer or bool result of
 * inputs that require grad (to("int64"), argmax's indices) records nothing,
 * as in PyTorch. A stale input is refused while recording even when nothing
 * requires grad: a view of a plain tensor made before a write with gradients
 * into it would give a constant where PyTorch's regenerated view carries the
 * write's graph (a gradient silently lost). */
lc_tensor *lc__finish(lc_ctx *ctx, lc_tensor *out, const lc_op_def *def, int n, lc_tensor **in) {
  if (out && !lc_dtype_is_float(out->dtype)) return lc__finish_nograd(ctx, out, def, n, in);
  if (out && lc_dtype_is_float(out->dtype) && ctx->grad_enabled &&
      (!lc__inputs_current(ctx, n, in) ||
       (lc__wants_grad(ctx, n, in) && !lc__record(ctx, out, def, n, in)))) {
    lc_tensor_release(out);  /* a stale input, or out of memory for the node */
    return NULL;
  }
  if (out && ctx->trace) {
    if (out->node && out->node->def == def) lc__trace_node(ctx, out->node);
    else if (!ctx->grad_enabled) lc__trace_opaque(ctx, out, "an op run under no_grad");
  }
  return out;
}

/* While tracing, a result outside autograd (a mask, indices, an integer
 * result, a row without a gradient) records its node all the same, so that
 * a plan can replay it instead of keeping the traced values. Its output
 * does not require grad: a backward follows only inputs that do, so it
 * never reaches the node, whose def may have no rule. */
lc_tensor *lc__finish_nograd(lc_ctx *ctx, lc_tensor *out, const lc_op_def *def, int n,
                             lc_tensor **in) {
  if (!out || !ctx->trace) return out;
  if (!ctx->grad_enabled) {
    lc__trace_opaque(ctx, out, "an op run under no_grad");
    return out;
  }
  if (!lc__record(ctx, out, def, n, in)) {
    lc_tensor_release(out);
    return NULL;
  }
  out->requires_grad = 0;
  lc__trace_node(ctx, out->node);
  return out;
}

lc_tensor *lc__save_output(lc_ctx *ctx, lc_tensor *out) {
  if (out && out->node && !(out->node->saved[0] = lc__detach(ctx, out))) {
    lc_tensor_release(out);
    return NULL;
  }
  return out;
}

/* ---- checks and messages ------------------------------------------------------- */

int lc__check_dim(lc_ctx *ctx, const lc_tensor *a, int dim) {
  if (dim >= 0 && dim < a->ndim) return 1;
  char s[LC_SHAPE_STR];
  lc_shape_str(s, sizeof s, a->ndim, a->shape);
  lc__fail(ctx, LC_EARG, "dimension %d is out of range for shape %s", dim + 1, s);
  return 0;
}

lc_tensor *lc__fail_shapes(lc_ctx *ctx, const char *fmt, const lc_tensor *a, const lc_tensor *b) {
  char sa[LC_SHAPE_STR], sb[LC_SHAPE_STR];
  lc_shape_str(sa, sizeof sa, a->ndim, a->shape);
  lc_shape_str(sb, sizeof sb, b->ndim, b->shape);
  lc__fail(ctx, LC_ESHAPE, fmt, sa, sb);
  return NULL;
}

int lc__check_out(lc_ctx *ctx, lc_tensor *out, lc_dtype dtype, int ndim,
                  const int64_t *shape, int n, lc_tensor **inputs) {
  int same = out->ndim == ndim && out->dtype == dtype && lc_tensor_is_contiguous(out);
  for (int i = 0; same && i < ndim; i++) same = out->shape[i] == shape[i];
  if (!same) {
    char so[LC_SHAPE_STR], se[LC_SHAPE_STR];
    lc_shape_str(so, sizeof so, out->ndim, out->shape);
    lc_shape_str(se, sizeof se, ndim, shape);
    lc__fail(ctx, LC_ESHAPE, "out must be a contiguous %s tensor of shape %s, got %s %s%s",
             lc_dtype_name(dtype), se, lc_dtype_name(out->dtype), so,
             lc_tensor_is_contiguous(out) ? "" : " (not contiguous)");
    return 0;
  }
  if (lc__wants_grad(ctx, n, inputs) || out->requires_grad) {
    lc__fail(ctx, LC_ESTATE, "out= writes without recording a graph: use it under no_grad, "
             "with an out that does not require grad");
    return 0;
  }
  lc__wrote(out);
  return 1;
}

/* ---- small helpers ---------------------------------------------------------------- */

lc_tensor *lc__contig_raw(lc_ctx *ctx, lc_tensor *a) {
  if (lc_tensor_is_contiguous(a)) return lc__retained(a);
  lc_tensor *c = lc_empty(ctx, a->dtype, a->ndim, a->shape);
  if (c) lc__k_copy(c, a, a->strides);
  return c;
}

int64_t lc__leading_rows(const lc_tensor *x) {
  int64_t rows = 1;
  for (int i = 0; i < x->ndim - 1; i++) rows *= x->shape[i];
  return rows;
}

lc_tensor *lc__retained(lc_tensor *t) {
  lc_tensor_retain(t);
  return t;
}

/* ---- helpers for rules ------------------------------------------------------------- */

/* Leading dims the input did not have, then dims where it had size 1. */
lc_tensor *lc__sum_to(lc_ctx *ctx, lc_tensor *g, int ndim, const int64_t *shape) {
  lc_tensor_retain(g);
  while (g && g->ndim > ndim) {
    lc_tensor *s = lc_sum_dim(ctx, g, 0, 0);
    lc_tensor_release(g);
    g = s;
  }
  for (int i = 0; g && i < ndim; i++) {
    if (shape[i] == 1 && g->shape[i] != 1) {
      lc_tensor *s = lc_sum_dim(ctx, g, i, 1);
      lc_tensor_release(g);
      g = s;
    }
  }
  return g;
}

lc_tensor *lc__reduce_owned(lc_ctx *ctx, lc_tensor *r, const lc_tensor *input) {
  lc_tensor *s = r ? lc__sum_to(ctx, r, input->ndim, input->shape) : NULL;
  lc_tensor_release(r);
  return s;
}

lc_tensor *lc__owned2(lc_ctx *ctx, lc_tensor *(*op)(lc_ctx *, lc_tensor *, lc_tensor *),
                      lc_tensor *a, lc_tensor *b) {
  lc_tensor *r = a && b ? op(ctx, a, b) : NULL;
  lc_tensor_release(a);
  lc_tensor_release(b);
  return r;
}

/* ---- the registry --------------------------------------------------------------------
 * One entry per public op, made from the families' rows. Rows that are a
 * second kernel of an op listed already (gelu's tanh form, pow by a number,
 * the polygamma of digamma's derivatives) make none. */

#define BW(Bw) #Bw "Backward"
static const lc_op_info OPS[] = {
#define UNARY(name, Bw, ...) {#name, "elementwise", BW(Bw), NULL},
#define UNARY_P(name, Bw, ...) {#name, "elementwise", BW(Bw), NULL},
#define UNARY_ALT(...)
#define UNARY_MASK(name, reason, fwd) {#name, "elementwise", NULL, reason},
#define BINARY(name, Bw, ...) {#name, "elementwise", BW(Bw), NULL},
#define BINARY_RULE(name, Bw, fwd, rule) {#name, "elementwise", BW(Bw), NULL},
#define BINARY_MASK(name, reason, fwd) {#name, "elementwise", NULL, reason},
#define EW_OP(name, Bw, rule) {#name, "elementwise", BW(Bw), NULL},
#include "elementwise.def"
#define REDUCE(name, Bw, kernel, saves, rule) {#name, "reduce", BW(Bw), NULL},
#define REDUCE_NONDIFF(name, reason, kernel) {#name, "reduce", NULL, reason},
#include "reduce.def"
#define SHAPE(name, Bw, rule) {#name, "shape", BW(Bw), NULL},
#define SHAPE_NONDIFF(name, reason) {#name, "shape", NULL, reason},
#include "shape.def"
#define LINALG(name, Bw, rule) {#name, "linalg", BW(Bw), NULL},
#include "linalg.def"
#define LINALG(name, Bw, rule) {#name, "linalg", BW(Bw), NULL},
#include "lapack.def"
#define ATTN(name, Bw, rule) {#name, "attention", BW(Bw), NULL},
#include "attention.def"
#define POOL(name, Bw, rule) {#name, "pool", BW(Bw), NULL},
#define POOL_ADJOINT(name, Bw, rule)
#include "pool.def"
#define CONV(name, Bw, rule) {#name, "conv", BW(Bw), NULL},
#include "conv.def"
#define LOSS(name, Bw, rule) {#name, "loss", BW(Bw), NULL},
#include "loss.def"
#define RNN(name, Bw, mode, cell) {#name, "rnn", BW(Bw), NULL},
#include "rnn.def"
};

int lc_op_count(void) { return (int)(sizeof OPS / sizeof OPS[0]); }

const lc_op_info *lc_op_get(int i) {
  return i >= 0 && i < lc_op_count() ? &OPS[i] : NULL;
}

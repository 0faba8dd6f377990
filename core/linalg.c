/* linalg.c: the matrix products (the rows of linalg.def), matmul and
 * linear, on BLAS (lc__k_gemm), each with its backward rule beside it. */
#include "internal.h"

#include <string.h>

static int rule_matmul(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int rule_linear(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int replay_linalg(lc_ctx *ctx, lc_node *n);

enum {
#define LINALG(name, ...) LA_##name,
#include "linalg.def"
  LA_COUNT
};

static const lc__opdef LA[] = {
#define LINALG(name, Bw, rule) [LA_##name] = {{#Bw "Backward", rule}, LA_##name, replay_linalg},
#include "linalg.def"
};
_Static_assert(sizeof LA / sizeof LA[0] == LA_COUNT, "a linalg row without its table entry");

/* ---- matrix products --------------------------------------------------------- */

/* How a (rows, cols) matrix with strides (rs, cs) is handed to BLAS: as is
 * (row-major, leading dim rs) or transposed (its transpose is row-major with
 * leading dim cs). Returns 0 when neither fits and a copy is needed. */
static int mat_layout(int64_t rows, int64_t cols, int64_t rs, int64_t cs, int *trans,
                      int64_t *ld) {
  if ((cols == 1 || cs == 1) && (rows == 1 || rs >= cols)) {
    *trans = 0;
    *ld = rows == 1 ? (cols > 1 ? cols : 1) : rs;
    return *ld >= 1;
  }
  if ((rows == 1 || rs == 1) && (cols == 1 || cs >= rows)) {
    *trans = 1;
    *ld = cols == 1 ? (rows > 1 ? rows : 1) : cs;
    return *ld >= 1;
  }
  return 0;
}

/* c (n, m) = a (n, k) @ b (k, m) for one matrix of each, any strides. */
static void matmul_2d(lc_dtype dt, const lc_tensor *a, int64_t aoff, const int64_t *ast,
                      const lc_tensor *b, int64_t boff, const int64_t *bst, int64_t n,
                      int64_t k, int64_t m, void *c, double beta) {
  if (!lc_dtype_is_float(dt)) {  /* integers: exact, wrapping, no BLAS */
    for (int64_t i = 0; i < n; i++)
      for (int64_t j = 0; j < m; j++) {
        uint64_t acc = beta != 0 ? (uint64_t)lc__int_load(dt, c, i * m + j) : 0u;
        for (int64_t p = 0; p < k; p++)
          acc += (uint64_t)lc__int_at(a, aoff + i * ast[0] + p * ast[1]) *
                 (uint64_t)lc__int_at(b, boff + p * bst[0] + j * bst[1]);
        lc__int_store(dt, c, i * m + j, (int64_t)acc);
      }
    return;
  }
  int ta = 0, tb = 0;   /* set by mat_layout: callers made both operands BLAS-ready */
  int64_t lda = 1, ldb = 1;
  mat_layout(n, k, ast[0], ast[1], &ta, &lda);
  mat_layout(k, m, bst[0], bst[1], &tb, &ldb);
  size_t es = lc_dtype_size(dt);
  /* with k = 0 the operands may have no buffer, and lc__k_gemm reads none */
  const char *pa = a->storage->data ? (const char *)a->storage->data + aoff * (int64_t)es : NULL;
  const char *pb = b->storage->data ? (const char *)b->storage->data + boff * (int64_t)es : NULL;
  lc__k_gemm(dt, ta, tb, n, m, k, 1.0, pa, lda, pb, ldb, beta, c, m);
}

static int blas_ready(const lc_tensor *t) {
  int tr;
  int64_t ld;
  int n = t->ndim;
  return mat_layout(t->shape[n - 2], t->shape[n - 1], t->strides[n - 2], t->strides[n - 1],
                    &tr, &ld);
}

/* The batch shape of a (..., n, k) @ b (..., k, m), both at least 2-d:
 * fills bshape[*nb] and the result's shape oshape[*nb + 2], and the batch
 * strides ast, bst (0 along a broadcast dim). */
static int matmul_shape(lc_ctx *ctx, const lc_tensor *a, const lc_tensor *b, int *nbp,
                        int64_t *bshape, int64_t *ast, int64_t *bst, int64_t *oshape) {
  int an = a->ndim, bn = b->ndim;
  int nb = (an > bn ? an : bn) - 2;
  for (int i = 0; i < nb; i++) {
    int ia = i - (nb - (an - 2)), ib = i - (nb - (bn - 2));
    int64_t da = ia >= 0 ? a->shape[ia] : 1, db = ib >= 0 ? b->shape[ib] : 1;
    if (da != db && da != 1 && db != 1) {
      lc__fail_shapes(ctx, "batch dimensions of shapes %s and %s do not broadcast", a, b);
      return 0;
    }
    bshape[i] = da == 1 ? db : da;
    ast[i] = (ia < 0 || da == 1) ? 0 : a->strides[ia];
    bst[i] = (ib < 0 || db == 1) ? 0 : b->strides[ib];
  }
  memcpy(oshape, bshape, sizeof(int64_t) * (size_t)nb);
  oshape[nb] = a->shape[an - 2];
  oshape[nb + 1] = b->shape[bn - 1];
  *nbp = nb;
  int overflow;
  lc__numel(nb + 2, oshape, &overflow);
  if (overflow) {  /* before copying operands that may be huge expansions */
    lc__fail_shapes(ctx, "shapes %s and %s give a product too large to hold", a, b);
    return 0;
  }
  return 1;
}

/* c (oshape, contiguous, numel of them) = a @ b, both at least 2-d, the
 * shapes checked by matmul_shape. Operands BLAS cannot take as they are
 * are copied (and freed again before returning). */
static int matmul_into(lc_ctx *ctx, lc_tensor *a, lc_tensor *b, int nb, const int64_t *bshape,
                       void *c, int64_t numel) {
  int an = a->ndim, bn = b->ndim;
  int64_t n = a->shape[an - 2], k = a->shape[an - 1], m = b->shape[bn - 1];
  int64_t ast[LC_MAX_DIMS], bst[LC_MAX_DIMS];
  /* copies only where BLAS needs them; the operands themselves are not
   * retained, as a plan's replay may run this on another thread than the
   * one that owns them (reference counts are not atomic) */
  lc_tensor *acopy = blas_ready(a) ? NULL : lc__contig_raw(ctx, a);
  lc_tensor *bcopy = blas_ready(b) ? NULL : lc__contig_raw(ctx, b);
  if ((!acopy && !blas_ready(a)) || (!bcopy && !blas_ready(b))) {
    lc_tensor_release(acopy);
    lc_tensor_release(bcopy);
    return 0;
  }
  lc_tensor *ac = acopy ? acopy : a, *bc = bcopy ? bcopy : b;
  int64_t batches = 1;
  for (int i = 0; i < nb; i++) batches *= bshape[i];
  size_t es = lc_dtype_size(a->dtype);
  if (numel == 0) {
    /* no results to compute (and no buffer to point into) */
  } else if (bn == 2 && lc_tensor_is_contiguous(ac)) {
    /* a shared right operand: fold the batch into the rows, one GEMM */
    int64_t s2[2] = {k, 1};
    matmul_2d(a->dtype, ac, ac->offset, s2, bc, bc->offset, bc->strides, batches * n, k, m, c, 0.0);
  } else {
    /* batch strides of the (maybe copied) operands */
    for (int i = 0; i < nb; i++) {
      int ia = i - (nb - (an - 2)), ib = i - (nb - (bn - 2));
      ast[i] = (ia < 0 || ac->shape[ia] == 1) ? 0 : ac->strides[ia];
      bst[i] = (ib < 0 || bc->shape[ib] == 1) ? 0 : bc->strides[ib];
    }
    int64_t idx[LC_MAX_DIMS] = {0};
    for (int64_t t = 0; t < batches; t++) {
      int64_t ao = ac->offset, bo = bc->offset;
      for (int i = 0; i < nb; i++) { ao += idx[i] * ast[i]; bo += idx[i] * bst[i]; }
      matmul_2d(a->dtype, ac, ao, ac->strides + ac->ndim - 2, bc, bo, bc->strides + bc->ndim - 2,
                n, k, m, (char *)c + t * n * m * (int64_t)es, 0.0);
      for (int d = nb - 1; d >= 0; d--) {
        if (++idx[d] < bshape[d]) break;
        idx[d] = 0;
      }
    }
  }
  lc_tensor_release(acopy);
  lc_tensor_release(bcopy);
  return 1;
}

/* Both operands have at least 2 dims here. */
static lc_tensor *matmul_nd(lc_ctx *ctx, lc_tensor *a, lc_tensor *b) {
  /* (bshape zeroed: with no batch dims, matmul_shape's memcpy reads none of it) */
  int64_t bshape[LC_MAX_DIMS] = {0}, ast[LC_MAX_DIMS], bst[LC_MAX_DIMS], oshape[LC_MAX_DIMS];
  int nb;
  if (!matmul_shape(ctx, a, b, &nb, bshape, ast, bst, oshape)) return NULL;
  lc_tensor *out = lc_empty(ctx, a->dtype, nb + 2, oshape);
  if (!out) return NULL;
  if (!matmul_into(ctx, a, b, nb, bshape, out->numel ? lc_tensor_data(out) : NULL, out->numel)) {
    lc_tensor_release(out);
    return NULL;
  }
  lc_tensor *in[2] = {a, b};
  return lc__finish(ctx, out, &LA[LA_matmul].def, 2, in);
}

lc_status lc_matmul_out(lc_ctx *ctx, lc_tensor *out, lc_tensor *a, lc_tensor *b) {
  if (!lc_dtype_is_float(a->dtype) || b->dtype != a->dtype)
    return lc__fail(ctx, LC_EARG, "out= needs two float operands of one dtype, got %s and %s",
                    lc_dtype_name(a->dtype), lc_dtype_name(b->dtype));
  if (a->ndim < 2 || b->ndim < 2)
    return lc__fail(ctx, LC_ESHAPE, "out= needs operands of at least 2 dims, got %d and %d",
                    a->ndim, b->ndim);
  int64_t ka = a->shape[a->ndim - 1], kb = b->shape[b->ndim - 2];
  if (ka != kb) {
    lc__fail_shapes(ctx, "shapes %s and %s do not fit", a, b);
    return ctx->status;
  }
  if (out->storage == a->storage || out->storage == b->storage)  /* a GEMM cannot read what it writes */
    return lc__fail(ctx, LC_EARG, "out must not share its elements with an operand");
  int64_t bshape[LC_MAX_DIMS] = {0}, ast[LC_MAX_DIMS], bst[LC_MAX_DIMS], oshape[LC_MAX_DIMS];
  int nb;
  lc_tensor *in[2] = {a, b};
  if (!matmul_shape(ctx, a, b, &nb, bshape, ast, bst, oshape) ||
      !lc__check_out(ctx, out, a->dtype, nb + 2, oshape, 2, in) ||
      !matmul_into(ctx, a, b, nb, bshape, out->numel ? lc_tensor_data(out) : NULL, out->numel))
    return ctx->status;
  return LC_OK;
}

lc_tensor *lc_matmul(lc_ctx *ctx, lc_tensor *a, lc_tensor *b) {
  if (a->ndim == 0 || b->ndim == 0)
    return lc__fail_shapes(ctx, "shapes %s and %s: both need at least one dimension", a, b);
  int64_t ka = a->shape[a->ndim - 1], kb = b->ndim == 1 ? b->shape[0] : b->shape[b->ndim - 2];
  if (ka != kb) {
    char sa[LC_SHAPE_STR], sb[LC_SHAPE_STR];
    lc_shape_str(sa, sizeof sa, a->ndim, a->shape);
    lc_shape_str(sb, sizeof sb, b->ndim, b->shape);
    lc__fail(ctx, LC_ESHAPE, "shapes %s and %s do not fit (%lld ~= %lld)", sa, sb,
             (long long)ka, (long long)kb);
    return NULL;
  }
  lc_tensor *ab[2] = {a, b};
  lc_dtype dt = lc_result_type(ctx, 2, ab);
  if (a->dtype != dt || b->dtype != dt) {
    lc_tensor *ca = lc_to_dtype(ctx, a, dt);
    lc_tensor *cb = ca ? lc_to_dtype(ctx, b, dt) : NULL;
    lc_tensor *r = cb ? lc_matmul(ctx, ca, cb) : NULL;
    lc_tensor_release(ca);
    lc_tensor_release(cb);
    return r;
  }
  if (a->ndim >= 2 && b->ndim >= 2) return matmul_nd(ctx, a, b);
  /* 1-D operands: lift to a matrix (row for a, column for b), multiply, and
   * drop the lifted dim again, all as recorded reshapes so backward follows. */
  int64_t s[LC_MAX_DIMS];
  lc_tensor *a2 = NULL, *b2 = NULL, *r = NULL, *out = NULL;
  if (a->ndim == 1) { s[0] = 1; s[1] = ka; a2 = lc_reshape(ctx, a, 2, s); }
  else { a2 = a; lc_tensor_retain(a); }
  if (!a2) goto done;
  if (b->ndim == 1) { s[0] = kb; s[1] = 1; b2 = lc_reshape(ctx, b, 2, s); }
  else { b2 = b; lc_tensor_retain(b); }
  if (!b2) goto done;
  r = matmul_nd(ctx, a2, b2);
  if (!r) goto done;
  {
    int nd = 0;
    for (int i = 0; i < r->ndim; i++) {
      if (a->ndim == 1 && i == r->ndim - 2) continue;
      if (b->ndim == 1 && i == r->ndim - 1) continue;
      s[nd++] = r->shape[i];
    }
    out = lc_reshape(ctx, r, nd, s);
  }
done:
  lc_tensor_release(a2);
  lc_tensor_release(b2);
  lc_tensor_release(r);
  return out;
}

/* Checks linear's operands; fills shape (x's with the last dim = out). */
static int linear_check(lc_ctx *ctx, const lc_tensor *x, const lc_tensor *w, const lc_tensor *b,
                        int64_t *shape) {
  if (w->ndim != 2 || x->ndim < 1) {
    lc__fail_shapes(ctx, "input %s and weight %s: weight must be 2-D and input at least 1-D", x, w);
    return 0;
  }
  int64_t in = w->shape[1], outf = w->shape[0];
  if (x->shape[x->ndim - 1] != in) {
    char sa[LC_SHAPE_STR], sb[LC_SHAPE_STR];
    lc_shape_str(sa, sizeof sa, x->ndim, x->shape);
    lc_shape_str(sb, sizeof sb, w->ndim, w->shape);
    lc__fail(ctx, LC_ESHAPE, "input %s and weight %s do not fit (%lld ~= %lld)", sa, sb,
             (long long)x->shape[x->ndim - 1], (long long)in);
    return 0;
  }
  if (b && (b->ndim != 1 || b->shape[0] != outf)) {
    lc__fail_shapes(ctx, "bias %s does not fit weight %s", b, w);
    return 0;
  }
  if (!lc_dtype_is_float(x->dtype)) {  /* BLAS: floats only, as PyTorch's linear */
    lc__fail(ctx, LC_EARG, "linear needs float tensors, got %s", lc_dtype_name(x->dtype));
    return 0;
  }
  if (x->dtype != w->dtype || (b && b->dtype != w->dtype)) {
    lc__fail(ctx, LC_EARG, "input, weight and bias must share a dtype, got %s, %s and %s",
             lc_dtype_name(x->dtype), lc_dtype_name(w->dtype),
             b ? lc_dtype_name(b->dtype) : "none");
    return 0;
  }
  memcpy(shape, x->shape, sizeof(int64_t) * LC_MAX_DIMS);
  shape[x->ndim - 1] = outf;
  int overflow;
  lc__numel(x->ndim, shape, &overflow);
  if (overflow) {  /* before copying x, which may be a huge expansion */
    lc__fail_shapes(ctx, "input %s and weight %s give an output too large to hold", x, w);
    return 0;
  }
  return 1;
}

/* float32 with w's rows contiguous (as a Linear's weight is) and a
 * contiguous bias: gemm.c's kernels, the bias added in their epilogue.
 * Returns 0 when the operands do not suit it (BLAS takes them), else 1
 * (done). Allocates nothing and retains nothing: a plan's replay runs it. */
static int linear_f32(lc_ctx *ctx, lc_tensor *y, lc_tensor *xc, lc_tensor *w, lc_tensor *b) {
  int64_t in = w->shape[1], outf = w->shape[0], rows = lc__leading_rows(xc);
  int64_t ldw = outf == 1 ? in : w->strides[0];
  if (!((w->strides[1] == 1 || in == 1) && ldw >= in && (!b || b->strides[0] == 1 || outf == 1)))
    return 0;
  if (rows == 0 || outf == 0) return 1;
  /* (with in = 0, x and w may have no buffer: NULL, and the kernel reads none) */
  lc__sgemm_nt_w(ctx, w, rows, outf, in, lc_tensor_data(xc), in, lc_tensor_data(w), ldw,
                 b ? lc_tensor_data(b) : NULL, LC__ACT_NONE, lc_tensor_data(y), outf);
  return 1;
}

/* y (rows, out) = x (rows, in) @ w^T (in, out) + b, y contiguous. Allocates
 * only when x or w must be copied to suit BLAS (never for contiguous ones). */
static int linear_into(lc_ctx *ctx, lc_tensor *y, lc_tensor *x, lc_tensor *w, lc_tensor *b) {
  int64_t in = w->shape[1], outf = w->shape[0];
  /* copies only where needed, nothing retained (see matmul_into) */
  lc_tensor *xo = lc_tensor_is_contiguous(x) ? NULL : lc__contig_raw(ctx, x);
  if (!xo && !lc_tensor_is_contiguous(x)) return 0;
  if (x->dtype == LC_FLOAT32 && linear_f32(ctx, y, xo ? xo : x, w, b)) {
    lc_tensor_release(xo);
    return 1;
  }
  lc_tensor *wo = blas_ready(w) ? NULL : lc__contig_raw(ctx, w);
  int ok = wo || blas_ready(w);
  lc_tensor *xc = xo ? xo : x, *wc = wo ? wo : w;
  if (ok) {
    if (b) {  /* every row starts as the bias; GEMM adds (beta = 1). Not lc_copy_: a
                 plan's replay must not move the versions of the traced context */
      int64_t sb[LC_MAX_DIMS];
      lc__broadcast_strides(b, y->ndim, sb);
      lc__k_copy(y, b, sb);
    }
    int wt = 0;
    int64_t ldw = 1;
    mat_layout(outf, in, wc->strides[0], wc->strides[1], &wt, &ldw);
    lc__k_gemm(x->dtype, 0, !wt, lc__leading_rows(x), outf, in, 1.0, lc_tensor_data(xc), in,
               lc_tensor_data(wc), ldw, b ? 1.0 : 0.0, lc_tensor_data(y), outf);
  }
  lc_tensor_release(xo);
  lc_tensor_release(wo);
  return ok;
}

lc_tensor *lc_linear(lc_ctx *ctx, lc_tensor *x, lc_tensor *w, lc_tensor *b) {
  int64_t shape[LC_MAX_DIMS];
  if (!linear_check(ctx, x, w, b, shape)) return NULL;
  lc_tensor *y = lc_empty(ctx, x->dtype, x->ndim, shape);
  if (y && !linear_into(ctx, y, x, w, b)) {
    lc_tensor_release(y);
    return NULL;
  }
  lc_tensor *inputs[3] = {x, w, b};
  return lc__finish(ctx, y, &LA[LA_linear].def, b ? 3 : 2, inputs);
}

lc_status lc_linear_out(lc_ctx *ctx, lc_tensor *out, lc_tensor *x, lc_tensor *w, lc_tensor *b) {
  int64_t shape[LC_MAX_DIMS];
  lc_tensor *inputs[3] = {x, w, b};
  if (!linear_check(ctx, x, w, b, shape)) return ctx->status;
  if (out->storage == x->storage || out->storage == w->storage ||
      (b && out->storage == b->storage))  /* a GEMM cannot read what it writes */
    return lc__fail(ctx, LC_EARG, "out must not share its elements with an operand");
  if (!lc__check_out(ctx, out, x->dtype, x->ndim, shape, b ? 3 : 2, inputs) ||
      !linear_into(ctx, out, x, w, b))
    return ctx->status;
  return LC_OK;
}

/* ---- rules ------------------------------------------------------------------------ */

static lc_tensor *transpose_last(lc_ctx *ctx, lc_tensor *t) {
  return lc_transpose(ctx, t, t->ndim - 2, t->ndim - 1);
}

/* ga = g @ b^T, gb = a^T @ g, summed over broadcast batches */
static int rule_matmul(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  lc_tensor *a = n->inputs[0], *b = n->inputs[1];
  if (a->requires_grad)
    grads[0] = lc__reduce_owned(
        ctx, lc__owned2(ctx, lc_matmul, lc__retained(g), transpose_last(ctx, b)), a);
  if (b->requires_grad)
    grads[1] = lc__reduce_owned(
        ctx, lc__owned2(ctx, lc_matmul, transpose_last(ctx, a), lc__retained(g)), b);
  return 1;
}

/* Straight on BLAS:
 * gx (rows, in) = gy (rows, out) @ w (out, in)
 * gw (out, in)  = gy^T (out, rows) @ x (rows, in)
 * gb (out)      = gy summed over rows */
/* The same with ops, recorded, to be differentiated again (LC_CREATE_GRAPH):
 * gx = g @ w, gw = g2^T @ x2 and gb = g2 summed over rows, with g2 (rows,
 * out) and x2 (rows, in) the flattened g and x. */
static int linear_recorded(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  lc_tensor *x = n->inputs[0], *w = n->inputs[1], *b = n->ninputs > 2 ? n->inputs[2] : NULL;
  int64_t rows = lc__leading_rows(x);
  d_scope sc = {ctx, x->dtype, 0, {NULL}}, *s = &sc;
  if (x->requires_grad) grads[0] = lc_matmul(ctx, g, w);
  lc_tensor *g2 = d_keep(s, lc_reshape(ctx, g, 2, (int64_t[]){rows, w->shape[0]}));
  if (w->requires_grad) {
    lc_tensor *x2 = d_keep(s, lc_reshape(ctx, x, 2, (int64_t[]){rows, w->shape[1]}));
    lc_tensor *gt = g2 ? d_keep(s, lc_transpose(ctx, g2, 0, 1)) : NULL;
    grads[1] = gt && x2 ? lc_matmul(ctx, gt, x2) : NULL;
  }
  if (b && b->requires_grad) grads[2] = g2 ? lc_sum_dim(ctx, g2, 0, 0) : NULL;
  d_end(s);
  return 1;  /* a NULL where a gradient is wanted tells the engine */
}

static int rule_linear(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  if (lc_ctx_grad_enabled(ctx)) return linear_recorded(ctx, n, g, grads);
  lc_tensor *x = n->inputs[0], *w = n->inputs[1], *b = n->ninputs > 2 ? n->inputs[2] : NULL;
  int64_t in = w->shape[1], outf = w->shape[0], rows = lc__leading_rows(x);
  lc_tensor *gy = lc__contig_raw(ctx, g);
  if (!gy) return 0;
  int ok = 1;
  if (x->requires_grad) {
    lc_tensor *wc = lc__contig_raw(ctx, w);
    grads[0] = wc ? lc_empty(ctx, x->dtype, x->ndim, x->shape) : NULL;
    if (grads[0])
      lc__k_gemm(x->dtype, 0, 0, rows, in, outf, 1.0, lc_tensor_data(gy), outf,
                 lc_tensor_data(wc), in, 0.0, lc_tensor_data(grads[0]), in);
    lc_tensor_release(wc);
    ok = ok && grads[0];
  }
  if (ok && w->requires_grad) {
    lc_tensor *xc = lc__contig_raw(ctx, x);
    grads[1] = xc ? lc_empty(ctx, w->dtype, 2, w->shape) : NULL;
    if (grads[1])
      lc__k_gemm(w->dtype, 1, 0, outf, in, rows, 1.0, lc_tensor_data(gy), outf,
                 lc_tensor_data(xc), in, 0.0, lc_tensor_data(grads[1]), in);
    lc_tensor_release(xc);
    ok = ok && grads[1];
  }
  if (ok && b && b->requires_grad) {
    int64_t s2[2] = {rows, outf};
    lc_tensor *g2 = lc__view(ctx, gy, 2, s2, (int64_t[]){outf, 1}, gy->offset);
    grads[2] = g2 ? lc_sum_dim(ctx, g2, 0, 0) : NULL;
    lc_tensor_release(g2);
    ok = ok && grads[2];
  }
  lc_tensor_release(gy);
  return ok;
}

/* ---- replay (plan.c) --------------------------------------------------------------- */

static int replay_linalg(lc_ctx *ctx, lc_node *n) {
  lc_tensor *y = n->out;
  if (LC__OP(n) == LA_linear)
    return linear_into(ctx, y, n->inputs[0], n->inputs[1], n->ninputs > 2 ? n->inputs[2] : NULL);
  int64_t bshape[LC_MAX_DIMS] = {0}, ast[LC_MAX_DIMS], bst[LC_MAX_DIMS], oshape[LC_MAX_DIMS];
  int nb;
  return matmul_shape(ctx, n->inputs[0], n->inputs[1], &nb, bshape, ast, bst, oshape) &&
         matmul_into(ctx, n->inputs[0], n->inputs[1], nb, bshape,
                     y->numel ? lc_tensor_data(y) : NULL, y->numel);
}

int lc__linear_fusable(const lc_node *n) {
  if (n->def != &LA[LA_linear].def || n->out->dtype != LC_FLOAT32) return 0;
  const lc_tensor *x = n->inputs[0], *w = n->inputs[1], *b = n->ninputs > 2 ? n->inputs[2] : NULL;
  int64_t in = w->shape[1], outf = w->shape[0], ldw = outf == 1 ? in : w->strides[0];
  return lc_tensor_is_contiguous(x) && lc_tensor_is_contiguous(n->out) &&
         (w->strides[1] == 1 || in == 1) && ldw >= in && (!b || b->strides[0] == 1 || outf == 1);
}

void lc__linear_act_replay(lc_ctx *ctx, lc_node *n, lc_tensor *dst, lc__act act) {
  lc_tensor *x = n->inputs[0], *w = n->inputs[1], *b = n->ninputs > 2 ? n->inputs[2] : NULL;
  int64_t in = w->shape[1], outf = w->shape[0], rows = lc__leading_rows(x);
  if (rows == 0 || outf == 0) return;
  lc__sgemm_nt_w(ctx, w, rows, outf, in, lc_tensor_data(x), in, lc_tensor_data(w),
                 outf == 1 ? in : w->strides[0], b ? lc_tensor_data(b) : NULL, act,
                 lc_tensor_data(dst), outf);
}

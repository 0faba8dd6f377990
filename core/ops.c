/* ops.c: forward ops. Each checks its arguments, computes into a fresh
 * tensor (or makes a view) and records a node for autograd.c. */
#include "internal.h"

#include <string.h>

#define SHAPE_BUF 160

static lc_tensor *fail_shapes(lc_ctx *ctx, const char *fmt, const lc_tensor *a,
                              const lc_tensor *b) {
  char sa[SHAPE_BUF], sb[SHAPE_BUF];
  lc_shape_str(sa, sizeof sa, a->ndim, a->shape);
  lc_shape_str(sb, sizeof sb, b->ndim, b->shape);
  lc__fail(ctx, LC_ESHAPE, fmt, sa, sb);
  return NULL;
}

/* Finishes an op: records the node, or on failure drops the result. */
static lc_tensor *finish(lc_ctx *ctx, lc_tensor *out, const lc_op_def *op, int n,
                         lc_tensor **in) {
  if (lc__wants_grad(ctx, n, in) && !lc__record(ctx, out, op, n, in)) {
    lc_tensor_release(out);  /* out of memory for the node */
    return NULL;
  }
  return out;
}

/* A contiguous copy that records nothing (for kernels that need one). */
static lc_tensor *contig_raw(lc_ctx *ctx, lc_tensor *a) {
  if (lc_tensor_is_contiguous(a)) {
    lc_tensor_retain(a);
    return a;
  }
  lc_tensor *c = lc_empty(ctx, a->dtype, a->ndim, a->shape);
  if (c) lc__k_binary(LC_BIN_COPY, c, a, a->strides, a, a->strides);
  return c;
}

/* ---- broadcasting binary ops ------------------------------------------------ */

lc_tensor *lc__binary_raw(lc_ctx *ctx, int kop, lc_tensor *a, lc_tensor *b) {
  int ndim;
  int64_t shape[LC_MAX_DIMS] = {0}, sa[LC_MAX_DIMS], sb[LC_MAX_DIMS];
  if (a->dtype != b->dtype) {
    lc__fail(ctx, LC_EARG, "internal: dtypes differ");
    return NULL;
  }
  lc_tensor *ab[2] = {a, b};
  if (!lc__broadcast_shape(ctx, 2, ab, &ndim, shape)) return NULL;
  lc_tensor *out = lc_empty(ctx, a->dtype, ndim, shape);
  if (!out) return NULL;
  lc__broadcast_strides(a, ndim, sa);
  lc__broadcast_strides(b, ndim, sb);
  lc__k_binary((lc_binop)kop, out, a, sa, b, sb);
  return out;
}

static lc_tensor *binary(lc_ctx *ctx, const lc_op_def *op, lc_binop kop, lc_tensor *a, lc_tensor *b) {
  if (a->dtype != b->dtype) {  /* float32 with float64 computes in float64 */
    lc_tensor *ca = lc_to_dtype(ctx, a, LC_FLOAT64);
    lc_tensor *cb = ca ? lc_to_dtype(ctx, b, LC_FLOAT64) : NULL;
    lc_tensor *r = cb ? binary(ctx, op, kop, ca, cb) : NULL;
    lc_tensor_release(ca);
    lc_tensor_release(cb);
    return r;
  }
  lc_tensor *out = lc__binary_raw(ctx, kop, a, b);
  lc_tensor *in[2] = {a, b};
  return out ? finish(ctx, out, op, 2, in) : NULL;
}

lc_tensor *lc_add(lc_ctx *ctx, lc_tensor *a, lc_tensor *b) { return binary(ctx, &lc__def_add, LC_BIN_ADD, a, b); }
lc_tensor *lc_sub(lc_ctx *ctx, lc_tensor *a, lc_tensor *b) { return binary(ctx, &lc__def_sub, LC_BIN_SUB, a, b); }
lc_tensor *lc_mul(lc_ctx *ctx, lc_tensor *a, lc_tensor *b) { return binary(ctx, &lc__def_mul, LC_BIN_MUL, a, b); }
lc_tensor *lc_div(lc_ctx *ctx, lc_tensor *a, lc_tensor *b) { return binary(ctx, &lc__def_div, LC_BIN_DIV, a, b); }
lc_tensor *lc_pow(lc_ctx *ctx, lc_tensor *a, lc_tensor *b) { return binary(ctx, &lc__def_pow, LC_BIN_POW, a, b); }

/* ---- unary ops ------------------------------------------------------------ */

static lc_tensor *unary(lc_ctx *ctx, const lc_op_def *op, lc_unop kop, lc_tensor *a, double s) {
  lc_tensor *out = lc_empty(ctx, a->dtype, a->ndim, a->shape);
  if (!out) return NULL;
  lc__k_unary(kop, out, a, s);
  lc_tensor *in[1] = {a};
  out = finish(ctx, out, op, 1, in);
  if (out && out->node) out->node->scalar[0] = s;
  return out;
}

lc_tensor *lc_neg(lc_ctx *ctx, lc_tensor *a) { return unary(ctx, &lc__def_neg, LC_UN_NEG, a, 0); }
lc_tensor *lc_log(lc_ctx *ctx, lc_tensor *a) { return unary(ctx, &lc__def_log, LC_UN_LOG, a, 0); }

lc_tensor *lc_pow_scalar(lc_ctx *ctx, lc_tensor *a, double exponent) {
  return unary(ctx, &lc__def_pow_scalar, LC_UN_POWS, a, exponent);
}

/* Tanh's backward reads the output (1 - y^2), saved as a detached alias: the
 * output cannot hold itself through its own node. */
lc_tensor *lc_tanh(lc_ctx *ctx, lc_tensor *a) {
  lc_tensor *out = unary(ctx, &lc__def_tanh, LC_UN_TANH, a, 0);
  if (out && out->node && !(out->node->saved[0] = lc_detach(ctx, out))) {
    lc_tensor_release(out);
    return NULL;
  }
  return out;
}

lc_tensor *lc_to_dtype(lc_ctx *ctx, lc_tensor *a, lc_dtype dtype) {
  if (a->dtype == dtype) {
    lc_tensor_retain(a);
    return a;
  }
  lc_tensor *out = lc_empty(ctx, dtype, a->ndim, a->shape);
  if (!out) return NULL;
  lc__k_binary(LC_BIN_COPY, out, a, a->strides, a, a->strides);
  lc_tensor *in[1] = {a};
  return finish(ctx, out, &lc__def_cast, 1, in);
}

lc_tensor *lc_clone(lc_ctx *ctx, lc_tensor *a) {
  lc_tensor *out = lc_empty(ctx, a->dtype, a->ndim, a->shape);
  if (!out) return NULL;
  lc__k_binary(LC_BIN_COPY, out, a, a->strides, a, a->strides);
  lc_tensor *in[1] = {a};
  return finish(ctx, out, &lc__def_clone, 1, in);
}

lc_tensor *lc_contiguous(lc_ctx *ctx, lc_tensor *a) {
  if (lc_tensor_is_contiguous(a)) {
    lc_tensor_retain(a);
    return a;
  }
  return lc_clone(ctx, a);
}

/* ---- views ------------------------------------------------------------------ */

static lc_tensor *view_op(lc_ctx *ctx, const lc_op_def *op, lc_tensor *a, int ndim, const int64_t *shape,
                          const int64_t *strides, int64_t offset) {
  lc_tensor *out = lc__view(ctx, a, ndim, shape, strides, offset);
  if (!out) return NULL;
  lc_tensor *in[1] = {a};
  return finish(ctx, out, op, 1, in);
}

/* Strides that let `shape` view a's elements without a copy, if any
 * (PyTorch's computeStride): a's dims are taken in chunks that are
 * contiguous among themselves, and each chunk must be rebuilt exactly by
 * consecutive new dims. Handles expanded (stride 0) and permuted chunks. */
static int view_strides(const lc_tensor *a, int ndim, const int64_t *shape, int64_t *st) {
  if (a->numel == 0 || a->ndim == 0) {
    lc__contig_strides(ndim, shape, st);
    return 1;
  }
  int view_d = ndim - 1;
  int64_t chunk_base = a->strides[a->ndim - 1], tensor_numel = 1, view_numel = 1;
  for (int d = a->ndim - 1; d >= 0; d--) {
    tensor_numel *= a->shape[d];
    if (d == 0 || (a->shape[d - 1] != 1 && a->strides[d - 1] != tensor_numel * chunk_base)) {
      while (view_d >= 0 && (view_numel < tensor_numel || shape[view_d] == 1)) {
        st[view_d] = view_numel * chunk_base;
        view_numel *= shape[view_d];
        view_d--;
      }
      if (view_numel != tensor_numel) return 0;
      if (d > 0) {
        chunk_base = a->strides[d - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  return view_d == -1;
}

/* The target shape with -1 inferred; 0 (error set) when it cannot hold a's
 * elements. The product is checked as it grows, so no size wraps around. */
static int reshape_target(lc_ctx *ctx, const lc_tensor *a, int ndim, const int64_t *shape_in,
                          int64_t *shape) {
  if (ndim < 0 || ndim > LC_MAX_DIMS) {
    lc__fail(ctx, LC_EARG, "at most %d dimensions are supported, got %d", LC_MAX_DIMS, ndim);
    return 0;
  }
  int64_t known = 1;
  int infer = -1, ok = 1;
  for (int i = 0; ok && i < ndim; i++) {
    shape[i] = shape_in[i];
    if (shape[i] == -1 && infer < 0) infer = i;
    else if (shape[i] < 0) ok = 0;
    else if (shape[i] > 0 && known > INT64_MAX / shape[i]) ok = 0;
    else known *= shape[i];
  }
  if (ok && infer >= 0) {
    if (known == 0 || a->numel % known != 0) ok = 0;
    else shape[infer] = a->numel / known;
  } else if (ok && known != a->numel) {
    ok = 0;
  }
  if (!ok) {
    char sa[SHAPE_BUF], sb[SHAPE_BUF];
    lc_shape_str(sa, sizeof sa, a->ndim, a->shape);
    lc_shape_str(sb, sizeof sb, ndim, shape_in);
    lc__fail(ctx, LC_ESHAPE, "cannot reshape %s (%lld elements) into %s", sa,
             (long long)a->numel, sb);
  }
  return ok;
}

lc_tensor *lc_reshape(lc_ctx *ctx, lc_tensor *a, int ndim, const int64_t *shape_in) {
  int64_t shape[LC_MAX_DIMS], st[LC_MAX_DIMS];
  if (!reshape_target(ctx, a, ndim, shape_in, shape)) return NULL;
  if (view_strides(a, ndim, shape, st))
    return view_op(ctx, &lc__def_reshape, a, ndim, shape, st, a->offset);
  /* no view fits: a contiguous copy, reshaped */
  lc_tensor *c = contig_raw(ctx, a);
  if (!c) return NULL;
  lc__contig_strides(ndim, shape, st);
  lc_tensor *out = lc__view(ctx, c, ndim, shape, st, 0);
  lc_tensor_release(c);
  if (!out) return NULL;
  lc_tensor *in[1] = {a};
  return finish(ctx, out, &lc__def_reshape, 1, in);
}

lc_tensor *lc_view(lc_ctx *ctx, lc_tensor *a, int ndim, const int64_t *shape_in) {
  int64_t shape[LC_MAX_DIMS], st[LC_MAX_DIMS];
  if (!reshape_target(ctx, a, ndim, shape_in, shape)) return NULL;
  if (!view_strides(a, ndim, shape, st)) {
    char sa[SHAPE_BUF], sb[SHAPE_BUF];
    lc_shape_str(sa, sizeof sa, a->ndim, a->shape);
    lc_shape_str(sb, sizeof sb, ndim, shape_in);
    lc__fail(ctx, LC_ESHAPE, "shape %s cannot be viewed as %s: its strides do not allow it "
             "(use reshape, which copies, or contiguous() first)", sa, sb);
    return NULL;
  }
  return view_op(ctx, &lc__def_reshape, a, ndim, shape, st, a->offset);
}

static int check_dim(lc_ctx *ctx, const lc_tensor *a, int d) {
  if (d < 0 || d >= a->ndim) {
    char s[SHAPE_BUF];
    lc_shape_str(s, sizeof s, a->ndim, a->shape);
    lc__fail(ctx, LC_EARG, "dimension %d is out of range for shape %s", d + 1, s);
    return 0;
  }
  return 1;
}

lc_tensor *lc_transpose(lc_ctx *ctx, lc_tensor *a, int d0, int d1) {
  if (!check_dim(ctx, a, d0) || !check_dim(ctx, a, d1)) return NULL;
  int64_t shape[LC_MAX_DIMS], st[LC_MAX_DIMS];
  memcpy(shape, a->shape, sizeof shape);
  memcpy(st, a->strides, sizeof st);
  shape[d0] = a->shape[d1]; shape[d1] = a->shape[d0];
  st[d0] = a->strides[d1]; st[d1] = a->strides[d0];
  lc_tensor *out = view_op(ctx, &lc__def_transpose, a, a->ndim, shape, st, a->offset);
  if (out && out->node) { out->node->dim0 = d0; out->node->dim1 = d1; }
  return out;
}

lc_tensor *lc_select(lc_ctx *ctx, lc_tensor *a, int dim, int64_t index) {
  if (!check_dim(ctx, a, dim)) return NULL;
  if (index < 0 || index >= a->shape[dim]) {
    lc__fail(ctx, LC_EARG, "index %lld is out of range for a dimension of size %lld",
             (long long)index + 1, (long long)a->shape[dim]);
    return NULL;
  }
  int64_t shape[LC_MAX_DIMS], st[LC_MAX_DIMS];
  int k = 0;
  for (int i = 0; i < a->ndim; i++)
    if (i != dim) { shape[k] = a->shape[i]; st[k] = a->strides[i]; k++; }
  lc_tensor *out = view_op(ctx, &lc__def_select, a, a->ndim - 1, shape, st,
                           a->offset + index * a->strides[dim]);
  if (out && out->node) { out->node->dim0 = dim; out->node->index = index; }
  return out;
}

lc_tensor *lc_expand(lc_ctx *ctx, lc_tensor *a, int ndim, const int64_t *shape) {
  if (ndim < a->ndim || ndim > LC_MAX_DIMS) goto bad;
  int64_t st[LC_MAX_DIMS];
  for (int i = 0; i < ndim; i++) {
    int j = i - (ndim - a->ndim);
    if (j >= 0 && a->shape[j] != shape[i] && a->shape[j] != 1) goto bad;
    if (shape[i] < 0) goto bad;
    st[i] = (j < 0 || a->shape[j] != shape[i]) ? 0 : a->strides[j];
  }
  return view_op(ctx, &lc__def_expand, a, ndim, shape, st, a->offset);
bad: {
    char sa[SHAPE_BUF], sb[SHAPE_BUF];
    lc_shape_str(sa, sizeof sa, a->ndim, a->shape);
    lc_shape_str(sb, sizeof sb, ndim, shape);
    lc__fail(ctx, LC_ESHAPE, "cannot expand shape %s to %s", sa, sb);
    return NULL;
  }
}

/* ---- reductions ---------------------------------------------------------------- */

static lc_tensor *reduce_all(lc_ctx *ctx, const lc_op_def *op, lc_tensor *a) {
  double s = lc__k_sum_all(a);
  if (op == &lc__def_mean) s /= (double)a->numel;  /* 0/0 = nan for empty, as in PyTorch */
  lc_tensor *out = lc_scalar(ctx, a->dtype, s);
  if (!out) return NULL;
  lc_tensor *in[1] = {a};
  return finish(ctx, out, op, 1, in);
}

lc_tensor *lc_sum(lc_ctx *ctx, lc_tensor *a) { return reduce_all(ctx, &lc__def_sum, a); }
lc_tensor *lc_mean(lc_ctx *ctx, lc_tensor *a) { return reduce_all(ctx, &lc__def_mean, a); }

static lc_tensor *reduce_dim(lc_ctx *ctx, const lc_op_def *op, lc_tensor *a, int dim, int keepdim) {
  if (!check_dim(ctx, a, dim)) return NULL;
  int64_t shape[LC_MAX_DIMS];
  int k = 0;
  for (int i = 0; i < a->ndim; i++)
    if (i != dim) shape[k++] = a->shape[i];
  lc_tensor *out = lc_empty(ctx, a->dtype, a->ndim - 1, shape);
  if (!out) return NULL;
  double scale = op == &lc__def_mean_dim ? 1.0 / (double)a->shape[dim] : 1.0;
  lc__k_sum_dim(out, a, dim, scale);
  if (keepdim) {  /* the same storage, with a size-1 dim put back */
    for (int i = 0; i < a->ndim; i++) shape[i] = i == dim ? 1 : a->shape[i];
    int64_t st[LC_MAX_DIMS];
    lc__contig_strides(a->ndim, shape, st);
    lc_tensor *kept = lc__view(ctx, out, a->ndim, shape, st, 0);
    lc_tensor_release(out);
    if (!kept) return NULL;
    out = kept;
  }
  lc_tensor *in[1] = {a};
  out = finish(ctx, out, op, 1, in);
  if (out && out->node) { out->node->dim0 = dim; out->node->keepdim = keepdim; }
  return out;
}

lc_tensor *lc_sum_dim(lc_ctx *ctx, lc_tensor *a, int dim, int keepdim) {
  return reduce_dim(ctx, &lc__def_sum_dim, a, dim, keepdim);
}

lc_tensor *lc_mean_dim(lc_ctx *ctx, lc_tensor *a, int dim, int keepdim) {
  return reduce_dim(ctx, &lc__def_mean_dim, a, dim, keepdim);
}

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

/* Both operands have at least 2 dims here. */
static lc_tensor *matmul_nd(lc_ctx *ctx, lc_tensor *a, lc_tensor *b) {
  int an = a->ndim, bn = b->ndim;
  int64_t n = a->shape[an - 2], k = a->shape[an - 1], m = b->shape[bn - 1];
  /* batch dims broadcast like elementwise ops */
  int nb = (an > bn ? an : bn) - 2;
  int64_t bshape[LC_MAX_DIMS], ast[LC_MAX_DIMS], bst[LC_MAX_DIMS];
  for (int i = 0; i < nb; i++) {
    int ia = i - (nb - (an - 2)), ib = i - (nb - (bn - 2));
    int64_t da = ia >= 0 ? a->shape[ia] : 1, db = ib >= 0 ? b->shape[ib] : 1;
    if (da != db && da != 1 && db != 1)
      return fail_shapes(ctx, "batch dimensions of shapes %s and %s do not broadcast", a, b);
    bshape[i] = da == 1 ? db : da;
    ast[i] = (ia < 0 || da == 1) ? 0 : a->strides[ia];
    bst[i] = (ib < 0 || db == 1) ? 0 : b->strides[ib];
  }
  int64_t oshape[LC_MAX_DIMS];
  memcpy(oshape, bshape, sizeof(int64_t) * (size_t)nb);
  oshape[nb] = n;
  oshape[nb + 1] = m;
  int overflow;
  lc__numel(nb + 2, oshape, &overflow);
  if (overflow)  /* before copying operands that may be huge expansions */
    return fail_shapes(ctx, "shapes %s and %s give a product too large to hold", a, b);
  lc_tensor *ac = blas_ready(a) ? (lc_tensor_retain(a), a) : contig_raw(ctx, a);
  lc_tensor *bc = ac ? (blas_ready(b) ? (lc_tensor_retain(b), b) : contig_raw(ctx, b)) : NULL;
  lc_tensor *out = bc ? lc_empty(ctx, a->dtype, nb + 2, oshape) : NULL;
  if (!out) goto done;
  int64_t batches = 1;
  for (int i = 0; i < nb; i++) batches *= bshape[i];
  size_t es = lc_dtype_size(a->dtype);
  if (out->numel == 0) {
    /* no results to compute (and no buffer to point into) */
  } else if (bn == 2 && lc_tensor_is_contiguous(ac)) {
    /* a shared right operand: fold the batch into the rows, one GEMM */
    int64_t s2[2] = {k, 1};
    matmul_2d(a->dtype, ac, ac->offset, s2, bc, bc->offset, bc->strides, batches * n, k, m,
              out->storage->data, 0.0);
  } else {
    /* recompute batch strides of the (maybe copied) operands */
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
                n, k, m, (char *)out->storage->data + t * n * m * (int64_t)es, 0.0);
      for (int d = nb - 1; d >= 0; d--) {
        if (++idx[d] < bshape[d]) break;
        idx[d] = 0;
      }
    }
  }
  {
    lc_tensor *in[2] = {a, b};
    out = finish(ctx, out, &lc__def_matmul, 2, in);
  }
done:
  lc_tensor_release(ac);
  lc_tensor_release(bc);
  return out;
}

lc_tensor *lc_matmul(lc_ctx *ctx, lc_tensor *a, lc_tensor *b) {
  if (a->ndim == 0 || b->ndim == 0)
    return fail_shapes(ctx, "shapes %s and %s: both need at least one dimension", a, b);
  int64_t ka = a->shape[a->ndim - 1], kb = b->ndim == 1 ? b->shape[0] : b->shape[b->ndim - 2];
  if (ka != kb) {
    char sa[SHAPE_BUF], sb[SHAPE_BUF];
    lc_shape_str(sa, sizeof sa, a->ndim, a->shape);
    lc_shape_str(sb, sizeof sb, b->ndim, b->shape);
    lc__fail(ctx, LC_ESHAPE, "shapes %s and %s do not fit (%lld ~= %lld)", sa, sb,
             (long long)ka, (long long)kb);
    return NULL;
  }
  if (a->dtype != b->dtype) {
    lc_tensor *ca = lc_to_dtype(ctx, a, LC_FLOAT64);
    lc_tensor *cb = ca ? lc_to_dtype(ctx, b, LC_FLOAT64) : NULL;
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
    fail_shapes(ctx, "input %s and weight %s: weight must be 2-D and input at least 1-D", x, w);
    return 0;
  }
  int64_t in = w->shape[1], outf = w->shape[0];
  if (x->shape[x->ndim - 1] != in) {
    char sa[SHAPE_BUF], sb[SHAPE_BUF];
    lc_shape_str(sa, sizeof sa, x->ndim, x->shape);
    lc_shape_str(sb, sizeof sb, w->ndim, w->shape);
    lc__fail(ctx, LC_ESHAPE, "input %s and weight %s do not fit (%lld ~= %lld)", sa, sb,
             (long long)x->shape[x->ndim - 1], (long long)in);
    return 0;
  }
  if (b && (b->ndim != 1 || b->shape[0] != outf)) {
    fail_shapes(ctx, "bias %s does not fit weight %s", b, w);
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
    fail_shapes(ctx, "input %s and weight %s give an output too large to hold", x, w);
    return 0;
  }
  return 1;
}

/* y (rows, out) = x (rows, in) @ w^T (in, out) + b, y contiguous. Allocates
 * only when x or w must be copied to suit BLAS (never for contiguous ones). */
static int linear_into(lc_ctx *ctx, lc_tensor *y, lc_tensor *x, lc_tensor *w, lc_tensor *b) {
  int64_t in = w->shape[1], outf = w->shape[0];
  lc_tensor *xc = contig_raw(ctx, x);
  lc_tensor *wc = xc ? (blas_ready(w) ? (lc_tensor_retain(w), w) : contig_raw(ctx, w)) : NULL;
  if (wc) {
    if (b) lc_copy_(ctx, y, b);  /* every row starts as the bias; GEMM adds (beta = 1) */
    int wt = 0;
    int64_t ldw = 1;
    mat_layout(outf, in, wc->strides[0], wc->strides[1], &wt, &ldw);
    lc__k_gemm(x->dtype, 0, !wt, lc__leading_rows(x), outf, in, 1.0, lc_tensor_data(xc), in,
               lc_tensor_data(wc), ldw, b ? 1.0 : 0.0, lc_tensor_data(y), outf);
  }
  lc_tensor_release(xc);
  lc_tensor_release(wc);
  return wc != NULL;
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
  return y ? finish(ctx, y, &lc__def_linear, b ? 3 : 2, inputs) : NULL;
}

/* An out= result must be the right kind of buffer, and records no graph. */
static int check_out(lc_ctx *ctx, const lc_tensor *out, lc_dtype dtype, int ndim,
                     const int64_t *shape, int n, lc_tensor **inputs) {
  int same = out->ndim == ndim && out->dtype == dtype && lc_tensor_is_contiguous(out);
  for (int i = 0; same && i < ndim; i++) same = out->shape[i] == shape[i];
  if (!same) {
    char so[SHAPE_BUF], se[SHAPE_BUF];
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
  return 1;
}

lc_status lc_linear_out(lc_ctx *ctx, lc_tensor *out, lc_tensor *x, lc_tensor *w, lc_tensor *b) {
  int64_t shape[LC_MAX_DIMS];
  lc_tensor *inputs[3] = {x, w, b};
  if (!linear_check(ctx, x, w, b, shape) ||
      !check_out(ctx, out, x->dtype, x->ndim, shape, b ? 3 : 2, inputs) ||
      !linear_into(ctx, out, x, w, b))
    return ctx->status;
  return LC_OK;
}

lc_status lc_tanh_out(lc_ctx *ctx, lc_tensor *out, lc_tensor *x) {
  lc_tensor *inputs[1] = {x};
  if (!check_out(ctx, out, x->dtype, x->ndim, x->shape, 1, inputs)) return ctx->status;
  lc__k_unary(LC_UN_TANH, out, x, 0);  /* out may be x itself: elementwise, in order */
  return LC_OK;
}

lc_tensor *lc__contig_raw(lc_ctx *ctx, lc_tensor *a) { return contig_raw(ctx, a); }

int64_t lc__leading_rows(const lc_tensor *x) {
  int64_t rows = 1;
  for (int i = 0; i < x->ndim - 1; i++) rows *= x->shape[i];
  return rows;
}

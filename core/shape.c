/* shape.c: shape and indexing ops, each with its backward rule beside it.
 *
 * Views are a new header (shape, strides, offset) over a's storage, made by
 * lc__view; their rules put g back into a's shape. Copies write a fresh
 * contiguous tensor, through memcpy where whole runs line up (cat, stack,
 * index_select, repeat) and through the strided copy kernel otherwise.
 *
 * Many loops below borrow a header: `lc_tensor h = *t` with a changed
 * shape, strides or offset describes a block of t's storage without an
 * allocation (lc__k_sum_dim does the same). Such headers are never
 * retained or released.
 *
 * Index tensors are read once into an int64 buffer (ibuf) that checks every
 * value; the node keeps that buffer for backward (node->user), so the rule
 * needs neither the index tensor nor a second check. */
#include "internal.h"

#include <math.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------------ */

static int rule_reshape(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int rule_transpose(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int rule_permute(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int rule_expand(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int rule_select(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int rule_block(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int rule_cat(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int rule_stack(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int rule_index_select(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int rule_gather(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int rule_scatter_add(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int rule_masked_fill(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int rule_repeat(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int rule_flip(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int rule_index_put(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);

enum {
#define SHAPE(name, ...) SH_##name,
#define SHAPE_NONDIFF(name, ...) SH_##name,
#include "shape.def"
  SH_COUNT
};

static int replay_shape(lc_ctx *ctx, lc_node *n);
/* The rows replay_shape computes again (the others are not compiled yet). */
#define SH_IS_VIEW(op)                                                             \
  ((op) == SH_reshape || (op) == SH_view || (op) == SH_flatten || (op) == SH_squeeze || \
   (op) == SH_unsqueeze || (op) == SH_transpose || (op) == SH_t || (op) == SH_permute || \
   (op) == SH_expand || (op) == SH_broadcast_to || (op) == SH_select || (op) == SH_narrow || \
   (op) == SH_slice || (op) == SH_split)
/* Ops that read more than their inputs (an index, a mask, positions) take
 * it as one more input while tracing, so that a plan knows where it came
 * from; their rules read the copy the node keeps (user, saved). */
#define SH_REPLAYS(op)                                                             \
  (SH_IS_VIEW(op) || (op) == SH_cat || (op) == SH_stack || (op) == SH_index_select || \
   (op) == SH_gather || (op) == SH_scatter_add || (op) == SH_masked_fill || (op) == SH_repeat || \
   (op) == SH_flip || (op) == SH_index_put || (op) == SH_argsort || (op) == SH_topk || \
   (op) == SH_searchsorted || (op) == SH_cummax || (op) == SH_cummin)

static const lc__opdef SH[] = {
/* shape rules move gradients by shapes and indices; values they need
 * (masks) are saved, and checked */
#define SHAPE(name, Bw, rule)                                                      \
  [SH_##name] = {{#Bw "Backward", rule, 1}, SH_##name, SH_REPLAYS(SH_##name) ? replay_shape : NULL},
/* sort.c's indices: a node only while tracing (lc__order_finish), named for the plan */
#define SHAPE_NONDIFF(name, reason)                                                \
  [SH_##name] = {{SH_REPLAYS(SH_##name) ? #name : NULL, NULL, 0}, SH_##name,         \
                 SH_REPLAYS(SH_##name) ? replay_shape : NULL},
#include "shape.def"
};
_Static_assert(sizeof SH / sizeof SH[0] == SH_COUNT, "a shape row without its table entry");

static lc_tensor *view_op(lc_ctx *ctx, int op, lc_tensor *a, int ndim, const int64_t *shape,
                          const int64_t *strides, int64_t offset) {
  lc_tensor *in[1] = {a};
  return lc__finish(ctx, lc__view(ctx, a, ndim, shape, strides, offset), &SH[op].def, 1, in);
}

static int64_t prod(const int64_t *shape, int from, int to) {
  int64_t p = 1;
  for (int i = from; i < to; i++) p *= shape[i];
  return p;
}

/* A block of t: dim `dim` cut to `len` elements from `start`, every `step`th. */
static lc_tensor block(const lc_tensor *t, int dim, int64_t start, int64_t len, int64_t step) {
  lc_tensor h = *t;
  h.offset = t->offset + start * t->strides[dim];
  h.shape[dim] = len;
  h.strides[dim] = t->strides[dim] * step;
  h.numel = prod(h.shape, 0, h.ndim);
  return h;
}

/* The slice of t at `index` along dim, without that dim (select's header). */
static lc_tensor slice_at(const lc_tensor *t, int dim, int64_t index) {
  lc_tensor h = *t;
  h.offset = t->offset + index * t->strides[dim];
  for (int i = dim; i < t->ndim - 1; i++) {
    h.shape[i] = t->shape[i + 1];
    h.strides[i] = t->strides[i + 1];
  }
  h.ndim = t->ndim - 1;
  h.numel = prod(h.shape, 0, h.ndim);
  return h;
}

/* dst = src, same shape. dst is a block of a fresh contiguous tensor in
 * which dims `from`.. are whole, so each run of src's last dims from `from`
 * on is one contiguous stretch of dst, and runs follow one another at
 * dst->strides[from - 1]. A contiguous src of dst's dtype then goes over in
 * whole runs; anything else through the strided copy kernel. */
static void copy_runs(lc_tensor *dst, const lc_tensor *src, int from) {
  if (dst->numel == 0) return;
  int64_t run = prod(src->shape, from, src->ndim);
  if (src->dtype == dst->dtype && run >= 8 && lc_tensor_is_contiguous(src)) {
    size_t es = lc_dtype_size(dst->dtype);
    int64_t outer = src->numel / run, step = from > 0 ? dst->strides[from - 1] : 0;
    char *d = (char *)lc_tensor_data(dst);
    const char *s = (const char *)lc_tensor_data(src);
    for (int64_t o = 0; o < outer; o++)
      memcpy(d + (size_t)(o * step) * es, s + (size_t)(o * run) * es, (size_t)run * es);
    return;
  }
  lc__k_copy(dst, src, src->strides);
}

/* g in dtype dt: g itself (retained) or a converted copy. */
static lc_tensor *as_dtype(lc_ctx *ctx, lc_tensor *g, lc_dtype dt) {
  return g ? lc_to_dtype(ctx, g, dt) : NULL;
}

/* Takes ownership of g and converts it to dt. */
static lc_tensor *owned_as_dtype(lc_ctx *ctx, lc_tensor *g, lc_dtype dt) {
  lc_tensor *r = as_dtype(ctx, g, dt);
  lc_tensor_release(g);
  return r;
}

/* ---- checked indices ----------------------------------------------------------- */

typedef struct ibuf {
  size_t bytes;
  int64_t n;
  int64_t v[];   /* the index tensor's values, row-major */
} ibuf;

static void ibuf_free(lc_ctx *ctx, void *p) {
  if (p) lc__free(ctx, p, ((ibuf *)p)->bytes);
}

static int index_values(lc_ctx *ctx, const lc_tensor *index, int dim, int64_t size, int64_t from,
                        int64_t *v_out);

static int bad_index(lc_ctx *ctx, double v, int dim, int64_t size) {
  if (v != v)  /* printf would say "-nan" for 0/0 on some machines */
    lc__fail(ctx, LC_EARG, "index nan is not an integer");
  else if (v != floor(v))
    lc__fail(ctx, LC_EARG, "index %.17g is not an integer", v + 1);
  else
    lc__fail(ctx, LC_EARG, "index %.17g is out of range for dimension %d of size %lld", v + 1,
             dim + 1, (long long)size);
  return 0;
}

/* Reads every value of index less from (0, or 1 for a caller's 1-based
 * values), checking that it is an integer in [0, size). */
static ibuf *read_index_from(lc_ctx *ctx, const lc_tensor *index, int dim, int64_t size,
                             int64_t from) {
  size_t bytes = sizeof(ibuf) + sizeof(int64_t) * (size_t)index->numel;
  ibuf *b = (ibuf *)lc__alloc(ctx, bytes);
  if (!b) return NULL;
  b->bytes = bytes;
  b->n = index->numel;
  if (!index_values(ctx, index, dim, size, from, b->v)) {
    ibuf_free(ctx, b);
    return NULL;
  }
  return b;
}

/* read_index_from's values into v[index->numel]; 0 with the error. */
static int index_values(lc_ctx *ctx, const lc_tensor *index, int dim, int64_t size, int64_t from,
                        int64_t *v_out) {
  if (index->numel == 0) return 1;
  lc_walk w;
  int64_t base[1] = {index->offset};
  lc__walk_init(&w, index->ndim, index->shape, 1, (const int64_t *const[]){index->strides}, base);
  int64_t len = w.shape[w.ndim - 1], s = w.st[0][w.ndim - 1], rows = lc__walk_rows(&w), k = 0;
  for (int64_t r = 0; r < rows; r++, lc__walk_next(&w)) {
    if (index->dtype == LC_INT64) {  /* the usual index (argsort's, argmax's): no dtype switch */
      const int64_t *p = (const int64_t *)index->storage->data + w.off[0];
      for (int64_t i = 0; i < len; i++) {
        int64_t v = (int64_t)((uint64_t)p[i * s] - (uint64_t)from);
        if (v < 0 || v >= size) return bad_index(ctx, (double)v, dim, size);
        v_out[k++] = v;
      }
      continue;
    }
    for (int64_t i = 0; i < len; i++) {
      int64_t off = w.off[0] + i * s, v;
      if (lc_dtype_is_float(index->dtype)) {  /* whole numbers in a float tensor */
        double f = (index->dtype == LC_FLOAT64 ? ((const double *)index->storage->data)[off]
                                               : (double)((const float *)index->storage->data)[off]) -
                   (double)from;
        if (!(f >= 0 && f < (double)size && f == floor(f))) return bad_index(ctx, f, dim, size);
        v = (int64_t)f;
      } else {
        /* unsigned: the most negative index stays out of range, never overflows */
        v = (int64_t)((uint64_t)lc__int_at(index, off) - (uint64_t)from);
        if (v < 0 || v >= size) return bad_index(ctx, (double)v, dim, size);
      }
      v_out[k++] = v;
    }
  }
  return 1;
}

static ibuf *read_index(lc_ctx *ctx, const lc_tensor *index, int dim, int64_t size) {
  return read_index_from(ctx, index, dim, size, 0);
}

/* lc__finish for ops whose node keeps the checked indices. Takes ownership
 * of ib. in[n] is the index tensor: an input only while tracing (see
 * SH_REPLAYS); the rule reads ib. */
static lc_tensor *finish_indexed(lc_ctx *ctx, lc_tensor *out, int op, int n, lc_tensor **in,
                                 ibuf *ib, int dim) {
  out = lc__finish(ctx, out, &SH[op].def, ctx->trace ? n + 1 : n, in);
  if (out && out->node) {
    out->node->user = ib;
    out->node->user_free = ibuf_free;
    out->node->p.index.dim = dim;
  } else {
    ibuf_free(ctx, ib);
  }
  return out;
}

/* ---- reshape, view, transpose, select, expand ------------------------------------------------------------------ */

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
    char sa[LC_SHAPE_STR], sb[LC_SHAPE_STR];
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
    return view_op(ctx, SH_reshape, a, ndim, shape, st, a->offset);
  /* no view fits: a contiguous copy, reshaped */
  lc_tensor *c = lc__contig_raw(ctx, a);
  if (!c) return NULL;
  lc__contig_strides(ndim, shape, st);
  lc_tensor *out = lc__view(ctx, c, ndim, shape, st, 0);
  lc_tensor_release(c);
  if (!out) return NULL;
  lc_tensor *in[1] = {a};
  return lc__finish(ctx, out, &SH[SH_reshape].def, 1, in);
}

lc_tensor *lc_view(lc_ctx *ctx, lc_tensor *a, int ndim, const int64_t *shape_in) {
  int64_t shape[LC_MAX_DIMS], st[LC_MAX_DIMS];
  if (!reshape_target(ctx, a, ndim, shape_in, shape)) return NULL;
  if (!view_strides(a, ndim, shape, st)) {
    char sa[LC_SHAPE_STR], sb[LC_SHAPE_STR];
    lc_shape_str(sa, sizeof sa, a->ndim, a->shape);
    lc_shape_str(sb, sizeof sb, ndim, shape_in);
    lc__fail(ctx, LC_ESHAPE, "shape %s cannot be viewed as %s: its strides do not allow it "
             "(use reshape, which copies, or contiguous() first)", sa, sb);
    return NULL;
  }
  return view_op(ctx, SH_view, a, ndim, shape, st, a->offset);
}

lc_tensor *lc_transpose(lc_ctx *ctx, lc_tensor *a, int d0, int d1) {
  if (!lc__check_dim(ctx, a, d0) || !lc__check_dim(ctx, a, d1)) return NULL;
  int64_t shape[LC_MAX_DIMS], st[LC_MAX_DIMS];
  memcpy(shape, a->shape, sizeof shape);
  memcpy(st, a->strides, sizeof st);
  shape[d0] = a->shape[d1]; shape[d1] = a->shape[d0];
  st[d0] = a->strides[d1]; st[d1] = a->strides[d0];
  lc_tensor *out = view_op(ctx, SH_transpose, a, a->ndim, shape, st, a->offset);
  if (out && out->node) {
    out->node->p.transpose.d0 = d0;
    out->node->p.transpose.d1 = d1;
  }
  return out;
}

lc_tensor *lc_select(lc_ctx *ctx, lc_tensor *a, int dim, int64_t index) {
  if (!lc__check_dim(ctx, a, dim)) return NULL;
  if (index < 0 || index >= a->shape[dim]) {
    lc__fail(ctx, LC_EARG, "index %lld is out of range for a dimension of size %lld",
             (long long)index + 1, (long long)a->shape[dim]);
    return NULL;
  }
  int64_t shape[LC_MAX_DIMS], st[LC_MAX_DIMS];
  int k = 0;
  for (int i = 0; i < a->ndim; i++)
    if (i != dim) { shape[k] = a->shape[i]; st[k] = a->strides[i]; k++; }
  lc_tensor *out = view_op(ctx, SH_select, a, a->ndim - 1, shape, st,
                           a->offset + index * a->strides[dim]);
  if (out && out->node) {
    out->node->p.select.dim = dim;
    out->node->p.select.index = index;
  }
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
  return view_op(ctx, SH_expand, a, ndim, shape, st, a->offset);
bad: {
    char sa[LC_SHAPE_STR], sb[LC_SHAPE_STR];
    lc_shape_str(sa, sizeof sa, a->ndim, a->shape);
    lc_shape_str(sb, sizeof sb, ndim, shape);
    lc__fail(ctx, LC_ESHAPE, "cannot expand shape %s to %s", sa, sb);
    return NULL;
  }
}

/* ---- rules that record (LC_CREATE_GRAPH) -------------------------------------
 * Rules that write g into zeros (select, narrow, slice, split, index_select,
 * gather) do it with scatter_add when their gradient is to be differentiated
 * again: scatter_add's own gradient (a gather) is recorded in turn. */

/* An int64 index of g's shape holding, at position k along dim, v[k] (or
 * start + k step without v), whatever the other coordinates. */
static lc_tensor *index_along(lc_ctx *ctx, const lc_tensor *g, int dim, int64_t start,
                              int64_t step, const int64_t *v) {
  int64_t len = g->shape[dim], shape[LC_MAX_DIMS];
  lc_tensor *pos = lc_empty(ctx, LC_INT64, 1, &len);
  if (!pos) return NULL;
  int64_t *p = (int64_t *)lc_tensor_data(pos);
  for (int64_t k = 0; k < len; k++) p[k] = v ? v[k] : start + k * step;
  for (int i = 0; i < g->ndim; i++) shape[i] = i == dim ? len : 1;
  lc_tensor *r = lc_reshape(ctx, pos, g->ndim, shape);
  lc_tensor *e = r ? lc_expand(ctx, r, g->ndim, g->shape) : NULL;
  lc_tensor_release(pos);
  lc_tensor_release(r);
  return e;
}

/* Zeros of a's shape and dtype with g added at index along dim. Takes
 * ownership of index. */
static lc_tensor *scatter_into_zeros(lc_ctx *ctx, const lc_tensor *a, int dim, lc_tensor *index,
                                     lc_tensor *g) {
  lc_tensor *z = index ? lc_zeros(ctx, a->dtype, a->ndim, a->shape) : NULL;
  lc_tensor *gg = z ? as_dtype(ctx, g, a->dtype) : NULL;
  lc_tensor *r = gg ? lc_scatter_add(ctx, z, dim, index, gg) : NULL;
  lc_tensor_release(z);
  lc_tensor_release(gg);
  lc_tensor_release(index);
  return r;
}

/* An index tensor of shape[ndim] holding ib's values (int64). */
static lc_tensor *index_tensor(lc_ctx *ctx, const int64_t *v, int ndim, const int64_t *shape) {
  lc_tensor *t = lc_empty(ctx, LC_INT64, ndim, shape);
  if (t && t->numel) memcpy(lc_tensor_data(t), v, sizeof(int64_t) * (size_t)t->numel);
  return t;
}

static int rule_transpose(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  grads[0] = lc_transpose(ctx, g, n->p.transpose.d0, n->p.transpose.d1);
  return 1;
}

/* zeros, with g written into the selected slice */
static int rule_select(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  lc_tensor *a = n->inputs[0];
  if (lc_ctx_grad_enabled(ctx)) {
    int dim = n->p.select.dim;
    lc_tensor *gu = lc_unsqueeze(ctx, g, dim);
    lc_tensor *ix = gu ? index_along(ctx, gu, dim, n->p.select.index, 1, NULL) : NULL;
    grads[0] = scatter_into_zeros(ctx, a, dim, ix, gu);
    lc_tensor_release(gu);
    return grads[0] != NULL;
  }
  lc_tensor *z = lc_zeros(ctx, a->dtype, a->ndim, a->shape);
  lc_tensor *slot = z ? lc_select(ctx, z, n->p.select.dim, n->p.select.index) : NULL;
  if (slot && lc_copy_(ctx, slot, g) == LC_OK) grads[0] = lc__retained(z);
  lc_tensor_release(slot);
  lc_tensor_release(z);
  return 1;
}

static int rule_expand(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  lc_tensor *a = n->inputs[0];
  grads[0] = lc__sum_to(ctx, g, a->ndim, a->shape);
  return 1;
}

/* ---- views: rules ---------------------------------------------------------------- */

/* reshape, view, flatten, squeeze, unsqueeze: same elements, another shape */
static int rule_reshape(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  lc_tensor *a = n->inputs[0];
  grads[0] = lc_reshape(ctx, g, a->ndim, a->shape);
  return 1;
}

static int rule_permute(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  int inv[LC_MAX_DIMS];
  for (int i = 0; i < g->ndim; i++) inv[n->p.permute.perm[i]] = i;
  grads[0] = lc_permute(ctx, g, inv);
  return 1;
}

/* narrow, slice, split: zeros, with g written into the block the view saw */
static int rule_block(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  lc_tensor *a = n->inputs[0];
  if (lc_ctx_grad_enabled(ctx)) {
    int dim = n->p.block.dim;
    lc_tensor *ix = index_along(ctx, g, dim, n->p.block.start, n->p.block.step, NULL);
    return (grads[0] = scatter_into_zeros(ctx, a, dim, ix, g)) != NULL;
  }
  lc_tensor *z = lc_zeros(ctx, a->dtype, a->ndim, a->shape);
  if (!z) return 0;
  lc_tensor h = block(z, n->p.block.dim, n->p.block.start, n->p.block.len, n->p.block.step);
  lc_copy_(ctx, &h, g);
  grads[0] = z;
  return 1;
}


/* ---- views ---------------------------------------------------------------------- */

lc_tensor *lc_flatten(lc_ctx *ctx, lc_tensor *a, int start, int end) {
  if (a->ndim == 0) {
    if (start != 0 || end != 0) {
      lc__fail(ctx, LC_EARG, "dimension %d is out of range for shape {}",
               (start != 0 ? start : end) + 1);
      return NULL;
    }
    int64_t one = 1;
    return view_op(ctx, SH_flatten, a, 1, &one, &one, a->offset);
  }
  if (!lc__check_dim(ctx, a, start) || !lc__check_dim(ctx, a, end)) return NULL;
  if (start > end) {
    lc__fail(ctx, LC_EARG, "start dimension %d comes after end dimension %d", start + 1, end + 1);
    return NULL;
  }
  if (start == end) return lc__retained(a);
  int64_t shape[LC_MAX_DIMS], st[LC_MAX_DIMS];
  int k = 0;
  for (int i = 0; i < start; i++, k++) { shape[k] = a->shape[i]; st[k] = a->strides[i]; }
  int64_t merged = prod(a->shape, start, end + 1);
  /* mergeable: each non-1 dim steps over exactly the next non-1 dim's extent;
   * the merged dim then walks with the innermost one's stride */
  int ok = 1;
  int64_t inner = 1, need = -1;
  for (int i = end; i >= start; i--) {
    if (a->shape[i] == 1) continue;
    if (need >= 0 && a->strides[i] != need) ok = 0;
    if (need < 0) inner = a->strides[i];
    need = a->strides[i] * a->shape[i];
  }
  if (!ok && merged != 0) {  /* as reshape: a copy when the dims cannot merge */
    int64_t s[LC_MAX_DIMS];
    int m = 0;
    for (int i = 0; i < start; i++) s[m++] = a->shape[i];
    s[m++] = merged;
    for (int i = end + 1; i < a->ndim; i++) s[m++] = a->shape[i];
    lc_tensor *c = lc__contig_raw(ctx, a);
    if (!c) return NULL;
    int64_t cs[LC_MAX_DIMS];
    lc__contig_strides(m, s, cs);
    lc_tensor *out = lc__view(ctx, c, m, s, cs, c->offset);
    lc_tensor_release(c);
    if (!out) return NULL;
    lc_tensor *in[1] = {a};
    return lc__finish(ctx, out, &SH[SH_flatten].def, 1, in);
  }
  shape[k] = merged;
  st[k++] = inner;
  for (int i = end + 1; i < a->ndim; i++, k++) { shape[k] = a->shape[i]; st[k] = a->strides[i]; }
  return view_op(ctx, SH_flatten, a, k, shape, st, a->offset);
}

/* a without the dims flagged in drop[] */
static lc_tensor *squeeze_dims(lc_ctx *ctx, lc_tensor *a, const int *drop) {
  int64_t shape[LC_MAX_DIMS], st[LC_MAX_DIMS];
  int k = 0;
  for (int i = 0; i < a->ndim; i++)
    if (!drop[i]) { shape[k] = a->shape[i]; st[k] = a->strides[i]; k++; }
  return view_op(ctx, SH_squeeze, a, k, shape, st, a->offset);
}

lc_tensor *lc_squeeze(lc_ctx *ctx, lc_tensor *a) {
  int drop[LC_MAX_DIMS] = {0};
  for (int i = 0; i < a->ndim; i++) drop[i] = a->shape[i] == 1;
  return squeeze_dims(ctx, a, drop);
}

lc_tensor *lc_squeeze_dim(lc_ctx *ctx, lc_tensor *a, int dim) {
  int drop[LC_MAX_DIMS] = {0};
  if (!(a->ndim == 0 && dim == 0)) {
    if (!lc__check_dim(ctx, a, dim)) return NULL;
    drop[dim] = a->shape[dim] == 1;
  }
  return squeeze_dims(ctx, a, drop);
}

lc_tensor *lc_unsqueeze(lc_ctx *ctx, lc_tensor *a, int dim) {
  if (dim < 0 || dim > a->ndim) {
    char s[LC_SHAPE_STR];
    lc_shape_str(s, sizeof s, a->ndim, a->shape);
    lc__fail(ctx, LC_EARG, "dimension %d is out of range for a new dimension of shape %s "
             "(expected 1..%d)", dim + 1, s, a->ndim + 1);
    return NULL;
  }
  if (a->ndim == LC_MAX_DIMS) {
    lc__fail(ctx, LC_EARG, "at most %d dimensions are supported", LC_MAX_DIMS);
    return NULL;
  }
  int64_t shape[LC_MAX_DIMS], st[LC_MAX_DIMS];
  for (int i = 0, k = 0; i <= a->ndim; i++) {
    if (i == dim) {  /* any stride works for size 1; this one keeps a contiguous a contiguous */
      shape[i] = 1;
      st[i] = dim < a->ndim ? a->strides[dim] * a->shape[dim] : 1;
    } else {
      shape[i] = a->shape[k];
      st[i] = a->strides[k++];
    }
  }
  return view_op(ctx, SH_unsqueeze, a, a->ndim + 1, shape, st, a->offset);
}

lc_tensor *lc_permute(lc_ctx *ctx, lc_tensor *a, const int *perm) {
  int seen[LC_MAX_DIMS] = {0};
  int64_t shape[LC_MAX_DIMS], st[LC_MAX_DIMS];
  for (int i = 0; i < a->ndim; i++) {
    if (!lc__check_dim(ctx, a, perm[i])) return NULL;
    if (seen[perm[i]]++) {
      lc__fail(ctx, LC_EARG, "dimension %d appears more than once in the permutation",
               perm[i] + 1);
      return NULL;
    }
    shape[i] = a->shape[perm[i]];
    st[i] = a->strides[perm[i]];
  }
  lc_tensor *out = view_op(ctx, SH_permute, a, a->ndim, shape, st, a->offset);
  if (out && out->node)
    for (int i = 0; i < a->ndim; i++) out->node->p.permute.perm[i] = perm[i];
  return out;
}

lc_tensor *lc_t(lc_ctx *ctx, lc_tensor *a) {
  if (a->ndim <= 1) return lc__retained(a);
  if (a->ndim > 2) {
    char s[LC_SHAPE_STR];
    lc_shape_str(s, sizeof s, a->ndim, a->shape);
    lc__fail(ctx, LC_ESHAPE, "expects a tensor with at most 2 dimensions, got shape %s", s);
    return NULL;
  }
  return lc_transpose(ctx, a, 0, 1);
}

lc_tensor *lc_broadcast_to(lc_ctx *ctx, lc_tensor *a, int ndim, const int64_t *shape) {
  return lc_expand(ctx, a, ndim, shape);
}

static lc_tensor *block_view(lc_ctx *ctx, int op, lc_tensor *a, int dim, int64_t start,
                             int64_t len, int64_t step) {
  lc_tensor h = block(a, dim, start, len, step);
  lc_tensor *out = view_op(ctx, op, a, a->ndim, h.shape, h.strides, h.offset);
  if (out && out->node) {
    out->node->p.block.dim = dim;
    out->node->p.block.start = start;
    out->node->p.block.len = len;
    out->node->p.block.step = step;
  }
  return out;
}

lc_tensor *lc_narrow(lc_ctx *ctx, lc_tensor *a, int dim, int64_t start, int64_t length) {
  if (!lc__check_dim(ctx, a, dim)) return NULL;
  int64_t size = a->shape[dim];
  if (start < 0 || start > size || length < 0 || length > size - start) {
    lc__fail(ctx, LC_EARG, "start %lld and length %lld do not fit dimension %d of size %lld",
             (long long)start + 1, (long long)length, dim + 1, (long long)size);
    return NULL;
  }
  return block_view(ctx, SH_narrow, a, dim, start, length, 1);
}

lc_tensor *lc_slice(lc_ctx *ctx, lc_tensor *a, int dim, int64_t start, int64_t stop,
                    int64_t step) {
  if (!lc__check_dim(ctx, a, dim)) return NULL;
  int64_t size = a->shape[dim];
  if (step < 1) {
    lc__fail(ctx, LC_EARG, "step must be at least 1, got %lld", (long long)step);
    return NULL;
  }
  if (start < 0 || start > stop || stop > size) {
    lc__fail(ctx, LC_EARG, "slice %lld to %lld does not fit dimension %d of size %lld",
             (long long)start + 1, (long long)stop, dim + 1, (long long)size);
    return NULL;
  }
  int64_t len = stop == start ? 0 : (stop - start - 1) / step + 1;  /* no overflow for any step */
  return block_view(ctx, SH_slice, a, dim, start, len, step);
}

lc_status lc_split(lc_ctx *ctx, lc_tensor *a, int dim, int64_t n, const int64_t *sizes,
                   lc_tensor **out) {
  for (int64_t i = 0; i < n; i++) out[i] = NULL;
  if (!lc__check_dim(ctx, a, dim)) return ctx->status;
  for (int64_t i = 0; i < n; i++)
    if (sizes[i] < 0)
      return lc__fail(ctx, LC_EARG, "split size %lld (piece %lld) is negative",
                      (long long)sizes[i], (long long)i + 1);
  int64_t sum = 0;
  for (int64_t i = 0; i < n && sum <= a->shape[dim]; i++) sum += sizes[i];  /* no overflow */
  if (sum != a->shape[dim]) {
    char s[LC_SHAPE_STR];
    lc_shape_str(s, sizeof s, n > LC_MAX_DIMS * 4 ? LC_MAX_DIMS * 4 : (int)n, sizes);
    return lc__fail(ctx, LC_EARG, "split sizes %s%s do not add up to the size %lld of dimension %d",
                    s, n > LC_MAX_DIMS * 4 ? " (and more)" : "", (long long)a->shape[dim],
                    dim + 1);
  }
  int64_t start = 0;
  for (int64_t i = 0; i < n; i++) {
    if (!(out[i] = block_view(ctx, SH_split, a, dim, start, sizes[i], 1))) {
      lc_status st = ctx->status;
      for (int64_t j = 0; j < i; j++) {
        lc_tensor_release(out[j]);
        out[j] = NULL;
      }
      return st;
    }
    start += sizes[i];
  }
  return LC_OK;
}

/* ---- cat and stack --------------------------------------------------------------- */

/* A 1-D tensor of size 0: PyTorch lets cat skip it whatever the others are. */
static int cat_skips(const lc_tensor *t, const lc_tensor *ref) {
  return t->ndim == 1 && t->shape[0] == 0 && !(ref->ndim == 1 && ref->shape[0] == 0);
}

static const lc_tensor *cat_ref(int n, lc_tensor **ts) {
  for (int i = 0; i < n; i++)
    if (!(ts[i]->ndim == 1 && ts[i]->shape[0] == 0)) return ts[i];
  return ts[0];
}

/* torch.cat's: the inputs' dtypes promoted together */
static lc_dtype joined_dtype(int n, lc_tensor **ts) {
  lc_dtype d = ts[0]->dtype;
  for (int i = 1; i < n; i++) d = lc_promote_types(d, ts[i]->dtype);
  return d;
}

static int rule_cat(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  const lc_tensor *ref = cat_ref(n->ninputs, n->inputs);
  int dim = n->p.join.dim;
  int64_t off = 0;
  for (int i = 0; i < n->ninputs; i++) {
    lc_tensor *t = n->inputs[i];
    if (cat_skips(t, ref)) {
      if (t->requires_grad && !(grads[i] = lc_zeros(ctx, t->dtype, 1, t->shape))) return 0;
      continue;
    }
    if (t->requires_grad) {
      lc_tensor *part = lc_narrow(ctx, g, dim, off, t->shape[dim]);
      if (!(grads[i] = owned_as_dtype(ctx, part, t->dtype))) return 0;
    }
    off += t->shape[dim];
  }
  return 1;
}

static int rule_stack(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  for (int i = 0; i < n->ninputs; i++) {
    lc_tensor *t = n->inputs[i];
    if (!t->requires_grad) continue;
    lc_tensor *part = lc_select(ctx, g, n->p.join.dim, i);
    if (!(grads[i] = owned_as_dtype(ctx, part, t->dtype))) return 0;
  }
  return 1;
}


lc_tensor *lc_cat(lc_ctx *ctx, int n, lc_tensor **ts, int dim) {
  if (n < 1) {
    lc__fail(ctx, LC_EARG, "expected at least one tensor");
    return NULL;
  }
  const lc_tensor *ref = cat_ref(n, ts);
  char sr[LC_SHAPE_STR], st[LC_SHAPE_STR];
  lc_shape_str(sr, sizeof sr, ref->ndim, ref->shape);
  if (ref->ndim == 0) {
    int pos = 0;
    while (ts[pos] != ref) pos++;
    lc__fail(ctx, LC_ESHAPE, "tensor %d is 0-d and cannot be concatenated (stack joins 0-d "
             "tensors)", pos + 1);
    return NULL;
  }
  if (!lc__check_dim(ctx, ref, dim)) return NULL;
  int64_t total = 0;
  for (int i = 0; i < n; i++) {
    const lc_tensor *t = ts[i];
    if (cat_skips(t, ref)) continue;
    int same = t->ndim == ref->ndim;
    for (int d = 0; same && d < t->ndim; d++) same = d == dim || t->shape[d] == ref->shape[d];
    if (!same) {
      lc_shape_str(st, sizeof st, t->ndim, t->shape);
      lc__fail(ctx, LC_ESHAPE, "tensor %d has shape %s, expected %s except in dimension %d",
               i + 1, st, sr, dim + 1);
      return NULL;
    }
    total += t->shape[dim];
  }
  int64_t shape[LC_MAX_DIMS];
  memcpy(shape, ref->shape, sizeof shape);
  shape[dim] = total;
  lc_tensor *out = lc_empty(ctx, joined_dtype(n, ts), ref->ndim, shape);
  if (!out) return NULL;
  int64_t off = 0;
  for (int i = 0; i < n; i++) {
    if (cat_skips(ts[i], ref)) continue;
    lc_tensor h = block(out, dim, off, ts[i]->shape[dim], 1);
    copy_runs(&h, ts[i], dim);
    off += ts[i]->shape[dim];
  }
  out = lc__finish(ctx, out, &SH[SH_cat].def, n, ts);
  if (out && out->node) out->node->p.join.dim = dim;
  return out;
}

lc_tensor *lc_stack(lc_ctx *ctx, int n, lc_tensor **ts, int dim) {
  if (n < 1) {
    lc__fail(ctx, LC_EARG, "expected at least one tensor");
    return NULL;
  }
  const lc_tensor *ref = ts[0];
  char sr[LC_SHAPE_STR], st[LC_SHAPE_STR];
  lc_shape_str(sr, sizeof sr, ref->ndim, ref->shape);
  if (dim < 0 || dim > ref->ndim) {
    lc__fail(ctx, LC_EARG, "dimension %d is out of range for stacking tensors of shape %s "
             "(expected 1..%d)", dim + 1, sr, ref->ndim + 1);
    return NULL;
  }
  if (ref->ndim == LC_MAX_DIMS) {
    lc__fail(ctx, LC_EARG, "at most %d dimensions are supported", LC_MAX_DIMS);
    return NULL;
  }
  for (int i = 1; i < n; i++) {
    int same = ts[i]->ndim == ref->ndim;
    for (int d = 0; same && d < ref->ndim; d++) same = ts[i]->shape[d] == ref->shape[d];
    if (!same) {
      lc_shape_str(st, sizeof st, ts[i]->ndim, ts[i]->shape);
      lc__fail(ctx, LC_ESHAPE, "tensor %d has shape %s, expected %s like tensor 1", i + 1, st, sr);
      return NULL;
    }
  }
  int64_t shape[LC_MAX_DIMS];
  for (int i = 0, k = 0; i <= ref->ndim; i++) shape[i] = i == dim ? n : ref->shape[k++];
  lc_tensor *out = lc_empty(ctx, joined_dtype(n, ts), ref->ndim + 1, shape);
  if (!out) return NULL;
  for (int i = 0; i < n; i++) {
    lc_tensor h = slice_at(out, dim, i);
    copy_runs(&h, ts[i], dim);
  }
  out = lc__finish(ctx, out, &SH[SH_stack].def, n, ts);
  if (out && out->node) out->node->p.join.dim = dim;
  return out;
}

/* ---- index_select ------------------------------------------------------------------ */

/* index-add: zeros of a's shape, with slice k of g added at slice v[k] */
static int rule_index_select(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  lc_tensor *a = n->inputs[0];
  const ibuf *ib = (const ibuf *)n->user;
  int dim = n->p.index.dim;
  if (lc_ctx_grad_enabled(ctx)) {
    lc_tensor *ix = index_along(ctx, g, dim, 0, 0, ib->v);
    return (grads[0] = scatter_into_zeros(ctx, a, dim, ix, g)) != NULL;
  }
  lc_tensor *gg = as_dtype(ctx, g, a->dtype);  /* the add kernel reads both as one dtype */
  lc_tensor *z = gg ? lc_zeros(ctx, a->dtype, a->ndim, a->shape) : NULL;
  if (z && gg->numel > 0)
    for (int64_t k = 0; k < ib->n; k++) {
      lc_tensor zs = slice_at(z, dim, ib->v[k]), gs = slice_at(gg, dim, k);
      lc__k_add_into(&zs, &gs, gs.strides);
    }
  lc_tensor_release(gg);
  return (grads[0] = z) != NULL;
}


/* out (contiguous, a's shape with ib->n along dim) = a's slices at ib. */
static void select_into(lc_tensor *out, const lc_tensor *a, int dim, const ibuf *ib) {
  if (out->numel == 0) return;
  int64_t inner = prod(a->shape, dim + 1, a->ndim), outer = prod(a->shape, 0, dim);
  if (inner >= 8 && lc_tensor_is_contiguous(a)) {
    /* whole rows (embedding lookups): one memcpy per (outer, k) */
    size_t es = lc_dtype_size(a->dtype), row = (size_t)inner * es;
    char *o = (char *)lc_tensor_data(out);
    const char *src = (const char *)lc_tensor_data(a);
    for (int64_t i = 0; i < outer; i++)
      for (int64_t k = 0; k < ib->n; k++, o += row)
        memcpy(o, src + (size_t)(i * a->shape[dim] + ib->v[k]) * row, row);
  } else {
    for (int64_t k = 0; k < ib->n; k++) {
      lc_tensor os = slice_at(out, dim, k), as = slice_at(a, dim, ib->v[k]);
      lc__k_copy(&os, &as, as.strides);
    }
  }
}

lc_tensor *lc_index_select(lc_ctx *ctx, lc_tensor *a, int dim, lc_tensor *index) {
  if (index->ndim > 1) {
    char s[LC_SHAPE_STR];
    lc_shape_str(s, sizeof s, index->ndim, index->shape);
    lc__fail(ctx, LC_ESHAPE, "index must be 1-D (or 0-d), got shape %s", s);
    return NULL;
  }
  if (!lc__check_dim(ctx, a, dim)) return NULL;
  ibuf *ib = read_index(ctx, index, dim, a->shape[dim]);
  if (!ib) return NULL;
  int64_t shape[LC_MAX_DIMS];
  memcpy(shape, a->shape, sizeof shape);
  shape[dim] = ib->n;
  lc_tensor *out = lc_empty(ctx, a->dtype, a->ndim, shape);
  if (out) select_into(out, a, dim, ib);
  lc_tensor *in[2] = {a, index};
  return finish_indexed(ctx, out, SH_index_select, 1, in, ib, dim);
}

lc_status lc_index_select_out(lc_ctx *ctx, lc_tensor *out, lc_tensor *a, int dim, lc_tensor *index,
                              int64_t base) {
  if (index->dtype == LC_BOOL)
    return lc__fail(ctx, LC_EARG, "index must hold integers, got a bool tensor");
  if (!lc__check_dim(ctx, a, dim)) return ctx->status;
  if (a->ndim - 1 + index->ndim > LC_MAX_DIMS)
    return lc__fail(ctx, LC_ESHAPE, "a result of more than %d dims", LC_MAX_DIMS);
  if (out->storage == a->storage)
    return lc__fail(ctx, LC_EARG, "out must not share its elements with the input");
  /* out's shape: a's with dim replaced by index's dims */
  int64_t shape[LC_MAX_DIMS];
  int nd = 0;
  for (int d = 0; d < a->ndim; d++) {
    if (d != dim) { shape[nd++] = a->shape[d]; continue; }
    for (int i = 0; i < index->ndim; i++) shape[nd++] = index->shape[i];
  }
  lc_tensor *in[1] = {a};
  if (!lc__check_out(ctx, out, a->dtype, nd, shape, 1, in)) return ctx->status;
  ibuf *ib = read_index_from(ctx, index, dim, a->shape[dim], base);
  if (!ib) return ctx->status;
  /* the same elements seen as index_select's (.., numel, ..) result */
  lc_tensor flat = *out;
  flat.ndim = a->ndim;
  memcpy(flat.shape, a->shape, sizeof flat.shape);
  flat.shape[dim] = ib->n;
  lc__contig_strides(flat.ndim, flat.shape, flat.strides);
  select_into(&flat, a, dim, ib);
  ibuf_free(ctx, ib);
  return LC_OK;
}

/* ---- gather and scatter_add --------------------------------------------------------- */

/* out (any strides, a's ndim) = a gathered along dim at iv, which holds one
 * index per element of out, row-major. */
static void gather_k(lc_tensor *out, const lc_tensor *a, int dim, const int64_t *iv) {
  if (out->numel == 0) return;
  int64_t am[LC_MAX_DIMS], ic[LC_MAX_DIMS];
  memcpy(am, a->strides, sizeof am);
  am[dim] = 0;  /* the index supplies the position along dim */
  lc__contig_strides(out->ndim, out->shape, ic);
  lc_walk w;
  int64_t base[3] = {out->offset, a->offset, 0};
  lc__walk_init(&w, out->ndim, out->shape, 3, (const int64_t *const[]){out->strides, am, ic}, base);
  int64_t len = w.shape[w.ndim - 1], rows = lc__walk_rows(&w), ds = a->strides[dim];
  int64_t so = w.st[0][w.ndim - 1], sa = w.st[1][w.ndim - 1], si = w.st[2][w.ndim - 1];
  for (int64_t r = 0; r < rows; r++, lc__walk_next(&w)) {
    const int64_t *ix = iv + w.off[2];
    /* a copy of elements: by their size, whatever the dtype */
#define GATHER_ROW(U)                                                              \
  do {                                                                             \
    U *o = (U *)out->storage->data + w.off[0];                                     \
    const U *p = (const U *)a->storage->data + w.off[1];                           \
    for (int64_t i = 0; i < len; i++) o[i * so] = p[i * sa + ix[i * si] * ds];     \
  } while (0)
    switch (lc_dtype_size(a->dtype)) {
      case 8: GATHER_ROW(uint64_t); break;
      case 4: GATHER_ROW(uint32_t); break;
      default: GATHER_ROW(uint8_t); break;
    }
#undef GATHER_ROW
  }
}

/* For every position p of ishape (ndim dims): out[p, dim -> iv[p]] += src[p].
 * src (same dtype, same ndim) may be larger than ishape; only p is read. */
static void scatter_add_k(lc_tensor *out, int dim, const int64_t *iv, int ndim,
                          const int64_t *ishape, const lc_tensor *src) {
  if (prod(ishape, 0, ndim) == 0) return;
  int64_t om[LC_MAX_DIMS], ic[LC_MAX_DIMS];
  memcpy(om, out->strides, sizeof om);
  om[dim] = 0;
  lc__contig_strides(ndim, ishape, ic);
  lc_walk w;
  int64_t base[3] = {out->offset, src->offset, 0};
  lc__walk_init(&w, ndim, ishape, 3, (const int64_t *const[]){om, src->strides, ic}, base);
  int64_t len = w.shape[w.ndim - 1], rows = lc__walk_rows(&w), ds = out->strides[dim];
  int64_t so = w.st[0][w.ndim - 1], ss = w.st[1][w.ndim - 1], si = w.st[2][w.ndim - 1];
  for (int64_t r = 0; r < rows; r++, lc__walk_next(&w)) {
    const int64_t *ix = iv + w.off[2];
    if (out->dtype == LC_FLOAT64) {
      double *o = (double *)out->storage->data + w.off[0];
      const double *s = (const double *)src->storage->data + w.off[1];
      for (int64_t i = 0; i < len; i++) o[i * so + ix[i * si] * ds] += s[i * ss];
    } else if (out->dtype == LC_FLOAT32) {
      float *o = (float *)out->storage->data + w.off[0];
      const float *s = (const float *)src->storage->data + w.off[1];
      for (int64_t i = 0; i < len; i++) o[i * so + ix[i * si] * ds] += s[i * ss];
    } else {  /* integers wrap, bool is or */
      void *o = out->storage->data;
      for (int64_t i = 0; i < len; i++) {
        int64_t at = w.off[0] + i * so + ix[i * si] * ds;
        uint64_t v = (uint64_t)lc__int_load(out->dtype, o, at) +
                     (uint64_t)lc__int_load(src->dtype, src->storage->data, w.off[1] + i * ss);
        lc__int_store(out->dtype, o, at, out->dtype == LC_BOOL ? v != 0 : (int64_t)v);
      }
    }
  }
}

/* scatter-add g into zeros of a's shape */
static int rule_gather(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  lc_tensor *a = n->inputs[0];
  if (lc_ctx_grad_enabled(ctx)) {
    lc_tensor *ix = index_tensor(ctx, ((const ibuf *)n->user)->v, g->ndim, g->shape);
    return (grads[0] = scatter_into_zeros(ctx, a, n->p.index.dim, ix, g)) != NULL;
  }
  lc_tensor *gg = as_dtype(ctx, g, a->dtype);  /* the kernel reads both as one dtype */
  lc_tensor *z = gg ? lc_zeros(ctx, a->dtype, a->ndim, a->shape) : NULL;
  if (z) scatter_add_k(z, n->p.index.dim, ((const ibuf *)n->user)->v, gg->ndim, gg->shape, gg);
  lc_tensor_release(gg);
  return (grads[0] = z) != NULL;
}

static int rule_scatter_add(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  lc_tensor *a = n->inputs[0], *src = n->inputs[1];
  if (a->requires_grad && !(grads[0] = lc__retained(g))) return 0;
  if (src->requires_grad && lc_ctx_grad_enabled(ctx)) {  /* a gather, recorded */
    int same = n->p.index.ndim == src->ndim;
    for (int d = 0; same && d < src->ndim; d++) same = n->p.index.shape[d] == src->shape[d];
    if (!same)
      return lc__fail(ctx, LC_ESTATE, "scatter_add: the gradient of a src larger than the index "
                      "cannot be differentiated again"), 0;
    lc_tensor *ix = index_tensor(ctx, ((const ibuf *)n->user)->v, src->ndim, src->shape);
    lc_tensor *gg = ix ? lc_gather(ctx, g, n->p.index.dim, ix) : NULL;
    grads[1] = gg ? lc_to_dtype(ctx, gg, src->dtype) : NULL;
    lc_tensor_release(ix);
    lc_tensor_release(gg);
    return grads[1] != NULL;
  }
  if (src->requires_grad) {
    /* g gathered at the index, in the index's corner of zeros of src's shape */
    lc_tensor *gg = as_dtype(ctx, g, src->dtype);  /* the kernel reads both as one dtype */
    lc_tensor *z = gg ? lc_zeros(ctx, src->dtype, src->ndim, src->shape) : NULL;
    if (z) {
      lc_tensor h = *z;
      for (int d = 0; d < h.ndim; d++) h.shape[d] = n->p.index.shape[d];
      h.numel = prod(h.shape, 0, h.ndim);
      gather_k(&h, gg, n->p.index.dim, ((const ibuf *)n->user)->v);
    }
    lc_tensor_release(gg);
    if (!(grads[1] = z)) return 0;
  }
  return 1;
}


/* index (i0, ..) against t (s0, ..): same ndim, i_d <= s_d for every d
 * except `free` (-1 for none). */
static int index_fits(lc_ctx *ctx, const lc_tensor *index, const lc_tensor *t, int free,
                      const char *what) {
  int ok = index->ndim == t->ndim;
  for (int d = 0; ok && d < t->ndim; d++) ok = d == free || index->shape[d] <= t->shape[d];
  if (!ok) {
    char si[LC_SHAPE_STR], s[LC_SHAPE_STR];
    lc_shape_str(si, sizeof si, index->ndim, index->shape);
    lc_shape_str(s, sizeof s, t->ndim, t->shape);
    if (index->ndim != t->ndim)
      lc__fail(ctx, LC_ESHAPE, "index of shape %s needs as many dimensions as %s %s", si, what, s);
    else if (free >= 0)
      lc__fail(ctx, LC_ESHAPE, "index of shape %s is larger than %s %s outside dimension %d", si,
               what, s, free + 1);
    else
      lc__fail(ctx, LC_ESHAPE, "index of shape %s is larger than %s %s", si, what, s);
  }
  return ok;
}

lc_tensor *lc_gather(lc_ctx *ctx, lc_tensor *a, int dim, lc_tensor *index) {
  if (!lc__check_dim(ctx, a, dim) || !index_fits(ctx, index, a, dim, "the input")) return NULL;
  ibuf *ib = read_index(ctx, index, dim, a->shape[dim]);
  if (!ib) return NULL;
  lc_tensor *out = lc_empty(ctx, a->dtype, index->ndim, index->shape);
  if (out) gather_k(out, a, dim, ib->v);
  lc_tensor *in[2] = {a, index};
  return finish_indexed(ctx, out, SH_gather, 1, in, ib, dim);
}

lc_tensor *lc_scatter_add(lc_ctx *ctx, lc_tensor *a, int dim, lc_tensor *index,
                          lc_tensor *src) {
  if (!lc__check_dim(ctx, a, dim) || !index_fits(ctx, index, a, dim, "the input") ||
      !index_fits(ctx, index, src, -1, "src"))
    return NULL;
  if (a->dtype != src->dtype) {
    lc__fail(ctx, LC_EARG, "the input and src must share a dtype, got %s and %s",
             lc_dtype_name(a->dtype), lc_dtype_name(src->dtype));
    return NULL;
  }
  ibuf *ib = read_index(ctx, index, dim, a->shape[dim]);
  if (!ib) return NULL;
  lc_tensor *out = lc_empty(ctx, a->dtype, a->ndim, a->shape);
  if (out) {
    lc__k_copy(out, a, a->strides);
    scatter_add_k(out, dim, ib->v, index->ndim, index->shape, src);
  }
  lc_tensor *in[3] = {a, src, index};
  out = finish_indexed(ctx, out, SH_scatter_add, 2, in, ib, dim);
  if (out && out->node) {
    out->node->p.index.ndim = index->ndim;
    for (int d = 0; d < index->ndim; d++) out->node->p.index.shape[d] = index->shape[d];
  }
  return out;
}

/* ---- masked_fill ------------------------------------------------------------------------ */


/* out = value where the mask (read over out's shape with strides ms) is not 0 */
static void fill_where(lc_tensor *out, const lc_tensor *mask, const int64_t *ms, double value) {
  if (out->numel == 0) return;
  lc_walk w;
  int64_t base[2] = {out->offset, mask->offset};
  lc__walk_init(&w, out->ndim, out->shape, 2, (const int64_t *const[]){out->strides, ms}, base);
  int64_t len = w.shape[w.ndim - 1], rows = lc__walk_rows(&w);
  int64_t so = w.st[0][w.ndim - 1], sm = w.st[1][w.ndim - 1];
  /* a bool mask over a float tensor (attention's masks, a comparison's
   * result) is the hot case: typed loops, no per-element dispatch */
  const _Bool *mb = mask->dtype == LC_BOOL ? (const _Bool *)mask->storage->data : NULL;
  for (int64_t r = 0; r < rows; r++, lc__walk_next(&w)) {
    const _Bool *m = mb ? mb + w.off[1] : NULL;
    if (m && out->dtype == LC_FLOAT32) {
      float *o = (float *)out->storage->data + w.off[0], v = (float)value;
      for (int64_t i = 0; i < len; i++)
        o[i * so] = m[i * sm] ? v : o[i * so];  /* branchless: masks are random */
    } else if (m && out->dtype == LC_FLOAT64) {
      double *o = (double *)out->storage->data + w.off[0];
      for (int64_t i = 0; i < len; i++)
        o[i * so] = m[i * sm] ? value : o[i * so];
    } else {
      for (int64_t i = 0; i < len; i++)
        if (lc__nonzero_at(mask, w.off[1] + i * sm))
          lc__store(out->dtype, out->storage->data, w.off[0] + i * so, value);
    }
  }
}

/* keep (g's shape, contiguous, g's dtype) = g where the mask is 0, else 0;
 * returns the sum of g where the mask is not 0. */
static double mask_split(lc_tensor *keep, const lc_tensor *g, const lc_tensor *mask,
                         const int64_t *ms) {
  if (g->numel == 0) return 0.0;
  lc_walk w;
  int64_t base[3] = {keep->offset, g->offset, mask->offset};
  lc__walk_init(&w, g->ndim, g->shape, 3, (const int64_t *const[]){keep->strides, g->strides, ms},
                base);
  int64_t len = w.shape[w.ndim - 1], rows = lc__walk_rows(&w);
  int64_t sk = w.st[0][w.ndim - 1], sg = w.st[1][w.ndim - 1], sm = w.st[2][w.ndim - 1];
  double filled = 0.0;
  const _Bool *mb = mask->dtype == LC_BOOL ? (const _Bool *)mask->storage->data : NULL;
#define MASK_SET(i) (mb ? (int)mb[w.off[2] + (i) * sm] : lc__nonzero_at(mask, w.off[2] + (i) * sm))
  for (int64_t r = 0; r < rows; r++, lc__walk_next(&w)) {
    if (g->dtype == LC_FLOAT64) {
      double *k = (double *)keep->storage->data + w.off[0];
      const double *p = (const double *)g->storage->data + w.off[1];
      for (int64_t i = 0; i < len; i++) {
        int set = MASK_SET(i);
        k[i * sk] = set ? 0.0 : p[i * sg];
        if (set) filled += p[i * sg];
      }
    } else {
      float *k = (float *)keep->storage->data + w.off[0];
      const float *p = (const float *)g->storage->data + w.off[1];
      for (int64_t i = 0; i < len; i++) {
        int set = MASK_SET(i);
        k[i * sk] = set ? 0.0f : p[i * sg];
        if (set) filled += (double)p[i * sg];
      }
    }
  }
#undef MASK_SET
  return filled;
}

static int rule_masked_fill(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  lc_tensor *a = n->inputs[0], *v = n->p.fill.has_value ? n->inputs[1] : NULL;
  lc_tensor *mask = n->saved[0];
  if (lc_ctx_grad_enabled(ctx)) {  /* where, recorded */
    d_scope sc = {ctx, g->dtype, 0, {NULL}}, *s = &sc;
    if (a->requires_grad)
      grads[0] = lc__sum_to(ctx, d_where(s, mask, d_k(s, 0), g), a->ndim, a->shape);
    if (v && v->requires_grad) {
      lc_tensor *f = d_un(s, lc_sum, d_where(s, mask, g, d_k(s, 0)));
      grads[1] = f ? lc_to_dtype(ctx, f, v->dtype) : NULL;
    }
    d_end(s);
    return 1;
  }
  int64_t ms[LC_MAX_DIMS];
  lc__broadcast_strides(mask, g->ndim, ms);
  lc_tensor *keep = lc_empty(ctx, g->dtype, g->ndim, g->shape);
  if (!keep) return 0;
  double filled = mask_split(keep, g, mask, ms);
  if (a->requires_grad && !(grads[0] = lc__reduce_owned(ctx, lc__retained(keep), a))) {
    lc_tensor_release(keep);
    return 0;
  }
  lc_tensor_release(keep);
  if (v && v->requires_grad && !(grads[1] = lc_scalar(ctx, v->dtype, filled))) return 0;
  return 1;
}


static lc_tensor *masked_fill(lc_ctx *ctx, lc_tensor *a, lc_tensor *mask, double value,
                              lc_tensor *vt) {
  char sa[LC_SHAPE_STR], sm[LC_SHAPE_STR];
  int ndim = a->ndim > mask->ndim ? a->ndim : mask->ndim;
  int64_t shape[LC_MAX_DIMS] = {0};
  for (int i = 0; i < ndim; i++) {
    int ia = i - (ndim - a->ndim), im = i - (ndim - mask->ndim);
    int64_t da = ia >= 0 ? a->shape[ia] : 1, dm = im >= 0 ? mask->shape[im] : 1;
    if (da != dm && da != 1 && dm != 1) {
      lc_shape_str(sa, sizeof sa, a->ndim, a->shape);
      lc_shape_str(sm, sizeof sm, mask->ndim, mask->shape);
      lc__fail(ctx, LC_ESHAPE, "mask of shape %s does not broadcast with shape %s", sm, sa);
      return NULL;
    }
    shape[i] = da == 1 ? dm : da;
  }
  lc_tensor *out = lc_empty(ctx, a->dtype, ndim, shape);
  if (!out) return NULL;
  int64_t st[LC_MAX_DIMS];
  lc__broadcast_strides(a, ndim, st);
  lc__k_copy(out, a, st);
  lc__broadcast_strides(mask, ndim, st);
  fill_where(out, mask, st, value);
  /* the mask is an input only while tracing (see SH_REPLAYS) */
  lc_tensor *in[3] = {a, vt ? vt : mask, mask};
  out = lc__finish(ctx, out, &SH[SH_masked_fill].def, (vt ? 2 : 1) + (ctx->trace ? 1 : 0), in);
  if (out && out->node && !(out->node->saved[0] = lc__detach(ctx, mask))) {
    lc_tensor_release(out);
    return NULL;
  }
  if (out && out->node) {
    out->node->p.fill.value = value;
    out->node->p.fill.has_value = vt != NULL;
  }
  return out;
}

lc_tensor *lc_masked_fill(lc_ctx *ctx, lc_tensor *a, lc_tensor *mask, double value) {
  return masked_fill(ctx, a, mask, value, NULL);
}

lc_tensor *lc_masked_fill_tensor(lc_ctx *ctx, lc_tensor *a, lc_tensor *mask, lc_tensor *value) {
  if (value->ndim != 0) {
    char s[LC_SHAPE_STR];
    lc_shape_str(s, sizeof s, value->ndim, value->shape);
    lc__fail(ctx, LC_ESHAPE, "value must be a number or a 0-d tensor, got shape %s", s);
    return NULL;
  }
  double v;
  if (lc_tensor_item(ctx, value, &v) != LC_OK) return NULL;
  return masked_fill(ctx, a, mask, v, value);
}

/* ---- repeat ------------------------------------------------------------------------------ */

/* Sums the tiles: for each dim with reps r > 1, the r blocks of size s
 * along it are added into one, so each step shrinks the gradient and the
 * whole costs about two passes over g. */
/* Each tiled dim split in two, (r s), and summed over r: reshapes and sums,
 * recorded. */
static int repeat_recorded(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  lc_tensor *a = n->inputs[0];
  int nd = n->p.repeat.n, off = nd - a->ndim;
  lc_tensor *cur = lc__retained(g);
  for (int i = 0; cur && i < nd; i++) {
    int64_t r = n->p.repeat.reps[i], sz = i < off ? 1 : a->shape[i - off], shape[LC_MAX_DIMS];
    if (r == 1) continue;
    if (nd == LC_MAX_DIMS) {
      lc_tensor_release(cur);
      return lc__fail(ctx, LC_ESTATE, "repeat over %d dimensions cannot be differentiated "
                      "twice", LC_MAX_DIMS), 0;
    }
    for (int d = 0, k = 0; d < nd; d++) {
      if (d == i) shape[k++] = r;
      shape[k++] = d == i ? sz : cur->shape[d];
    }
    lc_tensor *split = lc_reshape(ctx, cur, nd + 1, shape);
    lc_tensor_release(cur);
    cur = split ? lc_sum_dim(ctx, split, i, 0) : NULL;
    lc_tensor_release(split);
  }
  grads[0] = cur ? lc_reshape(ctx, cur, a->ndim, a->shape) : NULL;
  lc_tensor_release(cur);
  return grads[0] != NULL;
}

static int rule_repeat(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  if (lc_ctx_grad_enabled(ctx)) return repeat_recorded(ctx, n, g, grads);
  lc_tensor *a = n->inputs[0];
  int nd = n->p.repeat.n, off = nd - a->ndim;
  lc_tensor *cur = lc__retained(g);
  for (int i = 0; i < nd; i++) {
    int64_t r = n->p.repeat.reps[i], s = i < off ? 1 : a->shape[i - off];
    if (r == 1) continue;
    int64_t shape[LC_MAX_DIMS];
    memcpy(shape, cur->shape, sizeof shape);
    shape[i] = s;
    lc_tensor *acc = lc_zeros(ctx, cur->dtype, nd, shape);
    if (!acc) {
      lc_tensor_release(cur);
      return 0;
    }
    for (int64_t t = 0; t < r && acc->numel > 0; t++) {
      lc_tensor tile = block(cur, i, t * s, s, 1);
      lc__k_add_into(acc, &tile, tile.strides);
    }
    lc_tensor_release(cur);
    cur = acc;
  }
  grads[0] = lc_reshape(ctx, cur, a->ndim, a->shape);  /* drops the leading 1s */
  lc_tensor_release(cur);
  return 1;
}


static void repeat_into(lc_tensor *out, const lc_tensor *a, int n, const int64_t *reps);

lc_tensor *lc_repeat(lc_ctx *ctx, lc_tensor *a, int n, const int64_t *reps) {
  char sa[LC_SHAPE_STR];
  lc_shape_str(sa, sizeof sa, a->ndim, a->shape);
  if (n < a->ndim || n > LC_MAX_DIMS) {
    lc__fail(ctx, LC_EARG, "%d repeat counts for shape %s: need %d to %d", n, sa, a->ndim,
             LC_MAX_DIMS);
    return NULL;
  }
  int off = n - a->ndim;
  int64_t s[LC_MAX_DIMS], o[LC_MAX_DIMS];
  for (int i = 0; i < n; i++) {
    s[i] = i < off ? 1 : a->shape[i - off];
    if (reps[i] < 0 || (s[i] > 0 && reps[i] > INT64_MAX / s[i])) {
      lc__fail(ctx, LC_EARG, "repeat count %lld for dimension %d of shape %s is %s",
               (long long)reps[i], i + 1, sa, reps[i] < 0 ? "negative" : "too large");
      return NULL;
    }
    o[i] = s[i] * reps[i];
  }
  lc_tensor *out = lc_empty(ctx, a->dtype, n, o);
  if (!out) return NULL;
  repeat_into(out, a, n, reps);
  lc_tensor *in[1] = {a};
  out = lc__finish(ctx, out, &SH[SH_repeat].def, 1, in);
  if (out && out->node) {
    out->node->p.repeat.n = n;
    for (int i = 0; i < n; i++) out->node->p.repeat.reps[i] = reps[i];
  }
  return out;
}

/* out (contiguous, a's shape tiled by reps[n]) = a repeated */
static void repeat_into(lc_tensor *out, const lc_tensor *a, int n, const int64_t *reps) {
  int off = n - a->ndim;
  int64_t s[LC_MAX_DIMS] = {0}, sst[LC_MAX_DIMS] = {0};
  for (int i = 0; i < n; i++) {
    s[i] = i < off ? 1 : a->shape[i - off];
    sst[i] = i < off ? 0 : a->strides[i - off];
  }
  if (out->numel > 0) {
    /* a goes into the first tile; then, from the last dim to the first, the
     * filled block is copied along the dim. For a fixed position in the dims
     * before i, that block (s_i times the whole later dims) is one run. */
    lc_tensor corner = *out;
    memcpy(corner.shape, s, sizeof s);
    corner.numel = a->numel;
    lc__k_copy(&corner, a, sst);
    size_t es = lc_dtype_size(a->dtype);
    char *base = (char *)lc_tensor_data(out);
    for (int i = n - 1; i >= 0; i--) {
      if (reps[i] == 1) continue;
      size_t run = (size_t)(s[i] * out->strides[i]) * es;
      int64_t idx[LC_MAX_DIMS] = {0}, count = prod(s, 0, i);
      for (int64_t c = 0; c < count; c++) {
        int64_t at = 0;
        for (int d = 0; d < i; d++) at += idx[d] * out->strides[d];
        char *p = base + (size_t)at * es;
        for (int64_t t = 1; t < reps[i]; t++) memcpy(p + (size_t)t * run, p, run);
        for (int d = i - 1; d >= 0; d--) {
          if (++idx[d] < s[d]) break;
          idx[d] = 0;
        }
      }
    }
  }
}

/* ---- flip --------------------------------------------------------------------------------- */

static int rule_flip(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  int dims[LC_MAX_DIMS], k = 0;
  for (int d = 0; d < g->ndim; d++)
    if (n->p.flip.dims[d]) dims[k++] = d;
  grads[0] = lc_flip(ctx, g, k, dims);
  return 1;
}


/* out = a read backwards along the dims d with flip[d]: negative strides
 * from the last element of each */
static void flip_into(lc_tensor *out, const lc_tensor *a, const int *flip) {
  lc_tensor h = *a;
  for (int d = 0; d < a->ndim; d++)
    if (flip[d] && a->shape[d] > 0) {
      h.offset += (a->shape[d] - 1) * a->strides[d];
      h.strides[d] = -a->strides[d];
    }
  lc__k_copy(out, &h, h.strides);
}

lc_tensor *lc_flip(lc_ctx *ctx, lc_tensor *a, int n, const int *dims) {
  int flip[LC_MAX_DIMS] = {0};
  for (int i = 0; i < n; i++) {
    if (!lc__check_dim(ctx, a, dims[i])) return NULL;
    if (flip[dims[i]]++) {
      lc__fail(ctx, LC_EARG, "dimension %d appears more than once", dims[i] + 1);
      return NULL;
    }
  }
  lc_tensor *out = lc_empty(ctx, a->dtype, a->ndim, a->shape);
  if (!out) return NULL;
  flip_into(out, a, flip);
  lc_tensor *in[1] = {a};
  out = lc__finish(ctx, out, &SH[SH_flip].def, 1, in);
  if (out && out->node)
    for (int d = 0; d < a->ndim; d++) out->node->p.flip.dims[d] = flip[d];
  return out;
}

/* ---- nonzero, index_put_ -------------------------------------------------------------- */

lc_tensor *lc_nonzero(lc_ctx *ctx, lc_tensor *a) {
  int64_t idx[LC_MAX_DIMS] = {0}, n = 0;
  for (int64_t k = 0; k < a->numel; k++) {  /* count, then fill: one allocation */
    int64_t off = a->offset;
    for (int d = 0; d < a->ndim; d++) off += idx[d] * a->strides[d];
    n += lc__nonzero_at(a, off);
    for (int d = a->ndim - 1; d >= 0; d--) {
      if (++idx[d] < a->shape[d]) break;
      idx[d] = 0;
    }
  }
  int64_t shape[2] = {n, a->ndim};
  lc_tensor *out = lc_empty(ctx, LC_INT64, 2, shape);
  /* its shape is the values': a plan cannot replay it */
  lc__trace_opaque(ctx, out, "nonzero (a shape that depends on the values)");
  if (!out || out->numel == 0) return out;  /* none, or a 0-d a: (n, 0) holds nothing */
  int64_t *o = (int64_t *)lc_tensor_data(out);
  memset(idx, 0, sizeof idx);
  for (int64_t k = 0; k < a->numel; k++) {
    int64_t off = a->offset;
    for (int d = 0; d < a->ndim; d++) off += idx[d] * a->strides[d];
    if (lc__nonzero_at(a, off)) {
      memcpy(o, idx, sizeof(int64_t) * (size_t)a->ndim);
      o += a->ndim;
    }
    for (int d = a->ndim - 1; d >= 0; d--) {
      if (++idx[d] < a->shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

/* A header on the stack for part of t (no allocation, no reference: valid
 * while t is): the last ndim dims of t from element offset off. */
static lc_tensor sub_header(const lc_tensor *t, int from, int64_t off) {
  lc_tensor h = *t;
  h.ndim = t->ndim - from;
  h.numel = 1;
  for (int d = 0; d < h.ndim; d++) {
    h.shape[d] = t->shape[from + d];
    h.strides[d] = t->strides[from + d];
    h.numel *= h.shape[d];
  }
  h.offset = off;
  h.node = NULL;
  h.grad = NULL;
  return h;
}

lc_status lc_index_put_(lc_ctx *ctx, lc_tensor *t, int lead, const lc_tensor *pos,
                        const lc_tensor *src) {
  if (lead < 0 || lead > t->ndim || pos->ndim != 1 || lc_dtype_is_float(pos->dtype))
    return lc__fail(ctx, LC_EARG, "index_put_ needs 0..%d leading dims and a 1-D integer "
                    "position tensor", t->ndim);
  int64_t m = 1, n = pos->shape[0];
  for (int d = 0; d < lead; d++) m *= t->shape[d];
  for (int64_t k = 0; k < n; k++) {
    int64_t p = lc__int_at(pos, pos->offset + k * pos->strides[0]);
    if (p < 0 || p >= m)
      return lc__fail(ctx, LC_EARG, "position %lld is out of range for %lld rows",
                      (long long)p + 1, (long long)m);
  }
  int per_row = src->ndim == t->ndim - lead + 1 && src->shape[0] == n;
  /* no position (an all-false mask) writes nothing, but the call is a
   * write, as in PyTorch: graphs that saved t refuse a backward, and a
   * trace sees it (or a plan would drop a write that other values make) */
  if (n == 0) lc__wrote(t);
  for (int64_t k = 0; k < n; k++) {
    int64_t p = lc__int_at(pos, pos->offset + k * pos->strides[0]), off = t->offset;
    for (int d = lead - 1; d >= 0; d--) {
      off += (p % t->shape[d]) * t->strides[d];
      p /= t->shape[d];
    }
    lc_tensor row = sub_header(t, lead, off);
    lc_tensor from = per_row ? sub_header(src, 1, src->offset + k * src->strides[0]) : *src;
    lc_status st = lc_copy_(ctx, &row, &from);
    if (st != LC_OK) return st;
  }
  return LC_OK;
}

/* Out of place, the graph's form of t[mask] = v and t[index] = v: written
 * elements get the value's gradient, the rest t's (torch.index_put with
 * accumulate = false). src has a row per position. */
lc_tensor *lc_index_put(lc_ctx *ctx, lc_tensor *t, int lead, lc_tensor *pos, lc_tensor *src) {
  int fits = lead >= 0 && lead <= t->ndim && pos->ndim == 1 && src->ndim == t->ndim - lead + 1 &&
             src->shape[0] == pos->shape[0];
  for (int d = 1; fits && d < src->ndim; d++) fits = src->shape[d] == t->shape[lead + d - 1];
  if (!fits) {
    lc__fail_shapes(ctx, "index_put: values of shape %s do not give a row per position "
                    "of a tensor %s", src, t);
    return NULL;
  }
  lc_tensor *out = lc_empty(ctx, t->dtype, t->ndim, t->shape);
  if (!out) return NULL;
  lc__k_copy(out, t, t->strides);
  if (lc_index_put_(ctx, out, lead, pos, src) != LC_OK) {
    lc_tensor_release(out);
    return NULL;
  }
  lc_tensor *in[3] = {t, src, pos};  /* pos: an input only while tracing (see SH_REPLAYS) */
  out = lc__finish(ctx, out, &SH[SH_index_put].def, ctx->trace ? 3 : 2, in);
  if (out && out->node) {
    out->node->p.index.dim = lead;
    out->node->saved[0] = lc__retained(pos);
  }
  return out;
}

static int rule_index_put(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  lc_tensor *t = n->inputs[0], *src = n->inputs[1], *pos = n->saved[0];
  int lead = n->p.index.dim;
  if (t->requires_grad) {  /* g where nothing was written: the same op with zeros */
    lc_tensor *z = lc_zeros(ctx, g->dtype, src->ndim, src->shape);
    grads[0] = z ? lc_index_put(ctx, g, lead, pos, z) : NULL;
    lc_tensor_release(z);
    if (!grads[0]) return 0;
  }
  if (src->requires_grad) {  /* g's rows at the positions */
    int64_t rows[LC_MAX_DIMS];
    rows[0] = 1;
    for (int d = 0; d < lead; d++) rows[0] *= t->shape[d];
    for (int d = lead; d < t->ndim; d++) rows[d - lead + 1] = t->shape[d];
    lc_tensor *g2 = lc_reshape(ctx, g, t->ndim - lead + 1, rows);
    lc_tensor *picked = g2 ? lc_index_select(ctx, g2, 0, pos) : NULL;
    grads[1] = picked ? as_dtype(ctx, picked, src->dtype) : NULL;
    lc_tensor_release(g2);
    lc_tensor_release(picked);
    if (!grads[1]) return 0;
  }
  return 1;
}

/* ---- replay (plan.c) ---------------------------------------------------------------- */

static int replay_cat(lc_node *n) {
  const lc_tensor *ref = cat_ref(n->ninputs, n->inputs);
  int dim = n->p.join.dim;
  int64_t off = 0;
  for (int i = 0; i < n->ninputs; i++) {
    if (cat_skips(n->inputs[i], ref)) continue;
    lc_tensor h = block(n->out, dim, off, n->inputs[i]->shape[dim], 1);
    copy_runs(&h, n->inputs[i], dim);
    off += n->inputs[i]->shape[dim];
  }
  return 1;
}

/* index_select, gather, scatter_add: the index (the last input) read and
 * checked again into the node's copy, which the rule reads */
static int replay_indexed(lc_ctx *ctx, lc_node *n) {
  int op = LC__OP(n), base = op == SH_scatter_add ? 2 : 1, dim = n->p.index.dim;
  ibuf *ib = (ibuf *)n->user;
  lc_tensor *out = n->out, *a = n->inputs[0];
  if (n->ninputs <= base || !ib)
    return lc__fail(ctx, LC_ESTATE, "%s was recorded without its index", n->def->name), 0;
  const lc_tensor *index = n->inputs[base];
  if (!index_values(ctx, index, dim, a->shape[dim], 0, ib->v)) return 0;
  if (op == SH_index_select) {
    select_into(out, a, dim, ib);
  } else if (op == SH_gather) {
    gather_k(out, a, dim, ib->v);
  } else {
    lc__k_copy(out, a, a->strides);
    scatter_add_k(out, dim, ib->v, n->p.index.ndim, n->p.index.shape, n->inputs[1]);
  }
  return 1;
}

/* inputs: a, the value when it was a tensor, the mask (the last) */
static int replay_masked_fill(lc_ctx *ctx, lc_node *n) {
  lc_tensor *out = n->out, *a = n->inputs[0], *mask = n->inputs[n->ninputs - 1];
  if (n->ninputs != 2 + n->p.fill.has_value)
    return lc__fail(ctx, LC_ESTATE, "masked_fill was recorded without its mask"), 0;
  double value = n->p.fill.value;
  if (n->p.fill.has_value) {
    lc_tensor *v = n->inputs[1];
    value = lc_tensor_get(v, NULL);  /* 0-d */
  }
  int64_t st[LC_MAX_DIMS];
  lc__broadcast_strides(a, out->ndim, st);
  lc__k_copy(out, a, st);
  lc__broadcast_strides(mask, out->ndim, st);
  fill_where(out, mask, st, value);
  return 1;
}

/* lc_index_put_'s rows, copied with the kernel (lc_copy_ would count a
 * write); inputs: t, src (a row per position), pos */
static int replay_index_put(lc_ctx *ctx, lc_node *n) {
  lc_tensor *out = n->out, *t = n->inputs[0], *src = n->inputs[1];
  if (n->ninputs < 3)
    return lc__fail(ctx, LC_ESTATE, "index_put was recorded without its positions"), 0;
  const lc_tensor *pos = n->inputs[2];
  int lead = n->p.index.dim;
  int64_t m = 1, np = pos->shape[0];
  for (int d = 0; d < lead; d++) m *= out->shape[d];
  for (int64_t k = 0; k < np; k++) {
    int64_t p = lc__int_at(pos, pos->offset + k * pos->strides[0]);
    if (p < 0 || p >= m)
      return lc__fail(ctx, LC_EARG, "position %lld is out of range for %lld rows",
                      (long long)p + 1, (long long)m), 0;
  }
  lc__k_copy(out, t, t->strides);
  for (int64_t k = 0; k < np; k++) {
    int64_t p = lc__int_at(pos, pos->offset + k * pos->strides[0]), off = out->offset;
    for (int d = lead - 1; d >= 0; d--) {
      off += (p % out->shape[d]) * out->strides[d];
      p /= out->shape[d];
    }
    lc_tensor row = sub_header(out, lead, off);
    lc_tensor from = sub_header(src, 1, src->offset + k * src->strides[0]);
    lc__k_copy(&row, &from, from.strides);
  }
  return 1;
}

/* Views share their input's elements: replaying them is nothing. reshape
 * and flatten copy when no view fits; the copy is the input's elements in
 * row-major order. */
static const int ORD_OP[] = {[LC__ORD_ARGSORT] = SH_argsort, [LC__ORD_TOPK] = SH_topk,
                             [LC__ORD_SEARCHSORTED] = SH_searchsorted,
                             [LC__ORD_CUMEXT] = SH_cummax};  /* or SH_cummin, by flag */

lc_tensor *lc__order_finish(lc_ctx *ctx, lc_tensor *out, lc__ord kind, int n, lc_tensor **in,
                            const lc_node_args *p) {
  int op = kind == LC__ORD_CUMEXT && p->order.flag ? SH_cummin : ORD_OP[kind];
  out = lc__finish_nograd(ctx, out, &SH[op].def, n, in);
  if (out && out->node) out->node->p = *p;
  return out;
}

static int replay_shape(lc_ctx *ctx, lc_node *n) {
  lc_tensor *out = n->out, *a = n->inputs[0];
  switch (LC__OP(n)) {
    case SH_cat: return replay_cat(n);
    case SH_stack:
      for (int i = 0; i < n->ninputs; i++) {
        lc_tensor h = slice_at(out, n->p.join.dim, i);
        copy_runs(&h, n->inputs[i], n->p.join.dim);
      }
      return 1;
    case SH_index_select: case SH_gather: case SH_scatter_add: return replay_indexed(ctx, n);
    case SH_argsort: return lc__order_into(ctx, out, LC__ORD_ARGSORT, n->inputs, &n->p);
    case SH_topk: return lc__order_into(ctx, out, LC__ORD_TOPK, n->inputs, &n->p);
    case SH_searchsorted: return lc__order_into(ctx, out, LC__ORD_SEARCHSORTED, n->inputs, &n->p);
    case SH_cummax: case SH_cummin:
      return lc__order_into(ctx, out, LC__ORD_CUMEXT, n->inputs, &n->p);
    case SH_masked_fill: return replay_masked_fill(ctx, n);
    case SH_repeat:
      repeat_into(out, a, n->p.repeat.n, n->p.repeat.reps);
      return 1;
    case SH_flip:
      flip_into(out, a, n->p.flip.dims);
      return 1;
    case SH_index_put: return replay_index_put(ctx, n);
    default: break;
  }
  if (SH_IS_VIEW(LC__OP(n)) && out->storage != a->storage) {
    lc_tensor flat = *out;  /* out's elements, seen with a's shape */
    flat.ndim = a->ndim;
    memcpy(flat.shape, a->shape, sizeof flat.shape);
    lc__contig_strides(a->ndim, a->shape, flat.strides);
    lc__k_copy(&flat, a, a->strides);
  }
  return 1;
}

/* tensor.c: storage and tensor lifetimes, creation, views, graph nodes. */
#include "internal.h"

#include <math.h>
#include <string.h>

/* ---- shapes --------------------------------------------------------------- */

size_t lc__numel(int ndim, const int64_t *shape, int *overflow) {
  size_t n = 1;
  *overflow = 0;
  for (int i = 0; i < ndim; i++) {
    if (shape[i] < 0) { *overflow = 1; return 0; }
    size_t d = (size_t)shape[i];
    if (d != 0 && n > SIZE_MAX / 8 / d) *overflow = 1;  /* 8: the widest dtype */
    n *= d;
  }
  if (*overflow) return 0;
  return n;
}

/* Unsigned on purpose: a shape with a 0 among huge sizes ({0, 2^40, 2^40})
 * holds no elements and is valid, but its strides would overflow; they are
 * never used to address memory then, so wrapping is harmless (and defined). */
void lc__contig_strides(int ndim, const int64_t *shape, int64_t *strides) {
  uint64_t s = 1;
  for (int i = ndim - 1; i >= 0; i--) {
    strides[i] = (int64_t)s;
    s *= shape[i] > 0 ? (uint64_t)shape[i] : 1u;
  }
}

int lc_tensor_is_contiguous(const lc_tensor *t) {
  if (t->numel == 0) return 1;  /* nothing to lay out */
  int64_t s = 1;
  for (int i = t->ndim - 1; i >= 0; i--) {
    if (t->shape[i] != 1 && t->strides[i] != s) return 0;
    s *= t->shape[i];
  }
  return 1;
}

/* The broadcast shape of n (2 or 3) tensors, NumPy's rules; on failure sets
 * an error naming every shape and the first pair of sizes that clash. */
int lc__broadcast_shape(lc_ctx *ctx, int n, lc_tensor *const *t, int *ndim, int64_t *shape) {
  int nd = 0;
  for (int k = 0; k < n; k++)
    if (t[k]->ndim > nd) nd = t[k]->ndim;
  for (int i = 0; i < nd; i++) {
    int64_t size = 1;
    for (int k = 0; k < n; k++) {
      int j = i - (nd - t[k]->ndim);
      int64_t d = j >= 0 ? t[k]->shape[j] : 1;
      if (d == 1 || d == size) continue;
      if (size != 1) {
        char s[3][LC_SHAPE_STR];
        for (int m = 0; m < n; m++) lc_shape_str(s[m], sizeof s[m], t[m]->ndim, t[m]->shape);
        if (n == 2)
          lc__fail(ctx, LC_ESHAPE, "shapes %s and %s do not broadcast (%lld ~= %lld)", s[0], s[1],
                   (long long)size, (long long)d);
        else
          lc__fail(ctx, LC_ESHAPE, "shapes %s, %s and %s do not broadcast (%lld ~= %lld)", s[0],
                   s[1], s[2], (long long)size, (long long)d);
        return 0;
      }
      size = d;
    }
    shape[i] = size;
  }
  *ndim = nd;
  return 1;
}

/* Strides that view t over `shape` of ndim dims (t aligned right, 0 where t
 * has size 1 or lacks the dim). */
void lc__broadcast_strides(const lc_tensor *t, int ndim, int64_t *st) {
  for (int i = 0; i < ndim; i++) {
    int j = i - (ndim - t->ndim);
    st[i] = (j < 0 || t->shape[j] == 1) ? 0 : t->strides[j];
  }
}

/* ---- lifetimes ---------------------------------------------------------------
 * A tensor owns its storage, its grad and its node; a node owns its inputs
 * and saved tensor. Releasing walks that ownership with two intrusive work
 * lists instead of recursion, so freeing a deep graph uses no stack. */

static void storage_release(lc_storage *s) {
  if (--s->refcount > 0) return;
  lc_ctx *ctx = s->ctx;
  if (!s->external) lc__free(ctx, s->data, s->nbytes);
  lc__free(ctx, s, sizeof *s);
  lc__ctx_unref(ctx);
}

static void push_tensor(lc_tensor **list, lc_tensor *t) {
  if (!t) return;
  if (--t->refcount == 0) {
    t->free_next = *list;
    *list = t;
  } else if (t->grad && t->grad->node && lc__unreachable(t)) {
    /* only a cycle through its create_graph gradient holds t: dropping that
     * gradient frees the cycle (autograd.c, lc__unreachable) */
    lc_tensor *g = t->grad;
    t->grad = NULL;
    push_tensor(list, g);
  }
}

static void push_node(lc_node **list, lc_node *n) {
  if (n && --n->refcount == 0) {
    n->free_next = *list;
    *list = n;
  }
}

static void release_all(lc_tensor *tensors, lc_node *nodes) {
  while (tensors || nodes) {
    while (tensors) {
      lc_tensor *t = tensors;
      tensors = t->free_next;
      lc_ctx *ctx = t->ctx;
      if (t->has_hooks && ctx->on_free) ctx->on_free(ctx->cb_ud, t->id);
      if (t->cycle_candidate) lc__cycle_forget(ctx, t);
      if (t->storage) storage_release(t->storage);
      push_tensor(&tensors, t->bw_grad);
      push_tensor(&tensors, t->grad);
      push_node(&nodes, t->node);
      lc__free(ctx, t, sizeof *t);
      lc__ctx_unref(ctx);
    }
    while (nodes) {
      lc_node *n = nodes;
      nodes = n->free_next;
      lc_ctx *ctx = n->ctx;
      for (int i = 0; i < n->ninputs; i++) push_tensor(&tensors, n->inputs[i]);
      for (int i = 0; i < LC_NODE_SAVED; i++) push_tensor(&tensors, n->saved[i]);
      push_tensor(&tensors, n->grad);
      if (n->inputs != n->inline_inputs)
        lc__free(ctx, n->inputs, sizeof(lc_tensor *) * (size_t)n->ninputs);
      if (n->user_free) n->user_free(ctx, n->user);
      lc__free(ctx, n, sizeof *n);
      lc__ctx_unref(ctx);
    }
  }
}

void lc_tensor_retain(lc_tensor *t) {
  if (t) t->refcount++;
}

void lc_tensor_release(lc_tensor *t) {
  lc_tensor *list = NULL;
  push_tensor(&list, t);
  release_all(list, NULL);
}

void lc__node_release(lc_node *n) {
  lc_node *list = NULL;
  push_node(&list, n);
  release_all(NULL, list);
}

/* Drops what a node keeps for backward; the node itself stays (its output
 * still points at it) but can no longer be run. */
void lc__node_drop_inputs(lc_node *n) {
  lc_tensor *list = NULL;
  for (int i = 0; i < n->ninputs; i++) {
    push_tensor(&list, n->inputs[i]);
    n->inputs[i] = NULL;
  }
  for (int i = 0; i < LC_NODE_SAVED; i++) {
    push_tensor(&list, n->saved[i]);
    n->saved[i] = NULL;
  }
  n->freed = 1;
  if (n->user_free) n->user_free(n->ctx, n->user);
  n->user = NULL;
  n->user_free = NULL;
  release_all(list, NULL);
}

/* ---- creation -------------------------------------------------------------- */

static lc_tensor *tensor_header(lc_ctx *ctx, lc_dtype dtype, int ndim, const int64_t *shape) {
  if (ndim < 0 || ndim > LC_MAX_DIMS) {
    lc__fail(ctx, LC_EARG, "at most %d dimensions are supported, got %d", LC_MAX_DIMS, ndim);
    return NULL;
  }
  int overflow;
  size_t n = lc__numel(ndim, shape, &overflow);
  if (overflow) {
    char s[LC_SHAPE_STR];
    lc_shape_str(s, sizeof s, ndim, shape);
    lc__fail(ctx, LC_EARG, "invalid shape %s (negative, or too many elements)", s);
    return NULL;
  }
  lc_tensor *t = (lc_tensor *)lc__alloc(ctx, sizeof *t);
  if (!t) return NULL;
  memset(t, 0, sizeof *t);
  ctx->refcount++;
  t->refcount = 1;
  t->ctx = ctx;
  t->id = ++ctx->next_id;
  t->born = ctx->write_clock;
  t->dtype = dtype;
  t->ndim = ndim;
  for (int i = 0; i < ndim; i++) t->shape[i] = shape[i];
  lc__contig_strides(ndim, shape, t->strides);
  t->numel = (int64_t)n;
  return t;
}

/* A tensor with a storage header sized for it but no data yet (external
 * data, or the caller's allocation). NULL when out of memory or bad shape. */
static lc_tensor *tensor_with_storage(lc_ctx *ctx, lc_dtype dtype, int ndim,
                                      const int64_t *shape) {
  lc_tensor *t = tensor_header(ctx, dtype, ndim, shape);
  if (!t) return NULL;
  lc_storage *s = (lc_storage *)lc__alloc(ctx, sizeof *s);
  if (!s) { lc_tensor_release(t); return NULL; }
  memset(s, 0, sizeof *s);
  ctx->refcount++;
  s->refcount = 1;
  s->ctx = ctx;
  s->nbytes = (size_t)t->numel * lc_dtype_size(dtype);
  s->external = 1;  /* until it owns data: releasing it then frees none */
  s->first_id = t->id;
  t->storage = s;
  return t;
}

lc_tensor *lc_empty(lc_ctx *ctx, lc_dtype dtype, int ndim, const int64_t *shape) {
  lc_tensor *t = tensor_with_storage(ctx, dtype, ndim, shape);
  if (!t) return NULL;
  lc_storage *s = t->storage;
  if (s->nbytes > 0 && !(s->data = lc__alloc(ctx, s->nbytes))) {
    lc_tensor_release(t);
    return NULL;
  }
  s->external = 0;
  return t;
}

lc_tensor *lc_from_external(lc_ctx *ctx, lc_dtype dtype, void *data, int ndim,
                            const int64_t *shape) {
  lc_tensor *t = tensor_with_storage(ctx, dtype, ndim, shape);
  if (t) t->storage->data = data;
  return t;
}

lc_status lc_tensor_own_data(lc_ctx *ctx, lc_tensor *t) {
  lc_storage *s = t->storage;
  if (!s->external) return LC_OK;
  void *p = s->nbytes ? lc__alloc(ctx, s->nbytes) : NULL;
  if (s->nbytes && !p) return ctx->status;
  if (s->nbytes) memcpy(p, s->data, s->nbytes);
  s->data = p;
  s->external = 0;
  return LC_OK;
}

lc_tensor *lc_full(lc_ctx *ctx, lc_dtype dtype, int ndim, const int64_t *shape, double value) {
  lc_tensor *t = lc_empty(ctx, dtype, ndim, shape);
  if (t) lc_fill_(ctx, t, value);
  return t;
}

lc_tensor *lc_zeros(lc_ctx *ctx, lc_dtype dtype, int ndim, const int64_t *shape) {
  lc_tensor *t = lc_empty(ctx, dtype, ndim, shape);
  if (t && t->numel) memset(t->storage->data, 0, t->storage->nbytes);
  return t;
}

lc_tensor *lc_scalar(lc_ctx *ctx, lc_dtype dtype, double value) {
  return lc_full(ctx, dtype, 0, NULL, value);
}

lc_tensor *lc_number_int(lc_ctx *ctx, int64_t value) {
  lc_tensor *n = lc_empty(ctx, LC_INT64, 0, NULL);
  if (n) {
    *(int64_t *)n->storage->data = value;
    n->is_number = 1;
  }
  return n;
}

lc_tensor *lc_number(lc_ctx *ctx, double value) {
  /* whole: int64, so that an int64 t + 2 stays integer arithmetic */
  if (value == floor(value) && fabs(value) < 0x1p63) return lc_number_int(ctx, (int64_t)value);
  lc_tensor *n = lc_scalar(ctx, LC_FLOAT64, value);
  if (n) n->is_number = 1;
  return n;
}

/* Element at storage offset off, read or written through any dtype. */
static double at(const lc_tensor *t, int64_t off) {
  switch (t->dtype) {
#define AT(D, T, SUF) case D: return (double)((const T *)t->storage->data)[off];
    LC_FOR_DTYPES(AT)
#undef AT
  }
  return 0;
}

int64_t lc__int_at(const lc_tensor *t, int64_t off) {
  return lc__int_load(t->dtype, t->storage->data, off);
}

int64_t lc__int_load(lc_dtype dt, const void *p, int64_t i) {
  switch (dt) {
#define AT(D, T, SUF) case D: return LC_CVT_i64(((const T *)p)[i]);
    LC_FOR_DTYPES(AT)
#undef AT
  }
  return 0;
}

void lc__int_store(lc_dtype dt, void *p, int64_t i, int64_t v) {
  switch (dt) {
#define PUT(D, T, SUF) case D: ((T *)p)[i] = LC_CVT_##SUF(v); break;
    LC_FOR_DTYPES(PUT)
#undef PUT
  }
}

void lc__store(lc_dtype dt, void *p, int64_t i, double v) {
  switch (dt) {
#define PUT(D, T, SUF) case D: ((T *)p)[i] = LC_CVT_##SUF(v); break;
    LC_FOR_DTYPES(PUT)
#undef PUT
  }
}

int lc__nonzero_at(const lc_tensor *t, int64_t off) {
  switch (t->dtype) {
#define NZ(D, T, SUF) case D: return ((const T *)t->storage->data)[off] != 0;
    LC_FOR_DTYPES(NZ)
#undef NZ
  }
  return 0;
}

static void put(lc_tensor *t, int64_t off, double v) {
  switch (t->dtype) {
#define PUT(D, T, SUF) case D: ((T *)t->storage->data)[off] = LC_CVT_##SUF(v); break;
    LC_FOR_DTYPES(PUT)
#undef PUT
  }
}

static void put_int(lc_tensor *t, int64_t off, int64_t v) {
  lc__int_store(t->dtype, t->storage->data, off, v);
}

static void set_flat(lc_tensor *t, int64_t i, double v) { put(t, i, v); }

static lc_tensor *float_only(lc_ctx *ctx, lc_dtype dtype, const char *what) {
  lc__fail(ctx, LC_EARG, "%s needs a float dtype, got %s", what, lc_dtype_name(dtype));
  return NULL;
}

/* 53 random bits for a double, 24 for a float: exact, never 1.0. */
static double uniform01(lc_ctx *ctx, lc_dtype dt) {
  uint64_t r = lc__rng_next(ctx);
  if (dt == LC_FLOAT64) return (double)(r >> 11) * 0x1.0p-53;
  return (double)(r >> 40) * 0x1.0p-24;
}

lc_status lc_uniform_(lc_ctx *ctx, lc_tensor *t, double lo, double hi) {
  if (!lc_dtype_is_float(t->dtype))
    return lc__fail(ctx, LC_EARG, "uniform_ needs a float tensor, got %s", lc_dtype_name(t->dtype));
  if (!lc_tensor_is_contiguous(t))
    return lc__fail(ctx, LC_EARG, "uniform_ needs a contiguous tensor");
  int64_t n = t->numel;
  if (t->dtype == LC_FLOAT64) {
    double *d = (double *)lc_tensor_data(t);
    for (int64_t i = 0; i < n; i++) d[i] = lo + (hi - lo) * uniform01(ctx, LC_FLOAT64);
  } else {
    float *d = (float *)lc_tensor_data(t);
    for (int64_t i = 0; i < n; i++) d[i] = (float)(lo + (hi - lo) * uniform01(ctx, LC_FLOAT32));
  }
  lc__wrote(t);
  return LC_OK;
}

lc_tensor *lc_rand(lc_ctx *ctx, lc_dtype dtype, int ndim, const int64_t *shape) {
  if (!lc_dtype_is_float(dtype)) return float_only(ctx, dtype, "rand");
  lc_tensor *t = lc_empty(ctx, dtype, ndim, shape);
  if (t) lc_uniform_(ctx, t, 0.0, 1.0);
  return t;
}

/* Box-Muller, one value per pair of uniforms, so a draw never depends on
 * how many values an earlier call took. */
lc_tensor *lc_randn(lc_ctx *ctx, lc_dtype dtype, int ndim, const int64_t *shape) {
  if (!lc_dtype_is_float(dtype)) return float_only(ctx, dtype, "randn");
  lc_tensor *t = lc_empty(ctx, dtype, ndim, shape);
  if (!t) return NULL;
  for (int64_t i = 0; i < t->numel; i++) {
    double u1 = 1.0 - (double)(lc__rng_next(ctx) >> 11) * 0x1.0p-53;  /* (0, 1] */
    double u2 = (double)(lc__rng_next(ctx) >> 11) * 0x1.0p-53;
    double z = sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
    if (dtype == LC_FLOAT64) ((double *)t->storage->data)[i] = z;
    else ((float *)t->storage->data)[i] = (float)z;
  }
  return t;
}

lc_tensor *lc_eye(lc_ctx *ctx, lc_dtype dtype, int64_t n, int64_t m) {
  int64_t shape[2] = {n, m};
  lc_tensor *t = lc_zeros(ctx, dtype, 2, shape);
  for (int64_t i = 0; t && i < n && i < m; i++) set_flat(t, i * m + i, 1.0);
  return t;
}

lc_tensor *lc_arange(lc_ctx *ctx, lc_dtype dtype, double start, double end, double step) {
  if (step == 0 || step != step || start != start || end != end ||
      (step > 0 && start > end) || (step < 0 && start < end)) {
    lc__fail(ctx, LC_EARG, "cannot go from %g to %g in steps of %g", start, end, step);
    return NULL;
  }
  double count = ceil((end - start) / step);
  if (!(count < 9.0e15)) {
    lc__fail(ctx, LC_EARG, "from %g to %g in steps of %g is too many elements", start, end, step);
    return NULL;
  }
  int64_t n = (int64_t)count;
  lc_tensor *t = lc_empty(ctx, dtype, 1, &n);
  if (t && !lc_dtype_is_float(dtype) && start == floor(start) && step == floor(step) &&
      fabs(start) < 0x1p63 && fabs(step) < 0x1p62) {
    /* exactly, past 2^53 too: int64 steps, wrapping as the type does */
    for (int64_t i = 0; i < n; i++)
      put_int(t, i, (int64_t)((uint64_t)(int64_t)start + (uint64_t)i * (uint64_t)(int64_t)step));
    return t;
  }
  for (int64_t i = 0; t && i < n; i++) set_flat(t, i, start + (double)i * step);
  return t;
}

lc_tensor *lc_linspace(lc_ctx *ctx, lc_dtype dtype, double start, double end, int64_t steps) {
  if (steps < 0) {
    lc__fail(ctx, LC_EARG, "steps must be non-negative, got %lld", (long long)steps);
    return NULL;
  }
  lc_tensor *t = lc_empty(ctx, dtype, 1, &steps);
  /* PyTorch fills the second half from the end, so the last value is exact */
  double step = steps > 1 ? (end - start) / (double)(steps - 1) : 0.0;
  int64_t half = steps == 1 ? 1 : steps / 2;  /* one step: just start, as PyTorch */
  for (int64_t i = 0; t && i < steps; i++)
    set_flat(t, i, i < half ? start + step * (double)i : end - step * (double)(steps - 1 - i));
  return t;
}

lc_tensor *lc_randint(lc_ctx *ctx, lc_dtype dtype, int64_t low, int64_t high, int ndim,
                      const int64_t *shape) {
  if (high <= low) {
    lc__fail(ctx, LC_EARG, "empty range [%lld, %lld)", (long long)low, (long long)high);
    return NULL;
  }
  lc_tensor *t = lc_empty(ctx, dtype, ndim, shape);
  uint64_t range = (uint64_t)high - (uint64_t)low;  /* unsigned: no overflow for any bounds */
  /* rejection sampling keeps every value equally likely */
  uint64_t limit = UINT64_MAX - UINT64_MAX % range;
  for (int64_t i = 0; t && i < t->numel; i++) {
    uint64_t r;
    do r = lc__rng_next(ctx); while (r >= limit);
    put_int(t, i, (int64_t)((uint64_t)low + r % range));
  }
  return t;
}

/* ---- element access ---------------------------------------------------------- */

void *lc_tensor_data(const lc_tensor *t) {
  if (!t->storage->data) return NULL;
  return (char *)t->storage->data + t->offset * (int64_t)lc_dtype_size(t->dtype);
}

static int64_t offset_of(const lc_tensor *t, const int64_t *idx) {
  int64_t off = t->offset;
  for (int i = 0; i < t->ndim; i++) off += idx[i] * t->strides[i];
  return off;
}

double lc_tensor_get(const lc_tensor *t, const int64_t *idx) { return at(t, offset_of(t, idx)); }
int64_t lc_tensor_get_int(const lc_tensor *t, const int64_t *idx) {
  return lc__int_at(t, offset_of(t, idx));
}
void lc_tensor_set(lc_tensor *t, const int64_t *idx, double v) {
  put(t, offset_of(t, idx), v);
  lc__wrote(t);
}
void lc_tensor_set_int(lc_tensor *t, const int64_t *idx, int64_t v) {
  put_int(t, offset_of(t, idx), v);
  lc__wrote(t);
}

void lc_tensor_read_int(const lc_tensor *t, int64_t *out) {
  int64_t idx[LC_MAX_DIMS] = {0};
  for (int64_t k = 0; k < t->numel; k++) {
    out[k] = lc_tensor_get_int(t, idx);
    for (int d = t->ndim - 1; d >= 0; d--) {
      if (++idx[d] < t->shape[d]) break;
      idx[d] = 0;
    }
  }
}

void lc_tensor_read(const lc_tensor *t, double *out) {
  int64_t idx[LC_MAX_DIMS] = {0};
  for (int64_t k = 0; k < t->numel; k++) {
    out[k] = lc_tensor_get(t, idx);
    for (int d = t->ndim - 1; d >= 0; d--) {
      if (++idx[d] < t->shape[d]) break;
      idx[d] = 0;
    }
  }
}

lc_status lc_tensor_item(lc_ctx *ctx, const lc_tensor *t, double *out) {
  if (t->numel != 1) {
    char s[LC_SHAPE_STR];
    lc_shape_str(s, sizeof s, t->ndim, t->shape);
    return lc__fail(ctx, LC_ESHAPE, "only one-element tensors have an item, got shape %s", s);
  }
  *out = at(t, t->offset);
  return LC_OK;
}

/* ---- in place ------------------------------------------------------------ */

/* Fills through the copy kernel from a 0-d source that lives on the stack:
 * filling must not allocate (lc_full and lc_scalar are built on it). */
static lc_status fill_cell(lc_ctx *ctx, lc_tensor *dst, int is_int, double value, int64_t iv) {
  int64_t cell = 0;  /* 8 bytes, aligned for any dtype */
  lc_storage st = {1, sizeof cell, &cell, 1, ctx, 0, 0, UINT64_MAX};  /* scratch, never "old" */
  lc_tensor v;
  memset(&v, 0, sizeof v);
  v.dtype = dst->dtype;
  v.numel = 1;
  v.storage = &st;
  if (is_int) put_int(&v, 0, iv);
  else put(&v, 0, value);
  return lc_copy_(ctx, dst, &v);
}

lc_status lc_fill_(lc_ctx *ctx, lc_tensor *dst, double value) {
  return fill_cell(ctx, dst, 0, value, 0);
}

lc_status lc_fill_int_(lc_ctx *ctx, lc_tensor *dst, int64_t value) {
  return fill_cell(ctx, dst, 1, 0.0, value);
}

lc_status lc_copy_(lc_ctx *ctx, lc_tensor *dst, const lc_tensor *src) {
  /* src broadcasts to dst: align trailing dims, 0 stride where src has 1. */
  int64_t ss[LC_MAX_DIMS];
  int off = dst->ndim - src->ndim;
  for (int i = 0; i < dst->ndim; i++) {
    int j = i - off;
    int64_t sz = j >= 0 ? src->shape[j] : 1;
    if (off < 0 || (sz != dst->shape[i] && sz != 1)) {
      char a[LC_SHAPE_STR], b[LC_SHAPE_STR];
      lc_shape_str(a, sizeof a, src->ndim, src->shape);
      lc_shape_str(b, sizeof b, dst->ndim, dst->shape);
      return lc__fail(ctx, LC_ESHAPE, "cannot copy shape %s into shape %s", a, b);
    }
    ss[i] = (j >= 0 && sz != 1) ? src->strides[j] : 0;
  }
  if (off < 0) {
    char a[LC_SHAPE_STR], b[LC_SHAPE_STR];
    lc_shape_str(a, sizeof a, src->ndim, src->shape);
    lc_shape_str(b, sizeof b, dst->ndim, dst->shape);
    return lc__fail(ctx, LC_ESHAPE, "cannot copy shape %s into shape %s", a, b);
  }
  lc__k_copy(dst, src, ss);
  lc__wrote(dst);
  return LC_OK;
}

/* ---- views --------------------------------------------------------------- */

lc_tensor *lc__view(lc_ctx *ctx, lc_tensor *base, int ndim, const int64_t *shape,
                    const int64_t *strides, int64_t offset) {
  lc_tensor *t = tensor_header(ctx, base->dtype, ndim, shape);
  if (!t) return NULL;
  for (int i = 0; i < ndim; i++) t->strides[i] = strides[i];
  t->offset = offset;
  t->storage = base->storage;
  base->storage->refcount++;
  return t;
}

lc_tensor *lc__detach(lc_ctx *ctx, lc_tensor *a) {
  return lc__view(ctx, a, a->ndim, a->shape, a->strides, a->offset);
}

lc_tensor *lc_detach(lc_ctx *ctx, lc_tensor *a) {
  lc_tensor *t = lc__detach(ctx, a);
  if (ctx->trace) lc__trace_alias(ctx, t, a);  /* a plan computes a again for it */
  return t;
}

int lc_tensor_is_leaf(const lc_tensor *t) { return t->node == NULL; }

const char *lc_tensor_op_name(const lc_tensor *t) {
  return t->node ? t->node->def->name : NULL;
}

/* ---- graph recording ------------------------------------------------------ */

int lc__wants_grad(lc_ctx *ctx, int n, lc_tensor **inputs) {
  if (!ctx->grad_enabled) return 0;
  if (ctx->trace) return 1;  /* a plan replays every op, whatever requires grad */
  for (int i = 0; i < n; i++)
    if (inputs[i] && inputs[i]->requires_grad) return 1;
  return 0;
}

int lc__inputs_current(lc_ctx *ctx, int n, lc_tensor **inputs) {
  for (int i = 0; i < n; i++) {
    const lc_tensor *x = inputs[i];
    if (!x || x->storage->graph_write <= (x->node ? x->node->recorded_at : x->born)) continue;
    char s[LC_SHAPE_STR];
    lc_shape_str(s, sizeof s, x->ndim, x->shape);
    lc__fail(ctx, LC_ESTATE, "input %d (%s %s) shares its elements with a tensor written in "
             "place with gradients after it was made, so its graph misses that write; use the "
             "tensor that was written into (or a view made after the write)", i + 1,
             lc_dtype_name(x->dtype), s);
    return 0;
  }
  return 1;
}

/* Makes `out` the result of op on inputs. Call it only when lc__wants_grad
 * says a gradient is wanted: NULL then means out of memory. It leaves the
 * context's status alone, so an earlier failure is never hidden by a later
 * success (a backward rule makes many ops). */
lc_node *lc__record(lc_ctx *ctx, lc_tensor *out, const lc_op_def *def, int n,
                    lc_tensor **inputs) {
  lc_node *node = (lc_node *)lc__alloc(ctx, sizeof *node);
  if (!node) return NULL;
  memset(node, 0, sizeof *node);
  node->inputs = node->inline_inputs;
  if (n > LC_NODE_INLINE_INPUTS &&
      !(node->inputs = (lc_tensor **)lc__alloc(ctx, sizeof(lc_tensor *) * (size_t)n))) {
    lc__free(ctx, node, sizeof *node);
    return NULL;
  }
  ctx->refcount++;
  node->refcount = 1;
  node->ctx = ctx;
  node->def = def;
  node->ninputs = n;
  for (int i = 0; i < n; i++) {
    node->inputs[i] = inputs[i];
    lc_tensor_retain(inputs[i]);
  }
  node->out = out;
  node->recorded_at = ctx->write_clock;
  out->node = node;
  out->requires_grad = 1;
  return node;
}

lc_status lc_attach_node(lc_ctx *ctx, lc_tensor *out, const lc_op_def *def, int n,
                         lc_tensor **inputs, void *user,
                         void (*user_free)(lc_ctx *ctx, void *user)) {
  if (out->node)
    return lc__fail(ctx, LC_ESTATE, "the output already belongs to a graph");
  int wanted = lc_dtype_is_float(out->dtype) && lc__wants_grad(ctx, n, inputs);
  /* a stale input is refused even when nothing requires grad (see lc__finish) */
  if (lc_dtype_is_float(out->dtype) && ctx->grad_enabled && !lc__inputs_current(ctx, n, inputs)) {
    if (user_free) user_free(ctx, user);
    return ctx->status;
  }
  if (ctx->trace && ctx->grad_enabled) lc__trace_opaque(ctx, out, def->name);  /* no replay */
  lc_node *node = wanted ? lc__record(ctx, out, def, n, inputs) : NULL;
  if (!node) {
    if (user_free) user_free(ctx, user);  /* no node to own it */
    return wanted ? LC_ENOMEM : LC_OK;
  }
  node->user = user;
  node->user_free = user_free;
  return LC_OK;
}

/* Whether t is a leaf that requires grad or a view of one: a view chain
 * (ops whose input shares the output's elements) leads back to it. */
static int grad_leaf_elements(const lc_tensor *t) {
  const lc_tensor *x = t;
  while (x->node && !x->node->freed && x->node->ninputs > 0 && x->node->inputs[0] &&
         x->node->inputs[0]->storage == t->storage)
    x = x->node->inputs[0];
  return !x->node && x->requires_grad && x->storage == t->storage;
}

/* x gets a storage of its own holding its elements as they are: the values
 * a rule will read, kept before the elements are overwritten. */
static int keep_values(lc_ctx *ctx, lc_tensor *x) {
  lc_storage *old = x->storage;
  int64_t n = (int64_t)old->nbytes;
  lc_tensor *c = lc_empty(ctx, LC_UINT8, 1, &n);
  if (!c) return 0;
  if (n) memcpy(c->storage->data, old->data, old->nbytes);
  x->storage = c->storage;
  c->storage->refcount++;
  storage_release(old);
  lc_tensor_release(c);
  return 1;
}

void lc__share_storage(lc_tensor *t, const lc_tensor *from) {
  lc_storage *old = t->storage;
  t->storage = from->storage;
  t->storage->refcount++;
  t->offset = from->offset;
  memcpy(t->strides, from->strides, sizeof(int64_t) * (size_t)t->ndim);
  storage_release(old);
}

lc_tensor *lc_rebase_(lc_ctx *ctx, lc_tensor *t, lc_tensor *r) {
  if (r->dtype != t->dtype || r->ndim != t->ndim ||
      memcmp(r->shape, t->shape, sizeof(int64_t) * (size_t)t->ndim)) {
    lc__fail_shapes(ctx, "an in-place result %s differs from the tensor %s in shape or dtype",
                    r, t);
    return NULL;
  }
  if (!ctx->grad_enabled || !(r->node || t->requires_grad))  /* nothing to record */
    return lc_copy_(ctx, t, r) == LC_OK ? lc__retained(t) : NULL;
  if (grad_leaf_elements(t)) {
    lc__fail(ctx, LC_ESTATE, "a leaf tensor that requires grad (or a view of one) cannot be "
             "changed in place while gradients are recorded (use lucid.no_grad, or change a "
             "clone())");
    return NULL;
  }
  lc_tensor *h = lc__view(ctx, t, t->ndim, t->shape, t->strides, t->offset);
  if (!h) return NULL;  /* before the copy: a failure leaves t as it was */
  /* t's old header is an input of r's graph (t * o): a rule that reads it
   * must see the values before this write, so they move to a storage of
   * the old header's own (the elements keep the new values) */
  lc_node *n = r->node;
  for (int i = 0; n && !n->def->values_unused && i < n->ninputs; i++)
    if (n->inputs[i] && n->inputs[i]->storage == t->storage && !keep_values(ctx, n->inputs[i])) {
      lc_tensor_release(h);
      return NULL;
    }
  if (lc_copy_(ctx, h, r) != LC_OK) {  /* h: t's elements, even if t's header moved */
    lc_tensor_release(h);
    return NULL;
  }
  /* r's graph (none for a constant: t no longer depends on anything) now
   * describes t's elements as they are after this write */
  h->node = r->node;
  r->node = NULL;
  if (h->node) {
    h->node->out = h;
    h->node->recorded_at = ctx->write_clock;
    h->requires_grad = 1;
  }
  h->storage->graph_write = ctx->write_clock;
  return h;
}

int lc_node_ninputs(const lc_node *n) { return n->ninputs; }
lc_tensor *lc_node_input(const lc_node *n, int i) { return n->freed ? NULL : n->inputs[i]; }
void *lc_node_user(const lc_node *n) { return n->user; }

/* sort.c: the ordering ops: argsort and topk along a dim.
 *
 * Both return int64 indices (0-based here; the binding makes them 1-based)
 * and no graph: the values are a gather of the input by these indices, which
 * the caller records (lc_gather), so that their gradient is gather's, the
 * same as PyTorch's SortBackward and TopkBackward (the gradient goes back to
 * the picked elements).
 *
 * The order is PyTorch's: NaN is larger than every number (last ascending,
 * first descending), and the sort is stable (equal elements keep their
 * order), which PyTorch gives with stable=True and which makes every result
 * reproducible. Integers are compared exactly (int64 past 2^53 too). Each
 * slice along dim is copied into a scratch array of (key, index) and sorted
 * with a merge sort: O(n log n) whatever the data, and no recursion. A long
 * slice (RADIX_MIN elements or more) is sorted by its elements' bits
 * instead: each becomes an unsigned integer in the same order (radix_key),
 * sorted stably by 11-bit digits, least significant first: a few passes of
 * counting and moving, 5-7x faster than the merge sort on a million; and
 * topk of a few from one keeps a heap of them in one pass (heap_first). */
#include "internal.h"

#include <stdint.h>
#include <string.h>

typedef struct item {
  double f;     /* float dtypes */
  int64_t i;    /* integer dtypes */
  int64_t at;   /* the position along dim */
} item;

/* Whether x comes before y in ascending order, for the dtype's kind; ties
 * are left to the merge (stable). */
static int before(const item *x, const item *y, int is_float, int descending) {
  if (is_float) {
    int xn = x->f != x->f, yn = y->f != y->f;
    if (xn || yn) return descending ? xn && !yn : yn && !xn;  /* NaN is the largest */
    return descending ? x->f > y->f : x->f < y->f;
  }
  return descending ? x->i > y->i : x->i < y->i;
}

static int before_total(const item *x, const item *y, int is_float, int descending);

/* Bottom-up merge sort of v[n] with scratch tmp[n], in the total order. */
static void merge_sort(item *v, item *tmp, int64_t n, int is_float, int descending) {
  for (int64_t w = 1; w < n; w *= 2) {
    for (int64_t lo = 0; lo < n; lo += 2 * w) {
      int64_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
      int64_t a = lo, b = mid, k = lo;
      while (a < mid && b < hi)  /* ties by position: stable, also after a selection */
        tmp[k++] = before_total(&v[b], &v[a], is_float, descending) ? v[b++] : v[a++];
      while (a < mid) tmp[k++] = v[a++];
      while (b < hi) tmp[k++] = v[b++];
    }
    memcpy(v, tmp, sizeof(item) * (size_t)n);
  }
}

/* before, with ties broken by position: a total order, under which the
 * stable sort's first k are exactly the k smallest. */
static int before_total(const item *x, const item *y, int is_float, int descending) {
  if (before(x, y, is_float, descending)) return 1;
  return !before(y, x, is_float, descending) && x->at < y->at;
}

/* Moves the k first items (in the total order) of v[n] to v[0..k-1], in
 * some order: Hoare's selection, O(n) on average; the pivot is the median
 * of three, so sorted and reversed inputs stay linear. */
static void select_first(item *v, int64_t n, int64_t k, int is_float, int descending) {
  int64_t lo = 0, hi = n - 1;
  while (lo < hi) {
    int64_t mid = lo + (hi - lo) / 2;
    item a = v[lo], b = v[mid], c = v[hi], p;
    if (before_total(&a, &b, is_float, descending))
      p = before_total(&b, &c, is_float, descending) ? b
          : before_total(&a, &c, is_float, descending) ? c : a;
    else
      p = before_total(&a, &c, is_float, descending) ? a
          : before_total(&b, &c, is_float, descending) ? c : b;
    int64_t i = lo, j = hi;
    while (i <= j) {
      while (before_total(&v[i], &p, is_float, descending)) i++;
      while (before_total(&p, &v[j], is_float, descending)) j--;
      if (i <= j) {
        item t = v[i];
        v[i++] = v[j];
        v[j--] = t;
      }
    }
    if (k - 1 <= j) hi = j;        /* the k-th lies left of the cut */
    else if (k - 1 >= i) lo = i;   /* or right of it */
    else return;                   /* or between: everything left of i is in place */
  }
}

/* The slices of a along dim: r in [0, outer * inner) names one (row-major
 * over the other dims); its elements are len apart by sd in storage. */
typedef struct slices {
  int64_t len, sd, outer, inner;
} slices;

static slices slices_of(const lc_tensor *a, int dim) {
  slices s = {a->ndim ? a->shape[dim] : 1, a->ndim ? a->strides[dim] : 0, 1, 1};
  for (int d = 0; d < dim; d++) s.outer *= a->shape[d];
  for (int d = dim + 1; d < a->ndim; d++) s.inner *= a->shape[d];
  return s;
}

/* The storage offset of slice r's first element. */
static int64_t slice_base(const lc_tensor *a, int dim, int64_t r) {
  int64_t base = a->offset, rest = r;
  for (int d = a->ndim - 1; d >= 0; d--) {
    if (d == dim) continue;
    base += (rest % a->shape[d]) * a->strides[d];
    rest /= a->shape[d];
  }
  return base;
}

/* The element at storage offset off as an item key. */
static void load(item *it, const lc_tensor *a, int is_float, int64_t off) {
  if (is_float) it->f = a->dtype == LC_FLOAT64 ? ((const double *)a->storage->data)[off]
                                               : ((const float *)a->storage->data)[off];
  else it->i = lc__int_at(a, off);
}

/* ---- long slices: by the elements' bits ------------------------------------------ */

#define RADIX_MIN 2048   /* shorter slices take the merge sort (the counts cost more) */
#define DIGIT 11
#define BUCKETS (1 << DIGIT)
#define PASSES 6         /* 64-bit keys by 11-bit digits (float32's: 3) */
#define HEAP_MAX 1024    /* topk of at most this many (and an eighth of the slice): a heap */

typedef struct keyed {
  uint64_t key;
  int64_t at;
} keyed;

/* An unsigned integer in the sort's order (before's): larger for a later
 * element, equal where before puts neither first (-0 and 0, every NaN), so
 * that a stable sort of keys is the merge sort's order. A float's bits read
 * as an unsigned integer order the positive floats; flipping the negative
 * ones entirely and setting the sign of the others orders them all. */
static inline uint64_t radix_key(const lc_tensor *a, int64_t off, int descending) {
  uint64_t k;
  /* flip: all bits of a negative, the sign of the rest, without a branch
   * (the signs of data are a coin toss to a branch predictor) */
  if (a->dtype == LC_FLOAT32) {
    float f = ((const float *)a->storage->data)[off] + 0.0f;  /* -0 sorts as 0 */
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    u ^= (uint32_t)-(int32_t)(u >> 31) | 0x80000000u;
    k = f != f ? UINT32_MAX : u;
    return descending ? UINT32_MAX - k : k;
  }
  if (a->dtype == LC_FLOAT64) {
    double f = ((const double *)a->storage->data)[off] + 0.0;
    memcpy(&k, &f, sizeof k);
    k ^= (uint64_t)-(int64_t)(k >> 63) | 0x8000000000000000u;
    if (f != f) k = UINT64_MAX;
  } else {
    k = (uint64_t)lc__int_at(a, off) ^ 0x8000000000000000u;
  }
  return descending ? ~k : k;
}

/* Sorts v[n] by key, stably, with scratch tmp[n] and count[passes *
 * BUCKETS], keys passes digits wide: one pass counts every digit, then a
 * pass per digit that is not the same for all. The result is v or tmp. */
static keyed *radix_sort(keyed *v, keyed *tmp, int64_t n, int passes, int64_t *count) {
  memset(count, 0, sizeof *count * (size_t)passes * BUCKETS);
  for (int64_t i = 0; i < n; i++)
    for (int p = 0; p < passes; p++)
      count[p * BUCKETS + ((v[i].key >> (p * DIGIT)) & (BUCKETS - 1))]++;
  for (int p = 0; p < passes; p++) {
    int64_t *c = count + p * BUCKETS, sum = 0;
    if (c[(v[0].key >> (p * DIGIT)) & (BUCKETS - 1)] == n) continue;  /* one digit for all */
    for (int b = 0; b < BUCKETS; b++) {
      int64_t t = c[b];
      c[b] = sum;
      sum += t;
    }
    for (int64_t i = 0; i < n; i++) tmp[c[(v[i].key >> (p * DIGIT)) & (BUCKETS - 1)]++] = v[i];
    keyed *s = v;
    v = tmp;
    tmp = s;
  }
  return v;
}

/* The total order: key, then position (a stable sort's). */
static int keyed_after(const keyed *x, const keyed *y) {
  return x->key > y->key || (x->key == y->key && x->at > y->at);
}

static void sift_down(keyed *h, int64_t n, int64_t i) {
  for (;;) {
    int64_t big = i, l = 2 * i + 1, r = l + 1;
    if (l < n && keyed_after(&h[l], &h[big])) big = l;
    if (r < n && keyed_after(&h[r], &h[big])) big = r;
    if (big == i) return;
    keyed t = h[i];
    h[i] = h[big];
    h[big] = t;
    i = big;
  }
}

/* topk of a few from a long slice: one pass keeping the k first seen so far
 * in a heap whose top is the last of them, so that most elements cost one
 * comparison and no scratch of the slice's length is needed; then h[0..k-1]
 * in order. O(n log k) at worst (a slice already in the opposite order). */
static void heap_first(keyed *h, int64_t k, const lc_tensor *a, int64_t base, int64_t sd,
                       int64_t len, int descending) {
  for (int64_t j = 0; j < len; j++) {
    keyed x = {radix_key(a, base + j * sd, descending), j};
    if (j < k) {
      h[j] = x;
      if (j == k - 1)
        for (int64_t i = k / 2; i-- > 0;) sift_down(h, k, i);
    } else if (keyed_after(&h[0], &x)) {
      h[0] = x;
      sift_down(h, k, 0);
    }
  }
  for (int64_t n = k; n > 1; n--) {  /* the last to the end, in turn */
    keyed t = h[0];
    h[0] = h[n - 1];
    h[n - 1] = t;
    sift_down(h, n - 1, 0);
  }
}

/* sorted_into for slices of RADIX_MIN or more. */
static int radix_sorted_into(lc_ctx *ctx, lc_tensor *out, const lc_tensor *a, int dim, int64_t k,
                             int descending) {
  slices sl = slices_of(a, dim);
  int64_t len = sl.len;
  int heap = k <= HEAP_MAX && k < len / 8, passes = a->dtype == LC_FLOAT32 ? 3 : PASSES;
  int64_t n = heap ? (k ? k : 1) : len;
  size_t bytes = sizeof(keyed) * (size_t)n, tbytes = heap ? 0 : bytes;
  size_t cbytes = heap ? 0 : sizeof(int64_t) * (size_t)passes * BUCKETS;
  keyed *v = (keyed *)lc__alloc(ctx, bytes), *tmp = NULL;
  int64_t *count = NULL;
  if (!v || (!heap && (!(tmp = (keyed *)lc__alloc(ctx, tbytes)) ||
                       !(count = (int64_t *)lc__alloc(ctx, cbytes))))) {
    if (tmp) lc__free(ctx, tmp, tbytes);
    if (v) lc__free(ctx, v, bytes);
    return 0;
  }
  int64_t *o = (int64_t *)lc_tensor_data(out);
  for (int64_t r = 0; r < sl.outer * sl.inner; r++) {
    int64_t base = slice_base(a, dim, r);
    const keyed *s = v;
    if (heap) {
      heap_first(v, k, a, base, sl.sd, len, descending);
    } else {
      for (int64_t j = 0; j < len; j++) {
        v[j].key = radix_key(a, base + j * sl.sd, descending);
        v[j].at = j;
      }
      s = radix_sort(v, tmp, len, passes, count);
    }
    int64_t ob = (r / sl.inner) * k * sl.inner + r % sl.inner;  /* out is contiguous */
    for (int64_t j = 0; j < k; j++) o[ob + j * sl.inner] = s[j].at;
  }
  if (count) lc__free(ctx, count, cbytes);
  if (tmp) lc__free(ctx, tmp, tbytes);
  lc__free(ctx, v, bytes);
  return 1;
}

/* The first k positions of every slice of a along dim in sorted order. */
static int sorted_into(lc_ctx *ctx, lc_tensor *out, const lc_tensor *a, int dim, int64_t k,
                       int descending) {
  if (out->numel == 0) return 1;
  int64_t len = a->ndim ? a->shape[dim] : 1;
  if (len >= RADIX_MIN) return radix_sorted_into(ctx, out, a, dim, k, descending);
  /* topk of a few: select them first (linear), then sort only those */
  int select = k < len / 8;
  int64_t m = select ? k : len;
  size_t bytes = sizeof(item) * (size_t)len, tbytes = sizeof(item) * (size_t)(m ? m : 1);
  item *v = (item *)lc__alloc(ctx, bytes), *tmp = v ? (item *)lc__alloc(ctx, tbytes) : NULL;
  if (!tmp) {
    if (v) lc__free(ctx, v, bytes);
    return 0;
  }
  int is_float = lc_dtype_is_float(a->dtype);
  slices sl = slices_of(a, dim);
  int64_t *o = (int64_t *)lc_tensor_data(out);
  for (int64_t r = 0; r < sl.outer * sl.inner; r++) {
    int64_t base = slice_base(a, dim, r);
    for (int64_t j = 0; j < len; j++) {
      v[j].at = j;
      load(&v[j], a, is_float, base + j * sl.sd);
    }
    if (select) select_first(v, len, k, is_float, descending);
    merge_sort(v, tmp, m, is_float, descending);
    int64_t ob = (r / sl.inner) * k * sl.inner + r % sl.inner;  /* out is contiguous */
    for (int64_t j = 0; j < k; j++) o[ob + j * sl.inner] = v[j].at;
  }
  lc__free(ctx, v, bytes);
  lc__free(ctx, tmp, tbytes);
  return 1;
}

/* out: a new int64 tensor of shape[ndim], computed by lc__order_into and
 * recorded (the inputs in[n], the arguments p). */
static lc_tensor *ordered(lc_ctx *ctx, lc__ord kind, int ndim, const int64_t *shape, int n,
                          lc_tensor **in, lc_node_args p) {
  lc_tensor *out = lc_empty(ctx, LC_INT64, ndim, shape);
  if (out && !lc__order_into(ctx, out, kind, in, &p)) {
    lc_tensor_release(out);
    return NULL;
  }
  return lc__order_finish(ctx, out, kind, n, in, &p);
}

/* The first k positions of every slice of a along dim in sorted order, into
 * a new int64 tensor of a's shape with dim's size k. */
static lc_tensor *order(lc_ctx *ctx, lc_tensor *a, int dim, int64_t k, int descending, int topk) {
  int64_t shape[LC_MAX_DIMS];
  for (int d = 0; d < a->ndim; d++) shape[d] = d == dim ? k : a->shape[d];
  lc_node_args p = {.order = {dim, descending, k}};
  return ordered(ctx, topk ? LC__ORD_TOPK : LC__ORD_ARGSORT, a->ndim, shape, 1, &a, p);
}

/* A 0-d tensor takes dim 0, as one element along it. */
static int check_sdim(lc_ctx *ctx, const lc_tensor *a, int dim) {
  return (a->ndim == 0 && dim == 0) || lc__check_dim(ctx, a, dim);
}

lc_tensor *lc_argsort(lc_ctx *ctx, lc_tensor *a, int dim, int descending) {
  if (!check_sdim(ctx, a, dim)) return NULL;
  return order(ctx, a, dim, a->ndim ? a->shape[dim] : 1, descending, 0);
}

lc_tensor *lc_topk(lc_ctx *ctx, lc_tensor *a, int64_t k, int dim, int largest) {
  if (!check_sdim(ctx, a, dim)) return NULL;
  int64_t len = a->ndim ? a->shape[dim] : 1;
  if (k < 0 || k > len) {
    char s[LC_SHAPE_STR];
    lc_shape_str(s, sizeof s, a->ndim, a->shape);
    lc__fail(ctx, LC_EARG, "k = %lld is out of range for dimension %d of shape %s (0..%lld)",
             (long long)k, dim + 1, s, (long long)len);
    return NULL;
  }
  return order(ctx, a, dim, k, largest, 1);
}

/* ---- unique, searchsorted -------------------------------------------------------- */

/* The sorted distinct values of a (flattened), each element's position among
 * them (a's shape) and how often each occurs: a stable sort, then one pass.
 * Not differentiable, as PyTorch's: computed with recording off. */
lc_status lc_unique(lc_ctx *ctx, lc_tensor *a, lc_tensor **values, lc_tensor **inverse,
                    lc_tensor **counts) {
  *values = *inverse = *counts = NULL;
  int was = lc_ctx_set_grad_enabled(ctx, 0);
  int64_t n = a->numel, m = 0;
  lc_tensor *f1 = lc_reshape(ctx, a, 1, &n);
  lc_tensor *perm = f1 ? lc_argsort(ctx, f1, 0, 0) : NULL;
  lc_tensor *inv = perm ? lc_empty(ctx, LC_INT64, a->ndim, a->shape) : NULL;
  lc_tensor *first = inv ? lc_empty(ctx, LC_INT64, 1, &n) : NULL;  /* where each value is */
  lc_tensor *cnt = first ? lc_empty(ctx, LC_INT64, 1, &n) : NULL;
  if (cnt && n) {
    const int64_t *o = (const int64_t *)lc_tensor_data(perm);
    int64_t *iv = (int64_t *)lc_tensor_data(inv), *fp = (int64_t *)lc_tensor_data(first);
    int64_t *cp = (int64_t *)lc_tensor_data(cnt);
    int is_float = lc_dtype_is_float(a->dtype);
    for (int64_t k = 0; k < n; k++) {
      int64_t at = f1->offset + o[k] * f1->strides[0];
      int same = 0;
      if (k) {
        int64_t prev = f1->offset + o[k - 1] * f1->strides[0];
        if (is_float) {  /* NaN is never equal: each is its own value, as in PyTorch */
          double x = lc_tensor_get(f1, &o[k]), y = lc_tensor_get(f1, &o[k - 1]);
          same = x == y;
        } else {
          same = lc__int_at(f1, at) == lc__int_at(f1, prev);
        }
      }
      if (!same) {
        fp[m] = o[k];
        cp[m++] = 0;
      }
      cp[m - 1]++;
      iv[o[k]] = m - 1;  /* inv is contiguous: o[k] is the row-major position */
    }
  }
  lc_tensor *picked = cnt ? lc_narrow(ctx, first, 0, 0, m) : NULL;
  if (picked) *values = lc_index_select(ctx, f1, 0, picked);
  if (*values) *counts = lc_narrow(ctx, cnt, 0, 0, m);
  if (*counts) *inverse = lc__retained(inv);
  lc__trace_opaque(ctx, *inverse, "unique");
  lc_tensor *tmp[] = {picked, f1, perm, inv, first, cnt};
  for (size_t k = 0; k < sizeof tmp / sizeof tmp[0]; k++) lc_tensor_release(tmp[k]);
  lc_ctx_set_grad_enabled(ctx, was);
  if (*inverse) return LC_OK;
  lc_tensor_release(*values);
  lc_tensor_release(*counts);
  *values = *counts = NULL;
  return ctx->status != LC_OK ? ctx->status : LC_ENOMEM;
}

/* For each value, the first position of the sorted last dim of seq where it
 * could go keeping the order: the count of entries < value (<= with right),
 * 0-based, int64, by binary search. seq (..., n) and values (..., k) share
 * their leading dims, or seq is 1-D. */
lc_tensor *lc_searchsorted(lc_ctx *ctx, lc_tensor *seq, lc_tensor *values, int right) {
  int batched = seq->ndim > 1;
  int ok = seq->ndim >= 1 && (!batched || values->ndim == seq->ndim);
  for (int d = 0; ok && batched && d < seq->ndim - 1; d++) ok = seq->shape[d] == values->shape[d];
  if (!ok)
    return lc__fail_shapes(ctx, "the sorted sequence %s and the values %s do not fit (a 1-D "
                           "sequence, or the same leading dims)", seq, values);
  lc_tensor *in[2] = {seq, values};
  lc_node_args p = {.order = {0, right, 0}};
  return ordered(ctx, LC__ORD_SEARCHSORTED, values->ndim, values->shape, 2, in, p);
}

/* lc_searchsorted's search, into out (values' shape). */
static void searched_into(lc_tensor *out, const lc_tensor *seq, const lc_tensor *values,
                          int right) {
  int batched = seq->ndim > 1;
  if (out->numel == 0) return;
  int64_t n = seq->shape[seq->ndim - 1];
  int is_float = lc_dtype_is_float(seq->dtype) || lc_dtype_is_float(values->dtype);
  int64_t *o = (int64_t *)lc_tensor_data(out), idx[LC_MAX_DIMS] = {0}, sidx[LC_MAX_DIMS] = {0};
  for (int64_t e = 0; e < values->numel; e++) {
    double vf = lc_tensor_get(values, idx);
    int64_t vi = lc_tensor_get_int(values, idx), lo = 0, hi = n;
    for (int d = 0; batched && d < seq->ndim - 1; d++) sidx[d] = idx[d];
    while (lo < hi) {  /* the first entry that is > v (right) or >= v */
      int64_t mid = lo + (hi - lo) / 2;
      sidx[seq->ndim - 1] = mid;
      int after;
      if (is_float) {
        double s = lc_tensor_get(seq, sidx);
        after = right ? s > vf : s >= vf;
        if (vf != vf) after = s != s;  /* NaN goes after every number */
      } else {
        int64_t s = lc_tensor_get_int(seq, sidx);
        after = right ? s > vi : s >= vi;
      }
      if (after) hi = mid;
      else lo = mid + 1;
    }
    o[e] = lo;
    for (int d = values->ndim - 1; d >= 0; d--) {
      if (++idx[d] < values->shape[d]) break;
      idx[d] = 0;
    }
  }
}

/* ---- cummax, cummin ------------------------------------------------------------------ */

/* For each position along dim, where the running max (min) so far is: as
 * PyTorch's cummax_cummin_helper, a tie moves to the later position and a
 * NaN wins from then on (a later NaN taking over). 0-based, int64, a's
 * shape; the values are a gather by these. */
lc_tensor *lc_cumext(lc_ctx *ctx, lc_tensor *a, int dim, int is_min) {
  if (!check_sdim(ctx, a, dim)) return NULL;
  lc_node_args p = {.order = {dim, is_min, 0}};
  return ordered(ctx, LC__ORD_CUMEXT, a->ndim, a->shape, 1, &a, p);
}

/* lc_cumext's positions, into out (a's shape). */
static void cumext_into(lc_tensor *out, const lc_tensor *a, int dim, int is_min) {
  if (out->numel == 0) return;
  int is_float = lc_dtype_is_float(a->dtype);
  slices sl = slices_of(a, dim);
  int64_t *o = (int64_t *)lc_tensor_data(out);
  for (int64_t r = 0; r < sl.outer * sl.inner; r++) {
    int64_t base = slice_base(a, dim, r), at = 0;
    int64_t ob = (r / sl.inner) * sl.len * sl.inner + r % sl.inner;
    item best = {0, 0, 0}, x;
    for (int64_t j = 0; j < sl.len; j++) {
      load(&x, a, is_float, base + j * sl.sd);
      int take;
      if (is_float)
        take = j == 0 || x.f != x.f ||
               (best.f == best.f && (is_min ? x.f <= best.f : x.f >= best.f));
      else
        take = j == 0 || (is_min ? x.i <= best.i : x.i >= best.i);
      if (take) {
        best = x;
        at = j;
      }
      o[ob + j * sl.inner] = at;
    }
  }
}

int lc__order_into(lc_ctx *ctx, lc_tensor *out, lc__ord kind, lc_tensor *const *in,
                   const lc_node_args *p) {
  switch (kind) {
    case LC__ORD_ARGSORT: case LC__ORD_TOPK:
      return sorted_into(ctx, out, in[0], p->order.dim, p->order.k, p->order.flag);
    case LC__ORD_SEARCHSORTED: searched_into(out, in[0], in[1], p->order.flag); return 1;
    case LC__ORD_CUMEXT: cumext_into(out, in[0], p->order.dim, p->order.flag); return 1;
  }
  return 0;
}

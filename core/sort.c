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
 * with a merge sort: O(n log n) whatever the data, and no recursion. */
#include "internal.h"

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

/* The first k positions of every slice of a along dim in sorted order, into
 * a new int64 tensor of a's shape with dim's size k. */
static lc_tensor *order(lc_ctx *ctx, lc_tensor *a, int dim, int64_t k, int descending) {
  int64_t len = a->ndim ? a->shape[dim] : 1, shape[LC_MAX_DIMS];
  for (int d = 0; d < a->ndim; d++) shape[d] = d == dim ? k : a->shape[d];
  lc_tensor *out = lc_empty(ctx, LC_INT64, a->ndim, shape);
  if (!out || out->numel == 0) return out;
  /* topk of a few: select them first (linear), then sort only those */
  int select = k < len / 8;
  int64_t m = select ? k : len;
  size_t bytes = sizeof(item) * (size_t)len, tbytes = sizeof(item) * (size_t)(m ? m : 1);
  item *v = (item *)lc__alloc(ctx, bytes), *tmp = v ? (item *)lc__alloc(ctx, tbytes) : NULL;
  if (!tmp) {
    if (v) lc__free(ctx, v, bytes);
    lc_tensor_release(out);
    return NULL;
  }
  int is_float = lc_dtype_is_float(a->dtype);
  int64_t outer = 1, inner = 1, sd = a->ndim ? a->strides[dim] : 0;
  for (int d = 0; d < dim; d++) outer *= a->shape[d];
  for (int d = dim + 1; d < a->ndim; d++) inner *= a->shape[d];
  int64_t *o = (int64_t *)lc_tensor_data(out), idx[LC_MAX_DIMS] = {0};
  for (int64_t r = 0; r < outer * inner; r++) {
    /* the slice's first element: r as a multi-index over the dims but dim */
    int64_t base = a->offset, rest = r;
    for (int d = a->ndim - 1; d >= 0; d--) {
      if (d == dim) continue;
      idx[d] = rest % a->shape[d];
      rest /= a->shape[d];
      base += idx[d] * a->strides[d];
    }
    for (int64_t j = 0; j < len; j++) {
      int64_t off = base + j * sd;
      v[j].at = j;
      if (is_float) v[j].f = a->dtype == LC_FLOAT64 ? ((const double *)a->storage->data)[off]
                                                     : ((const float *)a->storage->data)[off];
      else v[j].i = lc__int_at(a, off);
    }
    if (select) select_first(v, len, k, is_float, descending);
    merge_sort(v, tmp, m, is_float, descending);
    int64_t ob = (r / inner) * k * inner + r % inner;  /* out is contiguous */
    for (int64_t j = 0; j < k; j++) o[ob + j * inner] = v[j].at;
  }
  lc__free(ctx, v, bytes);
  lc__free(ctx, tmp, tbytes);
  return out;
}

/* A 0-d tensor takes dim 0, as one element along it. */
static int check_sdim(lc_ctx *ctx, const lc_tensor *a, int dim) {
  return (a->ndim == 0 && dim == 0) || lc__check_dim(ctx, a, dim);
}

lc_tensor *lc_argsort(lc_ctx *ctx, lc_tensor *a, int dim, int descending) {
  if (!check_sdim(ctx, a, dim)) return NULL;
  return order(ctx, a, dim, a->ndim ? a->shape[dim] : 1, descending);
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
  return order(ctx, a, dim, k, largest);
}

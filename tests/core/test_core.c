/* test_core.c: tests of the C core (core/lc.h) with no Lua.
 *
 * Every test is a small function listed in the table at the bottom. Each
 * makes its own context on a counting allocator and checks, at the end, that
 * every byte came back. CHECK counts failures and prints file:line and the
 * condition; the exit status is 1 if any check failed.
 *
 * POSIX threads are used for one thing: the 100,000-op chain runs on a
 * thread with a small stack, so a recursive backward or release would crash
 * instead of silently using the main thread's 8 MB. */
#define _POSIX_C_SOURCE 200809L

#include "../../core/lc.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- checking ------------------------------------------------------------------ */

#include "../check.h"

#define CHECK_NEAR(a, b, tol)                                                    \
  do {                                                                           \
    double a_ = (a), b_ = (b);                                                   \
    CHECKF(fabs(a_ - b_) <= (tol), "%s = %.17g, %s = %.17g", #a, a_, #b, b_);    \
  } while (0)

#define D(...) ((const double[]){__VA_ARGS__})
#define S(...) ((const int64_t[]){__VA_ARGS__})
#define NARGS_D(...) (sizeof((const double[]){__VA_ARGS__}) / sizeof(double))
#define NARGS_S(...) (sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t))

/* t's values, row-major, equal `expected` within tol. */
#define CHECK_VALUES(t, tol, ...)                                                \
  check_values_at(__FILE__, __LINE__, #t, (t), (tol), D(__VA_ARGS__), (int64_t)NARGS_D(__VA_ARGS__))
/* t's shape is exactly the given sizes; CHECK_SHAPE0 for 0-d. */
#define CHECK_SHAPE(t, ...)                                                      \
  check_shape_at(__FILE__, __LINE__, #t, (t), S(__VA_ARGS__), (int)NARGS_S(__VA_ARGS__))
#define CHECK_SHAPE0(t) check_shape_at(__FILE__, __LINE__, #t, (t), NULL, 0)

static void check_values_at(const char *file, int line, const char *what, const lc_tensor *t,
                            double tol, const double *expected, int64_t n) {
  g_checks++;
  if (!t) {
    g_failures++;
    fprintf(stderr, "%s:%d: CHECK failed: %s is NULL\n", file, line, what);
    return;
  }
  if (t->numel != n) {
    g_failures++;
    fprintf(stderr, "%s:%d: CHECK failed: %s has %lld elements, expected %lld\n", file, line,
            what, (long long)t->numel, (long long)n);
    return;
  }
  double *v = malloc(sizeof(double) * (size_t)(n ? n : 1));
  lc_tensor_read(t, v);
  for (int64_t i = 0; i < n; i++) {
    if (!(fabs(v[i] - expected[i]) <= tol)) {
      g_failures++;
      fprintf(stderr, "%s:%d: CHECK failed: %s[%lld] = %.17g, expected %.17g\n", file, line, what,
              (long long)i, v[i], expected[i]);
      break;
    }
  }
  free(v);
}

static void check_shape_at(const char *file, int line, const char *what, const lc_tensor *t,
                           const int64_t *shape, int ndim) {
  g_checks++;
  int ok = t && t->ndim == ndim;
  for (int i = 0; ok && i < ndim; i++) ok = t->shape[i] == shape[i];
  if (!ok) {
    char got[LC_SHAPE_STR] = "NULL", want[LC_SHAPE_STR];
    if (t) lc_shape_str(got, sizeof got, t->ndim, t->shape);
    lc_shape_str(want, sizeof want, ndim, shape);
    g_failures++;
    fprintf(stderr, "%s:%d: CHECK failed: %s has shape %s, expected %s\n", file, line, what, got,
            want);
  }
}

/* ---- a counting allocator with the lua_Alloc signature -------------------------- */

typedef struct counter {
  size_t live;        /* bytes handed out and not yet returned */
  long allocs;        /* allocations asked for (ptr == NULL, nsize > 0) */
  long fail_at;       /* refuse allocation number fail_at (1-based); 0: never */
  int fail_after;     /* and, if set, every allocation after it too */
  long refused;       /* allocations refused so far */
} counter;

static void *count_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  counter *c = (counter *)ud;
  size_t old = ptr ? osize : 0;  /* lua_Alloc: osize is a type tag when ptr is NULL */
  if (nsize == 0) {
    if (ptr) {
      c->live -= old;
      free(ptr);
    }
    return NULL;
  }
  if (!ptr) {
    c->allocs++;
    if (c->fail_at > 0 &&
        (c->allocs == c->fail_at || (c->fail_after && c->allocs > c->fail_at))) {
      c->refused++;
      return NULL;
    }
  }
  void *p = realloc(ptr, nsize);
  if (!p) return NULL;
  c->live = c->live - old + nsize;
  return p;
}

static lc_ctx *new_ctx(counter *c) {
  memset(c, 0, sizeof *c);
  lc_ctx *ctx = lc_ctx_new(count_alloc, c);
  CHECK(ctx != NULL);
  return ctx;
}

/* Frees the context (whose memory goes with its last tensor) and checks that
 * the allocator got every byte back. */
#define END_CTX(ctx, c)                                                          \
  do {                                                                           \
    lc_ctx_free(ctx);                                                            \
    CHECKF((c).live == 0, "%zu bytes still allocated", (c).live);                \
  } while (0)

/* ---- helpers ------------------------------------------------------------------ */

static lc_tensor *tensor_of(lc_ctx *ctx, lc_dtype dt, int ndim, const int64_t *shape,
                            const double *v) {
  lc_tensor *t = lc_empty(ctx, dt, ndim, shape);
  if (!t) return NULL;
  for (int64_t i = 0; i < t->numel; i++) {
    if (dt == LC_FLOAT64) ((double *)lc_tensor_data(t))[i] = v[i];
    else ((float *)lc_tensor_data(t))[i] = (float)v[i];
  }
  return t;
}

#define T64(ctx, shape, ndim, ...) tensor_of((ctx), LC_FLOAT64, (ndim), (shape), D(__VA_ARGS__))

static double *read_all(const lc_tensor *t) {
  double *v = malloc(sizeof(double) * (size_t)(t->numel ? t->numel : 1));
  lc_tensor_read(t, v);
  return v;
}

static void rel(lc_tensor *a, lc_tensor *b, lc_tensor *c, lc_tensor *d) {
  lc_tensor_release(a);
  lc_tensor_release(b);
  lc_tensor_release(c);
  lc_tensor_release(d);
}

/* Row-major multi-index of flat position k in shape. */
static void unravel(int64_t k, int ndim, const int64_t *shape, int64_t *idx) {
  for (int d = ndim - 1; d >= 0; d--) {
    idx[d] = shape[d] ? k % shape[d] : 0;
    k = shape[d] ? k / shape[d] : 0;
  }
}

/* ============================================================================= */
/* creation                                                                        */
/* ============================================================================= */

static void test_creation(void) {
  counter c;
  lc_ctx *ctx = new_ctx(&c);
  lc_tensor *z = lc_zeros(ctx, LC_FLOAT32, 2, S(2, 3));
  CHECK_SHAPE(z, 2, 3);
  CHECK(z && z->dtype == LC_FLOAT32 && z->numel == 6 && lc_tensor_is_contiguous(z));
  CHECK(z && lc_tensor_is_leaf(z) && !z->requires_grad && z->grad == NULL);
  CHECK_VALUES(z, 0, 0, 0, 0, 0, 0, 0);
  lc_tensor *o = lc_full(ctx, LC_FLOAT64, 3, S(2, 1, 2), 1.0);
  CHECK_SHAPE(o, 2, 1, 2);
  CHECK(o && o->dtype == LC_FLOAT64);
  CHECK_VALUES(o, 0, 1, 1, 1, 1);
  lc_tensor *f = lc_full(ctx, LC_FLOAT32, 1, S(3), -2.5);
  CHECK_VALUES(f, 0, -2.5, -2.5, -2.5);
  lc_tensor *s = lc_scalar(ctx, LC_FLOAT64, 3.25);
  CHECK_SHAPE0(s);
  CHECK(s && s->numel == 1);
  double item = 0;
  CHECK(s && lc_tensor_item(ctx, s, &item) == LC_OK && item == 3.25);
  CHECK(f && lc_tensor_item(ctx, f, &item) == LC_ESHAPE && strstr(lc_ctx_error(ctx), "{3}"));
  rel(z, o, f, s);

  lc_tensor *e = lc_zeros(ctx, LC_FLOAT32, 2, S(0, 4));  /* empty is fine */
  CHECK_SHAPE(e, 0, 4);
  CHECK(e && e->numel == 0 && lc_tensor_is_contiguous(e));
  /* a fresh tensor is row-major whichever dim is 0, and can be filled
   * (nn.Linear(0, n) draws its {n, 0} weight with uniform_) */
  lc_tensor *e2 = lc_empty(ctx, LC_FLOAT32, 2, S(3, 0));
  CHECK(e2 && lc_tensor_is_contiguous(e2));
  CHECK(e2 && lc_uniform_(ctx, e2, -1.0, 1.0) == LC_OK);
  lc_tensor_release(e2);
  lc_tensor *r = lc_rand(ctx, LC_FLOAT32, 3, S(4, 1, 5));
  CHECK_SHAPE(r, 4, 1, 5);
  lc_tensor *n = lc_randn(ctx, LC_FLOAT64, 2, S(3, 7));
  CHECK_SHAPE(n, 3, 7);
  lc_tensor *n0 = lc_randn(ctx, LC_FLOAT64, 0, NULL);
  CHECK_SHAPE0(n0);
  rel(e, r, n, n0);

  /* bad shapes are argument errors, not crashes */
  CHECK(lc_zeros(ctx, LC_FLOAT32, 2, S(-1, 3)) == NULL && lc_ctx_status(ctx) == LC_EARG);
  CHECK(lc_zeros(ctx, LC_FLOAT32, LC_MAX_DIMS + 1, S(1, 1, 1, 1, 1, 1, 1, 1, 1)) == NULL &&
        lc_ctx_status(ctx) == LC_EARG);
  CHECK(lc_zeros(ctx, LC_FLOAT32, 3, S(1 << 30, 1 << 30, 1 << 30)) == NULL &&
        lc_ctx_status(ctx) == LC_EARG);
  END_CTX(ctx, c);
}

static void test_random_seeds(void) {
  counter c;
  lc_ctx *ctx = new_ctx(&c);
  for (int dt = 0; dt < 2; dt++) {
    lc_ctx_seed(ctx, 42);
    lc_tensor *a = lc_rand(ctx, (lc_dtype)dt, 1, S(50));
    lc_tensor *an = lc_randn(ctx, (lc_dtype)dt, 1, S(50));
    lc_ctx_seed(ctx, 42);
    lc_tensor *b = lc_rand(ctx, (lc_dtype)dt, 1, S(50));
    lc_tensor *bn = lc_randn(ctx, (lc_dtype)dt, 1, S(50));
    lc_ctx_seed(ctx, 43);
    lc_tensor *d = lc_rand(ctx, (lc_dtype)dt, 1, S(50));
    CHECK(a && b && d && an && bn);
    size_t es = lc_dtype_size((lc_dtype)dt);
    CHECK(memcmp(lc_tensor_data(a), lc_tensor_data(b), 50 * es) == 0);
    CHECK(memcmp(lc_tensor_data(an), lc_tensor_data(bn), 50 * es) == 0);
    CHECK(memcmp(lc_tensor_data(a), lc_tensor_data(d), 50 * es) != 0);
    /* consecutive draws differ too */
    CHECK(memcmp(lc_tensor_data(a), (char *)lc_tensor_data(a) + es, 10 * es) != 0);
    rel(a, b, d, an);
    lc_tensor_release(bn);
  }
  /* the same seed in two contexts draws the same numbers */
  counter c2;
  lc_ctx *ctx2 = new_ctx(&c2);
  lc_ctx_seed(ctx, 7);
  lc_ctx_seed(ctx2, 7);
  lc_tensor *x = lc_randn(ctx, LC_FLOAT64, 1, S(20));
  lc_tensor *y = lc_randn(ctx2, LC_FLOAT64, 1, S(20));
  CHECK(x && y && memcmp(lc_tensor_data(x), lc_tensor_data(y), 20 * sizeof(double)) == 0);
  rel(x, y, NULL, NULL);
  END_CTX(ctx2, c2);
  END_CTX(ctx, c);
}

static void test_random_distribution(void) {
  counter c;
  lc_ctx *ctx = new_ctx(&c);
  const int64_t n = 100000;
  for (int dt = 0; dt < 2; dt++) {
    lc_tensor *u = lc_rand(ctx, (lc_dtype)dt, 1, S(n));
    CHECK(u != NULL);
    if (!u) continue;
    double *v = read_all(u);
    double lo = 1, hi = 0, sum = 0;
    for (int64_t i = 0; i < n; i++) {
      if (v[i] < lo) lo = v[i];
      if (v[i] > hi) hi = v[i];
      sum += v[i];
    }
    CHECKF(lo >= 0.0 && hi < 1.0, "rand range [%g, %g] (%s)", lo, hi, lc_dtype_name((lc_dtype)dt));
    CHECKF(lo < 0.001 && hi > 0.999, "rand covers [0, 1): [%g, %g]", lo, hi);
    CHECK_NEAR(sum / (double)n, 0.5, 0.01);
    free(v);
    lc_tensor_release(u);

    lc_tensor *g = lc_randn(ctx, (lc_dtype)dt, 2, S(250, 400));
    CHECK(g != NULL);
    if (!g) continue;
    v = read_all(g);
    double m = 0, m2 = 0;
    int finite = 1;
    for (int64_t i = 0; i < n; i++) {
      finite &= isfinite(v[i]) != 0;
      m += v[i];
    }
    m /= (double)n;
    for (int64_t i = 0; i < n; i++) m2 += (v[i] - m) * (v[i] - m);
    m2 /= (double)(n - 1);
    CHECK(finite);
    CHECKF(fabs(m) < 0.02, "randn mean %g", m);
    CHECKF(fabs(m2 - 1.0) < 0.03, "randn variance %g", m2);
    free(v);
    lc_tensor_release(g);
  }
  /* uniform_ in place over [lo, hi) */
  lc_tensor *t = lc_empty(ctx, LC_FLOAT64, 1, S(1000));
  CHECK(t && lc_uniform_(ctx, t, -3.0, -1.0) == LC_OK);
  if (t) {
    double *v = read_all(t);
    int in = 1;
    for (int i = 0; i < 1000; i++) in &= v[i] >= -3.0 && v[i] < -1.0;
    CHECK(in);
    free(v);
  }
  lc_tensor_release(t);
  END_CTX(ctx, c);
}

/* ============================================================================= */
/* views                                                                           */
/* ============================================================================= */

static void test_views(void) {
  counter c;
  lc_ctx *ctx = new_ctx(&c);
  lc_tensor *a = T64(ctx, S(2, 3), 2, 0, 1, 2, 3, 4, 5);

  lc_tensor *t = lc_transpose(ctx, a, 0, 1);
  CHECK_SHAPE(t, 3, 2);
  CHECK(t && t->storage == a->storage && t->strides[0] == 1 && t->strides[1] == 3);
  CHECK(t && !lc_tensor_is_contiguous(t));
  CHECK_VALUES(t, 0, 0, 3, 1, 4, 2, 5);

  lc_tensor *s = lc_select(ctx, a, 1, 2);  /* column 2 */
  CHECK_SHAPE(s, 2);
  CHECK(s && s->storage == a->storage && s->offset == 2 && s->strides[0] == 3);
  CHECK_VALUES(s, 0, 2, 5);
  lc_tensor *s0 = lc_select(ctx, a, 0, 1);  /* row 1 */
  CHECK(s0 && s0->storage == a->storage && s0->offset == 3 && lc_tensor_is_contiguous(s0));
  CHECK_VALUES(s0, 0, 3, 4, 5);

  lc_tensor *r = lc_reshape(ctx, a, 3, S(3, 1, 2));
  CHECK_SHAPE(r, 3, 1, 2);
  CHECK(r && r->storage == a->storage && lc_tensor_is_contiguous(r));
  lc_tensor *r1 = lc_reshape(ctx, a, 2, S(-1, 2));  /* -1 inferred */
  CHECK_SHAPE(r1, 3, 2);
  CHECK(r1 && r1->storage == a->storage);
  /* a contiguous view with an offset reshapes in place too */
  lc_tensor *r2 = s0 ? lc_reshape(ctx, s0, 2, S(3, 1)) : NULL;
  CHECK(r2 && r2->storage == a->storage && r2->offset == 3);
  CHECK_VALUES(r2, 0, 3, 4, 5);

  lc_tensor *col = T64(ctx, S(2, 1), 2, 7, 8);
  lc_tensor *e = lc_expand(ctx, col, 3, S(4, 2, 3));
  CHECK_SHAPE(e, 4, 2, 3);
  CHECK(e && e->storage == col->storage && e->strides[0] == 0 && e->strides[2] == 0 &&
        e->strides[1] == 1);
  CHECK_VALUES(e, 0, 7, 7, 7, 8, 8, 8, 7, 7, 7, 8, 8, 8, 7, 7, 7, 8, 8, 8, 7, 7, 7, 8, 8, 8);

  /* writes through the base show in every view */
  double *ad = lc_tensor_data(a);
  ad[2] = 20;
  ad[3] = 30;
  CHECK_VALUES(t, 0, 0, 30, 1, 4, 20, 5);
  CHECK_VALUES(s, 0, 20, 5);
  CHECK_VALUES(r, 0, 0, 1, 20, 30, 4, 5);

  /* reshape of a non-contiguous view must copy */
  lc_tensor *tr = t ? lc_reshape(ctx, t, 1, S(6)) : NULL;
  CHECK_SHAPE(tr, 6);
  CHECK(tr && tr->storage != a->storage && lc_tensor_is_contiguous(tr));
  CHECK_VALUES(tr, 0, 0, 30, 1, 4, 20, 5);
  ad[0] = 99;  /* the copy does not see later writes */
  CHECK_VALUES(tr, 0, 0, 30, 1, 4, 20, 5);

  /* contiguous and detach */
  lc_tensor *tc = t ? lc_contiguous(ctx, t) : NULL;
  CHECK(tc && tc->storage != a->storage && lc_tensor_is_contiguous(tc));
  lc_tensor *ac = lc_contiguous(ctx, a);
  CHECK(ac == a);
  lc_tensor *dt = lc_detach(ctx, t);
  CHECK(dt && dt->storage == a->storage && lc_tensor_is_leaf(dt));

  rel(t, s, s0, r);
  rel(r1, r2, col, e);
  rel(tr, tc, ac, dt);
  lc_tensor_release(a);  /* views released first, then the base: storage goes last */
  END_CTX(ctx, c);
}

/* ============================================================================= */
/* broadcasting arithmetic                                                         */
/* ============================================================================= */

static void test_broadcast_values(void) {
  counter c;
  lc_ctx *ctx = new_ctx(&c);
  lc_tensor *a = T64(ctx, S(2, 3), 2, 1, 2, 3, 4, 5, 6);
  lc_tensor *row = T64(ctx, S(3), 1, 10, 20, 30);
  lc_tensor *col = T64(ctx, S(2, 1), 2, 2, 3);
  lc_tensor *sc = lc_scalar(ctx, LC_FLOAT64, 0.5);

  lc_tensor *x = lc_add(ctx, a, row);
  CHECK_SHAPE(x, 2, 3);
  CHECK_VALUES(x, 0, 11, 22, 33, 14, 25, 36);
  lc_tensor *y = lc_mul(ctx, a, col);
  CHECK_VALUES(y, 0, 2, 4, 6, 12, 15, 18);
  lc_tensor *z = lc_mul(ctx, col, row);  /* {2,1} * {3} -> {2,3} */
  CHECK_SHAPE(z, 2, 3);
  CHECK_VALUES(z, 0, 20, 40, 60, 30, 60, 90);
  lc_tensor *w = lc_add(ctx, sc, a);  /* 0-d broadcasts anywhere */
  CHECK_VALUES(w, 0, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5);
  rel(x, y, z, w);

  x = lc_sub(ctx, row, a);
  CHECK_VALUES(x, 0, 9, 18, 27, 6, 15, 24);
  y = lc_div(ctx, a, col);
  CHECK_VALUES(y, 1e-15, 0.5, 1, 1.5, 4.0 / 3, 5.0 / 3, 2);
  z = lc_pow(ctx, col, row);
  CHECK_VALUES(z, 1e-3, pow(2, 10), pow(2, 20), pow(2, 30), pow(3, 10), pow(3, 20), pow(3, 30));
  w = lc_pow_scalar(ctx, a, 2.0);
  CHECK_VALUES(w, 0, 1, 4, 9, 16, 25, 36);
  rel(x, y, z, w);

  /* {2,1,3} + {4,1} -> {2,4,3}: both sides broadcast */
  lc_tensor *p = T64(ctx, S(2, 1, 3), 3, 1, 2, 3, 4, 5, 6);
  lc_tensor *q = T64(ctx, S(4, 1), 2, 100, 200, 300, 400);
  x = lc_add(ctx, p, q);
  CHECK_SHAPE(x, 2, 4, 3);
  if (x) {
    double v[24];
    lc_tensor_read(x, v);
    int ok = 1;
    for (int i = 0; i < 2; i++)
      for (int j = 0; j < 4; j++)
        for (int k = 0; k < 3; k++) ok &= v[i * 12 + j * 3 + k] == (i * 3 + k + 1) + 100.0 * (j + 1);
    CHECK(ok);
  }
  rel(x, p, q, NULL);
  /* transposed operands */
  lc_tensor *at = lc_transpose(ctx, a, 0, 1);  /* {3,2}: 1 4 / 2 5 / 3 6 */
  lc_tensor *colt = lc_transpose(ctx, col, 0, 1);  /* {1,2}: 2 3 */
  y = at && colt ? lc_mul(ctx, at, colt) : NULL;
  CHECK_VALUES(y, 0, 2, 12, 4, 15, 6, 18);
  rel(y, at, colt, NULL);

  /* float32 with float64 promotes to float64 */
  lc_tensor *f = tensor_of(ctx, LC_FLOAT32, 1, S(3), D(1, 2, 3));
  x = lc_add(ctx, f, row);
  CHECK(x && x->dtype == LC_FLOAT64);
  CHECK_VALUES(x, 0, 11, 22, 33);
  /* unary ops */
  y = lc_neg(ctx, a);
  CHECK_VALUES(y, 0, -1, -2, -3, -4, -5, -6);
  z = lc_tanh(ctx, row);
  CHECK_VALUES(z, 1e-15, tanh(10), tanh(20), tanh(30));
  w = lc_log(ctx, col);
  CHECK_VALUES(w, 1e-15, log(2), log(3));
  rel(x, y, z, w);
  lc_tensor *f64 = lc_to_dtype(ctx, f, LC_FLOAT64);
  CHECK(f64 && f64->dtype == LC_FLOAT64);
  CHECK_VALUES(f64, 0, 1, 2, 3);
  rel(f64, f, NULL, NULL);

  rel(a, row, col, sc);
  END_CTX(ctx, c);
}

/* ============================================================================= */
/* matmul and linear against naive loops                                          */
/* ============================================================================= */

/* out = a @ b for a, b with at least 2 dims, batch dims broadcast; reads
 * through strides so any view works. */
static void naive_matmul(const lc_tensor *a, const lc_tensor *b, const lc_tensor *out,
                         double *ref) {
  int nb = out->ndim - 2, an = a->ndim, bn = b->ndim;
  int64_t k = a->shape[an - 1];
  int64_t oi[LC_MAX_DIMS], ai[LC_MAX_DIMS], bi[LC_MAX_DIMS];
  for (int64_t f = 0; f < out->numel; f++) {
    unravel(f, out->ndim, out->shape, oi);
    for (int d = 0; d < nb; d++) {
      int ia = d - (nb - (an - 2)), ib = d - (nb - (bn - 2));
      if (ia >= 0) ai[ia] = a->shape[ia] == 1 ? 0 : oi[d];
      if (ib >= 0) bi[ib] = b->shape[ib] == 1 ? 0 : oi[d];
    }
    double acc = 0;
    for (int64_t j = 0; j < k; j++) {
      ai[an - 2] = oi[nb];
      ai[an - 1] = j;
      bi[bn - 2] = j;
      bi[bn - 1] = oi[nb + 1];
      acc += lc_tensor_get(a, ai) * lc_tensor_get(b, bi);
    }
    ref[f] = acc;
  }
}

static void check_matmul_case(lc_ctx *ctx, lc_tensor *a, lc_tensor *b, int line) {
  lc_tensor *r = a && b ? lc_matmul(ctx, a, b) : NULL;
  g_checks++;
  if (!r) {
    g_failures++;
    fprintf(stderr, "%s:%d: matmul returned NULL: %s\n", __FILE__, line, lc_ctx_error(ctx));
    return;
  }
  double *ref = malloc(sizeof(double) * (size_t)r->numel), *got = read_all(r);
  naive_matmul(a, b, r, ref);
  double tol = a->dtype == LC_FLOAT64 ? 1e-12 : 1e-4;
  for (int64_t i = 0; i < r->numel; i++) {
    if (!(fabs(ref[i] - got[i]) <= tol * (1 + fabs(ref[i])))) {
      g_failures++;
      fprintf(stderr, "%s:%d: matmul element %lld = %.17g, naive %.17g\n", __FILE__, line,
              (long long)i, got[i], ref[i]);
      break;
    }
  }
  free(ref);
  free(got);
  lc_tensor_release(r);
}

static void test_matmul(void) {
  counter c;
  lc_ctx *ctx = new_ctx(&c);
  for (int dti = 0; dti < 2; dti++) {
    lc_dtype dt = (lc_dtype)dti;
    lc_tensor *a = lc_randn(ctx, dt, 2, S(5, 7)), *b = lc_randn(ctx, dt, 2, S(7, 3));
    check_matmul_case(ctx, a, b, __LINE__);                  /* 2-D */
    lc_tensor *r = lc_matmul(ctx, a, b);
    CHECK_SHAPE(r, 5, 3);
    lc_tensor_release(r);
    /* transposed (non-contiguous) operands, each and both */
    lc_tensor *A = lc_randn(ctx, dt, 2, S(7, 5)), *B = lc_randn(ctx, dt, 2, S(3, 7));
    lc_tensor *At = lc_transpose(ctx, A, 0, 1), *Bt = lc_transpose(ctx, B, 0, 1);
    check_matmul_case(ctx, At, b, __LINE__);
    check_matmul_case(ctx, a, Bt, __LINE__);
    check_matmul_case(ctx, At, Bt, __LINE__);
    /* one row / one column: the GEMV shapes */
    lc_tensor *row = lc_randn(ctx, dt, 2, S(1, 7)), *colm = lc_randn(ctx, dt, 2, S(7, 1));
    check_matmul_case(ctx, row, b, __LINE__);
    check_matmul_case(ctx, row, Bt, __LINE__);
    check_matmul_case(ctx, a, colm, __LINE__);
    lc_tensor *rowt = lc_transpose(ctx, colm, 0, 1);  /* {1,7} with strides {1,1} */
    check_matmul_case(ctx, rowt, b, __LINE__);
    rel(A, B, At, Bt);
    rel(row, colm, rowt, NULL);

    /* batched, same batch, broadcast batch, shared right operand */
    lc_tensor *a3 = lc_randn(ctx, dt, 3, S(4, 5, 7)), *b3 = lc_randn(ctx, dt, 3, S(4, 7, 3));
    check_matmul_case(ctx, a3, b3, __LINE__);
    check_matmul_case(ctx, a3, b, __LINE__);                 /* (4,5,7) @ (7,3) */
    check_matmul_case(ctx, a, b3, __LINE__);                 /* (5,7) @ (4,7,3) */
    lc_tensor *a4 = lc_randn(ctx, dt, 4, S(2, 1, 5, 7)), *b1 = lc_randn(ctx, dt, 3, S(3, 7, 3));
    check_matmul_case(ctx, a4, b1, __LINE__);                /* -> (2,3,5,3) */
    r = lc_matmul(ctx, a4, b1);
    CHECK_SHAPE(r, 2, 3, 5, 3);
    lc_tensor_release(r);
    /* batched with transposed matrices and a selected (offset) batch */
    lc_tensor *A3 = lc_randn(ctx, dt, 3, S(4, 7, 5));
    lc_tensor *A3t = lc_transpose(ctx, A3, 1, 2);           /* (4,5,7), non-contiguous */
    check_matmul_case(ctx, A3t, b3, __LINE__);
    check_matmul_case(ctx, A3t, b, __LINE__);
    lc_tensor *bt3 = lc_transpose(ctx, b3, 0, 1);           /* (7,4,3): batch dim strided */
    lc_tensor *perm = bt3 ? lc_transpose(ctx, bt3, 0, 1) : NULL;  /* back to (4,7,3) */
    check_matmul_case(ctx, a3, perm, __LINE__);
    lc_tensor *sel = lc_select(ctx, a3, 0, 2);               /* (5,7) at an offset */
    check_matmul_case(ctx, sel, b, __LINE__);
    check_matmul_case(ctx, sel, b3, __LINE__);
    lc_tensor *selr = lc_select(ctx, a3, 1, 3);              /* (4,7), rows strided by 35 */
    check_matmul_case(ctx, selr, b, __LINE__);
    rel(a3, b3, a4, b1);
    rel(A3, A3t, bt3, perm);
    rel(sel, selr, NULL, NULL);

    /* 1-D operands */
    lc_tensor *v = T64(ctx, S(3), 1, 1, 2, 3);
    lc_tensor *m = T64(ctx, S(3, 2), 2, 1, 2, 3, 4, 5, 6);
    lc_tensor *vd = lc_to_dtype(ctx, v, dt), *md = lc_to_dtype(ctx, m, dt);
    lc_tensor *vm = lc_matmul(ctx, vd, md);
    CHECK_SHAPE(vm, 2);
    CHECK_VALUES(vm, 1e-5, 22, 28);
    lc_tensor *mt = lc_transpose(ctx, md, 0, 1);
    lc_tensor *mv = lc_matmul(ctx, mt, vd);
    CHECK_SHAPE(mv, 2);
    CHECK_VALUES(mv, 1e-5, 22, 28);
    lc_tensor *vv = lc_matmul(ctx, vd, vd);
    CHECK_SHAPE0(vv);
    CHECK_VALUES(vv, 1e-5, 14);
    rel(v, m, vd, md);
    rel(vm, mt, mv, vv);
    rel(a, b, NULL, NULL);
  }
  END_CTX(ctx, c);
}

/* y (rows, out) = x (rows, in) w^T + b, naively, x read through its strides. */
static void check_linear_case(lc_ctx *ctx, lc_tensor *x, lc_tensor *w, lc_tensor *b, int line) {
  lc_tensor *y = lc_linear(ctx, x, w, b);
  g_checks++;
  if (!y) {
    g_failures++;
    fprintf(stderr, "%s:%d: linear returned NULL: %s\n", __FILE__, line, lc_ctx_error(ctx));
    return;
  }
  int64_t in = w->shape[1], outf = w->shape[0], rows = x->numel / in;
  int shape_ok = y->ndim == x->ndim && y->shape[y->ndim - 1] == outf;
  for (int i = 0; shape_ok && i < x->ndim - 1; i++) shape_ok = y->shape[i] == x->shape[i];
  double *xv = read_all(x), *wv = read_all(w), *bv = b ? read_all(b) : NULL, *yv = read_all(y);
  double tol = x->dtype == LC_FLOAT64 ? 1e-12 : 1e-5;
  int ok = shape_ok;
  for (int64_t r = 0; ok && r < rows; r++)
    for (int64_t o = 0; ok && o < outf; o++) {
      double acc = bv ? bv[o] : 0;
      for (int64_t i = 0; i < in; i++) acc += xv[r * in + i] * wv[o * in + i];
      if (!(fabs(acc - yv[r * outf + o]) <= tol * (1 + fabs(acc)))) {
        fprintf(stderr, "%s:%d: linear y[%lld][%lld] = %.17g, naive %.17g\n", __FILE__, line,
                (long long)r, (long long)o, yv[r * outf + o], acc);
        ok = 0;
      }
    }
  if (!shape_ok) fprintf(stderr, "%s:%d: linear output has the wrong shape\n", __FILE__, line);
  if (!ok) g_failures++;
  free(xv);
  free(wv);
  free(bv);
  free(yv);
  lc_tensor_release(y);
}

static void test_linear(void) {
  counter c;
  lc_ctx *ctx = new_ctx(&c);
  for (int dti = 0; dti < 2; dti++) {
    lc_dtype dt = (lc_dtype)dti;
    lc_tensor *w = lc_randn(ctx, dt, 2, S(4, 6)), *b = lc_randn(ctx, dt, 1, S(4));
    lc_tensor *x1 = lc_randn(ctx, dt, 2, S(1, 6)), *x5 = lc_randn(ctx, dt, 2, S(5, 6));
    check_linear_case(ctx, x1, w, b, __LINE__);      /* batch 1: the GEMV path */
    check_linear_case(ctx, x1, w, NULL, __LINE__);
    check_linear_case(ctx, x5, w, b, __LINE__);      /* batch > 1: GEMM */
    check_linear_case(ctx, x5, w, NULL, __LINE__);
    lc_tensor *xv = lc_randn(ctx, dt, 1, S(6));     /* 1-D input */
    check_linear_case(ctx, xv, w, b, __LINE__);
    lc_tensor *x3 = lc_randn(ctx, dt, 3, S(2, 3, 6));
    check_linear_case(ctx, x3, w, b, __LINE__);
    /* a transposed weight and a transposed input */
    lc_tensor *W = lc_randn(ctx, dt, 2, S(6, 4)), *Wt = lc_transpose(ctx, W, 0, 1);
    check_linear_case(ctx, x5, Wt, b, __LINE__);
    check_linear_case(ctx, x1, Wt, b, __LINE__);
    lc_tensor *X = lc_randn(ctx, dt, 2, S(6, 5)), *Xt = lc_transpose(ctx, X, 0, 1);
    check_linear_case(ctx, Xt, w, b, __LINE__);
    rel(w, b, x1, x5);
    rel(xv, x3, W, Wt);
    rel(X, Xt, NULL, NULL);
  }
  END_CTX(ctx, c);
}

/* ============================================================================= */
/* recurrent layers                                                                */
/* ============================================================================= */

/* max |a - b| over every element */
static double max_abs_diff(lc_ctx *ctx, lc_tensor *a, lc_tensor *b) {
  lc_tensor *d = lc_sub(ctx, a, b), *ad = d ? lc_abs(ctx, d) : NULL, *m = ad ? lc_max(ctx, ad) : NULL;
  double v = 1e300;
  if (m) lc_tensor_item(ctx, m, &v);
  rel(d, ad, m, NULL);
  return v;
}

/* An LSTM layer is its cell stepped over the sequence; its fused backward
 * reaches every input; a packed GRU run in reverse keeps an ended
 * sequence's state; bad shapes fail by name; nothing leaks. */
static void test_rnn(void) {
  counter c;
  lc_ctx *ctx = new_ctx(&c);
  for (int dti = 0; dti < 2; dti++) {
    lc_dtype dt = (lc_dtype)dti;
    double tol = dt == LC_FLOAT32 ? 1e-5 : 1e-12;
    lc_tensor *x = lc_randn(ctx, dt, 3, S(3, 2, 3)), *h0 = lc_randn(ctx, dt, 2, S(2, 4));
    lc_tensor *c0 = lc_randn(ctx, dt, 2, S(2, 4)), *wi = lc_randn(ctx, dt, 2, S(16, 3));
    lc_tensor *wh = lc_randn(ctx, dt, 2, S(16, 4)), *bi = lc_randn(ctx, dt, 1, S(16));
    lc_tensor *bh = lc_randn(ctx, dt, 1, S(16));
    wi->requires_grad = wh->requires_grad = bi->requires_grad = 1;
    lc_tensor *out = NULL, *hn = NULL, *cn = NULL;
    CHECK(lc_rnn_layer(ctx, LC_RNN_LSTM, x, h0, c0, wi, wh, bi, bh, NULL, NULL, 0, 0, &out, &hn,
                       &cn) == LC_OK);
    CHECK_SHAPE(out, 3, 2, 4);
    CHECK_SHAPE(hn, 2, 4);
    CHECK_SHAPE(cn, 2, 4);
    lc_tensor *h = h0, *cc = c0;
    lc_tensor_retain(h);
    lc_tensor_retain(cc);
    for (int64_t t = 0; t < 3 && out; t++) {
      lc_tensor *xt = lc_select(ctx, x, 0, t), *ot = lc_select(ctx, out, 0, t), *h1, *c1;
      CHECK(lc_rnn_cell(ctx, LC_RNN_LSTM, xt, h, cc, wi, wh, bi, bh, &h1, &c1) == LC_OK);
      CHECK_NEAR(max_abs_diff(ctx, h1, ot), 0, tol);
      rel(xt, ot, NULL, NULL);
      rel(h, cc, NULL, NULL);
      h = h1;
      cc = c1;
    }
    CHECK_NEAR(max_abs_diff(ctx, h, hn), 0, tol);
    lc_tensor *loss = lc_sum(ctx, out);
    CHECK(lc_backward(ctx, loss, NULL, 0) == LC_OK);
    CHECK(wi->grad && wh->grad && bi->grad && !h0->grad);
    if (wi->grad) CHECK_SHAPE(wi->grad, 16, 3);
    rel(loss, h, NULL, NULL);
    rel(cc, out, hn, cn);

    /* packed GRU in reverse: rows {2, 1} per step; the second sequence
     * (one step) starts from h0 and ends there */
    lc_tensor *xp = lc_randn(ctx, dt, 2, S(3, 3)), *gi = lc_randn(ctx, dt, 2, S(12, 3));
    lc_tensor *gh = lc_randn(ctx, dt, 2, S(12, 4)), *hg = NULL;
    CHECK(lc_rnn_layer(ctx, LC_RNN_GRU, xp, h0, NULL, gi, gh, NULL, NULL, NULL, S(2, 1), 2, 1,
                       &out, &hg, NULL) == LC_OK);
    CHECK_SHAPE(out, 3, 4);
    lc_tensor *x1 = lc_narrow(ctx, xp, 0, 1, 1), *h01 = lc_narrow(ctx, h0, 0, 1, 1), *g1 = NULL;
    CHECK(lc_rnn_cell(ctx, LC_RNN_GRU, x1, h01, NULL, gi, gh, NULL, NULL, &g1, NULL) == LC_OK);
    lc_tensor *row = lc_narrow(ctx, hg, 0, 1, 1), *o1 = lc_narrow(ctx, out, 0, 1, 1);
    CHECK_NEAR(max_abs_diff(ctx, row, g1), 0, tol);
    CHECK_NEAR(max_abs_diff(ctx, o1, g1), 0, tol);
    rel(xp, gi, gh, hg);
    rel(out, x1, h01, g1);
    rel(row, o1, NULL, NULL);

    /* a weight that does not fit, by name */
    lc_tensor *bad = lc_randn(ctx, dt, 2, S(16, 5));
    CHECK(lc_rnn_layer(ctx, LC_RNN_LSTM, x, h0, c0, bad, wh, NULL, NULL, NULL, NULL, 0, 0, &out,
                       &hn, &cn) == LC_ESHAPE);
    CHECK(strstr(lc_ctx_error(ctx), "weight_ih {16, 5} does not fit input {3, 2, 3}") != NULL);
    CHECK(out == NULL && hn == NULL && cn == NULL);
    rel(bad, x, h0, c0);
    rel(wi, wh, bi, bh);
  }
  END_CTX(ctx, c);
}

/* ============================================================================= */
/* reductions                                                                      */
/* ============================================================================= */

/* Sum over dim of a (read through strides), naively. */
static void naive_sum_dim(const lc_tensor *a, int dim, double *out) {
  int64_t oshape[LC_MAX_DIMS], oi[LC_MAX_DIMS], ai[LC_MAX_DIMS];
  int k = 0;
  int64_t on = 1;
  for (int i = 0; i < a->ndim; i++)
    if (i != dim) { oshape[k++] = a->shape[i]; on *= a->shape[i]; }
  for (int64_t f = 0; f < on; f++) {
    unravel(f, a->ndim - 1, oshape, oi);
    for (int i = 0, j = 0; i < a->ndim; i++) ai[i] = i == dim ? 0 : oi[j++];
    double acc = 0;
    for (int64_t t = 0; t < a->shape[dim]; t++) {
      ai[dim] = t;
      acc += lc_tensor_get(a, ai);
    }
    out[f] = acc;
  }
}

static void check_reduce_case(lc_ctx *ctx, lc_tensor *a, int dim, int line) {
  int64_t len = a->shape[dim];
  double ref[256], got[256];
  naive_sum_dim(a, dim, ref);
  for (int mean = 0; mean < 2; mean++)
    for (int keep = 0; keep < 2; keep++) {
      lc_tensor *r = mean ? lc_mean_dim(ctx, a, dim, keep) : lc_sum_dim(ctx, a, dim, keep);
      g_checks++;
      int ok = r != NULL && r->ndim == a->ndim - (keep ? 0 : 1);
      for (int i = 0, j = 0; ok && i < a->ndim; i++) {
        if (i == dim && !keep) continue;
        ok = r->shape[j++] == (i == dim ? 1 : a->shape[i]);
      }
      if (ok) {
        lc_tensor_read(r, got);
        for (int64_t i = 0; ok && i < r->numel; i++) {
          double want = mean ? ref[i] / (double)len : ref[i];
          ok = fabs(got[i] - want) <= (a->dtype == LC_FLOAT64 ? 1e-12 : 1e-5) * (1 + fabs(want));
          if (!ok)
            fprintf(stderr, "%s:%d: %s_dim(dim %d, keepdim %d)[%lld] = %.17g, naive %.17g\n",
                    __FILE__, line, mean ? "mean" : "sum", dim, keep, (long long)i, got[i], want);
        }
      } else {
        fprintf(stderr, "%s:%d: %s_dim(dim %d, keepdim %d) failed or has the wrong shape\n",
                __FILE__, line, mean ? "mean" : "sum", dim, keep);
      }
      if (!ok) g_failures++;
      lc_tensor_release(r);
    }
}

/* conv2d and conv_transpose2d against loops over the definition, in both
 * dtypes; the batch of 30 spans two of conv.c's chunks (a short last one). */
static void check_conv_case(lc_ctx *ctx, lc_dtype dt, const int64_t *xs, const int64_t *ws,
                            const lc_conv2d_args *a, int line) {
  lc_tensor *x = lc_randn(ctx, dt, 4, xs), *w = lc_randn(ctx, dt, 4, ws);
  lc_tensor *b = lc_randn(ctx, dt, 1, S(ws[0]));
  lc_tensor *y = lc_conv2d(ctx, x, w, b, a);
  CHECKF(y != NULL, "line %d: %s", line, lc_ctx_error(ctx));
  if (!y) return;
  int64_t n = xs[0], c = xs[1], h = xs[2], wd = xs[3], o = ws[0], cg = ws[1], kh = ws[2], kw = ws[3];
  int64_t oh = y->shape[2], ow = y->shape[3], og = o / a->groups;
  double *xv = read_all(x), *wv = read_all(w), *bv = read_all(b), *yv = read_all(y);
  double tol = dt == LC_FLOAT64 ? 1e-12 : 1e-4;
  int bad = 0;
  for (int64_t s = 0; s < n; s++)
    for (int64_t k = 0; k < o; k++)
      for (int64_t i = 0; i < oh; i++)
        for (int64_t j = 0; j < ow; j++) {
          double acc = bv[k];
          for (int64_t q = 0; q < cg; q++)
            for (int64_t p = 0; p < kh; p++)
              for (int64_t r = 0; r < kw; r++) {
                int64_t yy = i * a->stride[0] - a->padding[0] + p * a->dilation[0];
                int64_t xx = j * a->stride[1] - a->padding[1] + r * a->dilation[1];
                int64_t ch = k / og * cg + q;
                if (yy < 0 || yy >= h || xx < 0 || xx >= wd) continue;
                acc += xv[((s * c + ch) * h + yy) * wd + xx] * wv[((k * cg + q) * kh + p) * kw + r];
              }
          double got = yv[((s * o + k) * oh + i) * ow + j];
          if (!(fabs(got - acc) <= tol * (1 + fabs(acc))) && !bad++)
            fprintf(stderr, "%s:%d: conv2d y[%lld][%lld][%lld][%lld] = %.17g, naive %.17g\n",
                    __FILE__, line, (long long)s, (long long)k, (long long)i, (long long)j, got, acc);
        }
  /* the transpose: x scattered through w into an image of x's input size */
  lc_conv2d_args t = *a;
  for (int d = 0; d < 2; d++)
    t.output_padding[d] = xs[2 + d] - ((y->shape[2 + d] - 1) * a->stride[d] - 2 * a->padding[d] +
                                       a->dilation[d] * (ws[2 + d] - 1) + 1);
  lc_tensor *z = lc_conv_transpose2d(ctx, y, w, NULL, &t);
  CHECKF(z != NULL, "line %d: %s", line, lc_ctx_error(ctx));
  if (z) {
    double *zv = read_all(z), *want = calloc((size_t)(n * c * h * wd), sizeof(double));
    for (int64_t s = 0; s < n; s++)
      for (int64_t k = 0; k < o; k++)
        for (int64_t i = 0; i < oh; i++)
          for (int64_t j = 0; j < ow; j++)
            for (int64_t q = 0; q < cg; q++)
              for (int64_t p = 0; p < kh; p++)
                for (int64_t r = 0; r < kw; r++) {
                  int64_t yy = i * a->stride[0] - a->padding[0] + p * a->dilation[0];
                  int64_t xx = j * a->stride[1] - a->padding[1] + r * a->dilation[1];
                  if (yy < 0 || yy >= h || xx < 0 || xx >= wd) continue;
                  want[((s * c + k / og * cg + q) * h + yy) * wd + xx] +=
                      yv[((s * o + k) * oh + i) * ow + j] * wv[((k * cg + q) * kh + p) * kw + r];
                }
    CHECKF(z->numel == n * c * h * wd, "line %d: conv_transpose2d numel %lld", line,
           (long long)z->numel);
    for (int64_t e = 0; e < z->numel && e < n * c * h * wd; e++)
      if (!(fabs(zv[e] - want[e]) <= tol * (1 + fabs(want[e]))) && !bad++)
        fprintf(stderr, "%s:%d: conv_transpose2d element %lld = %.17g, naive %.17g\n", __FILE__,
                line, (long long)e, zv[e], want[e]);
    free(zv);
    free(want);
  }
  g_checks++;
  if (bad) g_failures++;
  free(xv);
  free(wv);
  free(bv);
  free(yv);
  rel(x, w, b, y);
  lc_tensor_release(z);
}

static void test_conv(void) {
  counter c;
  lc_ctx *ctx = new_ctx(&c);
  for (int dti = 0; dti < 2; dti++) {
    lc_dtype dt = (lc_dtype)dti;
    lc_conv2d_args a = lc_conv2d_defaults();
    check_conv_case(ctx, dt, S(2, 3, 5, 6), S(4, 3, 3, 3), &a, __LINE__);
    a.stride[0] = 2, a.padding[1] = 2, a.dilation[1] = 2;
    check_conv_case(ctx, dt, S(2, 3, 7, 6), S(4, 3, 3, 2), &a, __LINE__);
    a = lc_conv2d_defaults();
    a.groups = 4, a.padding[0] = a.padding[1] = 1, a.stride[1] = 3;
    check_conv_case(ctx, dt, S(3, 4, 5, 7), S(8, 1, 3, 3), &a, __LINE__);  /* depthwise x2 */
    a = lc_conv2d_defaults();
    a.padding[0] = a.padding[1] = 1;
    check_conv_case(ctx, dt, S(30, 4, 32, 32), S(6, 4, 3, 3), &a, __LINE__);  /* two chunks */
    a = lc_conv2d_defaults();
    check_conv_case(ctx, dt, S(3, 4, 5, 6), S(6, 4, 1, 1), &a, __LINE__);  /* pointwise */
    a.groups = 2;
    check_conv_case(ctx, dt, S(2, 4, 3, 3), S(6, 2, 1, 1), &a, __LINE__);
    a.stride[0] = 2;  /* 1x1 but strided: im2col again */
    check_conv_case(ctx, dt, S(2, 4, 5, 3), S(6, 2, 1, 1), &a, __LINE__);
  }
  END_CTX(ctx, c);
}

static void test_reductions(void) {
  counter c;
  lc_ctx *ctx = new_ctx(&c);
  lc_tensor *a = T64(ctx, S(2, 3), 2, 1, 2, 3, 4, 5, 6);
  lc_tensor *s = lc_sum(ctx, a), *m = lc_mean(ctx, a);
  CHECK_SHAPE0(s);
  CHECK_VALUES(s, 0, 21);
  CHECK_VALUES(m, 1e-15, 3.5);
  lc_tensor *s1 = lc_sum_dim(ctx, a, 1, 0), *s0 = lc_sum_dim(ctx, a, 0, 1);
  CHECK_SHAPE(s1, 2);
  CHECK_VALUES(s1, 0, 6, 15);       /* innermost dim */
  CHECK_SHAPE(s0, 1, 3);
  CHECK_VALUES(s0, 0, 5, 7, 9);     /* outer dim */
  rel(s, m, s1, s0);
  lc_tensor *m1 = lc_mean_dim(ctx, a, 1, 1), *m0 = lc_mean_dim(ctx, a, 0, 0);
  CHECK_SHAPE(m1, 2, 1);
  CHECK_VALUES(m1, 1e-15, 2, 5);
  CHECK_SHAPE(m0, 3);
  CHECK_VALUES(m0, 1e-15, 2.5, 3.5, 4.5);
  rel(m1, m0, a, NULL);

  for (int dti = 0; dti < 2; dti++) {
    lc_tensor *b = lc_randn(ctx, (lc_dtype)dti, 3, S(3, 4, 5));
    for (int d = 0; d < 3; d++) check_reduce_case(ctx, b, d, __LINE__);
    /* a transposed input: dim 0 then has stride 1 but is not the last */
    lc_tensor *bt = lc_transpose(ctx, b, 0, 2);  /* (5,4,3) */
    for (int d = 0; d < 3; d++) check_reduce_case(ctx, bt, d, __LINE__);
    /* an expanded input (0 strides) and a selected one (offset) */
    lc_tensor *col = lc_randn(ctx, (lc_dtype)dti, 2, S(3, 1));
    lc_tensor *e = lc_expand(ctx, col, 3, S(2, 3, 4));
    for (int d = 0; d < 3; d++) check_reduce_case(ctx, e, d, __LINE__);
    lc_tensor *sel = lc_select(ctx, b, 1, 2);  /* (3,5) */
    for (int d = 0; d < 2; d++) check_reduce_case(ctx, sel, d, __LINE__);
    double all = 0, v[60];
    lc_tensor_read(b, v);
    for (int i = 0; i < 60; i++) all += v[i];
    lc_tensor *sb = lc_sum(ctx, bt), *mb = lc_mean(ctx, bt);
    double got = 0;
    CHECK(sb && lc_tensor_item(ctx, sb, &got) == LC_OK && fabs(got - all) < 1e-4);
    CHECK(mb && lc_tensor_item(ctx, mb, &got) == LC_OK && fabs(got - all / 60) < 1e-5);
    rel(b, bt, col, e);
    rel(sel, sb, mb, NULL);
  }
  END_CTX(ctx, c);
}

/* ============================================================================= */
/* finite-difference gradient checks                                               */
/* ============================================================================= */

typedef lc_tensor *(*gc_fn)(lc_ctx *ctx, lc_tensor **in);

typedef struct gc_case {
  const char *name;
  gc_fn f;
  int nin;
  int ndim[3];
  int64_t shape[3][4];
  int positive;  /* inputs from U[0.5, 1.5) (log, pow, div) instead of N(0, 1) */
  int frozen;    /* bit i: input i does not require grad */
} gc_case;

static lc_tensor *own2(lc_ctx *ctx, lc_tensor *(*op)(lc_ctx *, lc_tensor *, lc_tensor *),
                       lc_tensor *a, lc_tensor *b) {
  lc_tensor *r = a && b ? op(ctx, a, b) : NULL;
  lc_tensor_release(a);
  lc_tensor_release(b);
  return r;
}

static lc_tensor *f_add(lc_ctx *c, lc_tensor **in) { return lc_add(c, in[0], in[1]); }
static lc_tensor *f_sub(lc_ctx *c, lc_tensor **in) { return lc_sub(c, in[0], in[1]); }
static lc_tensor *f_mul(lc_ctx *c, lc_tensor **in) { return lc_mul(c, in[0], in[1]); }
static lc_tensor *f_div(lc_ctx *c, lc_tensor **in) { return lc_div(c, in[0], in[1]); }
static lc_tensor *f_pow(lc_ctx *c, lc_tensor **in) { return lc_pow(c, in[0], in[1]); }
static lc_tensor *f_pows3(lc_ctx *c, lc_tensor **in) { return lc_pow_scalar(c, in[0], 3.0); }
static lc_tensor *f_pows2(lc_ctx *c, lc_tensor **in) { return lc_pow_scalar(c, in[0], 2.0); }
static lc_tensor *f_powsh(lc_ctx *c, lc_tensor **in) { return lc_pow_scalar(c, in[0], 0.5); }
static lc_tensor *f_pows1(lc_ctx *c, lc_tensor **in) { return lc_pow_scalar(c, in[0], 1.0); }
static lc_tensor *f_neg(lc_ctx *c, lc_tensor **in) { return lc_neg(c, in[0]); }
static lc_tensor *f_tanh(lc_ctx *c, lc_tensor **in) { return lc_tanh(c, in[0]); }
static lc_tensor *f_log(lc_ctx *c, lc_tensor **in) { return lc_log(c, in[0]); }
static lc_tensor *f_matmul(lc_ctx *c, lc_tensor **in) { return lc_matmul(c, in[0], in[1]); }
static lc_tensor *f_matmul_tt(lc_ctx *c, lc_tensor **in) {  /* in0 {k,n}, in1 {m,k} */
  return own2(c, lc_matmul, lc_transpose(c, in[0], 0, 1), lc_transpose(c, in[1], 0, 1));
}
static lc_tensor *f_linear(lc_ctx *c, lc_tensor **in) { return lc_linear(c, in[0], in[1], in[2]); }
static lc_tensor *f_linear_nb(lc_ctx *c, lc_tensor **in) { return lc_linear(c, in[0], in[1], NULL); }
static lc_tensor *f_linear_wt(lc_ctx *c, lc_tensor **in) {  /* in1 {in, out} used transposed */
  lc_tensor *wt = lc_transpose(c, in[1], 0, 1);
  lc_tensor *r = wt ? lc_linear(c, in[0], wt, in[2]) : NULL;
  lc_tensor_release(wt);
  return r;
}
static lc_tensor *f_sum(lc_ctx *c, lc_tensor **in) { return lc_sum(c, in[0]); }
static lc_tensor *f_mean(lc_ctx *c, lc_tensor **in) { return lc_mean(c, in[0]); }
static lc_tensor *f_sum_d0(lc_ctx *c, lc_tensor **in) { return lc_sum_dim(c, in[0], 0, 0); }
static lc_tensor *f_sum_d1k(lc_ctx *c, lc_tensor **in) { return lc_sum_dim(c, in[0], 1, 1); }
static lc_tensor *f_sum_d2(lc_ctx *c, lc_tensor **in) { return lc_sum_dim(c, in[0], 2, 0); }
static lc_tensor *f_mean_d0k(lc_ctx *c, lc_tensor **in) { return lc_mean_dim(c, in[0], 0, 1); }
static lc_tensor *f_mean_d1(lc_ctx *c, lc_tensor **in) { return lc_mean_dim(c, in[0], 1, 0); }
static lc_tensor *f_reshape(lc_ctx *c, lc_tensor **in) { return lc_reshape(c, in[0], 3, S(3, 1, 2)); }
static lc_tensor *f_reshape_t(lc_ctx *c, lc_tensor **in) {  /* the copying path */
  lc_tensor *t = lc_transpose(c, in[0], 0, 1);
  lc_tensor *r = t ? lc_reshape(c, t, 2, S(-1, 4)) : NULL;
  lc_tensor_release(t);
  return r;
}
static lc_tensor *f_transpose(lc_ctx *c, lc_tensor **in) { return lc_transpose(c, in[0], 0, 2); }
static lc_tensor *f_select(lc_ctx *c, lc_tensor **in) { return lc_select(c, in[0], 1, 2); }
static lc_tensor *f_expand(lc_ctx *c, lc_tensor **in) { return lc_expand(c, in[0], 3, S(2, 3, 4)); }
static lc_tensor *f_clone(lc_ctx *c, lc_tensor **in) { return lc_clone(c, in[0]); }
static lc_tensor *f_sum_d0k(lc_ctx *c, lc_tensor **in) { return lc_sum_dim(c, in[0], 0, 1); }
static lc_tensor *f_select0(lc_ctx *c, lc_tensor **in) { return lc_select(c, in[0], 0, 1); }
static lc_tensor *f_expand0(lc_ctx *c, lc_tensor **in) { return lc_expand(c, in[0], 2, S(2, 3)); }
static lc_tensor *f_reshape0(lc_ctx *c, lc_tensor **in) { return lc_reshape(c, in[0], 0, NULL); }
static lc_tensor *f_pows0(lc_ctx *c, lc_tensor **in) { return lc_pow_scalar(c, in[0], 0.0); }
static lc_tensor *f_transpose_same(lc_ctx *c, lc_tensor **in) { return lc_transpose(c, in[0], 1, 1); }
/* a value used by several consumers and a view feeding an op */
static lc_tensor *f_mlp(lc_ctx *c, lc_tensor **in) {
  lc_tensor *h = lc_linear(c, in[0], in[1], in[2]);
  lc_tensor *t = h ? lc_tanh(c, h) : NULL;
  lc_tensor *tt = t ? lc_mul(c, t, h) : NULL;
  lc_tensor *m = tt ? lc_mean_dim(c, tt, 1, 0) : NULL;
  rel(h, t, tt, NULL);
  return m;
}

/* lucid.linalg (lapack.c): inputs made well conditioned inside, sign-free
 * functions of qr's, svd's and eigh's factors */
static lc_tensor *plus_3i(lc_ctx *c, lc_tensor *a) {  /* a + 3 I */
  lc_tensor *e = lc_eye(c, a->dtype, a->shape[a->ndim - 1], a->shape[a->ndim - 1]);
  lc_tensor *k = e ? lc_scalar(c, a->dtype, 3.0) : NULL;
  lc_tensor_retain(a);  /* own2 takes its operands */
  return own2(c, lc_add, a, own2(c, lc_mul, e, k));
}
static lc_tensor *f_inv(lc_ctx *c, lc_tensor **in) {
  lc_tensor *a = plus_3i(c, in[0]), *r = a ? lc_linalg_inv(c, a) : NULL;
  lc_tensor_release(a);
  return r;
}
static lc_tensor *f_solve(lc_ctx *c, lc_tensor **in) {
  lc_tensor *a = plus_3i(c, in[0]), *r = a ? lc_linalg_solve(c, a, in[1]) : NULL;
  lc_tensor_release(a);
  return r;
}
static lc_tensor *f_det(lc_ctx *c, lc_tensor **in) { return lc_linalg_det(c, in[0]); }
static lc_tensor *f_logabsdet(lc_ctx *c, lc_tensor **in) {
  lc_tensor *a = plus_3i(c, in[0]), *s = NULL, *l = NULL;
  if (a) lc_linalg_slogdet(c, a, &s, &l);
  rel(a, s, NULL, NULL);
  return l;
}
static lc_tensor *f_cholesky(lc_ctx *c, lc_tensor **in) {  /* of x x^T + 3 I */
  lc_tensor *xt = lc_transpose(c, in[0], 0, 1), *xx = xt ? lc_matmul(c, in[0], xt) : NULL;
  lc_tensor *a = xx ? plus_3i(c, xx) : NULL, *r = a ? lc_linalg_cholesky(c, a, 0) : NULL;
  rel(xt, xx, a, NULL);
  return r;
}
static lc_tensor *f_qr_r(lc_ctx *c, lc_tensor **in) {  /* R * R */
  lc_tensor *q = NULL, *r = NULL;
  lc_linalg_qr(c, in[0], LC_QR_REDUCED, &q, &r);
  lc_tensor *rr = r ? lc_mul(c, r, r) : NULL;
  rel(q, r, NULL, NULL);
  return rr;
}
static lc_tensor *f_svd_u(lc_ctx *c, lc_tensor **in) {  /* U * U */
  lc_tensor *u = NULL, *s = NULL, *vh = NULL;
  lc_linalg_svd(c, in[0], 0, &u, &s, &vh);
  lc_tensor *uu = u ? lc_mul(c, u, u) : NULL;
  rel(u, s, vh, NULL);
  return uu;
}
static lc_tensor *f_eigh_l(lc_ctx *c, lc_tensor **in) {  /* eigenvalues of x + x^T */
  lc_tensor *xt = lc_transpose(c, in[0], 0, 1), *a = xt ? lc_add(c, in[0], xt) : NULL;
  lc_tensor *l = NULL, *v = NULL;
  if (a) lc_linalg_eigh(c, a, 0, &l, &v);
  rel(xt, a, v, NULL);
  return l;
}
static lc_tensor *f_pinv(lc_ctx *c, lc_tensor **in) { return lc_linalg_pinv(c, in[0], NULL, NULL, 0); }
static lc_tensor *f_lstsq(lc_ctx *c, lc_tensor **in) {
  lc_tensor *x = NULL, *res = NULL, *rank = NULL, *sv = NULL;
  lc_linalg_lstsq(c, in[0], in[1], NULL, LC_LSTSQ_GELSD, &x, &res, &rank, &sv);
  rel(res, rank, sv, NULL);
  return x;
}
static lc_tensor *f_solve_tri(lc_ctx *c, lc_tensor **in) {  /* upper of a + 3 I, B on the right */
  lc_tensor *a = plus_3i(c, in[0]), *r = a ? lc_linalg_solve_triangular(c, a, in[1], 1, 0, 0) : NULL;
  lc_tensor_release(a);
  return r;
}
static lc_tensor *f_lu_factor(lc_ctx *c, lc_tensor **in) {
  lc_tensor *lu = NULL, *piv = NULL;
  lc_linalg_lu_factor(c, in[0], &lu, &piv, NULL);
  lc_tensor_release(piv);
  return lu;
}
static lc_tensor *f_lu_solve(lc_ctx *c, lc_tensor **in) {  /* LU = a + 3 I, pivots 2 3 3 */
  int64_t n[1] = {3};
  lc_tensor *a = plus_3i(c, in[0]), *piv = a ? lc_empty(c, LC_INT32, 1, n) : NULL, *r = NULL;
  if (piv) {
    int32_t *p = lc_tensor_data(piv);
    p[0] = 2, p[1] = 3, p[2] = 3;
    r = lc_linalg_lu_solve(c, a, piv, in[1], 1, 1);
  }
  rel(a, piv, NULL, NULL);
  return r;
}

static const gc_case gc_cases[] = {
  {"add", f_add, 2, {2, 2}, {{2, 3}, {2, 3}}, 0, 0},
  {"add broadcast {2,3}+{3}", f_add, 2, {2, 1}, {{2, 3}, {3}}, 0, 0},
  {"add broadcast {2,1,3}+{4,1}", f_add, 2, {3, 2}, {{2, 1, 3}, {4, 1}}, 0, 0},
  {"add, b frozen", f_add, 2, {2, 1}, {{2, 3}, {3}}, 0, 2},
  {"add 0-d", f_add, 2, {0, 2}, {{0}, {2, 3}}, 0, 0},
  {"sub broadcast", f_sub, 2, {2, 2}, {{2, 3}, {2, 1}}, 0, 0},
  {"sub, a frozen", f_sub, 2, {2, 2}, {{2, 3}, {2, 3}}, 0, 1},
  {"mul", f_mul, 2, {2, 2}, {{2, 3}, {2, 3}}, 0, 0},
  {"mul broadcast", f_mul, 2, {3, 2}, {{2, 1, 3}, {4, 1}}, 0, 0},
  {"mul, b frozen", f_mul, 2, {2, 2}, {{2, 3}, {2, 3}}, 0, 2},
  {"mul, a frozen", f_mul, 2, {2, 1}, {{2, 3}, {3}}, 0, 1},
  {"div", f_div, 2, {2, 2}, {{2, 3}, {2, 3}}, 1, 0},
  {"div broadcast", f_div, 2, {2, 1}, {{2, 3}, {3}}, 1, 0},
  {"div, b frozen", f_div, 2, {2, 2}, {{2, 3}, {2, 3}}, 1, 2},
  {"div, a frozen", f_div, 2, {2, 2}, {{2, 3}, {2, 3}}, 1, 1},
  {"pow", f_pow, 2, {2, 2}, {{2, 3}, {2, 3}}, 1, 0},
  {"pow broadcast", f_pow, 2, {2, 1}, {{2, 3}, {3}}, 1, 0},
  {"pow, b frozen", f_pow, 2, {2, 2}, {{2, 3}, {2, 3}}, 1, 2},
  {"pow, a frozen", f_pow, 2, {2, 2}, {{2, 3}, {2, 3}}, 1, 1},
  {"pow_scalar 3", f_pows3, 1, {2}, {{2, 3}}, 0, 0},
  {"pow_scalar 2", f_pows2, 1, {2}, {{2, 3}}, 0, 0},
  {"pow_scalar 0.5", f_powsh, 1, {2}, {{2, 3}}, 1, 0},
  {"pow_scalar 1", f_pows1, 1, {2}, {{2, 3}}, 0, 0},
  {"neg", f_neg, 1, {2}, {{2, 3}}, 0, 0},
  {"tanh", f_tanh, 1, {2}, {{2, 3}}, 0, 0},
  {"log", f_log, 1, {2}, {{2, 3}}, 1, 0},
  {"matmul 2-D", f_matmul, 2, {2, 2}, {{2, 3}, {3, 4}}, 0, 0},
  {"matmul batched", f_matmul, 2, {3, 3}, {{2, 2, 3}, {2, 3, 4}}, 0, 0},
  {"matmul batch x 2-D", f_matmul, 2, {3, 2}, {{2, 2, 3}, {3, 4}}, 0, 0},
  {"matmul 2-D x batch", f_matmul, 2, {2, 3}, {{2, 3}, {2, 3, 4}}, 0, 0},
  {"matmul broadcast batch", f_matmul, 2, {4, 3}, {{2, 1, 2, 3}, {3, 3, 2}}, 0, 0},
  {"matmul transposed operands", f_matmul_tt, 2, {2, 2}, {{3, 2}, {4, 3}}, 0, 0},
  {"matmul 1-D x 2-D", f_matmul, 2, {1, 2}, {{3}, {3, 4}}, 0, 0},
  {"matmul 2-D x 1-D", f_matmul, 2, {2, 1}, {{2, 3}, {3}}, 0, 0},
  {"matmul 1-D x 1-D", f_matmul, 2, {1, 1}, {{3}, {3}}, 0, 0},
  {"linear", f_linear, 3, {2, 2, 1}, {{4, 3}, {2, 3}, {2}}, 0, 0},
  {"linear batch 1", f_linear, 3, {2, 2, 1}, {{1, 3}, {2, 3}, {2}}, 0, 0},
  {"linear no bias", f_linear_nb, 2, {2, 2}, {{4, 3}, {2, 3}}, 0, 0},
  {"linear no bias batch 1", f_linear_nb, 2, {2, 2}, {{1, 3}, {2, 3}}, 0, 0},
  {"linear 1-D input", f_linear, 3, {1, 2, 1}, {{3}, {2, 3}, {2}}, 0, 0},
  {"linear 3-D input", f_linear, 3, {3, 2, 1}, {{2, 2, 3}, {2, 3}, {2}}, 0, 0},
  {"linear transposed weight", f_linear_wt, 3, {2, 2, 1}, {{4, 3}, {3, 2}, {2}}, 0, 0},
  {"linear, x frozen", f_linear, 3, {2, 2, 1}, {{4, 3}, {2, 3}, {2}}, 0, 1},
  {"sum", f_sum, 1, {2}, {{2, 3}}, 0, 0},
  {"mean", f_mean, 1, {3}, {{2, 3, 2}}, 0, 0},
  {"sum_dim 0", f_sum_d0, 1, {2}, {{3, 4}}, 0, 0},
  {"sum_dim 1 keepdim", f_sum_d1k, 1, {3}, {{2, 3, 2}}, 0, 0},
  {"sum_dim innermost", f_sum_d2, 1, {3}, {{2, 3, 2}}, 0, 0},
  {"mean_dim 0 keepdim", f_mean_d0k, 1, {2}, {{3, 4}}, 0, 0},
  {"mean_dim 1", f_mean_d1, 1, {2}, {{3, 4}}, 0, 0},
  {"reshape", f_reshape, 1, {2}, {{2, 3}}, 0, 0},
  {"reshape of a transpose", f_reshape_t, 1, {2}, {{2, 4}}, 0, 0},
  {"transpose", f_transpose, 1, {3}, {{2, 3, 4}}, 0, 0},
  {"select", f_select, 1, {3}, {{2, 3, 4}}, 0, 0},
  {"expand", f_expand, 1, {2}, {{3, 1}}, 0, 0},
  {"clone", f_clone, 1, {2}, {{2, 3}}, 0, 0},
  {"linear-tanh-mul-mean", f_mlp, 3, {2, 2, 1}, {{3, 4}, {5, 4}, {5}}, 0, 0},
  /* edge shapes: 1-D and 0-d results and inputs */
  {"matmul batch x 1-D", f_matmul, 2, {3, 1}, {{2, 2, 3}, {3}}, 0, 0},
  {"matmul 1-D x batch", f_matmul, 2, {1, 3}, {{3}, {2, 3, 4}}, 0, 0},
  {"sum_dim of 1-D", f_sum_d0, 1, {1}, {{4}}, 0, 0},
  {"sum_dim of 1-D keepdim", f_sum_d0k, 1, {1}, {{4}}, 0, 0},
  {"mean_dim 0 of {1,3}", f_mean_d0k, 1, {2}, {{1, 3}}, 0, 0},
  {"select of 1-D", f_select0, 1, {1}, {{3}}, 0, 0},
  {"expand a 0-d", f_expand0, 1, {0}, {{0}}, 0, 0},
  {"reshape {1,1} to 0-d", f_reshape0, 1, {2}, {{1, 1}}, 0, 0},
  {"pow_scalar 0", f_pows0, 1, {2}, {{2, 3}}, 0, 0},
  {"transpose a dim with itself", f_transpose_same, 1, {2}, {{2, 3}}, 0, 0},
  {"mul 0-d by 0-d", f_mul, 2, {0, 0}, {{0}, {0}}, 0, 0},
  {"linalg inv", f_inv, 1, {3}, {{2, 3, 3}}, 0, 0},
  {"linalg solve, B broadcast", f_solve, 2, {3, 2}, {{2, 3, 3}, {3, 2}}, 0, 0},
  {"linalg solve, a vector", f_solve, 2, {2, 1}, {{3, 3}, {3}}, 0, 0},
  {"linalg det", f_det, 1, {3}, {{2, 3, 3}}, 0, 0},
  {"linalg slogdet", f_logabsdet, 1, {2}, {{3, 3}}, 0, 0},
  {"linalg cholesky", f_cholesky, 1, {2}, {{3, 3}}, 0, 0},
  {"linalg qr", f_qr_r, 1, {2}, {{4, 3}}, 0, 0},
  {"linalg svd", f_svd_u, 1, {2}, {{3, 4}}, 0, 0},
  {"linalg eigh", f_eigh_l, 1, {2}, {{3, 3}}, 0, 0},
  {"linalg pinv", f_pinv, 1, {2}, {{3, 4}}, 0, 0},
  {"linalg lstsq", f_lstsq, 2, {2, 2}, {{5, 3}, {5, 2}}, 0, 0},
  {"linalg solve_triangular", f_solve_tri, 2, {3, 2}, {{2, 3, 3}, {4, 3}}, 0, 0},
  {"linalg lu_factor", f_lu_factor, 1, {2}, {{3, 4}}, 0, 0},
  {"linalg lu_solve", f_lu_solve, 2, {2, 2}, {{3, 3}, {3, 2}}, 0, 0},
};

/* sum(f(in) * seed) with grad recording off. */
static int gc_loss(lc_ctx *ctx, gc_fn f, lc_tensor **in, const double *seed, double *out) {
  int old = lc_ctx_set_grad_enabled(ctx, 0);
  lc_tensor *y = f(ctx, in);
  lc_ctx_set_grad_enabled(ctx, old);
  if (!y) return 0;
  double *v = read_all(y);
  double s = 0;
  for (int64_t i = 0; i < y->numel; i++) s += v[i] * seed[i];
  free(v);
  lc_tensor_release(y);
  *out = s;
  return 1;
}

static void gradcheck(const gc_case *k) {
  counter c;
  lc_ctx *ctx = new_ctx(&c);
  lc_ctx_seed(ctx, 1234);
  lc_tensor *in[3] = {NULL, NULL, NULL};
  for (int i = 0; i < k->nin; i++) {
    in[i] = lc_empty(ctx, LC_FLOAT64, k->ndim[i], k->shape[i]);
    if (k->positive) lc_uniform_(ctx, in[i], 0.5, 1.5);
    else {
      lc_tensor *r = lc_randn(ctx, LC_FLOAT64, k->ndim[i], k->shape[i]);
      lc_copy_(ctx, in[i], r);
      lc_tensor_release(r);
    }
    in[i]->requires_grad = !(k->frozen & (1 << i));
  }
  lc_tensor *y = k->f(ctx, in);
  g_checks++;
  if (!y) {
    g_failures++;
    fprintf(stderr, "%s:%d: gradcheck %s: forward failed: %s\n", __FILE__, __LINE__, k->name,
            lc_ctx_error(ctx));
    goto done;
  }
  CHECKF(y->requires_grad && !lc_tensor_is_leaf(y) && lc_tensor_op_name(y), "%s", k->name);
  lc_tensor *seed = lc_randn(ctx, LC_FLOAT64, y->ndim, y->shape);
  double *sv = read_all(seed);
  lc_status st = lc_backward(ctx, y, seed, 0);
  CHECKF(st == LC_OK, "gradcheck %s: backward: %s", k->name, lc_ctx_error(ctx));
  const double eps = 1e-6;
  for (int i = 0; st == LC_OK && i < k->nin; i++) {
    if (k->frozen & (1 << i)) {
      CHECKF(in[i]->grad == NULL, "gradcheck %s: frozen input %d got a grad", k->name, i);
      continue;
    }
    lc_tensor *g = in[i]->grad;
    int shape_ok = g && g->ndim == in[i]->ndim && g->dtype == LC_FLOAT64;
    for (int d = 0; shape_ok && d < g->ndim; d++) shape_ok = g->shape[d] == in[i]->shape[d];
    CHECKF(shape_ok, "gradcheck %s: input %d has no grad of its shape", k->name, i);
    if (!shape_ok) continue;
    double *gv = read_all(g), *x = lc_tensor_data(in[i]);
    int bad = 0;
    for (int64_t j = 0; j < in[i]->numel && !bad; j++) {
      double x0 = x[j], lp = 0, lm = 0;
      x[j] = x0 + eps;
      int ok = gc_loss(ctx, k->f, in, sv, &lp);
      x[j] = x0 - eps;
      ok = ok && gc_loss(ctx, k->f, in, sv, &lm);
      x[j] = x0;
      double num = (lp - lm) / (2 * eps);
      if (!ok || !(fabs(num - gv[j]) <= 1e-6 * (1 + fabs(num)))) {
        bad = 1;
        fprintf(stderr, "%s:%d: gradcheck %s: d/d input%d[%lld]: backward %.12g, numeric %.12g\n",
                __FILE__, __LINE__, k->name, i, (long long)j, gv[j], num);
      }
    }
    g_checks++;
    if (bad) g_failures++;
    free(gv);
  }
  /* Again with the same seed values in a non-contiguous layout: the rules
   * must read g through its strides and give the same gradients. */
  if (st == LC_OK && y->ndim >= 1) {
    double *first[3] = {NULL, NULL, NULL};
    for (int i = 0; i < k->nin; i++) {
      if (in[i]->grad) first[i] = read_all(in[i]->grad);
      lc_tensor_release(in[i]->grad);
      in[i]->grad = NULL;
    }
    int64_t big[LC_MAX_DIMS];
    for (int d = 0; d < y->ndim; d++) big[d] = y->shape[d];
    big[y->ndim] = 2;  /* {..., 2}, then select the last dim: every other element */
    lc_tensor *wide = lc_zeros(ctx, LC_FLOAT64, y->ndim + 1, big);
    lc_tensor *seed2 = wide ? lc_select(ctx, wide, y->ndim, 1) : NULL;
    CHECK(seed2 && lc_copy_(ctx, seed2, seed) == LC_OK);
    CHECK(seed2 && (seed2->numel == 1 || !lc_tensor_is_contiguous(seed2)));
    lc_tensor *y2 = k->f(ctx, in);
    lc_status st2 = y2 && seed2 ? lc_backward(ctx, y2, seed2, 0) : LC_EARG;
    CHECKF(st2 == LC_OK, "gradcheck %s, strided seed: backward: %s", k->name, lc_ctx_error(ctx));
    for (int i = 0; st2 == LC_OK && i < k->nin; i++) {
      if (!first[i]) continue;
      int same = in[i]->grad != NULL;
      double *gv = same ? read_all(in[i]->grad) : NULL;
      for (int64_t j = 0; same && j < in[i]->numel; j++)
        same = fabs(gv[j] - first[i][j]) <= 1e-12 * (1 + fabs(first[i][j]));
      CHECKF(same, "gradcheck %s: input %d: a strided seed gives other gradients", k->name, i);
      free(gv);
    }
    for (int i = 0; i < 3; i++) free(first[i]);
    rel(wide, seed2, y2, NULL);
  }
  free(sv);
  lc_tensor_release(seed);
  lc_tensor_release(y);
done:
  for (int i = 0; i < k->nin; i++) lc_tensor_release(in[i]);
  END_CTX(ctx, c);
}

static void test_gradcheck(void) {
  for (size_t i = 0; i < sizeof gc_cases / sizeof gc_cases[0]; i++) gradcheck(&gc_cases[i]);
}

/* Gradients in float32 are float32 and close to float64's. */
static void test_grad_float32(void) {
  counter c;
  lc_ctx *ctx = new_ctx(&c);
  lc_tensor *x = lc_randn(ctx, LC_FLOAT32, 2, S(3, 4)), *w = lc_randn(ctx, LC_FLOAT32, 2, S(2, 4));
  lc_tensor *b = lc_randn(ctx, LC_FLOAT32, 1, S(2));
  x->requires_grad = w->requires_grad = b->requires_grad = 1;
  lc_tensor *in[3] = {x, w, b};
  lc_tensor *y = f_mlp(ctx, in), *s = y ? lc_sum(ctx, y) : NULL;
  CHECK(s && lc_backward(ctx, s, NULL, 0) == LC_OK);
  CHECK(x->grad && x->grad->dtype == LC_FLOAT32 && w->grad && w->grad->dtype == LC_FLOAT32);
  /* the same in float64, from leaves made with recording off */
  int old = lc_ctx_set_grad_enabled(ctx, 0);
  lc_tensor *x6 = lc_to_dtype(ctx, x, LC_FLOAT64), *w6 = lc_to_dtype(ctx, w, LC_FLOAT64);
  lc_tensor *b6 = lc_to_dtype(ctx, b, LC_FLOAT64);
  lc_ctx_set_grad_enabled(ctx, old);
  x6->requires_grad = w6->requires_grad = b6->requires_grad = 1;
  lc_tensor *in6[3] = {x6, w6, b6};
  lc_tensor *y6 = f_mlp(ctx, in6), *s6 = y6 ? lc_sum(ctx, y6) : NULL;
  CHECK(s6 && lc_backward(ctx, s6, NULL, 0) == LC_OK);
  if (x->grad && x6->grad && w->grad && w6->grad) {
    double a[12], b2[12];
    lc_tensor_read(x->grad, a);
    lc_tensor_read(x6->grad, b2);
    double md = 0;
    for (int i = 0; i < 12; i++) md = fmax(md, fabs(a[i] - b2[i]));
    CHECKF(md < 1e-5, "float32 and float64 input grads differ by %g", md);
    lc_tensor_read(w->grad, a);
    lc_tensor_read(w6->grad, b2);
    md = 0;
    for (int i = 0; i < 8; i++) md = fmax(md, fabs(a[i] - b2[i]));
    CHECKF(md < 1e-5, "float32 and float64 weight grads differ by %g", md);
  }
  rel(x, w, b, y);
  rel(s, x6, w6, b6);
  rel(y6, s6, NULL, NULL);
  END_CTX(ctx, c);
}

/* float32 with float64: the result is float64 and each leaf's grad has the
 * leaf's own dtype. */
static void test_grad_mixed_dtype(void) {
  counter c;
  lc_ctx *ctx = new_ctx(&c);
  lc_tensor *a = tensor_of(ctx, LC_FLOAT32, 2, S(2, 2), D(1, 2, 3, 4));
  lc_tensor *b = T64(ctx, S(2, 2), 2, 0.5, -1, 2, 0.25);
  a->requires_grad = b->requires_grad = 1;
  lc_tensor *y = lc_mul(ctx, a, b), *m = lc_matmul(ctx, a, b);
  CHECK(y && y->dtype == LC_FLOAT64 && m && m->dtype == LC_FLOAT64);
  lc_tensor *s = y && m ? lc_add(ctx, y, m) : NULL, *t = s ? lc_sum(ctx, s) : NULL;
  CHECK(t && lc_backward(ctx, t, NULL, 0) == LC_OK);
  CHECK(a->grad && a->grad->dtype == LC_FLOAT32 && b->grad && b->grad->dtype == LC_FLOAT64);
  /* d/da sum(a*b + a@b) = b + 1 b^T (row sums of b); d/db = a + a^T 1 (column sums of a) */
  CHECK_VALUES(a->grad, 1e-6, 0.5 + (0.5 - 1), -1 + (2 + 0.25), 2 + (0.5 - 1), 0.25 + (2 + 0.25));
  CHECK_VALUES(b->grad, 1e-12, 1 + (1 + 3), 2 + (1 + 3), 3 + (2 + 4), 4 + (2 + 4));
  rel(y, m, s, t);
  /* linear wants one dtype and says which it got */
  lc_tensor *w = lc_zeros(ctx, LC_FLOAT64, 2, S(3, 2));
  lc_tensor *l = lc_linear(ctx, a, w, NULL);
  CHECK(l == NULL && lc_ctx_status(ctx) == LC_EARG && strstr(lc_ctx_error(ctx), "float32") &&
        strstr(lc_ctx_error(ctx), "float64"));
  rel(a, b, w, l);
  END_CTX(ctx, c);
}

/* ============================================================================= */
/* autograd behaviour                                                              */
/* ============================================================================= */

typedef struct chain_args {
  int64_t n;
  int ok;
} chain_args;

/* x -> x * 1.0001 -> + 0 -> * 1.0001 ... n ops, then sum and backward. Holds
 * only the newest link, so the graph owns the whole chain. */
static void *chain_body(void *p) {
  chain_args *a = (chain_args *)p;
  counter c;
  lc_ctx *ctx = new_ctx(&c);
  lc_tensor *x = lc_full(ctx, LC_FLOAT64, 1, S(2), 1.0);
  lc_tensor *k = lc_scalar(ctx, LC_FLOAT64, 1.0001), *z = lc_scalar(ctx, LC_FLOAT64, 0.0);
  x->requires_grad = 1;
  int ok = 1;
  for (int round = 0; round < 3; round++) {
    lc_tensor *cur = x;
    lc_tensor_retain(cur);
    int64_t muls = 0;
    for (int64_t i = 0; i < a->n && cur; i++) {
      lc_tensor *nx = (i % 2 == 0) ? lc_mul(ctx, cur, k) : lc_add(ctx, cur, z);
      muls += i % 2 == 0;
      lc_tensor_release(cur);
      cur = nx;
    }
    CHECK(cur != NULL);
    if (!cur) { ok = 0; break; }
    if (round == 0) {  /* backward, graph freed as it goes */
      lc_tensor *s = lc_sum(ctx, cur);
      CHECK(s && lc_backward(ctx, s, NULL, 0) == LC_OK);
      double want = pow(1.0001, (double)muls);
      CHECK(x->grad != NULL);
      if (x->grad) {
        double g[2];
        lc_tensor_read(x->grad, g);
        CHECKF(fabs(g[0] - want) < 1e-9 * want && fabs(g[1] - want) < 1e-9 * want,
               "chain grad %.17g, expected %.17g", g[0], want);
      }
      lc_tensor_release(s);
    } else if (round == 1) {  /* backward keeping the graph, then release it all */
      CHECK(lc_backward(ctx, cur, NULL, 1) == LC_OK);
    }  /* round 2: never run backward; releasing must free the chain */
    lc_tensor_release(cur);
    CHECKF(lc_ctx_live_bytes(ctx) < 4096, "%zu bytes live after releasing the chain",
           lc_ctx_live_bytes(ctx));
  }
  rel(x, k, z, NULL);
  END_CTX(ctx, c);
  a->ok = ok;
  return NULL;
}

static void test_long_chain(void) {
  chain_args a = {100000, 0};
  pthread_attr_t attr;
  pthread_t th;
  pthread_attr_init(&attr);
  /* 512 KiB: plenty for loops, far too little for 100,000 nested calls */
  pthread_attr_setstacksize(&attr, 512 * 1024);
  int rc = pthread_create(&th, &attr, chain_body, &a);
  CHECK(rc == 0);
  if (rc == 0) pthread_join(th, NULL);
  else chain_body(&a);
  pthread_attr_destroy(&attr);
  CHECK(a.ok);
}

static void test_used_twice_and_accumulate(void) {
  counter c;
  lc_ctx *ctx = new_ctx(&c);
  lc_tensor *x = T64(ctx, S(3), 1, 1, 2, 3);
  x->requires_grad = 1;
  /* y = x*x + x: x reaches y by three paths */
  lc_tensor *xx = lc_mul(ctx, x, x), *y = lc_add(ctx, xx, x), *s = lc_sum(ctx, y);
  CHECK(s && lc_backward(ctx, s, NULL, 0) == LC_OK);
  CHECK_VALUES(x->grad, 0, 3, 5, 7);
  rel(xx, y, s, NULL);
  /* a second graph adds into the same .grad */
  lc_tensor *t = lc_mul(ctx, x, x);
  lc_tensor *h = lc_tanh(ctx, t);  /* an intermediate used twice: h * h */
  lc_tensor *hh = lc_mul(ctx, h, h);
  lc_tensor *s2 = lc_sum(ctx, hh);
  CHECK(s2 && lc_backward(ctx, s2, NULL, 0) == LC_OK);
  double want[3];
  for (int i = 0; i < 3; i++) {
    double xi = i + 1, th = tanh(xi * xi);
    want[i] = (2 * xi + 1) + 2 * th * (1 - th * th) * 2 * xi;
  }
  CHECK_VALUES(x->grad, 1e-12, want[0], want[1], want[2]);
  rel(t, h, hh, s2);
  /* a grad the user zeroed in place keeps accumulating into the same tensor */
  lc_tensor *g = x->grad;
  lc_fill_(ctx, g, 0.0);
  lc_tensor *s3 = lc_sum(ctx, x);
  CHECK(s3 && lc_backward(ctx, s3, NULL, 0) == LC_OK);
  CHECK(x->grad == g);
  CHECK_VALUES(x->grad, 0, 1, 1, 1);
  lc_tensor_release(s3);
  lc_tensor_release(x);
  END_CTX(ctx, c);
}

static void test_backward_twice(void) {
  counter c;
  lc_ctx *ctx = new_ctx(&c);
  lc_tensor *x = T64(ctx, S(2), 1, 1, 2);
  x->requires_grad = 1;
  lc_tensor *y = lc_mul(ctx, x, x), *s = lc_sum(ctx, y);
  CHECK(lc_backward(ctx, s, NULL, 0) == LC_OK);
  CHECK_VALUES(x->grad, 0, 2, 4);
  CHECK(lc_backward(ctx, s, NULL, 0) == LC_ESTATE);
  CHECK(lc_ctx_status(ctx) == LC_ESTATE);
  CHECK(strlen(lc_ctx_error(ctx)) > 0 && strstr(lc_ctx_error(ctx), "retain_graph"));
  CHECK_VALUES(x->grad, 0, 2, 4);  /* unchanged */
  /* y's own graph was freed too: backward from it fails the same way */
  CHECK(lc_backward(ctx, y, NULL, 0) == LC_ESTATE);
  rel(y, s, NULL, NULL);

  /* with retain_graph the second run works and accumulates */
  lc_tensor_release(x->grad);
  x->grad = NULL;
  y = lc_mul(ctx, x, x);
  s = lc_sum(ctx, y);
  CHECK(lc_backward(ctx, s, NULL, 1) == LC_OK);
  CHECK(lc_backward(ctx, s, NULL, 1) == LC_OK);
  CHECK_VALUES(x->grad, 0, 4, 8);
  CHECK(lc_backward(ctx, s, NULL, 0) == LC_OK);  /* a last run frees it */
  CHECK_VALUES(x->grad, 0, 6, 12);
  CHECK(lc_backward(ctx, s, NULL, 0) == LC_ESTATE);
  rel(y, s, NULL, NULL);

  /* not requiring grad */
  lc_tensor *a = T64(ctx, S(2), 1, 1, 2);
  lc_tensor *b = lc_mul(ctx, a, a);
  CHECK(b && !b->requires_grad);
  CHECK(lc_backward(ctx, b, NULL, 0) == LC_ESTATE);
  CHECK(lc_ctx_status(ctx) == LC_ESTATE && strlen(lc_ctx_error(ctx)) > 0);
  CHECK(lc_backward(ctx, a, NULL, 0) == LC_ESTATE);
  CHECK(a->grad == NULL && b->grad == NULL);
  /* a seed of the wrong shape names both shapes */
  lc_tensor *seed = lc_zeros(ctx, LC_FLOAT64, 1, S(3));
  CHECK(lc_backward(ctx, y = lc_mul(ctx, x, x), seed, 0) == LC_ESHAPE);
  CHECK(strstr(lc_ctx_error(ctx), "{3}") && strstr(lc_ctx_error(ctx), "{2}"));
  rel(a, b, seed, y);
  /* backward on a leaf: its grad is the seed */
  lc_tensor_release(x->grad);
  x->grad = NULL;
  CHECK(lc_backward(ctx, x, NULL, 0) == LC_OK);
  CHECK_VALUES(x->grad, 0, 1, 1);
  lc_tensor_release(x);
  END_CTX(ctx, c);
}

/* A seed of another dtype than the root must either be converted (giving
 * the right gradient) or be refused with an error; it must never be read as
 * if it had the root's dtype. */
static void test_backward_seed_dtype(void) {
  counter c;
  lc_ctx *ctx = new_ctx(&c);
  for (int rdt = 0; rdt < 2; rdt++) {
    lc_dtype root_dt = (lc_dtype)rdt, seed_dt = (lc_dtype)!rdt;
    lc_tensor *x = lc_full(ctx, root_dt, 1, S(3), 0.5);
    x->requires_grad = 1;
    lc_tensor *y = lc_tanh(ctx, x);
    lc_tensor *seed = tensor_of(ctx, seed_dt, 1, S(3), D(1, 2, 3));
    lc_status st = lc_backward(ctx, y, seed, 0);
    double d = 1 - tanh(0.5) * tanh(0.5);
    if (st == LC_OK) {
      CHECK_VALUES(x->grad, 1e-6, d, 2 * d, 3 * d);
    } else {
      CHECK(strlen(lc_ctx_error(ctx)) > 0);
    }
    rel(x, y, seed, NULL);
    /* through linear as well */
    lc_tensor *xl = lc_full(ctx, root_dt, 2, S(1, 2), 1.0), *w = lc_full(ctx, root_dt, 2, S(2, 2), 1.0);
    xl->requires_grad = 1;
    lc_tensor *yl = lc_linear(ctx, xl, w, NULL);
    seed = tensor_of(ctx, seed_dt, 2, S(1, 2), D(1, 2));
    st = lc_backward(ctx, yl, seed, 0);
    if (st == LC_OK) CHECK_VALUES(xl->grad, 1e-6, 3, 3);
    else CHECK(strlen(lc_ctx_error(ctx)) > 0);
    rel(xl, w, yl, seed);
  }
  END_CTX(ctx, c);
}

static void test_grad_mode(void) {
  counter c;
  lc_ctx *ctx = new_ctx(&c);
  lc_tensor *a = T64(ctx, S(2), 1, 1, 2), *b = T64(ctx, S(2), 1, 3, 4);
  a->requires_grad = 1;
  CHECK(lc_ctx_grad_enabled(ctx) == 1);
  size_t before = lc_ctx_live_bytes(ctx);
  int old = lc_ctx_set_grad_enabled(ctx, 0);
  CHECK(old == 1 && lc_ctx_grad_enabled(ctx) == 0);
  lc_tensor *y = lc_mul(ctx, a, b), *t = lc_transpose(ctx, y, 0, 0), *s = lc_sum(ctx, a);
  CHECK(y && !y->requires_grad && y->node == NULL && lc_tensor_is_leaf(y));
  CHECK(y && lc_tensor_op_name(y) == NULL);
  CHECK(t && t->node == NULL && s && s->node == NULL && !s->requires_grad);
  CHECK_VALUES(y, 0, 3, 8);
  CHECK(lc_backward(ctx, s, NULL, 0) == LC_ESTATE);
  rel(y, t, s, NULL);
  CHECK(lc_ctx_live_bytes(ctx) == before);
  CHECK(lc_ctx_set_grad_enabled(ctx, old) == 0);
  y = lc_mul(ctx, a, b);
  CHECK(y && y->requires_grad && y->node && lc_tensor_op_name(y) &&
        strcmp(lc_tensor_op_name(y), "MulBackward") == 0);
  lc_tensor *z = lc_mul(ctx, b, b);  /* no input requires grad: no node either */
  CHECK(z && z->node == NULL && !z->requires_grad);
  rel(y, z, a, b);
  /* the setting and default dtype belong to the context */
  counter c2;
  lc_ctx *ctx2 = new_ctx(&c2);
  lc_ctx_set_grad_enabled(ctx, 0);
  lc_ctx_set_default_dtype(ctx, LC_FLOAT64);
  CHECK(lc_ctx_grad_enabled(ctx2) == 1 && lc_ctx_default_dtype(ctx2) == LC_FLOAT32);
  CHECK(lc_ctx_default_dtype(ctx) == LC_FLOAT64);
  END_CTX(ctx2, c2);
  END_CTX(ctx, c);
}

/* ============================================================================= */
/* errors                                                                          */
/* ============================================================================= */

#define CHECK_SHAPE_ERROR(ctx, call)                                             \
  do {                                                                           \
    lc_tensor *r_ = (call);                                                      \
    CHECKF(r_ == NULL, "%s did not fail", #call);                                \
    CHECKF(lc_ctx_status(ctx) == LC_ESHAPE, "%s: status %d", #call, (int)lc_ctx_status(ctx)); \
    CHECKF(strstr(lc_ctx_error(ctx), "{2, 3}") && strstr(lc_ctx_error(ctx), "{4, 5}"),      \
           "%s: message \"%s\"", #call, lc_ctx_error(ctx));                      \
    lc_tensor_release(r_);                                                       \
  } while (0)

static void test_errors(void) {
  counter c;
  lc_ctx *ctx = new_ctx(&c);
  lc_tensor *a = lc_zeros(ctx, LC_FLOAT32, 2, S(2, 3)), *b = lc_zeros(ctx, LC_FLOAT32, 2, S(4, 5));
  lc_tensor *bias = lc_zeros(ctx, LC_FLOAT32, 1, S(4));
  a->requires_grad = 1;
  size_t live = lc_ctx_live_bytes(ctx);
  CHECK_SHAPE_ERROR(ctx, lc_add(ctx, a, b));
  CHECK_SHAPE_ERROR(ctx, lc_mul(ctx, b, a));
  CHECK_SHAPE_ERROR(ctx, lc_matmul(ctx, a, b));
  CHECK_SHAPE_ERROR(ctx, lc_linear(ctx, a, b, NULL));
  CHECK_SHAPE_ERROR(ctx, lc_linear(ctx, a, b, bias));
  CHECK_SHAPE_ERROR(ctx, lc_reshape(ctx, a, 2, S(4, 5)));
  CHECK_SHAPE_ERROR(ctx, lc_expand(ctx, a, 2, S(4, 5)));
  CHECK(lc_ctx_live_bytes(ctx) == live);  /* failures leave nothing behind */
  /* a dimension out of range is an argument error */
  CHECK(lc_sum_dim(ctx, a, 2, 0) == NULL && lc_ctx_status(ctx) == LC_EARG);
  CHECK(lc_transpose(ctx, a, 0, 5) == NULL && lc_ctx_status(ctx) == LC_EARG);
  CHECK(lc_select(ctx, a, 0, 2) == NULL && lc_ctx_status(ctx) == LC_EARG);
  CHECK(lc_reshape(ctx, a, 2, S(-1, -1)) == NULL && lc_ctx_status(ctx) == LC_ESHAPE);
  lc_tensor *r = lc_reshape(ctx, a, 1, S(-1));
  CHECK_SHAPE(r, 6);
  rel(a, b, bias, r);
  END_CTX(ctx, c);
}

/* ============================================================================= */
/* out of memory                                                                   */
/* ============================================================================= */

/* One run of a program with one refusal point. Problems are collected in
 * `bad` / `msg` and reported by the sweep, one failed check per run. */
typedef struct oom_run {
  lc_ctx *ctx;
  counter *c;
  int stopped;        /* a step failed; the rest is skipped */
  int bad;            /* problems seen in this run */
  char msg[512];      /* the first of them */
  lc_tensor *keep[64];
  int nkeep;
} oom_run;

static void oom_problem(oom_run *r, int line, const char *fmt, const char *what) {
  if (r->bad++ == 0) {
    int k = snprintf(r->msg, sizeof r->msg, "line %d: ", line);
    snprintf(r->msg + k, sizeof r->msg - (size_t)k, fmt, what, (int)lc_ctx_status(r->ctx),
             lc_ctx_error(r->ctx));
  }
}

/* Checks one step: on success no allocation may have been refused during it
 * (a refusal must not be swallowed); on failure the context says LC_ENOMEM
 * and an allocation really was refused. Returns whether to go on. */
static int oom_step(oom_run *r, long refused_before, int ok, const char *what, int line) {
  int refused = r->c->refused > refused_before;
  if (ok && refused)
    oom_problem(r, line, "%s returned success (status %d, \"%s\") although an allocation was "
                "refused during it", what);
  else if (!ok && (lc_ctx_status(r->ctx) != LC_ENOMEM || !refused))
    oom_problem(r, line, "%s failed with status %d (\"%s\"); expected LC_ENOMEM after a "
                "refusal", what);
  if (!ok) r->stopped = 1;
  return ok;
}

/* Runs a tensor-returning call as a step; the result is kept for release. */
#define OOM_T(r, var, call)                                                      \
  do {                                                                           \
    if ((r)->stopped) { var = NULL; break; }                                     \
    long rb_ = (r)->c->refused;                                                  \
    var = (call);                                                                \
    if (oom_step((r), rb_, var != NULL, #call, __LINE__)) (r)->keep[(r)->nkeep++] = var; \
  } while (0)

#define OOM_S(r, call)                                                           \
  do {                                                                           \
    if ((r)->stopped) break;                                                     \
    long rb_ = (r)->c->refused;                                                  \
    lc_status st_ = (call);                                                      \
    oom_step((r), rb_, st_ == LC_OK, #call, __LINE__);                           \
  } while (0)

/* After the program: grad mode is back on, and (when it ran through) the
 * leaves' gradients go to grads. */
static void oom_finish(oom_run *r, lc_tensor **leaves, int n, double *grads, int *ngrads) {
  if (!lc_ctx_grad_enabled(r->ctx))
    oom_problem(r, __LINE__, "%s (status %d, \"%s\")", "grad mode was left off");
  *ngrads = 0;
  for (int i = 0; !r->stopped && i < n; i++) {
    if (!leaves[i]->grad) {
      oom_problem(r, __LINE__, "%s (status %d, \"%s\")", "a leaf has no grad after backward");
      continue;
    }
    lc_tensor_read(leaves[i]->grad, grads + *ngrads);
    *ngrads += (int)leaves[i]->grad->numel;
  }
}

typedef void (*oom_prog)(oom_run *r, double *grads, int *ngrads);

/* The brief's program: linear, tanh, sum, backward. */
static void prog_mlp(oom_run *r, double *grads, int *ngrads) {
  lc_ctx *ctx = r->ctx;
  lc_tensor *x, *w, *b, *h, *y, *s;
  OOM_T(r, x, lc_randn(ctx, LC_FLOAT64, 2, S(4, 3)));
  OOM_T(r, w, lc_randn(ctx, LC_FLOAT64, 2, S(5, 3)));
  OOM_T(r, b, lc_randn(ctx, LC_FLOAT64, 1, S(5)));
  if (r->stopped) return;
  x->requires_grad = w->requires_grad = b->requires_grad = 1;
  OOM_T(r, h, lc_linear(ctx, x, w, b));
  OOM_T(r, y, lc_tanh(ctx, h));
  OOM_T(r, s, lc_sum(ctx, y));
  OOM_S(r, lc_backward(ctx, s, NULL, 0));
  lc_tensor *leaves[3] = {x, w, b};
  oom_finish(r, leaves, 3, grads, ngrads);
}

/* A wider graph: broadcasting, views, and rules that make several tensors
 * (mul, div, pow, matmul with both inputs wanting a gradient). */
static void prog_wide(oom_run *r, double *grads, int *ngrads) {
  lc_ctx *ctx = r->ctx;
  lc_tensor *a, *b, *m, *t0, *t1, *t2, *t3, *t4, *t5, *t6, *t7, *t8, *t9, *t10, *t11, *t12;
  lc_tensor *s, *s2, *neg, *tot;
  OOM_T(r, a, lc_rand(ctx, LC_FLOAT64, 2, S(3, 4)));
  OOM_T(r, b, lc_rand(ctx, LC_FLOAT64, 1, S(4)));
  OOM_T(r, m, lc_randn(ctx, LC_FLOAT64, 2, S(4, 2)));
  if (r->stopped) return;
  a->requires_grad = b->requires_grad = m->requires_grad = 1;
  OOM_T(r, t0, lc_pow_scalar(ctx, b, 2.0));
  OOM_T(r, t1, lc_add(ctx, a, t0));                /* {3,4} + {4} */
  OOM_T(r, t2, lc_div(ctx, t1, b));
  OOM_T(r, t3, lc_pow(ctx, t2, b));
  OOM_T(r, t4, lc_log(ctx, t3));
  OOM_T(r, t5, lc_matmul(ctx, t4, m));             /* {3,2} */
  OOM_T(r, t6, lc_transpose(ctx, t5, 0, 1));
  OOM_T(r, t7, lc_reshape(ctx, t6, 1, S(6)));      /* copies */
  OOM_T(r, t8, lc_select(ctx, t4, 0, 1));
  OOM_T(r, t9, lc_expand(ctx, t8, 2, S(2, 4)));
  OOM_T(r, t10, lc_mean_dim(ctx, t9, 0, 0));
  OOM_T(r, t11, lc_sub(ctx, t10, b));
  OOM_T(r, t12, lc_mul(ctx, t11, t11));
  OOM_T(r, s, lc_sum(ctx, t7));
  OOM_T(r, s2, lc_sum_dim(ctx, t12, 0, 1));
  OOM_T(r, neg, lc_neg(ctx, s2));
  OOM_T(r, tot, lc_mul(ctx, s, neg));
  OOM_S(r, lc_backward(ctx, tot, NULL, 0));
  lc_tensor *leaves[3] = {a, b, m};
  oom_finish(r, leaves, 3, grads, ngrads);
}

/* Every op of lapack.c forward and backward, several results included. */
static void prog_linalg(oom_run *r, double *grads, int *ngrads) {
  lc_ctx *ctx = r->ctx;
  lc_tensor *a, *b, *inv, *x, *det, *at, *aat, *chol, *pinv, *terms[4] = {NULL}, *sum = NULL;
  lc_tensor *res[8] = {NULL};  /* slogdet, qr, svd, eigh */
  lc_tensor *ls[4] = {NULL};   /* lstsq */
  OOM_T(r, a, lc_randn(ctx, LC_FLOAT64, 2, S(3, 3)));
  OOM_T(r, b, lc_randn(ctx, LC_FLOAT64, 2, S(3, 2)));
  if (r->stopped) return;
  for (int i = 0; i < 3; i++) ((double *)lc_tensor_data(a))[i * 4] += 3.0;
  a->requires_grad = b->requires_grad = 1;
  OOM_T(r, inv, lc_linalg_inv(ctx, a));
  OOM_T(r, x, lc_linalg_solve(ctx, a, b));
  OOM_T(r, det, lc_linalg_det(ctx, a));
  OOM_S(r, lc_linalg_slogdet(ctx, a, &res[0], &res[1]));
  OOM_T(r, at, lc_transpose(ctx, a, 0, 1));
  OOM_T(r, aat, lc_matmul(ctx, a, at));
  OOM_T(r, chol, lc_linalg_cholesky(ctx, aat, 0));
  OOM_S(r, lc_linalg_qr(ctx, b, LC_QR_REDUCED, &res[2], &res[3]));
  OOM_S(r, lc_linalg_svd(ctx, b, 0, &res[4], &res[5], &res[6]));
  OOM_S(r, lc_linalg_eigh(ctx, aat, 0, &res[7], &terms[0]));
  OOM_T(r, pinv, lc_linalg_pinv(ctx, b, NULL, NULL, 0));
  OOM_S(r, lc_linalg_lstsq(ctx, a, b, NULL, LC_LSTSQ_GELSY, &ls[0], &ls[1], &ls[2], &ls[3]));
  for (int i = 0; i < 8; i++) if (res[i] && r->nkeep < 64) r->keep[r->nkeep++] = res[i];
  for (int i = 0; i < 4; i++) if (ls[i] && r->nkeep < 64) r->keep[r->nkeep++] = ls[i];
  if (terms[0]) r->keep[r->nkeep++] = terms[0];  /* eigh's V */
  if (r->stopped) return;
  /* a sum of sign-free terms */
  lc_tensor *parts[11] = {inv, x, det, res[1], chol, res[3], res[5], res[7], pinv, ls[0], NULL};
  OOM_T(r, terms[1], lc_mul(ctx, res[2], res[2]));
  OOM_T(r, terms[2], lc_mul(ctx, res[4], res[4]));
  OOM_T(r, terms[3], lc_mul(ctx, terms[0], terms[0]));
  for (int i = 0; i < 13 && !r->stopped; i++) {
    lc_tensor *p = i < 10 ? parts[i] : terms[i - 9], *s1, *acc;
    OOM_T(r, s1, lc_sum(ctx, p));
    if (!sum) { sum = s1; continue; }
    OOM_T(r, acc, lc_add(ctx, sum, s1));
    sum = acc;
  }
  OOM_S(r, lc_backward(ctx, sum, NULL, 0));
  lc_tensor *leaves[2] = {a, b};
  oom_finish(r, leaves, 2, grads, ngrads);
}

/* conv.c's four ops forward and backward: conv2d (groups, padding),
 * conv_transpose2d (stride), unfold and fold. */
static void prog_conv(oom_run *r, double *grads, int *ngrads) {
  lc_ctx *ctx = r->ctx;
  lc_tensor *x, *w, *b, *wt, *y, *z, *u, *v, *p, *s;
  OOM_T(r, x, lc_randn(ctx, LC_FLOAT64, 4, S(1, 2, 3, 3)));
  OOM_T(r, w, lc_randn(ctx, LC_FLOAT64, 4, S(2, 1, 2, 2)));
  OOM_T(r, b, lc_randn(ctx, LC_FLOAT64, 1, S(2)));
  OOM_T(r, wt, lc_randn(ctx, LC_FLOAT64, 4, S(2, 1, 2, 2)));
  if (r->stopped) return;
  x->requires_grad = w->requires_grad = b->requires_grad = wt->requires_grad = 1;
  lc_conv2d_args a = lc_conv2d_defaults(), t = lc_conv2d_defaults(), k = lc_conv2d_defaults();
  a.padding[0] = a.padding[1] = 1;
  a.groups = t.groups = 2;
  t.stride[0] = t.stride[1] = 2;
  k.stride[0] = k.stride[1] = 2;
  int64_t kernel[2] = {3, 3}, size[2] = {8, 8};
  OOM_T(r, y, lc_conv2d(ctx, x, w, b, &a));                  /* {1, 2, 4, 4} */
  OOM_T(r, z, lc_conv_transpose2d(ctx, y, wt, NULL, &t));    /* {1, 2, 8, 8} */
  OOM_T(r, u, lc_unfold(ctx, z, kernel, &k));                /* {1, 18, 9} */
  OOM_T(r, v, lc_fold(ctx, u, size, kernel, &k));
  OOM_T(r, p, lc_mul(ctx, v, v));
  OOM_T(r, s, lc_sum(ctx, p));
  OOM_S(r, lc_backward(ctx, s, NULL, 0));
  lc_tensor *leaves[4] = {x, w, b, wt};
  oom_finish(r, leaves, 4, grads, ngrads);
}

/* pool.c's ops forward and backward: max_pool2d (indices), max_unpool2d,
 * avg_pool2d (padding), interpolate and a training batch_norm. */
static void prog_pool(oom_run *r, double *grads, int *ngrads) {
  lc_ctx *ctx = r->ctx;
  lc_tensor *x, *w, *b, *y, *mu, *vr, *mp, *ix = NULL, *up, *ap, *it, *s1, *s2, *s3, *s4, *t1, *t2,
            *t3, *s;
  OOM_T(r, x, lc_randn(ctx, LC_FLOAT64, 4, S(1, 2, 3, 3)));
  OOM_T(r, w, lc_randn(ctx, LC_FLOAT64, 1, S(2)));
  OOM_T(r, b, lc_randn(ctx, LC_FLOAT64, 1, S(2)));
  if (r->stopped) return;
  x->requires_grad = w->requires_grad = b->requires_grad = 1;
  OOM_S(r, lc_batch_norm(ctx, x, w, b, NULL, NULL, 1, 1e-5, &y, &mu, &vr));
  if (!r->stopped) {
    r->keep[r->nkeep++] = y;
    r->keep[r->nkeep++] = mu;
    r->keep[r->nkeep++] = vr;
  }
  lc_pool2d_opts mo = lc_pool2d_defaults(2, 2), ao = lc_pool2d_defaults(3, 3);
  mo.stride[0] = mo.stride[1] = 1;
  ao.padding[0] = ao.padding[1] = 1;
  ao.stride[0] = ao.stride[1] = 2;
  lc_interp_opts io = {{4, 5}, LC_INTERP_LINEAR, 0, {0, 0}};
  OOM_T(r, mp, lc_max_pool2d(ctx, y, &mo, &ix));    /* {1, 2, 2, 2} */
  if (!r->stopped) r->keep[r->nkeep++] = ix;
  OOM_T(r, up, lc_max_unpool2d(ctx, mp, ix, 3, 3));
  OOM_T(r, ap, lc_avg_pool2d(ctx, y, &ao));         /* {1, 2, 2, 2} */
  OOM_T(r, it, lc_interpolate(ctx, y, &io));        /* {1, 2, 4, 5} */
  OOM_T(r, s1, lc_sum(ctx, up));
  OOM_T(r, t1, lc_mul(ctx, ap, ap));
  OOM_T(r, s2, lc_sum(ctx, t1));
  OOM_T(r, t2, lc_mul(ctx, it, it));
  OOM_T(r, s3, lc_sum(ctx, t2));
  OOM_T(r, t3, lc_add(ctx, s1, s2));
  OOM_T(r, s4, lc_add(ctx, t3, s3));
  OOM_T(r, s, lc_mul(ctx, s4, s4));
  OOM_S(r, lc_backward(ctx, s, NULL, 0));
  lc_tensor *leaves[3] = {x, w, b};
  oom_finish(r, leaves, 3, grads, ngrads);
}

/* Refuses the n-th allocation (and, if fail_after, all later ones) for
 * n = 1, 2, ... until the program runs through; checks every failure is
 * reported, a completed run gives the reference gradients, and all memory
 * comes back. Each mishandled refusal point is one failed check; the first
 * few are described. */
static void oom_sweep(const char *name, oom_prog prog, int fail_after) {
  double ref[64], got[64];
  int nref = 0, ngot = 0;
  char mode[64];
  snprintf(mode, sizeof mode, "%s, refusing %s", name,
           fail_after ? "allocation n and all after" : "allocation n only");
  { /* reference run */
    counter c;
    lc_ctx *ctx = new_ctx(&c);
    oom_run r = {ctx, &c, 0, 0, "", {0}, 0};
    prog(&r, ref, &nref);
    CHECKF(!r.stopped && !r.bad && nref > 0, "%s: the reference run failed: %s", mode, r.msg);
    for (int i = 0; i < r.nkeep; i++) lc_tensor_release(r.keep[i]);
    END_CTX(ctx, c);
  }
  long n, bad_runs = 0, first_bad = 0;
  for (n = 1; n < 100000; n++) {
    counter c;
    memset(&c, 0, sizeof c);
    c.fail_at = n;
    c.fail_after = fail_after;
    lc_ctx *ctx = lc_ctx_new(count_alloc, &c);
    g_checks++;
    if (!ctx) {
      if (!(c.refused > 0 && c.live == 0)) {
        g_failures++;
        fprintf(stderr, "%s:%d: [%s, n = %ld] lc_ctx_new returned NULL wrongly\n", __FILE__,
                __LINE__, mode, n);
      }
      continue;
    }
    oom_run r = {ctx, &c, 0, 0, "", {0}, 0};
    ngot = 0;
    prog(&r, got, &ngot);
    int done = !r.stopped;
    for (int i = 0; i < r.nkeep; i++) lc_tensor_release(r.keep[i]);
    lc_ctx_free(ctx);
    if (c.live != 0 && !r.bad++)
      snprintf(r.msg, sizeof r.msg, "%zu bytes not returned after releasing everything", c.live);
    if (done && !r.bad) {
      int same = ngot == nref;
      for (int i = 0; same && i < nref; i++)
        same = fabs(got[i] - ref[i]) <= 1e-12 * (1 + fabs(ref[i]));
      if (!same && !r.bad++)
        snprintf(r.msg, sizeof r.msg, "the run completed with other gradients than without "
                 "refusals");
    }
    if (r.bad) {
      g_failures++;
      if (!bad_runs) first_bad = n;
      if (bad_runs++ < 3)
        fprintf(stderr, "%s:%d: [%s, n = %ld] %s\n", __FILE__, __LINE__, mode, n, r.msg);
    }
    if (done && c.refused == 0) break;  /* nothing left to refuse */
  }
  if (bad_runs > 3)
    fprintf(stderr, "%s:%d: [%s] %ld of %ld refusal points mishandled (first n = %ld)\n",
            __FILE__, __LINE__, mode, bad_runs, n - 1, first_bad);
  CHECKF(n > 10 && n < 100000, "%s: sweep ended at %ld", mode, n);
}

static void test_oom_sweep(void) {
  oom_sweep("linear-tanh-sum", prog_mlp, 0);
  oom_sweep("linear-tanh-sum", prog_mlp, 1);
}

static void test_oom_sweep_wide(void) {
  oom_sweep("wide graph", prog_wide, 0);
  oom_sweep("wide graph", prog_wide, 1);
}

static void test_oom_sweep_linalg(void) {
  oom_sweep("linalg", prog_linalg, 0);
  oom_sweep("linalg", prog_linalg, 1);
}

static void test_oom_sweep_conv(void) {
  oom_sweep("conv", prog_conv, 0);
  oom_sweep("conv", prog_conv, 1);
}

static void test_oom_sweep_pool(void) {
  oom_sweep("pool", prog_pool, 0);
  oom_sweep("pool", prog_pool, 1);
}

/* Everything goes back after lc_ctx_free, in either order. */
static void test_memory_returned(void) {
  counter c;
  lc_ctx *ctx = new_ctx(&c);
  lc_tensor *x = lc_randn(ctx, LC_FLOAT32, 2, S(8, 8));
  x->requires_grad = 1;
  lc_tensor *y = lc_tanh(ctx, x), *s = lc_sum(ctx, y);
  CHECK(lc_ctx_live_bytes(ctx) > 0);
  CHECK(lc_backward(ctx, s, NULL, 1) == LC_OK);
  lc_ctx_free(ctx);      /* tensors still alive keep the memory... */
  CHECK(c.live > 0);
  rel(s, y, x, NULL);    /* ...until the last one goes */
  CHECKF(c.live == 0, "%zu bytes still allocated", c.live);
}

/* ============================================================================= */
/* the op registry                                                                 */
/* ============================================================================= */

static const lc_op_info *find_op(const char *name) {
  for (int i = 0; i < lc_op_count(); i++)
    if (!strcmp(lc_op_get(i)->name, name)) return lc_op_get(i);
  return NULL;
}

/* Every public op once, with a family and either a backward or a reason;
 * and what an op records is what its entry says. */
static void test_registry(void) {
  static const char *const families[] = {"elementwise", "reduce", "shape", "linalg", "attention",
                                         "pool", "conv", "loss", "rnn"};
  int n = lc_op_count();
  CHECKF(n > 80, "only %d ops listed", n);
  CHECK(lc_op_get(-1) == NULL && lc_op_get(n) == NULL);
  for (int i = 0; i < n; i++) {
    const lc_op_info *op = lc_op_get(i);
    CHECK(op && op->name && op->family);
    if (!op || !op->name || !op->family) continue;
    int known = 0;
    for (size_t f = 0; f < sizeof families / sizeof families[0]; f++)
      known |= !strcmp(op->family, families[f]);
    CHECKF(known, "%s: family %s", op->name, op->family);
    CHECKF((op->backward == NULL) != (op->nondiff == NULL), "%s: backward %s, nondiff %s",
           op->name, op->backward ? op->backward : "NULL", op->nondiff ? op->nondiff : "NULL");
    CHECKF(!op->backward || strstr(op->backward, "Backward"), "%s: %s", op->name, op->backward);
    int twice = 0;
    for (int j = 0; j < i; j++) twice |= !strcmp(lc_op_get(j)->name, op->name);
    CHECKF(!twice, "%s is listed twice", op->name);
  }
  static const struct { const char *name, *family, *backward; } want[] = {
      {"exp", "elementwise", "ExpBackward"},   {"tanh", "elementwise", "TanhBackward"},
      {"add", "elementwise", "AddBackward"},   {"pow", "elementwise", "PowBackward"},
      {"gelu", "elementwise", "GeluBackward"}, {"where", "elementwise", "WhereBackward"},
      {"to", "elementwise", "ToCopyBackward"}, {"gt", "elementwise", NULL},
      {"isnan", "elementwise", NULL},          {"sum", "reduce", "SumBackward"},
      {"max", "reduce", "MaxBackward"},        {"log_softmax", "reduce", "LogSoftmaxBackward"},
      {"argmax", "reduce", NULL},              {"cat", "shape", "CatBackward"},
      {"reshape", "shape", "ReshapeBackward"}, {"detach", "shape", NULL},
      {"matmul", "linalg", "MatmulBackward"},  {"linear", "linalg", "LinearBackward"},
      {"masked_softmax", "attention", "MaskedSoftmaxBackward"},
      {"max_pool2d", "pool", "MaxPool2DBackward"},
      {"lstm", "rnn", "LstmBackward"},         {"gru_cell", "rnn", "GruCellBackward"},
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    const lc_op_info *op = find_op(want[i].name);
    CHECKF(op != NULL, "%s is not listed", want[i].name);
    if (!op) continue;
    CHECKF(!strcmp(op->family, want[i].family), "%s: family %s", op->name, op->family);
    CHECKF(want[i].backward ? op->backward && !strcmp(op->backward, want[i].backward)
                            : op->backward == NULL && op->nondiff != NULL,
           "%s: backward %s", op->name, op->backward ? op->backward : "NULL");
  }
  /* a second kernel of an op (gelu's tanh form, pow by a number, sum over
   * a dim) is not an op of its own */
  CHECK(!find_op("gelu_tanh") && !find_op("pow_scalar") && !find_op("sum_dim"));

  counter c;
  lc_ctx *ctx = new_ctx(&c);
  lc_tensor *x = lc_randn(ctx, LC_FLOAT64, 2, S(2, 3)), *w = lc_randn(ctx, LC_FLOAT64, 2, S(4, 3));
  x->requires_grad = 1;
  lc_tensor *parts[2] = {x, x};
  double lo = 0;
  struct { const char *name; lc_tensor *y; } made[] = {
      {"exp", lc_exp(ctx, x)},                {"tanh", lc_tanh(ctx, x)},
      {"neg", lc_neg(ctx, x)},                {"log", lc_log(ctx, x)},
      {"mul", lc_mul(ctx, x, x)},             {"atan2", lc_atan2(ctx, x, x)},
      {"sum", lc_sum_dim(ctx, x, 1, 0)},      {"std", lc_std(ctx, x, 1)},
      {"softmax", lc_softmax(ctx, x, 1)},     {"cat", lc_cat(ctx, 2, parts, 0)},
      {"narrow", lc_narrow(ctx, x, 1, 0, 2)}, {"linear", lc_linear(ctx, x, w, NULL)},
      {"clamp", lc_clamp(ctx, x, &lo, NULL)}, {"gelu", lc_gelu(ctx, x, 1)},
      {"pow", lc_pow_scalar(ctx, x, 3)},      {"to", lc_to_dtype(ctx, x, LC_FLOAT32)},
      {"masked_softmax", lc_masked_softmax(ctx, x, NULL, 0.5)},
  };
  for (size_t i = 0; i < sizeof made / sizeof made[0]; i++) {
    const lc_op_info *op = find_op(made[i].name);
    const char *got = made[i].y ? lc_tensor_op_name(made[i].y) : NULL;
    CHECKF(op && op->backward && got && !strcmp(op->backward, got), "%s records %s",
           made[i].name, got ? got : "nothing");
    lc_tensor_release(made[i].y);
  }
  rel(x, w, NULL, NULL);
  END_CTX(ctx, c);
}


/* ============================================================================= */
/* second derivatives (LC_CREATE_GRAPH)                                            */
/* ============================================================================= */

/* f(x) for the checks below; each keeps its temporaries' graph alive only
 * through the result. */
typedef lc_tensor *(*f_of_x)(lc_ctx *c, lc_tensor *x);

/* The gradient of sum(u * f(x)) by x; with create, it carries a graph. */
static lc_tensor *grad_of(lc_ctx *c, f_of_x f, lc_tensor *x, lc_tensor *u, int create) {
  lc_tensor *y = f(c, x), *g = NULL;
  if (y && lc_grad_ex(c, y, u, create ? LC_CREATE_GRAPH : 0, 1, &x, &g) != LC_OK) g = NULL;
  lc_tensor_release(y);
  return g;
}

/* H v, the Hessian of sum(u * f(x)) times v, by differentiating the
 * gradient (made with LC_CREATE_GRAPH) again. NULL on failure. */
static lc_tensor *hvp(lc_ctx *c, f_of_x f, lc_tensor *x, lc_tensor *u, lc_tensor *v) {
  lc_tensor *g = grad_of(c, f, x, u, 1), *h = NULL;
  if (g && g->requires_grad && lc_grad_ex(c, g, v, 0, 1, &x, &h) != LC_OK) h = NULL;
  lc_tensor_release(g);
  return h;
}

/* x + e v as a fresh leaf that requires grad */
static lc_tensor *shifted(lc_ctx *c, lc_tensor *x, lc_tensor *v, double e) {
  int old = lc_ctx_set_grad_enabled(c, 0);
  lc_tensor *k = lc_scalar(c, LC_FLOAT64, e), *ev = lc_mul(c, v, k), *r = lc_add(c, x, ev);
  lc_ctx_set_grad_enabled(c, old);
  rel(k, ev, NULL, NULL);
  r->requires_grad = 1;
  return r;
}

/* H v against central differences of the gradient: (g(x + e v) - g(x - e v)) / 2e */
static void check_hvp(const char *name, f_of_x f, int ndim, const int64_t *shape, int positive) {
  counter c;
  lc_ctx *ctx = new_ctx(&c);
  lc_ctx_seed(ctx, 7);
  lc_tensor *x = lc_randn(ctx, LC_FLOAT64, ndim, shape);
  if (positive) {  /* for prod, norm: keep away from 0 */
    lc_tensor *a = lc_abs(ctx, x), *k = lc_scalar(ctx, LC_FLOAT64, 0.5);
    lc_tensor_release(x);
    x = lc_add(ctx, a, k);
    rel(a, k, NULL, NULL);
  }
  x->requires_grad = 1;
  lc_tensor *y = f(ctx, x);
  CHECKF(y != NULL, "%s: %s", name, lc_ctx_error(ctx));
  lc_tensor *u = y ? lc_randn(ctx, LC_FLOAT64, y->ndim, y->shape) : NULL;
  lc_tensor *v = lc_randn(ctx, LC_FLOAT64, ndim, shape);
  lc_tensor_release(y);
  lc_tensor *h = u ? hvp(ctx, f, x, u, v) : NULL;
  CHECKF(h != NULL, "%s: no H v: %s", name, lc_ctx_error(ctx));
  const double e = 1e-5;
  lc_tensor *xp = shifted(ctx, x, v, e), *xm = shifted(ctx, x, v, -e);
  lc_tensor *gp = u ? grad_of(ctx, f, xp, u, 0) : NULL, *gm = u ? grad_of(ctx, f, xm, u, 0) : NULL;
  if (h && gp && gm) {
    double *hv = read_all(h), *a = read_all(gp), *b = read_all(gm), worst = 0;
    for (int64_t i = 0; i < x->numel; i++) {
      double fd = (a[i] - b[i]) / (2 * e);
      worst = fmax(worst, fabs(hv[i] - fd) / (1 + fabs(fd)));
    }
    CHECKF(worst < 1e-6, "%s: H v differs from finite differences by %g", name, worst);
    free(hv);
    free(a);
    free(b);
  }
  rel(x, u, v, h);
  rel(xp, xm, gp, gm);
  END_CTX(ctx, c);
}

static lc_tensor *cube(lc_ctx *c, lc_tensor *t) {
  lc_tensor *t2 = t ? lc_mul(c, t, t) : NULL, *r = t2 ? lc_mul(c, t2, t) : NULL;
  lc_tensor_release(t2);
  return r;
}
/* op(x) cubed: a second derivative that goes through op's rule twice */
#define CUBED(name, expr)                                                        \
  static lc_tensor *name(lc_ctx *c, lc_tensor *x) {                              \
    lc_tensor *t = (expr), *r = cube(c, t);                                      \
    lc_tensor_release(t);                                                        \
    return r;                                                                    \
  }
static lc_tensor *h_tanh(lc_ctx *c, lc_tensor *x) { return lc_tanh(c, x); }
static lc_tensor *h_sigmoid(lc_ctx *c, lc_tensor *x) { return lc_sigmoid(c, x); }
static lc_tensor *h_exp(lc_ctx *c, lc_tensor *x) { return lc_exp(c, x); }
static lc_tensor *h_sin(lc_ctx *c, lc_tensor *x) { return lc_sin(c, x); }
static lc_tensor *h_cos(lc_ctx *c, lc_tensor *x) { return lc_cos(c, x); }
static lc_tensor *h_silu(lc_ctx *c, lc_tensor *x) { return lc_silu(c, x); }
static lc_tensor *h_gelu(lc_ctx *c, lc_tensor *x) { return lc_gelu(c, x, 0); }
static lc_tensor *h_gelu_tanh(lc_ctx *c, lc_tensor *x) { return lc_gelu(c, x, 1); }
static lc_tensor *h_softplus(lc_ctx *c, lc_tensor *x) { return lc_softplus(c, x, 2.0, 20.0); }
static lc_tensor *h_pow3(lc_ctx *c, lc_tensor *x) { return lc_pow_scalar(c, x, 3.0); }
static lc_tensor *h_log(lc_ctx *c, lc_tensor *x) { return lc_log(c, x); }
static lc_tensor *h_sqrt(lc_ctx *c, lc_tensor *x) { return lc_sqrt(c, x); }
static lc_tensor *h_rsqrt(lc_ctx *c, lc_tensor *x) { return lc_rsqrt(c, x); }
static lc_tensor *h_recip(lc_ctx *c, lc_tensor *x) { return lc_reciprocal(c, x); }
static lc_tensor *h_log1p(lc_ctx *c, lc_tensor *x) { return lc_log1p(c, x); }
static lc_tensor *h_expm1(lc_ctx *c, lc_tensor *x) { return lc_expm1(c, x); }
static lc_tensor *h_div(lc_ctx *c, lc_tensor *x) { lc_tensor *s = lc_sin(c, x), *r = lc_div(c, s, x); lc_tensor_release(s); return r; }
static lc_tensor *h_powxx(lc_ctx *c, lc_tensor *x) { return lc_pow(c, x, x); }
static lc_tensor *h_atan2(lc_ctx *c, lc_tensor *x) { lc_tensor *s = lc_sin(c, x), *r = lc_atan2(c, s, x); lc_tensor_release(s); return r; }
static lc_tensor *h_max(lc_ctx *c, lc_tensor *x) { lc_tensor *s = lc_sin(c, x), *q = lc_square(c, x), *r = lc_maximum(c, s, q); rel(s, q, NULL, NULL); return r; }
static lc_tensor *h_min(lc_ctx *c, lc_tensor *x) { lc_tensor *s = lc_sin(c, x), *q = lc_square(c, x), *r = lc_minimum(c, s, q); rel(s, q, NULL, NULL); return r; }
static lc_tensor *h_where(lc_ctx *c, lc_tensor *x) { lc_tensor *z = lc_scalar(c, LC_FLOAT64, 0), *m = lc_gt(c, x, z), *e = lc_exp(c, x), *s = lc_sin(c, x), *r = lc_where(c, m, e, s); rel(z, m, e, s); return r; }
static lc_tensor *h_clamp(lc_ctx *c, lc_tensor *x) { double lo = -0.5, hi = 0.7; lc_tensor *t = lc_clamp(c, x, &lo, &hi), *r = cube(c, t); lc_tensor_release(t); return r; }
static lc_tensor *h_softmax(lc_ctx *c, lc_tensor *x) { return lc_softmax(c, x, 1); }
static lc_tensor *h_softmax1(lc_ctx *c, lc_tensor *x) { return lc_softmax(c, x, 0); }
static lc_tensor *h_log_softmax1(lc_ctx *c, lc_tensor *x) { return lc_log_softmax(c, x, 0); }
static lc_tensor *h_log_softmax(lc_ctx *c, lc_tensor *x) { return lc_log_softmax(c, x, 0); }
static lc_tensor *h_lse(lc_ctx *c, lc_tensor *x) { return lc_logsumexp_dim(c, x, 1, 0); }
static lc_tensor *h_lse_all(lc_ctx *c, lc_tensor *x) { return lc_logsumexp(c, x); }
static lc_tensor *h_var(lc_ctx *c, lc_tensor *x) { return lc_var_dim(c, x, 1, 1.0, 1); }
static lc_tensor *h_std(lc_ctx *c, lc_tensor *x) { return lc_std(c, x, 0.0); }
static lc_tensor *h_norm2(lc_ctx *c, lc_tensor *x) { return lc_norm_dim(c, x, 2.0, 0, 0); }
static lc_tensor *h_norm3(lc_ctx *c, lc_tensor *x) { return lc_norm_dim(c, x, 3.0, 1, 1); }
static lc_tensor *h_prod(lc_ctx *c, lc_tensor *x) { return lc_prod_dim(c, x, 1, 0); }
static lc_tensor *h_prod_all(lc_ctx *c, lc_tensor *x) { return lc_prod(c, x); }
/* x with zeros in it (one in row 0, two in row 1): prod / x would be NaN */
static lc_tensor *h_prod_zeros(lc_ctx *c, lc_tensor *x) {
  lc_tensor *m = T64(c, S(3, 4), 2, 1, 1, 0, 1, 0, 1, 1, 0, 1, 1, 1, 1), *xm = lc_mul(c, x, m);
  lc_tensor *r = lc_prod_dim(c, xm, 1, 0);
  rel(m, xm, NULL, NULL);
  return r;
}
static lc_tensor *h_mean(lc_ctx *c, lc_tensor *x) { lc_tensor *t = lc_mean_dim(c, x, 0, 1), *r = cube(c, t); lc_tensor_release(t); return r; }
static lc_tensor *h_maxdim(lc_ctx *c, lc_tensor *x) { lc_tensor *v = NULL, *i = NULL; lc_max_dim(c, x, 1, 0, &v, &i); lc_tensor *r = cube(c, v); rel(v, i, NULL, NULL); return r; }
static lc_tensor *h_maxall(lc_ctx *c, lc_tensor *x) { lc_tensor *v = lc_max(c, x), *r = cube(c, v); lc_tensor_release(v); return r; }
CUBED(h_cumsum, lc_cumsum(c, x, 1))
CUBED(h_select, lc_select(c, x, 1, 2))
CUBED(h_narrow, lc_narrow(c, x, 1, 1, 2))
CUBED(h_slice, lc_slice(c, x, 1, 0, 4, 2))
CUBED(h_transpose, lc_transpose(c, x, 0, 1))
CUBED(h_permute, lc_permute(c, x, (const int[]){1, 0}))
CUBED(h_flip, lc_flip(c, x, 1, (const int[]){1}))
CUBED(h_repeat, lc_repeat(c, x, 3, S(2, 1, 2)))
CUBED(h_expand, lc_expand(c, x, 3, S(2, 3, 4)))
CUBED(h_reshape, lc_reshape(c, x, 2, S(4, 3)))
static lc_tensor *h_cat(lc_ctx *c, lc_tensor *x) { lc_tensor *s = lc_sin(c, x), *p[2] = {x, s}, *t = lc_cat(c, 2, p, 1), *r = cube(c, t); rel(s, t, NULL, NULL); return r; }
static lc_tensor *h_stack(lc_ctx *c, lc_tensor *x) { lc_tensor *s = lc_sin(c, x), *p[2] = {s, x}, *t = lc_stack(c, 2, p, 0), *r = cube(c, t); rel(s, t, NULL, NULL); return r; }
static lc_tensor *h_index_select(lc_ctx *c, lc_tensor *x) {
  lc_tensor *i = T64(c, S(3), 1, 2, 0, 2), *t = lc_index_select(c, x, 1, i), *r = cube(c, t);
  rel(i, t, NULL, NULL);
  return r;
}
static lc_tensor *h_gather(lc_ctx *c, lc_tensor *x) {
  lc_tensor *i = T64(c, S(3, 2), 2, 1, 0, 3, 3, 2, 0), *t = lc_gather(c, x, 1, i), *r = cube(c, t);
  rel(i, t, NULL, NULL);
  return r;
}
static lc_tensor *h_scatter_add(lc_ctx *c, lc_tensor *x) {
  lc_tensor *i = T64(c, S(3, 4), 2, 2, 0, 1, 2, 0, 1, 1, 0, 2, 2, 1, 0), *z = lc_zeros(c, LC_FLOAT64, 2, S(3, 4));
  lc_tensor *t = lc_scatter_add(c, z, 0, i, x), *r = cube(c, t);
  rel(i, z, t, NULL);
  return r;
}
static lc_tensor *h_masked_fill(lc_ctx *c, lc_tensor *x) {
  lc_tensor *m = T64(c, S(4), 1, 0, 1, 0, 0), *t = lc_masked_fill(c, x, m, 2.0), *r = cube(c, t);
  rel(m, t, NULL, NULL);
  return r;
}
static lc_tensor *h_matmul(lc_ctx *c, lc_tensor *x) {
  lc_tensor *t = lc_transpose(c, x, 0, 1), *m = lc_matmul(c, x, t), *r = lc_tanh(c, m);
  rel(t, m, NULL, NULL);
  return r;
}
static lc_tensor *h_mlp(lc_ctx *c, lc_tensor *x) {  /* x (3, 4) as the input of a tiny MLP */
  lc_ctx_seed(c, 11);
  lc_tensor *w1 = lc_randn(c, LC_FLOAT64, 2, S(5, 4)), *b1 = lc_randn(c, LC_FLOAT64, 1, S(5));
  lc_tensor *w2 = lc_randn(c, LC_FLOAT64, 2, S(2, 5));
  w1->requires_grad = 1;
  lc_tensor *h = lc_linear(c, x, w1, b1), *t = lc_tanh(c, h), *y = lc_linear(c, t, w2, NULL);
  rel(w1, b1, w2, h);
  lc_tensor_release(t);
  return y;
}

static void test_second_derivatives_fd(void) {
  static const struct { const char *name; f_of_x f; int positive; } cases[] = {
    {"tanh", h_tanh, 0}, {"sigmoid", h_sigmoid, 0}, {"exp", h_exp, 0}, {"sin", h_sin, 0},
    {"cos", h_cos, 0}, {"silu", h_silu, 0}, {"gelu", h_gelu, 0}, {"gelu tanh", h_gelu_tanh, 0},
    {"softplus", h_softplus, 0}, {"pow 3", h_pow3, 0}, {"log", h_log, 1}, {"sqrt", h_sqrt, 1},
    {"rsqrt", h_rsqrt, 1}, {"reciprocal", h_recip, 1}, {"log1p", h_log1p, 1},
    {"expm1", h_expm1, 0}, {"div", h_div, 1}, {"pow x^x", h_powxx, 1}, {"atan2", h_atan2, 1},
    {"maximum", h_max, 0}, {"minimum", h_min, 0}, {"where", h_where, 0}, {"clamp", h_clamp, 0},
    {"softmax", h_softmax, 0}, {"log_softmax", h_log_softmax, 0}, {"logsumexp dim", h_lse, 0},
    {"logsumexp", h_lse_all, 0}, {"var", h_var, 0}, {"std", h_std, 0}, {"norm 2", h_norm2, 0},
    {"norm 3", h_norm3, 1}, {"prod", h_prod, 0}, {"prod all", h_prod_all, 1},
    {"prod with zeros", h_prod_zeros, 0}, {"mean", h_mean, 0}, {"max dim", h_maxdim, 0},
    {"max", h_maxall, 0}, {"cumsum", h_cumsum, 0}, {"select", h_select, 0},
    {"narrow", h_narrow, 0}, {"slice", h_slice, 0}, {"transpose", h_transpose, 0},
    {"permute", h_permute, 0}, {"flip", h_flip, 0}, {"repeat", h_repeat, 0},
    {"expand", h_expand, 0}, {"reshape", h_reshape, 0}, {"cat", h_cat, 0}, {"stack", h_stack, 0},
    {"index_select", h_index_select, 0}, {"gather", h_gather, 0},
    {"scatter_add", h_scatter_add, 0}, {"masked_fill", h_masked_fill, 0},
    {"matmul", h_matmul, 0}, {"linear mlp", h_mlp, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    check_hvp(cases[i].name, cases[i].f, 2, S(3, 4), cases[i].positive);
}

/* d2/dx2 against the textbook values, elementwise (the seed of ones makes
 * the second gradient the diagonal of the Hessian), in float64 and float32. */
static void test_second_derivatives_analytic(void) {
  for (int dt = 0; dt < 2; dt++) {
    counter c;
    lc_ctx *ctx = new_ctx(&c);
    double tol = dt == LC_FLOAT64 ? 1e-12 : 1e-5;
    lc_tensor *x = tensor_of(ctx, (lc_dtype)dt, 1, S(5), D(-1.5, -0.3, 0.0, 0.4, 2.0));
    x->requires_grad = 1;
    double xs[5] = {-1.5, -0.3, 0.0, 0.4, 2.0};
    static const f_of_x fs[] = {h_tanh, h_exp, h_sigmoid, h_pow3, h_sin, cube};
    static const char *const names[] = {"tanh", "exp", "sigmoid", "pow 3", "sin", "x*x*x"};
    for (size_t k = 0; k < sizeof fs / sizeof fs[0]; k++) {
      lc_tensor *y = fs[k](ctx, x), *d1 = NULL, *d2 = NULL;
      CHECK(y && lc_grad_ex(ctx, y, NULL, LC_CREATE_GRAPH, 1, &x, &d1) == LC_OK && d1);
      CHECKF(d1 && d1->requires_grad && d1->dtype == x->dtype, "%s: d1 has no graph", names[k]);
      CHECK(d1 && lc_grad_ex(ctx, d1, NULL, 0, 1, &x, &d2) == LC_OK && d2);
      if (d2) {
        double v[5];
        lc_tensor_read(d2, v);
        for (int i = 0; i < 5; i++) {
          double t = tanh(xs[i]), s = 1 / (1 + exp(-xs[i])), want = 0;
          switch (k) {
            case 0: want = -2 * t * (1 - t * t); break;
            case 1: want = exp(xs[i]); break;
            case 2: want = s * (1 - s) * (1 - 2 * s); break;
            case 3: case 5: want = 6 * xs[i]; break;
            case 4: want = -sin(xs[i]); break;
          }
          CHECKF(fabs(v[i] - want) <= tol * (1 + fabs(want)), "%s %s: d2(%g) = %.17g, want %.17g",
                 lc_dtype_name((lc_dtype)dt), names[k], xs[i], v[i], want);
        }
      }
      rel(y, d1, d2, NULL);
    }
    lc_tensor_release(x);
    END_CTX(ctx, c);
  }
}

/* Hessian-vector products with a closed form: softmax, log_softmax, and the
 * mixed second derivatives of matmul and linear. */
static void test_second_derivatives_hvp(void) {
  counter c;
  lc_ctx *ctx = new_ctx(&c);
  lc_ctx_seed(ctx, 3);
  /* softmax, log_softmax over a 1-D x: L = sum(u * f(x)) */
  for (int is_log = 0; is_log < 2; is_log++) {
    lc_tensor *x = lc_randn(ctx, LC_FLOAT64, 1, S(5)), *u = lc_randn(ctx, LC_FLOAT64, 1, S(5));
    lc_tensor *v = lc_randn(ctx, LC_FLOAT64, 1, S(5));
    x->requires_grad = 1;
    lc_tensor *h = hvp(ctx, is_log ? h_log_softmax1 : h_softmax1, x, u, v);
    CHECKF(h != NULL, "%s: %s", is_log ? "log_softmax" : "softmax", lc_ctx_error(ctx));
    if (h) {
      double xv[5], uv[5], vv[5], hv[5], s[5], z = 0, us = 0, vs = 0, vsa = 0, U = 0;
      lc_tensor_read(x, xv);
      lc_tensor_read(u, uv);
      lc_tensor_read(v, vv);
      lc_tensor_read(h, hv);
      for (int i = 0; i < 5; i++) z += exp(xv[i]);
      for (int i = 0; i < 5; i++) { s[i] = exp(xv[i]) / z; us += uv[i] * s[i]; vs += vv[i] * s[i]; U += uv[i]; }
      for (int i = 0; i < 5; i++) vsa += vv[i] * s[i] * (uv[i] - us);
      for (int j = 0; j < 5; j++) {
        double a = uv[j] - us;
        double want = is_log ? -U * (vv[j] * s[j] - s[j] * vs)
                             : vv[j] * s[j] * a - s[j] * vsa - s[j] * a * vs;
        CHECK_NEAR(hv[j], want, 1e-12);
      }
    }
    rel(x, u, v, h);
  }
  /* matmul: L = sum(u * (a @ b)); d/db of (dL/da . v) = v^T u */
  {
    lc_tensor *a = lc_randn(ctx, LC_FLOAT64, 2, S(2, 3)), *b = lc_randn(ctx, LC_FLOAT64, 2, S(3, 4));
    lc_tensor *u = lc_randn(ctx, LC_FLOAT64, 2, S(2, 4)), *v = lc_randn(ctx, LC_FLOAT64, 2, S(2, 3));
    a->requires_grad = b->requires_grad = 1;
    lc_tensor *y = lc_matmul(ctx, a, b), *ga = NULL, *hb = NULL;
    CHECK(lc_grad_ex(ctx, y, u, LC_CREATE_GRAPH, 1, &a, &ga) == LC_OK);
    CHECK(ga && lc_grad_ex(ctx, ga, v, 0, 1, &b, &hb) == LC_OK && hb);
    lc_tensor *vt = lc_transpose(ctx, v, 0, 1), *want = lc_matmul(ctx, vt, u);
    if (hb && want) {
      double h[12], w[12];
      lc_tensor_read(hb, h);
      lc_tensor_read(want, w);
      for (int i = 0; i < 12; i++) CHECK_NEAR(h[i], w[i], 1e-12);
    }
    rel(a, b, u, v);
    rel(y, ga, hb, vt);
    lc_tensor_release(want);
  }
  /* linear: L = sum(u * (x w^T + b)); d/dw of (dL/dx . v) = u^T v */
  {
    lc_tensor *x = lc_randn(ctx, LC_FLOAT64, 2, S(3, 4)), *w = lc_randn(ctx, LC_FLOAT64, 2, S(2, 4));
    lc_tensor *b = lc_randn(ctx, LC_FLOAT64, 1, S(2));
    lc_tensor *u = lc_randn(ctx, LC_FLOAT64, 2, S(3, 2)), *v = lc_randn(ctx, LC_FLOAT64, 2, S(3, 4));
    x->requires_grad = w->requires_grad = b->requires_grad = 1;
    lc_tensor *y = lc_linear(ctx, x, w, b), *gx = NULL, *hw = NULL;
    CHECK(lc_grad_ex(ctx, y, u, LC_CREATE_GRAPH, 1, &x, &gx) == LC_OK);
    CHECK(gx && lc_grad_ex(ctx, gx, v, 0, 1, &w, &hw) == LC_OK && hw);
    lc_tensor *ut = lc_transpose(ctx, u, 0, 1), *want = lc_matmul(ctx, ut, v);
    if (hw && want) {
      double h[8], wv[8];
      lc_tensor_read(hw, h);
      lc_tensor_read(want, wv);
      for (int i = 0; i < 8; i++) CHECK_NEAR(h[i], wv[i], 1e-12);
    }
    rel(x, w, b, u);
    rel(v, y, gx, hw);
    rel(ut, want, NULL, NULL);
  }
  END_CTX(ctx, c);
}

/* lc_backward_ex leaves a .grad with a graph; without LC_CREATE_GRAPH the
 * old behaviour holds (no graph, the rules record nothing). */
static void test_backward_create_graph(void) {
  counter c;
  lc_ctx *ctx = new_ctx(&c);
  lc_tensor *x = T64(ctx, S(3), 1, 0.5, -1.0, 2.0);
  x->requires_grad = 1;
  lc_tensor *y = cube(ctx, x), *s = lc_sum(ctx, y);
  CHECK(lc_backward_ex(ctx, s, NULL, LC_CREATE_GRAPH) == LC_OK);
  CHECK(x->grad && x->grad->requires_grad && !lc_tensor_is_leaf(x->grad));
  CHECK_VALUES(x->grad, 1e-12, 0.75, 3.0, 12.0);
  lc_tensor *g1 = x->grad, *s2 = g1 ? lc_sum(ctx, g1) : NULL, *d2 = NULL;
  /* (the gradient's graph runs through the first one: retain it) */
  CHECK(s2 && lc_grad_ex(ctx, s2, NULL, LC_RETAIN_GRAPH, 1, &x, &d2) == LC_OK);
  CHECK_VALUES(d2, 1e-12, 3.0, -6.0, 12.0);
  x->grad = NULL;  /* the grad's graph holds x: break the cycle before x goes */
  rel(g1, s2, d2, NULL);
  /* a plain backward still runs, and records nothing */
  CHECK(lc_backward(ctx, s, NULL, 0) == LC_OK);
  CHECK(x->grad && !x->grad->requires_grad && lc_tensor_is_leaf(x->grad));
  CHECK_VALUES(x->grad, 1e-12, 0.75, 3.0, 12.0);
  CHECK(lc_ctx_grad_enabled(ctx));  /* the mode comes back */
  rel(x, y, s, NULL);
  END_CTX(ctx, c);
}

/* ============================================================================= */

typedef struct test {
  const char *name;
  void (*fn)(void);
} test;

/* ============================================================================= */
/* integer and bool dtypes                                                         */
/* ============================================================================= */

static lc_tensor *ints(lc_ctx *ctx, lc_dtype dt, int64_t n, const int64_t *v) {
  lc_tensor *t = lc_empty(ctx, dt, 1, &n);
  for (int64_t i = 0; t && i < n; i++) lc_tensor_set_int(t, &i, v[i]);
  return t;
}

static int64_t int_at(const lc_tensor *t, int64_t i) { return lc_tensor_get_int(t, &i); }

/* A rule that leaves out a gradient an input wants fails the backward: it
 * must not stop with the other inputs' gradients silently missing. */
static int rule_forgets(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  (void)ctx;
  (void)n;
  lc_tensor_retain(g);
  grads[0] = g;  /* input 2's is left out */
  return 1;
}

static void test_backward_missing_gradient(void) {
  counter c;
  lc_ctx *ctx = new_ctx(&c);
  static const lc_op_def forgets = {"ForgetsBackward", rule_forgets, 0};
  lc_tensor *a = T64(ctx, S(2), 1, 1.0, 2.0), *b = T64(ctx, S(2), 1, 3.0, 4.0);
  a->requires_grad = b->requires_grad = 1;
  lc_tensor *y = lc_zeros(ctx, LC_FLOAT64, 1, S(2));
  lc_tensor *in[2] = {a, b};
  CHECK(lc_attach_node(ctx, y, &forgets, 2, in, NULL, NULL) == LC_OK);
  lc_tensor *s = lc_sum(ctx, y);
  CHECK(lc_backward(ctx, s, NULL, 0) == LC_ESTATE);
  CHECK(strstr(lc_ctx_error(ctx), "ForgetsBackward gave no gradient for its input 2") != NULL);
  CHECK(a->grad == NULL && b->grad == NULL);  /* nothing delivered */
  rel(a, b, y, s);
  END_CTX(ctx, c);
}

static void test_dtypes(void) {
  counter c;
  lc_ctx *ctx = new_ctx(&c);
  CHECK(strcmp(lc_dtype_name(LC_UINT8), "uint8") == 0 && lc_dtype_name((lc_dtype)99) == NULL);
  CHECK(lc_dtype_size(LC_BOOL) == 1 && lc_dtype_size(LC_INT32) == 4 && lc_dtype_size(LC_INT64) == 8);
  CHECK(lc_promote_types(LC_UINT8, LC_INT32) == LC_INT32);
  CHECK(lc_promote_types(LC_BOOL, LC_UINT8) == LC_UINT8);
  CHECK(lc_promote_types(LC_INT64, LC_FLOAT32) == LC_FLOAT32);

  /* result_type: dims decide, then 0-d tensors of a higher category, then numbers */
  lc_tensor *i64 = ints(ctx, LC_INT64, 3, S(INT64_MAX, -7, 9007199254740993));
  lc_tensor *u8 = ints(ctx, LC_UINT8, 3, S(250, 0, 3));
  lc_tensor *z64 = lc_scalar(ctx, LC_FLOAT64, 2.5), *zi = lc_scalar(ctx, LC_INT64, 10);
  lc_tensor *num = lc_number(ctx, 2.5);
  CHECK(num && num->is_number && num->dtype == LC_FLOAT64 && num->ndim == 0);
  /* a whole number is int64 (an int64 tensor + 2 stays integer), exact past 2^53 */
  lc_tensor *whole = lc_number(ctx, -3.0), *big = lc_number_int(ctx, INT64_MAX);
  CHECK(whole && whole->is_number && whole->dtype == LC_INT64 && lc_tensor_get_int(whole, NULL) == -3);
  CHECK(big && big->is_number && lc_tensor_get_int(big, NULL) == INT64_MAX);
  CHECK(lc_result_type(ctx, 2, (lc_tensor *[]){u8, whole}) == LC_UINT8);
  lc_tensor_release(whole);
  lc_tensor_release(big);
  lc_tensor *f32 = lc_zeros(ctx, LC_FLOAT32, 1, S(3));
  CHECK(lc_result_type(ctx, 2, (lc_tensor *[]){f32, z64}) == LC_FLOAT32);
  CHECK(lc_result_type(ctx, 2, (lc_tensor *[]){i64, z64}) == LC_FLOAT64);
  CHECK(lc_result_type(ctx, 2, (lc_tensor *[]){u8, zi}) == LC_UINT8);
  CHECK(lc_result_type(ctx, 2, (lc_tensor *[]){i64, num}) == LC_FLOAT32);

  /* exact, wrapping arithmetic: int64 max + 1 is min, uint8 250 + 10 is 4 */
  lc_tensor *one = lc_scalar(ctx, LC_INT64, 1);
  lc_tensor *s = lc_add(ctx, i64, one);
  CHECK(s && s->dtype == LC_INT64 && int_at(s, 0) == INT64_MIN && int_at(s, 2) == 9007199254740994);
  lc_tensor *ten = lc_scalar(ctx, LC_INT64, 10);
  lc_tensor *w = lc_add(ctx, u8, ten);  /* uint8 with a 0-d int64: uint8 */
  CHECK(w && w->dtype == LC_UINT8 && int_at(w, 0) == 4 && int_at(w, 2) == 13);
  /* floor division and remainder take the divisor's sign, fmod the dividend's */
  lc_tensor *two = lc_scalar(ctx, LC_INT64, -2);
  lc_tensor *q = lc_floor_divide(ctx, i64, two), *r = lc_remainder(ctx, i64, two);
  lc_tensor *fm = lc_fmod(ctx, i64, two);
  CHECK(q && int_at(q, 1) == 3 && r && int_at(r, 1) == -1 && fm && int_at(fm, 1) == -1);
  lc_tensor *zero = lc_scalar(ctx, LC_INT64, 0);
  CHECK(lc_floor_divide(ctx, i64, zero) == NULL && strstr(lc_ctx_error(ctx), "division by zero"));
  /* true division and float-only ops compute integers in the default float dtype */
  lc_tensor *dv = lc_div(ctx, u8, ten), *ex = lc_exp(ctx, zero);
  CHECK(dv && dv->dtype == LC_FLOAT32 && ex && ex->dtype == LC_FLOAT32);
  /* comparisons are bool; sum of ints is int64; argmax int64 */
  lc_tensor *m = lc_gt(ctx, i64, zero), *sum = lc_sum(ctx, u8), *am = lc_argmax(ctx, i64);
  CHECK(m && m->dtype == LC_BOOL && int_at(m, 0) == 1 && int_at(m, 1) == 0);
  CHECK(sum && sum->dtype == LC_INT64 && lc_tensor_get_int(sum, NULL) == 253);
  CHECK(am && am->dtype == LC_INT64 && lc_tensor_get_int(am, NULL) == 0);
  /* conversions as PyTorch on x86: -1.7 -> -1, NaN -> INT64_MIN, -1 -> uint8 255 */
  lc_tensor *fl = T64(ctx, S(3), 1, -1.7, NAN, -1.0);
  lc_tensor *to64 = lc_to_dtype(ctx, fl, LC_INT64), *to8 = lc_to_dtype(ctx, fl, LC_UINT8);
  lc_tensor *tob = lc_to_dtype(ctx, fl, LC_BOOL);
  CHECK(to64 && int_at(to64, 0) == -1 && int_at(to64, 1) == INT64_MIN);
  CHECK(to8 && int_at(to8, 2) == 255 && tob && int_at(tob, 1) == 1);
  /* nonzero and index_put_ */
  lc_tensor *nz = lc_nonzero(ctx, m);
  CHECK(nz && nz->ndim == 2 && nz->shape[0] == 2 && nz->shape[1] == 1 &&
        lc_tensor_get_int(nz, S(1, 0)) == 2);
  lc_tensor *pos = ints(ctx, LC_INT64, 2, S(2, 0));
  lc_tensor *seven = lc_scalar(ctx, LC_INT64, 7);
  CHECK(lc_index_put_(ctx, u8, 1, pos, seven) == LC_OK && int_at(u8, 0) == 7 && int_at(u8, 2) == 7);
  lc_tensor *bad = ints(ctx, LC_INT64, 1, S(3));
  CHECK(lc_index_put_(ctx, u8, 1, bad, seven) == LC_EARG && int_at(u8, 1) == 0);
  /* only float results record a graph */
  lc_tensor *x = T64(ctx, S(2), 1, 0.5, -0.5);
  if (x) x->requires_grad = 1;
  lc_tensor *xi = lc_to_dtype(ctx, x, LC_INT64), *xm = lc_gt(ctx, x, zero);
  CHECK(xi && !xi->requires_grad && !xi->node && xm && !xm->requires_grad);
  lc_tensor *all[] = {i64, u8, z64, zi, num, f32, one, s, ten, w, two, q, r, fm, zero, dv, ex,
                      m, sum, am, fl, to64, to8, tob, nz, pos, seven, bad, x, xi, xm};
  for (size_t k = 0; k < sizeof all / sizeof all[0]; k++) lc_tensor_release(all[k]);
  END_CTX(ctx, c);
}

static const test tests[] = {
  {"dtypes", test_dtypes},
  {"creation", test_creation},
  {"random seeds", test_random_seeds},
  {"random distribution", test_random_distribution},
  {"views", test_views},
  {"broadcast values", test_broadcast_values},
  {"matmul", test_matmul},
  {"linear", test_linear},
  {"conv", test_conv},
  {"rnn", test_rnn},
  {"reductions", test_reductions},
  {"gradcheck", test_gradcheck},
  {"grad float32", test_grad_float32},
  {"grad mixed dtype", test_grad_mixed_dtype},
  {"long chain", test_long_chain},
  {"used twice, accumulate", test_used_twice_and_accumulate},
  {"backward twice", test_backward_twice},
  {"backward seed dtype", test_backward_seed_dtype},
  {"grad mode", test_grad_mode},
  {"errors", test_errors},
  {"memory returned", test_memory_returned},
  {"oom sweep", test_oom_sweep},
  {"oom sweep wide", test_oom_sweep_wide},
  {"oom sweep linalg", test_oom_sweep_linalg},
  {"oom sweep conv", test_oom_sweep_conv},
  {"oom sweep pool", test_oom_sweep_pool},
  {"registry", test_registry},
  {"second derivatives, analytic", test_second_derivatives_analytic},
  {"second derivatives, H v", test_second_derivatives_hvp},
  {"second derivatives, finite differences", test_second_derivatives_fd},
  {"backward create_graph", test_backward_create_graph},
  {"backward missing gradient", test_backward_missing_gradient},
};

int main(int argc, char **argv) {
  int ntests = (int)(sizeof tests / sizeof tests[0]), failed_tests = 0;
  for (int i = 0; i < ntests; i++) {
    if (argc > 1 && !strstr(tests[i].name, argv[1])) continue;
    int before = g_failures;
    tests[i].fn();
    if (g_failures != before) {
      failed_tests++;
      fprintf(stderr, "-- test \"%s\": %d failed checks\n", tests[i].name, g_failures - before);
    }
  }
  printf("test_core: %d checks, %d failed (%d of %d tests failing)\n", g_checks, g_failures,
         failed_tests, ntests);
  return g_failures ? 1 : 0;
}

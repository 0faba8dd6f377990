/* random.c: sampling from the context's generator (xoshiro256**, seeded by
 * lc_ctx_seed): permutations, categorical draws, Bernoulli and Poisson
 * variables, and the in-place fills PyTorch has (normal_, exponential_,
 * bernoulli_, random_).
 *
 * Every draw takes a fixed number of generator steps per value where it can,
 * so a result depends only on the seed and the calls before it, the same on
 * every platform. The numbers are not PyTorch's (its generator is another),
 * only their distributions are. None of these record a graph. */
#include "internal.h"

#include <math.h>
#include <string.h>

/* U[0, 1) with 53 random bits: exact, never 1. */
static double u01(lc_ctx *ctx) { return (double)(lc__rng_next(ctx) >> 11) * 0x1.0p-53; }

/* An integer uniform in [0, range), range >= 1: rejection keeps it exact. */
static uint64_t below(lc_ctx *ctx, uint64_t range) {
  uint64_t limit = UINT64_MAX - UINT64_MAX % range, r;
  do r = lc__rng_next(ctx); while (r >= limit);
  return r % range;
}

/* N(0, 1) by Box-Muller, one value per two draws (as lc_randn). */
static double normal01(lc_ctx *ctx) {
  double u1 = 1.0 - u01(ctx), u2 = u01(ctx);
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static int need_float(lc_ctx *ctx, const lc_tensor *t, const char *what) {
  if (lc_dtype_is_float(t->dtype)) return 1;
  lc__fail(ctx, LC_EARG, "%s needs a float tensor, got %s", what, lc_dtype_name(t->dtype));
  return 0;
}

/* Sets every element of t, in row-major order, to EXPR (evaluated once per
 * element), through its strides: the fills work on views too. */
#define FILL_EACH(t, EXPR)                                                         \
  do {                                                                             \
    int64_t idx_[LC_MAX_DIMS] = {0};                                               \
    for (int64_t k_ = 0; k_ < (t)->numel; k_++) {                                  \
      lc_tensor_set((t), idx_, (EXPR));                                            \
      for (int d_ = (t)->ndim - 1; d_ >= 0; d_--) {                                \
        if (++idx_[d_] < (t)->shape[d_]) break;                                    \
        idx_[d_] = 0;                                                              \
      }                                                                            \
    }                                                                              \
  } while (0)

lc_tensor *lc_randperm(lc_ctx *ctx, int64_t n, lc_dtype dtype) {
  if (n < 0) {
    lc__fail(ctx, LC_EARG, "n must be non-negative, got %lld", (long long)n);
    return NULL;
  }
  lc_tensor *t = lc_empty(ctx, LC_INT64, 1, &n);
  if (!t) return NULL;
  int64_t *p = (int64_t *)lc_tensor_data(t);
  for (int64_t i = 0; i < n; i++) p[i] = i;
  for (int64_t i = n - 1; i > 0; i--) {  /* Fisher-Yates */
    int64_t j = (int64_t)below(ctx, (uint64_t)i + 1), s = p[i];
    p[i] = p[j];
    p[j] = s;
  }
  if (dtype == LC_INT64) return t;
  lc_tensor *c = lc_to_dtype(ctx, t, dtype);
  lc_tensor_release(t);
  return c;
}

lc_tensor *lc_multinomial(lc_ctx *ctx, lc_tensor *probs, int64_t n, int replacement) {
  if (probs->ndim < 1 || probs->ndim > 2) {
    char s[LC_SHAPE_STR];
    lc_shape_str(s, sizeof s, probs->ndim, probs->shape);
    lc__fail(ctx, LC_ESHAPE, "probabilities must be 1-D or 2-D, got shape %s", s);
    return NULL;
  }
  int64_t rows = probs->ndim == 2 ? probs->shape[0] : 1, cats = probs->shape[probs->ndim - 1];
  if (n < 0 || (!replacement && n > cats)) {
    lc__fail(ctx, LC_EARG, "cannot draw %lld samples %s from %lld categories", (long long)n,
             replacement ? "with replacement" : "without replacement", (long long)cats);
    return NULL;
  }
  lc_tensor *p = lc__contig_raw(ctx, probs);
  lc_tensor *f = p ? lc_to_dtype(ctx, p, LC_FLOAT64) : NULL;
  lc_tensor_release(p);
  if (!f) return NULL;
  int64_t shape[2] = {rows, n};
  lc_tensor *out = probs->ndim == 2 ? lc_empty(ctx, LC_INT64, 2, shape)
                                    : lc_empty(ctx, LC_INT64, 1, &n);
  size_t wbytes = sizeof(double) * (size_t)(cats ? cats : 1);
  double *w = out ? (double *)lc__alloc(ctx, wbytes) : NULL;
  if (!w) {
    lc_tensor_release(f);
    lc_tensor_release(out);
    return NULL;
  }
  const double *pv = (const double *)lc_tensor_data(f);
  int64_t *o = (int64_t *)lc_tensor_data(out);
  for (int64_t r = 0; r < rows; r++) {
    double total = 0;
    for (int64_t c = 0; c < cats; c++) {
      double v = pv[r * cats + c];
      if (!(v >= 0) || v == INFINITY) {
        lc__fail(ctx, LC_EARG, "probabilities must be finite and non-negative, got %g in row %lld",
                 v, (long long)r + 1);
        goto fail;
      }
      w[c] = v;
      total += v;
    }
    for (int64_t s = 0; s < n; s++) {
      if (!(total > 0)) {
        lc__fail(ctx, LC_EARG, "row %lld has %s", (long long)r + 1,
                 s ? "fewer nonzero probabilities than the samples asked for"
                   : "no nonzero probability");
        goto fail;
      }
      /* the first category whose running sum passes u * total */
      double u = u01(ctx) * total, acc = 0;
      int64_t pick = cats - 1;
      for (int64_t c = 0; c < cats; c++) {
        acc += w[c];
        if (u < acc && w[c] > 0) {
          pick = c;
          break;
        }
      }
      while (w[pick] <= 0) pick--;  /* rounding at the very end: the last nonzero */
      o[r * n + s] = pick;
      if (!replacement) {
        total -= w[pick];
        w[pick] = 0;
        if (total < 0) total = 0;
      }
    }
  }
  lc__free(ctx, w, wbytes);
  lc_tensor_release(f);
  return out;
fail:
  lc__free(ctx, w, wbytes);
  lc_tensor_release(f);
  lc_tensor_release(out);
  return NULL;
}

lc_tensor *lc_bernoulli(lc_ctx *ctx, lc_tensor *p) {
  if (!need_float(ctx, p, "bernoulli")) return NULL;
  lc_tensor *out = lc_empty(ctx, p->dtype, p->ndim, p->shape);
  if (!out) return NULL;
  int64_t idx[LC_MAX_DIMS] = {0};
  for (int64_t k = 0; k < p->numel; k++) {
    double q = lc_tensor_get(p, idx);
    if (!(q >= 0 && q <= 1)) {
      lc__fail(ctx, LC_EARG, "probabilities must be in [0, 1], got %g", q);
      lc_tensor_release(out);
      return NULL;
    }
    lc_tensor_set(out, idx, u01(ctx) < q ? 1.0 : 0.0);
    for (int d = p->ndim - 1; d >= 0; d--) {
      if (++idx[d] < p->shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

/* A Poisson variable: multiplication of uniforms for small rates, Hormann's
 * transformed rejection (PTRS, as NumPy) for rates from 10 on. */
static double poisson1(lc_ctx *ctx, double lam) {
  if (lam == 0) return 0;
  if (lam < 10) {
    double limit = exp(-lam), prod = u01(ctx);
    double k = 0;
    while (prod > limit) {
      prod *= u01(ctx);
      k += 1;
    }
    return k;
  }
  double slam = sqrt(lam), loglam = log(lam), b = 0.931 + 2.53 * slam;
  double a = -0.059 + 0.02483 * b, invalpha = 1.1239 + 1.1328 / (b - 3.4);
  double vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    double u = u01(ctx) - 0.5, v = u01(ctx), us = 0.5 - fabs(u);
    double k = floor((2 * a / us + b) * u + lam + 0.43);
    if (us >= 0.07 && v <= vr) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (log(v) + log(invalpha) - log(a / (us * us) + b) <= -lam + k * loglam - lgamma(k + 1))
      return k;
  }
}

lc_tensor *lc_poisson(lc_ctx *ctx, lc_tensor *rates) {
  if (!need_float(ctx, rates, "poisson")) return NULL;
  lc_tensor *out = lc_empty(ctx, rates->dtype, rates->ndim, rates->shape);
  if (!out) return NULL;
  int64_t idx[LC_MAX_DIMS] = {0};
  for (int64_t k = 0; k < rates->numel; k++) {
    double lam = lc_tensor_get(rates, idx);
    if (!(lam >= 0 && lam < 1e15)) {
      lc__fail(ctx, LC_EARG, "rates must be finite and non-negative, got %g", lam);
      lc_tensor_release(out);
      return NULL;
    }
    lc_tensor_set(out, idx, poisson1(ctx, lam));
    for (int d = rates->ndim - 1; d >= 0; d--) {
      if (++idx[d] < rates->shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

lc_status lc_normal_(lc_ctx *ctx, lc_tensor *t, double mean, double std) {
  if (!need_float(ctx, t, "normal_")) return ctx->status;
  if (!(std >= 0)) return lc__fail(ctx, LC_EARG, "std must be non-negative, got %g", std);
  FILL_EACH(t, mean + std * normal01(ctx));
  return LC_OK;
}

lc_status lc_exponential_(lc_ctx *ctx, lc_tensor *t, double lambd) {
  if (!need_float(ctx, t, "exponential_")) return ctx->status;
  if (!(lambd > 0)) return lc__fail(ctx, LC_EARG, "lambd must be positive, got %g", lambd);
  FILL_EACH(t, -log(1.0 - u01(ctx)) / lambd);
  return LC_OK;
}

lc_status lc_bernoulli_(lc_ctx *ctx, lc_tensor *t, double p) {
  if (!(p >= 0 && p <= 1)) return lc__fail(ctx, LC_EARG, "p must be in [0, 1], got %g", p);
  FILL_EACH(t, u01(ctx) < p ? 1.0 : 0.0);
  return LC_OK;
}

lc_status lc_random_(lc_ctx *ctx, lc_tensor *t, int64_t from, int64_t to) {
  if (to <= from)
    return lc__fail(ctx, LC_EARG, "empty range [%lld, %lld)", (long long)from, (long long)to);
  uint64_t range = (uint64_t)to - (uint64_t)from;
  int64_t idx[LC_MAX_DIMS] = {0};
  for (int64_t k = 0; k < t->numel; k++) {
    lc_tensor_set_int(t, idx, (int64_t)((uint64_t)from + below(ctx, range)));
    for (int d = t->ndim - 1; d >= 0; d--) {
      if (++idx[d] < t->shape[d]) break;
      idx[d] = 0;
    }
  }
  return LC_OK;
}

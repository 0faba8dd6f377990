/* loss.c: the losses of loss.def, each a forward kernel and a fused
 * backward rule.
 *
 * CTC follows PyTorch 1.13's CPU kernel (LossCTC.cpp) step for step, in
 * double precision for both dtypes: the forward keeps log alpha (N, T,
 * 2 S + 1) and the log-probabilities in the node (they are what the rule
 * needs; T N C + N T (2 S + 1) doubles), the rule computes log beta per
 * sample and the gradient from both. */
#include "internal.h"

#include <math.h>
#include <string.h>

static int rule_ctc_loss(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);

enum {
#define LOSS(name, ...) LS_##name,
#include "loss.def"
  LS_COUNT
};

/* No replay (plans refuse ctc_loss): its targets and lengths are integer
 * tensors copied into the node's data when it runs, not inputs, and their
 * values size that data (the longest target); a plan would compute the
 * traced targets' loss for every new batch. */
static const lc__opdef LS[] = {
#define LOSS(name, Bw, rule) [LS_##name] = {{#Bw "Backward", rule}, LS_##name, NULL},
#include "loss.def"
};
_Static_assert(sizeof LS / sizeof LS[0] == LS_COUNT, "a loss row without its table entry");

/* ---- CTC ---------------------------------------------------------------------------- */

/* What the forward hands its rule: sizes, the lengths and targets as
 * int64, the log-probabilities and log alpha as doubles, and each sample's
 * nll before zero_infinity. One allocation. */
typedef struct ctc_data {
  size_t bytes;
  int64_t n, t, c, w;          /* batch, steps, classes, w = 2 S + 1 (S: the longest target) */
  int64_t blank;
  int zero_infinity;
  int64_t *il, *tl, *toff;     /* (N) input length, target length, offset of the targets in tg */
  int64_t *tg;                 /* the targets, flat */
  double *lp;                  /* (T, N, C) */
  double *nll;                 /* (N) */
  double *alpha;               /* (N, T, W) */
} ctc_data;

static void ctc_free(lc_ctx *ctx, void *p) {
  if (p) lc__free(ctx, p, ((ctc_data *)p)->bytes);
}

static size_t align8(size_t b) { return (b + 7) & ~(size_t)7; }

static double lse2(double a, double b) {
  double m = a > b ? a : b;
  if (m == -INFINITY) return -INFINITY;
  return log(exp(a - m) + exp(b - m)) + m;
}

/* log(exp(a) + exp(b) + exp(c)), PyTorch's way: the max taken out (0 when all are -inf). */
static double lse3(double a, double b, double c) {
  double m = a > b ? a : b;
  if (c > m) m = c;
  if (m == -INFINITY) m = 0;
  return log(exp(a - m) + exp(b - m) + exp(c - m)) + m;
}

/* The class of state s of the extended target (blank, t1, blank, t2, ..., blank). */
static int64_t prime(const int64_t *tg, int64_t s, int64_t blank) {
  return (s & 1) ? tg[s / 2] : blank;
}

static int64_t int_at(const lc_tensor *t, int64_t i) {
  return lc__int_load(t->dtype, lc_tensor_data(t), i);
}

static int check_int64(lc_ctx *ctx, const lc_tensor *t, const char *what) {
  if (t->dtype == LC_INT64) return 1;
  lc__fail(ctx, LC_EARG, "%s must be int64, got %s", what, lc_dtype_name(t->dtype));
  return 0;
}

/* Checks the arguments and copies them into a new ctc_data; NULL after lc__fail. */
static ctc_data *ctc_prepare(lc_ctx *ctx, lc_tensor *lp, lc_tensor *targets, lc_tensor *il, lc_tensor *tl,
                             int64_t blank, int zero_infinity) {
  char s1[LC_SHAPE_STR], s2[LC_SHAPE_STR];
  if (!lc_dtype_is_float(lp->dtype)) {
    lc__fail(ctx, LC_EARG, "log_probs must be float32 or float64, got %s", lc_dtype_name(lp->dtype));
    return NULL;
  }
  if (lp->ndim != 3) {
    lc_shape_str(s1, sizeof s1, lp->ndim, lp->shape);
    lc__fail(ctx, LC_ESHAPE, "log_probs must be (T, N, C), got %s", s1);
    return NULL;
  }
  if (!check_int64(ctx, targets, "targets") || !check_int64(ctx, il, "input_lengths") ||
      !check_int64(ctx, tl, "target_lengths"))
    return NULL;
  int64_t T = lp->shape[0], N = lp->shape[1], C = lp->shape[2];
  if (il->ndim != 1 || il->shape[0] != N || tl->ndim != 1 || tl->shape[0] != N) {
    lc_shape_str(s1, sizeof s1, il->ndim, il->shape);
    lc_shape_str(s2, sizeof s2, tl->ndim, tl->shape);
    lc__fail(ctx, LC_ESHAPE, "input_lengths %s and target_lengths %s must both be (%lld), one per sample",
             s1, s2, (long long)N);
    return NULL;
  }
  if (blank < 0 || blank >= C) {
    lc__fail(ctx, LC_EARG, "blank %lld is out of range for %lld classes", (long long)blank, (long long)C);
    return NULL;
  }
  if (targets->ndim != 1 && !(targets->ndim == 2 && targets->shape[0] == N)) {
    lc_shape_str(s1, sizeof s1, targets->ndim, targets->shape);
    lc__fail(ctx, LC_ESHAPE, "targets must be (N, S) padded or (sum of target_lengths), got %s "
             "for N = %lld", s1, (long long)N);
    return NULL;
  }
  lc_tensor *tgc = lc__contig_raw(ctx, targets), *ilc = tgc ? lc__contig_raw(ctx, il) : NULL;
  lc_tensor *tlc = ilc ? lc__contig_raw(ctx, tl) : NULL, *lpc = tlc ? lc__contig_raw(ctx, lp) : NULL;
  ctc_data *d = NULL;
  if (!lpc) goto done;
  int64_t smax = 0, sum = 0;
  for (int64_t b = 0; b < N; b++) {
    int64_t ib = int_at(ilc, b), tb = int_at(tlc, b);
    if (ib < 0 || ib > T) {
      lc__fail(ctx, LC_EARG, "input_lengths[%lld] is %lld, expected 0..%lld (T)", (long long)b,
               (long long)ib, (long long)T);
      goto done;
    }
    if (tb < 0 || (targets->ndim == 2 && tb > targets->shape[1])) {
      lc__fail(ctx, LC_EARG, "target_lengths[%lld] is %lld, expected 0..%lld", (long long)b,
               (long long)tb, (long long)(targets->ndim == 2 ? targets->shape[1] : INT64_MAX));
      goto done;
    }
    if (tb > smax) smax = tb;
    sum += tb;
  }
  if (targets->ndim == 1 && targets->shape[0] != sum) {
    lc__fail(ctx, LC_ESHAPE, "concatenated targets have %lld values, target_lengths sum to %lld",
             (long long)targets->shape[0], (long long)sum);
    goto done;
  }
  int64_t W = 2 * smax + 1;
  size_t bytes = align8(sizeof(ctc_data)) + align8(sizeof(int64_t) * (size_t)(3 * N)) +
                 align8(sizeof(int64_t) * (size_t)targets->numel) + sizeof(double) * (size_t)(T * N * C + N) +
                 sizeof(double) * (size_t)(N * T * W);
  d = (ctc_data *)lc__alloc(ctx, bytes);
  if (!d) goto done;
  char *p = (char *)d + align8(sizeof(ctc_data));
  d->bytes = bytes;
  d->n = N, d->t = T, d->c = C, d->w = W, d->blank = blank, d->zero_infinity = zero_infinity != 0;
  d->il = (int64_t *)p, d->tl = d->il + N, d->toff = d->tl + N;
  p += align8(sizeof(int64_t) * (size_t)(3 * N));
  d->tg = (int64_t *)p;
  p += align8(sizeof(int64_t) * (size_t)targets->numel);
  d->lp = (double *)p, d->nll = d->lp + T * N * C, d->alpha = d->nll + N;
  for (int64_t i = 0; i < targets->numel; i++) d->tg[i] = int_at(tgc, i);
  for (int64_t b = 0, off = 0; b < N; b++) {
    d->il[b] = int_at(ilc, b);
    d->tl[b] = int_at(tlc, b);
    d->toff[b] = targets->ndim == 2 ? b * targets->shape[1] : off;
    off += d->tl[b];
    for (int64_t k = 0; k < d->tl[b]; k++) {
      int64_t v = d->tg[d->toff[b] + k];
      if (v < 0 || v >= C || v == blank) {
        lc__fail(ctx, LC_EARG, "target %lld of sample %lld is %lld, expected a class in 0..%lld other "
                 "than blank (%lld)", (long long)k, (long long)b, (long long)v, (long long)(C - 1),
                 (long long)blank);
        ctc_free(ctx, d);
        d = NULL;
        goto done;
      }
    }
  }
  const void *src = lc_tensor_data(lpc);
  for (int64_t i = 0; i < T * N * C; i++)
    d->lp[i] = lp->dtype == LC_FLOAT32 ? (double)((const float *)src)[i] : ((const double *)src)[i];
done:
  lc_tensor_release(tgc);
  lc_tensor_release(ilc);
  lc_tensor_release(tlc);
  lc_tensor_release(lpc);
  return d;
}

/* log alpha of sample b and its nll. */
static double ctc_alpha(ctc_data *d, int64_t b) {
  int64_t N = d->n, C = d->c, W = d->w, Tb = d->il[b], L = d->tl[b], S2 = 2 * L + 1;
  const int64_t *tg = d->tg + d->toff[b];
  double *la = d->alpha + b * d->t * W;
  const double *lp = d->lp;
#define LP(t, c) lp[((t) * N + b) * C + (c)]
  for (int64_t i = 0; i < Tb * W; i++) la[i] = -INFINITY;
  if (Tb == 0) return L == 0 ? 0.0 : INFINITY;
  la[0] = LP(0, d->blank);
  if (L > 0) la[1] = LP(0, tg[0]);
  for (int64_t t = 1; t < Tb; t++) {
    const double *prev = la + (t - 1) * W;
    double *cur = la + t * W;
    for (int64_t s = 0; s < S2; s++) {
      int64_t c = prime(tg, s, d->blank);
      double a1 = prev[s], a2 = s > 0 ? prev[s - 1] : -INFINITY;
      double a3 = (s > 1 && prime(tg, s - 2, d->blank) != c) ? prev[s - 2] : -INFINITY;
      cur[s] = lse3(a1, a2, a3) + LP(t, c);
    }
  }
#undef LP
  const double *last = la + (Tb - 1) * W;
  if (L == 0) return -last[0];
  double l1 = last[2 * L], l2 = last[2 * L - 1], m = l1 > l2 ? l1 : l2;
  if (m == -INFINITY) m = 0;
  return -(log(exp(l1 - m) + exp(l2 - m)) + m);
}

lc_tensor *lc_ctc_loss(lc_ctx *ctx, lc_tensor *log_probs, lc_tensor *targets, lc_tensor *input_lengths,
                       lc_tensor *target_lengths, int64_t blank, int zero_infinity) {
  ctc_data *d = ctc_prepare(ctx, log_probs, targets, input_lengths, target_lengths, blank, zero_infinity);
  if (!d) return NULL;
  int64_t N = d->n;
  lc_tensor *out = lc_empty(ctx, log_probs->dtype, 1, &N);
  if (!out) {
    ctc_free(ctx, d);
    return NULL;
  }
  void *o = lc_tensor_data(out);
  for (int64_t b = 0; b < N; b++) {
    double nll = ctc_alpha(d, b);
    d->nll[b] = nll;
    if (d->zero_infinity && isinf(nll)) nll = 0;
    if (out->dtype == LC_FLOAT32) ((float *)o)[b] = (float)nll;
    else ((double *)o)[b] = nll;
  }
  out = lc__finish(ctx, out, &LS[LS_ctc_loss].def, 1, &log_probs);
  if (out && out->node) {
    out->node->user = d;
    out->node->user_free = ctc_free;
  } else {
    ctc_free(ctx, d);
  }
  return out;
}

/* The beta recursion of sample b into lb (T, W) and the log of sum(alpha beta)
 * per (step, class) into lcab (T, C), then the gradient into gp (T, N, C). */
static void ctc_grad_sample(ctc_data *d, int64_t b, double gr, double *lb, double *lcab, double *gp) {
  int64_t N = d->n, C = d->c, W = d->w, Tb = d->il[b], L = d->tl[b];
  const int64_t *tg = d->tg + d->toff[b];
  const double *la = d->alpha + b * d->t * W, *lp = d->lp;
  double nll = d->nll[b];
#define LP(t, c) lp[((t) * N + b) * C + (c)]
  for (int64_t t = 0; t < d->t; t++)
    for (int64_t c = 0; c < C; c++) gp[(t * N + b) * C + c] = 0;
  if (Tb == 0 || (d->zero_infinity && isinf(nll))) return;
  for (int64_t i = 0; i < Tb * W; i++) lb[i] = -INFINITY;
  for (int64_t i = 0; i < Tb * C; i++) lcab[i] = -INFINITY;
  int64_t e = (Tb - 1) * W;
  lb[e + 2 * L] = LP(Tb - 1, d->blank);
  lcab[(Tb - 1) * C + d->blank] = la[e + 2 * L] + lb[e + 2 * L];
  if (L > 0) {
    int64_t c = tg[L - 1];
    lb[e + 2 * L - 1] = LP(Tb - 1, c);
    lcab[(Tb - 1) * C + c] = la[e + 2 * L - 1] + lb[e + 2 * L - 1];
  }
  for (int64_t t = Tb - 2; t >= 0; t--) {
    const double *next = lb + (t + 1) * W;
    double *cur = lb + t * W;
    for (int64_t s = 2 * L; s >= 0; s--) {
      int64_t c = prime(tg, s, d->blank);
      double b1 = next[s], b2 = s < 2 * L ? next[s + 1] : -INFINITY;
      double b3 = (s < 2 * L - 1 && prime(tg, s + 2, d->blank) != c) ? next[s + 2] : -INFINITY;
      cur[s] = lse3(b1, b2, b3) + LP(t, c);
      double lab = la[t * W + s] + cur[s], *acc = &lcab[t * C + c];
      *acc = *acc == -INFINITY ? lab : lse2(*acc, lab);
    }
  }
  for (int64_t t = 0; t < Tb; t++)
    for (int64_t c = 0; c < C; c++) {
      double v = LP(t, c);
      gp[(t * N + b) * C + c] = (exp(v) - exp(lcab[t * C + c] + nll - v)) * gr;
    }
#undef LP
}

/* The fused gradient of every sample (see lc_loss.h for its form). */
static int rule_ctc_loss(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  ctc_data *d = (ctc_data *)n->user;
  lc_tensor *lp = n->inputs[0];
  if (lc_ctx_grad_enabled(ctx)) {
    lc__fail(ctx, LC_ESTATE, "ctc_loss: its gradient cannot be differentiated again (create_graph), as in PyTorch");
    return 0;
  }
  int64_t T = d->t, N = d->n, C = d->c, W = d->w;
  size_t tmp_bytes = sizeof(double) * (size_t)(T * W + T * C + T * N * C + 1);  /* + 1: never 0 bytes */
  double *tmp = (double *)lc__alloc(ctx, tmp_bytes);
  lc_tensor *gc = tmp ? lc__contig_raw(ctx, g) : NULL;
  lc_tensor *out = gc ? lc_empty(ctx, lp->dtype, 3, lp->shape) : NULL;
  if (out) {
    double *lb = tmp, *lcab = lb + T * W, *gp = lcab + T * C;
    const void *gv = lc_tensor_data(gc);
    for (int64_t b = 0; b < N; b++) {
      double gr = gc->dtype == LC_FLOAT32 ? (double)((const float *)gv)[b] : ((const double *)gv)[b];
      ctc_grad_sample(d, b, gr, lb, lcab, gp);
    }
    void *o = lc_tensor_data(out);
    for (int64_t i = 0; i < T * N * C; i++) {
      if (out->dtype == LC_FLOAT32) ((float *)o)[i] = (float)gp[i];
      else ((double *)o)[i] = gp[i];
    }
  }
  if (tmp) lc__free(ctx, tmp, tmp_bytes);
  lc_tensor_release(gc);
  grads[0] = out;
  return out != NULL;
}

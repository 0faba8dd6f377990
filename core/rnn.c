/* rnn.c: the recurrent ops (the rows of rnn.def): one forward, rnn_run, for
 * layers and cells of every mode, and one rule, rule_rnn, backpropagation
 * through the whole sequence. The gate kernels are rnn_kernels.h's.
 *
 * A layer's rows are addressed as packed sequences are: step t's rows are
 * off[t] .. off[t] + bs[t] of x and of the output, and a time-major (T, B,
 * I) input is the packing with every bs[t] = B. At step t only the first
 * bs[t] rows of the state advance, so a sequence that has ended (forward)
 * or not yet begun (reverse) keeps its state. The op's result is one packed
 * tensor (out, then h_n, then c_n) handed out as views, so the rule receives
 * their gradients side by side (zeros for results nobody used). */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void tanh_f64(int64_t n, double *o, const double *a) {
  for (int64_t i = 0; i < n; i++) o[i] = tanh(a[i]);
}

static void sig_f64(int64_t n, double *o, const double *a) {
  for (int64_t i = 0; i < n; i++) o[i] = 1 / (1 + exp(-a[i]));
}

#define REAL float
#define SFX f32
#define SIGV(n, o, a) lc__vmap_f32(LC_VF_SIGMOID, (n), (o), (a), LC_SIMD_BEST)
#define TANHV(n, o, a) lc__tanh_f32((n), (o), (a), 1)
#include "rnn_kernels.h"
#undef REAL
#undef SFX
#undef SIGV
#undef TANHV
#define REAL double
#define SFX f64
#define SIGV sig_f64
#define TANHV tanh_f64
#include "rnn_kernels.h"
#undef REAL
#undef SFX
#undef SIGV
#undef TANHV

static int rule_rnn(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int replay_rnn(lc_ctx *ctx, lc_node *n);

enum {
#define RNN(name, ...) RN_##name,
#include "rnn.def"
  RN_COUNT
};

static const lc__opdef RN[] = {
#define RNN(name, Bw, mode, cell) [RN_##name] = {{#Bw "Backward", rule_rnn}, RN_##name, replay_rnn},
#include "rnn.def"
};
_Static_assert(sizeof RN / sizeof RN[0] == RN_COUNT, "an rnn row without its table entry");

static const struct { lc_rnn_mode mode; int cell; } ROWS[] = {
#define RNN(name, Bw, mode, cell) [RN_##name] = {mode, cell},
#include "rnn.def"
};

/* What the rule needs beyond the node's inputs, owned by the node. */
typedef struct rnn_info {
  size_t bytes;
  lc_rnn_mode mode;
  int cell, reverse;
  int64_t T, B, I, H, P, N, G, W;
  int iwih, iwhh, ic0, ibih, ibhh, iwhr;  /* indices in the node's inputs, -1 absent */
  int64_t *bs, *off;                      /* [T] each, after the struct */
} rnn_info;

static void info_free(lc_ctx *ctx, void *p) { lc__free(ctx, p, ((rnn_info *)p)->bytes); }

static int64_t gates_of(lc_rnn_mode m) { return m == LC_RNN_LSTM ? 4 : m == LC_RNN_GRU ? 3 : 1; }

/* the offset of hprev in a row's workspace, and the row's width */
static int64_t hprev_col(lc_rnn_mode m, int64_t H) {
  return m == LC_RNN_LSTM ? 6 * H : m == LC_RNN_GRU ? 4 * H : 0;
}
static int64_t ws_width(lc_rnn_mode m, int64_t H, int64_t P) {
  return m == LC_RNN_LSTM ? 6 * H + P : m == LC_RNN_GRU ? 5 * H : 2 * H;
}

/* ---- checks ---------------------------------------------------------------------- */

static int want_shape(lc_ctx *ctx, const lc_tensor *t, const char *name, int ndim, int64_t d0,
                      int64_t d1, const char *why) {
  int ok = t->ndim == ndim && t->shape[0] == d0 && (ndim < 2 || t->shape[1] == d1);
  if (!ok) {
    char s[LC_SHAPE_STR], e[LC_SHAPE_STR];
    int64_t es[2] = {d0, d1};
    lc_shape_str(s, sizeof s, t->ndim, t->shape);
    lc_shape_str(e, sizeof e, ndim, es);
    lc__fail(ctx, LC_ESHAPE, "%s must have shape %s (%s), got %s", name, e, why, s);
  }
  return ok;
}

static int same_float(lc_ctx *ctx, const lc_tensor *x, const lc_tensor *t, const char *name) {
  if (!t) return 1;
  if (!lc_dtype_is_float(t->dtype)) {
    lc__fail(ctx, LC_EARG, "%s must be a float32 or float64 tensor, got %s", name,
             lc_dtype_name(t->dtype));
    return 0;
  }
  if (t->dtype != x->dtype) {
    lc__fail(ctx, LC_EARG, "%s must have the input's dtype %s, got %s", name,
             lc_dtype_name(x->dtype), lc_dtype_name(t->dtype));
    return 0;
  }
  return 1;
}

/* Checks every operand and fills the sizes of *in (bs and off excepted). */
static int rnn_check(lc_ctx *ctx, rnn_info *in, lc_tensor *x, lc_tensor *h0, lc_tensor *c0,
                     lc_tensor *w_ih, lc_tensor *w_hh, lc_tensor *b_ih, lc_tensor *b_hh,
                     lc_tensor *w_hr, const int64_t *bs, int64_t nsteps) {
  const char *hn = in->cell ? "h" : "h0", *cn = in->cell ? "c" : "c0";
  char sx[LC_SHAPE_STR];
  lc_shape_str(sx, sizeof sx, x->ndim, x->shape);
  if (!same_float(ctx, x, x, "input") || !same_float(ctx, x, h0, hn) ||
      !same_float(ctx, x, c0, cn) || !same_float(ctx, x, w_ih, "weight_ih") ||
      !same_float(ctx, x, w_hh, "weight_hh") || !same_float(ctx, x, b_ih, "bias_ih") ||
      !same_float(ctx, x, b_hh, "bias_hh") || !same_float(ctx, x, w_hr, "weight_hr"))
    return 0;
  int want_nd = in->cell || bs ? 2 : 3;
  if (x->ndim != want_nd) {
    lc__fail(ctx, LC_ESHAPE, "input must be %s, got shape %s",
             in->cell ? "2-D (batch, input_size)"
                      : bs ? "2-D (rows of the packed batch, input_size)"
                           : "3-D (seq_len, batch, input_size)", sx);
    return 0;
  }
  if ((in->mode == LC_RNN_LSTM) != (c0 != NULL)) {
    lc__fail(ctx, LC_EARG, in->mode == LC_RNN_LSTM ? "an LSTM needs its cell state %s"
                                                   : "%s: only an LSTM has a cell state", cn);
    return 0;
  }
  if (w_hr && (in->mode != LC_RNN_LSTM || in->cell)) {
    lc__fail(ctx, LC_EARG, "weight_hr: only an LSTM layer has a projection");
    return 0;
  }
  if ((b_ih == NULL) != (b_hh == NULL)) {
    lc__fail(ctx, LC_EARG, "bias_ih and bias_hh go together: give both or neither");
    return 0;
  }
  in->G = gates_of(in->mode);
  in->I = x->shape[x->ndim - 1];
  if (w_ih->ndim != 2 || w_ih->shape[0] % in->G || w_ih->shape[0] == 0) {
    char s[LC_SHAPE_STR];
    lc_shape_str(s, sizeof s, w_ih->ndim, w_ih->shape);
    lc__fail(ctx, LC_ESHAPE, "weight_ih must be 2-D with %lld * hidden_size rows, got shape %s",
             (long long)in->G, s);
    return 0;
  }
  in->H = w_ih->shape[0] / in->G;
  in->P = w_hr ? w_hr->shape[0] : in->H;
  if (w_ih->shape[1] != in->I) {
    char s[LC_SHAPE_STR];
    lc_shape_str(s, sizeof s, w_ih->ndim, w_ih->shape);
    lc__fail(ctx, LC_ESHAPE, "weight_ih %s does not fit input %s (input_size %lld)", s, sx,
             (long long)in->I);
    return 0;
  }
  int64_t GH = in->G * in->H;
  if (bs) {
    int64_t sum = 0;
    if (nsteps < 1) {
      lc__fail(ctx, LC_EARG, "batch_sizes must hold at least one step");
      return 0;
    }
    for (int64_t t = 0; t < nsteps; t++) {
      if (bs[t] < 1 || (t > 0 && bs[t] > bs[t - 1])) {
        lc__fail(ctx, LC_EARG, "batch_sizes must be positive and non-increasing, got %lld at step %lld"
                 " after %lld", (long long)bs[t], (long long)t + 1, (long long)(t ? bs[t - 1] : 0));
        return 0;
      }
      sum += bs[t];
    }
    if (sum != x->shape[0]) {
      lc__fail(ctx, LC_ESHAPE, "batch_sizes add up to %lld rows, but input %s has %lld",
               (long long)sum, sx, (long long)x->shape[0]);
      return 0;
    }
    in->T = nsteps;
    in->B = bs[0];
    in->N = sum;
  } else if (in->cell) {
    in->T = 1;
    in->B = x->shape[0];
    in->N = in->B;
  } else {
    in->T = x->shape[0];
    in->B = x->shape[1];
    in->N = in->T * in->B;
  }
  if (in->T < 1 || in->B < 1) {
    lc__fail(ctx, LC_ESHAPE, "input %s: the sequence length and the batch must be at least 1", sx);
    return 0;
  }
  char why[64];
  snprintf(why, sizeof why, "batch %lld, size %lld", (long long)in->B, (long long)in->P);
  if (!want_shape(ctx, h0, hn, 2, in->B, in->P, why)) return 0;
  snprintf(why, sizeof why, "batch %lld, hidden_size %lld", (long long)in->B, (long long)in->H);
  if (c0 && !want_shape(ctx, c0, cn, 2, in->B, in->H, why)) return 0;
  snprintf(why, sizeof why, "%lld * hidden_size, %s %lld", (long long)in->G,
           w_hr ? "proj_size" : "hidden_size", (long long)in->P);
  if (!want_shape(ctx, w_hh, "weight_hh", 2, GH, in->P, why)) return 0;
  snprintf(why, sizeof why, "%lld * hidden_size", (long long)in->G);
  if (b_ih && !want_shape(ctx, b_ih, "bias_ih", 1, GH, 0, why)) return 0;
  if (b_hh && !want_shape(ctx, b_hh, "bias_hh", 1, GH, 0, why)) return 0;
  if (w_hr && (w_hr->ndim != 2 || w_hr->shape[1] != in->H || w_hr->shape[0] < 1 ||
               w_hr->shape[0] >= in->H)) {
    char s[LC_SHAPE_STR];
    lc_shape_str(s, sizeof s, w_hr->ndim, w_hr->shape);
    lc__fail(ctx, LC_ESHAPE, "weight_hr must have shape (proj_size, hidden_size %lld) with "
             "0 < proj_size < hidden_size, got %s", (long long)in->H, s);
    return 0;
  }
  in->W = ws_width(in->mode, in->H, in->P);
  return 1;
}

/* ---- forward -------------------------------------------------------------------------- */

static char *at(lc_tensor *t, int64_t i) {
  return (char *)lc_tensor_data(t) + (size_t)i * lc_dtype_size(t->dtype);
}

/* dst's rows [rows, n) = v (n), each */
static void fill_rows(lc_dtype dt, void *dst, int64_t rows, int64_t n, const void *v, int add) {
  size_t es = lc_dtype_size(dt);
  for (int64_t r = 0; r < rows; r++) {
    if (!add) {
      memcpy((char *)dst + (size_t)(r * n) * es, v, (size_t)n * es);
    } else if (dt == LC_FLOAT32) {
      float *d = (float *)dst + r * n;
      for (int64_t j = 0; j < n; j++) d[j] += ((const float *)v)[j];
    } else {
      double *d = (double *)dst + r * n;
      for (int64_t j = 0; j < n; j++) d[j] += ((const double *)v)[j];
    }
  }
}

static lc_tensor *buf(lc_ctx *ctx, lc_dtype dt, int64_t rows, int64_t cols) {
  int64_t s[2] = {rows, cols > 0 ? cols : 1};
  return lc_empty(ctx, dt, 2, s);
}

/* Runs the recurrence: fills the packed result R and the workspace ws, of
 * N rows for the backward (record), else of B rows that every step reuses.
 * The operands are contiguous. */
static int rnn_compute(lc_ctx *ctx, const rnn_info *in, lc_tensor *x, lc_tensor *h0,
                       lc_tensor *c0, lc_tensor *w_ih, lc_tensor *w_hh, lc_tensor *b_ih,
                       lc_tensor *b_hh, lc_tensor *w_hr, lc_tensor *R, lc_tensor *ws, int record) {
  lc_dtype dt = x->dtype;
  size_t es = lc_dtype_size(dt);
  int64_t H = in->H, P = in->P, GH = in->G * in->H, W = in->W, B = in->B, N = in->N;
  lc_rnn_mode mode = in->mode;
  int gru = mode == LC_RNN_GRU;
  lc_tensor *xg = buf(ctx, dt, N, GH);
  lc_tensor *gh = xg && gru ? buf(ctx, dt, B, GH) : NULL;
  lc_tensor *h = (xg && (!gru || gh)) ? buf(ctx, dt, B, P) : NULL;
  lc_tensor *c = h ? buf(ctx, dt, B, H) : NULL;
  lc_tensor *r = c && w_hr ? buf(ctx, dt, B, H) : NULL;
  int ok = c && (!w_hr || r);
  if (ok) {
    /* every step's input projection in one GEMM, the biases (all of them
     * but GRU's b_hh, which r scales) added first */
    if (b_ih && b_hh) {  /* rnn_check: both or neither */
      fill_rows(dt, lc_tensor_data(xg), N, GH, lc_tensor_data(b_ih), 0);
      if (!gru) fill_rows(dt, lc_tensor_data(xg), N, GH, lc_tensor_data(b_hh), 1);
    }
    lc__k_gemm(dt, 0, 1, N, GH, in->I, 1.0, lc_tensor_data(x), in->I, lc_tensor_data(w_ih),
               in->I, b_ih ? 1.0 : 0.0, lc_tensor_data(xg), GH);
    memcpy(lc_tensor_data(h), lc_tensor_data(h0), (size_t)(B * P) * es);
    if (c0) memcpy(lc_tensor_data(c), lc_tensor_data(c0), (size_t)(B * H) * es);
    int64_t hcol = hprev_col(mode, H);
    for (int64_t s = 0; s < in->T; s++) {
      int64_t t = in->reverse ? in->T - 1 - s : s, b = in->bs[t], o = in->off[t];
      char *wrow = at(ws, record ? o * W : 0);
      for (int64_t j = 0; j < b; j++)
        memcpy(wrow + (size_t)(j * W + hcol) * es, at(h, j * P), (size_t)P * es);
      if (gru) {
        if (b_hh) fill_rows(dt, lc_tensor_data(gh), b, GH, lc_tensor_data(b_hh), 0);
        lc__k_gemm(dt, 0, 1, b, GH, P, 1.0, lc_tensor_data(h), P, lc_tensor_data(w_hh), P,
                   b_hh ? 1.0 : 0.0, lc_tensor_data(gh), GH);
      } else {
        lc__k_gemm(dt, 0, 1, b, GH, P, 1.0, lc_tensor_data(h), P, lc_tensor_data(w_hh), P, 1.0,
                   at(xg, o * GH), GH);
      }
      void *hout = r ? lc_tensor_data(r) : lc_tensor_data(h);
      if (dt == LC_FLOAT32)
        fwd_step_f32(mode, b, H, P, W, (const float *)(void *)at(xg, o * GH),
                     gh ? (const float *)lc_tensor_data(gh) : NULL, (float *)hout,
                     (float *)lc_tensor_data(c), (float *)(void *)wrow);
      else
        fwd_step_f64(mode, b, H, P, W, (const double *)(void *)at(xg, o * GH),
                     gh ? (const double *)lc_tensor_data(gh) : NULL, (double *)hout,
                     (double *)lc_tensor_data(c), (double *)(void *)wrow);
      if (r)
        lc__k_gemm(dt, 0, 1, b, P, H, 1.0, lc_tensor_data(r), H, lc_tensor_data(w_hr), H, 0.0,
                   lc_tensor_data(h), P);
      if (!in->cell) memcpy(at(R, o * P), lc_tensor_data(h), (size_t)(b * P) * es);
    }
    int64_t hoff = in->cell ? 0 : N * P;
    memcpy(at(R, hoff), lc_tensor_data(h), (size_t)(B * P) * es);
    if (c0) memcpy(at(R, hoff + B * P), lc_tensor_data(c), (size_t)(B * H) * es);
  }
  lc_tensor_release(xg);
  lc_tensor_release(gh);
  lc_tensor_release(h);
  lc_tensor_release(c);
  lc_tensor_release(r);
  return ok;
}

/* The (d0, d1[, d2]) view at offset off of the packed 1-D result: records,
 * so its gradient reaches the op's node. */
static lc_tensor *part(lc_ctx *ctx, lc_tensor *R, int64_t off, int ndim, const int64_t *shape) {
  int64_t len = 1;
  for (int i = 0; i < ndim; i++) len *= shape[i];
  lc_tensor *v = lc_narrow(ctx, R, 0, off, len);
  lc_tensor *out = v ? lc_reshape(ctx, v, ndim, shape) : NULL;
  lc_tensor_release(v);
  return out;
}

/* With R_out (the out= forms), the results go into it (checked: the flat
 * result's size) and nothing else is made: no node, no views. */
static lc_status rnn_run(lc_ctx *ctx, int op, lc_tensor *x, lc_tensor *h0, lc_tensor *c0,
                         lc_tensor *w_ih, lc_tensor *w_hh, lc_tensor *b_ih, lc_tensor *b_hh,
                         lc_tensor *w_hr, const int64_t *bs, int64_t nsteps, int reverse,
                         lc_tensor *R_out, lc_tensor **out, lc_tensor **h_n, lc_tensor **c_n) {
  rnn_info chk;
  memset(&chk, 0, sizeof chk);
  chk.mode = ROWS[op].mode;
  chk.cell = ROWS[op].cell;
  chk.reverse = reverse != 0;
  if (!rnn_check(ctx, &chk, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, bs, nsteps))
    return ctx->status;
  size_t bytes = sizeof(rnn_info) + 2 * sizeof(int64_t) * (size_t)chk.T;
  rnn_info *in = (rnn_info *)lc__alloc(ctx, bytes);
  if (!in) return ctx->status;
  *in = chk;
  in->bytes = bytes;
  in->bs = (int64_t *)(void *)(in + 1);
  in->off = in->bs + in->T;
  for (int64_t t = 0, o = 0; t < in->T; t++) {
    in->bs[t] = bs ? bs[t] : in->B;
    in->off[t] = o;
    o += in->bs[t];
  }
  /* the node's inputs: x, h0, then what is there of c0, weights, biases, w_hr */
  lc_tensor *ins[8] = {x, h0};
  int n = 2;
  in->ic0 = c0 ? n : -1;
  if (c0) ins[n++] = c0;
  in->iwih = n;
  ins[n++] = w_ih;
  in->iwhh = n;
  ins[n++] = w_hh;
  in->ibih = b_ih ? n : -1;
  if (b_ih) ins[n++] = b_ih;
  in->ibhh = b_hh ? n : -1;
  if (b_hh) ins[n++] = b_hh;
  in->iwhr = w_hr ? n : -1;
  if (w_hr) ins[n++] = w_hr;

  lc_tensor *cs[8] = {NULL};
  int ok = 1;
  for (int i = 0; i < n && ok; i++) ok = (cs[i] = lc__contig_raw(ctx, ins[i])) != NULL;
  int64_t B = in->B, P = in->P, H = in->H;
  int64_t total = (in->cell ? 0 : in->N * P) + B * P + (c0 ? B * H : 0);
  int64_t s1[1] = {total};
  lc_tensor *R = !ok ? NULL
                 : !R_out ? lc_empty(ctx, x->dtype, 1, s1)
                 : lc__check_out(ctx, R_out, x->dtype, 1, s1, n, ins) ? lc__retained(R_out) : NULL;
  int record = lc__wants_grad(ctx, n, ins);  /* else the workspace is per step only */
  lc_tensor *ws = R ? buf(ctx, x->dtype, record ? in->N : B, in->W) : NULL;
  if (ws && !rnn_compute(ctx, in, cs[0], cs[1], c0 ? cs[in->ic0] : NULL, cs[in->iwih],
                         cs[in->iwhh], b_ih ? cs[in->ibih] : NULL, b_hh ? cs[in->ibhh] : NULL,
                         w_hr ? cs[in->iwhr] : NULL, R, ws, record)) {
    lc_tensor_release(ws);
    ws = NULL;
  }
  for (int i = 0; i < n; i++) lc_tensor_release(cs[i]);
  if (!ws || R_out) {
    lc_tensor_release(ws);
    lc_tensor_release(R);
    info_free(ctx, in);
    return ws ? LC_OK : ctx->status;
  }
  int cell = in->cell;
  int64_t T = in->T, N = in->N;
  R = lc__finish(ctx, R, &RN[op].def, n, ins);
  if (R && R->node) {  /* the node owns in and ws from here */
    R->node->user = in;
    R->node->user_free = info_free;
    R->node->saved[0] = ws;
  } else {
    info_free(ctx, in);
    lc_tensor_release(ws);
  }
  if (!R) return ctx->status;
  int64_t off = 0, shape[3];
  lc_tensor *o = NULL, *hn = NULL, *cn = NULL;
  ok = 1;
  if (!cell) {
    if (bs) {
      shape[0] = N;
      shape[1] = P;
      ok = (o = part(ctx, R, 0, 2, shape)) != NULL;
    } else {
      shape[0] = T;
      shape[1] = B;
      shape[2] = P;
      ok = (o = part(ctx, R, 0, 3, shape)) != NULL;
    }
    off = N * P;
  }
  shape[0] = B;
  shape[1] = P;
  ok = ok && (hn = part(ctx, R, off, 2, shape)) != NULL;
  shape[1] = H;
  if (ok && c0) ok = (cn = part(ctx, R, off + B * P, 2, shape)) != NULL;
  lc_tensor_release(R);
  if (!ok) {
    lc_tensor_release(o);
    lc_tensor_release(hn);
    return ctx->status;
  }
  if (out) *out = o;
  else lc_tensor_release(o);
  *h_n = hn;
  if (c_n) *c_n = cn;
  else lc_tensor_release(cn);
  return LC_OK;
}

static int layer_row(lc_rnn_mode mode, int cell) {
  for (int i = 0; i < RN_COUNT; i++)
    if (ROWS[i].mode == mode && ROWS[i].cell == cell) return i;
  return -1;
}

lc_status lc_rnn_layer(lc_ctx *ctx, lc_rnn_mode mode, lc_tensor *x, lc_tensor *h0, lc_tensor *c0,
                       lc_tensor *w_ih, lc_tensor *w_hh, lc_tensor *b_ih, lc_tensor *b_hh,
                       lc_tensor *w_hr, const int64_t *batch_sizes, int64_t nsteps, int reverse,
                       lc_tensor **out, lc_tensor **h_n, lc_tensor **c_n) {
  *out = *h_n = NULL;
  if (c_n) *c_n = NULL;
  int op = layer_row(mode, 0);
  if (op < 0) return lc__fail(ctx, LC_EARG, "unknown recurrent mode %d", (int)mode);
  return rnn_run(ctx, op, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, batch_sizes, nsteps, reverse,
                 NULL, out, h_n, c_n);
}

lc_status lc_rnn_cell(lc_ctx *ctx, lc_rnn_mode mode, lc_tensor *x, lc_tensor *h, lc_tensor *c,
                      lc_tensor *w_ih, lc_tensor *w_hh, lc_tensor *b_ih, lc_tensor *b_hh,
                      lc_tensor **h1, lc_tensor **c1) {
  *h1 = NULL;
  if (c1) *c1 = NULL;
  int op = layer_row(mode, 1);
  if (op < 0) return lc__fail(ctx, LC_EARG, "unknown recurrent mode %d", (int)mode);
  return rnn_run(ctx, op, x, h, c, w_ih, w_hh, b_ih, b_hh, NULL, NULL, 0, 0, NULL, NULL, h1, c1);
}

lc_status lc_rnn_layer_out(lc_ctx *ctx, lc_rnn_mode mode, lc_tensor *out, lc_tensor *x,
                           lc_tensor *h0, lc_tensor *c0, lc_tensor *w_ih, lc_tensor *w_hh,
                           lc_tensor *b_ih, lc_tensor *b_hh, lc_tensor *w_hr, int reverse) {
  int op = layer_row(mode, 0);
  if (op < 0) return lc__fail(ctx, LC_EARG, "unknown recurrent mode %d", (int)mode);
  lc_tensor *o = NULL, *hn = NULL;
  return rnn_run(ctx, op, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, NULL, 0, reverse, out, &o, &hn,
                 NULL);
}

lc_status lc_rnn_cell_out(lc_ctx *ctx, lc_rnn_mode mode, lc_tensor *out, lc_tensor *x, lc_tensor *h,
                          lc_tensor *c, lc_tensor *w_ih, lc_tensor *w_hh, lc_tensor *b_ih,
                          lc_tensor *b_hh) {
  int op = layer_row(mode, 1);
  if (op < 0) return lc__fail(ctx, LC_EARG, "unknown recurrent mode %d", (int)mode);
  lc_tensor *h1 = NULL;
  return rnn_run(ctx, op, x, h, c, w_ih, w_hh, b_ih, b_hh, NULL, NULL, 0, 0, out, NULL, &h1, NULL);
}

/* ---- the rule: backpropagation through time ------------------------------------------- */

/* (n): the sums of m's rows (rows, n), accumulated in double row by row */
static lc_tensor *col_sums(lc_ctx *ctx, lc_tensor *m, int64_t rows, int64_t n) {
  int64_t s[1] = {n};
  lc_tensor *r = lc_empty(ctx, m->dtype, 1, s);
  lc_tensor *acc = r ? lc_zeros(ctx, LC_FLOAT64, 1, s) : NULL;
  if (!acc) {
    lc_tensor_release(r);
    return NULL;
  }
  double *a = (double *)lc_tensor_data(acc);
  for (int64_t i = 0; i < rows; i++) {
    if (m->dtype == LC_FLOAT32) {
      const float *row = (const float *)lc_tensor_data(m) + i * n;
      for (int64_t j = 0; j < n; j++) a[j] += (double)row[j];
    } else {
      const double *row = (const double *)lc_tensor_data(m) + i * n;
      for (int64_t j = 0; j < n; j++) a[j] += row[j];
    }
  }
  for (int64_t j = 0; j < n; j++) lc__store(m->dtype, lc_tensor_data(r), j, a[j]);
  lc_tensor_release(acc);
  return r;
}

static lc_tensor *want(lc_ctx *ctx, lc_node *n, int i, lc_tensor **grads, int *ok) {
  if (i < 0 || !n->inputs[i]->requires_grad || !*ok) return NULL;
  lc_tensor *t = n->inputs[i];
  grads[i] = lc_empty(ctx, t->dtype, t->ndim, t->shape);
  if (!grads[i]) *ok = 0;
  return grads[i];
}


/* ---- the rule, recorded (LC_CREATE_GRAPH) -------------------------------------------
 * For a gradient to be differentiated again, the rule recomputes the
 * forward with the core's recorded ops and runs the same equations
 * backward with them: slow (a few ops per step), but every result carries
 * its graph. Tensors made go to a pool released at the end. */

typedef struct rpool {
  lc_ctx *ctx;
  lc_tensor **t;
  size_t n, cap;
} rpool;

static lc_tensor *keep(rpool *p, lc_tensor *t) {
  if (!t) return NULL;
  if (p->n == p->cap) {
    size_t cap = p->cap ? 2 * p->cap : 256;
    lc_tensor **a = (lc_tensor **)lc__alloc(p->ctx, cap * sizeof *a);
    if (!a) {
      lc_tensor_release(t);
      return NULL;
    }
    if (p->n) memcpy(a, p->t, p->n * sizeof *a);
    lc__free(p->ctx, p->t, p->cap * sizeof *p->t);
    p->t = a;
    p->cap = cap;
  }
  p->t[p->n++] = t;
  return t;
}

typedef lc_tensor *(*bin_fn)(lc_ctx *, lc_tensor *, lc_tensor *);
typedef lc_tensor *(*un_fn)(lc_ctx *, lc_tensor *);
static lc_tensor *B2(rpool *p, bin_fn f, lc_tensor *a, lc_tensor *b) {
  return a && b ? keep(p, f(p->ctx, a, b)) : NULL;
}
static lc_tensor *U1(rpool *p, un_fn f, lc_tensor *a) { return a ? keep(p, f(p->ctx, a)) : NULL; }
static lc_tensor *NAR(rpool *p, lc_tensor *a, int dim, int64_t start, int64_t len) {
  return a ? keep(p, lc_narrow(p->ctx, a, dim, start, len)) : NULL;
}
static lc_tensor *RESH(rpool *p, lc_tensor *a, int64_t d0, int64_t d1) {
  return a ? keep(p, lc_reshape(p->ctx, a, 2, (int64_t[]){d0, d1})) : NULL;
}
static lc_tensor *LIN(rpool *p, lc_tensor *x, lc_tensor *w, lc_tensor *b) {
  return x && w ? keep(p, lc_linear(p->ctx, x, w, b)) : NULL;
}
static lc_tensor *TR(rpool *p, lc_tensor *a) { return a ? keep(p, lc_transpose(p->ctx, a, 0, 1)) : NULL; }
static lc_tensor *CAT(rpool *p, int n, lc_tensor **ts, int dim) {
  for (int i = 0; i < n; i++)
    if (!ts[i]) return NULL;
  return keep(p, lc_cat(p->ctx, n, ts, dim));
}
/* the first b rows of a (B, k) state with the rest of old after them */
static lc_tensor *JOIN(rpool *p, lc_tensor *head, lc_tensor *old, int64_t b, int64_t B) {
  if (b == B) return head;
  lc_tensor *two[2] = {head, NAR(p, old, 0, b, B - b)};
  return CAT(p, 2, two, 0);
}
static lc_tensor *ACC(rpool *p, lc_tensor *acc, lc_tensor *t) { return acc ? B2(p, lc_add, acc, t) : t; }

static int rule_recorded(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  const rnn_info *in = (const rnn_info *)n->user;
  lc_rnn_mode mode = in->mode;
  int lstm = mode == LC_RNN_LSTM, gru = mode == LC_RNN_GRU;
  int64_t H = in->H, P = in->P, B = in->B, N = in->N, T = in->T;
  lc_tensor *X = n->inputs[0], *h0 = n->inputs[1], *c0 = in->ic0 >= 0 ? n->inputs[in->ic0] : NULL;
  lc_tensor *Wih = n->inputs[in->iwih], *Whh = n->inputs[in->iwhh];
  lc_tensor *bih = in->ibih >= 0 ? n->inputs[in->ibih] : NULL;
  lc_tensor *bhh = in->ibhh >= 0 ? n->inputs[in->ibhh] : NULL;
  lc_tensor *Whr = in->iwhr >= 0 ? n->inputs[in->iwhr] : NULL;
  rpool pool = {ctx, NULL, 0, 0}, *p = &pool;
  enum { NS = 8 };
  size_t sbytes = sizeof(lc_tensor *) * (size_t)(NS * T + T);
  lc_tensor **S = (lc_tensor **)lc__alloc(ctx, sbytes);
  if (!S) return 0;
  memset(S, 0, sbytes);
  lc_tensor **DG = S + NS * T;
  lc_tensor *one = keep(p, lc_scalar(ctx, X->dtype, 1.0));
  lc_tensor *zero = keep(p, lc_scalar(ctx, X->dtype, 0.0));
  lc_tensor *X2 = RESH(p, X, N, in->I);
  lc_tensor *xg = X2 && bih ? LIN(p, X2, Wih, bih) : LIN(p, X2, Wih, NULL);
  lc_tensor *h = h0, *c = c0;
  int ok = one && zero && xg;
  /* forward again, keeping per step what the backward reads */
  for (int64_t s = 0; ok && s < T; s++) {
    int64_t t = in->reverse ? T - 1 - s : s, b = in->bs[t], o = in->off[t];
    lc_tensor **st = S + NS * t;
    lc_tensor *xt = NAR(p, xg, 0, o, b), *hp = b < B ? NAR(p, h, 0, 0, b) : h;
    lc_tensor *hg = LIN(p, hp, Whh, bhh), *hn = NULL;
    if (lstm) {
      lc_tensor *pre = B2(p, lc_add, xt, hg);
      lc_tensor *ig = U1(p, lc_sigmoid, NAR(p, pre, 1, 0, H)), *fg = U1(p, lc_sigmoid, NAR(p, pre, 1, H, H));
      lc_tensor *gg = U1(p, lc_tanh, NAR(p, pre, 1, 2 * H, H));
      lc_tensor *og = U1(p, lc_sigmoid, NAR(p, pre, 1, 3 * H, H));
      lc_tensor *cp = b < B ? NAR(p, c, 0, 0, b) : c;
      lc_tensor *cn = B2(p, lc_add, B2(p, lc_mul, fg, cp), B2(p, lc_mul, ig, gg));
      lc_tensor *tc = U1(p, lc_tanh, cn), *r = B2(p, lc_mul, og, tc);
      hn = Whr ? LIN(p, r, Whr, NULL) : r;
      st[0] = ig, st[1] = fg, st[2] = gg, st[3] = og, st[4] = cp, st[5] = tc, st[6] = r;
      c = JOIN(p, cn, c, b, B);
      ok = c != NULL;
    } else if (gru) {
      lc_tensor *rg = U1(p, lc_sigmoid, B2(p, lc_add, NAR(p, xt, 1, 0, H), NAR(p, hg, 1, 0, H)));
      lc_tensor *z = U1(p, lc_sigmoid, B2(p, lc_add, NAR(p, xt, 1, H, H), NAR(p, hg, 1, H, H)));
      lc_tensor *hnl = NAR(p, hg, 1, 2 * H, H);
      lc_tensor *ng = U1(p, lc_tanh, B2(p, lc_add, NAR(p, xt, 1, 2 * H, H), B2(p, lc_mul, rg, hnl)));
      hn = B2(p, lc_add, B2(p, lc_mul, B2(p, lc_sub, one, z), ng), B2(p, lc_mul, z, hp));
      st[0] = rg, st[1] = z, st[2] = ng, st[3] = hnl;
    } else {
      lc_tensor *pre = B2(p, lc_add, xt, hg);
      hn = U1(p, mode == LC_RNN_TANH ? lc_tanh : lc_relu, pre);
      st[0] = hn, st[1] = pre;
    }
    st[7] = hp;
    h = JOIN(p, hn, h, b, B);
    ok = ok && h != NULL;
  }
  /* backward with the same ops */
  int64_t hoff = in->cell ? 0 : N * P;
  lc_tensor *gout = in->cell ? NULL : RESH(p, NAR(p, g, 0, 0, N * P), N, P);
  lc_tensor *dh = RESH(p, NAR(p, g, 0, hoff, B * P), B, P);
  lc_tensor *dc = lstm ? RESH(p, NAR(p, g, 0, hoff + B * P, B * H), B, H) : NULL;
  lc_tensor *dWhh = NULL, *dbhh = NULL, *dWhr = NULL;
  ok = ok && dh && (in->cell || gout) && (!lstm || dc);
  for (int64_t s = T - 1; ok && s >= 0; s--) {
    int64_t t = in->reverse ? T - 1 - s : s, b = in->bs[t], o = in->off[t];
    lc_tensor **st = S + NS * t;
    lc_tensor *hp = st[7], *dgx = NULL, *dgh = NULL, *dhp = NULL;
    lc_tensor *dhb = b < B ? NAR(p, dh, 0, 0, b) : dh;
    if (gout) dhb = B2(p, lc_add, dhb, NAR(p, gout, 0, o, b));
    if (lstm) {
      lc_tensor *ig = st[0], *fg = st[1], *gg = st[2], *og = st[3], *cp = st[4], *tc = st[5];
      lc_tensor *dr = dhb;
      if (Whr) {
        dr = B2(p, lc_matmul, dhb, Whr);
        dWhr = ACC(p, dWhr, B2(p, lc_matmul, TR(p, dhb), st[6]));
      }
      lc_tensor *dcb = b < B ? NAR(p, dc, 0, 0, b) : dc;
      lc_tensor *dct = B2(p, lc_add, dcb, B2(p, lc_mul, B2(p, lc_mul, dr, og),
                                               B2(p, lc_sub, one, B2(p, lc_mul, tc, tc))));
      lc_tensor *q[4] = {
        B2(p, lc_mul, B2(p, lc_mul, dct, gg), B2(p, lc_mul, ig, B2(p, lc_sub, one, ig))),
        B2(p, lc_mul, B2(p, lc_mul, dct, cp), B2(p, lc_mul, fg, B2(p, lc_sub, one, fg))),
        B2(p, lc_mul, B2(p, lc_mul, dct, ig), B2(p, lc_sub, one, B2(p, lc_mul, gg, gg))),
        B2(p, lc_mul, B2(p, lc_mul, dr, tc), B2(p, lc_mul, og, B2(p, lc_sub, one, og)))};
      dgx = dgh = CAT(p, 4, q, 1);
      dhp = B2(p, lc_matmul, dgx, Whh);
      dc = JOIN(p, B2(p, lc_mul, dct, fg), dc, b, B);
      ok = dc != NULL;
    } else if (gru) {
      lc_tensor *rg = st[0], *z = st[1], *ng = st[2], *hnl = st[3];
      lc_tensor *dn = B2(p, lc_mul, B2(p, lc_mul, dhb, B2(p, lc_sub, one, z)),
                         B2(p, lc_sub, one, B2(p, lc_mul, ng, ng)));
      lc_tensor *dz = B2(p, lc_mul, B2(p, lc_mul, dhb, B2(p, lc_sub, hp, ng)),
                         B2(p, lc_mul, z, B2(p, lc_sub, one, z)));
      lc_tensor *dr = B2(p, lc_mul, B2(p, lc_mul, dn, hnl), B2(p, lc_mul, rg, B2(p, lc_sub, one, rg)));
      lc_tensor *qx[3] = {dr, dz, dn}, *qh[3] = {dr, dz, B2(p, lc_mul, dn, rg)};
      dgx = CAT(p, 3, qx, 1);
      dgh = CAT(p, 3, qh, 1);
      dhp = B2(p, lc_add, B2(p, lc_matmul, dgh, Whh), B2(p, lc_mul, dhb, z));
    } else {
      lc_tensor *hn = st[0];
      dgx = dgh = mode == LC_RNN_TANH
                      ? B2(p, lc_mul, dhb, B2(p, lc_sub, one, B2(p, lc_mul, hn, hn)))
                      : (dhb ? keep(p, lc_where(ctx, B2(p, lc_gt, st[1], zero), dhb, zero)) : NULL);
      dhp = B2(p, lc_matmul, dgx, Whh);
    }
    dWhh = ACC(p, dWhh, B2(p, lc_matmul, TR(p, dgh), hp));
    if (bhh) dbhh = ACC(p, dbhh, dgh ? keep(p, lc_sum_dim(ctx, dgh, 0, 0)) : NULL);
    DG[t] = dgx;
    dh = JOIN(p, dhp, dh, b, B);
    ok = ok && dh && dWhh && (!bhh || dbhh) && (!Whr || dWhr);
  }
  lc_tensor *dGX = ok ? CAT(p, (int)T, DG, 0) : NULL;
  ok = ok && dGX;
  if (ok) {
    lc_tensor *res[8] = {NULL};
    lc_tensor *dx = B2(p, lc_matmul, dGX, Wih);
    res[0] = dx ? keep(p, lc_reshape(ctx, dx, X->ndim, X->shape)) : NULL;
    res[1] = dh;
    if (c0) res[in->ic0] = dc;
    res[in->iwih] = B2(p, lc_matmul, TR(p, dGX), X2);
    res[in->iwhh] = dWhh;
    if (bih) res[in->ibih] = keep(p, lc_sum_dim(ctx, dGX, 0, 0));
    if (bhh) res[in->ibhh] = dbhh;
    if (Whr) res[in->iwhr] = dWhr;
    for (int i = 0; i < n->ninputs; i++)
      if (n->inputs[i]->requires_grad) {
        if (!res[i]) ok = 0;
        else grads[i] = lc__retained(res[i]);
      }
  }
  for (size_t i = 0; i < p->n; i++) lc_tensor_release(p->t[i]);
  lc__free(ctx, p->t, p->cap * sizeof *p->t);
  lc__free(ctx, S, sbytes);
  return ok;
}

static int rule_rnn(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  const rnn_info *in = (const rnn_info *)n->user;
  if (lc_ctx_grad_enabled(ctx)) return rule_recorded(ctx, n, g, grads);
  lc_dtype dt = g->dtype;
  size_t es = lc_dtype_size(dt);
  lc_rnn_mode mode = in->mode;
  int gru = mode == LC_RNN_GRU;
  int64_t H = in->H, P = in->P, GH = in->G * H, W = in->W, B = in->B, N = in->N, I = in->I;
  lc_tensor *ws = n->saved[0];
  lc_tensor *gc = lc__contig_raw(ctx, g);
  lc_tensor *w_hh = gc ? lc__contig_raw(ctx, n->inputs[in->iwhh]) : NULL;
  lc_tensor *w_hr = w_hh && in->iwhr >= 0 ? lc__contig_raw(ctx, n->inputs[in->iwhr]) : NULL;
  lc_tensor *dh = w_hh && (in->iwhr < 0 || w_hr) ? buf(ctx, dt, B, P) : NULL;
  lc_tensor *dc = dh ? buf(ctx, dt, B, H) : NULL;
  lc_tensor *dgx = dc ? buf(ctx, dt, N, GH) : NULL;
  lc_tensor *dgh = dgx && gru ? buf(ctx, dt, N, GH) : NULL;
  lc_tensor *dr = dgx && w_hr ? buf(ctx, dt, B, H) : NULL;
  lc_tensor *rt = dr ? buf(ctx, dt, B, H) : NULL;
  lc_tensor *x = NULL, *w_ih = NULL;
  int ok = dgx && (!gru || dgh) && (!w_hr || rt);
  lc_tensor *dwhr = NULL;
  if (ok && in->iwhr >= 0 && n->inputs[in->iwhr]->requires_grad) {
    dwhr = grads[in->iwhr] = lc_zeros(ctx, dt, 2, (int64_t[]){P, H});
    ok = dwhr != NULL;
  }
  if (ok) {
    int64_t hoff = in->cell ? 0 : N * P;
    const char *gout = in->cell ? NULL : at(gc, 0);
    memcpy(lc_tensor_data(dh), at(gc, hoff), (size_t)(B * P) * es);
    if (in->ic0 >= 0) memcpy(lc_tensor_data(dc), at(gc, hoff + B * P), (size_t)(B * H) * es);
    lc_tensor *dgs = gru ? dgh : dgx;  /* what reaches h W_hh^T + b_hh */
    for (int64_t s = in->T - 1; s >= 0; s--) {
      int64_t t = in->reverse ? in->T - 1 - s : s, b = in->bs[t], o = in->off[t];
      if (gout) {
        lc_tensor *gt = lc__view(ctx, gc, 2, (int64_t[]){b, P}, (int64_t[]){P, 1}, gc->offset + o * P);
        lc_tensor *ht = gt ? lc__view(ctx, dh, 2, (int64_t[]){b, P}, (int64_t[]){P, 1}, 0) : NULL;
        if (ht) lc__k_add_into(ht, gt, gt->strides);
        lc_tensor_release(gt);
        lc_tensor_release(ht);
        if (!ht) { ok = 0; break; }
      }
      const char *wrow = at(ws, o * W);
      void *dk = lc_tensor_data(dh);
      if (w_hr) {
        /* through the projection h = r W_hr^T: dr = dh W_hr, dW_hr += dh^T r */
        lc__k_gemm(dt, 0, 0, b, H, P, 1.0, lc_tensor_data(dh), P, lc_tensor_data(w_hr), H, 0.0,
                   lc_tensor_data(dr), H);
        if (dwhr) {
          for (int64_t j = 0; j < b; j++)
            for (int64_t k = 0; k < H; k++) {
              double og = dt == LC_FLOAT32 ? ((const float *)(const void *)wrow)[j * W + 3 * H + k]
                                           : ((const double *)(const void *)wrow)[j * W + 3 * H + k];
              double tc = dt == LC_FLOAT32 ? ((const float *)(const void *)wrow)[j * W + 5 * H + k]
                                           : ((const double *)(const void *)wrow)[j * W + 5 * H + k];
              lc__store(dt, lc_tensor_data(rt), j * H + k, og * tc);
            }
          lc__k_gemm(dt, 1, 0, P, H, b, 1.0, lc_tensor_data(dh), P, lc_tensor_data(rt), H, 1.0,
                     lc_tensor_data(dwhr), H);
        }
        dk = lc_tensor_data(dr);
      }
      if (dt == LC_FLOAT32)
        bwd_step_f32(mode, b, H, W, (const float *)(const void *)wrow, (float *)dk,
                     (float *)lc_tensor_data(dc), (float *)(void *)at(dgx, o * GH),
                     gru ? (float *)(void *)at(dgh, o * GH) : NULL);
      else
        bwd_step_f64(mode, b, H, W, (const double *)(const void *)wrow, (double *)dk,
                     (double *)lc_tensor_data(dc), (double *)(void *)at(dgx, o * GH),
                     gru ? (double *)(void *)at(dgh, o * GH) : NULL);
      /* the previous h: dh = dgs W_hh (GRU: + dh z, left in dh by the kernel) */
      lc__k_gemm(dt, 0, 0, b, P, GH, 1.0, at(dgs, o * GH), GH, lc_tensor_data(w_hh), P,
                 gru ? 1.0 : 0.0, lc_tensor_data(dh), P);
    }
    lc_tensor *t;
    if (ok && (t = want(ctx, n, 0, grads, &ok))) {
      w_ih = lc__contig_raw(ctx, n->inputs[in->iwih]);
      if (w_ih)
        lc__k_gemm(dt, 0, 0, N, I, GH, 1.0, lc_tensor_data(dgx), GH, lc_tensor_data(w_ih), I, 0.0,
                   lc_tensor_data(t), I);
      else ok = 0;
    }
    if (ok && (t = want(ctx, n, in->iwih, grads, &ok))) {
      x = lc__contig_raw(ctx, n->inputs[0]);
      if (x)
        lc__k_gemm(dt, 1, 0, GH, I, N, 1.0, lc_tensor_data(dgx), GH, lc_tensor_data(x), I, 0.0,
                   lc_tensor_data(t), I);
      else ok = 0;
    }
    if (ok && (t = want(ctx, n, in->iwhh, grads, &ok)))
      lc__k_gemm(dt, 1, 0, GH, P, N, 1.0, lc_tensor_data(dgs), GH,
                 at(ws, hprev_col(mode, H)), W, 0.0, lc_tensor_data(t), P);
    if (ok && in->ibih >= 0 && n->inputs[in->ibih]->requires_grad)
      ok = (grads[in->ibih] = col_sums(ctx, dgx, N, GH)) != NULL;
    if (ok && in->ibhh >= 0 && n->inputs[in->ibhh]->requires_grad)
      ok = (grads[in->ibhh] = col_sums(ctx, dgs, N, GH)) != NULL;
    if (ok && (t = want(ctx, n, 1, grads, &ok)))
      memcpy(lc_tensor_data(t), lc_tensor_data(dh), (size_t)(B * P) * es);
    if (ok && in->ic0 >= 0 && (t = want(ctx, n, in->ic0, grads, &ok)))
      memcpy(lc_tensor_data(t), lc_tensor_data(dc), (size_t)(B * H) * es);
  }
  lc_tensor_release(gc);
  lc_tensor_release(w_hh);
  lc_tensor_release(w_hr);
  lc_tensor_release(dh);
  lc_tensor_release(dc);
  lc_tensor_release(dgx);
  lc_tensor_release(dgh);
  lc_tensor_release(dr);
  lc_tensor_release(rt);
  lc_tensor_release(x);
  lc_tensor_release(w_ih);
  return ok;
}

/* ---- replay (plan.c) ------------------------------------------------------------------- */

/* t as a contiguous operand: t itself, or a copy kept in *copy for the
 * caller to release (t NULL: NULL). Nothing is retained: a plan's replay
 * runs on other threads than the one owning its operands, and reference
 * counts are not atomic. *ok = 0 when the copy failed. */
static lc_tensor *contig_use(lc_ctx *ctx, lc_tensor *t, lc_tensor **copy, int *ok) {
  *copy = NULL;
  if (!t || lc_tensor_is_contiguous(t)) return t;
  if (!(*copy = lc__contig_raw(ctx, t))) *ok = 0;
  return *copy;
}

/* The recurrence again into the packed result, with the node's own
 * workspace (saved for the rule: refreshed, so the rule would read this
 * run's gates); scratch for the projections comes from ctx. */
static int replay_rnn(lc_ctx *ctx, lc_node *n) {
  const rnn_info *in = (const rnn_info *)n->user;
  lc_tensor *cs[8] = {NULL}, *cp[8] = {NULL}, *ws = n->saved[0];
  int ok = 1;
  for (int i = 0; i < n->ninputs && ok; i++) cs[i] = contig_use(ctx, n->inputs[i], &cp[i], &ok);
  ok = ok && rnn_compute(ctx, in, cs[0], cs[1], in->ic0 >= 0 ? cs[in->ic0] : NULL, cs[in->iwih],
                         cs[in->iwhh], in->ibih >= 0 ? cs[in->ibih] : NULL,
                         in->ibhh >= 0 ? cs[in->ibhh] : NULL, in->iwhr >= 0 ? cs[in->iwhr] : NULL,
                         n->out, ws, ws->shape[0] >= in->N);
  for (int i = 0; i < n->ninputs; i++) lc_tensor_release(cp[i]);
  return ok;
}

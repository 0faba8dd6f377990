/***
Part of lucid; help() and `make doc` read these comments.
@module lucid
*/

/* lucid_rnn.c: the recurrent ops (core/rnn.c) as lucid.rnn_tanh,
 * lucid.rnn_relu, lucid.lstm, lucid.gru (one layer, one direction, over a
 * sequence) and lucid.rnn_tanh_cell, lucid.rnn_relu_cell, lucid.lstm_cell,
 * lucid.gru_cell (one step), PyTorch's gate order and weight shapes. The
 * modules nn.RNN, nn.LSTM, nn.GRU and their cells build on them. */
#include <string.h>

#include "binding.h"

/* h0 and c0 from a table {h0, c0} at idx (LSTM), or h0 from a tensor there. */
static void read_hx(lua_State *L, int idx, int lstm, const char *what, lc_tensor **h, lc_tensor **c,
                    const char *fname) {
  if (!lstm) {
    if (!(*h = lt_test(L, idx)))
      lt_error(L, "%s: %s must be a tensor, got %s", fname, what, luaL_typename(L, idx));
    *c = NULL;
    return;
  }
  if (lua_type(L, idx) != LUA_TTABLE)
    lt_error(L, "%s: %s must be a table {h, c} of two tensors, got %s", fname, what,
             lt_test(L, idx) ? "a tensor" : luaL_typename(L, idx));
  lua_rawgeti(L, idx, 1);
  lua_rawgeti(L, idx, 2);
  *h = lt_test(L, -2);
  *c = lt_test(L, -1);
  lua_pop(L, 2);  /* the table keeps them */
  if (!*h || !*c) lt_error(L, "%s: %s must be a table {h, c} of two tensors", fname, what);
}

/* batch_sizes from a table of integers or a 1-D tensor at idx: a userdata
 * array left on the stack (freed by the GC if an error comes first). */
static int64_t *read_batch_sizes(lua_State *L, int idx, int64_t *n, const char *fname) {
  lc_tensor *t = lt_test(L, idx);
  if (t) {
    if (t->ndim != 1 || lc_dtype_is_float(t->dtype))
      lt_error(L, "%s: option 'batch_sizes' must be a 1-D integer tensor or a table of integers",
               fname);
    *n = t->shape[0];
    int64_t *bs = (int64_t *)lua_newuserdata(L, sizeof(int64_t) * (size_t)(*n ? *n : 1));
    lc_tensor_read_int(t, bs);
    return bs;
  }
  if (lua_type(L, idx) != LUA_TTABLE)
    lt_error(L, "%s: option 'batch_sizes' must be a 1-D integer tensor or a table of integers, got %s",
             fname, luaL_typename(L, idx));
  *n = (int64_t)lua_rawlen(L, idx);
  int64_t *bs = (int64_t *)lua_newuserdata(L, sizeof(int64_t) * (size_t)(*n ? *n : 1));
  for (int64_t i = 0; i < *n; i++) {
    lua_rawgeti(L, idx, (lua_Integer)(i + 1));
    bs[i] = (int64_t)lt_integer(L, -1, "batch_sizes", fname);
    lua_pop(L, 1);
  }
  return bs;
}

static const lt_arg LAYER_ARGS[] = {
  {"hx", LT_K_ANY, LT_REQ | LT_POS, 0, "a tensor (h0)"},
  {"weight_ih", LT_K_TENSOR, LT_REQ, 0, NULL}, {"weight_hh", LT_K_TENSOR, LT_REQ, 0, NULL},
  {"bias_ih", LT_K_TENSOR, 0, 0, NULL}, {"bias_hh", LT_K_TENSOR, 0, 0, NULL},
  {"batch_sizes", LT_K_ANY, LT_KW, 0, "a table of integers or an integer tensor"},
  {"reverse", LT_K_BOOL, LT_KW, 0, NULL}, {NULL}};

/* lstm's: hx is {h0, c0}, and the projection weight_hr */
static const lt_arg LSTM_ARGS[] = {
  {"hx", LT_K_ANY, LT_REQ | LT_POS, 0, "a table {h0, c0}"},
  {"weight_ih", LT_K_TENSOR, LT_REQ, 0, NULL}, {"weight_hh", LT_K_TENSOR, LT_REQ, 0, NULL},
  {"bias_ih", LT_K_TENSOR, 0, 0, NULL}, {"bias_hh", LT_K_TENSOR, 0, 0, NULL},
  {"weight_hr", LT_K_TENSOR, 0, 0, NULL},
  {"batch_sizes", LT_K_ANY, LT_KW, 0, "a table of integers or an integer tensor"},
  {"reverse", LT_K_BOOL, LT_KW, 0, NULL}, {NULL}};

static int layer(lua_State *L, lc_rnn_mode mode) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *x = lt_tensor_arg(L, 1, lt_fn(L)->fname);
  lt_val v[8];
  const char *fname = lt_args(L, 2, -1, v);
  lc_tensor *h0, *c0;
  int lstm = mode == LC_RNN_LSTM;
  read_hx(L, v[0].idx, lstm, "hx", &h0, &c0, fname);
  /* past the biases, lstm's rows are one further on (weight_hr) */
  lc_tensor *w_hr = lstm ? v[5].t : NULL;
  const lt_val *bsv = &v[5 + lstm], *rev = &v[6 + lstm];
  int64_t nsteps = 0, *bs = bsv->idx ? read_batch_sizes(L, bsv->idx, &nsteps, fname) : NULL;
  lc_tensor **slots[3] = {lt_newbox(L), lt_newbox(L), lstm ? lt_newbox(L) : NULL};
  lc_tensor *r[3] = {NULL, NULL, NULL};
  lt_do(L, ctx,
        lc_rnn_layer(ctx, mode, x, h0, c0, v[1].t, v[2].t, v[3].t, v[4].t, w_hr, bs, nsteps,
                     rev->b, &r[0], &r[1], lstm ? &r[2] : NULL),
        fname);
  for (int i = 0; i < 2 + lstm; i++) *slots[i] = r[i];
  lt_report_bytes(L, ctx);
  return 2 + lstm;
}

/***
One Elman RNN layer (tanh) over a sequence, in one direction, as a
recurrent layer of nn.RNN: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh).
input (T, B, I) time-major, or packed rows (N, I) with the option
batch_sizes (a table or int64 tensor of the rows per step, non-increasing,
as PackedSequence's); h0 (B, H); weight_ih (H, I), weight_hh (H, H), the
biases (H) or neither. reverse runs from the last step to the first. Two
results: the output (T, B, H) (packed: (N, H)) and h_n (B, H). One GEMM for
all steps' input projections, then one GEMM and a fused kernel per step;
the gradient is one fused rule over the sequence (RnnTanhBackward).
@function rnn_tanh
@usage local out, h_n = lucid.rnn_tanh(input, h0, weight_ih, weight_hh [, bias_ih, bias_hh] [, {batch_sizes = nil, reverse = false}])
@within Recurrent
*/
static int l_rnn_tanh(lua_State *L) { return layer(L, LC_RNN_TANH); }

/***
lucid.rnn_tanh with relu: h' = relu(x W_ih^T + b_ih + h W_hh^T + b_hh).
@function rnn_relu
@usage local out, h_n = lucid.rnn_relu(input, h0, weight_ih, weight_hh [, bias_ih, bias_hh] [, {batch_sizes = nil, reverse = false}])
@within Recurrent
*/
static int l_rnn_relu(lua_State *L) { return layer(L, LC_RNN_RELU); }

/***
One LSTM layer over a sequence, in one direction, PyTorch's gate order
(i, f, g, o): weight_ih (4H, I), weight_hh (4H, P), biases (4H) or
neither, and with a projection weight_hr (P, H) (proj_size P < H; else P =
H). hx = {h0 (B, P), c0 (B, H)}. input (T, B, I), or packed (N, I) with
batch_sizes; reverse as lucid.rnn_tanh. Three results: output (T, B, P)
(packed: (N, P)), h_n (B, P), c_n (B, H). One GEMM for all steps' input
projections, then per step one GEMM and one fused gate kernel; the
gradient is one fused rule over the sequence (LstmBackward).
@function lstm
@usage local out, h_n, c_n = lucid.lstm(input, {h0, c0}, weight_ih, weight_hh [, bias_ih, bias_hh [, weight_hr]] [, {batch_sizes = nil, reverse = false}])
@within Recurrent
*/
static int l_lstm(lua_State *L) { return layer(L, LC_RNN_LSTM); }

/***
One GRU layer over a sequence, in one direction, PyTorch's gate order (r,
z, n) and n = tanh(W_in x + b_in + r (W_hn h + b_hn)): weight_ih (3H, I),
weight_hh (3H, H), biases (3H) or neither; h0 (B, H). Otherwise as
lucid.rnn_tanh (GruBackward).
@function gru
@usage local out, h_n = lucid.gru(input, h0, weight_ih, weight_hh [, bias_ih, bias_hh] [, {batch_sizes = nil, reverse = false}])
@within Recurrent
*/
static int l_gru(lua_State *L) { return layer(L, LC_RNN_GRU); }

static const lt_arg CELL_ARGS[] = {
  {"hx", LT_K_ANY, LT_REQ | LT_POS, 0, "a tensor (h), or {h, c} for lstm_cell"},
  {"weight_ih", LT_K_TENSOR, LT_REQ, 0, NULL}, {"weight_hh", LT_K_TENSOR, LT_REQ, 0, NULL},
  {"bias_ih", LT_K_TENSOR, 0, 0, NULL}, {"bias_hh", LT_K_TENSOR, 0, 0, NULL}, {NULL}};

/* _rnn_cell_out(mode, x, h, c|nil, w_ih, w_hh, b_ih|nil, b_hh|nil, out, fname):
 * lc_rnn_cell_out for the cell layers under reuse_buffers; out returned. */
static int l_rnn_cell_out(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  const char *fname = luaL_checkstring(L, 10);
  int mode = (int)luaL_checkinteger(L, 1);
  lc_tensor *t[8];
  for (int i = 0; i < 8; i++) t[i] = lua_isnoneornil(L, 2 + i) ? NULL : lt_tensor_arg(L, 2 + i, fname);
  /* an unbatched step (x (I), h and c (H)) runs as a batch of one, through
   * views released before returning */
  lc_tensor *v[3] = {NULL, NULL, NULL};
  int unbatched = t[0]->ndim == 1;
  for (int i = 0; unbatched && i < 3; i++) {
    if (t[i] && !(v[i] = lc_unsqueeze(ctx, t[i], 0))) break;
    if (t[i]) t[i] = v[i];
  }
  lc_status st = unbatched && ((!v[0]) || (t[1] && !v[1]) || (t[2] && !v[2]))
                     ? lc_ctx_status(ctx)
                     : lc_rnn_cell_out(ctx, (lc_rnn_mode)mode, t[7], t[0], t[1], t[2], t[3], t[4], t[5], t[6]);
  for (int i = 0; i < 3; i++) lc_tensor_release(v[i]);
  lt_do(L, ctx, st, fname);
  lua_pushvalue(L, 9);
  return 1;
}

/* _rnn_layer_out(mode, x, batch_first, hx, cx|nil, k, w_ih, w_hh, b_ih|nil,
 * b_hh|nil, w_hr|nil, out, fname [, reverse]): layer k (0-based, counting
 * a bidirectional layer's directions apart) of nn.RNN, nn.LSTM or nn.GRU
 * under reuse_buffers (x (T, B, I), or unbatched (T, I) with states
 * (layers, size)), its states hx[k] (and cx[k]) of the
 * (layers, B, size) states; out returned. The views it takes (x
 * time-major, the states' rows) are released before it returns, so
 * nothing outlives the call. */
static int l_rnn_layer_out(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  const char *fname = luaL_checkstring(L, 13);
  int mode = (int)luaL_checkinteger(L, 1);
  lc_tensor *x = lt_tensor_arg(L, 2, fname);
  int batch_first = lua_toboolean(L, 3);
  lc_tensor *hx = lt_tensor_arg(L, 4, fname);
  lc_tensor *cx = lua_isnoneornil(L, 5) ? NULL : lt_tensor_arg(L, 5, fname);
  int64_t k = (int64_t)luaL_checkinteger(L, 6);
  lc_tensor *w[5];
  for (int i = 0; i < 5; i++) w[i] = lua_isnoneornil(L, 7 + i) ? NULL : lt_tensor_arg(L, 7 + i, fname);
  lc_tensor *out = lt_tensor_arg(L, 12, fname);
  /* an unbatched x (T, I) runs as a batch of one, its states (layers, size)
   * giving rows (1, size) */
  int unbatched = hx->ndim == 2;  /* (a later layer's x is the (T, 1, size) buffer) */
  lc_tensor *xt;
  if (x->ndim == 2) xt = lc_unsqueeze(ctx, x, 1);
  else if (batch_first) xt = lc_transpose(ctx, x, 0, 1);
  else xt = (lc_tensor_retain(x), x);
  lc_tensor *h0 = !xt ? NULL : unbatched ? lc_narrow(ctx, hx, 0, k, 1) : lc_select(ctx, hx, 0, k);
  lc_tensor *c0 = !h0 || !cx ? NULL : unbatched ? lc_narrow(ctx, cx, 0, k, 1) : lc_select(ctx, cx, 0, k);
  lc_status st = !h0 || (cx && !c0) ? lc_ctx_status(ctx)
                 : lc_rnn_layer_out(ctx, (lc_rnn_mode)mode, out, xt, h0, c0, w[0], w[1], w[2], w[3],
                                    w[4], lua_toboolean(L, 14));
  lc_tensor_release(xt);
  lc_tensor_release(h0);
  lc_tensor_release(c0);
  lt_do(L, ctx, st, fname);
  lua_pushvalue(L, 12);
  return 1;
}

static int cell(lua_State *L, lc_rnn_mode mode) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *x = lt_tensor_arg(L, 1, lt_fn(L)->fname);
  lt_val v[5];
  const char *fname = lt_args(L, 2, -1, v);
  lc_tensor *h, *c;
  int lstm = mode == LC_RNN_LSTM;
  read_hx(L, v[0].idx, lstm, "hx", &h, &c, fname);
  lc_tensor **slots[2] = {lt_newbox(L), lstm ? lt_newbox(L) : NULL};
  lc_tensor *r[2] = {NULL, NULL};
  lt_do(L, ctx,
        lc_rnn_cell(ctx, mode, x, h, c, v[1].t, v[2].t, v[3].t, v[4].t, &r[0], lstm ? &r[1] : NULL),
        fname);
  for (int i = 0; i < 1 + lstm; i++) *slots[i] = r[i];
  lt_report_bytes(L, ctx);
  return 1 + lstm;
}

/***
One step of an Elman RNN (tanh): h' (B, H) of input (B, I) and h (B, H),
weights as lucid.rnn_tanh's (RnnTanhCellBackward).
@function rnn_tanh_cell
@usage local h1 = lucid.rnn_tanh_cell(input, h, weight_ih, weight_hh [, bias_ih, bias_hh])
@within Recurrent
*/
static int l_rnn_tanh_cell(lua_State *L) { return cell(L, LC_RNN_TANH); }

/***
One step of an Elman RNN with relu (RnnReluCellBackward).
@function rnn_relu_cell
@usage local h1 = lucid.rnn_relu_cell(input, h, weight_ih, weight_hh [, bias_ih, bias_hh])
@within Recurrent
*/
static int l_rnn_relu_cell(lua_State *L) { return cell(L, LC_RNN_RELU); }

/***
One LSTM step: h' and c' (B, H) of input (B, I) and {h, c} (B, H) each,
two GEMMs and one fused gate kernel, forward and backward
(LstmCellBackward).
@function lstm_cell
@usage local h1, c1 = lucid.lstm_cell(input, {h, c}, weight_ih, weight_hh [, bias_ih, bias_hh])
@within Recurrent
*/
static int l_lstm_cell(lua_State *L) { return cell(L, LC_RNN_LSTM); }

/***
One GRU step: h' (B, H) of input (B, I) and h (B, H) (GruCellBackward).
@function gru_cell
@usage local h1 = lucid.gru_cell(input, h, weight_ih, weight_hh [, bias_ih, bias_hh])
@within Recurrent
*/
static int l_gru_cell(lua_State *L) { return cell(L, LC_RNN_GRU); }

static const lt_reg rnn_fns[] = {
  LT_ROW(rnn_tanh, l_rnn_tanh, LAYER_ARGS, LT_MODULE),
  LT_ROW(rnn_relu, l_rnn_relu, LAYER_ARGS, LT_MODULE),
  LT_ROW(lstm, l_lstm, LSTM_ARGS, LT_MODULE),
  LT_ROW(gru, l_gru, LAYER_ARGS, LT_MODULE),
  LT_ROW(rnn_tanh_cell, l_rnn_tanh_cell, CELL_ARGS, LT_MODULE),
  LT_ROW(rnn_relu_cell, l_rnn_relu_cell, CELL_ARGS, LT_MODULE),
  LT_ROW(lstm_cell, l_lstm_cell, CELL_ARGS, LT_MODULE),
  LT_ROW(gru_cell, l_gru_cell, CELL_ARGS, LT_MODULE),
  {"_rnn_cell_out", "lucid._rnn_cell_out", l_rnn_cell_out, NULL, LT_MODULE},
  {"_rnn_layer_out", "lucid._rnn_layer_out", l_rnn_layer_out, NULL, LT_MODULE},
  {NULL, NULL, NULL, NULL, 0}};

void lt_register_rnn(lua_State *L, int state, int methods, int module) {
  lt_register(L, state, methods, module, rnn_fns);
}

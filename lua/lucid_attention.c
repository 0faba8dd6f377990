/***
Part of lucid; help() and `make doc` read these comments.
@module lucid
*/

/* lucid_attention.c: the attention family (core/attention.c) as Lua
 * functions. nn.functional.scaled_dot_product_attention and
 * nn.MultiheadAttention (lucid/nn/_attention.lua) build on them. */
#include "binding.h"

static const lt_arg MASKED_SOFTMAX_ARGS[] = {
  {"mask", LT_K_TENSOR, 0, 0, NULL}, {"scale", LT_K_NUMBER, 0, 1, NULL},
  {"out", LT_K_TENSOR, 0, 0, NULL}, {NULL}};
/***
The fused masked softmax that attention runs between its two products:
softmax over the last dim of scale * x + mask, in one pass over x, with a
one-pass backward (gradient scale * y (g - sum(g y)) from the saved
result). mask (or nil) broadcasts to x: a bool mask is true where a score
is masked out (it becomes -inf), a float mask of x's dtype is added (and
gets a gradient when it requires one). A row with every score masked out
is NaN, as PyTorch's softmax of a row of -inf. With out (a contiguous
tensor of x's shape and dtype, x itself allowed; grad mode off), writes
there and returns it (Module:reuse_buffers).
@function masked_softmax
@usage lucid.masked_softmax(x [, mask] [, scale = 1] [, out])
@within nn: attention
*/
static int l_masked_softmax(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *x = lt_tensor_arg(L, 1, lt_fn(L)->fname);
  lt_val v[3];
  const char *fname = lt_args(L, 2, -1, v);
  if (!v[2].idx) return lt_push(L, ctx, lc_masked_softmax(ctx, x, v[0].t, v[1].n), fname);
  lt_do(L, ctx, lc_masked_softmax_out(ctx, v[2].t, x, v[0].t, v[1].n), fname);
  lua_pushvalue(L, v[2].idx);
  return 1;
}

static const lt_reg attention_fns[] = {
  LT_ROW(masked_softmax, l_masked_softmax, MASKED_SOFTMAX_ARGS, LT_MODULE),
  {NULL, NULL, NULL, NULL, 0}};

void lt_register_attention(lua_State *L, int state, int methods, int module) {
  lt_register(L, state, methods, module, attention_fns);
}

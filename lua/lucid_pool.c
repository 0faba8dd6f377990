/* lucid_pool.c: the core's pooling (core/pool.c) for lucid.nn.functional,
 * as private functions lucid.core._pool2d, _unpool2d, _interp and
 * _batch_norm. The public functions
 * (F.max_pool2d, F.avg_pool1d, F.adaptive_max_pool2d, ...) are Lua
 * (lucid/nn/_pool.lua): they check PyTorch's options with the one argument
 * checker and call this with every size spelt out, so nothing here parses
 * options. */
#include "binding.h"
#include "lc_pool.h"

/* _pool2d(x, kind, kh, kw, sh, sw, ph, pw, dh, dw, ceil_mode, adaptive, oh,
 * ow, count_include_pad, divisor_override, fname [, out [, plane1d]]): kind
 * "max" or "avg"; for "max", two results: y and the 0-based int64 indices.
 * With out (reuse_buffers), y is written there and out is the one result;
 * plane1d: x (N, C, L) and out (N, C, OL) are a 1-d pool's, taken here as
 * (N, C, 1, L) views released before returning. */
static int l_pool2d(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  const char *fname = luaL_optstring(L, 17, "lucid._pool2d");
  lc_tensor *x = lt_tensor_arg(L, 1, fname);
  const char *kind = luaL_checkstring(L, 2);
  lc_pool2d_opts o = lc_pool2d_defaults(1, 1);
  for (int d = 0; d < 2; d++) {
    o.kernel[d] = lt_integer(L, 3 + d, "kernel_size", fname);
    o.stride[d] = lt_integer(L, 5 + d, "stride", fname);
    o.padding[d] = lt_integer(L, 7 + d, "padding", fname);
    o.dilation[d] = lt_integer(L, 9 + d, "dilation", fname);
    o.out_size[d] = lt_integer(L, 13 + d, "output_size", fname);
  }
  o.ceil_mode = lua_toboolean(L, 11);
  o.adaptive = lua_toboolean(L, 12);
  o.count_include_pad = lua_toboolean(L, 15);
  o.divisor_override = lt_integer(L, 16, "divisor_override", fname);
  if (!lua_isnoneornil(L, 18)) {
    lc_tensor *out = lt_tensor_arg(L, 18, fname);
    lc_tensor *xv = x, *ov = out;
    if (lua_toboolean(L, 19) && x->ndim == 3 && out->ndim == 3) {
      int64_t sx[4] = {x->shape[0], x->shape[1], 1, x->shape[2]};
      int64_t so[4] = {out->shape[0], out->shape[1], 1, out->shape[2]};
      xv = lc_reshape(ctx, x, 4, sx);
      ov = xv ? lc_reshape(ctx, out, 4, so) : NULL;
    } else {
      lc_tensor_retain(xv);
      lc_tensor_retain(ov);
    }
    lc_status st = !xv || !ov ? lc_ctx_status(ctx)
                   : kind[0] == 'a' ? lc_avg_pool2d_out(ctx, ov, xv, &o) : lc_max_pool2d_out(ctx, ov, xv, &o);
    lc_tensor_release(xv);
    lc_tensor_release(ov);
    lt_do(L, ctx, st, fname);
    lua_pushvalue(L, 18);
    return 1;
  }
  if (kind[0] == 'a') return lt_push(L, ctx, lc_avg_pool2d(ctx, x, &o), fname);
  lc_tensor **slots[2] = {lt_newbox(L), lt_newbox(L)};
  lc_tensor *y = NULL, *ix = NULL;
  /* one more try after a collection, as lt_push makes it */
  if (!(y = lc_max_pool2d(ctx, x, &o, &ix)) && lt_retry(L, ctx, fname) &&
      !(y = lc_max_pool2d(ctx, x, &o, &ix)))
    return lt_fail(L, ctx, fname);
  *slots[0] = y;
  *slots[1] = ix;
  lt_report_bytes(L, ctx);
  return 2;
}

/* _unpool2d(x, indices (0-based), oh, ow, fname) */
static int l_unpool2d(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  const char *fname = luaL_optstring(L, 5, "lucid._unpool2d");
  lc_tensor *x = lt_tensor_arg(L, 1, fname), *ix = lt_tensor_arg(L, 2, fname);
  int64_t oh = lt_integer(L, 3, "output_size", fname), ow = lt_integer(L, 4, "output_size", fname);
  return lt_push(L, ctx, lc_max_unpool2d(ctx, x, ix, oh, ow), fname);
}

/* _interp(x, mode ("nearest" or "linear"), oh, ow, align_corners, scale_factor_h,
 * scale_factor_w (0: none), fname) */
static int l_interp(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  const char *fname = luaL_optstring(L, 8, "lucid._interp");
  lc_tensor *x = lt_tensor_arg(L, 1, fname);
  lc_interp_opts o;
  o.mode = luaL_checkstring(L, 2)[0] == 'n' ? LC_INTERP_NEAREST : LC_INTERP_LINEAR;
  o.out_size[0] = lt_integer(L, 3, "size", fname);
  o.out_size[1] = lt_integer(L, 4, "size", fname);
  o.align_corners = lua_toboolean(L, 5);
  o.scale_factor[0] = luaL_checknumber(L, 6);
  o.scale_factor[1] = luaL_checknumber(L, 7);
  return lt_push(L, ctx, lc_interpolate(ctx, x, &o), fname);
}

/* _batch_norm(x, weight, bias, running_mean, running_var, training, eps, fname
 * [, out]): y, and in training the batch's mean and (biased) var; with out
 * (reuse_buffers), y is written there and out is the one result. */
static int l_batch_norm(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  const char *fname = luaL_optstring(L, 8, "lucid._batch_norm");
  lc_tensor *x = lt_tensor_arg(L, 1, fname);
  lc_tensor *t[4];
  for (int i = 0; i < 4; i++) t[i] = lua_isnoneornil(L, 2 + i) ? NULL : lt_tensor_arg(L, 2 + i, fname);
  int training = lua_toboolean(L, 6);
  double eps = luaL_checknumber(L, 7);
  if (!lua_isnoneornil(L, 9)) {
    lt_do(L, ctx, lc_batch_norm_out(ctx, lt_tensor_arg(L, 9, fname), x, t[0], t[1], t[2], t[3], training,
                                    eps), fname);
    lua_pushvalue(L, 9);
    return 1;
  }
  lc_tensor **slots[3] = {lt_newbox(L), lt_newbox(L), lt_newbox(L)};
  lc_tensor *r[3] = {NULL, NULL, NULL};
  lt_do(L, ctx, lc_batch_norm(ctx, x, t[0], t[1], t[2], t[3], training, eps, &r[0], &r[1], &r[2]),
        fname);
  for (int i = 0; i < 3; i++) *slots[i] = r[i];
  lt_report_bytes(L, ctx);
  return 3;
}

/* _norm_out(x, kind, k, weight, bias, eps, out, fname): kind "layer" (k the
 * number of trailing dims normalised) or "group" (k groups); out returned. */
static int l_norm_out(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  const char *fname = luaL_optstring(L, 8, "lucid._norm_out");
  lc_tensor *x = lt_tensor_arg(L, 1, fname);
  const char *kind = luaL_checkstring(L, 2);
  int64_t k = lt_integer(L, 3, "k", fname);
  lc_tensor *w = lua_isnoneornil(L, 4) ? NULL : lt_tensor_arg(L, 4, fname);
  lc_tensor *b = lua_isnoneornil(L, 5) ? NULL : lt_tensor_arg(L, 5, fname);
  double eps = luaL_checknumber(L, 6);
  lc_tensor *out = lt_tensor_arg(L, 7, fname);
  lt_do(L, ctx, kind[0] == 'l' ? lc_layer_norm_out(ctx, out, x, (int)k, w, b, eps)
                               : lc_group_norm_out(ctx, out, x, k, w, b, eps), fname);
  lua_pushvalue(L, 7);
  return 1;
}

void lt_register_pool(lua_State *L, int state, int methods, int module) {
  static const lt_reg fns[] = {
    {"_pool2d", "lucid._pool2d", l_pool2d, NULL, LT_MODULE},
    {"_unpool2d", "lucid._unpool2d", l_unpool2d, NULL, LT_MODULE},
    {"_interp", "lucid._interp", l_interp, NULL, LT_MODULE},
    {"_batch_norm", "lucid._batch_norm", l_batch_norm, NULL, LT_MODULE},
    {"_norm_out", "lucid._norm_out", l_norm_out, NULL, LT_MODULE},
    {NULL, NULL, NULL, NULL, 0}};
  lt_register(L, state, methods, module, fns);
}

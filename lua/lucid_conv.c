/* lucid_conv.c: the core's convolutions (core/conv.c) for the Lua layer.
 *
 * Private functions of lucid.core ("_" keeps them out of the package):
 * lucid.nn.functional (lucid/nn/_conv.lua) checks the user's arguments
 * against its options schemas, works out "same" padding, padding modes,
 * 1-d and unbatched inputs, and calls these with every size given:
 *   _conv2d(fname, x, w, b|nil, sh, sw, ph, pw, oph, opw, dh, dw, groups [, out])
 *   _conv_transpose2d(the same)
 *   _unfold(fname, x, kh, kw, sh, sw, ph, pw, dh, dw)
 *   _fold(fname, cols, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw)
 * fname is the public name the core's errors are raised under. */
#include "binding.h"

/* The geometry from stack index i on: stride, padding, output_padding,
 * dilation (two each), groups. */
static lc_conv2d_args read_args(lua_State *L, int i, int with_groups, const char *fname) {
  lc_conv2d_args a = lc_conv2d_defaults();
  a.stride[0] = lt_integer(L, i, "stride", fname);
  a.stride[1] = lt_integer(L, i + 1, "stride", fname);
  a.padding[0] = lt_integer(L, i + 2, "padding", fname);
  a.padding[1] = lt_integer(L, i + 3, "padding", fname);
  if (with_groups) {
    a.output_padding[0] = lt_integer(L, i + 4, "output_padding", fname);
    a.output_padding[1] = lt_integer(L, i + 5, "output_padding", fname);
    i += 2;
  }
  a.dilation[0] = lt_integer(L, i + 4, "dilation", fname);
  a.dilation[1] = lt_integer(L, i + 5, "dilation", fname);
  if (with_groups) a.groups = lt_integer(L, i + 6, "groups", fname);
  return a;
}

typedef lc_tensor *(*conv_fn)(lc_ctx *, lc_tensor *, lc_tensor *, lc_tensor *,
                              const lc_conv2d_args *);

static int conv_call(lua_State *L, conv_fn f) {
  lc_ctx *ctx = LT_CTX(L);
  const char *fname = luaL_checkstring(L, 1);
  lc_tensor *x = lt_tensor_arg(L, 2, fname);
  lc_tensor *w = lt_tensor_arg(L, 3, fname);
  lc_tensor *b = lua_isnil(L, 4) ? NULL : lt_tensor_arg(L, 4, fname);
  lc_conv2d_args a = read_args(L, 5, 1, fname);
  return lt_push(L, ctx, f(ctx, x, w, b, &a), fname);
}

typedef lc_status (*conv_out_fn)(lc_ctx *, lc_tensor *, lc_tensor *, lc_tensor *, lc_tensor *,
                                 const lc_conv2d_args *);

/* a (A, B, L) viewed as (A, B, 1, L), the 1-d layers' form of the 2-d
 * convolution; a itself (retained) when it is not 3-d. */
static lc_tensor *as_2d(lc_ctx *ctx, lc_tensor *a) {
  if (a->ndim != 3) {
    lc_tensor_retain(a);
    return a;
  }
  int64_t s[4] = {a->shape[0], a->shape[1], 1, a->shape[2]};
  return lc_reshape(ctx, a, 4, s);
}

/* conv2d and conv_transpose2d; with an out tensor after groups
 * (reuse_buffers), written into it. x, w and out may all be 3-d (Conv1d,
 * ConvTranspose1d under reuse_buffers; the sizes of height then 1): the
 * 4-d views taken here are released before returning, so the call leaves
 * nothing behind. */
static int conv_or_out(lua_State *L, conv_fn f, conv_out_fn f_out) {
  if (lua_isnoneornil(L, 14)) return conv_call(L, f);
  lc_ctx *ctx = LT_CTX(L);
  const char *fname = luaL_checkstring(L, 1);
  lc_tensor *x = lt_tensor_arg(L, 2, fname);
  lc_tensor *w = lt_tensor_arg(L, 3, fname);
  lc_tensor *b = lua_isnil(L, 4) ? NULL : lt_tensor_arg(L, 4, fname);
  lc_conv2d_args a = read_args(L, 5, 1, fname);
  lc_tensor *out = lt_tensor_arg(L, 14, fname);
  lc_tensor *v[3] = {NULL, NULL, NULL};
  lc_status st = LC_OK;
  if (x->ndim == 3 && w->ndim == 3 && out->ndim == 3) {
    v[0] = as_2d(ctx, x);
    v[1] = v[0] ? as_2d(ctx, w) : NULL;
    v[2] = v[1] ? as_2d(ctx, out) : NULL;
    st = v[2] ? f_out(ctx, v[2], v[0], v[1], b, &a) : lc_ctx_status(ctx);
  } else {
    st = f_out(ctx, out, x, w, b, &a);
  }
  for (int i = 0; i < 3; i++) lc_tensor_release(v[i]);
  lt_do(L, ctx, st, fname);
  lua_settop(L, 14);
  return 1;  /* out itself */
}
static int l_conv2d(lua_State *L) { return conv_or_out(L, lc_conv2d, lc_conv2d_out); }
static int l_conv_transpose2d(lua_State *L) {
  return conv_or_out(L, lc_conv_transpose2d, lc_conv_transpose2d_out);
}

static int l_unfold(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  const char *fname = luaL_checkstring(L, 1);
  lc_tensor *x = lt_tensor_arg(L, 2, fname);
  int64_t kernel[2] = {lt_integer(L, 3, "kernel_size", fname),
                       lt_integer(L, 4, "kernel_size", fname)};
  lc_conv2d_args a = read_args(L, 5, 0, fname);
  return lt_push(L, ctx, lc_unfold(ctx, x, kernel, &a), fname);
}

static int l_fold(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  const char *fname = luaL_checkstring(L, 1);
  lc_tensor *x = lt_tensor_arg(L, 2, fname);
  int64_t size[2] = {lt_integer(L, 3, "output_size", fname),
                     lt_integer(L, 4, "output_size", fname)};
  int64_t kernel[2] = {lt_integer(L, 5, "kernel_size", fname),
                       lt_integer(L, 6, "kernel_size", fname)};
  lc_conv2d_args a = read_args(L, 7, 0, fname);
  return lt_push(L, ctx, lc_fold(ctx, x, size, kernel, &a), fname);
}

static const lt_reg conv_fns[] = {
  {"_conv2d", "lucid.core._conv2d", l_conv2d, NULL, LT_MODULE},
  {"_conv_transpose2d", "lucid.core._conv_transpose2d", l_conv_transpose2d, NULL, LT_MODULE},
  {"_unfold", "lucid.core._unfold", l_unfold, NULL, LT_MODULE},
  {"_fold", "lucid.core._fold", l_fold, NULL, LT_MODULE},
  {NULL, NULL, NULL, NULL, 0}};

void lt_register_conv(lua_State *L, int state, int methods, int module) {
  lt_register(L, state, methods, module, conv_fns);
}

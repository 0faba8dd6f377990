/* lucid_ops.c: tensor operations as Lua functions. Each is both
 * lucid.op(t, ...) and t:op(...); arithmetic is also the metamethods.
 * The pattern everywhere: check arguments (1-based dims become 0-based),
 * push an empty box, call the core, fill the box or raise its message. */
#include <string.h>

#include "binding.h"

/* ---- arithmetic ---------------------------------------------------------------------- */

typedef lc_tensor *(*binary_fn)(lc_ctx *, lc_tensor *, lc_tensor *);

/* Either operand may be a number; it takes the other's dtype. */
static int binary(lua_State *L, binary_fn f, const char *fname) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *ta = lt_test(L, 1), *tb = lt_test(L, 2);
  const lc_tensor *like = ta ? ta : tb;
  if (!like) {
    if (lua_type(L, 1) == LUA_TNUMBER && lua_type(L, 2) == LUA_TNUMBER)
      return lt_error(L, "%s: expected at least one tensor, got two numbers", fname);
    lt_check(L, lua_type(L, 1) == LUA_TNUMBER ? 2 : 1);  /* raises the type error */
  }
  lc_tensor *a = lt_operand(L, ctx, 1, like, fname);
  lc_tensor *b = lt_operand(L, ctx, 2, like, fname);
  return lt_push(L, ctx, f(ctx, a, b), fname);
}

static int l_add(lua_State *L) { return binary(L, lc_add, "lucid.add"); }
static int l_sub(lua_State *L) { return binary(L, lc_sub, "lucid.sub"); }
static int l_mul(lua_State *L) { return binary(L, lc_mul, "lucid.mul"); }
static int l_div(lua_State *L) { return binary(L, lc_div, "lucid.div"); }
static int l_matmul(lua_State *L) { return binary(L, lc_matmul, "lucid.matmul"); }

/* A number exponent takes the scalar path: cheaper, and its backward needs
 * no log of the base. */
static int l_pow(lua_State *L) {
  lc_tensor *a = lt_test(L, 1);
  if (a && lua_type(L, 2) == LUA_TNUMBER) {
    lc_ctx *ctx = LT_CTX(L);
    return lt_push(L, ctx, lc_pow_scalar(ctx, a, lua_tonumber(L, 2)), "lucid.pow");
  }
  return binary(L, lc_pow, "lucid.pow");
}

typedef lc_tensor *(*unary_fn)(lc_ctx *, lc_tensor *);

static int unary(lua_State *L, unary_fn f, const char *fname) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  return lt_push(L, ctx, f(ctx, a), fname);
}

static int l_neg(lua_State *L) { return unary(L, lc_neg, "lucid.neg"); }
/* The out argument at idx: a tensor, or a table {out = t}; 0 when absent. */
static int out_arg(lua_State *L, int idx) {
  if (lt_test(L, idx)) return idx;
  if (lua_istable(L, idx)) {
    lua_getfield(L, idx, "out");
    if (lt_test(L, -1)) {
      lua_replace(L, idx);
      return idx;
    }
    lua_pop(L, 1);
  }
  return 0;
}

/* tanh(x [, out]): with out, written there and out returned (no new tensor). */
static int l_tanh(lua_State *L) {
  int o = out_arg(L, 2);
  if (!o) return unary(L, lc_tanh, "lucid.tanh");
  lc_ctx *ctx = LT_CTX(L);
  if (lc_tanh_out(ctx, lt_check(L, o), lt_check(L, 1)) != LC_OK) return lt_fail(L, ctx, "lucid.tanh");
  lua_pushvalue(L, o);
  return 1;
}
static int l_log(lua_State *L) { return unary(L, lc_log, "lucid.log"); }
static int l_clone(lua_State *L) { return unary(L, lc_clone, "lucid.clone"); }
static int l_contiguous(lua_State *L) { return unary(L, lc_contiguous, "lucid.contiguous"); }

/* linear(x, weight [, bias] [, out]): with out, written there and returned. */
static int l_linear(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *x = lt_check(L, 1), *w = lt_check(L, 2);
  lc_tensor *b = lua_isnoneornil(L, 3) ? NULL : lt_check(L, 3);
  int o = out_arg(L, 4);
  if (!o) return lt_push(L, ctx, lc_linear(ctx, x, w, b), "lucid.linear");
  if (lc_linear_out(ctx, lt_check(L, o), x, w, b) != LC_OK) return lt_fail(L, ctx, "lucid.linear");
  lua_pushvalue(L, o);
  return 1;
}

/* ---- dtype ------------------------------------------------------------------------------- */

static int to_dtype(lua_State *L, lc_dtype dt, const char *fname) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  return lt_push(L, ctx, lc_to_dtype(ctx, a, dt), fname);
}

static int l_to(lua_State *L) {
  const char *s = luaL_checkstring(L, 2);
  if (strcmp(s, "float32") == 0 || strcmp(s, "float") == 0) return to_dtype(L, LC_FLOAT32, "lucid.to");
  if (strcmp(s, "float64") == 0 || strcmp(s, "double") == 0) return to_dtype(L, LC_FLOAT64, "lucid.to");
  return lt_error(L, "lucid.to: unknown dtype '%s' (expected \"float32\" or \"float64\")", s);
}

static int l_float(lua_State *L) { return to_dtype(L, LC_FLOAT32, "lucid.float"); }
static int l_double(lua_State *L) { return to_dtype(L, LC_FLOAT64, "lucid.double"); }

/* ---- reductions ------------------------------------------------------------------------ */

typedef lc_tensor *(*reduce_all_fn)(lc_ctx *, lc_tensor *);
typedef lc_tensor *(*reduce_dim_fn)(lc_ctx *, lc_tensor *, int, int);

/* t:sum(), t:sum(dim [, keepdim]), t:sum{dim = d, keepdim = true} */
static int reduce(lua_State *L, reduce_all_fn all, reduce_dim_fn along, const char *fname) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  int dim_idx = 2, keep_idx = 3;
  if (lua_istable(L, 2)) {  /* named arguments */
    lua_getfield(L, 2, "dim");
    lua_getfield(L, 2, "keepdim");
    dim_idx = lua_absindex(L, -2);
    keep_idx = lua_absindex(L, -1);
  }
  lc_tensor *r;
  if (lua_isnoneornil(L, dim_idx)) {
    lc_tensor **slot = lt_newbox(L);
    r = all(ctx, a);
    if (r && lua_toboolean(L, keep_idx)) {  /* every dim kept, as size 1 */
      int64_t ones[LC_MAX_DIMS] = {1, 1, 1, 1, 1, 1, 1, 1};
      lc_tensor *k = lc_reshape(ctx, r, a->ndim, ones);
      lc_tensor_release(r);
      r = k;
    }
    return lt_fill(L, ctx, slot, r, fname);
  }
  int dim = lt_dim(L, dim_idx, a->ndim, fname);
  int keep = lua_toboolean(L, keep_idx);
  lc_tensor **slot = lt_newbox(L);
  return lt_fill(L, ctx, slot, along(ctx, a, dim, keep), fname);
}

static int l_sum(lua_State *L) { return reduce(L, lc_sum, lc_sum_dim, "lucid.sum"); }
static int l_mean(lua_State *L) { return reduce(L, lc_mean, lc_mean_dim, "lucid.mean"); }

/* ---- shapes ------------------------------------------------------------------------------- */

int lt_sizes_op(lua_State *L, lt_sizes_fn f, const char *what, const char *fname) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  int64_t sizes[LC_MAX_DIMS];
  int next;
  int n = lt_shape(L, 2, sizes, fname, &next);
  if (!lua_isnone(L, next))
    return lt_error(L, "%s: expected %s as integers or one table, got %s", fname, what,
                      luaL_typename(L, next));
  return lt_push(L, ctx, f(ctx, a, n, sizes), fname);
}

static int reshape_like(lua_State *L, lt_sizes_fn f, const char *fname) {
  return lt_sizes_op(L, f, "sizes", fname);
}

/* reshape: a view when strides allow (as PyTorch), else a copy */
static int l_reshape(lua_State *L) { return reshape_like(L, lc_reshape, "lucid.reshape"); }
/* view: never a copy, an error when strides do not allow it */
static int l_view(lua_State *L) { return reshape_like(L, lc_view, "lucid.view"); }

static int l_expand(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  int64_t shape[LC_MAX_DIMS];
  int n = lt_shape(L, 2, shape, "lucid.expand", NULL);
  for (int i = 0; i < n; i++) {  /* -1 keeps the size, as in PyTorch */
    int j = i - (n - a->ndim);
    if (shape[i] == -1 && j >= 0) shape[i] = a->shape[j];
  }
  return lt_push(L, ctx, lc_expand(ctx, a, n, shape), "lucid.expand");
}

static int l_transpose(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  int d0 = lt_dim(L, 2, a->ndim, "lucid.transpose");
  int d1 = lt_dim(L, 3, a->ndim, "lucid.transpose");
  return lt_push(L, ctx, lc_transpose(ctx, a, d0, d1), "lucid.transpose");
}

/* select(t, dim, index): index 1-based, negative from the end */
static int l_select(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  int d = lt_dim(L, 2, a->ndim, "lucid.select");
  lua_Integer i = lt_integer(L, 3, "index", "lucid.select"), n = (lua_Integer)a->shape[d];
  if (i == 0 || i > n || i < -n)
    return lt_error(L, "lucid.select: index %I is out of range for dimension %d of size %I",
                      (LUAI_UACINT)i, d + 1, (LUAI_UACINT)n);
  return lt_push(L, ctx, lc_select(ctx, a, d, i > 0 ? i - 1 : n + i), "lucid.select");
}

/* ---- in place -------------------------------------------------------------------------- */

static int l_copy_(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *dst = lt_check(L, 1), *src = lt_check(L, 2);
  lt_check_inplace(L, dst, "lucid.copy_");
  if (lc_copy_(ctx, dst, src) != LC_OK) return lt_fail(L, ctx, "lucid.copy_");
  lua_settop(L, 1);
  return 1;
}

static int l_fill_(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *dst = lt_check(L, 1);
  lt_check_inplace(L, dst, "lucid.fill_");
  if (lc_fill_(ctx, dst, luaL_checknumber(L, 2)) != LC_OK) return lt_fail(L, ctx, "lucid.fill_");
  lua_settop(L, 1);
  return 1;
}

/* ---- in place, for optimizer updates (no graph: refused on a tensor that
 * requires grad while recording, as PyTorch does) ---------------------------- */

/* An optional number argument at idx, or a field of a trailing table. */
static double opt_number(lua_State *L, int idx, const char *field, double dflt,
                         const char *fname) {
  if (lua_type(L, idx) == LUA_TNUMBER) return lua_tonumber(L, idx);
  if (lua_istable(L, idx) && !lt_test(L, idx)) {
    lua_getfield(L, idx, field);
    if (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TNUMBER)
      lt_error(L, "%s: %s must be a number, got %s", fname, field, luaL_typename(L, -1));
    double v = luaL_optnumber(L, -1, dflt);
    lua_pop(L, 1);
    return v;
  }
  if (!lua_isnoneornil(L, idx))
    lt_error(L, "%s: expected a number or {%s = ...}, got %s", fname, field,
               luaL_typename(L, idx));
  return dflt;
}

static int inplace_done(lua_State *L, lc_ctx *ctx, lc_status st, const char *fname) {
  if (st != LC_OK) return lt_fail(L, ctx, fname);
  lua_settop(L, 1);
  return 1;
}

/* t:add_(other [, alpha]) and t:sub_(other [, alpha]); other a tensor or a number */
static int add_sub_(lua_State *L, double sign, const char *fname) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *t = lt_check(L, 1);
  lt_check_inplace(L, t, fname);
  double alpha = sign * opt_number(L, 3, "alpha", 1.0, fname);
  lc_tensor *o = lt_test(L, 2);
  if (!o && lua_type(L, 2) != LUA_TNUMBER)
    return lt_error(L, "%s: expected a tensor or a number, got %s", fname, luaL_typename(L, 2));
  return inplace_done(L, ctx, lc_add_(ctx, t, o, o ? 0 : lua_tonumber(L, 2), alpha), fname);
}
static int l_add_(lua_State *L) { return add_sub_(L, 1.0, "lucid.add_"); }
static int l_sub_(lua_State *L) { return add_sub_(L, -1.0, "lucid.sub_"); }

typedef lc_status (*scale_fn)(lc_ctx *, lc_tensor *, const lc_tensor *, double);
static int scale_(lua_State *L, scale_fn f, const char *fname) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *t = lt_check(L, 1);
  lt_check_inplace(L, t, fname);
  lc_tensor *o = lt_test(L, 2);
  if (!o && lua_type(L, 2) != LUA_TNUMBER)
    return lt_error(L, "%s: expected a tensor or a number, got %s", fname, luaL_typename(L, 2));
  return inplace_done(L, ctx, f(ctx, t, o, o ? 0 : lua_tonumber(L, 2)), fname);
}
static int l_mul_(lua_State *L) { return scale_(L, lc_mul_, "lucid.mul_"); }
static int l_div_(lua_State *L) { return scale_(L, lc_div_, "lucid.div_"); }

typedef lc_status (*addc_fn)(lc_ctx *, lc_tensor *, const lc_tensor *, const lc_tensor *, double);
/* t:addcmul_(t1, t2 [, value = 1]) and t:addcdiv_(t1, t2 [, value = 1]) */
static int addc_(lua_State *L, addc_fn f, const char *fname) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *t = lt_check(L, 1), *a = lt_check(L, 2), *b = lt_check(L, 3);
  lt_check_inplace(L, t, fname);
  return inplace_done(L, ctx, f(ctx, t, a, b, opt_number(L, 4, "value", 1.0, fname)), fname);
}
static int l_addcmul_(lua_State *L) { return addc_(L, lc_addcmul_, "lucid.addcmul_"); }
static int l_addcdiv_(lua_State *L) { return addc_(L, lc_addcdiv_, "lucid.addcdiv_"); }

/* t:lerp_(end, weight): t += weight * (end - t) */
static int l_lerp_(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *t = lt_check(L, 1), *e = lt_check(L, 2);
  lt_check_inplace(L, t, "lucid.lerp_");
  return inplace_done(L, ctx, lc_lerp_(ctx, t, e, luaL_checknumber(L, 3)), "lucid.lerp_");
}

static int l_sqrt_(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *t = lt_check(L, 1);
  lt_check_inplace(L, t, "lucid.sqrt_");
  return inplace_done(L, ctx, lc_sqrt_(ctx, t), "lucid.sqrt_");
}

static int l_zero_(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *t = lt_check(L, 1);
  lt_check_inplace(L, t, "lucid.zero_");
  return inplace_done(L, ctx, lc_fill_(ctx, t, 0.0), "lucid.zero_");
}

static const luaL_Reg op_fns[] = {
  {"add_", l_add_}, {"sub_", l_sub_}, {"mul_", l_mul_}, {"div_", l_div_},
  {"addcmul_", l_addcmul_}, {"addcdiv_", l_addcdiv_}, {"lerp_", l_lerp_}, {"sqrt_", l_sqrt_},
  {"zero_", l_zero_},
  {"add", l_add}, {"sub", l_sub}, {"mul", l_mul}, {"div", l_div}, {"pow", l_pow},
  {"neg", l_neg}, {"tanh", l_tanh}, {"log", l_log}, {"matmul", l_matmul},
  {"linear", l_linear}, {"sum", l_sum}, {"mean", l_mean}, {"reshape", l_reshape},
  {"view", l_view}, {"expand", l_expand}, {"transpose", l_transpose},
  {"select", l_select}, {"contiguous", l_contiguous}, {"clone", l_clone}, {"to", l_to},
  {"float", l_float}, {"double", l_double}, {"copy_", l_copy_}, {"fill_", l_fill_},
  {NULL, NULL}};

static const luaL_Reg meta_ops[] = {
  {"__add", l_add}, {"__sub", l_sub}, {"__mul", l_mul}, {"__div", l_div},
  {"__pow", l_pow}, {"__unm", l_neg}, {NULL, NULL}};

void lt_register_ops(lua_State *L, int state, int methods, int module) {
  lt_setfuncs(L, module, state, op_fns);
  lt_setfuncs(L, methods, state, op_fns);
  luaL_getmetatable(L, LT_TENSOR);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    luaL_newmetatable(L, LT_TENSOR);
  }
  lt_setfuncs(L, lua_absindex(L, -1), state, meta_ops);
  lua_pop(L, 1);
}

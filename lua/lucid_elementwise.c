/* lucid_elementwise.c: the elementwise ops as Lua functions (lucid.op(t, ...) and t:op(...)).
 *
 * Masks: the library has no bool dtype, so eq, ne, lt, le, gt, ge, isnan and
 * isinf return tensors of the (promoted) input dtype holding 1.0 and 0.0,
 * and where() treats any nonzero condition (NaN too) as true. A mask never
 * requires grad, and works as a number: x * x:gt(0) keeps the positive part.
 *
 * A number operand becomes a 0-d tensor of the other operand's dtype, so it
 * never promotes float32 to float64 (as PyTorch's Python scalars do not).
 *
 * One method differs from its function: x:where(cond, y) is PyTorch's
 * Tensor.where, i.e. lucid.where(cond, x, y). */
#include <string.h>

#include "binding.h"

/* Errors name the op, unlike luaL_checkudata's "bad argument #1 to 'exp'". */
static lc_tensor *tensor_arg(lua_State *L, int idx, const char *fname) {
  lt_box *b = (lt_box *)luaL_testudata(L, idx, LT_TENSOR);
  if (!b)
    lt_error(L, "%s: bad argument #%d (lucid.Tensor expected, got %s)", fname, idx,
               luaL_typename(L, idx));
  else if (!b->t)
    lt_error(L, "%s: bad argument #%d (tensor was closed)", fname, idx);
  return b->t;
}

/* The value at idx, or `dflt` when it is nil or absent. */
static double number_opt(lua_State *L, int idx, double dflt, const char *what, const char *fname) {
  if (lua_isnoneornil(L, idx)) return dflt;
  if (lua_type(L, idx) != LUA_TNUMBER)
    lt_error(L, "%s: %s must be a number, got %s", fname, what, luaL_typename(L, idx));
  return lua_tonumber(L, idx);
}

/* Named arguments: when the argument at `first` is a table, pushes its
 * fields `names` and returns the index of the first; otherwise returns
 * `first` (positional). Either way the i-th argument is at result + i. */
static int options(lua_State *L, int first, const char *const *names, int n) {
  if (!lua_istable(L, first)) return first;
  for (int i = 0; i < n; i++) lua_getfield(L, first, names[i]);
  return lua_gettop(L) - n + 1;
}

/* ---- unary ----------------------------------------------------------------------- */

typedef lc_tensor *(*unary_fn)(lc_ctx *, lc_tensor *);

static int unary(lua_State *L, unary_fn f, const char *fname) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = tensor_arg(L, 1, fname);
  lc_tensor **slot = lt_newbox(L);  /* before the core call: a Lua error here leaks nothing */
  return lt_fill(L, ctx, slot, f(ctx, a), fname);
}

#define UNARY(name) \
  static int ew_##name(lua_State *L) { return unary(L, lc_##name, "lucid." #name); }
UNARY(exp)
UNARY(log1p)
UNARY(expm1)
UNARY(sqrt)
UNARY(rsqrt)
UNARY(abs)
UNARY(sign)
UNARY(reciprocal)
UNARY(square)
UNARY(sin)
UNARY(cos)
UNARY(sigmoid)
UNARY(relu)
UNARY(silu)
UNARY(floor)
UNARY(ceil)
UNARY(round)
UNARY(isnan)
UNARY(isinf)

/* gelu(x [, approximate]) or gelu(x, {approximate = "tanh"}); "none" is the
 * exact erf form, PyTorch's default. */
static int ew_gelu(lua_State *L) {
  static const char *const names[] = {"approximate"};
  const char *fname = "lucid.gelu";
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = tensor_arg(L, 1, fname);
  int idx = options(L, 2, names, 1), tanh_approx = 0;
  if (!lua_isnoneornil(L, idx)) {
    if (lua_type(L, idx) != LUA_TSTRING)
      return lt_error(L, "%s: approximate must be \"none\" or \"tanh\", got %s", fname,
                        luaL_typename(L, idx));
    const char *s = lua_tostring(L, idx);
    if (strcmp(s, "tanh") == 0) tanh_approx = 1;
    else if (strcmp(s, "none") != 0)
      return lt_error(L, "%s: approximate must be \"none\" or \"tanh\", got \"%s\"", fname, s);
  }
  lc_tensor **slot = lt_newbox(L);
  return lt_fill(L, ctx, slot, lc_gelu(ctx, a, tanh_approx), fname);
}

/* softplus(x [, beta [, threshold]]) or softplus(x, {beta =, threshold =}) */
static int ew_softplus(lua_State *L) {
  static const char *const names[] = {"beta", "threshold"};
  const char *fname = "lucid.softplus";
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = tensor_arg(L, 1, fname);
  int idx = options(L, 2, names, 2);
  double beta = number_opt(L, idx, 1.0, "beta", fname);
  double threshold = number_opt(L, idx + 1, 20.0, "threshold", fname);
  lc_tensor **slot = lt_newbox(L);
  return lt_fill(L, ctx, slot, lc_softplus(ctx, a, beta, threshold), fname);
}

/* A clamp bound: a number, or nil for none. Tensor bounds are not supported. */
static const double *bound(lua_State *L, int idx, double *v, const char *what) {
  if (lua_isnoneornil(L, idx)) return NULL;
  if (lua_type(L, idx) != LUA_TNUMBER)
    lt_error(L, "lucid.clamp: %s must be a number or nil, got %s", what,
               luaL_testudata(L, idx, LT_TENSOR) ? "a tensor" : luaL_typename(L, idx));
  *v = lua_tonumber(L, idx);
  return v;
}

/* clamp(x, min, max) with either nil, or clamp(x, {min =, max =}) */
static int ew_clamp(lua_State *L) {
  static const char *const names[] = {"min", "max"};
  const char *fname = "lucid.clamp";
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = tensor_arg(L, 1, fname);
  int idx = options(L, 2, names, 2);
  double lo, hi;
  const double *min = bound(L, idx, &lo, "min"), *max = bound(L, idx + 1, &hi, "max");
  lc_tensor **slot = lt_newbox(L);
  return lt_fill(L, ctx, slot, lc_clamp(ctx, a, min, max), fname);  /* both nil: the core says so */
}

/* ---- binary ---------------------------------------------------------------------- */

typedef lc_tensor *(*binary_fn)(lc_ctx *, lc_tensor *, lc_tensor *);

/* Either operand may be a number; it takes the other's dtype. */
static int binary(lua_State *L, binary_fn f, const char *fname) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *ta = lt_test(L, 1), *tb = lt_test(L, 2);
  const lc_tensor *like = ta ? ta : tb;
  if (!like) {
    if (lua_type(L, 1) == LUA_TNUMBER && lua_type(L, 2) == LUA_TNUMBER)
      return lt_error(L, "%s: expected at least one tensor, got two numbers", fname);
    tensor_arg(L, lua_type(L, 1) == LUA_TNUMBER ? 2 : 1, fname);  /* raises the type error */
  }
  lc_tensor *a = lt_operand(L, ctx, 1, like, fname);
  lc_tensor *b = lt_operand(L, ctx, 2, like, fname);
  lc_tensor **slot = lt_newbox(L);
  return lt_fill(L, ctx, slot, f(ctx, a, b), fname);
}

#define BINARY(name) \
  static int ew_##name(lua_State *L) { return binary(L, lc_##name, "lucid." #name); }
BINARY(maximum)
BINARY(minimum)
BINARY(atan2)
BINARY(eq)
BINARY(ne)
BINARY(lt)
BINARY(le)
BINARY(gt)
BINARY(ge)

/* where(cond, a, b): cond a tensor; a and b tensors or numbers (numbers take
 * the other's dtype, or the default dtype when both are numbers). */
static int where_at(lua_State *L, int ic, int ia, int ib) {
  const char *fname = "lucid.where";
  lc_ctx *ctx = LT_CTX(L);
  lt_box *cb = (lt_box *)luaL_testudata(L, ic, LT_TENSOR);
  if (!cb)
    return lt_error(L, "%s: the condition must be a tensor, got %s", fname,
                      luaL_typename(L, ic));
  if (!cb->t) return lt_error(L, "%s: the condition tensor was closed", fname);
  lc_tensor *ta = lt_test(L, ia), *tb = lt_test(L, ib);
  const lc_tensor *like = ta ? ta : tb;
  lc_tensor *a = lt_operand(L, ctx, ia, like, fname);
  lc_tensor *b = lt_operand(L, ctx, ib, like, fname);
  lc_tensor **slot = lt_newbox(L);
  return lt_fill(L, ctx, slot, lc_where(ctx, cb->t, a, b), fname);
}

static int ew_where(lua_State *L) { return where_at(L, 1, 2, 3); }
static int ew_where_method(lua_State *L) { return where_at(L, 2, 1, 3); }  /* x:where(cond, y) */

static const luaL_Reg fns[] = {
  {"exp", ew_exp}, {"log1p", ew_log1p}, {"expm1", ew_expm1}, {"sqrt", ew_sqrt},
  {"rsqrt", ew_rsqrt}, {"abs", ew_abs}, {"sign", ew_sign}, {"reciprocal", ew_reciprocal},
  {"square", ew_square}, {"sin", ew_sin}, {"cos", ew_cos}, {"sigmoid", ew_sigmoid},
  {"relu", ew_relu}, {"gelu", ew_gelu}, {"silu", ew_silu}, {"softplus", ew_softplus},
  {"floor", ew_floor}, {"ceil", ew_ceil}, {"round", ew_round}, {"clamp", ew_clamp},
  {"isnan", ew_isnan}, {"isinf", ew_isinf}, {"maximum", ew_maximum}, {"minimum", ew_minimum},
  {"atan2", ew_atan2}, {"eq", ew_eq}, {"ne", ew_ne}, {"lt", ew_lt}, {"le", ew_le}, {"gt", ew_gt},
  {"ge", ew_ge}, {NULL, NULL}};

static const luaL_Reg module_only[] = {{"where", ew_where}, {NULL, NULL}};
static const luaL_Reg methods_only[] = {{"where", ew_where_method}, {NULL, NULL}};

void lt_register_elementwise(lua_State *L, int state, int methods, int module) {
  lt_setfuncs(L, module, state, fns);
  lt_setfuncs(L, methods, state, fns);
  lt_setfuncs(L, module, state, module_only);
  lt_setfuncs(L, methods, state, methods_only);
}

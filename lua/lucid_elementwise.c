/***
Part of lucid; help() and `make doc` read these comments.
@module lucid
*/

/* lucid_elementwise.c: the elementwise ops as Lua functions (lucid.op(t, ...) and t:op(...)).
 *
 * Masks: eq, ne, lt, le, gt, ge, isnan, isinf, isfinite and isclose return
 * bool tensors, and where() treats any nonzero condition (NaN too) as true.
 * A mask never requires grad, and works as a number: x * x:gt(0) keeps the
 * positive part. allclose and equal answer with a Lua boolean.
 *
 * A number operand becomes a 0-d tensor marked as a number (lt_operand), so
 * the core promotes it as PyTorch promotes a Python scalar: it never makes
 * float32 float64, and int64 + 2.5 is float32.
 *
 * One method differs from its function: x:where(cond, y) is PyTorch's
 * Tensor.where, i.e. lucid.where(cond, x, y). */
#include <string.h>

#include "binding.h"

/* ---- the plain unary and binary ops: one per row of core/elementwise.def ----------
 * Rows that take numbers (UNARY_P: gelu, softplus, clamp, logit, nan_to_num;
 * BINARY_MASK_P: isclose) are bound by hand below; UNARY_ALT rows are second
 * kernels of an op, and EW_OP rows (where, to, clone, contiguous) have their
 * own signatures. */
#define UNARY(name, ...) \
  static int ew_##name(lua_State *L) { return lt_unary(L, lc_##name); }
#define UNARY_OUT(name, ...) \
  static int ew_##name(lua_State *L) { return unary_out(L, lc_##name, lc_##name##_out); }
#define UNARY_MASK(name, ...) UNARY(name)
#define BINARY(name, ...) \
  static int ew_##name(lua_State *L) { return lt_binary(L, lc_##name); }
#define BINARY_RULE(name, ...) BINARY(name)
#define BINARY_MASK(name, ...) BINARY(name)
#define BINARY_MASK_P(...)
#define UNARY_P(...)
#define UNARY_ALT(...)
#define EW_OP(...)

typedef lc_status (*unary_out_fn)(lc_ctx *, lc_tensor *, lc_tensor *);

/* op(x [, out]) or op(x, {out = t}): with out, written there and out
 * returned (no new tensor). */
static const lt_arg OUT_ARG[] = {{"out", LT_K_TENSOR, 0, 0, NULL}, {NULL}};
static int unary_out(lua_State *L, lt_unary_fn f, unary_out_fn f_out) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_tensor_arg(L, 1, lt_fn(L)->fname);
  lt_val v[1];
  const char *fname = lt_args(L, 2, -1, v);
  if (!v[0].idx) return lt_push(L, ctx, f(ctx, a), fname);
  lt_do(L, ctx, f_out(ctx, v[0].t, a), fname);
  lua_pushvalue(L, v[0].idx);
  return 1;
}

#include "../core/elementwise.def"

/* __unm: Lua passes the operand twice */
static int ew_neg_meta(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  return lt_push(L, ctx, lc_neg(ctx, a), lt_fn(L)->fname);
}

/* gelu(x [, approximate]) or gelu(x, {approximate = "tanh"}); "none" is the
 * exact erf form, PyTorch's default. */
static const lt_arg GELU_ARGS[] = {
  {"approximate", LT_K_STRING, 0, 0, "\"none\" or \"tanh\""}, {"out", LT_K_TENSOR, 0, 0, NULL},
  {NULL}};
static int ew_gelu(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_tensor_arg(L, 1, lt_fn(L)->fname);
  lt_val v[2];
  const char *fname = lt_args(L, 2, -1, v);
  int tanh_approx = 0;
  if (v[0].s) {
    if (strcmp(v[0].s, "tanh") == 0) tanh_approx = 1;
    else if (strcmp(v[0].s, "none") != 0)
      return lt_error(L, "%s: approximate must be \"none\" or \"tanh\", got \"%s\"", fname, v[0].s);
  }
  if (!v[1].idx) return lt_push(L, ctx, lc_gelu(ctx, a, tanh_approx), fname);
  lt_do(L, ctx, lc_gelu_out(ctx, v[1].t, a, tanh_approx), fname);
  lua_pushvalue(L, v[1].idx);
  return 1;
}

/* softplus(x [, beta [, threshold]]) or softplus(x, {beta =, threshold =}) */
static const lt_arg SOFTPLUS_ARGS[] = {
  {"beta", LT_K_NUMBER, 0, 1.0, NULL}, {"threshold", LT_K_NUMBER, 0, 20.0, NULL},
  {"out", LT_K_TENSOR, 0, 0, NULL}, {NULL}};
static int ew_softplus(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_tensor_arg(L, 1, lt_fn(L)->fname);
  lt_val v[3];
  const char *fname = lt_args(L, 2, -1, v);
  if (!v[2].idx) return lt_push(L, ctx, lc_softplus(ctx, a, v[0].n, v[1].n), fname);
  lt_do(L, ctx, lc_softplus_out(ctx, v[2].t, a, v[0].n, v[1].n), fname);
  lua_pushvalue(L, v[2].idx);
  return 1;
}

/* clamp(x, min, max) with either nil, or clamp(x, {min =, max =}); tensor
 * bounds are not supported. */
static const lt_arg CLAMP_ARGS[] = {
  {"min", LT_K_NUMBER, 0, 0, "a number or nil"}, {"max", LT_K_NUMBER, 0, 0, "a number or nil"},
  {"out", LT_K_TENSOR, 0, 0, NULL}, {NULL}};
static int ew_clamp(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_tensor_arg(L, 1, lt_fn(L)->fname);
  lt_val v[3];
  const char *fname = lt_args(L, 2, -1, v);
  const double *min = v[0].idx ? &v[0].n : NULL, *max = v[1].idx ? &v[1].n : NULL;
  /* both nil: the core says so */
  if (!v[2].idx) return lt_push(L, ctx, lc_clamp(ctx, a, min, max), fname);
  lt_do(L, ctx, lc_clamp_out(ctx, v[2].t, a, min, max), fname);
  lua_pushvalue(L, v[2].idx);
  return 1;
}

/* clamp_min(x, min) and clamp_max(x, max): clamp with one bound (PyTorch's
 * forms; clamp's node, so the grad_fn is ClampBackward) */
static const lt_arg CLAMP_MIN_ARG[] = {{"min", LT_K_NUMBER, LT_REQ, 0, NULL}, {NULL}};
static const lt_arg CLAMP_MAX_ARG[] = {{"max", LT_K_NUMBER, LT_REQ, 0, NULL}, {NULL}};
static int clamp_one(lua_State *L, int upper) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_tensor_arg(L, 1, lt_fn(L)->fname);
  lt_val v[1];
  const char *fname = lt_args(L, 2, -1, v);
  return lt_push(L, ctx, lc_clamp(ctx, a, upper ? NULL : &v[0].n, upper ? &v[0].n : NULL), fname);
}
static int ew_clamp_min(lua_State *L) { return clamp_one(L, 0); }
static int ew_clamp_max(lua_State *L) { return clamp_one(L, 1); }

/* logit(x [, eps]) or logit(x, {eps =}); no eps (or a negative one, as in
 * PyTorch) clamps nothing */
static const lt_arg LOGIT_ARGS[] = {{"eps", LT_K_NUMBER, 0, 0, "a number or nil"}, {NULL}};
static int ew_logit(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_tensor_arg(L, 1, lt_fn(L)->fname);
  lt_val v[1];
  const char *fname = lt_args(L, 2, -1, v);
  return lt_push(L, ctx, lc_logit(ctx, a, v[0].idx ? v[0].n : -1.0), fname);
}

/* nan_to_num(x [, nan [, posinf [, neginf]]]), or by name; a nil one takes
 * PyTorch's default (0, the dtype's largest finite value, its lowest) */
static const lt_arg NAN_TO_NUM_ARGS[] = {
  {"nan", LT_K_NUMBER, 0, 0, "a number or nil"}, {"posinf", LT_K_NUMBER, 0, 0, "a number or nil"},
  {"neginf", LT_K_NUMBER, 0, 0, "a number or nil"}, {NULL}};
static int ew_nan_to_num(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_tensor_arg(L, 1, lt_fn(L)->fname);
  lt_val v[3];
  const char *fname = lt_args(L, 2, -1, v);
  const double *p[3];
  for (int i = 0; i < 3; i++) p[i] = v[i].idx ? &v[i].n : NULL;
  return lt_push(L, ctx, lc_nan_to_num(ctx, a, p[0], p[1], p[2]), fname);
}

/* Operands 1 and ib as lt_binary reads them: tensors or numbers, at least
 * one a tensor. */
static void two_operands(lua_State *L, lc_ctx *ctx, int ib, const char *fname, lc_tensor **a,
                         lc_tensor **b) {
  if (!lt_test(L, 1) && !lt_test(L, ib)) {
    if (lua_type(L, 1) == LUA_TNUMBER && lua_type(L, ib) == LUA_TNUMBER)
      lt_error(L, "%s: expected at least one tensor, got two numbers", fname);
    lt_tensor_arg(L, lua_type(L, 1) == LUA_TNUMBER ? ib : 1, fname);  /* raises the type error */
  }
  *a = lt_operand(L, ctx, 1, NULL, fname);
  *b = lt_operand(L, ctx, ib, NULL, fname);
}

/* Whether every element of a mask is true (those of an empty one are). */
static int all_true(const lc_tensor *m) {
  int64_t idx[LC_MAX_DIMS] = {0};
  for (int64_t k = 0; k < m->numel; k++) {
    if (!lc_tensor_get_int(m, idx)) return 0;
    for (int d = m->ndim - 1; d >= 0; d--) {
      if (++idx[d] < m->shape[d]) break;
      idx[d] = 0;
    }
  }
  return 1;
}

/* The mask on top of the stack, all true, as a Lua boolean in its place;
 * its memory goes at once (a loop of allclose makes no garbage to wait for). */
static int push_all(lua_State *L) {
  lt_box *box = (lt_box *)lua_touserdata(L, -1);
  int all = all_true(box->t);
  lc_tensor_release(box->t);
  box->t = NULL;
  lua_pushboolean(L, all);
  return 1;
}

/* isclose(a, other [, rtol [, atol [, equal_nan]]]) and allclose, the same
 * way: a and other tensors or numbers */
static const lt_arg CLOSE_ARGS[] = {
  {"other", LT_K_OPERAND, LT_REQ, 0, NULL}, {"rtol", LT_K_NUMBER, 0, 1e-5, NULL},
  {"atol", LT_K_NUMBER, 0, 1e-8, NULL}, {"equal_nan", LT_K_BOOL, 0, 0, NULL}, {NULL}};
static int close_mask(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lt_val v[4];
  const char *fname = lt_args(L, 2, -1, v);
  lc_tensor *a, *b;
  two_operands(L, ctx, v[0].idx, fname, &a, &b);
  return lt_push(L, ctx, lc_isclose(ctx, a, b, v[1].n, v[2].n, v[3].b), fname);
}
static int ew_isclose(lua_State *L) { return close_mask(L); }
static int ew_allclose(lua_State *L) {
  close_mask(L);
  return push_all(L);
}

/* equal(a, b): two tensors of one shape (any dtypes, compared as eq
 * compares them) with equal elements */
static const lt_arg EQUAL_ARGS[] = {{"other", LT_K_TENSOR, LT_REQ, 0, NULL}, {NULL}};
static int ew_equal(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_tensor_arg(L, 1, lt_fn(L)->fname);
  lt_val v[1];
  const char *fname = lt_args(L, 2, -1, v);
  lc_tensor *b = v[0].t;
  int same = a->ndim == b->ndim;
  for (int d = 0; same && d < a->ndim; d++) same = a->shape[d] == b->shape[d];
  if (!same) {
    lua_pushboolean(L, 0);
    return 1;
  }
  lt_push(L, ctx, lc_eq(ctx, a, b), fname);
  return push_all(L);
}

/* where(cond, a, b): cond a tensor; a and b tensors or numbers, promoted as
 * PyTorch promotes them (lc_result_type). */
static int where_at(lua_State *L, int ic, int ia, int ib) {
  lc_ctx *ctx = LT_CTX(L);
  const char *fname = lt_args(L, 4, -1, NULL);  /* nothing after the three */
  lt_box *cb = lt_tobox(L, ic);
  if (!cb)
    return lt_error(L, "%s: the condition must be a tensor, got %s", fname,
                      luaL_typename(L, ic));
  if (!cb->t) return lt_error(L, "%s: the condition tensor was closed", fname);
  lc_tensor *a = lt_operand(L, ctx, ia, NULL, fname);
  lc_tensor *b = lt_operand(L, ctx, ib, NULL, fname);
  return lt_push(L, ctx, lc_where(ctx, cb->t, a, b), fname);
}

/***
Picks a where cond is nonzero and b elsewhere, broadcasting all three; a and b
may be numbers. The method form is PyTorch's Tensor.where: x:where(cond, y)
is lucid.where(cond, x, y).
@function where
@usage lucid.where(cond, a, b)  or  a:where(cond, b)
@within Comparisons and masks
*/
static int ew_where(lua_State *L) { return where_at(L, 1, 2, 3); }
static int ew_where_method(lua_State *L) { return where_at(L, 2, 1, 3); }  /* x:where(cond, y) */


/***
Elementwise sum with NumPy/PyTorch broadcasting; either side may be a number,
which takes the tensor's dtype. float32 with float64 computes in float64.
Shapes that do not broadcast are an error naming both.
@function add
@usage a + b,  a:add(b)  or  lucid.add(a, b)
@within Arithmetic
*/

/***
Elementwise difference, broadcasting; either side may be a number.
@function sub
@usage a - b,  a:sub(b)  or  lucid.sub(a, b)
@within Arithmetic
*/

/***
Elementwise product, broadcasting (not the matrix product: that is
a:matmul(b)); either side may be a number.
@function mul
@usage a * b,  a:mul(b)  or  lucid.mul(a, b)
@within Arithmetic
*/

/***
Elementwise quotient, broadcasting; either side may be a number.
@function div
@usage a / b,  a:div(b)  or  lucid.div(a, b)
@within Arithmetic
*/

/***
Elementwise power; the exponent is a number or a tensor (broadcasting).
Gradients follow PyTorch where the base or exponent is 0.
@function pow
@usage a ^ b,  a:pow(b)  or  lucid.pow(a, b)
@within Arithmetic
*/

/***
Elementwise negation.
@function neg
@usage -t,  t:neg()  or  lucid.neg(t)
@within Arithmetic
*/

/***
Elementwise maximum of two tensors (or a tensor and a number), broadcasting.
For the largest element or the max along a dim, use t:max().
@function maximum
@usage lucid.maximum(a, b)  or  a:maximum(b)
@within Arithmetic
*/

/***
Elementwise minimum of two tensors (or a tensor and a number), broadcasting.
@function minimum
@usage lucid.minimum(a, b)  or  a:minimum(b)
@within Arithmetic
*/

/***
Elementwise angle of the point (x, y), in radians, broadcasting.
@function atan2
@usage lucid.atan2(y, x)  or  y:atan2(x)
@within Arithmetic
*/

/***
Elementwise hyperbolic tangent, values in (-1, 1). Differentiable: backward
uses the output, dx = dy * (1 - y^2). With out (a tensor of the right shape and
dtype), writes there and returns it. nn.Tanh() is the layer form.
@function tanh
@usage lucid.tanh(t [, out])  or  t:tanh([out])
@within Elementwise functions
*/

/***
Elementwise natural logarithm (nan below 0, -inf at 0).
@function log
@usage lucid.log(t)  or  t:log()
@within Elementwise functions
*/

/***
Elementwise e^x.
@function exp
@usage lucid.exp(t)  or  t:exp()
@within Elementwise functions
*/

/***
Elementwise log(1 + x), accurate for small x.
@function log1p
@usage lucid.log1p(t)  or  t:log1p()
@within Elementwise functions
*/

/***
Elementwise e^x - 1, accurate for small x. With out, writes there and
returns it, as tanh.
@function expm1
@usage lucid.expm1(t [, out])  or  t:expm1([out])
@within Elementwise functions
*/

/***
Elementwise square root.
@function sqrt
@usage lucid.sqrt(t)  or  t:sqrt()
@within Elementwise functions
*/

/***
Elementwise 1 / sqrt(x).
@function rsqrt
@usage lucid.rsqrt(t)  or  t:rsqrt()
@within Elementwise functions
*/

/***
Elementwise absolute value.
@function abs
@usage lucid.abs(t)  or  t:abs()
@within Elementwise functions
*/

/***
Elementwise -1, 0 or 1 by the sign of x; its gradient is zero.
@function sign
@usage lucid.sign(t)  or  t:sign()
@within Elementwise functions
*/

/***
Elementwise 1 / x.
@function reciprocal
@usage lucid.reciprocal(t)  or  t:reciprocal()
@within Elementwise functions
*/

/***
Elementwise x^2.
@function square
@usage lucid.square(t)  or  t:square()
@within Elementwise functions
*/

/***
Elementwise sine (radians).
@function sin
@usage lucid.sin(t)  or  t:sin()
@within Elementwise functions
*/

/***
Elementwise cosine (radians).
@function cos
@usage lucid.cos(t)  or  t:cos()
@within Elementwise functions
*/

/***
Elementwise logistic function 1 / (1 + e^-x), values in (0, 1). With out,
writes there and returns it, as tanh.
@function sigmoid
@usage lucid.sigmoid(t [, out])  or  t:sigmoid([out])
@within Elementwise functions
@aka nn.functional.sigmoid
*/

/***
Elementwise max(x, 0); the gradient at 0 is 0, as in PyTorch. With out,
writes there and returns it, as tanh.
@function relu
@usage lucid.relu(t [, out])  or  t:relu([out])
@within Elementwise functions
@aka nn.functional.relu
*/

/***
Gaussian Error Linear Unit: x * Phi(x) with the exact erf form by default
(approximate = "none"), or PyTorch's tanh approximation with "tanh". With
out, writes there and returns it, as tanh.
@function gelu
@usage lucid.gelu(t [, approximate [, out]])  or  t:gelu{approximate = "tanh", out =}
@within Elementwise functions
@aka nn.functional.gelu
*/

/***
Elementwise x * sigmoid(x) (also called swish). With out, writes there and
returns it, as tanh.
@function silu
@usage lucid.silu(t [, out])  or  t:silu([out])
@within Elementwise functions
@aka nn.functional.silu
*/

/***
Elementwise log(1 + e^(beta x)) / beta, a smooth relu; linear above
threshold (beta = 1, threshold = 20 by default, as PyTorch). With out,
writes there and returns it, as tanh.
@function softplus
@usage lucid.softplus(t [, beta [, threshold [, out]]])  or  t:softplus{beta =, threshold =, out =}
@within Elementwise functions
@aka nn.functional.softplus
*/

/***
Elementwise rounding down; the gradient is zero.
@function floor
@usage lucid.floor(t)  or  t:floor()
@within Elementwise functions
*/

/***
Elementwise rounding up; the gradient is zero.
@function ceil
@usage lucid.ceil(t)  or  t:ceil()
@within Elementwise functions
*/

/***
Elementwise rounding to the nearest integer, halves to even (as PyTorch); the
gradient is zero.
@function round
@usage lucid.round(t)  or  t:round()
@within Elementwise functions
*/

/***
Elementwise limit to [min, max]; either bound may be nil (one of them must be
given). The gradient passes where x lies inside the bounds. With out (a
float t), writes there and returns it, as tanh.
@function clamp
@usage lucid.clamp(t, min, max [, out])  or  t:clamp{min =, max =, out =}
@within Elementwise functions
*/

/***
Elementwise rounding toward zero; the gradient is zero. Integers stay
integers (bool is refused, as in PyTorch). frac(t) is t - trunc(t), with t's
sign (inf gives NaN), its gradient 1.
@function trunc
@usage lucid.trunc(t), lucid.frac(t)  or  t:trunc(), t:frac()
@within Elementwise functions
@also lucid.frac
*/

/***
Elementwise trigonometric functions and their inverses (radians) and the
hyperbolic ones: tan, asin, acos, atan, sinh, cosh, asinh, acosh, atanh.
Outside their domains (asin of 2, acosh of 0.5) the value is NaN, and atanh
of +-1 is +-inf, as in PyTorch.
@function tan
@usage t:tan(), t:asin(), t:acos(), t:atan(), t:sinh(), t:cosh(), t:asinh(), t:acosh(), t:atanh()
@within Elementwise functions
@also lucid.asin lucid.acos lucid.atan lucid.sinh lucid.cosh lucid.asinh lucid.acosh lucid.atanh
*/

/***
Elementwise error function erf, its complement erfc = 1 - erf (accurate where
erf is near 1) and the inverse erfinv (-inf and inf at -1 and 1, NaN beyond),
computed as PyTorch computes them.
@function erf
@usage t:erf(), t:erfc(), t:erfinv()  (or lucid.erf(t), ...)
@within Elementwise functions
@also lucid.erfc lucid.erfinv
*/

/***
Elementwise log |gamma(x)| (lgamma: inf at 0 and the negative integers) and
its derivative digamma (-inf at 0, inf at -0, NaN at the negative
integers). Both are differentiable as often as asked (digamma's derivatives
are the polygamma functions), with PyTorch's values.
@function lgamma
@usage t:lgamma(), t:digamma()  (or lucid.lgamma(t), lucid.digamma(t))
@within Elementwise functions
@also lucid.digamma
*/

/***
Elementwise 2^x, and logarithms to the bases 2 and 10.
@function exp2
@usage t:exp2(), t:log2(), t:log10()  (or lucid.exp2(t), ...)
@within Elementwise functions
@also lucid.log2 lucid.log10
*/

/***
Elementwise log(p / (1 - p)), the inverse of sigmoid. With eps, p is first
clamped to [eps, 1 - eps] (the gradient is then 0 outside); without it (or
with a negative eps, as in PyTorch) values outside [0, 1] give NaN.
@function logit
@usage lucid.logit(t [, eps])  or  t:logit{eps = 1e-6}
@within Elementwise functions
*/

/***
Replaces NaN with nan (0 by default), inf with posinf and -inf with neginf
(by default the dtype's largest and lowest finite values). Integer and bool
tensors come back as copies. The gradient passes where x is finite.
@function nan_to_num
@usage lucid.nan_to_num(t [, nan [, posinf [, neginf]]])  or  t:nan_to_num{posinf = 1e6}
@within Elementwise functions
*/

/***
clamp with one bound: clamp_min(t, min) is clamp(t, min, nil), clamp_max(t,
max) is clamp(t, nil, max) (with clamp's gradient, and its grad_fn).
@function clamp_min
@usage lucid.clamp_min(t, min), lucid.clamp_max(t, max)  or  t:clamp_min(min), t:clamp_max(max)
@within Elementwise functions
@also lucid.clamp_max
*/

/***
Elementwise sqrt(a^2 + b^2) without overflow, broadcasting; either side may be
a number. Integers compute in the default float dtype.
@function hypot
@usage lucid.hypot(a, b)  or  a:hypot(b)
@within Arithmetic
*/

/***
Elementwise |a| with the sign of b (of -0.0 too), broadcasting; either side
may be a number. The gradient by a is copysign(a, b) / a (0 where a is 0),
by b 0, as in PyTorch.
@function copysign
@usage lucid.copysign(a, b)  or  a:copysign(b)
@within Arithmetic
*/

/***
Elementwise a * log(b), 0 where a is 0 (unless b is NaN): the entropy term
that stays finite at 0. Broadcasting; either side may be a number.
@function xlogy
@usage lucid.xlogy(a, b)  or  a:xlogy(b)
@within Arithmetic
*/

/***
Elementwise log(e^a + e^b) without overflow, broadcasting; either side may be
a number.
@function logaddexp
@usage lucid.logaddexp(a, b)  or  a:logaddexp(b)
@within Arithmetic
*/

/***
Elementwise step function: values where a is 0, 1 where a > 0, 0 where a < 0
(and where a is NaN). Two tensors must have one dtype, as in PyTorch; a
number takes the tensor's. Integers stay integers; no gradient.
@function heaviside
@usage lucid.heaviside(a, values)  or  a:heaviside(values)
@within Arithmetic
*/

/***
Bitwise and, or, xor and not of integer and bool tensors (for bool,
bitwise_not is logical not), broadcasting, b a tensor or an integer; the
dtype is PyTorch's promotion of the operands. Float tensors are an error, as
in PyTorch. No gradient.
@function bitwise_and
@usage a:bitwise_and(b), a:bitwise_or(b), a:bitwise_xor(b), t:bitwise_not()
@within Arithmetic
@also lucid.bitwise_or lucid.bitwise_xor lucid.bitwise_not
*/

/***
Elementwise floor division, a // b rounded toward minus infinity, broadcasting;
b a tensor or a number. Integers stay integers (-7 // 2 is -4) and an integer
division by zero is an error; floats give inf or nan there. No gradient, as in
PyTorch.
@function floor_divide
@usage lucid.floor_divide(a, b)  or  a:floor_divide(b)
@within Elementwise functions
*/

/***
Elementwise remainder of a / b with the sign of b (Python's %: -7 % 2 is 1);
fmod takes the sign of a (C's %: fmod(-7, 2) is -1). Integers stay integers;
an integer division by zero is an error. Gradients as PyTorch's: 1 for a,
-floor(a / b) (remainder) or -trunc(a / b) (fmod) for b.
@function remainder
@usage lucid.remainder(a, b), lucid.fmod(a, b)  or  a:remainder(b), a:fmod(b)
@within Elementwise functions
@also lucid.fmod
*/

/***
Elementwise comparisons, broadcasting, b a tensor or a number: bool tensors
(true where the comparison holds), computed in the dtype the operands promote
to. A mask works in where, masked_fill and t[mask], and as a number in
arithmetic (x * x:gt(0) keeps the positive part; mask:sum() counts). Lua's ==
compares identity, not values.
@function eq
@usage a:eq(b), a:ne(b), a:lt(b), a:le(b), a:gt(b), a:ge(b)  (or lucid.eq(a, b), ...)
@within Comparisons and masks
@also lucid.ne lucid.lt lucid.le lucid.gt lucid.ge
*/

/***
Elementwise logic on "nonzero" (any dtype; NaN counts as true), broadcasting,
b a tensor or a number: bool tensors. logical_not(t) is t == 0; PyTorch's ~ is
not a Lua operator on tensors.
@function logical_and
@usage a:logical_and(b), a:logical_or(b), a:logical_xor(b), t:logical_not()
@within Comparisons and masks
@also lucid.logical_or lucid.logical_xor lucid.logical_not
*/

/***
Bool masks of the NaN, the infinite, or the finite elements (integer tensors
are never NaN nor infinite).
@function isnan
@usage t:isnan(), t:isinf(), t:isfinite()  (or lucid.isnan(t), ...)
@within Comparisons and masks
@also lucid.isinf lucid.isfinite
*/

/***
Whether a and other are close, elementwise: |a - other| <= atol + rtol *
|other|, or equal (infinities of one sign), or both NaN when equal_nan is
true (rtol = 1e-5, atol = 1e-8, equal_nan = false by default, as PyTorch).
isclose returns a bool tensor (broadcasting), allclose a Lua boolean: whether
all are. Two tensors must have one dtype, as in PyTorch; a number on either
side takes the tensor's. Integers compute in the default float dtype (exactly,
when both tolerances are 0).
@function isclose
@usage a:isclose(other [, rtol [, atol [, equal_nan]]]), a:allclose(other, {atol = 1e-6})
@within Comparisons and masks
@also lucid.allclose
*/

/***
Whether a and other (two tensors) have the same shape and equal elements, as
a Lua boolean (dtypes may differ: the values are compared as eq compares
them; NaN is never equal). Lua's == compares identity, not values.
@function equal
@usage a:equal(other)  or  lucid.equal(a, other)
@within Comparisons and masks
*/
#define EW(name, args) LT_ROW(name, ew_##name, args, LT_BOTH)
static const lt_reg fns[] = {
#define UNARY(name, ...) EW(name, NULL),
#define UNARY_OUT(name, ...) EW(name, OUT_ARG),
#define UNARY_MASK(name, ...) EW(name, NULL),
#define BINARY(name, ...) EW(name, NULL),
#define BINARY_RULE(name, ...) EW(name, NULL),
#define BINARY_MASK(name, ...) EW(name, NULL),
#define BINARY_MASK_P(...)
#define UNARY_P(...)
#define UNARY_ALT(...)
#define EW_OP(...)
#include "../core/elementwise.def"
  EW(gelu, GELU_ARGS), EW(softplus, SOFTPLUS_ARGS), EW(clamp, CLAMP_ARGS),
  EW(clamp_min, CLAMP_MIN_ARG), EW(clamp_max, CLAMP_MAX_ARG), EW(logit, LOGIT_ARGS),
  EW(nan_to_num, NAN_TO_NUM_ARGS), EW(isclose, CLOSE_ARGS), EW(allclose, CLOSE_ARGS),
  EW(equal, EQUAL_ARGS),
  LT_ROW(where, ew_where, NULL, LT_MODULE),
  LT_ROW(where, ew_where_method, NULL, LT_METHOD),
  /* operators: errors name the function */
  {"__add", "lucid.add", ew_add, NULL, LT_META}, {"__sub", "lucid.sub", ew_sub, NULL, LT_META},
  {"__mul", "lucid.mul", ew_mul, NULL, LT_META}, {"__div", "lucid.div", ew_div, NULL, LT_META},
  {"__pow", "lucid.pow", ew_pow, NULL, LT_META}, {"__unm", "lucid.neg", ew_neg_meta, NULL, LT_META},
  {NULL, NULL, NULL, NULL, 0}};

void lt_register_elementwise(lua_State *L, int state, int methods, int module) {
  lt_register(L, state, methods, module, fns);
}

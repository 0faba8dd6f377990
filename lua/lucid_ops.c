/***
Part of lucid; help() and `make doc` read these comments.
@module lucid
*/

/* lucid_ops.c: tensor operations as Lua functions. Each is both
 * lucid.op(t, ...) and t:op(...); arithmetic is also the metamethods.
 * The pattern everywhere: check arguments (1-based dims become 0-based),
 * push an empty box, call the core, fill the box or raise its message. */
#include "binding.h"

/* ---- arithmetic ---------------------------------------------------------------------- */

/* Either operand may be a number; it takes the other's dtype. Every binary
 * op of lucid_elementwise.c's generated rows goes through here. */
int lt_binary(lua_State *L, lt_binary_fn f) {
  lc_ctx *ctx = LT_CTX(L);
  const char *fname = lt_args(L, 3, -1, NULL);  /* nothing after the operands */
  lc_tensor *ta = lt_test(L, 1), *tb = lt_test(L, 2);
  /* a number exponent takes pow's scalar path: cheaper, and its backward
   * needs no log of the base */
  if (f == lc_pow && ta && lua_type(L, 2) == LUA_TNUMBER)
    return lt_push(L, ctx, lc_pow_scalar(ctx, ta, lua_tonumber(L, 2)), fname);
  const lc_tensor *like = ta ? ta : tb;
  if (!like) {
    if (lua_type(L, 1) == LUA_TNUMBER && lua_type(L, 2) == LUA_TNUMBER)
      return lt_error(L, "%s: expected at least one tensor, got two numbers", fname);
    lt_tensor_arg(L, lua_type(L, 1) == LUA_TNUMBER ? 2 : 1, fname);  /* raises the type error */
  }
  lc_tensor *a = lt_operand(L, ctx, 1, NULL, fname);
  lc_tensor *b = lt_operand(L, ctx, 2, NULL, fname);
  return lt_push(L, ctx, f(ctx, a, b), fname);
}

/***
Matrix product as torch.matmul (Lua has no @): 1-D x 1-D is a dot product,
2-D x 2-D a matrix product, 1-D operands act as a row or a column, and more
dims are batches, broadcast. Runs on OpenBLAS. Sizes that do not fit are an
error with both shapes: shapes {2, 3} and {4, 5} do not fit (3 ~= 4).
With out (operands of one float dtype, at least 2-D; out a contiguous
tensor of the result's shape, not sharing an operand's elements; grad mode
off), writes there and returns it (Module:reuse_buffers).
@function matmul
@usage a:matmul(b [, out])  or  lucid.matmul(a, b [, out])
@within Linear algebra
*/
static const lt_arg MATMUL_ARGS[] = {{"out", LT_K_TENSOR, 0, 0, NULL}, {NULL}};
static int l_matmul(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lt_val v[1];
  const char *fname = lt_args(L, 3, -1, v);
  if (!v[0].idx) {  /* lt_binary's path, numbers made tensors */
    if (!lt_test(L, 1) && !lt_test(L, 2)) lt_tensor_arg(L, lua_type(L, 1) == LUA_TNUMBER ? 2 : 1, fname);
    lc_tensor *a = lt_operand(L, ctx, 1, NULL, fname), *b = lt_operand(L, ctx, 2, NULL, fname);
    return lt_push(L, ctx, lc_matmul(ctx, a, b), fname);
  }
  lc_tensor *a = lt_tensor_arg(L, 1, fname), *b = lt_tensor_arg(L, 2, fname);
  lt_do(L, ctx, lc_matmul_out(ctx, v[0].t, a, b), fname);
  lua_pushvalue(L, v[0].idx);
  return 1;
}

int lt_unary(lua_State *L, lt_unary_fn f) {
  lc_ctx *ctx = LT_CTX(L);
  const char *fname = lt_args(L, 2, -1, NULL);
  lc_tensor *a = lt_tensor_arg(L, 1, fname);
  return lt_push(L, ctx, f(ctx, a), fname);
}

/***
A copy with its own storage; recorded by autograd (gradients flow back to t).
@function clone
@usage t:clone()
@within Shapes and indexing
*/
static int l_clone(lua_State *L) { return lt_unary(L, lc_clone); }
/***
t itself when its elements are contiguous in row-major order, else a
contiguous copy.
@function contiguous
@usage t:contiguous()
@within Shapes and indexing
*/
static int l_contiguous(lua_State *L) { return lt_unary(L, lc_contiguous); }

/* linear(x, weight [, bias] [, out]): with out, written there and returned.
 * (weight is checked before the others, with lt_check: its row is LT_K_ANY.) */
static const lt_arg LINEAR_ARGS[] = {
  {"weight", LT_K_ANY, LT_REQ | LT_POS, 0, NULL}, {"bias", LT_K_TENSOR, 0, 0, NULL},
  {"out", LT_K_TENSOR, 0, 0, NULL}, {NULL}};
/***
x W^T + b for x (..., in), weight (out, in), bias (out): what nn.Linear
computes, as one GEMM. With out, writes there and returns it.
@function linear
@usage lucid.linear(x, weight [, bias] [, out])
@within Linear algebra
*/
static int l_linear(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *x = lt_check(L, 1), *w = lt_check(L, 2);
  lt_val v[3];
  const char *fname = lt_args(L, 2, -1, v);
  lc_tensor *b = v[1].t;
  if (!v[2].idx) return lt_push(L, ctx, lc_linear(ctx, x, w, b), fname);
  lt_do(L, ctx, lc_linear_out(ctx, v[2].t, x, w, b), fname);
  lua_pushvalue(L, v[2].idx);
  return 1;
}

/* ---- dtype ------------------------------------------------------------------------------- */

static int to_dtype(lua_State *L, lc_dtype dt, const char *fname) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  return lt_push(L, ctx, lc_to_dtype(ctx, a, dt), fname);
}

static const lt_arg DTYPE_ARG[] = {{"dtype", LT_K_DTYPE, LT_REQ, 0, NULL}, {NULL}};
/***
t converted to another dtype, as a new tensor (t itself when it already has
it): t:to("float64") or t:double(), t:float(), t:long() (int64), t:int()
(int32), t:byte() (uint8), t:bool(). Gradients flow back through a
conversion between float dtypes. As PyTorch: floats to integers truncate
toward 0, integers narrow by wrapping (int64 -1 to uint8 is 255), anything
to bool is "nonzero".
@function to
@usage t:to(dtype) as t:to("float64"),  t:double(),  t:float(),  t:long(),  t:int(),  t:byte(),  t:bool()
@within Shapes and indexing
@also lucid.float lucid.double lucid.long lucid.int lucid.byte lucid.bool
*/
static int l_to(lua_State *L) {
  lt_check(L, 1);
  lt_val v[1];
  const char *fname = lt_args(L, 2, -1, v);
  return to_dtype(L, (lc_dtype)v[0].i, fname);
}

static int l_float(lua_State *L) { return to_dtype(L, LC_FLOAT32, lt_args(L, 2, -1, NULL)); }
static int l_double(lua_State *L) { return to_dtype(L, LC_FLOAT64, lt_args(L, 2, -1, NULL)); }
static int l_long(lua_State *L) { return to_dtype(L, LC_INT64, lt_args(L, 2, -1, NULL)); }
static int l_int(lua_State *L) { return to_dtype(L, LC_INT32, lt_args(L, 2, -1, NULL)); }
static int l_byte(lua_State *L) { return to_dtype(L, LC_UINT8, lt_args(L, 2, -1, NULL)); }
static int l_bool(lua_State *L) { return to_dtype(L, LC_BOOL, lt_args(L, 2, -1, NULL)); }

/* ---- shapes ------------------------------------------------------------------------------- */

int lt_sizes_op(lua_State *L, lt_sizes_fn f, const char *what) {
  lc_ctx *ctx = LT_CTX(L);
  const char *fname = lt_fn(L)->fname;
  lc_tensor *a = lt_check(L, 1);
  int64_t sizes[LC_MAX_DIMS];
  int next;
  int n = lt_shape(L, 2, sizes, fname, &next);
  if (!lua_isnone(L, next))
    return lt_error(L, "%s: expected %s as integers or one table, got %s", fname, what,
                      luaL_typename(L, next));
  return lt_push(L, ctx, f(ctx, a, n, sizes), fname);
}

/* reshape: a view when strides allow (as PyTorch), else a copy */
/***
The same values in a new shape; one size may be -1 (inferred). A view when t
is contiguous, else a copy.
@function reshape
@usage t:reshape(sizes...)  or  t:reshape({sizes})
@within Shapes and indexing
*/
static int l_reshape(lua_State *L) { return lt_sizes_op(L, lc_reshape, "sizes"); }
/* view: never a copy, an error when strides do not allow it */
/***
As reshape, but never copies: an error on a non-contiguous tensor (call
:contiguous() first), as PyTorch.
@function view
@usage t:view(sizes...)
@within Shapes and indexing
*/
static int l_view(lua_State *L) { return lt_sizes_op(L, lc_view, "sizes"); }

/* expand(sizes...) and broadcast_to(sizes...): -1 keeps the size, as in PyTorch */
static void keep_sizes(const lc_tensor *a, int n, const int64_t *sizes, int64_t *shape) {
  for (int i = 0; i < n; i++) {
    int j = i - (n - a->ndim);
    shape[i] = sizes[i] == -1 && j >= 0 ? a->shape[j] : sizes[i];
  }
}
static lc_tensor *expand_keep(lc_ctx *ctx, lc_tensor *a, int n, const int64_t *sizes) {
  int64_t shape[LC_MAX_DIMS];
  keep_sizes(a, n, sizes, shape);
  return lc_expand(ctx, a, n, shape);
}
static lc_tensor *broadcast_keep(lc_ctx *ctx, lc_tensor *a, int n, const int64_t *sizes) {
  int64_t shape[LC_MAX_DIMS];
  keep_sizes(a, n, sizes, shape);
  return lc_broadcast_to(ctx, a, n, shape);
}
/***
A view with size-1 dims repeated to the given sizes without copying (-1
keeps a size); new leading dims may be added.
@function expand
@usage t:expand(sizes...)
@within Shapes and indexing
*/
static int l_expand(lua_State *L) { return lt_sizes_op(L, expand_keep, "sizes"); }
/***
A view of t broadcast to shape, as expand (-1 keeps a size).
@function broadcast_to
@usage t:broadcast_to(shape...)
@within Shapes and indexing
*/
static int l_broadcast_to(lua_State *L) { return lt_sizes_op(L, broadcast_keep, "sizes"); }

static const lt_arg TRANSPOSE_ARGS[] = {
  {"dim0", LT_K_DIM, LT_REQ, 0, NULL}, {"dim1", LT_K_DIM, LT_REQ, 0, NULL}, {NULL}};
/***
Swaps two dims (1-based, negative from the end); a view.
@function transpose
@usage t:transpose(dim0, dim1)
@within Shapes and indexing
*/
static int l_transpose(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  lt_val v[2];
  const char *fname = lt_args(L, 2, a->ndim, v);
  return lt_push(L, ctx, lc_transpose(ctx, a, (int)v[0].i, (int)v[1].i), fname);
}

/* select(t, dim, index): index 1-based, negative from the end */
static const lt_arg SELECT_ARGS[] = {
  {"dim", LT_K_DIM, LT_REQ, 0, NULL}, {"index", LT_K_INTEGER, LT_REQ, 0, NULL}, {NULL}};
/***
The slice at index i (1-based, negative from the end) along dim, which is
removed. t[i] is t:select(1, i).
@function select
@usage t:select(dim, i)
@within Shapes and indexing
*/
static int l_select(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  lt_val v[2];
  const char *fname = lt_args(L, 2, a->ndim, v);
  int d = (int)v[0].i;
  lua_Integer i = v[1].i, n = (lua_Integer)a->shape[d];
  if (i == 0 || i > n || i < -n)
    return lt_error(L, "%s: index %lld is out of range for dimension %d of size %lld", fname,
                      (long long)i, d + 1, (long long)n);
  return lt_push(L, ctx, lc_select(ctx, a, d, i > 0 ? i - 1 : n + i), fname);
}

/* ---- in place: the optimizers' updates allocate nothing; while recording,
 * with t or the operand requiring grad, copy_ fill_ zero_ add_ sub_ mul_ div_
 * compute their result out of place and t takes it with its graph
 * (lt_become); the optimizer-only ones (addcmul_ ... sqrt_) refuse --------- */

/* The tensor changed in place, returned. */
static int inplace_done(lua_State *L) {
  lua_settop(L, 1);
  return 1;
}

/* t (at 1) set to a constant while recording: it leaves the graph. */
static int fill_recorded(lua_State *L, lc_ctx *ctx, lc_tensor *t, double value, const char *fname) {
  lt_push(L, ctx, lc_full(ctx, t->dtype, t->ndim, t->shape, value), fname);
  lt_become(L, ctx, fname);
  return inplace_done(L);
}

static const lt_arg SRC_ARG[] = {{"src", LT_K_TENSOR, LT_REQ, 0, NULL}, {NULL}};
/***
Copies src's values into t (src broadcasts to t's shape and is converted to
its dtype); returns t. Refused on a tensor that requires grad unless under
lucid.no_grad.
@function copy_
@usage t:copy_(src)
@within In place
*/
static int l_copy_(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *dst = lt_check(L, 1);
  lt_val v[1];
  const char *fname = lt_args(L, 2, -1, v);
  if (lt_inplace_recorded(L, dst, v[0].t)) {
    lt_push(L, ctx, lc_expand(ctx, v[0].t, dst->ndim, dst->shape), fname);
    lt_become(L, ctx, fname);
    return inplace_done(L);
  }
  lt_do(L, ctx, lc_copy_(ctx, dst, v[0].t), fname);
  return inplace_done(L);
}

static const lt_arg VALUE_ARG[] = {{"value", LT_K_NUMBER, LT_REQ, 0, NULL}, {NULL}};
/***
Sets every element to value; returns t. Refused on a tensor that requires grad
unless under lucid.no_grad.
@function fill_
@usage t:fill_(value)
@within In place
*/
static int l_fill_(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *dst = lt_check(L, 1);
  lt_val v[1];
  const char *fname = lt_args(L, 2, -1, v);
  if (lt_inplace_recorded(L, dst, NULL)) return fill_recorded(L, ctx, dst, v[0].n, fname);
  lt_do(L, ctx, lc_fill_(ctx, dst, v[0].n), fname);
  return inplace_done(L);
}

/* other: a tensor or a number, read by the function */
static lc_tensor *other_arg(lua_State *L, const lt_val *v, const char *fname) {
  lc_tensor *o = lt_test(L, v->idx);
  if (!o && lua_type(L, v->idx) != LUA_TNUMBER)
    lt_error(L, "%s: expected a tensor or a number, got %s", fname, luaL_typename(L, v->idx));
  return o;
}

/***
t += alpha * other in place, other a tensor (broadcast to t's shape) or a number;
returns t. Like every in-place op it refuses a leaf that requires grad
(outside no_grad) and bumps the tensor's version.
@function add_
@usage t:add_(other [, alpha = 1])
@within In place
*/
/***
t -= alpha * other in place; as add_.
@function sub_
@usage t:sub_(other [, alpha = 1])
@within In place
*/
/* t:add_(other [, alpha]) and t:sub_(other [, alpha]); other a tensor or a number */
static const lt_arg ADD_ARGS[] = {
  {"other", LT_K_ANY, LT_REQ, 0, NULL}, {"alpha", LT_K_NUMBER, 0, 1, NULL}, {NULL}};
static int add_sub_(lua_State *L, double sign) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *t = lt_check(L, 1);
  lt_val v[2];
  const char *fname = lt_args(L, 2, -1, v);
  lc_tensor *o = other_arg(L, &v[0], fname);
  double x = o ? 0 : lua_tonumber(L, v[0].idx), alpha = sign * v[1].n;
  if (lt_inplace_recorded(L, t, o)) {  /* t + alpha * other, recorded */
    lc_tensor *ot = lt_operand(L, ctx, v[0].idx, t, fname);
    if (alpha != 1.0) {
      lua_pushnumber(L, alpha);
      lc_tensor *a = lt_operand(L, ctx, lua_gettop(L), t, fname);
      lt_push(L, ctx, lc_mul(ctx, ot, a), fname);
      ot = lt_check(L, -1);
    }
    lt_push(L, ctx, lc_add(ctx, t, ot), fname);
    lt_become(L, ctx, fname);
    return inplace_done(L);
  }
  lt_do(L, ctx, lc_add_(ctx, t, o, x, alpha), fname);
  return inplace_done(L);
}
static int l_add_(lua_State *L) { return add_sub_(L, 1.0); }
static int l_sub_(lua_State *L) { return add_sub_(L, -1.0); }

/***
t *= other in place (a tensor broadcast to t's shape, or a number); returns t.
@function mul_
@usage t:mul_(other)
@within In place
*/
/***
t /= other in place (a tensor broadcast to t's shape, or a number); returns t.
@function div_
@usage t:div_(other)
@within In place
*/
typedef lc_status (*scale_fn)(lc_ctx *, lc_tensor *, const lc_tensor *, double);
typedef lc_tensor *(*binary_fn)(lc_ctx *, lc_tensor *, lc_tensor *);
static const lt_arg OTHER_ARG[] = {{"other", LT_K_ANY, LT_REQ, 0, NULL}, {NULL}};
static int scale_(lua_State *L, scale_fn f, binary_fn recorded) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *t = lt_check(L, 1);
  lt_val v[1];
  const char *fname = lt_args(L, 2, -1, v);
  lc_tensor *o = other_arg(L, &v[0], fname);
  double x = o ? 0 : lua_tonumber(L, v[0].idx);
  if (lt_inplace_recorded(L, t, o)) {
    lc_tensor *ot = lt_operand(L, ctx, v[0].idx, t, fname);
    lt_push(L, ctx, recorded(ctx, t, ot), fname);
    lt_become(L, ctx, fname);
    return inplace_done(L);
  }
  lt_do(L, ctx, f(ctx, t, o, x), fname);
  return inplace_done(L);
}
static int l_mul_(lua_State *L) { return scale_(L, lc_mul_, lc_mul); }
static int l_div_(lua_State *L) { return scale_(L, lc_div_, lc_div); }

/***
t += value * tensor1 * tensor2 in place, the optimizers' building block;
returns t.
@function addcmul_
@usage t:addcmul_(tensor1, tensor2 [, value = 1])
@within In place
*/
/***
t += value * tensor1 / tensor2 in place; returns t.
@function addcdiv_
@usage t:addcdiv_(tensor1, tensor2 [, value = 1])
@within In place
*/
typedef lc_status (*addc_fn)(lc_ctx *, lc_tensor *, const lc_tensor *, const lc_tensor *, double);
/* t:addcmul_(t1, t2 [, value = 1]) and t:addcdiv_(t1, t2 [, value = 1]) */
static const lt_arg ADDC_ARGS[] = {
  {"tensor1", LT_K_TENSOR, LT_REQ, 0, NULL}, {"tensor2", LT_K_TENSOR, LT_REQ, 0, NULL},
  {"value", LT_K_NUMBER, 0, 1, NULL}, {NULL}};
static int addc_(lua_State *L, addc_fn f) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *t = lt_check(L, 1);
  lt_val v[3];
  const char *fname = lt_args(L, 2, -1, v);
  lt_check_inplace(L, t, fname);
  lt_check_inplace_operand(L, v[0].t, fname);
  lt_check_inplace_operand(L, v[1].t, fname);
  lt_do(L, ctx, f(ctx, t, v[0].t, v[1].t, v[2].n), fname);
  return inplace_done(L);
}
static int l_addcmul_(lua_State *L) { return addc_(L, lc_addcmul_); }
static int l_addcdiv_(lua_State *L) { return addc_(L, lc_addcdiv_); }

/***
t += weight * (end - t) in place (linear interpolation towards end);
returns t.
@function lerp_
@usage t:lerp_(end, weight)
@within In place
*/
/* t:lerp_(end, weight): t += weight * (end - t) */
static const lt_arg LERP_ARGS[] = {
  {"end", LT_K_TENSOR, LT_REQ, 0, NULL}, {"weight", LT_K_NUMBER, LT_REQ, 0, NULL}, {NULL}};
static int l_lerp_(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *t = lt_check(L, 1);
  lt_val v[2];
  const char *fname = lt_args(L, 2, -1, v);
  lt_check_inplace(L, t, fname);
  lt_check_inplace_operand(L, v[0].t, fname);
  lt_do(L, ctx, lc_lerp_(ctx, t, v[0].t, v[1].n), fname);
  return inplace_done(L);
}

/***
The square root of every element, in place; returns t.
@function sqrt_
@usage t:sqrt_()
@within In place
*/
static int l_sqrt_(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *t = lt_check(L, 1);
  const char *fname = lt_args(L, 2, -1, NULL);
  lt_check_inplace(L, t, fname);
  lt_do(L, ctx, lc_sqrt_(ctx, t), fname);
  return inplace_done(L);
}

/***
Sets every element to 0 in place; returns t.
@function zero_
@usage t:zero_()
@within In place
*/
static int l_zero_(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *t = lt_check(L, 1);
  const char *fname = lt_args(L, 2, -1, NULL);
  if (lt_inplace_recorded(L, t, NULL)) return fill_recorded(L, ctx, t, 0.0, fname);
  lt_do(L, ctx, lc_fill_(ctx, t, 0.0), fname);
  return inplace_done(L);
}

/* lucid.core._become(t, r, fname): t takes r's values, r computed from t
 * out of place (lua/lucid/inplace.lua's t:exp_(), t:masked_fill_(...)):
 * recorded as lt_become does, else copied (a dtype t cannot hold refused). */
static int l_become(lua_State *L) {
  lt_check(L, 1);
  lt_check(L, 2);
  const char *fname = luaL_checkstring(L, 3);
  lua_settop(L, 2);
  lt_become(L, LT_CTX(L), fname);
  return inplace_done(L);
}

static const lt_reg op_fns[] = {
  {"_become", "lucid.core._become", l_become, NULL, LT_MODULE},
  LT_ROW(add_, l_add_, ADD_ARGS, LT_BOTH), LT_ROW(sub_, l_sub_, ADD_ARGS, LT_BOTH),
  LT_ROW(mul_, l_mul_, OTHER_ARG, LT_BOTH), LT_ROW(div_, l_div_, OTHER_ARG, LT_BOTH),
  LT_ROW(addcmul_, l_addcmul_, ADDC_ARGS, LT_BOTH), LT_ROW(addcdiv_, l_addcdiv_, ADDC_ARGS, LT_BOTH),
  LT_ROW(lerp_, l_lerp_, LERP_ARGS, LT_BOTH), LT_ROW(sqrt_, l_sqrt_, NULL, LT_BOTH),
  LT_ROW(zero_, l_zero_, NULL, LT_BOTH),
  LT_ROW(matmul, l_matmul, MATMUL_ARGS, LT_BOTH), LT_ROW(linear, l_linear, LINEAR_ARGS, LT_BOTH),
  LT_ROW(reshape, l_reshape, NULL, LT_BOTH), LT_ROW(view, l_view, NULL, LT_BOTH),
  LT_ROW(expand, l_expand, NULL, LT_BOTH), LT_ROW(broadcast_to, l_broadcast_to, NULL, LT_BOTH), LT_ROW(transpose, l_transpose, TRANSPOSE_ARGS, LT_BOTH),
  LT_ROW(select, l_select, SELECT_ARGS, LT_BOTH), LT_ROW(contiguous, l_contiguous, NULL, LT_BOTH),
  LT_ROW(clone, l_clone, NULL, LT_BOTH), LT_ROW(to, l_to, DTYPE_ARG, LT_BOTH),
  LT_ROW(float, l_float, NULL, LT_BOTH), LT_ROW(double, l_double, NULL, LT_BOTH),
  LT_ROW(long, l_long, NULL, LT_BOTH), LT_ROW(int, l_int, NULL, LT_BOTH),
  LT_ROW(byte, l_byte, NULL, LT_BOTH), LT_ROW(bool, l_bool, NULL, LT_BOTH),
  LT_ROW(copy_, l_copy_, SRC_ARG, LT_BOTH), LT_ROW(fill_, l_fill_, VALUE_ARG, LT_BOTH),
  {NULL, NULL, NULL, NULL, 0}};

void lt_register_ops(lua_State *L, int state, int methods, int module) {
  lt_register(L, state, methods, module, op_fns);
}

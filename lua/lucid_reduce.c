/***
Part of lucid; help() and `make doc` read these comments.
@module lucid
*/

/* lucid_reduce.c: the reduce ops as Lua functions (lucid.op(t, ...) and t:op(...)).
 *
 * Arguments follow PyTorch's order positionally, or sit in a trailing table
 * under PyTorch's names (x:var(2, false, true) is x:var{dim = 2,
 * unbiased = false, keepdim = true}); unknown names are an error, so a typo
 * does not pass silently. Dims are 1-based (negative from the end); a 0-d
 * tensor takes dim 1 or -1, as PyTorch lets it take 0 or -1.
 *
 * Index results (max/min over a dim, argmax, argmin) are int64 tensors
 * holding 1-based indices, what Lua code (and t[i]) expects, as PyTorch's
 * are int64. The core counts from 0; the binding adds 1 into a
 * fresh tensor, so the core's own copy (kept for max/min's backward) is
 * never changed by what a user does with the result. */
#include <string.h>

#include "binding.h"

/* ---- results -------------------------------------------------------------------- */

/* An all-elements result with keepdim: every dim kept, as size 1. Takes r. */
static lc_tensor *keep_all(lc_ctx *ctx, lc_tensor *r, int ndim, int keepdim) {
  if (!r || !keepdim || ndim == 0) return r;
  int64_t ones[LC_MAX_DIMS];
  for (int i = 0; i < ndim; i++) ones[i] = 1;
  lc_tensor *k = lc_reshape(ctx, r, ndim, ones);
  lc_tensor_release(r);
  return k;
}

/* ---- ops ------------------------------------------------------------------------- */

typedef lc_tensor *(*all_fn)(lc_ctx *, lc_tensor *);
typedef lc_tensor *(*dim_fn)(lc_ctx *, lc_tensor *, int, int);

static const lt_arg DIM_ONLY[] = {{"dim", LT_K_DIM_0D, 0, 0, NULL}, {NULL}};
static const lt_arg DIM_KEEP[] = {
  {"dim", LT_K_DIM_0D, 0, 0, NULL}, {"keepdim", LT_K_BOOL, 0, 0, NULL}, {NULL}};

/* op(t), op(t, dim [, keepdim]), op(t, {dim =, keepdim =}) */
static lc_tensor *reduce_call(lc_ctx *ctx, all_fn all, dim_fn along, lc_tensor *a, int dim,
                              int keep) {
  return dim < 0 ? keep_all(ctx, all(ctx, a), a->ndim, keep) : along(ctx, a, dim, keep);
}

static int reduce_dim(lua_State *L, all_fn all, dim_fn along) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  lt_val v[2];
  const char *fname = lt_args(L, 2, a->ndim, v);
  return lt_push(L, ctx, reduce_call(ctx, all, along, a, (int)v[0].i, v[1].b), fname);
}

/***
The sum of all elements (a 0-d tensor), or along dim (1-based, negative from
the end), dropping that dim unless keepdim is true. Without dim, {keepdim =
true} keeps every dim as size 1.
@function sum
@usage t:sum([dim [, keepdim]])  or  t:sum{dim =, keepdim =}
@within Reductions
*/
static int l_sum(lua_State *L) { return reduce_dim(L, lc_sum, lc_sum_dim); }
/***
The mean of all elements (0-d), or along dim, as sum.
@function mean
@usage t:mean([dim [, keepdim]])  or  t:mean{dim =, keepdim =}
@within Reductions
*/
static int l_mean(lua_State *L) { return reduce_dim(L, lc_mean, lc_mean_dim); }
/***
The product of all elements, or along dim, as sum.
@function prod
@usage t:prod([dim [, keepdim]])
@within Reductions
*/
static int l_prod(lua_State *L) { return reduce_dim(L, lc_prod, lc_prod_dim); }
/***
log(sum(exp(x))) over all elements or along dim, computed stably (the max is
subtracted first).
@function logsumexp
@usage t:logsumexp([dim [, keepdim]])
@within Reductions
*/
static int l_logsumexp(lua_State *L) { return reduce_dim(L, lc_logsumexp, lc_logsumexp_dim); }

/***
The largest (smallest) values over all elements (0-d) or along dim, as max
and min give them but without indices; ties share the gradient evenly, as
torch.amax.
@function amax
@usage t:amax([dim [, keepdim]])  (also amin)
@within Reductions
@also lucid.amin
*/
static int l_amax(lua_State *L) { return reduce_dim(L, lc_amax, lc_amax_dim); }
static int l_amin(lua_State *L) { return reduce_dim(L, lc_amin, lc_amin_dim); }

/* any, all, count_nonzero: of the bool mask t ~= 0 (NaN counts), its amax,
 * amin or sum; dims and keepdim as the other reductions take them. */
static int mask_reduce(lua_State *L, all_fn all, dim_fn along) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  lt_val v[2];
  const char *fname = lt_args(L, 2, a->ndim, v);
  int keep = all == lc_sum ? 0 : v[1].b;  /* count_nonzero has no keepdim, as PyTorch's */
  lt_push(L, ctx, lc_scalar(ctx, LC_BOOL, 0.0), fname);
  lc_tensor *zero = lt_top(L);
  lt_push(L, ctx, lc_ne(ctx, a, zero), fname);
  lc_tensor *m = lt_top(L);
  if (m->numel == 0 && all != lc_sum)  /* any of nothing is false, all of nothing true */
    return lt_push(L, ctx, lc_full(ctx, LC_BOOL, 0, NULL, all == lc_amin), fname);
  return lt_push(L, ctx, reduce_call(ctx, all, along, m, (int)v[0].i, keep), fname);
}

/***
Whether any element is nonzero (true; NaN counts), over all elements or along
dim: a bool tensor, as torch.any. all is whether every element is.
count_nonzero counts them (int64).
@function any
@usage t:any([dim [, keepdim]]), t:all([dim [, keepdim]]), t:count_nonzero([dim])
@within Reductions
@also lucid.all lucid.count_nonzero
*/
static int l_any(lua_State *L) { return mask_reduce(L, lc_amax, lc_amax_dim); }
static int l_all(lua_State *L) { return mask_reduce(L, lc_amin, lc_amin_dim); }
static int l_count_nonzero(lua_State *L) { return mask_reduce(L, lc_sum, lc_sum_dim); }

/* argmax/argmin: indices only, 1-based. */
static int arg_ext(lua_State *L, all_fn all, dim_fn along) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  lt_val v[2];
  const char *fname = lt_args(L, 2, a->ndim, v);
  lt_push(L, ctx, reduce_call(ctx, all, along, a, (int)v[0].i, v[1].b), fname);
  return lt_push_one_based(L, ctx, lt_top(L), fname);
}

/***
The 1-based index of the largest (smallest) element: over the flattened
tensor without dim, else along dim. Indices are int64 tensors; :item() gives
a Lua integer usable as t[i].
@function argmax
@usage t:argmax([dim [, keepdim]])  (also argmin)
@within Reductions
@also lucid.argmin
*/
static int l_argmax(lua_State *L) { return arg_ext(L, lc_argmax, lc_argmax_dim); }
static int l_argmin(lua_State *L) { return arg_ext(L, lc_argmin, lc_argmin_dim); }

typedef lc_status (*ext_dim_fn)(lc_ctx *, lc_tensor *, int, int, lc_tensor **, lc_tensor **);

/* max(t) -> 0-d value; max(t, dim [, keepdim]) -> values, 1-based indices. */
static int ext(lua_State *L, all_fn all, ext_dim_fn along) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  if (lt_test(L, 2))
    return lt_error(L, "%s: expected a dimension, got a tensor (max/min of two tensors is "
                      "elementwise, not a reduction)", lt_fn(L)->fname);
  lt_val v[2];
  const char *fname = lt_args(L, 2, a->ndim, v);
  int dim = (int)v[0].i, keep = v[1].b;
  if (dim < 0) return lt_push(L, ctx, keep_all(ctx, all(ctx, a), a->ndim, keep), fname);
  lc_tensor **vslot = lt_newbox(L), **islot = lt_newbox(L);
  lc_tensor *val = NULL, *ix = NULL;
  lt_do(L, ctx, along(ctx, a, dim, keep, &val, &ix), fname);
  *vslot = val;  /* owned by boxes before anything else can fail */
  *islot = ix;
  lt_push_one_based(L, ctx, ix, fname);
  lua_remove(L, -2);                            /* values, 1-based indices */
  return 2;
}

/***
Without dim, the largest (smallest) element as a 0-d tensor. With dim, two
results: the values and their indices along dim, 1-based (float64 tensors,
exact). For the elementwise max of two tensors use lucid.maximum.
@function max
@usage t:max()  or  local values, indices = t:max(dim [, keepdim])  (also min)
@within Reductions
@also lucid.min
*/
static int l_max(lua_State *L) { return ext(L, lc_max, lc_max_dim); }
static int l_min(lua_State *L) { return ext(L, lc_min, lc_min_dim); }

/* PyTorch 1.13: var(unbiased=True), var(dim, unbiased=True, keepdim=False),
 * var(dim, *, correction=1, keepdim=False). */
static const lt_arg VAR_ARGS[] = {
  {"dim", LT_K_DIM_0D, 0, 0, NULL}, {"unbiased", LT_K_BOOL, 0, 1, NULL}, {"keepdim", LT_K_BOOL, 0, 0, NULL},
  {"correction", LT_K_NUMBER, LT_KW, 1, NULL}, {NULL}};
static lc_tensor *var_call(lc_ctx *ctx, int is_std, lc_tensor *a, int dim, double corr, int keep) {
  if (dim < 0) return keep_all(ctx, is_std ? lc_std(ctx, a, corr) : lc_var(ctx, a, corr), a->ndim, keep);
  return is_std ? lc_std_dim(ctx, a, dim, corr, keep) : lc_var_dim(ctx, a, dim, corr, keep);
}

static int var_std(lua_State *L, int is_std) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  if (lua_isboolean(L, 2)) {  /* var(unbiased [, opts]): no dim */
    const char *fname = lt_fn(L)->fname;
    if (lua_gettop(L) > 3 || (lua_gettop(L) == 3 && !lua_istable(L, 3)))
      return lt_error(L, "%s: after unbiased as the first argument, give the rest by name", fname);
    lua_pushnil(L);
    lua_insert(L, 2);                          /* dim = nil */
  }
  lt_val v[4];
  const char *fname = lt_args(L, 2, a->ndim, v);
  if (v[3].idx && v[1].idx)
    return lt_error(L, "%s: give either unbiased or correction, not both", fname);
  double corr = v[3].idx ? v[3].n : v[1].b ? 1.0 : 0.0;
  return lt_push(L, ctx, var_call(ctx, is_std, a, (int)v[0].i, corr, v[2].b), fname);
}

/***
Variance (std: standard deviation) of all elements or along dim. Unbiased
(divides by n - 1) by default as PyTorch; unbiased = false divides by n, and
correction = c divides by n - c.
@function var
@usage t:var([dim [, unbiased [, keepdim]]])  or  t:var{dim =, unbiased =, keepdim =, correction =}  (also std)
@within Reductions
@also lucid.std
*/
static int l_var(lua_State *L) { return var_std(L, 0); }
static int l_std(lua_State *L) { return var_std(L, 1); }

/* norm(p = 2, dim = nil, keepdim = false); p a positive number, math.huge,
 * or "fro" (2, as PyTorch for one dim or all elements). */
static const lt_arg NORM_ARGS[] = {
  {"p", LT_K_ANY, 0, 0, NULL}, {"dim", LT_K_DIM_0D, 0, 0, NULL}, {"keepdim", LT_K_BOOL, 0, 0, NULL}, {NULL}};
/***
The p-norm (p = 2 by default; any positive number, math.huge for the max norm,
or "fro") of all elements or along dim.
@function norm
@usage t:norm([p [, dim [, keepdim]]])  or  t:norm{p =, dim =, keepdim =}
@within Reductions
*/
static int l_norm(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  lt_val v[3];
  const char *fname = lt_args(L, 2, a->ndim, v);
  int p_idx = v[0].idx;
  double p = 2.0;
  if (p_idx) {
    if (lua_type(L, p_idx) == LUA_TSTRING) {
      if (strcmp(lua_tostring(L, p_idx), "fro") != 0)
        return lt_error(L, "%s: p must be a number or \"fro\", got \"%s\"", fname,
                          lua_tostring(L, p_idx));
    } else if (lua_type(L, p_idx) == LUA_TNUMBER) {
      p = lua_tonumber(L, p_idx);
    } else {
      return lt_error(L, "%s: p must be a number or \"fro\", got %s", fname,
                        luaL_typename(L, p_idx));
    }
  }
  int dim = (int)v[1].i, keep = v[2].b;
  return lt_push(L, ctx, dim < 0 ? keep_all(ctx, lc_norm(ctx, a, p), a->ndim, keep)
                                 : lc_norm_dim(ctx, a, p, dim, keep), fname);
}

typedef lc_tensor *(*scan_fn)(lc_ctx *, lc_tensor *, int);

/* softmax(t, dim), log_softmax(t, dim), cumsum(t, dim): dim is required. */
static const lt_arg DIM_REQ[] = {{"dim", LT_K_DIM_0D, LT_REQ, 0, NULL}, {NULL}};
static int scan(lua_State *L, scan_fn f) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  lt_val v[1];
  const char *fname = lt_args(L, 2, a->ndim, v);
  return lt_push(L, ctx, f(ctx, a, (int)v[0].i), fname);
}

/* softmax(t, dim [, out]) and log_softmax: with out (reuse_buffers), written
 * there and out returned. */
typedef lc_status (*scan_out_fn)(lc_ctx *, lc_tensor *, lc_tensor *, int);
static const lt_arg SOFTMAX_ARGS[] = {
  {"dim", LT_K_DIM_0D, LT_REQ, 0, NULL}, {"out", LT_K_TENSOR, 0, 0, NULL}, {NULL}};
static int softmax_out(lua_State *L, scan_fn f, scan_out_fn f_out) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  lt_val v[2];
  const char *fname = lt_args(L, 2, a->ndim, v);
  if (!v[1].idx) return lt_push(L, ctx, f(ctx, a, (int)v[0].i), fname);
  lt_do(L, ctx, f_out(ctx, v[1].t, a, (int)v[0].i), fname);
  lua_pushvalue(L, v[1].idx);
  return 1;
}

/***
exp(x) normalised to sum 1 along dim (required, 1-based: -1 is the last,
usually the classes), computed stably. With out (a float tensor of t's shape
and dtype, not t; grad mode off), writes there and returns it
(Module:reuse_buffers).
@function softmax
@usage t:softmax(dim [, out])  or  lucid.softmax(t, dim [, out])
@within Reductions
@aka nn.functional.softmax
*/
static int l_softmax(lua_State *L) { return softmax_out(L, lc_softmax, lc_softmax_out); }
/***
log(softmax(x)) along dim, computed stably; pair it with a negative
log-likelihood loss. With out, writes there and returns it, as softmax.
@function log_softmax
@usage t:log_softmax(dim [, out])
@within Reductions
@aka nn.functional.log_softmax
*/
static int l_log_softmax(lua_State *L) { return softmax_out(L, lc_log_softmax, lc_log_softmax_out); }
/***
Running sums along dim: element i is the sum of elements 1..i.
@function cumsum
@usage t:cumsum(dim)
@within Reductions
*/
static int l_cumsum(lua_State *L) { return scan(L, lc_cumsum); }

static const lt_reg fns[] = {
  LT_ROW(sum, l_sum, DIM_KEEP, LT_BOTH), LT_ROW(mean, l_mean, DIM_KEEP, LT_BOTH),
  LT_ROW(prod, l_prod, DIM_KEEP, LT_BOTH), LT_ROW(var, l_var, VAR_ARGS, LT_BOTH),
  LT_ROW(std, l_std, VAR_ARGS, LT_BOTH), LT_ROW(max, l_max, DIM_KEEP, LT_BOTH),
  LT_ROW(amax, l_amax, DIM_KEEP, LT_BOTH), LT_ROW(amin, l_amin, DIM_KEEP, LT_BOTH),
  LT_ROW(any, l_any, DIM_KEEP, LT_BOTH), LT_ROW(all, l_all, DIM_KEEP, LT_BOTH),
  LT_ROW(count_nonzero, l_count_nonzero, DIM_ONLY, LT_BOTH),
  LT_ROW(min, l_min, DIM_KEEP, LT_BOTH), LT_ROW(argmax, l_argmax, DIM_KEEP, LT_BOTH),
  LT_ROW(argmin, l_argmin, DIM_KEEP, LT_BOTH), LT_ROW(logsumexp, l_logsumexp, DIM_KEEP, LT_BOTH),
  LT_ROW(norm, l_norm, NORM_ARGS, LT_BOTH), LT_ROW(softmax, l_softmax, SOFTMAX_ARGS, LT_BOTH),
  LT_ROW(log_softmax, l_log_softmax, SOFTMAX_ARGS, LT_BOTH), LT_ROW(cumsum, l_cumsum, DIM_REQ, LT_BOTH),
  {NULL, NULL, NULL, NULL, 0}};

void lt_register_reduce(lua_State *L, int state, int methods, int module) {
  lt_register(L, state, methods, module, fns);
}

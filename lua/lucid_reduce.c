/* lucid_reduce.c: the reduce ops as Lua functions (lucid.op(t, ...) and t:op(...)).
 *
 * Arguments follow PyTorch's order positionally, or sit in a trailing table
 * under PyTorch's names (x:var(2, false, true) is x:var{dim = 2,
 * unbiased = false, keepdim = true}); unknown names are an error, so a typo
 * does not pass silently. Dims are 1-based (negative from the end); a 0-d
 * tensor takes dim 1 or -1, as PyTorch lets it take 0 or -1.
 *
 * Index results (max/min over a dim, argmax, argmin) are float64 tensors
 * holding 1-based indices: the library has no integer dtype, float64 is
 * exact for any index below 2^53, and 1-based indices are what Lua code
 * (and t[i]) expects. The core counts from 0; the binding adds 1 into a
 * fresh tensor, so the core's own copy (kept for max/min's backward) is
 * never changed by what a user does with the result. */
#include <string.h>

#include "binding.h"

/* ---- arguments ------------------------------------------------------------------ */

typedef struct args {
  lua_State *L;
  const char *fname;
  const char *const *names;  /* positional order; NULL-terminated */
  int npos;                  /* how many of them may be given positionally */
  int last;                  /* index of the last positional argument */
  int opts;                  /* index of the trailing table of names, or 0 */
} args;

static void args_init(args *A, lua_State *L, const char *fname, const char *const *names,
                      int npos) {
  A->L = L;
  A->fname = fname;
  A->names = names;
  A->npos = npos;
  A->last = lua_gettop(L);
  A->opts = 0;
  if (A->last >= 2 && lua_istable(L, A->last)) {
    A->opts = A->last--;
    lua_pushnil(L);
    while (lua_next(L, A->opts)) {
      int known = 0;
      lua_pop(L, 1);
      if (lua_type(L, -1) == LUA_TSTRING)
        for (int i = 0; names[i] && !known; i++) known = strcmp(names[i], lua_tostring(L, -1)) == 0;
      if (!known) {
        const char *key = luaL_tolstring(L, -1, NULL);
        luaL_Buffer b;
        luaL_buffinit(L, &b);
        for (int i = 0; names[i]; i++) {
          if (i) luaL_addstring(&b, names[i + 1] ? ", " : " or ");
          luaL_addstring(&b, names[i]);
        }
        luaL_pushresult(&b);
        lt_error(L, "%s: unknown option '%s' (expected %s)", fname, key, lua_tostring(L, -1));
      }
    }
  }
  if (A->last - 1 > npos)
    lt_error(L, "%s: too many arguments (at most %d after the tensor, then a table of options)",
               fname, npos);
}

/* The stack index of argument `name` (position pos >= 1 after the tensor, 0
 * if it is only named), or 0 when it is absent or nil. */
static int args_get(args *A, int pos, const char *name) {
  lua_State *L = A->L;
  int idx = pos >= 1 && pos <= A->npos && pos + 1 <= A->last && !lua_isnil(L, pos + 1) ? pos + 1 : 0;
  if (A->opts) {
    lua_getfield(L, A->opts, name);
    if (lua_isnil(L, -1)) {
      lua_pop(L, 1);
    } else {
      if (idx) lt_error(L, "%s: %s is given twice (positionally and by name)", A->fname, name);
      idx = lua_gettop(L);
    }
  }
  return idx;
}

static int opt_bool(args *A, int idx, const char *name, int dflt) {
  if (!idx) return dflt;
  if (!lua_isboolean(A->L, idx))
    lt_error(A->L, "%s: %s must be a boolean, got %s", A->fname, name, luaL_typename(A->L, idx));
  return lua_toboolean(A->L, idx);
}

/* 1-based dim at idx -> 0-based; -1 when idx is 0 (absent). */
static int opt_dim(args *A, int idx, int ndim) {
  lua_State *L = A->L;
  if (!idx) return -1;
  if (lt_test(L, idx))
    lt_error(L, "%s: dimension must be an integer, got a tensor", A->fname);
  if (ndim > 0) return lt_dim(L, idx, ndim, A->fname);
  lua_Integer d = lt_integer(L, idx, "dimension", A->fname);
  if (d != 1 && d != -1)
    lt_error(L, "%s: dimension %I is out of range for a 0-d tensor (expected 1 or -1)", A->fname,
               (LUAI_UACINT)d);
  return 0;
}

static int need_dim(args *A, int idx, int ndim) {
  if (!idx) lt_error(A->L, "%s: dim is required", A->fname);
  return opt_dim(A, idx, ndim);
}

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

/* 0-based indices from the core -> a fresh tensor of 1-based ones. Takes ix. */
static lc_tensor *one_based(lc_ctx *ctx, lc_tensor *ix) {
  if (!ix) return NULL;
  lc_tensor *one = lc_scalar(ctx, LC_FLOAT64, 1.0);
  lc_tensor *r = one ? lc_add(ctx, ix, one) : NULL;
  lc_tensor_release(one);
  lc_tensor_release(ix);
  return r;
}

/* ---- ops ------------------------------------------------------------------------- */

typedef lc_tensor *(*all_fn)(lc_ctx *, lc_tensor *);
typedef lc_tensor *(*dim_fn)(lc_ctx *, lc_tensor *, int, int);

static const char *const DIM_KEEP[] = {"dim", "keepdim", NULL};

/* op(t), op(t, dim [, keepdim]), op(t, {dim =, keepdim =}) */
static int reduce_dim(lua_State *L, all_fn all, dim_fn along, const char *fname) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  args A;
  args_init(&A, L, fname, DIM_KEEP, 2);
  int dim = opt_dim(&A, args_get(&A, 1, "dim"), a->ndim);
  int keep = opt_bool(&A, args_get(&A, 2, "keepdim"), "keepdim", 0);
  lc_tensor **slot = lt_newbox(L);
  lc_tensor *r = dim < 0 ? keep_all(ctx, all(ctx, a), a->ndim, keep) : along(ctx, a, dim, keep);
  return lt_fill(L, ctx, slot, r, fname);
}

static int l_prod(lua_State *L) { return reduce_dim(L, lc_prod, lc_prod_dim, "lucid.prod"); }
static int l_logsumexp(lua_State *L) {
  return reduce_dim(L, lc_logsumexp, lc_logsumexp_dim, "lucid.logsumexp");
}

/* argmax/argmin: indices only, 1-based. */
static int arg_ext(lua_State *L, all_fn all, dim_fn along, const char *fname) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  args A;
  args_init(&A, L, fname, DIM_KEEP, 2);
  int dim = opt_dim(&A, args_get(&A, 1, "dim"), a->ndim);
  int keep = opt_bool(&A, args_get(&A, 2, "keepdim"), "keepdim", 0);
  lc_tensor **slot = lt_newbox(L);
  lc_tensor *r = dim < 0 ? keep_all(ctx, all(ctx, a), a->ndim, keep) : along(ctx, a, dim, keep);
  return lt_fill(L, ctx, slot, one_based(ctx, r), fname);
}

static int l_argmax(lua_State *L) { return arg_ext(L, lc_argmax, lc_argmax_dim, "lucid.argmax"); }
static int l_argmin(lua_State *L) { return arg_ext(L, lc_argmin, lc_argmin_dim, "lucid.argmin"); }

typedef lc_status (*ext_dim_fn)(lc_ctx *, lc_tensor *, int, int, lc_tensor **, lc_tensor **);

/* max(t) -> 0-d value; max(t, dim [, keepdim]) -> values, 1-based indices. */
static int ext(lua_State *L, all_fn all, ext_dim_fn along, const char *fname) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  args A;
  args_init(&A, L, fname, DIM_KEEP, 2);
  int dim_idx = args_get(&A, 1, "dim");
  if (dim_idx && lt_test(L, dim_idx))
    return lt_error(L, "%s: expected a dimension, got a tensor (max/min of two tensors is "
                      "elementwise, not a reduction)", fname);
  int dim = opt_dim(&A, dim_idx, a->ndim);
  int keep = opt_bool(&A, args_get(&A, 2, "keepdim"), "keepdim", 0);
  if (dim < 0) {
    lc_tensor **slot = lt_newbox(L);
    return lt_fill(L, ctx, slot, keep_all(ctx, all(ctx, a), a->ndim, keep), fname);
  }
  lc_tensor **vslot = lt_newbox(L), **islot = lt_newbox(L);
  lc_tensor *v, *ix;
  if (along(ctx, a, dim, keep, &v, &ix) != LC_OK) return lt_fail(L, ctx, fname);
  *vslot = v;  /* owned by its box before anything else can fail */
  lt_fill(L, ctx, islot, one_based(ctx, ix), fname);
  return 2;
}

static int l_max(lua_State *L) { return ext(L, lc_max, lc_max_dim, "lucid.max"); }
static int l_min(lua_State *L) { return ext(L, lc_min, lc_min_dim, "lucid.min"); }

static const char *const VAR_NAMES[] = {"dim", "unbiased", "keepdim", "correction", NULL};

/* PyTorch 1.13: var(unbiased=True), var(dim, unbiased=True, keepdim=False),
 * var(dim, *, correction=1, keepdim=False). */
static int var_std(lua_State *L, int is_std, const char *fname) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  args A;
  args_init(&A, L, fname, VAR_NAMES, 3);
  int dim_idx, unb_idx, keep_idx;
  if (A.last >= 2 && lua_isboolean(L, 2)) {  /* var(unbiased) */
    if (A.last > 2)
      return lt_error(L, "%s: after unbiased as the first argument, give the rest by name", fname);
    A.last = 1;
    unb_idx = 2;
    if (args_get(&A, 0, "unbiased"))
      return lt_error(L, "%s: unbiased is given twice (positionally and by name)", fname);
    dim_idx = args_get(&A, 0, "dim");
    keep_idx = args_get(&A, 0, "keepdim");
  } else {
    dim_idx = args_get(&A, 1, "dim");
    unb_idx = args_get(&A, 2, "unbiased");
    keep_idx = args_get(&A, 3, "keepdim");
  }
  int corr_idx = args_get(&A, 0, "correction");
  if (corr_idx && unb_idx)
    return lt_error(L, "%s: give either unbiased or correction, not both", fname);
  double corr = opt_bool(&A, unb_idx, "unbiased", 1) ? 1.0 : 0.0;
  if (corr_idx) {
    if (lua_type(L, corr_idx) != LUA_TNUMBER)
      return lt_error(L, "%s: correction must be a number, got %s", fname,
                        luaL_typename(L, corr_idx));
    corr = lua_tonumber(L, corr_idx);
  }
  int dim = opt_dim(&A, dim_idx, a->ndim);
  int keep = opt_bool(&A, keep_idx, "keepdim", 0);
  lc_tensor **slot = lt_newbox(L);
  lc_tensor *r;
  if (dim < 0) r = keep_all(ctx, is_std ? lc_std(ctx, a, corr) : lc_var(ctx, a, corr), a->ndim, keep);
  else r = is_std ? lc_std_dim(ctx, a, dim, corr, keep) : lc_var_dim(ctx, a, dim, corr, keep);
  return lt_fill(L, ctx, slot, r, fname);
}

static int l_var(lua_State *L) { return var_std(L, 0, "lucid.var"); }
static int l_std(lua_State *L) { return var_std(L, 1, "lucid.std"); }

static const char *const NORM_NAMES[] = {"p", "dim", "keepdim", NULL};

/* norm(p = 2, dim = nil, keepdim = false); p a positive number, math.huge,
 * or "fro" (2, as PyTorch for one dim or all elements). */
static int l_norm(lua_State *L) {
  const char *fname = "lucid.norm";
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  args A;
  args_init(&A, L, fname, NORM_NAMES, 3);
  int p_idx = args_get(&A, 1, "p");
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
  int dim = opt_dim(&A, args_get(&A, 2, "dim"), a->ndim);
  int keep = opt_bool(&A, args_get(&A, 3, "keepdim"), "keepdim", 0);
  lc_tensor **slot = lt_newbox(L);
  lc_tensor *r = dim < 0 ? keep_all(ctx, lc_norm(ctx, a, p), a->ndim, keep)
                         : lc_norm_dim(ctx, a, p, dim, keep);
  return lt_fill(L, ctx, slot, r, fname);
}

static const char *const DIM_ONLY[] = {"dim", NULL};

typedef lc_tensor *(*scan_fn)(lc_ctx *, lc_tensor *, int);

/* softmax(t, dim), log_softmax(t, dim), cumsum(t, dim): dim is required. */
static int scan(lua_State *L, scan_fn f, const char *fname) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  args A;
  args_init(&A, L, fname, DIM_ONLY, 1);
  int dim = need_dim(&A, args_get(&A, 1, "dim"), a->ndim);
  lc_tensor **slot = lt_newbox(L);
  return lt_fill(L, ctx, slot, f(ctx, a, dim), fname);
}

static int l_softmax(lua_State *L) { return scan(L, lc_softmax, "lucid.softmax"); }
static int l_log_softmax(lua_State *L) { return scan(L, lc_log_softmax, "lucid.log_softmax"); }
static int l_cumsum(lua_State *L) { return scan(L, lc_cumsum, "lucid.cumsum"); }

static const luaL_Reg fns[] = {
  {"prod", l_prod}, {"var", l_var}, {"std", l_std}, {"max", l_max}, {"min", l_min},
  {"argmax", l_argmax}, {"argmin", l_argmin}, {"logsumexp", l_logsumexp}, {"norm", l_norm},
  {"softmax", l_softmax}, {"log_softmax", l_log_softmax}, {"cumsum", l_cumsum},
  {NULL, NULL}};

void lt_register_reduce(lua_State *L, int state, int methods, int module) {
  lt_setfuncs(L, module, state, fns);
  lt_setfuncs(L, methods, state, fns);
}

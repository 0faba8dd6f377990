/***
Part of lucid; help() and `make doc` read these comments.
@module lucid
*/

/* lucid_shape.c: the shape and indexing ops as Lua functions, each both
 * lucid.op(t, ...) and t:op(...); cat and stack, whose first argument is a
 * list of tensors, are lucid.cat and lucid.stack only (as torch.cat).
 *
 * Lua conventions (API.md), converted here for the 0-based core:
 * - dims are 1-based, negative from the end; a new dim (unsqueeze, stack)
 *   may be ndim + 1, and -1 then means "after the last";
 * - lists of dims and sizes are varargs or one table: x:permute(3, 1, 2);
 * - optional trailing arguments also go by PyTorch's name in a table:
 *   lucid.cat({a, b}, {dim = 2}), x:flatten{start_dim = 2};
 * - index tensors are int64 tensors of 1-based indices (other integer
 *   dtypes and float tensors of whole numbers are read too); they become
 *   the core's 0-based index tensors below, and the core's messages give
 *   indices back 1-based, so the user reads the value they wrote;
 * - masks are bool tensors (any nonzero value of another dtype is true).
 * Ops returning several tensors (split, chunk) return one Lua array. */
#include <limits.h>
#include <string.h>

#include "binding.h"

/* ---- argument helpers -------------------------------------------------------------- */

/* A dim for a new dimension among ndim + 1 (unsqueeze, stack): 1..ndim+1,
 * or -(ndim+1)..-1 with -1 the last. */
static int new_dim(lua_State *L, lua_Integer d, int ndim, const char *fname) {
  lua_Integer n = ndim + 1;
  if (d >= 1 && d <= n) return (int)d - 1;
  if (d < 0 && d >= -n) return (int)(n + d);  /* no -d: d may be mininteger */
  lt_error(L, "%s: dimension %lld is out of range for a new dimension of a %d-d tensor "
             "(expected 1..%d or -%d..-1)", fname, (long long)d, ndim, ndim + 1, ndim + 1);
  return 0;
}

/* Dims as varargs from idx or one table at idx, converted for a tensor of
 * ndim dims; returns how many. */
static int read_dims(lua_State *L, int idx, int ndim, int *dims, const char *fname) {
  int n = 0;
  if (lua_istable(L, idx)) {
    lua_Integer len = (lua_Integer)lua_rawlen(L, idx);
    if (len > LC_MAX_DIMS)
      lt_error(L, "%s: at most %d dimensions are supported, got %lld", fname, LC_MAX_DIMS,
                 (long long)len);
    for (lua_Integer i = 1; i <= len; i++) {
      lua_rawgeti(L, idx, i);  /* pushes dims[i] */
      dims[n++] = lt_dim(L, -1, ndim, fname);
      lua_pop(L, 1);
    }
    if (!lua_isnone(L, idx + 1))
      lt_error(L, "%s: expected dimensions as integers or one table, not both", fname);
    return n;
  }
  for (; !lua_isnone(L, idx + n); n++) {
    if (n == LC_MAX_DIMS)
      lt_error(L, "%s: at most %d dimensions are supported", fname, LC_MAX_DIMS);
    dims[n] = lt_dim(L, idx + n, ndim, fname);
  }
  return n;
}

/* The core's index for the Lua index at idx, pushed as a new tensor: an
 * int64 tensor (or any integer one) of 1-based indices, a float tensor of
 * whole numbers (accepted as before there were integer dtypes), or (when
 * lists are allowed) a Lua array of integers becomes a contiguous tensor of
 * the same values minus 1, int64 (float64 for a float index, whose values
 * the core checks are whole). The core checks the range, so a bad index is
 * reported once, in one wording. */
static lc_tensor *index_arg(lua_State *L, lc_ctx *ctx, int idx, int lists, const char *fname) {
  if (lt_tobox(L, idx)) {
    lc_tensor *t = lt_check(L, idx);
    if (t->dtype == LC_BOOL)
      lt_error(L, "%s: index must hold integers, got a bool tensor (a mask: use "
               "masked_select or t[mask])", fname);
    int is_float = lc_dtype_is_float(t->dtype);
    if (!lc_tracing(ctx)) {  /* int64 (wrapping, so the most negative index stays out of
                                range) or float64, less 1 */
      lt_push(L, ctx, lc_empty(ctx, is_float ? LC_FLOAT64 : LC_INT64, t->ndim, t->shape), fname);
      lc_tensor *r = lt_top(L);
      if (is_float) {
        double *v = (double *)lc_tensor_data(r);
        lc_tensor_read(t, v);
        for (int64_t i = 0; i < r->numel; i++) v[i] -= 1;
      } else {
        int64_t *v = (int64_t *)lc_tensor_data(r);
        lc_tensor_read_int(t, v);
        for (int64_t i = 0; i < r->numel; i++) v[i] = (int64_t)((uint64_t)v[i] - 1u);
      }
      return r;
    }
    /* the same by ops while tracing, so that a compiled plan (Module:compile)
     * computes them again from an index that is the plan's input */
    lt_push(L, ctx, lc_to_dtype(ctx, t, is_float ? LC_FLOAT64 : LC_INT64), fname);
    lc_tensor *wide = lt_top(L);
    lt_push(L, ctx, lc_number_int(ctx, 1), fname);
    lc_tensor *one = lt_top(L);
    lt_push(L, ctx, lc_sub(ctx, wide, one), fname);
    lua_replace(L, -3);
    lua_pop(L, 1);
    return lt_top(L);
  }
  if (lists && lua_istable(L, idx)) {
    int64_t n = (int64_t)lua_rawlen(L, idx);
    lt_push(L, ctx, lc_empty(ctx, LC_INT64, 1, &n), fname);
    lc_tensor *r = lt_top(L);
    int64_t *v = (int64_t *)lc_tensor_data(r);
    for (int64_t i = 0; i < n; i++) {
      int ok;
      lua_rawgeti(L, idx, (lua_Integer)i + 1);  /* pushes list[i + 1] */
      lua_Integer k = lua_tointegerx(L, -1, &ok);
      if (!ok || lua_type(L, -1) != LUA_TNUMBER)
        lt_error(L, "%s: entry %lld of the index list must be an integer, got %s", fname,
                   (long long)i + 1,
                   lua_type(L, -1) == LUA_TNUMBER ? "a fraction" : luaL_typename(L, -1));
      v[i] = (int64_t)((uint64_t)k - 1u);
      lua_pop(L, 1);
    }
    return r;
  }
  lt_error(L, "%s: index must be a tensor%s, got %s", fname,
             lists ? " or a list of integers" : "", luaL_typename(L, idx));
  return NULL;
}

/* ---- views --------------------------------------------------------------------------- */

/* flatten([start_dim = 1 [, end_dim = -1]]); a 0-d tensor takes 1 or -1 */
static const lt_arg FLATTEN_ARGS[] = {
  {"start_dim", LT_K_DIM_0D, 0, 0, NULL}, {"end_dim", LT_K_DIM_0D, 0, 0, NULL}, {NULL}};
/***
Merges dims start_dim..end_dim (1 and -1 by default, so all) into one.
@function flatten
@usage t:flatten([start_dim [, end_dim]])
@within Shapes and indexing
*/
static int l_flatten(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  lt_val v[2];
  const char *fname = lt_args(L, 2, a->ndim, v);
  int start = v[0].idx ? (int)v[0].i : 0;
  int end = v[1].idx ? (int)v[1].i : (a->ndim > 0 ? a->ndim : 1) - 1;
  return lt_push(L, ctx, lc_flatten(ctx, a, start, end), fname);
}

/* squeeze([dim]): every size-1 dim, or that one if it has size 1 */
static const lt_arg SQUEEZE_ARGS[] = {{"dim", LT_K_DIM_0D, 0, 0, NULL}, {NULL}};
/***
Drops every size-1 dim, or only dim if its size is 1. A view.
@function squeeze
@usage t:squeeze([dim])
@within Shapes and indexing
*/
static int l_squeeze(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  lt_val v[1];
  const char *fname = lt_args(L, 2, a->ndim, v);
  if (!v[0].idx) return lt_push(L, ctx, lc_squeeze(ctx, a), fname);
  return lt_push(L, ctx, lc_squeeze_dim(ctx, a, (int)v[0].i), fname);
}

/* Dims counted among ndim + 1 (unsqueeze, stack) are read raw, then new_dim. */
static const lt_arg NEW_DIM_ARG[] = {{"dim", LT_K_DIM, LT_REQ, 0, NULL}, {NULL}};
/***
Inserts a size-1 dim at position dim (1..ndim+1; -1 means after the last). A
view.
@function unsqueeze
@usage t:unsqueeze(dim)
@within Shapes and indexing
*/
static int l_unsqueeze(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  lt_val v[1];
  const char *fname = lt_args(L, 2, -1, v);
  int d = new_dim(L, v[0].i, a->ndim, fname);
  return lt_push(L, ctx, lc_unsqueeze(ctx, a, d), fname);
}

/***
Reorders all dims: x:permute(3, 1, 2) makes dim 3 the first. A view.
@function permute
@usage t:permute(dims...)  or  t:permute({dims})
@within Shapes and indexing
*/
static int l_permute(lua_State *L) {
  const char *fname = lt_fn(L)->fname;
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  int dims[LC_MAX_DIMS];
  int n = read_dims(L, 2, a->ndim, dims, fname);
  if (n != a->ndim) {
    char s[160];
    lc_shape_str(s, sizeof s, a->ndim, a->shape);
    return lt_error(L, "%s: expected %d dimensions for shape %s, got %d", fname, a->ndim, s, n);
  }
  return lt_push(L, ctx, lc_permute(ctx, a, dims), fname);
}

/* t(): 2-D transpose; a tensor of at most one dim comes back as itself */
/***
The transpose of a 2-D tensor (t.T); a tensor of at most one dim comes back
as itself.
@function t
@usage t:t()
@within Shapes and indexing
*/
static int l_t(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  const char *fname = lt_args(L, 2, -1, NULL);
  return lt_push(L, ctx, lc_t(ctx, a), fname);
}

/* narrow(dim, start, length): start 1-based, negative from the end (-1 is
 * the last element); start may be size + 1 when length is 0 */
static const lt_arg NARROW_ARGS[] = {
  {"dim", LT_K_DIM, LT_REQ, 0, NULL}, {"start", LT_K_INTEGER, LT_REQ, 0, NULL},
  {"length", LT_K_INTEGER, LT_REQ, 0, NULL}, {NULL}};
/***
length elements from start (1-based, negative from the end) along dim. A
view.
@function narrow
@usage t:narrow(dim, start, length)
@within Shapes and indexing
*/
static int l_narrow(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  lt_val v[3];
  const char *fname = lt_args(L, 2, a->ndim, v);
  int d = (int)v[0].i;
  lua_Integer size = (lua_Integer)a->shape[d], s = v[1].i;
  lua_Integer len = v[2].i, s1 = s < 0 ? size + s + 1 : s;
  if (s1 < 1 || s1 > size + 1)
    return lt_error(L, "%s: start %lld is out of range for dimension %d of size %lld", fname,
                      (long long)s, d + 1, (long long)size);
  return lt_push(L, ctx, lc_narrow(ctx, a, d, s1 - 1, len), fname);
}

/* slice(dim [, start = 1 [, stop = -1 [, step = 1]]]): the elements start,
 * start + step, ... up to stop, INCLUSIVE, read the way string.sub reads
 * its positions: 1-based, negative from the end (-1 the last), start below
 * 1 taken as 1, stop past the end taken as the end, and an empty result
 * when start comes after stop. step >= 1. x:slice(1, 2, -2) drops the first
 * and last rows, as x[1:-1] does in Python; x:slice(2, 1, -1, 2) takes
 * every other column. A view. */
static const lt_arg SLICE_ARGS[] = {
  {"dim", LT_K_DIM, LT_REQ, 0, NULL}, {"start", LT_K_INTEGER, 0, 1, NULL},
  {"stop", LT_K_INTEGER, 0, -1, NULL}, {"step", LT_K_INTEGER, 0, 1, NULL}, {NULL}};
/***
The elements start, start + step, ... up to stop INCLUSIVE along dim, read the
way string.sub reads positions (1-based, negative from the end, clamped): Python's
x[1:-1] is x:slice(1, 2, -2). A view.
@function slice
@usage t:slice(dim [, start [, stop [, step]]])
@within Shapes and indexing
*/
static int l_slice(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  lt_val v[4];
  const char *fname = lt_args(L, 2, a->ndim, v);
  int d = (int)v[0].i;
  lua_Integer n = (lua_Integer)a->shape[d];
  lua_Integer i = v[1].i, j = v[2].i, step = v[3].i;
  if (step < 1)
    return lt_error(L, "%s: step must be at least 1, got %lld", fname, (long long)step);
  int64_t start, stop;
  lt_range(i, j, n, &start, &stop);
  return lt_push(L, ctx, lc_slice(ctx, a, d, start, stop, step), fname);
}

void lt_range(lua_Integer i, lua_Integer j, int64_t n, int64_t *start, int64_t *stop) {
  /* string.sub's corrections (lstrlib.c posrelatI / getendpos) */
  if (i < 0) i = i < -n ? 1 : n + i + 1;
  else if (i == 0) i = 1;
  if (j > n) j = n;
  else if (j < 0) j = j < -n ? 0 : n + j + 1;
  *start = i - 1 < n ? i - 1 : n;
  *stop = j < *start ? *start : j;
}

/* Pushes a Lua array of a's pieces along dim with the given sizes. Every
 * box exists before the core makes the views, so an error leaks nothing. */
static int push_pieces(lua_State *L, lc_ctx *ctx, lc_tensor *a, int dim, int64_t n,
                       const int64_t *sizes, const char *fname) {
  if (n > INT_MAX) return lt_error(L, "%s: too many pieces (%lld)", fname, (long long)n);
  lc_tensor ***slots = (lc_tensor ***)lua_newuserdatauv(L, (size_t)n * sizeof *slots, 0);
  lc_tensor **got = (lc_tensor **)lua_newuserdatauv(L, (size_t)n * sizeof *got, 0);
  lua_createtable(L, (int)n, 0);
  for (int64_t i = 0; i < n; i++) {
    slots[i] = lt_newbox(L);
    lua_rawseti(L, -2, (lua_Integer)i + 1);  /* pieces[i + 1] = empty box */
  }
  lt_do(L, ctx, lc_split(ctx, a, dim, n, sizes, got), fname);
  for (int64_t i = 0; i < n; i++) *slots[i] = got[i];  /* no Lua call until all are owned */
  return 1;
}

/* The dim argument of split and chunk; 1 by default. */
static int piece_dim(lua_State *L, const lc_tensor *a, const lt_val *v, const char *fname) {
  if (v->idx) return (int)v->i;
  if (a->ndim == 0) lt_error(L, "%s: a 0-d tensor cannot be split", fname);
  return 0;
}

/* split(split_size_or_sizes [, dim = 1]): pieces of that size (the last may
 * be smaller), or of the sizes in a table, which must add up to the dim */
static const lt_arg SPLIT_ARGS[] = {
  {"split_size_or_sections", LT_K_ANY, LT_REQ, 0, NULL}, {"dim", LT_K_DIM, 0, 0, NULL}, {NULL}};
/***
An array of pieces along dim (1 by default): of that size (the last may be
smaller), or of the sizes in a table, which must add up to the dim. Views.
@function split
@usage t:split(split_size_or_sections [, dim])
@within Shapes and indexing
*/
static int l_split(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  lt_val v[2];
  const char *fname = lt_args(L, 2, a->ndim, v);
  int d = piece_dim(L, a, &v[1], fname), si = v[0].idx;
  int64_t len = a->shape[d], n, *sizes;
  if (lua_istable(L, si)) {
    n = (int64_t)lua_rawlen(L, si);
    sizes = (int64_t *)lua_newuserdatauv(L, (size_t)n * sizeof *sizes, 0);
    for (int64_t i = 0; i < n; i++) {
      lua_rawgeti(L, si, (lua_Integer)i + 1);  /* pushes sizes[i + 1] */
      sizes[i] = (int64_t)lt_integer(L, -1, "a split size", fname);
      lua_pop(L, 1);
    }
    return push_pieces(L, ctx, a, d, n, sizes, fname);  /* the core checks the sum */
  }
  lua_Integer size = lt_integer(L, si, "the split size", fname);
  if (size < 0)
    return lt_error(L, "%s: the split size must not be negative, got %lld", fname,
                      (long long)size);
  if (size == 0 && len > 0)
    return lt_error(L, "%s: a split size of 0 only fits an empty dimension, dimension %d "
                      "has size %lld", fname, d + 1, (long long)len);
  n = len == 0 ? 1 : (len - 1) / size + 1;  /* one empty piece of an empty dim, as PyTorch */
  sizes = (int64_t *)lua_newuserdatauv(L, (size_t)n * sizeof *sizes, 0);
  for (int64_t i = 0; i < n; i++) sizes[i] = i < n - 1 ? size : len - size * (n - 1);
  return push_pieces(L, ctx, a, d, n, sizes, fname);
}

/* chunk(chunks [, dim = 1]): pieces of ceil(size / chunks), so at most
 * `chunks` of them (6 in 4 chunks is 3 pieces of 2, as torch.chunk), and
 * `chunks` empty pieces of an empty dim */
static const lt_arg CHUNK_ARGS[] = {
  {"chunks", LT_K_INTEGER, LT_REQ, 0, NULL}, {"dim", LT_K_DIM, 0, 0, NULL}, {NULL}};
/***
An array of at most chunks pieces of ceil(size / chunks) along dim, as
torch.chunk. Views.
@function chunk
@usage t:chunk(chunks [, dim])
@within Shapes and indexing
*/
static int l_chunk(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  lt_val v[2];
  const char *fname = lt_args(L, 2, a->ndim, v);
  lua_Integer chunks = v[0].i;
  if (chunks < 1)
    return lt_error(L, "%s: the number of chunks must be at least 1, got %lld", fname,
                      (long long)chunks);
  int d = piece_dim(L, a, &v[1], fname);
  int64_t len = a->shape[d], size = len == 0 ? 0 : (len - 1) / chunks + 1;
  int64_t n = len == 0 ? chunks : (len - 1) / size + 1;
  if (n > INT_MAX) return lt_error(L, "%s: too many pieces (%lld)", fname, (long long)n);
  int64_t *sizes = (int64_t *)lua_newuserdatauv(L, (size_t)n * sizeof *sizes, 0);
  for (int64_t i = 0; i < n; i++) sizes[i] = i < n - 1 ? size : len - size * (n - 1);
  return push_pieces(L, ctx, a, d, n, sizes, fname);
}

/* ---- copies ------------------------------------------------------------------------- */

/* cat(tensors [, dim = 1]) and stack(tensors [, dim = 1]) */
static const lt_arg JOIN_ARGS[] = {
  {"tensors", LT_K_ANY, LT_REQ | LT_POS, 0, NULL}, {"dim", LT_K_DIM, 0, 0, NULL}, {NULL}};
static int join(lua_State *L, int stack) {
  lc_ctx *ctx = LT_CTX(L);
  if (!lua_istable(L, 1)) {
    const char *fname = lt_fn(L)->fname;
    if (lt_tobox(L, 1))
      return lt_error(L, "%s: expected a table of tensors, got a tensor (write %s({a, b}))",
                        fname, fname);
    return lt_error(L, "%s: expected a table of tensors, got %s", fname,
                    lua_isnone(L, 1) ? "nil" : luaL_typename(L, 1));
  }
  lt_val v[2];
  const char *fname = lt_args(L, 1, -1, v);  /* dims count in a tensor of the list */
  lua_Integer n = (lua_Integer)lua_rawlen(L, 1);
  if (n > INT_MAX) return lt_error(L, "%s: too many tensors", fname);
  int di = v[1].idx;
  lc_tensor **ts = (lc_tensor **)lua_newuserdatauv(L, (size_t)n * sizeof *ts, 0);
  for (lua_Integer i = 0; i < n; i++) {
    lua_rawgeti(L, 1, i + 1);  /* pushes tensors[i + 1]; the table keeps it alive */
    if (!lt_tobox(L, -1))
      return lt_error(L, "%s: expected a tensor at entry %lld of the list, got %s", fname,
                        (long long)i + 1, luaL_typename(L, -1));
    if (!(ts[i] = lt_test(L, -1)))
      return lt_error(L, "%s: the tensor at entry %lld of the list was closed", fname,
                        (long long)i + 1);
    lua_pop(L, 1);
  }
  int dim = 0;
  if (n > 0 && di) {
    if (stack) {
      dim = new_dim(L, v[1].i, ts[0]->ndim, fname);
    } else {
      /* dims count in the first tensor that is not a skipped empty 1-D one */
      const lc_tensor *ref = ts[0];
      for (lua_Integer i = 0; i < n; i++)
        if (!(ts[i]->ndim == 1 && ts[i]->shape[0] == 0)) { ref = ts[i]; break; }
      if (ref->ndim > 0) dim = lt_wrap_dim(L, v[1].i, ref->ndim, fname);  /* 0-d: the core says why */
    }
  }
  return lt_push(L, ctx, stack ? lc_stack(ctx, (int)n, ts, dim) : lc_cat(ctx, (int)n, ts, dim),
                 fname);
}

/***
Joins tensors along an existing dim (1 by default); other sizes must match.
@function cat
@usage lucid.cat({a, b, ...} [, dim])
@within Shapes and indexing
*/
static int l_cat(lua_State *L) { return join(L, 0); }
/***
Joins same-shaped tensors along a new dim (1 by default).
@function stack
@usage lucid.stack({a, b, ...} [, dim])
@within Shapes and indexing
*/
static int l_stack(lua_State *L) { return join(L, 1); }

/* index_select(dim, index): index a 1-D tensor or a Lua array of 1-based integers */
static const lt_arg INDEX_ARGS[] = {
  {"dim", LT_K_DIM, LT_REQ, 0, NULL}, {"index", LT_K_ANY, LT_REQ, 0, NULL}, {NULL}};
static const lt_arg INDEX_SELECT_ARGS[] = {
  {"dim", LT_K_DIM, LT_REQ, 0, NULL}, {"index", LT_K_ANY, LT_REQ, 0, NULL},
  {"out", LT_K_TENSOR, 0, 0, NULL}, {NULL}};
/***
The entries at the given 1-based indices along dim; index is a 1-D tensor or a
Lua array such as {3, 1}. With out (grad mode off) it writes there and
returns it, and index may be a tensor of any shape, whose dims replace dim
in out's shape (contiguous): weight (n, d) and index (2, 3) give out (2, 3,
d), nn.Embedding's lookup under Module:reuse_buffers.
@function index_select
@usage t:index_select(dim, index [, out])
@within Shapes and indexing
*/
static int l_index_select(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  lt_val v[3];
  const char *fname = lt_args(L, 2, a->ndim, v);
  if (v[2].idx) {
    /* a tensor of 1-based indices is read as it is: no 0-based copy to allocate */
    lc_tensor *t = lt_tobox(L, v[1].idx) ? lt_check(L, v[1].idx) : NULL;
    if (t && t->dtype == LC_BOOL)
      lt_error(L, "%s: index must hold integers, got a bool tensor (a mask: use masked_select or t[mask])",
               fname);
    lc_tensor *index = t ? t : index_arg(L, ctx, v[1].idx, 1, fname);
    lt_do(L, ctx, lc_index_select_out(ctx, v[2].t, a, (int)v[0].i, index, t ? 1 : 0), fname);
    lua_pushvalue(L, v[2].idx);
    return 1;
  }
  lc_tensor *index = index_arg(L, ctx, v[1].idx, 1, fname);
  return lt_push(L, ctx, lc_index_select(ctx, a, (int)v[0].i, index), fname);
}

/* ---- ordering: sort, argsort, msort, topk, kthvalue ------------------------------------
 * The core gives 0-based positions (lc_argsort, lc_topk); the values are a
 * gather by them (recorded: the gradient goes back to the picked elements),
 * and the indices returned are those positions plus 1. */

/* A dim argument, the last dim when absent (PyTorch's dim=-1). */
static int dim_or_last(const lt_val *v, const lc_tensor *a) {
  return v->idx ? (int)v->i : (a->ndim ? a->ndim - 1 : 0);
}

/* Pushes pos + 1 (pos 0-based), 0-d when a is. */
static void push_positions(lua_State *L, lc_ctx *ctx, lc_tensor *a, lc_tensor *pos,
                           const char *fname) {
  lc_tensor *p = pos;
  if (a->ndim == 0) {
    lt_push(L, ctx, lc_reshape(ctx, pos, 0, NULL), fname);
    p = lt_top(L);
  }
  lt_push_one_based(L, ctx, p, fname);
  if (a->ndim == 0) lua_remove(L, -2);  /* the reshape */
}

/* Pushes values = a gathered along dim by pos (0-based), then pos + 1. */
static int push_picked(lua_State *L, lc_ctx *ctx, lc_tensor *a, int dim, lc_tensor *pos,
                       const char *fname) {
  if (a->ndim == 0) {  /* one element: itself, at index 1 */
    lt_push(L, ctx, lc_clone(ctx, a), fname);
  } else {
    lt_push(L, ctx, lc_gather(ctx, a, dim, pos), fname);
  }
  push_positions(L, ctx, a, pos, fname);
  return 2;
}

static const lt_arg SORT_ARGS[] = {
  {"dim", LT_K_DIM_0D, 0, 0, NULL}, {"descending", LT_K_BOOL, 0, 0, NULL},
  {"stable", LT_K_BOOL, LT_KW, 0, NULL}, {NULL}};
/***
The values along dim (the last by default) in ascending order (descending
with descending = true), and their 1-based indices (int64), as torch.sort.
The sort is always stable (equal values keep their order), and NaN counts as
the largest value. Gradients flow back to the elements picked.
@function sort
@usage local values, indices = t:sort([dim [, descending]])  or  t:sort{dim =, descending =, stable =}
@within Shapes and indexing
*/
static int l_sort(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  lt_val v[3];
  const char *fname = lt_args(L, 2, a->ndim, v);
  int dim = dim_or_last(&v[0], a);
  lt_push(L, ctx, lc_argsort(ctx, a, dim, v[1].b), fname);
  lc_tensor *pos = lt_top(L);
  return push_picked(L, ctx, a, dim, pos, fname);
}

/***
The 1-based indices (int64) that sort t along dim, as t:sort gives them.
@function argsort
@usage t:argsort([dim [, descending]])  or  t:argsort{dim =, descending =, stable =}
@within Shapes and indexing
*/
static int l_argsort(lua_State *L) {  /* sort's indices, without gathering the values */
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  lt_val v[3];
  const char *fname = lt_args(L, 2, a->ndim, v);
  lt_push(L, ctx, lc_argsort(ctx, a, dim_or_last(&v[0], a), v[1].b), fname);
  push_positions(L, ctx, a, lt_top(L), fname);
  return 1;
}


/***
The values sorted along dim 1, ascending (torch.msort): t:sort(1) without the
indices.
@function msort
@usage t:msort()
@within Shapes and indexing
*/
static int l_msort(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  const char *fname = lt_args(L, 2, -1, NULL);
  lt_push(L, ctx, lc_argsort(ctx, a, 0, 0), fname);
  lc_tensor *pos = lt_top(L);
  push_picked(L, ctx, a, 0, pos, fname);
  lua_pop(L, 1);
  return 1;
}

static const lt_arg TOPK_ARGS[] = {
  {"k", LT_K_INTEGER, LT_REQ, 0, NULL}, {"dim", LT_K_DIM_0D, 0, 0, NULL},
  {"largest", LT_K_BOOL, 0, 1, NULL}, {"sorted", LT_K_BOOL, 0, 1, NULL}, {NULL}};
/***
The k largest values along dim (the last by default; the k smallest with
largest = false), largest first, and their 1-based indices (int64), as
torch.topk. Results are always sorted; ties keep their order. Gradients flow
back to the elements picked.
@function topk
@usage local values, indices = t:topk(k [, dim [, largest [, sorted]]])  or  t:topk(k, {dim =, largest =})
@within Shapes and indexing
*/
static int l_topk(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  lt_val v[4];
  const char *fname = lt_args(L, 2, a->ndim, v);
  int dim = dim_or_last(&v[1], a);
  lt_push(L, ctx, lc_topk(ctx, a, (int64_t)v[0].i, dim, v[2].b), fname);
  lc_tensor *pos = lt_top(L);
  return push_picked(L, ctx, a, dim, pos, fname);
}

static const lt_arg KTH_ARGS[] = {
  {"k", LT_K_INTEGER, LT_REQ, 0, NULL}, {"dim", LT_K_DIM_0D, 0, 0, NULL},
  {"keepdim", LT_K_BOOL, 0, 0, NULL}, {NULL}};
/***
The k-th smallest value along dim (the last by default; k is 1-based) and its
1-based index (int64), as torch.kthvalue; dim goes away unless keepdim.
@function kthvalue
@usage local value, index = t:kthvalue(k [, dim [, keepdim]])
@within Shapes and indexing
*/
static int l_kthvalue(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  lt_val v[3];
  const char *fname = lt_args(L, 2, a->ndim, v);
  int dim = dim_or_last(&v[1], a);
  int64_t len = a->ndim ? a->shape[dim] : 1, k = (int64_t)v[0].i;
  if (k < 1 || k > len)
    return lt_error(L, "%s: k = %lld is out of range 1..%lld for dimension %d", fname,
                    (long long)k, (long long)len, dim + 1);
  lt_push(L, ctx, lc_topk(ctx, a, k, dim, 0), fname);
  lc_tensor *pos = lt_top(L);
  int base = lua_gettop(L);
  push_picked(L, ctx, a, dim, pos, fname);  /* the k smallest and their indices */
  if (a->ndim == 0) return 2;
  for (int r = 0; r < 2; r++) {  /* the last of each, along dim */
    lc_tensor *t = ((lt_box *)lua_touserdata(L, base + 1 + r))->t;
    if (v[2].b) {
      lt_push(L, ctx, lc_narrow(ctx, t, dim, k - 1, 1), fname);
    } else {
      lt_push(L, ctx, lc_select(ctx, t, dim, k - 1), fname);
    }
  }
  return 2;
}

static const lt_arg DIM_REQ_ARG[] = {{"dim", LT_K_DIM_0D, LT_REQ, 0, NULL}, {NULL}};
/***
The running maximum (minimum) along dim and where it was found (1-based
int64 indices), as torch.cummax: a tie moves to the later position, NaN wins.
Gradients flow back to the positions found.
@function cummax
@usage local values, indices = t:cummax(dim)  (also cummin)
@within Reductions
@also lucid.cummin
*/
static int cumext(lua_State *L, int is_min) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  lt_val v[1];
  const char *fname = lt_args(L, 2, a->ndim, v);
  lt_push(L, ctx, lc_cumext(ctx, a, (int)v[0].i, is_min), fname);
  lc_tensor *pos = lt_top(L);
  return push_picked(L, ctx, a, (int)v[0].i, pos, fname);
}
static int l_cummax(lua_State *L) { return cumext(L, 0); }
static int l_cummin(lua_State *L) { return cumext(L, 1); }

static const lt_arg UNIQUE_ARGS[] = {
  {"sorted", LT_K_BOOL, 0, 1, NULL}, {"return_inverse", LT_K_BOOL, 0, 0, NULL},
  {"return_counts", LT_K_BOOL, 0, 0, NULL}, {NULL}};
/***
The distinct values of t, sorted, as a 1-D tensor of t's dtype (torch.unique);
with return_inverse, also each element's 1-based position among them (int64,
t's shape), and with return_counts how often each occurs (int64), as more
results in that order. Values are always sorted (sorted = false is accepted,
as PyTorch's CPU unique also sorts). Not differentiable.
@function unique
@usage local values [, inverse] [, counts] = t:unique([sorted, return_inverse, return_counts])  or  t:unique{return_counts = true}
@within Shapes and indexing
*/
static int l_unique(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  lt_val v[3];
  const char *fname = lt_args(L, 2, -1, v);
  lc_tensor *r[3];
  lt_do(L, ctx, lc_unique(ctx, a, &r[0], &r[1], &r[2]), fname);
  for (int k = 0; k < 3; k++) {  /* boxes for all three first: nothing can leak */
    lc_tensor **slot = lt_newbox(L);
    *slot = r[k];
  }
  lt_push_one_based(L, ctx, r[1], fname);  /* 1-based positions */
  int top = lua_gettop(L);  /* values, inverse, counts, inverse + 1 */
  lua_pushvalue(L, top - 3);
  int n = 1;
  if (v[1].b) { lua_pushvalue(L, top); n++; }
  if (v[2].b) { lua_pushvalue(L, top - 1); n++; }
  return n;
}

static const lt_arg SEARCHSORTED_ARGS[] = {
  {"values", LT_K_ANY, LT_REQ, 0, NULL}, {"right", LT_K_BOOL, 0, 0, NULL},
  {"side", LT_K_STRING, LT_KW, 0, "\"left\" or \"right\""}, {NULL}};

/* searchsorted's and bucketize's common part: positions + 1, as Lua counts. */
static int push_search(lua_State *L, lc_ctx *ctx, lc_tensor *seq, lc_tensor *values, int right,
                       const char *fname) {
  lt_push(L, ctx, lc_searchsorted(ctx, seq, values, right), fname);
  return lt_push_one_based(L, ctx, lt_top(L), fname);
}

/* right = true or side = "right", not both disagreeing */
static int side_right(lua_State *L, const lt_val *right, const lt_val *side, const char *fname) {
  if (!side->idx) return right->b;
  int r = strcmp(side->s, "right") == 0;
  if (!r && strcmp(side->s, "left") != 0)
    lt_error(L, "%s: side must be \"left\" or \"right\", got \"%s\"", fname, side->s);
  if (right->idx && right->b != r)
    lt_error(L, "%s: side = \"%s\" contradicts right = %s", fname, side->s, right->b ? "true" : "false");
  return r;
}

/***
Where each value would be inserted in the sorted last dim of seq to keep it
sorted, 1-based (int64): 1 + the number of entries below the value (below or
equal with right = true or side = "right"), as torch.searchsorted counted from
1. values is a tensor or a number; seq is 1-D or has values' leading dims.
bucketize(t, boundaries [, right]) is the same with the arguments swapped.
@function searchsorted
@usage lucid.searchsorted(seq, values [, right])  or  lucid.bucketize(t, boundaries [, right])
@within Shapes and indexing
@also lucid.bucketize
*/
static int l_searchsorted(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *seq = lt_check(L, 1);
  lt_val v[3];
  const char *fname = lt_args(L, 2, -1, v);
  lc_tensor *values = lt_operand(L, ctx, v[0].idx, seq, fname);
  return push_search(L, ctx, seq, values, side_right(L, &v[1], &v[2], fname), fname);
}

static const lt_arg BUCKETIZE_ARGS[] = {
  {"boundaries", LT_K_TENSOR, LT_REQ, 0, NULL}, {"right", LT_K_BOOL, 0, 0, NULL}, {NULL}};
static int l_bucketize(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *t = lt_check(L, 1);
  lt_val v[2];
  const char *fname = lt_args(L, 2, -1, v);
  if (v[0].t->ndim != 1)
    return lt_error(L, "%s: boundaries must be 1-D, got %d dims", fname, v[0].t->ndim);
  return push_search(L, ctx, v[0].t, t, v[1].b, fname);
}

static const lt_arg NONZERO_ARGS[] = {{"as_tuple", LT_K_BOOL, 0, 0, NULL}, {NULL}};
/***
The 1-based coordinates of the nonzero (true) elements, row-major, as an
int64 tensor of shape (count, ndim), as torch.nonzero; with as_tuple, one 1-D
int64 tensor per dim instead (multiple results: local rows, cols =
m:nonzero(true)), which index like torch.where(cond).
@function nonzero
@usage t:nonzero([as_tuple])  or  t:nonzero{as_tuple = true}
@within Shapes and indexing
*/
static int l_nonzero(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  lt_val v[1];
  const char *fname = lt_args(L, 2, -1, v);
  lt_push(L, ctx, lc_nonzero(ctx, a), fname);
  lt_push_one_based(L, ctx, lt_top(L), fname);
  if (!v[0].b) return 1;
  lc_tensor *all = lt_top(L);
  int top = lua_gettop(L);
  luaL_checkstack(L, a->ndim, fname);
  for (int d = 0; d < a->ndim; d++) {
    lt_push(L, ctx, lc_select(ctx, all, 1, d), fname);
    lc_tensor *col = lt_top(L);
    lt_push(L, ctx, lc_contiguous(ctx, col), fname);
    lua_remove(L, -2);
  }
  return lua_gettop(L) - top;
}

/***
Picks along dim by a tensor of 1-based indices of the output's shape, as
torch.gather: for dim 1, out[i][j] = t[ index[i][j] ][j].
@function gather
@usage t:gather(dim, index)
@within Shapes and indexing
*/
static int l_gather(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  lt_val v[2];
  const char *fname = lt_args(L, 2, a->ndim, v);
  lc_tensor *index = index_arg(L, ctx, v[1].idx, 0, fname);
  return lt_push(L, ctx, lc_gather(ctx, a, (int)v[0].i, index), fname);
}

/* scatter_add(dim, index, src): out of place, as torch.scatter_add */
static const lt_arg SCATTER_ARGS[] = {
  {"dim", LT_K_DIM, LT_REQ, 0, NULL}, {"index", LT_K_ANY, LT_REQ, 0, NULL},
  {"src", LT_K_TENSOR, LT_REQ, 0, NULL}, {NULL}};
/***
A copy of t with src's values added at the 1-based indices along dim
(out of place), as torch.scatter_add.
@function scatter_add
@usage t:scatter_add(dim, index, src)
@within Shapes and indexing
*/
static int l_scatter_add(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  lt_val v[3];
  const char *fname = lt_args(L, 2, a->ndim, v);
  lc_tensor *index = index_arg(L, ctx, v[1].idx, 0, fname);
  return lt_push(L, ctx, lc_scatter_add(ctx, a, (int)v[0].i, index, v[2].t), fname);
}

/* masked_fill(mask, value): value a number or a 0-d tensor (which then
 * gets a gradient) */
static const lt_arg MASKED_FILL_ARGS[] = {
  {"mask", LT_K_TENSOR, LT_REQ, 0, NULL},
  {"value", LT_K_OPERAND, LT_REQ, 0, "a number or a 0-d tensor"}, {NULL}};
/***
A copy of t with value where mask (a bool tensor, broadcasting; any nonzero
value of another dtype counts as true) is true.
value is a number or a 0-d tensor (which then gets a gradient).
@function masked_fill
@usage t:masked_fill(mask, value)  or  lucid.masked_fill(t, mask, value)
@within Comparisons and masks
*/
static int l_masked_fill(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  lt_val v[2];
  const char *fname = lt_args(L, 2, -1, v);
  lc_tensor *mask = v[0].t, *value = lt_test(L, v[1].idx);
  if (!value) return lt_push(L, ctx, lc_masked_fill(ctx, a, mask, lua_tonumber(L, v[1].idx)), fname);
  return lt_push(L, ctx, lc_masked_fill_tensor(ctx, a, mask, value), fname);
}

/* repeat(sizes...): PyTorch's repeat (tiles), not Lua's string.rep */
/***
Tiles t: each dim repeated that many times (PyTorch's repeat, not a string
repeat). repeat is a Lua keyword, so the method reads t:tile(2, 2), which also
accepts fewer counts than dims.
@function repeat
@usage t:tile(reps...)  or  t["repeat"](t, sizes...)
@within Shapes and indexing
@also lucid.tile
*/
static int l_repeat(lua_State *L) {
  return lt_sizes_op(L, lc_repeat, "repeat counts");
}

/* tile(reps...): torch.tile, repeat that also takes fewer counts than dims
 * (the missing leading ones are 1). Lua reserves the word `repeat`, so
 * x:repeat(2, 2) must be written x["repeat"](x, 2, 2); x:tile(2, 2) reads
 * better and does the same. */
static int l_tile(lua_State *L) {
  const char *fname = lt_fn(L)->fname;
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  int64_t reps[LC_MAX_DIMS];
  int next;
  int n = lt_shape(L, 2, reps, fname, &next);
  if (!lua_isnone(L, next))
    return lt_error(L, "%s: expected repeat counts as integers or one table, got %s", fname,
                      luaL_typename(L, next));
  if (n < a->ndim) {
    int pad = a->ndim - n;
    memmove(reps + pad, reps, sizeof *reps * (size_t)n);
    for (int i = 0; i < pad; i++) reps[i] = 1;
    n = a->ndim;
  }
  return lt_push(L, ctx, lc_repeat(ctx, a, n, reps), fname);
}

/***
A copy with the order of elements reversed along the given dims.
@function flip
@usage t:flip(dims...)
@within Shapes and indexing
*/
static int l_flip(lua_State *L) {
  const char *fname = lt_fn(L)->fname;
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  int dims[LC_MAX_DIMS];
  int n = read_dims(L, 2, a->ndim, dims, fname);
  return lt_push(L, ctx, lc_flip(ctx, a, n, dims), fname);
}

static const lt_reg fns[] = {
  LT_ROW(flatten, l_flatten, FLATTEN_ARGS, LT_BOTH), LT_ROW(squeeze, l_squeeze, SQUEEZE_ARGS, LT_BOTH),
  LT_ROW(unsqueeze, l_unsqueeze, NEW_DIM_ARG, LT_BOTH), LT_ROW(permute, l_permute, NULL, LT_BOTH),
  LT_ROW(t, l_t, NULL, LT_BOTH),
  LT_ROW(narrow, l_narrow, NARROW_ARGS, LT_BOTH), LT_ROW(slice, l_slice, SLICE_ARGS, LT_BOTH),
  LT_ROW(split, l_split, SPLIT_ARGS, LT_BOTH), LT_ROW(chunk, l_chunk, CHUNK_ARGS, LT_BOTH),
  LT_ROW(index_select, l_index_select, INDEX_SELECT_ARGS, LT_BOTH),
  LT_ROW(gather, l_gather, INDEX_ARGS, LT_BOTH),
  LT_ROW(scatter_add, l_scatter_add, SCATTER_ARGS, LT_BOTH),
  LT_ROW(masked_fill, l_masked_fill, MASKED_FILL_ARGS, LT_BOTH),
  LT_ROW(nonzero, l_nonzero, NONZERO_ARGS, LT_BOTH),
  LT_ROW(sort, l_sort, SORT_ARGS, LT_BOTH), LT_ROW(argsort, l_argsort, SORT_ARGS, LT_BOTH),
  LT_ROW(msort, l_msort, NULL, LT_BOTH), LT_ROW(topk, l_topk, TOPK_ARGS, LT_BOTH),
  LT_ROW(kthvalue, l_kthvalue, KTH_ARGS, LT_BOTH),
  LT_ROW(unique, l_unique, UNIQUE_ARGS, LT_BOTH),
  LT_ROW(cummax, l_cummax, DIM_REQ_ARG, LT_BOTH), LT_ROW(cummin, l_cummin, DIM_REQ_ARG, LT_BOTH),
  LT_ROW(searchsorted, l_searchsorted, SEARCHSORTED_ARGS, LT_BOTH),
  LT_ROW(bucketize, l_bucketize, BUCKETIZE_ARGS, LT_BOTH),
  LT_ROW(repeat, l_repeat, NULL, LT_BOTH), LT_ROW(tile, l_tile, NULL, LT_BOTH),
  LT_ROW(flip, l_flip, NULL, LT_BOTH),
  /* their first argument is a list of tensors, so they are no methods */
  LT_ROW(cat, l_cat, JOIN_ARGS, LT_MODULE), LT_ROW(stack, l_stack, JOIN_ARGS, LT_MODULE),
  {NULL, NULL, NULL, NULL, 0}};

void lt_register_shape(lua_State *L, int state, int methods, int module) {
  lt_register(L, state, methods, module, fns);
}

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
 * - index tensors are float tensors holding 1-based integers; they become
 *   the core's 0-based index tensors below, and the core's messages give
 *   indices back 1-based, so the user reads the value they wrote;
 * - masks are float tensors, nonzero meaning true.
 * Ops returning several tensors (split, chunk) return one Lua array. */
#include <limits.h>
#include <string.h>

#include "binding.h"

/* ---- argument helpers -------------------------------------------------------------- */

/* Where optional argument `name` is: position idx, or field `name` of an
 * options table at `opts` (0 when the arguments are positional). Returns a
 * stack index that may hold nil. */
static int opt_arg(lua_State *L, int opts, int idx, const char *name) {
  if (!opts) return idx;
  lua_getfield(L, opts, name);  /* pushes opts[name] */
  return lua_gettop(L);
}

/* The options table, if the first optional argument (at idx) is one. */
static int opts_at(lua_State *L, int idx) {
  return lua_type(L, idx) == LUA_TTABLE ? idx : 0;
}

/* A dim for a new dimension among ndim + 1 (unsqueeze, stack): 1..ndim+1,
 * or -(ndim+1)..-1 with -1 the last. */
static int new_dim(lua_State *L, int idx, int ndim, const char *fname) {
  lua_Integer d = lt_integer(L, idx, "dimension", fname), n = ndim + 1;
  if (d >= 1 && d <= n) return (int)d - 1;
  if (d < 0 && d >= -n) return (int)(n + d);  /* no -d: d may be mininteger */
  lt_error(L, "%s: dimension %I is out of range for a new dimension of a %d-d tensor "
             "(expected 1..%d or -%d..-1)", fname, (LUAI_UACINT)d, ndim, ndim + 1, ndim + 1);
  return 0;
}

/* Dims as varargs from idx or one table at idx, converted for a tensor of
 * ndim dims; returns how many. */
static int read_dims(lua_State *L, int idx, int ndim, int *dims, const char *fname) {
  int n = 0;
  if (lua_istable(L, idx)) {
    lua_Integer len = (lua_Integer)lua_rawlen(L, idx);
    if (len > LC_MAX_DIMS)
      lt_error(L, "%s: at most %d dimensions are supported, got %I", fname, LC_MAX_DIMS,
                 (LUAI_UACINT)len);
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

static lc_tensor *check_tensor(lua_State *L, int idx, const char *what, const char *fname) {
  if (luaL_testudata(L, idx, LT_TENSOR)) return lt_check(L, idx);  /* raises if closed */
  lt_error(L, "%s: %s must be a tensor, got %s", fname, what, luaL_typename(L, idx));
  return NULL;
}

/* The core's index for the Lua index at idx, pushed as a new tensor: a
 * tensor of 1-based integers, or (when lists are allowed) a Lua array of
 * them, becomes a contiguous float64 tensor of the same values minus 1.
 * The core checks them, so a bad one is reported once, in one wording. */
static lc_tensor *index_arg(lua_State *L, lc_ctx *ctx, int idx, int lists, const char *fname) {
  if (luaL_testudata(L, idx, LT_TENSOR)) {
    lc_tensor *t = lt_check(L, idx);
    lc_tensor **slot = lt_newbox(L);
    lt_fill(L, ctx, slot, lc_empty(ctx, LC_FLOAT64, t->ndim, t->shape), fname);
    double *v = (double *)lc_tensor_data(*slot);
    if (v) {
      lc_tensor_read(t, v);
      for (int64_t i = 0; i < t->numel; i++) v[i] -= 1;
    }
    return *slot;
  }
  if (lists && lua_istable(L, idx)) {
    int64_t n = (int64_t)lua_rawlen(L, idx);
    lc_tensor **slot = lt_newbox(L);
    lt_fill(L, ctx, slot, lc_empty(ctx, LC_FLOAT64, 1, &n), fname);
    double *v = (double *)lc_tensor_data(*slot);
    for (int64_t i = 0; i < n; i++) {
      int ok;
      lua_rawgeti(L, idx, (lua_Integer)i + 1);  /* pushes list[i + 1] */
      lua_Integer k = lua_tointegerx(L, -1, &ok);
      if (!ok || lua_type(L, -1) != LUA_TNUMBER)
        lt_error(L, "%s: entry %I of the index list must be an integer, got %s", fname,
                   (LUAI_UACINT)i + 1,
                   lua_type(L, -1) == LUA_TNUMBER ? "a fraction" : luaL_typename(L, -1));
      v[i] = (double)k - 1;
      lua_pop(L, 1);
    }
    return *slot;
  }
  lt_error(L, "%s: index must be a tensor%s, got %s", fname,
             lists ? " or a list of integers" : "", luaL_typename(L, idx));
  return NULL;
}

/* ---- views --------------------------------------------------------------------------- */

/* flatten([start_dim = 1 [, end_dim = -1]]); a 0-d tensor takes 1 or -1 */
static int l_flatten(lua_State *L) {
  const char *fname = "lucid.flatten";
  lua_settop(L, 3);  /* absent arguments read as nil, scratch goes above */
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  int opts = opts_at(L, 2), nd = a->ndim > 0 ? a->ndim : 1;
  int si = opt_arg(L, opts, 2, "start_dim"), ei = opt_arg(L, opts, 3, "end_dim");
  int start = lua_isnoneornil(L, si) ? 0 : lt_dim(L, si, nd, fname);
  int end = lua_isnoneornil(L, ei) ? nd - 1 : lt_dim(L, ei, nd, fname);
  return lt_push(L, ctx, lc_flatten(ctx, a, start, end), fname);
}

/* squeeze([dim]): every size-1 dim, or that one if it has size 1 */
static int l_squeeze(lua_State *L) {
  const char *fname = "lucid.squeeze";
  lua_settop(L, 2);  /* absent arguments read as nil, scratch goes above */
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  int di = opt_arg(L, opts_at(L, 2), 2, "dim");
  if (lua_isnoneornil(L, di)) return lt_push(L, ctx, lc_squeeze(ctx, a), fname);
  int d = lt_dim(L, di, a->ndim > 0 ? a->ndim : 1, fname);
  return lt_push(L, ctx, lc_squeeze_dim(ctx, a, d), fname);
}

static int l_unsqueeze(lua_State *L) {
  const char *fname = "lucid.unsqueeze";
  lua_settop(L, 2);  /* absent arguments read as nil, scratch goes above */
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  int d = new_dim(L, 2, a->ndim, fname);
  return lt_push(L, ctx, lc_unsqueeze(ctx, a, d), fname);
}

static int l_permute(lua_State *L) {
  const char *fname = "lucid.permute";
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
static int l_t(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  return lt_push(L, ctx, lc_t(ctx, a), "lucid.t");
}

/* broadcast_to(shape...): -1 keeps a size, as in expand */
static int l_broadcast_to(lua_State *L) {
  const char *fname = "lucid.broadcast_to";
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  int64_t shape[LC_MAX_DIMS];
  int next;
  int n = lt_shape(L, 2, shape, fname, &next);
  if (!lua_isnone(L, next))
    return lt_error(L, "%s: expected sizes as integers or one table, got %s", fname,
                      luaL_typename(L, next));
  for (int i = 0; i < n; i++) {
    int j = i - (n - a->ndim);
    if (shape[i] == -1 && j >= 0) shape[i] = a->shape[j];
  }
  return lt_push(L, ctx, lc_broadcast_to(ctx, a, n, shape), fname);
}

/* narrow(dim, start, length): start 1-based, negative from the end (-1 is
 * the last element); start may be size + 1 when length is 0 */
static int l_narrow(lua_State *L) {
  const char *fname = "lucid.narrow";
  lua_settop(L, 4);  /* absent arguments read as nil, scratch goes above */
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  int d = lt_dim(L, 2, a->ndim, fname);
  lua_Integer size = (lua_Integer)a->shape[d], s = lt_integer(L, 3, "start", fname);
  lua_Integer len = lt_integer(L, 4, "length", fname), s1 = s < 0 ? size + s + 1 : s;
  if (s1 < 1 || s1 > size + 1)
    return lt_error(L, "%s: start %I is out of range for dimension %d of size %I", fname,
                      (LUAI_UACINT)s, d + 1, (LUAI_UACINT)size);
  return lt_push(L, ctx, lc_narrow(ctx, a, d, s1 - 1, len), fname);
}

/* slice(dim [, start = 1 [, stop = -1 [, step = 1]]]): the elements start,
 * start + step, ... up to stop, INCLUSIVE, read the way string.sub reads
 * its positions: 1-based, negative from the end (-1 the last), start below
 * 1 taken as 1, stop past the end taken as the end, and an empty result
 * when start comes after stop. step >= 1. x:slice(1, 2, -2) drops the first
 * and last rows, as x[1:-1] does in Python; x:slice(2, 1, -1, 2) takes
 * every other column. A view. */
static int l_slice(lua_State *L) {
  const char *fname = "lucid.slice";
  lua_settop(L, 5);  /* absent arguments read as nil, scratch goes above */
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  int d = lt_dim(L, 2, a->ndim, fname);
  lua_Integer n = (lua_Integer)a->shape[d];
  lua_Integer i = lua_isnoneornil(L, 3) ? 1 : lt_integer(L, 3, "start", fname);
  lua_Integer j = lua_isnoneornil(L, 4) ? -1 : lt_integer(L, 4, "stop", fname);
  lua_Integer step = lua_isnoneornil(L, 5) ? 1 : lt_integer(L, 5, "step", fname);
  if (step < 1)
    return lt_error(L, "%s: step must be at least 1, got %I", fname, (LUAI_UACINT)step);
  /* string.sub's corrections (lstrlib.c posrelatI / getendpos) */
  if (i < 0) i = i < -n ? 1 : n + i + 1;
  else if (i == 0) i = 1;
  if (j > n) j = n;
  else if (j < 0) j = j < -n ? 0 : n + j + 1;
  int64_t start = i - 1 < n ? i - 1 : n, stop = j;   /* 0-based, stop exclusive */
  if (stop < start) stop = start;
  return lt_push(L, ctx, lc_slice(ctx, a, d, start, stop, step), fname);
}

/* Pushes a Lua array of a's pieces along dim with the given sizes. Every
 * box exists before the core makes the views, so an error leaks nothing. */
static int push_pieces(lua_State *L, lc_ctx *ctx, lc_tensor *a, int dim, int64_t n,
                       const int64_t *sizes, const char *fname) {
  if (n > INT_MAX) return lt_error(L, "%s: too many pieces (%I)", fname, (LUAI_UACINT)n);
  lc_tensor ***slots = (lc_tensor ***)lua_newuserdatauv(L, (size_t)n * sizeof *slots, 0);
  lc_tensor **got = (lc_tensor **)lua_newuserdatauv(L, (size_t)n * sizeof *got, 0);
  lua_createtable(L, (int)n, 0);
  for (int64_t i = 0; i < n; i++) {
    slots[i] = lt_newbox(L);
    lua_rawseti(L, -2, (lua_Integer)i + 1);  /* pieces[i + 1] = empty box */
  }
  if (lc_split(ctx, a, dim, n, sizes, got) != LC_OK) return lt_fail(L, ctx, fname);
  for (int64_t i = 0; i < n; i++) *slots[i] = got[i];  /* no Lua call until all are owned */
  return 1;
}

/* The dim argument of split and chunk (position 3, or {dim = d}); 1 by default. */
static int piece_dim(lua_State *L, const lc_tensor *a, const char *fname) {
  int di = opt_arg(L, opts_at(L, 3), 3, "dim");
  if (!lua_isnoneornil(L, di)) return lt_dim(L, di, a->ndim, fname);
  if (a->ndim == 0) lt_error(L, "%s: a 0-d tensor cannot be split", fname);
  return 0;
}

/* split(split_size_or_sizes [, dim = 1]): pieces of that size (the last may
 * be smaller), or of the sizes in a table, which must add up to the dim */
static int l_split(lua_State *L) {
  const char *fname = "lucid.split";
  lua_settop(L, 3);  /* absent arguments read as nil, scratch goes above */
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  int d = piece_dim(L, a, fname);
  int64_t len = a->shape[d], n, *sizes;
  if (lua_istable(L, 2)) {
    n = (int64_t)lua_rawlen(L, 2);
    sizes = (int64_t *)lua_newuserdatauv(L, (size_t)n * sizeof *sizes, 0);
    for (int64_t i = 0; i < n; i++) {
      lua_rawgeti(L, 2, (lua_Integer)i + 1);  /* pushes sizes[i + 1] */
      sizes[i] = (int64_t)lt_integer(L, -1, "a split size", fname);
      lua_pop(L, 1);
    }
    return push_pieces(L, ctx, a, d, n, sizes, fname);  /* the core checks the sum */
  }
  lua_Integer size = lt_integer(L, 2, "the split size", fname);
  if (size < 0)
    return lt_error(L, "%s: the split size must not be negative, got %I", fname,
                      (LUAI_UACINT)size);
  if (size == 0 && len > 0)
    return lt_error(L, "%s: a split size of 0 only fits an empty dimension, dimension %d "
                      "has size %I", fname, d + 1, (LUAI_UACINT)len);
  n = len == 0 ? 1 : (len - 1) / size + 1;  /* one empty piece of an empty dim, as PyTorch */
  sizes = (int64_t *)lua_newuserdatauv(L, (size_t)n * sizeof *sizes, 0);
  for (int64_t i = 0; i < n; i++) sizes[i] = i < n - 1 ? size : len - size * (n - 1);
  return push_pieces(L, ctx, a, d, n, sizes, fname);
}

/* chunk(chunks [, dim = 1]): pieces of ceil(size / chunks), so at most
 * `chunks` of them (6 in 4 chunks is 3 pieces of 2, as torch.chunk), and
 * `chunks` empty pieces of an empty dim */
static int l_chunk(lua_State *L) {
  const char *fname = "lucid.chunk";
  lua_settop(L, 3);  /* absent arguments read as nil, scratch goes above */
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  lua_Integer chunks = lt_integer(L, 2, "the number of chunks", fname);
  if (chunks < 1)
    return lt_error(L, "%s: the number of chunks must be at least 1, got %I", fname,
                      (LUAI_UACINT)chunks);
  int d = piece_dim(L, a, fname);
  int64_t len = a->shape[d], size = len == 0 ? 0 : (len - 1) / chunks + 1;
  int64_t n = len == 0 ? chunks : (len - 1) / size + 1;
  if (n > INT_MAX) return lt_error(L, "%s: too many pieces (%I)", fname, (LUAI_UACINT)n);
  int64_t *sizes = (int64_t *)lua_newuserdatauv(L, (size_t)n * sizeof *sizes, 0);
  for (int64_t i = 0; i < n; i++) sizes[i] = i < n - 1 ? size : len - size * (n - 1);
  return push_pieces(L, ctx, a, d, n, sizes, fname);
}

/* ---- copies ------------------------------------------------------------------------- */

/* cat(tensors [, dim = 1]) and stack(tensors [, dim = 1]) */
static int join(lua_State *L, int stack, const char *fname) {
  lc_ctx *ctx = LT_CTX(L);
  lua_settop(L, 2);  /* scratch values go above the arguments */
  if (!lua_istable(L, 1)) {
    if (luaL_testudata(L, 1, LT_TENSOR))
      return lt_error(L, "%s: expected a table of tensors, got a tensor (write %s({a, b}))",
                        fname, fname);
    return lt_error(L, "%s: expected a table of tensors, got %s", fname, luaL_typename(L, 1));
  }
  lua_Integer n = (lua_Integer)lua_rawlen(L, 1);
  if (n > INT_MAX) return lt_error(L, "%s: too many tensors", fname);
  int di = opt_arg(L, opts_at(L, 2), 2, "dim");
  lc_tensor **ts = (lc_tensor **)lua_newuserdatauv(L, (size_t)n * sizeof *ts, 0);
  for (lua_Integer i = 0; i < n; i++) {
    lua_rawgeti(L, 1, i + 1);  /* pushes tensors[i + 1]; the table keeps it alive */
    if (!luaL_testudata(L, -1, LT_TENSOR))
      return lt_error(L, "%s: expected a tensor at entry %I of the list, got %s", fname,
                        (LUAI_UACINT)i + 1, luaL_typename(L, -1));
    if (!(ts[i] = lt_test(L, -1)))
      return lt_error(L, "%s: the tensor at entry %I of the list was closed", fname,
                        (LUAI_UACINT)i + 1);
    lua_pop(L, 1);
  }
  int dim = 0;
  if (n > 0 && !lua_isnoneornil(L, di)) {
    if (stack) {
      dim = new_dim(L, di, ts[0]->ndim, fname);
    } else {
      /* dims count in the first tensor that is not a skipped empty 1-D one */
      const lc_tensor *ref = ts[0];
      for (lua_Integer i = 0; i < n; i++)
        if (!(ts[i]->ndim == 1 && ts[i]->shape[0] == 0)) { ref = ts[i]; break; }
      if (ref->ndim > 0) dim = lt_dim(L, di, ref->ndim, fname);  /* 0-d: the core says why */
    }
  }
  lc_tensor **slot = lt_newbox(L);
  return lt_fill(L, ctx, slot, stack ? lc_stack(ctx, (int)n, ts, dim) : lc_cat(ctx, (int)n, ts, dim),
                 fname);
}

static int l_cat(lua_State *L) { return join(L, 0, "lucid.cat"); }
static int l_stack(lua_State *L) { return join(L, 1, "lucid.stack"); }

/* index_select(dim, index): index a 1-D tensor or a Lua array of 1-based integers */
static int l_index_select(lua_State *L) {
  const char *fname = "lucid.index_select";
  lua_settop(L, 3);  /* absent arguments read as nil, scratch goes above */
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  int d = lt_dim(L, 2, a->ndim, fname);
  lc_tensor *index = index_arg(L, ctx, 3, 1, fname);
  return lt_push(L, ctx, lc_index_select(ctx, a, d, index), fname);
}

static int l_gather(lua_State *L) {
  const char *fname = "lucid.gather";
  lua_settop(L, 3);  /* absent arguments read as nil, scratch goes above */
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  int d = lt_dim(L, 2, a->ndim, fname);
  lc_tensor *index = index_arg(L, ctx, 3, 0, fname);
  return lt_push(L, ctx, lc_gather(ctx, a, d, index), fname);
}

/* scatter_add(dim, index, src): out of place, as torch.scatter_add */
static int l_scatter_add(lua_State *L) {
  const char *fname = "lucid.scatter_add";
  lua_settop(L, 4);  /* absent arguments read as nil, scratch goes above */
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  int d = lt_dim(L, 2, a->ndim, fname);
  lc_tensor *src = check_tensor(L, 4, "src", fname);
  lc_tensor *index = index_arg(L, ctx, 3, 0, fname);
  return lt_push(L, ctx, lc_scatter_add(ctx, a, d, index, src), fname);
}

/* masked_fill(mask, value): value a number or a 0-d tensor (which then
 * gets a gradient) */
static int l_masked_fill(lua_State *L) {
  const char *fname = "lucid.masked_fill";
  lua_settop(L, 3);  /* absent arguments read as nil, scratch goes above */
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  lc_tensor *mask = check_tensor(L, 2, "mask", fname);
  if (lua_type(L, 3) == LUA_TNUMBER)
    return lt_push(L, ctx, lc_masked_fill(ctx, a, mask, lua_tonumber(L, 3)), fname);
  if (!luaL_testudata(L, 3, LT_TENSOR))
    return lt_error(L, "%s: value must be a number or a 0-d tensor, got %s", fname,
                      luaL_typename(L, 3));
  lc_tensor *v = lt_check(L, 3);
  return lt_push(L, ctx, lc_masked_fill_tensor(ctx, a, mask, v), fname);
}

/* repeat(sizes...): PyTorch's repeat (tiles), not Lua's string.rep */
static int l_repeat(lua_State *L) {
  return lt_sizes_op(L, lc_repeat, "repeat counts", "lucid.repeat");
}

/* tile(reps...): torch.tile, repeat that also takes fewer counts than dims
 * (the missing leading ones are 1). Lua reserves the word `repeat`, so
 * x:repeat(2, 2) must be written x["repeat"](x, 2, 2); x:tile(2, 2) reads
 * better and does the same. */
static int l_tile(lua_State *L) {
  const char *fname = "lucid.tile";
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

static int l_flip(lua_State *L) {
  const char *fname = "lucid.flip";
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = lt_check(L, 1);
  int dims[LC_MAX_DIMS];
  int n = read_dims(L, 2, a->ndim, dims, fname);
  return lt_push(L, ctx, lc_flip(ctx, a, n, dims), fname);
}

static const luaL_Reg fns[] = {
  {"flatten", l_flatten}, {"squeeze", l_squeeze}, {"unsqueeze", l_unsqueeze},
  {"permute", l_permute}, {"t", l_t}, {"broadcast_to", l_broadcast_to},
  {"narrow", l_narrow}, {"slice", l_slice}, {"split", l_split}, {"chunk", l_chunk},
  {"index_select", l_index_select}, {"gather", l_gather}, {"scatter_add", l_scatter_add},
  {"masked_fill", l_masked_fill}, {"repeat", l_repeat}, {"tile", l_tile}, {"flip", l_flip},
  {NULL, NULL}};

/* Their first argument is a list of tensors, so they are no methods. */
static const luaL_Reg module_fns[] = {{"cat", l_cat}, {"stack", l_stack}, {NULL, NULL}};

void lt_register_shape(lua_State *L, int state, int methods, int module) {
  lt_setfuncs(L, module, state, fns);
  lt_setfuncs(L, methods, state, fns);
  lt_setfuncs(L, module, state, module_fns);
}

/* lucid_core.c: the Lua module "lucid.core": tensor userdata, fields,
 * creation, autograd entry points and the per-state settings.
 * The operations themselves are bound in lucid_ops.c. */
#define _POSIX_C_SOURCE 199309L  /* clock_gettime under -std=c11 */
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include <cblas.h>  /* openblas_set_num_threads */

#include "binding.h"

/* ---- the per-state context ----------------------------------------------------- */

static int state_gc(lua_State *L) {
  lt_state *s = (lt_state *)lua_touserdata(L, 1);
  if (s->ctx) {
    lc_ctx_set_callbacks(s->ctx, NULL, NULL, NULL);  /* s goes now; tensors may linger */
    lc_ctx_free(s->ctx);  /* tensors still alive keep it until they go */
  }
  s->ctx = NULL;
  lt_state_free_lists(s);
  return 0;
}

/* ---- boxes ------------------------------------------------------------------------ */

lc_tensor *lt_test(lua_State *L, int idx) {
  lt_box *b = (lt_box *)luaL_testudata(L, idx, LT_TENSOR);
  return b ? b->t : NULL;
}

lc_tensor *lt_check(lua_State *L, int idx) {
  lt_box *b = (lt_box *)luaL_checkudata(L, idx, LT_TENSOR);
  if (!b->t) luaL_argerror(L, idx, "tensor was closed");
  return b->t;
}

lc_tensor **lt_newbox(lua_State *L) {
  lt_box *b = (lt_box *)lua_newuserdatauv(L, sizeof(lt_box), 0);
  b->t = NULL;
  b->is_param = 0;
  luaL_setmetatable(L, LT_TENSOR);
  return &b->t;
}

int lt_fail(lua_State *L, lc_ctx *ctx, const char *fname) {
  return lt_error(L, "%s: %s", fname, lc_ctx_error(ctx));
}

/* ---- where errors point ------------------------------------------------------------
 * Every error the library raises, from C or from its Lua files, goes through
 * lt_error, so that its position is the user's line however deep the check
 * sits: nn.Linear's forward calling lucid.linear calling a shape check
 * reports the line of `model(x)`, not Linear.lua. The rule is one: skip C
 * frames and frames of the library's own Lua files (whose chunk names start
 * with the prefix lucid/init.lua registered, LT_LIBSRC_KEY), and point at the
 * first frame left. Only the error path pays for the walk. */
#define LT_LIBSRC_KEY "lucid.libsrc"

static int is_library_frame(lua_State *L, lua_Debug *ar, const char *prefix, size_t len) {
  if (!lua_getinfo(L, "S", ar)) return 0;
  if (ar->what[0] == 'C') return 1;
  return prefix && strncmp(ar->source, prefix, len) == 0;
}

/* The level (as luaL_where counts, from the function calling this) of the
 * first frame outside the library, or 0 when there is none (a host calling
 * a library function straight from C). */
static int user_level(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, LT_LIBSRC_KEY);
  size_t len = 0;
  const char *prefix = lua_tolstring(L, -1, &len);  /* stays valid: the registry holds it */
  lua_pop(L, 1);
  lua_Debug ar;
  for (int level = 1; lua_getstack(L, level, &ar); level++)
    if (!is_library_frame(L, &ar, prefix, len)) return level;
  return 0;
}

int lt_error(lua_State *L, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  int level = user_level(L);
  if (level > 0) {
    luaL_where(L, level);
    lua_insert(L, -2);
    lua_concat(L, 2);
  }
  return lua_error(L);
}

/* lucid.core._error(msg): raises msg the way lt_error does; the Lua library's
 * one way to raise. */
static int l_error(lua_State *L) {
  const char *msg = luaL_checkstring(L, 1);
  return lt_error(L, "%s", msg);
}

/* lucid.core._set_library_source(source): the chunk name of lucid/init.lua,
 * whose folder holds every library file. */
static int l_set_library_source(lua_State *L) {
  size_t len;
  const char *src = luaL_checklstring(L, 1, &len);
  size_t dir = len;
  while (dir > 0 && src[dir - 1] != '/' && src[dir - 1] != '\\') dir--;
  lua_pushlstring(L, src, dir);
  lua_setfield(L, LUA_REGISTRYINDEX, LT_LIBSRC_KEY);
  return 0;
}

/* Tensor bytes live outside Lua's heap, so the collector cannot see them.
 * Two things keep a loop's memory bounded without collectgarbage():
 * - every 16 KB of new tensor bytes is reported as GC debt (LUA_GCSTEP), which
 *   paces the incremental collector to the real allocation rate;
 * - in generational mode (the lua5.4 interpreter's default) those steps are
 *   minor collections, and a tensor that survives one grows old and waits
 *   for a major collection, which Lua paces by its own heap alone. So when
 *   live tensor bytes double since the last full collection, we ask for one,
 *   as Lua's own "pause" does for its heap. */
#define LT_GC_FLOOR (4u << 20)

static void report_bytes(lua_State *L, lc_ctx *ctx) {
  lt_state *s = (lt_state *)lua_touserdata(L, lua_upvalueindex(1));
  if (s->npending) lt_drain_pending(L, s);
  size_t n = lc_ctx_take_new_bytes(ctx, 16 * 1024);
  if (!n) return;
  lua_gc(L, LUA_GCSTEP, (int)(n / 1024 > 0x7fffffff ? 0x7fffffff : n / 1024));
  if (lc_ctx_live_bytes(ctx) > s->gc_threshold && lua_gc(L, LUA_GCISRUNNING)) {
    lua_gc(L, LUA_GCCOLLECT);
    size_t live = lc_ctx_live_bytes(ctx);
    s->gc_threshold = live > LT_GC_FLOOR / 2 ? 2 * live : LT_GC_FLOOR;
  }
}

int lt_fill(lua_State *L, lc_ctx *ctx, lc_tensor **slot, lc_tensor *r, const char *fname) {
  if (!r) return lt_fail(L, ctx, fname);
  *slot = r;
  report_bytes(L, ctx);
  return 1;
}

int lt_fill_top(lua_State *L, lc_ctx *ctx, lc_tensor *r, const char *fname) {
  return lt_fill(L, ctx, &((lt_box *)lua_touserdata(L, -1))->t, r, fname);
}

int lt_try_top(lua_State *L, lc_ctx *ctx, lc_tensor *r, const char *fname) {
  if (r) return lt_fill_top(L, ctx, r, fname);
  if (lc_ctx_status(ctx) != LC_ENOMEM || !lua_gc(L, LUA_GCISRUNNING))
    return lt_fail(L, ctx, fname);  /* not a matter of memory: no second try */
  lua_gc(L, LUA_GCCOLLECT);
  return 0;  /* lt_push calls again */
}

/* return push_leaf(L, ctx, lc_make(...), requires_grad, fname): a new leaf
 * made by a creation function, pushed (or its error raised) with
 * requires_grad as its options said. */
#define push_leaf(L, ctx, call, rg, fname) \
  (lt_push((L), (ctx), (call), (fname)), \
   ((lt_box *)lua_touserdata((L), -1))->t->requires_grad = (rg), 1)

static int box_gc(lua_State *L) {
  lt_box *b = (lt_box *)luaL_checkudata(L, 1, LT_TENSOR);
  lc_tensor_release(b->t);
  b->t = NULL;
  return 0;
}

/* ---- argument helpers ---------------------------------------------------------- */

static lc_dtype check_dtype(lua_State *L, int idx, const char *fname) {
  const char *s = luaL_checkstring(L, idx);
  if (strcmp(s, "float32") == 0 || strcmp(s, "float") == 0) return LC_FLOAT32;
  if (strcmp(s, "float64") == 0 || strcmp(s, "double") == 0) return LC_FLOAT64;
  lt_error(L, "%s: unknown dtype '%s' (expected \"float32\" or \"float64\")", fname, s);
  return LC_FLOAT32;
}

lc_tensor *lt_operand(lua_State *L, lc_ctx *ctx, int idx, const lc_tensor *like, const char *fname) {
  lc_tensor *t = lt_test(L, idx);
  if (t) return t;
  if (lua_isuserdata(L, idx) && luaL_testudata(L, idx, LT_TENSOR))
    lt_error(L, "%s: tensor was closed", fname);
  if (lua_type(L, idx) != LUA_TNUMBER)
    lt_error(L, "%s: expected a tensor or a number, got %s", fname, luaL_typename(L, idx));
  double v = lua_tonumber(L, idx);
  lc_tensor **slot = lt_newbox(L);
  lt_fill(L, ctx, slot, lc_scalar(ctx, like ? like->dtype : lc_ctx_default_dtype(ctx), v), fname);
  return *slot;
}

lua_Integer lt_integer(lua_State *L, int idx, const char *what, const char *fname) {
  int ok;
  lua_Integer v = lua_tointegerx(L, idx, &ok);  /* 2.0 is fine, as in Lua's own library */
  if (!ok || lua_type(L, idx) != LUA_TNUMBER)
    lt_error(L, "%s: %s must be an integer, got %s", fname, what,
               lua_type(L, idx) == LUA_TNUMBER ? "a fraction" : luaL_typename(L, idx));
  return v;
}

int lt_dim(lua_State *L, int idx, int ndim, const char *fname) {
  lua_Integer d = lt_integer(L, idx, "dimension", fname);
  if (d >= 1 && d <= ndim) return (int)d - 1;
  if (d < 0 && d >= -(lua_Integer)ndim) return (int)(ndim + d);  /* no -d: d may be mininteger */
  if (ndim == 0)
    lt_error(L, "%s: dimension %d is out of range for a 0-d tensor", fname, (int)d);
  lt_error(L, "%s: dimension %I is out of range for a %d-d tensor (expected 1..%d or -%d..-1)",
             fname, (LUAI_UACINT)d, ndim, ndim, ndim);
  return 0;
}

/* A size: an integer, or a float with an integer value (2^40 is a float in
 * Lua); sizes too big for the core are caught there, before any allocation. */
static int64_t check_size(lua_State *L, int idx, const char *fname) {
  int ok;
  lua_Integer v = lua_tointegerx(L, idx, &ok);
  if (!ok && lua_type(L, idx) == LUA_TNUMBER) {
    lua_Number f = lua_tonumber(L, idx);
    if (f == floor(f)) return INT64_MAX;  /* integral but beyond int64: too big */
  }
  if (!ok || lua_type(L, idx) != LUA_TNUMBER)
    lt_error(L, "%s: sizes must be integers, got %s", fname,
               lua_type(L, idx) == LUA_TNUMBER ? "a fraction" : luaL_typename(L, idx));
  return (int64_t)v;
}

int lt_shape(lua_State *L, int idx, int64_t *shape, const char *fname, int *next) {
  int n = 0;
  if (lua_istable(L, idx)) {
    lua_Integer len = (lua_Integer)lua_rawlen(L, idx);
    if (len > LC_MAX_DIMS)
      lt_error(L, "%s: at most %d dimensions are supported, got %d", fname, LC_MAX_DIMS, (int)len);
    for (lua_Integer i = 1; i <= len; i++) {
      lua_rawgeti(L, idx, i);
      shape[n++] = check_size(L, -1, fname);
      lua_pop(L, 1);
    }
    if (next) *next = idx + 1;
    return n;
  }
  while (lua_type(L, idx + n) == LUA_TNUMBER) {
    if (n == LC_MAX_DIMS)
      lt_error(L, "%s: at most %d dimensions are supported", fname, LC_MAX_DIMS);
    shape[n] = check_size(L, idx + n, fname);
    n++;
  }
  if (next) *next = idx + n;
  return n;
}

/* Options table {dtype = ..., requires_grad = ...} at idx (may be none). */
static void read_opts(lua_State *L, int idx, lc_ctx *ctx, lc_dtype *dtype, int *requires_grad,
                      const char *fname) {
  *dtype = lc_ctx_default_dtype(ctx);
  *requires_grad = 0;
  if (idx <= 0 || lua_isnoneornil(L, idx)) return;  /* idx 0: no options */
  if (!lua_istable(L, idx))
    lt_error(L, "%s: options must be a table, got %s", fname, luaL_typename(L, idx));
  if (lua_getfield(L, idx, "dtype") != LUA_TNIL) *dtype = check_dtype(L, -1, fname);
  lua_pop(L, 1);
  lua_getfield(L, idx, "requires_grad");
  *requires_grad = lua_toboolean(L, -1);
  lua_pop(L, 1);
}

/* ---- creation ------------------------------------------------------------------------ */

/* The shape of a nested table, read along its first elements. */
static int table_shape(lua_State *L, int idx, int64_t *shape, const char *fname) {
  int n = 0;
  lua_pushvalue(L, idx);
  while (lua_istable(L, -1)) {
    if (n == LC_MAX_DIMS)
      lt_error(L, "%s: nested table is deeper than %d dimensions", fname, LC_MAX_DIMS);
    shape[n++] = (int64_t)lua_rawlen(L, -1);
    if (shape[n - 1] == 0) break;
    lua_rawgeti(L, -1, 1);
    lua_remove(L, -2);
  }
  lua_pop(L, 1);
  return n;
}

typedef struct fill_state {
  lua_State *L;
  const char *fname;
  int ndim;
  const int64_t *shape;
  int64_t pos[LC_MAX_DIMS];
  int64_t k;
  lc_tensor *t;
} fill_state;

static void where_str(fill_state *f, int depth, char *buf, size_t n) {
  size_t used = 0;
  buf[0] = 0;
  for (int i = 0; i < depth && used < n; i++)
    used += (size_t)snprintf(buf + used, n - used, "[%lld]", (long long)f->pos[i] + 1);
}

/* Walks the table on top of the stack at `depth`, checking it is rectangular
 * and numeric, writing values in row-major order. Depth <= LC_MAX_DIMS. */
static void fill_from(fill_state *f, int depth) {
  lua_State *L = f->L;
  char w[96];
  if (depth == f->ndim) {
    if (lua_type(L, -1) != LUA_TNUMBER) {
      where_str(f, depth, w, sizeof w);
      lt_error(L, "%s: expected a number at %s, got %s", f->fname, w, luaL_typename(L, -1));
    }
    double v = lua_tonumber(L, -1);
    if (f->t->dtype == LC_FLOAT64) ((double *)lc_tensor_data(f->t))[f->k++] = v;
    else ((float *)lc_tensor_data(f->t))[f->k++] = (float)v;
    return;
  }
  if (!lua_istable(L, -1)) {
    where_str(f, depth, w, sizeof w);
    lt_error(L, "%s: ragged nested table: expected a table of %I at %s, got %s", f->fname,
               (LUAI_UACINT)f->shape[depth], w, luaL_typename(L, -1));
  }
  int64_t len = (int64_t)lua_rawlen(L, -1);
  if (len != f->shape[depth]) {
    where_str(f, depth, w, sizeof w);
    lt_error(L, "%s: ragged nested table: %s%s has %I elements, expected %I", f->fname,
               depth ? "element " : "the top table", w, (LUAI_UACINT)len,
               (LUAI_UACINT)f->shape[depth]);
  }
  luaL_checkstack(L, 2, "nested table");
  for (int64_t i = 0; i < len; i++) {
    f->pos[depth] = i;
    lua_rawgeti(L, -1, (lua_Integer)i + 1);
    fill_from(f, depth + 1);
    lua_pop(L, 1);
  }
}

/* lucid.tensor(data [, opts]): data is a number, a nested table or a tensor. */
static int l_tensor(lua_State *L) {
  static const char *fname = "lucid.tensor";
  lc_ctx *ctx = LT_CTX(L);
  lc_dtype dtype;
  int rg;
  read_opts(L, 2, ctx, &dtype, &rg, fname);
  lc_tensor *src = lt_test(L, 1);
  lc_tensor **slot = lt_newbox(L);
  if (src) {
    lc_tensor *c = lc_empty(ctx, dtype, src->ndim, src->shape);
    if (c) lc_copy_(ctx, c, src);
    lt_fill(L, ctx, slot, c, fname);
  } else if (lua_type(L, 1) == LUA_TNUMBER) {
    lt_fill(L, ctx, slot, lc_scalar(ctx, dtype, lua_tonumber(L, 1)), fname);
  } else if (lua_istable(L, 1)) {
    int64_t shape[LC_MAX_DIMS];
    int ndim = table_shape(L, 1, shape, fname);
    lt_fill(L, ctx, slot, lc_empty(ctx, dtype, ndim, shape), fname);
    fill_state f = {L, fname, ndim, shape, {0}, 0, *slot};
    lua_pushvalue(L, 1);
    fill_from(&f, 0);
    lua_pop(L, 1);
  } else {
    return lt_error(L, "%s: expected a number, a nested table or a tensor, got %s", fname,
                      luaL_typename(L, 1));
  }
  (*slot)->requires_grad = rg;
  return 1;
}

typedef enum { MK_EMPTY, MK_ZEROS, MK_ONES, MK_FULL, MK_RAND, MK_RANDN } make_kind;

static int make(lua_State *L, make_kind kind, const char *fname) {
  lc_ctx *ctx = LT_CTX(L);
  int64_t shape[LC_MAX_DIMS];
  int next, ndim;
  double value = 0;
  if (kind == MK_FULL && !lua_istable(L, 1)) {
    /* full(2, 3, value): the last of the leading numbers is the value */
    int n = 0;
    while (lua_type(L, n + 1) == LUA_TNUMBER) n++;
    if (n == 0) return lt_error(L, "%s: expected a shape and a fill value", fname);
    value = lua_tonumber(L, n);
    lua_pushnil(L);
    lua_copy(L, -1, n);  /* hide the value from the shape reader */
    lua_pop(L, 1);
    ndim = lt_shape(L, 1, shape, fname, &next);
    next = n + 1;
  } else {
    ndim = lt_shape(L, 1, shape, fname, &next);
    if (kind == MK_FULL) value = luaL_checknumber(L, next++);
  }
  lc_dtype dtype;
  int rg;
  read_opts(L, next, ctx, &dtype, &rg, fname);
  lc_tensor **slot = lt_newbox(L);
  lc_tensor *r = NULL;
  switch (kind) {
    case MK_EMPTY: r = lc_empty(ctx, dtype, ndim, shape); break;
    case MK_ZEROS: r = lc_zeros(ctx, dtype, ndim, shape); break;
    case MK_ONES: r = lc_full(ctx, dtype, ndim, shape, 1.0); break;
    case MK_FULL: r = lc_full(ctx, dtype, ndim, shape, value); break;
    case MK_RAND: r = lc_rand(ctx, dtype, ndim, shape); break;
    case MK_RANDN: r = lc_randn(ctx, dtype, ndim, shape); break;
  }
  lt_fill(L, ctx, slot, r, fname);
  r->requires_grad = rg;
  return 1;
}

static int l_empty(lua_State *L) { return make(L, MK_EMPTY, "lucid.empty"); }
static int l_zeros(lua_State *L) { return make(L, MK_ZEROS, "lucid.zeros"); }
static int l_ones(lua_State *L) { return make(L, MK_ONES, "lucid.ones"); }
static int l_full(lua_State *L) { return make(L, MK_FULL, "lucid.full"); }
static int l_rand(lua_State *L) { return make(L, MK_RAND, "lucid.rand"); }
static int l_randn(lua_State *L) { return make(L, MK_RANDN, "lucid.randn"); }

/* Reads an optional trailing options table, which must be the last argument. */
static void trailing_opts(lua_State *L, int *top, lc_ctx *ctx, lc_dtype *dtype, int *rg,
                          const char *fname) {
  int idx = *top;
  if (idx >= 1 && lua_istable(L, idx)) {
    read_opts(L, idx, ctx, dtype, rg, fname);
    (*top)--;
  } else {
    read_opts(L, 0, ctx, dtype, rg, fname);
  }
}

/* eye(n [, m] [, opts]) */
static int l_eye(lua_State *L) {
  static const char *fname = "lucid.eye";
  lc_ctx *ctx = LT_CTX(L);
  int top = lua_gettop(L), rg;
  lc_dtype dt;
  trailing_opts(L, &top, ctx, &dt, &rg, fname);
  lua_Integer n = lt_integer(L, 1, "n", fname);
  lua_Integer m = top >= 2 ? lt_integer(L, 2, "m", fname) : n;
  return push_leaf(L, ctx, lc_eye(ctx, dt, n, m), rg, fname);
}

/* arange(end), arange(start, end [, step]) [, opts]: end exclusive, as PyTorch */
static int l_arange(lua_State *L) {
  static const char *fname = "lucid.arange";
  lc_ctx *ctx = LT_CTX(L);
  int top = lua_gettop(L), rg;
  lc_dtype dt;
  trailing_opts(L, &top, ctx, &dt, &rg, fname);
  double start = 0, end, step = 1;
  if (top <= 1) end = luaL_checknumber(L, 1);
  else {
    start = luaL_checknumber(L, 1);
    end = luaL_checknumber(L, 2);
    if (top >= 3) step = luaL_checknumber(L, 3);
  }
  return push_leaf(L, ctx, lc_arange(ctx, dt, start, end, step), rg, fname);
}

/* linspace(start, end, steps [, opts]) */
static int l_linspace(lua_State *L) {
  static const char *fname = "lucid.linspace";
  lc_ctx *ctx = LT_CTX(L);
  int top = lua_gettop(L), rg;
  lc_dtype dt;
  trailing_opts(L, &top, ctx, &dt, &rg, fname);
  double start = luaL_checknumber(L, 1), end = luaL_checknumber(L, 2);
  lua_Integer steps = lt_integer(L, 3, "steps", fname);
  return push_leaf(L, ctx, lc_linspace(ctx, dt, start, end, steps), rg, fname);
}

/* randint(high, shape [, opts]) or randint(low, high, shape [, opts]); high
 * exclusive; the shape is a table (varargs would be ambiguous here). */
static int l_randint(lua_State *L) {
  static const char *fname = "lucid.randint";
  lc_ctx *ctx = LT_CTX(L);
  int shape_idx = lua_istable(L, 2) ? 2 : 3;
  lua_Integer low = 0, high;
  if (shape_idx == 2) high = lt_integer(L, 1, "high", fname);
  else {
    low = lt_integer(L, 1, "low", fname);
    high = lt_integer(L, 2, "high", fname);
  }
  if (!lua_istable(L, shape_idx))
    return lt_error(L, "%s: expected a shape table after the bounds, got %s", fname,
                      luaL_typename(L, shape_idx));
  int64_t shape[LC_MAX_DIMS];
  int ndim = lt_shape(L, shape_idx, shape, fname, NULL);
  lc_dtype dt;
  int rg;
  read_opts(L, shape_idx + 1, ctx, &dt, &rg, fname);
  lc_tensor **slot = lt_newbox(L);
  return lt_fill(L, ctx, slot, lc_randint(ctx, dt, low, high, ndim, shape), fname);
}

/* from_string(bytes, shape... [, opts]): a tensor over packed little-endian
 * floats (4 bytes each for float32, 8 for float64), as files and hosts hold
 * them. The bytes are copied. */
static int l_from_string(lua_State *L) {
  static const char *fname = "lucid.from_string";
  lc_ctx *ctx = LT_CTX(L);
  size_t len;
  const unsigned char *s = (const unsigned char *)luaL_checklstring(L, 1, &len);
  int64_t shape[LC_MAX_DIMS];
  int next;
  int ndim = lt_shape(L, 2, shape, fname, &next);
  lc_dtype dt;
  int rg;
  read_opts(L, next, ctx, &dt, &rg, fname);
  lc_tensor **slot = lt_newbox(L);
  lt_fill(L, ctx, slot, lc_empty(ctx, dt, ndim, shape), fname);
  size_t es = lc_dtype_size(dt), need = (size_t)(*slot)->numel * es;
  if (len != need)
    return lt_error(L, "%s: %I elements of %s need %I bytes, got %I", fname,
                      (LUAI_UACINT)(*slot)->numel, lc_dtype_name(dt), (LUAI_UACINT)need,
                      (LUAI_UACINT)len);
  for (int64_t i = 0; i < (*slot)->numel; i++) {
    uint64_t bits = 0;  /* assembled byte by byte: the same on any host byte order */
    for (size_t k = 0; k < es; k++) bits |= (uint64_t)s[(size_t)i * es + k] << (8 * k);
    if (dt == LC_FLOAT64) memcpy((double *)lc_tensor_data(*slot) + i, &bits, 8);
    else {
      uint32_t b32 = (uint32_t)bits;
      memcpy((float *)lc_tensor_data(*slot) + i, &b32, 4);
    }
  }
  (*slot)->requires_grad = rg;
  return 1;
}

/* t:to_string(): the values as packed little-endian floats, row-major. */
static int l_to_string(lua_State *L) {
  lc_tensor *t = lt_check(L, 1);
  size_t es = lc_dtype_size(t->dtype);
  luaL_Buffer b;
  unsigned char *out = (unsigned char *)luaL_buffinitsize(L, &b, (size_t)t->numel * es);
  int64_t idx[LC_MAX_DIMS] = {0};
  for (int64_t i = 0; i < t->numel; i++) {
    double v = lc_tensor_get(t, idx);
    uint64_t bits = 0;
    if (t->dtype == LC_FLOAT64) memcpy(&bits, &v, 8);
    else {
      float f = (float)v;
      uint32_t b32;
      memcpy(&b32, &f, 4);
      bits = b32;
    }
    for (size_t k = 0; k < es; k++) out[(size_t)i * es + k] = (unsigned char)(bits >> (8 * k));
    for (int d = t->ndim - 1; d >= 0; d--) {
      if (++idx[d] < t->shape[d]) break;
      idx[d] = 0;
    }
  }
  luaL_pushresultsize(&b, (size_t)t->numel * es);
  return 1;
}

/* uniform_(t, lo, hi): in place, for initialisers. */
static int l_uniform_(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *t = lt_check(L, 1);
  lt_check_inplace(L, t, "lucid.uniform_");
  if (lc_uniform_(ctx, t, luaL_checknumber(L, 2), luaL_checknumber(L, 3)) != LC_OK)
    return lt_fail(L, ctx, "lucid.uniform_");
  lua_settop(L, 1);
  return 1;
}

/* ---- reading values ------------------------------------------------------------------ */

static int l_item(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  double v;
  if (lc_tensor_item(ctx, lt_check(L, 1), &v) != LC_OK) return lt_fail(L, ctx, "lucid.item");
  lua_pushnumber(L, v);
  return 1;
}

static void push_list(lua_State *L, const lc_tensor *t, int depth, int64_t *idx) {
  if (depth == t->ndim) {
    lua_pushnumber(L, lc_tensor_get(t, idx));
    return;
  }
  luaL_checkstack(L, 3, "tolist");
  lua_createtable(L, (int)t->shape[depth], 0);
  for (int64_t i = 0; i < t->shape[depth]; i++) {
    idx[depth] = i;
    push_list(L, t, depth + 1, idx);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
}

static int l_tolist(lua_State *L) {
  lc_tensor *t = lt_check(L, 1);
  int64_t idx[LC_MAX_DIMS] = {0};
  push_list(L, t, 0, idx);
  return 1;
}

static int l_numel(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)lt_check(L, 1)->numel);
  return 1;
}

static void push_shape(lua_State *L, const lc_tensor *t) {
  lua_createtable(L, t->ndim, 0);
  for (int i = 0; i < t->ndim; i++) {
    lua_pushinteger(L, (lua_Integer)t->shape[i]);
    lua_rawseti(L, -2, i + 1);
  }
}

/* t:size() -> shape table; t:size(d) -> one size. */
static int l_size(lua_State *L) {
  lc_tensor *t = lt_check(L, 1);
  if (lua_isnoneornil(L, 2)) {
    push_shape(L, t);
  } else {
    int d = lt_dim(L, 2, t->ndim, "lucid.size");
    lua_pushinteger(L, (lua_Integer)t->shape[d]);
  }
  return 1;
}

static int l_dim(lua_State *L) {
  lua_pushinteger(L, lt_check(L, 1)->ndim);
  return 1;
}

static int l_is_contiguous(lua_State *L) {
  lua_pushboolean(L, lc_tensor_is_contiguous(lt_check(L, 1)));
  return 1;
}

/* ---- autograd ---------------------------------------------------------------------- */

/* t:backward([grad] [, {retain_graph = true}]); t:backward{retain_graph = true} */
static int l_backward(lua_State *L) {
  static const char *fname = "lucid.backward";
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *t = lt_check(L, 1);
  int opts = 3;
  lc_tensor *seed = NULL;
  if (lua_istable(L, 2) && !lt_test(L, 2)) opts = 2;
  else if (!lua_isnoneornil(L, 2)) seed = lt_operand(L, ctx, 2, t, fname);
  int retain = 0;
  if (lua_istable(L, opts)) {
    lua_getfield(L, opts, "retain_graph");
    retain = lua_toboolean(L, -1);
    lua_pop(L, 1);
  }
  lt_state *s = (lt_state *)lua_touserdata(L, lua_upvalueindex(1));
  lua_State *outer = s->active;  /* a hook may run a backward of its own */
  s->active = L;
  lc_status st = lc_backward(ctx, t, seed, retain);
  s->active = outer;
  report_bytes(L, ctx);
  if (st != LC_OK) return lt_fail(L, ctx, fname);
  return 0;
}

static int l_detach(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *t = lt_check(L, 1);
  return lt_push(L, ctx, lc_detach(ctx, t), "lucid.detach");
}

static int l_zero_grad(lua_State *L) {
  lc_tensor *t = lt_check(L, 1);
  lc_tensor_release(t->grad);  /* PyTorch's default: grads become None */
  t->grad = NULL;
  lua_settop(L, 1);
  return 1;
}

static void set_requires_grad(lua_State *L, lc_tensor *t, int v, const char *fname) {
  if (!lc_tensor_is_leaf(t) && !v)
    lt_error(L, "%s: requires_grad can only be changed on leaf tensors (use detach())", fname);
  t->requires_grad = v;
}

static int l_requires_grad_(lua_State *L) {
  lc_tensor *t = lt_check(L, 1);
  set_requires_grad(L, t, lua_isnone(L, 2) ? 1 : lua_toboolean(L, 2), "lucid.requires_grad_");
  lua_settop(L, 1);
  return 1;
}

/* nn.Parameter(t): a leaf sharing t's storage that requires grad and that
 * modules register when assigned to a field. */
static int l_parameter(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *t = lt_check(L, 1);
  lc_tensor **slot = lt_newbox(L);
  lt_fill(L, ctx, slot, lc_detach(ctx, t), "nn.Parameter");
  (*slot)->requires_grad = lua_isnoneornil(L, 2) ? 1 : lua_toboolean(L, 2);
  ((lt_box *)lua_touserdata(L, -1))->is_param = 1;
  return 1;
}

static int l_is_parameter(lua_State *L) {
  lt_box *b = (lt_box *)luaL_testudata(L, 1, LT_TENSOR);
  lua_pushboolean(L, b && b->is_param);
  return 1;
}

/* _fits(buf, t [, last]): whether buf is a contiguous tensor of t's dtype and
 * shape (with the last size replaced by `last`), so a layer can reuse it as
 * its output. Allocates nothing: it runs every frame in inference loops. */
static int l_fits(lua_State *L) {
  lc_tensor *buf = lt_test(L, 1), *t = lt_check(L, 2);
  int ok = buf && buf->dtype == t->dtype && buf->ndim == t->ndim && t->ndim > 0 &&
           lc_tensor_is_contiguous(buf) && !buf->requires_grad;
  for (int i = 0; ok && i < t->ndim; i++) {
    int64_t want = (i == t->ndim - 1 && !lua_isnoneornil(L, 3)) ? (int64_t)luaL_checkinteger(L, 3)
                                                                : t->shape[i];
    ok = buf->shape[i] == want;
  }
  lua_pushboolean(L, ok);
  return 1;
}

static int l_is_tensor(lua_State *L) {
  lua_pushboolean(L, luaL_testudata(L, 1, LT_TENSOR) != NULL);
  return 1;
}

/* ---- fields: t.shape, t.grad, ... ------------------------------------------------ */

/* __index: methods first (upvalue 2), then fields, then integer indexing. */
static int t_index(lua_State *L) {
  lc_tensor *t = lt_check(L, 1);
  if (lua_type(L, 2) == LUA_TSTRING) {
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(2)) != LUA_TNIL) return 1;
    const char *k = lua_tostring(L, 2);
    if (strcmp(k, "shape") == 0) push_shape(L, t);
    else if (strcmp(k, "ndim") == 0) lua_pushinteger(L, t->ndim);
    else if (strcmp(k, "dtype") == 0) lua_pushstring(L, lc_dtype_name(t->dtype));
    else if (strcmp(k, "requires_grad") == 0) lua_pushboolean(L, t->requires_grad);
    else if (strcmp(k, "is_leaf") == 0) lua_pushboolean(L, lc_tensor_is_leaf(t));
    else if (strcmp(k, "grad_fn") == 0) {
      const char *op = lc_tensor_op_name(t);
      if (op) lua_pushstring(L, op); else lua_pushnil(L);
    } else if (strcmp(k, "grad") == 0) {
      if (!t->grad) lua_pushnil(L);
      else {
        lc_tensor **slot = lt_newbox(L);
        lc_tensor_retain(t->grad);  /* the same tensor: in-place changes show */
        *slot = t->grad;
      }
    } else if (strcmp(k, "T") == 0 && t->ndim == 2) {
      lc_tensor **slot = lt_newbox(L);
      lt_fill(L, LT_CTX(L), slot, lc_transpose(LT_CTX(L), t, 0, 1), "lucid.Tensor.T");
    } else lua_pushnil(L);
    return 1;
  }
  if (lua_type(L, 2) == LUA_TNUMBER) {  /* t[i]: 1-based, negative from the end */
    lc_ctx *ctx = LT_CTX(L);
    if (t->ndim == 0) return lt_error(L, "lucid.Tensor: a 0-d tensor cannot be indexed");
    lua_Integer i = lt_integer(L, 2, "index", "lucid.Tensor"), n = (lua_Integer)t->shape[0];
    if (i == 0 || i > n || i < -n)
      return lt_error(L, "lucid.Tensor: index %I is out of range for a dimension of size %I "
                        "(expected 1..%I or -%I..-1)", (LUAI_UACINT)i, (LUAI_UACINT)n,
                        (LUAI_UACINT)n, (LUAI_UACINT)n);
    lc_tensor **slot = lt_newbox(L);
    return lt_fill(L, ctx, slot, lc_select(ctx, t, 0, i > 0 ? i - 1 : n + i), "lucid.Tensor");
  }
  lua_pushnil(L);
  return 1;
}

static int t_newindex(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *t = lt_check(L, 1);
  if (lua_type(L, 2) == LUA_TSTRING) {
    const char *k = lua_tostring(L, 2);
    if (strcmp(k, "requires_grad") == 0) {
      set_requires_grad(L, t, lua_toboolean(L, 3), "lucid.Tensor.requires_grad");
      return 0;
    }
    if (strcmp(k, "grad") == 0) {
      lc_tensor *g = lua_isnil(L, 3) ? NULL : lt_check(L, 3);
      if (g) {
        int same = g->ndim == t->ndim;
        for (int i = 0; same && i < t->ndim; i++) same = g->shape[i] == t->shape[i];
        if (!same) {
          char a[160], b[160];
          lc_shape_str(a, sizeof a, g->ndim, g->shape);
          lc_shape_str(b, sizeof b, t->ndim, t->shape);
          return lt_error(L, "lucid.Tensor.grad: gradient of shape %s does not match the "
                            "tensor's shape %s", a, b);
        }
        /* a tensor cannot be its own gradient, even through a chain of .grad
         * (a reference cycle nothing could free) */
        for (lc_tensor *p = g; p; p = p->grad)
          if (p == t) return lt_error(L, "lucid.Tensor.grad: a tensor cannot be its own gradient");
        if (g->node) {
          /* keep the values, not the graph: a graph that reaches t would make
           * a cycle t -> grad -> graph -> t */
          lc_tensor *d = lc_detach(LT_CTX(L), g);
          if (!d) return lt_fail(L, LT_CTX(L), "lucid.Tensor.grad");
          g = d;
        } else {
          lc_tensor_retain(g);
        }
      }
      lc_tensor_release(t->grad);
      t->grad = g;
      return 0;
    }
    return lt_error(L, "lucid.Tensor: cannot set field '%s'", k);
  }
  if (lua_type(L, 2) == LUA_TNUMBER) {  /* t[i] = value: in place, outside the graph */
    if (t->ndim == 0) return lt_error(L, "lucid.Tensor: a 0-d tensor cannot be indexed");
    lt_check_inplace(L, t, "lucid.Tensor");
    lua_Integer i = lt_integer(L, 2, "index", "lucid.Tensor"), n = (lua_Integer)t->shape[0];
    if (i == 0 || i > n || i < -n)
      return lt_error(L, "lucid.Tensor: index %I is out of range for a dimension of size %I",
                        (LUAI_UACINT)i, (LUAI_UACINT)n);
    lc_tensor *src = lt_operand(L, ctx, 3, t, "lucid.Tensor");
    lc_tensor **slot = lt_newbox(L);
    lt_fill(L, ctx, slot, lc_select(ctx, t, 0, i > 0 ? i - 1 : n + i), "lucid.Tensor");
    if (lc_copy_(ctx, *slot, src) != LC_OK) return lt_fail(L, ctx, "lucid.Tensor");
    return 0;
  }
  return lt_error(L, "lucid.Tensor: cannot set a %s key", luaL_typename(L, 2));
}

/* PyTorch refuses this too: the change would not be part of the graph. */
void lt_check_inplace(lua_State *L, const lc_tensor *t, const char *fname) {
  lc_ctx *ctx = LT_CTX(L);
  if (lc_ctx_grad_enabled(ctx) && t->requires_grad)
    lt_error(L, "%s: a tensor that requires grad cannot be changed in place while gradients "
               "are recorded (use lucid.no_grad)", fname);
}

static int t_len(lua_State *L) {
  lc_tensor *t = lt_check(L, 1);
  if (t->ndim == 0) return lt_error(L, "lucid.Tensor: len() of a 0-d tensor");
  lua_pushinteger(L, (lua_Integer)t->shape[0]);
  return 1;
}

/* ---- settings ------------------------------------------------------------------------- */

static int l_manual_seed(lua_State *L) {
  lc_ctx_seed(LT_CTX(L), (uint64_t)luaL_checkinteger(L, 1));
  return 0;
}

static int l_set_default_dtype(lua_State *L) {
  lc_ctx_set_default_dtype(LT_CTX(L), check_dtype(L, 1, "lucid.set_default_dtype"));
  return 0;
}

static int l_get_default_dtype(lua_State *L) {
  lua_pushstring(L, lc_dtype_name(lc_ctx_default_dtype(LT_CTX(L))));
  return 1;
}

static int l_set_grad_enabled(lua_State *L) {
  luaL_checkany(L, 1);
  lua_pushboolean(L, lc_ctx_set_grad_enabled(LT_CTX(L), lua_toboolean(L, 1)));
  return 1;  /* the previous setting, to restore */
}

static int l_is_grad_enabled(lua_State *L) {
  lua_pushboolean(L, lc_ctx_grad_enabled(LT_CTX(L)));
  return 1;
}

/* OpenBLAS's thread count is process-wide, so it changes only when a script
 * asks: a host running several states on its own threads usually wants 1. */
static int l_set_num_threads(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1);
  luaL_argcheck(L, n >= 1 && n <= 1024, 1, "expected 1 to 1024 threads");
  openblas_set_num_threads((int)n);
  lc_ctx_set_num_threads(LT_CTX(L), (int)n);  /* and this state's own kernels */
  return 0;
}

static int l_get_num_threads(lua_State *L) {
  lua_pushinteger(L, openblas_get_num_threads());
  return 1;
}

/* A monotonic wall clock in seconds, for timing loops (os.clock is CPU time,
 * which counts every thread, and os.time has a one-second resolution). */
static int l_clock(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec * 1e-9);
  return 1;
}

static int l_memory_allocated(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)lc_ctx_live_bytes(LT_CTX(L)));
  return 1;
}

/* ---- the module ----------------------------------------------------------------------- */

static const luaL_Reg module_fns[] = {
  {"_error", l_error}, {"_set_library_source", l_set_library_source},
  {"tensor", l_tensor}, {"empty", l_empty}, {"zeros", l_zeros}, {"ones", l_ones},
  {"full", l_full}, {"rand", l_rand}, {"randn", l_randn}, {"uniform_", l_uniform_},
  {"manual_seed", l_manual_seed}, {"set_default_dtype", l_set_default_dtype},
  {"get_default_dtype", l_get_default_dtype}, {"set_grad_enabled", l_set_grad_enabled},
  {"is_grad_enabled", l_is_grad_enabled},
  {"set_num_threads", l_set_num_threads}, {"get_num_threads", l_get_num_threads}, {"memory_allocated", l_memory_allocated}, {"clock", l_clock},
  {"eye", l_eye}, {"arange", l_arange}, {"linspace", l_linspace}, {"randint", l_randint},
  {"from_string", l_from_string},
  {"parameter", l_parameter}, {"is_parameter", l_is_parameter}, {"is_tensor", l_is_tensor}, {"_fits", l_fits},
  {NULL, NULL}};

/* Functions that are both lucid.f(t, ...) and t:f(...). */
static const luaL_Reg method_fns[] = {
  {"item", l_item}, {"tolist", l_tolist}, {"numel", l_numel}, {"size", l_size},
  {"dim", l_dim}, {"is_contiguous", l_is_contiguous}, {"backward", l_backward},
  {"detach", l_detach}, {"zero_grad", l_zero_grad}, {"requires_grad_", l_requires_grad_},
  {"uniform_", l_uniform_}, {"to_string", l_to_string}, {NULL, NULL}};

static const luaL_Reg meta_fns[] = {
  {"__gc", box_gc}, {"__close", box_gc}, {"__newindex", t_newindex}, {"__len", t_len},
  {NULL, NULL}};

void lt_setfuncs(lua_State *L, int table, int state, const luaL_Reg *l) {
  for (; l->name; l++) {
    lua_pushvalue(L, state);
    lua_pushcclosure(L, l->func, 1);
    lua_setfield(L, table, l->name);            /* table[name] = f, upvalue: state */
  }
}

LUALIB_API int luaopen_lucid_core(lua_State *L);
LUALIB_API int luaopen_lucid_core(lua_State *L) {
  /* one context per lua_State, owned by a userdata that the module keeps */
  lt_state *s = (lt_state *)lua_newuserdatauv(L, sizeof(lt_state), 0);
  int state = lua_gettop(L);
  memset(s, 0, sizeof *s);
  s->gc_threshold = LT_GC_FLOOR;
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, state_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, state);
  void *ud;
  lua_Alloc alloc = lua_getallocf(L, &ud);
  if (!(s->ctx = lc_ctx_new(alloc, ud))) return lt_error(L, "lucid: not enough memory");
  s->alloc = alloc;
  s->alloc_ud = ud;
  lt_autograd_init(s);

  lua_newtable(L);
  int module = lua_gettop(L);
  lua_newtable(L);
  int methods = lua_gettop(L);
  lt_setfuncs(L, module, state, module_fns);
  lt_setfuncs(L, module, state, method_fns);
  lt_setfuncs(L, methods, state, method_fns);
  lt_register_ops(L, state, methods, module);
  lt_register_elementwise(L, state, methods, module);
  lt_register_reduce(L, state, methods, module);
  lt_register_shape(L, state, methods, module);
  lt_register_autograd(L, state, methods, module);

  luaL_newmetatable(L, LT_TENSOR);
  int meta = lua_gettop(L);
  lt_setfuncs(L, meta, state, meta_fns);
  lua_pushvalue(L, state);
  lua_pushvalue(L, methods);
  lua_pushcclosure(L, t_index, 2);
  lua_setfield(L, meta, "__index");             /* meta.__index = t_index(state, methods) */

  lua_pushvalue(L, state);
  lua_setfield(L, module, "_state");            /* the module keeps the context alive */
  lua_pushvalue(L, state);
  lua_setfield(L, LUA_REGISTRYINDEX, LT_STATE_KEY);  /* for lucid.h's host functions */
  lua_pushvalue(L, meta);
  lua_setfield(L, module, "_meta");
  lua_pushvalue(L, methods);
  lua_setfield(L, module, "_methods");
  lua_pushvalue(L, module);
  return 1;
}

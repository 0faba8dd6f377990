/***
Part of lucid; help() and `make doc` read these comments.
@module lucid
*/

/* lucid_core.c: the Lua module "lucid.core": tensor userdata, fields,
 * creation, autograd entry points and the per-state settings.
 * The operations themselves are bound in lucid_ops.c. */
#define _GNU_SOURCE  /* dladdr (glibc); clock_gettime under -std=c11 */
#define _POSIX_C_SOURCE 199309L
#include <dlfcn.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* Once per collection cycle of Lua's, the core frees the create_graph cycles
 * that became unreachable (lc_ctx_collect_cycles: a leaf whose .grad's graph
 * refers back to it, when the last outside reference went to another tensor
 * of the cycle). The hook is the usual one for "once per cycle": an
 * unreachable userdata whose finalizer does the work and makes its successor.
 * The finalizer holds the state userdata as its upvalue (user values differ
 * between Lua versions; upvalues do not). */
#define LT_SENTINEL_META "lucid.cycle_sentinel"

static void new_sentinel(lua_State *L) {
  lua_newuserdatauv(L, 1, 0);
  luaL_setmetatable(L, LT_SENTINEL_META);
  lua_pop(L, 1);  /* unreachable: collected, and finalized, by the next cycle */
}

static int sentinel_gc(lua_State *L) {
  lt_state *s = (lt_state *)lua_touserdata(L, lua_upvalueindex(1));
  if (!s || !s->ctx) return 0;  /* the state is going: no successor */
  lc_ctx_collect_cycles(s->ctx);
  new_sentinel(L);
  return 0;
}

/* ---- boxes ------------------------------------------------------------------------ */

/* The tensor metatable holds this address at index 1 (mt[1], a light
 * userdata): testing for it is an integer-keyed lookup, where
 * luaL_testudata looks the metatable up in the registry by name (string
 * cache, hashing) on every call, a large part of a small op's cost. It is
 * a global, not a static: when two copies of the binding share a process
 * (the sanitizer runs preload an instrumented module, and a child process
 * inherits that while loading the plain one), both must agree on the mark,
 * and a global is interposed to one address as the functions are. */
const char lt_tensor_tag = 0;

lt_box *lt_tobox(lua_State *L, int idx) {
  if (lua_type(L, idx) != LUA_TUSERDATA) return NULL;  /* before any push: idx may be < 0 */
  lt_box *b = (lt_box *)lua_touserdata(L, idx);
  if (!lua_getmetatable(L, idx)) return NULL;          /* pushes the metatable */
  int ok = lua_rawgeti(L, -1, 1) == LUA_TLIGHTUSERDATA && lua_touserdata(L, -1) == &lt_tensor_tag;
  lua_pop(L, 2);
  return ok ? b : NULL;
}

lc_tensor *lt_test(lua_State *L, int idx) {
  lt_box *b = lt_tobox(L, idx);
  return b ? b->t : NULL;
}

lc_tensor *lt_check(lua_State *L, int idx) {
  lt_box *b = lt_tobox(L, idx);
  if (!b) b = (lt_box *)luaL_checkudata(L, idx, LT_TENSOR);  /* raises the type error */
  if (!b->t) luaL_argerror(L, idx, "tensor was closed");
  return b->t;
}

lc_tensor *lt_tensor_arg(lua_State *L, int idx, const char *fname) {
  lt_box *b = lt_tobox(L, idx);
  if (!b)
    lt_error(L, "%s: bad argument #%d (lucid.Tensor expected, got %s)", fname, idx,
             luaL_typename(L, idx));
  else if (!b->t)
    lt_error(L, "%s: bad argument #%d (tensor was closed)", fname, idx);
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
  if (ar->what[0] == 't') return 1;  /* 5.1's "tail": a frame a tail call replaced */
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
  char small[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) n = 0;
  if ((size_t)n < sizeof small) {
    lua_pushlstring(L, small, (size_t)n);
  } else {  /* a long message: formatted again into a buffer the GC owns */
    char *big = (char *)lua_newuserdatauv(L, (size_t)n + 1, 0);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    lua_pushlstring(L, big, (size_t)n);
    lua_remove(L, -2);
  }
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

/* lucid.core._ops(): the core's op registry (lc_op_get) as an array of
 * {name, family, backward, nondiff}, for tests and tools. */
static int l_ops(lua_State *L) {
  int n = lc_op_count();
  lua_createtable(L, n, 0);
  for (int i = 0; i < n; i++) {
    const lc_op_info *op = lc_op_get(i);
    lua_createtable(L, 0, 4);
    lua_pushstring(L, op->name);
    lua_setfield(L, -2, "name");
    lua_pushstring(L, op->family);
    lua_setfield(L, -2, "family");
    if (op->backward) {
      lua_pushstring(L, op->backward);
      lua_setfield(L, -2, "backward");
    }
    if (op->nondiff) {
      lua_pushstring(L, op->nondiff);
      lua_setfield(L, -2, "nondiff");
    }
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
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

static inline void report_bytes(lua_State *L, lc_ctx *ctx) {
  lt_state *s = (lt_state *)lua_touserdata(L, lua_upvalueindex(1));
  if (s->npending) lt_drain_pending(L, s);
  size_t n = lc_ctx_take_new_bytes(ctx, 16 * 1024);
  if (!n) return;
  /* at most 1 GB a step (a full cycle anyway): LuaJIT without GC64 counts in 32 bits */
  lua_gc(L, LUA_GCSTEP, (int)(n / 1024 > (1u << 20) ? (1u << 20) : n / 1024));
  if (lc_ctx_live_bytes(ctx) > s->gc_threshold && lt_gc_running(L)) {
    lua_gc(L, LUA_GCCOLLECT, 0);
    size_t live = lc_ctx_live_bytes(ctx);
    s->gc_threshold = live > LT_GC_FLOOR / 2 ? 2 * live : LT_GC_FLOOR;
  }
}

void lt_report_bytes(lua_State *L, lc_ctx *ctx) { report_bytes(L, ctx); }

int lt_fill(lua_State *L, lc_ctx *ctx, lc_tensor **slot, lc_tensor *r, const char *fname) {
  if (!r) return lt_fail(L, ctx, fname);
  *slot = r;
  report_bytes(L, ctx);
  return 1;
}

int lt_fill_top(lua_State *L, lc_ctx *ctx, lc_tensor *r, const char *fname) {
  return lt_fill(L, ctx, &((lt_box *)lua_touserdata(L, -1))->t, r, fname);
}

int lt_retry(lua_State *L, lc_ctx *ctx, const char *fname) {
  if (lc_ctx_status(ctx) != LC_ENOMEM || !lt_gc_running(L))
    return lt_fail(L, ctx, fname);  /* not a matter of memory: no second try */
  lua_gc(L, LUA_GCCOLLECT, 0);
  return 1;
}

int lt_try_top(lua_State *L, lc_ctx *ctx, lc_tensor *r, const char *fname) {
  if (r) return lt_fill_top(L, ctx, r, fname);
  lt_retry(L, ctx, fname);
  return 0;  /* lt_push calls again */
}

/* A creation function's result, on top, gets requires_grad as its options said. */
static int leaf(lua_State *L, int requires_grad) {
  lc_tensor *t = lt_top(L);
  if (requires_grad) {  /* else 0 already */
    lt_check_grad_dtype(L, t, lt_fn(L)->fname);
    t->requires_grad = 1;
  }
  return 1;
}

void lt_check_grad_dtype(lua_State *L, const lc_tensor *t, const char *fname) {
  if (!lc_dtype_is_float(t->dtype))
    lt_error(L, "%s: only float tensors can require grad, got %s", fname,
             lc_dtype_name(t->dtype));
}

/***
Frees the tensor's memory now, instead of when the collector finds it; using
it afterwards is an error. On Lua 5.4 a `local t <close> = ...` variable does
the same at the end of its scope.
@function close
@usage t:close()
@within Settings, files and memory
*/
static int box_gc(lua_State *L) {
  lt_box *b = lt_tobox(L, 1);
  if (!b) b = (lt_box *)luaL_checkudata(L, 1, LT_TENSOR);  /* t:close() on something else */
  lc_tensor_release(b->t);
  b->t = NULL;
  /* A release may free graph nodes of Lua-written ops, queueing their
   * registry references: dropped here at once, the tensors their ctx saved
   * go with the next collection, not after the next op. Nothing here
   * allocates (see the freelist note in luaopen_lucid_core), so it is safe
   * in a finalizer. */
  lt_state *s = (lt_state *)lua_touserdata(L, lua_upvalueindex(1));
  if (s && s->npending) lt_drain_pending(L, s);
  return 0;
}

/* ---- argument helpers ---------------------------------------------------------- */

/* PyTorch's names, and its aliases (torch.long, torch.int, torch.float, ...) */
static const struct { const char *name; lc_dtype dt; } DTYPE_NAMES[] = {
  {"float32", LC_FLOAT32}, {"float64", LC_FLOAT64}, {"int64", LC_INT64}, {"int32", LC_INT32},
  {"uint8", LC_UINT8},     {"bool", LC_BOOL},       {"float", LC_FLOAT32}, {"double", LC_FLOAT64},
  {"long", LC_INT64},      {"int", LC_INT32},       {NULL, LC_FLOAT32}};

lc_dtype lt_dtype(lua_State *L, int idx, const char *fname) {
  const char *s = luaL_checkstring(L, idx);
  for (int i = 0; DTYPE_NAMES[i].name; i++)
    if (strcmp(s, DTYPE_NAMES[i].name) == 0) return DTYPE_NAMES[i].dt;
  lt_error(L, "%s: unknown dtype '%s' (expected \"float32\", \"float64\", \"int64\", "
           "\"int32\", \"uint8\" or \"bool\")", fname, s);
  return LC_FLOAT32;
}

void lt_push_element(lua_State *L, const lc_tensor *t, const int64_t *idx) {
  if (t->dtype == LC_BOOL) lua_pushboolean(L, lc_tensor_get_int(t, idx) != 0);
  else if (lc_dtype_is_float(t->dtype)) lua_pushnumber(L, lc_tensor_get(t, idx));
  else lua_pushinteger(L, (lua_Integer)lc_tensor_get_int(t, idx));  /* a float before 5.3 */
}

int lt_set_element(lua_State *L, lc_tensor *t, const int64_t *idx, int i) {
  if (lua_type(L, i) == LUA_TBOOLEAN) {
    lc_tensor_set_int(t, idx, lua_toboolean(L, i));
    return 1;
  }
  if (lua_type(L, i) != LUA_TNUMBER) return 0;
  /* an integer into a float dtype goes through double first, as a Python
   * int into torch.tensor does: past 2^53 that rounds twice, as PyTorch */
  if (lua_isinteger(L, i) && !lc_dtype_is_float(t->dtype))
    lc_tensor_set_int(t, idx, (int64_t)lua_tointeger(L, i));
  else
    lc_tensor_set(t, idx, lua_tonumber(L, i));
  return 1;
}

/* A Lua number as an operand: a 0-d tensor marked as a number, which takes
 * part in type promotion last (PyTorch's wrapped numbers): int64 for a
 * whole number (however it was written: Lua 5.1 has no integers), float64
 * for a fraction, bool for a boolean. */
static lc_tensor *number_at(lua_State *L, lc_ctx *ctx, int idx) {
  if (lua_type(L, idx) == LUA_TBOOLEAN) {
    lc_tensor *n = lc_scalar(ctx, LC_BOOL, lua_toboolean(L, idx));
    if (n) n->is_number = 1;
    return n;
  }
  if (lua_isinteger(L, idx)) return lc_number_int(ctx, (int64_t)lua_tointeger(L, idx));
  return lc_number(ctx, lua_tonumber(L, idx));
}

static lc_tensor *number_operand(lua_State *L, lc_ctx *ctx, int idx, const char *fname) {
  lt_push(L, ctx, number_at(L, ctx, idx), fname);  /* made after its box: nothing can leak */
  return lt_top(L);
}

lc_tensor *lt_operand(lua_State *L, lc_ctx *ctx, int idx, const lc_tensor *like, const char *fname) {
  lc_tensor *t = lt_test(L, idx);
  if (t) return t;
  if (lt_tobox(L, idx))
    lt_error(L, "%s: tensor was closed", fname);
  if (lua_type(L, idx) != LUA_TNUMBER && (like || lua_type(L, idx) != LUA_TBOOLEAN))
    lt_error(L, "%s: expected a tensor or a number, got %s", fname, luaL_typename(L, idx));
  if (!like) return number_operand(L, ctx, idx, fname);
  lt_push(L, ctx, lc_scalar(ctx, like->dtype, lua_tonumber(L, idx)), fname);
  return lt_top(L);
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
  return lt_wrap_dim(L, lt_integer(L, idx, "dimension", fname), ndim, fname);
}

int lt_wrap_dim(lua_State *L, lua_Integer d, int ndim, const char *fname) {
  if (d >= 1 && d <= ndim) return (int)d - 1;
  if (d < 0 && d >= -(lua_Integer)ndim) return (int)(ndim + d);  /* no -d: d may be mininteger */
  if (ndim == 0)
    lt_error(L, "%s: dimension %d is out of range for a 0-d tensor", fname, (int)d);
  lt_error(L, "%s: dimension %lld is out of range for a %d-d tensor (expected 1..%d or -%d..-1)",
             fname, (long long)d, ndim, ndim, ndim);
  return 0;
}

/* A size: an integer, or a float with an integer value (2^40 is a float in
 * Lua); sizes too big for the core are caught there, before any allocation. */
int64_t lt_size(lua_State *L, int idx, const char *fname) {
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
      shape[n++] = lt_size(L, -1, fname);
      lua_pop(L, 1);
    }
    if (next) *next = idx + 1;
    return n;
  }
  while (lua_type(L, idx + n) == LUA_TNUMBER) {
    if (n == LC_MAX_DIMS)
      lt_error(L, "%s: at most %d dimensions are supported", fname, LC_MAX_DIMS);
    shape[n] = lt_size(L, idx + n, fname);
    n++;
  }
  if (next) *next = idx + n;
  return n;
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
    if (!lt_set_element(L, f->t, f->pos, -1)) {
      where_str(f, depth, w, sizeof w);
      lt_error(L, "%s: expected a number%s at %s, got %s", f->fname,
               f->t->dtype == LC_BOOL ? " or a boolean" : "", w, luaL_typename(L, -1));
    }
    return;
  }
  if (!lua_istable(L, -1)) {
    where_str(f, depth, w, sizeof w);
    lt_error(L, "%s: ragged nested table: expected a table of %lld at %s, got %s", f->fname,
               (long long)f->shape[depth], w, luaL_typename(L, -1));
  }
  int64_t len = (int64_t)lua_rawlen(L, -1);
  if (len != f->shape[depth]) {
    where_str(f, depth, w, sizeof w);
    lt_error(L, "%s: ragged nested table: %s%s has %lld elements, expected %lld", f->fname,
               depth ? "element " : "the top table", w, (long long)len,
               (long long)f->shape[depth]);
  }
  luaL_checkstack(L, 2, "nested table");
  for (int64_t i = 0; i < len; i++) {
    f->pos[depth] = i;
    lua_rawgeti(L, -1, (lua_Integer)i + 1);
    fill_from(f, depth + 1);
    lua_pop(L, 1);
  }
}

/* Whether the first leaf of a nested table (or the value itself) is a boolean. */
static int first_leaf_is_boolean(lua_State *L, int idx) {
  int n = 0, r;
  lua_pushvalue(L, idx);
  while (lua_istable(L, -1) && n < LC_MAX_DIMS + 1) {
    lua_rawgeti(L, -1, 1);
    lua_remove(L, -2);
    n++;
  }
  r = lua_type(L, -1) == LUA_TBOOLEAN;
  lua_pop(L, 1);
  return r;
}

/* The options every creation function takes, by name only (as PyTorch). */
#define LT_CREATE_OPTS {"dtype", LT_K_DTYPE, LT_KW, 0, NULL}, {"requires_grad", LT_K_BOOL, LT_KW, 0, NULL}

/* lucid.tensor(data [, opts]): data is a number, a nested table or a tensor. */
static const lt_arg TENSOR_ARGS[] = {{"data", LT_K_ANY, LT_POS, 0, NULL}, LT_CREATE_OPTS, {NULL}};
/***
A new tensor from a number (0-d), a boolean, nested tables ({{1, 2}, {3, 4}}
has shape {2, 2}) or another tensor (copied). opts = {dtype = "int64",
requires_grad = true}; the dtype defaults to the default float dtype (float32,
see lucid.set_default_dtype), bool for booleans, and a copied tensor's own.
Like torch.tensor.
@function tensor
@usage lucid.tensor(data [, opts])  or  lucid.Tensor(data [, opts])
@within Creating tensors
@aka lucid.Tensor
*/
static int l_tensor(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lt_val v[3];
  const char *fname = lt_args(L, 1, -1, v);
  lc_dtype dtype = (lc_dtype)v[1].i;
  lc_tensor *src = lt_test(L, 1);
  if (!v[1].idx && first_leaf_is_boolean(L, 1)) dtype = LC_BOOL;  /* as torch.tensor([True]) */
  if (!v[1].idx && src) dtype = src->dtype;  /* a copy keeps the dtype, as torch.tensor(t) */
  if (src) {
    lt_push(L, ctx, lc_empty(ctx, dtype, src->ndim, src->shape), fname);
    lc_tensor *c = lt_top(L);
    lt_do(L, ctx, lc_copy_(ctx, c, src), fname);
  } else if (lua_type(L, 1) == LUA_TNUMBER || lua_type(L, 1) == LUA_TBOOLEAN) {
    lt_push(L, ctx, lc_empty(ctx, dtype, 0, NULL), fname);
    lt_set_element(L, lt_top(L), NULL, 1);
  } else if (lua_istable(L, 1)) {
    int64_t shape[LC_MAX_DIMS];
    int ndim = table_shape(L, 1, shape, fname);
    lt_push(L, ctx, lc_empty(ctx, dtype, ndim, shape), fname);
    fill_state f = {L, fname, ndim, shape, {0}, lt_top(L)};
    lua_pushvalue(L, 1);
    fill_from(&f, 0);
    lua_pop(L, 1);
  } else {
    return lt_error(L, "%s: expected a number, a nested table or a tensor, got %s", fname,
                      luaL_typename(L, 1));
  }
  return leaf(L, v[2].b);
}

typedef enum { MK_EMPTY, MK_ZEROS, MK_ONES, MK_FULL, MK_RAND, MK_RANDN } make_kind;

static lc_tensor *make_tensor(lc_ctx *ctx, make_kind kind, lc_dtype dtype, int ndim,
                              const int64_t *shape, double value) {
  switch (kind) {
    case MK_EMPTY: return lc_empty(ctx, dtype, ndim, shape);
    case MK_ZEROS: return lc_zeros(ctx, dtype, ndim, shape);
    case MK_ONES: return lc_full(ctx, dtype, ndim, shape, 1.0);
    case MK_FULL: return lc_full(ctx, dtype, ndim, shape, value);
    case MK_RAND: return lc_rand(ctx, dtype, ndim, shape);
    case MK_RANDN: return lc_randn(ctx, dtype, ndim, shape);
  }
  return NULL;
}

/* zeros(2, 3 [, opts]), zeros({2, 3} [, opts]); full(2, 3, value [, opts]):
 * the last of the leading numbers is the value. */
static const lt_arg MAKE_ARGS[] = {{"size", LT_K_SHAPE, LT_POS, 0, NULL}, LT_CREATE_OPTS, {NULL}};
static const lt_arg FULL_ARGS[] = {
  {"size", LT_K_SHAPE, LT_POS, 0, NULL}, {"fill_value", LT_K_NUMBER, LT_REQ, 0, NULL}, LT_CREATE_OPTS,
  {NULL}};
static int make(lua_State *L, make_kind kind) {
  lc_ctx *ctx = LT_CTX(L);
  int64_t shape[LC_MAX_DIMS];
  lt_val v[4];
  const char *fname = lt_args(L, 1, -1, v);
  int ndim = lt_shape_arg(L, &v[0], shape, fname), o = kind == MK_FULL ? 2 : 1;
  lt_push(L, ctx, make_tensor(ctx, kind, (lc_dtype)v[o].i, ndim, shape, v[1].n), fname);
  return leaf(L, v[o + 1].b);
}

/***
A tensor whose values are not set (whatever the memory held): the cheapest
allocation, for a buffer you fill yourself (fill_, copy_, uniform_).
@function empty
@usage lucid.empty(shape... [, {dtype =, requires_grad =}])
@within Creating tensors
*/
static int l_empty(lua_State *L) { return make(L, MK_EMPTY); }
/***
A tensor of zeros. The shape goes as varargs or one table: lucid.zeros(2, 3)
is lucid.zeros({2, 3}). opts = {dtype =, requires_grad =} as the last
argument.
@function zeros
@usage lucid.zeros(shape... [, {dtype =, requires_grad =}])
@within Creating tensors
*/
static int l_zeros(lua_State *L) { return make(L, MK_ZEROS); }
/***
A tensor of ones; shape as varargs or one table, opts {dtype =, requires_grad =}
last.
@function ones
@usage lucid.ones(shape... [, {dtype =, requires_grad =}])
@within Creating tensors
*/
static int l_ones(lua_State *L) { return make(L, MK_ONES); }
/***
A tensor with every element set to value: lucid.full(2, 3, 7.5) or
lucid.full({2, 3}, 7.5).
@function full
@usage lucid.full(shape..., fill_value [, {dtype =, requires_grad =}])
@within Creating tensors
*/
static int l_full(lua_State *L) { return make(L, MK_FULL); }
/***
Uniform draws in [0, 1). Repeatable with lucid.manual_seed(n), identical on
every platform.
@function rand
@usage lucid.rand(shape... [, {dtype =, requires_grad =}])
@within Creating tensors
*/
static int l_rand(lua_State *L) { return make(L, MK_RAND); }
/***
Standard normal draws (mean 0, standard deviation 1), by Box-Muller from the
state's generator; lucid.manual_seed(n) makes them repeatable.
@function randn
@usage lucid.randn(shape... [, {dtype =, requires_grad =}])
@within Creating tensors
*/
static int l_randn(lua_State *L) { return make(L, MK_RANDN); }

/* eye(n [, m] [, opts]) */
static const lt_arg EYE_ARGS[] = {
  {"n", LT_K_INTEGER, LT_REQ, 0, NULL}, {"m", LT_K_INTEGER, 0, 0, NULL}, LT_CREATE_OPTS, {NULL}};
/***
An n x m matrix (m = n by default) with ones on the diagonal and zeros
elsewhere.
@function eye
@usage lucid.eye(n [, m] [, {dtype =, requires_grad =}])
@within Creating tensors
*/
static int l_eye(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lt_val v[4];
  const char *fname = lt_args(L, 1, -1, v);
  lua_Integer n = v[0].i, m = v[1].idx ? v[1].i : n;
  lt_push(L, ctx, lc_eye(ctx, (lc_dtype)v[2].i, n, m), fname);
  return leaf(L, v[3].b);
}

/* arange(end), arange(start, end [, step]) [, opts]: end exclusive, as PyTorch */
static const lt_arg ARANGE_ARGS[] = {
  {"start", LT_K_NUMBER, 0, 0, NULL}, {"end", LT_K_NUMBER, 0, 0, NULL}, {"step", LT_K_NUMBER, 0, 1, NULL},
  LT_CREATE_OPTS, {NULL}};
/***
Values from start (0 by default) up to stop, exclusive, by step (1), as
torch.arange: lucid.arange(5) is 0, 1, 2, 3, 4. These are values, not
indices, so they start at 0 as in PyTorch.
@function arange
@usage lucid.arange(end)  or  lucid.arange(start, end [, step]), then [, {dtype =, requires_grad =}]
@within Creating tensors
*/
static int l_arange(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lt_val v[5];
  const char *fname = lt_args(L, 1, -1, v);
  double start = v[0].n, end = v[1].n;
  if (!v[1].idx) {  /* arange(end) */
    if (!v[0].idx || v[0].named) return lt_error(L, "%s: end is required", fname);
    start = 0;
    end = v[0].n;
  }
  lt_push(L, ctx, lc_arange(ctx, (lc_dtype)v[3].i, start, end, v[2].n), fname);
  return leaf(L, v[4].b);
}

/* linspace(start, end, steps [, opts]) */
static const lt_arg LINSPACE_ARGS[] = {
  {"start", LT_K_NUMBER, LT_REQ, 0, NULL}, {"end", LT_K_NUMBER, LT_REQ, 0, NULL},
  {"steps", LT_K_INTEGER, LT_REQ, 0, NULL}, LT_CREATE_OPTS, {NULL}};
/***
steps values evenly spaced from start to stop, both included.
@function linspace
@usage lucid.linspace(start, end, steps [, {dtype =, requires_grad =}])
@within Creating tensors
*/
static int l_linspace(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lt_val v[5];
  const char *fname = lt_args(L, 1, -1, v);
  lt_push(L, ctx, lc_linspace(ctx, (lc_dtype)v[3].i, v[0].n, v[1].n, v[2].i), fname);
  return leaf(L, v[4].b);
}

/* randint(high, shape [, opts]) or randint(low, high, shape [, opts]); high
 * exclusive; the shape is a table (varargs would be ambiguous here). */
static const lt_arg RANDINT_ARGS[] = {
  {"low", LT_K_INTEGER, 0, 0, NULL}, {"high", LT_K_INTEGER, LT_REQ, 0, NULL},
  {"size", LT_K_ANY, LT_REQ, 0, NULL}, LT_CREATE_OPTS, {NULL}};
/***
Random integers in [low, high), low 0 by default, high exclusive, int64
unless opts.dtype says otherwise, as in PyTorch. The shape is a table here,
{2, 3}, since varargs would be ambiguous.
@function randint
@usage lucid.randint(high, size [, opts])  or  lucid.randint(low, high, size [, {dtype =, requires_grad =}])
@within Creating tensors
*/
static int l_randint(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  if (lua_type(L, 1) == LUA_TNUMBER && lua_istable(L, 2)) {  /* randint(high, shape) */
    lua_pushnil(L);
    lua_insert(L, 1);                          /* low = nil */
  }
  lt_val v[5];
  const char *fname = lt_args(L, 1, -1, v);
  if (!lua_istable(L, v[2].idx))
    return lt_error(L, "%s: expected a shape table after the bounds, got %s", fname,
                      luaL_typename(L, v[2].idx));
  int64_t shape[LC_MAX_DIMS];
  int ndim = lt_shape(L, v[2].idx, shape, fname, NULL);
  lc_dtype dt = v[3].idx ? (lc_dtype)v[3].i : LC_INT64;
  lt_push(L, ctx, lc_randint(ctx, dt, v[0].i, v[1].i, ndim, shape), fname);
  return leaf(L, v[4].b);
}

/* from_string(bytes, shape... [, opts]): a tensor over packed little-endian
 * floats (4 bytes each for float32, 8 for float64), as files and hosts hold
 * them. The bytes are copied. */
static const lt_arg FROM_STRING_ARGS[] = {
  {"bytes", LT_K_STRING, LT_REQ | LT_POS, 0, NULL}, {"size", LT_K_SHAPE, LT_POS, 0, NULL},
  LT_CREATE_OPTS, {NULL}};
/***
A tensor from packed little-endian values of opts.dtype (4 bytes each for
float32 and int32, 8 for float64 and int64, 1 for uint8 and bool, where any
nonzero byte is true), row-major, as files and C hosts hold them; the bytes
are copied. The inverse of t:to_string().
@function from_string
@usage lucid.from_string(bytes, shape... [, {dtype =, requires_grad =}])
@within Creating tensors
*/
static int l_from_string(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lt_val v[4];
  const char *fname = lt_args(L, 1, -1, v);
  size_t len;
  const unsigned char *s = (const unsigned char *)lua_tolstring(L, 1, &len);
  int64_t shape[LC_MAX_DIMS];
  int ndim = lt_shape_arg(L, &v[1], shape, fname);
  lc_dtype dt = (lc_dtype)v[2].i;
  lt_push(L, ctx, lc_empty(ctx, dt, ndim, shape), fname);
  lc_tensor *t = lt_top(L);
  size_t es = lc_dtype_size(dt), need = (size_t)t->numel * es;
  if (len != need)
    return lt_error(L, "%s: %lld elements of %s need %lld bytes, got %lld", fname,
                      (long long)t->numel, lc_dtype_name(dt), (long long)need,
                      (long long)len);
  int64_t idx[LC_MAX_DIMS] = {0};
  for (int64_t i = 0; i < t->numel; i++) {
    uint64_t bits = 0;  /* assembled byte by byte: the same on any host byte order */
    for (size_t k = 0; k < es; k++) bits |= (uint64_t)s[(size_t)i * es + k] << (8 * k);
    if (dt == LC_FLOAT64) {
      memcpy((double *)lc_tensor_data(t) + i, &bits, 8);
    } else if (dt == LC_FLOAT32) {
      uint32_t b32 = (uint32_t)bits;
      memcpy((float *)lc_tensor_data(t) + i, &b32, 4);
    } else {  /* two's complement of es bytes; the setter narrows and makes bool 0/1 */
      int64_t x = es == 4 ? (int64_t)(int32_t)(uint32_t)bits : (int64_t)bits;
      lc_tensor_set_int(t, idx, x);
      for (int d = t->ndim - 1; d >= 0; d--) {
        if (++idx[d] < t->shape[d]) break;
        idx[d] = 0;
      }
    }
  }
  return leaf(L, v[3].b);
}

/* t:to_string(): the values as packed little-endian values, row-major. */
/***
The values as packed little-endian values of t's dtype in row-major order (a
Lua string of 8, 4 or 1 bytes per element; bool as 0 and 1), for files and C
hosts; lucid.from_string reads it back.
@function to_string
@usage t:to_string()  or  lucid.to_string(t)
@within Reading values
*/
static int l_to_string(lua_State *L) {
  lc_tensor *t = lt_check(L, 1);
  lt_args(L, 2, -1, NULL);
  size_t es = lc_dtype_size(t->dtype);
  /* A scratch userdata, then the string: one copy, on every Lua version. */
  unsigned char *out = (unsigned char *)lua_newuserdatauv(L, (size_t)t->numel * es, 0);
  int64_t idx[LC_MAX_DIMS] = {0};
  for (int64_t i = 0; i < t->numel; i++) {
    uint64_t bits = 0;
    if (t->dtype == LC_FLOAT64) {
      double v = lc_tensor_get(t, idx);
      memcpy(&bits, &v, 8);
    } else if (t->dtype == LC_FLOAT32) {
      float f = (float)lc_tensor_get(t, idx);
      uint32_t b32;
      memcpy(&b32, &f, 4);
      bits = b32;
    } else {  /* the low es bytes of the two's complement */
      bits = (uint64_t)lc_tensor_get_int(t, idx);
    }
    for (size_t k = 0; k < es; k++) out[(size_t)i * es + k] = (unsigned char)(bits >> (8 * k));
    for (int d = t->ndim - 1; d >= 0; d--) {
      if (++idx[d] < t->shape[d]) break;
      idx[d] = 0;
    }
  }
  lua_pushlstring(L, (const char *)out, (size_t)t->numel * es);
  return 1;
}

/* ---- random draws (core/random.c) ------------------------------------------------
 * Index results (randperm, multinomial) are 1-based, as every index here. */

/* ix + 1 as a new tensor (NULL on failure, nothing kept). */
static lc_tensor *plus_one(lc_ctx *ctx, lc_tensor *ix) {
  /* a 0-d int64 one does not widen an int32 or float ix (PyTorch's promotion) */
  lc_tensor *one = lc_scalar(ctx, LC_INT64, 1.0);
  lc_tensor *r = one ? lc_add(ctx, ix, one) : NULL;
  lc_tensor_release(one);
  return r;
}

int lt_push_one_based(lua_State *L, lc_ctx *ctx, lc_tensor *ix, const char *fname) {
  return lt_push(L, ctx, plus_one(ctx, ix), fname);  /* made after its box */
}

static const lt_arg RANDPERM_ARGS[] = {
  {"n", LT_K_INTEGER, LT_REQ | LT_POS, 0, NULL}, LT_CREATE_OPTS, {NULL}};
/***
A random permutation of 1..n (int64 unless opts.dtype says otherwise), from
the seeded generator, as torch.randperm (which counts from 0).
@function randperm
@usage lucid.randperm(n [, {dtype =, requires_grad =}])
@within Creating tensors
*/
static int l_randperm(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lt_val v[3];
  const char *fname = lt_args(L, 1, -1, v);
  lc_dtype dt = v[1].idx ? (lc_dtype)v[1].i : LC_INT64;
  lt_push(L, ctx, lc_randperm(ctx, (int64_t)v[0].i, dt), fname);
  lt_push_one_based(L, ctx, lt_top(L), fname);
  return leaf(L, v[2].b);
}

static const lt_arg MULTINOMIAL_ARGS[] = {
  {"num_samples", LT_K_INTEGER, LT_REQ, 0, NULL}, {"replacement", LT_K_BOOL, 0, 0, NULL}, {NULL}};
/***
num_samples category indices (1-based, int64) drawn from each row of probs (a
1-D tensor of weights, or 2-D: one draw per row), as torch.multinomial:
weights need not sum to 1; without replacement (the default) a category is
drawn at most once per row.
@function multinomial
@usage lucid.multinomial(probs, num_samples [, replacement])  or  probs:multinomial(n)
@within Creating tensors
*/
static int l_multinomial(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *p = lt_check(L, 1);
  lt_val v[2];
  const char *fname = lt_args(L, 2, -1, v);
  lt_push(L, ctx, lc_multinomial(ctx, p, (int64_t)v[0].i, v[1].b), fname);
  return lt_push_one_based(L, ctx, lt_top(L), fname);
}

/***
Draws of 1 with probability p (each element of a float tensor p), else 0, in
p's dtype, as torch.bernoulli; poisson draws Poisson counts with rates r.
@function bernoulli
@usage lucid.bernoulli(p), lucid.poisson(rates)  or  p:bernoulli(), rates:poisson()
@within Creating tensors
@also lucid.poisson
*/
static int l_bernoulli(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *p = lt_check(L, 1);
  const char *fname = lt_args(L, 2, -1, NULL);
  return lt_push(L, ctx, lc_bernoulli(ctx, p), fname);
}

static int l_poisson(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *r = lt_check(L, 1);
  const char *fname = lt_args(L, 2, -1, NULL);
  return lt_push(L, ctx, lc_poisson(ctx, r), fname);
}

static const lt_arg NORMAL_ARGS[] = {
  {"mean", LT_K_NUMBER, 0, 0, NULL}, {"std", LT_K_NUMBER, 0, 1, NULL}, {NULL}};
static const lt_arg EXPONENTIAL_ARGS[] = {{"lambd", LT_K_NUMBER, 0, 1, NULL}, {NULL}};
static const lt_arg BERNOULLI_ARGS[] = {{"p", LT_K_NUMBER, 0, 0.5, NULL}, {NULL}};
static const lt_arg RANDOM_ARGS[] = {
  {"from", LT_K_INTEGER, 0, 0, NULL}, {"to", LT_K_INTEGER, 0, 0, NULL}, {NULL}};

/* The in-place fills: t changed (refused on a tensor that requires grad
 * while recording, as every in-place op), and returned. */
static int fill_done(lua_State *L, lc_ctx *ctx, lc_status st, const char *fname) {
  lt_do(L, ctx, st, fname);
  lua_settop(L, 1);
  return 1;
}

/***
In-place random fills, as PyTorch's: t:normal_(mean = 0, std = 1) (floats),
t:exponential_(lambd = 1) (floats), t:bernoulli_(p = 0.5) (1 with probability
p, else 0; any dtype), t:random_([from,] to) (integers in [from, to), from 0
by default; any dtype). Each returns t.
@function normal_
@usage t:normal_([mean [, std]]), t:exponential_([lambd]), t:bernoulli_([p]), t:random_([from,] to)
@within In place
@also lucid.exponential_ lucid.bernoulli_ lucid.random_
*/
static int l_normal_(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *t = lt_check(L, 1);
  lt_val v[2];
  const char *fname = lt_args(L, 2, -1, v);
  lt_check_inplace(L, t, fname);
  return fill_done(L, ctx, lc_normal_(ctx, t, v[0].n, v[1].n), fname);
}

static int l_exponential_(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *t = lt_check(L, 1);
  lt_val v[1];
  const char *fname = lt_args(L, 2, -1, v);
  lt_check_inplace(L, t, fname);
  return fill_done(L, ctx, lc_exponential_(ctx, t, v[0].n), fname);
}

static int l_bernoulli_(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *t = lt_check(L, 1);
  lt_val v[1];
  const char *fname = lt_args(L, 2, -1, v);
  lt_check_inplace(L, t, fname);
  return fill_done(L, ctx, lc_bernoulli_(ctx, t, v[0].n), fname);
}

static int l_random_(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *t = lt_check(L, 1);
  lt_val v[2];
  const char *fname = lt_args(L, 2, -1, v);
  lt_check_inplace(L, t, fname);
  if (!v[0].idx)
    return lt_error(L, "%s: the upper bound `to` is required", fname);
  int64_t from = v[1].idx ? (int64_t)v[0].i : 0, to = v[1].idx ? (int64_t)v[1].i : (int64_t)v[0].i;
  return fill_done(L, ctx, lc_random_(ctx, t, from, to), fname);
}

/* uniform_(t, from = 0, to = 1): in place, for initialisers. */
static const lt_arg UNIFORM_ARGS[] = {
  {"from", LT_K_NUMBER, 0, 0, NULL}, {"to", LT_K_NUMBER, 0, 1, NULL}, {NULL}};
/***
Fills t with uniform draws in [low, high); returns t. For initialisers.
@function uniform_
@usage t:uniform_([from = 0 [, to = 1]])
@within In place
*/
static int l_uniform_(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *t = lt_check(L, 1);
  lt_val v[2];
  const char *fname = lt_args(L, 2, -1, v);
  lt_check_inplace(L, t, fname);
  lt_do(L, ctx, lc_uniform_(ctx, t, v[0].n, v[1].n), fname);
  lua_settop(L, 1);
  return 1;
}

/* ---- reading values ------------------------------------------------------------------ */

/***
The value of a one-element tensor as a Lua number; an error for more elements.
@function item
@usage t:item()  or  lucid.item(t)
@within Reading values
*/
static int l_item(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  double v;
  lc_tensor *t = lt_check(L, 1);
  const char *fname = lt_args(L, 2, -1, NULL);
  if (lc_tensor_item(ctx, t, &v) != LC_OK) return lt_fail(L, ctx, fname);
  int64_t idx[LC_MAX_DIMS] = {0};  /* the one element */
  lt_push_element(L, t, idx);
  return 1;
}

static void push_list(lua_State *L, const lc_tensor *t, int depth, int64_t *idx) {
  if (depth == t->ndim) {
    lt_push_element(L, t, idx);
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

/***
The values as nested Lua tables (1-based, like the tensor's dims); a number
for a 0-d tensor.
@function tolist
@usage t:tolist()  or  lucid.tolist(t)
@within Reading values
*/
static int l_tolist(lua_State *L) {
  lc_tensor *t = lt_check(L, 1);
  lt_args(L, 2, -1, NULL);
  int64_t idx[LC_MAX_DIMS] = {0};
  push_list(L, t, 0, idx);
  return 1;
}

/***
The number of elements (the product of the sizes).
@function numel
@usage t:numel()  or  lucid.numel(t)
@within Reading values
*/
static int l_numel(lua_State *L) {
  lc_tensor *t = lt_check(L, 1);
  lt_args(L, 2, -1, NULL);
  lua_pushinteger(L, (lua_Integer)t->numel);
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
static const lt_arg DIM_ARG[] = {{"dim", LT_K_DIM, 0, 0, NULL}, {NULL}};
/***
The shape as a table, or the size of one dim (1-based, negative from the
end), as torch's size().
@function size
@usage t:size([dim])  or  lucid.size(t [, dim])
@within Reading values
*/
static int l_size(lua_State *L) {
  lc_tensor *t = lt_check(L, 1);
  lt_val v[1];
  lt_args(L, 2, t->ndim, v);
  if (!v[0].idx) push_shape(L, t);
  else lua_pushinteger(L, (lua_Integer)t->shape[v[0].i]);
  return 1;
}

/***
The number of dimensions, same as t.ndim.
@function dim
@usage t:dim()  or  lucid.dim(t)
@within Reading values
*/
static int l_dim(lua_State *L) {
  lc_tensor *t = lt_check(L, 1);
  lt_args(L, 2, -1, NULL);
  lua_pushinteger(L, t->ndim);
  return 1;
}

/***
Whether the elements lie in memory in row-major order without gaps (views
from transpose, expand or slice may not); t:contiguous() makes a copy that
is.
@function is_contiguous
@usage t:is_contiguous()  or  lucid.is_contiguous(t)
@within Reading values
*/
static int l_is_contiguous(lua_State *L) {
  lc_tensor *t = lt_check(L, 1);
  lt_args(L, 2, -1, NULL);
  lua_pushboolean(L, lc_tensor_is_contiguous(t));
  return 1;
}

/* ---- autograd ---------------------------------------------------------------------- */

/***
A tensor sharing t's values but outside the graph (requires_grad false), as
PyTorch.
@function detach
@usage t:detach()
@within Shapes and indexing
*/
static int l_detach(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *t = lt_check(L, 1);
  const char *fname = lt_args(L, 2, -1, NULL);
  return lt_push(L, ctx, lc_detach(ctx, t), fname);
}

/***
Drops t's gradient (t.grad becomes nil, PyTorch's default set_to_none); returns
t.
@function zero_grad
@usage t:zero_grad()
@within In place
*/
static int l_zero_grad(lua_State *L) {
  lc_tensor *t = lt_check(L, 1);
  lt_args(L, 2, -1, NULL);
  lc_tensor *g = t->grad;  /* PyTorch's default: grads become None */
  t->grad = NULL;  /* unlinked before the release, which may walk back to t (lc__unreachable) */
  lc_tensor_release(g);
  lua_settop(L, 1);
  return 1;
}

static void set_requires_grad(lua_State *L, lc_tensor *t, int v, const char *fname) {
  if (!lc_tensor_is_leaf(t) && !v)
    lt_error(L, "%s: requires_grad can only be changed on leaf tensors (use detach())", fname);
  if (v) lt_check_grad_dtype(L, t, fname);
  t->requires_grad = v;
}

static const lt_arg REQUIRES_GRAD_ARG[] = {{"requires_grad", LT_K_BOOL, 0, 1, NULL}, {NULL}};
/***
Sets requires_grad on a leaf and returns t, for chaining:
lucid.zeros(3):requires_grad_().
@function requires_grad_
@usage t:requires_grad_([flag = true])
@within In place
*/
static int l_requires_grad_(lua_State *L) {
  lc_tensor *t = lt_check(L, 1);
  lt_val v[1];
  const char *fname = lt_args(L, 2, -1, v);
  set_requires_grad(L, t, v[0].b, fname);
  lua_settop(L, 1);
  return 1;
}

/* nn.Parameter(t): a leaf sharing t's storage that requires grad and that
 * modules register when assigned to a field. */
static int l_parameter(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *t = lt_check(L, 1);
  lt_val v[1];
  const char *fname = lt_args(L, 2, -1, v);
  lt_push(L, ctx, lc_detach(ctx, t), fname);
  ((lt_box *)lua_touserdata(L, -1))->is_param = 1;
  return leaf(L, v[0].b);
}

/***
Whether v is a tensor made by nn.Parameter (the ones modules register).
@function is_parameter
@usage lucid.is_parameter(v)
@within Settings, files and memory
*/
static int l_is_parameter(lua_State *L) {
  lt_box *b = lt_tobox(L, 1);
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

/***
Whether v is a tensor.
@function is_tensor
@usage lucid.is_tensor(v)
@within Settings, files and memory
*/
static int l_is_tensor(lua_State *L) {
  lua_pushboolean(L, lt_tobox(L, 1) != NULL);
  return 1;
}

/* ---- fields: t.shape, t.grad, ... ------------------------------------------------ */

/* ---- indexing: t[i], t[{i, {first, last [, step]}, {}}] --------------------------- */

/* Index i (1-based, negative from the end) of a dimension of size n, 0-based;
 * errors name the dimension (dim, 1-based) in Lua's terms. */
static int64_t index_of(lua_State *L, lua_Integer i, int64_t n, int dim) {
  if (i >= 1 && i <= n) return i - 1;
  if (i < 0 && i >= -n) return n + i;
  lt_error(L, "lucid.Tensor: index %lld is out of range for dimension %d of size %lld "
              "(expected 1..%lld or -%lld..-1)", (long long)i, dim, (long long)n,
           (long long)n, (long long)n);
  return 0;
}

/* An integer entry of an index table, naming where it stands. */
static lua_Integer key_integer(lua_State *L, int idx, const char *what, int entry) {
  int ok;
  lua_Integer v = lua_tointegerx(L, idx, &ok);
  if (!ok || lua_type(L, idx) != LUA_TNUMBER)
    lt_error(L, "lucid.Tensor: %s of entry %d of the index must be an integer, got %s", what,
             entry, lua_type(L, idx) == LUA_TNUMBER ? "a fraction" : luaL_typename(L, idx));
  return v;
}

/* Pushes the view of t that the index table at `key` names: a number selects
 * (the dimension goes away), {first, last [, step]} takes an inclusive range
 * read as t:slice does (string.sub's rules; {i} is {i, i}), {} the whole
 * dimension; dimensions after the last entry are whole. Every step's view is
 * a box on the stack, so an error part way leaks nothing. */
static void push_indexed(lua_State *L, lc_ctx *ctx, lc_tensor *t, int key) {
  int n = (int)lua_rawlen(L, key);
  lua_pushnil(L);
  lua_Integer extra = 0;
  while (lua_next(L, key)) {  /* only 1..n: a name or a hole would be ignored */
    lua_pop(L, 1);
    int ok;
    lua_Integer k = lua_tointegerx(L, -1, &ok);
    if (!ok || lua_type(L, -1) != LUA_TNUMBER || k < 1 || k > n) extra = 1;
  }
  if (extra)
    lt_error(L, "lucid.Tensor: an index table is a list (entries 1..n: numbers and "
                "{first, last [, step]} ranges)");
  int selected = 0;  /* entries that removed their dimension */
  lc_tensor *cur = t;
  int base = lua_gettop(L);
  for (int e = 1; e <= n; e++) {
    int dim = e - 1 - selected;  /* 0-based dimension of cur this entry indexes */
    if (dim >= cur->ndim)
      lt_error(L, "lucid.Tensor: too many indices (%d) for a %d-d tensor", n, t->ndim);
    int64_t size = cur->shape[dim];
    lua_rawgeti(L, key, e);
    int v = lua_gettop(L);
    if (lua_type(L, v) == LUA_TNUMBER) {
      int64_t i = index_of(L, key_integer(L, v, "the index", e), size, e);
      lua_pop(L, 1);
      lt_push(L, ctx, lc_select(ctx, cur, dim, i), "lucid.Tensor");
      selected++;
    } else if (lua_type(L, v) == LUA_TTABLE && !lt_tobox(L, v)) {
      int m = (int)lua_rawlen(L, v);
      if (m == 0) {  /* {}: the whole dimension */
        lua_pop(L, 1);
        continue;
      }
      if (m > 3)
        lt_error(L, "lucid.Tensor: entry %d of the index has %d numbers (a range is {first, "
                    "last [, step]})", e, m);
      lua_rawgeti(L, v, 1);
      lua_Integer i = key_integer(L, -1, "the first", e);
      lua_Integer j = i, step = 1;
      if (m >= 2) {
        lua_rawgeti(L, v, 2);
        j = key_integer(L, -1, "the last", e);
      }
      if (m == 3) {
        lua_rawgeti(L, v, 3);
        step = key_integer(L, -1, "the step", e);
        if (step < 1)
          lt_error(L, "lucid.Tensor: the step of entry %d of the index must be at least 1, got "
                      "%lld", e, (long long)step);
      }
      lua_settop(L, v - 1);
      int64_t start, stop;
      lt_range(i, j, size, &start, &stop);
      lt_push(L, ctx, lc_slice(ctx, cur, dim, start, stop, step), "lucid.Tensor");
    } else if (lt_tobox(L, v)) {
      lt_error(L, "lucid.Tensor: entry %d of the index is a tensor; a table key holds numbers and "
                  "{first, last [, step]} ranges (index with the tensor alone, t[mask] or "
                  "t[index], or with t:index_select along another dim)", e);
    } else {
      lt_error(L, "lucid.Tensor: entry %d of the index must be a number or a range {first, "
                  "last [, step]}, got %s", e, luaL_typename(L, v));
    }
    cur = lt_top(L);
    if (lua_gettop(L) > base + 1) lua_replace(L, base + 1);  /* keep one box: the latest */
  }
  if (lua_gettop(L) == base) {  /* no entry narrowed anything: t itself, as a new box */
    lc_tensor **slot = lt_newbox(L);
    lc_tensor_retain(t);
    *slot = t;
  }
}

/* ---- indexing with a tensor: t[mask], t[index] ------------------------------------------- */

/* The value of an indexed write t[key] = v (a number takes t's dtype). */
static lc_tensor *write_value(lua_State *L, lc_ctx *ctx, lc_tensor *t, int vi, const char *fname) {
  return lt_operand(L, ctx, vi, t, fname);
}

/* Whether the write t[key] = src is part of the graph: as any op, when
 * recording and t or the value requires grad. */
static int write_recorded(lc_ctx *ctx, const lc_tensor *t, const lc_tensor *src) {
  return lc_ctx_grad_enabled(ctx) && (t->requires_grad || src->requires_grad);
}

/* t (in the box at ti) changed in place to r, t's out-of-place result:
 * the box gets the header lc_rebase_ makes, so that t carries r's graph from
 * now on (the one place a box changes its tensor). */
void lt_rebase(lua_State *L, lc_ctx *ctx, int ti, lc_tensor *r, const char *fname) {
  ti = lua_absindex(L, ti);
  lt_box *b = (lt_box *)lua_touserdata(L, ti);
  lc_tensor *t = b->t;
  lt_push(L, ctx, lc_rebase_(ctx, t, r), fname);
  lt_box *h = (lt_box *)lua_touserdata(L, -1);
  b->t = h->t;  /* the old header goes with the temporary box */
  h->t = t;
  lua_pop(L, 1);
}

/* A recorded indexed write: t[rows at pos of its first lead dims] = rows. */
static void put_recorded(lua_State *L, lc_ctx *ctx, int ti, lc_tensor *t, int lead,
                         lc_tensor *pos, lc_tensor *rows, const char *fname) {
  lt_push(L, ctx, lc_index_put(ctx, t, lead, pos, rows), fname);
  lt_rebase(L, ctx, ti, lt_top(L), fname);
  lua_pop(L, 1);
}

/* The rows a tensor key names, as a new 1-D int64 tensor of 0-based flat
 * positions over t's first *lead dims, pushed on the stack. A bool key is a
 * mask of t's leading dims (its true elements, row-major); an integer key
 * holds 1-based indices along dim 1 (negative from the end), in any shape. */
static lc_tensor *key_positions(lua_State *L, lc_ctx *ctx, lc_tensor *t, lc_tensor *key,
                                int *lead, const char *fname) {
  char ks[LC_SHAPE_STR], ts[LC_SHAPE_STR];
  lc_shape_str(ks, sizeof ks, key->ndim, key->shape);
  lc_shape_str(ts, sizeof ts, t->ndim, t->shape);
  if (key->dtype == LC_BOOL) {
    int same = key->ndim >= 1 && key->ndim <= t->ndim;
    for (int d = 0; same && d < key->ndim; d++) same = key->shape[d] == t->shape[d];
    if (!same)
      lt_error(L, "%s: a mask of shape %s does not fit the tensor's shape %s (a mask "
               "has the shape of the tensor or of its leading dims)", fname, ks, ts);
    *lead = key->ndim;
    int64_t m = key->numel;
    /* (each result is taken from its box before the next lt_push, which
     * pushes its own box first) */
    lt_push(L, ctx, lc_reshape(ctx, key, 1, &m), fname);
    lc_tensor *flat = lt_top(L);
    lt_push(L, ctx, lc_nonzero(ctx, flat), fname);
    lc_tensor *nz = lt_top(L);
    lt_push(L, ctx, lc_reshape(ctx, nz, 1, nz->shape), fname);
    lua_replace(L, -3);  /* keep the positions only */
    lua_pop(L, 1);
    return lt_top(L);
  }
  if (lc_dtype_is_float(key->dtype) || key->dtype == LC_UINT8)
    lt_error(L, "%s: a %s tensor cannot index (use a bool mask or an int64 index: "
             "key:bool(), key:long())", fname, lc_dtype_name(key->dtype));
  if (t->ndim == 0) lt_error(L, "%s: a 0-d tensor cannot be indexed", fname);
  *lead = 1;
  int64_t n = t->shape[0], count = key->numel;
  lt_push(L, ctx, lc_empty(ctx, LC_INT64, 1, &count), fname);
  lc_tensor *pos = lt_top(L);
  if (count == 0) return pos;
  int64_t *p = (int64_t *)lc_tensor_data(pos);
  lc_tensor_read_int(key, p);
  for (int64_t k = 0; k < count; k++) {
    int64_t i = p[k];
    if (i >= 1 && i <= n) p[k] = i - 1;
    else if (i < 0 && i >= -n) p[k] = n + i;
    else
      lt_error(L, "%s: index %lld (element %lld of the index) is out of range for "
               "dimension 1 of size %lld (expected 1..%lld or -%lld..-1)", fname, (long long)i,
               (long long)k + 1, (long long)n, (long long)n, (long long)n);
  }
  if (!lc_tracing(ctx)) return pos;
  /* the same positions by ops (checked above), so that a compiled plan
   * (Module:compile) recomputes them from a key that is the plan's input */
  int top = lua_gettop(L);  /* pos's box */
  lt_push(L, ctx, lc_to_dtype(ctx, key, LC_INT64), fname);
  key = lt_top(L);
  lt_push(L, ctx, lc_number_int(ctx, 0), fname);
  lc_tensor *zero = lt_top(L);
  lt_push(L, ctx, lc_number_int(ctx, 1), fname);
  lc_tensor *one = lt_top(L);
  lt_push(L, ctx, lc_number_int(ctx, n), fname);
  lc_tensor *size = lt_top(L);
  lt_push(L, ctx, lc_lt(ctx, key, zero), fname);
  lc_tensor *neg = lt_top(L);
  lt_push(L, ctx, lc_add(ctx, key, size), fname);
  lc_tensor *from_end = lt_top(L);
  lt_push(L, ctx, lc_sub(ctx, key, one), fname);
  lc_tensor *from_start = lt_top(L);
  lt_push(L, ctx, lc_where(ctx, neg, from_end, from_start), fname);
  lc_tensor *w = lt_top(L);
  lt_push(L, ctx, lc_reshape(ctx, w, 1, &count), fname);
  lua_replace(L, top);
  lua_settop(L, top);
  return lt_top(L);
}

/* What t[key] reads has the key's shape (a mask: one dim) then t's dims
 * after the key's: at most LC_MAX_DIMS. */
static void check_key_dims(lua_State *L, const lc_tensor *t, const lc_tensor *key, int lead,
                           const char *fname) {
  int n = (key->dtype == LC_BOOL ? 1 : key->ndim) + t->ndim - lead;
  if (n > LC_MAX_DIMS)
    lt_error(L, "%s: indexing a %d-d tensor with a %d-d index would give %d dims (at "
             "most %d)", fname, t->ndim, key->ndim, n, LC_MAX_DIMS);
}

/* t[key] for a tensor key: the rows it names, copied (index_select, so the
 * gradient flows back to t): shape (rows named, t's other dims), with an
 * integer key's own shape in front. */
static int index_by_tensor(lua_State *L, lc_ctx *ctx, lc_tensor *t, lc_tensor *key,
                           const char *fname) {
  int lead;
  lc_tensor *pos = key_positions(L, ctx, t, key, &lead, fname);
  check_key_dims(L, t, key, lead, fname);
  int64_t shape[LC_MAX_DIMS], m = 1;
  int r = 0;
  for (int d = 0; d < lead; d++) m *= t->shape[d];
  shape[r++] = m;
  for (int d = lead; d < t->ndim; d++) shape[r++] = t->shape[d];
  lt_push(L, ctx, lc_reshape(ctx, t, r, shape), fname);  /* (rows, rest) */
  lc_tensor *all = lt_top(L);
  lt_push(L, ctx, lc_index_select(ctx, all, 0, pos), fname);
  if (key->dtype == LC_BOOL || key->ndim == 1) return 1;
  lc_tensor *rows = lt_top(L);  /* (numel of key, rest) */
  int k = 0;
  for (int d = 0; d < key->ndim; d++) shape[k++] = key->shape[d];
  for (int d = 1; d < t->ndim; d++) shape[k++] = t->shape[d];
  return lt_push(L, ctx, lc_reshape(ctx, rows, k, shape), fname);
}

/* The arguments of lc_index_put for t[key] = v (v at vi: a number, or a
 * tensor that broadcasts to what t[key] reads): the positions (*pos, over
 * t's first *lead dims) and v as one row per position, returned; all on
 * the stack. */
static lc_tensor *put_rows(lua_State *L, lc_ctx *ctx, lc_tensor *t, lc_tensor *key, int vi,
                           lc_tensor **pos_out, int *lead_out, const char *fname) {
  lc_tensor *src = write_value(L, ctx, t, vi, fname);
  int lead;
  lc_tensor *pos = key_positions(L, ctx, t, key, &lead, fname);
  check_key_dims(L, t, key, lead, fname);
  /* v broadcast to what t[key] reads: (the key's rows, t's other dims) */
  int64_t shape[LC_MAX_DIMS];
  int k = 0;
  if (key->dtype == LC_BOOL) {
    shape[k++] = pos->shape[0];
  } else {
    for (int d = 0; d < key->ndim; d++) shape[k++] = key->shape[d];
  }
  for (int d = lead; d < t->ndim; d++) shape[k++] = t->shape[d];
  lt_push(L, ctx, lc_expand(ctx, src, k, shape), fname);
  lc_tensor *full = lt_top(L);
  int64_t rows[LC_MAX_DIMS];
  int r = 0;
  rows[r++] = pos->shape[0];
  for (int d = lead; d < t->ndim; d++) rows[r++] = t->shape[d];
  lt_push(L, ctx, lc_reshape(ctx, full, r, rows), fname);
  *pos_out = pos;
  *lead_out = lead;
  return lt_top(L);
}

/* t[key] = v for a tensor key: v written into those rows, in place (t is
 * the box at 1). */
static void assign_by_tensor(lua_State *L, lc_ctx *ctx, lc_tensor *t, lc_tensor *key, int vi,
                             const char *fname) {
  lc_tensor *pos;
  int lead;
  lc_tensor *per_row = put_rows(L, ctx, t, key, vi, &pos, &lead, fname);
  if (write_recorded(ctx, t, per_row))
    put_recorded(L, ctx, 1, t, lead, pos, per_row, fname);
  else
    lt_do(L, ctx, lc_index_put_(ctx, t, lead, pos, per_row), fname);
}

static const lt_arg PUT_ARGS[] = {
  {"indices", LT_K_TENSOR, LT_REQ, 0, NULL}, {"values", LT_K_OPERAND, LT_REQ, 0, NULL},
  {NULL}};
/***
t with the elements or rows a key names set to values, as t[key] = values
(key a bool mask of t's shape or leading dims, or an int64 index along dim 1;
values a number or a tensor that broadcasts to what t[key] reads):
index_put returns a new tensor (gradients to t's other elements and to
values), index_put_ writes into t and returns it. torch.index_put with one
index tensor and accumulate = false; a position named twice keeps the last
value.
@function index_put
@usage t:index_put(indices, values), t:index_put_(indices, values)  (or lucid.index_put(t, ...))
@within Shapes and indexing
@also lucid.index_put_
*/
static int l_index_put(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lt_val v[2];
  const char *fname = lt_args(L, 2, -1, v);
  lc_tensor *t = lt_tensor_arg(L, 1, fname), *pos;
  int lead;
  lc_tensor *rows = put_rows(L, ctx, t, v[0].t, v[1].idx, &pos, &lead, fname);
  return lt_push(L, ctx, lc_index_put(ctx, t, lead, pos, rows), fname);
}

static int l_index_put_(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lt_val v[2];
  const char *fname = lt_args(L, 2, -1, v);
  assign_by_tensor(L, ctx, lt_check(L, 1), v[0].t, v[1].idx, fname);
  lua_settop(L, 1);
  return 1;
}

/***
The elements of t where mask (a bool tensor) is true, as a 1-D copy in
row-major order; t and mask broadcast against each other, as
torch.masked_select. The gradient flows back to the selected elements. Same as
t[mask] when the mask has t's shape.
@function masked_select
@usage lucid.masked_select(t, mask)  or  t:masked_select(mask)
@within Shapes and indexing
*/
static int l_masked_select(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  const char *fname = lt_args(L, 3, -1, NULL);
  lc_tensor *t = lt_tensor_arg(L, 1, fname), *mask = lt_tensor_arg(L, 2, fname);
  if (mask->dtype != LC_BOOL)
    return lt_error(L, "%s: mask must be a bool tensor, got %s (compare, or use mask:bool())",
                    fname, lc_dtype_name(mask->dtype));
  int n = t->ndim > mask->ndim ? t->ndim : mask->ndim;
  int64_t shape[LC_MAX_DIMS];
  for (int d = 0; d < n; d++) {  /* NumPy broadcasting, from the last dim */
    int dt = d - (n - t->ndim), dm = d - (n - mask->ndim);
    int64_t a = dt >= 0 ? t->shape[dt] : 1, b = dm >= 0 ? mask->shape[dm] : 1;
    if (a != b && a != 1 && b != 1) {
      char st[LC_SHAPE_STR], sm[LC_SHAPE_STR];
      lc_shape_str(st, sizeof st, t->ndim, t->shape);
      lc_shape_str(sm, sizeof sm, mask->ndim, mask->shape);
      return lt_error(L, "%s: the tensor %s and the mask %s do not broadcast", fname, st, sm);
    }
    shape[d] = a == 1 ? b : a;
  }
  if (n == 0) shape[n++] = 1;  /* 0-d: one element, as a 1-D tensor of 1 */
  lt_push(L, ctx, lc_expand(ctx, t, n, shape), fname);
  lc_tensor *et = lt_top(L);
  lt_push(L, ctx, lc_expand(ctx, mask, n, shape), fname);
  return index_by_tensor(L, ctx, et, lt_top(L), fname);
}

/* ipairs(t) on Lua 5.2 (5.3 and 5.4 read t[i] through __index until nil). */
static int t_ipairs_next(lua_State *L) {
  lc_tensor *t = lt_check(L, 1);
  lua_Integer i = luaL_checkinteger(L, 2) + 1;
  if (t->ndim == 0 || i > t->shape[0]) return 0;
  lua_pushinteger(L, i);
  lua_pushvalue(L, 1);
  lua_pushinteger(L, i);
  lua_gettable(L, -2);  /* t[i], through __index */
  lua_remove(L, -2);
  return 2;
}

static int t_ipairs(lua_State *L) {
  lt_check(L, 1);
  lua_pushcfunction(L, t_ipairs_next);
  lua_pushvalue(L, 1);
  lua_pushinteger(L, 0);
  return 3;
}

/* __index: methods first (upvalue 2), then fields, then indexing. */
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
    } else if (strcmp(k, "T") == 0) {  /* PyTorch's: the dimensions reversed */
      lc_ctx *ctx = LT_CTX(L);
      int perm[LC_MAX_DIMS];
      for (int d = 0; d < t->ndim; d++) perm[d] = t->ndim - 1 - d;
      lt_push(L, ctx, lc_permute(ctx, t, perm), "lucid.Tensor.T");
    } else {
      return lt_error(L, "lucid.Tensor: no field or method '%s'", k);
    }
    return 1;
  }
  if (lua_type(L, 2) == LUA_TNUMBER) {  /* t[i]: 1-based, negative from the end */
    lc_ctx *ctx = LT_CTX(L);
    if (t->ndim == 0) return lt_error(L, "lucid.Tensor: a 0-d tensor cannot be indexed");
    lua_Integer i = lt_integer(L, 2, "index", "lucid.Tensor"), n = (lua_Integer)t->shape[0];
    if (i == n + 1) {  /* one past the end: nil, as a Lua array, so ipairs stops */
      lua_pushnil(L);
      return 1;
    }
    return lt_push(L, ctx, lc_select(ctx, t, 0, index_of(L, i, n, 1)), "lucid.Tensor");
  }
  if (lua_type(L, 2) == LUA_TTABLE) {
    if (t->ndim == 0) return lt_error(L, "lucid.Tensor: a 0-d tensor cannot be indexed");
    push_indexed(L, LT_CTX(L), t, 2);
    return 1;
  }
  if (lt_tobox(L, 2)) return index_by_tensor(L, LT_CTX(L), t, lt_check(L, 2), "lucid.Tensor");
  return lt_error(L, "lucid.Tensor: cannot index with a %s key", luaL_typename(L, 2));
}

/* The view of t that the number or table key at 2 names, pushed. */
static void push_key_view(lua_State *L, lc_ctx *ctx, lc_tensor *t) {
  if (lua_type(L, 2) == LUA_TNUMBER) {
    lua_Integer i = lt_integer(L, 2, "index", "lucid.Tensor");
    int64_t at = index_of(L, i, t->shape[0], 1);
    lt_push(L, ctx, lc_select(ctx, t, 0, at), "lucid.Tensor");
  } else {
    push_indexed(L, ctx, t, 2);
  }
}

/* t[i] = v or t[{...}] = v in the graph: the view's elements are named by
 * their flat positions (the key applied to 0, 1, ..., numel - 1 in t's
 * shape), so that the write is lc_index_put's, one element a row. */
static void write_view_recorded(lua_State *L, lc_ctx *ctx, lc_tensor *t, lc_tensor *src) {
  int64_t n = t->numel;
  lt_push(L, ctx, lc_arange(ctx, LC_INT64, 0, (double)n, 1), "lucid.Tensor");
  lc_tensor *flat = lt_top(L);
  lt_push(L, ctx, lc_reshape(ctx, flat, t->ndim, t->shape), "lucid.Tensor");
  lc_tensor *numbered = lt_top(L);
  push_key_view(L, ctx, numbered);
  lc_tensor *view = lt_top(L);
  int64_t count = view->numel;
  lt_push(L, ctx, lc_reshape(ctx, view, 1, &count), "lucid.Tensor");
  lc_tensor *pos = lt_top(L);
  lt_push(L, ctx, lc_expand(ctx, src, view->ndim, view->shape), "lucid.Tensor");
  lc_tensor *full = lt_top(L);
  lt_push(L, ctx, lc_reshape(ctx, full, 1, &count), "lucid.Tensor");
  put_recorded(L, ctx, 1, t, t->ndim, pos, lt_top(L), "lucid.Tensor");
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
      lc_tensor *old = t->grad;
      t->grad = g;  /* linked before the release, which may walk back to t (lc__unreachable) */
      lc_tensor_release(old);
      return 0;
    }
    return lt_error(L, "lucid.Tensor: cannot set field '%s'", k);
  }
  /* t[i] = v, t[{...}] = v: v (a number or a tensor that broadcasts) copied
   * into the view the key names, in place */
  if (lua_type(L, 2) == LUA_TNUMBER || (lua_type(L, 2) == LUA_TTABLE && !lt_tobox(L, 2))) {
    if (t->ndim == 0) return lt_error(L, "lucid.Tensor: a 0-d tensor cannot be indexed");
    lc_tensor *src = write_value(L, ctx, t, 3, "lucid.Tensor");
    if (write_recorded(ctx, t, src)) {
      write_view_recorded(L, ctx, t, src);
      return 0;
    }
    push_key_view(L, ctx, t);
    lc_tensor *view = lt_top(L);
    lt_do(L, ctx, lc_copy_(ctx, view, src), "lucid.Tensor");
    return 0;
  }
  if (lt_tobox(L, 2)) {
    assign_by_tensor(L, ctx, t, lt_check(L, 2), 3, "lucid.Tensor");
    return 0;
  }
  return lt_error(L, "lucid.Tensor: cannot set a %s key", luaL_typename(L, 2));
}

/* PyTorch refuses this too: the change would not be part of the graph. */
int lt_inplace_recorded(lua_State *L, const lc_tensor *t, const lc_tensor *other) {
  return lc_ctx_grad_enabled(LT_CTX(L)) && (t->requires_grad || (other && other->requires_grad));
}

void lt_become(lua_State *L, lc_ctx *ctx, const char *fname) {
  lc_tensor *t = lt_check(L, 1), *r = lt_check(L, -1);
  if (r->dtype != t->dtype) {
    if ((lc_dtype_is_float(r->dtype) && !lc_dtype_is_float(t->dtype)) ||
        (t->dtype == LC_BOOL && r->dtype != LC_BOOL))
      lt_error(L, "%s: the result (%s) cannot be written in place into a tensor of dtype %s",
               fname, lc_dtype_name(r->dtype), lc_dtype_name(t->dtype));
    lt_push(L, ctx, lc_to_dtype(ctx, r, t->dtype), fname);
    r = lt_top(L);
  }
  lt_rebase(L, ctx, 1, r, fname);
}

void lt_check_inplace_operand(lua_State *L, const lc_tensor *o, const char *fname) {
  if (lc_ctx_grad_enabled(LT_CTX(L)) && o->requires_grad)
    lt_error(L, "%s: an operand that requires grad would lose its gradient in this in-place "
               "update, which records no graph (use the out-of-place ops, or lucid.no_grad)",
             fname);
}

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

static const lt_arg SEED_ARG[] = {{"seed", LT_K_INTEGER, LT_REQ | LT_POS, 0, NULL}, {NULL}};
/***
Seeds this state's random generator (xoshiro256**), so rand, randn, randint,
uniform_ and layer initialisations repeat exactly, on every platform.
@function manual_seed
@usage lucid.manual_seed(n)
@within Settings, files and memory
*/
static int l_manual_seed(lua_State *L) {
  lt_val v[1];
  lt_args(L, 1, -1, v);
  lc_ctx_seed(LT_CTX(L), (uint64_t)v[0].i);
  return 0;
}

static const lt_arg DTYPE_ARG[] = {{"d", LT_K_DTYPE, LT_REQ | LT_POS, 0, NULL}, {NULL}};
/***
The dtype of new float tensors when none is given: "float32" (the start) or
"float64".
@function set_default_dtype
@usage lucid.set_default_dtype("float64")
@within Settings, files and memory
*/
static int l_set_default_dtype(lua_State *L) {
  lt_val v[1];
  lt_args(L, 1, -1, v);
  lc_ctx_set_default_dtype(LT_CTX(L), (lc_dtype)v[0].i);
  return 0;
}

/***
The dtype new tensors get when none is given, as a string.
@function get_default_dtype
@usage lucid.get_default_dtype()
@within Settings, files and memory
*/
static int l_get_default_dtype(lua_State *L) {
  lua_pushstring(L, lc_dtype_name(lc_ctx_default_dtype(LT_CTX(L))));
  return 1;
}

/***
Turns recording on or off and returns the previous setting, to restore.
@function set_grad_enabled
@usage lucid.set_grad_enabled(flag)
@within Autograd
*/
static int l_set_grad_enabled(lua_State *L) {
  luaL_checkany(L, 1);
  lua_pushboolean(L, lc_ctx_set_grad_enabled(LT_CTX(L), lua_toboolean(L, 1)));
  return 1;  /* the previous setting, to restore */
}

/***
Whether operations are recorded for autograd now.
@function is_grad_enabled
@usage lucid.is_grad_enabled()
@within Autograd
*/
static int l_is_grad_enabled(lua_State *L) {
  lua_pushboolean(L, lc_ctx_grad_enabled(LT_CTX(L)));
  return 1;
}

/* OpenBLAS's thread count is process-wide, so it changes only when a script
 * asks: a host running several states on its own threads usually wants 1. */
static const lt_arg THREADS_ARG[] = {{"num", LT_K_INTEGER, LT_REQ | LT_POS, 0, NULL}, {NULL}};
/***
The number of threads OpenBLAS and the library's kernels use (by default every
core). The setting is process-wide for OpenBLAS.
@function set_num_threads
@usage lucid.set_num_threads(n),  lucid.get_num_threads()
@within Settings, files and memory
@also lucid.get_num_threads
*/
static int l_set_num_threads(lua_State *L) {
  lt_val v[1];
  const char *fname = lt_args(L, 1, -1, v);
  lua_Integer n = v[0].i;
  if (n < 1 || n > 1024)
    return lt_error(L, "%s: expected 1 to 1024 threads, got %lld", fname, (long long)n);
  openblas_set_num_threads((int)n);
  lc_ctx_set_num_threads(LT_CTX(L), (int)n);  /* and this state's own kernels */
  return 0;
}

static int l_get_num_threads(lua_State *L) {
  lua_pushinteger(L, openblas_get_num_threads());
  return 1;
}

/***
Seconds on a monotonic wall clock, as a number, for timing loops: the
difference of two calls is the time between them (os.clock counts CPU time
of every thread, os.time whole seconds).
@function clock
@usage lucid.clock()
@within Settings, files and memory
*/
/* A monotonic wall clock in seconds, for timing loops (os.clock is CPU time,
 * which counts every thread, and os.time has a one-second resolution). */
static int l_clock(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec * 1e-9);
  return 1;
}

/***
The bytes of tensor memory alive in this Lua state.
@function memory_allocated
@usage lucid.memory_allocated()
@within Settings, files and memory
*/
static int l_memory_allocated(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)lc_ctx_live_bytes(LT_CTX(L)));
  return 1;
}

/* ---- the module ----------------------------------------------------------------------- */

/***
A tensor is a userdata of float32 (default) or float64 values, up to 8 dims,
with strides (views share storage). Operators + - * / ^ and unary - work between
tensors and with numbers, broadcasting like NumPy; comparisons are methods
(a:eq(b), a:lt(b)) because Lua's == cannot return a tensor; the matrix product
is a:matmul(b). #t is the size of dim 1 and t[i] selects along dim 1 (t[i] = v
writes). Every function listed under help() that takes a tensor first is also
a method: t:sum(), t:reshape(2, 3). Memory is counted by Lua's collector, so
loops need no collectgarbage(); `local t <close> = ...` frees early.
@table Tensor
@usage Tensor: shape, ndim, dtype, requires_grad, grad, ...  +  -  *  /  ^  #t  t[i]
@within Overview
*/

/***
The sizes as a new Lua table, {2, 3} (torch's t.shape / t.size()). Changing
the table does not change the tensor; use reshape or view for that.
@field Tensor.shape
@usage t.shape
@within Tensor fields
*/

/***
The number of dimensions (0 for a scalar tensor); also t:dim().
@field Tensor.ndim
@usage t.ndim
@within Tensor fields
*/

/***
The element type as a string: "float32" or "float64". Convert with
t:to("float64"), t:double(), t:float().
@field Tensor.dtype
@usage t.dtype
@within Tensor fields
*/

/***
Whether autograd records operations on t and computes t.grad on backward.
Set it on leaves (t.requires_grad = true, or t:requires_grad_()); results of
recorded ops require grad by themselves.
@field Tensor.requires_grad
@usage t.requires_grad  (settable on leaves)
@within Tensor fields
*/

/***
The gradient accumulated into a leaf by backward, a tensor of t's shape, or
nil. Gradients add up across backward calls until set to nil (t.grad = nil,
t:zero_grad(), model:zero_grad()). Non-leaves keep theirs only after
t:retain_grad().
@field Tensor.grad
@usage t.grad  (settable to nil or a tensor of t's shape)
@within Tensor fields
*/

/***
True for tensors made by you (not by a recorded op): the ones whose .grad
backward fills.
@field Tensor.is_leaf
@usage t.is_leaf
@within Tensor fields
*/

/***
The name of the op that made t in the graph, such as "TanhBackward", or nil
for leaves and unrecorded results.
@field Tensor.grad_fn
@usage t.grad_fn
@within Tensor fields
*/

/***
The transpose of a 2-D tensor, a view (t:transpose(1, 2)).
@field Tensor.T
@usage t.T
@within Tensor fields
*/
static const lt_reg core_fns[] = {
  {"_error", "lucid.core._error", l_error, NULL, LT_MODULE},
  {"_set_library_source", "lucid.core._set_library_source", l_set_library_source, NULL, LT_MODULE},
  {"_ops", "lucid.core._ops", l_ops, NULL, LT_MODULE},
  LT_ROW(tensor, l_tensor, TENSOR_ARGS, LT_MODULE), LT_ROW(empty, l_empty, MAKE_ARGS, LT_MODULE),
  LT_ROW(zeros, l_zeros, MAKE_ARGS, LT_MODULE), LT_ROW(ones, l_ones, MAKE_ARGS, LT_MODULE),
  LT_ROW(full, l_full, FULL_ARGS, LT_MODULE), LT_ROW(rand, l_rand, MAKE_ARGS, LT_MODULE),
  LT_ROW(randn, l_randn, MAKE_ARGS, LT_MODULE), LT_ROW(eye, l_eye, EYE_ARGS, LT_MODULE),
  LT_ROW(arange, l_arange, ARANGE_ARGS, LT_MODULE),
  LT_ROW(linspace, l_linspace, LINSPACE_ARGS, LT_MODULE),
  LT_ROW(randint, l_randint, RANDINT_ARGS, LT_MODULE),
  LT_ROW(from_string, l_from_string, FROM_STRING_ARGS, LT_MODULE),
  LT_ROW(manual_seed, l_manual_seed, SEED_ARG, LT_MODULE),
  LT_ROW(set_default_dtype, l_set_default_dtype, DTYPE_ARG, LT_MODULE),
  LT_ROW(get_default_dtype, l_get_default_dtype, NULL, LT_MODULE),
  LT_ROW(set_grad_enabled, l_set_grad_enabled, NULL, LT_MODULE),
  LT_ROW(is_grad_enabled, l_is_grad_enabled, NULL, LT_MODULE),
  LT_ROW(set_num_threads, l_set_num_threads, THREADS_ARG, LT_MODULE),
  LT_ROW(get_num_threads, l_get_num_threads, NULL, LT_MODULE),
  LT_ROW(memory_allocated, l_memory_allocated, NULL, LT_MODULE),
  LT_ROW(clock, l_clock, NULL, LT_MODULE),
  {"parameter", "nn.Parameter", l_parameter, REQUIRES_GRAD_ARG, LT_MODULE},
  LT_ROW(is_parameter, l_is_parameter, NULL, LT_MODULE),
  LT_ROW(is_tensor, l_is_tensor, NULL, LT_MODULE), LT_ROW(_fits, l_fits, NULL, LT_MODULE),
  /* both lucid.f(t, ...) and t:f(...) */
  LT_ROW(item, l_item, NULL, LT_BOTH), LT_ROW(tolist, l_tolist, NULL, LT_BOTH),
  LT_ROW(masked_select, l_masked_select, NULL, LT_BOTH),
  LT_ROW(index_put, l_index_put, PUT_ARGS, LT_BOTH),
  LT_ROW(index_put_, l_index_put_, PUT_ARGS, LT_BOTH),
  LT_ROW(numel, l_numel, NULL, LT_BOTH), LT_ROW(size, l_size, DIM_ARG, LT_BOTH),
  LT_ROW(dim, l_dim, NULL, LT_BOTH), LT_ROW(is_contiguous, l_is_contiguous, NULL, LT_BOTH),
  LT_ROW(detach, l_detach, NULL, LT_BOTH), LT_ROW(zero_grad, l_zero_grad, NULL, LT_BOTH),
  LT_ROW(requires_grad_, l_requires_grad_, REQUIRES_GRAD_ARG, LT_BOTH),
  LT_ROW(uniform_, l_uniform_, UNIFORM_ARGS, LT_BOTH),
  LT_ROW(randperm, l_randperm, RANDPERM_ARGS, LT_MODULE),
  LT_ROW(multinomial, l_multinomial, MULTINOMIAL_ARGS, LT_BOTH),
  LT_ROW(bernoulli, l_bernoulli, NULL, LT_BOTH), LT_ROW(poisson, l_poisson, NULL, LT_BOTH),
  LT_ROW(normal_, l_normal_, NORMAL_ARGS, LT_BOTH),
  LT_ROW(exponential_, l_exponential_, EXPONENTIAL_ARGS, LT_BOTH),
  LT_ROW(bernoulli_, l_bernoulli_, BERNOULLI_ARGS, LT_BOTH),
  LT_ROW(random_, l_random_, RANDOM_ARGS, LT_BOTH),
  LT_ROW(to_string, l_to_string, NULL, LT_BOTH),
  /* the metatable's own (__index is made below: it has the methods as upvalue) */
  {"__gc", "lucid.Tensor.__gc", box_gc, NULL, LT_META},
  {"__close", "lucid.Tensor.__close", box_gc, NULL, LT_META},
  {"close", "lucid.Tensor.close", box_gc, NULL, LT_METHOD},  /* every version's <close> */
  {"__newindex", "lucid.Tensor", t_newindex, NULL, LT_META},
  {"__len", "lucid.Tensor", t_len, NULL, LT_META},
  {"__ipairs", "lucid.Tensor", t_ipairs, NULL, LT_META},
  {NULL, NULL, NULL, NULL, 0}};

LUALIB_API int luaopen_lucid_core(lua_State *L);

/* Where tensor bytes come from. A host's own lua_Alloc is used as it is, so
 * a host that caps Lua's memory caps tensors too. The allocator a state gets
 * from luaL_newstate is replaced by the C library's: for Lua 5.1 to 5.4 that
 * changes nothing (theirs is realloc and free), but LuaJIT's is its internal
 * one (lj_alloc), a single-threaded heap that in builds without GC64 lives in
 * the low 2 GB of the address space, too small for tensors. LuaJIT is not
 * known at compile time (a 5.1 build loads in it), hence the comparison with
 * a fresh state's allocator. */
static void *c_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud;
  (void)osize;
  if (nsize == 0) {
    free(ptr);
    return NULL;
  }
  return realloc(ptr, nsize);
}

static int builtin_alloc(lua_Alloc alloc) {
  lua_State *probe = luaL_newstate();
  if (!probe) return 0;  /* out of memory: keep the state's, which is safe */
  void *ud;
  int same = lua_getallocf(probe, &ud) == alloc;
  lua_close(probe);
  return same;
}

/* Finalizers must find this module's code: the interpreter unloads the
 * library (dlclose) from a finalizer of its own at lua_close, and LuaJIT
 * runs that one before the state's and the tensors', which would then jump
 * into unmapped memory. So the library stays loaded for the process's life.
 * Linked into a host, dladdr names the program, which is never unloaded. */
static void pin_module(void) {
  Dl_info info;
  if (!dladdr((void *)(size_t)&luaopen_lucid_core, &info) || !info.dli_fname) return;
  void *self = dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
  if (self) dlclose(self);  /* RTLD_NODELETE stays; the count goes back */
}

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
  pin_module();
  void *ud;
  lua_Alloc alloc = lua_getallocf(L, &ud);
  if (builtin_alloc(alloc)) {
    alloc = c_alloc;
    ud = NULL;
  }
  if (!(s->ctx = lc_ctx_new(alloc, ud))) return lt_error(L, "lucid: not enough memory");
  s->alloc = alloc;
  s->alloc_ud = ud;
  lt_autograd_init(s);
  /* luaL_unref writes to the registry's freelist slot, which the first unref
   * creates: made now, so that dropping a reference later (box_gc, inside a
   * finalizer) never allocates. */
  lua_pushboolean(L, 1);
  luaL_unref(L, LUA_REGISTRYINDEX, luaL_ref(L, LUA_REGISTRYINDEX));

  lua_newtable(L);
  int module = lua_gettop(L);
  lua_newtable(L);
  int methods = lua_gettop(L);
  luaL_newmetatable(L, LT_TENSOR);
  int meta = lua_gettop(L);
  lua_pushlightuserdata(L, (void *)&lt_tensor_tag);
  lua_rawseti(L, meta, 1);                      /* meta[1] = &lt_tensor_tag: lt_tobox's mark */
  lt_lazy_options(L, module);                   /* module._options, on first use */
  lt_register(L, state, methods, module, core_fns);
  lt_register_ops(L, state, methods, module);
  lt_register_elementwise(L, state, methods, module);
  lt_register_reduce(L, state, methods, module);
  lt_register_shape(L, state, methods, module);
  lt_register_linalg(L, state, methods, module);
  lt_register_attention(L, state, methods, module);
  lt_register_pool(L, state, methods, module);
  lt_register_conv(L, state, methods, module);
  lt_register_loss(L, state, methods, module);
  lt_register_rnn(L, state, methods, module);
  lt_register_autograd(L, state, methods, module);
  lt_register_bytes(L, state, methods, module);
  lt_register_plan(L, state, methods, module);

  lua_pushvalue(L, state);
  lua_pushvalue(L, methods);
  lua_pushcclosure(L, t_index, 2);
  lua_setfield(L, meta, "__index");             /* meta.__index = t_index(state, methods) */

  lua_pushvalue(L, state);
  lua_setfield(L, module, "_state");            /* the module keeps the context alive */
  luaL_newmetatable(L, LT_SENTINEL_META);
  lua_pushvalue(L, state);
  lua_pushcclosure(L, sentinel_gc, 1);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  new_sentinel(L);
  lua_pushvalue(L, state);
  lua_setfield(L, LUA_REGISTRYINDEX, LT_STATE_KEY);  /* for lucid.h's host functions */
  lua_pushvalue(L, meta);
  lua_setfield(L, module, "_meta");
  lua_pushvalue(L, methods);
  lua_setfield(L, module, "_methods");
  lua_pushvalue(L, module);
  return 1;
}

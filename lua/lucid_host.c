/* lucid_host.c: the functions lucid.h promises C hosts. They run outside
 * any Lua call of the library, so they find the state's context through the
 * registry (not an upvalue) and never assume a calling Lua function. */
#include <string.h>

#include <lualib.h>

#include "binding.h"
#include "lucid.h"

typedef struct lucid_source {
  const char *name, *path;
  const unsigned char *src;
  size_t len;
} lucid_source;
extern const lucid_source lucid__sources[];  /* build/lucid_lua_sources.c */

/* package.preload loader for embedded source i (upvalue 1). */
static int load_embedded(lua_State *L) {
  const lucid_source *s = &lucid__sources[lua_tointeger(L, lua_upvalueindex(1))];
  char chunk[128];
  snprintf(chunk, sizeof chunk, "@[lucid]/%s", s->path);
  if (luaL_loadbufferx(L, (const char *)s->src, s->len, chunk, "t") != LUA_OK)
    return lua_error(L);
  lua_pushvalue(L, 1);  /* the module name, as require passes it */
  lua_call(L, 1, 1);
  return 1;
}

void lucid_preload(lua_State *L) {
  lt_compat_getpreload(L);
  lua_pushcfunction(L, luaopen_lucid_core);
  lua_setfield(L, -2, "lucid.core");
  for (lua_Integer i = 0; lucid__sources[i].name; i++) {
    lua_pushinteger(L, i);
    lua_pushcclosure(L, load_embedded, 1);
    lua_setfield(L, -2, lucid__sources[i].name);
  }
  lua_pop(L, 1);
}

int luaopen_lucid(lua_State *L) {
  lucid_preload(L);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "lucid");
  lua_call(L, 1, 1);
  return 1;
}

/* The context of this state, loading lucid.core if the host has not yet. */
static lt_state *host_state(lua_State *L) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, LT_STATE_KEY) != LUA_TUSERDATA) {
    lua_pop(L, 1);
    luaL_requiref(L, "lucid.core", luaopen_lucid_core, 0);
    lua_pop(L, 1);
    lua_getfield(L, LUA_REGISTRYINDEX, LT_STATE_KEY);
  }
  lt_state *s = (lt_state *)lua_touserdata(L, -1);
  lua_pop(L, 1);
  return s;
}

static void push_view(lua_State *L, lc_dtype dt, void *data, int ndim, const int64_t *shape) {
  lt_state *s = host_state(L);
  lc_tensor **slot = lt_newbox(L);  /* the box first: a failure below leaks nothing */
  lc_tensor *t = lc_from_external(s->ctx, dt, data, ndim, shape);
  if (!t && lt_retry(L, s->ctx, "lucid_push_view"))  /* out of memory: collected, once more */
    t = lc_from_external(s->ctx, dt, data, ndim, shape);
  if (!t) lt_fail(L, s->ctx, "lucid_push_view");
  *slot = t;
}

void lucid_push_view(lua_State *L, float *data, int ndim, const int64_t *shape) {
  push_view(L, LC_FLOAT32, data, ndim, shape);
}

void lucid_push_view_f64(lua_State *L, double *data, int ndim, const int64_t *shape) {
  push_view(L, LC_FLOAT64, data, ndim, shape);
}

void lucid_push_view_dtype(lua_State *L, lc_dtype dtype, void *data, int ndim,
                           const int64_t *shape) {
  if (!lc_dtype_name(dtype)) lt_error(L, "lucid_push_view_dtype: unknown dtype %d", (int)dtype);
  push_view(L, dtype, data, ndim, shape);
}

void lucid_release_view(lua_State *L, int idx) {
  lt_state *s = host_state(L);
  lc_tensor *t = lucid_check_tensor(L, idx);
  if (lc_tensor_own_data(s->ctx, t) != LC_OK)
    lt_error(L, "lucid_release_view: %s", lc_ctx_error(s->ctx));
}

lc_tensor *lucid_check_tensor(lua_State *L, int idx) { return lt_check(L, idx); }
lc_tensor *lucid_test_tensor(lua_State *L, int idx) { return lt_test(L, idx); }

static const void *tensor_data(lua_State *L, int idx, lc_dtype dt, int64_t *numel,
                               const char *fname) {
  lc_tensor *t = lt_check(L, idx);
  if (t->dtype != dt)
    lt_error(L, "%s: the tensor is %s, not %s", fname, lc_dtype_name(t->dtype),
             lc_dtype_name(dt) ? lc_dtype_name(dt) : "a known dtype");
  if (!lc_tensor_is_contiguous(t))
    lt_error(L, "%s: the tensor is not contiguous (call :contiguous() first)", fname);
  if (numel) *numel = t->numel;
  return t->numel ? lc_tensor_data(t) : NULL;
}

const float *lucid_tensor_f32(lua_State *L, int idx, int64_t *numel) {
  return (const float *)tensor_data(L, idx, LC_FLOAT32, numel, "lucid_tensor_f32");
}

const double *lucid_tensor_f64(lua_State *L, int idx, int64_t *numel) {
  return (const double *)tensor_data(L, idx, LC_FLOAT64, numel, "lucid_tensor_f64");
}

const void *lucid_tensor_data(lua_State *L, int idx, lc_dtype dtype, int64_t *numel) {
  return tensor_data(L, idx, dtype, numel, "lucid_tensor_data");
}

/* ---- compiled plans ---------------------------------------------------------- */

lc_plan *lucid_toplan(lua_State *L, int idx) {
  lt_plan *b = (lt_plan *)luaL_testudata(L, idx, LT_PLAN);
  return b ? b->p : NULL;
}

float *lucid_plan_input_f32(lc_plan *p, int i, int64_t *n) {
  lc_tensor *t = lc_plan_input(p, i);
  if (!t || t->dtype != LC_FLOAT32) return NULL;
  if (n) *n = t->numel;
  return (float *)lc_tensor_data(t);
}

const float *lucid_plan_output_f32(lc_plan *p, int i, int64_t *n) {
  lc_tensor *t = lc_plan_output(p, i);
  if (!t || t->dtype != LC_FLOAT32 || !lc_tensor_is_contiguous(t)) return NULL;
  if (n) *n = t->numel;
  return (const float *)lc_tensor_data(t);
}

int lucid_plan_run(lc_plan *p, const float *in, float *out) {
  int64_t nin = 0, nout = 0;
  float *x = in ? lucid_plan_input_f32(p, 0, &nin) : NULL;
  const float *y = out ? lucid_plan_output_f32(p, 0, &nout) : NULL;
  if ((in && !x) || (out && !y)) {
    lc_plan_fail(p, in && !x ? "lucid_plan_run: input 0 is not float32, so `in` cannot fill it"
                             : "lucid_plan_run: output 0 is not contiguous float32, so `out` "
                               "cannot take it");
    return -1;
  }
  if (in && x != in) memcpy(x, in, sizeof *x * (size_t)nin);
  if (lc_plan_run(p) != LC_OK) return -1;
  if (out && y != out) memcpy(out, y, sizeof *out * (size_t)nout);
  return 0;
}

const char *lucid_plan_error(const lc_plan *p) { return lc_plan_error(p); }

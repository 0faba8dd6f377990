/* test_states.c: a C host that embeds Lua and links lucid statically, to
 * show that independent lua_States in one process do not share anything:
 * each gets its own context (random generator, default dtype, grad mode)
 * and, through lua_Alloc, its own memory accounting and limit.
 *
 * lucid.core comes from the static library (preloaded, package.cpath
 * emptied so no .so is ever loaded); the Lua half (lua/lucid) comes from LUA_PATH, which
 * the Makefile points at the checkout's lua/. policy.lua (next to this file)
 * holds the model and the training step; `make ctest` runs this program from
 * tests/host. Exit status 1 on any failed check. */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include "compat.h"  /* the binding's: 5.4 names (LUA_OK, ...) on every Lua */

#include <math.h>
#ifdef __GLIBC__
#include <malloc.h> /* mallinfo2 */
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lucid.h"  /* the host API: views over the host's memory */
int luaopen_lucid_core(lua_State *L);  /* from liblucid.a */

#include "../check.h"

/* ---- a lua_Alloc that refuses to go over a byte limit ----------------------- */

typedef struct capped {
  size_t live, limit, peak;
  long refused;
} capped;

static void *capped_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  capped *c = (capped *)ud;
  size_t old = ptr ? osize : 0;  /* osize is a type tag when ptr is NULL */
  if (nsize == 0) {
    if (ptr) {
      c->live -= old;
      free(ptr);
    }
    return NULL;
  }
  if (nsize > old && c->live - old + nsize > c->limit) {
    c->refused++;
    return NULL;
  }
  void *p = realloc(ptr, nsize);
  if (!p) return NULL;
  c->live = c->live - old + nsize;
  if (c->live > c->peak) c->peak = c->live;
  return p;
}

static int panic(lua_State *L) {
  fprintf(stderr, "test_states: Lua panic: %s\n", lua_tostring(L, -1));
  abort();
}

/* ---- states ------------------------------------------------------------------- */

/* A state with the standard libraries, lucid.core preloaded from the static
 * library, and no C modules searched on disk. */
static lua_State *new_state(capped *cap) {
  lua_State *L = cap ? lua_newstate(capped_alloc, cap) : luaL_newstate();
  if (!L) return NULL;
  lua_atpanic(L, panic);
  luaL_openlibs(L);
  lt_compat_getpreload(L);
  lua_pushcfunction(L, luaopen_lucid_core);
  lua_setfield(L, -2, "lucid.core");
  lua_pop(L, 1);
  lua_getglobal(L, "package");
  lua_pushliteral(L, "");
  lua_setfield(L, -2, "cpath");
  lua_pop(L, 1);
  return L;
}

/* Runs a chunk; leaves its results (at most nres) on the stack. On error
 * prints it, pushes nothing and returns 0. */
static int run(lua_State *L, const char *name, const char *code, int nres) {
  int top = lua_gettop(L);
  if (luaL_loadbuffer(L, code, strlen(code), name) != LUA_OK ||
      lua_pcall(L, 0, nres, 0) != LUA_OK) {
    fprintf(stderr, "test_states: %s: %s\n", name, lua_tostring(L, -1));
    lua_settop(L, top);
    return 0;
  }
  return 1;
}

/* Runs a chunk that must succeed and return true. */
#define CHECK_LUA(L, code)                                                       \
  do {                                                                           \
    int ok_ = run((L), "check", (code), 1);                                      \
    CHECKF(ok_ && lua_toboolean((L), -1), "Lua check %s", (code));               \
    if (ok_) lua_pop((L), 1);                                                    \
  } while (0)

/* The number a chunk returns (NaN on error). */
static double number_of(lua_State *L, const char *code) {
  double v = NAN;
  if (run(L, "number", code, 1)) {
    if (lua_type(L, -1) == LUA_TNUMBER) v = lua_tonumber(L, -1);
    lua_pop(L, 1);
  }
  return v;
}

/* A copy of the string a chunk returns (NULL on error); free it. */
static char *string_of(lua_State *L, const char *code) {
  char *s = NULL;
  if (run(L, "string", code, 1)) {
    const char *v = lua_tostring(L, -1);
    if (v) {
      s = malloc(strlen(v) + 1);
      strcpy(s, v);
    }
    lua_pop(L, 1);
  }
  return s;
}

static const char *load_policy =
    "lucid = require('lucid')\n"
    "assert(package.preload['lucid.core'], 'lucid.core is not preloaded')\n"
    "assert(package.cpath == '')\n"
    "local f = io.open('policy.lua') and 'policy.lua' or 'tests/host/policy.lua'\n"
    "P = dofile(f)\n"
    "return true";

/* ---- the tests ---------------------------------------------------------------- */

/* Two states, seeded alike and trained in turns, reach identical results. */
static void test_two_states_train_alike(lua_State *L1, lua_State *L2) {
  CHECK_LUA(L1, load_policy);
  CHECK_LUA(L2, load_policy);
  /* L1 builds (drawing from its generator) before L2 does: with a shared
   * generator L2's model would get different numbers */
  CHECK(run(L1, "build", "P.build(7)", 0));
  CHECK(run(L1, "draw", "lucid.rand(100)", 0));  /* more draws in L1 only */
  CHECK(run(L2, "build", "P.build(7)", 0));
  char *s1 = string_of(L1, "return P.snapshot()"), *s2 = string_of(L2, "return P.snapshot()");
  CHECK(s1 && s2 && strlen(s1) > 0 && strcmp(s1, s2) == 0);
  free(s1);
  free(s2);

  double first = 0, last1 = 0, last2 = 0;
  for (int i = 0; i < 8; i++) {
    double a = number_of(L1, "return P.step(0.1)");
    double b = number_of(L2, "return P.step(0.1)");
    CHECKF(a == b, "step %d: loss %.17g in state 1, %.17g in state 2", i + 1, a, b);
    if (i == 0) first = a;
    last1 = a;
    last2 = b;
  }
  CHECKF(last1 < first, "training did not reduce the loss (%g -> %g)", first, last1);
  CHECK(last1 == last2);
  s1 = string_of(L1, "return P.snapshot()");
  s2 = string_of(L2, "return P.snapshot()");
  CHECK(s1 && s2 && strcmp(s1, s2) == 0);
  free(s1);
  free(s2);
  /* grads were zeroed after each step, in each state */
  CHECK_LUA(L1, "for _, p in ipairs(P.model:parameters()) do if p.grad then return false end end "
                "return true");
  CHECK_LUA(L2, "for _, p in ipairs(P.model:parameters()) do if p.grad then return false end end "
                "return true");
}

/* Default dtype and grad mode are per state. */
static void test_settings_are_per_state(lua_State *L1, lua_State *L2) {
  CHECK(run(L1, "dtype", "lucid.set_default_dtype('float64')", 0));
  CHECK_LUA(L1, "return lucid.get_default_dtype() == 'float64' and lucid.zeros(2).dtype == 'float64'");
  CHECK_LUA(L2, "return lucid.get_default_dtype() == 'float32' and lucid.zeros(2).dtype == 'float32'");
  CHECK_LUA(L2, "return lucid.randn(3).dtype == 'float32'");

  CHECK(run(L1, "grad", "lucid.set_grad_enabled(false)", 0));
  CHECK_LUA(L1, "return lucid.is_grad_enabled() == false");
  CHECK_LUA(L2, "return lucid.is_grad_enabled() == true");
  CHECK_LUA(L1, "return (lucid.ones(2, {requires_grad = true}) * 2).grad_fn == nil");
  CHECK_LUA(L2, "return (lucid.ones(2, {requires_grad = true}) * 2).grad_fn ~= nil");
  /* a no_grad guard in L2 leaves L1's (off) and then L2's (on) settings alone */
  CHECK(run(L1, "grad", "lucid.set_grad_enabled(true)", 0));
  CHECK(run(L2, "guard", "G = lucid.no_grad()", 0));
  CHECK_LUA(L1, "return lucid.is_grad_enabled() == true");
  CHECK_LUA(L2, "return lucid.is_grad_enabled() == false");
  CHECK(run(L2, "close guard", "getmetatable(G).__close(G); G = nil", 0));
  CHECK_LUA(L2, "return lucid.is_grad_enabled() == true");

  /* seeding one state does not reseed the other */
  CHECK(run(L1, "seed", "lucid.manual_seed(1); A = lucid.rand(5):tolist()", 0));
  CHECK(run(L2, "seed", "lucid.manual_seed(1)", 0));
  CHECK(run(L1, "draw", "lucid.rand(50)", 0));
  CHECK(run(L1, "seed", "lucid.manual_seed(1)", 0));
  CHECK_LUA(L2, "local b = lucid.rand(5):tolist() "
                "lucid.manual_seed(1) local c = lucid.rand(5):tolist() "
                "for i = 1, 5 do if b[i] ~= c[i] then return false end end return true");
  CHECK(run(L1, "restore", "lucid.set_default_dtype('float32')", 0));
}

/* Closing one state leaves the other working. */
static void test_close_one(lua_State *L2, double *loss) {
  double before = number_of(L2, "return P.step(0.1)");
  double after = number_of(L2, "return P.step(0.1)");
  CHECKF(after < before, "state 2 after closing state 1: loss %g -> %g", before, after);
  *loss = after;
}

/* A state whose allocator caps memory: a huge tensor is a catchable error,
 * and the state goes on working. */
static void test_capped_state(void) {
  capped cap = {0, 32u << 20, 0, 0};  /* 32 MiB: lucid.zeros(1000, 1000, 100) needs 400 MB */
  lua_State *L = new_state(&cap);
  CHECK(L != NULL);
  if (!L) return;
  CHECK_LUA(L, "lucid = require('lucid') return lucid ~= nil");

  /* caught in Lua */
  char *msg = string_of(L, "local ok, err = pcall(lucid.zeros, 1000, 1000, 100) "
                           "if ok then return 'no error' end return tostring(err)");
  CHECKF(msg && strstr(msg, "not enough memory"), "message: %s", msg ? msg : "(none)");
  free(msg);
  CHECK(cap.refused > 0);
  CHECK(cap.live <= cap.limit && cap.peak <= cap.limit);

  /* and caught by the host's lua_pcall */
  int top = lua_gettop(L);
  CHECK(luaL_loadstring(L, "return lucid.zeros(1000, 1000, 100)") == LUA_OK);
  int rc = lua_pcall(L, 0, 1, 0);
  CHECKF(rc == LUA_ERRRUN || rc == LUA_ERRMEM, "lua_pcall returned %d", rc);
  const char *err = lua_tostring(L, -1);
  CHECKF(err && strstr(err, "not enough memory"), "message: %s", err ? err : "(none)");
  lua_settop(L, top);

  /* still usable: a small forward and backward */
  CHECK_LUA(L, "local m = lucid.nn.Linear(3, 2)\n"
               "local x = lucid.randn(4, 3, {requires_grad = true})\n"
               "local y = lucid.tanh(m(x)):sum()\n"
               "y:backward()\n"
               "local g = x.grad:tolist()\n"
               "return #g == 4 and #g[1] == 3 and m.weight.grad ~= nil and m.bias.grad ~= nil");
  CHECK_LUA(L, "local t = lucid.ones(10, 10) return (t * 2):sum():item() == 200");
  /* tensors that became garbage go back to the allocator */
  CHECK_LUA(L, "collectgarbage() collectgarbage() return lucid.memory_allocated() < 4096");
  CHECK(cap.live > 0);
  lua_close(L);
  CHECKF(cap.live == 0, "%zu bytes still allocated after lua_close", cap.live);
}

/* A state made by luaL_newstate keeps tensor bytes in the C library's heap,
 * not in its Lua's: LuaJIT's built-in allocator must not carry them (see
 * README, Memory). glibc counts a block this big among its mmapped ones.
 * Under AddressSanitizer or valgrind malloc is theirs and glibc's counters
 * see nothing: a block of the same size from malloc itself tells, and the
 * check runs where they do (the plain build, on every Lua version). */
static void test_default_state_uses_c_library(void) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33)
  size_t base = mallinfo2().hblkhd;
  void *probe = malloc(256u << 20);
  int counted = probe && mallinfo2().hblkhd >= base + (256u << 20);
  free(probe);
  if (!counted) return;
  lua_State *L = new_state(NULL);
  CHECK(L != NULL);
  if (!L) return;
  size_t before = mallinfo2().hblkhd;
  CHECK_LUA(L, "big = require('lucid.core').zeros(64 * 1024 * 1024) return true");  /* 256 MiB */
  size_t during = mallinfo2().hblkhd;
  CHECKF(during >= before + (256u << 20), "glibc's mmapped bytes went from %zu to %zu", before,
         during);
  CHECK_LUA(L, "big = nil collectgarbage() collectgarbage() return true");
  CHECK(mallinfo2().hblkhd < during);
  lua_close(L);
#endif
}

/* A host's int64 ids and a bool result through the host API, in place. */
static void test_dtype_views(lua_State *L) {
  CHECK_LUA(L, "require('lucid.core') return true");
  int64_t ids[3] = {2, 0, 9007199254740993}, shape[1] = {3};
  lucid_push_view_dtype(L, LC_INT64, ids, 1, shape);
  lua_setglobal(L, "ids");
  CHECK_LUA(L, "return ids.dtype == 'int64' and ids:gt(1):sum():item() == 2");
  ids[1] = 5;  /* a view: the host's writes show */
  CHECK_LUA(L, "return ids[2]:item() == 5");
  if (run(L, "mask", "return ids:gt(1)", 1)) {
    int64_t n = 0;
    const _Bool *m = (const _Bool *)lucid_tensor_data(L, -1, LC_BOOL, &n);
    CHECK(n == 3 && m && m[0] && m[1] && m[2]);
    lua_pop(L, 1);
  }
  lua_getglobal(L, "ids");
  lucid_release_view(L, -1);  /* ids (on the C stack) goes away: the tensor copies */
  lua_pop(L, 1);
  ids[0] = -1;
  CHECK_LUA(L, "local v = ids[1]:item() ids = nil return v == 2");
}

int main(void) {
  lua_State *L1 = new_state(NULL), *L2 = new_state(NULL);
  CHECK(L1 && L2);
  if (!L1 || !L2) return 1;
  test_two_states_train_alike(L1, L2);
  test_settings_are_per_state(L1, L2);
  test_dtype_views(L1);
  lua_close(L1);
  double loss = 0;
  test_close_one(L2, &loss);
  lua_close(L2);
  test_capped_state();
  test_default_state_uses_c_library();
  printf("test_states: %d checks, %d failed\n", g_checks, g_failures);
  return g_failures ? 1 : 0;
}

/* fuzz_common.h: what the three fuzz targets share.
 *
 * One lua_State per process, created on the first input and reused (a new
 * state per input would spend most of the time loading the library). The
 * state runs on a capped allocator (FUZZ_MEM_CAP bytes), so a huge shape is
 * a Lua "not enough memory" error and never an OOM kill. Each target gives
 * a Lua driver: a chunk that returns a function (kept as the global
 * FUZZ_RUN), which an entry function calls with the input (the bytes as a
 * string, or Lua values it builds from them). Every call into the library
 * inside the driver is pcall'd, because a Lua error is the right answer to
 * bad input and not a finding. The driver itself must never raise: an error
 * that escapes it is a harness bug, and aborts (out of memory excepted).
 *
 * After every input the harness collects garbage (minor, then full when
 * needed) and checks that the tensor bytes alive in the state
 * (lucid.memory_allocated) are back to what they were before the first input: anything else is a tensor the library
 * leaked (a reference count that never reaches 0). A driver may call
 * fuzz_fail(msg) for a broken invariant (a round trip that changed values):
 * that aborts with the message, which libFuzzer reports as a crash.
 *
 * The same code builds two ways: with clang and -fsanitize=fuzzer (libFuzzer
 * provides main) and with the project's gcc, linked to replay.c, which feeds
 * files to LLVMFuzzerTestOneInput (make fuzz-replay). */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#define _POSIX_C_SOURCE 200809L
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "binding.h"
#include "lucid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
void openblas_set_num_threads(int n);  /* cblas.h, without its include path */

#ifndef FUZZ_MEM_CAP
#define FUZZ_MEM_CAP ((size_t)256 << 20)
#endif

/* ---- the capped allocator ------------------------------------------------------ */

typedef struct fuzz_heap {
  size_t live, cap;
} fuzz_heap;

static fuzz_heap fuzz_heap_state = {0, FUZZ_MEM_CAP};

static void *fuzz_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  fuzz_heap *h = (fuzz_heap *)ud;
  size_t old = ptr ? osize : 0;  /* osize is a type tag when ptr is NULL */
  if (nsize == 0) {
    if (ptr) {
      h->live -= old;
      free(ptr);
    }
    return NULL;
  }
  if (nsize > old && (nsize - old > h->cap || h->live + (nsize - old) > h->cap)) return NULL;
  void *p = realloc(ptr, nsize);
  if (!p) return NULL;
  h->live = h->live - old + nsize;
  return p;
}

/* ---- hard failures ------------------------------------------------------------- */

static void fuzz_die(const char *what, const char *msg) {
  fprintf(stderr, "\n==FUZZ== %s: %s\n", what, msg ? msg : "(no message)");
  fflush(stderr);
  abort();
}

static int fuzz_panic(lua_State *L) {
  fuzz_die("Lua panic", lua_tostring(L, -1));
  return 0;
}

/* known(tag): whether FUZZ_KNOWN (a comma-separated list in the
 * environment) names tag: a driver skips the check or the input that would
 * only find a bug already reported again, so that fuzzing can go on past it
 * until it is fixed. Empty by default: every check runs. */
static int l_known(lua_State *L) {
  const char *tag = luaL_checkstring(L, 1), *list = getenv("FUZZ_KNOWN");
  size_t n = strlen(tag);
  int found = 0;
  for (const char *p = list; p && *p && !found; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
    found = strncmp(p, tag, n) == 0 && (p[n] == ',' || p[n] == 0);
  lua_pushboolean(L, found);
  return 1;
}

/* fuzz_fail(msg): a broken invariant found by a driver. */
static int l_fuzz_fail(lua_State *L) {
  fuzz_die("invariant broken", luaL_tolstring(L, 1, NULL));
  return 0;
}

/* ---- coverage of the library's Lua code (libFuzzer builds) -------------------------
 * libFuzzer sees only the C code's coverage, but much of the library is Lua
 * (the whole safetensors reader is). A line hook feeds the Lua side to it:
 * every pair (previous line, line) run inside the library's own chunks
 * ("@[lucid]/..."; not the drivers) bumps one of libFuzzer's extra counters,
 * so an input that reaches new Lua code is kept like one that reaches new C
 * code. Not in the replay build, which needs no guidance. */
#ifdef FUZZ_LUA_COVERAGE
#define FUZZ_LUA_COUNTERS (1 << 16)
__attribute__((section("__libfuzzer_extra_counters"), used))
static uint8_t fuzz_lua_counters[FUZZ_LUA_COUNTERS];

static uint32_t fuzz_lua_prev;  /* the previous line: 0 at the start of each input */

static void fuzz_line_hook(lua_State *L, lua_Debug *ar) {
  static const char *last_source;
  static int last_is_lucid;
  if (!lua_getinfo(L, "S", ar)) return;
  if (ar->source != last_source) {
    last_source = ar->source;
    last_is_lucid = strncmp(ar->source, "@[lucid]/", 9) == 0;
  }
  if (!last_is_lucid) return;
  uint32_t here = (uint32_t)((uintptr_t)ar->source >> 4) * 2654435761u + (uint32_t)ar->currentline;
  uint32_t slot = (here ^ (fuzz_lua_prev >> 1)) & (FUZZ_LUA_COUNTERS - 1);
  if (fuzz_lua_counters[slot] < 255) fuzz_lua_counters[slot]++;
  fuzz_lua_prev = here;
}

static void fuzz_lua_coverage(lua_State *L) {
  lua_sethook(L, fuzz_line_hook, LUA_MASKLINE, 0);
}
static void fuzz_lua_coverage_reset(void) { fuzz_lua_prev = 0; }
#else
static void fuzz_lua_coverage(lua_State *L) { (void)L; }
static void fuzz_lua_coverage_reset(void) {}
#endif

/* ---- the state ------------------------------------------------------------------- */

typedef struct fuzz_ctx {
  lua_State *L;
  size_t baseline;       /* live tensor bytes with nothing held */
  unsigned long inputs;
} fuzz_ctx;

static lc_ctx *fuzz_lc(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, LT_STATE_KEY);
  lt_state *s = (lt_state *)lua_touserdata(L, -1);
  lua_pop(L, 1);
  return s ? s->ctx : NULL;
}

static int is_memory_error(int status, const char *msg) {
  return status == LUA_ERRMEM || (msg && strstr(msg, "not enough memory"));
}

/* The state with lucid loaded (global `lucid`) and the driver's function
 * (global FUZZ_RUN); `driver` is Lua source returning that function.
 * Created on the first call. */
static fuzz_ctx *fuzz_setup(const char *name, const char *driver) {
  static fuzz_ctx F;
  if (F.L) return &F;
  /* One OpenBLAS thread is plenty for tiny GEMMs, and keeps two fuzzers on
   * two cores out of each other's way. */
  openblas_set_num_threads(1);
  lua_State *L = lua_newstate(fuzz_alloc, &fuzz_heap_state);
  if (!L) fuzz_die("setup", "lua_newstate failed");
  lua_atpanic(L, fuzz_panic);
  luaL_openlibs(L);
  lucid_preload(L);
  lua_pushcfunction(L, l_fuzz_fail);
  lua_setglobal(L, "fuzz_fail");
  lua_pushcfunction(L, l_known);
  lua_setglobal(L, "known");
  lua_getglobal(L, "require");
  lua_pushliteral(L, "lucid");
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) fuzz_die("require \"lucid\"", lua_tostring(L, -1));
  lua_setglobal(L, "lucid");
  if (luaL_loadbufferx(L, driver, strlen(driver), name, "t") != LUA_OK)
    fuzz_die("driver", lua_tostring(L, -1));
  if (lua_pcall(L, 0, 1, 0) != LUA_OK) fuzz_die("driver", lua_tostring(L, -1));
  if (!lua_isfunction(L, -1)) fuzz_die("driver", "did not return a function");
  lua_setglobal(L, "FUZZ_RUN");
  fuzz_lua_coverage(L);
  lua_gc(L, LUA_GCGEN, 0, 0);
  lua_gc(L, LUA_GCCOLLECT);
  lua_gc(L, LUA_GCCOLLECT);
  F.L = L;
  F.baseline = lc_ctx_live_bytes(fuzz_lc(L));
  return &F;
}

/* What the protected entry gets (as a light userdata at index 1). */
typedef struct fuzz_input {
  lua_CFunction entry;
  const uint8_t *data;
  size_t size;
} fuzz_input;

static int fuzz_protected(lua_State *L) {
  fuzz_input *in = (fuzz_input *)lua_touserdata(L, 1);
  return in->entry(L);
}

/* The default entry: FUZZ_RUN(data). */
static int fuzz_entry_bytes(lua_State *L) {
  fuzz_input *in = (fuzz_input *)lua_touserdata(L, 1);
  lua_settop(L, 0);
  lua_getglobal(L, "FUZZ_RUN");
  lua_pushlstring(L, (const char *)in->data, in->size);
  lua_call(L, 1, 0);
  return 0;
}

static int fuzz_drain(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, LT_STATE_KEY);
  lt_state *s = (lt_state *)lua_touserdata(L, -1);
  lua_pop(L, 1);
  if (s && s->npending) lt_drain_pending(L, s);
  return 0;
}

/* Runs entry (NULL: fuzz_entry_bytes) under lua_pcall on data[size], then
 * the leak check. */
static void fuzz_run(fuzz_ctx *F, lua_CFunction entry, const uint8_t *data, size_t size) {
  lua_State *L = F->L;
  fuzz_input in = {entry ? entry : fuzz_entry_bytes, data, size};
  fuzz_lua_coverage_reset();
  lua_settop(L, 0);
  lua_pushcfunction(L, fuzz_protected);
  lua_pushlightuserdata(L, &in);
  int st = lua_pcall(L, 1, 0, 0);
  if (st != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    if (!is_memory_error(st, msg)) fuzz_die("error escaped the driver", msg);
  }
  lua_settop(L, 0);
  F->inputs++;
  /* A minor collection (the state is generational, as the lua5.4
   * interpreter's is) frees what the input made, unless an automatic one
   * during the input already aged it; a full collection, which must walk the
   * library's whole heap, runs only then. Registry references that freed
   * graphs let go of (the backward function of an autograd.Function, a
   * tensor's hooks) are dropped at the next binding call, and what they
   * held at the collection after that: settle both before counting. */
  lua_gc(L, LUA_GCSTEP, 0);
  size_t live = lc_ctx_live_bytes(fuzz_lc(L));
  for (int round = 0; round < 4 && live != F->baseline; round++) {
    lua_gc(L, LUA_GCCOLLECT);
    live = lc_ctx_live_bytes(fuzz_lc(L));
    if (live == F->baseline) break;
    lua_pushcfunction(L, fuzz_drain);
    if (lua_pcall(L, 0, 0, 0) != LUA_OK) lua_pop(L, 1);
  }
  if (live != F->baseline) {
    char msg[160];
    snprintf(msg, sizeof msg, "%zu bytes of tensor memory alive after the input, %zu before",
             live, F->baseline);
    fuzz_die("tensor memory leaked", msg);
  }
}

#endif

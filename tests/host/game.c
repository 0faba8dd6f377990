/* game.c: a game loop hosting a Lua policy through lucid.h, as a host would:
 * a capped allocator, observations written into host memory that a tensor
 * views, actions read back every frame. It checks that a frame allocates
 * nothing once warm, that the actions equal the same model run the ordinary
 * way from Lua, that an allocation over the cap is a catchable error, and
 * that closing the state returns every byte. Prints frames per second.
 * Usage: test_game [frames]   (run from tests/host, where game_policy.lua is) */
#define _POSIX_C_SOURCE 199309L  /* clock_gettime under -std=c11 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <lualib.h>
#include "compat.h"  /* the binding's: 5.4 names (LUA_OK, ...) on every Lua */

#include "lucid.h"

#include "../check.h"
#include "host_alloc.h"

#define OBS 8
#define ACT 4

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Calls policy[fn](tensor at registry ref) and leaves the result on top. */
static int call_policy(lua_State *L, const char *fn, int ref) {
  lua_getglobal(L, "policy");
  lua_getfield(L, -1, fn);
  lua_remove(L, -2);
  lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
  return lua_pcall(L, 1, 1, 0);
}

int main(int argc, char **argv) {
  int frames = argc > 1 ? atoi(argv[1]) : 300;
  if (frames < 20) frames = 20;
  budget b = {.cap = 64u << 20, .lock = PTHREAD_MUTEX_INITIALIZER};
  lua_State *L = lua_newstate(budget_alloc, &b);
  CHECKF(L != NULL, "no state");
  luaL_openlibs(L);
  lucid_preload(L);  /* the library's Lua files come from inside liblucid.a */
  if (luaL_dofile(L, "game_policy.lua") != LUA_OK) {
    fprintf(stderr, "test_game: %s\n", lua_tostring(L, -1));
    return 1;
  }
  lua_setglobal(L, "policy");
  CHECKF(luaL_dostring(L, "require('lucid').set_grad_enabled(false)") == LUA_OK, "grad off");

  float obs[OBS];
  static float actions[4096][ACT], observed[4096][OBS];
  if (frames > 4096) frames = 4096;
  int64_t shape[2] = {1, OBS};
  lucid_push_view(L, obs, 2, shape);
  int view = luaL_ref(L, LUA_REGISTRYINDEX);

  /* Warm: the buffers exist from frame 10 on. Under LuaJIT its trace
   * compiler also allocates (IR and snapshots, through this allocator) while
   * it records the policy's first hot calls, a one-time cost done within the
   * first few dozen frames; the frames counted start after it. */
  lua_getglobal(L, "jit");
  int warm = lua_istable(L, -1) ? frames / 2 : 10;
  lua_pop(L, 1);
  long warm_allocations = 0;
  double t0 = 0;
  for (int f = 0; f < frames; f++) {
    if (f == warm) {
      warm_allocations = b.allocations;
      t0 = now();
    }
    for (int i = 0; i < OBS; i++) obs[i] = (float)sin(0.1 * f + i);  /* "sensors" */
    memcpy(observed[f], obs, sizeof obs);
    if (call_policy(L, "act", view) != LUA_OK) {
      CHECKF(0, "frame %d: %s", f, lua_tostring(L, -1));
      break;
    }
    int64_t n = 0;
    const float *a = lucid_tensor_f32(L, -1, &n);
    CHECKF(n == ACT, "frame %d: %lld actions", f, (long long)n);
    memcpy(actions[f], a, sizeof actions[f]);
    lua_settop(L, 0);
  }
  double secs = now() - t0;
  long per_frame = b.allocations - warm_allocations;
  CHECKF(per_frame == 0, "%ld allocations in %d warm frames (expected none)", per_frame, frames - warm);

  /* the same model, the ordinary way, on every recorded observation */
  int mismatches = 0;
  for (int f = 0; f < frames; f++) {
    memcpy(obs, observed[f], sizeof obs);
    if (call_policy(L, "reference", view) != LUA_OK) {
      CHECKF(0, "reference %d: %s", f, lua_tostring(L, -1));
      break;
    }
    const float *r = lucid_tensor_f32(L, -1, NULL);
    for (int i = 0; i < ACT; i++) mismatches += r[i] != actions[f][i];
    lua_settop(L, 0);
  }
  CHECKF(mismatches == 0, "%d actions differ from the ordinary forward", mismatches);

  /* over the cap: a catchable error, and the game goes on */
  int st = luaL_loadstring(L, "return require('lucid').zeros(1024, 1024, 64)");  /* 256 MB */
  if (st == LUA_OK) st = lua_pcall(L, 0, 1, 0);
  CHECKF(st == LUA_ERRRUN || st == LUA_ERRMEM, "the huge tensor did not fail (%d)", st);
  CHECKF(st != LUA_OK && strstr(lua_tostring(L, -1), "not enough memory"), "message: %s",
        st != LUA_OK ? lua_tostring(L, -1) : "none");
  lua_settop(L, 0);
  CHECKF(call_policy(L, "act", view) == LUA_OK, "a frame after the failure: %s", lua_tostring(L, -1));
  lua_settop(L, 0);

  lua_rawgeti(L, LUA_REGISTRYINDEX, view);
  lucid_release_view(L, -1);  /* obs may go now */
  lua_settop(L, 0);
  lua_close(L);
  CHECKF(b.live == 0, "%zu bytes still allocated after lua_close", b.live);

  printf("test_game: %d frames, %.0f frames/s, %ld allocations per warm frame, %s\n", frames,
         (frames - warm) / (secs > 0 ? secs : 1e-9), per_frame, g_failures ? "FAILED" : "ok");
  return g_failures ? 1 : 0;
}

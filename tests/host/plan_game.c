/* plan_game.c: a game loop running a compiled model from C, without Lua: 1000
 * agents, their observations written into the plan's own input buffer every
 * frame, actions read from its output. Checks that the actions equal the
 * model run the ordinary way from Lua (bit for bit: the same kernels), that
 * a warm frame allocates nothing (the host's allocator counts), and that two
 * plans of one model run on two threads at once (with 128 KB stacks) give
 * exactly what they give one after the other. Prints frames per second.
 * Usage: test_plan_game [frames]   (run from tests/host, where plan_policy.lua is) */
#define _POSIX_C_SOURCE 199309L  /* clock_gettime under -std=c11 */
#include <math.h>
#include <pthread.h>
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

#define AGENTS 1000
#define OBS 32
#define ACT 8

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Agent a's observations in frame f, different for each (a "world"). */
static void observe(float *obs, int f, int salt) {
  for (int a = 0; a < AGENTS; a++)
    for (int i = 0; i < OBS; i++)
      obs[a * OBS + i] = (float)sin(0.01 * f + 0.37 * a + 0.11 * i + salt);
}

/* policy.compile() -> a new compiled model's plan, kept in the registry. */
static lc_plan *new_plan(lua_State *L, int *ref) {
  lua_getglobal(L, "policy");
  lua_getfield(L, -1, "compile");
  lua_remove(L, -2);
  if (lua_pcall(L, 0, 1, 0) != LUA_OK) {
    CHECKF(0, "policy.compile: %s", lua_tostring(L, -1));
    lua_pop(L, 1);
    return NULL;
  }
  lc_plan *p = lucid_toplan(L, -1);
  CHECKF(p != NULL, "policy.compile returned no plan");
  *ref = luaL_ref(L, LUA_REGISTRYINDEX);
  return p;
}

typedef struct worker {
  lc_plan *plan;
  int salt, frames;
  float *actions;  /* frames x AGENTS x ACT */
  int ok;
} worker;

static void *play(void *arg) {
  worker *w = (worker *)arg;
  float *obs = lucid_plan_input_f32(w->plan, 0, NULL);
  const float *act = lucid_plan_output_f32(w->plan, 0, NULL);
  w->ok = 1;
  for (int f = 0; f < w->frames; f++) {
    observe(obs, f, w->salt);
    if (lucid_plan_run(w->plan, NULL, NULL) != 0) {
      w->ok = 0;
      return NULL;
    }
    memcpy(w->actions + (size_t)f * AGENTS * ACT, act, sizeof(float) * AGENTS * ACT);
  }
  return NULL;
}

int main(int argc, char **argv) {
  int frames = argc > 1 ? atoi(argv[1]) : 200;
  if (frames < 20) frames = 20;
  budget b = {.lock = PTHREAD_MUTEX_INITIALIZER};
  lua_State *L = lua_newstate(budget_alloc, &b);
  luaL_openlibs(L);
  lucid_preload(L);
  if (luaL_dofile(L, "plan_policy.lua") != LUA_OK) {
    fprintf(stderr, "test_plan_game: %s\n", lua_tostring(L, -1));
    return 1;
  }
  lua_setglobal(L, "policy");
  int ref1 = LUA_NOREF, ref2 = LUA_NOREF;
  lc_plan *p1 = new_plan(L, &ref1), *p2 = new_plan(L, &ref2);
  if (!p1 || !p2) return 1;
  int64_t nin = 0, nout = 0;
  float *obs = lucid_plan_input_f32(p1, 0, &nin);
  const float *act = lucid_plan_output_f32(p1, 0, &nout);
  CHECKF(nin == AGENTS * OBS && nout == AGENTS * ACT, "buffers of %lld and %lld values",
        (long long)nin, (long long)nout);

  /* the game loop: no Lua from here on */
  float *actions = malloc(sizeof(float) * (size_t)frames * AGENTS * ACT);
  int warm = 10;
  long warm_allocations = 0;
  double t0 = 0;
  for (int f = 0; f < frames; f++) {
    if (f == warm) {
      warm_allocations = b.allocations;
      t0 = now();
    }
    observe(obs, f, 0);
    if (lucid_plan_run(p1, NULL, NULL) != 0) {
      CHECKF(0, "frame %d: %s", f, lucid_plan_error(p1));
      break;
    }
    memcpy(actions + (size_t)f * AGENTS * ACT, act, sizeof(float) * AGENTS * ACT);
  }
  double secs = now() - t0;
  long per_frame = b.allocations - warm_allocations;
  CHECKF(per_frame == 0, "%ld allocations in %d warm frames (expected none)", per_frame,
        frames - warm);

  /* the same model the ordinary way, from Lua, on a few frames' observations */
  int mismatches = 0;
  for (int f = 0; f < frames; f += frames / 5) {
    observe(obs, f, 0);
    lua_getglobal(L, "policy");
    lua_getfield(L, -1, "reference");
    lua_remove(L, -2);
    lua_rawgeti(L, LUA_REGISTRYINDEX, ref1);
    lua_pushinteger(L, 1);
    if (lua_pcall(L, 2, 1, 0) != LUA_OK) {
      CHECKF(0, "reference: %s", lua_tostring(L, -1));
      break;
    }
    int64_t n = 0;
    const float *r = lucid_tensor_f32(L, -1, &n);
    CHECKF(n == AGENTS * ACT, "reference of %lld values", (long long)n);
    for (int64_t i = 0; i < n; i++) mismatches += r[i] != actions[(size_t)f * AGENTS * ACT + i];
    lua_settop(L, 0);
  }
  CHECKF(mismatches == 0, "%d actions differ from the ordinary forward", mismatches);

  /* two plans, two threads, at once; then one after the other. The threads
   * have 128 KB stacks, as an engine's job threads may: a run needs about
   * 40 KB, and Debian's OpenBLAS puts 60 KB of thread-local storage in
   * every thread's stack area (lucid.h says so) */
  int tf = frames / 4;  /* frames per thread */
  worker par[2], seq[2];
  pthread_t th[2];
  lc_plan *plans[2] = {p1, p2};
  for (int i = 0; i < 2; i++) {
    par[i] = (worker){plans[i], i + 1, tf, malloc(sizeof(float) * (size_t)tf * AGENTS * ACT), 0};
    seq[i] = (worker){plans[i], i + 1, tf, malloc(sizeof(float) * (size_t)tf * AGENTS * ACT), 0};
  }
  pthread_attr_t small;
  pthread_attr_init(&small);
  CHECKF(pthread_attr_setstacksize(&small, 128 * 1024) == 0, "a 128 KB thread stack");
  for (int i = 0; i < 2; i++) {
    int e = pthread_create(&th[i], &small, play, &par[i]);
    CHECKF(e == 0, "thread %d: %s", i + 1, strerror(e));
  }
  pthread_attr_destroy(&small);
  for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
  for (int i = 0; i < 2; i++) play(&seq[i]);
  for (int i = 0; i < 2; i++) {
    CHECKF(par[i].ok && seq[i].ok, "plan %d failed: %s", i + 1, lucid_plan_error(plans[i]));
    CHECKF(!memcmp(par[i].actions, seq[i].actions, sizeof(float) * (size_t)tf * AGENTS * ACT),
          "plan %d on its own thread differs from the same plan run alone", i + 1);
  }
  CHECKF(memcmp(seq[0].actions, seq[1].actions, sizeof(float) * AGENTS * ACT) != 0,
        "two worlds gave the same actions");
  for (int i = 0; i < 2; i++) {
    free(par[i].actions);
    free(seq[i].actions);
  }
  free(actions);

  /* a float64 plan: the float32 accessors give NULL, a run with buffers -1 and why */
  lua_getglobal(L, "policy");
  lua_getfield(L, -1, "compile_f64");
  lua_remove(L, -2);
  if (lua_pcall(L, 0, 1, 0) != LUA_OK) {
    CHECKF(0, "policy.compile_f64: %s", lua_tostring(L, -1));
  } else {
    lc_plan *p64 = lucid_toplan(L, -1);
    float in[2] = {1, 2}, out[3];
    CHECKF(p64 && !lucid_plan_input_f32(p64, 0, NULL) && !lucid_plan_output_f32(p64, 0, NULL),
           "float32 views of a float64 plan");
    CHECKF(p64 && !lucid_plan_input_f32(p64, 1, NULL), "input 1 of a plan with one input");
    CHECKF(p64 && lucid_plan_run(p64, in, NULL) == -1 &&
               strstr(lucid_plan_error(p64), "input 0 is not float32"),
           "a float32 input into a float64 plan: %s", p64 ? lucid_plan_error(p64) : "no plan");
    CHECKF(p64 && lucid_plan_run(p64, NULL, out) == -1 &&
               strstr(lucid_plan_error(p64), "output 0 is not contiguous float32"),
           "a float64 output into floats: %s", p64 ? lucid_plan_error(p64) : "no plan");
    CHECKF(p64 && lucid_plan_run(p64, NULL, NULL) == 0, "a run in place: %s",
           p64 ? lucid_plan_error(p64) : "no plan");
  }
  lua_pop(L, 1);
  luaL_unref(L, LUA_REGISTRYINDEX, ref1);
  luaL_unref(L, LUA_REGISTRYINDEX, ref2);
  lua_close(L);
  CHECKF(b.live == 0, "%zu bytes still allocated after lua_close", b.live);
  printf("test_plan_game: %d agents, %d frames, %.0f frames/s, %ld allocations per warm frame, "
         "2 threads %s\n", AGENTS, frames, (frames - warm) / (secs > 0 ? secs : 1e-9), per_frame,
         g_failures ? "FAILED" : "ok");
  return g_failures ? 1 : 0;
}

/* test_threads.c: independent lua_States on different threads, each
 * training and running its own model at the same time, must get exactly what
 * they get one after another: the library keeps no shared mutable state (the
 * RNG, grad mode and default dtype are per state). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>
#include "compat.h"  /* the binding's: 5.4 names (LUA_OK, ...) on every Lua */

#include "lucid.h"

#define THREADS 4

static const char *script =
    "local lucid = require('lucid')\n"
    "local nn = lucid.nn\n"
    "local seed = ...\n"
    "lucid.manual_seed(seed)\n"
    "if seed % 2 == 0 then lucid.set_default_dtype('float64') end\n"
    "local model = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 1))\n"
    "local x, y = lucid.randn(32, 6), lucid.randn(32, 1)\n"
    "for step = 1, 200 do\n"
    "  local d = model(x) - y\n"
    "  local loss = (d * d):mean()\n"
    "  loss:backward()\n"
    "  lucid.no_grad(function()\n"
    "    for _, p in ipairs(model:parameters()) do p:copy_(p - p.grad * 0.05) end\n"
    "  end)\n"
    "  model:zero_grad()\n"
    "end\n"
    "local out = lucid.no_grad(model, x):sum():item()\n"
    "return string.format('%.17g', out)\n";

typedef struct job {
  int seed;
  char result[64];
  int ok;
} job;

static void *run(void *arg) {
  job *j = (job *)arg;
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  lucid_preload(L);
  j->ok = luaL_loadstring(L, script) == LUA_OK;
  lua_pushinteger(L, j->seed);
  if (j->ok && lua_pcall(L, 1, 1, 0) == LUA_OK)
    snprintf(j->result, sizeof j->result, "%s", lua_tostring(L, -1));
  else {
    snprintf(j->result, sizeof j->result, "error: %.50s", lua_tostring(L, -1));
    j->ok = 0;
  }
  lua_close(L);
  return NULL;
}

int main(void) {
  job seq[THREADS], par[THREADS];
  pthread_t th[THREADS];
  for (int i = 0; i < THREADS; i++) {  /* one after another */
    seq[i].seed = i + 1;
    run(&seq[i]);
  }
  for (int i = 0; i < THREADS; i++) {  /* all at once */
    par[i].seed = i + 1;
    pthread_create(&th[i], NULL, run, &par[i]);
  }
  for (int i = 0; i < THREADS; i++) pthread_join(th[i], NULL);
  int failures = 0;
  for (int i = 0; i < THREADS; i++) {
    if (!seq[i].ok || !par[i].ok || strcmp(seq[i].result, par[i].result) != 0) {
      fprintf(stderr, "test_threads: seed %d: alone %s, in parallel %s\n", i + 1, seq[i].result,
              par[i].result);
      failures++;
    }
  }
  if (strcmp(seq[0].result, seq[1].result) == 0) {
    fprintf(stderr, "test_threads: different seeds gave the same result\n");
    failures++;
  }
  printf("test_threads: %d states on %d threads, %s\n", THREADS, THREADS,
         failures ? "FAILED" : "results identical to sequential runs");
  return failures ? 1 : 0;
}

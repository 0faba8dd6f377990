/* game_loop.c: the frame-time tails of `make bench`. A game loop as a C host
 * runs it: 1000 agents, each frame the host writes 32 observations per agent
 * into one float buffer of its own (a tensor views it, no copy), runs the
 * policy MLP 32-64-64-8 (Tanh) over all agents at once, and reads the 8 action
 * values per agent back (argmax per agent). The Lua state's collector runs
 * normally; the policy's Lua makes some garbage each frame, as a game's does.
 * Every frame is timed on the wall clock (what a player sees: the collector's
 * steps, the scheduler); after 200 warm-up frames, <frames> frames are timed and
 * the median, 99th percentile and maximum printed.
 *
 *   game_loop <game_loop.lua> [frames] [variant ...]
 *     prints "frames <variant> <frames> <p50 s> <p99 s> <max s> <mean s>"
 *
 * Variants are rows of the table below: game_loop.lua's entry that builds the
 * policy, and the function that runs one frame's policy. */
#include "timing.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "lucid.h"

#define AGENTS 1000
#define OBS 32
#define ACT 8
#define WARM 200

typedef struct game {
  lua_State *L;
  float obs[AGENTS * OBS]; /* [agents][OBS], the host's buffer the view reads */
  int view;                /* registry ref of the tensor over obs */
  int policy;              /* registry ref of what the variant's entry returned */
  int chosen[AGENTS];      /* each agent's action this frame */
} game;

/* Runs the Lua function at g->policy; reads the {AGENTS, ACT} result back. */
static int lua_frame(game *g) {
  lua_State *L = g->L;
  lua_rawgeti(L, LUA_REGISTRYINDEX, g->policy);
  if (lua_pcall(L, 0, 1, 0) != 0) return -1;
  int64_t n = 0;
  const float *a = lucid_tensor_f32(L, -1, &n);
  if (n != AGENTS * ACT) {
    lua_pushfstring(L, "the policy returned %d values, expected %d", (int)n, AGENTS * ACT);
    return -1;
  }
  for (int i = 0; i < AGENTS; i++) {
    int best = 0;
    for (int k = 1; k < ACT; k++)
      if (a[i * ACT + k] > a[i * ACT + best]) best = k;
    g->chosen[i] = best;
  }
  lua_pop(L, 1);
  return 0;
}

/* run.lua labels the variants by entry */
typedef struct variant {
  const char *entry;     /* game_loop.lua's policy builder, and the variant's name */
  int (*frame)(game *g); /* one frame's policy, after the observations */
} variant;

static const variant VARIANTS[] = {
    {"lua", lua_frame}, /* the Lua path: the policy function called every frame */
};
#define NVARIANTS (sizeof VARIANTS / sizeof VARIANTS[0])

static float wave[256];

/* The game's "sensors": cheap, different every frame and every agent. */
static void observe(game *g, int frame) {
  for (int i = 0; i < AGENTS * OBS; i++) g->obs[i] = wave[(i * 7 + frame) & 255];
}

static int compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int run(const char *script, const variant *v, int frames) {
  game *g = calloc(1, sizeof *g);
  double *t = malloc((size_t)frames * sizeof *t);
  if (!g || !t) {
    fputs("game_loop: out of memory\n", stderr);
    free(g);
    free(t);
    return 1;
  }
  lua_State *L = g->L = luaL_newstate();
  luaL_openlibs(L);
  lucid_preload(L);
  int status = luaL_dofile(L, script);
  if (status == 0) {
    int64_t shape[2] = {AGENTS, OBS};
    lua_getfield(L, -1, v->entry);
    lucid_push_view(L, g->obs, 2, shape);
    lua_pushvalue(L, -1);
    g->view = luaL_ref(L, LUA_REGISTRYINDEX);
    status = lua_pcall(L, 1, 1, 0);
  }
  if (status == 0) {
    g->policy = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_settop(L, 0);
  }
  double sum = 0;
  for (int f = 0; status == 0 && f < WARM + frames; f++) {
    double t0 = bench_wall_clock();
    observe(g, f);
    status = v->frame(g);
    double dt = bench_wall_clock() - t0;
    if (f >= WARM) {
      t[f - WARM] = dt;
      sum += dt;
    }
  }
  if (status != 0) {
    fprintf(stderr, "game_loop: %s: %s\n", v->entry, lua_tostring(L, -1));
  } else {
    qsort(t, (size_t)frames, sizeof *t, compare);
    printf("frames %s %d %.6e %.6e %.6e %.6e\n", v->entry, frames, t[frames / 2],
           t[(int)(0.99 * frames)], t[frames - 1], sum / frames);
    fflush(stdout);
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, g->view);
  lucid_release_view(L, -1);
  lua_close(L);
  free(g);
  free(t);
  return status != 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fputs("usage: game_loop <game_loop.lua> [frames] [variant ...]\n", stderr);
    return 2;
  }
  int frames = argc > 2 ? atoi(argv[2]) : 10000;
  if (frames < 100) frames = 100;
  for (int i = 0; i < 256; i++) wave[i] = (float)sin(i * 0.0245);
  int failed = 0;
  for (size_t k = 0; k < NVARIANTS; k++) {
    int wanted = argc <= 3;
    for (int a = 3; a < argc; a++) wanted |= strcmp(argv[a], VARIANTS[k].entry) == 0;
    if (wanted) failed |= run(argv[1], &VARIANTS[k], frames);
  }
  return failed;
}

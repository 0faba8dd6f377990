/* game_loop.c: the frame-time tails of `make bench`. A game loop as a C host
 * runs it: 1000 agents, each frame the host writes 32 observations per agent
 * into one float buffer of its own (a tensor views it, no copy), runs the
 * policy MLP 32-64-64-8 (Tanh) over all agents at once, and reads the 8 action
 * values per agent back (argmax per agent). The Lua state's collector runs
 * normally; the policy's Lua makes some garbage each frame, as a game's does.
 * Every frame is timed on the wall clock (what a player sees: the collector's
 * steps, the scheduler) and on the thread's CPU clock (what the frame itself
 * did: a tail there is ours, a tail on the wall clock alone is the machine's);
 * after 200 warm-up frames, <frames> frames are timed and the median, 99th
 * percentile and maximum of each printed.
 *
 *   game_loop <game_loop.lua> [frames] [variant ...]
 *     prints "frames <variant> <frames> <p50 s> <p99 s> <max s> <mean s>
 *             <CPU p50 s> <CPU p99 s> <CPU max s>"
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
  float buffer[AGENTS * OBS]; /* [agents][OBS], the host's own; the view reads it */
  float *obs;                 /* where observe() writes: buffer unless setup says */
  int view;                   /* registry ref of the tensor over buffer */
  int policy;                 /* registry ref of what the variant's entry returned */
  lc_plan *plan;              /* the C plan variant's plan (kept alive by policy) */
  int chosen[AGENTS];         /* each agent's action this frame */
} game;

/* What the game does with the actions a[AGENTS][ACT]: each agent's best. */
static void act(game *g, const float *a) {
  for (int i = 0; i < AGENTS; i++) {
    int best = 0;
    for (int k = 1; k < ACT; k++)
      if (a[i * ACT + k] > a[i * ACT + best]) best = k;
    g->chosen[i] = best;
  }
}

/* Calls the Lua function at g->policy; reads its {AGENTS, ACT} result back. */
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
  act(g, a);
  lua_pop(L, 1);
  return 0;
}

/* A variant: game_loop.lua's entry that builds its policy (also its name, which
 * run.lua labels), an optional setup run once on what the entry returned (at
 * g->policy, e.g. to take a C handle from it, or to point g->obs elsewhere),
 * and the frame function. Another way of running the policy is one more row. */
typedef struct variant {
  const char *entry;
  int (*setup)(game *g); /* 0, or -1 with a message on the Lua stack */
  int (*frame)(game *g); /* one frame's policy, after the observations */
} variant;

/* Takes the plan from the compiled model game_loop.lua's entry returned, keeps
 * it in place of the model, and has observe() write into the plan's input. */
static int plan_setup(game *g) {
  lua_State *L = g->L;
  lua_rawgeti(L, LUA_REGISTRYINDEX, g->policy);
  lua_getfield(L, -1, "plan");
  lua_insert(L, -2);
  if (lua_pcall(L, 1, 1, 0) != 0) return -1; /* fast:plan() */
  g->plan = lucid_toplan(L, -1);
  int64_t n = 0;
  g->obs = g->plan ? lucid_plan_input_f32(g->plan, 0, &n) : NULL;
  if (!g->obs || n != AGENTS * OBS) {
    lua_pushstring(L, "fast:plan() gave no plan with a float32 input of 1000 x 32");
    return -1;
  }
  luaL_unref(L, LUA_REGISTRYINDEX, g->policy);
  g->policy = luaL_ref(L, LUA_REGISTRYINDEX); /* keeps the plan alive */
  return 0;
}

/* Runs the plan from C: no Lua stack, no collector. */
static int plan_frame(game *g) {
  if (lucid_plan_run(g->plan, NULL, NULL) != 0) {
    lua_pushstring(g->L, lucid_plan_error(g->plan));
    return -1;
  }
  int64_t n = 0;
  const float *a = lucid_plan_output_f32(g->plan, 0, &n);
  if (!a || n != AGENTS * ACT) {
    lua_pushfstring(g->L, "the plan's output has %d values, expected %d", (int)n, AGENTS * ACT);
    return -1;
  }
  act(g, a);
  return 0;
}

static const variant VARIANTS[] = {
    {"lua", NULL, lua_frame},      /* the Lua path: the policy function called every frame */
    {"compiled", NULL, lua_frame}, /* the same with the compiled model */
    {"cplan", plan_setup, plan_frame}, /* the compiled model's plan run from C */
};
#define NVARIANTS (sizeof VARIANTS / sizeof VARIANTS[0])

static float wave[256];

/* The game's "sensors": cheap, different every frame and every agent. */
static void observe(game *g, int frame) {
  float *obs = g->obs;
  for (int i = 0; i < AGENTS * OBS; i++) obs[i] = wave[(i * 7 + frame) & 255];
}

static int compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int run(const char *script, const variant *v, int frames) {
  game *g = calloc(1, sizeof *g);
  double *t = malloc(2 * (size_t)frames * sizeof *t);
  if (!g || !t) {
    fputs("game_loop: out of memory\n", stderr);
    free(g);
    free(t);
    return 1;
  }
  double *cpu = t + frames;
  g->obs = g->buffer;
  lua_State *L = g->L = luaL_newstate();
  luaL_openlibs(L);
  lucid_preload(L);
  int status = luaL_dofile(L, script);
  if (status == 0) {
    int64_t shape[2] = {AGENTS, OBS};
    lua_getfield(L, -1, v->entry);
    lucid_push_view(L, g->buffer, 2, shape);
    lua_pushvalue(L, -1);
    g->view = luaL_ref(L, LUA_REGISTRYINDEX);
    status = lua_pcall(L, 1, 1, 0);
  }
  if (status == 0) {
    g->policy = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_settop(L, 0);
    if (v->setup) status = v->setup(g);
  }
  double sum = 0;
  for (int f = 0; status == 0 && f < WARM + frames; f++) {
    double t0 = bench_wall_clock(), c0 = bench_thread_clock();
    observe(g, f);
    status = v->frame(g);
    double dt = bench_wall_clock() - t0, dc = bench_thread_clock() - c0;
    if (f >= WARM) {
      t[f - WARM] = dt;
      cpu[f - WARM] = dc;
      sum += dt;
    }
  }
  if (status != 0) {
    fprintf(stderr, "game_loop: %s: %s\n", v->entry, lua_tostring(L, -1));
  } else {
    qsort(t, (size_t)frames, sizeof *t, compare);
    qsort(cpu, (size_t)frames, sizeof *cpu, compare);
    int p99 = (int)(0.99 * frames);
    printf("frames %s %d %.6e %.6e %.6e %.6e %.6e %.6e %.6e\n", v->entry, frames, t[frames / 2],
           t[p99], t[frames - 1], sum / frames, cpu[frames / 2], cpu[p99], cpu[frames - 1]);
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

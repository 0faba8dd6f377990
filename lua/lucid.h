/*
 * lucid.h: Lucid inside a C or C++ host (a game, an app) that runs Lua 5.4.
 *
 * A host opens the library into its own lua_State, hands the model its
 * inputs without copying them, and reads the outputs back. Everything the
 * library allocates comes from that state's allocator (lua_getallocf), so a
 * host that caps Lua's memory caps tensors too: an allocation over the cap
 * raises a Lua "not enough memory" error the host catches with lua_pcall, and
 * the state stays usable. The library never prints, exits or aborts, and
 * keeps no global state: independent lua_States may run on different threads
 * at the same time (OpenBLAS's own threads are left alone unless a script
 * calls lucid.set_num_threads).
 *
 * Linking: `cc host.c $(pkg-config --cflags --libs lucid lua5.4)` after
 * `make install`. The static library holds the Lua half of the library too
 * (lucid_preload), so the host needs no .lua files on disk.
 *
 * Who frees what: tensors belong to the Lua state; the host never frees one.
 * A view made with lucid_push_view reads and writes the host's memory
 * directly. That memory must stay valid until the host calls
 * lucid_release_view on the view, which copies the values into memory the
 * library owns if Lua (or a graph) still holds the tensor; after that the
 * host may free or reuse its buffer. Pointers from lucid_tensor_f32 are valid
 * until the tensor is collected or changed; copy out what must last.
 *
 * A frame loop, the whole of it:
 *
 *     lua_State *L = luaL_newstate();            // or lua_newstate(my_capped_alloc, ud)
 *     luaL_openlibs(L);
 *     lucid_preload(L);                          // require "lucid" now works
 *     luaL_dostring(L, "policy = dofile('policy.lua')");   // defines policy.act(obs)
 *     float obs[4];                              // the host's own buffer
 *     int64_t shape[2] = {1, 4};
 *     lucid_push_view(L, obs, 2, shape);         // a tensor over obs, no copy
 *     int view = luaL_ref(L, LUA_REGISTRYINDEX); // made once, reused every frame
 *     for (;;) {
 *       read_sensors(obs);                        // write straight into the view
 *       lua_getglobal(L, "policy");
 *       lua_getfield(L, -1, "act");
 *       lua_rawgeti(L, LUA_REGISTRYINDEX, view);
 *       if (lua_pcall(L, 1, 1, 0) != LUA_OK) {    // errors are Lua errors
 *         log_error(lua_tostring(L, -1));
 *       } else {
 *         int64_t n;
 *         const float *act = lucid_tensor_f32(L, -1, &n);  // contiguous float32
 *         apply_actions(act, n);
 *       }
 *       lua_settop(L, 0);
 *     }
 *     lua_rawgeti(L, LUA_REGISTRYINDEX, view);
 *     lucid_release_view(L, -1);                 // before obs goes away
 *     lua_close(L);                              // frees every tensor
 *
 * With `model:reuse_buffers()` and gradient recording off
 * (`lucid.set_grad_enabled(false)`), such a loop allocates nothing per frame.
 */
#ifndef LUCID_H
#define LUCID_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {  /* Lua's C headers, as lua.hpp does, then ours */
#endif

#include <lua.h>

#include "lc.h"

/* The C module "lucid.core" (what require "lucid.core" loads). */
int luaopen_lucid_core(lua_State *L);

/* Registers "lucid.core" and every Lua module of the library (embedded in
 * the library) in package.preload, so require "lucid", "lucid.nn", ... work
 * without files. Needs package (luaL_openlibs or luaopen_package). */
void lucid_preload(lua_State *L);

/* lucid_preload, then require "lucid": pushes the package table. For
 * luaL_requiref(L, "lucid", luaopen_lucid, 0) or a host's own loader. */
int luaopen_lucid(lua_State *L);

/* Pushes a tensor over the host's data: float32 (f32) or float64 (f64),
 * contiguous row-major, shape[ndim]. No copy; see the lifetime rule above.
 * Raises a Lua error on a bad shape or out of memory. The library does not
 * see the host's own writes: a backward after the host changed values that
 * the graph used (a layer's input) computes with the new ones, so write the
 * next frame's observations after the backward, as a game loop does. */
void lucid_push_view(lua_State *L, float *data, int ndim, const int64_t *shape);
void lucid_push_view_f64(lua_State *L, double *data, int ndim, const int64_t *shape);
/* The same in any dtype of lc.h (LC_INT64 token ids, LC_BOOL masks: one byte
 * each, 0 or 1, ...). */
void lucid_push_view_dtype(lua_State *L, lc_dtype dtype, void *data, int ndim,
                           const int64_t *shape);

/* The host's memory behind the view at idx is going away: the tensor keeps
 * its values in library memory from now on. Safe on any tensor. */
void lucid_release_view(lua_State *L, int idx);

/* The tensor at idx, or a Lua error naming the argument (check), or NULL
 * (test). The core API in lc.h applies to it; do not release it. */
lc_tensor *lucid_check_tensor(lua_State *L, int idx);
lc_tensor *lucid_test_tensor(lua_State *L, int idx);

/* A pointer to the contiguous values of the tensor at idx (float32 or
 * float64), with their count in *numel; a Lua error if the tensor has
 * another dtype or is not contiguous (call :contiguous() in Lua first). */
const float *lucid_tensor_f32(lua_State *L, int idx, int64_t *numel);
const double *lucid_tensor_f64(lua_State *L, int idx, int64_t *numel);
/* The same for any dtype: (const int64_t *)lucid_tensor_data(L, -1, LC_INT64, &n). */
const void *lucid_tensor_data(lua_State *L, int idx, lc_dtype dtype, int64_t *numel);

/* ---- compiled plans: a model run from C without Lua ----------------------
 * In Lua, `fast = model:compile(x)` traces the model once for inputs shaped
 * like x, and `fast:plan()` returns the plan (a "lucid.Plan" userdata). The
 * host takes it once, keeps it referenced (luaL_ref) and from then on runs
 * it from C: no Lua stack, no garbage, no allocation per run (lc_plan.h).
 * A plan may run on another thread than Lua's, one thread at a time per
 * plan, while nothing writes the model's parameters (compile one plan per
 * thread to run several at once: they share the parameters, read-only).
 * Change parameters through lucid's own calls (an optimizer, copy_), not
 * through a C pointer: a plan keeps weights packed for its GEMMs and packs
 * them again when their version moves, which only those calls move.
 * A run uses about 40 KB of the calling thread's stack (the GEMM packs
 * panels there rather than allocate), and Debian's OpenBLAS keeps 60 KB of
 * thread-local storage in every thread's stack area: a thread made with a
 * stack size of 128 KB is enough (test_plan_game's are).
 *
 *     lua_getglobal(L, "fast");                      // fast = model:compile(obs)
 *     lua_getfield(L, -1, "plan");
 *     lua_insert(L, -2);
 *     lua_call(L, 1, 1);                             // fast:plan()
 *     lc_plan *plan = lucid_toplan(L, -1);
 *     int ref = luaL_ref(L, LUA_REGISTRYINDEX);      // keeps it alive
 *     float *obs = lucid_plan_input_f32(plan, 0, NULL);  // (agents, 32), the plan's own
 *     const float *act = lucid_plan_output_f32(plan, 0, NULL);
 *     for (;;) {                                     // any thread, no Lua
 *       write_observations(obs);
 *       if (lucid_plan_run(plan, NULL, NULL) != 0) log_error(lucid_plan_error(plan));
 *       apply_actions(act);
 *     }
 *     luaL_unref(L, LUA_REGISTRYINDEX, ref);         // the plan goes with the GC
 */
/* The plan of the "lucid.Plan" userdata at idx, or NULL. */
lc_plan *lucid_toplan(lua_State *L, int idx);
/* The plan's input / output i (0-based) as contiguous float32 values, their
 * count in *n (n may be NULL); NULL for another dtype. Valid as long as the
 * plan: a run reads the inputs and writes the outputs in place. */
float *lucid_plan_input_f32(lc_plan *p, int i, int64_t *n);
const float *lucid_plan_output_f32(lc_plan *p, int i, int64_t *n);
/* Copies in (the count of input 0's elements) into input 0 unless NULL,
 * runs, and copies output 0 to out unless NULL: 0, or -1 with
 * lucid_plan_error's reason. */
int lucid_plan_run(lc_plan *p, const float *in, float *out);
const char *lucid_plan_error(const lc_plan *p);

#ifdef __cplusplus
}
#endif
#endif

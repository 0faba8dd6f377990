/* binding.h: what the two halves of the Lua binding share.
 *
 * A tensor in Lua is a full userdata "lucid.Tensor" holding one strong
 * reference to a core tensor (lt_box). The box is created, with its
 * metatable, before the core tensor it will hold, so a Lua error at any
 * point (out of memory included) leaves nothing unowned: __gc tolerates an
 * empty box. Every binding function has the state's lt_state as upvalue 1. */
#ifndef LUCID_BINDING_H
#define LUCID_BINDING_H

#include <lauxlib.h>
#include <lua.h>

#include "../core/lc.h"

#define LT_TENSOR "lucid.Tensor"
#define LT_STATE_KEY "lucid.state"   /* registry: the lt_state userdata */

typedef struct lt_box {
  lc_tensor *t;     /* NULL until filled, and after __close */
  int is_param;     /* made by nn.Parameter: modules register it */
} lt_box;

typedef struct lt_state {
  lc_ctx *ctx;
  size_t gc_threshold;  /* live tensor bytes that trigger a full collection */
  lua_State *active;    /* the thread running a backward, for hooks and Lua ops */
  lua_Alloc alloc;      /* the state's allocator, for the lists below */
  void *alloc_ud;
  /* Things to forget in the registry, queued by core callbacks that cannot
   * touch Lua (they may run in the middle of a core call) and drained at the
   * next binding call: ids of freed tensors that had hooks, references to
   * the backward functions of freed Lua ops. */
  lua_Integer *pending;
  size_t npending, cap_pending;
} lt_state;

#define LT_CTX(L) (((lt_state *)lua_touserdata((L), lua_upvalueindex(1)))->ctx)

/* lucid_core.c */
lc_tensor *lt_check(lua_State *L, int idx);             /* a live tensor or an error */
lc_tensor *lt_test(lua_State *L, int idx);              /* NULL if not a tensor */
lc_tensor **lt_newbox(lua_State *L);                    /* pushes an empty tensor */
int lt_fail(lua_State *L, lc_ctx *ctx, const char *fname);  /* raises ctx's error */
/* luaL_error's twin, and the only way the library raises: the position is
 * the first frame outside the library (the user's line), not the library
 * line that called into C. */
int lt_error(lua_State *L, const char *fmt, ...);
/* Puts r (a new reference, or NULL on failure) into the box at slot. */
int lt_fill(lua_State *L, lc_ctx *ctx, lc_tensor **slot, lc_tensor *r, const char *fname);
/* return lt_push(L, ctx, lc_op(ctx, ...), fname): pushes the result of a core
 * call, or raises its error. The comma sequences the box before the call,
 * so a failure to allocate the box can never leak the call's result (C
 * leaves the order of function arguments unspecified).
 *
 * When the call fails for want of memory, lt_try_top runs a full collection
 * (whose finalizers return the memory of unreachable tensors: a loop making
 * large temporaries under a host's cap would otherwise fail although its
 * garbage would fit) and the call is made once more; core calls have no
 * effect when they fail, so repeating one is safe. */
#define lt_push(L, ctx, call, fname)                                     \
  ((void)lt_newbox(L), lt_try_top((L), (ctx), (call), (fname)) ||        \
                           lt_fill_top((L), (ctx), (call), (fname)))
int lt_fill_top(lua_State *L, lc_ctx *ctx, lc_tensor *r, const char *fname);
int lt_try_top(lua_State *L, lc_ctx *ctx, lc_tensor *r, const char *fname);
/* Tensor at idx, or a number there as a 0-d tensor of `like`'s dtype pushed
 * on the stack (the stack owns it). */
lc_tensor *lt_operand(lua_State *L, lc_ctx *ctx, int idx, const lc_tensor *like, const char *fname);
/* 1-based (negative from the end) dim at idx -> 0-based; errors name fname. */
int lt_dim(lua_State *L, int idx, int ndim, const char *fname);
/* An integer argument (integral floats accepted); errors name `what`. */
lua_Integer lt_integer(lua_State *L, int idx, const char *what, const char *fname);
/* Refuses an in-place change of a tensor that requires grad while recording. */
void lt_check_inplace(lua_State *L, const lc_tensor *t, const char *fname);
/* A shape as varargs from idx or one table at idx; returns ndim. Stops at
 * the first non-number when varargs. */
int lt_shape(lua_State *L, int idx, int64_t *shape, const char *fname, int *next);
/* Sets each function of l into the table at absolute index `table`, with
 * the state userdata at `state` as its upvalue. */
void lt_setfuncs(lua_State *L, int table, int state, const luaL_Reg *l);
/* t:op(sizes...) or t:op({sizes}): reads the sizes after the tensor at 1 and
 * pushes f's result; errors name fname and call the sizes `what`. */
typedef lc_tensor *(*lt_sizes_fn)(lc_ctx *, lc_tensor *, int, const int64_t *);
int lt_sizes_op(lua_State *L, lt_sizes_fn f, const char *what, const char *fname);
/* lucid_ops.c: binds every op into the module and the methods table. */
void lt_register_ops(lua_State *L, int state, int methods, int module);
/* lucid_autograd.c: hooks, retain_grad, autograd.grad, Lua-written ops. */
void lt_register_autograd(lua_State *L, int state, int methods, int module);
void lt_autograd_init(lt_state *s);               /* installs the core callbacks */
void lt_drain_pending(lua_State *L, lt_state *s); /* forgets what core queued */
void lt_state_free_lists(lt_state *s);
/* lucid_elementwise.c, lucid_reduce.c, lucid_shape.c: one op family each. */
void lt_register_elementwise(lua_State *L, int state, int methods, int module);
void lt_register_reduce(lua_State *L, int state, int methods, int module);
void lt_register_shape(lua_State *L, int state, int methods, int module);

#endif

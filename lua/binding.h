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

#include "compat.h"

#include "../core/lc.h"

#define LT_TENSOR "lucid.Tensor"
#define LT_STATE_KEY "lucid.state"   /* registry: the lt_state userdata */

typedef struct lt_box {
  lc_tensor *t;     /* NULL until filled, and after __close */
  int is_param;     /* made by nn.Parameter: modules register it */
} lt_box;

/* The tensor in the box on top of the stack (just pushed by lt_push). */
static inline lc_tensor *lt_top(lua_State *L) { return ((lt_box *)lua_touserdata(L, -1))->t; }

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
extern const char lt_tensor_tag;                        /* see lt_tobox */
lc_tensor *lt_test(lua_State *L, int idx);              /* NULL if not a tensor */
lt_box *lt_tobox(lua_State *L, int idx);                /* NULL if no tensor box */
/* A live tensor or an error that names fname ("fname: bad argument #1 (...)"). */
lc_tensor *lt_tensor_arg(lua_State *L, int idx, const char *fname);
lc_tensor **lt_newbox(lua_State *L);                    /* pushes an empty tensor */
int lt_fail(lua_State *L, lc_ctx *ctx, const char *fname);  /* raises ctx's error */
/* luaL_error's twin, and the only way the library raises: the position is
 * the first frame outside the library (the user's line), not the library
 * line that called into C. The format is C's printf (Lua before 5.3 has no
 * %I for lua_Integer: pass (long long) with %lld). */
int lt_error(lua_State *L, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 2, 3)))
#endif
    ;
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
/* A tensor argument, or a number made a tensor: of like's dtype when like
 * is given, else a 0-d tensor marked is_number (int64 for whole numbers,
 * float64 for fractions, bool for booleans) that the core promotes as
 * PyTorch promotes a Python number. */
lc_tensor *lt_operand(lua_State *L, lc_ctx *ctx, int idx, const lc_tensor *like, const char *fname);
/* The element at idx as a Lua value: a boolean for bool, an integer for the
 * integer dtypes (a float on Lua 5.1 and 5.2), else a number. */
void lt_push_element(lua_State *L, const lc_tensor *t, const int64_t *idx);
/* Sets the element at idx from the Lua value at i (a number, exact for Lua
 * integers, or a boolean); 0 when it is neither. */
int lt_set_element(lua_State *L, lc_tensor *t, const int64_t *idx, int i);
/* Only float tensors take part in autograd: an error naming fname otherwise. */
void lt_check_grad_dtype(lua_State *L, const lc_tensor *t, const char *fname);
/* 1-based (negative from the end) dim at idx -> 0-based; errors name fname. */
int lt_dim(lua_State *L, int idx, int ndim, const char *fname);
/* The same for a dim already read as an integer. */
int lt_wrap_dim(lua_State *L, lua_Integer d, int ndim, const char *fname);
/* An integer argument (integral floats accepted); errors name `what`. */
lua_Integer lt_integer(lua_State *L, int idx, const char *what, const char *fname);
/* Refuses an in-place change of a tensor that requires grad while recording. */
void lt_check_inplace(lua_State *L, const lc_tensor *t, const char *fname);
/* The tensor in the box at ti changed in place to r (its out-of-place
 * result): the box takes lc_rebase_'s header, which carries r's graph. */
void lt_rebase(lua_State *L, lc_ctx *ctx, int ti, lc_tensor *r, const char *fname);
/* Whether changing t in place (with other, or NULL) is part of the graph:
 * recording, and t or other requires grad. */
int lt_inplace_recorded(lua_State *L, const lc_tensor *t, const lc_tensor *other);
/* For updates that record no graph (addcmul_, lerp_, ...): an operand that
 * requires grad, while recording, is an error (its gradient would be lost). */
void lt_check_inplace_operand(lua_State *L, const lc_tensor *o, const char *fname);
/* The tensor at 1 becomes the result on top of the stack (computed out of
 * place, recorded): converted to its dtype (refusing a float result for an
 * integer tensor, as PyTorch), then lt_rebase. */
void lt_become(lua_State *L, lc_ctx *ctx, const char *fname);
/* Pushes ix + 1: the core counts indices from 0, Lua from 1 (an integer ix
 * keeps its dtype, bool becomes int64); returns 1. */
int lt_push_one_based(lua_State *L, lc_ctx *ctx, lc_tensor *ix, const char *fname);
/* A shape as varargs from idx or one table at idx; returns ndim. Stops at
 * the first non-number when varargs. */
int lt_shape(lua_State *L, int idx, int64_t *shape, const char *fname, int *next);
/* t:op(sizes...) or t:op({sizes}): reads the sizes after the tensor at 1 and
 * pushes f's result; errors name the running function and call the sizes
 * `what`. */
typedef lc_tensor *(*lt_sizes_fn)(lc_ctx *, lc_tensor *, int, const int64_t *);
int lt_sizes_op(lua_State *L, lt_sizes_fn f, const char *what);
/* The inclusive 1-based range first..last of a dimension of size n, read as
 * string.sub reads positions (negative from the end, clamped, empty when
 * first comes after last), as 0-based [start, stop). t:slice and t[{...}]. */
void lt_range(lua_Integer first, lua_Integer last, int64_t n, int64_t *start, int64_t *stop);
/* A dtype name ("float32", "float64", or "float", "double") at idx. */
lc_dtype lt_dtype(lua_State *L, int idx, const char *fname);
/* A size at idx: an integer, or a float with an integer value. */
int64_t lt_size(lua_State *L, int idx, const char *fname);
/* Pushes a number of memory the core made into the GC's accounts (and
 * drains what core callbacks queued); lt_fill does it for every result. */
void lt_report_bytes(lua_State *L, lc_ctx *ctx);
/* After a core call that returned a failure status: when it failed for want
 * of memory, runs a full collection and returns 1 (make the call once
 * more); otherwise raises its error. lt_do is lt_push's twin for the core
 * calls that return a status (in-place ops, several results). */
int lt_retry(lua_State *L, lc_ctx *ctx, const char *fname);
#define lt_do(L, ctx, call, fname)                                                \
  ((void)((call) == LC_OK || (lt_retry((L), (ctx), (fname)) && (call) == LC_OK) || \
          lt_fail((L), (ctx), (fname))))

/* ---- arguments: lucid_args.c (the schema format is described there) ---------- */
typedef enum lt_kind {
  LT_K_ANY,      /* any value, tables too: the function reads it at v.idx */
  LT_K_OPERAND,  /* a tensor or a number (read with lt_operand at v.idx) */
  LT_K_TENSOR, /* v.t */
  LT_K_NUMBER,   /* v.n */
  LT_K_INTEGER,  /* v.i; integral floats accepted */
  LT_K_DIM,      /* v.i: 0-based for the ndim given to lt_args (1-based if ndim < 0); -1 absent */
  LT_K_DIM_0D,   /* LT_K_DIM, but a 0-d tensor takes 1 or -1 (PyTorch's reductions) */
  LT_K_BOOL,     /* v.b */
  LT_K_DTYPE,    /* v.i, an lc_dtype; the state's default when absent */
  LT_K_STRING,   /* v.s */
  LT_K_SHAPE     /* sizes as varargs or one table: lt_shape_arg reads them */
} lt_kind;

#define LT_REQ 1u  /* required */
#define LT_KW  2u  /* by name only (PyTorch's keyword-only arguments) */
#define LT_POS 4u  /* positionally only: no option name */

typedef struct lt_arg {
  const char *name;
  unsigned char kind, flags;
  double dflt;       /* default of a number, integer or boolean */
  const char *what;  /* the expected type in messages, when the kind's words do not fit */
} lt_arg;

/* One parsed argument. Absent: idx 0 and the row's default in n, i, b.
 * A number, integer, dim, boolean, dtype or string given by name is read
 * from the options table at once: its idx is then only "present" (nonzero),
 * not the value's index; the other kinds keep the value at idx. */
typedef struct lt_val {
  int idx;          /* stack index of the value, 0 when absent or nil */
  int named;        /* given in the options table (2: and converted already) */
  int count;        /* LT_K_SHAPE: how many varargs sizes, -1 for a table */
  lua_Number n;
  lua_Integer i;
  int b;
  lc_tensor *t;
  const char *s;
} lt_val;

#define LT_MODULE 1u  /* lucid.name */
#define LT_METHOD 2u  /* t:name() */
#define LT_META   4u  /* the tensor metatable's name (an operator) */
#define LT_BOTH (LT_MODULE | LT_METHOD)

/* A registration row: {lua name, the name errors use, C function, schema, where}. */
typedef struct lt_reg {
  const char *name, *fname;
  lua_CFunction func;
  const lt_arg *args;  /* NULL: no arguments beyond the ones it reads itself */
  unsigned where;
} lt_reg;
#define LT_ROW(name, func, args, where) {#name, "lucid." #name, (func), (args), (where)}

/* Binds each row into module, methods and the tensor metatable as `where`
 * says, with upvalues the state (at `state`) and the row, and keeps the
 * table for module._options. Rows end with {NULL}. */
void lt_register(lua_State *L, int state, int methods, int module, const lt_reg *rows);
/* Gives the module a lazily made _options (function name -> option names). */
void lt_lazy_options(lua_State *L, int module);
/* The row of the running function (upvalue 2). */
const lt_reg *lt_fn(lua_State *L);
/* Parses the arguments from stack index `first` on against the running
 * function's schema into v (one lt_val per row), or raises; dims convert
 * for a tensor of ndim dims. Returns the function's name for messages. */
const char *lt_args(lua_State *L, int first, int ndim, lt_val *v);
/* The sizes of an LT_K_SHAPE argument into shape; returns how many. */
int lt_shape_arg(lua_State *L, const lt_val *v, int64_t *shape, const char *fname);

/* lucid.op(t) and t:op() for a core op of one tensor; lucid.op(a, b) for
 * one of two operands, either of which may be a number (taking the other's
 * dtype). Both check there is nothing more, and push the result. */
typedef lc_tensor *(*lt_unary_fn)(lc_ctx *, lc_tensor *);
typedef lc_tensor *(*lt_binary_fn)(lc_ctx *, lc_tensor *, lc_tensor *);
int lt_unary(lua_State *L, lt_unary_fn f);
int lt_binary(lua_State *L, lt_binary_fn f);

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
/* lucid_linalg.c: the table module.linalg (torch.linalg's decompositions and solvers). */
void lt_register_linalg(lua_State *L, int state, int methods, int module);
void lt_register_attention(lua_State *L, int state, int methods, int module);
/* lucid_pool.c: lucid.core._pool2d, _unpool2d, _interp, _batch_norm (lucid.nn). */
void lt_register_pool(lua_State *L, int state, int methods, int module);
/* lucid_conv.c: the private lucid.core._conv2d, _conv_transpose2d, _unfold, _fold. */
void lt_register_conv(lua_State *L, int state, int methods, int module);
/* lucid_loss.c: module._ctc_loss (core/loss.c), for lucid.nn.functional.ctc_loss. */
void lt_register_loss(lua_State *L, int state, int methods, int module);
/* lucid_rnn.c: the recurrent ops (lucid.lstm, lucid.gru_cell, ...). */
void lt_register_rnn(lua_State *L, int state, int methods, int module);
/* lucid_bytes.c: safetensors' byte work (header length, dtype conversion). */
void lt_register_bytes(lua_State *L, int state, int methods, int module);
void lt_register_plan(lua_State *L, int state, int methods, int module);

/* A compiled plan in Lua (lucid_plan.c), which C hosts run (lucid_host.c). */
#define LT_PLAN "lucid.Plan"
typedef struct lt_plan {
  lc_plan *p;  /* NULL until made, and after __gc */
} lt_plan;

#endif

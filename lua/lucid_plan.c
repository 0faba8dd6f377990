/* lucid_plan.c: compiled plans for Lua (lua/lucid/compile.lua builds on
 * these) and for C hosts (lucid.h's lucid_plan_* functions).
 *
 *   core._trace_begin()               every op from now on is recorded
 *   core._trace_abort()               the traced forward failed
 *   core._trace_end(ins, outs)        -> a plan (userdata "lucid.Plan") computing
 *                                        the tensors outs[i] from ins[i]
 *   core._plan_run(plan, x1, ..., xn) -> true after copying each xi into the
 *                                        plan's input i (skipped when xi is
 *                                        that input) and running; false, doing
 *                                        nothing, when an xi's shape or dtype
 *                                        differs (the caller traces again)
 *   core._plan_record(plan, x1, ..., xn) -> as _plan_run, then a new tensor
 *                                        with output 1's values and one node
 *                                        for the whole plan; nil on a mismatch
 *   core._plan_input(plan, i), core._plan_output(plan, i) -> the buffers
 *   core._plan_steps(plan)            -> the steps' op names, in order
 */
#include <string.h>

#include "binding.h"

static int plan_gc(lua_State *L) {
  lt_plan *b = (lt_plan *)luaL_checkudata(L, 1, LT_PLAN);
  lc_plan_free(b->p);
  b->p = NULL;
  return 0;
}

static lc_plan *check_plan(lua_State *L, int idx, const char *fname) {
  lt_plan *b = (lt_plan *)luaL_testudata(L, idx, LT_PLAN);
  if (b && b->p) return b->p;
  lt_error(L, "%s: bad argument #%d (expected a plan)", fname, idx);
  return NULL;
}

static int l_trace_begin(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  if (lc_trace_begin(ctx) != LC_OK) return lt_fail(L, ctx, lt_fn(L)->fname);
  return 0;
}

static int l_trace_abort(lua_State *L) {
  lc_trace_abort(LT_CTX(L));
  return 0;
}

/* The tensors of the table at idx, into a stack-owned array of n. */
static lc_tensor **tensor_list(lua_State *L, int idx, int *n, const char *fname,
                               const char *what) {
  luaL_checktype(L, idx, LUA_TTABLE);
  *n = (int)lua_rawlen(L, idx);
  lc_tensor **ts = (lc_tensor **)lua_newuserdatauv(L, sizeof *ts * (size_t)(*n ? *n : 1), 0);
  for (int i = 0; i < *n; i++) {
    lua_rawgeti(L, idx, i + 1);
    if (!(ts[i] = lt_test(L, -1))) {
      lt_error(L, "%s: %s %d is not a tensor", fname, what, i + 1);
      return NULL;
    }
    lua_pop(L, 1);
  }
  return ts;
}

static int l_trace_end(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  const char *fname = lt_fn(L)->fname;
  int nin, nout;
  lt_plan *b = (lt_plan *)lua_newuserdatauv(L, sizeof *b, 0);  /* first: nothing leaks */
  b->p = NULL;
  luaL_setmetatable(L, LT_PLAN);
  lc_tensor **in = tensor_list(L, 1, &nin, fname, "input");
  lc_tensor **out = tensor_list(L, 2, &nout, fname, "output");
  if (!(b->p = lc_trace_end(ctx, nin, in, nout, out))) return lt_fail(L, ctx, fname);
  lua_pop(L, 2);
  return 1;
}

/* Copies the arguments from index 2 on into the plan's inputs and runs it:
 * 0, doing nothing, when an argument's shape or dtype differs. */
static int load_and_run(lua_State *L, lc_plan *p, const char *fname) {
  lc_ctx *ctx = LT_CTX(L);
  int n = lc_plan_ninputs(p);
  for (int i = 0; i < n; i++) {  /* check all before writing any */
    lc_tensor *x = lt_tensor_arg(L, i + 2, fname), *in = lc_plan_input(p, i);
    int same = x->dtype == in->dtype && x->ndim == in->ndim;
    for (int d = 0; same && d < x->ndim; d++) same = x->shape[d] == in->shape[d];
    if (!same) return 0;
  }
  for (int i = 0; i < n; i++) {
    lc_tensor *x = lt_check(L, i + 2), *in = lc_plan_input(p, i);
    if (x != in && lc_copy_(ctx, in, x) != LC_OK) return lt_fail(L, ctx, fname);
  }
  if (lc_plan_run(p) != LC_OK) return lt_error(L, "%s: %s", fname, lc_plan_error(p));
  lc_plan_wrote(p);
  return 1;
}

static int l_plan_run(lua_State *L) {
  const char *fname = lt_fn(L)->fname;
  lua_pushboolean(L, load_and_run(L, check_plan(L, 1, fname), fname));
  return 1;
}

/* core._plan_record(plan, x1, ..., xn) -> a new tensor with output 1's values and one node
 * for the whole plan (lc_plan_record), or nil when a shape differs. */
static int l_plan_record(lua_State *L) {
  const char *fname = lt_fn(L)->fname;
  lc_plan *p = check_plan(L, 1, fname);
  if (!load_and_run(L, p, fname)) return 0;
  int n = lc_plan_ninputs(p);
  lc_tensor *few[8];  /* no garbage per call for the usual few inputs */
  lc_tensor **xs = n <= 8 ? few : (lc_tensor **)lua_newuserdatauv(L, sizeof *xs * (size_t)n, 0);
  for (int i = 0; i < n; i++) xs[i] = lt_check(L, i + 2);
  return lt_push(L, LT_CTX(L), lc_plan_record(p, xs), fname);
}

static lc_tensor *retained(lc_tensor *t) {
  lc_tensor_retain(t);
  return t;
}

static int push_buffer(lua_State *L, int output) {
  const char *fname = lt_fn(L)->fname;
  lc_plan *p = check_plan(L, 1, fname);
  lua_Integer i = lt_integer(L, 2, "index", fname);
  int n = output ? lc_plan_noutputs(p) : lc_plan_ninputs(p);
  if (i < 1 || i > n)
    return lt_error(L, "%s: %s %lld out of range (the plan has %d)", fname,
                    output ? "output" : "input", (long long)i, n);
  lc_tensor *t = output ? lc_plan_output(p, (int)i - 1) : lc_plan_input(p, (int)i - 1);
  return lt_push(L, LT_CTX(L), retained(t), fname);
}

static int l_plan_input(lua_State *L) { return push_buffer(L, 0); }
static int l_plan_output(lua_State *L) { return push_buffer(L, 1); }

/* The op's name without "Backward...". */
static void push_op_name(lua_State *L, const char *name) {
  const char *b = strstr(name, "Backward");
  lua_pushlstring(L, name, b ? (size_t)(b - name) : strlen(name));
}

/* One entry per step run; a fused pair is one entry, "Linear+Tanh". */
static int l_plan_steps(lua_State *L) {
  lc_plan *p = check_plan(L, 1, lt_fn(L)->fname);
  int64_t n = lc_plan_nsteps(p);
  int k = 0;
  lua_createtable(L, (int)n, 0);
  for (int64_t i = 0; i < n; i++) {
    push_op_name(L, lc_plan_step_name(p, i));
    if (lc_plan_step_fused(p, i)) {
      lua_pushliteral(L, "+");
      push_op_name(L, lc_plan_step_name(p, ++i));
      lua_concat(L, 3);
    }
    lua_rawseti(L, -2, ++k);
  }
  return 1;
}

static const lt_reg fns[] = {
  {"_trace_begin", "nn.Module:compile", l_trace_begin, NULL, LT_MODULE},
  {"_trace_abort", "nn.Module:compile", l_trace_abort, NULL, LT_MODULE},
  {"_trace_end", "nn.Module:compile", l_trace_end, NULL, LT_MODULE},
  {"_plan_run", "lucid.Compiled", l_plan_run, NULL, LT_MODULE},
  {"_plan_record", "lucid.Compiled", l_plan_record, NULL, LT_MODULE},
  {"_plan_input", "lucid.Compiled:input", l_plan_input, NULL, LT_MODULE},
  {"_plan_output", "lucid.Compiled:output", l_plan_output, NULL, LT_MODULE},
  {"_plan_steps", "lucid.Compiled:steps", l_plan_steps, NULL, LT_MODULE},
  {NULL, NULL, NULL, NULL, 0}};

void lt_register_plan(lua_State *L, int state, int methods, int module) {
  if (luaL_newmetatable(L, LT_PLAN)) {
    lua_pushcfunction(L, plan_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
  lt_register(L, state, methods, module, fns);
}

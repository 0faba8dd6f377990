/***
Part of lucid; help() and `make doc` read these comments.
@module lucid
*/

/* lucid_autograd.c: the parts of autograd that call back into Lua: tensor
 * hooks, retain_grad, lucid.autograd.grad, and ops written in Lua
 * (lucid.autograd.Function, whose Lua half is lua/lucid/autograd.lua).
 *
 * The core calls back while it is in the middle of a backward. A Lua error
 * must not unwind through it, so every call into Lua from a callback runs
 * under lua_pcall on the thread that started the backward (lt_state.active),
 * and a failure comes back to the core as an error status with the message;
 * the binding raises it once the core has returned. Callbacks that run while
 * tensors are freed cannot touch Lua at all: they queue what the registry
 * should forget (lt_state.pending), and the next binding call drains it. */
#include <string.h>

#include "binding.h"

#define HOOKS_KEY "lucid.hooks"   /* registry: tensor id -> array of hook functions */

/* ---- the pending list --------------------------------------------------------- */

/* Ids of tensors are positive; references to Lua functions are queued negated. */
static void queue(lt_state *s, lua_Integer v) {
  if (s->npending == s->cap_pending) {
    size_t cap = s->cap_pending ? 2 * s->cap_pending : 32;
    void *p = s->alloc(s->alloc_ud, s->pending, s->cap_pending * sizeof *s->pending,
                       cap * sizeof *s->pending);
    if (!p) return;  /* out of memory: a stale registry entry is harmless, ids never repeat */
    s->pending = (lua_Integer *)p;
    s->cap_pending = cap;
  }
  s->pending[s->npending++] = v;
}

void lt_drain_pending(lua_State *L, lt_state *s) {
  lua_getfield(L, LUA_REGISTRYINDEX, HOOKS_KEY);
  for (size_t i = 0; i < s->npending; i++) {
    lua_Integer v = s->pending[i];
    if (v > 0) {
      lua_pushnil(L);
      lua_rawseti(L, -2, v);                    /* hooks[id] = nil */
    } else {
      luaL_unref(L, LUA_REGISTRYINDEX, (int)-v);
    }
  }
  lua_pop(L, 1);
  s->npending = 0;
}

void lt_state_free_lists(lt_state *s) {
  if (s->pending) s->alloc(s->alloc_ud, s->pending, s->cap_pending * sizeof *s->pending, 0);
  s->pending = NULL;
  s->npending = s->cap_pending = 0;
}

static void on_tensor_free(void *ud, uint64_t id) {
  queue((lt_state *)ud, (lua_Integer)id);
}

/* Pushes a new box holding t (retained); runs inside a protected call. */
static void push_retained(lua_State *L, lc_tensor *t) {
  lc_tensor **slot = lt_newbox(L);
  lc_tensor_retain(t);
  *slot = t;
}

/* Checks that r (a Lua value at idx) can stand for the gradient of t, and
 * returns it converted to t's dtype (a new reference). Raises otherwise. */
static lc_tensor *as_gradient(lua_State *L, lc_ctx *ctx, int idx, const lc_tensor *t,
                              const char *who) {
  lc_tensor *r = lt_test(L, idx);
  if (!r) lt_error(L, "%s must return a tensor or nil, got %s", who, luaL_typename(L, idx));
  int same = r->ndim == t->ndim;
  for (int i = 0; same && i < t->ndim; i++) same = r->shape[i] == t->shape[i];
  if (!same) {
    char a[160], b[160];
    lc_shape_str(a, sizeof a, r->ndim, r->shape);
    lc_shape_str(b, sizeof b, t->ndim, t->shape);
    lt_error(L, "%s returned a gradient of shape %s for a tensor of shape %s", who, a, b);
  }
  lc_tensor *c = lc_to_dtype(ctx, r, t->dtype);
  if (!c) lt_error(L, "%s: %s", who, lc_ctx_error(ctx));
  return c;
}

/* Runs a protected C function on the active thread; on error copies the
 * message into the context. */
static lc_status protected_call(lt_state *s, lua_CFunction f, void *arg) {
  lua_State *L = s->active;
  if (!L) return lc_ctx_fail(s->ctx, LC_ESTATE, "a Lua callback ran outside a Lua call");
  if (!lua_checkstack(L, 8)) return lc_ctx_fail(s->ctx, LC_ENOMEM, "not enough memory");
  lua_pushcfunction(L, f);
  lua_pushlightuserdata(L, arg);
  if (lua_pcall(L, 1, 0, 0) == LUA_OK) return LC_OK;
  const char *msg = lua_tostring(L, -1);
  lc_status st = lc_ctx_fail(s->ctx, LC_EARG, msg ? msg : "error in a Lua callback");
  lua_pop(L, 1);
  return st;
}

/* ---- hooks -------------------------------------------------------------------------- */

typedef struct hook_call {
  lt_state *s;
  lc_tensor *t, *grad;
  lc_tensor *result;  /* a new reference when a hook replaced the gradient */
} hook_call;

/* Calls each hook of t in registration order; a hook returning a tensor
 * replaces the gradient the next ones (and the graph) see. */
static int run_hooks(lua_State *L) {
  hook_call *hc = (hook_call *)lua_touserdata(L, 1);
  lua_getfield(L, LUA_REGISTRYINDEX, HOOKS_KEY);
  if (lua_rawgeti(L, -1, (lua_Integer)hc->t->id) != LUA_TTABLE) return 0;
  int list = lua_gettop(L);
  lua_Integer n = (lua_Integer)lua_rawlen(L, list);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, list, i);
    push_retained(L, hc->result ? hc->result : hc->grad);
    lua_call(L, 1, 1);
    if (!lua_isnil(L, -1)) {
      lc_tensor *r = as_gradient(L, hc->s->ctx, -1, hc->t, "a tensor hook");
      lc_tensor_release(hc->result);
      hc->result = r;
    }
    lua_pop(L, 1);
  }
  return 0;
}

static lc_status hook_cb(void *ud, lc_tensor *t, lc_tensor *grad, lc_tensor **replace) {
  hook_call hc = {(lt_state *)ud, t, grad, NULL};
  lc_status st = protected_call(hc.s, run_hooks, &hc);
  if (st != LC_OK) {
    lc_tensor_release(hc.result);
    return st;
  }
  *replace = hc.result;
  return LC_OK;
}

void lt_autograd_init(lt_state *s) {
  lc_ctx_set_callbacks(s->ctx, hook_cb, on_tensor_free, s);
}

/* handle:remove(): upvalues are the hook list and the function */
static int hook_remove(lua_State *L) {
  lua_Integer n = (lua_Integer)lua_rawlen(L, lua_upvalueindex(1));
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, lua_upvalueindex(1), i);
    int found = lua_rawequal(L, -1, lua_upvalueindex(2));
    lua_pop(L, 1);
    if (!found) continue;
    for (; i < n; i++) {  /* close the gap, keeping the order */
      lua_rawgeti(L, lua_upvalueindex(1), i + 1);
      lua_rawseti(L, lua_upvalueindex(1), i);
    }
    lua_pushnil(L);
    lua_rawseti(L, lua_upvalueindex(1), n);
    break;
  }
  return 0;
}

/* t:register_hook(fn): fn(grad) runs when t's gradient is complete, and may
 * return a tensor to use instead. Returns a handle with :remove(). */
static const lt_arg HOOK_ARG[] = {{"hook", LT_K_ANY, LT_REQ | LT_POS, 0, NULL}, {NULL}};
/***
fn(grad) runs when t's gradient is computed during backward and may return a
tensor to use instead. h:remove() unregisters it.
@function register_hook
@usage local h = t:register_hook(fn)
@within Autograd
*/
static int l_register_hook(lua_State *L) {
  lc_tensor *t = lt_check(L, 1);
  lt_val v[1];
  const char *fname = lt_args(L, 2, -1, v);
  if (!lua_isfunction(L, 2))
    return lt_error(L, "%s: hook must be a function, got %s", fname, luaL_typename(L, 2));
  if (!t->requires_grad)
    return lt_error(L, "%s: the tensor does not require grad, so no gradient will reach the "
                      "hook", fname);
  lua_getfield(L, LUA_REGISTRYINDEX, HOOKS_KEY);
  if (lua_rawgeti(L, -1, (lua_Integer)t->id) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_rawseti(L, -3, (lua_Integer)t->id);     /* hooks[id] = list */
  }
  int list = lua_gettop(L);
  lua_pushvalue(L, 2);
  lua_rawseti(L, list, (lua_Integer)lua_rawlen(L, list) + 1);  /* list[#list + 1] = fn */
  t->has_hooks = 1;
  lua_createtable(L, 0, 1);                     /* the handle */
  lua_pushvalue(L, list);
  lua_pushvalue(L, 2);
  lua_pushcclosure(L, hook_remove, 2);
  lua_setfield(L, -2, "remove");
  return 1;
}

/* t:retain_grad(): a non-leaf keeps its gradient in t.grad (leaves always do). */
/***
Makes a non-leaf keep its gradient in t.grad after backward (leaves always
do).
@function retain_grad
@usage t:retain_grad()
@within Autograd
*/
static int l_retain_grad(lua_State *L) {
  lc_tensor *t = lt_check(L, 1);
  const char *fname = lt_args(L, 2, -1, NULL);
  if (!t->requires_grad)
    return lt_error(L, "%s: the tensor does not require grad", fname);
  if (!lc_tensor_is_leaf(t)) t->retains_grad = 1;
  return 0;
}

/* ---- lucid.autograd.grad --------------------------------------------------------- */

/* Reads a tensor or an array of tensors at idx into a new Lua array on top. */
static int tensor_list(lua_State *L, int idx, const char *what, const char *fname) {
  idx = lua_absindex(L, idx);
  lua_newtable(L);
  if (lt_test(L, idx)) {
    lua_pushvalue(L, idx);
    lua_rawseti(L, -2, 1);
    return 1;
  }
  if (!lua_istable(L, idx))
    lt_error(L, "%s: %s must be a tensor or an array of tensors, got %s", fname, what,
               luaL_typename(L, idx));
  int n = (int)lua_rawlen(L, idx);
  for (int i = 1; i <= n; i++) {
    lua_rawgeti(L, idx, i);
    if (!lt_test(L, -1))
      lt_error(L, "%s: %s[%d] must be a tensor, got %s", fname, what, i, luaL_typename(L, -1));
    lua_rawseti(L, -2, i);
  }
  return n;
}

/* The one way into the core's backward, for t:backward (inputs NULL: the
 * gradients go to the leaves' .grad) and autograd.grad (into outv). Hooks
 * and Lua ops call back on L meanwhile. With create_graph the rules record
 * (the gradients carry a graph, for higher derivatives); a leaf's .grad that
 * does refers back to the leaf, a cycle the core frees once nothing else
 * refers to the leaf (lc__unreachable). */
static lc_status run_backward(lua_State *L, lt_state *s, lc_tensor *root, lc_tensor *seed,
                              int retain_graph, int create_graph, int nin, lc_tensor **inputs,
                              lc_tensor **outv) {
  int flags = (retain_graph ? LC_RETAIN_GRAPH : 0) | (create_graph ? LC_CREATE_GRAPH : 0);
  lua_State *outer = s->active;  /* a hook may run a backward of its own */
  s->active = L;
  lc_status st = inputs ? lc_grad_ex(s->ctx, root, seed, flags, nin, inputs, outv)
                        : lc_backward_ex(s->ctx, root, seed, flags);
  s->active = outer;
  return st;
}

/* t:backward([gradient] [, retain_graph [, create_graph]]), the flags also by
 * name: t:backward(nil, {retain_graph = true}), t:backward{retain_graph = true}.
 * As in PyTorch, retain_graph defaults to create_graph. */
static const lt_arg BACKWARD_ARGS[] = {
  {"gradient", LT_K_OPERAND, 0, 0, NULL}, {"retain_graph", LT_K_BOOL, 0, 0, NULL},
  {"create_graph", LT_K_BOOL, 0, 0, NULL}, {NULL}};
/***
Computes gradients of t with respect to every leaf that requires grad and
adds them into their .grad. A non-scalar t is seeded with ones (as the
reference docs); grad gives an explicit seed of t's shape. The graph is freed
afterwards unless retain_graph is true; a second backward through a freed
graph is an error that says so.
@function backward
@usage t:backward([gradient] [, {retain_graph = create_graph, create_graph = false}])
@within Autograd
*/
static int l_backward(lua_State *L) {
  lt_state *s = (lt_state *)lua_touserdata(L, lua_upvalueindex(1));
  lc_ctx *ctx = s->ctx;
  lc_tensor *t = lt_check(L, 1);
  lt_val v[3];
  const char *fname = lt_args(L, 2, -1, v);
  lc_tensor *seed = v[0].idx ? lt_operand(L, ctx, v[0].idx, t, fname) : NULL;
  int create = v[2].b, retain = v[1].idx ? v[1].b : create;
  lc_status st = run_backward(L, s, t, seed, retain, create, 0, NULL, NULL);
  lt_report_bytes(L, ctx);
  if (st != LC_OK) return lt_fail(L, ctx, fname);
  return 0;
}

/* grad(outputs, inputs [, grad_outputs] [, {retain_graph =, create_graph =,
 * allow_unused =}]): the gradients of the outputs (summed) with respect to
 * each input, as multiple results, without touching any .grad. */
static const lt_arg GRAD_ARGS[] = {
  {"outputs", LT_K_ANY, LT_REQ, 0, NULL}, {"inputs", LT_K_ANY, LT_REQ, 0, NULL},
  {"grad_outputs", LT_K_ANY, 0, 0, NULL}, {"retain_graph", LT_K_BOOL, 0, 0, NULL},
  {"create_graph", LT_K_BOOL, 0, 0, NULL}, {"allow_unused", LT_K_BOOL, 0, 0, NULL}, {NULL}};
static int l_grad(lua_State *L) {
  lt_state *s = (lt_state *)lua_touserdata(L, lua_upvalueindex(1));
  lc_ctx *ctx = s->ctx;
  lt_val v[6];
  const char *fname = lt_args(L, 1, -1, v);
  int seeds_idx = v[2].idx;
  if (seeds_idx && lua_istable(L, seeds_idx) && !lua_rawlen(L, seeds_idx)) seeds_idx = 0;  /* {} */
  int create = v[4].b, retain = v[3].idx ? v[3].b : create, allow_unused = v[5].b;
  int nout = tensor_list(L, v[0].idx, "outputs", fname);
  int outs = lua_gettop(L);
  int nin = tensor_list(L, v[1].idx, "inputs", fname);
  int ins = lua_gettop(L);
  int seeds = 0;
  if (seeds_idx) {
    int ns = tensor_list(L, seeds_idx, "grad_outputs", fname);
    seeds = lua_gettop(L);
    if (ns != nout)
      return lt_error(L, "%s: %d grad_outputs for %d outputs", fname, ns, nout);
  }
  if (nin == 0) return lt_error(L, "%s: no inputs", fname);
  luaL_checkstack(L, nin + 4, fname);
  /* result boxes first (create consistent, then acquire), then the core */
  lc_tensor *inputs_buf[16], *out_buf[16];
  lc_tensor **inputs = nin <= 16 ? inputs_buf : (lc_tensor **)lua_newuserdatauv(L, sizeof(lc_tensor *) * (size_t)nin, 0);
  lc_tensor **outv = nin <= 16 ? out_buf : (lc_tensor **)lua_newuserdatauv(L, sizeof(lc_tensor *) * (size_t)nin, 0);
  for (int i = 0; i < nin; i++) {
    lua_rawgeti(L, ins, i + 1);
    inputs[i] = lt_check(L, -1);
    lua_pop(L, 1);
    if (!inputs[i]->requires_grad)
      return lt_error(L, "%s: input %d does not require grad", fname, i + 1);
  }
  int first = lua_gettop(L) + 1;
  for (int i = 0; i < nin; i++) lt_newbox(L);  /* result i goes to first + i */
  for (int k = 1; k <= nout; k++) {
    lua_rawgeti(L, outs, k);
    lc_tensor *root = lt_check(L, -1);
    lc_tensor *seed = NULL;
    if (seeds) {
      lua_rawgeti(L, seeds, k);
      seed = lt_check(L, -1);
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
    lc_status st = run_backward(L, s, root, seed, retain || k < nout, create, nin, inputs, outv);
    if (st != LC_OK) return lt_fail(L, ctx, fname);
    for (int i = 0; i < nin; i++) {  /* sum over the outputs */
      lt_box *b = (lt_box *)lua_touserdata(L, first + i);
      if (!outv[i]) continue;
      if (!b->t) b->t = outv[i];
      else {  /* recorded with create_graph, whatever the grad mode outside */
        int was = lc_ctx_set_grad_enabled(ctx, create || lc_ctx_grad_enabled(ctx));
        lc_tensor *sum = lc_add(ctx, b->t, outv[i]);
        lc_ctx_set_grad_enabled(ctx, was);
        lc_tensor_release(outv[i]);
        if (!sum) return lt_fail(L, ctx, fname);
        lc_tensor_release(b->t);
        b->t = sum;
      }
    }
  }
  for (int i = 0; i < nin; i++) {
    lt_box *b = (lt_box *)lua_touserdata(L, first + i);
    if (b->t) continue;
    if (!allow_unused)
      return lt_error(L, "%s: input %d was not used to compute the outputs (pass "
                        "allow_unused = true to get nil for it)", fname, i + 1);
    lua_pushnil(L);
    lua_replace(L, first + i);
  }
  return nin;
}

/* ---- ops written in Lua ------------------------------------------------------------- */

typedef struct lua_op {
  lc_op_def def;       /* the node points here: name and rule */
  char name[64];
  lt_state *s;
  int ref;             /* registry reference to the backward function */
} lua_op;

typedef struct lua_rule_call {
  lua_op *op;
  lc_node *n;
  lc_tensor *g;
  lc_tensor **grads;
} lua_rule_call;

/* backward(g) returns one value per tensor input, in order: a gradient of
 * that input's shape, or nil for none (taken as zeros). */
static int run_lua_rule(lua_State *L) {
  lua_rule_call *rc = (lua_rule_call *)lua_touserdata(L, 1);
  lc_ctx *ctx = rc->op->s->ctx;
  int n = lc_node_ninputs(rc->n);
  luaL_checkstack(L, n + 4, "backward results");
  lua_rawgeti(L, LUA_REGISTRYINDEX, rc->op->ref);
  push_retained(L, rc->g);
  lua_call(L, 1, n);
  int base = lua_gettop(L) - n;
  for (int i = 0; i < n; i++) {
    lc_tensor *in = lc_node_input(rc->n, i);
    if (!in || !in->requires_grad) continue;
    char who[96];
    snprintf(who, sizeof who, "%s (gradient %d)", rc->op->name, i + 1);
    rc->grads[i] = lua_isnil(L, base + 1 + i)
                       ? lc_zeros(ctx, in->dtype, in->ndim, in->shape)
                       : as_gradient(L, ctx, base + 1 + i, in, who);
    if (!rc->grads[i]) lt_error(L, "%s: %s", who, lc_ctx_error(ctx));
  }
  return 0;
}

static int lua_rule(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  (void)ctx;
  lua_rule_call rc = {(lua_op *)lc_node_user(n), n, g, grads};
  if (!rc.op) return 0;
  if (protected_call(rc.op->s, run_lua_rule, &rc) == LC_OK) return 1;
  for (int i = 0; i < lc_node_ninputs(n); i++) {  /* what was made before the error */
    lc_tensor_release(grads[i]);
    grads[i] = NULL;
  }
  return 0;
}

static void lua_op_free(lc_ctx *ctx, void *user) {
  (void)ctx;
  lua_op *op = (lua_op *)user;
  queue(op->s, -(lua_Integer)op->ref);  /* the registry is Lua's: unref later */
  op->s->alloc(op->s->alloc_ud, op, sizeof *op, 0);
}

/* _attach_function(out, inputs, backward, name) -> a tensor sharing out's
 * values that is the result of a node whose backward calls `backward`. */
static int l_attach_function(lua_State *L) {
  static const char *fname = "lucid.autograd.Function";
  lt_state *s = (lt_state *)lua_touserdata(L, lua_upvalueindex(1));
  lc_ctx *ctx = s->ctx;
  lc_tensor *out = lt_check(L, 1);
  int nin = tensor_list(L, 2, "inputs", fname);
  int ins = lua_gettop(L);
  luaL_checktype(L, 3, LUA_TFUNCTION);
  const char *name = luaL_checkstring(L, 4);
  lc_tensor **inputs = (lc_tensor **)lua_newuserdatauv(L, sizeof(lc_tensor *) * (size_t)(nin + 1), 0);
  for (int i = 0; i < nin; i++) {
    lua_rawgeti(L, ins, i + 1);
    inputs[i] = lt_check(L, -1);
    lua_pop(L, 1);
  }
  /* a fresh alias, so that a forward returning one of its inputs does not
   * graft a node onto that input */
  lt_push(L, ctx, lc_detach(ctx, out), fname);
  lc_tensor **slot = &((lt_box *)lua_touserdata(L, -1))->t;
  lua_pushvalue(L, 3);
  int ref = luaL_ref(L, LUA_REGISTRYINDEX);  /* before the C allocation: this may raise */
  lua_op *op = (lua_op *)s->alloc(s->alloc_ud, NULL, 0, sizeof *op);
  if (!op) {
    luaL_unref(L, LUA_REGISTRYINDEX, ref);
    return lt_error(L, "%s: not enough memory", fname);
  }
  memset(op, 0, sizeof *op);  /* every field of def, values_unused too: a Lua rule may read values */
  snprintf(op->name, sizeof op->name, "%s", name);
  op->def.name = op->name;
  op->def.backward = lua_rule;
  op->s = s;
  op->ref = ref;
  /* from here the node owns op (lc_attach_node frees it if it makes none) */
  if (lc_attach_node(ctx, *slot, &op->def, nin, inputs, op, lua_op_free) != LC_OK)
    return lt_fail(L, ctx, fname);
  return 1;
}

/* ---- lucid.core._set_data(t, src [, grad]): PyTorch's `t.data = src` ---------------
 * What nn.Module:to does to a parameter, so that whoever holds it (an
 * optimizer built before model:double()) keeps the same Lua object and sees
 * the converted values. src's tensor moves into t's box: src is closed
 * afterwards (as after src:close()), and t keeps its requires_grad, its
 * hooks and being an nn.Parameter; `grad` (nil, or a tensor of src's shape
 * without a graph) becomes its .grad. The tensor t held before stays
 * untouched for any graph recorded with it. Nothing here allocates (the
 * callers convert first), so a module converts all or nothing. Internal. */
static int l_set_data(lua_State *L) {
  const char *fname = "lucid.core._set_data";
  lt_box *tb = lt_tobox(L, 1), *sb = lt_tobox(L, 2);
  lc_tensor *t = lt_check(L, 1), *src = lt_check(L, 2);
  lc_tensor *g = lua_isnoneornil(L, 3) ? NULL : lt_check(L, 3);
  if (tb == sb || t == src) return lt_error(L, "%s: t and src are the same tensor", fname);
  if (!lc_tensor_is_leaf(t) || !lc_tensor_is_leaf(src) || src->grad || src->requires_grad)
    return lt_error(L, "%s: t must be a leaf and src a leaf without gradient", fname);
  if (t->requires_grad) lt_check_grad_dtype(L, src, fname);
  if (g) {
    int same = !g->node && g->ndim == src->ndim && g != src && g != t;
    for (int i = 0; same && i < src->ndim; i++) same = g->shape[i] == src->shape[i];
    if (!same) return lt_error(L, "%s: grad must be a tensor of src's shape without a graph", fname);
  }
  /* the new tensor takes over t's id (the key of its hooks) and its flags */
  uint64_t id = src->id;
  src->id = t->id;
  t->id = id;
  src->has_hooks = t->has_hooks;
  t->has_hooks = 0;
  src->requires_grad = t->requires_grad;
  if (g) lc_tensor_retain(g);
  src->grad = g;
  sb->t = NULL;   /* src's reference moves into t's box */
  tb->t = src;
  lc_tensor_release(t);
  lua_settop(L, 1);
  return 1;
}

static const lt_reg fns[] = {
  LT_ROW(backward, l_backward, BACKWARD_ARGS, LT_BOTH),
  LT_ROW(register_hook, l_register_hook, HOOK_ARG, LT_BOTH),
  LT_ROW(retain_grad, l_retain_grad, NULL, LT_BOTH),
  {"_autograd_grad", "lucid.autograd.grad", l_grad, GRAD_ARGS, LT_MODULE},
  {"_attach_function", "lucid.autograd.Function", l_attach_function, NULL, LT_MODULE},
  {"_set_data", "lucid.core._set_data", l_set_data, NULL, LT_MODULE},
  {NULL, NULL, NULL, NULL, 0}};

void lt_register_autograd(lua_State *L, int state, int methods, int module) {
  lua_newtable(L);
  lua_setfield(L, LUA_REGISTRYINDEX, HOOKS_KEY);
  lt_register(L, state, methods, module, fns);
}

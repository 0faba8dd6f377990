/* autograd.c: the backward pass (the engine; each op's rule lives beside
 * its forward code, in its family's file).
 *
 * lc_backward orders the graph with Kahn's algorithm over an explicit work
 * array (no recursion, so a chain of a million ops is fine): a first walk
 * counts, for every node, how many consumers inside this graph will send it
 * a gradient; a second walk runs a node once all of them have, adds what it
 * returns into its inputs' nodes (or into leaf .grad), and moves on.
 *
 * Each op's definition (lc_op_def) carries its backward rule; rules run
 * with recording off. */
#include "internal.h"

#include <string.h>


/* ---- accumulation ---------------------------------------------------------------- */

/* slot += g, out of place, so a gradient shared with another slot is never
 * written through. Takes a reference to g. */
static int accumulate(lc_ctx *ctx, lc_tensor **slot, lc_tensor *g) {
  if (!*slot) {
    lc_tensor_retain(g);
    *slot = g;
    return 1;
  }
  lc_tensor *s = lc_add(ctx, *slot, g);
  if (!s) return 0;
  lc_tensor *old = *slot;
  *slot = s;  /* before the release, which may walk the graph (see swap_grad) */
  lc_tensor_release(old);
  return 1;
}

/* A leaf's .grad is the user's to keep and to change in place (optimizers
 * do), so it gets its own contiguous storage of the leaf's dtype and shape;
 * later gradients are added into it in place. */
/* leaf's gradient becomes c (a new reference). The old one is released after
 * the swap: releasing can walk the graph back to leaf (lc__unreachable
 * follows leaf->grad), which must not find a gradient being freed. */
static void swap_grad(lc_tensor *leaf, lc_tensor *c) {
  lc_tensor *old = leaf->grad;
  leaf->grad = c;
  lc_tensor_release(old);
}

static int accumulate_leaf(lc_ctx *ctx, lc_tensor *leaf, lc_tensor *g) {
  if (ctx->grad_enabled) {
    /* LC_CREATE_GRAPH: the gradient carries a graph, which an in-place add
     * or a raw copy would cut; so out of place, recorded (as PyTorch) */
    lc_tensor *c = g->dtype == leaf->dtype ? lc__retained(g) : lc_to_dtype(ctx, g, leaf->dtype);
    if (c && (c->refcount > 1 || c->storage->refcount > 1 || !lc_tensor_is_contiguous(c))) {
      lc_tensor *own = lc_clone(ctx, c);   /* the leaf's .grad is the user's to change */
      lc_tensor_release(c);
      c = own;
    }
    if (c && leaf->grad) {
      lc_tensor *sum = lc_add(ctx, leaf->grad, c);
      lc_tensor_release(c);
      c = sum;
    }
    if (!c) return 0;
    swap_grad(leaf, c);
    return 1;
  }
  if (!leaf->grad && g->refcount == 1 && g->storage->refcount == 1 && !g->storage->external &&
      g->dtype == leaf->dtype && lc_tensor_is_contiguous(g) && g->ndim == leaf->ndim &&
      !memcmp(g->shape, leaf->shape, sizeof(int64_t) * (size_t)g->ndim)) {
    lc_tensor_retain(g);  /* a fresh gradient nobody else holds: keep it, no copy */
    leaf->grad = g;
    return 1;
  }
  if (!leaf->grad) {
    lc_tensor *c = lc_empty(ctx, leaf->dtype, leaf->ndim, leaf->shape);
    if (!c) return 0;
    lc_copy_(ctx, c, g);
    leaf->grad = c;
    return 1;
  }
  if (!lc_tensor_is_contiguous(leaf->grad)) {
    /* a grad the user set to a view (an expanded one overlaps itself):
     * adding in place would be wrong, so replace it */
    lc_tensor *sum = lc_add(ctx, leaf->grad, g);
    lc_tensor *c = sum ? lc_to_dtype(ctx, sum, leaf->grad->dtype) : NULL;
    lc_tensor_release(sum);
    if (!c) return 0;
    swap_grad(leaf, c);
    return 1;
  }
  lc_tensor *gg = g->dtype == leaf->grad->dtype ? g : lc_to_dtype(ctx, g, leaf->grad->dtype);
  if (!gg) return 0;
  int64_t sg[LC_MAX_DIMS];
  int ok = 1;
  int off = leaf->grad->ndim - gg->ndim;
  if (off != 0) ok = 0;
  for (int i = 0; ok && i < gg->ndim; i++) sg[i] = gg->strides[i];
  if (ok) lc__k_add_into(leaf->grad, gg, sg);
  if (gg != g) lc_tensor_release(gg);
  if (!ok) lc__fail(ctx, LC_ESHAPE, "gradient does not fit its tensor");
  return ok;
}

/* ---- the walk ---------------------------------------------------------------------- */

/* A growable array of pointers (nodes, or leaves), from the context's allocator. */
typedef struct work {
  void **items;
  size_t n, cap;
} work;

static int work_push(lc_ctx *ctx, work *w, void *item) {
  if (w->n == w->cap) {
    size_t cap = w->cap ? w->cap * 2 : 64;
    void **p = (void **)lc__alloc(ctx, cap * sizeof *p);
    if (!p) return 0;
    if (w->n) memcpy(p, w->items, w->n * sizeof *p);
    lc__free(ctx, w->items, w->cap * sizeof *p);
    w->items = p;
    w->cap = cap;
  }
  w->items[w->n++] = item;
  return 1;
}

#define NODE_AT(w, i) ((lc_node *)(w).items[i])

static lc_status fail_freed(lc_ctx *ctx) {
  return lc__fail(ctx, LC_ESTATE,
                  "the graph was already freed by an earlier backward; pass retain_graph = "
                  "true to the first backward to run it twice");
}

/* Whether n's inputs and saved tensors still hold the values n used: a
 * tensor written in place since (t[mask] = 0, add_, an optimizer step, an
 * out= buffer) would give gradients of other values, silently, so it is an
 * error, as PyTorch's version counters make it. Inputs count too (PyTorch
 * checks saved ones only) unless the rule reads their shapes only: a view
 * of a tensor, then written in place, keeps a correct graph. */
static int check_versions(lc_ctx *ctx, const lc_node *n) {
  for (int i = n->def->values_unused ? n->ninputs : 0; i < n->ninputs + LC_NODE_SAVED; i++) {
    const lc_tensor *t = i < n->ninputs ? n->inputs[i] : n->saved[i - n->ninputs];
    if (!t || t->storage->version <= n->recorded_at) continue;
    char s[LC_SHAPE_STR];
    lc_shape_str(s, sizeof s, t->ndim, t->shape);
    lc__fail(ctx, LC_ESTATE, "a tensor %s (%s %d of %s) was changed in place after %s used it, "
             "so its gradient cannot be computed; change a clone() instead, or do the in-place "
             "change before the op", s, i < n->ninputs ? "input" : "saved value",
             (i < n->ninputs ? i : i - n->ninputs) + 1, n->def->name, n->def->name);
    return 0;
  }
  return 1;
}

/* t's .grad now carries a graph: list t where lc_ctx_collect_cycles looks.
 * Failing to grow the list only fails this backward (nothing half done). */
static int cycle_note(lc_ctx *ctx, lc_tensor *t) {
  if (t->cycle_candidate) return 1;
  if (ctx->ncyc == ctx->capcyc) {
    size_t cap = ctx->capcyc ? 2 * ctx->capcyc : 16;
    lc_tensor **p = (lc_tensor **)lc__alloc(ctx, cap * sizeof *p);
    if (!p) return 0;
    if (ctx->ncyc) memcpy(p, ctx->cyc, ctx->ncyc * sizeof *p);
    lc__free(ctx, ctx->cyc, ctx->capcyc * sizeof *ctx->cyc);
    ctx->cyc = p;
    ctx->capcyc = cap;
  }
  ctx->cyc[ctx->ncyc++] = t;
  t->cycle_candidate = 1;
  return 1;
}

void lc__cycle_forget(lc_ctx *ctx, lc_tensor *t) {
  for (size_t i = 0; i < ctx->ncyc; i++)
    if (ctx->cyc[i] == t) {
      ctx->cyc[i] = ctx->cyc[--ctx->ncyc];
      break;
    }
  t->cycle_candidate = 0;
  if (ctx->ncyc == 0) {  /* the list's bytes count as live: none left once empty */
    lc__free(ctx, ctx->cyc, ctx->capcyc * sizeof *ctx->cyc);
    ctx->cyc = NULL;
    ctx->capcyc = 0;
  }
}

void lc_ctx_collect_cycles(lc_ctx *ctx) {
  /* downwards: dropping a gradient may free listed tensors, which leave the
   * list by moving its last entry into their place (already visited) */
  for (size_t i = ctx->ncyc; i-- > 0;) {
    if (i >= ctx->ncyc) continue;
    lc_tensor *t = ctx->cyc[i];
    if (!t->grad || !t->grad->node) {
      lc__cycle_forget(ctx, t);  /* its .grad was cleared or replaced */
    } else if (lc__unreachable(t)) {
      lc_tensor *g = t->grad;
      t->grad = NULL;
      lc__cycle_forget(ctx, t);
      lc_tensor_release(g);  /* frees the cycle, t with it */
    }
  }
}

/* What one backward delivers gradients to: leaves' .grad (capture == NULL),
 * or, for lc_grad, the slots of the requested inputs. */
typedef struct capture {
  int n;
  lc_tensor **inputs;
  lc_tensor **out;
} capture;

static int capture_index(const capture *c, const lc_tensor *t) {
  for (int i = 0; c && i < c->n; i++)
    if (c->inputs[i] == t) return i;
  return -1;
}

/* The gradient g of t is complete: give the hooks their say (which may
 * replace *g), then keep it where it is wanted. For a leaf this happens once,
 * after the whole graph ran; for a non-leaf, before its own rule runs. */
static int deliver(lc_ctx *ctx, lc_tensor *t, lc_tensor **g, const capture *cap) {
  if (t->has_hooks && ctx->hook) {
    lc_tensor *r = NULL;
    if (ctx->hook(ctx->cb_ud, t, *g, &r) != LC_OK) return 0;
    if (r) {
      lc_tensor_release(*g);
      *g = r;
    }
  }
  int i = capture_index(cap, t);
  if (i >= 0) return accumulate(ctx, &cap->out[i], *g);
  if (cap) return 1;                        /* lc_grad touches no .grad */
  if (!t->node || t->retains_grad)
    return accumulate_leaf(ctx, t, *g) && (!t->grad->node || cycle_note(ctx, t));
  return 1;
}

static lc_status run_backward(lc_ctx *ctx, lc_tensor *root, lc_tensor *seed, int flags,
                              const capture *cap) {
  if (!root->requires_grad)
    return lc__fail(ctx, LC_ESTATE, "the tensor does not require grad and has no grad_fn");
  if (seed) {
    int same = seed->ndim == root->ndim;
    for (int i = 0; same && i < root->ndim; i++) same = seed->shape[i] == root->shape[i];
    if (!same) {
      char a[LC_SHAPE_STR], b[LC_SHAPE_STR];
      lc_shape_str(a, sizeof a, seed->ndim, seed->shape);
      lc_shape_str(b, sizeof b, root->ndim, root->shape);
      return lc__fail(ctx, LC_ESHAPE, "gradient of shape %s does not match the tensor's shape %s", a, b);
    }
  }
  /* rules record only when the gradients are to be differentiated again */
  int create = (flags & LC_CREATE_GRAPH) != 0;
  int retain_graph = (flags & (LC_RETAIN_GRAPH | LC_CREATE_GRAPH)) != 0;
  int was_enabled = lc_ctx_set_grad_enabled(ctx, create);
  lc_status st = LC_OK;
  /* a seed of another dtype is converted, as PyTorch does: backward rules
   * read gradients as their output's dtype */
  lc_tensor *g0 = seed ? lc_to_dtype(ctx, seed, root->dtype)
                       : lc_full(ctx, root->dtype, root->ndim, root->shape, 1.0);
  work order = {0}, stack = {0}, leaves = {0};  /* nodes, nodes, leaf tensors */
  if (!g0) { st = ctx->status; goto out; }
  if (!root->node) {  /* a leaf: its gradient is the seed */
    if (!deliver(ctx, root, &g0, cap)) st = ctx->status;
    goto out;
  }
  if (root->node->freed) { st = fail_freed(ctx); goto out; }

  /* pass 1: find every node and count its consumers */
  uint32_t mark = ++ctx->visit_mark;
  root->node->mark = mark;
  root->node->pending = 0;
  if (!work_push(ctx, &stack, root->node)) { st = ctx->status; goto out; }
  while (stack.n) {
    lc_node *n = NODE_AT(stack, --stack.n);
    if (!work_push(ctx, &order, n)) { st = ctx->status; goto out; }
    n->refcount++;
    if (!check_versions(ctx, n)) { st = ctx->status; goto out; }  /* dropping one node's inputs must not free another in `order` */
    for (int i = 0; i < n->ninputs; i++) {
      lc_tensor *in = n->inputs[i];
      if (!in || !in->node || !in->requires_grad) continue;
      lc_node *p = in->node;
      if (p->freed) { st = fail_freed(ctx); goto out; }
      if (p->mark != mark) {
        p->mark = mark;
        p->pending = 0;
        p->grad = NULL;
        if (!work_push(ctx, &stack, p)) { st = ctx->status; goto out; }
      }
      p->pending++;
    }
  }

  /* pass 2: run nodes whose consumers are all done; leaves collect their
   * gradient in bw_grad, delivered at the end, so a failure part way (a hook
   * or a Lua function raising) leaves every .grad as it was */
  root->node->grad = g0;
  g0 = NULL;
  stack.n = 0;
  work_push(ctx, &stack, root->node);  /* capacity is there from pass 1 */
  while (stack.n) {
    lc_node *n = NODE_AT(stack, --stack.n);
    if (n->out && !deliver(ctx, n->out, &n->grad, cap)) { st = ctx->status; break; }
    lc_tensor *inline_grads[LC_NODE_INLINE_INPUTS] = {NULL};
    lc_tensor **grads = inline_grads;
    size_t gbytes = sizeof(lc_tensor *) * (size_t)n->ninputs;
    if (n->ninputs > LC_NODE_INLINE_INPUTS) {
      if (!(grads = (lc_tensor **)lc__alloc(ctx, gbytes))) { st = ctx->status; break; }
      memset(grads, 0, gbytes);
    }
    int ok = n->def->backward(ctx, n, n->grad, grads);
    /* a NULL where one is wanted: out of memory in the rule's ops, or a rule
     * that left it out; either way the backward fails rather than stopping
     * with the other gradients silently missing */
    for (int i = 0; ok && i < n->ninputs; i++)
      if (n->inputs[i] && n->inputs[i]->requires_grad && !grads[i]) {
        if (ctx->status != LC_ENOMEM)
          lc__fail(ctx, LC_ESTATE, "internal: %s gave no gradient for its input %d",
                   n->def->name, i + 1);
        ok = 0;
      }
    lc_tensor *done = n->grad;  /* unlinked first: releasing may walk the graph (lc__unreachable) */
    n->grad = NULL;
    lc_tensor_release(done);
    for (int i = 0; i < n->ninputs; i++) {
      lc_tensor *in = n->inputs[i];
      if (!in || !in->requires_grad) continue;
      if (ok && grads[i]) {
        if (in->node) {
          ok = accumulate(ctx, &in->node->grad, grads[i]);
        } else {
          if (!in->bw_grad) {
            ok = work_push(ctx, &leaves, in);
            if (ok) lc_tensor_retain(in);
          }
          ok = ok && accumulate(ctx, &in->bw_grad, grads[i]);
        }
      }
      if (in->node && --in->node->pending == 0 && !work_push(ctx, &stack, in->node)) ok = 0;
    }
    for (int i = 0; i < n->ninputs; i++) lc_tensor_release(grads[i]);
    if (grads != inline_grads) lc__free(ctx, grads, gbytes);
    if (!ok) { st = ctx->status; break; }
  }
  for (size_t i = 0; i < leaves.n; i++) {
    lc_tensor *leaf = (lc_tensor *)leaves.items[i];
    if (st == LC_OK && !deliver(ctx, leaf, &leaf->bw_grad, cap)) st = ctx->status;
    lc_tensor *g = leaf->bw_grad;  /* unlinked first: releasing may walk the graph back to leaf */
    leaf->bw_grad = NULL;
    lc_tensor_release(g);
    lc_tensor_release(leaf);
  }

out:
  /* whatever happened, no node keeps a half-made gradient */
  for (size_t i = 0; i < order.n; i++) {
    lc_tensor *g = NODE_AT(order, i)->grad;  /* unlinked first, as above */
    NODE_AT(order, i)->grad = NULL;
    lc_tensor_release(g);
  }
  if (st == LC_OK && !retain_graph)
    for (size_t i = 0; i < order.n; i++) lc__node_drop_inputs(NODE_AT(order, i));
  for (size_t i = 0; i < order.n; i++) lc__node_release(NODE_AT(order, i));
  lc__free(ctx, order.items, order.cap * sizeof *order.items);
  lc__free(ctx, stack.items, stack.cap * sizeof *stack.items);
  lc__free(ctx, leaves.items, leaves.cap * sizeof *leaves.items);
  lc_tensor_release(g0);
  lc_ctx_set_grad_enabled(ctx, was_enabled);
  if (st == LC_OK) ctx->status = LC_OK;
  return st;
}

lc_status lc_backward_ex(lc_ctx *ctx, lc_tensor *root, lc_tensor *seed, int flags) {
  return run_backward(ctx, root, seed, flags, NULL);
}

lc_status lc_backward(lc_ctx *ctx, lc_tensor *root, lc_tensor *seed, int retain_graph) {
  return run_backward(ctx, root, seed, retain_graph ? LC_RETAIN_GRAPH : 0, NULL);
}

lc_status lc_grad_ex(lc_ctx *ctx, lc_tensor *root, lc_tensor *seed, int flags, int n,
                     lc_tensor **inputs, lc_tensor **out) {
  for (int i = 0; i < n; i++) out[i] = NULL;
  capture cap = {n, inputs, out};
  lc_status st = run_backward(ctx, root, seed, flags, &cap);
  if (st != LC_OK)
    for (int i = 0; i < n; i++) {
      lc_tensor_release(out[i]);
      out[i] = NULL;
    }
  return st;
}

lc_status lc_grad(lc_ctx *ctx, lc_tensor *root, lc_tensor *seed, int retain_graph, int n,
                  lc_tensor **inputs, lc_tensor **out) {
  return lc_grad_ex(ctx, root, seed, retain_graph ? LC_RETAIN_GRAPH : 0, n, inputs, out);
}

/* ---- cycles through a gradient's graph -------------------------------------------
 * A backward with LC_CREATE_GRAPH leaves in a leaf's .grad a tensor whose graph
 * refers back to the leaf (leaf -> grad -> nodes -> leaf), or to another leaf
 * whose .grad refers back to this one: cycles reference counting alone never
 * frees. Every release of a tensor whose grad has a graph that leaves it
 * alive asks lc__unreachable (tensor.c), which does what a cycle collector
 * does, on the objects reachable from t only ("trial deletion"): count, for
 * each tensor and node reachable from t, the references that come from
 * inside that set; whatever has more references than that is held from
 * outside, and so is everything it reaches. If t is not among those, only
 * the cycle keeps it, and the release drops its gradient, which frees the
 * cycle. The walk is paid only by tensors whose grad carries a graph. */

typedef struct gc_entry {
  const void *p;      /* a tensor or a node; NULL: an empty slot */
  int64_t inside;     /* references to it from objects of the set */
  int is_node, live;
} gc_entry;

typedef struct gc_set {
  gc_entry *e;
  size_t cap, n;      /* cap: a power of two, at least twice n */
} gc_set;

#define GC_MAX_OBJECTS ((size_t)1 << 22)  /* past this, give up: keep the gradient */

static gc_entry *gc_slot(const gc_set *s, const void *p) {
  uintptr_t h = (uintptr_t)p;
  h = (h ^ (h >> 17)) * (uintptr_t)0x9E3779B97F4A7C15ull;
  for (size_t i = (size_t)(h >> 5) & (s->cap - 1);; i = (i + 1) & (s->cap - 1))
    if (s->e[i].p == p || !s->e[i].p) return &s->e[i];
}

static int gc_grow(lc_ctx *ctx, gc_set *s) {
  size_t cap = s->cap ? s->cap * 2 : 64;
  gc_entry *e = (gc_entry *)lc__alloc(ctx, cap * sizeof *e);
  if (!e) return 0;
  memset(e, 0, cap * sizeof *e);
  gc_set bigger = {e, cap, s->n};
  for (size_t i = 0; i < s->cap; i++)
    if (s->e[i].p) *gc_slot(&bigger, s->e[i].p) = s->e[i];
  lc__free(ctx, s->e, s->cap * sizeof *s->e);
  *s = bigger;
  return 1;
}

/* Adds p to the set (new: pushed on `todo` to be walked); counts one
 * reference to it from inside when `counted`. */
static int gc_visit(lc_ctx *ctx, gc_set *s, work *todo, const void *p, int is_node, int counted) {
  if (!p) return 1;
  if (2 * (s->n + 1) > s->cap && (s->n >= GC_MAX_OBJECTS || !gc_grow(ctx, s))) return 0;
  gc_entry *e = gc_slot(s, p);
  if (!e->p) {
    e->p = p;
    e->is_node = is_node;
    s->n++;
    if (!work_push(ctx, todo, (void *)p)) return 0;  /* the object: entries move as the set grows */
  }
  e->inside += counted;
  return 1;
}

/* The objects a tensor or node (p, in the set) holds references to. */
static int gc_children(lc_ctx *ctx, gc_set *s, work *todo, const void *p) {
  if (gc_slot(s, p)->is_node) {
    const lc_node *n = (const lc_node *)p;
    int ok = gc_visit(ctx, s, todo, n->grad, 0, 1);
    for (int i = 0; ok && i < n->ninputs; i++) ok = gc_visit(ctx, s, todo, n->inputs[i], 0, 1);
    for (int i = 0; ok && i < LC_NODE_SAVED; i++) ok = gc_visit(ctx, s, todo, n->saved[i], 0, 1);
    return ok;
  }
  const lc_tensor *t = (const lc_tensor *)p;
  return gc_visit(ctx, s, todo, t->grad, 0, 1) && gc_visit(ctx, s, todo, t->bw_grad, 0, 1) &&
         gc_visit(ctx, s, todo, t->node, 1, 1);
}

static int64_t gc_refcount(const gc_entry *e) {
  return e->is_node ? ((const lc_node *)e->p)->refcount : ((const lc_tensor *)e->p)->refcount;
}

/* Marks e and everything it reaches live (entries are found again by
 * gc_slot: every child of an entry is in the set, and the set no longer
 * grows, so entry pointers stay valid). */
static int gc_mark_live(lc_ctx *ctx, gc_set *s, work *stack, gc_entry *root) {
  if (root->live) return 1;
  root->live = 1;
  stack->n = 0;
  if (!work_push(ctx, stack, root)) return 0;
  while (stack->n) {
    const gc_entry *e = (const gc_entry *)stack->items[--stack->n];
    const void *kids[3 + LC_NODE_SAVED];
    int nk = 0;
    const lc_node *n = e->is_node ? (const lc_node *)e->p : NULL;
    const lc_tensor *t = e->is_node ? NULL : (const lc_tensor *)e->p;
    if (n) {
      kids[nk++] = n->grad;
      for (int i = 0; i < LC_NODE_SAVED; i++) kids[nk++] = n->saved[i];
      for (int i = 0; i < n->ninputs; i++) {
        gc_entry *c = n->inputs[i] ? gc_slot(s, n->inputs[i]) : NULL;
        if (c && !c->live) {
          c->live = 1;
          if (!work_push(ctx, stack, c)) return 0;
        }
      }
    } else {
      kids[nk++] = t->grad;
      kids[nk++] = t->bw_grad;
      kids[nk++] = t->node;
    }
    for (int i = 0; i < nk; i++) {
      gc_entry *c = kids[i] ? gc_slot(s, kids[i]) : NULL;
      if (c && !c->live) {
        c->live = 1;
        if (!work_push(ctx, stack, c)) return 0;
      }
    }
  }
  return 1;
}

int lc__unreachable(lc_tensor *t) {
  lc_ctx *ctx = t->ctx;
  gc_set s = {0};
  work todo = {0};
  int ok = gc_visit(ctx, &s, &todo, t, 0, 0), dead = 0;
  while (ok && todo.n) ok = gc_children(ctx, &s, &todo, todo.items[--todo.n]);
  for (size_t i = 0; ok && i < s.cap; i++)
    if (s.e[i].p && gc_refcount(&s.e[i]) > s.e[i].inside) ok = gc_mark_live(ctx, &s, &todo, &s.e[i]);
  if (ok) dead = !gc_slot(&s, t)->live;
  lc__free(ctx, todo.items, todo.cap * sizeof *todo.items);
  lc__free(ctx, s.e, s.cap * sizeof *s.e);
  return dead;  /* out of memory part way: 0 (a leak beats a wrong answer) */
}

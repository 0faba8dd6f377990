/* autograd.c: the backward pass.
 *
 * lc_backward orders the graph with Kahn's algorithm over an explicit work
 * array (no recursion, so a chain of a million ops is fine): a first walk
 * counts, for every node, how many consumers inside this graph will send it
 * a gradient; a second walk runs a node once all of them have, adds what it
 * returns into its inputs' nodes (or into leaf .grad), and moves on.
 *
 * Each op's definition (lc_op_def) carries its backward rule; the rules of
 * the built-in ops are below, written with the forward ops (recording off),
 * so each is a few lines and broadcasting is undone by one helper (sum_to).
 * Other op families keep their rules beside their forward code. */
#include "internal.h"

#include <string.h>


/* ---- helpers for the rules ---------------------------------------------------- */

/* Sums g down to `shape`, undoing broadcasting: leading dims that the input
 * did not have, and dims where the input had size 1. */
lc_tensor *lc__sum_to(lc_ctx *ctx, lc_tensor *g, int ndim, const int64_t *shape) {
  lc_tensor_retain(g);
  while (g && g->ndim > ndim) {
    lc_tensor *s = lc_sum_dim(ctx, g, 0, 0);
    lc_tensor_release(g);
    g = s;
  }
  for (int i = 0; g && i < ndim; i++) {
    if (shape[i] == 1 && g->shape[i] != 1) {
      lc_tensor *s = lc_sum_dim(ctx, g, i, 1);
      lc_tensor_release(g);
      g = s;
    }
  }
  return g;
}

static lc_tensor *sum_to_input(lc_ctx *ctx, lc_tensor *g, const lc_tensor *input) {
  return g ? lc__sum_to(ctx, g, input->ndim, input->shape) : NULL;
}

/* Takes ownership of r (NULL passes through: an earlier step failed) and
 * sums it to input's shape. */
lc_tensor *lc__reduce_owned(lc_ctx *ctx, lc_tensor *r, const lc_tensor *input) {
  lc_tensor *s = sum_to_input(ctx, r, input);
  lc_tensor_release(r);
  return s;
}

/* Takes ownership of both and returns a op b (NULLs pass through). */
lc_tensor *lc__owned2(lc_ctx *ctx, lc_tensor *(*op)(lc_ctx *, lc_tensor *, lc_tensor *),
                      lc_tensor *a, lc_tensor *b) {
  lc_tensor *r = a && b ? op(ctx, a, b) : NULL;
  lc_tensor_release(a);
  lc_tensor_release(b);
  return r;
}

lc_tensor *lc__retained(lc_tensor *t) {
  lc_tensor_retain(t);
  return t;
}

static lc_tensor *transpose_last(lc_ctx *ctx, lc_tensor *t) {
  return lc_transpose(ctx, t, t->ndim - 2, t->ndim - 1);
}

/* ---- linear's backward, straight on BLAS --------------------------------------
 * gx (rows, in) = gy (rows, out) @ w (out, in)
 * gw (out, in)  = gy^T (out, rows) @ x (rows, in)
 * gb (out)      = gy summed over rows */
static int linear_backward(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  lc_tensor *x = n->inputs[0], *w = n->inputs[1], *b = n->ninputs > 2 ? n->inputs[2] : NULL;
  int64_t in = w->shape[1], outf = w->shape[0], rows = lc__leading_rows(x);
  lc_tensor *gy = lc__contig_raw(ctx, g);
  if (!gy) return 0;
  int ok = 1;
  if (x->requires_grad) {
    lc_tensor *wc = lc__contig_raw(ctx, w);
    grads[0] = wc ? lc_empty(ctx, x->dtype, x->ndim, x->shape) : NULL;
    if (grads[0])
      lc__k_gemm(x->dtype, 0, 0, rows, in, outf, 1.0, lc_tensor_data(gy), outf,
                 lc_tensor_data(wc), in, 0.0, lc_tensor_data(grads[0]), in);
    lc_tensor_release(wc);
    ok = ok && grads[0];
  }
  if (ok && w->requires_grad) {
    lc_tensor *xc = lc__contig_raw(ctx, x);
    grads[1] = xc ? lc_empty(ctx, w->dtype, 2, w->shape) : NULL;
    if (grads[1])
      lc__k_gemm(w->dtype, 1, 0, outf, in, rows, 1.0, lc_tensor_data(gy), outf,
                 lc_tensor_data(xc), in, 0.0, lc_tensor_data(grads[1]), in);
    lc_tensor_release(xc);
    ok = ok && grads[1];
  }
  if (ok && b && b->requires_grad) {
    int64_t s2[2] = {rows, outf};
    lc_tensor *g2 = lc__view(ctx, gy, 2, s2, (int64_t[]){outf, 1}, gy->offset);
    grads[2] = g2 ? lc_sum_dim(ctx, g2, 0, 0) : NULL;
    lc_tensor_release(g2);
    ok = ok && grads[2];
  }
  lc_tensor_release(gy);
  return ok;
}

/* ---- the built-in ops' rules ------------------------------------------------
 * a, b: the inputs; need_a, need_b: whether they want a gradient. */
#define RULE(name) static int name(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads)
#define INPUTS                                                      \
  lc_tensor *a = n->inputs[0], *b = n->ninputs > 1 ? n->inputs[1] : NULL; \
  int need_a = a->requires_grad, need_b = b && b->requires_grad;    \
  (void)need_a; (void)need_b; (void)ctx; (void)g

RULE(rule_add) {
  INPUTS;
  if (need_a) grads[0] = sum_to_input(ctx, g, a);
  if (need_b) grads[1] = sum_to_input(ctx, g, b);
  return 1;
}

RULE(rule_sub) {
  INPUTS;
  if (need_a) grads[0] = sum_to_input(ctx, g, a);
  if (need_b) grads[1] = lc__reduce_owned(ctx, lc_neg(ctx, g), b);
  return 1;
}

RULE(rule_mul) {
  INPUTS;
  if (need_a) grads[0] = lc__reduce_owned(ctx, lc_mul(ctx, g, b), a);
  if (need_b) grads[1] = lc__reduce_owned(ctx, lc_mul(ctx, g, a), b);
  return 1;
}

RULE(rule_div) {  /* d(a/b)/da = 1/b, d(a/b)/db = -a/b^2 */
  INPUTS;
  if (need_a) grads[0] = lc__reduce_owned(ctx, lc_div(ctx, g, b), a);
  if (need_b) {
    lc_tensor *q = lc__owned2(ctx, lc_div, lc_mul(ctx, g, a), lc_pow_scalar(ctx, b, 2.0));
    grads[1] = lc__reduce_owned(ctx, q ? lc_neg(ctx, q) : NULL, b);
    lc_tensor_release(q);
  }
  return 1;
}

RULE(rule_pow) {  /* the kernels give PyTorch's values where a or b is 0 */
  INPUTS;
  if (need_a) {
    lc_tensor *d = lc__binary_raw(ctx, LC_BIN_POW_DBASE, a, b);
    grads[0] = lc__reduce_owned(ctx, lc__owned2(ctx, lc_mul, lc__retained(g), d), a);
  }
  if (need_b) {
    lc_tensor *d = lc__binary_raw(ctx, LC_BIN_POW_DEXP, a, b);
    grads[1] = lc__reduce_owned(ctx, lc__owned2(ctx, lc_mul, lc__retained(g), d), b);
  }
  return 1;
}

RULE(rule_pow_scalar) {  /* d(a^s)/da = s a^(s-1); 0 for s = 0, even at a = 0 */
  INPUTS;
  double s = n->scalar[0];
  lc_tensor *p = s == 0.0 || s == 1.0
                     ? lc_full(ctx, a->dtype, a->ndim, a->shape, s)
                     : lc__owned2(ctx, lc_mul, lc_pow_scalar(ctx, a, s - 1.0),
                              lc_scalar(ctx, a->dtype, s));
  grads[0] = lc__owned2(ctx, lc_mul, lc__retained(g), p);
  return 1;
}

RULE(rule_neg) {
  INPUTS;
  grads[0] = lc_neg(ctx, g);
  return 1;
}

RULE(rule_tanh) {  /* gx = gy (1 - y^2), from the saved output y */
  INPUTS;
  if ((grads[0] = lc_empty(ctx, a->dtype, a->ndim, a->shape)))
    lc__k_binary(LC_BIN_TANH_GRAD, grads[0], g, g->strides, n->saved[0], n->saved[0]->strides);
  return 1;
}

RULE(rule_log) {
  INPUTS;
  grads[0] = lc_div(ctx, g, a);
  return 1;
}

RULE(rule_cast) {
  INPUTS;
  grads[0] = lc_to_dtype(ctx, g, a->dtype);
  return 1;
}

RULE(rule_matmul) {  /* ga = g @ b^T, gb = a^T @ g, summed over broadcast batches */
  INPUTS;
  if (need_a) grads[0] = lc__reduce_owned(ctx, lc__owned2(ctx, lc_matmul, lc__retained(g), transpose_last(ctx, b)), a);
  if (need_b) grads[1] = lc__reduce_owned(ctx, lc__owned2(ctx, lc_matmul, transpose_last(ctx, a), lc__retained(g)), b);
  return 1;
}

RULE(rule_sum) {
  INPUTS;
  grads[0] = lc_expand(ctx, g, a->ndim, a->shape);
  return 1;
}

RULE(rule_mean) {
  INPUTS;
  lc_tensor *m = lc__owned2(ctx, lc_mul, lc__retained(g), lc_scalar(ctx, g->dtype, 1.0 / (double)a->numel));
  grads[0] = m ? lc_expand(ctx, m, a->ndim, a->shape) : NULL;
  lc_tensor_release(m);
  return 1;
}

/* sum and mean over one dim: put the dim back (size 1), then expand */
static int reduce_dim_rule(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads, int mean) {
  lc_tensor *a = n->inputs[0];
  int64_t s[LC_MAX_DIMS];
  for (int i = 0; i < a->ndim; i++) s[i] = i == n->dim0 ? 1 : a->shape[i];
  lc_tensor *k = lc_reshape(ctx, g, a->ndim, s);
  if (mean) k = lc__owned2(ctx, lc_mul, k, lc_scalar(ctx, g->dtype, 1.0 / (double)a->shape[n->dim0]));
  grads[0] = k ? lc_expand(ctx, k, a->ndim, a->shape) : NULL;
  lc_tensor_release(k);
  return 1;
}

RULE(rule_sum_dim) { return reduce_dim_rule(ctx, n, g, grads, 0); }
RULE(rule_mean_dim) { return reduce_dim_rule(ctx, n, g, grads, 1); }

RULE(rule_reshape) {
  INPUTS;
  grads[0] = lc_reshape(ctx, g, a->ndim, a->shape);
  return 1;
}

RULE(rule_transpose) {
  INPUTS;
  grads[0] = lc_transpose(ctx, g, n->dim0, n->dim1);
  return 1;
}

RULE(rule_select) {  /* zeros, with g written into the selected slice */
  INPUTS;
  lc_tensor *z = lc_zeros(ctx, a->dtype, a->ndim, a->shape);
  lc_tensor *slot = z ? lc_select(ctx, z, n->dim0, n->index) : NULL;
  if (slot && lc_copy_(ctx, slot, g) == LC_OK) grads[0] = lc__retained(z);
  lc_tensor_release(slot);
  lc_tensor_release(z);
  return 1;
}

RULE(rule_expand) {
  INPUTS;
  grads[0] = sum_to_input(ctx, g, a);
  return 1;
}

RULE(rule_clone) {
  INPUTS;
  grads[0] = lc__retained(g);
  return 1;
}

const lc_op_def lc__def_add = {"AddBackward", rule_add};
const lc_op_def lc__def_sub = {"SubBackward", rule_sub};
const lc_op_def lc__def_mul = {"MulBackward", rule_mul};
const lc_op_def lc__def_div = {"DivBackward", rule_div};
const lc_op_def lc__def_pow = {"PowBackward", rule_pow};
const lc_op_def lc__def_pow_scalar = {"PowBackward", rule_pow_scalar};
const lc_op_def lc__def_neg = {"NegBackward", rule_neg};
const lc_op_def lc__def_tanh = {"TanhBackward", rule_tanh};
const lc_op_def lc__def_log = {"LogBackward", rule_log};
const lc_op_def lc__def_cast = {"ToCopyBackward", rule_cast};
const lc_op_def lc__def_matmul = {"MatmulBackward", rule_matmul};
const lc_op_def lc__def_linear = {"LinearBackward", linear_backward};
const lc_op_def lc__def_sum = {"SumBackward", rule_sum};
const lc_op_def lc__def_sum_dim = {"SumBackward", rule_sum_dim};
const lc_op_def lc__def_mean = {"MeanBackward", rule_mean};
const lc_op_def lc__def_mean_dim = {"MeanBackward", rule_mean_dim};
const lc_op_def lc__def_reshape = {"ReshapeBackward", rule_reshape};
const lc_op_def lc__def_transpose = {"TransposeBackward", rule_transpose};
const lc_op_def lc__def_select = {"SelectBackward", rule_select};
const lc_op_def lc__def_expand = {"ExpandBackward", rule_expand};
const lc_op_def lc__def_clone = {"CloneBackward", rule_clone};


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
  lc_tensor_release(*slot);
  *slot = s;
  return 1;
}

/* A leaf's .grad is the user's to keep and to change in place (optimizers
 * do), so it gets its own contiguous storage of the leaf's dtype and shape;
 * later gradients are added into it in place. */
static int accumulate_leaf(lc_ctx *ctx, lc_tensor *leaf, lc_tensor *g) {
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
    lc_tensor_release(leaf->grad);
    leaf->grad = c;
    return 1;
  }
  lc_tensor *gg = g;
  if (g->dtype != leaf->grad->dtype && !(gg = lc_to_dtype(ctx, g, leaf->grad->dtype))) return 0;
  int64_t sg[LC_MAX_DIMS];
  int ok = 1;
  int off = leaf->grad->ndim - gg->ndim;
  if (off != 0) ok = 0;
  for (int i = 0; ok && i < gg->ndim; i++) sg[i] = gg->strides[i];
  if (ok) lc__k_binary(LC_BIN_ADD, leaf->grad, leaf->grad, leaf->grad->strides, gg, sg);
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
  if (!t->node || t->retains_grad) return accumulate_leaf(ctx, t, *g);
  return 1;
}

static lc_status run_backward(lc_ctx *ctx, lc_tensor *root, lc_tensor *seed, int retain_graph,
                              const capture *cap) {
  if (!root->requires_grad)
    return lc__fail(ctx, LC_ESTATE, "the tensor does not require grad and has no grad_fn");
  if (seed) {
    int same = seed->ndim == root->ndim;
    for (int i = 0; same && i < root->ndim; i++) same = seed->shape[i] == root->shape[i];
    if (!same) {
      char a[160], b[160];
      lc_shape_str(a, sizeof a, seed->ndim, seed->shape);
      lc_shape_str(b, sizeof b, root->ndim, root->shape);
      return lc__fail(ctx, LC_ESHAPE, "gradient of shape %s does not match the tensor's shape %s", a, b);
    }
  }
  int was_enabled = lc_ctx_set_grad_enabled(ctx, 0);
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
    n->refcount++;  /* dropping one node's inputs must not free another in `order` */
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
    for (int i = 0; ok && i < n->ninputs; i++)  /* a NULL where one is wanted: out of memory */
      if (n->inputs[i] && n->inputs[i]->requires_grad && !grads[i]) ok = 0;
    lc_tensor_release(n->grad);
    n->grad = NULL;
    for (int i = 0; i < n->ninputs; i++) {
      lc_tensor *in = n->inputs[i];
      if (!in || !in->requires_grad) continue;
      if (ok && grads[i]) {
        if (in->node) {
          ok = accumulate(ctx, &in->node->grad, grads[i]);
        } else {
          if (!in->bw_grad && ok) {
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
    lc_tensor_release(leaf->bw_grad);
    leaf->bw_grad = NULL;
    lc_tensor_release(leaf);
  }

out:
  /* whatever happened, no node keeps a half-made gradient */
  for (size_t i = 0; i < order.n; i++) {
    lc_tensor_release(NODE_AT(order, i)->grad);
    NODE_AT(order, i)->grad = NULL;
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

lc_status lc_backward(lc_ctx *ctx, lc_tensor *root, lc_tensor *seed, int retain_graph) {
  return run_backward(ctx, root, seed, retain_graph, NULL);
}

lc_status lc_grad(lc_ctx *ctx, lc_tensor *root, lc_tensor *seed, int retain_graph, int n,
                  lc_tensor **inputs, lc_tensor **out) {
  for (int i = 0; i < n; i++) out[i] = NULL;
  capture cap = {n, inputs, out};
  lc_status st = run_backward(ctx, root, seed, retain_graph, &cap);
  if (st != LC_OK)
    for (int i = 0; i < n; i++) {
      lc_tensor_release(out[i]);
      out[i] = NULL;
    }
  return st;
}

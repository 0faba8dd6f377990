/* plan.c: tracing a forward and replaying it (see lc_plan.h).
 *
 * The trace is the autograd graph itself, recorded for every op (even of
 * tensors that require no grad) and listed in the order the ops ran. A node
 * has what a replay needs: its inputs, its arguments (lc_node_args) and its
 * output, which the plan keeps as the step's buffer; the family's replay
 * function (lc__opdef.replay) recomputes the output in place. Views share
 * their input's elements, so their replay has nothing to do. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct lc__trace lc__trace;

/* A recorded node and its output then (an in-place write may move the node
 * to another header later), both retained. */
typedef struct traced {
  lc_node *n;
  lc_tensor *out;
} traced;

typedef struct opaque_t {
  lc_tensor *t;        /* retained */
  const char *what;
} opaque_t;

/* A detached view made during the trace and the tensor it views (both
 * retained, so that neither address is reused while the trace lasts). */
typedef struct alias_t {
  lc_tensor *view, *src;
} alias_t;

struct lc__trace {
  uint64_t start_id;     /* tensors with larger ids were made during the trace */
  uint64_t start_clock;  /* a write later than this happened during the trace */
  traced *ent;           /* in the order recorded */
  size_t n, cap;
  opaque_t *opq;
  size_t nopq, capopq;
  alias_t *als;
  size_t nals, capals;
  int oom;               /* a list could not grow: the trace is incomplete */
  int drew;              /* random numbers were drawn */
  int wrote_old;         /* elements made before the trace were written in place */
  char wrote_what[LC_SHAPE_STR + 16];  /* the first such tensor: dtype and shape */
};

struct lc_plan {
  int64_t refs;          /* the owner (lc_plan_free), plus one per recorded result */
  uint64_t runs;         /* runs so far: a recorded result knows which run it is of */
  lc_ctx *run;           /* the plan's own context: scratch, errors */
  lc_ctx *owner;         /* the traced context (a reference) */
  int nin, nout, capin, capout;
  lc_tensor **in, **out; /* retained */
  int64_t nsteps, capsteps;
  lc_node **steps;       /* retained; each with its output (also retained) */
  unsigned char *fuse;   /* fuse[i]: an lc__act when step i is a Linear computed with
                            step i + 1's activation in its epilogue (step i + 1 skipped) */
  int nleaves, capleaves;
  lc_tensor **leaves;    /* retained: the float tensors made before the trace that steps
                            read (parameters): where a recorded result's gradient goes */
  struct plan_key *keys; /* [nkeys] the steps' outputs, inputs and leaves by address, for
                            a recorded run's backward (rule_plan), made on its first */
  int64_t nkeys;
};

/* Where a tensor a step's rule gives a gradient for sits in the plan. */
typedef enum { KEY_STEP, KEY_INPUT, KEY_LEAF } key_kind;
struct plan_key {
  const lc_tensor *t;
  key_kind kind;
  int64_t ix;          /* the step's, input's or leaf's index */
};

static int grow(lc_ctx *ctx, void **p, size_t *cap, size_t size) {
  size_t ncap = *cap ? *cap * 2 : 64;
  void *q = lc__alloc(ctx, ncap * size);
  if (!q) return 0;
  if (*cap) memcpy(q, *p, *cap * size);
  lc__free(ctx, *p, *cap * size);
  *p = q;
  *cap = ncap;
  return 1;
}

void lc__trace_node(lc_ctx *ctx, lc_node *n) {
  lc__trace *tr = ctx->trace;
  if (tr->n == tr->cap && !grow(ctx, (void **)&tr->ent, &tr->cap, sizeof *tr->ent)) {
    tr->oom = 1;
    return;
  }
  n->refcount++;
  lc_tensor_retain(n->out);  /* the node's pointer to its output is weak */
  tr->ent[tr->n].n = n;
  tr->ent[tr->n++].out = n->out;
}

void lc__trace_opaque(lc_ctx *ctx, lc_tensor *t, const char *what) {
  lc__trace *tr = ctx->trace;
  if (!tr || !t) return;
  if (tr->nopq == tr->capopq && !grow(ctx, (void **)&tr->opq, &tr->capopq, sizeof *tr->opq)) {
    tr->oom = 1;
    return;
  }
  lc_tensor_retain(t);
  tr->opq[tr->nopq].t = t;
  tr->opq[tr->nopq++].what = what;
}

void lc__trace_alias(lc_ctx *ctx, lc_tensor *view, lc_tensor *src) {
  lc__trace *tr = ctx->trace;
  if (!view) return;
  if (tr->nals == tr->capals && !grow(ctx, (void **)&tr->als, &tr->capals, sizeof *tr->als)) {
    tr->oom = 1;
    return;
  }
  tr->als[tr->nals].view = lc__retained(view);
  tr->als[tr->nals++].src = lc__retained(src);
}

void lc__trace_drew(lc_ctx *ctx) { ctx->trace->drew = 1; }

void lc__trace_wrote(lc_ctx *ctx, const lc_tensor *t) {
  lc__trace *tr = ctx->trace;
  if (t->storage->first_id > tr->start_id || tr->wrote_old) return;
  char s[LC_SHAPE_STR];
  lc_shape_str(s, sizeof s, t->ndim, t->shape);
  tr->wrote_old = 1;
  snprintf(tr->wrote_what, sizeof tr->wrote_what, "%s %s", lc_dtype_name(t->dtype), s);
}

lc_status lc_trace_begin(lc_ctx *ctx) {
  if (ctx->trace) return lc__fail(ctx, LC_ESTATE, "a trace is already being recorded");
  lc__trace *tr = (lc__trace *)lc__alloc(ctx, sizeof *tr);
  if (!tr) return LC_ENOMEM;
  memset(tr, 0, sizeof *tr);
  tr->start_id = ctx->next_id;
  /* the clock moves on, so that a tensor made during the trace is born
   * after start_clock even when nothing was written before it (a number's
   * 0-d tensor, filled when made, is not "written after it was made") */
  tr->start_clock = ctx->write_clock++;
  ctx->trace = tr;
  return LC_OK;
}

/* Drops the trace's lists; the nodes kept by a plan hold references of their own. */
static void trace_free(lc_ctx *ctx, lc__trace *tr) {
  for (size_t i = 0; i < tr->n; i++) {
    lc__node_release(tr->ent[i].n);
    lc_tensor_release(tr->ent[i].out);
  }
  for (size_t i = 0; i < tr->nopq; i++) lc_tensor_release(tr->opq[i].t);
  for (size_t i = 0; i < tr->nals; i++) {
    lc_tensor_release(tr->als[i].view);
    lc_tensor_release(tr->als[i].src);
  }
  if (tr->capals) lc__free(ctx, tr->als, tr->capals * sizeof *tr->als);
  if (tr->cap) lc__free(ctx, tr->ent, tr->cap * sizeof *tr->ent);
  if (tr->capopq) lc__free(ctx, tr->opq, tr->capopq * sizeof *tr->opq);
  lc__free(ctx, tr, sizeof *tr);
}

int lc_tracing(const lc_ctx *ctx) { return ctx->trace != NULL; }

void lc_trace_abort(lc_ctx *ctx) {
  lc__trace *tr = ctx->trace;
  if (!tr) return;
  ctx->trace = NULL;
  trace_free(ctx, tr);
}

/* The op's name for messages: its node's, without "Backward" and what follows. */
static void op_name(char *buf, size_t size, const lc_node *n) {
  const char *name = n->def->name ? n->def->name : "an op";
  const char *b = strstr(name, "Backward");
  size_t len = b ? (size_t)(b - name) : strlen(name);
  if (len >= size) len = size - 1;
  memcpy(buf, name, len);
  buf[len] = '\0';
}

/* The tensor a detached view made during the trace views, or NULL. */
static const lc_tensor *alias_src(const lc__trace *tr, const lc_tensor *t) {
  for (size_t i = tr->nals; i-- > 0;)
    if (tr->als[i].view == t) return tr->als[i].src;
  return NULL;
}

/* The entry before `before` that made t, or -1. A detached view (t:detach()
 * of a result inside the forward) is what it views: the step's replay
 * writes what the view reads. */
static ptrdiff_t source_of(const lc__trace *tr, const lc_tensor *t, size_t before) {
  for (size_t i = before; i-- > 0;)
    if (tr->ent[i].n->out == t) return (ptrdiff_t)i;
  const lc_tensor *src = alias_src(tr, t);
  return src ? source_of(tr, src, before) : -1;
}
static lc_node *producer(const lc__trace *tr, const lc_tensor *t, size_t before) {
  ptrdiff_t i = source_of(tr, t, before);
  return i >= 0 ? tr->ent[i].n : NULL;
}

static const char *opaque_what(const lc__trace *tr, const lc_tensor *t) {
  for (size_t i = 0; i < tr->nopq; i++)
    if (tr->opq[i].t == t) return tr->opq[i].what;
  const lc_tensor *src = alias_src(tr, t);
  return src ? opaque_what(tr, src) : NULL;  /* a detached view: what it views */
}

static int is_input(int nin, lc_tensor **in, const lc_tensor *t) {
  for (int i = 0; i < nin; i++)
    if (in[i] == t) return 1;
  return 0;
}

/* When the forward first used t's elements: the earliest step reading or
 * making them, or the trace's start for elements made before it (an
 * input, a parameter). A write after that is one a replay would not make. */
static uint64_t first_use(const lc__trace *tr, const char *need, const lc_tensor *t) {
  if (t->id <= tr->start_id) return tr->start_clock;
  uint64_t first = UINT64_MAX;
  for (size_t i = 0; i < tr->n; i++) {
    const lc_node *n = tr->ent[i].n;
    if (!need[i] || n->recorded_at >= first) continue;
    int touches = n->out->storage == t->storage;
    for (int k = 0; !touches && k < n->ninputs; k++)
      touches = n->inputs[k] && n->inputs[k]->storage == t->storage;
    if (touches) first = n->recorded_at;
  }
  return first;
}

/* Whether t, read by the plan (by step `at`, or as an output when at is
 * tr->n), is an input, a step's result or a constant; the reason otherwise. */
static int check_source(lc_ctx *ctx, const lc__trace *tr, const char *need, size_t at, int nin,
                        lc_tensor **in, const lc_tensor *t, const char *reader, int result) {
  char s[LC_SHAPE_STR];
  lc_shape_str(s, sizeof s, t->ndim, t->shape);
  if (t->storage->version > tr->start_clock && t->storage->version > first_use(tr, need, t)) {
    lc__fail(ctx, LC_ESTATE, "%s%s (%s %s) was written in place during the forward after it "
             "was made or read; a plan replays ops, not in-place writes: use the out-of-place "
             "form", reader, result ? "'s result" : "", lc_dtype_name(t->dtype), s);
    return 0;
  }
  if (is_input(nin, in, t) || t->id <= tr->start_id || producer(tr, t, at)) return 1;
  const char *what = opaque_what(tr, t);
  if (!what) return 1;  /* made from nothing during the forward: a constant */
  lc__fail(ctx, LC_EARG, "%s reads a %s %s tensor made by %s, which a plan cannot replay "
           "(comparisons, integer results, random draws and custom functions are not "
           "compiled)", reader, lc_dtype_name(t->dtype), s, what);
  return 0;
}

static void mark_needed(const lc__trace *tr, char *need, size_t i) {
  need[i] = 1;
  const lc_node *n = tr->ent[i].n;
  for (int k = 0; k < n->ninputs; k++) {
    ptrdiff_t j = n->inputs[k] ? source_of(tr, n->inputs[k], i) : -1;
    if (j >= 0 && !need[j]) mark_needed(tr, need, (size_t)j);
  }
}

static lc_plan *plan_fail(lc_ctx *ctx, lc__trace *tr, char *need, lc_plan *p) {
  lc__free(ctx, need, tr->n ? tr->n : 1);
  trace_free(ctx, tr);
  lc_plan_free(p);
  return NULL;
}

static int is_leaf_of(const lc_plan *p, const lc__trace *tr, const lc_tensor *t) {
  return t && t->id <= tr->start_id && lc_dtype_is_float(t->dtype) && !is_input(p->nin, p->in, t) &&
         !is_input(p->nleaves, p->leaves, t);
}

/* The leaves: what the steps read, and an output made before the trace (a
 * forward returning a parameter itself), whose gradient is the result's. */
static int collect_leaves(lc_ctx *ctx, lc_plan *p, const lc__trace *tr) {
  int cap = p->nout;
  for (int64_t i = 0; i < p->nsteps; i++) cap += p->steps[i]->ninputs;
  if (!(p->leaves = (lc_tensor **)lc__alloc(ctx, sizeof *p->leaves * (size_t)(cap ? cap : 1))))
    return 0;
  p->capleaves = cap ? cap : 1;
  for (int64_t i = 0; i < p->nsteps; i++) {
    const lc_node *n = p->steps[i];
    for (int k = 0; k < n->ninputs; k++)
      if (is_leaf_of(p, tr, n->inputs[k])) p->leaves[p->nleaves++] = lc__retained(n->inputs[k]);
  }
  for (int o = 0; o < p->nout; o++)
    if (is_leaf_of(p, tr, p->out[o])) p->leaves[p->nleaves++] = lc__retained(p->out[o]);
  return 1;
}

/* Whether a step other than `except`, or an output, reads t's elements. */
static int read_elsewhere(const lc_plan *p, const lc_tensor *t, int64_t except) {
  for (int o = 0; o < p->nout; o++)
    if (p->out[o]->storage == t->storage) return 1;
  for (int64_t j = 0; j < p->nsteps; j++) {
    const lc_node *n = p->steps[j];
    if (j == except || n->out == t) continue;
    for (int k = 0; k < n->ninputs; k++)
      if (n->inputs[k] && n->inputs[k]->storage == t->storage) return 1;
    for (int k = 0; k < LC_NODE_SAVED; k++)
      if (n->saved[k] && n->saved[k]->storage == t->storage) return 1;
  }
  return 0;
}

/* A float32 Linear whose result only its activation reads (ReLU, tanh or
 * sigmoid: see lc__unary_act) is computed with the activation in the GEMM's epilogue,
 * straight into the activation's output: one pass over the result instead
 * of two, the same bits. The Linear's own buffer is then not written, which
 * nothing reads (a recorded run's rules read Linear's inputs and the
 * activation's output: the three rules read their result), so it becomes a
 * view of the activation's and its memory goes. */
static void find_fusions(lc_plan *p) {
  memset(p->fuse, 0, (size_t)p->capsteps);
  for (int64_t i = 0; i + 1 < p->nsteps; i++) {
    lc_node *lin = p->steps[i], *act = p->steps[i + 1];
    lc__act a = lc__unary_act(act);
    if (a == LC__ACT_NONE || act->inputs[0] != lin->out || !lc__linear_fusable(lin) ||
        !lc_tensor_is_contiguous(act->out) || read_elsewhere(p, lin->out, i + 1))
      continue;
    p->fuse[i] = (unsigned char)a;
    lc__share_storage(lin->out, act->out);  /* its memory back: never written now */
    i++;
  }
}

lc_plan *lc_trace_end(lc_ctx *ctx, int nin, lc_tensor **in, int nout, lc_tensor **out) {
  lc__trace *tr = ctx->trace;
  if (!tr) {
    lc__fail(ctx, LC_ESTATE, "no trace is being recorded");
    return NULL;
  }
  ctx->trace = NULL;
  char *need = (char *)lc__alloc(ctx, tr->n ? tr->n : 1);
  if (!need || tr->oom) {
    if (need) lc__fail(ctx, LC_ENOMEM, "not enough memory");
    return plan_fail(ctx, tr, need, NULL);
  }
  memset(need, 0, tr->n ? tr->n : 1);
  if (tr->wrote_old) {
    lc__fail(ctx, LC_ESTATE, "the forward wrote in place into a tensor made before it (%s: "
             "running statistics, a buffer, a parameter or an input), which a plan would not "
             "write again: compile in eval mode, or without the write", tr->wrote_what);
    return plan_fail(ctx, tr, need, NULL);
  }
  if (tr->drew) {
    lc__fail(ctx, LC_EARG, "the forward drew random numbers (dropout in training mode, rand, "
             "...), which a plan would not draw again: compile in eval mode, without draws");
    return plan_fail(ctx, tr, need, NULL);
  }
  for (int i = 0; i < nin; i++)
    if (!lc_tensor_is_contiguous(in[i])) {
      lc__fail(ctx, LC_EARG, "input %d of a plan must be contiguous", i + 1);
      return plan_fail(ctx, tr, need, NULL);
    }
  for (int o = 0; o < nout; o++)
    for (size_t j = tr->n; j-- > 0;)
      if (tr->ent[j].n->out == out[o]) {
        if (!need[j]) mark_needed(tr, need, j);
        break;
      }
  for (int o = 0; o < nout; o++) {
    char reader[32];
    snprintf(reader, sizeof reader, "output %d", o + 1);
    if (!check_source(ctx, tr, need, tr->n, nin, in, out[o], reader, 0))
      return plan_fail(ctx, tr, need, NULL);
  }
  int64_t nsteps = 0;
  for (size_t i = 0; i < tr->n; i++) {
    if (!need[i]) continue;
    lc_node *n = tr->ent[i].n;
    char name[64], reader[96];
    op_name(name, sizeof name, n);
    if (!((const lc__opdef *)n->def)->replay) {
      lc__fail(ctx, LC_EARG, "%s cannot be compiled yet (no replay for it in the core)", name);
      return plan_fail(ctx, tr, need, NULL);
    }
    if (!check_source(ctx, tr, need, i, nin, in, n->out, name, 1))
      return plan_fail(ctx, tr, need, NULL);
    for (int k = 0; k < n->ninputs; k++) {
      snprintf(reader, sizeof reader, "%s (input %d)", name, k + 1);
      if (n->inputs[k] && !check_source(ctx, tr, need, i, nin, in, n->inputs[k], reader, 0))
        return plan_fail(ctx, tr, need, NULL);
    }
    nsteps++;
  }
  lc_plan *p = (lc_plan *)lc__alloc(ctx, sizeof *p);
  if (!p) return plan_fail(ctx, tr, need, NULL);
  memset(p, 0, sizeof *p);
  p->refs = 1;
  p->owner = ctx;
  ctx->refcount++;
  p->capin = nin ? nin : 1;
  p->capout = nout ? nout : 1;
  p->capsteps = nsteps ? nsteps : 1;
  if (!(p->run = lc_ctx_new(ctx->alloc, ctx->alloc_ud)) ||
      !(p->in = (lc_tensor **)lc__alloc(ctx, sizeof *p->in * (size_t)p->capin)) ||
      !(p->out = (lc_tensor **)lc__alloc(ctx, sizeof *p->out * (size_t)p->capout)) ||
      !(p->steps = (lc_node **)lc__alloc(ctx, sizeof *p->steps * (size_t)p->capsteps)) ||
      !(p->fuse = (unsigned char *)lc__alloc(ctx, (size_t)p->capsteps))) {
    if (!p->run) lc__fail(ctx, LC_ENOMEM, "not enough memory");
    return plan_fail(ctx, tr, need, p);
  }
  p->run->keep_packed = 1;  /* runs read the weights' panels packed once */
  p->run->grad_enabled = 0;
  p->run->default_dtype = ctx->default_dtype;
  for (; p->nin < nin; p->nin++) p->in[p->nin] = lc__retained(in[p->nin]);
  for (; p->nout < nout; p->nout++) p->out[p->nout] = lc__retained(out[p->nout]);
  for (size_t i = 0; i < tr->n; i++) {
    if (!need[i]) continue;
    lc_node *n = tr->ent[i].n;
    n->refcount++;
    lc_tensor_retain(n->out);
    p->steps[p->nsteps++] = n;
  }
  if (!collect_leaves(ctx, p, tr)) return plan_fail(ctx, tr, need, p);
  find_fusions(p);
  /* The steps' outputs become plain buffers: their graphs were the trace's,
   * and the plan holds the nodes itself. */
  for (int64_t i = 0; i < p->nsteps; i++) {
    lc_tensor *o = p->steps[i]->out;
    if (o->node == p->steps[i]) {
      o->node = NULL;
      p->steps[i]->refcount--;  /* the output's reference, now the plan's */
    }
    o->requires_grad = 0;
  }
  lc__free(ctx, need, tr->n ? tr->n : 1);
  trace_free(ctx, tr);
  return p;
}

lc_status lc_plan_run(lc_plan *p) {
  lc_ctx *run = p->run;
  run->status = LC_OK;
  run->err[0] = '\0';
  p->runs++;
  for (int64_t i = 0; i < p->nsteps; i++) {
    lc_node *n = p->steps[i];
    if (p->fuse[i]) {
      lc__act act = (lc__act)p->fuse[i];
      i++;  /* the activation's step: done here */
      lc__linear_act_replay(run, n, p->steps[i]->out, act);
      continue;
    }
    if (!((const lc__opdef *)n->def)->replay(run, n)) {
      if (run->status == LC_OK) lc__fail(run, LC_ESTATE, "a step failed");
      return run->status;
    }
  }
  return LC_OK;
}

const char *lc_plan_error(const lc_plan *p) { return p->run->err; }
void lc_plan_fail(lc_plan *p, const char *why) { lc__fail(p->run, LC_EARG, "%s", why); }
void lc_plan_wrote(lc_plan *p) {
  for (int i = 0; i < p->nout; i++) lc__wrote(p->out[i]);
}
int lc_plan_ninputs(const lc_plan *p) { return p->nin; }
int lc_plan_noutputs(const lc_plan *p) { return p->nout; }
lc_tensor *lc_plan_input(const lc_plan *p, int i) { return i >= 0 && i < p->nin ? p->in[i] : NULL; }
lc_tensor *lc_plan_output(const lc_plan *p, int i) {
  return i >= 0 && i < p->nout ? p->out[i] : NULL;
}
int64_t lc_plan_nsteps(const lc_plan *p) { return p->nsteps; }
const char *lc_plan_step_name(const lc_plan *p, int64_t i) {
  return i >= 0 && i < p->nsteps ? p->steps[i]->def->name : NULL;
}
int lc_plan_step_fused(const lc_plan *p, int64_t i) {
  return i >= 0 && i < p->nsteps && p->fuse[i];
}

void lc_plan_free(lc_plan *p) {
  if (!p || --p->refs > 0) return;
  lc_ctx *ctx = p->owner;
  for (int i = 0; i < p->nleaves; i++) lc_tensor_release(p->leaves[i]);
  if (p->leaves) lc__free(ctx, p->leaves, sizeof *p->leaves * (size_t)p->capleaves);
  for (int64_t i = 0; i < p->nsteps; i++) {
    lc_tensor *o = p->steps[i]->out;
    lc__node_release(p->steps[i]);
    lc_tensor_release(o);
  }
  for (int i = 0; i < p->nin; i++) lc_tensor_release(p->in[i]);
  for (int i = 0; i < p->nout; i++) lc_tensor_release(p->out[i]);
  if (p->steps) lc__free(ctx, p->steps, sizeof *p->steps * (size_t)p->capsteps);
  if (p->fuse) lc__free(ctx, p->fuse, (size_t)p->capsteps);
  if (p->in) lc__free(ctx, p->in, sizeof *p->in * (size_t)p->capin);
  if (p->out) lc__free(ctx, p->out, sizeof *p->out * (size_t)p->capout);
  if (p->run) lc_ctx_free(p->run);
  if (p->keys) lc__free(ctx, p->keys, sizeof *p->keys * (size_t)p->nkeys);
  lc__free(ctx, p, sizeof *p);
  lc__ctx_unref(ctx);
}

/* ---- a recorded run: one node for the whole plan --------------------------------- */

/* What a recorded result's node keeps: the plan (a reference), which run
 * made the values in the plan's buffers that the rule reads, the tensors
 * that run read its inputs from (retained; a copy of a plan input buffer,
 * which the next run overwrites), so that a backward after later runs can
 * compute that run again, and where each node input's gradient comes from:
 * leaf l (l >= 0) or plan input -(w + 1). */
typedef struct plan_rec {
  lc_plan *p;
  uint64_t run;
  lc_tensor **xs;        /* [p->nin] */
  int n;
  int which[];
} plan_rec;

static size_t xs_size(const lc_plan *p) { return sizeof(lc_tensor *) * (size_t)(p->nin ? p->nin : 1); }

static void rec_free(lc_ctx *ctx, void *user) {
  plan_rec *r = (plan_rec *)user;
  if (r->xs) {
    for (int i = 0; i < r->p->nin; i++) lc_tensor_release(r->xs[i]);
    lc__free(ctx, r->xs, xs_size(r->p));
  }
  lc_plan_free(r->p);
  lc__free(ctx, r, sizeof *r + sizeof r->which[0] * (size_t)r->n);
}

/* r->xs: the caller's tensors, or a copy of a plan input buffer given as
 * one (or written by a C host), which the next run overwrites. */
static int keep_inputs(lc_ctx *ctx, plan_rec *r, lc_tensor **xs) {
  const lc_plan *p = r->p;
  if (!(r->xs = (lc_tensor **)lc__alloc(ctx, xs_size(p)))) return 0;
  memset(r->xs, 0, xs_size(p));
  for (int i = 0; i < p->nin; i++) {
    const lc_tensor *b = p->in[i];
    if (xs && xs[i] && xs[i] != b) {
      lc_tensor_retain(xs[i]);
      r->xs[i] = xs[i];
    } else if ((r->xs[i] = lc_empty(ctx, b->dtype, b->ndim, b->shape))) {
      lc__k_copy(r->xs[i], b, b->strides);
    } else {
      return 0;
    }
  }
  return 1;
}

/* A recorded result whose plan ran again since (a loop of several calls
 * before one backward, as REINFORCE or an unrolled sequence make): its run
 * is computed again from the same inputs, as gradient checkpointing does,
 * when neither they nor the parameters changed in place since the call. */
static int rerun(lc_ctx *ctx, const lc_node *node, plan_rec *r) {
  lc_plan *p = r->p;
  char s[LC_SHAPE_STR], what[32];
  for (int k = 0; k < p->nleaves + p->nin; k++) {
    const lc_tensor *t = k < p->nleaves ? p->leaves[k] : r->xs[k - p->nleaves];
    if (t->storage->version <= node->recorded_at) continue;
    lc_shape_str(s, sizeof s, t->ndim, t->shape);
    lc__fail(ctx, LC_ESTATE, "the compiled model ran again after this result was computed, and "
             "%s %s it read was changed in place since, so the values its gradient needs "
             "are gone: call backward before changing it (or call the model itself)",
             k < p->nleaves ? "a parameter" : (snprintf(what, sizeof what, "its input %d",
                                                        k - p->nleaves + 1), what), s);
    return 0;
  }
  for (int i = 0; i < p->nin; i++)
    if (lc_copy_(ctx, p->in[i], r->xs[i]) != LC_OK) return 0;
  if (lc_plan_run(p) != LC_OK) {
    lc__fail(ctx, LC_ESTATE, "%s", lc_plan_error(p));
    return 0;
  }
  lc_plan_wrote(p);
  r->run = p->runs;
  return 1;
}

/* grads[*slot] += g, taking g. */
static int accumulate(lc_ctx *ctx, lc_tensor **slot, lc_tensor *g) {
  if (!*slot) {
    *slot = g;
    return 1;
  }
  return (*slot = lc__owned2(ctx, lc_add, *slot, g)) != NULL;
}

static int key_cmp(const void *a, const void *b) {
  const struct plan_key *x = (const struct plan_key *)a, *y = (const struct plan_key *)b;
  if (x->t != y->t) return (uintptr_t)x->t < (uintptr_t)y->t ? -1 : 1;
  return x->kind != y->kind ? (x->kind < y->kind ? -1 : 1) : 0;
}

/* p->keys sorted by address (then kind), so that a backward over many steps
 * and parameters finds each gradient's slot by a search, not a walk. */
static int make_keys(lc_ctx *ctx, lc_plan *p) {  /* ctx: the plan's owner, who frees them */
  int64_t n = p->nsteps + p->nin + p->nleaves;
  struct plan_key *k = (struct plan_key *)lc__alloc(ctx, sizeof *k * (size_t)(n ? n : 1));
  if (!k) return 0;
  int64_t m = 0;
  for (int64_t i = 0; i < p->nsteps; i++) k[m++] = (struct plan_key){p->steps[i]->out, KEY_STEP, i};
  for (int i = 0; i < p->nin; i++) k[m++] = (struct plan_key){p->in[i], KEY_INPUT, i};
  for (int i = 0; i < p->nleaves; i++) k[m++] = (struct plan_key){p->leaves[i], KEY_LEAF, i};
  qsort(k, (size_t)m, sizeof *k, key_cmp);
  p->keys = k;
  p->nkeys = n ? n : 1;
  return 1;
}

/* Where t's gradient goes for step `before`'s rule: an earlier step's
 * result first, then a plan input, then a leaf; 0 for none (a constant). */
static int slot_of(const lc_plan *p, int64_t before, const lc_tensor *t, key_kind *kind,
                   int64_t *ix) {
  int64_t lo = 0, hi = p->nsteps + p->nin + p->nleaves;
  while (lo < hi) {  /* the first key at t's address */
    int64_t mid = lo + (hi - lo) / 2;
    if ((uintptr_t)p->keys[mid].t < (uintptr_t)t) lo = mid + 1;
    else hi = mid;
  }
  for (; lo < p->nsteps + p->nin + p->nleaves && p->keys[lo].t == t; lo++) {
    const struct plan_key *k = &p->keys[lo];
    if (k->kind == KEY_STEP && k->ix >= before) continue;
    *kind = k->kind;
    *ix = k->ix;
    return 1;
  }
  return 0;
}

/* The steps' own rules, last to first, over the values of the run that
 * made the result (the plan's buffers and what its nodes saved). The rules
 * compute a gradient only for inputs that require grad: for the run of the
 * rule, the steps' outputs and the inputs that need one say they do. */
static int rule_plan(lc_ctx *ctx, lc_node *node, lc_tensor *g, lc_tensor **grads) {
  plan_rec *r = (plan_rec *)node->user;
  lc_plan *p = r->p;
  if (lc_ctx_grad_enabled(ctx)) {
    lc__fail(ctx, LC_ESTATE, "a compiled model's gradient cannot be differentiated again "
             "(create_graph): call the model itself");
    return 0;
  }
  if (p->runs != r->run && !rerun(ctx, node, r)) return 0;
  if (!p->keys && !make_keys(p->owner, p)) return 0;
  size_t nslots = (size_t)(p->nsteps + p->nin + p->nleaves);
  lc_tensor **gs = (lc_tensor **)lc__alloc(ctx, sizeof *gs * nslots);
  if (!gs) return 0;
  memset(gs, 0, sizeof *gs * nslots);
  lc_tensor **gin = gs + p->nsteps, **gleaf = gin + p->nin;
  /* masks, indices and integer results are steps too (lc__finish_nograd):
   * they take no gradient, and their rows may have no rule */
  for (int64_t i = 0; i < p->nsteps; i++)
    p->steps[i]->out->requires_grad =
        lc_dtype_is_float(p->steps[i]->out->dtype) && p->steps[i]->def->backward;
  for (int k = 0; k < r->n; k++)
    if (r->which[k] < 0) p->in[-r->which[k] - 1]->requires_grad = 1;
  int ok = 1;
  key_kind kind;
  int64_t at, top = -1;
  lc_tensor **seed[] = {[KEY_STEP] = gs, [KEY_INPUT] = gin, [KEY_LEAF] = gleaf};
  if (slot_of(p, p->nsteps, p->out[0], &kind, &at)) {
    seed[kind][at] = lc__retained(g);
    if (kind == KEY_STEP) top = at;
  }
  for (int64_t i = top; ok && i >= 0; i--) {
    lc_node *n = p->steps[i];
    if (!gs[i] || !p->steps[i]->out->requires_grad) continue;
    lc_tensor *inline_g[LC_NODE_INLINE_INPUTS] = {NULL}, **ig = inline_g;
    if (n->ninputs > LC_NODE_INLINE_INPUTS &&
        !(ig = (lc_tensor **)lc__alloc(ctx, sizeof *ig * (size_t)n->ninputs))) {
      ok = 0;
      break;
    }
    memset(ig, 0, sizeof *ig * (size_t)n->ninputs);
    ok = n->def->backward(ctx, n, gs[i], ig);
    for (int k = 0; k < n->ninputs; k++) {
      lc_tensor *t = n->inputs[k];
      if (!ig[k]) continue;
      if (!ok || !t || !slot_of(p, i, t, &kind, &at)) lc_tensor_release(ig[k]);  /* a constant's */
      else if (kind == KEY_STEP && !t->requires_grad) lc_tensor_release(ig[k]);  /* a mask's */
      else ok = accumulate(ctx, &seed[kind][at], ig[k]);
    }
    if (ig != inline_g) lc__free(ctx, ig, sizeof *ig * (size_t)n->ninputs);
    lc_tensor_release(gs[i]);
    gs[i] = NULL;
  }
  for (int k = 0; ok && k < r->n; k++) {
    lc_tensor **slot = r->which[k] >= 0 ? &gleaf[r->which[k]] : &gin[-r->which[k] - 1];
    /* no rule reached it: the result is another input, or reads this one
     * only where it is piecewise constant in it (a float index, a
     * comparison, a mask), so its gradient is 0; the engine wants one for
     * every input that requires one */
    const lc_tensor *x = node->inputs[k];
    grads[k] = *slot ? *slot : lc_zeros(ctx, x->dtype, x->ndim, x->shape);
    *slot = NULL;
    ok = grads[k] != NULL;
  }
  for (size_t i = 0; i < nslots; i++) lc_tensor_release(gs[i]);
  lc__free(ctx, gs, sizeof *gs * nslots);
  for (int64_t i = 0; i < p->nsteps; i++) p->steps[i]->out->requires_grad = 0;
  for (int i = 0; i < p->nin; i++) p->in[i]->requires_grad = 0;
  return ok;
}

static const lc__opdef PLAN_DEF = {{"CompiledBackward", rule_plan, 0}, 0, NULL};

lc_tensor *lc_plan_record(lc_plan *p, lc_tensor **xs) {
  lc_ctx *ctx = p->owner;
  if (p->nout != 1) {
    lc__fail(ctx, LC_EARG, "a plan records one output, this one has %d", p->nout);
    return NULL;
  }
  const lc_tensor *o = p->out[0];
  lc_tensor *y = lc_empty(ctx, o->dtype, o->ndim, o->shape);
  if (!y) return NULL;
  lc__k_copy(y, o, o->strides);
  if (!ctx->grad_enabled || !lc_dtype_is_float(y->dtype)) return y;
  int n = 0;
  for (int l = 0; l < p->nleaves; l++) n += p->leaves[l]->requires_grad != 0;
  for (int i = 0; xs && i < p->nin; i++) n += xs[i] && xs[i]->requires_grad;
  if (n == 0) return y;
  plan_rec *r = (plan_rec *)lc__alloc(ctx, sizeof *r + sizeof r->which[0] * (size_t)n);
  lc_tensor *inline_in[8], **in = n <= 8 ? inline_in : (lc_tensor **)lc__alloc(ctx, sizeof *in * (size_t)n);
  if (!r || !in) {
    if (r) lc__free(ctx, r, sizeof *r + sizeof r->which[0] * (size_t)n);
    if (in && in != inline_in) lc__free(ctx, in, sizeof *in * (size_t)n);
    lc_tensor_release(y);
    return NULL;
  }
  r->p = p;
  r->run = p->runs;
  r->xs = NULL;
  r->n = 0;
  p->refs++;  /* rec_free's */
  for (int l = 0; l < p->nleaves; l++)
    if (p->leaves[l]->requires_grad) {
      in[r->n] = p->leaves[l];
      r->which[r->n++] = l;
    }
  for (int i = 0; xs && i < p->nin; i++)
    if (xs[i] && xs[i]->requires_grad) {
      in[r->n] = xs[i];
      r->which[r->n++] = -(i + 1);
    }
  lc_status st = keep_inputs(ctx, r, xs) ? LC_OK : LC_ENOMEM;
  if (st != LC_OK) rec_free(ctx, r);
  else st = lc_attach_node(ctx, y, &PLAN_DEF.def, n, in, r, rec_free);
  if (in != inline_in) lc__free(ctx, in, sizeof *in * (size_t)n);
  if (st != LC_OK) {
    lc_tensor_release(y);
    return NULL;
  }
  return y;
}

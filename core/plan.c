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
#include <string.h>

typedef struct lc__trace lc__trace;

typedef struct opaque_t {
  lc_tensor *t;        /* retained */
  const char *what;
} opaque_t;

struct lc__trace {
  uint64_t start_id;     /* tensors with larger ids were made during the trace */
  uint64_t start_clock;  /* a write later than this happened during the trace */
  lc_node **nodes;       /* retained, with their outputs, in the order recorded */
  size_t n, cap;
  opaque_t *opq;
  size_t nopq, capopq;
  int oom;               /* a list could not grow: the trace is incomplete */
  int drew;              /* random numbers were drawn */
};

struct lc_plan {
  lc_ctx *run;           /* the plan's own context: scratch, errors */
  lc_ctx *owner;         /* the traced context (a reference) */
  int nin, nout;
  lc_tensor **in, **out; /* retained */
  int64_t nsteps;
  lc_node **steps;       /* retained; each with its output (also retained) */
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
  if (tr->n == tr->cap && !grow(ctx, (void **)&tr->nodes, &tr->cap, sizeof *tr->nodes)) {
    tr->oom = 1;
    return;
  }
  n->refcount++;
  lc_tensor_retain(n->out);  /* the node's pointer to its output is weak */
  tr->nodes[tr->n++] = n;
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

void lc__trace_drew(lc_ctx *ctx) { ctx->trace->drew = 1; }

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
    lc_tensor *out = tr->nodes[i]->out;
    lc__node_release(tr->nodes[i]);
    lc_tensor_release(out);
  }
  for (size_t i = 0; i < tr->nopq; i++) lc_tensor_release(tr->opq[i].t);
  lc__free(ctx, tr->nodes, tr->cap * sizeof *tr->nodes);
  lc__free(ctx, tr->opq, tr->capopq * sizeof *tr->opq);
  lc__free(ctx, tr, sizeof *tr);
}

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

static lc_node *producer(const lc__trace *tr, const lc_tensor *t, size_t before) {
  for (size_t i = before; i-- > 0;)
    if (tr->nodes[i]->out == t) return tr->nodes[i];
  return NULL;
}

static const char *opaque_what(const lc__trace *tr, const lc_tensor *t) {
  for (size_t i = 0; i < tr->nopq; i++)
    if (tr->opq[i].t == t) return tr->opq[i].what;
  return NULL;
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
  if (t->born <= tr->start_clock) return tr->start_clock;
  uint64_t first = UINT64_MAX;
  for (size_t i = 0; i < tr->n; i++) {
    const lc_node *n = tr->nodes[i];
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
                        lc_tensor **in, const lc_tensor *t, const char *reader) {
  char s[LC_SHAPE_STR];
  lc_shape_str(s, sizeof s, t->ndim, t->shape);
  if (t->storage->version > tr->start_clock && t->storage->version > first_use(tr, need, t)) {
    lc__fail(ctx, LC_ESTATE, "%s uses a %s %s tensor that the forward wrote in place after it "
             "was made or read; a plan replays ops, not in-place writes: use the out-of-place "
             "form", reader, lc_dtype_name(t->dtype), s);
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
  const lc_node *n = tr->nodes[i];
  for (int k = 0; k < n->ninputs; k++) {
    if (!n->inputs[k]) continue;
    for (size_t j = i; j-- > 0;)
      if (tr->nodes[j]->out == n->inputs[k]) {
        if (!need[j]) mark_needed(tr, need, j);
        break;
      }
  }
}

static lc_plan *plan_fail(lc_ctx *ctx, lc__trace *tr, char *need, lc_plan *p) {
  lc__free(ctx, need, tr->n ? tr->n : 1);
  trace_free(ctx, tr);
  lc_plan_free(p);
  return NULL;
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
    if (need) lc__fail(ctx, LC_ENOMEM, "out of memory");
    return plan_fail(ctx, tr, need, NULL);
  }
  memset(need, 0, tr->n ? tr->n : 1);
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
      if (tr->nodes[j]->out == out[o]) {
        if (!need[j]) mark_needed(tr, need, j);
        break;
      }
  for (int o = 0; o < nout; o++) {
    char reader[32];
    snprintf(reader, sizeof reader, "output %d", o + 1);
    if (!check_source(ctx, tr, need, tr->n, nin, in, out[o], reader))
      return plan_fail(ctx, tr, need, NULL);
  }
  int64_t nsteps = 0;
  for (size_t i = 0; i < tr->n; i++) {
    if (!need[i]) continue;
    lc_node *n = tr->nodes[i];
    char name[64], reader[96];
    op_name(name, sizeof name, n);
    if (!((const lc__opdef *)n->def)->replay) {
      lc__fail(ctx, LC_EARG, "%s cannot be compiled yet (no replay for it in the core)", name);
      return plan_fail(ctx, tr, need, NULL);
    }
    if (!check_source(ctx, tr, need, i, nin, in, n->out, name))
      return plan_fail(ctx, tr, need, NULL);
    for (int k = 0; k < n->ninputs; k++) {
      snprintf(reader, sizeof reader, "%s (input %d)", name, k + 1);
      if (n->inputs[k] && !check_source(ctx, tr, need, i, nin, in, n->inputs[k], reader))
        return plan_fail(ctx, tr, need, NULL);
    }
    nsteps++;
  }
  lc_plan *p = (lc_plan *)lc__alloc(ctx, sizeof *p);
  if (!p) return plan_fail(ctx, tr, need, NULL);
  memset(p, 0, sizeof *p);
  p->owner = ctx;
  ctx->refcount++;
  if (!(p->run = lc_ctx_new(ctx->alloc, ctx->alloc_ud)) ||
      !(p->in = (lc_tensor **)lc__alloc(ctx, sizeof *p->in * (size_t)(nin ? nin : 1))) ||
      !(p->out = (lc_tensor **)lc__alloc(ctx, sizeof *p->out * (size_t)(nout ? nout : 1))) ||
      !(p->steps = (lc_node **)lc__alloc(ctx, sizeof *p->steps * (size_t)(nsteps ? nsteps : 1)))) {
    if (!p->run) lc__fail(ctx, LC_ENOMEM, "out of memory");
    return plan_fail(ctx, tr, need, p);
  }
  p->run->grad_enabled = 0;
  p->run->default_dtype = ctx->default_dtype;
  for (; p->nin < nin; p->nin++) p->in[p->nin] = lc__retained(in[p->nin]);
  for (; p->nout < nout; p->nout++) p->out[p->nout] = lc__retained(out[p->nout]);
  for (size_t i = 0; i < tr->n; i++) {
    if (!need[i]) continue;
    lc_node *n = tr->nodes[i];
    n->refcount++;
    lc_tensor_retain(n->out);
    p->steps[p->nsteps++] = n;
  }
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
  for (int64_t i = 0; i < p->nsteps; i++) {
    lc_node *n = p->steps[i];
    if (!((const lc__opdef *)n->def)->replay(run, n)) {
      if (run->status == LC_OK) lc__fail(run, LC_ESTATE, "a step failed");
      return run->status;
    }
  }
  return LC_OK;
}

const char *lc_plan_error(const lc_plan *p) { return p->run->err; }
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

void lc_plan_free(lc_plan *p) {
  if (!p) return;
  lc_ctx *ctx = p->owner;
  for (int64_t i = 0; i < p->nsteps; i++) {
    lc_tensor *o = p->steps[i]->out;
    lc__node_release(p->steps[i]);
    lc_tensor_release(o);
  }
  for (int i = 0; i < p->nin; i++) lc_tensor_release(p->in[i]);
  for (int i = 0; i < p->nout; i++) lc_tensor_release(p->out[i]);
  lc__free(ctx, p->steps, sizeof *p->steps * (size_t)(p->nsteps ? p->nsteps : 1));
  lc__free(ctx, p->in, sizeof *p->in * (size_t)(p->nin ? p->nin : 1));
  lc__free(ctx, p->out, sizeof *p->out * (size_t)(p->nout ? p->nout : 1));
  if (p->run) lc_ctx_free(p->run);
  lc__free(ctx, p, sizeof *p);
  lc__ctx_unref(ctx);
}

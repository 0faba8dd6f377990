/* lc_plan.h: compiled plans, a forward traced once and replayed (included
 * by lc.h).
 *
 * A model's forward, run op by op, pays for what does not change from one
 * call to the next: a fresh tensor per result, argument checks, the
 * caller's dispatch (in Lua: module calls and option tables). A plan keeps
 * what one forward made and runs only the arithmetic again. Between
 * lc_trace_begin and lc_trace_end every op records what it did (its node:
 * inputs, arguments, output); lc_trace_end keeps the ops the outputs need,
 * in the order they ran, with their outputs as the plan's buffers, and
 * lc_plan_run computes each of them again, in place, from the inputs'
 * current values. Parameters are read where they live, so a plan follows
 * a model's training; nothing is allocated by a run (but scratch some ops
 * need, from the plan's own context, whose free lists keep it after the
 * first run), nothing is recorded, and no state of the tracing context is
 * touched: a plan may run on another thread than the one that traced it,
 * one thread at a time per plan, while the parameters are not being
 * written.
 *
 * What a trace cannot see is refused, never kept as a stale constant: a
 * tensor made from the inputs by an op without a replay (random draws,
 * custom ops, results whose shape depends on the values) or written in
 * place during the forward fails lc_trace_end with the op's name. Tensors
 * made during the forward from nothing (lucid.zeros, a number) are
 * constants, and control flow that depends on values is frozen as traced,
 * as with torch.jit.trace.
 *
 * Example: y = tanh(x W^T + b) compiled for x of shape (1000, 32).
 *     lc_tensor *x = lc_zeros(ctx, LC_FLOAT32, 2, (int64_t[]){1000, 32});
 *     lc_trace_begin(ctx);
 *     lc_tensor *h = lc_linear(ctx, x, w, b), *y = lc_tanh(ctx, h);
 *     lc_tensor_release(h);
 *     lc_plan *p = lc_trace_end(ctx, 1, &x, 1, &y);  // NULL: lc_ctx_error says why
 *     lc_tensor_release(y);
 *     for (;;) {
 *       float *obs = lc_plan_input(p, 0)->storage->data;  // (1000, 32)
 *       fill(obs);
 *       if (lc_plan_run(p) != LC_OK) puts(lc_plan_error(p));
 *       use(lc_plan_output(p, 0)->storage->data);          // (1000, 64)
 *     }
 *     lc_plan_free(p);
 */
#ifndef LC_PLAN_H
#define LC_PLAN_H

#include "lc.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lc_plan lc_plan;

/* Starts recording every op of ctx (one trace at a time per context). */
lc_status lc_trace_begin(lc_ctx *ctx);
/* Ends the trace and makes the plan computing out[nout] from in[nin] (the
 * tensors the traced ops read the inputs from; the plan keeps them and
 * the outputs as its buffers). NULL with lc_ctx_error's reason when an
 * output depends on something a plan cannot replay. The tensors made
 * during the trace lose their graphs either way. */
lc_plan *lc_trace_end(lc_ctx *ctx, int nin, lc_tensor **in, int nout, lc_tensor **out);
/* Ends a trace without a plan (an error in the traced code). */
void lc_trace_abort(lc_ctx *ctx);
/* Whether ctx is recording a trace: a caller that computes a value outside
 * ops (from elements read now, as the binding's index positions) computes
 * it with ops while tracing, so that the plan computes it again. */
int lc_tracing(const lc_ctx *ctx);

/* Computes the outputs from the inputs' current values. */
lc_status lc_plan_run(lc_plan *p);
const char *lc_plan_error(const lc_plan *p);   /* why the last run failed */
/* Makes why (a message) the plan's error: for a caller that refuses a run
 * before it starts (a C host's wrong buffer). */
void lc_plan_fail(lc_plan *p, const char *why);
/* Moves the outputs' versions on, so that a graph recorded with their old
 * values refuses a backward: for the tracing context's own thread, after a
 * run (lc_plan_run itself leaves that context alone). */
void lc_plan_wrote(lc_plan *p);
/* Training through a plan, on the tracing context's thread, after
 * lc_plan_run: a new tensor with output 0's values whose one node
 * differentiates the whole plan (each step's own rule, last to first): its
 * gradient reaches the parameters that require grad, and xs[i] (the tensor
 * the caller copied into input i, or NULL) when it requires grad. A
 * backward after the plan's next runs computes the result's run again
 * from the same inputs (kept by the node: xs[i], or a copy of input i),
 * refused when they or the parameters were written in place since. */
lc_tensor *lc_plan_record(lc_plan *p, lc_tensor **xs);
int lc_plan_ninputs(const lc_plan *p);
int lc_plan_noutputs(const lc_plan *p);
lc_tensor *lc_plan_input(const lc_plan *p, int i);   /* borrowed, contiguous */
lc_tensor *lc_plan_output(const lc_plan *p, int i);  /* borrowed */
int64_t lc_plan_nsteps(const lc_plan *p);
const char *lc_plan_step_name(const lc_plan *p, int64_t i);  /* its node's name */
/* Whether step i runs with step i + 1 fused into it (a Linear and its
 * activation, computed in one pass; step i + 1 then does nothing itself). */
int lc_plan_step_fused(const lc_plan *p, int64_t i);
void lc_plan_free(lc_plan *p);

#ifdef __cplusplus
}
#endif

#endif

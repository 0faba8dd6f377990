/* lc_loss.h: losses with kernels of their own (included by lc.h).
 *
 * The Connectionist Temporal Classification loss (Graves et al. 2006) sums
 * the probability of every alignment of a target sequence to a longer input
 * sequence, where an alignment may repeat labels and put blanks between
 * them. lc_ctc_loss runs the alpha recursion in log space per sample, as
 * PyTorch 1.13's CPU kernel does, and its node's rule runs the beta
 * recursion and forms the gradient in one pass (no graph of small ops).
 * Indices here are 0-based (the Lua binding converts its 1-based classes).
 *
 * The gradient is PyTorch's: d/d log_probs[t][b][c] = (exp(lp) -
 * exp(log(sum over the alignment states s at t that emit c of alpha beta) +
 * nll - lp)) * g[b], which is the gradient with respect to logits when
 * log_probs = log_softmax(logits) (the usual case; the exp(lp) term is what
 * log_softmax's backward would subtract). Time steps past a sample's input
 * length get 0. It cannot be differentiated again (create_graph is an error).
 *
 * Example: two sequences of 5 steps over 4 classes (blank 0).
 *     // log_probs (5, 2, 4) float64, from a log_softmax over the last dim
 *     // targets (2, 3) int64 padded: {{1, 2, 2}, {3, 0, 0}}
 *     // input_lengths {5, 4}, target_lengths {3, 1}, both int64 (2)
 *     lc_tensor *nll = lc_ctc_loss(ctx, log_probs, targets, input_lengths, target_lengths, 0, 0);
 *     // nll (2): -log p(target | input) per sample; lc_backward(ctx, sum, ...) fills log_probs->grad
 */
#ifndef LC_LOSS_H
#define LC_LOSS_H

#include "lc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* -log p(target_b | log_probs[:, b, :]) for each sample b: nll (N), of
 * log_probs' dtype.
 *   log_probs       (T, N, C) float32 or float64: log-probabilities per step
 *   targets         (N, S) int64, padded (row b's first target_lengths[b]
 *                   values count), or (sum of target_lengths) int64, the
 *                   targets one after another; values in 0..C-1, not blank
 *   input_lengths   (N) int64, each in 0..T
 *   target_lengths  (N) int64, each >= 0 (and <= S when padded)
 *   blank           the blank class, 0..C-1
 *   zero_infinity   nonzero: an impossible alignment (nll = inf) gives 0
 *                   and a zero gradient instead of inf and NaN */
lc_tensor *lc_ctc_loss(lc_ctx *ctx, lc_tensor *log_probs, lc_tensor *targets, lc_tensor *input_lengths,
                       lc_tensor *target_lengths, int64_t blank, int zero_infinity);

#ifdef __cplusplus
}
#endif

#endif

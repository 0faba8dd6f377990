/* lc_attention.h: the attention family (included by lc.h).
 *
 * Attention is softmax(scale * Q K^T + mask) V. The two products are
 * ordinary batched GEMMs (lc_matmul, on BLAS); what sits between them is
 * one fused kernel here, the masked softmax: it scales the scores, applies
 * the mask and normalises each row in one pass over the scores, and its
 * backward is one pass too (gx = scale * y (g - sum(g y)) from the saved
 * output y), instead of a chain of recorded scale, add and softmax ops.
 *
 * Masks broadcast to the scores (..., L, S) as elementwise operands do. A
 * bool mask is true where a score is masked out (it becomes -inf); a float
 * mask (of the scores' dtype) is added, and takes a gradient when it
 * requires one. A row whose every score is -inf (every key masked out) is
 * NaN, as PyTorch's softmax of such a row is; its gradients are NaN too.
 *
 * Example: attention weights over 5 keys for 3 queries, the last key masked.
 *     lc_tensor *s = lc_matmul(ctx, q, kt);             // q (3, 4), kt (4, 5): s (3, 5)
 *     lc_tensor *p = lc_masked_softmax(ctx, s, pad, 0.5); // pad bool (5), true at 5
 *     if (!p) fprintf(stderr, "%s\n", lc_ctx_error(ctx));
 *     lc_tensor *o = lc_matmul(ctx, p, v);              // v (5, 4): o (3, 4)
 */
#ifndef LC_ATTENTION_H
#define LC_ATTENTION_H

#include "lc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* y (..., S) = softmax over the last dim of scale * x (..., S) + mask,
 * mask NULL, bool (true: masked out) or of x's float dtype, broadcasting to
 * x's shape. y is contiguous, of x's shape and dtype. */
lc_tensor *lc_masked_softmax(lc_ctx *ctx, lc_tensor *x, lc_tensor *mask, double scale);
/* The same written into out (contiguous, of x's shape and dtype; x itself
 * is fine), recording nothing: grad mode off (or nothing wanting a
 * gradient). For inference loops that reuse their buffers. */
lc_status lc_masked_softmax_out(lc_ctx *ctx, lc_tensor *out, lc_tensor *x, lc_tensor *mask,
                                double scale);

#ifdef __cplusplus
}
#endif

#endif

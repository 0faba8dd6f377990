/* lc_reduce.h: the reduce ops of the core (included by lc.h).
 *
 * Dims are 0-based. A 0-d tensor accepts dim 0 and is treated as one
 * element along it (as PyTorch does), giving a 0-d result. The "_dim" forms
 * drop `dim` from the shape unless keepdim is set, which keeps it as size 1:
 * a (2, 3, 4) reduced over dim 1 is (2, 4), or (2, 1, 4) with keepdim.
 * The all-elements forms return a 0-d tensor. Results have the input's
 * dtype, except index results (int64, 0-based) and the integer rules:
 * sum, prod and cumsum of integer or bool tensors are int64 (exact,
 * wrapping), the other float-only reductions compute integers in the
 * context's default float dtype. */
#ifndef LC_REDUCE_H
#define LC_REDUCE_H

#include "lc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Product; 1 for no elements. The gradient is right with zeros in a. */
lc_tensor *lc_prod(lc_ctx *ctx, lc_tensor *a);                                   /* 0-d */
lc_tensor *lc_prod_dim(lc_ctx *ctx, lc_tensor *a, int dim, int keepdim);

/* Variance: sum((x - mean)^2) / max(0, N - correction); correction 1 is
 * the unbiased estimate (PyTorch's default), 0 the population variance.
 * NaN when N - correction <= 0. std is its square root. */
lc_tensor *lc_var(lc_ctx *ctx, lc_tensor *a, double correction);                 /* 0-d */
lc_tensor *lc_var_dim(lc_ctx *ctx, lc_tensor *a, int dim, double correction, int keepdim);
lc_tensor *lc_std(lc_ctx *ctx, lc_tensor *a, double correction);                 /* 0-d */
lc_tensor *lc_std_dim(lc_ctx *ctx, lc_tensor *a, int dim, double correction, int keepdim);

/* Largest / smallest element (NaN wins). An empty a is an error. The
 * gradient is split evenly among the elements equal to the result. */
lc_tensor *lc_max(lc_ctx *ctx, lc_tensor *a);                                    /* 0-d */
lc_tensor *lc_min(lc_ctx *ctx, lc_tensor *a);                                    /* 0-d */
/* amax, amin: the same values, all elements or over dim, without indices;
 * the gradient is split evenly among the elements equal to the result. */
lc_tensor *lc_amax(lc_ctx *ctx, lc_tensor *a);                                   /* 0-d */
lc_tensor *lc_amin(lc_ctx *ctx, lc_tensor *a);                                   /* 0-d */
lc_tensor *lc_amax_dim(lc_ctx *ctx, lc_tensor *a, int dim, int keepdim);
lc_tensor *lc_amin_dim(lc_ctx *ctx, lc_tensor *a, int dim, int keepdim);
/* Over dim: *values (input dtype) and *indices (int64, 0-based, the first
 * occurrence) both of the reduced shape; the gradient goes to the index.
 * *values' backward reads *indices, so change a copy of them, not them.
 * A dim of size 0 is an error. On failure both are NULL. */
lc_status lc_max_dim(lc_ctx *ctx, lc_tensor *a, int dim, int keepdim, lc_tensor **values,
                     lc_tensor **indices);
lc_status lc_min_dim(lc_ctx *ctx, lc_tensor *a, int dim, int keepdim, lc_tensor **values,
                     lc_tensor **indices);
/* Index of the first largest / smallest element, as int64, 0-based: the
 * row-major flat index (0-d) or the index along dim. Not differentiable. */
lc_tensor *lc_argmax(lc_ctx *ctx, lc_tensor *a);                                 /* 0-d */
lc_tensor *lc_argmin(lc_ctx *ctx, lc_tensor *a);                                 /* 0-d */
lc_tensor *lc_argmax_dim(lc_ctx *ctx, lc_tensor *a, int dim, int keepdim);
lc_tensor *lc_argmin_dim(lc_ctx *ctx, lc_tensor *a, int dim, int keepdim);

/* log(sum(exp(x))), computed as m + log(sum(exp(x - m))) with m the max, so
 * large inputs do not overflow; -inf for no elements. */
lc_tensor *lc_logsumexp(lc_ctx *ctx, lc_tensor *a);                              /* 0-d */
lc_tensor *lc_logsumexp_dim(lc_ctx *ctx, lc_tensor *a, int dim, int keepdim);

/* p-norm (sum |x|^p)^(1/p) for p > 0; p = INFINITY is max |x|; p <= 0 is
 * refused. The gradient at a zero norm is 0, as in PyTorch. */
lc_tensor *lc_norm(lc_ctx *ctx, lc_tensor *a, double p);                         /* 0-d */
lc_tensor *lc_norm_dim(lc_ctx *ctx, lc_tensor *a, double p, int dim, int keepdim);

/* Along dim, same shape as a: softmax exp(x - m) / sum(exp(x - m)) and
 * log_softmax x - m - log(sum(exp(x - m))) with m the max along dim;
 * cumsum the running sum. */
lc_tensor *lc_softmax(lc_ctx *ctx, lc_tensor *a, int dim);
lc_tensor *lc_log_softmax(lc_ctx *ctx, lc_tensor *a, int dim);
/* The same written into out, a contiguous tensor of a's shape and dtype that
 * is not a (a float), recording nothing (grad mode off): reuse_buffers. */
lc_status lc_softmax_out(lc_ctx *ctx, lc_tensor *out, lc_tensor *a, int dim);
lc_status lc_log_softmax_out(lc_ctx *ctx, lc_tensor *out, lc_tensor *a, int dim);
lc_tensor *lc_cumsum(lc_ctx *ctx, lc_tensor *a, int dim);

#ifdef __cplusplus
}
#endif
#endif

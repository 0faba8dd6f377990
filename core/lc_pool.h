/* lc_pool.h: pooling over the last two dims (max, average, adaptive), and
 * resampling (interpolate).
 *
 * An input (..., H, W), float32 or float64, is a stack of planes (N, C or
 * both in front); each output element reduces one window of its plane.
 * Windows are PyTorch 1.13's: with a kernel, window o of a dim starts at
 * o * stride - padding and takes kernel taps dilation apart (padding counts
 * as -inf for max, as zeros for average); the output size is
 * floor((in + 2 padding - dilation (kernel - 1) - 1) / stride) + 1, or with
 * ceil_mode rounded up as long as the last window starts inside the input
 * or its left padding. Adaptive pooling instead asks for an output size
 * and takes window o of a dim from floor(o in / out) to ceil((o + 1) in /
 * out). A 1-d pool is a 2-d one over planes of height 1.
 *
 * Max pooling also returns where each maximum came from: int64 indices,
 * 0-based, flat over the plane (h W + w), as PyTorch's (a NaN in a window
 * wins). Gradients are fused loops: max sends g to those positions, average
 * spreads g over each window divided as the forward divided; with
 * create_graph both record ops that can be differentiated again.
 *
 * Example: a 2x2 max pool with stride 2 of x (1, 3, 4, 4).
 *     lc_pool2d_opts o = lc_pool2d_defaults(2, 2);      // stride = kernel
 *     lc_tensor *idx = NULL;
 *     lc_tensor *y = lc_max_pool2d(ctx, x, &o, &idx);   // y and idx (1, 3, 2, 2)
 *     if (!y) fprintf(stderr, "%s\n", lc_ctx_error(ctx));
 */
#ifndef LC_POOL_H
#define LC_POOL_H

#include "lc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The windows of a pool, per dim (0: height, 1: width). */
typedef struct lc_pool2d_opts {
  int64_t kernel[2], stride[2], padding[2], dilation[2];
  int ceil_mode;
  int adaptive;              /* windows from out_size; kernel .. ceil_mode unused */
  int64_t out_size[2];
  int count_include_pad;     /* average: padding counts in the divisor */
  int64_t divisor_override;  /* average: divide by this instead; 0 for none */
} lc_pool2d_opts;

/* Kernel kh x kw, stride = kernel, no padding, dilation 1, floor mode,
 * count_include_pad (PyTorch's defaults). */
lc_pool2d_opts lc_pool2d_defaults(int64_t kh, int64_t kw);
/* PyTorch's adaptive windows for an output oh x ow. */
lc_pool2d_opts lc_pool2d_adaptive(int64_t oh, int64_t ow);

/* y (..., OH, OW) = the max of each window of x (..., H, W); *indices (if
 * not NULL) gets a new int64 tensor of y's shape. */
lc_tensor *lc_max_pool2d(lc_ctx *ctx, lc_tensor *x, const lc_pool2d_opts *o,
                         lc_tensor **indices);
/* y (..., OH, OW) = the mean of each window of x (..., H, W). */
lc_tensor *lc_avg_pool2d(lc_ctx *ctx, lc_tensor *x, const lc_pool2d_opts *o);
/* The same two written into out, a contiguous tensor of y's shape and x's
 * dtype (no indices), recording nothing (grad mode off): what
 * Module:reuse_buffers runs. */
lc_status lc_max_pool2d_out(lc_ctx *ctx, lc_tensor *out, lc_tensor *x, const lc_pool2d_opts *o);
lc_status lc_avg_pool2d_out(lc_ctx *ctx, lc_tensor *out, lc_tensor *x, const lc_pool2d_opts *o);
/* The partial inverse of max pooling: y (..., OH, OW) zeros but at
 * indices (0-based, flat over each plane, as lc_max_pool2d gives them),
 * which get x (..., h, w); indices has x's shape and a repeated index keeps
 * the last value. Its gradient gathers g at the indices. */
lc_tensor *lc_max_unpool2d(lc_ctx *ctx, lc_tensor *x, lc_tensor *indices, int64_t oh, int64_t ow);
/* Resampling of the last two dims, as PyTorch's interpolate: y (..., OH,
 * OW) from x (..., H, W). Nearest takes x[floor(o * scale)] (float
 * arithmetic, PyTorch's "nearest"); linear mixes the two neighbours of
 * scale (o + 1/2) - 1/2 (clamped at 0), or of o (H - 1) / (OH - 1) with
 * align_corners. scale is in / out, or 1 / scale_factor[d] when
 * scale_factor[d] > 0 (PyTorch's scale_factor without
 * recompute_scale_factor). A 1-d resampling is a 2-d one of height 1. */
typedef enum lc_interp_mode { LC_INTERP_NEAREST = 0, LC_INTERP_LINEAR } lc_interp_mode;
typedef struct lc_interp_opts {
  int64_t out_size[2];
  lc_interp_mode mode;
  int align_corners;
  double scale_factor[2];  /* 0: none */
} lc_interp_opts;
lc_tensor *lc_interpolate(lc_ctx *ctx, lc_tensor *x, const lc_interp_opts *o);
/* Batch normalisation of x (N, C, ...) per channel over N and the other
 * dims: y = (x - mean) / sqrt(var + eps) * weight + bias, with weight,
 * bias (C) optional. training: the batch's statistics (biased variance),
 * given back in *mean and *var (C, no graph) for running statistics;
 * otherwise running_mean and running_var (C) are used as constants. Group
 * and instance norms are this over x viewed as (1, N G, ...). The backward
 * is one fused pass (or, with create_graph, recorded ops). */
lc_status lc_batch_norm(lc_ctx *ctx, lc_tensor *x, lc_tensor *weight, lc_tensor *bias,
                        lc_tensor *running_mean, lc_tensor *running_var, int training,
                        double eps, lc_tensor **y, lc_tensor **mean, lc_tensor **var);
/* The same, y written into out (a contiguous tensor of x's shape and dtype)
 * and the statistics not given back, recording nothing (grad mode off):
 * what Module:reuse_buffers runs for batch norm in eval mode. */
lc_status lc_batch_norm_out(lc_ctx *ctx, lc_tensor *out, lc_tensor *x, lc_tensor *weight,
                            lc_tensor *bias, lc_tensor *running_mean, lc_tensor *running_var,
                            int training, double eps);
/* Layer norm over the last k dims of x, and group norm of x (N, C, ...)
 * over each of `groups` groups of channels per sample, as nn.LayerNorm and
 * nn.GroupNorm compute them (biased variance, eps inside the square root,
 * then weight and bias: x's last k dims' shape, or (C); either may be NULL),
 * written into out (a contiguous tensor of x's shape and dtype), recording
 * nothing: out= forms for Module:reuse_buffers, with no recorded op of their
 * own (the layers record theirs through other ops). */
lc_status lc_layer_norm_out(lc_ctx *ctx, lc_tensor *out, lc_tensor *x, int k, lc_tensor *weight,
                            lc_tensor *bias, double eps);
lc_status lc_group_norm_out(lc_ctx *ctx, lc_tensor *out, lc_tensor *x, int64_t groups,
                            lc_tensor *weight, lc_tensor *bias, double eps);

#ifdef __cplusplus
}
#endif

#endif

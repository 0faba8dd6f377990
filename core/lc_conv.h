/* lc_conv.h: 2-d convolution, its transpose, and im2col / col2im (included
 * by lc.h).
 *
 * PyTorch 1.13's conv2d, conv_transpose2d, unfold and fold on batched
 * images (N, C, H, W) of float32 or float64 (input, weight and bias share
 * a dtype). A convolution is im2col (each output position's receptive
 * field laid out as a column) and one OpenBLAS GEMM per group over a chunk
 * of the batch; its gradient is a fused rule of the same pieces: the
 * input's is col2im(W^T g), the weight's g cols^T, the bias's the sum of g.
 * The transposed convolution is the convolution's input gradient, and its
 * gradients are a convolution and the same weight product. With
 * LC_CREATE_GRAPH the rules record these ops instead, so that a gradient
 * can be differentiated again. 1-d convolutions, "same" padding, unbatched
 * inputs and padding modes other than zeros are the Lua layer's
 * (lucid.nn.functional), on top of these.
 *
 * Geometry is per spatial dim, {height, width}: stride >= 1, padding >= 0,
 * dilation >= 1; groups divides both channel counts. Errors name the
 * shapes: "input {1, 4, 5, 5} has 4 channels, weight {8, 3, 3, 3} with
 * groups 1 expects 3".
 *
 * Example: a 3x3 convolution, padding 1, and its gradients.
 *     lc_conv2d_args a = lc_conv2d_defaults();
 *     a.padding[0] = a.padding[1] = 1;
 *     lc_tensor *y = lc_conv2d(ctx, x, w, b, &a);  // x (8, 3, 32, 32), w (16, 3, 3, 3),
 *     if (!y) fprintf(stderr, "%s\n", lc_ctx_error(ctx));  // b (16): y (8, 16, 32, 32)
 *     lc_backward(ctx, y, NULL, 0);               // x->grad, w->grad, b->grad
 */
#ifndef LC_CONV_H
#define LC_CONV_H

#include "lc.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lc_conv2d_args {
  int64_t stride[2], padding[2], dilation[2];
  int64_t output_padding[2];  /* conv_transpose2d only: added to one side of the output */
  int64_t groups;
} lc_conv2d_args;

/* stride 1, padding 0, dilation 1, output_padding 0, groups 1 */
lc_conv2d_args lc_conv2d_defaults(void);

/* y (N, O, OH, OW) = x (N, C, H, W) * w (O, C / groups, kh, kw) + b (O) (b
 * may be NULL), OH = (H + 2 ph - dh (kh - 1) - 1) / sh + 1 (floor), OW alike. */
lc_tensor *lc_conv2d(lc_ctx *ctx, lc_tensor *x, lc_tensor *w, lc_tensor *b,
                     const lc_conv2d_args *a);
/* lc_conv2d into out, a contiguous tensor of y's shape and dtype, recording
 * nothing (so nothing may require grad while recording): for inference
 * that reuses its buffers (nn.Module:reuse_buffers). */
lc_status lc_conv2d_out(lc_ctx *ctx, lc_tensor *out, lc_tensor *x, lc_tensor *w, lc_tensor *b,
                        const lc_conv2d_args *a);
/* y (N, O, OH, OW) from x (N, C, H, W), w (C, O / groups, kh, kw), b (O) or
 * NULL: the gradient of conv2d's input, OH = (H - 1) sh - 2 ph + dh (kh - 1)
 * + oph + 1; output_padding must be below stride or dilation. */
lc_tensor *lc_conv_transpose2d(lc_ctx *ctx, lc_tensor *x, lc_tensor *w, lc_tensor *b,
                               const lc_conv2d_args *a);
/* The same into out, as lc_conv2d_out. */
lc_status lc_conv_transpose2d_out(lc_ctx *ctx, lc_tensor *out, lc_tensor *x, lc_tensor *w,
                                  lc_tensor *b, const lc_conv2d_args *a);
/* cols (N, C kh kw, L) of x (N, C, H, W): the receptive field of each of
 * the L = OH OW output positions as a column, rows ordered (c, i, j).
 * a->groups and a->output_padding are not used. */
lc_tensor *lc_unfold(lc_ctx *ctx, lc_tensor *x, const int64_t *kernel /* [2] */,
                     const lc_conv2d_args *a);
/* x (N, C, H, W) from cols (N, C kh kw, L) with {H, W} = output_size:
 * unfold's adjoint, summing the columns that overlap. */
lc_tensor *lc_fold(lc_ctx *ctx, lc_tensor *cols, const int64_t *output_size /* [2] */,
                   const int64_t *kernel /* [2] */, const lc_conv2d_args *a);

#ifdef __cplusplus
}
#endif

#endif

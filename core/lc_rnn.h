/* lc_rnn.h: recurrent layers, one layer in one direction per call (included
 * by lc.h).
 *
 * The recurrences of PyTorch's RNN, LSTM and GRU, with its gate order
 * (LSTM: i, f, g, o; GRU: r, z, n) and weight shapes, so PyTorch's weights
 * drop in. A layer runs as one GEMM for the input projections of every
 * time step (x W_ih^T + b_ih, rows for all steps at once), then per step one
 * GEMM for the hidden projection (h W_hh^T + b_hh) and one fused kernel for
 * the gates and the new state. Its gradient is one rule over the whole
 * sequence (backpropagation through time): per step a fused gate kernel and
 * one GEMM carrying the gradient to the previous hidden state; the weights'
 * gradients are GEMMs over all steps at the end. What the backward needs of
 * the forward (the gates, the previous states) is kept from the forward,
 * nothing is recomputed.
 *
 *   RNN:  h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)   (or relu)
 *   LSTM: i, f, g, o = sigmoid, sigmoid, tanh, sigmoid of the four quarters
 *         of x W_ih^T + b_ih + h W_hh^T + b_hh;
 *         c' = f c + i g;  h' = o tanh(c')   (times W_hr^T with proj_size)
 *   GRU:  r, z = sigmoid of the first two thirds of the sum above;
 *         n = tanh(x W_in^T + b_in + r (h W_hn^T + b_hn));  h' = (1 - z) n + z h
 *
 * Sequences are time-major, x (T, B, I), or packed as PyTorch packs them:
 * x (N, I) holds step 0's batch_sizes[0] rows, then step 1's batch_sizes[1]
 * rows, ..., the sizes non-increasing, so that row j of a step continues row
 * j of the step before. A sequence that has ended keeps its state: h_n holds
 * each sequence's state after its own last step. With reverse, the steps run
 * from the last to the first (the backward half of a bidirectional layer).
 *
 * A backward with LC_CREATE_GRAPH (to differentiate the gradient again)
 * computes the same gradients with the core's recorded ops instead, a few
 * per step: slower, but differentiable.
 *
 * Example: one LSTM layer over 5 steps of a batch of 3, 10 features to 20.
 *     // x (5, 3, 10); h0, c0 (3, 20); w_ih (80, 10); w_hh (80, 20); b_ih, b_hh (80)
 *     lc_tensor *out, *hn, *cn;
 *     if (lc_rnn_layer(ctx, LC_RNN_LSTM, x, h0, c0, w_ih, w_hh, b_ih, b_hh, NULL,
 *                      NULL, 0, 0, &out, &hn, &cn) != LC_OK)
 *       fprintf(stderr, "%s\n", lc_ctx_error(ctx));
 *     // out (5, 3, 20), hn and cn (3, 20)
 */
#ifndef LC_RNN_H
#define LC_RNN_H

#include "lc.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum lc_rnn_mode { LC_RNN_TANH = 0, LC_RNN_RELU, LC_RNN_LSTM, LC_RNN_GRU } lc_rnn_mode;

/* One layer over a sequence. With H the hidden size, G the gates (1 for
 * RNN, 4 for LSTM, 3 for GRU) and P the size of h (proj_size with w_hr,
 * else H):
 *   x (T, B, I), or packed (N, I) when batch_sizes[nsteps] is given;
 *   h0 (B, P); c0 (B, H) for LSTM, NULL otherwise;
 *   w_ih (G*H, I); w_hh (G*H, P); b_ih, b_hh (G*H) or both NULL;
 *   w_hr (P, H) or NULL (LSTM only).
 * Results: out (T, B, P) (packed: (N, P)), h_n (B, P) and for LSTM c_n
 * (B, H) (NULL for the others), views of one result that records the op. */
lc_status lc_rnn_layer(lc_ctx *ctx, lc_rnn_mode mode, lc_tensor *x, lc_tensor *h0, lc_tensor *c0,
                       lc_tensor *w_ih, lc_tensor *w_hh, lc_tensor *b_ih, lc_tensor *b_hh,
                       lc_tensor *w_hr, const int64_t *batch_sizes, int64_t nsteps, int reverse,
                       lc_tensor **out, lc_tensor **h_n, lc_tensor **c_n);

/* One step, PyTorch's rnn_tanh_cell, rnn_relu_cell, lstm_cell, gru_cell:
 * x (B, I), h (B, H), c (B, H) for LSTM (else NULL), weights as above (no
 * w_hr). Results h1 (B, H) and for LSTM c1 (B, H). */
lc_status lc_rnn_cell(lc_ctx *ctx, lc_rnn_mode mode, lc_tensor *x, lc_tensor *h, lc_tensor *c,
                      lc_tensor *w_ih, lc_tensor *w_hh, lc_tensor *b_ih, lc_tensor *b_hh,
                      lc_tensor **h1, lc_tensor **c1);
/* One layer (no packing) written into out (T B P + B P, and + B H for
 * LSTM: the output, h_n, then c_n, a contiguous 1-d tensor of x's dtype),
 * recording nothing (grad mode off): what Module:reuse_buffers runs. h0 and
 * c0 may be views of out (read before the results are written). */
lc_status lc_rnn_layer_out(lc_ctx *ctx, lc_rnn_mode mode, lc_tensor *out, lc_tensor *x,
                           lc_tensor *h0, lc_tensor *c0, lc_tensor *w_ih, lc_tensor *w_hh,
                           lc_tensor *b_ih, lc_tensor *b_hh, lc_tensor *w_hr, int reverse);
/* The same step written into out (B H, or 2 B H for LSTM: h1 then c1, a
 * contiguous 1-d tensor of x's dtype), recording nothing (grad mode off):
 * what Module:reuse_buffers runs. h and c may be views of out (the step
 * reads them before it writes). */
lc_status lc_rnn_cell_out(lc_ctx *ctx, lc_rnn_mode mode, lc_tensor *out, lc_tensor *x, lc_tensor *h,
                          lc_tensor *c, lc_tensor *w_ih, lc_tensor *w_hh, lc_tensor *b_ih,
                          lc_tensor *b_hh);

#ifdef __cplusplus
}
#endif

#endif

/* lc_shape.h: the shape and indexing ops of the core (included by lc.h).
 *
 * Dims are 0-based; a negative dim is an error here (the binding converts
 * Lua's 1-based and from-the-end dims). Messages print dims, indices and
 * tensor positions 1-based, the way a Lua user wrote them, as lc_select does.
 *
 * Views share a's storage and never copy; writing through one shows in a.
 * Copies return fresh contiguous tensors. Every op records a node when an
 * input requires grad, with PyTorch's gradient: a view's gradient is g put
 * back into a's shape (zeros elsewhere for narrow, slice and split), cat
 * and stack hand each input its part of g, gather's gradient is a
 * scatter-add, index_select's an index-add, repeat's sums the tiles.
 *
 * Index tensors hold 0-based integers: any integer dtype (int64 usual), or
 * a float dtype holding whole numbers (exact up to 2^24 in float32).
 * A non-integer or out-of-range index is an error naming the index (as the
 * user's 1-based value, i.e. value + 1) and the size of the dim. Indices are
 * read once into the node, so changing the index tensor after the op does
 * not change its gradient. Index tensors and masks get no gradient.
 *
 * Example: rows 2, 0, 2 of x (4, 5), then the gradient of their sum.
 *     lc_tensor *idx = lc_empty(ctx, LC_FLOAT64, 1, (int64_t[]){3});
 *     double *iv = lc_tensor_data(idx);
 *     iv[0] = 2; iv[1] = 0; iv[2] = 2;
 *     lc_tensor *y = lc_index_select(ctx, x, 0, idx);  // (3, 5)
 *     lc_backward(ctx, y, NULL, 0);   // x->grad (4, 5): row 0 ones, row 2 twos, others 0
 */
#ifndef LC_SHAPE_H
#define LC_SHAPE_H

#include "lc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- views ----------------------------------------------------------------
 * Results share a's storage. Functions documented to return "a itself"
 * return a new reference to a. */

/* (d0, .., ds, .., de, .., dn-1) -> (d0, .., ds*..*de, .., dn-1); a 0-d a
 * (start = end = 0) gives (1). start == end returns a itself. A view when
 * dims start..end can be merged in place (a contiguous run), else a copy,
 * as reshape. */
lc_tensor *lc_flatten(lc_ctx *ctx, lc_tensor *a, int start, int end);
/* a without its size-1 dims: (1, 3, 1, 2) -> (3, 2). */
lc_tensor *lc_squeeze(lc_ctx *ctx, lc_tensor *a);
/* a without dim if that has size 1, else a view of the same shape. A 0-d a
 * accepts dim 0. */
lc_tensor *lc_squeeze_dim(lc_ctx *ctx, lc_tensor *a, int dim);
/* a new size-1 dim before a's dim `dim`, 0 <= dim <= ndim: (2, 3), 2 -> (2, 3, 1). */
lc_tensor *lc_unsqueeze(lc_ctx *ctx, lc_tensor *a, int dim);
/* out dim i is a's dim perm[i]; perm[ndim] must be a permutation of 0..ndim-1. */
lc_tensor *lc_permute(lc_ctx *ctx, lc_tensor *a, const int *perm);
/* (n, m) -> (m, n); a itself when ndim <= 1; an error for more dims. */
lc_tensor *lc_t(lc_ctx *ctx, lc_tensor *a);
/* a broadcast to shape[ndim] (dims aligned right, size 1 or missing dims
 * repeat with stride 0): lc_expand under PyTorch's other name. */
lc_tensor *lc_broadcast_to(lc_ctx *ctx, lc_tensor *a, int ndim, const int64_t *shape);
/* elements start .. start+length-1 of dim: (.., n, ..) -> (.., length, ..);
 * 0 <= start, 0 <= length, start + length <= n. */
lc_tensor *lc_narrow(lc_ctx *ctx, lc_tensor *a, int dim, int64_t start, int64_t length);
/* elements start, start+step, .. below stop of dim:
 * (.., n, ..) -> (.., ceil((stop - start) / step), ..);
 * 0 <= start <= stop <= n, step >= 1 (the binding clamps as string.sub does). */
lc_tensor *lc_slice(lc_ctx *ctx, lc_tensor *a, int dim, int64_t start, int64_t stop,
                    int64_t step);
/* Cuts dim into n consecutive views of sizes[n] (each >= 0, summing to a's
 * size there), written to out[n] as new references. On failure every out[i]
 * is NULL. Each piece is differentiable on its own. */
lc_status lc_split(lc_ctx *ctx, lc_tensor *a, int dim, int64_t n, const int64_t *sizes,
                   lc_tensor **out);

/* ---- copies --------------------------------------------------------------- */

/* ts[n] joined along dim: shapes must agree except in dim, whose sizes add
 * up. As in PyTorch, 1-D tensors of size 0 are skipped whatever the others'
 * shape. float32 with float64 gives float64; each gradient comes back in
 * its input's dtype. Contiguous inputs of the result's dtype are copied as
 * whole runs. */
lc_tensor *lc_cat(lc_ctx *ctx, int n, lc_tensor **ts, int dim);
/* ts[n], all of one shape (s0, .., sk-1), stacked along a new dim
 * 0 <= dim <= k: (s0, .., n, .., sk-1). Dtypes as cat. */
lc_tensor *lc_stack(lc_ctx *ctx, int n, lc_tensor **ts, int dim);
/* a (.., n, ..), index (m) or 0-d -> (.., m, ..): out[.., k, ..] = a[.., index[k], ..].
 * Indices may repeat; their gradients add up. */
lc_tensor *lc_index_select(lc_ctx *ctx, lc_tensor *a, int dim, lc_tensor *index);
/* The same written into out, recording nothing (grad mode off), for
 * Module:reuse_buffers: index may have any shape (i0, .., ik-1), which
 * replaces dim in out's (contiguous): a (s0, .., n, .., sm) gives
 * (s0, .., i0, .., ik-1, .., sm), as nn.Embedding's lookup; index values
 * count from base (0, or 1 for a binding's 1-based indices). */
lc_status lc_index_select_out(lc_ctx *ctx, lc_tensor *out, lc_tensor *a, int dim, lc_tensor *index,
                              int64_t base);
/* a (s0, .., sk-1), index (i0, .., ik-1) with i_d <= s_d for d != dim ->
 * out of index's shape: out[p] = a[p with dim replaced by index[p]]. */
lc_tensor *lc_gather(lc_ctx *ctx, lc_tensor *a, int dim, lc_tensor *index);
/* A copy of a (s0, ..) with src[p] added at a[p with dim replaced by
 * index[p]] for every position p of index; index (i0, ..) must fit in src
 * in every dim and in a except along dim; a and src share a dtype.
 * Gradients: a gets g, src gets g gathered at index (zeros where src is
 * larger than index; PyTorch 1.13 fails there). */
lc_tensor *lc_scatter_add(lc_ctx *ctx, lc_tensor *a, int dim, lc_tensor *index,
                          lc_tensor *src);
/* a where mask is 0, value where it is not (NaN counts as not 0); mask has
 * any dtype (bool usual). The result has the broadcast shape of a and
 * mask and a's dtype; a's gradient is g where mask is 0. */
lc_tensor *lc_masked_fill(lc_ctx *ctx, lc_tensor *a, lc_tensor *mask, double value);
/* sort.c: the 0-based positions that order a along dim (int64, a's shape),
 * ascending or descending, stable, NaN as the largest value; topk: the
 * first k of them (largest first when largest, else smallest first). The
 * values are lc_gather(a, dim, indices), which carries the gradient. A 0-d a
 * takes dim 0. */
lc_tensor *lc_argsort(lc_ctx *ctx, lc_tensor *a, int dim, int descending);
lc_tensor *lc_topk(lc_ctx *ctx, lc_tensor *a, int64_t k, int dim, int largest);
/* The sorted distinct values of a (1-D), the position of each of a's elements
 * among them (int64, 0-based, a's shape) and their counts (int64); no graph.
 * On failure all three are NULL. */
lc_status lc_unique(lc_ctx *ctx, lc_tensor *a, lc_tensor **values, lc_tensor **inverse,
                    lc_tensor **counts);
/* Where values would go in the sorted last dim of seq: the number of entries
 * below each value (below or equal with right), 0-based, int64 of values'
 * shape. seq is 1-D, or shares values' leading dims (torch.searchsorted). */
lc_tensor *lc_searchsorted(lc_ctx *ctx, lc_tensor *seq, lc_tensor *values, int right);
/* Where the running max (min with is_min) along dim is, for each position:
 * 0-based, int64, a's shape; ties go to the later position and NaN wins, as
 * torch.cummax. The values are lc_gather(a, dim, these). */
lc_tensor *lc_cumext(lc_ctx *ctx, lc_tensor *a, int dim, int is_min);
/* The 0-based coordinates of a's nonzero elements (NaN counts), row-major
 * order: an int64 (n, ndim) tensor, as torch.nonzero. */
lc_tensor *lc_nonzero(lc_ctx *ctx, lc_tensor *a);
/* In place, no graph (as lc_copy_): for each k, the sub-tensor of t at flat
 * position pos[k] of its first `lead` dims (0-based, row-major over them)
 * is set to src[k] when src has a leading dim of pos's length, else to src,
 * broadcasting to the sub-tensor's shape. pos is a 1-D integer tensor;
 * positions out of range fail before anything is written. Allocates nothing
 * (t[mask] = v and t[index] = v in the binding). */
lc_status lc_index_put_(lc_ctx *ctx, lc_tensor *t, int lead, const lc_tensor *pos,
                        const lc_tensor *src);
/* t with those sub-tensors set to src's rows (src: (len of pos, t's dims
 * after lead)), out of place and recorded: the written elements' gradient
 * goes to src, the others' to t (torch.index_put, accumulate = false; a
 * position named twice keeps its last row and passes the gradient to both).
 * The binding's t[mask] = v and t[index] = v while recording, via lc_rebase_. */
lc_tensor *lc_index_put(lc_ctx *ctx, lc_tensor *t, int lead, lc_tensor *pos, lc_tensor *src);
/* The same with a 0-d value tensor, which gets the sum of g where mask is
 * set as its gradient. */
lc_tensor *lc_masked_fill_tensor(lc_ctx *ctx, lc_tensor *a, lc_tensor *mask, lc_tensor *value);
/* a tiled reps[n] times (n >= ndim; a gets leading size-1 dims first):
 * (2, 3) with reps (2, 1, 2) -> (2, 2, 6). */
lc_tensor *lc_repeat(lc_ctx *ctx, lc_tensor *a, int n, const int64_t *reps);
/* a with the order of elements reversed along each of dims[n] (no dim twice). */
lc_tensor *lc_flip(lc_ctx *ctx, lc_tensor *a, int n, const int *dims);

#ifdef __cplusplus
}
#endif
#endif

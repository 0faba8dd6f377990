/* internal.h: what the core's own files share and users of lc.h do not see. */
#ifndef LC_INTERNAL_H
#define LC_INTERNAL_H

#include "lc.h"

#include <stdarg.h>

#define LC_FREE_CLASSES 7        /* 32, 64, ..., 2048 bytes */
#define LC_FREE_KEEP 256         /* blocks kept per class at most */
#define LC_BIG_KEEP 8
#define LC_BIG_FLOOR ((size_t)16 << 20)

struct lc_ctx {
  lc_alloc_fn alloc;
  void *alloc_ud;
  int64_t refcount;        /* the owner, plus one per live storage and node */
  uint64_t rng[4];         /* xoshiro256** state */
  lc_dtype default_dtype;
  int grad_enabled;
  int num_threads;         /* threads elementwise kernels may use; 1 unless asked */
  uint32_t visit_mark;     /* generation counter for graph walks */
  size_t live_bytes;
  size_t new_bytes;        /* allocated since lc_ctx_take_new_bytes */
  lc_status status;
  char err[256];
  uint64_t next_id;        /* tensor ids */
  /* Small blocks (tensor headers, nodes, small storages) are kept for reuse
   * in size classes of 32 << c bytes: most ops allocate and drop a few of
   * each, and a host allocator call per block is the larger cost at small
   * sizes. Blocks come from the host's allocator and return to it when the
   * context goes, so a host's budget sees them. */
  void *free_blocks[LC_FREE_CLASSES];
  int free_count[LC_FREE_CLASSES];
  /* Large blocks just freed, kept for a request of the same size: a training
   * step frees and asks for the same large sizes every time, and fresh host
   * memory costs a page fault per 4 KB (more than the work, for elementwise
   * ops). At most LC_BIG_KEEP blocks, and never more bytes than are live (or
   * LC_BIG_FLOOR); a failing host allocation empties the cache and retries,
   * so a capped host never fails because of it. */
  struct { void *p; size_t size; } big[LC_BIG_KEEP];
  int nbig;
  size_t big_bytes;
  lc_hook_fn hook;         /* binding callbacks, see lc_ctx_set_callbacks */
  lc_tensor_free_fn on_free;
  void *cb_ud;
};

/* lc_op_def (an op's name and backward rule) is public: see lc.h. */

#define LC_NODE_INLINE_INPUTS 4
#define LC_NODE_SAVED 2

/* One op in the graph. Inputs are strong references; `saved` holds what the
 * backward rule needs beyond them (tanh's output, as a detached alias so that
 * the output does not own itself through its node). */
struct lc_node {
  int64_t refcount;
  const lc_op_def *def;
  lc_tensor *out;          /* weak: the output owns the node, so it outlives it */
  int ninputs;
  lc_tensor **inputs;      /* inline_inputs, or allocated when there are more */
  lc_tensor *inline_inputs[LC_NODE_INLINE_INPUTS];
  lc_tensor *saved[LC_NODE_SAVED];
  double scalar[2];        /* e.g. pow's exponent, clamp's bounds */
  int dim0, dim1, keepdim; /* reduction / transpose / select dims */
  int64_t index;           /* select */
  int64_t iargs[LC_MAX_DIMS]; /* e.g. a permutation */
  void *user;              /* rule data owned by the node (freed with user_free) */
  void (*user_free)(lc_ctx *ctx, void *user);
  int freed;               /* inputs and saved dropped by a backward */
  /* backward bookkeeping, valid during one lc_backward */
  uint32_t mark;
  int64_t pending;         /* consumers not yet processed */
  lc_tensor *grad;         /* gradient of this node's output */
  lc_ctx *ctx;
  struct lc_node *free_next;
};

/* ---- ctx.c ---- */
lc_status lc__fail(lc_ctx *ctx, lc_status st, const char *fmt, ...);
void *lc__alloc(lc_ctx *ctx, size_t n);
void lc__free(lc_ctx *ctx, void *p, size_t n);
void lc__ctx_unref(lc_ctx *ctx);
uint64_t lc__rng_next(lc_ctx *ctx);

/* ---- tensor.c ---- */
size_t lc__numel(int ndim, const int64_t *shape, int *overflow);
lc_tensor *lc__view(lc_ctx *ctx, lc_tensor *base, int ndim, const int64_t *shape,
                    const int64_t *strides, int64_t offset);
void lc__contig_strides(int ndim, const int64_t *shape, int64_t *strides);
lc_tensor *lc__sum_to(lc_ctx *ctx, lc_tensor *g, int ndim, const int64_t *shape);
/* The broadcast shape of n (2 or 3) tensors; 0 with an error naming them. */
int lc__broadcast_shape(lc_ctx *ctx, int n, lc_tensor *const *t, int *ndim, int64_t *shape);
/* Strides viewing t over an ndim-d broadcast shape (0 where t has size 1 or
 * lacks the dim). */
void lc__broadcast_strides(const lc_tensor *t, int ndim, int64_t *st);
/* Records out = def(inputs): only when lc__wants_grad; NULL = out of memory. */
lc_node *lc__record(lc_ctx *ctx, lc_tensor *out, const lc_op_def *def, int n, lc_tensor **inputs);
int lc__wants_grad(lc_ctx *ctx, int n, lc_tensor **inputs);
void lc__node_release(lc_node *n);
void lc__node_drop_inputs(lc_node *n);

/* ---- ops.c ---- */
lc_tensor *lc__contig_raw(lc_ctx *ctx, lc_tensor *a);  /* a copy that records nothing */
/* a op b with broadcasting, recording nothing; a and b share a dtype. */
lc_tensor *lc__binary_raw(lc_ctx *ctx, int kop, lc_tensor *a, lc_tensor *b);
/* Rows of x viewed as (rows, x's last dim): the product of the leading dims. */
int64_t lc__leading_rows(const lc_tensor *x);

/* ---- autograd.c: helpers for rules (NULL arguments pass through, so a
 * chain of calls needs one check at the end) ---- */
lc_tensor *lc__retained(lc_tensor *t);
/* Takes ownership of r and sums it down to input's shape (undoes broadcasting). */
lc_tensor *lc__reduce_owned(lc_ctx *ctx, lc_tensor *r, const lc_tensor *input);
/* Takes ownership of a and b and returns op(a, b). */
lc_tensor *lc__owned2(lc_ctx *ctx, lc_tensor *(*op)(lc_ctx *, lc_tensor *, lc_tensor *),
                      lc_tensor *a, lc_tensor *b);
/* The built-in ops' definitions. */
extern const lc_op_def lc__def_add, lc__def_sub, lc__def_mul, lc__def_div, lc__def_pow,
    lc__def_pow_scalar, lc__def_neg, lc__def_tanh, lc__def_log, lc__def_cast, lc__def_matmul,
    lc__def_linear, lc__def_sum, lc__def_sum_dim, lc__def_mean, lc__def_mean_dim,
    lc__def_reshape, lc__def_transpose, lc__def_select, lc__def_expand, lc__def_clone;

/* ---- simd.c: float32 tanh, vectorised when the CPU allows (same bits either way) ---- */
float lc__tanh1f(float x);
void lc__tanh_f32(int64_t n, float *o, const float *a, int allow_simd);  /* o[n] = tanh(a[n]) */
int lc__tanh_f32_simd_available(void);

/* ---- kernels.c: loops over strided operands ---- */

/* An N-d walk over up to three operands (out, a, b) given per-operand
 * element strides over one shape. Dims that are contiguous for all three are
 * merged, so the innermost "row" is as long as possible:
 *   lc_walk w; lc__walk_init(&w, ndim, shape, so, sa, sb, base_offsets);
 *   for (int64_t r = 0, rows = lc__walk_rows(&w); r < rows; r++, lc__walk_next(&w))
 *     row of w.shape[w.ndim-1] elements at offsets w.off[k], strides w.st[k][w.ndim-1]
 * Pass an operand's strides twice when there are fewer than three. */
typedef struct lc_walk {
  int ndim;                       /* after merging; the last dim is the row */
  int64_t shape[LC_MAX_DIMS];
  int64_t st[3][LC_MAX_DIMS];     /* strides of out, a, b */
  int64_t idx[LC_MAX_DIMS];
  int64_t off[3];                 /* element offsets of the current row */
} lc_walk;
/* Runs fn(arg, lo, hi) over [0, n) split into up to `threads` ranges, one
 * on the calling thread. Threads are started per call: only worth it for
 * rows of at least LC_PARALLEL_MIN elements. Never fails: without a thread,
 * the work runs here. */
#define LC_PARALLEL_MIN (1 << 18)
void lc__parallel_for(int threads, int64_t n, void (*fn)(void *arg, int64_t lo, int64_t hi),
                      void *arg);
void lc__walk_init(lc_walk *w, int ndim, const int64_t *shape, const int64_t *so,
                   const int64_t *sa, const int64_t *sb, const int64_t *base);
int lc__walk_next(lc_walk *w);
int64_t lc__walk_rows(const lc_walk *w);

typedef enum lc_binop {
  LC_BIN_ADD, LC_BIN_SUB, LC_BIN_MUL, LC_BIN_DIV, LC_BIN_POW,
  LC_BIN_TANH_GRAD,   /* a * (1 - b*b): a = upstream grad, b = tanh output */
  LC_BIN_POW_DBASE,   /* d(a^b)/da = b a^(b-1), 0 where b == 0 (as PyTorch) */
  LC_BIN_POW_DEXP,    /* d(a^b)/db = a^b log a, 0 where a == 0 and b >= 0 */
  LC_BIN_COPY         /* b (a unused): strided copy with broadcast */
} lc_binop;
typedef enum lc_unop { LC_UN_NEG, LC_UN_TANH, LC_UN_LOG, LC_UN_POWS } lc_unop;

/* out (shape) = a op b where a, b are viewed with the given element strides
 * over `shape` (0 strides broadcast) and may differ in dtype from out. */
void lc__k_binary(lc_binop op, lc_tensor *out, const lc_tensor *a, const int64_t *sa,
                  const lc_tensor *b, const int64_t *sb);
void lc__k_unary(lc_unop op, lc_tensor *out, const lc_tensor *a, double s);
/* out (outer, inner) = sum of a over dim, where out drops dim. */
void lc__k_sum_dim(lc_tensor *out, const lc_tensor *a, int dim, double scale);
double lc__k_sum_all(const lc_tensor *a);
/* C (m, n) = alpha * op(A) (m, k) @ op(B) (k, n) + beta * C, row-major. */
void lc__k_gemm(lc_dtype dt, int trans_a, int trans_b, int64_t m, int64_t n, int64_t k,
                double alpha, const void *a, int64_t lda, const void *b, int64_t ldb,
                double beta, void *c, int64_t ldc);

#endif

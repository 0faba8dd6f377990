/* internal.h: what the core's own files share and users of lc.h do not see. */
#ifndef LC_INTERNAL_H
#define LC_INTERNAL_H

#include "lc.h"

#include <stdarg.h>
#include <stdbool.h>

/* ---- dtypes ---------------------------------------------------------------
 * Every dtype with its C element type and the suffix of its kernels' names.
 * A bool element is a _Bool: storing any value into one makes it 0 or 1,
 * so bool kernels can share the integer formulas (add is or, mul is and). */
#define LC_FOR_DTYPES(X)                                                           \
  X(LC_FLOAT32, float, f32) X(LC_FLOAT64, double, f64) X(LC_INT64, int64_t, i64)   \
  X(LC_INT32, int32_t, i32) X(LC_UINT8, uint8_t, u8) X(LC_BOOL, _Bool, b8)

/* Conversions between element types as PyTorch makes them on x86, without
 * C's undefined behaviour: a float that is NaN or out of an integer type's
 * range becomes its minimum (what cvttsd2si gives), uint8 takes the float
 * through int64 and wraps (-1.0 -> 255), integers narrow by wrapping, and
 * bool is x != 0 (NaN is true). LC_CVT_<suffix>(x) converts to that dtype. */
static inline int64_t lc__f2i64(double x) {
  /* +-2^63; NaN fails both tests */
  return x >= -9223372036854775808.0 && x < 9223372036854775808.0 ? (int64_t)x : INT64_MIN;
}
static inline int32_t lc__f2i32(double x) {
  return x > -2147483649.0 && x < 2147483648.0 ? (int32_t)x : INT32_MIN;
}
#define LC__IS_FLT(x) _Generic((x), float: 1, double: 1, default: 0)
#define LC_CVT_f32(x) ((float)(x))
#define LC_CVT_f64(x) ((double)(x))
#define LC_CVT_i64(x) (LC__IS_FLT(x) ? lc__f2i64((double)(x)) : (int64_t)(x))
#define LC_CVT_i32(x) (LC__IS_FLT(x) ? lc__f2i32((double)(x)) : (int32_t)(uint32_t)(x))
#define LC_CVT_u8(x) (LC__IS_FLT(x) ? (uint8_t)(uint64_t)lc__f2i64((double)(x)) : (uint8_t)(x))
#define LC_CVT_b8(x) ((_Bool)((x) != 0))

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
  uint64_t write_clock;    /* counts in-place writes: lc_storage.version, lc_node.recorded_at */
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
  /* Tensors whose .grad got a graph from a create_graph backward: where
   * cycles can be (lc_ctx_collect_cycles). Weak: a tensor leaves the list
   * when it is freed. */
  lc_tensor **cyc;
  size_t ncyc, capcyc;
  struct lc__trace *trace; /* the trace being recorded (plan.c), or NULL */
  /* A plan's own context keeps each weight its GEMMs read packed, once
   * (gemm.c's packed_b): a run then reads the panels instead of packing
   * the weight again. Repacked when the weight's storage version moves.
   * A run reads its weights in the same order every time: the search for
   * the next starts after the last found (packed_next), so it finds it at
   * once instead of walking the list for every GEMM. */
  int keep_packed;
  struct lc__packed *packed;
  int npacked, cappacked, packed_next;
  lc_hook_fn hook;         /* binding callbacks, see lc_ctx_set_callbacks */
  lc_tensor_free_fn on_free;
  void *cb_ud;
};

/* lc_op_def (an op's name and backward rule) is public: see lc.h. The core's
 * own ops wrap it with their row in the family's table (the .def files), so
 * a rule shared by several rows knows which one it runs for: LC__OP(n). */
typedef struct lc__opdef {
  lc_op_def def;   /* first: a node's def points at both */
  int op;          /* the row's index in its family's enum */
  /* Computes the node's output again, in place, from its inputs and
   * arguments as they are now: what a compiled plan runs (plan.c). It
   * writes only n->out's elements (and what n saved for its rule, when the
   * rule reads more than the inputs and output); it records nothing, bumps
   * no version, allocates only scratch from ctx, which is the plan's own
   * context, and retains or releases no tensor it did not make (a plan may
   * run on another thread than the one owning its parameters, and reference
   * counts are not atomic). NULL: the op cannot be compiled. */
  int (*replay)(lc_ctx *ctx, lc_node *n);
} lc__opdef;
#define LC__OP(n) (((const lc__opdef *)(n)->def)->op)

#define LC_NODE_INLINE_INPUTS 4
#define LC_NODE_SAVED 2

/* What a rule needs beyond the node's inputs and saved tensors, one member
 * per kind of op, so that a rule reads n->p.reduce.dim, never a field whose
 * meaning changes with the op. */
typedef union lc_node_args {
  struct { double p0, p1, p2; } ew;      /* elementwise: softplus's beta and threshold,
                                            clamp's bounds, pow's exponent and exponent - 1,
                                            logit's eps, nan_to_num's three values */
  struct { int dim, keepdim; double p; } reduce;  /* dim -1: all elements; p: norm's p,
                                                     var's correction (scans: dim only) */
  struct { int d0, d1; } transpose;
  struct { int dim; int64_t index; } select;
  struct { int dim; int64_t start, len, step; } block;    /* narrow, slice, split */
  struct { int dim; } join;                               /* cat, stack */
  struct { int dim, flag; int64_t k; } order;   /* sort.c's (lc__order_into): flag is argsort's
                                                   and topk's descending, searchsorted's right,
                                                   cummin's is_min */
  struct { int dim; int ndim; int64_t shape[LC_MAX_DIMS]; } index;  /* gather, index_select,
                                                     scatter_add: the index tensor's shape */
  struct { double value; int has_value; } fill;           /* masked_fill: the number, or
                                                     inputs[1] holds it (a 0-d tensor) */
  struct { int perm[LC_MAX_DIMS]; } permute;
  struct { int dims[LC_MAX_DIMS]; } flip;                 /* dims[d]: d is reversed */
  struct { int n; int64_t reps[LC_MAX_DIMS]; } repeat;
  struct { int64_t m, n, k; int mode; } la;               /* lapack.c: the matrix sizes
                                                     (..., m, n), k = min(m, n), and the op's
                                                     option (upper, full_matrices, qr's mode) */
  struct { double scale; } attn;                          /* masked_softmax's scale */
  struct { lc_conv2d_args a; int64_t kernel[2], size[2]; } conv;  /* conv.c: the geometry;
                                                     unfold's and fold's kernel and image size */
} lc_node_args;

/* One op in the graph. Inputs are strong references; `saved` holds what the
 * backward rule needs beyond them (tanh's output, as a detached alias so that
 * the output does not own itself through its node). A rule that records
 * (LC_CREATE_GRAPH) reads the output through `out` instead, so that the
 * gradient depends on it: during a backward the node is reached only
 * through its output, which the root's caller or a consumer holds. */
struct lc_node {
  int64_t refcount;
  const lc_op_def *def;
  lc_tensor *out;          /* weak: the output owns the node, so it outlives it */
  int ninputs;
  lc_tensor **inputs;      /* inline_inputs, or allocated when there are more */
  lc_tensor *inline_inputs[LC_NODE_INLINE_INPUTS];
  lc_tensor *saved[LC_NODE_SAVED];
  uint64_t recorded_at;    /* the write clock when recorded: an input or saved tensor
                              written after that has other values than the op used */
  lc_node_args p;          /* the op's own arguments */
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

/* Every in-place write into t's storage says so: graphs recorded before it
 * used other values (see lc_storage.version). Stack storages without a
 * context are scratch nobody records. */
void lc__trace_wrote(lc_ctx *ctx, const lc_tensor *t);
static inline void lc__wrote(lc_tensor *t) {
  lc_ctx *c = t->storage->ctx;
  if (!c) return;
  t->storage->version = ++c->write_clock;
  if (c->trace) lc__trace_wrote(c, t);
}

/* t (a buffer nothing reads any more, as a plan's fused Linear result) gives
 * its elements up and views from's instead: the same dtype and shape. */
void lc__share_storage(lc_tensor *t, const lc_tensor *from);

/* ---- ctx.c ---- */
lc_status lc__fail(lc_ctx *ctx, lc_status st, const char *fmt, ...);
void *lc__alloc(lc_ctx *ctx, size_t n);
void lc__free(lc_ctx *ctx, void *p, size_t n);
void lc__ctx_unref(lc_ctx *ctx);
uint64_t lc__rng_next(lc_ctx *ctx);

/* ---- tensor.c ---- */
/* The element at storage offset off as an int64, exactly for integer dtypes. */
int64_t lc__int_at(const lc_tensor *t, int64_t off);
/* p[i] of dtype dt as an int64, and set from one (converting as lc_to_dtype). */
int64_t lc__int_load(lc_dtype dt, const void *p, int64_t i);
void lc__int_store(lc_dtype dt, void *p, int64_t i, int64_t v);
void lc__store(lc_dtype dt, void *p, int64_t i, double v);
/* Whether t's element at storage offset off is nonzero (NaN is). */
int lc__nonzero_at(const lc_tensor *t, int64_t off);
size_t lc__numel(int ndim, const int64_t *shape, int *overflow);
lc_tensor *lc__view(lc_ctx *ctx, lc_tensor *base, int ndim, const int64_t *shape,
                    const int64_t *strides, int64_t offset);
/* lc_detach for what the library keeps (a node's saved value): no trace
 * alias, since a plan never reads it as a step's input (lc_detach's alias
 * is for the caller's own detached tensors). */
lc_tensor *lc__detach(lc_ctx *ctx, lc_tensor *a);
void lc__contig_strides(int ndim, const int64_t *shape, int64_t *strides);
/* The broadcast shape of n (2 or 3) tensors; 0 with an error naming them. */
int lc__broadcast_shape(lc_ctx *ctx, int n, lc_tensor *const *t, int *ndim, int64_t *shape);
/* Strides viewing t over an ndim-d broadcast shape (0 where t has size 1 or
 * lacks the dim). */
void lc__broadcast_strides(const lc_tensor *t, int ndim, int64_t *st);
/* Records out = def(inputs): only when lc__wants_grad; NULL = out of memory. */
lc_node *lc__record(lc_ctx *ctx, lc_tensor *out, const lc_op_def *def, int n, lc_tensor **inputs);
int lc__wants_grad(lc_ctx *ctx, int n, lc_tensor **inputs);
void lc__node_release(lc_node *n);
/* Whether every input's graph has seen every recorded write into its
 * elements (storage graph_write): 0, with the reason, if one is stale. A
 * view made before t[i] = v (with gradients) has v's values but not its
 * graph; recording it would silently lose v's gradient. */
int lc__inputs_current(lc_ctx *ctx, int n, lc_tensor **inputs);
/* autograd.c: whether t (still referenced) is reachable only through cycles
 * of its own, as a create_graph gradient makes them (leaf -> grad -> graph ->
 * leaf): a local cycle collection over what t reaches. */
int lc__unreachable(lc_tensor *t);
void lc__cycle_forget(lc_ctx *ctx, lc_tensor *t);  /* a listed tensor is being freed */
void lc__node_drop_inputs(lc_node *n);

/* ---- plan.c: tracing a forward for a compiled plan -------------------
 * While ctx->trace is set every float op records a node (lc__wants_grad
 * says yes) and lc__finish lists it here. An op that computes from its
 * inputs without a node (a comparison, an integer result, a random draw)
 * says so with lc__trace_opaque, so that a plan reading its result fails
 * to compile instead of keeping the traced value as a constant. */
void lc__trace_node(lc_ctx *ctx, lc_node *n);
void lc__trace_opaque(lc_ctx *ctx, lc_tensor *t, const char *what);
/* view (lc_detach's result, no node) views src's elements: a plan keeps what
 * makes src for it. */
void lc__trace_alias(lc_ctx *ctx, lc_tensor *view, lc_tensor *src);
/* A random draw while tracing: a plan would repeat the traced draws, so
 * the trace makes no plan. */
void lc__trace_drew(lc_ctx *ctx);

/* ---- op.c: what every op shares --------------------------------------
 * Forward ops end with lc__finish; rules use the helpers after it (NULL
 * arguments pass through, so a chain of calls needs one check at the end). */

/* Records out = def(in[n]) when a gradient is wanted; returns out, or NULL
 * (out released) when the node cannot be allocated. NULL out passes. */
lc_tensor *lc__finish(lc_ctx *ctx, lc_tensor *out, const lc_op_def *def, int n, lc_tensor **in);
/* lc__finish for results outside autograd (masks, indices, rows without a
 * rule; lc__finish sends non-float results here): a node only while tracing,
 * whose output does not require grad. */
lc_tensor *lc__finish_nograd(lc_ctx *ctx, lc_tensor *out, const lc_op_def *def, int n,
                             lc_tensor **in);
/* sort.c's index results (argsort, topk, searchsorted, cummax and cummin),
 * computed into out (int64) from the node's inputs and arguments by
 * lc__order_into (0 when scratch fails), and recorded by lc__order_finish
 * (shape.c: a node only while tracing, for a plan to replay it). */
typedef enum { LC__ORD_ARGSORT, LC__ORD_TOPK, LC__ORD_SEARCHSORTED, LC__ORD_CUMEXT } lc__ord;
int lc__order_into(lc_ctx *ctx, lc_tensor *out, lc__ord kind, lc_tensor *const *in,
                   const lc_node_args *p);
lc_tensor *lc__order_finish(lc_ctx *ctx, lc_tensor *out, lc__ord kind, int n, lc_tensor **in,
                            const lc_node_args *p);
/* Keeps a detached alias of out in its node's saved[0], for rules that read
 * the result (the output cannot hold itself through its own node); on
 * failure drops out. NULL and node-less outs pass. */
lc_tensor *lc__save_output(lc_ctx *ctx, lc_tensor *out);
/* 0 <= dim < a->ndim, or 0 with "dimension 4 is out of range for shape {2, 3}". */
int lc__check_dim(lc_ctx *ctx, const lc_tensor *a, int dim);
/* Fails with LC_ESHAPE and fmt (two %s: a's and b's shapes); returns NULL. */
lc_tensor *lc__fail_shapes(lc_ctx *ctx, const char *fmt, const lc_tensor *a, const lc_tensor *b);
/* An out= buffer must be contiguous of dtype and shape[ndim], and nothing
 * may want a gradient (out= records no graph); 0 with the reason otherwise.
 * A buffer that passes is about to be written: its version moves on. */
int lc__check_out(lc_ctx *ctx, lc_tensor *out, lc_dtype dtype, int ndim,
                  const int64_t *shape, int n, lc_tensor **inputs);
/* A contiguous copy that records nothing (a itself, retained, if contiguous). */
lc_tensor *lc__contig_raw(lc_ctx *ctx, lc_tensor *a);
/* Rows of x viewed as (rows, x's last dim): the product of the leading dims. */
int64_t lc__leading_rows(const lc_tensor *x);
lc_tensor *lc__retained(lc_tensor *t);
/* Sums g down to shape[ndim], undoing broadcasting (a new reference). */
lc_tensor *lc__sum_to(lc_ctx *ctx, lc_tensor *g, int ndim, const int64_t *shape);
/* Takes ownership of r and sums it down to input's shape (undoes broadcasting). */
lc_tensor *lc__reduce_owned(lc_ctx *ctx, lc_tensor *r, const lc_tensor *input);
/* Takes ownership of a and b and returns op(a, b). */
lc_tensor *lc__owned2(lc_ctx *ctx, lc_tensor *(*op)(lc_ctx *, lc_tensor *, lc_tensor *),
                      lc_tensor *a, lc_tensor *b);

/* ---- rules that record (LC_CREATE_GRAPH) ----------------------------------
 * When a backward is to be differentiated again, rules compute with
 * recorded ops instead of fused kernels. The d_ helpers make that a nested
 * expression: each takes borrowed tensors (NULL, a failure, passes through),
 * returns a new one and keeps it in the scope s, which d_end releases, so
 * an expression needs no releases of its own:
 *     d_scope s = {ctx, dtype, 0, {NULL}};
 *     lc_tensor *r = lc__retained(d_mul(&s, g, d_sub(&s, d_k(&s, 1), d_mul(&s, y, y))));
 *     d_end(&s); */
#define D_MAX 64  /* tensors one scope may hold (svd's rule makes ~50) */
typedef struct d_scope {
  lc_ctx *ctx;
  lc_dtype dt;     /* of the constants d_k makes */
  int n;
  lc_tensor *t[D_MAX];
} d_scope;

static inline lc_tensor *d_keep(d_scope *s, lc_tensor *t) {
  if (t && s->n == D_MAX) {
    lc_tensor_release(t);
    lc__fail(s->ctx, LC_ESTATE, "internal: a derivative makes more than %d tensors", D_MAX);
    return NULL;
  }
  if (t) s->t[s->n++] = t;
  return t;
}

static inline void d_end(d_scope *s) {
  for (int i = 0; i < s->n; i++) lc_tensor_release(s->t[i]);
  s->n = 0;
}

static inline lc_tensor *d_k(d_scope *s, double c) {
  return d_keep(s, lc_scalar(s->ctx, s->dt, c));
}

static inline lc_tensor *d_zero(d_scope *s, lc_tensor *x) {
  return x ? d_keep(s, lc_zeros(s->ctx, x->dtype, x->ndim, x->shape)) : NULL;
}

static inline lc_tensor *d_un(d_scope *s, lc_tensor *(*op)(lc_ctx *, lc_tensor *), lc_tensor *a) {
  return a ? d_keep(s, op(s->ctx, a)) : NULL;
}

static inline lc_tensor *d_bin(d_scope *s,
                               lc_tensor *(*op)(lc_ctx *, lc_tensor *, lc_tensor *),
                               lc_tensor *a, lc_tensor *b) {
  return a && b ? d_keep(s, op(s->ctx, a, b)) : NULL;
}

static inline lc_tensor *d_add(d_scope *s, lc_tensor *a, lc_tensor *b) {
  return d_bin(s, lc_add, a, b);
}
static inline lc_tensor *d_sub(d_scope *s, lc_tensor *a, lc_tensor *b) {
  return d_bin(s, lc_sub, a, b);
}
static inline lc_tensor *d_mul(d_scope *s, lc_tensor *a, lc_tensor *b) {
  return d_bin(s, lc_mul, a, b);
}
static inline lc_tensor *d_div(d_scope *s, lc_tensor *a, lc_tensor *b) {
  return d_bin(s, lc_div, a, b);
}

static inline lc_tensor *d_where(d_scope *s, lc_tensor *c, lc_tensor *a, lc_tensor *b) {
  return c && a && b ? d_keep(s, lc_where(s->ctx, c, a, b)) : NULL;
}

/* ---- elementwise.c: the strided loops other files use ---- */
/* out = a, a read through strides sa over out's shape (0 strides
 * broadcast); any pair of dtypes. */
void lc__k_copy(lc_tensor *out, const lc_tensor *a, const int64_t *sa);
/* out += a, read the same way; a has out's dtype. */
void lc__k_add_into(lc_tensor *out, const lc_tensor *a, const int64_t *sa);
/* t = op(t, a, b) in place (inplace.def), a and b of t's dtype read through
 * strides sa and sb over t's shape (a number is a 0-d tensor, strides 0). */
typedef enum lc_inplace_op {
#define INPLACE(name, formula) LC_IP_##name,
#include "inplace.def"
  LC_IP_COUNT
} lc_inplace_op;
void lc__k_inplace(lc_inplace_op op, lc_tensor *t, const lc_tensor *a, const int64_t *sa,
                   const lc_tensor *b, const int64_t *sb, double p0);

/* ---- simd.c: float32 exp, sigmoid, tanh, gelu (both forms), vectorised when the CPU allows ----
 * Within 2 ulp of the correctly rounded result, and the same bits at every
 * level, so results never depend on the CPU. */
typedef enum lc_vfn {
  LC_VF_EXP, LC_VF_SIGMOID, LC_VF_TANH, LC_VF_GELU_TANH, LC_VF_GELU_ERF, LC_VF_COUNT
} lc_vfn;
/* PLAIN: one at a time through fmaf (what CPUs without FMA run); NONE: one at a time */
enum { LC_SIMD_PLAIN = -1, LC_SIMD_NONE = 0, LC_SIMD_AVX2 = 1, LC_SIMD_AVX512 = 2, LC_SIMD_BEST = 99 };
int lc__simd_level(void);  /* the best level this CPU runs */
/* o[n] = fn(a[n]) (o may be a), vectorised up to level (capped at the CPU's) */
void lc__vmap_f32(lc_vfn fn, int64_t n, float *o, const float *a, int level);
float lc__exp1f(float x);
float lc__sigmoid1f(float x);
float lc__tanh1f(float x);
float lc__gelu_tanh1f(float x);
float lc__gelu_erf1f(float x);
void lc__tanh_f32(int64_t n, float *o, const float *a, int allow_simd);  /* o[n] = tanh(a[n]) */

/* ---- gemm.c: float32 c = act(a b^T + bias), Linear's forward with its activation ----
 * c (m, n; ldc) = act(a (m, k; lda) @ b (n, k; ldb)^T + bias (n, or NULL)).
 * c must not overlap a, b or bias. The path (OpenBLAS, an AVX2 or AVX-512 kernel) is
 * chosen by shape; results agree across paths to float32 rounding, and the
 * activations equal lc_relu/lc_tanh/lc_sigmoid applied after, bit for bit.
 * Allocates nothing (at most 32 KB of stack), so any thread may call it. */
typedef enum { LC__ACT_NONE, LC__ACT_RELU, LC__ACT_TANH, LC__ACT_SIGMOID } lc__act;
void lc__sgemm_nt(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda, const float *b,
                  int64_t ldb, const float *bias, lc__act act, float *c, int64_t ldc);
/* Compiled plans fuse a Linear step with the activation step after it
 * (plan.c): the activation this unary node applies in Linear's epilogue
 * (elementwise.c; LC__ACT_NONE: not one, or not float32), whether a Linear
 * node can be computed by lc__sgemm_nt as it stands (linalg.c), and that
 * computation into dst (the activation's output) with act applied. */
lc__act lc__unary_act(const lc_node *n);
int lc__linear_fusable(const lc_node *n);
void lc__linear_act_replay(lc_ctx *ctx, lc_node *n, lc_tensor *dst, lc__act act);
/* lc__sgemm_nt with b (n, k; ldb) the elements of w: in a context that
 * keeps packed weights (a plan's), the AVX-512 path reads w's panels packed
 * once (repacked when w's version moves) instead of packing them on every
 * call; the same bits. Allocates only when it (re)packs. */
void lc__sgemm_nt_w(lc_ctx *ctx, const lc_tensor *w, int64_t m, int64_t n, int64_t k,
                    const float *a, int64_t lda, const float *b, int64_t ldb, const float *bias,
                    lc__act act, float *c, int64_t ldc);
void lc__packed_free(lc_ctx *ctx);  /* the packed weights a context kept */
/* Tests and measurements: the kernels capped at a level (LC_SIMD_NONE: the
 * plain C path for every shape, LC_SIMD_AVX2: no AVX-512 tile, LC_SIMD_BEST:
 * as the CPU allows), or one path forced (0 portable, 1 OpenBLAS, 2 dot, 3
 * the AVX2 tile, 4 the AVX-512 tile; one the CPU or the cap does not allow
 * runs the portable path). */
void lc__sgemm_force_level(int level);
void lc__sgemm_nt_path(int path, int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                       const float *b, int64_t ldb, const float *bias, lc__act act, float *c,
                       int64_t ldc);

/* ---- conv.c: im2col and col2im, for the layers that slide a window ----
 * One image (c, h, w) at a time, float32 or float64. The geometry is
 * PyTorch's: output position (oy, ox) reads x[c, oy sh - ph + i dh,
 * ox sw - pw + j dw] for kernel offset (i, j). */
typedef struct lc__conv_geom {
  int64_t c, h, w;                 /* the image */
  int64_t oh, ow;                  /* output positions */
  int64_t kh, kw, sh, sw, ph, pw, dh, dw;
} lc__conv_geom;
/* cols (c kh kw, ldc) from x (c, h, w): rows (c, i, j), columns oy ow + ox;
 * padding reads 0. */
void lc__im2col(lc_dtype dt, const lc__conv_geom *g, const void *x, void *cols, int64_t ldc);
/* x (c, h, w) += the adjoint of lc__im2col applied to cols (c kh kw, ldc). */
void lc__col2im(lc_dtype dt, const lc__conv_geom *g, const void *cols, int64_t ldc, void *x);

/* ---- kernels.c: the walk, threads, sums, BLAS ---- */

/* An N-d walk over up to LC_WALK_OPS operands given per-operand element
 * strides over one shape. Dims that line up for every operand are merged,
 * so the innermost "row" is as long as possible, and size-1 dims dropped:
 *   lc_walk w;
 *   lc__walk_init(&w, ndim, shape, 2, (const int64_t *const[]){so, sa}, base);
 *   for (int64_t r = 0, rows = lc__walk_rows(&w); r < rows; r++, lc__walk_next(&w))
 *     row of w.shape[w.ndim-1] elements at offsets w.off[k], strides w.st[k][w.ndim-1]
 * base[k] is operand k's element offset. */
#define LC_WALK_OPS 4
typedef struct lc_walk {
  int ndim;                       /* after merging; the last dim is the row */
  int nops;
  int64_t shape[LC_MAX_DIMS];
  int64_t st[LC_WALK_OPS][LC_MAX_DIMS];
  int64_t idx[LC_MAX_DIMS];
  int64_t off[LC_WALK_OPS];       /* element offsets of the current row */
} lc_walk;
void lc__walk_init(lc_walk *w, int ndim, const int64_t *shape, int nops,
                   const int64_t *const *strides, const int64_t *base);
int lc__walk_next(lc_walk *w);
int64_t lc__walk_rows(const lc_walk *w);

/* Runs fn(arg, lo, hi) over [0, n) split into up to `threads` ranges, one
 * on the calling thread. Threads are started per call: only worth it for
 * rows of at least LC_PARALLEL_MIN elements. Never fails: without a thread,
 * the work runs here. */
#define LC_PARALLEL_MIN (1 << 18)
void lc__parallel_for(int threads, int64_t n, void (*fn)(void *arg, int64_t lo, int64_t hi),
                      void *arg);

/* out (outer, inner) = sum of a over dim, where out drops dim. */
void lc__k_sum_dim(lc_tensor *out, const lc_tensor *a, int dim, double scale);
double lc__k_sum_all(const lc_tensor *a);
/* C (m, n) = alpha * op(A) (m, k) @ op(B) (k, n) + beta * C, row-major. */
void lc__k_gemm(lc_dtype dt, int trans_a, int trans_b, int64_t m, int64_t n, int64_t k,
                double alpha, const void *a, int64_t lda, const void *b, int64_t ldb,
                double beta, void *c, int64_t ldc);

#endif

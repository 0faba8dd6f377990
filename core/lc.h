/*
 * lc.h: the core of Lucid, tensors with reverse-mode autograd, in plain C11.
 *
 * This library knows nothing of Lua. It owns tensors (float32, float64,
 * int64, int32, uint8 or bool, any shape up to LC_MAX_DIMS, with strides and
 * an offset so that views share storage), records the operations that made each tensor when gradients are
 * wanted, and runs those records backwards to fill the `grad` of the leaves.
 *
 * Everything mutable lives in an lc_ctx: the allocator every byte of tensor
 * memory comes from (it has lua_Alloc's signature, so a Lua binding passes
 * the state's own allocator and a host's memory cap covers tensors), the
 * random generator, the default dtype and the grad-recording switch. Two
 * contexts share nothing; one context must be used by one thread at a time.
 *
 * Ownership is by reference counting. Every function returning an lc_tensor*
 * returns a new reference the caller must lc_tensor_release(). Arguments are
 * borrowed. A tensor holds its storage, its grad and the graph node that made
 * it; a node holds its inputs. Releasing a tensor frees whatever is no
 * longer reachable, iteratively, so a chain of a million ops frees without
 * recursion.
 *
 * Errors never print, exit or abort. A fallible call returns NULL (or a
 * non-zero lc_status); lc_ctx_status() says which kind of failure and
 * lc_ctx_error() gives a message naming the shapes, e.g.
 * "shapes {2, 3} and {4, 5} do not fit (3 ~= 4)". Callers add the function
 * name. Dimensions are 0-based here; the Lua binding converts from 1-based.
 *
 * Example: y = tanh(x W^T + b), then dy/dx.
 *
 *     lc_ctx *ctx = lc_ctx_new(my_alloc, my_ud);      // NULL if out of memory
 *     int64_t xs[2] = {1, 3}, ws[2] = {2, 3}, bs[1] = {2};
 *     lc_tensor *x = lc_full(ctx, LC_FLOAT64, 2, xs, 0.5);
 *     lc_tensor *w = lc_rand(ctx, LC_FLOAT64, 2, ws);
 *     lc_tensor *b = lc_zeros(ctx, LC_FLOAT64, 1, bs);
 *     x->requires_grad = 1;
 *     lc_tensor *h = lc_linear(ctx, x, w, b);
 *     lc_tensor *y = h ? lc_tanh(ctx, h) : NULL;
 *     if (!y || lc_backward(ctx, y, NULL, 0) != LC_OK)
 *       fprintf(stderr, "%s\n", lc_ctx_error(ctx));  // the caller decides
 *     const double *g = lc_tensor_data(x->grad);       // shape {1, 3}
 *     lc_tensor_release(y); lc_tensor_release(h);     // NULL is fine
 *     lc_tensor_release(x); lc_tensor_release(w); lc_tensor_release(b);
 *     lc_ctx_free(ctx);   // the memory goes when the last tensor does
 */
#ifndef LC_H
#define LC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LC_MAX_DIMS 8

/* Same signature and contract as lua_Alloc: nsize == 0 frees, ptr == NULL
 * allocates; returning NULL for nsize > 0 means "out of memory". */
typedef void *(*lc_alloc_fn)(void *ud, void *ptr, size_t osize, size_t nsize);

/* Element types. Integers are two's complement and wrap on overflow, as in
 * PyTorch (the kernels compute in unsigned arithmetic: no undefined
 * behaviour); a bool element is one byte holding 0 or 1. Only float tensors
 * take part in autograd. */
typedef enum lc_dtype {
  LC_FLOAT32 = 0, LC_FLOAT64 = 1, LC_INT64 = 2, LC_INT32 = 3, LC_UINT8 = 4, LC_BOOL = 5
} lc_dtype;
#define LC_NDTYPES 6

typedef enum lc_status {
  LC_OK = 0,
  LC_ENOMEM,  /* the allocator refused */
  LC_ESHAPE,  /* shapes do not fit the operation */
  LC_EARG,    /* an argument is out of range */
  LC_ESTATE   /* the call is not valid now (freed graph, no grad, ...) */
} lc_status;

typedef struct lc_ctx lc_ctx;
typedef struct lc_node lc_node;

/* Bytes shared by a tensor and its views. */
typedef struct lc_storage {
  int64_t refcount;
  size_t nbytes;
  void *data;       /* nbytes bytes, from the context's allocator unless external */
  int external;     /* data belongs to someone else; never freed here */
  lc_ctx *ctx;
  uint64_t version; /* the context's write clock at the last in-place write (0: none):
                       a backward refuses a graph whose tensors changed after it used
                       them, since its gradients would be computed from other values */
  uint64_t graph_write; /* the clock at the last write recorded in a graph (lc_rebase_):
                           other tensors on these bytes made before it have a graph
                           that misses it, so no op may record them (see born) */
} lc_storage;

/* Fields are readable by users of the library; change them only through
 * the functions below (requires_grad on leaves is the exception). */
typedef struct lc_tensor {
  int64_t refcount;
  lc_dtype dtype;
  int ndim;                       /* 0 for a scalar */
  int64_t shape[LC_MAX_DIMS];     /* sizes; shape[0..ndim-1] */
  int64_t strides[LC_MAX_DIMS];   /* in elements, may be 0 (broadcast) */
  int64_t offset;                 /* in elements, into storage->data */
  int64_t numel;
  int requires_grad;
  lc_storage *storage;
  struct lc_tensor *grad;         /* accumulated gradient, NULL until backward */
  lc_node *node;                  /* the op that made it; NULL for leaves */
  lc_ctx *ctx;
  int retains_grad;               /* a non-leaf that keeps its .grad (retain_grad) */
  int has_hooks;                  /* the context's hook callback sees its gradient */
  uint64_t id;                    /* unique within the context: a key for bindings */
  struct lc_tensor *free_next;    /* private: the iterative release list */
  struct lc_tensor *bw_grad;      /* private: a leaf's gradient during one backward */
  int cycle_candidate;            /* private: listed for lc_ctx_collect_cycles */
  uint64_t born;                  /* the context's write clock when the header was made */
  int is_number;                  /* a 0-d tensor standing for a number of the caller's
                                     language: it takes part in type promotion last
                                     (PyTorch's wrapped numbers), see lc_result_type */
} lc_tensor;

/* ---- context ---------------------------------------------------------- */
lc_ctx *lc_ctx_new(lc_alloc_fn alloc, void *ud);
void lc_ctx_free(lc_ctx *ctx);   /* memory goes once its last tensor is released */
lc_status lc_ctx_status(const lc_ctx *ctx);
const char *lc_ctx_error(const lc_ctx *ctx);
void lc_ctx_seed(lc_ctx *ctx, uint64_t seed);
lc_dtype lc_ctx_default_dtype(const lc_ctx *ctx);
void lc_ctx_set_default_dtype(lc_ctx *ctx, lc_dtype dtype);
int lc_ctx_grad_enabled(const lc_ctx *ctx);
/* How many threads large elementwise kernels may split their work over
 * (default 1: a host's threads stay its own unless it asks). */
void lc_ctx_set_num_threads(lc_ctx *ctx, int n);
int lc_ctx_num_threads(const lc_ctx *ctx);
int lc_ctx_set_grad_enabled(lc_ctx *ctx, int enabled);  /* returns the old value */
size_t lc_ctx_live_bytes(const lc_ctx *ctx);   /* tensor bytes allocated now */
/* Bytes allocated since the last call that returned non-zero; returns 0 (and
 * keeps counting) while that is below `min`. A binding reports it to its GC. */
size_t lc_ctx_take_new_bytes(lc_ctx *ctx, size_t min);
const char *lc_dtype_name(lc_dtype dtype);      /* "float32", ..., "bool"; NULL if unknown */
size_t lc_dtype_size(lc_dtype dtype);
int lc_dtype_is_float(lc_dtype dtype);
/* torch.promote_types: bool < uint8 < int32 < int64 < float32 < float64,
 * except that a float type wins over any integer one. */
lc_dtype lc_promote_types(lc_dtype a, lc_dtype b);
/* torch.result_type of n operands (NULLs skipped): tensors with dims decide;
 * 0-d tensors only when of a higher category (bool < integer < float), and
 * numbers (is_number) last, a float number giving the context's default
 * float dtype: int64 tensor + 2.5 is float32, float32 tensor + float64 0-d
 * is float32, uint8 tensor + int64 0-d is uint8. */
lc_dtype lc_result_type(const lc_ctx *ctx, int n, lc_tensor *const *t);

/* Sets the context's error, for callbacks and rules written outside core. */
lc_status lc_ctx_fail(lc_ctx *ctx, lc_status st, const char *msg);

/* Callbacks a binding installs. `hook` is called during backward with the
 * complete gradient of every tensor whose has_hooks is set; it may put a new
 * reference in *replace to change that gradient, and returns non-OK (after
 * lc_ctx_fail) to abort the backward. `on_free` is told the id of every
 * tensor with has_hooks when it is freed, so per-tensor data can go. */
typedef lc_status (*lc_hook_fn)(void *ud, lc_tensor *t, lc_tensor *grad, lc_tensor **replace);
typedef void (*lc_tensor_free_fn)(void *ud, uint64_t id);
void lc_ctx_set_callbacks(lc_ctx *ctx, lc_hook_fn hook, lc_tensor_free_fn on_free, void *ud);

/* Writes "{2, 3}" (1-based readers and 0-based code agree on shapes).
 * LC_SHAPE_STR bytes hold any shape: 8 sizes of up to 19 digits and ", ". */
#define LC_SHAPE_STR 192
void lc_shape_str(char *buf, size_t n, int ndim, const int64_t *shape);

/* ---- creation (leaves, requires_grad = 0) -------------------------------- */
lc_tensor *lc_empty(lc_ctx *ctx, lc_dtype dtype, int ndim, const int64_t *shape);
lc_tensor *lc_zeros(lc_ctx *ctx, lc_dtype dtype, int ndim, const int64_t *shape);
lc_tensor *lc_full(lc_ctx *ctx, lc_dtype dtype, int ndim, const int64_t *shape, double value);
lc_tensor *lc_scalar(lc_ctx *ctx, lc_dtype dtype, double value);       /* 0-d */
/* A number of the caller's language as an operand (0-d, is_number): int64
 * when whole, float64 otherwise; lc_number_int for integers past 2^53. */
lc_tensor *lc_number(lc_ctx *ctx, double value);
lc_tensor *lc_number_int(lc_ctx *ctx, int64_t value);
lc_tensor *lc_rand(lc_ctx *ctx, lc_dtype dtype, int ndim, const int64_t *shape);  /* U[0,1) */
lc_tensor *lc_randn(lc_ctx *ctx, lc_dtype dtype, int ndim, const int64_t *shape); /* N(0,1) */
lc_tensor *lc_eye(lc_ctx *ctx, lc_dtype dtype, int64_t n, int64_t m);           /* (n, m) */
/* start, start + step, ... while before end (exclusive), as torch.arange. */
lc_tensor *lc_arange(lc_ctx *ctx, lc_dtype dtype, double start, double end, double step);
/* steps values from start to end inclusive, evenly spaced, as torch.linspace. */
lc_tensor *lc_linspace(lc_ctx *ctx, lc_dtype dtype, double start, double end, int64_t steps);
/* Integers drawn uniformly from [low, high), in any dtype (int64 as PyTorch). */
lc_tensor *lc_randint(lc_ctx *ctx, lc_dtype dtype, int64_t low, int64_t high, int ndim,
                      const int64_t *shape);
/* Fills t in place with U[lo, hi) from the context's generator. */
lc_status lc_uniform_(lc_ctx *ctx, lc_tensor *t, double lo, double hi);

/* random.c: more draws from the context's generator (no graph).
 *   lc_randperm: a random permutation of 0..n-1 (dtype: any, int64 usual).
 *   lc_multinomial: num draws of category indices (0-based, int64) from each
 *     row of probs (cats) or (rows, cats), weights that need not sum to 1;
 *     without replacement a category is drawn at most once.
 *   lc_bernoulli: 1 with probability p, else 0, per element (p's dtype).
 *   lc_poisson: Poisson draws with the given rates (rates' dtype).
 *   in place: normal_ (mean, std), exponential_ (rate lambd), bernoulli_
 *   (probability p; any dtype), random_ (integers in [from, to); any dtype). */
lc_tensor *lc_randperm(lc_ctx *ctx, int64_t n, lc_dtype dtype);
lc_tensor *lc_multinomial(lc_ctx *ctx, lc_tensor *probs, int64_t num, int replacement);
lc_tensor *lc_bernoulli(lc_ctx *ctx, lc_tensor *p);
lc_tensor *lc_poisson(lc_ctx *ctx, lc_tensor *rates);
lc_status lc_normal_(lc_ctx *ctx, lc_tensor *t, double mean, double std);
lc_status lc_exponential_(lc_ctx *ctx, lc_tensor *t, double lambd);
lc_status lc_bernoulli_(lc_ctx *ctx, lc_tensor *t, double p);
lc_status lc_random_(lc_ctx *ctx, lc_tensor *t, int64_t from, int64_t to);

/* A contiguous tensor over memory the caller owns (data: numel elements of
 * dtype, row-major). Nothing is copied; the memory must stay valid until
 * lc_tensor_own_data is called on a tensor sharing it, or all such tensors
 * are released. */
lc_tensor *lc_from_external(lc_ctx *ctx, lc_dtype dtype, void *data, int ndim,
                            const int64_t *shape);
/* Copies external data into memory from the context's allocator, so that the
 * caller can free theirs while tensors (views included) still use it. */
lc_status lc_tensor_own_data(lc_ctx *ctx, lc_tensor *t);

void lc_tensor_retain(lc_tensor *t);
void lc_tensor_release(lc_tensor *t);   /* NULL is a no-op */

/* Pointer to element 0 (storage + offset); contiguous tensors are row-major. */
void *lc_tensor_data(const lc_tensor *t);
int lc_tensor_is_contiguous(const lc_tensor *t);
/* Element at a 0-based multi-index idx[ndim]; no bounds check. */
double lc_tensor_get(const lc_tensor *t, const int64_t *idx);
/* Copies all elements, row-major, into out[numel] as doubles. */
void lc_tensor_read(const lc_tensor *t, double *out);
/* The single value of a one-element tensor. */
lc_status lc_tensor_item(lc_ctx *ctx, const lc_tensor *t, double *out);
/* Integer tensors exactly (an int64 past 2^53 is not a double): the element
 * at idx, and all elements row-major into out[numel]. Float elements are
 * converted as lc_to_dtype does. */
int64_t lc_tensor_get_int(const lc_tensor *t, const int64_t *idx);
void lc_tensor_read_int(const lc_tensor *t, int64_t *out);
/* Element at idx (no bounds check) set to value, converted as lc_to_dtype
 * converts: the exact form for int64 values past 2^53. */
void lc_tensor_set(lc_tensor *t, const int64_t *idx, double value);
void lc_tensor_set_int(lc_tensor *t, const int64_t *idx, int64_t value);

/* ---- ops: each returns a new tensor and records its backward ------------
 * A result records a graph node when grad mode is on and an input requires
 * grad. Binary ops broadcast like NumPy and promote float32 with float64 to
 * float64. */
lc_tensor *lc_add(lc_ctx *ctx, lc_tensor *a, lc_tensor *b);
lc_tensor *lc_sub(lc_ctx *ctx, lc_tensor *a, lc_tensor *b);
lc_tensor *lc_mul(lc_ctx *ctx, lc_tensor *a, lc_tensor *b);
lc_tensor *lc_div(lc_ctx *ctx, lc_tensor *a, lc_tensor *b);
lc_tensor *lc_pow(lc_ctx *ctx, lc_tensor *a, lc_tensor *b);
lc_tensor *lc_pow_scalar(lc_ctx *ctx, lc_tensor *a, double exponent);
lc_tensor *lc_neg(lc_ctx *ctx, lc_tensor *a);
lc_tensor *lc_tanh(lc_ctx *ctx, lc_tensor *a);
lc_status lc_tanh_out(lc_ctx *ctx, lc_tensor *out, lc_tensor *x);
lc_tensor *lc_log(lc_ctx *ctx, lc_tensor *a);
lc_tensor *lc_to_dtype(lc_ctx *ctx, lc_tensor *a, lc_dtype dtype);

/* matmul: 1-D and 2-D operands as in NumPy, batch dims broadcast:
 * (..., n, k) @ (..., k, m) -> (..., n, m). */
lc_tensor *lc_matmul(lc_ctx *ctx, lc_tensor *a, lc_tensor *b);
/* y (..., out) = x (..., in) @ w (out, in)^T + b (out); b may be NULL. */
lc_tensor *lc_linear(lc_ctx *ctx, lc_tensor *x, lc_tensor *w, lc_tensor *b);

/* The same, written into out (a contiguous tensor of the result's shape and
 * dtype), allocating nothing for contiguous operands: for inference loops
 * that reuse their buffers. No graph is recorded, so grad mode must be off
 * (or no input require grad). The elementwise ops' out= forms (lc_tanh_out,
 * lc_relu_out, ...) are declared beside their ops in lc_elementwise.h; out
 * may be x for those. */
lc_status lc_linear_out(lc_ctx *ctx, lc_tensor *out, lc_tensor *x, lc_tensor *w, lc_tensor *b);
/* matmul into out, for operands of one float dtype and at least 2 dims
 * (batch dims broadcast); out may not share elements with an operand. */
lc_status lc_matmul_out(lc_ctx *ctx, lc_tensor *out, lc_tensor *a, lc_tensor *b);

lc_tensor *lc_sum(lc_ctx *ctx, lc_tensor *a);                        /* 0-d */
lc_tensor *lc_sum_dim(lc_ctx *ctx, lc_tensor *a, int dim, int keepdim);
lc_tensor *lc_mean(lc_ctx *ctx, lc_tensor *a);
lc_tensor *lc_mean_dim(lc_ctx *ctx, lc_tensor *a, int dim, int keepdim);

/* Views share storage with a (reshape copies only when it must). shape may
 * hold one -1, inferred from the element count. */
lc_tensor *lc_reshape(lc_ctx *ctx, lc_tensor *a, int ndim, const int64_t *shape);
/* reshape that never copies: fails when a's strides cannot express shape. */
lc_tensor *lc_view(lc_ctx *ctx, lc_tensor *a, int ndim, const int64_t *shape);
lc_tensor *lc_transpose(lc_ctx *ctx, lc_tensor *a, int d0, int d1);
lc_tensor *lc_select(lc_ctx *ctx, lc_tensor *a, int dim, int64_t index);
lc_tensor *lc_expand(lc_ctx *ctx, lc_tensor *a, int ndim, const int64_t *shape);
lc_tensor *lc_contiguous(lc_ctx *ctx, lc_tensor *a);  /* a itself (retained) if already */
lc_tensor *lc_clone(lc_ctx *ctx, lc_tensor *a);       /* a fresh copy, differentiable */
lc_tensor *lc_detach(lc_ctx *ctx, lc_tensor *a);      /* same storage, no graph */

/* ---- in place (no graph; for optimizers, loading weights, grad zeroing) -- */
lc_status lc_copy_(lc_ctx *ctx, lc_tensor *dst, const lc_tensor *src);  /* src broadcasts */
lc_status lc_fill_(lc_ctx *ctx, lc_tensor *dst, double value);
lc_status lc_fill_int_(lc_ctx *ctx, lc_tensor *dst, int64_t value);   /* exact for int64 */
/* t op= ... in place (inplace.c), the other operands broadcasting to t's
 * shape; a NULL operand stands for the number beside it. Allocate nothing
 * when the operands share t's dtype.
 *   add_:     t += alpha * (other or value)
 *   mul_/div_: t *= / /= (other or value)
 *   addcmul_: t += value * a * b       addcdiv_: t += value * a / b
 *   lerp_:    t += weight * (end - t)  sqrt_:    t = sqrt(t) */
lc_status lc_add_(lc_ctx *ctx, lc_tensor *t, const lc_tensor *other, double value, double alpha);
lc_status lc_mul_(lc_ctx *ctx, lc_tensor *t, const lc_tensor *other, double value);
lc_status lc_div_(lc_ctx *ctx, lc_tensor *t, const lc_tensor *other, double value);
lc_status lc_addcmul_(lc_ctx *ctx, lc_tensor *t, const lc_tensor *a, const lc_tensor *b,
                      double value);
lc_status lc_addcdiv_(lc_ctx *ctx, lc_tensor *t, const lc_tensor *a, const lc_tensor *b,
                      double value);
lc_status lc_lerp_(lc_ctx *ctx, lc_tensor *t, const lc_tensor *end, double weight);
lc_status lc_sqrt_(lc_ctx *ctx, lc_tensor *t);

/* ---- autograd -----------------------------------------------------------
 * Seeds root with `seed` (NULL: ones of root's shape), walks the graph in
 * reverse topological order without recursion and accumulates into the
 * grad of every leaf that requires grad. The graph's saved tensors are
 * released afterwards unless retain_graph is set. */
lc_status lc_backward(lc_ctx *ctx, lc_tensor *root, lc_tensor *seed, int retain_graph);
/* Like lc_backward, but returns the gradients of root with respect to
 * inputs[n] in out[n] (new references; NULL for an input the graph does not
 * reach) instead of adding to any .grad. */
lc_status lc_grad(lc_ctx *ctx, lc_tensor *root, lc_tensor *seed, int retain_graph, int n,
                  lc_tensor **inputs, lc_tensor **out);

/* Higher-order gradients. With LC_CREATE_GRAPH the rules run with recording
 * on, so the gradients are results of ops like any other: they carry a graph
 * (when what they depend on requires grad) and can be differentiated again.
 * It implies LC_RETAIN_GRAPH, as in PyTorch. Example, d2/dx2 of tanh(x):
 *     lc_tensor *y = lc_tanh(ctx, x), *dy = NULL, *d2 = NULL;
 *     lc_grad_ex(ctx, y, NULL, LC_CREATE_GRAPH, 1, &x, &dy);  // 1 - y^2, with a graph
 *     lc_grad_ex(ctx, dy, NULL, 0, 1, &x, &d2);                // -2 y (1 - y^2)
 * With lc_backward_ex, a leaf's .grad that carries a graph refers back to the
 * leaf (leaf -> grad -> nodes -> leaf); such cycles are freed once nothing
 * else refers to them, by a release of the leaf or by lc_ctx_collect_cycles,
 * at the cost of a walk of what the leaf reaches. lc_grad_ex makes none. */
typedef enum lc_backward_flag { LC_RETAIN_GRAPH = 1, LC_CREATE_GRAPH = 2 } lc_backward_flag;
lc_status lc_backward_ex(lc_ctx *ctx, lc_tensor *root, lc_tensor *seed, int flags);
lc_status lc_grad_ex(lc_ctx *ctx, lc_tensor *root, lc_tensor *seed, int flags, int n,
                     lc_tensor **inputs, lc_tensor **out);
/* Frees the create_graph cycles that nothing outside refers to any more.
 * Most are freed at once (a release of the leaf itself checks), but when the
 * last outside reference goes to another tensor of the cycle, only this
 * finds it: a binding calls it once per collection of its own (cheap when
 * no .grad carries a graph). */
void lc_ctx_collect_cycles(lc_ctx *ctx);

/* ---- ops defined outside core (a binding's own autograd functions) -------
 * An op is a name and a backward rule. The rule receives the node and g, the
 * gradient of the node's output, and fills grads[i] (new references) for every
 * input that requires grad; it returns 0 on failure after lc_ctx_fail. Rules
 * run with grad recording off, unless the backward was asked to create a
 * graph (LC_CREATE_GRAPH): then what a rule computes with lc_ ops is
 * recorded, and lc_ctx_grad_enabled says so. */
typedef int (*lc_rule_fn)(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
typedef struct lc_op_def {
  const char *name;
  lc_rule_fn backward;
  int values_unused;  /* the rule reads only its inputs' shapes (views, indexing): a
                         backward need not refuse inputs written in place since */
} lc_op_def;
/* Makes out (a leaf without a graph) the result of def applied to inputs[n],
 * when grad mode is on and an input requires grad. `user` stays with the node
 * until the graph is freed (by a backward without retain_graph, or with the
 * node), then goes to user_free. */
lc_status lc_attach_node(lc_ctx *ctx, lc_tensor *out, const lc_op_def *def, int n,
                         lc_tensor **inputs, void *user,
                         void (*user_free)(lc_ctx *ctx, void *user));
/* An in-place change that gradients see: t's elements get r's values (r a
 * result of the same shape and dtype computed from t out of place, e.g.
 * lc_index_put(t, ...) or lc_add(t, o)), and a new header over t's elements
 * carrying r's graph is returned, which the caller uses as t from now on (a
 * binding swaps it into its handle). t's old header stays the input of r's
 * graph, with its own. Without a graph on r (a constant written into t that
 * requires grad) the new header has none. Outside grad mode, or when neither
 * t nor r requires grad, it is a plain copy into t and returns t, retained. Refused, as in PyTorch, for a leaf that requires grad
 * or a view of one. Other tensors on t's elements made before (views) may
 * no longer be recorded (lc_storage.graph_write). */
lc_tensor *lc_rebase_(lc_ctx *ctx, lc_tensor *t, lc_tensor *r);
int lc_node_ninputs(const lc_node *n);
lc_tensor *lc_node_input(const lc_node *n, int i);  /* NULL once the graph is freed */
void *lc_node_user(const lc_node *n);
int lc_tensor_is_leaf(const lc_tensor *t);
const char *lc_tensor_op_name(const lc_tensor *t);   /* "TanhBackward", NULL for leaves */

/* ---- the op registry ------------------------------------------------------
 * Every public op of the core (lc_exp, lc_add, lc_sum and lc_sum_dim, lc_cat,
 * ...) is listed once, under the name a Lua user knows it by (lucid.exp ->
 * "exp"), with its family ("elementwise", "reduce", "shape", "linalg", "rnn"), the
 * name of the node it records (lc_tensor_op_name) or NULL, and when it
 * records none, why ("a comparison: a mask of 1 and 0"). Tests walk it to
 * check that every op has its fixtures and documentation:
 *     for (int i = 0; i < lc_op_count(); i++) puts(lc_op_get(i)->name);
 * The table is constant: any thread may read it. */
typedef struct lc_op_info {
  const char *name;       /* "exp" */
  const char *family;     /* "elementwise" */
  const char *backward;   /* "ExpBackward", or NULL */
  const char *nondiff;    /* NULL, or why there is no gradient */
} lc_op_info;
int lc_op_count(void);
const lc_op_info *lc_op_get(int i);   /* NULL outside 0 .. lc_op_count() - 1 */

#ifdef __cplusplus
}
#endif

/* The op families, one header each. */
#include "lc_elementwise.h"
#include "lc_reduce.h"
#include "lc_shape.h"
#include "lc_linalg.h"
#include "lc_attention.h"
#include "lc_pool.h"
#include "lc_conv.h"
#include "lc_plan.h"
#include "lc_loss.h"
#include "lc_rnn.h"

#endif

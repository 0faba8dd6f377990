/* conv.c: the rows of conv.def: conv2d and conv_transpose2d as im2col +
 * one GEMM per group over a chunk of the batch, unfold and fold (im2col
 * and col2im themselves), each with its backward rule beside it.
 *
 * Three kernels serve the two convolutions, all in the convolution's own
 * terms (an image x (n, c, h, w), an output y (n, o, oh, ow), a weight w
 * (o, c / groups, kh, kw)):
 *   conv_forward:      y = W cols(x)                      (conv2d)
 *   conv_input_grad:   x = col2im(W^T y)                  (conv2d's gx, and
 *                                                          conv_transpose2d)
 *   conv_weight_grad:  w = y cols(x)^T summed over n      (both gw)
 * The transposed convolution is the second one with the roles of image and
 * output swapped, so it shares the kernels and the geometry. */
#include "internal.h"

#include <string.h>

static int rule_conv2d(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int rule_conv_transpose2d(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int rule_unfold(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int rule_fold(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int replay_conv(lc_ctx *ctx, lc_node *n);

enum {
#define CONV(name, ...) CV_##name,
#include "conv.def"
  CV_COUNT
};

static const lc__opdef CV[] = {
#define CONV(name, Bw, rule) [CV_##name] = {{#Bw "Backward", rule}, CV_##name, replay_conv},
#include "conv.def"
};
_Static_assert(sizeof CV / sizeof CV[0] == CV_COUNT, "a conv row without its table entry");

/* t as a contiguous operand: t itself, or a copy kept in *copy for the
 * caller to release (t NULL: NULL). Nothing is retained: a plan's replay
 * runs on other threads than the one owning its operands, and reference
 * counts are not atomic. *ok = 0 when the copy failed. */
static lc_tensor *contig_use(lc_ctx *ctx, lc_tensor *t, lc_tensor **copy, int *ok) {
  *copy = NULL;
  if (!t || lc_tensor_is_contiguous(t)) return t;
  if (!(*copy = lc__contig_raw(ctx, t))) *ok = 0;
  return *copy;
}

/* ---- im2col and col2im, per dtype ------------------------------------------ */

#define CK_T float
#define CK_NAME(x) x##_f32
#include "conv_kernels.h"
#undef CK_T
#undef CK_NAME
#define CK_T double
#define CK_NAME(x) x##_f64
#include "conv_kernels.h"
#undef CK_T
#undef CK_NAME

/* An empty image (h or w 0) padded into a nonempty one has no buffer to
 * point into: its columns are all padding. */
void lc__im2col(lc_dtype dt, const lc__conv_geom *g, const void *x, void *cols, int64_t ldc) {
  if (g->h == 0 || g->w == 0) {
    size_t es = lc_dtype_size(dt);
    for (int64_t r = 0; r < g->c * g->kh * g->kw; r++)
      memset((char *)cols + r * ldc * (int64_t)es, 0, (size_t)(g->oh * g->ow) * es);
  } else if (dt == LC_FLOAT64) {
    im2col_f64(g, x, cols, ldc);
  } else {
    im2col_f32(g, x, cols, ldc);
  }
}

void lc__col2im(lc_dtype dt, const lc__conv_geom *g, const void *cols, int64_t ldc, void *x) {
  if (g->h == 0 || g->w == 0) return;
  if (dt == LC_FLOAT64) col2im_f64(g, cols, ldc, x);
  else col2im_f32(g, cols, ldc, x);
}

lc_conv2d_args lc_conv2d_defaults(void) {
  lc_conv2d_args a = {{1, 1}, {0, 0}, {1, 1}, {0, 0}, 1};
  return a;
}

/* ---- the three convolution kernels -------------------------------------------- */

/* A convolution over a batch: the per-image geometry and the sizes around it. */
typedef struct conv_plan {
  lc_dtype dt;
  lc__conv_geom g;
  int64_t n, o, groups;
  int64_t l;       /* output positions per image, oh ow */
  int64_t kg, og;  /* per group: rows of cols (c / groups) kh kw, output channels */
  int64_t nb;      /* images per chunk */
  int pointwise;   /* a 1x1 kernel, stride 1, no padding: an image is its own cols */
} conv_plan;

/* Elements of cols kept at once: a chunk of images shares one GEMM per
 * group, which BLAS runs better than many thin ones, without cols growing
 * with the batch. */
#define CONV_CHUNK ((int64_t)1 << 20)

static void plan_init(conv_plan *p, lc_dtype dt, int64_t n, int64_t c, int64_t h, int64_t w,
                      int64_t o, int64_t oh, int64_t ow, int64_t kh, int64_t kw,
                      const lc_conv2d_args *a) {
  lc__conv_geom g = {c, h, w, oh, ow, kh, kw, a->stride[0], a->stride[1], a->padding[0],
                     a->padding[1], a->dilation[0], a->dilation[1]};
  p->dt = dt;
  p->g = g;
  p->n = n;
  p->o = o;
  p->groups = a->groups;
  p->l = oh * ow;
  p->kg = c / a->groups * kh * kw;
  p->og = o / a->groups;
  int64_t per = c * kh * kw * p->l;
  p->nb = per > 0 ? CONV_CHUNK / per : n;
  if (p->nb < 1) p->nb = 1;
  if (p->nb > n) p->nb = n;
  /* one image at a time, read and written in place: no im2col, no scratch */
  p->pointwise = kh == 1 && kw == 1 && g.sh == 1 && g.sw == 1 && g.ph == 0 && g.pw == 0;
  if (p->pointwise && p->nb > 1) p->nb = 1;
}

#define AT(p, i, es) ((char *)(p) + (int64_t)(i) * (int64_t)(es))

/* Scratch: cols (c kh kw, nb l) and, for chunks of several images, a (o,
 * nb l) staging matrix of outputs. 0 (ctx failed) when out of memory. */
typedef struct conv_scratch {
  void *cols, *stage;
  size_t ncols, nstage;
} conv_scratch;

static int scratch_get(lc_ctx *ctx, const conv_plan *p, conv_scratch *s) {
  size_t es = lc_dtype_size(p->dt);
  s->ncols = p->pointwise ? 0 : (size_t)(p->g.c * p->g.kh * p->g.kw * p->nb * p->l) * es;
  s->nstage = p->nb > 1 ? (size_t)(p->o * p->nb * p->l) * es : 0;
  s->cols = s->ncols ? lc__alloc(ctx, s->ncols) : NULL;
  s->stage = s->nstage && (s->cols || !s->ncols) ? lc__alloc(ctx, s->nstage) : NULL;
  if ((s->ncols && !s->cols) || (s->nstage && !s->stage)) {
    lc__free(ctx, s->cols, s->ncols);
    return 0;
  }
  return 1;
}

static void scratch_free(lc_ctx *ctx, conv_scratch *s) {
  lc__free(ctx, s->cols, s->ncols);
  lc__free(ctx, s->stage, s->nstage);
}

/* im2col of images n0 .. n0 + m - 1 of x (n, c, h, w) side by side in
 * cols; returns cols, or the image itself for a pointwise plan. */
static const void *chunk_cols(const conv_plan *p, const void *x, int64_t n0, int64_t m,
                              void *cols) {
  size_t es = lc_dtype_size(p->dt);
  int64_t img = p->g.c * p->g.h * p->g.w;
  if (p->pointwise) return AT(x, n0 * img, es);
  for (int64_t i = 0; i < m; i++)
    lc__im2col(p->dt, &p->g, AT(x, (n0 + i) * img, es), AT(cols, i * p->l, es), m * p->l);
  return cols;
}

/* The outputs of images n0 .. n0 + m - 1 of y (n, o, l) as one (o, m l)
 * matrix: y itself for one image, else copied into stage. Sets *ld. */
static const void *chunk_outputs(const conv_plan *p, const void *y, int64_t n0, int64_t m,
                                 void *stage, int64_t *ld) {
  size_t es = lc_dtype_size(p->dt);
  if (m == 1) {
    *ld = p->l;
    return AT(y, n0 * p->o * p->l, es);
  }
  *ld = m * p->l;
  for (int64_t i = 0; i < m; i++)
    for (int64_t k = 0; k < p->o; k++)
      memcpy(AT(stage, k * m * p->l + i * p->l, es), AT(y, ((n0 + i) * p->o + k) * p->l, es),
             (size_t)p->l * es);
  return stage;
}

/* y (n, o, l) = W (o, kg) cols(x) per group; x (n, c, h, w); all contiguous. */
static int conv_forward(lc_ctx *ctx, const conv_plan *p, const void *x, const void *w, void *y) {
  /* empty operands have no data pointer (and NULL + 0 is undefined behaviour) */
  if (p->n * p->o * p->l == 0) return 1;
  if (p->kg == 0) {  /* 0 input channels: an empty sum */
    memset(y, 0, (size_t)(p->n * p->o * p->l) * lc_dtype_size(p->dt));
    return 1;
  }
  conv_scratch s;
  if (!scratch_get(ctx, p, &s)) return 0;
  size_t es = lc_dtype_size(p->dt);
  for (int64_t n0 = 0; n0 < p->n; n0 += p->nb) {
    int64_t m = p->n - n0 < p->nb ? p->n - n0 : p->nb, ld = m * p->l;
    const void *cols = chunk_cols(p, x, n0, m, s.cols);
    void *dst = m == 1 ? AT(y, n0 * p->o * p->l, es) : s.stage;
    for (int64_t gi = 0; gi < p->groups; gi++)
      lc__k_gemm(p->dt, 0, 0, p->og, ld, p->kg, 1.0, AT(w, gi * p->og * p->kg, es), p->kg,
                 AT(cols, gi * p->kg * ld, es), ld, 0.0, AT(dst, gi * p->og * ld, es), ld);
    if (m > 1)
      for (int64_t i = 0; i < m; i++)
        for (int64_t k = 0; k < p->o; k++)
          memcpy(AT(y, ((n0 + i) * p->o + k) * p->l, es), AT(s.stage, k * ld + i * p->l, es),
                 (size_t)p->l * es);
  }
  scratch_free(ctx, &s);
  return 1;
}

/* x (n, c, h, w) = col2im(W^T y) per group, from y (n, o, l); x is
 * overwritten. */
static int conv_input_grad(lc_ctx *ctx, const conv_plan *p, const void *y, const void *w,
                           void *x) {
  int64_t img_n = p->n * p->g.c * p->g.h * p->g.w;
  if (img_n == 0) return 1;  /* x has no elements (nor data) */
  if (p->o * p->l == 0) {  /* nothing flows back: an empty sum */
    memset(x, 0, (size_t)img_n * lc_dtype_size(p->dt));
    return 1;
  }
  conv_scratch s;
  if (!scratch_get(ctx, p, &s)) return 0;
  size_t es = lc_dtype_size(p->dt);
  int64_t img = p->g.c * p->g.h * p->g.w;
  memset(x, 0, (size_t)(p->n * img) * es);
  for (int64_t n0 = 0; n0 < p->n; n0 += p->nb) {
    int64_t m = p->n - n0 < p->nb ? p->n - n0 : p->nb, ld = m * p->l, ldy;
    const void *yc = chunk_outputs(p, y, n0, m, s.stage, &ldy);
    /* pointwise: the columns are the image's gradient itself */
    void *cols = p->pointwise ? AT(x, n0 * img, es) : s.cols;
    for (int64_t gi = 0; gi < p->groups; gi++)
      lc__k_gemm(p->dt, 1, 0, p->kg, ld, p->og, 1.0, AT(w, gi * p->og * p->kg, es), p->kg,
                 AT(yc, gi * p->og * ldy, es), ldy, 0.0, AT(cols, gi * p->kg * ld, es), ld);
    for (int64_t i = 0; !p->pointwise && i < m; i++)
      lc__col2im(p->dt, &p->g, AT(s.cols, i * p->l, es), ld, AT(x, (n0 + i) * img, es));
  }
  scratch_free(ctx, &s);
  return 1;
}

/* w (o, kg) = y cols(x)^T per group, summed over the batch; w overwritten. */
static int conv_weight_grad(lc_ctx *ctx, const conv_plan *p, const void *x, const void *y,
                            void *w) {
  if (p->o * p->kg == 0) return 1;  /* w has no elements (nor data) */
  conv_scratch s;
  if (!scratch_get(ctx, p, &s)) return 0;
  size_t es = lc_dtype_size(p->dt);
  if (p->n == 0) memset(w, 0, (size_t)(p->o * p->kg) * es);
  for (int64_t n0 = 0; n0 < p->n; n0 += p->nb) {
    int64_t m = p->n - n0 < p->nb ? p->n - n0 : p->nb, ld = m * p->l, ldy;
    const void *cols = chunk_cols(p, x, n0, m, s.cols);
    const void *yc = chunk_outputs(p, y, n0, m, s.stage, &ldy);
    for (int64_t gi = 0; gi < p->groups; gi++)
      lc__k_gemm(p->dt, 0, 1, p->og, p->kg, ld, 1.0, AT(yc, gi * p->og * ldy, es), ldy,
                 AT(cols, gi * p->kg * ld, es), ld, n0 == 0 ? 0.0 : 1.0,
                 AT(w, gi * p->og * p->kg, es), p->kg);
  }
  scratch_free(ctx, &s);
  return 1;
}

static void add_bias(lc_dtype dt, int64_t n, int64_t o, int64_t l, void *y, const void *b) {
  if (dt == LC_FLOAT64) add_bias_f64(n, o, l, y, b);
  else add_bias_f32(n, o, l, y, b);
}

/* gb (o) = g (n, o, l) summed over n and l */
static lc_tensor *bias_grad(lc_ctx *ctx, lc_tensor *g) {
  int64_t o = g->shape[1];
  lc_tensor *gb = lc_empty(ctx, g->dtype, 1, &o);
  if (!gb) return NULL;
  int64_t n = g->shape[0], l = g->numel / (n * o > 0 ? n * o : 1);
  if (g->dtype == LC_FLOAT64) sum_bias_f64(n, o, l, lc_tensor_data(g), lc_tensor_data(gb));
  else sum_bias_f32(n, o, l, lc_tensor_data(g), lc_tensor_data(gb));
  return gb;
}

/* ---- checks --------------------------------------------------------------------- */

static int check_args(lc_ctx *ctx, const lc_conv2d_args *a, int transposed) {
  for (int d = 0; d < 2; d++) {
    if (a->stride[d] < 1 || a->dilation[d] < 1 || a->padding[d] < 0) {
      lc__fail(ctx, LC_EARG, "stride and dilation must be at least 1 and padding at least 0, "
               "got stride {%lld, %lld}, padding {%lld, %lld}, dilation {%lld, %lld}",
               (long long)a->stride[0], (long long)a->stride[1], (long long)a->padding[0],
               (long long)a->padding[1], (long long)a->dilation[0], (long long)a->dilation[1]);
      return 0;
    }
    if (transposed && (a->output_padding[d] < 0 ||
                       (a->output_padding[d] >= a->stride[d] &&
                        a->output_padding[d] >= a->dilation[d]))) {
      lc__fail(ctx, LC_EARG, "output_padding {%lld, %lld} must be smaller than either stride "
               "{%lld, %lld} or dilation {%lld, %lld}", (long long)a->output_padding[0],
               (long long)a->output_padding[1], (long long)a->stride[0],
               (long long)a->stride[1], (long long)a->dilation[0], (long long)a->dilation[1]);
      return 0;
    }
  }
  if (a->groups < 1) {
    lc__fail(ctx, LC_EARG, "groups must be at least 1, got %lld", (long long)a->groups);
    return 0;
  }
  return 1;
}

/* Input, weight and bias: 4-d float tensors of one dtype, bias (bias_len). */
static int check_operands(lc_ctx *ctx, const lc_tensor *x, const lc_tensor *w,
                          const lc_tensor *b, int64_t bias_len) {
  if (x->ndim != 4 || w->ndim != 4) {
    lc__fail_shapes(ctx, "input %s and weight %s must both be 4-d (N, C, H, W)", x, w);
    return 0;
  }
  if (!lc_dtype_is_float(x->dtype)) {
    lc__fail(ctx, LC_EARG, "input must be float32 or float64, got %s", lc_dtype_name(x->dtype));
    return 0;
  }
  if (x->dtype != w->dtype || (b && b->dtype != x->dtype)) {
    lc__fail(ctx, LC_EARG, "input, weight and bias must share a dtype, got %s, %s and %s",
             lc_dtype_name(x->dtype), lc_dtype_name(w->dtype), b ? lc_dtype_name(b->dtype) : "none");
    return 0;
  }
  if (x->shape[2] == 0 || x->shape[3] == 0) {  /* as PyTorch: there is nothing to slide over */
    char sx[LC_SHAPE_STR];
    lc_shape_str(sx, sizeof sx, x->ndim, x->shape);
    lc__fail(ctx, LC_ESHAPE, "input %s: only the batch and channel dims may be 0", sx);
    return 0;
  }
  if (b && (b->ndim != 1 || b->shape[0] != bias_len)) {
    char sb[LC_SHAPE_STR];
    lc_shape_str(sb, sizeof sb, b->ndim, b->shape);
    lc__fail(ctx, LC_ESHAPE, "bias %s must have shape {%lld}", sb, (long long)bias_len);
    return 0;
  }
  return 1;
}

static int64_t conv_out_size(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d) {
  int64_t span = in + 2 * p - d * (k - 1) - 1;
  return span < 0 ? 0 : span / s + 1;
}

static void keep_args(lc_tensor *out, const lc_conv2d_args *a, const int64_t *kernel,
                      const int64_t *size) {
  if (!out || !out->node) return;
  out->node->p.conv.a = *a;
  for (int d = 0; d < 2; d++) {
    out->node->p.conv.kernel[d] = kernel ? kernel[d] : 0;
    out->node->p.conv.size[d] = size ? size[d] : 0;
  }
}

/* ---- conv2d ------------------------------------------------------------------------ */

static int conv_check(lc_ctx *ctx, const lc_tensor *x, const lc_tensor *w, const lc_tensor *b,
                      const lc_conv2d_args *a, int64_t *oshape) {
  if (!check_args(ctx, a, 0) || !check_operands(ctx, x, w, b, w->shape[0])) return 0;
  int64_t G = a->groups, c = x->shape[1], o = w->shape[0];
  char sx[LC_SHAPE_STR], sw[LC_SHAPE_STR];
  lc_shape_str(sx, sizeof sx, x->ndim, x->shape);
  lc_shape_str(sw, sizeof sw, w->ndim, w->shape);
  if (o % G != 0) {
    lc__fail(ctx, LC_ESHAPE, "weight %s: out_channels %lld must be divisible by groups %lld",
             sw, (long long)o, (long long)G);
    return 0;
  }
  if (c != w->shape[1] * G) {
    lc__fail(ctx, LC_ESHAPE, "input %s has %lld channels, weight %s with groups %lld expects %lld",
             sx, (long long)c, sw, (long long)G, (long long)(w->shape[1] * G));
    return 0;
  }
  int64_t oh = conv_out_size(x->shape[2], w->shape[2], a->stride[0], a->padding[0], a->dilation[0]);
  int64_t ow = conv_out_size(x->shape[3], w->shape[3], a->stride[1], a->padding[1], a->dilation[1]);
  if (oh < 1 || ow < 1 || w->shape[2] < 1 || w->shape[3] < 1) {
    lc__fail(ctx, LC_ESHAPE, "input %s (padded by {%lld, %lld}) is smaller than the kernel of "
             "weight %s (dilation {%lld, %lld})", sx, (long long)a->padding[0],
             (long long)a->padding[1], sw, (long long)a->dilation[0], (long long)a->dilation[1]);
    return 0;
  }
  oshape[0] = x->shape[0];
  oshape[1] = o;
  oshape[2] = oh;
  oshape[3] = ow;
  return 1;
}

/* y (contiguous, conv_check's shape) = conv2d(x, w) + b; 0 when out of memory. */
static int conv_into(lc_ctx *ctx, lc_tensor *y, lc_tensor *x, lc_tensor *w, lc_tensor *b,
                     const lc_conv2d_args *a) {
  const int64_t *os = y->shape;
  if (y->numel == 0) return 1;
  conv_plan p;
  plan_init(&p, x->dtype, x->shape[0], x->shape[1], x->shape[2], x->shape[3], os[1], os[2], os[3],
            w->shape[2], w->shape[3], a);
  int ok = 1;
  lc_tensor *cp[3];
  lc_tensor *xc = contig_use(ctx, x, &cp[0], &ok), *wc = contig_use(ctx, w, &cp[1], &ok);
  lc_tensor *bc = contig_use(ctx, b, &cp[2], &ok);
  ok = ok && conv_forward(ctx, &p, lc_tensor_data(xc), lc_tensor_data(wc), lc_tensor_data(y));
  if (ok && b) add_bias(x->dtype, os[0], os[1], os[2] * os[3], lc_tensor_data(y), lc_tensor_data(bc));
  for (int i = 0; i < 3; i++) lc_tensor_release(cp[i]);
  return ok;
}

lc_tensor *lc_conv2d(lc_ctx *ctx, lc_tensor *x, lc_tensor *w, lc_tensor *b,
                     const lc_conv2d_args *a) {
  int64_t os[4];
  if (!conv_check(ctx, x, w, b, a, os)) return NULL;
  lc_tensor *y = lc_empty(ctx, x->dtype, 4, os);
  if (y && !conv_into(ctx, y, x, w, b, a)) {
    lc_tensor_release(y);
    return NULL;
  }
  lc_tensor *in[3] = {x, w, b};
  y = lc__finish(ctx, y, &CV[CV_conv2d].def, b ? 3 : 2, in);
  keep_args(y, a, NULL, NULL);
  return y;
}

lc_status lc_conv2d_out(lc_ctx *ctx, lc_tensor *out, lc_tensor *x, lc_tensor *w, lc_tensor *b,
                        const lc_conv2d_args *a) {
  int64_t os[4];
  lc_tensor *in[3] = {x, w, b};
  if (!conv_check(ctx, x, w, b, a, os) ||
      !lc__check_out(ctx, out, x->dtype, 4, os, b ? 3 : 2, in) || !conv_into(ctx, out, x, w, b, a))
    return ctx->status;
  return LC_OK;
}

/* ---- conv_transpose2d -------------------------------------------------------------- */

static int convt_check(lc_ctx *ctx, const lc_tensor *x, const lc_tensor *w, const lc_tensor *b,
                       const lc_conv2d_args *a, int64_t *oshape) {
  if (!check_args(ctx, a, 1)) return 0;
  if (x->ndim != 4 || w->ndim != 4) {
    lc__fail_shapes(ctx, "input %s and weight %s must both be 4-d (N, C, H, W)", x, w);
    return 0;
  }
  int64_t G = a->groups, c = x->shape[1], o = w->shape[1] * G;
  if (!check_operands(ctx, x, w, b, o)) return 0;
  char sx[LC_SHAPE_STR], sw[LC_SHAPE_STR];
  lc_shape_str(sx, sizeof sx, x->ndim, x->shape);
  lc_shape_str(sw, sizeof sw, w->ndim, w->shape);
  if (w->shape[0] % G != 0) {
    lc__fail(ctx, LC_ESHAPE, "weight %s: in_channels %lld must be divisible by groups %lld", sw,
             (long long)w->shape[0], (long long)G);
    return 0;
  }
  if (c != w->shape[0]) {
    lc__fail(ctx, LC_ESHAPE, "input %s has %lld channels, weight %s expects %lld", sx,
             (long long)c, sw, (long long)w->shape[0]);
    return 0;
  }
  for (int d = 0; d < 2; d++) {
    oshape[2 + d] = (x->shape[2 + d] - 1) * a->stride[d] - 2 * a->padding[d] +
                    a->dilation[d] * (w->shape[2 + d] - 1) + a->output_padding[d] + 1;
  }
  if (oshape[2] < 1 || oshape[3] < 1 || w->shape[2] < 1 || w->shape[3] < 1) {
    lc__fail(ctx, LC_ESHAPE, "input %s and weight %s with padding {%lld, %lld} give an empty "
             "output {%lld, %lld}", sx, sw, (long long)a->padding[0], (long long)a->padding[1],
             (long long)oshape[2], (long long)oshape[3]);
    return 0;
  }
  oshape[0] = x->shape[0];
  oshape[1] = o;
  return 1;
}

/* conv_transpose2d's forward into y (checked, of shape os). */
static int convt_into(lc_ctx *ctx, lc_tensor *y, lc_tensor *x, lc_tensor *w, lc_tensor *b,
                      const lc_conv2d_args *a, const int64_t *os) {
  /* the convolution whose input gradient this is: image y, output x */
  conv_plan p;
  plan_init(&p, x->dtype, x->shape[0], os[1], os[2], os[3], x->shape[1], x->shape[2],
            x->shape[3], w->shape[2], w->shape[3], a);
  int ok = 1;
  lc_tensor *cp[3];
  lc_tensor *xc = contig_use(ctx, x, &cp[0], &ok), *wc = contig_use(ctx, w, &cp[1], &ok);
  lc_tensor *bc = contig_use(ctx, b, &cp[2], &ok);
  ok = ok && (y->numel == 0 || conv_input_grad(ctx, &p, lc_tensor_data(xc), lc_tensor_data(wc),
                                               lc_tensor_data(y)));
  if (ok && b && y->numel)
    add_bias(x->dtype, os[0], os[1], os[2] * os[3], lc_tensor_data(y), lc_tensor_data(bc));
  for (int i = 0; i < 3; i++) lc_tensor_release(cp[i]);
  return ok;
}

lc_status lc_conv_transpose2d_out(lc_ctx *ctx, lc_tensor *out, lc_tensor *x, lc_tensor *w,
                                  lc_tensor *b, const lc_conv2d_args *a) {
  int64_t os[4];
  lc_tensor *in[3] = {x, w, b};
  if (!convt_check(ctx, x, w, b, a, os) ||
      !lc__check_out(ctx, out, x->dtype, 4, os, b ? 3 : 2, in) || !convt_into(ctx, out, x, w, b, a, os))
    return ctx->status;
  return LC_OK;
}

lc_tensor *lc_conv_transpose2d(lc_ctx *ctx, lc_tensor *x, lc_tensor *w, lc_tensor *b,
                               const lc_conv2d_args *a) {
  int64_t os[4];
  if (!convt_check(ctx, x, w, b, a, os)) return NULL;
  lc_tensor *y = lc_empty(ctx, x->dtype, 4, os);
  int ok = y && convt_into(ctx, y, x, w, b, a, os);
  if (!ok) {
    lc_tensor_release(y);
    return NULL;
  }
  lc_tensor *in[3] = {x, w, b};
  y = lc__finish(ctx, y, &CV[CV_conv_transpose2d].def, b ? 3 : 2, in);
  keep_args(y, a, NULL, NULL);
  return y;
}

/* ---- unfold and fold ------------------------------------------------------------------ */

static int window_check(lc_ctx *ctx, const int64_t *kernel, const lc_conv2d_args *a) {
  if (kernel[0] < 1 || kernel[1] < 1) {
    lc__fail(ctx, LC_EARG, "kernel_size must be at least 1, got {%lld, %lld}",
             (long long)kernel[0], (long long)kernel[1]);
    return 0;
  }
  lc_conv2d_args b = *a;
  b.groups = 1;
  return check_args(ctx, &b, 0);
}

/* y (n, c kh kw, blocks), contiguous, of the checked shape = im2col of x
 * image by image; 0 when out of memory. */
static int unfold_into(lc_ctx *ctx, lc_tensor *y, lc_tensor *x, const int64_t *kernel,
                       const lc_conv2d_args *a) {
  int64_t n = x->shape[0], c = x->shape[1];
  int64_t oh = conv_out_size(x->shape[2], kernel[0], a->stride[0], a->padding[0], a->dilation[0]);
  int64_t ow = conv_out_size(x->shape[3], kernel[1], a->stride[1], a->padding[1], a->dilation[1]);
  lc__conv_geom g = {c, x->shape[2], x->shape[3], oh, ow, kernel[0], kernel[1], a->stride[0],
                     a->stride[1], a->padding[0], a->padding[1], a->dilation[0], a->dilation[1]};
  if (y->numel == 0) return 1;
  int ok = 1;
  lc_tensor *copy, *xc = contig_use(ctx, x, &copy, &ok);
  if (!ok) return 0;
  size_t es = lc_dtype_size(x->dtype);
  for (int64_t i = 0; i < n; i++)
    lc__im2col(x->dtype, &g, AT(lc_tensor_data(xc), i * c * g.h * g.w, es),
               AT(lc_tensor_data(y), i * y->shape[1] * y->shape[2], es), y->shape[2]);
  lc_tensor_release(copy);
  return 1;
}

/* y (n, c, output_size), contiguous, of the checked shape = col2im of
 * cols image by image (overwritten); 0 when out of memory. */
static int fold_into(lc_ctx *ctx, lc_tensor *y, lc_tensor *cols, const int64_t *kernel,
                     const lc_conv2d_args *a) {
  int64_t n = y->shape[0], c = y->shape[1];
  int64_t oh = conv_out_size(y->shape[2], kernel[0], a->stride[0], a->padding[0], a->dilation[0]);
  int64_t ow = conv_out_size(y->shape[3], kernel[1], a->stride[1], a->padding[1], a->dilation[1]);
  lc__conv_geom g = {c, y->shape[2], y->shape[3], oh, ow, kernel[0], kernel[1], a->stride[0],
                     a->stride[1], a->padding[0], a->padding[1], a->dilation[0], a->dilation[1]};
  if (y->numel == 0) return 1;
  size_t es = lc_dtype_size(y->dtype);
  memset(lc_tensor_data(y), 0, (size_t)y->numel * es);  /* col2im adds into it */
  int ok = 1;
  lc_tensor *copy, *cc = contig_use(ctx, cols, &copy, &ok);
  if (!ok) return 0;
  for (int64_t i = 0; i < n; i++)
    lc__col2im(y->dtype, &g, AT(lc_tensor_data(cc), i * cols->shape[1] * cols->shape[2], es),
               cols->shape[2], AT(lc_tensor_data(y), i * c * g.h * g.w, es));
  lc_tensor_release(copy);
  return 1;
}

lc_tensor *lc_unfold(lc_ctx *ctx, lc_tensor *x, const int64_t *kernel, const lc_conv2d_args *a) {
  if (!window_check(ctx, kernel, a)) return NULL;
  char sx[LC_SHAPE_STR];
  lc_shape_str(sx, sizeof sx, x->ndim, x->shape);
  if (x->ndim != 4) {
    lc__fail(ctx, LC_ESHAPE, "input %s must be 4-d (N, C, H, W)", sx);
    return NULL;
  }
  if (!lc_dtype_is_float(x->dtype)) {
    lc__fail(ctx, LC_EARG, "input must be float32 or float64, got %s", lc_dtype_name(x->dtype));
    return NULL;
  }
  if (x->shape[1] == 0 || x->shape[2] == 0 || x->shape[3] == 0) {
    lc__fail(ctx, LC_ESHAPE, "input %s: only the batch dim may be 0", sx);
    return NULL;
  }
  int64_t oh = conv_out_size(x->shape[2], kernel[0], a->stride[0], a->padding[0], a->dilation[0]);
  int64_t ow = conv_out_size(x->shape[3], kernel[1], a->stride[1], a->padding[1], a->dilation[1]);
  if (oh < 1 || ow < 1) {
    lc__fail(ctx, LC_ESHAPE, "input %s (padded by {%lld, %lld}) is smaller than the kernel "
             "{%lld, %lld} (dilation {%lld, %lld})", sx, (long long)a->padding[0],
             (long long)a->padding[1], (long long)kernel[0], (long long)kernel[1],
             (long long)a->dilation[0], (long long)a->dilation[1]);
    return NULL;
  }
  int64_t os[3] = {x->shape[0], x->shape[1] * kernel[0] * kernel[1], oh * ow};
  lc_tensor *y = lc_empty(ctx, x->dtype, 3, os);
  if (y && !unfold_into(ctx, y, x, kernel, a)) {
    lc_tensor_release(y);
    return NULL;
  }
  int64_t size[2] = {x->shape[2], x->shape[3]};
  y = lc__finish(ctx, y, &CV[CV_unfold].def, 1, &x);
  keep_args(y, a, kernel, size);
  return y;
}

lc_tensor *lc_fold(lc_ctx *ctx, lc_tensor *cols, const int64_t *output_size,
                   const int64_t *kernel, const lc_conv2d_args *a) {
  if (!window_check(ctx, kernel, a)) return NULL;
  char sc[LC_SHAPE_STR];
  lc_shape_str(sc, sizeof sc, cols->ndim, cols->shape);
  if (cols->ndim != 3) {
    lc__fail(ctx, LC_ESHAPE, "input %s must be 3-d (N, C * kernel positions, blocks)", sc);
    return NULL;
  }
  if (!lc_dtype_is_float(cols->dtype)) {
    lc__fail(ctx, LC_EARG, "input must be float32 or float64, got %s",
             lc_dtype_name(cols->dtype));
    return NULL;
  }
  int64_t kk = kernel[0] * kernel[1];
  if (cols->shape[1] % kk != 0) {
    lc__fail(ctx, LC_ESHAPE, "input %s: dim 2 (%lld) must be divisible by the kernel's "
             "%lld positions", sc, (long long)cols->shape[1], (long long)kk);
    return NULL;
  }
  if (output_size[0] < 1 || output_size[1] < 1) {
    lc__fail(ctx, LC_EARG, "output_size must be at least 1, got {%lld, %lld}",
             (long long)output_size[0], (long long)output_size[1]);
    return NULL;
  }
  int64_t oh = conv_out_size(output_size[0], kernel[0], a->stride[0], a->padding[0], a->dilation[0]);
  int64_t ow = conv_out_size(output_size[1], kernel[1], a->stride[1], a->padding[1], a->dilation[1]);
  if (oh < 1 || ow < 1 || oh * ow != cols->shape[2]) {
    lc__fail(ctx, LC_ESHAPE, "input %s: dim 3 (%lld) must be the number of blocks, %lld x %lld "
             "for output_size {%lld, %lld}", sc, (long long)cols->shape[2], (long long)oh,
             (long long)ow, (long long)output_size[0], (long long)output_size[1]);
    return NULL;
  }
  int64_t os[4] = {cols->shape[0], cols->shape[1] / kk, output_size[0], output_size[1]};
  lc_tensor *y = lc_empty(ctx, cols->dtype, 4, os);
  if (y && !fold_into(ctx, y, cols, kernel, a)) {
    lc_tensor_release(y);
    return NULL;
  }
  y = lc__finish(ctx, y, &CV[CV_fold].def, 1, &cols);
  keep_args(y, a, kernel, output_size);
  return y;
}

/* ---- rules ------------------------------------------------------------------------------- */

/* The weight's gradient with recorded ops (create_graph): for the
 * convolution of image x (n, c, h, w) giving y (n, o, oh, ow), w (o, c / G,
 * kh, kw) = sum over n of y_g cols(x)_g^T, group by group. */
static lc_tensor *weight_grad_recorded(lc_ctx *ctx, lc_tensor *x, lc_tensor *y,
                                       const lc_tensor *w, const lc_conv2d_args *a) {
  int64_t G = a->groups, n = x->shape[0], l = y->shape[2] * y->shape[3];
  int64_t kg = w->shape[1] * w->shape[2] * w->shape[3], og = w->shape[0] / G;
  int64_t kernel[2] = {w->shape[2], w->shape[3]};
  d_scope sc = {ctx, x->dtype, 0, {NULL}}, *s = &sc;
  lc_tensor *cols = d_keep(s, lc_unfold(ctx, x, kernel, a));
  lc_tensor *c4 = cols ? d_keep(s, lc_reshape(ctx, cols, 4, (int64_t[]){n, G, kg, l})) : NULL;
  lc_tensor *ct = c4 ? d_keep(s, lc_transpose(ctx, c4, 2, 3)) : NULL;
  lc_tensor *y4 = d_keep(s, lc_reshape(ctx, y, 4, (int64_t[]){n, G, og, l}));
  lc_tensor *pr = d_bin(s, lc_matmul, y4, ct);
  lc_tensor *sm = pr ? d_keep(s, lc_sum_dim(ctx, pr, 0, 0)) : NULL;
  lc_tensor *gw = sm ? lc_reshape(ctx, sm, 4, w->shape) : NULL;
  d_end(s);
  return gw;
}

/* the bias's gradient with recorded ops: g summed over all dims but 2 */
static lc_tensor *bias_grad_recorded(lc_ctx *ctx, lc_tensor *g) {
  lc_tensor *a = lc_sum_dim(ctx, g, 3, 0);
  lc_tensor *b = a ? lc_sum_dim(ctx, a, 2, 0) : NULL;
  lc_tensor *c = b ? lc_sum_dim(ctx, b, 0, 0) : NULL;
  lc_tensor_release(a);
  lc_tensor_release(b);
  return c;
}

/* The fused backward of conv2d and conv_transpose2d over the plan p of the
 * convolution both compute (conv2d's forward: for the transpose, the one
 * from its output to its input): the input's gradient by gx_kernel(g, w),
 * the weight's from the columns of the convolution's input (x, or g for the
 * transpose) against its output's gradient, the bias's as a sum of g. */
typedef int (*conv_kernel)(lc_ctx *ctx, const conv_plan *p, const void *a, const void *w, void *y);
static int fused_grads(lc_ctx *ctx, const conv_plan *p, const lc_node *n, lc_tensor *g,
                       conv_kernel gx_kernel, int transposed, lc_tensor **grads) {
  lc_tensor *x = n->inputs[0], *w = n->inputs[1], *b = n->ninputs > 2 ? n->inputs[2] : NULL;
  lc_tensor *gc = lc__contig_raw(ctx, g);
  if (!gc) return 0;
  int ok = 1;
  if (x->requires_grad) {
    lc_tensor *wc = lc__contig_raw(ctx, w);
    grads[0] = wc ? lc_empty(ctx, x->dtype, 4, x->shape) : NULL;
    ok = grads[0] && (grads[0]->numel == 0 ||
                      gx_kernel(ctx, p, lc_tensor_data(gc), lc_tensor_data(wc),
                                lc_tensor_data(grads[0])));
    lc_tensor_release(wc);
  }
  if (ok && w->requires_grad) {
    lc_tensor *xc = lc__contig_raw(ctx, x);
    grads[1] = xc ? lc_empty(ctx, w->dtype, 4, w->shape) : NULL;
    ok = grads[1] && (grads[1]->numel == 0 ||
                      conv_weight_grad(ctx, p, lc_tensor_data(transposed ? gc : xc),
                                       lc_tensor_data(transposed ? xc : gc),
                                       lc_tensor_data(grads[1])));
    lc_tensor_release(xc);
  }
  if (ok && b && b->requires_grad) ok = (grads[2] = bias_grad(ctx, gc)) != NULL;
  lc_tensor_release(gc);
  return ok;
}

/* conv2d: gx = conv_transpose2d(g, w) (output_padding fills in the rows and
 * columns a stride left unread), gw = g cols(x)^T, gb = sum of g. */
static int rule_conv2d(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  lc_tensor *x = n->inputs[0], *w = n->inputs[1], *b = n->ninputs > 2 ? n->inputs[2] : NULL;
  const lc_conv2d_args *a = &n->p.conv.a;
  if (lc_ctx_grad_enabled(ctx)) {
    if (x->requires_grad) {
      lc_conv2d_args t = *a;
      for (int d = 0; d < 2; d++)
        t.output_padding[d] = x->shape[2 + d] - ((g->shape[2 + d] - 1) * a->stride[d] -
                              2 * a->padding[d] + a->dilation[d] * (w->shape[2 + d] - 1) + 1);
      /* (the leftover is below the stride, so the check passes) */
      grads[0] = lc_conv_transpose2d(ctx, g, w, NULL, &t);
    }
    if (w->requires_grad) grads[1] = weight_grad_recorded(ctx, x, g, w, a);
    if (b && b->requires_grad) grads[2] = bias_grad_recorded(ctx, g);
    return 1;
  }
  conv_plan p;
  plan_init(&p, x->dtype, x->shape[0], x->shape[1], x->shape[2], x->shape[3], g->shape[1],
            g->shape[2], g->shape[3], w->shape[2], w->shape[3], a);
  return fused_grads(ctx, &p, n, g, conv_input_grad, 0, grads);
}

/* conv_transpose2d: gx = conv2d(g, w), gw = x cols(g)^T, gb = sum of g. */
static int rule_conv_transpose2d(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  lc_tensor *x = n->inputs[0], *w = n->inputs[1], *b = n->ninputs > 2 ? n->inputs[2] : NULL;
  const lc_conv2d_args *a = &n->p.conv.a;
  if (lc_ctx_grad_enabled(ctx)) {
    lc_conv2d_args t = *a;
    t.output_padding[0] = t.output_padding[1] = 0;
    if (x->requires_grad) grads[0] = lc_conv2d(ctx, g, w, NULL, &t);
    if (w->requires_grad) grads[1] = weight_grad_recorded(ctx, g, x, w, &t);
    if (b && b->requires_grad) grads[2] = bias_grad_recorded(ctx, g);
    return 1;
  }
  conv_plan p;
  plan_init(&p, x->dtype, x->shape[0], g->shape[1], g->shape[2], g->shape[3], x->shape[1],
            x->shape[2], x->shape[3], w->shape[2], w->shape[3], a);
  return fused_grads(ctx, &p, n, g, conv_forward, 1, grads);
}

/* unfold and fold are each other's adjoints; both are linear, so the same
 * calls serve a recorded backward. */
static int rule_unfold(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  grads[0] = lc_fold(ctx, g, n->p.conv.size, n->p.conv.kernel, &n->p.conv.a);
  return grads[0] != NULL;
}

static int rule_fold(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  grads[0] = lc_unfold(ctx, g, n->p.conv.kernel, &n->p.conv.a);
  return grads[0] != NULL;
}

/* ---- replay (plan.c) --------------------------------------------------------------- */

/* The forwards' own kernels into the traced output; the geometry is the
 * node's (p.conv) and the shapes the traced ones, so nothing is checked
 * again. */
static int replay_conv(lc_ctx *ctx, lc_node *n) {
  lc_tensor *y = n->out, *x = n->inputs[0], *w = n->ninputs > 1 ? n->inputs[1] : NULL;
  lc_tensor *b = n->ninputs > 2 ? n->inputs[2] : NULL;
  const lc_conv2d_args *a = &n->p.conv.a;
  switch (LC__OP(n)) {
  case CV_conv2d: return conv_into(ctx, y, x, w, b, a);
  case CV_conv_transpose2d: return convt_into(ctx, y, x, w, b, a, y->shape);
  case CV_unfold: return unfold_into(ctx, y, x, n->p.conv.kernel, a);
  default: return fold_into(ctx, y, x, n->p.conv.kernel, a);
  }
}

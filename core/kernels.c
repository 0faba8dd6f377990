/* kernels.c: the loops. No allocation, no errors: callers check shapes.
 *
 * Every elementwise op is one row function per dtype, applied to each row of
 * an N-d walk. Broadcasting is a 0 stride, so one kernel serves every shape,
 * and dims that are contiguous for all operands are merged first, so a
 * contiguous tensor is walked as a single row the compiler can vectorise. */
#include "internal.h"

#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <string.h>

/* ---- the N-d walk ------------------------------------------------------------ */

void lc__walk_init(lc_walk *w, int ndim, const int64_t *shape, const int64_t *so,
                      const int64_t *sa, const int64_t *sb, const int64_t *base) {
  const int64_t *src[3] = {so, sa, sb};
  int n = 0;
  for (int i = 0; i < ndim; i++) {
    if (shape[i] == 1) continue;  /* size-1 dims do not move any pointer */
    int merge = n > 0;
    for (int k = 0; k < 3 && merge; k++)
      merge = w->st[k][n - 1] == src[k][i] * shape[i];
    if (merge) {
      w->shape[n - 1] *= shape[i];
      for (int k = 0; k < 3; k++) w->st[k][n - 1] = src[k][i];
    } else {
      w->shape[n] = shape[i];
      for (int k = 0; k < 3; k++) w->st[k][n] = src[k][i];
      n++;
    }
  }
  if (n == 0) {  /* a scalar, or all dims of size 1: one row of one element */
    w->shape[0] = 1;
    for (int k = 0; k < 3; k++) w->st[k][0] = 0;
    n = 1;
  }
  w->ndim = n;
  memset(w->idx, 0, sizeof w->idx);
  for (int k = 0; k < 3; k++) w->off[k] = base[k];
}

/* Moves to the next row; returns 0 after the last. */
int lc__walk_next(lc_walk *w) {
  for (int d = w->ndim - 2; d >= 0; d--) {
    w->idx[d]++;
    for (int k = 0; k < 3; k++) w->off[k] += w->st[k][d];
    if (w->idx[d] < w->shape[d]) return 1;
    for (int k = 0; k < 3; k++) w->off[k] -= w->st[k][d] * w->shape[d];
    w->idx[d] = 0;
  }
  return 0;
}

int64_t lc__walk_rows(const lc_walk *w) {
  int64_t r = 1;
  for (int d = 0; d < w->ndim - 1; d++) r *= w->shape[d];
  return r;
}

/* ---- row functions, one set per dtype ---------------------------------------- */

#define ROW2(T, EXPR)                                                           \
  do {                                                                          \
    if (so == 1 && sa == 1 && sb == 1) {                                        \
      for (int64_t i = 0; i < n; i++) { T x = a[i], y = b[i]; o[i] = (T)(EXPR); } \
    } else if (so == 1 && sa == 1 && sb == 0) {                                 \
      T y = b[0];                                                               \
      for (int64_t i = 0; i < n; i++) { T x = a[i]; o[i] = (T)(EXPR); }         \
    } else if (so == 1 && sa == 0 && sb == 1) { /* a number on the left */      \
      T x = a[0];                                                               \
      for (int64_t i = 0; i < n; i++) { T y = b[i]; o[i] = (T)(EXPR); }         \
    } else {                                                                    \
      for (int64_t i = 0; i < n; i++) {                                         \
        T x = a[i * sa], y = b[i * sb];                                         \
        o[i * so] = (T)(EXPR);                                                  \
      }                                                                         \
    }                                                                           \
  } while (0)

#define ROW1(T, EXPR)                                                           \
  do {                                                                          \
    if (so == 1 && sa == 1) {                                                   \
      for (int64_t i = 0; i < n; i++) { T x = a[i]; o[i] = (T)(EXPR); }         \
    } else {                                                                    \
      for (int64_t i = 0; i < n; i++) { T x = a[i * sa]; o[i * so] = (T)(EXPR); } \
    }                                                                           \
  } while (0)

#define DEFINE_ROWS(T, SUF, TANH, LOG, POW)                                          \
  static void bin_row_##SUF(lc_binop op, int64_t n, T *o, int64_t so, const T *a,     \
                            int64_t sa, const T *b, int64_t sb) {                    \
    switch (op) {                                                                    \
      case LC_BIN_ADD: ROW2(T, x + y); break;                                        \
      case LC_BIN_SUB: ROW2(T, x - y); break;                                        \
      case LC_BIN_MUL: ROW2(T, x * y); break;                                        \
      case LC_BIN_DIV: ROW2(T, x / y); break;                                        \
      case LC_BIN_POW: ROW2(T, POW(x, y)); break;                                    \
      case LC_BIN_TANH_GRAD: ROW2(T, x * ((T)1 - y * y)); break;                     \
      case LC_BIN_POW_DBASE: ROW2(T, y == 0 ? (T)0 : y * POW(x, y - (T)1)); break;  \
      case LC_BIN_POW_DEXP:                                                          \
        ROW2(T, (x == 0 && y >= 0) ? (T)0 : POW(x, y) * LOG(x)); break;              \
      case LC_BIN_COPY: (void)a; (void)sa; ROW2(T, y + (T)0 * x); break;             \
    }                                                                                \
  }                                                                                  \
  static void un_row_##SUF(lc_unop op, int64_t n, T *o, int64_t so, const T *a,       \
                           int64_t sa, T s) {                                        \
    switch (op) {                                                                    \
      case LC_UN_NEG: ROW1(T, -x); break;                                            \
      case LC_UN_TANH: ROW1(T, TANH(x)); break;                                      \
      case LC_UN_LOG: ROW1(T, LOG(x)); break;                                        \
      case LC_UN_POWS:                                                               \
        if (s == (T)2) ROW1(T, x * x);                                               \
        else ROW1(T, POW(x, s));                                                     \
        break;                                                                       \
    }                                                                                \
  }

DEFINE_ROWS(float, f32, lc__tanh1f, logf, powf)
DEFINE_ROWS(double, f64, tanh, log, pow)

/* The copy row above reads x only to share ROW2; a plain copy avoids that
 * read (and the NaN it could carry from uninitialised memory). */
#define COPY_ROW(TO, TI)                                                        \
  static void copy_row_##TO##_##TI(int64_t n, TO *o, int64_t so, const TI *b,   \
                                   int64_t sb) {                                \
    if (so == 1 && sb == 1) {                                                   \
      for (int64_t i = 0; i < n; i++) o[i] = (TO)b[i];                          \
    } else {                                                                    \
      for (int64_t i = 0; i < n; i++) o[i * so] = (TO)b[i * sb];                \
    }                                                                           \
  }
COPY_ROW(float, float)
COPY_ROW(float, double)
COPY_ROW(double, float)
COPY_ROW(double, double)

/* ---- threads -------------------------------------------------------------------- */

typedef struct range_job {
  void (*fn)(void *arg, int64_t lo, int64_t hi);
  void *arg;
  int64_t lo, hi;
} range_job;

static void *range_main(void *p) {
  range_job *j = (range_job *)p;
  j->fn(j->arg, j->lo, j->hi);
  return NULL;
}

void lc__parallel_for(int threads, int64_t n, void (*fn)(void *arg, int64_t lo, int64_t hi),
                      void *arg) {
  enum { MAX_THREADS = 64 };
  if (threads > MAX_THREADS) threads = MAX_THREADS;
  if (threads <= 1 || n < LC_PARALLEL_MIN) {
    fn(arg, 0, n);
    return;
  }
  pthread_t tid[MAX_THREADS];
  range_job jobs[MAX_THREADS];
  int started[MAX_THREADS] = {0};
  int64_t step = (n + threads - 1) / threads;
  step = (step + 15) & ~(int64_t)15;  /* whole vectors per range */
  for (int t = 0; t < threads; t++) {
    int64_t lo = t * step, hi = lo + step < n ? lo + step : n;
    jobs[t] = (range_job){fn, arg, lo < n ? lo : n, hi};
  }
  for (int t = 1; t < threads; t++)
    started[t] = pthread_create(&tid[t], NULL, range_main, &jobs[t]) == 0;
  range_main(&jobs[0]);
  for (int t = 1; t < threads; t++) {
    if (started[t]) pthread_join(tid[t], NULL);
    else range_main(&jobs[t]);  /* no thread to be had: do its share here */
  }
}

/* One contiguous row of an elementwise op, as a job for lc__parallel_for. */
typedef struct row_job {
  int unary;
  int op;
  lc_dtype dt;
  void *o;
  const void *a, *b;
  int64_t sb;   /* b's stride: 1, or 0 for a broadcast scalar */
  double s;
} row_job;

static void row_range(void *p, int64_t lo, int64_t hi) {
  const row_job *j = (const row_job *)p;
  int64_t n = hi - lo;
  if (j->dt == LC_FLOAT32) {
    float *o = (float *)j->o + lo;
    const float *a = (const float *)j->a + lo;
    if (j->unary && j->op == LC_UN_TANH) lc__tanh_f32(n, o, a, 1);
    else if (j->unary) un_row_f32((lc_unop)j->op, n, o, 1, a, 1, (float)j->s);
    else bin_row_f32((lc_binop)j->op, n, o, 1, a, 1, (const float *)j->b + lo * j->sb, j->sb);
  } else {
    double *o = (double *)j->o + lo;
    const double *a = (const double *)j->a + lo;
    if (j->unary) un_row_f64((lc_unop)j->op, n, o, 1, a, 1, j->s);
    else bin_row_f64((lc_binop)j->op, n, o, 1, a, 1, (const double *)j->b + lo * j->sb, j->sb);
  }
}

/* ---- elementwise entry points ---------------------------------------------- */

void lc__k_binary(lc_binop op, lc_tensor *out, const lc_tensor *a, const int64_t *sa,
                  const lc_tensor *b, const int64_t *sb) {
  if (out->numel == 0) return;
  lc_walk w;
  int64_t base[3] = {out->offset, a->offset, b->offset};
  lc__walk_init(&w, out->ndim, out->shape, out->strides, sa, sb, base);
  int64_t n = w.shape[w.ndim - 1];
  int64_t so_ = w.st[0][w.ndim - 1], sa_ = w.st[1][w.ndim - 1], sb_ = w.st[2][w.ndim - 1];
  int64_t rows = lc__walk_rows(&w);
  void *od = out->storage->data;
  const void *ad = a->storage->data, *bd = b->storage->data;
  if (rows == 1 && op != LC_BIN_COPY && so_ == 1 && sa_ == 1 && (sb_ == 1 || sb_ == 0) &&
      a->dtype == out->dtype && b->dtype == out->dtype && out->ctx->num_threads > 1 &&
      n >= LC_PARALLEL_MIN) {
    size_t es = lc_dtype_size(out->dtype);
    row_job j = {0, (int)op, out->dtype, (char *)od + w.off[0] * (int64_t)es,
                 (const char *)ad + w.off[1] * (int64_t)es, (const char *)bd + w.off[2] * (int64_t)es,
                 sb_, 0};
    lc__parallel_for(out->ctx->num_threads, n, row_range, &j);
    return;
  }
  for (int64_t r = 0; r < rows; r++, lc__walk_next(&w)) {
    if (op == LC_BIN_COPY) {
      if (out->dtype == LC_FLOAT64) {
        if (b->dtype == LC_FLOAT64)
          copy_row_double_double(n, (double *)od + w.off[0], so_, (const double *)bd + w.off[2], sb_);
        else
          copy_row_double_float(n, (double *)od + w.off[0], so_, (const float *)bd + w.off[2], sb_);
      } else {
        if (b->dtype == LC_FLOAT64)
          copy_row_float_double(n, (float *)od + w.off[0], so_, (const double *)bd + w.off[2], sb_);
        else
          copy_row_float_float(n, (float *)od + w.off[0], so_, (const float *)bd + w.off[2], sb_);
      }
    } else if (out->dtype == LC_FLOAT64) {
      bin_row_f64(op, n, (double *)od + w.off[0], so_, (const double *)ad + w.off[1], sa_,
                  (const double *)bd + w.off[2], sb_);
    } else {
      bin_row_f32(op, n, (float *)od + w.off[0], so_, (const float *)ad + w.off[1], sa_,
                  (const float *)bd + w.off[2], sb_);
    }
  }
}

void lc__k_unary(lc_unop op, lc_tensor *out, const lc_tensor *a, double s) {
  if (out->numel == 0) return;
  lc_walk w;
  int64_t base[3] = {out->offset, a->offset, 0};
  lc__walk_init(&w, out->ndim, out->shape, out->strides, a->strides, a->strides, base);
  int64_t n = w.shape[w.ndim - 1];
  int64_t so_ = w.st[0][w.ndim - 1], sa_ = w.st[1][w.ndim - 1];
  int64_t rows = lc__walk_rows(&w);
  if (rows == 1 && so_ == 1 && sa_ == 1 && a->dtype == out->dtype &&
      out->ctx->num_threads > 1 && n >= LC_PARALLEL_MIN) {
    size_t es = lc_dtype_size(out->dtype);
    row_job j = {1, (int)op, out->dtype, (char *)out->storage->data + w.off[0] * (int64_t)es,
                 (const char *)a->storage->data + w.off[1] * (int64_t)es, NULL, 0, s};
    lc__parallel_for(out->ctx->num_threads, n, row_range, &j);
    return;
  }
  for (int64_t r = 0; r < rows; r++, lc__walk_next(&w)) {
    if (op == LC_UN_TANH && out->dtype == LC_FLOAT32 && so_ == 1 && sa_ == 1)
      lc__tanh_f32(n, (float *)out->storage->data + w.off[0],
                   (const float *)a->storage->data + w.off[1], 1);
    else if (out->dtype == LC_FLOAT64)
      un_row_f64(op, n, (double *)out->storage->data + w.off[0], so_,
                 (const double *)a->storage->data + w.off[1], sa_, s);
    else
      un_row_f32(op, n, (float *)out->storage->data + w.off[0], so_,
                 (const float *)a->storage->data + w.off[1], sa_, (float)s);
  }
}

/* ---- reductions ---------------------------------------------------------------- */

double lc__k_sum_all(const lc_tensor *a) {
  if (a->numel == 0) return 0.0;
  lc_walk w;
  int64_t base[3] = {a->offset, a->offset, a->offset};
  lc__walk_init(&w, a->ndim, a->shape, a->strides, a->strides, a->strides, base);
  int64_t n = w.shape[w.ndim - 1], s = w.st[0][w.ndim - 1], rows = lc__walk_rows(&w);
  double acc = 0.0;
  for (int64_t r = 0; r < rows; r++, lc__walk_next(&w)) {
    if (a->dtype == LC_FLOAT64) {
      const double *p = (const double *)a->storage->data + w.off[0];
      for (int64_t i = 0; i < n; i++) acc += p[i * s];
    } else {
      const float *p = (const float *)a->storage->data + w.off[0];
      for (int64_t i = 0; i < n; i++) acc += (double)p[i * s];
    }
  }
  return acc;
}

/* out has a's shape without `dim` and is contiguous. Two orders: when dim is
 * a's innermost (stride 1), each output is one contiguous sum; otherwise the
 * slices along dim are added into out one after another, which keeps the
 * inner loop contiguous (the bias gradient case: summing rows). */
void lc__k_sum_dim(lc_tensor *out, const lc_tensor *a, int dim, double scale) {
  int64_t st[LC_MAX_DIMS];
  int k = 0;
  for (int i = 0; i < a->ndim; i++)
    if (i != dim) st[k++] = a->strides[i];
  int64_t len = a->shape[dim], dstride = a->strides[dim];
  if (out->numel == 0) return;  /* (and no memset of a NULL buffer) */
  memset(out->storage->data, 0, out->storage->nbytes);
  if (len == 0) {  /* an empty sum: 0 (and 0 * 1/0 = nan for a mean, as in PyTorch) */
    for (int64_t i = 0; i < out->numel; i++) {
      if (out->dtype == LC_FLOAT64) ((double *)out->storage->data)[i] = 0.0 * scale;
      else ((float *)out->storage->data)[i] = (float)(0.0 * scale);
    }
    return;
  }
  if (dstride == 1 || len == 0) {
    lc_walk w;
    int64_t base[3] = {0, a->offset, 0};
    lc__walk_init(&w, out->ndim, out->shape, out->strides, st, st, base);
    int64_t n = w.shape[w.ndim - 1], so = w.st[0][w.ndim - 1], sa = w.st[1][w.ndim - 1];
    int64_t rows = lc__walk_rows(&w);
    for (int64_t r = 0; r < rows; r++, lc__walk_next(&w)) {
      for (int64_t i = 0; i < n; i++) {
        double acc = 0.0;
        int64_t off = w.off[1] + i * sa;
        if (a->dtype == LC_FLOAT64) {
          const double *p = (const double *)a->storage->data + off;
          for (int64_t j = 0; j < len; j++) acc += p[j * dstride];
          ((double *)out->storage->data)[w.off[0] + i * so] = acc * scale;
        } else {
          const float *p = (const float *)a->storage->data + off;
          for (int64_t j = 0; j < len; j++) acc += (double)p[j * dstride];
          ((float *)out->storage->data)[w.off[0] + i * so] = (float)(acc * scale);
        }
      }
    }
    return;
  }
  lc_tensor slice = *a;  /* a borrowed view header; never released */
  slice.ndim = out->ndim;
  for (int i = 0; i < out->ndim; i++) {
    slice.shape[i] = out->shape[i];
    slice.strides[i] = st[i];
  }
  for (int64_t j = 0; j < len; j++) {
    slice.offset = a->offset + j * dstride;
    lc__k_binary(LC_BIN_ADD, out, out, out->strides, &slice, slice.strides);
  }
  if (scale != 1.0) {
    int64_t n = out->numel;
    if (out->dtype == LC_FLOAT64) {
      double *p = (double *)out->storage->data;
      for (int64_t i = 0; i < n; i++) p[i] *= scale;
    } else {
      float *p = (float *)out->storage->data;
      for (int64_t i = 0; i < n; i++) p[i] = (float)(p[i] * scale);
    }
  }
}

/* ---- BLAS ------------------------------------------------------------------------ */

void lc__k_gemm(lc_dtype dt, int trans_a, int trans_b, int64_t m, int64_t n, int64_t k,
                double alpha, const void *a, int64_t lda, const void *b, int64_t ldb,
                double beta, void *c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) {  /* an empty sum: C = beta C, and C may be uninitialised when beta = 0 */
    for (int64_t i = 0; i < m; i++)
      for (int64_t j = 0; j < n; j++) {
        if (dt == LC_FLOAT64) {
          double *p = (double *)c + i * ldc + j;
          *p = beta == 0 ? 0.0 : *p * beta;
        } else {
          float *p = (float *)c + i * ldc + j;
          *p = beta == 0 ? 0.0f : *p * (float)beta;
        }
      }
    return;
  }
  if (m * n * k <= 2048) {
    /* tiny products (a small policy net, batch 1): BLAS's call overhead is
     * larger than the work, so a plain loop does them, accumulating in double */
    int64_t sai = trans_a ? 1 : lda, sap = trans_a ? lda : 1;  /* A[i][p] steps */
    int64_t sbj = trans_b ? ldb : 1, sbp = trans_b ? 1 : ldb;  /* B[p][j] steps */
    if (dt == LC_FLOAT64) {
      const double *A = (const double *)a, *B = (const double *)b;
      for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
          double acc = 0.0;
          for (int64_t p = 0; p < k; p++) acc += A[i * sai + p * sap] * B[p * sbp + j * sbj];
          double *cp = (double *)c + i * ldc + j;
          *cp = alpha * acc + (beta == 0 ? 0.0 : beta * *cp);
        }
    } else {
      const float *A = (const float *)a, *B = (const float *)b;
      for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
          double acc = 0.0;
          for (int64_t p = 0; p < k; p++)
            acc += (double)A[i * sai + p * sap] * (double)B[p * sbp + j * sbj];
          float *cp = (float *)c + i * ldc + j;
          *cp = (float)(alpha * acc + (beta == 0 ? 0.0 : beta * (double)*cp));
        }
    }
    return;
  }
  enum CBLAS_TRANSPOSE ta = trans_a ? CblasTrans : CblasNoTrans;
  enum CBLAS_TRANSPOSE tb = trans_b ? CblasTrans : CblasNoTrans;
  if (dt == LC_FLOAT64) {
    if (m == 1 && !trans_a)  /* one row: y = op(B)^T x is a GEMV */
      cblas_dgemv(CblasRowMajor, trans_b ? CblasNoTrans : CblasTrans, trans_b ? (int)n : (int)k,
                  trans_b ? (int)k : (int)n, alpha, (const double *)b, (int)ldb,
                  (const double *)a, 1, beta, (double *)c, 1);
    else
      cblas_dgemm(CblasRowMajor, ta, tb, (int)m, (int)n, (int)k, alpha, (const double *)a,
                  (int)lda, (const double *)b, (int)ldb, beta, (double *)c, (int)ldc);
  } else {
    if (m == 1 && !trans_a)
      cblas_sgemv(CblasRowMajor, trans_b ? CblasNoTrans : CblasTrans, trans_b ? (int)n : (int)k,
                  trans_b ? (int)k : (int)n, (float)alpha, (const float *)b, (int)ldb,
                  (const float *)a, 1, (float)beta, (float *)c, 1);
    else
      cblas_sgemm(CblasRowMajor, ta, tb, (int)m, (int)n, (int)k, (float)alpha, (const float *)a,
                  (int)lda, (const float *)b, (int)ldb, (float)beta, (float *)c, (int)ldc);
  }
}

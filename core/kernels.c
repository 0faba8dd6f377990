/* kernels.c: the N-d walk every strided loop of the core uses, threads,
 * the sums behind lc_sum and lc_mean, and BLAS. No allocation, no errors:
 * callers check shapes. (The elementwise rows are elementwise.c's.)
 *
 * Broadcasting is a 0 stride, so one loop serves every shape, and dims that
 * line up for all operands are merged first, so a contiguous tensor is
 * walked as a single row the compiler can vectorise. */
#include "internal.h"

#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <string.h>

/* ---- the N-d walk ------------------------------------------------------------ */

void lc__walk_init(lc_walk *w, int ndim, const int64_t *shape, int nops,
                   const int64_t *const *strides, const int64_t *base) {
  int n = 0;
  w->nops = nops;
  for (int i = 0; i < ndim; i++) {
    if (shape[i] == 1) continue;  /* size-1 dims do not move any pointer */
    int merge = n > 0;
    for (int k = 0; k < nops && merge; k++)
      merge = w->st[k][n - 1] == strides[k][i] * shape[i];
    if (merge) {
      w->shape[n - 1] *= shape[i];
      for (int k = 0; k < nops; k++) w->st[k][n - 1] = strides[k][i];
    } else {
      w->shape[n] = shape[i];
      for (int k = 0; k < nops; k++) w->st[k][n] = strides[k][i];
      n++;
    }
  }
  if (n == 0) {  /* a scalar, or all dims of size 1: one row of one element */
    w->shape[0] = 1;
    for (int k = 0; k < nops; k++) w->st[k][0] = 0;
    n = 1;
  }
  w->ndim = n;
  memset(w->idx, 0, sizeof w->idx);
  for (int k = 0; k < nops; k++) w->off[k] = base[k];
}

/* Moves to the next row; returns 0 after the last. */
int lc__walk_next(lc_walk *w) {
  for (int d = w->ndim - 2; d >= 0; d--) {
    w->idx[d]++;
    for (int k = 0; k < w->nops; k++) w->off[k] += w->st[k][d];
    if (w->idx[d] < w->shape[d]) return 1;
    for (int k = 0; k < w->nops; k++) w->off[k] -= w->st[k][d] * w->shape[d];
    w->idx[d] = 0;
  }
  return 0;
}

int64_t lc__walk_rows(const lc_walk *w) {
  int64_t r = 1;
  for (int d = 0; d < w->ndim - 1; d++) r *= w->shape[d];
  return r;
}

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

/* ---- reductions ---------------------------------------------------------------- */

double lc__k_sum_all(const lc_tensor *a) {
  if (a->numel == 0) return 0.0;
  lc_walk w;
  int64_t base[1] = {a->offset};
  lc__walk_init(&w, a->ndim, a->shape, 1, (const int64_t *const[]){a->strides}, base);
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
  if (dstride == 1) {
    lc_walk w;
    int64_t base[2] = {0, a->offset};
    lc__walk_init(&w, out->ndim, out->shape, 2, (const int64_t *const[]){out->strides, st}, base);
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
    lc__k_add_into(out, &slice, slice.strides);
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

/* lapack.c: torch.linalg's decompositions and solvers (the rows of
 * lapack.def) on the LAPACK that OpenBLAS ships, each with its backward
 * rule beside it.
 *
 * Every op copies its operands into column-major buffers (each matrix of a
 * batch as LAPACK stores one, the matrices one after another), calls the
 * routine once per matrix and writes the results back row-major. So LAPACK
 * sees the very matrices PyTorch hands it, and results agree with PyTorch's
 * to rounding (and in the signs of singular vectors and eigenvectors when
 * both run the same LAPACK). The copies cost O(n^2) beside O(n^3) work.
 *
 * The rules are PyTorch 1.13's (FunctionsManual.cpp), written with the
 * core's ops and the d_ helpers: under LC_CREATE_GRAPH they record, and the
 * gradients they return can be differentiated again. They read results
 * through n->out. Ops with several results (qr, svd, eigh) make one packed
 * tensor (..., total), the node's output, and hand out views of it (part):
 * the gradient that reaches the node is the results' gradients side by
 * side, with zeros for a result nobody used; a part that is all zero counts
 * as unused, which is what keeps S alone of an SVD differentiable at
 * repeated singular values (PyTorch's undefined gradients). */
#include "internal.h"

#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- LAPACK -----------------------------------------------------------------------
 * The Fortran routines this library calls, all here, from the LAPACK inside
 * Debian's OpenBLAS (libopenblas0: 32-bit integers, so sizes are checked to
 * fit an int). Fortran takes every argument by reference and stores
 * matrices column-major; gfortran appends the length of each character
 * argument as a hidden size_t, passed here (calls that leave them out work
 * until an optimising compiler makes a tail call through them). Each
 * routine comes as s (float32) and d (float64) with the same arguments;
 * LA picks one by dtype, and matrices, vectors and work arrays go as void *,
 * which C converts to either. */
typedef int la_int;
/* LU with partial pivoting; solve with an LU */
void sgetrf_(const la_int *m, const la_int *n, float *a, const la_int *lda, la_int *ipiv, la_int *info);
void dgetrf_(const la_int *m, const la_int *n, double *a, const la_int *lda, la_int *ipiv, la_int *info);
void sgetrs_(const char *trans, const la_int *n, const la_int *nrhs, const float *a, const la_int *lda,
             const la_int *ipiv, float *b, const la_int *ldb, la_int *info, size_t trans_len);
void dgetrs_(const char *trans, const la_int *n, const la_int *nrhs, const double *a, const la_int *lda,
             const la_int *ipiv, double *b, const la_int *ldb, la_int *info, size_t trans_len);
/* Cholesky */
void spotrf_(const char *uplo, const la_int *n, float *a, const la_int *lda, la_int *info, size_t uplo_len);
void dpotrf_(const char *uplo, const la_int *n, double *a, const la_int *lda, la_int *info, size_t uplo_len);
/* QR: Householder factors, then Q from them */
void sgeqrf_(const la_int *m, const la_int *n, float *a, const la_int *lda, float *tau, float *work,
             const la_int *lwork, la_int *info);
void dgeqrf_(const la_int *m, const la_int *n, double *a, const la_int *lda, double *tau, double *work,
             const la_int *lwork, la_int *info);
void sorgqr_(const la_int *m, const la_int *n, const la_int *k, float *a, const la_int *lda,
             const float *tau, float *work, const la_int *lwork, la_int *info);
void dorgqr_(const la_int *m, const la_int *n, const la_int *k, double *a, const la_int *lda,
             const double *tau, double *work, const la_int *lwork, la_int *info);
/* SVD by divide and conquer (what PyTorch's CPU svd calls) */
void sgesdd_(const char *jobz, const la_int *m, const la_int *n, float *a, const la_int *lda, float *s,
             float *u, const la_int *ldu, float *vt, const la_int *ldvt, float *work,
             const la_int *lwork, la_int *iwork, la_int *info, size_t jobz_len);
void dgesdd_(const char *jobz, const la_int *m, const la_int *n, double *a, const la_int *lda, double *s,
             double *u, const la_int *ldu, double *vt, const la_int *ldvt, double *work,
             const la_int *lwork, la_int *iwork, la_int *info, size_t jobz_len);
/* symmetric eigenvalues and eigenvectors by divide and conquer */
void ssyevd_(const char *jobz, const char *uplo, const la_int *n, float *a, const la_int *lda, float *w,
             float *work, const la_int *lwork, la_int *iwork, const la_int *liwork, la_int *info,
             size_t jobz_len, size_t uplo_len);
void dsyevd_(const char *jobz, const char *uplo, const la_int *n, double *a, const la_int *lda,
             double *w, double *work, const la_int *lwork, la_int *iwork, const la_int *liwork,
             la_int *info, size_t jobz_len, size_t uplo_len);
/* least squares: QR (full rank), complete orthogonal factorisation, SVD (two ways) */
void sgels_(const char *trans, const la_int *m, const la_int *n, const la_int *nrhs, float *a,
            const la_int *lda, float *b, const la_int *ldb, float *work, const la_int *lwork,
            la_int *info, size_t trans_len);
void dgels_(const char *trans, const la_int *m, const la_int *n, const la_int *nrhs, double *a,
            const la_int *lda, double *b, const la_int *ldb, double *work, const la_int *lwork,
            la_int *info, size_t trans_len);
void sgelsy_(const la_int *m, const la_int *n, const la_int *nrhs, float *a, const la_int *lda,
             float *b, const la_int *ldb, la_int *jpvt, const float *rcond, la_int *rank,
             float *work, const la_int *lwork, la_int *info);
void dgelsy_(const la_int *m, const la_int *n, const la_int *nrhs, double *a, const la_int *lda,
             double *b, const la_int *ldb, la_int *jpvt, const double *rcond, la_int *rank,
             double *work, const la_int *lwork, la_int *info);
void sgelsd_(const la_int *m, const la_int *n, const la_int *nrhs, float *a, const la_int *lda,
             float *b, const la_int *ldb, float *s, const float *rcond, la_int *rank, float *work,
             const la_int *lwork, la_int *iwork, la_int *info);
void dgelsd_(const la_int *m, const la_int *n, const la_int *nrhs, double *a, const la_int *lda,
             double *b, const la_int *ldb, double *s, const double *rcond, la_int *rank,
             double *work, const la_int *lwork, la_int *iwork, la_int *info);
void sgelss_(const la_int *m, const la_int *n, const la_int *nrhs, float *a, const la_int *lda,
             float *b, const la_int *ldb, float *s, const float *rcond, la_int *rank, float *work,
             const la_int *lwork, la_int *info);
void dgelss_(const la_int *m, const la_int *n, const la_int *nrhs, double *a, const la_int *lda,
             double *b, const la_int *ldb, double *s, const double *rcond, la_int *rank,
             double *work, const la_int *lwork, la_int *info);

/* LA(dt, getrf, args...): sgetrf_ for float32, dgetrf_ for float64. */
#define LA(dt, name, ...) ((dt) == LC_FLOAT32 ? s##name##_(__VA_ARGS__) : d##name##_(__VA_ARGS__))

/* ---- the rows ---------------------------------------------------------------------- */

static int rule_inv(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int rule_solve(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int rule_det(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int rule_slogdet(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int rule_cholesky(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int rule_qr(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int rule_svd(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int rule_eigh(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int rule_pinv(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int rule_lstsq(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int rule_solve_triangular(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
/* lc_narrow(x, ...) kept in s; NULL passes through (a function: a macro
 * would compute a nested argument twice). */
static lc_tensor *narrow_kept(d_scope *s, lc_tensor *x, int dim, int64_t start, int64_t len) {
  return x ? d_keep(s, lc_narrow(s->ctx, x, dim, start, len)) : NULL;
}

/* lc_linalg_solve_triangular(a, b, ...) kept in s; NULL passes through. */
static lc_tensor *trsm_kept(d_scope *s, lc_tensor *a, lc_tensor *b, int upper, int left,
                            int unit) {
  return a && b ? d_keep(s, lc_linalg_solve_triangular(s->ctx, a, b, upper, left, unit)) : NULL;
}

static int rule_lu_factor(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);
static int rule_lu_solve(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads);

enum {
#define LINALG(name, ...) LP_##name,
#include "lapack.def"
  LP_COUNT
};

static const lc__opdef LP[] = {
#define LINALG(name, Bw, rule) [LP_##name] = {{#Bw "Backward", rule}, LP_##name},
#include "lapack.def"
};
_Static_assert(sizeof LP / sizeof LP[0] == LP_COUNT, "a lapack row without its table entry");

/* ---- elements, checks, messages ------------------------------------------------------ */

static double ld(lc_dtype dt, const void *p, int64_t i) {
  return dt == LC_FLOAT32 ? (double)((const float *)p)[i] : ((const double *)p)[i];
}
static void st(lc_dtype dt, void *p, int64_t i, double v) {
  if (dt == LC_FLOAT32) ((float *)p)[i] = (float)v;
  else ((double *)p)[i] = v;
}
static double eps_of(lc_dtype dt) { return dt == LC_FLOAT32 ? 1.1920928955078125e-07 : 2.220446049250313e-16; }

/* Matrix b (0-based) of a contiguous batch of matrices of `each` elements. */
static void *mat(const lc_tensor *t, int64_t b, int64_t each) {
  char *p = lc_tensor_data(t);  /* NULL for no elements: no offset then */
  return p ? p + (size_t)(b * each) * lc_dtype_size(t->dtype) : NULL;
}

/* A fresh 1-D buffer of n (at least 1) elements of dtype: LAPACK's work arrays. */
static lc_tensor *work_buf(lc_ctx *ctx, lc_dtype dt, int64_t n) {
  int64_t s[1] = {n < 1 ? 1 : n};
  return lc_empty(ctx, dt, 1, s);
}

/* The size a workspace query left in its first work element. */
static int64_t queried(lc_dtype dt, const void *w) { return (int64_t)ld(dt, w, 0) + 1; }

static int check_float(lc_ctx *ctx, const lc_tensor *a, const char *name) {
  if (lc_dtype_is_float(a->dtype)) return 1;
  lc__fail(ctx, LC_EARG, "%s must be a float32 or float64 tensor, got %s", name, lc_dtype_name(a->dtype));
  return 0;
}

/* a is float, (..., m, n) (square: m == n), with sizes LAPACK's ints hold. */
static int check_matrix(lc_ctx *ctx, const lc_tensor *a, const char *name, int square) {
  char s[LC_SHAPE_STR];
  if (!check_float(ctx, a, name)) return 0;
  lc_shape_str(s, sizeof s, a->ndim, a->shape);
  if (a->ndim < 2) {
    lc__fail(ctx, LC_ESHAPE, "%s must have at least 2 dimensions, got shape %s", name, s);
    return 0;
  }
  int64_t m = a->shape[a->ndim - 2], n = a->shape[a->ndim - 1];
  if (square && m != n) {
    lc__fail(ctx, LC_ESHAPE, "%s must be a square matrix or a batch of them, got shape %s", name, s);
    return 0;
  }
  /* LAPACK's workspaces grow like max(m, n)^2 and must be counted in an int */
  if (m > 32767 || n > 32767) {
    lc__fail(ctx, LC_ESHAPE, "%s %s: matrices beyond 32767 rows or columns are too large for LAPACK",
             name, s);
    return 0;
  }
  return 1;
}

static int64_t batch_count(int nb, const int64_t *bs) {
  int64_t c = 1;
  for (int i = 0; i < nb; i++) c *= bs[i];
  return c;
}

/* The broadcast of a's batch dims a->shape[0..na) and b's b->shape[0..nb_)
 * into bs[*nb]; 0 with an error naming both. */
static int broadcast_batch(lc_ctx *ctx, const lc_tensor *a, int na, const char *an,
                           const lc_tensor *b, int nbb, const char *bn, int *nb, int64_t *bs) {
  *nb = na > nbb ? na : nbb;
  for (int i = 0; i < *nb; i++) {
    int ia = i - (*nb - na), ib = i - (*nb - nbb);
    int64_t da = ia >= 0 ? a->shape[ia] : 1, db = ib >= 0 ? b->shape[ib] : 1;
    if (da != db && da != 1 && db != 1) {
      char sa[LC_SHAPE_STR], sb[LC_SHAPE_STR];
      lc_shape_str(sa, sizeof sa, a->ndim, a->shape);
      lc_shape_str(sb, sizeof sb, b->ndim, b->shape);
      lc__fail(ctx, LC_ESHAPE, "batch dimensions of %s %s and %s %s do not broadcast", an, sa, bn, sb);
      return 0;
    }
    bs[i] = da == 1 ? db : da;
  }
  return 1;
}

/* Fails with "<where> <what>": where is "A {4, 4}", or "batch element 2 of A
 * {3, 4, 4}" (1-based, in a's own batch; b indexes the broadcast batch
 * bs[nb] the op ran over). Returns NULL. */
static lc_tensor *fail_at(lc_ctx *ctx, const lc_tensor *a, const char *name, int nb, const int64_t *bs,
                          int64_t b, const char *what) {
  char s[LC_SHAPE_STR];
  lc_shape_str(s, sizeof s, a->ndim, a->shape);
  if (a->ndim <= 2) {
    lc__fail(ctx, LC_EARG, "%s %s %s", name, s, what);
    return NULL;
  }
  int64_t idx[LC_MAX_DIMS] = {0}, rem = b, own = 0;
  for (int i = nb - 1; i >= 0; i--) {
    idx[i] = rem % bs[i];
    rem /= bs[i];
  }
  int ab = a->ndim - 2;
  for (int i = 0; i < ab; i++) own = own * a->shape[i] + (a->shape[i] == 1 ? 0 : idx[i + nb - ab]);
  lc__fail(ctx, LC_EARG, "batch element %lld of %s %s %s", (long long)own + 1, name, s, what);
  return NULL;
}

/* ---- column-major buffers -------------------------------------------------------------- */

/* a (..., r, c), its batch dims read over bs[nb] (broadcasting), as a new
 * contiguous (bs..., c, r): each matrix column-major, lda = r. */
static lc_tensor *colmajor(lc_ctx *ctx, const lc_tensor *a, int nb, const int64_t *bs) {
  int nd = a->ndim;
  int64_t shape[LC_MAX_DIMS], sa[LC_MAX_DIMS];
  for (int i = 0; i < nb; i++) {
    int ia = i - (nb - (nd - 2));
    shape[i] = bs[i];
    sa[i] = ia < 0 || a->shape[ia] == 1 ? 0 : a->strides[ia];
  }
  shape[nb] = a->shape[nd - 1];
  sa[nb] = a->strides[nd - 1];
  shape[nb + 1] = a->shape[nd - 2];
  sa[nb + 1] = a->strides[nd - 2];
  lc_tensor *t = lc_empty(ctx, a->dtype, nb + 2, shape);
  if (t) lc__k_copy(t, a, sa);
  return t;
}

/* dst[i][j] (row-major, r x c, row stride dc) = src[j * ls + i] (column-major, leading dim ls). */
static void rows_from_cols(lc_dtype dt, void *dst, int64_t dc, const void *src, int64_t ls,
                           int64_t r, int64_t c) {
  for (int64_t i = 0; i < r; i++)
    for (int64_t j = 0; j < c; j++) st(dt, dst, i * dc + j, ld(dt, src, j * ls + i));
}

/* The batch's shape (a's but the last two dims) and a tensor of it with extra trailing dims. */
static lc_tensor *batch_tensor(lc_ctx *ctx, lc_dtype dt, int nb, const int64_t *bs, int extra,
                               const int64_t *tail) {
  int64_t shape[LC_MAX_DIMS];
  memcpy(shape, bs, sizeof(int64_t) * (size_t)nb);
  for (int i = 0; i < extra; i++) shape[nb + i] = tail[i];
  return lc_empty(ctx, dt, nb + extra, shape);
}

/* ---- LU: solve, inv, det, slogdet --------------------------------------------------------- */

/* X with A X = B for every matrix of the batch bs[nb], on getrf and getrs:
 * A (..., n, n); B (..., n, k), the identity when NULL (inv), or when vec a
 * batch of vectors (..., n), giving X (bs..., n). A singular matrix is an
 * error naming it, or with allow_singular gives NaN for it (PyTorch's
 * values there, getrs dividing by a zero pivot, are undefined; and getrs on
 * a zero pivot leaves OpenBLAS 0.3's single-threaded kernels in a state
 * where a later ssyevd of a sound matrix fails, so it is not called); info,
 * when not NULL, an int32 tensor of count elements, gets getrf's info per
 * matrix. */
static lc_tensor *solve_raw(lc_ctx *ctx, lc_tensor *a, lc_tensor *b, int vec, int nb, const int64_t *bs,
                            int allow_singular, lc_tensor *info_out) {
  lc_dtype dt = a->dtype;
  int64_t n = a->shape[a->ndim - 1];
  lc_tensor *eye = NULL, *bview = NULL, *ac = NULL, *bc = NULL, *piv = NULL, *x = NULL;
  if (!b) b = eye = lc_eye(ctx, dt, n, n);
  if (b && vec) {  /* (..., n) as (..., n, 1) */
    int64_t shape[LC_MAX_DIMS], strides[LC_MAX_DIMS];
    memcpy(shape, b->shape, sizeof(int64_t) * (size_t)b->ndim);
    memcpy(strides, b->strides, sizeof(int64_t) * (size_t)b->ndim);
    shape[b->ndim] = 1;
    strides[b->ndim] = 1;
    b = bview = lc__view(ctx, b, b->ndim + 1, shape, strides, b->offset);
  }
  int64_t k = b ? b->shape[b->ndim - 1] : 0, count = batch_count(nb, bs);
  ac = b ? colmajor(ctx, a, nb, bs) : NULL;
  bc = ac ? colmajor(ctx, b, nb, bs) : NULL;
  piv = bc ? work_buf(ctx, LC_INT32, n) : NULL;
  int64_t tail[2] = {n, k};
  x = piv ? batch_tensor(ctx, dt, nb, bs, vec ? 1 : 2, tail) : NULL;
  la_int ln = (la_int)n, lk = (la_int)k, lda = n > 1 ? (la_int)n : 1, info = 0;
  int ok = x != NULL;
  for (int64_t i = 0; ok && i < count; i++) {
    void *am = mat(ac, i, n * n), *bm = mat(bc, i, n * k);
    LA(dt, getrf, &ln, &ln, am, &lda, lc_tensor_data(piv), &info);
    if (info_out) ((int32_t *)lc_tensor_data(info_out))[i] = info;
    if (info > 0 && !allow_singular) {
      fail_at(ctx, a, "A", nb, bs, i, "is singular");
      ok = 0;
      break;
    }
    if (info > 0) {
      for (int64_t j = 0; j < n * k; j++) st(dt, mat(x, i, n * k), j, NAN);
      continue;
    }
    if (n > 0 && k > 0) LA(dt, getrs, "N", &ln, &lk, am, &lda, lc_tensor_data(piv), bm, &lda, &info, 1);
    rows_from_cols(dt, mat(x, i, n * k), k, bm, n, n, k);
  }
  if (!ok) {
    lc_tensor_release(x);
    x = NULL;
  }
  lc_tensor_release(eye);
  lc_tensor_release(bview);
  lc_tensor_release(ac);
  lc_tensor_release(bc);
  lc_tensor_release(piv);
  return x;
}

/* From getrf of every matrix of a (..., n, n): det, or sign and log|det|
 * (either pair of pointers may be NULL). A zero pivot makes det 0, sign 0
 * and log|det| -inf, as PyTorch. */
static lc_status lu_det_raw(lc_ctx *ctx, lc_tensor *a, lc_tensor **det, lc_tensor **sign,
                            lc_tensor **logabs) {
  lc_dtype dt = a->dtype;
  int nb = a->ndim - 2;
  int64_t n = a->shape[a->ndim - 1], count = batch_count(nb, a->shape);
  lc_tensor *ac = colmajor(ctx, a, nb, a->shape);
  lc_tensor *piv = ac ? work_buf(ctx, LC_INT32, n) : NULL;
  lc_tensor *d = piv && det ? batch_tensor(ctx, dt, nb, a->shape, 0, NULL) : NULL;
  lc_tensor *sg = piv && sign ? batch_tensor(ctx, dt, nb, a->shape, 0, NULL) : NULL;
  lc_tensor *la = piv && logabs ? batch_tensor(ctx, dt, nb, a->shape, 0, NULL) : NULL;
  int ok = piv && (!det || d) && (!sign || sg) && (!logabs || la);
  la_int ln = (la_int)n, lda = n > 1 ? (la_int)n : 1, info = 0;
  for (int64_t i = 0; ok && i < count; i++) {
    void *am = mat(ac, i, n * n);
    const la_int *ip = lc_tensor_data(piv);
    if (n > 0) LA(dt, getrf, &ln, &ln, am, &lda, lc_tensor_data(piv), &info);
    double prod = 1.0, perm = 1.0, sgn = 1.0, lsum = 0.0;
    for (int64_t j = 0; j < n; j++) {
      double u = ld(dt, am, j * n + j);
      prod *= u;
      if (ip[j] != (la_int)(j + 1)) perm = -perm;
      sgn *= u > 0 ? 1.0 : u < 0 ? -1.0 : 0.0;
      lsum += log(fabs(u));
    }
    if (d) st(dt, lc_tensor_data(d), i, perm * prod);
    if (sg) st(dt, lc_tensor_data(sg), i, perm * sgn);
    if (la) st(dt, lc_tensor_data(la), i, sgn == 0 ? -INFINITY : lsum);
  }
  lc_tensor_release(ac);
  lc_tensor_release(piv);
  if (!ok) {
    lc_tensor_release(d);
    lc_tensor_release(sg);
    lc_tensor_release(la);
    return ctx->status;
  }
  if (det) *det = d;
  if (sign) *sign = sg;
  if (logabs) *logabs = la;
  return LC_OK;
}

/* X (bs..., r, c) with A X = B (left: n = r) or X A = B (n = c) for every
 * matrix of the batch bs[nb], A (..., n, n) triangular, B (..., r, c): BLAS
 * trsm, column-major (the transposed row-major problem would swap upper
 * and lower; this keeps LAPACK's reading of A). */
static lc_tensor *trsm_raw(lc_ctx *ctx, lc_tensor *a, lc_tensor *b, int upper, int left, int unit, int nb,
                           const int64_t *bs) {
  lc_dtype dt = a->dtype;
  int64_t n = a->shape[a->ndim - 1], r = b->shape[b->ndim - 2], c = b->shape[b->ndim - 1];
  int64_t count = batch_count(nb, bs), tail[2] = {r, c};
  lc_tensor *ac = colmajor(ctx, a, nb, bs), *bc = ac ? colmajor(ctx, b, nb, bs) : NULL;
  lc_tensor *x = bc ? batch_tensor(ctx, dt, nb, bs, 2, tail) : NULL;
  int lda = n > 1 ? (int)n : 1, ldb = r > 1 ? (int)r : 1;
  CBLAS_SIDE side = left ? CblasLeft : CblasRight;
  CBLAS_UPLO uplo = upper ? CblasUpper : CblasLower;
  CBLAS_DIAG diag = unit ? CblasUnit : CblasNonUnit;
  for (int64_t i = 0; x && i < count && r > 0 && c > 0; i++) {
    void *am = mat(ac, i, n * n), *bm = mat(bc, i, r * c);
    if (dt == LC_FLOAT32)
      cblas_strsm(CblasColMajor, side, uplo, CblasNoTrans, diag, (int)r, (int)c, 1.0f, am, lda, bm, ldb);
    else
      cblas_dtrsm(CblasColMajor, side, uplo, CblasNoTrans, diag, (int)r, (int)c, 1.0, am, lda, bm, ldb);
    rows_from_cols(dt, mat(x, i, r * c), c, bm, r, r, c);
  }
  lc_tensor_release(ac);
  lc_tensor_release(bc);
  return x;
}

/* getrf of every matrix of a (..., m, n): *lu (..., m, n) and *piv (...,
 * min(m, n)) int32, 1-based. info (an int32 tensor of the batch's count)
 * gets getrf's info; without it a zero on U's diagonal is an error. */
static lc_status lu_raw(lc_ctx *ctx, lc_tensor *a, lc_tensor **lu, lc_tensor **piv, lc_tensor *info_out) {
  lc_dtype dt = a->dtype;
  int nb = a->ndim - 2;
  int64_t m = a->shape[nb], n = a->shape[nb + 1], k = m < n ? m : n, count = batch_count(nb, a->shape);
  int64_t tail[1] = {k};
  lc_tensor *ac = colmajor(ctx, a, nb, a->shape);
  lc_tensor *out = ac ? lc_empty(ctx, dt, a->ndim, a->shape) : NULL;
  lc_tensor *pv = out ? batch_tensor(ctx, LC_INT32, nb, a->shape, 1, tail) : NULL;
  la_int lm = (la_int)m, ln = (la_int)n, lda = m > 1 ? (la_int)m : 1, info = 0;
  int ok = pv != NULL;
  for (int64_t i = 0; ok && i < count; i++) {
    void *am = mat(ac, i, m * n);
    if (k > 0) LA(dt, getrf, &lm, &ln, am, &lda, (la_int *)mat(pv, i, k), &info);
    if (info_out) ((int32_t *)lc_tensor_data(info_out))[i] = info;
    if (info > 0 && !info_out) {
      char what[160];
      snprintf(what, sizeof what, "has U[%d,%d] = 0, which lu_solve would divide by (lu_factor_ex and lu "
               "factor it all the same)", (int)info, (int)info);
      fail_at(ctx, a, "A", nb, a->shape, i, what);
      ok = 0;
      break;
    }
    rows_from_cols(dt, mat(out, i, m * n), n, am, m, m, n);
  }
  lc_tensor_release(ac);
  if (!ok) {
    lc_tensor_release(out);
    lc_tensor_release(pv);
    return ctx->status;
  }
  *lu = out;
  *piv = pv;
  return LC_OK;
}

/* P (..., m, m) of dtype dt with A = P L U, from getrf's pivots (..., k)
 * (1-based, each checked to be in 1..m): the swaps applied in order to
 * the rows 1..m give perm, and P[perm[j]][j] = 1. */
static lc_tensor *perm_matrix(lc_ctx *ctx, lc_tensor *piv, int64_t m, lc_dtype dt) {
  int nb = piv->ndim - 1;
  int64_t k = piv->shape[nb], count = batch_count(nb, piv->shape), tail[2] = {m, m};
  lc_tensor *pc = lc__contig_raw(ctx, piv), *perm = pc ? work_buf(ctx, LC_INT64, m) : NULL;
  lc_tensor *out = perm ? batch_tensor(ctx, dt, nb, piv->shape, 2, tail) : NULL;
  if (out && out->numel > 0) memset(lc_tensor_data(out), 0, lc_dtype_size(dt) * (size_t)out->numel);
  for (int64_t b = 0; out && b < count; b++) {
    int64_t *pm = lc_tensor_data(perm);
    const int32_t *pv = (const int32_t *)lc_tensor_data(pc) + b * k;
    for (int64_t j = 0; j < m; j++) pm[j] = j;
    for (int64_t i = 0; i < k; i++) {
      int64_t to = pv[i] - 1, t = pm[i];
      pm[i] = pm[to];
      pm[to] = t;
    }
    for (int64_t j = 0; j < m; j++) st(dt, mat(out, b, m * m), pm[j] * m + j, 1.0);
  }
  lc_tensor_release(pc);
  lc_tensor_release(perm);
  return out;
}

/* ---- Cholesky, QR, SVD, eigh -------------------------------------------------------------- */

/* L (..., n, n) with A = L L^T from A's lower triangle, or L^T when upper.
 * With info (an int32 tensor of the batch's count), potrf's info goes there
 * and a matrix that is not positive-definite keeps what potrf left. */
static lc_tensor *cholesky_raw(lc_ctx *ctx, lc_tensor *a, int upper, lc_tensor *info_out) {
  lc_dtype dt = a->dtype;
  int nb = a->ndim - 2;
  int64_t n = a->shape[a->ndim - 1], count = batch_count(nb, a->shape);
  lc_tensor *ac = colmajor(ctx, a, nb, a->shape);
  lc_tensor *out = ac ? lc_empty(ctx, dt, a->ndim, a->shape) : NULL;
  la_int ln = (la_int)n, lda = n > 1 ? (la_int)n : 1, info = 0;
  for (int64_t i = 0; out && i < count; i++) {
    void *am = mat(ac, i, n * n), *om = mat(out, i, n * n);
    if (n > 0) LA(dt, potrf, "L", &ln, am, &lda, &info, 1);
    if (info_out) ((int32_t *)lc_tensor_data(info_out))[i] = info;
    if (info > 0 && !info_out) {
      char what[96];
      snprintf(what, sizeof what, "is not positive-definite (its leading minor of order %d is not)",
               (int)info);
      fail_at(ctx, a, "A", nb, a->shape, i, what);
      lc_tensor_release(out);
      out = NULL;
      break;
    }
    /* L[r][c] = am[c * n + r] for r >= c; upper writes L^T */
    for (int64_t r = 0; r < n; r++)
      for (int64_t c = 0; c < n; c++) {
        double v = r >= c ? ld(dt, am, c * n + r) : 0.0;
        st(dt, om, upper ? c * n + r : r * n + c, v);
      }
  }
  lc_tensor_release(ac);
  return out;
}

/* The sizes of a multi-result op's packed tensor (..., total). */
typedef struct packing {
  int64_t m, n, k;        /* A (..., m, n), k = min(m, n) */
  int64_t r1, c1;         /* first result (r1, c1), or a vector (r1) when c1 is 0 */
  int64_t r2, c2;         /* second */
  int64_t r3, c3;         /* third (svd's Vh), or 0 */
} packing;

static int64_t part_size(int64_t r, int64_t c) { return c ? r * c : r; }
static int64_t packed_total(const packing *p) {
  return part_size(p->r1, p->c1) + part_size(p->r2, p->c2) + (p->r3 ? part_size(p->r3, p->c3) : 0);
}

static lc_tensor *packed_empty(lc_ctx *ctx, const lc_tensor *a, const packing *p) {
  int64_t tail[1] = {packed_total(p)};
  return batch_tensor(ctx, a->dtype, a->ndim - 2, a->shape, 1, tail);
}

/* Q (m, qc) then R (rr, n) of every matrix, packed; mode as lc_qr_mode
 * (r: R only, Q of no columns). */
static lc_tensor *qr_raw(lc_ctx *ctx, lc_tensor *a, lc_qr_mode mode, packing *pk) {
  lc_dtype dt = a->dtype;
  int nb = a->ndim - 2;
  int64_t m = a->shape[a->ndim - 2], n = a->shape[a->ndim - 1], k = m < n ? m : n;
  int64_t qc = mode == LC_QR_COMPLETE ? m : mode == LC_QR_R ? 0 : k;
  int64_t rr = mode == LC_QR_COMPLETE ? m : k, wc = n > qc ? n : qc;
  *pk = (packing){m, n, k, qc ? m : 0, qc, rr, n, 0, 0};  /* mode r: Q takes no room */
  int64_t count = batch_count(nb, a->shape), total = packed_total(pk);
  lc_tensor *ac = colmajor(ctx, a, nb, a->shape);
  lc_tensor *w = ac ? work_buf(ctx, dt, m * wc) : NULL, *tau = w ? work_buf(ctx, dt, k) : NULL;
  lc_tensor *out = tau ? packed_empty(ctx, a, pk) : NULL, *work = NULL;
  la_int lm = (la_int)m, ln = (la_int)n, lk = (la_int)k, lq = (la_int)qc, lda = m > 1 ? (la_int)m : 1;
  la_int info = 0, lwork = -1;
  if (out && k > 0) {  /* one workspace for both routines */
    double q1[2];
    LA(dt, geqrf, &lm, &ln, lc_tensor_data(w), &lda, lc_tensor_data(tau), (void *)q1, &lwork, &info);
    int64_t need = queried(dt, q1);
    if (qc > 0) {
      double q2[2];
      LA(dt, orgqr, &lm, &lq, &lk, lc_tensor_data(w), &lda, lc_tensor_data(tau), (void *)q2, &lwork, &info);
      if (queried(dt, q2) > need) need = queried(dt, q2);
    }
    lwork = (la_int)need;
    work = work_buf(ctx, dt, need);
    if (!work) {
      lc_tensor_release(out);
      out = NULL;
    }
  }
  for (int64_t i = 0; out && i < count; i++) {
    void *wm = lc_tensor_data(w), *om = mat(out, i, total);
    if (m * n > 0) memcpy(wm, mat(ac, i, m * n), (size_t)(m * n) * lc_dtype_size(dt));
    if (k > 0) LA(dt, geqrf, &lm, &ln, wm, &lda, lc_tensor_data(tau), lc_tensor_data(work), &lwork, &info);
    char *rm = om ? (char *)om + (size_t)(m * qc) * lc_dtype_size(dt) : NULL;
    for (int64_t r = 0; r < rr; r++)  /* R: the upper trapezoid */
      for (int64_t c = 0; c < n; c++) st(dt, rm, r * n + c, r <= c ? ld(dt, wm, c * m + r) : 0.0);
    if (qc == 0) continue;
    if (k > 0) LA(dt, orgqr, &lm, &lq, &lk, wm, &lda, lc_tensor_data(tau), lc_tensor_data(work), &lwork, &info);
    else for (int64_t j = 0; j < m * qc; j++) st(dt, wm, j, j % (m + 1) == 0 ? 1.0 : 0.0);
    rows_from_cols(dt, om, qc, wm, m, m, qc);
  }
  lc_tensor_release(ac);
  lc_tensor_release(w);
  lc_tensor_release(tau);
  lc_tensor_release(work);
  return out;
}

/* U (m, uc), S (k), Vh (vr, n) of every matrix, packed (gesdd). */
static lc_tensor *svd_raw(lc_ctx *ctx, lc_tensor *a, int full, packing *pk) {
  lc_dtype dt = a->dtype;
  int nb = a->ndim - 2;
  int64_t m = a->shape[a->ndim - 2], n = a->shape[a->ndim - 1], k = m < n ? m : n;
  int64_t uc = full ? m : k, vr = full ? n : k;
  *pk = (packing){m, n, k, m, uc, k, 0, vr, n};
  int64_t count = batch_count(nb, a->shape), total = packed_total(pk);
  lc_tensor *ac = colmajor(ctx, a, nb, a->shape);
  lc_tensor *u = ac ? work_buf(ctx, dt, m * uc) : NULL, *vt = u ? work_buf(ctx, dt, vr * n) : NULL;
  lc_tensor *iw = vt ? work_buf(ctx, LC_INT32, 8 * k) : NULL;
  lc_tensor *out = iw ? packed_empty(ctx, a, pk) : NULL, *work = NULL;
  const char *jobz = full ? "A" : "S";
  la_int lm = (la_int)m, ln = (la_int)n, lda = m > 1 ? (la_int)m : 1, ldu = lda;
  la_int ldvt = vr > 1 ? (la_int)vr : 1, info = 0, lwork = -1;
  if (out && k > 0) {
    double q[2], sq[2];  /* a query writes no singular values, but give it room */
    LA(dt, gesdd, jobz, &lm, &ln, lc_tensor_data(ac), &lda, (void *)sq, lc_tensor_data(u), &ldu,
       lc_tensor_data(vt), &ldvt, (void *)q, &lwork, lc_tensor_data(iw), &info, 1);
    lwork = (la_int)queried(dt, q);
    work = work_buf(ctx, dt, lwork);
    if (!work) {
      lc_tensor_release(out);
      out = NULL;
    }
  }
  size_t es = lc_dtype_size(dt);
  for (int64_t i = 0; out && i < count; i++) {
    char *om = mat(out, i, total);
    char *sm = om ? om + (size_t)(m * uc) * es : NULL, *vm = om ? sm + (size_t)k * es : NULL;
    if (k == 0) {  /* no singular values: full bases are identities, as LAPACK does not say */
      for (int64_t j = 0; j < m * uc; j++) st(dt, om, j, j % (uc + 1) == 0 ? 1.0 : 0.0);
      for (int64_t j = 0; j < vr * n; j++) st(dt, vm, j, j % (n + 1) == 0 ? 1.0 : 0.0);
      continue;
    }
    LA(dt, gesdd, jobz, &lm, &ln, mat(ac, i, m * n), &lda, (void *)sm, lc_tensor_data(u), &ldu,
       lc_tensor_data(vt), &ldvt, lc_tensor_data(work), &lwork, lc_tensor_data(iw), &info, 1);
    if (info > 0) {
      fail_at(ctx, a, "A", nb, a->shape, i, "has an SVD that did not converge");
      lc_tensor_release(out);
      out = NULL;
      break;
    }
    rows_from_cols(dt, om, uc, lc_tensor_data(u), m, m, uc);
    rows_from_cols(dt, vm, n, lc_tensor_data(vt), vr, vr, n);
  }
  lc_tensor_release(ac);
  lc_tensor_release(u);
  lc_tensor_release(vt);
  lc_tensor_release(iw);
  lc_tensor_release(work);
  return out;
}

/* L (n), ascending, then V (n, n) of every matrix, packed (syevd, from the
 * lower triangle, or the upper one). */
static lc_tensor *eigh_raw(lc_ctx *ctx, lc_tensor *a, int upper, packing *pk) {
  lc_dtype dt = a->dtype;
  int nb = a->ndim - 2;
  int64_t n = a->shape[a->ndim - 1];
  *pk = (packing){n, n, n, n, 0, n, n, 0, 0};
  int64_t count = batch_count(nb, a->shape), total = packed_total(pk);
  lc_tensor *ac = colmajor(ctx, a, nb, a->shape);
  lc_tensor *out = ac ? packed_empty(ctx, a, pk) : NULL, *work = NULL, *iw = NULL;
  const char *uplo = upper ? "U" : "L";
  la_int ln = (la_int)n, lda = n > 1 ? (la_int)n : 1, info = 0, lwork = -1, liwork = -1;
  if (out && n > 0) {
    double q[2], wq[2];
    la_int qi[2];
    LA(dt, syevd, "V", uplo, &ln, lc_tensor_data(ac), &lda, (void *)wq, (void *)q, &lwork, qi, &liwork,
       &info, 1, 1);
    lwork = (la_int)queried(dt, q);
    liwork = qi[0] > 1 ? qi[0] : 1;
    work = work_buf(ctx, dt, lwork);
    iw = work ? work_buf(ctx, LC_INT32, liwork) : NULL;
    if (!iw) {
      lc_tensor_release(out);
      out = NULL;
    }
  }
  for (int64_t i = 0; out && i < count && n > 0; i++) {
    char *om = mat(out, i, total), *am = mat(ac, i, n * n);
    LA(dt, syevd, "V", uplo, &ln, (void *)am, &lda, (void *)om, lc_tensor_data(work), &lwork, lc_tensor_data(iw),
       &liwork, &info, 1, 1);
    if (info > 0) {
      fail_at(ctx, a, "A", nb, a->shape, i, "has eigenvalues that did not converge");
      lc_tensor_release(out);
      out = NULL;
      break;
    }
    rows_from_cols(dt, om + (size_t)n * lc_dtype_size(dt), n, am, n, n, n);
  }
  lc_tensor_release(ac);
  lc_tensor_release(work);
  lc_tensor_release(iw);
  return out;
}

/* ---- least squares ------------------------------------------------------------------------ */

typedef struct lstsq_out {
  lc_tensor *x, *residuals, *rank, *sv;
} lstsq_out;

static void lstsq_release(lstsq_out *o) {
  lc_tensor_release(o->x);
  lc_tensor_release(o->residuals);
  lc_tensor_release(o->rank);
  lc_tensor_release(o->sv);
  *o = (lstsq_out){NULL, NULL, NULL, NULL};
}

static lc_tensor *empty0(lc_ctx *ctx, lc_dtype dt) {
  int64_t z[1] = {0};
  return lc_empty(ctx, dt, 1, z);
}

/* PyTorch's four results for every matrix of the batch bs[nb]: A (..., m, n),
 * B (..., m, k) or, when vec, (..., m). */
static lc_status lstsq_raw(lc_ctx *ctx, lc_tensor *a, lc_tensor *b, int vec, int nb, const int64_t *bs,
                           double rcond, lc_lstsq_driver driver, lstsq_out *o) {
  lc_dtype dt = a->dtype;
  int64_t m = a->shape[a->ndim - 2], n = a->shape[a->ndim - 1], k = vec ? 1 : b->shape[b->ndim - 1];
  int64_t mn = m < n ? m : n, ldb = m > n ? m : n, count = batch_count(nb, bs);
  int has_rank = driver != LC_LSTSQ_GELS, has_sv = driver == LC_LSTSQ_GELSD || driver == LC_LSTSQ_GELSS;
  int want_res = m > n && driver != LC_LSTSQ_GELSY;
  *o = (lstsq_out){NULL, NULL, NULL, NULL};
  lc_tensor *bview = NULL;
  if (vec) {  /* (..., m) as (..., m, 1) */
    int64_t shape[LC_MAX_DIMS], strides[LC_MAX_DIMS];
    memcpy(shape, b->shape, sizeof(int64_t) * (size_t)b->ndim);
    memcpy(strides, b->strides, sizeof(int64_t) * (size_t)b->ndim);
    shape[b->ndim] = 1;
    strides[b->ndim] = 1;
    b = bview = lc__view(ctx, b, b->ndim + 1, shape, strides, b->offset);
  }
  lc_tensor *ac = b ? colmajor(ctx, a, nb, bs) : NULL, *bc = ac ? colmajor(ctx, b, nb, bs) : NULL;
  lc_tensor *bb = bc ? work_buf(ctx, dt, ldb * k) : NULL, *jpvt = bb ? work_buf(ctx, LC_INT32, n) : NULL;
  lc_tensor *s = jpvt ? work_buf(ctx, dt, mn) : NULL, *work = NULL, *iw = NULL;
  int64_t tail[2] = {n, k}, rtail[1] = {k}, stail[1] = {mn};
  o->x = s ? batch_tensor(ctx, dt, nb, bs, vec ? 1 : 2, tail) : NULL;
  o->residuals = o->x ? (want_res ? batch_tensor(ctx, dt, nb, bs, 1, rtail) : empty0(ctx, dt)) : NULL;
  o->rank = o->residuals ? (has_rank ? batch_tensor(ctx, LC_INT64, nb, bs, 0, NULL) : empty0(ctx, LC_INT64)) : NULL;
  o->sv = o->rank ? (has_sv ? batch_tensor(ctx, dt, nb, bs, 1, stail) : empty0(ctx, dt)) : NULL;
  la_int lm = (la_int)m, ln = (la_int)n, lk = (la_int)k, lda = m > 1 ? (la_int)m : 1;
  la_int lb = ldb > 1 ? (la_int)ldb : 1, info = 0, rank = 0, lwork = -1;
  float rc_f = (float)rcond;
  const void *rc = dt == LC_FLOAT32 ? (const void *)&rc_f : (const void *)&rcond;
  int ok = o->sv != NULL, full_rank = 1;
  if (ok && mn > 0 && k > 0) {  /* the workspace, asked once */
    double q[2];
    la_int qi[2] = {1, 1};
    void *wq = q, *am = lc_tensor_data(ac), *bm = lc_tensor_data(bb), *sm = lc_tensor_data(s);
    switch (driver) {
      case LC_LSTSQ_GELS: LA(dt, gels, "N", &lm, &ln, &lk, am, &lda, bm, &lb, wq, &lwork, &info, 1); break;
      case LC_LSTSQ_GELSY:
        LA(dt, gelsy, &lm, &ln, &lk, am, &lda, bm, &lb, lc_tensor_data(jpvt), rc, &rank, wq, &lwork, &info);
        break;
      case LC_LSTSQ_GELSD:
        LA(dt, gelsd, &lm, &ln, &lk, am, &lda, bm, &lb, sm, rc, &rank, wq, &lwork, qi, &info);
        break;
      case LC_LSTSQ_GELSS: LA(dt, gelss, &lm, &ln, &lk, am, &lda, bm, &lb, sm, rc, &rank, wq, &lwork, &info); break;
    }
    lwork = (la_int)queried(dt, q);
    work = work_buf(ctx, dt, lwork);
    iw = work ? work_buf(ctx, LC_INT32, qi[0] > 1 ? qi[0] : 1) : NULL;
    ok = iw != NULL;
  }
  for (int64_t i = 0; ok && i < count; i++) {
    void *am = mat(ac, i, m * n), *bm = lc_tensor_data(bb), *sm = lc_tensor_data(s);
    for (int64_t c = 0; c < k; c++)  /* B's columns, each in ldb rows */
      for (int64_t r = 0; r < ldb; r++)
        st(dt, bm, c * ldb + r, r < m ? ld(dt, mat(bc, i, m * k), c * m + r) : 0.0);
    rank = (la_int)mn;
    if (mn > 0 && k > 0) {
      memset(lc_tensor_data(jpvt), 0, sizeof(la_int) * (size_t)(n > 0 ? n : 1));
      switch (driver) {
        case LC_LSTSQ_GELS:
          LA(dt, gels, "N", &lm, &ln, &lk, am, &lda, bm, &lb, lc_tensor_data(work), &lwork, &info, 1);
          break;
        case LC_LSTSQ_GELSY:
          LA(dt, gelsy, &lm, &ln, &lk, am, &lda, bm, &lb, lc_tensor_data(jpvt), rc, &rank,
             lc_tensor_data(work), &lwork, &info);
          break;
        case LC_LSTSQ_GELSD:
          LA(dt, gelsd, &lm, &ln, &lk, am, &lda, bm, &lb, sm, rc, &rank, lc_tensor_data(work), &lwork,
             lc_tensor_data(iw), &info);
          break;
        case LC_LSTSQ_GELSS:
          LA(dt, gelss, &lm, &ln, &lk, am, &lda, bm, &lb, sm, rc, &rank, lc_tensor_data(work), &lwork,
             &info);
          break;
      }
      if (info > 0) {
        fail_at(ctx, a, "A", nb, bs, i, driver == LC_LSTSQ_GELS
                ? "does not have full rank (gels needs it: use another driver)"
                : "has an SVD that did not converge");
        ok = 0;
        break;
      }
    } else if (has_sv) {
      for (int64_t j = 0; j < mn; j++) st(dt, sm, j, 0.0);  /* no right-hand sides */
    }
    rows_from_cols(dt, mat(o->x, i, n * k), k, bm, ldb, n, k);
    if (has_rank) ((int64_t *)lc_tensor_data(o->rank))[i] = rank;
    full_rank = full_rank && rank == (la_int)n;
    if (has_sv)
      for (int64_t j = 0; j < mn; j++) st(dt, mat(o->sv, i, mn), j, ld(dt, sm, j));
    for (int64_t c = 0; want_res && c < k; c++) {  /* rows n..m of each column */
      double r2 = 0;
      for (int64_t r = n; r < m; r++) r2 += ld(dt, bm, c * ldb + r) * ld(dt, bm, c * ldb + r);
      st(dt, mat(o->residuals, i, k), c, r2);
    }
  }
  if (ok && want_res && driver != LC_LSTSQ_GELS && !full_rank) {  /* PyTorch: all rank n, or none */
    lc_tensor_release(o->residuals);
    o->residuals = empty0(ctx, dt);
    ok = o->residuals != NULL;
  }
  lc_tensor_release(bview);
  lc_tensor_release(ac);
  lc_tensor_release(bc);
  lc_tensor_release(bb);
  lc_tensor_release(jpvt);
  lc_tensor_release(s);
  lc_tensor_release(work);
  lc_tensor_release(iw);
  if (!ok) {
    lstsq_release(o);
    return ctx->status;
  }
  return LC_OK;
}

/* ---- the ops ------------------------------------------------------------------------------- */

/* Records out = op(in[n]) and keeps the sizes its rule reads. */
static lc_tensor *finish(lc_ctx *ctx, lc_tensor *out, int op, int n, lc_tensor **in, int64_t m,
                         int64_t cols, int mode) {
  out = lc__finish(ctx, out, &LP[op].def, n, in);
  if (out && out->node) {
    out->node->p.la.m = m;
    out->node->p.la.n = cols;
    out->node->p.la.k = m < cols ? m : cols;
    out->node->p.la.mode = mode;
  }
  return out;
}

/* The (..., r, c) block at offset off of packed (..., total)'s last dim, or
 * the (..., r) one when c is 0: a view that records, so its gradient goes
 * back into packed's. */
static lc_tensor *part(lc_ctx *ctx, lc_tensor *p, int64_t off, int64_t r, int64_t c) {
  int nb = p->ndim - 1;
  lc_tensor *v = lc_narrow(ctx, p, nb, off, part_size(r, c));
  if (!v || !c) return v;
  int64_t shape[LC_MAX_DIMS];
  memcpy(shape, p->shape, sizeof(int64_t) * (size_t)nb);
  shape[nb] = r;
  shape[nb + 1] = c;
  lc_tensor *out = lc_reshape(ctx, v, nb + 2, shape);
  lc_tensor_release(v);
  return out;
}

lc_tensor *lc_linalg_inv(lc_ctx *ctx, lc_tensor *a) {
  if (!check_matrix(ctx, a, "A", 1)) return NULL;
  int64_t n = a->shape[a->ndim - 1];
  return finish(ctx, solve_raw(ctx, a, NULL, 0, a->ndim - 2, a->shape, 0, NULL), LP_inv, 1, &a, n, n, 0);
}

static int same_dtype(lc_ctx *ctx, const lc_tensor *a, const lc_tensor *b) {
  if (a->dtype == b->dtype) return 1;
  lc__fail(ctx, LC_EARG, "A and B must have the same dtype, got %s and %s", lc_dtype_name(a->dtype),
           lc_dtype_name(b->dtype));
  return 0;
}

static lc_tensor *fail_fit(lc_ctx *ctx, const lc_tensor *a, const lc_tensor *b, int64_t x, int64_t y) {
  char sa[LC_SHAPE_STR], sb[LC_SHAPE_STR];
  lc_shape_str(sa, sizeof sa, a->ndim, a->shape);
  lc_shape_str(sb, sizeof sb, b->ndim, b->shape);
  lc__fail(ctx, LC_ESHAPE, "A %s and B %s do not fit (%lld ~= %lld)", sa, sb, (long long)x, (long long)y);
  return NULL;
}

lc_tensor *lc_linalg_solve(lc_ctx *ctx, lc_tensor *a, lc_tensor *b) {
  if (!check_matrix(ctx, a, "A", 1) || !check_float(ctx, b, "B") || !same_dtype(ctx, a, b)) return NULL;
  if (b->ndim == 0) return lc__fail_shapes(ctx, "A %s and B %s: B must have at least 1 dimension", a, b);
  int64_t n = a->shape[a->ndim - 1];
  /* PyTorch's rule: B is a vector (or a batch of them) when 1-D or of A's shape without its last dim */
  int vec = b->ndim == 1 || b->ndim == a->ndim - 1;
  for (int i = 0; vec && b->ndim > 1 && i < b->ndim; i++) vec = b->shape[i] == a->shape[i];
  int64_t rows = vec ? b->shape[b->ndim - 1] : b->ndim >= 2 ? b->shape[b->ndim - 2] : -1;
  if (rows != n) return fail_fit(ctx, a, b, n, rows);
  int nb;
  int64_t bs[LC_MAX_DIMS];
  if (!broadcast_batch(ctx, a, a->ndim - 2, "A", b, b->ndim - (vec ? 1 : 2), "B", &nb, bs)) return NULL;
  lc_tensor *in[2] = {a, b};
  return finish(ctx, solve_raw(ctx, a, b, vec, nb, bs, 0, NULL), LP_solve, 2, in, n, n, vec);
}

lc_tensor *lc_linalg_det(lc_ctx *ctx, lc_tensor *a) {
  lc_tensor *d = NULL;
  if (!check_matrix(ctx, a, "A", 1) || lu_det_raw(ctx, a, &d, NULL, NULL) != LC_OK) return NULL;
  int64_t n = a->shape[a->ndim - 1];
  return finish(ctx, d, LP_det, 1, &a, n, n, 0);
}

lc_status lc_linalg_slogdet(lc_ctx *ctx, lc_tensor *a, lc_tensor **sign, lc_tensor **logabsdet) {
  *sign = *logabsdet = NULL;
  lc_tensor *s = NULL, *l = NULL;
  if (!check_matrix(ctx, a, "A", 1) || lu_det_raw(ctx, a, NULL, &s, &l) != LC_OK) return ctx->status;
  int64_t n = a->shape[a->ndim - 1];
  l = finish(ctx, l, LP_slogdet, 1, &a, n, n, 0);
  if (!l) {
    lc_tensor_release(s);
    return ctx->status;
  }
  *sign = s;
  *logabsdet = l;
  return LC_OK;
}

lc_tensor *lc_linalg_cholesky(lc_ctx *ctx, lc_tensor *a, int upper) {
  if (!check_matrix(ctx, a, "A", 1)) return NULL;
  int64_t n = a->shape[a->ndim - 1];
  return finish(ctx, cholesky_raw(ctx, a, upper != 0, NULL), LP_cholesky, 1, &a, n, n, upper != 0);
}

lc_status lc_linalg_qr(lc_ctx *ctx, lc_tensor *a, lc_qr_mode mode, lc_tensor **q, lc_tensor **r) {
  *q = *r = NULL;
  if (!check_matrix(ctx, a, "A", 0)) return ctx->status;
  packing pk = {0, 0, 0, 0, 0, 0, 0, 0, 0};
  lc_tensor *p = qr_raw(ctx, a, mode, &pk);  /* fills pk: before finish reads it */
  p = finish(ctx, p, LP_qr, 1, &a, pk.m, pk.n, (int)mode);
  if (p && mode == LC_QR_R) {  /* PyTorch's empty Q, of shape (0) */
    lc_tensor *e = lc_narrow(ctx, p, p->ndim - 1, 0, 0);
    int64_t z[1] = {0};
    *q = e ? lc_reshape(ctx, e, 1, z) : NULL;
    lc_tensor_release(e);
  } else if (p) {
    *q = part(ctx, p, 0, pk.r1, pk.c1);
  }
  *r = *q ? part(ctx, p, part_size(pk.r1, pk.c1), pk.r2, pk.c2) : NULL;
  lc_tensor_release(p);
  if (!*r) {
    lc_tensor_release(*q);
    *q = NULL;
    return ctx->status;
  }
  return LC_OK;
}

lc_status lc_linalg_svd(lc_ctx *ctx, lc_tensor *a, int full_matrices, lc_tensor **u, lc_tensor **s,
                        lc_tensor **vh) {
  *u = *s = *vh = NULL;
  if (!check_matrix(ctx, a, "A", 0)) return ctx->status;
  packing pk = {0, 0, 0, 0, 0, 0, 0, 0, 0};
  lc_tensor *p = svd_raw(ctx, a, full_matrices != 0, &pk);  /* fills pk: before finish reads it */
  p = finish(ctx, p, LP_svd, 1, &a, pk.m, pk.n, full_matrices != 0);
  int64_t o2 = part_size(pk.r1, pk.c1), o3 = o2 + part_size(pk.r2, pk.c2);
  *u = p ? part(ctx, p, 0, pk.r1, pk.c1) : NULL;
  *s = *u ? part(ctx, p, o2, pk.r2, pk.c2) : NULL;
  *vh = *s ? part(ctx, p, o3, pk.r3, pk.c3) : NULL;
  lc_tensor_release(p);
  if (!*vh) {
    lc_tensor_release(*u);
    lc_tensor_release(*s);
    *u = *s = NULL;
    return ctx->status;
  }
  return LC_OK;
}

lc_status lc_linalg_eigh(lc_ctx *ctx, lc_tensor *a, int upper, lc_tensor **l, lc_tensor **v) {
  *l = *v = NULL;
  if (!check_matrix(ctx, a, "A", 1)) return ctx->status;
  packing pk = {0, 0, 0, 0, 0, 0, 0, 0, 0};
  lc_tensor *p = eigh_raw(ctx, a, upper != 0, &pk);  /* fills pk: before finish reads it */
  p = finish(ctx, p, LP_eigh, 1, &a, pk.m, pk.n, upper != 0);
  *l = p ? part(ctx, p, 0, pk.r1, pk.c1) : NULL;
  *v = *l ? part(ctx, p, part_size(pk.r1, pk.c1), pk.r2, pk.c2) : NULL;
  lc_tensor_release(p);
  if (!*v) {
    lc_tensor_release(*l);
    *l = NULL;
    return ctx->status;
  }
  return LC_OK;
}

/* An int32 tensor of a's batch shape (a's dims but the last two). */
static lc_tensor *info_tensor(lc_ctx *ctx, const lc_tensor *a) {
  lc_tensor *t = batch_tensor(ctx, LC_INT32, a->ndim - 2, a->shape, 0, NULL);
  if (t && t->numel > 0) memset(lc_tensor_data(t), 0, sizeof(int32_t) * (size_t)t->numel);
  return t;
}

/* The two results of an _ex op, or none (with the status) when out failed. */
static lc_status ex_results(lc_ctx *ctx, lc_tensor *out, lc_tensor *info, lc_tensor **r1, lc_tensor **r2) {
  if (!out) {
    lc_tensor_release(info);
    return ctx->status;
  }
  *r1 = out;
  *r2 = info;
  return LC_OK;
}

lc_status lc_linalg_inv_ex(lc_ctx *ctx, lc_tensor *a, int check_errors, lc_tensor **inv, lc_tensor **info) {
  *inv = *info = NULL;
  if (!check_matrix(ctx, a, "A", 1)) return ctx->status;
  int64_t n = a->shape[a->ndim - 1];
  lc_tensor *in = info_tensor(ctx, a);
  lc_tensor *x = in ? solve_raw(ctx, a, NULL, 0, a->ndim - 2, a->shape, !check_errors, in) : NULL;
  return ex_results(ctx, finish(ctx, x, LP_inv, 1, &a, n, n, 0), in, inv, info);
}

lc_status lc_linalg_cholesky_ex(lc_ctx *ctx, lc_tensor *a, int upper, int check_errors, lc_tensor **l,
                                lc_tensor **info) {
  *l = *info = NULL;
  if (!check_matrix(ctx, a, "A", 1)) return ctx->status;
  int64_t n = a->shape[a->ndim - 1];
  lc_tensor *in = info_tensor(ctx, a);
  lc_tensor *x = in ? cholesky_raw(ctx, a, upper != 0, check_errors ? NULL : in) : NULL;
  return ex_results(ctx, finish(ctx, x, LP_cholesky, 1, &a, n, n, upper != 0), in, l, info);
}

lc_tensor *lc_linalg_solve_triangular(lc_ctx *ctx, lc_tensor *a, lc_tensor *b, int upper, int left,
                                      int unitriangular) {
  if (!check_matrix(ctx, a, "A", 1) || !check_float(ctx, b, "B") || !same_dtype(ctx, a, b)) return NULL;
  if (b->ndim < 2) return lc__fail_shapes(ctx, "A %s and B %s: B must have at least 2 dimensions", a, b);
  int64_t n = a->shape[a->ndim - 1], along = b->shape[b->ndim - (left ? 2 : 1)];
  if (along != n) return fail_fit(ctx, a, b, n, along);
  if (b->shape[b->ndim - 2] > 32767 || b->shape[b->ndim - 1] > 32767)
    return lc__fail_shapes(ctx, "A %s and B %s: matrices beyond 32767 rows or columns are too large for BLAS",
                           a, b);
  int nb;
  int64_t bs[LC_MAX_DIMS];
  if (!broadcast_batch(ctx, a, a->ndim - 2, "A", b, b->ndim - 2, "B", &nb, bs)) return NULL;
  lc_tensor *in[2] = {a, b};
  int mode = (upper != 0) | (left != 0) << 1 | (unitriangular != 0) << 2;
  return finish(ctx, trsm_raw(ctx, a, b, upper != 0, left != 0, unitriangular != 0, nb, bs),
                LP_solve_triangular, 2, in, n, n, mode);
}

lc_status lc_linalg_lu_factor(lc_ctx *ctx, lc_tensor *a, lc_tensor **lu, lc_tensor **pivots,
                              lc_tensor **info) {
  *lu = *pivots = NULL;
  if (info) *info = NULL;
  if (!check_matrix(ctx, a, "A", 0)) return ctx->status;
  lc_tensor *in = info ? info_tensor(ctx, a) : NULL, *l = NULL, *pv = NULL;
  if ((info && !in) || lu_raw(ctx, a, &l, &pv, in) != LC_OK) {
    lc_tensor_release(in);
    return ctx->status;
  }
  l = finish(ctx, l, LP_lu_factor, 1, &a, a->shape[a->ndim - 2], a->shape[a->ndim - 1], 0);
  if (l && l->node) l->node->saved[0] = lc__retained(pv);  /* the rule's P */
  if (!l) {
    lc_tensor_release(pv);
    lc_tensor_release(in);
    return ctx->status;
  }
  *lu = l;
  *pivots = pv;
  if (info) *info = in;
  return LC_OK;
}

/* (..., r, c) as its transpose (..., c, r): a view that records nothing */
static lc_tensor *mT_view(lc_ctx *ctx, lc_tensor *t) {
  int64_t shape[LC_MAX_DIMS], strides[LC_MAX_DIMS];
  int nd = t->ndim;
  memcpy(shape, t->shape, sizeof(int64_t) * (size_t)nd);
  memcpy(strides, t->strides, sizeof(int64_t) * (size_t)nd);
  shape[nd - 2] = t->shape[nd - 1];
  shape[nd - 1] = t->shape[nd - 2];
  strides[nd - 2] = t->strides[nd - 1];
  strides[nd - 1] = t->strides[nd - 2];
  return lc__view(ctx, t, nd, shape, strides, t->offset);
}

/* pivots: int32, LU's batch dims then n, every value in 1..n. */
static int check_pivots(lc_ctx *ctx, const lc_tensor *lu, lc_tensor *piv) {
  if (piv->dtype != LC_INT32) {
    lc__fail(ctx, LC_EARG, "pivots must be an int32 tensor (lu_factor's), got %s", lc_dtype_name(piv->dtype));
    return 0;
  }
  int ok = piv->ndim == lu->ndim - 1;
  for (int i = 0; ok && i < piv->ndim; i++) ok = piv->shape[i] == lu->shape[i];
  if (!ok) {
    lc__fail_shapes(ctx, "LU %s and pivots %s: pivots must have LU's batch dims and LU's size n", lu, piv);
    return 0;
  }
  int64_t n = lu->shape[lu->ndim - 1];
  lc_tensor *pc = lc__contig_raw(ctx, piv);
  for (int64_t i = 0; pc && i < pc->numel; i++) {
    int32_t v = ((const int32_t *)lc_tensor_data(pc))[i];
    if (v < 1 || v > n) {
      lc__fail(ctx, LC_EARG, "pivots must be in 1..%lld (LU's size), got %d", (long long)n, (int)v);
      lc_tensor_release(pc);
      return 0;
    }
  }
  if (!pc) return 0;
  lc_tensor_release(pc);
  return 1;
}

lc_tensor *lc_linalg_lu_solve(lc_ctx *ctx, lc_tensor *lu, lc_tensor *pivots, lc_tensor *b, int left,
                              int adjoint) {
  if (!check_matrix(ctx, lu, "LU", 1) || !check_float(ctx, b, "B") || !check_pivots(ctx, lu, pivots))
    return NULL;
  if (lu->dtype != b->dtype) {
    lc__fail(ctx, LC_EARG, "LU and B must have the same dtype, got %s and %s", lc_dtype_name(lu->dtype),
             lc_dtype_name(b->dtype));
    return NULL;
  }
  if (b->ndim < 2) return lc__fail_shapes(ctx, "LU %s and B %s: B must have at least 2 dimensions", lu, b);
  int64_t n = lu->shape[lu->ndim - 1], along = b->shape[b->ndim - (left ? 2 : 1)];
  if (along != n) {
    char sa[LC_SHAPE_STR], sb[LC_SHAPE_STR];
    lc_shape_str(sa, sizeof sa, lu->ndim, lu->shape);
    lc_shape_str(sb, sizeof sb, b->ndim, b->shape);
    lc__fail(ctx, LC_ESHAPE, "LU %s and B %s do not fit (%lld ~= %lld)", sa, sb, (long long)n,
             (long long)along);
    return NULL;
  }
  if (b->shape[b->ndim - 2] > 32767 || b->shape[b->ndim - 1] > 32767)
    return lc__fail_shapes(ctx, "LU %s and B %s: matrices beyond 32767 rows or columns are too large "
                           "for LAPACK", lu, b);
  int nb;
  int64_t bs[LC_MAX_DIMS];
  if (!broadcast_batch(ctx, lu, lu->ndim - 2, "LU", b, b->ndim - 2, "B", &nb, bs)) return NULL;
  /* X A = B is A^T X^T = B^T: getrs on B^T, the other way round, and X^T
   * comes out column-major, which is X row-major */
  lc_dtype dt = lu->dtype;
  lc_tensor *bv = left ? lc__retained(b) : mT_view(ctx, b);
  int64_t k = bv ? bv->shape[bv->ndim - 1] : 0, count = batch_count(nb, bs);
  int64_t pshape[LC_MAX_DIMS], pstrides[LC_MAX_DIMS];
  memcpy(pshape, pivots->shape, sizeof(int64_t) * (size_t)pivots->ndim);
  memcpy(pstrides, pivots->strides, sizeof(int64_t) * (size_t)pivots->ndim);
  pshape[pivots->ndim] = 1;
  pstrides[pivots->ndim] = 1;
  lc_tensor *pview = bv ? lc__view(ctx, pivots, pivots->ndim + 1, pshape, pstrides, pivots->offset) : NULL;
  lc_tensor *pc = pview ? colmajor(ctx, pview, nb, bs) : NULL;  /* (bs..., 1, n): one vector each */
  lc_tensor *ac = pc ? colmajor(ctx, lu, nb, bs) : NULL, *bc = ac ? colmajor(ctx, bv, nb, bs) : NULL;
  int64_t tail[2] = {left ? n : k, left ? k : n};
  lc_tensor *x = bc ? batch_tensor(ctx, dt, nb, bs, 2, tail) : NULL;
  const char *trans = (left ? adjoint : !adjoint) ? "T" : "N";
  la_int ln = (la_int)n, lk = (la_int)k, lda = n > 1 ? (la_int)n : 1, info = 0;
  for (int64_t i = 0; x && i < count; i++) {
    void *bm = mat(bc, i, n * k), *am = mat(ac, i, n * n);
    int zero_pivot = 0;  /* NaN then, without getrs: see solve_raw */
    for (int64_t j = 0; j < n; j++) zero_pivot = zero_pivot || ld(dt, am, j * n + j) == 0.0;
    if (zero_pivot) {
      for (int64_t j = 0; j < n * k; j++) st(dt, mat(x, i, n * k), j, NAN);
      continue;
    }
    if (n > 0 && k > 0)
      LA(dt, getrs, trans, &ln, &lk, am, &lda, (const la_int *)mat(pc, i, n), bm, &lda,
         &info, 1);
    if (left) rows_from_cols(dt, mat(x, i, n * k), k, bm, n, n, k);
    else if (n * k > 0) memcpy(mat(x, i, n * k), bm, (size_t)(n * k) * lc_dtype_size(dt));
  }
  lc_tensor_release(bv);
  lc_tensor_release(pview);
  lc_tensor_release(pc);
  lc_tensor_release(ac);
  lc_tensor_release(bc);
  lc_tensor *in[3] = {lu, pivots, b};
  return finish(ctx, x, LP_lu_solve, 3, in, n, n, (left != 0) | (adjoint != 0) << 1);
}

static lc_tensor *mt_raw(lc_ctx *ctx, lc_tensor *x) {
  return x ? lc_transpose(ctx, x, x->ndim - 2, x->ndim - 1) : NULL;
}

/* The reciprocals of the values sv (..., len) above max(atol, rtol * the
 * largest |value|), 0 for the others; PyTorch's pinv by SVD and by eigh. */
static lc_tensor *pinv_scale(lc_ctx *ctx, lc_tensor *sv, double atol, double rtol) {
  lc_tensor *c = sv ? lc__contig_raw(ctx, sv) : NULL, *r = c ? lc_empty(ctx, c->dtype, c->ndim, c->shape) : NULL;
  int64_t len = c ? c->shape[c->ndim - 1] : 0, rows = r && len ? r->numel / len : 0;
  for (int64_t i = 0; i < rows; i++) {
    const void *x = mat(c, i, len);
    double big = 0;
    for (int64_t j = 0; j < len; j++) big = fabs(ld(c->dtype, x, j)) > big ? fabs(ld(c->dtype, x, j)) : big;
    double tol = atol > rtol * big ? atol : rtol * big;
    for (int64_t j = 0; j < len; j++) {
      double v = ld(c->dtype, x, j);
      st(r->dtype, mat(r, i, len), j, fabs(v) > tol ? 1.0 / v : 0.0);
    }
  }
  lc_tensor_release(c);
  return r;
}

lc_tensor *lc_linalg_pinv(lc_ctx *ctx, lc_tensor *a, const double *atol, const double *rtol, int hermitian) {
  if (!check_matrix(ctx, a, "A", hermitian)) return NULL;
  int nd = a->ndim;
  int64_t m = a->shape[nd - 2], n = a->shape[nd - 1];
  double at = atol ? *atol : 0.0;
  double rt = rtol ? *rtol : atol && *atol > 0 ? 0.0 : eps_of(a->dtype) * (double)(m > n ? m : n);
  lc_tensor *out = NULL;
  if (a->numel == 0) {
    int64_t shape[LC_MAX_DIMS];
    memcpy(shape, a->shape, sizeof(int64_t) * (size_t)nd);
    shape[nd - 2] = n;
    shape[nd - 1] = m;
    out = lc_zeros(ctx, a->dtype, nd, shape);
  } else {
    /* the raw factors make no graph: these ops on them record nothing */
    packing pk = {0, 0, 0, 0, 0, 0, 0, 0, 0};
    lc_tensor *p = hermitian ? eigh_raw(ctx, a, 0, &pk) : svd_raw(ctx, a, 0, &pk);
    lc_tensor *f1 = p ? part(ctx, p, 0, pk.r1, pk.c1) : NULL;
    lc_tensor *f2 = f1 ? part(ctx, p, part_size(pk.r1, pk.c1), pk.r2, pk.c2) : NULL;
    lc_tensor *f3 = f2 && !hermitian ? part(ctx, p, part_size(pk.r1, pk.c1) + pk.r2, pk.r3, pk.c3) : NULL;
    if (hermitian && f2) {  /* V diag(1 / L) V^T with V = f2, L = f1 */
      lc_tensor *k = pinv_scale(ctx, f1, at, rt), *ku = k ? lc_unsqueeze(ctx, k, k->ndim - 1) : NULL;
      lc_tensor *vk = ku ? lc_mul(ctx, f2, ku) : NULL, *vt = vk ? mt_raw(ctx, f2) : NULL;
      out = vt ? lc_matmul(ctx, vk, vt) : NULL;
      lc_tensor_release(k);
      lc_tensor_release(ku);
      lc_tensor_release(vk);
      lc_tensor_release(vt);
    } else if (f3) {  /* Vh^T (diag(1 / S) U^T) with U = f1, S = f2, Vh = f3 */
      lc_tensor *k = pinv_scale(ctx, f2, at, rt), *ku = k ? lc_unsqueeze(ctx, k, k->ndim) : NULL;
      lc_tensor *ut = ku ? mt_raw(ctx, f1) : NULL, *ku_ut = ut ? lc_mul(ctx, ku, ut) : NULL;
      lc_tensor *v = ku_ut ? mt_raw(ctx, f3) : NULL;
      out = v ? lc_matmul(ctx, v, ku_ut) : NULL;
      lc_tensor_release(k);
      lc_tensor_release(ku);
      lc_tensor_release(ut);
      lc_tensor_release(ku_ut);
      lc_tensor_release(v);
    }
    lc_tensor_release(p);
    lc_tensor_release(f1);
    lc_tensor_release(f2);
    lc_tensor_release(f3);
  }
  return finish(ctx, out, LP_pinv, 1, &a, m, n, hermitian != 0);
}

lc_status lc_linalg_lstsq(lc_ctx *ctx, lc_tensor *a, lc_tensor *b, const double *rcond,
                          lc_lstsq_driver driver, lc_tensor **x, lc_tensor **residuals,
                          lc_tensor **rank, lc_tensor **sv) {
  *x = *residuals = *rank = *sv = NULL;
  if (!check_matrix(ctx, a, "A", 0) || !check_float(ctx, b, "B") || !same_dtype(ctx, a, b))
    return ctx->status;
  if (b->ndim < 1 || b->ndim > a->ndim || a->ndim - b->ndim > 1) {
    lc__fail_shapes(ctx, "A %s and B %s: B must have as many dimensions as A, or one fewer "
                    "(a batch of vectors)", a, b);
    return ctx->status;
  }
  int vec = b->ndim == a->ndim - 1;
  int64_t m = a->shape[a->ndim - 2], n = a->shape[a->ndim - 1];
  int64_t rows = vec ? b->shape[b->ndim - 1] : b->shape[b->ndim - 2];
  if (rows != m) {
    fail_fit(ctx, a, b, m, rows);
    return ctx->status;
  }
  int nb;
  int64_t bs[LC_MAX_DIMS];
  if (!broadcast_batch(ctx, a, a->ndim - 2, "A", b, b->ndim - (vec ? 1 : 2), "B", &nb, bs))
    return ctx->status;
  double rc = rcond ? *rcond : eps_of(a->dtype) * (double)(m > n ? m : n);
  lstsq_out o;
  if (lstsq_raw(ctx, a, b, vec, nb, bs, rc, driver, &o) != LC_OK) return ctx->status;
  lc_tensor *in[2] = {a, b};
  o.x = finish(ctx, o.x, LP_lstsq, 2, in, m, n, vec);
  if (!o.x) {
    lstsq_release(&o);
    return ctx->status;
  }
  *x = o.x;
  *residuals = o.residuals;
  *rank = o.rank;
  *sv = o.sv;
  return LC_OK;
}

/* ---- rule helpers: d_ scope expressions (a NULL, a failure, passes through) -------------- */

static lc_tensor *mT(d_scope *s, lc_tensor *x) {
  return x ? d_keep(s, lc_transpose(s->ctx, x, x->ndim - 2, x->ndim - 1)) : NULL;
}
static lc_tensor *mm(d_scope *s, lc_tensor *a, lc_tensor *b) { return d_bin(s, lc_matmul, a, b); }
/* x with a size-1 dim at `at` counted from the end: -1 appends, -2 before the last */
static lc_tensor *unsq(d_scope *s, lc_tensor *x, int at) {
  return x ? d_keep(s, lc_unsqueeze(s->ctx, x, x->ndim + 1 + at)) : NULL;
}
static lc_tensor *scaled(d_scope *s, lc_tensor *x, double c) { return d_mul(s, x, d_k(s, c)); }
static lc_tensor *eye_of(d_scope *s, int64_t n, lc_dtype dt) {
  return d_keep(s, lc_eye(s->ctx, dt, n, n));
}
/* (..., n) -> (..., n, n) with v on the diagonal */
static lc_tensor *diag_embed(d_scope *s, lc_tensor *v) {
  return v ? d_mul(s, unsq(s, v, -1), eye_of(s, v->shape[v->ndim - 1], s->dt)) : NULL;
}
/* x (..., r, c) with the elements off the band zeroed: lower keeps c - r <= k
 * (tril(k)), upper keeps c - r >= k (triu(k)); a product with a constant mask. */
static lc_tensor *band(d_scope *s, lc_tensor *x, int64_t k, int upper) {
  if (!x) return NULL;
  int64_t r = x->shape[x->ndim - 2], c = x->shape[x->ndim - 1], shape[2] = {r, c};
  lc_tensor *mask = d_keep(s, lc_empty(s->ctx, x->dtype, 2, shape));
  for (int64_t i = 0; mask && i < r; i++)
    for (int64_t j = 0; j < c; j++)
      st(x->dtype, lc_tensor_data(mask), i * c + j, (upper ? j - i >= k : j - i <= k) ? 1.0 : 0.0);
  return d_mul(s, x, mask);
}
static lc_tensor *part_k(d_scope *s, lc_tensor *p, int64_t off, int64_t r, int64_t c) {
  return p ? d_keep(s, part(s->ctx, p, off, r, c)) : NULL;
}

/* Whether every element of t is 0 (a part of a gradient no result sent). */
static int all_zero(lc_ctx *ctx, lc_tensor *t) {
  lc_tensor *c = t ? lc__contig_raw(ctx, t) : NULL;
  int zero = c != NULL;
  for (int64_t i = 0; zero && i < c->numel; i++) zero = ld(c->dtype, lc_tensor_data(c), i) == 0.0;
  lc_tensor_release(c);
  return zero;
}
/* p's part, or NULL when the gradient g's part is all zero (unused) */
static lc_tensor *grad_part(d_scope *s, lc_tensor *g, int64_t off, int64_t r, int64_t c) {
  lc_tensor *gp = part_k(s, g, off, r, c);
  return gp && all_zero(s->ctx, gp) ? NULL : gp;
}

/* A gradient of zeros for input x (the rule's answer when no part was used). */
static int zero_grad(lc_ctx *ctx, lc_tensor *x, lc_tensor **grad) {
  *grad = lc_zeros(ctx, x->dtype, x->ndim, x->shape);
  return 1;
}

/* ---- rules --------------------------------------------------------------------------------- */

/* gA = -X^T g X^T with X = A^-1 */
static int rule_inv(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  d_scope sc = {ctx, g->dtype, 0, {NULL}}, *s = &sc;
  lc_tensor *xt = mT(s, n->out);
  grads[0] = lc__retained(d_un(s, lc_neg, mm(s, xt, mm(s, g, xt))));
  d_end(s);
  return 1;  /* a NULL where a gradient is wanted tells the engine */
}

/* gB = solve(A^T, g); gA = -gB X^T (an outer product for vectors); both
 * summed over the batch dims their input was broadcast along. */
static int rule_solve(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  lc_tensor *a = n->inputs[0], *b = n->inputs[1], *x = n->out;
  d_scope sc = {ctx, g->dtype, 0, {NULL}}, *s = &sc;
  lc_tensor *at = mT(s, a), *gb = at ? d_keep(s, lc_linalg_solve(ctx, at, g)) : NULL;
  if (b->requires_grad) grads[1] = gb ? lc__sum_to(ctx, gb, b->ndim, b->shape) : NULL;
  if (a->requires_grad) {
    lc_tensor *ga = n->p.la.mode ? d_mul(s, unsq(s, gb, -1), unsq(s, x, -2)) : mm(s, gb, mT(s, x));
    ga = d_un(s, lc_neg, ga);
    grads[0] = ga ? lc__sum_to(ctx, ga, a->ndim, a->shape) : NULL;
  }
  d_end(s);
  return 1;
}

/* The cofactors det(A) A^-T of singular matrices too, from the SVD A = U S Vh:
 * det(U) det(Vh) U diag(prod of the other singular values) Vh (PyTorch's
 * create_graph path for |det| < 100 eps). */
static lc_tensor *svd_cofactor(d_scope *s, lc_tensor *a) {
  lc_tensor *u = NULL, *sv = NULL, *vh = NULL;
  if (!a || lc_linalg_svd(s->ctx, a, 0, &u, &sv, &vh) != LC_OK) return NULL;
  d_keep(s, u);
  d_keep(s, sv);
  d_keep(s, vh);
  int64_t k = sv->shape[sv->ndim - 1];
  lc_tensor *alpha = d_mul(s, d_keep(s, lc_linalg_det(s->ctx, u)), d_keep(s, lc_linalg_det(s->ctx, vh)));
  /* row i: the singular values with the i-th set to 1; their product */
  lc_tensor *rows = d_where(s, eye_of(s, k, LC_BOOL), d_k(s, 1), unsq(s, sv, -2));
  lc_tensor *others = rows ? d_keep(s, lc_prod_dim(s->ctx, rows, rows->ndim - 1, 0)) : NULL;
  lc_tensor *cof = mm(s, d_mul(s, u, unsq(s, others, -2)), vh);
  return d_mul(s, cof, unsq(s, unsq(s, alpha, -1), -1));
}

/* How many of the (...) elements of mask are true. */
static int64_t count_true(lc_ctx *ctx, lc_tensor *mask, int64_t *total) {
  lc_tensor *c = mask ? lc__contig_raw(ctx, mask) : NULL;
  int64_t k = 0;
  *total = c ? c->numel : 0;
  for (int64_t i = 0; c && i < c->numel; i++) k += ((const _Bool *)lc_tensor_data(c))[i] != 0;
  lc_tensor_release(c);
  return k;
}

/* gA = g det(A) A^-T, PyTorch 1.13's two ways: without create_graph, A^-T
 * from the LU, and a zero gradient where det is exactly 0 (PyTorch solves
 * with det * g = 0 there); with create_graph, recorded, and where |det| <
 * 100 eps the SVD's cofactors instead. */
static int rule_det(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  lc_tensor *a = n->inputs[0], *det = n->out;
  if (a->numel == 0) return zero_grad(ctx, a, &grads[0]);
  d_scope sc = {ctx, g->dtype, 0, {NULL}}, *s = &sc;
  lc_tensor *eye = eye_of(s, n->p.la.n, g->dtype), *d2 = unsq(s, unsq(s, det, -1), -1);
  lc_tensor *g2 = unsq(s, unsq(s, g, -1), -1), *cof = NULL;
  if (!lc_ctx_grad_enabled(ctx)) {
    lc_tensor *zero = d_bin(s, lc_eq, d2, d_k(s, 0));
    lc_tensor *safe = d_where(s, zero, eye, a);
    cof = d_mul(s, d2, mT(s, safe ? d_keep(s, lc_linalg_inv(ctx, safe)) : NULL));
  } else {
    lc_tensor *small = d_bin(s, lc_lt, d_un(s, lc_abs, d2), d_k(s, 100 * eps_of(g->dtype)));
    int64_t total = 0, nsmall = count_true(ctx, small, &total);
    lc_tensor *cof_ns = NULL, *cof_s = NULL;
    if (small && nsmall < total) {
      lc_tensor *an = nsmall ? d_where(s, small, eye, a) : a;
      cof_ns = d_mul(s, d2, mT(s, an ? d_keep(s, lc_linalg_inv(ctx, an)) : NULL));
    }
    if (small && nsmall > 0) cof_s = svd_cofactor(s, nsmall < total ? d_where(s, small, a, eye) : a);
    cof = !small ? NULL : nsmall == 0 ? cof_ns : nsmall == total ? cof_s : d_where(s, small, cof_s, cof_ns);
  }
  grads[0] = lc__retained(d_mul(s, g2, cof));
  d_end(s);
  return 1;
}

/* gA = g A^-T (sign has no gradient). Without create_graph A^-T comes from
 * the LU even for a singular A (NaN; PyTorch's lu_solve divides by 0); with
 * it, from lc_linalg_inv, which refuses a singular A (as PyTorch's solve). */
static int rule_slogdet(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  lc_tensor *a = n->inputs[0];
  if (a->numel == 0) return zero_grad(ctx, a, &grads[0]);
  d_scope sc = {ctx, g->dtype, 0, {NULL}}, *s = &sc;
  lc_tensor *ainv = d_keep(s, lc_ctx_grad_enabled(ctx) ? lc_linalg_inv(ctx, a)
                                                      : solve_raw(ctx, a, NULL, 0, a->ndim - 2, a->shape, 1, NULL));
  grads[0] = lc__retained(d_mul(s, unsq(s, unsq(s, g, -1), -1), mT(s, ainv)));
  d_end(s);
  return 1;
}

/* gA = L^-T P(L^T gL) L^-1 with P(X) = (tril(X) + tril(X, -1)^T) / 2
 * (for upper, L = R^T and gL = gR^T); L^-1 by lc_linalg_inv, so recorded. */
static int rule_cholesky(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  d_scope sc = {ctx, g->dtype, 0, {NULL}}, *s = &sc;
  int upper = n->p.la.mode;
  lc_tensor *l = upper ? mT(s, n->out) : n->out, *gl = upper ? mT(s, g) : g;
  lc_tensor *x = band(s, mm(s, mT(s, l), gl), 0, 0);
  x = scaled(s, d_add(s, x, mT(s, band(s, x, -1, 0))), 0.5);
  lc_tensor *linv = l ? d_keep(s, lc_linalg_inv(ctx, l)) : NULL;
  grads[0] = lc__retained(mm(s, mT(s, linv), mm(s, x, linv)));
  d_end(s);
  return 1;
}

/* PyTorch's linalg_qr_backward. With G = gR R^T - Q^T gQ:
 *   m >= n: gA = (Q (triu(G) + triu(G, 1)^T) + gQ) R^-T
 *   m < n:  gA = [Q tril(G^T - G) R1^-T, 0] + Q gR, R1 = R's first m columns */
static int rule_qr(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  int64_t m = n->p.la.m, cols = n->p.la.n, k = n->p.la.k;
  int mode = n->p.la.mode;
  if (mode == LC_QR_R)
    return lc__fail(ctx, LC_ESTATE, "the gradient of linalg.qr needs Q, which mode 'r' does not "
                    "compute: use mode 'reduced'"), 0;
  if (mode == LC_QR_COMPLETE && m > cols)
    return lc__fail(ctx, LC_ESTATE, "linalg.qr is not differentiable in mode 'complete' when A has "
                    "more rows than columns (%lld > %lld)", (long long)m, (long long)cols), 0;
  lc_tensor *a = n->inputs[0];
  int64_t qc = mode == LC_QR_COMPLETE ? m : k;
  d_scope sc = {ctx, g->dtype, 0, {NULL}}, *s = &sc;
  lc_tensor *q = part_k(s, n->out, 0, m, qc), *r = part_k(s, n->out, m * qc, qc, cols);
  lc_tensor *gq = grad_part(s, g, 0, m, qc), *gr = grad_part(s, g, m * qc, qc, cols);
  if (!gq && !gr) {
    d_end(s);
    return zero_grad(ctx, a, &grads[0]);
  }
  lc_tensor *gm = gq && gr ? d_sub(s, mm(s, gr, mT(s, r)), mm(s, mT(s, q), gq))
                 : gq ? d_un(s, lc_neg, mm(s, mT(s, q), gq)) : mm(s, gr, mT(s, r));
  lc_tensor *ga;
  if (m >= cols) {
    lc_tensor *t = band(s, gm, 0, 1);
    ga = mm(s, q, d_add(s, t, mT(s, band(s, t, 1, 1))));
    if (gq) ga = d_add(s, ga, gq);
    lc_tensor *rinv = r ? d_keep(s, lc_linalg_inv(ctx, r)) : NULL;
    ga = mm(s, ga, mT(s, rinv));
  } else {
    ga = mm(s, q, band(s, d_sub(s, mT(s, gm), gm), 0, 0));
    lc_tensor *r1 = r ? d_keep(s, lc_narrow(ctx, r, r->ndim - 1, 0, m)) : NULL;
    ga = mm(s, ga, mT(s, r1 ? d_keep(s, lc_linalg_inv(ctx, r1)) : NULL));
    int64_t zs[LC_MAX_DIMS];
    memcpy(zs, a->shape, sizeof(int64_t) * (size_t)a->ndim);
    zs[a->ndim - 1] = cols - m;
    lc_tensor *zeros = d_keep(s, lc_zeros(ctx, g->dtype, a->ndim, zs));
    lc_tensor *pieces[2] = {ga, zeros};
    ga = ga && zeros ? d_keep(s, lc_cat(ctx, 2, pieces, a->ndim - 1)) : NULL;
    if (gr) ga = d_add(s, ga, mm(s, q, gr));
  }
  grads[0] = lc__retained(ga);
  d_end(s);
  return 1;
}

/* PyTorch's svd_backward (real case), on the first k columns of U and rows
 * of Vh when full_matrices. With E[j][i] = S_i^2 - S_j^2 (1 on the diagonal),
 * skew(X) = X - X^T:
 *   inner = (skew(U^T gU) S + S skew(Vh gVh^T)) / E + diag(gS)
 *   m > n (gU used): gA = (U inner + (I - U U^T) gU S^-1) Vh
 *   m < n (gVh used): gA = U (inner Vh + S^-1 gVh (I - Vh^T Vh))
 *   else: gA = U inner Vh
 * S alone: gA = U diag(gS) Vh, which needs no E (repeated values are fine). */
static int rule_svd(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  int64_t m = n->p.la.m, cols = n->p.la.n, k = n->p.la.k;
  int full = n->p.la.mode;
  int64_t uc = full ? m : k, vr = full ? cols : k, o2 = m * uc, o3 = o2 + k;
  lc_tensor *a = n->inputs[0];
  d_scope sc = {ctx, g->dtype, 0, {NULL}}, *s = &sc;
  lc_tensor *u = part_k(s, n->out, 0, m, uc), *sv = part_k(s, n->out, o2, k, 0);
  lc_tensor *vh = part_k(s, n->out, o3, vr, cols);
  lc_tensor *gu = grad_part(s, g, 0, m, uc), *gs = grad_part(s, g, o2, k, 0);
  lc_tensor *gvh = grad_part(s, g, o3, vr, cols);
  if (full) {  /* the bases' extra columns get no gradient, as PyTorch */
    u = u ? d_keep(s, lc_narrow(ctx, u, u->ndim - 1, 0, k)) : NULL;
    vh = vh ? d_keep(s, lc_narrow(ctx, vh, vh->ndim - 2, 0, k)) : NULL;
    gu = gu ? d_keep(s, lc_narrow(ctx, gu, gu->ndim - 1, 0, k)) : NULL;
    gvh = gvh ? d_keep(s, lc_narrow(ctx, gvh, gvh->ndim - 2, 0, k)) : NULL;
  }
  lc_tensor *ga = NULL;
  if (!gu && !gvh) {
    if (!gs) {
      d_end(s);
      return zero_grad(ctx, a, &grads[0]);
    }
    ga = m >= cols ? mm(s, u, d_mul(s, unsq(s, gs, -1), vh)) : mm(s, d_mul(s, u, unsq(s, gs, -2)), vh);
  } else {
    lc_tensor *row = unsq(s, sv, -2), *col = unsq(s, sv, -1);  /* S as (1, k) and (k, 1) */
    lc_tensor *s2 = d_mul(s, sv, sv);
    lc_tensor *e = d_add(s, d_sub(s, unsq(s, s2, -2), unsq(s, s2, -1)), eye_of(s, k, g->dtype));
    lc_tensor *ugu = NULL, *vgv = NULL, *inner;
    if (gu) {
      lc_tensor *x = mm(s, mT(s, u), gu);
      ugu = d_sub(s, x, mT(s, x));
    }
    if (gvh) {
      lc_tensor *x = mm(s, vh, mT(s, gvh));
      vgv = d_sub(s, x, mT(s, x));
    }
    if (gu && gvh) inner = d_div(s, d_add(s, d_mul(s, ugu, row), d_mul(s, col, vgv)), e);
    else if (gu) inner = d_mul(s, d_div(s, ugu, e), row);
    else inner = d_mul(s, col, d_div(s, vgv, e));
    if (gs) inner = d_add(s, inner, diag_embed(s, gs));
    if (m > cols && gu) {
      lc_tensor *gus = d_div(s, gu, row);
      ga = d_add(s, mm(s, u, inner), d_sub(s, gus, mm(s, u, mm(s, mT(s, u), gus))));
      ga = mm(s, ga, vh);
    } else if (m < cols && gvh) {
      lc_tensor *sgv = d_div(s, gvh, col);
      ga = d_add(s, mm(s, inner, vh), d_sub(s, sgv, mm(s, mm(s, sgv, mT(s, vh)), vh)));
      ga = mm(s, u, ga);
    } else {
      ga = m >= cols ? mm(s, u, mm(s, inner, vh)) : mm(s, mm(s, u, inner), vh);
    }
  }
  grads[0] = lc__retained(ga);
  d_end(s);
  return 1;
}

/* PyTorch's linalg_eig_backward for symmetric A: with E[i][j] = L_j - L_i
 * (1 on the diagonal) and X = V^T gV,
 *   gA = V ((X - X^T) / 2 / E + diag(gL)) V^T;   L alone: V diag(gL) V^T */
static int rule_eigh(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  int64_t dim = n->p.la.n;
  lc_tensor *a = n->inputs[0];
  d_scope sc = {ctx, g->dtype, 0, {NULL}}, *s = &sc;
  lc_tensor *l = part_k(s, n->out, 0, dim, 0), *v = part_k(s, n->out, dim, dim, dim);
  lc_tensor *gl = grad_part(s, g, 0, dim, 0), *gv = grad_part(s, g, dim, dim, dim), *ga;
  if (!gv) {
    if (!gl) {
      d_end(s);
      return zero_grad(ctx, a, &grads[0]);
    }
    ga = mm(s, d_mul(s, v, unsq(s, gl, -2)), mT(s, v));
  } else {
    lc_tensor *x = mm(s, mT(s, v), gv);
    x = scaled(s, d_sub(s, x, mT(s, x)), 0.5);
    lc_tensor *e = d_add(s, d_sub(s, unsq(s, l, -2), unsq(s, l, -1)), eye_of(s, dim, g->dtype));
    lc_tensor *inner = d_div(s, x, e);
    if (gl) inner = d_add(s, inner, diag_embed(s, gl));
    ga = mm(s, v, mm(s, inner, mT(s, v)));
  }
  grads[0] = lc__retained(ga);
  d_end(s);
  return 1;
}

/* PyTorch's pinv_backward: the gradient for A (..., m, n) of pinv(A) =
 * pinvA reached by grad, batch dims as the operands broadcast them. */
static lc_tensor *pinv_grad(d_scope *s, lc_tensor *grad, lc_tensor *pinva, lc_tensor *a) {
  int64_t m = a->shape[a->ndim - 2], n = a->shape[a->ndim - 1];
  lc_tensor *pinvah = mT(s, pinva), *gradh = mT(s, grad);
  if (m <= n) {
    lc_tensor *k = mm(s, gradh, pinva), *kp = mm(s, k, pinvah);
    lc_tensor *t1 = d_sub(s, kp, mT(s, mm(s, pinva, k)));
    lc_tensor *t2 = mm(s, mm(s, a, pinva), kp);
    lc_tensor *t3 = mm(s, mm(s, pinvah, pinva), d_sub(s, gradh, mm(s, k, a)));
    return d_add(s, d_sub(s, t1, t2), t3);
  }
  lc_tensor *k = mm(s, pinva, gradh), *pk = mm(s, pinvah, k);
  lc_tensor *t1 = d_sub(s, mm(s, mm(s, d_sub(s, gradh, mm(s, a, k)), pinva), pinvah),
                        mT(s, mm(s, k, pinva)));
  return d_sub(s, d_add(s, t1, pk), mm(s, mm(s, pk, pinva), a));
}

static int rule_pinv(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  d_scope sc = {ctx, g->dtype, 0, {NULL}}, *s = &sc;
  grads[0] = lc__retained(pinv_grad(s, g, n->out, n->inputs[0]));
  d_end(s);
  return 1;
}

/* The solution's gradient as that of pinv(A) B (PyTorch's, which avoids
 * gelsy's choices): gA = pinv_backward(gX B^T), gB = pinv(A)^T gX. */
static int rule_lstsq(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  lc_tensor *a = n->inputs[0], *b = n->inputs[1];
  int vec = n->p.la.mode;
  d_scope sc = {ctx, g->dtype, 0, {NULL}}, *s = &sc;
  lc_tensor *gx = vec ? unsq(s, g, -1) : g, *bm = vec ? unsq(s, b, -1) : b;
  lc_tensor *pinva = d_keep(s, lc_linalg_pinv(ctx, a, NULL, NULL, 0));
  if (a->requires_grad) {
    lc_tensor *ga = pinva ? pinv_grad(s, mm(s, gx, mT(s, bm)), pinva, a) : NULL;
    grads[0] = ga ? lc__sum_to(ctx, ga, a->ndim, a->shape) : NULL;
  }
  if (b->requires_grad) {
    lc_tensor *gb = mm(s, mT(s, pinva), gx);
    if (vec && gb) gb = d_keep(s, lc_squeeze_dim(ctx, gb, gb->ndim - 1));
    grads[1] = gb ? lc__sum_to(ctx, gb, b->ndim, b->shape) : NULL;
  }
  d_end(s);
  return 1;
}

/* PyTorch's linalg_solve_triangular_backward: gB solves A^T gB = g (left)
 * or gB A^T = g with the other triangle; gA = -gB X^T (left) or -X^T gB,
 * kept to A's triangle (without its diagonal when unitriangular); both
 * summed over the batch dims their input was broadcast along. */
static int rule_solve_triangular(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  lc_tensor *a = n->inputs[0], *b = n->inputs[1], *x = n->out;
  int mode = n->p.la.mode, upper = mode & 1, left = (mode >> 1) & 1, unit = (mode >> 2) & 1;
  d_scope sc = {ctx, g->dtype, 0, {NULL}}, *s = &sc;
  lc_tensor *at = mT(s, a);
  lc_tensor *gb = at ? d_keep(s, lc_linalg_solve_triangular(ctx, at, g, !upper, left, unit)) : NULL;
  if (b->requires_grad) grads[1] = gb ? lc__sum_to(ctx, gb, b->ndim, b->shape) : NULL;
  if (a->requires_grad) {
    lc_tensor *ga = d_un(s, lc_neg, left ? mm(s, gb, mT(s, x)) : mm(s, mT(s, x), gb));
    ga = upper ? band(s, ga, unit, 1) : band(s, ga, -unit, 0);
    grads[0] = ga ? lc__sum_to(ctx, ga, a->ndim, a->shape) : NULL;
  }
  d_end(s);
  return 1;
}

/* A = P L U's gradient from LU's (PyTorch's linalg_lu_backward, derived
 * for the packed LU): with k = min(m, n), L1 and U1 the leading k x k
 * blocks, gL = tril(g) and gU = triu(g) split as L and U are,
 *   X = tril(L1^T gL1, -1) + triu(gU1 U1^T), less triu(L2^T gL2) when tall,
 *       less tril(gU2 U2^T, -1) when wide;
 *   gA = P [L1^-T X U1^-T; gL2 U1^-T] (tall) or P [L1^-T X U1^-T, L1^-T gU2]
 * (wide), each inverse a recorded solve_triangular (of LU's own blocks: L1's
 * unit diagonal is not read). */
static int rule_lu_factor(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  int64_t m = n->p.la.m, cols = n->p.la.n, k = n->p.la.k;
  lc_tensor *lu = n->out;
  d_scope sc = {ctx, g->dtype, 0, {NULL}}, *s = &sc;
  int r = lu->ndim - 2, c = lu->ndim - 1;
  lc_tensor *lu1 = narrow_kept(s, narrow_kept(s, lu, r, 0, k), c, 0, k);
  lc_tensor *g1 = narrow_kept(s, narrow_kept(s, g, r, 0, k), c, 0, k);
  lc_tensor *l1 = d_add(s, band(s, lu1, -1, 0), eye_of(s, k, g->dtype)), *u1 = band(s, lu1, 0, 1);
  lc_tensor *lower = mm(s, mT(s, l1), band(s, g1, -1, 0)), *upper = mm(s, band(s, g1, 0, 1), mT(s, u1));
  lc_tensor *g2 = NULL;
  if (m > cols) {
    lc_tensor *l2 = narrow_kept(s, lu, r, k, m - k);
    g2 = narrow_kept(s, g, r, k, m - k);
    upper = d_sub(s, upper, mm(s, mT(s, l2), g2));
  } else if (m < cols) {
    lc_tensor *u2 = narrow_kept(s, lu, c, k, cols - k);
    g2 = narrow_kept(s, g, c, k, cols - k);
    lower = d_sub(s, lower, mm(s, g2, mT(s, u2)));
  }
  lc_tensor *x = d_add(s, band(s, lower, -1, 0), band(s, upper, 0, 1)), *lu1t = mT(s, lu1);
  /* (a function, not a macro: an argument that is itself a solve must be
   * computed once, or an out-of-memory second try would pass NULL on) */
  lc_tensor *gb = trsm_kept(s, lu1t, trsm_kept(s, lu1t, x, 1, 1, 1), 0, 0, 0);
  if (m != cols) {
    lc_tensor *pieces[2] = {gb, m > cols ? trsm_kept(s, lu1t, g2, 0, 0, 0)
                                         : trsm_kept(s, lu1t, g2, 1, 1, 1)};
    gb = pieces[0] && pieces[1] ? d_keep(s, lc_cat(ctx, 2, pieces, m > cols ? r : c)) : NULL;
  }
  lc_tensor *p = n->saved[0] ? d_keep(s, perm_matrix(ctx, n->saved[0], m, g->dtype)) : NULL;
  grads[0] = lc__retained(mm(s, p, gb));
  d_end(s);
  return 1;
}

/* gB = lu_solve(LU, pivots, g) with the other adjoint; gA of A = P L U by
 * the four cases (A X = B: -gB X^T; A^T X = B: -X gB^T; X A = B: -X^T gB;
 * X A^T = B: -gB^T X), then through A = P L U to the packed LU:
 * gLU = tril(P^T gA U^T, -1) + triu(L^T P^T gA); both summed over the batch
 * dims their input was broadcast along. */
static int rule_lu_solve(lc_ctx *ctx, lc_node *n, lc_tensor *g, lc_tensor **grads) {
  lc_tensor *lu = n->inputs[0], *piv = n->inputs[1], *b = n->inputs[2], *x = n->out;
  int left = n->p.la.mode & 1, adjoint = (n->p.la.mode >> 1) & 1;
  int64_t dim = n->p.la.n;
  d_scope sc = {ctx, g->dtype, 0, {NULL}}, *s = &sc;
  lc_tensor *gb = d_keep(s, lc_linalg_lu_solve(ctx, lu, piv, g, left, !adjoint));
  if (b->requires_grad) grads[2] = gb ? lc__sum_to(ctx, gb, b->ndim, b->shape) : NULL;
  if (lu->requires_grad) {
    lc_tensor *ga = left ? (adjoint ? mm(s, x, mT(s, gb)) : mm(s, gb, mT(s, x)))
                         : (adjoint ? mm(s, mT(s, gb), x) : mm(s, mT(s, x), gb));
    lc_tensor *p = d_keep(s, perm_matrix(ctx, piv, dim, g->dtype));
    lc_tensor *pga = d_un(s, lc_neg, mm(s, mT(s, p), ga));
    lc_tensor *l = d_add(s, band(s, lu, -1, 0), eye_of(s, dim, g->dtype)), *u = band(s, lu, 0, 1);
    lc_tensor *glu = d_add(s, band(s, mm(s, pga, mT(s, u)), -1, 0), band(s, mm(s, mT(s, l), pga), 0, 1));
    grads[0] = glu ? lc__sum_to(ctx, glu, lu->ndim, lu->shape) : NULL;
  }
  d_end(s);
  return 1;
}

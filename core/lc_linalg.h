/* lc_linalg.h: torch.linalg's decompositions and solvers (included by lc.h).
 *
 * Each works on a matrix (m, n) or a batch of them (..., m, n), float32 or
 * float64 (an integer dtype is an error), on the LAPACK that OpenBLAS ships
 * (lapack.c calls it; results have the input's dtype and are computed in
 * it, as PyTorch computes them). Batch dims broadcast where two operands
 * meet (solve, lstsq). Failures say what and where: a shape that does not
 * fit names the shapes; a singular matrix, one that is not positive-definite,
 * or an SVD that did not converge names the matrix of the batch, 1-based:
 * "batch element 2 of A {3, 4, 4} is singular".
 *
 * Gradients are PyTorch 1.13's (derivatives.yaml), written as rules made of
 * the core's ops (lc_matmul, lc_linalg_inv, ...), so that a backward with
 * LC_CREATE_GRAPH can be differentiated again. Several results (qr, svd,
 * eigh) are views into one tensor that the op's node made, so each of them
 * carries its part of the gradient back to the same node; a part that is
 * all zero counts as not used (PyTorch's undefined gradient: S alone of an
 * SVD has a gradient even for repeated singular values).
 *
 * Example: x solving A x = b, and the gradient of sum(x) with respect to A.
 *     lc_tensor *x = lc_linalg_solve(ctx, A, b);   // A (3, 3), b (3): x (3)
 *     if (!x) fprintf(stderr, "%s\n", lc_ctx_error(ctx));
 *     lc_backward(ctx, x, NULL, 0);                  // A->grad = -A^-T 1 x^T
 */
#ifndef LC_LINALG_H
#define LC_LINALG_H

#include "lc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A^-1 of A (..., n, n); a singular matrix is an error. */
lc_tensor *lc_linalg_inv(lc_ctx *ctx, lc_tensor *a);
/* X with A X = B: A (..., n, n), B (..., n, k), or B (n) or (..., n) (a
 * vector: B of A's shape without its last dim, as PyTorch) giving X of B's
 * shape. Batch dims broadcast; A and B share a dtype. */
lc_tensor *lc_linalg_solve(lc_ctx *ctx, lc_tensor *a, lc_tensor *b);
/* det(A) (...) of A (..., n, n); 0 for a singular matrix. */
lc_tensor *lc_linalg_det(lc_ctx *ctx, lc_tensor *a);
/* sign(det A) and log|det A| (...): sign 0 and -inf for a singular matrix.
 * Only logabsdet takes part in autograd (sign is piecewise constant). */
lc_status lc_linalg_slogdet(lc_ctx *ctx, lc_tensor *a, lc_tensor **sign, lc_tensor **logabsdet);
/* A^-1 as lc_linalg_inv, and info (...) int32: 0, or the 1-based index of
 * the first zero pivot of the LU of a singular matrix, whose inverse then
 * is NaN (torch.linalg.inv_ex's is undefined there). With
 * check_errors a singular matrix is an error, as in lc_linalg_inv. The
 * gradient is inv's. */
lc_status lc_linalg_inv_ex(lc_ctx *ctx, lc_tensor *a, int check_errors, lc_tensor **inv, lc_tensor **info);
/* L (lower, with A = L L^T) or, when upper, L^T; reads A's lower triangle
 * only. A matrix that is not positive-definite is an error. */
lc_tensor *lc_linalg_cholesky(lc_ctx *ctx, lc_tensor *a, int upper);
/* L as lc_linalg_cholesky, and info (...) int32: 0, or the order of the
 * leading minor that is not positive-definite, L then holding what potrf
 * left (torch.linalg.cholesky_ex). With check_errors that is an error. */
lc_status lc_linalg_cholesky_ex(lc_ctx *ctx, lc_tensor *a, int upper, int check_errors, lc_tensor **l,
                                lc_tensor **info);
/* X with A X = B (left) or X A = B (not left) for a triangular A (..., n, n):
 * only its upper (upper) or lower triangle is read, and with unitriangular
 * not its diagonal either (taken as ones). B (..., n, k) (left) or (..., k,
 * n); batch dims broadcast. No check for a zero on the diagonal (BLAS trsm,
 * as PyTorch: inf and NaN then). */
lc_tensor *lc_linalg_solve_triangular(lc_ctx *ctx, lc_tensor *a, lc_tensor *b, int upper, int left,
                                      int unitriangular);

typedef enum lc_qr_mode { LC_QR_REDUCED = 0, LC_QR_COMPLETE, LC_QR_R } lc_qr_mode;
/* A (..., m, n) = Q R with k = min(m, n): reduced Q (..., m, k), R (..., k, n);
 * complete Q (..., m, m), R (..., m, n); r: R (..., k, n) and an empty Q (0),
 * whose gradient PyTorch refuses, as it refuses complete's when m > n. */
lc_status lc_linalg_qr(lc_ctx *ctx, lc_tensor *a, lc_qr_mode mode, lc_tensor **q, lc_tensor **r);
/* A (..., m, n) = U diag(S) Vh with S (..., k) descending; U (..., m, k) and
 * Vh (..., k, n), or with full_matrices U (..., m, m) and Vh (..., n, n). */
lc_status lc_linalg_svd(lc_ctx *ctx, lc_tensor *a, int full_matrices, lc_tensor **u,
                        lc_tensor **s, lc_tensor **vh);
/* The eigenvalues L (..., n), ascending, and eigenvectors V (..., n, n) (as
 * columns) of the symmetric A, read from its lower triangle (upper: from
 * its upper one). */
lc_status lc_linalg_eigh(lc_ctx *ctx, lc_tensor *a, int upper, lc_tensor **l, lc_tensor **v);
/* The pseudoinverse (..., n, m) of A (..., m, n): singular values (|eigen
 * values| when hermitian, from A's lower triangle) at most max(atol, rtol *
 * the largest) are dropped. NULL atol is 0; NULL rtol is max(m, n) * eps of
 * the dtype, or 0 when atol > 0 (PyTorch's defaults). */
lc_tensor *lc_linalg_pinv(lc_ctx *ctx, lc_tensor *a, const double *atol, const double *rtol,
                          int hermitian);

typedef enum lc_lstsq_driver {
  LC_LSTSQ_GELSY = 0, LC_LSTSQ_GELS, LC_LSTSQ_GELSD, LC_LSTSQ_GELSS
} lc_lstsq_driver;
/* The least-squares solution X of A X = B, A (..., m, n), B (..., m, k) or
 * (..., m) (one dim fewer than A: a batch of vectors); batch dims broadcast.
 * PyTorch's four results: X (..., n, k) or (..., n); residuals (..., k), the
 * squared norms of A X - B, when m > n and the driver is not gelsy (for
 * gelsd and gelss only when every matrix has rank n), else empty (0); rank
 * (...) int64, empty for gels; the singular values (..., min(m, n)) for
 * gelsd and gelss, else empty. NULL rcond: eps * max(m, n). Only X takes
 * part in autograd. */
lc_status lc_linalg_lstsq(lc_ctx *ctx, lc_tensor *a, lc_tensor *b, const double *rcond,
                          lc_lstsq_driver driver, lc_tensor **x, lc_tensor **residuals,
                          lc_tensor **rank, lc_tensor **sv);

/* The LU factorisation with partial pivoting A = P L U of A (..., m, n),
 * k = min(m, n), as LAPACK's getrf packs it: LU (..., m, n) holds L's
 * strict lower part (its diagonal is ones) and U, and pivots (..., k) int32
 * the rows swapped, 1-based (LAPACK's, and PyTorch's too): row i was
 * swapped with row pivots[i], for i = 1..k in order. info (...) int32 is
 * 0, or the 1-based index of the first zero on U's diagonal; info may be
 * NULL, and then a zero there is an error (torch.linalg.lu_factor), else
 * not (lu_factor_ex). LU carries the gradient (PyTorch's, through P L U). */
lc_status lc_linalg_lu_factor(lc_ctx *ctx, lc_tensor *a, lc_tensor **lu, lc_tensor **pivots,
                              lc_tensor **info);
/* X solving A X = B with A = P L U given as lu_factor's LU (..., n, n) and
 * pivots (..., n) (int32, each in 1..n), B (..., n, k); adjoint: A^T X = B;
 * a matrix with a zero on U's diagonal gives NaN;
 * not left: X A = B (or X A^T = B), B (..., k, n). Batch dims of LU and
 * pivots agree and broadcast with B's. Gradients flow to LU and B (getrs). */
lc_tensor *lc_linalg_lu_solve(lc_ctx *ctx, lc_tensor *lu, lc_tensor *pivots, lc_tensor *b, int left,
                              int adjoint);

#ifdef __cplusplus
}
#endif

#endif

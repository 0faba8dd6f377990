/***
Part of lucid.linalg; help() and `make doc` read these comments.
@module lucid.linalg
*/

/* lucid_linalg.c: lucid.linalg, torch.linalg's decompositions and solvers
 * (core/lapack.c), as Lua functions of the table lucid.linalg (the norms,
 * written in Lua, join them from lucid/norms.lua).
 *
 * PyTorch 1.13's names, options and results: a Python tuple returned is
 * several Lua results (sign, logabsdet = slogdet(A); U, S, Vh = svd(A);
 * lstsq's named tuple is its four fields in order). Every function takes a
 * matrix (m, n) or a batch of them (..., m, n), float32 or float64. */
#include <string.h>

#include "binding.h"

static lc_tensor *arg_a(lua_State *L) { return lt_tensor_arg(L, 1, lt_fn(L)->fname); }

/* Boxes for n results, pushed before the call that fills them: once the
 * call succeeded, results[i] goes into the i-th box. */
static int push_results(lua_State *L, lc_ctx *ctx, lc_tensor ***slots, lc_tensor **results, int n) {
  for (int i = 0; i < n; i++) *slots[i] = results[i];
  lt_report_bytes(L, ctx);
  return n;
}

/***
The inverse A^-1 of a square matrix (or of each of a batch), on LAPACK's LU
(getrf, getrs). A singular matrix is an error that names it:
"lucid.linalg.inv: batch element 2 of A {3, 4, 4} is singular". Gradient:
-A^-T g A^-T.
@function inv
@usage lucid.linalg.inv(A)
@within Linear algebra
*/
static int l_inv(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = arg_a(L);
  const char *fname = lt_args(L, 2, -1, NULL);
  return lt_push(L, ctx, lc_linalg_inv(ctx, a), fname);
}

static const lt_arg EX_ARGS[] = {{"check_errors", LT_K_BOOL, LT_KW, 0, NULL}, {NULL}};
/***
Two results: the inverse, as inv, and info, an int32 tensor of the batch's
shape: 0, or for a singular matrix the 1-based index of the first zero pivot
of its LU, whose inverse is then NaN instead of an error. With
check_errors = true a singular matrix is an error, as in inv. The gradient
is inv's.
@function inv_ex
@usage local Ainv, info = lucid.linalg.inv_ex(A [, {check_errors = false}])
@within Linear algebra
*/
static int l_inv_ex(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = arg_a(L);
  lt_val v[1];
  const char *fname = lt_args(L, 2, -1, v);
  lc_tensor **slots[2] = {lt_newbox(L), lt_newbox(L)};
  lc_tensor *r[2] = {NULL, NULL};
  lt_do(L, ctx, lc_linalg_inv_ex(ctx, a, v[0].b, &r[0], &r[1]), fname);
  return push_results(L, ctx, slots, r, 2);
}

/* X A = B: the transposed system A^T X^T = B^T, transposed back (recorded). */
static lc_tensor *solve_right(lc_ctx *ctx, lc_tensor *a, lc_tensor *b) {
  lc_tensor *at = lc_transpose(ctx, a, a->ndim - 2, a->ndim - 1);
  lc_tensor *bt = at ? lc_transpose(ctx, b, b->ndim - 2, b->ndim - 1) : NULL;
  lc_tensor *xt = bt ? lc_linalg_solve(ctx, at, bt) : NULL;
  lc_tensor *x = xt ? lc_transpose(ctx, xt, xt->ndim - 2, xt->ndim - 1) : NULL;
  lc_tensor_release(at);
  lc_tensor_release(bt);
  lc_tensor_release(xt);
  return x;
}

static const lt_arg SOLVE_ARGS[] = {
  {"B", LT_K_TENSOR, LT_REQ, 0, NULL}, {"left", LT_K_BOOL, LT_KW, 1, NULL}, {NULL}};
/***
X solving A X = B for a square A (..., n, n): B (..., n, k), or a vector (n),
or a batch of vectors (B of A's shape without its last dim), giving X of
B's shape; batch dims broadcast (PyTorch's rules). With left = false, X A =
B. A singular A is an error naming the batch element; A and B share a
dtype. Gradients flow to A and B (a second derivative too).
@function solve
@usage lucid.linalg.solve(A, B [, {left = true}])
@within Linear algebra
*/
static int l_solve(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = arg_a(L);
  lt_val v[2];
  const char *fname = lt_args(L, 2, -1, v);
  lc_tensor *b = v[0].t;
  if (v[1].b) return lt_push(L, ctx, lc_linalg_solve(ctx, a, b), fname);
  if (b->ndim < 2 || (b->ndim == a->ndim - 1 && memcmp(b->shape, a->shape, sizeof(int64_t) * (size_t)b->ndim) == 0))
    return lt_error(L, "%s: left = false takes B as matrices (..., k, n), not vectors", fname);
  if (a->ndim < 2) return lt_push(L, ctx, lc_linalg_solve(ctx, a, b), fname);  /* its error */
  return lt_push(L, ctx, solve_right(ctx, a, b), fname);
}

/***
The determinant of a square matrix, or of each of a batch (a tensor of the
batch's shape), from LAPACK's LU; 0 for a singular matrix. Its gradient is
g det(A) A^-T, as PyTorch 1.13 computes it: 0 where det is exactly 0, and,
when differentiated again (create_graph), the cofactors from the SVD where
|det| < 100 eps.
@function det
@usage lucid.linalg.det(A)
@within Linear algebra
*/
static int l_det(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = arg_a(L);
  const char *fname = lt_args(L, 2, -1, NULL);
  return lt_push(L, ctx, lc_linalg_det(ctx, a), fname);
}

/***
Two results: the sign of the determinant (1, -1, or 0 for a singular
matrix) and log|det A| (-inf for a singular one), stable where det itself
under- or overflows. The sign has no gradient; logabsdet's is g A^-T.
@function slogdet
@usage local sign, logabsdet = lucid.linalg.slogdet(A)
@within Linear algebra
*/
static int l_slogdet(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = arg_a(L);
  const char *fname = lt_args(L, 2, -1, NULL);
  lc_tensor **slots[2] = {lt_newbox(L), lt_newbox(L)};
  lc_tensor *r[2] = {NULL, NULL};
  lt_do(L, ctx, lc_linalg_slogdet(ctx, a, &r[0], &r[1]), fname);
  return push_results(L, ctx, slots, r, 2);
}

static const lt_arg CHOLESKY_ARGS[] = {{"upper", LT_K_BOOL, LT_KW, 0, NULL}, {NULL}};
/***
The Cholesky factor L (lower triangular, A = L L^T) of a symmetric
positive-definite matrix, from its lower triangle only (potrf); with upper =
true, L^T. A matrix that is not positive-definite is an error naming the
batch element and the order of the leading minor that fails.
@function cholesky
@usage lucid.linalg.cholesky(A [, {upper = false}])
@within Linear algebra
*/
static int l_cholesky(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = arg_a(L);
  lt_val v[1];
  const char *fname = lt_args(L, 2, -1, v);
  return lt_push(L, ctx, lc_linalg_cholesky(ctx, a, v[0].b), fname);
}

static const lt_arg CHOLESKY_EX_ARGS[] = {
  {"upper", LT_K_BOOL, LT_KW, 0, NULL}, {"check_errors", LT_K_BOOL, LT_KW, 0, NULL}, {NULL}};
/***
Two results: the Cholesky factor, as cholesky, and info, an int32 tensor of
the batch's shape: 0, or for a matrix that is not positive-definite the
order of the leading minor that fails (the factor then holds what potrf
left, not an error). With check_errors = true that is an error, as in
cholesky. The gradient is cholesky's.
@function cholesky_ex
@usage local L, info = lucid.linalg.cholesky_ex(A [, {upper = false, check_errors = false}])
@within Linear algebra
*/
static int l_cholesky_ex(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = arg_a(L);
  lt_val v[2];
  const char *fname = lt_args(L, 2, -1, v);
  lc_tensor **slots[2] = {lt_newbox(L), lt_newbox(L)};
  lc_tensor *r[2] = {NULL, NULL};
  lt_do(L, ctx, lc_linalg_cholesky_ex(ctx, a, v[0].b, v[1].b, &r[0], &r[1]), fname);
  return push_results(L, ctx, slots, r, 2);
}

static const lt_arg SOLVE_TRIANGULAR_ARGS[] = {
  {"B", LT_K_TENSOR, LT_REQ, 0, NULL}, {"upper", LT_K_BOOL, LT_REQ | LT_KW, 0, NULL},
  {"left", LT_K_BOOL, LT_KW, 1, NULL}, {"unitriangular", LT_K_BOOL, LT_KW, 0, NULL}, {NULL}};
/***
X solving A X = B (or X A = B with left = false) for a triangular A (...,
n, n), by BLAS's trsm: only A's upper triangle (upper = true, which must be
given, as in PyTorch) or lower one is read, and with unitriangular = true
not its diagonal either (taken as ones). B (..., n, k), or (..., k, n) with
left = false; batch dims broadcast. A zero on the diagonal is no error
(inf and NaN, as PyTorch). Gradients flow to A (its triangle only) and B,
a second derivative too.
@function solve_triangular
@usage lucid.linalg.solve_triangular(A, B, {upper = true [, left = true, unitriangular = false]})
@within Linear algebra
*/
static int l_solve_triangular(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = arg_a(L);
  lt_val v[4];
  const char *fname = lt_args(L, 2, -1, v);
  return lt_push(L, ctx, lc_linalg_solve_triangular(ctx, a, v[0].t, v[1].b, v[2].b, v[3].b), fname);
}

/* PyTorch's CPU refuses pivot = false; so does this library. */
static int check_pivot(lua_State *L, const lt_val *v, const char *fname) {
  if (!v->b) return lt_error(L, "%s: LU without pivoting (pivot = false) is not implemented, as in PyTorch on "
                             "the CPU", fname);
  return 0;
}

static const lt_arg LU_FACTOR_ARGS[] = {{"pivot", LT_K_BOOL, LT_KW, 1, NULL}, {NULL}};
/***
Two results, LU and pivots, the LU factorisation with partial pivoting A =
P L U of A (..., m, n) (getrf): LU (..., m, n) holds L's strict lower part
(L's diagonal is ones) and U; pivots (..., min(m, n)) int32 are 1-based, as
LAPACK's and PyTorch's are (row i was swapped with row pivots[i], in order),
so they pass unchanged between Lua and PyTorch. A zero on U's diagonal is an
error (lu_factor_ex and lu take it). LU's gradient is PyTorch's.
@function lu_factor
@usage local LU, pivots = lucid.linalg.lu_factor(A [, {pivot = true}])
@within Linear algebra
*/
static int l_lu_factor(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = arg_a(L);
  lt_val v[1];
  const char *fname = lt_args(L, 2, -1, v);
  check_pivot(L, &v[0], fname);
  lc_tensor **slots[2] = {lt_newbox(L), lt_newbox(L)};
  lc_tensor *r[2] = {NULL, NULL};
  lt_do(L, ctx, lc_linalg_lu_factor(ctx, a, &r[0], &r[1], NULL), fname);
  return push_results(L, ctx, slots, r, 2);
}

static const lt_arg LU_FACTOR_EX_ARGS[] = {
  {"pivot", LT_K_BOOL, LT_KW, 1, NULL}, {"check_errors", LT_K_BOOL, LT_KW, 0, NULL}, {NULL}};
/***
Three results: LU and pivots as lu_factor, and info, an int32 tensor of
the batch's shape: 0, or the 1-based index of the first zero on U's
diagonal, which is then no error (with check_errors = true it is).
@function lu_factor_ex
@usage local LU, pivots, info = lucid.linalg.lu_factor_ex(A [, {pivot = true, check_errors = false}])
@within Linear algebra
*/
static int l_lu_factor_ex(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = arg_a(L);
  lt_val v[2];
  const char *fname = lt_args(L, 2, -1, v);
  check_pivot(L, &v[0], fname);
  lc_tensor **slots[3] = {lt_newbox(L), lt_newbox(L), lt_newbox(L)};
  lc_tensor *r[3] = {NULL, NULL, NULL};
  lt_do(L, ctx, lc_linalg_lu_factor(ctx, a, &r[0], &r[1], v[1].b ? NULL : &r[2]), fname);
  if (!r[2]) {  /* checked: every info is 0 */
    r[2] = lc_zeros(ctx, LC_INT32, a->ndim - 2, a->shape);
    if (!r[2]) {
      lc_tensor_release(r[0]);
      lc_tensor_release(r[1]);
      return lt_fail(L, ctx, fname);
    }
  }
  return push_results(L, ctx, slots, r, 3);
}

static const lt_arg LU_SOLVE_ARGS[] = {
  {"pivots", LT_K_TENSOR, LT_REQ, 0, NULL}, {"B", LT_K_TENSOR, LT_REQ, 0, NULL},
  {"left", LT_K_BOOL, LT_KW, 1, NULL}, {"adjoint", LT_K_BOOL, LT_KW, 0, NULL}, {NULL}};
/***
X solving A X = B from lu_factor's LU (..., n, n) and pivots (..., n) (getrs):
B (..., n, k), or (..., k, n) with left = false (X A = B); adjoint = true
solves with A^T. Batch dims of LU and B broadcast (pivots have LU's). Pivots
out of 1..n are an error; a zero on U's diagonal gives NaN (PyTorch's values
there are undefined). Gradients flow to LU and B, a second derivative too.
@function lu_solve
@usage lucid.linalg.lu_solve(LU, pivots, B [, {left = true, adjoint = false}])
@within Linear algebra
*/
static int l_lu_solve(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *lu = lt_tensor_arg(L, 1, lt_fn(L)->fname);
  lt_val v[4];
  const char *fname = lt_args(L, 2, -1, v);
  return lt_push(L, ctx, lc_linalg_lu_solve(ctx, lu, v[0].t, v[1].t, v[2].b, v[3].b), fname);
}

static const lt_arg QR_ARGS[] = {{"mode", LT_K_STRING, 0, 0, NULL}, {NULL}};
/***
Two results, Q and R with A = Q R, k = min(m, n) (geqrf, orgqr). mode
"reduced" (the default): Q (..., m, k), R (..., k, n); "complete": Q (..., m,
m), R (..., m, n); "r": R only, and an empty Q. Q's columns are orthonormal
and R is upper triangular; signs follow LAPACK (R's diagonal may be
negative). Gradients as PyTorch: none with mode "r", nor with "complete" when
m > n.
@function qr
@usage local Q, R = lucid.linalg.qr(A [, mode = "reduced"])
@within Linear algebra
*/
static int l_qr(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = arg_a(L);
  lt_val v[1];
  const char *fname = lt_args(L, 2, -1, v);
  const char *m = v[0].s ? v[0].s : "reduced";
  lc_qr_mode mode = LC_QR_REDUCED;
  if (!strcmp(m, "complete")) mode = LC_QR_COMPLETE;
  else if (!strcmp(m, "r")) mode = LC_QR_R;
  else if (strcmp(m, "reduced") != 0)
    return lt_error(L, "%s: mode must be \"reduced\", \"complete\" or \"r\", got \"%s\"", fname, m);
  lc_tensor **slots[2] = {lt_newbox(L), lt_newbox(L)};
  lc_tensor *r[2] = {NULL, NULL};
  lt_do(L, ctx, lc_linalg_qr(ctx, a, mode, &r[0], &r[1]), fname);
  return push_results(L, ctx, slots, r, 2);
}

static const lt_arg SVD_ARGS[] = {{"full_matrices", LT_K_BOOL, 0, 1, NULL}, {NULL}};
/***
Three results, U, S and Vh with A = U diag(S) Vh (gesdd, as PyTorch on the
CPU): S (..., k) descending, k = min(m, n); with full_matrices (the default,
as PyTorch) U (..., m, m) and Vh (..., n, n), else U (..., m, k) and Vh (...,
k, n). Singular vectors are unique up to sign: compare through U diag(S) Vh.
The gradient is PyTorch's: S alone is differentiable everywhere; through U
or Vh it needs distinct singular values (and full rank when m ~= n).
@function svd
@usage local U, S, Vh = lucid.linalg.svd(A [, full_matrices = true])
@within Linear algebra
*/
static int l_svd(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = arg_a(L);
  lt_val v[1];
  const char *fname = lt_args(L, 2, -1, v);
  lc_tensor **slots[3] = {lt_newbox(L), lt_newbox(L), lt_newbox(L)};
  lc_tensor *r[3] = {NULL, NULL, NULL};
  lt_do(L, ctx, lc_linalg_svd(ctx, a, v[0].b, &r[0], &r[1], &r[2]), fname);
  return push_results(L, ctx, slots, r, 3);
}

static const lt_arg EIGH_ARGS[] = {{"UPLO", LT_K_STRING, 0, 0, NULL}, {NULL}};
/***
Two results for a symmetric matrix: its eigenvalues (..., n) in ascending
order and the eigenvectors (..., n, n) as columns (syevd), read from the
lower triangle (UPLO = "L", the default) or the upper one ("U"). Each
eigenvector is unique up to sign. The gradient is PyTorch's: through the
eigenvalues alone everywhere, through the eigenvectors for distinct
eigenvalues.
@function eigh
@usage local L, V = lucid.linalg.eigh(A [, UPLO = "L"])
@within Linear algebra
*/
static int l_eigh(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = arg_a(L);
  lt_val v[1];
  const char *fname = lt_args(L, 2, -1, v);
  const char *uplo = v[0].s ? v[0].s : "L";
  if (strcmp(uplo, "L") != 0 && strcmp(uplo, "U") != 0)
    return lt_error(L, "%s: UPLO must be \"L\" or \"U\", got \"%s\"", fname, uplo);
  lc_tensor **slots[2] = {lt_newbox(L), lt_newbox(L)};
  lc_tensor *r[2] = {NULL, NULL};
  lt_do(L, ctx, lc_linalg_eigh(ctx, a, uplo[0] == 'U', &r[0], &r[1]), fname);
  return push_results(L, ctx, slots, r, 2);
}

static const lt_arg PINV_ARGS[] = {
  {"atol", LT_K_NUMBER, LT_KW, 0, NULL}, {"rtol", LT_K_NUMBER, LT_KW, 0, NULL},
  {"hermitian", LT_K_BOOL, LT_KW, 0, NULL}, {NULL}};
/***
The Moore-Penrose pseudoinverse (..., n, m) of A (..., m, n), from the SVD
(or, with hermitian = true, from eigh of A's lower triangle): singular
values at most max(atol, rtol * the largest) count as 0. Without either
tolerance rtol is max(m, n) * eps of the dtype; with atol > 0 alone it is 0
(PyTorch's rules; tolerances are numbers here). Gradient: PyTorch's
pinv_backward.
@function pinv
@usage lucid.linalg.pinv(A [, {atol =, rtol =, hermitian = false}])
@within Linear algebra
*/
static int l_pinv(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = arg_a(L);
  lt_val v[3];
  const char *fname = lt_args(L, 2, -1, v);
  double atol = v[0].n, rtol = v[1].n;
  return lt_push(L, ctx, lc_linalg_pinv(ctx, a, v[0].idx ? &atol : NULL, v[1].idx ? &rtol : NULL, v[2].b),
                 fname);
}

static const lt_arg LSTSQ_ARGS[] = {
  {"B", LT_K_TENSOR, LT_REQ, 0, NULL}, {"rcond", LT_K_NUMBER, 0, 0, NULL},
  {"driver", LT_K_STRING, LT_KW, 0, NULL}, {NULL}};
/***
The least-squares solution of A X = B, A (..., m, n), B (..., m, k) or a
batch of vectors (..., m) (one dim fewer than A), batch dims broadcast.
Four results, PyTorch's named tuple in order: solution (..., n, k) (or (...,
n)); residuals, the squared norms of A X - B per column, when m > n and the
driver is not "gelsy" (for "gelsd" and "gelss" only when every matrix has
rank n), else empty; rank (int64, empty for "gels"); singular_values for
"gelsd" and "gelss", else empty. driver: "gelsy" (the default, any rank),
"gels" (full rank only), "gelsd", "gelss". rcond: singular values below rcond
* the largest count as 0 (default eps * max(m, n)). The solution's gradient is
PyTorch's (that of pinv(A) B); the other results have none.
@function lstsq
@usage local X, residuals, rank, singular_values = lucid.linalg.lstsq(A, B [, rcond] [, {driver = "gelsy"}])
@within Linear algebra
*/
static int l_lstsq(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *a = arg_a(L);
  lt_val v[3];
  const char *fname = lt_args(L, 2, -1, v);
  static const char *const names[] = {"gelsy", "gels", "gelsd", "gelss"};
  lc_lstsq_driver driver = LC_LSTSQ_GELSY;
  if (v[2].s) {
    int found = 0;
    for (int i = 0; i < 4; i++)
      if (!strcmp(v[2].s, names[i])) driver = (lc_lstsq_driver)i, found = 1;
    if (!found)
      return lt_error(L, "%s: driver must be \"gelsy\", \"gels\", \"gelsd\" or \"gelss\", got \"%s\"", fname,
                      v[2].s);
  }
  double rcond = v[1].n;
  lc_tensor **slots[4] = {lt_newbox(L), lt_newbox(L), lt_newbox(L), lt_newbox(L)};
  lc_tensor *r[4] = {NULL, NULL, NULL, NULL};
  lt_do(L, ctx, lc_linalg_lstsq(ctx, a, v[0].t, v[1].idx ? &rcond : NULL, driver, &r[0], &r[1], &r[2], &r[3]),
        fname);
  return push_results(L, ctx, slots, r, 4);
}

static const lt_reg linalg_fns[] = {
  {"inv", "lucid.linalg.inv", l_inv, NULL, LT_MODULE},
  {"solve", "lucid.linalg.solve", l_solve, SOLVE_ARGS, LT_MODULE},
  {"det", "lucid.linalg.det", l_det, NULL, LT_MODULE},
  {"slogdet", "lucid.linalg.slogdet", l_slogdet, NULL, LT_MODULE},
  {"cholesky", "lucid.linalg.cholesky", l_cholesky, CHOLESKY_ARGS, LT_MODULE},
  {"qr", "lucid.linalg.qr", l_qr, QR_ARGS, LT_MODULE},
  {"svd", "lucid.linalg.svd", l_svd, SVD_ARGS, LT_MODULE},
  {"eigh", "lucid.linalg.eigh", l_eigh, EIGH_ARGS, LT_MODULE},
  {"pinv", "lucid.linalg.pinv", l_pinv, PINV_ARGS, LT_MODULE},
  {"lstsq", "lucid.linalg.lstsq", l_lstsq, LSTSQ_ARGS, LT_MODULE},
  {"inv_ex", "lucid.linalg.inv_ex", l_inv_ex, EX_ARGS, LT_MODULE},
  {"cholesky_ex", "lucid.linalg.cholesky_ex", l_cholesky_ex, CHOLESKY_EX_ARGS, LT_MODULE},
  {"solve_triangular", "lucid.linalg.solve_triangular", l_solve_triangular, SOLVE_TRIANGULAR_ARGS, LT_MODULE},
  {"lu_factor", "lucid.linalg.lu_factor", l_lu_factor, LU_FACTOR_ARGS, LT_MODULE},
  {"lu_factor_ex", "lucid.linalg.lu_factor_ex", l_lu_factor_ex, LU_FACTOR_EX_ARGS, LT_MODULE},
  {"lu_solve", "lucid.linalg.lu_solve", l_lu_solve, LU_SOLVE_ARGS, LT_MODULE},
  {NULL, NULL, NULL, NULL, 0}};

void lt_register_linalg(lua_State *L, int state, int methods, int module) {
  lua_newtable(L);                              /* the table lucid.linalg */
  int linalg = lua_gettop(L);
  lt_lazy_options(L, linalg);                   /* linalg._options, on first use */
  lt_register(L, state, methods, linalg, linalg_fns);
  lua_setfield(L, module, "linalg");            /* module.linalg = the table */
}

/* lc_elementwise.h: the elementwise ops of the core (included by lc.h).
 *
 * Unary ops return a tensor of a's shape and dtype. Binary ops (and where)
 * broadcast like NumPy and compute in lc_result_type's dtype (PyTorch's
 * promotion). Each op records a node for autograd when an input requires
 * grad, with PyTorch's gradient, except where noted "no grad".
 *
 * Integer and bool tensors: the ops that keep integers (neg abs sign square
 * relu floor ceil round trunc clamp nan_to_num add sub mul maximum minimum
 * floor_divide remainder fmod heaviside) compute exactly, wrapping on
 * overflow; the bitwise ops take integers and bool only (a float input
 * fails); the others compute them in the context's default float dtype (exp
 * of an int64 tensor is float32, lc_div is true division). bool: add is or,
 * mul is and, sub and neg fail, bitwise_not is logical not. Masks
 * (comparisons, isnan, isinf, isfinite, isclose) are bool tensors, and
 * lc_where takes any nonzero value (NaN included) of its condition as
 * true.
 *
 * The _out forms (lc_relu_out, lc_sigmoid_out, ...: those of the ops a
 * built-in layer computes) write the op's result into out, a contiguous
 * tensor of x's shape and dtype (x a float tensor; out may be x itself),
 * recording nothing and allocating nothing: what Module:reuse_buffers
 * runs. Grad mode must be off, or no input require grad (LC_ESTATE). */
#ifndef LC_ELEMENTWISE_H
#define LC_ELEMENTWISE_H

#include "lc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- unary: (...) -> (...) -------------------------------------------- */
lc_tensor *lc_exp(lc_ctx *ctx, lc_tensor *a);
lc_tensor *lc_log1p(lc_ctx *ctx, lc_tensor *a);
lc_tensor *lc_expm1(lc_ctx *ctx, lc_tensor *a);
lc_status lc_expm1_out(lc_ctx *ctx, lc_tensor *out, lc_tensor *x);
lc_tensor *lc_sqrt(lc_ctx *ctx, lc_tensor *a);        /* gradient inf at 0, as PyTorch */
lc_tensor *lc_rsqrt(lc_ctx *ctx, lc_tensor *a);       /* 1 / sqrt(a) */
lc_tensor *lc_abs(lc_ctx *ctx, lc_tensor *a);         /* gradient 0 at 0 */
lc_tensor *lc_sign(lc_ctx *ctx, lc_tensor *a);        /* -1, 0, 1 (0 for NaN); zero gradient */
lc_tensor *lc_reciprocal(lc_ctx *ctx, lc_tensor *a);
lc_tensor *lc_square(lc_ctx *ctx, lc_tensor *a);
lc_tensor *lc_sin(lc_ctx *ctx, lc_tensor *a);
lc_tensor *lc_cos(lc_ctx *ctx, lc_tensor *a);
lc_tensor *lc_sigmoid(lc_ctx *ctx, lc_tensor *a);
lc_status lc_sigmoid_out(lc_ctx *ctx, lc_tensor *out, lc_tensor *x);
lc_tensor *lc_relu(lc_ctx *ctx, lc_tensor *a);        /* gradient 0 at 0 */
lc_status lc_relu_out(lc_ctx *ctx, lc_tensor *out, lc_tensor *x);
/* x * Phi(x) with the exact normal CDF (erf), or PyTorch's tanh
 * approximation when tanh_approx is nonzero. */
lc_tensor *lc_gelu(lc_ctx *ctx, lc_tensor *a, int tanh_approx);
lc_status lc_gelu_out(lc_ctx *ctx, lc_tensor *out, lc_tensor *x, int tanh_approx);
lc_tensor *lc_silu(lc_ctx *ctx, lc_tensor *a);        /* x * sigmoid(x) */
lc_status lc_silu_out(lc_ctx *ctx, lc_tensor *out, lc_tensor *x);
/* log(1 + exp(beta x)) / beta, and x itself where beta x > threshold
 * (PyTorch's defaults: beta 1, threshold 20). */
lc_tensor *lc_softplus(lc_ctx *ctx, lc_tensor *a, double beta, double threshold);
lc_status lc_softplus_out(lc_ctx *ctx, lc_tensor *out, lc_tensor *x, double beta, double threshold);
lc_tensor *lc_floor(lc_ctx *ctx, lc_tensor *a);       /* zero gradient */
lc_tensor *lc_ceil(lc_ctx *ctx, lc_tensor *a);        /* zero gradient */
lc_tensor *lc_round(lc_ctx *ctx, lc_tensor *a);       /* halves to even; zero gradient */
/* min(max(a, *min), *max); either bound may be NULL, not both (LC_EARG).
 * NaN stays NaN. The gradient passes where *min <= a <= *max; with
 * *min > *max every element is *max, as in PyTorch. */
lc_tensor *lc_clamp(lc_ctx *ctx, lc_tensor *a, const double *min, const double *max);
lc_status lc_clamp_out(lc_ctx *ctx, lc_tensor *out, lc_tensor *x, const double *min,
                       const double *max);
lc_tensor *lc_tan(lc_ctx *ctx, lc_tensor *a);
lc_tensor *lc_asin(lc_ctx *ctx, lc_tensor *a);
lc_tensor *lc_acos(lc_ctx *ctx, lc_tensor *a);
lc_tensor *lc_atan(lc_ctx *ctx, lc_tensor *a);
lc_tensor *lc_sinh(lc_ctx *ctx, lc_tensor *a);
lc_tensor *lc_cosh(lc_ctx *ctx, lc_tensor *a);
lc_tensor *lc_asinh(lc_ctx *ctx, lc_tensor *a);
lc_tensor *lc_acosh(lc_ctx *ctx, lc_tensor *a);
lc_tensor *lc_atanh(lc_ctx *ctx, lc_tensor *a);
lc_tensor *lc_erf(lc_ctx *ctx, lc_tensor *a);
lc_tensor *lc_erfc(lc_ctx *ctx, lc_tensor *a);
lc_tensor *lc_erfinv(lc_ctx *ctx, lc_tensor *a);      /* +-inf at +-1, NaN beyond */
lc_tensor *lc_lgamma(lc_ctx *ctx, lc_tensor *a);      /* log |gamma(a)| */
lc_tensor *lc_digamma(lc_ctx *ctx, lc_tensor *a);     /* -+inf at +-0, NaN at negative integers */
lc_tensor *lc_exp2(lc_ctx *ctx, lc_tensor *a);
lc_tensor *lc_log2(lc_ctx *ctx, lc_tensor *a);
lc_tensor *lc_log10(lc_ctx *ctx, lc_tensor *a);
lc_tensor *lc_trunc(lc_ctx *ctx, lc_tensor *a);       /* toward 0; zero gradient */
lc_tensor *lc_frac(lc_ctx *ctx, lc_tensor *a);        /* a - trunc(a), a's sign */
/* log(z / (1 - z)) of z = a clamped to [eps, 1 - eps]; eps < 0 (PyTorch's
 * None) clamps nothing. The gradient is 0 outside the bounds (NaN outside
 * [0, 1] without eps). */
lc_tensor *lc_logit(lc_ctx *ctx, lc_tensor *a, double eps);
/* NaN, inf and -inf replaced by *nan, *posinf, *neginf; NULL for PyTorch's
 * defaults: 0 and the largest finite values of a's dtype. Integer and bool
 * tensors are copied. The gradient passes where a is finite. */
lc_tensor *lc_nan_to_num(lc_ctx *ctx, lc_tensor *a, const double *nan, const double *posinf,
                         const double *neginf);
lc_tensor *lc_isnan(lc_ctx *ctx, lc_tensor *a);       /* mask; no grad */
lc_tensor *lc_isinf(lc_ctx *ctx, lc_tensor *a);       /* mask (+-inf); no grad */
lc_tensor *lc_isfinite(lc_ctx *ctx, lc_tensor *a);    /* mask (not NaN nor +-inf); no grad */
lc_tensor *lc_logical_not(lc_ctx *ctx, lc_tensor *a); /* a == 0, bool; no grad */
lc_tensor *lc_bitwise_not(lc_ctx *ctx, lc_tensor *a); /* ~a (bool: not); integers and bool */

/* ---- binary: (...a) op (...b) -> broadcast shape ---------------------- */
/* NaN if either is NaN. On ties the gradient is split half and half
 * between a and b (PyTorch 1.13's rule). */
lc_tensor *lc_maximum(lc_ctx *ctx, lc_tensor *a, lc_tensor *b);
lc_tensor *lc_minimum(lc_ctx *ctx, lc_tensor *a, lc_tensor *b);
lc_tensor *lc_atan2(lc_ctx *ctx, lc_tensor *a, lc_tensor *b);   /* angle of (x = b, y = a) */
/* a // b rounded toward -inf (no grad); the remainder a - b * floor(a / b),
 * with b's sign; fmod, a - b * trunc(a / b), with a's sign (C's %). An
 * integer b holding a zero fails (LC_EARG); a float one gives inf or NaN. */
lc_tensor *lc_floor_divide(lc_ctx *ctx, lc_tensor *a, lc_tensor *b);
lc_tensor *lc_remainder(lc_ctx *ctx, lc_tensor *a, lc_tensor *b);
lc_tensor *lc_fmod(lc_ctx *ctx, lc_tensor *a, lc_tensor *b);
lc_tensor *lc_hypot(lc_ctx *ctx, lc_tensor *a, lc_tensor *b);   /* sqrt(a^2 + b^2) */
/* |a| with b's sign (of -0.0 and NaN too); the gradient by b is 0, by a
 * copysign(a, b) / a (0 where a is 0) */
lc_tensor *lc_copysign(lc_ctx *ctx, lc_tensor *a, lc_tensor *b);
lc_tensor *lc_xlogy(lc_ctx *ctx, lc_tensor *a, lc_tensor *b);   /* a log(b), 0 at a = 0 */
lc_tensor *lc_logaddexp(lc_ctx *ctx, lc_tensor *a, lc_tensor *b);  /* log(e^a + e^b) */
/* b where a is 0, else 1 (a > 0) or 0; the inputs' dtype (two tensors must
 * have one, as in PyTorch); no grad */
lc_tensor *lc_heaviside(lc_ctx *ctx, lc_tensor *a, lc_tensor *b);
/* Bitwise ops of integer and bool tensors (a float one fails); no grad. */
lc_tensor *lc_bitwise_and(lc_ctx *ctx, lc_tensor *a, lc_tensor *b);
lc_tensor *lc_bitwise_or(lc_ctx *ctx, lc_tensor *a, lc_tensor *b);
lc_tensor *lc_bitwise_xor(lc_ctx *ctx, lc_tensor *a, lc_tensor *b);
/* Comparisons: masks, no grad. NaN compares unequal to everything. */
lc_tensor *lc_eq(lc_ctx *ctx, lc_tensor *a, lc_tensor *b);
lc_tensor *lc_ne(lc_ctx *ctx, lc_tensor *a, lc_tensor *b);
lc_tensor *lc_lt(lc_ctx *ctx, lc_tensor *a, lc_tensor *b);
lc_tensor *lc_le(lc_ctx *ctx, lc_tensor *a, lc_tensor *b);
lc_tensor *lc_gt(lc_ctx *ctx, lc_tensor *a, lc_tensor *b);
lc_tensor *lc_ge(lc_ctx *ctx, lc_tensor *a, lc_tensor *b);
/* |a - b| <= atol + rtol |b|, or a == b (infinities), or both NaN when
 * equal_nan: a mask, no grad. Two tensors must have one dtype and the
 * tolerances must be >= 0 (LC_EARG), as in PyTorch; integers compute in the
 * default float dtype unless both tolerances are 0 (then: a == b). */
lc_tensor *lc_isclose(lc_ctx *ctx, lc_tensor *a, lc_tensor *b, double rtol, double atol,
                      int equal_nan);
/* Logical ops on "nonzero" (NaN is true), any dtypes: bool results, no grad. */
lc_tensor *lc_logical_and(lc_ctx *ctx, lc_tensor *a, lc_tensor *b);
lc_tensor *lc_logical_or(lc_ctx *ctx, lc_tensor *a, lc_tensor *b);
lc_tensor *lc_logical_xor(lc_ctx *ctx, lc_tensor *a, lc_tensor *b);

/* cond (...c), a (...a), b (...b) -> the broadcast of all three: a where
 * cond is nonzero, else b. The dtype is a's and b's (promoted); cond's does
 * not matter. The gradient flows to a where cond is nonzero and to b
 * elsewhere; cond gets none. */
lc_tensor *lc_where(lc_ctx *ctx, lc_tensor *cond, lc_tensor *a, lc_tensor *b);

#ifdef __cplusplus
}
#endif
#endif

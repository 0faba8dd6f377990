/* simd_kernels.h: the float32 kernels of simd.c, written once over a small
 * set of operations and included once per instruction set: plain float,
 * AVX2 (8 lanes) and AVX-512 (16 lanes). The includer defines
 *   ATTR          the functions' target attribute (or nothing),
 *   V, U, M       a float, an unsigned 32-bit value (or vectors of them) and
 *                 a comparison's result,
 *   SUF           the suffix of the functions made here,
 *   K(c) KU(c)    a constant of each, broadcast,
 *   ADD SUB MUL DIV FMA(a, b, c) = a b + c and FMS(a, b, c) = a b - c,
 *                 each rounded once,
 *   MIN(k, x) MAX(k, x)  k < x ? k : x and k > x ? k : x (so a NaN x stays),
 *   AND OR XOR    on the bits, ABS, LT(a, b) and SEL(c, a, b) = c ? a : b,
 *   BITS(v) FROM_BITS(u) UADD USUB USHL(u, k) USHR(u, k)  on the bits,
 * and may define SEL_DIV(c, n, d, b) = c ? n / d : b (AVX-512's masked
 * division; SEL of DIV otherwise). The header undefines them all at its end,
 * so the next form defines its own (unless SIMD_KEEP_PARAMS is defined: the
 * plain form's second copy changes only a few).
 * Every form runs the same operations in the same order, each rounded once
 * (FMA is a fused multiply-add everywhere, never a multiply then an add), so
 * every form returns the same bits for every input.
 *
 * exp(t): t = n ln2 + r with |r| <= ln2/2 (n found by adding 1.5 2^23, which
 * leaves n in the low bits of the sum, no conversion to an integer that a
 * NaN would make undefined), exp(r) = 1 + r + r^2 Q(r) with Q a minimax
 * polynomial (0.05 ulp), then 2^n put into the exponent bits. */

#ifndef SEL_DIV
#define SEL_DIV(c, n, d, b) SEL(c, DIV(n, d), b)
#endif

#define FN_(name, suf) name##_##suf
#define FN2(name, suf) FN_(name, suf)
#define FN(name) FN2(name, SUF)

/* r + r^2 Q(r) ~ expm1(r) for |r| <= ln2/2 */
static inline ATTR V FN(expm1r)(V r) {
  V q = FMA(K(0x1.6a23f6p-10f), r, K(0x1.123a02p-7f));
  q = FMA(q, r, K(0x1.5558f2p-5f));
  q = FMA(q, r, K(0x1.555492p-3f));
  q = FMA(q, r, K(0x1.fffffcp-2f));
  return FMA(MUL(r, r), q, r);
}

/* t = n ln2 + r: n as *z's low bits, and r + lo (lo: t's low part, or 0) */
static inline ATTR V FN(reduce)(V t, V *z) {
  *z = FMA(t, K(0x1.715476p+0f), K(0x1.8p23f));
  V n = SUB(*z, K(0x1.8p23f));
  V r = FMA(n, K(-0x1.62e430p-1f), t);  /* exact: n ln2_hi has few bits */
  return FMA(n, K(0x1.05c610p-29f), r);
}

/* expm1(r) for t = n ln2 + r */
static inline ATTR V FN(expq)(V t, V *z) { return FN(expm1r)(FN(reduce)(t, z)); }

/* 2^n from expq's z, n in [-126, 127] */
#define POW2(z) FROM_BITS(USHL(UADD(BITS(z), KU(127)), 23))

/* TINY: a subnormal operand or result costs x86 a microcode assist (30
 * times the kernel's time) per vector, so inputs whose result is already
 * known (exp(tiny) = 1, tanh(tiny) = tiny, exp(-104) = 0) are kept away from
 * the arithmetic that would underflow.
 *
 * exp(x): clamped to [-104, 89] (past those exp rounds to 0 or overflows);
 * 2^n, n in [-150, 128], is applied as two powers 2^n1 2^n2 of the normal
 * range, the first product exact, so a normal result is rounded once. Below
 * -104 the second power is 0: the result is 0 without an underflow. */
static inline ATTR V FN(exp)(V x) {
  V t = MAX(K(-104.0f), MIN(K(89.0f), x));
  t = SEL(LT(ABS(x), K(0x1p-30f)), K(0.0f), t);  /* exp rounds to 1; see TINY */
  V z;
  V q = FN(expq)(t, &z);
  U m = UADD(USUB(BITS(z), KU(0x4b400000u)), KU(150));  /* n + 150 >= 0 */
  U m1 = USHR(m, 1);
  V s1 = FROM_BITS(USHL(UADD(m1, KU(52)), 23));          /* 2^(m1 - 75) */
  V s2 = FROM_BITS(USHL(UADD(USUB(m, m1), KU(52)), 23)); /* 2^(n - (m1 - 75)) */
  s2 = SEL(LT(K(-104.0f), x), s2, K(0.0f));  /* and NaN: NaN 0 is NaN */
  return MUL(FMA(q, s1, s1), s2);
}

/* exp and sigmoid for |x| <= 87, where every result and 2^n are normal:
 * the same bits as above with fewer operations (the vector loops take them
 * when a whole vector is in range). */
static inline ATTR V FN(exp_in)(V x) {
  V z;
  V q = FN(expq)(x, &z);
  V two_n = POW2(z);
  return FMA(q, two_n, two_n);
}

static inline ATTR V FN(sigmoid_in)(V x) {
  V e = FN(exp_in)(OR(ABS(x), K(-0.0f)));
  return DIV(SEL(LT(x, K(0.0f)), e, K(1.0f)), ADD(K(1.0f), e));
}

/* tanh(x), odd: -expm1(-2|x|) / (2 + expm1(-2|x|)), one formula over the
 * whole range (a polynomial below 0.56 as well would cost as much again:
 * every lane computes every branch). The exponent is never positive, so
 * 2 + expm1 lies in (1, 2], where its rounding weighs least on the
 * quotient, and expm1 = 2^n (q + 1) - 1 is one fused rounding of exact
 * parts (2^n - 1 is exact for n in [-27, 0]): 2 ulp at worst.
 * The exponent -2|x| = n ln2 + r is reduced as exp's is, but in units of
 * -1/2 (|x| + n ln2/2 = -r/2, the polynomial's coefficients scaled by powers
 * of -2: the same roundings, one multiplication fewer), and without ln2's
 * low part: its error, |n| 2^-29 with |n| <= 28, is scaled down by e^-2|x|.
 * tanh(x) rounds to x below 2^-12 (so |x| is clamped to 2^-13 from below,
 * TINY) and to 1 from 9.01 on (|x| clamped to 9.5; infinities give 1). The
 * sign is copied back, so -0 gives -0. */
static inline ATTR V FN(tanh)(V x) {
  V a = ABS(x);
  V h = MAX(K(0x1p-13f), MIN(K(9.5f), a));
  V z = FMA(h, K(-0x1.715476p+1f), K(0x1.8p23f));
  V r = FMA(SUB(z, K(0x1.8p23f)), K(0x1.62e430p-2f), h);  /* -r/2 */
  V q = FMA(K(-0x1.6a23f6p-5f), r, K(0x1.123a02p-3f));  /* expm1r's, scaled */
  q = FMA(q, r, K(-0x1.5558f2p-2f));
  q = FMA(q, r, K(0x1.555492p-1f));
  q = FMA(q, r, K(-0x1.fffffcp-1f));
  q = FMA(MUL(r, r), q, r);                                /* -expm1(r)/2 */
  V m2 = FROM_BITS(USHL(UADD(BITS(z), KU(384)), 23));     /* -2^(n+1) */
  V em = FMA(q, m2, FMA(m2, K(-0.5f), K(-1.0f)));          /* expm1(-2|x|) < 0 */
  V y = SEL_DIV(LT(K(0x1p-12f), a), em, SUB(K(-2.0f), em), a);  /* NaN: a */
  return OR(y, AND(x, K(-0.0f)));
}

/* sigmoid(x) = 1 / (1 + exp(-x)) for x >= 0, exp(x) / (1 + exp(x)) below,
 * so that exp never overflows and small results keep their accuracy. */
static inline ATTR V FN(sigmoid)(V x) {
  V e = FN(exp)(OR(ABS(x), K(-0.0f)));  /* exp(-|x|) */
  V d = ADD(K(1.0f), e);
  return DIV(SEL(LT(x, K(0.0f)), e, K(1.0f)), d);
}

/* gelu's tanh form, 0.5 x (1 + tanh(u)) with u = sqrt(2/pi) (x + 0.044715 x^3),
 * is x / (1 + exp(-2u)), or x exp(2u) / (1 + exp(2u)) for x < 0, so that
 * the exponent w = -2|u| is never positive. For x < 0 the result is about
 * x e^w, whose relative error is |w| times w's: w is computed as a pair
 * hi + lo of floats (products split exactly with FMA, the constants split
 * too) and lo joins the reduced argument of exp. Past |x| = 20 the result
 * is x or a zero of x's sign (-inf gives NaN, as PyTorch's 0.5 x (1 +
 * tanh(u)) does), and below 2^-30 it is x / 2 (TINY). */
static inline ATTR V FN(gelu_tanh)(V x) {
  V xc = MAX(K(-20.0f), MIN(K(20.0f), x));
  xc = SEL(LT(ABS(x), K(0x1p-30f)), K(0.0f), xc);
  V sh = MUL(xc, xc);
  V sl = FMS(xc, xc, sh);  /* x^2 = sh + sl exactly */
  V kh = MUL(K(0x1.6e4e26p-5f), sh);  /* kappa x^2 */
  V kl = ADD(FMS(K(0x1.6e4e26p-5f), sh, kh),
             FMA(K(0x1.6e4e26p-5f), sl, MUL(K(0x1.a9003ep-30f), sh)));
  V ah = ADD(K(1.0f), kh);  /* 1 + kappa x^2, with the sum's error */
  V bb = SUB(ah, K(1.0f));
  V al = ADD(ADD(SUB(K(1.0f), SUB(ah, bb)), SUB(kh, bb)), kl);
  V bh = MUL(xc, ah);  /* x (1 + kappa x^2) */
  V bl = FMA(xc, al, FMS(xc, ah, bh));
  V wh = MUL(K(-0x1.988454p+0f), bh);  /* -2 sqrt(2/pi) x (1 + kappa x^2) */
  V wl = FMA(K(-0x1.988454p+0f), bl, FMA(K(0x1.857936p-25f), bh,
                                         FMS(K(-0x1.988454p+0f), bh, wh)));
  V sign = AND(xc, K(-0.0f));  /* w > 0 for x < 0: use -w */
  wh = XOR(wh, sign);
  wl = XOR(wl, sign);
  /* as exp's, but x e stays above 0 down to e = 2^-158: w >= -110 */
  V t = MAX(K(-110.0f), wh);
  V z;
  V r = ADD(FN(reduce)(t, &z), wl);
  V q = FN(expm1r)(r);
  U m = UADD(USUB(BITS(z), KU(0x4b400000u)), KU(160));  /* n + 160 >= 0 */
  U m1 = USHR(m, 1);
  V s1 = FROM_BITS(USHL(UADD(m1, KU(47)), 23));          /* 2^(m1 - 80) */
  V s2 = FROM_BITS(USHL(UADD(USUB(m, m1), KU(47)), 23)); /* 2^(n - (m1 - 80)) */
  s2 = SEL(LT(K(-110.0f), wh), s2, K(0.0f));
  V es = FMA(q, s1, s1);
  V e = MUL(es, s2);  /* exp(-2|u|); subnormal below -87, so x e is (x es) s2 */
  /* num / (1 + e), num = x or x es, each rounding undone once (results near
   * the top of a binade would otherwise collect 3 ulp): num = nh + nl,
   * 1 + e = dh + dl exactly, then one Newton step on the quotient. */
  M neg = LT(x, K(0.0f));
  V nh = SEL(neg, MUL(x, es), x);
  V nl = SEL(neg, FMS(x, es, nh), K(0.0f));
  V dh = ADD(K(1.0f), e);
  V dl = SUB(e, SUB(dh, K(1.0f)));
  V inv = DIV(K(1.0f), dh);
  V y = MUL(nh, inv);
  V res = SUB(ADD(FMA(SUB(K(0.0f), y), dh, nh), nl), MUL(y, dl));
  y = FMA(res, inv, y);
  y = OR(SEL(neg, MUL(y, s2), y), AND(x, K(-0.0f)));  /* -0 stays -0 */
  return SEL(LT(K(20.0f), x), x, y);  /* +inf: inf - inf would make NaN */
}

/* gelu's erf form, x Phi(x) with Phi(x) = (1 + erf(x / sqrt 2)) / 2, within
 * 2 ulp of the exact value down to x = -13 (below, |gelu| < 2^-122: -0).
 * For |x| < 0.65, x (1/2 + x G(x^2)), G a minimax polynomial (there
 * Phi(x) >= 1/4, so the sum cancels at most one bit). Above, x Q with
 * Q = Phi(-|x|) = R(t) t e^(-x^2/2), t = 1 / (1 + |x|/4) and R a minimax
 * polynomial (Q keeps its relative accuracy where PyTorch's
 * 1 + erff(x / sqrt 2) cancels: from x = -3 on it is hundreds of ulp off,
 * and -0 from -5.7); gelu = x - x Q for x > 0.65. x^2 / 2 is a pair of
 * floats, the products x R (1 + q) too, and the division by 1 + |x|/4 (a
 * pair as well) has its rounding undone once, as gelu_tanh's. */
static inline ATTR V FN(gelu_erf)(V x) {
  V a = ABS(x);
  V ac0 = MAX(K(0x1p-30f), MIN(K(0.65f), a));  /* TINY: G(2^-60) = G(0) */
  V s = MUL(ac0, ac0);
  V g = FMA(K(-0x1.20f3a0p-14f), s, K(0x1.87efa4p-13f));
  g = FMA(g, s, K(-0x1.3f73bcp-10f));
  g = FMA(g, s, K(0x1.470304p-7f));
  g = FMA(g, s, K(-0x1.1058bap-4f));
  g = FMA(g, s, K(0x1.988454p-2f));
  V small = MUL(x, FMA(x, g, K(0.5f)));
  V h = MAX(K(0.65f), MIN(K(13.0f), a));
  V xh = OR(h, AND(x, K(-0.0f)));
  V a4 = MUL(h, K(0.25f));
  V dh = ADD(K(1.0f), a4);
  V dl = SUB(MIN(K(1.0f), a4), SUB(dh, MAX(K(1.0f), a4)));  /* 1 + |x|/4 = dh + dl */
  V t = DIV(K(1.0f), dh);
  V rr = FMA(K(0x1.838d3ep-6f), t, K(-0x1.9071eep-4f));
  rr = FMA(rr, t, K(0x1.036c70p-3f));
  rr = FMA(rr, t, K(-0x1.024fb8p-4f));
  rr = FMA(rr, t, K(0x1.520c44p-4f));
  rr = FMA(rr, t, K(0x1.ab2aacp-5f));
  rr = FMA(rr, t, K(0x1.541df8p-4f));
  rr = FMA(rr, t, K(0x1.7e3904p-4f));
  /* the last two steps in pairs of floats (Horner's roundings would add up
   * to 1.8 ulp): R = Rh + Rl, every partial sum positive */
  V p1 = MUL(t, rr);
  V h1 = ADD(K(0x1.988946p-4f), p1);
  V l1 = ADD(SUB(MIN(K(0x1.988946p-4f), p1), SUB(h1, MAX(K(0x1.988946p-4f), p1))),
             FMS(t, rr, p1));
  V p2 = MUL(t, h1);
  V p2l = FMA(t, l1, FMS(t, h1, p2));
  V rh = ADD(K(0x1.9884aap-4f), p2);
  V rl = ADD(SUB(MIN(K(0x1.9884aap-4f), p2), SUB(rh, MAX(K(0x1.9884aap-4f), p2))), p2l);
  /* t's rounding moves R by up to 1.8 times as much: R += R'(t) (t' - t),
   * t' = 1 / (dh + dl), with R' to 2% (a quadratic) */
  V mdt = MUL(t, FMA(t, dl, FMS(t, dh, K(1.0f))));  /* t - t' */
  V rd = FMA(FMA(K(-0x1.477060p+0f), t, K(0x1.c40f78p-2f)), t, K(-0x1.9c86a4p-3f));  /* -R' */
  rl = FMA(rd, mdt, rl);
  V sh = MUL(h, h);
  V sl = FMS(h, h, sh);  /* x^2 = sh + sl exactly */
  V w = MUL(sh, K(-0.5f));
  V z = FMA(w, K(0x1.715476p+0f), K(0x1.8p23f));
  V n = SUB(z, K(0x1.8p23f));
  V r = FMA(n, K(-0x1.62e430p-1f), w);  /* exact */
  V el = FMA(n, K(0x1.05c610p-29f), MUL(sl, K(-0.5f)));  /* e^-x^2/2 = 2^n e^r (1 + el) */
  V q = FN(expm1r)(r);
  V two_n = POW2(z);  /* n >= -122 */
  V rq = MUL(rh, q);
  V ph = ADD(rh, rq);
  V pl = ADD(SUB(rq, SUB(ph, rh)), FMS(rh, q, rq));  /* R e^r (1 + el) = ph + pl */
  pl = ADD(FMA(ph, el, pl), FMA(rl, q, rl));
  V nh = MUL(xh, ph);
  V nl = FMA(xh, pl, FMS(xh, ph, nh));
  V y0 = MUL(nh, t);
  V res = SUB(ADD(FMA(SUB(K(0.0f), y0), dh, nh), nl), MUL(y0, dl));
  V xq = MUL(FMA(res, t, y0), two_n);  /* x Q */
  V y = SEL(LT(a, K(0.65f)), small, SEL(LT(K(0.0f), x), SUB(x, xq), xq));
  y = SEL(LT(x, K(-13.0f)), MUL(x, K(0.0f)), y);  /* -0; -inf gives NaN, as PyTorch's */
  return SEL(LT(K(13.0f), x), x, y);
}

#undef POW2
#undef FN
#undef FN2
#undef FN_
#undef SEL_DIV
#ifndef SIMD_KEEP_PARAMS
#undef V
#undef U
#undef M
#undef SUF
#undef ATTR
#undef K
#undef KU
#undef ADD
#undef SUB
#undef MUL
#undef DIV
#undef FMA
#undef FMS
#undef MIN
#undef MAX
#undef AND
#undef OR
#undef XOR
#undef ABS
#undef LT
#undef SEL
#undef BITS
#undef FROM_BITS
#undef UADD
#undef USUB
#undef USHL
#undef USHR
#endif

/* rnn_kernels.h: the fused gate kernels of rnn.c, one step of a batch of
 * rows each way. rnn.c includes this file twice, with REAL float, SFX f32,
 * SIGV and TANHV simd.c's vectorised sigmoid and tanh (the kernels of
 * lucid.sigmoid and lucid.tanh), and then with double, f64 and loops of
 * 1 / (1 + exp(-x)) and tanh: one source for both dtypes, each compiled to
 * its own loops. SIGV(n, out, in) and TANHV may work in place.
 *
 * A row's workspace (ws, W elements) keeps what its backward reads:
 *   RNN:  hprev (H) | h (H)
 *   LSTM: i f g o (4H, activated) | cprev (H) | tanh(c) (H) | hprev (P)
 *   GRU:  r z n (3H, activated) | hn = h W_hn^T + b_hn (H) | hprev (H)
 * The caller copies hprev in before a forward step. */

#define RNN_CAT2(a, b) a##_##b
#define RNN_CAT(a, b) RNN_CAT2(a, b)
#define RNN_FN(name) RNN_CAT(name, SFX)

/* One forward step of b rows. gx (b, G*H): the gates' pre-activations,
 * x W_ih^T + b_ih plus (RNN, LSTM) h W_hh^T + b_hh; gh (b, 3H): GRU's
 * h W_hh^T + b_hh, else unused. Writes the new h into hout (b, H) (LSTM
 * with a projection: o tanh(c), to be projected), the new c into c (b, H)
 * (LSTM), and the row's workspace. */
static void RNN_FN(fwd_step)(lc_rnn_mode mode, int64_t b, int64_t H, int64_t P, int64_t W,
                             const REAL *gx, const REAL *gh, REAL *hout, REAL *c, REAL *ws) {
  int64_t G = mode == LC_RNN_LSTM ? 4 : mode == LC_RNN_GRU ? 3 : 1;
  for (int64_t r = 0; r < b; r++) {
    const REAL *x = gx + r * G * H;
    REAL *w = ws + r * W, *h = hout + r * H;
    if (mode == LC_RNN_TANH) {
      TANHV(H, w + H, x);
      memcpy(h, w + H, sizeof(REAL) * (size_t)H);
    } else if (mode == LC_RNN_RELU) {
      for (int64_t j = 0; j < H; j++) {
        REAL v = x[j] > 0 ? x[j] : (REAL)0;
        h[j] = v;
        w[H + j] = v;
      }
    } else if (mode == LC_RNN_LSTM) {
      /* g and tanh(c) of a whole row at once (float32: the vectorised tanh) */
      REAL *cr = c + r * H;
      (void)P;
      SIGV(2 * H, w, x);  /* i f */
      TANHV(H, w + 2 * H, x + 2 * H);
      SIGV(H, w + 3 * H, x + 3 * H);  /* o */
      for (int64_t j = 0; j < H; j++) {
        REAL cp = cr[j], cn = w[H + j] * cp + w[j] * w[2 * H + j];
        w[4 * H + j] = cp;
        w[5 * H + j] = cn;
        cr[j] = cn;
      }
      TANHV(H, w + 5 * H, w + 5 * H);
      for (int64_t j = 0; j < H; j++) h[j] = w[3 * H + j] * w[5 * H + j];
    } else {
      const REAL *hh = gh + r * 3 * H, *hp = w + 4 * H;
      for (int64_t j = 0; j < 2 * H; j++) w[j] = x[j] + hh[j];
      SIGV(2 * H, w, w);  /* r z */
      for (int64_t j = 0; j < H; j++) {
        REAL rg = w[j];
        w[2 * H + j] = x[2 * H + j] + rg * hh[2 * H + j];
        w[3 * H + j] = hh[2 * H + j];
      }
      TANHV(H, w + 2 * H, w + 2 * H);
      for (int64_t j = 0; j < H; j++) {
        REAL zg = w[H + j], ng = w[2 * H + j];
        h[j] = ((REAL)1 - zg) * ng + zg * hp[j];
      }
    }
  }
}

/* One backward step of b rows. dh (b, H): the gradient of the step's h (of
 * o tanh(c) for LSTM with a projection); dc (b, H), LSTM: in the gradient
 * of the new c, out that of the previous c. Writes the gates'
 * pre-activation gradients into dgx (b, G*H) and, for GRU, those of
 * h W_hh^T + b_hh into dgh (b, 3H) (they differ in n's third) and
 * dh *= z, the part of the previous h's gradient that skips W_hh. */
static void RNN_FN(bwd_step)(lc_rnn_mode mode, int64_t b, int64_t H, int64_t W, const REAL *ws,
                             REAL *dh, REAL *dc, REAL *dgx, REAL *dgh) {
  int64_t G = mode == LC_RNN_LSTM ? 4 : mode == LC_RNN_GRU ? 3 : 1;
  for (int64_t r = 0; r < b; r++) {
    const REAL *w = ws + r * W;
    REAL *d = dgx + r * G * H, *dhr = dh + r * H;
    if (mode == LC_RNN_TANH) {
      for (int64_t j = 0; j < H; j++) d[j] = dhr[j] * ((REAL)1 - w[H + j] * w[H + j]);
    } else if (mode == LC_RNN_RELU) {
      for (int64_t j = 0; j < H; j++) d[j] = w[H + j] > 0 ? dhr[j] : (REAL)0;
    } else if (mode == LC_RNN_LSTM) {
      REAL *dcr = dc + r * H;
      for (int64_t j = 0; j < H; j++) {
        REAL ig = w[j], fg = w[H + j], gg = w[2 * H + j], og = w[3 * H + j];
        REAL cp = w[4 * H + j], tc = w[5 * H + j], g = dhr[j];
        REAL dct = dcr[j] + g * og * ((REAL)1 - tc * tc);
        d[j] = dct * gg * ig * ((REAL)1 - ig);
        d[H + j] = dct * cp * fg * ((REAL)1 - fg);
        d[2 * H + j] = dct * ig * ((REAL)1 - gg * gg);
        d[3 * H + j] = g * tc * og * ((REAL)1 - og);
        dcr[j] = dct * fg;
      }
    } else {
      REAL *e = dgh + r * 3 * H;
      const REAL *hp = w + 4 * H;
      for (int64_t j = 0; j < H; j++) {
        REAL rg = w[j], zg = w[H + j], ng = w[2 * H + j], hn = w[3 * H + j], g = dhr[j];
        REAL dn = g * ((REAL)1 - zg) * ((REAL)1 - ng * ng);
        REAL dz = g * (hp[j] - ng) * zg * ((REAL)1 - zg);
        REAL dr = dn * hn * rg * ((REAL)1 - rg);
        d[j] = dr;
        d[H + j] = dz;
        d[2 * H + j] = dn;
        e[j] = dr;
        e[H + j] = dz;
        e[2 * H + j] = dn * rg;
        dhr[j] = g * zg;
      }
    }
  }
}

#undef RNN_FN
#undef RNN_CAT
#undef RNN_CAT2

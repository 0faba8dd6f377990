/* conv_kernels.h: im2col and col2im for one element type, included by
 * conv.c once per float dtype with CK_T (the element type) and CK_NAME(x)
 * (x with the dtype's suffix) defined. One image at a time: x (c, h, w)
 * contiguous; cols (c kh kw, ldc), rows ordered (c, i, j) as PyTorch's
 * unfold, columns oy ow + ox (the output positions) from its first column. */

/* cols[(c, i, j), oy ow + ox] = x[c, oy sh - ph + i dh, ox sw - pw + j dw],
 * 0 where that falls in the padding. */
static void CK_NAME(im2col)(const lc__conv_geom *g, const CK_T *x, CK_T *cols, int64_t ldc) {
  for (int64_t c = 0; c < g->c; c++) {
    const CK_T *xc = x + c * g->h * g->w;
    for (int64_t i = 0; i < g->kh; i++)
      for (int64_t j = 0; j < g->kw; j++) {
        CK_T *row = cols + ((c * g->kh + i) * g->kw + j) * ldc;
        int64_t x0 = j * g->dw - g->pw;
        /* the output columns whose input column lies inside the image */
        int64_t lo = x0 >= 0 ? 0 : (-x0 + g->sw - 1) / g->sw;
        int64_t hi = g->w - x0 > 0 ? (g->w - x0 + g->sw - 1) / g->sw : 0;
        if (hi > g->ow) hi = g->ow;
        if (lo > hi) lo = hi;
        for (int64_t oy = 0; oy < g->oh; oy++) {
          CK_T *r = row + oy * g->ow;
          int64_t y = oy * g->sh - g->ph + i * g->dh;
          if (y < 0 || y >= g->h) {
            for (int64_t ox = 0; ox < g->ow; ox++) r[ox] = 0;
            continue;
          }
          const CK_T *xr = xc + y * g->w + x0;
          for (int64_t ox = 0; ox < lo; ox++) r[ox] = 0;
          if (g->sw == 1)
            for (int64_t ox = lo; ox < hi; ox++) r[ox] = xr[ox];
          else
            for (int64_t ox = lo; ox < hi; ox++) r[ox] = xr[ox * g->sw];
          for (int64_t ox = hi; ox < g->ow; ox++) r[ox] = 0;
        }
      }
  }
}

/* The adjoint: x[c, y, x] += every cols entry im2col would read from it. */
static void CK_NAME(col2im)(const lc__conv_geom *g, const CK_T *cols, int64_t ldc, CK_T *x) {
  for (int64_t c = 0; c < g->c; c++) {
    CK_T *xc = x + c * g->h * g->w;
    for (int64_t i = 0; i < g->kh; i++)
      for (int64_t j = 0; j < g->kw; j++) {
        const CK_T *row = cols + ((c * g->kh + i) * g->kw + j) * ldc;
        int64_t x0 = j * g->dw - g->pw;
        int64_t lo = x0 >= 0 ? 0 : (-x0 + g->sw - 1) / g->sw;
        int64_t hi = g->w - x0 > 0 ? (g->w - x0 + g->sw - 1) / g->sw : 0;
        if (hi > g->ow) hi = g->ow;
        if (lo > hi) lo = hi;
        for (int64_t oy = 0; oy < g->oh; oy++) {
          int64_t y = oy * g->sh - g->ph + i * g->dh;
          if (y < 0 || y >= g->h) continue;
          const CK_T *r = row + oy * g->ow;
          CK_T *xr = xc + y * g->w + x0;
          if (g->sw == 1)
            for (int64_t ox = lo; ox < hi; ox++) xr[ox] += r[ox];
          else
            for (int64_t ox = lo; ox < hi; ox++) xr[ox * g->sw] += r[ox];
        }
      }
  }
}

/* y[n, o, l] += b[o] over (n, o, l) */
static void CK_NAME(add_bias)(int64_t n, int64_t o, int64_t l, CK_T *y, const CK_T *b) {
  for (int64_t s = 0; s < n; s++)
    for (int64_t k = 0; k < o; k++) {
      CK_T *p = y + (s * o + k) * l, v = b[k];
      for (int64_t i = 0; i < l; i++) p[i] += v;
    }
}

/* gb[o] = sum of g[n, o, l] over n and l, accumulated in double; eight
 * running sums, so that the additions do not wait for each other (one
 * chain of dependent adds is what made this loop slow). */
static void CK_NAME(sum_bias)(int64_t n, int64_t o, int64_t l, const CK_T *g, CK_T *gb) {
  for (int64_t k = 0; k < o; k++) {
    double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int64_t s = 0; s < n; s++) {
      const CK_T *p = g + (s * o + k) * l;
      int64_t i = 0;
      for (; i + 8 <= l; i += 8)
        for (int u = 0; u < 8; u++) acc[u] += (double)p[i + u];
      for (; i < l; i++) acc[0] += (double)p[i];
    }
    gb[k] = (CK_T)(((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])));
  }
}

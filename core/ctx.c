/* ctx.c: the context: allocator, error slot, random generator, settings. */
#include "internal.h"

#include <stdio.h>
#include <string.h>

lc_ctx *lc_ctx_new(lc_alloc_fn alloc, void *ud) {
  lc_ctx *ctx = (lc_ctx *)alloc(ud, NULL, 0, sizeof(lc_ctx));
  if (!ctx) return NULL;
  memset(ctx, 0, sizeof *ctx);
  ctx->alloc = alloc;
  ctx->alloc_ud = ud;
  ctx->refcount = 1;
  ctx->default_dtype = LC_FLOAT32;
  ctx->grad_enabled = 1;
  ctx->num_threads = 1;
  lc_ctx_seed(ctx, 0x5eedULL);
  return ctx;
}

static void big_flush(lc_ctx *ctx) {
  for (int i = 0; i < ctx->nbig; i++) ctx->alloc(ctx->alloc_ud, ctx->big[i].p, ctx->big[i].size, 0);
  ctx->nbig = 0;
  ctx->big_bytes = 0;
}

void lc__ctx_unref(lc_ctx *ctx) {
  if (--ctx->refcount > 0) return;
  lc__free(ctx, ctx->cyc, ctx->capcyc * sizeof *ctx->cyc);
  lc__packed_free(ctx);
  big_flush(ctx);
  for (int c = 0; c < LC_FREE_CLASSES; c++) {
    while (ctx->free_blocks[c]) {
      void *p = ctx->free_blocks[c];
      memcpy(&ctx->free_blocks[c], p, sizeof(void *));  /* next link lives in the block */
      ctx->alloc(ctx->alloc_ud, p, (size_t)32 << c, 0);
    }
  }
  ctx->alloc(ctx->alloc_ud, ctx, sizeof(lc_ctx), 0);
}

void lc_ctx_free(lc_ctx *ctx) {
  if (ctx) lc__ctx_unref(ctx);
}

lc_status lc_ctx_status(const lc_ctx *ctx) { return ctx->status; }

void lc_ctx_set_num_threads(lc_ctx *ctx, int n) { ctx->num_threads = n < 1 ? 1 : n; }
int lc_ctx_num_threads(const lc_ctx *ctx) { return ctx->num_threads; }

lc_status lc_ctx_fail(lc_ctx *ctx, lc_status st, const char *msg) {
  return lc__fail(ctx, st, "%s", msg);
}

void lc_ctx_set_callbacks(lc_ctx *ctx, lc_hook_fn hook, lc_tensor_free_fn on_free, void *ud) {
  ctx->hook = hook;
  ctx->on_free = on_free;
  ctx->cb_ud = ud;
}
const char *lc_ctx_error(const lc_ctx *ctx) { return ctx->err; }
lc_dtype lc_ctx_default_dtype(const lc_ctx *ctx) { return ctx->default_dtype; }
void lc_ctx_set_default_dtype(lc_ctx *ctx, lc_dtype dtype) { ctx->default_dtype = dtype; }
int lc_ctx_grad_enabled(const lc_ctx *ctx) { return ctx->grad_enabled; }
size_t lc_ctx_live_bytes(const lc_ctx *ctx) { return ctx->live_bytes; }

int lc_ctx_set_grad_enabled(lc_ctx *ctx, int enabled) {
  int old = ctx->grad_enabled;
  ctx->grad_enabled = enabled != 0;
  return old;
}

size_t lc_ctx_take_new_bytes(lc_ctx *ctx, size_t min) {
  size_t n = ctx->new_bytes;
  if (n < min) return 0;
  ctx->new_bytes = 0;
  return n;
}

static const struct { const char *name; size_t size; int rank; } DTYPES[LC_NDTYPES] = {
  /* rank orders promotion within a category; float beats any integer */
  [LC_FLOAT32] = {"float32", 4, 4}, [LC_FLOAT64] = {"float64", 8, 5},
  [LC_INT64] = {"int64", 8, 3},     [LC_INT32] = {"int32", 4, 2},
  [LC_UINT8] = {"uint8", 1, 1},     [LC_BOOL] = {"bool", 1, 0},
};

static int known(lc_dtype d) { return (unsigned)d < LC_NDTYPES; }

const char *lc_dtype_name(lc_dtype dtype) { return known(dtype) ? DTYPES[dtype].name : NULL; }
size_t lc_dtype_size(lc_dtype dtype) { return known(dtype) ? DTYPES[dtype].size : 0; }
int lc_dtype_is_float(lc_dtype dtype) { return dtype == LC_FLOAT32 || dtype == LC_FLOAT64; }

/* With no int8 or int16 here, the larger rank is always the answer
 * (PyTorch's table gives int16 only for uint8 with int8). */
lc_dtype lc_promote_types(lc_dtype a, lc_dtype b) {
  return DTYPES[a].rank >= DTYPES[b].rank ? a : b;
}

static int category(lc_dtype d) { return d == LC_BOOL ? 0 : lc_dtype_is_float(d) ? 2 : 1; }

/* c10's combine_categories: `lower` (from 0-d tensors or numbers) counts
 * only when it is of a higher category than `higher` (or higher is bool). */
static int combine(int higher, int lower) {
  if (higher < 0) return lower;
  if (lower < 0 || category((lc_dtype)higher) >= category((lc_dtype)lower)) return higher;
  return (int)lc_promote_types((lc_dtype)higher, (lc_dtype)lower);
}

static int promote_opt(int acc, lc_dtype d) {
  return acc < 0 ? (int)d : (int)lc_promote_types((lc_dtype)acc, d);
}

lc_dtype lc_result_type(const lc_ctx *ctx, int n, lc_tensor *const *t) {
  int dim = -1, zero = -1, num = -1;  /* -1: no operand of that kind yet */
  for (int i = 0; i < n; i++) {
    if (!t[i]) continue;
    lc_dtype d = t[i]->dtype;
    if (t[i]->is_number) num = promote_opt(num, lc_dtype_is_float(d) ? ctx->default_dtype : d);
    else if (t[i]->ndim == 0) zero = promote_opt(zero, d);
    else dim = promote_opt(dim, d);
  }
  int r = combine(dim, combine(zero, num));
  return r < 0 ? ctx->default_dtype : (lc_dtype)r;
}

lc_status lc__fail(lc_ctx *ctx, lc_status st, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(ctx->err, sizeof ctx->err, fmt, ap);
  va_end(ap);
  ctx->status = st;
  return st;
}

/* The size class of an n-byte block, or -1 when it is too big to keep. */
static int size_class(size_t n) {
  if (n > ((size_t)32 << (LC_FREE_CLASSES - 1))) return -1;
  int c = 0;
  while (((size_t)32 << c) < n) c++;
  return c;
}

void *lc__alloc(lc_ctx *ctx, size_t n) {
  int c = size_class(n);
  size_t size = c >= 0 ? (size_t)32 << c : n;
  void *p;
  if (c >= 0 && ctx->free_blocks[c]) {
    p = ctx->free_blocks[c];
    memcpy(&ctx->free_blocks[c], p, sizeof(void *));
    ctx->free_count[c]--;
  } else {
    for (int i = 0; c < 0 && i < ctx->nbig; i++) {
      if (ctx->big[i].size != size) continue;
      p = ctx->big[i].p;
      ctx->big_bytes -= size;
      ctx->big[i] = ctx->big[--ctx->nbig];
      ctx->live_bytes += size;
      return p;
    }
    p = ctx->alloc(ctx->alloc_ud, NULL, 0, size);
    if (!p && ctx->nbig) {  /* the cache may be what stands between us and the cap */
      big_flush(ctx);
      p = ctx->alloc(ctx->alloc_ud, NULL, 0, size);
    }
    if (!p) {
      lc__fail(ctx, LC_ENOMEM, "not enough memory (%zu bytes)", n);
      return NULL;
    }
    ctx->new_bytes += size;  /* only fresh host memory paces the collector */
  }
  ctx->live_bytes += size;
  return p;
}

void lc__free(lc_ctx *ctx, void *p, size_t n) {
  if (!p) return;
  int c = size_class(n);
  size_t size = c >= 0 ? (size_t)32 << c : n;
  ctx->live_bytes -= size;
  if (c >= 0 && ctx->free_count[c] < LC_FREE_KEEP) {
    memcpy(p, &ctx->free_blocks[c], sizeof(void *));
    ctx->free_blocks[c] = p;
    ctx->free_count[c]++;
    return;
  }
  size_t limit = ctx->live_bytes > LC_BIG_FLOOR ? ctx->live_bytes : LC_BIG_FLOOR;
  if (c < 0 && ctx->big_bytes + size <= limit) {
    if (ctx->nbig == LC_BIG_KEEP) {  /* make room: the oldest goes back to the host */
      ctx->alloc(ctx->alloc_ud, ctx->big[0].p, ctx->big[0].size, 0);
      ctx->big_bytes -= ctx->big[0].size;
      memmove(&ctx->big[0], &ctx->big[1], sizeof ctx->big[0] * (LC_BIG_KEEP - 1));
      ctx->nbig--;
    }
    ctx->big[ctx->nbig].p = p;
    ctx->big[ctx->nbig].size = size;
    ctx->nbig++;
    ctx->big_bytes += size;
    return;
  }
  ctx->alloc(ctx->alloc_ud, p, size, 0);
}

void lc_shape_str(char *buf, size_t n, int ndim, const int64_t *shape) {
  size_t used = (size_t)snprintf(buf, n, "{");
  for (int i = 0; i < ndim && used < n; i++)
    used += (size_t)snprintf(buf + used, n - used, "%s%lld", i ? ", " : "",
                             (long long)shape[i]);
  if (used < n) snprintf(buf + used, n - used, "}");
}

/* ---- random numbers --------------------------------------------------------
 * xoshiro256** seeded through splitmix64: integer-only, so every platform
 * draws the same bits for the same seed. */
static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void lc_ctx_seed(lc_ctx *ctx, uint64_t seed) {
  for (int i = 0; i < 4; i++) ctx->rng[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t lc__rng_next(lc_ctx *ctx) {
  if (ctx->trace) lc__trace_drew(ctx);
  uint64_t *s = ctx->rng;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

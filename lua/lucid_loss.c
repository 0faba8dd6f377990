/* lucid_loss.c: the losses with kernels of their own (core/loss.c), bound
 * for the Lua library: lucid.core._ctc_loss, which lucid.nn.functional's
 * ctc_loss (and nn.CTCLoss, lucid.ctc_loss) call after converting 1-based
 * classes and lengths given as tables. Internal: the Lua forms are the
 * documented ones. */
#include "binding.h"

static const lt_arg CTC_ARGS[] = {
  {"targets", LT_K_TENSOR, LT_REQ, 0, NULL},
  {"input_lengths", LT_K_TENSOR, LT_REQ, 0, NULL},
  {"target_lengths", LT_K_TENSOR, LT_REQ, 0, NULL},
  {"blank", LT_K_INTEGER, LT_REQ, 0, NULL},
  {"zero_infinity", LT_K_BOOL, 0, 0, NULL},
  {NULL}};
/* _ctc_loss(log_probs (T, N, C), targets, input_lengths, target_lengths, blank
 * (0-based), zero_infinity): the per-sample nll (N); classes 0-based. */
static int l_ctc_loss(lua_State *L) {
  lc_ctx *ctx = LT_CTX(L);
  lc_tensor *lp = lt_tensor_arg(L, 1, lt_fn(L)->fname);
  lt_val v[5];
  const char *fname = lt_args(L, 2, -1, v);
  return lt_push(L, ctx, lc_ctc_loss(ctx, lp, v[0].t, v[1].t, v[2].t, (int64_t)v[3].i, v[4].b), fname);
}

static const lt_reg loss_fns[] = {
  {"_ctc_loss", "nn.functional.ctc_loss", l_ctc_loss, CTC_ARGS, LT_MODULE},
  {NULL, NULL, NULL, NULL, 0}};

void lt_register_loss(lua_State *L, int state, int methods, int module) {
  lt_register(L, state, methods, module, loss_fns);
}

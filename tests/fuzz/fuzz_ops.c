/* fuzz_ops.c: random programs of tensor operations (views, broadcasting,
 * reductions, indexing, in-place changes, backward, hooks, Lua-defined ops)
 * through the public Lua API.
 *
 * The interpreter is Lua: fuzz_ops.lua (embedded at build time) reads the
 * bytes as a program over a pool of six tensors; its comment lists the ops
 * and the invariants checked besides crashes, sanitizer reports and tensor
 * leaks. Shapes stay small by construction (ndim 0..4, sizes 0..5 when
 * made; results over 4096 elements are dropped), so an input runs in
 * milliseconds. */
#include "fuzz_common.h"

#include "fuzz_ops.lua.h"  /* DRIVER: fuzz_ops.lua, embedded by fuzz.mk */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_ctx *F = fuzz_setup("=fuzz_ops", DRIVER);
  fuzz_run(F, NULL, data, size);
  return 0;
}

/* fuzz_safetensors.c: the safetensors reader (lucid.load, lua/lucid/serialize.lua).
 *
 * The input is the whole file. lucid.load reads from a path, so each input
 * is written to a file of this process under $TMPDIR (default /dev/shm, else
 * /tmp). Besides crashes and leaks, two invariants are checked:
 *   - a file lucid.load refuses gives a Lua error "lucid.load: ..." (its
 *     contract), never an internal error of the reader (an "attempt to
 *     index a nil value" from serialize.lua, say); running out of memory
 *     under the harness's cap is the one other error allowed;
 *   - what lucid.load accepts survives a round trip: lucid.save writes it
 *     (with its metadata) and lucid.load reads back the same thing: the same
 *     table shape, keys, numbers (integer vs float, the sign of zero, NaN),
 *     strings, booleans, and tensors of the same dtype, shape and bits. A
 *     save that refuses the table (two entries that would get one name) is
 *     fine. */
#include "fuzz_common.h"

#include "fuzz_safetensors.lua.h"  /* DRIVER: fuzz_safetensors.lua, embedded by fuzz.mk */

static char tmp1[512], tmp2[512];

static void remove_tmp(void) {
  if (tmp1[0]) unlink(tmp1);
  if (tmp2[0]) unlink(tmp2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_ctx *F = fuzz_setup("=fuzz_safetensors", DRIVER);
  if (!tmp1[0]) {
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir) dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(tmp1, sizeof tmp1, "%s/lucid-fuzz-%ld-in.safetensors", dir, (long)getpid());
    snprintf(tmp2, sizeof tmp2, "%s/lucid-fuzz-%ld-out.safetensors", dir, (long)getpid());
    atexit(remove_tmp);
    lua_pushstring(F->L, tmp1);
    lua_setglobal(F->L, "FUZZ_TMP1");
    lua_pushstring(F->L, tmp2);
    lua_setglobal(F->L, "FUZZ_TMP2");
  }
  fuzz_run(F, NULL, data, size);
  return 0;
}

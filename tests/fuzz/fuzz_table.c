/* fuzz_table.c: the nested-table-to-tensor parser (lucid.tensor(t, opts),
 * l_tensor and fill_from in lua/lucid_core.c; lucid.from_table in
 * lua/lucid/init.lua).
 *
 * The bytes are decoded (in C, by the Lua API, so no Lua source is parsed)
 * into a Lua value and options, then the driver calls lucid.tensor on them.
 * The first byte picks the options and the mode:
 *   rectangular: ndim (0..10, so past the 8-dim limit) and sizes 0..5, then
 *                one value per element, then a few mutations (an element
 *                replaced by a string, a boolean, a table, nil, a tensor; a
 *                row lengthened or shortened; a string key; a table that
 *                holds itself);
 *   free-form:   any tree of numbers, strings, booleans and tables (ragged,
 *                empty, with holes) up to depth 10;
 *   flat:        lucid.from_table(array, shape [, opts]) with a shape read
 *                from the bytes (negative, zero, fractional sizes included).
 * Numbers include integers, floats from raw bits (NaN payloads, subnormals,
 * infinities, -0.0) and values float32 cannot hold.
 *
 * Checked beyond crashes and leaks: when lucid.tensor accepts the table, the
 * tensor has the requested dtype and requires_grad, its shape is the table's,
 * and its values are the table's numbers converted to the dtype (bit for bit;
 * any NaN for a NaN); when it refuses, the error is a string naming a lucid
 * function ("lucid.tensor: ...", or "not enough memory"). An accepted tensor
 * is also printed, summed and (when it requires grad) back-propagated. */
#include "fuzz_common.h"

#include <math.h>

#include "fuzz_table.lua.h"  /* DRIVER: fuzz_table.lua, embedded by fuzz.mk */

/* ---- reading the bytes ------------------------------------------------------------ */

typedef struct reader {
  const uint8_t *p;
  size_t n, pos;
} reader;

static unsigned byte(reader *r) { return r->pos < r->n ? r->p[r->pos++] : 0; }
static int at_end(const reader *r) { return r->pos >= r->n; }

static uint64_t bytes64(reader *r, int k) {
  uint64_t v = 0;
  for (int i = 0; i < k; i++) v |= (uint64_t)byte(r) << (8 * i);
  return v;
}

#define MAX_DEPTH 10
#define MAX_ELEMS 512   /* elements of a rectangular table; more only costs time */

static const double SPECIALS[] = {
  0.0, -0.0, 1.0, -1.0, 0.5, 1e-45, 1.4e-45, 5e-324, 1.17549435e-38, 3.4028234663852886e38,
  3.4028235677973366e38, 1e39, -1e39, 1.7976931348623157e308, -1.7976931348623157e308,
  9007199254740993.0, 9223372036854775808.0, 1e300, 2.2250738585072014e-308, 0.1};

/* Pushes one leaf value (mostly numbers). */
static void push_leaf(lua_State *L, reader *r) {
  unsigned k = byte(r) % 20;
  switch (k) {
    case 0: case 1: case 2: case 3:
      lua_pushinteger(L, (lua_Integer)(int8_t)byte(r));
      break;
    case 4: case 5: case 6:
      lua_pushnumber(L, (lua_Number)(int8_t)byte(r) / 4.0);
      break;
    case 7: case 8: {
      uint64_t bits = bytes64(r, 8);
      double d;
      memcpy(&d, &bits, 8);
      lua_pushnumber(L, d);
      break;
    }
    case 9: {
      uint32_t bits = (uint32_t)bytes64(r, 4);
      float f;
      memcpy(&f, &bits, 4);
      lua_pushnumber(L, (lua_Number)f);
      break;
    }
    case 10: {
      unsigned s = byte(r);
      size_t n = sizeof SPECIALS / sizeof SPECIALS[0];
      if (s % 8 == 0) lua_pushnumber(L, (lua_Number)NAN);
      else if (s % 8 == 1) lua_pushnumber(L, (s & 8) ? -(lua_Number)INFINITY : (lua_Number)INFINITY);
      else lua_pushnumber(L, (s & 128) ? -SPECIALS[(s >> 3) % n] : SPECIALS[(s >> 3) % n]);
      break;
    }
    case 11: {
      unsigned s = byte(r) % 4;
      if (s == 0) lua_pushinteger(L, LUA_MAXINTEGER);
      else if (s == 1) lua_pushinteger(L, LUA_MININTEGER);
      else lua_pushinteger(L, (lua_Integer)bytes64(r, 8));
      break;
    }
    case 12: case 13: case 14:
      lua_pushinteger(L, (lua_Integer)byte(r));
      break;
    case 15: {
      unsigned s = byte(r) % 4;
      if (s == 0) lua_pushliteral(L, "1.5");
      else if (s == 1) lua_pushliteral(L, "");
      else {
        char buf[8];
        unsigned len = byte(r) % 8;
        for (unsigned i = 0; i < len; i++) buf[i] = (char)byte(r);
        lua_pushlstring(L, buf, len);
      }
      break;
    }
    case 16:
      lua_pushboolean(L, byte(r) & 1);
      break;
    case 17:
      lua_getglobal(L, "FUZZ_TENSOR");  /* a tensor where a number should be */
      break;
    case 18:
      lua_newtable(L);
      break;
    default:
      lua_pushnil(L);
      break;
  }
}

/* Pushes a free-form tree. */
static void push_tree(lua_State *L, reader *r, int depth, int *budget) {
  unsigned k = byte(r);
  if (depth >= MAX_DEPTH || *budget <= 0 || at_end(r) || k % 3 != 0) {
    push_leaf(L, r);
    (*budget)--;
    return;
  }
  luaL_checkstack(L, 4, "fuzz tree");
  unsigned n = (k / 3) % 7;
  lua_createtable(L, (int)n, 0);
  for (unsigned i = 1; i <= n; i++) {
    push_tree(L, r, depth + 1, budget);
    lua_rawseti(L, -2, (lua_Integer)i);
  }
  if (k & 0x80) {  /* an extra key beside the array part */
    push_leaf(L, r);
    lua_setfield(L, -2, "x");
  }
}

/* Pushes a rectangular table of the given shape (depth d onwards). */
static void push_rect(lua_State *L, reader *r, int ndim, const int64_t *shape, int d) {
  if (d == ndim) {
    unsigned k = byte(r);
    if (k < 200) lua_pushnumber(L, (lua_Number)((int)k - 100) / 8.0);
    else {
      r->pos--;
      push_leaf(L, r);
      if (lua_isnil(L, -1)) {  /* a hole is a mutation's job: keep this a number */
        lua_pop(L, 1);
        lua_pushinteger(L, 0);
      }
    }
    return;
  }
  luaL_checkstack(L, 4, "fuzz rect");
  lua_createtable(L, (int)shape[d], 0);
  for (int64_t i = 1; i <= shape[d]; i++) {
    push_rect(L, r, ndim, shape, d + 1);
    lua_rawseti(L, -2, (lua_Integer)i);
  }
}

/* Changes one place of the rectangular table on top of the stack. */
static void mutate(lua_State *L, reader *r, int ndim) {
  int top = lua_gettop(L);
  int depth = (int)(byte(r) % (unsigned)(ndim + 1));
  lua_pushvalue(L, -1);  /* the root stays; walk a copy */
  for (int d = 0; d < depth; d++) {
    lua_Integer len = (lua_Integer)lua_rawlen(L, -1);
    if (len == 0) break;
    lua_Integer i = 1 + (lua_Integer)(byte(r) % (unsigned)len);
    if (lua_rawgeti(L, -1, i) != LUA_TTABLE) {
      lua_pop(L, 1);
      break;
    }
    lua_remove(L, -2);
  }
  /* the table on top is a row (or the root) */
  lua_Integer len = (lua_Integer)lua_rawlen(L, -1);
  unsigned what = byte(r) % 6;
  switch (what) {
    case 0:  /* replace an element by any value */
      push_leaf(L, r);
      lua_rawseti(L, -2, len ? 1 + (lua_Integer)(byte(r) % (unsigned)len) : 1);
      break;
    case 1:  /* one more element */
      push_leaf(L, r);
      lua_rawseti(L, -2, len + 1);
      break;
    case 2:  /* one less */
      if (len > 0) {
        lua_pushnil(L);
        lua_rawseti(L, -2, len);
      }
      break;
    case 3: {  /* a free-form subtree in place of an element */
      int budget = 64;
      push_tree(L, r, 5, &budget);
      lua_rawseti(L, -2, len ? 1 + (lua_Integer)(byte(r) % (unsigned)len) : 1);
      break;
    }
    case 4:  /* a string key */
      push_leaf(L, r);
      lua_setfield(L, -2, "k");
      break;
    default:  /* the row holds itself */
      lua_pushvalue(L, -1);
      lua_rawseti(L, -2, len ? 1 + (lua_Integer)(byte(r) % (unsigned)len) : 1);
      break;
  }
  lua_settop(L, top);
}

/* Pushes the options for the first byte's choice. */
static void push_opts(lua_State *L, unsigned k) {
  static const char *const INTS[] = {"int64", "int32", "uint8", "bool"};
  switch (k % 14) {
    case 0: lua_pushnil(L); break;
    case 1: lua_newtable(L); lua_pushliteral(L, "float32"); lua_setfield(L, -2, "dtype"); break;
    case 2: lua_newtable(L); lua_pushliteral(L, "float64"); lua_setfield(L, -2, "dtype"); break;
    case 3: lua_newtable(L); lua_pushboolean(L, 1); lua_setfield(L, -2, "requires_grad"); break;
    case 4:
      lua_newtable(L);
      lua_pushliteral(L, "double");
      lua_setfield(L, -2, "dtype");
      lua_pushboolean(L, 1);
      lua_setfield(L, -2, "requires_grad");
      break;
    case 5: lua_newtable(L); lua_pushliteral(L, "float16"); lua_setfield(L, -2, "dtype"); break;
    case 6: lua_newtable(L); lua_pushinteger(L, 64); lua_setfield(L, -2, "dtype"); break;
    case 7: lua_pushliteral(L, "float64"); break;
    case 8: lua_newtable(L); lua_pushliteral(L, "yes"); lua_setfield(L, -2, "requires_grad"); break;
    case 10: case 11: case 12: case 13:  /* the integer and bool dtypes */
      lua_newtable(L);
      lua_pushstring(L, INTS[k % 14 - 10]);
      lua_setfield(L, -2, "dtype");
      break;
    default: lua_newtable(L); break;
  }
}

/* Entry (protected): builds (t, opts, mode, shape) and calls the driver. */
static int table_entry(lua_State *L) {
  fuzz_input *in = (fuzz_input *)lua_touserdata(L, 1);
  reader r = {in->data, in->size, 0};
  lua_settop(L, 0);
  lua_getglobal(L, "FUZZ_RUN");
  unsigned head = byte(&r);
  unsigned mode = (head / 10) % 5;  /* 0, 1, 2: rectangular; 3: free-form; 4: flat */
  if (mode <= 2) {
    int ndim = (int)(byte(&r) % 11);
    int64_t shape[MAX_DEPTH + 1], numel = 1;
    for (int i = 0; i < ndim; i++) {
      shape[i] = (int64_t)(byte(&r) % 6);
      if (numel * (shape[i] ? shape[i] : 1) > MAX_ELEMS) shape[i] = 1;
      numel *= shape[i] ? shape[i] : 1;
    }
    if (ndim == 0) push_leaf(L, &r);
    else push_rect(L, &r, ndim, shape, 0);
    if (ndim > 0) {
      int nmut = (int)(byte(&r) % 4);
      if (mode != 0) nmut = 0;  /* two in three stay rectangular */
      for (int i = 0; i < nmut; i++) mutate(L, &r, ndim);
    }
    push_opts(L, head);
    lua_pushliteral(L, "tensor");
    lua_pushnil(L);
  } else if (mode == 3) {
    int budget = MAX_ELEMS;
    push_tree(L, &r, 0, &budget);
    push_opts(L, head);
    lua_pushliteral(L, "tensor");
    lua_pushnil(L);
  } else {
    int ndim = 1 + (int)(byte(&r) % 9);  /* from_table(t, {}) reads {} as options */
    lua_createtable(L, ndim, 0);
    int64_t numel = 1;
    for (int i = 0; i < ndim; i++) {
      unsigned s = byte(&r);
      if (s < 240) {
        int64_t d = (int64_t)(s % 6);
        if (numel * (d ? d : 1) > MAX_ELEMS) d = 1;
        numel *= d ? d : 1;
        lua_pushinteger(L, (lua_Integer)d);
      } else if (s < 244) lua_pushinteger(L, -(lua_Integer)(s - 239));
      else if (s < 248) lua_pushnumber(L, (lua_Number)(s - 244) + 0.5);
      else if (s < 252) lua_pushnumber(L, (lua_Number)(s - 246));  /* integral floats */
      else lua_pushinteger(L, (lua_Integer)1 << 40);
      lua_rawseti(L, -2, i + 1);
    }
    int shape_idx = lua_gettop(L);
    unsigned n = byte(&r);
    if (n >= 250) n = (unsigned)numel;                    /* often exactly right */
    else n = (n < 200) ? (unsigned)numel : n % 64;
    if (n > MAX_ELEMS) n = MAX_ELEMS;
    lua_createtable(L, (int)n, 0);
    for (unsigned i = 1; i <= n; i++) {
      unsigned k = byte(&r);
      if (k < 220) lua_pushnumber(L, (lua_Number)((int)k - 110) / 4.0);
      else {
        r.pos--;
        push_leaf(L, &r);
      }
      lua_rawseti(L, -2, (lua_Integer)i);
    }
    lua_insert(L, shape_idx);  /* t before shape */
    push_opts(L, head);
    lua_insert(L, shape_idx + 1);  /* t, opts, shape */
    lua_pushliteral(L, "flat");
    lua_insert(L, shape_idx + 2);  /* t, opts, mode, shape */
  }
  lua_call(L, 4, 0);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_ctx *F = fuzz_setup("=fuzz_table", DRIVER);
  if (F->inputs == 0) {
    lua_getglobal(F->L, "lucid");
    lua_getfield(F->L, -1, "ones");
    lua_pushinteger(F->L, 2);
    if (lua_pcall(F->L, 1, 1, 0) != LUA_OK) fuzz_die("setup", lua_tostring(F->L, -1));
    lua_setglobal(F->L, "FUZZ_TENSOR");
    lua_pop(F->L, 1);
    lua_gc(F->L, LUA_GCCOLLECT);
    F->baseline = lc_ctx_live_bytes(fuzz_lc(F->L));
  }
  fuzz_run(F, table_entry, data, size);
  return 0;
}

/* lucid_bytes.c: the byte work of lucid.save and lucid.load (safetensors),
 * in C because Lua before 5.3 has no string.pack and no integers, and
 * converting tensors a value at a time in Lua is slow everywhere.
 *
 *   core._u64le_pack(n)          -> the 8 bytes of n, little-endian
 *   core._u64le_unpack(s)        -> n (nil when Lua cannot hold it exactly),
 *                                   and n's decimal text (always exact)
 *   core._bytes_to_float(dtype, s) -> s's values (safetensors dtype F16, BF16,
 *                                   BOOL, I8..I64, U8..U64, little-endian) as
 *                                   native float32 (F16, BF16: exact) or
 *                                   float64 (the rest), and that dtype's name
 *
 * Exactness: on Lua 5.3+ sizes are lua_Integer (64 bits); before, they are
 * doubles, exact up to 2^53, and larger values are refused or reported as
 * not representable (nil) rather than rounded. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "binding.h"

/* The largest size every version holds exactly. */
#if LUA_VERSION_NUM >= 503
#define LT_MAX_EXACT ((uint64_t)LUA_MAXINTEGER)
#else
#define LT_MAX_EXACT ((uint64_t)1 << 53)
#endif

static int l_u64le_pack(lua_State *L) {
  const char *fname = lt_fn(L)->fname;
  uint64_t n = 0;
#if LUA_VERSION_NUM >= 503
  int isint = 0;
  lua_Integer i = lua_tointegerx(L, 1, &isint);
  if (!isint || i < 0)
    return lt_error(L, "%s: expected a non-negative integer, got %s", fname, luaL_typename(L, 1));
  n = (uint64_t)i;
#else
  if (lua_type(L, 1) != LUA_TNUMBER)
    return lt_error(L, "%s: expected a non-negative integer, got %s", fname, luaL_typename(L, 1));
  lua_Number x = lua_tonumber(L, 1);
  if (!(x >= 0 && x <= 9007199254740992.0) || x != floor(x))
    return lt_error(L, "%s: %.17g is not an integer in 0..2^53 (the exact range of this Lua's numbers)",
                    fname, (double)x);
  n = (uint64_t)x;
#endif
  unsigned char b[8];
  for (int k = 0; k < 8; k++) b[k] = (unsigned char)(n >> (8 * k));
  lua_pushlstring(L, (const char *)b, 8);
  return 1;
}

static int l_u64le_unpack(lua_State *L) {
  const char *fname = lt_fn(L)->fname;
  size_t len;
  const char *s = lua_tolstring(L, 1, &len);
  if (!s || lua_type(L, 1) != LUA_TSTRING || len < 8)
    return lt_error(L, "%s: expected a string of at least 8 bytes", fname);
  uint64_t n = 0;
  for (int k = 7; k >= 0; k--) n = (n << 8) | (unsigned char)s[k];
  if (n <= LT_MAX_EXACT) {
#if LUA_VERSION_NUM >= 503
    lua_pushinteger(L, (lua_Integer)n);
#else
    lua_pushnumber(L, (lua_Number)n);
#endif
  } else {
    lua_pushnil(L);
  }
  char text[32];
  snprintf(text, sizeof text, "%llu", (unsigned long long)n);
  lua_pushstring(L, text);
  return 2;
}

/* IEEE half -> float32, exactly (every half is a float32). */
static float half_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1F, frac = h & 0x3FF, bits;
  if (exp == 0x1F) {
    bits = sign | (0xFFu << 23) | (frac << 13);
  } else if (exp != 0) {
    bits = sign | ((exp - 15 + 127) << 23) | (frac << 13);
  } else {
    float f = (float)ldexp((double)frac, -24);  /* zero or subnormal: a normal float32 */
    return sign ? -f : f;
  }
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

static uint64_t le(const unsigned char *p, int size) {
  uint64_t v = 0;
  for (int k = size - 1; k >= 0; k--) v = (v << 8) | p[k];
  return v;
}

static double int_value(const unsigned char *p, int size, int is_signed) {
  uint64_t v = le(p, size);
  if (!is_signed) return (double)v;
  if (size < 8 && (v >> (8 * size - 1))) v |= ~(uint64_t)0 << (8 * size);  /* sign-extend */
  return (double)(int64_t)v;
}

static int l_bytes_to_float(lua_State *L) {
  const char *fname = lt_fn(L)->fname;
  const char *dtype = luaL_checkstring(L, 1);
  size_t len;
  const unsigned char *s = (const unsigned char *)luaL_checklstring(L, 2, &len);
  int size = 0, is_signed = 0, is_bool = 0, half = 0, bf16 = 0;
  if (!strcmp(dtype, "F16")) size = 2, half = 1;
  else if (!strcmp(dtype, "BF16")) size = 2, bf16 = 1;
  else if (!strcmp(dtype, "BOOL")) size = 1, is_bool = 1;
  else if (!strcmp(dtype, "I8")) size = 1, is_signed = 1;
  else if (!strcmp(dtype, "I16")) size = 2, is_signed = 1;
  else if (!strcmp(dtype, "I32")) size = 4, is_signed = 1;
  else if (!strcmp(dtype, "I64")) size = 8, is_signed = 1;
  else if (!strcmp(dtype, "U8")) size = 1;
  else if (!strcmp(dtype, "U16")) size = 2;
  else if (!strcmp(dtype, "U32")) size = 4;
  else if (!strcmp(dtype, "U64")) size = 8;
  else return lt_error(L, "%s: cannot convert dtype '%s'", fname, dtype);
  if (len % (size_t)size)
    return lt_error(L, "%s: %llu bytes are not whole %s values", fname, (unsigned long long)len, dtype);
  size_t n = len / (size_t)size;
  int to32 = half || bf16;
  size_t esize = to32 ? sizeof(float) : sizeof(double);
  if (n > ((size_t)-1) / esize) return lt_error(L, "%s: not enough memory", fname);
  /* scratch owned by the stack: an error anywhere leaves nothing to free */
  unsigned char *out = (unsigned char *)lua_newuserdatauv(L, n * esize > 0 ? n * esize : 1, 0);
  for (size_t i = 0; i < n; i++) {
    const unsigned char *p = s + i * (size_t)size;
    if (to32) {
      float f;
      if (half) {
        f = half_to_float((uint16_t)le(p, 2));
      } else {
        uint32_t bits = (uint32_t)le(p, 2) << 16;
        memcpy(&f, &bits, sizeof f);
      }
      memcpy(out + i * esize, &f, sizeof f);
    } else {
      double d = is_bool ? (p[0] != 0) : int_value(p, size, is_signed);
      memcpy(out + i * esize, &d, sizeof d);
    }
  }
  lua_pushlstring(L, (const char *)out, n * esize);
  lua_pushstring(L, to32 ? "float32" : "float64");
  return 2;
}

static const lt_reg fns[] = {
  {"_u64le_pack", "lucid.save", l_u64le_pack, NULL, LT_MODULE},
  {"_u64le_unpack", "lucid.load", l_u64le_unpack, NULL, LT_MODULE},
  {"_bytes_to_float", "lucid.load", l_bytes_to_float, NULL, LT_MODULE},
  {NULL, NULL, NULL, NULL, 0}};

void lt_register_bytes(lua_State *L, int state, int methods, int module) {
  lt_register(L, state, methods, module, fns);
}

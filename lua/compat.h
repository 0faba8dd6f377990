/* compat.h: one binding for Lua 5.1, 5.2, 5.3, 5.4 and LuaJIT 2.1.
 *
 * The binding is written against Lua 5.4's C API. This header, included
 * once by binding.h after lua.h and lauxlib.h, supplies what older versions
 * lack, under 5.4's names, so the rest of the code has no version tests:
 *
 *   if (lua_rawgeti(L, -1, id) != LUA_TTABLE) ...   // 5.3's typed getters
 *   lua_newuserdatauv(L, size, 0);                   // 5.4's user values
 *   lua_Integer i = lua_tointegerx(L, 2, &ok);       // ok only if integral
 *
 * A module built against Lua 5.1's headers uses only the 5.1 API, so the
 * same build loads in LuaJIT (which implements that API and more); building
 * against LuaJIT's headers takes the same path. Functions LuaJIT also
 * declares are defined here under lt_compat_ names and reached through
 * macros, so the two never collide.
 *
 * What cannot be supplied is left to the caller to decide: LUA_GCISRUNNING
 * (5.1 cannot say whether the host stopped the collector: lt_gc_running
 * answers 1 there), and lua_gc's third argument, which every call passes
 * (5.4's is variadic and ignores it). */
#ifndef LUCID_COMPAT_H
#define LUCID_COMPAT_H

#include <lauxlib.h>
#include <lua.h>
#include <math.h>

#ifndef LUA_OK
#define LUA_OK 0
#endif

/* Whether the collector runs (the host may have stopped it). */
static inline int lt_gc_running(lua_State *L) {
#ifdef LUA_GCISRUNNING
  return lua_gc(L, LUA_GCISRUNNING, 0);
#else
  (void)L;
  return 1;
#endif
}

#if LUA_VERSION_NUM < 504
/* No user values are used: a user value of one userdata in 5.2/5.3 must be
 * a table, and 5.1 has environments instead. */
#define lua_newuserdatauv(L, size, nuv) lua_newuserdata((L), (size))
#endif

#if LUA_VERSION_NUM < 503
/* No integer subtype: every number is a float (whole ones are read as
 * integers where an integer is wanted). */
#define lua_isinteger(L, i) ((void)(L), (void)(i), 0)

/* 5.3's getters return the type of what they pushed. */
static inline int lt_compat_type_top(lua_State *L) { return lua_type(L, -1); }
#define lua_getfield(L, i, k) (lua_getfield((L), (i), (k)), lt_compat_type_top(L))
#define lua_rawget(L, i) (lua_rawget((L), (i)), lt_compat_type_top(L))
#define lua_gettable(L, i) (lua_gettable((L), (i)), lt_compat_type_top(L))

/* Integer keys beyond int (tensor ids of a long-running game) stay exact:
 * 5.1's and 5.2's lua_rawgeti take an int. */
static inline int lt_compat_absindex(lua_State *L, int i) {
  return i > 0 || i <= LUA_REGISTRYINDEX ? i : lua_gettop(L) + i + 1;
}
static inline int lt_compat_rawgeti(lua_State *L, int i, lua_Integer n) {
  if (n == (lua_Integer)(int)n) {
    (lua_rawgeti)(L, i, (int)n);
  } else {
    i = lt_compat_absindex(L, i);
    lua_pushinteger(L, n);
    (lua_rawget)(L, i);
  }
  return lua_type(L, -1);
}
static inline void lt_compat_rawseti(lua_State *L, int i, lua_Integer n) {
  if (n == (lua_Integer)(int)n) {
    (lua_rawseti)(L, i, (int)n);
  } else {
    i = lt_compat_absindex(L, i);
    lua_pushinteger(L, n);
    lua_insert(L, -2);
    lua_rawset(L, i);
  }
}
#define lua_rawgeti(L, i, n) lt_compat_rawgeti((L), (i), (n))
#define lua_rawseti(L, i, n) lt_compat_rawseti((L), (i), (n))

/* 5.3's lua_tointegerx fails for a number with a fraction; older ones
 * truncate. Strings convertible to numbers count, as in 5.3. */
static inline lua_Integer lt_compat_tointegerx(lua_State *L, int i, int *isnum) {
  int ok = lua_isnumber(L, i);
  lua_Number n = ok ? lua_tonumber(L, i) : 0;
  ok = ok && n == floor(n) && n >= -9223372036854775808.0 && n < 9223372036854775808.0;
  if (isnum) *isnum = ok;
  return ok ? (lua_Integer)n : 0;
}
#define lua_tointegerx(L, i, isnum) lt_compat_tointegerx((L), (i), (isnum))
#endif

#if LUA_VERSION_NUM < 502
#define lua_rawlen(L, i) lua_objlen((L), (i))
#define lua_absindex(L, i) lt_compat_absindex((L), (i))
#define luaL_setmetatable(L, name) (luaL_getmetatable((L), (name)), lua_setmetatable((L), -2))

/* 5.2's luaL_testudata: the userdata at i if its metatable is name's, else NULL. */
static inline void *lt_compat_testudata(lua_State *L, int i, const char *name) {
  void *p = lua_touserdata(L, i);
  if (!p || !lua_getmetatable(L, i)) return NULL;
  luaL_getmetatable(L, name);
  int same = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  return same ? p : NULL;
}
#define luaL_testudata(L, i, name) lt_compat_testudata((L), (i), (name))
#define luaL_loadbufferx(L, b, size, name, mode) luaL_loadbuffer((L), (b), (size), (name))

/* 5.2's luaL_tolstring: __tostring, else the default form. */
static inline const char *lt_compat_tolstring(lua_State *L, int i, size_t *len) {
  if (luaL_callmeta(L, i, "__tostring")) {
    if (!lua_isstring(L, -1)) luaL_error(L, "'__tostring' must return a string");
  } else {
    switch (lua_type(L, i)) {
      case LUA_TNUMBER:
      case LUA_TSTRING: lua_pushvalue(L, i); break;
      case LUA_TBOOLEAN: lua_pushstring(L, lua_toboolean(L, i) ? "true" : "false"); break;
      case LUA_TNIL: lua_pushliteral(L, "nil"); break;
      default: lua_pushfstring(L, "%s: %p", luaL_typename(L, i), lua_topointer(L, i)); break;
    }
  }
  return lua_tolstring(L, -1, len);
}
#define luaL_tolstring(L, i, len) lt_compat_tolstring((L), (i), (len))

/* 5.2's luaL_requiref: calls open(name), sets package.loaded[name]. */
static inline void lt_compat_requiref(lua_State *L, const char *name, lua_CFunction open,
                                      int global) {
  lua_pushcfunction(L, open);
  lua_pushstring(L, name);
  lua_call(L, 1, 1);
  lua_getfield(L, LUA_REGISTRYINDEX, "_LOADED");
  lua_pushvalue(L, -2);
  lua_setfield(L, -2, name);
  lua_pop(L, 1);
  if (global) {
    lua_pushvalue(L, -1);
    lua_setglobal(L, name);
  }
}
#define luaL_requiref(L, name, open, global) lt_compat_requiref((L), (name), (open), (global))
#endif

/* Pushes package.preload (5.3+ keep it in the registry too). */
static inline void lt_compat_getpreload(lua_State *L) {
#if LUA_VERSION_NUM < 503
  lua_getglobal(L, "package");
  if (lua_type(L, -1) != LUA_TTABLE) luaL_error(L, "lucid: the package library is not open");
  lua_getfield(L, -1, "preload");
  lua_remove(L, -2);
#else
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
#endif
}

#endif

/* lucid_shape.c: the shape ops as Lua functions (lucid.op(t, ...) and t:op(...)). */
#include "binding.h"

static const luaL_Reg fns[] = {{NULL, NULL}};

void lt_register_shape(lua_State *L, int state, int methods, int module) {
  lt_setfuncs(L, module, state, fns);
  lt_setfuncs(L, methods, state, fns);
}

/* lucid_args.c: the binding's one argument checker, and the one way its
 * functions are registered.
 *
 * A schema is a static const array of lt_arg rows ending in {NULL}: one row
 * per argument after the tensor the method is called on, in PyTorch's order:
 *   static const lt_arg DIM_KEEP[] = {
 *     {"dim", LT_K_DIM, 0, 0, NULL}, {"keepdim", LT_K_BOOL, 0, 0, NULL}, {NULL}};
 * {name, kind, flags (LT_REQ required, LT_KW by name only, LT_POS
 * positionally only), default (numbers, integers, booleans), what (the
 * expected type in messages, when the kind's own words do not fit)}.
 * A function registers as a row {lua name, "lucid.name", C function, schema,
 * where} of its family's lt_reg table, which lt_register binds; the closure
 * gets the row as upvalue 2, so the function and lucid.core._options read
 * the very same schema:
 *   static const lt_reg fns[] = {LT_ROW(sum, l_sum, DIM_KEEP, LT_BOTH), ..., {NULL}};
 *   static int l_sum(lua_State *L) {  // lt_args: rows -> v[], or an error
 *     lc_tensor *a = lt_check(L, 1); lt_val v[2]; const char *fname = lt_args(L, 2, a->ndim, v);
 *     ... v[0].i (0-based dim, -1 absent), v[1].b ... }
 *
 * Arguments go positionally in row order, or by name in one trailing table,
 * or both (positions first). The trailing table is options unless a row
 * that takes tables (LT_K_ANY, LT_K_SHAPE) could take it positionally and it
 * does not look like options (its first key is not a string). Cost: a call
 * without an options table touches no table and allocates nothing; the
 * table is walked once, with lua_next, only when there is one. */
#include <string.h>

#include "binding.h"

/* ---- messages ---------------------------------------------------------------------- */

static const char *got_type(lua_State *L, int idx, int want_integer) {
  if (lua_type(L, idx) == LUA_TNUMBER && want_integer) return "a fraction";
  if (lt_tobox(L, idx)) return "a tensor";
  return luaL_typename(L, idx);
}

static const char *kind_what(const lt_arg *a) {
  if (a->what) return a->what;
  switch (a->kind) {
    case LT_K_TENSOR: return "a tensor";
    case LT_K_OPERAND: return "a tensor or a number";
    case LT_K_NUMBER: return "a number";
    case LT_K_INTEGER: case LT_K_DIM: case LT_K_DIM_0D: return "an integer";
    case LT_K_BOOL: return "a boolean";
    case LT_K_DTYPE: return "a dtype name";
    case LT_K_STRING: return "a string";
    default: return "a value";
  }
}

static void type_error(lua_State *L, const char *fname, const lt_arg *a, const lt_val *v) {
  int integral = a->kind == LT_K_INTEGER || a->kind == LT_K_DIM || a->kind == LT_K_DIM_0D;
  if (v->named)
    lt_error(L, "%s: option '%s' must be %s, got %s", fname, a->name, kind_what(a),
             got_type(L, v->idx, integral));
  lt_error(L, "%s: %s must be %s, got %s", fname, a->name, kind_what(a),
           got_type(L, v->idx, integral));
}

/* Optimal string alignment distance (Levenshtein plus swaps of neighbours:
 * "requires_gard" is one edit from "requires_grad"), for names < 64 chars. */
static int edit_distance(const char *a, const char *b) {
  size_t n = strlen(a), m = strlen(b);
  if (n >= 64 || m >= 64) return 99;
  int d[64][64];
  for (size_t i = 0; i <= n; i++) d[i][0] = (int)i;
  for (size_t j = 0; j <= m; j++) d[0][j] = (int)j;
  for (size_t i = 1; i <= n; i++)
    for (size_t j = 1; j <= m; j++) {
      int c = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
      if (d[i - 1][j] + 1 < c) c = d[i - 1][j] + 1;
      if (d[i][j - 1] + 1 < c) c = d[i][j - 1] + 1;
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < c)
        c = d[i - 2][j - 2] + 1;
      d[i][j] = c;
    }
  return d[n][m];
}

/* The key at -2 (the value at -1, as lua_next leaves them) is no option. */
static void unknown_option(lua_State *L, const lt_reg *fn) {
  const char *key = luaL_tolstring(L, -2, NULL);  /* pushes the key as text */
  const char *best = NULL;
  int best_d = 99, n = 0;
  for (const lt_arg *a = fn->args; a && a->name; a++) {
    if (a->flags & LT_POS) continue;
    n++;
    int d = edit_distance(key, a->name);
    if (d < best_d) best_d = d, best = a->name;
  }
  /* close: at most 2 edits, and fewer than half the key's letters */
  if (best && lua_type(L, -3) == LUA_TSTRING && best_d <= 2 && 2 * best_d < (int)strlen(key))
    lt_error(L, "%s: unknown option '%s' (did you mean '%s'?)", fn->fname, key, best);
  if (n == 0) lt_error(L, "%s: unknown option '%s' (it takes no options)", fn->fname, key);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  int i = 0;
  for (const lt_arg *a = fn->args; a->name; a++) {
    if (a->flags & LT_POS) continue;
    if (i++) luaL_addstring(&b, i == n ? " or " : ", ");
    luaL_addstring(&b, a->name);
  }
  luaL_pushresult(&b);
  lt_error(L, "%s: unknown option '%s' (expected %s)", fn->fname, key, lua_tostring(L, -1));
}

/* ---- parsing ----------------------------------------------------------------------- */

static int takes_table(const lt_arg *a) { return a->kind == LT_K_ANY || a->kind == LT_K_SHAPE; }

/* Whether the table at idx, last of the arguments, is a table of options:
 * 1 yes, 2 only if no row takes it by position (a list, or {}). */
static int is_options(lua_State *L, const lt_reg *fn, int idx) {
  int tables = 0;
  for (const lt_arg *a = fn->args; a && a->name; a++)
    if (!(a->flags & LT_KW) && takes_table(a)) tables = 1;
  if (!tables) return 1;
  if (lua_rawlen(L, idx) > 0) return 2;
  lua_pushnil(L);
  if (!lua_next(L, idx)) return 2;       /* {} */
  int named = lua_type(L, -2) == LUA_TSTRING;
  lua_pop(L, 2);
  return named ? 1 : 2;
}

const lt_reg *lt_fn(lua_State *L) {
  return (const lt_reg *)lua_touserdata(L, lua_upvalueindex(2));
}

/* Positional: how many of the numbers from idx to last a shape row takes,
 * leaving one to each required number row after it (full(2, 3, value)). */
static int shape_count(lua_State *L, const lt_arg *a, int idx, int last) {
  int n = 0;
  while (idx + n <= last && lua_type(L, idx + n) == LUA_TNUMBER) n++;
  for (const lt_arg *b = a + 1; b->name && n > 0; b++)
    if ((b->flags & (LT_REQ | LT_KW)) == LT_REQ && (b->kind == LT_K_NUMBER || b->kind == LT_K_INTEGER))
      n--;
  return n;
}

/* Whether a row after a takes a value by position. */
static int more_positional(const lt_arg *a) {
  for (a++; a->name; a++)
    if (!(a->flags & LT_KW)) return 1;
  return 0;
}

/* Kinds whose value the function reads from the stack (v.idx), or a
 * tensor (whose box the function may return). */
static int keeps_value(const lt_arg *a) {
  return a->kind == LT_K_ANY || a->kind == LT_K_SHAPE || a->kind == LT_K_OPERAND ||
         a->kind == LT_K_TENSOR;
}

/* Checks and converts the value at v->idx, of Lua type t, for row a. */
static void convert(lua_State *L, const char *fname, const lt_arg *a, lt_val *v, int ndim, int t) {
  int idx = v->idx;
  switch (a->kind) {
    case LT_K_ANY: case LT_K_SHAPE: return;
    case LT_K_OPERAND:
      if (t != LUA_TNUMBER && !lt_tobox(L, idx)) type_error(L, fname, a, v);
      return;
    case LT_K_TENSOR: {
      lt_box *b = t == LUA_TUSERDATA ? lt_tobox(L, idx) : NULL;
      if (!b) type_error(L, fname, a, v);
      if (!(v->t = b->t)) lt_error(L, "%s: %s: tensor was closed", fname, a->name);
      return;
    }
    case LT_K_NUMBER:
      if (t != LUA_TNUMBER) type_error(L, fname, a, v);
      v->n = lua_tonumber(L, idx);
      return;
    case LT_K_INTEGER: {
      int ok;
      v->i = lua_tointegerx(L, idx, &ok);  /* 2.0 is fine, as in Lua's own library */
      if (!ok || t != LUA_TNUMBER) type_error(L, fname, a, v);
      return;
    }
    case LT_K_DIM: case LT_K_DIM_0D: {
      if (v->named && t != LUA_TNUMBER) type_error(L, fname, a, v);
      int ok;
      lua_Integer d = lua_tointegerx(L, idx, &ok);
      if (!ok || t != LUA_TNUMBER) d = lt_integer(L, idx, "dimension", fname);  /* raises */
      if (ndim < 0) {
        v->i = d;
      } else if (d >= 1 && d <= ndim) {  /* the common case, inline */
        v->i = d - 1;
      } else if (ndim == 0 && a->kind == LT_K_DIM_0D) {
        if (d != 1 && d != -1)
          lt_error(L, "%s: dimension %lld is out of range for a 0-d tensor (expected 1 or -1)",
                   fname, (long long)d);
        v->i = 0;
      } else {
        v->i = lt_dim(L, idx, ndim, fname);
      }
      return;
    }
    case LT_K_BOOL:
      if (t != LUA_TBOOLEAN) type_error(L, fname, a, v);
      v->b = lua_toboolean(L, idx);
      return;
    case LT_K_DTYPE:
      if (t != LUA_TSTRING) type_error(L, fname, a, v);
      v->i = lt_dtype(L, idx, fname);
      return;
    case LT_K_STRING:
      if (t != LUA_TSTRING) type_error(L, fname, a, v);
      v->s = lua_tostring(L, idx);
      return;
  }
}

/* A shape row by position at cur (up to last): one table, or numbers.
 * Returns the position after it. */
static int shape_at(lua_State *L, const char *fname, const lt_arg *a, lt_val *x, int cur,
                    int last) {
  x->idx = 0;
  x->named = 0;
  x->count = 0;
  if ((a->flags & LT_KW) || cur > last) return cur;
  if (lua_istable(L, cur)) {
    x->idx = cur;
    x->count = -1;
    return cur + 1;
  }
  if ((x->count = shape_count(L, a, cur, last)) > 0) {
    x->idx = cur;
    return cur + x->count;
  }
  if (lua_isnil(L, cur)) return cur + 1;
  if (!more_positional(a))  /* neither sizes nor anything else */
    lt_error(L, "%s: expected %s as integers or one table, got %s", fname,
             a->what ? a->what : "sizes", got_type(L, cur, 0));
  return cur;
}

/* The row's default into x (absent: idx 0), or the error of a required row. */
static void set_default(lua_State *L, const char *fname, const lt_arg *a, lt_val *x) {
  if (a->flags & LT_REQ) lt_error(L, "%s: %s is required", fname, a->name);
  x->idx = 0;
  x->named = 0;
  switch (a->kind) {
    case LT_K_NUMBER: x->n = a->dflt; break;
    case LT_K_INTEGER: x->i = (lua_Integer)a->dflt; break;
    case LT_K_DIM: case LT_K_DIM_0D: x->i = -1; break;
    case LT_K_BOOL: x->b = a->dflt != 0; break;
    case LT_K_DTYPE: x->i = lc_ctx_default_dtype(LT_CTX(L)); break;
    case LT_K_TENSOR: x->t = NULL; break;
    case LT_K_STRING: x->s = NULL; break;
    default: break;
  }
}

/* The general case of lt_args: something was given. */
static const char *parse(lua_State *L, const lt_reg *fn, int first, int top, int ndim, lt_val *v) {
  const lt_arg *args = fn->args;
  const char *fname = fn->fname;
  int last = top, opts = 0, n = 0;
  if (lua_type(L, top) != LUA_TTABLE) {  /* positional only: one pass */
    int cur = first;
    const lt_arg *a = args;
    for (; a && a->name; a++, n++) {
      lt_val *x = &v[n];
      if (a->kind == LT_K_SHAPE) {
        cur = shape_at(L, fname, a, x, cur, top);
        continue;
      }
      int t = !(a->flags & LT_KW) && cur <= top ? lua_type(L, cur++) : LUA_TNIL;
      if (t != LUA_TNIL) {
        x->idx = cur - 1;
        x->named = 0;
        convert(L, fname, a, x, ndim, t);
      } else {
        set_default(L, fname, a, x);
      }
    }
    for (; cur <= top; cur++)
      if (!lua_isnil(L, cur)) lt_error(L, "%s: too many arguments", fname);
    return fname;
  } else {
    opts = is_options(L, fn, top);
  }
  if (opts == 1) last--;
  /* positional */
  int cur = first;
  for (const lt_arg *a = args; a && a->name; a++, n++) {
    lt_val *x = &v[n];
    x->idx = 0;
    x->named = 0;
    x->count = 0;
    if ((a->flags & LT_KW) || cur > last) continue;
    if (a->kind == LT_K_SHAPE) {
      cur = shape_at(L, fname, a, x, cur, last);
      continue;
    }
    if (!lua_isnil(L, cur)) x->idx = cur;
    cur++;
  }
  if (opts == 2) {  /* a list or {} last: options if no row took it */
    opts = cur == top ? top : 0;
    if (opts) last--;
  }
  opts = opts ? top : 0;
  for (; cur <= last; cur++)
    if (!lua_isnil(L, cur)) lt_error(L, "%s: too many arguments", fname);
  /* by name */
  if (opts) {
    luaL_checkstack(L, n + 4, fname);
    lua_pushnil(L);
    while (lua_next(L, opts)) {                 /* pushes key, value */
      const lt_arg *a = NULL;
      if (lua_type(L, -2) == LUA_TSTRING) {
        const char *key = lua_tostring(L, -2);
        for (a = args; a && a->name; a++)
          if (!(a->flags & LT_POS) && strcmp(a->name, key) == 0) break;
      }
      if (!a || !a->name) unknown_option(L, fn);
      lt_val *x = &v[a - args];
      if (x->idx) lt_error(L, "%s: %s is given twice (positionally and by name)", fname, a->name);
      x->named = 1;
      if (keeps_value(a)) {  /* read later at x->idx: kept on the stack */
        lua_insert(L, -2);                      /* value, key: the value stays */
        x->idx = lua_gettop(L) - 1;
        if (a->kind == LT_K_SHAPE) x->count = lua_istable(L, x->idx) ? -1 : 1;
      } else {  /* converted now; the table keeps a string alive */
        x->idx = lua_gettop(L);
        convert(L, fname, a, x, ndim, lua_type(L, x->idx));
        x->idx = opts;                          /* present (a valid index, not the value) */
        x->named = 2;                           /* converted */
        lua_pop(L, 1);
      }
    }
  }
  /* checked and converted */
  n = 0;
  for (const lt_arg *a = args; a && a->name; a++, n++) {
    if (v[n].named == 2) continue;
    if (v[n].idx) convert(L, fname, a, &v[n], ndim, lua_type(L, v[n].idx));
    else set_default(L, fname, a, &v[n]);
  }
  return fname;
}

const char *lt_args(lua_State *L, int first, int ndim, lt_val *v) {
  const lt_reg *fn = lt_fn(L);
  int top = lua_gettop(L);
  if (top >= first) return parse(L, fn, first, top, ndim, v);
  /* nothing given: the fast path of t:sum() and lucid.add(a, b) */
  if (fn->args)
    for (int n = 0; fn->args[n].name; n++) set_default(L, fn->fname, &fn->args[n], &v[n]);
  return fn->fname;
}

int lt_shape_arg(lua_State *L, const lt_val *v, int64_t *shape, const char *fname) {
  if (!v->idx) return 0;
  if (v->count < 0) return lt_shape(L, v->idx, shape, fname, NULL);
  if (v->count > LC_MAX_DIMS)
    lt_error(L, "%s: at most %d dimensions are supported", fname, LC_MAX_DIMS);
  for (int i = 0; i < v->count; i++) shape[i] = lt_size(L, v->idx + i, fname);
  return v->count;
}

/* ---- registration ------------------------------------------------------------------- */

void lt_register(lua_State *L, int state, int methods, int module, const lt_reg *rows) {
  luaL_getmetatable(L, LT_TENSOR);             /* pushes the tensor metatable */
  int meta = lua_gettop(L);
  for (const lt_reg *r = rows; r->name; r++) {
    int tables[3] = {module, methods, meta};
    for (int k = 0; k < 3; k++) {
      if (!(r->where & (1u << k))) continue;
      lua_pushvalue(L, state);
      lua_pushlightuserdata(L, (void *)r);
      lua_pushcclosure(L, r->func, 2);
      lua_setfield(L, tables[k], r->name);     /* table[name] = f, upvalues: state, row */
    }
  }
  lua_pop(L, 1);
  /* the list _options is made from: upvalue 1 of the module's __index */
  lua_getmetatable(L, module);
  lua_getfield(L, -1, "__index");
  lua_getupvalue(L, -1, 1);
  lua_pushlightuserdata(L, (void *)rows);
  lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);  /* list[#list + 1] = rows */
  lua_pop(L, 3);
}

/* module._options, made on first use (tests, docs): a table of ~150 small
 * tables that every collection would otherwise walk, for nothing, in every
 * program. Maps each function's name to the names it takes as options. */
static int options_index(lua_State *L) {
  if (lua_type(L, 2) != LUA_TSTRING || strcmp(lua_tostring(L, 2), "_options") != 0) return 0;
  lua_newtable(L);
  int options = lua_gettop(L);
  lua_pushvalue(L, lua_upvalueindex(1));       /* the list of row tables */
  lua_Integer nrows = (lua_Integer)lua_rawlen(L, -1);
  for (lua_Integer k = 1; k <= nrows; k++) {
    lua_rawgeti(L, -1, k);
    const lt_reg *r = (const lt_reg *)lua_touserdata(L, -1);
    lua_pop(L, 1);
    for (; r && r->name; r++) {
      if (r->where & LT_META) continue;
      lua_newtable(L);
      int i = 0;
      for (const lt_arg *a = r->args; a && a->name; a++) {
        if (a->flags & LT_POS) continue;
        lua_pushstring(L, a->name);
        lua_rawseti(L, -2, ++i);
      }
      lua_setfield(L, options, r->name);       /* _options[name] = {names} */
    }
  }
  lua_pushvalue(L, options);
  lua_setfield(L, 1, "_options");              /* module._options, from now on */
  lua_pushvalue(L, options);
  return 1;
}

void lt_lazy_options(lua_State *L, int module) {
  lua_createtable(L, 0, 1);
  lua_newtable(L);
  lua_pushcclosure(L, options_index, 1);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, module);
}

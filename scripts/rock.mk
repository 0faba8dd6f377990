# scripts/rock.mk: the LuaRocks side, included at the end of the top Makefile
# (it uses CC, WARN, CFLAGS, CORE_SRC, BIND_SRC, HDRS, LUA_SRC, TOOL_LUA):
#   include scripts/rock.mk
#
#   rock-build, rock-install   what scripts/lucid-scm-1.rockspec (build.type
#                "make") runs; LuaRocks passes LUA_INCDIR, LIBFLAG, CFLAGS,
#                OPENBLAS_INCDIR/LIBDIR, then ROCK_LUADIR and ROCK_LIBDIR
#   rock-test    `luarocks make` of that rockspec into build/rocktree-<v> for
#                each of ROCK_LUAS, offline; then the installed tree alone must
#                give `require "lucid"` (ROCK_REQUIRE: lucid or lucid.core)
#                and the rockspec must build exactly the files the Makefile does
#
# The objects go to build/rock<LUA_INCDIR, / turned into -> so that rocks for
# two Lua versions never share one.
ROCKSPEC     := scripts/lucid-scm-1.rockspec
ROCK_LUAS    ?= 5.4 5.1
ROCK_REQUIRE ?= lucid
ROCK_B        = build/rock$(subst /,-,$(LUA_INCDIR))
ROCK_CFLAGS   = -std=c11 -fPIC -Icore $(WARN) $(CFLAGS) -I$(LUA_INCDIR) \
                $(if $(OPENBLAS_INCDIR),-I$(OPENBLAS_INCDIR)) \
                $(shell pkg-config --cflags openblas 2>/dev/null)
ROCK_LIBS     = $(if $(OPENBLAS_LIBDIR),-L$(OPENBLAS_LIBDIR)) -lopenblas -lm
ROCK_OBJ      = $(addprefix $(ROCK_B)/,$(CORE_SRC:.c=.o) $(BIND_SRC:.c=.o))
ROCK_MODULE   = $(ROCK_B)/lucid/core.so
# run by lua<v> in rock-test, with only the rock tree on its paths
ROCK_CHECK    = local m = require('$(ROCK_REQUIRE)'); assert(type(m) == 'table'); \
                local c = require('lucid.core'); assert(type(c) == 'table'); \
                print(_VERSION .. ': require \"$(ROCK_REQUIRE)\" from the rock tree: ok')

.PHONY: rock-build rock-install rock-test rock-check-vars

rock-check-vars:
	@test -n "$(LUA_INCDIR)" || { echo "rock-build: LUA_INCDIR unset (run through luarocks make $(ROCKSPEC))" >&2; exit 1; }

rock-build: rock-check-vars
	@$(MAKE) --no-print-directory -j2 $(ROCK_MODULE)

$(ROCK_B)/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ROCK_CFLAGS) -c $< -o $@

# LIBFLAG carries the platform's way to build a module that takes its Lua
# symbols from the interpreter (-shared here; -bundle -undefined dynamic_lookup on macOS).
$(ROCK_MODULE): $(ROCK_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LIBFLAG) -pthread -o $@ $^ $(ROCK_LIBS)

rock-install: rock-check-vars
	@test -n "$(ROCK_LUADIR)" -a -n "$(ROCK_LIBDIR)" || { echo "rock-install: ROCK_LUADIR/ROCK_LIBDIR unset" >&2; exit 1; }
	install -d $(ROCK_LIBDIR)/lucid
	install -m 755 $(ROCK_MODULE) $(ROCK_LIBDIR)/lucid/core.so
	cd lua && find lucid -name '*.lua' -exec install -D -m 644 {} $(ROCK_LUADIR)/{} \;

# --deps-mode none: the only dependency is Lua itself; nothing is fetched.
# The check runs with LUA_PATH/LUA_CPATH set to the tree alone (`luarocks path`
# output plus nothing else), from build/, so neither lua/ nor build/lucid is seen.
rock-test:
	@for v in $(ROCK_LUAS); do \
	  t=$(CURDIR)/build/rocktree-$$v; rm -rf $$t; mkdir -p build; \
	  echo "luarocks --lua-version $$v --tree $$t make $(ROCKSPEC)"; \
	  luarocks --lua-version $$v --tree $$t make --deps-mode none $(ROCKSPEC) >$$t.log 2>&1 \
	    || { cat $$t.log; exit 1; }; \
	  test "$$(cd $$t && find share -name '*.lua' | sed 's|^share/lua/[^/]*/||' | sort)" = \
	       "$$(cd lua && find lucid -name '*.lua' | sort)" \
	    || { echo "rock-test: the $$v tree's Lua files differ from lua/lucid" >&2; exit 1; }; \
	  test -f $$t/lib/lua/$$v/lucid/core.so || { echo "rock-test: no lucid/core.so in $$t" >&2; exit 1; }; \
	  lp="$$(luarocks --lua-version $$v --tree $$t path --lr-path)"; \
	  lc="$$(luarocks --lua-version $$v --tree $$t path --lr-cpath)"; \
	  (cd build && LUA_PATH="$$lp" LUA_CPATH="$$lc" lua$$v -e "$(ROCK_CHECK)") || exit 1; \
	done

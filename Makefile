# Lucid for Lua. `make` builds; `make test` and `make demo` install missing
# Debian packages first (scripts/deps.sh). See README.md.

PREFIX  ?= /usr/local
DESTDIR ?=
LUA     ?= lua5.4
LUAV    := 5.4
B       := build

PKGS    := lua$(LUAV) openblas
CC      ?= cc
WARN    := -Wall -Wextra -Wshadow -Wmissing-prototypes -Wstrict-prototypes -Wpointer-arith
CFLAGS  ?= -O2 -g
ALL_CFLAGS = -std=c11 -fPIC $(WARN) $(CFLAGS) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
BLAS_LIBS  = $(shell pkg-config --libs openblas 2>/dev/null || echo -lopenblas) -lm
LUA_LIBS   = $(shell pkg-config --libs lua$(LUAV) 2>/dev/null || echo -llua$(LUAV))

CORE_SRC := $(wildcard core/*.c)
BIND_SRC := $(wildcard lua/*.c)
CORE_OBJ := $(CORE_SRC:%.c=$(B)/%.o)
BIND_OBJ := $(BIND_SRC:%.c=$(B)/%.o)
HDRS     := $(wildcard core/*.h lua/*.h)

MODULE   := $(B)/lucid/core.so
STATIC   := $(B)/liblucid.a
CTESTS   := $(B)/tests/test_core $(B)/tests/test_states

BUSTED   = $(LUA) $(shell command -v busted)
RUN_ENV  = LUA_PATH="$(CURDIR)/lua/?.lua;$(CURDIR)/lua/?/init.lua;;" LUA_CPATH="$(CURDIR)/$(B)/?.so;;"

.PHONY: all deps test ctest spec demo install clean

all: $(MODULE) $(STATIC) $(CTESTS)

$(B)/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# The module does not link liblua: the interpreter that loads it provides Lua.
$(MODULE): $(CORE_OBJ) $(BIND_OBJ)
	@mkdir -p $(dir $@)
	$(CC) -shared -o $@ $^ $(BLAS_LIBS)

$(STATIC): $(CORE_OBJ) $(BIND_OBJ)
	rm -f $@
	ar rcs $@ $^

$(B)/tests/test_core: tests/core/test_core.c $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -pthread -o $@ $^ $(BLAS_LIBS)

$(B)/tests/test_states: tests/host/test_states.c $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(STATIC) $(LUA_LIBS) $(BLAS_LIBS)

deps:
	@scripts/deps.sh

test: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory ctest spec

ctest: $(CTESTS)
	$(B)/tests/test_core
	cd tests/host && $(RUN_ENV) $(CURDIR)/$(B)/tests/test_states

spec: $(MODULE)
	$(RUN_ENV) $(BUSTED) --lpath="./lua/?.lua;./lua/?/init.lua" --cpath="./$(B)/?.so" tests

demo: deps
	@$(MAKE) --no-print-directory $(MODULE)
	$(RUN_ENV) $(LUA) scripts/demo.lua

install: $(MODULE) $(STATIC)
	install -d $(DESTDIR)$(PREFIX)/lib/lua/$(LUAV)/lucid $(DESTDIR)$(PREFIX)/share/lua/$(LUAV)
	install -m 755 $(MODULE) $(DESTDIR)$(PREFIX)/lib/lua/$(LUAV)/lucid/core.so
	install -d $(DESTDIR)$(PREFIX)/lib
	install -m 644 $(STATIC) $(DESTDIR)$(PREFIX)/lib/liblucid.a
	cd lua && find lucid -name '*.lua' -exec install -D -m 644 {} $(DESTDIR)$(PREFIX)/share/lua/$(LUAV)/{} \;

clean:
	rm -rf $(B)

# Lucid for Lua. `make` builds; `make test` and `make demo` install missing
# Debian packages first (scripts/deps.sh). See README.md.

PREFIX  ?= /usr/local
DESTDIR ?=
# LUA picks the Lua the module is built for and the specs run under:
# lua5.1 lua5.2 lua5.3 lua5.4 (the default) or luajit. Lua 5.4 builds into
# build/, the others into build/<LUA>/; LUAV is the version of its module
# paths (LuaJIT takes 5.1's, and loads 5.1 builds).
LUA     ?= lua5.4
LUAS    := lua5.1 lua5.2 lua5.3 lua5.4 luajit
ifeq ($(filter $(LUA),$(LUAS)),)
$(error LUA=$(LUA): expected one of $(LUAS))
endif
LUAV    := $(if $(filter luajit,$(LUA)),5.1,$(patsubst lua%,%,$(LUA)))
LUAPC   := $(if $(filter luajit,$(LUA)),luajit,$(LUA))
B       := $(if $(filter lua5.4,$(LUA)),build,build/$(LUA))
# The build's own tools (embedding sources, README blocks) are Lua 5.4 programs.
TOOL_LUA := lua5.4

PKGS    := $(LUAPC) openblas
CC      ?= cc
CXX     ?= c++
WARN    := -Wall -Wextra -Wshadow -Wmissing-prototypes -Wstrict-prototypes -Wpointer-arith
CFLAGS  ?= -O3 -g
ALL_CFLAGS = -std=c11 -fPIC -Icore $(WARN) $(CFLAGS) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
CORE_CFLAGS = -std=c11 -fPIC -Icore $(WARN) $(CFLAGS) $(shell pkg-config --cflags openblas 2>/dev/null)
BLAS_LIBS  = $(shell pkg-config --libs openblas 2>/dev/null || echo -lopenblas) -lm
LUA_LIBS   = $(shell pkg-config --libs $(LUAPC) 2>/dev/null || echo -l$(LUAPC))

CORE_SRC := $(wildcard core/*.c)
BIND_SRC := $(filter-out lua/lucid_repl.c lua/lucid_host.c,$(wildcard lua/*.c))
LUA_SRC  := $(sort $(shell find lua/lucid -name '*.lua'))
# The core includes no Lua header: one build of it serves every LUA.
CORE_OBJ := $(CORE_SRC:%.c=build/%.o)
BIND_OBJ := $(BIND_SRC:%.c=$(B)/%.o)
# what hosts get beyond the module: lucid.h's functions and the Lua sources
HOST_OBJ := $(B)/lua/lucid_host.o $(B)/lucid_lua_sources.o
HDRS     := $(wildcard core/*.h core/*.def lua/*.h)

MODULE   := $(B)/lucid/core.so
STATIC   := $(B)/liblucid.a
SHARED   := $(B)/liblucid.so
PCFILE   := $(B)/lucid.pc
REPL     := $(B)/bin/lucid
# The C tests of the Lua side run against every LUA; the core's own tests,
# the C++ host (through the installed lua5.4 pkg-config) and the REPL (a Lua
# 5.4 program) belong to the default build.
HOST_TESTS := $(B)/tests/readme_host $(B)/tests/test_states $(B)/tests/test_game $(B)/tests/test_threads \
              $(B)/tests/test_plan_game
ifeq ($(LUA),lua5.4)
CTESTS   := $(B)/tests/test_core $(B)/tests/test_kernels $(B)/tests/test_simd $(B)/tests/test_gemm \
            $(HOST_TESTS) $(B)/tests/readme_host_cpp $(B)/tests/test_repl
REPL_T   := $(REPL)
else
CTESTS   := $(HOST_TESTS)
REPL_T   :=
endif

BUSTED   = $(LUA) $(shell command -v busted)
RUN_ENV  = LUA_PATH="$(CURDIR)/lua/?.lua;$(CURDIR)/lua/?/init.lua;;" LUA_CPATH="$(CURDIR)/$(B)/?.so;;"

.PHONY: all deps test versions ctest spec demo bench install clean tiny-transformer pytorch-models cnn-classifier charrnn

all: $(MODULE) $(STATIC) $(SHARED) $(PCFILE) $(REPL_T) $(CTESTS)

$(B)/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

build/core/%.o: core/%.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CORE_CFLAGS) -c $< -o $@

# The module does not link liblua: the interpreter that loads it provides Lua.
$(MODULE): $(CORE_OBJ) $(BIND_OBJ)
	@mkdir -p $(dir $@)
	$(CC) -shared -pthread -o $@ $^ $(BLAS_LIBS)

$(B)/lucid_lua_sources.c: scripts/embed_lua.lua $(LUA_SRC)
	@mkdir -p $(dir $@)
	$(TOOL_LUA) scripts/embed_lua.lua $@ lua $(LUA_SRC)

$(B)/lucid_lua_sources.o: $(B)/lucid_lua_sources.c
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(STATIC): $(CORE_OBJ) $(BIND_OBJ) $(HOST_OBJ)
	rm -f $@
	ar rcs $@ $^

# For hosts that link dynamically; like the module, it leaves Lua to the host.
$(SHARED): $(CORE_OBJ) $(BIND_OBJ) $(HOST_OBJ)
	$(CC) -shared -pthread -o $@ $^ $(BLAS_LIBS)

$(PCFILE): Makefile
	@mkdir -p $(dir $@)
	printf 'prefix=%s\nlibdir=$${prefix}/lib\nincludedir=$${prefix}/include/lucid\n\nName: lucid\nDescription: Tensors, autograd and nn for Lua 5.4 hosts\nVersion: 0.1.0\nRequires.private: openblas\nCflags: -I$${includedir}\nLibs: -L$${libdir} -llucid\nLibs.private: -lm\n' '$(PREFIX)' > $@

$(B)/tests/test_core: tests/core/test_core.c tests/check.h $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -pthread -o $@ $< $(CORE_OBJ) $(BLAS_LIBS)

$(B)/tests/test_kernels: tests/core/test_kernels.c $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(BLAS_LIBS)

# Every float32 input through simd.c's kernels: the exhaustive sweep (two threads).
$(B)/tests/test_simd: tests/core/test_simd.c build/core/simd.o
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -pthread -o $@ $^ -lm

$(B)/tests/test_gemm: tests/core/test_gemm.c tests/check.h $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(CORE_OBJ) $(BLAS_LIBS)

$(B)/tests/test_states: tests/host/test_states.c tests/check.h $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Ilua -o $@ $< $(STATIC) $(LUA_LIBS) $(BLAS_LIBS)

$(B)/tests/test_threads: tests/host/test_threads.c $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Ilua -pthread -o $@ $< $(STATIC) $(LUA_LIBS) $(BLAS_LIBS)

# The README's host program, exactly as printed there.
$(B)/tests/readme_host.c: README.md scripts/readme_block.lua
	@mkdir -p $(dir $@)
	$(TOOL_LUA) scripts/readme_block.lua README.md "Embedding in a C or C++ host" c > $@

$(B)/tests/readme_host: $(B)/tests/readme_host.c $(STATIC)
	$(CC) $(ALL_CFLAGS) -Ilua -o $@ $< $(STATIC) $(LUA_LIBS) $(BLAS_LIBS)

# The same program as C++ (lucid.h is extern "C"), built the way the README
# says: installed into a staging prefix, then through pkg-config.
$(B)/tests/readme_host_cpp: $(B)/tests/readme_host.c $(STATIC) $(SHARED) $(REPL)
	rm -rf $(B)/stage
	$(MAKE) --no-print-directory install DESTDIR= PREFIX=$(CURDIR)/$(B)/stage >/dev/null
	PKG_CONFIG_PATH=$(CURDIR)/$(B)/stage/lib/pkgconfig $(CXX) -x c++ -std=c++11 -Wall -o $@ $< \
	  $$(PKG_CONFIG_PATH=$(CURDIR)/$(B)/stage/lib/pkgconfig pkg-config --cflags --libs lucid lua$(LUAV)) \
	  -Wl,-rpath,$(CURDIR)/$(B)/stage/lib

# A game loop hosting a Lua policy, the way lucid.h's example does.
$(B)/tests/test_game: tests/host/game.c tests/host/host_alloc.h tests/check.h $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Ilua -pthread -o $@ $< $(STATIC) $(LUA_LIBS) $(BLAS_LIBS)

# The same game with 1000 agents, the model compiled and run from C (lucid_plan_run).
$(B)/tests/test_plan_game: tests/host/plan_game.c tests/host/host_alloc.h tests/check.h $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Ilua -pthread -o $@ $< $(STATIC) $(LUA_LIBS) $(BLAS_LIBS)

# The `lucid` command: a Lua 5.4 interpreter with the library preloaded, and a REPL.
$(REPL): lua/lucid_repl.c $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(STATIC) $(LUA_LIBS) $(BLAS_LIBS) -lreadline

# Drives the REPL through a pseudo-terminal.
$(B)/tests/test_repl: tests/host/test_repl.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< -lutil

deps:
	@scripts/deps.sh

# The builds run two jobs at a time (CI's machine has two cores), and so do
# the checks: two lines of them, each one check after the other (-j1: no two
# checks of a line share the core or a build directory), the lines side by
# side, about as long as each other. Everything they read is built first;
# what they build then is each line's own (line 2 builds every other Lua's
# module, line 1 none), and every line of their output says which it is
# ([1] or [2]); a line stops at its first failure and make test fails when
# either does.
TEST_LINE_1 := lint ctest spec rock-test fuzz-replay sanitize
TEST_LINE_2 := oom-sweep valgrind versions love-test nvim-test install-test doc
test: deps
	@$(MAKE) --no-print-directory -j2 all sanitize-build $(B)/tests/oom_sweep
	@$(MAKE) --no-print-directory -j2 test-line-1 test-line-2

.PHONY: test-line-1 test-line-2
test-line-1 test-line-2: test-line-%:
	@mkdir -p build
	@{ $(MAKE) --no-print-directory -j1 $(TEST_LINE_$*) 2>&1; echo $$? > build/test-line-$*.status; } \
	  | sed -u 's/^/[$*] /'; \
	  status=$$(cat build/test-line-$*.status); \
	  echo "[$*] line $* ($(TEST_LINE_$*)): $$(test $$status = 0 && echo ok || echo FAILED)"; \
	  exit $$status

# Every other Lua: its module, the C hosts against it and the whole busted
# suite under it (Lua 5.4's ran above, with the sanitizers and valgrind).
OTHER_LUAS := $(filter-out lua5.4,$(LUAS))
versions:
	@for v in $(OTHER_LUAS); do \
	  echo "== $$v"; \
	  $(MAKE) --no-print-directory -j2 LUA=$$v all && \
	    $(MAKE) --no-print-directory LUA=$$v ctest spec || exit 1; \
	done

ctest: $(CTESTS) $(REPL_T)
ifeq ($(LUA),lua5.4)
	$(B)/tests/test_core
	$(B)/tests/test_kernels
	$(B)/tests/test_simd
	$(B)/tests/test_gemm
endif
	cd tests/host && $(RUN_ENV) $(CURDIR)/$(B)/tests/test_states
	cd tests/host && $(CURDIR)/$(B)/tests/test_game 300
	cd tests/host && $(CURDIR)/$(B)/tests/test_plan_game 200
	$(B)/tests/test_threads
	$(B)/tests/readme_host
ifeq ($(LUA),lua5.4)
	$(B)/tests/readme_host_cpp
	$(RUN_ENV) $(B)/tests/test_repl $(REPL)
endif

spec: $(MODULE)
	$(RUN_ENV) $(BUSTED) --lpath="./lua/?.lua;./lua/?/init.lua" --cpath="./$(B)/?.so" tests

# The docs' examples, then the project's main job: a spiral classifier that
# trains, saves, reloads and draws its decision regions (into build/demo).
demo: deps
	@$(MAKE) --no-print-directory $(MODULE)
	$(RUN_ENV) $(LUA) scripts/demo.lua
	$(RUN_ENV) $(LUA) scripts/spiral.lua --out $(B)/demo

# The character-level transformer example in full (about 1500 steps; see its header).
tiny-transformer: $(MODULE)
	$(RUN_ENV) $(LUA) scripts/tiny_transformer.lua --out $(B)/tiny_transformer

# The CNN image classifier in full (10 epochs over 8000 generated 16x16
# images, about a minute), into build/cnn_classifier.
cnn-classifier: $(MODULE)
	$(RUN_ENV) $(LUA) scripts/cnn_classifier.lua --out $(B)/cnn_classifier

# The char-rnn example in full (500 steps of an LSTM on the GPL-3 text), into
# build/charrnn.
charrnn: $(MODULE)
	$(RUN_ENV) $(LUA) scripts/charrnn.lua --out $(B)/charrnn

# The example loading a CNN and an LSTM PyTorch trained, with 300 fine-tuning steps.
pytorch-models: $(MODULE)
	$(RUN_ENV) $(LUA) scripts/pytorch_models.lua --steps 300 --out $(B)/pytorch_models

# Every workload of issues 6 and 14 through the public API, beside PyTorch (when
# Debian's python3-torch is there) and ONNX Runtime (when node and npm's
# onnxruntime-node are: `make bench-deps` installs it under build/node) in the
# same run, with the limits of scripts/bench's C programs and a game loop's
# frame times; prints the tables and writes them to build/bench.md. Reported,
# never asserted. From the default build, the batch-1 rows are also timed under LuaJIT.
BENCH_PROGS := $(B)/bench/gemv_chain $(B)/bench/memcopy $(B)/bench/game_loop
ORT_NODE    ?= onnxruntime-node
bench: deps
	@$(MAKE) --no-print-directory $(MODULE) $(BENCH_PROGS)
ifeq ($(LUA),lua5.4)
	@$(MAKE) --no-print-directory LUA=luajit build/luajit/lucid/core.so
endif
	$(RUN_ENV) ORT_MODULES=$(CURDIR)/build/node/node_modules \
	  $(LUA) scripts/bench/run.lua $(CURDIR)/$(B) $(CURDIR)/build/luajit
	@$(MAKE) --no-print-directory simd-speed || echo "simd_speed: skipped (needs x86-64 and glibc's libmvec)"

# simd.c's float32 kernels per element beside glibc's libmvec, in one run (0.1 s).
.PHONY: simd-speed
simd-speed: $(B)/bench/simd_speed
	$(B)/bench/simd_speed
	$(B)/bench/simd_speed 1048576

$(B)/bench/simd_speed: scripts/bench/simd_speed.c scripts/bench/timing.h build/core/simd.o
	@mkdir -p $(dir $@)
	$(CC) $(CORE_CFLAGS) -o $@ $< build/core/simd.o -lmvec -lm

$(B)/bench/gemv_chain $(B)/bench/memcopy: $(B)/bench/%: scripts/bench/%.c scripts/bench/timing.h
	@mkdir -p $(dir $@)
	$(CC) $(CORE_CFLAGS) -o $@ $< $(BLAS_LIBS)

$(B)/bench/game_loop: scripts/bench/game_loop.c scripts/bench/timing.h $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Ilua -o $@ $< $(STATIC) $(LUA_LIBS) $(BLAS_LIBS)

# ONNX Runtime for bench's column, from npm (--ignore-scripts: the package's
# CPU library comes inside it, nothing else is downloaded), under build/node.
.PHONY: bench-deps
bench-deps:
	mkdir -p build/node
	npm install --prefix build/node --ignore-scripts --no-audit --no-fund $(ORT_NODE)

# Every LUA installs its module under its own version's paths (LuaJIT: 5.1's).
# The C-host library, lucid.pc, the headers and the `lucid` command (a Lua 5.4
# program) come from the default build only: other versions' host libraries
# stay in build/<LUA>/ for hosts to link from there.
install: $(MODULE) $(if $(filter lua5.4,$(LUA)),$(STATIC) $(SHARED) $(REPL))
	install -d $(DESTDIR)$(PREFIX)/lib/lua/$(LUAV)/lucid $(DESTDIR)$(PREFIX)/share/lua/$(LUAV)
	install -m 755 $(MODULE) $(DESTDIR)$(PREFIX)/lib/lua/$(LUAV)/lucid/core.so
	cd lua && find lucid -name '*.lua' -exec install -D -m 644 {} $(DESTDIR)$(PREFIX)/share/lua/$(LUAV)/{} \;
ifeq ($(LUA),lua5.4)
	@rm -f $(PCFILE) && $(MAKE) --no-print-directory $(PCFILE) PREFIX=$(PREFIX)
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include/lucid $(DESTDIR)$(PREFIX)/bin
	install -m 644 $(STATIC) $(DESTDIR)$(PREFIX)/lib/liblucid.a
	install -m 755 $(SHARED) $(DESTDIR)$(PREFIX)/lib/liblucid.so
	install -m 644 $(PCFILE) $(DESTDIR)$(PREFIX)/lib/pkgconfig/lucid.pc
	install -m 644 lua/lucid.h core/lc.h core/lc_elementwise.h core/lc_reduce.h core/lc_shape.h core/lc_linalg.h core/lc_attention.h core/lc_pool.h core/lc_conv.h core/lc_loss.h core/lc_rnn.h core/lc_plan.h $(DESTDIR)$(PREFIX)/include/lucid/
	install -m 755 $(REPL) $(DESTDIR)$(PREFIX)/bin/lucid
endif

clean:
	rm -rf $(B)

# Reliability checks and fuzzing (issue 7): their own fragments.
include tests/reliability/reliability.mk
include tests/fuzz/fuzz.mk

# The API reference (LDoc) and help()'s texts from the same comments.
include scripts/doc.mk
# The LÖVE game (issue 13): love, love-test (part of make test), love-screenshot.
include scripts/love/love.mk
# LuaRocks (rock-test) and the linters (lint).
include scripts/rock.mk
include scripts/lint.mk
# `make install` for every Lua version, checked in a staging prefix.
include scripts/install.mk
# The Neovim plugin (issue 13): nvim, nvim-test (part of make test).
include scripts/nvim/nvim.mk

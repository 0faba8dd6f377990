# tests/reliability/reliability.mk: the reliability checks (issue 7), included
# at the end of the top Makefile (it uses B, LUA, CORE_SRC, BIND_SRC, HDRS,
# ALL_CFLAGS, LUA_LIBS, BLAS_LIBS, RUN_ENV, MODULE, STATIC and the rule for
# $(B)/lucid_lua_sources.c and $(B)/tests/readme_host.c):
#   include tests/reliability/reliability.mk
#
#   make sanitize    the C tests, the OOM sweep, the busted suite and the probe,
#                    built with AddressSanitizer + UndefinedBehaviorSanitizer
#                    into $(B)/asan/ (never mixed with the normal objects)
#   make valgrind    memcheck over the C tests and a Lua training script
#   make oom-sweep   a training script with allocation N refused, every N
#   make probe       every public function called with hostile arguments
#   make soak        200,000 training steps: resident memory must stay flat
#
# Knobs: PROBE_SEEDS, PROBE_CALLS, SAN_PROBE_SEEDS, SAN_PROBE_CALLS, OOM_SWEEP_FLAGS, OOM_LAYERS_FLAGS,
# SAN_OOM_SWEEP_FLAGS, SAN_CC (a gcc: its libasan is preloaded into lua5.4).
REL        := tests/reliability
ASAN_B     := $(B)/asan
SAN_CC     ?= gcc
SAN        := -fsanitize=address,undefined,float-cast-overflow -fno-omit-frame-pointer
SAN_CFLAGS  = $(filter-out -O2 -O3,$(ALL_CFLAGS)) -O1 $(SAN)
ASAN_CORE_OBJ := $(CORE_SRC:%.c=$(ASAN_B)/%.o)
ASAN_BIND_OBJ := $(BIND_SRC:%.c=$(ASAN_B)/%.o)
ASAN_HOST_OBJ := $(ASAN_B)/lua/lucid_host.o $(ASAN_B)/lucid_lua_sources.o
ASAN_MODULE   := $(ASAN_B)/lucid/core.so
ASAN_STATIC   := $(ASAN_B)/liblucid.a
ASAN_CTESTS   := $(ASAN_B)/tests/test_core $(ASAN_B)/tests/test_kernels $(ASAN_B)/tests/test_gemm \
                 $(ASAN_B)/tests/test_states $(ASAN_B)/tests/test_game \
                 $(ASAN_B)/tests/test_threads $(ASAN_B)/tests/readme_host $(ASAN_B)/tests/oom_sweep \
                 $(ASAN_B)/tests/test_plan_game
# the C tests valgrind runs (ctest's, but the C++ build, the REPL's pty driver and
# test_gemm, whose sweep of shapes would take memcheck minutes: ASan runs it)
VG_CTESTS     := $(B)/tests/test_core $(B)/tests/test_kernels $(B)/tests/test_states \
                 $(B)/tests/test_game $(B)/tests/test_threads $(B)/tests/readme_host \
                 $(B)/tests/test_plan_game

PROBE_SEEDS     ?= 1 2 3 4 5
PROBE_CALLS     ?= 100000
# CI's share of these checks is bounded (make test stays well under 30
# minutes on a slow 2-core machine): one seed of the probe under ASan, and
# the sweeps below refuse every 2nd to 50th allocation; the knobs set to
# their fuller values (PROBE and SAN seeds 1 2 3, OOM_SWEEP_FLAGS=) run more.
SAN_PROBE_SEEDS ?= 1
# under ASan a call costs about 2 ms: 30,000 calls are about a minute
SAN_PROBE_CALLS ?= 30000
OOM_SWEEP_FLAGS ?= --every 2
# oom_layers.lua makes twice oom_script's allocations: every 4th one in CI
OOM_LAYERS_FLAGS ?= --every 4
SAN_OOM_SWEEP_FLAGS ?= --every 10
# Loading the library is ~20,000 allocations of tables and closures, and a
# sweep costs the square of a script's count: oom_load.lua is swept at every
# 10th allocation (every 50th under ASan); the scripts that use the library
# run --warm (loaded first) and are swept at every 2nd.
OOM_LOAD_FLAGS ?= --every 10
SAN_OOM_LOAD_FLAGS ?= --every 50
PROBE_VMEM_KB   ?= 1048576

# The sanitizers' settings. Leak checking stays on: lua5.4 and busted end
# with lua_close, so everything the library allocated must be gone by exit.
# allocator_may_return_null: a request ASan cannot or will not serve returns
# NULL, which the library turns into "not enough memory" (as malloc would);
# max_allocation_size_mb caps single allocations (ulimit -v cannot be used
# under ASan, which reserves terabytes of shadow address space).
# OpenBLAS gets one thread: its pool does not survive oom_sweep's forks.
SAN_OPTS = ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1:max_allocation_size_mb=$(1):strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1 \
           LSAN_OPTIONS=suppressions=$(abspath $(REL)/lsan.supp):print_suppressions=0 \
           UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
           OPENBLAS_NUM_THREADS=1
# lua5.4 is not instrumented: the ASan runtime is preloaded, and so is the
# module itself, so that lua_close's dlclose does not unload it before
# LeakSanitizer symbolizes its stacks.
LIBASAN     = $(shell $(SAN_CC) -print-file-name=libasan.so)
SAN_LUA_ENV = LD_PRELOAD="$(LIBASAN) $(abspath $(ASAN_MODULE))" \
              LUA_PATH="$(CURDIR)/lua/?.lua;$(CURDIR)/lua/?/init.lua;;" \
              LUA_CPATH="$(abspath $(ASAN_B))/?.so;;"
REL_LUA_ENV = OPENBLAS_NUM_THREADS=1 LUA_PATH="$(CURDIR)/lua/?.lua;$(CURDIR)/lua/?/init.lua;;" \
              LUA_CPATH="$(CURDIR)/$(B)/?.so;;"

.PHONY: sanitize sanitize-build valgrind oom-sweep probe soak

# ---- the sanitizer build ---------------------------------------------------------
$(ASAN_B)/%.o: %.c $(HDRS) $(REL)/reliability.mk
	@mkdir -p $(dir $@)
	$(SAN_CC) $(SAN_CFLAGS) -c $< -o $@

$(ASAN_B)/lucid_lua_sources.o: $(B)/lucid_lua_sources.c $(REL)/reliability.mk
	@mkdir -p $(dir $@)
	$(SAN_CC) $(SAN_CFLAGS) -c $< -o $@

$(ASAN_MODULE): $(ASAN_CORE_OBJ) $(ASAN_BIND_OBJ)
	@mkdir -p $(dir $@)
	$(SAN_CC) -shared -pthread $(SAN) -o $@ $^ $(BLAS_LIBS)

$(ASAN_STATIC): $(ASAN_CORE_OBJ) $(ASAN_BIND_OBJ) $(ASAN_HOST_OBJ)
	rm -f $@
	ar rcs $@ $^

$(ASAN_B)/tests/test_core: tests/core/test_core.c tests/check.h $(ASAN_CORE_OBJ)
	@mkdir -p $(dir $@)
	$(SAN_CC) $(SAN_CFLAGS) -pthread -o $@ $< $(ASAN_CORE_OBJ) $(BLAS_LIBS)

$(ASAN_B)/tests/test_kernels: tests/core/test_kernels.c $(ASAN_CORE_OBJ)
	@mkdir -p $(dir $@)
	$(SAN_CC) $(SAN_CFLAGS) -o $@ $^ $(BLAS_LIBS)

$(ASAN_B)/tests/test_gemm: tests/core/test_gemm.c tests/check.h $(ASAN_CORE_OBJ)
	@mkdir -p $(dir $@)
	$(SAN_CC) $(SAN_CFLAGS) -o $@ $< $(ASAN_CORE_OBJ) $(BLAS_LIBS)

$(ASAN_B)/tests/test_states: tests/host/test_states.c tests/check.h $(ASAN_STATIC)
	@mkdir -p $(dir $@)
	$(SAN_CC) $(SAN_CFLAGS) -Ilua -o $@ $< $(ASAN_STATIC) $(LUA_LIBS) $(BLAS_LIBS)

$(ASAN_B)/tests/test_threads: tests/host/test_threads.c $(ASAN_STATIC)
	@mkdir -p $(dir $@)
	$(SAN_CC) $(SAN_CFLAGS) -Ilua -pthread -o $@ $< $(ASAN_STATIC) $(LUA_LIBS) $(BLAS_LIBS)

$(ASAN_B)/tests/test_game: tests/host/game.c tests/host/host_alloc.h tests/check.h $(ASAN_STATIC)
	@mkdir -p $(dir $@)
	$(SAN_CC) $(SAN_CFLAGS) -Ilua -pthread -o $@ $< $(ASAN_STATIC) $(LUA_LIBS) $(BLAS_LIBS)

$(ASAN_B)/tests/test_plan_game: tests/host/plan_game.c tests/host/host_alloc.h tests/check.h $(ASAN_STATIC)
	@mkdir -p $(dir $@)
	$(SAN_CC) $(SAN_CFLAGS) -Ilua -pthread -o $@ $< $(ASAN_STATIC) $(LUA_LIBS) $(BLAS_LIBS)

$(ASAN_B)/tests/readme_host: $(B)/tests/readme_host.c $(ASAN_STATIC)
	@mkdir -p $(dir $@)
	$(SAN_CC) $(SAN_CFLAGS) -Ilua -o $@ $< $(ASAN_STATIC) $(LUA_LIBS) $(BLAS_LIBS)

$(ASAN_B)/tests/oom_sweep: $(REL)/oom_sweep.c $(ASAN_STATIC)
	@mkdir -p $(dir $@)
	$(SAN_CC) $(SAN_CFLAGS) -Ilua -rdynamic -o $@ $< $(ASAN_STATIC) $(LUA_LIBS) $(BLAS_LIBS)

sanitize-build: $(ASAN_MODULE) $(ASAN_CTESTS)

# Everything below stops at the first report (halt_on_error, ASan's default).
sanitize: sanitize-build
	$(call SAN_OPTS,256) $(ASAN_B)/tests/test_core
	$(call SAN_OPTS,256) $(ASAN_B)/tests/test_kernels
	$(call SAN_OPTS,256) $(ASAN_B)/tests/test_gemm
	cd tests/host && $(call SAN_OPTS,256) $(RUN_ENV) $(CURDIR)/$(ASAN_B)/tests/test_states
	cd tests/host && $(call SAN_OPTS,256) $(CURDIR)/$(ASAN_B)/tests/test_game 300
	cd tests/host && $(call SAN_OPTS,256) $(CURDIR)/$(ASAN_B)/tests/test_plan_game 40
	$(call SAN_OPTS,256) $(ASAN_B)/tests/test_threads
	$(call SAN_OPTS,256) $(ASAN_B)/tests/readme_host
	$(call SAN_OPTS,256) $(ASAN_B)/tests/oom_sweep $(SAN_OOM_LOAD_FLAGS) $(REL)/oom_load.lua
	$(call SAN_OPTS,256) $(ASAN_B)/tests/oom_sweep --warm $(SAN_OOM_SWEEP_FLAGS) $(REL)/oom_script.lua
	$(call SAN_OPTS,256) $(ASAN_B)/tests/oom_sweep --warm $(SAN_OOM_SWEEP_FLAGS) $(REL)/oom_layers.lua
	$(call SAN_OPTS,1024) LUCID_ALLOC_CAPPED=1 $(SAN_LUA_ENV) $(LUA) $(shell command -v busted) \
	  --lpath="./lua/?.lua;./lua/?/init.lua" --cpath="./$(ASAN_B)/?.so" tests
	@tmp=$$(mktemp -d) && cd $$tmp && status=0 && for seed in $(SAN_PROBE_SEEDS); do \
	  echo "probe.lua --seed $$seed --calls $(SAN_PROBE_CALLS) (ASan, UBSan)"; \
	  $(call SAN_OPTS,256) $(SAN_LUA_ENV) $(LUA) $(CURDIR)/$(REL)/probe.lua --seed $$seed \
	    --calls $(SAN_PROBE_CALLS) || status=1; \
	done; cd / && rm -rf $$tmp && exit $$status

# ---- valgrind ---------------------------------------------------------------------
VALGRIND = valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
           --show-leak-kinds=definite,indirect --keep-debuginfo=yes

valgrind: $(VG_CTESTS) $(MODULE)
	@command -v valgrind >/dev/null || scripts/deps.sh valgrind
	$(VALGRIND) $(B)/tests/test_core
	$(VALGRIND) $(B)/tests/test_kernels
	cd tests/host && $(RUN_ENV) $(VALGRIND) $(CURDIR)/$(B)/tests/test_states
	cd tests/host && $(VALGRIND) $(CURDIR)/$(B)/tests/test_game 300
	cd tests/host && $(VALGRIND) $(CURDIR)/$(B)/tests/test_plan_game 20
	$(VALGRIND) $(B)/tests/test_threads
	$(VALGRIND) $(B)/tests/readme_host
	$(REL_LUA_ENV) $(VALGRIND) $(LUA) $(REL)/train.lua

# ---- the allocation-failure sweep -------------------------------------------------
$(B)/tests/oom_sweep: $(REL)/oom_sweep.c $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Ilua -rdynamic -o $@ $< $(STATIC) $(LUA_LIBS) $(BLAS_LIBS)

oom-sweep: $(B)/tests/oom_sweep
	OPENBLAS_NUM_THREADS=1 $(B)/tests/oom_sweep $(OOM_LOAD_FLAGS) $(REL)/oom_load.lua
	OPENBLAS_NUM_THREADS=1 $(B)/tests/oom_sweep --warm $(OOM_SWEEP_FLAGS) $(REL)/oom_script.lua
	OPENBLAS_NUM_THREADS=1 $(B)/tests/oom_sweep --warm $(OOM_LAYERS_FLAGS) $(REL)/oom_layers.lua

# ---- the probe, the soak ----------------------------------------------------------
probe: $(MODULE)
	@tmp=$$(mktemp -d) && cd $$tmp && status=0 && for seed in $(PROBE_SEEDS); do \
	  echo "(ulimit -v $(PROBE_VMEM_KB); $(LUA) $(REL)/probe.lua --seed $$seed --calls $(PROBE_CALLS))"; \
	  (ulimit -v $(PROBE_VMEM_KB); $(REL_LUA_ENV) $(LUA) $(CURDIR)/$(REL)/probe.lua --seed $$seed \
	    --calls $(PROBE_CALLS)) || status=1; \
	done; cd / && rm -rf $$tmp && exit $$status

soak: $(MODULE)
	$(REL_LUA_ENV) $(LUA) $(REL)/soak.lua

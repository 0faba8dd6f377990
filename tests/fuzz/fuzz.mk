# tests/fuzz/fuzz.mk: fuzzing (issue 7), included by the top Makefile after its
# own variables (B, CC, ALL_CFLAGS, CORE_SRC, BIND_SRC, STATIC, LUA_LIBS,
# BLAS_LIBS). See tests/fuzz/README.md.
#
#   make fuzz-replay   gcc builds of the targets + replay.c, run over the
#                      checked-in corpora and crash reproducers (part of make test)
#   make fuzz          clang/libFuzzer builds with ASan+UBSan, each target
#                      fuzzed FUZZ_SECONDS (default 1800), then the corpora merged
#   make fuzz-build    only the libFuzzer binaries ($(B)/fuzz/fuzz_<target>)
#   make fuzz-check    the corpora and reproducers through those binaries
#                      (replay with ASan + UBSan)
#   make fuzz-update-corpus   replaces tests/fuzz/corpus/<target> with the
#                      minimised merge that `make fuzz` left in $(B)/fuzz/merged
#
# FUZZ_TARGETS selects targets (make fuzz FUZZ_TARGETS=ops FUZZ_SECONDS=60).

FUZZ_DIR      := tests/fuzz
FUZZ_TARGETS  ?= safetensors table ops
FUZZ_SECONDS  ?= 1800
FUZZ_CLANG    ?= clang
FUZZ_NICE     ?= nice -n 19
FUZZ_B        := $(B)/fuzz
FUZZ_HDRS     := $(FUZZ_DIR)/fuzz_common.h $(HDRS)

# per target: the longest input libFuzzer tries
FUZZ_MAXLEN_safetensors := 4096
FUZZ_MAXLEN_table       := 2048
FUZZ_MAXLEN_ops         := 1024

# ---- the Lua drivers, embedded as C arrays ----------------------------------------

$(FUZZ_B)/gen/fuzz_%.lua.h: $(FUZZ_DIR)/fuzz_%.lua
	@mkdir -p $(dir $@)
	$(TOOL_LUA) -e 'local s = io.read("a"); io.write("static const char DRIVER[] = {", (s:gsub(".", function(c) return c:byte() .. "," end)), "0};\n")' < $< > $@

# ---- replay (gcc, the normal objects) -------------------------------------------

FUZZ_REPLAY := $(FUZZ_TARGETS:%=$(FUZZ_B)/replay_%)

$(FUZZ_B)/replay_%: $(FUZZ_DIR)/fuzz_%.c $(FUZZ_B)/gen/fuzz_%.lua.h $(FUZZ_DIR)/replay.c $(FUZZ_HDRS) $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Ilua -I$(FUZZ_B)/gen -o $@ $(FUZZ_DIR)/fuzz_$*.c $(FUZZ_DIR)/replay.c $(STATIC) $(LUA_LIBS) $(BLAS_LIBS)

.PHONY: fuzz-replay fuzz fuzz-build fuzz-check fuzz-update-corpus

fuzz-replay: $(FUZZ_REPLAY)
	@status=0; for t in $(FUZZ_TARGETS); do \
	  $(FUZZ_B)/replay_$$t $(FUZZ_DIR)/corpus/$$t $$(ls -d $(FUZZ_DIR)/crashes/$$t-* 2>/dev/null) || status=1; \
	done; exit $$status

# ---- libFuzzer (clang, ASan + UBSan, the sources compiled again) -----------------

FUZZ_SAN    := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS  = $(ALL_CFLAGS) -Ilua -O1 -g $(FUZZ_SAN)
FUZZ_LIB_SRC = $(CORE_SRC) $(BIND_SRC) lua/lucid_host.c $(B)/lucid_lua_sources.c
FUZZ_LIB_OBJ = $(FUZZ_LIB_SRC:%.c=$(FUZZ_B)/obj/%.o)
FUZZ_BIN    := $(FUZZ_TARGETS:%=$(FUZZ_B)/fuzz_%)

$(FUZZ_B)/obj/%.o: %.c $(FUZZ_HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_B)/fuzz_%: $(FUZZ_DIR)/fuzz_%.c $(FUZZ_B)/gen/fuzz_%.lua.h $(FUZZ_HDRS) $(FUZZ_LIB_OBJ)
	$(FUZZ_CLANG) $(FUZZ_CFLAGS) -I$(FUZZ_B)/gen -DFUZZ_LUA_COVERAGE -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB_OBJ) $(LUA_LIBS) $(BLAS_LIBS) -pthread

fuzz-build: $(FUZZ_BIN)

.PRECIOUS: $(FUZZ_B)/obj/%.o $(FUZZ_B)/gen/fuzz_%.lua.h

# Each target runs FUZZ_SECONDS on new inputs kept in $(B)/fuzz/corpus/<t>
# (the checked-in corpus is read, never written); findings go to
# $(B)/fuzz/artifacts/, the log to $(B)/fuzz/<t>.log. Then the checked-in and
# the new corpus are merged into $(B)/fuzz/merged/<t>: the hand-made seeds
# (seed-*), plus a small set of inputs that covers every edge and every line
# pair of the library's Lua code the others reach (set cover, hit counts
# ignored: a few hundred files rather than thousands).
fuzz: $(FUZZ_BIN)
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_B)/corpus/$$t $(FUZZ_B)/artifacts; \
	  case $$t in safetensors) len=$(FUZZ_MAXLEN_safetensors);; table) len=$(FUZZ_MAXLEN_table);; *) len=$(FUZZ_MAXLEN_ops);; esac; \
	  dict=; [ -f $(FUZZ_DIR)/$$t.dict ] && dict=-dict=$(FUZZ_DIR)/$$t.dict; \
	  echo "fuzz: $$t for $(FUZZ_SECONDS) s (log: $(FUZZ_B)/$$t.log)"; \
	  $(FUZZ_NICE) $(FUZZ_B)/fuzz_$$t $(FUZZ_B)/corpus/$$t $(FUZZ_DIR)/corpus/$$t $$dict \
	    -max_len=$$len -max_total_time=$(FUZZ_SECONDS) -timeout=30 -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix=$(FUZZ_B)/artifacts/$$t- > $(FUZZ_B)/$$t.log 2>&1 \
	  || { tail -n 60 $(FUZZ_B)/$$t.log; echo "fuzz: $$t found something: see $(FUZZ_B)/artifacts/"; exit 1; }; \
	  grep -E '^(Done|stat::)' $(FUZZ_B)/$$t.log; \
	  rm -rf $(FUZZ_B)/merged/$$t && mkdir -p $(FUZZ_B)/merged/$$t; \
	  cp $(FUZZ_DIR)/corpus/$$t/seed-* $(FUZZ_B)/merged/$$t/ 2>/dev/null; \
	  $(FUZZ_NICE) $(FUZZ_B)/fuzz_$$t -set_cover_merge=1 -use_counters=0 -max_len=$$len -timeout=30 $(FUZZ_B)/merged/$$t \
	    $(FUZZ_DIR)/corpus/$$t $(FUZZ_B)/corpus/$$t > $(FUZZ_B)/$$t.merge.log 2>&1 \
	  || { tail -n 30 $(FUZZ_B)/$$t.merge.log; exit 1; }; \
	  echo "fuzz: $$t: $$(ls $(FUZZ_B)/merged/$$t | wc -l) inputs after merging into $(FUZZ_B)/merged/$$t"; \
	done

# The corpora and reproducers through the libFuzzer binaries: what
# fuzz-replay does, with ASan and UBSan watching.
fuzz-check: $(FUZZ_BIN)
	@status=0; for t in $(FUZZ_TARGETS); do \
	  files=$$(find $(FUZZ_DIR)/corpus/$$t -type f; ls -d $(FUZZ_DIR)/crashes/$$t-* 2>/dev/null); \
	  $(FUZZ_B)/fuzz_$$t $$files > $(FUZZ_B)/$$t.check.log 2>&1 \
	  && echo "fuzz-check: $$t: $$(echo $$files | wc -w) inputs, no finding" \
	  || { status=1; grep -B1 -A12 -m1 -E 'runtime error|ERROR: |==FUZZ==' $(FUZZ_B)/$$t.check.log; \
	       echo "fuzz-check: $$t failed; the input is the last 'Running:' line of $(FUZZ_B)/$$t.check.log"; }; \
	done; exit $$status

fuzz-update-corpus:
	@for t in $(FUZZ_TARGETS); do \
	  [ -d $(FUZZ_B)/merged/$$t ] || { echo "no $(FUZZ_B)/merged/$$t: run make fuzz first"; exit 1; }; \
	  rm -rf $(FUZZ_DIR)/corpus/$$t && cp -r $(FUZZ_B)/merged/$$t $(FUZZ_DIR)/corpus/$$t; \
	  echo "$(FUZZ_DIR)/corpus/$$t: $$(ls $(FUZZ_DIR)/corpus/$$t | wc -l) files"; \
	done

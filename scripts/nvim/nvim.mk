# scripts/nvim/nvim.mk: the Neovim plugin (issue 13), included by the top
# Makefile. Neovim runs LuaJIT, so the plugin loads the LuaJIT build of the
# module (build/luajit/lucid/core.so) and the Lua files from lua/; it finds
# both from its own place in the checkout (scripts/nvim/lua/lucid_nvim.lua).
#
#   make nvim       opens Neovim with the plugin (:LucidTrain, :LucidEval)
#   make nvim-pack  the plugin and the library as one Neovim package, in
#                   build/luajit/nvim/site/pack/lucid/start/lucid (copy it to
#                   ~/.local/share/nvim/site/pack/lucid/start/lucid)
#   make nvim-test  runs scripts/nvim/test.lua headless in the checkout and
#                   scripts/nvim/test_pack.lua against the package (part of
#                   make test)

NVIM       ?= nvim
NVIM_JIT   := build/luajit
NVIM_OUT   := $(NVIM_JIT)/nvim
NVIM_DEPS  := $(NVIM_JIT)/lucid/core.so
NVIM_PACK  := $(NVIM_OUT)/site/pack/lucid/start/lucid
NVIM_STEPS ?= 400
# -u NONE -i NONE: no user config or shada; and no LUA_PATH, LUA_CPATH or
# LUCID_ROOT from the caller: the tests load this checkout's lucid, or the
# package's, nothing else.
NVIM_CLEAN  = env -u LUA_PATH -u LUA_CPATH -u LUCID_ROOT $(NVIM) -u NONE -i NONE
NVIM_RUN    = $(NVIM) -u NONE -i NONE --cmd 'set rtp^=$(CURDIR)/scripts/nvim'

.PHONY: nvim nvim-test nvim-module nvim-pack

nvim-module:
	@$(MAKE) --no-print-directory LUA=luajit $(NVIM_DEPS)
	@mkdir -p $(NVIM_OUT)

nvim: nvim-module
	$(NVIM_RUN) -c 'runtime! plugin/lucid.lua'

# Neovim's loader finds lua/lucid/init.lua and the C module lua/lucid/core.so
# (luaopen_lucid_core) on 'runtimepath': the package needs no path settings.
nvim-pack: nvim-module
	rm -rf $(NVIM_PACK)
	mkdir -p $(NVIM_PACK)/lua
	cp -R scripts/nvim/plugin $(NVIM_PACK)/
	cp scripts/nvim/lua/lucid_nvim.lua $(NVIM_PACK)/lua/
	cp -R lua/lucid $(NVIM_PACK)/lua/
	cp $(NVIM_DEPS) $(NVIM_PACK)/lua/lucid/core.so

# The checks: Neovim exits with status 0; the loss started above 0.3 (a
# network at its initial weights, or a constant 0, is at 0.5 or so) and ended
# below 0.005; the training took one event-loop callback per 25 steps and the
# editor's own timer fired between them; wiping the buffer of a second run
# stopped it; :LucidEval showed the tensor; a lucid
# error in :LucidEval and in :LucidTrain, and a bad option, came back as
# error notifications with their text, and evaluation still worked after.
# Then the package: lucid.core loaded from it, no path touched, a value shown.
nvim-test: nvim-module nvim-pack
	@rm -f $(NVIM_OUT)/result.txt
	LUCID_NVIM_OUT=$(CURDIR)/$(NVIM_OUT)/result.txt LUCID_NVIM_STEPS=$(NVIM_STEPS) \
	  timeout 300 $(NVIM_CLEAN) --cmd 'set rtp^=$(CURDIR)/scripts/nvim' --headless -c 'luafile scripts/nvim/test.lua' -c 'qa!' </dev/null; \
	  status=$$?; cat $(NVIM_OUT)/result.txt; test $$status = 0
	@awk -F '\t' -v steps=$(NVIM_STEPS) 'NR == 1 && /^lucid-nvim: steps=/ { \
	    sub(/^lucid-nvim: /, ""); for (i = 1; i <= NF; i++) { p = index($$i, "="); v[substr($$i, 1, p - 1)] = substr($$i, p + 1) } found = 1 } \
	  END { \
	    if (!found) { print "nvim-test: no result line"; exit 1 } \
	    if (v["steps"] != steps) { print "nvim-test: trained " v["steps"] " steps, not " steps; exit 1 } \
	    if (!(v["loss_first"] + 0 > 0.3)) { print "nvim-test: the first loss is already low"; exit 1 } \
	    if (!(v["loss_last"] + 0 < 0.005)) { print "nvim-test: the loss did not fall below 0.005"; exit 1 } \
	    if (v["chunks"] != int((steps + 24) / 25)) { print "nvim-test: not one callback per 25 steps"; exit 1 } \
	    if (!(v["ticks"] + 0 > 0)) { print "nvim-test: the event loop did not run during training"; exit 1 } \
	    if (!(v["stopped_at"] + 0 >= 10 && v["stopped_at"] + 0 < 100000)) { print "nvim-test: wiping the buffer did not stop training"; exit 1 } \
	    if (v["eval"] != "Tensor(10.)") { print "nvim-test: LucidEval showed " v["eval"]; exit 1 } \
	    if (index(v["eval_error"], "lucid.add: shapes {2, 3} and {4} do not broadcast") == 0) { print "nvim-test: no lucid error from LucidEval"; exit 1 } \
	    if (index(v["train_error"], "optim.Adam: invalid lr: -1") != 1) { print "nvim-test: no lucid error from LucidTrain"; exit 1 } \
	    if (index(v["option_error"], "LucidTrain: unknown option") != 1) { print "nvim-test: no error for a bad option"; exit 1 } \
	    if (v["after"] != "8") { print "nvim-test: LucidEval after the errors showed " v["after"]; exit 1 } \
	    printf "nvim-test: trained in Neovim (loss %s -> %s in %s callbacks, longest %s ms), errors reported\n", \
	      v["loss_first"], v["loss_last"], v["chunks"], v["max_chunk_ms"] }' $(NVIM_OUT)/result.txt
	@rm -f $(NVIM_OUT)/pack.txt
	LUCID_NVIM_OUT=$(CURDIR)/$(NVIM_OUT)/pack.txt timeout 120 $(NVIM_CLEAN) --headless \
	  --cmd 'set packpath^=$(CURDIR)/$(NVIM_OUT)/site' -c 'luafile scripts/nvim/test_pack.lua' -c 'qa!' </dev/null; \
	  status=$$?; cat $(NVIM_OUT)/pack.txt; test $$status = 0
	@grep -q "^lucid-nvim-pack: core=$(CURDIR)/$(NVIM_PACK)/lua/lucid/core.so	paths=untouched	eval=Tensor(1.5000)$$" $(NVIM_OUT)/pack.txt \
	  || { echo "nvim-test: the package did not load lucid by itself"; exit 1; }
	@echo "nvim-test: the package loads lucid from 'runtimepath'"

# scripts/love/love.mk: the LÖVE game (issue 13), included by the top Makefile.
# LÖVE 11.4 runs LuaJIT, so the game loads the LuaJIT build of the module
# (build/luajit/lucid/core.so) and the Lua files from lua/, found through
# LUA_PATH and LUA_CPATH, which LuaJIT reads when LÖVE starts it.
#
#   make love             plays the game in a window
#   make love-test        600 frames headless; fails unless the policy learned
#                         (part of make test)
#   make love-screenshot  900 frames under Xvfb, the last one written to
#                         scripts/love/screenshot.png (the README's picture)

LOVE       ?= love
LOVE_JIT   := build/luajit
LOVE_OUT   := $(LOVE_JIT)/love
LOVE_DEPS  := $(LOVE_JIT)/lucid/core.so
# XDG_RUNTIME_DIR: SDL complains without one; the test's files stay in the build.
LOVE_ENV    = LUA_PATH="$(CURDIR)/lua/?.lua;$(CURDIR)/lua/?/init.lua;;" \
  LUA_CPATH="$(CURDIR)/$(LOVE_JIT)/?.so;;" XDG_RUNTIME_DIR="$(CURDIR)/$(LOVE_OUT)/run"

.PHONY: love love-test love-screenshot love-module

love-module:
	@$(MAKE) --no-print-directory LUA=luajit $(LOVE_DEPS)
	@mkdir -p $(LOVE_OUT)/run && chmod 700 $(LOVE_OUT)/run

love: love-module
	$(LOVE_ENV) $(LOVE) scripts/love

# The checks: the checkpoint came back the same, and in the last 100 frames
# the learners ate at least twice what they ate in the first 100 (an untrained
# policy wanders like the random agents) and three times what the random
# agents ate, and their mean reward rose by 0.3 (the reward is in units of a
# full-speed step towards food: at most about 1 without eating).
love-test: love-module
	@rm -f $(LOVE_OUT)/result.txt
	$(LOVE_ENV) LUCID_LOVE_HEADLESS=1 timeout 300 $(LOVE) scripts/love --frames 600 --seed 1 \
	  --save $(CURDIR)/$(LOVE_OUT)/policy.safetensors > $(LOVE_OUT)/result.txt; \
	  status=$$?; cat $(LOVE_OUT)/result.txt; test $$status = 0
	@awk '/^lucid-love:/ { for (i = 2; i <= NF; i++) { split($$i, kv, "="); v[kv[1]] = kv[2] } found = 1 } \
	  END { \
	    if (!found) { print "love-test: no result line"; exit 1 } \
	    if (v["checkpoint"] != "same") { print "love-test: the reloaded checkpoint differs"; exit 1 } \
	    if (!(v["eaten_last"] + 0 >= 2 * v["eaten_first"])) { print "love-test: no more food eaten late than early"; exit 1 } \
	    if (!(v["eaten_last"] + 0 >= 3 * v["eaten_random"])) { print "love-test: learners no better than random agents"; exit 1 } \
	    if (!(v["reward_last"] + 0 >= v["reward_first"] + 0.3)) { print "love-test: the reward did not rise"; exit 1 } \
	    printf "love-test: learned (food %s -> %s per agent per 100 frames, random %s)\n", \
	      v["eaten_first"], v["eaten_last"], v["eaten_random"] }' $(LOVE_OUT)/result.txt

love-screenshot: love-module
	$(LOVE_ENV) xvfb-run -a -s "-screen 0 1024x768x24" timeout 300 $(LOVE) scripts/love --frames 900 --seed 1 \
	  --save $(CURDIR)/$(LOVE_OUT)/policy.safetensors --screenshot $(CURDIR)/scripts/love/screenshot.png

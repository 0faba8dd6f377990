# scripts/install.mk: `make install` for the other Lua versions, checked.
# Included at the end of the top Makefile.
#
#   make install-test   installs the lua5.1 and the luajit builds, each into
#                       its own staging prefix under build/install-test/, and
#                       loads each install with nothing but its paths: the 5.1
#                       build in lua5.1 and in LuaJIT (a module built for 5.1
#                       loads in LuaJIT), the LuaJIT build in LuaJIT. Both go
#                       under lib/lua/5.1 and share/lua/5.1, and neither
#                       installs the C-host library or the `lucid` command
#                       (those come from the lua5.4 build).

INSTALL_T := build/install-test

# $(call lucid_loads,interpreter,prefix): `require "lucid"` through the
# prefix's 5.1 paths alone (no ";;": nothing from the checkout or the
# system), then a small computation through the loaded module.
lucid_loads = $(1) -e 'package.path = "$(2)/share/lua/5.1/?.lua;$(2)/share/lua/5.1/?/init.lua"; \
  package.cpath = "$(2)/lib/lua/5.1/?.so"; \
  local lucid = require("lucid"); \
  assert(lucid.ones(2, 3):sum():item() == 6, "lucid.ones(2, 3):sum()"); \
  print("$(1): require \"lucid\" from $(2): ok")'

.PHONY: install-test
install-test:
	rm -rf $(INSTALL_T)
	$(MAKE) --no-print-directory LUA=lua5.1 install DESTDIR= PREFIX=$(CURDIR)/$(INSTALL_T)/lua5.1
	$(MAKE) --no-print-directory LUA=luajit install DESTDIR= PREFIX=$(CURDIR)/$(INSTALL_T)/luajit
	test -f $(INSTALL_T)/lua5.1/lib/lua/5.1/lucid/core.so
	test -f $(INSTALL_T)/lua5.1/share/lua/5.1/lucid/init.lua
	test -f $(INSTALL_T)/luajit/lib/lua/5.1/lucid/core.so
	test ! -e $(INSTALL_T)/lua5.1/lib/liblucid.a && test ! -e $(INSTALL_T)/lua5.1/bin/lucid
	test ! -e $(INSTALL_T)/luajit/lib/liblucid.a && test ! -e $(INSTALL_T)/luajit/bin/lucid
	$(call lucid_loads,lua5.1,$(CURDIR)/$(INSTALL_T)/lua5.1)
	$(call lucid_loads,luajit,$(CURDIR)/$(INSTALL_T)/lua5.1)
	$(call lucid_loads,luajit,$(CURDIR)/$(INSTALL_T)/luajit)

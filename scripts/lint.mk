# scripts/lint.mk: `make lint`, included at the end of the top Makefile.
#   luacheck over the Lua (library, scripts, tests) with scripts/luacheckrc;
#   cppcheck over the C of the core and the binding with the suppressions
#   (each with its reason) in scripts/cppcheck.supp. Both must be silent.
LINT_LUA := lua/lucid scripts tests
LINT_C   := $(CORE_SRC) $(wildcard lua/*.c)

.PHONY: lint luacheck cppcheck

lint: luacheck cppcheck

luacheck:
	luacheck --config scripts/luacheckrc --codes --no-color -q $(LINT_LUA)

# No Lua or system headers: cppcheck checks the code, not its includes.
cppcheck:
	cppcheck --enable=warning,style,performance,portability --std=c11 -q \
	  --error-exitcode=1 --inline-suppr -Icore -Ilua --suppress=missingIncludeSystem \
	  --suppressions-list=scripts/cppcheck.supp \
	  --template='{file}:{line}: {severity} [{id}] {message}' $(LINT_C)

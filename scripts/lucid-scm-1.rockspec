-- LuaRocks build of the Lua module (lucid.core) and library (lucid.*) from a
-- checkout, for whichever Lua LuaRocks targets (5.1, 5.2, 5.3, 5.4, LuaJIT):
--   luarocks make scripts/lucid-scm-1.rockspec              (from the top of the checkout)
--   luarocks --lua-version 5.1 --local make scripts/lucid-scm-1.rockspec
--
-- build.type "make" rather than "builtin", on purpose:
--  * the sources come from the same lists the Makefile builds (core/*.c and
--    lua/lucid_*.c but the REPL and host files, every lua/lucid/**.lua), so a
--    new file cannot be left out of the rock; builtin would need every C
--    source and Lua module spelled out here;
--  * builtin also copies a top-level `lua/` directory wholesale into the Lua
--    tree (our C sources and headers with it) and writes its objects beside
--    the sources; the make targets keep objects under build/ and install
--    exactly lucid/core.so and lucid/**.lua;
--  * the C compiles with the project's flags (C11, its warnings) plus LuaRocks'
--    CFLAGS, against LuaRocks' LUA_INCDIR, linked with its LIBFLAG (which
--    carries the platform's bundle options, e.g. on macOS).
-- The targets (rock-build, rock-install) live in scripts/rock.mk, which the
-- top Makefile includes; `make rock-test` builds and loads this rock.
rockspec_format = "3.0"
package = "lucid"
version = "scm-1"

-- The project has no public address yet: `luarocks make` builds the checkout
-- it runs in and never fetches this. Set the repository's URL here to publish.
source = {
  url = "git+file://.",
}

description = {
  summary = "Tensors, reverse-mode autograd and nn modules with a C core, PyTorch's API",
  detailed = [[
Lucid for Lua: float tensors with broadcasting, reverse-mode autograd
(higher-order gradients included), torch.nn-style modules, losses and
optimisers, safetensors checkpoints. The C core uses OpenBLAS.]],
  labels = { "tensor", "autograd", "neural-network", "machine-learning" },
}

-- The C binding goes through lua/compat.h, so every Lua LuaRocks can target builds it.
dependencies = {
  "lua >= 5.1, < 5.5",
}

-- Only the library is looked for: Debian keeps cblas.h under a multiarch
-- directory LuaRocks does not search, where the compiler finds it on its own.
-- Elsewhere: luarocks make ... OPENBLAS_DIR=/opt/openblas
external_dependencies = {
  OPENBLAS = { library = "openblas" },
}

build = {
  type = "make",
  makefile = "Makefile",
  build_target = "rock-build",
  install_target = "rock-install",
  -- LUA is not passed: the Makefile's LUA names an interpreter (lua5.4...),
  -- and the rock targets need nothing of it but LUA_INCDIR.
  build_variables = {
    CFLAGS = "$(CFLAGS)",
    LIBFLAG = "$(LIBFLAG)",
    LUA_INCDIR = "$(LUA_INCDIR)",
    OPENBLAS_INCDIR = "$(OPENBLAS_INCDIR)",
    OPENBLAS_LIBDIR = "$(OPENBLAS_LIBDIR)",
  },
  install_variables = {
    LUA_INCDIR = "$(LUA_INCDIR)",
    ROCK_LUADIR = "$(LUADIR)",
    ROCK_LIBDIR = "$(LIBDIR)",
  },
}

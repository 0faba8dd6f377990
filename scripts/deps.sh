#!/bin/sh
# Installs the Debian packages the build and the tests need, when missing.
# As root it runs apt-get; otherwise it prints the command and fails, so a
# user is never surprised by sudo. Usage: scripts/deps.sh [extra packages...]
set -eu
# Every Lua the library supports (make LUA=...), the LÖVE game host with a
# virtual display for its screenshot, Neovim (the plugin's host), and the Lua tools (rockspec, reference,
# lint) that `make test` exercises.
need="lua5.4 liblua5.4-dev libopenblas-dev libreadline-dev lua-busted pkg-config g++ valgrind
      lua5.1 liblua5.1-0-dev lua5.2 liblua5.2-dev lua5.3 liblua5.3-dev luajit libluajit-5.1-dev
      love xvfb xauth neovim lua-check lua-ldoc luarocks cppcheck $*"
missing=""
for p in $need; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "lucid: missing packages:$missing (install them with your package manager)" >&2
  exit 1
fi
if [ "$(id -u)" != 0 ]; then
  echo "lucid: missing packages:$missing" >&2
  echo "run:   sudo apt-get install -y$missing" >&2
  exit 1
fi
echo "lucid: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null

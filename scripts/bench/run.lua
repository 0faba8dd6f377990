--[[ run.lua: `make bench`. Times Lucid for Lua, PyTorch and ONNX Runtime side by
side, in the same run, on the same workloads, with the limits this machine sets
(a bare OpenBLAS GEMV chain, a plain memory copy) and the frame-time tails of a
game loop, and prints the tables.

Usage (the Makefile's bench target; LUA_PATH and LUA_CPATH as its RUN_ENV sets them):

  LUA_PATH="$PWD/lua/?.lua;$PWD/lua/?/init.lua;;" LUA_CPATH="$PWD/build/?.so;;" \
    lua5.4 scripts/bench/run.lua [build-dir] [luajit-build-dir]

  PYTHON=/path/to/python3   the Python that has torch (default /usr/bin/python3); when
                            `import torch` fails there, the PyTorch column reads n/a
                            and a note says why; the Lucid half runs anyway.
  LUAJIT=/path/to/luajit    the LuaJIT that times the LuaJIT column (default luajit)
                            against luajit-build-dir (default <build-dir>/luajit, what
                            `make LUA=luajit` builds); when either is missing the
                            column reads n/a and a note says why.
  NODE=/path/to/node        the Node that runs onnx_bench.js (default node), with
  ORT_MODULES=dir           NODE_PATH=dir (default <build-dir>/node/node_modules,
                            where `make bench-deps` installs onnxruntime-node);
                            when `require("onnxruntime-node")` fails there, the
                            ONNX Runtime column reads n/a and a note says why.
  <build-dir>/bench/        gemv_chain, memcopy and game_loop, the C programs of
                            this directory (the bench target builds them); the
                            ONNX models are exported there at bench time.

It takes two or three minutes. The table goes to stdout and, as Markdown, to
<build-dir>/bench.md (default build/) for the README. Results are reported, never
asserted: the command fails only when it cannot run.

Method. lucid_bench.lua and torch_bench.py are twins: the same workloads through
each library's public API, the same timing loop. Each workload runs in a fresh
process per library (Lucid then PyTorch, so both see the same load on a shared
machine), first on one thread, then on two (lucid.set_num_threads(n); on the
PyTorch side torch.set_num_threads(n) and openblas_set_num_threads(n), since both
libraries do their matrix products in the same OpenBLAS). A row is: warm-up that
also finds n, the iterations a 0.1 s batch holds, then 3 to 7 such batches; the
median batch time / n is reported. One-thread rows use the process's CPU time
(os.clock, time.process_time: equal to wall time on one thread, and blind to the
time others take the cores from us); two-thread rows use wall time (perf_counter;
in Lua lucid.clock when the binding has it, else date(1) through a pipe, its cost
measured and subtracted). Rows marked reuse_buffers are Lucid with
model:reuse_buffers() against PyTorch's plain no_grad forward. Workload 7 is the
wall time from launching the interpreter to its printing the first result (bash's
$EPOCHREALTIME around each launch; one unmeasured launch first, then the median
of 5). Peak memory is VmHWM of a separate process training the MLP for 300 steps.
The LuaJIT column is lucid_bench.lua itself (it runs on every Lua) under LuaJIT,
for the rows where the interpreter's own speed shows: the batch-1 ones, where
Lua-side work (module calls, argument parsing) is most of the time.

The rows added for issue 14 (12 to 14, and the ONNX Runtime and limit columns)
run on one thread only. ONNX Runtime: onnx_bench.js under Node, intra- and
inter-op pools of 1, each model exported from PyTorch by onnx_export.py (the
PyTorch rows' own models and weights), timed with the same loop over
session.run (which includes a promise's round trip in Node). The limit column is
what a C program does with nothing around it, timed with the same loop
(timing.h): for row 6 the three layers as cblas_sgemv + bias + tanhf
(gemv_chain.c), for row 14 a memcpy of 16M float32 (memcopy.c: the same bytes
read and written as tanh into a kept output). The frame-time table is
game_loop.c: a C host, 1000 agents' observations written into its buffer every
frame, the policy run through a variant (the Lua path: the model called from
Lua with reuse_buffers), 10,000 frames after 200 of warm-up, each on the wall
clock, with the Lua collector running and garbage made every frame. A ratio is
taken against what the row's goal names: PyTorch / Lucid, ONNX Runtime / Lucid
(> 1: Lucid is faster) or Lucid / limit (how far from the limit). The load
average is read before and after the run and printed with the table. ]]

local here = arg[0]:match("^(.*)/[^/]*$") or "."
local build = arg[1] or "build"
local jit_build = arg[2] or build .. "/luajit"
local PYTHON = os.getenv("PYTHON") or "/usr/bin/python3"
local LUAJIT = os.getenv("LUAJIT") or "luajit"
local NODE = os.getenv("NODE") or "node"
local ORT_MODULES = os.getenv("ORT_MODULES") or build .. "/node/node_modules"
local PROGRAMS = build .. "/bench"       -- the C programs, and the exported models
local LUA
do local i = -1; while arg[i - 1] do i = i - 1 end; LUA = arg[i] end

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- Runs a shell command; returns its output lines and whether it succeeded.
local function run(cmd)
  local f = assert(io.popen(cmd .. " 2>&1"))
  local lines = {}
  for line in f:lines() do lines[#lines + 1] = line end
  return lines, f:close() == true
end

local function progress(...) io.stderr:write("bench: ", string.format(...), "\n") end

local function fmt_time(s)
  if not s then return "n/a" end
  if s < 1e-3 then return string.format(s < 1e-5 and "%.2f µs" or "%.1f µs", s * 1e6) end
  if s < 1 then return string.format(s < 1e-2 and "%.2f ms" or "%.1f ms", s * 1e3) end
  return string.format("%.2f s", s)
end

-- ---- what there is to compare with -------------------------------------------------
local notes = {}
local torch_ok
do
  local out, ok = run(q(PYTHON) .. ' -c "import torch"')
  torch_ok = ok
  if not ok then
    notes[#notes + 1] = string.format("PyTorch: n/a (`%s -c \"import torch\"` failed: %s)",
      PYTHON, out[#out] or "no output")
  end
end

-- LuaJIT loads the library from the same Lua sources (LUA_PATH) and its own build.
local jit_env = "LUA_CPATH=" .. "'" .. jit_build:gsub("'", "'\\''") .. "/?.so;;' "
local jit_ok, jit_version
do
  local out, ok = run(jit_env .. q(LUAJIT) .. [[ -e 'require("lucid") print(jit.version)']])
  jit_ok = ok
  jit_version = ok and out[#out] or nil
  if not ok then
    notes[#notes + 1] = string.format("LuaJIT: n/a (`require \"lucid\"` under %s with %s/lucid/core.so failed: %s)",
      LUAJIT, jit_build, out[#out] or "no output")
  end
end

-- ONNX Runtime through Node, on models exported from PyTorch into <build>/bench/onnx.
local node_env = "NODE_PATH=" .. q(ORT_MODULES) .. " "
local onnx_dir = PROGRAMS .. "/onnx"
local onnx_ok, onnx_version
do
  local out, ok = run(node_env .. q(NODE) .. " " .. q(here .. "/onnx_bench.js") .. " --info")
  local why
  for _, line in ipairs(out) do
    onnx_version = onnx_version or line:match("^info onnxruntime (%S+)")
    why = why or line:match("^%w*Error: .*")   -- Node ends its report with its version
  end
  if not (ok and onnx_version) then
    notes[#notes + 1] = string.format("ONNX Runtime: n/a (`require(\"onnxruntime-node\")` under %s "
      .. "with NODE_PATH=%s failed: %s; `make bench-deps` installs it under build/)",
      NODE, ORT_MODULES, why or out[#out] or "no output")
  elseif not torch_ok then
    notes[#notes + 1] = "ONNX Runtime: n/a (its models are exported from PyTorch, which is missing)"
  else
    out, ok = run(q(PYTHON) .. " " .. q(here .. "/onnx_export.py") .. " " .. q(onnx_dir))
    onnx_ok = ok
    if not ok then
      notes[#notes + 1] = string.format("ONNX Runtime: n/a (onnx_export.py failed: %s)",
        out[#out] or "no output")
    end
  end
end

-- The C programs the bench target builds: the limits and the game loop.
local function program(name)
  local f = io.open(PROGRAMS .. "/" .. name)
  if f then f:close() return PROGRAMS .. "/" .. name end
  notes[#notes + 1] = string.format("%s/%s is missing (the bench target builds it): its rows read n/a",
    PROGRAMS, name)
end
local limit_programs = {gemv_chain = program("gemv_chain"), memcopy = program("memcopy")}
local game_loop = program("game_loop")

local function loadavg()
  local f = io.open("/proc/loadavg")
  local s = f and f:read("*l")
  if f then f:close() end
  return s and s:match("^(%S+ %S+ %S+)") or "n/a"
end
local load_before = loadavg()

local lucid = require("lucid")
local sgd = pcall(function() return assert(lucid.optim.SGD) end) and "optim" or "manual"
if sgd == "manual" then
  notes[#notes + 1] = "lucid.optim.SGD is missing: workload 5's SGD step is hand-written on both sides"
end
if not lucid.clock then
  notes[#notes + 1] = "Lucid's 2-thread rows are timed with date(1) through a pipe (lucid.clock is missing); "
    .. "its cost is subtracted, about 1% noise is left"
end

-- ---- the rows -------------------------------------------------------------------------
-- key: the Lucid workload; torch, onnx: its PyTorch and ONNX Runtime counterparts;
-- limit: the C program whose time bounds it (one thread); goal: what the row aims
-- at, {torch = r} or {onnx = r}: at least r times faster than that side; {limit = r}:
-- within r times the limit; threads: the thread counts (default 1 and 2).
local ONE = {1}
local ROWS = {
  {key = "tiny_train", torch = "tiny_train", goal = {torch = 50}, jit = true,
    label = "1. MLP 4-8-2 (Tanh), batch 1, forward + backward"},
  {key = "tiny_train_compiled", torch = "tiny_train", goal = {torch = 50}, jit = true,
    threads = ONE, label = "1. the same, Lucid compiled (model:compile)"},
  {key = "grad_floor", torch = "grad_floor", goal = {torch = 50}, jit = true, threads = ONE,
    label = "1. the floor of any such row: x:sum():backward(), x a leaf of 2 elements"},
  {key = "tiny_infer", torch = "tiny_infer", onnx = "tiny_infer", goal = {torch = 20}, jit = true,
    label = "2. MLP 4-8-2, batch 1, forward, no_grad"},
  {key = "tiny_infer_reuse", torch = "tiny_infer", onnx = "tiny_infer", goal = {torch = 20},
    jit = true, label = "2. the same, Lucid with reuse_buffers"},
  {key = "tiny_infer_compiled", torch = "tiny_infer", onnx = "tiny_infer", goal = {torch = 20},
    jit = true, threads = ONE, label = "2. the same, Lucid compiled (model:compile)"},
  {key = "linear_train", torch = "linear_train", goal = {torch = 1.2},
    label = "3. Linear(1024, 1024), batch 64, forward + backward"},
  {key = "tanh_big", torch = "tanh_big", goal = {torch = 4},
    label = "4. tanh forward + backward, 16M float32"},
  {key = "mlp_train", torch = "mlp_train", goal = {torch = 1.2},
    label = "5. MLP 784-256-256-10 (Tanh), batch 64, MSE + SGD step"},
  {key = "mlp_infer", torch = "mlp_infer", onnx = "mlp_infer", limit = "gemv_chain",
    goal = {limit = 1.3}, jit = true,
    label = "6. MLP 784-256-256-10, batch 1, forward, no_grad (limit: a bare GEMV chain)"},
  {key = "mlp_infer_reuse", torch = "mlp_infer", onnx = "mlp_infer", limit = "gemv_chain",
    goal = {limit = 1.3}, jit = true, label = "6. the same, Lucid with reuse_buffers"},
  {key = "mlp_infer_compiled", torch = "mlp_infer", onnx = "mlp_infer", limit = "gemv_chain",
    goal = {limit = 1.3}, jit = true, threads = ONE, label = "6. the same, Lucid compiled"},
  {key = "sort_1m", torch = "sort_1m", goal = {torch = 2},
    label = "7. sort of 1M float32 (values and indices)"},
  {key = "topk_1m", torch = "topk_1m", goal = {torch = 2},
    label = "7. topk(100) of 1M float32"},
  {key = "encoder_layer_train", torch = "encoder_layer_train", goal = {torch = 1},
    label = "8. TransformerEncoderLayer(128, 4 heads, ff 512), seq 64, batch 8, forward + backward"},
  {key = "conv2d_train", torch = "conv2d_train", goal = {torch = 1},
    label = "9. Conv2d 3->16, 3x3, padding 1, batch 32, 32x32, forward + backward"},
  {key = "lstm_train", torch = "lstm_train", goal = {torch = 1.5},
    label = "10. LSTM(128, 256), seq 32, batch 16, forward + backward"},
  {key = "charrnn_step", torch = "charrnn_step", goal = {torch = 1.5},
    label = "11. char-rnn training step (Embedding, LSTM 32->128, Linear, batch 32 x seq 64, Adam)"},
  {key = "agents_infer", torch = "agents_infer", onnx = "agents_infer", goal = {onnx = 1},
    threads = ONE, label = "12. 1000 agents x MLP 32-64-64-8 (Tanh), one batched forward, no_grad"},
  {key = "agents_infer_reuse", torch = "agents_infer", onnx = "agents_infer", goal = {onnx = 1},
    threads = ONE, label = "12. the same, Lucid with reuse_buffers"},
  {key = "agents_infer_compiled", torch = "agents_infer", onnx = "agents_infer", goal = {onnx = 1},
    threads = ONE, label = "12. the same, Lucid compiled"},
  {key = "mlp64_infer", torch = "mlp64_infer", onnx = "mlp64_infer", goal = {onnx = 1},
    threads = ONE, label = "13. MLP 784-256-256-10, batch 64, forward, no_grad"},
  {key = "mlp64_infer_reuse", torch = "mlp64_infer", onnx = "mlp64_infer", goal = {onnx = 1},
    threads = ONE, label = "13. the same, Lucid with reuse_buffers"},
  {key = "mlp64_infer_compiled", torch = "mlp64_infer", onnx = "mlp64_infer", goal = {onnx = 1},
    threads = ONE, label = "13. the same, Lucid compiled"},
  {key = "tanh_fwd", torch = "tanh_fwd", limit = "memcopy", goal = {limit = 1.5}, threads = ONE,
    label = "14. tanh forward, 16M float32, into a kept output (limit: a copy as large)"},
}
local THREADS = {1, 2}

-- results[side][workload][threads] = seconds per iteration
local results = {lucid = {}, luajit = {}, torch = {}, onnx = {}, limit = {}}
local SIDE_NAME = {lucid = "Lucid  ", luajit = "LuaJIT ", torch = "PyTorch", onnx = "ONNX   ",
  limit = "limit  "}
local openblas_core

local function bench(side, name, threads)
  if results[side][name] then return end
  results[side][name] = {}
  local cmd
  local nt = "--threads=" .. table.concat(threads, ",")
  if side == "lucid" then
    cmd = string.format("%s %s %s --sgd=%s %s", q(LUA), q(here .. "/lucid_bench.lua"), nt, sgd, name)
  elseif side == "luajit" then
    cmd = string.format("%s%s %s %s --sgd=%s %s", jit_env, q(LUAJIT), q(here .. "/lucid_bench.lua"),
      nt, sgd, name)
  elseif side == "torch" then
    cmd = string.format("%s %s %s --sgd=%s %s", q(PYTHON), q(here .. "/torch_bench.py"), nt, sgd, name)
  elseif side == "onnx" then
    cmd = string.format("%s%s %s %s %s", node_env, q(NODE), q(here .. "/onnx_bench.js"),
      q(onnx_dir), name)
  else
    -- OPENBLAS_VERBOSE=2: OpenBLAS names the kernels it chose for this CPU (header)
    cmd = "OPENBLAS_VERBOSE=2 " .. q(limit_programs[name])
  end
  progress("%s %s", SIDE_NAME[side], name)
  local out, ok = run(cmd)
  for _, line in ipairs(out) do
    local w, n, t = line:match("^row (%S+) (%d+) (%S+)")
    if w then
      results[side][w] = results[side][w] or {}
      results[side][w][tonumber(n)] = tonumber(t)
    end
    openblas_core = openblas_core or line:match("^Core: (%S+)")
  end
  if not ok then
    notes[#notes + 1] = string.format("%s %s failed: %s", side, name, out[#out] or "no output")
  end
end

for _, row in ipairs(ROWS) do
  local threads = row.threads or THREADS
  bench("lucid", row.key, threads)
  if jit_ok and row.jit then bench("luajit", row.key, threads) end
  if torch_ok then bench("torch", row.torch, threads) end
  if onnx_ok and row.onnx then bench("onnx", row.onnx, ONE) end
  if row.limit and limit_programs[row.limit] then bench("limit", row.limit, ONE) end
end

do  -- what the limits amount to
  local chain, gemvs = results.limit.gemv_chain, results.limit.gemv_only
  if chain and chain[1] and gemvs and gemvs[1] then
    notes[#notes + 1] = string.format("limit of row 6: the GEMV chain (gemv_chain.c) takes %s, "
      .. "of which the three cblas_sgemv calls alone %s (bias copies and tanhf the rest)",
      fmt_time(chain[1]), fmt_time(gemvs[1]))
  end
  local copy = results.limit.memcopy
  if copy and copy[1] then
    notes[#notes + 1] = string.format("limit of row 14: memcpy of 16M float32 (memcopy.c) takes %s, "
      .. "%.1f GB/s read + written", fmt_time(copy[1]), 2 * 64 * 2 ^ 20 / copy[1] / 1e9)
  end
end

-- ---- frame-time tails of the game loop -----------------------------------------------
-- frames[variant] = {frames, p50, p99, max, mean, CPU p50, CPU p99, CPU max}
local FRAMES = 10000
local frames = {}
local VARIANT_LABEL = {
  lua = "Lua path: model(obs) with reuse_buffers, called by a C host",
  compiled = "compiled: fast(obs), fast = model:compile(obs), called by a C host",
  cplan = "C plan: lucid_plan_run(fast:plan()) from the C host, no Lua per frame",
}
local VARIANT_ORDER = {"lua", "compiled", "cplan"}
if game_loop then
  progress("game loop, %d frames per variant", FRAMES)
  local out, ok = run(q(game_loop) .. " " .. q(here .. "/game_loop.lua") .. " " .. FRAMES)
  for _, line in ipairs(out) do
    local v, rest = line:match("^frames (%S+) (.*)$")
    if v then
      frames[v] = {}
      for x in rest:gmatch("%S+") do frames[v][#frames[v] + 1] = tonumber(x) end
    end
  end
  if not ok then
    notes[#notes + 1] = string.format("game_loop failed: %s", out[#out] or "no output")
  end
end

-- ---- 7. process start to first result -------------------------------------------------
-- Wall microseconds of each launch, the first one dropped; nil when a launch fails.
local function launch_median(cmd, count)
  local script = string.format(
    'for i in $(seq 0 %d); do s=$EPOCHREALTIME; %s >/dev/null 2>&1 || { echo fail; exit 1; }; '
    .. 'e=$EPOCHREALTIME; echo "${s/./} ${e/./}"; done', count, cmd)
  local out, ok = run("LC_ALL=C bash -c " .. q(script))
  if not ok then return nil end
  local ts = {}
  for i = 2, #out do
    local s, e = out[i]:match("^(%d+) (%d+)$")
    if s then ts[#ts + 1] = (tonumber(e) - tonumber(s)) / 1e6 end
  end
  if #ts == 0 then return nil end
  table.sort(ts)
  local h = math.floor(#ts / 2)
  return #ts % 2 == 1 and ts[h + 1] or (ts[h] + ts[h + 1]) / 2
end

progress("process start to first result")
local startup = {
  lucid = launch_median(q(LUA) .. [[ -e 'local l = require "lucid"; print(l.ones(2):sum():item())']], 5),
  torch = torch_ok and launch_median(q(PYTHON)
    .. [[ -c "import torch; print(torch.ones(2).sum().item())"]], 5) or nil,
}

-- ---- peak memory of the MLP training run -----------------------------------------------
local function memory(cmd)
  local out = run(cmd .. " --memory --sgd=" .. sgd)
  for _, line in ipairs(out) do
    local peak, base = line:match("^memory (%-?%d+) (%-?%d+)")
    if peak and tonumber(peak) > 0 then return tonumber(peak), tonumber(base) end
  end
end
progress("peak memory")
local mem = {lucid = {memory(q(LUA) .. " " .. q(here .. "/lucid_bench.lua"))}}
mem.torch = torch_ok and {memory(q(PYTHON) .. " " .. q(here .. "/torch_bench.py"))} or {}

-- ---- the machine -----------------------------------------------------------------------
local function first(cmd, pattern)
  for _, line in ipairs((run(cmd))) do
    local m = line:match(pattern)
    if m then return m end
  end
end
local cpu = first("lscpu", "^Model name:%s*(.-)%s*$") or "unknown CPU"
local cores = first("nproc", "^(%d+)") or "?"
local isa = {}
for _, flag in ipairs({"avx512f", "avx2", "fma"}) do
  if first("grep -m1 -w -o " .. flag .. " /proc/cpuinfo", "^(%S+)$") then
    isa[#isa + 1] = flag:upper()
  end
end
local torch_version, openblas
if torch_ok then
  local out = run(q(PYTHON) .. " " .. q(here .. "/torch_bench.py") .. " --info")
  for _, line in ipairs(out) do
    torch_version = torch_version or line:match("^info torch (.*)")
    openblas = openblas or line:match("^info openblas (.*)")
  end
end
openblas = openblas or first("dpkg-query -W -f '${Version}\\n' libopenblas0-pthread libopenblas0 2>/dev/null",
  "^(%S+)$") or "version unknown"
if openblas_core == "Prescott" and not os.getenv("OPENBLAS_CORETYPE") and #isa > 0 then
  -- Debian's OpenBLAS 0.3.21 does not recognise some virtual CPUs and falls back
  -- to its SSE3 kernels: every GEMM and GEMV row is then OpenBLAS's slowest
  notes[#notes + 1] = "OpenBLAS chose its Prescott (SSE3) kernels on a CPU with "
    .. table.concat(isa, ", ") .. ": every GEMM and GEMV, Lucid's, PyTorch's and the limit's, "
    .. "runs its generic code (OPENBLAS_CORETYPE=Haswell or SkylakeX in the environment picks "
    .. "the AVX2 or AVX-512 kernels; ONNX Runtime has its own)"
end
local commit = first("git -C " .. q(here) .. " rev-parse --short HEAD", "^(%x+)$") or "?"

local header = {
  string.format("Date: %s", os.date("%Y-%m-%d %H:%M %Z")),
  string.format("Machine: %s, %s cores (%s); OpenBLAS: %s", cpu, cores,
    #isa > 0 and table.concat(isa, ", ") or "no AVX2", openblas),
  string.format("Lucid for Lua: working tree at commit %s, %s and %s; PyTorch: %s; "
    .. "ONNX Runtime: %s", commit, _VERSION, jit_version or "LuaJIT n/a", torch_version or "n/a",
    onnx_ok and (onnx_version .. " (npm onnxruntime-node, under Node " .. (first(q(NODE)
      .. " --version", "^v?(%S+)") or "?") .. ")") or "n/a"),
  string.format("OpenBLAS kernels: %s%s; load average (1, 5, 15 min) before the run %s, after %s",
    openblas_core or "not reported",
    os.getenv("OPENBLAS_CORETYPE") and " (OPENBLAS_CORETYPE=" .. os.getenv("OPENBLAS_CORETYPE") .. ")"
      or "", load_before, loadavg()),
}

-- ---- the table -------------------------------------------------------------------------
local function fmt_ratio(r)
  if not r then return "n/a" end
  return string.format(r < 10 and "%.2fx" or r < 100 and "%.1fx" or "%.0fx", r)
end

local table_rows, met, counted = {}, 0, 0
local SIDE = {torch = "PyTorch", onnx = "ONNX Runtime", limit = "limit"}
-- The ratio a goal is about: other side / Lucid (above 1: Lucid is faster), or
-- Lucid / limit (how many times the limit); and whether it meets the goal.
local function ratio(goal, lucid_time, times)
  local side, r = next(goal)
  local other = times[side]
  if not (lucid_time and other) then return nil end
  local x = side == "limit" and lucid_time / other or other / lucid_time
  return x, side == "limit" and x <= r or x >= r
end
local function fmt_goal(goal)
  local side, r = next(goal)
  return side == "limit" and string.format("≤ %gx limit", r) or string.format("≥ %gx %s", r, SIDE[side])
end

-- Goals are counted for this Lua's column.
local function add(row, nt)
  local function at(side, key)
    if nt ~= 1 and (side == "onnx" or side == "limit") then return nil end
    return key and results[side][key] and results[side][key][nt]
  end
  local l, j = at("lucid", row.key), at("luajit", row.jit and row.key)
  local times = {torch = at("torch", row.torch), onnx = at("onnx", row.onnx),
    limit = at("limit", row.limit)}
  local r, ok = ratio(row.goal, l, times)
  if r then
    counted = counted + 1
    if ok then met = met + 1 end
  end
  local function cell(side, key)
    if not key or (nt ~= 1 and (side == "onnx" or side == "limit")) then return "-" end
    return fmt_time(times[side])
  end
  table_rows[#table_rows + 1] = {row.label, tostring(nt), fmt_time(l), row.jit and fmt_time(j) or "-",
    cell("torch", row.torch), cell("onnx", row.onnx), cell("limit", row.limit), fmt_ratio(r),
    row.jit and fmt_ratio((ratio(row.goal, j, times))) or "-", fmt_goal(row.goal)}
end
for _, row in ipairs(ROWS) do
  for _, nt in ipairs(row.threads or THREADS) do add(row, nt) end
end
results.lucid.startup, results.torch.startup = {["-"] = startup.lucid}, {["-"] = startup.torch}
add({key = "startup", torch = "startup", goal = {torch = 100},
  label = "7. process start to first result"}, "-")

local COLS = {"workload", "threads", "Lucid", "LuaJIT", "PyTorch", "ONNX Runtime", "limit", "ratio",
  "LuaJIT ratio", "goal"}
local RIGHT = {false, false, true, true, true, true, true, true, true, true}

local function mb(kb) return kb and string.format("%.1f MB", kb / 1024) or "n/a" end
local memory_line = string.format(
  "Peak RSS, MLP training (workload 5, 300 steps, 1 thread): Lucid %s, PyTorch %s "
  .. "(after loading the library alone: Lucid %s, PyTorch %s)",
  mb(mem.lucid[1]), mb(mem.torch[1]), mb(mem.lucid[2]), mb(mem.torch[2]))
local summary = string.format("ratio = against what the goal names: PyTorch or ONNX Runtime "
  .. "time / Lucid time (> 1: Lucid is faster), or Lucid time / limit; Lucid under %s; LuaJIT: "
  .. "the same script under LuaJIT (batch-1 rows), LuaJIT ratio its ratio; goals met (%s): "
  .. "%d of %d rows", _VERSION, _VERSION, met, counted)

-- the frame-time table
local FCOLS = {"game loop, 1000 agents, MLP 32-64-64-8, 1 thread", "frames", "p50", "p99", "max",
  "mean", "p99 / p50", "goal", "CPU time p50 / p99 / max"}
local frame_rows = {}
for _, v in ipairs(VARIANT_ORDER) do
  local f = frames[v] or {}
  frame_rows[#frame_rows + 1] = {VARIANT_LABEL[v], f[1] and tostring(f[1]) or "n/a",
    fmt_time(f[2]), fmt_time(f[3]), fmt_time(f[4]), fmt_time(f[5]),
    fmt_ratio(f[3] and f[3] / f[2]), "≤ 1.5x",
    f[8] and string.format("%s / %s / %s", fmt_time(f[6]), fmt_time(f[7]), fmt_time(f[8])) or "n/a"}
end
local frames_note = "Frame: write 1000 x 32 observations into the host's buffer, run the policy, "
  .. "read the 1000 x 8 actions (argmax per agent); wall time per frame (the goal's), and the "
  .. "thread's CPU time per frame (a tail in wall time alone is other processes taking the core), "
  .. FRAMES .. " frames after 200 of warm-up, the Lua collector running and garbage made every "
  .. "frame (scripts/bench/game_loop.c)"

-- characters in s (UTF-8: the µ of the units), on every Lua (no utf8 before 5.3)
local function ulen(s)
  local _, conts = s:gsub("[\128-\191]", "")
  return #s - conts
end

-- plain text, to stdout

local function text_table(cols, rows, right)
  local width = {}
  for c = 1, #cols do
    width[c] = ulen(cols[c])
    for _, r in ipairs(rows) do width[c] = math.max(width[c], ulen(r[c])) end
  end
  local function text_line(cells)
    local out = {}
    for c, cell in ipairs(cells) do
      local pad = string.rep(" ", width[c] - ulen(cell))
      out[c] = right[c] and pad .. cell or cell .. pad
    end
    return table.concat(out, "  ")
  end
  local rule = {}
  for c = 1, #cols do rule[c] = string.rep("-", width[c]) end
  print(text_line(cols))
  print(text_line(rule))
  for _, r in ipairs(rows) do print(text_line(r)) end
end
local FRIGHT = {false, true, true, true, true, true, true, true, true}

print()
for _, h in ipairs(header) do print(h) end
print()
text_table(COLS, table_rows, RIGHT)
print()
print(summary)
print(memory_line)
print()
text_table(FCOLS, frame_rows, FRIGHT)
print()
print(frames_note)
for _, n in ipairs(notes) do print("Note: " .. n) end

-- Markdown, to <build>/bench.md
local function md_table(md, cols, rows, right)
  md[#md + 1] = "| " .. table.concat(cols, " | ") .. " |"
  local align = {}
  for c = 1, #cols do align[c] = right[c] and "--:" or "---" end
  md[#md + 1] = "|" .. table.concat(align, "|") .. "|"
  for _, r in ipairs(rows) do md[#md + 1] = "| " .. table.concat(r, " | ") .. " |" end
end
local md = {"## Benchmarks: Lucid for Lua, PyTorch and ONNX Runtime", ""}
for _, h in ipairs(header) do md[#md + 1] = h .. "  " end
md[#md + 1] = ""
md_table(md, COLS, table_rows, RIGHT)
md[#md + 1] = ""
md[#md + 1] = summary .. ". Medians; one-thread rows in CPU time, two-thread rows in wall time "
  .. "(`scripts/bench/run.lua` says how). " .. memory_line .. "."
md[#md + 1] = ""
md_table(md, FCOLS, frame_rows, FRIGHT)
md[#md + 1] = ""
md[#md + 1] = frames_note .. "."
for _, n in ipairs(notes) do md[#md + 1] = "" ; md[#md + 1] = "Note: " .. n .. "." end
os.execute("mkdir -p " .. q(build))
local f = assert(io.open(build .. "/bench.md", "w"))
f:write(table.concat(md, "\n"), "\n")
f:close()
progress("wrote %s/bench.md", build)

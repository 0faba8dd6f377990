--[[ run.lua: `make bench`. Times Lucid for Lua and PyTorch side by side, in the
same run, on the same workloads, and prints one table.

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

It takes a minute or two. The table goes to stdout and, as Markdown, to
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
Lua-side work (module calls, argument parsing) is most of the time. ]]

local here = arg[0]:match("^(.*)/[^/]*$") or "."
local build = arg[1] or "build"
local jit_build = arg[2] or build .. "/luajit"
local PYTHON = os.getenv("PYTHON") or "/usr/bin/python3"
local LUAJIT = os.getenv("LUAJIT") or "luajit"
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
-- key: the Lucid workload; torch: its PyTorch counterpart; goal: the ratio aimed at
local ROWS = {
  {key = "tiny_train", torch = "tiny_train", goal = 50, jit = true,
    label = "1. MLP 4-8-2 (Tanh), batch 1, forward + backward"},
  {key = "tiny_infer", torch = "tiny_infer", goal = 20, jit = true,
    label = "2. MLP 4-8-2, batch 1, forward, no_grad"},
  {key = "tiny_infer_reuse", torch = "tiny_infer", goal = 20, jit = true,
    label = "2. the same, Lucid with reuse_buffers"},
  {key = "linear_train", torch = "linear_train", goal = 1.3,
    label = "3. Linear(1024, 1024), batch 64, forward + backward"},
  {key = "tanh_big", torch = "tanh_big", goal = 4,
    label = "4. tanh forward + backward, 16M float32"},
  {key = "mlp_train", torch = "mlp_train", goal = 1.7,
    label = "5. MLP 784-256-256-10 (Tanh), batch 64, MSE + SGD step"},
  {key = "mlp_infer", torch = "mlp_infer", goal = 8, jit = true,
    label = "6. MLP 784-256-256-10, batch 1, forward, no_grad"},
  {key = "mlp_infer_reuse", torch = "mlp_infer", goal = 8, jit = true,
    label = "6. the same, Lucid with reuse_buffers"},
  {key = "sort_1m", torch = "sort_1m", goal = 2,
    label = "7. sort of 1M float32 (values and indices)"},
  {key = "topk_1m", torch = "topk_1m", goal = 2,
    label = "7. topk(100) of 1M float32"},
  {key = "encoder_layer_train", torch = "encoder_layer_train", goal = 1,
    label = "8. TransformerEncoderLayer(128, 4 heads, ff 512), seq 64, batch 8, forward + backward"},
  {key = "conv2d_train", torch = "conv2d_train", goal = 1,
    label = "9. Conv2d 3->16, 3x3, padding 1, batch 32, 32x32, forward + backward"},
  {key = "lstm_train", torch = "lstm_train", goal = 1.5,
    label = "10. LSTM(128, 256), seq 32, batch 16, forward + backward"},
  {key = "charrnn_step", torch = "charrnn_step", goal = 1.5,
    label = "11. char-rnn training step (Embedding, LSTM 32->128, Linear, batch 32 x seq 64, Adam)"},
}
local THREADS = {1, 2}

-- results[side][workload][threads] = seconds per iteration
local results = {lucid = {}, luajit = {}, torch = {}}

local function bench(side, name)
  if results[side][name] then return end
  results[side][name] = {}
  local cmd
  if side == "lucid" then
    cmd = string.format("%s %s --sgd=%s %s", q(LUA), q(here .. "/lucid_bench.lua"), sgd, name)
  elseif side == "luajit" then
    cmd = string.format("%s%s %s --sgd=%s %s", jit_env, q(LUAJIT), q(here .. "/lucid_bench.lua"),
      sgd, name)
  else
    cmd = string.format("%s %s --sgd=%s %s", q(PYTHON), q(here .. "/torch_bench.py"), sgd, name)
  end
  progress("%s %s", ({lucid = "Lucid  ", luajit = "LuaJIT ", torch = "PyTorch"})[side], name)
  local out, ok = run(cmd)
  for _, line in ipairs(out) do
    local w, nt, t = line:match("^row (%S+) (%d+) (%S+)")
    if w then results[side][w][tonumber(nt)] = tonumber(t) end
  end
  if not ok then
    notes[#notes + 1] = string.format("%s %s failed: %s", side, name, out[#out] or "no output")
  end
end

for _, row in ipairs(ROWS) do
  bench("lucid", row.key)
  if jit_ok and row.jit then bench("luajit", row.key) end
  if torch_ok then bench("torch", row.torch) end
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
  return #ts % 2 == 1 and ts[(#ts + 1) // 2] or (ts[#ts // 2] + ts[#ts // 2 + 1]) / 2
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
local commit = first("git -C " .. q(here) .. " rev-parse --short HEAD", "^(%x+)$") or "?"

local header = {
  string.format("Date: %s", os.date("%Y-%m-%d %H:%M %Z")),
  string.format("Machine: %s, %s cores (%s); OpenBLAS: %s", cpu, cores,
    #isa > 0 and table.concat(isa, ", ") or "no AVX2", openblas),
  string.format("Lucid for Lua: working tree at commit %s, %s and %s; PyTorch: %s", commit,
    _VERSION, jit_version or "LuaJIT n/a", torch_version or "n/a"),
}

-- ---- the table -------------------------------------------------------------------------
local function fmt_time(s)
  if not s then return "n/a" end
  if s < 1e-3 then return string.format(s < 1e-5 and "%.2f µs" or "%.1f µs", s * 1e6) end
  if s < 1 then return string.format(s < 1e-2 and "%.2f ms" or "%.1f ms", s * 1e3) end
  return string.format("%.2f s", s)
end
local function fmt_ratio(r)
  if not r then return "n/a" end
  return string.format(r < 10 and "%.2fx" or r < 100 and "%.1fx" or "%.0fx", r)
end

local table_rows, met, counted = {}, 0, 0
-- l: Lucid under this Lua; j: under LuaJIT (when jit, a row it times); t: PyTorch.
-- Goals are counted for this Lua's column.
local function add(label, threads, l, jit, j, t, goal)
  local r = l and t and t / l
  if r then
    counted = counted + 1
    if r >= goal then met = met + 1 end
  end
  table_rows[#table_rows + 1] = {label, threads, fmt_time(l), jit and fmt_time(j) or "-",
    fmt_time(t), fmt_ratio(r), jit and fmt_ratio(j and t and t / j) or "-",
    string.format("≥ %gx", goal)}
end
for _, row in ipairs(ROWS) do
  for _, nt in ipairs(THREADS) do
    add(row.label, tostring(nt), results.lucid[row.key][nt], row.jit,
      results.luajit[row.key] and results.luajit[row.key][nt],
      results.torch[row.torch] and results.torch[row.torch][nt], row.goal)
  end
end
add("7. process start to first result", "-", startup.lucid, false, nil, startup.torch, 100)

local COLS = {"workload", "threads", "Lucid", "LuaJIT", "PyTorch", "ratio", "LuaJIT ratio", "goal"}
local RIGHT = {false, false, true, true, true, true, true, true}

local function mb(kb) return kb and string.format("%.1f MB", kb / 1024) or "n/a" end
local memory_line = string.format(
  "Peak RSS, MLP training (workload 5, 300 steps, 1 thread): Lucid %s, PyTorch %s "
  .. "(after loading the library alone: Lucid %s, PyTorch %s)",
  mb(mem.lucid[1]), mb(mem.torch[1]), mb(mem.lucid[2]), mb(mem.torch[2]))
local summary = string.format("ratio = PyTorch time / Lucid time (> 1: Lucid is faster), "
  .. "Lucid under %s; LuaJIT: the same script under LuaJIT (batch-1 rows), LuaJIT ratio its "
  .. "ratio; goals met (%s): %d of %d rows", _VERSION, _VERSION, met, counted)

-- plain text, to stdout
local width = {}
for c = 1, #COLS do
  width[c] = utf8.len(COLS[c])
  for _, r in ipairs(table_rows) do width[c] = math.max(width[c], utf8.len(r[c])) end
end
local function text_line(cells)
  local out = {}
  for c, cell in ipairs(cells) do
    local pad = string.rep(" ", width[c] - utf8.len(cell))
    out[c] = RIGHT[c] and pad .. cell or cell .. pad
  end
  return table.concat(out, "  ")
end
local rule = {}
for c = 1, #COLS do rule[c] = string.rep("-", width[c]) end

print()
for _, h in ipairs(header) do print(h) end
print()
print(text_line(COLS))
print(text_line(rule))
for _, r in ipairs(table_rows) do print(text_line(r)) end
print()
print(summary)
print(memory_line)
for _, n in ipairs(notes) do print("Note: " .. n) end

-- Markdown, to <build>/bench.md
local md = {"## Benchmarks: Lucid for Lua and PyTorch", ""}
for _, h in ipairs(header) do md[#md + 1] = h .. "  " end
md[#md + 1] = ""
md[#md + 1] = "| " .. table.concat(COLS, " | ") .. " |"
md[#md + 1] = "|---|---|--:|--:|--:|--:|--:|--:|"
for _, r in ipairs(table_rows) do md[#md + 1] = "| " .. table.concat(r, " | ") .. " |" end
md[#md + 1] = ""
md[#md + 1] = summary .. ". Medians; one-thread rows in CPU time, two-thread rows in wall time "
  .. "(`scripts/bench/run.lua` says how). " .. memory_line .. "."
for _, n in ipairs(notes) do md[#md + 1] = "" ; md[#md + 1] = "Note: " .. n .. "." end
os.execute("mkdir -p " .. q(build))
local f = assert(io.open(build .. "/bench.md", "w"))
f:write(table.concat(md, "\n"), "\n")
f:close()
progress("wrote %s/bench.md", build)

--[[ lucid_bench.lua: the Lucid half of `make bench`. run.lua (the entry point)
explains the method; torch_bench.py is this file's twin, workload by workload.

  lua5.4 lucid_bench.lua [--threads=1,2] [--sgd=optim|manual] [workload ...]
      prints "row <workload> <threads> <seconds per iteration> <iterations per batch>"
      for every workload named (all of them when none is) at every thread count
  lua5.4 lucid_bench.lua --memory [--sgd=optim|manual]
      trains the MLP (workload mlp_train) for 300 steps on one thread, then prints
      "memory <peak RSS in KB> <RSS in KB after require>" (VmHWM / VmRSS of /proc/self/status)

Everything goes through the public API, the way a user writes it. The file runs
unchanged on every Lua the library supports: run.lua also times some rows under
LuaJIT. ]]
local lucid = require("lucid")
local nn = lucid.nn

-- ---- clocks ----------------------------------------------------------------------
-- One thread: the process's CPU time (os.clock) is its wall time, and it does not
-- count the time the shared machine gives to others. Two threads: os.clock would add
-- both threads up, so a wall clock: lucid.clock when the binding has it, else date(1)
-- through a pipe, whose cost (1-2 ms a reading) is measured and subtracted; batches
-- last 0.1 s, so what is left of it is noise of about 1%.
local function date_clock()
  local f = assert(io.popen("date +%s%N"))
  local ns = f:read("*n")
  f:close()
  return ns / 1e9
end
local wall_clock = lucid.clock or date_clock

local function median(xs)
  table.sort(xs)
  local n = #xs
  local h = math.floor(n / 2)
  return n % 2 == 1 and xs[h + 1] or (xs[h] + xs[h + 1]) / 2
end

-- What one reading of the clock adds to an interval (0 for the cheap clocks).
local function clock_overhead(clock)
  if clock ~= date_clock then return 0 end
  local d = {}
  for i = 1, 9 do local t0 = clock(); d[i] = clock() - t0 end
  return median(d)
end

-- ---- the timing loop (torch_bench.py's measure() is the same) ----------------------
local BATCH = 0.1      -- seconds a timed batch should last
local BUDGET = 0.8     -- seconds of timed batches per row: 3 to 7 batches

-- Warm-up, then batches of n iterations; returns the median seconds per iteration
-- and n. Garbage made in a batch is collected in the batches (as in a real loop).
local function measure(step, clock)
  local overhead = clock_overhead(clock)
  local function batch(n)
    local t0 = clock()
    for _ = 1, n do step() end
    return math.max(clock() - t0 - overhead, 1e-9)
  end
  step()                                   -- first call: lazy set-up, first allocations
  local n, t = 1, batch(1)
  while t < BATCH / 2 do n = n * 2; t = batch(n) end   -- warm-up that finds n
  local per_iter = t / n
  n = math.max(1, math.floor(BATCH / per_iter + 0.5))
  local samples = math.max(3, math.min(7, math.floor(BUDGET / (n * per_iter))))
  local per = {}
  for i = 1, samples do per[i] = batch(n) / n end
  return median(per), n
end

-- ---- the workloads -------------------------------------------------------------------
-- Each returns the function timed (one iteration) and whether it runs with gradient
-- recording off (set around the whole measurement, like `with torch.no_grad():`).
local sgd_mode = "optim"   -- or "manual" (set by --sgd; run.lua chooses)

local function tiny() return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2)) end
local function mlp()
  return nn.Sequential(nn.Linear(784, 256), nn.Tanh(), nn.Linear(256, 256), nn.Tanh(),
    nn.Linear(256, 10))
end

local W, ORDER = {}, {"tiny_train", "grad_floor", "tiny_infer", "tiny_infer_reuse", "linear_train",
  "tanh_big", "mlp_train", "mlp_infer", "mlp_infer_reuse", "sort_1m", "topk_1m",
  "encoder_layer_train", "conv2d_train", "lstm_train", "charrnn_step", "agents_infer",
  "agents_infer_reuse", "mlp64_infer", "mlp64_infer_reuse", "tanh_fwd", "tiny_infer_compiled", "tiny_train_compiled",
  "mlp_infer_compiled", "agents_infer_compiled", "mlp64_infer_compiled"}

-- 1. Sequential(Linear(4,8), Tanh, Linear(8,2)), batch 1, forward + backward
function W.tiny_train()
  local model, x = tiny(), lucid.randn(1, 4)
  return function() model(x):sum():backward() end
end

-- 1. the floor under any forward + backward: one recorded op on a leaf and its backward
function W.grad_floor()
  local x = lucid.randn(1, 2, {requires_grad = true})
  return function() x:sum():backward() end
end

-- 2. the same, forward only under no_grad; and with reuse_buffers
function W.tiny_infer()
  local model, x = tiny(), lucid.randn(1, 4)
  return function() model(x) end, true
end
function W.tiny_infer_reuse()
  local model, x = tiny(), lucid.randn(1, 4)
  model:reuse_buffers()
  return function() model(x) end, true
end

-- 3. Linear(1024, 1024), batch 64, forward + backward
function W.linear_train()
  local model, x = nn.Linear(1024, 1024), lucid.randn(64, 1024)
  return function() model(x):sum():backward() end
end

-- 4. tanh forward + backward on 16M float32 elements
function W.tanh_big()
  local n = 16 * 1024 * 1024
  local x, ones = lucid.randn(n, {requires_grad = true}), lucid.ones(n)
  return function()
    x.grad = nil
    lucid.tanh(x):backward(ones)
  end
end

-- 5. MLP 784-256-256-10 with Tanh, batch 64, MSE loss + SGD step
local function mse_loss()
  if nn.MSELoss then return nn.MSELoss() end
  if nn.functional.mse_loss then return nn.functional.mse_loss end
  return function(out, target) return ((out - target) ^ 2):mean() end
end

function W.mlp_train()
  local model, x, y = mlp(), lucid.randn(64, 784), lucid.randn(64, 10)
  local loss_fn, lr = mse_loss(), 0.01
  if sgd_mode == "optim" then
    local opt = lucid.optim.SGD(model:parameters(), {lr = lr})
    return function()
      opt:zero_grad()
      loss_fn(model(x), y):backward()
      opt:step()
    end
  end
  local params = model:parameters()
  return function()
    loss_fn(model(x), y):backward()
    lucid.no_grad(function()
      for _, p in ipairs(params) do
        p:copy_(p - lr * p.grad)
        p.grad = nil
      end
    end)
  end
end

-- 6. that MLP, inference, batch 1; and with reuse_buffers
function W.mlp_infer()
  local model, x = mlp(), lucid.randn(1, 784)
  return function() model(x) end, true
end
function W.mlp_infer_reuse()
  local model, x = mlp(), lucid.randn(1, 784)
  model:reuse_buffers()
  return function() model(x) end, true
end

-- 7. sort of 1M float32 values (values and indices); topk(100) of them
function W.sort_1m()
  local x = lucid.randn(1024 * 1024)
  return function() x:sort() end, true
end
function W.topk_1m()
  local x = lucid.randn(1024 * 1024)
  return function() x:topk(100) end, true
end

-- 8. TransformerEncoderLayer(d_model 128, 4 heads, ff 512, dropout 0), seq 64, batch 8,
-- forward + backward
function W.encoder_layer_train()
  local layer, x = nn.TransformerEncoderLayer(128, 4, 512, 0), lucid.randn(64, 8, 128)
  return function() layer(x):sum():backward() end
end

-- 9. Conv2d(3, 16, 3, padding 1), batch 32, 32x32, forward + backward (the
-- input's gradient too, as for a layer inside a network)
function W.conv2d_train()
  local conv = nn.Conv2d(3, 16, 3, {padding = 1})
  local x = lucid.randn({32, 3, 32, 32}, {requires_grad = true})
  return function()
    x.grad = nil
    conv(x):sum():backward()
  end
end

-- 10. LSTM(128, 256), seq 32, batch 16, forward + backward
function W.lstm_train()
  local model, x = nn.LSTM(128, 256), lucid.randn(32, 16, 128)
  return function() (model(x)):sum():backward() end
end

-- 11. One char-rnn training step (scripts/charrnn.lua's defaults): Embedding(96, 32),
-- LSTM(32, 128, batch_first), Linear(128, 96) over batch 32 x seq 64 token ids,
-- cross-entropy over every step, clip_grad_norm_(5), Adam
local CharRNN = nn.Module:extend("BenchCharRNN")
function CharRNN:__init()
  self.embed = nn.Embedding(96, 32)
  self.rnn = nn.LSTM(32, 128, {batch_first = true})
  self.head = nn.Linear(128, 96)
end
function CharRNN:forward(idx) return self.head((self.rnn(self.embed(idx)))) end
function W.charrnn_step()
  local model = CharRNN()
  local loss_fn, opt = nn.CrossEntropyLoss(), lucid.optim.Adam(model:parameters(), {lr = 0.003})
  local x, y = lucid.randint(1, 97, {32, 64}), lucid.randint(1, 97, {32 * 64})
  return function()
    opt:zero_grad()
    loss_fn(model(x):reshape(32 * 64, 96), y):backward()
    nn.utils.clip_grad_norm_(model:parameters(), 5)
    opt:step()
  end
end

-- 12. 1000 agents x MLP 32-64-64-8 (Tanh), one batched forward under no_grad (a
-- game's per-frame policy for all its agents at once); and with reuse_buffers
local AGENTS = 1000
local function agents_mlp()
  return nn.Sequential(nn.Linear(32, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(),
    nn.Linear(64, 8))
end
function W.agents_infer()
  local model, x = agents_mlp(), lucid.randn(AGENTS, 32)
  return function() model(x) end, true
end
function W.agents_infer_reuse()
  local model, x = agents_mlp(), lucid.randn(AGENTS, 32)
  model:reuse_buffers()
  return function() model(x) end, true
end

-- 13. MLP 784-256-256-10, batch 64, forward under no_grad; and with reuse_buffers
function W.mlp64_infer()
  local model, x = mlp(), lucid.randn(64, 784)
  return function() model(x) end, true
end
function W.mlp64_infer_reuse()
  local model, x = mlp(), lucid.randn(64, 784)
  model:reuse_buffers()
  return function() model(x) end, true
end

-- 14. tanh forward over 16M float32 into a kept output: the kernel against the
-- memory bandwidth (a copy of as many floats, timed by memcopy.c)
function W.tanh_fwd()
  local n = 16 * 1024 * 1024
  local x, y = lucid.randn(n), lucid.empty(n)
  return function() lucid.tanh(x, y) end, true
end

-- 2, 6, 12, 13 compiled: the same forwards through model:compile(x), traced once
-- (under no_grad, as they run) and replayed by one C call
local function compiled(make, ...)
  local shape = {...}
  return function()
    local model, x = make(), lucid.randn(shape)
    local previous = lucid.set_grad_enabled(false)
    local fast = model:compile(x)
    lucid.set_grad_enabled(previous)
    return function() fast(x) end, true
  end
end
W.tiny_infer_compiled = compiled(tiny, 1, 4)

-- 1 compiled: the recorded call (one node for the plan) and its backward
function W.tiny_train_compiled()
  local model, x = tiny(), lucid.randn(1, 4)
  local fast = model:compile(x)
  return function() fast(x):sum():backward() end
end
W.mlp_infer_compiled = compiled(mlp, 1, 784)
W.agents_infer_compiled = compiled(agents_mlp, AGENTS, 32)
W.mlp64_infer_compiled = compiled(mlp, 64, 784)

-- ---- main ----------------------------------------------------------------------------
local function proc_status_kb(field)
  local f = io.open("/proc/self/status")
  if not f then return -1 end
  local s = f:read("*a")
  f:close()
  return tonumber(s:match(field .. ":%s*(%d+)")) or -1
end

local threads, names, memory = {1, 2}, {}, false
for _, a in ipairs(arg) do
  local v = a:match("^%-%-threads=(.*)$")
  if v then
    threads = {}
    for t in v:gmatch("%d+") do threads[#threads + 1] = tonumber(t) end
  elseif a:match("^%-%-sgd=") then
    sgd_mode = a:match("=(.*)$")
  elseif a == "--memory" then
    memory = true
  elseif W[a] then
    names[#names + 1] = a
  else
    error("lucid_bench.lua: unknown argument " .. a)
  end
end
if #names == 0 then names = ORDER end

if memory then
  local base = proc_status_kb("VmRSS")
  lucid.set_num_threads(1)
  lucid.manual_seed(0)
  local step = W.mlp_train()
  for _ = 1, 300 do step() end
  print(string.format("memory %d %d", proc_status_kb("VmHWM"), base))
  return
end

for _, nt in ipairs(threads) do
  lucid.set_num_threads(nt)
  for _, name in ipairs(names) do
    lucid.manual_seed(0)
    collectgarbage("collect")   -- leave the previous workload's garbage out of this one
    local step, no_grad = W[name]()
    local previous = lucid.set_grad_enabled(not no_grad)
    local t, n = measure(step, nt == 1 and os.clock or wall_clock)
    lucid.set_grad_enabled(previous)
    print(string.format("row %s %d %.6e %d", name, nt, t, n))
    io.stdout:flush()
  end
end

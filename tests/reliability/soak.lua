-- soak.lua: `make soak`. Trains a small model for 200,000 steps (a fresh
-- batch, forward, loss, backward, an Adam step, now and then a look at the
-- values with no_grad) without ever calling collectgarbage(),
-- and checks that the process's resident memory stays flat: after warm-up,
-- VmRSS (from /proc/self/status) never exceeds the warm-up's own peak by
-- more than 10%. A leak of a few hundred bytes per step would show as
-- tens of megabytes by the end.
--   lua5.4 tests/reliability/soak.lua [steps] [warm-up steps]
-- Prints a line per 20,000 steps and a summary; exit status 1 on growth.
local lucid = require("lucid")
local nn = require("lucid.nn")
local optim = require("lucid.optim")

local STEPS = tonumber(arg and arg[1]) or 200000
local WARMUP = tonumber(arg and arg[2]) or 20000
local LIMIT = 1.10

local function rss_kb()
  local f = assert(io.open("/proc/self/status", "r"))
  local s = f:read("a")
  f:close()
  return tonumber(s:match("VmRSS:%s*(%d+)%s*kB"))
end

lucid.manual_seed(11)
local model = nn.Sequential(nn.Linear(16, 32), nn.Tanh(), nn.Linear(32, 4))
local opt = optim.Adam(model:parameters(), {lr = 1e-3})
local teacher = lucid.randn(16, 4)

local t0 = os.clock()
local warm_peak, peak, peak_step, last = 0, 0, 0, 0
local first_loss, loss_value
for step = 1, STEPS do
  local x = lucid.randn(8, 16)
  local target = x:matmul(teacher):tanh()
  opt:zero_grad()
  local diff = model(x) - target
  local loss = (diff * diff):mean()
  loss:backward()
  opt:step()
  if step % 100 == 0 then
    lucid.no_grad(function() return model(x):softmax(2):max() end)
  end
  if step % 1000 == 0 then
    loss_value = loss:item()
    first_loss = first_loss or loss_value
    local rss = rss_kb()
    last = rss
    if step <= WARMUP then
      if step > WARMUP // 2 then warm_peak = math.max(warm_peak, rss) end
    elseif rss > peak then
      peak, peak_step = rss, step
    end
    if step % 20000 == 0 then
      print(string.format("soak: step %6d  rss %6d kB  tensors %7d B  lua heap %6.0f kB  loss %.4g",
        step, rss, lucid.memory_allocated(), collectgarbage("count"), loss_value))
    end
  end
end
local secs = os.clock() - t0
local ratio = peak / warm_peak
print(string.format("soak: %d steps in %.1f s (%.0f steps/s); resident memory: warm-up peak %d kB, "
  .. "peak after warm-up %d kB (step %d, %.1f%% of the warm-up peak), last %d kB; loss %.4g -> %.4g",
  STEPS, secs, STEPS / secs, warm_peak, peak, peak_step, 100 * ratio, last, first_loss, loss_value))
if not (ratio <= LIMIT) then
  print(string.format("soak: FAILED: resident memory grew by more than %.0f%% after warm-up",
    100 * (LIMIT - 1)))
  os.exit(1)
end
print("soak: ok")

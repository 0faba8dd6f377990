-- oom_script.lua: the Lua program tests/reliability/oom_sweep.c runs once with
-- every allocation allowed, then again and again with allocation N refused,
-- for every N. It goes through what a training script does: the library's
-- loading, tensors made every way, views, a model, forward, backward, an
-- optimizer step, a custom autograd Function, printing, save and load.
--
-- It must be deterministic (manual_seed; nothing timed) and returns a string
-- that depends on everything it computed, so that a run whose failure was
-- swallowed with a wrong value shows. oom_sweep provides oom_tmpfile() (a
-- path of its own for each process); under plain lua5.4 os.tmpname is used:
--   LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH='build/?.so;;' \
--     lua5.4 tests/reliability/oom_script.lua
local lucid = require("lucid")
local nn = require("lucid.nn")
local optim = require("lucid.optim")

local tmpfile = rawget(_G, "oom_tmpfile") or os.tmpname
lucid.manual_seed(42)

local sums = {}
local function note(t) sums[#sums + 1] = string.format("%.6g", t:sum():item()) end

-- creation, every path
local a = lucid.tensor({{1, 2, 3}, {4, 5, 6}})
local b = lucid.arange(6):reshape(2, 3)
note(a + b)
note(lucid.linspace(0, 1, 5))
note(lucid.eye(3, {dtype = "float64"}))
note(lucid.full({2, 3}, 0.5) * lucid.ones(3))
note(lucid.from_string(string.pack("<ff", 1.5, -2), 2))
note(lucid.randint(0, 10, {4}))
note(lucid.zeros_like(a) + lucid.rand(2, 3) + lucid.empty(2, 3):fill_(1))
note(lucid.from_table({1, 2, 3, 4}, {2, 2}))
local d = lucid.randn(3, 4, {dtype = "float64"})
note(d)

-- views, copies, indexing
local v = a:t():contiguous():view(3, 2)
note(v)
note(lucid.cat({a, b}, 1):narrow(1, 2, 2):slice(2, 1, -1, 2))
note(lucid.stack({a, b}, 2))
for _, part in ipairs(lucid.arange(10):chunk(3)) do note(part) end
note(a:expand(4, 2, 3):permute(3, 1, 2):flatten())
note(a:index_select(2, {3, 1}):gather(2, lucid.tensor({{1}, {2}})))
note(a:masked_fill(a:gt(3), -1):where(a:lt(5), b))
note(a:tile(2, 1):flip(1):unsqueeze(1):squeeze())
note(a[2] + a:select(2, 1)[1])
local w = lucid.zeros(2, 3)
w[1] = 7
w:copy_(w + a)
note(w)
note(d:float():double():to("float32"))

-- integer and bool dtypes, tensor keys
local ids = lucid.tensor({3, 1, 2, 3}, {dtype = "int64"})
note(ids + 2 + ids * ids - lucid.floor_divide(ids, 2) + lucid.remainder(ids, 2))
note((ids / 2) + ids:gt(1):sum() + ids:eq(3):float())
note(a[a:gt(2)] + 0)
note(a[lucid.tensor({2, -1}, {dtype = "int64"})])
note(lucid.masked_select(a, a:lt(4)) + a:nonzero():sum())
local wz = lucid.zeros(2, 3)
wz[wz:eq(0)] = 2
wz[lucid.tensor({1}, {dtype = "int64"})] = lucid.tensor({1, 2, 3})
note(wz + ids:max() + ids:amin() + ids:argmax() + lucid.tensor({true, false}):long():sum())
note(lucid.from_string(lucid.tensor({-1, 7}, {dtype = "int32"}):to_string(), 2, {dtype = "int32"}))

-- reductions and elementwise
note(d:mean(2) + d:var(1):sum() + d:std() + d:norm() + d:logsumexp(1):sum())
local mx, imx = d:max(2)
note(mx + imx)
note(d:softmax(2) + d:log_softmax(1) + d:cumsum(2) + d:prod(1):sum())
note(d:abs():sqrt():log1p() + d:clamp(-0.5, 0.5):exp() + d:sigmoid() + d:relu():pow(2))
note(d:gelu() + d:silu() + d:softplus() + lucid.maximum(d, 0) + lucid.atan2(d, 1))

-- a model, a loss, backward and SGD steps
local model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
local opt = optim.SGD(model:parameters(), {lr = 0.05, momentum = 0.9})
local x, y = lucid.randn(5, 4), lucid.randn(5, 3)
local loss
for _ = 1, 3 do
  opt:zero_grad()
  local out = model(x)
  loss = ((out - y) ^ 2):mean() + out:softmax(2):max() * 0.01
  loss:backward()
  opt:step()
end
note(loss)

-- gradients on demand, a Function written in Lua, hooks, no_grad
local p = lucid.randn(3, 3, {requires_grad = true, dtype = "float64"})
local gp = lucid.autograd.grad((p:tanh() * p):sum(), {p})
note(gp)
local Cube = lucid.autograd.Function:extend("Cube")
function Cube.forward(ctx, t) ctx:save_for_backward(t); return t * t * t end
function Cube.backward(ctx, g) local t = ctx.saved_tensors[1]; return g * 3 * t * t end
local q = lucid.randn(4, {requires_grad = true})
q:register_hook(function(g) return g * 2 end)
local r = Cube.apply(q)
r:retain_grad()
r:sum():backward()
note(q.grad + r.grad)
do
  local guard <close> = lucid.no_grad()
  note(model(x) * 2)
end

-- in-place changes with gradients: indexed writes and in-place ops give the
-- tensor their graph; a changed saved value stops a backward
local src = lucid.randn(3, 4, {dtype = "float64", requires_grad = true})
local wr = src * 1
wr[{{}, 2}] = lucid.tensor({1, 2, 3}, {dtype = "float64"})
wr[wr:gt(0.5)] = 0
wr[lucid.tensor({3}, {dtype = "int64"})] = src[1]
wr:mul_(src):exp_():masked_fill_(src:lt(-1), 0.5)
wr:sum():backward()
note(src.grad)
local ex = src:exp()
ex[1] = 0
sums[#sums + 1] = tostring((pcall(function() ex:sum():backward() end)))

-- printing
local text = tostring(model) .. tostring(a) .. tostring(d) .. tostring(lucid.zeros(0, 2))
sums[#sums + 1] = tostring(#text)

-- save and load a checkpoint: the model, the optimizer, a number
local path = tmpfile()
lucid.save({model = model:state_dict(), optim = opt:state_dict(), step = 3}, path)
local back = lucid.load(path)
os.remove(path)
model:load_state_dict(back.model)
opt:load_state_dict(back.optim)
note(model(x))
sums[#sums + 1] = tostring(back.step)

return table.concat(sums, " ")

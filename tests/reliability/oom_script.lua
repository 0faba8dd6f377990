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

-- attention: the fused masked softmax (bool and float masks), its backward,
-- and a multi-head attention layer with a padding mask
local sc = lucid.randn(2, 3, 4, {requires_grad = true})
local fm = lucid.randn(3, 4, {requires_grad = true})
local att = lucid.masked_softmax(sc, fm, 0.5) + lucid.masked_softmax(sc, sc:detach():gt(1))
att:sum():backward()
note(att + sc.grad + fm.grad:sum())
local mha = nn.MultiheadAttention(4, 2)
local qkv = lucid.randn(3, 2, 4, {requires_grad = true})
local ao, aw = mha(qkv, qkv, qkv, {key_padding_mask = lucid.tensor({{false, false, true}, {false, true, true}})})
ao:sum():backward()
note(ao:sum() + aw:sum() + qkv.grad:sum() + mha.in_proj_weight.grad:sum())

-- pooling, normalisation and resampling (core/pool.c): forward, indices,
-- unpooling, running statistics and the fused backward rules
local img = lucid.randn(2, 3, 5, 6, {requires_grad = true})
local pm, pidx = nn.functional.max_pool2d(img, 3, 2, 1, {ceil_mode = true, return_indices = true})
local pooled = pm:sum() + nn.functional.avg_pool2d(img, 2, {count_include_pad = false}):sum()
  + nn.functional.adaptive_avg_pool2d(img, {2, 3}):sum()
  + nn.functional.max_unpool2d(pm, pidx, 3, 2, 1, {output_size = {5, 6}}):sum()
local bn2, gn = nn.BatchNorm2d(3), nn.GroupNorm(3, 3)
local normed = bn2(img) * gn(img) + nn.functional.interpolate(img, {scale_factor = 2, mode = "bilinear"}):mean()
local grid = nn.functional.affine_grid(lucid.tensor({{{0.9, 0.1, 0}, {0, 1.1, 0.2}}, {{1, 0, 0}, {0, 1, 0}}}), {2, 3, 4, 4})
local sampled = nn.functional.grid_sample(img, grid, {padding_mode = "border"})
local pool_loss = pooled + normed:sum() + sampled:sum()
pool_loss:backward()
note(pool_loss + img.grad:sum() + bn2.running_var:sum() + bn2.weight.grad:sum())

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

-- lucid.linalg: LAPACK, several results, gradients through them
local LA = lucid.linalg
local sq = lucid.tensor(lucid.randn(3, 3, {dtype = "float64"}) + lucid.eye(3, {dtype = "float64"}) * 3,
  {dtype = "float64", requires_grad = true})
local rhs = lucid.randn(3, 2, {dtype = "float64"})
local sgn, lad = LA.slogdet(sq)
local qq, qr = LA.qr(sq)
local uu, ss = LA.svd(sq, false)
local ev, evec = LA.eigh(sq + sq:t())
local ls = LA.lstsq(sq, rhs)
local tot = LA.inv(sq):sum() + LA.solve(sq, rhs):sum() + LA.det(sq) + lad + sgn
  + LA.cholesky(sq:matmul(sq:t())):sum() + (qq * qq):sum() + qr:sum() + (uu * uu):sum() + ss:sum()
  + ev:sum() + (evec * evec):sum() + LA.pinv(sq):sum() + ls:sum()
  + LA.vector_norm(sq, 3) + LA.matrix_norm(sq, "nuc")
  + LA.solve_triangular(sq, rhs, {upper = true}):sum() + LA.inv_ex(sq):sum()
  + LA.cholesky_ex(sq:matmul(sq:t())):sum() + LA.cond(sq, 1) + LA.matrix_power(sq, -2):sum()
  + LA.multi_dot({sq, sq, rhs}):sum() + LA.norm(sq, "nuc") + select(3, LA.lu(sq)):sum()
  + LA.lu_solve(LA.lu_factor(sq), select(2, LA.lu_factor(sq)), rhs):sum()
tot:backward()
note(sq.grad)
sums[#sums + 1] = tostring(pcall(LA.inv, lucid.zeros(2, 2)))

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

-- ctc_loss: the loss family's kernel, the data its node keeps, its fused backward
local logits = lucid.randn(6, 2, 4, {dtype = "float64", requires_grad = true})
local ctc = lucid.ctc_loss(lucid.log_softmax(logits, 3), lucid.tensor({{2, 3}, {4, 4}}, {dtype = "int64"}),
  {6, 5}, {2, 2})
ctc:backward()
note(logits.grad)

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

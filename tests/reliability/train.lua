-- train.lua: a small but complete training script for `make valgrind`
-- (memcheck runs lua5.4 on it with the release module): data loading, a
-- model of several layer kinds, two optimizers, backward through views and
-- broadcasts, gradients on demand, hooks, a Function written in Lua,
-- errors caught half-way through a graph, <close> tensors, a coroutine, a
-- compiled model, printing, save and load. Ends with "train.lua: ok" and exit status 0.
--   LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH='build/?.so;;' lua5.4 tests/reliability/train.lua
local lucid = require("lucid")
local nn = require("lucid.nn")
local optim = require("lucid.optim")
local data = require("lucid.data")

lucid.manual_seed(3)
local N, D, H, K = 64, 6, 16, 3

-- a dataset: K classes from a random linear map
local x = lucid.randn(N, D)
local proj = lucid.randn(D, K)
local _, labels = (x:matmul(proj)):max(2)   -- 1-based class indices (float64)
local loader = data.DataLoader(data.TensorDataset(x, labels), {batch_size = 16, shuffle = true})

local model = nn.Sequential(nn.Linear(D, H), nn.Tanh(), nn.Linear(H, H), nn.ReLU(),
  nn.LayerNorm(H), nn.Linear(H, K))
local loss_fn = nn.CrossEntropyLoss()
local opt = optim.Adam(model:parameters(), {lr = 1e-2})
local first, last
for epoch = 1, 15 do
  local total = 0
  for xb, yb in loader:iter() do
    opt:zero_grad()
    local loss = loss_fn(model(xb), yb)
    loss:backward()
    opt:step()
    total = total + loss:item()
  end
  first = first or total
  last = total
end
assert(last < first, string.format("the loss did not go down: %g -> %g", first, last))

-- a regression head on the same features, SGD with momentum
local head = nn.Linear(K, 1)
local sgd = optim.SGD(head:parameters(), {lr = 0.05, momentum = 0.9})
local target = lucid.randn(N, 1)
for _ = 1, 20 do
  sgd:zero_grad()
  local feats = lucid.no_grad(function() return model(x) end)
  local loss = nn.MSELoss()(head(feats), target)
  loss:backward()
  sgd:step()
end

-- a small convnet and a recurrent tagger, a few steps each: the conv, pool,
-- norm, LSTM/GRU and attention kernels and their fused backward rules
local convnet = nn.Sequential(nn.Conv2d(1, 4, 3, {padding = 1}), nn.BatchNorm2d(4), nn.ReLU(),
  nn.MaxPool2d(2), nn.Conv2d(4, 4, 3, {groups = 2, padding = 1}), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
  nn.Linear(4, K))
local copt = optim.Adam(convnet:parameters(), {lr = 1e-2})
local images, image_labels = lucid.randn(8, 1, 6, 6), lucid.randint(1, K + 1, {8})
local lstm, gru = nn.LSTM(D, 5, {num_layers = 2, bidirectional = true}), nn.GRU(10, 3, {batch_first = true})
local mha = nn.MultiheadAttention(6, 2)
local ropt = optim.SGD({{params = lstm:parameters()}, {params = gru:parameters()}, {params = mha:parameters()}},
  {lr = 0.01})
for _ = 1, 3 do
  copt:zero_grad()
  loss_fn(convnet(images), image_labels):backward()
  copt:step()
  ropt:zero_grad()
  local seq = x:narrow(1, 1, 12):reshape(4, 3, D)
  local out = lstm(seq)
  local att = mha(seq, seq, seq)
  ;((gru(out:transpose(1, 2))):pow(2):mean() + att:sum()):backward()
  ropt:step()
end
convnet:eval()
assert(convnet(images).shape[2] == K)

-- backward through views, broadcasts and float64
local w = lucid.randn(4, 6, {requires_grad = true, dtype = "float64"})
local v = w:t():reshape(3, 8):narrow(2, 2, 4):expand(2, 3, 4)
local y = (v * lucid.arange(4, {dtype = "float64"})):softmax(3):log():sum()
y:backward()
assert(w.grad and w.grad.shape[1] == 4)

-- gradients on demand, hooks, retain_grad, a Function written in Lua
local p = lucid.randn(5, {requires_grad = true})
local seen = 0
p:register_hook(function(g) seen = seen + 1; return g * 0.5 end)
local Square = lucid.autograd.Function:extend("Square")
function Square.forward(ctx, t) ctx:save_for_backward(t); return t * t end
function Square.backward(ctx, g) return g * 2 * ctx.saved_tensors[1] end
local q = Square.apply(p)
q:retain_grad()
local gq = lucid.autograd.grad(q:sum(), {p}, {retain_graph = true})
assert(gq and seen == 1)
q:sum():backward()
assert(p.grad and q.grad)

-- errors half-way through: the partial graphs must go
for _ = 1, 50 do
  local a = lucid.randn(3, 4, {requires_grad = true})
  local ok = pcall(function() return a:matmul(lucid.randn(5, 2)) end)
  assert(not ok)
  ok = pcall(function() return (a * 2):reshape(7, 7) end)
  assert(not ok)
  ok = pcall(function() return lucid.zeros(2 ^ 40, 2 ^ 40) end)
  assert(not ok)
  ok = pcall(function()
    local z = (a:tanh() * 3):sum()
    z:backward()
    z:backward()  -- the graph is freed: an error
  end)
  assert(not ok)
end

-- <close> tensors and a coroutine that trains
do
  local big <close> = lucid.zeros(256, 256)
  big:fill_(1)
end
local co = coroutine.wrap(function()
  local m = nn.Linear(3, 2)
  local o = optim.SGD(m:parameters(), {lr = 0.1})
  for _ = 1, 5 do
    o:zero_grad()
    m(lucid.randn(4, 3)):pow(2):mean():backward()
    o:step()
    coroutine.yield(true)
  end
  return false
end)
while co() do end

-- a compiled model: replayed under no_grad, and trained through one node
do
  local net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
  local fast = net:compile(lucid.randn(5, 3))
  local o = optim.SGD(net:parameters(), {lr = 0.1})
  for _ = 1, 3 do
    o:zero_grad()
    fast(lucid.randn(5, 3)):pow(2):mean():backward()
    o:step()
  end
  local px = lucid.randn(5, 3)
  assert(lucid.equal(lucid.no_grad(fast, px), lucid.no_grad(net, px)))
end

-- printing, save and load
local text = tostring(model) .. tostring(x) .. tostring(w.grad)
assert(#text > 100)
local path = os.tmpname()
lucid.save({model = model:state_dict(), optim = opt:state_dict(), epoch = 15}, path)
local back = lucid.load(path)
os.remove(path)
model:load_state_dict(back.model)
opt:load_state_dict(back.optim)
assert(back.epoch == 15)

print("train.lua: ok")

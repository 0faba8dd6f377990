-- xor.lua: a 2-4-1 network learns XOR, is saved, and is reloaded.
--
-- What it shows: a model built with nn.Sequential (Linear, Tanh, Sigmoid),
-- the binary cross entropy loss, SGD with momentum, a progress bar
-- (lucid.progress), and the weights going through a file: lucid.save of
-- the state_dict, lucid.load into a fresh model, identical predictions.
--
-- Run it from the checkout (after `make`):
--   LUA_PATH="lua/?.lua;lua/?/init.lua;;" LUA_CPATH="build/?.so;;" lua5.4 scripts/xor.lua
-- or, with lucid installed (`make install`), just `lua5.4 scripts/xor.lua`.
--
-- Options: --steps N (default 1000)  --lr X (default 0.5)  --seed N (default 0)
--          --out DIR (where the weights go, default ./out)  --help
-- Writes DIR/xor.safetensors. Exits with status 1 if the network does not
-- get all four cases right or the reloaded network disagrees.
local lucid = require("lucid")
local nn = lucid.nn

-- scripts/example_common.lua (options, logging, the reload check), found
-- next to this script
package.path = ((arg and arg[0] or ""):match("^(.*)[/\\]") or ".") .. "/?.lua;" .. package.path
local example = require("example_common")

-- Layers that newer versions of lucid.nn list themselves.
local Sigmoid = nn.Sigmoid
local BCELoss = nn.BCELoss

-- ---------------------------------------------------------------------------
-- options

local USAGE = [[
usage: lua5.4 scripts/xor.lua [options]
  --steps N   training steps (default 1000)
  --lr X      SGD learning rate (default 0.5; momentum 0.9)
  --seed N    random seed (default 0)
  --out DIR   where xor.safetensors goes (default ./out)
]]

local opts = example.parse_args(arg or {}, {steps = 1000, lr = 0.5, seed = 0, out = "out"}, USAGE, "xor.lua")
example.mkdir(opts.out)

-- ---------------------------------------------------------------------------
-- data: the four cases

local X = lucid.tensor({{0, 0}, {0, 1}, {1, 0}, {1, 1}})
local Y = lucid.tensor({{0}, {1}, {1}, {0}})

-- ---------------------------------------------------------------------------
-- the model

local function make_model()
  return nn.Sequential(
    nn.Linear(2, 4), nn.Tanh(),
    nn.Linear(4, 1), Sigmoid())   -- outputs a probability
end

lucid.manual_seed(opts.seed)
local model = make_model()
print(model)

local loss_fn = BCELoss()
local optimizer = lucid.optim.SGD(model:parameters(), {lr = opts.lr, momentum = 0.9})

-- ---------------------------------------------------------------------------
-- training: the whole data set is one batch

-- the loop closes the bar when it ends (`local bar <close>` would on 5.4
-- after an error too; this example runs on every Lua, so bar:close() below)
local bar = lucid.progress(opts.steps, {desc = "xor"})
for step in bar do
  optimizer:zero_grad()
  local loss = loss_fn(model(X), Y)
  loss:backward()
  optimizer:step()
  if example.log_step(step, opts.steps) then
    bar:set_postfix{loss = loss:item()}
    bar:write(string.format("step %5d  loss %.5f", step, loss:item()))
  end
end
bar:close()

-- ---------------------------------------------------------------------------
-- results

model:eval()
local probs = lucid.no_grad(model, X)       -- {4, 1}
local p, x, y = probs:reshape(-1):tolist(), X:tolist(), Y:reshape(-1):tolist()
local correct = 0
print("\n x1 x2  target  output  predicted")
for i = 1, 4 do
  local predicted = p[i] >= 0.5 and 1 or 0
  if predicted == y[i] then correct = correct + 1 end
  print(string.format(" %d  %d   %d       %.4f  %d", x[i][1], x[i][2], y[i], p[i], predicted))
end
print(string.format("accuracy: %.1f%% (%d/4)", 100 * correct / 4, correct))

-- ---------------------------------------------------------------------------
-- save, reload into a fresh model, compare

local same = example.save_and_reload(model, make_model, opts.out .. "/xor.safetensors", opts.seed,
  {X}, "outputs")

if correct < 4 or not same then
  io.stderr:write("xor.lua: FAILED: ", correct < 4 and "not every case is right" or "the reloaded model differs", "\n")
  os.exit(1)
end

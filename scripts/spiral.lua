-- spiral.lua: a 2-64-64-3 network learns the three-arm spiral; saved,
-- reloaded, and drawn.
--
-- What it shows: classification with nn.CrossEntropyLoss (logits in, int64
-- class indices 1..3 as targets), nn.ReLU, optim.Adam, shuffled mini-batches from
-- lucid.data.TensorDataset and lucid.data.DataLoader, a progress bar over
-- the epochs (lucid.progress), the weights going through a file
-- (lucid.save / lucid.load / load_state_dict) into a fresh model, and two
-- pictures made with scripts/svg.lua: the decision regions (the model's
-- argmax on a grid, the training points on top) and the loss curve.
--
-- The data is the classic spiral of Stanford's CS231n notes: N points per
-- class, radius from 0 to 1, angle sweeping 4 radians per class plus
-- Gaussian noise (sd 0.2). No straight line separates the classes; the
-- hidden ReLU layers bend the boundaries around the arms.
--
-- Run it from the checkout (after `make`):
--   LUA_PATH="lua/?.lua;lua/?/init.lua;;" LUA_CPATH="build/?.so;;" lua5.4 scripts/spiral.lua
-- or, with lucid installed (`make install`), just `lua5.4 scripts/spiral.lua`.
--
-- Options: --epochs N (default 100)  --points N (per class, default 100)
--          --batch-size N (default 32)  --lr X (default 0.01)  --seed N (default 0)
--          --grid N (cells per side of the picture, default 60)
--          --out DIR (where the files go, default ./out)  --help
-- Writes DIR/spiral.safetensors, DIR/spiral_regions.svg, DIR/spiral_loss.svg.
-- Exits with status 1 if the training accuracy stays under 95% or the
-- reloaded model disagrees.
local lucid = require("lucid")
local nn = lucid.nn

-- scripts/svg.lua and scripts/example_common.lua (options, logging, the
-- reload check), found next to this script
package.path = ((arg and arg[0] or ""):match("^(.*)[/\\]") or ".") .. "/?.lua;" .. package.path
local svg = require("svg")
local example = require("example_common")

-- Layers that newer versions of lucid.nn list themselves.
local ReLU = nn.ReLU
local CrossEntropyLoss = nn.CrossEntropyLoss

-- ---------------------------------------------------------------------------
-- options

local USAGE = [[
usage: lua5.4 scripts/spiral.lua [options]
  --epochs N      passes over the data (default 100)
  --points N      points per class (default 100)
  --batch-size N  mini-batch size (default 32)
  --lr X          Adam's learning rate (default 0.01)
  --seed N        random seed (default 0)
  --grid N        cells per side of the decision-region picture (default 60)
  --out DIR       where spiral.safetensors and the two SVG files go (default ./out)
]]

local opts = example.parse_args(arg or {}, {epochs = 100, points = 100, batch_size = 32, lr = 0.01,
  seed = 0, grid = 60, out = "out"}, USAGE, "spiral.lua")
example.mkdir(opts.out)
lucid.manual_seed(opts.seed)

-- ---------------------------------------------------------------------------
-- data: K arms of N points

local N, K = example.int(opts.points), 3
local xs, labels = {}, {}
for k = 1, K do
  local r = lucid.linspace(0, 1, N)                                       -- radius
  local t = lucid.linspace((k - 1) * 4, k * 4, N) + lucid.randn(N) * 0.2  -- angle
  xs[k] = lucid.stack({r * lucid.sin(t), r * lucid.cos(t)}, 2)           -- {N, 2}
  labels[k] = lucid.full({N}, k, {dtype = "int64"})                      -- class k
end
local X = lucid.cat(xs, 1)          -- {K*N, 2}
local Y = lucid.cat(labels, 1)      -- {K*N} int64: 1, ..., 1, 2, ..., 3
print(string.format("data: %d points in %d classes, labels %s", X.shape[1], K, Y.dtype))

local loader = lucid.data.DataLoader(lucid.data.TensorDataset(X, Y),
  {batch_size = example.int(opts.batch_size), shuffle = true})

-- ---------------------------------------------------------------------------
-- the model

local function make_model()
  return nn.Sequential(
    nn.Linear(2, 64), ReLU(),
    nn.Linear(64, 64), ReLU(),
    nn.Linear(64, K))               -- logits: CrossEntropyLoss applies log_softmax
end

local model = make_model()
print(model)

local loss_fn = CrossEntropyLoss()
local optimizer = lucid.optim.Adam(model:parameters(), {lr = opts.lr})

--- The fraction (and the number) of rows of inputs whose largest logit is at their label.
local function accuracy(m, inputs, targets)
  local _, predicted = lucid.no_grad(m, inputs):max(2)           -- int64 1-based class indices
  local correct = predicted:eq(targets):sum():item()             -- a bool mask's sum: int64
  return correct / targets:numel(), example.int(correct)
end

-- ---------------------------------------------------------------------------
-- training: shuffled mini-batches, one progress step per epoch

local epochs = example.int(opts.epochs)
local curve = {}                    -- mean training loss of each epoch
local bar = lucid.progress(epochs, {desc = "spiral", unit = "epoch"})  -- closed by the loop's end
for epoch in bar do
  model:train()
  local total, count = 0, 0
  for xb, yb in loader do
    optimizer:zero_grad()
    local loss = loss_fn(model(xb), yb)
    loss:backward()
    optimizer:step()
    total, count = total + loss:item() * #xb, count + #xb
  end
  curve[epoch] = total / count
  bar:set_postfix{loss = curve[epoch]}
  if example.log_step(epoch, epochs) then
    model:eval()
    bar:write(string.format("epoch %4d  loss %.4f  train accuracy %.1f%%", epoch, curve[epoch],
      100 * accuracy(model, X, Y)))
  end
end
bar:close()

-- ---------------------------------------------------------------------------
-- results

model:eval()
local acc, correct = accuracy(model, X, Y)
print(string.format("\ntrain accuracy: %.2f%% (%d/%d)", 100 * acc, correct, X.shape[1]))
print(string.format("final loss: %.4f", curve[epochs]))

-- The grid of cell centres for the picture, {G*G, 2}, row by row from the top.
local G, LIM = example.int(opts.grid), 1.2
local h = 2 * LIM / G
local centres = lucid.linspace(-LIM + h / 2, LIM - h / 2, G)
local gx = centres:reshape(1, G):expand(G, G)           -- x grows along a row
local gy = centres:flip(1):reshape(G, 1):expand(G, G)   -- y shrinks down the rows
local grid = lucid.stack({gx, gy}, 3):reshape(G * G, 2)
local grid_logits = lucid.no_grad(model, grid)

-- ---------------------------------------------------------------------------
-- save, reload into a fresh model, compare

local same = example.save_and_reload(model, make_model, opts.out .. "/spiral.safetensors", opts.seed,
  {X, grid}, string.format("logits on %d inputs", X.shape[1] + G * G))

-- ---------------------------------------------------------------------------
-- pictures

local REGION = {"#fbb4ae", "#b3cde3", "#ccebc5"}   -- light: the decision regions
local POINT = {"#e41a1c", "#377eb8", "#4daf4a"}    -- strong: the data

-- Decision regions: one square per grid cell, coloured by the argmax class,
-- grouped by class; then the training points, grouped by class.
local _, grid_class = grid_logits:max(2)
local cls = grid_class:tolist()
local doc = svg.new(470, 470, {title = "Spiral: decision regions of a 2-64-64-3 network"})
local ax = doc:axes({x = 70, y = 40, width = 360, height = 360}, {
  xlim = {-LIM, LIM}, ylim = {-LIM, LIM}, xlabel = "x1", ylabel = "x2", grid = false,
  title = string.format("spiral: train accuracy %.1f%% after %d epochs", 100 * acc, epochs)})
local centre = centres:tolist()
for k = 1, K do
  doc:group({class = "region k" .. k, fill = REGION[k], shape_rendering = "crispEdges"}, function()
    for row = 1, G do
      local y = centre[G + 1 - row]
      for col = 1, G do
        if cls[(row - 1) * G + col] == k then
          local x = centre[col]
          ax:cell(x - h / 2, y - h / 2, x + h / 2, y + h / 2)
        end
      end
    end
  end)
end
for k = 1, K do
  local pts = xs[k]:tolist()
  local px, py = {}, {}
  for i, p in ipairs(pts) do px[i], py[i] = p[1], p[2] end
  ax:points(px, py, {r = 3, class = "points k" .. k, fill = POINT[k], stroke = "white", stroke_width = 0.8})
end
ax:legend({{label = "class 1", color = POINT[1]}, {label = "class 2", color = POINT[2]},
  {label = "class 3", color = POINT[3]}}, "bottom right")
ax:frame()
local regions_path = doc:save(opts.out .. "/spiral_regions.svg")
print(string.format("decision regions: %s (%dx%d cells, %d points)", regions_path, G, G, X.shape[1]))

-- Loss curve: the mean training loss of each epoch.
local ep, highest = {}, 0
for e = 1, epochs do ep[e], highest = e, math.max(highest, curve[e]) end
doc = svg.new(520, 360, {title = "Spiral: training loss per epoch"})
ax = doc:axes({x = 70, y = 36, width = 420, height = 270}, {
  xlim = {0, epochs}, ylim = {0, highest * 1.05},
  xlabel = "epoch", ylabel = "mean cross-entropy loss",
  title = string.format("spiral: loss %.4f after %d epochs", curve[epochs], epochs)})
ax:line(ep, curve, {stroke = "#377eb8", class = "loss"})
ax:frame()
local loss_path = doc:save(opts.out .. "/spiral_loss.svg")
print(string.format("loss curve: %s (%d epochs)", loss_path, epochs))

if acc < 0.95 or not same then
  io.stderr:write("spiral.lua: FAILED: ", not same and "the reloaded model differs" or
    string.format("train accuracy %.2f%% is under 95%%", 100 * acc), "\n")
  os.exit(1)
end

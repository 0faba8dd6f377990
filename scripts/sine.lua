-- sine.lua: a 1-32-32-1 network fits a noisy sine; saved, reloaded, plotted.
--
-- What it shows: regression with nn.MSELoss, optim.Adam with a cosine
-- learning-rate schedule (optim.lr_scheduler.CosineAnnealingLR), data made
-- with tensor ops (linspace, sin, randn), evaluation under lucid.no_grad,
-- the weights going through a file (lucid.save / lucid.load /
-- load_state_dict) into a fresh model, and a picture (scripts/svg.lua).
--
-- The targets are y = sin(x) + 0.1 * noise for x in [-pi, pi]. A good fit
-- follows sin(x), not the noise, so its error against the noisy targets
-- comes down to the noise floor (the mean squared noise, about 0.01) and no
-- further, while its error against the clean sine keeps shrinking well below.
--
-- Run it from the checkout (after `make`):
--   LUA_PATH="lua/?.lua;lua/?/init.lua;;" LUA_CPATH="build/?.so;;" lua5.4 scripts/sine.lua
-- or, with lucid installed (`make install`), just `lua5.4 scripts/sine.lua`.
--
-- Options: --steps N (default 2000)  --points N (training points, default 200)
--          --lr X (default 0.01)  --seed N (default 0)
--          --out DIR (where the files go, default ./out)  --help
-- Writes DIR/sine.safetensors and DIR/sine.svg. Exits with status 1 if the
-- fit misses the clean sine (MSE above 0.005) or the reloaded model disagrees.
local lucid = require("lucid")
local nn = lucid.nn

-- scripts/svg.lua and scripts/example_common.lua (options, logging, the
-- reload check), found next to this script
package.path = ((arg and arg[0] or ""):match("^(.*)[/\\]") or ".") .. "/?.lua;" .. package.path
local svg = require("svg")
local example = require("example_common")

-- A layer that newer versions of lucid.nn list themselves.
local MSELoss = nn.MSELoss

-- ---------------------------------------------------------------------------
-- options

local USAGE = [[
usage: lua5.4 scripts/sine.lua [options]
  --steps N   training steps (default 2000)
  --points N  training points (default 200)
  --lr X      Adam's initial learning rate (default 0.01, annealed to 0)
  --seed N    random seed (default 0)
  --out DIR   where sine.safetensors and sine.svg go (default ./out)
]]

local opts = example.parse_args(arg or {}, {steps = 2000, points = 200, lr = 0.01, seed = 0, out = "out"},
  USAGE, "sine.lua")
example.mkdir(opts.out)
lucid.manual_seed(opts.seed)

-- ---------------------------------------------------------------------------
-- data

local N, NOISE = example.int(opts.points), 0.1
local x = lucid.linspace(-math.pi, math.pi, N):reshape(N, 1)       -- {N, 1}
local noise = lucid.randn(N, 1) * NOISE
local y = lucid.sin(x) + noise                                      -- noisy targets
local noise_floor = (noise ^ 2):mean():item()

local x_test = lucid.linspace(-math.pi, math.pi, 400):reshape(400, 1)  -- for the clean error
local y_test = lucid.sin(x_test)

-- ---------------------------------------------------------------------------
-- the model

local function make_model()
  return nn.Sequential(
    nn.Linear(1, 32), nn.Tanh(),
    nn.Linear(32, 32), nn.Tanh(),
    nn.Linear(32, 1))
end

local model = make_model()
print(model)

local loss_fn = MSELoss()
local optimizer = lucid.optim.Adam(model:parameters(), {lr = opts.lr})
local schedule = lucid.optim.lr_scheduler.CosineAnnealingLR(optimizer, {T_max = opts.steps})

-- ---------------------------------------------------------------------------
-- training: the whole data set is one batch

local bar = lucid.progress(opts.steps, {desc = "sine"})  -- closed by the loop's end
for step in bar do
  optimizer:zero_grad()
  local loss = loss_fn(model(x), y)
  loss:backward()
  optimizer:step()
  schedule:step()
  if example.log_step(step, opts.steps) then
    bar:set_postfix{loss = loss:item()}
    bar:write(string.format("step %5d  loss %.5f  lr %.5f", step, loss:item(), schedule:get_last_lr()[1]))
  end
end
bar:close()

-- ---------------------------------------------------------------------------
-- results

model:eval()
local g = lucid.no_grad()  -- until g:close() below (`local g <close>` on 5.4 only)
local fit, fit_test = model(x), model(x_test)
local train_mse = loss_fn(fit, y):item()
local clean_mse = loss_fn(fit_test, y_test):item()
print(string.format("\ntrain MSE (against the noisy targets): %.5f", train_mse))
print(string.format("noise floor (mean squared noise):      %.5f", noise_floor))
print(string.format("test MSE (against the clean sine):     %.5f", clean_mse))

-- ---------------------------------------------------------------------------
-- save, reload into a fresh model, compare

local same = example.save_and_reload(model, make_model, opts.out .. "/sine.safetensors", opts.seed,
  {x_test}, string.format("outputs on %d inputs", x_test.shape[1]))

-- ---------------------------------------------------------------------------
-- picture: the data, the clean sine, the fit

local xs, ys = x:reshape(-1):tolist(), y:reshape(-1):tolist()
local xt, yt, ft = x_test:reshape(-1):tolist(), y_test:reshape(-1):tolist(), fit_test:reshape(-1):tolist()
local doc = svg.new(560, 400, {title = "A 1-32-32-1 network fitting a noisy sine"})
local ax = doc:axes({x = 64, y = 32, width = 470, height = 310}, {
  xlim = {-3.3, 3.3}, ylim = svg.extent(0.05, ys, ft), xlabel = "x", ylabel = "y",
  title = string.format("noisy sine: test MSE %.4f after %d steps", clean_mse, opts.steps)})
ax:points(xs, ys, {r = 2.5, fill = "#9ecae1", class = "data"})
ax:line(xt, yt, {stroke = "#555555", stroke_dasharray = "6 4", class = "sine"})
ax:line(xt, ft, {stroke = "#d62728", class = "fit"})
ax:legend({{label = "data (sin x + noise)", color = "#9ecae1"},
  {label = "sin x", color = "#555555"}, {label = "network", color = "#d62728"}}, "top left")
ax:frame()
print("picture: " .. doc:save(opts.out .. "/sine.svg"))
g:close()

if clean_mse > 0.005 or not same then
  io.stderr:write("sine.lua: FAILED: ", not same and "the reloaded model differs" or
    string.format("the fit is off (test MSE %.5f > 0.005)", clean_mse), "\n")
  os.exit(1)
end

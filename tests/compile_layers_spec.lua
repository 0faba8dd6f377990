-- model:compile(x) over the built-in layers (core replays: conv.c, pool.c,
-- rnn.c, attention.c): each layer in a small model is compiled on one
-- input, then run under no_grad on other inputs of the same shape, and its
-- results compared with the uncompiled model's (bit-identical: the replays
-- run the forwards' own kernels), in float32 and float64; the plan's steps
-- name the layer's op, so it was replayed and not dropped.
local lucid = require("lucid")
local nn = require("lucid.nn")
local C = require("lucid.core")
local H = dofile("tests/helpers.lua")

local unpack = H.unpack

-- The tensors of a result (a tensor or nested tables), in a fixed order,
-- and its structure as a string ("T" for a tensor), so that (out, (h, c))
-- is checked as such.
local function flatten(v, out)
  if C.is_tensor(v) then
    out[#out + 1] = v
    return "T"
  end
  assert.are.equal("table", type(v))
  local parts = {}
  for i = 1, #v do parts[i] = flatten(v[i], out) end
  return "{" .. table.concat(parts, ",") .. "}"
end

local function max_diff(a, b)
  assert.are.same(a.shape, b.shape)
  assert.are.equal(a.dtype, b.dtype)
  if a:numel() == 0 then return 0 end
  local d = 0
  local fa, fb = H.flat(a:double()), H.flat(b:double())
  for i = 1, #fa do
    local e = math.abs(fa[i] - fb[i])
    if e ~= e then return math.huge end
    if e > d then d = e end
  end
  return d
end

local function has_step(steps, name)
  for _, s in ipairs(steps) do
    if s == name then return true end
  end
  return false
end

-- case: make() a module (in the default float32; converted for float64),
-- inputs(dtype) a list of fresh inputs, step: an op the plan must run.
local function check(case)
  for _, dtype in ipairs({"float32", "float64"}) do
    lucid.manual_seed(7)
    local m = case.make()
    if dtype == "float64" then m:double() end
    m:eval()
    local fast = m:compile(unpack(case.inputs(dtype)))
    for _ = 1, 2 do  -- twice: a replay recomputes every time
      local xs = case.inputs(dtype)
      lucid.no_grad(function()
        local got, want = {}, {}
        local gs = flatten(H.pack(fast(unpack(xs))), got)
        local ws = flatten(H.pack(m(unpack(xs))), want)
        assert.are.equal(ws, gs)
        for i = 1, #want do
          local d = max_diff(got[i], want[i])
          assert(d <= (case.tol or 0), string.format("%s (%s): result %d differs by %g", case.name,
            dtype, i, d))
        end
      end)
    end
    local steps = fast:steps()
    assert(#steps > 0, case.name .. ": no steps")
    assert(has_step(steps, case.step), string.format("%s: no %s step in %s", case.name, case.step,
      table.concat(steps, " ")))
  end
end

-- fresh standard normal inputs of these shapes
local function randn(...)
  local shapes = {...}
  return function(dtype)
    local xs = {}
    for i, s in ipairs(shapes) do xs[i] = lucid.randn(s, {dtype = dtype}) end
    return xs
  end
end

local function run(cases)
  for _, c in ipairs(cases) do
    it(c.name, function() check(c) end)
  end
end

describe("compiled convolution layers", function()
  run({
    {name = "Conv2d", step = "Convolution", inputs = randn({2, 3, 7, 6}), make = function()
      return nn.Sequential(nn.Conv2d(3, 4, 3, {stride = 2, padding = 1}), nn.Tanh())
    end},
    {name = "Conv2d (groups, dilation, no bias)", step = "Convolution", inputs = randn({1, 4, 8, 8}),
      make = function()
        return nn.Conv2d(4, 6, {3, 2}, {groups = 2, dilation = 2, bias = false})
      end},
    {name = "Conv2d (1x1)", step = "Convolution", inputs = randn({3, 2, 4, 4}), make = function()
      return nn.Conv2d(2, 5, 1)
    end},
    {name = "Conv1d", step = "Convolution", inputs = randn({2, 3, 9}), make = function()
      return nn.Conv1d(3, 2, 3, {padding = 1})
    end},
    {name = "ConvTranspose2d", step = "ConvolutionTranspose", inputs = randn({2, 3, 4, 5}),
      make = function()
        return nn.ConvTranspose2d(3, 2, 3, {stride = 2, padding = 1, output_padding = 1})
      end},
    {name = "ConvTranspose1d", step = "ConvolutionTranspose", inputs = randn({1, 2, 6}),
      make = function()
        return nn.ConvTranspose1d(2, 3, 4, {stride = 2})
      end},
    {name = "Unfold", step = "Im2Col", inputs = randn({2, 2, 5, 5}), make = function()
      return nn.Unfold({2, 3}, {padding = 1, stride = 2})
    end},
    {name = "Fold", step = "Col2Im", inputs = randn({2, 8, 9}), make = function()
      return nn.Fold({4, 4}, 2, {stride = 1})
    end},
    {name = "Unfold then Fold", step = "Col2Im", inputs = randn({1, 2, 4, 4}), make = function()
      return nn.Sequential(nn.Unfold(2), nn.Fold({4, 4}, 2))
    end},
  })
end)

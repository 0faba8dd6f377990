--- In-place initialisers as torch.nn.init: each fills its tensor under no_grad
-- (parameters included), draws from lucid's generator and returns the tensor.
-- Fans are PyTorch's; options go positionally or by name:
-- nn.init.kaiming_normal_(w, {mode = "fan_out", nonlinearity = "relu"}).
-- @module lucid.nn.init
-- @usage nn.init.xavier_uniform_(w [, gain])  (also uniform_ normal_ constant_ zeros_ ones_ xavier_normal_ kaiming_uniform_ kaiming_normal_ calculate_gain)
-- @aka nn.init.uniform_ nn.init.normal_ nn.init.constant_ nn.init.zeros_ nn.init.ones_ nn.init.xavier_uniform_ nn.init.xavier_normal_ nn.init.kaiming_uniform_ nn.init.kaiming_normal_ nn.init.calculate_gain

-- nn.init: in-place initialisers for parameters, as torch.nn.init.
--
--   nn.init.kaiming_uniform_(layer.weight, {a = math.sqrt(5)})
--   nn.init.zeros_(layer.bias)
--
-- Each fills its tensor in place under no_grad (so parameters that require
-- grad can be filled), draws from the library's generator (lucid.manual_seed
-- makes the values repeatable) and returns the tensor. Fans are PyTorch's:
-- for a weight of shape {out, in, k1, k2, ...}, fan_in = in * k1 * k2 * ...
-- and fan_out = out * k1 * k2 * ...; tensors of fewer than 2 dims have none.
-- Optional arguments go positionally in PyTorch's order or in a table with
-- PyTorch's names: kaiming_normal_(w, 0, "fan_out", "relu") is
-- kaiming_normal_(w, {mode = "fan_out", nonlinearity = "relu"}).
local args = require("lucid._args")
local raise = args.raise
local lucid = require("lucid")
local C = require("lucid.core")

local init = {}

-- the tensor to fill: the first argument of every initialiser
local function tensor_check(v)
  if not C.is_tensor(v) then return "expected a tensor, got " .. type(v) end
end

-- One schema per initialiser (PyTorch's names and order); init.schemas[name].
local S = {}
init.schemas = S
local function schema(name, entries)
  table.insert(entries, 1, {"tensor", args.REQUIRED, tensor_check})
  S[name] = args.schema("nn.init." .. name, entries)
end
local MODE = args.one_of("fan_in", "fan_out")
schema("uniform_", {{"a", 0.0, "number"}, {"b", 1.0, "number"}, unsupported = {"generator"}})
schema("normal_", {{"mean", 0.0, "number"}, {"std", 1.0, "number"}, unsupported = {"generator"}})
schema("constant_", {{"val", args.REQUIRED, "number"}})
schema("zeros_", {})
schema("ones_", {})
schema("xavier_uniform_", {{"gain", 1.0, "number"}, unsupported = {"generator"}})
schema("xavier_normal_", {{"gain", 1.0, "number"}, unsupported = {"generator"}})
for _, name in ipairs({"kaiming_uniform_", "kaiming_normal_"}) do
  schema(name, {{"a", 0, "number"}, {"mode", "fan_in", MODE}, {"nonlinearity", "leaky_relu", "string"},
    unsupported = {"generator"}})
end
S.calculate_gain = args.schema("nn.init.calculate_gain", {
  {"nonlinearity", args.REQUIRED}, {"param", nil},
})

-- Runs fill(t) with recording off (restored even if it raises); returns t.
local function no_grad_fill(t, fill)
  if t:numel() == 0 then return t end  -- as PyTorch: nothing to fill
  local previous = C.set_grad_enabled(false)
  local ok, err = pcall(fill, t)
  C.set_grad_enabled(previous)
  if not ok then error(err, 0) end
  return t
end

-- t filled with N(mean, std^2) draws from the library's generator.
local function fill_normal(t, mean, std)
  return t:copy_(lucid.randn(t.shape, {dtype = t.dtype}) * std + mean)
end

-- calculate_gain(nonlinearity [, param]): the recommended gain for a
-- nonlinearity, as PyTorch: 1 for linear, conv and sigmoid, 5/3 for tanh,
-- sqrt(2) for relu, sqrt(2 / (1 + slope^2)) for leaky_relu (slope = param,
-- default 0.01), 3/4 for selu.
function init.calculate_gain(...)
  local nonlinearity, param = S.calculate_gain:parse(...)
  local linear = {linear = true, conv1d = true, conv2d = true, conv3d = true,
                  conv_transpose1d = true, conv_transpose2d = true, conv_transpose3d = true,
                  sigmoid = true}
  if linear[nonlinearity] then return 1 end
  if nonlinearity == "tanh" then return 5.0 / 3 end
  if nonlinearity == "relu" then return math.sqrt(2.0) end
  if nonlinearity == "leaky_relu" then
    local slope = 0.01
    if param ~= nil then
      if type(param) ~= "number" then
        raise("nn.init.calculate_gain: negative_slope " .. tostring(param) .. " is not a valid number")
      end
      slope = param
    end
    return math.sqrt(2.0 / (1 + slope ^ 2))
  end
  if nonlinearity == "selu" then return 3.0 / 4 end
  raise("nn.init.calculate_gain: unsupported nonlinearity " .. tostring(nonlinearity))
end

--- The fans of a weight as PyTorch computes them: for t {out, in, ...},
-- fan_in = in * (the product of the rest), fan_out = out * (the same). The
-- initialisers use them; so can your own.
-- @function calculate_fan_in_and_fan_out
-- @usage local fan_in, fan_out = nn.init.calculate_fan_in_and_fan_out(t)
-- @within nn: initialisation and clipping

-- fan_in, fan_out = calculate_fan_in_and_fan_out(t)
function init.calculate_fan_in_and_fan_out(t, fname)
  if type(fname) ~= "string" then fname = "calculate_fan_in_and_fan_out" end
  if not C.is_tensor(t) then
    raise(string.format("nn.init.%s: expected a tensor, got %s", fname, type(t)))
  end
  local shape = t.shape
  if #shape < 2 then
    raise(string.format("nn.init.%s: fan in and fan out can not be computed for a tensor with fewer "
      .. "than 2 dimensions (got shape %s)", fname, args.shape_str(shape)))
  end
  local receptive = 1
  for i = 3, #shape do receptive = receptive * shape[i] end
  return shape[2] * receptive, shape[1] * receptive
end

-- uniform_(t, a = 0, b = 1): U(a, b).
function init.uniform_(...)
  local t, a, b = S.uniform_:parse(...)
  return no_grad_fill(t, function(x) x:uniform_(a, b) end)
end

-- normal_(t, mean = 0, std = 1): N(mean, std^2).
function init.normal_(...)
  local t, mean, std = S.normal_:parse(...)
  return no_grad_fill(t, function(x) fill_normal(x, mean, std) end)
end

-- constant_(t, val): every element val.
function init.constant_(...)
  local t, val = S.constant_:parse(...)
  return no_grad_fill(t, function(x) x:fill_(val) end)
end

-- zeros_(t) and ones_(t).
function init.zeros_(...)
  local t = S.zeros_:parse(...)
  return no_grad_fill(t, function(x) x:fill_(0) end)
end

function init.ones_(...)
  local t = S.ones_:parse(...)
  return no_grad_fill(t, function(x) x:fill_(1) end)
end

-- xavier_uniform_(t, gain = 1): U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out)).
function init.xavier_uniform_(...)
  local t, gain = S.xavier_uniform_:parse(...)
  local fan_in, fan_out = init.calculate_fan_in_and_fan_out(t, "xavier_uniform_")
  local std = gain * math.sqrt(2.0 / (fan_in + fan_out))
  local a = math.sqrt(3.0) * std
  return no_grad_fill(t, function(x) x:uniform_(-a, a) end)
end

-- xavier_normal_(t, gain = 1): N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out)).
function init.xavier_normal_(...)
  local t, gain = S.xavier_normal_:parse(...)
  local fan_in, fan_out = init.calculate_fan_in_and_fan_out(t, "xavier_normal_")
  local std = gain * math.sqrt(2.0 / (fan_in + fan_out))
  return no_grad_fill(t, function(x) fill_normal(x, 0.0, std) end)
end

-- The std of kaiming_*: gain(nonlinearity, a) / sqrt(fan).
local function kaiming_std(t, a, mode, nonlinearity, fname)
  local fan_in, fan_out = init.calculate_fan_in_and_fan_out(t, fname)
  local fan = mode == "fan_in" and fan_in or fan_out
  local ok, gain = pcall(init.calculate_gain, nonlinearity, a)
  if not ok then
    raise(string.format("nn.init.%s: unsupported nonlinearity %s", fname, tostring(nonlinearity)))
  end
  return gain / math.sqrt(fan)
end

-- kaiming_uniform_(t, a = 0, mode = "fan_in", nonlinearity = "leaky_relu"):
-- U(-b, b), b = sqrt(3) * gain / sqrt(fan) (He et al.).
function init.kaiming_uniform_(...)
  local t, a, mode, nonlinearity = S.kaiming_uniform_:parse(...)
  local bound = math.sqrt(3.0) * kaiming_std(t, a, mode, nonlinearity, "kaiming_uniform_")
  return no_grad_fill(t, function(x) x:uniform_(-bound, bound) end)
end

-- kaiming_normal_(t, a = 0, mode = "fan_in", nonlinearity = "leaky_relu"):
-- N(0, std^2), std = gain / sqrt(fan).
function init.kaiming_normal_(...)
  local t, a, mode, nonlinearity = S.kaiming_normal_:parse(...)
  local std = kaiming_std(t, a, mode, nonlinearity, "kaiming_normal_")
  return no_grad_fill(t, function(x) fill_normal(x, 0.0, std) end)
end

return init

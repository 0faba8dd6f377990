--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.LayerNorm(normalized_shape [, eps = 1e-5 [, elementwise_affine = true]]),
-- or with a table of those names: normalises over the last dims, which must
-- be normalized_shape (an integer or a table of sizes):
-- y = (x - mean) / sqrt(var + eps) * weight + bias, with the biased variance.
-- weight (ones) and bias (zeros) have shape normalized_shape.
local lucid = require("lucid")
local nn = require("lucid.nn")
local C = require("lucid.core")
local args = require("lucid._args")
local compat = require("lucid._compat")
local raise, shape_str = args.raise, args.shape_str

--- Normalises over the last dims (normalized_shape, an integer or a table of
-- sizes) to mean 0 and variance 1, then scales by weight and adds bias.
-- @function LayerNorm
-- @usage nn.LayerNorm(normalized_shape [, eps = 1e-5 [, elementwise_affine = true]])
-- @within nn: more layers
local LayerNorm = nn.Module:extend("LayerNorm")

-- an integer or a non-empty array of positive sizes; returns the array (a copy)
local function shape_check(v, name)
  if type(v) == "number" then v = {v} end
  if type(v) ~= "table" or C.is_tensor(v) or rawget(v, 1) == nil then
    return name .. " must be an integer or a non-empty table of sizes, got " .. args.describe(v)
  end
  local shape = {}
  for i, e in ipairs(v) do
    local problem, n = args.checks.posint(e, name .. "[" .. i .. "]")
    if problem then return problem end
    shape[i] = n
  end
  return nil, shape
end

LayerNorm.schema = args.schema("nn.LayerNorm", {
  {"normalized_shape", args.REQUIRED, shape_check},
  {"eps", 1e-5, "number"},
  {"elementwise_affine", true, "boolean"},
  unsupported = {"bias", "device", "dtype"},
})

function LayerNorm:__init(...)
  local shape, eps, elementwise_affine = LayerNorm.schema:parse(...)
  args.numel("nn.LayerNorm", "weight " .. shape_str(shape), compat.unpack(shape))
  self.normalized_shape, self.eps, self.elementwise_affine = shape, eps, elementwise_affine
  if self.elementwise_affine then
    self.weight = nn.Parameter(lucid.ones(shape))
    self.bias = nn.Parameter(lucid.zeros(shape))
  end
end

local norm_out, is_grad_enabled = C._norm_out, C.is_grad_enabled

-- Raises unless x ends with the dims ns (a table of sizes) and w, b (when
-- given) have shape ns; returns the number of elements normalised together.
local function check(fname, x, ns, w, b)
  local xs = x.shape
  local k, ok = #ns, #xs >= #ns
  local n = 1
  for i = 1, k do
    ok = ok and xs[#xs - k + i] == ns[i]
    n = n * ns[i]
  end
  if not ok then
    raise(string.format("%s: input %s does not end with normalized_shape %s (expected {*, %s})",
      fname, shape_str(xs), shape_str(ns), table.concat(ns, ", ")))
  end
  for _, p in ipairs({{"weight", w}, {"bias", b}}) do
    if p[2] ~= nil and shape_str(p[2]) ~= shape_str(ns) then
      raise("%s: %s has shape %s, expected normalized_shape %s", fname, p[1], shape_str(p[2]), shape_str(ns))
    end
  end
  return n
end

-- x normalised over its last dims, which must be ns; then times w plus b
-- when given (tensors of shape ns), as recorded ops. fname names errors.
local function layer_norm(fname, x, ns, w, b, eps)
  local n = check(fname, x, ns, w, b)
  local rows = x:reshape(-1, n)
  local centred = rows - rows:mean(2, true)
  local var = (centred * centred):mean(2, true)
  local y = (centred * lucid.rsqrt(var + eps)):reshape(x.shape)
  if w then y = y * w end
  if b then y = y + b end
  return y
end

function LayerNorm:forward(x)
  -- reuse_buffers: after a first call through the checks below, the same
  -- shape writes into that call's result (core's lc_layer_norm_out)
  local ns = self.normalized_shape
  local out = rawget(self, "_reuse") and self:_kept(x)
  if out then
    return norm_out(x, "layer", #ns, self.weight, self.bias, self.eps, out, "nn.LayerNorm")
  end
  args.tensor("nn.LayerNorm", x)
  local dtype = x.dtype
  if rawget(self, "_reuse") and not is_grad_enabled() and (dtype == "float32" or dtype == "float64") then
    check("nn.LayerNorm", x, ns, self.weight, self.bias)
    return self:_keep(x, norm_out(x, "layer", #ns, self.weight, self.bias, self.eps,
      lucid.empty(x.shape, {dtype = dtype}), "nn.LayerNorm"))
  end
  return layer_norm("nn.LayerNorm", x, ns, self.weight, self.bias, self.eps)
end

local LAYER_NORM = args.schema("nn.functional.layer_norm", {
  {"input", args.REQUIRED, "tensor"},
  {"normalized_shape", args.REQUIRED, shape_check},
  {"weight", nil, "tensor"},
  {"bias", nil, "tensor"},
  {"eps", 1e-5, "number"},
})

-- nn.functional.layer_norm (documented in functional.lua, where it is merged)
LayerNorm.F = {}
function LayerNorm.F.layer_norm(...)
  return layer_norm("nn.functional.layer_norm", LAYER_NORM:parse(...))
end

function LayerNorm:extra_repr()
  return string.format("%s, eps=%s, elementwise_affine=%s", shape_str(self.normalized_shape),
    tostring(self.eps), tostring(self.elementwise_affine))
end

return LayerNorm

--- nn.LayerNorm(normalized_shape [, eps = 1e-5 [, elementwise_affine = true]]),
-- or with a table of those names: normalises over the last dims, which must
-- be normalized_shape (an integer or a table of sizes):
-- y = (x - mean) / sqrt(var + eps) * weight + bias, with the biased variance.
-- weight (ones) and bias (zeros) have shape normalized_shape.
local raise = require("lucid._args").raise
local lucid = require("lucid")
local nn = require("lucid.nn")
local check = require("lucid.nn._check")

local LayerNorm = nn.Module:extend("LayerNorm")

local function shape_str(shape)
  return "{" .. table.concat(shape, ", ") .. "}"
end

function LayerNorm:__init(normalized_shape, eps, elementwise_affine)
  if type(normalized_shape) == "table" and normalized_shape.normalized_shape ~= nil then
    local o = normalized_shape
    normalized_shape, eps, elementwise_affine = o.normalized_shape, o.eps, o.elementwise_affine
  end
  if type(normalized_shape) == "number" then normalized_shape = {normalized_shape} end
  if type(normalized_shape) ~= "table" or #normalized_shape == 0 then
    raise("nn.LayerNorm: normalized_shape must be an integer or a non-empty table of sizes, got "
      .. check.describe(normalized_shape))
  end
  local shape = {}
  for i, v in ipairs(normalized_shape) do
    shape[i] = check.size("LayerNorm", "normalized_shape[" .. i .. "]", v, 3, 1)
  end
  check.numel("LayerNorm", "weight " .. shape_str(shape), 3, table.unpack(shape))
  if eps == nil then eps = 1e-5 end
  if type(eps) ~= "number" then raise("nn.LayerNorm: eps must be a number, got " .. type(eps)) end
  if elementwise_affine == nil then elementwise_affine = true end
  self.normalized_shape, self.eps, self.elementwise_affine = shape, eps, elementwise_affine and true or false
  if self.elementwise_affine then
    self.weight = nn.Parameter(lucid.ones(shape))
    self.bias = nn.Parameter(lucid.zeros(shape))
  end
end

function LayerNorm:forward(x)
  check.tensor("LayerNorm", x, 2)
  local xs, ns = x.shape, self.normalized_shape
  local k, ok = #ns, #xs >= #ns
  local n = 1
  for i = 1, k do
    ok = ok and xs[#xs - k + i] == ns[i]
    n = n * ns[i]
  end
  if not ok then
    local lead = {}
    for i = 1, k do lead[i] = ns[i] end
    raise(string.format("nn.LayerNorm: input %s does not end with normalized_shape %s (expected {*, %s})",
      shape_str(xs), shape_str(ns), table.concat(lead, ", ")))
  end
  local rows = x:reshape(-1, n)
  local centred = rows - rows:mean(2, true)
  local var = (centred * centred):mean(2, true)
  local y = (centred * lucid.rsqrt(var + self.eps)):reshape(xs)
  if self.weight then y = y * self.weight + self.bias end
  return y
end

function LayerNorm:extra_repr()
  return string.format("%s, eps=%s, elementwise_affine=%s", shape_str(self.normalized_shape),
    tostring(self.eps), tostring(self.elementwise_affine))
end

return LayerNorm

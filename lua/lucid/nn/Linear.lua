--- nn.Linear(in_features, out_features [, bias = true]), or with a table of
-- those names: y = x W^T + b, W {out, in}, b {out}, both drawn from
-- U(-1/sqrt(in), 1/sqrt(in)) like PyTorch.
local lucid = require("lucid")
local nn = require("lucid.nn")

local check = require("lucid.nn._check")

local Linear = nn.Module:extend("Linear")

function Linear:__init(in_features, out_features, bias)
  if type(in_features) == "table" then
    local o = in_features
    in_features, out_features, bias = o.in_features, o.out_features, o.bias
  end
  in_features = check.size("Linear", "in_features", in_features, 3)
  out_features = check.size("Linear", "out_features", out_features, 3)
  check.numel("Linear", "weight {out_features, in_features}", 3, out_features, in_features)
  if bias == nil then bias = true end
  self.in_features, self.out_features = in_features, out_features
  local bound = in_features > 0 and 1 / math.sqrt(in_features) or 0
  local w = check.make("Linear", "weight", 3, lucid.empty, out_features, in_features)
  self.weight = nn.Parameter(w:uniform_(-bound, bound))
  if bias then
    self.bias = nn.Parameter(check.make("Linear", "bias", 3, lucid.empty, out_features):uniform_(-bound, bound))
  end
end

local C = require("lucid.core")

function Linear:forward(x)
  if rawget(self, "_reuse") and not C.is_grad_enabled() then  -- see Module:reuse_buffers
    local out = rawget(self, "_out")
    if not C._fits(out, x, self.out_features) then
      local shape = x.shape
      shape[#shape] = self.out_features
      out = lucid.empty(shape, {dtype = x.dtype})
      rawset(self, "_out", out)
    end
    local p = self._parameters  -- direct: skips the instance's __index function
    return lucid.linear(x, p.weight, p.bias, out)
  end
  local p = self._parameters
  return lucid.linear(x, p.weight, p.bias)
end

function Linear:extra_repr()
  return string.format("in_features=%d, out_features=%d, bias=%s", self.in_features,
    self.out_features, tostring(self.bias ~= nil))
end

return Linear

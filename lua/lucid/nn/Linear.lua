--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.Linear(in_features, out_features [, bias = true]), positionally, with
-- a trailing table of those names or with one table of them:
-- y = x W^T + b, W {out, in}, b {out}, both drawn from
-- U(-1/sqrt(in), 1/sqrt(in)) like PyTorch.
local lucid = require("lucid")
local nn = require("lucid.nn")
local args = require("lucid._args")

--- A fully connected layer y = x W^T + b for x (..., in_features). weight has
-- shape {out_features, in_features}, bias {out_features}, both nn.Parameter drawn
-- from U(-1/sqrt(in_features), 1/sqrt(in_features)) like PyTorch. Prints as
-- Linear(in_features=3, out_features=2, bias=true).
-- @function Linear
-- @usage nn.Linear(in_features, out_features [, bias = true])  or  nn.Linear{in_features =, out_features =, bias =}
-- @within nn: modules
-- @aka lucid.nn.Linear
local Linear = nn.Module:extend("Linear")

Linear.schema = args.schema("nn.Linear", {
  {"in_features", args.REQUIRED, "size"},
  {"out_features", args.REQUIRED, "size"},
  {"bias", true, "boolean"},
  unsupported = {"device", "dtype"},
})

function Linear:__init(...)
  local in_features, out_features, bias = Linear.schema:parse(...)
  args.numel("nn.Linear", "weight {out_features, in_features}", out_features, in_features)
  self.in_features, self.out_features = in_features, out_features
  local bound = in_features > 0 and 1 / math.sqrt(in_features) or 0
  local w = args.make("nn.Linear", "weight", lucid.empty, out_features, in_features)
  self.weight = nn.Parameter(w:uniform_(-bound, bound))
  if bias then
    self.bias = nn.Parameter(args.make("nn.Linear", "bias", lucid.empty, out_features):uniform_(-bound, bound))
  end
end

local linear, buffer = lucid.linear, nn.Module._buffer

function Linear:forward(x)
  local p = self._parameters  -- direct: skips the instance's __index function
  -- out is nil unless reusing buffers (Module:reuse_buffers)
  return linear(x, p.weight, p.bias, rawget(self, "_reuse") and buffer(self, x, self.out_features))
end

function Linear:extra_repr()
  return string.format("in_features=%d, out_features=%d, bias=%s", self.in_features,
    self.out_features, tostring(self.bias ~= nil))
end

return Linear

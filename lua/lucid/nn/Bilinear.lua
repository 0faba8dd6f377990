--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.Bilinear(in1_features, in2_features, out_features [, bias = true]), or
-- with a table of those names: y[.., k] = x1[.., :] W[k] x2[.., :]^T + b[k]
-- for x1 {.., in1} and x2 {.., in2} with the same leading dims. W is
-- {out, in1, in2}, b {out}, both from U(-1/sqrt(in1), 1/sqrt(in1)) as PyTorch.
local lucid = require("lucid")
local nn = require("lucid.nn")

local args = require("lucid._args")
local compat = require("lucid._compat")
local shape_str = args.shape_str

--- y[k] = x1 W[k] x2^T + b[k] for x1 {.., in1} and x2 {.., in2}; W {out, in1,
-- in2}, b {out}, both from U(-1/sqrt(in1), 1/sqrt(in1)).
-- @function Bilinear
-- @usage nn.Bilinear(in1_features, in2_features, out_features [, bias = true])
-- @within nn: more layers
local Bilinear = nn.Module:extend("Bilinear")

Bilinear.schema = args.schema("nn.Bilinear", {
  {"in1_features", args.REQUIRED, "size"},
  {"in2_features", args.REQUIRED, "size"},
  {"out_features", args.REQUIRED, "size"},
  {"bias", true, "boolean"},
  unsupported = {"device", "dtype"},
})

function Bilinear:__init(...)
  local in1_features, in2_features, out_features, bias = Bilinear.schema:parse(...)
  args.numel("nn.Bilinear", "weight {out_features, in1_features, in2_features}",
    out_features, in1_features, in2_features)
  self.in1_features, self.in2_features, self.out_features = in1_features, in2_features, out_features
  local bound = in1_features > 0 and 1 / math.sqrt(in1_features) or 0
  local w = args.make("nn.Bilinear", "weight", lucid.empty, out_features, in1_features, in2_features)
  self.weight = nn.Parameter(w:uniform_(-bound, bound))
  if bias then
    self.bias = nn.Parameter(args.make("nn.Bilinear", "bias", lucid.empty, out_features):uniform_(-bound, bound))
  end
end

function Bilinear:forward(x1, x2)
  args.tensor("nn.Bilinear", x1, "as input 1")
  args.tensor("nn.Bilinear", x2, "as input 2")
  local s1, s2 = x1.shape, x2.shape
  local in1, in2, out = self.in1_features, self.in2_features, self.out_features
  local ok = #s1 >= 1 and #s1 == #s2 and s1[#s1] == in1 and s2[#s2] == in2
  for i = 1, #s1 - 1 do ok = ok and s1[i] == s2[i] end
  if not ok then
    args.raise("nn.Bilinear: inputs %s and %s do not fit (expected {..., %d} and {..., %d} "
      .. "with the same leading dims)", shape_str(s1), shape_str(s2), in1, in2)
  end
  local lead = compat.move(s1, 1, #s1 - 1, 1, {})
  local a = x1:reshape(-1, in1)                                            -- {M, in1}
  local b = x2:reshape(-1, 1, in2)                                         -- {M, 1, in2}
  local w = self.weight:transpose(1, 2):reshape(in1, out * in2)            -- {in1, out*in2}
  local y = (a:matmul(w):reshape(-1, out, in2) * b):sum(3)                 -- {M, out}
  if self.bias then y = y + self.bias end
  lead[#lead + 1] = out
  return y:reshape(lead)
end

function Bilinear:extra_repr()
  return string.format("in1_features=%d, in2_features=%d, out_features=%d, bias=%s",
    self.in1_features, self.in2_features, self.out_features, tostring(self.bias ~= nil))
end

return Bilinear

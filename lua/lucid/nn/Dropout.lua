--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.Dropout(p = 0.5): in training mode each element is zeroed with
-- probability p and the rest are scaled by 1 / (1 - p), so the expected
-- value is unchanged; in eval mode (and for p = 0) the input is returned as
-- it is. The mask comes from the library's generator (lucid.manual_seed
-- makes it repeatable) and the gradient is the same mask times 1 / (1 - p).
local args = require("lucid._args")
local raise = args.raise
local lucid = require("lucid")
local nn = require("lucid.nn")
local C = require("lucid.core")

--- In training mode zeroes each element with probability p and scales the rest
-- by 1 / (1 - p); in eval mode (model:eval()) returns the input. The mask comes
-- from lucid's generator (lucid.manual_seed makes it repeatable).
-- @function Dropout
-- @usage nn.Dropout([p = 0.5])
-- @within nn: more layers
local Dropout = nn.Module:extend("Dropout")

Dropout.schema = args.schema("nn.Dropout", {
  {"p", 0.5, "probability"},
  {"inplace", false, args.not_true("layers return new tensors")},
})

function Dropout:__init(...)
  self.p = Dropout.schema:parse(...)
end

function Dropout:forward(x)
  if not C.is_tensor(x) then raise("nn.Dropout: expected a tensor, got " .. type(x)) end
  if not self.training or self.p == 0 then return x end
  if self.p == 1 then return x * 0 end
  local keep = lucid.lt(lucid.rand_like(x), 1 - self.p)  -- true with probability 1 - p
  return x * keep * (1 / (1 - self.p))
end

function Dropout:extra_repr()
  return "p=" .. tostring(self.p) .. ", inplace=false"
end

return Dropout

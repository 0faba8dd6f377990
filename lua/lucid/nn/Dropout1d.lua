--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.Dropout1d(p = 0.5): dropout of whole channels, as torch.nn.Dropout1d.
local args = require("lucid._args")
local nn = require("lucid.nn")
local shuffle = require("lucid.nn._shuffle")

--- In training mode zeroes each channel (input[n][c], all of it) with
-- probability p and scales the others by 1 / (1 - p); in eval mode returns the
-- input. Input {N, C, L} or {C, L}.
-- The mask comes from lucid's generator.
-- @function Dropout1d
-- @usage nn.Dropout1d([p = 0.5])  or  F.dropout1d(input [, p = 0.5 [, training = true [, inplace = false]]])
-- @within nn: more layers
-- @aka nn.functional.dropout1d
local Dropout1d = nn.Module:extend("Dropout1d")

Dropout1d.schema = args.schema("nn.Dropout1d", {
  {"p", 0.5, "probability"},
  {"inplace", false, args.not_true("layers return new tensors")},
})

function Dropout1d:__init(...)
  self.p = Dropout1d.schema:parse(...)
end

function Dropout1d:forward(x)
  return shuffle.dropout_nd_impl("nn.Dropout1d", x, self.p, self.training, true)
end

function Dropout1d:extra_repr()
  return "p=" .. tostring(self.p) .. ", inplace=false"
end

return Dropout1d

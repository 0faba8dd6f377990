--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.Dropout2d(p = 0.5): dropout of whole channels, as torch.nn.Dropout2d.
local args = require("lucid._args")
local nn = require("lucid.nn")
local shuffle = require("lucid.nn._shuffle")

--- In training mode zeroes each channel (input[n][c], all of it) with
-- probability p and scales the others by 1 / (1 - p); in eval mode returns the
-- input. Input {N, C, H, W} (a 3-d input is read as {N, C, L}, as PyTorch 1.13).
-- The mask comes from lucid's generator.
-- @function Dropout2d
-- @usage nn.Dropout2d([p = 0.5])  or  F.dropout2d(input [, p = 0.5 [, training = true [, inplace = false]]])
-- @within nn: more layers
-- @aka nn.functional.dropout2d
local Dropout2d = nn.Module:extend("Dropout2d")

Dropout2d.schema = args.schema("nn.Dropout2d", {
  {"p", 0.5, "probability"},
  {"inplace", false, args.not_true("layers return new tensors")},
})

function Dropout2d:__init(...)
  self.p = Dropout2d.schema:parse(...)
end

function Dropout2d:forward(x)
  return shuffle.dropout_nd_impl("nn.Dropout2d", x, self.p, self.training, false)
end

function Dropout2d:extra_repr()
  return "p=" .. tostring(self.p) .. ", inplace=false"
end

return Dropout2d

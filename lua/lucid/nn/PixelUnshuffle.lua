--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.PixelUnshuffle(downscale_factor): as torch.nn.PixelUnshuffle (a reshape and a permute).
local args = require("lucid._args")
local nn = require("lucid.nn")
local shuffle = require("lucid.nn._shuffle")

--- Rearranges (*, C, H r, W r) to (*, C r^2, H, W), r = downscale_factor, as torch.nn.PixelUnshuffle
-- (sub-pixel convolution's last step).
-- @function PixelUnshuffle
-- @usage nn.PixelUnshuffle(downscale_factor)  or  F.pixel_unshuffle(input, downscale_factor)
-- @within nn: more layers
-- @aka nn.functional.pixel_unshuffle
local PixelUnshuffle = nn.Module:extend("PixelUnshuffle")

PixelUnshuffle.schema = args.schema("nn.PixelUnshuffle", {
  {"downscale_factor", args.REQUIRED, "posint"},
})

function PixelUnshuffle:__init(...)
  self.downscale_factor = PixelUnshuffle.schema:parse(...)
end

function PixelUnshuffle:forward(x)
  args.tensor("nn.PixelUnshuffle", x, "input")
  return shuffle.pixel_unshuffle_impl("nn.PixelUnshuffle", x, self.downscale_factor)
end

function PixelUnshuffle:extra_repr()
  return "downscale_factor=" .. tostring(self.downscale_factor)
end

return PixelUnshuffle

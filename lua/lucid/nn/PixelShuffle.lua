--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.PixelShuffle(upscale_factor): as torch.nn.PixelShuffle (a reshape and a permute).
local args = require("lucid._args")
local nn = require("lucid.nn")
local shuffle = require("lucid.nn._shuffle")

--- Rearranges (*, C r^2, H, W) to (*, C, H r, W r), r = upscale_factor, as torch.nn.PixelShuffle
-- (sub-pixel convolution's last step).
-- @function PixelShuffle
-- @usage nn.PixelShuffle(upscale_factor)  or  F.pixel_shuffle(input, upscale_factor)
-- @within nn: more layers
-- @aka nn.functional.pixel_shuffle
local PixelShuffle = nn.Module:extend("PixelShuffle")

PixelShuffle.schema = args.schema("nn.PixelShuffle", {
  {"upscale_factor", args.REQUIRED, "posint"},
})

function PixelShuffle:__init(...)
  self.upscale_factor = PixelShuffle.schema:parse(...)
end

function PixelShuffle:forward(x)
  args.tensor("nn.PixelShuffle", x, "input")
  return shuffle.pixel_shuffle_impl("nn.PixelShuffle", x, self.upscale_factor)
end

function PixelShuffle:extra_repr()
  return "upscale_factor=" .. tostring(self.upscale_factor)
end

return PixelShuffle

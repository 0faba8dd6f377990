--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.UpsamplingBilinear2d([size, scale_factor]): nn.Upsample with its mode fixed.
local args = require("lucid._args")
local Upsample = require("lucid.nn.Upsample")

--- Bilinear upsampling of {N, C, H, W} with align_corners = true (Upsample
-- with mode "bilinear", as PyTorch's).
-- @function UpsamplingBilinear2d
-- @usage nn.UpsamplingBilinear2d([size, scale_factor])
-- @within nn: more layers
local UpsamplingBilinear2d = Upsample:extend("UpsamplingBilinear2d")

UpsamplingBilinear2d.schema = args.schema("nn.UpsamplingBilinear2d", {
  {"size", nil, nil},
  {"scale_factor", nil, nil},
})

function UpsamplingBilinear2d:__init(...)
  self.size, self.scale_factor = UpsamplingBilinear2d.schema:parse(...)
  self.mode, self.align_corners = "bilinear", true
end

return UpsamplingBilinear2d

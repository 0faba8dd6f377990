--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.UpsamplingNearest2d([size, scale_factor]): nn.Upsample with its mode fixed.
local args = require("lucid._args")
local Upsample = require("lucid.nn.Upsample")

--- Nearest-neighbour upsampling of {N, C, H, W} (Upsample with mode "nearest").
-- @function UpsamplingNearest2d
-- @usage nn.UpsamplingNearest2d([size, scale_factor])
-- @within nn: more layers
local UpsamplingNearest2d = Upsample:extend("UpsamplingNearest2d")

UpsamplingNearest2d.schema = args.schema("nn.UpsamplingNearest2d", {
  {"size", nil, nil},
  {"scale_factor", nil, nil},
})

function UpsamplingNearest2d:__init(...)
  self.size, self.scale_factor = UpsamplingNearest2d.schema:parse(...)
  self.mode, self.align_corners = "nearest", nil
end

return UpsamplingNearest2d

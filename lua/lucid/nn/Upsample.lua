--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.Upsample([size, scale_factor, mode = "nearest", align_corners,
-- recompute_scale_factor]): F.interpolate as a layer (lucid/nn/_resample.lua).
local nn = require("lucid.nn")
local args = require("lucid._args")
local F = require("lucid.nn._resample").F

--- Resamples {N, C, L} or {N, C, H, W} input to size or by scale_factor
-- (F.interpolate): mode "nearest", "linear" (1-d) or "bilinear" (2-d),
-- align_corners for the linear modes.
-- @function Upsample
-- @usage nn.Upsample([size, scale_factor, mode = "nearest", align_corners, recompute_scale_factor])
-- @within nn: more layers
local Upsample = nn.Module:extend("Upsample")

Upsample.schema = args.schema("nn.Upsample", {
  {"size", nil, nil},
  {"scale_factor", nil, nil},
  {"mode", "nearest", "string"},
  {"align_corners", nil, "boolean"},
  {"recompute_scale_factor", nil, "boolean"},
})

function Upsample:__init(...)
  self.size, self.scale_factor, self.mode, self.align_corners, self.recompute_scale_factor =
    Upsample.schema:parse(...)
end

function Upsample:forward(x)
  return F.interpolate(x, self.size, self.scale_factor, self.mode, self.align_corners,
    self.recompute_scale_factor)
end

local function repr(v)
  if type(v) ~= "table" then return tostring(v) end
  local s = {}
  for i, e in ipairs(v) do s[i] = tostring(e) end
  return "(" .. table.concat(s, ", ") .. ")"
end

function Upsample:extra_repr()
  local s = self.scale_factor ~= nil and "scale_factor=" .. repr(self.scale_factor)
    or "size=" .. repr(self.size)
  return s .. ", mode=" .. self.mode
end

return Upsample

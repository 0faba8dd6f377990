--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.Flatten(start_dim = 2, end_dim = -1): merges dims start_dim..end_dim
-- (1-based, negative from the end) into one. The default keeps dim 1, the
-- batch, as PyTorch's start_dim = 1 does: {N, C, H, W} -> {N, C*H*W}.
local nn = require("lucid.nn")
local args = require("lucid._args")
local raise, shape_str = args.raise, args.shape_str

--- Merges dims start_dim..end_dim; the default keeps dim 1, the batch:
-- {N, C, H, W} -> {N, C*H*W}.
-- @function Flatten
-- @usage nn.Flatten([start_dim = 2 [, end_dim = -1]])
-- @within nn: more layers
local Flatten = nn.Module:extend("Flatten")

Flatten.schema = args.schema("nn.Flatten", {
  {"start_dim", 2, "integer"},
  {"end_dim", -1, "integer"},
})

function Flatten:__init(...)
  self.start_dim, self.end_dim = Flatten.schema:parse(...)
end

function Flatten:forward(x)
  -- reuse_buffers: the view made of this very tensor last time (Module:_view_for)
  local kept = rawget(self, "_reuse") and self:_view_for(x)
  if kept then return kept end
  args.tensor("nn.Flatten", x)
  local shape = x.shape
  local n = math.max(#shape, 1)  -- a 0-d tensor flattens as one of shape {1}
  local s = self.start_dim < 0 and n + 1 + self.start_dim or self.start_dim
  local e = self.end_dim < 0 and n + 1 + self.end_dim or self.end_dim
  if s < 1 or s > n or e < 1 or e > n then
    raise(string.format("nn.Flatten: dims %d..%d are out of range for input %s (expected 1..%d or -%d..-1)",
      self.start_dim, self.end_dim, shape_str(shape), n, n))
  end
  if s > e then
    raise(string.format("nn.Flatten: start_dim %d comes after end_dim %d for input %s",
      self.start_dim, self.end_dim, shape_str(shape)))
  end
  if #shape == 0 then return self:_keep_view(x, x:reshape(1)) end
  local out, merged = {}, 1
  for i = 1, s - 1 do out[#out + 1] = shape[i] end
  for i = s, e do merged = merged * shape[i] end
  out[#out + 1] = merged
  for i = e + 1, #shape do out[#out + 1] = shape[i] end
  return self:_keep_view(x, x:reshape(out))
end

function Flatten:extra_repr()
  return string.format("start_dim=%d, end_dim=%d", self.start_dim, self.end_dim)
end

return Flatten

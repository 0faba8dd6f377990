--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.Unflatten(dim, unflattened_size): splits dim (1-based, negative from
-- the end) into the sizes of the table unflattened_size, whose product must
-- be that dim's size (one entry may be -1, inferred):
-- nn.Unflatten(2, {2, 5}) maps {N, 10} to {N, 2, 5}.
local nn = require("lucid.nn")
local args = require("lucid._args")
local compat = require("lucid._compat")
local raise, shape_str = args.raise, args.shape_str

--- Splits dim into the sizes of a table (one may be -1): nn.Unflatten(2, {2, 5})
-- maps {N, 10} to {N, 2, 5}.
-- @function Unflatten
-- @usage nn.Unflatten(dim, sizes)
-- @within nn: more layers
local Unflatten = nn.Module:extend("Unflatten")

-- a non-empty array of sizes, one of which may be -1; returns a copy
local function sizes_check(v, name)
  if type(v) ~= "table" or args.callable(v) or rawget(v, 1) == nil then
    return name .. " must be a non-empty table of sizes"
  end
  local sizes = {}
  for i, e in ipairs(v) do
    local n = args.int_of(e)
    if n == nil or (n < 0 and n ~= -1) then
      return name .. "[" .. i .. "] must be a size (or -1), got " .. args.describe(e)
    end
    sizes[i] = n
  end
  return nil, sizes
end

Unflatten.schema = args.schema("nn.Unflatten", {
  {"dim", args.REQUIRED, "integer"},
  {"unflattened_size", args.REQUIRED, sizes_check},
})

function Unflatten:__init(...)
  self.dim, self.unflattened_size = Unflatten.schema:parse(...)
end

function Unflatten:forward(x)
  -- reuse_buffers: the view made of this very tensor last time (Module:_view_for)
  local kept = rawget(self, "_reuse") and self:_view_for(x)
  if kept then return kept end
  args.tensor("nn.Unflatten", x)
  local shape = x.shape
  local n = #shape
  local d = self.dim < 0 and n + 1 + self.dim or self.dim
  if d < 1 or d > n then
    raise(string.format("nn.Unflatten: dim %d is out of range for input %s", self.dim, shape_str(shape)))
  end
  local prod, free = 1, nil
  for i, v in ipairs(self.unflattened_size) do
    if v == -1 then free = i else prod = prod * v end
  end
  local sizes = compat.move(self.unflattened_size, 1, #self.unflattened_size, 1, {})
  if free and prod > 0 and shape[d] % prod == 0 then sizes[free] = compat.idiv(shape[d], prod) end
  if (free and sizes[free] == -1) or (not free and prod ~= shape[d]) then
    raise(string.format("nn.Unflatten: unflattened_size %s does not fit dim %d of size %d (input %s)",
      shape_str(self.unflattened_size), self.dim, shape[d], shape_str(shape)))
  end
  local out = {}
  for i = 1, d - 1 do out[#out + 1] = shape[i] end
  for _, v in ipairs(sizes) do out[#out + 1] = v end
  for i = d + 1, n do out[#out + 1] = shape[i] end
  return self:_keep_view(x, x:reshape(out))
end

function Unflatten:extra_repr()
  return string.format("dim=%d, unflattened_size=%s", self.dim, shape_str(self.unflattened_size))
end

return Unflatten

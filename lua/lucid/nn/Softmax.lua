--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.Softmax(dim): y = exp(x) / sum(exp(x)) along dim (1-based; negative
-- counts from the end), computed stably. With no dim it picks PyTorch's
-- legacy default: dim 1 for 0-, 1- and 3-d input, else dim 2.
local lucid = require("lucid")
local nn = require("lucid.nn")
local args = require("lucid._args")

--- softmax along dim (1-based, negative from the end), computed stably. Give dim:
-- without it PyTorch's legacy default is picked.
-- @function Softmax
-- @usage nn.Softmax(dim)
-- @within nn: more layers
local Softmax = nn.Module:extend("Softmax")

-- dim: an integer, or nil for PyTorch's legacy implicit dim
local function dim_check(v, name)
  if args.int_of(v) == nil then return name .. " must be an integer or nil, got " .. args.describe(v) end
  return nil, args.int_of(v)
end
Softmax._dim_check = dim_check

Softmax.schema = args.schema("nn.Softmax", {
  {"dim", nil, dim_check},
})

function Softmax:__init(...)
  self.dim = Softmax.schema:parse(...)
end

-- PyTorch's implicit dim for a tensor of ndim dims, 1-based.
function Softmax.implicit_dim(ndim)
  if ndim == 0 or ndim == 1 or ndim == 3 then return 1 end
  return 2
end

local buffer = nn.Module._buffer

function Softmax:forward(x)
  args.tensor("nn.Softmax", x)
  -- out is nil unless reusing buffers (Module:reuse_buffers)
  return lucid.softmax(x, self.dim or Softmax.implicit_dim(x.ndim), rawget(self, "_reuse") and buffer(self, x))
end

function Softmax:extra_repr()
  return "dim=" .. tostring(self.dim)
end

return Softmax

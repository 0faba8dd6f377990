--- nn.Softmax(dim): y = exp(x) / sum(exp(x)) along dim (1-based; negative
-- counts from the end), computed stably. With no dim it picks PyTorch's
-- legacy default: dim 1 for 0-, 1- and 3-d input, else dim 2.
local lucid = require("lucid")
local nn = require("lucid.nn")

local Softmax = nn.Module:extend("Softmax")

function Softmax:__init(dim)
  if type(dim) == "table" then dim = dim.dim end
  if dim ~= nil and math.type(dim) ~= "integer" then
    error("nn.Softmax: dim must be an integer or nil, got " .. tostring(dim), 3)
  end
  self.dim = dim
end

--- PyTorch's implicit dim for a tensor of ndim dims, 1-based.
function Softmax.implicit_dim(ndim)
  if ndim == 0 or ndim == 1 or ndim == 3 then return 1 end
  return 2
end

function Softmax:forward(x)
  return lucid.softmax(x, self.dim or Softmax.implicit_dim(x.ndim))
end

function Softmax:extra_repr()
  return "dim=" .. tostring(self.dim)
end

return Softmax

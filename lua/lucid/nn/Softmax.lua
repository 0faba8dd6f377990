--- nn.Softmax(dim): y = exp(x) / sum(exp(x)) along dim (1-based; negative
-- counts from the end), computed stably. With no dim it picks PyTorch's
-- legacy default: dim 1 for 0-, 1- and 3-d input, else dim 2.
local lucid = require("lucid")
local nn = require("lucid.nn")
local check = require("lucid.nn._check")

local Softmax = nn.Module:extend("Softmax")

function Softmax:__init(dim)
  if type(dim) == "table" then dim = dim.dim end
  self.dim = check.integer("Softmax", "dim", dim, 3, true)
end

--- PyTorch's implicit dim for a tensor of ndim dims, 1-based.
function Softmax.implicit_dim(ndim)
  if ndim == 0 or ndim == 1 or ndim == 3 then return 1 end
  return 2
end

function Softmax:forward(x)
  check.tensor("Softmax", x, 2)
  return lucid.softmax(x, self.dim or Softmax.implicit_dim(x.ndim))
end

function Softmax:extra_repr()
  return "dim=" .. tostring(self.dim)
end

return Softmax

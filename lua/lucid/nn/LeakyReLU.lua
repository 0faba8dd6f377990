--- nn.LeakyReLU(negative_slope = 0.01): y = x for x > 0, negative_slope * x
-- otherwise; the gradient at 0 is negative_slope (as PyTorch).
local raise = require("lucid._args").raise
local lucid = require("lucid")
local nn = require("lucid.nn")

local LeakyReLU = nn.Module:extend("LeakyReLU")

function LeakyReLU:__init(negative_slope, inplace)
  if type(negative_slope) == "table" then
    negative_slope, inplace = negative_slope.negative_slope, negative_slope.inplace
  end
  if negative_slope == nil then negative_slope = 0.01 end
  if type(negative_slope) ~= "number" then
    raise("nn.LeakyReLU: negative_slope must be a number, got " .. type(negative_slope))
  end
  if inplace then raise("nn.LeakyReLU: inplace = true is not supported (layers return new tensors)") end
  self.negative_slope = negative_slope
end

function LeakyReLU:forward(x)
  return lucid.where(lucid.gt(x, 0), x, x * self.negative_slope)
end

function LeakyReLU:extra_repr()
  return "negative_slope=" .. tostring(self.negative_slope)
end

return LeakyReLU

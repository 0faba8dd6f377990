--- nn.GELU(approximate = "none"): y = x * Phi(x) with the exact normal CDF,
-- or PyTorch's tanh approximation with approximate = "tanh".
local raise = require("lucid._args").raise
local lucid = require("lucid")
local nn = require("lucid.nn")

local GELU = nn.Module:extend("GELU")

function GELU:__init(approximate)
  if type(approximate) == "table" then approximate = approximate.approximate end
  approximate = approximate or "none"
  if approximate ~= "none" and approximate ~= "tanh" then
    raise(string.format("nn.GELU: approximate must be 'none' or 'tanh', got %s",
      type(approximate) == "string" and "'" .. approximate .. "'" or type(approximate)))
  end
  self.approximate = approximate
end

function GELU:forward(x)
  return lucid.gelu(x, self.approximate)
end

function GELU:extra_repr()
  return "approximate='" .. self.approximate .. "'"
end

return GELU

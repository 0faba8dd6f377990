--- nn.Tanh(): y = tanh(x), elementwise; backward uses the output,
-- dx = dy * (1 - y^2).
local lucid = require("lucid")
local nn = require("lucid.nn")

local Tanh = nn.Module:extend("Tanh")

local C = require("lucid.core")

function Tanh:forward(x)
  if rawget(self, "_reuse") and not C.is_grad_enabled() then  -- see Module:reuse_buffers
    local out = rawget(self, "_out")
    if not C._fits(out, x) then
      out = lucid.empty_like(x)
      rawset(self, "_out", out)
    end
    return lucid.tanh(x, out)
  end
  return lucid.tanh(x)
end

return Tanh

--- nn.Identity(...): returns its input unchanged; any constructor arguments
-- are ignored (as PyTorch's), so it can stand in for a layer being switched off.
local nn = require("lucid.nn")

local Identity = nn.Module:extend("Identity")

function Identity:__init(...) end

function Identity:forward(x)
  return x
end

return Identity

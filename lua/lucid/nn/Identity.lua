--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.Identity(...): returns its input unchanged. Positional constructor
-- arguments are ignored (as PyTorch's), so it can stand in for a layer being
-- switched off; a table of options is refused, since none is taken.
local nn = require("lucid.nn")
local args = require("lucid._args")

--- Returns its input unchanged (arguments ignored), to switch a layer off.
-- @function Identity
-- @usage nn.Identity(...)
-- @within nn: more layers
local Identity = nn.Module:extend("Identity")

Identity.schema = args.schema("nn.Identity", {})

function Identity:__init(...)
  local n = select("#", ...)
  local last = select(n > 0 and n or 1, ...)
  if n > 0 and args.is_names(last) then Identity.schema:check_names(last) end
end

function Identity:forward(x)
  return x
end

return Identity

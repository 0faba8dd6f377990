--- lucid.nn: modules. Every layer here is an nn.Module:extend subclass, made
-- exactly the way a user makes their own.
local lucid = require("lucid")
local C = require("lucid.core")

local nn = {}
package.loaded["lucid.nn"] = nn

--- nn.Parameter(t [, requires_grad]): a leaf sharing t's values that
-- requires grad; assigned to a module field, it is registered.
function nn.Parameter(t, requires_grad)
  return C.parameter(t, requires_grad)
end

nn.Module = require("lucid.nn.Module")
nn.functional = require("lucid.nn.functional")
nn.Linear = require("lucid.nn.Linear")
nn.Tanh = require("lucid.nn.Tanh")
nn.Sequential = require("lucid.nn.Sequential")
nn.utils = require("lucid.nn.utils")

lucid.nn = nn
return nn

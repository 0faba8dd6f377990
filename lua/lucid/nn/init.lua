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
nn.init = require("lucid.nn.initializers")
nn.Identity = require("lucid.nn.Identity")
nn.Bilinear = require("lucid.nn.Bilinear")
nn.Flatten = require("lucid.nn.Flatten")
nn.Unflatten = require("lucid.nn.Unflatten")
nn.Dropout = require("lucid.nn.Dropout")
nn.Embedding = require("lucid.nn.Embedding")
nn.LayerNorm = require("lucid.nn.LayerNorm")
nn.BatchNorm1d = require("lucid.nn.BatchNorm1d")
nn.ReLU = require("lucid.nn.ReLU")
nn.LeakyReLU = require("lucid.nn.LeakyReLU")
nn.ELU = require("lucid.nn.ELU")
nn.SELU = require("lucid.nn.SELU")
nn.GELU = require("lucid.nn.GELU")
nn.SiLU = require("lucid.nn.SiLU")
nn.Sigmoid = require("lucid.nn.Sigmoid")
nn.Softplus = require("lucid.nn.Softplus")
nn.Softmax = require("lucid.nn.Softmax")
nn.LogSoftmax = require("lucid.nn.LogSoftmax")
nn.Hardtanh = require("lucid.nn.Hardtanh")
nn.ModuleList = require("lucid.nn.ModuleList")
nn.ModuleDict = require("lucid.nn.ModuleDict")
nn.MSELoss = require("lucid.nn.MSELoss")
nn.L1Loss = require("lucid.nn.L1Loss")
nn.HuberLoss = require("lucid.nn.HuberLoss")
nn.SmoothL1Loss = require("lucid.nn.SmoothL1Loss")
nn.CrossEntropyLoss = require("lucid.nn.CrossEntropyLoss")
nn.NLLLoss = require("lucid.nn.NLLLoss")
nn.BCELoss = require("lucid.nn.BCELoss")
nn.BCEWithLogitsLoss = require("lucid.nn.BCEWithLogitsLoss")

lucid.nn = nn
return nn

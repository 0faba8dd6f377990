--- lucid.nn.functional: the stateless forms of the layers.
local lucid = require("lucid")

local F = {}

--- F.tanh(x): elementwise hyperbolic tangent.
F.tanh = lucid.tanh

--- F.linear(x, weight [, bias]): x (..., in) @ weight (out, in)^T + bias (out).
F.linear = lucid.linear

--- F.softmax(x, dim) and F.log_softmax(x, dim): stable, over one dim.
F.softmax = lucid.softmax
F.log_softmax = lucid.log_softmax

return F

--- lucid.nn.functional: the stateless forms of the layers.
local lucid = require("lucid")

local F = {}

--- F.tanh(x): elementwise hyperbolic tangent.
F.tanh = lucid.tanh

--- F.linear(x, weight [, bias]): x (..., in) @ weight (out, in)^T + bias (out).
F.linear = lucid.linear

return F

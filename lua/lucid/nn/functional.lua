--- lucid.nn.functional: the stateless forms of the layers.
local lucid = require("lucid")

local F = {}

--- F.tanh(x): elementwise hyperbolic tangent.
F.tanh = lucid.tanh

--- F.linear(x, weight [, bias]): x (..., in) @ weight (out, in)^T + bias (out).
F.linear = lucid.linear

--- Activations: F.relu(x), F.sigmoid(x), F.gelu(x [, approximate]),
-- F.silu(x), F.softplus(x [, beta, threshold]).
F.relu = lucid.relu
F.sigmoid = lucid.sigmoid
F.gelu = lucid.gelu
F.silu = lucid.silu
F.softplus = lucid.softplus

--- F.softmax(x, dim) and F.log_softmax(x, dim): stable, over one dim.
F.softmax = lucid.softmax
F.log_softmax = lucid.log_softmax

return F

--- The stateless forms of the layers, as torch.nn.functional: F.tanh(x),
-- F.relu(x), F.softmax(x, dim), F.linear(x, weight [, bias]), the losses
-- (F.mse_loss, F.cross_entropy, ...). Most are the same functions as lucid's.
-- @module lucid.nn.functional
-- @usage F = require("lucid.nn.functional")  (also nn.functional)
-- @aka F

-- lucid.nn.functional: the stateless forms of the layers.
local lucid = require("lucid")

local F = {}

--- Elementwise tanh, the same function as lucid.tanh.
-- @function tanh
-- @usage nn.functional.tanh(x)
-- @within nn: modules

-- F.tanh(x): elementwise hyperbolic tangent.
F.tanh = lucid.tanh

--- x W^T + b, the same function as lucid.linear.
-- @function linear
-- @usage nn.functional.linear(x, weight [, bias])
-- @within nn: modules

-- F.linear(x, weight [, bias]): x (..., in) @ weight (out, in)^T + bias (out).
F.linear = lucid.linear

-- Activations: F.relu(x), F.sigmoid(x), F.gelu(x [, approximate]),
-- F.silu(x), F.softplus(x [, beta, threshold]).
F.relu = lucid.relu
F.sigmoid = lucid.sigmoid
F.gelu = lucid.gelu
F.silu = lucid.silu
F.softplus = lucid.softplus

-- F.softmax(x, dim) and F.log_softmax(x, dim): stable, over one dim.
F.softmax = lucid.softmax
F.log_softmax = lucid.log_softmax

-- Losses (lucid/nn/losses.lua): F.mse_loss(input, target [, reduction]),
-- l1_loss, huber_loss(.., reduction, delta), smooth_l1_loss(.., reduction, beta),
-- cross_entropy(input, target [, weight, ignore_index, reduction, label_smoothing]),
-- nll_loss(.., weight, ignore_index, reduction), binary_cross_entropy(.., weight,
-- reduction), binary_cross_entropy_with_logits(.., weight, reduction, pos_weight);
-- options also by name in a table: F.cross_entropy(x, y, {label_smoothing = 0.1}).
local losses = require("lucid.nn.losses")
for _, name in ipairs({"mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss", "cross_entropy",
                       "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits"}) do
  F[name] = losses[name]
end

return F

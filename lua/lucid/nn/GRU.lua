--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

local R = require("lucid.nn._rnn")

--- A gated recurrent unit network, PyTorch's gate order (r, z, n) with
-- n = tanh(W_in x + b_in + r (W_hn h + b_hn)); parameters and inputs as nn.RNN's
-- (weight_ih_l0 (3H, input_size)). Each layer and direction is one fused op
-- (lucid.gru). Returns the output and h_n.
-- @function GRU
-- @usage local out, h_n = nn.GRU(input_size, hidden_size [, {num_layers = 1, bias = true, batch_first = false, dropout = 0, bidirectional = false, dtype}])(x [, h0])
-- @within nn: recurrent layers
return R.class("GRU", "layer", function() return "GRU" end,
  R.layer_schema("nn.GRU", false, false), {"input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout", "bidirectional", "dtype"})

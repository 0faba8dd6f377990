--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

local R = require("lucid.nn._rnn")

--- An Elman RNN, h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu), of
-- num_layers layers, each direction of each layer one fused op (lucid.rnn_tanh).
-- input (L, B, input_size), (B, L, input_size) with batch_first, (L, input_size)
-- unbatched, or a PackedSequence (the output is one then). Returns the output
-- (..., D * hidden_size) and h_n (D * num_layers, B, hidden_size). Parameters
-- weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, ..._reverse, PyTorch's
-- names, shapes and init U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)).
-- nonlinearity is by name only, as in PyTorch.
-- @function RNN
-- @usage local out, h_n = nn.RNN(input_size, hidden_size [, {num_layers = 1, bias = true, batch_first = false, dropout = 0, bidirectional = false, nonlinearity = "tanh", dtype}])(x [, h0])
-- @within nn: recurrent layers
return R.class("RNN", "layer", function(o) return o.nonlinearity == "relu" and "RNN_RELU" or "RNN_TANH" end,
  R.layer_schema("nn.RNN", true, false), {"input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout", "bidirectional", "nonlinearity", "dtype"})

--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

local R = require("lucid.nn._rnn")

--- One step of an Elman RNN: h' (B, hidden_size) of input (B, input_size) (or
-- unbatched (input_size)) and h (zeros when not given); weight_ih, weight_hh,
-- bias_ih, bias_hh as PyTorch's.
-- @function RNNCell
-- @usage local h1 = nn.RNNCell(input_size, hidden_size [, {bias = true, nonlinearity = "tanh", dtype}])(x [, h])
-- @within nn: recurrent layers
return R.class("RNNCell", "cell", function(o) return o.nonlinearity == "relu" and "RNN_RELU" or "RNN_TANH" end,
  R.cell_schema("nn.RNNCell", true), {"input_size", "hidden_size", "bias", "nonlinearity", "dtype"})

--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

local R = require("lucid.nn._rnn")

--- A long short-term memory network, PyTorch's gate order (i, f, g, o) and
-- parameters (weight_ih_l0 (4H, input_size), weight_hh_l0, bias_ih_l0, bias_hh_l0,
-- weight_hr_l0 with proj_size, ..._reverse). Each layer and direction is one
-- fused op (lucid.lstm). Inputs as nn.RNN's; hx = {h0, c0}. Returns the output
-- and {h_n, c_n}, h_n (D * num_layers, B, proj_size or hidden_size).
-- @function LSTM
-- @usage local out, hc = nn.LSTM(input_size, hidden_size [, {num_layers = 1, bias = true, batch_first = false, dropout = 0, bidirectional = false, proj_size = 0, dtype}])(x [, {h0, c0}])
-- @within nn: recurrent layers
return R.class("LSTM", "layer", function() return "LSTM" end,
  R.layer_schema("nn.LSTM", false, true), {"input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout", "bidirectional", "proj_size", "dtype"})

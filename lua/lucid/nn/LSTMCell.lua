--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

local R = require("lucid.nn._rnn")

--- One LSTM step, one fused gate kernel forward and backward (lucid.lstm_cell):
-- returns h' and c' for input (B, input_size) and hx = {h, c} (zeros when not
-- given).
-- @function LSTMCell
-- @usage local h1, c1 = nn.LSTMCell(input_size, hidden_size [, {bias = true, dtype}])(x [, {h, c}])
-- @within nn: recurrent layers
return R.class("LSTMCell", "cell", function() return "LSTM" end,
  R.cell_schema("nn.LSTMCell", false), {"input_size", "hidden_size", "bias", "dtype"})

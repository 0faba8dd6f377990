--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

local R = require("lucid.nn._rnn")

--- One GRU step, one fused gate kernel forward and backward (lucid.gru_cell):
-- returns h' for input (B, input_size) and h (zeros when not given).
-- @function GRUCell
-- @usage local h1 = nn.GRUCell(input_size, hidden_size [, {bias = true, dtype}])(x [, h])
-- @within nn: recurrent layers
return R.class("GRUCell", "cell", function() return "GRU" end,
  R.cell_schema("nn.GRUCell", false), {"input_size", "hidden_size", "bias", "dtype"})

--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

--- Pads the last dim with value: padding a number or {left, right}.
-- @function ConstantPad1d
-- @usage nn.ConstantPad1d(padding, value)
-- @within nn: modules
-- @aka lucid.nn.ConstantPad1d
return require("lucid.nn._conv_layers").pad_layer("ConstantPad1d", 1, "constant", true)

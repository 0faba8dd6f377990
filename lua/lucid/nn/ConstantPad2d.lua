--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

--- Pads the last two dims with value: padding a number or {left, right, top,
-- bottom}.
-- @function ConstantPad2d
-- @usage nn.ConstantPad2d(padding, value)
-- @within nn: modules
-- @aka lucid.nn.ConstantPad2d
return require("lucid.nn._conv_layers").pad_layer("ConstantPad2d", 2, "constant", true)

--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

--- Pads the last two dims by repeating their edge values: padding a number or
-- {left, right, top, bottom}.
-- @function ReplicationPad2d
-- @usage nn.ReplicationPad2d(padding)
-- @within nn: modules
-- @aka lucid.nn.ReplicationPad2d
return require("lucid.nn._conv_layers").pad_layer("ReplicationPad2d", 2, "replicate")

--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

--- Pads the last dim by repeating its edge values: padding a number or
-- {left, right}.
-- @function ReplicationPad1d
-- @usage nn.ReplicationPad1d(padding)
-- @within nn: modules
-- @aka lucid.nn.ReplicationPad1d
return require("lucid.nn._conv_layers").pad_layer("ReplicationPad1d", 1, "replicate")

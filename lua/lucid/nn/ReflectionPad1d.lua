--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

--- Pads the last dim by reflection (the edge not repeated): padding a number
-- or {left, right}, each smaller than the dim.
-- @function ReflectionPad1d
-- @usage nn.ReflectionPad1d(padding)
-- @within nn: modules
-- @aka lucid.nn.ReflectionPad1d
return require("lucid.nn._conv_layers").pad_layer("ReflectionPad1d", 1, "reflect")

--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

--- Pads the last two dims by reflection (the edge not repeated): padding a
-- number or {left, right, top, bottom}, each smaller than its dim.
-- @function ReflectionPad2d
-- @usage nn.ReflectionPad2d(padding)
-- @within nn: modules
-- @aka lucid.nn.ReflectionPad2d
return require("lucid.nn._conv_layers").pad_layer("ReflectionPad2d", 2, "reflect")

--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

--- Pads the last two dims with zeros: padding a number or {left, right, top,
-- bottom} (negative amounts crop).
-- @function ZeroPad2d
-- @usage nn.ZeroPad2d(padding)
-- @within nn: modules
-- @aka lucid.nn.ZeroPad2d
return require("lucid.nn._conv_layers").pad_layer("ZeroPad2d", 2, "constant")

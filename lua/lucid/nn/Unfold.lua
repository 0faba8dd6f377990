--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

--- Extracts sliding blocks, F.unfold as a layer: {N, C, H, W} -> {N, C kh kw, L}.
-- @function Unfold
-- @usage nn.Unfold(kernel_size [, dilation = 1, padding = 0, stride = 1])
-- @within nn: modules
-- @aka lucid.nn.Unfold
return require("lucid.nn._conv_layers").window_layer("Unfold")

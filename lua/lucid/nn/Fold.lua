--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

--- Combines sliding blocks into an image, F.fold as a layer: {N, C kh kw, L} ->
-- {N, C, output_size...}.
-- @function Fold
-- @usage nn.Fold(output_size, kernel_size [, dilation = 1, padding = 0, stride = 1])
-- @within nn: modules
-- @aka lucid.nn.Fold
return require("lucid.nn._conv_layers").window_layer("Fold")

--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

--- A 2-d convolution over input {N, C_in, H, W} (or {C_in, H, W}), PyTorch's
-- nn.Conv2d: weight {out_channels, in_channels / groups, kh, kw} and bias
-- {out_channels}, both drawn from U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in
-- = in_channels / groups * kh * kw (PyTorch's kaiming_uniform with a =
-- sqrt(5)). Sizes are a number or a table {h, w}; padding also "same" or
-- "valid"; padding_mode "zeros", "reflect", "replicate" or "circular"
-- (through F.pad); dtype "float32" or "float64" (by name). Prints as
-- Conv2d(3, 16, kernel_size={3, 3}, stride={1, 1}, padding={1, 1}).
-- @function Conv2d
-- @usage nn.Conv2d(in_channels, out_channels, kernel_size [, stride = 1, padding = 0, dilation = 1, groups = 1, bias = true, padding_mode = "zeros"] [, {dtype =}])
-- @within nn: modules
-- @aka lucid.nn.Conv2d
return require("lucid.nn._conv_layers").conv_layer("Conv2d", 2, false)

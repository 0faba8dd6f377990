--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

--- A 1-d convolution over input {N, C_in, L} (or {C_in, L}), PyTorch's nn.Conv1d:
-- weight {out_channels, in_channels / groups, k} and bias {out_channels}, both
-- drawn from U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in_channels /
-- groups * k (PyTorch's kaiming_uniform with a = sqrt(5)). padding is a number,
-- {p}, "same" or "valid"; padding_mode "zeros", "reflect", "replicate" or
-- "circular" (through F.pad); dtype "float32" or "float64" (by name).
-- @function Conv1d
-- @usage nn.Conv1d(in_channels, out_channels, kernel_size [, stride = 1, padding = 0, dilation = 1, groups = 1, bias = true, padding_mode = "zeros"] [, {dtype =}])
-- @within nn: modules
-- @aka lucid.nn.Conv1d
return require("lucid.nn._conv_layers").conv_layer("Conv1d", 1, false)

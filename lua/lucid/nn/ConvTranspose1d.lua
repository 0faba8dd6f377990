--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

--- The transposed 1-d convolution, PyTorch's nn.ConvTranspose1d: weight
-- {in_channels, out_channels / groups, k}, bias {out_channels}, both from
-- U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = out_channels / groups * k.
-- forward(x [, output_size]) picks the output_padding that gives output_size.
-- @function ConvTranspose1d
-- @usage nn.ConvTranspose1d(in_channels, out_channels, kernel_size [, stride = 1, padding = 0, output_padding = 0, groups = 1, bias = true, dilation = 1] [, {dtype =}])
-- @within nn: modules
-- @aka lucid.nn.ConvTranspose1d
return require("lucid.nn._conv_layers").conv_layer("ConvTranspose1d", 1, true)

--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

--- The transposed 2-d convolution (conv2d's input gradient), PyTorch's
-- nn.ConvTranspose2d: weight {in_channels, out_channels / groups, kh, kw}, bias
-- {out_channels}, both from U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in =
-- out_channels / groups * kh * kw. forward(x [, output_size]) picks the
-- output_padding that gives output_size.
-- @function ConvTranspose2d
-- @usage nn.ConvTranspose2d(in_channels, out_channels, kernel_size [, stride = 1, padding = 0, output_padding = 0, groups = 1, bias = true, dilation = 1] [, {dtype =}])
-- @within nn: modules
-- @aka lucid.nn.ConvTranspose2d
return require("lucid.nn._conv_layers").conv_layer("ConvTranspose2d", 2, true)

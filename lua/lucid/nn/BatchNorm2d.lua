--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.BatchNorm2d: BatchNorm1d (its options, buffers and state-dict keys,
-- PyTorch's) over {N, C, H, W}, statistics per channel over N, H and W.
local BatchNorm1d = require("lucid.nn.BatchNorm1d")

--- Normalises each channel of {N, C, H, W} input with the batch's statistics
-- in training mode (updating running_mean, running_var and
-- num_batches_tracked; momentum = false is the cumulative average) and the
-- running ones in eval mode, then scales by weight and adds bias.
-- @function BatchNorm2d
-- @usage nn.BatchNorm2d(num_features [, eps = 1e-5 [, momentum = 0.1 [, affine = true [, track_running_stats = true]]]])
-- @within nn: more layers
local BatchNorm2d = BatchNorm1d:extend("BatchNorm2d")
BatchNorm2d.schema = BatchNorm1d._make_schema("nn.BatchNorm2d")
BatchNorm2d.input_ranks = {[4] = true}
BatchNorm2d.input_text = "4-d input {N, C, H, W}"

return BatchNorm2d

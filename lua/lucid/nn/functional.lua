--- The stateless forms of the layers, as torch.nn.functional: F.tanh(x),
-- F.relu(x), F.softmax(x, dim), F.linear(x, weight [, bias]), the losses
-- (F.mse_loss, F.cross_entropy, ...). Most are the same functions as lucid's.
-- @module lucid.nn.functional
-- @usage F = require("lucid.nn.functional")  (also nn.functional)
-- @aka F

-- lucid.nn.functional: the stateless forms of the layers.
local lucid = require("lucid")

local F = {}

--- Elementwise tanh, the same function as lucid.tanh.
-- @function tanh
-- @usage nn.functional.tanh(x)
-- @within nn: modules

-- F.tanh(x): elementwise hyperbolic tangent.
F.tanh = lucid.tanh

--- x W^T + b, the same function as lucid.linear.
-- @function linear
-- @usage nn.functional.linear(x, weight [, bias])
-- @within nn: modules

-- F.linear(x, weight [, bias]): x (..., in) @ weight (out, in)^T + bias (out).
F.linear = lucid.linear

-- Activations: F.relu(x), F.sigmoid(x), F.gelu(x [, approximate]),
-- F.silu(x), F.softplus(x [, beta, threshold]).
F.relu = lucid.relu
F.sigmoid = lucid.sigmoid
F.gelu = lucid.gelu
F.silu = lucid.silu
F.softplus = lucid.softplus

-- F.softmax(x, dim) and F.log_softmax(x, dim): stable, over one dim.
F.softmax = lucid.softmax
F.log_softmax = lucid.log_softmax

local args = require("lucid._args")
local raise = args.raise

local INDEX_DTYPES = {int64 = true, int32 = true, uint8 = true}
local ONE_HOT = args.schema("nn.functional.one_hot", {
  {"tensor", args.REQUIRED, "tensor"},
  {"num_classes", -1, "integer"},
})

--- The one-hot encoding of class indices, as torch.nn.functional.one_hot but
-- 1-based, like every index in this library: class c sets position c of the
-- last dim. tensor holds the classes (int64; int32 and uint8 work too; float
-- and bool tensors are refused); the result is int64 of shape tensor.shape +
-- {num_classes}. num_classes = -1 (the default) takes the largest class; a
-- class below 1 or above num_classes is an error. An empty tensor needs
-- num_classes.
-- @function one_hot
-- @usage nn.functional.one_hot(tensor [, num_classes = -1])  as F.one_hot(lucid.tensor({1, 3}, {dtype = "int64"}), 3)
-- @within nn: modules
function F.one_hot(...)
  local t, n = ONE_HOT:parse(...)
  local fname = "nn.functional.one_hot"
  if not INDEX_DTYPES[t.dtype] then
    raise("%s: expected a tensor of class indices (int64), got %s", fname, t.dtype)
  end
  if t.ndim >= 8 then
    raise("%s: the result would have %d dims (at most 8)", fname, t.ndim + 1)
  end
  if t:numel() == 0 then
    if n <= 0 then raise("%s: cannot infer the number of classes from an empty tensor", fname) end
    local shape = t.shape
    shape[#shape + 1] = n
    return lucid.zeros(shape, {dtype = "int64"})
  end
  local lo, hi = t:min():item(), t:max():item()
  if lo < 1 then raise("%s: class values must be at least 1 (classes are 1-based), got %d", fname, lo) end
  if n == -1 then
    n = hi
  elseif hi > n then
    raise("%s: class values must be at most num_classes (%d), got %d", fname, n, hi)
  end
  local classes = lucid.arange(1, n + 1, {dtype = t.dtype == "uint8" and "int64" or t.dtype})
  return lucid.no_grad(function() return t:unsqueeze(-1):eq(classes):long() end)
end

-- Losses (lucid/nn/losses.lua): F.mse_loss(input, target [, reduction]),
-- l1_loss, huber_loss(.., reduction, delta), smooth_l1_loss(.., reduction, beta),
-- cross_entropy(input, target [, weight, ignore_index, reduction, label_smoothing]),
-- nll_loss(.., weight, ignore_index, reduction), binary_cross_entropy(.., weight,
-- reduction), binary_cross_entropy_with_logits(.., weight, reduction, pos_weight);
-- options also by name in a table: F.cross_entropy(x, y, {label_smoothing = 0.1}).
local losses = require("lucid.nn.losses")
for _, name in ipairs({"mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss", "cross_entropy",
                       "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
                       "kl_div", "cosine_embedding_loss", "margin_ranking_loss", "triplet_margin_loss",
                       "multilabel_soft_margin_loss", "poisson_nll_loss", "gaussian_nll_loss",
                       "cosine_similarity", "pairwise_distance", "ctc_loss"}) do
  F[name] = losses[name]
end

-- Channel dropout and pixel shuffles (lucid/nn/_shuffle.lua): F.dropout1d(x [, p,
-- training]), F.dropout2d, F.pixel_shuffle(x, upscale_factor),
-- F.pixel_unshuffle(x, downscale_factor).
local shuffle = require("lucid.nn._shuffle")
for _, name in ipairs({"dropout1d", "dropout2d", "pixel_shuffle", "pixel_unshuffle"}) do
  F[name] = shuffle[name]
end

--- softmax(Q K^T * scale + mask) V, as PyTorch 2.x's
-- torch.nn.functional.scaled_dot_product_attention: query (..., L, E), key
-- (..., S, E), value (..., S, Ev), batch dims broadcasting; the result is
-- (..., L, Ev). scale defaults to 1 / sqrt(E). attn_mask broadcasts to (...,
-- L, S): a bool mask is true where a score is masked OUT (the library's rule
-- for every mask; PyTorch 2.x's bool attn_mask here means the opposite,
-- "takes part"), a float mask (the query's dtype) is added to the scores.
-- is_causal masks out the keys after each query (j > i, the top-left
-- aligned triangle, as PyTorch); it cannot be combined with attn_mask. A
-- query whose keys are all masked out gets NaN, as in PyTorch 1.13 and 2.0
-- to 2.4 (PyTorch 2.5's math kernel gives 0 there). dropout_p drops
-- attention weights whenever it is above 0 (pass 0 in evaluation). The
-- products run on BLAS and the softmax is one fused kernel, forward and
-- backward (lucid.masked_softmax).
-- @function scaled_dot_product_attention
-- @usage nn.functional.scaled_dot_product_attention(q, k, v [, attn_mask, dropout_p = 0, is_causal = false] [, {scale =}])
-- @within nn: attention

-- Attention (lucid/nn/_attention.lua): F.scaled_dot_product_attention(q, k, v
-- [, attn_mask, dropout_p, is_causal] [, {scale =}]).
F.scaled_dot_product_attention = require("lucid.nn._attention").scaled_dot_product_attention

-- Pooling (lucid/nn/_pool.lua): F.max_pool1d, max_pool2d, avg_pool1d, avg_pool2d,
-- adaptive_avg_pool1d/2d, adaptive_max_pool1d/2d, max_unpool1d/2d.
for name, f in pairs(require("lucid.nn._pool").F) do F[name] = f end
-- Normalisation (lucid/nn/_norm.lua): F.batch_norm, group_norm, instance_norm,
-- local_response_norm.
for name, f in pairs(require("lucid.nn._norm").F) do F[name] = f end
--- Layer normalisation as PyTorch's F.layer_norm: input normalised over its
-- last dims, which must be normalized_shape (biased variance, eps added to
-- it), then times weight and plus bias (each of normalized_shape) when given.
-- @function layer_norm
-- @usage nn.functional.layer_norm(input, normalized_shape [, weight, bias, eps = 1e-5])
-- @within nn: modules

-- F.layer_norm (lucid/nn/LayerNorm.lua, beside the layer).
F.layer_norm = require("lucid.nn.LayerNorm").F.layer_norm
-- Resampling (lucid/nn/_resample.lua): F.interpolate, affine_grid, grid_sample.
for name, f in pairs(require("lucid.nn._resample").F) do F[name] = f end
-- Convolution (lucid/nn/_conv.lua): F.conv1d, conv2d, conv_transpose1d,
-- conv_transpose2d, pad, unfold, fold, with PyTorch's arguments.
for name, fn in pairs(require("lucid.nn._conv").functional) do F[name] = fn end

return F

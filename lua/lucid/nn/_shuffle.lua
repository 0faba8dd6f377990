-- Functional forms of the small layers nn.PixelShuffle, nn.PixelUnshuffle,
-- nn.Dropout1d and nn.Dropout2d (nn.functional merges them). PyTorch 1.13's
-- semantics; the shuffles are a reshape, a permute and a reshape, so their
-- gradients are the same moves backwards.
local lucid = require("lucid")
local args = require("lucid._args")
local raise = args.raise

local M = {}

local SHUFFLE = args.schema("nn.functional.pixel_shuffle", {
  {"input", args.REQUIRED, "tensor"}, {"upscale_factor", args.REQUIRED, "posint"},
})
local UNSHUFFLE = args.schema("nn.functional.pixel_unshuffle", {
  {"input", args.REQUIRED, "tensor"}, {"downscale_factor", args.REQUIRED, "posint"},
})

-- the leading dims of x (all but the last three), and a permutation of the
-- dims after them (numbered from 1) shifted past those leading dims
local function lead(x)
  local s, out = x.shape, {}
  for i = 1, #s - 3 do out[i] = s[i] end
  return out
end
local function with_lead(l, ...)
  local out = {}
  for i, v in ipairs(l) do out[i] = v end
  for i = 1, select("#", ...) do out[#out + 1] = select(i, ...) end
  return out
end
local function perm(nlead, ...)
  local out = {}
  for i = 1, nlead do out[i] = i end
  for i = 1, select("#", ...) do out[#out + 1] = nlead + select(i, ...) end
  return out
end

--- (*, C r^2, H, W) -> (*, C, H r, W r), as torch.nn.functional.pixel_shuffle.
function M.pixel_shuffle_impl(fname, x, r)
  if x.ndim < 3 then
    raise("%s: expected an input of at least 3 dims (*, C, H, W), got %s", fname, args.shape_str(x.shape))
  end
  local s = x.shape
  local c, h, w = s[#s - 2], s[#s - 1], s[#s]
  if c % (r * r) ~= 0 then
    raise("%s: the channel dim (%d, dim %d of input %s) must be divisible by upscale_factor^2 = %d", fname, c,
      #s - 2, args.shape_str(s), r * r)
  end
  local l = lead(x)
  local oc = math.floor(c / (r * r) + 0.5)
  local y = x:reshape(with_lead(l, oc, r, r, h, w)):permute(perm(#l, 1, 4, 2, 5, 3))
  return y:reshape(with_lead(l, oc, h * r, w * r))
end

--- (*, C, H r, W r) -> (*, C r^2, H, W), as torch.nn.functional.pixel_unshuffle.
function M.pixel_unshuffle_impl(fname, x, r)
  if x.ndim < 3 then
    raise("%s: expected an input of at least 3 dims (*, C, H, W), got %s", fname, args.shape_str(x.shape))
  end
  local s = x.shape
  local c, h, w = s[#s - 2], s[#s - 1], s[#s]
  if h % r ~= 0 or w % r ~= 0 then
    raise("%s: height %d and width %d of input %s must be divisible by downscale_factor %d", fname, h, w,
      args.shape_str(s), r)
  end
  local l = lead(x)
  local oh, ow = math.floor(h / r + 0.5), math.floor(w / r + 0.5)
  local y = x:reshape(with_lead(l, c, oh, r, ow, r)):permute(perm(#l, 1, 3, 5, 2, 4))
  return y:reshape(with_lead(l, c * r * r, oh, ow))
end

--- F.pixel_shuffle(input, upscale_factor)
function M.pixel_shuffle(...)
  local x, r = SHUFFLE:parse(...)
  return M.pixel_shuffle_impl("nn.functional.pixel_shuffle", x, r)
end

--- F.pixel_unshuffle(input, downscale_factor)
function M.pixel_unshuffle(...)
  local x, r = UNSHUFFLE:parse(...)
  return M.pixel_unshuffle_impl("nn.functional.pixel_unshuffle", x, r)
end

-- Whole channels zeroed with probability p, the rest scaled by 1 / (1 - p):
-- one draw per (sample, channel), the first two dims of x.
function M.feature_dropout(x, p)
  if p == 0 then return x end
  if p == 1 then return x * 0 end
  local mshape = {}
  for i = 1, x.ndim do mshape[i] = i <= 2 and x.shape[i] or 1 end
  local keep = lucid.lt(lucid.rand(mshape, {dtype = x.dtype}), 1 - p)
  return x * keep * (1 / (1 - p))
end

--- The checks and the dropout of Dropout1d ({N, C, L} or {C, L}) and
-- Dropout2d ({N, C, H, W}; {N, C, L} too, as PyTorch 1.13 reads a 3-d input).
function M.dropout_nd_impl(fname, x, p, training, one_d)
  if not lucid.is_tensor(x) then raise("%s: expected a tensor, got %s", fname, type(x)) end
  if one_d then
    if x.ndim ~= 2 and x.ndim ~= 3 then
      raise("%s: expected a 2-d {C, L} or 3-d {N, C, L} input, got %s", fname, args.shape_str(x.shape))
    end
  elseif x.ndim < 2 then
    raise("%s: expected an input with a channel dim ({N, C, H, W}), got %s", fname, args.shape_str(x.shape))
  end
  if not training then return x end
  if one_d and x.ndim == 2 then return M.feature_dropout(x:unsqueeze(1), p):squeeze(1) end
  return M.feature_dropout(x, p)
end

local DROPOUT = {}
for _, name in ipairs({"dropout1d", "dropout2d"}) do
  DROPOUT[name] = args.schema("nn.functional." .. name, {
    {"input", args.REQUIRED, "tensor"}, {"p", 0.5, "probability"}, {"training", true, "boolean"},
    {"inplace", false, args.not_true("functions return new tensors")},
  })
end

--- F.dropout1d(input [, p = 0.5 [, training = true]])
function M.dropout1d(...)
  local x, p, training = DROPOUT.dropout1d:parse(...)
  return M.dropout_nd_impl("nn.functional.dropout1d", x, p, training, true)
end

--- F.dropout2d(input [, p = 0.5 [, training = true]])
function M.dropout2d(...)
  local x, p, training = DROPOUT.dropout2d:parse(...)
  return M.dropout_nd_impl("nn.functional.dropout2d", x, p, training, false)
end

return M

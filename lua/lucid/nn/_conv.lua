--- Part of lucid.nn.functional; help() and `make doc` read these comments.
-- @module lucid.nn.functional

-- Convolution, padding, unfold and fold: nn.functional's conv1d, conv2d,
-- conv_transpose1d, conv_transpose2d, pad, unfold and fold, and what the
-- layers (nn.Conv2d, nn.ReflectionPad2d, ...) share. The work is the core's
-- (core/conv.c: im2col + GEMM, fused gradients); this file reads the
-- arguments as PyTorch 1.13 does: sizes are a number or a table ({3, 5}),
-- padding also "same" or "valid", unbatched inputs {C, L} / {C, H, W} are
-- accepted, and a 1-d convolution is a 2-d one of height 1.
local lucid = require("lucid")
local C = require("lucid.core")
local args = require("lucid._args")

local raise, describe, int_of = args.raise, args.describe, args.int_of

local M = {}

-- ---- argument checks --------------------------------------------------------------

-- a value for a message: a plain table shown with its entries
local function show(v)
  if type(v) == "string" then return "'" .. v .. "'" end
  if type(v) ~= "table" or C.is_tensor(v) then return describe(v) end
  local parts = {}
  for k = 1, #v do parts[k] = describe(v[k]) end
  return "{" .. table.concat(parts, ", ") .. "}"
end

-- A check for a size given as a number or a table of n numbers, each an
-- integer >= min; converts to a table of n integers.
local function sizes(n, min)
  local what = min == 1 and "positive" or "non-negative"
  return function(v, name)
    if type(v) == "number" then
      local i = int_of(v)
      if i and i >= min then
        local t = {}
        for k = 1, n do t[k] = i end
        return nil, t
      end
    elseif type(v) == "table" and not C.is_tensor(v) and #v == n then
      local t = {}
      for k = 1, n do
        t[k] = int_of(v[k])
        if not t[k] or t[k] < min then t = nil break end
      end
      if t then return nil, t end
    end
    return string.format("%s must be a %s integer or a table of %d of them, got %s", name, what, n,
      show(v))
  end
end
M.sizes = sizes

-- padding: sizes, or "same" / "valid" (kept as the string)
-- a default of n sizes v
local function rep(v, n)
  local t = {}
  for k = 1, n do t[k] = v end
  return t
end
M.rep = rep

local function padding_check(n)
  local plain = sizes(n, 0)
  return function(v, name)
    if v == "same" or v == "valid" then return nil, v end
    local problem, t = plain(v, name)
    if problem then return (problem:gsub(", got", ", 'same' or 'valid', got")) end
    return nil, t
  end
end
M.padding_check = padding_check

local function optional_tensor(v, name)
  if not C.is_tensor(v) then return name .. " must be a tensor, got " .. describe(v) end
end

local function shape_of(t) return args.shape_str(t) end

-- ---- conv1d, conv2d ---------------------------------------------------------------------

-- The (left, right) padding per spatial dim for "same": dilation * (k - 1)
-- in total, the odd one on the right, as PyTorch.
function M.same_padding(kernel, dilation)
  local lr = {}
  for d = 1, #kernel do
    local total = dilation[d] * (kernel[d] - 1)
    local left = math.floor(total / 2)
    lr[d] = {left, total - left}
  end
  return lr
end

-- The (left, right) padding per spatial dim of padding (sizes or a string).
function M.pad_pairs(padding, kernel, dilation)
  if padding == "same" then return M.same_padding(kernel, dilation) end
  local lr = {}
  for d = 1, #kernel do
    local p = padding == "valid" and 0 or padding[d]
    lr[d] = {p, p}
  end
  return lr
end

-- F.pad's list (last dim first) for (left, right) pairs of the spatial dims.
local function pad_list(lr)
  local list = {}
  for d = #lr, 1, -1 do
    list[#list + 1] = lr[d][1]
    list[#list + 1] = lr[d][2]
  end
  return list
end
M.pad_list = pad_list

local function check_input(fname, x, nd)
  if x.ndim ~= nd + 1 and x.ndim ~= nd + 2 then
    raise("%s: expected a %d-d (unbatched) or %d-d (batched) input, got %s", fname, nd + 1, nd + 2,
      shape_of(x))
  end
  return x.ndim == nd + 1
end

local function check_weight(fname, w, nd)
  if w.ndim ~= nd + 2 then
    raise("%s: weight %s must be %d-d", fname, shape_of(w), nd + 2)
  end
end

-- Runs core(fname, x4, w4, b, ...) on 4-d views of an nd-d convolution
-- (nd = 1 or 2) and gives the result the input's dims back.
local function run(fname, core, nd, x, w, b, stride, padding, output_padding, dilation, groups)
  local unbatched = check_input(fname, x, nd)
  check_weight(fname, w, nd)
  if unbatched then x = x:unsqueeze(1) end
  if nd == 1 then
    x, w = x:unsqueeze(3), w:unsqueeze(3)
    stride, padding = {1, stride[1]}, {0, padding[1]}
    output_padding, dilation = {0, output_padding[1]}, {1, dilation[1]}
  end
  local y = core(fname, x, w, b, stride[1], stride[2], padding[1], padding[2], output_padding[1],
    output_padding[2], dilation[1], dilation[2], groups)
  if nd == 1 then y = y:squeeze(3) end
  if unbatched then y = y:squeeze(1) end
  return y
end

-- conv over nd spatial dims with padding a table, "same" or "valid";
-- pad_mode (the layers' padding_mode) other than "zeros" pads x first.
function M.conv(fname, nd, x, w, b, stride, padding, dilation, groups, pad_mode)
  args.tensor(fname, x, "as input")
  args.tensor(fname, w, "as weight")
  if padding == "same" then
    for d = 1, nd do
      if stride[d] ~= 1 then raise("%s: padding 'same' needs stride 1, got stride {%s}", fname,
        table.concat(stride, ", ")) end
    end
  end
  local kernel = {}
  if w.ndim == nd + 2 then
    for d = 1, nd do kernel[d] = w.shape[2 + d] end
  else
    check_weight(fname, w, nd)
  end
  local lr = M.pad_pairs(padding, kernel, dilation)
  local sym, even = {}, true
  for d = 1, nd do
    sym[d] = lr[d][1]
    even = even and lr[d][1] == lr[d][2]
  end
  if (pad_mode and pad_mode ~= "zeros") or not even then
    -- padded here: asymmetric "same" (zeros) or a padding mode
    check_input(fname, x, nd)
    local mode = (pad_mode and pad_mode ~= "zeros") and pad_mode or "constant"
    x = M.pad(x, pad_list(lr), mode, 0, fname)
    for d = 1, nd do sym[d] = 0 end
  end
  local zeros = {}
  for d = 1, nd do zeros[d] = 0 end
  return run(fname, C._conv2d, nd, x, w, b, stride, sym, zeros, dilation, groups)
end

-- conv_transpose over nd spatial dims
function M.conv_transpose(fname, nd, x, w, b, stride, padding, output_padding, groups, dilation)
  args.tensor(fname, x, "as input")
  args.tensor(fname, w, "as weight")
  return run(fname, C._conv_transpose2d, nd, x, w, b, stride, padding, output_padding, dilation,
    groups)
end

local function conv_schema(fname, nd)
  return args.schema(fname, {
    {"input", args.REQUIRED, "tensor"},
    {"weight", args.REQUIRED, "tensor"},
    {"bias", nil, optional_tensor},
    {"stride", rep(1, nd), sizes(nd, 1)},
    {"padding", rep(0, nd), padding_check(nd)},
    {"dilation", rep(1, nd), sizes(nd, 1)},
    {"groups", 1, "posint"},
  })
end

local CONV1D, CONV2D = conv_schema("nn.functional.conv1d", 1), conv_schema("nn.functional.conv2d", 2)

--- A 1-d convolution of input {N, C, L} (or unbatched {C, L}) with weight
-- {out_channels, C / groups, k} and an optional bias {out_channels}, as
-- PyTorch's (cross-correlation). stride, padding and dilation are a number or
-- a table of one; padding also "same" (stride 1) or "valid". Gradients for
-- input, weight and bias (im2col + GEMM, fused).
-- @function conv1d
-- @usage nn.functional.conv1d(input, weight [, bias, stride = 1, padding = 0, dilation = 1, groups = 1])
-- @within nn: modules
function M.conv1d(...)
  local x, w, b, stride, padding, dilation, groups = CONV1D:parse(...)
  return M.conv("nn.functional.conv1d", 1, x, w, b, stride, padding, dilation, groups)
end

--- A 2-d convolution of input {N, C, H, W} (or unbatched {C, H, W}) with
-- weight {out_channels, C / groups, kh, kw} and an optional bias
-- {out_channels}, as PyTorch's: im2col and one OpenBLAS GEMM per group over
-- the batch, with a fused backward. stride, padding and dilation are a number
-- or a table {h, w}; padding also "same" (stride 1; an odd total puts the
-- extra row or column at the end, as PyTorch) or "valid"; groups divides
-- both channel counts (groups = C: depthwise).
-- @function conv2d
-- @usage nn.functional.conv2d(input, weight [, bias, stride = 1, padding = 0, dilation = 1, groups = 1])
-- @within nn: modules
function M.conv2d(...)
  local x, w, b, stride, padding, dilation, groups = CONV2D:parse(...)
  return M.conv("nn.functional.conv2d", 2, x, w, b, stride, padding, dilation, groups)
end

local function convt_schema(fname, nd)
  return args.schema(fname, {
    {"input", args.REQUIRED, "tensor"},
    {"weight", args.REQUIRED, "tensor"},
    {"bias", nil, optional_tensor},
    {"stride", rep(1, nd), sizes(nd, 1)},
    {"padding", rep(0, nd), sizes(nd, 0)},
    {"output_padding", rep(0, nd), sizes(nd, 0)},
    {"groups", 1, "posint"},
    {"dilation", rep(1, nd), sizes(nd, 1)},
  })
end

local CONVT1D = convt_schema("nn.functional.conv_transpose1d", 1)
local CONVT2D = convt_schema("nn.functional.conv_transpose2d", 2)

--- The transposed 1-d convolution (the gradient of conv1d with respect to its
-- input) of input {N, C_in, L} (or {C_in, L}) with weight {C_in, out_channels
-- / groups, k}: L_out = (L - 1) stride - 2 padding + dilation (k - 1) +
-- output_padding + 1. Note PyTorch's order: groups before dilation.
-- @function conv_transpose1d
-- @usage nn.functional.conv_transpose1d(input, weight [, bias, stride = 1, padding = 0, output_padding = 0, groups = 1, dilation = 1])
-- @within nn: modules
function M.conv_transpose1d(...)
  local x, w, b, stride, padding, opad, groups, dilation = CONVT1D:parse(...)
  return M.conv_transpose("nn.functional.conv_transpose1d", 1, x, w, b, stride, padding, opad,
    groups, dilation)
end

--- The transposed 2-d convolution of input {N, C_in, H, W} (or {C_in, H, W})
-- with weight {C_in, out_channels / groups, kh, kw}, as PyTorch's: col2im of
-- W^T x (conv2d's input-gradient kernel), with a fused backward. H_out = (H -
-- 1) stride - 2 padding + dilation (kh - 1) + output_padding + 1;
-- output_padding must be smaller than stride or dilation.
-- @function conv_transpose2d
-- @usage nn.functional.conv_transpose2d(input, weight [, bias, stride = 1, padding = 0, output_padding = 0, groups = 1, dilation = 1])
-- @within nn: modules
function M.conv_transpose2d(...)
  local x, w, b, stride, padding, opad, groups, dilation = CONVT2D:parse(...)
  return M.conv_transpose("nn.functional.conv_transpose2d", 2, x, w, b, stride, padding, opad,
    groups, dilation)
end

-- ---- pad ------------------------------------------------------------------------------------

local PAD = args.schema("nn.functional.pad", {
  {"input", args.REQUIRED, "tensor"},
  {"pad", args.REQUIRED, "table"},
  {"mode", "constant", args.one_of("constant", "reflect", "replicate", "circular")},
  {"value", nil, "number"},
})

-- 1-based source positions for a dim of size n padded by (left, right)
local function source_index(mode, n, left, right)
  local idx = {}
  for i = -left, n - 1 + right do
    local j
    if mode == "reflect" then
      j = i < 0 and -i or (i >= n and 2 * (n - 1) - i or i)
    elseif mode == "replicate" then
      j = i < 0 and 0 or (i >= n and n - 1 or i)
    else  -- circular
      j = i % n
    end
    idx[#idx + 1] = j + 1
  end
  return lucid.tensor(idx, {dtype = "int64"})
end

-- constant padding of one dim (negative amounts crop, as PyTorch)
local function pad_constant(x, dim, left, right, value)
  if left < 0 then x = x:narrow(dim, 1 - left, x.shape[dim] + left) left = 0 end
  if right < 0 then x = x:narrow(dim, 1, x.shape[dim] + right) right = 0 end
  if left == 0 and right == 0 then return x end
  local parts = {}
  local function block(n)
    local shape = x.shape
    shape[dim] = n
    return lucid.full(shape, value, {dtype = x.dtype})
  end
  if left > 0 then parts[#parts + 1] = block(left) end
  parts[#parts + 1] = x
  if right > 0 then parts[#parts + 1] = block(right) end
  return lucid.cat(parts, dim)
end

function M.pad(x, pad, mode, value, fname)
  fname = fname or "nn.functional.pad"
  local n = #pad
  if n % 2 ~= 0 or n == 0 then
    raise("%s: pad must have an even number of entries (2 per dim, last dim first), got %d", fname, n)
  end
  if n / 2 > x.ndim then
    raise("%s: pad of %d entries pads %d dims, but the input %s has %d", fname, n, n / 2, shape_of(x),
      x.ndim)
  end
  for k = 1, n do
    if not int_of(pad[k]) then raise("%s: pad must hold integers, got %s at %d", fname, describe(pad[k]), k) end
  end
  if mode ~= "constant" then
    if value ~= nil and value ~= 0 then
      raise("%s: padding mode '%s' does not take a value", fname, mode)
    end
    -- PyTorch's kernels: 1, 2 or 3 padded dims of a batch or of one sample
    if n > 6 or (x.ndim ~= n / 2 + 1 and x.ndim ~= n / 2 + 2) then
      raise("%s: padding mode '%s' with %d pad entries takes a %d-d or %d-d input, got %s", fname, mode,
        n, n / 2 + 1, n / 2 + 2, shape_of(x))
    end
  end
  for k = 1, n / 2 do
    local dim = x.ndim - k + 1
    local left, right = int_of(pad[2 * k - 1]), int_of(pad[2 * k])
    local size = x.shape[dim]
    if mode == "constant" then
      if size + left + right < 0 then
        raise("%s: padding {%d, %d} leaves dim %d of input %s with a negative size", fname, left, right,
          dim, shape_of(x))
      end
      x = pad_constant(x, dim, left, right, value or 0)
    elseif left ~= 0 or right ~= 0 then
      if left < 0 or right < 0 then
        raise("%s: padding mode '%s' needs non-negative padding, got {%d, %d}", fname, mode, left, right)
      end
      if mode == "reflect" and (left >= size or right >= size) then
        raise("%s: reflect padding {%d, %d} must be smaller than dim %d of input %s", fname, left, right,
          dim, shape_of(x))
      end
      if mode ~= "reflect" and size == 0 or (mode == "circular" and (left > size or right > size)) then
        raise("%s: %s padding {%d, %d} must be at most dim %d of input %s", fname, mode, left, right, dim,
          shape_of(x))
      end
      x = lucid.index_select(x, dim, source_index(mode, size, left, right))
    end
  end
  return x
end

--- Pads input: pad lists (left, right) amounts from the last dim backwards,
-- PyTorch's order ({1, 2} pads the last dim by 1 before and 2 after; {1, 1,
-- 2, 2} also the dim before it). mode "constant" (value, default 0; negative
-- amounts crop), "reflect" (mirror without the edge), "replicate" (repeat
-- the edge) or "circular" (wrap around); the last three pad at most the last
-- ndim - 1 dims. Gradients flow back to input.
-- @function pad
-- @usage nn.functional.pad(input, pad [, mode = "constant", value = 0])
-- @within nn: modules
function M.pad_public(...)
  local x, pad, mode, value = PAD:parse(...)
  return M.pad(x, pad, mode, value)
end

-- ---- unfold, fold ------------------------------------------------------------------------

local UNFOLD = args.schema("nn.functional.unfold", {
  {"input", args.REQUIRED, "tensor"},
  {"kernel_size", args.REQUIRED, sizes(2, 1)},
  {"dilation", rep(1, 2), sizes(2, 1)},
  {"padding", rep(0, 2), sizes(2, 0)},
  {"stride", rep(1, 2), sizes(2, 1)},
})
M.UNFOLD = UNFOLD

function M.unfold(fname, x, k, dilation, padding, stride)
  if x.ndim ~= 3 and x.ndim ~= 4 then
    raise("%s: expected a 3-d (unbatched) or 4-d (batched) input, got %s", fname, shape_of(x))
  end
  local unbatched = x.ndim == 3
  if unbatched then x = x:unsqueeze(1) end
  local y = C._unfold(fname, x, k[1], k[2], stride[1], stride[2], padding[1], padding[2], dilation[1],
    dilation[2])
  if unbatched then y = y:squeeze(1) end
  return y
end

--- Extracts sliding blocks (im2col): input {N, C, H, W} (or {C, H, W}) gives
-- {N, C kh kw, L}, one column per block position (L of them), rows ordered
-- channel, kernel row, kernel column, as PyTorch. Gradients flow back (fold).
-- @function unfold
-- @usage nn.functional.unfold(input, kernel_size [, dilation = 1, padding = 0, stride = 1])
-- @within nn: modules
function M.unfold_public(...)
  local x, k, dilation, padding, stride = UNFOLD:parse(...)
  return M.unfold("nn.functional.unfold", x, k, dilation, padding, stride)
end

local FOLD = args.schema("nn.functional.fold", {
  {"input", args.REQUIRED, "tensor"},
  {"output_size", args.REQUIRED, sizes(2, 1)},
  {"kernel_size", args.REQUIRED, sizes(2, 1)},
  {"dilation", rep(1, 2), sizes(2, 1)},
  {"padding", rep(0, 2), sizes(2, 0)},
  {"stride", rep(1, 2), sizes(2, 1)},
})
M.FOLD = FOLD

function M.fold(fname, x, size, k, dilation, padding, stride)
  if x.ndim ~= 2 and x.ndim ~= 3 then
    raise("%s: expected a 2-d (unbatched) or 3-d (batched) input, got %s", fname, shape_of(x))
  end
  local unbatched = x.ndim == 2
  if unbatched then x = x:unsqueeze(1) end
  if x.shape[2] == 0 then  -- as PyTorch (and unfold, its gradient, refuses 0 channels)
    raise("%s: input %s: its C kh kw dim must not be 0", fname, shape_of(unbatched and x:squeeze(1) or x))
  end
  local y = C._fold(fname, x, size[1], size[2], k[1], k[2], stride[1], stride[2], padding[1],
    padding[2], dilation[1], dilation[2])
  if unbatched then y = y:squeeze(1) end
  return y
end

--- Combines sliding blocks into an image (col2im), unfold's adjoint: input
-- {N, C kh kw, L} (or {C kh kw, L}) gives {N, C, H, W} with {H, W} =
-- output_size, overlapping entries summed. Gradients flow back (unfold).
-- @function fold
-- @usage nn.functional.fold(input, output_size, kernel_size [, dilation = 1, padding = 0, stride = 1])
-- @within nn: modules
function M.fold_public(...)
  local x, size, k, dilation, padding, stride = FOLD:parse(...)
  return M.fold("nn.functional.fold", x, size, k, dilation, padding, stride)
end

-- the functions nn.functional takes from this file, under their public names
M.functional = {
  conv1d = M.conv1d, conv2d = M.conv2d, conv_transpose1d = M.conv_transpose1d,
  conv_transpose2d = M.conv_transpose2d, pad = M.pad_public, unfold = M.unfold_public,
  fold = M.fold_public,
}

return M

--- Part of lucid.nn.functional; help() and `make doc` read these comments.
-- @module lucid.nn.functional

-- Resampling for lucid.nn.functional (merged in at the end of
-- functional.lua) and nn.Upsample: interpolate on the core's kernel
-- (core/pool.c, through lucid.core._interp; a 1-d resampling is a 2-d one
-- of height 1), affine_grid and grid_sample written with ops (their
-- gradients, to the input and to the grid, come from the ops' rules).
local lucid = require("lucid")
local C = require("lucid.core")
local args = require("lucid._args")
local raise, shape_str, describe = args.raise, args.shape_str, args.describe

local M = {}
local F = {}
M.F = F

-- nil, a number or a table of numbers (each checked by `check`)
local function number_or_table(what)
  return function(v, name)
    if v == nil then return nil end
    local t = type(v) == "table" and not C.is_tensor(v) and v or {v}
    for _, e in ipairs(t) do
      if type(e) ~= "number" or not (e > 0) then
        return string.format("%s must be a positive %s or a table of them, got %s", name, what,
          describe(type(v) == "table" and e or v))
      end
    end
    return nil, t
  end
end

local INTERP = args.schema("nn.functional.interpolate", {
  {"input", args.REQUIRED, "tensor"},
  {"size", nil, number_or_table("integer")},
  {"scale_factor", nil, number_or_table("number")},
  {"mode", "nearest", args.one_of("nearest", "linear", "bilinear", "bicubic", "trilinear", "area",
    "nearest-exact")},
  {"align_corners", nil, "boolean"},
  {"recompute_scale_factor", nil, "boolean"},
  {"antialias", false, args.not_true("antialiasing is not implemented")},
})

-- Expands a table of 1 value to dims values; raises unless it has dims.
local function per_dim(fname, name, t, dims)
  if #t == 1 then
    local v = t[1]
    t = {}
    for i = 1, dims do t[i] = v end
  end
  if #t ~= dims then
    raise("%s: %s must have %d elements for a %d-d input, got %d", fname, name, dims, dims + 2, #t)
  end
  return t
end

function M.interpolate(fname, x, size, scale_factor, mode, align_corners, recompute)
  local nd = x.ndim
  local linear = {linear = 3, bilinear = 4}
  if mode ~= "nearest" and mode ~= "area" and not linear[mode] then
    raise("%s: mode '%s' is not supported (nearest, linear, bilinear, area)", fname, mode)
  end
  if nd ~= 3 and nd ~= 4 then
    raise("%s: expected a 3-d {N, C, L} or 4-d {N, C, H, W} input, got %s", fname, shape_str(x))
  end
  if linear[mode] and linear[mode] ~= nd then
    raise("%s: got a %d-d input, but %s mode needs a %d-d one", fname, nd, mode, linear[mode])
  end
  if (mode == "nearest" or mode == "area") and align_corners ~= nil then
    raise("%s: align_corners can only be set with the interpolating modes linear and bilinear", fname)
  end
  if (size == nil) == (scale_factor == nil) then
    raise("%s: %s", fname, size == nil and "either size or scale_factor should be given"
      or "only one of size and scale_factor should be given")
  end
  local dims = nd - 2
  local s = x.shape
  local out, sf = {}, {0, 0}
  if size then
    size = per_dim(fname, "size", size, dims)
    for i = 1, dims do
      if args.int_of(size[i]) == nil then
        raise("%s: size must be positive integers, got %s", fname, describe(size[i]))
      end
      out[i] = size[i]
    end
  else
    scale_factor = per_dim(fname, "scale_factor", scale_factor, dims)
    for i = 1, dims do
      out[i] = math.floor(s[2 + i] * scale_factor[i])
      if out[i] < 1 then
        raise("%s: input %s and scale_factor %s give an empty output", fname, shape_str(x),
          tostring(scale_factor[i]))
      end
      if not recompute then sf[i] = scale_factor[i] end
    end
  end
  if mode == "area" then  -- PyTorch's "area" is an adaptive average pool to the size
    local pool = require("lucid.nn._pool").F
    if dims == 1 then return pool.adaptive_avg_pool1d(x, out[1]) end
    return pool.adaptive_avg_pool2d(x, {out[1], out[2]})
  end
  local kmode = mode == "nearest" and "nearest" or "linear"
  if dims == 1 then
    local y = C._interp(x:unsqueeze(-2), kmode, 1, out[1], align_corners, 0, sf[1], fname)
    return y:squeeze(-2)
  end
  return C._interp(x, kmode, out[1], out[2], align_corners, sf[1], sf[2], fname)
end

--- Resamples {N, C, L} (modes "nearest", "linear") or {N, C, H, W}
-- ("nearest", "bilinear") to size, or by scale_factor (the output size is
-- floor(in * scale_factor); without recompute_scale_factor the sampling
-- uses 1 / scale_factor, as PyTorch's), with align_corners (default false)
-- for the linear modes. PyTorch's "nearest" (floor of o * in / out); "area"
-- (either shape) is adaptive_avg_pool to the output size; antialias = true
-- is refused.
-- @function interpolate
-- @usage nn.functional.interpolate(input [, size, scale_factor, mode = "nearest", align_corners, recompute_scale_factor, antialias = false])
-- @within nn: modules
function F.interpolate(...)
  return M.interpolate("nn.functional.interpolate", INTERP:parse(...))
end

-- ---- affine_grid, grid_sample -------------------------------------------------------

-- The normalised coordinates of n points along a dim: -1 .. 1 through the
-- centres of the end pixels with align_corners, else their outer edges.
local function linspace(n, align_corners, dtype)
  local t = lucid.linspace(-1, 1, n, {dtype = dtype})
  if n == 1 then return lucid.zeros(1, {dtype = dtype}) end
  if not align_corners then t = t * ((n - 1) / n) end
  return t
end

local AFFINE = args.schema("nn.functional.affine_grid", {
  {"theta", args.REQUIRED, "tensor"},
  {"size", args.REQUIRED, "table"},
  {"align_corners", false, "boolean"},
})

--- The sampling grid {N, H, W, 2} of the 2-d affine maps theta {N, 2, 3}
-- for an output of size {N, C, H, W}, as PyTorch's affine_grid: each
-- output pixel's (x, y) in [-1, 1] (align_corners as grid_sample's) mapped
-- by theta. Gradients flow to theta.
-- @function affine_grid
-- @usage nn.functional.affine_grid(theta, size [, align_corners = false])
-- @within nn: modules
function F.affine_grid(...)
  local fname = "nn.functional.affine_grid"
  local theta, size, align = AFFINE:parse(...)
  if #size ~= 4 then
    raise("%s: size must be {N, C, H, W} (only 2-d grids), got %s", fname, shape_str(size))
  end
  local n, h, w = size[1], size[3], size[4]
  if theta.ndim ~= 3 or theta.shape[1] ~= n or theta.shape[2] ~= 2 or theta.shape[3] ~= 3 then
    raise("%s: theta %s must be {N, 2, 3} with N = %d", fname, shape_str(theta), n)
  end
  local dt = theta.dtype
  local xs = linspace(w, align, dt):reshape(1, w, 1):expand(h, w, 1)
  local ys = linspace(h, align, dt):reshape(h, 1, 1):expand(h, w, 1)
  local base = lucid.cat({xs, ys, lucid.ones(h, w, 1, {dtype = dt})}, 3):reshape(1, h * w, 3)
  -- (N, H W, 3) @ (N, 3, 2)
  return base:expand(n, h * w, 3):matmul(theta:transpose(2, 3)):reshape(n, h, w, 2)
end

local SAMPLE = args.schema("nn.functional.grid_sample", {
  {"input", args.REQUIRED, "tensor"},
  {"grid", args.REQUIRED, "tensor"},
  {"mode", "bilinear", args.one_of("bilinear", "nearest", "bicubic")},
  {"padding_mode", "zeros", args.one_of("zeros", "border", "reflection")},
  {"align_corners", false, "boolean"},
})

-- Normalised coordinates -> pixel coordinates along a dim of size n.
local function unnormalize(c, n, align)
  if align then return (c + 1) * ((n - 1) / 2) end
  return ((c + 1) * n - 1) / 2
end

-- PyTorch's reflect_coordinates: c reflected into [lo2 / 2, hi2 / 2].
local function reflect(c, lo2, hi2)
  if lo2 == hi2 then return c * 0 end
  local lo, span = lo2 / 2, (hi2 - lo2) / 2
  local d = (c - lo):abs()
  local extra = lucid.fmod(d, span)
  local flips = lucid.floor(d / span)
  local even = lucid.fmod(flips, 2):eq(0)
  return lucid.where(even, extra + lo, (extra * -1) + (span + lo))
end

-- Pixel coordinate along a dim of size n with the padding mode applied.
local function source(c, n, padding, align)
  c = unnormalize(c, n, align)
  if padding == "border" then
    c = c:clamp(0, n - 1)
  elseif padding == "reflection" then
    if align then c = reflect(c, 0, 2 * (n - 1)) else c = reflect(c, -1, 2 * n - 1) end
    c = c:clamp(0, n - 1)
  end
  return c
end

--- Samples input {N, C, H, W} at grid {N, Ho, Wo, 2} ((x, y) in [-1, 1],
-- -1 the left/top edge: the outer edge of the first pixel, or its centre
-- with align_corners), as PyTorch's grid_sample: mode "bilinear" or
-- "nearest" (halves round to even), padding_mode "zeros", "border" or
-- "reflection". The result is {N, C, Ho, Wo}; gradients flow to input and
-- (bilinear) to grid.
-- @function grid_sample
-- @usage nn.functional.grid_sample(input, grid [, mode = "bilinear", padding_mode = "zeros", align_corners = false])
-- @within nn: modules
function F.grid_sample(...)
  local fname = "nn.functional.grid_sample"
  local x, grid, mode, padding, align = SAMPLE:parse(...)
  if mode == "bicubic" then raise("%s: mode 'bicubic' is not supported (bilinear, nearest)", fname) end
  if x.ndim ~= 4 then raise("%s: expected a 4-d input {N, C, H, W}, got %s", fname, shape_str(x)) end
  local n, c, h, w = x.shape[1], x.shape[2], x.shape[3], x.shape[4]
  if grid.ndim ~= 4 or grid.shape[1] ~= n or grid.shape[4] ~= 2 then
    raise("%s: grid %s must be {N, Ho, Wo, 2} with the input's N (input %s)", fname, shape_str(grid),
      shape_str(x))
  end
  if grid.dtype ~= x.dtype then
    raise("%s: input and grid must share a dtype, got %s and %s", fname, x.dtype, grid.dtype)
  end
  local ho, wo = grid.shape[2], grid.shape[3]
  local m = ho * wo
  local gx = source(grid:select(4, 1):reshape(n, 1, m), w, padding, align)
  local gy = source(grid:select(4, 2):reshape(n, 1, m), h, padding, align)
  local plane = x:reshape(n, c, h * w)
  -- input's values at integer pixels (ix, iy) {N, 1, m}, zero outside
  local function at(ix, iy)
    local inside = ix:ge(0):logical_and(ix:le(w - 1)):logical_and(iy:ge(0)):logical_and(iy:le(h - 1))
    local flat = (iy:clamp(0, h - 1) * w + ix:clamp(0, w - 1)):long() + 1
    local v = plane:gather(3, flat:expand(n, c, m))
    return v * inside:to(x.dtype)
  end
  local out
  if mode == "nearest" then
    out = at(lucid.no_grad(function() return gx:detach():round() end),
      lucid.no_grad(function() return gy:detach():round() end))
  else
    local x0 = lucid.no_grad(function() return gx:detach():floor() end)
    local y0 = lucid.no_grad(function() return gy:detach():floor() end)
    local x1, y1 = x0 + 1, y0 + 1
    local wx1, wy1 = gx - x0, gy - y0
    local wx0, wy0 = (wx1 * -1) + 1, (wy1 * -1) + 1
    out = at(x0, y0) * (wx0 * wy0) + at(x1, y0) * (wx1 * wy0) + at(x0, y1) * (wx0 * wy1)
      + at(x1, y1) * (wx1 * wy1)
  end
  return out:reshape(n, c, ho, wo)
end

return M

--- Part of lucid.nn.functional; help() and `make doc` read these comments.
-- @module lucid.nn.functional

-- The pooling functions of lucid.nn.functional (merged in at the end of
-- functional.lua) and what the pooling layers share. The work is the core's
-- (core/pool.c, through lucid.core._pool2d): a 1-d pool is the 2-d one over
-- planes of height 1. Indices are int64 and 1-based, flat over each plane
-- (PyTorch's plus one), so F.max_unpool2d and MaxUnpool2d take them back.
local C = require("lucid.core")
local args = require("lucid._args")
local raise, shape_str, describe = args.raise, args.shape_str, args.describe

local M = {}

-- A check for a size option of a `dims`-d pool: a number, or a table of 1
-- or `dims` numbers (PyTorch's int or tuple); converts to an array of
-- `dims` integers, each at least `least`.
function M.sizes(dims, least)
  return function(v, name)
    local t = type(v) == "table" and not C.is_tensor(v) and v or {v}
    if #t == 1 and dims == 2 then t = {t[1], t[1]} end
    local bad = #t ~= dims
    local out = {}
    for i = 1, dims do
      local n = args.int_of(t[i])
      if n == nil or n < least then bad = true end
      out[i] = n
    end
    if bad then
      local what = least > 0 and "positive integer" or "non-negative integer"
      return string.format("%s must be a %s%s, got %s", name, what,
        dims == 2 and " or a table of two" or "", type(v) == "table" and "{" .. table.concat((function()
          local s = {}
          for i, e in ipairs(v) do s[i] = describe(e) end
          return s
        end)(), ", ") .. "}" or describe(v))
    end
    return nil, out
  end
end
local sizes = M.sizes

-- output_size of the adaptive pools: as sizes, but a false entry (PyTorch's
-- None) keeps that dim of the input.
function M.out_sizes(dims)
  return function(v, name)
    local t = type(v) == "table" and not C.is_tensor(v) and v or {v}
    if #t == 1 and dims == 2 then t = {t[1], t[1]} end
    local out, bad = {}, #t ~= dims
    for i = 1, dims do
      if t[i] == false then
        out[i] = false
      else
        local n = args.int_of(t[i])
        if n == nil or n < 0 then bad = true end
        out[i] = n
      end
    end
    if bad then
      return string.format("%s must be a non-negative integer%s, got %s", name,
        dims == 2 and " or a table of two (false keeps the input's size)" or "", describe(v))
    end
    return nil, out
  end
end
local out_sizes = M.out_sizes

function M.optional(check)
  return function(v, name)
    if v == nil then return nil end
    return check(v, name)
  end
end
local optional = M.optional

-- x as the core's 3-d or 4-d input: a 1-d pool's (N, C, L) or (C, L) gets a
-- plane height of 1. Raises unless x has `dims` + 1 or `dims` + 2 dims.
local function planes(fname, x, dims)
  args.tensor(fname, x)
  local nd = x.ndim
  if nd ~= dims + 1 and nd ~= dims + 2 then
    raise("%s: expected a %d-d or %d-d input (%s), got %s", fname, dims + 1, dims + 2,
      dims == 1 and "{C, L} or {N, C, L}" or "{C, H, W} or {N, C, H, W}", shape_str(x))
  end
  if dims == 1 then return x:unsqueeze(-2) end
  return x
end

-- The core's result back in the input's rank.
local function unplane(y, dims)
  if dims == 1 then return y:squeeze(-2) end
  return y
end

-- A size (defaults come unconverted: a number) as the core's (h, w).
local function pad2(v, dims, fill)
  if type(v) ~= "table" then v = {v, v} end
  if dims == 1 then return fill, v[1] end
  return v[1], v[2]
end

-- The max pools: y (and the 1-based indices when return_indices).
function M.max_pool(fname, dims, x, k, stride, padding, dilation, ceil_mode, return_indices)
  local x4 = planes(fname, x, dims)
  stride = stride or k
  local kh, kw = pad2(k, dims, 1)
  local sh, sw = pad2(stride, dims, 1)
  local ph, pw = pad2(padding, dims, 0)
  local dh, dw = pad2(dilation, dims, 1)
  local y, idx = C._pool2d(x4, "max", kh, kw, sh, sw, ph, pw, dh, dw, ceil_mode, false, 0, 0,
    true, 0, fname)
  y = unplane(y, dims)
  if not return_indices then return y end
  return y, unplane(idx, dims) + 1
end

function M.avg_pool(fname, dims, x, k, stride, padding, ceil_mode, count_include_pad, divisor)
  local x4 = planes(fname, x, dims)
  stride = stride or k
  local kh, kw = pad2(k, dims, 1)
  local sh, sw = pad2(stride, dims, 1)
  local ph, pw = pad2(padding, dims, 0)
  if divisor == 0 then raise("%s: divisor_override must not be 0", fname) end
  return unplane(C._pool2d(x4, "avg", kh, kw, sh, sw, ph, pw, 1, 1, ceil_mode, false, 0, 0,
    count_include_pad, divisor or 0, fname), dims)
end

function M.adaptive(fname, kind, dims, x, size, return_indices)
  local x4 = planes(fname, x, dims)
  local s = x4.shape
  local oh, ow = pad2(size, dims, 1)
  if oh == false then oh = s[#s - 1] end
  if ow == false then ow = s[#s] end
  local y, idx = C._pool2d(x4, kind, 1, 1, 1, 1, 0, 0, 1, 1, false, true, oh, ow, true, 0, fname)
  y = unplane(y, dims)
  if not return_indices then return y end
  return y, unplane(idx, dims) + 1
end

-- The inverse of a max pool: x's values at the indices (1-based, flat over
-- each output plane), zeros elsewhere (a repeated index keeps the last).
function M.max_unpool(fname, dims, x, indices, k, stride, padding, output_size)
  local x4 = planes(fname, x, dims)
  args.tensor(fname, indices, "indices")
  if indices.dtype ~= "int64" then
    raise("%s: indices must be an int64 tensor, got %s", fname, indices.dtype)
  end
  if shape_str(indices) ~= shape_str(x) then
    raise("%s: indices %s must have the input's shape %s", fname, shape_str(indices), shape_str(x))
  end
  stride = stride or k
  local s = x4.shape
  local nd = #s
  local oh, ow
  if output_size ~= nil then
    local o = type(output_size) == "table" and output_size or {output_size}
    if #o ~= dims and #o ~= dims + 2 then
      raise("%s: output_size must have %d or %d elements, got %d", fname, dims, dims + 2, #o)
    end
    if #o > dims then o = {o[#o - dims + 1], o[#o]} end
    if dims == 1 then oh, ow = 1, o[1] else oh, ow = o[1], o[2] end
  else
    if type(padding) ~= "table" then padding = {padding, padding} end
    local function default(i, d)
      return (s[nd - 2 + i] - 1) * stride[d] - 2 * padding[d] + k[d]
    end
    if dims == 1 then oh, ow = 1, default(2, 1) else oh, ow = default(1, 1), default(2, 2) end
  end
  for _, n in ipairs({oh, ow}) do
    if args.int_of(n) == nil or n < 1 then
      raise("%s: output size must be positive integers, got %s", fname, describe(n))
    end
  end
  return unplane(C._unpool2d(x4, planes(fname, indices, dims) - 1, oh, ow, fname), dims)
end

-- ---- the functional forms -------------------------------------------------------

local F = {}
M.F = F

local function max_schema(fname, dims)
  return args.schema(fname, {
    {"input", args.REQUIRED, "tensor"},
    {"kernel_size", args.REQUIRED, sizes(dims, 1)},
    {"stride", nil, optional(sizes(dims, 1))},
    {"padding", 0, sizes(dims, 0)},
    {"dilation", 1, sizes(dims, 1)},
    {"ceil_mode", false, "boolean"},
    {"return_indices", false, "boolean"},
  })
end

local MAX1, MAX2 = max_schema("nn.functional.max_pool1d", 1), max_schema("nn.functional.max_pool2d", 2)

--- Max pooling over the last dim of {N, C, L} or {C, L}: PyTorch's
-- max_pool1d, with stride (default kernel_size), padding (at most half the
-- kernel; padding never wins), dilation and ceil_mode (the last window must
-- start inside the input or the left padding). With return_indices, also
-- the int64 1-based positions of the maxima along L.
-- @function max_pool1d
-- @usage nn.functional.max_pool1d(input, kernel_size [, stride, padding = 0, dilation = 1, ceil_mode = false, return_indices = false])
-- @within nn: modules
function F.max_pool1d(...)
  return M.max_pool("nn.functional.max_pool1d", 1, MAX1:parse(...))
end

--- Max pooling over the last two dims of {N, C, H, W} or {C, H, W}, as
-- PyTorch's max_pool2d; sizes are a number or a table {h, w}. With
-- return_indices, a second result: int64 indices, 1-based and flat over
-- each plane ((h - 1) W + w), which max_unpool2d takes back.
-- @function max_pool2d
-- @usage nn.functional.max_pool2d(input, kernel_size [, stride, padding = 0, dilation = 1, ceil_mode = false, return_indices = false])
-- @within nn: modules
function F.max_pool2d(...)
  return M.max_pool("nn.functional.max_pool2d", 2, MAX2:parse(...))
end

local AVG1 = args.schema("nn.functional.avg_pool1d", {
  {"input", args.REQUIRED, "tensor"},
  {"kernel_size", args.REQUIRED, sizes(1, 1)},
  {"stride", nil, optional(sizes(1, 1))},
  {"padding", 0, sizes(1, 0)},
  {"ceil_mode", false, "boolean"},
  {"count_include_pad", true, "boolean"},
})
local AVG2 = args.schema("nn.functional.avg_pool2d", {
  {"input", args.REQUIRED, "tensor"},
  {"kernel_size", args.REQUIRED, sizes(2, 1)},
  {"stride", nil, optional(sizes(2, 1))},
  {"padding", 0, sizes(2, 0)},
  {"ceil_mode", false, "boolean"},
  {"count_include_pad", true, "boolean"},
  {"divisor_override", nil, optional(args.checks.integer)},
})

--- Average pooling over the last dim of {N, C, L} or {C, L}, as PyTorch's
-- avg_pool1d: zero padding counts in the divisor unless count_include_pad
-- is false.
-- @function avg_pool1d
-- @usage nn.functional.avg_pool1d(input, kernel_size [, stride, padding = 0, ceil_mode = false, count_include_pad = true])
-- @within nn: modules
function F.avg_pool1d(...)
  return M.avg_pool("nn.functional.avg_pool1d", 1, AVG1:parse(...))
end

--- Average pooling over the last two dims of {N, C, H, W} or {C, H, W}, as
-- PyTorch's avg_pool2d; divisor_override divides every window's sum by
-- that number instead.
-- @function avg_pool2d
-- @usage nn.functional.avg_pool2d(input, kernel_size [, stride, padding = 0, ceil_mode = false, count_include_pad = true, divisor_override])
-- @within nn: modules
function F.avg_pool2d(...)
  return M.avg_pool("nn.functional.avg_pool2d", 2, AVG2:parse(...))
end

local function adaptive_schema(fname, dims, indices)
  local e = {{"input", args.REQUIRED, "tensor"}, {"output_size", args.REQUIRED, out_sizes(dims)}}
  if indices then e[3] = {"return_indices", false, "boolean"} end
  return args.schema(fname, e)
end
local AAVG1 = adaptive_schema("nn.functional.adaptive_avg_pool1d", 1)
local AAVG2 = adaptive_schema("nn.functional.adaptive_avg_pool2d", 2)
local AMAX1 = adaptive_schema("nn.functional.adaptive_max_pool1d", 1, true)
local AMAX2 = adaptive_schema("nn.functional.adaptive_max_pool2d", 2, true)

--- Average pooling to a given output length: window i of L takes
-- floor((i-1) L / out) + 1 to ceil(i L / out), as PyTorch's adaptive_avg_pool1d.
-- @function adaptive_avg_pool1d
-- @usage nn.functional.adaptive_avg_pool1d(input, output_size)
-- @within nn: modules
function F.adaptive_avg_pool1d(...)
  local x, size = AAVG1:parse(...)
  return M.adaptive("nn.functional.adaptive_avg_pool1d", "avg", 1, x, size)
end

--- Average pooling to a given output size {oh, ow} (a number for both;
-- false keeps that dim's size), as PyTorch's adaptive_avg_pool2d.
-- @function adaptive_avg_pool2d
-- @usage nn.functional.adaptive_avg_pool2d(input, output_size)
-- @within nn: modules
function F.adaptive_avg_pool2d(...)
  local x, size = AAVG2:parse(...)
  return M.adaptive("nn.functional.adaptive_avg_pool2d", "avg", 2, x, size)
end

--- Max pooling to a given output length, as PyTorch's adaptive_max_pool1d;
-- with return_indices, also the 1-based positions of the maxima.
-- @function adaptive_max_pool1d
-- @usage nn.functional.adaptive_max_pool1d(input, output_size [, return_indices = false])
-- @within nn: modules
function F.adaptive_max_pool1d(...)
  local x, size, ri = AMAX1:parse(...)
  return M.adaptive("nn.functional.adaptive_max_pool1d", "max", 1, x, size, ri)
end

--- Max pooling to a given output size {oh, ow}, as PyTorch's
-- adaptive_max_pool2d; with return_indices, also the 1-based indices, flat
-- over each plane.
-- @function adaptive_max_pool2d
-- @usage nn.functional.adaptive_max_pool2d(input, output_size [, return_indices = false])
-- @within nn: modules
function F.adaptive_max_pool2d(...)
  local x, size, ri = AMAX2:parse(...)
  return M.adaptive("nn.functional.adaptive_max_pool2d", "max", 2, x, size, ri)
end

local function unpool_schema(fname, dims)
  return args.schema(fname, {
    {"input", args.REQUIRED, "tensor"},
    {"indices", args.REQUIRED, "tensor"},
    {"kernel_size", args.REQUIRED, sizes(dims, 1)},
    {"stride", nil, optional(sizes(dims, 1))},
    {"padding", 0, sizes(dims, 0)},
    {"output_size", nil, optional(args.checks.table)},
  })
end
local UNPOOL1 = unpool_schema("nn.functional.max_unpool1d", 1)
local UNPOOL2 = unpool_schema("nn.functional.max_unpool2d", 2)

--- The partial inverse of max_pool1d: input's values put back at indices
-- (as max_pool1d returned them, 1-based), zeros elsewhere; output_size
-- (default (L - 1) stride - 2 padding + kernel_size) picks among the sizes
-- that pool to L.
-- @function max_unpool1d
-- @usage nn.functional.max_unpool1d(input, indices, kernel_size [, stride, padding = 0, output_size])
-- @within nn: modules
function F.max_unpool1d(...)
  return M.max_unpool("nn.functional.max_unpool1d", 1, UNPOOL1:parse(...))
end

--- The partial inverse of max_pool2d: input's values put back at indices
-- (1-based, flat over each output plane), zeros elsewhere; output_size
-- {h, w} (or the input's full shape) defaults to (in - 1) stride - 2
-- padding + kernel_size per dim. Gradients flow to input.
-- @function max_unpool2d
-- @usage nn.functional.max_unpool2d(input, indices, kernel_size [, stride, padding = 0, output_size])
-- @within nn: modules
function F.max_unpool2d(...)
  return M.max_unpool("nn.functional.max_unpool2d", 2, UNPOOL2:parse(...))
end

-- ---- the layers -----------------------------------------------------------------

local unpack = require("lucid._compat").unpack

-- Module:reuse_buffers for the 2-d pools (an input of 3 or 4 dims, no
-- indices): the first call runs forward (the checked path) and keeps its
-- result and the core's arguments (core_args(self, x): _pool2d's kind and
-- the 14 values after it); later calls on the same shape write into that
-- result through _pool2d's out. nil when not reusing buffers (the caller
-- then runs forward as usual).
function M.reuse(self, x, forward, core_args)
  if not rawget(self, "_reuse") then return nil end
  -- _pool2d's arguments after x, the kept result last (its out)
  if self:_kept(x) then return C._pool2d(x, unpack(rawget(self, "_pool_args"), 1, 18)) end
  local y = forward(self, x)
  self:_keep(x, y)
  if rawequal(rawget(self, "_out"), y) then
    local a = core_args(self, x)
    a[16], a[17], a[18] = a.fname, y, a.plane1d
    rawset(self, "_pool_args", a)
  end
  return y
end

-- A size option as the layer keeps it (a number, or a table of 1 or 2) as (h, w).
local function two(v)
  if type(v) ~= "table" then return v, v end
  if #v == 1 then return v[1], v[1] end
  return v[1], v[2]
end

-- The core's arguments of a 2-d pooling layer (M.reuse).
function M.max_args(self)
  local kh, kw = two(self.kernel_size)
  local sh, sw = two(self.stride)
  local ph, pw = two(self.padding)
  local dh, dw = two(self.dilation)
  return {"max", kh, kw, sh, sw, ph, pw, dh, dw, self.ceil_mode, false, 0, 0, true, 0,
    fname = "nn.MaxPool2d"}
end

function M.avg_args(self)
  local kh, kw = two(self.kernel_size)
  local sh, sw = two(self.stride)
  local ph, pw = two(self.padding)
  return {"avg", kh, kw, sh, sw, ph, pw, 1, 1, self.ceil_mode, false, 0, 0, self.count_include_pad,
    self.divisor_override or 0, fname = "nn.AvgPool2d"}
end

-- The same for the 1-d pools (batched input only): the core's planes of
-- height 1, x and the result taken as such views by _pool2d (plane1d).
local function one(v)
  if type(v) == "table" then return v[1] end
  return v
end

function M.max1_args(self)
  return {"max", 1, one(self.kernel_size), 1, one(self.stride), 0, one(self.padding), 1, one(self.dilation),
    self.ceil_mode, false, 0, 0, true, 0, fname = "nn.MaxPool1d", plane1d = true}
end

function M.avg1_args(self)
  return {"avg", 1, one(self.kernel_size), 1, one(self.stride), 0, one(self.padding), 1, 1, self.ceil_mode,
    false, 0, 0, self.count_include_pad, 0, fname = "nn.AvgPool1d", plane1d = true}
end

function M.adaptive1_args(kind, name)
  return function(self, x)
    local ow = one(self.output_size)
    if ow == false or ow == nil then ow = x:size(-1) end
    return {kind, 1, 1, 1, 1, 0, 0, 1, 1, false, true, 1, ow, true, 0, fname = name, plane1d = true}
  end
end

function M.adaptive_args(kind, name)
  return function(self, x)
    local oh, ow = two(self.output_size)
    if oh == false or oh == nil then oh = x:size(-2) end
    if ow == false or ow == nil then ow = x:size(-1) end
    return {kind, 1, 1, 1, 1, 0, 0, 1, 1, false, true, oh, ow, true, 0, fname = name}
  end
end

-- A value of a layer's repr: "2" or "(2, 3)", as PyTorch prints an int or a
-- tuple; booleans and nil as Lua writes them.
local function repr_value(v)
  if type(v) ~= "table" then return tostring(v) end
  local s = {}
  for i, e in ipairs(v) do s[i] = tostring(e) end
  return "(" .. table.concat(s, ", ") .. ")"
end

-- layer(name, entries, forward): a pooling layer nn.<name> whose options
-- are the schema entries (PyTorch's constructor order), kept as given (a
-- stride left out is the kernel_size, as PyTorch keeps it), with forward(self,
-- x, ...) and a repr listing every option.
function M.layer(name, entries, forward)
  local nn = require("lucid.nn")
  local L = nn.Module:extend(name)
  L.schema = args.schema("nn." .. name, entries)
  function L:__init(...)
    L.schema:table(...)  -- checks every option
    local given = L.schema:given(...)
    for _, e in ipairs(entries) do
      local v = given[e[1]]
      if v == nil then v = args.copy(e[2]) end
      self[e[1]] = v
    end
    if self.stride == nil and self.kernel_size ~= nil then self.stride = self.kernel_size end
  end
  L.forward = forward
  function L:extra_repr()
    local parts = {}
    for _, e in ipairs(entries) do
      local v = self[e[1]]
      if v ~= nil or e[1] ~= "divisor_override" then
        parts[#parts + 1] = e[1] .. "=" .. repr_value(v)
      end
    end
    return table.concat(parts, ", ")
  end
  return L
end

return M

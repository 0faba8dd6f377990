--- Part of lucid; help() and `make doc` read these comments.
-- @module lucid

-- Ops PyTorch has that are compositions of the core's: triangles and
-- diagonals, rolls and rotations, moving and splitting dims, stacking,
-- grids, repeats, cross and Kronecker products, tensordot, the batched
-- add-products, einsum and cumprod. Each checks its arguments (errors name
-- the function and the shapes), then calls only ops that record gradients
-- (permute, reshape, slice, narrow, cat, masked_fill, index_select, mul,
-- sum, matmul, ...), so autograd comes for free and integer dtypes work
-- wherever the ops underneath take them.
--
-- The module returns {methods = ..., functions = ...}: lucid/init.lua makes
-- the first both lucid.f and t:f, the second (whose first argument is a list
-- or an equation, as cat's) lucid.f only.
local args = require("lucid._args")
local C = require("lucid.core")
local compat = require("lucid._compat")

local raise, shape_str, int_of = args.raise, args.shape_str, args.int_of
local describe, is_names = args.describe, args.is_names
local unpack = compat.unpack
local REQUIRED = args.REQUIRED

local methods, functions = {}, {}

-- ---- helpers ----------------------------------------------------------------------

-- the largest count a double holds exactly (sizes are doubles on Lua 5.1)
local MAX_EXACT = 2 ^ 53
local INTEGER_DTYPES = {int64 = true, int32 = true, uint8 = true, bool = true}

-- d (1-based, negative from the end) as 1..nd, or an error naming fname and
-- `what` ("dim1") against `where` (a shape, or the result's rank)
local function wrap_dim(fname, what, d, nd, where)
  local w = d < 0 and d + nd + 1 or d
  if w < 1 or w > nd then
    if nd == 0 then
      raise("lucid.%s: %s %d is out of range for %s, which has no dimensions", fname, what, d, where)
    end
    raise("lucid.%s: %s %d is out of range for %s (expected 1..%d or -%d..-1)", fname, what, d, where, nd, nd)
  end
  return w
end

-- schema checks: an integer or an array of integers (as an array)
local function int_or_list(v, name)
  local i = int_of(v)
  if i ~= nil then return nil, {i} end
  if type(v) == "table" and not C.is_tensor(v) and getmetatable(v) == nil then
    local out = {}
    for k, e in ipairs(v) do
      out[k] = int_of(e)
      if out[k] == nil then return name .. " must hold integers, got " .. describe(e) end
    end
    return nil, out
  end
  return name .. " must be an integer or a table of integers, got " .. describe(v)
end

-- a Lua array of tensors (a list, as cat takes)
local function tensor_list(v, name)
  if type(v) ~= "table" or C.is_tensor(v) then
    return name .. " must be a table of tensors, got " .. describe(v)
  end
  local n = 0
  for i, t in ipairs(v) do
    if not C.is_tensor(t) then return string.format("%s[%d] must be a tensor, got %s", name, i, describe(t)) end
    n = i
  end
  if #v ~= n then  -- holes, or a __len that does not count the entries
    return string.format("%s must be a list of tensors (entries 1..%d), but its length is %s", name, n,
      tostring(#v))
  end
end

local DTYPE_NAMES = {"float32", "float64", "int64", "int32", "uint8", "bool", "float", "double", "long", "int"}

-- the (read-only) set of a list's values
local function set_of(list)
  local s = {}
  for _, v in ipairs(list) do s[v] = true end
  return s
end

local function prod(list)
  local n = 1
  for _, v in ipairs(list) do n = n * v end
  return n
end

-- a new array: list with `value` at position `at` replaced
local function with(list, at, value)
  local out = {}
  for i, v in ipairs(list) do out[i] = v end
  out[at] = value
  return out
end

-- the permutation that moves the dims `src` to the places `dst` (both of
-- 1..nd, without repeats), the others keeping their order
local function move_perm(nd, src, dst)
  local perm, taken, placed = {}, {}, {}
  for i = 1, #src do
    perm[dst[i]] = src[i]
    taken[src[i]] = true
    placed[dst[i]] = true
  end
  local rest = 1
  for pos = 1, nd do
    if not placed[pos] then
      while taken[rest] do rest = rest + 1 end
      perm[pos] = rest
      rest = rest + 1
    end
  end
  return perm
end

-- shapes a and b broadcast together (NumPy's rule), or nil
local function broadcast_shapes(a, b)
  local n = math.max(#a, #b)
  local out = {}
  for i = 1, n do
    local x, y = a[#a - n + i] or 1, b[#b - n + i] or 1
    if x ~= y and x ~= 1 and y ~= 1 then return nil end
    out[i] = x == 1 and y or x
  end
  return out
end

-- whether a tensor of shape s broadcasts to exactly `target`
local function broadcasts_to(s, target)
  if #s > #target then return false end
  for i = 1, #s do
    local x, y = s[i], target[#target - #s + i]
    if x ~= y and x ~= 1 then return false end
  end
  return true
end

-- ---- triangles --------------------------------------------------------------------

local function triangle(fname, lower)
  local S = args.schema("lucid." .. fname, {
    {"input", REQUIRED, "tensor"}, {"diagonal", 0, "integer"},
    unsupported = {"out"},
  })
  return function(...)
    local x, k = S:parse(...)
    local s = x.shape
    if #s < 2 then
      raise("lucid.%s: input must have at least 2 dimensions, got shape %s", fname, shape_str(s))
    end
    local n, m = s[#s - 1], s[#s]
    -- column - row of every element of the last two dims
    local offset = C.arange(m, {dtype = "int64"}):reshape(1, m) - C.arange(n, {dtype = "int64"}):reshape(n, 1)
    return x:masked_fill(lower and offset:gt(k) or offset:lt(k), 0)
  end
end

--- The lower triangle of the last two dims: the elements on and below the
-- diagonal-th diagonal (0 the main one, positive above it, negative below),
-- the others 0, as torch.tril. Batches of matrices and every dtype work.
-- @function tril
-- @usage t:tril([diagonal])  or  lucid.tril(input [, diagonal])
-- @within Shapes and indexing
methods.tril = triangle("tril", true)

--- The upper triangle of the last two dims: the elements on and above the
-- diagonal-th diagonal, the others 0, as torch.triu.
-- @function triu
-- @usage t:triu([diagonal])  or  lucid.triu(input [, diagonal])
-- @within Shapes and indexing
methods.triu = triangle("triu", false)

-- ---- diagonals --------------------------------------------------------------------

-- The offset-th diagonal of dims d1 and d2 (1..nd, different), appended as
-- the last dim: the two dims go last and are flattened into one (a view when
-- the strides allow, as reshape), then every (m + 1)-th element is sliced.
local function diagonal_of(x, offset, d1, d2)
  local s = x.shape
  local nd = #s
  local perm, lead = {}, {}
  for d = 1, nd do
    if d ~= d1 and d ~= d2 then
      perm[#perm + 1] = d
      lead[#lead + 1] = s[d]
    end
  end
  perm[#perm + 1], perm[#perm + 2] = d1, d2
  local n, m = s[d1], s[d2]
  local len = offset >= 0 and math.min(n, m - offset) or math.min(n + offset, m)
  if len < 0 then len = 0 end
  local flat = x:permute(perm):reshape(with(lead, #lead + 1, n * m))
  if len == 0 then return flat:narrow(-1, 1, 0) end
  local start = offset >= 0 and offset + 1 or (-offset) * m + 1
  return flat:slice(-1, start, start + (len - 1) * (m + 1), m + 1)
end

local DIAGONAL = args.schema("lucid.diagonal", {
  {"input", REQUIRED, "tensor"}, {"offset", 0, "integer"}, {"dim1", 1, "integer"}, {"dim2", 2, "integer"},
})

--- The offset-th diagonal (0 the main one, positive above it, negative below)
-- of the matrices that dims dim1 and dim2 hold: those two dims go, and the
-- diagonal becomes the last dim, as torch.diagonal. A view when the two dims
-- can be flattened without a copy (as reshape), else a copy; gradients flow
-- either way.
-- @function diagonal
-- @usage t:diagonal([offset [, dim1 [, dim2]]])  or  lucid.diagonal(input, {offset = 0, dim1 = 1, dim2 = 2})
-- @within Shapes and indexing
function methods.diagonal(...)
  local x, offset, d1, d2 = DIAGONAL:parse(...)
  local s = x.shape
  local where = "shape " .. shape_str(s)
  d1 = wrap_dim("diagonal", "dim1", d1, #s, where)
  d2 = wrap_dim("diagonal", "dim2", d2, #s, where)
  if d1 == d2 then
    raise("lucid.diagonal: dim1 and dim2 are both dimension %d of shape %s; they must differ", d1, shape_str(s))
  end
  return diagonal_of(x, offset, d1, d2)
end

-- (..., n) -> (..., N, N) with N = n + |offset|, the values on the offset-th
-- diagonal of the last two dims, then those two moved to d1 and d2 (of the
-- result's nd + 1 dims)
local function embed(x, offset, d1, d2)
  local s = x.shape
  local nd = #s
  local n = s[nd]
  local lead = {}
  for i = 1, nd - 1 do lead[i] = s[i] end
  local function sized(...)  -- lead dims, then these
    local out = {unpack(lead)}
    for _, v in ipairs({...}) do out[#out + 1] = v end
    return out
  end
  local off_diag = C.eye(n, {dtype = "bool"}):logical_not()
  local m = x:unsqueeze(-1):expand(sized(n, n)):masked_fill(off_diag, 0)
  local k, N = math.abs(offset), n + math.abs(offset)
  if offset > 0 then
    m = C.cat({C.zeros(sized(n, k), {dtype = x.dtype}), m}, -1)
    m = C.cat({m, C.zeros(sized(k, N), {dtype = x.dtype})}, -2)
  elseif offset < 0 then
    m = C.cat({C.zeros(sized(k, n), {dtype = x.dtype}), m}, -2)
    m = C.cat({m, C.zeros(sized(N, k), {dtype = x.dtype})}, -1)
  end
  if d1 == nd and d2 == nd + 1 then return m end
  return m:permute(move_perm(nd + 1, {nd, nd + 1}, {d1, d2}))
end

local DIAG_EMBED = args.schema("lucid.diag_embed", {
  {"input", REQUIRED, "tensor"}, {"offset", 0, "integer"}, {"dim1", -2, "integer"}, {"dim2", -1, "integer"},
})

--- Matrices with the last dim of input on their offset-th diagonal (zeros
-- elsewhere), as torch.diag_embed: (..., n) gives (..., n + |offset|,
-- n + |offset|), the two new dims at dim1 and dim2 of the result (-2 and -1
-- by default). The inverse of diagonal.
-- @function diag_embed
-- @usage t:diag_embed([offset [, dim1 [, dim2]]])  or  lucid.diag_embed(input, {offset = 0, dim1 = -2, dim2 = -1})
-- @within Shapes and indexing
function methods.diag_embed(...)
  local x, offset, d1, d2 = DIAG_EMBED:parse(...)
  local nd = x.ndim
  if nd == 0 then raise("lucid.diag_embed: input must have at least 1 dimension, got shape {}") end
  local where = string.format("the result's %d dimensions", nd + 1)
  d1 = wrap_dim("diag_embed", "dim1", d1, nd + 1, where)
  d2 = wrap_dim("diag_embed", "dim2", d2, nd + 1, where)
  if d1 == d2 then
    raise("lucid.diag_embed: dim1 and dim2 are both dimension %d of the result; they must differ", d1)
  end
  return embed(x, offset, d1, d2)
end

local DIAG = args.schema("lucid.diag", {
  {"input", REQUIRED, "tensor"}, {"diagonal", 0, "integer"},
  unsupported = {"out"},
})

--- A 1-D input becomes a square matrix with it on the diagonal-th diagonal (0
-- the main one, positive above it); a 2-D input gives its diagonal-th
-- diagonal as a 1-D tensor, as torch.diag.
-- @function diag
-- @usage t:diag([diagonal])  or  lucid.diag(input [, diagonal])
-- @within Shapes and indexing
function methods.diag(...)
  local x, k = DIAG:parse(...)
  if x.ndim == 1 then return embed(x, k, 1, 2) end
  if x.ndim == 2 then return diagonal_of(x, k, 1, 2) end
  raise("lucid.diag: input must be 1-D or 2-D, got shape %s", shape_str(x))
end

local TRACE = args.schema("lucid.trace", {{"input", REQUIRED, "tensor"}})

--- The sum of the main diagonal of a 2-D tensor, 0-d (int64 for integer
-- inputs, as sum), as torch.trace.
-- @function trace
-- @usage t:trace()  or  lucid.trace(input)
-- @within Linear algebra
function methods.trace(...)
  local x = TRACE:parse(...)
  if x.ndim ~= 2 then raise("lucid.trace: input must be 2-D, got shape %s", shape_str(x)) end
  return diagonal_of(x, 0, 1, 2):sum()
end

-- ---- rolls, rotations, moved dims ---------------------------------------------------

-- x rolled by `shift` along dim d (1..nd): always a new tensor
local function roll1(x, shift, d)
  local n = x.shape[d]
  if n == 0 then return x:clone() end
  shift = shift % n  -- Lua's % floors: 0..n-1 for either sign
  if shift == 0 then return x:clone() end
  return C.cat({x:narrow(d, n - shift + 1, shift), x:narrow(d, 1, n - shift)}, d)
end

local ROLL = args.schema("lucid.roll", {
  {"input", REQUIRED, "tensor"}, {"shifts", REQUIRED, int_or_list}, {"dims", nil, int_or_list},
})

--- Rolls the elements along dims: the element at position i moves to
-- i + shift (wrapping around), as torch.roll. shifts and dims are a number
-- or tables of the same length; without dims, the flattened tensor rolls by
-- one shift and takes input's shape back. A copy.
-- @function roll
-- @usage t:roll(shifts [, dims])  or  lucid.roll(input, {1, -2}, {1, 2})
-- @within Shapes and indexing
function methods.roll(...)
  local x, shifts, dims = ROLL:parse(...)
  local s = x.shape
  if dims == nil then
    if #shifts ~= 1 then
      raise("lucid.roll: without dims, shifts must be one number, got %d of them", #shifts)
    end
    return roll1(x:reshape(-1), shifts[1], 1):reshape(s)
  end
  if #shifts ~= #dims then
    raise("lucid.roll: shifts and dims must have the same length, got %d shifts and %d dims", #shifts, #dims)
  end
  if #dims == 0 then raise("lucid.roll: shifts must not be empty") end
  local where = "shape " .. shape_str(s)
  for i, d in ipairs(dims) do
    x = roll1(x, shifts[i], wrap_dim("roll", "dimension", d, #s, where))
  end
  return x
end

local ROT90 = args.schema("lucid.rot90", {
  {"input", REQUIRED, "tensor"}, {"k", 1, "integer"}, {"dims", {1, 2}, int_or_list},
})

--- Rotates by 90 degrees k times in the plane of dims (1 and 2 by default),
-- from the first towards the second, as torch.rot90 (k may be negative). A
-- copy.
-- @function rot90
-- @usage t:rot90([k [, dims]])  or  lucid.rot90(input, {k = 1, dims = {1, 2}})
-- @within Shapes and indexing
function methods.rot90(...)
  local x, k, dims = ROT90:parse(...)
  local s = x.shape
  if #dims ~= 2 then raise("lucid.rot90: dims must hold 2 dimensions, got %d", #dims) end
  if #s < 2 then raise("lucid.rot90: input must have at least 2 dimensions, got shape %s", shape_str(s)) end
  local where = "shape " .. shape_str(s)
  local d1 = wrap_dim("rot90", "dimension", dims[1], #s, where)
  local d2 = wrap_dim("rot90", "dimension", dims[2], #s, where)
  if d1 == d2 then raise("lucid.rot90: dims must be two different dimensions, got %d and %d", dims[1], dims[2]) end
  k = k % 4
  if k == 1 then return x:flip(d2):transpose(d1, d2) end
  if k == 2 then return x:flip(d1, d2) end
  if k == 3 then return x:flip(d1):transpose(d1, d2) end
  return x:clone()
end

local function make_movedim(fname)
  local S = args.schema("lucid." .. fname, {
    {"input", REQUIRED, "tensor"}, {"source", REQUIRED, int_or_list}, {"destination", REQUIRED, int_or_list},
  })
  return function(...)
    local x, src, dst = S:parse(...)
    local s = x.shape
    if #src ~= #dst then
      raise("lucid.%s: source and destination must have the same length, got %d and %d dims", fname, #src, #dst)
    end
    local where = "shape " .. shape_str(s)
    for _, list in ipairs({{src, "source"}, {dst, "destination"}}) do
      local seen = {}
      for i, d in ipairs(list[1]) do
        local w = wrap_dim(fname, list[2] .. " dimension", d, #s, where)
        if seen[w] then raise("lucid.%s: dimension %d appears twice in %s", fname, w, list[2]) end
        seen[w], list[1][i] = true, w
      end
    end
    return x:permute(move_perm(#s, src, dst))
  end
end

--- Moves the dims source (a number or a table) to the positions destination,
-- the other dims keeping their order, as torch.movedim: a view (a permute).
-- @function movedim
-- @usage t:movedim(source, destination)  or  lucid.movedim(input, {1, 2}, {-1, 1})
-- @within Shapes and indexing
-- @aka lucid.moveaxis
methods.movedim = make_movedim("movedim")
methods.moveaxis = make_movedim("moveaxis")

local UNBIND = args.schema("lucid.unbind", {{"input", REQUIRED, "tensor"}, {"dim", 1, "integer"}})

--- The slices along dim (1 by default), each without that dim, as multiple
-- results (PyTorch's tuple), as torch.unbind: views.
-- @function unbind
-- @usage local a, b, c = t:unbind([dim])  or  lucid.unbind(input, {dim = 2})
-- @within Shapes and indexing
function methods.unbind(...)
  local x, d = UNBIND:parse(...)
  local s = x.shape
  d = wrap_dim("unbind", "dimension", d, #s, "shape " .. shape_str(s))
  local out = {}
  for i = 1, s[d] do out[i] = x:select(d, i) end
  return unpack(out, 1, s[d])
end

-- ---- stacking ---------------------------------------------------------------------

local function at_least(x, nd)
  local s = x.shape
  if #s >= nd then return x end
  if nd == 1 or #s == 0 then
    local one = {}
    for i = 1, nd do one[i] = 1 end
    return x:reshape(one)
  end
  if nd == 2 then return x:unsqueeze(1) end       -- (n) -> (1, n)
  if #s == 1 then return x:reshape(1, s[1], 1) end -- (n) -> (1, n, 1)
  return x:unsqueeze(3)                             -- (m, n) -> (m, n, 1)
end

-- cat of tensors raised to at least nd dims along dim `along` (nil: 1 when
-- they are 1-D, else 2, hstack's rule), shapes checked under fname
local function stack_as(fname, nd, along)
  local S = args.schema("lucid." .. fname, {
    {"tensors", REQUIRED, tensor_list, table_arg = true},
    unsupported = {"out"},
  })
  return function(...)
    local list = S:parse(...)
    if #list == 0 then raise("lucid.%s: tensors must not be empty", fname) end
    local ts = {}
    for i, t in ipairs(list) do ts[i] = at_least(t, nd) end
    local dim = along or (ts[1].ndim == 1 and 1 or 2)
    local first = ts[1].shape
    for i = 2, #ts do
      local s = ts[i].shape
      local ok = #s == #first
      for d = 1, #s do
        if d ~= dim and s[d] ~= first[d] then ok = false end
      end
      if not ok then
        raise("lucid.%s: tensor %d has shape %s (as %s), expected %s except in dimension %d", fname, i,
          shape_str(list[i]), shape_str(s), shape_str(first), dim)
      end
    end
    return C.cat(ts, dim)
  end
end

--- Joins tensors side by side, as torch.hstack: 1-D ones end to end, others
-- along dim 2 (0-d ones count as 1-D). A copy.
-- @function hstack
-- @usage lucid.hstack(tensors)  e.g.  lucid.hstack({a, b})
-- @within Shapes and indexing
functions.hstack = stack_as("hstack", 1)

--- Stacks tensors as rows, as torch.vstack: along dim 1 after making each at
-- least 2-D (1-D (n) as (1, n)). A copy.
-- @function vstack
-- @usage lucid.vstack(tensors)  e.g.  lucid.vstack({a, b})
-- @within Shapes and indexing
functions.vstack = stack_as("vstack", 2, 1)

--- Stacks tensors in depth, as torch.dstack: along dim 3 after making each at
-- least 3-D ((n) as (1, n, 1), (m, n) as (m, n, 1)). A copy.
-- @function dstack
-- @usage lucid.dstack(tensors)  e.g.  lucid.dstack({a, b})
-- @within Shapes and indexing
functions.dstack = stack_as("dstack", 3, 3)

-- tensors given as varargs or as one array; checked to be tensors
local function tensors_of(fname, ...)
  local list = {...}
  local n = select("#", ...)
  if n == 1 and type(list[1]) == "table" and not C.is_tensor(list[1]) then
    list = list[1]
    n = #list
  end
  if n == 0 then raise("lucid.%s: expected at least one tensor", fname) end
  for i = 1, n do
    if not C.is_tensor(list[i]) then
      raise("lucid.%s: argument %d must be a tensor, got %s", fname, i, describe(list[i]))
    end
  end
  return list, n
end

local MESHGRID = args.schema("lucid.meshgrid", {
  {"indexing", "ij", args.one_of("ij", "xy"), keyword = true},
})

-- the grids of 0-d or 1-D tensors (checked), "ij" indexing
local function grids(fname, list, n)
  local shape = {}
  for i = 1, n do
    local t = list[i]
    if t.ndim > 1 then
      raise("lucid.%s: tensor %d must be 0-d or 1-D, got shape %s", fname, i, shape_str(t))
    end
    if t.dtype ~= list[1].dtype then
      raise("lucid.%s: tensors must have the same dtype, got %s and %s", fname, list[1].dtype, t.dtype)
    end
    shape[i] = t:numel()
  end
  local out = {}
  for i = 1, n do
    local one = {}
    for j = 1, n do one[j] = 1 end
    one[i] = shape[i]
    out[i] = list[i]:reshape(one):expand(shape)
  end
  return out
end

--- Coordinate grids from 0-d or 1-D tensors of one dtype (varargs or one
-- table), one result per tensor, all of shape (n1, n2, ...), as
-- torch.meshgrid. indexing "ij" (the default, matrix indexing) or "xy"
-- (Cartesian: the first two dims swapped). Views (expanded).
-- @function meshgrid
-- @usage local xs, ys = lucid.meshgrid(x, y [, {indexing = "ij"}])  or  lucid.meshgrid({x, y}, {indexing = "xy"})
-- @within Shapes and indexing
function functions.meshgrid(...)
  local n = select("#", ...)
  local opts
  local last = select(n > 0 and n or 1, ...)
  if n > 0 and is_names(last) and not (n == 1 and next(last) == nil) then
    opts = MESHGRID:table(last)
    n = n - 1
  else
    opts = MESHGRID:table()
  end
  local all = {...}
  local list
  list, n = tensors_of("meshgrid", unpack(all, 1, n))
  local xy = opts.indexing == "xy" and n >= 2
  if xy then list = with(with(list, 1, list[2]), 2, list[1]) end
  local out = grids("meshgrid", list, n)
  if xy then out[1], out[2] = out[2], out[1] end
  return unpack(out, 1, n)
end

--- The Cartesian product of 1-D tensors of one dtype (varargs or one table):
-- an (n1 * n2 * ..., k) tensor whose rows are every combination, in the order
-- of nested loops, as torch.cartesian_prod (one tensor comes back as itself).
-- @function cartesian_prod
-- @usage lucid.cartesian_prod(a, b, ...)  or  lucid.cartesian_prod({a, b})
-- @within Shapes and indexing
function functions.cartesian_prod(...)
  local list, n = tensors_of("cartesian_prod", ...)
  for i = 1, n do
    if list[i].ndim ~= 1 then
      raise("lucid.cartesian_prod: tensor %d must be 1-D, got shape %s", i, shape_str(list[i]))
    end
  end
  if n == 1 then return list[1] end
  local g = grids("cartesian_prod", list, n)
  for i = 1, n do g[i] = g[i]:reshape(-1) end
  return C.stack(g, 2)
end

-- ---- repeats ----------------------------------------------------------------------

-- repeats: an integer, an integer tensor (0-d or 1-D) or a Lua array of them
local function repeats_check(v, name)
  if int_of(v) ~= nil then return nil, int_of(v) end
  if C.is_tensor(v) then
    if v.ndim > 1 then return name .. " must be 0-d or 1-D, got shape " .. shape_str(v) end
    if v.dtype == "bool" then return name .. " must hold integers, got a bool tensor" end
    return
  end
  if type(v) == "table" and getmetatable(v) == nil then
    for _, e in ipairs(v) do
      if int_of(e) == nil then return name .. " must hold integers, got " .. describe(e) end
    end
    return
  end
  return name .. " must be an integer, an integer tensor or a table of integers, got " .. describe(v)
end

local REPEAT_INTERLEAVE = args.schema("lucid.repeat_interleave", {
  {"input", REQUIRED, "tensor"}, {"repeats", nil, repeats_check}, {"dim", nil, "integer"},
  {"output_size", nil, "size", keyword = true},
})

--- Repeats each element (or each slice along dim) repeats times, as
-- torch.repeat_interleave: repeats is a number, or one count per slice (an
-- integer tensor or a Lua array; one value applies to all). Without dim, the
-- flattened input is repeated and the result is 1-D. output_size, when given,
-- must be the result's size along dim. With no repeats, input holds counts and
-- the result is the 1-based positions repeated that often (int64): {1, 2, 0, 1}
-- gives {1, 2, 2, 4}.
-- @function repeat_interleave
-- @usage t:repeat_interleave(repeats [, dim [, {output_size =}]])  or  lucid.repeat_interleave(input, repeats, {dim = 1})
-- @within Shapes and indexing
function methods.repeat_interleave(...)
  local x, repeats, dim, output_size = REPEAT_INTERLEAVE:parse(...)
  local counts, d
  if repeats == nil then  -- x holds the counts
    if dim ~= nil then raise("lucid.repeat_interleave: dim needs repeats") end
    if x.ndim ~= 1 then raise("lucid.repeat_interleave: repeats must be 1-D, got shape %s", shape_str(x)) end
    counts = x:tolist()
  else
    if dim == nil then
      x, d = x:reshape(-1), 1
    else
      d = wrap_dim("repeat_interleave", "dimension", dim, x.ndim, "shape " .. shape_str(x))
    end
    counts = type(repeats) == "number" and {repeats}
      or C.is_tensor(repeats) and repeats:reshape(-1):tolist() or repeats
    local s = x.shape
    local n = s[d]
    if #counts == 1 then  -- one count for every slice: a view, expanded, then reshaped
      local r = int_of(counts[1])
      if r == nil then raise("lucid.repeat_interleave: repeats must hold integers, got %s", describe(counts[1])) end
      if r < 0 then raise("lucid.repeat_interleave: repeats must not be negative, got %d", r) end
      if n > 0 and r > MAX_EXACT / n then
        raise("lucid.repeat_interleave: %d slices repeated %d times are more than 2^53 elements", n, r)
      end
      if output_size ~= nil and output_size ~= n * r then
        raise("lucid.repeat_interleave: output_size is %d, but the result has %d along dimension %d",
          output_size, n * r, d)
      end
      -- (..., n, ...) -> (..., n, r, ...) -> (..., n * r, ...)
      local expanded = with(s, d, n)
      table.insert(expanded, d + 1, r)
      return args.make("lucid.repeat_interleave", "result", function()
        return x:unsqueeze(d + 1):expand(expanded):reshape(with(s, d, n * r))
      end)
    end
    if #counts ~= n then
      raise("lucid.repeat_interleave: repeats has %d values but input has size %d in dimension %d (shape %s)",
        #counts, n, d, shape_str(s))
    end
  end
  -- Slice i fills the positions from ends[i - 1] to ends[i] - 1 (0-based), so
  -- the slice of position p is the number of ends <= p, plus one: the index
  -- is built by C kernels (a Lua table of total entries would be slow and
  -- would live outside the tensor allocator's accounting and limits).
  local ints, total = {}, 0
  for i, v in ipairs(counts) do
    local c = int_of(v)
    if c == nil then raise("lucid.repeat_interleave: repeats must hold integers, got %s", describe(v)) end
    if c < 0 then raise("lucid.repeat_interleave: repeats must not be negative, got %d", c) end
    if c > MAX_EXACT - total then
      raise("lucid.repeat_interleave: the repeats add up to more than 2^53 elements")
    end
    ints[i], total = c, total + c
  end
  if output_size ~= nil and output_size ~= total then
    raise("lucid.repeat_interleave: output_size is %d, but the repeats add up to %d", output_size, total)
  end
  local index
  if total == 0 then
    index = C.zeros(0, {dtype = "int64"})
  else
    local ends = C.tensor(ints, {dtype = "int64"}):cumsum(1)
    local positions = args.make("lucid.repeat_interleave", "index", C.arange, 0, total, {dtype = "int64"})
    index = C.searchsorted(ends, positions, {right = true})
  end
  if repeats == nil then return index end
  return x:index_select(d, index)
end

-- ---- products ---------------------------------------------------------------------

local CROSS = args.schema("lucid.cross", {
  {"input", REQUIRED, "tensor"}, {"other", REQUIRED, "tensor"}, {"dim", nil, "integer"},
  unsupported = {"out"},
})

--- The cross product of 3-vectors along dim, as torch.cross: input and other
-- have the same number of dims and broadcast; without dim, the first dim of
-- input of size 3.
-- @function cross
-- @usage a:cross(b [, dim])  or  lucid.cross(input, other, {dim = -1})
-- @within Linear algebra
function methods.cross(...)
  local a, b, dim = CROSS:parse(...)
  local sa, sb = a.shape, b.shape
  if #sa ~= #sb then
    raise("lucid.cross: input and other must have the same number of dimensions, got shapes %s and %s",
      shape_str(sa), shape_str(sb))
  end
  if not broadcast_shapes(sa, sb) then
    raise("lucid.cross: shapes %s and %s do not broadcast", shape_str(sa), shape_str(sb))
  end
  local d
  if dim == nil then
    for i, n in ipairs(sa) do
      if n == 3 then d = i break end
    end
    if not d then raise("lucid.cross: no dimension of size 3 in input of shape %s", shape_str(sa)) end
  else
    d = wrap_dim("cross", "dimension", dim, #sa, "shape " .. shape_str(sa))
  end
  if sa[d] ~= 3 or sb[d] ~= 3 then
    raise("lucid.cross: dimension %d must have size 3 in both, got shapes %s and %s", d, shape_str(sa), shape_str(sb))
  end
  local a1, a2, a3 = a:narrow(d, 1, 1), a:narrow(d, 2, 1), a:narrow(d, 3, 1)
  local b1, b2, b3 = b:narrow(d, 1, 1), b:narrow(d, 2, 1), b:narrow(d, 3, 1)
  return C.cat({a2 * b3 - a3 * b2, a3 * b1 - a1 * b3, a1 * b2 - a2 * b1}, d)
end

local KRON = args.schema("lucid.kron", {
  {"input", REQUIRED, "tensor"}, {"other", REQUIRED, "tensor"},
  unsupported = {"out"},
})

--- The Kronecker product, as torch.kron: the shorter shape is padded with
-- leading 1s, and the result has sizes a_i * b_i, block (i, j, ...) being
-- input[i, j, ...] * other.
-- @function kron
-- @usage a:kron(b)  or  lucid.kron(input, other)
-- @within Linear algebra
function methods.kron(...)
  local a, b = KRON:parse(...)
  local sa, sb = a.shape, b.shape
  local nd = math.max(#sa, #sb)
  local ra, rb, out = {}, {}, {}
  for i = 1, nd do
    local x, y = sa[#sa - nd + i] or 1, sb[#sb - nd + i] or 1
    ra[2 * i - 1], ra[2 * i] = x, 1
    rb[2 * i - 1], rb[2 * i] = 1, y
    out[i] = x * y
  end
  return (a:reshape(ra) * b:reshape(rb)):reshape(out)
end

-- dims of tensordot: a count n >= 0, or two lists {{dims of a}, {dims of b}}
local function tensordot_dims(v, name)
  local n = int_of(v)
  if n ~= nil then
    if n < 0 then return name .. " must not be negative, got " .. describe(v) end
    return nil, n
  end
  if type(v) == "table" and not C.is_tensor(v) and #v == 2 then
    local pa, la = int_or_list(v[1], name .. "[1]")
    local pb, lb = int_or_list(v[2], name .. "[2]")
    if pa or pb then return pa or pb end
    return nil, {la, lb}
  end
  return name .. " must be a number or two tables of dims, got " .. describe(v)
end

local TENSORDOT = args.schema("lucid.tensordot", {
  {"a", REQUIRED, "tensor"}, {"b", REQUIRED, "tensor"}, {"dims", 2, tensordot_dims},
  unsupported = {"out"},
})

--- Sums the products over the dims of a and b that dims pairs up, as
-- torch.tensordot: dims = n pairs the last n dims of a with the first n of b;
-- dims = {{1, 2}, {2, 1}} names them (1-based). The result has a's other dims,
-- then b's. Computed as one matmul.
-- @function tensordot
-- @usage a:tensordot(b [, dims])  or  lucid.tensordot(a, b, {{2}, {1}})
-- @within Linear algebra
function methods.tensordot(...)
  local a, b, dims = TENSORDOT:parse(...)
  local sa, sb = a.shape, b.shape
  local da, db = {}, {}
  if type(dims) == "number" then
    if dims > #sa or dims > #sb then
      raise("lucid.tensordot: dims = %d is more than shapes %s and %s have", dims, shape_str(sa), shape_str(sb))
    end
    for i = 1, dims do da[i], db[i] = #sa - dims + i, i end
  else
    if #dims[1] ~= #dims[2] then
      raise("lucid.tensordot: the two lists of dims must have the same length, got %d and %d", #dims[1], #dims[2])
    end
    for _, side in ipairs({{dims[1], da, sa, "a"}, {dims[2], db, sb, "b"}}) do
      local seen = {}
      for i, d in ipairs(side[1]) do
        local w = wrap_dim("tensordot", "dimension", d, #side[3], "shape " .. shape_str(side[3]) .. " of " .. side[4])
        if seen[w] then raise("lucid.tensordot: dimension %d of %s is listed twice", w, side[4]) end
        seen[w], side[2][i] = true, w
      end
    end
  end
  for i = 1, #da do
    if sa[da[i]] ~= sb[db[i]] then
      raise("lucid.tensordot: contracted dimensions differ: size %d in dimension %d of %s, %d in dimension %d of %s",
        sa[da[i]], da[i], shape_str(sa), sb[db[i]], db[i], shape_str(sb))
    end
  end
  local ca, cb = set_of(da), set_of(db)
  local pa, pb, out, fa, fb, k = {}, {}, {}, 1, 1, 1
  for d = 1, #sa do
    if not ca[d] then pa[#pa + 1], out[#out + 1], fa = d, sa[d], fa * sa[d] end
  end
  for _, d in ipairs(da) do pa[#pa + 1], k = d, k * sa[d] end
  for _, d in ipairs(db) do pb[#pb + 1] = d end
  for d = 1, #sb do
    if not cb[d] then pb[#pb + 1], out[#out + 1], fb = d, sb[d], fb * sb[d] end
  end
  local am = a:permute(pa):reshape(fa, k)
  local bm = b:permute(pb):reshape(k, fb)
  return am:matmul(bm):reshape(out)
end

-- beta * input + alpha * product, input checked to broadcast to the product's
-- shape; beta = 0 ignores input's values (NaN included), as PyTorch does, but
-- still gives it a (zero) gradient
local function add_product(fname, input, product, beta, alpha, operands)
  local target = product.shape
  if not broadcasts_to(input.shape, target) then
    raise("lucid.%s: input of shape %s does not broadcast to the product's shape %s", fname,
      shape_str(input), shape_str(target))
  end
  local integer = true
  for _, t in ipairs(operands) do integer = integer and INTEGER_DTYPES[t.dtype] ~= nil end
  if integer and (int_of(beta) == nil or int_of(alpha) == nil) then
    raise("lucid.%s: beta and alpha must be integers for integer tensors, got beta = %s, alpha = %s", fname,
      tostring(beta), tostring(alpha))
  end
  if alpha ~= 1 then product = product * alpha end
  if beta == 0 then
    return product + input:masked_fill(C.ones(input.shape, {dtype = "bool"}), 0)
  end
  return beta == 1 and input + product or input * beta + product
end

local function check_rank(fname, t, nd, what)
  if t.ndim ~= nd then raise("lucid.%s: %s must be %d-D, got shape %s", fname, what, nd, shape_str(t)) end
end

local function batched_schema(fname, m1, m2)
  return args.schema("lucid." .. fname, {
    {"input", REQUIRED, "tensor"}, {m1, REQUIRED, "tensor"}, {m2, REQUIRED, "tensor"},
    {"beta", 1, "number"}, {"alpha", 1, "number"},
    unsupported = {"out"},
  })
end

-- checks (batch, n, m) and (batch, m, p)
local function check_batches(fname, b1, b2)
  check_rank(fname, b1, 3, "batch1")
  check_rank(fname, b2, 3, "batch2")
  local s1, s2 = b1.shape, b2.shape
  if s1[1] ~= s2[1] or s1[3] ~= s2[2] then
    raise("lucid.%s: batch1 of shape %s and batch2 of shape %s do not fit (expected {%d, %d, p} for batch2)", fname,
      shape_str(s1), shape_str(s2), s1[1], s1[3])
  end
end

local BADDBMM = batched_schema("baddbmm", "batch1", "batch2")

--- beta * input + alpha * (batch1 x batch2) for (b, n, m) and (b, m, p)
-- batches, input broadcasting to (b, n, p), as torch.baddbmm (beta = alpha =
-- 1 by default; beta = 0 ignores input's values).
-- @function baddbmm
-- @usage lucid.baddbmm(input, batch1, batch2 [, beta [, alpha]])  or  t:baddbmm(batch1, batch2, {beta = 1, alpha = 1})
-- @within Linear algebra
function methods.baddbmm(...)
  local input, b1, b2, beta, alpha = BADDBMM:parse(...)
  check_batches("baddbmm", b1, b2)
  return add_product("baddbmm", input, b1:matmul(b2), beta, alpha, {input, b1, b2})
end

local ADDBMM = batched_schema("addbmm", "batch1", "batch2")

--- beta * input + alpha * (the sum over the batch of batch1[i] x batch2[i])
-- for (b, n, m) and (b, m, p) batches, input broadcasting to (n, p), as
-- torch.addbmm. Computed as one (n, b * m) x (b * m, p) matmul.
-- @function addbmm
-- @usage lucid.addbmm(input, batch1, batch2 [, beta [, alpha]])  or  t:addbmm(batch1, batch2, {beta = 1, alpha = 1})
-- @within Linear algebra
function methods.addbmm(...)
  local input, b1, b2, beta, alpha = ADDBMM:parse(...)
  check_batches("addbmm", b1, b2)
  local s1, s2 = b1.shape, b2.shape
  local left = b1:permute(2, 1, 3):reshape(s1[2], s1[1] * s1[3])
  local right = b2:reshape(s2[1] * s2[2], s2[3])
  return add_product("addbmm", input, left:matmul(right), beta, alpha, {input, b1, b2})
end

local ADDMV = batched_schema("addmv", "mat", "vec")

--- beta * input + alpha * (mat x vec) for an (n, m) matrix and an m-vector,
-- input broadcasting to (n), as torch.addmv.
-- @function addmv
-- @usage lucid.addmv(input, mat, vec [, beta [, alpha]])  or  t:addmv(mat, vec, {beta = 1, alpha = 1})
-- @within Linear algebra
function methods.addmv(...)
  local input, mat, vec, beta, alpha = ADDMV:parse(...)
  check_rank("addmv", mat, 2, "mat")
  check_rank("addmv", vec, 1, "vec")
  if mat.shape[2] ~= vec.shape[1] then
    raise("lucid.addmv: mat of shape %s and vec of shape %s do not fit (%d ~= %d)", shape_str(mat), shape_str(vec),
      mat.shape[2], vec.shape[1])
  end
  return add_product("addmv", input, mat:matmul(vec), beta, alpha, {input, mat, vec})
end

-- ---- einsum -----------------------------------------------------------------------

-- An operand during einsum: its tensor and one label per dim ("i", or "...3"
-- for the third of the dims the ellipses stand for).

-- position of label l in labels
local function find(labels, l)
  for i, v in ipairs(labels) do
    if v == l then return i end
  end
end

-- sums the dims whose label is not in keep (a set)
local function sum_unneeded(op, keep)
  local labels = {unpack(op.labels)}
  local x = op.t
  for i = #labels, 1, -1 do
    if not keep[labels[i]] then
      x = x:sum(i)
      table.remove(labels, i)
    end
  end
  return {t = x, labels = labels}
end

-- a label repeated in one operand: its diagonal, until every label is once
local function take_diagonals(op)
  local x, labels = op.t, op.labels
  while true do
    local p1, p2
    for i = 1, #labels do
      local j = find(labels, labels[i])
      if j ~= i then p1, p2 = j, i break end
    end
    if not p1 then return {t = x, labels = labels} end
    x = diagonal_of(x, 0, p1, p2)
    local rest = {}
    for i, l in ipairs(labels) do
      if i ~= p1 and i ~= p2 then rest[#rest + 1] = l end
    end
    rest[#rest + 1] = labels[p1]
    labels = rest
  end
end

-- x permuted to the labels `order` (a permutation of its labels)
local function arrange(op, order)
  local perm = {}
  for i, l in ipairs(order) do perm[i] = find(op.labels, l) end
  return op.t:permute(perm)
end

-- A and B contracted into one operand: labels in both and in keep are batch
-- dims (broadcast by matmul), labels in both and not kept are summed by the
-- matmul, labels in one only stay. Labels of one side that keep does not hold
-- were summed out before.
local function contract(A, B, keep)
  local inA, inB = set_of(A.labels), set_of(B.labels)
  local batch, summed, freeA, freeB = {}, {}, {}, {}
  for _, l in ipairs(A.labels) do
    if inB[l] then
      if keep[l] then batch[#batch + 1] = l else summed[#summed + 1] = l end
    else
      freeA[#freeA + 1] = l
    end
  end
  for _, l in ipairs(B.labels) do
    if not inA[l] then freeB[#freeB + 1] = l end
  end
  local a, b = A.t, B.t
  local sa, sb = a.shape, b.shape
  -- a summed label of size 1 on one side broadcasts: sum the other side first
  for _, l in ipairs(summed) do
    local ia, ib = find(A.labels, l), find(B.labels, l)
    if sa[ia] ~= sb[ib] then
      if sa[ia] == 1 then b = b:sum(ib, true) else a = a:sum(ia, true) end
    end
  end
  sa, sb = a.shape, b.shape
  local function sizes(shape, labels, list)
    local out = {}
    for i, l in ipairs(list) do out[i] = shape[find(labels, l)] end
    return out
  end
  local ba, bb = sizes(sa, A.labels, batch), sizes(sb, B.labels, batch)
  local fa, fb = sizes(sa, A.labels, freeA), sizes(sb, B.labels, freeB)
  local k = prod(sizes(sa, A.labels, summed))
  local order_a, order_b = {unpack(batch)}, {unpack(batch)}
  for _, l in ipairs(freeA) do order_a[#order_a + 1] = l end
  for _, l in ipairs(summed) do order_a[#order_a + 1] = l end
  for _, l in ipairs(summed) do order_b[#order_b + 1] = l end
  for _, l in ipairs(freeB) do order_b[#order_b + 1] = l end
  local shape_a, shape_b = {unpack(ba)}, {unpack(bb)}
  shape_a[#shape_a + 1], shape_a[#shape_a + 2] = prod(fa), k
  shape_b[#shape_b + 1], shape_b[#shape_b + 2] = k, prod(fb)
  local r = arrange({t = a, labels = A.labels}, order_a):reshape(shape_a)
    :matmul(arrange({t = b, labels = B.labels}, order_b):reshape(shape_b))
  local rs = r.shape
  local out, labels = {}, {}
  for i, l in ipairs(batch) do out[i], labels[i] = rs[i], l end
  for i, l in ipairs(freeA) do out[#out + 1], labels[#labels + 1] = fa[i], l end
  for i, l in ipairs(freeB) do out[#out + 1], labels[#labels + 1] = fb[i], l end
  return {t = r:reshape(out), labels = labels}
end

-- The subscripts of eq[first..last]: letters, and "..." (at most one) as
-- the string "...". Spaces are skipped.
local function parse_term(eq, first, last, what)
  local labels, ellipsis = {}, false
  local i = first
  while i <= last do
    local c = eq:sub(i, i)
    if c == "." then
      if i + 2 > last or eq:sub(i, i + 2) ~= "..." then
        raise("lucid.einsum: '.' at position %d of %q is not part of an ellipsis (...)", i, eq)
      end
      if ellipsis then raise("lucid.einsum: %s has more than one ellipsis (...) in %q", what, eq) end
      ellipsis, labels[#labels + 1] = true, "..."
      i = i + 2
    elseif c:match("^[a-zA-Z]$") then
      labels[#labels + 1] = c
    elseif c ~= " " then
      raise("lucid.einsum: invalid subscript '%s' at position %d of %q (subscripts are letters a-z and A-Z)", c, i, eq)
    end
    i = i + 1
  end
  return labels, ellipsis
end

--- Sums of products over the subscripts of an equation, as torch.einsum:
-- "ij,jk->ik" is a matrix product, "ii->i" a diagonal, "ii" a trace,
-- "bij,bjk->bik" batched, "...ij->...ji" transposes the last two dims (the
-- ellipsis stands for the dims the letters leave, broadcast between operands),
-- "i,j->ij" an outer product. Without "->" the output is the ellipsis dims,
-- then the letters used once, in alphabetical order (capitals first).
-- Subscripts are letters; sizes of a letter must agree or be 1 (broadcast).
-- Operands go as varargs or one table. Built of diagonal, sum, permute,
-- reshape and one matmul per further operand (left to right), so it has
-- gradients.
-- @function einsum
-- @usage lucid.einsum(equation, a, b, ...)  or  lucid.einsum("ij,jk->ik", {a, b})
-- @within Linear algebra
function functions.einsum(eq, ...)
  if type(eq) ~= "string" then raise("lucid.einsum: equation must be a string, got %s", describe(eq)) end
  local operands, n = tensors_of("einsum", ...)
  local arrow = eq:find("->", 1, true)
  local lhs_last = arrow and arrow - 1 or #eq
  -- the operands' terms
  local terms, start = {}, 1
  while true do
    local comma = eq:find(",", start, true)
    if not comma or comma > lhs_last then
      terms[#terms + 1] = {start, lhs_last}
      break
    end
    terms[#terms + 1] = {start, comma - 1}
    start = comma + 1
  end
  if #terms ~= n then
    raise("lucid.einsum: the equation %q has %d operand%s, but %d tensor%s given", eq, #terms,
      #terms == 1 and "" or "s", n, n == 1 and " was" or "s were")
  end
  -- labels per dim, the ellipses expanded (right-aligned, as they broadcast)
  local parsed, ell_dims, count = {}, 0, {}
  for k = 1, n do
    local labels, ellipsis = parse_term(eq, terms[k][1], terms[k][2], "operand " .. k)
    local nd = operands[k].ndim
    local letters = #labels - (ellipsis and 1 or 0)
    if (ellipsis and letters > nd) or (not ellipsis and letters ~= nd) then
      raise("lucid.einsum: operand %d has shape %s, but the equation %q gives it %d subscript%s%s", k,
        shape_str(operands[k]), eq, letters, letters == 1 and "" or "s", ellipsis and " and an ellipsis" or "")
    end
    parsed[k] = {labels = labels, extra = nd - letters}
    if ellipsis and nd - letters > ell_dims then ell_dims = nd - letters end
    for _, l in ipairs(labels) do count[l] = (count[l] or 0) + 1 end
  end
  local ell = {}
  for j = 1, ell_dims do ell[j] = "..." .. j end
  local sizes, seen_in = {}, {}
  local ops = {}
  for k = 1, n do
    local labels, s = {}, operands[k].shape
    for _, l in ipairs(parsed[k].labels) do
      if l == "..." then
        for j = ell_dims - parsed[k].extra + 1, ell_dims do labels[#labels + 1] = ell[j] end
      else
        labels[#labels + 1] = l
      end
    end
    local own = {}
    for d, l in ipairs(labels) do
      local size, shown = s[d], l:sub(1, 3) == "..." and "the ellipsis dim " .. l:sub(4) or "subscript " .. l
      if own[l] and own[l] ~= size then
        raise("lucid.einsum: %s is repeated in operand %d of shape %s with sizes %d and %d", shown, k, shape_str(s),
          own[l], size)
      end
      own[l] = size
      if sizes[l] == nil or sizes[l] == 1 then
        sizes[l], seen_in[l] = size, k
      elseif size ~= sizes[l] and size ~= 1 then
        raise("lucid.einsum: %s has size %d in operand %d of shape %s, which does not broadcast with size %d in operand %d",
          shown, size, k, shape_str(s), sizes[l], seen_in[l])
      end
    end
    ops[k] = {t = operands[k], labels = labels}
  end
  -- the output's labels
  local out = {}
  if arrow then
    local labels = parse_term(eq, arrow + 2, #eq, "the output")
    local used = {}
    for _, l in ipairs(labels) do
      if l == "..." then
        for j = 1, ell_dims do out[#out + 1] = ell[j] end
      else
        if not count[l] then
          raise("lucid.einsum: output subscript %s does not appear in the operands of %q", l, eq)
        end
        if used[l] then raise("lucid.einsum: output subscript %s appears more than once in %q", l, eq) end
        used[l], out[#out + 1] = true, l
      end
    end
  else
    local once = {}
    for l, c in pairs(count) do
      if c == 1 and l ~= "..." then once[#once + 1] = l end
    end
    table.sort(once)
    for j = 1, ell_dims do out[j] = ell[j] end
    for _, l in ipairs(once) do out[#out + 1] = l end
  end
  -- diagonals first, then left to right, each label summed once nothing
  -- later needs it
  for k = 1, n do ops[k] = take_diagonals(ops[k]) end
  local keep_after = {}  -- keep_after[k]: the output's labels and those of operands after k
  local keep = set_of(out)
  for k = n, 1, -1 do
    local copy = {}
    for l in pairs(keep) do copy[l] = true end
    keep_after[k] = copy
    for _, l in ipairs(ops[k].labels) do keep[l] = true end
  end
  local function union(a, list)
    local u = {}
    for l in pairs(a) do u[l] = true end
    for _, l in ipairs(list) do u[l] = true end
    return u
  end
  local r = ops[1]
  for k = 2, n do
    r = sum_unneeded(r, union(keep_after[k], ops[k].labels))
    local b = sum_unneeded(ops[k], union(keep_after[k], r.labels))
    r = contract(r, b, keep_after[k])
  end
  r = sum_unneeded(r, set_of(out))
  return arrange(r, out)
end

-- ---- aminmax ----------------------------------------------------------------------

local AMINMAX = args.schema("lucid.aminmax", {
  {"input", REQUIRED, "tensor"},
  {"dim", nil, "integer", keyword = true}, {"keepdim", false, "boolean", keyword = true},
})

--- The smallest and the largest element, as torch.aminmax (two results):
-- over all elements (0-d, or every dim kept as 1 with keepdim), or along dim
-- (dim and keepdim by name, as PyTorch's keyword-only ones). Values only;
-- ties share the gradient, as in amin and amax.
-- @function aminmax
-- @usage local lo, hi = t:aminmax([{dim =, keepdim =}])  or  lucid.aminmax(input [, {dim =, keepdim =}])
-- @within Reductions
function methods.aminmax(...)
  local x, dim, keepdim = AMINMAX:parse(...)
  if dim == nil then return x:amin({keepdim = keepdim}), x:amax({keepdim = keepdim}) end
  return x:amin(dim, keepdim), x:amax(dim, keepdim)
end

-- ---- cumprod ----------------------------------------------------------------------

local CUMPROD = args.schema("lucid.cumprod", {
  {"input", REQUIRED, "tensor"}, {"dim", REQUIRED, "integer"},
  {"dtype", nil, args.one_of(unpack(DTYPE_NAMES)), keyword = true},
  unsupported = {"out"},
})

--- The cumulative product along dim, as torch.cumprod: out[i] = x[1] * ... *
-- x[i]. Integer and bool inputs give int64 (wrapping as PyTorch's), unless
-- dtype converts input first. Computed as log2(n) shifted products (a scan)
-- of multiplications only, so the gradient is exact where x holds zeros too.
-- @function cumprod
-- @usage t:cumprod(dim [, {dtype =}])  or  lucid.cumprod(input, dim)
-- @within Reductions
function methods.cumprod(...)
  local x, dim, dtype = CUMPROD:parse(...)
  if dtype then
    x = x:to(dtype)
  elseif INTEGER_DTYPES[x.dtype] and x.dtype ~= "int64" then
    x = x:to("int64")
  end
  local s = x.shape
  if #s == 0 then
    wrap_dim("cumprod", "dimension", dim, 1, "shape {}")  -- a 0-d tensor takes 1 and -1, as cumsum
    return x:clone()
  end
  local d = wrap_dim("cumprod", "dimension", dim, #s, "shape " .. shape_str(s))
  local n = s[d]
  if n <= 1 then return x:clone() end
  local y, k = x, 1
  while k < n do
    -- y[i] * y[i - k], with ones before the start
    local shifted = C.cat({C.ones(with(s, d, k), {dtype = x.dtype}), y:narrow(d, 1, n - k)}, d)
    y = y * shifted
    k = k * 2
  end
  return y
end

return {methods = methods, functions = functions}

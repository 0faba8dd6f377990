--- lucid.format: tensors as text, the way PyTorch prints them.
-- One formatter is chosen for the whole tensor (fixed point, integer-valued
-- or scientific, and a common width), then values are laid out in nested
-- brackets, one row per line for matrices, wrapped at `linewidth`, and
-- summarised with "..." past `threshold` elements (`edgeitems` at each edge).
-- The rules follow torch/_tensor_str.py so that output lines up with PyTorch.
local args = require("lucid._args")
local raise = args.raise
local C = require("lucid.core")
local compat = require("lucid._compat")

local M = {}

local opts = {precision = 4, threshold = 1000, edgeitems = 3, linewidth = 80, sci_mode = nil}

-- The allowed range of each integer option (beyond them printing cannot work:
-- string.format refuses a precision past 99, and huge edge counts or line
-- widths would build gigantic strings).
local RANGES = {
  precision = {0, 30},
  threshold = {0, compat.maxinteger},
  edgeitems = {0, 1000000},
  linewidth = {1, 1000000},
}

-- An integer in RANGES[name], as a check for the schema.
local function ranged(name)
  local lo, hi = RANGES[name][1], RANGES[name][2]
  return function(v)
    local i = args.int_of(v)
    if i == nil or i < lo or i > hi then
      return string.format("%s must be an integer in %d..%s, got %s", name, lo,
        hi == compat.maxinteger and "math.maxinteger" or tostring(hi),
        type(v) == "number" and tostring(v) or type(v))
    end
    return nil, i
  end
end

local SCHEMA = args.schema("lucid.set_printoptions", {
  {"precision", nil, ranged("precision")},
  {"threshold", nil, ranged("threshold")},
  {"edgeitems", nil, ranged("edgeitems")},
  {"linewidth", nil, ranged("linewidth")},
  {"sci_mode", nil, "boolean"},
  unsupported = {"profile"},
})
M.set_printoptions_schema = SCHEMA

--- lucid.set_printoptions{precision =, threshold =, edgeitems =, linewidth =, sci_mode =}
-- (or positionally, in that order): precision 0..30, threshold >= 0,
-- edgeitems 0..1e6, linewidth 1..1e6. Options not given keep their value.
-- Every option is checked before any is applied.
function M.set_printoptions(...)
  local new = SCHEMA:table(...)
  for k, v in pairs(new) do opts[k] = v end
end

local ELLIPSIS = {}  -- marks the elided middle of a summarised dimension

-- Nested Lua lists of t's values; summarised dims keep their edges only.
local function gather(t, summarize)
  if not summarize then return t:tolist() end
  local n, e = t.shape[1], opts.edgeitems
  local picks = {}
  if n > 2 * e then
    for i = 1, e do picks[#picks + 1] = i end
    picks[#picks + 1] = ELLIPSIS
    for i = n - e + 1, n do picks[#picks + 1] = i end
  else
    for i = 1, n do picks[i] = i end
  end
  local out = {}
  for k, i in ipairs(picks) do
    if i == ELLIPSIS then out[k] = ELLIPSIS
    elseif t.ndim == 1 then out[k] = t[i]:item()
    else out[k] = gather(t[i], true) end
  end
  return out
end

local function each_number(d, f)
  if type(d) ~= "table" then return f(d) end
  for _, v in ipairs(d) do
    if v ~= ELLIPSIS then each_number(v, f) end
  end
end

local function fmt(spec, v)
  if v ~= v then return "nan" end
  if v == math.huge then return "inf" end
  if v == -math.huge then return "-inf" end
  return string.format(spec, v)
end

-- Integer and bool tensors: every value as it is, right-aligned to the
-- widest (PyTorch's formatter for non-float dtypes; bool as Lua spells it).
local function plain_formatter(data, dtype)
  local function str(v)
    if dtype == "bool" then return tostring(v) end
    return string.format("%d", v)
  end
  local f = {width = 1}
  each_number(data, function(v)
    local n = #str(v)
    if n > f.width then f.width = n end
  end)
  function f.format(v)
    local s = str(v)
    return string.rep(" ", f.width - #s) .. s
  end
  return f
end

-- Chooses the mode and width from all finite non-zero values (as PyTorch).
local function formatter(data, dtype)
  if dtype ~= "float32" and dtype ~= "float64" then return plain_formatter(data, dtype) end
  local p = opts.precision
  local f = {int_mode = true, sci_mode = false, width = 1}
  local vals, lo, hi = {}, math.huge, 0
  each_number(data, function(v)
    if v == v and v ~= math.huge and v ~= -math.huge and v ~= 0 then
      vals[#vals + 1] = v
      local a = math.abs(v)
      if a < lo then lo = a end
      if a > hi then hi = a end
    end
  end)
  if #vals > 0 then
    for _, v in ipairs(vals) do
      if v ~= math.ceil(v) then f.int_mode = false break end
    end
    local sci = hi / lo > 1000 or hi > 1e8 or (not f.int_mode and lo < 1e-4)
    for _, v in ipairs(vals) do
      local s
      if sci then s = fmt("%." .. p .. "e", v)
      elseif f.int_mode then s = fmt("%.0f", v) .. "."
      else s = fmt("%." .. p .. "f", v) end
      if #s > f.width then f.width = #s end
    end
    f.sci_mode = sci
  end
  if opts.sci_mode ~= nil then f.sci_mode = opts.sci_mode end
  function f.format(v)
    local s
    if f.sci_mode then s = fmt("%." .. p .. "e", v)
    elseif f.int_mode then
      s = fmt("%.0f", v)
      if v == v and v ~= math.huge and v ~= -math.huge then s = s .. "." end
    else s = fmt("%." .. p .. "f", v) end
    return string.rep(" ", f.width - #s) .. s
  end
  return f
end

local function vector_str(d, indent, f)
  local per_line = math.max(1, compat.idiv(opts.linewidth - indent, f.width + 2))
  local lines, line = {}, {}
  for _, v in ipairs(d) do
    line[#line + 1] = v == ELLIPSIS and " ..." or f.format(v)
    if #line == per_line then
      lines[#lines + 1] = table.concat(line, ", ")
      line = {}
    end
  end
  if #line > 0 then lines[#lines + 1] = table.concat(line, ", ") end
  return "[" .. table.concat(lines, ",\n" .. string.rep(" ", indent + 1)) .. "]"
end

local function nested_str(d, ndim, indent, f)
  if ndim == 1 then return vector_str(d, indent, f) end
  local parts = {}
  for i, v in ipairs(d) do
    parts[i] = v == ELLIPSIS and "..." or nested_str(v, ndim - 1, indent + 1, f)
  end
  local sep = "," .. string.rep("\n", ndim - 1) .. string.rep(" ", indent + 1)
  return "[" .. table.concat(parts, sep) .. "]"
end

--- The values of t as PyTorch prints them, continuation lines indented by
-- `indent` columns.
function M.values_str(t, indent)
  if not C.is_tensor(t) then
    raise("lucid.format.values_str: expected a tensor, got " .. type(t))
  end
  indent = type(indent) == "number" and compat.tointeger(indent) or 0
  -- the closure is made before recording is turned off; the switch is made
  -- inside the pcall, so that any error (a refused allocation too) restores it
  local prev
  local function run()
    prev = C.set_grad_enabled(false)
    if t:numel() == 0 then
      if t.ndim == 1 then return "[]" end
      return "[], shape={" .. table.concat(t.shape, ", ") .. "}"
    end
    local data = gather(t, t.ndim > 0 and t:numel() > opts.threshold)  -- (a 0-d tensor is never summarised)
    local f = formatter(data, t.dtype)
    if t.ndim == 0 then return f.format(data) end
    return nested_str(data, t.ndim, indent, f)
  end
  local ok, res = pcall(run)
  if prev ~= nil then C.set_grad_enabled(prev) end
  if not ok then error(res, 0) end
  return res
end

local function last_line_length(s)
  local tail = s:match("[^\n]*$")
  return #tail
end

--- tostring(t): Tensor(<values>[, grad=...][, dtype=float64])
function M.tensor_tostring(t)
  if not C.is_tensor(t) then
    raise("lucid.Tensor.__tostring: expected a tensor, got " .. type(t))
  end
  local s = "Tensor(" .. M.values_str(t, #"Tensor(")
  if t.requires_grad then
    local g = t.grad
    s = s .. ", grad="
    s = s .. (g and M.values_str(g, last_line_length(s)) or "nil")
  end
  if t.dtype ~= C.get_default_dtype() then s = s .. ", dtype=" .. t.dtype end
  return s .. ")"
end

return M

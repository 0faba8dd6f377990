-- fuzz_table.lua: the driver of fuzz_table.c (what it checks is described there),
-- embedded into it at build time (fuzz.mk). Returns run(...), called once per input.
local lucid = lucid
local C = require('lucid.core')
local function bad_error(e)
  if type(e) ~= 'string' then return true end
  if e:find('not enough memory', 1, true) then return false end
  e = e:gsub('^[^\n]-:%d+: ', '', 1)  -- the caller's position, when a Lua function called
  return not e:match('^lucid%.[%w_]+: ')
end
local function as_dtype(v, dtype)
  if math.type(v) == 'integer' then v = v + 0.0 end  -- (not for floats: -0.0 + 0.0 is 0.0)
  if dtype == 'float32' then v = string.unpack('<f', string.pack('<f', v)) end
  return v
end
local function same_number(want, got)
  if type(want) == 'boolean' then return got == want end
  if math.type(want) == 'integer' then return math.type(got) == 'integer' and got == want end
  if want ~= want then return got ~= got end
  return math.type(got) == 'float' and string.pack('<d', want) == string.pack('<d', got)
end
-- A Lua value stored into a tensor of dtype, as the library converts it
-- (PyTorch's rules on x86): floats to integers truncate toward 0, NaN and
-- out-of-range floats become the minimum (int32 from a float: its own
-- minimum), integers narrow by wrapping, bool is "nonzero", a boolean is 1 or 0.
local INT32_MIN = -0x80000000
local function converted(src, dtype)
  if type(src) == 'boolean' then src = src and 1 or 0 end
  if dtype == 'float32' or dtype == 'float64' then return as_dtype(src, dtype) end
  if dtype == 'bool' then return src ~= 0 end
  local float = math.type(src) == 'float'
  if dtype == 'int32' and float then
    if not (src > -2147483649.0 and src < 2147483648.0) then return INT32_MIN end
    return math.tointeger(src < 0 and math.ceil(src) or math.floor(src))
  end
  local i = src
  if float then
    if not (src >= -2^63 and src < 2^63) then i = math.mininteger
    else i = math.tointeger(src < 0 and math.ceil(src) or math.floor(src)) end
  end
  if dtype == 'int64' then return i end
  if dtype == 'int32' then return ((i + 0x80000000) & 0xFFFFFFFF) - 0x80000000 end
  return i & 0xFF  -- uint8
end
-- the shape of t along first elements, as lucid reads it
local function shape_of(t)
  local s = {}
  while type(t) == 'table' do s[#s + 1] = #t; if #t == 0 then break end; t = t[1] end
  return s
end
local function compare(src, list, dtype, where)
  if type(src) == 'number' or type(src) == 'boolean' then
    local want = converted(src, dtype)
    if not same_number(want, list) then
      fuzz_fail(string.format('lucid.tensor: element %s is %s, expected %s (from %s)', where,
        tostring(list), tostring(want), tostring(src)))
    end
    return
  end
  if type(list) ~= 'table' or #list ~= #src then
    fuzz_fail('lucid.tensor: tolist() differs from the table at ' .. where)
  end
  for i = 1, #src do compare(src[i], list[i], dtype, where .. '[' .. i .. ']') end
end
local function exercise(x)
  pcall(tostring, x)
  local ok, s = pcall(x.sum, x)
  if ok and x.requires_grad then pcall(s.backward, s) end
  pcall(lucid.tensor, x, {dtype = 'float64'})
end
return function(t, opts, mode, shape)
  local ok, x
  if mode == 'flat' and known('zero-dim-stride-overflow') then  -- a 0 and a huge size
    local zero, huge = false, false
    for _, d in ipairs(shape) do zero = zero or d == 0; huge = huge or d >= 2^31 end
    if zero and huge then return end
  end
  if mode == 'flat' then ok, x = pcall(lucid.from_table, t, shape, opts)
  else ok, x = pcall(lucid.tensor, t, opts) end
  if not ok then
    if bad_error(x) then fuzz_fail('a refused table gave an error that names no lucid function: ' .. tostring(x)) end
    return
  end
  if not C.is_tensor(x) then fuzz_fail('lucid.tensor returned a ' .. type(x)) end
  local o = type(opts) == 'table' and opts or {}
  local dtype = (o.dtype == 'float64' or o.dtype == 'double') and 'float64' or 'float32'
  if o.dtype == 'int64' or o.dtype == 'int32' or o.dtype == 'uint8' or o.dtype == 'bool' then
    dtype = o.dtype
  elseif o.dtype == nil and not C.is_tensor(t) then
    local first = t  -- a table (or value) of booleans makes a bool tensor, as torch.tensor
    while type(first) == 'table' and #first > 0 do first = first[1] end
    if type(first) == 'boolean' then dtype = 'bool' end
  elseif o.dtype == nil and C.is_tensor(t) then
    dtype = t.dtype  -- a copy keeps its dtype
  end
  if x.dtype ~= dtype then fuzz_fail('lucid.tensor: dtype ' .. x.dtype .. ', asked for ' .. dtype) end
  if x.requires_grad ~= (o.requires_grad and true or false) then fuzz_fail('lucid.tensor: requires_grad is wrong') end
  if mode == 'flat' then
    local want = {}
    for i, d in ipairs(shape) do want[i] = math.tointeger(d) end
    if table.concat(x.shape, ',') ~= table.concat(want, ',') then
      fuzz_fail('lucid.from_table: shape {' .. table.concat(x.shape, ',') .. '}, asked for {' .. table.concat(want, ',') .. '}')
    end
    compare(t, x:reshape(-1):tolist(), dtype, '')
  elseif C.is_tensor(t) then
    if table.concat(x.shape, ',') ~= table.concat(t.shape, ',') then fuzz_fail('lucid.tensor: a copy changed the shape') end
    compare(t:double():reshape(-1):tolist(), x:reshape(-1):tolist(), dtype, '')
  elseif type(t) == 'number' or type(t) == 'boolean' then
    if x.ndim ~= 0 then fuzz_fail('lucid.tensor of a number has ' .. x.ndim .. ' dims') end
    compare(t, x:item(), dtype, '')
  else
    local want = table.concat(shape_of(t), ',')
    if table.concat(x.shape, ',') ~= want then
      fuzz_fail('lucid.tensor: shape {' .. table.concat(x.shape, ',') .. '} for a table of shape {' .. want .. '}')
    end
    local list = x:tolist()
    if x.ndim == 0 then fuzz_fail('lucid.tensor of a table gave a 0-d tensor') end
    if x:numel() > 0 then compare(t, list, dtype, '') end
  end
  exercise(x)
end

--- lucid.save(tbl, path [, opts]) and lucid.load(path): tensors on disk in the
-- safetensors format (https://github.com/huggingface/safetensors), the format
-- PyTorch and Hugging Face use for weights.
--
-- File layout: 8 bytes little-endian unsigned header length N, N bytes of a
-- JSON object
--   {"__metadata__": {"format": "pt", ...},
--    "fc.weight": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}, ...}
-- (offsets relative to the first byte after the header), then the data:
-- contiguous, row-major, little-endian.
--
-- What is written:
--   * a flat table name -> tensor (a model's state_dict()) is a plain
--     safetensors file: any reader gets the same names back. The header lists
--     names sorted; the data holds float64 tensors first, then float32, each
--     group by name, so every tensor starts on a multiple of its element size
--     (the header is padded with spaces to a multiple of 8, as the reference
--     implementation does). Metadata {"format": "pt"} is added, as
--     Hugging Face's loaders ask for it; opts.metadata adds string pairs.
--   * any other table (an optimizer's state_dict, a checkpoint
--     {model = ..., optim = ..., epoch = 3}) whose leaves are tensors, numbers,
--     strings or booleans: tensors are stored under dotted paths
--     ("state.1.exp_avg", "model.fc.weight") and the rest of the table (its
--     shape, integer vs string keys, integer vs float numbers, every other
--     leaf) goes into the metadata key "lucid.layout" as a JSON string, so
--     lucid.load rebuilds exactly the same table. Other tools still read the
--     tensors by their dotted names.
--   * a single tensor: stored as "tensor"; lucid.load returns the tensor.
--
-- lucid.load(path) returns the table (or tensor) and, second, the metadata
-- table (string -> string, without "lucid.layout"). Files written by other
-- tools load as flat tables name -> tensor. Dtypes: F32, F64, I64, I32, U8
-- and BOOL are lucid's own (float32 ... bool, saved and loaded as they are);
-- F16 and BF16 -> float32 (exact: every half and bfloat16 value is a float32
-- value); I8, I16, U16 -> int32 and U32 -> int64 (exact); U64 -> float64
-- (exact up to 2^53, rounded beyond); 8-bit and smaller floats (F8_*,
-- F6_*, F4) and C64 are refused with an error naming the tensor. Loaded
-- tensors do not require grad.
--
-- Reading is strict, like the reference implementation: the header must be
-- valid UTF-8 JSON (no duplicate keys), every tensor's offsets must match its
-- shape and dtype, and the tensors must tile the data exactly (no overlap, no
-- gap, no trailing bytes). Every problem is a Lua error "lucid.load: ..."
-- naming the file and what is wrong; nothing is read outside the file.
local args = require("lucid._args")
local raise = args.raise
local C = require("lucid.core")
local compat = require("lucid._compat")
local math_type, idiv = compat.math_type, compat.idiv

local M = {}

local MAX_HEADER = 100000000  -- bytes; the reference implementation's limit
local MAX_DIMS = 8            -- lucid's limit (LC_MAX_DIMS)
local MAX_DEPTH = 200         -- nesting of saved tables
local LAYOUT_KEY = "lucid.layout"

-- ---------------------------------------------------------------------------
-- errors: fail() inside, the public functions prefix the function's name and
-- raise at the caller's level.

local Failure = {}
local function fail(fmt, ...)
  error(setmetatable({msg = string.format(fmt, ...)}, Failure), 0)
end

-- Re-raises an error caught from fn: ours with the function's name, at the
-- user's line; others (e.g. "not enough memory") as they are.
local function reraise(fname, e)
  if getmetatable(e) == Failure then raise("%s: %s", fname, e.msg) end
  error(e, 0)
end

-- ---------------------------------------------------------------------------
-- JSON: a strict decoder (RFC 8259) and an encoder for the strings and numbers
-- the writer needs. Objects and arrays decode to tables marked by metatables,
-- so {} and [] stay apart; integers without fraction or exponent decode to
-- Lua integers (exact up to 2^63; whole doubles, exact up to 2^53, on Lua
-- 5.1, 5.2 and LuaJIT), every other number to a float.

local JObject, JArray = {__name = "json object"}, {__name = "json array"}
local JNull = setmetatable({}, {__name = "json null", __tostring = function() return "null" end})
M._JObject, M._JArray, M._JNull = JObject, JArray, JNull

-- Lua 5.1, 5.2 and LuaJIT have one number type: a literal written as a float
-- (1.0, 1e0) with a whole value decodes to the same number as 1. So the
-- decoder remembers which entries of an array were written as floats, for the
-- checks that want an integer written as one (shapes, offsets, layout keys),
-- as the 5.3+ decoding does by the number's subtype.
local float_literals = setmetatable({}, {__mode = "k"})
local function json_int(arr, i)
  local v = arr[i]
  if math_type(v) ~= "integer" then return false end
  local f = float_literals[arr]
  return not (f and f[i])
end

local escapes = {['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t"}

local function json_decode(s, max_depth)
  max_depth = max_depth or 512
  local pos = 1
  local function err(what, at)
    at = at or pos
    local near = s:sub(at, at + 9):gsub("[%c]", "?")
    if at > #s then
      error(setmetatable({msg = what .. " at the end"}, Failure), 0)
    end
    error(setmetatable({msg = string.format("%s at byte %d (near '%s')", what, at, near)}, Failure), 0)
  end
  local function skip()
    pos = s:find("[^ \t\r\n]", pos) or #s + 1
  end
  local value
  local float_literal = false  -- the last number read was written as a float

  local function str()
    -- pos is at the opening quote
    local parts = {}
    local i = pos + 1
    while true do
      local j = s:find('[%z\1-\31"\\]', i)  -- %z: 5.1's patterns stop at a \0
      if not j then err("unterminated string", pos) end
      parts[#parts + 1] = s:sub(i, j - 1)
      local c = s:sub(j, j)
      if c == '"' then
        pos = j + 1
        return table.concat(parts)
      elseif c == "\\" then
        local e = s:sub(j + 1, j + 1)
        if e == "u" then
          local hex = s:match("^%x%x%x%x", j + 2)
          if not hex then err("invalid \\u escape", j) end
          local cp = tonumber(hex, 16)
          i = j + 6
          if cp >= 0xD800 and cp <= 0xDBFF then
            local lo = s:match("^\\u(%x%x%x%x)", i)
            lo = lo and tonumber(lo, 16)
            if not lo or lo < 0xDC00 or lo > 0xDFFF then err("unpaired surrogate in \\u escape", j) end
            cp = 0x10000 + (cp - 0xD800) * 0x400 + (lo - 0xDC00)
            i = i + 6
          elseif cp >= 0xDC00 and cp <= 0xDFFF then
            err("unpaired surrogate in \\u escape", j)
          end
          parts[#parts + 1] = compat.utf8_char(cp)
        elseif escapes[e] then
          parts[#parts + 1] = escapes[e]
          i = j + 2
        else
          err("invalid escape in string", j)
        end
      else
        err("control character in string", j)
      end
    end
  end

  local function number()
    local start = pos
    if s:sub(pos, pos) == "-" then pos = pos + 1 end
    local c = s:sub(pos, pos)
    if c == "0" then
      pos = pos + 1
    elseif c:match("^[1-9]$") then
      pos = s:find("[^0-9]", pos) or #s + 1
    else
      err("invalid number", start)
    end
    local is_float = false
    if s:sub(pos, pos) == "." then
      if not s:match("^[0-9]", pos + 1) then err("invalid number", start) end
      pos = s:find("[^0-9]", pos + 1) or #s + 1
      is_float = true
    end
    if s:match("^[eE]", pos) then
      local p = pos + 1
      if s:match("^[+-]", p) then p = p + 1 end
      if not s:match("^[0-9]", p) then err("invalid number", start) end
      pos = s:find("[^0-9]", p) or #s + 1
      is_float = true
    end
    local text = s:sub(start, pos - 1)
    local v = tonumber(text)
    float_literal = is_float
    if is_float then return v end  -- tonumber gives a float (keeps -0.0)
    return compat.tointeger(v) or v  -- beyond 64 bits: a float
  end

  function value(depth)
    skip()
    local c = s:sub(pos, pos)
    if c == "{" then
      if depth >= max_depth then err("nested too deeply") end
      pos = pos + 1
      local obj = setmetatable({}, JObject)
      skip()
      if s:sub(pos, pos) == "}" then pos = pos + 1 return obj end
      while true do
        skip()
        if s:sub(pos, pos) ~= '"' then err("expected a string key") end
        local kpos = pos
        local k = str()
        if obj[k] ~= nil then err(string.format("duplicate key '%s'", k), kpos) end
        skip()
        if s:sub(pos, pos) ~= ":" then err("expected ':'") end
        pos = pos + 1
        obj[k] = value(depth + 1)
        skip()
        c = s:sub(pos, pos)
        pos = pos + 1
        if c == "}" then return obj end
        if c ~= "," then err("expected ',' or '}'", pos - 1) end
      end
    elseif c == "[" then
      if depth >= max_depth then err("nested too deeply") end
      pos = pos + 1
      local arr = setmetatable({n = 0}, JArray)
      skip()
      if s:sub(pos, pos) == "]" then pos = pos + 1 return arr end
      while true do
        local n = arr.n + 1
        float_literal = false
        arr[n] = value(depth + 1)
        arr.n = n
        if float_literal and not compat.has_integers then
          local f = float_literals[arr] or {}
          f[n], float_literals[arr] = true, f
        end
        skip()
        c = s:sub(pos, pos)
        pos = pos + 1
        if c == "]" then return arr end
        if c ~= "," then err("expected ',' or ']'", pos - 1) end
      end
    elseif c == '"' then
      return str()
    elseif c == "-" or c:match("^[0-9]$") then
      return number()
    elseif s:sub(pos, pos + 3) == "true" then
      pos = pos + 4 return true
    elseif s:sub(pos, pos + 4) == "false" then
      pos = pos + 5 return false
    elseif s:sub(pos, pos + 3) == "null" then
      pos = pos + 4 return JNull
    elseif c == "" then
      err("unexpected end")
    end
    err("unexpected character")
  end

  local v = value(0)
  skip()
  if pos <= #s then err("unexpected text after the JSON value") end
  return v
end
M._json_decode = json_decode

local function escape_char(c)
  local e = ({['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t",
    ["\b"] = "\\b", ["\f"] = "\\f"})[c]
  return e or string.format("\\u%04x", c:byte())
end

-- A JSON string; s must be valid UTF-8 (checked by the callers).
local function json_string(s)
  return '"' .. s:gsub('[%z\1-\31"\\\127]', escape_char) .. '"'
end

local function valid_utf8(s)
  return compat.utf8_len(s) ~= nil
end

-- s quoted, with bytes outside printable ASCII as \ddd (for messages).
local function printable(s)
  return '"' .. s:gsub('[^\32-\126]', function(c) return "\\" .. c:byte() end):gsub('"', '\\"') .. '"'
end

-- The shortest decimal that reads back as the same float, always marked as a
-- float (a '.' or an exponent); nan and infinities are not JSON numbers.
local function float_text(x)
  local s
  for _, p in ipairs({15, 16, 17}) do
    s = string.format("%." .. p .. "g", x)
    if tonumber(s) == x then break end
  end
  if not s:find("[%.eE]") then s = s .. ".0" end
  return s
end

-- ---------------------------------------------------------------------------
-- dtypes

local SAVE_DTYPE = {float32 = "F32", float64 = "F64", int64 = "I64", int32 = "I32",
  uint8 = "U8", bool = "BOOL"}
-- The safetensors types lucid has, read as they are; the other integer types
-- widen to one lucid has (exactly), U64 to float64 (exact up to 2^53).
local LOAD_DTYPE = {F32 = "float32", F64 = "float64", I64 = "int64", I32 = "int32",
  U8 = "uint8", BOOL = "bool"}
local WIDEN = {I8 = "int32", I16 = "int32", U16 = "int32", U32 = "int64"}
local ELEM_SIZE = {F64 = 8, F32 = 4, F16 = 2, BF16 = 2, BOOL = 1,
  I8 = 1, I16 = 2, I32 = 4, I64 = 8, U8 = 1, U16 = 2, U32 = 4, U64 = 8}
local REFUSED = {F8_E4M3 = true, F8_E5M2 = true, F8_E8M0 = true, F6_E2M3 = true,
  F6_E3M2 = true, F4 = true, C64 = true}

-- ---------------------------------------------------------------------------
-- save

local function path_key(k)
  if type(k) == "string" and k:match("^[%a_][%w_]*$") then return "." .. k end
  return "[" .. (type(k) == "string" and string.format("%q", k) or tostring(k)) .. "]"
end

local function describe(where)
  return where == "" and "the table" or "the value at " .. where:gsub("^%.", "")
end

-- Orders keys: integers ascending, then strings bytewise.
local function key_less(a, b)
  local ia, ib = math_type(a) == "integer", math_type(b) == "integer"
  if ia ~= ib then return ia end
  return a < b
end

-- Walks a nested table; returns the JSON text of its layout node and adds
-- every tensor to `out` as {name, tensor}.
local function layout_node(v, name, where, st, depth)
  if C.is_tensor(v) then
    if name == "" then name = "tensor" end
    if name == "__metadata__" then
      fail("%s would be stored under the name '__metadata__', which safetensors reserves", describe(where))
    end
    local other = st.names[name]
    if other then
      fail("%s and %s would both be stored as tensor '%s'", describe(other), describe(where), name)
    end
    st.names[name] = where
    st.out[#st.out + 1] = {name, v}
    return '["T",' .. json_string(name) .. "]"
  end
  local tv = type(v)
  if tv == "number" then
    if math_type(v) == "integer" then return string.format("%d", v) end
    if v ~= v then return '["f","nan"]' end
    if v == math.huge then return '["f","inf"]' end
    if v == -math.huge then return '["f","-inf"]' end
    return float_text(v)
  elseif tv == "boolean" then
    return tostring(v)
  elseif tv == "string" then
    if valid_utf8(v) then return json_string(v) end
    return '["x","' .. v:gsub(".", function(c) return string.format("%02x", c:byte()) end) .. '"]'
  elseif tv == "table" then
    if getmetatable(v) ~= nil then
      local mt = getmetatable(v)
      fail("%s is a table with a metatable (%s); save plain tables, e.g. model:state_dict()",
        describe(where), tostring(type(mt) == "table" and rawget(mt, "__name") or "an object"))
    end
    if st.visiting[v] then fail("%s contains itself (a cycle)", describe(where)) end
    if depth >= MAX_DEPTH then fail("%s is nested more than %d tables deep", describe(where), MAX_DEPTH) end
    st.visiting[v] = true
    local keys = {}
    for k in pairs(v) do
      if math_type(k) ~= "integer" and type(k) ~= "string" then
        fail("%s has a key of type %s (%s); only integer and string keys can be saved",
          describe(where), math_type(k) or type(k), tostring(k))
      end
      if type(k) == "string" and not valid_utf8(k) then
        fail("%s has a key that is not valid UTF-8 (%s)", describe(where), printable(k))
      end
      keys[#keys + 1] = k
    end
    table.sort(keys, key_less)
    local parts = {}
    for _, k in ipairs(keys) do
      parts[#parts + 1] = math_type(k) == "integer" and string.format("%d", k) or json_string(k)
      local child = name == "" and tostring(k) or name .. "." .. tostring(k)
      parts[#parts + 1] = layout_node(v[k], child, where .. path_key(k), st, depth + 1)
    end
    st.visiting[v] = nil
    return '["t",[' .. table.concat(parts, ",") .. "]]"
  end
  fail("%s is a %s; only tensors, numbers, strings, booleans and tables of them can be saved",
    describe(where), tv)
end

local function check_metadata(md)
  if md == nil then return {} end
  if type(md) ~= "table" then fail("opts.metadata must be a table string -> string, got %s", type(md)) end
  for k, v in pairs(md) do
    if type(k) ~= "string" or type(v) ~= "string" then
      fail("opts.metadata must map strings to strings; [%s] = %s is not", tostring(k), tostring(v))
    end
    if not valid_utf8(k) or not valid_utf8(v) then
      fail("opts.metadata: %s = %s is not valid UTF-8", printable(k), printable(v))
    end
    if k == LAYOUT_KEY then fail("opts.metadata: the key '%s' is reserved", LAYOUT_KEY) end
  end
  return md
end

local function shape_json(shape)
  local p = {}
  for i, d in ipairs(shape) do p[i] = string.format("%d", d) end
  return "[" .. table.concat(p, ",") .. "]"
end

-- The header and the ordered tensor list of a table; raises on bad input.
local function build_header(tbl, extra)
  local metadata = {format = "pt"}
  for k, v in pairs(check_metadata(extra)) do metadata[k] = v end

  local entries
  local flat = type(tbl) == "table" and getmetatable(tbl) == nil
  if flat then
    for k, v in pairs(tbl) do
      if type(k) ~= "string" or not C.is_tensor(v) then flat = false break end
    end
  end
  if flat then
    entries = {}
    for k, v in pairs(tbl) do
      if not valid_utf8(k) then fail("the name %s is not valid UTF-8", printable(k)) end
      if k == "__metadata__" then fail("the name '__metadata__' is reserved by safetensors") end
      entries[#entries + 1] = {k, v}
    end
  else
    if type(tbl) ~= "table" and not C.is_tensor(tbl) then
      fail("expected a table of tensors (or a tensor) as argument 1, got %s", type(tbl))
    end
    local st = {names = {}, out = {}, visiting = {}}
    local root = layout_node(tbl, "", "", st, 0)
    metadata[LAYOUT_KEY] = '{"version":1,"root":' .. root .. "}"
    entries = st.out
  end

  -- header: names sorted; data: the widest elements first (float64, int64,
  -- then float32, int32, then uint8, bool), each group by name, so that every
  -- tensor starts aligned to its element size
  for _, e in ipairs(entries) do
    local t = e[2]
    e.dtype = SAVE_DTYPE[t.dtype]
    if not e.dtype then fail("tensor '%s' has dtype %s, which cannot be saved", e[1], tostring(t.dtype)) end
    e.shape = t.shape
    e.nbytes = t:numel() * ELEM_SIZE[e.dtype]
  end
  table.sort(entries, function(a, b)
    local sa, sb = ELEM_SIZE[a.dtype], ELEM_SIZE[b.dtype]
    if sa ~= sb then return sa > sb end
    return a[1] < b[1]
  end)
  local offset = 0
  for _, e in ipairs(entries) do
    e.begin, offset = offset, offset + e.nbytes
  end
  local by_name = {}
  for i, e in ipairs(entries) do by_name[i] = e end
  table.sort(by_name, function(a, b) return a[1] < b[1] end)

  local mkeys = {}
  for k in pairs(metadata) do mkeys[#mkeys + 1] = k end
  table.sort(mkeys)
  local mparts = {}
  for _, k in ipairs(mkeys) do mparts[#mparts + 1] = json_string(k) .. ":" .. json_string(metadata[k]) end
  local parts = {'"__metadata__":{' .. table.concat(mparts, ",") .. "}"}
  for _, e in ipairs(by_name) do
    parts[#parts + 1] = string.format('%s:{"dtype":"%s","shape":%s,"data_offsets":[%d,%d]}',
      json_string(e[1]), e.dtype, shape_json(e.shape), e.begin, e.begin + e.nbytes)
  end
  local header = "{" .. table.concat(parts, ",") .. "}"
  header = header .. string.rep(" ", (8 - #header % 8) % 8)
  return header, entries
end

local function save(tbl, path, metadata)
  if type(path) ~= "string" then fail("expected a file path (string) as argument 2, got %s", type(path)) end
  local header, entries = build_header(tbl, metadata)  -- every check before the file is touched
  if type(io) ~= "table" then fail("this Lua state has no io library") end
  local f, oerr = io.open(path, "wb")
  if not f then fail("cannot write %s", oerr) end
  local ok, err = pcall(function()
    local function put(s)
      local w, werr = f:write(s)
      if not w then fail("%s: write failed: %s", path, tostring(werr)) end
    end
    put(C._u64le_pack(#header))
    put(header)
    for _, e in ipairs(entries) do
      if e.nbytes > 0 then put(e[2]:to_string()) end
    end
    local c, cerr = f:close()
    if not c then fail("%s: write failed: %s", path, tostring(cerr)) end
  end)
  if not ok then
    pcall(f.close, f)
    if type(os) == "table" then os.remove(path) end  -- no half-written file is left behind
    error(err, 0)
  end
end

-- ---------------------------------------------------------------------------
-- load

-- The bytes and lucid dtype of a stored tensor: LOAD_DTYPE's as they are; F16
-- and BF16 to float32 (exact) and the other integer types to float64 in C
-- (lucid_bytes.c), those of WIDEN then converted to their integer dtype.
local function convert(dtype, bytes)
  if LOAD_DTYPE[dtype] then return bytes, LOAD_DTYPE[dtype] end
  return C._bytes_to_float(dtype, bytes)
end

local shape_text = args.shape_str

local function jtype(v)
  local mt = getmetatable(v)
  if mt == JObject then return "an object" end
  if mt == JArray then return "an array" end
  if v == JNull then return "null" end
  if math_type(v) then return "a number" end
  return "a " .. type(v)
end

local function sorted_keys(obj)
  local keys = {}
  for k in pairs(obj) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

-- Checks one header entry; returns {name, dtype, shape, begin, finish, nbytes}.
local function parse_entry(path, name, info)
  local function bad(fmt, ...) fail("%s: tensor '%s': " .. fmt, path, name, ...) end
  if getmetatable(info) ~= JObject then bad("expected an object, got %s", jtype(info)) end
  local dtype, shape, offs = info.dtype, info.shape, info.data_offsets
  if type(dtype) ~= "string" then bad("'dtype' must be a string, got %s", jtype(dtype)) end
  if REFUSED[dtype] then
    bad("dtype %s is not supported (lucid loads F32, F64, I64, I32, U8 and BOOL as they are, "
      .. "F16 and BF16 as float32, I8, I16, U16 as int32, U32 as int64 and U64 as float64)", dtype)
  end
  local esize = ELEM_SIZE[dtype]
  if not esize then bad("unknown dtype '%s'", dtype) end
  if getmetatable(shape) ~= JArray then bad("'shape' must be an array, got %s", jtype(shape)) end
  if shape.n > MAX_DIMS then bad("%d dimensions, lucid supports at most %d", shape.n, MAX_DIMS) end
  local numel, dims = 1, {}
  for i = 1, shape.n do
    local d = shape[i]
    if not json_int(shape, i) or d < 0 then bad("shape entry %d is not a non-negative integer", i) end
    dims[i] = d
  end
  for i = 1, #dims do  -- after the zero check: a 0 anywhere makes it empty
    local d = dims[i]
    if d ~= 0 and numel > idiv(idiv(compat.maxinteger, d), esize) then
      numel = nil
      break
    end
    numel = numel * d
  end
  if getmetatable(offs) ~= JArray or offs.n ~= 2 then bad("'data_offsets' must be an array [begin, end]") end
  local b, e = offs[1], offs[2]
  if not json_int(offs, 1) or not json_int(offs, 2) or b < 0 or e < b then
    bad("data_offsets [%s, %s] are not integers 0 <= begin <= end", tostring(b), tostring(e))
  end
  if not numel or numel * esize ~= e - b then
    bad("shape %s of %s needs %s bytes, data_offsets [%d, %d] hold %d", shape_text(dims), dtype,
      numel and string.format("%d", numel * esize) or "too many", b, e, e - b)
  end
  return {name = name, dtype = dtype, shape = dims, begin = b, finish = e}
end

-- The path of the file being loaded, for the layout's error messages.
local loading_path = "?"

local function layout_bad(fmt, ...)
  fail("%s: metadata '%s' is invalid: " .. fmt, loading_path, LAYOUT_KEY, ...)
end

local function rebuild(node, tensors, used, depth)
  if depth > 2 * MAX_DEPTH + 2 then layout_bad("nested too deeply") end
  local tn = math_type(node)
  if tn or type(node) == "boolean" or type(node) == "string" then return node end
  if getmetatable(node) ~= JArray or type(node[1]) ~= "string" then
    layout_bad("unexpected %s", jtype(node))
  end
  local tag, arg = node[1], node[2]
  if node.n ~= 2 then layout_bad("a [\"%s\", ...] node must have 2 elements", tag) end
  if tag == "T" then
    local t = type(arg) == "string" and tensors[arg]
    if not t then layout_bad("it refers to a tensor '%s' that the file does not hold", tostring(arg)) end
    if used[arg] then layout_bad("tensor '%s' is referred to twice", arg) end
    used[arg] = true
    return t
  elseif tag == "t" then
    if getmetatable(arg) ~= JArray or arg.n % 2 ~= 0 then layout_bad("a table node needs [key, value, ...]") end
    local out = {}
    for i = 1, arg.n, 2 do
      local k = arg[i]
      if not json_int(arg, i) and type(k) ~= "string" then layout_bad("a key is %s", jtype(k)) end
      if out[k] ~= nil then layout_bad("key %s appears twice", tostring(k)) end
      out[k] = rebuild(arg[i + 1], tensors, used, depth + 1)
    end
    return out
  elseif tag == "f" then
    if arg == "nan" then return 0.0 / 0.0 end
    if arg == "inf" then return math.huge end
    if arg == "-inf" then return -math.huge end
    layout_bad("unknown float '%s'", tostring(arg))
  elseif tag == "x" then
    if type(arg) ~= "string" or #arg % 2 ~= 0 or arg:find("[^%x]") then layout_bad("bad hex string") end
    return (arg:gsub("%x%x", function(h) return string.char(tonumber(h, 16)) end))
  end
  layout_bad("unknown node tag '%s'", tag)
end

-- A reader over the file: read(offset, n) gives exactly n bytes or fails.
local function open_reader(path)
  if type(io) ~= "table" then fail("this Lua state has no io library") end
  local f, oerr = io.open(path, "rb")
  if not f then fail("cannot open %s", oerr) end
  local size = f:seek("end")
  local whole
  if not size or size >= compat.maxinteger then  -- not seekable (a pipe) or not a file
    f:seek("set", 0)
    local data, rerr = f:read("*a")  -- "*a": 5.1 needs the star, later versions accept it
    if not data then f:close() fail("%s: cannot read: %s", path, tostring(rerr)) end
    whole, size = data, #data
  end
  local reader = {size = size}
  function reader.read(offset, n)
    if n == 0 then return "" end
    local s, rerr
    if whole then
      s = whole:sub(offset + 1, offset + n)
    else
      f:seek("set", offset)
      s, rerr = f:read(n)
    end
    if not s then fail("%s: cannot read: %s", path, tostring(rerr or "end of file")) end
    if #s ~= n then fail("%s: the file is shorter than expected (it changed while being read?)", path) end
    return s
  end
  function reader.close() if io.type(f) == "file" then f:close() end end
  return reader
end

local function load_file(path, reader)
  local size = reader.size
  if size < 8 then
    fail("%s: the file has %d bytes, too short for the 8-byte header length (not a safetensors file?)", path, size)
  end
  local n, n_text = C._u64le_unpack(reader.read(0, 8))  -- n is nil past what Lua holds exactly
  if not n or n > size - 8 then
    fail("%s: header length %s is larger than the rest of the file (%d bytes): truncated, or not a safetensors file",
      path, n_text, size - 8)
  end
  if n > MAX_HEADER then fail("%s: header length %d exceeds the limit of %d bytes", path, n, MAX_HEADER) end
  local text = reader.read(8, n)
  if not valid_utf8(text) then fail("%s: the header is not valid UTF-8 (not a safetensors file?)", path) end
  local ok, header = pcall(json_decode, text)
  if not ok then
    if getmetatable(header) == Failure then fail("%s: the header is not valid JSON: %s", path, header.msg) end
    error(header, 0)
  end
  if getmetatable(header) ~= JObject then fail("%s: the header is %s, not a JSON object", path, jtype(header)) end

  local metadata = {}
  local md = header.__metadata__
  if md ~= nil and md ~= JNull then
    if getmetatable(md) ~= JObject then fail("%s: __metadata__ is %s, not an object", path, jtype(md)) end
    for k, v in pairs(md) do
      if type(v) ~= "string" then fail("%s: __metadata__ '%s' is %s, not a string", path, k, jtype(v)) end
      metadata[k] = v
    end
  end

  local infos = {}
  for _, name in ipairs(sorted_keys(header)) do
    if name ~= "__metadata__" then infos[#infos + 1] = parse_entry(path, name, header[name]) end
  end

  -- the tensors must tile the data exactly
  local data_size = size - 8 - n
  table.sort(infos, function(a, b)
    if a.begin ~= b.begin then return a.begin < b.begin end
    if a.finish ~= b.finish then return a.finish < b.finish end
    return a.name < b.name
  end)
  local expected, prev = 0, nil
  for _, e in ipairs(infos) do
    if e.finish > data_size then
      fail("%s: tensor '%s': data_offsets [%d, %d] lie outside the data (%d bytes): truncated file?",
        path, e.name, e.begin, e.finish, data_size)
    end
    if e.begin < expected then
      fail("%s: tensors '%s' [%d, %d] and '%s' [%d, %d] overlap", path, prev.name, prev.begin, prev.finish,
        e.name, e.begin, e.finish)
    end
    if e.begin > expected then
      fail("%s: bytes [%d, %d) of the data belong to no tensor", path, expected, e.begin)
    end
    expected, prev = e.finish, e
  end
  if expected ~= data_size then
    fail("%s: %d bytes of trailing data after the last tensor", path, data_size - expected)
  end

  local tensors = {}
  for _, e in ipairs(infos) do
    local bytes, dtype = convert(e.dtype, reader.read(8 + n + e.begin, e.finish - e.begin))
    local made, t = pcall(C.from_string, bytes, e.shape, {dtype = dtype})
    if not made then fail("%s: tensor '%s': %s", path, e.name, tostring(t)) end
    if WIDEN[e.dtype] then t = t:to(WIDEN[e.dtype]) end
    tensors[e.name] = t
  end
  reader.close()

  local layout = metadata[LAYOUT_KEY]
  if layout == nil then return tensors, metadata end
  metadata[LAYOUT_KEY] = nil
  local lok, doc = pcall(json_decode, layout)
  if not lok then
    if getmetatable(doc) == Failure then layout_bad("%s", doc.msg) end
    error(doc, 0)
  end
  if getmetatable(doc) ~= JObject or doc.version ~= 1 or doc.root == nil then
    layout_bad("expected {\"version\": 1, \"root\": ...}")
  end
  local used = {}
  local root = rebuild(doc.root, tensors, used, 0)
  if type(root) ~= "table" and not C.is_tensor(root) then layout_bad("the root is not a table or a tensor") end
  for _, name in ipairs(sorted_keys(tensors)) do
    if not used[name] then layout_bad("tensor '%s' is not referred to", name) end
  end
  return root, metadata
end

--- lucid.save(tbl, path [, opts]): writes tbl (a table name -> tensor, a
-- nested table of tensors, numbers, strings and booleans, or one tensor) to
-- path as safetensors. opts.metadata: extra string -> string pairs for the
-- header's __metadata__. Names as safetensors' save_file: (tensors,
-- filename, metadata); tbl is always the first argument, so options follow it.
local SAVE = args.schema("lucid.save", {
  {"tensors", nil, nil, table_arg = true},
  {"filename", nil, nil},
  {"metadata", nil, nil},
})
M.save_schema = SAVE

function M.save(...)
  local tbl, path, metadata = SAVE:parse(...)
  local ok, e = pcall(save, tbl, path, metadata)
  if not ok then reraise("lucid.save", e) end
end

--- lucid.load(path): the table (or tensor) saved in path, and the metadata
-- table (string -> string).
local LOAD = args.schema("lucid.load", {
  {"filename", nil, nil},
  unsupported = {"device"},
})
M.load_schema = LOAD

function M.load(...)
  local path = LOAD:parse(...)
  local ok, tbl, metadata = pcall(function()
    if type(path) ~= "string" then fail("expected a file path (string), got %s", type(path)) end
    loading_path = path
    local reader = open_reader(path)
    local lok, t, md = pcall(load_file, path, reader)
    reader.close()
    if not lok then error(t, 0) end
    return t, md
  end)
  if not ok then reraise("lucid.load", tbl) end
  return tbl, metadata
end

return M

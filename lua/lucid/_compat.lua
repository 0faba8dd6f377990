--- lucid._compat: the one place that knows which Lua runs the library
-- (internal). The library runs unchanged on Lua 5.1, 5.2, 5.3, 5.4 and
-- LuaJIT 2.1; everything that differs between them is reached through here,
-- so no other module tests versions or uses 5.3+ syntax.
--
-- Integers: 5.3+ have an integer subtype; 5.1, 5.2 and LuaJIT have only
-- doubles. There, sizes and indices are whole floats, and a whole number in
-- the 64-bit range counts as an "integer" (math_type says so), which keeps
-- messages, printing and the saved layout the same as on 5.4 for the values
-- programs use. On 5.3+ every function here is exactly the built-in.
local M = {}

local floor = math.floor

-- 5.3+: `//` and the bit operators exist, compiled from text so that this
-- file still parses on 5.1 (loadstring) and 5.2 (load without them fails).
local function compile(src)
  local loader = loadstring or load  -- luacheck: ignore (5.1)
  local ok, chunk = pcall(loader, src)
  if ok and chunk then return chunk() end
  return nil
end

M.has_integers = math.type ~= nil

--- table.unpack / unpack, table.pack with n.
M.unpack = table.unpack or unpack  -- luacheck: ignore (5.1)
M.pack = table.pack or function(...) return {n = select("#", ...), ...} end

--- table.move(a, f, e, t, dst): copies a[f..e] into dst[t..] (dst defaults to a).
M.move = table.move or function(a, f, e, t, dst)
  dst = dst or a
  if e >= f then
    if t > e or t <= f or dst ~= a then  -- no overlap to step on: forward
      for i = 0, e - f do dst[t + i] = a[f + i] end
    else
      for i = e - f, 0, -1 do dst[t + i] = a[f + i] end
    end
  end
  return dst
end

local TWO63 = 2 ^ 63

--- math.type: "integer", "float" or nil. Without integers, a whole number
-- in [-2^63, 2^63) is "integer" (what %d prints exactly; not -0.0, which
-- %d would print as 0).
M.math_type = math.type or function(v)
  if type(v) ~= "number" then return nil end
  if v == 0 and 1 / v < 0 then return "float" end
  if v == floor(v) and v >= -TWO63 and v < TWO63 then return "integer" end
  return "float"
end
local math_type = M.math_type

--- math.tointeger: v as an integer if it is a whole number in range, else nil.
M.tointeger = math.tointeger or function(v)
  if math_type(v) == "integer" then return v end
  return nil
end

--- Whether v is a whole number: an integer, or a float with an integral
-- value below 2^53 in magnitude (so not NaN or an infinity).
function M.is_integer(v)
  local t = math_type(v)
  if t == "integer" then return M.has_integers or math.abs(v) < 2 ^ 53 end
  return t == "float" and v == floor(v) and math.abs(v) < 2 ^ 53
end

--- The largest integer; 2^53 (the largest exact double run) without integers.
M.maxinteger = math.maxinteger or 2 ^ 53

--- a // b (floor division; integer when both are integers on 5.3+).
M.idiv = compile("return function(a, b) return a // b end")
  or function(a, b) return floor(a / b) end

--- 2^k as an integer on 5.3+ (1 << k), a float elsewhere.
M.pow2 = compile("return function(k) return 1 << k end") or function(k) return 2 ^ k end

--- A number as text the way 5.4 prints it for integers ("2", not "2.0"),
-- and tostring otherwise.
function M.num_str(v)
  if math_type(v) == "integer" then return string.format("%d", v) end
  return tostring(v)
end

-- ---- UTF-8 (the utf8 library is 5.3+) ------------------------------------------

--- utf8.char(cp) for one code point.
M.utf8_char = utf8 and utf8.char or function(cp)
  if cp < 0x80 then return string.char(cp) end
  if cp < 0x800 then return string.char(0xC0 + floor(cp / 0x40), 0x80 + cp % 0x40) end
  if cp < 0x10000 then
    return string.char(0xE0 + floor(cp / 0x1000), 0x80 + floor(cp / 0x40) % 0x40, 0x80 + cp % 0x40)
  end
  return string.char(0xF0 + floor(cp / 0x40000), 0x80 + floor(cp / 0x1000) % 0x40,
    0x80 + floor(cp / 0x40) % 0x40, 0x80 + cp % 0x40)
end

-- The byte length of the sequence starting with byte b, or nil for a byte
-- that cannot start one.
local function seq_len(b)
  if b < 0x80 then return 1 end
  if b >= 0xC2 and b <= 0xDF then return 2 end
  if b >= 0xE0 and b <= 0xEF then return 3 end
  if b >= 0xF0 and b <= 0xF4 then return 4 end
  return nil
end

-- The allowed range of a sequence's second byte, by first byte: what rules
-- out overlong forms, surrogates and code points past U+10FFFF (5.4's strict
-- utf8.len).
local SECOND_LO = {[0xE0] = 0xA0, [0xF0] = 0x90}
local SECOND_HI = {[0xED] = 0x9F, [0xF4] = 0x8F}

--- utf8.len(s): the number of characters, or nil when s is not UTF-8.
M.utf8_len = utf8 and utf8.len or function(s)
  local i, n, len = 1, #s, 0
  while i <= n do
    local j = s:find("[\128-\255]", i)  -- ASCII runs at once
    if not j then return len + (n - i + 1) end
    len = len + (j - i)
    local b = s:byte(j)
    local k = seq_len(b)
    if not k or j + k - 1 > n then return nil end
    for p = j + 1, j + k - 1 do
      local c = s:byte(p)
      local lo, hi = 0x80, 0xBF
      if p == j + 1 then lo, hi = SECOND_LO[b] or lo, SECOND_HI[b] or hi end
      if c < lo or c > hi then return nil end
    end
    i, len = j + k, len + 1
  end
  return len
end

--- utf8.offset(s, n) for n >= 1: the byte where character n starts (#s + 1
-- just past the end), or nil.
M.utf8_offset = utf8 and utf8.offset or function(s, n)
  local i, len = 1, #s
  for _ = 2, n do
    if i > len then return nil end
    i = i + (seq_len(s:byte(i)) or 1)
  end
  if i > len + 1 then return nil end
  return i
end

return M

-- Sizes that overflow: a shape whose element count or byte size does not fit
-- is refused before anything is allocated, on every path that makes a
-- tensor (creation, views, copies, broadcasting, joins, products, layers).
-- Never a wrap-around (2^32 * 2^32 is not 0 elements), never an attempt to
-- allocate (the error is about the shape, not "not enough memory"), and the
-- state works afterwards.
--
-- Products of expanded views are checked too: a path that checked its output
-- too late would first copy an operand of 2^31 elements (8 GB); the memory
-- check in refused() catches that as tensor memory allocated before failing.
local lucid = require("lucid")
local nn = require("lucid.nn")

local H = dofile("tests/helpers.lua")

-- Sizes are Lua numbers: integers up to 2^63 - 1 on 5.3+, doubles (exact up to
-- 2^53, then every 2^10 near 2^63) on 5.1, 5.2 and LuaJIT. So M is the largest
-- size each can say, MIN the smallest.
local M = math.maxinteger or 2 ^ 63 - 1024
local MIN = math.mininteger or -2 ^ 63
-- (2^62 + 1) * 4 = 2^64 + 4, which wraps to 4 in 64 bits. 2^62 + 1 is no
-- double; its factors 2^31 + 2^16 + 1 and 2^31 - 2^16 + 1 are, so every Lua
-- can give a product that wraps to 4 (the size of the tensor reshaped).
local WRAP4 = {2 ^ 31 + 2 ^ 16 + 1, 4 * (2 ^ 31 - 2 ^ 16 + 1)}

-- fname: the name the message must start with (after any "file:line: ").
local function refused(fname, f, ...)
  collectgarbage("collect")
  local before = lucid.memory_allocated()
  local ok, err = pcall(f, ...)
  assert.is_false(ok, fname .. " accepted an overflowing size")
  assert.is_string(err)
  local body = err:gsub("^[^\n:]+:%d+: ", "")
  assert.is_nil(body:find("not enough memory", 1, true),
    fname .. " tried to allocate instead of refusing the size: " .. err)
  assert.are.equal(fname, body:sub(1, #fname), "the message should name " .. fname .. ": " .. err)
  assert.are.equal(before, lucid.memory_allocated(), fname .. " allocated tensor memory before failing")
  -- and the state works
  local x = lucid.tensor({{1, 2}, {3, 4}}, {requires_grad = true})
  local y = (x * x):sum()
  y:backward()
  assert.are.equal(30, y:item())
  assert.are.same({{2, 4}, {6, 8}}, x.grad:tolist())
end

describe("overflowing sizes", function()
  local big_pairs = {
    {2 ^ 32, 2 ^ 32},            -- 2^64 elements: wraps to 0 in 64 bits
    {2 ^ 40, 2 ^ 40},
    {2 ^ 40, 2 ^ 40},              -- floats with integer values, as sizes may be
    {2 ^ 31, 2 ^ 31},            -- 2^62 elements: fits int64, not the bytes
    WRAP4,                         -- 2^64 + 4: wraps to 4
    {M, M},
    {2 ^ 62, 2 ^ 62},
  }
  if H.has_integers then  -- 5.3+: the integer 2^62 + 1 itself
    big_pairs[#big_pairs + 1] = {math.tointeger(2 ^ 62) + 1, 4}
  end

  it("are refused by every creation function", function()
    for _, s in ipairs(big_pairs) do
      local a, b = s[1], s[2]
      refused("lucid.zeros", lucid.zeros, a, b)
      refused("lucid.zeros", lucid.zeros, {a, b})
      refused("lucid.ones", lucid.ones, a, b)
      refused("lucid.empty", lucid.empty, a, b)
      refused("lucid.full", lucid.full, a, b, 1.5)
      refused("lucid.full", lucid.full, {a, b}, 1.5)
      refused("lucid.rand", lucid.rand, a, b)
      refused("lucid.randn", lucid.randn, a, b, {dtype = "float64"})
      refused("lucid.randint", lucid.randint, 0, 10, {a, b})
      refused("lucid.eye", lucid.eye, a, b)
      refused("lucid.from_string", lucid.from_string, "abcd", a, b)
      refused("lucid.from_table", lucid.from_table, {1, 2, 3, 4}, {a, b})
    end
    refused("lucid.zeros", lucid.zeros, 2 ^ 31, 2 ^ 31, 2 ^ 31, 0)  -- overflow before the 0
    refused("lucid.eye", lucid.eye, M)
    refused("lucid.linspace", lucid.linspace, 0, 1, M)
    refused("lucid.linspace", lucid.linspace, 0, 1, 2 ^ 62)
    refused("lucid.arange", lucid.arange, 0, 2 ^ 62)
    refused("lucid.arange", lucid.arange, -1e308, 1e308, 1e-300)
  end)

  it("are refused by reshape and view, including products that wrap", function()
    local x = lucid.zeros(4)
    refused("lucid.reshape", x.reshape, x, WRAP4[1], WRAP4[2])     -- wraps to 4 elements
    refused("lucid.reshape", x.reshape, x, -1, WRAP4[1], WRAP4[2])
    refused("lucid.reshape", x.reshape, x, 2 ^ 32, 2 ^ 32)       -- wraps to 0
    refused("lucid.reshape", x.reshape, x, M, -1)
    refused("lucid.view", x.view, x, WRAP4[1], WRAP4[2])
    refused("lucid.view", x.view, x, -1, 2 ^ 32, 2 ^ 32)
    local e = lucid.zeros(0)
    refused("lucid.reshape", e.reshape, e, 2 ^ 40, 2 ^ 40, 0)
    refused("lucid.view", e.view, e, 2 ^ 40, 2 ^ 40, 0)
    local nc = lucid.zeros(2, 2):t()                               -- reshape copies this one
    refused("lucid.reshape", nc.reshape, nc, WRAP4[1], WRAP4[2])
    if H.has_integers then
      local wrap = math.tointeger(2 ^ 62) + 1
      refused("lucid.reshape", x.reshape, x, wrap, 4)
      refused("lucid.view", x.view, x, wrap, 4)
      refused("lucid.reshape", nc.reshape, nc, wrap, 4)
    end
  end)

  it("are refused by expand, broadcast_to, tile and repeat", function()
    local one = lucid.zeros(1, 1)
    for _, s in ipairs(big_pairs) do
      refused("lucid.expand", one.expand, one, s[1], s[2])
      refused("lucid.broadcast_to", one.broadcast_to, one, s[1], s[2])
    end
    local x = lucid.zeros(3)
    refused("lucid.tile", x.tile, x, 2 ^ 62)                      -- 3 * 2^62 overflows int64
    refused("lucid.tile", x.tile, x, M)
    refused("lucid.repeat", x["repeat"], x, 2 ^ 62)
    local y = lucid.zeros(2, 2)
    refused("lucid.tile", y.tile, y, 2 ^ 40, 2 ^ 40)
    refused("lucid.tile", y.tile, y, 2 ^ 31, 2 ^ 31)
    local v = lucid.zeros(1):expand(2 ^ 60)                       -- a legal view, 2^60 elements
    refused("lucid.tile", v.tile, v, 8)
  end)

  it("are refused when joining or broadcasting views whose result overflows", function()
    local v = lucid.zeros(1):expand(2 ^ 60)
    refused("lucid.cat", lucid.cat, {v, v, v, v})
    refused("lucid.stack", lucid.stack, {v, v, v, v})
    local col = lucid.zeros(1, 1):expand(2 ^ 31, 1)
    local row = lucid.zeros(1, 1):expand(1, 2 ^ 31)
    refused("lucid.add", lucid.add, col, row)
    refused("lucid.mul", function() return col * row end)
    refused("lucid.maximum", lucid.maximum, col, row)
    refused("lucid.where", lucid.where, col, row, col)
  end)

  it("are refused by index and split arithmetic that would overflow", function()
    local x = lucid.zeros(3)
    refused("lucid.narrow", x.narrow, x, 1, 2, M)                   -- start + length overflows
    refused("lucid.narrow", x.narrow, x, 1, M, 2)
    refused("lucid.narrow", x.narrow, x, 1, MIN, 1)
    refused("lucid.split", x.split, x, {M, M, 5})                   -- the sum overflows
    refused("lucid.select", x.select, x, 1, MIN)
    refused("lucid.size", x.size, x, MIN)
    refused("lucid.transpose", lucid.zeros(2, 3).transpose, lucid.zeros(2, 3), 1, MIN)
    refused("lucid.unsqueeze", x.unsqueeze, x, MIN)
    local eight = lucid.zeros(1, 1, 1, 1, 1, 1, 1, 2)
    refused("lucid.size", eight.size, eight, MIN)
  end)

  it("are refused by layers before any parameter is made", function()
    refused("nn.Linear", nn.Linear, 2 ^ 40, 2 ^ 40)
    refused("nn.Linear", nn.Linear, M, M)
    refused("nn.Linear", nn.Linear, 2 ^ 31, 2 ^ 31)
  end)

  it("are refused by products of views before any copy (matmul, mm, outer, linear, bmm)", function()
    local col = lucid.zeros(1, 1):expand(2 ^ 31, 1)               -- 2^31 elements, no storage
    local row = lucid.zeros(1, 1):expand(1, 2 ^ 31)
    refused("lucid.matmul", lucid.matmul, col, row)                -- {2^31, 2^31}: 2^62 elements
    refused("lucid.mm", lucid.mm, col, row)
    local w = lucid.zeros(1):expand(2 ^ 31)
    refused("lucid.outer", lucid.outer, w, w)
    refused("lucid.linear", lucid.linear, col, row:t())
    local a = lucid.zeros(1, 1, 1):expand(2 ^ 20, 2 ^ 21, 1)      -- {2^20, 2^21, 2^21} out
    local b = lucid.zeros(1, 1, 1):expand(2 ^ 20, 1, 2 ^ 21)
    refused("lucid.bmm", lucid.bmm, a, b)
    refused("lucid.matmul", lucid.matmul, a, b)
  end)
end)

-- The specs' own portability helpers (tests/helpers.lua): what lets one suite
-- run under lua5.1, lua5.2, lua5.3, lua5.4 and LuaJIT.
local H = dofile("tests/helpers.lua")

local doubles = {0, H.neg_zero, 1, -1, 0.1, -2.5, 1 / 3, 2 ^ 53, 2 ^ -1022, 2 ^ -1074, 3 * 2 ^ -1074,
  1.7976931348623157e308, -4.9406564584124654e-324, 123456.789, math.huge, -math.huge, 1e-310}

local function bits_equal(a, b)
  if a ~= a then return b ~= b end
  if a == 0 and b == 0 then return 1 / a == 1 / b end
  return a == b
end

describe("tests/helpers.lua: the Lua it runs under", function()
  it("names the interpreter and its build directory as the Makefile does", function()
    local v = _VERSION:match("%d+%.%d+")
    if H.luajit then
      assert.are.equal("luajit", H.lua_name)
      assert.are.equal("build/luajit", H.build_dir)
    else
      assert.are.equal("lua" .. v, H.lua_name)
      assert.are.equal(v == "5.4" and "build" or "build/lua" .. v, H.build_dir)
    end
    assert.are.equal(v == "5.3" or v == "5.4", H.has_integers)
    assert.are.equal(H.lua_name == "lua5.4", H.lua54)
    assert.are.equal(not (H.luajit or v == "5.1"), H.table_len)
    assert.are.equal(-math.huge, 1 / H.neg_zero)
    assert.are.equal(v == "5.3" or v == "5.4", H.ipairs_index)
    assert.are.equal(not (H.luajit or v == "5.1"), H.pairs_meta)
    -- the running interpreter can be started by that name
    local out, ok = H.capture(H.lua_name .. [[ -e "io.write(_VERSION)"]])
    assert.is_true(ok)
    assert.are.equal(_VERSION, out)
  end)

  it("reports a command's exit status on every Lua", function()
    assert.is_true(H.execute("exit 0"))
    assert.is_false(H.execute("exit 3"))
    local ok, code = H.execute("exit 0")
    assert.are.same({true, 0}, {ok, code})
    assert.are.equal(3, (select(2, H.execute("exit 3"))))
    local out, captured_ok = H.capture("echo hi; exit 2")
    assert.are.equal("hi\n", out)
    assert.is_false(captured_ok)
  end)

  it("writes whole floats as this Lua prints them", function()
    local text = "ELU(alpha=1.0), Hardtanh(min_val=-1.0, max_val=10.0), eps=0.001, lr=0.05, 1e-05"
    assert.are.equal(H.has_integers and text or
      "ELU(alpha=1), Hardtanh(min_val=-1, max_val=10), eps=0.001, lr=0.05, 1e-05", H.as_printed(text))
    assert.are.equal(tostring(1.0), H.as_printed("1.0"))
  end)

  it("packs and unpacks like table.pack and table.unpack", function()
    local t = H.pack(1, nil, 3, nil)
    assert.are.equal(4, t.n)
    assert.are.same({1, nil, 3}, {H.unpack(t, 1, t.n)})
  end)
end)

describe("tests/helpers.lua: little-endian bytes", function()
  it("round-trips doubles bit for bit in pure Lua", function()
    for _, x in ipairs(doubles) do
      local s = H.lua_pack("<d", x)
      assert.are.equal(8, #s)
      local back, pos = H.lua_unpack("<d", s)
      assert.is_true(bits_equal(x, back), string.format("%.17g came back as %.17g", x, back))
      assert.are.equal(9, pos)
    end
    assert.is_true(H.lua_unpack("<d", H.lua_pack("<d", 0 / 0)) ~= H.lua_unpack("<d", H.lua_pack("<d", 0 / 0)))
  end)

  it("rounds to float32 to nearest, ties to even", function()
    assert.are.equal(13421773 * 2 ^ -27, H.f32(0.1))
    assert.are.equal(1, H.f32(1 + 2 ^ -24))             -- a tie: to the even mantissa
    assert.are.equal(1 + 2 ^ -22, H.f32(1 + 3 * 2 ^ -24))  -- a tie: up to the even one
    assert.are.equal(math.huge, H.f32(2 ^ 128))
    assert.are.equal(2 ^ -149, H.f32(2 ^ -149))         -- the smallest subnormal
    assert.are.equal(0, H.f32(2 ^ -151))
    assert.are.equal(H.f32(0.1), H.lua_unpack("<f", H.lua_pack("<f", 0.1)))
    assert.are.equal("\0\0\192\63", H.lua_pack("<f", 1.5))
  end)

  it("writes 64-bit integers in two's complement", function()
    assert.are.equal("\255\255\255\255\255\255\255\255", H.lua_pack("<i8", -1))
    assert.are.equal("\0\0\0\0\0\0\0\128", H.lua_pack("<i8", -2 ^ 63))
    assert.are.equal("\3\1\0\0\1\0\0\0", H.lua_pack("<I8", 2 ^ 32 + 259))
    assert.are.equal(2 ^ 32 + 259, (H.lua_unpack("<I8", "\3\1\0\0\1\0\0\0")))
    assert.are.equal(-1, (H.lua_unpack("<i8", "\255\255\255\255\255\255\255\255")))
    local s = H.lua_pack("<I8fd", 5, 1.5, -2)
    assert.are.equal(20, #s)
    assert.are.same({5, 1.5, -2, 21}, {H.lua_unpack("<I8fd", s)})
  end)

  -- string.pack exists from Lua 5.3: there the pure-Lua bytes must be its bytes.
  if string.pack then
    it("matches string.pack byte for byte", function()
      for _, x in ipairs(doubles) do
        assert.are.equal(string.pack("<d", x), H.lua_pack("<d", x), string.format("<d %.17g", x))
        assert.are.equal(string.pack("<f", x), H.lua_pack("<f", x), string.format("<f %.17g", x))
      end
      for _, n in ipairs({0, 1, -1, 255, 256, -256, 2 ^ 40 + 7, -(2 ^ 53), 2 ^ 53}) do
        assert.are.equal(string.pack("<i8", math.tointeger(n)), H.lua_pack("<i8", n), "<i8 " .. n)
        if n >= 0 then assert.are.equal(string.pack("<I8", math.tointeger(n)), H.lua_pack("<I8", n), "<I8 " .. n) end
      end
    end)
  end
end)

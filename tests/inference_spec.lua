-- Inference that reuses its buffers: out= arguments and Module:reuse_buffers.
local lucid = require("lucid")
local nn = lucid.nn
local H = dofile("tests/helpers.lua")

describe("out= arguments", function()
  it("write into the given tensor and return it", function()
    local x, w, b = lucid.randn(3, 4), lucid.randn(2, 4), lucid.randn(2)
    local out = lucid.empty(3, 2)
    assert.is_true(rawequal(out, lucid.linear(x, w, b, out)))
    assert.are.same(lucid.linear(x, w, b):tolist(), out:tolist())
    local t = lucid.empty(3, 4)
    assert.is_true(rawequal(t, lucid.tanh(x, {out = t})))
    assert.are.same(lucid.tanh(x):tolist(), t:tolist())
    lucid.tanh(t, t)  -- in place is fine
    assert.are.same(lucid.tanh(lucid.tanh(x)):tolist(), t:tolist())
  end)

  it("refuse buffers of the wrong kind and graphs they cannot record", function()
    local x, w = lucid.randn(3, 4), lucid.randn(2, 4)
    assert.has_error(function() lucid.linear(x, w, nil, lucid.empty(2, 3)) end,
      "lucid.linear: out must be a contiguous float32 tensor of shape {3, 2}, got float32 {2, 3}")
    assert.has_error(function() lucid.tanh(x, lucid.empty(4, 3):transpose(1, 2)) end,
      "lucid.tanh: out must be a contiguous float32 tensor of shape {3, 4}, got float32 {3, 4} (not contiguous)")
    local xg = lucid.randn(3, 4, {requires_grad = true})
    assert.has_error(function() lucid.tanh(xg, lucid.empty(3, 4)) end,
      "lucid.tanh: out= writes without recording a graph: use it under no_grad, with an out that does not require grad")
    lucid.no_grad(function() lucid.tanh(xg, lucid.empty(3, 4)) end)
  end)
end)

describe("Module:reuse_buffers", function()
  local function model()
    lucid.manual_seed(3)
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
  end

  it("gives the same values, in the same tensor every call, allocating nothing", function()
    local m, x = model(), lucid.randn(5, 4)
    local expected = m(x):tolist()
    m:reuse_buffers()
    -- a guard (`local g <close>` on 5.4), closed by hand on every Lua before any assert
    local g = lucid.no_grad()
    local first = m(x)
    local function calls(n)
      local same = true
      for _ = 1, n do same = same and rawequal(first, m(x)) end
      return same
    end
    collectgarbage("collect")
    -- Calls before measuring: a full collection of 5.2 and 5.3 shrinks the
    -- string table and buffers, which the next call grows back once (~1 KB),
    -- and LuaJIT's compiled traces are objects of its heap (~3 KB). LuaJIT
    -- may start a new trace (or a side trace) at any later call, so its
    -- compiler is off while measuring: what is measured is the library.
    local same = calls(200)
    local jit = rawget(_G, "jit")
    if jit then jit.off() end
    collectgarbage("stop")
    local lua_before, tensor_before = collectgarbage("count"), lucid.memory_allocated()
    same = calls(200) and same
    local lua_growth, tensor_growth = collectgarbage("count") - lua_before, lucid.memory_allocated() - tensor_before
    collectgarbage("restart")
    if jit then jit.on() end
    H.close(g)
    assert.are.same(expected, first:tolist())
    assert.is_true(same)
    assert.are.equal(0, tensor_growth)
    assert.is_true(lua_growth < 1, string.format("the Lua heap grew by %.2f KB", lua_growth))
  end)

  it("follows a change of input shape, and behaves as usual while recording", function()
    local m = model():reuse_buffers()
    local a = lucid.no_grad(m, lucid.randn(1, 4))
    local b = lucid.no_grad(m, lucid.randn(3, 4))
    assert.are.same({1, 2}, a.shape)
    assert.are.same({3, 2}, b.shape)
    local y = m(lucid.randn(2, 4))  -- recording on: a fresh tensor with a graph
    assert.is_true(y.requires_grad)
    m:reuse_buffers(false)
    assert.is_false(lucid.no_grad(function() return rawequal(m(lucid.randn(2, 4)), m(lucid.randn(2, 4))) end))
  end)
end)

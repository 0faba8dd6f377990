-- LuaJIT only. LuaJIT's built-in allocator (lj_alloc) is its own heap: in
-- builds without GC64 it lives in the low 2 GB of the address space, and it
-- is never where tensor bytes belong (README, "Memory"). Lua 5.1 to 5.4's
-- built-in allocator is the C library's realloc, with no such limit, so on
-- them this file defines nothing.
if not package.loaded.jit then return end

local lucid = require("lucid")

local MB = 1024 * 1024

describe("tensor memory under LuaJIT", function()
  it("allocates and frees 6.4 GB of tensors in a loop, without collectgarbage, in bounded memory", function()
    -- Nothing here calls collectgarbage(): only the binding's reports of
    -- tensor bytes to the collector keep the loop from holding them all.
    local peak, sum = 0, 0
    for i = 1, 100 do
      local t = lucid.full({16 * MB}, i)  -- 64 MB of float32
      sum = sum + t[1]:item()
      local live = lucid.memory_allocated()
      if live > peak then peak = live end
    end
    assert.are.equal(5050, sum)
    assert.is_true(peak < 1024 * MB, "peak of live tensor bytes: " .. peak)
  end)

  it("holds one tensor over 2 GB and frees it at once", function()
    local n = 550 * 1000 * 1000  -- 2.2 GB of float32
    local before = lucid.memory_allocated()
    local t = lucid.zeros(n)
    assert.are.equal(n, t:numel())
    assert.is_true(lucid.memory_allocated() >= 4 * n)
    getmetatable(t).__close(t)
    assert.is_true(lucid.memory_allocated() <= before)
  end)
end)

-- Tensor memory is visible to the garbage collector: loops need no
-- collectgarbage(), and closing (<close> on 5.4) frees at once.
local lucid = require("lucid")
local nn = require("lucid.nn")
local H = dofile("tests/helpers.lua")

-- Lua 5.4 has two collectors to choose from, both tested; the other Luas run
-- their one incremental collector (5.2's experimental generational mode, which
-- 5.3 dropped, is left out), as it is.
local GC_MODES = H.lua54 and {"generational", "incremental"} or {false}

describe("memory", function()
  it("stays bounded over 20,000 training steps without collectgarbage()", function()
    lucid.manual_seed(1)
    local model = nn.Sequential(nn.Linear(16, 32), nn.Tanh(), nn.Linear(32, 4))
    local x = lucid.randn(8, 16)
    local target = lucid.randn(8, 4)
    collectgarbage("collect")
    local base = lucid.memory_allocated()
    local peak_tensor, peak_lua = 0, 0
    for step = 1, 20000 do
      local diff = model(x) - target
      local loss = (diff * diff):mean()
      loss:backward()
      lucid.no_grad(function()
        for _, p in ipairs(model:parameters()) do p:copy_(p - p.grad * 0.01) end
      end)
      model:zero_grad()
      if step > 1000 then  -- after warm-up
        peak_tensor = math.max(peak_tensor, lucid.memory_allocated())
        peak_lua = math.max(peak_lua, collectgarbage("count"))
      end
    end
    -- One step holds ~40 KB of tensors; a leak over 19,000 steps would be > 700 MB.
    assert.is_true(peak_tensor - base < 8 * 1024 * 1024,
      string.format("tensor memory grew by %d bytes", peak_tensor - base))
    assert.is_true(peak_lua < 64 * 1024, string.format("Lua heap reached %.0f KB", peak_lua))
  end)

  for _, mode in ipairs(GC_MODES) do
    it("keeps large temporaries bounded in " .. (mode or "the default") .. " GC mode", function()
      local previous = mode and collectgarbage(mode)
      collectgarbage("collect")
      local base = lucid.memory_allocated()
      local x = lucid.randn(256, 256, {requires_grad = true})  -- 256 KB per temporary
      local peak = 0
      for _ = 1, 300 do  -- ~1.5 MB of temporaries per step, 450 MB in all
        local loss = lucid.tanh(x * 1.5 + 1):sum()
        loss:backward()
        x.grad = nil
        peak = math.max(peak, lucid.memory_allocated())
      end
      if previous then collectgarbage(previous) end
      assert.is_true(peak - base < 16 * 1024 * 1024,
        string.format("tensor memory peaked %.1f MB above the start", (peak - base) / 2 ^ 20))
    end)
  end

  it("frees a tensor when it is closed", function()
    collectgarbage("collect")
    local before = lucid.memory_allocated()
    local big = lucid.zeros(1024, 1024)
    assert.is_true(lucid.memory_allocated() >= before + 4 * 1024 * 1024)
    H.close(big)
    assert.is_true(lucid.memory_allocated() < before + 4096)
  end)

  -- `<close>` variables are Lua 5.4 syntax: the scope form only there.
  if H.lua54 then
    it("frees a <close> tensor when its scope ends", function()
      collectgarbage("collect")
      local before = lucid.memory_allocated()
      local inside = H.load54([[
        local lucid = ...
        local big <close> = lucid.zeros(1024, 1024)
        return lucid.memory_allocated()
      ]])(lucid)
      assert.is_true(inside >= before + 4 * 1024 * 1024)
      assert.is_true(lucid.memory_allocated() < before + 4096)
    end)
  end

  it("returns every byte once the tensors are collected", function()
    collectgarbage("collect")
    local before = lucid.memory_allocated()
    do
      local x = lucid.randn(64, 64, {requires_grad = true})
      local y = lucid.tanh(x:matmul(x)):sum()
      y:backward()
    end
    collectgarbage("collect")
    collectgarbage("collect")
    assert.are.equal(before, lucid.memory_allocated())
  end)

  -- A Lua-written op (autograd.Function) keeps its ctx, and the tensors the
  -- ctx saved, through a registry reference of its graph node; the
  -- reference must go when the node does, not at the next op, or
  -- memory_allocated() and the host's memory would lag behind the collector.
  it("frees what a Lua-written op saved by collection alone", function()
    collectgarbage("collect")
    local before = lucid.memory_allocated()
    local function run()
      local x = lucid.randn(3, 2, {requires_grad = true})
      local t = lucid.rand(3, 2, {requires_grad = true})
      return lucid.nn.functional.binary_cross_entropy_with_logits(x, t):item()
    end
    assert.is_number(run())
    collectgarbage("collect")
    collectgarbage("collect")
    assert.are.equal(before, lucid.memory_allocated())
  end)
end)

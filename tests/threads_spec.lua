-- lucid.set_num_threads: large elementwise kernels split their rows across
-- threads, with the same bits as one thread.
local lucid = require("lucid")

describe("threads", function()
  it("give the same results as one thread, for every split", function()
    local x = lucid.randn(600007)  -- past the parallel threshold, an odd length
    local y = lucid.randn(600007, {dtype = "float64"})
    local function run()
      return {lucid.tanh(x):to_string(), (x * 2 + x):to_string(), lucid.tanh(y):to_string(),
              (y / 3 - 1):to_string()}
    end
    lucid.set_num_threads(1)
    local one = run()
    for _, n in ipairs({2, 3, 8}) do
      lucid.set_num_threads(n)
      assert.are.equal(n, lucid.get_num_threads())
      local many = run()
      for k = 1, #one do assert.is_true(one[k] == many[k], "output " .. k .. " with " .. n .. " threads") end
    end
    lucid.set_num_threads(1)
  end)

  it("refuse a count below 1", function()
    assert.has_error(function() lucid.set_num_threads(0) end)
  end)
end)

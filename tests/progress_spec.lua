-- lucid.progress: the bar on a terminal, plain lines otherwise, postfix,
-- silence, every kind of iterable. Output goes to a capturing object and the
-- clock is fake, so every character is known.
local lucid = require("lucid")
local H = dofile("tests/helpers.lua")

-- The characters of UTF-8 text, as utf8.len (5.3+): bytes that do not continue one.
local function chars(s) return (select(2, s:gsub("[^\128-\191]", ""))) end

local function capture()
  local out = {parts = {}}
  function out:write(...)
    for i = 1, select("#", ...) do self.parts[#self.parts + 1] = tostring((select(i, ...))) end
    return self
  end
  function out:text() return table.concat(self.parts) end
  return out
end

local function fake_clock()
  local c = {t = 0}
  c.fn = function() return c.t end
  return c
end

local function check_error(expected, f, ...)
  local ok, msg = pcall(f, ...)
  assert.is_false(ok, "expected an error containing: " .. expected)
  msg = tostring(msg)
  assert(msg:find(expected, 1, true), string.format("error %q does not contain %q", msg, expected))
end

describe("lucid.progress", function()
  it("redraws one line on a terminal: bar, count/total, times, rate, postfix", function()
    local out, clock = capture(), fake_clock()
    local bar = lucid.progress(4, {file = out, tty = true, clock = clock.fn, desc = "train", ncols = 60,
      ascii = true})
    local seen = {}
    for i in bar do
      seen[#seen + 1] = i
      clock.t = clock.t + 0.5
      bar:set_postfix{loss = 1 / i}
    end
    assert.are.same({1, 2, 3, 4}, seen)
    -- loss = 1 / 1 is the float 1.0: "1.0" on 5.3+, "1" on the Luas with one number type
    local one = tostring(1 / 1)
    assert.are.same({
      "\rtrain:   0%|                         | 0/4 [00:00<?, ?it/s]",
      "\rtrain:  25%|##" .. (" "):rep(9 - #one) .. "| 1/4 [00:00<00:01, 2.00it/s, loss=" .. one .. "]",
      "\rtrain:  50%|####    | 2/4 [00:01<00:01, 2.00it/s, loss=0.5]",
      "\rtrain:  75%|###  | 3/4 [00:01<00:00, 2.00it/s, loss=0.3333]",
      "\rtrain: 100%|#######| 4/4 [00:02<00:00, 2.00it/s, loss=0.25]",
      "\n",
    }, out.parts)
    for _, line in ipairs(out.parts) do assert.is_true(chars(line) <= 60) end
  end)

  it("draws Unicode blocks, cuts a line to the width, and pads a shorter line over a longer one", function()
    local out, clock = capture(), fake_clock()
    local bar = lucid.progress(8, {file = out, tty = true, clock = clock.fn, ncols = 50, ascii = false})
    for i in bar do
      clock.t = clock.t + 1
      bar:set_postfix(i == 1 and "a long postfix here" or nil)
    end
    local parts = out.parts
    assert.are.equal("\r  0%|                      | 0/8 [00:00<?, ?it/s]", parts[1])
    assert.are.equal("\r 12% 1/8 [00:01<00:07, 1.00it/s, a long postfix h", parts[2])  -- no room for a bar
    assert.are.equal("\r 25%|███▊           | 2/8 [00:02<00:06, 1.00it/s]", parts[3])
    assert.are.equal("\r 87%|█████████████▏ | 7/8 [00:07<00:01, 1.00it/s]", parts[#parts - 2])
    assert.are.equal("\r100%|███████████████| 8/8 [00:08<00:00, 1.00it/s]", parts[#parts - 1])
    assert.are.equal("\n", parts[#parts])
    for i = 1, #parts - 1 do
      assert.are.equal(50, chars(parts[i]), "line " .. i)  -- \r and ncols - 1 characters
    end

    out = capture()
    clock.t = 0
    local k = 0
    local counter = lucid.progress(function() k = k + 1 if k <= 2 then return k end end,
      {file = out, tty = true, clock = clock.fn})
    for i in counter do
      clock.t = clock.t + 1
      counter:set_postfix(i == 1 and {loss = 12.5} or nil)
    end
    assert.are.same({
      "\r0it [00:00, ?it/s]",
      "\r1it [00:01, 1.00it/s, loss=12.5]",
      "\r2it [00:02, 1.00it/s]           ",  -- spaces erase the end of the longer line
      "\n",
    }, out.parts)
  end)

  it("prints plain lines when the output is not a terminal: every N items and at the end", function()
    local out, clock = capture(), fake_clock()
    local bar = lucid.progress({"a", "b", "c", "d", "e"}, {file = out, tty = false, every = 2, clock = clock.fn,
      desc = "eval"})
    local seen = {}
    for v in bar do
      seen[#seen + 1] = v
      clock.t = clock.t + 2
      bar:set_postfix{acc = 0.5, n = #seen}
    end
    assert.are.same({"a", "b", "c", "d", "e"}, seen)
    assert.are.equal(
      "eval:  40% 2/5 [00:04<00:06, 2.00s/it, acc=0.5, n=2]\n" ..
      "eval:  80% 4/5 [00:08<00:02, 2.00s/it, acc=0.5, n=4]\n" ..
      "eval: 100% 5/5 [00:10<00:00, 2.00s/it, acc=0.5, n=5]\n", out:text())
    assert.is_nil(out:text():find("\r", 1, true))
  end)

  it("prints plain lines by time when no `every` is given, and no line twice", function()
    local out, clock = capture(), fake_clock()
    for _ in lucid.progress(30, {file = out, tty = false, clock = clock.fn, interval = 10}) do
      clock.t = clock.t + 1
    end
    assert.are.equal(
      " 33% 10/30 [00:10<00:20, 1.00it/s]\n" ..
      " 66% 20/30 [00:20<00:10, 1.00it/s]\n" ..
      "100% 30/30 [00:30<00:00, 1.00it/s]\n", out:text())
  end)

  it("shows a count without a total, and s/it when slow", function()
    local out, clock = capture(), fake_clock()
    local k = 0
    local function gen() k = k + 1 if k <= 3 then return k end end
    for _ in lucid.progress(gen, {file = out, tty = false, every = 1, clock = clock.fn, unit = "batch"}) do
      clock.t = clock.t + 4
    end
    assert.are.equal(
      "1batch [00:04, 4.00s/batch]\n2batch [00:08, 4.00s/batch]\n3batch [00:12, 4.00s/batch]\n", out:text())
    out = capture()
    k = 0
    clock.t = 0
    for _ in lucid.progress(gen, {file = out, tty = false, total = 3, every = 3, clock = clock.fn}) do
      clock.t = clock.t + 1
    end
    assert.are.equal("100% 3/3 [00:03<00:00, 1.00it/s]\n", out:text())
  end)

  it("is silent with file = false, and never touches io.stderr then", function()
    local stderr = io.stderr
    local spy = capture()
    io.stderr = spy  -- luacheck: ignore
    local ok, err = pcall(function()
      local n = 0
      local bar = lucid.progress(5, {file = false})
      for _ in bar do n = n + 1 bar:set_postfix{x = 1} bar:write("hidden") end
      assert.are.equal(5, n)
      assert.are.equal(5, bar.n)
    end)
    io.stderr = stderr  -- luacheck: ignore
    assert(ok, err)
    assert.are.same({}, spy.parts)
  end)

  it("wraps a DataLoader: every batch value passes through, total is #loader", function()
    local X = lucid.arange(10):reshape(5, 2)
    local loader = lucid.data.DataLoader(lucid.data.TensorDataset(X, lucid.arange(5)), {batch_size = 2})
    local out, clock = capture(), fake_clock()
    local bar = lucid.progress(loader, {file = out, tty = false, every = 1, clock = clock.fn})
    assert.are.equal(3, bar.total)
    local sizes = {}
    for xb, yb in bar do
      clock.t = clock.t + 1
      sizes[#sizes + 1] = xb.shape[1] .. "/" .. yb.shape[1]
    end
    assert.are.same({"2/2", "2/2", "1/1"}, sizes)
    assert.are.equal(" 33% 1/3 [00:01<00:02, 1.00it/s]\n 66% 2/3 [00:02<00:01, 1.00it/s]\n"
      .. "100% 3/3 [00:03<00:00, 1.00it/s]\n", out:text())
  end)

  it("ends the line after a break when closed", function()
    local out = capture()
    local bar = lucid.progress(10, {file = out, tty = true, clock = function() return 0 end, ncols = 40})
    for i in bar do if i == 3 then break end end
    bar:close()
    local parts = out.parts
    assert.are.equal("\n", parts[#parts])
    assert.truthy(parts[#parts - 1]:find(" 2/10 ", 1, true))  -- the third item did not finish

    out = capture()
    bar = lucid.progress(10, {file = out, tty = false, clock = function() return 0 end})
    for i in bar do if i == 4 then break end end
    bar:close()
    assert.are.equal(" 30% 3/10 [00:00<?, ?it/s]\n", out:text())
  end)

  -- A generic for closes its fourth value when the loop ends, by a break too,
  -- and `<close>` variables exist: both only in Lua 5.4, so only there does the
  -- bar end its line by itself.
  if H.lua54 then
    it("ends the line after a break when used directly in a for, or through <close>", function()
      local out = capture()
      for i in lucid.progress(10, {file = out, tty = true, clock = function() return 0 end, ncols = 40}) do
        if i == 3 then break end
      end
      local parts = out.parts
      assert.are.equal("\n", parts[#parts])
      assert.truthy(parts[#parts - 1]:find(" 2/10 ", 1, true))  -- the third item did not finish

      out = capture()
      H.load54([[
        local lucid, out = ...
        local bar <close> = lucid.progress(10, {file = out, tty = false, clock = function() return 0 end})
        for i in bar do if i == 4 then break end end
      ]])(lucid, out)
      assert.are.equal(" 30% 3/10 [00:00<?, ?it/s]\n", out:text())
    end)
  end

  it("counts by hand with update, and close is idempotent", function()
    local out, clock = capture(), fake_clock()
    local bar = lucid.progress(100, {file = out, tty = false, every = 50, clock = clock.fn})
    for _ = 1, 4 do clock.t = clock.t + 1 bar:update(25) end
    bar:close()
    bar:close()
    assert.are.equal(" 50% 50/100 [00:02<00:02, 25.00it/s]\n100% 100/100 [00:04<00:00, 25.00it/s]\n", out:text())
  end)

  it("survives an output that fails", function()
    local broken = {write = function() error("broken pipe") end}
    local n = 0
    for _ in lucid.progress(3, {file = broken, tty = true}) do n = n + 1 end
    assert.are.equal(3, n)
    local closed = io.tmpfile()
    closed:close()
    n = 0
    for _ in lucid.progress(3, {file = closed, tty = false, every = 1}) do n = n + 1 end
    assert.are.equal(3, n)
  end)

  it("decides tty itself: a capturing object is not a terminal, and a file is not either", function()
    local out = capture()
    local bar = lucid.progress(2, {file = out})
    assert.is_false(bar.tty)
    local f = io.tmpfile()
    assert.is_false(lucid.progress(2, {file = f}).tty)
    f:close()
    assert.are.equal("boolean", type(lucid.progress(2).tty))  -- io.stderr: whatever it is here
  end)

  it("names the problem", function()
    check_error("lucid.progress: unknown option 'totl'", lucid.progress, 3, {totl = 3})
    check_error("lucid.progress: a count must be a non-negative integer, got -1", lucid.progress, -1)
    check_error("lucid.progress: cannot iterate over a boolean", lucid.progress, true)
    check_error("lucid.progress: file must be a file or an object with a write method", lucid.progress, 3, {file = 1})
    check_error("lucid.progress: total must be a non-negative integer", lucid.progress, 3, {total = "x"})
    check_error("lucid.progress: every must be a positive integer", lucid.progress, 3, {every = 0})
    -- tqdm's first options go positionally too: (iterable, desc, total, leave, file, ncols)
    check_error("lucid.progress: too many arguments", lucid.progress, 3, "fast", 3, true, false, 80, 1)
    check_error("lucid.progress: total must be a non-negative integer", lucid.progress, 3, "fast", "x")
  end)
end)

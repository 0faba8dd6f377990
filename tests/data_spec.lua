-- lucid.data: TensorDataset, DataLoader (batching, shuffling, epochs, errors).
local lucid = require("lucid")
local data = lucid.data
local H = dofile("tests/helpers.lua")
local len = H.len  -- #ds, #loader on every Lua

local function check_error(expected, f, ...)
  local ok, msg = pcall(f, ...)
  assert.is_false(ok, "expected an error containing: " .. expected)
  msg = tostring(msg)
  assert(msg:find(expected, 1, true), string.format("error %q does not contain %q", msg, expected))
  assert.are.equal(6, lucid.tensor({1, 2, 3}):sum():item())  -- the state still works
end

-- X row i is {i, 10 i}, Y[i] = i: a batch's rows tell which items it holds.
local function make(n)
  local rows, ys = {}, {}
  for i = 1, n do rows[i], ys[i] = {i, 10 * i}, i end
  return lucid.tensor(rows), lucid.tensor(ys)
end

local function epoch(loader)
  local seen, sizes = {}, {}
  for xb, yb in loader do
    sizes[#sizes + 1] = xb.shape[1]
    local x, y = xb:tolist(), yb:tolist()
    for j = 1, #y do
      assert.are.same({y[j], 10 * y[j]}, x[j])  -- x and y stay paired
      seen[#seen + 1] = y[j]
    end
  end
  return seen, sizes
end

describe("lucid.data.TensorDataset", function()
  it("indexes the first dimension of every tensor", function()
    local X, Y = make(5)
    local ds = data.TensorDataset(X, Y)
    assert.are.equal(5, len(ds))
    local x, y = ds:get(2)
    assert.are.same({2, 20}, x:tolist())
    assert.are.equal(2, y:item())
    local item = ds[3]  -- one value per index in Lua: an array of the slices
    assert.are.same({3, 30}, item[1]:tolist())
    assert.are.equal(3, item[2]:item())
    assert.are.equal(5, (ds:get(-1)):tolist()[1])
    assert.are.equal(ds.tensors[1], X)
    assert.are.equal("TensorDataset(5 items; {5, 2}, {5})", tostring(ds))
  end)

  it("names the problem", function()
    local X, Y = make(5)
    check_error("lucid.data.TensorDataset: expected at least one tensor", data.TensorDataset)
    check_error("lucid.data.TensorDataset: argument 2 is a table, expected a tensor", data.TensorDataset, X, {1})
    check_error("lucid.data.TensorDataset: tensor 1 is 0-d", data.TensorDataset, lucid.tensor(1))
    check_error("tensor 2 has shape {4}, its first dimension 4 differs from tensor 1's 5 (shape {5, 2})",
      data.TensorDataset, X, lucid.zeros(4))
    local ds = data.TensorDataset(X, Y)
    check_error("lucid.data.TensorDataset: index 6 out of range (the dataset has 5 items)", ds.get, ds, 6)
    check_error("lucid.data.TensorDataset: index 0 out of range", ds.get, ds, 0)
    check_error("lucid.data.TensorDataset: the index must be an integer, got 1.5", ds.get, ds, 1.5)
  end)
end)

describe("lucid.data.DataLoader", function()
  it("batches in order, with a smaller last batch unless drop_last", function()
    local ds = data.TensorDataset(make(10))
    local loader = data.DataLoader(ds, {batch_size = 4})
    assert.are.equal(3, len(loader))
    local seen, sizes = epoch(loader)
    assert.are.same({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, seen)
    assert.are.same({4, 4, 2}, sizes)
    local dropping = data.DataLoader(ds, {batch_size = 4, drop_last = true})
    assert.are.equal(2, len(dropping))
    seen, sizes = epoch(dropping)
    assert.are.same({1, 2, 3, 4, 5, 6, 7, 8}, seen)
    assert.are.same({4, 4}, sizes)
    assert.are.equal(10, len(data.DataLoader(ds)))  -- batch_size 1 by default
    assert.are.equal(1, len(data.DataLoader(ds, {batch_size = 64})))
    assert.are.equal(0, len(data.DataLoader(ds, {batch_size = 64, drop_last = true})))
    local xb, yb = data.DataLoader(ds, {batch_size = 3}):iter()()
    assert.are.same({3, 2}, xb.shape)
    assert.are.same({3}, yb.shape)
  end)

  it("shuffles every epoch, repeatably under lucid.manual_seed", function()
    local ds = data.TensorDataset(make(50))
    local loader = data.DataLoader(ds, {batch_size = 8, shuffle = true})
    lucid.manual_seed(7)
    local e1, sizes = epoch(loader)
    local e2 = epoch(loader)
    lucid.manual_seed(7)
    local r1 = epoch(loader)
    local r2 = epoch(loader)
    assert.are.same(e1, r1)
    assert.are.same(e2, r2)
    assert.are_not.same(e1, e2)
    assert.are.same({8, 8, 8, 8, 8, 8, 2}, sizes)
    local sorted, in_order = {}, {}
    for i, v in ipairs(e1) do sorted[i], in_order[i] = v, i end
    table.sort(sorted)
    assert.are.same(in_order, sorted)  -- a permutation: every item once
    assert.are_not.same(in_order, e1)
  end)

  it("starts a new epoch with every for loop, after a break too, and loops can nest", function()
    local loader = data.DataLoader(data.TensorDataset(make(6)), {batch_size = 2})
    for _, yb in loader do
      assert.are.same({1, 2}, yb:tolist())
      break
    end
    local firsts = {}
    for _, yb in loader do firsts[#firsts + 1] = yb:tolist()[1] end
    assert.are.same({1, 3, 5}, firsts)
    local pairs_seen = 0
    for _, outer in loader do
      for _, inner in loader do
        pairs_seen = pairs_seen + 1
        assert.are.equal(2, #inner:tolist())
      end
      assert.are.equal(2, #outer:tolist())
    end
    assert.are.equal(9, pairs_seen)
    -- a manual iterator runs one epoch
    local nxt = loader:iter()
    assert.are.same({1, 2}, select(2, nxt()):tolist())
    assert.are.same({3, 4}, select(2, nxt()):tolist())
    assert.are.same({5, 6}, select(2, nxt()):tolist())
    assert.is_nil(nxt())
    assert.is_nil(nxt())
  end)

  it("makes batches that do not share storage with the dataset", function()
    local X, Y = make(4)
    local xb = data.DataLoader(data.TensorDataset(X, Y), {batch_size = 2}):iter()()
    xb:fill_(0)
    assert.are.same({1, 10}, X:tolist()[1])
  end)

  it("batches any dataset: arrays of numbers, tables, strings, and get(i) with several values", function()
    local numbers = data.DataLoader({1, 2, 3, 4, 5}, {batch_size = 2})
    local got = {}
    for b in numbers do got[#got + 1] = b:tolist() end
    assert.are.same({{1, 2}, {3, 4}, {5}}, got)

    local records = {
      {x = lucid.tensor({1, 1}), label = 0, name = "a"},
      {x = lucid.tensor({2, 2}), label = 1, name = "b"},
      {x = lucid.tensor({3, 3}), label = 0, name = "c"},
    }
    local b = data.DataLoader(records, {batch_size = 3}):iter()()
    assert.are.same({{1, 1}, {2, 2}, {3, 3}}, b.x:tolist())
    assert.are.same({0, 1, 0}, b.label:tolist())
    assert.are.same({"a", "b", "c"}, b.name)

    -- the protocol: __len and get(i) (which may return several values)
    local Squares = {}
    Squares.__index = Squares
    Squares.__len = function() return 5 end
    function Squares:get(i) return lucid.tensor({i, i}), i * i, "#" .. i end
    local sq = setmetatable({}, Squares)
    local seen = {}
    for x, y, tag in data.DataLoader(sq, {batch_size = 2}) do
      seen[#seen + 1] = {x:tolist(), y:tolist(), tag}
    end
    assert.are.same({{{{1, 1}, {2, 2}}, {1, 4}, {"#1", "#2"}},
                     {{{3, 3}, {4, 4}}, {9, 16}, {"#3", "#4"}},
                     {{{5, 5}}, {25}, {"#5"}}}, seen)

    -- or __len and __index
    local Lazy = setmetatable({}, {__len = function() return 3 end,
      __index = function(_, i) return lucid.full({2}, i) end})
    local rows = {}
    for xb in data.DataLoader(Lazy, {batch_size = 3}) do rows = xb:tolist() end
    assert.are.same({{1, 1}, {2, 2}, {3, 3}}, rows)

    -- a tensor is a dataset of its rows
    local t = data.DataLoader(lucid.arange(6):reshape(3, 2), {batch_size = 2}):iter()()
    assert.are.same({{0, 1}, {2, 3}}, t:tolist())
  end)

  it("takes a collate_fn that receives the packed samples", function()
    local loader = data.DataLoader(data.TensorDataset(make(5)), {batch_size = 2, collate_fn = function(samples)
      local ys = {}
      for j, s in ipairs(samples) do
        assert.are.equal(2, s.n)
        ys[j] = s[2]:item()
      end
      return table.concat(ys, "+"), #samples
    end})
    local got = {}
    for text, n in loader do got[#got + 1] = text .. "/" .. n end
    -- item() gives floats, which print as "1.0" on 5.3+ and "1" before
    local function f(x) return tostring(x + 0.0) end
    assert.are.same({f(1) .. "+" .. f(2) .. "/2", f(3) .. "+" .. f(4) .. "/2", f(5) .. "/1"}, got)
  end)

  it("builds batches the same way without lucid.stack and lucid.index_select", function()
    local ds = data.TensorDataset(make(5))
    lucid.manual_seed(11)
    local with = {}
    for xb, yb in data.DataLoader(ds, {batch_size = 2, shuffle = true}) do with[#with + 1] = {xb:tolist(), yb:tolist()} end
    local stack, index_select = rawget(lucid, "stack"), rawget(lucid, "index_select")
    rawset(lucid, "stack", nil)
    rawset(lucid, "index_select", nil)
    local ok, err = pcall(function()
      lucid.manual_seed(11)
      local without = {}
      for xb, yb in data.DataLoader(ds, {batch_size = 2, shuffle = true}) do
        without[#without + 1] = {xb:tolist(), yb:tolist()}
      end
      assert.are.same(with, without)
      check_error("cannot batch the items: item 2 has shape {3}, item 1 {2}", function()
        for _ in data.DataLoader({lucid.zeros(2), lucid.zeros(3)}, {batch_size = 2}) do end
      end)
    end)
    rawset(lucid, "stack", stack)
    rawset(lucid, "index_select", index_select)
    assert(ok, err)
  end)

  it("names the problem", function()
    local ds = data.TensorDataset(make(3))
    check_error("lucid.data.DataLoader: batch_size must be a positive integer, got 0",
      data.DataLoader, ds, {batch_size = 0})
    check_error("lucid.data.DataLoader: batch_size must be a positive integer, got 1.5",
      data.DataLoader, ds, {batch_size = 1.5})
    check_error("lucid.data.DataLoader: unknown option 'batchsize'", data.DataLoader, ds, {batchsize = 2})
    -- options go positionally in PyTorch's order too: (dataset, batch_size, shuffle)
    assert.are.equal(2, data.DataLoader(ds, 2, true).batch_size)
    check_error("lucid.data.DataLoader: shuffle must be a boolean, got string", data.DataLoader, ds, 4, "yes")
    check_error("lucid.data.DataLoader: option 'num_workers' is not supported", data.DataLoader, ds,
      {num_workers = 2})
    check_error("lucid.data.DataLoader: expected a dataset", data.DataLoader, 42)
    check_error("lucid.data.DataLoader: the dataset has no length",
      data.DataLoader, setmetatable({}, {__len = function() return "many" end}))
    check_error("lucid.data.DataLoader: collate_fn must be a function", data.DataLoader, ds, {collate_fn = 1})
    check_error("cannot batch the items: item 2 has shape {3}, item 1 {2}", function()
      for _ in data.DataLoader({lucid.zeros(2), lucid.zeros(3)}, {batch_size = 2}) do end
    end)
    check_error("cannot batch the items: item 1 is a tensor, item 2 a number", function()
      for _ in data.DataLoader({lucid.zeros(2), 3}, {batch_size = 2}) do end
    end)
    check_error("the dataset returned nothing for item 2", function()
      for _ in data.DataLoader(setmetatable({}, {__len = function() return 2 end,
        __index = function(_, i) if i == 1 then return 1 end end}), {batch_size = 2}) do end
    end)
    local loader = data.DataLoader(ds)
    check_error("called with an unknown control value", loader, nil, "stray")
  end)
end)

describe("lucid.data.random_split and Subset", function()
  local function sizes(parts)
    local out = {}
    for i, p in ipairs(parts) do out[i] = len(p) end
    return out
  end
  -- every index of 1..n exactly once across the parts
  local function assert_partition(parts, n)
    local seen = {}
    for _, p in ipairs(parts) do
      assert.are.equal(data.Subset_class, getmetatable(p))
      for _, j in ipairs(p.indices) do
        assert.is_nil(seen[j], "index " .. j .. " twice")
        seen[j] = true
      end
    end
    for j = 1, n do assert.is_true(seen[j], "index " .. j .. " missing") end
  end

  it("splits by counts into disjoint subsets, returned as an array", function()
    local ds = data.TensorDataset(make(10))
    local parts = data.random_split(ds, {6, 3, 1})
    assert.are.equal(3, #parts)
    assert.are.same({6, 3, 1}, sizes(parts))
    assert_partition(parts, 10)
    for _, p in ipairs(parts) do assert.are.equal(ds, p.dataset) end
    assert.are.same({10, 0}, sizes(data.random_split(ds, {10, 0})))
  end)

  it("splits by fractions as PyTorch 1.13: floor of each share, the rest one each to the first", function()
    local ds = data.TensorDataset(make(10))
    assert.are.same({4, 3, 3}, sizes(data.random_split(ds, {0.33, 0.33, 0.34})))
    assert.are.same({3, 2}, sizes(data.random_split({1, 2, 3, 4, 5}, {0.5, 0.5})))
    assert.are.same({1, 1, 5}, sizes(data.random_split({1, 2, 3, 4, 5, 6, 7}, {0.1, 0.1, 0.8})))
    assert.are.same({8, 2}, sizes(data.random_split(ds, {0.8, 0.2})))
    assert.are.same({0, 0}, sizes(data.random_split({}, {0.5, 0.5})))
    assert_partition(data.random_split(ds, {0.25, 0.25, 0.25, 0.25}), 10)
  end)

  it("draws from lucid's generator: manual_seed repeats a split", function()
    local ds = data.TensorDataset(make(20))
    lucid.manual_seed(5)
    local a = data.random_split(ds, {0.5, 0.5})
    lucid.manual_seed(5)
    local b = data.random_split(ds, {10, 10})
    assert.are.same(a[1].indices, b[1].indices)
    assert.are.same(a[2].indices, b[2].indices)
    local c = data.random_split(ds, {10, 10})
    assert.are_not.same(a[1].indices, c[1].indices)
    local sorted = {}
    for i, j in ipairs(a[1].indices) do sorted[i] = j end
    table.sort(sorted)
    assert.are_not.same(sorted, a[1].indices)  -- shuffled, not the first ten in order
  end)

  it("a Subset reads its dataset's items, and a DataLoader batches it", function()
    local ds = data.TensorDataset(make(6))
    local sub = data.Subset(ds, {5, 2, 6})
    assert.are.equal(3, len(sub))
    local x, y = sub:get(1)
    assert.are.same({5, 50}, x:tolist())
    assert.are.equal(5, y:item())
    assert.are.equal(6, select(2, sub:get(-1)):item())
    assert.are.same({2, 20}, sub[2][1]:tolist())   -- sub[i] is dataset[indices[i]]
    assert.is_nil(sub[4])
    assert.are.equal("Subset(3 of 6 items)", tostring(sub))
    local seen, batch_sizes = epoch(data.DataLoader(sub, {batch_size = 2}))
    assert.are.same({5, 2, 6}, seen)
    assert.are.same({2, 1}, batch_sizes)
    -- a Subset of a Subset, shuffled, and with a collate_fn (the general path)
    local inner = data.Subset(sub, lucid.tensor({3, 1}, {dtype = "int64"}))
    seen = epoch(data.DataLoader(inner, {batch_size = 2, shuffle = true}))
    table.sort(seen)
    assert.are.same({5, 6}, seen)
    local got = data.DataLoader(inner, {batch_size = 2, collate_fn = function(samples)
      return samples[1][2]:item(), samples[2][2]:item()
    end}):iter()
    assert.are.same({6, 5}, {got()})
    -- other datasets: an array, a tensor's rows
    local words = data.Subset({"a", "b", "c"}, {3, 3, 1})
    assert.are.same({"c", "c", "a"}, {words:get(1), words[2], words:get(3)})
    local rows = data.random_split(lucid.arange(4):reshape(4, 1), {2, 2})
    assert.are.equal(2, len(rows[1]))
    assert.are.same({1}, rows[1]:get(1).shape)
    -- train / validation, the usual use
    lucid.manual_seed(1)
    local train, val = H.unpack(data.random_split(data.TensorDataset(make(50)), {0.8, 0.2}))
    local all = {}
    for _, v in ipairs(epoch(data.DataLoader(train, {batch_size = 16, shuffle = true}))) do all[#all + 1] = v end
    for _, v in ipairs(epoch(data.DataLoader(val, {batch_size = 16}))) do all[#all + 1] = v end
    table.sort(all)
    assert.are.same(lucid.arange(1, 51):tolist(), all)
  end)

  it("names the problem", function()
    local ds = data.TensorDataset(make(10))
    check_error("lucid.data.random_split: the lengths add up to 9, but the dataset has 10 items",
      data.random_split, ds, {5, 4})
    check_error("lucid.data.random_split: fraction -0.5 (lengths[2]) is not between 0 and 1",
      data.random_split, ds, {1, -0.5, 0.5})
    check_error("lucid.data.random_split: lengths[1] is 2.5: lengths are counts (whole numbers >= 0) or "
      .. "fractions that add up to 1", data.random_split, ds, {2.5, 7.5})
    check_error("lucid.data.random_split: lengths[2] is -1", data.random_split, ds, {11, -1})
    check_error("lucid.data.random_split: lengths must be a non-empty array of counts or fractions, got table",
      data.random_split, ds, {})
    check_error("lucid.data.random_split: lengths[2] must be a number, got string", data.random_split, ds, {1, "9"})
    check_error("lucid.data.random_split: lengths is required", data.random_split, ds)
    check_error("lucid.data.random_split: option 'generator' is not supported", data.random_split, ds, {0.5, 0.5},
      {generator = 1})
    check_error("lucid.data.random_split: expected a dataset (a table with a length and items), got number",
      data.random_split, 10, {10})
    check_error("lucid.data.random_split: the dataset has no length",
      data.random_split, setmetatable({}, {__len = function() return -1 end}), {1})
    check_error("lucid.data.Subset: index 11 (indices[2]) is not an item of the dataset (1 to 10)",
      data.Subset, ds, {1, 11})
    check_error("lucid.data.Subset: index 0 (indices[1])", data.Subset, ds, {0})
    check_error("lucid.data.Subset: index 1.5 (indices[1])", data.Subset, ds, {1.5})
    check_error("lucid.data.Subset: indices must be an array or a 1-d integer tensor, got a 1-d float32 tensor",
      data.Subset, ds, lucid.tensor({1, 2}))
    check_error("lucid.data.Subset: indices must be an array or a 1-d integer tensor, got 3", data.Subset, ds, 3)
    local sub = data.Subset(ds, {1, 2})
    check_error("lucid.data.Subset: index 3 out of range (the subset has 2 items)", sub.get, sub, 3)
    check_error("lucid.data.Subset: the index must be an integer, got 1.5", sub.get, sub, 1.5)
  end)
end)

-- Indexing with a table key: t[{i, {first, last [, step]}, {}}] reads a view
-- (numbers select, ranges are inclusive and read as t:slice reads them),
-- and the same keys can be assigned. Checked against select and slice, the
-- ops it is made of (they have PyTorch fixtures of their own).
local lucid = require("lucid")
local H = dofile("tests/helpers.lua")

local function grid(r, c, opts)  -- values 1..r*c, row-major
  local rows = {}
  for i = 1, r do
    rows[i] = {}
    for j = 1, c do rows[i][j] = (i - 1) * c + j end
  end
  return lucid.tensor(rows, opts or {dtype = "float64"})
end

local function check_error(pattern, f)
  local ok, err = pcall(f)
  assert.is_false(ok)
  assert.is_truthy(tostring(err):find(pattern, 1, true), "got: " .. tostring(err))
  assert.is_truthy(tostring(err):find("index_spec.lua:%d+:"), "no caller position: " .. tostring(err))
end

describe("t[{...}]", function()
  local a = grid(3, 4)

  it("selects with numbers, one per dimension from the first", function()
    assert.are.same(a:select(1, 2):select(1, 3):item(), a[{2, 3}]:item())
    assert.are.same(a:select(1, -1):tolist(), a[{-1}]:tolist())
    assert.are.same({}, a[{2, -2}].shape)
    assert.are.same({4}, a[{1}].shape)
  end)

  it("takes inclusive ranges read as t:slice, and {} for a whole dimension", function()
    assert.are.same(a:slice(2, 2, 3):tolist(), a[{{}, {2, 3}}]:tolist())
    assert.are.same(a:slice(1, 2, -1):tolist(), a[{{2, -1}}]:tolist())
    assert.are.same(a:slice(2, 1, -1, 2):tolist(), a[{{}, {1, -1, 2}}]:tolist())
    assert.are.same({{6}}, a[{{2}, {2}}]:tolist())          -- {i} is {i, i}: the dim stays
    assert.are.same({3, 0}, a[{{}, {3, 2}}].shape)          -- first after last: empty
    assert.are.same(a:tolist(), a[{}]:tolist())
    assert.are.same({7, 8}, a[{2, {3, 10}}]:tolist())       -- last past the end: clamped
  end)

  it("mixes numbers and ranges; a number drops its dimension", function()
    local b = lucid.arange(24, {dtype = "float64"}):reshape(2, 3, 4)
    assert.are.same(b:select(1, 2):slice(2, 2, 4, 2):tolist(), b[{2, {}, {2, 4, 2}}]:tolist())
    assert.are.same(b:slice(1, 1, 2):select(2, 3):tolist(), b[{{1, 2}, 3}]:tolist())
    assert.are.same({2, 3}, b[{{}, {}, 1}].shape)
  end)

  it("gives views: a change through one shows in the tensor", function()
    local c = grid(3, 4)
    local v = c[{{2, 3}, {1, 2}}]
    v:fill_(0)
    assert.are.same({{1, 2, 3, 4}, {0, 0, 7, 8}, {0, 0, 11, 12}}, c:tolist())
  end)

  it("records gradients like the ops it is made of", function()
    local x = grid(3, 4, {dtype = "float64", requires_grad = true})
    local y = x[{{2, 3}, {1, -1, 2}}] * 2
    y:sum():backward()
    assert.are.same({{0, 0, 0, 0}, {2, 0, 2, 0}, {2, 0, 2, 0}}, x.grad:tolist())
    assert.is_true(lucid.autograd.gradcheck(function(t) return t[{-1, {2, 3}}]:tanh() end,
      {lucid.randn(2, 4, {dtype = "float64", requires_grad = true})}))
  end)

  it("assigns a number or a tensor that broadcasts, in place", function()
    local c = grid(3, 4)
    c[{2, {2, 3}}] = -1
    assert.are.same({5, -1, -1, 8}, c[2]:tolist())
    c[{{}, 4}] = lucid.tensor({10, 20, 30}, {dtype = "float64"})
    assert.are.same({10, 20, 30}, c[{{}, 4}]:tolist())
    c[{{1, 2}, {1, 2}}] = lucid.tensor({100, 200}, {dtype = "float64"})  -- a row broadcast
    assert.are.same({{100, 200, 3, 10}, {100, 200, -1, 20}}, c[{{1, 2}}]:tolist())
  end)

  it("refuses an in-place write into a leaf that requires grad while recording", function()
    local x = lucid.zeros(2, 2, {requires_grad = true})
    check_error("lucid.Tensor: a leaf tensor that requires grad (or a view of one) cannot be changed in place",
      function() x[{1, 1}] = 1 end)
    lucid.no_grad(function() x[{1, 1}] = 1 end)
    assert.are.equal(1, x[{1, 1}]:item())
  end)

  it("names the entry, the dimension and the sizes in its errors", function()
    check_error("lucid.Tensor: index 4 is out of range for dimension 1 of size 3 (expected 1..3 or -3..-1)",
      function() return a[{4, 1}] end)
    check_error("lucid.Tensor: index -5 is out of range for dimension 2 of size 4",
      function() return a[{1, -5}] end)
    check_error("lucid.Tensor: too many indices (3) for a 2-d tensor", function() return a[{1, 1, 1}] end)
    check_error("lucid.Tensor: the index of entry 2 of the index must be an integer, got a fraction",
      function() return a[{1, 1.5}] end)
    check_error("lucid.Tensor: the step of entry 1 of the index must be at least 1, got 0",
      function() return a[{{1, 3, 0}}] end)
    check_error("lucid.Tensor: entry 1 of the index has 4 numbers", function() return a[{{1, 2, 1, 1}}] end)
    check_error("lucid.Tensor: entry 1 of the index must be a number or a range {first, last [, step]}, got string",
      function() return a[{"x"}] end)
    check_error("lucid.Tensor: an index table is a list", function() return a[{1, dim = 2}] end)
    check_error("lucid.Tensor: entry 1 of the index is a tensor", function() return a[{lucid.ones(1)}] end)
    check_error("lucid.Tensor: a float32 tensor cannot index (use a bool mask or an int64 index",
      function() return a[lucid.ones(3)] end)
    check_error("lucid.Tensor: a 0-d tensor cannot be indexed", function() return lucid.tensor(1)[{1}] end)
    check_error("lucid.Tensor: index 5 is out of range for dimension 1 of size 3",
      function() a[5] = 1 end)
    check_error("lucid.Tensor: cannot index with a boolean key", function() return a[true] end)
    local deep = lucid.zeros(1, 1, 1, 1, 1, 1, 1, 2)
    local key = lucid.ones(1, 1, 1, 1, 1, 1, 1, 1, {dtype = "int64"})
    check_error("lucid.Tensor: indexing a 8-d tensor with a 8-d index would give 15 dims (at most 8)",
      function() return deep[key] end)
    check_error("would give 15 dims", function() deep[key] = 1 end)
  end)
end)

describe("tensor fields and rows", function()
  local a = grid(3, 2)

  it("errs on a field that does not exist, naming it", function()
    check_error("lucid.Tensor: no field or method 'data'", function() return a.data end)
    check_error("lucid.Tensor: no field or method 'lenght'", function() return a.lenght end)
  end)

  it("T reverses the dimensions, as PyTorch's", function()
    assert.are.same({2, 3}, a.T.shape)
    local b = lucid.zeros(2, 3, 4)
    assert.are.same({4, 3, 2}, b.T.shape)
    assert.are.same({3}, lucid.zeros(3).T.shape)
  end)

  it("reads nil one past the last row, so loops over rows end", function()
    assert.is_nil(a[4])
    assert.is_nil(a[#a + 1])
    local n = 0
    for i = 1, #a do n = n + a[i]:sum():item() end
    assert.are.equal(21, n)
  end)

  -- ipairs reads a userdata through __ipairs on Lua 5.2 and through __index
  -- from 5.3 on; Lua 5.1's and LuaJIT's ipairs take tables only.
  if not (H.lua_name == "lua5.1" or H.luajit) then
    it("walks the rows with ipairs and stops after the last", function()
      local seen = {}
      for i, row in ipairs(a) do seen[i] = row:tolist() end
      assert.are.same({{1, 2}, {3, 4}, {5, 6}}, seen)
    end)
  end
end)

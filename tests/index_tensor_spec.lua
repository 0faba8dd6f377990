-- Indexing with a tensor key: reads x[mask] (a bool mask of x's shape or of
-- its leading dims) and x[index] (an int64 tensor of 1-based indices along
-- dim 1, negative from the end), the writes y[mask] = v and y[index] = v,
-- x:nonzero() (also as_tuple) and lucid.masked_select:
--   * against PyTorch 1.13 (tests/fixtures/index.lua, written by
--     scripts/gen_fixtures_index.py): values, and for reads the gradient of
--     sum(output * seed), in float64 and in float32;
--   * bad keys: each error's text, and the state keeps working.
local lucid = require("lucid")
local H = dofile("tests/helpers.lua")
local fixtures = dofile("tests/fixtures/index.lua")

-- ---- running a fixture entry ------------------------------------------------

local function mask_of(fx) return H.tensor(fx, {dtype = "bool"}) end
local function index_of(fx) return H.tensor(fx, {dtype = "int64"}) end

-- The entry's key: a bool mask or an int64 index.
local function key_of(entry)
  local key = entry.mask and mask_of(entry.mask) or index_of(entry.index)
  assert.are.equal(entry.mask and "bool" or "int64", key.dtype, entry.name .. ": key dtype")
  return key
end

-- Whether a fixture tensor holds booleans (a bool input of nonzero).
local function is_bool(fx) return type(fx.data[1]) == "boolean" end

local function check_read(entry, dtype, rtol, atol)
  local x = H.tensor(entry.input, {dtype = dtype, requires_grad = true})
  local operand = entry.transpose and x:transpose(1, 2) or x
  if entry.transpose then assert.is_false(operand:is_contiguous(), entry.name) end
  local key = key_of(entry)
  local out
  if entry.op == "masked_select" then
    assert.is_function(lucid.masked_select, "no lucid.masked_select")
    out = lucid.masked_select(operand, key)
    -- the method form computes the same values
    H.assert_close(operand:masked_select(key), out, 0, 0, entry.name .. ": method form")
  else
    out = operand[key]
  end
  assert.are.equal(dtype, out.dtype, entry.name .. ": dtype")
  H.assert_close(out, entry.output, rtol, atol, entry.name .. ": output")
  assert.is_true(out.requires_grad, entry.name .. ": output should require grad")
  out:backward(H.tensor(entry.seed, {dtype = dtype}))
  H.assert_grads({x}, {entry.grad}, rtol, atol, entry.name, dtype)
end

local function value_of(entry, dtype)
  if type(entry.value) == "number" then return entry.value end
  return H.tensor(entry.value, {dtype = dtype})
end

-- y = write(x, key, v) with x and a tensor v leaves that require grad:
-- output and the gradients of sum(y * seed) against PyTorch.
local function check_write_grad(entry, dtype, rtol, atol, write)
  local x = H.tensor(entry.input, {dtype = dtype, requires_grad = true})
  local v = value_of(entry, dtype)
  if type(v) ~= "number" then v.requires_grad = true end
  local y = write(x, key_of(entry), v)
  H.assert_close(y, entry.output, rtol, atol, entry.name .. ": output (recorded)")
  y:backward(H.tensor(entry.seed, {dtype = dtype}))
  H.assert_grads({x}, {entry.grad}, rtol, atol, entry.name, dtype)
  if entry.value_grad then H.assert_grads({v}, {entry.value_grad}, rtol, atol, entry.name, dtype) end
end

local function check_index_put(entry, dtype, rtol, atol)
  check_write_grad(entry, dtype, rtol, atol, function(x, key, v)
    local y = x:index_put(key, v)
    assert.are.same(entry.input.data, H.tensor(entry.input):view(-1):tolist(),
      entry.name .. ": the input is left as it was")
    H.assert_close(lucid.index_put(x:detach(), key, v), entry.output, rtol, atol,
      entry.name .. ": lucid.index_put")
    return y
  end)
  -- index_put_ is t[key] = v, returning t
  local y = H.tensor(entry.input, {dtype = dtype})
  assert.are.equal(y, y:index_put_(key_of(entry), value_of(entry, dtype)))
  H.assert_close(y, entry.output, rtol, atol, entry.name .. ": index_put_")
end

local function check_write(entry, dtype, rtol, atol)
  -- a tensor that does not require grad: written in place (a view of it
  -- sees the new values)
  local y = H.tensor(entry.input, {dtype = dtype})
  local flat = y:view(-1)
  y[key_of(entry)] = value_of(entry, dtype)
  assert.are.equal(dtype, y.dtype, entry.name .. ": dtype")
  H.assert_close(y, entry.output, rtol, atol, entry.name .. ": output")
  H.assert_close(flat, {shape = {#entry.output.data}, data = entry.output.data}, rtol, atol,
    entry.name .. ": in place (a view sees the write)")

  -- a leaf that requires grad, written under no_grad
  local leaf = H.tensor(entry.input, {dtype = dtype, requires_grad = true})
  lucid.no_grad(function() leaf[key_of(entry)] = value_of(entry, dtype) end)
  H.assert_close(leaf, entry.output, rtol, atol, entry.name .. ": output (leaf under no_grad)")
  assert.is_true(leaf.requires_grad, entry.name .. ": the leaf still requires grad")
  assert.is_nil(leaf.grad_fn, entry.name .. ": the write records nothing")

  -- recorded: y = x * 1; y[key] = v, gradients to x and to a tensor v
  check_write_grad(entry, dtype, rtol, atol, function(x, key, v)
    local written = x * 1
    written[key] = v
    assert.are.equal("IndexPutBackward", written.grad_fn, entry.name .. ": grad_fn")
    return written
  end)
end

local function check_nonzero(entry, dtype)
  local x = is_bool(entry.input) and mask_of(entry.input) or H.tensor(entry.input, {dtype = dtype})
  if entry.as_tuple then
    local outs = H.pack(x:nonzero(true))
    assert.are.equal(#entry.outputs, outs.n, entry.name .. ": number of results")
    local fn = H.pack(lucid.nonzero(x, true))
    for i, fx in ipairs(entry.outputs) do
      assert.are.equal("int64", outs[i].dtype, entry.name .. ": dtype")
      H.assert_close(outs[i], fx, 0, 0, entry.name .. ": result " .. i)
      H.assert_close(fn[i], fx, 0, 0, entry.name .. ": lucid.nonzero result " .. i)
    end
  else
    local out = x:nonzero()
    assert.are.equal("int64", out.dtype, entry.name .. ": dtype")
    H.assert_close(out, entry.output, 0, 0, entry.name .. ": output")
    H.assert_close(lucid.nonzero(x), entry.output, 0, 0, entry.name .. ": lucid.nonzero")
    assert.is_false(out.requires_grad)
  end
end

local function check_entry(entry, dtype, rtol, atol)
  local op = entry.op
  if op == "index_mask" or op == "index_tensor" or op == "masked_select" then
    check_read(entry, dtype, rtol, atol)
  elseif op == "assign_mask" or op == "assign_tensor" then
    check_write(entry, dtype, rtol, atol)
  elseif op == "index_put" then
    check_index_put(entry, dtype, rtol, atol)
  elseif op == "nonzero" then
    check_nonzero(entry, dtype)
  else
    error("unknown fixture op " .. tostring(op))
  end
end

-- Whether the entry is part of the pass in dtype (a bool nonzero has no
-- float dtype: the float64 pass runs it).
local function in_pass(entry, dtype)
  return dtype == "float64" or not (entry.op == "nonzero" and is_bool(entry.input))
end

describe("tensor keys against PyTorch (float64)", function()
  for _, entry in ipairs(fixtures.cases) do
    if in_pass(entry, "float64") then
      it(entry.name, function()
        check_entry(entry, "float64", 1e-12, 1e-15)
      end)
    end
  end
end)

describe("tensor keys against PyTorch (float32)", function()
  -- inputs are the float64 values rounded to float32: selections and writes
  -- are exact there, gradients that sum repeats round
  for _, entry in ipairs(fixtures.cases) do
    if in_pass(entry, "float32") then
      it(entry.name, function()
        check_entry(entry, "float32", 1e-5, 1e-6)
      end)
    end
  end
end)

describe("index fixtures", function()
  it("cover every op", function()
    local seen = {}
    for _, e in ipairs(fixtures.cases) do seen[e.op] = (seen[e.op] or 0) + 1 end
    for _, op in ipairs({"index_mask", "index_tensor", "assign_mask", "assign_tensor",
        "index_put", "nonzero", "masked_select"}) do
      assert.is_truthy(seen[op], "no fixture for " .. op)
    end
  end)
end)

-- ---- reads are copies -----------------------------------------------------------

describe("tensor-key reads", function()
  it("are copies: writing the result leaves x as it was", function()
    local x = lucid.tensor({{1, 2}, {3, 4}}, {dtype = "float64"})
    local a = x[lucid.tensor({{true, false}, {false, true}})]
    local b = x[lucid.tensor({2}, {dtype = "int64"})]
    a:fill_(0)
    b:fill_(0)
    assert.are.same({{1, 2}, {3, 4}}, x:tolist())
  end)

  it("take a mask built from booleans and an index of another integer dtype", function()
    local x = lucid.tensor({10, 20, 30}, {dtype = "float64"})
    assert.are.same({10, 30}, x[lucid.tensor({true, false, true})]:tolist())
    assert.are.same({30, 10}, x[lucid.tensor({3, -3}, {dtype = "int32"})]:tolist())
  end)
end)

-- ---- bad keys ---------------------------------------------------------------------

describe("tensor-key errors", function()
  local function x34(opts) return lucid.zeros(3, 4, opts or {dtype = "float64"}) end
  local function idx(...) return lucid.tensor({...}, {dtype = "int64"}) end

  it("an index out of range", function()
    local x = x34()
    H.assert_error("out of range", function() return x[idx(1, 4)] end)
    H.assert_error("out of range", function() return x[idx(-4)] end)
    H.assert_error("out of range", function() x[idx(4)] = 1 end)
    H.assert_error("out of range", function() x[idx(-4)] = lucid.zeros(1, 4, {dtype = "float64"}) end)
    -- 0 is no 1-based index
    local ok = pcall(function() return x[idx(0)] end)
    assert.is_false(ok, "index 0 should be an error")
    assert.are.same({2, 4}, x[idx(3, -3)].shape)  -- the last row and the first
  end)

  it("a mask of the wrong shape", function()
    local x = x34()
    H.assert_error("does not fit", function() return x[lucid.tensor({true, false, true, false})] end)
    H.assert_error("does not fit", function()
      return x[lucid.tensor({{true, false, true}, {true, false, true}, {true, false, true}})]
    end)
    H.assert_error("does not fit", function() x[lucid.tensor({true, false})] = 0 end)
    assert.are.same({2, 4}, x[lucid.tensor({true, false, true})].shape)
  end)

  it("a float tensor key", function()
    local x = x34()
    H.assert_error("cannot index", function() return x[lucid.tensor({1, 2})] end)
    H.assert_error("cannot index", function() return x[lucid.tensor({1, 2}, {dtype = "float64"})] end)
    H.assert_error("cannot index", function() x[lucid.tensor({1, 2})] = 0 end)
  end)

  it("a write into a leaf that requires grad while recording (as PyTorch)", function()
    local x = lucid.tensor({{1, 2, 3}, {4, 5, 6}}, {dtype = "float64", requires_grad = true})
    H.assert_error("lucid.Tensor: a leaf tensor that requires grad (or a view of one) cannot be "
      .. "changed in place", function() x[lucid.tensor({true, false})] = 0 end)
    H.assert_error("a leaf tensor that requires grad", function() x[idx(1)] = 0 end)
    H.assert_error("a leaf tensor that requires grad", function() x[{1, 2}] = 0 end)
    H.assert_error("lucid.index_put_: a leaf tensor that requires grad", function() x:index_put_(idx(1), 0) end)
    assert.are.same({{1, 2, 3}, {4, 5, 6}}, x:tolist())
    assert.is_nil(x.grad_fn)
  end)

  it("index_put and index_put_ name themselves in their key errors", function()
    local x = x34()
    H.assert_error("lucid.index_put: index 5 (element 1 of the index) is out of range for dimension 1 of size 3",
      function() return x:index_put(idx(5), 1) end)
    H.assert_error("lucid.index_put_: a float32 tensor cannot index",
      function() return x:index_put_(lucid.tensor({1.5}), 1) end)
    H.assert_error("lucid.index_put: a mask of shape {2, 2} does not fit the tensor's shape {3, 4}",
      function() return lucid.index_put(x, lucid.zeros(2, 2):bool(), 1) end)
    H.assert_error("lucid.Tensor: index 7 (element 1 of the index)", function() x[idx(7)] = 1 end)
  end)

  it("leave the state usable", function()
    local x = x34({dtype = "float32"})
    pcall(function() return x[idx(9)] end)
    pcall(function() return x[lucid.tensor({true})] end)
    assert.are.same({{0, 0, 0, 0}}, x[idx(2)]:tolist())
    assert.are.same({2, 2}, x34()[lucid.tensor({true, false, true})][{{}, {1, 2}}].shape)
  end)
end)

describe("take_along_dim and masked_scatter", function()
  it("take_along_dim gathers by 1-based indices, broadcasting the other dims, with gradients", function()
    local t = lucid.tensor({{10, 30, 20}, {60, 40, 50}}, {dtype = "float64", requires_grad = true})
    local sorted = lucid.take_along_dim(t, t:argsort(2), 2)
    assert.are.same({{10, 20, 30}, {40, 50, 60}}, sorted:tolist())
    local first = t:take_along_dim(lucid.tensor({{2}}, {dtype = "int64"}), 2)  -- broadcasts over rows
    assert.are.same({{30}, {40}}, first:tolist())
    assert.are.same({50, 10}, lucid.take_along_dim(t, lucid.tensor({6, 1}, {dtype = "int64"})):tolist())
    first:sum():backward()
    assert.are.same({{0, 1, 0}, {0, 1, 0}}, t.grad:tolist())
    assert.has_error(function() lucid.take_along_dim(t, lucid.tensor({1}, {dtype = "int64"}), 1) end)
  end)

  it("masked_scatter fills the true places in order from source, with gradients to both", function()
    -- torch.tensor([[10,30,20],[60,40,50]]).masked_scatter(m, [1,2,3,4]) = [[1,30,2],[60,3,50]]
    local t = lucid.tensor({{10, 30, 20}, {60, 40, 50}}, {dtype = "float64", requires_grad = true})
    local m = lucid.tensor({{true, false, true}, {false, true, false}})
    local src = lucid.tensor({1, 2, 3, 4}, {dtype = "float64", requires_grad = true})
    local r = t:masked_scatter(m, src)
    assert.are.same({{1, 30, 2}, {60, 3, 50}}, r:tolist())
    r:backward(lucid.tensor({{1, 2, 3}, {4, 5, 6}}, {dtype = "float64"}))
    assert.are.same({{0, 2, 0}, {4, 0, 6}}, t.grad:tolist())
    assert.are.same({1, 3, 5, 0}, src.grad:tolist())
    -- a mask that broadcasts (a row), and too small a source
    assert.are.same({{7, 30, 8}, {9, 40, 10}},
      lucid.masked_scatter(t:detach(), lucid.tensor({true, false, true}),
        lucid.tensor({7, 8, 9, 10}, {dtype = "float64"})):tolist())
    assert.has_error(function() t:masked_scatter(m, lucid.ones(2, {dtype = "float64"})) end,
      "lucid.masked_scatter: the mask has 3 trues but source {2} only 2 elements")
    assert.has_error(function() t:masked_scatter(m:float(), src) end)
  end)
end)

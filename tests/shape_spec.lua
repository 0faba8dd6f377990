-- The shape and indexing ops: against PyTorch (tests/fixtures/shape.lua,
-- written by scripts/gen_fixtures_shape.py), by finite differences, for
-- storage sharing of views, and for their errors.
local lucid = require("lucid")
local H = dofile("tests/helpers.lua")
local fixtures = dofile("tests/fixtures/shape.lua")

-- op name in the fixture -> the Lua call. `a`: the (prepared) inputs,
-- `args`: the fixture's args (Lua conventions), `T(fx)`: a fixture tensor
-- in the dtype under test (index and mask tensors).
local apply = {
  flatten = function(a, args) return a[1]:flatten(H.unpack(args)) end,
  flatten_named = function(a, args) return a[1]:flatten{start_dim = args[1]} end,
  squeeze = function(a, args) return a[1]:squeeze(H.unpack(args)) end,
  unsqueeze = function(a, args) return lucid.unsqueeze(a[1], args[1]) end,
  permute = function(a, args) return a[1]:permute(H.unpack(args)) end,
  permute_table = function(a, args) return lucid.permute(a[1], args[1]) end,
  t = function(a) return a[1]:t() end,
  broadcast_to = function(a, args) return a[1]:broadcast_to(args[1]) end,
  broadcast_to_varargs = function(a, args) return a[1]:broadcast_to(H.unpack(args)) end,
  narrow = function(a, args) return a[1]:narrow(args[1], args[2], args[3]) end,
  slice = function(a, args) return a[1]:slice(H.unpack(args)) end,
  split = function(a, args) return a[1]:split(args[1], args[2]) end,
  split_named = function(a, args) return lucid.split(a[1], args[1], {dim = args[2]}) end,
  chunk = function(a, args) return a[1]:chunk(args[1], args[2]) end,
  cat = function(a, args) return lucid.cat(a, args[1]) end,
  cat_named = function(a, args) return lucid.cat(a, {dim = args[1]}) end,
  stack = function(a, args) return lucid.stack(a, args[1]) end,
  index_select = function(a, args, T) return a[1]:index_select(args[1], T(args[2])) end,
  index_select_list = function(a, args) return a[1]:index_select(args[1], args[2]) end,
  gather = function(a, args, T) return a[1]:gather(args[1], T(args[2])) end,
  scatter_add = function(a, args, T) return a[1]:scatter_add(args[1], T(args[2]), a[2]) end,
  masked_fill = function(a, args, T) return a[1]:masked_fill(T(args[1]), args[2]) end,
  masked_fill_tensor = function(a, args, T) return lucid.masked_fill(a[1], T(args[1]), a[2]) end,
  ["repeat"] = function(a, args) return a[1]["repeat"](a[1], H.unpack(args)) end,
  repeat_table = function(a, args) return lucid["repeat"](a[1], args[1]) end,
  tile = function(a, args) return a[1]:tile(H.unpack(args)) end,
  flip = function(a, args) return a[1]:flip(H.unpack(args)) end,
  flip_table = function(a, args) return lucid.flip(a[1], args[1]) end,
  view = function(a, args) return a[1]:view(H.unpack(args)) end,
  expand = function(a, args) return a[1]:expand(H.unpack(args)) end,
  select = function(a, args) return a[1]:select(args[1], args[2]) end,
  contiguous = function(a) return a[1]:contiguous() end,
  clone = function(a) return a[1]:clone() end,
  detach = function(a) return a[1]:detach() end,
}

-- Runs one fixture entry in dtype and checks outputs and gradients.
local function check_entry(entry, dtype, rtol, atol)
  local fn = apply[entry.op]
  assert.is_function(fn, "no Lua mapping for op '" .. entry.op .. "'")
  local function T(fx) return H.tensor(fx, {dtype = dtype}) end
  local leaves, used = {}, {}
  for i, fx in ipairs(entry.inputs) do
    leaves[i] = H.tensor(fx, {dtype = dtype, requires_grad = true})
    local p = entry.prep and entry.prep[i]
    used[i] = p and leaves[i]:permute(p) or leaves[i]
    if p then assert.is_false(used[i]:is_contiguous(), entry.name .. ": prep should not be contiguous") end
  end
  local out = fn(used, entry.args, T)
  if entry.outputs then
    assert.are.equal(#entry.outputs, #out, entry.name .. ": number of pieces")
    local loss
    for k, o in ipairs(out) do
      assert.are.equal(dtype, o.dtype)
      H.assert_close(o, entry.outputs[k], rtol, atol, entry.name .. ": piece " .. k)
      local term = (o * T(entry.seeds[k])):sum()
      loss = loss and loss + term or term
    end
    loss:backward()
  else
    assert.are.equal(dtype, out.dtype)
    H.assert_close(out, entry.output, rtol, atol, entry.name .. ": output")
    if entry.requires_grad == false then
      -- no graph (detach): every grad in the fixture is false
      assert.is_false(out.requires_grad, entry.name .. ": output should not require grad")
      assert.is_nil(out.grad_fn)
    else
      assert.is_true(out.requires_grad)
      out:backward(T(entry.seed))
    end
  end
  H.assert_grads(leaves, entry.grads, rtol, atol, entry.name, dtype)
end

describe("shape ops against PyTorch (float64)", function()
  for _, entry in ipairs(fixtures.ops) do
    it(entry.name, function() check_entry(entry, "float64", 1e-10, 0) end)
  end
end)

describe("shape ops against PyTorch (float32)", function()
  -- inputs and seeds are the float64 values rounded to float32
  for _, entry in ipairs(fixtures.ops) do
    it(entry.name, function() check_entry(entry, "float32", 1e-5, 1e-6) end)
  end
end)

describe("shape ops: gradcheck (float64)", function()
  local function leaf(...)
    return lucid.randn({...}, {dtype = "float64", requires_grad = true})
  end
  local function idx(t) return lucid.tensor(t, {dtype = "float64"}) end
  local cases = {
    {"flatten 2 3", function(x) return x:flatten(2, 3) end, {2, 3, 4}},
    {"flatten of a permuted view (copy)", function(x) return x:permute(3, 1, 2):flatten() end, {2, 3, 4}},
    {"squeeze", function(x) return x:squeeze() end, {1, 3, 1}},
    {"squeeze dim", function(x) return x:squeeze(-1) end, {3, 1}},
    {"unsqueeze", function(x) return x:unsqueeze(2) end, {2, 3}},
    {"permute", function(x) return x:permute(2, 3, 1) end, {2, 3, 4}},
    {"t", function(x) return x:t() end, {2, 3}},
    {"broadcast_to", function(x) return x:broadcast_to(2, 3, 4) end, {3, 1}},
    {"narrow", function(x) return x:narrow(2, 2, 2) end, {3, 4}},
    {"slice step 2 of a permuted view", function(x) return x:t():slice(1, 1, -1, 2) end, {3, 5}},
    {"split piece 2", function(x) return x:split({1, 2}, 2)[2] end, {3, 3}},
    {"chunk piece 1", function(x) return x:chunk(2)[1] end, {5, 2}},
    {"cat", function(x, y) return lucid.cat({x, y, x}, 2) end, {2, 3}, {2, 1}},
    {"stack", function(x, y) return lucid.stack({x, y}, 2) end, {2, 3}, {2, 3}},
    {"index_select repeated", function(x) return x:index_select(1, {3, 1, 3}) end, {3, 2}},
    {"gather", function(x) return x:gather(2, idx({{1, 1}, {3, 2}})) end, {2, 3}},
    {"scatter_add", function(x, s) return x:scatter_add(2, idx({{1, 1}, {3, 2}}), s) end, {2, 3}, {2, 3}},
    {"masked_fill", function(x) return x:masked_fill(idx({1, 0, 1}), 2) end, {2, 3}},
    {"masked_fill 0-d value", function(x, v) return x:masked_fill(idx({1, 0, 1}), v) end, {2, 3}, {}},
    {"repeat", function(x) return x["repeat"](x, 2, 1, 3) end, {2, 2}},
    {"tile", function(x) return x:tile(3) end, {2, 2}},
    {"flip", function(x) return x:flip(1, -1) end, {2, 3}},
    {"view of a permuted view", function(x) return x:t():view(2, 2, 3) end, {3, 4}},
    {"expand with -1", function(x) return x:expand(2, -1, 3) end, {3, 1}},
    {"select negative index", function(x) return x:select(2, -2) end, {2, 3, 2}},
    {"contiguous of a transposed view", function(x) return x:t():contiguous() end, {3, 4}},
    {"clone", function(x) return x:clone() end, {2, 3}},
  }
  for _, c in ipairs(cases) do
    it(c[1], function()
      lucid.manual_seed(7)
      local inputs = {}
      for i = 3, #c do inputs[#inputs + 1] = leaf(H.unpack(c[i])) end
      H.assert_gradcheck(c[2], inputs)
    end)
  end
end)

describe("shape ops: views share storage", function()
  -- fn(base) must be a view: writing to it shows in base, and a change of
  -- base shows in it (compared with fn of an unrelated copy).
  local views = {
    {"flatten", function(x) return x:flatten() end},
    {"flatten of mergeable dims of a permuted tensor", function(x) return x:permute(3, 1, 2):flatten(2, 3) end},
    {"squeeze", function(x) return x:unsqueeze(1):squeeze() end},
    {"squeeze dim", function(x) return x:unsqueeze(2):squeeze(2) end},
    {"unsqueeze", function(x) return x:unsqueeze(-1) end},
    {"permute", function(x) return x:permute(3, 1, 2) end},
    {"t", function(x) return x:select(1, 1):t() end},
    {"broadcast_to", function(x) return x:broadcast_to(2, H.unpack(x.shape)) end},
    {"narrow", function(x) return x:narrow(2, 2, 2) end},
    {"slice", function(x) return x:slice(3, 2, -1, 2) end},
    {"split piece", function(x) return x:split(2, 3)[2] end},
    {"chunk piece", function(x) return x:chunk(3, 2)[3] end},
    {"view", function(x) return x:view(-1, x.shape[3]) end},
    {"expand", function(x) return x:unsqueeze(1):expand(3, -1, -1, -1) end},
    {"select", function(x) return x:select(2, -1) end},
  }
  for _, v in ipairs(views) do
    it(v[1], function()
      local base = lucid.zeros(2, 3, 4)
      local view = v[2](base)
      view:fill_(1)
      local marked = base:sum():item()
      assert.is_true(marked > 0, "writing the view did not reach the base")
      -- every element of base that the view sees is 1, the rest 0
      assert.are.equal(view:numel(), view:sum():item())
      base:copy_(lucid.randn(2, 3, 4))
      H.assert_close(view, v[2](base:clone()), 0, 0, v[1] .. " after changing the base")
    end)
  end

  it("allocate no tensor data, only headers (with grad recording too)", function()
    local base = lucid.zeros({64, 64, 16}, {dtype = "float64", requires_grad = true})
    local data = 64 * 64 * 16 * 8
    for _, v in ipairs(views) do
      collectgarbage()
      local before = lucid.memory_allocated()
      local view = v[2](base)
      local grew = lucid.memory_allocated() - before
      assert.is_true(grew < data / 16, v[1] .. " allocated " .. grew .. " bytes")
      assert.is_true(view.requires_grad)
    end
  end)

  it("flatten of dims that cannot merge copies, as reshape", function()
    local base = lucid.zeros(2, 3)
    local f = base:t():flatten()
    f:fill_(1)
    assert.are.equal(0, base:sum():item())
  end)

  it("t of a 1-D tensor and flatten of one dim return the tensor itself", function()
    local x = lucid.zeros(3)
    x:t():fill_(2)
    x:flatten(1, 1):fill_(3)
    assert.are.same({3, 3, 3}, x:tolist())
  end)

  it("detach shares storage and records no graph", function()
    local base = lucid.zeros({2, 3}, {requires_grad = true})
    local d = base:detach()
    assert.is_false(d.requires_grad)
    assert.is_true(d.is_leaf)
    d:fill_(1)
    assert.are.equal(6, base:sum():item())
  end)

  it("copies do not share storage", function()
    local base = lucid.zeros(2, 3)
    for _, f in ipairs({
      function(x) return x:clone() end,
      function(x) return x:t():contiguous() end,
      function(x) return lucid.cat({x}) end,
      function(x) return lucid.stack({x}) end,
      function(x) return x:index_select(1, {1, 2}) end,
      function(x) return x:gather(1, lucid.ones(2, 3)) end,
      function(x) return x:masked_fill(lucid.zeros(3), 0) end,
      function(x) return x["repeat"](x, 1, 1) end,
      function(x) return x:flip(1) end,
    }) do
      f(base):fill_(1)
      assert.are.equal(0, base:sum():item())
    end
  end)
end)

describe("shape ops: semantics beyond the fixtures", function()
  it("slice reads start and stop as string.sub does", function()
    local s = "abcdefg"
    local x = lucid.tensor({1, 2, 3, 4, 5, 6, 7})
    local function sub(i, j) return s:sub(i, j) end
    -- Debian's LuaJIT 2.1.0-beta3 compiles this loop's string.sub with negative
    -- indices wrongly ("abcdefg":sub(-4, -8) gives "defg"): the reference runs
    -- interpreted there
    if rawget(_G, "jit") then jit.off(sub) end
    for i = -9, 9 do
      for j = -9, 9 do
        local want = {}
        for c in sub(i, j):gmatch(".") do want[#want + 1] = c:byte() - 96 end
        local got = x:slice(1, i, j)
        assert.are.same(want, got:numel() > 0 and got:tolist() or {},
          string.format("slice(1, %d, %d)", i, j))
      end
    end
  end)

  it("slice with a step counts from start", function()
    local x = lucid.tensor({1, 2, 3, 4, 5, 6, 7})
    assert.are.same({2, 5}, x:slice(1, 2, 6, 3):tolist())
    assert.are.same({1, 3, 5, 7}, x:slice(1, 1, -1, 2):tolist())
    assert.are.same({7}, x:slice(1, -1, -1, 5):tolist())
  end)

  it("cat and stack promote float32 with float64, gradients keep each dtype", function()
    local a = lucid.ones({2}, {dtype = "float32", requires_grad = true})
    local b = lucid.ones({2}, {dtype = "float64", requires_grad = true})
    for _, y in ipairs({lucid.cat({a, b}), lucid.stack({a, b})}) do
      assert.are.equal("float64", y.dtype)
      a.grad, b.grad = nil, nil
      y:sum():backward()
      assert.are.equal("float32", a.grad.dtype)
      assert.are.equal("float64", b.grad.dtype)
      assert.are.same({1, 1}, a.grad:tolist())
    end
  end)

  it("index tensors may be float32 or float64 and masks either dtype", function()
    local x = lucid.tensor({{1, 2, 3}, {4, 5, 6}}, {dtype = "float64"})
    for _, dt in ipairs({"float32", "float64"}) do
      local i = lucid.tensor({{3, 1}, {2, 2}}, {dtype = dt})
      assert.are.same({{3, 1}, {5, 5}}, x:gather(2, i):tolist())
      assert.are.same({{1, 0, 3}, {4, 0, 6}}, x:masked_fill(lucid.tensor({0, 2, 0}, {dtype = dt}), 0):tolist())
    end
    -- NaN in a mask is nonzero, so true
    assert.are.same({9, 2}, lucid.tensor({1, 2}):masked_fill(lucid.tensor({0 / 0, 0}), 9):tolist())
  end)

  it("the index is read at the op, so changing it later does not change the gradient", function()
    local x = lucid.zeros({3}, {dtype = "float64", requires_grad = true})
    local i = lucid.tensor({1, 1}, {dtype = "float64"})
    local y = x:index_select(1, i)
    i:fill_(3)
    y:sum():backward()
    assert.are.same({2, 0, 0}, x.grad:tolist())
  end)

  it("split and chunk of an empty dim", function()
    assert.are.equal(1, #lucid.zeros(0, 2):split(2))
    assert.are.equal(1, #lucid.zeros(0, 2):split(0))
    local pieces = lucid.zeros(0, 2):chunk(3)
    assert.are.equal(3, #pieces)
    assert.are.same({0, 2}, pieces[3].shape)
  end)

  it("ops on empty and 0-d tensors", function()
    assert.are.same({4, 0}, lucid.cat({lucid.zeros(2, 0), lucid.zeros(2, 0)}):size())
    assert.are.same({2, 0, 3}, lucid.zeros(2, 0, 3):flip(1, 2).shape)
    assert.are.same({0, 6}, lucid.zeros(0, 3)["repeat"](lucid.zeros(0, 3), 2, 2).shape)
    assert.are.same({2, 0}, lucid.zeros(2, 3):gather(2, lucid.zeros(2, 0)).shape)
    assert.are.same({}, lucid.tensor(5):squeeze(1).shape)
    assert.are.same({1}, lucid.tensor(5):flatten().shape)
    assert.are.same({}, lucid.tensor(5):flip().shape)
  end)

  it("the results record PyTorch-like op names", function()
    local x = lucid.zeros({2, 3}, {requires_grad = true})
    assert.are.equal("CatBackward", lucid.cat({x, x}).grad_fn)
    assert.are.equal("SliceBackward", x:slice(1, 1, 1).grad_fn)
    assert.are.equal("GatherBackward", x:gather(1, lucid.ones(1, 3)).grad_fn)
    assert.is_nil(lucid.no_grad(function() return x:flip(1) end).grad_fn)
  end)

  it("large copies take the memcpy paths correctly", function()
    lucid.manual_seed(3)
    local x = lucid.randn(3, 50, 20)
    local y = lucid.cat({x, x:flip(2)}, 2)
    H.assert_close(y:narrow(2, 51, 50), x:flip(2), 0, 0, "cat part 2")
    local z = x:index_select(2, {50, 1})
    H.assert_close(z:select(2, 1), x:select(2, 50), 0, 0, "index_select row")
    local r = x["repeat"](x, 2, 1, 3)
    H.assert_close(r:narrow(1, 4, 3):narrow(3, 21, 20), x, 0, 0, "repeat tile")
  end)
end)

describe("shape ops: errors", function()
  local fails = H.assert_error
  local x = lucid.zeros(2, 3)
  local x3 = lucid.zeros(2, 3, 4)

  it("dims out of range", function()
    fails("lucid.flatten: dimension 4 is out of range for a 3-d tensor", x3.flatten, x3, 4)
    fails("lucid.flatten: start dimension 3 comes after end dimension 1", x3.flatten, x3, 3, 1)
    fails("lucid.squeeze: dimension -4 is out of range for a 3-d tensor", x3.squeeze, x3, -4)
    fails("lucid.unsqueeze: dimension 5 is out of range for a new dimension of a 3-d tensor " ..
          "(expected 1..4 or -4..-1)", x3.unsqueeze, x3, 5)
    fails("lucid.permute: expected 3 dimensions for shape {2, 3, 4}, got 2", x3.permute, x3, 1, 2)
    fails("lucid.permute: dimension 1 appears more than once in the permutation",
          x3.permute, x3, {1, -3, 2})
    fails("lucid.t: expects a tensor with at most 2 dimensions, got shape {2, 3, 4}", x3.t, x3)
    fails("lucid.narrow: dimension 3 is out of range for a 2-d tensor", x.narrow, x, 3, 1, 1)
    fails("lucid.cat: dimension 3 is out of range for a 2-d tensor", lucid.cat, {x, x}, 3)
    fails("lucid.stack: dimension 4 is out of range for a new dimension of a 2-d tensor",
          lucid.stack, {x, x}, 4)
    fails("lucid.flip: dimension 1 appears more than once", x.flip, x, 1, -2)
    fails("lucid.gather: dimension 0 is out of range", x.gather, x, 0, lucid.ones(2, 3))
  end)

  it("starts, lengths, steps and shapes out of range", function()
    fails("lucid.narrow: start 5 is out of range for dimension 2 of size 3", x.narrow, x, 2, 5, 0)
    fails("lucid.narrow: start 0 is out of range", x.narrow, x, 2, 0, 1)
    fails("lucid.narrow: start 2 and length 3 do not fit dimension 2 of size 3", x.narrow, x, 2, 2, 3)
    fails("lucid.slice: step must be at least 1, got 0", x.slice, x, 1, 1, 2, 0)
    fails("lucid.broadcast_to: cannot expand shape {2, 3} to {4, 3}", x.broadcast_to, x, 4, 3)
    fails("lucid.repeat: 1 repeat counts for shape {2, 3}: need 2 to 8", x["repeat"], x, 2)
    fails("lucid.repeat: repeat count -1 for dimension 1 of shape {2, 3} is negative",
          x["repeat"], x, -1, 1)
  end)

  it("indices out of range or not integers", function()
    fails("lucid.index_select: index 4 is out of range for dimension 1 of size 2",
          x.index_select, x, 1, {1, 4})
    fails("lucid.index_select: index 0 is out of range for dimension 2 of size 3",
          x.index_select, x, 2, lucid.tensor({0}))
    fails("lucid.index_select: index -1 is out of range", x.index_select, x, 2, lucid.tensor({-1}))
    fails("lucid.index_select: index 1.5 is not an integer", x.index_select, x, 2, lucid.tensor({1.5}))
    fails("lucid.index_select: entry 2 of the index list must be an integer, got a fraction",
          x.index_select, x, 2, {1, 1.5})
    fails("lucid.index_select: index must be 1-D (or 0-d), got shape {1, 1}",
          x.index_select, x, 2, lucid.ones(1, 1))
    fails("lucid.gather: index 4 is out of range for dimension 2 of size 3",
          x.gather, x, 2, lucid.tensor({{1, 4}}))
    fails("lucid.gather: index nan is not an integer", x.gather, x, 2, lucid.tensor({{0 / 0}}))
    fails("lucid.gather: index of shape {3, 1} is larger than the input {2, 3} outside dimension 2",
          x.gather, x, 2, lucid.ones(3, 1))
    fails("lucid.gather: index of shape {3} needs as many dimensions as the input {2, 3}",
          x.gather, x, 2, lucid.ones(3))
    fails("lucid.scatter_add: index 3 is out of range for dimension 1 of size 2",
          x.scatter_add, x, 1, lucid.tensor({{3}}), lucid.ones(1, 1))
    fails("lucid.scatter_add: index of shape {1, 2} is larger than src {1, 1}",
          x.scatter_add, x, 1, lucid.ones(1, 2), lucid.ones(1, 1))
    fails("lucid.scatter_add: the input and src must share a dtype, got float32 and float64",
          x.scatter_add, x, 1, lucid.ones(1, 1), lucid.ones({1, 1}, {dtype = "float64"}))
  end)

  it("cat and stack of mismatched shapes", function()
    fails("lucid.cat: tensor 2 has shape {2, 4}, expected {2, 3} except in dimension 1",
          lucid.cat, {x, lucid.zeros(2, 4)})
    fails("lucid.cat: tensor 3 has shape {2, 3, 1}, expected {2, 3} except in dimension 2",
          lucid.cat, {x, x, lucid.zeros(2, 3, 1)}, 2)
    fails("lucid.cat: tensor 1 is 0-d and cannot be concatenated", lucid.cat, {lucid.tensor(1)})
    fails("lucid.cat: expected at least one tensor", lucid.cat, {})
    fails("lucid.stack: tensor 2 has shape {3, 2}, expected {2, 3} like tensor 1",
          lucid.stack, {x, lucid.zeros(3, 2)})
    fails("lucid.stack: expected at least one tensor", lucid.stack, {})
  end)

  it("split sizes that do not add up", function()
    fails("lucid.split: split sizes {1, 2} do not add up to the size 2 of dimension 1",
          x.split, x, {1, 2})
    fails("lucid.split: split sizes {1, 1} do not add up to the size 3 of dimension 2",
          x.split, x, {1, 1}, 2)
    fails("lucid.split: split size -1 (piece 2) is negative", x.split, x, {3, -1})
    fails("lucid.split: a split size of 0 only fits an empty dimension", x.split, x, 0)
    fails("lucid.split: the split size must not be negative, got -2", x.split, x, -2)
    fails("lucid.chunk: the number of chunks must be at least 1, got 0", x.chunk, x, 0)
    fails("lucid.split: a 0-d tensor cannot be split", lucid.split, lucid.tensor(1), 1)
  end)

  it("wrong types", function()
    fails("lucid.cat: expected a table of tensors, got a tensor (write lucid.cat({a, b}))",
          lucid.cat, x, x)
    fails("lucid.stack: expected a table of tensors, got nil", lucid.stack)
    fails("lucid.cat: expected a tensor at entry 2 of the list, got number", lucid.cat, {x, 5})
    local closed = lucid.zeros(2, 3)
    getmetatable(closed).__close(closed)
    fails("lucid.stack: the tensor at entry 1 of the list was closed", lucid.stack, {closed})
    fails("lucid.index_select: index must be a tensor or a list of integers, got string",
          x.index_select, x, 1, "a")
    fails("lucid.gather: index must be a tensor, got table", x.gather, x, 1, {{1}})
    fails("lucid.masked_fill: mask must be a tensor, got boolean", x.masked_fill, x, true, 1)
    fails("lucid.masked_fill: value must be a number or a 0-d tensor, got string",
          x.masked_fill, x, lucid.ones(3), "v")
    fails("lucid.masked_fill: value must be a number or a 0-d tensor, got shape {1}",
          x.masked_fill, x, lucid.ones(3), lucid.ones(1))
    fails("lucid.masked_fill: mask of shape {2} does not broadcast with shape {2, 3}",
          x.masked_fill, x, lucid.ones(2), 1)
    fails("lucid.permute: dimension must be an integer, got string", x.permute, x, "a", 1)
    fails("lucid.narrow: start must be an integer, got a fraction", x.narrow, x, 1, 1.5, 1)
    fails("lucid.repeat: expected repeat counts as integers or one table, got string",
          x["repeat"], x, 2, "x")
    fails("lucid.scatter_add: src must be a tensor, got number", x.scatter_add, x, 1, lucid.ones(1, 1), 1)
    fails("lucid.split: the split size must be an integer, got string", x.split, x, "2")
  end)

  it("leaves the state working, and nothing leaks", function()
    collectgarbage()
    collectgarbage()
    local before = lucid.memory_allocated()
    for _ = 1, 20 do
      pcall(x.index_select, x, 1, {1, 4})
      pcall(x.gather, x, 2, lucid.tensor({{1, 9}}))
      pcall(lucid.cat, {x, lucid.zeros(2, 4)})
      pcall(x.split, x, {1, 2})
      pcall(x.masked_fill, x, lucid.ones(2), 1)
    end
    collectgarbage()
    collectgarbage()
    assert.are.equal(before, lucid.memory_allocated())
    local w = lucid.ones({2, 3}, {requires_grad = true})
    local y = lucid.cat({w:index_select(2, {3, 1}), w:flip(2)}, 2):sum()
    y:backward()
    assert.are.same({{2, 1, 2}, {2, 1, 2}}, w.grad:tolist())
  end)
end)

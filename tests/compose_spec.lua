-- The ops composed in Lua (lua/lucid/compose.lua) against PyTorch 1.13
-- (tests/fixtures/compose.lua, written by scripts/gen_fixtures_compose.py):
-- values and gradients in float64 and float32, integer and bool dtypes; then
-- finite-difference checks of composed forms, the call forms, and errors.
local lucid = require("lucid")
local H = dofile("tests/helpers.lua")

local fixtures = dofile("tests/fixtures/compose.lua")

-- op name in the fixture -> the Lua call: `x` the (prepared) inputs, `a`
-- the fixture's args (Lua conventions)
local apply = {
  tril = function(x, a) return x[1]:tril(H.unpack(a)) end,
  triu = function(x, a) return lucid.triu(x[1], H.unpack(a)) end,
  diag = function(x, a) return lucid.diag(x[1], H.unpack(a)) end,
  diag_embed = function(x, a) return x[1]:diag_embed(H.unpack(a)) end,
  diagonal = function(x, a) return x[1]:diagonal(H.unpack(a)) end,
  trace = function(x) return x[1]:trace() end,
  roll = function(x, a) return x[1]:roll(H.unpack(a)) end,
  rot90 = function(x, a) return x[1]:rot90(H.unpack(a)) end,
  movedim = function(x, a) return x[1]:movedim(a[1], a[2]) end,
  moveaxis = function(x, a) return lucid.moveaxis(x[1], a[1], a[2]) end,
  unbind = function(x, a) return x[1]:unbind(H.unpack(a)) end,
  hstack = function(x) return lucid.hstack(x) end,
  vstack = function(x) return lucid.vstack(x) end,
  dstack = function(x) return lucid.dstack(x) end,
  meshgrid = function(x, a) return lucid.meshgrid(x, {indexing = a[1]}) end,
  cartesian_prod = function(x) return lucid.cartesian_prod(H.unpack(x)) end,
  repeat_interleave = function(x, a) return x[1]:repeat_interleave(H.unpack(a)) end,
  repeat_interleave_tensor = function(x, a)
    return x[1]:repeat_interleave(lucid.tensor(a[1], {dtype = "int64"}), a[2])
  end,
  cross = function(x, a) return x[1]:cross(x[2], H.unpack(a)) end,
  kron = function(x) return lucid.kron(x[1], x[2]) end,
  tensordot = function(x, a) return x[1]:tensordot(x[2], H.unpack(a)) end,
  baddbmm = function(x, a) return lucid.baddbmm(x[1], x[2], x[3], H.unpack(a)) end,
  addbmm = function(x, a) return x[1]:addbmm(x[2], x[3], H.unpack(a)) end,
  addmv = function(x, a) return lucid.addmv(x[1], x[2], x[3], H.unpack(a)) end,
  einsum = function(x, a) return lucid.einsum(a[1], H.unpack(x)) end,
  cumprod = function(x, a) return x[1]:cumprod(a[1]) end,
  cumprod_dtype = function(x, a) return x[1]:cumprod(a[1], {dtype = a[2]}) end,
  aminmax = function(x, a) return x[1]:aminmax({dim = a[1] or nil, keepdim = a[2]}) end,  -- false: no dim
}

-- One fixture case in `dtype` (float cases) or in its own integer dtype.
local function run(c, dtype, rtol, atol)
  local fn = assert(apply[c.op], "no Lua mapping for op " .. c.op)
  local float = c.dtype == nil
  local leaves, used = {}, {}
  for i, fx in ipairs(c.inputs) do
    leaves[i] = H.tensor(fx, {dtype = float and dtype or c.dtype, requires_grad = float})
    local p = c.prep and c.prep[i]
    used[i] = p and leaves[i]:permute(p) or leaves[i]
  end
  local outs = H.pack(fn(used, c.args))
  assert.are.equal(#c.outputs, outs.n, c.name .. ": number of results")
  local loss
  for k, want in ipairs(c.outputs) do
    local o = outs[k]
    assert.are.equal(float and dtype or c.out_dtype, o.dtype, c.name .. ": dtype of result " .. k)
    H.assert_close(o, want, rtol, atol, c.name .. ": result " .. k)
    if float then
      local term = (o * H.tensor(c.seeds[k], {dtype = dtype})):sum()
      loss = loss and loss + term or term
    end
  end
  if not float then return end
  loss:backward()
  for i, leaf in ipairs(leaves) do
    -- no gradient at all is PyTorch's zeros (an op that used none of it)
    local g = leaf.grad or lucid.zeros(leaf.shape, {dtype = dtype})
    assert.are.equal(dtype, g.dtype)
    H.assert_close(g, c.grads[i], rtol, atol, c.name .. ": grad of input " .. i)
  end
end

describe("composed ops against PyTorch", function()
  for _, c in ipairs(fixtures.cases) do
    if c.dtype then
      it(c.name, function() run(c, nil, 0, 0) end)
    else
      it(c.name .. " (float64)", function() run(c, "float64", 1e-10, 1e-12) end)
      it(c.name .. " (float32)", function() run(c, "float32", 1e-5, 1e-5) end)
    end
  end
end)

describe("composed ops: gradcheck (float64)", function()
  local function leaf(...) return H.randn_leaf({...}) end
  local function zeros_at(shape, positions)
    return function()
      local flat = H.flat(lucid.randn(shape, {dtype = "float64"}))
      for _, p in ipairs(positions) do flat[p] = 0 end
      return H.from_flat(flat, shape, {dtype = "float64", requires_grad = true})
    end
  end
  local cases = {
    {"einsum bilinear 'bn,anm,bm->ba'", function(x, w, y) return lucid.einsum("bn,anm,bm->ba", x, w, y) end,
      {function() return leaf(2, 3) end, function() return leaf(4, 3, 5) end, function() return leaf(2, 5) end}},
    {"einsum diagonal with ellipsis 'i...i->...i'", function(x) return lucid.einsum("i...i->...i", x) end,
      {function() return leaf(3, 2, 3) end}},
    {"einsum broadcast batch '...ij,...jk'", function(a, b) return lucid.einsum("...ij,...jk", a, b) end,
      {function() return leaf(2, 1, 2, 3) end, function() return leaf(4, 3, 2) end}},
    {"cumprod with two zeros in a row", function(x) return x:cumprod(2) end, {zeros_at({2, 6}, {2, 5, 9})}},
    {"cumprod of a permuted view", function(x) return x:t():cumprod(1) end, {zeros_at({3, 5}, {4})}},
    {"diag_embed of diagonal", function(x) return x:diagonal(1, 1, 3):diag_embed(-1, 1, 2) end,
      {function() return leaf(3, 2, 4) end}},
    {"tril + triu of rot90 and roll", function(x)
      local r = x:rot90(1, {2, 3}):roll({1, -2}, {1, 3})
      return r:tril(-1) * 2 + r:triu(1)
    end, {function() return leaf(2, 3, 4) end}},
    {"kron then tensordot", function(a, b, c) return lucid.kron(a, b):tensordot(c, 1) end,
      {function() return leaf(2, 2) end, function() return leaf(1, 3) end, function() return leaf(6, 2) end}},
    {"baddbmm, addbmm, addmv", function(i, a, b, v)
      local m = lucid.addbmm(i, a, b, 0.5, 2)
      return lucid.baddbmm(m, a, b, -1, 1):sum(1) + lucid.addmv(m:sum(2), m, v, 2, 3)
    end, {function() return leaf(2, 2) end, function() return leaf(3, 2, 4) end, function() return leaf(3, 4, 2) end,
      function() return leaf(2) end}},
    {"cross of repeat_interleave", function(a, b) return a:repeat_interleave({2, 1}, 1):cross(b) end,
      {function() return leaf(2, 3) end, function() return leaf(3, 3) end}},
    {"meshgrid and cartesian_prod", function(a, b)
      local x, y = lucid.meshgrid(a, b, {indexing = "xy"})
      return (x * y):sum(2) + lucid.cartesian_prod(a, b):sum(2):reshape(3, 2):sum(1)
    end, {function() return leaf(3) end, function() return leaf(2) end}},
  }
  for _, c in ipairs(cases) do
    it(c[1], function()
      lucid.manual_seed(11)
      local inputs = {}
      for i, make in ipairs(c[3]) do inputs[i] = make() end
      local ok, msg = H.gradcheck(c[2], inputs)
      assert.is_true(ok, msg)
    end)
  end

  it("cumprod's second derivatives, zeros included", function()
    local x = lucid.tensor({{0.5, 0, 2, -1.5, 0, 0.7}, {1.2, -0.3, 0, 0.8, 1.1, -2}},
      {dtype = "float64", requires_grad = true})
    assert.is_true(lucid.autograd.gradgradcheck(function(t) return t:cumprod(2) end, {x}))
  end)
end)

describe("composed ops", function()
  it("are functions and methods, but those of a list or an equation are functions only", function()
    local x = lucid.zeros(2, 2)
    for _, name in ipairs({"tril", "triu", "diag", "diag_embed", "diagonal", "trace", "roll", "rot90", "movedim",
                           "moveaxis", "unbind", "repeat_interleave", "cross", "kron", "tensordot", "baddbmm",
                           "addbmm", "addmv", "cumprod"}) do
      assert.is_function(lucid[name], name)
      assert.are.equal(lucid[name], x[name], name)
    end
    for _, name in ipairs({"hstack", "vstack", "dstack", "meshgrid", "cartesian_prod", "einsum"}) do
      assert.is_function(lucid[name], name)
      assert.has_error(function() return x[name] end)  -- no such field
    end
  end)

  it("take their options positionally, in a trailing table or as one table", function()
    local x = lucid.arange(24):reshape(2, 3, 4)
    local want = x:diagonal(1, 2, 3):tolist()
    assert.are.same(want, x:diagonal{offset = 1, dim1 = 2, dim2 = 3}:tolist())
    assert.are.same(want, lucid.diagonal(x, 1, {dim1 = 2, dim2 = 3}):tolist())
    assert.are.same(x:roll(1, 2):tolist(), x:roll{shifts = 1, dims = 2}:tolist())
    assert.are.same(x:rot90(1, {2, 3}):tolist(), x:rot90{dims = {2, 3}}:tolist())
    assert.are.same(x:tril(1):tolist(), x:tril{diagonal = 1}:tolist())
    assert.are.same(x:cumprod(2):tolist(), lucid.cumprod{input = x, dim = 2}:tolist())
    local a, b = lucid.randn(2, 3), lucid.randn(3, 4)
    assert.are.same(lucid.einsum("ij,jk", a, b):tolist(), lucid.einsum("ij,jk", {a, b}):tolist())
    assert.are.same(a:tensordot(b, 1):tolist(), a:tensordot(b, {{2}, {1}}):tolist())
    assert.are.same(a:tensordot(b, 1):tolist(), a:tensordot(b, {dims = {{-1}, {1}}}):tolist())
    local i = lucid.ones(2)
    assert.are.same(lucid.addmv(i, a, b[{{}, 1}], 2, 3):tolist(),
      lucid.addmv(i, a, b[{{}, 1}], {beta = 2, alpha = 3}):tolist())
    local p, q = lucid.tensor({1, 2}), lucid.tensor({3, 4, 5})
    local g1, g2 = lucid.meshgrid({p, q})
    local h1, h2 = lucid.meshgrid(p, q, {indexing = "ij"})
    assert.are.same(g1:tolist(), h1:tolist())
    assert.are.same(g2:tolist(), h2:tolist())
    assert.are.same({3, 2}, (lucid.meshgrid(p, q, {indexing = "xy"})).shape)
    assert.are.same(lucid.cartesian_prod(p, q):tolist(), lucid.cartesian_prod({p, q}):tolist())
    assert.are.same(p:repeat_interleave(2):tolist(), p:repeat_interleave(lucid.tensor({2, 2})):tolist())
    assert.are.same({1, 1, 2, 2, 2}, p:repeat_interleave({2, 3}, {dim = 1, output_size = 5}):tolist())
  end)

  it("unbind and meshgrid give multiple results; unbind's are views", function()
    local x = lucid.tensor({{1, 2}, {3, 4}, {5, 6}})
    local r = H.pack(x:unbind())
    assert.are.equal(3, r.n)
    local c1, c2 = x:unbind(2)
    assert.are.same({1, 3, 5}, c1:tolist())
    assert.are.same({2, 4, 6}, c2:tolist())
    x[{1, 1}] = 10
    assert.are.equal(10, c1[1]:item())
    assert.are.equal(0, H.pack(lucid.zeros(0, 3):unbind()).n)
  end)

  it("diagonal is a view of a contiguous tensor, and its writes reach the matrix", function()
    local m = lucid.zeros(3, 3)
    m:diagonal():fill_(1)
    assert.are.same(lucid.eye(3):tolist(), m:tolist())
    assert.are.same({2, 0}, lucid.zeros(2, 3, 4):diagonal(5, 2, 3).shape)
  end)

  it("beta = 0 ignores input's NaN and infinities, as PyTorch (with a zero gradient)", function()
    local input = lucid.tensor({0 / 0, math.huge}, {dtype = "float64", requires_grad = true})
    local y = lucid.addmv(input, lucid.ones(2, 3, {dtype = "float64"}), lucid.ones(3, {dtype = "float64"}), 0)
    assert.are.same({3, 3}, y:tolist())
    y:sum():backward()
    assert.are.same({0, 0}, input.grad:tolist())
  end)

  it("cumprod wraps int64 as PyTorch and gives int64 for other integer dtypes and bool", function()
    local x = lucid.tensor({3, 5, 7}, {dtype = "uint8"})
    local y = x:cumprod(1)
    assert.are.equal("int64", y.dtype)
    assert.are.same({3, 15, 105}, y:tolist())
    assert.are.equal("float64", x:cumprod(1, {dtype = "float64"}).dtype)
    assert.are.same({1, 1, 0, 0}, lucid.tensor({true, true, false, true}):cumprod(1):tolist())
    assert.are.same(lucid.tensor(2.5):cumprod(1):tolist(), 2.5)
    assert.are.same({{1, 2}, {3, 12}}, lucid.tensor({{1, 2}, {3, 4}}):cumprod(-1):tolist())
  end)

  it("einsum: implicit output sorts letters capitals first, and an ellipsis goes first", function()
    assert.are.same({4, 3}, lucid.einsum("ba,Ab", lucid.zeros(2, 3), lucid.zeros(4, 2)).shape)
    assert.are.same({5, 2, 4}, lucid.einsum("...a,ab", lucid.zeros(5, 2, 3), lucid.zeros(3, 4)).shape)
    assert.are.same({3}, lucid.einsum("i->...i", lucid.zeros(3)).shape)
    assert.are.equal(6, lucid.einsum(",", lucid.tensor(2), lucid.tensor(3)):item())
    local t = lucid.einsum("ii", lucid.tensor({{1, 2}, {3, 4}}, {dtype = "int32"}))
    assert.are.equal("int64", t.dtype)  -- a sum, as PyTorch's ("ij,jk" keeps int32: a matmul)
    assert.are.equal(5, t:item())
  end)
end)

describe("composed ops: errors name the function and the shapes", function()
  local x = lucid.zeros(2, 3)
  local v = lucid.zeros(3)
  local cases = {
    {"lucid.tril: input must have at least 2 dimensions, got shape {3}", lucid.tril, v},
    {"lucid.triu: input must be a tensor, got 3", lucid.triu, 3},
    {"lucid.triu: unknown option 'diagnal' (did you mean 'diagonal'?)", lucid.triu, x, {diagnal = 1}},
    {"lucid.diag: input must be 1-D or 2-D, got shape {1, 2, 3}", lucid.diag, lucid.zeros(1, 2, 3)},
    {"lucid.diagonal: dim1 and dim2 are both dimension 2 of shape {2, 3}; they must differ", lucid.diagonal,
      x, 0, 2, -1},
    {"lucid.diagonal: dim2 3 is out of range for shape {2, 3} (expected 1..2 or -2..-1)", lucid.diagonal,
      x, 0, 1, 3},
    {"lucid.diag_embed: dim1 4 is out of range for the result's 3 dimensions (expected 1..3 or -3..-1)",
      lucid.diag_embed, x, 0, 4},
    {"lucid.diag_embed: input must have at least 1 dimension, got shape {}", lucid.diag_embed, lucid.tensor(1)},
    {"lucid.trace: input must be 2-D, got shape {3}", lucid.trace, v},
    {"lucid.roll: shifts and dims must have the same length, got 2 shifts and 1 dims", lucid.roll, x, {1, 2}, 1},
    {"lucid.roll: without dims, shifts must be one number, got 2 of them", lucid.roll, x, {1, 2}},
    {"lucid.roll: shifts must be an integer or a table of integers, got 1.5", lucid.roll, x, 1.5},
    {"lucid.roll: dimension 3 is out of range for shape {2, 3}", lucid.roll, x, 1, 3},
    {"lucid.rot90: dims must be two different dimensions, got 1 and -2", lucid.rot90, x, 1, {1, -2}},
    {"lucid.rot90: input must have at least 2 dimensions, got shape {3}", lucid.rot90, v},
    {"lucid.rot90: dims must hold 2 dimensions, got 3", lucid.rot90, x, 1, {1, 2, 1}},
    {"lucid.movedim: source and destination must have the same length, got 2 and 1 dims", lucid.movedim,
      x, {1, 2}, {1}},
    {"lucid.movedim: dimension 1 appears twice in source", lucid.movedim, x, {1, -2}, {1, 2}},
    {"lucid.moveaxis: destination dimension 5 is out of range for shape {2, 3}", lucid.moveaxis, x, 1, 5},
    {"lucid.unbind: dimension 1 is out of range for shape {}, which has no dimensions", lucid.unbind,
      lucid.tensor(1)},
    {"lucid.hstack: tensors must be a table of tensors, got a tensor", lucid.hstack, x},
    {"lucid.vstack: tensors must not be empty", lucid.vstack, {}},
    {"lucid.vstack: tensor 2 has shape {4} (as {1, 4}), expected {1, 3} except in dimension 1", lucid.vstack,
      {v, lucid.zeros(4)}},
    {"lucid.dstack: tensors[2] must be a tensor, got 2", lucid.dstack, {x, 2}},
    {"lucid.meshgrid: tensor 2 must be 0-d or 1-D, got shape {2, 3}", lucid.meshgrid, v, x},
    {"lucid.meshgrid: tensors must have the same dtype, got float32 and int64", lucid.meshgrid,
      v, lucid.tensor({1}, {dtype = "int64"})},
    {"lucid.meshgrid: indexing must be 'ij' or 'xy', got 'xz'", lucid.meshgrid, v, {indexing = "xz"}},
    {"lucid.meshgrid: expected at least one tensor", lucid.meshgrid},
    {"lucid.cartesian_prod: tensor 1 must be 1-D, got shape {2, 3}", lucid.cartesian_prod, x, v},
    {"lucid.repeat_interleave: repeats has 2 values but input has size 3 in dimension 2 (shape {2, 3})",
      lucid.repeat_interleave, x, {1, 2}, 2},
    {"lucid.repeat_interleave: repeats must not be negative, got -1", lucid.repeat_interleave, x, -1},
    {"lucid.repeat_interleave: repeats must hold integers, got 0.5", lucid.repeat_interleave, v, {1, 0.5, 1}},
    {"lucid.repeat_interleave: output_size is 4, but the repeats add up to 3", lucid.repeat_interleave,
      v, {1, 1, 1}, 1, {output_size = 4}},
    -- counts past what a double holds are refused before anything is allocated
    {"lucid.repeat_interleave: the repeats add up to more than 2^53 elements", lucid.repeat_interleave,
      lucid.zeros(2, 1), {2 ^ 60, 2 ^ 60 + 2 ^ 10}},
    {"lucid.repeat_interleave: 2 slices repeated 1152921504606846976 times are more than 2^53 elements",
      lucid.repeat_interleave, lucid.zeros(2, 1), 2 ^ 60},
    {"lucid.cross: no dimension of size 3 in input of shape {2, 2}", lucid.cross, lucid.zeros(2, 2),
      lucid.zeros(2, 2)},
    {"lucid.cross: input and other must have the same number of dimensions, got shapes {2, 3} and {3}",
      lucid.cross, x, v},
    {"lucid.cross: dimension 1 must have size 3 in both, got shapes {2, 3} and {2, 3}", lucid.cross, x, x, 1},
    {"lucid.cross: shapes {2, 3} and {4, 3} do not broadcast", lucid.cross, x, lucid.zeros(4, 3)},
    {"lucid.kron: other must be a tensor, got nil", lucid.kron, x},
    {"lucid.tensordot: contracted dimensions differ: size 3 in dimension 2 of {2, 3}, 2 in dimension 1 of {2, 3}",
      lucid.tensordot, x, x, 1},
    {"lucid.tensordot: dims = 3 is more than shapes {2, 3} and {2, 3} have", lucid.tensordot, x, x, 3},
    {"lucid.tensordot: dims must not be negative, got -1", lucid.tensordot, x, x, -1},
    {"lucid.tensordot: the two lists of dims must have the same length, got 2 and 1", lucid.tensordot,
      x, x, {{1, 2}, {1}}},
    {"lucid.tensordot: dimension 1 of a is listed twice", lucid.tensordot, x, x, {{1, -2}, {1, 2}}},
    {"lucid.baddbmm: batch1 must be 3-D, got shape {2, 3}", lucid.baddbmm, x, x, x},
    {"lucid.baddbmm: batch1 of shape {2, 2, 3} and batch2 of shape {3, 3, 2} do not fit (expected {2, 3, p} for batch2)",
      lucid.baddbmm, x, lucid.zeros(2, 2, 3), lucid.zeros(3, 3, 2)},
    {"lucid.addbmm: input of shape {2, 3} does not broadcast to the product's shape {2, 2}", lucid.addbmm,
      x, lucid.zeros(2, 2, 3), lucid.zeros(2, 3, 2)},
    {"lucid.addmv: mat of shape {2, 3} and vec of shape {2} do not fit (3 ~= 2)", lucid.addmv, v, x,
      lucid.zeros(2)},
    {"lucid.addmv: beta and alpha must be integers for integer tensors, got beta = 0.5, alpha = 1", lucid.addmv,
      lucid.zeros(2, {dtype = "int64"}), lucid.zeros(2, 3, {dtype = "int64"}), lucid.zeros(3, {dtype = "int64"}),
      0.5},
    {"lucid.cumprod: dim must be an integer, got nil", lucid.cumprod, x},
    {"lucid.cumprod: dimension 3 is out of range for shape {2, 3}", lucid.cumprod, x, 3},
    {"lucid.cumprod: dtype must be", lucid.cumprod, x, 1, {dtype = "float16"}},
    {"lucid.einsum: equation must be a string, got a tensor", lucid.einsum, x},
    {"lucid.einsum: the equation \"ij,jk\" has 2 operands, but 1 tensor was given", lucid.einsum, "ij,jk", x},
    {"lucid.einsum: the equation \"ij\" has 1 operand, but 2 tensors were given", lucid.einsum, "ij", x, x},
    {"lucid.einsum: operand 1 has shape {2, 3}, but the equation \"ijk\" gives it 3 subscripts", lucid.einsum,
      "ijk", x},
    {"lucid.einsum: invalid subscript '1' at position 2 of \"i1\"", lucid.einsum, "i1", v},
    {"lucid.einsum: '.' at position 1 of \"..i\" is not part of an ellipsis (...)", lucid.einsum, "..i", v},
    {"lucid.einsum: operand 1 has more than one ellipsis (...)", lucid.einsum, "......", x},
    {"lucid.einsum: subscript i is repeated in operand 1 of shape {2, 3} with sizes 2 and 3", lucid.einsum,
      "ii", x},
    {"lucid.einsum: subscript j has size 2 in operand 2 of shape {2, 3}, which does not broadcast with size 3 in operand 1",
      lucid.einsum, "ij,jk", x, x},
    {"lucid.einsum: output subscript k does not appear in the operands of \"ij->k\"", lucid.einsum, "ij->k", x},
    {"lucid.einsum: output subscript i appears more than once in \"ij->ii\"", lucid.einsum, "ij->ii", x},
    {"lucid.einsum: invalid subscript '-' at position 5 of \"i->i->i\"", lucid.einsum, "i->i->i", v},
    {"lucid.einsum: argument 2 must be a tensor, got 2", lucid.einsum, "i,i", v, 2},
  }
  for _, c in ipairs(cases) do
    it(c[1], function() H.assert_error(c[1], c[2], H.unpack(c, 3)) end)
  end

  it("point at the caller's line", function()
    local line, ok, err = debug.getinfo(1, "l").currentline, pcall(function() return lucid.einsum("ij,jk", x, x) end)
    assert.is_false(ok)
    assert.is_truthy(tostring(err):find("compose_spec.lua:" .. line .. ":", 1, true), err)
  end)
end)

describe("lists of tensors", function()
  it("are refused when their length does not count their entries", function()
    local odd = setmetatable({}, {__len = function() return 3 end})
    if #odd == 3 then  -- Lua 5.2 and later honour __len on tables (5.1 and LuaJIT do not)
      assert.has_error(function() lucid.dstack(odd) end,
        "lucid.dstack: tensors must be a list of tensors (entries 1..0), but its length is 3")
    else
      assert.has_error(function() lucid.dstack(odd) end, "lucid.dstack: tensors must not be empty")
    end
  end)
end)

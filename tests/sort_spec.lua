-- The ordering ops against PyTorch 1.13 (tests/fixtures/sort.lua, written by
-- scripts/gen_fixtures_sort.py): sort, argsort, msort, topk, kthvalue, their
-- 1-based int64 indices and the gradient of their values, in float64 and
-- float32; then integer inputs, argument errors and 0-d tensors.
local lucid = require("lucid")
local H = dofile("tests/helpers.lua")

local fixtures = dofile("tests/fixtures/sort.lua")

local function check_outputs(c, dtype)
  local x = H.tensor(c.input, {dtype = dtype})
  local args = {}
  for i, a in ipairs(c.args) do
    args[i] = type(a) == "table" and H.tensor(a, {dtype = dtype}) or a
  end
  local r = H.pack(x[c.op](x, H.unpack(args)))
  assert.are.equal(#c.outputs, r.n, c.name .. ": number of results")
  for i, want in ipairs(c.outputs) do  -- values rounded to float32 in that pass
    local tol = (dtype == "float32" and r[i].dtype == "float32") and 1e-6 or 0
    H.assert_close(r[i], want, tol, tol, c.name .. ": result " .. i)
  end
  if c.op ~= "unique" then assert.are.equal("int64", r[1].dtype) end
end

local function check(c, dtype, rtol)
  if c.outputs then return check_outputs(c, dtype) end
  local x = H.tensor(c.input, {dtype = dtype, requires_grad = true})
  local r1, r2 = x[c.op](x, H.unpack(c.args))
  local values, indices = r1, r2
  if c.op == "argsort" then values, indices = nil, r1 end
  if c.indices then
    assert.are.equal("int64", indices.dtype, c.name)
    H.assert_close(indices, c.indices, 0, 0, c.name .. ": indices")
  end
  if c.values then
    assert.are.equal(dtype, values.dtype)
    H.assert_close(values, c.values, rtol, rtol, c.name .. ": values")
    values:backward(H.tensor(c.seed, {dtype = dtype}))
    H.assert_close(x.grad, c.grad, rtol, rtol, c.name .. ": grad")
  end
end

describe("ordering ops against PyTorch", function()
  for _, c in ipairs(fixtures.cases) do
    it(c.name .. " (float64)", function() check(c, "float64", 1e-12) end)
    it(c.name .. " (float32)", function() check(c, "float32", 1e-6) end)
  end
end)

describe("ordering ops", function()
  it("sort integers exactly, past 2^53 too, and keep their dtype", function()
    local t = lucid.tensor({7, -3, 7, 0}, {dtype = "int32"})
    local v, i = t:sort(1, true)
    assert.are.equal("int32", v.dtype)
    assert.are.same({7, 7, 0, -3}, v:tolist())
    assert.are.same({1, 3, 4, 2}, i:tolist())  -- stable: the first 7 first
    if H.has_integers then
      local big = lucid.tensor({9007199254740993, 9007199254740992}, {dtype = "int64"})
      assert.are.same({2, 1}, big:argsort():tolist())
    end
    assert.are.same({false, true}, lucid.tensor({true, false}):sort():tolist())
  end)

  it("topk of a few (selected, then sorted) agrees with the stable sort, ties included", function()
    lucid.manual_seed(7)
    for _, dtype in ipairs({"float32", "int64"}) do
      local x = lucid.randint(0, 20, {2, 1000}):to(dtype)  -- many ties
      for _, largest in ipairs({true, false}) do
        local sv, si = x:sort(2, largest)
        local tv, ti = x:topk(50, 2, largest)
        assert.are.same(sv[{{}, {1, 50}}]:tolist(), tv:tolist())
        assert.are.same(si[{{}, {1, 50}}]:tolist(), ti:tolist())
      end
    end
  end)

  -- the stable order of vals (a Lua array), as PyTorch's stable sort gives it:
  -- NaN the largest, -0 equal to 0, ties by position
  local function stable_order(vals, descending)
    local function nan(v) return v ~= v end
    local order = {}
    for i = 1, #vals do order[i] = i end
    table.sort(order, function(i, j)
      local a, b = vals[i], vals[j]
      if (nan(a) and nan(b)) or a == b then return i < j end
      if nan(a) or nan(b) then return nan(b) ~= descending end
      if descending then return a > b end
      return a < b
    end)
    return order
  end

  it("long slices (sorted by their bits) and topk of them keep the stable order, NaN, -0, "
    .. "infinities and ties included, in every dtype and along a strided dim", function()
    lucid.manual_seed(11)
    local n = 3000  -- past the radix path's threshold
    local special = {0 / 0, -0.0, 0.0, math.huge, -math.huge, 1e-40, -1e-40, 3.5, -3.5}
    for _, dtype in ipairs({"float32", "float64", "int64", "int32", "uint8", "bool"}) do
      local float = dtype == "float32" or dtype == "float64"
      local vals = {}
      local ties = lucid.randint(-6, 6, {n}):tolist()
      local normal = lucid.randn(n):tolist()
      for i = 1, n do
        if float and i % 7 == 0 then vals[i] = special[i % #special + 1]
        elseif float and i % 3 == 0 then vals[i] = normal[i]
        elseif dtype == "uint8" then vals[i] = ties[i] + 6
        elseif dtype == "bool" then vals[i] = ties[i] > 0
        else vals[i] = ties[i] end
      end
      if dtype == "int64" and H.has_integers then
        vals[5], vals[6], vals[7] = 9007199254740993, 9007199254740992, -9007199254740993
      end
      local x = lucid.tensor(vals, {dtype = dtype})
      local got = x:tolist()  -- float32 rounding of the specials, for the reference
      local ref = {}
      for i = 1, n do ref[i] = got[i] == true and 1 or got[i] == false and 0 or got[i] end
      for _, descending in ipairs({false, true}) do
        local want = stable_order(ref, descending)
        assert.are.same(want, x:argsort(1, descending):tolist(), dtype)
        -- the same slice as a column of a (n, 2) tensor: a strided dim
        local cols = lucid.stack({x, x:flip(1)}, 2)
        assert.are.same(want, cols:argsort(1, descending)[{{}, 1}]:tolist(), dtype .. " strided")
        for _, k in ipairs({0, 1, 50, 1500}) do  -- a heap of a few, or the whole sort
          local _, ti = x:topk(k, 1, descending)
          local first = {}
          for j = 1, k do first[j] = want[j] end
          assert.are.same(first, ti:tolist(), dtype .. " topk " .. k)
        end
      end
    end
  end)

  it("take dim by name and a 0-d tensor as one element", function()
    local x = lucid.tensor({{3, 1}, {2, 4}})
    assert.are.same(x:sort(1, true):tolist(), x:sort{dim = 1, descending = true}:tolist())
    assert.are.same(x:topk(1, 1):tolist(), x:topk(1, {dim = 1}):tolist())
    local v, i = lucid.tensor(2.5):sort()
    assert.are.equal(0, v.ndim)
    assert.are.equal(1, i:item())
  end)

  it("name the function and the sizes in their errors", function()
    local x = lucid.zeros(2, 3)
    assert.has_error(function() x:topk(4) end,
      "lucid.topk: k = 4 is out of range for dimension 2 of shape {2, 3} (0..3)")
    local ok, err = pcall(x.kthvalue, x, 0)
    assert.is_false(ok)
    assert.is_truthy(tostring(err):find("lucid.kthvalue: k = 0 is out of range 1..3", 1, true))
    ok, err = pcall(x.sort, x, 3)
    assert.is_false(ok)
    assert.is_truthy(tostring(err):find("lucid.sort: dimension 3 is out of range", 1, true))
    ok, err = pcall(x.sort, x, {descnding = true})
    assert.is_false(ok)
    assert.is_truthy(tostring(err):find("unknown option 'descnding'", 1, true))
  end)
end)

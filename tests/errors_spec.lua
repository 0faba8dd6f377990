-- Bad input raises a Lua error naming the function, the argument and the
-- shapes (1-based), and the same state keeps working afterwards.
local lucid = require("lucid")
local nn = require("lucid.nn")
local H = dofile("tests/helpers.lua")

-- Asserts f(...) raises an error containing `expected` (plain text), then
-- that the state still computes.
local function check_error(expected, f, ...)
  local ok, msg = pcall(f, ...)
  assert.is_false(ok, "expected an error containing: " .. expected)
  msg = tostring(msg)
  assert(msg:find(expected, 1, true), string.format("error %q does not contain %q", msg, expected))
  local x = lucid.tensor({{1, 2}}, {requires_grad = true})
  local y = (x * x):sum()
  y:backward()
  assert.are.same({{2, 4}}, x.grad:tolist())
end

describe("errors", function()
  local a, b = lucid.zeros(2, 3), lucid.zeros(4, 5)

  it("name both shapes in every binary op", function()
    for _, op in ipairs({"add", "sub", "mul", "div", "pow"}) do
      check_error("lucid." .. op .. ": shapes {2, 3} and {4, 5} do not broadcast (2 ~= 4)", lucid[op], a, b)
      check_error("lucid." .. op .. ": shapes {2, 3} and {4, 5}", a[op], a, b)
    end
    check_error("lucid.add: shapes {2, 3} and {4, 5}", function() return a + b end)
    check_error("lucid.sub: shapes {2, 3} and {4, 5}", function() return a - b end)
    check_error("lucid.mul: shapes {2, 3} and {4, 5}", function() return a * b end)
    check_error("lucid.div: shapes {2, 3} and {4, 5}", function() return a / b end)
  end)

  it("name both shapes in matmul and linear", function()
    check_error("lucid.matmul: shapes {2, 3} and {4, 5} do not fit (3 ~= 4)", lucid.matmul, a, b)
    check_error("lucid.matmul: shapes {2, 3} and {4, 5} do not fit (3 ~= 4)", a.matmul, a, b)
    check_error("lucid.matmul: shapes {3} and {4} do not fit (3 ~= 4)", lucid.matmul, lucid.zeros(3), lucid.zeros(4))
    check_error("lucid.matmul: batch dimensions of shapes {2, 2, 3} and {3, 3, 4} do not broadcast",
      lucid.matmul, lucid.zeros(2, 2, 3), lucid.zeros(3, 3, 4))
    check_error("lucid.linear: input {1, 4} and weight {2, 3} do not fit (4 ~= 3)",
      lucid.linear, lucid.zeros(1, 4), lucid.zeros(2, 3))
    check_error("lucid.linear: bias {3} does not fit weight {2, 3}",
      lucid.linear, lucid.zeros(1, 3), lucid.zeros(2, 3), lucid.zeros(3))
    check_error("lucid.linear: input, weight and bias must share a dtype, got float32, float64",
      lucid.linear, lucid.zeros(1, 3), lucid.zeros(2, 3, {dtype = "float64"}))
    check_error("lucid.linear: input {1, 4} and weight {2, 3}", nn.Linear(3, 2), lucid.zeros(1, 4))
  end)

  it("reject ragged and non-numeric tables", function()
    check_error("lucid.tensor: ragged nested table: element [2] has 1 elements, expected 2",
      lucid.tensor, {{1, 2}, {3}})
    check_error("lucid.tensor: ragged nested table: expected a table of 2 at [2], got number",
      lucid.tensor, {{1, 2}, 3})
    check_error("lucid.tensor: expected a number at [2][2], got string", lucid.tensor, {{1, 2}, {3, "x"}})
    check_error("lucid.tensor: expected a number or a boolean at [1][2], got string", lucid.tensor,
      {{true, "x"}})
    check_error("lucid.tensor: expected a number, a nested table or a tensor, got string", lucid.tensor, "abc")
    check_error("lucid.tensor: expected a number, a nested table or a tensor, got nil", lucid.tensor, nil)
    check_error("lucid.tensor: unknown dtype 'int8'", lucid.tensor, {1}, {dtype = "int8"})
  end)

  it("name the expected type when a tensor is missing", function()
    check_error("lucid.Tensor expected, got table", lucid.tanh, {1, 2})
    check_error("lucid.Tensor expected, got nil", lucid.tanh, nil)
    check_error("lucid.Tensor expected, got nil", lucid.linear, a, nil)
    check_error("lucid.add: expected a tensor or a number, got string", function() return a + "x" end)
    check_error("lucid.add: expected a tensor or a number, got table", function() return a + {} end)
    check_error("lucid.Tensor expected, got boolean", lucid.add, true, 1)
  end)

  it("refuse backward where there is no graph", function()
    check_error("lucid.backward: the tensor does not require grad and has no grad_fn",
      lucid.zeros(2, 3).backward, lucid.zeros(2, 3))
    local x = lucid.ones(2, {requires_grad = true})
    local y = (x * x):sum()
    y:backward()
    check_error("retain_graph = true", y.backward, y)
    local z = (x * 2):sum()
    check_error("lucid.backward: gradient of shape {2} does not match the tensor's shape {}",
      z.backward, z, lucid.ones(2))
  end)

  it("check dims, indices and sizes in 1-based terms", function()
    check_error("lucid.sum: dimension 3 is out of range for a 2-d tensor (expected 1..2 or -2..-1)", a.sum, a, 3)
    check_error("lucid.mean: dimension 0 is out of range for a 2-d tensor", a.mean, a, 0)
    check_error("lucid.sum: dimension -3 is out of range", a.sum, a, -3)
    check_error("lucid.transpose: dimension 5 is out of range", a.transpose, a, 1, 5)
    check_error("lucid.reshape: cannot reshape {2, 3} (6 elements) into {4, 2}", a.reshape, a, 4, 2)
    check_error("lucid.reshape: cannot reshape {2, 3} (6 elements) into {-1, 4}", a.reshape, a, {-1, 4})
    check_error("lucid.Tensor: index 4 is out of range for dimension 1 of size 2 (expected 1..2 or -2..-1)",
      function() return a[4] end)
    check_error("lucid.Tensor: index 0 is out of range", function() return a[0] end)
    check_error("lucid.select: index 4 is out of range for dimension 2 of size 3", a.select, a, 2, 4)
    check_error("lucid.zeros: sizes must be integers, got a fraction", lucid.zeros, 2.5)
    check_error("lucid.zeros: invalid shape {-1}", lucid.zeros, -1)
    check_error("lucid.zeros: invalid shape {1099511627776, 1099511627776}", lucid.zeros, 2 ^ 40, 2 ^ 40)
    check_error("lucid.ones: at most 8 dimensions are supported", lucid.ones, 1, 1, 1, 1, 1, 1, 1, 1, 1)
    check_error("lucid.item: only one-element tensors have an item, got shape {3}", lucid.item, lucid.zeros(3))
  end)

  it("check module arguments and state dicts", function()
    local l = nn.Linear(3, 2)
    check_error('Linear:load_state_dict: missing keys "bias"', l.load_state_dict, l, {weight = lucid.zeros(2, 3)})
    check_error('Linear:load_state_dict: shape mismatch for "weight": the module has {2, 3}, the state dict {3, 2}',
      l.load_state_dict, l, {weight = lucid.zeros(3, 2), bias = lucid.zeros(2)})
    check_error('Linear:load_state_dict: unexpected keys "extra"', l.load_state_dict, l,
      {weight = lucid.zeros(2, 3), bias = lucid.zeros(2), extra = lucid.zeros(1)})
    check_error("nn.Linear: out_features must be a non-negative integer, got nil", nn.Linear, 3)
    check_error("nn.Sequential: argument 2 is a number, expected a Module", nn.Sequential, nn.Tanh(), 3)
    check_error("cannot assign a plain tensor to parameter 'weight'", function() l.weight = lucid.zeros(2, 3) end)
    check_error("Module: forward is not implemented", nn.Module(), lucid.zeros(1))
  end)

  it("refuse in-place changes the graph would not see, and views that would copy", function()
    local w = lucid.ones(2, {requires_grad = true})
    local msg = "a leaf tensor that requires grad (or a view of one) cannot be changed in place while gradients are recorded"
    check_error("lucid.copy_: " .. msg, w.copy_, w, lucid.zeros(2))
    check_error("lucid.fill_: " .. msg, w.fill_, w, 0)
    check_error("lucid.Tensor: " .. msg, function() w[1] = 0 end)
    lucid.no_grad(function() w:fill_(3) end)  -- the way optimizers do it
    assert.are.same({3, 3}, w:tolist())
    local t = lucid.zeros(2, 3):transpose(1, 2)
    check_error("lucid.view: shape {3, 2} cannot be viewed as {6}: its strides do not allow it", t.view, t, 6)
    assert.are.same({6}, t:reshape(6).shape)
  end)

  it("refuse to use a closed tensor", function()
    local kept = lucid.zeros(2)
    H.close(kept)  -- what leaving a `local t <close>` scope does, on every Lua
    check_error("tensor was closed", function() return kept + 1 end)
    check_error("tensor was closed", function() return kept:sum() end)
  end)

  -- `<close>` variables are Lua 5.4 syntax: the scope form only there.
  if H.lua54 then
    it("refuse to use a tensor closed by its <close> scope", function()
      local kept = H.load54([[
        local lucid = ...
        local kept
        do
          local t <close> = lucid.zeros(2)
          kept = t
        end
        return kept
      ]])(lucid)
      check_error("tensor was closed", function() return kept + 1 end)
      check_error("tensor was closed", function() return kept:sum() end)
    end)
  end
end)

-- Hessian-vector products (second-order autograd) against PyTorch 1.13
-- (tests/fixtures/hvp.lua, written by scripts/gen_fixtures_hvp.py), in
-- float64: each case's function is built here from Lucid's ops; its gradient
-- is taken with create_graph = true, and the gradient of sum_i sum(g_i * v_i)
-- is the Hessian times v.
local lucid = require("lucid")
local H = dofile("tests/helpers.lua")
local fixtures = dofile("tests/fixtures/hvp.lua")

-- fixture fn -> the loss from the inputs (array) and the consts (by name),
-- as the header of tests/fixtures/hvp.lua writes them (1-based dims)
local fns = {
  tanh_cube_sum = function(a)
    return (lucid.tanh(a[1]) ^ 3):sum()
  end,
  mlp_mse = function(a, c)
    local W1, b1, W2, b2 = a[1], a[2], a[3], a[4]
    local h = lucid.tanh(lucid.linear(c.x, W1, b1))
    return lucid.mean((lucid.linear(h, W2, b2) - c.target) ^ 2)
  end,
  log_softmax_nll = function(a, c)
    local logits = lucid.matmul(c.x, a[1]:t())
    return -lucid.mean((logits:log_softmax(2) * c.onehot):sum(2))
  end,
  sigmoid_exp_rational = function(a)
    local x = a[1]
    return (lucid.sigmoid(x) * lucid.exp(x) / (x ^ 2 + 1)):sum()
  end,
  softmax_square_sum = function(a)
    return (a[1]:softmax(2) ^ 2):sum()
  end,
}

-- float64 throughout: relative 1e-10, and an absolute 1e-12 for the values
-- near 0 that come out of cancellations
local RTOL, ATOL = 1e-10, 1e-12

local function check_case(c)
  local fn = fns[c.fn]
  assert.is_function(fn, "no Lua function for fn '" .. c.fn .. "'")
  local inputs, v, consts = {}, {}, {}
  for i, fx in ipairs(c.inputs) do inputs[i] = H.tensor(fx, {requires_grad = true}) end
  for i, fx in ipairs(c.v) do v[i] = H.tensor(fx) end
  for k, fx in pairs(c.consts) do consts[k] = H.tensor(fx) end

  local loss = fn(inputs, consts)
  assert.are.equal("float64", loss.dtype)
  H.assert_close(loss, c.loss, RTOL, ATOL, c.name .. ": loss")

  local grads = {lucid.autograd.grad(loss, inputs, nil, {create_graph = true})}
  assert.are.equal(#inputs, #grads, c.name .. ": number of gradients")
  for i, g in ipairs(grads) do
    H.assert_close(g, c.grads[i], RTOL, ATOL, c.name .. ": grad " .. i)
    assert.is_true(g.requires_grad, c.name .. ": grad " .. i .. " should require grad (create_graph)")
  end

  local dot
  for i, g in ipairs(grads) do
    local term = (g * v[i]):sum()
    dot = dot and dot + term or term
  end
  local hvp = {lucid.autograd.grad(dot, inputs)}
  assert.are.equal(#inputs, #hvp, c.name .. ": number of HVP parts")
  for i, h in ipairs(hvp) do
    assert.are.equal("float64", h.dtype)
    H.assert_close(h, c.hvp[i], RTOL, ATOL, c.name .. ": hvp " .. i)
  end
  -- lucid.autograd.grad touches no .grad
  for i, x in ipairs(inputs) do assert.is_nil(x.grad, c.name .. ": input " .. i .. " got a .grad") end
end

describe("Hessian-vector products against PyTorch (float64)", function()
  for _, c in ipairs(fixtures.cases) do
    it(c.name, function() check_case(c) end)
  end
end)

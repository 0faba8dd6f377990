--- Part of lucid.optim; help() and `make doc` read these comments.
-- @module lucid.optim

-- optim.Adagrad(params, {lr = 1e-2, lr_decay = 0, weight_decay = 0,
-- initial_accumulator_value = 0, eps = 1e-10, maximize = false}), or
-- positionally in that order (maximize only by name). PyTorch 1.13's update,
-- with t the step:
--   g = grad (negated when maximizing) + weight_decay * p
--   sum = sum + g^2
--   p = p - lr / (1 + (t - 1) * lr_decay) * g / (sqrt(sum) + eps)
-- State: step and sum, made when the parameter is added (as PyTorch does, so
-- a fresh optimizer's state dict already has them).
local lucid = require("lucid")
local Optimizer = require("lucid.optim.Optimizer")


--- Divides the gradient by the root of the sum of all squared gradients so far.
-- @function Adagrad
-- @usage optim.Adagrad(params, {lr = 1e-2, lr_decay = 0, weight_decay = 0, initial_accumulator_value = 0, eps = 1e-10, maximize = false})
-- @within optim: optimizers
local Adagrad = Optimizer:extend("Adagrad", {
  {"lr", 1e-2, "nonneg"},
  {"lr_decay", 0, "nonneg"},
  {"weight_decay", 0, "nonneg"},
  {"initial_accumulator_value", 0, "nonneg"},
  {"eps", 1e-10, "nonneg"},
  {"maximize", false, "boolean", keyword = true},
})

function Adagrad:init_state(p, group, state)
  state.step = 0
  state.sum = lucid.full_like(p, group.initial_accumulator_value)
end

function Adagrad:update(p, grad, group, state)
  if state.sum == nil then self:init_state(p, group, state) end
  local step = state.step + 1
  state.step = step
  if group.maximize then grad = -grad end
  if group.weight_decay ~= 0 then grad = grad + group.weight_decay * p end
  local clr = group.lr / (1 + (step - 1) * group.lr_decay)
  state.sum:addcmul_(grad, grad, 1)  -- in place, as in PyTorch's loop
  p:addcdiv_(grad, state.sum:sqrt():add_(group.eps), -clr)
end

return Adagrad

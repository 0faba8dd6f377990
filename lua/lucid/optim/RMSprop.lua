--- Part of lucid.optim; help() and `make doc` read these comments.
-- @module lucid.optim

-- optim.RMSprop(params, {lr = 1e-2, alpha = 0.99, eps = 1e-8,
-- weight_decay = 0, momentum = 0, centered = false, maximize = false}), or
-- positionally in that order (maximize only by name). PyTorch 1.13's update:
--   g = grad (negated when maximizing) + weight_decay * p
--   v = alpha * v + (1 - alpha) * g^2
--   centered: a = alpha * a + (1 - alpha) * g, and v - a^2 (the variance)
--             replaces v below
--   d = sqrt(v) + eps
--   momentum > 0: buf = momentum * buf + g / d; p = p - lr * buf
--   else:         p = p - lr * g / d
-- State: step, square_avg (v), momentum_buffer (momentum > 0), grad_avg
-- (centered).
local lucid = require("lucid")
local Optimizer = require("lucid.optim.Optimizer")


--- Divides the gradient by a running root mean square of recent gradients.
-- @function RMSprop
-- @usage optim.RMSprop(params, {lr = 1e-2, alpha = 0.99, eps = 1e-8, weight_decay = 0, momentum = 0, centered = false, maximize = false})
-- @within optim: optimizers
local RMSprop = Optimizer:extend("RMSprop", {
  {"lr", 1e-2, "nonneg"},
  {"alpha", 0.99, "nonneg"},
  {"eps", 1e-8, "nonneg"},
  {"weight_decay", 0, "nonneg"},
  {"momentum", 0, "nonneg"},
  {"centered", false, "boolean"},
  {"maximize", false, "boolean", keyword = true},
})

function RMSprop:update(p, grad, group, state)
  local alpha = group.alpha
  if state.step == nil then
    state.step = 0
    state.square_avg = lucid.zeros_like(p)
  end
  -- created when first needed, so that turning an option on later works
  if group.momentum > 0 and state.momentum_buffer == nil then
    state.momentum_buffer = lucid.zeros_like(p)
  end
  if group.centered and state.grad_avg == nil then state.grad_avg = lucid.zeros_like(p) end
  state.step = state.step + 1
  if group.maximize then grad = -grad end
  if group.weight_decay ~= 0 then grad = grad + group.weight_decay * p end

  -- in place, as in PyTorch's loop
  state.square_avg:mul_(alpha):addcmul_(grad, grad, 1 - alpha)
  local avg
  if group.centered then
    state.grad_avg:mul_(alpha):add_(grad, 1 - alpha)
    avg = state.square_avg:clone():addcmul_(state.grad_avg, state.grad_avg, -1):sqrt_()
  else
    avg = state.square_avg:sqrt()
  end
  avg:add_(group.eps)
  if group.momentum > 0 then
    state.momentum_buffer:mul_(group.momentum):addcdiv_(grad, avg)
    p:add_(state.momentum_buffer, -group.lr)
  else
    p:addcdiv_(grad, avg, -group.lr)
  end
end

return RMSprop

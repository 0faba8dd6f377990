--- Part of lucid.optim; help() and `make doc` read these comments.
-- @module lucid.optim

-- optim.SGD(params, {lr =, momentum = 0, dampening = 0, weight_decay = 0,
-- nesterov = false, maximize = false}), or positionally in that order
-- (maximize only by name, as in PyTorch). PyTorch 1.13's update:
--   g = grad (negated when maximizing) + weight_decay * p
--   buf = g at the first step, then momentum * buf + (1 - dampening) * g
--   p = p - lr * (nesterov and g + momentum * buf or buf)   (with momentum)
local Optimizer = require("lucid.optim.Optimizer")

--- Stochastic gradient descent, with optional momentum (Nesterov's too) and L2
-- weight decay. params is model:parameters() or an array of groups
-- {{params = {...}, lr = ...}, ...}.
-- @function SGD
-- @usage optim.SGD(params, {lr =, momentum = 0, dampening = 0, weight_decay = 0, nesterov = false, maximize = false})  or  optim.SGD(params, lr)
-- @within optim: optimizers
local SGD = Optimizer:extend("SGD", {
  {"lr", Optimizer.required, "nonneg"},
  {"momentum", 0, "nonneg"},
  {"dampening", 0, "number"},
  {"weight_decay", 0, "nonneg"},
  {"nesterov", false, "boolean"},
  {"maximize", false, "boolean", keyword = true},
})

function SGD:check_group(group)
  if group.nesterov and (group.momentum <= 0 or group.dampening ~= 0) then
    return "nesterov momentum requires a momentum and zero dampening"
  end
end

-- In place, as PyTorch's own loop: the buffer and the parameter are updated
-- where they are; only the options that change the gradient copy it.
function SGD:update(p, grad, group, state)
  if group.maximize then grad = -grad end
  if group.weight_decay ~= 0 then grad = grad + p * group.weight_decay end
  local momentum = group.momentum
  if momentum ~= 0 then
    local buf = state.momentum_buffer
    if buf == nil then
      -- a copy: p.grad's storage is reused when gradients accumulate again
      buf = grad:clone()
      state.momentum_buffer = buf
    else
      buf:mul_(momentum):add_(grad, 1 - group.dampening)
    end
    if group.nesterov then grad = grad + buf * momentum else grad = buf end
  end
  p:add_(grad, -group.lr)
end

return SGD

--- optim.RMSprop(params, {lr = 1e-2, alpha = 0.99, eps = 1e-8,
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

-- lucid.sqrt is new in the C core; x ^ 0.5 gives the same values without it
local sqrt = lucid.sqrt or function(t) return t ^ 0.5 end

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

  state.square_avg = state.square_avg * alpha + grad * grad * (1 - alpha)
  local avg
  if group.centered then
    state.grad_avg = state.grad_avg * alpha + grad * (1 - alpha)
    avg = sqrt(state.square_avg - state.grad_avg * state.grad_avg) + group.eps
  else
    avg = sqrt(state.square_avg) + group.eps
  end
  if group.momentum > 0 then
    state.momentum_buffer = state.momentum_buffer * group.momentum + grad / avg
    p:copy_(p - group.lr * state.momentum_buffer)
  else
    p:copy_(p - group.lr * (grad / avg))
  end
end

return RMSprop

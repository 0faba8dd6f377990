--- Part of lucid.optim; help() and `make doc` read these comments.
-- @module lucid.optim

-- optim.Adam(params, {lr = 1e-3, betas = {0.9, 0.999}, eps = 1e-8,
-- weight_decay = 0, amsgrad = false, maximize = false}), or positionally in
-- that order (maximize only by name). PyTorch 1.13's update, with t the step:
--   g = grad (negated when maximizing) + weight_decay * p     (L2 penalty)
--   m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g^2
--   (amsgrad: v_max = max(v_max, v), used in place of v below)
--   p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
-- State: step, exp_avg (m), exp_avg_sq (v), max_exp_avg_sq (amsgrad only).
-- AdamW is this class with decay() replaced.
local lucid = require("lucid")
local Optimizer = require("lucid.optim.Optimizer")

--- Adam: bias-corrected running averages of the gradient and its square;
-- weight_decay is an L2 penalty added to the gradient (see AdamW).
-- @function Adam
-- @usage optim.Adam(params, {lr = 1e-3, betas = {0.9, 0.999}, eps = 1e-8, weight_decay = 0, amsgrad = false, maximize = false})
-- @within optim: optimizers
local Adam = Optimizer:extend("Adam", {
  {"lr", 1e-3, "nonneg"},
  {"betas", {0.9, 0.999}, "betas"},
  {"eps", 1e-8, "nonneg"},
  {"weight_decay", 0, "nonneg"},
  {"amsgrad", false, "boolean"},
  {"maximize", false, "boolean", keyword = true},
})

-- Adam's weight decay is an L2 penalty: it goes into the gradient, so the
-- moments (and the adaptive scaling) see it. Returns the gradient to use.
function Adam:decay(p, grad, group)
  if group.weight_decay ~= 0 then grad = grad + group.weight_decay * p end
  return grad
end

function Adam:update(p, grad, group, state)
  local beta1, beta2 = group.betas[1], group.betas[2]
  if group.maximize then grad = -grad end
  if state.step == nil then
    state.step = 0
    state.exp_avg = lucid.zeros_like(p)
    state.exp_avg_sq = lucid.zeros_like(p)
  end
  if group.amsgrad and state.max_exp_avg_sq == nil then
    state.max_exp_avg_sq = lucid.zeros_like(p)
  end
  local step = state.step + 1
  state.step = step
  grad = self:decay(p, grad, group)

  -- the moments and the parameter change in place, as in PyTorch's loop:
  -- one temporary (the denominator) per step, not one per term
  local exp_avg, exp_avg_sq = state.exp_avg, state.exp_avg_sq
  exp_avg:mul_(beta1):add_(grad, 1 - beta1)
  exp_avg_sq:mul_(beta2):addcmul_(grad, grad, 1 - beta2)
  if group.amsgrad then
    -- the largest second moment so far: the step size never grows back
    state.max_exp_avg_sq:copy_(lucid.maximum(state.max_exp_avg_sq, exp_avg_sq))
    exp_avg_sq = state.max_exp_avg_sq
  end
  -- the moments start at 0; the bias corrections undo that pull towards 0
  local step_size = group.lr / (1 - beta1 ^ step)
  local denom = exp_avg_sq:sqrt():div_(math.sqrt(1 - beta2 ^ step)):add_(group.eps)
  p:addcdiv_(exp_avg, denom, -step_size)
end

return Adam

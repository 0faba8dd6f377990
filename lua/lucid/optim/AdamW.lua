--- Part of lucid.optim; help() and `make doc` read these comments.
-- @module lucid.optim

-- optim.AdamW(params, {lr = 1e-3, betas = {0.9, 0.999}, eps = 1e-8,
-- weight_decay = 1e-2, amsgrad = false, maximize = false}): Adam with
-- decoupled weight decay (Loshchilov & Hutter): the parameters shrink by
-- lr * weight_decay before the Adam step, and the moments see the plain
-- gradient, so the decay is not rescaled by the adaptive denominators.
local Adam = require("lucid.optim.Adam")

--- Adam with decoupled weight decay: parameters shrink by lr * weight_decay before
-- the Adam step.
-- @function AdamW
-- @usage optim.AdamW(params, {lr = 1e-3, betas = {0.9, 0.999}, eps = 1e-8, weight_decay = 1e-2, amsgrad = false, maximize = false})
-- @within optim: optimizers
local AdamW = Adam:extend("AdamW", {
  {"lr", 1e-3, "nonneg"},
  {"betas", {0.9, 0.999}, "betas"},
  {"eps", 1e-8, "nonneg"},
  {"weight_decay", 1e-2, "nonneg"},
  {"amsgrad", false, "boolean"},
  {"maximize", false, "boolean", keyword = true},
})

function AdamW:decay(p, grad, group)
  if group.weight_decay ~= 0 then p:mul_(1 - group.lr * group.weight_decay) end
  return grad
end

return AdamW

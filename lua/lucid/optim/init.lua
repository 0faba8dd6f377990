--- Optimizers and learning-rate schedulers with PyTorch 1.13's update rules:
-- local opt = optim.Adam(model:parameters(), {lr = 1e-3}); then each step
-- opt:zero_grad(); loss:backward(); opt:step().
-- @module lucid.optim
-- @usage optim = require("lucid.optim")  (also lucid.optim)
-- @aka lucid.optim

-- lucid.optim: optimizers and learning-rate schedulers, with PyTorch 1.13's
-- semantics. Every optimizer is an optim.Optimizer:extend subclass (see
-- Optimizer.lua), made the way a user makes their own.
--
--   local opt = optim.Adam(model:parameters(), {lr = 1e-3})
--   local sched = optim.lr_scheduler.StepLR(opt, {step_size = 10, gamma = 0.5})
--   for epoch = 1, n do
--     opt:zero_grad(); loss_fn(model(x), y):backward(); opt:step()
--     sched:step()
--   end
local optim = {}

-- the body under load_guarded: a failure part way leaves nothing half-loaded
local load_guarded = require("lucid._load")

return load_guarded("lucid.optim", optim, function()
  optim.Optimizer = require("lucid.optim.Optimizer")
  optim.SGD = require("lucid.optim.SGD")
  optim.Adam = require("lucid.optim.Adam")
  optim.AdamW = require("lucid.optim.AdamW")
  optim.RMSprop = require("lucid.optim.RMSprop")
  optim.Adagrad = require("lucid.optim.Adagrad")
  optim.lr_scheduler = require("lucid.optim.lr_scheduler")
end)

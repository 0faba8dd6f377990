--- lucid.optim: optimizers and learning-rate schedulers, with PyTorch 1.13's
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

-- Runs body (the rest of this file) with package.loaded[name] = mod already
-- set, so that submodules can require it back (circular requires). If body
-- raises, name and every lucid module loaded meanwhile are forgotten before
-- the error goes on, so that the next require starts afresh instead of
-- returning a half-filled table (or submodules holding one). Everything that
-- can fail to allocate is made before package.loaded changes.
local function load_guarded(name, mod, body)
  local before = {}
  for k in pairs(package.loaded) do before[k] = true end
  package.loaded[name] = mod
  local ok, err = pcall(body)
  if not ok then
    for k in next, package.loaded do  -- clearing fields while traversing is allowed
      if not before[k] and type(k) == "string" and k ~= "lucid.core"
          and (k == "lucid" or k:find("^lucid%.")) then
        package.loaded[k] = nil
      end
    end
    package.loaded[name] = nil
    error(err, 0)
  end
  return mod
end

return load_guarded("lucid.optim", optim, function()
  optim.Optimizer = require("lucid.optim.Optimizer")
  optim.SGD = require("lucid.optim.SGD")
  optim.Adam = require("lucid.optim.Adam")
  optim.AdamW = require("lucid.optim.AdamW")
  optim.RMSprop = require("lucid.optim.RMSprop")
  optim.Adagrad = require("lucid.optim.Adagrad")
  optim.lr_scheduler = require("lucid.optim.lr_scheduler")
end)

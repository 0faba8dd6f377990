-- The policy tests/host/plan_game.c runs from C: one model for 1000 agents,
-- compiled once per plan the host asks for.
local lucid = require("lucid")
local nn = require("lucid.nn")

lucid.manual_seed(5)
local model = nn.Sequential(nn.Linear(32, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(),
  nn.Linear(64, 8))

local policy = {model = model}

-- A new compiled model for a batch of 1000 agents; the host keeps its plan.
function policy.compile()
  return model:compile(lucid.zeros(1000, 32)):plan()
end

-- A float64 model's plan: the float32 accessors refuse it.
function policy.compile_f64()
  return nn.Linear(2, 3):to("float64"):compile(lucid.zeros(1, 2, {dtype = "float64"})):plan()
end

-- The model the ordinary way on the plan's current input.
function policy.reference(plan, i)
  local obs = require("lucid.core")._plan_input(plan, i)
  return lucid.no_grad(model, obs:clone())
end

return policy

-- policy.lua: a small model and a hand-written SGD loop, loaded by
-- test_states.c into several lua_States at once. It keeps its state in the
-- returned table, so each lua_State has its own copy.
local lucid = require("lucid")
local nn = lucid.nn

local P = {}

--- Seeds the state's generator and builds the model and a fixed batch.
function P.build(seed)
  lucid.manual_seed(seed)
  P.model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
  P.x = lucid.randn(6, 4)
  P.target = lucid.randn(6, 2)
end

--- One SGD step by hand; returns the loss before the step.
function P.step(lr)
  local y = P.model(P.x)
  local loss = ((y - P.target) ^ 2):mean()
  loss:backward()
  lucid.no_grad(function()
    for _, p in ipairs(P.model:parameters()) do p:copy_(p - p.grad * lr) end
  end)
  P.model:zero_grad()
  return loss:item()
end

--- Every parameter value, in order, as one string with full precision.
function P.snapshot()
  local out = {}
  for name, p in P.model:named_parameters() do
    local flat = lucid.no_grad(function() return p:reshape(-1):tolist() end)
    for i, v in ipairs(flat) do out[#out + 1] = string.format("%s[%d]=%.17g", name, i, v) end
  end
  return table.concat(out, "\n")
end

return P

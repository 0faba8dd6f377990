-- The policy a game hosts (tests/host/game.c): observations in, actions out,
-- once a frame, with buffers reused so a frame allocates nothing.
local lucid = require("lucid")
local nn = require("lucid.nn")

lucid.manual_seed(11)
local model = nn.Sequential(nn.Linear(8, 32), nn.Tanh(), nn.Linear(32, 4), nn.Tanh())
model:reuse_buffers()

local policy = {model = model}

-- The hot path: the host calls it with recording off.
function policy.act(obs)
  return model(obs)
end

-- The same model the ordinary way (fresh tensors, recording as it is), to
-- check the hot path against.
function policy.reference(obs)
  model:reuse_buffers(false)
  local y = model(lucid.tensor(obs:tolist())):detach()
  model:reuse_buffers(true)
  return y
end

return policy

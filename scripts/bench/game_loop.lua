--[[ game_loop.lua: the policies game_loop.c hosts, one per variant of `make bench`'s
frame-time table. Loaded by the host (`dofile`), it returns a table: each entry,
given the host's observation view (a tensor over the host's float buffer, shape
{1000, 32}), builds the model and returns what the host calls every frame.

The model is the "1000 agents" row's: Linear(32, 64), Tanh, Linear(64, 64), Tanh,
Linear(64, 8), seeded, on one thread, under no_grad. A frame's function runs the
policy and, as a game's Lua does, makes a little garbage (a table of the frame's
bookkeeping, the last 60 kept), so the collector runs as it would in a game.
Each entry is also a row of game_loop.c's table of variants. ]]
local lucid = require("lucid")
local nn = lucid.nn

local function agents_mlp()
  lucid.manual_seed(0)
  return nn.Sequential(nn.Linear(32, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(),
    nn.Linear(64, 8))
end

local policies = {}

local function setup()
  lucid.set_num_threads(1)
  lucid.set_grad_enabled(false)
  return agents_mlp()
end

-- A frame of the game's Lua: the policy, then its bookkeeping (the garbage).
local function frames(policy, obs)
  local log, frame = {}, 0
  policies.log = log   -- the game's record of recent frames (a HUD would read it)
  return function()
    frame = frame + 1
    local actions = policy(obs)
    log[frame % 60 + 1] = {frame = frame, agents = obs:size(1)}
    return actions
  end
end

-- The Lua path: the model called from Lua every frame, with reuse_buffers.
function policies.lua(obs)
  local model = setup()
  model:reuse_buffers()
  return frames(model, obs)
end

-- The compiled model (model:compile) called from Lua every frame.
function policies.compiled(obs)
  return frames(setup():compile(obs), obs)
end

-- The C plan: the compiled model's plan, which the host takes once (fast:plan())
-- and runs from C every frame through lucid_plan_run; no Lua per frame.
function policies.cplan(obs)
  return setup():compile(obs)
end

return policies

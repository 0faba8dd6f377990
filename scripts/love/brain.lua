-- brain.lua: the agents' shared policy, a small MLP from sensors to a
-- distribution over headings, trained online by the policy gradient
-- (REINFORCE with the batch's mean reward as the baseline).
--
-- One frame is one batched forward for all agents: `act` runs the network on
-- every agent's sensors at once and samples a heading per agent; `learn`
-- takes the rewards the field paid for those headings and makes one Adam step
-- through the same graph. The rewards are immediate (the distance gained on
-- the nearest pellet, plus 1 per pellet eaten), so each frame is a complete
-- one-step episode and no returns need to be stored.
local lucid = require("lucid")
local nn = lucid.nn

local Brain = {}
Brain.__index = Brain

local ENTROPY = 0.01  -- keeps exploring while the policy sharpens

--- A new policy: o.inputs sensors, o.hidden units, o.actions headings, o.lr.
function Brain.new(o)
  local b = setmetatable({actions = o.actions, inputs = o.inputs}, Brain)
  b.model = nn.Sequential(nn.Linear(o.inputs, o.hidden), nn.Tanh(), nn.Linear(o.hidden, o.actions))
  b.optimizer = lucid.optim.Adam(b.model:parameters(), {lr = o.lr})
  return b
end

--- Headings for n agents from their sensors (a flat row-major array, n rows),
-- one per agent in 1..actions, sampled from the policy. With `learning`, the
-- graph is kept for the next `learn`; without it nothing is recorded.
function Brain:act(sensors, n, learning)
  local x = lucid.from_table(sensors, {n, self.inputs})
  local was = lucid.set_grad_enabled(learning and true or false)
  local logp = self.model(x):log_softmax(2)                 -- {n, actions}
  lucid.set_grad_enabled(was)
  -- sampling by inversion: one uniform per row against the cumulative
  -- probabilities, so the draw goes through lucid's seeded generator
  local cdf = lucid.no_grad(function() return logp:exp():cumsum(2) end)
  local u = lucid.rand(n, 1)
  local pick = (cdf:lt(u):sum(2, true) + 1):clamp(nil, self.actions)  -- {n, 1}
  self.logp, self.pick = learning and logp or nil, pick
  return pick:reshape(-1):tolist()
end

--- One policy-gradient step from the rewards (an array of n numbers) paid for
-- the headings of the last `act`. Returns the loss and the policy's entropy.
function Brain:learn(rewards)
  local n = #rewards
  local r = lucid.from_table(rewards, {n, 1})
  local adv = (r - r:mean()) / (r:std() + 1e-6)               -- the baseline, then a fixed scale
  local chosen = self.logp:gather(2, self.pick)                -- log-probability of each choice
  local entropy = -(self.logp:exp() * self.logp):sum(2):mean()
  local loss = -(adv * chosen):mean() - ENTROPY * entropy
  self.optimizer:zero_grad()
  loss:backward()
  self.optimizer:step()
  self.logp = nil
  return loss:item(), entropy:item()
end

--- The network's outputs (log-probabilities, {n, actions}) for sensors,
-- without recording: what a reloaded policy is compared on.
function Brain:probe(sensors, n)
  return lucid.no_grad(function()
    return self.model(lucid.from_table(sensors, {n, self.inputs})):log_softmax(2)
  end)
end

--- Writes the policy and its optimizer to a safetensors file at path (a real
-- file path: lucid writes with C's stdio, not through love.filesystem).
function Brain:save(path, frame)
  lucid.save({model = self.model:state_dict(), optim = self.optimizer:state_dict(), frame = frame}, path)
end

--- Reads a file written by `save` (or a bare state dict of this network, as
-- PyTorch's `save_file(model.state_dict())` writes it). Returns the frame it
-- was saved at, or nil.
function Brain:load(path)
  local ck = lucid.load(path)
  if ck.model then
    self.model:load_state_dict(ck.model)
    if ck.optim then self.optimizer:load_state_dict(ck.optim) end
    return ck.frame
  end
  self.model:load_state_dict(ck)
end

return Brain

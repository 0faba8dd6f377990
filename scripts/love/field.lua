-- field.lua: the game's world in plain Lua (no LÖVE, no tensors), so that the
-- rules can be read and tested apart from the drawing and the learning.
--
-- A rectangle with food pellets and agents. Each frame every agent picks one
-- of `directions` headings; its velocity turns part way towards that heading
-- (agents have some inertia), it moves, stops at the walls, and eats any
-- pellet it touches (the pellet reappears somewhere else). The first
-- `learners` agents follow the policy network; the others pick headings
-- uniformly at random, as the yardstick in the same field.
local Field = {}
Field.__index = Field

local SPEED = 120     -- units per second at full speed
local TURN = 0.35     -- how much of the new heading's velocity one frame takes
local EAT = 10        -- eating distance
local FAR = 300       -- distances are reported as a fraction of this, capped at 1
local BODY = 7        -- agents are discs of this radius and do not overlap

Field.inputs = 5      -- the sensor row: food direction (2), food distance, velocity (2)

--- A new field. o: width, height, learners, randoms, food, directions, and
-- uniform (a function returning a number in [0, 1): every random choice of the
-- field goes through it, so the game decides how runs repeat).
function Field.new(o)
  local f = setmetatable({}, Field)
  f.w, f.h, f.directions, f.uniform = o.width, o.height, o.directions, o.uniform
  f.learners, f.n = o.learners, o.learners + o.randoms
  f.agents, f.food = {}, {}
  for i = 1, f.n do
    f.agents[i] = {x = f.uniform() * f.w, y = f.uniform() * f.h, vx = 0, vy = 0,
                   learner = i <= f.learners, heading = 1}
  end
  for j = 1, o.food do f.food[j] = {x = f.uniform() * f.w, y = f.uniform() * f.h} end
  return f
end

-- The pellet nearest to (x, y): its index and distance.
function Field:nearest(x, y)
  local best, bd = 1, math.huge
  for j = 1, #self.food do
    local p = self.food[j]
    local d = (p.x - x) ^ 2 + (p.y - y) ^ 2
    if d < bd then best, bd = j, d end
  end
  return best, math.sqrt(bd)
end

--- The learners' sensors as one flat row-major array of `learners` rows of
-- Field.inputs numbers (what lucid.from_table takes): the unit vector to the
-- nearest pellet, its distance (0..1) and the agent's velocity (-1..1 each).
function Field:sensors()
  local out, k = {}, 0
  for i = 1, self.learners do
    local a = self.agents[i]
    local j, d = self:nearest(a.x, a.y)
    local p = self.food[j]
    local ux, uy = 0, 0
    if d > 0 then ux, uy = (p.x - a.x) / d, (p.y - a.y) / d end
    out[k + 1], out[k + 2], out[k + 3] = ux, uy, math.min(d / FAR, 1)
    out[k + 4], out[k + 5] = a.vx / SPEED, a.vy / SPEED
    k = k + 5
  end
  return out
end

-- Agent i shoves aside every agent it overlaps, half the overlap each, so
-- that agents chasing one pellet do not merge into one.
function Field:push(i)
  local a = self.agents[i]
  for k = 1, self.n do
    local b = self.agents[k]
    if k ~= i then
      local dx, dy = b.x - a.x, b.y - a.y
      local d = math.sqrt(dx * dx + dy * dy)
      if d < 2 * BODY and d > 0 then
        local s = (2 * BODY - d) / (2 * d)
        a.x, a.y, b.x, b.y = a.x - dx * s, a.y - dy * s, b.x + dx * s, b.y + dy * s
      end
    end
  end
end

--- Moves every agent by its heading (headings[i] in 1..directions; agents
-- past #headings, the random ones, draw their own) for dt seconds. Returns
-- the learners' rewards (an array: the distance gained on the pellet that was
-- nearest, in units of a full-speed frame, plus 1 for each pellet eaten) and
-- how many pellets learners and random agents ate this frame.
function Field:step(headings, dt)
  local rewards, eaten_l, eaten_r = {}, 0, 0
  for i = 1, self.n do
    local a = self.agents[i]
    local h = headings[i] or (math.floor(self.uniform() * self.directions) + 1)
    a.heading = h
    local angle = (h - 1) * 2 * math.pi / self.directions
    local j, before = self:nearest(a.x, a.y)
    local target = self.food[j]
    a.vx = a.vx + TURN * (SPEED * math.cos(angle) - a.vx)
    a.vy = a.vy + TURN * (SPEED * math.sin(angle) - a.vy)
    a.x, a.y = a.x + a.vx * dt, a.y + a.vy * dt
    if a.x < 0 or a.x > self.w then a.x, a.vx = math.max(0, math.min(self.w, a.x)), 0 end
    if a.y < 0 or a.y > self.h then a.y, a.vy = math.max(0, math.min(self.h, a.y)), 0 end
    self:push(i)
    local after = math.sqrt((target.x - a.x) ^ 2 + (target.y - a.y) ^ 2)
    local r = (before - after) / (SPEED * dt)
    local k, d = self:nearest(a.x, a.y)
    if d < EAT then
      local p = self.food[k]
      p.x, p.y = self.uniform() * self.w, self.uniform() * self.h
      r = r + 1
      if a.learner then eaten_l = eaten_l + 1 else eaten_r = eaten_r + 1 end
    end
    if a.learner then rewards[i] = r end
  end
  return rewards, eaten_l, eaten_r
end

return Field

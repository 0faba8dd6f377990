-- game.lua: one frame of the game (sense, act, move, learn) and its running
-- scores, apart from LÖVE so that main.lua only loads, draws and reports.
local lucid = require("lucid")
local Field = require("field")
local Brain = require("brain")

local Game = {}
Game.__index = Game

Game.WINDOW = 100     -- scores are pellets per agent over this many frames

--- A new game. o: seed, learners, randoms, food, width, height, train.
function Game.new(o)
  lucid.manual_seed(o.seed)
  local g = setmetatable({frame = 0, train = o.train ~= false}, Game)
  -- the field draws from lucid's generator too, so one seed fixes the run
  local pool, used = {}, 0
  local function uniform()
    if used == #pool then pool, used = lucid.rand(256, {dtype = "float64"}):tolist(), 0 end
    used = used + 1
    return pool[used]
  end
  g.field = Field.new{width = o.width, height = o.height, learners = o.learners, randoms = o.randoms,
                      food = o.food, directions = 8, uniform = uniform}
  g.brain = Brain.new{inputs = Field.inputs, hidden = 32, actions = 8, lr = o.lr or 0.001}
  -- per window: pellets eaten by learners and by random agents, mean reward, mean loss
  g.windows = {}
  g.current = {learners = 0, randoms = 0, reward = 0, loss = 0, frames = 0}
  g.loss, g.entropy = 0, 0
  return g
end

--- Plays one frame of dt seconds: one batched forward for all learners, the
-- move, and (when training) one policy-gradient step.
function Game:step(dt)
  local f = self.field
  local headings = self.brain:act(f:sensors(), f.learners, self.train)
  local rewards, eaten_l, eaten_r = f:step(headings, dt)
  if self.train then self.loss, self.entropy = self.brain:learn(rewards) end
  local mean = 0
  for i = 1, #rewards do mean = mean + rewards[i] end
  mean = mean / #rewards
  self.frame = self.frame + 1
  local c = self.current
  c.learners, c.randoms = c.learners + eaten_l, c.randoms + eaten_r
  c.reward, c.loss, c.frames = c.reward + mean, c.loss + self.loss, c.frames + 1
  if c.frames == Game.WINDOW then
    local nr = f.n - f.learners
    self.windows[#self.windows + 1] = {
      learners = c.learners / f.learners,                  -- pellets per agent per window
      randoms = nr > 0 and c.randoms / nr or 0,
      reward = c.reward / c.frames, loss = c.loss / c.frames}
    self.current = {learners = 0, randoms = 0, reward = 0, loss = 0, frames = 0}
  end
end

return Game

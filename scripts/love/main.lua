-- main.lua: a LÖVE game whose agents forage with a policy network (lucid.nn)
-- that the game trains while it runs. See field.lua for the rules, brain.lua
-- for the learning, game.lua for one frame.
--
--   love scripts/love [options]      (with lucid where require finds it; see
--                                     README "In a LÖVE game")
--   --frames N        stop after N frames (default: run until closed)
--   --seed N          the run's seed (default 1)
--   --load PATH       start from a checkpoint written by this game (or a state
--                     dict of the policy network)
--   --save PATH       where S and the end of a --frames run write the
--                     checkpoint (default: policy.safetensors in the save folder)
--   --no-train        play the policy without learning
--   --screenshot PATH after the last frame (--frames), write the screen as PNG
--   --headless        no window (also LUCID_LOVE_HEADLESS=1; read by conf.lua)
-- Keys: space pauses, T turns training on and off, S saves, L loads the saved
-- checkpoint, R starts a fresh policy, Escape quits.
--
-- A --frames run ends by printing one line,
--   lucid-love: frames=600 agents=64 randoms=16 eaten_first=... eaten_last=...
--     eaten_random=... reward_first=... reward_last=... loss_first=...
--     loss_last=... checkpoint=same
-- (eaten_*: pellets per agent per 100 frames, in the first and last hundred
-- frames, and for the random agents over the whole run; reward_*: mean reward
-- per frame of the learners in the same windows; checkpoint: whether the saved
-- and reloaded policy gives the same outputs), and exits with status 0, or 1
-- if the checkpoint did not come back the same.

-- A game shipped as a .love file (or fused) cannot load a C module from inside
-- its archive: LÖVE looks for lucid/core.so in the game folder and in the save
-- folder only. This finds it beside the .love file as well.
package.cpath = love.filesystem.getSourceBaseDirectory() .. "/?.so;" .. package.cpath

local lucid = require("lucid")
local Game = require("game")
local Brain = require("brain")

local DT = 1 / 60                        -- every frame is the same step, so runs repeat
local W, H = 800, 600

local opts = {frames = 0, seed = 1, train = true}
local game, paused, message, shot_taken, result_status

local function parse(args)
  local i = 1
  while i <= #args do
    local a, v = args[i], args[i + 1]
    if a == "--frames" or a == "--seed" then
      opts[a:sub(3)] = assert(tonumber(v), a .. " needs a number")
      i = i + 1
    elseif a == "--load" or a == "--save" or a == "--screenshot" then
      opts[a:sub(3)] = assert(v, a .. " needs a path")
      i = i + 1
    elseif a == "--no-train" then
      opts.train = false
    elseif a ~= "--headless" then
      error("unknown argument " .. a)
    end
    i = i + 1
  end
end

-- The checkpoint's path. lucid writes real files (C stdio), not through
-- love.filesystem, so the default is the save folder's real path.
local function checkpoint_path()
  if opts.save then return opts.save end
  love.filesystem.createDirectory("")      -- makes the save folder itself
  return love.filesystem.getSaveDirectory() .. "/policy.safetensors"
end

local function new_game()
  game = Game.new{seed = opts.seed, learners = 64, randoms = 16, food = 80, width = W, height = H,
                  train = opts.train}
  if opts.load then
    local frame = game.brain:load(opts.load)
    message = "loaded " .. opts.load .. (frame and (" (frame " .. frame .. ")") or "")
  end
end

function love.load(args)
  parse(args)
  new_game()
end

-- Saves the policy, reloads it into a fresh network and compares their
-- outputs on the current sensors: the checkpoint round trip, inside LÖVE.
local function save_and_check()
  local path = checkpoint_path()
  game.brain:save(path, game.frame)
  local again = Brain.new{inputs = game.brain.inputs, hidden = 32, actions = game.brain.actions, lr = 0.001}
  local frame = again:load(path)
  local f = game.field
  local a = game.brain:probe(f:sensors(), f.learners)
  local b = again:probe(f:sensors(), f.learners)
  return frame == game.frame and (a - b):abs():max():item() == 0, path
end

local function report()
  local w, first, last = game.windows, game.windows[1], game.windows[#game.windows]
  local random = 0
  for i = 1, #w do random = random + w[i].randoms end
  local same = save_and_check()
  print(string.format("lucid-love: frames=%d agents=%d randoms=%d eaten_first=%.3f eaten_last=%.3f "
    .. "eaten_random=%.3f reward_first=%.3f reward_last=%.3f loss_first=%.4f loss_last=%.4f checkpoint=%s",
    game.frame, game.field.learners, game.field.n - game.field.learners, first.learners, last.learners,
    random / #w, first.reward, last.reward, first.loss, last.loss, same and "same" or "differs"))
  io.stdout:flush()
  return same and 0 or 1
end

function love.update()
  if result_status then                       -- the screenshot is written: done
    if shot_taken or not opts.screenshot then love.event.quit(result_status) end
    return
  end
  if paused then return end
  game:step(DT)
  if opts.frames > 0 and game.frame >= opts.frames then
    if #game.windows == 0 then error("--frames needs at least " .. Game.WINDOW) end
    result_status = report()
    if opts.screenshot and love.graphics then
      -- taken when this frame is drawn, then written where asked (a real
      -- path, as --save's; LÖVE's own files would go to the save folder)
      love.graphics.captureScreenshot(function(image)
        local file = assert(io.open(opts.screenshot, "wb"))
        file:write(image:encode("png"):getString())
        file:close()
        shot_taken = true
      end)
    else
      love.event.quit(result_status)
    end
  end
end

function love.keypressed(key)
  if key == "escape" then love.event.quit(0)
  elseif key == "space" then paused = not paused
  elseif key == "t" then game.train = not game.train
  elseif key == "r" then
    opts.seed, opts.load = opts.seed + 1, nil
    new_game()
    message = "fresh policy (seed " .. opts.seed .. ")"
  elseif key == "s" then
    local path = checkpoint_path()
    game.brain:save(path, game.frame)
    message = "saved " .. path
  elseif key == "l" then
    local ok, err = pcall(game.brain.load, game.brain, checkpoint_path())
    message = ok and ("loaded " .. checkpoint_path()) or tostring(err)
  end
end

-- The score history: pellets per agent per window, learners against random agents.
local function draw_chart(x, y, w, h)
  local g = love.graphics
  g.setColor(0, 0, 0, 0.75)
  g.rectangle("fill", x, y, w, h)
  local top = 1
  for _, s in ipairs(game.windows) do top = math.max(top, s.learners, s.randoms) end
  local n = math.max(#game.windows, 2)
  for _, series in ipairs{{"learners", {1, 0.6, 0.2}}, {"randoms", {0.6, 0.6, 0.6}}} do
    local pts = {}
    for i, s in ipairs(game.windows) do
      pts[#pts + 1] = x + 6 + (i - 1) * (w - 12) / (n - 1)
      pts[#pts + 1] = y + h - 6 - s[series[1]] / top * (h - 12)
    end
    g.setColor(series[2])
    if #pts >= 4 then g.line(pts) elseif #pts == 2 then g.circle("fill", pts[1], pts[2], 2) end
  end
  g.setColor(1, 1, 1)
  g.print("pellets / agent / 100 frames", x + 6, y + 4)
  g.setColor(1, 0.6, 0.2)
  g.print("learners", x + 6, y + 20)
  g.setColor(0.6, 0.6, 0.6)
  g.print("random", x + 70, y + 20)
end

function love.draw()
  local g = love.graphics
  g.clear(0.08, 0.09, 0.12)
  g.setColor(0.35, 0.85, 0.4)
  for _, p in ipairs(game.field.food) do g.circle("fill", p.x, p.y, 3) end
  for _, a in ipairs(game.field.agents) do
    local angle = (a.heading - 1) * 2 * math.pi / game.field.directions
    if a.learner then g.setColor(1, 0.6, 0.2) else g.setColor(0.55, 0.55, 0.6) end
    g.circle("fill", a.x, a.y, 7)
    g.setColor(0.1, 0.1, 0.1)
    g.line(a.x, a.y, a.x + 7 * math.cos(angle), a.y + 7 * math.sin(angle))
  end
  local last = game.windows[#game.windows]
  g.setColor(0, 0, 0, 0.75)
  g.rectangle("fill", 8, 8, 300, 80)
  g.setColor(1, 1, 1)
  g.print(string.format("frame %d   %s%s", game.frame, game.train and "training" or "not training",
    paused and "   (paused)" or ""), 16, 14)
  g.print(string.format("pellets eaten per agent in the last 100 frames:"), 16, 32)
  g.setColor(1, 0.6, 0.2)
  g.print(string.format("learners %.2f", last and last.learners or 0), 16, 50)
  g.setColor(0.7, 0.7, 0.75)
  g.print(string.format("random %.2f", last and last.randoms or 0), 120, 50)
  g.setColor(1, 1, 1)
  g.print(string.format("loss %.4f   entropy %.3f   reward %.3f", game.loss, game.entropy,
    last and last.reward or 0), 16, 68)
  if message then g.print(message, 16, H - 24) end
  draw_chart(W - 228, H - 128, 220, 120)
  if not message then
    g.setColor(0.7, 0.7, 0.7)
    g.print("space pause  T train  S save  L load  R reset  Esc quit", 16, H - 24)
  end
  g.setColor(1, 1, 1)
  g.print(lucid and "lucid " .. _VERSION .. (jit and (" / " .. jit.version) or "") or "", W - 228, 14)
end

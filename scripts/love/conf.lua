-- conf.lua: LÖVE reads this before main.lua. Headless (LUCID_LOVE_HEADLESS=1
-- in the environment, or --headless among the game's arguments), the game
-- opens no window and loads no graphics: it runs its frames, prints a result
-- line and quits, which is how `make love-test` runs it.
local headless = os.getenv("LUCID_LOVE_HEADLESS") == "1"
for _, a in ipairs(arg or {}) do
  if a == "--headless" then headless = true end
end

function love.conf(t)
  t.identity = "lucid-love"   -- the save folder: ~/.local/share/love/lucid-love on Linux
  t.version = "11.4"
  t.console = false
  t.window.title = "lucid in LÖVE: agents learning to forage"
  t.window.width, t.window.height = 800, 600
  t.window.vsync = 1
  -- the game makes no sound and reads no joystick: fewer devices to open
  t.modules.audio, t.modules.sound = false, false
  t.modules.joystick, t.modules.physics, t.modules.video = false, false, false
  if headless then
    t.window = false
    t.modules.window, t.modules.graphics, t.modules.font, t.modules.image = false, false, false, false
    t.modules.keyboard, t.modules.mouse, t.modules.touch = false, false, false
  end
end

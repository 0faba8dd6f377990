-- example_common.lua: what the worked examples (scripts/xor.lua, sine.lua,
-- spiral.lua, charrnn.lua) share and is not about learning lucid: reading the command
-- line, when to print a progress line, and the save/reload check at the end.
--
-- An example finds it next to itself, from its own path (arg[0]), so it runs
-- from any directory:
--   package.path = ((arg and arg[0] or ""):match("^(.*)[/\\]") or ".") .. "/?.lua;" .. package.path
--   local example = require("example_common")
local lucid = require("lucid")

local M = {}

--- Options from the command line `args` (the script's `arg`): `--name value`
-- or `--name=value` for each key of `defaults` (a dash in the name stands for
-- an underscore in the key: --batch-size sets batch_size); a number where the
-- default is one. Returns a table of defaults overridden by the arguments.
-- `--help` (or -h) writes `usage` and exits 0; a bad argument writes what is
-- wrong (prefixed with `script`, e.g. "xor.lua") and `usage` to stderr and
-- exits 2.
function M.parse_args(args, defaults, usage, script)
  local opts = {}
  for k, v in pairs(defaults) do opts[k] = v end
  local i = 1
  while i <= #args do
    local a = args[i]
    if a == "-h" or a == "--help" then io.write(usage) os.exit(0) end
    local key, value = a:match("^%-%-([%w-]+)=(.*)$")
    if not key then
      key, value = a:match("^%-%-([%w-]+)$"), args[i + 1]
      i = i + 1
    end
    key = key and key:gsub("-", "_")
    if not key or defaults[key] == nil or value == nil then
      io.stderr:write(script, ": bad argument '", a, "'\n", usage)
      os.exit(2)
    end
    if type(defaults[key]) == "number" and not tonumber(value) then
      io.stderr:write(script, ": --", key:gsub("_", "-"), " needs a number, got '", value, "'\n")
      os.exit(2)
    end
    if type(defaults[key]) == "number" then value = tonumber(value) end
    opts[key] = value
    i = i + 1
  end
  return opts
end

--- Creates the directory `path` (and its parents) if it is not there.
function M.mkdir(path)
  os.execute(string.format("mkdir -p '%s'", (path:gsub("'", "'\\''"))))
end

--- lucid.load(path)'s results, or a message on stderr naming the script
-- (and `what`, e.g. "--resume: ") and exit status 2: a missing or broken
-- checkpoint is the user's input, not a failed check (status 1).
function M.load_or_exit(path, script, what)
  local r = {pcall(require("lucid").load, path)}
  if not r[1] then
    io.stderr:write(script, ": ", what or "", "cannot load ", path, ": ", tostring(r[2]), "\n")
    os.exit(2)
  end
  return r[2], r[3]
end

--- Whether step `step` of `total` gets a printed line: five times over the
-- run, the last step included.
function M.log_step(step, total)
  return step % math.max(1, math.floor(total / 5)) == 0 or step == total
end

--- v as an integer (math.tointeger on Lua 5.3+, where "400" reads as an
-- integer already; other versions have only floats, and a whole one is an
-- integer), or nil when v is not whole.
M.int = math.tointeger or function(v)
  if type(v) == "number" and v == math.floor(v) then return v end
  return nil
end

-- The outputs of `model` on each tensor of `inputs`, flattened into one list.
local function outputs(model, inputs)
  local values = {}
  for _, x in ipairs(inputs) do
    for _, v in ipairs(lucid.no_grad(model, x):reshape(-1):tolist()) do values[#values + 1] = v end
  end
  return values
end

--- The examples' last check: saves `model`'s state_dict to `path`, builds a
-- fresh model with `make_model` under seed `seed + 1` (so its initial weights
-- differ), loads the file into it, and compares both models' outputs on each
-- tensor of `inputs`, value by value (`model` already in eval mode; no graph
-- is recorded). Prints
-- "saved weights: PATH" and a "reload check: ok" (or FAILED) line that ends
-- with `what` (what was compared, e.g. "outputs on 400 inputs"). Returns true
-- when every output is identical.
function M.save_and_reload(model, make_model, path, seed, inputs, what)
  lucid.save(model:state_dict(), path)
  print("saved weights: " .. path)

  lucid.manual_seed(seed + 1)            -- different initial weights
  local fresh = make_model()
  fresh:load_state_dict(lucid.load(path))
  fresh:eval()
  local a, b = outputs(model, inputs), outputs(fresh, inputs)
  local same = #a == #b
  for i = 1, #a do
    if a[i] ~= b[i] then same = false end
  end
  print(string.format("reload check: %s (a fresh model loaded from %s gives %s %s)",
    same and "ok" or "FAILED", path, same and "identical" or "different", what))
  return same
end

return M

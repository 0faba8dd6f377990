-- lucid_nvim: lucid inside Neovim (0.7 or newer; Neovim's Lua is LuaJIT).
--
-- :LucidTrain [steps=N] [lr=X] [hidden=N] [chunk=N] [seed=N]
--     fits sin(x) on [-pi, pi] with a small MLP and writes the loss and a
--     plot of the fit into a scratch buffer. Training runs `chunk` steps at a
--     time, each chunk a callback of Neovim's event loop, so the editor keeps
--     taking keys while it trains; wiping the buffer stops it.
-- :LucidEval {expr}
--     evaluates a Lua expression (or statement) with `lucid`, `nn` and
--     `optim` in scope and echoes the result as lucid prints it. Variables
--     assigned are kept for the next :LucidEval.
--
-- Errors (lucid's, or a bad option) are shown with vim.notify at ERROR
-- level, with lucid's text; the editor carries on.
--
-- Where the library comes from: the checkout named by $LUCID_ROOT or
-- g:lucid_root, else the checkout this file sits in (scripts/nvim/lua/):
-- its lua/ for the Lua files and build/luajit/ for lucid/core.so (`make
-- LUA=luajit`). Without a checkout, `require "lucid"` finds the library as
-- Neovim finds any plugin's modules: lua/lucid/init.lua and
-- lua/lucid/core.so in a directory of 'runtimepath', or an installed copy on
-- package.path/package.cpath.
local M = {}

-- ---------------------------------------------------------------------------
-- finding and loading the library

local function readable(path)
  return vim.fn.filereadable(path) == 1
end

-- The checkout to load from, or nil.
local function checkout_root()
  local root = vim.g.lucid_root
  if root == nil or root == "" then root = os.getenv("LUCID_ROOT") end
  if root ~= nil and root ~= "" then
    return vim.fn.fnamemodify(root, ":p"):gsub("/$", "")
  end
  -- this file is <checkout>/scripts/nvim/lua/lucid_nvim.lua
  local here = debug.getinfo(1, "S").source:match("^@(.*)$")
  if here then
    local dir = vim.fn.fnamemodify(here, ":p:h")
    local up = dir:match("^(.*)/scripts/nvim/lua$")
    if up and readable(up .. "/lua/lucid/init.lua") then return up end
  end
  return nil
end

local lucid_lib, load_error

-- lucid, or nil and why it could not be loaded.
function M.lucid()
  if lucid_lib then return lucid_lib end
  local root = checkout_root()
  if root then
    local lua_dir = root .. "/lua/"
    if not package.path:find(lua_dir, 1, true) then
      package.path = lua_dir .. "?.lua;" .. lua_dir .. "?/init.lua;" .. package.path
      package.cpath = root .. "/build/luajit/?.so;" .. package.cpath
    end
  end
  local ok, lib = pcall(require, "lucid")
  if ok then
    lucid_lib = lib
    return lib
  end
  -- the first line says which module; the list of every file tried is noise
  load_error = "lucid: cannot load the library: " .. tostring(lib):match("^[^\n]*")
  if root and not readable(root .. "/build/luajit/lucid/core.so") then
    load_error = load_error .. " (build it first: make LUA=luajit, in " .. root .. ")"
  elseif not root then
    load_error = load_error .. " (set g:lucid_root or $LUCID_ROOT to a lucid checkout,"
      .. " or install the package that make nvim-pack builds)"
  end
  return nil, load_error
end

local function notify_error(msg)
  vim.notify(msg, vim.log.levels.ERROR, {title = "lucid"})
end

-- ---------------------------------------------------------------------------
-- :LucidEval

local eval_env

-- The text of what `expr` evaluates to (the values' tostring, one per line),
-- or nil and the error message.
function M.eval(expr)
  local lucid, err = M.lucid()
  if not lucid then return nil, err end
  if not eval_env then
    eval_env = setmetatable({lucid = lucid, nn = lucid.nn, optim = lucid.optim}, {__index = _G})
  end
  local chunk = loadstring("return " .. expr, "=LucidEval")
  if not chunk then
    local cerr
    chunk, cerr = loadstring(expr, "=LucidEval")
    if not chunk then return nil, cerr end
  end
  setfenv(chunk, eval_env)
  local res = {pcall(chunk)}
  if not res[1] then return nil, tostring(res[2]) end
  local parts = {}
  for i = 2, #res do parts[#parts + 1] = tostring(res[i]) end
  return table.concat(parts, "\n")
end

function M.eval_command(expr)
  local text, err = M.eval(expr)
  if not text then
    notify_error(err)
  elseif text ~= "" then
    vim.api.nvim_echo({{text}}, true, {})
  end
  return text, err
end

-- ---------------------------------------------------------------------------
-- :LucidTrain

local DEFAULTS = {steps = 500, lr = 0.01, hidden = 32, chunk = 25, seed = 0}
local WHOLE = {steps = true, hidden = true, chunk = true, seed = true}

-- "steps=300 lr=0.02" -> options table, or nil and the error.
function M.parse_options(fargs)
  local opts = {}
  for k, v in pairs(DEFAULTS) do opts[k] = v end
  for _, arg in ipairs(fargs or {}) do
    local key, value = arg:match("^([%w_]+)=(.+)$")
    if not key then return nil, "LucidTrain: expected key=value, got '" .. arg .. "'" end
    if DEFAULTS[key] == nil then
      local names = vim.tbl_keys(DEFAULTS)
      table.sort(names)
      return nil, "LucidTrain: unknown option '" .. key .. "' (options: " .. table.concat(names, ", ") .. ")"
    end
    local n = tonumber(value)
    if not n or (WHOLE[key] and (n ~= math.floor(n) or n < (key == "seed" and 0 or 1))) then
      return nil, "LucidTrain: " .. key .. " must be a " .. (WHOLE[key] and "whole number" or "number")
        .. ", got '" .. value .. "'"
    end
    opts[key] = n
  end
  return opts
end

-- A character plot of the target (.) and the model (o), `width` x `height`.
local function plot(xs, target, fitted, width, height)
  local rows = {}
  for r = 1, height do rows[r] = {} for c = 1, width do rows[r][c] = " " end end
  local function put(c, y, ch)
    local r = math.floor((1 - (y + 1.2) / 2.4) * (height - 1) + 0.5) + 1
    if r >= 1 and r <= height then rows[r][c] = ch end
  end
  local n = #xs
  for c = 1, width do
    local i = math.floor((c - 1) * (n - 1) / (width - 1) + 0.5) + 1
    put(c, target[i], ".")
    put(c, fitted[i], "o")
  end
  local lines = {}
  for r = 1, height do lines[r] = "  |" .. table.concat(rows[r]) end
  lines[#lines + 1] = "  +" .. string.rep("-", width)
  lines[#lines + 1] = string.format("   x from %.2f to %.2f   . sin(x)   o the network", xs[1], xs[n])
  return lines
end

local function scratch_buffer(name)
  local existing = vim.fn.bufnr(name)
  if existing ~= -1 then vim.api.nvim_buf_delete(existing, {force = true}) end
  vim.cmd("botright new")
  local buf = vim.api.nvim_get_current_buf()
  vim.bo[buf].buftype = "nofile"
  vim.bo[buf].bufhidden = "wipe"
  vim.bo[buf].swapfile = false
  vim.api.nvim_buf_set_name(buf, name)
  return buf
end

local function append(buf, lines)
  if not vim.api.nvim_buf_is_valid(buf) then return end
  if type(lines) == "string" then lines = {lines} end
  local last = vim.api.nvim_buf_line_count(buf)
  local first_empty = last == 1 and vim.api.nvim_buf_get_lines(buf, 0, 1, false)[1] == ""
  vim.api.nvim_buf_set_lines(buf, first_empty and 0 or last, -1, false, lines)
end

-- Starts a training job and returns it (a table the caller can watch:
-- done, error, loss_first, loss_last, chunks, max_chunk_ms, buf), or nil and
-- the error. opts.on_done(job) runs when it ends, however it ends.
function M.train(opts)
  local lucid, lerr = M.lucid()
  if not lucid then return nil, lerr end
  local nn = lucid.nn
  local job = {done = false, opts = opts, chunks = 0, max_chunk_ms = 0, step = 0}
  M.last_job = job

  -- everything lucid does at set-up may raise (a bad lr, say): one pcall
  local ok, err = pcall(function()
    lucid.manual_seed(opts.seed)
    job.x = lucid.linspace(-math.pi, math.pi, 64):reshape(64, 1)
    job.y = lucid.sin(job.x)
    job.model = nn.Sequential(nn.Linear(1, opts.hidden), nn.Tanh(), nn.Linear(opts.hidden, 1))
    job.loss_fn = nn.MSELoss()
    job.optimizer = lucid.optim.Adam(job.model:parameters(), {lr = opts.lr})
  end)
  -- lucid's message, without the position of the pcall'd function above
  if not ok then return nil, (tostring(err):gsub("^[^\n]-lucid_nvim%.lua:%d+: ", "")) end

  job.buf = scratch_buffer("lucid://train")
  append(job.buf, {
    string.format("lucid: fitting sin(x) on [-pi, pi], 64 points: %s",
      (tostring(job.model):gsub("%s*\n%s*", " "))),
    string.format("Adam lr=%g, %d steps, %d per event-loop callback (:bwipe stops it)",
      opts.lr, opts.steps, opts.chunk),
    ""})

  local function finish(e)
    job.done = true
    job.error = e
    if e then
      append(job.buf, "error: " .. e)
      notify_error(e)
    end
    if opts.on_done then opts.on_done(job) end
  end

  local function report()
    local fitted = lucid.no_grad(job.model, job.x):reshape(-1):tolist()
    local xs, target = job.x:reshape(-1):tolist(), job.y:reshape(-1):tolist()
    local lines = {"", string.format(
      "done: %d steps, loss %.6f -> %.6f (a constant 0 scores 0.5, the mean of sin(x)^2);"
      .. " %d callbacks, the longest %.1f ms", job.step, job.loss_first, job.loss_last,
      job.chunks, job.max_chunk_ms), ""}
    for _, l in ipairs(plot(xs, target, fitted, 64, 13)) do lines[#lines + 1] = l end
    append(job.buf, lines)
  end

  local function chunk()
    if not vim.api.nvim_buf_is_valid(job.buf) then return finish(nil) end  -- the user wiped it
    local t0 = vim.loop.hrtime()
    local cok, cerr = pcall(function()
      local last = math.min(job.step + opts.chunk, opts.steps)
      local loss
      while job.step < last do
        job.optimizer:zero_grad()
        loss = job.loss_fn(job.model(job.x), job.y)
        loss:backward()
        job.optimizer:step()
        job.step = job.step + 1
        if job.step == 1 then job.loss_first = loss:item() end
      end
      job.loss_last = loss:item()
    end)
    local ms = (vim.loop.hrtime() - t0) / 1e6
    job.chunks = job.chunks + 1
    if ms > job.max_chunk_ms then job.max_chunk_ms = ms end
    if not cok then return finish(tostring(cerr)) end
    append(job.buf, string.format("step %5d  loss %.6f", job.step, job.loss_last))
    if job.step < opts.steps then
      vim.defer_fn(chunk, 0)   -- back to the event loop between chunks
      return
    end
    cok, cerr = pcall(report)
    finish(not cok and tostring(cerr) or nil)
  end
  vim.defer_fn(chunk, 0)
  return job
end

function M.train_command(fargs, on_done)
  local opts, err = M.parse_options(fargs)
  local job
  if opts then
    opts.on_done = on_done
    job, err = M.train(opts)
  end
  if not job then notify_error(err) end
  return job, err
end

return M

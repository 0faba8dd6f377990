--- lucid.progress(iterable [, opts]): a progress bar around a loop (tqdm, the Lua way).
--
--   for i in lucid.progress(100) do ... end                -- 1..100
--   for x in lucid.progress({"a", "b", "c"}) do ... end    -- an array's values
--   for line in lucid.progress(io.lines(path), {total = n}) do ... end
--
--   local bar <close> = lucid.progress(loader, {desc = "epoch 1"})
--   for xb, yb in bar do
--     local loss = step(xb, yb)
--     bar:set_postfix{loss = loss:item()}                  -- shown on the bar
--   end
--
-- lucid.progress returns a bar object that the generic `for` calls (its
-- __call yields the wrapped iterable's values, all of them: a DataLoader's
-- xb, yb pass through). The loop body reaches the bar through the local it
-- was stored in; that is what set_postfix, set_description, write and update
-- are for. The bar is one pass: once its iterable ends it is finished.
--
-- It returns the bar four times over as (bar, nil, nil, bar): written
-- directly in a `for`, the fourth value is the loop's to-be-closed value, so
-- even a `break` or an error ends the line properly. A bar kept in a local is
-- closed by `local bar <close> = ...` or bar:close() (or by the loop reaching
-- the end).
--
-- Iterables: a number n (1..n), an array table (its values, total #t), an
-- object with an iter() method (a DataLoader: iter() gives one epoch; total
-- #obj), a callable object (called as a generic-for iterator), any other
-- table with a length (obj[1..#obj]), or an iterator function (total only if
-- opts.total says).
--
-- Options:
--   total     number of items (default: from the iterable, else unknown)
--   desc      text before the bar
--   file      where to write (default io.stderr); any object with :write();
--             false = silent (counts, prints nothing)
--   tty       true: redraw one line with "\r"; false: plain lines. Default:
--             whether `file` is a terminal (see below)
--   every     output every that many items (default: by time instead)
--   interval  seconds between outputs (default 0.1 on a terminal, 10 otherwise)
--   ncols     line width on a terminal (default $COLUMNS, else 80)
--   ascii     bar made of '#' instead of Unicode blocks (default: unless the
--             locale ($LC_ALL, $LC_CTYPE, $LANG) says UTF-8)
--   unit      "it" by default (shown as it/s)
--   leave     keep the finished bar on screen (default true; false erases it)
--   clock     a function returning seconds (default: a monotonic wall clock
--             from lua-system when installed, else os.time)
--
-- Terminal line (tty):
--   epoch 1:  45%|███████████▎             | 45/100 [00:03<00:04, 12.34it/s, loss=0.123]
-- Plain lines (not a tty: a log file, a pipe, a captured object), one per
-- interval and one at the end:
--   epoch 1:  45% 45/100 [00:03<00:04, 12.34it/s, loss=0.123]
-- Without a known total: "epoch 1: 45it [00:03, 12.34it/s]".
--
-- Terminal detection: plain Lua has no isatty. A file that is not a real
-- Lua file handle (a capturing object) is not a terminal; TERM=dumb is not
-- one either. Otherwise lua-term's isatty answers when that module is
-- installed (busted depends on it); failing that, io.stderr and io.stdout
-- are tested once with `test -t 2` / `test -t 1` through os.execute (the
-- shell inherits the process's descriptors, so this is the real isatty of
-- those streams), and any other file is taken as not a terminal. TERM alone
-- would be wrong exactly when it matters: it stays set when stderr is
-- redirected to a log. Write errors (a closed file, a broken pipe) are
-- ignored: a progress bar never stops the loop it decorates.
local args = require("lucid._args")
local raise = args.raise
local lucid_core = require("lucid.core")
local iter = require("lucid._iter")  -- shared with lucid.data

local Bar = {__name = "lucid.progress"}
Bar.__index = Bar

-- tqdm's names; the first ones also positionally, in tqdm's order
local function file_check(v, name)
  if v == false then return nil end
  local ok, w = pcall(function() return v.write end)
  if not ok or type(w) ~= "function" then
    return name .. " must be a file or an object with a write method, or false"
  end
end
local function clock_check(v, name)
  if type(v) ~= "function" then return name .. " must be a function" end
end
local SCHEMA = args.schema("lucid.progress", {
  {"iterable", nil, nil, table_arg = true},
  {"desc", nil, nil},
  {"total", nil, "size"},
  {"leave", nil, nil},
  {"file", nil, file_check},
  {"ncols", nil, "number"},
  {"ascii", nil, nil, keyword = true},
  {"unit", nil, nil, keyword = true},
  {"every", nil, "posint", keyword = true},
  {"interval", nil, "number", keyword = true},
  {"tty", nil, nil, keyword = true},
  {"clock", nil, clock_check, keyword = true},
  unsupported = {"mininterval", "maxinterval", "miniters", "disable", "dynamic_ncols", "smoothing",
    "bar_format", "initial", "position", "postfix", "unit_scale", "unit_divisor", "colour", "delay"},
})

local is_integer, length_of, find_method = iter.is_integer, iter.length_of, iter.find_method
local compat = require("lucid._compat")
local idiv, math_type = compat.idiv, compat.math_type

-- ---------------------------------------------------------------------------
-- environment (a host may leave io or os out of its Lua state)

local function getenv(name)
  return type(os) == "table" and os.getenv and os.getenv(name) or nil
end

local default_clock
local function get_clock()
  if default_clock == nil then
    local ok, system = pcall(require, "system")
    if ok and type(system) == "table" and type(system.monotime) == "function" then
      default_clock = system.monotime
    else
      default_clock = type(os) == "table" and os.time or function() return 0 end
    end
  end
  return default_clock
end

local tty_cache = setmetatable({}, {__mode = "k"})
local function is_terminal(file)
  if type(io) ~= "table" or io.type(file) ~= "file" then return false end
  if tty_cache[file] ~= nil then return tty_cache[file] end
  local answer = false
  if getenv("TERM") ~= "dumb" then
    local ok, term = pcall(require, "term")
    if ok and type(term) == "table" and type(term.isatty) == "function" then
      local ok2, r = pcall(term.isatty, file)
      answer = ok2 and r and true or false
    else
      local fd = file == io.stderr and 2 or file == io.stdout and 1 or nil
      if fd and type(os) == "table" and os.execute then
        local r = os.execute("test -t " .. fd)
        answer = r == true or r == 0  -- 5.1 and LuaJIT without 5.2 mode return the status
      end
    end
  end
  tty_cache[file] = answer
  return answer
end

local function utf8_locale()
  local loc = getenv("LC_ALL")
  if loc == nil or loc == "" then loc = getenv("LC_CTYPE") end
  if loc == nil or loc == "" then loc = getenv("LANG") end
  return loc ~= nil and loc:upper():gsub("-", ""):find("UTF8") ~= nil
end

-- ---------------------------------------------------------------------------
-- formatting

local function fmt_time(s)
  s = math.floor(s)
  local h, m, sec = idiv(s, 3600), idiv(s, 60) % 60, s % 60
  if h > 0 then return string.format("%d:%02d:%02d", h, m, sec) end
  return string.format("%02d:%02d", m, sec)
end

local function fmt_value(v)
  if lucid_core.is_tensor(v) and v:numel() == 1 then v = v:item() end
  if math_type(v) == "integer" then return string.format("%d", v) end
  if math_type(v) == "float" then
    if v == math.floor(v) and math.abs(v) < 1e15 then return string.format("%.1f", v) end
    return string.format("%.4g", v)
  end
  return tostring(v)
end

local EIGHTHS = {"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"}

local function draw_bar(frac, width, ascii)
  if frac < 0 then frac = 0 elseif frac > 1 then frac = 1 end
  if ascii then
    local full = math.floor(frac * width)
    return string.rep("#", full) .. string.rep(" ", width - full)
  end
  local eighths = math.floor(frac * width * 8)
  local full, part = idiv(eighths, 8), eighths % 8
  local s = string.rep("█", full)
  if full < width then s = s .. EIGHTHS[part + 1] .. string.rep(" ", width - full - (part > 0 and 1 or 0)) end
  return s
end

local function ulen(s)
  return compat.utf8_len(s) or #s
end

-- Cuts s to at most n characters.
local function cut(s, n)
  if ulen(s) <= n then return s end
  local stop = compat.utf8_offset(s, n + 1)
  return stop and s:sub(1, stop - 1) or s:sub(1, n)
end

--- The status line (without bar when `with_bar` is false).
function Bar:format(with_bar)
  local elapsed = math.max(0, self._clock() - self._start)
  local n, total = self.n, self.total
  local rate = elapsed > 0 and n / elapsed or nil
  local rate_s
  if not rate or n == 0 then rate_s = "?" .. self.unit .. "/s"
  elseif rate >= 1 then rate_s = string.format("%.2f%s/s", rate, self.unit)
  else rate_s = string.format("%.2fs/%s", 1 / rate, self.unit) end
  local post = self._postfix ~= "" and ", " .. self._postfix or ""
  local prefix = self.desc and self.desc ~= "" and self.desc .. ": " or ""
  if not total then
    return string.format("%s%d%s [%s, %s%s]", prefix, n, self.unit, fmt_time(elapsed), rate_s, post)
  end
  local frac = total > 0 and n / total or 1
  local remaining = (rate and rate > 0) and fmt_time(math.max(0, total - n) / rate) or "?"
  local pct = string.format("%3d%%", math.floor(math.min(frac, 1) * 100))
  local right = string.format("%d/%d [%s<%s, %s%s]", n, total, fmt_time(elapsed), remaining, rate_s, post)
  if not with_bar then return prefix .. pct .. " " .. right end
  local width = self.ncols - 1 - ulen(prefix) - ulen(pct) - 3 - ulen(right)
  if width < 1 then return prefix .. pct .. " " .. right end
  return prefix .. pct .. "|" .. draw_bar(frac, width, self.ascii) .. "| " .. right
end

-- ---------------------------------------------------------------------------
-- output

function Bar:_write(s)
  local f = self.file
  if not f then return end
  pcall(function()
    f:write(s)
    if f.flush then f:flush() end
  end)
end

function Bar:_draw()
  if not self.file then return end
  self._drawn = true
  self._last_n, self._last_t = self.n, self._clock()
  if self.tty then
    local line = cut(self:format(true), self.ncols - 1)
    if line == self._line then return end  -- nothing new to show
    self._line = line
    local len = ulen(line)
    self:_write("\r" .. line .. string.rep(" ", math.max(0, self._line_len - len)))
    self._line_len = len
  else
    self:_write(self:format(false) .. "\n")
  end
end

-- The first output (on a terminal, the empty bar). `restart`: the clock
-- starts now (a loop begins) rather than when the bar was made.
function Bar:_start_pass(restart)
  self._started = true
  if restart and self.n == 0 then
    self._start = self._clock()
    self._last_t = self._start
  end
  if self.tty then self:_draw() end
end

--- bar:update([k]): counts k more items (default 1) and redraws when due.
function Bar:update(k)
  k = k or 1
  if not self._started then self:_start_pass() end
  self.n = self.n + k
  if self._closed then return end
  if self.every then
    if self.n - self._last_n >= self.every then self:_draw() end
  elseif self._clock() - self._last_t >= self.interval then
    self:_draw()
  end
end

--- bar:set_postfix(tbl or string): shown after the rate, e.g. {loss = 0.123}
-- as "loss=0.123" (keys sorted; numbers with 4 significant digits; a
-- one-element tensor shows its value). Drawn with the next update.
function Bar:set_postfix(p)
  if type(p) == "table" then
    local keys = {}
    for k in pairs(p) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    local parts = {}
    for _, k in ipairs(keys) do parts[#parts + 1] = tostring(k) .. "=" .. fmt_value(p[k]) end
    self._postfix = table.concat(parts, ", ")
  elseif p == nil then
    self._postfix = ""
  else
    self._postfix = tostring(p)
  end
end

function Bar:set_description(desc)
  self.desc = desc ~= nil and tostring(desc) or nil
end

--- bar:write(msg): prints msg on its own line without breaking the bar.
function Bar:write(msg)
  if not self.file then return end
  if self.tty and self._line_len > 0 and not self._closed then
    self:_write("\r" .. string.rep(" ", self._line_len) .. "\r" .. tostring(msg) .. "\n")
    self._line_len, self._line = 0, nil
    self:_draw()
  else
    self:_write(tostring(msg) .. "\n")
  end
end

--- bar:close(): draws the final state and ends the line (idempotent).
function Bar:close()
  if self._closed then return end
  if not self._started then self:_start_pass() end
  self._pending = false  -- after a break: that item did not finish
  self._closed = true
  if not self.file then return end
  if self.tty then
    if self.leave then
      self:_draw()
      self:_write("\n")
    else
      self:_write("\r" .. string.rep(" ", self._line_len) .. "\r")
    end
  elseif not (self._drawn and self.n == self._last_n) then  -- no repeat of the last line
    self:_draw()
  end
end
Bar.__close = Bar.close

--- The generic for's iterator: counts the previous item as done, then
-- yields the next values of the wrapped iterable.
function Bar:__call()
  if self._closed then return nil end
  if not self._started then self:_start_pass(true) end
  if self._pending then
    self._pending = false
    self:update(1)
  end
  local res = compat.pack(self._f(self._s, self._c))
  if res[1] == nil then
    self:close()
    return nil
  end
  self._c = res[1]
  self._pending = true
  return compat.unpack(res, 1, res.n)
end

function Bar:__tostring()
  return self:format(false)
end

-- ---------------------------------------------------------------------------
-- construction

-- (f, s, c, total) for the iterable.
local function source(it)
  local t = type(it)
  if t == "number" then
    if not is_integer(it) or it < 0 then
      raise("lucid.progress: a count must be a non-negative integer, got " .. tostring(it))
    end
    local n = compat.tointeger(it)
    return function(_, i) i = i + 1 if i <= n then return i end end, nil, 0, n
  elseif t == "function" then
    return it, nil, nil, nil
  elseif t == "table" or t == "userdata" then
    if find_method(it, "iter") then
      return it:iter(), nil, nil, length_of(it)
    end
    local mt = getmetatable(it)
    if type(mt) == "table" and mt.__call then return it, nil, nil, length_of(it) end
    local n = length_of(it)
    if n then  -- an array, or anything with a length and items: the values
      local i = 0
      return function()
        i = i + 1
        if i <= n then return it[i] end
      end, nil, nil, n
    end
  end
  raise("lucid.progress: cannot iterate over a " .. t .. " (expected a number, an array, a DataLoader, "
    .. "a callable or an iterator function)")
end

return function(...)
  local opts = SCHEMA:table(...)
  local f, s, c, total = source(opts.iterable)
  if opts.total ~= nil then total = opts.total end
  local file = opts.file
  if file == nil then file = type(io) == "table" and io.stderr or false end
  if file == false then file = nil end
  local tty = opts.tty
  if tty == nil then tty = file ~= nil and is_terminal(file) end
  local ncols = opts.ncols or tonumber(getenv("COLUMNS") or "") or 80
  local ascii = opts.ascii
  if ascii == nil then ascii = not utf8_locale() end
  local clock = opts.clock or get_clock()

  local bar = setmetatable({
    n = 0, total = total,
    desc = opts.desc ~= nil and tostring(opts.desc) or nil,
    file = file, tty = tty and true or false,
    every = opts.every and compat.tointeger(opts.every),
    interval = opts.interval or (tty and 0.1 or 10),
    ncols = math.max(20, compat.tointeger(ncols) or 80),
    ascii = ascii and true or false,
    unit = opts.unit or "it",
    leave = opts.leave ~= false,
    _clock = clock, _f = f, _s = s, _c = c, _start = clock(),
    _postfix = "", _line_len = 0, _last_n = 0,
    _started = false, _closed = false, _pending = false,
  }, Bar)
  bar._last_t = bar._start
  return bar, nil, nil, bar
end

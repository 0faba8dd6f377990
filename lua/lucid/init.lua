--- The package: tensors with reverse-mode autograd on a C core, and nn modules.
-- PyTorch's API the Lua way: dims and indices are 1-based (negative count from the
-- end), methods use `:`, optional arguments go positionally or in a trailing table
-- with PyTorch's names (x:sum(2, true) is x:sum{dim = 2, keepdim = true}), and
-- every tensor method is also a function of the package (lucid.tanh(t) is
-- t:tanh()). Nothing is global; in this program the globals lucid, nn and optim
-- are set for you.
-- @module lucid
-- @usage lucid = require("lucid")

-- lucid: tensors with autograd for Lua 5.1-5.4 and LuaJIT.
-- The C module lucid.core does the work; this file gathers it into the
-- package table, adds what is easier said in Lua (no_grad, printing) and
-- links the submodules. Nothing here is global: every lua_State that
-- requires lucid gets its own context (random generator, default dtype,
-- grad mode) inside lucid.core.
local raise = require("lucid._args").raise
local compat = require("lucid._compat")
local C = require("lucid.core")
-- Errors point past this folder's files, at the user's line (lt_error).
C._set_library_source(debug.getinfo(1, "S").source)

local lucid = {}

-- the body under load_guarded: a failure part way leaves nothing half-loaded
local load_guarded = require("lucid._load")

-- package.loaded["lucid"] is set first: submodules below require "lucid" back
return load_guarded("lucid", lucid, function()
  for name, fn in pairs(C) do
    if name:sub(1, 1) ~= "_" then lucid[name] = fn end  -- "_" marks the binding's internals
  end

  -- lucid.Tensor(data [, opts]) and lucid.tensor(data [, opts]): a tensor from a
  -- number, a nested table or another tensor (copied). opts: dtype, requires_grad.
  lucid.Tensor = C.tensor

  local methods, meta = C._methods, C._meta

  -- Runs fn(...) with gradient recording off and returns its results; or, with
  -- no function, turns recording off until the returned guard is closed:
  --   local g <close> = lucid.no_grad()      -- Lua 5.4
  --   local g = lucid.no_grad() ... g:close() -- every version
  -- Closing twice restores once (so g:close() inside a <close> scope is fine).
  -- Nothing here may allocate: __close runs while an error (out of memory
  -- included) unwinds, and a failure in it would leave the mode unrestored.
  -- So the mode comes back first, and `closed` is a field the guard was made
  -- with (assigning it reuses its slot).
  local function close_guard(g)
    if not g.closed then
      C.set_grad_enabled(g.previous)
      g.closed = true
    end
  end
  local guard_meta = {
    __close = close_guard,
    __index = {close = close_guard},
    __name = "lucid.no_grad",
  }
  local function callable(f)
    if type(f) == "function" then return true end
    local mt = getmetatable(f)
    return type(mt) == "table" and rawget(mt, "__call") ~= nil
  end

  -- Everything that can fail to allocate (the guard, the closure, the results'
  -- table) is made before the mode changes or inside the pcall, so that an
  -- error anywhere (an allocation refused included) leaves the mode as it was.
  local function scoped(fname, enabled, fn, ...)
    if fn == nil then
      local g = setmetatable({previous = true, closed = false}, guard_meta)
      g.previous = C.set_grad_enabled(enabled)
      return g
    end
    if not callable(fn) then
      raise(fname .. ": expected a function (or nothing, for a guard), got " .. type(fn))
    end
    local previous
    local function run(...)
      previous = C.set_grad_enabled(enabled)
      return compat.pack(fn(...))
    end
    local ok, res = pcall(run, ...)
    if previous ~= nil then C.set_grad_enabled(previous) end
    if not ok then error(res, 0) end
    return compat.unpack(res, 1, res.n)
  end

  --- Runs fn(...) with gradient recording off and returns its results (recording
  -- comes back even if fn raises); with no function, turns recording off until
  -- the returned guard is closed: by g:close() on every Lua, or by a `<close>`
  -- variable's scope ending on Lua 5.4. Closing twice restores once. For
  -- evaluation and weight updates, as torch.no_grad.
  -- @function no_grad
  -- @usage lucid.no_grad(fn, ...)  or  local g = lucid.no_grad() ... g:close()  or  local g <close> = lucid.no_grad()
  -- @within Autograd
  function lucid.no_grad(fn, ...) return scoped("lucid.no_grad", false, fn, ...) end
  --- The opposite of no_grad: runs fn with recording on.
  -- @function enable_grad
  -- @usage lucid.enable_grad(fn, ...)  or  local g = lucid.enable_grad() ... g:close()
  -- @within Autograd
  function lucid.enable_grad(fn, ...) return scoped("lucid.enable_grad", true, fn, ...) end

  --- lucid.tensor on nested tables; or, with a shape table, reads a flat Lua array
  -- in row-major order: lucid.from_table({1, 2, 3, 4, 5, 6}, {2, 3}).
  -- @function from_table
  -- @usage lucid.from_table(nested [, opts])  or  lucid.from_table(flat, shape [, opts])
  -- @within Creating tensors

  -- lucid.from_table(t [, opts]) is lucid.tensor on nested tables;
  -- lucid.from_table(flat, shape [, opts]) reads a flat array in row-major order.
  function lucid.from_table(t, shape, opts)
    if type(t) ~= "table" then
      raise("lucid.from_table: expected a table, got " .. type(t))
    end
    local is_shape = type(shape) == "table" and shape[1] ~= nil
    if not is_shape then return C.tensor(t, shape) end  -- shape is really opts (or nil)
    local sizes = {}  -- every size checked first: the messages below show them
    for i, d in ipairs(shape) do
      if compat.math_type(d) ~= "integer" or d < 0 then
        raise(string.format("lucid.from_table: shape[%d] must be a non-negative integer, got %s",
          i, tostring(d)))
      end
      sizes[i] = d
    end
    if #sizes ~= #shape then
      raise(string.format("lucid.from_table: shape must be a list of sizes (1..%d), but its length is %s",
        #sizes, tostring(#shape)))
    end
    local n = 1
    for _, d in ipairs(shape) do
      if d > 0 and n > compat.idiv(#t, d) then  -- more than the table holds (and no overflow)
        raise(string.format("lucid.from_table: shape {%s} needs more values than the table's %d",
          table.concat(shape, ", "), #t))
      end
      n = n * d
    end
    if #t ~= n then
      raise(string.format("lucid.from_table: shape {%s} needs %d values, the table has %d",
        table.concat(shape, ", "), n, #t))
    end
    return C.tensor(t, opts):reshape(shape)
  end

  -- The *_like functions: t's shape, and t's dtype unless dtype is given.
  local args = require("lucid._args")
  local function input_check(v)
    if not C.is_tensor(v) then return "expected a tensor, got " .. type(v) end
  end
  local function like_schema(fname, value)
    local e = {{"input", args.REQUIRED, input_check}}
    if value then e[2] = {"fill_value", args.REQUIRED, "number"} end
    e[#e + 1] = {"dtype", nil, "string", keyword = true}
    e[#e + 1] = {"requires_grad", nil, "boolean", keyword = true}
    e.unsupported = {"layout", "device", "memory_format", "pin_memory"}
    return args.schema(fname, e)
  end
  local function like_opts(o)
    return {dtype = o.dtype or o.input.dtype, requires_grad = o.requires_grad}
  end

  --- A new tensor of t's shape and dtype (unless opts says otherwise), filled like
  -- lucid.zeros, ones, rand, randn or empty. It does not require grad unless opts
  -- asks.
  -- @function zeros_like
  -- @usage lucid.zeros_like(input [, {dtype =, requires_grad =}])  (also ones_like, rand_like, randn_like, empty_like)
  -- @within Creating tensors
  -- @also lucid.ones_like lucid.rand_like lucid.randn_like lucid.empty_like
  for _, name in ipairs({"zeros", "ones", "rand", "randn", "empty"}) do
    local make, S = C[name], like_schema("lucid." .. name .. "_like")
    lucid[name .. "_like"] = function(...)
      local o = S:table(...)
      return make(o.input.shape, like_opts(o))
    end
  end
  local FULL_LIKE = like_schema("lucid.full_like", true)
  --- A tensor of t's shape and dtype filled with value.
  -- @function full_like
  -- @usage lucid.full_like(input, fill_value [, {dtype =, requires_grad =}])
  -- @within Creating tensors
  function lucid.full_like(...)
    local o = FULL_LIKE:table(...)
    return C.full(o.input.shape, o.fill_value, like_opts(o))
  end

  local NORMAL = args.schema("lucid.normal", {
    {"mean", 0, function(v)
      if type(v) ~= "number" and not C.is_tensor(v) then return "expected a number or a tensor" end
    end},
    {"std", 1, function(v)
      if type(v) ~= "number" and not C.is_tensor(v) then return "expected a number or a tensor" end
    end},
    {"size", nil, "table"},
    {"dtype", nil, "string", keyword = true},
    {"requires_grad", nil, "boolean", keyword = true},
    unsupported = {"generator", "out", "layout", "device", "pin_memory"},
  })
  --- Normal draws: lucid.normal(mean, std, size) with numbers fills a new tensor
  -- of that shape; with a tensor mean or std (or both, broadcasting), one draw per
  -- element, mean + std * N(0, 1), which carries gradients to mean and std, as
  -- torch.normal.
  -- @function normal
  -- @usage lucid.normal(mean, std [, size [, {dtype =, requires_grad =}]])
  -- @within Creating tensors
  function lucid.normal(...)
    local o = NORMAL:table(...)
    local tm, ts = C.is_tensor(o.mean), C.is_tensor(o.std)
    if not tm and not ts then
      if not o.size then raise("lucid.normal: size is required when mean and std are numbers") end
      if o.std < 0 then raise("lucid.normal: std must be non-negative, got " .. tostring(o.std)) end
      local t = C.empty(o.size, {dtype = o.dtype}):normal_(o.mean, o.std)
      if o.requires_grad then t.requires_grad = true end
      return t
    end
    if o.size then raise("lucid.normal: size is only taken when mean and std are numbers") end
    if o.requires_grad ~= nil then raise("lucid.normal: requires_grad is only taken with numbers") end
    local like = tm and o.mean or o.std
    local shape = (tm and ts) and (o.mean + o.std).shape or like.shape
    local dtype = o.dtype or like.dtype  -- an integer mean draws in the default float dtype
    if dtype ~= "float32" and dtype ~= "float64" then dtype = C.get_default_dtype() end
    local eps = lucid.no_grad(function() return C.empty(shape, {dtype = dtype}):normal_() end)
    return eps * o.std + o.mean
  end

  for name, fn in pairs(require("lucid.indexing")) do
    lucid[name], methods[name] = fn, fn
  end
  for name, fn in pairs(require("lucid.linalg")) do
    lucid[name], methods[name] = fn, fn
  end
  local compose = require("lucid.compose")  -- functions of a list or an equation are no methods (as cat)
  for name, fn in pairs(compose.methods) do lucid[name], methods[name] = fn, fn end
  for name, fn in pairs(compose.functions) do lucid[name] = fn end
  for name, fn in pairs(require("lucid.inplace")(methods)) do methods[name] = fn end
  -- lucid.linalg (torch.linalg): the C functions, and the norms written in Lua
  for name, fn in pairs(require("lucid.norms")) do C.linalg[name] = fn end
  local linalg_fns = require("lucid.linalg_fns")
  for name, fn in pairs(linalg_fns.linalg) do C.linalg[name] = fn end
  --- P, L and U with A = P L U from lucid.linalg.lu_factor's LU (LU_data)
  -- and pivots (LU_pivots), as torch.lu_unpack: with unpack_data = false L
  -- and U are empty tensors, with unpack_pivots = false P is. L and U carry
  -- LU's gradient. A function, not a method, as in PyTorch.
  -- @function lu_unpack
  -- @usage local P, L, U = lucid.lu_unpack(LU_data, LU_pivots [, unpack_data = true [, unpack_pivots = true]])
  -- @within Linear algebra
  lucid.lu_unpack = linalg_fns.lu_unpack

  local format = require("lucid.format")
  --- How tensors print, as PyTorch: decimals (4), the element count past which
  -- output is summarised with ... (1000), the items kept at each edge then (3), the
  -- line width (80), and sci_mode true/false to force or forbid scientific
  -- notation (nil: automatic).
  -- @function set_printoptions
  -- @usage lucid.set_printoptions{precision =, threshold =, edgeitems =, linewidth =, sci_mode =}
  -- @within Settings, files and memory
  lucid.set_printoptions = format.set_printoptions
  meta.__tostring = format.tensor_tostring

  -- The line t:info() prints.
  local function info_line(t)
    local s = string.format("Tensor shape={%s} dtype=%s", table.concat(t.shape, ", "), t.dtype)
    if t:numel() > 0 then
      local flat = lucid.no_grad(function() return t:reshape(-1):tolist() end)
      local lo, hi, sum = math.huge, -math.huge, 0
      for _, v in ipairs(flat) do
        if type(v) == "boolean" then v = v and 1 or 0 end  -- bool: the share that is true
        if v < lo then lo = v end
        if v > hi then hi = v end
        sum = sum + v
      end
      s = s .. string.format(" min=%.4g mean=%.4g max=%.4g", lo, sum / #flat, hi)
    end
    return s
  end

  --- Prints one line about t: shape, dtype, min, mean and max, without the values.
  -- A quick look at a big tensor.
  -- @function info
  -- @usage t:info()  or  lucid.info(t)
  -- @within Reading values

  -- t:info(): prints shape, dtype, min, mean and max on one line (to io.output()),
  -- for a quick look at a tensor without its values.
  function methods.info(t)
    if not C.is_tensor(t) then raise("lucid.info: expected a tensor, got " .. type(t)) end
    io.write(info_line(t), "\n")
  end
  lucid.info = methods.info

  lucid.autograd = require("lucid.autograd")
  lucid.nn = require("lucid.nn")

  -- Parts loaded on first use, so that `require "lucid"` stays quick.
  local lazy = {optim = "lucid.optim", data = "lucid.data"}
  setmetatable(lucid, {__index = function(t, k)
    local name = lazy[k]
    if not name then return nil end
    local m = require(name)
    rawset(t, k, m)
    return m
  end})

  --- Writes a table name -> tensor (model:state_dict(), say) to a file in the
  -- safetensors format.
  -- @function save
  -- @usage lucid.save(tbl, path)
  -- @within Settings, files and memory

  -- lucid.save(tbl, path) and lucid.load(path): tensors on disk in the
  -- safetensors format (lucid/serialize.lua).
  function lucid.save(...) return require("lucid.serialize").save(...) end
  --- Reads a safetensors file back as a table name -> tensor, for
  -- model:load_state_dict().
  -- @function load
  -- @usage lucid.load(path)
  -- @within Settings, files and memory
  function lucid.load(...) return require("lucid.serialize").load(...) end

  --- Iterates like the iterable (a number n for 1..n, an array's values, an
  -- iterator with opts.total) while drawing a progress bar, as tqdm;
  -- bar:set_postfix{loss = ...} adds values to it.
  -- @function progress
  -- @usage for item in lucid.progress(iterable [, opts]) do ... end
  -- @within Settings, files and memory

  -- for item in lucid.progress(iterable [, opts]) do ... end (lucid/progress.lua)
  function lucid.progress(...) return require("lucid.progress")(...) end

  -- lucid.ctc_loss (torch.ctc_loss): nn.functional.ctc_loss, documented
  -- with nn.CTCLoss (lucid/nn/losses.lua; the kernel is core/loss.c's).
  function lucid.ctc_loss(...) return require("lucid.nn.losses").ctc_loss(...) end
end)

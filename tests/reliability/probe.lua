-- probe.lua: every public function and method of the library called with
-- hostile arguments, at random, many times (`make probe`, and under
-- AddressSanitizer/UBSan in `make sanitize`).
--
--   lua5.4 tests/reliability/probe.lua [--seed N] [--calls N] [--trace] [--only NAME] [--all]
-- (--trace prints every call before making it, to find the one that crashes;
-- --only NAME calls only the functions whose name contains NAME; --all
-- prints every problem as it happens, not just the first of each kind)
--
-- What is called: every function of the `lucid` table, of lucid.nn (the
-- classes, nn.functional, nn.utils, nn.init), lucid.optim (the optimizers
-- and lr_scheduler), lucid.autograd and lucid.data; every tensor method of
-- require("lucid.core")._methods and the tensor metamethods (operators,
-- indexing, tostring, #, __close); every method of a module, optimizer,
-- scheduler, dataset and loader instance (walking the class chain).
-- What with: nil, booleans, integers small and huge (2^31, 2^62,
-- math.maxinteger, math.mininteger, negatives), NaN, +-inf, -0.0, huge and
-- tiny floats, strings (dtype names, option words, junk), tables (shapes
-- with overflowing sizes, option tables, lists of tensors, ragged, cyclic
-- and deep nested tables, tables whose metamethods raise), functions (that
-- return nothing, raise, yield, collect garbage, return junk), coroutines,
-- a file handle, and tensors: 0-d, empty, 1-d to 4-d, float64, requiring
-- grad, results with a graph behind them, views (transposed, expanded,
-- narrowed, stepped), closed tensors, parameters, NaN and inf values, plus
-- the results of earlier calls.
--
-- What must hold:
--   * a call returns, or raises a readable Lua error: a string, at most 500
--     characters, that (after any "file:line: " position) starts with the
--     name of a library function or class ("lucid.zeros: ...",
--     "nn.Linear: ...", "SGD: ...", "Tensor..."), or is a "bad argument"
--     error from the function itself, or carries the message of a callback
--     the probe passed in. An error from inside the library ("attempt to
--     index a nil value", "bad argument #2 to 'format'") is a failure;
--   * grad mode and the default dtype are what they were (but for the calls
--     whose job is to change them);
--   * no crash (the process ends with the summary), and no sanitizer
--     report (under make sanitize);
--   * after every 1,000 calls a small computation (a backward, a Linear, a
--     print) still gives the right numbers;
--   * at the end, with the pools dropped and garbage collected, tensor
--     memory (lucid.memory_allocated) is back where it started.
--
-- Not called (they legitimately print, block or touch the process):
-- lucid.progress (draws a progress bar on stderr), lucid.set_num_threads
-- (process-wide OpenBLAS setting; a huge count starts that many threads per
-- large kernel). io.output() is pointed at a temporary file, so t:info()
-- and lucid.info write there. Run from a scratch directory: lucid.save
-- with a hostile path creates files named like the pool's strings.
--
-- Sizes. Hostile sizes are mostly small; the huge ones (2^31 and up) must
-- be refused before any allocation (overflow) or fail to allocate. What
-- stops a legitimate huge allocation from eating the machine is outside the
-- probe: `make probe` runs it under `ulimit -v` (1 GB of address space), and
-- `make sanitize` under ASAN_OPTIONS=max_allocation_size_mb=256 with
-- allocator_may_return_null=1 (ASan needs terabytes of address space, so
-- ulimit -v cannot be used there); either way such a call ends in a
-- "not enough memory" error, which is readable. Results kept for later
-- calls are capped at 4096 elements, so no call works on a giant view.
local lucid = require("lucid")
local C = require("lucid.core")
local nn = require("lucid.nn")
local optim = require("lucid.optim")
local data = require("lucid.data")

local SEED, CALLS, TRACE, ONLY, ALL = 1, 100000, false, nil, false
do
  local i = 1
  while arg and arg[i] do
    local a = arg[i]
    if a == "--seed" then SEED = assert(math.tointeger(tonumber(arg[i + 1])), "--seed N"); i = i + 1
    elseif a == "--calls" then CALLS = assert(math.tointeger(tonumber(arg[i + 1])), "--calls N"); i = i + 1
    elseif a == "--trace" then TRACE = true
    elseif a == "--all" then ALL = true
    elseif a == "--only" then ONLY = arg[i + 1]; i = i + 1
    else error("probe.lua: unknown argument " .. a) end
    i = i + 1
  end
end

local BATCH = tonumber(os.getenv("PROBE_BATCH")) or 1000          -- calls between two sanity checks
local MAX_KEEP = 4096       -- elements of a result kept for later calls
local SLOW = 60             -- seconds: a call still running then is reported
local MAX_MESSAGE = 500

math.randomseed(SEED)
lucid.manual_seed(SEED)
local R = math.random
local function pick(list) return list[R(#list)] end

local sink = io.tmpfile()
io.output(sink)             -- t:info() writes here

-- ---------------------------------------------------------------------------
-- the targets

local targets = {}          -- {name =, short =, fn =, recv = "tensor" | "instance:<kind>" | nil}
local SKIP = {["lucid.progress"] = true, ["lucid.set_num_threads"] = true}
local GRAD_CHANGERS = {["lucid.set_grad_enabled"] = true, ["lucid.no_grad"] = true,
  ["lucid.enable_grad"] = true}
local DTYPE_CHANGERS = {["lucid.set_default_dtype"] = true}

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do if type(k) == "string" then keys[#keys + 1] = k end end
  table.sort(keys)
  return keys
end

local function add(name, fn, recv, ctor)
  if SKIP[name] or (ONLY and not name:find(ONLY, 1, true)) then return end
  targets[#targets + 1] = {name = name, short = name:match("[^.:]+$"), fn = fn, recv = recv,
    ctor = ctor}
end

local classes = {}          -- {name =, cls =, kind = "module" | "optim" | "sched" | "function"}
local class_names = {}      -- every class name, for the readable-message check

local function is_class(v)
  return type(v) == "table" and getmetatable(v) ~= nil and getmetatable(v).__call ~= nil
end

local function add_table(prefix, t, kind)
  for _, k in ipairs(sorted_keys(t)) do
    if k:sub(1, 1) ~= "_" then
      local v = t[k]
      local name = prefix .. "." .. k
      if type(v) == "function" then
        add(name, v)
      elseif is_class(v) then
        classes[#classes + 1] = {name = name, cls = v, kind = kind}
        class_names[k] = true
        if type(rawget(v, "__name")) == "string" then class_names[rawget(v, "__name")] = true end
        add(name, function(...) return v(...) end, nil, name)
      end
    end
  end
end

add_table("lucid", lucid, "other")
for _, k in ipairs(sorted_keys(lucid.nn)) do local _ = lucid.nn[k] end   -- lazy layers
add_table("nn", nn, "module")
add_table("nn.functional", nn.functional, "other")
if type(nn.utils) == "table" then add_table("nn.utils", nn.utils, "other") end
if type(nn.init) == "table" then add_table("nn.init", nn.init, "other") end
add_table("optim", optim, "optim")
if type(optim.lr_scheduler) == "table" then add_table("optim.lr_scheduler", optim.lr_scheduler, "sched") end
add_table("lucid.autograd", lucid.autograd, "function")
add_table("lucid.linalg", lucid.linalg, "other")
add_table("lucid.data", data, "data")
for _, k in ipairs(sorted_keys(C._methods)) do
  add("Tensor:" .. k, C._methods[k], "tensor")
end
local meta = C._meta
for _, k in ipairs({"__add", "__sub", "__mul", "__div", "__pow", "__unm", "__len", "__index",
                    "__newindex", "__tostring", "__close", "__eq", "__lt", "__le", "__concat", "__call"}) do
  if meta[k] then add("Tensor." .. k, meta[k], "tensor") end
end
-- the operators themselves, as Lua evaluates them, with a tensor on the
-- left ("tensor" receivers) or on the right
for _, op in ipairs({
  {"+", function(a, b) return a + b end}, {"-", function(a, b) return a - b end},
  {"*", function(a, b) return a * b end}, {"/", function(a, b) return a / b end},
  {"^", function(a, b) return a ^ b end}, {"==", function(a, b) return a == b end},
  {"<", function(a, b) return a < b end}, {"..", function(a, b) return a .. b end},
}) do
  local f = op[2]
  add("operator " .. op[1], f, "tensor")
  add("operator " .. op[1] .. " (tensor on the right)", function(t, x) return f(x, t) end, "tensor")
end
add("operator unary -", function(a) return -a end, "tensor")
add("operator #", function(a) return #a end, "tensor")
add("operator []", function(a, k) return a[k] end, "tensor")
-- (only into a tensor: storing into a Lua table the probe passed, a class
-- of the library among them, would keep the value alive to the end and
-- change the class, which is the probe's doing, not the library's)
add("operator []=", function(a, k, v) if lucid.is_tensor(a) then a[k] = v end end, "tensor")
add("operator ()", function(a, ...) return a(...) end, "tensor")
add("tostring", function(a) return tostring(a) end, "tensor")

-- Methods that are hooks for subclass authors or class-level helpers, not
-- calls a user makes on an instance: Module:__init (the constructor's
-- hook), extend (makes a class), is_module (a predicate on the class); the
-- optimizers' update/check_group/init_state/decay (what a subclass fills
-- in; step calls them); a scheduler's
-- closed_form. Names starting with "_" are internals.
local HOOKS = {__init = true, extend = true, is_module = true, update = true,
  check_group = true, init_state = true, decay = true,
  closed_form = true}

-- methods of instances: every function on the class chain, called on an
-- instance of that class (obj:method(...) always passes the object; what is
-- hostile is everything after it)
local function class_methods(cls)
  local seen, out = {}, {}
  local c, depth = cls, 0
  while type(c) == "table" and depth < 10 do
    for _, k in ipairs(sorted_keys(c)) do
      -- "_x" names are internals
      local internal = (k:match("^_[^_]") ~= nil) or HOOKS[k]
      local f = rawget(c, k)
      if type(f) == "function" and not seen[k] and not internal then
        seen[k] = true
        out[#out + 1] = {k, f}
      end
    end
    c = rawget(c, "super") or (getmetatable(c) and getmetatable(c).__index)
    if type(c) ~= "table" then break end
    depth = depth + 1
  end
  return out
end

local by_class = {}         -- class label -> list of instances
local function add_instance_methods(label, cls)
  if by_class[label] then return end
  by_class[label] = {}
  for _, e in ipairs(class_methods(cls)) do
    add(label .. ":" .. e[1], e[2], "instance:" .. label)
  end
end

-- ---------------------------------------------------------------------------
-- the hostile values

local M, m = math.maxinteger, math.mininteger
local small_ints = {0, 1, 2, 3, -1, 1, 2, 1, 3, 4}
local huge_ints = {-2, 5, 7, 1000, 2 ^ 31 - 1, 1 << 31, 1 << 32, 1 << 40, 1 << 53, 1 << 62,
  (1 << 62) + 1, M, m, -(1 << 31), -(1 << 62), M - 1}
local floats = {0.5, -0.0, 0 / 0, -(0 / 0), math.huge, -math.huge, 1e308, -1e308, 1e-320, 2.0,
  1.5, -2.5, 2 ^ 40, 2 ^ 63, 2 ^ 64, 1e19, -1e19, 3.0, 0.1}
local strings = {"", "float64", "float32", "double", "float", "int64", "int32", "uint8", "bool",
  "long", "none", "tanh", "sum",
  "mean", "fro", "x", "1", "2", "-1", "nan", "reflect", "weight", "bias", "lr", "probe_file.bin",
  "nonexistent_dir/file", string.rep("z", 300), "\0\255\1", "inf", "1e400"}

local cyclic = {}
cyclic[1] = cyclic
local function deep(n) local t = {1} for _ = 1, n do t = {t} end return t end
local raising = setmetatable({}, {__index = function() error("probe: __index raised") end,
  __len = function() error("probe: __len raised") end,
  __pairs = function() error("probe: __pairs raised") end})
local huge_len = setmetatable({}, {__len = function() return M end})

local function cb_error() error("probe: callback error") end
local function cb_yield() coroutine.yield(1) return 1 end
local function cb_gc(...) collectgarbage() return ... end
local callbacks = {
  function() end, cb_error, cb_yield, cb_gc, function(...) return ... end,
  function() return {} end, function() return "junk" end, function() return 0 / 0 end,
  function(x) return x end, function(x) if lucid.is_tensor(x) then return x * 2 end return x end,
  function() return lucid.zeros(2, 2) end, function() return 1.0 end,
}
local a_thread = coroutine.create(function() end)
local a_file = io.tmpfile()

local tensors = {}           -- the tensor pool, rebuilt every batch
local instances = {}         -- kind -> list of instances

local function fresh_tensors()
  tensors = {}
  local function put(t) tensors[#tensors + 1] = t end
  local ok, err = pcall(function()
    put(lucid.tensor(2.5))
    put(lucid.zeros(0))
    put(lucid.zeros(2, 0))
    put(lucid.zeros(0, 3, {dtype = "float64"}))
    put(lucid.tensor({1, 2, 3}))
    put(lucid.tensor({{1, 2, 3}, {4, 5, 6}}))
    put(lucid.randn(2, 3, {requires_grad = true}))
    put(lucid.randn(3, 2, {dtype = "float64", requires_grad = true}))
    put(lucid.randn(2, 3, 4))
    put(lucid.rand(1, 2, 1, 3, {dtype = "float64"}))
    put(lucid.tensor({1, 2}))           -- index-like
    put(lucid.tensor({{1}, {2}}))
    put(lucid.tensor({1, 0, 1}))        -- mask-like
    put(lucid.tensor({0 / 0, math.huge, -math.huge, -0.0}))
    put(lucid.tensor({1e30, -1e30, 1e-40}, {dtype = "float64"}))
    local g = lucid.randn(2, 3, {requires_grad = true})
    put((g * 2):tanh())                 -- a result with a graph
    put(g:sum())
    put(lucid.randn(3, 4):t())          -- views
    put(lucid.randn(1, 3):expand(4, 3))
    put(lucid.randn(5, 4):narrow(1, 2, 3))
    put(lucid.arange(10):slice(1, 1, -1, 3))
    put(lucid.randn(2, 3, 4):permute(3, 1, 2))
    put(lucid.randn(3, 3)[2])
    put(nn.Parameter(lucid.randn(3, 2)))
    local closed = lucid.zeros(2)
    C._meta.__close(closed)
    put(closed)
    put(lucid.randn(2, 3, {dtype = "float64"}))
    put(lucid.ones(4))
    put(lucid.tensor(0))
    put(lucid.tensor(1, {dtype = "float64"}))
    -- integer and bool dtypes: ids, masks, limits
    put(lucid.tensor({3, 1, 2}, {dtype = "int64"}))
    put(lucid.tensor({{1, -1}, {2, 0}}, {dtype = "int64"}))
    put(lucid.tensor({M, m, 0}, {dtype = "int64"}))
    put(lucid.tensor({7, -8}, {dtype = "int32"}))
    put(lucid.tensor({0, 255, 1}, {dtype = "uint8"}))
    put(lucid.tensor({true, false, true}))
    put(lucid.tensor({{true, false, true}, {false, false, true}}))
    put(lucid.tensor(true))
    put(lucid.zeros(0, {dtype = "bool"}))
  end)
  assert(ok, "probe: the tensor pool cannot be built: " .. tostring(err))
end

local function try_make(cls, argsets)
  for _, args in ipairs(argsets) do
    local ok, obj = pcall(cls, table.unpack(args, 1, args.n or #args))
    if ok and type(obj) == "table" then return obj end
  end
end

local function fresh_instances()
  instances = {module = {}, optim = {}, sched = {}, data = {}, loader = {}, ["function"] = {}}
  local x = function() return lucid.randn(2, 3) end
  local argsets = {{}, {3}, {3, 2}, {3, 3, 2}, {{3}}, {2, 3}, {3, {2}}, {nn.Linear(3, 2)},
    {nn.Linear(3, 2), nn.Tanh()}, {{nn.Linear(3, 2)}}, {{a = nn.Linear(3, 2)}}, {10, 3}, {0.5}}
  for _, c in ipairs(classes) do
    if c.kind == "module" then
      local obj = try_make(c.cls, argsets)
      if obj then
        local list = instances.module
        list[#list + 1] = obj
        add_instance_methods(c.name, getmetatable(obj) or c.cls)
        by_class[c.name] = {obj}
      end
    end
  end
  local model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
  instances.module[#instances.module + 1] = model
  if by_class["nn.Sequential"] then table.insert(by_class["nn.Sequential"], model) end
  pcall(function() model(x()):sum():backward() end)
  for _, c in ipairs(classes) do
    if c.kind == "optim" then
      local obj = try_make(c.cls, {{model:parameters(), {lr = 0.01}}, {model:parameters(), 0.01}})
      if obj then
        instances.optim[#instances.optim + 1] = obj
        add_instance_methods(c.name, getmetatable(obj) or c.cls)
        by_class[c.name] = {obj}
      end
    end
  end
  local opt = instances.optim[1] or optim.SGD(model:parameters(), {lr = 0.1})
  for _, c in ipairs(classes) do
    if c.kind == "sched" then
      local obj = try_make(c.cls, {{opt, {step_size = 2}}, {opt, {T_max = 5}}, {opt, {gamma = 0.5}},
        {opt, {lr_lambda = function(e) return 1 / (e + 1) end}}, {opt, 2}, {opt, 0.5},
        {opt, function(e) return 1 / (e + 1) end}, {opt}})
      if obj then
        instances.sched[#instances.sched + 1] = obj
        add_instance_methods(c.name, getmetatable(obj) or c.cls)
        by_class[c.name] = {obj}
      end
    end
  end
  pcall(function()
    local ds = data.TensorDataset(lucid.randn(6, 2), lucid.arange(6))
    instances.data[1] = ds
    add_instance_methods("TensorDataset", getmetatable(ds))
    by_class.TensorDataset = {ds}
    local loader = data.DataLoader(ds, {batch_size = 4, shuffle = true})
    instances.loader[1] = loader
    add_instance_methods("DataLoader", getmetatable(loader))
    by_class.DataLoader = {loader}
  end)
  pcall(function()
    local Sq = lucid.autograd.Function:extend("ProbeSquare")
    function Sq.forward(ctx, t) ctx:save_for_backward(t) return t * t end
    function Sq.backward(ctx, g) return g * 2 * ctx.saved_tensors[1] end
    local Bad = lucid.autograd.Function:extend("ProbeBad")
    function Bad.forward(_, t) return t * 1 end
    function Bad.backward() return lucid.zeros(7, 7) end   -- the wrong shape
    local Junk = lucid.autograd.Function:extend("ProbeJunk")
    function Junk.forward(_, t) return t + 1 end
    function Junk.backward() return "junk" end
    instances["function"] = {Sq, Bad, Junk}
    class_names.ProbeSquare, class_names.ProbeBad, class_names.ProbeJunk = true, true, true
    add_instance_methods("autograd.Function", Sq)
    by_class["autograd.Function"] = {Sq, Bad, Junk}
  end)
end

local function any_instance()
  local kinds = {"module", "module", "module", "optim", "sched", "data", "loader", "function"}
  local list = instances[pick(kinds)]
  if list and #list > 0 then return pick(list) end
  return instances.module[1]
end

local function instance_of(label)
  local list = by_class[label]
  if list and #list > 0 then return pick(list) end
end

local function a_tensor() return tensors[R(#tensors)] end

-- Plausible arguments: half of the calls get these, so that calls also get
-- past the argument checks into the work (views of views, graphs, ...).
local family = {}          -- tensors that fit together: {2, 3} and friends
local function fresh_family()
  family = {
    lucid.randn(2, 3), lucid.randn(2, 3, {requires_grad = true}), lucid.rand(2, 3),
    lucid.randn(3), lucid.randn(2, 1), lucid.randn(3, 2), lucid.randn(2, 3, {dtype = "float64"}),
    lucid.tensor({1, 2}), lucid.tensor({{1, 0, 1}, {0, 1, 1}}), lucid.randn(1, 3):expand(2, 3),
    lucid.randn(3, 2):t(), lucid.tensor({{1, 2, 1}, {2, 1, 2}}),
  }
end
local function plausible()
  local r = R(100)
  if r <= 45 then return family[R(#family)] end
  if r <= 75 then return pick({1, 2, -1, 1, 2, 3, 0}) end
  if r <= 83 then return pick({0.5, 2.0, 0.1, 1e-3}) end
  if r <= 88 then return pick({"float64", "mean", "sum", "none", "tanh", "float32", "int64", "bool"}) end
  if r <= 98 then
    return pick({{2, 3}, {3, 2}, {-1}, {1, 2}, {dim = 1}, {dim = -1, keepdim = true},
      {family[1], family[3]}, {family[1], family[2], family[3]}, {lr = 0.1},
      {dtype = "float64"}, {requires_grad = true}})
  end
  return pick({callbacks[5], callbacks[10]})
end

local value          -- forward declaration: tables hold values
local function a_table(depth)
  local r = R(16)
  if r == 1 then return {} end
  if r == 2 then return {pick(small_ints), pick(small_ints)} end
  if r == 3 then return {pick(huge_ints), pick(huge_ints)} end
  if r == 4 then return {1 << 62, 1 << 62} end
  if r == 5 then return {M, M, M} end
  if r == 6 then return {dtype = pick(strings), requires_grad = R(2) == 1} end
  if r == 7 then return {dim = pick(small_ints), keepdim = R(2) == 1} end
  if r == 8 then return {a_tensor(), a_tensor()} end
  if r == 9 then return {{1, 2}, {3}} end                    -- ragged
  if r == 10 then return pick({cyclic, deep(12), raising, huge_len}) end
  if r == 11 then return {lr = value(depth + 1), momentum = value(depth + 1)} end
  if r == 12 then return {pick(floats), pick(floats)} end
  if r == 13 then return {1, "x", a_tensor()} end
  if r == 14 then return {{{1, 2}, {3, 4}}, {{5, 6}, {7, 8}}} end
  if r == 15 then return {retain_graph = true, allow_unused = R(2) == 1} end
  local t = {}
  for i = 1, R(4) do t[i] = value(depth + 1) end
  return t
end

function value(depth)
  depth = depth or 0
  local r = R(100)
  if r <= 34 then return a_tensor() end
  if r <= 52 then return pick(small_ints) end
  if r <= 60 then return pick(huge_ints) end
  if r <= 68 then return pick(floats) end
  if r <= 74 then return pick(strings) end
  if r <= 86 and depth < 2 then return a_table(depth) end
  if r <= 89 then return pick(callbacks) end
  if r <= 91 then return any_instance() end
  if r <= 95 then return nil end
  if r <= 97 then return R(2) == 1 end
  if r == 98 then return a_thread end
  if r == 99 then return a_file end
  return pick(classes) and pick(classes).cls
end

-- ---------------------------------------------------------------------------
-- describing calls, judging errors

local function describe(v, depth)
  depth = depth or 0
  local ty = type(v)
  if ty == "number" then
    if math.type(v) == "integer" then return tostring(v) end
    return string.format("%.17g", v)
  elseif ty == "string" then
    return string.format("%q", #v > 20 and v:sub(1, 20) .. "..." or v)
  elseif C.is_tensor(v) then
    local ok, s = pcall(function()
      return string.format("tensor{%s}%s%s%s", table.concat(v.shape, ","),
        v.dtype == "float64" and " f64" or "", v.requires_grad and " rg" or "",
        v:is_contiguous() and "" or " view")
    end)
    return ok and s or "tensor(closed)"
  elseif ty == "table" then
    if v == cyclic then return "<cyclic table>" end
    if v == raising then return "<raising table>" end
    if v == huge_len then return "<table with # = maxinteger>" end
    if depth > 1 then return "{...}" end
    local parts, n = {}, 0
    local ok = pcall(function()
      for k, x in next, v do
        n = n + 1
        if n > 4 then parts[#parts + 1] = "..." break end
        local key = math.type(k) == "integer" and "" or (type(k) == "string" and k or "[" .. describe(k, 2) .. "]") .. "="
        parts[#parts + 1] = key .. describe(x, depth + 1)
      end
    end)
    local mt = getmetatable(v)
    local name = mt and rawget(mt, "__name")
    return (type(name) == "string" and name or "") .. "{" .. table.concat(parts, ", ") .. (ok and "" or "?") .. "}"
  end
  return ty
end

local function describe_call(t, args, n)
  local parts = {}
  for i = 1, n do parts[i] = describe(args[i]) end
  return t.name .. "(" .. table.concat(parts, ", ") .. ")"
end

-- Names a Lua standard library function could go by in "bad argument ... to 'x'".
local stdlib = {}
for _, lib in ipairs({_G, string, table, math, io, os, coroutine, utf8, debug}) do
  for k, v in pairs(lib) do
    if type(v) == "function" then stdlib[k] = true end
  end
end
for _, k in ipairs({"for iterator", "?"}) do stdlib[k] = nil end

local PASSTHROUGH = {"probe: callback error", "probe: __index raised", "probe: __len raised",
  "probe: __pairs raised", "attempt to yield across a C-call boundary",
  "attempt to yield from outside a coroutine", "not enough memory"}

local API_PREFIX = {lucid = true, nn = true, optim = true, autograd = true, data = true, lr_scheduler = true,
  Tensor = true, Module = true, Optimizer = true, LRScheduler = true, ["lucid.Tensor"] = true}

-- nil when msg is readable for a call of target t, else why not.
local function unreadable(t, msg)
  if type(msg) ~= "string" then return "the error is a " .. type(msg) .. ", not a string" end
  if #msg > MAX_MESSAGE then return "the message has " .. #msg .. " characters" end
  for _, p in ipairs(PASSTHROUGH) do
    if msg:find(p, 1, true) then return nil end
  end
  -- raised by the probe's own code (a callback, a Function's forward): the
  -- library passed it on, as it should
  if msg:match("^[^\n]*probe%.lua:%d+: ") then return nil end
  -- what a plain table says to t[nil] = v: the same for a module
  if t.short == "__newindex" and (msg:find("index is nil", 1, true) or msg:find("index is NaN", 1, true)) then
    return nil
  end
  local body = msg
  for _ = 1, 3 do   -- "file:line: " positions, as error(msg, level) adds
    local rest = body:match("^[^\n:]+:%d+: (.*)$")
    if not rest then break end
    body = rest
  end
  local fn = body:match("^bad argument #%d+ to '([^']+)'")
  if fn then
    local last = fn:match("[^.:]+$") or fn
    if stdlib[last] and last ~= t.short and not C[last] then
      return "a Lua library function's error leaks out of the library"
    end
    return nil
  end
  local head = body:match("^([%w_.:]+)")
  if head then
    local first = head:match("^[%w_]+")
    if API_PREFIX[first] or class_names[first] then return nil end
    if head:match("^[%w_]+:[%w_]+$") and class_names[head:match("^[%w_]+")] then return nil end
  end
  return "not a library error (it should start with the function's name)"
end

-- ---------------------------------------------------------------------------
-- the sanity check and the run

local problems, problem_count, examples, seen_target = {}, 0, {}, {}
-- Keeps the first example of each kind for each function, up to 40 a kind.
local function problem(kind, text, target)
  problem_count = problem_count + 1
  problems[kind] = (problems[kind] or 0) + 1
  local list = examples[kind]
  if not list then list = {}; examples[kind] = list end
  local key = kind .. "\0" .. (target or "")
  if #list < 40 and not seen_target[key] then
    seen_target[key] = true
    list[#list + 1] = text
  end
  if ALL then io.stderr:write("probe: ", kind, ": ", (text:gsub("\n", " "):gsub("%c", "?")), "\n") end
end

local function sanity(where)
  lucid.set_grad_enabled(true)
  lucid.set_default_dtype("float32")
  lucid.set_printoptions({precision = 4, threshold = 1000, edgeitems = 3, linewidth = 80})
  local ok, err = pcall(function()
    local x = lucid.tensor({{1, 2}, {3, 4}}, {requires_grad = true})
    local y = (x * x):sum()
    y:backward()
    local g = x.grad:tolist()
    assert(y:item() == 30 and g[1][1] == 2 and g[2][2] == 8, "wrong gradient")
    local lin = nn.Linear(2, 3)
    local out = lin(x)
    assert(out.shape[1] == 2 and out.shape[2] == 3, "wrong Linear output")
    out:sum():backward()
    assert(lin.weight.grad ~= nil, "no weight gradient")
    assert(tostring(lucid.tensor({1, 2})) == "Tensor([1., 2.])", "wrong print: " .. tostring(lucid.tensor({1, 2})))
    local z = lucid.no_grad(function() return lin(x) end)
    assert(not z.requires_grad, "no_grad does not work")
  end)
  if not ok then problem("the state is broken", where .. ": " .. tostring(err)) end
  return ok
end

local function keep(v)
  if C.is_tensor(v) then
    local ok, n = pcall(function() return v:numel() end)
    if ok and n <= MAX_KEEP then tensors[R(#tensors)] = v end
  elseif type(v) == "table" and getmetatable(v) and R(4) == 1 then
    local mt = getmetatable(v)
    if rawget(v, "_modules") then
      instances.module[R(#instances.module)] = v
    elseif rawget(v, "param_groups") then
      instances.optim[#instances.optim > 0 and R(#instances.optim) or 1] = v
    end
    local _ = mt
  end
end

local start_clock = os.clock()
local call_start = 0
local function slow_hook()
  if os.clock() - call_start > SLOW then error("probe: call took too long", 2) end
end

collectgarbage("collect")
collectgarbage("collect")
local baseline = lucid.memory_allocated()
local counts = {ok = 0, err = 0}
local per_target = {}

fresh_tensors()
fresh_family()
fresh_instances()
sanity("at the start")
print(string.format("probe: seed %d, %d calls over %d functions and methods", SEED, CALLS, #targets))

local args = {}
-- The calls run in a function of their own: when it returns, its registers
-- (the last call's result among them) are gone, so the collection at the end
-- sees only what the library itself still holds.
local function run_calls()
for call = 1, CALLS do
  if call % BATCH == 1 and call > 1 then
    -- a call may have made a legitimately big tensor that is garbage now;
    -- tensor allocations do not collect garbage when they fail (see the
    -- report), so collect before building the pools again
    collectgarbage("collect")
    sanity(string.format("after %d calls", call - 1))
    fresh_tensors()
    fresh_family()
    fresh_instances()
    if call % (10 * BATCH) == 1 then
      collectgarbage("collect")
      print(string.format("probe: %d calls, %d raised, %d problems, %.0f s; tensor memory %.1f MB, "
        .. "Lua heap %.1f MB", call - 1, counts.err, problem_count, os.clock() - start_clock,
        lucid.memory_allocated() / 2 ^ 20, collectgarbage("count") / 1024))
      io.stdout:flush()
    end
  end
  local t = targets[R(#targets)]
  local n = ({0, 1, 1, 2, 2, 2, 3, 3, 4, 5})[R(10)]
  local first = 1
  if t.recv == "tensor" then
    args[1] = R(100) <= 85 and a_tensor() or value()
    first = 2
  elseif t.recv then
    args[1] = instance_of(t.recv:sub(10))
    first = 2
  end
  local total = math.max(n + first - 1, first - 1)
  local gen = R(2) == 1 and plausible or value
  for i = first, total do args[i] = gen() end
  if gen == plausible then
    if t.recv == "tensor" or (t.name == "lucid." .. t.short and C._methods[t.short]) then
      args[1] = family[R(#family)]   -- lucid.f(t, ...) is t:f(...)
      total = math.max(total, 1)
    elseif t.short == "cat" or t.short == "stack" then
      local f = family[R(#family)]
      args[1] = {f, f, R(2) == 1 and f or nil}
      total = math.max(total, 1)
    end
  end
  for i = total + 1, #args do args[i] = nil end
  local desc
  if TRACE then
    desc = describe_call(t, args, total)
    io.stderr:write(string.format("probe %d: %s\n", call, desc))
  end
  local grad_before, dtype_before = lucid.is_grad_enabled(), lucid.get_default_dtype()
  call_start = os.clock()
  debug.sethook(slow_hook, "", 100000)
  local co = coroutine.create(t.fn)   -- so a callback may yield without ending the probe
  local res = table.pack(coroutine.resume(co, table.unpack(args, 1, total)))
  debug.sethook()
  local ok, result = res[1], res[2]
  -- A coroutine that raised or yielded keeps its to-be-closed variables
  -- (e.g. a no_grad guard) open until it is closed: close it, as a host
  -- that runs scripts in coroutines would.
  if coroutine.status(co) ~= "dead" or not ok then coroutine.close(co) end
  per_target[t.name] = per_target[t.name] or {0, 0}
  if ok then
    counts.ok = counts.ok + 1
    per_target[t.name][1] = per_target[t.name][1] + 1
    for i = 2, res.n do keep(res[i]) end
    local list = t.ctor and by_class[t.ctor]
    if list and type(res[2]) == "table" then   -- a hostile-made instance, for its methods
      if #list < 4 then list[#list + 1] = res[2] else list[R(4)] = res[2] end
    end
  else
    counts.err = counts.err + 1
    per_target[t.name][2] = per_target[t.name][2] + 1
    if type(result) == "string" and result:find("probe: call took too long", 1, true) then
      problem("a call ran for over " .. SLOW .. " s", describe_call(t, args, total), t.name)
    else
      local why = unreadable(t, result)
      if why then
        problem("unreadable error: " .. why, describe_call(t, args, total) .. "\n      -> " ..
          (type(result) == "string" and result:sub(1, 300) or tostring(result)), t.name)
      end
    end
  end
  if not GRAD_CHANGERS[t.name] and lucid.is_grad_enabled() ~= grad_before then
    problem("grad mode changed", describe_call(t, args, total) .. " -> grad mode " ..
      tostring(lucid.is_grad_enabled()) .. (ok and " (the call succeeded)" or
        " (the call raised: " .. tostring(result):sub(1, 200) .. ")"), t.name)
  end
  if not DTYPE_CHANGERS[t.name] and lucid.get_default_dtype() ~= dtype_before then
    problem("default dtype changed", describe_call(t, args, total), t.name)
  end
  lucid.set_grad_enabled(grad_before)
  lucid.set_default_dtype(dtype_before)
end
end
run_calls()

sanity("at the end")
tensors, instances, args, by_class, family = {}, {}, {}, {}, {}
fresh_tensors = nil
collectgarbage("collect")
collectgarbage("collect")
local leaked = lucid.memory_allocated() - baseline
if leaked ~= 0 then
  problem("tensor memory not returned", string.format("%d bytes of tensor memory still allocated "
    .. "after dropping everything and collecting (%d at the start)", leaked, baseline))
end

local secs = os.clock() - start_clock
local kinds = {}
for k in pairs(problems) do kinds[#kinds + 1] = k end
table.sort(kinds)
for _, k in ipairs(kinds) do
  print(string.format("probe: PROBLEM (%d times): %s", problems[k], k))
  for _, e in ipairs(examples[k]) do print("    " .. e) end
end
local never_ok = {}
for _, t in ipairs(targets) do
  local c = per_target[t.name]
  if c and c[1] == 0 and c[2] > 20 then never_ok[#never_ok + 1] = t.name end
end
print(string.format("probe: seed %d: %d calls of %d functions and methods in %.1f s: %d returned, "
  .. "%d raised a readable error; %d problems", SEED, CALLS, #targets, secs, counts.ok,
  counts.err - (problems["a call ran for over " .. SLOW .. " s"] or 0), problem_count))
if #never_ok > 0 then
  print("probe: (never succeeded, so only their argument checks were probed: "
    .. table.concat(never_ok, ", ") .. ")")
end
sink:close()
a_file:close()
os.exit(problem_count == 0 and 0 or 1, true)

--- Part of lucid.data; help() and `make doc` read these comments.
-- @module lucid.data

-- lucid.data: datasets and mini-batches (torch.utils.data, the Lua way).
--
--   local data = lucid.data
--   local ds = data.TensorDataset(X, Y)          -- X {100, 3}, Y {100}
--   local x5, y5 = ds:get(5)                     -- the 5th row of each
--   local loader = data.DataLoader(ds, {batch_size = 16, shuffle = true})
--   for epoch = 1, 10 do
--     for xb, yb in loader do ... end            -- xb {16, 3}, yb {16}; last batch {4, 3}
--   end
--
-- THE DATASET PROTOCOL. A dataset is any value with a length and items:
--   * `#ds` is the number of items (a plain array table, or __len);
--   * item i (1 <= i <= #ds) is `ds:get(i)` when ds has a `get` method, which
--     may return several values (a sample and its label), else `ds[i]` (one
--     value: Lua's indexing never yields more). `get` is looked up in ds and
--     its __index tables only: an __index function is only ever asked for
--     item numbers.
-- A plain array of samples is a dataset, and so is a tensor (its rows).
-- TensorDataset has both: ds:get(i) returns the i-th slices as multiple
-- results; ds[i] returns them as an array {x_i, y_i} (a Lua index yields one
-- value); #ds is the shared size of the first dimension.
--
-- BATCHES. A DataLoader gathers batch_size items and collates them position
-- by position, each position becoming one result of the loop:
--   tensors of one shape -> stacked along a new first dim ({B, ...});
--   numbers              -> a 1-D tensor of B values (default dtype);
--   plain tables         -> a table of the same keys, each collated;
--   anything else        -> the array of the B values.
-- opts.collate_fn(samples) replaces this: samples[j] is the array of what
-- the dataset returned for the j-th index ({x, y, n = 2}); what collate_fn
-- returns is what the loop receives.
-- For a TensorDataset each batch is one lucid.index_select per tensor;
-- other datasets' tensors go through lucid.stack. (Without those functions,
-- items are copied into place one by one: same result, slower.) Batches are
-- new tensors (they do not share storage with the dataset) and do not
-- require grad.
--
-- ITERATION. `for xb, yb in loader do ... end` starts a new epoch every time
-- it runs (a break just abandons that epoch), and loops over one loader can
-- nest. Each epoch with shuffle = true draws a fresh permutation from
-- lucid's generator, so lucid.manual_seed(n) makes the epochs repeatable.
-- loader:iter() returns a plain iterator function over one epoch, for manual
-- stepping: `local next_batch = loader:iter(); local xb, yb = next_batch()`.
-- #loader is the number of batches per epoch.
--
-- Lua 5.1 and LuaJIT: `#` on a table ignores __len there, so `#loader` and
-- `#ds` of a TensorDataset give 0; loader:len() and ds:len() work on every
-- version. A dataset's own __len is still honoured (the loader calls it).
local args = require("lucid._args")
local raise = args.raise
local lucid = require("lucid")
local C = require("lucid.core")
local iter = require("lucid._iter")  -- shared with lucid.progress
local compat = require("lucid._compat")
local pack, unpack = compat.pack, compat.unpack

local data = {}

local is_integer, find_method = iter.is_integer, iter.find_method

local shape_str = args.shape_str

-- ---------------------------------------------------------------------------
-- TensorDataset

local TensorDataset = {__name = "TensorDataset"}
--- The class (metatable) of the datasets lucid.data.TensorDataset makes, to
-- tell them apart: getmetatable(ds) == lucid.data.TensorDataset_class.
-- @function TensorDataset_class
-- @usage getmetatable(ds) == lucid.data.TensorDataset_class
-- @within Data
data.TensorDataset_class = TensorDataset

function TensorDataset.__index(ds, k)
  if type(k) == "number" then return {ds:get(k)} end
  return TensorDataset[k]
end

function TensorDataset.len(ds)
  return rawget(ds, "size")
end
TensorDataset.__len = TensorDataset.len

function TensorDataset.__tostring(ds)
  local shapes = {}
  for i, t in ipairs(ds.tensors) do shapes[i] = shape_str(t) end
  return string.format("TensorDataset(%d items; %s)", ds.size, table.concat(shapes, ", "))
end

--- ds:get(i): the i-th slice of every tensor, as multiple results (negative
-- i counts from the end).
-- @function TensorDataset:get
-- @usage lucid.data.TensorDataset:get(i)
-- @within Data
function TensorDataset:get(i)
  local n = rawget(self, "size")
  if not is_integer(i) then
    raise("lucid.data.TensorDataset: the index must be an integer, got " .. tostring(i))
  end
  i = compat.tointeger(i)
  if i < 0 then i = n + 1 + i end
  if i < 1 or i > n then
    raise(string.format("lucid.data.TensorDataset: index %d out of range (the dataset has %d items)", i, n))
  end
  local ts, out = self.tensors, {}
  for j = 1, #ts do out[j] = C.select(ts[j], 1, i) end
  return unpack(out, 1, #ts)
end

--- A dataset of the rows of tensors with the same first size: ds:get(i) returns
-- the i-th rows as multiple results, #ds the number of rows.
-- @function TensorDataset
-- @usage lucid.data.TensorDataset(X, Y, ...)
-- @within Data

-- TensorDataset(t1, t2, ...): tensors of the same first dimension.
function data.TensorDataset(...)
  local n = select("#", ...)
  if n == 0 then raise("lucid.data.TensorDataset: expected at least one tensor") end
  local ts = {...}
  for i = 1, n do
    local t = ts[i]
    if not C.is_tensor(t) then
      raise(string.format("lucid.data.TensorDataset: argument %d is a %s, expected a tensor", i, type(t)))
    end
    if t.ndim == 0 then
      raise(string.format("lucid.data.TensorDataset: tensor %d is 0-d; tensors need a first dimension", i))
    end
    if t.shape[1] ~= ts[1].shape[1] then
      raise(string.format("lucid.data.TensorDataset: tensor %d has shape %s, its first dimension %d differs from "
        .. "tensor 1's %d (shape %s)", i, shape_str(t), t.shape[1], ts[1].shape[1], shape_str(ts[1])))
    end
  end
  return setmetatable({tensors = ts, size = ts[1].shape[1]}, TensorDataset)
end

-- ---------------------------------------------------------------------------
-- collation

local function stack(ts, what)
  local first = ts[1]
  local s1 = shape_str(first)
  for j = 2, #ts do
    if shape_str(ts[j]) ~= s1 then
      raise(string.format("lucid.data.DataLoader: cannot batch %s: item %d has shape %s, item 1 %s",
        what, j, shape_str(ts[j]), s1))
    end
  end
  if lucid.stack then return lucid.no_grad(lucid.stack, ts, 1) end
  -- without lucid.stack: copy each item into place
  local dtype = first.dtype
  for _, t in ipairs(ts) do
    if t.dtype == "float64" then dtype = "float64" end
  end
  local out = lucid.empty({#ts, unpack(first.shape)}, {dtype = dtype})
  lucid.no_grad(function()
    for j, t in ipairs(ts) do out[j] = t end
  end)
  return out
end

local function collate(values, what)
  local first = values[1]
  if C.is_tensor(first) then
    for j, v in ipairs(values) do
      if not C.is_tensor(v) then
        raise(string.format("lucid.data.DataLoader: cannot batch %s: item 1 is a tensor, item %d a %s",
          what, j, type(v)))
      end
    end
    return stack(values, what)
  end
  local all_numbers, all_plain = true, true
  for _, v in ipairs(values) do
    if type(v) ~= "number" then all_numbers = false end
    if type(v) ~= "table" or getmetatable(v) ~= nil then all_plain = false end
  end
  if all_numbers then return lucid.tensor(values) end
  if all_plain then
    local out = {}
    for k in pairs(first) do
      local column = {}
      for j, v in ipairs(values) do
        if v[k] == nil then
          raise(string.format("lucid.data.DataLoader: cannot batch %s: item %d has no key %s",
            what, j, tostring(k)))
        end
        column[j] = v[k]
      end
      out[k] = collate(column, what .. "[" .. tostring(k) .. "]")
    end
    return out
  end
  return values
end

-- ---------------------------------------------------------------------------
-- DataLoader

local DataLoader = {__name = "DataLoader"}
DataLoader.__index = DataLoader
--- The class (metatable) of the loaders lucid.data.DataLoader makes.
-- @function DataLoader_class
-- @usage getmetatable(loader) == lucid.data.DataLoader_class
-- @within Data
data.DataLoader_class = DataLoader


local function dataset_len(ds)
  local n = iter.length_of(ds)
  if not n then
    error("lucid.data.DataLoader: the dataset has no length (#ds); a dataset needs __len and "
      .. "get(i) or __index (see lucid/data.lua)", 0)
  end
  return n
end

local function collate_check(v, name)
  if type(v) ~= "function" then return name .. " must be a function, got " .. type(v) end
end

-- PyTorch's order has sampler, batch_sampler and num_workers between shuffle
-- and collate_fn: those after shuffle go by name only. dataset is always the
-- first argument (a dataset may be a plain table), so names follow it.
local SCHEMA = args.schema("lucid.data.DataLoader", {
  {"dataset", nil, nil, table_arg = true},
  {"batch_size", 1, "posint"},
  {"shuffle", false, "boolean"},
  {"collate_fn", nil, collate_check, keyword = true},
  {"drop_last", false, "boolean", keyword = true},
  unsupported = {"sampler", "batch_sampler", "num_workers", "pin_memory", "timeout", "worker_init_fn",
    "multiprocessing_context", "generator", "prefetch_factor", "persistent_workers", "pin_memory_device"},
})

--- Mini-batches of a dataset (a TensorDataset, an array, a tensor, or any value
-- with # and get(i)): `for xb, yb in loader do ... end` runs one epoch, stacking
-- samples along a new first dim; shuffle draws a new order each epoch from
-- lucid's generator. #loader is the number of batches.
-- @function DataLoader
-- @usage lucid.data.DataLoader(dataset [, {batch_size = 1, shuffle = false, drop_last = false, collate_fn =}])
-- @within Data

-- DataLoader(dataset [, batch_size = 1 [, shuffle = false]] [, {collate_fn =, drop_last = false}])
-- (every option also by name in the trailing table)
function data.DataLoader(...)
  local opts = SCHEMA:table(...)
  local dataset = opts.dataset
  if C.is_tensor(dataset) then dataset = data.TensorDataset(dataset) end
  local tds = type(dataset)
  if tds ~= "table" and tds ~= "userdata" then
    raise("lucid.data.DataLoader: expected a dataset (a table with a length and items), got " .. tds)
  end
  local ok, err = pcall(dataset_len, dataset)
  if not ok then raise(err) end
  local self = {
    dataset = dataset,
    batch_size = opts.batch_size,
    shuffle = opts.shuffle,
    drop_last = opts.drop_last,
    collate_fn = opts.collate_fn,
    _running = setmetatable({}, {__mode = "k"}),  -- a loop's last batch -> its epoch
  }
  return setmetatable(self, DataLoader)
end

local function num_batches(self, n)
  if self.drop_last then return compat.idiv(n, self.batch_size) end
  return compat.idiv(n + self.batch_size - 1, self.batch_size)
end

-- loader:len(), or #loader (5.2+): the number of batches in an epoch.
function DataLoader.len(self)
  return num_batches(self, dataset_len(self.dataset))
end
DataLoader.__len = DataLoader.len

function DataLoader.__tostring(self)
  return string.format("DataLoader(%d items, batch_size=%d, shuffle=%s, drop_last=%s)",
    dataset_len(self.dataset), self.batch_size, tostring(self.shuffle), tostring(self.drop_last))
end

-- A uniformly random permutation of 1..n (Fisher-Yates over lucid's generator).
local function permutation(n)
  local u = n >= 2 and C.rand(n, {dtype = "float64"}):tolist()  -- first: a size too large fails at once
  local order = {}
  for i = 1, n do order[i] = i end
  if n < 2 then return order end
  for i = n, 2, -1 do
    local j = math.min(math.floor(u[i] * i) + 1, i)
    order[i], order[j] = order[j], order[i]
  end
  return order
end

-- ---------------------------------------------------------------------------
-- Subset and random_split

local Subset = {__name = "Subset"}
--- The class (metatable) of the datasets lucid.data.Subset and
-- lucid.data.random_split make.
-- @function Subset_class
-- @usage getmetatable(ds) == lucid.data.Subset_class
-- @within Data
data.Subset_class = Subset

-- sub[i] is the dataset's [indices[i]] (Lua's indexing, one value), as
-- PyTorch's Subset.__getitem__; sub:get(i) is the item as a loader reads it.
function Subset.__index(ds, k)
  if type(k) == "number" then
    local j = rawget(ds, "indices")[k]
    if j == nil then return nil end
    return rawget(ds, "dataset")[j]
  end
  return Subset[k]
end

function Subset.len(ds)
  return #rawget(ds, "indices")
end
Subset.__len = Subset.len

function Subset.__tostring(ds)
  return string.format("Subset(%d of %d items)", #ds.indices, iter.length_of(ds.dataset) or 0)
end

--- sub:get(i): item indices[i] of the dataset, as a DataLoader reads it (its
-- get(j), several values, when it has one; else dataset[j]); negative i
-- counts from the end.
-- @function Subset:get
-- @usage lucid.data.Subset:get(i)
-- @within Data
function Subset:get(i)
  local ind = rawget(self, "indices")
  local n = #ind
  if not is_integer(i) then
    raise("lucid.data.Subset: the index must be an integer, got " .. tostring(i))
  end
  i = compat.tointeger(i)
  if i < 0 then i = n + 1 + i end
  if i < 1 or i > n then
    raise(string.format("lucid.data.Subset: index %d out of range (the subset has %d items)", i, n))
  end
  local ds = rawget(self, "dataset")
  local get = find_method(ds, "get")
  if get then return get(ds, ind[i]) end
  return ds[ind[i]]
end

-- The length of a dataset, or an error naming fname.
local function length_for(fname, ds)
  local t = type(ds)
  if t ~= "table" and t ~= "userdata" then
    raise("%s: expected a dataset (a table with a length and items), got %s", fname, t)
  end
  local n = iter.length_of(ds)
  if not n then raise("%s: the dataset has no length (#ds)", fname) end
  return n
end

local SUBSET = args.schema("lucid.data.Subset", {
  {"dataset", args.REQUIRED, nil, table_arg = true},
  {"indices", args.REQUIRED, nil, table_arg = true},
})

local function make_subset(ds, indices)
  return setmetatable({dataset = ds, indices = indices}, Subset)
end

--- The items of a dataset at the given 1-based indices (an array, or an int64
-- tensor), in that order, as torch.utils.data.Subset: #sub is the number of
-- indices, sub:get(i) the dataset's item indices[i]; sub.dataset and
-- sub.indices are the two arguments. A DataLoader reads a Subset of a
-- TensorDataset with one index_select per tensor, as the TensorDataset itself.
-- @function Subset
-- @usage lucid.data.Subset(dataset, indices)
-- @within Data
function data.Subset(...)
  local o = SUBSET:table(...)
  local fname = "lucid.data.Subset"
  local n = length_for(fname, o.dataset)
  local given = o.indices
  if C.is_tensor(given) then
    if given.ndim ~= 1 or given.dtype == "bool" or given.dtype:find("^float") then
      raise("%s: indices must be an array or a 1-d integer tensor, got a %d-d %s tensor", fname, given.ndim,
        given.dtype)
    end
    given = given:tolist()
  elseif type(given) ~= "table" then
    raise("%s: indices must be an array or a 1-d integer tensor, got %s", fname, args.describe(given))
  end
  local indices = {}
  for k = 1, #given do
    local j = given[k]
    if not is_integer(j) or j < 1 or j > n then
      raise("%s: index %s (indices[%d]) is not an item of the dataset (1 to %d)", fname, tostring(j), k, n)
    end
    indices[k] = compat.tointeger(j)
  end
  return make_subset(o.dataset, indices)
end

local function check_lengths(v, name)
  if type(v) ~= "table" or C.is_tensor(v) or #v == 0 then
    return name .. " must be a non-empty array of counts or fractions, got " .. args.describe(v)
  end
  for i = 1, #v do
    if type(v[i]) ~= "number" or v[i] ~= v[i] then
      return string.format("%s[%d] must be a number, got %s", name, i, args.describe(v[i]))
    end
  end
end

local SPLIT = args.schema("lucid.data.random_split", {
  {"dataset", args.REQUIRED, nil, table_arg = true},
  {"lengths", args.REQUIRED, check_lengths, table_arg = true},
  unsupported = {"generator"},
})

--- Splits a dataset into non-overlapping Subsets of the given lengths, in a
-- random order drawn from lucid's generator (lucid.manual_seed repeats it), as
-- torch.utils.data.random_split; returns them as an array (PyTorch's list).
-- lengths are counts adding up to #dataset, or fractions adding up to 1 (as
-- PyTorch 1.13: each gets floor(#dataset * fraction) items, and what is left
-- goes one item each to the first ones in turn).
-- @function random_split
-- @usage local parts = lucid.data.random_split(dataset, lengths)  as random_split(ds, {0.8, 0.2})
-- @within Data
function data.random_split(...)
  local o = SPLIT:table(...)
  local fname = "lucid.data.random_split"
  local ds, lengths = o.dataset, o.lengths
  local n = length_for(fname, ds)
  local k, total = #lengths, 0
  for i = 1, k do total = total + lengths[i] end
  local counts = {}
  if math.abs(total - 1) <= 1e-9 * math.max(1, math.abs(total)) and total <= 1 then
    -- fractions (math.isclose(sum, 1) and sum <= 1, as PyTorch)
    local used = 0
    for i = 1, k do
      local f = lengths[i]
      if f < 0 or f > 1 then
        raise("%s: fraction %s (lengths[%d]) is not between 0 and 1", fname, tostring(f), i)
      end
      counts[i] = math.floor(n * f)
      used = used + counts[i]
    end
    for r = 0, n - used - 1 do
      local i = r % k + 1
      counts[i] = counts[i] + 1
    end
  else
    for i = 1, k do
      local c = lengths[i]
      if not is_integer(c) or c < 0 then
        raise("%s: lengths[%d] is %s: lengths are counts (whole numbers >= 0) or fractions that add up to 1",
          fname, i, tostring(c))
      end
      counts[i] = compat.tointeger(c)
    end
    if total ~= n then
      raise("%s: the lengths add up to %s, but the dataset has %d items", fname, compat.num_str(total), n)
    end
  end
  local order = permutation(n)
  local parts, offset = {}, 0
  for i = 1, k do
    local indices = {}
    for j = 1, counts[i] do indices[j] = order[offset + j] end
    offset = offset + counts[i]
    parts[i] = make_subset(ds, indices)
  end
  return parts
end

-- The TensorDataset under a chain of Subsets, and the batch's positions in
-- it; nil when there is none.
local function tensor_base(ds, idx)
  local mapped = idx
  while getmetatable(ds) == Subset do
    local ind, out = rawget(ds, "indices"), {}
    for k = 1, #mapped do out[k] = ind[mapped[k]] end
    mapped, ds = out, rawget(ds, "dataset")
  end
  if getmetatable(ds) == TensorDataset then return ds, mapped end
  return nil
end

-- The state of one epoch.
local function new_epoch(self)
  local n = dataset_len(self.dataset)
  return {pos = 0, n = n, limit = num_batches(self, n) * self.batch_size,
    order = self.shuffle and permutation(n) or nil}
end

data._find_method = find_method  -- (lucid._iter's)

local function fetch(ds, i, get)
  if get then return pack(get(ds, i)) end
  return pack(ds[i])
end

-- The next batch of an epoch as multiple values, or nothing at its end.
local function next_batch(self, st)
  if st.pos >= math.min(st.limit, st.n) then return nil end
  local first, last = st.pos + 1, math.min(st.pos + self.batch_size, st.n)
  st.pos = last
  local idx = {}
  for k = first, last do idx[#idx + 1] = st.order and st.order[k] or k end
  local ds = self.dataset

  local base, positions = nil, nil
  if not self.collate_fn and lucid.index_select then base, positions = tensor_base(ds, idx) end
  if base then  -- a TensorDataset, or a Subset of one: one index_select per tensor
    local out = {}
    lucid.no_grad(function()
      for j, t in ipairs(base.tensors) do out[j] = lucid.index_select(t, 1, positions) end
    end)
    return unpack(out, 1, #base.tensors)
  end

  local samples = {}
  local get = find_method(ds, "get")
  for j, i in ipairs(idx) do
    local s = fetch(ds, i, get)
    if s.n == 0 or s[1] == nil then
      raise(string.format("lucid.data.DataLoader: the dataset returned nothing for item %d", i))
    end
    samples[j] = s
  end
  if self.collate_fn then return self.collate_fn(samples) end
  local width = samples[1].n
  for j, s in ipairs(samples) do
    if s.n ~= width then
      raise(string.format("lucid.data.DataLoader: item %d gave %d values, item %d gave %d",
        idx[1], width, idx[j], s.n))
    end
  end
  local out = {}
  for p = 1, width do
    local column = {}
    for j, s in ipairs(samples) do column[j] = s[p] end
    out[p] = collate(column, width > 1 and "value " .. p or "the items")
  end
  return unpack(out, 1, width)
end

-- for xb, yb in loader do ... end: the generic for calls loader(nil, control);
-- control is nil on a loop's first call (a new epoch) and then the first
-- value of the batch given to that loop, which finds the loop's epoch.
function DataLoader.__call(self, _, control)
  local st
  if control == nil then
    st = new_epoch(self)
  else
    st = self._running[control]
    if not st then
      raise("lucid.data.DataLoader: called with an unknown control value; iterate with "
        .. "`for xb, yb in loader do` or step with loader:iter()")
    end
    self._running[control] = nil
  end
  local res = pack(next_batch(self, st))
  if res[1] == nil then return nil end
  self._running[res[1]] = st
  return unpack(res, 1, res.n)
end

--- loader:iter(): an iterator function over one new epoch (nil at its end).
-- @function DataLoader:iter
-- @usage lucid.data.DataLoader:iter()
-- @within Data
function DataLoader:iter()
  local st = new_epoch(self)
  return function() return next_batch(self, st) end
end

return data

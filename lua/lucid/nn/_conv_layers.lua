-- What the convolution, padding and fold layers share (nn.Conv1d,
-- nn.Conv2d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ZeroPad2d,
-- nn.ConstantPad1d/2d, nn.ReflectionPad1d/2d, nn.ReplicationPad1d/2d,
-- nn.Unfold, nn.Fold): each layer's file is its documentation and one call
-- of a maker here. PyTorch 1.13's arguments, defaults, initialisation
-- (kaiming_uniform with a = sqrt(5): U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for
-- weight and bias), state-dict keys (weight, bias) and printing.
local lucid = require("lucid")
local nn = require("lucid.nn")
local args = require("lucid._args")
local conv = require("lucid.nn._conv")
local C = require("lucid.core")
local is_grad_enabled = C.is_grad_enabled

local raise = args.raise
local unpack = require("lucid._compat").unpack

local M = {}

local function tuple(t) return "{" .. table.concat(t, ", ") .. "}" end

local function all_equal(t, v)
  for _, e in ipairs(t) do if e ~= v then return false end end
  return true
end

-- ---- convolutions -------------------------------------------------------------------------

-- Module:reuse_buffers for a batched 2-d convolution with zero padding the
-- same on both sides (the common case of a model run every frame): the
-- output goes into a buffer the layer keeps, made again only when the
-- input's shape or dtype changes. nil for every other case, which then
-- allocates as usual.
local function reuse_forward(self, fname, x, w, b)
  if not C.is_tensor(x) or x.ndim ~= 4 then return nil end
  -- the padding, worked out once (false: a case this does not cover)
  local pad = rawget(self, "_reuse_pad")
  if pad == nil then
    local lr = conv.pad_pairs(self.padding, self.kernel_size, self.dilation)
    pad = self.padding_mode == "zeros" and lr[1][1] == lr[1][2] and lr[2][1] == lr[2][2]
      and {lr[1][1], lr[2][1]}
    rawset(self, "_reuse_pad", pad)
  end
  if not pad then return nil end
  local key, out = rawget(self, "_out_for"), rawget(self, "_out")
  local fits = out ~= nil and key.dtype == x.dtype and key.pad1 == pad[1] and key.pad2 == pad[2]
  for d = 1, 4 do fits = fits and key[d] == x:size(d) end
  if not fits then
    local s, dl, k = self.stride, self.dilation, self.kernel_size
    local shape = {x:size(1), self.out_channels}
    for d = 1, 2 do
      shape[2 + d] = math.floor((x:size(2 + d) + 2 * pad[d] - dl[d] * (k[d] - 1) - 1) / s[d]) + 1
      if shape[2 + d] < 1 then return nil end  -- the usual path raises the error
    end
    out = lucid.empty(shape, {dtype = x.dtype})
    rawset(self, "_out", out)
    rawset(self, "_out_for", {x:size(1), x:size(2), x:size(3), x:size(4), dtype = x.dtype, pad1 = pad[1],
      pad2 = pad[2]})
  end
  return C._conv2d(fname, x, w, b, self.stride[1], self.stride[2], pad[1], pad[2], 0, 0, self.dilation[1],
    self.dilation[2], self.groups, out)
end

-- Module:reuse_buffers for a batched 1-d convolution with zero padding the
-- same on both sides: the first call's result is kept (Module:_keep) and
-- later calls on that shape write into it.
local function reuse_keep1d(self, x, y)
  local pad = rawget(self, "_reuse_pad")
  if pad == nil then
    local lr = conv.pad_pairs(self.padding, self.kernel_size, self.dilation)
    pad = self.padding_mode == "zeros" and lr[1][1] == lr[1][2] and lr[1][1]
    rawset(self, "_reuse_pad", pad)
  end
  if pad then self:_keep(x, y) end
end

--- conv_layer(name, nd, transposed): the class nn.<name>.
function M.conv_layer(name, nd, transposed)
  local fname = "nn." .. name
  local Layer = nn.Module:extend(name)
  local entries = {
    {"in_channels", args.REQUIRED, "posint"},
    {"out_channels", args.REQUIRED, "posint"},
    {"kernel_size", args.REQUIRED, conv.sizes(nd, 1)},
    {"stride", conv.rep(1, nd), conv.sizes(nd, 1)},
    {"padding", conv.rep(0, nd), transposed and conv.sizes(nd, 0) or conv.padding_check(nd)},
  }
  if transposed then
    entries[#entries + 1] = {"output_padding", conv.rep(0, nd), conv.sizes(nd, 0)}
    entries[#entries + 1] = {"groups", 1, "posint"}
    entries[#entries + 1] = {"bias", true, "boolean"}
    entries[#entries + 1] = {"dilation", conv.rep(1, nd), conv.sizes(nd, 1)}
  else
    entries[#entries + 1] = {"dilation", conv.rep(1, nd), conv.sizes(nd, 1)}
    entries[#entries + 1] = {"groups", 1, "posint"}
    entries[#entries + 1] = {"bias", true, "boolean"}
  end
  entries[#entries + 1] = {"padding_mode", "zeros", args.one_of("zeros", "reflect", "replicate", "circular")}
  entries[#entries + 1] = {"dtype", nil, args.one_of("float32", "float64"), keyword = true}
  entries.unsupported = {"device"}
  Layer.schema = args.schema(fname, entries)

  function Layer:__init(...)
    local o = Layer.schema:table(...)
    local cin, cout, groups = o.in_channels, o.out_channels, o.groups
    if cin % groups ~= 0 then raise("%s: in_channels (%d) must be divisible by groups (%d)", fname, cin, groups) end
    if cout % groups ~= 0 then raise("%s: out_channels (%d) must be divisible by groups (%d)", fname, cout, groups) end
    if transposed and o.padding_mode ~= "zeros" then
      raise("%s: only padding_mode 'zeros' is supported, got '%s'", fname, o.padding_mode)
    end
    if o.padding == "same" and not all_equal(o.stride, 1) then
      raise("%s: padding 'same' needs stride 1, got stride %s", fname, tuple(o.stride))
    end
    self.in_channels, self.out_channels, self.kernel_size = cin, cout, o.kernel_size
    self.stride, self.padding, self.dilation, self.groups = o.stride, o.padding, o.dilation, groups
    self.output_padding, self.padding_mode = o.output_padding, o.padding_mode
    -- weight {out, in / groups, k...}, transposed {in, out / groups, k...}
    local shape = transposed and {cin, cout / groups} or {cout, cin / groups}
    local fan_in = shape[2]
    for d = 1, nd do
      shape[2 + d] = o.kernel_size[d]
      fan_in = fan_in * o.kernel_size[d]
    end
    args.numel(fname, "weight", unpack(shape))
    local opts = {dtype = o.dtype}
    local bound = 1 / math.sqrt(fan_in)
    self.weight = nn.Parameter(args.make(fname, "weight", lucid.empty, shape, opts):uniform_(-bound, bound))
    if o.bias then
      self.bias = nn.Parameter(args.make(fname, "bias", lucid.empty, {cout}, opts):uniform_(-bound, bound))
    end
  end

  if transposed then
    function Layer:forward(x, output_size)
      local p = self._parameters
      -- reuse_buffers for a batch without output_size: after a first call
      -- through the checks, the same shape writes into that call's result
      local reuse = rawget(self, "_reuse") and output_size == nil
      local out = reuse and self:_kept(x)
      if out then
        local s, pd, op, dl = self.stride, self.padding, self.output_padding, self.dilation
        if nd == 1 then  -- the core's 2-d form of height 1 (3-d x, w and out)
          return C._conv_transpose2d(fname, x, p.weight, p.bias, 1, s[1], 0, pd[1], 0, op[1], 1, dl[1], self.groups,
            out)
        end
        return C._conv_transpose2d(fname, x, p.weight, p.bias, s[1], s[2], pd[1], pd[2], op[1], op[2], dl[1], dl[2],
          self.groups, out)
      end
      local opad = self.output_padding
      if output_size ~= nil then opad = self:_output_padding(x, output_size) end
      local y = conv.conv_transpose(fname, nd, x, p.weight, p.bias, self.stride, self.padding, opad,
        self.groups, self.dilation)
      if reuse and x.ndim == nd + 2 then self:_keep(x, y) end
      return y
    end

    -- PyTorch's output_size argument: the output_padding that reaches it
    function Layer:_output_padding(x, output_size)
      args.tensor(fname, x, "as input")
      if x.ndim ~= nd + 1 and x.ndim ~= nd + 2 then
        raise("%s: expected a %d-d (unbatched) or %d-d (batched) input, got %s", fname, nd + 1, nd + 2,
          args.shape_str(x))
      end
      local n = type(output_size) == "table" and not C.is_tensor(output_size) and #output_size or -1
      for k = 1, math.max(n, 0) do
        if not args.int_of(output_size[k]) then n = -1 end
      end
      if n ~= nd and n ~= nd + 1 and n ~= nd + 2 then
        raise("%s: output_size must be a table of %d (or %d, %d) integers, got %s", fname, nd, nd + 1, nd + 2,
          args.describe(output_size))
      end
      local opad = {}
      for d = 1, nd do
        local want, len = args.int_of(output_size[n - nd + d]), x.shape[x.ndim - nd + d]
        local least = (len - 1) * self.stride[d] - 2 * self.padding[d] + self.dilation[d] * (self.kernel_size[d] - 1) + 1
        local extra = want - least
        if extra < 0 or extra >= math.max(self.stride[d], self.dilation[d]) then
          raise("%s: output_size %s cannot be reached from input %s (sizes %d to %d in dim %d)", fname,
            tuple(output_size), args.shape_str(x), least, least + math.max(self.stride[d], self.dilation[d]) - 1, d)
        end
        opad[d] = extra
      end
      return opad
    end
  else
    function Layer:forward(x)
      local p = self._parameters
      if rawget(self, "_reuse") and nd == 2 and not is_grad_enabled() then
        local y = reuse_forward(self, fname, x, p.weight, p.bias)
        if y then return y end
      end
      local out = rawget(self, "_reuse") and nd == 1 and self:_kept(x)
      if out then  -- the core's 2-d form of height 1 (3-d x, w and out)
        return C._conv2d(fname, x, p.weight, p.bias, 1, self.stride[1], 0, rawget(self, "_reuse_pad"), 0, 0, 1,
          self.dilation[1], self.groups, out)
      end
      local y = conv.conv(fname, nd, x, p.weight, p.bias, self.stride, self.padding, self.dilation, self.groups,
        self.padding_mode)
      if rawget(self, "_reuse") and nd == 1 and x.ndim == 3 then reuse_keep1d(self, x, y) end
      return y
    end
  end

  function Layer:extra_repr()
    local s = string.format("%d, %d, kernel_size=%s, stride=%s", self.in_channels, self.out_channels,
      tuple(self.kernel_size), tuple(self.stride))
    if type(self.padding) == "string" then
      s = s .. ", padding=" .. self.padding
    elseif not all_equal(self.padding, 0) then
      s = s .. ", padding=" .. tuple(self.padding)
    end
    if not all_equal(self.dilation, 1) then s = s .. ", dilation=" .. tuple(self.dilation) end
    if transposed and not all_equal(self.output_padding, 0) then
      s = s .. ", output_padding=" .. tuple(self.output_padding)
    end
    if self.groups ~= 1 then s = s .. ", groups=" .. self.groups end
    if self.bias == nil then s = s .. ", bias=false" end
    if self.padding_mode ~= "zeros" then s = s .. ", padding_mode=" .. self.padding_mode end
    return s
  end

  return Layer
end

-- ---- padding ------------------------------------------------------------------------------

--- pad_layer(name, nd, mode, with_value): the class nn.<name>, padding the
-- last nd dims; padding is a number or a table of 2 nd entries (F.pad's order).
function M.pad_layer(name, nd, mode, with_value)
  local fname = "nn." .. name
  local Layer = nn.Module:extend(name)
  local function padding_check(v, pname)
    if type(v) == "number" then
      local i = args.int_of(v)
      if i then
        local t = {}
        for k = 1, 2 * nd do t[k] = i end
        return nil, t
      end
    elseif type(v) == "table" and #v == 2 * nd then
      local t = {}
      for k = 1, 2 * nd do
        t[k] = args.int_of(v[k])
        if not t[k] then t = nil break end
      end
      if t then return nil, t end
    end
    return string.format("%s must be an integer or a table of %d integers, got %s", pname, 2 * nd, args.describe(v))
  end
  local entries = {{"padding", args.REQUIRED, padding_check}}
  if with_value then entries[2] = {"value", args.REQUIRED, "number"} end
  Layer.schema = args.schema(fname, entries)

  function Layer:__init(...)
    self.padding, self.value = Layer.schema:parse(...)
  end

  function Layer:forward(x)
    args.tensor(fname, x, "as input")
    if x.ndim < nd + 1 then
      raise("%s: expected an input of at least %d dims, got %s", fname, nd + 1, args.shape_str(x))
    end
    return conv.pad(x, self.padding, mode, self.value, fname)
  end

  -- PyTorch's: "padding=(...), value=0.0" for the constant pads (ZeroPad2d is
  -- one), the bare padding for the others
  function Layer:extra_repr()
    if mode ~= "constant" then return tuple(self.padding) end
    local v = self.value or 0
    local shown = v == math.floor(v) and math.abs(v) < 1e15 and string.format("%.1f", v) or tostring(v)
    return "padding=" .. tuple(self.padding) .. ", value=" .. shown
  end

  return Layer
end

-- ---- unfold, fold ---------------------------------------------------------------------------

--- window_layer(name): nn.Unfold or nn.Fold
function M.window_layer(name)
  local fname = "nn." .. name
  local Layer = nn.Module:extend(name)
  local fold = name == "Fold"
  local base = fold and conv.FOLD or conv.UNFOLD
  local entries = {}
  for i = 2, #base.params do
    local p = base.params[i]
    entries[#entries + 1] = {p.name, p.required and args.REQUIRED or p.default, p.check}
  end
  Layer.schema = args.schema(fname, entries)

  function Layer:__init(...)
    local o = Layer.schema:table(...)
    self.output_size, self.kernel_size = o.output_size, o.kernel_size
    self.dilation, self.padding, self.stride = o.dilation, o.padding, o.stride
  end

  function Layer:forward(x)
    args.tensor(fname, x, "as input")
    if fold then
      return conv.fold(fname, x, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)
    end
    return conv.unfold(fname, x, self.kernel_size, self.dilation, self.padding, self.stride)
  end

  function Layer:extra_repr()
    local s = string.format("kernel_size=%s, dilation=%s, padding=%s, stride=%s", tuple(self.kernel_size),
      tuple(self.dilation), tuple(self.padding), tuple(self.stride))
    if fold then s = "output_size=" .. tuple(self.output_size) .. ", " .. s end
    return s
  end

  return Layer
end

return M

-- lucid.nn._rnn: what nn.RNN, nn.LSTM, nn.GRU and their cells share
-- (internal). Each layer of each direction is one call of the fused core op
-- (lucid.rnn_tanh, rnn_relu, lstm, gru: one GEMM for all steps' input
-- projections, one GEMM and a fused gate kernel per step, one fused rule
-- for the backward over the sequence); this file stacks layers and
-- directions, applies dropout between layers, and handles batch_first,
-- unbatched inputs and PackedSequence, as PyTorch 1.13's RNNBase does.
local lucid = require("lucid")
local nn = require("lucid.nn")
local args = require("lucid._args")
local C = require("lucid.core")
local raise, shape_str = args.raise, args.shape_str

local M = {}

local GATES = {RNN_TANH = 1, RNN_RELU = 1, LSTM = 4, GRU = 3}
local OPS = {RNN_TANH = "rnn_tanh", RNN_RELU = "rnn_relu", LSTM = "lstm", GRU = "gru"}
local CELL_OPS = {RNN_TANH = "rnn_tanh_cell", RNN_RELU = "rnn_relu_cell", LSTM = "lstm_cell",
                  GRU = "gru_cell"}

local function empty(fname, what, dtype, ...)
  return args.make(fname, what, lucid.empty, {...}, {dtype = dtype})
end

local function param(self, fname, name, dtype, bound, ...)
  local t = empty(fname, name, dtype, ...)
  self[name] = nn.Parameter(t:uniform_(-bound, bound))
end

local function dtype_check(v, name)
  if v ~= "float32" and v ~= "float64" then
    return name .. " must be 'float32' or 'float64', got " .. (type(v) == "string" and "'" .. v .. "'" or args.describe(v))
  end
end
M.dtype_check = dtype_check

-- ---- the layers -------------------------------------------------------------------

function M.layer_schema(fname, with_nonlinearity, with_proj)
  local rows = {
    {"input_size", args.REQUIRED, "size"},
    {"hidden_size", args.REQUIRED, "posint"},
    {"num_layers", 1, "posint"},
  }
  for _, r in ipairs({{"bias", true, "boolean"}, {"batch_first", false, "boolean"},
                      {"dropout", 0, "probability"}, {"bidirectional", false, "boolean"}}) do
    rows[#rows + 1] = r
  end
  if with_proj then rows[#rows + 1] = {"proj_size", 0, "size"} end
  -- nn.RNN's nonlinearity is keyword-only in PyTorch (RNN(*args, **kwargs)
  -- pops it; the positions are RNNBase's: bias comes fourth)
  if with_nonlinearity then
    rows[#rows + 1] = {"nonlinearity", "tanh", args.one_of("tanh", "relu"), keyword = true}
  end
  rows[#rows + 1] = {"dtype", nil, dtype_check}
  rows.unsupported = {"device"}
  return args.schema(fname, rows)
end

-- Fills a new layer module: mode "RNN_TANH", "RNN_RELU", "LSTM" or "GRU".
function M.init_layer(self, fname, mode, o)
  local H, P = o.hidden_size, o.proj_size or 0
  if P >= H and P > 0 then
    raise("%s: proj_size has to be smaller than hidden_size, got proj_size %d and hidden_size %d",
      fname, P, H)
  end
  if P > 0 and mode ~= "LSTM" then raise("%s: proj_size is only for LSTM", fname) end
  self.mode, self.fname = mode, fname
  self.input_size, self.hidden_size, self.num_layers = o.input_size, H, o.num_layers
  self.bias, self.batch_first, self.dropout = o.bias, o.batch_first, o.dropout
  self.bidirectional, self.proj_size = o.bidirectional, P
  self.nonlinearity = o.nonlinearity
  local dtype = o.dtype or lucid.get_default_dtype()
  local dirs = o.bidirectional and 2 or 1
  local real = P > 0 and P or H
  local gate = GATES[mode] * H
  local bound = 1 / math.sqrt(H)
  -- PyTorch's order: per layer, per direction, w_ih, w_hh, b_ih, b_hh, w_hr
  for l = 0, o.num_layers - 1 do
    for d = 0, dirs - 1 do
      local sfx = "_l" .. l .. (d == 1 and "_reverse" or "")
      local layer_in = l == 0 and o.input_size or real * dirs
      param(self, fname, "weight_ih" .. sfx, dtype, bound, gate, layer_in)
      param(self, fname, "weight_hh" .. sfx, dtype, bound, gate, real)
      if o.bias then
        param(self, fname, "bias_ih" .. sfx, dtype, bound, gate)
        param(self, fname, "bias_hh" .. sfx, dtype, bound, gate)
      end
      if P > 0 then param(self, fname, "weight_hr" .. sfx, dtype, bound, P, H) end
    end
  end
end

local function is_packed(x)
  local mt = getmetatable(x)
  return type(x) == "table" and mt ~= nil and mt.__name == "PackedSequence"
end
M.is_packed = is_packed

local function check_state(fname, t, what, want)
  if not C.is_tensor(t) then raise("%s: %s must be a tensor, got %s", fname, what, args.describe(t)) end
  local same = t:dim() == #want
  for i = 1, #want do same = same and t.shape[i] == want[i] end
  if not same then
    raise("%s: expected %s of shape %s, got %s", fname, what, shape_str(want), shape_str(t))
  end
end

-- Between layers, in training mode: each element zeroed with probability p,
-- the rest scaled by 1 / (1 - p) (nn.Dropout's rule).
local function dropout(x, p)
  if p == 1 then return x * 0 end
  return x * lucid.lt(lucid.rand_like(x), 1 - p) * (1 / (1 - p))
end

-- The core's numbers of the modes (lc_rnn_mode), for _rnn_cell_out and
-- _rnn_layer_out.
local MODE_NUMBERS = {RNN_TANH = 0, RNN_RELU = 1, LSTM = 2, GRU = 3}

-- Whether s is a state tensor of the given sizes ((L, B, n) for a layer,
-- (B, n) for a cell), so that the usual path's checks (and their messages)
-- need not run.
local function state_fits(s, ...)
  local n = select("#", ...)
  if not C.is_tensor(s) or s.ndim ~= n then return false end
  for d = 1, n do
    if s:size(d) ~= select(d, ...) then return false end
  end
  return true
end

-- The buffers of a layer under reuse_buffers for input x (3-d, checked):
-- per layer and direction (k = (layer - 1) * dirs + direction, as the
-- states count them) a flat result R (output, h_n, c_n, as
-- lc_rnn_layer_out writes them) and its views; per bidirectional layer one
-- (T, B, 2 P) output both directions are copied into (the next layer's
-- input); the (layers * dirs, B, size) states returned and their rows;
-- zero states for hx == nil; the parameter names.
local function layer_buffers(self, x, lstm)
  local dtype = x.dtype
  local unbatched = x.ndim == 2
  local T, B = x:size(1), unbatched and 1 or x:size(2)
  if self.batch_first and not unbatched then T, B = B, T end
  local H, L = self.hidden_size, self.num_layers
  local dirs = self.bidirectional and 2 or 1
  local P = self.proj_size > 0 and self.proj_size or H
  local opts = {dtype = dtype}
  local b = {R = {}, o = {}, hn = {}, cn = {}, hrow = {}, crow = {}, names = {}, out_l = {}, half = {},
    B = B, P = P, H = H, dirs = dirs}
  b.h_n = lucid.empty({L * dirs, B, P}, opts)
  b.c_n = lstm and lucid.empty({L * dirs, B, H}, opts) or nil
  b.zh = lucid.zeros({L * dirs, B, P}, opts)
  b.zc = lstm and lucid.zeros({L * dirs, B, H}, opts) or nil
  local n = T * B * P
  for l = 1, L do
    local both = dirs == 2 and lucid.empty({T, B, 2 * P}, opts) or nil
    for d = 1, dirs do
      local k = (l - 1) * dirs + d
      local R = lucid.empty({n + B * P + (lstm and B * H or 0)}, opts)
      b.R[k], b.o[k] = R, R:narrow(1, 1, n):view(T, B, P)
      b.hn[k], b.hrow[k] = R:narrow(1, n + 1, B * P):view(B, P), b.h_n[k]
      if lstm then b.cn[k], b.crow[k] = R:narrow(1, n + B * P + 1, B * H):view(B, H), b.c_n[k] end
      local sfx = "_l" .. (l - 1) .. (d == 2 and "_reverse" or "")
      b.names[k] = {"weight_ih" .. sfx, "weight_hh" .. sfx, "bias_ih" .. sfx, "bias_hh" .. sfx, "weight_hr" .. sfx}
      if both then b.half[k] = both:narrow(3, (d - 1) * P + 1, P) end
    end
    b.out_l[l] = both or b.o[l]
  end
  b.unbatched = unbatched
  if unbatched then  -- (T, P) and (layers, size) views of the batch of one
    b.out = b.out_l[L]:view(T, dirs * P)
    b.h_n, b.c_n = b.h_n:view(L * dirs, P), lstm and b.c_n:view(L * dirs, H) or nil
    b.zh, b.zc = b.zh:view(L * dirs, P), lstm and b.zc:view(L * dirs, H) or nil
  else
    b.out = self.batch_first and b.out_l[L]:transpose(1, 2) or b.out_l[L]
  end
  b.state = lstm and {b.h_n, b.c_n} or b.h_n
  return b
end

-- The state hx of a call without recording, as (h, c): the zeros given when
-- hx is nil, {h, c} for an LSTM, h for the others; false when hx has
-- another form (the recorded path then raises the error naming it).
local function split_state(hx, lstm, zero_h, zero_c)
  if hx == nil then return true, zero_h, zero_c end
  if not lstm then return true, hx end
  if type(hx) ~= "table" or C.is_tensor(hx) then return false end
  return true, hx[1], hx[2]
end

-- Module:reuse_buffers for nn.RNN, nn.LSTM and nn.GRU on a batch or one
-- sequence (3-d or 2-d input, not packed, one direction or two): each layer's run (each
-- direction's) goes into a kept buffer (lc_rnn_layer_out), a bidirectional
-- layer's two outputs are copied into the halves of one kept buffer, the
-- states into kept (layers * dirs, B, size) tensors, which a loop may pass
-- back as hx. Dropout between layers in training mode is left to the
-- usual path. nil for what it does not cover (the usual path then runs,
-- raising for bad arguments).
local function reuse_layer(self, x, hx, lstm)
  if C.is_grad_enabled() or not C.is_tensor(x) or (x.ndim ~= 3 and x.ndim ~= 2) or
      (self.dropout > 0 and self.training and self.num_layers > 1) then
    return nil
  end
  local b = self:_kept(x) and rawget(self, "_rnn_buffers")
  if not b then
    local dtype = x.dtype
    if (dtype ~= "float32" and dtype ~= "float64") or x:size(x.ndim) ~= self.input_size then return nil end
    b = layer_buffers(self, x, lstm)
    self:_keep(x, b.out)
    rawset(self, "_rnn_buffers", b)
  end
  local ok, h0, c0 = split_state(hx, lstm, b.zh, b.zc)
  if not ok then return nil end
  local dirs = b.dirs
  local nl = self.num_layers * dirs
  if b.unbatched then
    if not state_fits(h0, nl, b.P) or (lstm and not state_fits(c0, nl, b.H)) then return nil end
  elseif not state_fits(h0, nl, b.B, b.P) or (lstm and not state_fits(c0, nl, b.B, b.H)) then
    return nil
  end
  local p, mode, fname = self._parameters, MODE_NUMBERS[self.mode], self.fname
  local layer_in, batch_first = x, self.batch_first
  for l = 1, self.num_layers do
    for d = 1, dirs do
      local k = (l - 1) * dirs + d
      local nm = b.names[k]
      C._rnn_layer_out(mode, layer_in, batch_first, h0, c0, k - 1, p[nm[1]], p[nm[2]], p[nm[3]], p[nm[4]],
        p[nm[5]], b.R[k], fname, d == 2)
      if dirs == 2 then b.half[k]:copy_(b.o[k]) end
    end
    layer_in, batch_first = b.out_l[l], false
  end
  -- the states last: hx may be the previous call's, which every layer read
  for k = 1, nl do
    b.hrow[k]:copy_(b.hn[k])
    if lstm then b.crow[k]:copy_(b.cn[k]) end
  end
  return b.out, b.state
end

function M.forward_layer(self, input, hx)
  if rawget(self, "_reuse") then
    local out, state = reuse_layer(self, input, hx, self.mode == "LSTM")
    if out then return out, state end
  end
  local fname = self.fname
  local lstm = self.mode == "LSTM"
  local packed = is_packed(input)
  local x, bs, batch, unbatched
  if packed then
    x, bs = input.data, input.batch_sizes
    batch = bs[1]:item()
  else
    if not C.is_tensor(input) then
      raise("%s: input must be a tensor or a PackedSequence, got %s", fname, args.describe(input))
    end
    local nd = input:dim()
    if nd ~= 2 and nd ~= 3 then
      raise("%s: expected input to be 2-D (unbatched) or 3-D, got %d-D %s", fname, nd, shape_str(input))
    end
    unbatched = nd == 2
    x = input
    if unbatched then x = x:unsqueeze(2)
    elseif self.batch_first then x = x:transpose(1, 2) end
    batch = x.shape[2]
  end
  if x.shape[x:dim()] ~= self.input_size then
    raise("%s: input %s: the last dim must be input_size %d, got %d", fname, shape_str(x),
      self.input_size, x.shape[x:dim()])
  end
  local dirs = self.bidirectional and 2 or 1
  local H = self.hidden_size
  local real = self.proj_size > 0 and self.proj_size or H
  local nl = self.num_layers * dirs
  local h0, c0
  local hshape = unbatched and {nl, real} or {nl, batch, real}
  local cshape = unbatched and {nl, H} or {nl, batch, H}
  if hx == nil then
    local opts = {dtype = x.dtype}
    h0 = lucid.zeros({nl, batch, real}, opts)
    if lstm then c0 = lucid.zeros({nl, batch, H}, opts) end
  else
    if lstm then
      if type(hx) ~= "table" or C.is_tensor(hx) then
        raise("%s: hx must be a table {h0, c0}, got %s", fname, args.describe(hx))
      end
      h0, c0 = hx[1], hx[2]
      check_state(fname, h0, "h0 (hx[1])", hshape)
      check_state(fname, c0, "c0 (hx[2])", cshape)
    else
      h0 = hx
      check_state(fname, h0, "hx", hshape)
    end
    if unbatched then
      h0 = h0:unsqueeze(2)
      if c0 then c0 = c0:unsqueeze(2) end
    end
    if packed and input.sorted_indices then
      h0 = h0:index_select(2, input.sorted_indices)
      if c0 then c0 = c0:index_select(2, input.sorted_indices) end
    end
  end
  local op = lucid[OPS[self.mode]]
  local p = self._parameters
  local opts = {batch_sizes = bs, reverse = false}
  local hs, cs = {}, {}
  local layer_in = x
  for l = 0, self.num_layers - 1 do
    local outs = {}
    for d = 0, dirs - 1 do
      local sfx = "_l" .. l .. (d == 1 and "_reverse" or "")
      local k = l * dirs + d + 1
      opts.reverse = d == 1
      local o, hn, cn
      if lstm then
        o, hn, cn = op(layer_in, {h0[k], c0[k]}, p["weight_ih" .. sfx], p["weight_hh" .. sfx],
          p["bias_ih" .. sfx], p["bias_hh" .. sfx], p["weight_hr" .. sfx], opts)
        cs[k] = cn
      else
        o, hn = op(layer_in, h0[k], p["weight_ih" .. sfx], p["weight_hh" .. sfx], p["bias_ih" .. sfx],
          p["bias_hh" .. sfx], opts)
      end
      hs[k] = hn
      outs[d + 1] = o
    end
    layer_in = dirs == 2 and lucid.cat(outs, -1) or outs[1]
    if self.dropout > 0 and self.training and l < self.num_layers - 1 then
      layer_in = dropout(layer_in, self.dropout)
    end
  end
  local out = layer_in
  local h_n = lucid.stack(hs, 1)
  local c_n = lstm and lucid.stack(cs, 1) or nil
  if packed then
    if input.unsorted_indices then
      h_n = h_n:index_select(2, input.unsorted_indices)
      if c_n then c_n = c_n:index_select(2, input.unsorted_indices) end
    end
    out = input:_with_data(out)
  elseif unbatched then
    out, h_n = out:squeeze(2), h_n:squeeze(2)
    if c_n then c_n = c_n:squeeze(2) end
  elseif self.batch_first then
    out = out:transpose(1, 2)
  end
  if lstm then return out, {h_n, c_n} end
  return out, h_n
end

function M.layer_repr(self)
  local s = string.format("%d, %d", self.input_size, self.hidden_size)
  if self.proj_size > 0 then s = s .. ", proj_size=" .. self.proj_size end
  if self.num_layers ~= 1 then s = s .. ", num_layers=" .. self.num_layers end
  if self.nonlinearity and self.nonlinearity ~= "tanh" then s = s .. ", nonlinearity=" .. self.nonlinearity end
  if not self.bias then s = s .. ", bias=false" end
  if self.batch_first then s = s .. ", batch_first=true" end
  if self.dropout ~= 0 then s = s .. ", dropout=" .. tostring(self.dropout) end
  if self.bidirectional then s = s .. ", bidirectional=true" end
  return s
end

-- ---- the cells -----------------------------------------------------------------------

function M.cell_schema(fname, with_nonlinearity)
  local rows = {
    {"input_size", args.REQUIRED, "size"},
    {"hidden_size", args.REQUIRED, "posint"},
    {"bias", true, "boolean"},
  }
  if with_nonlinearity then rows[#rows + 1] = {"nonlinearity", "tanh", args.one_of("tanh", "relu")} end
  rows[#rows + 1] = {"dtype", nil, dtype_check}
  rows.unsupported = {"device"}
  return args.schema(fname, rows)
end

function M.init_cell(self, fname, mode, o)
  self.mode, self.fname = mode, fname
  self.input_size, self.hidden_size, self.bias = o.input_size, o.hidden_size, o.bias
  self.nonlinearity = o.nonlinearity
  local dtype = o.dtype or lucid.get_default_dtype()
  local H = o.hidden_size
  local gate, bound = GATES[mode] * H, 1 / math.sqrt(H)
  param(self, fname, "weight_ih", dtype, bound, gate, o.input_size)
  param(self, fname, "weight_hh", dtype, bound, gate, H)
  if o.bias then
    param(self, fname, "bias_ih", dtype, bound, gate)
    param(self, fname, "bias_hh", dtype, bound, gate)
  end
end

-- Module:reuse_buffers for a cell on a batch: the step goes into a buffer
-- kept for x's shape (h1, then c1 for LSTM: the views returned), with a
-- kept zero state for hx == nil. nil for what it does not cover (the usual
-- path then runs, raising for bad arguments). h and c may be the views the
-- previous call returned: the core reads them before it writes.
local function reuse_cell(self, x, hx, lstm)
  local R = self:_kept(x)
  if not R then
    if C.is_grad_enabled() or not C.is_tensor(x) or (x.ndim ~= 2 and x.ndim ~= 1) or
        x:size(x.ndim) ~= self.input_size then
      return nil
    end
    local dtype = x.dtype
    if dtype ~= "float32" and dtype ~= "float64" then return nil end
    local B, H = x.ndim == 2 and x:size(1) or 1, self.hidden_size
    -- (the states of an unbatched step are (H), of a batch (B, H))
    local shape = x.ndim == 2 and {B, H} or {H}
    R = self:_keep(x, lucid.empty({(lstm and 2 or 1) * B * H}, {dtype = dtype}))
    rawset(self, "_out_h", R:narrow(1, 1, B * H):view(shape))
    rawset(self, "_out_c", lstm and R:narrow(1, B * H + 1, B * H):view(shape) or false)
    rawset(self, "_zero", lucid.zeros(shape, {dtype = dtype}))
  end
  local zero = rawget(self, "_zero")
  local ok, h, c = split_state(hx, lstm, zero, lstm and zero or nil)
  if not ok then return nil end
  local H = self.hidden_size
  if x.ndim == 1 then
    if not state_fits(h, H) or (lstm and not state_fits(c, H)) then return nil end
  elseif not state_fits(h, x:size(1), H) or (lstm and not state_fits(c, x:size(1), H)) then
    return nil
  end
  local p = self._parameters
  C._rnn_cell_out(MODE_NUMBERS[self.mode], x, h, c, p.weight_ih, p.weight_hh, p.bias_ih, p.bias_hh, R,
    self.fname)
  if lstm then return rawget(self, "_out_h"), rawget(self, "_out_c") end
  return rawget(self, "_out_h")
end

function M.forward_cell(self, input, hx)
  local fname = self.fname
  local lstm = self.mode == "LSTM"
  if rawget(self, "_reuse") then
    local h1, c1 = reuse_cell(self, input, hx, lstm)
    if h1 then return h1, c1 end
  end
  if not C.is_tensor(input) then raise("%s: input must be a tensor, got %s", fname, args.describe(input)) end
  local nd = input:dim()
  if nd ~= 1 and nd ~= 2 then
    raise("%s: expected input to be 1-D (unbatched) or 2-D, got %d-D %s", fname, nd, shape_str(input))
  end
  local unbatched = nd == 1
  local x = unbatched and input:unsqueeze(1) or input
  if x.shape[2] ~= self.input_size then
    raise("%s: input %s: the last dim must be input_size %d, got %d", fname, shape_str(input),
      self.input_size, x.shape[2])
  end
  local B, H = x.shape[1], self.hidden_size
  local want = unbatched and {H} or {B, H}
  local h, c
  if hx == nil then
    h = lucid.zeros({B, H}, {dtype = x.dtype})
    if lstm then c = lucid.zeros({B, H}, {dtype = x.dtype}) end
  else
    if lstm then
      if type(hx) ~= "table" or C.is_tensor(hx) then
        raise("%s: hx must be a table {h, c}, got %s", fname, args.describe(hx))
      end
      h, c = hx[1], hx[2]
      check_state(fname, h, "h (hx[1])", want)
      check_state(fname, c, "c (hx[2])", want)
    else
      h = hx
      check_state(fname, h, "hx", want)
    end
    if unbatched then
      h = h:unsqueeze(1)
      if c then c = c:unsqueeze(1) end
    end
  end
  local p = self._parameters
  local op = lucid[CELL_OPS[self.mode]]
  local h1, c1
  if lstm then
    h1, c1 = op(x, {h, c}, p.weight_ih, p.weight_hh, p.bias_ih, p.bias_hh)
  else
    h1 = op(x, h, p.weight_ih, p.weight_hh, p.bias_ih, p.bias_hh)
  end
  if unbatched then
    h1 = h1:squeeze(1)
    if c1 then c1 = c1:squeeze(1) end
  end
  return h1, c1
end

function M.cell_repr(self)
  local s = string.format("%d, %d", self.input_size, self.hidden_size)
  if not self.bias then s = s .. ", bias=false" end
  if self.nonlinearity and self.nonlinearity ~= "tanh" then s = s .. ", nonlinearity=" .. self.nonlinearity end
  return s
end

-- A class made from the pieces above: kind "layer" or "cell".
function M.class(name, kind, mode_of, schema, names)
  local cls = nn.Module:extend(name)
  cls.schema = schema
  function cls:__init(...)
    local vals = {schema:parse(...)}
    local o = {}
    for i, n in ipairs(names) do o[n] = vals[i] end
    local init = kind == "layer" and M.init_layer or M.init_cell
    init(self, "nn." .. name, mode_of(o), o)
  end
  cls.forward = kind == "layer" and M.forward_layer or M.forward_cell
  -- PyTorch's packs weights for cuDNN; here they are always ready (a no-op
  -- kept so that ported code runs)
  if kind == "layer" then function cls.flatten_parameters() end end
  cls.extra_repr = kind == "layer" and M.layer_repr or M.cell_repr
  return cls
end

return M

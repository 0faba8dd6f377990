--- Part of lucid.nn.utils; help() and `make doc` read these comments.
-- @module lucid.nn.utils

-- nn.utils.rnn: PyTorch 1.13's torch.nn.utils.rnn. A PackedSequence holds
-- the steps of a batch of sequences of unequal lengths one after another
-- (data (N, *): step 1's rows, then step 2's, ...), batch_sizes (int64) the
-- rows per step, and the sort that put the batch in decreasing length
-- (sorted_indices, unsorted_indices, 1-based; nil when the input was sorted
-- already). nn.RNN, nn.LSTM and nn.GRU take one and give one back.
local lucid = require("lucid")
local args = require("lucid._args")
local C = require("lucid.core")
local raise = args.raise

local M = {}

local Packed = {__name = "PackedSequence"}
Packed.__index = Packed

local function new_packed(data, batch_sizes, sorted_indices, unsorted_indices)
  return setmetatable({data = data, batch_sizes = batch_sizes, sorted_indices = sorted_indices,
    unsorted_indices = unsorted_indices}, Packed)
end

-- The same packing around new data (an RNN's output).
function Packed:_with_data(data)
  return new_packed(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)
end

function Packed:__tostring()
  return string.format("PackedSequence(data=%s, batch_sizes=%s)", args.shape_str(self.data),
    tostring(self.batch_sizes))
end

--- A PackedSequence(data, batch_sizes [, sorted_indices, unsorted_indices]), as
-- PyTorch's; pack_padded_sequence and pack_sequence make them.
-- @function rnn.PackedSequence
-- @usage nn.utils.rnn.PackedSequence(data, batch_sizes [, sorted_indices, unsorted_indices])
-- @within nn: recurrent layers
function M.PackedSequence(data, batch_sizes, sorted_indices, unsorted_indices)
  if not C.is_tensor(data) then raise("nn.utils.rnn.PackedSequence: data must be a tensor") end
  if type(batch_sizes) == "table" and not C.is_tensor(batch_sizes) then
    batch_sizes = lucid.tensor(batch_sizes, {dtype = "int64"})
  end
  if sorted_indices and not unsorted_indices then
    unsorted_indices = lucid.argsort(sorted_indices)
  end
  return new_packed(data, batch_sizes, sorted_indices, unsorted_indices)
end

function M.is_packed(x) return getmetatable(x) == Packed end

local function tensor_list(fname, seqs)
  if type(seqs) ~= "table" or C.is_tensor(seqs) or #seqs == 0 then
    raise("%s: sequences must be a non-empty array of tensors, got %s", fname, args.describe(seqs))
  end
  for i, s in ipairs(seqs) do
    if not C.is_tensor(s) or s:dim() < 1 then
      raise("%s: sequences[%d] must be a tensor of at least 1 dim, got %s", fname, i, args.describe(s))
    end
  end
  return seqs
end

M.schemas = {
  pad_sequence = args.schema("nn.utils.rnn.pad_sequence", {
    {"sequences", args.REQUIRED, "table"}, {"batch_first", false, "boolean"},
    {"padding_value", 0, "number"},
  }),
  pack_padded_sequence = args.schema("nn.utils.rnn.pack_padded_sequence", {
    {"input", args.REQUIRED, "tensor"}, {"lengths", args.REQUIRED},
    {"batch_first", false, "boolean"}, {"enforce_sorted", true, "boolean"},
  }),
  pad_packed_sequence = args.schema("nn.utils.rnn.pad_packed_sequence", {
    {"sequence", args.REQUIRED}, {"batch_first", false, "boolean"},
    {"padding_value", 0, "number"}, {"total_length", nil, "posint"},
  }),
  pack_sequence = args.schema("nn.utils.rnn.pack_sequence", {
    {"sequences", args.REQUIRED, "table"}, {"enforce_sorted", true, "boolean"},
  }),
}

--- Pads an array of tensors (L_i, *) with padding_value to (max L, B, *), or
-- (B, max L, *) with batch_first.
-- @function rnn.pad_sequence
-- @usage nn.utils.rnn.pad_sequence(sequences [, batch_first = false, padding_value = 0])
-- @within nn: recurrent layers
function M.pad_sequence(...)
  local fname = "nn.utils.rnn.pad_sequence"
  local seqs, batch_first, value = M.schemas.pad_sequence:parse(...)
  tensor_list(fname, seqs)
  local trail = seqs[1].shape
  table.remove(trail, 1)
  local maxlen = 0
  for i, s in ipairs(seqs) do
    local sh = s.shape
    table.remove(sh, 1)
    if args.shape_str(sh) ~= args.shape_str(trail) then
      raise("%s: sequences[%d] %s does not match sequences[1] %s past the first dim", fname, i,
        args.shape_str(s), args.shape_str(seqs[1]))
    end
    if s.shape[1] > maxlen then maxlen = s.shape[1] end
  end
  local rows = {}
  for i, s in ipairs(seqs) do
    local n = s.shape[1]
    if n < maxlen then
      local pshape = {maxlen - n}
      for _, d in ipairs(trail) do pshape[#pshape + 1] = d end
      s = lucid.cat({s, lucid.full(pshape, value, {dtype = s.dtype})}, 1)
    end
    rows[i] = s
  end
  return lucid.stack(rows, batch_first and 1 or 2)
end

local function lengths_of(fname, lengths)
  local l = {}
  if C.is_tensor(lengths) then
    if lengths:dim() ~= 1 then raise("%s: lengths must be 1-D, got %s", fname, args.shape_str(lengths)) end
    for i = 1, lengths.shape[1] do l[i] = lengths[i]:item() end
  elseif type(lengths) == "table" then
    for i, v in ipairs(lengths) do
      local n = args.int_of(v)
      if not n then raise("%s: lengths[%d] must be an integer, got %s", fname, i, args.describe(v)) end
      l[i] = n
    end
  else
    raise("%s: lengths must be a table of integers or a tensor, got %s", fname, args.describe(lengths))
  end
  return l
end

--- Packs a padded batch (T, B, *) (or (B, T, *) with batch_first) of sequences of
-- the given lengths. With enforce_sorted the lengths must be decreasing; else the
-- batch is sorted and the PackedSequence keeps the order to undo it.
-- @function rnn.pack_padded_sequence
-- @usage nn.utils.rnn.pack_padded_sequence(input, lengths [, batch_first = false, enforce_sorted = true])
-- @within nn: recurrent layers
function M.pack_padded_sequence(...)
  local fname = "nn.utils.rnn.pack_padded_sequence"
  local input, lengths, batch_first, enforce_sorted = M.schemas.pack_padded_sequence:parse(...)
  local len = lengths_of(fname, lengths)
  if input:dim() < 2 then raise("%s: input must have at least 2 dims, got %s", fname, args.shape_str(input)) end
  local x = batch_first and input:transpose(1, 2) or input
  local T, B = x.shape[1], x.shape[2]
  if #len ~= B then
    raise("%s: expected %d lengths (the batch of input %s), got %d", fname, B, args.shape_str(input), #len)
  end
  local order = {}
  for i = 1, B do
    if len[i] < 1 or len[i] > T then
      raise("%s: lengths[%d] = %d: every length must be between 1 and the padded length %d", fname, i,
        len[i], T)
    end
    order[i] = i
  end
  local sorted_indices, unsorted_indices
  if enforce_sorted then
    for i = 2, B do
      if len[i] > len[i - 1] then
        raise("%s: lengths must be sorted in decreasing order when enforce_sorted is true "
          .. "(lengths[%d] = %d > lengths[%d] = %d); pass enforce_sorted = false to sort them",
          fname, i, len[i], i - 1, len[i - 1])
      end
    end
  else
    table.sort(order, function(a, b)
      if len[a] ~= len[b] then return len[a] > len[b] end
      return a < b
    end)
    sorted_indices = lucid.tensor(order, {dtype = "int64"})
    unsorted_indices = lucid.argsort(sorted_indices)
  end
  local idx, bs = {}, {}
  for t = 1, len[order[1]] do
    local n = 0
    for j = 1, B do
      if len[order[j]] >= t then
        n = n + 1
        idx[#idx + 1] = (t - 1) * B + order[j]
      end
    end
    bs[t] = n
  end
  local shape = x.shape
  table.remove(shape, 1)
  shape[1] = T * B
  local data = x:reshape(shape):index_select(1, lucid.tensor(idx, {dtype = "int64"}))
  return new_packed(data, lucid.tensor(bs, {dtype = "int64"}), sorted_indices, unsorted_indices)
end

--- Unpacks a PackedSequence into a padded batch (T, B, *) (or (B, T, *)) in the
-- original order, and the lengths (int64). total_length pads T further.
-- @function rnn.pad_packed_sequence
-- @usage local padded, lengths = nn.utils.rnn.pad_packed_sequence(sequence [, batch_first = false, padding_value = 0, total_length])
-- @within nn: recurrent layers
function M.pad_packed_sequence(...)
  local fname = "nn.utils.rnn.pad_packed_sequence"
  local seq, batch_first, value, total_length = M.schemas.pad_packed_sequence:parse(...)
  if not M.is_packed(seq) then raise("%s: sequence must be a PackedSequence, got %s", fname, args.describe(seq)) end
  local data = seq.data
  local bs = {}
  for t = 1, seq.batch_sizes.shape[1] do bs[t] = seq.batch_sizes[t]:item() end
  local T, B = #bs, bs[1]
  if total_length and total_length < T then
    raise("%s: total_length %d is less than the longest sequence, %d", fname, total_length, T)
  end
  local trail = data.shape
  table.remove(trail, 1)
  local steps, off = {}, 0
  for t = 1, T do
    local rows = data:narrow(1, off + 1, bs[t])
    off = off + bs[t]
    if bs[t] < B then
      local pshape = {B - bs[t]}
      for _, d in ipairs(trail) do pshape[#pshape + 1] = d end
      rows = lucid.cat({rows, lucid.full(pshape, value, {dtype = data.dtype})}, 1)
    end
    steps[t] = rows
  end
  local padded = lucid.stack(steps, 1)
  if total_length and total_length > T then
    local pshape = {total_length - T, B}
    for _, d in ipairs(trail) do pshape[#pshape + 1] = d end
    padded = lucid.cat({padded, lucid.full(pshape, value, {dtype = data.dtype})}, 1)
  end
  local lengths = {}
  for j = 1, B do
    local n = 0
    for t = 1, T do if bs[t] >= j then n = t end end
    lengths[j] = n
  end
  local lt = lucid.tensor(lengths, {dtype = "int64"})
  if seq.unsorted_indices then
    padded = padded:index_select(2, seq.unsorted_indices)
    lt = lt:index_select(1, seq.unsorted_indices)
  end
  if batch_first then padded = padded:transpose(1, 2) end
  return padded, lt
end

--- Packs an array of tensors (L_i, *) of unequal lengths: pad_sequence, then
-- pack_padded_sequence.
-- @function rnn.pack_sequence
-- @usage nn.utils.rnn.pack_sequence(sequences [, enforce_sorted = true])
-- @within nn: recurrent layers
function M.pack_sequence(...)
  local fname = "nn.utils.rnn.pack_sequence"
  local seqs, enforce_sorted = M.schemas.pack_sequence:parse(...)
  tensor_list(fname, seqs)
  local lengths = {}
  for i, s in ipairs(seqs) do lengths[i] = s.shape[1] end
  return M.pack_padded_sequence(M.pad_sequence(seqs), lengths, {enforce_sorted = enforce_sorted})
end

return M

-- lucid.nn._attention: scaled dot-product attention and the forward of
-- nn.MultiheadAttention, as batched GEMMs (lucid.matmul, on BLAS) around the
-- core's fused masked softmax (lucid.masked_softmax: scale, mask and
-- softmax in one pass, with a one-pass backward). nn.functional merges
-- scaled_dot_product_attention from here.
--
-- Masks follow the library's rule, which is PyTorch 1.13's for
-- key_padding_mask and MultiheadAttention's attn_mask: a bool mask is true
-- where a position is masked out, a float mask is added to the scores.
-- (PyTorch 2.x's scaled_dot_product_attention reads a bool attn_mask the
-- other way round, true = takes part; here it is true = masked out, as
-- everywhere else in the library.)
local lucid = require("lucid")
local C = require("lucid.core")
local args = require("lucid._args")
local raise, shape_str = args.raise, args.shape_str

local M = {}

local masked_softmax, matmul = lucid.masked_softmax, lucid.matmul

-- Raises unless m is nil, a bool tensor or a float tensor of dtype.
local function check_mask(fname, what, m, dtype)
  if m == nil then return end
  if not C.is_tensor(m) then raise("%s: %s must be a tensor, got %s", fname, what, args.describe(m)) end
  if m.dtype ~= "bool" and m.dtype ~= dtype then
    raise("%s: %s must be bool (true: masked out) or %s like the query (added to the scores), got %s",
      fname, what, dtype, m.dtype)
  end
end
M.check_mask = check_mask

-- p's elements zeroed with probability p_drop, the rest scaled by 1 / (1 - p_drop).
local function dropout(x, p)
  if p == 0 then return x end
  if p == 1 then return x * 0 end
  return x * lucid.lt(lucid.rand_like(x), 1 - p) * (1 / (1 - p))
end
M.dropout = dropout

-- true above the diagonal of an (l, s) matrix: the causal mask (masked out).
local function causal_mask(l, s)
  local i = lucid.arange(1, l + 1, {dtype = "int64"}):reshape(l, 1)
  local j = lucid.arange(1, s + 1, {dtype = "int64"}):reshape(1, s)
  return i:lt(j)
end
M.causal_mask = causal_mask

local SDPA = args.schema("nn.functional.scaled_dot_product_attention", {
  {"query", args.REQUIRED, "tensor"},
  {"key", args.REQUIRED, "tensor"},
  {"value", args.REQUIRED, "tensor"},
  {"attn_mask", nil, "tensor"},
  {"dropout_p", 0, "probability"},
  {"is_causal", false, "boolean"},
  {"scale", nil, "number", keyword = true},
})

-- softmax(Q K^T * scale + mask) V: the LDoc text is in nn/functional.lua.
function M.scaled_dot_product_attention(...)
  local q, k, v, mask, p, causal, scale = SDPA:parse(...)
  local fname = SDPA.name
  if q.dtype ~= "float32" and q.dtype ~= "float64" then
    raise("%s: query must be float32 or float64, got %s", fname, q.dtype)
  end
  if k.dtype ~= q.dtype or v.dtype ~= q.dtype then
    raise("%s: query, key and value must share a dtype, got %s, %s and %s", fname, q.dtype, k.dtype, v.dtype)
  end
  if q.ndim < 2 or k.ndim < 2 or v.ndim < 2 then
    raise("%s: query %s, key %s and value %s need at least 2 dims (..., L, E)", fname, shape_str(q),
      shape_str(k), shape_str(v))
  end
  local qs, ks, vs = q.shape, k.shape, v.shape
  local l, e, s = qs[#qs - 1], qs[#qs], ks[#ks - 1]
  if ks[#ks] ~= e then
    raise("%s: query %s and key %s must end with the same size E (%d ~= %d)", fname, shape_str(q),
      shape_str(k), e, ks[#ks])
  end
  if vs[#vs - 1] ~= s then
    raise("%s: key %s and value %s must have the same length S (%d ~= %d)", fname, shape_str(k),
      shape_str(v), s, vs[#vs - 1])
  end
  check_mask(fname, "attn_mask", mask, q.dtype)
  if causal then
    if mask ~= nil then raise("%s: attn_mask cannot be given with is_causal = true", fname) end
    mask = causal_mask(l, s)
  end
  if scale == nil then scale = 1 / math.sqrt(e) end
  local scores = matmul(q, k:transpose(-2, -1))
  if mask ~= nil then
    local ms, ss, ok = mask.shape, scores.shape, mask.ndim <= scores.ndim
    for i = 0, mask.ndim - 1 do
      local dm = ms[#ms - i]
      ok = ok and (dm == 1 or dm == ss[#ss - i])
    end
    if not ok then
      raise("%s: attn_mask %s does not broadcast to the scores %s (..., L, S)", fname, shape_str(mask),
        shape_str(scores))
    end
  end
  return matmul(dropout(masked_softmax(scores, mask, scale), p), v)
end

-- ---- nn.MultiheadAttention's forward ------------------------------------------------

-- m with one more element (zero or false) at the end of its last dim.
local function pad_last(m)
  local shape = m.shape
  shape[#shape] = 1
  return lucid.cat({m, lucid.zeros(shape, {dtype = m.dtype})}, -1)
end

-- One mask of a and b (either may be nil): two bool masks or'ed, otherwise
-- both made additive and summed.
local function merge_masks(a, b, dtype)
  if a == nil or b == nil then return a or b end
  if a.dtype == "bool" and b.dtype == "bool" then return a:logical_or(b) end
  local function additive(m)
    if m.dtype ~= "bool" then return m end
    return lucid.zeros(m.shape, {dtype = dtype}):masked_fill(m, -math.huge)
  end
  return additive(a) + additive(b)
end

-- ---- MultiheadAttention under reuse_buffers ---------------------------------------------
-- Every tensor of the forward is a buffer kept in self._attn (made again
-- when the shapes, dtype or weights change), and so is every view of one:
-- a view is a new tensor header, counted as tensor memory. The projections
-- write into one (L, N, 3E) buffer for self-attention (three for
-- cross-attention), whose per-head views (N, H, len, hd) feed the scores'
-- product; the masked softmax runs in place on the scores; the heads are
-- merged by copying the product with V into a head view of the buffer the
-- output projection reads.

-- buf (len, n, H * hd), (n, len, ...) when batch_first, (len, ...) when
-- unbatched, seen as (n, H, len, hd).
local function heads(buf, len, n, H, hd, bf, unbatched)
  if unbatched then return buf:view(len, 1, H, hd):permute(2, 3, 1, 4) end
  if bf then return buf:view(n, len, H, hd):permute(1, 3, 2, 4) end
  return buf:view(len, n, H, hd):permute(2, 3, 1, 4)
end

-- A tensor of shape lead[1..k] .. {last}.
local function buffer(lead, k, last, dtype)
  local shape = {}
  for i = 1, k do shape[i] = lead[i] end
  shape[k + 1] = last
  return C.empty(shape, {dtype = dtype})
end

-- The weights of the reusing path: the scores buffer itself (N, H, L, S),
-- or their mean over the heads, one GEMM of a (1, H) row of 1 / H with the
-- scores seen as (N, H, L S) into a kept (N, 1, L S); views for an
-- unbatched call. Made once per buffers (st).
local function reuse_weights(st, average, unbatched, H, dtype)
  local N, L, S = st.N, st.L, st.S
  if average then
    if st.avg == nil then
      st.avg_row = lucid.full({1, H}, 1 / H, {dtype = dtype})
      st.scores_flat = st.scores:view(N, H, L * S)
      st.avg = C.empty({N, 1, L * S}, {dtype = dtype})
      st.avg_out = unbatched and st.avg:view(L, S) or st.avg:view(N, L, S)
    end
    matmul(st.avg_row, st.scores_flat, st.avg)
    return st.avg_out
  end
  if not unbatched then return st.scores end
  if st.scores_out == nil then st.scores_out = st.scores:view(H, L, S) end
  return st.scores_out
end

-- The output and weights (nil unless wanted), or nil for a case this path
-- leaves to the usual one (which also raises the errors). The caller
-- checked: reuse on, recording off.
local function reuse_forward(self, query, key, value, kpm, attn_mask, need_weights, average)
  local p = self._parameters
  if p.bias_k or self.add_zero_attn or (self.training and self.dropout > 0) or
      (kpm ~= nil and attn_mask ~= nil) then
    return nil
  end
  local dtype, qd = query.dtype, query.ndim
  if (dtype ~= "float32" and dtype ~= "float64") or key.ndim ~= qd or value.ndim ~= qd or
      key.dtype ~= dtype or value.dtype ~= dtype or (qd ~= 2 and qd ~= 3) then
    return nil
  end
  -- weights of another dtype (the usual path names the error); this also
  -- keeps views of weights that Module:to converted in place from being used
  if (p.in_proj_weight or p.q_proj_weight).dtype ~= dtype then return nil end
  local E, H, hd = self.embed_dim, self.num_heads, self.head_dim
  local unbatched, bf = qd == 2, self.batch_first and qd == 3
  local L, N, S
  if unbatched then
    L, N, S = query:size(1), 1, key:size(1)
    if value:size(1) ~= S then return nil end
  else
    local t, b = bf and 2 or 1, bf and 1 or 2
    L, N, S = query:size(t), query:size(b), key:size(t)
    if value:size(t) ~= S or key:size(b) ~= N or value:size(b) ~= N then return nil end
  end
  if query:size(qd) ~= E or key:size(qd) ~= self.kdim or value:size(qd) ~= self.vdim then return nil end
  local same = rawequal(query, key) and rawequal(key, value)
  local w, b = p.in_proj_weight, p.in_proj_bias
  local st = rawget(self, "_attn")
  if st == nil or st.dtype ~= dtype or st.qd ~= qd or st.bf ~= bf or st.L ~= L or st.N ~= N or st.S ~= S or
      st.same ~= same or not rawequal(st.w, w) or not rawequal(st.b, b) then
    local lq, lk = query.shape, key.shape
    st = {dtype = dtype, qd = qd, bf = bf, L = L, N = N, S = S, same = same, w = w, b = b}
    if same then
      st.qkv = buffer(lq, qd - 1, 3 * E, dtype)
      st.q = heads(st.qkv:narrow(qd, 1, E), L, N, H, hd, bf, unbatched)
      st.kt = heads(st.qkv:narrow(qd, E + 1, E), S, N, H, hd, bf, unbatched):transpose(3, 4)
      st.v = heads(st.qkv:narrow(qd, 2 * E + 1, E), S, N, H, hd, bf, unbatched)
    else
      st.qb, st.kb, st.vb = buffer(lq, qd - 1, E, dtype), buffer(lk, qd - 1, E, dtype), buffer(lk, qd - 1, E, dtype)
      st.q = heads(st.qb, L, N, H, hd, bf, unbatched)
      st.kt = heads(st.kb, S, N, H, hd, bf, unbatched):transpose(3, 4)
      st.v = heads(st.vb, S, N, H, hd, bf, unbatched)
      if w then
        st.wq, st.wk, st.wv = w:narrow(1, 1, E), w:narrow(1, E + 1, E), w:narrow(1, 2 * E + 1, E)
      else
        st.wq, st.wk, st.wv = p.q_proj_weight, p.k_proj_weight, p.v_proj_weight
      end
      if b then st.bq, st.bk, st.bv = b:narrow(1, 1, E), b:narrow(1, E + 1, E), b:narrow(1, 2 * E + 1, E) end
    end
    st.scores = C.empty({N, H, L, S}, {dtype = dtype})
    st.ctx = C.empty({N, H, L, hd}, {dtype = dtype})
    st.merged = buffer(lq, qd - 1, E, dtype)
    st.merged_heads = heads(st.merged, L, N, H, hd, bf, unbatched)
    st.out = buffer(lq, qd - 1, E, dtype)
    rawset(self, "_attn", st)
  end
  -- masks as views that broadcast to the scores (N, H, L, S), kept per mask tensor
  local mask = attn_mask or kpm
  if mask ~= nil then
    local md = mask.ndim
    if attn_mask ~= nil then
      if md == 2 then
        if mask:size(1) ~= L or mask:size(2) ~= S then return nil end
      elseif md == 3 and mask:size(1) == N * H and mask:size(2) == L and mask:size(3) == S then
        if not rawequal(st.mask_in, mask) then st.mask_in, st.mask_v = mask, mask:reshape(N, H, L, S) end
        mask = st.mask_v
      else
        return nil
      end
    elseif unbatched then
      if md ~= 1 or mask:size(1) ~= S then return nil end
    else
      if md ~= 2 or mask:size(1) ~= N or mask:size(2) ~= S then return nil end
      if not rawequal(st.mask_in, mask) then st.mask_in, st.mask_v = mask, mask:reshape(N, 1, 1, S) end
      mask = st.mask_v
    end
  end
  if same then
    lucid.linear(query, w, b, st.qkv)
  else
    lucid.linear(query, st.wq, st.bq, st.qb)
    lucid.linear(key, st.wk, st.bk, st.kb)
    lucid.linear(value, st.wv, st.bv, st.vb)
  end
  local scores = st.scores
  matmul(st.q, st.kt, scores)
  masked_softmax(scores, mask, 1 / math.sqrt(hd), scores)
  matmul(scores, st.v, st.ctx)
  st.merged_heads:copy_(st.ctx)
  local op = self.out_proj
  local out = lucid.linear(st.merged, op.weight, op.bias, st.out)
  if not need_weights then return out, nil end
  return out, reuse_weights(st, average, unbatched, H, dtype)
end

-- The forward of nn.MultiheadAttention (PyTorch 1.13's
-- multi_head_attention_forward), with heads as a dim of their own: q, k, v
-- are (N, H, L, hd) and the masks broadcast to the scores (N, H, L, S).
function M.multihead_forward(self, query, key, value, kpm, need_weights, attn_mask, average)
  local fname = "nn.MultiheadAttention"
  local E, H = self.embed_dim, self.num_heads
  local hd = self.head_dim
  local qd = query.ndim
  if qd ~= 2 and qd ~= 3 then
    raise("%s: query %s must be 3-D (batched) or 2-D (unbatched)", fname, shape_str(query))
  end
  if key.ndim ~= qd or value.ndim ~= qd then
    raise("%s: query %s, key %s and value %s must have the same number of dims", fname, shape_str(query),
      shape_str(key), shape_str(value))
  end
  local dtype = query.dtype
  if key.dtype ~= dtype or value.dtype ~= dtype then
    raise("%s: query, key and value must share a dtype, got %s, %s and %s", fname, dtype, key.dtype, value.dtype)
  end
  check_mask(fname, "key_padding_mask", kpm, dtype)
  check_mask(fname, "attn_mask", attn_mask, dtype)
  if rawget(self, "_reuse") and not C.is_grad_enabled() then
    local out, weights = reuse_forward(self, query, key, value, kpm, attn_mask, need_weights, average)
    if out ~= nil then return out, weights end
  end
  local batched = qd == 3
  -- self-attention: one tensor, one projection GEMM (kept through the layout changes)
  local same = rawequal(query, key) and rawequal(key, value)
  if not batched then  -- one sequence: a batch of one in the middle (PyTorch's layout)
    query, key, value = query:unsqueeze(2), key:unsqueeze(2), value:unsqueeze(2)
    if kpm ~= nil then
      if kpm.ndim ~= 1 then
        raise("%s: key_padding_mask %s of an unbatched input must be 1-D (S)", fname, shape_str(kpm))
      end
      kpm = kpm:unsqueeze(1)
    end
  elseif self.batch_first then
    query, key, value = query:transpose(1, 2), key:transpose(1, 2), value:transpose(1, 2)
  end
  local qs, ks, vs = query.shape, key.shape, value.shape
  local L, N, S = qs[1], qs[2], ks[1]
  if qs[3] ~= E then
    raise("%s: query %s must end with embed_dim %d", fname, shape_str(qs), E)
  end
  if ks[3] ~= self.kdim or vs[3] ~= self.vdim then
    raise("%s: key %s and value %s must end with kdim %d and vdim %d", fname, shape_str(ks), shape_str(vs),
      self.kdim, self.vdim)
  end
  if ks[1] ~= vs[1] or ks[2] ~= N or vs[2] ~= N then
    raise("%s: key %s and value %s must have the same length and the batch size of query %s", fname,
      shape_str(ks), shape_str(vs), shape_str(qs))
  end
  -- masks to shapes that broadcast to the scores (N, H, L, S)
  if attn_mask ~= nil then
    local as = attn_mask.shape
    if attn_mask.ndim == 2 then
      if as[1] ~= L or as[2] ~= S then
        raise("%s: the 2-D attn_mask is %s, expected {%d, %d} (L, S)", fname, shape_str(as), L, S)
      end
    elseif attn_mask.ndim == 3 then
      if as[1] ~= N * H or as[2] ~= L or as[3] ~= S then
        raise("%s: the 3-D attn_mask is %s, expected {%d, %d, %d} (N * num_heads, L, S)", fname,
          shape_str(as), N * H, L, S)
      end
      attn_mask = attn_mask:reshape(N, H, L, S)
    else
      raise("%s: attn_mask %s must be 2-D or 3-D", fname, shape_str(as))
    end
  end
  if kpm ~= nil then
    if kpm.ndim ~= 2 or kpm.shape[1] ~= N or kpm.shape[2] ~= S then
      raise("%s: key_padding_mask is %s, expected {%d, %d} (N, S)", fname, shape_str(kpm), N, S)
    end
    kpm = kpm:reshape(N, 1, 1, S)
  end
  -- the input projections: one GEMM when query, key and value are one tensor
  local p = self._parameters
  local b = p.in_proj_bias
  local bq, bk, bv
  if b then bq, bk, bv = b:narrow(1, 1, E), b:narrow(1, E + 1, E), b:narrow(1, 2 * E + 1, E) end
  local q, k, v
  if p.in_proj_weight then
    local w = p.in_proj_weight
    if same then
      local qkv = lucid.linear(query, w, b)
      q, k, v = qkv:narrow(3, 1, E), qkv:narrow(3, E + 1, E), qkv:narrow(3, 2 * E + 1, E)
    else
      q = lucid.linear(query, w:narrow(1, 1, E), bq)
      k = lucid.linear(key, w:narrow(1, E + 1, E), bk)
      v = lucid.linear(value, w:narrow(1, 2 * E + 1, E), bv)
    end
  else
    q = lucid.linear(query, p.q_proj_weight, bq)
    k = lucid.linear(key, p.k_proj_weight, bk)
    v = lucid.linear(value, p.v_proj_weight, bv)
  end
  if p.bias_k then
    k = lucid.cat({k, p.bias_k:expand(1, N, E)}, 1)
    v = lucid.cat({v, p.bias_v:expand(1, N, E)}, 1)
    if attn_mask ~= nil then attn_mask = pad_last(attn_mask) end
    if kpm ~= nil then kpm = pad_last(kpm) end
    S = S + 1
  end
  -- (len, N, E) -> (N, H, len, hd)
  q = q:reshape(L, N, H, hd):permute(2, 3, 1, 4)
  k = k:reshape(S, N, H, hd):permute(2, 3, 1, 4)
  v = v:reshape(S, N, H, hd):permute(2, 3, 1, 4)
  if self.add_zero_attn then
    local z = lucid.zeros({N, H, 1, hd}, {dtype = dtype})
    k, v = lucid.cat({k, z}, 3), lucid.cat({v, z}, 3)
    if attn_mask ~= nil then attn_mask = pad_last(attn_mask) end
    if kpm ~= nil then kpm = pad_last(kpm) end
  end
  local mask = merge_masks(attn_mask, kpm, dtype)
  local weights = masked_softmax(matmul(q, k:transpose(3, 4)), mask, 1 / math.sqrt(hd))
  if self.training and self.dropout > 0 then weights = dropout(weights, self.dropout) end
  -- (N, H, L, hd) -> (L, N, E), then the output projection
  local out = matmul(weights, v):permute(3, 1, 2, 4):reshape(L, N, E)
  out = self.out_proj(out)
  if not batched then
    out = out:squeeze(2)
  elseif self.batch_first then
    out = out:transpose(1, 2)
  end
  if not need_weights then return out, nil end
  if average then weights = weights:mean(2) end  -- (N, L, S)
  if not batched then weights = weights:squeeze(1) end
  return out, weights
end

-- ---- what the transformer layers share ------------------------------------------------

-- An activation option: "relu", "gelu" or a function (or callable module).
function M.activation_check(v, name)
  if v == "relu" or v == "gelu" or args.callable(v) then return nil end
  return name .. ' must be "relu", "gelu" or a function, got ' .. (type(v) == "string" and '"' .. v .. '"' or
    args.describe(v))
end

function M.activation_fn(v)
  if v == "relu" then return lucid.relu end
  if v == "gelu" then return lucid.gelu end
  return v
end

-- Under reuse_buffers (recording off) a transformer layer is reusing: it
-- applies a "relu" or "gelu" activation in place and adds each residual
-- into the sublayer's result.
function M.reusing(self)
  return rawget(self, "_reuse") ~= nil and not C.is_grad_enabled()
end

-- act(h); when reusing, relu and gelu in place on h (linear1's buffer).
function M.activate(act, h, reusing)
  if reusing and (h.dtype == "float32" or h.dtype == "float64") then
    if act == lucid.relu then return lucid.relu(h, h) end
    if act == lucid.gelu then return lucid.gelu(h, "none", h) end
  end
  return act(h)
end

-- x + y; when reusing, added into y in place: y is a block's result, a
-- buffer of its last layer (or a fresh tensor), which nothing else reads.
function M.residual(x, y, reusing)
  if reusing then return y:add_(x) end
  return x + y
end

-- n copies of layer (PyTorch's deepcopy in _get_clones): the same class
-- built from the same options, with the layer's values loaded.
function M.clones(fname, layer, n)
  if type(layer) ~= "table" or type(layer._clone) ~= "function" then
    raise("%s: expected a layer made by nn.TransformerEncoderLayer or nn.TransformerDecoderLayer, got %s",
      fname, args.describe(layer))
  end
  local list = {}
  for i = 1, n do list[i] = layer:_clone() end
  return list
end

return M

--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.MultiheadAttention(embed_dim, num_heads [, dropout, bias, add_bias_kv,
-- add_zero_attn, kdim, vdim, batch_first] [, {dtype =}]): PyTorch 1.13's
-- layer, parameters, initialisation and state-dict keys; the forward is in
-- nn/_attention.lua.
local lucid = require("lucid")
local nn = require("lucid.nn")
local args = require("lucid._args")
local attention = require("lucid.nn._attention")
local raise = args.raise

--- Multi-head attention, PyTorch 1.13's: out, weights = mha(query, key, value
-- [, key_padding_mask, need_weights = true, attn_mask, average_attn_weights =
-- true]). query (L, N, embed_dim), key (S, N, kdim), value (S, N, vdim), or (N,
-- L, E) ... with batch_first, or unbatched (L, E); out has query's layout;
-- weights (N, L, S) averaged over heads, or (N, num_heads, L, S), or nil when
-- need_weights is false. key_padding_mask (N, S) and attn_mask (L, S) or (N *
-- num_heads, L, S) are bool (true: masked out) or float (added to the scores);
-- two masks are combined (or'ed when both are bool, else added). Parameters:
-- in_proj_weight (3 E, E) (or q_proj_weight, k_proj_weight, v_proj_weight when
-- kdim or vdim differ from embed_dim), in_proj_bias (3 E), bias_k and bias_v (1,
-- 1, E) with add_bias_kv, out_proj.weight and out_proj.bias; in_proj weights
-- from xavier_uniform_, biases zero, bias_k and bias_v from xavier_normal_, as
-- PyTorch. dropout applies to the attention weights in training mode. Under
-- Module:reuse_buffers, with at most one mask and neither add_bias_kv nor
-- add_zero_attn (and no dropout drawn), a call allocates no tensor memory
-- after the first: out and weights are kept buffers, overwritten by the
-- next call.
-- @function MultiheadAttention
-- @usage nn.MultiheadAttention(embed_dim, num_heads [, dropout = 0, bias = true, add_bias_kv = false, add_zero_attn = false, kdim, vdim, batch_first = false] [, {dtype =}])
-- @within nn: attention
local MHA = nn.Module:extend("MultiheadAttention")

MHA.schema = args.schema("nn.MultiheadAttention", {
  {"embed_dim", args.REQUIRED, "posint"},
  {"num_heads", args.REQUIRED, "posint"},
  {"dropout", 0, "probability"},
  {"bias", true, "boolean"},
  {"add_bias_kv", false, "boolean"},
  {"add_zero_attn", false, "boolean"},
  {"kdim", nil, "posint"},
  {"vdim", nil, "posint"},
  {"batch_first", false, "boolean"},
  {"dtype", nil, args.one_of("float32", "float64"), keyword = true},
  unsupported = {"device"},
})

function MHA:__init(...)
  local E, H, dropout, bias, add_bias_kv, add_zero_attn, kdim, vdim, batch_first, dtype = MHA.schema:parse(...)
  if E % H ~= 0 then
    raise("nn.MultiheadAttention: embed_dim (%d) must be divisible by num_heads (%d)", E, H)
  end
  self.embed_dim, self.num_heads, self.dropout, self.batch_first = E, H, dropout, batch_first
  self.head_dim = (E - E % H) / H
  self.kdim, self.vdim = kdim or E, vdim or E
  self._qkv_same_embed_dim = self.kdim == E and self.vdim == E
  self.add_zero_attn = add_zero_attn
  local init = nn.init
  if self._qkv_same_embed_dim then
    self.in_proj_weight = nn.Parameter(init.xavier_uniform_(lucid.empty(3 * E, E)))
  else
    self.q_proj_weight = nn.Parameter(init.xavier_uniform_(lucid.empty(E, E)))
    self.k_proj_weight = nn.Parameter(init.xavier_uniform_(lucid.empty(E, self.kdim)))
    self.v_proj_weight = nn.Parameter(init.xavier_uniform_(lucid.empty(E, self.vdim)))
  end
  if bias then self.in_proj_bias = nn.Parameter(lucid.zeros(3 * E)) end
  self.out_proj = nn.Linear(E, E, bias)
  if bias then init.zeros_(self.out_proj.bias) end
  if add_bias_kv then
    self.bias_k = nn.Parameter(init.xavier_normal_(lucid.empty(1, 1, E)))
    self.bias_v = nn.Parameter(init.xavier_normal_(lucid.empty(1, 1, E)))
  end
  if dtype then self:to(dtype) end
end

MHA.forward_schema = args.schema("nn.MultiheadAttention.forward", {
  {"query", args.REQUIRED, "tensor"},
  {"key", args.REQUIRED, "tensor"},
  {"value", args.REQUIRED, "tensor"},
  {"key_padding_mask", nil, "tensor"},
  {"need_weights", true, "boolean"},
  {"attn_mask", nil, "tensor"},
  {"average_attn_weights", true, "boolean"},
})

function MHA:forward(...)
  return attention.multihead_forward(self, MHA.forward_schema:parse(...))
end

return MHA

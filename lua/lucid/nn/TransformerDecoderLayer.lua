--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.TransformerDecoderLayer: self-attention, attention over the encoder's
-- output (memory) and a feed-forward block, each with dropout, a residual
-- connection and a LayerNorm, as PyTorch 1.13's, with its submodule names.
local nn = require("lucid.nn")
local args = require("lucid._args")
local attention = require("lucid.nn._attention")

--- PyTorch 1.13's decoder layer: x = norm1(x + sa(x)), x = norm2(x + mha(x, memory)),
-- x = norm3(x + ff(x)), or with norm_first each block reads normK(x) and adds to x.
-- Submodules self_attn, multihead_attn, linear1, dropout, linear2, norm1, norm2,
-- norm3, dropout1, dropout2, dropout3. forward(tgt, memory [, tgt_mask, memory_mask,
-- tgt_key_padding_mask, memory_key_padding_mask]).
-- @function TransformerDecoderLayer
-- @usage nn.TransformerDecoderLayer(d_model, nhead [, dim_feedforward = 2048, dropout = 0.1, activation = "relu", layer_norm_eps = 1e-5, batch_first = false, norm_first = false] [, {dtype =}])
-- @within nn: attention
local Layer = nn.Module:extend("TransformerDecoderLayer")

Layer.schema = args.schema("nn.TransformerDecoderLayer", {
  {"d_model", args.REQUIRED, "posint"},
  {"nhead", args.REQUIRED, "posint"},
  {"dim_feedforward", 2048, "posint"},
  {"dropout", 0.1, "probability"},
  {"activation", "relu", attention.activation_check},
  {"layer_norm_eps", 1e-5, "positive"},
  {"batch_first", false, "boolean"},
  {"norm_first", false, "boolean"},
  {"dtype", nil, args.one_of("float32", "float64"), keyword = true},
  unsupported = {"device"},
})

function Layer:__init(...)
  local o = Layer.schema:table(...)
  rawset(self, "_options", o)
  local mha = {dropout = o.dropout, batch_first = o.batch_first}
  self.self_attn = nn.MultiheadAttention(o.d_model, o.nhead, mha)
  self.multihead_attn = nn.MultiheadAttention(o.d_model, o.nhead, mha)
  self.linear1 = nn.Linear(o.d_model, o.dim_feedforward)
  self.dropout = nn.Dropout(o.dropout)
  self.linear2 = nn.Linear(o.dim_feedforward, o.d_model)
  self.norm_first = o.norm_first
  self.norm1 = nn.LayerNorm(o.d_model, o.layer_norm_eps)
  self.norm2 = nn.LayerNorm(o.d_model, o.layer_norm_eps)
  self.norm3 = nn.LayerNorm(o.d_model, o.layer_norm_eps)
  self.dropout1 = nn.Dropout(o.dropout)
  self.dropout2 = nn.Dropout(o.dropout)
  self.dropout3 = nn.Dropout(o.dropout)
  self.activation = attention.activation_fn(o.activation)
  if o.dtype then self:to(o.dtype) end
end

-- A new layer of the same options and values (nn.TransformerDecoder's copies).
function Layer:_clone()
  local c = Layer(rawget(self, "_options"))
  c:load_state_dict(self:state_dict())
  c:to(self.linear1.weight.dtype)
  return c
end

Layer.forward_schema = args.schema("nn.TransformerDecoderLayer.forward", {
  {"tgt", args.REQUIRED, "tensor"},
  {"memory", args.REQUIRED, "tensor"},
  {"tgt_mask", nil, "tensor"},
  {"memory_mask", nil, "tensor"},
  {"tgt_key_padding_mask", nil, "tensor"},
  {"memory_key_padding_mask", nil, "tensor"},
})

function Layer:_sa_block(x, mask, kpm)
  local y = self.self_attn(x, x, x, {attn_mask = mask, key_padding_mask = kpm, need_weights = false})
  return self.dropout1(y)
end

function Layer:_mha_block(x, mem, mask, kpm)
  local y = self.multihead_attn(x, mem, mem, {attn_mask = mask, key_padding_mask = kpm, need_weights = false})
  return self.dropout2(y)
end

function Layer:_ff_block(x, reusing)
  local h = attention.activate(self.activation, self.linear1(x), reusing)
  return self.dropout3(self.linear2(self.dropout(h)))
end

function Layer:forward(...)
  local x, mem, tgt_mask, memory_mask, tgt_kpm, memory_kpm = Layer.forward_schema:parse(...)
  local reusing, residual = attention.reusing(self), attention.residual
  if self.norm_first then
    x = residual(x, self:_sa_block(self.norm1(x), tgt_mask, tgt_kpm), reusing)
    x = residual(x, self:_mha_block(self.norm2(x), mem, memory_mask, memory_kpm), reusing)
    return residual(x, self:_ff_block(self.norm3(x), reusing), reusing)
  end
  x = self.norm1(residual(x, self:_sa_block(x, tgt_mask, tgt_kpm), reusing))
  x = self.norm2(residual(x, self:_mha_block(x, mem, memory_mask, memory_kpm), reusing))
  return self.norm3(residual(x, self:_ff_block(x, reusing), reusing))
end

return Layer

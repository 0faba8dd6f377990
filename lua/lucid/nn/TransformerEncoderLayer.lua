--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.TransformerEncoderLayer: self-attention then a feed-forward block, each
-- with dropout, a residual connection and a LayerNorm (after, or before
-- with norm_first), as PyTorch 1.13's, with its submodule names.
local nn = require("lucid.nn")
local args = require("lucid._args")
local attention = require("lucid.nn._attention")

--- PyTorch 1.13's encoder layer: x = norm1(x + sa(x)), x = norm2(x + ff(x)), or with
-- norm_first x = x + sa(norm1(x)), x = x + ff(norm2(x)); ff(x) = linear2(dropout(
-- activation(linear1(x)))). Submodules self_attn, linear1, dropout, linear2, norm1,
-- norm2, dropout1, dropout2 (state-dict keys as PyTorch's). activation: "relu", "gelu"
-- or a function. forward(src [, src_mask, src_key_padding_mask]): masks as
-- nn.MultiheadAttention's (bool true = masked out, or float added).
-- @function TransformerEncoderLayer
-- @usage nn.TransformerEncoderLayer(d_model, nhead [, dim_feedforward = 2048, dropout = 0.1, activation = "relu", layer_norm_eps = 1e-5, batch_first = false, norm_first = false] [, {dtype =}])
-- @within nn: attention
local Layer = nn.Module:extend("TransformerEncoderLayer")

Layer.schema = args.schema("nn.TransformerEncoderLayer", {
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
  self.self_attn = nn.MultiheadAttention(o.d_model, o.nhead, {dropout = o.dropout, batch_first = o.batch_first})
  self.linear1 = nn.Linear(o.d_model, o.dim_feedforward)
  self.dropout = nn.Dropout(o.dropout)
  self.linear2 = nn.Linear(o.dim_feedforward, o.d_model)
  self.norm_first = o.norm_first
  self.norm1 = nn.LayerNorm(o.d_model, o.layer_norm_eps)
  self.norm2 = nn.LayerNorm(o.d_model, o.layer_norm_eps)
  self.dropout1 = nn.Dropout(o.dropout)
  self.dropout2 = nn.Dropout(o.dropout)
  self.activation = attention.activation_fn(o.activation)
  if o.dtype then self:to(o.dtype) end
end

-- A new layer of the same options and values (nn.TransformerEncoder's copies).
function Layer:_clone()
  local c = Layer(rawget(self, "_options"))
  c:load_state_dict(self:state_dict())
  c:to(self.linear1.weight.dtype)
  return c
end

Layer.forward_schema = args.schema("nn.TransformerEncoderLayer.forward", {
  {"src", args.REQUIRED, "tensor"},
  {"src_mask", nil, "tensor"},
  {"src_key_padding_mask", nil, "tensor"},
})

function Layer:_sa_block(x, mask, kpm)
  local y = self.self_attn(x, x, x, {attn_mask = mask, key_padding_mask = kpm, need_weights = false})
  return self.dropout1(y)
end

function Layer:_ff_block(x, reusing)
  local h = attention.activate(self.activation, self.linear1(x), reusing)
  return self.dropout2(self.linear2(self.dropout(h)))
end

function Layer:forward(...)
  local x, mask, kpm = Layer.forward_schema:parse(...)
  local reusing, residual = attention.reusing(self), attention.residual
  if self.norm_first then
    x = residual(x, self:_sa_block(self.norm1(x), mask, kpm), reusing)
    return residual(x, self:_ff_block(self.norm2(x), reusing), reusing)
  end
  x = self.norm1(residual(x, self:_sa_block(x, mask, kpm), reusing))
  return self.norm2(residual(x, self:_ff_block(x, reusing), reusing))
end

return Layer

--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.Transformer: PyTorch 1.13's encoder-decoder model, made of its
-- encoder and decoder stacks, each ending with a LayerNorm.
local lucid = require("lucid")
local nn = require("lucid.nn")
local args = require("lucid._args")
local attention = require("lucid.nn._attention")
local raise, shape_str = args.raise, args.shape_str

--- PyTorch 1.13's Transformer: encoder (nn.TransformerEncoder of
-- num_encoder_layers layers and a LayerNorm) and decoder (nn.TransformerDecoder of
-- num_decoder_layers layers and a LayerNorm); every parameter of 2 or more dims
-- drawn by xavier_uniform_, as PyTorch. forward(src, tgt [, src_mask, tgt_mask,
-- memory_mask, src_key_padding_mask, tgt_key_padding_mask, memory_key_padding_mask]).
-- custom_encoder and custom_decoder replace the stacks.
-- @function Transformer
-- @usage nn.Transformer([d_model = 512, nhead = 8, num_encoder_layers = 6, num_decoder_layers = 6, dim_feedforward = 2048, dropout = 0.1, activation = "relu", custom_encoder, custom_decoder, layer_norm_eps = 1e-5, batch_first = false, norm_first = false] [, {dtype =}])
-- @within nn: attention
local Transformer = nn.Module:extend("Transformer")

Transformer.schema = args.schema("nn.Transformer", {
  {"d_model", 512, "posint"},
  {"nhead", 8, "posint"},
  {"num_encoder_layers", 6, "posint"},
  {"num_decoder_layers", 6, "posint"},
  {"dim_feedforward", 2048, "posint"},
  {"dropout", 0.1, "probability"},
  {"activation", "relu", attention.activation_check},
  {"custom_encoder", nil, "callable"},
  {"custom_decoder", nil, "callable"},
  {"layer_norm_eps", 1e-5, "positive"},
  {"batch_first", false, "boolean"},
  {"norm_first", false, "boolean"},
  {"dtype", nil, args.one_of("float32", "float64"), keyword = true},
  unsupported = {"device"},
})

function Transformer:__init(...)
  local o = Transformer.schema:table(...)
  local lo = {d_model = o.d_model, nhead = o.nhead, dim_feedforward = o.dim_feedforward, dropout = o.dropout,
    activation = o.activation, layer_norm_eps = o.layer_norm_eps, batch_first = o.batch_first,
    norm_first = o.norm_first}
  self.encoder = o.custom_encoder or nn.TransformerEncoder(nn.TransformerEncoderLayer(lo),
    o.num_encoder_layers, nn.LayerNorm(o.d_model, o.layer_norm_eps))
  self.decoder = o.custom_decoder or nn.TransformerDecoder(nn.TransformerDecoderLayer(lo),
    o.num_decoder_layers, nn.LayerNorm(o.d_model, o.layer_norm_eps))
  for _, p in ipairs(self:parameters()) do
    if p.ndim > 1 then nn.init.xavier_uniform_(p) end
  end
  self.d_model, self.nhead, self.batch_first = o.d_model, o.nhead, o.batch_first
  if o.dtype then self:to(o.dtype) end
end

Transformer.forward_schema = args.schema("nn.Transformer.forward", {
  {"src", args.REQUIRED, "tensor"},
  {"tgt", args.REQUIRED, "tensor"},
  {"src_mask", nil, "tensor"},
  {"tgt_mask", nil, "tensor"},
  {"memory_mask", nil, "tensor"},
  {"src_key_padding_mask", nil, "tensor"},
  {"tgt_key_padding_mask", nil, "tensor"},
  {"memory_key_padding_mask", nil, "tensor"},
})

function Transformer:forward(...)
  local src, tgt, src_mask, tgt_mask, memory_mask, src_kpm, tgt_kpm, memory_kpm = Transformer.forward_schema:parse(...)
  local bdim = self.batch_first and 1 or 2
  if src.ndim == 3 and tgt.ndim == 3 and src.shape[bdim] ~= tgt.shape[bdim] then
    raise("nn.Transformer: the batch sizes of src %s and tgt %s differ", shape_str(src), shape_str(tgt))
  end
  if src.shape[src.ndim] ~= self.d_model or tgt.shape[tgt.ndim] ~= self.d_model then
    raise("nn.Transformer: src %s and tgt %s must end with d_model %d", shape_str(src), shape_str(tgt),
      self.d_model)
  end
  local memory = self.encoder(src, {mask = src_mask, src_key_padding_mask = src_kpm})
  return self.decoder(tgt, memory, {tgt_mask = tgt_mask, memory_mask = memory_mask,
    tgt_key_padding_mask = tgt_kpm, memory_key_padding_mask = memory_kpm})
end

local MASK = args.schema("nn.Transformer.generate_square_subsequent_mask", {
  {"sz", args.REQUIRED, "size"},
  {"dtype", nil, args.one_of("float32", "float64"), keyword = true},
})

--- A float (sz, sz) mask with -inf above the diagonal and 0 elsewhere, as PyTorch's:
-- added to the scores, it keeps each position from attending to later ones. dtype
-- defaults to the default dtype (a float mask must have the query's dtype).
-- @function Transformer.generate_square_subsequent_mask
-- @usage nn.Transformer.generate_square_subsequent_mask(sz [, {dtype =}])
-- @within nn: attention
function Transformer.generate_square_subsequent_mask(...)
  local n, dtype = MASK:parse(...)
  return lucid.zeros(n, n, {dtype = dtype}):masked_fill(attention.causal_mask(n, n), -math.huge)
end

return Transformer

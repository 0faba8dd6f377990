--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.TransformerDecoder(decoder_layer, num_layers [, norm]): num_layers
-- copies of the layer in a ModuleList `layers`, then an optional norm.
local nn = require("lucid.nn")
local args = require("lucid._args")
local attention = require("lucid.nn._attention")

--- A stack of num_layers copies of decoder_layer (an nn.TransformerDecoderLayer),
-- then norm if given; submodules layers ("layers.1. ...") and norm.
-- forward(tgt, memory [, tgt_mask, memory_mask, tgt_key_padding_mask,
-- memory_key_padding_mask]).
-- @function TransformerDecoder
-- @usage nn.TransformerDecoder(decoder_layer, num_layers [, norm])
-- @within nn: attention
local Decoder = nn.Module:extend("TransformerDecoder")

Decoder.schema = args.schema("nn.TransformerDecoder", {
  {"decoder_layer", args.REQUIRED, nil},
  {"num_layers", args.REQUIRED, "posint"},
  {"norm", nil, "callable"},
})

function Decoder:__init(...)
  local layer, n, norm = Decoder.schema:parse(...)
  self.layers = nn.ModuleList(attention.clones("nn.TransformerDecoder", layer, n))
  self.num_layers = n
  if norm ~= nil then self.norm = norm end
end

Decoder.forward_schema = args.schema("nn.TransformerDecoder.forward", {
  {"tgt", args.REQUIRED, "tensor"},
  {"memory", args.REQUIRED, "tensor"},
  {"tgt_mask", nil, "tensor"},
  {"memory_mask", nil, "tensor"},
  {"tgt_key_padding_mask", nil, "tensor"},
  {"memory_key_padding_mask", nil, "tensor"},
})

function Decoder:forward(...)
  local x, mem, tgt_mask, memory_mask, tgt_kpm, memory_kpm = Decoder.forward_schema:parse(...)
  for _, layer in self.layers:iter() do
    x = layer(x, mem, {tgt_mask = tgt_mask, memory_mask = memory_mask, tgt_key_padding_mask = tgt_kpm,
      memory_key_padding_mask = memory_kpm})
  end
  if self.norm then x = self.norm(x) end
  return x
end

return Decoder

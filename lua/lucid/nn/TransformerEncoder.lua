--- Part of lucid.nn; help() and `make doc` read these comments.
-- @module lucid.nn

-- nn.TransformerEncoder(encoder_layer, num_layers [, norm]): num_layers
-- copies of the layer in a ModuleList `layers`, then an optional norm.
local nn = require("lucid.nn")
local args = require("lucid._args")
local attention = require("lucid.nn._attention")

--- A stack of num_layers copies of encoder_layer (an nn.TransformerEncoderLayer;
-- each copy starts with its values, as PyTorch's deepcopy), then norm if given.
-- Submodules layers (children "1", "2", ...: state-dict keys
-- "layers.1.self_attn.in_proj_weight", where PyTorch's count from 0) and norm.
-- forward(src [, mask, src_key_padding_mask]). enable_nested_tensor is accepted and
-- changes nothing (a PyTorch fast path).
-- @function TransformerEncoder
-- @usage nn.TransformerEncoder(encoder_layer, num_layers [, norm, enable_nested_tensor])
-- @within nn: attention
local Encoder = nn.Module:extend("TransformerEncoder")

Encoder.schema = args.schema("nn.TransformerEncoder", {
  {"encoder_layer", args.REQUIRED, nil},
  {"num_layers", args.REQUIRED, "posint"},
  {"norm", nil, "callable"},
  {"enable_nested_tensor", true, "boolean"},
})

function Encoder:__init(...)
  local layer, n, norm = Encoder.schema:parse(...)
  self.layers = nn.ModuleList(attention.clones("nn.TransformerEncoder", layer, n))
  self.num_layers = n
  if norm ~= nil then self.norm = norm end
end

Encoder.forward_schema = args.schema("nn.TransformerEncoder.forward", {
  {"src", args.REQUIRED, "tensor"},
  {"mask", nil, "tensor"},
  {"src_key_padding_mask", nil, "tensor"},
})

function Encoder:forward(...)
  local x, mask, kpm = Encoder.forward_schema:parse(...)
  for _, layer in self.layers:iter() do
    x = layer(x, {src_mask = mask, src_key_padding_mask = kpm})
  end
  if self.norm then x = self.norm(x) end
  return x
end

return Encoder

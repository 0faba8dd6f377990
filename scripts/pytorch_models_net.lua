-- pytorch_models_net.lua: the two models of scripts/gen_pytorch_models.py,
-- defined with lucid.nn under PyTorch's module names so that PyTorch's state
-- dicts load unchanged. Shared by scripts/pytorch_models.lua (the worked
-- example) and tests/pytorch_models_spec.lua.
local nn = require("lucid").nn

local CNN = nn.Module:extend("CNN")

function CNN:__init()
  self.features = nn.Sequential(
    nn.Conv2d(1, 8, 3, {padding = 1}), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(8, 16, 3, {stride = 2, padding = 1}), nn.BatchNorm2d(16), nn.ReLU(),
    nn.AdaptiveAvgPool2d(2))
  self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(64, 4))
end

function CNN:forward(x)
  return self.classifier(self.features(x))
end

local Tagger = nn.Module:extend("Tagger")

function Tagger:__init()
  self.embed = nn.Embedding(11, 8, 1)        -- PyTorch's padding_idx=0, 1-based
  self.lstm = nn.LSTM(8, 12, {num_layers = 2, batch_first = true, bidirectional = true})
  self.head = nn.Linear(24, 2)
end

-- tokens {B, T} int64 (1-based) -> per-token logits {B, T, 2}, the LSTM's
-- output {B, T, 24} and its final state {h_n, c_n}
function Tagger:forward(tokens)
  local out, hc = self.lstm(self.embed(tokens))
  return self.head(out), out, hc
end

return {CNN = CNN, Tagger = Tagger}

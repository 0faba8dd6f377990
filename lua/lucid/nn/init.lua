--- Neural-network modules: nn.Module (the base class, made with
-- nn.Module:extend(name)), the layers nn.Linear, nn.Tanh and nn.Sequential,
-- nn.Parameter for trainable tensors, and nn.functional for the stateless forms.
-- Assigning a Module or Parameter to a field of a module registers it.
-- @module lucid.nn
-- @usage nn = require("lucid.nn")  (also lucid.nn)
-- @aka lucid.nn

-- lucid.nn: modules. Every layer here is an nn.Module:extend subclass, made
-- exactly the way a user makes their own.
local lucid = require("lucid")
local C = require("lucid.core")

local nn = {}

-- the body under load_guarded: a failure part way leaves nothing half-loaded
local load_guarded = require("lucid._load")

return load_guarded("lucid.nn", nn, function()
  --- A leaf tensor sharing t's values that requires grad; assigned to a field of a
  -- module, it is registered as a parameter (in parameters(), state_dict()).
  -- @function Parameter
  -- @usage nn.Parameter(t [, requires_grad = true])
  -- @within nn: modules
  -- @aka lucid.parameter

  -- nn.Parameter(t [, requires_grad]): a leaf sharing t's values that
  -- requires grad; assigned to a module field, it is registered.
  function nn.Parameter(t, requires_grad)
    return C.parameter(t, requires_grad)
  end

  nn.Module = require("lucid.nn.Module")
  nn.functional = require("lucid.nn.functional")

  -- Layers, losses, nn.init and nn.utils load on first use (require "lucid"
  -- stays quick: a host or a script that needs three layers loads three).
  -- Iterating nn with pairs loads them all first, so listings (the REPL's
  -- completion, help) see every name.
  local lazy = {
    Linear = "lucid.nn.Linear",
    Conv1d = "lucid.nn.Conv1d",
    Conv2d = "lucid.nn.Conv2d",
    ConvTranspose1d = "lucid.nn.ConvTranspose1d",
    ConvTranspose2d = "lucid.nn.ConvTranspose2d",
    ZeroPad2d = "lucid.nn.ZeroPad2d",
    ConstantPad1d = "lucid.nn.ConstantPad1d",
    ConstantPad2d = "lucid.nn.ConstantPad2d",
    ReflectionPad1d = "lucid.nn.ReflectionPad1d",
    ReflectionPad2d = "lucid.nn.ReflectionPad2d",
    ReplicationPad1d = "lucid.nn.ReplicationPad1d",
    ReplicationPad2d = "lucid.nn.ReplicationPad2d",
    Unfold = "lucid.nn.Unfold",
    Fold = "lucid.nn.Fold",
    Tanh = "lucid.nn.Tanh",
    Sequential = "lucid.nn.Sequential",
    utils = "lucid.nn.utils",
    init = "lucid.nn.initializers",
    Identity = "lucid.nn.Identity",
    Bilinear = "lucid.nn.Bilinear",
    Flatten = "lucid.nn.Flatten",
    Unflatten = "lucid.nn.Unflatten",
    Dropout = "lucid.nn.Dropout",
    Embedding = "lucid.nn.Embedding",
    LayerNorm = "lucid.nn.LayerNorm",
    BatchNorm1d = "lucid.nn.BatchNorm1d",
    Upsample = "lucid.nn.Upsample",
    UpsamplingNearest2d = "lucid.nn.UpsamplingNearest2d",
    UpsamplingBilinear2d = "lucid.nn.UpsamplingBilinear2d",
    BatchNorm2d = "lucid.nn.BatchNorm2d",
    InstanceNorm2d = "lucid.nn.InstanceNorm2d",
    GroupNorm = "lucid.nn.GroupNorm",
    LocalResponseNorm = "lucid.nn.LocalResponseNorm",
    MaxPool1d = "lucid.nn.MaxPool1d",
    MaxPool2d = "lucid.nn.MaxPool2d",
    AvgPool1d = "lucid.nn.AvgPool1d",
    AvgPool2d = "lucid.nn.AvgPool2d",
    AdaptiveAvgPool1d = "lucid.nn.AdaptiveAvgPool1d",
    AdaptiveAvgPool2d = "lucid.nn.AdaptiveAvgPool2d",
    AdaptiveMaxPool1d = "lucid.nn.AdaptiveMaxPool1d",
    AdaptiveMaxPool2d = "lucid.nn.AdaptiveMaxPool2d",
    MaxUnpool1d = "lucid.nn.MaxUnpool1d",
    MaxUnpool2d = "lucid.nn.MaxUnpool2d",
    ReLU = "lucid.nn.ReLU",
    LeakyReLU = "lucid.nn.LeakyReLU",
    ELU = "lucid.nn.ELU",
    SELU = "lucid.nn.SELU",
    GELU = "lucid.nn.GELU",
    SiLU = "lucid.nn.SiLU",
    Sigmoid = "lucid.nn.Sigmoid",
    Softplus = "lucid.nn.Softplus",
    Softmax = "lucid.nn.Softmax",
    LogSoftmax = "lucid.nn.LogSoftmax",
    Hardtanh = "lucid.nn.Hardtanh",
    ModuleList = "lucid.nn.ModuleList",
    ModuleDict = "lucid.nn.ModuleDict",
    MSELoss = "lucid.nn.MSELoss",
    L1Loss = "lucid.nn.L1Loss",
    HuberLoss = "lucid.nn.HuberLoss",
    SmoothL1Loss = "lucid.nn.SmoothL1Loss",
    CrossEntropyLoss = "lucid.nn.CrossEntropyLoss",
    NLLLoss = "lucid.nn.NLLLoss",
    BCELoss = "lucid.nn.BCELoss",
    BCEWithLogitsLoss = "lucid.nn.BCEWithLogitsLoss",
    KLDivLoss = "lucid.nn.KLDivLoss",
    CosineEmbeddingLoss = "lucid.nn.CosineEmbeddingLoss",
    MarginRankingLoss = "lucid.nn.MarginRankingLoss",
    TripletMarginLoss = "lucid.nn.TripletMarginLoss",
    MultiLabelSoftMarginLoss = "lucid.nn.MultiLabelSoftMarginLoss",
    PoissonNLLLoss = "lucid.nn.PoissonNLLLoss",
    GaussianNLLLoss = "lucid.nn.GaussianNLLLoss",
    CosineSimilarity = "lucid.nn.CosineSimilarity",
    PairwiseDistance = "lucid.nn.PairwiseDistance",
    CTCLoss = "lucid.nn.CTCLoss",
    Dropout1d = "lucid.nn.Dropout1d",
    Dropout2d = "lucid.nn.Dropout2d",
    PixelShuffle = "lucid.nn.PixelShuffle",
    PixelUnshuffle = "lucid.nn.PixelUnshuffle",
    MultiheadAttention = "lucid.nn.MultiheadAttention",
    TransformerEncoderLayer = "lucid.nn.TransformerEncoderLayer",
    TransformerDecoderLayer = "lucid.nn.TransformerDecoderLayer",
    TransformerEncoder = "lucid.nn.TransformerEncoder",
    TransformerDecoder = "lucid.nn.TransformerDecoder",
    Transformer = "lucid.nn.Transformer",
    RNN = "lucid.nn.RNN",
    LSTM = "lucid.nn.LSTM",
    GRU = "lucid.nn.GRU",
    RNNCell = "lucid.nn.RNNCell",
    LSTMCell = "lucid.nn.LSTMCell",
    GRUCell = "lucid.nn.GRUCell",
  }
  setmetatable(nn, {
    __index = function(t, k)
      local name = lazy[k]
      if not name then return nil end
      local m = require(name)
      rawset(t, k, m)
      return m
    end,
    __pairs = function(t)
      for k in pairs(lazy) do local _ = t[k] end
      return next, t, nil
    end,
  })

  lucid.nn = nn
end)
